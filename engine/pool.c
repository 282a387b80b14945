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
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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
};

typedef struct worker_arg {
    itera_pool *p;
    int ith;
} worker_arg;

static void wait_for_gen(itera_pool *p, unsigned seen)
{
    for (int i = 0; i < p->spin; i++) {
        if (atomic_load(&p->gen) != seen || atomic_load(&p->stop)) return;
        if (i >= p->spin_yield) sched_yield();
        else cpu_relax();
    }
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
        wait_for_gen(p, seen);
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
    itera_pool *p = calloc(1, sizeof *p);
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
    for (int i = 0; i < p->spin; i++) {
        if (atomic_load(&p->pending) == 0) return;
        if (i >= p->spin_yield) sched_yield();
        else cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_sleeping, 1);
    while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->cv_done, &p->mu);
    atomic_store(&p->caller_sleeping, 0);
    pthread_mutex_unlock(&p->mu);
}
