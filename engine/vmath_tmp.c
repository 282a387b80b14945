/* TEMPORARY scalar vmath until the kernels branch lands (deleted at merge). */
#include "vmath.h"
#include <math.h>
static void s_exp(float *y, const float *x, int n) { for (int i = 0; i < n; i++) y[i] = expf(x[i]); }
static void s_silu(float *y, const float *x, int n) { for (int i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i])); }
static void s_gelu(float *y, const float *x, int n) { for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f)); }
static float sp(float v) { return v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v)); }
static void s_softplus(float *y, const float *x, int n) { for (int i = 0; i < n; i++) y[i] = sp(x[i]); }
static void s_mul_silu(float *y, const float *a, const float *g, int n) { for (int i = 0; i < n; i++) y[i] = a[i] * (g[i] / (1.0f + expf(-g[i]))); }
static float s_softplus_sum(const float *x, int n) { float s = 0; for (int i = 0; i < n; i++) s += sp(x[i]); return s; }
static void s_ln(float *y, const float *x, const float *w, const float *b, int n, float eps)
{
    float mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    float r = 1.0f / sqrtf(var + eps);
    for (int i = 0; i < n; i++) y[i] = (x[i] - mean) * r * w[i] + b[i];
}
const vmath_ops vmath_scalar = {CPU_ISA_SCALAR, "scalar", s_exp, s_silu, s_gelu, s_softplus, s_mul_silu, s_softplus_sum, s_ln};
const vmath_ops *vmath_best(void) { return &vmath_scalar; }
