/*
 * quant.c: the int8 (Q8_0) and int4 (Q4_0) weight formats (quant.h): quantizing rows,
 * half-precision conversion, file form <-> memory form (qgemm.h panels), and the two
 * linear_ops entries that run the integer products of qgemm.h across the pool.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "isa_select.h"
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

const char *quant_param_dtype(itera_quant q) { return q == ITERA_QUANT_FP32 ? "F32" : "F16"; }

/* ---- Q8_0 ---- */

/* q = clamp(round(w / d), −127, 127) for the half-precision d; returns Σ (w − d·q)². */
static float q8_try(const float *w, uint16_t dh, int8_t *q)
{
    const float d = quant_f16_to_f32(dh), id = d != 0.0f ? 1.0f / d : 0.0f;
    float err = 0.0f;
    for (int k = 0; k < QK8_0; k++) {
        float v = roundf(w[k] * id);
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        q[k] = (int8_t)v;
        const float e = w[k] - d * v;
        err += e * e;
    }
    return err;
}

/* Symmetric: d = max|w| / t for t = Q8_T0..127 (t = 127 is the plain max/127), each with a
 * least-squares refit d = Σ w·q / Σ q²; the half-precision d with the smallest squared
 * error wins (ties: the larger t first, i.e. max/127). */
#define Q8_T0 96

static void q8_block(const float *w, block_q8_0 *out)
{
    float amax = 0.0f;
    for (int k = 0; k < QK8_0; k++) amax = fmaxf(amax, fabsf(w[k]));
    int8_t q[QK8_0];
    uint16_t best_d = 0;
    float best = INFINITY;
    if (amax > 0.0f)
        for (int t = 127; t >= Q8_T0; t--) {
            uint16_t dh = quant_f32_to_f16(amax / (float)t);
            float err = q8_try(w, dh, q);
            if (err < best) best = err, best_d = dh;
            float sqw = 0.0f, sqq = 0.0f;
            for (int k = 0; k < QK8_0; k++) {
                sqw += w[k] * (float)q[k];
                sqq += (float)q[k] * (float)q[k];
            }
            if (sqq <= 0.0f) continue;
            dh = quant_f32_to_f16(sqw / sqq);
            err = q8_try(w, dh, q);
            if (err < best) best = err, best_d = dh;
        }
    out->d = best_d;
    q8_try(w, best_d, out->qs);
}

void quant_row_q8_0(const float *w, block_q8_0 *out, int n_in)
{
    for (int b = 0; b < n_in / QK8_0; b++) q8_block(w + b * QK8_0, out + b);
}

void dequant_row_q8_0(const block_q8_0 *b, float *out, int n_in)
{
    for (int i = 0; i < n_in / QK8_0; i++) {
        const float d = quant_f16_to_f32(b[i].d);
        for (int k = 0; k < QK8_0; k++) out[i * QK8_0 + k] = d * (float)b[i].qs[k];
    }
}

/* ---- Q4_0 ---- */

/* q = clamp(round(w / d), −8, 7) for the half-precision d; returns Σ (w − d·q)². */
static float q4_try(const float *w, uint16_t dh, int8_t *q)
{
    const float d = quant_f16_to_f32(dh), id = d != 0.0f ? 1.0f / d : 0.0f;
    float err = 0.0f;
    for (int k = 0; k < QK4_0; k++) {
        float v = roundf(w[k] * id);
        v = v > 7.0f ? 7.0f : v < -8.0f ? -8.0f : v;
        q[k] = (int8_t)v;
        const float e = w[k] - d * v;
        err += e * e;
    }
    return err;
}

/* Candidate scales ±max|w| / t for t in [Q4_T0, Q4_T1] (both signs: the extreme value may
 * land on −8 or on +7), each followed by a least-squares refit d = Σ w·q / Σ q²; the half-
 * precision d with the smallest squared error wins. max/8 (ggml) is one of the candidates. */
#define Q4_T0 4.0f
#define Q4_T1 9.0f
#define Q4_STEPS 40

static void q4_block(const float *w, block_q4_0 *out)
{
    float amax = 0.0f;
    for (int k = 0; k < QK4_0; k++) amax = fmaxf(amax, fabsf(w[k]));
    int8_t q[QK4_0], best_q[QK4_0];
    uint16_t best_d = 0;
    float best = INFINITY;
    if (amax > 0.0f)
        for (int s = 0; s <= Q4_STEPS; s++)
            for (int sign = -1; sign <= 1; sign += 2) {
                const float t = Q4_T0 + (Q4_T1 - Q4_T0) * (float)s / Q4_STEPS;
                uint16_t dh = quant_f32_to_f16((float)sign * amax / t);
                float err = q4_try(w, dh, q);
                if (err < best) {
                    best = err, best_d = dh;
                    memcpy(best_q, q, sizeof q);
                }
                float sqw = 0.0f, sqq = 0.0f;
                for (int k = 0; k < QK4_0; k++) {
                    sqw += w[k] * (float)q[k];
                    sqq += (float)q[k] * (float)q[k];
                }
                if (sqq <= 0.0f) continue;
                dh = quant_f32_to_f16(sqw / sqq);
                err = q4_try(w, dh, q);
                if (err < best) {
                    best = err, best_d = dh;
                    memcpy(best_q, q, sizeof q);
                }
            }
    if (!(best < INFINITY)) memset(best_q, 0, sizeof best_q);
    out->d = best_d;
    for (int j = 0; j < QK4_0 / 2; j++)
        out->qs[j] = (uint8_t)((best_q[j] + 8) | ((best_q[j + QK4_0 / 2] + 8) << 4));
}

void quant_row_q4_0(const float *w, block_q4_0 *out, int n_in)
{
    for (int b = 0; b < n_in / QK4_0; b++) q4_block(w + b * QK4_0, out + b);
}

void dequant_row_q4_0(const block_q4_0 *b, float *out, int n_in)
{
    for (int i = 0; i < n_in / QK4_0; i++) {
        const float d = quant_f16_to_f32(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            out[i * QK4_0 + j] = d * (float)((b[i].qs[j] & 15) - 8);
            out[i * QK4_0 + j + QK4_0 / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

/* ---- memory form (qgemm.h panels) ---- */

static bool fits32(int n_out, int n_in) { return n_out > 0 && n_in > 0 && n_in % QUANT_BLOCK == 0; }

static size_t q8_file_bytes(int n_out, int n_in) { return (size_t)n_out * (size_t)(n_in / QK8_0) * sizeof(block_q8_0); }
static size_t q4_file_bytes(int n_out, int n_in) { return (size_t)n_out * (size_t)(n_in / QK4_0) * sizeof(block_q4_0); }
static size_t q8_mem_bytes(int n_out, int n_in) { return (size_t)qg_panels(n_out) * (size_t)(n_in / QG_K) * sizeof(qg_blk8); }
static size_t q4_mem_bytes(int n_out, int n_in) { return (size_t)qg_panels(n_out) * (size_t)(n_in / QG_K) * sizeof(qg_blk4); }

static qg_blk8 *q8_at(void *mem, int n_in, int row, int b)
{
    return (qg_blk8 *)mem + (size_t)(row / QG_NR) * (size_t)(n_in / QG_K) + b;
}
static qg_blk4 *q4_at(void *mem, int n_in, int row, int b)
{
    return (qg_blk4 *)mem + (size_t)(row / QG_NR) * (size_t)(n_in / QG_K) + b;
}

/* One file block into the memory form; false if its scale is not finite. */
static bool q8_place(void *mem, int n_in, int row, int b, const block_q8_0 *src)
{
    qg_blk8 *blk = q8_at(mem, n_in, row, b);
    const int r = row % QG_NR;
    const float d = quant_f16_to_f32(src->d);
    if (!isfinite(d)) return false;
    blk->d[r] = d;
    int32_t sum = 0;
    for (int k = 0; k < QK8_0; k++) {
        blk->qs[k / 4][r][k % 4] = src->qs[k];
        sum += src->qs[k];
    }
    blk->nsum[r] = -128 * sum;
    return true;
}

static void q8_take(const void *mem, int n_in, int row, int b, block_q8_0 *dst)
{
    const qg_blk8 *blk = q8_at((void *)(uintptr_t)mem, n_in, row, b);
    const int r = row % QG_NR;
    dst->d = quant_f32_to_f16(blk->d[r]); /* exact: d came from a half */
    for (int k = 0; k < QK8_0; k++) dst->qs[k] = blk->qs[k / 4][r][k % 4];
}

/* The memory byte (g, r, j) is the file byte 4g + j: low nibble element 4g + j, high
 * nibble element 16 + 4g + j (qgemm.h). */
static bool q4_place(void *mem, int n_in, int row, int b, const block_q4_0 *src)
{
    qg_blk4 *blk = q4_at(mem, n_in, row, b);
    const int r = row % QG_NR;
    const float d = quant_f16_to_f32(src->d);
    if (!isfinite(d)) return false;
    blk->d[r] = d;
    for (int k = 0; k < QK4_0 / 2; k++) blk->qs[k / 4][r][k % 4] = src->qs[k];
    return true;
}

static void q4_take(const void *mem, int n_in, int row, int b, block_q4_0 *dst)
{
    const qg_blk4 *blk = q4_at((void *)(uintptr_t)mem, n_in, row, b);
    const int r = row % QG_NR;
    dst->d = quant_f32_to_f16(blk->d[r]);
    for (int k = 0; k < QK4_0 / 2; k++) dst->qs[k] = blk->qs[k / 4][r][k % 4];
}

static void q8_pack(void *mem, const float *W, int n_out, int n_in)
{
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK8_0; b++) {
            block_q8_0 blk;
            q8_block(W + (size_t)row * n_in + b * QK8_0, &blk);
            q8_place(mem, n_in, row, b, &blk);
        }
}

static void q4_pack(void *mem, const float *W, int n_out, int n_in)
{
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK4_0; b++) {
            block_q4_0 blk;
            q4_block(W + (size_t)row * n_in + b * QK4_0, &blk);
            q4_place(mem, n_in, row, b, &blk);
        }
}

/* The file buffer need not be aligned: blocks are copied out. */
static bool q8_load(void *mem, const void *file, int n_out, int n_in)
{
    const uint8_t *f = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK8_0; b++, f += sizeof(block_q8_0)) {
            block_q8_0 blk;
            memcpy(&blk, f, sizeof blk);
            if (!q8_place(mem, n_in, row, b, &blk)) return false;
        }
    return true;
}

static bool q4_load(void *mem, const void *file, int n_out, int n_in)
{
    const uint8_t *f = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK4_0; b++, f += sizeof(block_q4_0)) {
            block_q4_0 blk;
            memcpy(&blk, f, sizeof blk);
            if (!q4_place(mem, n_in, row, b, &blk)) return false;
        }
    return true;
}

static void q8_save(void *file, const void *mem, int n_out, int n_in)
{
    uint8_t *f = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK8_0; b++, f += sizeof(block_q8_0)) {
            block_q8_0 blk;
            q8_take(mem, n_in, row, b, &blk);
            memcpy(f, &blk, sizeof blk);
        }
}

static void q4_save(void *file, const void *mem, int n_out, int n_in)
{
    uint8_t *f = file;
    for (int row = 0; row < n_out; row++)
        for (int b = 0; b < n_in / QK4_0; b++, f += sizeof(block_q4_0)) {
            block_q4_0 blk;
            q4_take(mem, n_in, row, b, &blk);
            memcpy(f, &blk, sizeof blk);
        }
}

static void q8_unpack_row(const void *mem, int n_out, int n_in, int row, float *out)
{
    (void)n_out;
    for (int b = 0; b < n_in / QK8_0; b++) {
        block_q8_0 blk;
        q8_take(mem, n_in, row, b, &blk);
        dequant_row_q8_0(&blk, out + b * QK8_0, QK8_0);
    }
}

static void q4_unpack_row(const void *mem, int n_out, int n_in, int row, float *out)
{
    (void)n_out;
    for (int b = 0; b < n_in / QK4_0; b++) {
        block_q4_0 blk;
        q4_take(mem, n_in, row, b, &blk);
        dequant_row_q4_0(&blk, out + b * QK4_0, QK4_0);
    }
}

/* ---- running: activation quantization, then the integer product ---- */

static size_t q_scratch_bytes(int M, int n_in) { return qg_act_bytes(M, n_in); }

static void q_prepare(int ith, int nth, const float *x, int ldx, int M, int n_in, void *scratch, bool int8)
{
    qg_act a = qg_act_view(scratch, M, n_in);
    if (int8) a.xs = NULL; /* the int8 correction comes from the weights */
    int m0, m1;
    pool_slice(M, ith, nth, &m0, &m1);
    if (m1 > m0) isa_selected()->qg->prepare(x, ldx, m0, m1, n_in, int8, &a);
}

static void q8_prepare(int ith, int nth, const float *x, int ldx, int M, int n_in, void *scratch)
{
    q_prepare(ith, nth, x, ldx, M, n_in, scratch, true);
}

static void q4_prepare(int ith, int nth, const float *x, int ldx, int M, int n_in, void *scratch)
{
    q_prepare(ith, nth, x, ldx, M, n_in, scratch, false);
}

/* Rows per block when splitting rows: the VNNI tiles' row count. */
#define Q_ROW_BLOCK 4

/* Work split as linear.c's FP32: whole panels per thread when there are enough of them
 * (each thread streams only its share of W), else blocks of rows. */
static void q_compute(int ith, int nth, const linear *L, int M, const void *scratch, float *y,
                      int ldy, bool int8)
{
    const qg_impl *impl = isa_selected()->qg;
    qg_gemm_fn gemm = int8 ? impl->gemm8 : impl->gemm4;
    qg_args a = {.w = L->w, .n_out = L->n_out, .K = L->n_in, .bias = L->bias,
                 .x = qg_act_view((void *)(uintptr_t)scratch, M, L->n_in), .y = y, .ldy = ldy};
    const int P = qg_panels(L->n_out);
    int i0, i1;
    if (nth == 1) {
        gemm(&a, 0, M, 0, P);
    } else if (P >= 4 * nth || M < 2 * Q_ROW_BLOCK * nth) {
        pool_slice(P, ith, nth, &i0, &i1);
        if (i1 > i0) gemm(&a, 0, M, i0, i1);
    } else {
        const int blocks = (M + Q_ROW_BLOCK - 1) / Q_ROW_BLOCK;
        pool_slice(blocks, ith, nth, &i0, &i1);
        const int m0 = i0 * Q_ROW_BLOCK, m1 = i1 * Q_ROW_BLOCK < M ? i1 * Q_ROW_BLOCK : M;
        if (m1 > m0) gemm(&a, m0, m1, 0, P);
    }
}

static void q8_compute(int ith, int nth, const linear *L, const float *x, int ldx, int M,
                       const void *scratch, float *y, int ldy)
{
    (void)x, (void)ldx;
    q_compute(ith, nth, L, M, scratch, y, ldy, true);
}

static void q4_compute(int ith, int nth, const linear *L, const float *x, int ldx, int M,
                       const void *scratch, float *y, int ldy)
{
    (void)x, (void)ldx;
    q_compute(ith, nth, L, M, scratch, y, ldy, false);
}

static const char *q_isa_name(void) { return isa_selected()->qg->v.name; }

const linear_ops linear_int8 = {
    .name = "int8",
    .dtype = "Q8_0",
    .bits_per_weight = 8.0 * sizeof(block_q8_0) / QK8_0, /* 8.5 */
    .fits = fits32,
    .file_bytes = q8_file_bytes,
    .mem_bytes = q8_mem_bytes,
    .pack = q8_pack,
    .load = q8_load,
    .save = q8_save,
    .unpack_row = q8_unpack_row,
    .scratch_bytes = q_scratch_bytes,
    .prepare = q8_prepare,
    .compute = q8_compute,
    .isa_name = q_isa_name,
};

const linear_ops linear_int4 = {
    .name = "int4",
    .dtype = "Q4_0",
    .bits_per_weight = 8.0 * sizeof(block_q4_0) / QK4_0, /* 4.5 */
    .fits = fits32,
    .file_bytes = q4_file_bytes,
    .mem_bytes = q4_mem_bytes,
    .pack = q4_pack,
    .load = q4_load,
    .save = q4_save,
    .unpack_row = q4_unpack_row,
    .scratch_bytes = q_scratch_bytes,
    .prepare = q4_prepare,
    .compute = q4_compute,
    .isa_name = q_isa_name,
};
