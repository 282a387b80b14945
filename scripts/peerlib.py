"""peerlib.py: what the two peers (scripts/peer_pytorch.py, scripts/peer_ort.py) share.

- the model folder a peer runs (MODEL= / --model, else the reference checkpoint where
  present, else the engine's built-in synthetic model written out by
  `build/itera quantize --quant fp32`), its weights read by hand (the `safetensors`
  package is not in Debian) and its inputs (a golden file's token ids, or seeded ids);
- the forward pass of ../shared/reference/itera-lite-micro/README.md in PyTorch: the
  whole sequence (`IteraLite`) and one decode step with carried state (`IteraLiteStep`),
  both written so that `torch.onnx.export` traces them into a static graph;
- the FP32 check of a peer's logits against a golden file or the engine (`itera verify`);
- machine facts for the results' context, and the Google Benchmark-style results writer
  (iteration entries + mean/median/stddev/cv aggregates, written atomically).

Shapes: token ids [B, L] int64; logits [B, L, vocab] float32; D = hidden_size,
E = ssm_expand_factor * D, N = ssm_state_size, K = ssm_conv_kernel.
"""
import datetime
import hashlib
import json
import math
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itera_schema  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(REPO, "..", "shared", "reference", "itera-lite-micro")
GOLDEN_PREFILL = "text_b1_l128.safetensors"
SYNTHETIC_SEED_INPUTS = 7  # seed of the token ids used where no golden file exists


class PeerError(Exception):
    """A bad input or a missing tool, with a message naming it."""


# ---- safetensors, by hand: u64 LE header length, JSON header, raw little-endian data ----

DTYPES = {"F32": ("f", 4), "I32": ("i", 4), "I64": ("q", 8), "F64": ("d", 8)}


def read_safetensors(path, torch):
    """Returns ({name: tensor}, data bytes, metadata dict). Raises PeerError naming the tensor."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise PeerError(f"{path}: cannot read: {e.strerror}")
    if len(raw) < 8:
        raise PeerError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if 8 + hlen > len(raw):
        raise PeerError(f"{path}: header length {hlen} runs past the end of the file ({len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + hlen])
    except ValueError as e:
        raise PeerError(f"{path}: header is not JSON: {e}")
    meta = header.get("__metadata__") or {}
    data = raw[8 + hlen:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dt = t.get("dtype")
        if dt not in DTYPES:
            q = meta.get("itera.quant")
            hint = f" (the folder is stored as {q}; the peers run FP32 folders only)" if q else ""
            raise PeerError(f"{path}: tensor {name}: dtype {dt} not supported "
                            f"(expected one of {sorted(DTYPES)}){hint}")
        b, e = t["data_offsets"]
        shape = t["shape"]
        code, size = DTYPES[dt]
        n = math.prod(shape) if shape else 1
        if e - b != n * size or e > len(data):
            raise PeerError(f"{path}: tensor {name}: {e - b} bytes for shape {shape} of {dt}")
        tdt = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}[dt]
        vals = struct.unpack(f"<{n}{code}", data[b:e])
        out[name] = torch.tensor(vals, dtype=tdt).reshape(shape)
    return out, len(data), meta


def write_safetensors(path, tensors):
    """tensors: {name: (dtype "F32"|"I32", shape, flat bytes)}; written atomically."""
    header, blobs, off = {}, [], 0
    for name, (dt, shape, blob) in tensors.items():
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    atomic_write(path, struct.pack("<Q", len(h)) + h + b"".join(blobs))


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_out_path(path):
    """Raises PeerError when path exists and is not a regular file (a folder, a device such
    as /dev/null, a FIFO): renaming a results file over it would replace it."""
    import stat
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise PeerError(f"{path}: cannot write: {e.strerror}")
    if not stat.S_ISREG(st.st_mode):
        raise PeerError(f"{path}: exists and is not a regular file (expected a results file to write)")


def atomic_write(path, data):
    """Writes bytes or text to path through a temporary file in the same folder, renamed
    (check_out_path first)."""
    check_out_path(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---- which model, which inputs ----

def itera_bin():
    """The engine's CLI: $ITERA_BIN, else build/itera of this checkout."""
    return os.environ.get("ITERA_BIN") or os.path.join(REPO, "build", "itera")


def default_workdir():
    """Where peers keep what they make (exports, the synthetic model folder, check files)."""
    return os.path.join(REPO, "build", "peer")


class ModelChoice:
    """dir: the folder the peer reads; label: itera_model as the harness writes it
    ("synthetic seed N", or "<folder> sha256:<hex>"); golden: the golden file of the
    prefill inputs, or None (then the engine is the FP32 reference); why: one line."""

    def __init__(self, dir, label, golden, why):
        self.dir, self.label, self.golden, self.why = dir, label, golden, why


def choose_model(model_arg, workdir):
    """model_arg: --model / MODEL= or None. Without it: the reference checkpoint where
    present, else the built-in synthetic model, written to workdir/synthetic by the engine."""
    shown = model_arg  # the folder as itera_model names it (the harness writes it as given)
    if model_arg:
        d = os.path.abspath(model_arg)
        why = f"--model {model_arg}"
    elif os.path.exists(os.path.join(REFERENCE, "model.safetensors")):
        d = os.path.abspath(REFERENCE)
        shown = "../shared/reference/itera-lite-micro"
        why = "the reference checkpoint (../shared/reference/itera-lite-micro)"
    else:
        d = os.path.join(workdir, "synthetic")
        why = ("the engine's built-in synthetic model (the reference checkpoint "
               "../shared/reference/itera-lite-micro is absent)")
        exe = itera_bin()
        if not os.access(exe, os.X_OK):
            raise PeerError(f"{exe}: not built; the synthetic model is written by the engine (run: make build)")
        os.makedirs(workdir, exist_ok=True)
        r = subprocess.run([exe, "quantize", "--quant", "fp32", "--out", d], capture_output=True, text=True)
        if r.returncode != 0:
            raise PeerError(f"{exe} quantize --quant fp32 --out {d} failed: {r.stderr.strip()}")
    for f in ("config.json", "model.safetensors"):
        p = os.path.join(d, f)
        if not os.path.isfile(p):
            raise PeerError(f"{p}: not found (expected a model folder with config.json and model.safetensors)")
    golden = os.path.join(d, "golden", GOLDEN_PREFILL)
    c = ModelChoice(d, None, golden if os.path.isfile(golden) else None, why)
    c.shown = shown or d
    return c


def load_model(choice, torch):
    """Reads config and weights; sets choice.label. Returns (cfg, weights, weight_bytes)."""
    cfgp = os.path.join(choice.dir, "config.json")
    try:
        with open(cfgp) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise PeerError(f"{cfgp}: cannot read the model configuration: {e}")
    need = ["vocab_size", "hidden_size", "num_layers", "ssm_state_size", "ssm_expand_factor",
            "ssm_conv_kernel", "num_experts", "expert_size", "top_k_experts", "max_seq_length",
            "layer_norm_eps"]
    missing = [k for k in need if k not in cfg]
    if missing:
        raise PeerError(f"{cfgp}: missing keys {missing}")
    wpath = os.path.join(choice.dir, "model.safetensors")
    w, nbytes, meta = read_safetensors(wpath, torch)
    src = meta.get("source", "")
    if src.startswith("synthetic seed "):
        choice.label = src
    else:
        choice.label = f"{choice.shown} sha256:{sha256_file(wpath)}"
    return cfg, w, nbytes


def load_inputs(choice, cfg, torch, L=128, B=1):
    """Token ids [B, L] int64 and the golden logits [B, L, V] (or None) of the prefill check.
    Golden file where the model has one; else ids drawn with a fixed seed from the used range."""
    if choice.golden:
        g, _, _ = read_safetensors(choice.golden, torch)
        if "input_ids" not in g or "logits" not in g:
            raise PeerError(f"{choice.golden}: expected tensors input_ids and logits")
        ids, ref = g["input_ids"].long(), g["logits"]
        if tuple(ids.shape) != (B, L):
            raise PeerError(f"{choice.golden}: input_ids is {list(ids.shape)}, expected [{B}, {L}]")
        return ids, ref, f"input_ids of {os.path.basename(choice.golden)}"
    if L > cfg["max_seq_length"]:
        raise PeerError(f"L={L} exceeds the model's max_seq_length {cfg['max_seq_length']}")
    gen = torch.Generator().manual_seed(SYNTHETIC_SEED_INPUTS)
    ids = torch.randint(4, cfg["vocab_size"], (B, L), generator=gen, dtype=torch.int64)
    return ids, None, f"{B}x{L} token ids, torch seed {SYNTHETIC_SEED_INPUTS}, uniform in [4, vocab)"


# ---- the model (README "Forward pass") ----

# ---- int8: dynamic quantization of the matrix products, as ONNX Runtime runs it ----

def quantize_int8(cfg, w, torch):
    """The int8 weights of every matrix product the engine's int8 quantizes (in_proj,
    delta_proj, out_proj, FFN, router, experts, and the tied embedding / head; not conv1d,
    the scan's B and C, norms, biases, position embeddings): symmetric int8 with one scale
    per output column, scale = max|W| / 127.
    Returns {name: (wq [in, out] int8, scale [out] float32)} for the linears, and
    "embedding": (table [vocab, D] int8, scale [vocab]): the lookup dequantizes one row and
    the head multiplies by the same table transposed (one scale per vocab row = per
    output column of the head)."""
    out = {}
    for n, W in w.items():  # W [out, in]
        if not n.endswith(".weight") or W.dim() != 2 or n.startswith(("embedding.", "position_embedding.")):
            continue
        scale = (W.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
        wq = torch.clamp(torch.round(W / scale[:, None]), -127, 127).to(torch.int8)
        out[n[:-len(".weight")]] = (wq.t().contiguous(), scale.to(torch.float32))
    E = w["embedding.weight"]
    scale = (E.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
    out["embedding"] = (torch.clamp(torch.round(E / scale[:, None]), -127, 127).to(torch.int8),
                        scale.to(torch.float32))
    return out


_QLINEAR = {}


def qlinear(torch):
    """y = x . dequant(wq) with x quantized per call (uint8, asymmetric, per tensor) as
    ONNX DynamicQuantizeLinear does; exported as DynamicQuantizeLinear + MatMulInteger +
    Cast + Mul (what onnxruntime.quantization.quantize_dynamic writes for MatMul, which
    ONNX Runtime fuses into its int8 DynamicQuantizeMatMul kernel). Eager: the same
    arithmetic in float32."""
    if "f" in _QLINEAR:
        return _QLINEAR["f"]

    class QLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, wq, scale):
            lo = torch.clamp(x.min(), max=0.0)
            hi = torch.clamp(x.max(), min=0.0)
            s = (hi - lo) / 255.0
            s = torch.where(s == 0, torch.ones_like(s), s)
            zp = torch.clamp(torch.round(-lo / s), 0, 255)
            xq = torch.clamp(torch.round(x / s) + zp, 0, 255)
            return ((xq - zp) @ wq.to(torch.float32)) * (s * scale)

        @staticmethod
        def symbolic(g, x, wq, scale):
            xq, xs, xzp = g.op("DynamicQuantizeLinear", x, outputs=3)
            y = g.op("Cast", g.op("MatMulInteger", xq, wq, xzp), to_i=1)  # 1: FLOAT
            return g.op("Mul", y, g.op("Mul", xs, scale))

    _QLINEAR["f"] = QLinear
    return QLinear


class IteraLite:
    """The forward pass over a whole sequence. static=True writes it for torch.onnx.export:
    layer norm's shape is a Python int (a traced x.shape[-1] does not export), and the
    MoE layer computes every expert with the unchosen ones gated to 0 (eager skips experts
    no token chose, which a trace would freeze to the tracing input's routing).
    int8: the result of quantize_int8: those matrix products run as qlinear."""

    def __init__(self, cfg, w, torch, static=False, int8=None):
        self.t = torch
        self.cfg = cfg
        self.w = w
        self.static = static
        self.q = int8 or {}
        self.D = cfg["hidden_size"]
        self.E = cfg["ssm_expand_factor"] * self.D
        self.N = cfg["ssm_state_size"]
        self.K = cfg["ssm_conv_kernel"]
        self.eps = cfg["layer_norm_eps"]
        self.moe = set(cfg.get("moe_layers", []))

    def ln(self, x, prefix):
        F = self.t.nn.functional
        return F.layer_norm(x, (self.D,), self.w[prefix + ".weight"], self.w[prefix + ".bias"], self.eps)

    def lin(self, x, name):
        F = self.t.nn.functional
        if name in self.q:
            y = qlinear(self.t).apply(x, *self.q[name])
            b = self.w.get(name + ".bias")
            return y + b if b is not None else y
        return F.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    def scan_params(self, i):
        s = f"layers.{i}.ssm.ssm."
        A = -self.t.exp(self.w[s + "A_log"])  # [N]
        return A, self.w[s + "B"], self.w[s + "C"], self.w[s + "D"]  # [N], [N,E], [E,N], [E]

    def ssm(self, x, i):
        t, F = self.t, self.t.nn.functional
        p = f"layers.{i}.ssm."
        B_, L, _ = x.shape
        h = self.ln(x, p + "norm")
        ug = self.lin(h, p + "in_proj")
        u, g = ug[..., :self.E], ug[..., self.E:]
        # causal depthwise conv along L: pad K-1 zeros on the left
        w = self.w[p + "conv1d.weight"]  # [E, 1, K]
        uc = F.conv1d(F.pad(u.transpose(1, 2), (self.K - 1, 0)), w, self.w[p + "conv1d.bias"], groups=self.E)
        u = F.silu(uc.transpose(1, 2))
        delta = F.softplus(self.lin(u, p + "ssm.delta_proj")).mean(dim=-1)  # [B, L]
        A, Bm, Cm, Dv = self.scan_params(i)
        Bu = u @ Bm.t()  # [B, L, N]
        hs = t.zeros(B_, self.N, dtype=x.dtype)
        ys = []
        for l in range(L):
            dl = delta[:, l:l + 1]  # [B, 1]
            hs = t.exp(dl * A) * hs + dl * Bu[:, l]
            ys.append(hs)
        H = t.stack(ys, dim=1)  # [B, L, N]
        y = H @ Cm.t() + Dv * u
        return x + self.lin(y * F.silu(g), p + "out_proj")

    def ffn(self, x, i):
        """x: [..., D] -> [..., D] (the residual added)."""
        t, F = self.t, self.t.nn.functional
        q = f"layers.{i}.moe."
        if i not in self.moe:
            h = self.ln(x, q + "norm")
            return x + self.lin(F.gelu(self.lin(h, q + "ffn.w1")), q + "ffn.w2")
        r = q + "layer."
        h = self.ln(x, r + "norm")
        z = self.lin(h, r + "router.gate")
        k = self.cfg["top_k_experts"]
        top, idx = t.topk(z, k, dim=-1)
        gates = t.softmax(top, dim=-1)
        out = t.zeros_like(x)
        for e in range(self.cfg["num_experts"]):
            sel = (idx == e)
            if not self.static and not bool(sel.any()):
                continue
            ge = (gates * sel).sum(dim=-1, keepdim=True)  # 0 where e was not chosen
            ye = self.lin(F.gelu(self.lin(h, r + f"experts.{e}.w1")), r + f"experts.{e}.w2")
            out = out + ge * ye
        return x + out

    def embed(self, ids):
        """ids [...] int64 -> rows of the embedding table [..., D] (int8: dequantized)."""
        if "embedding" in self.q:
            tq, sc = self.q["embedding"]
            return tq[ids].to(self.t.float32) * sc[ids].unsqueeze(-1)
        return self.w["embedding.weight"][ids]

    def head(self, x):
        if "embedding" in self.q:
            tq, sc = self.q["embedding"]
            return qlinear(self.t).apply(self.ln(x, "norm"), tq.t(), sc)
        return self.ln(x, "norm") @ self.w["embedding.weight"].t()

    def forward(self, ids):
        """ids [B, L] int64 -> logits [B, L, vocab]."""
        t = self.t
        B_, L = ids.shape
        x = self.embed(ids) + self.w["position_embedding.weight"][t.arange(L)]
        for i in range(self.cfg["num_layers"]):
            x = self.ssm(x, i)
            x = self.ffn(x, i)
        return self.head(x)

    def matmul_flops_per_token(self):
        """2 per multiply-add of every linear map, MoE counting top_k experts, tied head."""
        c, D, E, N = self.cfg, self.D, self.E, self.N
        f = 0
        for i in range(c["num_layers"]):
            f += 2 * D * 2 * E + 2 * E * E + 2 * N * E + 2 * E * N + 2 * E * D  # in, delta, B, C, out
            if i in self.moe:
                f += 2 * D * c["num_experts"] + c["top_k_experts"] * (2 * D * c["expert_size"] * 2)
            else:
                w1 = self.w[f"layers.{i}.moe.ffn.w1.weight"]
                f += 2 * 2 * w1.shape[0] * w1.shape[1]
        f += 2 * D * c["vocab_size"]
        return f


class IteraLiteStep(IteraLite):
    """One decode step with carried state (README: "For generation ..."), static for export.
    step(ids [B, 1] int64, pos [1] int64, conv_0 [B, K-1, E], h_0 [B, N], conv_1, h_1, ...)
      -> (logits [B, vocab], conv_0', h_0', conv_1', h_1', ...)
    conv_i holds layer i's last K-1 pre-convolution inputs u (oldest first), h_i its scan
    state; both start at 0. Its logits equal the whole-sequence pass at that position."""

    def __init__(self, cfg, w, torch, int8=None):
        super().__init__(cfg, w, torch, static=True, int8=int8)

    def state_shapes(self, B=1):
        return [(B, self.K - 1, self.E), (B, self.N)] * self.cfg["num_layers"]

    def step(self, ids, pos, *state):
        t, F = self.t, self.t.nn.functional
        x = self.embed(ids[:, 0]) + self.w["position_embedding.weight"][pos]  # [B, D]
        new = []
        for i in range(self.cfg["num_layers"]):
            conv, hs = state[2 * i], state[2 * i + 1]
            p = f"layers.{i}.ssm."
            ug = self.lin(self.ln(x, p + "norm"), p + "in_proj")
            u, g = ug[..., :self.E], ug[..., self.E:]
            win = t.cat([conv, u.unsqueeze(1)], dim=1)  # [B, K, E]
            wk = self.w[p + "conv1d.weight"][:, 0, :].t()  # [K, E]
            u2 = F.silu((win * wk).sum(dim=1) + self.w[p + "conv1d.bias"])  # [B, E]
            delta = F.softplus(self.lin(u2, p + "ssm.delta_proj")).mean(dim=-1, keepdim=True)  # [B, 1]
            A, Bm, Cm, Dv = self.scan_params(i)
            hs = t.exp(delta * A) * hs + delta * (u2 @ Bm.t())  # [B, N]
            y = hs @ Cm.t() + Dv * u2
            x = x + self.lin(y * F.silu(g), p + "out_proj")
            x = self.ffn(x, i)
            new += [win[:, 1:], hs]
        return (self.head(x), *new)


# ---- the FP32 check ----

def compare_logits(got, ref):
    """got, ref: float tensors of one shape [..., V]. Returns (max_abs_err, top1_agreement)."""
    err = float((got - ref).abs().max())
    top1 = float((got.argmax(-1) == ref.argmax(-1)).float().mean())
    return err, top1


def verify_with_engine(model_dir, files, tol):
    """Runs `build/itera verify --model DIR --tol X FILE...` (each FILE: input_ids I32 [B, L]
    and a peer's logits F32 [B, L, V]); returns {file: (max_abs_err, top1)}."""
    exe = itera_bin()
    if not os.access(exe, os.X_OK):
        raise PeerError(f"{exe}: not built; it is the FP32 reference where no golden file exists (run: make build)")
    r = subprocess.run([exe, "verify", "--model", model_dir, "--tol", repr(tol)] + files,
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise PeerError(f"{exe} verify failed (exit {r.returncode}): {r.stderr.strip()}")
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^(.*): max_abs_err=(\S+) top1_agree=(\S+) ", line)
        if m and m.group(1) in files:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    lost = [f for f in files if f not in out]
    if lost:
        raise PeerError(f"{exe} verify: no max_abs_err/top1_agree line for {lost}; its output: {r.stdout.strip()}")
    return out


# ---- machine facts for the context ----

def git_rev():
    try:
        r = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--abbrev=12"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or "unknown (not a git checkout)"
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not found)"


def itera_bench_bin():
    """The harness's CLI: $ITERA_BENCH_BIN, else build/itera-bench of this checkout."""
    return os.environ.get("ITERA_BENCH_BIN") or os.path.join(REPO, "build", "itera-bench")


def machine_fingerprint(machine=None):
    """The context keys that tell this machine from others (itera_machine_* and Google
    Benchmark's host_name, num_cpus, mhz_per_cpu, cpu_scaling_enabled, caches), exactly as
    the harness writes them: `itera-bench info --json [--machine NAME]` (bench/machine.c),
    so a report never sets a peer beside rows of another machine. Raises PeerError."""
    exe = itera_bench_bin()
    if not os.access(exe, os.X_OK):
        raise PeerError(f"{exe}: not built; it prints the machine fingerprint every results file carries "
                        "(run: make build)")
    cmd = [exe, "info", "--json"] + (["--machine", machine] if machine else [])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise PeerError(f"{' '.join(cmd)}: {e}")
    if r.returncode != 0:
        raise PeerError(f"{' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()}")
    try:
        ctx = json.loads(r.stdout)["context"]
    except (ValueError, KeyError, TypeError):
        raise PeerError(f"{' '.join(cmd)}: expected {{\"context\": {{...}}}} on stdout, got: {r.stdout[:200]!r}")
    if not isinstance(ctx, dict) or "itera_machine" not in ctx:
        raise PeerError(f"{' '.join(cmd)}: no itera_machine key in its context")
    return ctx


def platform_threads(name):
    """Worker threads of platforms/<name>.ini (keys threads, worker_threads or cores)."""
    import configparser
    path = os.path.join(REPO, "platforms", name + ".ini")
    if not os.path.exists(path):
        return None
    cp = configparser.ConfigParser()
    try:
        cp.read(path)
    except configparser.Error:
        return None
    for sec in cp.sections() + [cp.default_section]:
        for key in ("threads", "worker_threads", "workers", "cores"):
            v = cp.get(sec, key, fallback=None)
            if v and v.strip().isdigit():
                return int(v)
    return None


def parse_threads(arg, platform, prog):
    """--threads: "T" or "T1,T2,..." -> sorted unique ints; default 1 and the platform's
    threads (platforms/<p>.ini), as the harness's default profile. Raises PeerError."""
    if arg is None:
        return sorted({1, platform_threads(platform) or len(os.sched_getaffinity(0))})
    try:
        ts = sorted({int(t) for t in arg.split(",")})
    except ValueError:
        raise PeerError(f"--threads '{arg}': expected a thread count or comma-separated thread counts, e.g. 1,2")
    if not ts or ts[0] < 1:
        raise PeerError(f"--threads '{arg}': expected thread counts of at least 1")
    return ts


def parse_cpus(arg):
    """--cpus "0,1" -> [0, 1]; default the CPUs this process may run on."""
    if not arg:
        return sorted(os.sched_getaffinity(0))
    try:
        return [int(c) for c in arg.split(",")]
    except ValueError:
        raise PeerError(f"--cpus '{arg}': expected comma-separated CPU numbers")


def base_context(executable, build_type, platform, machine=None):
    """Google Benchmark's own context keys and the machine fingerprint, for a peer's
    results. Raises PeerError (no fingerprint, no results)."""
    ctx = {
        "date": datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "executable": executable,
    }
    ctx.update(machine_fingerprint(machine))
    ctx.update({
        "library_build_type": build_type,
        "itera_platform": platform,
        # the platform's threads, as the harness writes it; the peer's own thread counts
        # are in itera_peer_threads and in each benchmark name
        "itera_threads": str(platform_threads(platform) or len(os.sched_getaffinity(0))),
        "itera_profile": "peer",
        "itera_emulated": "false",
        "itera_git": git_rev(),
    })
    return ctx


# ---- Google Benchmark-style results ----

GB_KEYS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
           "repetition_index", "threads", "iterations", "time_unit", "real_time", "cpu_time", "label"}


def gb_entries(family_index, name, reps, label=None):
    """reps: one dict per repetition with iterations, real_time and cpu_time (ns per
    iteration) and counters. Returns the iteration entries and the mean/median/stddev/cv
    aggregates over them, as Google Benchmark writes them."""
    entries = []
    for i, r in enumerate(reps):
        e = {"name": name, "family_index": family_index, "per_family_instance_index": 0, "run_name": name,
             "run_type": "iteration", "repetitions": len(reps), "repetition_index": i, "threads": 1,
             "iterations": r["iterations"], "real_time": r["real_time"], "cpu_time": r["cpu_time"],
             "time_unit": "ns"}
        if label:
            e["label"] = label
        e.update({k: v for k, v in sorted(r.items()) if k not in GB_KEYS})
        entries.append(e)
    if len(reps) > 1:
        keys = ["real_time", "cpu_time"] + sorted(reps[0].keys() - GB_KEYS)
        for agg in ("mean", "median", "stddev", "cv"):
            e = {"name": f"{name}_{agg}", "family_index": family_index, "per_family_instance_index": 0,
                 "run_name": name, "run_type": "aggregate", "repetitions": len(reps), "threads": 1,
                 "aggregate_name": agg, "aggregate_unit": "percentage" if agg == "cv" else "time",
                 "iterations": len(reps)}
            if label:
                e["label"] = label
            for k in keys:
                v = [r[k] for r in reps]
                mean, sd = statistics.mean(v), statistics.stdev(v)
                e[k] = {"mean": mean, "median": statistics.median(v), "stddev": sd,
                        "cv": sd / mean if mean else 0.0}[agg]
                if k == "cpu_time":
                    e["time_unit"] = "ns"
            entries.append(e)
    return entries


def schema():
    """The harness's results schema (`itera-bench schema --json`, scripts/itera_schema.py).
    Raises PeerError."""
    try:
        return itera_schema.load(itera_bench_bin())
    except itera_schema.SchemaError as e:
        raise PeerError(str(e))


def bench_name(family, **parts):
    """A benchmark name as the harness builds it (bench/schema.h), e.g.
    bench_name("prefill", quant="fp32", kernel="pytorch-eager", seq=128, batch=1, threads=2).
    Raises PeerError naming the part."""
    try:
        return schema().bench_name(family, **parts)
    except itera_schema.SchemaError as e:
        raise PeerError(str(e))


# ---- the results store (bench/rstore.h): results/<machine>/<platform>/<name>.json ----

# The fingerprint's identity keys (bench/machine.c, fields marked identity): two files are of
# one machine when these are equal (memory within 1%).
MACHINE_IDENTITY = ("itera_machine_id", "itera_machine_cpu_model", "itera_machine_cpu_vendor",
                    "itera_machine_cpu_family", "itera_machine_cpu_model_number", "itera_machine_cpu_stepping",
                    "itera_machine_sockets", "itera_machine_cores", "itera_machine_threads",
                    "itera_machine_caches", "itera_machine_isa_features", "itera_machine_memory_bytes",
                    "itera_machine_kernel")


def default_results_path(ctx, name):
    """results/<itera_machine>/<itera_platform>/<name>.json of this checkout."""
    return os.path.join(REPO, "results", ctx["itera_machine"], ctx["itera_platform"], name + ".json")


def model_key(itera_model):
    """The model's identity as bench/rstore.c reads it: "synthetic seed N", or "sha256:<hex>"
    from "<folder> sha256:<hex>" / "<folder> sha256 <hex>"; "" when neither."""
    m = itera_model or ""
    if m.startswith("synthetic seed "):
        return m
    mm = re.search(r" sha256[: ]([0-9a-f]{64})$", m)
    return "sha256:" + mm.group(1) if mm else ""


def build_text(ctx):
    git, cc = ctx.get("itera_git"), ctx.get("itera_compiler")
    if git is None and cc is None:
        return ""
    return f"git {git if git is not None else 'not recorded'}; compiler {cc if cc is not None else 'not recorded'}"


def identity_differs(old, new):
    """What makes two contexts different runs (machine, model, build), or None when they are
    the same run."""
    for k in MACHINE_IDENTITY:
        a, b = old.get(k), new.get(k)
        if a is None or b is None:
            return f"no machine fingerprint ({k} absent)"
        if k == "itera_machine_memory_bytes":
            try:
                x, y = int(a), int(b)
                if abs(x - y) > 0.01 * max(x, y):
                    return f"machine: {k} {a} vs {b}"
            except ValueError:
                return f"machine: {k} {a!r} vs {b!r}"
        elif a != b:
            return f"machine: {k} {a!r} vs {b!r}"
    ka, kb = model_key(old.get("itera_model")), model_key(new.get("itera_model"))
    if not ka or not kb or ka != kb:
        return f"model: {old.get('itera_model')} vs {new.get('itera_model')}"
    if build_text(old) != build_text(new):
        return f"build: {build_text(old)} vs {build_text(new)}"
    return None


def place_results(path, ctx):
    """Where a run with context ctx whose default path is `path` writes (bench/rstore.h's
    rule): path when it is free or holds a run of the same machine, model and build; else
    <stem>.<tag>.json beside it (tag: 8 hex digits of the identity's SHA-256). Returns
    (path, why): why is None, or what differs."""
    if not os.path.exists(path):
        return path, None
    try:
        with open(path) as f:
            old = json.load(f).get("context", {})
        why = identity_differs(old, ctx)
    except (OSError, ValueError, AttributeError) as e:
        why = f"it is not a results file this script can read: {e}"
    if why is None:
        return path, None
    text = f"{ctx.get('itera_machine_id', ctx.get('itera_machine', ''))}\n{model_key(ctx.get('itera_model'))}\n{build_text(ctx)}"
    tag = hashlib.sha256(text.encode()).hexdigest()[:8]
    stem = path[:-5] if path.endswith(".json") else path
    return f"{stem}.{tag}.json", why


def write_results(path, ctx, entries, extra=None):
    """The results file: {"context", "benchmarks"} (Google Benchmark's schema) plus any
    extra top-level keys (Google Benchmark's readers ignore them); atomic. Every name must
    be one of the harness's schema (a peer's own under its prefix, bench/schema.h): else
    PeerError listing them and nothing is written."""
    doc = {"context": ctx, "benchmarks": entries}
    if extra:
        doc.update(extra)
    problems = schema().check(doc)
    if problems:
        raise PeerError(f"{path}: not written: names the results schema (itera-bench schema) does not know: "
                        + "; ".join(problems[:8]) + (f" (+{len(problems) - 8} more)" if len(problems) > 8 else ""))
    atomic_write(path, json.dumps(doc, indent=2) + "\n")


def warn(prog, msg):
    print(f"{prog}: {msg}", file=sys.stderr)
