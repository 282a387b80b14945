/*
 * simd_avx512.h: AVX-512 helpers shared by the kernels (vmath_avx512.c, scan_avx512.c,
 * matmul_avx512.c, qgemm_vnni.c). Include only from files compiled with the AVX-512 flags.
 */
#ifndef ITERA_SIMD_AVX512_H
#define ITERA_SIMD_AVX512_H

#include <immintrin.h>

#include "simd.h"

/* Lanes [0, left) of 16: all 16 for left >= 16, none for left <= 0. */
AI __mmask16 tail_mask16(int left)
{
    return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}

/* Below this, e^x is under FLT_MIN: exp16 / exp8 return 0 instead of a denormal. */
#define EXP_FLUSH_BELOW (-87.33654f) /* ln(FLT_MIN) */

/* e^x, 16 lanes, within ~2 ulp of expf for results >= FLT_MIN: Cephes range reduction
 * x = n·ln2 + r (ln2 in two parts), a degree-6 polynomial for e^r on |r| <= ln2/2, then
 * vscalefps by 2^n; +inf above 88.72; NaN passes through (min/max return their second
 * operand when either is NaN). Results below FLT_MIN (x < -87.34) are flushed to 0, as FTZ
 * would: a denormal costs a microcode assist in every FMA that reads it (the chunked
 * scan's decays e^(A·ΣΔ) over a 256-token chunk reach e^-200: with denormals, a 8192-token
 * scan took 6.2 ms instead of 3.9), and no result of the model depends on a value below
 * 1.2e-38. */
AI __m512 exp16(__m512 x)
{
    const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_FLUSH_BELOW), _CMP_NLT_UQ);
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(88.8f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

#endif
