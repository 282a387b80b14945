/*
 * families.c: the scan, prefill and decode benchmark functions, their once-per-cell
 * preparation (pinned engine state, accuracy against FP32, the prefill op profile) and
 * their counters. See families.h for the names and counters.
 */
#include "families.h"

#include <errno.h>
#include <math.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "figure.h"
#include "schema.h"

#define MAX_OPS 64

static pin_affinity caller_affinity; /* the main thread's affinity before any binding */
static bool caller_affinity_saved;

/* ---- small helpers ---- */

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Deterministic token ids in [0, vocab) from a 64-bit xorshift state. */
static void fill_tokens(int32_t *t, size_t n, int vocab, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        t[i] = (int32_t)(s % (uint64_t)vocab);
    }
}

static void restore_caller(void)
{
    if (caller_affinity_saved)
        pin_restore_self(&caller_affinity);
}

/* Resets the kernel's peak-RSS mark of this process (Linux: "5" to clear_refs). */
static bool rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    ok &= fclose(f) == 0;
    return ok;
}

/* Peak resident set in MB: VmHWM when the mark can be reset per cell, else ru_maxrss. */
static double peak_rss_mb(bool use_hwm)
{
    if (use_hwm) {
        FILE *f = fopen("/proc/self/status", "r");
        if (f) {
            char line[256];
            long kb = -1;
            while (fgets(line, sizeof line, f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                    break;
            fclose(f);
            if (kb >= 0)
                return (double)kb / 1024.0;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- the environment ---- */

bench_status fam_model(fam_env *e, itera_quant q, const itera_model **out, bench_error *err)
{
    if (!e->models[q]) {
        itera_error ie = { { 0 } };
        itera_status s = e->model_dir
                             ? itera_model_load(e->model_dir, q, &e->models[q], &ie)
                             : itera_model_synthetic(e->seed, q, &e->models[q], &ie);
        if (s != ITERA_OK)
            return bench_fail(err, s == ITERA_ERR_NOMEM ? BENCH_ERR_NOMEM : BENCH_ERR_INPUT,
                              "%s model%s%s: %s", itera_quant_name(q), e->model_dir ? " " : "",
                              e->model_dir ? e->model_dir : "", ie.msg);
    }
    *out = e->models[q];
    return BENCH_OK;
}

/* fam_model for the file's (char *err, size_t n) helpers. */
static int fam_model_msg(fam_env *e, itera_quant q, const itera_model **out, char *err,
                         size_t n)
{
    bench_error be;
    if (fam_model(e, q, out, &be) != BENCH_OK)
        return bench_fail_msg(err, n, "%s", be.msg);
    return 0;
}

bench_status fam_env_init(fam_env *e, bench_error *err)
{
    if (!caller_affinity_saved && pin_save_self(&caller_affinity) == 0)
        caller_affinity_saved = true;
    const itera_model *m;
    bench_status st = fam_model(e, ITERA_QUANT_REFERENCE, &m, err);
    if (st != BENCH_OK)
        return st;
    const itera_config *cf = itera_model_config(m);
    e->acc_seq = cf->max_seq_length < FAM_ACC_SEQ ? cf->max_seq_length : FAM_ACC_SEQ;
    e->acc_tokens = malloc((size_t)FAM_ACC_BATCH * (size_t)e->acc_seq * sizeof(int32_t));
    if (!e->acc_tokens)
        return bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
    fill_tokens(e->acc_tokens, (size_t)FAM_ACC_BATCH * (size_t)e->acc_seq, cf->vocab_size,
                FAM_ACC_SEED);
    e->rss_reset_ok = rss_reset();
    e->text_seq = cf->max_seq_length;
    if (e->text_accuracy) {
        bench_error be = {{0}};
        st = textacc_open(&e->texts, e->model_dir, cf->vocab_size, &be);
        if (st != BENCH_OK)
            return bench_fail(err, st, "%.500s", be.msg);
    }
    return BENCH_OK;
}

void fam_env_free(fam_env *e)
{
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        itera_model_free(e->models[q]);
        e->models[q] = NULL;
    }
    for (int i = 0; i < e->nrefs; i++)
        free(e->refs[i].logits);
    e->nrefs = 0;
    free(e->acc_tokens);
    e->acc_tokens = NULL;
    textacc_free(&e->texts);
}

bench_status fam_cell_check(fam_env *e, const bench_cell *c, bench_error *err)
{
    if (c->family == BENCH_SCAN)
        return BENCH_OK;
    const itera_model *m;
    bench_status st = fam_model(e, ITERA_QUANT_REFERENCE, &m, err);
    if (st != BENCH_OK)
        return st;
    int maxlen = itera_model_config(m)->max_seq_length;
    if (c->family == BENCH_PREFILL && c->seq > maxlen)
        return bench_fail(err, BENCH_ERR_INPUT, "%s: seq %d is longer than the model's "
                          "max_seq_length %d (prefill lengths: seq = 1..%d)", c->name, c->seq,
                          maxlen, maxlen);
    if (c->family == BENCH_DECODE && c->steps > maxlen)
        return bench_fail(err, BENCH_ERR_INPUT, "%s: steps %d is more than the model's "
                          "max_seq_length %d (decode steps: steps = 1..%d)", c->name, c->steps,
                          maxlen, maxlen);
    return BENCH_OK;
}

/* A context on model m with the cell's kernel and threads, workers bound per plan.
 * On a binding that did not take, frees it and fails. */
static int make_ctx(const itera_model *m, itera_kernel k, int threads, int max_batch,
                    pin_ctx *pc, itera_ctx **out, char *err, size_t n)
{
    itera_ctx_opts o = { 0 };
    o.threads = threads;
    o.max_batch = max_batch;
    o.kernel = k;
    o.on_thread_start = pin_on_thread_start;
    o.user = pc;
    itera_error ie = { { 0 } };
    if (itera_ctx_create(m, &o, out, &ie) != ITERA_OK) {
        snprintf(err, n, "itera_ctx_create: %s", ie.msg);
        return -1;
    }
    bench_error pe;
    if (pin_ctx_check(pc, &pe) != BENCH_OK) {
        bench_fail_msg(err, n, "binding did not take: %s", pe.msg);
        itera_ctx_free(*out);
        *out = NULL;
        restore_caller();
        return -1;
    }
    return 0;
}

/* FP32 logits of the accuracy input for (kernel, threads), computed once per run with
 * the same binding plan as the cell. */
static const float *fp32_ref(fam_env *e, itera_kernel k, int threads, const pin_plan *plan,
                             char *err, size_t n)
{
    for (int i = 0; i < e->nrefs; i++)
        if (e->refs[i].kernel == k && e->refs[i].threads == threads)
            return e->refs[i].logits;
    if (e->nrefs == FAM_MAX_REFS) {
        snprintf(err, n, "more than %d (kernel, threads) pairs", FAM_MAX_REFS);
        return NULL;
    }
    const itera_model *m;
    if (fam_model_msg(e, ITERA_QUANT_REFERENCE, &m, err, n) != 0)
        return NULL;
    int V = itera_model_config(m)->vocab_size;
    size_t count = (size_t)FAM_ACC_BATCH * (size_t)e->acc_seq * (size_t)V;
    float *logits = malloc(count * sizeof *logits);
    if (!logits) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    pin_ctx *pc = malloc(sizeof *pc);
    itera_ctx *ctx = NULL;
    if (!pc) {
        free(logits);
        snprintf(err, n, "out of memory");
        return NULL;
    }
    pin_ctx_init(pc, plan);
    if (make_ctx(m, k, threads, FAM_ACC_BATCH, pc, &ctx, err, n) != 0) {
        free(pc);
        free(logits);
        return NULL;
    }
    itera_error ie = { { 0 } };
    itera_status s = itera_forward(ctx, e->acc_tokens, FAM_ACC_BATCH, e->acc_seq, logits, &ie);
    itera_ctx_free(ctx);
    free(pc);
    restore_caller();
    if (s != ITERA_OK) {
        snprintf(err, n, "fp32 reference forward: %s", ie.msg);
        free(logits);
        return NULL;
    }
    e->refs[e->nrefs].kernel = k;
    e->refs[e->nrefs].threads = threads;
    e->refs[e->nrefs].logits = logits;
    return e->refs[e->nrefs++].logits;
}

/* The accuracy input's statistics against FP32 (itera.h "Accuracy"): max |logit
 * difference|, top-1 agreement, mean KLD and the perplexity shift of its next tokens. */
static int accuracy_stats(fam_env *e, const float *ref, const float *test, int V, fam_cell *fc, char *err,
                          size_t n)
{
    const size_t rows = (size_t)FAM_ACC_BATCH * (size_t)e->acc_seq;
    int32_t *tg = malloc(rows * sizeof *tg);
    itera_acc *a = NULL;
    itera_error ie = { { 0 } };
    itera_acc_stats s;
    itera_status st = tg ? itera_acc_create(V, &a, &ie) : ITERA_ERR_NOMEM;
    for (size_t r = 0; tg && r < rows; r++)
        tg[r] = (int)(r % (size_t)e->acc_seq) + 1 < e->acc_seq ? e->acc_tokens[r + 1] : -1;
    if (st == ITERA_OK) st = itera_acc_add(a, ref, test, tg, rows, &ie);
    if (st == ITERA_OK) st = itera_acc_summary(a, &s, &ie);
    itera_acc_free(a);
    free(tg);
    if (st != ITERA_OK) {
        snprintf(err, n, "accuracy statistics: %s", tg ? ie.msg : "out of memory");
        return -1;
    }
    fc->max_abs_err = s.max_abs_logit_err;
    fc->top1 = s.top1_agreement;
    fc->kld_mean = s.kld_mean;
    fc->delta_ppl = s.delta_ppl;
    return 0;
}

/* With text_accuracy, quant q against FP32 on the folder's texts, once per run (1 thread,
 * unbound, sequential scan kernel: the figures do not depend on the cell). */
static int text_accuracy(fam_env *e, itera_quant q, char *err, size_t n)
{
    if (!e->text_accuracy || !e->texts.count || e->textres[q].done)
        return 0;
    const itera_model *mr, *mq;
    if (fam_model_msg(e, ITERA_QUANT_FP32, &mr, err, n) != 0 ||
        fam_model_msg(e, q, &mq, err, n) != 0)
        return -1;
    const itera_config *cf = itera_model_config(mr);
    itera_ctx_opts o = { .threads = 1, .max_batch = 1, .kernel = ITERA_KERNEL_SEQUENTIAL };
    itera_ctx *cr = NULL, *cq = NULL;
    itera_error ie = { { 0 } };
    int rc = 0;
    if (itera_ctx_create(mr, &o, &cr, &ie) != ITERA_OK || itera_ctx_create(mq, &o, &cq, &ie) != ITERA_OK) {
        snprintf(err, n, "text accuracy: %s", ie.msg);
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < e->texts.count; i++) {
        bench_error be = { { 0 } };
        if (textacc_run(&e->texts.t[i], e->text_seq, cr, cq, cf->vocab_size, &e->textres[q].r[i], &be) !=
            BENCH_OK) {
            snprintf(err, n, "%.500s", be.msg);
            rc = -1;
        }
    }
    itera_ctx_free(cr);
    itera_ctx_free(cq);
    e->textres[q].done = rc == 0;
    return rc;
}

/* The op profile of a prefill, measured in rounds so its spread can be seen: forwards for
 * FAM_PROFILE_WARMUP_S unprofiled first (caches, clocks and the pool settle, and the
 * forward's time is estimated), then FAM_PROFILE_ROUNDS rounds of F forwards with zones
 * on, F = enough for FAM_PROFILE_ROUND_S. Per op: the caller's (worker 0's) wall time per
 * forward in the median round (the round whose forward is the median of the rounds: all
 * ops from one round, so nested ops never add up to more than their parent), its spread
 * over the rounds, and the total over every thread as before. */
static json_t *op_profile(fam_cell *fc, char *err, size_t n)
{
    const bench_cell *c = fc->cell;
    itera_error ie = { { 0 } };
    int warm = 0;
    double w0 = now_s(CLOCK_MONOTONIC), dt = 0;
    while (warm < 2 || dt < FAM_PROFILE_WARMUP_S) {
        if (itera_forward(fc->ctx, fc->tokens, c->batch, c->seq, fc->logits, &ie) != ITERA_OK) {
            snprintf(err, n, "op-profile warm-up forward: %s", ie.msg);
            return NULL;
        }
        warm++;
        dt = now_s(CLOCK_MONOTONIC) - w0;
    }
    double per = dt / warm;
    int forwards = per > 0 ? (int)ceil(FAM_PROFILE_ROUND_S / per) : 1;
    forwards = forwards < 1 ? 1 : forwards > FAM_PROFILE_MAX_FORWARDS ? FAM_PROFILE_MAX_FORWARDS : forwards;

    /* per op (by name, in the order first seen): per-round caller µs per forward, totals */
    struct op_rounds {
        const char *name, *parent;
        double caller[FAM_PROFILE_ROUNDS];
        double total_us, min_us, max_us;
        uint64_t calls;
    } *acc = calloc(MAX_OPS, sizeof *acc);
    int nacc = 0;
    if (!acc) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    itera_prof_enable(fc->ctx, true);
    for (int r = 0; r < FAM_PROFILE_ROUNDS; r++) {
        itera_prof_reset(fc->ctx);
        for (int i = 0; i < forwards; i++) {
            if (itera_forward(fc->ctx, fc->tokens, c->batch, c->seq, fc->logits, &ie) != ITERA_OK) {
                itera_prof_enable(fc->ctx, false);
                snprintf(err, n, "op-profile forward: %s", ie.msg);
                free(acc);
                return NULL;
            }
        }
        itera_op_stat ops[MAX_OPS];
        int total = itera_prof_ops(fc->ctx, ops, MAX_OPS);
        for (int i = 0; i < total && i < MAX_OPS; i++) {
            int k = 0;
            while (k < nacc && strcmp(acc[k].name, ops[i].name) != 0)
                k++;
            if (k == nacc) {
                acc[k].name = ops[i].name;
                acc[k].parent = ops[i].parent ? ops[i].parent : "";
                acc[k].min_us = ops[i].min_us;
                acc[k].max_us = ops[i].max_us;
                nacc++;
            }
            acc[k].caller[r] = ops[i].caller_us / forwards;
            acc[k].total_us += ops[i].total_us;
            acc[k].calls += ops[i].calls;
            acc[k].min_us = ops[i].min_us < acc[k].min_us ? ops[i].min_us : acc[k].min_us;
            acc[k].max_us = ops[i].max_us > acc[k].max_us ? ops[i].max_us : acc[k].max_us;
        }
    }
    itera_prof_enable(fc->ctx, false);
    itera_prof_reset(fc->ctx);
    /* the median round: by the root op's (the forward's) time */
    int root = -1;
    for (int k = 0; k < nacc && root < 0; k++)
        if (!acc[k].parent[0])
            root = k;
    int order[FAM_PROFILE_ROUNDS];
    for (int r = 0; r < FAM_PROFILE_ROUNDS; r++)
        order[r] = r;
    for (int i = 1; i < FAM_PROFILE_ROUNDS && root >= 0; i++) /* insertion sort by forward time */
        for (int j = i; j > 0 && acc[root].caller[order[j]] < acc[root].caller[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    int mid = order[(FAM_PROFILE_ROUNDS - 1) / 2];
    json_t *arr = json_array();
    for (int k = 0; k < nacc; k++) {
        figure f = figure_of(acc[k].caller, FAM_PROFILE_ROUNDS);
        json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
                              RES_OP_NAME, acc[k].name, RES_OP_PARENT, acc[k].parent,
                              RES_OP_CALLS, (json_int_t)acc[k].calls, RES_OP_TOTAL_US,
                              acc[k].total_us, RES_OP_MEAN_US,
                              acc[k].calls ? acc[k].total_us / (double)acc[k].calls : 0.0,
                              RES_OP_MIN_US, acc[k].min_us, RES_OP_MAX_US, acc[k].max_us,
                              RES_OP_US_PER_FORWARD, acc[k].caller[mid], RES_OP_US_Q1, f.q1,
                              RES_OP_US_Q3, f.q3, RES_OP_US_MIN, f.min, RES_OP_US_MAX, f.max);
        if (o)
            json_array_append_new(arr, o);
    }
    free(acc);
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:o}", RES_OP_FORWARDS, forwards, RES_OP_ROUNDS,
                     FAM_PROFILE_ROUNDS, RES_OP_MEDIAN_ROUND, mid, RES_OP_TOKENS_PER_FORWARD,
                     c->batch * c->seq, RES_OP_THREADS, c->threads, RES_OP_TIMING,
                     FAM_PROFILE_TIMING, RES_OP_OPS, arr);
}

/* The pct_peak denominator for the cell: the peak of the cores it really used (its
 * threads, at most the run's cores: an emulated cell's are the host's), GFLOP/s (fp32,
 * scan) or G int ops/s (int8 products). */
static double cell_peak(const fam_env *e, const bench_cell *c)
{
    int cores = c->threads < e->peak_slots ? c->threads : e->peak_slots;
    bool integer = c->family != BENCH_SCAN && itera_quant_info_get(c->quant)->products == ITERA_ARITH_INT8;
    return peak_at(e->peak, integer, cores);
}

/* Makes the cell's engine state; on failure fc->failed and fc->err. */
static void prepare(fam_cell *fc)
{
    fam_env *e = fc->env;
    const bench_cell *c = fc->cell;
    char *err = fc->err;
    size_t n = sizeof fc->err;
    const itera_model *m = NULL;

    bench_error pe;
    if (pin_plan_make(e->topo, c->threads, e->binding, e->oversubscribe, &fc->plan, &pe) !=
        BENCH_OK) {
        bench_fail_msg(err, n, "%s", pe.msg);
        goto fail;
    }
    /* Give freed heap back to the OS first, so the mark starts from what is live: glibc
     * keeps freed blocks of earlier cells' contexts (its mmap threshold grows after large
     * frees), which would otherwise count into every later cell's peak. */
    malloc_trim(0);
    if (e->rss_reset_ok)
        rss_reset();
    fc->peak_gflops = cell_peak(e, c);

    if (c->family == BENCH_SCAN) {
        pin_ctx_init(&fc->pin, &fc->plan);
        itera_scan_opts o = { 0 };
        o.E = c->channels;
        o.N = c->state;
        o.B = c->batch;
        o.L = c->seq;
        o.threads = c->threads;
        o.kernel = c->kernel;
        o.seed = ITERA_DEFAULT_SEED;
        o.on_thread_start = pin_on_thread_start;
        o.user = &fc->pin;
        itera_error ie = { { 0 } };
        if (itera_scan_bench_create(&o, &fc->scan, &ie) != ITERA_OK) {
            snprintf(err, n, "itera_scan_bench_create: %s", ie.msg);
            goto fail;
        }
        if (pin_ctx_check(&fc->pin, &pe) != BENCH_OK) {
            bench_fail_msg(err, n, "binding did not take: %s", pe.msg);
            goto fail;
        }
        fc->tokens_per_iter = (double)c->batch * c->seq;
        fc->work_per_iter = 1;
        fc->flops_per_iter = itera_scan_bench_flops(fc->scan);
    } else {
        if (fam_model_msg(e, c->quant, &m, err, n) != 0)
            goto fail;
        const itera_config *cf = itera_model_config(m);
        int V = cf->vocab_size;
        /* The FP32 reference and the texts first, so two pools never run at once. */
        const float *ref = fp32_ref(e, c->kernel, c->threads, &fc->plan, err, n);
        if (!ref)
            goto fail;
        if (c->family == BENCH_PREFILL && text_accuracy(e, c->quant, err, n) != 0)
            goto fail;
        pin_ctx_init(&fc->pin, &fc->plan);
        int max_batch = c->batch > FAM_ACC_BATCH ? c->batch : FAM_ACC_BATCH;
        if (make_ctx(m, c->kernel, c->threads, max_batch, &fc->pin, &fc->ctx, err, n) != 0)
            goto fail;
        size_t ntok = c->family == BENCH_PREFILL ? (size_t)c->batch * (size_t)c->seq
                                                 : (size_t)c->steps * (size_t)c->batch;
        size_t nlog = c->family == BENCH_PREFILL ? ntok * (size_t)V : (size_t)c->batch * (size_t)V;
        size_t nacc = (size_t)FAM_ACC_BATCH * (size_t)e->acc_seq * (size_t)V;
        fc->tokens = malloc(ntok * sizeof *fc->tokens);
        fc->logits = malloc((nlog > nacc ? nlog : nacc) * sizeof *fc->logits);
        if (!fc->tokens || !fc->logits) {
            snprintf(err, n, "out of memory");
            goto fail;
        }
        fill_tokens(fc->tokens, ntok, V, (uint64_t)fc->index + 1);
        if (!fc->have_acc) {
            itera_error ie = { { 0 } };
            if (itera_forward(fc->ctx, e->acc_tokens, FAM_ACC_BATCH, e->acc_seq, fc->logits,
                              &ie) != ITERA_OK) {
                snprintf(err, n, "accuracy forward: %s", ie.msg);
                goto fail;
            }
            if (accuracy_stats(e, ref, fc->logits, V, fc, err, n) != 0)
                goto fail;
            fc->have_acc = true;
        }
        if (c->family == BENCH_PREFILL && !fc->op_profile && !fc->timing_only) {
            fc->op_profile = op_profile(fc, err, n);
            if (!fc->op_profile)
                goto fail;
        }
        double fpt = itera_model_flops_per_token(m);
        fc->tokens_per_iter = (double)ntok;
        fc->flops_per_iter = fpt * (double)ntok;
        fc->work_per_iter = c->family == BENCH_PREFILL ? 1 : c->steps;
        fc->weight_bytes = (double)itera_model_weight_bytes(m);
    }
    pin_ctx_cpus(&fc->pin, fc->cpus, sizeof fc->cpus);
    if (e->emulated)
        snprintf(fc->label, sizeof fc->label, "emulated; cpus %s", fc->cpus);
    else
        snprintf(fc->label, sizeof fc->label, "cpus %s", fc->cpus);
    fc->ready = true;
    return;
fail:
    fc->failed = true;
    fam_cell_release(fc);
}

void fam_cell_init(fam_cell *fc, fam_env *e, const bench_cell *c, int index)
{
    memset(fc, 0, sizeof *fc);
    fc->cell = c;
    fc->env = e;
    fc->index = index;
}

void fam_cell_release(fam_cell *fc)
{
    itera_ctx_free(fc->ctx);
    fc->ctx = NULL;
    if (fc->scan)
        itera_scan_bench_free(fc->scan);
    fc->scan = NULL;
    free(fc->tokens);
    fc->tokens = NULL;
    free(fc->logits);
    fc->logits = NULL;
    fc->ready = false;
    restore_caller();
}

void fam_cell_free(fam_cell *fc)
{
    fam_cell_release(fc);
    json_decref(fc->op_profile);
    fc->op_profile = NULL;
}

/* ---- the benchmark function ---- */

cpu_share cpu_share_of(double cpu_s, double spin_s, double wall_s, int cores)
{
    cpu_share u = { NAN, NAN };
    if (!(wall_s > 0) || cores < 1 || !(cpu_s >= 0))
        return u;
    double spin = spin_s > 0 ? spin_s : 0;
    if (spin > cpu_s)
        spin = cpu_s; /* spinning is timed apart from the process clock: never more than it */
    u.busy = (cpu_s - spin) / (wall_s * cores);
    u.spin = spin / (wall_s * cores);
    return u;
}

/* The idle waiting of the cell's pool so far. */
static void pool_waits_of(const fam_cell *fc, itera_pool_waits *out)
{
    memset(out, 0, sizeof *out);
    if (fc->ctx)
        itera_ctx_pool_waits(fc->ctx, out);
    else if (fc->scan)
        itera_scan_bench_pool_waits(fc->scan, out);
}

/* One untimed iteration of the cell's work (what the timed loops below repeat). */
static itera_status cell_iteration(fam_cell *fc, itera_error *ie)
{
    const bench_cell *c = fc->cell;
    switch (c->family) {
    case BENCH_SCAN:
        itera_scan_bench_run(fc->scan);
        return ITERA_OK;
    case BENCH_PREFILL:
        return itera_forward(fc->ctx, fc->tokens, c->batch, c->seq, fc->logits, ie);
    case BENCH_DECODE: {
        itera_status s = itera_decode_reset(fc->ctx, c->batch, ie);
        for (int k = 0; k < c->steps && s == ITERA_OK; k++)
            s = itera_decode_step(fc->ctx, fc->tokens + (size_t)k * (size_t)c->batch,
                                  fc->logits, ie);
        return s;
    }
    default:
        return ITERA_OK;
    }
}

/* Untimed iterations: at least one, and for at least seconds. */
static itera_status warm_up(fam_cell *fc, double seconds, itera_error *ie)
{
    double t0 = now_s(CLOCK_MONOTONIC);
    itera_status s;
    do
        s = cell_iteration(fc, ie);
    while (s == ITERA_OK && now_s(CLOCK_MONOTONIC) - t0 < seconds);
    return s;
}

void fam_bench(gb_state *st, void *user)
{
    fam_cell *fc = user;
    fam_env *e = fc->env;
    const bench_cell *c = fc->cell;
    const char *skip = e->on_enter ? e->on_enter(fc, e->user) : NULL;
    if (skip) {
        gb_skip_with_error(st, skip);
        return;
    }
    fc->entered = true;
    if (!fc->ready && !fc->failed)
        prepare(fc);
    if (fc->failed) {
        gb_skip_with_error(st, fc->err);
        return;
    }
    gb_set_label(st, fc->label);

    itera_error ie = { { 0 } };
    itera_status s = ITERA_OK;
    if (fc->warmup_s > 0) {
        s = warm_up(fc, fc->warmup_s, &ie);
        fc->warmup_s = 0;
        if (s != ITERA_OK) {
            gb_skip_with_error(st, ie.msg);
            return;
        }
    }
    itera_pool_waits pw0, pw1;
    pool_waits_of(fc, &pw0);
    double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
    if (e->ctr)
        counters_start(e->ctr);
    switch (c->family) {
    case BENCH_SCAN:
        while (gb_keep_running(st))
            itera_scan_bench_run(fc->scan);
        break;
    case BENCH_PREFILL:
        while (gb_keep_running(st)) {
            s = itera_forward(fc->ctx, fc->tokens, c->batch, c->seq, fc->logits, &ie);
            if (s != ITERA_OK) {
                gb_skip_with_error(st, ie.msg);
                break;
            }
        }
        break;
    case BENCH_DECODE:
        while (gb_keep_running(st)) {
            s = itera_decode_reset(fc->ctx, c->batch, &ie);
            for (int k = 0; k < c->steps && s == ITERA_OK; k++)
                s = itera_decode_step(fc->ctx, fc->tokens + (size_t)k * (size_t)c->batch,
                                      fc->logits, &ie);
            if (s != ITERA_OK) {
                gb_skip_with_error(st, ie.msg);
                break;
            }
        }
        break;
    default:
        break;
    }
    if (e->ctr)
        counters_stop(e->ctr);
    double wall = now_s(CLOCK_MONOTONIC) - w0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    pool_waits_of(fc, &pw1);
    double spin = (pw1.spin_ns - pw0.spin_ns) * 1e-9;
    if (s != ITERA_OK)
        return;

    double iters = (double)gb_iterations(st);
    double tokens = fc->tokens_per_iter * iters;
    if (iters <= 0 || wall <= 0)
        return;
    double gflops = fc->flops_per_iter * iters / wall * 1e-9;
    gb_set_counter(st, MET_TOKENS_PER_SECOND, tokens, GB_COUNTER_RATE);
    gb_set_counter(st, MET_LATENCY_MS, wall * 1e3 / (iters * fc->work_per_iter), GB_COUNTER_PLAIN);
    gb_set_counter(st, MET_GFLOPS, gflops, GB_COUNTER_PLAIN);
    if (fc->peak_gflops > 0) {
        /* Above 100% the peak (or this run) is wrong: no figure, the cell flagged instead.
         * Both counters in every repetition (GB's aggregates need the same set). */
        double pct = 100.0 * gflops / fc->peak_gflops;
        bool suspect = !(pct <= 100.0);
        gb_set_counter(st, MET_PCT_PEAK, suspect ? NAN : pct, GB_COUNTER_PLAIN);
        gb_set_counter(st, MET_PEAK_SUSPECT, suspect ? 1 : 0, GB_COUNTER_PLAIN);
    }
    cpu_share u = cpu_share_of(cpu, spin, wall, e->run_cores);
    gb_set_counter(st, MET_CPU_UTIL, u.busy, GB_COUNTER_PLAIN);
    gb_set_counter(st, MET_CPU_SPIN, u.spin, GB_COUNTER_PLAIN);
    gb_set_counter(st, MET_PEAK_RSS_MB, peak_rss_mb(e->rss_reset_ok), GB_COUNTER_PLAIN);
    if (c->family != BENCH_SCAN) {
        gb_set_counter(st, MET_WEIGHT_BYTES, fc->weight_bytes, GB_COUNTER_PLAIN);
        gb_set_counter(st, MET_MAX_ABS_LOGIT_ERR, fc->max_abs_err, GB_COUNTER_PLAIN);
        gb_set_counter(st, MET_TOP1_AGREEMENT, fc->top1, GB_COUNTER_PLAIN);
        gb_set_counter(st, MET_KLD_MEAN, fc->kld_mean, GB_COUNTER_PLAIN);
        if (isfinite(fc->delta_ppl))
            gb_set_counter(st, MET_DELTA_PPL, fc->delta_ppl, GB_COUNTER_PLAIN);
    }
    if (c->family == BENCH_PREFILL && e->textres[c->quant].done)
        for (int i = 0; i < e->texts.count; i++) {
            const textacc_result *r = &e->textres[c->quant].r[i];
            const char *stats[] = MET_TEXT_STATS;
            const double v[] = {r->ppl, r->dppl, r->dppl_se, r->kld_mean, r->top1};
            for (int k = 0; k < 5; k++) {
                char name[96];
                snprintf(name, sizeof name, "%s%s_%s", MET_TEXT_PREFIX, stats[k], e->texts.t[i].name);
                if (isfinite(v[k]))
                    gb_set_counter(st, name, v[k], GB_COUNTER_PLAIN);
            }
        }
    if (e->ctr) {
        counters_values v;
        if (counters_read(e->ctr, &v) == 0) {
            for (int i = 0; i < v.n; i++) {
                char name[96];
                snprintf(name, sizeof name, "%s%s", v.name[i], MET_PER_TOKEN_SUFFIX);
                gb_set_counter(st, name, v.value[i] / tokens, GB_COUNTER_PLAIN);
            }
            if (v.any_multiplexed)
                gb_set_counter(st, MET_COUNTERS_MULTIPLEXED, 1, GB_COUNTER_PLAIN);
        }
    }
}

bench_status fam_binding_check(fam_env *e, int threads, char *cpus, size_t cpus_n, char *isa,
                               size_t isa_n, bench_error *err)
{
    pin_plan plan;
    bench_status st = pin_plan_make(e->topo, threads, e->binding, e->oversubscribe, &plan, err);
    if (st != BENCH_OK)
        return st;
    const itera_model *m;
    if ((st = fam_model(e, ITERA_QUANT_REFERENCE, &m, err)) != BENCH_OK)
        return st;
    pin_ctx *pc = malloc(sizeof *pc);
    if (!pc)
        return bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
    pin_ctx_init(pc, &plan);
    itera_ctx *ctx = NULL;
    char msg[sizeof err->msg];
    if (make_ctx(m, ITERA_KERNEL_REFERENCE, threads, 1, pc, &ctx, msg, sizeof msg) != 0) {
        free(pc);
        return bench_fail(err, BENCH_ERR_SYSTEM, "%s", msg);
    }
    pin_ctx_cpus(pc, cpus, cpus_n);
    snprintf(isa, isa_n, "%s", itera_ctx_isa(ctx));
    itera_ctx_free(ctx);
    free(pc);
    restore_caller();
    return BENCH_OK;
}
