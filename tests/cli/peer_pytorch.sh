#!/bin/sh
# CLI tests of the PyTorch eager peer (scripts/peer_pytorch.py) on the engine's synthetic
# model: bad usage (exit 2, the flag named), the FP32 check against the engine (a tolerance
# nothing meets: exit 1, nothing timed), and one short run whose results file holds the
# cell, its counters and the model. Skips, saying why, where PyTorch is absent.
# Prints one line per case; exits 1 on failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
TMP=$(mktemp -d /tmp/itera-peer-pt-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh

PY=""
for p in python3 /usr/bin/python3; do
    if $p -c 'import torch' >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    echo "SKIPPED peer_pytorch: PyTorch is not installed (Debian: python3-torch)"; exit 0
fi

export ITERA_BIN="$ITERA" ITERA_BENCH_BIN="$BUILD/itera-bench"
MACHINE=$("$BUILD/itera-bench" info --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["context"]["itera_machine_id"])')
PEER="$PY scripts/peer_pytorch.py --workdir $BUILD/peer"
"$ITERA" quantize --quant fp32 --out "$TMP/syn" >/dev/null || { echo "FAIL: $ITERA quantize --quant fp32"; exit 1; }
"$ITERA" quantize --quant int8 --out "$TMP/q8" >/dev/null || { echo "FAIL: $ITERA quantize --quant int8"; exit 1; }

expect 0 "usage:" $PEER --help
expect 2 "--threads 'x': expected" $PEER --threads x
# --out that is not a regular file is refused before anything runs (a rename would replace it)
mkfifo "$TMP/fifo"
expect 2 "$TMP/fifo: exists and is not a regular file" $PEER --out "$TMP/fifo"
expect 2 "$TMP: exists and is not a regular file" $PEER --out "$TMP"
expect 0 "still a FIFO" sh -c "test -p '$TMP/fifo' && echo still a FIFO"
expect 2 "$TMP/no-bench: not built; it prints the machine fingerprint" \
    env ITERA_BENCH_BIN="$TMP/no-bench" $PEER --model "$TMP/syn" --threads 1
expect 2 "pass --emulate" $PEER --threads 64
expect 2 "--cpus 'a': expected comma-separated CPU numbers" $PEER --cpus a
expect 2 "$TMP/nothing/config.json: not found" $PEER --model "$TMP/nothing"
expect 2 "the folder is stored as int8; the peers run FP32 folders only" $PEER --model "$TMP/q8"
expect 1 "refusing to time" $PEER --model "$TMP/syn" --threads 1 --tol 1e-12 --out "$TMP/never.json"
expect 0 "not written" sh -c "test ! -e '$TMP/never.json' && echo not written"

expect 0 "wrote $TMP/o.json" $PEER --model "$TMP/syn" --threads 1 --repetitions 2 --min-time 0.05 --out "$TMP/o.json"
cat > "$TMP/check.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["context"]
b = {e["name"]: e for e in d["benchmarks"]}
assert c["itera_model"] == "synthetic seed 20240501", c["itera_model"]
assert c["itera_machine_id"] == sys.argv[2], "the harness's machine fingerprint"
assert "vs the engine" in c["itera_peer"], c["itera_peer"]
m = b["prefill/fp32/pytorch-eager/seq:128/batch:1/threads:1_median"]
assert m["tokens_per_second"] > 0 and m["max_abs_logit_err"] <= 1e-4 and m["top1_agreement"] >= 0.99, m
print("results ok")
PYEOF
expect 0 "results ok" "$PY" "$TMP/check.py" "$TMP/o.json" "$MACHINE"

finish "peer_pytorch CLI"
