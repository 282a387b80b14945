/*
 * profile.h: sweep profiles (profiles/<name>.ini), read with libinih, overridable from the
 * command line, and the cells they expand to.
 *
 * A profile says what a run sweeps. One section, every key optional (defaults below):
 *
 *   [profile]
 *   description    = ...
 *   families       = scan, prefill, decode      ; which benchmark families run
 *   kernels        = all                        ; scan kernels (scan, prefill); all: every
 *                                               ; row of itera_kernels.def
 *   decode_kernels = AUTO's kernel for one token  ; scan kernel names for decode cells (a
 *                                               ; one-token step runs the same code for
 *                                               ; every kernel, so one is the default)
 *   quants         = all                        ; weight formats (prefill, decode); all:
 *                                               ; every row of itera_formats.def
 *   seq            = 128                        ; prefill lengths L
 *   batch          = 1                          ; prefill / decode batches B
 *   threads        = platform                   ; worker threads: numbers or `platform`
 *   steps          = 64                         ; decode steps S
 *   repetitions    = 3                          ; Google Benchmark repetitions per cell
 *   min_time       = 0.05                       ; seconds per repetition (GB min time)
 *   scan_channels  = 256                        ; the standalone scan's shape: channels C,
 *   scan_state     = 64                         ;   state N,
 *   scan_seq       = 128                        ;   lengths L,
 *   scan_batch     = 4                          ;   batches B
 *   text_accuracy  = false                      ; with a model folder: each quant against
 *                                               ; FP32 on its texts (textacc.h), recorded
 *                                               ; in the prefill cells (text_* counters)
 *   ab_budget_minutes = (unset)                  ; `itera-bench ab` of this profile: no
 *                                               ; deciding round that would end later than
 *                                               ; this after the start (--budget wins;
 *                                               ; unset: AB_DEFAULT_BUDGET_MIN, ab.h); run
 *                                               ; itself does not use it
 *
 * List values are comma-separated; every value is checked (unknown key, section, name
 * or a bad number is an error naming the file, line, key and the valid choices). The
 * syntax is strict (bench_ini_parse): UTF-8 text without NUL bytes, `key = value` lines
 * that are not indented, each key once, and a ';' comment only after white space.
 * Command-line overrides use the same keys and syntax: `--set key=value` (profile_set).
 *
 * The run is the cartesian product of the axes per family, in this order:
 *   scan:    kernels × scan_channels × scan_state × scan_seq × scan_batch × threads
 *   prefill: quants × kernels × seq × batch × threads
 *   decode:  quants × decode_kernels × steps × batch × threads
 * with `platform` threads resolved to the platform's count and duplicates dropped.
 */
#ifndef ITERA_PROFILE_H
#define ITERA_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "itera.h"
#include "schema.h"
#include "status.h"

#define PROFILE_MAX_VALUES 32
#define PROFILE_THREADS_PLATFORM 0 /* the `platform` entry of a threads list */

/* An ordered list of distinct values (enum values or numbers). */
typedef struct profile_list {
    int n;
    int v[PROFILE_MAX_VALUES];
} profile_list;

typedef struct profile {
    char name[64];        /* file stem (or the `name` key) */
    char description[256];
    char path[512];       /* file read, "" for profile_defaults only */
    profile_list families, kernels, decode_kernels, quants;
    profile_list seq, batch, threads, steps;
    profile_list scan_channels, scan_state, scan_seq, scan_batch;
    int repetitions;
    double min_time;      /* seconds */
    bool text_accuracy;   /* measure each quant on the model folder's texts */
    double ab_budget_minutes; /* ab's time budget for this profile; 0: not given */
    int overrides;        /* how many --set values were applied */
    char override_text[512]; /* "seq=64; batch=1" as given, for the results' context */
} profile;

/* The defaults listed above, name "default". */
void profile_defaults(profile *p);

/* Reads path over the defaults. Returns BENCH_OK, or BENCH_ERR_INPUT (or BENCH_ERR_NOMEM)
 * with e naming the file, line, key and the valid choices. */
bench_status profile_load(const char *path, profile *p, bench_error *e);
/* Same from text (path used in messages only). For tests. */
bench_status profile_load_string(const char *text, const char *path, profile *p,
                                 bench_error *e);

/* Sets one key from text ("seq", "64, 128"), as a file line would. origin names where
 * the value came from in messages (e.g. "--set"). Returns BENCH_OK or BENCH_ERR_INPUT
 * with e. */
bench_status profile_set(profile *p, const char *key, const char *value, const char *origin,
                         bench_error *e);
/* Applies one override "key=value" (the argument of --set). Returns BENCH_OK or
 * BENCH_ERR_INPUT with e. */
bench_status profile_override(profile *p, const char *assignment, bench_error *e);

/* The keys, comma-separated (for help and messages). */
const char *profile_keys(void);

/* The value of key as text ("sequential, chunked"), for `list` and the results. */
int profile_format(const profile *p, const char *key, char *out, size_t n);

/* Cells and their names: bench_cell and bench_cell_format_name in schema.h. */

/* Expands p into cells with `platform` threads = platform_threads. On success *out is a
 * malloc'd array of *count cells (free with free()); returns BENCH_OK, or BENCH_ERR_INPUT
 * (too many cells) or BENCH_ERR_NOMEM with e. */
bench_status profile_cells(const profile *p, int platform_threads, bench_cell **out,
                           int *count, bench_error *e);

#endif
