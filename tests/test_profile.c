/*
 * test_profile.c: sweep profiles: the shipped ones, defaults, every error (unknown
 * section, key, name; bad and out-of-range numbers; empty items; missing file) with its
 * file/line/choices, --set overrides, and the cartesian product (count, names, order,
 * `platform` threads, duplicates).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "platform.h"
#include "profile.h"

static bench_error err;

static bench_status load(const char *text, profile *p)
{
    err.msg[0] = '\0';
    return profile_load_string(text, "profiles/t.ini", p, &err);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static int count_cells(const profile *p, int platform_threads)
{
    bench_cell *cells = NULL;
    int n = -1;
    if (profile_cells(p, platform_threads, &cells, &n, &err) != BENCH_OK)
        fail_msg("%s", err.msg);
    free(cells);
    return n;
}

static void test_shipped_profiles(void **state)
{
    (void)state;
    const char *names[] = { "default", "ci", "kernels", "quant", "seqlen", "edge" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        if (bench_data_find("profiles", names[i], path, sizeof path, &err) != BENCH_OK)
            fail_msg("%s", err.msg);
        profile p;
        if (profile_load(path, &p, &err) != BENCH_OK)
            fail_msg("%s", err.msg);
        assert_string_equal(p.name, names[i]);
        assert_true(count_cells(&p, 2) > 0);
    }
}

/* The report's kernel table needs channels 256 state 64 seq 128 batch 4, and the
 * `kernels` and `seqlen` profiles a scan length sweep up to 8192. */
static void test_shipped_scan_shapes(void **state)
{
    (void)state;
    const char *names[] = { "default", "ci", "kernels", "seqlen" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        assert_int_equal(bench_data_find("profiles", names[i], path, sizeof path, &err), BENCH_OK);
        profile p;
        assert_int_equal(profile_load(path, &p, &err), BENCH_OK);
        bench_cell *cells;
        int n;
        assert_int_equal(profile_cells(&p, 2, &cells, &n, &err), BENCH_OK);
        bool table = false;
        int longest = 0;
        for (int k = 0; k < n; k++) {
            if (cells[k].family != BENCH_SCAN)
                continue;
            table |= cells[k].channels == 256 && cells[k].state == 64 && cells[k].seq == 128 &&
                     cells[k].batch == 4;
            longest = cells[k].seq > longest ? cells[k].seq : longest;
        }
        free(cells);
        if (!table)
            fail_msg("profile %s has no scan cell at channels 256 state 64 seq 128 batch 4",
                     names[i]);
        if (strcmp(names[i], "kernels") == 0 || strcmp(names[i], "seqlen") == 0)
            assert_int_equal(longest, 8192);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("", &p), BENCH_OK);
    assert_string_equal(p.name, "t");
    assert_int_equal(p.families.n, 3);
    assert_int_equal(p.kernels.n, 3);
    assert_int_equal(p.quants.n, ITERA_QUANT_COUNT); /* every row of the format table */
    assert_int_equal(p.repetitions, 3);
    assert_int_equal(p.scan_channels.v[0], 256);
    assert_int_equal(p.scan_state.v[0], 64);
    assert_int_equal(p.scan_seq.v[0], 128);
    assert_int_equal(p.scan_batch.v[0], 4);
    assert_int_equal(p.threads.n, 1);
    assert_int_equal(p.threads.v[0], PROFILE_THREADS_PLATFORM);
}

static void test_values(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nfamilies = prefill\nkernels = chunked , sequential\n"
                          "quants = int4\nseq = 16,32, 16\nthreads = 1, platform\n"
                          "min_time = 0.25\nrepetitions = 7\nab_budget_minutes = 4.5\n", &p),
                     BENCH_OK);
    assert_int_equal(p.families.n, 1);
    assert_int_equal(p.families.v[0], BENCH_PREFILL);
    assert_int_equal(p.kernels.n, 2);
    assert_int_equal(p.kernels.v[0], ITERA_KERNEL_CHUNKED);
    assert_int_equal(p.kernels.v[1], ITERA_KERNEL_SEQUENTIAL);
    assert_int_equal(p.quants.v[0], ITERA_QUANT_INT4);
    assert_int_equal(p.seq.n, 2); /* the repeated 16 is dropped */
    assert_int_equal(p.threads.v[1], PROFILE_THREADS_PLATFORM);
    assert_true(p.min_time == 0.25);
    assert_int_equal(p.repetitions, 7);
    assert_true(p.ab_budget_minutes == 4.5);
    char buf[256];
    assert_int_equal(profile_format(&p, "kernels", buf, sizeof buf), 0);
    assert_string_equal(buf, "chunked, sequential");
    assert_int_equal(profile_format(&p, "threads", buf, sizeof buf), 0);
    assert_string_equal(buf, "1, platform");
}

static void test_unknown_key(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nseq = 64\n\nseqs = 128\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "profiles/t.ini:4:");
    assert_has(err.msg, "'seqs'");
    assert_has(err.msg, "valid keys: ");
    assert_has(err.msg, "scan_channels");
}

static void test_unknown_section(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[sweep]\nseq = 64\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "profiles/t.ini:2:");
    assert_has(err.msg, "[sweep]");
    assert_has(err.msg, "valid sections: [profile]");
}

static void test_unknown_names(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nkernels = sequential, fast\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "profiles/t.ini:2:");
    assert_has(err.msg, "kernels: 'fast' is not a kernel");
    assert_has(err.msg, "sequential, parallel, chunked");

    assert_int_equal(load("[profile]\n\n\nquants = fp16\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "profiles/t.ini:4:");
    assert_has(err.msg, "fp32, int8, int4");

    assert_int_equal(load("[profile]\nfamilies = train\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "scan, prefill, decode");

    assert_int_equal(load("[profile]\nkernels = auto\n", &p), BENCH_ERR_INPUT); /* not a named variant */
    assert_has(err.msg, "'auto'");
}

static void test_bad_numbers(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nseq = 64, 12x\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "profiles/t.ini:2:");
    assert_has(err.msg, "seq: '12x' is not a whole number in 1..8192");

    assert_int_equal(load("[profile]\nbatch = 0\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "batch: '0'");

    assert_int_equal(load("[profile]\nthreads = 1, many\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "or 'platform'");

    assert_int_equal(load("[profile]\nmin_time = -1\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "min_time");

    assert_int_equal(load("[profile]\nmin_time = nan\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "min_time");

    assert_int_equal(load("[profile]\nab_budget_minutes = 0\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "ab_budget_minutes: '0' is not a number of minutes in (0, 10000]");

    assert_int_equal(load("[profile]\nrepetitions = 2, 3\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "repetitions");

    assert_int_equal(load("[profile]\nseq = 64,,128\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "empty item");

    assert_int_equal(load("[profile]\nseq =\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "empty list");
}

static void test_missing_file(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(profile_load("/nonexistent/p.ini", &p, &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "/nonexistent/p.ini");
    char path[512];
    assert_int_equal(bench_data_find("profiles", "nightly", path, sizeof path, &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "unknown profile 'nightly'");
    assert_has(err.msg, "ci");
    assert_has(err.msg, "default");
}

static void test_overrides(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nseq = 128\n", &p), BENCH_OK);
    assert_int_equal(profile_override(&p, "seq=64,128", &err), BENCH_OK);
    assert_int_equal(p.seq.n, 2);
    assert_int_equal(p.seq.v[0], 64);
    assert_int_equal(profile_override(&p, "kernels = chunked", &err), BENCH_OK);
    assert_int_equal(p.kernels.n, 1);
    assert_int_equal(p.kernels.v[0], ITERA_KERNEL_CHUNKED);
    assert_int_equal(profile_override(&p, "min_time=0.5", &err), BENCH_OK);
    assert_true(p.min_time == 0.5);
    assert_int_equal(p.overrides, 3);
    assert_has(p.override_text, "seq=64,128; kernels = chunked; min_time=0.5");

    assert_int_equal(profile_override(&p, "seqs=64", &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "--set seqs=64");
    assert_has(err.msg, "valid keys");
    assert_int_equal(profile_override(&p, "quants=int2", &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "fp32, int8, int4");
    assert_int_equal(profile_override(&p, "seq", &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "key=value");
    assert_int_equal(p.seq.n, 2); /* failed overrides change nothing */
}

static void test_cartesian_product(void **state)
{
    (void)state;
    profile p;
    assert_int_equal(load("[profile]\nfamilies = scan, prefill, decode\n"
                          "kernels = sequential, parallel\ndecode_kernels = sequential\n"
                          "quants = fp32, int8, int4\nseq = 32, 64, 128\nbatch = 1, 4\n"
                          "threads = 1, platform\nsteps = 8, 16\n"
                          "scan_seq = 128, 1024\nscan_state = 16, 64\n", &p), BENCH_OK);
    /* scan 2 kernels x 1 channels x 2 states x 2 seqs x 1 batch x 2 threads = 16;
     * prefill 3 x 2 x 3 x 2 x 2 = 72; decode 3 x 1 x 2 x 2 x 2 = 24. */
    assert_int_equal(count_cells(&p, 4), 16 + 72 + 24);
    /* `platform` = 1 duplicates the explicit 1: one thread value only. */
    assert_int_equal(count_cells(&p, 1), 8 + 36 + 12);

    bench_cell *cells;
    int n;
    assert_int_equal(profile_cells(&p, 4, &cells, &n, &err), BENCH_OK);
    assert_string_equal(cells[0].name,
                        "scan/sequential/channels:256/state:16/seq:128/batch:4/threads:1");
    assert_string_equal(cells[1].name,
                        "scan/sequential/channels:256/state:16/seq:128/batch:4/threads:4");
    assert_string_equal(cells[16].name, "prefill/fp32/sequential/seq:32/batch:1/threads:1");
    assert_string_equal(cells[16 + 72].name, "decode/fp32/sequential/steps:8/batch:1/threads:1");
    assert_string_equal(cells[n - 1].name, "decode/int4/sequential/steps:16/batch:4/threads:4");
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_string_not_equal(cells[i].name, cells[j].name);
    free(cells);

    /* Families in the order the profile lists them. */
    assert_int_equal(profile_override(&p, "families=decode,scan", &err), BENCH_OK);
    assert_int_equal(profile_cells(&p, 4, &cells, &n, &err), BENCH_OK);
    assert_int_equal(n, 24 + 16);
    assert_int_equal(cells[0].family, BENCH_DECODE);
    assert_int_equal(cells[24].family, BENCH_SCAN);
    free(cells);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_profiles),
        cmocka_unit_test(test_shipped_scan_shapes),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_cartesian_product),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
