/*
 * qgemm_a16.h: integer matrix products of int8 weights with one scale per row against
 * 16-bit activations (W8A16): the kernels of the int8 format (quant_w8a16.c).
 *
 *   y [M, n_out] = x [M, K] · Wᵀ [K, n_out] (+ bias),   W[n, k] = dw[n] · q[n, k]
 *
 * Activations are quantized on the fly (prepare): per row and chunk of QA16_CHUNK (256) k
 * — one chunk per row when K <= 256 — symmetric int16 with a float scale
 * dx = max|x| / 32767: 258× finer steps than int8's max|x| / 127 (a chunk holding a NaN or
 * an infinity quantizes to zeros with dx = NaN, so its products are NaN as in FP32; one
 * with max|x| < QA16_AMAX_MIN is a zero chunk). Each chunk's dot product
 * runs in integers (|Σ| <= 256 · 127 · 32767 < 2³¹: exact), then
 *   y += (float)isum · (dw · dx)        one fused multiply-add per chunk, chunks in order
 * then + bias; every ISA variant gives the scalar reference's result bit for bit. With one
 * weight scale per row there is no float work inside a chunk.
 *
 * A 16-bit value is also kept as two bytes, x = 256 · (hi − 128) + lo (lo = x & 255,
 * hi = (x >> 8) + 128, both u8), so the int8 dot-product units run it as two u8 × s8
 * products: Σ q·x = 256 · (Σ q·hi − 128 · Σ q) + Σ q·lo (VNNI vpdpbusd, AMX tdpbusd);
 * each panel carries nsum = −128 · Σ q per row and chunk for the first term.
 *
 * Memory form of the weights: panels of QG_NR = 16 rows (rows past n_out are zero); a
 * panel is qa16_panel_bytes(K) bytes:
 *   dw[16]            float, the row scales
 *   nsum[chunks][16]  int32, −128 · Σ_{k in chunk} q[r][k]
 *   qs[K/4][16][4]    int8, qs[g][r][j] = q[r][4g + j]
 * A group g (64 bytes: 4 consecutive k of the 16 rows) is one vpdpbusd operand, and 16
 * groups are one AMX B tile (K 64 × N 16, the "VNNI layout" of tdpbusd). K must be a
 * multiple of 32.
 */
#ifndef ITERA_QGEMM_A16_H
#define ITERA_QGEMM_A16_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "itera.h"
#include "qgemm.h"

#define QA16_CHUNK 256   /* k per activation scale and per int32 accumulation */
#define QA16_XMAX 32767  /* activation levels: x in −32767..32767 */
#define QA16_AMAX_MIN 0x1p-112f /* smallest max|x| of a non-zero chunk: 32767 / it is finite */
static_assert((int64_t)QA16_CHUNK * 127 * QA16_XMAX < INT32_MAX, "a chunk's integer sum fits int32");
/* the two-byte form's partial sums: |Σ q·(hi − 128)| <= 256·127·128 before the shift by 8 */
static_assert((int64_t)QA16_CHUNK * 127 * 128 * 256 + (int64_t)QA16_CHUNK * 127 * 255 < INT32_MAX,
              "256 · Σ q·(hi − 128) + Σ q·lo fits int32");

static inline int qa16_chunks(int K) { return (K + QA16_CHUNK - 1) / QA16_CHUNK; }
static inline size_t qa16_panel_bytes(int K)
{
    return (size_t)QG_NR * sizeof(float) + (size_t)qa16_chunks(K) * QG_NR * sizeof(int32_t) + (size_t)QG_NR * (size_t)K;
}
/* Panel p of a memory form: its row scales, its nsum of chunk c, its group g (64 bytes). */
static inline const float *qa16_panel_d(const void *w, int K, int p)
{
    return (const float *)(const void *)((const uint8_t *)w + (size_t)p * qa16_panel_bytes(K));
}
static inline const int32_t *qa16_panel_nsum(const void *w, int K, int p, int c)
{
    return (const int32_t *)(const void *)((const uint8_t *)w + (size_t)p * qa16_panel_bytes(K) +
                                            (size_t)(1 + c) * QG_NR * 4);
}
static inline const int8_t *qa16_panel_group(const void *w, int K, int p, int g)
{
    return (const int8_t *)w + (size_t)p * qa16_panel_bytes(K) + (size_t)(1 + qa16_chunks(K)) * QG_NR * 4 +
           (size_t)g * 4 * QG_NR;
}

/* Row `row` of a memory form of K (a multiple of 32): its scale d and weights q[K] in
 * (nsum computed here) and out (returns d). */
void qa16_place_row(void *w, int K, int row, float d, const int8_t *q);
float qa16_take_row(const void *w, int K, int row, int8_t *q);

/* Activations of M rows quantized for one product (rows of stride K): xq the int16 values,
 * lo / hi their two bytes, xd [M, qa16_chunks(K)] the scale per chunk. */
typedef struct qa16_act {
    int16_t *xq;
    uint8_t *lo, *hi;
    float *xd;
} qa16_act;

/* Scratch bytes for M rows of K, and the views into it (64-byte aligned pieces). */
size_t qa16_act_bytes(int M, int K);
qa16_act qa16_act_view(void *scratch, int M, int K);

/* One product's operands. W: n_out rows as qg_panels(n_out) panels. */
typedef struct qa16_args {
    const void *w;
    int n_out, K;
    const float *bias; /* [n_out] or NULL */
    qa16_act x;
    float *y;
    int ldy;
} qa16_args;

/* prepare: rows [m0, m1) of x (row stride ldx) into a.
 * gemm: y rows [m0, m1), columns of panels [p0, p1) (only columns < n_out are written). */
/* The variants: one scalar reference and SIMD variants equal to it bit for bit; their
 * rows (linear_kernel, by ISA) are the int8 format's kernel table (quant_w8a16.c). */
void qa16_prepare_scalar(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a);
void qa16_gemm_scalar(const qa16_args *a, int m0, int m1, int p0, int p1);
void qa16_prepare_avx2(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a);
void qa16_gemm_avx2(const qa16_args *a, int m0, int m1, int p0, int p1);
void qa16_prepare_vnni(const float *x, int ldx, int m0, int m1, int K, const qa16_act *a);
void qa16_gemm_vnni(const qa16_args *a, int m0, int m1, int p0, int p1);
/* AMX: tiles for 16 rows and more, the VNNI kernel for the rest (decode). */
void qa16_gemm_amx(const qa16_args *a, int m0, int m1, int p0, int p1);

#endif
