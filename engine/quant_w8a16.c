/*
 * quant_w8a16.c: the int8 weight format with one scale per row and 16-bit activations
 * (W8A16; the `int8` row of itera_formats.def, implementation linear_w8a16): quantizing
 * rows, file form <-> memory form, and its kernels per ISA (qgemm_a16.h).
 *
 * Why: int8 activations in blocks of 32 (the W8A8 of Q8_0, now `int8a8`) make int8 no more
 * accurate than int4 — the activations' rounding, not the weights', flips the model's near
 * ties (issue 15). Here the weights stay int8 and the activations get 16 bits.
 *
 * File form (safetensors dtype U8 [n_out, 4 + n_in], itera.format Q8_ROW): each row of
 * W [n_out, n_in] is its scale d (IEEE float, little-endian), then n_in int8 q: w = d · q,
 * q in −127..127; 8 + 32 / n_in bits per weight (8.5 at n_in = 64, 8.25 at 128).
 * Scale: per row, the d that minimizes the row's squared error over the candidates
 * max|w| / t for t = 127 down to 96 (t = 127: the plain max/127; ties keep the larger t),
 * each followed by a least-squares refit d = Σ w·q / Σ q² — the search of Q8_0 (quant.c)
 * over a row instead of a block of 32, and kept in float. A row whose weights lie on a
 * common grid (the reference checkpoint's do) comes back exactly.
 * Memory form: qgemm_a16.h panels (16 rows, groups of 4 k, nsum per row and chunk).
 * Parameters that are not matrix weights are FP16 in the model, as for every quantized
 * format (quant.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"
#include "qgemm_a16.h"
#include "quant.h"

#define Q8R_T0 96

/* q = clamp(round(w / d), −127, 127); returns Σ (w − d·q)². w is finite (the loader
 * refuses non-finite weights); d may be subnormal, where 1/d overflows to inf and 0·inf
 * would be NaN (found by fuzz-model): then w / d is used, whose ±inf the clamp takes. */
static double q8r_try(const float *w, int n, float d, int8_t *q)
{
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const bool by_inverse = isfinite(id);
    double err = 0.0;
    for (int k = 0; k < n; k++) {
        float v = by_inverse ? roundf(w[k] * id) : roundf(w[k] / d);
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        q[k] = (int8_t)v;
        const double e = (double)w[k] - (double)d * v;
        err += e * e;
    }
    return err;
}

/* One row of n weights: its scale (returned) and q[n]; scratch: n int8. */
static float q8r_row(const float *w, int n, int8_t *q, int8_t *scratch)
{
    float amax = 0.0f;
    for (int k = 0; k < n; k++) amax = fmaxf(amax, fabsf(w[k]));
    float best_d = 0.0f;
    double best = INFINITY;
    if (amax > 0.0f)
        for (int t = 127; t >= Q8R_T0; t--) {
            float d = amax / (float)t;
            double err = q8r_try(w, n, d, scratch);
            if (err < best) best = err, best_d = d;
            double sqw = 0.0, sqq = 0.0;
            for (int k = 0; k < n; k++) {
                sqw += (double)w[k] * scratch[k];
                sqq += (double)scratch[k] * scratch[k];
            }
            if (sqq <= 0.0) continue;
            d = (float)(sqw / sqq);
            err = q8r_try(w, n, d, scratch);
            if (err < best) best = err, best_d = d;
        }
    q8r_try(w, n, best_d, q);
    return best_d;
}

static size_t row_bytes(int n_in) { return 4 + (size_t)n_in; }
static size_t file_bytes(const linear_format *f, int n_out, int n_in)
{
    (void)f;
    return (size_t)n_out * row_bytes(n_in);
}
static size_t mem_bytes(const linear_format *f, int n_out, int n_in)
{
    (void)f;
    return (size_t)qg_panels(n_out) * qa16_panel_bytes(n_in);
}

/* The file row: d, then q. */
static void quantize_row(const linear_format *f, const float *w, void *file_row, int n_in)
{
    (void)f;
    int8_t *q = malloc(2 * (size_t)n_in);
    if (!q) { /* the codec has no error path: a zero row rather than garbage */
        memset(file_row, 0, row_bytes(n_in));
        return;
    }
    const float d = q8r_row(w, n_in, q, q + n_in);
    memcpy(file_row, &d, 4);
    memcpy((uint8_t *)file_row + 4, q, (size_t)n_in);
    free(q);
}

static void dequantize_row(const linear_format *f, const void *file_row, float *w, int n_in)
{
    (void)f;
    float d;
    memcpy(&d, file_row, 4);
    const int8_t *q = (const int8_t *)file_row + 4;
    for (int k = 0; k < n_in; k++) w[k] = d * (float)q[k];
}

static void pack(const linear_format *f, void *mem, const float *W, int n_out, int n_in)
{
    uint8_t *row = malloc(row_bytes(n_in));
    for (int r = 0; row && r < n_out; r++) {
        quantize_row(f, W + (size_t)r * n_in, row, n_in);
        float d;
        memcpy(&d, row, 4);
        qa16_place_row(mem, n_in, r, d, (const int8_t *)row + 4);
    }
    free(row);
}

/* The file buffer need not be aligned: scales are copied out. */
static bool load(const linear_format *f, void *mem, const void *file, int n_out, int n_in)
{
    (void)f;
    const uint8_t *p = file;
    for (int r = 0; r < n_out; r++, p += row_bytes(n_in)) {
        float d;
        memcpy(&d, p, 4);
        if (!isfinite(d)) return false;
        qa16_place_row(mem, n_in, r, d, (const int8_t *)p + 4);
    }
    return true;
}

static void save(const linear_format *f, void *file, const void *mem, int n_out, int n_in)
{
    (void)f;
    uint8_t *p = file;
    for (int r = 0; r < n_out; r++, p += row_bytes(n_in)) {
        const float d = qa16_take_row(mem, n_in, r, (int8_t *)p + 4);
        memcpy(p, &d, 4);
    }
}

static void unpack_row(const linear_format *f, const void *mem, int n_out, int n_in, int row, float *out)
{
    (void)f, (void)n_out;
    const int p = row / QG_NR, r = row % QG_NR;
    const float d = qa16_panel_d(mem, n_in, p)[r];
    const int8_t *q = qa16_panel_group(mem, n_in, p, 0) + 4 * r; /* group g: q + g · 64 (qgemm_a16.h) */
    for (int g = 0; g < n_in / 4; g++, q += 4 * QG_NR)
        for (int j = 0; j < 4; j++) out[4 * g + j] = d * (float)q[j];
}

static size_t scratch_bytes(int M, int n_in) { return qa16_act_bytes(M, n_in); }

/* ---- the kernels: linear_args in, qgemm_a16's variants ---- */

static qa16_args args_of(const linear_args *a)
{
    qa16_args q = {.w = a->w, .n_out = a->n_out, .K = a->n_in, .bias = a->bias,
                   .x = qa16_act_view(a->act, a->M, a->n_in), .y = a->y, .ldy = a->ldy};
    return q;
}

#define W8A16_KERNEL(isa, PREPARE, GEMM)                                                    \
    static void prepare_##isa(const linear_args *a, int m0, int m1)                        \
    {                                                                                      \
        const qa16_act x = qa16_act_view(a->act, a->M, a->n_in);                           \
        PREPARE(a->x, a->ldx, m0, m1, a->n_in, &x);                                        \
    }                                                                                      \
    static void gemm_##isa(const linear_args *a, int m0, int m1, int p0, int p1)           \
    {                                                                                      \
        const qa16_args q = args_of(a);                                                    \
        GEMM(&q, m0, m1, p0, p1);                                                          \
    }
W8A16_KERNEL(scalar, qa16_prepare_scalar, qa16_gemm_scalar)
W8A16_KERNEL(avx2, qa16_prepare_avx2, qa16_gemm_avx2)
W8A16_KERNEL(vnni, qa16_prepare_vnni, qa16_gemm_vnni)
W8A16_KERNEL(amx, qa16_prepare_vnni, qa16_gemm_amx)

static const linear_kernel k_scalar = {{ITERA_ISA_SCALAR, "scalar"}, prepare_scalar, gemm_scalar};
static const linear_kernel k_avx2 = {{ITERA_ISA_AVX2, "avx2"}, prepare_avx2, gemm_avx2};
static const linear_kernel k_vnni = {{ITERA_ISA_AVX512VNNI, "avx512-vnni"}, prepare_vnni, gemm_vnni};
static const linear_kernel k_amx = {{ITERA_ISA_AMX, "amx"}, prepare_amx, gemm_amx};
static const itera_variant *const kernels[] = {&k_scalar.v, &k_avx2.v, &k_vnni.v, &k_amx.v};

const linear_impl linear_w8a16 = {
    .layout = NULL,
    .row_block = 16, /* the AMX tiles' row count (VNNI takes any) */
    .file_bytes = file_bytes,
    .mem_bytes = mem_bytes,
    .quantize_row = quantize_row,
    .dequantize_row = dequantize_row,
    .pack = pack,
    .load = load,
    .save = save,
    .unpack_row = unpack_row,
    .scratch_bytes = scratch_bytes,
    .kernels = kernels,
    .n_kernels = (int)(sizeof kernels / sizeof kernels[0]),
};
