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

/* Per-benchmark options; zero fields take GB's defaults / command-line flags. */
typedef struct gb_options {
    int repetitions;
    double min_time;     /* seconds */
    bool use_real_time;
    bool use_manual_time;
} gb_options;

/* Registers benchmark `name` that calls fn(st, user) once per run; fn must loop
 * `while (gb_keep_running(st)) { ... }`. opts may be NULL. Returns 0, or -1 on failure. */
int gb_register(const char *name, gb_fn fn, void *user, const gb_options *opts);

bool gb_keep_running(gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
void gb_set_iteration_time(gb_state *st, double seconds); /* with use_manual_time */
int64_t gb_iterations(const gb_state *st);
void gb_set_counter(gb_state *st, const char *name, double value, gb_counter_kind kind);
void gb_set_label(gb_state *st, const char *label);
void gb_skip_with_error(gb_state *st, const char *msg); /* JSON error_occurred/error_message */
void gb_set_items_processed(gb_state *st, int64_t items);

/* Custom context entries written into the JSON "context" object (before gb_run). */
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
    const double *counter_values;
} gb_run_result;
typedef void (*gb_report_fn)(const gb_run_result *r, void *user);

/* Initializes GB with argv: its own --benchmark_* flags are consumed, the rest are left in
 * argv/argc. Returns 0, or -1 on a bad flag (message on stderr). */
int gb_initialize(int *argc, char **argv);
/* Runs every registered benchmark matching --benchmark_filter with GB's console reporter
 * and --benchmark_out file reporter; on_run (may be NULL) sees each finished run as well.
 * Returns the number of benchmarks run, or -1 on error. */
int gb_run(gb_report_fn on_run, void *user);
void gb_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
