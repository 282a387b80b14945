/*
 * linear.h: a linear map y = x · Wᵀ (+ b) whose weights are stored in one of the weight
 * formats (itera_formats.def), run across the worker pool. The engine calls only this.
 *
 * The format table: one row per line of itera_formats.def (name, dtype, bits per weight,
 * block, ...) with its implementation linear_<impl> (a linear_impl): the codecs between
 * FP32, the file form and the memory form, and its kernels per ISA (linear_kernel rows,
 * scalar first; the ISA selection picks one per format: isa_select.h). linear.c holds
 * the table, the generic work split across threads, and the FP32 format; the quantized
 * formats are in quant.c.
 *
 * Two forms of the weights: the file form (what a safetensors file of the format holds,
 * row-major like PyTorch, e.g. ggml-style Q8_0 / Q4_0 blocks per row) and the memory form
 * (what the kernels read: panels of 16 output rows, interleaved for SIMD).
 */
#ifndef ITERA_LINEAR_H
#define ITERA_LINEAR_H

#include <stddef.h>
#include "itera.h"
#include "pool.h"

typedef struct linear {
    int n_out, n_in;   /* W is [n_out, n_in] (PyTorch layout) */
    itera_quant quant;
    void *w;           /* memory form of the weights; owned, 64-byte aligned */
    size_t w_bytes;    /* bytes of the file form: the honest stored size */
    float *bias;       /* [n_out] or NULL; always FP32; owned */
} linear;

/* Rows of output per panel of the memory form (every format). */
#define LINEAR_PANEL 16
static inline int linear_panels(int n_out) { return (n_out + LINEAR_PANEL - 1) / LINEAR_PANEL; }

/* One product's operands, as every format's kernels take them. */
typedef struct linear_args {
    const void *w;      /* memory form of W [n_out, n_in] */
    int n_out, n_in;
    const float *bias;  /* [n_out] or NULL */
    const float *x;     /* [M, n_in], rows ldx floats apart */
    int ldx, M;
    void *act;          /* the prepared activations of the M rows (scratch_bytes(M, n_in)), or NULL */
    float *y;           /* [M, n_out], rows ldy floats apart */
    int ldy;
} linear_args;

/* Rows [m0, m1) of x into a->act (e.g. quantized to the format's activation form). */
typedef void (*linear_prepare_fn)(const linear_args *a, int m0, int m1);
/* y rows [m0, m1), the columns of panels [p0, p1) (columns >= n_out are not written), from
 * x or, after prepare, a->act. */
typedef void (*linear_gemm_fn)(const linear_args *a, int m0, int m1, int p0, int p1);

/* One ISA variant of a format's kernels: a row of its linear_impl.kernels. */
typedef struct linear_kernel {
    itera_variant v;            /* isa, name (recorded in results) */
    linear_prepare_fn prepare;  /* NULL: the products read x itself */
    linear_gemm_fn gemm;
} linear_kernel;

typedef struct linear_format linear_format;

/* A format's implementation: linear_<impl> of its itera_formats.def row. The codecs take
 * the format (their row), so one codec serves every format of a family of layouts. */
typedef struct linear_impl {
    const void *layout; /* the format's block layout, for its codecs (e.g. a quant_layout) */
    int row_block;      /* rows per block when a product is split by rows across threads */
    size_t (*file_bytes)(const linear_format *f, int n_out, int n_in);
    size_t (*mem_bytes)(const linear_format *f, int n_out, int n_in);
    /* one row of n_in weights <-> its file form (quantizing where needed) */
    void (*quantize_row)(const linear_format *f, const float *w, void *file_row, int n_in);
    void (*dequantize_row)(const linear_format *f, const void *file_row, float *w, int n_in);
    /* W [n_out, n_in] FP32 -> memory form (quantizing where needed) */
    void (*pack)(const linear_format *f, void *mem, const float *W, int n_out, int n_in);
    /* file form -> memory form; false if the data is invalid (e.g. a non-finite scale) */
    bool (*load)(const linear_format *f, void *mem, const void *file, int n_out, int n_in);
    /* memory form -> file form */
    void (*save)(const linear_format *f, void *file, const void *mem, int n_out, int n_in);
    /* W[row, :] in FP32 from the memory form (embedding lookups, tests) */
    void (*unpack_row)(const linear_format *f, const void *mem, int n_out, int n_in, int row, float *out);
    /* bytes of a->act for M rows; NULL when the kernels read x itself */
    size_t (*scratch_bytes)(int M, int n_in);
    /* its kernels, linear_kernel rows by ISA, the scalar reference first */
    const itera_variant *const *kernels;
    int n_kernels;
} linear_impl;

#define ITERA_FORMAT(ID, name, impl, ...) extern const linear_impl linear_##impl;
#include "itera_formats.def"
#undef ITERA_FORMAT

/* A row of the format table, indexed by itera_quant. */
struct linear_format {
    itera_quant id;
    const char *name;       /* "fp32", ... */
    const char *dtype;      /* safetensors dtype of the file form: "F32", "Q8_0", ... */
    double bits_per_weight; /* of the file form, scales included */
    int block;              /* weights per block along a row (1: not blocked) */
    const linear_impl *impl;
};
extern const linear_format linear_formats[ITERA_QUANT_COUNT];

/* The kernel row of format q a selection picked (isa_select.h). */
const linear_kernel *linear_kernel_of(const linear_format *f, itera_isa cap);

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
/* y = x · Wᵀ + b for M rows across the pool, with the selected kernels of L's format.
 * scratch: linear_scratch_bytes(L, M) bytes. */
void linear_forward(itera_pool *pool, const linear *L, const float *x, int ldx, int M,
                    void *scratch, float *y, int ldy);
/* The same with a given kernel row of L's format (tests run every ISA variant). */
void linear_forward_with(itera_pool *pool, const linear *L, const linear_kernel *k, const float *x, int ldx,
                         int M, void *scratch, float *y, int ldy);
/* W[row, :] in FP32. */
void linear_row(const linear *L, int row, float *out);
/* The file form of L into dst (L->w_bytes bytes). */
void linear_save(const linear *L, void *dst);
const char *linear_isa_name(itera_quant q);

#endif
