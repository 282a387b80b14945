#!/bin/sh
# CLI tests of `itera`: exit codes (0 ok, 1 failed check, 2 bad usage/input) and one-line
# errors naming the flag, file, tensor or key. Prints one line per case; exits 1 on failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
REF=../shared/reference/itera-lite-micro
TMP=$(mktemp -d /tmp/itera-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh

expect 0 "usage: itera COMMAND" "$ITERA" --help
for c in info verify perplexity generate; do expect 0 "usage: itera $c" "$ITERA" "$c" --help; done
expect 2 "unknown command 'frobnicate'" "$ITERA" frobnicate
expect 2 "usage: itera COMMAND" "$ITERA"
expect 0 "parameters=293656" "$ITERA" info
expect 2 "--threads: 'two' is not an integer" "$ITERA" generate --threads two
expect 2 "--threads: '0' is not an integer in 1..64" "$ITERA" generate --threads 0
expect 2 "--quant: 'int3' is not one of fp32, int8, int4" "$ITERA" info --quant int3
expect 2 "--kernel: 'fast' is not one of" "$ITERA" generate --kernel fast
expect 2 "--temperature: 'hot' is not a number" "$ITERA" generate --temperature hot
expect 2 "-n: 'x' is not an integer" "$ITERA" generate -n x
expect 2 "exceeds the model's max_seq_length 128" "$ITERA" generate -n 200
expect 2 "bad option '--bogus'" "$ITERA" verify --bogus x
expect 2 "no golden file given" "$ITERA" verify
expect 2 "--model: '$TMP/none' is not a folder" "$ITERA" info --model "$TMP/none"
expect 2 "--text FILE is required" "$ITERA" perplexity
expect 2 "$TMP/none.txt: cannot open" "$ITERA" perplexity --text "$TMP/none.txt"
expect 2 "--seq: 'abc' is not an integer" "$ITERA" perplexity --text /dev/null --seq abc
printf 'w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15\n' > "$TMP/t.txt"
expect 0 "perplexity=" "$ITERA" perplexity --text "$TMP/t.txt" --seq 4 --batch 2
expect 0 "tokens_per_second=" "$ITERA" generate -n 5 --temperature 0

# bad model folders: config not JSON, a missing key, a corrupt safetensors
mkdir -p "$TMP/m"
echo '{ nope' > "$TMP/m/config.json"
expect 2 "config.json:1: not valid JSON" "$ITERA" info --model "$TMP/m"
echo '{"vocab_size": 2000}' > "$TMP/m/config.json"
expect 2 "key 'hidden_size' missing" "$ITERA" info --model "$TMP/m"

# golden files: token ids outside the vocabulary, L above max_seq_length, wrong logits size
python3 - "$TMP" <<'PY'
import json, struct, sys
d = sys.argv[1]
def st(path, tensors):
    hdr, blobs, off = {}, b"", 0
    for name, (dtype, shape, data) in tensors.items():
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs += data; off += len(data)
    h = json.dumps(hdr).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + blobs)
st(d + "/badtok.safetensors", {"input_ids": ("I32", [1, 2], struct.pack("<2i", 5, 2000)),
                               "logits": ("F32", [1, 2, 2000], bytes(4 * 2 * 2000))})
st(d + "/long.safetensors", {"input_ids": ("I32", [1, 129], struct.pack("<129i", *([5] * 129))),
                             "logits": ("F32", [1, 129, 2000], bytes(4 * 129 * 2000))})
st(d + "/shape.safetensors", {"input_ids": ("I32", [1, 2], struct.pack("<2i", 5, 6)),
                              "logits": ("F32", [1, 2, 10], bytes(4 * 2 * 10))})
st(d + "/zero.safetensors", {"input_ids": ("I32", [1, 2], struct.pack("<2i", 5, 6)),
                             "logits": ("F32", [1, 2, 2000], bytes(4 * 2 * 2000))})
open(d + "/trunc.safetensors", "wb").write(struct.pack("<Q", 4000) + b"{}")
PY
expect 2 "token id 2000 at index 1 is outside the vocabulary" "$ITERA" verify "$TMP/badtok.safetensors"
expect 2 "L=129 exceeds the model's max_seq_length 128" "$ITERA" verify "$TMP/long.safetensors"
expect 2 "tensor 'logits' missing or not F32 [1, 2, 2000]" "$ITERA" verify "$TMP/shape.safetensors"
expect 2 "header length 4000 exceeds" "$ITERA" verify "$TMP/trunc.safetensors"
expect 1 "FAIL" "$ITERA" verify "$TMP/zero.safetensors"

if [ -f "$REF/model.safetensors" ]; then
    expect 0 "PASS" "$ITERA" verify --model "$REF" "$REF"/golden/text_b1_l17.safetensors
    expect 0 "PASS" "$ITERA" verify --decode --threads 2 --model "$REF" "$REF"/golden/random_b2_l128.safetensors
    expect 1 "FAIL" "$ITERA" verify --tol 1e-9 --model "$REF" "$REF"/golden/text_b1_l17.safetensors
else
    echo "SKIPPED golden CLI checks: $REF is absent (reference data lives in ../shared)"
fi
finish "engine CLI"
