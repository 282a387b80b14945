#!/usr/bin/env python3
"""Writes the hand-made result files under tests/data/ used by test_report and test_compare.

They are NOT real runs: small Google Benchmark 1.7.1-shaped JSON files (context object,
benchmarks array of iteration runs and mean/median/stddev/cv aggregates, user counters as
extra keys) with round numbers chosen so the tests can assert exact table cells.
Run from the repository root:  python3 tests/data/make_fixtures.py
"""
import json
import math
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))


# A machine fingerprint (bench/machine.h keys): compare refuses files without one, and the
# report groups files by it. Made up, not this machine's.
FIXTURE_MACHINE = {
    "itera_machine": "fixture-2c", "itera_machine_name_source": "cpu",
    "itera_machine_id": "0" * 64, "itera_machine_id_source": "/etc/machine-id",
    "itera_machine_cpu_model": "Fixture CPU @ 2.10GHz", "itera_machine_cpu_vendor": "GenuineIntel",
    "itera_machine_cpu_family": "6", "itera_machine_cpu_model_number": "143",
    "itera_machine_cpu_stepping": "8", "itera_machine_sockets": "1", "itera_machine_cores": "2",
    "itera_machine_threads": "2", "itera_machine_cores_allowed": "2",
    "itera_machine_threads_allowed": "2", "itera_machine_cpus_allowed": "0-1",
    "itera_machine_caches": "L1d:48K L1i:32K L2:2M L3:105M",
    "itera_machine_isa_features": "sse4_2 avx avx2 fma f16c avx512f",
    "itera_machine_isa_path": "avx512vnni", "itera_machine_memory_bytes": "8589934592",
    "itera_machine_kernel": "6.1.0-18-amd64", "itera_machine_hostname": "fixture-host",
}

# A second machine (another vendor, id and core count), for the report's never-mix tests.
AMD_MACHINE = dict(FIXTURE_MACHINE, **{
    "itera_machine": "epyc-zen4-4c", "itera_machine_id": "1" * 64,
    "itera_machine_cpu_model": "AMD EPYC 9R14 Fixture", "itera_machine_cpu_vendor": "AuthenticAMD",
    "itera_machine_cpu_family": "25", "itera_machine_cpu_model_number": "17",
    "itera_machine_cpu_stepping": "1", "itera_machine_cores": "4", "itera_machine_threads": "4",
    "itera_machine_cores_allowed": "4", "itera_machine_threads_allowed": "4",
    "itera_machine_cpus_allowed": "0-3", "itera_machine_caches": "L1d:32K L1i:32K L2:1M L3:32M",
    "itera_machine_isa_features": "sse4_2 avx avx2 fma f16c avx512f", "itera_machine_hostname": "amd-host",
})

CHECKPOINT = "../shared/reference/itera-lite-micro sha256:" + "42" * 32


def context(platform, threads, emulated, host="fixture-host", git="abc1234", cpus=None, **extra):
    c = {
        "date": "2025-01-02T03:04:05+00:00",
        "host_name": host,
        "executable": "build/itera-bench",
        "num_cpus": 2,
        "mhz_per_cpu": 2100,
        "cpu_scaling_enabled": False,
        "caches": [{"type": "Data", "level": 1, "size": 49152, "num_sharing": 1}],
        "load_avg": [0.1, 0.2, 0.3],
        "library_build_type": "release",
        "itera_platform": platform,
        "itera_profile": "fixture",
        "itera_threads": str(threads),
        "itera_worker_cpus": cpus or ",".join(str(i % 2) for i in range(threads)),
        "itera_emulated": "true" if emulated else "false",
        "itera_model": "synthetic seed 20240501",
        "itera_git": git,
        "itera_compiler": "gcc 12.2.0 -O3",
        "itera_isa": "avx512_vnni",
        "itera_counters": "software: task-clock,context-switches (no PMU in this VM)",
        "itera_peak_gflops": "100.0",
        "itera_topology": "1 package, 2 cores, 1 thread per core",
        "itera_cpu_model": "Fixture CPU @ 2.10GHz",
    }
    c.update(extra)
    return c


class Builder:
    def __init__(self):
        self.entries = []
        self.family = 0

    def bench(self, name, reps, counters, time_ms=None, error=None):
        """reps: list of per-repetition latency_ms; counters: dict name -> value or
        name -> list (per repetition). real_time follows latency_ms (in ns)."""
        fam = self.family
        self.family += 1
        n = len(reps)
        rows = []
        for i, lat in enumerate(reps):
            e = {
                "name": name, "family_index": fam, "per_family_instance_index": 0,
                "run_name": name, "run_type": "iteration", "repetitions": n,
                "repetition_index": i, "threads": 1,
            }
            if error:
                e["error_occurred"] = True
                e["error_message"] = error
            e.update({"iterations": 10, "real_time": lat * 1e6, "cpu_time": lat * 1e6,
                      "time_unit": "ns"})
            cs = {"latency_ms": lat}
            for k, v in counters.items():
                cs[k] = v[i] if isinstance(v, list) else v
            e.update(dict(sorted(cs.items())))
            rows.append(e)
        self.entries += rows
        if n > 1 and not error:
            keys = [k for k in rows[0] if k not in ("name", "family_index", "per_family_instance_index",
                                                     "run_name", "run_type", "repetitions",
                                                     "repetition_index", "threads", "iterations",
                                                     "time_unit")]
            for agg in ("mean", "median", "stddev", "cv"):
                a = {"name": name + "_" + agg, "family_index": fam, "per_family_instance_index": 0,
                     "run_name": name, "run_type": "aggregate", "repetitions": n, "threads": 1,
                     "aggregate_name": agg, "aggregate_unit": "percentage" if agg == "cv" else "time",
                     "iterations": n}
                for k in keys:
                    vals = [r[k] for r in rows]
                    m = statistics.mean(vals)
                    sd = statistics.stdev(vals)
                    v = {"mean": m, "median": statistics.median(vals), "stddev": sd,
                         "cv": (sd / m) if m else float("nan")}[agg]
                    a[k] = v
                    if k == "cpu_time":
                        a["time_unit"] = "ns"
                self.entries.append(a)


def write(path, ctx, b, extra=None):
    root = {"context": ctx, "benchmarks": b.entries}
    root.update(extra or {})
    with open(os.path.join(HERE, path), "w") as f:
        # allow_nan: Google Benchmark writes bare NaN too; the reader must cope
        json.dump(root, f, indent=2, allow_nan=True)
        f.write("\n")


def prefill_counters(quant, lat_ms, threads, seq=128, batch=1):
    tokens = seq * batch
    wb = {"fp32": 1174624, "int8": 311296, "int4": 163840}[quant]
    err = {"fp32": 0.0, "int8": 0.0123, "int4": 0.0456}[quant]
    top1 = {"fp32": 1.0, "int8": 0.9922, "int4": 0.9766}[quant]
    return {"tokens_per_second": tokens / (lat_ms / 1e3), "gflops": 0.5 * tokens / lat_ms,
            "pct_peak": 0.5 * tokens / lat_ms, "weight_bytes": wb, "cpu_util": 0.95,
            "peak_rss_mb": 12.5, "max_abs_logit_err": err, "top1_agreement": top1}


OPS = {"forward": 1000.0, "embedding": 10.0, "ln_ssm": 30.0, "in_proj": 150.0, "conv": 40.0,
       "delta_proj": 60.0, "scan": 300.0, "scan.state_transition": 120.0,
       "scan.input_projection": 80.0, "scan.output_projection": 70.0,
       "scan.skip_connection": 20.0, "gating": 20.0, "out_proj": 140.0, "ln_ffn": 30.0,
       "router": 10.0, "experts": 60.0, "ffn": 50.0, "ln_final": 10.0, "lm_head": 40.0}


def embedded():
    b = Builder()
    # kernel comparison at the original configuration: 3 repetitions each
    for k, reps in (("sequential", [1.9, 2.0, 2.1]), ("parallel", [0.95, 1.0, 1.05]),
                    ("chunked", [0.49, 0.5, 0.51, 0.52, 0.90])):
        name = f"scan/{k}/channels:256/state:64/seq:128/batch:4/threads:2"
        b.bench(name, reps, {"tokens_per_second": [512 / (x / 1e3) for x in reps],
                             "gflops": [2.0 / x for x in reps], "pct_peak": [2.0 / x for x in reps]})
    # sequence-length sweep, single runs
    for L in (512, 8192):
        for k, f in (("sequential", 1.0), ("parallel", 0.5), ("chunked", 0.25)):
            lat = 2.0 * L / 128 * f
            b.bench(f"scan/{k}/channels:256/state:64/seq:{L}/batch:4/threads:2", [lat],
                    {"tokens_per_second": 4 * L / (lat / 1e3), "gflops": 1.0, "pct_peak": 1.0})
    # prefill per quant; fp32 chunked and sequential carry the op profile
    for q, lat in (("fp32", 4.0), ("int8", 3.2), ("int4", 2.5)):
        c = prefill_counters(q, lat, 2)
        if q == "fp32":
            c.update({"op_us." + z: v for z, v in OPS.items()})
        b.bench(f"prefill/{q}/chunked/seq:128/batch:1/threads:2", [lat * 0.99, lat, lat * 1.01], c)
    c = prefill_counters("fp32", 6.0, 2)
    c.update({"op_us." + z: (2 * v if z.startswith("scan") else v) for z, v in OPS.items()})
    c["op_us.forward"] = 1300.0
    b.bench("prefill/fp32/sequential/seq:128/batch:1/threads:2", [6.0, 6.0], c)
    b.bench("prefill/fp32/chunked/seq:128/batch:1/threads:1", [7.0], prefill_counters("fp32", 7.0, 1))
    # decode per quant and thread count
    for q, tps in (("fp32", 2000.0), ("int8", 2500.0), ("int4", 3000.0)):
        for t in (1, 2):
            v = tps * (1.5 if t == 2 else 1.0)
            b.bench(f"decode/{q}/chunked/steps:64/batch:1/threads:{t}", [64 / v * 1e3],
                    {"tokens_per_second": v})
    b.bench("decode/int4/sequential/steps:64/batch:1/threads:2", [0.0], {},
            error="int4 decode not available for this kernel")
    # a counter GB would write as NaN (kept out of the tables)
    b.bench("scan/chunked/channels:64/state:16/seq:32/batch:1/threads:2", [0.01],
            {"tokens_per_second": 3.2e6, "gflops": float("nan"), "pct_peak": float("nan")})
    write("embedded.json", context("embedded", 2, False, cpus="0,1", **FIXTURE_MACHINE), b)


def laptop_op_profile():
    """The harness's layout of the op profile: a top-level "itera_op_profile" object keyed
    by benchmark name (without GB's suffixes), ops with name/parent/us_per_forward."""
    b = Builder()
    name = "prefill/fp32/chunked/seq:128/batch:1/threads:4"
    b.bench(name + "/repeats:2", [2.0, 2.0], prefill_counters("fp32", 2.0, 4))
    ops = []
    for z, v in OPS.items():
        parent = "" if z == "forward" else ("scan" if z.startswith("scan.") else "forward")
        ops.append({"name": z, "parent": parent, "calls": 15, "total_us": 5 * v / 2,
                    "mean_us": v / 6, "min_us": v / 7, "max_us": v / 5, "us_per_forward": v / 2})
    prof = {name: {"forwards": 5, "tokens_per_forward": 128, "threads": 4, "ops": ops}}
    write("laptop_opprofile.json", context("laptop", 4, False, cpus="0,1,2,3", itera_platform_cores="4",
                                           **FIXTURE_MACHINE), b, {"itera_op_profile": prof})


def host_failures():
    """Every scan failed, int8 failed: tables say so, charts with nothing to plot are omitted."""
    b = Builder()
    for k in ("sequential", "parallel", "chunked"):
        for L in (128, 1024):
            b.bench(f"scan/{k}/channels:256/state:64/seq:{L}/batch:4/threads:2", [0.0], {},
                    error="itera_scan_bench_create: not in this engine build yet")
    b.bench("prefill/fp32/chunked/seq:128/batch:1/threads:2", [4.0], prefill_counters("fp32", 4.0, 2))
    b.bench("prefill/int8/chunked/seq:128/batch:1/threads:2", [0.0], {},
            error="int8 model: weight format 1 is not built in")
    b.bench("decode/fp32/sequential/steps:16/batch:1/threads:2", [1.0], {"tokens_per_second": 16000.0})
    b.bench("decode/int8/sequential/steps:16/batch:1/threads:2", [0.0], {},
            error="int8 model: weight format 1 is not built in")
    write("host_failures.json", context("host", 2, False, cpus="0,1", **FIXTURE_MACHINE), b)


def desktop_emulated():
    b = Builder()
    b.bench("prefill/fp32/chunked/seq:128/batch:1/threads:12", [5.0],
            prefill_counters("fp32", 5.0, 12))
    write("desktop_emulated.json", context("desktop", 12, True, **FIXTURE_MACHINE), b)


def peer():
    b = Builder()
    c = prefill_counters("fp32", 20.0, 2)
    c["max_abs_logit_err"] = 2.0e-6
    c["top1_agreement"] = 1.0
    b.bench("prefill/fp32/pytorch-eager/seq:128/batch:1/threads:2", [19.0, 20.0, 21.0], c)
    write("peer_embedded.json", context("embedded", 2, False, cpus="0,1", itera_peer="pytorch 1.13.1 eager",
                                        itera_compiler="python 3.11.2, torch 1.13.1", **FIXTURE_MACHINE), b)


def compare_pair():
    base, new = Builder(), Builder()
    nine_a = [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08]
    nine_b = [x + 0.20 for x in nine_a]   # clearly slower, 9 repetitions: U test
    base.bench("prefill/fp32/chunked/seq:128/batch:1/threads:2", nine_a, {"tokens_per_second": [128e3 / x for x in nine_a]})
    new.bench("prefill/fp32/chunked/seq:128/batch:1/threads:2", nine_b, {"tokens_per_second": [128e3 / x for x in nine_b]})
    # 3 repetitions, separated ranges: faster by the spread rule
    base.bench("prefill/int8/chunked/seq:128/batch:1/threads:2", [2.0, 2.1, 2.2], {})
    new.bench("prefill/int8/chunked/seq:128/batch:1/threads:2", [1.5, 1.6, 1.7], {})
    # 3 repetitions, overlapping ranges: no significant change
    base.bench("prefill/int4/chunked/seq:128/batch:1/threads:2", [1.0, 1.2, 1.4], {})
    new.bench("prefill/int4/chunked/seq:128/batch:1/threads:2", [1.1, 1.3, 1.5], {})
    # only in base
    base.bench("decode/fp32/chunked/steps:64/batch:1/threads:2", [1.0], {})
    write("compare_base.json", context("embedded", 2, False, cpus="0,1", **FIXTURE_MACHINE), base)
    write("compare_new.json", context("embedded", 2, False, cpus="0,1", host="other-host",
                                      git="def5678", **FIXTURE_MACHINE), new)


def variants():
    b = Builder()
    seq = [2.00, 2.02, 2.04, 2.06, 2.08, 2.10, 2.12, 2.14, 2.16]
    chk = [0.50, 0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58]
    for k, reps in (("sequential", seq), ("chunked", chk)):
        b.bench(f"scan/{k}/channels:256/state:64/seq:128/batch:4/threads:2", reps, {})
        b.bench(f"prefill/fp32/{k}/seq:128/batch:1/threads:2", reps[:3], {})
    b.bench("prefill/fp32/parallel/seq:128/batch:1/threads:2", [1.0, 1.1], {})
    write("variants.json", context("embedded", 2, False, cpus="0,1", **FIXTURE_MACHINE), b)


def peer_ort():
    """The ONNX Runtime peer on the fixture machine and model: fp32 and int8 prefill."""
    b = Builder()
    for q, lat in (("fp32", 30.0), ("int8", 27.0)):
        c = prefill_counters(q, lat, 2)
        c["weight_bytes"] = {"fp32": 1803550, "int8": 555745}[q]
        b.bench(f"prefill/{q}/onnxruntime/seq:128/batch:1/threads:2", [lat * 0.98, lat, lat * 1.02], c)
    write("peer_ort_embedded.json", context("embedded", 2, False, cpus="0,1", itera_peer="onnxruntime-node 1.30.0",
                                            itera_compiler="onnxruntime 1.30.0, node 20", **FIXTURE_MACHINE), b)


def amd_synthetic():
    """Another machine (4 AMD cores), another build, the same embedded platform: its cells must
    never join the fixture machine's tables (the issue's zig-zag: other scan lengths)."""
    b = Builder()
    for L in (256, 1024):
        for k, f in (("sequential", 1.0), ("parallel", 0.4)):
            lat = 1.0 * L / 128 * f
            b.bench(f"scan/{k}/channels:256/state:64/seq:{L}/batch:4/threads:2", [lat, lat * 1.01, lat * 0.99],
                    {"tokens_per_second": 4 * L / (lat / 1e3), "gflops": 1.0, "pct_peak": 1.0})
    for q, lat, top1 in (("fp32", 1.5, 1.0), ("int8", 1.2, 0.97), ("int4", 1.0, 0.859)):
        c = prefill_counters(q, lat, 2)
        c["top1_agreement"] = top1
        b.bench(f"prefill/{q}/parallel/seq:128/batch:1/threads:2", [lat, lat * 1.02, lat * 0.98], c)
    write("amd_synthetic.json", context("embedded", 2, False, cpus="0,1", host="amd-host", git="fedcba9",
                                        itera_compiler="gcc 13.2.0 -O3", date="2025-02-01T10:00:00+00:00",
                                        **AMD_MACHINE), b)


def embedded_checkpoint():
    """The fixture machine and build with another model (a checkpoint): a run group of its own."""
    b = Builder()
    for q, lat, top1 in (("fp32", 8.0, 1.0), ("int8", 6.0, 0.999), ("int4", 5.0, 0.995)):
        c = prefill_counters(q, lat, 2)
        c["top1_agreement"] = top1
        c["kld_mean"] = {"fp32": 0.0, "int8": 0.0012, "int4": 0.0150}[q]
        c["text_ppl_tinystories"] = {"fp32": 12.0, "int8": 12.1, "int4": 12.9}[q]
        c["text_dppl_tinystories"] = {"fp32": 0.0, "int8": 0.1, "int4": 0.9}[q]
        c["text_dpplse_tinystories"] = {"fp32": 0.0, "int8": 0.02, "int4": 0.05}[q]
        c["text_kld_tinystories"] = {"fp32": 0.0, "int8": 0.002, "int4": 0.031}[q]
        c["text_top1_tinystories"] = {"fp32": 1.0, "int8": 0.99, "int4": 0.95}[q]
        b.bench(f"prefill/{q}/chunked/seq:128/batch:1/threads:2", [lat * 0.99, lat, lat * 1.01], c)
    write("embedded_checkpoint.json", context("embedded", 2, False, cpus="0,1", itera_model=CHECKPOINT,
                                              **FIXTURE_MACHINE), b)


def embedded_newer():
    """A newer run of the same machine, model and build holding two of embedded.json's cells:
    the report shows these values and names this file."""
    b = Builder()
    b.bench("scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2", [1.8, 1.8, 1.8],
            {"tokens_per_second": [512 / (1.8 / 1e3)] * 3, "gflops": [2.0 / 1.8] * 3, "pct_peak": [2.0 / 1.8] * 3})
    b.bench("decode/int8/chunked/steps:64/batch:1/threads:2", [64 / 4000.0 * 1e3], {"tokens_per_second": 4000.0})
    write("embedded_newer.json", context("embedded", 2, False, cpus="0,1", date="2025-03-04T05:06:07+00:00",
                                         **FIXTURE_MACHINE), b)


def legacy():
    """A file from before the machine fingerprint: a machine of its own in the report."""
    b = Builder()
    b.bench("prefill/fp32/chunked/seq:128/batch:1/threads:2", [9.0, 9.0, 9.0], prefill_counters("fp32", 9.0, 2))
    write("legacy_embedded.json", context("embedded", 2, False, cpus="0,1", host="old-host"), b)


if __name__ == "__main__":
    embedded()
    laptop_op_profile()
    host_failures()
    desktop_emulated()
    peer()
    peer_ort()
    amd_synthetic()
    embedded_checkpoint()
    embedded_newer()
    legacy()
    compare_pair()
    variants()
