/*
 * scan_chunked.c: the chunked scan kernel (itera_kernels.def row CHUNKED): each row cut
 * into chunks of T tokens. (1) per chunk, in parallel: Bu by the matmul, a local scan
 * from a zero state, and the running sum S of Δ; (2) serial carry across chunk
 * boundaries (N values per chunk): hin[c+1] = exp(A·S_last(c)) ⊙ hin[c] + h_local_last(c);
 * (3) per chunk, in parallel: the fix-up h[j] += exp(A·S[j]) ⊙ hin[c] of the chunk's
 * states, then its outputs from the fixed states (C·h by the matmul, + D⊙u). Chunks stay
 * in cache, and the work is parallel along time (batch 1).
 *
 * Scratch: H [B·L, N], S [B·L], the chunks' end states [chunks, N], the carried-in
 * states [B, N], per thread 2 padded vectors.
 */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "isa_select.h"
#include "scan.h"
#include "scan_simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_pause() _mm_pause()
#else
#define cpu_pause() ((void)0)
#endif

/* The chunk length that runs: chunk if given; else c->T_default, shortened (down to
 * c->T_min) so that there are at least 2 chunks per thread when the rows are short. */
int scan_chunked_len(const scan_chunking *c, int B, int L, int nth, int chunk)
{
    if (chunk > 0) return chunk < L ? chunk : L;
    int T = c->T_default;
    long want = 2L * nth; /* chunks wanted in all */
    long per_row = (want + B - 1) / B;
    if ((long)(L + T - 1) / T < per_row) {
        T = (int)((L + per_row - 1) / per_row);
        if (T < c->T_min) T = c->T_min;
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
            SCAN_TZONE(a->prof, ith, ZONE_SCAN_INPUT,
                  scan_matmul(a->sel, io->u + t0 * io->ldu, io->ldu, n, p->Bl, H, N));
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
        if (!mine_zero) SCAN_TZONE(a->prof, ith, ZONE_SCAN_STATE, sv->fixup(p->A, N, a->S + t0, n, H, N, hin));
        for (int j = 0; j < n; j += SCAN_OUT_ROWS) { /* (C) outputs */
            int m = n - j < SCAN_OUT_ROWS ? n - j : SCAN_OUT_ROWS;
            float *y = io->y + (t0 + j) * io->ldy;
            SCAN_TZONE(a->prof, ith, ZONE_SCAN_OUTPUT,
                  scan_matmul(a->sel, H + (size_t)j * N, N, m, p->Cl, y, io->ldy));
            SCAN_TZONE(a->prof, ith, ZONE_SCAN_SKIP,
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
    size_t h = scan_align64((size_t)B * L * N * sizeof(float));
    size_t s = scan_align64((size_t)B * L * sizeof(float));
    size_t c = scan_align64((size_t)B * per_row * N * sizeof(float));
    size_t z = scan_align64((size_t)B * N * sizeof(float));
    size_t q = (size_t)nth * 2 * pad * sizeof(float);
    if (off_S) *off_S = h;
    if (off_last) *off_last = h + s;
    if (off_h0) *off_h0 = h + s + c;
    if (off_priv) *off_priv = h + s + c + z;
    if (priv_stride) *priv_stride = 2 * pad;
    return h + s + c + z + q;
}

size_t scan_chunked_scratch(const scan_chunking *c, int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)E;
    /* Any (B' <= B, L' <= L) may run: size the chunk table for the shortest chunk. */
    int Tmin = chunk > 0 ? chunk : c->T_min;
    if (Tmin > L) Tmin = L;
    return chunk_scratch_parts(B, L, N, Tmin, nthreads, NULL, NULL, NULL, NULL, NULL);
}

void scan_chunked_run(const scan_chunking *c, itera_pool *pool, const scan_params *p, const scan_io *io,
                      void *scratch, int chunk, itera_prof *prof, const isa_select *sel)
{
    itera_pool *pl = scan_pool_for(pool, io, p);
    int nth = pool_size(pl);
    int T = scan_chunked_len(c, io->B, io->L, nth, chunk);
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

/* ---- the kernel of the CHUNKED row ---- */

/* Default chunk length, by measurement (see scan_auto's table): long enough that the
 * matmul tiles fill, short enough that a chunk's u, H and y stay in L2; the shortest
 * chunk the default rule picks when it splits short rows for more threads. */
static const scan_chunking chunking = {.T_default = 256, .T_min = 32};

static size_t chunked_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    return scan_chunked_scratch(&chunking, B, L, E, N, nthreads, chunk);
}

static void chunked_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch, int chunk,
                        itera_prof *prof, const isa_select *sel)
{
    scan_chunked_run(&chunking, pool, p, io, scratch, chunk, prof, sel);
}

static int chunked_len(int B, int L, int threads, int chunk)
{
    return scan_chunked_len(&chunking, B, L, threads, chunk);
}

const scan_impl scan_chunked = {.scratch_bytes = chunked_scratch, .run = chunked_run, .chunk_len = chunked_len};
