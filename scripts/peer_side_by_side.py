#!/usr/bin/env python3
"""peer_side_by_side.py: the engine, ONNX Runtime and PyTorch eager on one prefill shape
(B=1, L=128, FP32), in interleaved rounds on this machine: the A/B behind "how much faster
than what I would otherwise ship".

    flock /work/bench.lock python3 scripts/peer_side_by_side.py [--threads 1,2] [--rounds 5] ...

Each round times every (implementation, thread count) once, in a rotating order:
- engine: `build/itera perplexity --model DIR --text TEXT --seq 128 --batch 1 --threads T`
  (its tokens_per_second: window tokens per second of the forward passes alone), the
  process bound to the first T CPUs;
- ONNX Runtime: the best FP32 prefill configuration per thread count from the ONNX Runtime
  peer's results (--ort-results, written by `make peer`; its ort_* counters), else ONNX
  Runtime's defaults (said so), one session per T in a Node.js process bound to T CPUs,
  timed for --min-time seconds;
- PyTorch eager: the peers' forward pass in this process, bound to T CPUs, --min-time seconds.
ONNX Runtime and PyTorch run the golden file's token ids (or the synthetic model's seeded
ids); the engine runs the text's consecutive 128-token windows (the cost does not depend
on the tokens beyond the MoE routing). Prints medians with min-max over the rounds and the
engine's speed-up over each peer (ratio of medians); --out writes the same as JSON.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as P  # noqa: E402
import peer_ort as O  # noqa: E402

PROG = "peer_side_by_side"


def die(msg, code=2):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def ort_best(path, T):
    """The winning FP32 prefill settings at T from a peer_ort results file, or None."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    for e in d.get("benchmarks", []):
        if (e.get("run_type") == "iteration" and e.get("name", "").startswith("prefill/fp32/onnxruntime/")
                and e["name"].endswith(f"/threads:{T}")):
            return dict(intra=int(e["ort_intra_op_threads"]), inter=int(e["ort_inter_op_threads"]),
                        parallel=int(e["ort_parallel"]), spin=int(e["ort_spinning"]),
                        opt=O.OPT_LEVELS[int(e["ort_graph_opt_level"])])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per ONNX Runtime / PyTorch measurement")
    ap.add_argument("--model", default=None, help="FP32 model folder (default: the reference checkpoint, "
                                                   "else the synthetic model)")
    ap.add_argument("--text", default=None, help="text for the engine's perplexity run "
                                                  "(default: tinystories.txt of the reference folder)")
    ap.add_argument("--ort-results", default=None,
                    help="the ONNX Runtime peer's results, for its best settings (default "
                         "results/<this machine>/embedded/peer_ort.json)")
    ap.add_argument("--ort-dir", default=None, help="onnxruntime-node package folder")
    ap.add_argument("--out", default=None, help="also write the figures as JSON here")
    a = ap.parse_args()
    try:
        threads = P.parse_threads(a.threads, "embedded", PROG)
    except P.PeerError as e:
        die(str(e))
    if a.rounds < 2 or a.min_time <= 0:
        die("--rounds: expected at least 2; --min-time: expected a positive number")
    if a.ort_results is None:  # this machine's file in the results store (bench/rstore.h)
        try:
            a.ort_results = P.default_results_path(dict(P.machine_fingerprint(), itera_platform="embedded"),
                                                   "peer_ort")
        except P.PeerError as e:
            die(str(e))
    allowed = sorted(os.sched_getaffinity(0))
    if threads[-1] > len(allowed):
        die(f"--threads {threads[-1]}: only {len(allowed)} CPUs to run on")
    try:
        import torch
    except ImportError:
        die("PyTorch is not installed (Debian: python3-torch)")
    node, ort_dir = O.find_node(), O.find_ort(a.ort_dir)
    if not node or not ort_dir:
        die("Node.js or onnxruntime-node is missing (optional deps group ort: sh scripts/deps.sh ort)")
    torch.set_grad_enabled(False)
    workdir = P.default_workdir()
    try:
        fp = P.machine_fingerprint()
        choice = P.choose_model(a.model, workdir)
        cfg, w, _ = P.load_model(choice, torch)
        ids, ref, inputs_desc = P.load_inputs(choice, cfg, torch)
        q8 = P.quantize_int8(cfg, w, torch)
        paths = O.export(cfg, w, q8, ids, choice.dir, workdir, torch)
    except P.PeerError as e:
        die(str(e))
    text = a.text or os.path.join(P.REFERENCE, "tinystories.txt")
    if not os.path.isfile(text):
        die(f"{text}: not found (--text: a text for the engine's perplexity run)")
    exe = P.itera_bin()
    if not os.access(exe, os.X_OK):
        die(f"{exe}: not built (run: make build)")

    model = P.IteraLite(cfg, w, torch)
    step = P.IteraLiteStep(cfg, w, torch)
    runners, ort_cfg = {}, {}
    for T in threads:
        c = ort_best(a.ort_results, T)
        ort_cfg[T] = (c, "best of the sweep in " + a.ort_results) if c else \
            (dict(intra=T, inter=1, parallel=0, spin=1, opt="all"), "ONNX Runtime's defaults (no sweep results)")
        runners[T] = O.Runner(node, ort_dir, allowed[:T])
        try:
            O.open_session(runners[T], "p", "prefill_fp32", paths, ort_cfg[T][0], ids, 1, step.state_shapes(),
                           cfg["vocab_size"])
        except P.PeerError as e:
            die(str(e))

    def bind(T):
        os.sched_setaffinity(0, allowed[:T])
        torch.set_num_threads(T)

    for T in reversed(threads):  # torch's OpenMP workers created under the full binding
        bind(T)
        for _ in range(2):
            model.forward(ids)

    B, L = ids.shape

    def run_engine(T):
        cmd = [exe, "perplexity", "--model", choice.dir, "--text", text, "--seq", str(L), "--batch", "1",
               "--threads", str(T)]
        r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, allowed[:T]))
        m = re.search(r"tokens_per_second=([0-9.]+)", r.stdout)
        if r.returncode != 0 or not m:
            die(f"{' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()}")
        return float(m.group(1))

    def run_ort(T):
        r = runners[T].req(cmd="time", id="p", min_time=a.min_time, gap_ms=5)
        return B * L * r["iterations"] / (r["wall_ns"] / 1e9)

    def run_torch(T):
        bind(T)
        model.forward(ids)
        n, t0 = 0, time.perf_counter()
        while True:
            model.forward(ids)
            n += 1
            el = time.perf_counter() - t0
            if el >= a.min_time:
                break
        return B * L * n / el

    impls = [("engine", run_engine), ("onnxruntime", run_ort), ("pytorch-eager", run_torch)]
    cells = [(name, fn, T) for name, fn in impls for T in threads]
    got = {(name, T): [] for name, _, T in cells}
    load0 = os.getloadavg()
    for rnd in range(a.rounds):
        k = rnd % len(cells)
        for name, fn, T in cells[k:] + cells[:k]:
            got[(name, T)].append(fn(T))
        print(f"{PROG}: round {rnd + 1}/{a.rounds} done", file=sys.stderr, flush=True)
    load1 = os.getloadavg()
    for r in runners.values():
        r.close()

    med = {k: statistics.median(v) for k, v in got.items()}
    rows = []
    print(f"machine {fp.get('itera_machine')} ({fp.get('itera_machine_cpu_model')}); model {choice.label}; "
          f"B=1 L={L} FP32; {a.rounds} interleaved rounds; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print("| implementation | threads | tok/s (median) | min-max | engine speed-up |")
    print("| --- | ---: | ---: | --- | ---: |")
    for name, _ in impls:
        for T in threads:
            v = got[(name, T)]
            ratio = med[("engine", T)] / med[(name, T)]
            rows.append({"implementation": name, "threads": T, "tokens_per_second": v, "median": med[(name, T)],
                         "min": min(v), "max": max(v), "engine_speedup": ratio})
            print(f"| {name} | {T} | {med[(name, T)]:,.0f} | {min(v):,.0f}-{max(v):,.0f} | "
                  f"{'-' if name == 'engine' else f'{ratio:.1f}x'} |")
    for T in threads:
        print(f"onnxruntime threads:{T}: {O.cfg_label(ort_cfg[T][0])} ({ort_cfg[T][1]})")
    if a.out:
        P.atomic_write(a.out, json.dumps({
            "machine": fp, "model": choice.label, "inputs": inputs_desc, "engine_text": text,
            "rounds": a.rounds, "min_time": a.min_time, "load_average_before_after": [load0[0], load1[0]],
            "onnxruntime_settings": {str(T): {"settings": O.cfg_label(c), "from": why} for T, (c, why) in ort_cfg.items()},
            "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
