/*
 * vmath.c: scalar references of the element-wise functions (libm: expf, erff, log1pf)
 * and the table of variants the ISA selection picks from (isa_select.h).
 */
#include "vmath.h"

#include <math.h>
#include <stddef.h>

static void exp_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = expf(x[i]);
}

static float silu1(float x) { return x / (1.0f + expf(-x)); }

static void silu_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = silu1(x[i]);
}

static void gelu_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
static float softplus1(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

static void softplus_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = softplus1(x[i]);
}

static void mul_silu_ref(float *y, const float *a, const float *g, int n) {
    for (int i = 0; i < n; i++) y[i] = a[i] * silu1(g[i]);
}

// Accumulates in double: the reference for the float-lane sums of the SIMD variants.
static float softplus_sum_ref(const float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += softplus1(x[i]);
    return (float)s;
}

// Mean and population variance in double, then y in float. w, b: NULL means 1, 0.
static void layernorm_ref(float *y, const float *x, const float *w, const float *b, int n,
                          float eps) {
    if (n <= 0) return;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    const float mean = (float)(s / n);
    double v = 0.0;
    for (int i = 0; i < n; i++) v += ((double)x[i] - mean) * ((double)x[i] - mean);
    const float rstd = 1.0f / sqrtf((float)(v / n) + eps);
    for (int i = 0; i < n; i++) {
        const float t = (x[i] - mean) * rstd;
        y[i] = t * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
    }
}

static void add_layernorm_ref(float *y, float *x, const float *a, const float *w, const float *b,
                              int n, float eps) {
    for (int i = 0; i < n; i++) x[i] += a[i];
    layernorm_ref(y, x, w, b, n, eps);
}

// Taps summed in float in order k = 0..K−1 (the SIMD variants use FMA, within VMATH_TOL).
static void conv_silu_ref(float *y, const float *const *u, const float *wt, const float *bias,
                          int K, int n) {
    for (int i = 0; i < n; i++) {
        float s = bias ? bias[i] : 0.0f;
        for (int k = 0; k < K; k++) s += wt[(size_t)k * n + i] * u[k][i];
        y[i] = silu1(s);
    }
}

const vmath_ops vmath_scalar = {
    .v = {ITERA_ISA_SCALAR, "scalar"},
    .exp = exp_ref,
    .silu = silu_ref,
    .gelu = gelu_ref,
    .softplus = softplus_ref,
    .mul_silu = mul_silu_ref,
    .softplus_sum = softplus_sum_ref,
    .layernorm = layernorm_ref,
    .add_layernorm = add_layernorm_ref,
    .conv_silu = conv_silu_ref,
};

const itera_variant *const vmath_variants[] = {&vmath_scalar.v, &vmath_avx2.v, &vmath_avx512.v};
const int vmath_variant_count = (int)(sizeof vmath_variants / sizeof vmath_variants[0]);
