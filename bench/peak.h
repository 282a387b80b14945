/*
 * peak.h: the machine-peak probe, measured once per run (~0.25 s) and written into the
 * results' context, so `pct_peak` compares achieved GFLOP/s with what this machine
 * actually sustains rather than with a datasheet.
 *
 * Two probes, each a register-only loop with independent accumulators (no memory
 * traffic), on one thread and then on one thread per core available at once (never more
 * threads than cores: an emulated 12-thread platform on 2 cores probes 2):
 *   - FP32 FMA: vfmadd on zmm (avx512), ymm (avx2) or scalar fmaf; 2 FLOP per lane.
 *   - int8 dot: vpdpbusd (avx512vnni), vpmaddubsw+vpmaddwd (avx512 / avx2) or scalar;
 *     counted as u8*s8 multiply-accumulates (MAC).
 * Each thread reads the clock itself after a common start barrier, and a run's rate is
 * the work of all threads over [earliest start, latest end], so a thread that finished
 * before another started cannot inflate it; best of 5 runs of ~10 ms. The per-core figure
 * is the best rate any single thread had over its own run (alone or beside the others),
 * so all-cores <= threads_used x per-core always holds.
 * The SIMD bodies live in bench/peak_avx2.c, peak_avx512.c, peak_vnni.c (ISA flags by
 * file name) and are only called for an ISA the caller has checked (itera_isa_has).
 */
#ifndef ITERA_PEAK_H
#define ITERA_PEAK_H

#include <stdbool.h>
#include <stddef.h>

#include "itera.h"
#include "pin.h"
#include "status.h"

typedef struct peak_result {
    itera_isa isa;              /* the ISA the probe ran with */
    const char *fp32_path;    /* "avx512", "avx2", "scalar" */
    const char *int8_path;    /* "avx512vnni", "avx512", "avx2", "scalar" */
    int threads;              /* threads asked for (the platform's) */
    int threads_used;         /* threads of the all-cores probe: min(threads, cores_available) */
    int cores_available;      /* cores the probe could use: the plan's slots, else the CPUs
                                 of this thread's affinity */
    double fp32_gflops_core;  /* one core, GFLOP/s */
    double fp32_gflops_all;   /* threads_used cores together, GFLOP/s */
    double int8_gmacs_core;   /* one core, G int8 MAC/s */
    double int8_gmacs_all;    /* threads_used cores together, G int8 MAC/s */
    double seconds;           /* wall time the whole probe took */
} peak_result;

/* Measures the peaks with `isa` (normally itera_isa_best(); it must be supported here) on
 * 1 and min(threads, cores available) threads (threads in 1..PIN_MAX_WORKERS). With plan
 * (may be NULL; it must have at least `threads` workers) probe thread i is bound to
 * plan->cpu[i] while it probes (the plan's first `slots` workers are on distinct cores),
 * and the caller's own affinity is restored afterwards. Returns BENCH_OK, or with e filled
 * (out unchanged) BENCH_ERR_INPUT (a bad ISA, thread count or plan) or BENCH_ERR_SYSTEM
 * (a probe thread, the binding or the affinity failed). */
bench_status peak_measure(itera_isa isa, int threads, const pin_plan *plan, peak_result *out,
                          bench_error *e);

/* The peak of `cores` cores, GFLOP/s (int8: 2 x the int8 MAC peak, G int ops/s): the
 * per-core figure for 1, the all-cores figure for threads_used or more (an emulated cell's
 * cores are the host's), else per-core x cores but never above the all-cores figure.
 * 0 when p is NULL or cores < 1. */
double peak_at(const peak_result *p, bool int8, int cores);

/* One line for the results' context / `itera-bench info`, e.g.
 * "fp32 avx512: 160.2 GFLOP/s per core, 301.5 GFLOP/s on 2 cores; int8 avx512vnni: ...
 * (one thread per core, from a common start, best of 5 runs of 10 ms; 12 threads asked;
 * probe 260 ms)". */
const char *peak_describe(const peak_result *r, char *buf, size_t n);

#endif
