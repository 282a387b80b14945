/*
 * pool.h: a persistent worker pool. Threads are created once; each parallel region
 * runs fn(ith, nth, arg) on every thread (the caller is ith = 0) and returns when all
 * are done. Work is split by the callee as (ith, nth) slices. Idle workers spin
 * briefly, then sleep, so an oversubscribed machine still makes progress.
 * Not reentrant: one pool_run at a time per pool, and never from inside a task.
 */
#ifndef ITERA_POOL_H
#define ITERA_POOL_H

#include "itera.h"

typedef struct itera_pool itera_pool;
typedef void (*pool_task_fn)(int ith, int nth, void *arg);
typedef void (*pool_start_fn)(int ith, void *user);

/* Creates nthreads-1 workers (1 <= nthreads <= ITERA_MAX_THREADS). on_start (may be
 * NULL) runs once on each thread, the caller's (ith 0) included, before any task.
 * Returns NULL with err filled on failure. */
itera_pool *pool_create(int nthreads, pool_start_fn on_start, void *user, itera_error *err);
void pool_destroy(itera_pool *p);
int pool_size(const itera_pool *p);
/* Runs fn on all threads; a NULL pool runs fn(0, 1, arg) on the caller. */
void pool_run(itera_pool *p, pool_task_fn fn, void *arg);

/* The idle waiting of every thread since pool_create (itera.h: itera_pool_waits). A NULL
 * pool waits never. */
void pool_waits(const itera_pool *p, itera_pool_waits *out);

/* [*i0, *i1): the ith of nth near-equal slices of [0, n). */
static inline void pool_slice(int n, int ith, int nth, int *i0, int *i1)
{
    int per = n / nth, rem = n % nth;
    *i0 = ith * per + (ith < rem ? ith : rem);
    *i1 = *i0 + per + (ith < rem ? 1 : 0);
}

#endif
