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
   the unchosen ones gated to 0 (a static graph cannot skip them). And both again in int8
   (unless --no-int8): dynamic quantization as onnxruntime.quantization.quantize_dynamic
   writes it (DynamicQuantizeLinear + MatMulInteger per matrix product: int8 weights with
   one scale per output column, uint8 activations quantized per tensor at run time; the
   embedding table int8 with a scale per row, shared by the tied head), exported through
   custom torch.onnx symbolics because onnxruntime.quantization itself is on PyPI only.
   The matrix products quantized are the ones the engine's int8 quantizes.
3. Sessions through onnxruntime-node (`node scripts/peer_ort.js`), one Node.js process per
   thread count T, bound to T CPUs (more threads than CPUs only with --emulate, marked so).
   The sweep per T: intra-op threads 1, T/2, T; sequential, or parallel with inter-op
   threads 1 or T; spinning on/off; graph optimisation disabled, basic, extended, all.
4. FP32 check before any timing: every configuration's logits (prefill: all 128
   positions; decode: the first --steps positions, fed one token at a time) against the
   golden file where the model has one, else against the engine (`build/itera verify`).
   A configuration outside --tol is not timed (recorded as refused); if the unoptimised
   graph itself is outside it, the export is wrong and nothing is timed (exit 1). int8
   graphs: their error against FP32 is recorded (as the engine's int8 cells record it);
   one whose top-1 agreement is below --int8-min-top1 is not timed. The sweep of the int8
   graphs is graph opt 'all' only (the level that fuses the int8 kernels).
5. Sweep: --sweep-rounds interleaved rounds of --sweep-min-time seconds per configuration
   (all thread counts, both graphs, in one rotating order); the best per (T, graph) is the
   lowest median latency. Then the final figures: --repetitions interleaved rounds of
   --min-time seconds of each best configuration (re-measured, so the pick's luck in the
   sweep does not inflate it), and its peak RSS in a fresh process holding that session only.

Benchmark names: prefill/Q/onnxruntime/seq:128/batch:1/threads:T and
decode/Q/onnxruntime/steps:S/batch:1/threads:T, Q fp32 or int8 (T = CPUs the process may use; the
configuration that won is in the entry's label and its ort_* counters). Counters as the
harness writes them: tokens_per_second, latency_ms (per forward; per step for decode),
gflops (the model's matmul FLOPs, top-k experts, as the engine counts them), weight_bytes
(the initializers of the ONNX graph: what the session loads), cpu_util, peak_rss_mb, max_abs_logit_err, top1_agreement; plus ort_intra_op_threads,
ort_inter_op_threads, ort_parallel (0/1), ort_spinning (0/1), ort_graph_opt_level (0..3).
The whole sweep is the top-level "itera_ort_sweep" object (Google Benchmark's readers
ignore extra top-level keys). real_time is wall time per iteration (one forward; S steps
for decode); cpu_time is process CPU time (all threads) per iteration.

Exit status: 0 written; 1 the FP32 check failed (FP32 graphs); 2 bad usage or a missing tool
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
INT8_HOW = ("dynamic quantization as onnxruntime.quantization.quantize_dynamic writes it "
            "(DynamicQuantizeLinear + MatMulInteger per matrix product; int8 weights, one scale per output "
            "column; uint8 activations, one scale per tensor per run; embedding int8 with a scale per row, "
            "shared by the tied head), written by custom torch.onnx symbolics: onnxruntime.quantization "
            "itself is on PyPI only and cannot be installed here; static (calibrated) quantization not measured")
GRAPHS = [("prefill", "fp32"), ("decode", "fp32"), ("prefill", "int8"), ("decode", "int8")]


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


def export(cfg, w, q8, ids, model_dir, workdir, torch):
    """Returns {"prefill_fp32": path, "decode_fp32", "prefill_int8", "decode_int8", "call"},
    exporting what is missing (cached by weights, export code and torch version)."""
    wsha = P.sha256_file(os.path.join(model_dir, "model.safetensors"))
    d = os.path.join(workdir, "onnx", export_key(wsha, torch))
    os.makedirs(d, exist_ok=True)
    B, L = ids.shape
    paths = {"call": os.path.join(d, "call_overhead.onnx")}
    for kind, quant in GRAPHS:
        paths[f"{kind}_{quant}"] = os.path.join(d, f"prefill_{quant}_b{B}_l{L}.onnx" if kind == "prefill"
                                                else f"decode_step_{quant}_b{B}.onnx")

    class Prefill(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m.forward(x)

    class Step(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, pos, *state):
            return self.m.step(x, pos, *state)

    class Call(torch.nn.Module):  # one Cast: the cost of a session.run call itself
        def forward(self, x):
            return x.float()

    import warnings
    nl = cfg["num_layers"]
    snames = [f"{k}_{i}" for i in range(nl) for k in ("conv", "h")]
    shapes = P.IteraLiteStep(cfg, w, torch).state_shapes(B)
    step_args = (ids[:, :1], torch.tensor([0]), *[torch.zeros(s) for s in shapes])
    jobs = [("call", Call(), (ids,), ["input_ids"], ["out"])]
    for quant, q in (("fp32", None), ("int8", q8)):
        jobs.append((f"prefill_{quant}", Prefill(P.IteraLite(cfg, w, torch, static=True, int8=q)), (ids,),
                     ["input_ids"], ["logits"]))
        jobs.append((f"decode_{quant}", Step(P.IteraLiteStep(cfg, w, torch, int8=q)), step_args,
                     ["input_ids", "position"] + snames, ["logits"] + [s + "_next" for s in snames]))
    for key, mod, args, inames, onames in jobs:
        if os.path.isfile(paths[key]):
            continue
        log(f"exporting {key} to {os.path.relpath(paths[key], P.REPO)} (torch {torch.__version__}, opset {OPSET})")
        tmp = paths[key] + ".tmp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(mod, args, tmp, input_names=inames, output_names=onames, opset_version=OPSET)
        os.replace(tmp, paths[key])
    prune_exports(os.path.dirname(d), d)
    return paths


def prune_exports(root, current, keep=4):
    """Keeps the `keep` most recently used export folders under root (current first)."""
    import time
    os.utime(current, (time.time(), time.time()))
    dirs = sorted((os.path.join(root, n) for n in os.listdir(root)), key=os.path.getmtime, reverse=True)
    for old in [x for x in dirs if os.path.isdir(x) and x != current][keep - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def onnx_stats(path):
    """(operator nodes other than Constant, bytes of the constant tensors: initializers and
    Constant nodes' values, {op_type: count}) of an ONNX file, read with a minimal protobuf
    walk (ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5; NodeProto.op_type = 4,
    .attribute = 5; AttributeProto.t = 5; TensorProto data fields 4-10, 13)."""
    with open(path, "rb") as f:
        buf = f.read()

    def varint(b, i):
        v = sh = 0
        while True:
            c = b[i]
            i += 1
            v |= (c & 0x7F) << sh
            sh += 7
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
                raise ValueError(f"{path}: wire type {wt}")

    def tensor_bytes(t):
        return sum(len(v) for f, v in fields(t) if f in (4, 5, 6, 7, 9, 10, 13) and v is not None)

    nbytes, ops = 0, {}
    try:
        for fn, g in fields(buf):
            if fn != 7 or g is None:
                continue
            for f2, v in fields(g):
                if f2 == 1 and v is not None:
                    op, consts = "", 0
                    for f3, t in fields(v):
                        if f3 == 4 and t is not None:
                            op = t.decode()
                        elif f3 == 5 and t is not None:
                            consts += sum(tensor_bytes(x) for f4, x in fields(t) if f4 == 5 and x is not None)
                    ops[op] = ops.get(op, 0) + 1
                    if op == "Constant":
                        nbytes += consts
                elif f2 == 5 and v is not None:
                    nbytes += tensor_bytes(v)
    except (IndexError, ValueError, UnicodeDecodeError):
        return -1, -1, {}
    return sum(n for op, n in ops.items() if op != "Constant"), nbytes, ops


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


def open_session(r, sid, graph, paths, c, ids, steps, state_shapes, vocab, extra_options=None):
    """graph: a key of paths ("prefill_fp32", "decode_int8", ... or "call", fed like prefill)."""
    opts = session_options(c)
    opts.update(extra_options or {})
    kw = dict(cmd="open", id=sid, path=paths[graph], options=opts, warmup=2)
    if graph.startswith("decode"):
        kw.update(kind="decode", ids=ids[0, :steps].tolist(), steps=steps, states=[list(s) for s in state_shapes],
                  vocab=vocab)
    else:
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
    ap.add_argument("--no-int8", action="store_true", help="FP32 graphs only")
    ap.add_argument("--int8-min-top1", type=float, default=0.5,
                    help="int8 graphs with a lower top-1 agreement with FP32 are not timed: a floor against a "
                         "broken graph, not a quality bar (default 0.5)")
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
    ap.add_argument("--out", default=None, help="default results/<machine>/<platform>/peer_ort.json (beside "
                    "it when that file holds another machine's, model's or build's run)")
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

    # the machine fingerprint and the output path first: without them there are no results to write
    try:
        ctx = P.base_context("scripts/peer_ort.py",
                             "n/a (ONNX Runtime through onnxruntime-node, no Google Benchmark)", a.platform, a.machine)
        out = a.out or P.default_results_path(ctx, "peer_ort")
        P.check_out_path(out)
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
        q8 = P.quantize_int8(cfg, w, torch)
        paths = export(cfg, w, q8, ids, choice.dir, workdir, torch)
    except P.PeerError as e:
        die(str(e))
    log(f"model: {choice.why}: {choice.label}")
    model = P.IteraLite(cfg, w, torch)
    stepm = P.IteraLiteStep(cfg, w, torch)
    V = cfg["vocab_size"]
    graphs = [f"{k}_{q}" for k, q in GRAPHS if not (a.no_decode and k == "decode") and not (a.no_int8 and q == "int8")]
    kind_of = {g: g.split("_")[0] for g in graphs}
    quant_of = {g: g.split("_")[1] for g in graphs}
    stats = {g: onnx_stats(paths[g]) for g in graphs}

    # the int8 graphs' own arithmetic in PyTorch (same quantization), to tell export errors from int8 error
    statement = {}
    if not a.no_int8:
        statement["prefill_int8"] = P.IteraLite(cfg, w, torch, static=True, int8=q8).forward(ids)
        if not a.no_decode:
            st8 = P.IteraLiteStep(cfg, w, torch, int8=q8)
            state = [torch.zeros(x) for x in st8.state_shapes()]
            outs = []
            for l in range(a.steps):
                r = st8.step(ids[:, l:l + 1], torch.tensor([l]), *state)
                outs.append(r[0])
                state = list(r[1:])
            statement["decode_int8"] = torch.stack(outs, 1)

    # ---- sessions, one process per thread count ----
    runners = {T: Runner(node, ort_dir, allowed[:T]) for T in threads}
    hello = runners[threads[0]].req(cmd="hello")
    int8_sweep = "quick" if a.sweep == "full" else a.sweep
    configs = {(T, g): grid(T, a.sweep if quant_of[g] == "fp32" else int8_sweep) for T in threads for g in graphs}
    sess = {}  # (T, graph, cfg_id) -> record
    log(f"opening {sum(len(v) for v in configs.values())} sessions (thread counts {threads}; "
        f"{', '.join(graphs)}; sweep {a.sweep})")
    try:
        for (T, g), cs in configs.items():
            for c in cs:
                sid = f"{g}/{cfg_id(c)}"
                r = open_session(runners[T], sid, g, paths, c, ids, a.steps, stepm.state_shapes(), V)
                sess[(T, g, cfg_id(c))] = dict(T=T, graph=g, kind=kind_of[g], quant=quant_of[g], cfg=c, sid=sid,
                                               create_ms=r["create_ms"], times=[], refused=None, vs_statement=None)
    except P.PeerError as e:
        die(str(e))

    # ---- the check of every session against FP32, before any timing ----
    check_dir = os.path.join(workdir, "check")
    os.makedirs(check_dir, exist_ok=True)
    ref_name = f"golden {os.path.basename(choice.golden)}" if choice.golden else "the engine (build/itera verify)"
    pending = []
    for key, s in sess.items():
        f = os.path.join(check_dir, f"{os.getpid()}-t{s['T']}-{s['sid'].replace('/', '-')}")
        runners[s["T"]].req(cmd="logits", id=s["sid"], out=f + ".bin")
        n = L if s["kind"] == "prefill" else a.steps
        got = torch.from_file(f + ".bin", size=n * V, dtype=torch.float32).reshape(1, n, V).clone()
        os.unlink(f + ".bin")
        if s["graph"] in statement:
            s["vs_statement"] = P.compare_logits(got, statement[s["graph"]])[0]
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
        if s["quant"] == "fp32" and not (s["err"] <= a.tol):
            s["refused"] = f"max_abs_logit_err {s['err']:.3g} > tol {a.tol:g} vs {ref_name}"
            if s["cfg"]["opt"] == "disabled":
                bad_export.append(f"{s['graph']} threads:{s['T']} {cfg_id(s['cfg'])}: {s['refused']}")
        elif s["quant"] == "int8" and not (s["top1"] >= a.int8_min_top1):
            s["refused"] = f"top1_agreement {s['top1']:.4f} < --int8-min-top1 {a.int8_min_top1:g} vs {ref_name}"
    if bad_export:
        for r in runners.values():
            r.close()
        die("the exported graph does not match FP32 (unoptimised sessions): " + "; ".join(bad_export[:4]) +
            "; refusing to time", 1)
    dropped = []
    for T in threads:
        for g in graphs:
            if all(s["refused"] for s in sess.values() if s["T"] == T and s["graph"] == g):
                if quant_of[g] == "fp32":
                    die(f"every {g} configuration at threads:{T} is outside --tol {a.tol:g} vs {ref_name}; "
                        "refusing to time", 1)
                dropped.append((T, g))
                log(f"{g} at threads:{T}: every configuration refused ({next(iter(s['refused'] for s in sess.values() if s['T'] == T and s['graph'] == g))}); not timed")
    fp = [s for s in sess.values() if s["quant"] == "fp32"]
    worst = max(s["err"] for s in fp)
    log(f"FP32 check vs {ref_name}: {sum(not s['refused'] for s in fp)} of {len(fp)} FP32 sessions "
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
        for g in graphs:
            cand = [s for s in sess.values() if s["T"] == T and s["graph"] == g and not s["refused"]]
            if cand:
                best[(T, g)] = min(cand, key=lambda s: statistics.median(s["times"]))

    # ---- the call overhead (a one-Cast graph) at the best prefill configuration of T=1 ----
    overhead_us = None
    try:
        b1 = best[(threads[0], "prefill_fp32")]
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

    # ---- peak RSS: a fresh process holding only the winning session (int8 prefill: and
    #      the graph ONNX Runtime optimised it into, to show which kernels ran) ----
    rss, fused = {}, {}
    for k, s in best.items():
        r = Runner(node, ort_dir, allowed[:k[0]])
        extra = None
        if k[1] == "prefill_int8" and k[0] == threads[0]:
            extra = {"optimizedModelFilePath": os.path.join(check_dir, f"{os.getpid()}-optimized-int8.onnx")}
        try:
            open_session(r, "rss", k[1], paths, s["cfg"], ids, a.steps, stepm.state_shapes(), V, extra)
            r.req(cmd="time", id="rss", min_time=0.05)
            rss[k] = r.req(cmd="rss")["max_rss_kb"] / 1024.0
        except P.PeerError as e:
            log(f"peak RSS of {s['sid']}: {e}")
        r.close()
        if extra and os.path.isfile(extra["optimizedModelFilePath"]):
            fused = onnx_stats(extra["optimizedModelFilePath"])[2]
            os.unlink(extra["optimizedModelFilePath"])

    # ---- results ----
    flops_tok = model.matmul_flops_per_token()
    entries = []
    summary = []
    for fi, ((T, g), s) in enumerate(sorted(best.items(), key=lambda kv: (graphs.index(kv[0][1]), kv[0][0]))):
        c = s["cfg"]
        kind, quant = kind_of[g], quant_of[g]
        work = 1 if kind == "prefill" else a.steps
        ntok = L if kind == "prefill" else a.steps
        name = (P.bench_name("prefill", quant=quant, kernel=KERNEL, seq=L, batch=1, threads=T)
                if kind == "prefill" else
                P.bench_name("decode", quant=quant, kernel=KERNEL, steps=a.steps, batch=1, threads=T))
        reps = []
        for r in finals[(T, g)]:
            wall = r["wall_ns"] / r["iterations"] / 1e9
            cpu = r["cpu_ns"] / r["iterations"] / 1e9
            reps.append({"iterations": r["iterations"], "real_time": wall * 1e9, "cpu_time": cpu * 1e9,
                         "tokens_per_second": ntok / wall, "latency_ms": wall * 1e3 / work,
                         "gflops": flops_tok * ntok / wall / 1e9, "weight_bytes": float(stats[g][1]),
                         "cpu_util": cpu / (wall * T), "peak_rss_mb": rss.get((T, g), 0.0),
                         "max_abs_logit_err": s["err"], "top1_agreement": s["top1"],
                         "ort_intra_op_threads": c["intra"], "ort_inter_op_threads": c["inter"],
                         "ort_parallel": c["parallel"], "ort_spinning": c["spin"],
                         "ort_graph_opt_level": OPT_LEVELS.index(c["opt"])})
        entries += P.gb_entries(fi, name, reps, label=cfg_label(c))
        med = statistics.median(x["tokens_per_second"] for x in reps)
        lo, hi = min(x["tokens_per_second"] for x in reps), max(x["tokens_per_second"] for x in reps)
        summary.append(f"{name}: {med:,.0f} tok/s (min {lo:,.0f}, max {hi:,.0f}), {cfg_label(c)}")

    sweep = []
    for s in sess.values():
        e = {"threads": s["T"], "graph": s["kind"], "quant": s["quant"], "config": cfg_id(s["cfg"]),
             "label": cfg_label(s["cfg"]), "intra_op_threads": s["cfg"]["intra"],
             "inter_op_threads": s["cfg"]["inter"], "parallel": s["cfg"]["parallel"], "spinning": s["cfg"]["spin"],
             "graph_opt": s["cfg"]["opt"], "session_create_ms": round(s["create_ms"], 1),
             "max_abs_logit_err": s["err"], "top1_agreement": s["top1"], "refused": s["refused"],
             "best": best.get((s["T"], s["graph"])) is s}
        if s["vs_statement"] is not None:
            e["max_abs_err_vs_int8_statement"] = s["vs_statement"]
        if s["times"]:
            work = 1 if s["kind"] == "prefill" else a.steps
            lat = [t / 1e6 / work for t in s["times"]]
            e.update(latency_ms=[round(x, 6) for x in lat], median_latency_ms=statistics.median(lat),
                     min_latency_ms=min(lat), max_latency_ms=max(lat),
                     median_tokens_per_second=(L if s["kind"] == "prefill" else 1) / (statistics.median(lat) / 1e3))
        sweep.append(e)

    if a.no_int8:
        int8_status = "not measured: --no-int8"
    else:
        i8 = [s for s in sess.values() if s["quant"] == "int8"]
        kern = ", ".join(f"{n} {op}" for op, n in sorted(fused.items()) if "Integer" in op or "Quant" in op)
        int8_status = (f"measured: {INT8_HOW}; vs FP32 ({ref_name}): top-1 agreement "
                       f"{min(s['top1'] for s in i8):.4f}-{max(s['top1'] for s in i8):.4f}, max abs logit error "
                       f"up to {max(s['err'] for s in i8):.3g}; vs the same arithmetic in PyTorch: up to "
                       f"{max(s['vs_statement'] for s in i8):.3g}; int8 ops in the graph ONNX Runtime optimised "
                       f"the prefill into: {kern or 'not recorded'}")
        if dropped:
            int8_status += "; NOT TIMED (every configuration refused): " + ", ".join(
                f"{g} threads:{T}" for T, g in dropped)

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
        "itera_ort_export": "; ".join(
            f"{g}: {stats[g][0]} operator nodes, {stats[g][1]} bytes of constants (weight_bytes)"
            for g in graphs) +
            f". Prefill [1, {L}] static, the scan loop unrolled; decode: one token per run with carried conv and "
            f"scan state, {a.steps} steps per iteration from zero state; MoE experts computed densely, the "
            "unchosen gated to 0",
        "itera_ort_check": f"every session's logits vs {ref_name} before timing (prefill: {L} positions; "
                           f"decode: first {a.steps}); FP32 tol {a.tol:g}: "
                           f"{sum(not s['refused'] for s in fp)} of {len(fp)} FP32 sessions within, "
                           f"largest error {worst:.3g}; int8: timed only with top-1 agreement >= {a.int8_min_top1:g}",
        "itera_ort_sweep_grid": sweep_text(a) + ("" if a.no_int8 else
                                                 f"; int8 graphs: {int8_sweep} sweep (graph opt all only)"),
        "itera_ort_best": "; ".join(summary),
        "itera_ort_call_overhead_us": f"{overhead_us:.1f}" if overhead_us is not None else "not measured",
        "itera_ort_int8": int8_status,
    })
    for (T, g), s in best.items():
        ctx[f"itera_ort_best_{g}_threads_{T}"] = cfg_label(s["cfg"])
    doc_sweep = {"description": "every ONNX Runtime session of the sweep: thread count (CPUs the process may "
                                "use), graph (prefill or decode) and quant (fp32 or int8), settings, the check "
                                "against FP32, and latency per sweep round (ms per forward; per step for decode); "
                                "best marks the one re-measured in 'benchmarks'; refused: not timed (FP32 outside "
                                "the tolerance, or int8 below the top-1 floor)",
                 "entries": sweep}
    try:
        if not a.out:  # the store's rule (bench/rstore.h): never over another run's file
            out, why = P.place_results(out, ctx)
            if why:
                print(f"{PROG}: {P.default_results_path(ctx, 'peer_ort')} holds another run ({why}): it is kept, "
                      f"and this run writes {out} beside it", file=sys.stderr)
        P.write_results(out, ctx, entries, extra={"itera_ort_sweep": doc_sweep})
    except P.PeerError as e:
        die(str(e))
    for line in summary:
        print(f"{PROG}: {line}")
    if overhead_us is not None:
        print(f"{PROG}: one session.run of a one-node graph: {overhead_us:.1f} us")
    print(f"{PROG}: int8: {int8_status}")
    print(f"{PROG}: wrote {out}")


if __name__ == "__main__":
    main()
