/*
 * scan.c: the three selective-scan kernels (scan.h), their inner loops' scalar reference
 * and dispatch, the AUTO rule, and the standalone scan for benchmarks (itera.h).
 *
 * Per batch row b (rows t = b·L + l of u and y), with Δ one scalar per token:
 *   h[l] = exp(Δ[l]·A) ⊙ h[l−1] + Δ[l]·(Bm·u[l]);   y[l] = Cm·h[l] + D ⊙ u[l].
 *
 * sequential  token by token, everything fused (scan_simd.seq_row), on the calling
 *             thread only: the reference the others are tested against.
 * parallel    three passes across the pool: (1) Bu = u·Bmᵀ for all B·L tokens (FP32
 *             matmul, rows split across threads), (2) the recurrence over Bu in place,
 *             serial in l, batch rows split across threads, (3) y = H·Cmᵀ + D⊙u for all
 *             tokens (matmul, rows split; the skip added per block of rows while hot).
 * chunked     each row cut into chunks of T tokens. (1) per chunk, in parallel: Bu by
 *             the matmul, a local scan from a zero state, and the running sum S of Δ;
 *             (2) serial carry across chunk boundaries (N values per chunk):
 *             hin[c+1] = exp(A·S_last(c)) ⊙ hin[c] + h_local_last(c); (3) per chunk, in
 *             parallel: the fix-up h[j] += exp(A·S[j]) ⊙ hin[c] of the chunk's states,
 *             then its outputs from the fixed states (C·h by the matmul, + D⊙u).
 *             Chunks stay in cache, and the work is parallel along time (batch 1).
 *
 * Zones: ZONE_SCAN_INPUT / _STATE / _OUTPUT / _SKIP per thread (ith). The sequential
 * kernel's phases alternate every token (tens of ns each at the model's shape, where
 * four timestamps a token would add ~5% to a forward), so they are timed on every
 * SEQ_SAMPLE-th token of each row (token 0 always: every decode step) into local
 * accumulators, and the totals scaled to all tokens: calls = tokens, total = the
 * sampled sum × tokens / sampled tokens, min/max over the sampled tokens. No trace
 * events for them.
 *
 * Scratch (scratch_bytes; nothing is allocated while running), 64-byte aligned parts:
 *   sequential: 2 padded state vectors;
 *   parallel:   H [B·L, N];
 *   chunked:    H [B·L, N], S [B·L], hin [chunks, N].
 */
#include "scan.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "isa_select.h"
#include "matmul.h"
#include "scan_simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_pause() _mm_pause()
#else
#define cpu_pause() ((void)0)
#endif

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

const itera_variant *const scan_simd_variants[] = {&scan_simd_scalar.v, &scan_simd_avx512.v};
const int scan_simd_variant_count = (int)(sizeof scan_simd_variants / sizeof scan_simd_variants[0]);

/* ---- helpers ---- */

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

/* Per-thread zone: begin/end around stmt on thread ith. */
#define TZONE(prof, ith, z, stmt)                      \
    do {                                               \
        uint64_t tz0_ = zone_begin(prof);              \
        stmt;                                          \
        zone_end((prof), (ith), (z), tz0_);            \
    } while (0)

/* Below this many multiply-adds (B·L·E·N) a pass runs on the calling thread alone: a
 * parallel region costs a few µs of wake-up and hand-off (measured: at E/N 128/8 two
 * threads first win at about 64 tokens). */
#define SCAN_SERIAL_MACS (1 << 16)

static itera_pool *pool_for(itera_pool *pool, const scan_io *io, const scan_params *p)
{
    return (double)io->B * io->L * p->E * p->N < SCAN_SERIAL_MACS ? NULL : pool;
}

/* ---- sequential ---- */

static size_t seq_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)B, (void)L, (void)E, (void)nthreads, (void)chunk;
    return align64((size_t)scan_seq_work_floats(N) * sizeof(float));
}

static void seq_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                    int chunk, itera_prof *prof, const isa_select *sel)
{
    (void)pool, (void)chunk;
    const scan_simd *s = sel->scan;
    zone_acc acc[SEQ_T_COUNT];
    const bool timed = zone_on(prof);
    for (int i = 0; i < SEQ_T_COUNT; i++) acc[i] = (zone_acc){0, 0, UINT64_MAX, 0};
    for (int b = 0; b < io->B; b++) {
        size_t t0 = (size_t)b * io->L;
        s->seq_row(p, io->u + t0 * io->ldu, io->ldu, io->delta + t0, io->L, io->h + (size_t)b * p->N,
                   io->y + t0 * io->ldy, io->ldy, scratch, timed ? acc : NULL);
    }
    if (timed) { /* sampled tokens -> estimates for all B·L tokens */
        double scale = (double)io->B * io->L / (double)(acc[0].count ? acc[0].count : 1);
        for (int i = 0; i < SEQ_T_COUNT; i++) {
            acc[i].total = (uint64_t)((double)acc[i].total * scale + 0.5);
            acc[i].count = (uint64_t)io->B * io->L;
        }
        static const itera_zone zz[SEQ_T_COUNT] = {ZONE_SCAN_INPUT, ZONE_SCAN_STATE, ZONE_SCAN_OUTPUT,
                                                   ZONE_SCAN_SKIP};
        for (int i = 0; i < SEQ_T_COUNT; i++) zone_merge(prof, 0, zz[i], &acc[i]);
    }
}

/* ---- parallel ---- */

/* Rows per block of the output pass: y of a block stays in L1 for the skip add. */
#define PAR_OUT_ROWS 24

typedef struct par_task {
    const scan_params *p;
    const scan_io *io;
    float *H;
    itera_prof *prof;
    const isa_select *sel;
} par_task;

static void par_input(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    int r0, r1;
    pool_slice(a->io->B * a->io->L, ith, nth, &r0, &r1);
    if (r1 <= r0) return;
    TZONE(a->prof, ith, ZONE_SCAN_INPUT,
          a->sel->mm->kernel(a->io->u + (size_t)r0 * a->io->ldu, a->io->ldu, r1 - r0, p->Bl->w, p->E, p->N, 0,
                  mm_panels(p->N), NULL, a->H + (size_t)r0 * p->N, p->N));
}

static void par_state(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    const scan_io *io = a->io;
    int b0, b1;
    pool_slice(io->B, ith, nth, &b0, &b1);
    if (b1 <= b0) return;
    uint64_t z0 = zone_begin(a->prof);
    for (int b = b0; b < b1; b++) {
        size_t t0 = (size_t)b * io->L;
        a->sel->scan->recur(p->A, p->N, io->delta + t0, io->L, a->H + t0 * p->N, p->N,
                                io->h + (size_t)b * p->N);
    }
    zone_end(a->prof, ith, ZONE_SCAN_STATE, z0);
}

static void par_output(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    const scan_io *io = a->io;
    int r0, r1;
    pool_slice(io->B * io->L, ith, nth, &r0, &r1);
    for (int r = r0; r < r1; r += PAR_OUT_ROWS) {
        int n = r1 - r < PAR_OUT_ROWS ? r1 - r : PAR_OUT_ROWS;
        float *y = io->y + (size_t)r * io->ldy;
        TZONE(a->prof, ith, ZONE_SCAN_OUTPUT,
              a->sel->mm->kernel(a->H + (size_t)r * p->N, p->N, n, p->Cl->w, p->N, p->E, 0, mm_panels(p->E),
                      NULL, y, io->ldy));
        TZONE(a->prof, ith, ZONE_SCAN_SKIP,
              a->sel->scan->skip_add(p->D, p->E, io->u + (size_t)r * io->ldu, io->ldu, n, y, io->ldy));
    }
}

static size_t par_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)E, (void)nthreads, (void)chunk;
    return align64((size_t)B * L * N * sizeof(float));
}

static void par_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                    int chunk, itera_prof *prof, const isa_select *sel)
{
    (void)chunk;
    par_task a = {.p = p, .io = io, .H = scratch, .prof = prof, .sel = sel};
    itera_pool *pl = pool_for(pool, io, p);
    pool_run(pl, par_input, &a);
    if (io->B > 1) pool_run(pl, par_state, &a);
    else par_state(0, 1, &a);
    pool_run(pl, par_output, &a);
}

/* ---- chunked ---- */

/* Default chunk length, by measurement (see scan_auto's table): long enough that the
 * matmul tiles fill, short enough that a chunk's u, H and y stay in L2. */
#define CHUNK_DEFAULT 256
/* Shortest chunk the default rule picks when it splits short rows for more threads. */
#define CHUNK_MIN 32

/* The chunk length that runs: chunk if given; else CHUNK_DEFAULT, shortened (down to
 * CHUNK_MIN) so that there are at least 2 chunks per thread when the rows are short. */
static int chunk_len(int B, int L, int nth, int chunk)
{
    if (chunk > 0) return chunk < L ? chunk : L;
    int T = CHUNK_DEFAULT;
    long want = 2L * nth; /* chunks wanted in all */
    long per_row = (want + B - 1) / B;
    if ((long)(L + T - 1) / T < per_row) {
        T = (int)((L + per_row - 1) / per_row);
        if (T < CHUNK_MIN) T = CHUNK_MIN;
    }
    return T < L ? T : L;
}

/* A spinning barrier for the threads of one parallel region (yields when it waits
 * long, so oversubscribed or busy machines still make progress). */
typedef struct spin_barrier {
    atomic_int count;
    atomic_int gen;
    int n;
} spin_barrier;

static void barrier_wait(spin_barrier *b)
{
    if (b->n == 1) return;
    int g = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->count, 1) == b->n - 1) {
        atomic_store(&b->count, 0);
        atomic_fetch_add(&b->gen, 1);
        return;
    }
    for (int i = 0; atomic_load(&b->gen) == g; i++) {
        if (i < 2000) cpu_pause();
        else sched_yield();
    }
}

/* Chunks are numbered row-major (c = b·per_row + k) and run in waves of nth: in wave w,
 * thread ith takes chunk w·nth + ith. Per wave: (A) each thread scans its chunk locally
 * (B·u by the matmul, the recurrence from zero, the running sum S of Δ) and keeps the
 * chunk's end state in last[c]; barrier; (B) every thread walks the wave's chunks in
 * order and carries the row's state across them (N values a chunk, the same arithmetic
 * on every thread, so no second barrier), keeping the carried-in state of its own chunk;
 * (C) each thread fixes its chunk's states with the decayed carried-in state and computes
 * the chunk's outputs while its u and H are still in cache. Thread 0 stores each row's
 * final state in io->h. */
typedef struct chunk_task {
    const scan_params *p;
    const scan_io *io;
    int T, per_row, nchunks;
    float *H, *S, *last, *priv; /* priv: per thread 2 padded state vectors (carry, hin) */
    float *h0;                  /* [B, N] the carried-in states (io->h is overwritten) */
    size_t priv_stride;         /* floats */
    spin_barrier bar;
    itera_prof *prof;
    const isa_select *sel;
} chunk_task;

static void chunk_bounds(const chunk_task *a, int c, int *b, int *l0, int *n)
{
    *b = c / a->per_row;
    *l0 = (c % a->per_row) * a->T;
    *n = a->io->L - *l0 < a->T ? a->io->L - *l0 : a->T;
}

static void chunk_fn(int ith, int nth, void *v)
{
    chunk_task *a = v;
    const scan_params *p = a->p;
    const scan_io *io = a->io;
    const scan_simd *sv = a->sel->scan;
    const mm_kernel_fn mm = a->sel->mm->kernel;
    const int N = p->N;
    float *carry = a->priv + (size_t)ith * a->priv_stride, *hin = carry + a->priv_stride / 2;
    for (int w0 = 0; w0 < a->nchunks; w0 += nth) {
        const int c = w0 + ith;
        int b = 0, l0 = 0, n = 0;
        size_t t0 = 0;
        if (c < a->nchunks) { /* (A) local scan */
            chunk_bounds(a, c, &b, &l0, &n);
            t0 = (size_t)b * io->L + l0;
            float *H = a->H + t0 * N, *S = a->S + t0, *h = a->last + (size_t)c * N;
            TZONE(a->prof, ith, ZONE_SCAN_INPUT,
                  mm(io->u + t0 * io->ldu, io->ldu, n, p->Bl->w, p->E, N, 0, mm_panels(N), NULL, H, N));
            uint64_t z0 = zone_begin(a->prof);
            memset(h, 0, (size_t)N * sizeof(float));
            sv->recur(p->A, N, io->delta + t0, n, H, N, h);
            float s = 0;
            for (int j = 0; j < n; j++) S[j] = s += io->delta[t0 + j];
            zone_end(a->prof, ith, ZONE_SCAN_STATE, z0);
        }
        barrier_wait(&a->bar);
        /* (B) carry across the wave's chunks */
        uint64_t z0 = zone_begin(a->prof);
        bool mine_zero = true;
        for (int cc = w0; cc < w0 + nth && cc < a->nchunks; cc++) {
            int bb, ll0, nn;
            chunk_bounds(a, cc, &bb, &ll0, &nn);
            if (ll0 == 0) memcpy(carry, a->h0 + (size_t)bb * N, (size_t)N * sizeof(float));
            if (cc == c) {
                memcpy(hin, carry, (size_t)N * sizeof(float));
                for (int i = 0; i < N; i++) mine_zero &= hin[i] == 0.0f;
            }
            const float *loc = a->last + (size_t)cc * N;
            const float Slast = a->S[(size_t)bb * io->L + ll0 + nn - 1];
            for (int i = 0; i < N; i++) carry[i] = expf(p->A[i] * Slast) * carry[i] + loc[i];
            if (ll0 + nn == io->L && ith == 0) /* row done: its final state */
                memcpy(io->h + (size_t)bb * N, carry, (size_t)N * sizeof(float));
        }
        zone_end(a->prof, ith, ZONE_SCAN_STATE, z0);
        if (c >= a->nchunks) continue;
        float *H = a->H + t0 * N;
        if (!mine_zero) TZONE(a->prof, ith, ZONE_SCAN_STATE, sv->fixup(p->A, N, a->S + t0, n, H, N, hin));
        for (int j = 0; j < n; j += PAR_OUT_ROWS) { /* (C) outputs */
            int m = n - j < PAR_OUT_ROWS ? n - j : PAR_OUT_ROWS;
            float *y = io->y + (t0 + j) * io->ldy;
            TZONE(a->prof, ith, ZONE_SCAN_OUTPUT,
                  mm(H + (size_t)j * N, N, m, p->Cl->w, N, p->E, 0, mm_panels(p->E), NULL, y, io->ldy));
            TZONE(a->prof, ith, ZONE_SCAN_SKIP,
                  sv->skip_add(p->D, p->E, io->u + (t0 + j) * io->ldu, io->ldu, m, y, io->ldy));
        }
    }
}

/* Scratch: H [B·L, N], S [B·L], last [chunks, N], h0 [B, N], then per thread 2 padded
 * vectors. */
static size_t chunk_scratch_parts(int B, int L, int N, int T, int nth, size_t *off_S, size_t *off_last,
                                  size_t *off_h0, size_t *off_priv, size_t *priv_stride)
{
    long per_row = (L + T - 1) / T;
    size_t pad = (size_t)((N + 15) / 16) * 16;
    size_t h = align64((size_t)B * L * N * sizeof(float));
    size_t s = align64((size_t)B * L * sizeof(float));
    size_t c = align64((size_t)B * per_row * N * sizeof(float));
    size_t z = align64((size_t)B * N * sizeof(float));
    size_t q = (size_t)nth * 2 * pad * sizeof(float);
    if (off_S) *off_S = h;
    if (off_last) *off_last = h + s;
    if (off_h0) *off_h0 = h + s + c;
    if (off_priv) *off_priv = h + s + c + z;
    if (priv_stride) *priv_stride = 2 * pad;
    return h + s + c + z + q;
}

static size_t chunk_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)E;
    /* Any (B' <= B, L' <= L) may run: size the chunk table for the shortest chunk. */
    int Tmin = chunk > 0 ? chunk : CHUNK_MIN;
    if (Tmin > L) Tmin = L;
    return chunk_scratch_parts(B, L, N, Tmin, nthreads, NULL, NULL, NULL, NULL, NULL);
}

static void chunk_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                      int chunk, itera_prof *prof, const isa_select *sel)
{
    itera_pool *pl = pool_for(pool, io, p);
    int nth = pool_size(pl);
    int T = chunk_len(io->B, io->L, nth, chunk);
    size_t oS, oL, oZ, oP, ps;
    chunk_scratch_parts(io->B, io->L, p->N, T, nth, &oS, &oL, &oZ, &oP, &ps);
    chunk_task a = {.p = p, .io = io, .T = T, .per_row = (io->L + T - 1) / T, .H = scratch,
                    .S = (float *)((char *)scratch + oS), .last = (float *)((char *)scratch + oL),
                    .priv = (float *)((char *)scratch + oP), .priv_stride = ps,
                    .h0 = (float *)((char *)scratch + oZ), .prof = prof, .sel = sel};
    a.nchunks = io->B * a.per_row;
    memcpy(a.h0, io->h, (size_t)io->B * p->N * sizeof(float));
    atomic_init(&a.bar.count, 0);
    atomic_init(&a.bar.gen, 0);
    a.bar.n = nth;
    pool_run(pl, chunk_fn, &a);
}

const scan_kernel scan_kernels[ITERA_KERNEL_COUNT] = {
    [ITERA_KERNEL_SEQUENTIAL] = {ITERA_KERNEL_SEQUENTIAL, "sequential", seq_scratch, seq_run},
    [ITERA_KERNEL_PARALLEL] = {ITERA_KERNEL_PARALLEL, "parallel", par_scratch, par_run},
    [ITERA_KERNEL_CHUNKED] = {ITERA_KERNEL_CHUNKED, "chunked", chunk_scratch, chunk_run},
};

int scan_chunk_len(int B, int L, int threads, int chunk) { return chunk_len(B, L, threads, chunk); }

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
