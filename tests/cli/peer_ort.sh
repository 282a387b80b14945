#!/bin/sh
# CLI tests of the ONNX Runtime peer (scripts/peer_ort.py) on the engine's synthetic model:
# bad usage (exit 2, the flag named), the export and FP32 check against the engine (a
# tolerance nothing meets: exit 1, nothing timed), and one short run whose results file
# holds the prefill and decode cells, the winning settings, the sweep and the int8 status.
# Skips, saying why, where PyTorch, Node.js or onnxruntime-node (optional deps group `ort`)
# is absent. Prints one line per case; exits 1 on failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
TMP=$(mktemp -d /tmp/itera-peer-ort-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh

PY=""
for p in python3 /usr/bin/python3; do
    if $p -c 'import torch' >/dev/null 2>&1; then PY=$p; break; fi
done
ORT_DIR=${ORT_NODE_DIR:-node_modules/onnxruntime-node}
if [ -z "$PY" ]; then
    echo "SKIPPED peer_ort: PyTorch is not installed (python3-torch exports the ONNX graph)"; exit 0
fi
if ! command -v node >/dev/null 2>&1 && ! command -v nodejs >/dev/null 2>&1; then
    echo "SKIPPED peer_ort: Node.js is not installed (optional deps group ort: sh scripts/deps.sh ort)"; exit 0
fi
if [ ! -f "$ORT_DIR/package.json" ]; then
    echo "SKIPPED peer_ort: onnxruntime-node is not in $ORT_DIR (optional deps group ort: sh scripts/deps.sh ort)"
    exit 0
fi

export ITERA_BIN="$ITERA" ITERA_BENCH_BIN="$BUILD/itera-bench"
MACHINE=$("$BUILD/itera-bench" info --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["context"]["itera_machine_id"])')
PEER="$PY scripts/peer_ort.py --workdir $BUILD/peer"
"$ITERA" quantize --quant fp32 --out "$TMP/syn" >/dev/null || { echo "FAIL: $ITERA quantize --quant fp32"; exit 1; }

expect 0 "usage:" $PEER --help
expect 2 "--threads '0': expected thread counts of at least 1" $PEER --threads 0
expect 2 "--threads 'x': expected" $PEER --threads x
# --out that is not a regular file is refused before anything runs (a rename would replace it)
mkfifo "$TMP/fifo"
expect 2 "$TMP/fifo: exists and is not a regular file" $PEER --out "$TMP/fifo"
expect 2 "$TMP: exists and is not a regular file" $PEER --out "$TMP"
expect 0 "still a FIFO" sh -c "test -p '$TMP/fifo' && echo still a FIFO"
expect 2 "$TMP/no-bench: not built; it prints the machine fingerprint" \
    env ITERA_BENCH_BIN="$TMP/no-bench" $PEER --model "$TMP/syn" --threads 1
expect 2 "pass --emulate" $PEER --threads 64
expect 2 "onnxruntime-node not found in $TMP/none" $PEER --ort-dir "$TMP/none"
expect 2 "$TMP/nothing/config.json: not found" $PEER --model "$TMP/nothing"
expect 2 "--repetitions 1: expected at least 2" $PEER --repetitions 1

# the FP32 check comes first: with a tolerance no float run meets, nothing is timed
expect 1 "refusing to time" $PEER --model "$TMP/syn" --threads 1 --sweep single --no-decode --no-int8 \
    --tol 1e-12 --out "$TMP/never.json"
expect 0 "not written" sh -c "test ! -e '$TMP/never.json' && echo not written"

# an int8 floor no graph meets: the int8 graphs are not timed, the FP32 ones are, and the results say so
expect 0 "NOT TIMED (every configuration refused): prefill_int8 threads:1" \
    $PEER --model "$TMP/syn" --threads 1 --sweep single --no-decode --repetitions 2 --min-time 0.02 \
    --sweep-min-time 0.01 --int8-min-top1 1.01 --out "$TMP/no8.json"

# one short run: export, check against the engine, a reduced sweep, the final rounds
expect 0 "wrote $TMP/o.json" $PEER --model "$TMP/syn" --threads 1 --sweep single --steps 8 \
    --repetitions 2 --min-time 0.05 --sweep-rounds 1 --sweep-min-time 0.02 --out "$TMP/o.json"
cat > "$TMP/check.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["context"]
b = {e["name"]: e for e in d["benchmarks"]}
assert c["itera_model"] == "synthetic seed 20240501", c["itera_model"]
assert c["itera_machine_id"] == sys.argv[2], "the harness's machine fingerprint"
assert "vs the engine (build/itera verify)" in c["itera_ort_check"], c["itera_ort_check"]
assert "REDUCED" in c["itera_ort_sweep_grid"], c["itera_ort_sweep_grid"]
assert c["itera_ort_int8"], "int8 status missing"
assert c["itera_peer_threads"] == "1"
for q in ("fp32", "int8"):
  for n in (f"prefill/{q}/onnxruntime/seq:128/batch:1/threads:1", f"decode/{q}/onnxruntime/steps:8/batch:1/threads:1"):
    m = b[n + "_median"]
    assert m["tokens_per_second"] > 0 and m["latency_ms"] > 0 and m["weight_bytes"] > 0, m
    if q == "fp32":
        assert m["max_abs_logit_err"] <= 1e-4 and m["top1_agreement"] >= 0.99, m
    else:
        assert 1e-4 < m["max_abs_logit_err"] < 10 and m["top1_agreement"] >= 0.5, m
    assert m["ort_intra_op_threads"] == 1 and m["ort_graph_opt_level"] == 3, m
    assert m["label"].startswith("intra-op 1, sequential"), m["label"]
    assert m["peak_rss_mb"] > 0, m
    assert sum(1 for e in d["benchmarks"] if e["name"] == n) == 2, "two repetitions"
s = d["itera_ort_sweep"]["entries"]
assert len(s) == 4 and all(e["best"] and e["refused"] is None and len(e["latency_ms"]) == 1 for e in s), s
assert all(e["max_abs_err_vs_int8_statement"] < 0.1 for e in s if e["quant"] == "int8"), s
assert c["itera_ort_int8"].startswith("measured") and "DynamicQuantizeMatMul" in c["itera_ort_int8"], c["itera_ort_int8"]
i8 = b["prefill/int8/onnxruntime/seq:128/batch:1/threads:1_median"]["weight_bytes"]
f32 = b["prefill/fp32/onnxruntime/seq:128/batch:1/threads:1_median"]["weight_bytes"]
assert i8 < 0.5 * f32, (i8, f32)
print("results ok")
EOF
expect 0 "results ok" "$PY" "$TMP/check.py" "$TMP/o.json" "$MACHINE"

finish "peer_ort CLI"
