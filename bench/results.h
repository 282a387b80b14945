/*
 * results.h: result files. Every finished cell goes to a journal as it completes; at the
 * end the whole run is written once, atomically, as a Google Benchmark JSON file.
 *
 * Journal (`<out>.journal`): one JSON object per line, each written with one write() and
 * fsync'd, so a kill at any moment leaves every finished cell and at most one partial last
 * line (ignored, then cut off when the journal is reopened for --resume).
 *   line 1:  {"itera_journal": 1, "platform": P, "profile": X, "cells": N, "context": {...}}
 *   then:    {"cell": NAME, "runs": [GB benchmark entries...], "op_profile": {...}?}
 *
 * Final file (Google Benchmark 1.7.1's JSONReporter schema, so GB's compare.py reads it):
 *   {"context": {GB's keys + itera_* keys, values as GB's custom context writes them:
 *                strings},
 *    "benchmarks": [entries of every cell, in cell order: its iteration runs, then its
 *                   aggregates (mean, median, stddev, cv)],
 *    "itera_op_profile": {NAME: {"forwards": K (per round), "rounds": R, "median_round": M,
 *                                "tokens_per_forward": T, "threads", "timing",
 *                                "ops": [{"name", "parent", "calls", "total_us",
 *                                         "mean_us", "min_us", "max_us",
 *                                         "us_per_forward" (the caller's wall time in
 *                                         round M), "us_per_forward_q1", "_q3", "_min",
 *                                         "_max" (over the R rounds)}...]}}}
 * A benchmark entry: name (run_name, plus "_<aggregate>" for aggregates), family_index,
 * per_family_instance_index, run_name, run_type, repetitions, threads, repetition_index
 * (iterations only), aggregate_name + aggregate_unit (aggregates only), error_occurred +
 * error_message (when skipped), iterations, real_time, cpu_time, time_unit, the user
 * counters, label. Non-finite counter values are written as null.
 *
 * Errors: bench_status functions write a one-line message naming the file into e
 * (status.h); journal_close returns 0 or -1 with errno.
 */
#ifndef ITERA_RESULTS_H
#define ITERA_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gbench.h"
#include "status.h"

#define JOURNAL_VERSION 1

/* ---- Writing the journal ---- */

typedef struct journal journal;

/* Writers return BENCH_OK, or BENCH_ERR_IO (BENCH_ERR_NOMEM) with one line in e. */

/* Creates (truncates) path and writes the header line. */
bench_status journal_create(const char *path, const json_t *header, journal **out,
                            bench_error *e);
/* Reopens an existing journal for appending after --resume: cuts the file to valid_bytes
 * (journal_data.valid_bytes: the end of its last complete line) first. */
bench_status journal_reopen(const char *path, long valid_bytes, journal **out, bench_error *e);
/* Appends one object as one line; flushed and fsync'd before returning. When the write or
 * the fsync fails, the line is cut off again (the journal ends after its last whole line)
 * and BENCH_ERR_IO returned; when even that fails, every later append is refused, so no
 * line ever follows a torn one. */
bench_status journal_append(journal *j, const json_t *entry, bench_error *e);
/* Closes the journal: 0, or -1 (errno set) when close failed (then what was appended may
 * not be on disk). NULL is a no-op. */
int journal_close(journal *j);

/* ---- Reading it back ---- */

typedef struct journal_data {
    json_t *header;     /* the header object (owned) */
    json_t *cells;      /* object: cell name -> entry; the first complete entry wins (owned) */
    int entries;        /* cell lines read */
    int duplicates;     /* cell lines for a name already seen (ignored) */
    int bad_lines;      /* complete lines that are not a cell object (ignored) */
    bool partial_tail;  /* the file ended in a partial line (a write cut short) */
    long valid_bytes;   /* offset just after the last complete line */
} journal_data;

/* Reads path. Returns BENCH_OK; BENCH_ERR_INPUT with e when it cannot be read or its first
 * line is not a journal header (*missing set when the file does not exist or is empty: a
 * run killed between creating it and writing its header journaled nothing). */
bench_status journal_read(const char *path, journal_data *out, bool *missing, bench_error *e);
/* The same over the journal's bytes buf[len] (path names it in messages). */
bench_status journal_parse(const char *path, const char *buf, size_t len, journal_data *out,
                           bench_error *e);
void journal_data_free(journal_data *d);

/* ---- Entries ---- */

/* One GB run as a GB JSON benchmark entry named after cell_name (see above); GB's own
 * suffixes (/real_time, /repeats:N, ...) are not kept. repetitions <= 0 takes the run's;
 * label NULL takes the run's label ("" for none). Returns a new object, or NULL on
 * allocation failure. */
json_t *results_run_json(const gb_run_result *r, const char *cell_name, int family_index,
                         int repetitions, const char *label);

/* A journal cell line: {"cell": name, "runs": runs, "op_profile": op_profile?}. Takes
 * references to neither argument (they are copied by reference count: json_incref). */
json_t *results_cell_entry(const char *name, json_t *runs, json_t *op_profile);

/* ---- The final file ---- */

/* Builds {"context", "benchmarks", "itera_op_profile"} from the cells named names[0..n)
 * as found in cells (name -> cell entry); *missing counts names with no entry. */
json_t *results_assemble(const json_t *context, const char *const *names, int n,
                         const json_t *cells, int *missing);

/* Writes root to path with itera_write_file (temporary file, fsync, rename over path, fsync
 * the folder; refuses a path that is not a regular file).
 * Creates the missing parent folders first. */
bench_status results_write_atomic(const char *path, const json_t *root, bench_error *e);

/* mkdir -p of the folder holding path. */
bench_status results_make_parent(const char *path, bench_error *e);

#endif
