#!/bin/sh
# CLI tests of `itera accuracy`: bad input (exit 2 naming the flag, file or tensor), the
# built-in model over a text and over a golden-style file (the table and --json agree, fp32
# is its own base with zero divergence, perplexity equals `itera perplexity`), and on the
# reference checkpoint (skipped with the reason when absent): FP32 perplexity of
# wikitext2_test.txt against an independent numpy computation of the README's forward pass
# (tests/ref_perplexity.py; skipped when numpy is missing). Exits 1 on any failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
REF=../shared/reference/itera-lite-micro
TMP=$(mktemp -d /tmp/itera-accuracy-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh

# a python3 with numpy: the first of python3, /usr/bin/python3 that imports it
PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import numpy' >/dev/null 2>&1; then PY=$p; break; fi
done

expect 0 "usage: itera accuracy" "$ITERA" accuracy --help
expect 2 "no input: give --text FILE or golden FILE.safetensors" "$ITERA" accuracy
expect 2 "--text: $TMP/none.txt: cannot open" "$ITERA" accuracy --text "$TMP/none.txt"
expect 2 "--text: $TMP: is a folder, expected a regular file" "$ITERA" accuracy --text "$TMP"
expect 2 "--text: /dev/null: is a character device, expected a regular file" "$ITERA" accuracy --text /dev/null
printf 'w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23\n' > "$TMP/t.txt"
expect 2 "give either --text or golden files, not both" "$ITERA" accuracy --text "$TMP/t.txt" "$TMP/g.safetensors"
expect 2 "--seq and --batch apply to --text only" "$ITERA" accuracy --seq 8 "$TMP/g.safetensors"
expect 2 "--quant: 'int3' is not one of fp32" "$ITERA" accuracy --quant int8,int3 --text "$TMP/t.txt"
expect 2 "--quant: 'int8' is listed twice" "$ITERA" accuracy --quant int8,int8 --text "$TMP/t.txt"
expect 2 "--seq: '1' is not an integer in 2.." "$ITERA" accuracy --seq 1 --text "$TMP/t.txt"
expect 2 "--seq: 500 exceeds the model's max_seq_length 128" "$ITERA" accuracy --seq 500 --text "$TMP/t.txt"
printf 'w5\n' > "$TMP/one.txt"
expect 2 "has 1 words; at least 2 are needed" "$ITERA" accuracy --text "$TMP/one.txt"
expect 2 "cannot open" "$ITERA" accuracy "$TMP/missing.safetensors"
: > "$TMP/empty.safetensors"
expect 2 "$TMP/empty.safetensors" "$ITERA" accuracy "$TMP/empty.safetensors"

# the built-in model over the text: 19 words in windows of 8 (two full, one of 3)
expect 0 "windows=3 (last one shorter) positions=19 predicted=16" \
    "$ITERA" accuracy --seq 8 --text "$TMP/t.txt" --json "$TMP/a.json"
expect 0 "fp32   " "$ITERA" accuracy --seq 8 --quant int4 --text "$TMP/t.txt"
mkdir "$TMP/dir"
expect 2 "--json: $TMP/dir: is a folder, not a regular file" "$ITERA" accuracy --seq 8 --text "$TMP/t.txt" --json "$TMP/dir"
ppl=$("$ITERA" perplexity --seq 8 --text "$TMP/t.txt" | sed -n 's/^perplexity=\([0-9.]*\).*/\1/p')
# a golden-style file (input_ids only) and a quantized folder (not an FP32 base)
python3 - "$TMP" <<'PY'
import json, struct, sys
d = sys.argv[1]
ids = [3, 9, 27, 81, 243 % 200, 5, 15, 45, 135 % 200, 7, 21, 63]
blob = struct.pack("<%di" % len(ids), *ids)
hdr = json.dumps({"input_ids": {"dtype": "I32", "shape": [2, 6], "data_offsets": [0, len(blob)]}}).encode()
open(d + "/g.safetensors", "wb").write(struct.pack("<Q", len(hdr)) + hdr + blob)
bad = struct.pack("<2i", 1, 5000)
hdr = json.dumps({"input_ids": {"dtype": "I32", "shape": [1, 2], "data_offsets": [0, len(bad)]}}).encode()
open(d + "/bad.safetensors", "wb").write(struct.pack("<Q", len(hdr)) + hdr + bad)
f = struct.pack("<2f", 1, 2)
hdr = json.dumps({"input_ids": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, len(f)]}}).encode()
open(d + "/f32.safetensors", "wb").write(struct.pack("<Q", len(hdr)) + hdr + f)
PY
expect 0 "input=all 2 files (pooled) positions=13 predicted=10" \
    "$ITERA" accuracy "$TMP/g.safetensors" "$REF/golden/single_token.safetensors"
expect 2 "input_ids[1] = 5000 is outside the vocabulary (0..1999)" "$ITERA" accuracy "$TMP/bad.safetensors"
expect 2 "tensor 'input_ids' missing or not I32 [B, L]" "$ITERA" accuracy "$TMP/f32.safetensors"
"$ITERA" quantize --quant int4 --out "$TMP/q4" >/dev/null
expect 2 "stored as int4; it cannot run as fp32" "$ITERA" accuracy --model "$TMP/q4" --text "$TMP/t.txt"

# the JSON: every quant's row, fp32 compared with itself, perplexity as itera perplexity's
if python3 - "$TMP/a.json" "$ppl" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["base"] == "fp32" and r["kld_unit"] == "nats", r
(inp,) = r["inputs"]
assert inp["positions"] == 19 and inp["predicted"] == 16, inp
q = {x["quant"]: x for x in inp["quants"]}
assert sorted(q) == ["fp32", "int4", "int8", "int8a8"], sorted(q)  # every format by default
f = q["fp32"]
assert f["kld_mean"] == 0 and f["kld_max"] == 0 and f["delta_ppl"] == 0 and f["top1_agreement"] == 1, f
assert abs(f["perplexity"] - float(sys.argv[2])) <= 1e-4 * f["perplexity"], (f["perplexity"], sys.argv[2])
for name in ("int8", "int4", "int8a8"):
    x = q[name]
    assert x["kld_mean"] > 0 and x["kld_mean_lo95"] <= x["kld_mean"] <= x["kld_mean_hi95"], x
    assert x["kld_mean"] <= x["kld_max"] and x["kld_p99"] <= x["kld_p999"] <= x["kld_max"], x
    assert abs(x["delta_ppl"] - (x["perplexity"] - f["perplexity"])) < 1e-9 * f["perplexity"], x
    assert 0 <= x["top1_agreement"] <= 1 and x["delta_ppl_se"] >= 0, x
PY
then pass=$((pass + 1)); echo "ok   --json: fp32 base, every quant's statistics consistent, ppl = itera perplexity ($ppl)"
else fail=$((fail + 1)); echo "FAIL --json content"; fi

# the reference checkpoint: FP32 perplexity against numpy
if [ ! -f "$REF/model.safetensors" ]; then
    echo "SKIPPED reference perplexity: $REF is absent (reference data lives in ../shared)"
elif [ -z "$PY" ]; then
    echo "SKIPPED reference perplexity: numpy is not installed (Debian: python3-numpy)"
else
    got=$("$ITERA" accuracy --model "$REF" --quant int4 --text "$REF/wikitext2_test.txt" --json "$TMP/r.json" >/dev/null &&
          python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["inputs"][0]["quants"][0]["perplexity"])' "$TMP/r.json")
    want=$("$PY" tests/ref_perplexity.py "$REF" "$REF/wikitext2_test.txt" 128 | sed -n 's/^perplexity=\([0-9.]*\).*/\1/p')
    # FP32 against float64: the logits differ by ~5e-6, the perplexity by far less than 1e-5
    if [ -n "$got" ] && [ -n "$want" ] && python3 -c 'import sys; g, w = map(float, sys.argv[1:]); sys.exit(abs(g - w) > 1e-5 * w)' "$got" "$want"; then
        pass=$((pass + 1)); echo "ok   reference FP32 perplexity of wikitext2_test.txt: engine $got, numpy (README forward pass) $want"
    else
        fail=$((fail + 1)); echo "FAIL reference FP32 perplexity: engine '$got', numpy '$want'"
    fi
fi
# the harness: kld_mean / delta_ppl on the accuracy input in every quantized cell; with
# text_accuracy and the reference folder, text_* counters per text (fp32 against itself)
BENCH="$BUILD/itera-bench"
expect 2 "text_accuracy: 'yes' is not true or false" "$BENCH" run --profile quant --set text_accuracy=yes --out "$TMP/x.json"
if [ ! -f "$REF/model.safetensors" ]; then
    echo "SKIPPED harness text accuracy: $REF is absent (reference data lives in ../shared)"
else
    expect 0 "4 of 4 cells" "$BENCH" run --profile quant --model "$REF" --set families=prefill --set seq=16 \
        --set batch=1 --set threads=1 --set repetitions=1 --set min_time=0.01 --out "$TMP/q.json"
    if python3 - "$TMP/q.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["context"]["itera_accuracy_texts"].startswith("wikitext2_test.txt: 3140 tokens; tinystories.txt:"), r["context"]["itera_accuracy_texts"]
cells = {b["name"].split("/")[1]: b for b in r["benchmarks"]}
f = cells["fp32"]
for t in ("wikitext2_test", "tinystories"):
    assert f["text_dppl_" + t] == 0 and f["text_kld_" + t] == 0 and f["text_top1_" + t] == 1, f
    for q in ("int8", "int8a8", "int4"):
        c = cells[q]
        assert c["text_kld_" + t] > 0 and 0 < c["text_top1_" + t] <= 1, c
        assert abs(c["text_ppl_" + t] - f["text_ppl_" + t] - c["text_dppl_" + t]) < 1e-6 * f["text_ppl_" + t], c
assert abs(f["text_ppl_wikitext2_test"] - 9027.0978) < 0.5, f["text_ppl_wikitext2_test"]
for q in ("int8", "int8a8", "int4"):
    assert cells[q]["kld_mean"] > 0 and "delta_ppl" in cells[q], cells[q]
PY
    then pass=$((pass + 1)); echo "ok   harness: kld_mean, delta_ppl, text_* counters per quant"
    else fail=$((fail + 1)); echo "FAIL harness text accuracy counters"; fi
fi
finish accuracy.sh
