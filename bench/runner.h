/*
 * runner.h: a sweep, from a platform and a profile to a results file.
 *
 * runner_run, in phases over one sweep state with one unwind: load_inputs (platform,
 * profile, --set, Google Benchmark flags), plan_cells (host topology, worker plan, cells,
 * shard, model, output paths), select_cells (--benchmark_filter), load_journal
 * (--resume), probe_machine (counters, peak, binding check, context, journal),
 * run_cells, finish (final file, failures, missing cells, summary).
 * It refuses a platform bigger than the host unless emulating, runs the selected cells
 * through Google Benchmark (one GB run over the cells still to do, each cell's engine
 * state made when GB enters it), and journals each cell's runs in `<out>.journal` as
 * soon as the cell finishes (its results reported and the next cell entered, or the run
 * over). Progress goes to stderr (progress.h: a live line on a terminal, else a line per
 * finished cell); GB's own console output to `<out minus .json>.log` (and stderr too with
 * verbose). At the end the Google Benchmark JSON file is written atomically, recording
 * the filter and the cells it left out (a filtered run whose selected cells all finished
 * is complete), then the summary table (summary.h) and the results and log paths go to
 * stdout. SIGINT/SIGTERM stop the run after the current call of the current cell: the
 * finished cells stay in the journal, no results file is written, and the message names
 * the cells kept and the command that resumes (a second signal stops at once). With
 * resume, finished cells are read from the journal and only the
 * missing ones run. With a shard, only that shard's cells are run and written (the
 * file also records the full cell list, its hash and the shard: shard.h), by default to
 * results/<platform>/<profile>.shard-<I>-of-<N>.json.
 */
#ifndef ITERA_RUNNER_H
#define ITERA_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#include "shard.h"

typedef struct runner_opts {
    const char *platform;   /* name or path; NULL: "embedded" */
    const char *profile;    /* name or path; NULL: "default" */
    const char *out;        /* NULL: <root>/results/<platform>/<profile>.json */
    const char *model_dir;  /* NULL: the engine's synthetic model (ITERA_DEFAULT_SEED) */
    const char *machine;    /* machine name (--machine); NULL: ITERA_MACHINE or derived */
    bool resume;
    bool emulate;
    bool serve;             /* --serve (ab's worker): after the set-up, print "ready N" and
                               answer one stdin line at a time: "run CELL" runs that cell
                               alone (each at most once) and prints "ok CELL\tC\tO\tP\tWHY"
                               (C 1 when contended, O other processes' cores, P CPU pressure
                               %, -1 unknown; WHY the limit crossed) or "err CELL\tMESSAGE";
                               "quit" or EOF ends it. The results file holds the cells run. */
    bool verbose;           /* Google Benchmark's per-repetition lines on stderr too */
    const char *resume_command; /* printed when interrupted; NULL: a generic hint */
    shard_spec shard;       /* count 0: every cell; else only shard index/count (shard.h) */
    const char *const *sets; /* "key=value" overrides (--set), nsets of them */
    int nsets;
    int gb_argc;            /* Google Benchmark flags: gb_argv[0] is the program name */
    char **gb_argv;
} runner_opts;

/* Runs the sweep. Progress, warnings and per-cell failures go to stderr as they happen;
 * the summary and the results and log paths to stdout at the end. Returns (status.h; main.c alone turns it into an
 * exit status):
 *   BENCH_OK          every cell ran (or --benchmark_list_tests listed them);
 *   BENCH_ERR_INPUT   a platform, profile, flag, model or journal that does not fit; a
 *                     platform bigger than the host without emulation;
 *   BENCH_ERR_SYSTEM  the machine refused: topology, binding, Google Benchmark itself;
 *   BENCH_ERR_IO      the journal or the results file could not be written;
 *   BENCH_ERR_NOMEM   out of memory;
 *   BENCH_ERR_FAILED  a selected cell failed or did not finish (the results file is
 *                     written), the run was interrupted (it is not; --resume completes
 *                     it), or the journal could not be kept;
 * with err (when not NULL) holding the message of a failure ("" with BENCH_OK). Never
 * exits. */
bench_status runner_run(const runner_opts *o, bench_error *err);

/* The folder holding platforms/ and profiles/ (the repository), "." when not found. */
void runner_root(char *out, size_t n);

#endif
