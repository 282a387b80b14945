/*
 * vmath_avx2.c: the element-wise functions with AVX2 + FMA (8 floats per vector; tails
 * with vmaskmov loads and stores). Call only when itera_isa_has(ITERA_ISA_AVX2).
 *
 * Same algorithms as vmath_avx512.c: exp8 of simd_avx2.h (2^n applied as two exponent-field
 * factors, so results overflow to inf and underflow through denormals), reciprocals by
 * rcp plus one Newton step, erf-GELU from the Numerical Recipes erfc form, log1p on
 * (0, 1] by the Cephes log polynomial with the rounding of 1 + u corrected.
 */
#include "vmath.h"

#include "simd_avx2.h"

#define S(c) _mm256_set1_ps(c)

// 1/d for d >= 1 finite: rcp (12 bits) and one Newton step.
AI __m256 recip8(__m256 d) {
    const __m256 r = _mm256_rcp_ps(d);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, S(2.0f)));
}

AI __m256 abs8(__m256 x) { return _mm256_andnot_ps(S(-0.0f), x); }

AI __m256 silu8(__m256 x) {
    const __m256 e = exp8(_mm256_min_ps(_mm256_sub_ps(_mm256_setzero_ps(), x), S(87.0f)));
    return _mm256_mul_ps(x, recip8(_mm256_add_ps(e, S(1.0f))));
}

AI __m256 gelu8(__m256 x) {
    const __m256 z = _mm256_min_ps(_mm256_mul_ps(abs8(x), S(0.70710678118654752f)), S(1e4f));
    const __m256 t = recip8(_mm256_fmadd_ps(z, S(0.5f), S(1.0f)));
    __m256 p = S(0.17087277f);
    p = _mm256_fmadd_ps(p, t, S(-0.82215223f));
    p = _mm256_fmadd_ps(p, t, S(1.48851587f));
    p = _mm256_fmadd_ps(p, t, S(-1.13520398f));
    p = _mm256_fmadd_ps(p, t, S(0.27886807f));
    p = _mm256_fmadd_ps(p, t, S(-0.18628806f));
    p = _mm256_fmadd_ps(p, t, S(0.09678418f));
    p = _mm256_fmadd_ps(p, t, S(0.37409196f));
    p = _mm256_fmadd_ps(p, t, S(1.00002368f));
    p = _mm256_fmadd_ps(p, t, S(-1.26551223f));
    p = _mm256_fnmadd_ps(z, z, p);
    const __m256 half_erfc = _mm256_mul_ps(_mm256_mul_ps(t, S(0.5f)), exp8(p));
    const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 phi = _mm256_blendv_ps(half_erfc, _mm256_sub_ps(S(1.0f), half_erfc), pos);
    return _mm256_mul_ps(x, phi);
}

AI __m256 log1p8_unit(__m256 u) {
    const __m256 w = _mm256_add_ps(u, S(1.0f));
    const __m256 c = _mm256_sub_ps(u, _mm256_sub_ps(w, S(1.0f)));
    const __m256 big = _mm256_cmp_ps(w, S(1.41421356237f), _CMP_GT_OQ);
    const __m256 e = _mm256_and_ps(big, S(1.0f));
    const __m256 m = _mm256_blendv_ps(w, _mm256_mul_ps(w, S(0.5f)), big);
    const __m256 f = _mm256_sub_ps(m, S(1.0f));
    const __m256 f2 = _mm256_mul_ps(f, f);
    __m256 p = S(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, f, S(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, f, S(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, f, S(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, f, S(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, f, S(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, f, S(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, f, S(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, f, S(3.3333331174e-1f));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), f2);
    y = _mm256_fmadd_ps(e, S(-2.12194440e-4f), y);
    y = _mm256_fmadd_ps(f2, S(-0.5f), y);
    y = _mm256_fmadd_ps(c, recip8(w), y); /* rcp alone is 2^-12 off, even for w = 1: tiny u */
    const __m256 r = _mm256_add_ps(f, y);
    return _mm256_fmadd_ps(e, S(0.693359375f), r);
}

AI __m256 softplus8(__m256 x) {
    const __m256 u = exp8(_mm256_sub_ps(_mm256_setzero_ps(), abs8(x)));
    return _mm256_add_ps(_mm256_max_ps(x, _mm256_setzero_ps()), log1p8_unit(u));
}

#define UNARY(name, fn)                                                       \
    static void name(float *y, const float *x, int n) {                       \
        int i = 0;                                                            \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i))); \
        if (i < n) {                                                          \
            const __m256i k = tail_mask8(n - i);                               \
            _mm256_maskstore_ps(y + i, k, fn(_mm256_maskload_ps(x + i, k)));  \
        }                                                                     \
    }
UNARY(exp_avx2, exp8)
UNARY(silu_avx2, silu8)
UNARY(gelu_avx2, gelu8)
UNARY(softplus_avx2, softplus8)

static void mul_silu_avx2(float *y, const float *a, const float *g, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i),
                                              silu8(_mm256_loadu_ps(g + i))));
    if (i < n) {
        const __m256i k = tail_mask8(n - i);
        const __m256 v =
            _mm256_mul_ps(_mm256_maskload_ps(a + i, k), silu8(_mm256_maskload_ps(g + i, k)));
        _mm256_maskstore_ps(y + i, k, v);
    }
}

AI float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float softplus_sum_avx2(const float *x, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_add_ps(s0, softplus8(_mm256_loadu_ps(x + i)));
        s1 = _mm256_add_ps(s1, softplus8(_mm256_loadu_ps(x + i + 8)));
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, softplus8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i k = tail_mask8(n - i);
        const __m256 v = softplus8(_mm256_maskload_ps(x + i, k));
        s1 = _mm256_add_ps(s1, _mm256_and_ps(v, _mm256_castsi256_ps(k)));
    }
    return hsum8(_mm256_add_ps(s0, s1));
}

static void layernorm_avx2(float *y, const float *x, const float *w, const float *b, int n,
                           float eps) {
    if (n <= 0) return;
    const int nf = n & ~7;
    const __m256i k = tail_mask8(n - nf);
    const int has_tail = nf < n;
    __m256 s = _mm256_setzero_ps();
    for (int i = 0; i < nf; i += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(x + i));
    if (has_tail) s = _mm256_add_ps(s, _mm256_maskload_ps(x + nf, k));
    const float meanf = hsum8(s) / (float)n;
    const __m256 mean = S(meanf);
    __m256 v = _mm256_setzero_ps();
    for (int i = 0; i < nf; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), mean);
        v = _mm256_fmadd_ps(d, d, v);
    }
    if (has_tail) {
        const __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + nf, k), mean),
                                       _mm256_castsi256_ps(k));
        v = _mm256_fmadd_ps(d, d, v);
    }
    const float var = hsum8(v) / (float)n;
    const __m256 rstd = S(1.0f / __builtin_sqrtf(var + eps));
    for (int i = 0; i < nf; i += 8) {
        const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mean), rstd);
        const __m256 wv = w ? _mm256_loadu_ps(w + i) : S(1.0f);
        const __m256 bv = b ? _mm256_loadu_ps(b + i) : _mm256_setzero_ps();
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(t, wv, bv));
    }
    if (has_tail) {
        const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + nf, k), mean), rstd);
        const __m256 wv = w ? _mm256_maskload_ps(w + nf, k) : S(1.0f);
        const __m256 bv = b ? _mm256_maskload_ps(b + nf, k) : _mm256_setzero_ps();
        store_first8(y + nf, n - nf, _mm256_fmadd_ps(t, wv, bv));
    }
}

// The add in vectors (a scalar add before a vector layer norm stalls on store forwarding).
static void add_layernorm_avx2(float *y, float *x, const float *a, const float *w, const float *b,
                               int n, float eps) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(a + i)));
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_add_ps(_mm256_maskload_ps(x + i, m),
                                                    _mm256_maskload_ps(a + i, m)));
    }
    layernorm_avx2(y, x, w, b, n, eps);
}

// Full vectors, then one masked tail; the taps accumulate by FMA in order k = 0..K−1.
static void conv_silu_avx2(float *y, const float *const *u, const float *wt, const float *bias,
                           int K, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 s = bias ? _mm256_loadu_ps(bias + i) : _mm256_setzero_ps();
        for (int k = 0; k < K; k++)
            s = _mm256_fmadd_ps(_mm256_loadu_ps(wt + (size_t)k * n + i), _mm256_loadu_ps(u[k] + i), s);
        _mm256_storeu_ps(y + i, silu8(s));
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        __m256 s = bias ? _mm256_maskload_ps(bias + i, m) : _mm256_setzero_ps();
        for (int k = 0; k < K; k++)
            s = _mm256_fmadd_ps(_mm256_maskload_ps(wt + (size_t)k * n + i, m),
                                _mm256_maskload_ps(u[k] + i, m), s);
        _mm256_maskstore_ps(y + i, m, silu8(s));
    }
}

const vmath_ops vmath_avx2 = {
    .v = {ITERA_ISA_AVX2, "avx2"},
    .exp = exp_avx2,
    .silu = silu_avx2,
    .gelu = gelu_avx2,
    .softplus = softplus_avx2,
    .mul_silu = mul_silu_avx2,
    .softplus_sum = softplus_sum_avx2,
    .layernorm = layernorm_avx2,
    .add_layernorm = add_layernorm_avx2,
    .conv_silu = conv_silu_avx2,
};
