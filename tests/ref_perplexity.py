#!/usr/bin/env python3
"""ref_perplexity.py: FP32 perplexity of a text under an Itera-Lite model, computed
independently of the engine: numpy (float64) and the forward pass exactly as written in
../shared/reference/itera-lite-micro/README.md, the tokenizer as written there, and the
windows of `itera accuracy` / `itera perplexity`: consecutive windows of L tokens, every
token after the first of a window predicted from those before it, a last shorter window
of at least 2 tokens included.

    python3 tests/ref_perplexity.py MODEL_DIR TEXT [L]

Prints `perplexity=P tokens=N`. Needs numpy (Debian's python3-numpy); without it, says
so and exits 3 (the caller skips). Used by tests/cli/accuracy.sh.
"""
import json
import math
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("ref_perplexity: numpy is not installed (Debian: python3-numpy)", file=sys.stderr)
    sys.exit(3)


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n])
    hdr.pop("__metadata__", None)
    out = {}
    for name, t in hdr.items():
        if t["dtype"] != "F32":
            sys.exit(f"ref_perplexity: {path}: {name} is {t['dtype']}; only FP32 models are read")
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").astype(np.float64).reshape(t["shape"])
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def silu(x):
    return x / (1 + np.exp(-x))


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def softplus(x):
    return np.logaddexp(0, x)


def forward(W, cfg, t):
    """t: int array [B, L] -> logits [B, L, V] (README "Forward pass")."""
    B, L = t.shape
    E = cfg["ssm_expand_factor"] * cfg["hidden_size"]
    K = cfg["ssm_conv_kernel"]
    eps = cfg["layer_norm_eps"]
    x = W["embedding.weight"][t] + W["position_embedding.weight"][np.arange(L)][None]
    for i in range(cfg["num_layers"]):
        p = f"layers.{i}.ssm."
        h = layer_norm(x, W[p + "norm.weight"], W[p + "norm.bias"], eps)
        ug = h @ W[p + "in_proj.weight"].T
        u, g = ug[..., :E], ug[..., E:]
        cw, cb = W[p + "conv1d.weight"][:, 0, :], W[p + "conv1d.bias"]
        up = np.concatenate([np.zeros((B, K - 1, E)), u], axis=1)
        uc = cb + sum(cw[:, k] * up[:, k:k + L, :] for k in range(K))
        u = silu(uc)
        s = p + "ssm."
        delta = softplus(u @ W[s + "delta_proj.weight"].T + W[s + "delta_proj.bias"]).mean(-1)  # [B, L]
        A = -np.exp(W[s + "A_log"])
        Bm, Cm, Dv = W[s + "B"], W[s + "C"], W[s + "D"]
        st = np.zeros((B, A.shape[0]))
        y = np.empty_like(u)
        for l in range(L):
            d = delta[:, l:l + 1]
            st = np.exp(d * A) * st + d * (u[:, l] @ Bm.T)
            y[:, l] = st @ Cm.T + Dv * u[:, l]
        x = x + (y * silu(g)) @ W[p + "out_proj.weight"].T
        q = f"layers.{i}.moe."
        if i not in cfg["moe_layers"]:
            h = layer_norm(x, W[q + "norm.weight"], W[q + "norm.bias"], eps)
            x = x + gelu(h @ W[q + "ffn.w1.weight"].T) @ W[q + "ffn.w2.weight"].T
        else:
            r = q + "layer."
            h = layer_norm(x, W[r + "norm.weight"], W[r + "norm.bias"], eps)
            z = h @ W[r + "router.gate.weight"].T  # [B, L, X]
            k = cfg["top_k_experts"]
            top = np.argsort(-z, axis=-1, kind="stable")[..., :k]
            zt = np.take_along_axis(z, top, -1)
            gw = np.exp(zt - zt.max(-1, keepdims=True))
            gw /= gw.sum(-1, keepdims=True)
            add = np.zeros_like(x)
            for e in range(cfg["num_experts"]):
                ew = f"{r}experts.{e}."
                out = gelu(h @ W[ew + "w1.weight"].T) @ W[ew + "w2.weight"].T
                add += (gw * (top == e)).sum(-1, keepdims=True) * out
            x = x + add
    return layer_norm(x, W["norm.weight"], W["norm.bias"], eps) @ W["embedding.weight"].T


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: ref_perplexity.py MODEL_DIR TEXT [L]")
    model, text = sys.argv[1], sys.argv[2]
    cfg = json.load(open(os.path.join(model, "config.json")))
    L = int(sys.argv[3]) if len(sys.argv) == 4 else cfg["max_seq_length"]
    W = read_safetensors(os.path.join(model, "model.safetensors"))
    vocab = json.load(open(os.path.join(model, "tokenizer.json")))["token_to_id"]
    words = [w.decode("latin-1") for w in open(text, "rb").read().lower().split()]  # README: ASCII lower-case and white space
    ids = np.array([vocab.get(w, 1) for w in words], dtype=np.int64)
    n, full = len(ids), len(ids) // L
    windows = [ids[: full * L].reshape(full, L)] if full else []
    if n % L >= 2:
        windows.append(ids[full * L:].reshape(1, -1))
    nll, count = 0.0, 0
    for w in windows:
        for b0 in range(0, w.shape[0], 64):
            t = w[b0:b0 + 64]
            lg = forward(W, cfg, t)
            mx = lg.max(-1, keepdims=True)
            lse = (mx + np.log(np.exp(lg - mx).sum(-1, keepdims=True)))[..., 0]
            tgt = np.take_along_axis(lg[:, :-1], t[:, 1:, None], -1)[..., 0]
            nll += (lse[:, :-1] - tgt).sum()
            count += tgt.size
    print(f"perplexity={math.exp(nll / count):.6f} tokens={count}")


if __name__ == "__main__":
    main()
