/*
 * peak.c: the machine-peak probe (see peak.h): picks the loops for the ISA, calibrates an
 * iteration count, and times them on one thread and on one thread per available core at
 * once, from a common start (best of 5).
 */
#include "peak.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "peak_impl.h"
#include "status.h"

_Atomic float peak_sink;

#define PEAK_TARGET_S 0.01 /* each timed run: 10 ms, long against a scheduler tick */
#define PEAK_RUNS 5         /* best of (a shared machine has noisy neighbours) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- scalar references (baseline x86-64 build) ---- */

/* 12 independent chains acc = acc * a + b (a multiply and an add: 2 FLOP each), kept in
 * registers and opaque to the compiler so it neither vectorizes nor folds them. */
double peak_fp32_scalar(int64_t iters)
{
    float c0 = 0.0f, c1 = 0.1f, c2 = 0.2f, c3 = 0.3f, c4 = 0.4f, c5 = 0.5f, c6 = 0.6f, c7 = 0.7f,
          c8 = 0.8f, c9 = 0.9f, c10 = 1.0f, c11 = 1.1f;
    const float a = 0.999999f, b = 1e-6f;
    for (int64_t i = 0; i < iters; i++) {
        c0 = c0 * a + b;
        c1 = c1 * a + b;
        c2 = c2 * a + b;
        c3 = c3 * a + b;
        c4 = c4 * a + b;
        c5 = c5 * a + b;
        c6 = c6 * a + b;
        c7 = c7 * a + b;
        c8 = c8 * a + b;
        c9 = c9 * a + b;
        c10 = c10 * a + b;
        c11 = c11 * a + b;
        __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));
        __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
    }
    peak_keep(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    return (double)iters * 12 * 2;
}

/* 4 chains of 4 u8 x s8 products each (one s32 lane of a dot product), in registers; the
 * 16 products are all different, so the compiler cannot share any: 16 MAC per round. */
double peak_int8_scalar(int64_t iters)
{
    uint32_t c0 = 0, c1 = 1, c2 = 2, c3 = 3; /* unsigned: long runs wrap, defined */
    int32_t a0 = 3, a1 = 5, a2 = 7, a3 = 9;    /* u8 values */
    int32_t b0 = -3, b1 = 5, b2 = -7, b3 = 11; /* s8 values */
    __asm__ volatile("" : "+r"(b0), "+r"(b1), "+r"(b2), "+r"(b3)); /* real multiplies, not shifts */
    for (int64_t i = 0; i < iters; i++) {
        c0 += (uint32_t)(a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3);
        c1 += (uint32_t)(a1 * b0 + a2 * b1 + a3 * b2 + a0 * b3);
        c2 += (uint32_t)(a2 * b0 + a3 * b1 + a0 * b2 + a1 * b3);
        c3 += (uint32_t)(a3 * b0 + a0 * b1 + a1 * b2 + a2 * b3);
        __asm__ volatile("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3)); /* products stay in the loop */
    }
    peak_keep((float)(c0 + c1 + c2 + c3));
    return (double)iters * 4 * 4;
}

/* ---- picking the loops: a variant table, the engine's one selection rule ---- */

typedef struct loops {
    itera_variant v;            /* isa; name: the int8 loop's path */
    peak_loop_fn fp32, int8;
    const char *fp32_path;
} loops;

static const loops loops_scalar = {{ITERA_ISA_SCALAR, "scalar"}, peak_fp32_scalar, peak_int8_scalar, "scalar"};
static const loops loops_avx2 = {{ITERA_ISA_AVX2, "avx2"}, peak_fp32_avx2, peak_int8_avx2, "avx2"};
static const loops loops_avx512 = {{ITERA_ISA_AVX512, "avx512"}, peak_fp32_avx512, peak_int8_avx512, "avx512"};
static const loops loops_vnni = {{ITERA_ISA_AVX512VNNI, "avx512vnni"}, peak_fp32_avx512, peak_int8_vnni, "avx512"};
static const itera_variant *const loop_rows[] = {&loops_scalar.v, &loops_avx2.v, &loops_avx512.v, &loops_vnni.v};

static int pick(itera_isa isa, loops *l)
{
    if (isa < 0 || isa >= ITERA_ISA_COUNT)
        return -1;
    *l = *(const loops *)loop_rows[itera_isa_pick(loop_rows, (int)(sizeof loop_rows / sizeof loop_rows[0]), isa)];
    return 0;
}

/* ---- timing on N threads from a common start ---- */

typedef struct job {
    peak_loop_fn fn;
    int64_t iters;
    int threads;
    const pin_plan *plan;
    pthread_mutex_t gate_mu; /* workers wait here until every thread exists */
    pthread_cond_t gate_cv;
    int gate;                /* 0 wait, 1 go, -1 give up */
    pthread_barrier_t start, done;
    /* per thread, per run: the work done and its own start and end (CLOCK_MONOTONIC) */
    double ops[PIN_MAX_WORKERS], t0[PIN_MAX_WORKERS], t1[PIN_MAX_WORKERS];
    bool failed[PIN_MAX_WORKERS];
    char err[PIN_MAX_WORKERS][160];
} job;

typedef struct worker_arg {
    job *j;
    int ith;
} worker_arg;

/* One timed run on thread ith: every thread reads the clock itself after the start
 * barrier, so a thread that runs before another has even started still counts inside
 * [min t0, max t1]. */
static void run_once(job *j, int ith)
{
    pthread_barrier_wait(&j->start);
    j->t0[ith] = now_s();
    j->ops[ith] = j->failed[ith] ? 0 : j->fn(j->iters);
    j->t1[ith] = now_s();
    pthread_barrier_wait(&j->done);
}

static void *worker(void *p)
{
    worker_arg *w = p;
    job *j = w->j;
    pthread_mutex_lock(&j->gate_mu);
    while (j->gate == 0)
        pthread_cond_wait(&j->gate_cv, &j->gate_mu);
    int gate = j->gate;
    pthread_mutex_unlock(&j->gate_mu);
    if (gate < 0)
        return NULL;
    bench_error be;
    if (j->plan && pin_bind_self(j->plan, w->ith, &be) != BENCH_OK) {
        bench_fail_msg(j->err[w->ith], sizeof j->err[w->ith], "%s", be.msg);
        j->failed[w->ith] = true;
    }
    for (int r = 0; r < PEAK_RUNS; r++)
        run_once(j, w->ith);
    return NULL;
}

static void open_gate(job *j, int value)
{
    pthread_mutex_lock(&j->gate_mu);
    j->gate = value;
    pthread_cond_broadcast(&j->gate_cv);
    pthread_mutex_unlock(&j->gate_mu);
}

/* PEAK_RUNS runs of fn(iters) on j->threads threads at once (the caller is thread 0,
 * already bound by peak_measure). *all: the best of the runs' sum of work over
 * [earliest start, latest end]; *one: the best rate any single thread had over its own
 * run (raised, never lowered: it starts as the caller's value). */
static bench_status timed(job *j, peak_loop_fn fn, int64_t iters, double *all, double *one,
                          bench_error *e)
{
    j->fn = fn;
    j->iters = iters;
    j->gate = 0;
    memset(j->failed, 0, sizeof j->failed);
    pthread_t th[PIN_MAX_WORKERS];
    worker_arg wa[PIN_MAX_WORKERS];
    pthread_barrier_init(&j->start, NULL, (unsigned)j->threads);
    pthread_barrier_init(&j->done, NULL, (unsigned)j->threads);
    for (int i = 1; i < j->threads; i++) {
        wa[i] = (worker_arg){j, i};
        if (pthread_create(&th[i], NULL, worker, &wa[i]) != 0) {
            open_gate(j, -1);
            for (int k = 1; k < i; k++)
                pthread_join(th[k], NULL);
            pthread_barrier_destroy(&j->start);
            pthread_barrier_destroy(&j->done);
            return bench_fail(e, BENCH_ERR_SYSTEM, "peak: cannot create probe thread %d of %d", i,
                              j->threads);
        }
    }
    open_gate(j, 1);
    double best = 0;
    for (int r = 0; r < PEAK_RUNS; r++) {
        run_once(j, 0);
        double lo = j->t0[0], hi = j->t1[0], ops = 0;
        for (int i = 0; i < j->threads; i++) {
            ops += j->ops[i];
            lo = j->t0[i] < lo ? j->t0[i] : lo;
            hi = j->t1[i] > hi ? j->t1[i] : hi;
            double d = j->t1[i] - j->t0[i];
            if (!j->failed[i] && d > 0 && j->ops[i] / d > *one)
                *one = j->ops[i] / d;
        }
        if (hi > lo && ops / (hi - lo) > best)
            best = ops / (hi - lo);
    }
    for (int i = 1; i < j->threads; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&j->start);
    pthread_barrier_destroy(&j->done);
    for (int i = 1; i < j->threads; i++)
        if (j->failed[i])
            return bench_fail(e, BENCH_ERR_SYSTEM, "%s", j->err[i]);
    *all = best;
    return BENCH_OK;
}

/* Iterations that take about PEAK_TARGET_S on one thread (doubling from a small count). */
static int64_t calibrate(peak_loop_fn fn)
{
    int64_t iters = 1000;
    for (;;) {
        double t0 = now_s();
        fn(iters);
        double dt = now_s() - t0;
        if (dt >= PEAK_TARGET_S / 4 || iters > ((int64_t)1 << 40))
            return dt > 0 ? (int64_t)((double)iters * PEAK_TARGET_S / dt) + 1 : iters;
        iters *= 2;
    }
}

/* CPUs this thread may run on (its affinity), at least 1. */
static int cpus_allowed(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int c = CPU_COUNT(&set);
    return c > 0 ? c : 1;
}

bench_status peak_measure(itera_isa isa, int threads, const pin_plan *plan, peak_result *out,
                          bench_error *e)
{
    loops l;
    if (pick(isa, &l) != 0)
        return bench_fail(e, BENCH_ERR_INPUT, "peak: bad ISA %d", (int)isa);
    if (threads < 1 || threads > PIN_MAX_WORKERS)
        return bench_fail(e, BENCH_ERR_INPUT, "peak: %d threads asked; expected 1..%d", threads,
                          PIN_MAX_WORKERS);
    if (plan && plan->workers < threads)
        return bench_fail(e, BENCH_ERR_INPUT, "peak: the pinning plan has %d workers, the probe "
                          "wants %d threads", plan->workers, threads);

    double t_start = now_s();
    /* One probe thread per core there is: a plan's slots (its first `slots` workers are on
     * distinct cores, emulated plans included), else the CPUs this thread may use. */
    int cores = plan && plan->mode != PIN_BIND_NONE ? plan->slots : cpus_allowed();
    if (plan && plan->mode == PIN_BIND_NONE && plan->slots < cores)
        cores = plan->slots;
    int used = threads < cores ? threads : cores;
    if (used < 1)
        used = 1;
    pin_affinity saved;
    bool restore = plan && plan->mode != PIN_BIND_NONE;
    if (restore && pin_save_self(&saved) != 0)
        return bench_fail(e, BENCH_ERR_SYSTEM, "peak: cannot read this thread's affinity");
    job j; /* gate, barriers and per-thread results */
    memset(&j, 0, sizeof j);
    j.plan = plan;
    pthread_mutex_init(&j.gate_mu, NULL);
    pthread_cond_init(&j.gate_cv, NULL);
    bench_status rc = BENCH_OK;
    if (plan && (rc = pin_bind_self(plan, 0, e)) != BENCH_OK)
        goto out_restore;

    peak_result r;
    memset(&r, 0, sizeof r);
    r.isa = isa;
    r.fp32_path = l.fp32_path;
    r.int8_path = l.v.name;
    r.threads = threads;
    r.threads_used = used;
    r.cores_available = cores;
    int64_t it_fp32 = calibrate(l.fp32), it_int8 = calibrate(l.int8);
    double all, fp32_one = 0, int8_one = 0;
    j.threads = 1;
    if ((rc = timed(&j, l.fp32, it_fp32, &all, &fp32_one, e)) != BENCH_OK)
        goto out_restore;
    r.fp32_gflops_all = all * 1e-9;
    if ((rc = timed(&j, l.int8, it_int8, &all, &int8_one, e)) != BENCH_OK)
        goto out_restore;
    r.int8_gmacs_all = all * 1e-9;
    if (used > 1) {
        j.threads = used;
        if ((rc = timed(&j, l.fp32, it_fp32, &all, &fp32_one, e)) != BENCH_OK)
            goto out_restore;
        r.fp32_gflops_all = all * 1e-9;
        if ((rc = timed(&j, l.int8, it_int8, &all, &int8_one, e)) != BENCH_OK)
            goto out_restore;
        r.int8_gmacs_all = all * 1e-9;
    }
    /* The per-core figure is the best any one thread sustained, alone or beside the
     * others; the all-cores figure can then never exceed used x per-core. */
    r.fp32_gflops_core = fp32_one * 1e-9;
    r.int8_gmacs_core = int8_one * 1e-9;
    r.seconds = now_s() - t_start;
    *out = r;

out_restore:
    pthread_cond_destroy(&j.gate_cv);
    pthread_mutex_destroy(&j.gate_mu);
    if (restore && pin_restore_self(&saved) != 0 && rc == BENCH_OK)
        rc = bench_fail(e, BENCH_ERR_SYSTEM, "peak: cannot restore this thread's affinity");
    return rc;
}

double peak_at(const peak_result *p, bool int8, int cores)
{
    if (!p || cores < 1)
        return 0;
    double core = int8 ? 2 * p->int8_gmacs_core : p->fp32_gflops_core;
    double all = int8 ? 2 * p->int8_gmacs_all : p->fp32_gflops_all;
    if (cores == 1)
        return core;
    if (cores >= p->threads_used)
        return all > 0 ? all : core * p->threads_used;
    double scaled = core * cores;
    return all > 0 && all < scaled ? all : scaled;
}

const char *peak_describe(const peak_result *r, char *buf, size_t n)
{
    char asked[64] = "";
    if (r->threads != r->threads_used)
        snprintf(asked, sizeof asked, "; %d thread%s asked", r->threads, r->threads == 1 ? "" : "s");
    snprintf(buf, n,
             "fp32 %s: %.1f GFLOP/s per core, %.1f GFLOP/s on %d core%s; "
             "int8 %s: %.1f G MAC/s per core, %.1f G MAC/s on %d core%s "
             "(one thread per core, from a common start, best of %d runs of %.0f ms%s; probe %.0f ms)",
             r->fp32_path, r->fp32_gflops_core, r->fp32_gflops_all, r->threads_used,
             r->threads_used == 1 ? "" : "s", r->int8_path, r->int8_gmacs_core, r->int8_gmacs_all,
             r->threads_used, r->threads_used == 1 ? "" : "s", PEAK_RUNS, PEAK_TARGET_S * 1e3, asked,
             r->seconds * 1e3);
    return buf;
}
