#!/usr/bin/env python3
"""make_model.py: writes a small itera-lite model folder (config.json, model.safetensors and
a tokenizer.json of words w4, w5, ...) for tests and fuzz seeds, with the tensor list of engine/model.c (model_list_tensors).

usage: make_model.py DIR [--vocab V] [--hidden D] [--layers N] [--moe i,j] [--experts X]
                         [--expand F] [--seq S] [--scale W] [--big W] [--extra-bytes N]
  --scale W        every matrix weight is W * (a fixed pattern in [-1, 1]) (default 0.05)
  --big W          the embedding and position rows are W (finite; large W makes the
                   activations overflow to inf/NaN inside the forward pass)
  --extra-bytes N  N zero bytes after the last tensor (a file the format forbids)
"""
import argparse
import json
import os
import struct


def tensors(cfg):
    """(name, shape) in the engine's order."""
    D, V, S = cfg["hidden_size"], cfg["vocab_size"], cfg["max_seq_length"]
    E, N, K = cfg["ssm_expand_factor"] * D, cfg["ssm_state_size"], cfg["ssm_conv_kernel"]
    F, X = cfg["expert_size"], cfg["num_experts"]
    out = [("embedding.weight", [V, D]), ("position_embedding.weight", [S, D])]
    for i in range(cfg["num_layers"]):
        p = "layers.%d." % i
        out += [(p + "ssm.in_proj.weight", [2 * E, D]), (p + "ssm.conv1d.weight", [E, 1, K]),
                (p + "ssm.conv1d.bias", [E]), (p + "ssm.ssm.A_log", [N]), (p + "ssm.ssm.B", [N, E]),
                (p + "ssm.ssm.C", [E, N]), (p + "ssm.ssm.D", [E]),
                (p + "ssm.ssm.delta_proj.bias", [E]), (p + "ssm.ssm.delta_proj.weight", [E, E]),
                (p + "ssm.out_proj.weight", [D, E]), (p + "ssm.norm.weight", [D]),
                (p + "ssm.norm.bias", [D])]
        if i in cfg["moe_layers"]:
            out.append((p + "moe.layer.router.gate.weight", [X, D]))
            for e in range(X):
                out += [(p + "moe.layer.experts.%d.w1.weight" % e, [F, D]),
                        (p + "moe.layer.experts.%d.w2.weight" % e, [D, F])]
            out += [(p + "moe.layer.norm.weight", [D]), (p + "moe.layer.norm.bias", [D])]
        else:
            out += [(p + "moe.norm.weight", [D]), (p + "moe.norm.bias", [D]),
                    (p + "moe.ffn.w1.weight", [F, D]), (p + "moe.ffn.w2.weight", [D, F])]
    out += [("norm.weight", [D]), ("norm.bias", [D])]
    return out


def values(name, n, scale, big):
    if name.endswith("norm.weight"):
        return [1.0] * n
    if name.endswith("norm.bias") or name.endswith("conv1d.bias"):
        return [0.0] * n
    if name.endswith("A_log"):
        return [0.5] * n
    if name.endswith("delta_proj.bias"):
        return [-2.0] * n
    if big is not None and name in ("embedding.weight", "position_embedding.weight"):
        return [big] * n
    return [scale * (((i * 7919) % 201) - 100) / 100.0 for i in range(n)]


def write(path, cfg, scale, big, extra):
    hdr, blobs, off = {}, [], 0
    for name, shape in tensors(cfg):
        n = 1
        for d in shape:
            n *= d
        data = struct.pack("<%df" % n, *values(name, n, scale, big))
        hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs) + bytes(extra))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--vocab", type=int, default=40)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--moe", default="1")
    ap.add_argument("--experts", type=int, default=2)
    ap.add_argument("--expand", type=int, default=2)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--big", type=float, default=None)
    ap.add_argument("--extra-bytes", type=int, default=0)
    a = ap.parse_args()
    moe = [int(x) for x in a.moe.split(",") if x != ""]
    cfg = {"architecture": "itera-lite", "vocab_size": a.vocab, "hidden_size": a.hidden,
           "num_layers": a.layers, "ssm_state_size": 4, "ssm_expand_factor": a.expand,
           "ssm_conv_kernel": 2, "num_experts": a.experts, "expert_size": 32,
           "top_k_experts": 1, "max_seq_length": a.seq, "layer_norm_eps": 1e-5,
           "tie_word_embeddings": True, "moe_layers": moe}
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write(os.path.join(a.dir, "model.safetensors"), cfg, a.scale, a.big, a.extra_bytes)
    words = ["<pad>", "<unk>", "<bos>", "<eos>"] + ["w%d" % i for i in range(4, a.vocab)]
    with open(os.path.join(a.dir, "tokenizer.json"), "w") as f:
        json.dump({"token_to_id": {w: i for i, w in enumerate(words)},
                   "id_to_token": {str(i): w for i, w in enumerate(words)}}, f)


if __name__ == "__main__":
    main()
