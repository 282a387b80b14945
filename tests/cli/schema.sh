#!/bin/sh
# The results schema (bench/schema.h) end to end:
# - `itera-bench schema --json` is a schema document scripts/itera_schema.py reads;
# - a real run's results file holds only names of the schema, and every key the harness
#   always writes;
# - the peers' writer (scripts/peerlib.py, used by the PyTorch and ONNX Runtime peers)
#   writes a file the schema accepts, with names built by the schema, and refuses one with
#   a counter the schema does not know (no file written);
# - no schema name with an underscore (itera_*, host_name, latency_ms, ...) is a bare string
#   literal in bench/ outside schema.[ch] (use CTX_*, MET_*, RES_*, ENT_*), and every itera_* literal in scripts/*.py is a schema key or under a
#   peer's prefix.
# Needs python3; skips without it.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
[ -x "$BIN" ] || { echo "schema.sh: FAIL: $BIN not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "schema.sh: SKIPPED: needs python3"; exit 0; }
T=$(mktemp -d /tmp/itera-schema-XXXXXX)
trap 'rm -rf "$T"' EXIT
export ITERA_BENCH_BIN="$BIN"

expect 0 "scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T" "$BIN" schema
expect 0 '"per_token_suffix": "_per_token"' "$BIN" schema --json
expect 2 "unknown argument '--yaml'" "$BIN" schema --yaml

cat > "$T/tiny.ini" <<'INI'
[profile]
families    = scan, prefill, decode
kernels     = sequential
quants      = int8
seq         = 8
steps       = 2
threads     = 1
repetitions = 2
min_time    = 0.01
scan_channels = 16
scan_state  = 4
scan_seq    = 8
scan_batch  = 1
INI
expect 0 "$T/r.json" "$BIN" run --platform embedded --profile "$T/tiny.ini" --out "$T/r.json"

expect 0 "results match the schema" python3 - "$T/r.json" <<'PY'
import json, sys
sys.path.insert(0, "scripts")
import itera_schema
S = itera_schema.load()
doc = json.load(open(sys.argv[1]))
problems = S.check(doc)
assert not problems, problems
ctx = doc["context"]
# every key the harness always writes is there (the optional ones aside)
optional = {"itera_resumed"}
want = [k for k, src in S.context_keys.items() if src in ("gb", "itera", "machine") and k not in optional]
missing = [k for k in want if k not in ctx]
assert not missing, f"context keys of the schema the run did not write: {missing}"
assert ctx["itera_schema"] == S.version
# the names parse as the schema builds them
names = {e["run_name"] for e in doc["benchmarks"]}
assert names == {S.bench_name("scan", kernel="sequential", channels=16, state=4, seq=8, batch=1, threads=1),
                 S.bench_name("prefill", quant="int8", kernel="sequential", seq=8, batch=1, threads=1),
                 S.bench_name("decode", quant="int8", kernel="sequential", steps=2, batch=1, threads=1)}, names
counters = {k for e in doc["benchmarks"] for k in e if k not in S.entry_fields}
for c in ("tokens_per_second", "latency_ms", "gflops", "weight_bytes", "top1_agreement"):
    assert c in counters, c
print("results match the schema:", len(ctx), "context keys,", len(counters), "counters")
PY

# The peers' writer: what peerlib builds passes; an unknown counter is refused, unwritten.
expect 0 "peer file written" python3 - "$T" <<'PY'
import json, os, sys
sys.path.insert(0, "scripts")
import peerlib as P
out = os.path.join(sys.argv[1], "peer.json")
ctx = P.base_context("scripts/peer_test.py", "n/a", "embedded")
ctx.update({"itera_peer": "test", "itera_peer_threads": "1", "itera_ort_extra": "a peer's own key"})
name = P.bench_name("prefill", quant="fp32", kernel="pytorch-eager", seq=8, batch=1, threads=1)
rows = [{"iterations": 3, "real_time": 1e6, "cpu_time": 1e6, "tokens_per_second": 8e3, "latency_ms": 1.0,
         "ort_spinning": 0}] * 2
P.write_results(out, ctx, P.gb_entries(0, name, rows))
doc = json.load(open(out))
assert doc["context"]["itera_machine_id"], "no fingerprint"
assert doc["benchmarks"][0]["run_name"] == "prefill/fp32/pytorch-eager/seq:8/batch:1/threads:1"
bad = os.path.join(sys.argv[1], "bad.json")
try:
    P.write_results(bad, ctx, P.gb_entries(0, name, [dict(rows[0], tok_per_s=1.0)] * 2))
    raise SystemExit("an unknown counter was written")
except P.PeerError as e:
    assert "counter 'tok_per_s'" in str(e), e
assert not os.path.exists(bad)
try:
    P.bench_name("prefill", quant="fp32", kernel="Torch", seq=8, batch=1, threads=1)
    raise SystemExit("a bad kernel name was accepted")
except P.PeerError as e:
    assert "kernel 'Torch'" in str(e), e
print("peer file written and checked")
PY

# No schema name as a bare literal in bench/ code (comments aside), outside schema.[ch].
expect 0 "no bare schema names" python3 - <<'PY'
import glob, json, re, subprocess, sys, os
d = json.loads(subprocess.run([os.environ["ITERA_BENCH_BIN"], "schema", "--json"], capture_output=True,
                              text=True, check=True).stdout)
names = {c["key"]: c["constant"] for c in d["context_keys"]}
names.update({c["name"]: c["constant"] for c in d["counters"]})
names.update({c["key"]: c["constant"] for c in d["top_keys"] if c["key"].startswith("itera_") or c["key"] in ("context", "benchmarks")})
names.update({c["key"]: c["constant"] for c in d["entry_fields"]})
bad = []
for f in sorted(glob.glob("bench/*.c") + glob.glob("bench/*.cc") + glob.glob("bench/*.h")):
    if os.path.basename(f).startswith("schema."):
        continue
    incomment = False
    for i, line in enumerate(open(f), 1):
        code = line
        if incomment:
            if "*/" not in code:
                continue
            code, incomment = code.split("*/", 1)[1], False
        code = re.sub(r"/\*.*?\*/", "", code)
        if "/*" in code:
            code, incomment = code.split("/*", 1)[0], True
        code = code.split("//", 1)[0]
        for m in re.finditer(r'"([a-z0-9_]+)"', code):
            # names with an underscore are ours alone; plain words (date, caches, context)
            # are common JSON fields elsewhere too
            if m.group(1) in names and "_" in m.group(1):
                bad.append(f"{f}:{i}: \"{m.group(1)}\" is a schema name: use {names[m.group(1)]} "
                           "(bench/schema.h; a new name is a new row there)")
if bad:
    print("\n".join(bad))
    sys.exit(1)
# Python: every itera_* literal is a context / top-level key or under a peer's prefix.
ctx = {c["key"] for c in d["context_keys"]} | {c["key"] for c in d["top_keys"]}
prefixes = [p["context_prefix"] for p in d["peers"]]
for f in sorted(glob.glob("scripts/*.py")):
    for i, line in enumerate(open(f), 1):
        for m in re.finditer(r'''["'](itera_[a-z0-9_]+)''', line):
            k = m.group(1)
            if k not in ctx and not any(k.startswith(p) for p in prefixes) and not k.startswith("itera_schema"):
                bad.append(f"{f}:{i}: '{k}' is not a key of the results schema (itera-bench schema)")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("no bare schema names in bench/, scripts/ keys all known")
PY
finish schema.sh
