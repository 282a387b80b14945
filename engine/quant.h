/*
 * quant.h: the quantized weight formats int8 (Q8_0) and int4 (Q4_0), as ggml defines them,
 * and their linear_ops entries (linear_int8, linear_int4; linear.h).
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
#define QUANT_BLOCK_STR "32" /* metadata itera.block_size of quantized files */
static_assert(QK8_0 == QUANT_BLOCK && QK4_0 == QUANT_BLOCK, "one block size");

extern const linear_ops linear_int8;
extern const linear_ops linear_int4;

/* IEEE half <-> float (round to nearest even; portable C, no F16C needed). */
uint16_t quant_f32_to_f16(float f);
float quant_f16_to_f32(uint16_t h);
/* p[i] = (float)(half)p[i]: what an FP32 parameter holds in a quantized model. */
void quant_round_f16(float *p, size_t n);

/* Safetensors dtype of the non-matrix (FP32-computed) parameters in a file of format q:
 * "F32" for fp32, "F16" for int8 and int4. */
const char *quant_param_dtype(itera_quant q);

/* One row of n_in (a multiple of 32) weights <-> its file-form blocks. */
void quant_row_q8_0(const float *w, block_q8_0 *out, int n_in);
void quant_row_q4_0(const float *w, block_q4_0 *out, int n_in);
void dequant_row_q8_0(const block_q8_0 *b, float *out, int n_in);
void dequant_row_q4_0(const block_q4_0 *b, float *out, int n_in);

#endif
