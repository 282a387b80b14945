/*
 * quant.c: the quantized weight formats (quant.h): half-precision conversion, the generic
 * codec of a quant_layout (scale search, file form <-> memory form), the Q8_0 and Q4_0
 * layouts, and the two formats' implementations with their kernels per ISA (qgemm.h).
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "qgemm.h"

/* ---- IEEE half ---- */

uint16_t quant_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, m · 2^-24 */
        float v;
        memcpy(&v, &ax, 4);
        return (uint16_t)(sign | (uint32_t)lrintf(v * 16777216.0f));
    }
    uint32_t h = ((((ax >> 23) - 127u + 15u)) << 10) | ((ax & 0x7fffffu) >> 13);
    const uint32_t rest = ax & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++; /* nearest even; carries into e */
    return (uint16_t)(sign | h);
}

float quant_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t bits;
    if (e == 0) {
        const float v = (float)m * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (e == 31) bits = sign | 0x7f800000u | (m << 13);
    else bits = sign | ((e - 15u + 127u) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void quant_round_f16(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = quant_f16_to_f32(quant_f32_to_f16(p[i]));
}

const char *quant_param_dtype(itera_quant q) { return q == ITERA_QUANT_REFERENCE ? "F32" : "F16"; }

/* ---- the codec of a block layout ---- */

static const quant_layout *layout_of(const linear_format *f) { return f->impl->layout; }

/* q = clamp(round(w / d), qmin, qmax) for the half-precision d; returns Σ (w − d·q)². */
static float q_try(const quant_layout *L, const float *w, uint16_t dh, int8_t *q)
{
    const float d = quant_f16_to_f32(dh), id = d != 0.0f ? 1.0f / d : 0.0f;
    const float lo = (float)L->qmin, hi = (float)L->qmax;
    float err = 0.0f;
    for (int k = 0; k < QUANT_BLOCK; k++) {
        float v = roundf(w[k] * id);
        v = v > hi ? hi : v < lo ? lo : v;
        q[k] = (int8_t)v;
        const float e = w[k] - d * v;
        err += e * e;
    }
    return err;
}

/* One block of weights -> its scale (half) and integers: the search of quant_layout. */
static void q_block(const quant_layout *L, const float *w, uint16_t *d_out, int8_t *q_out)
{
    float amax = 0.0f;
    for (int k = 0; k < QUANT_BLOCK; k++) amax = fmaxf(amax, fabsf(w[k]));
    int8_t q[QUANT_BLOCK];
    uint16_t best_d = 0;
    float best = INFINITY;
    memset(q_out, 0, QUANT_BLOCK);
    if (amax > 0.0f)
        for (int s = 0; s <= L->t_steps; s++)
            for (int sign = L->signs == 2 ? -1 : 1; sign <= 1; sign += 2) {
                const float t = L->t_first + (L->t_last - L->t_first) * (float)s / (float)L->t_steps;
                uint16_t dh = quant_f32_to_f16((float)sign * amax / t);
                float err = q_try(L, w, dh, q);
                if (err < best) {
                    best = err, best_d = dh;
                    memcpy(q_out, q, sizeof q);
                }
                float sqw = 0.0f, sqq = 0.0f;
                for (int k = 0; k < QUANT_BLOCK; k++) {
                    sqw += w[k] * (float)q[k];
                    sqq += (float)q[k] * (float)q[k];
                }
                if (sqq <= 0.0f) continue;
                dh = quant_f32_to_f16(sqw / sqq);
                err = q_try(L, w, dh, q);
                if (err < best) {
                    best = err, best_d = dh;
                    memcpy(q_out, q, sizeof q);
                }
            }
    *d_out = best_d;
}

size_t quant_file_bytes(const linear_format *f, int n_out, int n_in)
{
    return (size_t)n_out * (size_t)(n_in / QUANT_BLOCK) * layout_of(f)->file_block;
}

size_t quant_mem_bytes(const linear_format *f, int n_out, int n_in)
{
    return (size_t)qg_panels(n_out) * (size_t)(n_in / QUANT_BLOCK) * layout_of(f)->mem_block;
}

/* The memory block holding block b of row `row` (16 rows share it). */
static void *mem_at(const quant_layout *L, const void *mem, int n_in, int row, int b)
{
    return (char *)(uintptr_t)mem + ((size_t)(row / QG_NR) * (size_t)(n_in / QUANT_BLOCK) + (size_t)b) * L->mem_block;
}

void quant_quantize_row(const linear_format *f, const float *w, void *file_row, int n_in)
{
    const quant_layout *L = layout_of(f);
    for (int b = 0; b < n_in / QUANT_BLOCK; b++) {
        uint16_t d;
        int8_t q[QUANT_BLOCK];
        q_block(L, w + b * QUANT_BLOCK, &d, q);
        L->encode((char *)file_row + (size_t)b * L->file_block, d, q);
    }
}

void quant_dequantize_row(const linear_format *f, const void *file_row, float *w, int n_in)
{
    const quant_layout *L = layout_of(f);
    for (int b = 0; b < n_in / QUANT_BLOCK; b++) {
        uint16_t dh;
        int8_t q[QUANT_BLOCK];
        L->decode((const char *)file_row + (size_t)b * L->file_block, &dh, q);
        const float d = quant_f16_to_f32(dh);
        for (int k = 0; k < QUANT_BLOCK; k++) w[b * QUANT_BLOCK + k] = d * (float)q[k];
    }
}

void quant_pack(const linear_format *f, void *mem, const float *W, int n_out, int n_in)
{
    const quant_layout *L = layout_of(f);
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QUANT_BLOCK; b++) {
            uint16_t dh;
            int8_t q[QUANT_BLOCK];
            q_block(L, W + (size_t)row * n_in + b * QUANT_BLOCK, &dh, q);
            const float d = quant_f16_to_f32(dh);
            if (isfinite(d)) L->place(mem_at(L, mem, n_in, row, b), row % QG_NR, d, q);
        }
}

/* The file buffer need not be aligned: the layouts copy blocks out. */
bool quant_load(const linear_format *f, void *mem, const void *file, int n_out, int n_in)
{
    const quant_layout *L = layout_of(f);
    const char *fb = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QUANT_BLOCK; b++, fb += L->file_block) {
            uint16_t dh;
            int8_t q[QUANT_BLOCK];
            L->decode(fb, &dh, q);
            const float d = quant_f16_to_f32(dh);
            if (!isfinite(d)) return false;
            L->place(mem_at(L, mem, n_in, row, b), row % QG_NR, d, q);
        }
    return true;
}

void quant_save(const linear_format *f, void *file, const void *mem, int n_out, int n_in)
{
    const quant_layout *L = layout_of(f);
    char *fb = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QUANT_BLOCK; b++, fb += L->file_block) {
            float d;
            int8_t q[QUANT_BLOCK];
            L->take(mem_at(L, mem, n_in, row, b), row % QG_NR, &d, q);
            L->encode(fb, quant_f32_to_f16(d), q); /* exact: d came from a half */
        }
}

void quant_unpack_row(const linear_format *f, const void *mem, int n_out, int n_in, int row, float *out)
{
    (void)n_out;
    const quant_layout *L = layout_of(f);
    for (int b = 0; b < n_in / QUANT_BLOCK; b++) {
        float d;
        int8_t q[QUANT_BLOCK];
        L->take(mem_at(L, mem, n_in, row, b), row % QG_NR, &d, q);
        for (int k = 0; k < QUANT_BLOCK; k++) out[b * QUANT_BLOCK + k] = d * (float)q[k];
    }
}

size_t quant_scratch_bytes(int M, int n_in) { return qg_act_bytes(M, n_in); }

/* ---- Q8_0: file block {d, 32 x int8}; memory qg_blk8 ---- */

static void q8_encode(void *fb, uint16_t d, const int8_t *q)
{
    block_q8_0 b;
    b.d = d;
    memcpy(b.qs, q, QK8_0);
    memcpy(fb, &b, sizeof b);
}

static void q8_decode(const void *fb, uint16_t *d, int8_t *q)
{
    block_q8_0 b;
    memcpy(&b, fb, sizeof b);
    *d = b.d;
    memcpy(q, b.qs, QK8_0);
}

/* qs[g][r][j] = q[4g + j]; nsum = −128 · Σ q (qgemm.h). */
static void q8_place(void *mb, int r, float d, const int8_t *q)
{
    qg_blk8 *blk = mb;
    blk->d[r] = d;
    int32_t sum = 0;
    for (int k = 0; k < QK8_0; k++) {
        blk->qs[k / 4][r][k % 4] = q[k];
        sum += q[k];
    }
    blk->nsum[r] = -128 * sum;
}

static void q8_take(const void *mb, int r, float *d, int8_t *q)
{
    const qg_blk8 *blk = mb;
    *d = blk->d[r];
    for (int k = 0; k < QK8_0; k++) q[k] = blk->qs[k / 4][r][k % 4];
}

/* Symmetric, q in −127..127: d = max|w| / t for t = 127 down to 96 (t = 127 is the plain
 * max/127; ties keep the larger t). */
const quant_layout quant_layout_q8_0 = {
    .qmin = -127, .qmax = 127, .t_first = 127.0f, .t_last = 96.0f, .t_steps = 31, .signs = 1,
    .file_block = sizeof(block_q8_0), .mem_block = sizeof(qg_blk8),
    .encode = q8_encode, .decode = q8_decode, .place = q8_place, .take = q8_take,
};

/* ---- Q4_0: file block {d, 16 bytes of nibbles}; memory qg_blk4 ---- */

/* byte j: element j (low nibble) and element j + 16 (high nibble), each stored as q + 8 */
static void q4_encode(void *fb, uint16_t d, const int8_t *q)
{
    block_q4_0 b;
    b.d = d;
    for (int j = 0; j < QK4_0 / 2; j++) b.qs[j] = (uint8_t)((q[j] + 8) | ((q[j + QK4_0 / 2] + 8) << 4));
    memcpy(fb, &b, sizeof b);
}

static void q4_decode(const void *fb, uint16_t *d, int8_t *q)
{
    block_q4_0 b;
    memcpy(&b, fb, sizeof b);
    *d = b.d;
    for (int j = 0; j < QK4_0 / 2; j++) {
        q[j] = (int8_t)((b.qs[j] & 15) - 8);
        q[j + QK4_0 / 2] = (int8_t)((b.qs[j] >> 4) - 8);
    }
}

/* The memory byte (g, r, j) is the file byte 4g + j: low nibble element 4g + j, high
 * nibble element 16 + 4g + j (qgemm.h). */
static void q4_place(void *mb, int r, float d, const int8_t *q)
{
    qg_blk4 *blk = mb;
    blk->d[r] = d;
    for (int k = 0; k < QK4_0 / 2; k++)
        blk->qs[k / 4][r][k % 4] = (uint8_t)((q[k] + 8) | ((q[k + QK4_0 / 2] + 8) << 4));
}

static void q4_take(const void *mb, int r, float *d, int8_t *q)
{
    const qg_blk4 *blk = mb;
    *d = blk->d[r];
    for (int k = 0; k < QK4_0 / 2; k++) {
        const int v = blk->qs[k / 4][r][k % 4];
        q[k] = (int8_t)((v & 15) - 8);
        q[k + QK4_0 / 2] = (int8_t)((v >> 4) - 8);
    }
}

/* q in −8..7: d = ±max|w| / t for 41 t in [4, 9] (max/8, ggml's, among them). */
const quant_layout quant_layout_q4_0 = {
    .qmin = -8, .qmax = 7, .t_first = 4.0f, .t_last = 9.0f, .t_steps = 40, .signs = 2,
    .file_block = sizeof(block_q4_0), .mem_block = sizeof(qg_blk4),
    .encode = q4_encode, .decode = q4_decode, .place = q4_place, .take = q4_take,
};

/* ---- the formats: a layout, the codec, the kernels per ISA ---- */

#define QUANT_IMPL(layout_, kernels_)                                                         \
    {                                                                                         \
        .layout = &(layout_), .row_block = 4, /* the VNNI tiles' row count */                  \
        .file_bytes = quant_file_bytes, .mem_bytes = quant_mem_bytes,                        \
        .quantize_row = quant_quantize_row, .dequantize_row = quant_dequantize_row,          \
        .pack = quant_pack, .load = quant_load, .save = quant_save,                          \
        .unpack_row = quant_unpack_row, .scratch_bytes = quant_scratch_bytes,                \
        .kernels = (kernels_), .n_kernels = (int)(sizeof(kernels_) / sizeof(kernels_)[0]),   \
    }

static const linear_kernel q8_scalar = {{ITERA_ISA_SCALAR, "scalar"}, qg_prepare8_scalar, qg_gemm8_scalar};
static const linear_kernel q8_avx2 = {{ITERA_ISA_AVX2, "avx2"}, qg_prepare8_avx2, qg_gemm8_avx2};
static const linear_kernel q8_vnni = {{ITERA_ISA_AVX512VNNI, "avx512-vnni"}, qg_prepare8_vnni, qg_gemm8_vnni};
static const itera_variant *const q8_kernels[] = {&q8_scalar.v, &q8_avx2.v, &q8_vnni.v};
const linear_impl linear_q8_0 = QUANT_IMPL(quant_layout_q8_0, q8_kernels);

static const linear_kernel q4_scalar = {{ITERA_ISA_SCALAR, "scalar"}, qg_prepare4_scalar, qg_gemm4_scalar};
static const linear_kernel q4_avx2 = {{ITERA_ISA_AVX2, "avx2"}, qg_prepare4_avx2, qg_gemm4_avx2};
static const linear_kernel q4_vnni = {{ITERA_ISA_AVX512VNNI, "avx512-vnni"}, qg_prepare4_vnni, qg_gemm4_vnni};
static const itera_variant *const q4_kernels[] = {&q4_scalar.v, &q4_avx2.v, &q4_vnni.v};
const linear_impl linear_q4_0 = QUANT_IMPL(quant_layout_q4_0, q4_kernels);
