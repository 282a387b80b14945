#!/usr/bin/env python3
"""peer_pytorch.py: the Itera-Lite micro model in PyTorch eager, timed like the engine's
prefill, written as Google Benchmark JSON so `itera-bench report` shows a
"PyTorch (eager)" row beside the engine (quantization and edge tables).

    python3 scripts/peer_pytorch.py [--platform embedded] [--threads T] [--out FILE] ...
    make peer [PLATFORM=embedded] [PEER_THREADS=T]

Same model and inputs as the engine's accuracy check: the reference checkpoint
(../shared/reference/itera-lite-micro/model.safetensors, read by hand: the `safetensors`
package is not in Debian) and the token ids of a golden file; the forward pass is the one
in that folder's README. Needs Debian's python3-torch; without it the script says so and
exits 2 (the report renders without the PyTorch row).

Benchmark name: prefill/fp32/pytorch-eager/seq:L/batch:B/threads:T (the kernel part names
the implementation, so `itera-bench compare --variants chunked,pytorch-eager FILE` works
on a file holding both). Counters as the harness writes them: tokens_per_second,
latency_ms, gflops (matmul FLOPs of the model), weight_bytes, cpu_util, peak_rss_mb,
max_abs_logit_err and top1_agreement (against the golden logits of the same inputs).
real_time is wall time per forward; cpu_time is process CPU time (all threads) per forward.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import platform as pyplatform
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(REPO, "..", "shared", "reference", "itera-lite-micro")
KERNEL = "pytorch-eager"


def die(msg, code=2):
    print(f"peer_pytorch: {msg}", file=sys.stderr)
    sys.exit(code)


# ---- safetensors, by hand: u64 LE header length, JSON header, raw little-endian data ----

DTYPES = {"F32": ("f", 4), "I32": ("i", 4), "I64": ("q", 8), "F64": ("d", 8)}


def read_safetensors(path, torch):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        die(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if 8 + hlen > len(raw):
        die(f"{path}: header length {hlen} runs past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = meta.get("dtype")
        if dt not in DTYPES:
            die(f"{path}: tensor {name}: dtype {dt} not supported (expected one of {sorted(DTYPES)})")
        b, e = meta["data_offsets"]
        shape = meta["shape"]
        code, size = DTYPES[dt]
        n = math.prod(shape) if shape else 1
        if e - b != n * size:
            die(f"{path}: tensor {name}: {e - b} bytes for shape {shape} of {dt}")
        vals = struct.unpack(f"<{n}{code}", data[b:e])
        tdt = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}[dt]
        out[name] = torch.tensor(vals, dtype=tdt).reshape(shape)
    return out, len(data)


# ---- the model (README "Forward pass") ----

class IteraLite:
    def __init__(self, cfg, w, torch):
        self.t = torch
        self.cfg = cfg
        self.w = w
        self.D = cfg["hidden_size"]
        self.E = cfg["ssm_expand_factor"] * self.D
        self.N = cfg["ssm_state_size"]
        self.K = cfg["ssm_conv_kernel"]
        self.eps = cfg["layer_norm_eps"]
        self.moe = set(cfg.get("moe_layers", []))

    def ln(self, x, prefix):
        F = self.t.nn.functional
        return F.layer_norm(x, (x.shape[-1],), self.w[prefix + ".weight"], self.w[prefix + ".bias"], self.eps)

    def lin(self, x, name, bias=True):
        F = self.t.nn.functional
        b = self.w.get(name + ".bias") if bias else None
        return F.linear(x, self.w[name + ".weight"], b)

    def ssm(self, x, i):
        t, F = self.t, self.t.nn.functional
        p = f"layers.{i}.ssm."
        s = p + "ssm."
        B_, L, _ = x.shape
        h = self.ln(x, p + "norm")
        ug = self.lin(h, p + "in_proj")
        u, g = ug[..., :self.E], ug[..., self.E:]
        # causal depthwise conv along L: pad K-1 zeros on the left
        w = self.w[p + "conv1d.weight"]  # [E, 1, K]
        uc = F.conv1d(F.pad(u.transpose(1, 2), (self.K - 1, 0)), w, self.w[p + "conv1d.bias"], groups=self.E)
        u = F.silu(uc.transpose(1, 2))
        delta = F.softplus(self.lin(u, s + "delta_proj")).mean(dim=-1)  # [B, L]
        A = -t.exp(self.w[s + "A_log"])  # [N]
        Bm, Cm, Dv = self.w[s + "B"], self.w[s + "C"], self.w[s + "D"]  # [N,E], [E,N], [E]
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
            if not bool(sel.any()):
                continue
            ge = (gates * sel).sum(dim=-1, keepdim=True)  # 0 where e was not chosen
            ye = self.lin(F.gelu(self.lin(h, r + f"experts.{e}.w1")), r + f"experts.{e}.w2")
            out = out + ge * ye
        return x + out

    def forward(self, ids):
        t = self.t
        B_, L = ids.shape
        x = self.w["embedding.weight"][ids] + self.w["position_embedding.weight"][t.arange(L)]
        for i in range(self.cfg["num_layers"]):
            x = self.ssm(x, i)
            x = self.ffn(x, i)
        return self.ln(x, "norm") @ self.w["embedding.weight"].t()

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


# ---- machine facts for the context ----

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return pyplatform.processor() or "unknown"


def mhz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":", 1)[1]))
    except OSError:
        pass
    return 0


def git_rev():
    try:
        r = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="embedded", help="platform label for the results (default embedded)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: the platform's threads from platforms/<p>.ini)")
    ap.add_argument("--cpus", default=None, help="CPUs to run on, comma-separated (default: the first T allowed)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="reference model folder")
    ap.add_argument("--golden", default=None, help="golden inputs/logits (default golden/text_b1_l128.safetensors)")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per repetition (default 0.5)")
    ap.add_argument("--out", default=None, help="default results/<platform>/peer_pytorch.json")
    a = ap.parse_args()

    try:
        import torch
    except ImportError:
        die("PyTorch is not installed (Debian: apt-get install python3-torch); no peer results written")

    model_dir = os.path.abspath(a.model)
    wpath = os.path.join(model_dir, "model.safetensors")
    golden = a.golden or os.path.join(model_dir, "golden", "text_b1_l128.safetensors")
    for p in (wpath, os.path.join(model_dir, "config.json"), golden):
        if not os.path.exists(p):
            die(f"{p}: not found (the reference model folder is ../shared/reference/itera-lite-micro)")
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)

    threads = a.threads or platform_threads(a.platform) or len(os.sched_getaffinity(0))
    if threads < 1:
        die(f"--threads {threads}: expected at least 1")
    allowed = sorted(os.sched_getaffinity(0))
    if a.cpus:
        try:
            cpus = [int(c) for c in a.cpus.split(",")]
        except ValueError:
            die(f"--cpus '{a.cpus}': expected comma-separated CPU numbers")
    else:
        cpus = allowed[:threads]
    emulated = threads > len(cpus)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as e:
        die(f"cannot bind to CPUs {cpus}: {e}")
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)

    w, weight_bytes = read_safetensors(wpath, torch)
    g, _ = read_safetensors(golden, torch)
    ids = g["input_ids"].long()
    ref = g["logits"]
    B, L = ids.shape
    m = IteraLite(cfg, w, torch)

    logits = m.forward(ids)
    err = float((logits - ref).abs().max())
    top1 = float((logits.argmax(-1) == ref.argmax(-1)).float().mean())
    flops = m.matmul_flops_per_token() * B * L

    for _ in range(3):  # warm-up
        m.forward(ids)
    reps = []
    for r in range(a.repetitions):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            m.forward(ids)
            n += 1
            el = time.perf_counter() - t0
            if el >= a.min_time:
                break
        cpu = time.process_time() - c0
        reps.append((n, el / n, cpu / n, cpu / (el * threads)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    name = f"prefill/fp32/{KERNEL}/seq:{L}/batch:{B}/threads:{threads}"
    entries = []
    rows = []
    for i, (n, wall, cpu, util) in enumerate(reps):
        c = {
            "cpu_util": util,
            "gflops": flops / wall / 1e9,
            "latency_ms": wall * 1e3,
            "max_abs_logit_err": err,
            "peak_rss_mb": rss_mb,
            "tokens_per_second": B * L / wall,
            "top1_agreement": top1,
            "weight_bytes": float(weight_bytes),
        }
        e = {"name": name, "family_index": 0, "per_family_instance_index": 0, "run_name": name,
             "run_type": "iteration", "repetitions": len(reps), "repetition_index": i, "threads": 1,
             "iterations": n, "real_time": wall * 1e9, "cpu_time": cpu * 1e9, "time_unit": "ns"}
        e.update(c)
        entries.append(e)
        rows.append(e)
    if len(rows) > 1:
        keys = ["real_time", "cpu_time"] + sorted(rows[0].keys() - {
            "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
            "repetition_index", "threads", "iterations", "time_unit", "real_time", "cpu_time"})
        for agg in ("mean", "median", "stddev", "cv"):
            e = {"name": f"{name}_{agg}", "family_index": 0, "per_family_instance_index": 0,
                 "run_name": name, "run_type": "aggregate", "repetitions": len(rows), "threads": 1,
                 "aggregate_name": agg, "aggregate_unit": "percentage" if agg == "cv" else "time",
                 "iterations": len(rows)}
            for k in keys:
                v = [r[k] for r in rows]
                mean, sd = statistics.mean(v), statistics.stdev(v)
                e[k] = {"mean": mean, "median": statistics.median(v), "stddev": sd,
                        "cv": sd / mean if mean else 0.0}[agg]
                if k == "cpu_time":
                    e["time_unit"] = "ns"
            entries.append(e)

    with open(wpath, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    ctx = {
        "date": datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "host_name": socket.gethostname(),
        "executable": "scripts/peer_pytorch.py",
        "num_cpus": os.cpu_count(),
        "mhz_per_cpu": mhz(),
        "cpu_scaling_enabled": False,
        "library_build_type": "n/a (PyTorch eager, no Google Benchmark)",
        "itera_platform": a.platform,
        "itera_profile": "peer",
        "itera_threads": str(threads),
        "itera_worker_cpus": ",".join(str(c) for c in cpus),
        "itera_emulated": "true" if emulated else "false",
        "itera_model": f"{model_dir} sha256 {sha}",
        "itera_git": git_rev(),
        "itera_compiler": f"python {pyplatform.python_version()}, torch {torch.__version__}",
        "itera_isa": f"torch {torch.backends.cpu.get_cpu_capability()}" if hasattr(torch.backends, "cpu")
                     and hasattr(torch.backends.cpu, "get_cpu_capability") else "torch default",
        "itera_counters": "none (PyTorch peer: wall and process CPU time only)",
        "itera_cpu_model": cpu_model(),
        "itera_peer": f"pytorch {torch.__version__} eager, {threads} intra-op threads; "
                      f"inputs {os.path.basename(golden)}",
    }
    out = a.out or os.path.join(REPO, "results", a.platform, "peer_pytorch.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump({"context": ctx, "benchmarks": entries}, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    lat = statistics.mean(r[1] for r in reps) * 1e3
    print(f"peer_pytorch: {name}: {lat:.3f} ms per forward, {B * L / (lat / 1e3):.0f} tok/s, "
          f"max_abs_logit_err={err:.2e} top1_agree={top1:.4f}{' (emulated)' if emulated else ''}")
    print(f"peer_pytorch: wrote {out}")


if __name__ == "__main__":
    main()
