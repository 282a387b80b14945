/*
 * qgemm_a16_avx2.c: the W8A16 products with AVX2 (vpmaddwd: 16 s16 × s16 products summed
 * in pairs into 8 int32 lanes). Compiled with -mavx2 -mfma; called only when the ISA
 * selection allows AVX2. Results equal qgemm_a16.c's references bit for bit.
 *
 * Two paths, by the rows of a call:
 *  - WIDE_MIN_ROWS rows and more (prefill): a panel's chunk of weights is first widened
 *    once into int16 on the stack (widen_chunk: wb[pair j][half h] = the 8 rows 8h..8h+7
 *    at k pair j, lane t = (q[8h+t][k], q[8h+t][k+1])), then tiles of up to WIDE_MR = 4
 *    rows multiply it: per k pair, one 32-bit broadcast of the row's x pair and two
 *    vpmaddwd whose lanes are output rows, so the 8 accumulators need no reduction. The
 *    int8 panel layout stays the VNNI one (qgemm_a16.h); the shuffle to pairs is paid once
 *    per panel and chunk, not once per row. (Tiles of 5 and 6 rows measured the same.)
 *  - fewer rows (decode): each 16 bytes of a weight group (4 rows × 4 k) widen with
 *    vpmovsxbw to 16 int16 and multiply the row's 4 k of x (int16, broadcast as 64 bits):
 *    lane 2t + h holds row t's k pair h (|products| <= 127 · 32767: no pair sum
 *    overflows). At a chunk's end two vphaddd and a lane permutation give the 16 row
 *    sums. Tiles: 2 rows × 1 panel, or 1 row × 2 panels (decode B=1: the loop and fold
 *    costs of a panel shared by two); full panels are stored with vector stores.
 * Both fold each chunk as the reference does: y = fma((float)isum, dw · dx, y), chunks in
 * order from 0, then + bias.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "qgemm_a16.h"
#include "simd_avx2.h"

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

/* acc[q] lane 2t + h: row 4q + t's pair h; -> rows 0..7 and 8..15 in order. */
AI void row_sums(const __m256i acc[4], __m256i *r0_7, __m256i *r8_15)
{
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    /* hadd per 128-bit lane: [r0 r1 r4 r5 | r2 r3 r6 r7] */
    *r0_7 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc[0], acc[1]), order);
    *r8_15 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc[2], acc[3]), order);
}

/* Hot loops start at a fixed place in a 64-byte line (HOT): decode B=1 measured 5.6%
 * slower (interleaved A/B) when unrelated code moved its loop from offset 8 to 40. */
#define HOT __attribute__((aligned(64)))

/* ---- the narrow path (decode: fewer than WIDE_MIN_ROWS rows) ---- */

/* Each group's line is prefetched this many bytes ahead (about two panels at K = 64):
 * decode streams every weight once per token, and the least of 5 interleaved
 * `itera profile --seq 1` forwards went from 19.0 µs (distance 0) to 17.7 µs (a noisy VM;
 * not an A/B of its own: the tiles' A/B measured the two together). */
enum { NARROW_PREFETCH = 2048 };
/* sums[i][n][h] = the int32 sums of row x_i (x + i · K) × panel n's rows 8h..8h+7 over ng
 * groups, the panels' groups at w[n] (64 bytes each, consecutive). MR · NP <= 2: 8
 * accumulators. */
AI void narrow_dot(const int8_t *const w[2], const int16_t *x, int K, int ng, const int MR, const int NP,
                   __m256i sums[2][2][2])
{
    __m256i acc[2][2][4];
    for (int i = 0; i < MR; i++)
        for (int n = 0; n < NP; n++)
            for (int q = 0; q < 4; q++) acc[i][n][q] = _mm256_setzero_si256();
    for (int g = 0; g < ng; g++) {
        __m256i bx[2];
        for (int i = 0; i < MR; i++) bx[i] = _mm256_set1_epi64x(load64(x + (size_t)i * K + 4 * g));
        for (int n = 0; n < NP; n++) _mm_prefetch((const char *)(w[n] + 64 * g) + NARROW_PREFETCH, _MM_HINT_T0);
        for (int n = 0; n < NP; n++)
            for (int q = 0; q < 4; q++) {
                const __m256i wq = _mm256_cvtepi8_epi16(
                    _mm_load_si128((const __m128i *)(const void *)(w[n] + 64 * g + 16 * q)));
                for (int i = 0; i < MR; i++) acc[i][n][q] = _mm256_add_epi32(acc[i][n][q], _mm256_madd_epi16(wq, bx[i]));
            }
    }
    for (int i = 0; i < MR; i++)
        for (int n = 0; n < NP; n++) row_sums(acc[i][n], &sums[i][n][0], &sums[i][n][1]);
}

/* The dot product in a function of its own per shape (noinline: inlined into the tile,
 * GCC 12 copied accumulators each iteration, as in the wide path). */
#define DEF_NARROW_DOT(mr, np)                                                                         \
    static HOT __attribute__((noinline)) void narrow_dot_##mr##x##np(const int8_t *const w[2],          \
                                                                      const int16_t *x, int K, int ng,   \
                                                                      __m256i sums[2][2][2])             \
    {                                                                                                  \
        narrow_dot(w, x, K, ng, mr, np, sums);                                                         \
    }
DEF_NARROW_DOT(1, 1) DEF_NARROW_DOT(1, 2) DEF_NARROW_DOT(2, 1)

/* y of rows [m0, m0 + MR), panel p: out (+ bias); columns past n_out are not written. */
AI void store_tile(const qa16_args *a, int m0, const int MR, int p, __m256 out[2][2])
{
    const int n0 = p * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
    for (int i = 0; i < MR; i++) {
        float *yr = a->y + (size_t)(m0 + i) * a->ldy + n0;
        if (cnt == QG_NR) { /* full panel: plain vector stores */
            __m256 y0 = out[i][0], y1 = out[i][1];
            if (a->bias)
                y0 = _mm256_add_ps(y0, _mm256_loadu_ps(a->bias + n0)),
                y1 = _mm256_add_ps(y1, _mm256_loadu_ps(a->bias + n0 + 8));
            _mm256_storeu_ps(yr, y0);
            _mm256_storeu_ps(yr + 8, y1);
            continue;
        }
        float tmp[QG_NR];
        _mm256_storeu_ps(tmp, out[i][0]);
        _mm256_storeu_ps(tmp + 8, out[i][1]);
        for (int r = 0; r < cnt; r++) yr[r] = a->bias ? tmp[r] + a->bias[n0 + r] : tmp[r];
    }
}

/* Rows [m0, m0 + MR) × panels [p, p + NP): each chunk's integer sums, folded as the
 * reference does (y = fma((float)isum, dw · dx, y), chunks in order), then + bias. */
AI void narrow_tile(const qa16_args *a, int m0, const int MR, int p, const int NP)
{
    const int K = a->K, nc = qa16_chunks(K);
    __m256 out[2][2][2]; /* [panel][row][half] */
    for (int n = 0; n < NP; n++)
        for (int i = 0; i < MR; i++) out[n][i][0] = out[n][i][1] = _mm256_setzero_ps();
    for (int c = 0; c < nc; c++) {
        const int g0 = c * QA16_CHUNK / 4, g1 = (c * QA16_CHUNK + QA16_CHUNK < K ? c * QA16_CHUNK + QA16_CHUNK : K) / 4;
        const int8_t *w[2] = {qa16_panel_group(a->w, K, p, g0), NP > 1 ? qa16_panel_group(a->w, K, p + 1, g0) : NULL};
        const int16_t *x = a->x.xq + (size_t)m0 * K + 4 * g0;
        __m256i sums[2][2][2];
        if (MR == 2) narrow_dot_2x1(w, x, K, g1 - g0, sums);
        else if (NP == 2) narrow_dot_1x2(w, x, K, g1 - g0, sums);
        else narrow_dot_1x1(w, x, K, g1 - g0, sums);
        for (int n = 0; n < NP; n++) {
            const float *dw = qa16_panel_d(a->w, K, p + n);
            const __m256 d0 = _mm256_load_ps(dw), d1 = _mm256_load_ps(dw + 8);
            for (int i = 0; i < MR; i++) {
                const __m256 dx = _mm256_set1_ps(a->x.xd[(size_t)(m0 + i) * nc + c]);
                out[n][i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i][n][0]), _mm256_mul_ps(d0, dx), out[n][i][0]);
                out[n][i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i][n][1]), _mm256_mul_ps(d1, dx), out[n][i][1]);
            }
        }
    }
    for (int n = 0; n < NP; n++) store_tile(a, m0, MR, p + n, out[n]);
}

static void tile_2x1(const qa16_args *a, int m, int p) { narrow_tile(a, m, 2, p, 1); }
static void tile_1x2(const qa16_args *a, int m, int p) { narrow_tile(a, m, 1, p, 2); }
static void tile_1x1(const qa16_args *a, int m, int p) { narrow_tile(a, m, 1, p, 1); }

/* ---- the widened path (prefill) ---- */

/* From 5 rows: with 4 (decode B=4) the narrow tiles measured faster, the widening not
 * paying for itself (interleaved A/B, int8 decode B=4: 0.912 [0.851, 0.965] at 1 thread,
 * 0.972 [0.949, 0.994] at 2). */
enum { WIDE_MIN_ROWS = 5, WIDE_MR = 4 };

/* Groups [g0, g1) of panel p (at most QA16_CHUNK / 4) into wb: for pair j = 2 (g − g0) + e
 * (e = 0: k 4g, 4g + 1; e = 1: k 4g + 2, 4g + 3) and half h, the 16 int16 at wb + 32 j + 16 h
 * hold rows 8h..8h+7 as (k, k + 1) pairs. */
AI void widen_chunk(const qa16_args *a, int p, int g0, int g1, int16_t *restrict wb)
{
    /* per 128-bit lane (rows t = 0..3, byte 4t + j = k j): k 0,1 of the 4 rows, then k 2,3 */
    const __m256i pairs = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                           0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    for (int g = g0; g < g1; g++) {
        const int8_t *wg = qa16_panel_group(a->w, a->K, p, g);
        int16_t *out = wb + (size_t)(g - g0) * 64;
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_shuffle_epi8(_mm256_load_si256((const __m256i *)(const void *)(wg + 32 * h)), pairs);
            /* qwords [rows 0-3 k01, rows 0-3 k23, rows 4-7 k01, rows 4-7 k23] -> k01 | k23 */
            v = _mm256_permute4x64_epi64(v, 0xD8);
            _mm256_store_si256((__m256i *)(void *)(out + 16 * h), _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)));
            _mm256_store_si256((__m256i *)(void *)(out + 32 + 16 * h),
                               _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)));
        }
    }
}

/* sums[i][h] = the int32 sums of rows x_i (x + i · K, pairs from x's k0) × wb's rows
 * 8h..8h+7 over npairs k pairs. */
AI void wide_dot(const int16_t *restrict wb, const int16_t *restrict x, int K, int npairs, const int MR,
                 __m256i sums[][2])
{
    __m256i acc[WIDE_MR][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (int j = 0; j < npairs; j++) {
        const __m256i w0 = _mm256_load_si256((const __m256i *)(const void *)(wb + 32 * j));
        const __m256i w1 = _mm256_load_si256((const __m256i *)(const void *)(wb + 32 * j + 16));
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            const __m256i bx = _mm256_set1_epi32(load32(x + (size_t)i * K + 2 * j));
            acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(w0, bx));
            acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(w1, bx));
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) sums[i][0] = acc[i][0], sums[i][1] = acc[i][1];
}

/* Rows [m0, m0 + MR) × panel p, chunk c: y folds the chunk's sums; the first chunk starts
 * from 0, the last adds the bias. Columns past n_out are left untouched (masked loads and
 * stores; vmaskmovps stores are slow on AMD, so a full panel takes plain ones). */
AI void wide_fold(const qa16_args *a, __m256i sums[][2], int m0, const int MR, int p, int c)
{
    const int nc = qa16_chunks(a->K), n0 = p * QG_NR;
    const int cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
    const float *dw = qa16_panel_d(a->w, a->K, p);
    const __m256 d0 = _mm256_load_ps(dw), d1 = _mm256_load_ps(dw + 8);
    const __m256i mk0 = tail_mask8(cnt), mk1 = tail_mask8(cnt - 8);
    const bool first = c == 0, last = c == nc - 1, full = cnt == QG_NR;
    const __m256 b0 = last && a->bias ? _mm256_maskload_ps(a->bias + n0, mk0) : _mm256_setzero_ps();
    const __m256 b1 = last && a->bias ? _mm256_maskload_ps(a->bias + n0 + 8, mk1) : _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        float *yr = a->y + (size_t)(m0 + i) * a->ldy + n0;
        const __m256 dx = _mm256_set1_ps(a->x.xd[(size_t)(m0 + i) * nc + c]);
        __m256 y0 = _mm256_setzero_ps(), y1 = _mm256_setzero_ps();
        if (!first) {
            y0 = full ? _mm256_loadu_ps(yr) : _mm256_maskload_ps(yr, mk0);
            y1 = full ? _mm256_loadu_ps(yr + 8) : _mm256_maskload_ps(yr + 8, mk1);
        }
        y0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i][0]), _mm256_mul_ps(d0, dx), y0);
        y1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i][1]), _mm256_mul_ps(d1, dx), y1);
        if (last && a->bias) y0 = _mm256_add_ps(y0, b0), y1 = _mm256_add_ps(y1, b1);
        if (full) {
            _mm256_storeu_ps(yr, y0);
            _mm256_storeu_ps(yr + 8, y1);
        } else {
            _mm256_maskstore_ps(yr, mk0, y0);
            _mm256_maskstore_ps(yr + 8, mk1, y1);
        }
    }
}

/* Per tile height: the dot product in a function of its own (noinline: inlined into the
 * fold, GCC 12 copies every accumulator each iteration instead of adding in place, and
 * the head's product ran about 10% slower), then the fold. */
#define DEF_WIDE(mr)                                                                                      \
    static HOT __attribute__((noinline)) void wide_dot_##mr(const int16_t *wb, const int16_t *x, int K,   \
                                                             int npairs, __m256i sums[][2])               \
    {                                                                                                     \
        wide_dot(wb, x, K, npairs, mr, sums);                                                             \
    }                                                                                                     \
    static void wide_##mr(const qa16_args *a, const int16_t *wb, int m, int p, int c, int k0, int npairs) \
    {                                                                                                     \
        __m256i sums[mr][2];                                                                              \
        wide_dot_##mr(wb, a->x.xq + (size_t)m * a->K + k0, a->K, npairs, sums);                           \
        wide_fold(a, sums, m, mr, p, c);                                                                  \
    }
DEF_WIDE(1) DEF_WIDE(2) DEF_WIDE(3) DEF_WIDE(4)
static void (*const wide_tiles[WIDE_MR + 1])(const qa16_args *, const int16_t *, int, int, int, int, int) = {
    NULL, wide_1, wide_2, wide_3, wide_4};

static void gemm_wide(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    _Alignas(32) int16_t wb[QA16_CHUNK * QG_NR]; /* one chunk of a panel, widened: 8 KiB */
    const int K = a->K, nc = qa16_chunks(K);
    for (int p = p0; p < p1; p++)
        for (int c = 0; c < nc; c++) {
            const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
            widen_chunk(a, p, k0 / 4, k1 / 4, wb);
            int m = m0;
            for (; m + WIDE_MR <= m1; m += WIDE_MR) wide_tiles[WIDE_MR](a, wb, m, p, c, k0, (k1 - k0) / 2);
            if (m < m1) wide_tiles[m1 - m](a, wb, m, p, c, k0, (k1 - k0) / 2);
        }
}

void qa16_gemm_avx2(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    if (m1 - m0 >= WIDE_MIN_ROWS) {
        gemm_wide(a, m0, m1, p0, p1);
        return;
    }
    int m = m0;
    for (; m + 2 <= m1; m += 2)
        for (int p = p0; p < p1; p++) tile_2x1(a, m, p);
    if (m < m1) {
        int p = p0;
        for (; p + 2 <= p1; p += 2) tile_1x2(a, m, p);
        if (p < p1) tile_1x1(a, m, p);
    }
}
