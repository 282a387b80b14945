/*
 * counters.h: per-benchmark event counters through libpfm4 and perf_event_open.
 *
 * Hardware events (cycles, instructions, cache references, cache misses, branch misses)
 * are encoded with libpfm4 (pfm_get_os_event_encoding, PFM_OS_PERF_EVENT) and opened with
 * perf_event_open. Where the PMU is missing (a VM without one: perf_event_open fails with
 * ENOENT/EOPNOTSUPP) or ITERA_COUNTERS=software asks for it, software events are counted
 * instead (task clock, context switches, CPU migrations, page faults), and
 * counters_describe() says which events are counted and why the others are not.
 *
 * Scope: the whole process. At open, one event per existing thread of the process
 * (/proc/self/task), each with inherit=1 so threads created later (a worker pool made
 * after counters_open) are counted too, summed at read. Threads that exist at open but
 * exit later keep their final counts. Kernel-mode counting is dropped (user space only,
 * said in the description) when perf_event_paranoid forbids it.
 *
 * Values are scaled by time_enabled / time_running and flagged as multiplexed when the
 * kernel time-shared the PMU (running < enabled). Dividing by tokens is the caller's job.
 *
 * Errors: the opening functions return a bench_status with a one-line message in e
 * (status.h); nothing here exits or aborts. counters_start/stop/read touch only
 * already-open descriptors.
 */
#ifndef ITERA_COUNTERS_H
#define ITERA_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum counters_mode {
    COUNTERS_AUTO = 0,     /* hardware if the PMU opens, else software (ITERA_COUNTERS=auto) */
    COUNTERS_SOFTWARE = 1, /* software events only (ITERA_COUNTERS=software) */
    COUNTERS_OFF = 2,      /* nothing opened; every read gives n = 0 (ITERA_COUNTERS=off) */
    COUNTERS_MODE_COUNT
} counters_mode;

/* Every event this module knows, in a fixed order; the *_name strings are the counter
 * names used in results (e.g. "cycles", "task_clock_ns"). */
typedef enum counters_event {
    CTR_CYCLES = 0,
    CTR_INSTRUCTIONS,
    CTR_CACHE_REFERENCES,
    CTR_CACHE_MISSES,
    CTR_BRANCH_MISSES,
    CTR_TASK_CLOCK,       /* nanoseconds of CPU time */
    CTR_CONTEXT_SWITCHES,
    CTR_CPU_MIGRATIONS,
    CTR_PAGE_FAULTS,
    CTR_EVENT_COUNT
} counters_event;

const char *counters_event_name(counters_event e);
bool counters_event_is_hardware(counters_event e);
const char *counters_mode_name(counters_mode m); /* "auto" | "software" | "off" */
/* Parses "auto" | "software" | "off"; -1 (nothing changed) for anything else. */
int counters_mode_parse(const char *s, counters_mode *out);

typedef struct counters counters;

/* The counted events' values since the last counters_start (up to the last stop). */
typedef struct counters_values {
    int n;                                   /* number of entries below */
    counters_event event[CTR_EVENT_COUNT];
    const char *name[CTR_EVENT_COUNT];       /* counters_event_name(event[i]) */
    double value[CTR_EVENT_COUNT];           /* scaled by enabled/running */
    bool multiplexed[CTR_EVENT_COUNT];       /* running < enabled: value is an estimate */
    bool any_multiplexed;
    bool hardware;                           /* the hardware events are the ones counted */
} counters_values;

/* Opens the counters in the mode ITERA_COUNTERS asks for (auto when unset; a bad value
 * is BENCH_ERR_INPUT naming the valid ones). Otherwise as counters_open_mode. */
bench_status counters_open(counters **c, bench_error *e);
/* Opens in an explicit mode. Events that cannot open are left out and described (see
 * counters_describe), so this succeeds even when nothing at all can be counted (n = 0 at
 * every read); it fails (*c NULL) only for a bad mode (BENCH_ERR_INPUT) or when out of
 * memory (BENCH_ERR_NOMEM). */
bench_status counters_open_mode(counters **c, counters_mode mode, bench_error *e);
void counters_close(counters *c);
counters_mode counters_get_mode(const counters *c);
bool counters_hardware(const counters *c); /* hardware events are being counted */

/* Resets and enables every event / disables them. */
int counters_start(counters *c);
int counters_stop(counters *c);
/* Reads the current totals (works while running or after stop). */
int counters_read(const counters *c, counters_values *v);

/* The estimate for a count `value` seen while the event was enabled for `enabled` ns and
 * on the PMU for `running` ns: value * enabled / running, with *multiplexed set when
 * running < enabled (running == 0: the event never ran; 0 is returned, multiplexed). */
double counters_scale(uint64_t value, uint64_t enabled, uint64_t running, bool *multiplexed);

/* One line for the results' `itera_counters` context key, e.g.
 * "software: task_clock_ns, context_switches, cpu_migrations, page_faults; hardware
 *  unavailable: cycles (perf_event_open: No such file or directory, no PMU?) ...". */
const char *counters_describe(const counters *c, char *buf, size_t n);

#endif
