/*
 * forward.c: contexts, the forward pass (prefill) and the decode step.
 *
 * Both run the same code, run_tokens(): L new tokens for each of B sequences, continuing
 * from the context's state (position, the last K−1 conv inputs and the scan state per
 * layer). A prefill resets the state and runs L tokens; a decode step runs one. Rows of
 * the activation buffers are tokens, t = b·L + l. All buffers are allocated when the
 * context is created: nothing is allocated on the hot path.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "isa_select.h"
#include "model.h"
#include "pool.h"
#include "scan.h"
#include "vmath.h"
#include "ops.h"
#include "zone.h"

struct itera_ctx {
    const itera_model *m;
    itera_pool *pool;
    itera_prof *prof;
    const vmath_ops *vm;
    int threads, max_batch, max_seq, max_rows;
    itera_kernel kernel; /* requested (AUTO allowed) */
    int chunk;

    /* activations, [rows, width] */
    float *x;       /* [R, D] residual stream */
    float *h;       /* [R, D] normed */
    float *add;     /* [R, D] block output to add to x */
    float *ug;      /* [R, 2E] in_proj output: u | g */
    float *uc;      /* [R, E] conv + SiLU output */
    float *dz;      /* [R, E] delta projection */
    float *delta;   /* [R] */
    float *ys;      /* [R, E] scan output, then gated */
    float *f1;      /* [R·k, F] FFN / expert hidden */
    float *eh;      /* [R·k, D] rows routed to experts, grouped per thread then per expert */
    float *eo;      /* [R·k, D] the experts' outputs */
    float *rz;      /* [R, X] router logits */
    int *route;     /* [R, top_k] chosen experts */
    float *gate;    /* [R, top_k] their weights */
    int *erows;     /* [R·k] rows routed to experts (same layout as eh) */
    float *egate;   /* [R·k] their gate weights */
    void *lin_scratch;  /* [threads] slices of lin_scratch_stride bytes, one per worker */
    size_t lin_scratch_stride;
    void *scan_scratch;
    size_t scan_scratch_bytes;

    /* decode state */
    int state_b;    /* B of the current sequences */
    int pos;        /* tokens consumed per sequence */
    float *conv_state; /* [2][layers, max_batch, K−1, E] last K−1 inputs u, oldest first:
                        * a call reads half conv_cur and writes the other (conv_state_update
                        * runs while other threads still read), then flips conv_cur */
    size_t conv_half;  /* floats in one half */
    int conv_cur;
    float *ssm_state;  /* [layers, max_batch, N] */
};

/* ---- context ---- */

/* Most token rows (max_batch x max_seq) one context holds: rows x top_k fits an int. */
#define CTX_MAX_ROWS (INT_MAX / ITERA_MAX_EXPERTS)

/* a·b·c, or SIZE_MAX when the product overflows (xalloc then fails). */
static size_t prod3(size_t a, size_t b, size_t c)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, c, &r)) return SIZE_MAX;
    return r;
}

static void *xalloc(size_t bytes, bool *ok)
{
    if (bytes > SIZE_MAX - 63) {
        *ok = false;
        return NULL;
    }
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (!p) *ok = false;
    else memset(p, 0, n ? n : 64);
    return p;
}

void itera_ctx_free(itera_ctx *c)
{
    if (!c) return;
    pool_destroy(c->pool);
    prof_free(c->prof);
    float **fl[] = {&c->x, &c->h, &c->add, &c->ug, &c->uc, &c->dz, &c->delta, &c->ys, &c->f1,
                    &c->eh, &c->eo, &c->rz, &c->gate, &c->egate, &c->conv_state, &c->ssm_state};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) free(*fl[i]);
    free(c->route);
    free(c->erows);
    free(c->lin_scratch);
    free(c->scan_scratch);
    free(c);
}

static size_t scan_scratch_need(const itera_ctx *c, int B, int L)
{
    const itera_config *cf = &c->m->cfg;
    int E = cf->ssm_expand_factor * cf->hidden_size, N = cf->ssm_state_size;
    size_t need = 0;
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        if (c->kernel != ITERA_KERNEL_AUTO && k != c->kernel) continue;
        size_t s = scan_kernels[k].impl->scratch_bytes(B, L, E, N, c->threads, c->chunk);
        if (s > need) need = s;
    }
    return need;
}

itera_status itera_ctx_create(const itera_model *m, const itera_ctx_opts *o, itera_ctx **out,
                              itera_error *err)
{
    *out = NULL;
    const itera_config *cf = &m->cfg;
    itera_ctx_opts d = {0};
    if (!o) {
        d.kernel = ITERA_KERNEL_AUTO;
        o = &d;
    }
    int threads = o->threads ? o->threads : 1;
    int max_batch = o->max_batch ? o->max_batch : 8;
    int max_seq = o->max_seq ? o->max_seq : cf->max_seq_length;
    if (threads < 1 || threads > ITERA_MAX_THREADS)
        return itera_fail(err, ITERA_ERR_ARG, "threads: %d is out of range (expected 1..%d)", threads,
                          ITERA_MAX_THREADS);
    if (max_batch < 1 || max_batch > 4096)
        return itera_fail(err, ITERA_ERR_ARG, "max_batch: %d is out of range (expected 1..4096)", max_batch);
    if (max_seq < 1 || max_seq > cf->max_seq_length)
        return itera_fail(err, ITERA_ERR_ARG, "max_seq: %d is out of range (expected 1..%d, the model's max_seq_length)",
                          max_seq, cf->max_seq_length);
    if (o->kernel != ITERA_KERNEL_AUTO && (o->kernel < 0 || o->kernel >= ITERA_KERNEL_COUNT))
        return itera_fail(err, ITERA_ERR_ARG, "kernel: unknown scan kernel %d", (int)o->kernel);
    if (o->chunk < 0)
        return itera_fail(err, ITERA_ERR_ARG, "chunk: %d must be positive", o->chunk);
    /* Token rows of one forward: every row index (and row x top_k) must fit an int. */
    if ((long long)max_batch * max_seq > CTX_MAX_ROWS)
        return itera_fail(err, ITERA_ERR_ARG,
                          "max_batch x max_seq: %d x %d = %lld token rows, more than the %d one "
                          "context holds",
                          max_batch, max_seq, (long long)max_batch * max_seq, CTX_MAX_ROWS);

    itera_ctx *c = calloc(1, sizeof *c);
    if (!c) return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
    c->m = m;
    c->vm = isa_selected()->vm;
    c->threads = threads;
    c->max_batch = max_batch;
    c->max_seq = max_seq;
    c->max_rows = max_batch * max_seq;
    c->kernel = o->kernel;
    c->chunk = o->chunk;

    size_t R = (size_t)c->max_rows;
    int D = cf->hidden_size, E = cf->ssm_expand_factor * D, N = cf->ssm_state_size,
        K = cf->ssm_conv_kernel, F = cf->expert_size, X = cf->num_experts, k = cf->top_k_experts;
    bool ok = true;
    c->x = xalloc(prod3(R, D, sizeof(float)), &ok);
    c->h = xalloc(prod3(R, D, sizeof(float)), &ok);
    c->add = xalloc(prod3(R, D, sizeof(float)), &ok);
    c->ug = xalloc(prod3(R, 2 * (size_t)E, sizeof(float)), &ok);
    c->uc = xalloc(prod3(R, E, sizeof(float)), &ok);
    c->dz = xalloc(prod3(R, E, sizeof(float)), &ok);
    c->delta = xalloc(prod3(R, 1, sizeof(float)), &ok);
    c->ys = xalloc(prod3(R, E, sizeof(float)), &ok);
    size_t Rk = prod3(R, (size_t)(k > 1 ? k : 1), 1);
    c->f1 = xalloc(prod3(Rk, F, sizeof(float)), &ok);
    c->eh = xalloc(prod3(Rk, D, sizeof(float)), &ok);
    c->eo = xalloc(prod3(Rk, D, sizeof(float)), &ok);
    c->rz = xalloc(prod3(R, X, sizeof(float)), &ok);
    c->route = xalloc(prod3(R, k, sizeof(int)), &ok);
    c->gate = xalloc(prod3(R, k, sizeof(float)), &ok);
    c->erows = xalloc(prod3(Rk, 1, sizeof(int)), &ok);
    c->egate = xalloc(prod3(Rk, 1, sizeof(float)), &ok);
    c->conv_half = prod3(prod3((size_t)cf->num_layers, (size_t)max_batch, (size_t)(K > 1 ? K - 1 : 1)), E, 1);
    c->conv_state = xalloc(prod3(2, c->conv_half, sizeof(float)), &ok);
    c->ssm_state = xalloc(prod3(prod3((size_t)cf->num_layers, (size_t)max_batch, 1), N, sizeof(float)), &ok);
    size_t ls = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].lin) {
            size_t s = linear_scratch_bytes(m->tensors[i].lin, c->max_rows);
            if (s > ls) ls = s;
        }
    c->lin_scratch_stride = (ls + 63) & ~(size_t)63;
    c->lin_scratch = xalloc(prod3(c->lin_scratch_stride, threads, 1), &ok);
    size_t s1 = scan_scratch_need(c, max_batch, max_seq), s2 = scan_scratch_need(c, max_batch, 1);
    c->scan_scratch_bytes = s1 > s2 ? s1 : s2;
    c->scan_scratch = xalloc(c->scan_scratch_bytes, &ok);
    if (!ok) {
        itera_ctx_free(c);
        return itera_fail(err, ITERA_ERR_NOMEM, "out of memory allocating buffers for %d x %d tokens",
                          max_batch, max_seq);
    }
    c->prof = prof_create(threads, zone_names, ZONE_COUNT, err);
    if (!c->prof) {
        itera_ctx_free(c);
        return ITERA_ERR_NOMEM;
    }
    c->pool = pool_create(threads, o->on_thread_start, o->user, err);
    if (!c->pool) {
        itera_ctx_free(c);
        return ITERA_ERR_NOMEM;
    }
    c->state_b = 0;
    *out = c;
    return ITERA_OK;
}

int itera_ctx_threads(const itera_ctx *c) { return c->threads; }
void itera_ctx_pool_waits(const itera_ctx *c, itera_pool_waits *out) { pool_waits(c->pool, out); }
int itera_ctx_position(const itera_ctx *c) { return c->pos; }
int itera_ctx_batch(const itera_ctx *c) { return c->state_b; }
const char *itera_ctx_isa(const itera_ctx *c) { return linear_isa_name(c->m->quant); }

itera_kernel itera_ctx_kernel(const itera_ctx *c, int B, int L)
{
    if (c->kernel != ITERA_KERNEL_AUTO) return c->kernel;
    const itera_config *cf = &c->m->cfg;
    return scan_auto(B, L, cf->ssm_expand_factor * cf->hidden_size, cf->ssm_state_size, c->threads);
}

/* ---- row-parallel ops ----
 *
 * Every op below splits the B·L token rows the same way (pool_slice over rows), so a
 * thread keeps working on the rows it produced in the previous op (they stay in its
 * cache). Linear maps inside a row op run on the caller's rows only (linear_forward with
 * no pool and the thread's own scratch): one parallel region per op, the activation
 * quantization of the int8/int4 formats included, instead of one to three.
 *
 * Ops whose rows depend only on the same rows of the previous op's output run back to
 * back in one parallel region, a chain (e.g. gating, out_proj, LN, FFN, LN, in_proj):
 * no join between them. Each op keeps its own profiling zone, timed on thread 0 (the
 * caller; the other threads do the same work on their rows at the same time); the last
 * op's zone also holds the join. Ops that read rows other threads wrote (conv: the K−1
 * previous rows of in_proj's output; the scan) start a new chain. */

typedef enum row_op {
    ROW_EMBED,    /* x = embed[token] + pos */
    ROW_ADD_LN,   /* x += add (when add_pending); h = LN(x; w, b) */
    ROW_IN_PROJ,  /* ug = h · in_projᵀ */
    ROW_CONV,     /* uc = silu(conv(u)) using the conv state for positions before this call;
                   * thread 0 also writes the next call's state (conv_state_update) */
    ROW_DELTA,    /* dz = uc · delta_projᵀ + b; delta[t] = mean_c softplus(dz[t, c]) */
    ROW_GATE,     /* ys = ys ⊙ silu(g) */
    ROW_OUT_PROJ, /* add = ys · out_projᵀ */
    ROW_FFN,      /* add = gelu(h · w1ᵀ) · w2ᵀ */
    ROW_ROUTER,   /* rz = h · routerᵀ; route, gate = top-k of rz, softmax over those k */
    ROW_EXPERTS,  /* add = Σ_j gate[t, j] · expert_{route[t, j]}(h[t]) */
    ROW_LM_HEAD,  /* logits = h · headᵀ */
} row_op;

typedef struct row_step {
    row_op op;
    itera_zone zone;
    const layer_weights *lw;
    int layer;
    const float *ln_w, *ln_b; /* ROW_ADD_LN */
    bool add_pending;         /* ROW_ADD_LN */
} row_step;

#define CHAIN_MAX 16

typedef struct row_task {
    itera_ctx *c;
    int T, B, L;  /* rows, sequences, tokens per sequence */
    const int32_t *tokens; /* ROW_EMBED */
    float *logits;         /* ROW_LM_HEAD */
    int n;                 /* steps */
    row_step step[CHAIN_MAX];
    uint64_t last_t0;      /* thread 0's start of the last step (its zone ends after the join) */
} row_task;

/* y rows [t0, t1) = x rows · Wᵀ (+ b) on the calling thread, with its own scratch. */
static void lin_rows(itera_ctx *c, int ith, const linear *L, const float *x, int ldx, int t0,
                     int t1, float *y, int ldy)
{
    if (t1 <= t0) return;
    linear_forward(NULL, L, x + (size_t)t0 * ldx, ldx, t1 - t0,
                   (char *)c->lin_scratch + (size_t)ith * c->lin_scratch_stride,
                   y + (size_t)t0 * ldy, ldy);
}

/* The experts for token rows [t0, t1): each routed (row, expert) pair is gathered into
 * eh (rows from t0·k on, grouped by expert), each expert runs once on its group, and the
 * gated outputs are added to the rows' add, which only this thread writes. */
static void experts_rows(itera_ctx *c, int ith, const layer_weights *lw, int t0, int t1)
{
    const itera_config *cf = &c->m->cfg;
    const vmath_ops *vm = c->vm;
    int D = cf->hidden_size, F = cf->expert_size, X = cf->num_experts, k = cf->top_k_experts;
    if (t1 <= t0) return;
    memset(c->add + (size_t)t0 * D, 0, (size_t)(t1 - t0) * D * sizeof(float));
    size_t base = (size_t)t0 * k;
    for (int e = 0; e < X; e++) {
        int n = 0;
        int *rows = c->erows + base;
        float *gw = c->egate + base;
        float *eh = c->eh + base * D, *eo = c->eo + base * D, *f1 = c->f1 + base * F;
        for (int t = t0; t < t1; t++)
            for (int j = 0; j < k; j++)
                if (c->route[(size_t)t * k + j] == e) {
                    rows[n] = t;
                    gw[n] = c->gate[(size_t)t * k + j];
                    memcpy(eh + (size_t)n * D, c->h + (size_t)t * D, D * sizeof(float));
                    n++;
                }
        if (!n) continue;
        lin_rows(c, ith, &lw->ew1[e], eh, D, 0, n, f1, F);
        for (int i = 0; i < n; i++) vm->gelu(f1 + (size_t)i * F, f1 + (size_t)i * F, F);
        lin_rows(c, ith, &lw->ew2[e], f1, F, 0, n, eo, D);
        for (int i = 0; i < n; i++) {
            float *dst = c->add + (size_t)rows[i] * D;
            const float *src = eo + (size_t)i * D;
            float g = gw[i];
            for (int d = 0; d < D; d++) dst[d] += g * src[d];
        }
    }
}

/* One token's routing: r = the k largest of z[0..X) (ties to the lower index), g = softmax
 * over those k logits. */
static void route_row(const itera_config *cf, const float *z, int *r, float *g)
{
    int X = cf->num_experts, k = cf->top_k_experts;
    for (int j = 0; j < k; j++) { /* j-th largest; ties to the lower index */
        int best = -1;
        for (int e = 0; e < X; e++) {
            bool taken = false;
            for (int q = 0; q < j; q++) taken |= r[q] == e;
            if (!taken && (best < 0 || z[e] > z[best])) best = e;
        }
        r[j] = best;
    }
    float mx = z[r[0]], sum = 0;
    for (int j = 0; j < k; j++) sum += (g[j] = expf(z[r[j]] - mx));
    for (int j = 0; j < k; j++) g[j] /= sum;
}

/* Sequence b's conv history in half `which` for a layer: [K−1, E]. */
static float *conv_hist(itera_ctx *c, int which, int layer, int b)
{
    const itera_config *cf = &c->m->cfg;
    size_t HE = (size_t)(cf->ssm_conv_kernel - 1) * cf->ssm_expand_factor * cf->hidden_size;
    return c->conv_state + (size_t)which * c->conv_half + ((size_t)layer * c->max_batch + b) * HE;
}

/* Keeps the last K−1 inputs u of each sequence for the next call's convolution: reads
 * the current half and this call's u, writes the other half. */
static void conv_state_update(itera_ctx *c, int layer, int B, int L)
{
    const itera_config *cf = &c->m->cfg;
    int E = cf->ssm_expand_factor * cf->hidden_size, H = cf->ssm_conv_kernel - 1;
    for (int b = 0; b < B; b++) {
        const float *old = conv_hist(c, c->conv_cur, layer, b);
        float *hist = conv_hist(c, !c->conv_cur, layer, b);
        int keep = L >= H ? 0 : H - L; /* rows kept from the old history */
        if (keep) memcpy(hist, old + (size_t)L * E, (size_t)keep * E * sizeof(float));
        for (int j = keep; j < H; j++)
            memcpy(hist + (size_t)j * E, c->ug + ((size_t)b * L + L - H + j) * 2 * E, E * sizeof(float));
    }
}

static void step_run(row_task *a, const row_step *st, int ith, int t0, int t1)
{
    itera_ctx *c = a->c;
    const itera_model *m = c->m;
    const itera_config *cf = &m->cfg;
    const vmath_ops *vm = c->vm;
    const layer_weights *lw = st->lw;
    int D = cf->hidden_size, E = cf->ssm_expand_factor * D, K = cf->ssm_conv_kernel,
        F = cf->expert_size;
    switch (st->op) {
    case ROW_EMBED:
        for (int t = t0; t < t1; t++) {
            float *x = c->x + (size_t)t * D;
            const float *p = m->pos + (size_t)(c->pos + t % a->L) * D;
            linear_row(&m->embed, a->tokens[t], x);
            for (int d = 0; d < D; d++) x[d] += p[d];
        }
        break;
    case ROW_ADD_LN:
        for (int t = t0; t < t1; t++) {
            float *x = c->x + (size_t)t * D;
            if (st->add_pending)
                vm->add_layernorm(c->h + (size_t)t * D, x, c->add + (size_t)t * D, st->ln_w,
                                  st->ln_b, D, cf->layer_norm_eps);
            else
                vm->layernorm(c->h + (size_t)t * D, x, st->ln_w, st->ln_b, D, cf->layer_norm_eps);
        }
        break;
    case ROW_IN_PROJ:
        lin_rows(c, ith, &lw->in_proj, c->h, D, t0, t1, c->ug, 2 * E);
        break;
    case ROW_CONV: {
        const float *u[64]; /* K <= 64 (config.c) */
        for (int t = t0; t < t1; t++) {
            int b = t / a->L, l = t % a->L;
            const float *hist = conv_hist(c, c->conv_cur, st->layer, b);
            for (int q = 0; q < K; q++) {
                int j = l - (K - 1) + q; /* input position relative to this call */
                u[q] = j >= 0 ? c->ug + ((size_t)b * a->L + j) * 2 * E : hist + (size_t)(K - 1 + j) * E;
            }
            vm->conv_silu(c->uc + (size_t)t * E, u, lw->conv_wt, lw->conv_b, K, E);
        }
        if (ith == 0) conv_state_update(c, st->layer, a->B, a->L);
        break;
    }
    case ROW_DELTA:
        lin_rows(c, ith, &lw->delta_proj, c->uc, E, t0, t1, c->dz, E);
        for (int t = t0; t < t1; t++)
            c->delta[t] = vm->softplus_sum(c->dz + (size_t)t * E, E) / (float)E;
        break;
    case ROW_GATE:
        for (int t = t0; t < t1; t++)
            vm->mul_silu(c->ys + (size_t)t * E, c->ys + (size_t)t * E, c->ug + (size_t)t * 2 * E + E, E);
        break;
    case ROW_OUT_PROJ:
        lin_rows(c, ith, &lw->out_proj, c->ys, E, t0, t1, c->add, D);
        break;
    case ROW_FFN:
        lin_rows(c, ith, &lw->w1, c->h, D, t0, t1, c->f1, F);
        for (int t = t0; t < t1; t++) vm->gelu(c->f1 + (size_t)t * F, c->f1 + (size_t)t * F, F);
        lin_rows(c, ith, &lw->w2, c->f1, F, t0, t1, c->add, D);
        break;
    case ROW_EXPERTS:
        experts_rows(c, ith, lw, t0, t1);
        break;
    case ROW_ROUTER:
        lin_rows(c, ith, &lw->router, c->h, D, t0, t1, c->rz, cf->num_experts);
        for (int t = t0; t < t1; t++) route_row(cf, c->rz + (size_t)t * cf->num_experts,
                                                c->route + (size_t)t * cf->top_k_experts,
                                                c->gate + (size_t)t * cf->top_k_experts);
        break;
    case ROW_LM_HEAD:
        lin_rows(c, ith, cf->tie_word_embeddings ? &m->embed : &m->head, c->h, D, t0, t1,
                 a->logits, cf->vocab_size);
        break;
    }
}

static void row_fn(int ith, int nth, void *v)
{
    row_task *a = v;
    itera_ctx *c = a->c;
    int t0, t1;
    pool_slice(a->T, ith, nth, &t0, &t1);
    for (int i = 0; i < a->n; i++) {
        uint64_t z0 = ith == 0 ? zone_begin(c->prof) : 0;
        step_run(a, &a->step[i], ith, t0, t1);
        if (ith != 0) continue;
        if (i + 1 < a->n) zone_end(c->prof, 0, a->step[i].zone, z0);
        else a->last_t0 = z0;
    }
}

/* Work below this (values touched by an element-wise pass, or multiply-adds of a product)
 * runs on the caller alone: a parallel region (~0.3 µs to start and join, plus moving
 * cache lines between cores) costs more than it saves. */
#define ROWS_SERIAL_MAX 2048
#define MACS_SERIAL_MAX 65536
/* A row split needs a few rows per thread (decode steps have B rows): below this many
 * per thread a chain runs on the caller, and a big product (the head) runs on its own
 * across the pool, split by outputs. */
#define CHAIN_MIN_ROWS 4

/* Whether one step alone is worth a parallel region for T rows. */
static bool step_parallel(const itera_ctx *c, const row_step *st, size_t T)
{
    const itera_config *cf = &c->m->cfg;
    size_t D = cf->hidden_size, E = (size_t)cf->ssm_expand_factor * D, K = cf->ssm_conv_kernel,
           F = cf->expert_size, k = cf->top_k_experts, V = cf->vocab_size;
    switch (st->op) {
    case ROW_EMBED: case ROW_ADD_LN: case ROW_ROUTER: return T * D > ROWS_SERIAL_MAX;
    case ROW_CONV: return T * E * K > ROWS_SERIAL_MAX;
    case ROW_GATE: return T * E > ROWS_SERIAL_MAX;
    case ROW_IN_PROJ: return T * D * 2 * E >= MACS_SERIAL_MAX;
    case ROW_DELTA: return T * E * E >= MACS_SERIAL_MAX;
    case ROW_OUT_PROJ: return T * E * D >= MACS_SERIAL_MAX;
    case ROW_FFN: return T * 2 * D * F >= MACS_SERIAL_MAX;
    case ROW_EXPERTS: return T * k * 2 * D * F >= MACS_SERIAL_MAX;
    case ROW_LM_HEAD: return T * D * V >= MACS_SERIAL_MAX;
    }
    return true;
}

static void chain_add(row_task *a, row_op op, itera_zone zone, const layer_weights *lw, int layer)
{
    a->step[a->n++] = (row_step){.op = op, .zone = zone, .lw = lw, .layer = layer};
}

static void chain_add_ln(row_task *a, itera_zone zone, const float *w, const float *b,
                         bool add_pending)
{
    a->step[a->n++] = (row_step){.op = ROW_ADD_LN, .zone = zone, .ln_w = w, .ln_b = b,
                                 .add_pending = add_pending};
}

/* Runs the chain's steps (one parallel region when any step is worth one, else on the
 * caller) and ends the last step's zone after the join. Empties the chain. */
static void chain_run(itera_ctx *c, row_task *a)
{
    bool par = false;
    if (a->T >= CHAIN_MIN_ROWS * c->threads)
        for (int i = 0; i < a->n; i++) par |= step_parallel(c, &a->step[i], (size_t)a->T);
    if (par) pool_run(c->pool, row_fn, a);
    else row_fn(0, 1, a);
    zone_end(c->prof, 0, a->step[a->n - 1].zone, a->last_t0);
    a->n = 0;
}

/* ---- the blocks ---- */

#define ZONE(z, stmt)                                  \
    do {                                               \
        uint64_t zt0_ = zone_begin(c->prof);           \
        stmt;                                          \
        zone_end(c->prof, 0, (z), zt0_);               \
    } while (0)

/* The SSM block of one layer after its LN and in_proj (which end the previous chain):
 * [conv, delta], the scan, then starts the next chain with gating and out_proj. */
static void ssm_block(itera_ctx *c, row_task *a, int layer)
{
    const itera_config *cf = &c->m->cfg;
    const layer_weights *lw = &c->m->layers[layer];
    int B = a->B, L = a->L, E = cf->ssm_expand_factor * cf->hidden_size, N = cf->ssm_state_size;

    chain_add(a, ROW_CONV, ZONE_CONV, lw, layer);
    chain_add(a, ROW_DELTA, ZONE_DELTA_PROJ, lw, layer);
    chain_run(c, a);

    scan_params sp = {.E = E, .N = N, .A = lw->A, .B = lw->B, .C = lw->C, .D = lw->D,
                      .Bl = &lw->Bl, .Cl = &lw->Cl};
    scan_io io = {.B = B, .L = L, .u = c->uc, .ldu = E, .delta = c->delta,
                  .h = c->ssm_state + (size_t)layer * c->max_batch * N, .y = c->ys, .ldy = E};
    itera_kernel k = itera_ctx_kernel(c, B, L);
    ZONE(ZONE_SCAN, scan_kernels[k].impl->run(c->pool, &sp, &io, c->scan_scratch, c->chunk, c->prof, isa_selected()));

    chain_add(a, ROW_GATE, ZONE_GATING, lw, layer);
    chain_add(a, ROW_OUT_PROJ, ZONE_OUT_PROJ, lw, layer);
}

static itera_status check_tokens(const itera_ctx *c, const int32_t *tokens, int n, itera_error *err)
{
    int V = c->m->cfg.vocab_size;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return itera_fail(err, ITERA_ERR_ARG, "token id %d at index %d is outside the vocabulary (0..%d)",
                              (int)tokens[i], i, V - 1);
    return ITERA_OK;
}

/* L new tokens for each of B sequences from the current state; logits [B·L, V] or NULL.
 * Chains: [embedding, LN, in_proj] [conv, delta] scan [gating, out_proj, LN, FFN or
 * router + experts, LN, in_proj of the next layer] ... [..., final LN, lm_head]. A dense
 * FFN is w1, GELU, w2 on each thread's rows; a mixture of experts routes each row (top-k
 * of the router's logits, softmax over those k), then each thread runs every expert once
 * on its rows routed to it (experts_rows). */
static void run_tokens(itera_ctx *c, const int32_t *tokens, int B, int L, float *logits)
{
    const itera_model *m = c->m;
    const itera_config *cf = &m->cfg;
    row_task a = {.c = c, .T = B * L, .B = B, .L = L, .tokens = tokens, .logits = logits};

    chain_add(&a, ROW_EMBED, ZONE_EMBEDDING, NULL, 0);
    bool add_pending = false;
    for (int i = 0; i < cf->num_layers; i++) {
        const layer_weights *lw = &m->layers[i];
        chain_add_ln(&a, ZONE_LN_SSM, lw->ln1_w, lw->ln1_b, add_pending);
        chain_add(&a, ROW_IN_PROJ, ZONE_IN_PROJ, lw, i);
        chain_run(c, &a);
        ssm_block(c, &a, i);
        chain_add_ln(&a, ZONE_LN_FFN, lw->ln2_w, lw->ln2_b, true);
        if (lw->moe) {
            chain_add(&a, ROW_ROUTER, ZONE_ROUTER, lw, i);
            chain_add(&a, ROW_EXPERTS, ZONE_EXPERTS, lw, i);
        } else {
            chain_add(&a, ROW_FFN, ZONE_FFN, lw, i);
        }
        add_pending = true;
    }
    chain_add_ln(&a, ZONE_LN_FINAL, m->lnf_w, m->lnf_b, add_pending);
    /* The FP32 head (V·D floats, 512 KB for the micro model) runs on its own, split by
     * output panels: each thread streams half of it (row split: all of it; measured ~5%
     * slower at B=1, L=128 on 2 threads). The quantized heads are 4-8x smaller and gain
     * from skipping the extra region and their separate activation-quantization pass,
     * unless there are too few rows to split (decode). */
    const linear *head = cf->tie_word_embeddings ? &m->embed : &m->head;
    bool head_alone = logits && (head->quant == ITERA_QUANT_FP32 || a.T < CHAIN_MIN_ROWS * c->threads);
    if (logits && !head_alone) chain_add(&a, ROW_LM_HEAD, ZONE_LM_HEAD, NULL, 0);
    chain_run(c, &a);
    if (head_alone)
        ZONE(ZONE_LM_HEAD, linear_forward(c->pool, head, c->h, cf->hidden_size, a.T, c->lin_scratch,
                                          logits, cf->vocab_size));
    c->conv_cur = !c->conv_cur;
    c->pos += L;
}

static void state_reset(itera_ctx *c, int B)
{
    const itera_config *cf = &c->m->cfg;
    int N = cf->ssm_state_size;
    memset(c->conv_state, 0, 2 * c->conv_half * sizeof(float));
    c->conv_cur = 0;
    memset(c->ssm_state, 0, (size_t)cf->num_layers * c->max_batch * N * sizeof(float));
    c->pos = 0;
    c->state_b = B;
}

itera_status itera_forward(itera_ctx *c, const int32_t *tokens, int B, int L, float *logits,
                           itera_error *err)
{
    if (B < 1 || B > c->max_batch)
        return itera_fail(err, ITERA_ERR_ARG, "batch %d is out of range (expected 1..%d)", B, c->max_batch);
    if (L < 1 || L > c->max_seq)
        return itera_fail(err, ITERA_ERR_ARG,
                          "sequence length %d is out of range (expected 1..%d, the model's max_seq_length)",
                          L, c->max_seq);
    itera_status st = check_tokens(c, tokens, B * L, err);
    if (st != ITERA_OK) return st;
    uint64_t z0 = zone_begin(c->prof);
    state_reset(c, B);
    run_tokens(c, tokens, B, L, logits);
    zone_end(c->prof, 0, ZONE_FORWARD, z0);
    return ITERA_OK;
}

itera_status itera_decode_reset(itera_ctx *c, int B, itera_error *err)
{
    if (B < 1 || B > c->max_batch)
        return itera_fail(err, ITERA_ERR_ARG, "batch %d is out of range (expected 1..%d)", B, c->max_batch);
    state_reset(c, B);
    return ITERA_OK;
}

itera_status itera_decode_step(itera_ctx *c, const int32_t *tokens, float *logits, itera_error *err)
{
    if (c->state_b < 1)
        return itera_fail(err, ITERA_ERR_STATE, "decode step before itera_decode_reset or itera_forward");
    if (c->pos >= c->m->cfg.max_seq_length)
        return itera_fail(err, ITERA_ERR_STATE,
                          "position %d: the model's max_seq_length (%d) is reached", c->pos,
                          c->m->cfg.max_seq_length);
    itera_status st = check_tokens(c, tokens, c->state_b, err);
    if (st != ITERA_OK) return st;
    uint64_t z0 = zone_begin(c->prof);
    run_tokens(c, tokens, c->state_b, 1, logits);
    zone_end(c->prof, 0, ZONE_DECODE, z0);
    return ITERA_OK;
}

/* ---- profiling (itera.h): the context's zone profiler over the model's ops (ops.h) ---- */

void itera_prof_enable(itera_ctx *c, bool on) { c->prof->enabled = on; }

void itera_prof_reset(itera_ctx *c) { prof_reset(c->prof); }

int itera_prof_ops(itera_ctx *c, itera_op_stat *out, int cap)
{
    const itera_prof *p = c->prof;
    double us = p->ns_per_tick / 1000.0;
    uint64_t nf = 0, nd = 0;
    for (int t = 0; t < p->nthreads; t++) {
        nf += prof_acc(p, t, ZONE_FORWARD)->count;
        nd += prof_acc(p, t, ZONE_DECODE)->count;
    }
    /* Ops run under both roots; name the one that ran (the forward when both did). */
    itera_zone op_root = (nd > 0 && nf == 0) ? ZONE_DECODE : ZONE_FORWARD;
    int n = 0;
    for (int z = 0; z < ZONE_COUNT; z++) {
        uint64_t cnt;
        double tot, mn, mx;
        if (!prof_zone_total(p, z, &cnt, &tot, &mn, &mx)) continue;
        if (n < cap) {
            const zone_acc *a0 = prof_acc(p, 0, z);
            double caller = (double)a0->total - (double)a0->count * p->overhead_ticks;
            itera_zone par = zone_parent((itera_zone)z);
            if (par == ZONE_FORWARD) par = op_root;
            out[n] = (itera_op_stat){
                .name = zone_name((itera_zone)z),
                .parent = par == ZONE_NONE ? "" : zone_name(par),
                .calls = cnt,
                .total_us = tot * us,
                .mean_us = tot * us / (double)cnt,
                .min_us = mn * us,
                .max_us = mx * us,
                .caller_us = caller > 0 ? caller * us : 0,
            };
        }
        n++;
    }
    return n;
}

itera_status itera_prof_trace(itera_ctx *c, bool on, itera_error *err) { return prof_trace(c->prof, on, err); }

itera_status itera_prof_write_trace(itera_ctx *c, const char *path, itera_error *err)
{
    return prof_write_trace(c->prof, path, err);
}

void itera_prof_overhead(itera_ctx *c, double *zone_ns, double *pair_ns)
{
    const itera_prof *p = c->prof;
    if (zone_ns) *zone_ns = p->overhead_ticks * p->ns_per_tick;
    if (pair_ns) *pair_ns = p->pair_ticks * p->ns_per_tick;
}
