/*
 * scan.c: the table of scan kernels (from itera_kernels.def; each kernel lives in its own
 * file: scan_sequential.c, scan_parallel.c, scan_chunked.c), the scalar reference of their
 * inner loops (scan_simd.h), and the AUTO rule.
 *
 * Per batch row b (rows t = b·L + l of u and y), with Δ one scalar per token:
 *   h[l] = exp(Δ[l]·A) ⊙ h[l−1] + Δ[l]·(Bm·u[l]);   y[l] = Cm·h[l] + D ⊙ u[l].
 *
 * Zones: ZONE_SCAN_INPUT / _STATE / _OUTPUT / _SKIP per thread (ith). Nothing is
 * allocated while running: each kernel says how much scratch a shape needs.
 */
#include "scan.h"

#include <math.h>
#include <string.h>

#include "isa_select.h"
#include "scan_simd.h"

/* ---- scalar reference of the inner loops ---- */

static void seq_row_scalar(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                           float *h, float *y, int ldy, float *work, zone_acc *acc)
{
    const int E = p->E, N = p->N;
    float *bu = work;
    uint64_t t = 0;
    for (int l = 0; l < L; l++) {
        const float *ul = u + (size_t)l * ldu;
        float *yl = y + (size_t)l * ldy;
        const bool tt = acc && l % SEQ_SAMPLE == 0; /* a sampled token */
        if (tt) t = zone_ticks();
        for (int n = 0; n < N; n++) {
            float s = 0;
            for (int e = 0; e < E; e++) s += p->B[(size_t)n * E + e] * ul[e];
            bu[n] = s;
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_INPUT], t1 - t);
            t = t1;
        }
        const float d = delta[l];
        for (int n = 0; n < N; n++) h[n] = expf(d * p->A[n]) * h[n] + d * bu[n];
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_STATE], t1 - t);
            t = t1;
        }
        for (int e = 0; e < E; e++) {
            float s = 0;
            for (int n = 0; n < N; n++) s += p->C[(size_t)e * N + n] * h[n];
            yl[e] = s;
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_OUTPUT], t1 - t);
            t = t1;
        }
        for (int e = 0; e < E; e++) yl[e] += p->D[e] * ul[e];
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_SKIP], t1 - t);
            t = t1;
        }
    }
}

static void recur_scalar(const float *A, int N, const float *delta, int n, float *H, int ldh, float *h)
{
    for (int l = 0; l < n; l++) {
        float *row = H + (size_t)l * ldh;
        const float d = delta[l];
        for (int k = 0; k < N; k++) row[k] = h[k] = expf(d * A[k]) * h[k] + d * row[k];
    }
}

static void fixup_scalar(const float *A, int N, const float *S, int n, float *H, int ldh,
                         const float *hin)
{
    for (int j = 0; j < n; j++) {
        float *row = H + (size_t)j * ldh;
        for (int k = 0; k < N; k++) row[k] += expf(A[k] * S[j]) * hin[k];
    }
}

static void skip_scalar(const float *D, int E, const float *u, int ldu, int n, float *y, int ldy)
{
    for (int r = 0; r < n; r++)
        for (int e = 0; e < E; e++) y[(size_t)r * ldy + e] += D[e] * u[(size_t)r * ldu + e];
}

const scan_simd scan_simd_scalar = {
    .v = {ITERA_ISA_SCALAR, "scalar"},
    .seq_row = seq_row_scalar,
    .recur = recur_scalar,
    .fixup = fixup_scalar,
    .skip_add = skip_scalar,
};

const itera_variant *const scan_simd_variants[] = {&scan_simd_scalar.v, &scan_simd_avx2.v, &scan_simd_avx512.v};
const int scan_simd_variant_count = (int)(sizeof scan_simd_variants / sizeof scan_simd_variants[0]);

void scan_matmul(const isa_select *sel, const float *x, int ldx, int M, const linear *W, float *y, int ldy)
{
    const linear_args a = {.w = W->w, .n_out = W->n_out, .n_in = W->n_in, .bias = NULL, .x = x, .ldx = ldx,
                           .M = M, .act = NULL, .y = y, .ldy = ldy};
    sel->fmt[ITERA_QUANT_FP32]->gemm(&a, 0, M, 0, linear_panels(W->n_out));
}

/* ---- the table ---- */

const scan_kernel scan_kernels[ITERA_KERNEL_COUNT] = {
#define ITERA_KERNEL(ID, name_, impl_, chunk, rank, summary)                                     \
    [ITERA_KERNEL_##ID] = {.id = ITERA_KERNEL_##ID, .name = name_, .takes_chunk = (chunk) != 0, \
                           .impl = &scan_##impl_},
#include "itera_kernels.def"
#undef ITERA_KERNEL
};

int scan_chunk_len(itera_kernel k, int B, int L, int threads, int chunk)
{
    const scan_impl *im = scan_kernels[k].impl;
    return im->chunk_len ? im->chunk_len(B, L, threads, chunk) : 0;
}

/* ---- AUTO ----
 *
 * Measured on the 2-core Sapphire Rapids VM (AVX-512 matmul; `itera scan`, best of
 * repeated runs, ms per scan; the machine was shared, so 2-thread figures are the
 * undisturbed ones):
 *
 *   E/N     B  L     thr  sequential  parallel  chunked
 *   128/8   1  1     1    0.0002      0.0003    0.0003    one token: sequential
 *   128/8   4  1     1    0.0005      0.0004    0.0010
 *   128/8   1  16    1    0.0021      0.0017    0.0011
 *   128/8   1  128   1    0.0151      0.0110    0.0101
 *   128/8   4  128   1    0.0606      0.0320    0.0328
 *   128/8   8  128   1    0.1213      0.0638    0.0651
 *   128/8   2  128   2    0.0297      0.0096    0.0102
 *   256/64  1  1     1    0.0011      0.0012    0.0015
 *   256/64  4  1     1    0.0056      0.0028    0.0079
 *   256/64  4  128   1    0.5363      0.2117    0.2142
 *   256/64  4  128   2    0.5367      0.1079    0.1090    the report's kernel table
 *   256/64  1  2048  1    2.17        0.946     0.928
 *   256/64  4  2048  1    8.93        4.23      3.94
 *   256/64  1  8192  1    8.87        4.02      3.88
 *   256/64  4  8192  1    36.1        20.9      18.9      whole-sequence passes spill L2
 *   256/64  1  8192  2    8.86        2.25      1.94      chunked: parallel along time
 *
 * Rule: one token -> sequential (no product to block, no thread to wake); when the
 * parallel kernel's whole-sequence working set (u, y and the states: B·L·(2E+N) floats)
 * exceeds the 2 MiB L2 -> chunked; on several threads with fewer rows than threads and
 * rows of 512+ tokens -> chunked (the parallel kernel's recurrence would run on B
 * threads only); otherwise -> parallel. */
#define AUTO_L2_BYTES (2.0 * 1024 * 1024)

itera_kernel scan_auto(int B, int L, int E, int N, int threads)
{
    double T = (double)B * L;
    if (T <= 1) return ITERA_KERNEL_SEQUENTIAL;
    if (T * (2.0 * E + N) * sizeof(float) > AUTO_L2_BYTES) return ITERA_KERNEL_CHUNKED;
    if (threads > 1 && B < threads && L >= 512) return ITERA_KERNEL_CHUNKED;
    return ITERA_KERNEL_PARALLEL;
}
