/*
 * vmath_avx512.c: the element-wise functions with AVX-512 (16 floats per vector; tails
 * with masked loads and stores). Call only when itera_isa_has(ITERA_ISA_AVX512).
 *
 * exp: exp16 of simd_avx512.h (Cephes range reduction, degree-6 polynomial, scalef by 2^n:
 * overflow to inf, gradual underflow). Reciprocals:
 * rcp14 plus one Newton step (~1 ulp). erf-GELU: Φ(x) from erfc by the Numerical Recipes
 * Chebyshev form (fractional error < 1.2e-7). log1p on (0, 1]: Cephes log polynomial
 * with the rounding of 1 + u corrected. softplus_sum: the log1p terms as the log of
 * per-lane products with the roundings carried as corrections (one log per 16 terms).
 */
#include "vmath.h"

#include "simd_avx512.h"

#define S(c) _mm512_set1_ps(c)

// 1/d for d >= 1 finite: rcp14 and one Newton step.
AI __m512 recip16(__m512 d) {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, S(2.0f)));
}

// x · sigmoid(x) = x / (1 + e^-x); e^-x capped at e^87 so 1 + e^-x stays finite.
AI __m512 silu16(__m512 x) {
    const __m512 e = exp16(_mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), S(87.0f)));
    return _mm512_mul_ps(x, recip16(_mm512_add_ps(e, S(1.0f))));
}

// x/2 · (1 + erf(x/√2)) = x · Φ(x), Φ from erfc(|x|/√2) so the negative side keeps its
// relative accuracy: erfc(z) = t · exp(-z² - 1.26551223 + t·P(t)), t = 1/(1 + z/2).
AI __m512 gelu16(__m512 x) {
    const __m512 z = _mm512_min_ps(_mm512_mul_ps(_mm512_abs_ps(x), S(0.70710678118654752f)),
                                   S(1e4f));
    const __m512 t = recip16(_mm512_fmadd_ps(z, S(0.5f), S(1.0f)));
    __m512 p = S(0.17087277f);
    p = _mm512_fmadd_ps(p, t, S(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, S(1.48851587f));
    p = _mm512_fmadd_ps(p, t, S(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, S(0.27886807f));
    p = _mm512_fmadd_ps(p, t, S(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, S(0.09678418f));
    p = _mm512_fmadd_ps(p, t, S(0.37409196f));
    p = _mm512_fmadd_ps(p, t, S(1.00002368f));
    p = _mm512_fmadd_ps(p, t, S(-1.26551223f));
    p = _mm512_fnmadd_ps(z, z, p);
    const __m512 half_erfc = _mm512_mul_ps(_mm512_mul_ps(t, S(0.5f)), exp16(p));
    const __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512 phi = _mm512_mask_sub_ps(half_erfc, pos, S(1.0f), half_erfc);
    return _mm512_mul_ps(x, phi);
}

/* Cephes logf's polynomial: log(1 + f) − f + f²/2 for f in [√½ − 1, √2 − 1], f2 = f². */
AI __m512 log_poly16(__m512 f, __m512 f2)
{
    __m512 p = S(7.0376836292e-2f);
    p = _mm512_fmadd_ps(p, f, S(-1.1514610310e-1f));
    p = _mm512_fmadd_ps(p, f, S(1.1676998740e-1f));
    p = _mm512_fmadd_ps(p, f, S(-1.2420140846e-1f));
    p = _mm512_fmadd_ps(p, f, S(1.4249322787e-1f));
    p = _mm512_fmadd_ps(p, f, S(-1.6668057665e-1f));
    p = _mm512_fmadd_ps(p, f, S(2.0000714765e-1f));
    p = _mm512_fmadd_ps(p, f, S(-2.4999993993e-1f));
    p = _mm512_fmadd_ps(p, f, S(3.3333331174e-1f));
    return _mm512_mul_ps(_mm512_mul_ps(p, f), f2);
}

// log(1 + u) for u in [0, 1]: w = 1 + u rounded, c = u - (w - 1) its rounding error;
// log w by Cephes on m in [√½, √2) (w or w/2), plus c/w.
AI __m512 log1p16_unit(__m512 u) {
    const __m512 w = _mm512_add_ps(u, S(1.0f));
    const __m512 c = _mm512_sub_ps(u, _mm512_sub_ps(w, S(1.0f)));
    const __mmask16 big = _mm512_cmp_ps_mask(w, S(1.41421356237f), _CMP_GT_OQ);
    const __m512 e = _mm512_maskz_mov_ps(big, S(1.0f));
    const __m512 m = _mm512_mask_mul_ps(w, big, w, S(0.5f));
    const __m512 f = _mm512_sub_ps(m, S(1.0f));
    const __m512 f2 = _mm512_mul_ps(f, f);
    __m512 y = log_poly16(f, f2);
    y = _mm512_fmadd_ps(e, S(-2.12194440e-4f), y);
    y = _mm512_fmadd_ps(f2, S(-0.5f), y);
    y = _mm512_fmadd_ps(c, _mm512_rcp14_ps(w), y);
    const __m512 r = _mm512_add_ps(f, y);
    return _mm512_fmadd_ps(e, S(0.693359375f), r);
}

// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
AI __m512 softplus16(__m512 x) {
    const __m512 u = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    return _mm512_add_ps(_mm512_max_ps(x, _mm512_setzero_ps()), log1p16_unit(u));
}

#define UNARY(name, fn)                                                      \
    static void name(float *y, const float *x, int n) {                      \
        int i = 0;                                                           \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, fn(_mm512_loadu_ps(x + i))); \
        if (i < n) {                                                         \
            const __mmask16 k = tail_mask16(n - i);                            \
            _mm512_mask_storeu_ps(y + i, k, fn(_mm512_maskz_loadu_ps(k, x + i))); \
        }                                                                    \
    }
UNARY(exp_avx512, exp16)
UNARY(silu_avx512, silu16)
UNARY(gelu_avx512, gelu16)
UNARY(softplus_avx512, softplus16)

static void mul_silu_avx512(float *y, const float *a, const float *g, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(a + i),
                                              silu16(_mm512_loadu_ps(g + i))));
    if (i < n) {
        const __mmask16 k = tail_mask16(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, a + i),
                                       silu16(_mm512_maskz_loadu_ps(k, g + i)));
        _mm512_mask_storeu_ps(y + i, k, v);
    }
}

// log(P) for P in [1, 2^24], finite: P = 2^k · m with m in [√½, √2) (getexp/getmant, then
// halve m above √2), f = m − 1 exact, Cephes log polynomial as in log1p16_unit.
AI __m512 log16_ge1(__m512 P) {
    __m512 k = _mm512_getexp_ps(P);
    __m512 m = _mm512_getmant_ps(P, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    const __mmask16 big = _mm512_cmp_ps_mask(m, S(1.41421356237f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, S(0.5f));
    k = _mm512_mask_add_ps(k, big, k, S(1.0f));
    const __m512 f = _mm512_sub_ps(m, S(1.0f));
    const __m512 f2 = _mm512_mul_ps(f, f);
    __m512 y = log_poly16(f, f2);
    y = _mm512_fmadd_ps(k, S(-2.12194440e-4f), y);
    y = _mm512_fmadd_ps(f2, S(-0.5f), y);
    return _mm512_fmadd_ps(k, S(0.693359375f), _mm512_add_ps(f, y));
}

// Σ softplus(x) = Σ max(x, 0) + Σ log1p(u), u = e^-|x| in [0, 1]. The log1p terms are
// summed per lane as the log of a product P = Π w, w = fl(1 + u), one log per 16 terms
// instead of one log1p per element. The roundings are carried as first-order
// corrections: c = u − (w − 1) (exact) adds c/w, and each product's error
// e = P·w − fl(P·w) (exact by FMA) adds e/fl(P·w); both are below 2^-24 relative, so
// rcp14 reciprocals are plenty. P stays below 2^16 (16 factors of at most 2).
static float softplus_sum_avx512(const float *x, int n) {
    __m512 s = _mm512_setzero_ps(), lg = _mm512_setzero_ps(), P = S(1.0f);
    int terms = 0;
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        const __m512 u = _mm512_maskz_mov_ps(
            m, exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(v))));
        s = _mm512_add_ps(s, _mm512_max_ps(v, _mm512_setzero_ps()));
        const __m512 w = _mm512_add_ps(u, S(1.0f));
        const __m512 c = _mm512_sub_ps(u, _mm512_sub_ps(w, S(1.0f)));
        const __m512 Pw = _mm512_mul_ps(P, w);
        const __m512 e = _mm512_fmsub_ps(P, w, Pw);
        s = _mm512_fmadd_ps(c, _mm512_rcp14_ps(w), s);
        s = _mm512_fmadd_ps(e, _mm512_rcp14_ps(Pw), s);
        P = Pw;
        if (++terms == 16) {
            lg = _mm512_add_ps(lg, log16_ge1(P));
            P = S(1.0f);
            terms = 0;
        }
    }
    if (terms) lg = _mm512_add_ps(lg, log16_ge1(P));
    return _mm512_reduce_add_ps(_mm512_add_ps(s, lg));
}

// Rows of up to LN_REG_MAX values (4 vectors) stay in registers: one load of x (and a:
// x + a is then stored to xout), the two-pass mean and variance on the registers, one
// store of y.
#define LN_REG_MAX 64

AI void layernorm_regs(float *y, const float *x, float *xout, const float *a, const float *w,
                       const float *b, int n, float eps) {
    __m512 v[4];
    __mmask16 mk[4];
    __m512 s = _mm512_setzero_ps();
    for (int j = 0; j < 4; j++) {
        const int i = 16 * j;
        mk[j] = tail_mask16(n - i);
        v[j] = _mm512_maskz_loadu_ps(mk[j], x + i);
        if (a) {
            v[j] = _mm512_add_ps(v[j], _mm512_maskz_loadu_ps(mk[j], a + i));
            _mm512_mask_storeu_ps(xout + i, mk[j], v[j]);
        }
        s = _mm512_add_ps(s, v[j]);
    }
    const __m512 mean = S(_mm512_reduce_add_ps(s) / (float)n);
    __m512 q = _mm512_setzero_ps();
    for (int j = 0; j < 4; j++) {
        v[j] = _mm512_maskz_sub_ps(mk[j], v[j], mean);
        q = _mm512_fmadd_ps(v[j], v[j], q);
    }
    const __m512 rstd = S(1.0f / __builtin_sqrtf(_mm512_reduce_add_ps(q) / (float)n + eps));
    for (int j = 0; j < 4; j++) {
        if (!mk[j]) break;
        const int i = 16 * j;
        const __m512 t = _mm512_mul_ps(v[j], rstd);
        const __m512 wv = w ? _mm512_maskz_loadu_ps(mk[j], w + i) : S(1.0f);
        const __m512 bv = b ? _mm512_maskz_loadu_ps(mk[j], b + i) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y + i, mk[j], _mm512_fmadd_ps(t, wv, bv));
    }
}

static void layernorm_avx512(float *y, const float *x, const float *w, const float *b, int n,
                             float eps) {
    if (n <= 0) return;
    if (n <= LN_REG_MAX) {
        layernorm_regs(y, x, NULL, NULL, w, b, n, eps);
        return;
    }
    const int nf = n & ~15;
    const __mmask16 k = tail_mask16(n - nf);
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < nf; i += 16) s = _mm512_add_ps(s, _mm512_loadu_ps(x + i));
    if (k) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(k, x + nf));
    const float meanf = _mm512_reduce_add_ps(s) / (float)n;
    const __m512 mean = S(meanf);
    __m512 v = _mm512_setzero_ps();
    for (int i = 0; i < nf; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), mean);
        v = _mm512_fmadd_ps(d, d, v);
    }
    if (k) {
        const __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + nf), mean);
        v = _mm512_fmadd_ps(d, d, v);
    }
    const float var = _mm512_reduce_add_ps(v) / (float)n;
    const __m512 rstd = S(1.0f / __builtin_sqrtf(var + eps));
    for (int i = 0; i < n; i += 16) {
        const __mmask16 kk = i < nf ? (__mmask16)0xffff : k;
        const __m512 t =
            _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(kk, x + i), mean), rstd);
        const __m512 wv = w ? _mm512_maskz_loadu_ps(kk, w + i) : S(1.0f);
        const __m512 bv = b ? _mm512_maskz_loadu_ps(kk, b + i) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y + i, kk, _mm512_fmadd_ps(t, wv, bv));
    }
}

// The add in vectors (a scalar add before a vector layer norm stalls on store forwarding).
static void add_layernorm_avx512(float *y, float *x, const float *a, const float *w,
                                 const float *b, int n, float eps) {
    if (n <= 0) return;
    if (n <= LN_REG_MAX) {
        layernorm_regs(y, x, x, a, w, b, n, eps);
        return;
    }
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i),
                                                      _mm512_maskz_loadu_ps(m, a + i)));
    }
    layernorm_avx512(y, x, w, b, n, eps);
}

// Full vectors, then one masked tail; the taps accumulate by FMA in order k = 0..K−1.
static void conv_silu_avx512(float *y, const float *const *u, const float *wt, const float *bias,
                             int K, int n) {
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        __m512 s = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
        for (int k = 0; k < K; k++)
            s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wt + (size_t)k * n + i),
                                _mm512_maskz_loadu_ps(m, u[k] + i), s);
        _mm512_mask_storeu_ps(y + i, m, silu16(s));
    }
}

const vmath_ops vmath_avx512 = {
    .v = {ITERA_ISA_AVX512, "avx512"},
    .exp = exp_avx512,
    .silu = silu_avx512,
    .gelu = gelu_avx512,
    .softplus = softplus_avx512,
    .mul_silu = mul_silu_avx512,
    .softplus_sum = softplus_sum_avx512,
    .layernorm = layernorm_avx512,
    .add_layernorm = add_layernorm_avx512,
    .conv_silu = conv_silu_avx512,
};
