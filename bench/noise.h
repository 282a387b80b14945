/*
 * noise.h: the noise threshold per benchmark family, measured by an A/A run on this
 * machine (`itera-bench noise`, or `ab` with the same revision on both sides).
 *
 * From an A/A comparison (the same build on both sides, interleaved), per family:
 *   threshold = max(NOISE_FLOOR_PCT, the 95th percentile over the family's judged
 *               benchmarks of |ratio - 1|, the ratio's Hodges-Lehmann estimate)
 * i.e. the size of change an unchanged build shows here at that many rounds. compare and
 * ab then report a change only when its whole 95% interval lies beyond it.
 *
 * File (JSON, written atomically), by default results/<machine>/<platform>/noise.json:
 *   {"itera_noise": 1, "machine": NAME, "platform": P, "profile": X, "rounds": R,
 *    "date": ISO-8601, "git": REV, "rule": "...",
 *    "context": {the itera_machine_* fingerprint},
 *    "families": {"scan": {"threshold_pct": T, "benchmarks": N, "q95_abs_pct": ..,
 *                          "max_abs_pct": .., "median_abs_pct": ..}, ...}}
 */
#ifndef ITERA_NOISE_H
#define ITERA_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#include "compare.h"
#include "gbread.h"
#include "machine.h"
#include "status.h"

#define NOISE_FLOOR_PCT 0.5
#define NOISE_VERSION 1

typedef enum noise_source {
    NOISE_ASSUMED = 0,  /* nothing measured: COMPARE_ASSUMED_NOISE_PCT for every family */
    NOISE_GIVEN,        /* --noise-threshold PCT */
    NOISE_MEASURED,     /* a noise file */
} noise_source;

typedef struct noise_family {
    bool have;
    double threshold_pct;
    int benchmarks;
    double q95_abs_pct, max_abs_pct, median_abs_pct;
} noise_family;

typedef struct noise_table {
    noise_source source;
    double fallback_pct;             /* families the file lacks */
    char file[1024];
    char machine[64], platform[64], profile[128], date[40], git[128];
    int rounds;
    noise_family fam[BENCH_FAMILY_COUNT];
    bool have_machine;
    machine_info m;                  /* the machine it was measured on */
} noise_table;

void noise_table_assumed(noise_table *t);
void noise_table_given(noise_table *t, double pct);
/* Reads a noise file (BENCH_ERR_INPUT naming the file and field when it is not one). */
bench_status noise_load(const char *path, noise_table *t, bench_error *e);
/* The threshold of family f as a fraction (0.012 for 1.2 %). */
double noise_threshold(const noise_table *t, int family);
/* "measured (FILE: profile ci, 15 rounds, 2026-12-01)", "given (--noise-threshold)",
 * "assumed (...)" */
const char *noise_describe(const noise_table *t, char *buf, size_t n);

/* <root>/results/<machine>/<platform>/noise.json (the default place). */
void noise_default_path(const char *root, const char *machine, const char *platform,
                        char *out, size_t n);

/* Thresholds from an A/A comparison's rows (verdicts ignored: only the estimates). */
void noise_from_aa(const compare_result *aa, noise_table *t);

/* Writes t (with the fingerprint m) to path atomically, making its folder. */
bench_status noise_write(const char *path, const noise_table *t, const machine_info *m,
                         bench_error *e);

#endif
