/*
 * qgemm_a16_avx2.c: the W8A16 products with AVX2 (vpmaddwd: 16 s16 × s16 products summed
 * in pairs into 8 int32 lanes). Compiled with -mavx2 -mfma; called only when the ISA
 * selection allows AVX2. Results equal qgemm_a16.c's references bit for bit.
 *
 * 16 bytes of a weight group (4 rows × 4 k) widen with vpmovsxbw to 16 int16 and multiply
 * the row's 4 k of x (int16, broadcast as 64 bits): lane 2t + h holds row t's k pair h
 * (|products| <= 127 · 32767: no pair sum overflows). At a chunk's end two vphaddd and a
 * lane permutation give the 16 row sums. Tiles: up to 2 rows × 1 panel.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "qgemm_a16.h"

#define AI static inline __attribute__((always_inline))

AI int64_t load64(const void *p)
{
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The largest of 8 non-negative int32 (float bits of |x|: NaN is the largest). */
AI int32_t hmax8_epi32(__m256i v)
{
    __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    return _mm_cvtsi128_si32(m);
}

void qa16_prepare_avx2(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a)
{
    const int nc = qa16_chunks(K);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int m = m0; m < m1; m++) {
        const float *xr = x + (size_t)m * ldx;
        int16_t *q = a->xq + (size_t)m * K;
        uint8_t *lo = a->lo + (size_t)m * K, *hi = a->hi + (size_t)m * K;
        for (int c = 0; c < nc; c++) {
            const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
            __m256i am = _mm256_setzero_si256();
            for (int k = k0; k < k1; k += 8)
                am = _mm256_max_epi32(am, _mm256_castps_si256(_mm256_and_ps(_mm256_loadu_ps(xr + k), absmask)));
            const int32_t abits = hmax8_epi32(am);
            float amax;
            memcpy(&amax, &abits, 4);
            const bool finite = amax < INFINITY;
            const __m256 id = _mm256_set1_ps(finite && amax >= QA16_AMAX_MIN ? (float)QA16_XMAX / amax : 0.0f);
            /* a non-finite chunk: q = 0 (NaN · 0 is not) */
            const __m256 keep = _mm256_castsi256_ps(_mm256_set1_epi32(finite ? -1 : 0));
            for (int k = k0; k < k1; k += 16) {
                const __m256i q0 = _mm256_cvtps_epi32(_mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + k), id), keep));
                const __m256i q1 = _mm256_cvtps_epi32(_mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + k + 8), id), keep));
                /* packs works per 128-bit lane: restore the element order */
                const __m256i v = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
                _mm256_storeu_si256((__m256i *)(void *)(q + k), v);
                const __m256i l = _mm256_and_si256(v, _mm256_set1_epi16(255));
                const __m256i h = _mm256_add_epi16(_mm256_srai_epi16(v, 8), _mm256_set1_epi16(128));
                /* 16 values of 0..255 each: pack to bytes (lane order fixed as above) */
                const __m256i lh = _mm256_permute4x64_epi64(_mm256_packus_epi16(l, h), 0xD8);
                _mm_storeu_si128((__m128i *)(void *)(lo + k), _mm256_castsi256_si128(lh));
                _mm_storeu_si128((__m128i *)(void *)(hi + k), _mm256_extracti128_si256(lh, 1));
            }
            a->xd[(size_t)m * nc + c] = finite ? amax / (float)QA16_XMAX : NAN;
        }
    }
}

AI void store_tile(const qa16_args *a, int m0, int MR, int p, __m256 out[2][2])
{
    const int n0 = p * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
    for (int i = 0; i < MR; i++) {
        float tmp[QG_NR];
        _mm256_storeu_ps(tmp, out[i][0]);
        _mm256_storeu_ps(tmp + 8, out[i][1]);
        float *yr = a->y + (size_t)(m0 + i) * a->ldy + n0;
        for (int r = 0; r < cnt; r++) yr[r] = a->bias ? tmp[r] + a->bias[n0 + r] : tmp[r];
    }
}

/* acc[q] lane 2t + h: row 4q + t's pair h; -> rows 0..7 and 8..15 in order. */
AI void row_sums(const __m256i acc[4], __m256i *r0_7, __m256i *r8_15)
{
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    /* hadd per 128-bit lane: [r0 r1 r4 r5 | r2 r3 r6 r7] */
    *r0_7 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc[0], acc[1]), order);
    *r8_15 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc[2], acc[3]), order);
}

AI void tile(const qa16_args *a, int m0, const int MR, int p)
{
    const int K = a->K, nc = qa16_chunks(K);
    const float *dw = qa16_panel_d(a->w, K, p);
    __m256 out[2][2];
    for (int i = 0; i < MR; i++) out[i][0] = out[i][1] = _mm256_setzero_ps();
    for (int c = 0; c < nc; c++) {
        const int g0 = c * QA16_CHUNK / 4, g1 = (c * QA16_CHUNK + QA16_CHUNK < K ? c * QA16_CHUNK + QA16_CHUNK : K) / 4;
        __m256i acc[2][4];
        for (int i = 0; i < MR; i++)
            for (int q = 0; q < 4; q++) acc[i][q] = _mm256_setzero_si256();
        for (int g = g0; g < g1; g++) {
            __m256i bx[2];
            for (int i = 0; i < MR; i++) bx[i] = _mm256_set1_epi64x(load64(a->x.xq + (size_t)(m0 + i) * K + 4 * g));
            const int8_t *wg = qa16_panel_group(a->w, K, p, g);
            for (int q = 0; q < 4; q++) {
                const __m256i w = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(wg + 16 * q)));
                for (int i = 0; i < MR; i++) acc[i][q] = _mm256_add_epi32(acc[i][q], _mm256_madd_epi16(w, bx[i]));
            }
        }
        const __m256 d0 = _mm256_load_ps(dw), d1 = _mm256_load_ps(dw + 8);
        for (int i = 0; i < MR; i++) {
            __m256i s0, s1;
            row_sums(acc[i], &s0, &s1);
            const __m256 dx = _mm256_set1_ps(a->x.xd[(size_t)(m0 + i) * nc + c]);
            out[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_mul_ps(d0, dx), out[i][0]);
            out[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_mul_ps(d1, dx), out[i][1]);
        }
    }
    store_tile(a, m0, MR, p, out);
}

static void tile_2(const qa16_args *a, int m, int p) { tile(a, m, 2, p); }
static void tile_1(const qa16_args *a, int m, int p) { tile(a, m, 1, p); }

void qa16_gemm_avx2(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    for (int p = p0; p < p1; p++) {
        int m = m0;
        for (; m + 2 <= m1; m += 2) tile_2(a, m, p);
        if (m < m1) tile_1(a, m, p);
    }
}
