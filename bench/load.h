/*
 * load.h: was the machine busy while a cell was measured? Two samples around the cell,
 * and the window between them judged against a rule.
 *
 * A sample reads, under a root folder ("/" normally; tests use tests/data/load/<case>):
 *   /proc/stat           the aggregate "cpu" line (idle and iowait ticks, steal), the
 *                        number of "cpuN" lines (online CPUs) and procs_running;
 *   /proc/pressure/cpu   the "some" total: microseconds during which at least one task
 *                        was runnable but had no CPU (absent on kernels without PSI);
 * plus this process's CPU time (CLOCK_PROCESS_CPUTIME_ID) and the monotonic clock.
 *
 * A window (two samples) says, over its wall time:
 *   other_cpu     cores used by everything but this process: CPUs x wall - idle - iowait
 *                 - our CPU time, over wall (idle is tick-rounded: about +-0.01 s / wall);
 *                 the hypervisor's steal counts, as it takes the CPUs from us too;
 *   steal_pct     steal ticks over all CPUs' time (0 where the kernel reports none);
 *   pressure_pct  PSI "some" time over wall time (NaN without PSI);
 *   runnable_others  procs_running - 1 (the reader) at the first sample (information).
 * and contended = other_cpu > max_other_cpu, or steal_pct > max_steal_pct, or (when this
 * process has no more threads than CPUs, so it cannot stall itself) pressure_pct >
 * max_pressure_pct. A quiet machine (our workers, the sleeping ab driver, kernel
 * housekeeping) stays well under the defaults: 0.25 cores, 5 %, 20 %.
 */
#ifndef ITERA_LOAD_H
#define ITERA_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef struct load_sample {
    double wall_s;        /* CLOCK_MONOTONIC */
    double self_cpu_s;    /* this process's CPU time */
    double idle_s;        /* /proc/stat cpu idle + iowait, all CPUs, seconds */
    double steal_s;       /* /proc/stat cpu steal, seconds */
    double total_s;       /* every field of the cpu line (guest excluded), seconds */
    int ncpu;             /* cpuN lines */
    int procs_running;    /* -1 when absent */
    double psi_some_us;   /* -1 when /proc/pressure/cpu is absent */
} load_sample;

typedef struct load_rule {
    bool enabled;            /* false: windows are measured but never marked contended */
    double max_other_cpu;    /* cores */
    double max_steal_pct;
    double max_pressure_pct;
} load_rule;

typedef struct load_window {
    double wall_s;
    double other_cpu;     /* >= 0 */
    double steal_pct;
    double pressure_pct;  /* NaN when unavailable */
    int runnable_others;  /* -1 when unavailable */
    bool contended;
    char why[160];        /* which limit was crossed, "" when quiet */
} load_window;

#define LOAD_DEFAULT_OTHER_CPU 0.25
#define LOAD_DEFAULT_STEAL_PCT 5.0
#define LOAD_DEFAULT_PRESSURE_PCT 20.0

/* The defaults, then $ITERA_CONTENTION when set: "off", or a comma list of
 * cpu=CORES, steal=PCT, pressure=PCT (e.g. "cpu=0.5,pressure=30"). A bad value is
 * BENCH_ERR_INPUT naming it; r holds the defaults then. */
bench_status load_rule_from_env(load_rule *r, bench_error *e);
/* Parses spec as $ITERA_CONTENTION (over the defaults). */
bench_status load_rule_parse(const char *spec, load_rule *r, bench_error *e);
/* One line for the results' context: "contended when ..." */
const char *load_rule_describe(const load_rule *r, char *buf, size_t n);

/* Reads a sample under root (NULL = "/"). BENCH_ERR_SYSTEM when /proc/stat cannot be read
 * or parsed (the message names the file); a missing PSI file is not an error. */
bench_status load_read(const char *root, load_sample *s, bench_error *e);

/* The window from a to b for a cell whose process runs own_threads threads. */
void load_window_make(const load_sample *a, const load_sample *b, const load_rule *r,
                      int own_threads, load_window *w);

#endif
