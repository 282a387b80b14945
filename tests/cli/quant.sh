#!/bin/sh
# CLI tests of quantization: `itera quantize`, running quantized folders, and bad input
# (a quantized folder run as another quant, an inner size that does not fit the block,
# packed tensors of the wrong size, unknown format metadata, a non-finite scale): exit 2
# with a line naming the tensor or key. Prints one line per case; exits 1 on failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
REF=../shared/reference/itera-lite-micro
TMP=$(mktemp -d /tmp/itera-quant-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh

expect 0 "usage: itera quantize" "$ITERA" quantize --help
expect 2 "--quant: expected one of fp32, int8, int4" "$ITERA" quantize --out "$TMP/x"
# fp32: the synthetic model written as a folder (for the peers) runs as the built-in model does
F32=$(mktemp -d /tmp/itera-quant-fp32-XXXXXX)
expect 0 "quant=fp32 weight_bytes=" "$ITERA" quantize --quant fp32 --out "$F32/s32"
"$ITERA" info --model "$F32/s32" | sed 1d > "$F32/s32.info"
"$ITERA" info | sed 1d > "$F32/builtin.info"
expect 0 "same tensors" sh -c "cmp \"$F32/s32.info\" \"$F32/builtin.info\" && echo same tensors"
rm -rf "$F32"
expect 2 "--out: missing" "$ITERA" quantize --quant int8
: > "$TMP/file"
expect 2 "--out: '$TMP/file' exists and is not a folder" "$ITERA" quantize --quant int8 --out "$TMP/file"

# the synthetic model, quantized both ways; info shows the stored dtypes and bytes
expect 0 "quant=int8" "$ITERA" quantize --quant int8 --out "$TMP/s8"
expect 0 "quant=int4" "$ITERA" quantize --quant int4 --out "$TMP/s4"
# the folder is written as a whole: replacing one holds only the new files; a folder with
# something else in it is refused and left alone; no temporary folder is left behind
expect 0 "quant=int8" "$ITERA" quantize --quant int8 --out "$TMP/s8/"
: > "$TMP/s8/notes.txt"
expect 2 "holds 'notes.txt', which the new folder would not have" "$ITERA" quantize --quant int8 --out "$TMP/s8"
expect 0 "notes.txt" ls "$TMP/s8"
rm "$TMP/s8/notes.txt"
expect 0 "config.json model.safetensors s4 s8 " sh -c "cd '$TMP' && echo \$(ls -A s8) \$(ls -A | grep -v '^file\$') ''"
expect 0 "embedding.weight                                 Q4_0   [2000, 64]          72000" "$ITERA" info --model "$TMP/s4"
expect 0 "embedding.weight                                 Q8_ROW [2000, 64]         136000" "$ITERA" info --model "$TMP/s8"
expect 0 "position_embedding.weight                        F16    [128, 64]           16384" "$ITERA" info --model "$TMP/s4"
expect 0 "quant: int4 (matmul ISA path:" "$ITERA" info --quant int4
expect 0 "quant: int4 (matmul ISA path:" "$ITERA" info --model "$TMP/s4"
expect 0 "quant=int8 isa=" "$ITERA" generate --quant int8 -n 4
expect 0 "isa=scalar" env ITERA_ISA=scalar "$ITERA" generate --quant int4 -n 4
expect 0 "isa=avx2" env ITERA_ISA=avx2 "$ITERA" generate --quant int8 -n 4
expect 2 "stored as int4; it cannot run as int8" "$ITERA" info --model "$TMP/s4" --quant int8
expect 2 "stored as int8; it cannot run as fp32" "$ITERA" generate --model "$TMP/s8" --quant fp32
expect 2 "stored as int4; it cannot run as int8" "$ITERA" quantize --model "$TMP/s4" --quant int8 --out "$TMP/y"

# crafted folders (python3): a rewrite of a safetensors file with changes, and an FP32 model
# whose FFN inner size (40) is not a multiple of the block
python3 - "$TMP" <<'PY'
import json, struct, sys, os, shutil
d = sys.argv[1]
def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n]); base = 8 + n
    meta = hdr.pop("__metadata__", {})
    ts = {k: [v["dtype"], v["shape"], raw[base + v["data_offsets"][0]: base + v["data_offsets"][1]]]
          for k, v in hdr.items()}
    return meta, ts
def write(path, meta, ts):
    hdr, blobs, off = {"__metadata__": meta}, b"", 0
    for name, (dtype, shape, data) in ts.items():
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs += data; off += len(data)
    h = json.dumps(hdr).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + blobs)
def variant(name, change):
    out = os.path.join(d, name); os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(d, "s4", "config.json"), out)
    meta, ts = read(os.path.join(d, "s4", "model.safetensors"))
    change(meta, ts)
    write(os.path.join(out, "model.safetensors"), meta, ts)
W = "layers.0.ssm.in_proj.weight"
def short_rows(meta, ts):   # U8 [256, 35]: one byte short per row, consistent in the file
    dt, sh, data = ts[W]; ts[W] = [dt, [256, 35], data[:256 * 35]]
def wrong_dtype(meta, ts):
    dt, sh, data = ts[W]; ts[W] = ["I8", sh, data]
def meta_quant(meta, ts): meta["itera.quant"] = "int3"
def meta_format(meta, ts): meta["itera.format"] = "Q5_1"
def meta_block(meta, ts): meta["itera.block_size"] = "64"
def inf_scale(meta, ts):
    dt, sh, data = ts[W]; ts[W] = [dt, sh, b"\x00\x7c" + data[2:]]
def f32_param(meta, ts):    # an FP32 parameter must be F16 in a quantized file
    n = "norm.weight"; dt, sh, data = ts[n]; ts[n] = ["F32", sh, data * 2]
for name, ch in [("short", short_rows), ("dtype", wrong_dtype), ("mq", meta_quant),
                 ("mf", meta_format), ("mb", meta_block), ("inf", inf_scale), ("f32", f32_param)]:
    variant(name, ch)

# FP32 model with expert_size 40
cfg = {"architecture": "itera-lite", "vocab_size": 50, "hidden_size": 64, "num_layers": 1,
       "ssm_state_size": 4, "ssm_expand_factor": 1, "ssm_conv_kernel": 2, "num_experts": 2,
       "expert_size": 40, "top_k_experts": 1, "moe_layers": [], "max_seq_length": 8,
       "layer_norm_eps": 1e-5, "tie_word_embeddings": True}
V, D, E, N, K, F, S = 50, 64, 64, 4, 2, 40, 8
shapes = {"embedding.weight": [V, D], "position_embedding.weight": [S, D],
          "layers.0.ssm.in_proj.weight": [2 * E, D], "layers.0.ssm.conv1d.weight": [E, 1, K],
          "layers.0.ssm.conv1d.bias": [E], "layers.0.ssm.ssm.A_log": [N], "layers.0.ssm.ssm.B": [N, E],
          "layers.0.ssm.ssm.C": [E, N], "layers.0.ssm.ssm.D": [E],
          "layers.0.ssm.ssm.delta_proj.weight": [E, E], "layers.0.ssm.ssm.delta_proj.bias": [E],
          "layers.0.ssm.out_proj.weight": [D, E], "layers.0.ssm.norm.weight": [D],
          "layers.0.ssm.norm.bias": [D], "layers.0.moe.norm.weight": [D], "layers.0.moe.norm.bias": [D],
          "layers.0.moe.ffn.w1.weight": [F, D], "layers.0.moe.ffn.w2.weight": [D, F],
          "norm.weight": [D], "norm.bias": [D]}
out = os.path.join(d, "f40"); os.makedirs(out, exist_ok=True)
json.dump(cfg, open(os.path.join(out, "config.json"), "w"))
ts = {}
for k, sh in shapes.items():
    n = 1
    for x in sh: n *= x
    ts[k] = ["F32", sh, struct.pack("<%df" % n, *[0.01 * ((i % 7) - 3) for i in range(n)])]
write(os.path.join(out, "model.safetensors"), {}, ts)
PY
expect 0 "model:" "$ITERA" info --model "$TMP/f40"
expect 2 "layers.0.moe.ffn.w2.weight: shape [64, 40] does not fit format int8" "$ITERA" info --model "$TMP/f40" --quant int8
expect 2 "layers.0.moe.ffn.w2.weight: shape [64, 40] does not fit format int4" "$ITERA" quantize --model "$TMP/f40" --quant int4 --out "$TMP/z"
expect 2 "tensor 'layers.0.ssm.in_proj.weight' is U8 [256, 35], expected U8 [256, 36]" "$ITERA" info --model "$TMP/short"
expect 2 "tensor 'layers.0.ssm.in_proj.weight' is I8 [256, 36], expected U8 [256, 36]" "$ITERA" info --model "$TMP/dtype"
expect 2 "metadata itera.quant = 'int3' is not a known format" "$ITERA" info --model "$TMP/mq"
expect 2 "metadata itera.format = 'Q5_1' does not match itera.quant = 'int4'" "$ITERA" info --model "$TMP/mf"
expect 2 "metadata itera.block_size = '64' is not supported" "$ITERA" info --model "$TMP/mb"
expect 2 "layers.0.ssm.in_proj.weight: invalid int4 data (non-finite scale)" "$ITERA" info --model "$TMP/inf"
expect 2 "tensor 'norm.weight' is F32 [64], expected F16 [64]" "$ITERA" info --model "$TMP/f32"

if [ -f "$REF/model.safetensors" ]; then
    expect 0 "ratio=0.2" "$ITERA" quantize --model "$REF" --quant int8 --out "$TMP/r8"
    expect 0 "ratio=0.1" "$ITERA" quantize --model "$REF" --quant int4 --out "$TMP/r4"
    if [ -f "$TMP/r4/tokenizer.json" ]; then pass=$((pass + 1)); echo "ok   tokenizer.json copied";
    else fail=$((fail + 1)); echo "FAIL tokenizer.json not copied"; fi
    expect 0 "top1_agree=1.0000" "$ITERA" verify --model "$TMP/r4" --tol 1 "$REF"/golden/text_b1_l17.safetensors
    expect 0 "quant=int8 isa=" "$ITERA" verify --quant int8 --decode --tol 1 --model "$REF" "$REF"/golden/text_b1_l17.safetensors
    expect 1 "FAIL" "$ITERA" verify --quant int4 --tol 1e-4 --model "$REF" "$REF"/golden/text_b1_l17.safetensors
    expect 0 "perplexity=" "$ITERA" perplexity --model "$TMP/r8" --text "$REF/tinystories.txt" --seq 64 --batch 2
else
    echo "SKIPPED reference quantize checks: $REF is absent (reference data lives in ../shared)"
fi
finish "quant CLI"
