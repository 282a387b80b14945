/*
 * linear.c: the format table (from itera_formats.def), linear maps over it (linear.h):
 * set-up, the work split across the pool, and the FP32 format.
 *
 * Work split (every format): whole panels per thread when there are enough of them
 * (each thread streams only its share of W), otherwise blocks of row_block rows (each
 * thread streams all of a small W against its rows). A prepare pass (activation
 * quantization) runs first, rows split across threads.
 *
 * FP32 memory form: matmul.h panels; its kernels are the FP32 matrix products.
 */
#include "linear.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "isa_select.h"
#include "matmul.h"

const linear_format linear_formats[ITERA_QUANT_COUNT] = {
#define ITERA_FORMAT(ID, name_, impl_, dtype_, bits, block_, ...)                                      \
    [ITERA_QUANT_##ID] = {.id = ITERA_QUANT_##ID, .name = name_, .dtype = dtype_, .bits_per_weight = bits, \
                          .block = block_, .impl = &linear_##impl_},
#include "itera_formats.def"
#undef ITERA_FORMAT
};

const linear_kernel *linear_kernel_of(const linear_format *f, itera_isa cap)
{
    return (const linear_kernel *)f->impl->kernels[itera_isa_pick(f->impl->kernels, f->impl->n_kernels, cap)];
}

/* ---- FP32 ---- */

static size_t fp32_file_bytes(const linear_format *f, int n_out, int n_in)
{
    (void)f;
    return (size_t)n_out * n_in * sizeof(float);
}

static size_t fp32_mem_bytes(const linear_format *f, int n_out, int n_in)
{
    (void)f;
    return mm_packed_floats(n_out, n_in) * sizeof(float);
}

static void fp32_row_copy(const linear_format *f, const float *w, void *file_row, int n_in)
{
    (void)f;
    memcpy(file_row, w, (size_t)n_in * sizeof(float));
}

static void fp32_row_uncopy(const linear_format *f, const void *file_row, float *w, int n_in)
{
    (void)f;
    memcpy(w, file_row, (size_t)n_in * sizeof(float));
}

static void fp32_pack(const linear_format *f, void *mem, const float *W, int n_out, int n_in)
{
    (void)f;
    mm_pack(mem, W, n_out, n_in);
}

static bool fp32_load(const linear_format *f, void *mem, const void *file, int n_out, int n_in)
{
    (void)f;
    mm_pack(mem, file, n_out, n_in);
    return true;
}

static void fp32_save(const linear_format *f, void *file, const void *mem, int n_out, int n_in)
{
    (void)f;
    float *W = file;
    for (int r = 0; r < n_out; r++) mm_unpack_row(mem, n_out, n_in, r, W + (size_t)r * n_in);
}

static void fp32_unpack_row(const linear_format *f, const void *mem, int n_out, int n_in, int row, float *out)
{
    (void)f;
    mm_unpack_row(mem, n_out, n_in, row, out);
}

static const linear_kernel fp32_scalar = {{ITERA_ISA_SCALAR, "scalar"}, NULL, mm_gemm_scalar};
static const linear_kernel fp32_avx2 = {{ITERA_ISA_AVX2, "avx2"}, NULL, mm_gemm_avx2};
static const linear_kernel fp32_avx512 = {{ITERA_ISA_AVX512, "avx512"}, NULL, mm_gemm_avx512};
static const itera_variant *const fp32_kernels[] = {&fp32_scalar.v, &fp32_avx2.v, &fp32_avx512.v};

const linear_impl linear_fp32 = {
    .layout = NULL,
    .row_block = 8, /* a multiple of the SIMD kernels' row blocking */
    .file_bytes = fp32_file_bytes,
    .mem_bytes = fp32_mem_bytes,
    .quantize_row = fp32_row_copy,
    .dequantize_row = fp32_row_uncopy,
    .pack = fp32_pack,
    .load = fp32_load,
    .save = fp32_save,
    .unpack_row = fp32_unpack_row,
    .scratch_bytes = NULL,
    .kernels = fp32_kernels,
    .n_kernels = (int)(sizeof fp32_kernels / sizeof fp32_kernels[0]),
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
                                 int n_in, itera_quant q, const linear_format **f_out,
                                 itera_error *err)
{
    memset(L, 0, sizeof *L);
    if (q < 0 || q >= ITERA_QUANT_COUNT)
        return itera_fail(err, ITERA_ERR_ARG, "%s: weight format %d is not built in", what, (int)q);
    const linear_format *f = &linear_formats[q];
    if (n_out <= 0 || n_in <= 0 || n_in % f->block != 0)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: shape [%d, %d] does not fit format %s (inner size must be a "
                          "multiple of its block)",
                          what, n_out, n_in, f->name);
    L->n_out = n_out;
    L->n_in = n_in;
    L->quant = q;
    L->w_bytes = f->impl->file_bytes(f, n_out, n_in);
    L->w = alloc64(f->impl->mem_bytes(f, n_out, n_in));
    if (bias) {
        L->bias = alloc64((size_t)n_out * sizeof(float));
        if (L->bias) memcpy(L->bias, bias, (size_t)n_out * sizeof(float));
    }
    if (!L->w || (bias && !L->bias)) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory packing weights", what);
    }
    *f_out = f;
    return ITERA_OK;
}

itera_status linear_init(linear *L, const char *what, const float *W, const float *bias,
                         int n_out, int n_in, itera_quant q, itera_error *err)
{
    const linear_format *f = NULL;
    itera_status st = linear_setup(L, what, bias, n_out, n_in, q, &f, err);
    if (st != ITERA_OK) return st;
    f->impl->pack(f, L->w, W, n_out, n_in);
    return ITERA_OK;
}

itera_status linear_init_packed(linear *L, const char *what, const void *packed, size_t bytes,
                                const float *bias, int n_out, int n_in, itera_quant q,
                                itera_error *err)
{
    const linear_format *f = NULL;
    itera_status st = linear_setup(L, what, bias, n_out, n_in, q, &f, err);
    if (st != ITERA_OK) return st;
    if (bytes != L->w_bytes) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: %zu bytes of %s data, expected %zu for shape [%d, %d]", what, bytes,
                          f->name, f->impl->file_bytes(f, n_out, n_in), n_out, n_in);
    }
    if (!f->impl->load(f, L->w, packed, n_out, n_in)) {
        linear_free(L);
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: invalid %s data (non-finite scale)", what,
                          f->name);
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
    const linear_impl *im = linear_formats[L->quant].impl;
    return im->scratch_bytes ? im->scratch_bytes(M, L->n_in) : 0;
}

typedef struct lf_args {
    linear_args a;
    const linear_kernel *k;
    int row_block;
} lf_args;

static void lf_prepare(int ith, int nth, void *v)
{
    const lf_args *t = v;
    int m0, m1;
    pool_slice(t->a.M, ith, nth, &m0, &m1);
    if (m1 > m0) t->k->prepare(&t->a, m0, m1);
}

static void lf_compute(int ith, int nth, void *v)
{
    const lf_args *t = v;
    const int M = t->a.M, P = linear_panels(t->a.n_out), RB = t->row_block;
    int i0, i1;
    if (nth == 1) {
        t->k->gemm(&t->a, 0, M, 0, P);
    } else if (P >= 4 * nth || M < 2 * RB * nth) {
        pool_slice(P, ith, nth, &i0, &i1);
        if (i1 > i0) t->k->gemm(&t->a, 0, M, i0, i1);
    } else {
        const int blocks = (M + RB - 1) / RB;
        pool_slice(blocks, ith, nth, &i0, &i1);
        const int m0 = i0 * RB, m1 = i1 * RB < M ? i1 * RB : M;
        if (m1 > m0) t->k->gemm(&t->a, m0, m1, 0, P);
    }
}

/* Below this many activation values the prepare pass runs on the caller alone: a
 * parallel region costs more than quantizing a few rows. */
#define PREPARE_SERIAL_MAX 8192
/* Below this many multiply-adds a product runs on the caller alone: a parallel region
 * (~0.3 µs to start and join) costs more than it saves (decode's small GEMVs). */
#define COMPUTE_SERIAL_MACS 65536

void linear_forward_with(itera_pool *pool, const linear *L, const linear_kernel *k, const float *x, int ldx,
                         int M, void *scratch, float *y, int ldy)
{
    lf_args t = {.a = {.w = L->w, .n_out = L->n_out, .n_in = L->n_in, .bias = L->bias, .x = x, .ldx = ldx,
                       .M = M, .act = scratch, .y = y, .ldy = ldy},
                 .k = k,
                 .row_block = linear_formats[L->quant].impl->row_block};
    if (k->prepare) {
        if ((size_t)M * L->n_in <= PREPARE_SERIAL_MAX) lf_prepare(0, 1, &t);
        else pool_run(pool, lf_prepare, &t);
    }
    if ((size_t)M * L->n_out * L->n_in < COMPUTE_SERIAL_MACS) lf_compute(0, 1, &t);
    else pool_run(pool, lf_compute, &t);
}

void linear_forward(itera_pool *pool, const linear *L, const float *x, int ldx, int M,
                    void *scratch, float *y, int ldy)
{
    linear_forward_with(pool, L, isa_selected()->fmt[L->quant], x, ldx, M, scratch, y, ldy);
}

void linear_row(const linear *L, int row, float *out)
{
    const linear_format *f = &linear_formats[L->quant];
    f->impl->unpack_row(f, L->w, L->n_out, L->n_in, row, out);
}

void linear_save(const linear *L, void *dst)
{
    const linear_format *f = &linear_formats[L->quant];
    f->impl->save(f, dst, L->w, L->n_out, L->n_in);
}

const char *linear_isa_name(itera_quant q)
{
    return (q >= 0 && q < ITERA_QUANT_COUNT) ? isa_selected()->fmt[q]->v.name : "none";
}

const char *itera_quant_isa(itera_quant q) { return linear_isa_name(q); }
