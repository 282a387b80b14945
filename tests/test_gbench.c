/*
 * test_gbench.c: Google Benchmark through the C shim (bench/gbench.h). Registers tiny
 * benchmarks with each counter kind, a label, a context entry, fixed options and a
 * skipped one; runs them with --benchmark_out / --benchmark_repetitions=3; parses GB's
 * JSON back with jansson and checks names, counters, GB's aggregates, the error of the
 * skipped benchmark, the context, and that the C callback saw every run. Also the flag
 * handling: caller arguments left in argv, bad GB flags refused without exiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gbench.h"

/* ---- the benchmarks ---- */

static volatile double sink;

static void spin(int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)i * 0.5;
    sink = s;
}

static void bm_counters(gb_state *st, void *user)
{
    int *calls = user;
    (*calls)++;
    while (gb_keep_running(st)) {
        spin(2000);
        gb_pause_timing(st);
        spin(10);
        gb_resume_timing(st);
    }
    int64_t it = gb_iterations(st);
    gb_set_counter(st, "plain", 42.0, GB_COUNTER_PLAIN);
    gb_set_counter(st, "rate", 1000.0, GB_COUNTER_RATE);
    gb_set_counter(st, "per_iter", 2.0 * (double)it, GB_COUNTER_PER_ITERATION);
    gb_set_counter(st, "iter_rate", 1.0, GB_COUNTER_ITER_RATE);
    gb_set_items_processed(st, it * 10);
    gb_set_label(st, "tiny-label");
}

static void bm_skipped(gb_state *st, void *user)
{
    (void)user;
    gb_skip_with_error(st, "not on this machine: test skip");
    while (gb_keep_running(st))
        spin(1);
}

static void bm_fixed(gb_state *st, void *user)
{
    (void)user;
    while (gb_keep_running(st))
        spin(100);
}

/* ---- the callback ---- */

#define MAX_SEEN 64
struct seen {
    int n;
    char name[MAX_SEEN][128];
    bool error[MAX_SEEN];
    bool aggregate[MAX_SEEN];
    double plain[MAX_SEEN];
    char label[MAX_SEEN][32];
};

static void on_run(const gb_run_result *r, void *user)
{
    struct seen *s = user;
    if (s->n >= MAX_SEEN)
        return;
    int i = s->n++;
    snprintf(s->name[i], sizeof s->name[i], "%s", r->name);
    snprintf(s->label[i], sizeof s->label[i], "%s", r->label);
    s->error[i] = r->error_occurred;
    s->aggregate[i] = strcmp(r->run_type, "aggregate") == 0;
    s->plain[i] = NAN;
    for (int c = 0; c < r->n_counters; c++)
        if (strcmp(r->counter_names[c], "plain") == 0)
            s->plain[i] = r->counter_values[c];
}

/* ---- helpers ---- */

static json_t *find_bench(json_t *benchmarks, const char *name, const char *run_type, int nth)
{
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b)
    {
        if (strcmp(json_string_value(json_object_get(b, "name")), name) == 0 &&
            strcmp(json_string_value(json_object_get(b, "run_type")), run_type) == 0 && nth-- == 0)
            return b;
    }
    return NULL;
}

static double num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        fail_msg("JSON key %s missing", key);
    return json_number_value(v);
}

static int init_with(int argc, const char *const *args)
{
    char *argv[16];
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)args[i];
    argv[argc] = NULL;
    return gb_initialize(&argc, argv);
}

/* ---- tests ---- */

static void test_bad_flags_refused(void **state)
{
    (void)state;
    const char *typo[] = {"t", "--benchmark_repetitons=3"};
    assert_int_equal(init_with(2, typo), -1);
    const char *fmt[] = {"t", "--benchmark_format=xml"};
    assert_int_equal(init_with(2, fmt), -1);
    const char *unit[] = {"t", "--benchmark_time_unit=weeks"};
    assert_int_equal(init_with(2, unit), -1);
    const char *value[] = {"t", "--benchmark_repetitions=abc"};
    assert_int_equal(init_with(2, value), -1);
    /* register refuses nonsense */
    assert_int_equal(gb_register("", bm_fixed, NULL, NULL), -1);
    assert_int_equal(gb_register("x", NULL, NULL, NULL), -1);
    gb_options bad = {.repetitions = -1};
    assert_int_equal(gb_register("x", bm_fixed, NULL, &bad), -1);
    /* a fixed count with a minimum time or warm-up: GB would abort; refused with a message */
    gb_options fixed_warm = {.iterations = 5, .min_warmup_time = 0.01};
    assert_int_equal(gb_register("x", bm_fixed, NULL, &fixed_warm), -1);
    assert_non_null(strstr(gb_error(), "fixed iteration count (5)"));
    gb_options fixed_min = {.iterations = 5, .min_time = 0.01};
    assert_int_equal(gb_register("x", bm_fixed, NULL, &fixed_min), -1);
}

static void test_run_and_parse_json(void **state)
{
    (void)state;
    char path[] = "/tmp/test_gbench_XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);

    char out_flag[128];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", path);
    char *argv[] = {"test_gbench", out_flag, "--keep-me", "--benchmark_repetitions=3",
                    "--benchmark_min_time=0.01", "-v", "positional", NULL};
    int argc = 7;
    assert_int_equal(gb_initialize(&argc, argv), 0);
    /* the caller's arguments stay, in order */
    assert_int_equal(argc, 4);
    assert_string_equal(argv[0], "test_gbench");
    assert_string_equal(argv[1], "--keep-me");
    assert_string_equal(argv[2], "-v");
    assert_string_equal(argv[3], "positional");
    assert_null(argv[4]);
    assert_string_equal(gb_out_path(), path);
    assert_false(gb_listing_only());

    int calls = 0;
    assert_int_equal(gb_register("tiny/counters", bm_counters, &calls, NULL), 0);
    assert_int_equal(gb_register("tiny/skipped", bm_skipped, NULL, NULL), 0);
    gb_options fixed = {.iterations = 5, .unit = GB_UNIT_US};
    assert_int_equal(gb_register("tiny/fixed", bm_fixed, NULL, &fixed), 0);
    gb_add_context("itera_test_key", "first");
    gb_add_context("itera_test_key", "second"); /* replaces */
    gb_add_context("itera_other", "x");

    static struct seen seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(gb_run(on_run, &seen), 3);
    assert_true(calls >= 3);

    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
    json_t *ctx = json_object_get(root, "context");
    assert_non_null(ctx);
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_test_key")), "second");
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_other")), "x");
    assert_non_null(json_object_get(ctx, "num_cpus"));
    json_t *benchmarks = json_object_get(root, "benchmarks");
    assert_true(json_is_array(benchmarks));

    /* three repetitions of tiny/counters, each with its counters */
    double real_sum = 0;
    for (int r = 0; r < 3; r++) {
        json_t *b = find_bench(benchmarks, "tiny/counters", "iteration", r);
        assert_non_null(b);
        assert_int_equal((int)num(b, "repetition_index"), r);
        assert_int_equal((int)num(b, "repetitions"), 3);
        assert_string_equal(json_string_value(json_object_get(b, "label")), "tiny-label");
        double iters = num(b, "iterations");
        assert_true(iters >= 1);
        assert_true(num(b, "plain") == 42.0);
        assert_true(num(b, "per_iter") == 2.0);
        /* rate: value / measured seconds (CPU time by default) */
        double seconds = num(b, "cpu_time") * iters * 1e-9;
        assert_true(fabs(num(b, "rate") * seconds / 1000.0 - 1.0) < 0.01);
        assert_true(fabs(num(b, "iter_rate") * seconds / iters - 1.0) < 0.01);
        assert_true(fabs(num(b, "items_per_second") * seconds / (10 * iters) - 1.0) < 0.01);
        real_sum += num(b, "real_time");
    }
    assert_null(find_bench(benchmarks, "tiny/counters", "iteration", 3));
    /* aggregates from GB */
    json_t *mean = find_bench(benchmarks, "tiny/counters_mean", "aggregate", 0);
    json_t *median = find_bench(benchmarks, "tiny/counters_median", "aggregate", 0);
    json_t *stddev = find_bench(benchmarks, "tiny/counters_stddev", "aggregate", 0);
    json_t *cv = find_bench(benchmarks, "tiny/counters_cv", "aggregate", 0);
    assert_non_null(mean);
    assert_non_null(median);
    assert_non_null(stddev);
    assert_non_null(cv);
    assert_string_equal(json_string_value(json_object_get(mean, "aggregate_name")), "mean");
    assert_string_equal(json_string_value(json_object_get(mean, "run_name")), "tiny/counters");
    assert_string_equal(json_string_value(json_object_get(cv, "aggregate_unit")), "percentage");
    assert_true(fabs(num(mean, "real_time") / (real_sum / 3) - 1.0) < 1e-9);
    assert_true(num(mean, "plain") == 42.0);
    assert_true(num(stddev, "plain") == 0.0);
    assert_true(num(stddev, "real_time") >= 0.0);

    /* the skipped benchmark: error_occurred with our message, no aggregates */
    json_t *sk = find_bench(benchmarks, "tiny/skipped", "iteration", 0);
    assert_non_null(sk);
    assert_true(json_is_true(json_object_get(sk, "error_occurred")));
    assert_string_equal(json_string_value(json_object_get(sk, "error_message")),
                        "not on this machine: test skip");

    /* fixed iterations and unit: GB names it so and reports in us */
    json_t *fx = find_bench(benchmarks, "tiny/fixed/iterations:5", "iteration", 0);
    assert_non_null(fx);
    assert_int_equal((int)num(fx, "iterations"), 5);
    assert_string_equal(json_string_value(json_object_get(fx, "time_unit")), "us");

    /* the callback saw what the file got, in the same order */
    assert_int_equal(seen.n, (int)json_array_size(benchmarks));
    int errors = 0;
    for (int i = 0; i < seen.n; i++) {
        json_t *b = json_array_get(benchmarks, (size_t)i);
        assert_string_equal(seen.name[i], json_string_value(json_object_get(b, "name")));
        errors += seen.error[i];
        if (strcmp(seen.name[i], "tiny/counters") == 0) {
            assert_true(seen.plain[i] == 42.0);
            assert_string_equal(seen.label[i], "tiny-label");
        }
    }
    assert_true(errors >= 1);
    json_decref(root);
    unlink(path);

    /* an unwritable --benchmark_out is an error, not an exit */
    const char *bad_out[] = {"t", "--benchmark_out=/nonexistent-dir/x.json", "--benchmark_filter=tiny/fixed"};
    assert_int_equal(init_with(3, bad_out), 0);
    assert_int_equal(gb_run(NULL, NULL), -1);
    gb_clear();
    gb_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags_refused),
        cmocka_unit_test(test_run_and_parse_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
