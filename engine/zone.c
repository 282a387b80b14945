/*
 * zone.c: the zone profiler (see zone.h): creation with TSC calibration and a measured
 * per-zone overhead, trace buffers and the Chrome trace-event writer. Generic: the zones'
 * names are given at creation (the model's are in ops.h; the public itera_prof_* API on a
 * context is in forward.c, which owns the context).
 *
 * The TSC is assumed invariant (constant_tsc/nonstop_tsc, true on every x86-64 of the
 * last decade); its rate is measured once per process against CLOCK_MONOTONIC_RAW over
 * a ~5 ms busy wait. The overhead of a zone is measured once per process too, as the
 * smallest mean over 10 batches of 1,000 empty zones:
 *   overhead_ticks: the time an empty zone reports (subtracted from each zone's total);
 *   pair_ticks:     the full cost of a begin/end pair seen from outside.
 */
#include "zone.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"

#if !(defined(__x86_64__) || defined(__i386__))
uint64_t zone_ticks_fallback(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* ---- calibration, once per process ---- */

static pthread_once_t calib_once = PTHREAD_ONCE_INIT;
static double calib_ns_per_tick = 1.0, calib_overhead = 0.0, calib_pair = 0.0;

static double raw_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void calibrate(void)
{
    /* Rate: ticks over ≥ 5 ms of CLOCK_MONOTONIC_RAW, each end bracketed tightly. */
    double n0 = raw_ns();
    uint64_t k0 = zone_ticks();
    double n1;
    uint64_t k1;
    do {
        n1 = raw_ns();
        k1 = zone_ticks();
    } while (n1 - n0 < 5e6);
    if (k1 > k0) calib_ns_per_tick = (n1 - n0) / (double)(k1 - k0);

    /* Overhead: empty zones on a private, enabled profiler of one zone. */
    static const char *const one[] = {"calibration"};
    zone_acc acc;
    itera_prof *p = calloc(1, sizeof *p);
    if (!p) return;
    p->enabled = true;
    p->nthreads = 1;
    p->n_zones = 1;
    p->stride = 1;
    p->names = one;
    p->acc = &acc;
    double best_in = 1e30, best_pair = 1e30;
    enum { BATCHES = 10, PER = 1000 };
    for (int b = 0; b < BATCHES; b++) {
        acc = (zone_acc){0, 0, UINT64_MAX, 0};
        uint64_t s0 = zone_ticks();
        for (int i = 0; i < PER; i++) {
            uint64_t t0 = zone_begin(p);
            zone_end(p, 0, 0, t0);
        }
        uint64_t s1 = zone_ticks();
        double in = (double)acc.total / PER;
        double pair = (double)(s1 - s0) / PER;
        if (in < best_in) best_in = in;
        if (pair < best_pair) best_pair = pair;
    }
    calib_overhead = best_in;
    calib_pair = best_pair;
    free(p);
}

/* ---- lifecycle ---- */

static void acc_clear(itera_prof *p)
{
    for (int i = 0; i < p->nthreads * p->stride; i++) p->acc[i] = (zone_acc){0, 0, UINT64_MAX, 0};
}

itera_prof *prof_create(int nthreads, const char *const *names, int n_zones, itera_error *err)
{
    if (nthreads < 1 || nthreads > ITERA_MAX_THREADS) {
        itera_fail(err, ITERA_ERR_ARG, "profiler: threads %d out of range (expected 1..%d)",
                   nthreads, ITERA_MAX_THREADS);
        return NULL;
    }
    if (n_zones < 1 || !names) {
        itera_fail(err, ITERA_ERR_ARG, "profiler: %d zones (expected at least one, named)", n_zones);
        return NULL;
    }
    pthread_once(&calib_once, calibrate);
    itera_prof *p = aligned_alloc(64, (sizeof *p + 63) & ~(size_t)63);
    if (!p) {
        itera_fail(err, ITERA_ERR_NOMEM, "profiler: out of memory");
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->nthreads = nthreads;
    p->n_zones = n_zones;
    p->names = names;
    /* one row of n_zones per thread, rows 64-byte aligned (no false sharing) */
    size_t row = ((size_t)n_zones * sizeof(zone_acc) + 63) & ~(size_t)63;
    p->stride = (int)(row / sizeof(zone_acc));
    p->acc = aligned_alloc(64, row * (size_t)nthreads);
    if (!p->acc) {
        free(p);
        itera_fail(err, ITERA_ERR_NOMEM, "profiler: out of memory");
        return NULL;
    }
    p->ns_per_tick = calib_ns_per_tick;
    p->overhead_ticks = calib_overhead;
    p->pair_ticks = calib_pair;
    acc_clear(p);
    p->t_origin = zone_ticks();
    return p;
}

void prof_free(itera_prof *p)
{
    if (!p) return;
    for (int t = 0; t < ITERA_MAX_THREADS; t++) free(p->events[t]);
    free(p->acc);
    free(p);
}

void prof_reset(itera_prof *p)
{
    if (!p) return;
    acc_clear(p);
    memset(p->n_events, 0, sizeof p->n_events);
    memset(p->dropped, 0, sizeof p->dropped);
    p->t_origin = zone_ticks();
}

itera_status prof_trace(itera_prof *p, bool on, itera_error *err)
{
    if (!on) {
        p->tracing = false;
        return ITERA_OK;
    }
    for (int t = 0; t < p->nthreads; t++) {
        if (p->events[t]) continue;
        p->events[t] = malloc(ZONE_TRACE_CAP * sizeof(zone_event));
        if (!p->events[t])
            return itera_fail(err, ITERA_ERR_NOMEM, "profiler: out of memory for trace buffers (%u events x %d threads)",
                              ZONE_TRACE_CAP, p->nthreads);
    }
    p->events_cap = ZONE_TRACE_CAP;
    p->tracing = true;
    return ITERA_OK;
}

bool prof_zone_total(const itera_prof *p, int z, uint64_t *count, double *total_ticks,
                     double *min_ticks, double *max_ticks)
{
    uint64_t n = 0, tot = 0, mn = UINT64_MAX, mx = 0;
    for (int t = 0; t < p->nthreads; t++) {
        const zone_acc *a = prof_acc(p, t, z);
        if (!a->count) continue;
        n += a->count;
        tot += a->total;
        if (a->min < mn) mn = a->min;
        if (a->max > mx) mx = a->max;
    }
    if (!n) return false;
    double ov = p->overhead_ticks, total = (double)tot - (double)n * ov;
    *count = n;
    *total_ticks = total > 0 ? total : 0;
    *min_ticks = (double)mn > ov ? (double)mn - ov : 0;
    *max_ticks = (double)mx > ov ? (double)mx - ov : 0;
    return true;
}

/* ---- Chrome trace-event JSON ---- */

static int add_event(json_t *arr, const char *name, const char *ph, double ts, double dur, int tid)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:f, s:i, s:i}", "name", name, "cat", "itera", "ph", ph,
                          "ts", ts, "pid", 1, "tid", tid);
    if (!e) return -1;
    if (dur >= 0 && json_object_set_new(e, "dur", json_real(dur))) {
        json_decref(e);
        return -1;
    }
    return json_array_append_new(arr, e);
}

static int add_meta(json_t *arr, const char *what, const char *name, int tid)
{
    json_t *e = json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", what, "ph", "M", "pid", 1, "tid",
                          tid, "args", "name", name);
    return e ? json_array_append_new(arr, e) : -1;
}

itera_status prof_write_trace(const itera_prof *p, const char *path, itera_error *err)
{
    json_t *root = json_object(), *ev = json_array();
    uint32_t dropped = 0;
    int bad = !root || !ev || json_object_set(root, "traceEvents", ev);
    bad = bad || add_meta(ev, "process_name", "itera", 0);
    double us = p->ns_per_tick / 1000.0;
    for (int t = 0; t < p->nthreads && !bad; t++) {
        char tname[32];
        if (t == 0) snprintf(tname, sizeof tname, "caller (worker 0)");
        else snprintf(tname, sizeof tname, "worker %d", t);
        bad = add_meta(ev, "thread_name", tname, t);
        for (uint32_t i = 0; i < p->n_events[t] && !bad; i++) {
            const zone_event *e = &p->events[t][i];
            double d = (double)(e->t1 - e->t0) - p->overhead_ticks;
            double ts = e->t0 >= p->t_origin ? (double)(e->t0 - p->t_origin) * us : 0.0;
            const char *name = e->zone < (uint32_t)p->n_zones ? p->names[e->zone] : "?";
            bad = add_event(ev, name, "X", ts, (d > 0 ? d : 0) * us, t);
        }
        dropped += p->dropped[t];
    }
    if (!bad) {
        json_t *other = json_pack("{s:f, s:f, s:f, s:i, s:i}", "ns_per_tick", p->ns_per_tick,
                                  "zone_overhead_ns", p->overhead_ticks * p->ns_per_tick,
                                  "zone_pair_ns", p->pair_ticks * p->ns_per_tick, "dropped_events",
                                  (json_int_t)dropped, "threads", p->nthreads);
        bad = !other || json_object_set_new(root, "otherData", other);
        bad = bad || json_object_set_new(root, "displayTimeUnit", json_string("ns"));
    }
    json_decref(ev);
    if (bad) {
        json_decref(root);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory building the trace", path);
    }
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory serialising the trace", path);
    itera_status st = itera_write_file(path, text, strlen(text), err);
    free(text);
    return st;
}
