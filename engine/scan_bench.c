/*
 * scan_bench.c: the standalone selective scan (itera.h itera_scan_bench_*): one scan of
 * any shape on its own worker pool, with random inputs from a seed, so benchmarks can
 * time a scan kernel alone (the report's kernel table: channels 256, state 64, seq 128,
 * batch 4; and long sequences).
 *
 * Inputs (deterministic in the seed; scales as in Mamba's initialisation):
 *   u ~ U(−1, 1); Δ ~ U(0.001, 0.1); A = −(1 + n mod 16); Bm ~ U(−1, 1)/√E;
 *   Cm ~ U(−1, 1)/√N; D ~ U(−1, 1). Each run starts from a zero state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "isa_select.h"
#include "scan.h"

struct itera_scan_bench {
    itera_scan_opts o;
    itera_kernel kernel; /* resolved */
    itera_pool *pool;
    float *A, *Bm, *Cm, *D, *u, *delta, *h, *y;
    linear Bl, Cl;
    scan_params p;
    scan_io io;
    void *scratch;
};

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static float rng_uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((double)(rng_next(s) >> 40) / (double)(1u << 24));
}

static float *falloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

void itera_scan_bench_free(itera_scan_bench *s)
{
    if (!s) return;
    pool_destroy(s->pool);
    linear_free(&s->Bl);
    linear_free(&s->Cl);
    float *f[] = {s->A, s->Bm, s->Cm, s->D, s->u, s->delta, s->h, s->y};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) free(f[i]);
    free(s->scratch);
    free(s);
}

itera_status itera_scan_bench_create(const itera_scan_opts *o, itera_scan_bench **out,
                                     itera_error *err)
{
    *out = NULL;
    if (o->E < 1 || o->E > 65536)
        return itera_fail(err, ITERA_ERR_ARG, "scan channels: %d is out of range (expected 1..65536)", o->E);
    if (o->N < 1 || o->N > 4096)
        return itera_fail(err, ITERA_ERR_ARG, "scan state: %d is out of range (expected 1..4096)", o->N);
    if (o->B < 1 || o->B > 4096)
        return itera_fail(err, ITERA_ERR_ARG, "scan batch: %d is out of range (expected 1..4096)", o->B);
    if (o->L < 1 || o->L > (1 << 20))
        return itera_fail(err, ITERA_ERR_ARG, "scan seq: %d is out of range (expected 1..1048576)", o->L);
    int threads = o->threads ? o->threads : 1;
    if (threads < 1 || threads > ITERA_MAX_THREADS)
        return itera_fail(err, ITERA_ERR_ARG, "scan threads: %d is out of range (expected 1..%d)", threads,
                          ITERA_MAX_THREADS);
    if (o->kernel != ITERA_KERNEL_AUTO && (o->kernel < 0 || o->kernel >= ITERA_KERNEL_COUNT))
        return itera_fail(err, ITERA_ERR_ARG, "scan kernel: unknown kernel %d", (int)o->kernel);
    if (o->chunk < 0)
        return itera_fail(err, ITERA_ERR_ARG, "scan chunk: %d must be positive (0: default)", o->chunk);
    size_t T = (size_t)o->B * o->L, big = T * (size_t)(o->E > o->N ? o->E : o->N);
    if (big > ((size_t)1 << 31))
        return itera_fail(err, ITERA_ERR_ARG,
                          "scan shape: batch %d x seq %d x %d values is too large (at most 2^31 per buffer)",
                          o->B, o->L, o->E > o->N ? o->E : o->N);

    itera_scan_bench *s = calloc(1, sizeof *s);
    if (!s) return itera_fail(err, ITERA_ERR_NOMEM, "scan: out of memory");
    s->o = *o;
    s->o.threads = threads;
    s->kernel = o->kernel == ITERA_KERNEL_AUTO ? scan_auto(o->B, o->L, o->E, o->N, threads) : o->kernel;
    int E = o->E, N = o->N;
    s->A = falloc((size_t)N);
    s->Bm = falloc((size_t)N * E);
    s->Cm = falloc((size_t)E * N);
    s->D = falloc((size_t)E);
    s->u = falloc(T * E);
    s->delta = falloc(T);
    s->h = falloc((size_t)o->B * N);
    s->y = falloc(T * E);
    size_t sb = scan_kernels[s->kernel].impl->scratch_bytes(o->B, o->L, E, N, threads, o->chunk);
    s->scratch = aligned_alloc(64, (sb + 63) & ~(size_t)63);
    if (!s->A || !s->Bm || !s->Cm || !s->D || !s->u || !s->delta || !s->h || !s->y || !s->scratch) {
        itera_scan_bench_free(s);
        return itera_fail(err, ITERA_ERR_NOMEM, "scan: out of memory for batch %d x seq %d x channels %d",
                          o->B, o->L, E);
    }
    memset(s->scratch, 0, (sb + 63) & ~(size_t)63);
    uint64_t r = o->seed;
    for (int n = 0; n < N; n++) s->A[n] = -(float)(1 + n % 16);
    for (size_t i = 0; i < (size_t)N * E; i++) s->Bm[i] = rng_uniform(&r, -1, 1) / sqrtf((float)E);
    for (size_t i = 0; i < (size_t)E * N; i++) s->Cm[i] = rng_uniform(&r, -1, 1) / sqrtf((float)N);
    for (int e = 0; e < E; e++) s->D[e] = rng_uniform(&r, -1, 1);
    for (size_t i = 0; i < T * E; i++) s->u[i] = rng_uniform(&r, -1, 1);
    for (size_t i = 0; i < T; i++) s->delta[i] = rng_uniform(&r, 0.001f, 0.1f);
    itera_status st = linear_init(&s->Bl, "scan B", s->Bm, NULL, N, E, ITERA_QUANT_FP32, err);
    if (st == ITERA_OK) st = linear_init(&s->Cl, "scan C", s->Cm, NULL, E, N, ITERA_QUANT_FP32, err);
    if (st != ITERA_OK) {
        itera_scan_bench_free(s);
        return st;
    }
    s->pool = pool_create(threads, o->on_thread_start, o->user, err);
    if (!s->pool) {
        itera_scan_bench_free(s);
        return ITERA_ERR_NOMEM;
    }
    s->p = (scan_params){.E = E, .N = N, .A = s->A, .B = s->Bm, .C = s->Cm, .D = s->D,
                         .Bl = &s->Bl, .Cl = &s->Cl};
    s->io = (scan_io){.B = o->B, .L = o->L, .u = s->u, .ldu = E, .delta = s->delta, .h = s->h,
                      .y = s->y, .ldy = E};
    *out = s;
    return ITERA_OK;
}

void itera_scan_bench_run(itera_scan_bench *s)
{
    memset(s->h, 0, (size_t)s->o.B * s->o.N * sizeof(float));
    scan_kernels[s->kernel].impl->run(s->pool, &s->p, &s->io, s->scratch, s->o.chunk, NULL, isa_selected());
}

/* Per token: B·u 2NE, state 4N (Δ·A, ⊙h, Δ·bu, +; the exp not counted), C·h 2EN, skip 2E. */
double itera_scan_bench_flops(const itera_scan_bench *s)
{
    double E = s->o.E, N = s->o.N;
    return (double)s->o.B * s->o.L * (4.0 * N * E + 4.0 * N + 2.0 * E);
}

itera_kernel itera_scan_bench_kernel(const itera_scan_bench *s) { return s->kernel; }

int itera_scan_bench_chunk(const itera_scan_bench *s)
{
    return scan_chunk_len(s->kernel, s->o.B, s->o.L, s->o.threads, s->o.chunk);
}

itera_kernel itera_scan_auto(int B, int L, int E, int N, int threads)
{
    return scan_auto(B, L, E, N, threads);
}

const float *itera_scan_bench_output(const itera_scan_bench *s) { return s->y; }
void itera_scan_bench_pool_waits(const itera_scan_bench *s, itera_pool_waits *out) { pool_waits(s->pool, out); }
