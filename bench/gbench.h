/*
 * gbench.h: Google Benchmark from C. The only C++ in the project is bench/gbench_shim.cc,
 * which wraps these calls around benchmark::RegisterBenchmark, benchmark::State and
 * benchmark::RunSpecifiedBenchmarks. Statistics (repetitions, mean/median/stddev/cv)
 * come from Google Benchmark itself.
 */
#ifndef ITERA_GBENCH_H
#define ITERA_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state; /* wraps benchmark::State& for one run of a benchmark */
typedef void (*gb_fn)(gb_state *st, void *user);

typedef enum gb_counter_kind {
    GB_COUNTER_PLAIN = 0,         /* value as given */
    GB_COUNTER_RATE = 1,          /* value / elapsed seconds (kIsRate) */
    GB_COUNTER_PER_ITERATION = 2, /* value / iterations (kAvgIterations) */
    GB_COUNTER_ITER_RATE = 3      /* value * iterations / seconds (kIsIterationInvariantRate) */
} gb_counter_kind;

/* Time unit of a benchmark's reported times. */
typedef enum gb_time_unit {
    GB_UNIT_DEFAULT = 0, /* GB's default (ns, or --benchmark_time_unit) */
    GB_UNIT_NS = 1,
    GB_UNIT_US = 2,
    GB_UNIT_MS = 3,
    GB_UNIT_S = 4,
    GB_UNIT_COUNT
} gb_time_unit;

/* Per-benchmark options; zero fields take GB's defaults / command-line flags. */
typedef struct gb_options {
    int repetitions;
    double min_time;     /* seconds */
    bool use_real_time;
    bool use_manual_time;
    /* extensions (zero = default) */
    int64_t iterations;     /* fixed iteration count instead of min_time */
    double min_warmup_time; /* seconds of unreported warm-up before each repetition */
    gb_time_unit unit;
} gb_options;

/* Registers benchmark `name` that calls fn(st, user) once per run; fn must loop
 * `while (gb_keep_running(st)) { ... }` until it returns false (or call
 * gb_skip_with_error and return). opts may be NULL. Returns 0, or -1 on failure
 * (empty name, NULL fn, negative or out-of-range option; message in gb_error()). */
int gb_register(const char *name, gb_fn fn, void *user, const gb_options *opts);
/* Forgets every registered benchmark (e.g. to run cells one at a time). */
void gb_clear(void);

bool gb_keep_running(gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
void gb_set_iteration_time(gb_state *st, double seconds); /* with use_manual_time */
int64_t gb_iterations(const gb_state *st);
void gb_set_counter(gb_state *st, const char *name, double value, gb_counter_kind kind);
void gb_set_label(gb_state *st, const char *label);
void gb_skip_with_error(gb_state *st, const char *msg); /* JSON error_occurred/error_message */
void gb_set_items_processed(gb_state *st, int64_t items);

/* Custom context entries written into the JSON "context" object (before gb_run); a later
 * call with the same key replaces the value. */
void gb_add_context(const char *key, const char *value);

/* One finished run or aggregate, as a reporter sees it (valid only during the callback). */
typedef struct gb_run_result {
    const char *name;           /* run name as in the JSON "name" */
    const char *run_type;       /* "iteration" or "aggregate" */
    const char *aggregate_name; /* "mean"/"median"/"stddev"/"cv" or "" */
    int repetition_index;
    int64_t iterations;
    double real_time, cpu_time; /* per iteration, in time_unit */
    const char *time_unit;
    bool error_occurred;
    const char *error_message;
    int n_counters;
    const char *const *counter_names;
    const double *counter_values; /* final values, as written into the JSON */
    /* extensions */
    const char *run_name;       /* name without the aggregate suffix (JSON "run_name") */
    const char *label;          /* gb_set_label's text, or "" */
    const char *aggregate_unit; /* "time" or "percentage" (cv); "" for iteration runs */
    int repetitions;
    int threads;
    int64_t family_index, per_family_instance_index;
} gb_run_result;
typedef void (*gb_report_fn)(const gb_run_result *r, void *user);

/* Initializes GB with argv: its own flags (--benchmark_*, --v) are consumed, the rest are
 * left in argv/argc in their order (argv[0] stays). Returns 0, or -1 on a bad flag: an
 * unknown --benchmark_* name, a value GB cannot parse, or a bad --benchmark_format /
 * --benchmark_out_format / --benchmark_time_unit / --benchmark_color (gb_error() names
 * the flag and the valid choices). Never exits, even where GB itself would. */
int gb_initialize(int *argc, char **argv);
/* True when gb_initialize saw --benchmark_list_tests (gb_run then lists, runs nothing). */
bool gb_listing_only(void);
/* The --benchmark_out path gb_initialize saw, or NULL. */
const char *gb_out_path(void);
/* The --benchmark_filter value gb_initialize saw ("" when given empty), or NULL. */
const char *gb_filter(void);
/* The one-line message of the last call that failed (gb_register, gb_initialize, gb_run):
 * what was wrong and the valid choices. "" before any failure. */
const char *gb_error(void);

/* Runs every registered benchmark matching --benchmark_filter with GB's display reporter
 * (--benchmark_format) and, with --benchmark_out, its file reporter
 * (--benchmark_out_format, JSON by default); on_run (may be NULL) sees each run the
 * display reporter sees (every repetition and aggregate, unless
 * --benchmark_display_aggregates_only). Returns the number of benchmarks that matched,
 * or -1 on error (e.g. the --benchmark_out file cannot be written; gb_error() says why).
 * The display reporter writes to stdout (runs) and stderr (the context header). */
int gb_run(gb_report_fn on_run, void *user);

/* gb_run with the display output sent elsewhere and the filter chosen by the caller. */
typedef struct gb_run_opts {
    const char *log_path; /* NULL: stdout/stderr as gb_run; else GB's display text (context
                             header, one line per repetition and aggregate) goes to this
                             file, without colour codes, flushed after every report */
    bool log_append;      /* append to log_path (a resumed run) instead of truncating it */
    bool echo;            /* with log_path: the same text to stderr too (--verbose) */
    const char *filter;   /* NULL: --benchmark_filter; else this regex ("all": every
                             registered benchmark) */
} gb_run_opts;
int gb_run_with(const gb_run_opts *o, gb_report_fn on_run, void *user);
void gb_shutdown(void);
/* How the Google Benchmark library itself was built, as its JSON reporter says it
 * ("debug" or "release": Debian's libbenchmark 1.7.1 is a debug build). */
const char *gb_library_build_type(void);

#ifdef __cplusplus
}
#endif
#endif
