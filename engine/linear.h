/*
 * linear.h: a linear map y = x · Wᵀ (+ b) whose weights are stored in one of the
 * itera_quant formats, run across the worker pool. The engine calls only this; each
 * format provides a linear_ops entry (fp32 here in linear.c; int8/int4 in quant.c).
 */
#ifndef ITERA_LINEAR_H
#define ITERA_LINEAR_H

#include <stddef.h>
#include "itera.h"
#include "pool.h"

typedef struct linear {
    int n_out, n_in;   /* W is [n_out, n_in] (PyTorch layout) */
    itera_quant quant;
    void *w;           /* memory form of the weights (linear_ops); owned, 64-byte aligned */
    size_t w_bytes;    /* bytes of the file form: the honest stored size */
    float *bias;       /* [n_out] or NULL; always FP32; owned */
} linear;

/* One storage format. All function pointers are required unless noted.
 * Two forms of the weights: the file form (what a safetensors file of this format holds,
 * row-major like PyTorch, e.g. ggml-style Q8_0 / Q4_0 blocks per row) and the memory
 * form (what the kernels read; may be interleaved or padded for SIMD). */
typedef struct linear_ops {
    const char *name;   /* "fp32", "int8", "int4" */
    const char *dtype;  /* safetensors dtype of the file form: "F32", "Q8_0", "Q4_0" */
    double bits_per_weight; /* of the file form, scales included */
    /* false if [n_out, n_in] does not fit the format (e.g. n_in not a multiple of the block) */
    bool (*fits)(int n_out, int n_in);
    size_t (*file_bytes)(int n_out, int n_in);
    size_t (*mem_bytes)(int n_out, int n_in);
    /* W [n_out, n_in] FP32 -> memory form (quantizing where needed) */
    void (*pack)(void *mem, const float *W, int n_out, int n_in);
    /* file form -> memory form; false if the data is invalid (e.g. a non-finite scale) */
    bool (*load)(void *mem, const void *file, int n_out, int n_in);
    /* memory form -> file form */
    void (*save)(void *file, const void *mem, int n_out, int n_in);
    /* W[row, :] in FP32 from the memory form (embedding lookups, tests) */
    void (*unpack_row)(const void *mem, int n_out, int n_in, int row, float *out);
    /* scratch for one forward of M rows (activation quantization); NULL: none needed */
    size_t (*scratch_bytes)(int M, int n_in);
    /* optional first pass over rows (e.g. quantize x into scratch), slice (ith, nth); may be NULL */
    void (*prepare)(int ith, int nth, const float *x, int ldx, int M, int n_in, void *scratch);
    /* y[M, n_out] = x[M, n_in] · Wᵀ + bias, slice (ith, nth) of the work */
    void (*compute)(int ith, int nth, const struct linear *L, const float *x, int ldx, int M,
                    const void *scratch, float *y, int ldy);
    /* name of the ISA path compute uses on this CPU, e.g. "avx512-vnni" */
    const char *(*isa_name)(void);
} linear_ops;

/* Indexed by itera_quant; an entry is NULL where a format is not built in. */
extern const linear_ops *const linear_formats[ITERA_QUANT_COUNT];
extern const linear_ops linear_fp32;

/* Packs W (and copies bias) for format q. On error (format missing, n_in not fitting the
 * block, allocation) L is zeroed and err names `what` (the tensor name). */
itera_status linear_init(linear *L, const char *what, const float *W, const float *bias,
                         int n_out, int n_in, itera_quant q, itera_error *err);
/* Takes the file form of format q (bytes must equal file_bytes), e.g. from a quantized
 * safetensors file; bad size or data -> ITERA_ERR_FORMAT naming `what`. */
itera_status linear_init_packed(linear *L, const char *what, const void *packed, size_t bytes,
                                const float *bias, int n_out, int n_in, itera_quant q,
                                itera_error *err);
void linear_free(linear *L);
size_t linear_scratch_bytes(const linear *L, int M);
/* y = x · Wᵀ + b for M rows across the pool. scratch: linear_scratch_bytes(L, M) bytes. */
void linear_forward(itera_pool *pool, const linear *L, const float *x, int ldx, int M,
                    void *scratch, float *y, int ldy);
/* W[row, :] in FP32. */
void linear_row(const linear *L, int row, float *out);
/* The file form of L into dst (L->w_bytes bytes). */
void linear_save(const linear *L, void *dst);
const char *linear_isa_name(itera_quant q);

#endif
