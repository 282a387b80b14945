/*
 * test_results.c: the journal (append, read back, a partial last line from a kill,
 * duplicates, reopen for resume), GB entries from runs, assembling the final file in cell
 * order with the op profiles, and the atomic final write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "results.h"

static bench_error err;
static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/itera-test-results-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static json_t *header(void)
{
    return json_pack("{s:i, s:s, s:s, s:i, s:{s:s}}", "itera_journal", JOURNAL_VERSION,
                     "platform", "embedded", "profile", "test", "cells", 3, "context",
                     "itera_platform", "embedded");
}

/* A cell line with one iteration run whose real_time is t. */
static json_t *cell(const char *name, double t)
{
    const char *cn[] = { "tokens_per_second" };
    double cv[] = { 1000.0 / t };
    gb_run_result r = {
        .name = name, .run_type = "iteration", .aggregate_name = "", .repetition_index = 0,
        .iterations = 10, .real_time = t, .cpu_time = t, .time_unit = "ns",
        .n_counters = 1, .counter_names = cn, .counter_values = cv,
    };
    json_t *runs = json_array();
    json_array_append_new(runs, results_run_json(&r, name, 0, 1, NULL));
    json_t *op = json_pack("{s:i}", "forwards", 2);
    json_t *e = results_cell_entry(name, runs, op);
    json_decref(runs);
    json_decref(op);
    return e;
}

static void append(journal *j, json_t *e)
{
    assert_int_equal(journal_append(j, e, &err), BENCH_OK);
    json_decref(e);
}

static void test_journal_roundtrip(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/sub/dir/r.json.journal", dir); /* parents are created */
    json_t *h = header();
    journal *j;
    assert_int_equal(journal_create(path, h, &j, &err), BENCH_OK);
    json_decref(h);
    append(j, cell("a", 1.0));
    append(j, cell("b", 2.0));
    journal_close(j);

    journal_data d;
    bool missing;
    assert_int_equal(journal_read(path, &d, &missing, &err), BENCH_OK);
    assert_int_equal(d.entries, 2);
    assert_false(d.partial_tail);
    assert_string_equal(json_string_value(json_object_get(d.header, "platform")), "embedded");
    assert_non_null(json_object_get(d.cells, "a"));
    assert_non_null(json_object_get(d.cells, "b"));
    journal_data_free(&d);

    /* A fresh journal_create truncates. */
    h = header();
    assert_int_equal(journal_create(path, h, &j, &err), BENCH_OK);
    json_decref(h);
    journal_close(j);
    assert_int_equal(journal_read(path, &d, &missing, &err), BENCH_OK);
    assert_int_equal(d.entries, 0);
    journal_data_free(&d);
}

static void test_journal_missing_and_bad(void **state)
{
    (void)state;
    char path[300];
    journal_data d;
    bool missing;
    snprintf(path, sizeof path, "%s/none.journal", dir);
    assert_int_equal(journal_read(path, &d, &missing, &err), BENCH_ERR_INPUT);
    assert_true(missing);
    assert_non_null(strstr(err.msg, path));

    snprintf(path, sizeof path, "%s/bad.journal", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"not\": \"a journal\"}\n", f);
    fclose(f);
    assert_int_equal(journal_read(path, &d, &missing, &err), BENCH_ERR_INPUT);
    assert_false(missing);
    assert_non_null(strstr(err.msg, "not an itera-bench journal"));

    /* empty: a run killed between creating the journal and writing its header (kill-anywhere):
     * nothing was journaled, so --resume runs every cell instead of refusing */
    snprintf(path, sizeof path, "%s/empty.journal", dir);
    f = fopen(path, "w");
    fclose(f);
    assert_int_equal(journal_read(path, &d, &missing, &err), BENCH_ERR_INPUT);
    assert_true(missing);
}

/* A kill in the middle of a write leaves a partial last line: it is ignored, cut off at
 * reopen, and the next append lands on a line of its own. */
static void test_journal_partial_tail_and_resume(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/k.journal", dir);
    json_t *h = header();
    journal *j;
    assert_int_equal(journal_create(path, h, &j, &err), BENCH_OK);
    json_decref(h);
    append(j, cell("a", 1.0));
    append(j, cell("a", 5.0)); /* a duplicate: the first one wins */
    journal_close(j);
    FILE *f = fopen(path, "a");
    fputs("{\"cell\":\"b\",\"runs\":[{\"na", f); /* cut short */
    fclose(f);

    journal_data d;
    assert_int_equal(journal_read(path, &d, NULL, &err), BENCH_OK);
    assert_int_equal(d.entries, 1);
    assert_int_equal(d.duplicates, 1);
    assert_true(d.partial_tail);
    assert_null(json_object_get(d.cells, "b"));
    long valid = d.valid_bytes;
    journal_data_free(&d);

    assert_int_equal(journal_reopen(path, valid, &j, &err), BENCH_OK);
    append(j, cell("b", 2.0));
    append(j, cell("c", 3.0));
    journal_close(j);
    assert_int_equal(journal_read(path, &d, NULL, &err), BENCH_OK);
    assert_int_equal(d.entries, 3);
    assert_false(d.partial_tail);
    assert_int_equal(d.bad_lines, 0);
    double t = json_real_value(json_object_get(
        json_array_get(json_object_get(json_object_get(d.cells, "a"), "runs"), 0), "real_time"));
    assert_true(t == 1.0);

    /* The resume merge: cells in profile order, each exactly once. */
    const char *names[] = { "c", "a", "b", "d" };
    int missing = -1;
    json_t *root = results_assemble(json_object_get(d.header, "context"), names, 4, d.cells,
                                    &missing);
    assert_int_equal(missing, 1);
    json_t *b = json_object_get(root, "benchmarks");
    assert_int_equal(json_array_size(b), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "name")), "c");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 1), "name")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 2), "name")), "b");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 2), "family_index")), 2);
    assert_int_equal(json_object_size(json_object_get(root, "itera_op_profile")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "context"),
                                                          "itera_platform")), "embedded");
    json_decref(root);
    journal_data_free(&d);
}

static void test_run_json(void **state)
{
    (void)state;
    const char *cn[] = { "tokens_per_second", "gflops" };
    double cv[] = { 123.5, NAN };
    gb_run_result r = {
        .name = "x/real_time_mean", .run_type = "aggregate", .aggregate_name = "mean",
        .iterations = 3, .real_time = 2.5, .cpu_time = 2.0, .time_unit = "ms",
        .n_counters = 2, .counter_names = cn, .counter_values = cv,
    };
    json_t *o = results_run_json(&r, "prefill/fp32/sequential/seq:8/batch:1/threads:2", 4, 3,
                                 "emulated");
    assert_string_equal(json_string_value(json_object_get(o, "name")),
                        "prefill/fp32/sequential/seq:8/batch:1/threads:2_mean");
    assert_string_equal(json_string_value(json_object_get(o, "run_name")),
                        "prefill/fp32/sequential/seq:8/batch:1/threads:2");
    assert_string_equal(json_string_value(json_object_get(o, "run_type")), "aggregate");
    assert_string_equal(json_string_value(json_object_get(o, "aggregate_unit")), "time");
    assert_null(json_object_get(o, "repetition_index"));
    assert_int_equal(json_integer_value(json_object_get(o, "repetitions")), 3);
    assert_string_equal(json_string_value(json_object_get(o, "time_unit")), "ms");
    assert_true(json_real_value(json_object_get(o, "tokens_per_second")) == 123.5);
    assert_true(json_is_null(json_object_get(o, "gflops")));
    assert_string_equal(json_string_value(json_object_get(o, "label")), "emulated");
    json_decref(o);

    gb_run_result e = { .run_type = "iteration", .repetition_index = 1, .error_occurred = true,
                        .error_message = "binding did not take", .time_unit = "ns" };
    o = results_run_json(&e, "c", 0, 2, NULL);
    assert_true(json_is_true(json_object_get(o, "error_occurred")));
    assert_string_equal(json_string_value(json_object_get(o, "error_message")),
                        "binding did not take");
    assert_int_equal(json_integer_value(json_object_get(o, "repetition_index")), 1);
    assert_null(json_object_get(o, "label"));
    json_decref(o);
}

static void test_atomic_write(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/out/embedded/ci.json", dir);
    json_t *root = json_pack("{s:{s:s}, s:[{s:s}]}", "context", "itera_profile", "ci",
                             "benchmarks", "name", "a");
    assert_int_equal(results_write_atomic(path, root, &err), BENCH_OK);
    json_error_t je;
    json_t *back = json_load_file(path, 0, &je);
    assert_non_null(back);
    assert_true(json_equal(root, back));
    json_decref(back);

    /* Replacing keeps a valid file and leaves no temporary behind. */
    json_object_set_new(root, "extra", json_true());
    assert_int_equal(results_write_atomic(path, root, &err), BENCH_OK);
    back = json_load_file(path, 0, &je);
    assert_true(json_equal(root, back));
    json_decref(back);
    json_decref(root);
    char d2[300];
    snprintf(d2, sizeof d2, "%s/out/embedded", dir);
    DIR *dd = opendir(d2);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dd)))
        if (e->d_name[0] != '.')
            files++;
    closedir(dd);
    assert_int_equal(files, 1);

    /* An unwritable destination is an error naming it. */
    root = json_object();
    assert_int_equal(results_write_atomic("/proc/itera-nope/x.json", root, &err), BENCH_ERR_IO);
    assert_non_null(strstr(err.msg, "/proc/itera-nope"));
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_roundtrip),
        cmocka_unit_test(test_journal_missing_and_bad),
        cmocka_unit_test(test_journal_partial_tail_and_resume),
        cmocka_unit_test(test_run_json),
        cmocka_unit_test(test_atomic_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
