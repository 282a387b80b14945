/*
 * peak.h: the machine-peak probe, measured once per run (~50 ms) and written into the
 * results' context, so `pct_peak` compares achieved GFLOP/s with what this machine
 * actually sustains rather than with a datasheet.
 *
 * Two probes, each a register-only loop with independent accumulators (no memory
 * traffic), on one thread and then on `threads` threads at once:
 *   - FP32 FMA: vfmadd on zmm (avx512), ymm (avx2) or scalar fmaf; 2 FLOP per lane.
 *   - int8 dot: vpdpbusd (avx512vnni), vpmaddubsw+vpmaddwd (avx512 / avx2) or scalar;
 *     counted as u8*s8 multiply-accumulates (MAC).
 * The SIMD bodies live in bench/peak_avx2.c, peak_avx512.c, peak_vnni.c (ISA flags by
 * file name) and are only called for an ISA the caller has checked (itera_isa_has).
 */
#ifndef ITERA_PEAK_H
#define ITERA_PEAK_H

#include <stddef.h>

#include "itera.h"
#include "pin.h"

typedef struct peak_result {
    itera_isa isa;              /* the ISA the probe ran with */
    const char *fp32_path;    /* "avx512", "avx2", "scalar" */
    const char *int8_path;    /* "avx512vnni", "avx512", "avx2", "scalar" */
    int threads;              /* threads of the multi-thread probe */
    double fp32_gflops_core;  /* one thread, GFLOP/s */
    double fp32_gflops_all;   /* `threads` threads together, GFLOP/s */
    double int8_gmacs_core;   /* one thread, G int8 MAC/s */
    double int8_gmacs_all;    /* `threads` threads together, G int8 MAC/s */
    double seconds;           /* wall time the whole probe took */
} peak_result;

/* Measures the peaks with `isa` (normally itera_isa_best(); it must be supported here) on
 * 1 and `threads` (1..PIN_MAX_WORKERS) threads, best of 5 runs of ~3 ms each. With plan (may be NULL; it must have at
 * least `threads` workers) thread i is bound to plan->cpu[i] while it probes, and the
 * caller's own affinity is restored afterwards. Returns 0, or -1 with err filled. */
int peak_measure(itera_isa isa, int threads, const pin_plan *plan, peak_result *out,
                 char *err, size_t n);

/* One line for the results' context / `itera-bench info`, e.g.
 * "fp32 avx512: 110.2 GFLOP/s/core, 219.8 GFLOP/s on 2 threads; int8 avx512vnni: ...". */
const char *peak_describe(const peak_result *r, char *buf, size_t n);

#endif
