/*
 * peak_avx512.c: AVX-512 (F/BW) bodies of the peak probe (see peak_impl.h).
 */
#include <immintrin.h>

#include "peak_impl.h"

/* 16 independent chains acc = acc * a + b over 16 fp32 lanes: 512 FLOP per round. */
double peak_fp32_avx512(int64_t iters)
{
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f), c2 = _mm512_set1_ps(0.2f),
           c3 = _mm512_set1_ps(0.3f), c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f),
           c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f), c8 = _mm512_set1_ps(0.8f),
           c9 = _mm512_set1_ps(0.9f), c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f),
           c12 = _mm512_set1_ps(1.2f), c13 = _mm512_set1_ps(1.3f), c14 = _mm512_set1_ps(1.4f),
           c15 = _mm512_set1_ps(1.5f);
    for (int64_t i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b);
        c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b);
        c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b);
        c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b);
        c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b);
        c9 = _mm512_fmadd_ps(c9, a, b);
        c10 = _mm512_fmadd_ps(c10, a, b);
        c11 = _mm512_fmadd_ps(c11, a, b);
        c12 = _mm512_fmadd_ps(c12, a, b);
        c13 = _mm512_fmadd_ps(c13, a, b);
        c14 = _mm512_fmadd_ps(c14, a, b);
        c15 = _mm512_fmadd_ps(c15, a, b);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                                       _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
    peak_keep(_mm512_reduce_add_ps(s));
    return (double)iters * 16 * 16 * 2;
}

/* 8 chains of u8 x s8 -> s16 (vpmaddubsw) -> s32 (vpmaddwd with ones) -> add, each with
 * its own multiplier so no two chains compute the same product: 64 MAC per chain per round. */
double peak_int8_avx512(int64_t iters)
{
    const __m512i ones = _mm512_set1_epi16(1);
    const __m512i b0 = _mm512_set1_epi8(-1), b1 = _mm512_set1_epi8(-2), b2 = _mm512_set1_epi8(-3),
                  b3 = _mm512_set1_epi8(-4), b4 = _mm512_set1_epi8(5), b5 = _mm512_set1_epi8(6),
                  b6 = _mm512_set1_epi8(7), b7 = _mm512_set1_epi8(8);
    __m512i x = _mm512_set1_epi8(3);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int64_t i = 0; i < iters; i++) {
        c0 = _mm512_add_epi32(c0, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b0), ones));
        c1 = _mm512_add_epi32(c1, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b1), ones));
        c2 = _mm512_add_epi32(c2, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b2), ones));
        c3 = _mm512_add_epi32(c3, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b3), ones));
        c4 = _mm512_add_epi32(c4, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b4), ones));
        c5 = _mm512_add_epi32(c5, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b5), ones));
        c6 = _mm512_add_epi32(c6, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b6), ones));
        c7 = _mm512_add_epi32(c7, _mm512_madd_epi16(_mm512_maddubs_epi16(x, b7), ones));
        __asm__ volatile("" : "+v"(x)); /* keep the products inside the loop */
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                 _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    /* one lane is enough for the sink (the lanes wrap; a C reduction would overflow) */
    peak_keep((float)_mm_cvtsi128_si32(_mm512_castsi512_si128(s)));
    return (double)iters * 8 * 64;
}
