/*
 * zone.h: named timing zones around every op of the forward and decode paths. Generic:
 * a profiler is created with the names of its zones (the model's op table, ops.h), and
 * zones are their indexes.
 *
 * Timestamps come from the TSC, calibrated against CLOCK_MONOTONIC_RAW when a profiler is
 * created. Each thread accumulates (count, total, min, max) per zone in its own row of
 * the profiler: no locks, no allocation. Compiled in always; when the profiler is off a
 * zone costs one predictable branch. Trace events (one forward, for Perfetto) go to a
 * per-thread buffer allocated when tracing is switched on.
 */
#ifndef ITERA_ZONE_H
#define ITERA_ZONE_H

#include <stdbool.h>
#include <stdint.h>
#include "itera.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

typedef struct zone_acc {
    uint64_t count;
    uint64_t total; /* ticks */
    uint64_t min;   /* ticks; UINT64_MAX when count == 0 */
    uint64_t max;
} zone_acc;

typedef struct zone_event {
    uint32_t zone;
    uint64_t t0, t1; /* ticks */
} zone_event;

typedef struct itera_prof itera_prof;
struct itera_prof {
    bool enabled;                /* accumulate */
    bool tracing;                /* also record events (needs trace buffers) */
    double ns_per_tick;          /* calibration */
    uint64_t t_origin;           /* ticks at creation (trace time zero) */
    double overhead_ticks;       /* measured time an empty zone reports (its own timestamps'
                                  * cost), subtracted from every zone's total in reports */
    double pair_ticks;           /* measured full cost of one begin/end pair as seen from
                                  * outside (what a zone adds to its enclosing zone) */
    int nthreads;
    int n_zones;                 /* zones 0 .. n_zones-1, named names[z] */
    const char *const *names;
    int stride;                  /* accumulators per thread row: n_zones, padded to 64 bytes */
    zone_acc *acc;               /* [nthreads][stride]: each thread writes only its own row */
    zone_event *events[ITERA_MAX_THREADS]; /* trace buffers, events_cap each */
    uint32_t n_events[ITERA_MAX_THREADS];
    uint32_t events_cap;
    uint32_t dropped[ITERA_MAX_THREADS];    /* events that did not fit */
};

static inline uint64_t zone_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    extern uint64_t zone_ticks_fallback(void);
    return zone_ticks_fallback();
#endif
}

/* t0 for zone_end, or 0 when off. */
static inline uint64_t zone_begin(const itera_prof *p)
{
    if (__builtin_expect(p != NULL && p->enabled, 0))
        return zone_ticks();
    return 0;
}

/* Thread ith's accumulator of zone z. */
static inline zone_acc *prof_acc(const itera_prof *p, int ith, int z)
{
    return &p->acc[(size_t)ith * (size_t)p->stride + (size_t)z];
}

static inline void zone_end(itera_prof *p, int ith, int z, uint64_t t0)
{
    if (__builtin_expect(p != NULL && p->enabled, 0) && t0 != 0) { /* t0 0: began while off */
        uint64_t t1 = zone_ticks(), d = t1 - t0;
        zone_acc *a = prof_acc(p, ith, z);
        a->count++;
        a->total += d;
        if (d < a->min) a->min = d;
        if (d > a->max) a->max = d;
        if (p->tracing) {
            if (p->n_events[ith] < p->events_cap) {
                zone_event *e = &p->events[ith][p->n_events[ith]++];
                e->zone = (uint32_t)z;
                e->t0 = t0;
                e->t1 = t1;
            } else {
                p->dropped[ith]++;
            }
        }
    }
}

/* One sample of d ticks into an accumulator (no trace event). */
static inline void zone_acc_add(zone_acc *a, uint64_t d)
{
    a->count++;
    a->total += d;
    if (d < a->min) a->min = d;
    if (d > a->max) a->max = d;
}

/* Adds a locally gathered accumulator into thread ith's row (for zones timed in pieces,
 * e.g. the sequential scan's per-token phases; these give no trace events). */
static inline void zone_merge(itera_prof *p, int ith, int z, const zone_acc *a)
{
    zone_acc *d = prof_acc(p, ith, z);
    d->count += a->count;
    d->total += a->total;
    if (a->min < d->min) d->min = a->min;
    if (a->max > d->max) d->max = a->max;
}

static inline bool zone_on(const itera_prof *p)
{
    return __builtin_expect(p != NULL && p->enabled, 0);
}

/* Implemented in zone.c. A profiler of nthreads threads timing n_zones zones named
 * names[0..n_zones) (the array must outlive it); calibrates; starts disabled. */
itera_prof *prof_create(int nthreads, const char *const *names, int n_zones, itera_error *err);
void prof_free(itera_prof *p);
void prof_reset(itera_prof *p);                             /* zero accumulators and events */
/* Tracing on (allocates per-thread event buffers of ZONE_TRACE_CAP events on first use)
 * or off. Events are kept until prof_reset. */
#define ZONE_TRACE_CAP (1u << 16)
itera_status prof_trace(itera_prof *p, bool on, itera_error *err);
/* Chrome trace-event JSON of the recorded events ({"traceEvents": [...]}, ph "X", ts and
 * dur in µs from the last reset, pid 1, tid = worker index), written to path atomically
 * (itera_write_file). */
itera_status prof_write_trace(const itera_prof *p, const char *path, itera_error *err);
/* Totals of zone z over all threads: count, total/min/max in ticks less the measured
 * overhead (overhead_ticks per call). false when the zone has no calls. */
bool prof_zone_total(const itera_prof *p, int z, uint64_t *count, double *total_ticks,
                     double *min_ticks, double *max_ticks);

#endif
