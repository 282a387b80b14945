/*
 * quant.h: the quantized weight formats int8 (Q8_0) and int4 (Q4_0), as ggml defines them,
 * and their implementations (linear_q8_0, linear_q4_0 of itera_formats.def; linear.h): one
 * generic codec over a block layout, and each format's kernels per ISA (qgemm.h).
 *
 * What is quantized: every matrix-multiply weight of the model: the tied embedding/head
 * (the embedding lookup dequantizes one row), in_proj, delta_proj, out_proj, the dense FFN,
 * the MoE router and every expert. What is not: norms, conv1d weight and bias, A_log, D,
 * biases, position embeddings, and the scan's B and C matrices (the scan kernels' own FP32
 * parameters, not linears). Those are computed in FP32; in a quantized model (file and
 * memory alike) they hold values rounded to FP16 and a quantized file stores them as F16
 * (see quant_param_dtype): with FP32 storage the size targets (int8 <= 30%, int4 <= 17% of
 * the FP32 file) are out of reach on the micro model: its 17,944 FP32 parameters are 6.1%
 * of the FP32 file, and 4-bit matrices alone are 11.7%.
 *
 * File form (what a safetensors file holds, dtype U8 [n_out, row_bytes]): each row of
 * W [n_out, n_in] is n_in/32 consecutive blocks, in ggml's order:
 *   Q8_0: fp16 scale d, 32 x int8 q;            w = d * q          34 bytes / 32 = 8.5 bits
 *   Q4_0: fp16 scale d, 16 bytes of nibbles;    w = d * (nib - 8)  18 bytes / 32 = 4.5 bits
 *         byte j holds element j (low nibble) and element j + 16 (high nibble).
 * Scales (half precision): per block, the d that minimizes the block's squared error over a
 * sweep of candidate scales, each followed by a least-squares refit. Q8_0: symmetric
 * (q in −127..127), d = max|w| / t for t = 96..127 (max/127 included). Q4_0: d = ±max|w| / t
 * for t in 4..9 (both signs: the extreme may land on −8 or +7; ggml's max/−8 included).
 * On the reference model (whose weights lie near a 4-bit grid) the search brings the
 * weights' relative RMS error from 5e-3 (max/127) to 5e-5 for int8, and makes int4 top-1
 * agreement with FP32 >= 0.98 on every golden file.
 *
 * Memory form (what the integer kernels of qgemm.h read) is re-laid in panels of 16 rows;
 * see qgemm.h.
 */
#ifndef ITERA_QUANT_H
#define ITERA_QUANT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "itera.h"
#include "linear.h"

#define QK8_0 32
typedef struct {
    uint16_t d;         /* scale, IEEE half */
    int8_t qs[QK8_0];   /* w = d * q */
} block_q8_0;
static_assert(sizeof(block_q8_0) == 2 + QK8_0, "Q8_0 block: 34 bytes");

#define QK4_0 32
typedef struct {
    uint16_t d;            /* scale, IEEE half */
    uint8_t qs[QK4_0 / 2]; /* element j: low nibble of qs[j]; element j + 16: high nibble */
} block_q4_0;
static_assert(sizeof(block_q4_0) == 2 + QK4_0 / 2, "Q4_0 block: 18 bytes");

/* Block size of both formats (the inner size n_in must be a multiple of it). */
#define QUANT_BLOCK 32
static_assert(QK8_0 == QUANT_BLOCK && QK4_0 == QUANT_BLOCK, "one block size");

/* A block format of quantized weights: blocks of QUANT_BLOCK integers q in [qmin, qmax] with
 * one half-precision scale d (w = d·q), as file blocks (row-major) and as memory blocks
 * (a panel of 16 rows, qgemm.h). The codec below is generic over it; a format's own code is
 * its layout: how (d, q) sit in a file block and in a panel's memory block.
 *
 * Scales: per block, the candidates d = sign·max|w| / t for t from t_first to t_last in
 * t_steps equal steps (both signs when signs == 2: the extreme value may land on qmin or on
 * qmax; first −, then +), each followed by a least-squares refit d = Σ w·q / Σ q²; the
 * half-precision d with the smallest squared error wins (the first one on ties). */
typedef struct quant_layout {
    int qmin, qmax;
    float t_first, t_last;
    int t_steps, signs;
    size_t file_block;  /* bytes of one file block */
    size_t mem_block;   /* bytes of one memory block (16 rows' share of a block) */
    void (*encode)(void *file_block, uint16_t d, const int8_t *q);
    void (*decode)(const void *file_block, uint16_t *d, int8_t *q);
    void (*place)(void *mem_block, int r, float d, const int8_t *q); /* row r of the panel */
    void (*take)(const void *mem_block, int r, float *d, int8_t *q);
} quant_layout;

extern const quant_layout quant_layout_q8_0, quant_layout_q4_0;

/* The codec of every quant_layout format (linear_impl functions; f->impl->layout is its
 * quant_layout). A new format with the weights of an existing one (e.g. other activations)
 * reuses a layout and the codec, and brings only its kernels. */
size_t quant_file_bytes(const linear_format *f, int n_out, int n_in);
size_t quant_mem_bytes(const linear_format *f, int n_out, int n_in);
void quant_quantize_row(const linear_format *f, const float *w, void *file_row, int n_in);
void quant_dequantize_row(const linear_format *f, const void *file_row, float *w, int n_in);
void quant_pack(const linear_format *f, void *mem, const float *W, int n_out, int n_in);
bool quant_load(const linear_format *f, void *mem, const void *file, int n_out, int n_in);
void quant_save(const linear_format *f, void *file, const void *mem, int n_out, int n_in);
void quant_unpack_row(const linear_format *f, const void *mem, int n_out, int n_in, int row, float *out);
/* Bytes of the activations qgemm's kernels prepare for M rows. */
size_t quant_scratch_bytes(int M, int n_in);

/* IEEE half <-> float (round to nearest even; portable C, no F16C needed). */
uint16_t quant_f32_to_f16(float f);
float quant_f16_to_f32(uint16_t h);
/* p[i] = (float)(half)p[i]: what an FP32 parameter holds in a quantized model. */
void quant_round_f16(float *p, size_t n);

/* Safetensors dtype of the non-matrix (FP32-computed) parameters in a file of format q:
 * "F32" for the reference format, "F16" for every quantized one. */
const char *quant_param_dtype(itera_quant q);

#endif
