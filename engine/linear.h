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
    void *w;           /* packed weights, layout of `quant`; owned */
    size_t w_bytes;    /* bytes of the weights as stored in a file of this format */
    float *bias;       /* [n_out] or NULL; always FP32; owned */
} linear;

/* One storage format. All function pointers are required unless noted. */
typedef struct linear_ops {
    const char *name;   /* "fp32", "int8", "int4" */
    const char *dtype;  /* safetensors dtype written for the packed data: "F32", "Q8_0", "Q4_0" */
    /* bytes of the packed form in memory and in a file (same layout) */
    size_t (*packed_bytes)(int n_out, int n_in);
    /* false if n_in does not fit the format's block */
    bool (*fits)(int n_out, int n_in);
    /* W [n_out, n_in] FP32 -> dst (packed_bytes); quantizes where needed */
    void (*pack)(void *dst, const float *W, int n_out, int n_in);
    /* W[row, :] in FP32 from the packed form (embedding lookups, tests) */
    void (*unpack_row)(const void *w, int n_out, int n_in, int row, float *out);
    /* scratch for one forward of M rows (activation quantization); may be NULL: none */
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
/* Takes packed weights as stored in a file (bytes must equal packed_bytes). */
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
const char *linear_isa_name(itera_quant q);

#endif
