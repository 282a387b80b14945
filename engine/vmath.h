/*
 * vmath.h: element-wise transcendentals and layer norm over float arrays, vectorized.
 * Tens of thousands of exp/softplus/SiLU/erf per forward: as costly as the matmuls
 * unless done in SIMD. Scalar references use libm; SIMD variants are within
 * VMATH_TOL of them (tests/test_vmath.c). In-place (y == x) is allowed everywhere.
 */
#ifndef ITERA_VMATH_H
#define ITERA_VMATH_H

#include "itera.h"

/* Relative tolerance (plus the same absolute floor) of SIMD variants vs the scalar ones. */
#define VMATH_TOL 2e-6f

typedef struct vmath_ops {
    itera_variant v; /* isa, name */
    void (*exp)(float *y, const float *x, int n);        /* y = e^x */
    void (*silu)(float *y, const float *x, int n);       /* y = x · sigmoid(x) */
    void (*gelu)(float *y, const float *x, int n);       /* y = x/2 · (1 + erf(x/√2)) */
    void (*softplus)(float *y, const float *x, int n);   /* y = log(1 + e^x) */
    void (*mul_silu)(float *y, const float *a, const float *g, int n); /* y = a · silu(g) */
    float (*softplus_sum)(const float *x, int n);        /* Σ log(1 + e^x[i]) (delta: mean of it) */
    /* y = (x - mean) / sqrt(var + eps) · w + b, over n values (population variance);
     * w or b may be NULL (1 or 0) */
    void (*layernorm)(float *y, const float *x, const float *w, const float *b, int n, float eps);
    /* x += a (x is updated in place), then y = layernorm(x) as above. y must not alias a. */
    void (*add_layernorm)(float *y, float *x, const float *a, const float *w, const float *b,
                          int n, float eps);
    /* Causal depthwise convolution tap sum + SiLU over n channels:
     * y[i] = silu(bias[i] + Σ_{k<K} wt[k·n + i] · u[k][i]), the taps added in order k = 0..K−1
     * (u[k]: the input row at offset k of the window, oldest first; wt: [K, n]). bias may be
     * NULL (0). y may equal any u[k] (each element is read before it is written). */
    void (*conv_silu)(float *y, const float *const *u, const float *wt, const float *bias, int K,
                      int n);
} vmath_ops;

extern const vmath_ops vmath_scalar;
extern const vmath_ops vmath_avx2;   /* call only when itera_isa_has(ITERA_ISA_AVX2) */
extern const vmath_ops vmath_avx512; /* call only when itera_isa_has(ITERA_ISA_AVX512) */
/* The variants, scalar first (rows of the ISA selection: isa_select.h). */
extern const itera_variant *const vmath_variants[];
extern const int vmath_variant_count;

#endif
