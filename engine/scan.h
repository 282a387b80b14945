/*
 * scan.h: the selective scan of one SSM layer, three interchangeable kernels.
 *
 * Per batch row b, for tokens l = 0..L-1 (state h has N values shared by all E channels):
 *   h[l] = exp(Δ[l]·A) ⊙ h[l−1] + Δ[l] · (Bm · u[l])      Bm is [N, E]
 *   y[l] = Cm · h[l] + D ⊙ u[l]                            Cm is [E, N]
 * with h[−1] the carried-in state (zeros for a prefill from position 0).
 *
 * sequential: token by token, fused; the reference. parallel: B·u and C·h for all tokens
 * as blocked matrix products across threads, only the N-wide recurrence serial.
 * chunked: chunks of T tokens scanned from zero in parallel, serial carry across chunk
 * boundaries, then a fix-up adding each chunk's decayed carried-in state.
 */
#ifndef ITERA_SCAN_H
#define ITERA_SCAN_H

#include <stddef.h>
#include "itera.h"
#include "linear.h"
#include "pool.h"
#include "zone.h"

/* One layer's scan weights (FP32; not quantized: they are the scan's own parameters). */
typedef struct scan_params {
    int E, N;
    const float *A;   /* [N] = −exp(A_log) */
    const float *B;   /* [N, E] row-major */
    const float *C;   /* [E, N] row-major */
    const float *D;   /* [E] */
    const linear *Bl; /* Bm packed as an FP32 linear E -> N */
    const linear *Cl; /* Cm packed as an FP32 linear N -> E */
} scan_params;

typedef struct scan_io {
    int B, L;            /* batch rows, tokens per row */
    const float *u;      /* [B*L, E], row (b*L + l) at u + (b*L + l)*ldu */
    int ldu;
    const float *delta;  /* [B*L] step per token */
    float *h;            /* [B, N]: in carried state, out state after token L-1 */
    float *y;            /* [B*L, E], row stride ldy */
    int ldy;
} scan_io;

struct isa_select; /* isa_select.h: the variants the inner loops and matrix products run */

typedef struct scan_kernel {
    itera_kernel id;
    const char *name;
    /* bytes of scratch run needs for this shape */
    size_t (*scratch_bytes)(int B, int L, int E, int N, int nthreads, int chunk);
    /* prof may be NULL; zones ZONE_SCAN_* are recorded per thread; sel: the ISA variants
     * to run (isa_selected(), or any isa_select_for() in tests) */
    void (*run)(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                int chunk, itera_prof *prof, const struct isa_select *sel);
} scan_kernel;

extern const scan_kernel scan_kernels[ITERA_KERNEL_COUNT];

/* The chunk length the chunked kernel runs with for a shape on `threads` workers (chunk:
 * the requested length, 0 for the default). */
int scan_chunk_len(int B, int L, int threads, int chunk);

/* The kernel AUTO picks for a shape on `threads` workers (the fastest, by measurement). */
itera_kernel scan_auto(int B, int L, int E, int N, int threads);

#endif
