/*
 * linear.c: linear maps over the weight formats (see linear.h), and the FP32 format.
 *
 * FP32 memory form: matmul.h panels. Work split for FP32: whole panels per thread when
 * there are enough of them (each thread streams only its share of W), otherwise blocks
 * of rows (each thread streams all of a small W against its rows).
 */
#include "linear.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "isa_select.h"
#include "matmul.h"
#include "quant.h"

/* The quantized formats (quant.c) join this table as they are built. */
const linear_ops *const linear_formats[ITERA_QUANT_COUNT] = {
    [ITERA_QUANT_FP32] = &linear_fp32,
    [ITERA_QUANT_INT8] = &linear_int8,
    [ITERA_QUANT_INT4] = &linear_int4,
};

/* ---- FP32 ---- */

static bool fp32_fits(int n_out, int n_in) { return n_out > 0 && n_in > 0; }
static size_t fp32_file_bytes(int n_out, int n_in) { return (size_t)n_out * n_in * sizeof(float); }
static size_t fp32_mem_bytes(int n_out, int n_in) { return mm_packed_floats(n_out, n_in) * sizeof(float); }

static void fp32_pack(void *mem, const float *W, int n_out, int n_in) { mm_pack(mem, W, n_out, n_in); }

static bool fp32_load(void *mem, const void *file, int n_out, int n_in)
{
    mm_pack(mem, file, n_out, n_in);
    return true;
}

static void fp32_save(void *file, const void *mem, int n_out, int n_in)
{
    float *W = file;
    for (int r = 0; r < n_out; r++) mm_unpack_row(mem, n_out, n_in, r, W + (size_t)r * n_in);
}

static void fp32_unpack_row(const void *mem, int n_out, int n_in, int row, float *out)
{
    mm_unpack_row(mem, n_out, n_in, row, out);
}

/* Rows per block when splitting rows: a multiple of the SIMD kernels' row blocking. */
#define FP32_ROW_BLOCK 8

static void fp32_compute(int ith, int nth, const linear *L, const float *x, int ldx, int M,
                         const void *scratch, float *y, int ldy)
{
    (void)scratch;
    const mm_kernel_fn kernel = isa_selected()->mm->kernel;
    int P = mm_panels(L->n_out);
    int i0, i1;
    if (nth == 1) {
        kernel(x, ldx, M, L->w, L->n_in, L->n_out, 0, P, L->bias, y, ldy);
    } else if (P >= 4 * nth || M < 2 * FP32_ROW_BLOCK * nth) {
        pool_slice(P, ith, nth, &i0, &i1);
        if (i1 > i0) kernel(x, ldx, M, L->w, L->n_in, L->n_out, i0, i1, L->bias, y, ldy);
    } else {
        int blocks = (M + FP32_ROW_BLOCK - 1) / FP32_ROW_BLOCK;
        pool_slice(blocks, ith, nth, &i0, &i1);
        int m0 = i0 * FP32_ROW_BLOCK, m1 = i1 * FP32_ROW_BLOCK;
        if (m1 > M) m1 = M;
        if (m1 > m0)
            kernel(x + (size_t)m0 * ldx, ldx, m1 - m0, L->w, L->n_in, L->n_out, 0, P, L->bias,
                   y + (size_t)m0 * ldy, ldy);
    }
}

static const char *fp32_isa_name(void) { return isa_selected()->mm->v.name; }

const linear_ops linear_fp32 = {
    .name = "fp32",
    .dtype = "F32",
    .bits_per_weight = 32.0,
    .fits = fp32_fits,
    .file_bytes = fp32_file_bytes,
    .mem_bytes = fp32_mem_bytes,
    .pack = fp32_pack,
    .load = fp32_load,
    .save = fp32_save,
    .unpack_row = fp32_unpack_row,
    .scratch_bytes = NULL,
    .prepare = NULL,
    .compute = fp32_compute,
    .isa_name = fp32_isa_name,
};

/* ---- generic ---- */

static void *alloc64(size_t bytes)
{
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p) memset(p, 0, n ? n : 64);
    return p;
}

static itera_status linear_setup(linear *L, const char *what, const float *bias, int n_out,
                                 int n_in, itera_quant q, const linear_ops **ops_out,
                                 itera_error *err)
{
    memset(L, 0, sizeof *L);
    if (q < 0 || q >= ITERA_QUANT_COUNT || !linear_formats[q])
        return itera_fail(err, ITERA_ERR_ARG, "%s: weight format %d is not built in", what, (int)q);
    const linear_ops *ops = linear_formats[q];
    if (!ops->fits(n_out, n_in))
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: shape [%d, %d] does not fit format %s (inner size must be a "
                          "multiple of its block)",
                          what, n_out, n_in, ops->name);
    L->n_out = n_out;
    L->n_in = n_in;
    L->quant = q;
    L->w_bytes = ops->file_bytes(n_out, n_in);
    L->w = alloc64(ops->mem_bytes(n_out, n_in));
    if (bias) {
        L->bias = alloc64((size_t)n_out * sizeof(float));
        if (L->bias) memcpy(L->bias, bias, (size_t)n_out * sizeof(float));
    }
    if (!L->w || (bias && !L->bias)) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory packing weights", what);
    }
    *ops_out = ops;
    return ITERA_OK;
}

itera_status linear_init(linear *L, const char *what, const float *W, const float *bias,
                         int n_out, int n_in, itera_quant q, itera_error *err)
{
    const linear_ops *ops = NULL;
    itera_status st = linear_setup(L, what, bias, n_out, n_in, q, &ops, err);
    if (st != ITERA_OK) return st;
    ops->pack(L->w, W, n_out, n_in);
    return ITERA_OK;
}

itera_status linear_init_packed(linear *L, const char *what, const void *packed, size_t bytes,
                                const float *bias, int n_out, int n_in, itera_quant q,
                                itera_error *err)
{
    const linear_ops *ops = NULL;
    itera_status st = linear_setup(L, what, bias, n_out, n_in, q, &ops, err);
    if (st != ITERA_OK) return st;
    if (bytes != L->w_bytes) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: %zu bytes of %s data, expected %zu for shape [%d, %d]", what, bytes,
                          ops->name, ops->file_bytes(n_out, n_in), n_out, n_in);
    }
    if (!ops->load(L->w, packed, n_out, n_in)) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: invalid %s data (non-finite scale)", what,
                          ops->name);
    }
    return ITERA_OK;
}

void linear_free(linear *L)
{
    if (!L) return;
    free(L->w);
    free(L->bias);
    memset(L, 0, sizeof *L);
}

size_t linear_scratch_bytes(const linear *L, int M)
{
    const linear_ops *ops = linear_formats[L->quant];
    return ops->scratch_bytes ? ops->scratch_bytes(M, L->n_in) : 0;
}

typedef struct lf_args {
    const linear *L;
    const linear_ops *ops;
    const float *x;
    int ldx, M, ldy;
    void *scratch;
    float *y;
} lf_args;

static void lf_prepare(int ith, int nth, void *v)
{
    lf_args *a = v;
    a->ops->prepare(ith, nth, a->x, a->ldx, a->M, a->L->n_in, a->scratch);
}

static void lf_compute(int ith, int nth, void *v)
{
    lf_args *a = v;
    a->ops->compute(ith, nth, a->L, a->x, a->ldx, a->M, a->scratch, a->y, a->ldy);
}

/* Below this many activation values the prepare pass runs on the caller alone: a
 * parallel region costs more than quantizing a few rows. */
#define PREPARE_SERIAL_MAX 8192
/* Below this many multiply-adds a product runs on the caller alone: a parallel region
 * (~0.3 µs to start and join) costs more than it saves (decode's small GEMVs). */
#define COMPUTE_SERIAL_MACS 65536

void linear_forward(itera_pool *pool, const linear *L, const float *x, int ldx, int M,
                    void *scratch, float *y, int ldy)
{
    lf_args a = {L, linear_formats[L->quant], x, ldx, M, ldy, scratch, y};
    if (a.ops->prepare) {
        if ((size_t)M * L->n_in <= PREPARE_SERIAL_MAX) lf_prepare(0, 1, &a);
        else pool_run(pool, lf_prepare, &a);
    }
    if ((size_t)M * L->n_out * L->n_in < COMPUTE_SERIAL_MACS) lf_compute(0, 1, &a);
    else pool_run(pool, lf_compute, &a);
}

void linear_row(const linear *L, int row, float *out)
{
    linear_formats[L->quant]->unpack_row(L->w, L->n_out, L->n_in, row, out);
}

void linear_save(const linear *L, void *dst)
{
    linear_formats[L->quant]->save(dst, L->w, L->n_out, L->n_in);
}

const char *linear_isa_name(itera_quant q)
{
    return (q >= 0 && q < ITERA_QUANT_COUNT && linear_formats[q]) ? linear_formats[q]->isa_name()
                                                                  : "none";
}

const char *itera_quant_isa(itera_quant q) { return linear_isa_name(q); }
