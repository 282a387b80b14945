/*
 * vmath.h: element-wise transcendentals and layer norm over float arrays, vectorized.
 * Tens of thousands of exp/softplus/SiLU/erf per forward: as costly as the matmuls
 * unless done in SIMD. Scalar references use libm; SIMD variants are within
 * VMATH_TOL of them (tests/test_vmath.c). In-place (y == x) is allowed everywhere.
 */
#ifndef ITERA_VMATH_H
#define ITERA_VMATH_H

#include "cpu.h"

/* Relative tolerance (plus the same absolute floor) of SIMD variants vs the scalar ones. */
#define VMATH_TOL 2e-6f

typedef struct vmath_ops {
    cpu_isa isa;
    const char *name;
    void (*exp)(float *y, const float *x, int n);        /* y = e^x */
    void (*silu)(float *y, const float *x, int n);       /* y = x · sigmoid(x) */
    void (*gelu)(float *y, const float *x, int n);       /* y = x/2 · (1 + erf(x/√2)) */
    void (*softplus)(float *y, const float *x, int n);   /* y = log(1 + e^x) */
    void (*mul_silu)(float *y, const float *a, const float *g, int n); /* y = a · silu(g) */
    float (*softplus_sum)(const float *x, int n);        /* Σ log(1 + e^x[i]) (delta: mean of it) */
    /* y = (x - mean) / sqrt(var + eps) · w + b, over n values (population variance);
     * w or b may be NULL (1 or 0) */
    void (*layernorm)(float *y, const float *x, const float *w, const float *b, int n, float eps);
} vmath_ops;

extern const vmath_ops vmath_scalar;
extern const vmath_ops vmath_avx2;
extern const vmath_ops vmath_avx512;
const vmath_ops *vmath_best(void);

#endif
