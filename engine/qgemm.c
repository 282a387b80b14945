/*
 * qgemm.c: the scalar references of the integer products (qgemm.h) and the activation
 * scratch layout. The ISA variants are in qgemm_avx2.c and qgemm_vnni.c; the formats'
 * kernel tables in quant.c.
 */
#include "qgemm.h"

#include <math.h>
#include <string.h>

static size_t up64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t qg_act_bytes(int M, int K)
{
    size_t nb = (size_t)M * (size_t)(K / QG_K);
    return up64((size_t)M * (size_t)K) + 2 * up64(nb * 4) + 64;
}

qg_act qg_act_view(void *scratch, int M, int K)
{
    uint8_t *p = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    size_t nb = (size_t)M * (size_t)(K / QG_K);
    qg_act a;
    a.xq = p;
    p += up64((size_t)M * (size_t)K);
    a.xd = (float *)(void *)p;
    p += up64(nb * 4);
    a.xs = (int32_t *)(void *)p;
    return a;
}

/* Per block: dx = max|x| / 127, q = rint(x · (127 / max|x|)) (nearest even), all zero for a
 * block with max|x| < QG_AMAX_MIN (zero or so small that 127 / max|x| overflows). A block
 * holding a NaN or an infinity quantizes to zeros with dx = NaN (xs = 0), so its products
 * are NaN as in FP32. max|x| is taken on the bits (qgemm.h): NaN is then the largest value.
 * Every variant computes exactly these values. */
static void prepare(const float *x, int ldx, int m0, int m1, int K, bool offset128, const qg_act *a)
{
    const int nb = K / QG_K;
    for (int m = m0; m < m1; m++) {
        const float *xr = x + (size_t)m * ldx;
        uint8_t *q = a->xq + (size_t)m * K;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * QG_K;
            uint32_t abits = 0;
            for (int k = 0; k < QG_K; k++) {
                uint32_t v;
                memcpy(&v, &xb[k], 4);
                v &= 0x7fffffffu;
                if (v > abits) abits = v;
            }
            float amax;
            memcpy(&amax, &abits, 4);
            if (!(amax < INFINITY)) { /* NaN or ±inf in the block */
                memset(q + b * QG_K, offset128 ? 128 : 0, QG_K);
                a->xd[(size_t)m * nb + b] = NAN;
                if (a->xs) a->xs[(size_t)m * nb + b] = 0;
                continue;
            }
            const float id = amax >= QG_AMAX_MIN ? 127.0f / amax : 0.0f;
            int32_t sum = 0;
            for (int k = 0; k < QG_K; k++) {
                const int v = (int)lrintf(xb[k] * id);
                sum += v;
                q[b * QG_K + k] = offset128 ? (uint8_t)(v + 128) : (uint8_t)(int8_t)v;
            }
            a->xd[(size_t)m * nb + b] = amax / 127.0f;
            if (a->xs) a->xs[(size_t)m * nb + b] = -8 * sum;
        }
    }
}

static void gemm8(const qg_args *a, int m0, int m1, int p0, int p1)
{
    const int nb = a->K / QG_K;
    const qg_blk8 *W = a->w;
    for (int m = m0; m < m1; m++) {
        const uint8_t *xq = a->x.xq + (size_t)m * a->K;
        const float *xd = a->x.xd + (size_t)m * nb;
        float *yr = a->y + (size_t)m * a->ldy;
        for (int p = p0; p < p1; p++)
            for (int r = 0; r < QG_NR && p * QG_NR + r < a->n_out; r++) {
                float acc = 0.0f;
                for (int b = 0; b < nb; b++) {
                    const qg_blk8 *blk = W + (size_t)p * nb + b;
                    const uint8_t *xb = xq + b * QG_K;
                    int32_t isum = 0;
                    for (int g = 0; g < QG_K / 4; g++)
                        for (int j = 0; j < 4; j++)
                            isum += (int32_t)blk->qs[g][r][j] * ((int32_t)xb[4 * g + j] - 128);
                    acc = fmaf((float)isum, blk->d[r] * xd[b], acc);
                }
                const int n = p * QG_NR + r;
                yr[n] = a->bias ? acc + a->bias[n] : acc;
            }
    }
}

static void gemm4(const qg_args *a, int m0, int m1, int p0, int p1)
{
    const int nb = a->K / QG_K;
    const qg_blk4 *W = a->w;
    for (int m = m0; m < m1; m++) {
        const int8_t *xq = (const int8_t *)a->x.xq + (size_t)m * a->K;
        const float *xd = a->x.xd + (size_t)m * nb;
        const int32_t *xs = a->x.xs + (size_t)m * nb;
        float *yr = a->y + (size_t)m * a->ldy;
        for (int p = p0; p < p1; p++)
            for (int r = 0; r < QG_NR && p * QG_NR + r < a->n_out; r++) {
                float acc = 0.0f;
                for (int b = 0; b < nb; b++) {
                    const qg_blk4 *blk = W + (size_t)p * nb + b;
                    const int8_t *xb = xq + b * QG_K;
                    int32_t isum = xs[b];
                    for (int g = 0; g < QG_K / 8; g++)
                        for (int j = 0; j < 4; j++) {
                            const int v = blk->qs[g][r][j];
                            isum += (v & 15) * xb[4 * g + j] + (v >> 4) * xb[16 + 4 * g + j];
                        }
                    acc = fmaf((float)isum, blk->d[r] * xd[b], acc);
                }
                const int n = p * QG_NR + r;
                yr[n] = a->bias ? acc + a->bias[n] : acc;
            }
    }
}

QG_PREPARE_ENTRIES(scalar)

void qg_gemm8_scalar(const linear_args *a, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(a);
    gemm8(&q, m0, m1, p0, p1);
}

void qg_gemm4_scalar(const linear_args *a, int m0, int m1, int p0, int p1)
{
    const qg_args q = qg_args_of(a);
    gemm4(&q, m0, m1, p0, p1);
}
