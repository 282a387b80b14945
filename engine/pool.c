/*
 * pool.c: persistent worker pool (see pool.h).
 *
 * A run publishes (fn, arg) and bumps a generation counter; workers spin on it for a
 * while (parallel regions of a forward come microseconds apart), then sleep on a
 * condition variable. Completion is a countdown the caller spins on, then sleeps on.
 * Sleep/wake uses the Dekker pattern with sequentially consistent atomics: a waiter
 * announces itself (sleepers++) before re-checking the condition under the mutex, and
 * the signaller changes the condition before checking for sleepers, so one of the two
 * always sees the other.
 *
 * Idle waiting is counted (pool_waits, itera.h itera_pool_waits): a wait whose condition
 * holds at its first check costs nothing extra; one that spins is counted by its own
 * thread into its slot: the pause phase as its checks x the measured cost of one check
 * (at most its wall time in TSC ticks: a thread preempted while it pauses used no CPU
 * meanwhile), the yield phase in thread CPU time (a yield may give the CPU away).
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Checks before sleeping, when every thread can have a CPU of its own: pauses first (a
 * pause is ~40-140 cycles), then yields; tens of µs in all. */
#define POOL_SPIN 20000
#define POOL_SPIN_YIELD 2000
/* With more threads than online CPUs (an emulated platform) a waiting thread yields at
 * every check instead of pausing: the thread it waits for needs its CPU. */
#define POOL_SPIN_OVERSUBSCRIBED 200

/* Ticks for the pause phase of a wait: the TSC where there is one, else CLOCK_MONOTONIC ns. */
static inline uint64_t pool_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static uint64_t clock_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One thread's idle waiting; written only by its own thread (relaxed load + store), read
 * by anyone. A cache line each, so the counts never share one. */
typedef struct pool_wait_slot {
    atomic_uint_least64_t pause_ticks; /* spinning with pause, in pool_ticks() */
    atomic_uint_least64_t yield_ns;    /* spinning with sched_yield, thread CPU ns */
    atomic_uint_least64_t waits;       /* waits that spun at all */
    char pad[64 - 3 * sizeof(atomic_uint_least64_t)];
} pool_wait_slot;

/* The cost of one pausing check, in pool_ticks(): the fastest of a few timed runs of the
 * same loop, measured once per process. */
static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static double check_ticks;

static void measure_check(void)
{
    atomic_uint flag = 0;
    double best = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = pool_ticks();
        for (int i = 0; i < 256; i++) {
            cpu_relax();
            if (atomic_load(&flag) != 0) break;
        }
        double d = (double)(pool_ticks() - t0) / 256.0;
        if (r == 0 || d < best) best = d;
    }
    check_ticks = best > 0 ? best : 1;
}

static inline void slot_add(atomic_uint_least64_t *a, uint64_t d)
{
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + d, memory_order_relaxed);
}

struct itera_pool {
    int n;
    int spin;             /* checks before sleeping */
    int spin_yield;       /* from this check on, yield instead of pausing */
    pthread_t threads[ITERA_MAX_THREADS];
    pool_start_fn on_start;
    void *user;

    pool_task_fn fn;
    void *arg;
    atomic_uint gen;      /* bumped once per run */
    atomic_int pending;   /* workers still running the current task */
    atomic_int sleepers;  /* workers waiting on cv_work */
    atomic_int caller_sleeping;
    atomic_bool stop;
    atomic_int started;   /* workers that ran on_start */

    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;

    uint64_t ticks0, mono0;  /* at creation: converts pause ticks to ns (pool_waits) */
    _Alignas(64) pool_wait_slot waits[ITERA_MAX_THREADS];
};

typedef struct worker_arg {
    itera_pool *p;
    int ith;
} worker_arg;

/* What a thread waits for: a new generation (or stop) for workers, the end of the
 * current task's countdown for the caller. */
static inline bool gen_moved(itera_pool *p, unsigned seen)
{
    return atomic_load(&p->gen) != seen || atomic_load(&p->stop);
}

static inline bool all_done(itera_pool *p, unsigned seen)
{
    (void)seen;
    return atomic_load(&p->pending) == 0;
}

/* Spins until done(p, seen): p->spin checks, pausing before check spin_yield and
 * yielding from there; true when done, false when the spin ran out (then sleep). A wait
 * that spins is counted in thread ith's slot (see the file comment). */
static inline bool spin_wait(itera_pool *p, int ith, bool (*done)(itera_pool *, unsigned),
                             unsigned seen)
{
    if (done(p, seen)) return true;
    pool_wait_slot *ws = &p->waits[ith];
    int i = 0;
    bool ok = false;
    if (p->spin_yield > 0) {
        uint64_t t0 = pool_ticks();
        for (; i < p->spin_yield && i < p->spin && !ok; i++) {
            cpu_relax();
            ok = done(p, seen);
        }
        double wall = (double)(pool_ticks() - t0), cpu = (double)i * check_ticks;
        slot_add(&ws->pause_ticks, (uint64_t)(cpu < wall ? cpu : wall));
    }
    if (!ok && i < p->spin) {
        uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (; i < p->spin && !ok; i++) {
            sched_yield();
            ok = done(p, seen);
        }
        slot_add(&ws->yield_ns, clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
    }
    slot_add(&ws->waits, 1);
    return ok;
}

static void wait_for_gen(itera_pool *p, int ith, unsigned seen)
{
    if (spin_wait(p, ith, gen_moved, seen)) return;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cv_work, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *v)
{
    worker_arg *wa = v;
    itera_pool *p = wa->p;
    int ith = wa->ith;
    free(wa);
    if (p->on_start) p->on_start(ith, p->user);
    atomic_fetch_add(&p->started, 1);
    unsigned seen = 0;
    for (;;) {
        wait_for_gen(p, ith, seen);
        if (atomic_load(&p->stop)) break;
        seen = atomic_load(&p->gen);
        p->fn(ith, p->n, p->arg);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

itera_pool *pool_create(int nthreads, pool_start_fn on_start, void *user, itera_error *err)
{
    if (nthreads < 1 || nthreads > ITERA_MAX_THREADS) {
        itera_fail(err, ITERA_ERR_ARG, "threads: %d is out of range (expected 1..%d)", nthreads,
                   ITERA_MAX_THREADS);
        return NULL;
    }
    itera_pool *p = aligned_alloc(_Alignof(itera_pool), sizeof *p); /* the wait slots' lines */
    if (p) memset(p, 0, sizeof *p);
    if (!p) {
        itera_fail(err, ITERA_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    p->n = nthreads;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    bool over = online > 0 && nthreads > online;
    p->spin = over ? POOL_SPIN_OVERSUBSCRIBED : POOL_SPIN;
    p->spin_yield = over ? 0 : POOL_SPIN_YIELD;
    p->on_start = on_start;
    p->user = user;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    pthread_once(&check_once, measure_check);
    p->ticks0 = pool_ticks();
    p->mono0 = clock_ns(CLOCK_MONOTONIC);
    if (on_start) on_start(0, user);
    for (int i = 1; i < nthreads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        int rc = wa ? 0 : ENOMEM;
        if (wa) {
            wa->p = p;
            wa->ith = i;
            rc = pthread_create(&p->threads[i], NULL, worker_main, wa);
            if (rc) free(wa);
        }
        if (rc) {
            itera_fail(err, ITERA_ERR_NOMEM, "thread pool: cannot start worker %d of %d: %s", i,
                       nthreads, strerror(rc));
            p->n = i; /* destroy joins the ones that started */
            pool_destroy(p);
            return NULL;
        }
    }
    /* Wait until every worker ran its start callback (pinning takes effect before work). */
    while (atomic_load(&p->started) < nthreads - 1) sched_yield();
    return p;
}

void pool_destroy(itera_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p);
}

int pool_size(const itera_pool *p) { return p ? p->n : 1; }

void pool_run(itera_pool *p, pool_task_fn fn, void *arg)
{
    if (!p || p->n == 1) {
        fn(0, 1, arg);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
    }
    fn(0, p->n, arg);
    if (spin_wait(p, 0, all_done, 0)) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_sleeping, 1);
    while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->cv_done, &p->mu);
    atomic_store(&p->caller_sleeping, 0);
    pthread_mutex_unlock(&p->mu);
}

void pool_waits(const itera_pool *p, itera_pool_waits *out)
{
    memset(out, 0, sizeof *out);
    if (!p) return;
    uint64_t ticks = 0, yield_ns = 0, waits = 0;
    for (int i = 0; i < p->n; i++) {
        ticks += atomic_load_explicit(&p->waits[i].pause_ticks, memory_order_relaxed);
        yield_ns += atomic_load_explicit(&p->waits[i].yield_ns, memory_order_relaxed);
        waits += atomic_load_explicit(&p->waits[i].waits, memory_order_relaxed);
    }
    /* ns per tick over the pool's lifetime (1 where ticks are ns already) */
    double ns_per_tick = 1.0;
#if defined(__x86_64__) || defined(__i386__)
    uint64_t dt = pool_ticks() - p->ticks0, dn = clock_ns(CLOCK_MONOTONIC) - p->mono0;
    ns_per_tick = dt > 0 && dn > 0 ? (double)dn / (double)dt : 0.0;
#endif
    out->spin_ns = (double)ticks * ns_per_tick + (double)yield_ns;
    out->waits = waits;
}
