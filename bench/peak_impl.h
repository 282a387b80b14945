/*
 * peak_impl.h: the peak probe's inner loops, one per ISA (internal to bench/peak*.c).
 * Each runs `iters` rounds of register-only work on independent accumulators, stores a
 * reduction of them into peak_sink with peak_keep (so nothing is optimized away) and returns the work
 * done: FLOP for the fp32 loops, int8 multiply-accumulates for the int8 ones.
 * The _avx2 / _avx512 / _vnni bodies are compiled with their ISA flags by file name and
 * must only be called when the CPU has that ISA.
 */
#ifndef ITERA_PEAK_IMPL_H
#define ITERA_PEAK_IMPL_H

#include <stdatomic.h>
#include <stdint.h>

/* Written by every probe thread at the end of its loop: atomic (a relaxed store, so the
 * threads do not race on it and the store is not optimized away). */
extern _Atomic float peak_sink;
static inline void peak_keep(float v) { atomic_store_explicit(&peak_sink, v, memory_order_relaxed); }

typedef double (*peak_loop_fn)(int64_t iters);

double peak_fp32_scalar(int64_t iters); /* 12 mul+add chains: 12*2 FLOP per round */
double peak_int8_scalar(int64_t iters); /* 4 chains of 4 distinct MAC: 16 MAC per round */
double peak_fp32_avx2(int64_t iters);  /* 12 ymm FMA chains: 12*8*2 FLOP per round */
double peak_int8_avx2(int64_t iters);  /* 6 ymm maddubs+madd+add chains: 6*32 MAC per round */
double peak_fp32_avx512(int64_t iters);/* 16 zmm FMA chains: 16*16*2 FLOP per round */
double peak_int8_avx512(int64_t iters);/* 8 zmm maddubs+madd+add chains: 8*64 MAC per round */
double peak_int8_vnni(int64_t iters);  /* 12 zmm vpdpbusd chains: 12*64 MAC per round */

#endif
