#!/bin/sh
# The machine fingerprint end to end: `itera-bench info --json` prints every
# itera_machine_* key; `run` writes the same fingerprint into its results (with the name
# given by --machine or ITERA_MACHINE); bad names are refused with exit 2 before any work;
# `--resume` refuses a journal made on another machine, naming the field. Needs python3.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
[ -x "$BIN" ] || { echo "machine.sh: FAIL: $BIN not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "machine.sh: SKIPPED: needs python3 to read JSON"; exit 0; }
T=$(mktemp -d /tmp/itera-machine-XXXXXX)
trap 'rm -rf "$T"' EXIT

expect 0 '"itera_machine_id":' "$BIN" info --json
expect 0 '"itera_machine": "lab-1"' "$BIN" info --json --machine lab-1
expect 0 '"itera_machine_name_source": "ITERA_MACHINE"' env ITERA_MACHINE=lab-2 "$BIN" info --json
expect 2 "--machine 'Lab_1': not a machine name" "$BIN" info --machine Lab_1
expect 2 "ITERA_MACHINE 'a/b': not a machine name" env ITERA_MACHINE=a/b "$BIN" info --json
expect 2 "--machine 'UP': not a machine name" "$BIN" run --profile ci --machine UP --out "$T/x.json"
[ -e "$T/x.json.journal" ] && { echo "FAIL: a journal was made for a refused name"; fail=$((fail + 1)); }

cat > "$T/one.ini" <<'INI'
[profile]
families    = scan
kernels     = sequential
scan_channels = 16
scan_state  = 4
scan_seq    = 8
scan_batch  = 1
threads     = 1
repetitions = 1
min_time    = 0.01
INI
"$BIN" info --json > "$T/info.json"
expect 0 "$T/r.json" "$BIN" run --platform embedded --profile "$T/one.ini" --machine test-box --out "$T/r.json"
# Every fingerprint key of info --json is in the results with the same value (the name
# and its source aside).
expect 0 "fingerprint matches" python3 - "$T/info.json" "$T/r.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))["context"]
res = json.load(open(sys.argv[2]))["context"]
keys = [k for k in info if k.startswith("itera_machine")]
assert len(keys) >= 20, keys
assert res["itera_machine"] == "test-box", res["itera_machine"]
assert res["itera_machine_name_source"] == "--machine"
bad = [k for k in keys if k not in ("itera_machine", "itera_machine_name_source") and info[k] != res.get(k)]
assert not bad, bad
for k in ("host_name", "num_cpus", "caches"):
    assert info[k] == res[k], k
print("fingerprint matches:", len(keys), "keys")
PY

# A journal from "another machine" (its cores changed) is not resumed.
python3 - "$T/r.json.journal" <<'PY'
import json, sys
p = sys.argv[1]
lines = open(p).read().splitlines()
h = json.loads(lines[0])
h["context"]["itera_machine_cores"] = "99"
open(p, "w").write(json.dumps(h) + "\n")
PY
expect 2 "was made on another machine (itera_machine_cores 99 vs" "$BIN" run --resume --platform embedded --profile "$T/one.ini" --out "$T/r.json"
finish machine.sh
