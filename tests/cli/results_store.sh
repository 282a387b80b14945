#!/bin/sh
# The results store (bench/rstore.h): a run without --out writes
# results/<machine>/<platform>/<profile>.json; a new run of the same machine, model and build
# replaces its own file; a run of another model, or over a file of another machine or
# build, keeps that file byte for byte and writes beside it (saying where); another
# machine name writes its own folder. Runs under a copy of the repository's data folders
# (ITERA_BENCH_ROOT), so the real results/ is never touched.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
ITERA="$BUILD/itera"
. tests/cli_lib.sh
[ -x "$BIN" ] || { echo "results_store.sh: FAIL: $BIN not built"; exit 1; }
T=$(mktemp -d /tmp/itera-store-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/root"
cp -r platforms profiles "$T/root/"
cat > "$T/root/profiles/tiny.ini" <<'INI'
[profile]
families    = prefill
kernels     = sequential
quants      = fp32
seq         = 8
threads     = 1
repetitions = 2
min_time    = 0.01
INI
export ITERA_BENCH_ROOT="$T/root"
R="$T/root/results"
run() { "$BIN" run --platform embedded --profile tiny "$@"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

expect 0 "results: $R/box-a/embedded/tiny.json" run --machine box-a
[ -f "$R/box-a/embedded/tiny.json" ] || { echo "FAIL: no results/box-a/embedded/tiny.json"; fail=$((fail + 1)); }
first=$(sum "$R/box-a/embedded/tiny.json")

# the same machine, model and build: its own file is replaced
expect 0 "results: $R/box-a/embedded/tiny.json" run --machine box-a
[ "$(sum "$R/box-a/embedded/tiny.json")" != "$first" ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: a new run of the same identity did not replace its file"; }
own=$(sum "$R/box-a/embedded/tiny.json")

# another model (the synthetic model written as a folder: a checkpoint with a hash): beside
expect 0 "fp32" "$ITERA" quantize --quant fp32 --out "$T/model"
expect 0 "holds another run (model: synthetic seed" run --machine box-a --model "$T/model"
beside=$(ls "$R/box-a/embedded/" | grep -E '^tiny\.[0-9a-f]{8}\.json$')
[ -n "$beside" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: nothing written beside tiny.json"; }
[ "$(sum "$R/box-a/embedded/tiny.json")" = "$own" ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: the other model's run changed tiny.json"; }
# ... and the same other model again finds its own file beside (replaced, nothing new)
expect 0 "results: $R/box-a/embedded/$beside" run --machine box-a --model "$T/model"
[ "$(ls "$R/box-a/embedded/" | grep -c '\.json$')" -eq 2 ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: a second run of the other model wrote a third file"; ls "$R/box-a/embedded/"; }

# a file of another machine (same name, another id) and of another build: kept, beside
command -v python3 >/dev/null 2>&1 || { finish "results store (SKIPPED the edited-file cases: no python3)"; exit $?; }

# the peers' writer (scripts/peerlib.py) places files by the same rule, with the same tag
expect 0 "peerlib places as the harness" python3 - "$R/box-a/embedded" "$beside" <<'PY'
import json, os, sys
sys.path.insert(0, "scripts")
import peerlib as P
d, beside = sys.argv[1], sys.argv[2]
own = json.load(open(os.path.join(d, "tiny.json")))["context"]
other = json.load(open(os.path.join(d, beside)))["context"]
path = os.path.join(d, "tiny.json")
assert P.place_results(path, own) == (path, None), P.place_results(path, own)
where, why = P.place_results(path, other)
assert where == os.path.join(d, beside) and why.startswith("model:"), (where, why)
assert P.place_results(os.path.join(d, "new.json"), other) == (os.path.join(d, "new.json"), None)
print("peerlib places as the harness:", beside)
PY
python3 - "$R/box-a/embedded/tiny.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["context"]["itera_machine_id"] = "0" * 64
json.dump(d, open(p, "w"))
PY
other=$(sum "$R/box-a/embedded/tiny.json")
expect 0 "holds another run (machine: itera_machine_id" run --machine box-a
[ "$(sum "$R/box-a/embedded/tiny.json")" = "$other" ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: the other machine's file was overwritten"; }
python3 - "$R/box-a/embedded/tiny.json" "$BIN" <<'PY'
import json, sys, subprocess
p = sys.argv[1]
d = json.load(open(p))
ctx = json.loads(subprocess.run([sys.argv[2], "info", "--json", "--machine", "box-a"],
                                capture_output=True, text=True).stdout)["context"]
d["context"].update({k: v for k, v in ctx.items() if k.startswith("itera_machine")})
d["context"]["itera_git"] = "0123456789ab"
json.dump(d, open(p, "w"))
PY
build=$(sum "$R/box-a/embedded/tiny.json")
expect 0 "holds another run (build: git 0123456789ab" run --machine box-a
[ "$(sum "$R/box-a/embedded/tiny.json")" = "$build" ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: the other build's file was overwritten"; }

# another machine name: its own folder; box-a's files are untouched
expect 0 "results: $R/box-b/embedded/tiny.json" run --machine box-b
[ "$(sum "$R/box-a/embedded/tiny.json")" = "$build" ] && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "FAIL: box-b's run touched box-a's file"; }

# an explicit --out is written as asked
expect 0 "results: $R/box-a/embedded/tiny.json" run --machine box-a --out "$R/box-a/embedded/tiny.json"
finish "results store"
