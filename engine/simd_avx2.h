/*
 * simd_avx2.h: AVX2 + FMA helpers shared by the kernels (vmath_avx2.c, matmul_avx2.c,
 * qgemm_avx2.c). Include only from files compiled with the AVX2 flags.
 */
#ifndef ITERA_SIMD_AVX2_H
#define ITERA_SIMD_AVX2_H

#include <immintrin.h>

#include "simd.h"

/* Lanes [0, left) of 8 set (all ones), for vmaskmov loads and stores: all 8 for left >= 8,
 * none for left <= 0. */
AI __m256i tail_mask8(int left)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lanes [0, left) of v stored at p (left >= 8: all 8, with a plain store). vmaskmovps
 * stores are slow on AMD (Zen 3: a layer norm of 64 values took 2.4x as long with every
 * store masked as with plain ones), so only a partial vector takes one. */
AI void store_first8(float *p, int left, __m256 v)
{
    if (left >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, tail_mask8(left), v);
}

/* 2^n for integral n in [-150, 128], as the product of two normal powers of two (so the
 * result overflows to inf and underflows through denormals like a real 2^n would). */
AI __m256 pow2_split8(__m256 n, __m256 p)
{
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* Below this, e^x is under FLT_MIN: exp8 returns 0 instead of a denormal. */
#define EXP_FLUSH_BELOW (-87.33654f) /* ln(FLT_MIN) */

/* e^x, 8 lanes: the algorithm of exp16 (simd_avx512.h), 2^n applied by pow2_split8: +inf
 * above 88.72, NaN kept (a NaN x gives a garbage n but a NaN polynomial, and the product
 * stays NaN), results below FLT_MIN (x < -87.34) flushed to 0 (see exp16 for why). */
AI __m256 exp8(__m256 x)
{
    const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_FLUSH_BELOW), _CMP_NLT_UQ);
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(88.8f), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    return _mm256_and_ps(pow2_split8(n, p), keep);
}

#endif
