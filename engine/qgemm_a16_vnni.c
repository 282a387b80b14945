/*
 * qgemm_a16_vnni.c: the W8A16 products with AVX-512 VNNI, the activations as two bytes
 * (qgemm_a16.h): per group of 4 k, one vpdpbusd of the low bytes and one of the high bytes
 * against the same 64 bytes of weights (16 rows × 4 k), so 64 multiply-adds of 16-bit x
 * by 8-bit w take two instructions. Compiled with -mavx512vnni; called only when the ISA
 * selection allows AVX512VNNI. Results equal qgemm_a16.c's references bit for bit.
 *
 * Tiles: MR rows of x × NP panels of 16 outputs. Per chunk the high accumulator starts
 * from the panel's nsum and the low one from 0; at the chunk's end isum = (hi << 8) + lo
 * and one multiply-add scales it into the float result. Prefill runs 2 × 4 tiles (16
 * accumulators); decode (up to 3 rows) 1 × 8 and 1..3 × 4 / 2 / 1.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "qgemm_a16.h"

#define AI static inline __attribute__((always_inline))

AI int32_t load32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

void qa16_prepare_vnni(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a)
{
    const int nc = qa16_chunks(K);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512i b255 = _mm512_set1_epi32(255), b128 = _mm512_set1_epi32(128);
    for (int m = m0; m < m1; m++) {
        const float *xr = x + (size_t)m * ldx;
        int16_t *q = a->xq + (size_t)m * K;
        uint8_t *lo = a->lo + (size_t)m * K, *hi = a->hi + (size_t)m * K;
        for (int c = 0; c < nc; c++) {
            const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
            /* max|x| on the bits: NaN is the largest (qgemm_a16.c) */
            __m512i am = _mm512_setzero_si512();
            for (int k = k0; k < k1; k += 16)
                am = _mm512_max_epi32(am, _mm512_castps_si512(_mm512_and_ps(_mm512_loadu_ps(xr + k), absmask)));
            const int32_t abits = _mm512_reduce_max_epi32(am);
            float amax;
            memcpy(&amax, &abits, 4);
            const bool finite = amax < INFINITY;
            const __m512 id = _mm512_set1_ps(finite && amax >= QA16_AMAX_MIN ? (float)QA16_XMAX / amax : 0.0f);
            const __mmask16 keep = finite ? 0xffff : 0; /* a non-finite chunk: q = 0 (NaN · 0 is not) */
            for (int k = k0; k < k1; k += 16) {
                const __m512i v = _mm512_cvtps_epi32(_mm512_maskz_mul_ps(keep, _mm512_loadu_ps(xr + k), id));
                _mm256_storeu_si256((__m256i *)(void *)(q + k), _mm512_cvtepi32_epi16(v));
                _mm_storeu_si128((__m128i *)(void *)(lo + k), _mm512_cvtepi32_epi8(_mm512_and_si512(v, b255)));
                _mm_storeu_si128((__m128i *)(void *)(hi + k),
                                 _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_srai_epi32(v, 8), b128)));
            }
            a->xd[(size_t)m * nc + c] = finite ? amax / (float)QA16_XMAX : NAN;
        }
    }
}

/* Writes a tile's results (+ bias) to y, masking past n_out. */
AI void store_tile(const qa16_args *a, int m0, int MR, int p, int NP, __m512 out[4][8])
{
    for (int j = 0; j < NP; j++) {
        const int n0 = (p + j) * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
        const __mmask16 mask = (__mmask16)((1u << cnt) - 1u);
        const __m512 bias = a->bias ? _mm512_maskz_loadu_ps(mask, a->bias + n0) : _mm512_setzero_ps();
        for (int i = 0; i < MR; i++) {
            __m512 v = a->bias ? _mm512_add_ps(out[i][j], bias) : out[i][j];
            _mm512_mask_storeu_ps(a->y + (size_t)(m0 + i) * a->ldy + n0, mask, v);
        }
    }
}

AI void tile(const qa16_args *a, int m0, const int MR, int p, const int NP)
{
    const int K = a->K, nc = qa16_chunks(K);
    __m512 out[4][8];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NP; j++) out[i][j] = _mm512_setzero_ps();
    for (int c = 0; c < nc; c++) {
        const int g0 = c * QA16_CHUNK / 4, g1 = (c * QA16_CHUNK + QA16_CHUNK < K ? c * QA16_CHUNK + QA16_CHUNK : K) / 4;
        __m512i acc_lo[4][8], acc_hi[4][8];
        for (int j = 0; j < NP; j++) {
            const __m512i ns = _mm512_load_si512(qa16_panel_nsum(a->w, K, p + j, c));
            for (int i = 0; i < MR; i++) acc_lo[i][j] = _mm512_setzero_si512(), acc_hi[i][j] = ns;
        }
#pragma GCC unroll 4
        for (int g = g0; g < g1; g++) {
            __m512i bl[4], bh[4];
            for (int i = 0; i < MR; i++) {
                bl[i] = _mm512_set1_epi32(load32(a->x.lo + (size_t)(m0 + i) * K + 4 * g));
                bh[i] = _mm512_set1_epi32(load32(a->x.hi + (size_t)(m0 + i) * K + 4 * g));
            }
            for (int j = 0; j < NP; j++) {
                const __m512i w = _mm512_load_si512(qa16_panel_group(a->w, K, p + j, g));
                for (int i = 0; i < MR; i++) {
                    acc_lo[i][j] = _mm512_dpbusd_epi32(acc_lo[i][j], bl[i], w);
                    acc_hi[i][j] = _mm512_dpbusd_epi32(acc_hi[i][j], bh[i], w);
                }
            }
        }
        for (int j = 0; j < NP; j++) {
            const __m512 dw = _mm512_load_ps(qa16_panel_d(a->w, K, p + j));
            for (int i = 0; i < MR; i++) {
                const __m512i isum = _mm512_add_epi32(_mm512_slli_epi32(acc_hi[i][j], 8), acc_lo[i][j]);
                const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(a->x.xd[(size_t)(m0 + i) * nc + c]));
                out[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), s, out[i][j]);
            }
        }
    }
    store_tile(a, m0, MR, p, NP, out);
}

typedef void (*tile_fn)(const qa16_args *, int, int);
#define TILE(R, P) \
    static void tile_##R##x##P(const qa16_args *a, int m, int p) { tile(a, m, R, p, P); }
TILE(1, 1) TILE(2, 1) TILE(3, 1)
TILE(1, 2) TILE(2, 2) TILE(3, 2)
TILE(1, 4) TILE(2, 4) TILE(3, 4) TILE(1, 8)

/* rows [m0, m1) × panels [p0, p1): panel groups outer (their weights stay in L1 while the
 * rows pass), rows inner; decode's 1 row takes 1 × 8 tiles (16 independent chains). */
void qa16_gemm_vnni(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    static const tile_fn by4[4] = {NULL, tile_1x4, tile_2x4, tile_3x4};
    static const tile_fn by2[4] = {NULL, tile_1x2, tile_2x2, tile_3x2};
    static const tile_fn by1[4] = {NULL, tile_1x1, tile_2x1, tile_3x1};
    int p = p0;
    if (m1 - m0 == 1)
        for (; p + 8 <= p1; p += 8) tile_1x8(a, m0, p);
    const bool few = m1 - m0 < 4; /* decode: 3 rows at most, one tile row */
    for (; p + 4 <= p1; p += 4) {
        int m = m0;
        if (!few)
            for (; m + 2 <= m1; m += 2) tile_2x4(a, m, p);
        if (m < m1) by4[m1 - m](a, m, p);
    }
    for (; p + 2 <= p1; p += 2) {
        int m = m0;
        for (; m + 3 <= m1; m += 3) tile_3x2(a, m, p);
        if (m < m1) by2[m1 - m](a, m, p);
    }
    for (; p < p1; p++) {
        int m = m0;
        for (; m + 3 <= m1; m += 3) tile_3x1(a, m, p);
        if (m < m1) by1[m1 - m](a, m, p);
    }
}
