#!/usr/bin/env python3
"""peer_ort.py: the Itera-Lite micro model in ONNX Runtime (CPU), timed like the engine's
prefill and decode, written as Google Benchmark JSON beside the PyTorch peer's.

    python3 scripts/peer_ort.py [--platform embedded] [--threads 1,2] [--model DIR] [--out FILE] ...
    make peer [PLATFORM=embedded] [MODEL=DIR]          (runs this and scripts/peer_pytorch.py)

What it does, in order:
1. Model: --model DIR, else the reference checkpoint where present, else the engine's
   built-in synthetic model (written by `build/itera quantize --quant fp32`).
2. Export with torch.onnx.export (Debian's python3-torch), opset 17, cached under
   build/peer/onnx/: the prefill graph at B=1, L=128 (input_ids [1, 128] int64 -> logits
   [1, 128, vocab]; the per-token scan loop unrolls) and a single-token decode step with
   carried state (ids [1, 1], position [1], per layer conv [1, K-1, E] and scan state
   [1, N] -> logits [1, vocab] and the new state). MoE experts are computed densely with
   the unchosen ones gated to 0 (a static graph cannot skip them).
3. Sessions through onnxruntime-node (`node scripts/peer_ort.js`), one Node.js process per
   thread count T, bound to T CPUs (more threads than CPUs only with --emulate, marked so).
   The sweep per T: intra-op threads 1, T/2, T; sequential, or parallel with inter-op
   threads 1 or T; spinning on/off; graph optimisation disabled, basic, extended, all.
4. FP32 check before any timing: every configuration's logits (prefill: all 128
   positions; decode: the first --steps positions, fed one token at a time) against the
   golden file where the model has one, else against the engine (`build/itera verify`).
   A configuration outside --tol is not timed (recorded as refused); if the unoptimised
   graph itself is outside it, the export is wrong and nothing is timed (exit 1).
5. Sweep: --sweep-rounds interleaved rounds of --sweep-min-time seconds per configuration
   (all thread counts, both graphs, in one rotating order); the best per (T, graph) is the
   lowest median latency. Then the final figures: --repetitions interleaved rounds of
   --min-time seconds of each best configuration (re-measured, so the pick's luck in the
   sweep does not inflate it), and its peak RSS in a fresh process holding that session only.

Benchmark names: prefill/fp32/onnxruntime/seq:128/batch:1/threads:T and
decode/fp32/onnxruntime/steps:S/batch:1/threads:T (T = CPUs the process may use; the
configuration that won is in the entry's label and its ort_* counters). Counters as the
harness writes them: tokens_per_second, latency_ms (per forward; per step for decode),
gflops (the model's matmul FLOPs, top-k experts, as the engine counts them), weight_bytes,
cpu_util, peak_rss_mb, max_abs_logit_err, top1_agreement; plus ort_intra_op_threads,
ort_inter_op_threads, ort_parallel (0/1), ort_spinning (0/1), ort_graph_opt_level (0..3).
The whole sweep is the top-level "itera_ort_sweep" object (Google Benchmark's readers
ignore extra top-level keys). real_time is wall time per iteration (one forward; S steps
for decode); cpu_time is process CPU time (all threads) per iteration.

Exit status: 0 written; 1 the FP32 check failed; 2 bad usage or a missing tool
(PyTorch, Node.js or onnxruntime-node: the line says which and how to install it).
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as P  # noqa: E402

PROG = "peer_ort"
KERNEL = "onnxruntime"
OPSET = 17
OPT_LEVELS = ["disabled", "basic", "extended", "all"]
ORT_DIR_DEFAULT = os.path.join(P.REPO, "node_modules", "onnxruntime-node")
RUNNER = os.path.join(P.REPO, "scripts", "peer_ort.js")
INT8_STATUS = ("not measured: an int8 ONNX graph is made by onnxruntime.quantization "
               "(quantize_dynamic / quantize_static), which is on PyPI only and cannot be "
               "installed here (Debian has no onnxruntime Python package; the npm package "
               "has no quantization tools)")


def die(msg, code=2):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


# ---- tools ----

def find_node():
    for n in ("node", "nodejs"):
        p = shutil.which(n)
        if p:
            return p
    return None


def find_ort(arg):
    d = os.path.abspath(arg or os.environ.get("ORT_NODE_DIR") or ORT_DIR_DEFAULT)
    if not os.path.isfile(os.path.join(d, "package.json")):
        return None
    return d


# ---- export ----

def export_key(weights_sha, torch):
    h = hashlib.sha256()
    for f in (os.path.join(P.REPO, "scripts", "peerlib.py"), os.path.abspath(__file__)):
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(f"{weights_sha} torch {torch.__version__} opset {OPSET}".encode())
    return h.hexdigest()[:16]


def export(cfg, w, ids, model_dir, workdir, torch):
    """Returns {"prefill": path, "decode": path, "call": path}, exporting what is missing
    (cached by weights, export code and torch version)."""
    wsha = P.sha256_file(os.path.join(model_dir, "model.safetensors"))
    d = os.path.join(workdir, "onnx", export_key(wsha, torch))
    os.makedirs(d, exist_ok=True)
    B, L = ids.shape
    paths = {"prefill": os.path.join(d, f"prefill_b{B}_l{L}.onnx"),
             "decode": os.path.join(d, f"decode_step_b{B}.onnx"),
             "call": os.path.join(d, "call_overhead.onnx")}
    full = P.IteraLite(cfg, w, torch, static=True)
    step = P.IteraLiteStep(cfg, w, torch)

    class Prefill(torch.nn.Module):
        def forward(self, x):
            return full.forward(x)

    class Step(torch.nn.Module):
        def forward(self, x, pos, *state):
            return step.step(x, pos, *state)

    class Call(torch.nn.Module):  # one Cast: the cost of a session.run call itself
        def forward(self, x):
            return x.float()

    import warnings
    nl = cfg["num_layers"]
    snames = [f"{k}_{i}" for i in range(nl) for k in ("conv", "h")]
    jobs = [("prefill", Prefill(), (ids,), ["input_ids"], ["logits"]),
            ("decode", Step(), (ids[:, :1], torch.tensor([0]), *[torch.zeros(s) for s in step.state_shapes(B)]),
             ["input_ids", "position"] + snames, ["logits"] + [s + "_next" for s in snames]),
            ("call", Call(), (ids,), ["input_ids"], ["out"])]
    for kind, mod, args, inames, onames in jobs:
        if os.path.isfile(paths[kind]):
            continue
        log(f"exporting the {kind} graph to {os.path.relpath(paths[kind], P.REPO)} (torch {torch.__version__}, opset {OPSET})")
        tmp = paths[kind] + ".tmp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(mod, args, tmp, input_names=inames, output_names=onames, opset_version=OPSET)
        os.replace(tmp, paths[kind])
    return paths


def onnx_nodes(path):
    """Node count of an ONNX file (protobuf read by hand: field 7 graph, field 1 node)."""
    with open(path, "rb") as f:
        buf = f.read()

    def varint(b, i):
        v = s = 0
        while True:
            c = b[i]
            i += 1
            v |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return v, i

    def fields(b):
        i = 0
        while i < len(b):
            key, i = varint(b, i)
            fn, wt = key >> 3, key & 7
            if wt == 0:
                _, i = varint(b, i)
                yield fn, None
            elif wt == 2:
                n, i = varint(b, i)
                yield fn, b[i:i + n]
                i += n
            elif wt == 1:
                i += 8
                yield fn, None
            elif wt == 5:
                i += 4
                yield fn, None
            else:
                return
    try:
        for fn, v in fields(buf):
            if fn == 7 and v is not None:
                return sum(1 for f2, _ in fields(v) if f2 == 1)
    except IndexError:
        pass
    return -1


# ---- configurations ----

def grid(T, sweep):
    """The sweep for a thread count T: dicts intra, inter, parallel, spin, opt. Intra-op
    threads 1, T/2 and T (all of 1..T up to 2); inter-op 1 and T. sweep "quick": graph opt
    all only; "single": ONNX Runtime's defaults only."""
    if sweep == "single":
        return [dict(intra=T, inter=1, parallel=0, spin=1, opt="all")]
    out = []
    opts = OPT_LEVELS if sweep == "full" else ["all"]
    for opt in opts:
        for spin in (1, 0):
            for intra in sorted({1, max(1, T // 2), T}):
                out.append(dict(intra=intra, inter=1, parallel=0, spin=spin, opt=opt))
                for inter in sorted({1, T}):
                    out.append(dict(intra=intra, inter=inter, parallel=1, spin=spin, opt=opt))
    return out


def sweep_text(a):
    if a.sweep == "single":
        what = ("REDUCED (--sweep single): ONNX Runtime's defaults only (intra-op T, sequential, spinning on, "
                "graph opt all), no sweep")
    else:
        what = ("per thread count T: intra-op 1, T/2, T; sequential, or parallel with inter-op 1 or T; "
                f"spinning on/off; graph opt {', '.join(OPT_LEVELS if a.sweep == 'full' else ['all'])}"
                f"{'' if a.sweep == 'full' else ' (REDUCED: --sweep quick)'}")
    return (f"{what}; {a.sweep_rounds} interleaved rounds of {a.sweep_min_time:g} s per session; best = lowest "
            f"median latency; final: {a.repetitions} interleaved rounds of {a.min_time:g} s of each best; "
            "peak RSS from a fresh process holding that session only")


def cfg_id(c):
    return f"intra{c['intra']}-{'par' if c['parallel'] else 'seq'}{c['inter'] if c['parallel'] else ''}-spin{c['spin']}-{c['opt']}"


def cfg_label(c):
    mode = f"parallel, inter-op {c['inter']}" if c["parallel"] else "sequential"
    return f"intra-op {c['intra']}, {mode}, spinning {'on' if c['spin'] else 'off'}, graph opt {c['opt']}"


def session_options(c):
    s = str(c["spin"])
    return {"executionProviders": ["cpu"], "intraOpNumThreads": c["intra"], "interOpNumThreads": c["inter"],
            "executionMode": "parallel" if c["parallel"] else "sequential",
            "graphOptimizationLevel": c["opt"], "logSeverityLevel": 3,
            "extra": {"session": {"intra_op": {"allow_spinning": s}, "inter_op": {"allow_spinning": s}}}}


# ---- the Node.js side ----

class Runner:
    """One `node scripts/peer_ort.js` process bound to `cpus`."""

    def __init__(self, node, ort_dir, cpus):
        self.cpus = cpus
        try:
            self.p = subprocess.Popen([node, RUNNER, ort_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
        except OSError as e:
            die(f"cannot start {node} {RUNNER}: {e}")

    def req(self, **kw):
        try:
            self.p.stdin.write(json.dumps(kw) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            die(f"{RUNNER} (CPUs {self.cpus}) ended without a reply to '{kw.get('cmd')}' (exit {self.p.poll()})")
        r = json.loads(line)
        if not r.get("ok"):
            raise P.PeerError(f"onnxruntime ({kw.get('cmd')} {kw.get('id', '')}): {r.get('error')}")
        return r

    def close(self):
        try:
            self.req(cmd="quit")
        except (P.PeerError, SystemExit):
            pass
        self.p.wait(timeout=30)


def open_session(r, sid, kind, paths, c, ids, steps, state_shapes, vocab):
    kw = dict(cmd="open", id=sid, kind=kind, path=paths[kind], options=session_options(c), warmup=2)
    if kind == "prefill":
        kw.update(ids=ids.flatten().tolist(), shape=list(ids.shape))
    elif kind == "decode":
        kw.update(ids=ids[0, :steps].tolist(), steps=steps, states=[list(s) for s in state_shapes], vocab=vocab)
    else:  # the call-overhead graph, fed like prefill
        kw.update(kind="prefill", ids=ids.flatten().tolist(), shape=list(ids.shape))
    return r.req(**kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="embedded", help="platform label for the results (default embedded)")
    ap.add_argument("--threads", default=None,
                    help="thread counts, comma-separated (default: 1 and the platform's threads from "
                         "platforms/<p>.ini)")
    ap.add_argument("--cpus", default=None, help="CPUs to run on, comma-separated (default: the first T allowed)")
    ap.add_argument("--emulate", action="store_true", help="allow more threads than CPUs (marked emulated)")
    ap.add_argument("--machine", default=None, help="the machine's name in the fingerprint (default: "
                                                     "ITERA_MACHINE, else derived from the CPU; see itera-bench info)")
    ap.add_argument("--model", default=None, help="FP32 model folder (default: the reference checkpoint "
                                                   "where present, else the built-in synthetic model)")
    ap.add_argument("--steps", type=int, default=64, help="decode steps per iteration (default 64, as the edge profile)")
    ap.add_argument("--no-decode", action="store_true", help="prefill only")
    ap.add_argument("--repetitions", type=int, default=7, help="final interleaved rounds (default 7)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per final repetition (default 0.5)")
    ap.add_argument("--sweep", choices=["full", "quick", "single"], default="full",
                    help="full: every optimisation level; quick: level 'all' only; single: ONNX Runtime's "
                         "defaults only (intra-op T, sequential, spinning on, all) (default full)")
    ap.add_argument("--sweep-rounds", type=int, default=3, help="interleaved sweep rounds (default 3)")
    ap.add_argument("--sweep-min-time", type=float, default=0.05, help="seconds per configuration per sweep round")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed absolute logit error vs FP32 (default 1e-4)")
    ap.add_argument("--ort-dir", default=None, help="onnxruntime-node package folder "
                                                     "(default node_modules/onnxruntime-node, or $ORT_NODE_DIR)")
    ap.add_argument("--workdir", default=None, help="scratch folder and export cache (default build/peer)")
    ap.add_argument("--out", default=None, help="default results/<platform>/peer_ort.json")
    a = ap.parse_args()

    try:
        threads = P.parse_threads(a.threads, a.platform, PROG)
        allowed = P.parse_cpus(a.cpus)
    except P.PeerError as e:
        die(str(e))
    for name, v, lo in (("--repetitions", a.repetitions, 2), ("--sweep-rounds", a.sweep_rounds, 1),
                        ("--steps", a.steps, 1)):
        if v < lo:
            die(f"{name} {v}: expected at least {lo}")
    if a.min_time <= 0 or a.sweep_min_time <= 0 or a.tol <= 0:
        die("--min-time, --sweep-min-time and --tol: expected positive numbers")
    emulated = threads[-1] > len(allowed)
    if emulated and not a.emulate:
        die(f"--threads {threads[-1]}: only {len(allowed)} CPUs ({','.join(map(str, allowed))}) to run on; "
            "pass --emulate (make peer EMULATE=1) to run it anyway, marked emulated")

    # the machine fingerprint first: without it there are no results to write
    try:
        ctx = P.base_context("scripts/peer_ort.py",
                             "n/a (ONNX Runtime through onnxruntime-node, no Google Benchmark)", a.platform, a.machine)
    except P.PeerError as e:
        die(str(e))
    try:
        import torch
    except ImportError:
        die("PyTorch is not installed (it exports the ONNX graph; Debian: apt-get install python3-torch); "
            "no ONNX Runtime results written")
    node = find_node()
    if not node:
        die("Node.js is not installed (it runs onnxruntime-node; install the optional group: "
            "sh scripts/deps.sh ort); no ONNX Runtime results written")
    ort_dir = find_ort(a.ort_dir)
    if not ort_dir:
        die(f"onnxruntime-node not found in {a.ort_dir or ORT_DIR_DEFAULT} (install the optional group: "
            "sh scripts/deps.sh ort); no ONNX Runtime results written")
    torch.set_grad_enabled(False)

    workdir = os.path.abspath(a.workdir or P.default_workdir())
    try:
        choice = P.choose_model(a.model, workdir)
        cfg, w, weight_bytes = P.load_model(choice, torch)
        L = 128
        if L > cfg["max_seq_length"]:
            raise P.PeerError(f"{choice.dir}: max_seq_length {cfg['max_seq_length']} is below the report's L=128")
        if a.steps > cfg["max_seq_length"]:
            raise P.PeerError(f"--steps {a.steps}: more than the model's max_seq_length {cfg['max_seq_length']}")
        ids, ref, inputs_desc = P.load_inputs(choice, cfg, torch, L=L, B=1)
        if a.steps > L:
            raise P.PeerError(f"--steps {a.steps}: more than the {L} prefill tokens the check feeds")
        paths = export(cfg, w, ids, choice.dir, workdir, torch)
    except P.PeerError as e:
        die(str(e))
    log(f"model: {choice.why}: {choice.label}")
    model = P.IteraLite(cfg, w, torch)
    stepm = P.IteraLiteStep(cfg, w, torch)
    V = cfg["vocab_size"]
    kinds = ["prefill"] + ([] if a.no_decode else ["decode"])

    # ---- sessions, one process per thread count ----
    runners = {T: Runner(node, ort_dir, allowed[:T]) for T in threads}
    hello = runners[threads[0]].req(cmd="hello")
    configs = {T: grid(T, a.sweep) for T in threads}
    sess = {}  # (T, kind, cfg_id) -> record
    n_open = sum(len(v) for v in configs.values()) * len(kinds)
    log(f"opening {n_open} sessions (thread counts {threads}; {', '.join(kinds)}; sweep {a.sweep})")
    try:
        for T in threads:
            for c in configs[T]:
                for kind in kinds:
                    sid = f"{kind}/{cfg_id(c)}"
                    r = open_session(runners[T], sid, kind, paths, c, ids, a.steps, stepm.state_shapes(), V)
                    sess[(T, kind, cfg_id(c))] = dict(T=T, kind=kind, cfg=c, sid=sid, create_ms=r["create_ms"],
                                                     times=[], refused=None)
    except P.PeerError as e:
        die(str(e))

    # ---- FP32 check of every session, before any timing ----
    check_dir = os.path.join(workdir, "check")
    os.makedirs(check_dir, exist_ok=True)
    ref_name = f"golden {os.path.basename(choice.golden)}" if choice.golden else "the engine (build/itera verify)"
    pending = []
    for key, s in sess.items():
        f = os.path.join(check_dir, f"{os.getpid()}-t{s['T']}-{s['sid'].replace('/', '-')}")
        runners[s["T"]].req(cmd="logits", id=s["sid"], out=f + ".bin")
        got = torch.from_file(f + ".bin", size=(L if s["kind"] == "prefill" else a.steps) * V, dtype=torch.float32)
        os.unlink(f + ".bin")
        n = L if s["kind"] == "prefill" else a.steps
        got = got.reshape(1, n, V)
        if ref is not None:
            s["err"], s["top1"] = P.compare_logits(got, ref[:, :n])
        else:
            st = f + ".safetensors"
            P.write_safetensors(st, {"input_ids": ("I32", [1, n], ids[:, :n].to(torch.int32).numpy().tobytes()),
                                     "logits": ("F32", [1, n, V], got.numpy().tobytes())})
            pending.append((key, st))
    if pending:
        try:
            res = P.verify_with_engine(choice.dir, [f for _, f in pending], a.tol)
        except P.PeerError as e:
            die(str(e))
        for key, f in pending:
            sess[key]["err"], sess[key]["top1"] = res[f]
            os.unlink(f)
    bad_export = []
    for key, s in sess.items():
        if not (s["err"] <= a.tol):
            s["refused"] = f"max_abs_logit_err {s['err']:.3g} > tol {a.tol:g} vs {ref_name}"
            if s["cfg"]["opt"] == "disabled":
                bad_export.append(f"{s['kind']} threads:{s['T']} {cfg_id(s['cfg'])}: {s['refused']}")
    if bad_export:
        for r in runners.values():
            r.close()
        die("the exported graph does not match FP32 (unoptimised sessions): " + "; ".join(bad_export[:4]) +
            "; refusing to time", 1)
    for T in threads:
        for kind in kinds:
            if all(s["refused"] for s in sess.values() if s["T"] == T and s["kind"] == kind):
                die(f"every {kind} configuration at threads:{T} is outside --tol {a.tol:g} vs {ref_name}; "
                    "refusing to time", 1)
    worst = max(s["err"] for s in sess.values())
    log(f"FP32 check vs {ref_name}: {sum(not s['refused'] for s in sess.values())} of {len(sess)} sessions "
        f"within {a.tol:g} (largest error {worst:.2e})")

    # ---- the sweep: interleaved rounds over every session that passed ----
    order = [k for k, s in sess.items() if not s["refused"]]
    for rnd in range(a.sweep_rounds):
        k0 = (rnd * 7919) % len(order)
        for key in order[k0:] + order[:k0]:
            s = sess[key]
            r = runners[s["T"]].req(cmd="time", id=s["sid"], min_time=a.sweep_min_time, gap_ms=2)
            s["times"].append(r["wall_ns"] / r["iterations"])
        log(f"sweep round {rnd + 1}/{a.sweep_rounds} done")
    best = {}
    for T in threads:
        for kind in kinds:
            cand = [s for s in sess.values() if s["T"] == T and s["kind"] == kind and not s["refused"]]
            best[(T, kind)] = min(cand, key=lambda s: statistics.median(s["times"]))

    # ---- the call overhead (a one-Cast graph) at the best prefill configuration of T=1 ----
    overhead_us = None
    try:
        b1 = best[(threads[0], "prefill")]
        open_session(runners[threads[0]], "call", "call", paths, b1["cfg"], ids, a.steps, [], V)
        r = runners[threads[0]].req(cmd="time", id="call", min_time=0.2, gap_ms=2)
        overhead_us = r["wall_ns"] / r["iterations"] / 1e3
    except P.PeerError as e:
        log(f"call-overhead graph: {e}")

    # ---- final figures: the best configurations, interleaved ----
    finals = {k: [] for k in best}
    for rnd in range(a.repetitions):
        keys = list(best)
        k0 = rnd % len(keys)
        for k in keys[k0:] + keys[:k0]:
            s = best[k]
            r = runners[k[0]].req(cmd="time", id=s["sid"], min_time=a.min_time, gap_ms=5)
            finals[k].append(r)
        log(f"final round {rnd + 1}/{a.repetitions} done")
    for r in runners.values():
        r.close()

    # ---- peak RSS: a fresh process holding only the winning session ----
    rss = {}
    for k, s in best.items():
        r = Runner(node, ort_dir, allowed[:k[0]])
        try:
            open_session(r, "rss", k[1], paths, s["cfg"], ids, a.steps, stepm.state_shapes(), V)
            r.req(cmd="time", id="rss", min_time=0.05)
            rss[k] = r.req(cmd="rss")["max_rss_kb"] / 1024.0
        except P.PeerError as e:
            log(f"peak RSS of {s['sid']}: {e}")
        r.close()

    # ---- results ----
    flops_tok = model.matmul_flops_per_token()
    entries = []
    fi = 0
    summary = []
    for (T, kind), s in sorted(best.items(), key=lambda kv: (kv[0][1] != "prefill", kv[0][0])):
        c = s["cfg"]
        work = 1 if kind == "prefill" else a.steps
        ntok = L if kind == "prefill" else a.steps
        name = (P.bench_name("prefill", quant="fp32", kernel=KERNEL, seq=L, batch=1, threads=T)
                if kind == "prefill" else
                P.bench_name("decode", quant="fp32", kernel=KERNEL, steps=a.steps, batch=1, threads=T))
        reps = []
        for r in finals[(T, kind)]:
            wall = r["wall_ns"] / r["iterations"] / 1e9
            cpu = r["cpu_ns"] / r["iterations"] / 1e9
            reps.append({"iterations": r["iterations"], "real_time": wall * 1e9, "cpu_time": cpu * 1e9,
                         "tokens_per_second": ntok / wall, "latency_ms": wall * 1e3 / work,
                         "gflops": flops_tok * ntok / wall / 1e9, "weight_bytes": float(weight_bytes),
                         "cpu_util": cpu / (wall * T), "peak_rss_mb": rss.get((T, kind), 0.0),
                         "max_abs_logit_err": s["err"], "top1_agreement": s["top1"],
                         "ort_intra_op_threads": c["intra"], "ort_inter_op_threads": c["inter"],
                         "ort_parallel": c["parallel"], "ort_spinning": c["spin"],
                         "ort_graph_opt_level": OPT_LEVELS.index(c["opt"])})
        entries += P.gb_entries(fi, name, reps, label=cfg_label(c))
        fi += 1
        med = statistics.median(x["tokens_per_second"] for x in reps)
        lo, hi = min(x["tokens_per_second"] for x in reps), max(x["tokens_per_second"] for x in reps)
        summary.append(f"{name}: {med:,.0f} tok/s (min {lo:,.0f}, max {hi:,.0f}), {cfg_label(c)}")

    sweep = []
    for s in sess.values():
        e = {"threads": s["T"], "graph": s["kind"], "config": cfg_id(s["cfg"]), "label": cfg_label(s["cfg"]),
             "intra_op_threads": s["cfg"]["intra"], "inter_op_threads": s["cfg"]["inter"],
             "parallel": s["cfg"]["parallel"], "spinning": s["cfg"]["spin"], "graph_opt": s["cfg"]["opt"],
             "session_create_ms": round(s["create_ms"], 1), "max_abs_logit_err": s["err"],
             "top1_agreement": s["top1"], "refused": s["refused"],
             "best": best[(s["T"], s["kind"])] is s}
        if s["times"]:
            work = 1 if s["kind"] == "prefill" else a.steps
            lat = [t / 1e6 / work for t in s["times"]]
            e.update(latency_ms=[round(x, 6) for x in lat], median_latency_ms=statistics.median(lat),
                     min_latency_ms=min(lat), max_latency_ms=max(lat),
                     median_tokens_per_second=(L if s["kind"] == "prefill" else 1) / (statistics.median(lat) / 1e3))
        sweep.append(e)

    ortv = hello.get("onnxruntime_node", "unknown")
    cpus_by_t = "; ".join(f"threads:{T} -> {','.join(map(str, allowed[:T]))}" for T in threads)
    ctx.update({
        "itera_peer_threads": ",".join(map(str, threads)),
        "itera_worker_cpus": ",".join(map(str, allowed[:threads[-1]])),
        "itera_emulated": "true" if emulated else "false",
        "itera_ort_cpus": cpus_by_t,
        "itera_model": choice.label,
        "itera_compiler": f"onnxruntime-node {ortv} (ONNX Runtime {ortv} CPU execution provider), "
                          f"Node.js {hello.get('node')}; graph exported by torch {torch.__version__} "
                          f"torch.onnx.export opset {OPSET}",
        "itera_isa": "ONNX Runtime's own (MLAS kernels chosen at run time from CPUID)",
        "itera_counters": "none (ONNX Runtime peer: wall and process CPU time only)",
        "itera_peer": f"onnxruntime {ortv} CPU, best configuration per thread count of a {len(sess)}-session "
                      f"sweep; inputs: {inputs_desc}",
        "itera_peer_inputs": inputs_desc,
        "itera_ort_export": f"prefill [1, {L}] static ({onnx_nodes(paths['prefill'])} nodes, the scan loop "
                            f"unrolled); decode: one token per run with carried conv and scan state "
                            f"({onnx_nodes(paths['decode'])} nodes), {a.steps} steps per iteration from zero "
                            f"state; MoE experts computed densely, the unchosen gated to 0",
        "itera_ort_check": f"every session's logits vs {ref_name} before timing (prefill: {L} positions; "
                           f"decode: first {a.steps}), tol {a.tol:g}: "
                           f"{sum(not s['refused'] for s in sess.values())} of {len(sess)} within, "
                           f"largest error {worst:.3g}",
        "itera_ort_sweep_grid": sweep_text(a),
        "itera_ort_best": "; ".join(summary),
        "itera_ort_call_overhead_us": f"{overhead_us:.1f}" if overhead_us is not None else "not measured",
        "itera_ort_int8": INT8_STATUS,
    })
    for (T, kind), s in best.items():
        ctx[f"itera_ort_best_{kind}_threads_{T}"] = cfg_label(s["cfg"])
    doc_sweep = {"description": "every ONNX Runtime session of the sweep: thread count (CPUs the process may "
                                "use), graph (prefill or decode), settings, FP32 check, and latency per sweep round "
                                "(ms per forward; per step for decode); best marks the one re-measured in "
                                "'benchmarks'; refused: not timed, outside the FP32 tolerance",
                 "entries": sweep}
    out = a.out or os.path.join(P.REPO, "results", a.platform, "peer_ort.json")
    P.write_results(out, ctx, entries, extra={"itera_ort_sweep": doc_sweep})
    for line in summary:
        print(f"{PROG}: {line}")
    if overhead_us is not None:
        print(f"{PROG}: one session.run of a one-node graph: {overhead_us:.1f} us")
    print(f"{PROG}: int8: {INT8_STATUS}")
    print(f"{PROG}: wrote {out}")


if __name__ == "__main__":
    main()
