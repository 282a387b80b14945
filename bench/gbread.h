/*
 * gbread.h: reading Google Benchmark JSON result files (the schema of GB 1.7.1's
 * JSONReporter) for the report and compare tools.
 *
 * A file is a top-level object with a "context" object and a "benchmarks" array. Each
 * entry has name, run_name, run_type ("iteration" or "aggregate"), repetitions,
 * repetition_index, iterations, real_time, cpu_time, time_unit, aggregate_name for
 * aggregates (mean/median/stddev/cv), error_occurred/error_message when skipped, and the
 * user counters as extra numeric keys. Entries are grouped by run_name into cells: one
 * benchmark of one file, with its iteration runs (one per repetition) and aggregates.
 *
 * GB writes NaN and Infinity as bare words, which are not JSON; the loader reads them as
 * null (a value that is absent) rather than refusing the file.
 *
 * Benchmark names are parsed by schema.h (bench_name_parse); a cell whose name is not
 * one of ours keeps family BENCH_FAMILY_NONE.
 */
#ifndef ITERA_GBREAD_H
#define ITERA_GBREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "nameidx.h"
#include "schema.h"
#include "status.h"

typedef struct gb_cell {
    const char *run_name;   /* borrowed from the file's JSON */
    char *canon;            /* run_name without the parts GB appends (owned) */
    bench_name nm;
    bool ours;              /* nm parsed as one of our families (bench_name_parse) */
    json_t **iter;          /* iteration entries in repetition_index order (borrowed) */
    int n_iter;
    json_t *mean, *median, *stddev, *cv; /* aggregates, NULL when absent (borrowed) */
    bool error;             /* some entry has error_occurred */
    const char *error_message;
} gb_cell;

typedef struct gb_file {
    char *path;
    json_t *root;
    json_t *context;        /* borrowed from root */
    gb_cell *cells;         /* in order of first appearance in the file */
    int n_cells;
    name_index by_name, by_canon; /* cells by run_name and canonical name */
} gb_file;

/* Loads and validates path (plain JSON, or gzip-compressed JSON known by its magic bytes:
 * FILE.json.gz, gunzip.h). On failure returns BENCH_ERR_INPUT (a file that cannot be
 * read or is not a Google Benchmark results file) or BENCH_ERR_NOMEM, leaves f empty and
 * writes one line naming the file and what was wrong into err. */
bench_status gb_file_load(const char *path, gb_file *f, bench_error *err);
/* The same over text[len] already in memory (path names it in messages). The file is
 * read with itera_read_file (a regular file, not blocking) and parsed with duplicate keys
 * rejected; cells are found by hash, so loading is linear in the entries. */
bench_status gb_file_parse(const char *path, const char *text, size_t len, gb_file *f,
                           bench_error *err);
/* The same over a parsed document: takes root's reference (released on failure too;
 * json_incref it to keep one). For results built in memory (ab's deciding looks). */
bench_status gb_file_from_json(const char *path, json_t *root, gb_file *f, bench_error *err);
void gb_file_free(gb_file *f);

/* A context value as text (strings as they are, integers in decimal, reals with %g,
 * booleans true/false); NULL when absent or null. The text lives until the next call
 * with the same buf. */
const char *gb_ctx(const gb_file *f, const char *key, char *buf, size_t buflen);
/* The cell named run_name, or NULL. */
const gb_cell *gb_file_cell(const gb_file *f, const char *run_name);
/* The first cell whose canonical name is canon, or NULL. */
const gb_cell *gb_file_cell_canon(const gb_file *f, const char *canon);

/* A metric of one entry: "real_time" and "cpu_time" in nanoseconds (converted from
 * time_unit), anything else a numeric field (a user counter) as stored.
 * Returns false when absent, null or not a number. */
bool gb_entry_metric(const json_t *entry, const char *metric, double *out);
/* The values of metric over the cell's iteration runs (at most cap); returns how many. */
int gb_cell_values(const gb_cell *c, const char *metric, double *out, int cap);
/* Mean of metric: the "mean" aggregate when present, else the mean of the iteration runs.
 * Returns false when neither has it. */
bool gb_cell_mean(const gb_cell *c, const char *metric, double *out);
/* Standard deviation: the "stddev" aggregate when present; false otherwise. */
bool gb_cell_stddev(const gb_cell *c, const char *metric, double *out);
/* min and max over the iteration runs; returns how many runs had the metric. */
int gb_cell_range(const gb_cell *c, const char *metric, double *min, double *max);

#endif
