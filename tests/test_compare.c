/*
 * test_compare.c: the Mann-Whitney U test against known values, the verdict rules (U test,
 * spread, too few), --variants matching, the --fail-above gate's exit code, the
 * fingerprint warning and bad input (exit 2), on the fixtures in tests/data/.
 *
 * Known values: scipy.stats.mannwhitneyu documentation example (males vs females, U = 17,
 * exact p = 0.1111..., asymptotic p = 0.11134688653314041); the others were computed
 * independently (brute-force enumeration of every rank assignment for exact p, and the
 * tie-corrected normal approximation with continuity correction as scipy defines it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "machine.h"

#define DATA "tests/data/"

static void assert_close(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-300)) {
        fail_msg("got %.17g, want %.17g (rel tol %g)", got, want, rel);
    }
}

/* ---- U test ---- */

static void test_mwu_scipy_doc_example(void **state)
{
    (void)state;
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    mwu_result r;
    assert_int_equal(mwu_test(males, 5, females, 4, MWU_EXACT, &r), 0);
    assert_close(r.u1, 17.0, 0);
    assert_close(r.u2, 3.0, 0);
    assert_close(r.p, 0.1111111111111111, 1e-12);
    assert_true(r.exact);
    assert_false(r.ties);
    assert_int_equal(mwu_test(males, 5, females, 4, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.11134688653314041, 1e-12);
    assert_false(r.exact);
    /* the test is symmetric: swapping the samples swaps U1 and U2, keeps p */
    assert_int_equal(mwu_test(females, 4, males, 5, MWU_EXACT, &r), 0);
    assert_close(r.u1, 3.0, 0);
    assert_close(r.p, 0.1111111111111111, 1e-12);
}

static void test_mwu_separated(void **state)
{
    (void)state;
    const double a3[] = {1, 2, 3}, b3[] = {4, 5, 6};
    mwu_result r;
    /* n = 3 per side, fully separated: the smallest p there is, 2 / C(6,3) = 0.1 */
    assert_int_equal(mwu_test(a3, 3, b3, 3, MWU_EXACT, &r), 0);
    assert_close(r.u1, 0.0, 0);
    assert_close(r.p, 0.1, 1e-12);
    assert_int_equal(mwu_test(a3, 3, b3, 3, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.0808555983700523, 1e-9);

    const double a9[] = {1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9};
    const double b9[] = {10.1, 11.1, 12.1, 13.1, 14.1, 15.1, 16.1, 17.1, 18.1};
    /* 2 / C(18, 9) = 2 / 48620 */
    assert_int_equal(mwu_test(a9, 9, b9, 9, MWU_EXACT, &r), 0);
    assert_close(r.p, 2.0 / 48620.0, 1e-12);
    assert_close(r.p, 4.113533525298231e-05, 1e-9);
    assert_int_equal(mwu_test(a9, 9, b9, 9, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.0004122948020616911, 1e-9);
    /* auto: no ties -> exact */
    assert_int_equal(mwu_test(a9, 9, b9, 9, MWU_AUTO, &r), 0);
    assert_true(r.exact);
}

static void test_mwu_mixed_and_ties(void **state)
{
    (void)state;
    const double a[] = {3.1, 1.2, 4.5, 2.2, 5.0, 6.1, 0.4}, b[] = {2.9, 6.2, 7.7, 5.5, 8.1, 4.4};
    mwu_result r;
    assert_int_equal(mwu_test(a, 7, b, 6, MWU_EXACT, &r), 0);
    assert_close(r.u1, 8.0, 0);
    assert_close(r.p, 0.07342657342657342, 1e-12);
    assert_int_equal(mwu_test(a, 7, b, 6, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.07414553111140688, 1e-9);

    /* ties: midranks and the tie-corrected variance; auto falls back to the normal */
    const double t1[] = {1, 2, 2, 3, 4, 5, 5, 6, 7}, t2[] = {2, 3, 5, 6, 7, 8, 8, 9, 10};
    assert_int_equal(mwu_test(t1, 9, t2, 9, MWU_AUTO, &r), 0);
    assert_true(r.ties);
    assert_false(r.exact);
    assert_close(r.u1, 17.5, 0);
    assert_close(r.p, 0.04558497219522646, 1e-9);

    /* everything tied: no evidence at all */
    const double same[] = {1, 1, 1};
    assert_int_equal(mwu_test(same, 3, same, 3, MWU_AUTO, &r), 0);
    assert_close(r.p, 1.0, 0);
    /* bad input */
    assert_int_equal(mwu_test(a, 0, b, 6, MWU_AUTO, &r), -1);
}

/* The exact tail for larger samples agrees with the normal approximation roughly, and a
 * distribution sums to one (p of the median U is 1). */
static void test_mwu_exact_large(void **state)
{
    (void)state;
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = 2 * i;     /* interleaved: U1 = n1 n2 / 2 - ... close to the middle */
        y[i] = 2 * i + 1;
    }
    mwu_result e, a;
    assert_int_equal(mwu_test(x, 40, y, 40, MWU_EXACT, &e), 0);
    assert_int_equal(mwu_test(x, 40, y, 40, MWU_ASYMPTOTIC, &a), 0);
    assert_true(e.p > 0.5 && e.p <= 1.0);
    assert_close(e.p, a.p, 0.02);
    double z[60];
    for (int i = 0; i < 60; i++)
        z[i] = i;
    assert_int_equal(mwu_test(z, 60, z, 60, MWU_EXACT, &e), -1); /* beyond MWU_EXACT_MAX */
}

/* ---- verdict rules ---- */

static void test_judge_rules(void **state)
{
    (void)state;
    const double b9[] = {1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08};
    double n9[9];
    for (int i = 0; i < 9; i++)
        n9[i] = b9[i] + 0.2;
    compare_judgement j;
    compare_judge(b9, 9, n9, 9, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_UTEST);
    assert_int_equal(j.verdict, VERDICT_SLOWER);
    assert_true(j.u.p < 0.001);
    assert_close(j.change_pct, 0.2 / 1.04 * 100, 1e-9);
    assert_close(j.worse_pct, j.change_pct, 0);
    /* the same numbers as a throughput: new is higher, so faster */
    compare_judge(b9, 9, n9, 9, true, 0.05, &j);
    assert_int_equal(j.verdict, VERDICT_FASTER);
    assert_true(j.worse_pct < 0);

    /* 9 repetitions, interleaved: the U test finds nothing */
    double m9[9];
    for (int i = 0; i < 9; i++)
        m9[i] = b9[i] + 0.005;
    compare_judge(b9, 9, m9, 9, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_UTEST);
    assert_int_equal(j.verdict, VERDICT_SAME);

    /* 3 repetitions, apart: the U test cannot reach 0.05 (p = 0.1) but the spread rule decides */
    const double b3[] = {2.0, 2.1, 2.2}, n3[] = {1.5, 1.6, 1.7}, o3[] = {1.1, 1.3, 2.05};
    compare_judge(b3, 3, n3, 3, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_SPREAD);
    assert_int_equal(j.verdict, VERDICT_FASTER);
    assert_close(j.u.p, 0.1, 1e-12);
    /* overlapping ranges: no significant change, even with a large mean difference */
    compare_judge(b3, 3, o3, 3, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_SPREAD);
    assert_int_equal(j.verdict, VERDICT_SAME);
    /* 8 vs 9 repetitions still uses the spread rule */
    compare_judge(b9, 8, n9, 9, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_SPREAD);
    assert_int_equal(j.verdict, VERDICT_SLOWER);

    /* one repetition: nothing to judge by */
    compare_judge(b3, 1, n3, 1, false, 0.05, &j);
    assert_int_equal(j.rule, RULE_TOO_FEW);
    assert_int_equal(j.verdict, VERDICT_SAME);
    /* missing */
    compare_judge(b3, 0, n3, 3, false, 0.05, &j);
    assert_int_equal(j.verdict, VERDICT_NONE);
    assert_string_equal(compare_verdict_name(VERDICT_SAME), "no significant change");
}

/* ---- the command ---- */

typedef struct captured {
    int rc;
    char out[65536];
    char err[16384];
} captured;

static void slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* Runs compare_main with stdout and stderr captured. */
static void run_compare(captured *c, int argc, const char **argv)
{
    char po[] = "/tmp/test_compare_outXXXXXX", pe[] = "/tmp/test_compare_errXXXXXX";
    int fo = mkstemp(po), fe = mkstemp(pe);
    assert_true(fo >= 0 && fe >= 0);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fo, 1);
    dup2(fe, 2);
    c->rc = compare_main(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    slurp(fo, c->out, sizeof c->out);
    slurp(fe, c->err, sizeof c->err);
    close(fo);
    close(fe);
    unlink(po);
    unlink(pe);
}

static captured cap;

static void test_cli_two_files(void **state)
{
    (void)state;
    const char *argv[] = {"compare", DATA "compare_base.json", DATA "compare_new.json"};
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "| Benchmark | Base | New | Change % | p-value | Verdict | Rule |"));
    /* 9 repetitions, +0.2 ms: slower by the U test */
    assert_non_null(strstr(cap.out, "| `prefill/fp32/chunked/seq:128/batch:1/threads:2` | 1.040 ms "
                                    "(1.000–1.080, n=9) | 1.240 ms (1.200–1.280, n=9) | +19.2 | "
                                    "<0.0001 | **slower** | U test (exact p), p < 0.05 |"));
    /* 3 repetitions apart: faster by the spread rule, p shown but not used */
    assert_non_null(strstr(cap.out, "| -23.8 | 0.1000 | **faster** | min–max ranges do not overlap"));
    assert_non_null(strstr(cap.out, "| +8.3 | 0.7000 | no significant change | min–max ranges overlap"));
    assert_non_null(strstr(cap.out, "1 benchmark only in base, 0 only in new"));
    /* fingerprint: machine and build differ, each named, on stderr and above the table */
    assert_non_null(strstr(cap.err, "differ in machine: host_name is 'fixture-host'"));
    assert_non_null(strstr(cap.err, "differ in build: itera_git is 'abc1234'"));
    char *warn = strstr(cap.out, "**Warning**: the files differ in machine: `host_name`");
    char *table = strstr(cap.out, "| Benchmark |");
    assert_non_null(warn);
    assert_true(warn < table);
    assert_non_null(strstr(cap.out, "differ in build: `itera_git` is `abc1234` in base but `def5678`"));
    assert_null(strstr(cap.out, "differ in platform"));
}

static void test_cli_gate(void **state)
{
    (void)state;
    const char *argv[] = {"compare", "--fail-above", "5", DATA "compare_base.json",
                          DATA "compare_new.json"};
    run_compare(&cap, 5, argv);
    assert_int_equal(cap.rc, 1);
    assert_non_null(strstr(cap.out, "**Gate failed**: 1 benchmark is significantly slower by more than 5%"));
    /* the slowdown is 19.2 %: a 25 % gate passes */
    const char *argv2[] = {"compare", "--fail-above=25", DATA "compare_base.json",
                           DATA "compare_new.json"};
    run_compare(&cap, 4, argv2);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "Gate passed"));
    /* the faster int8 benchmark never trips the gate, whatever the threshold */
    const char *argv3[] = {"compare", "--fail-above", "0", DATA "compare_new.json",
                           DATA "compare_base.json"};
    run_compare(&cap, 5, argv3);
    assert_int_equal(cap.rc, 1); /* base/new swapped: int8 is now slower by the spread rule */
    assert_non_null(strstr(cap.out, "**Gate failed**: 1 benchmark is"));
    /* throughput: the slower fp32 run has lower tokens/s */
    const char *argv4[] = {"compare", "--metric", "tokens_per_second", "--fail-above", "5",
                           DATA "compare_base.json", DATA "compare_new.json"};
    run_compare(&cap, 7, argv4);
    assert_int_equal(cap.rc, 1);
    assert_non_null(strstr(cap.out, "tok/s"));
    assert_non_null(strstr(cap.out, "**slower**"));
}

static void test_cli_variants(void **state)
{
    (void)state;
    const char *argv[] = {"compare", "--variants", "sequential,chunked", DATA "variants.json"};
    run_compare(&cap, 4, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "| `scan/sequential→chunked/channels:256/state:64/seq:128/batch:4/threads:2` |"));
    assert_non_null(strstr(cap.out, "| `prefill/fp32/sequential→chunked/seq:128/batch:1/threads:2` |"));
    /* parallel has no sequential twin in the pair and is not listed */
    assert_null(strstr(cap.out, "parallel"));
    assert_non_null(strstr(cap.out, "2 benchmarks in both: 2 faster, 0 slower"));
    /* one file: no fingerprint warning */
    assert_null(strstr(cap.err, "warning"));
    /* reversed: slower, and the gate fails */
    const char *argv2[] = {"compare", "--fail-above", "10", "--variants", "chunked,sequential",
                           DATA "variants.json"};
    run_compare(&cap, 6, argv2);
    assert_int_equal(cap.rc, 1);
    /* no pair */
    const char *argv3[] = {"compare", "--variants", "int8,int4", DATA "variants.json"};
    run_compare(&cap, 4, argv3);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "variants.json: no pair of benchmarks"));
}

static void test_cli_bad_input(void **state)
{
    (void)state;
    const char *missing[] = {"compare", DATA "no_such_file.json", DATA "compare_new.json"};
    run_compare(&cap, 3, missing);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "no_such_file.json: cannot open"));

    const char *notjson[] = {"compare", DATA "compare_base.json", DATA "make_fixtures.py"};
    run_compare(&cap, 3, notjson);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "make_fixtures.py:1:1: not JSON"));

    char p[] = "/tmp/test_compare_jsonXXXXXX";
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_true(write(fd, "{\"benchmarks\": 3}", 17) == 17);
    close(fd);
    const char *notgb[] = {"compare", p, DATA "compare_new.json"};
    run_compare(&cap, 3, notgb);
    unlink(p);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "not a Google Benchmark result file"));

    const char *nocommon[] = {"compare", DATA "desktop_emulated.json", DATA "compare_new.json"};
    run_compare(&cap, 3, nocommon);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "no benchmark is in both"));

    const char *usage1[] = {"compare", DATA "compare_new.json"};
    run_compare(&cap, 2, usage1);
    assert_int_equal(cap.rc, 2);
    const char *usage2[] = {"compare", "--metric", "bogus", DATA "compare_base.json",
                            DATA "compare_new.json"};
    run_compare(&cap, 5, usage2);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "--metric 'bogus'"));
    const char *usage3[] = {"compare", "--fail-above", "x", DATA "compare_base.json",
                            DATA "compare_new.json"};
    run_compare(&cap, 5, usage3);
    assert_int_equal(cap.rc, 2);
    const char *usage4[] = {"compare", "--variants", "chunked", DATA "variants.json"};
    run_compare(&cap, 4, usage4);
    assert_int_equal(cap.rc, 2);
    const char *help[] = {"compare", "--help"};
    run_compare(&cap, 2, help);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "usage: itera-bench compare"));
}

/* Writes a minimal GB file with one benchmark of the given name and latencies (ms). */
static void write_gb(const char *path, const char *name, const double *ms, int n)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "{\"context\": {\"host_name\": \"h\"}, \"benchmarks\": [");
    for (int i = 0; i < n; i++)
        fprintf(fp, "%s{\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", "
                    "\"repetitions\": %d, \"repetition_index\": %d, \"iterations\": 5, "
                    "\"real_time\": %.17g, \"cpu_time\": %.17g, \"time_unit\": \"ms\"}",
                i ? ", " : "", name, name, n, i, ms[i], ms[i]);
    fprintf(fp, "]}\n");
    fclose(fp);
}

/* GB appends repeats:N (and min_time, real_time, ...) to names; runs with different
 * repetition counts must still match. */
static void test_cli_gb_suffixes(void **state)
{
    (void)state;
    const double a[] = {1.0, 1.1, 1.2}, b[] = {2.0, 2.1, 2.2, 2.3, 2.4};
    char pa[] = "/tmp/test_compare_aXXXXXX", pb[] = "/tmp/test_compare_bXXXXXX";
    close(mkstemp(pa));
    close(mkstemp(pb));
    write_gb(pa, "prefill/fp32/chunked/seq:128/batch:1/threads:2/repeats:3", a, 3);
    write_gb(pb, "prefill/fp32/chunked/seq:128/batch:1/threads:2/repeats:5/min_time:0.100/real_time", b, 5);
    const char *argv[] = {"compare", pa, pb};
    run_compare(&cap, 3, argv);
    unlink(pa);
    unlink(pb);
    assert_int_equal(cap.rc, 0);
    /* time_unit ms converted: 1.1 ms vs 2.2 ms, apart: slower by the spread rule */
    assert_non_null(strstr(cap.out, "| `prefill/fp32/chunked/seq:128/batch:1/threads:2` | 1.100 ms "
                                    "(1.000–1.200, n=3) | 2.200 ms (2.000–2.400, n=5) | +100.0 |"));
    assert_non_null(strstr(cap.out, "**slower**"));
}

/* A GB file of one benchmark with the machine fingerprint of a fixture root
 * (tests/data/machine/NAME), hostname replaced when host is not NULL. */
static void write_gb_machine(const char *path, const char *fixture, const char *host)
{
    char root[256];
    snprintf(root, sizeof root, "tests/data/machine/%s", fixture);
    machine_info m;
    bench_error e;
    if (machine_read(root, "avx2", &m, &e) != BENCH_OK)
        fail_msg("%s", e.msg);
    if (host)
        snprintf(m.hostname, sizeof m.hostname, "%s", host);
    json_t *ctx = json_object();
    machine_to_gb_context(&m, ctx);
    machine_to_context(&m, ctx);
    json_t *runs = json_array();
    for (int i = 0; i < 3; i++)
        json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:s}",
                                              "name", "scan/chunked/channels:1/state:1/seq:1/batch:1/threads:1",
                                              "run_name", "scan/chunked/channels:1/state:1/seq:1/batch:1/threads:1",
                                              "run_type", "iteration", "repetitions", 3,
                                              "repetition_index", i, "iterations", 10,
                                              "real_time", 1.0 + 0.1 * i, "cpu_time", 1.0,
                                              "time_unit", "ms"));
    json_t *root_j = json_pack("{s:o, s:o}", "context", ctx, "benchmarks", runs);
    assert_int_equal(json_dump_file(root_j, path, 0), 0);
    json_decref(root_j);
}

/* Files with fingerprints: another machine is named field by field; the same machine under
 * another host name is not another machine. */
static void test_cli_fingerprints(void **state)
{
    (void)state;
    char pa[] = "/tmp/test_compare_faXXXXXX", pb[] = "/tmp/test_compare_fbXXXXXX";
    close(mkstemp(pa));
    close(mkstemp(pb));
    write_gb_machine(pa, "intel", NULL);
    write_gb_machine(pb, "amd", NULL);
    const char *argv[] = {"compare", pa, pb};
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.err, "differ in machine: itera_machine_cores is '2' in"));
    assert_non_null(strstr(cap.err, "differ in machine: itera_machine_cpu_model is "
                                    "'Intel(R) Xeon(R) Processor' in"));
    assert_non_null(strstr(cap.out, "differ in machine: `itera_machine_kernel` is "
                                    "`6.18.44-fc-v669` in base but `6.1.0-18-amd64` in new"));
    assert_null(strstr(cap.err, "host_name"));
    assert_null(strstr(cap.err, "itera_machine_hostname"));

    write_gb_machine(pb, "intel", "another-name");
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 0);
    assert_null(strstr(cap.err, "differ in machine"));
    unlink(pa);
    unlink(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mwu_scipy_doc_example),
        cmocka_unit_test(test_mwu_separated),
        cmocka_unit_test(test_mwu_mixed_and_ties),
        cmocka_unit_test(test_mwu_exact_large),
        cmocka_unit_test(test_judge_rules),
        cmocka_unit_test(test_cli_two_files),
        cmocka_unit_test(test_cli_gate),
        cmocka_unit_test(test_cli_variants),
        cmocka_unit_test(test_cli_bad_input),
        cmocka_unit_test(test_cli_gb_suffixes),
        cmocka_unit_test(test_cli_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
