/*
 * scan_simd.h: the inner loops of the scan kernels (engine/scan.c), one table per ISA.
 * Internal to libitera. scan.c drives the three kernels (threads, chunks, zones) and
 * calls these for the per-token work; the matrix products of the parallel and chunked
 * kernels go to the FP32 matmul (matmul.h) instead.
 *
 * Layouts: B·u uses p->Bl (panels of 16 state values, E inputs each) and C·h uses p->Cl
 * (panels of 16 channels, N inputs each), both in the matmul.h panel form. State rows H
 * are [n, N] with row stride ldh (floats).
 */
#ifndef ITERA_SCAN_SIMD_H
#define ITERA_SCAN_SIMD_H

#include <stdint.h>

#include "itera.h"
#include "scan.h"
#include "zone.h"

/* acc[] slots of the sequential kernel's per-phase accounting. */
enum { SEQ_T_INPUT = 0, SEQ_T_STATE, SEQ_T_OUTPUT, SEQ_T_SKIP, SEQ_T_COUNT };
/* The sequential kernel times its phases on tokens l with l % SEQ_SAMPLE == 0. */
#define SEQ_SAMPLE 8

typedef struct scan_simd {
    itera_variant v; /* isa, name */
    /* The sequential kernel on one batch row: for l < L, fused, token by token:
     *   bu = Bm·u[l]; h = exp(Δ[l]·A) ⊙ h + Δ[l]·bu; y[l] = Cm·h + D ⊙ u[l].
     * h [N] in/out; work: scan_seq_work_floats(N) floats, 64-byte aligned.
     * acc (NULL: untimed) gets one sample per phase (acc[SEQ_T_*]) for each token
     * l % SEQ_SAMPLE == 0. */
    void (*seq_row)(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                    float *h, float *y, int ldy, float *work, zone_acc *acc);
    /* Recurrence over n tokens: on entry H[l] holds Bm·u[l]; on return the states
     *   h = exp(Δ[l]·A) ⊙ h + Δ[l]·H[l],  H[l] = h.   h [N] in/out. */
    void (*recur)(const float *A, int N, const float *delta, int n, float *H, int ldh, float *h);
    /* Chunk fix-up: H[j] += exp(A·S[j]) ⊙ hin for j < n (S[j]: Δ summed over the chunk up
     * to and including token j, so exp(A·S[j]) is the decay of the carried-in state). */
    void (*fixup)(const float *A, int N, const float *S, int n, float *H, int ldh,
                  const float *hin);
    /* Skip connection: y[r] += D ⊙ u[r] for r < n rows of E channels. */
    void (*skip_add)(const float *D, int E, const float *u, int ldu, int n, float *y, int ldy);
} scan_simd;

/* Work floats of seq_row for a state of N (a padded copy of h and of B·u). */
static inline int scan_seq_work_floats(int N) { return 2 * ((N + 15) / 16) * 16; }

extern const scan_simd scan_simd_scalar;
extern const scan_simd scan_simd_avx2;   /* call only when itera_isa_has(ITERA_ISA_AVX2) */
extern const scan_simd scan_simd_avx512; /* call only when itera_isa_has(ITERA_ISA_AVX512) */
/* The variants, scalar first (rows of the ISA selection: isa_select.h). */
extern const itera_variant *const scan_simd_variants[];
extern const int scan_simd_variant_count;

#endif
