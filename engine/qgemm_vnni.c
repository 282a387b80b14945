/*
 * qgemm_vnni.c: the integer products with AVX-512 VNNI (vpdpbusd: 64 u8 × s8 products
 * summed in fours into 16 int32 lanes per instruction). Compiled with -mavx512vnni; called
 * only when itera_isa_best() >= ITERA_ISA_AVX512VNNI. Results equal qgemm.c's references bit
 * for bit (same integers, same per-block float operations in the same order).
 *
 * Tiles: MR rows of x × NP panels of 16 outputs. Per block of 32 k, the int32 accumulators
 * start from the block's correction (int8: −128·Σw of each row; int4: −8·Σx of each x
 * row), take 8 vpdpbusd per (row, panel), and are scaled into the float accumulators.
 * Panels are the outer loop, so a panel group's weights stay in L1 while every row of x
 * passes over them. Prefill uses 4 × 2 tiles; up to 3 rows (decode) use 1..3 × 4 tiles,
 * enough independent accumulator chains to hide vpdpbusd's latency.
 */
#include <math.h>
#include <string.h>

#include "qgemm.h"
#include "simd_avx512.h"

/* Lane b of the result: op over the 16 lanes of v[b] (a transposing tree: 15 shuffle pairs
 * instead of 16 horizontal reductions). */
#define REDUCE16(OP, CAST_IN, CAST_OUT, v, out)                                                     \
    do {                                                                                            \
        __m512 r1_[8], r2_[4], r3_[2];                                                              \
        for (int i_ = 0; i_ < 8; i_++) {                                                            \
            __m512 a_ = CAST_IN(v[2 * i_]), b_ = CAST_IN(v[2 * i_ + 1]);                            \
            r1_[i_] = OP(_mm512_shuffle_f32x4(a_, b_, 0x44), _mm512_shuffle_f32x4(a_, b_, 0xEE));    \
        }                                                                                           \
        for (int i_ = 0; i_ < 4; i_++) {                                                            \
            __m512 a_ = r1_[2 * i_], b_ = r1_[2 * i_ + 1];                                          \
            r2_[i_] = OP(_mm512_shuffle_f32x4(a_, b_, 0x88), _mm512_shuffle_f32x4(a_, b_, 0xDD));    \
        }                                                                                           \
        for (int i_ = 0; i_ < 2; i_++) {                                                            \
            __m512 a_ = r2_[2 * i_], b_ = r2_[2 * i_ + 1];                                          \
            r3_[i_] = OP(_mm512_shuffle_ps(a_, b_, 0x44), _mm512_shuffle_ps(a_, b_, 0xEE));          \
        }                                                                                           \
        __m512 f_ = OP(_mm512_shuffle_ps(r3_[0], r3_[1], 0x88), _mm512_shuffle_ps(r3_[0], r3_[1], 0xDD)); \
        /* lane 4c + j holds block c + 4j */                                                        \
        const __m512i idx_ = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); \
        out = CAST_OUT(_mm512_permutexvar_ps(idx_, f_));                                            \
    } while (0)

#define NOCAST(x) (x)
#define MAX_EPI32_PS(a, b) _mm512_castsi512_ps(_mm512_max_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define ADD_EPI32_PS(a, b) _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))

/* Blocks are numbered flat over rows [m0, m1) (xd and xs are [M, K/32], so a group of 16
 * consecutive blocks stores its scales contiguously). Groups of 16 blocks share one
 * transposed reduction and one division; the tail runs block by block. */
AI void prepare(const float *x, int ldx, int m0, int m1, int K, const bool offset128, const qg_act *a)
{
    const int nb = K / QG_K, total = (m1 - m0) * nb;
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512i off = _mm512_set1_epi32(offset128 ? 128 : 0);
    float *xd = a->xd + (size_t)m0 * nb;
    int32_t *xs = a->xs ? a->xs + (size_t)m0 * nb : NULL;
    int i = 0;
    for (; i + 16 <= total; i += 16) {
        const float *src[16];
        uint8_t *dst[16];
        __m512 mx[16];
        for (int j = 0; j < 16; j++) {
            const int m = m0 + (i + j) / nb, b = (i + j) % nb;
            src[j] = x + (size_t)m * ldx + b * QG_K;
            dst[j] = a->xq + (size_t)m * K + b * QG_K;
            mx[j] = MAX_EPI32_PS(_mm512_and_ps(_mm512_loadu_ps(src[j]), absmask),
                                 _mm512_and_ps(_mm512_loadu_ps(src[j] + 16), absmask));
        }
        __m512 amax;
        REDUCE16(MAX_EPI32_PS, NOCAST, NOCAST, mx, amax);
        /* finite: not NaN or inf (qgemm.h); nz: a non-zero block with a finite 127 / amax */
        const __mmask16 finite = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
        const __mmask16 nz = _mm512_mask_cmp_ps_mask(finite, amax, _mm512_set1_ps(QG_AMAX_MIN), _CMP_GE_OQ);
        _Alignas(64) float id[16];
        _mm512_store_ps(id, _mm512_maskz_div_ps(nz, _mm512_set1_ps(127.0f), amax));
        _mm512_storeu_ps(xd + i, _mm512_mask_div_ps(_mm512_set1_ps(NAN), finite, amax, _mm512_set1_ps(127.0f)));
        __m512i sum[16];
        for (int j = 0; j < 16; j++) {
            /* a non-finite block: products masked to 0, so q = 0 (NaN · 0 would not be) */
            const __mmask16 keep = (__mmask16)-(int)((finite >> j) & 1);
            const __m512 s = _mm512_set1_ps(id[j]);
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_maskz_mul_ps(keep, _mm512_loadu_ps(src[j]), s));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_maskz_mul_ps(keep, _mm512_loadu_ps(src[j] + 16), s));
            _mm_storeu_si128((__m128i *)(void *)dst[j], _mm512_cvtepi32_epi8(_mm512_add_epi32(q0, off)));
            _mm_storeu_si128((__m128i *)(void *)(dst[j] + 16), _mm512_cvtepi32_epi8(_mm512_add_epi32(q1, off)));
            sum[j] = _mm512_add_epi32(q0, q1);
        }
        if (xs) {
            __m512i tot;
            REDUCE16(ADD_EPI32_PS, _mm512_castsi512_ps, _mm512_castps_si512, sum, tot);
            _mm512_storeu_si512(xs + i, _mm512_mullo_epi32(tot, _mm512_set1_epi32(-8)));
        }
    }
    for (; i < total; i++) {
        const int m = m0 + i / nb, b = i % nb;
        const float *xb = x + (size_t)m * ldx + b * QG_K;
        uint8_t *q = a->xq + (size_t)m * K + b * QG_K;
        const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
        const int32_t abits = _mm512_reduce_max_epi32(_mm512_castps_si512(
            MAX_EPI32_PS(_mm512_and_ps(v0, absmask), _mm512_and_ps(v1, absmask))));
        float amax;
        memcpy(&amax, &abits, 4);
        if (!(amax < INFINITY)) { /* NaN or ±inf in the block (qgemm.h) */
            memset(q, offset128 ? 128 : 0, QG_K);
            xd[i] = NAN;
            if (xs) xs[i] = 0;
            continue;
        }
        const __m512 id = _mm512_set1_ps(amax >= QG_AMAX_MIN ? 127.0f / amax : 0.0f);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
        _mm_storeu_si128((__m128i *)(void *)q, _mm512_cvtepi32_epi8(_mm512_add_epi32(q0, off)));
        _mm_storeu_si128((__m128i *)(void *)(q + 16), _mm512_cvtepi32_epi8(_mm512_add_epi32(q1, off)));
        xd[i] = amax / 127.0f;
        if (xs) xs[i] = -8 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

/* Writes the float accumulators of a tile (+ bias) to y, masking past n_out. */
AI void store_tile(const qg_args *a, int m0, int MR, int p, int NP, __m512 facc[4][8])
{
    for (int j = 0; j < NP; j++) {
        const int n0 = (p + j) * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
        const __mmask16 mask = tail_mask16(cnt);
        const __m512 bias = a->bias ? _mm512_maskz_loadu_ps(mask, a->bias + n0) : _mm512_setzero_ps();
        for (int i = 0; i < MR; i++) {
            __m512 v = a->bias ? _mm512_add_ps(facc[i][j], bias) : facc[i][j];
            _mm512_mask_storeu_ps(a->y + (size_t)(m0 + i) * a->ldy + n0, mask, v);
        }
    }
}

AI void tile8(const qg_args *a, int m0, const int MR, int p, const int NP)
{
    const int nb = a->K / QG_K;
    const qg_blk8 *W = a->w;
    __m512 facc[4][8];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NP; j++) facc[i][j] = _mm512_setzero_ps();
    const uint8_t *xr[4];
    const float *xd[4];
    for (int i = 0; i < MR; i++) {
        xr[i] = a->x.xq + (size_t)(m0 + i) * a->K;
        xd[i] = a->x.xd + (size_t)(m0 + i) * nb;
    }
    for (int b = 0; b < nb; b++) {
        const qg_blk8 *blk[8];
        __m512i acc[4][8];
        for (int j = 0; j < NP; j++) {
            blk[j] = W + (size_t)(p + j) * nb + b;
            const __m512i init = _mm512_load_si512(blk[j]->nsum);
            for (int i = 0; i < MR; i++) acc[i][j] = init;
        }
        for (int g = 0; g < QG_K / 4; g++) {
            __m512i bx[4];
            for (int i = 0; i < MR; i++) bx[i] = _mm512_set1_epi32(load32(xr[i] + b * QG_K + 4 * g));
            for (int j = 0; j < NP; j++) {
                const __m512i w = _mm512_load_si512(blk[j]->qs[g]);
                for (int i = 0; i < MR; i++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], bx[i], w);
            }
        }
        for (int j = 0; j < NP; j++) {
            const __m512 dw = _mm512_load_ps(blk[j]->d);
            for (int i = 0; i < MR; i++) {
                const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(xd[i][b]));
                facc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][j]), s, facc[i][j]);
            }
        }
    }
    store_tile(a, m0, MR, p, NP, facc);
}

AI void tile4(const qg_args *a, int m0, const int MR, int p, const int NP)
{
    const int nb = a->K / QG_K;
    const qg_blk4 *W = a->w;
    const __m512i lo4 = _mm512_set1_epi8(0x0F), hi4 = _mm512_set1_epi8((char)0xF0);
    /* Split: high nibbles as 16·hi (one AND, no shift) into a second accumulator, shifted
     * back once per block; only where the extra accumulators fit the 32 registers. */
    const bool split = 3 * MR * NP + 2 * MR + 3 <= 32;
    __m512 facc[4][8];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NP; j++) facc[i][j] = _mm512_setzero_ps();
    const int8_t *xr[4];
    const float *xd[4];
    const int32_t *xs[4];
    for (int i = 0; i < MR; i++) {
        xr[i] = (const int8_t *)a->x.xq + (size_t)(m0 + i) * a->K;
        xd[i] = a->x.xd + (size_t)(m0 + i) * nb;
        xs[i] = a->x.xs + (size_t)(m0 + i) * nb;
    }
    for (int b = 0; b < nb; b++) {
        const qg_blk4 *blk[8];
        __m512i acc[4][8], acch[4][8];
        for (int j = 0; j < NP; j++) blk[j] = W + (size_t)(p + j) * nb + b;
        for (int i = 0; i < MR; i++) {
            const __m512i init = _mm512_set1_epi32(xs[i][b]);
            for (int j = 0; j < NP; j++) acc[i][j] = init, acch[i][j] = _mm512_setzero_si512();
        }
        for (int g = 0; g < QG_K / 8; g++) {
            __m512i bl[4], bh[4];
            for (int i = 0; i < MR; i++) {
                bl[i] = _mm512_set1_epi32(load32(xr[i] + b * QG_K + 4 * g));
                bh[i] = _mm512_set1_epi32(load32(xr[i] + b * QG_K + 16 + 4 * g));
            }
            for (int j = 0; j < NP; j++) {
                const __m512i w = _mm512_load_si512(blk[j]->qs[g]);
                const __m512i wl = _mm512_and_si512(w, lo4);
                if (split) {
                    const __m512i wh = _mm512_and_si512(w, hi4); /* 16 · high nibble */
                    for (int i = 0; i < MR; i++) {
                        acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], wl, bl[i]);
                        acch[i][j] = _mm512_dpbusd_epi32(acch[i][j], wh, bh[i]);
                    }
                } else {
                    const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(w, 4), lo4);
                    for (int i = 0; i < MR; i++) {
                        acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], wl, bl[i]);
                        acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], wh, bh[i]);
                    }
                }
            }
        }
        for (int j = 0; j < NP; j++) {
            const __m512 dw = _mm512_load_ps(blk[j]->d);
            for (int i = 0; i < MR; i++) {
                /* exact: acch is 16 · Σ hi·x */
                const __m512i isum =
                    split ? _mm512_add_epi32(acc[i][j], _mm512_srai_epi32(acch[i][j], 4)) : acc[i][j];
                const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(xd[i][b]));
                facc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), s, facc[i][j]);
            }
        }
    }
    store_tile(a, m0, MR, p, NP, facc);
}

/* Instantiations with constant tile sizes (the loops above unroll into registers). */
#define TILES(T)                                                                            \
    static void T##_4x2(const qg_args *a, int m, int p) { T(a, m, 4, p, 2); }               \
    static void T##_4x1(const qg_args *a, int m, int p) { T(a, m, 4, p, 1); }               \
    static void T##_1x8(const qg_args *a, int m, int p) { T(a, m, 1, p, 8); }               \
    static void T##_1x4(const qg_args *a, int m, int p) { T(a, m, 1, p, 4); }               \
    static void T##_2x4(const qg_args *a, int m, int p) { T(a, m, 2, p, 4); }               \
    static void T##_3x4(const qg_args *a, int m, int p) { T(a, m, 3, p, 4); }               \
    static void T##_1x2(const qg_args *a, int m, int p) { T(a, m, 1, p, 2); }               \
    static void T##_2x2(const qg_args *a, int m, int p) { T(a, m, 2, p, 2); }               \
    static void T##_3x2(const qg_args *a, int m, int p) { T(a, m, 3, p, 2); }               \
    static void T##_1x1(const qg_args *a, int m, int p) { T(a, m, 1, p, 1); }               \
    static void T##_2x1(const qg_args *a, int m, int p) { T(a, m, 2, p, 1); }               \
    static void T##_3x1(const qg_args *a, int m, int p) { T(a, m, 3, p, 1); }               \
    /* rows [m0, m1) x panels [p0, p1): panel groups outer, rows inner */                  \
    static void T##_drive(const qg_args *a, int m0, int m1, int p0, int p1)                 \
    {                                                                                       \
        typedef void (*tile_fn)(const qg_args *, int, int);                                 \
        static const tile_fn by4[4] = {NULL, T##_1x4, T##_2x4, T##_3x4};                    \
        static const tile_fn by2[4] = {NULL, T##_1x2, T##_2x2, T##_3x2};                    \
        static const tile_fn by1[4] = {NULL, T##_1x1, T##_2x1, T##_3x1};                    \
        int p = p0;                                                                         \
        if (m1 - m0 < 4) { /* decode: few rows, wide panel groups (independent chains) */   \
            if (m1 - m0 == 1)                                                               \
                for (; p + 8 <= p1; p += 8) T##_1x8(a, m0, p);                              \
            for (; p + 4 <= p1; p += 4) by4[m1 - m0](a, m0, p);                             \
            for (; p < p1; p++) by1[m1 - m0](a, m0, p);                                     \
            return;                                                                         \
        }                                                                                   \
        for (; p + 2 <= p1; p += 2) {                                                       \
            int m = m0;                                                                     \
            for (; m + 4 <= m1; m += 4) T##_4x2(a, m, p);                                   \
            if (m < m1) by2[m1 - m](a, m, p);                                               \
        }                                                                                   \
        for (; p < p1; p++) {                                                               \
            int m = m0;                                                                     \
            for (; m + 4 <= m1; m += 4) T##_4x1(a, m, p);                                   \
            if (m < m1) by1[m1 - m](a, m, p);                                               \
        }                                                                                   \
    }

TILES(tile8)
TILES(tile4)

/* Prefill int4: a panel pair's blocks unpacked once into L1 as u8 nibbles (the int8
 * layout), then every row tile runs int8-style, without per-row unpacking. */
#define Q4U_NB_MAX 16 /* K <= 512; larger K runs tile4_drive */

typedef struct {
    uint8_t v[QG_K / 4][64]; /* group g: k = 4g..4g+3 of 16 rows, nibble values 0..15 */
} q4u_blk;

AI void tile4u(const qg_args *a, const q4u_blk (*u)[Q4U_NB_MAX], int m0, const int MR, int p, const int NP)
{
    const int nb = a->K / QG_K;
    const qg_blk4 *W = a->w;
    __m512 facc[4][8];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NP; j++) facc[i][j] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m512i acc[4][2];
        for (int i = 0; i < MR; i++) {
            const __m512i init = _mm512_set1_epi32(a->x.xs[(size_t)(m0 + i) * nb + b]);
            for (int j = 0; j < NP; j++) acc[i][j] = init;
        }
        for (int g = 0; g < QG_K / 4; g++) {
            __m512i bx[4];
            for (int i = 0; i < MR; i++)
                bx[i] = _mm512_set1_epi32(load32(a->x.xq + (size_t)(m0 + i) * a->K + b * QG_K + 4 * g));
            for (int j = 0; j < NP; j++) {
                const __m512i w = _mm512_load_si512(u[j][b].v[g]);
                for (int i = 0; i < MR; i++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], w, bx[i]);
            }
        }
        for (int j = 0; j < NP; j++) {
            const __m512 dw = _mm512_load_ps(W[(size_t)(p + j) * nb + b].d);
            for (int i = 0; i < MR; i++) {
                const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(a->x.xd[(size_t)(m0 + i) * nb + b]));
                facc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][j]), s, facc[i][j]);
            }
        }
    }
    store_tile(a, m0, MR, p, NP, facc);
}

typedef void (*tile4u_fn)(const qg_args *, const q4u_blk (*)[Q4U_NB_MAX], int, int);
#define T4U(R, P) \
    static void tile4u_##R##x##P(const qg_args *a, const q4u_blk (*u)[Q4U_NB_MAX], int m, int p) { tile4u(a, u, m, R, p, P); }
T4U(1, 1) T4U(2, 1) T4U(3, 1) T4U(4, 1) T4U(1, 2) T4U(2, 2) T4U(3, 2) T4U(4, 2)

static void gemm4_unpacked(const qg_args *a, int m0, int m1, int p0, int p1)
{
    static const tile4u_fn fn[2][5] = {{NULL, tile4u_1x1, tile4u_2x1, tile4u_3x1, tile4u_4x1},
                                       {NULL, tile4u_1x2, tile4u_2x2, tile4u_3x2, tile4u_4x2}};
    const int nb = a->K / QG_K;
    const qg_blk4 *W = a->w;
    const __m512i lo4 = _mm512_set1_epi8(0x0F);
    _Alignas(64) q4u_blk u[2][Q4U_NB_MAX];
    for (int p = p0; p < p1; p += 2) {
        const int np = p + 2 <= p1 ? 2 : 1;
        for (int j = 0; j < np; j++)
            for (int b = 0; b < nb; b++)
                for (int g = 0; g < QG_K / 8; g++) {
                    const __m512i w = _mm512_load_si512(W[(size_t)(p + j) * nb + b].qs[g]);
                    _mm512_store_si512(u[j][b].v[g], _mm512_and_si512(w, lo4));
                    _mm512_store_si512(u[j][b].v[g + 4], _mm512_and_si512(_mm512_srli_epi16(w, 4), lo4));
                }
        int m = m0;
        for (; m + 4 <= m1; m += 4) fn[np - 1][4](a, (const q4u_blk(*)[Q4U_NB_MAX])u, m, p);
        if (m < m1) fn[np - 1][m1 - m](a, (const q4u_blk(*)[Q4U_NB_MAX])u, m, p);
    }
}

void qg_gemm8_vnni(const linear_args *la, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(la);
    tile8_drive(&q, m0, m1, p0, p1);
}

void qg_gemm4_vnni(const linear_args *la, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(la), *a = &q;
    if (m1 - m0 >= 8 && a->K / QG_K <= Q4U_NB_MAX) gemm4_unpacked(a, m0, m1, p0, p1);
    else tile4_drive(a, m0, m1, p0, p1);
}

QG_PREPARE_ENTRIES(vnni)
