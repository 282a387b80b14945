/*
 * qgemm_avx2.c: the integer products with AVX2 (vpmaddubsw u8 × s8 -> int16 pairs, then
 * vpmaddwd with ones -> int32). Compiled with -mavx2 -mfma; called only when
 * itera_isa_best() >= ITERA_ISA_AVX2. Results equal qgemm.c's references bit for bit.
 *
 * int8: vpmaddubsw(|w|, sign(x, w)), the sign trick (x in −127..127, so no pair of
 * products saturates int16). int4: vpmaddubsw(nibble, x), nibbles <= 15; the low- and
 * high-nibble halves are summed in int16 (<= 4·15·127) before widening. A panel of 16 rows
 * is two 8-lane halves; tiles are up to 2 rows × 1 panel.
 */
#include <math.h>
#include <string.h>

#include "qgemm.h"
#include "simd_avx2.h"

/* The largest of 8 non-negative floats compared as integers (qgemm.h: NaN sorts last). */
AI float hmax8_bits(__m256i v)
{
    __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    return _mm_cvtss_f32(_mm_castsi128_ps(m));
}

AI void prepare(const float *x, int ldx, int m0, int m1, int K, const bool offset128, const qg_act *a)
{
    const int nb = K / QG_K;
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff);
    for (int m = m0; m < m1; m++) {
        const float *xr = x + (size_t)m * ldx;
        uint8_t *q = a->xq + (size_t)m * K;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * QG_K;
            __m256 v[4];
            __m256i am = _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                v[i] = _mm256_loadu_ps(xb + 8 * i);
                am = _mm256_max_epi32(am, _mm256_and_si256(_mm256_castps_si256(v[i]), absmask));
            }
            const float amax = hmax8_bits(am);
            if (!(amax < INFINITY)) { /* NaN or ±inf in the block (qgemm.h) */
                memset(q + b * QG_K, offset128 ? 128 : 0, QG_K);
                a->xd[(size_t)m * nb + b] = NAN;
                if (a->xs) a->xs[(size_t)m * nb + b] = 0;
                continue;
            }
            const __m256 id = _mm256_set1_ps(amax >= QG_AMAX_MIN ? 127.0f / amax : 0.0f);
            int32_t qi[QG_K], sum = 0;
            for (int i = 0; i < 4; i++)
                _mm256_storeu_si256((__m256i *)(void *)(qi + 8 * i), _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id)));
            for (int k = 0; k < QG_K; k++) {
                sum += qi[k];
                q[b * QG_K + k] = offset128 ? (uint8_t)(qi[k] + 128) : (uint8_t)(int8_t)qi[k];
            }
            a->xd[(size_t)m * nb + b] = amax / 127.0f;
            if (a->xs) a->xs[(size_t)m * nb + b] = -8 * sum;
        }
    }
}

AI void store_tile(const qg_args *a, int m0, int MR, int p, __m256 facc[2][2])
{
    const int n0 = p * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
    for (int i = 0; i < MR; i++) {
        float tmp[QG_NR];
        _mm256_storeu_ps(tmp, facc[i][0]);
        _mm256_storeu_ps(tmp + 8, facc[i][1]);
        float *yr = a->y + (size_t)(m0 + i) * a->ldy + n0;
        for (int r = 0; r < cnt; r++) yr[r] = a->bias ? tmp[r] + a->bias[n0 + r] : tmp[r];
    }
}

/* One block's integer sums into the float accumulators of rows [m0, m0+MR) and the
 * panel's 16 rows (two 8-lane halves): facc += (float)acc · (dw · dx), in block order. */
AI void scale_block(const qg_args *a, const float *dw16, int m0, const int MR, int b, __m256i acc[2][2],
                    __m256 facc[2][2])
{
    const int nb = a->K / QG_K;
    for (int h = 0; h < 2; h++) {
        const __m256 dw = _mm256_load_ps(dw16 + 8 * h);
        for (int i = 0; i < MR; i++) {
            const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(a->x.xd[(size_t)(m0 + i) * nb + b]));
            facc[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][h]), s, facc[i][h]);
        }
    }
}

AI void tile8(const qg_args *a, int m0, const int MR, int p)
{
    const int nb = a->K / QG_K;
    const qg_blk8 *W = a->w;
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);
    __m256 facc[2][2];
    for (int i = 0; i < MR; i++) facc[i][0] = facc[i][1] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const qg_blk8 *blk = W + (size_t)p * nb + b;
        __m256i acc[2][2];
        for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
        for (int g = 0; g < QG_K / 4; g++) {
            __m256i bx[2];
            for (int i = 0; i < MR; i++) {
                const uint8_t *xb = a->x.xq + (size_t)(m0 + i) * a->K + b * QG_K + 4 * g;
                bx[i] = _mm256_xor_si256(_mm256_set1_epi32(load32(xb)), flip); /* x + 128 -> x */
            }
            for (int h = 0; h < 2; h++) {
                const __m256i w = _mm256_load_si256((const __m256i *)(const void *)blk->qs[g][8 * h]);
                const __m256i aw = _mm256_abs_epi8(w);
                for (int i = 0; i < MR; i++) {
                    const __m256i p16 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bx[i], w));
                    acc[i][h] = _mm256_add_epi32(acc[i][h], _mm256_madd_epi16(p16, ones));
                }
            }
        }
        scale_block(a, blk->d, m0, MR, b, acc, facc);
    }
    store_tile(a, m0, MR, p, facc);
}

AI void tile4(const qg_args *a, int m0, const int MR, int p)
{
    const int nb = a->K / QG_K;
    const qg_blk4 *W = a->w;
    const __m256i ones = _mm256_set1_epi16(1), lo4 = _mm256_set1_epi8(0x0F);
    __m256 facc[2][2];
    for (int i = 0; i < MR; i++) facc[i][0] = facc[i][1] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const qg_blk4 *blk = W + (size_t)p * nb + b;
        __m256i acc[2][2];
        for (int i = 0; i < MR; i++)
            acc[i][0] = acc[i][1] = _mm256_set1_epi32(a->x.xs[(size_t)(m0 + i) * nb + b]);
        for (int g = 0; g < QG_K / 8; g++) {
            __m256i bl[2], bh[2];
            for (int i = 0; i < MR; i++) {
                const uint8_t *xb = a->x.xq + (size_t)(m0 + i) * a->K + b * QG_K;
                bl[i] = _mm256_set1_epi32(load32(xb + 4 * g));
                bh[i] = _mm256_set1_epi32(load32(xb + 16 + 4 * g));
            }
            for (int h = 0; h < 2; h++) {
                const __m256i w = _mm256_load_si256((const __m256i *)(const void *)blk->qs[g][8 * h]);
                const __m256i wl = _mm256_and_si256(w, lo4);
                const __m256i wh = _mm256_and_si256(_mm256_srli_epi16(w, 4), lo4);
                for (int i = 0; i < MR; i++) {
                    const __m256i p16 =
                        _mm256_add_epi16(_mm256_maddubs_epi16(wl, bl[i]), _mm256_maddubs_epi16(wh, bh[i]));
                    acc[i][h] = _mm256_add_epi32(acc[i][h], _mm256_madd_epi16(p16, ones));
                }
            }
        }
        scale_block(a, blk->d, m0, MR, b, acc, facc);
    }
    store_tile(a, m0, MR, p, facc);
}

static void tile8_2(const qg_args *a, int m, int p) { tile8(a, m, 2, p); }
static void tile8_1(const qg_args *a, int m, int p) { tile8(a, m, 1, p); }
static void tile4_2(const qg_args *a, int m, int p) { tile4(a, m, 2, p); }
static void tile4_1(const qg_args *a, int m, int p) { tile4(a, m, 1, p); }

void qg_gemm8_avx2(const linear_args *la, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(la), *a = &q;
    for (int p = p0; p < p1; p++) {
        int m = m0;
        for (; m + 2 <= m1; m += 2) tile8_2(a, m, p);
        if (m < m1) tile8_1(a, m, p);
    }
}

void qg_gemm4_avx2(const linear_args *la, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(la), *a = &q;
    for (int p = p0; p < p1; p++) {
        int m = m0;
        for (; m + 2 <= m1; m += 2) tile4_2(a, m, p);
        if (m < m1) tile4_1(a, m, p);
    }
}

QG_PREPARE_ENTRIES(avx2)
