/*
 * qgemm.h: integer matrix products for the int8 / int4 weight formats (quant.h).
 *
 *   y [M, n_out] = x [M, K] · Wᵀ [K, n_out] (+ bias)
 *
 * Activations are quantized on the fly (qg_prepare): per row and block of 32, symmetric
 * int8 with a float scale dx = max|x| / 127. max|x| is the largest |x| compared as bits
 * (for non-negative floats the integer order is the float order, and NaN sorts above
 * +inf), so a block holding a NaN or an infinity is seen: it quantizes to zeros with
 * dx = NaN and its products are NaN, as in FP32. A block with max|x| < QG_AMAX_MIN
 * (127 / max|x| would overflow) is a zero block. Each block's dot product runs in integers,
 * then y += (float)isum · (dw · dx) (one fused multiply-add per block, blocks in order),
 * so every ISA variant gives the scalar reference's result bit for bit.
 *
 * Memory form of the weights: panels of QG_NR = 16 rows (rows past n_out are zero); each
 * panel holds its K/32 blocks in order, one qg_blk8 / qg_blk4 each, laid so that one
 * 64-byte vector holds 4 consecutive k of all 16 rows (the operand order of vpdpbusd):
 *   qg_blk8.qs[g][r][j] = q[r][4g + j]             (int8, g = 0..7)
 *   qg_blk4.qs[g][r][j] = (q[r][4g + j] + 8)       low nibble  (k = 0..15)
 *                       | (q[r][16 + 4g + j] + 8) << 4  high nibble (k = 16..31), g = 0..3
 *
 * The u8 × s8 products of vpdpbusd / vpmaddubsw:
 *   int8: x is stored offset by +128 (u8), weights s8: Σ (x+128)·w = Σ x·w + 128·Σ w, so each
 *         block carries nsum = −128·Σ_k w[r][k] to start the accumulator from (VNNI); AVX2
 *         uses the sign trick on x − 128 instead.
 *   int4: weights as unsigned nibbles (q + 8), x s8: Σ (q+8)·x = Σ q·x + 8·Σ x, so the
 *         prepared activations carry xs = −8·Σ_k x per row and block.
 */
#ifndef ITERA_QGEMM_H
#define ITERA_QGEMM_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "itera.h"
#include "linear.h"

#define QG_NR LINEAR_PANEL /* rows per panel */
#define QG_K 32  /* block size */
#define QG_AMAX_MIN 0x1p-119f /* smallest max|x| of a non-zero block: 127 / it is finite */

typedef struct {
    int8_t qs[QG_K / 4][QG_NR][4];
    float d[QG_NR];      /* dw per row */
    int32_t nsum[QG_NR]; /* −128 · Σ_k q[r][k] */
} qg_blk8;
static_assert(sizeof(qg_blk8) == 640, "qg_blk8: 10 cache lines");

typedef struct {
    uint8_t qs[QG_K / 8][QG_NR][4];
    float d[QG_NR];
} qg_blk4;
static_assert(sizeof(qg_blk4) == 320, "qg_blk4: 5 cache lines");

static inline int qg_panels(int n_out) { return (n_out + QG_NR - 1) / QG_NR; }

/* Activations of M rows quantized for one product. Rows of xq have stride K bytes. */
typedef struct qg_act {
    uint8_t *xq;  /* [M, K]: int8 format: x + 128 (u8); int4 format: x (s8) */
    float *xd;    /* [M, K/32] scale per block */
    int32_t *xs;  /* [M, K/32] −8 · Σ x per block (int4 only; may be NULL for int8) */
} qg_act;

/* Scratch bytes for M rows of K, and the views into it (64-byte aligned pieces). */
size_t qg_act_bytes(int M, int K);
qg_act qg_act_view(void *scratch, int M, int K);

/* One product's operands. W: n_out rows as qg_panels(n_out) panels of K/32 blocks. */
typedef struct qg_args {
    const void *w; /* qg_blk8[] or qg_blk4[] */
    int n_out, K;
    const float *bias; /* [n_out] or NULL */
    qg_act x;
    float *y;
    int ldy;
} qg_args;

/* The operands of a product as the kernels read them: W, and the activations' view of
 * a->act (qg_act_view(a->act, a->M, a->n_in)). */
static inline qg_args qg_args_of(const linear_args *a)
{
    qg_args q = {.w = a->w, .n_out = a->n_out, .K = a->n_in, .bias = a->bias,
                 .x = qg_act_view(a->act, a->M, a->n_in), .y = a->y, .ldy = a->ldy};
    return q;
}

/* The kernels of the quantized formats (linear.h linear_prepare_fn / linear_gemm_fn: rows
 * of their kernel tables, quant.c), one per ISA, all equal to the scalar reference bit for
 * bit:
 *   prepare8: rows [m0, m1) of x into the int8 format's activations (u8, x + 128; no sums)
 *   prepare4: ... into the int4 format's (s8, with xs = −8·Σx per block)
 *   gemm8 / gemm4: y rows [m0, m1), panels [p0, p1), from those activations */
#define QG_KERNELS(isa)                                                                \
    void qg_prepare8_##isa(const linear_args *a, int m0, int m1);                     \
    void qg_prepare4_##isa(const linear_args *a, int m0, int m1);                     \
    void qg_gemm8_##isa(const linear_args *a, int m0, int m1, int p0, int p1);        \
    void qg_gemm4_##isa(const linear_args *a, int m0, int m1, int p0, int p1);
QG_KERNELS(scalar)
QG_KERNELS(avx2)
QG_KERNELS(vnni)
#undef QG_KERNELS

/* The two prepare entry points of an ISA file, over its own
 *   static void prepare(const float *x, int ldx, int m0, int m1, int K, bool offset128, const qg_act *a):
 * the int8 format's activations (offset by 128, no sums) and the int4 format's. */
#define QG_PREPARE_ENTRIES(isa)                                   \
    void qg_prepare8_##isa(const linear_args *a, int m0, int m1)  \
    {                                                             \
        qg_act x = qg_act_view(a->act, a->M, a->n_in);            \
        x.xs = NULL; /* the int8 correction comes from W */       \
        prepare(a->x, a->ldx, m0, m1, a->n_in, true, &x);         \
    }                                                             \
    void qg_prepare4_##isa(const linear_args *a, int m0, int m1)  \
    {                                                             \
        const qg_act x = qg_act_view(a->act, a->M, a->n_in);      \
        prepare(a->x, a->ldx, m0, m1, a->n_in, false, &x);        \
    }

#endif
