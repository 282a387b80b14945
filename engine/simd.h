/*
 * simd.h: helpers shared by every ISA's kernels (internal to libitera). The ISA-specific
 * ones are in simd_avx2.h and simd_avx512.h, included only by files compiled with that
 * ISA's flags (*_avx2.c, *_avx512.c, *_vnni.c: see the Makefile).
 */
#ifndef ITERA_SIMD_H
#define ITERA_SIMD_H

#include <stdint.h>
#include <string.h>

/* Inlined into the kernel that uses it (so fixed sizes unroll and stay in registers). */
#define AI static inline __attribute__((always_inline))

/* 4 bytes at p (any alignment) as one int32: e.g. 4 consecutive int8 k of one row,
 * broadcast to every lane for a vpdpbusd / vpmaddubsw. */
AI int32_t load32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#endif
