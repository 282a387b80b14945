/*
 * qgemm_a16.c: the scalar references of the W8A16 products (qgemm_a16.h), the activation
 * scratch layout and row placement (the ISA variants: qgemm_a16_avx2.c, qgemm_a16_vnni.c,
 * qgemm_a16_amx.c; their table: quant_w8a16.c).
 */
#include "qgemm_a16.h"

#include <math.h>
#include <string.h>

static size_t up64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t qa16_act_bytes(int M, int K)
{
    const size_t n = (size_t)M * (size_t)K;
    return up64(2 * n) + 2 * up64(n) + up64((size_t)M * (size_t)qa16_chunks(K) * 4) + 64;
}

qa16_act qa16_act_view(void *scratch, int M, int K)
{
    const size_t n = (size_t)M * (size_t)K;
    uint8_t *p = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    qa16_act a;
    a.xq = (int16_t *)(void *)p;
    a.lo = p + up64(2 * n);
    a.hi = a.lo + up64(n);
    a.xd = (float *)(void *)(a.hi + up64(n));
    return a;
}

void qa16_place_row(void *w, int K, int row, float d, const int8_t *q)
{
    const int p = row / QG_NR, r = row % QG_NR;
    uint8_t *panel = (uint8_t *)w + (size_t)p * qa16_panel_bytes(K); /* the layout of qgemm_a16.h */
    ((float *)(void *)panel)[r] = d;
    for (int c = 0; c < qa16_chunks(K); c++) {
        int32_t sum = 0;
        for (int k = c * QA16_CHUNK; k < K && k < (c + 1) * QA16_CHUNK; k++) sum += q[k];
        ((int32_t *)(void *)(panel + (size_t)(1 + c) * QG_NR * 4))[r] = -128 * sum;
    }
    int8_t *qs = (int8_t *)(panel + (size_t)(1 + qa16_chunks(K)) * QG_NR * 4);
    for (int k = 0; k < K; k++) qs[(size_t)(k / 4) * 4 * QG_NR + 4 * r + k % 4] = q[k];
}

float qa16_take_row(const void *w, int K, int row, int8_t *q)
{
    const int p = row / QG_NR, r = row % QG_NR;
    const int8_t *g = qa16_panel_group(w, K, p, 0) + 4 * r; /* group k/4 at g + (k/4) · 64 */
    for (int k = 0; k < K; k++) q[k] = g[(size_t)(k / 4) * 4 * QG_NR + k % 4];
    return qa16_panel_d(w, K, p)[r];
}

/* Per chunk: dx = max|x| / 32767, q = rint(x · (32767 / max|x|)) (nearest even), all zero
 * when max|x| < QA16_AMAX_MIN. |x · (32767 / max|x|)| stays below 32767.5 (two roundings of
 * at most half an ulp each), so q fits int16. max|x| is taken on the bits (NaN is then the
 * largest value): a chunk holding a NaN or an infinity quantizes to zeros with dx = NaN.
 * Every variant computes exactly these values. */
void qa16_prepare_scalar(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a)
{
    const int nc = qa16_chunks(K);
    for (int m = m0; m < m1; m++) {
        const float *xr = x + (size_t)m * ldx;
        int16_t *q = a->xq + (size_t)m * K;
        uint8_t *lo = a->lo + (size_t)m * K, *hi = a->hi + (size_t)m * K;
        for (int c = 0; c < nc; c++) {
            const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
            uint32_t abits = 0;
            for (int k = k0; k < k1; k++) {
                uint32_t v;
                memcpy(&v, &xr[k], 4);
                if ((v & 0x7fffffffu) > abits) abits = v & 0x7fffffffu;
            }
            float amax;
            memcpy(&amax, &abits, 4);
            const bool finite = amax < INFINITY;
            const float id = finite && amax >= QA16_AMAX_MIN ? (float)QA16_XMAX / amax : 0.0f;
            for (int k = k0; k < k1; k++) {
                const int v = finite ? (int)lrintf(xr[k] * id) : 0;
                q[k] = (int16_t)v;
                lo[k] = (uint8_t)(v & 255);
                hi[k] = (uint8_t)((v >> 8) + 128); /* arithmetic shift: floor(v / 256) */
            }
            a->xd[(size_t)m * nc + c] = finite ? amax / (float)QA16_XMAX : NAN;
        }
    }
}

void qa16_gemm_scalar(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    const int K = a->K, nc = qa16_chunks(K);
    for (int m = m0; m < m1; m++) {
        const int16_t *xq = a->x.xq + (size_t)m * K;
        const float *xd = a->x.xd + (size_t)m * nc;
        float *yr = a->y + (size_t)m * a->ldy;
        for (int p = p0; p < p1; p++) {
            const float *dw = qa16_panel_d(a->w, K, p);
            for (int r = 0; r < QG_NR && p * QG_NR + r < a->n_out; r++) {
                float acc = 0.0f;
                for (int c = 0; c < nc; c++) {
                    const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
                    int32_t isum = 0;
                    for (int k = k0; k < k1; k++)
                        isum += (int32_t)qa16_panel_group(a->w, K, p, k / 4)[4 * r + k % 4] * xq[k];
                    acc = fmaf((float)isum, dw[r] * xd[c], acc);
                }
                const int n = p * QG_NR + r;
                yr[n] = a->bias ? acc + a->bias[n] : acc;
            }
        }
    }
}
