/*
 * scan.h: the selective scan of one SSM layer: interchangeable kernels, one row of
 * itera_kernels.def each, with their implementations in their own files.
 *
 * Per batch row b, for tokens l = 0..L-1 (state h has N values shared by all E channels):
 *   h[l] = exp(Δ[l]·A) ⊙ h[l−1] + Δ[l] · (Bm · u[l])      Bm is [N, E]
 *   y[l] = Cm · h[l] + D ⊙ u[l]                            Cm is [E, N]
 * with h[−1] the carried-in state (zeros for a prefill from position 0).
 *
 * sequential (the reference): token by token, fused. parallel: B·u and C·h for all tokens
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
#include "ops.h"
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

/* One kernel's implementation: scan_<impl> for a row of itera_kernels.def. */
typedef struct scan_impl {
    /* bytes of scratch run needs for any shape up to (B, L) on nthreads workers */
    size_t (*scratch_bytes)(int B, int L, int E, int N, int nthreads, int chunk);
    /* prof may be NULL; zones ZONE_SCAN_* are recorded per thread; sel: the ISA variants
     * to run (isa_selected(), or any isa_select_for() in tests) */
    void (*run)(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                int chunk, itera_prof *prof, const struct isa_select *sel);
    /* the chunk length run for a shape on `threads` workers (chunk: the requested one, 0 for
     * the default); NULL for a kernel that takes no chunk length */
    int (*chunk_len)(int B, int L, int threads, int chunk);
} scan_impl;

#define ITERA_KERNEL(ID, name, impl, ...) extern const scan_impl scan_##impl;
#include "itera_kernels.def"
#undef ITERA_KERNEL

/* A row of the table, indexed by itera_kernel. */
typedef struct scan_kernel {
    itera_kernel id;
    const char *name;
    bool takes_chunk;
    const scan_impl *impl;
} scan_kernel;

extern const scan_kernel scan_kernels[ITERA_KERNEL_COUNT];

/* The chunk length kernel k runs with for a shape on `threads` workers (chunk: the
 * requested length, 0 for the default); 0 for a kernel that takes none. */
int scan_chunk_len(itera_kernel k, int B, int L, int threads, int chunk);

/* The kernel AUTO picks for a shape on `threads` workers (the fastest, by measurement). */
itera_kernel scan_auto(int B, int L, int E, int N, int threads);

/* ---- for the kernels' own files ---- */

static inline size_t scan_align64(size_t b) { return (b + 63) & ~(size_t)63; }

/* Per-thread zone: begin/end around stmt on thread ith. */
#define SCAN_TZONE(prof, ith, z, stmt)                 \
    do {                                               \
        uint64_t tz0_ = zone_begin(prof);              \
        stmt;                                          \
        zone_end((prof), (ith), (z), tz0_);            \
    } while (0)

/* Below this many multiply-adds (B·L·E·N) a pass runs on the calling thread alone: a
 * parallel region costs a few µs of wake-up and hand-off (measured: at E/N 128/8 two
 * threads first win at about 64 tokens). */
#define SCAN_SERIAL_MACS (1 << 16)

/* pool, or NULL (the caller alone) for a scan too small to be worth a parallel region. */
static inline itera_pool *scan_pool_for(itera_pool *pool, const scan_io *io, const scan_params *p)
{
    return (double)io->B * io->L * p->E * p->N < SCAN_SERIAL_MACS ? NULL : pool;
}

/* y [M, n_out] = x [M, n_in] · Wᵀ (no bias) with the FP32 kernel of sel, on the calling
 * thread: the B·u and C·h products (W is p->Bl or p->Cl). */
void scan_matmul(const struct isa_select *sel, const float *x, int ldx, int M, const linear *W, float *y,
                 int ldy);

/* Rows per block of an output pass: y of a block stays in L1 for the skip add. */
#define SCAN_OUT_ROWS 24

/* The chunked kernel's machinery with its chunking rule as a parameter, so a variant with
 * other chunk lengths is a few lines (scan_chunked.c): chunk lengths default to T_default,
 * shortened down to T_min to give at least 2 chunks per thread on short rows. */
typedef struct scan_chunking {
    int T_default, T_min;
} scan_chunking;
int scan_chunked_len(const scan_chunking *c, int B, int L, int threads, int chunk);
size_t scan_chunked_scratch(const scan_chunking *c, int B, int L, int E, int N, int nthreads, int chunk);
void scan_chunked_run(const scan_chunking *c, itera_pool *pool, const scan_params *p, const scan_io *io,
                      void *scratch, int chunk, itera_prof *prof, const struct isa_select *sel);

#endif
