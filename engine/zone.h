/*
 * zone.h: named timing zones around every op of the forward and decode paths.
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

/* Zones; zone_parent() gives the nesting (every op nests in ZONE_FORWARD or ZONE_DECODE). */
typedef enum itera_zone {
    ZONE_FORWARD = 0,   /* one whole prefill */
    ZONE_DECODE,        /* one whole decode step */
    ZONE_EMBEDDING,
    ZONE_LN_SSM,        /* layer norm before each SSM block */
    ZONE_IN_PROJ,
    ZONE_CONV,          /* causal depthwise conv + SiLU */
    ZONE_DELTA_PROJ,    /* delta projection + softplus + mean */
    ZONE_SCAN,          /* the selective scan; parent of the four below */
    ZONE_SCAN_STATE,    /* state transition h = exp(ΔA)⊙h + Δ·Bu */
    ZONE_SCAN_INPUT,    /* input projection B·u */
    ZONE_SCAN_OUTPUT,   /* output projection C·h */
    ZONE_SCAN_SKIP,     /* skip connection D⊙u */
    ZONE_GATING,        /* y ⊙ silu(g) */
    ZONE_OUT_PROJ,
    ZONE_LN_FFN,        /* layer norm before each FFN / MoE block */
    ZONE_ROUTER,
    ZONE_EXPERTS,
    ZONE_FFN,
    ZONE_LN_FINAL,
    ZONE_LM_HEAD,
    ZONE_COUNT
} itera_zone;

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
    zone_acc acc[ITERA_MAX_THREADS][ZONE_COUNT];
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

static inline void zone_end(itera_prof *p, int ith, itera_zone z, uint64_t t0)
{
    if (__builtin_expect(p != NULL && p->enabled, 0) && t0 != 0) { /* t0 0: began while off */
        uint64_t t1 = zone_ticks(), d = t1 - t0;
        zone_acc *a = &p->acc[ith][z];
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
static inline void zone_merge(itera_prof *p, int ith, itera_zone z, const zone_acc *a)
{
    zone_acc *d = &p->acc[ith][z];
    d->count += a->count;
    d->total += a->total;
    if (a->min < d->min) d->min = a->min;
    if (a->max > d->max) d->max = a->max;
}

static inline bool zone_on(const itera_prof *p)
{
    return __builtin_expect(p != NULL && p->enabled, 0);
}

/* Implemented in zone.c. */
itera_prof *prof_create(int nthreads, itera_error *err);  /* calibrates; starts disabled */
void prof_free(itera_prof *p);
void prof_reset(itera_prof *p);                             /* zero accumulators and events */
const char *zone_name(itera_zone z);
itera_zone zone_parent(itera_zone z);                       /* ZONE_COUNT for a root */
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
bool prof_zone_total(const itera_prof *p, itera_zone z, uint64_t *count, double *total_ticks,
                     double *min_ticks, double *max_ticks);

#endif
