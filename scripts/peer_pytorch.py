#!/usr/bin/env python3
"""peer_pytorch.py: the Itera-Lite micro model in PyTorch eager, timed like the engine's
prefill, written as Google Benchmark JSON so `itera-bench report` shows a
"PyTorch (eager)" row beside the engine (quantization and edge tables).

    python3 scripts/peer_pytorch.py [--platform embedded] [--threads T[,T2...]] [--model DIR] [--out FILE] ...
    make peer [PLATFORM=embedded] [PEER_THREADS=1,2] [MODEL=DIR]   (runs this and scripts/peer_ort.py)

Model: --model DIR, else the reference checkpoint (../shared/reference/itera-lite-micro)
where present, else the engine's built-in synthetic model (written out by
`build/itera quantize --quant fp32`); weights read by hand (the `safetensors` package is
not in Debian); the forward pass is the one in the reference folder's README
(scripts/peerlib.py). Inputs: the token ids of the golden file where the model has one,
else seeded ids. The logits are checked against FP32 before timing: the golden file's, or
the engine's (`build/itera verify`); outside --tol nothing is timed (exit 1).
Needs Debian's python3-torch; without it the script says so and exits 2 (the report
renders without the PyTorch row).

Several thread counts (--threads 1,2) are timed in interleaved rounds in one process, the
process bound to the first T allowed CPUs for each. More threads than CPUs is refused
unless --emulate (then marked itera_emulated=true).

Benchmark name: prefill/fp32/pytorch-eager/seq:L/batch:B/threads:T (the kernel part names
the implementation, so `itera-bench compare --variants chunked,pytorch-eager FILE` works
on a file holding both). Counters as the harness writes them: tokens_per_second,
latency_ms, gflops (matmul FLOPs of the model), weight_bytes, cpu_util, peak_rss_mb,
max_abs_logit_err and top1_agreement (against the FP32 reference of the same inputs).
real_time is wall time per forward; cpu_time is process CPU time (all threads) per forward.
"""
import argparse
import os
import platform
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as P  # noqa: E402

PROG = "peer_pytorch"
KERNEL = "pytorch-eager"


def die(msg, code=2):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="embedded", help="platform label for the results (default embedded)")
    ap.add_argument("--threads", default=None,
                    help="torch intra-op threads, one or comma-separated (default: 1 and the platform's "
                         "threads from platforms/<p>.ini)")
    ap.add_argument("--cpus", default=None, help="CPUs to run on, comma-separated (default: the first T allowed)")
    ap.add_argument("--emulate", action="store_true", help="allow more threads than CPUs (marked emulated)")
    ap.add_argument("--machine", default=None, help="the machine's name in the fingerprint (default: "
                                                     "ITERA_MACHINE, else derived from the CPU; see itera-bench info)")
    ap.add_argument("--model", default=None, help="FP32 model folder (default: the reference checkpoint "
                                                   "where present, else the built-in synthetic model)")
    ap.add_argument("--golden", default=None, help="golden inputs/logits (default golden/text_b1_l128.safetensors "
                                                    "of the model folder)")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed absolute logit error (default 1e-4)")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per repetition (default 0.5)")
    ap.add_argument("--workdir", default=None, help="scratch folder (default build/peer)")
    ap.add_argument("--out", default=None, help="default results/<machine>/<platform>/peer_pytorch.json (beside "
                    "it when that file holds another machine's, model's or build's run)")
    a = ap.parse_args()

    try:
        threads = P.parse_threads(a.threads, a.platform, PROG)
        allowed = P.parse_cpus(a.cpus)
    except P.PeerError as e:
        die(str(e))
    if a.repetitions < 2:
        die(f"--repetitions {a.repetitions}: expected at least 2 (the aggregates need two)")
    if a.min_time <= 0 or a.tol <= 0:
        die("--min-time and --tol: expected positive numbers")
    emulated = threads[-1] > len(allowed)
    if emulated and not a.emulate:
        die(f"--threads {threads[-1]}: only {len(allowed)} CPUs ({','.join(map(str, allowed))}) to run on; "
            "pass --emulate (make peer EMULATE=1) to run it anyway, marked emulated")

    # the machine fingerprint and the output path first: without them there are no results to write
    try:
        ctx = P.base_context("scripts/peer_pytorch.py", "n/a (PyTorch eager, no Google Benchmark)", a.platform,
                             a.machine)
        out = a.out or P.default_results_path(ctx, "peer_pytorch")
        P.check_out_path(out)
    except P.PeerError as e:
        die(str(e))
    try:
        import torch
    except ImportError:
        die("PyTorch is not installed (Debian: apt-get install python3-torch); no peer results written")
    torch.set_grad_enabled(False)

    try:
        workdir = os.path.abspath(a.workdir or P.default_workdir())
        choice = P.choose_model(a.model, workdir)
        if a.golden:
            choice.golden = os.path.abspath(a.golden)
        cfg, w, weight_bytes = P.load_model(choice, torch)
        ids, ref, inputs_desc = P.load_inputs(choice, cfg, torch)
    except P.PeerError as e:
        die(str(e))
    B, L = ids.shape
    m = P.IteraLite(cfg, w, torch)

    logits = m.forward(ids)
    if ref is not None:
        err, top1 = P.compare_logits(logits, ref)
        ref_name = f"golden {os.path.basename(choice.golden)}"
    else:
        f = os.path.join(workdir, "check", f"pytorch-{os.getpid()}.safetensors")
        P.write_safetensors(f, {"input_ids": ("I32", [B, L], ids.to(torch.int32).numpy().tobytes()),
                                "logits": ("F32", [B, L, cfg["vocab_size"]], logits.numpy().tobytes())})
        try:
            err, top1 = P.verify_with_engine(choice.dir, [f], a.tol)[f]
        except P.PeerError as e:
            die(str(e))
        os.unlink(f)
        ref_name = "the engine (build/itera verify)"
    if not err <= a.tol:
        die(f"logits differ from {ref_name}: max_abs_logit_err {err:.3g} > tol {a.tol:g}; refusing to time", 1)
    flops = m.matmul_flops_per_token() * B * L

    def bind(T):
        cpus = allowed[:T]
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as e:
            die(f"cannot bind to CPUs {cpus}: {e}")
        torch.set_num_threads(T)

    # Warm-up, most threads first: torch's OpenMP workers are created then, from a thread
    # bound to all the CPUs, and keep that affinity (created under a 1-CPU binding, they
    # would all share that CPU at higher thread counts).
    for T in reversed(threads):
        bind(T)
        for _ in range(2):
            m.forward(ids)
    reps = {T: [] for T in threads}
    for r in range(a.repetitions):
        for T in (threads if r % 2 == 0 else threads[::-1]):
            bind(T)
            m.forward(ids)
            n, t0, c0 = 0, time.perf_counter(), time.process_time()
            while True:
                m.forward(ids)
                n += 1
                el = time.perf_counter() - t0
                if el >= a.min_time:
                    break
            cpu = time.process_time() - c0
            reps[T].append((n, el / n, cpu / n, cpu / (el * T)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    entries = []
    for fi, T in enumerate(threads):
        name = P.bench_name("prefill", quant="fp32", kernel=KERNEL, seq=L, batch=B, threads=T)
        rows = [{"iterations": n, "real_time": wall * 1e9, "cpu_time": cpu * 1e9, "cpu_util": util,
                 "gflops": flops / wall / 1e9, "latency_ms": wall * 1e3, "max_abs_logit_err": err,
                 "peak_rss_mb": rss_mb, "tokens_per_second": B * L / wall, "top1_agreement": top1,
                 "weight_bytes": float(weight_bytes)} for n, wall, cpu, util in reps[T]]
        entries += P.gb_entries(fi, name, rows)

    isa = (f"torch {torch.backends.cpu.get_cpu_capability()}" if hasattr(torch.backends, "cpu")
           and hasattr(torch.backends.cpu, "get_cpu_capability") else "torch default")
    ctx.update({
        "itera_peer_threads": ",".join(map(str, threads)),
        "itera_worker_cpus": ",".join(str(c) for c in allowed[:threads[-1]]),
        "itera_emulated": "true" if emulated else "false",
        "itera_model": choice.label,
        "itera_compiler": f"python {platform.python_version()}, torch {torch.__version__}",
        "itera_isa": isa,
        "itera_counters": "none (PyTorch peer: wall and process CPU time only)",
        "itera_peer": f"pytorch {torch.__version__} eager, {'/'.join(map(str, threads))} intra-op threads; "
                      f"inputs {inputs_desc}; logits vs {ref_name}",
        "itera_peer_inputs": inputs_desc,
    })
    try:
        if not a.out:  # the store's rule (bench/rstore.h): never over another run's file
            out, why = P.place_results(out, ctx)
            if why:
                print(f"{PROG}: {P.default_results_path(ctx, 'peer_pytorch')} holds another run ({why}): it is kept, "
                      f"and this run writes {out} beside it", file=sys.stderr)
        P.write_results(out, ctx, entries)
    except P.PeerError as e:
        die(str(e))
    for T in threads:
        lat = sorted(r[1] for r in reps[T])[len(reps[T]) // 2] * 1e3
        name = P.bench_name("prefill", quant="fp32", kernel=KERNEL, seq=L, batch=B, threads=T)
        print(f"{PROG}: {name}: {lat:.3f} ms per forward (median), "
              f"{B * L / (lat / 1e3):.0f} tok/s{' (emulated)' if T > len(allowed) else ''}")
    print(f"{PROG}: max_abs_logit_err={err:.2e} top1_agree={top1:.4f} vs {ref_name}")
    print(f"{PROG}: wrote {out}")


if __name__ == "__main__":
    main()
