/*
 * test_compare.c: the verdict rule of bench/compare.h on synthetic samples (identical
 * distributions -> no change; a 10% shift with 1% noise -> slower; a 10% shift with 30%
 * noise -> no change; the noise band; too few samples), the multiple-comparison correction
 * on a synthetic set of 200 unchanged and 10 changed benchmarks, and the command on files:
 * tables, pairing of one ab session, contention, --match / --variants, the noise
 * threshold's sources, the cross-machine and cross-model refusal (--cross), --json, and
 * the gate's exit codes (0 / 1 / 2).
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

#include <jansson.h>

#include "compare.h"
#include "machine.h"
#include "stats.h"

#define DATA "tests/data/"

/* ---- synthetic samples ---- */

static double normal(stats_rng *g)
{
    double u1 = (stats_rng_next(g) >> 11) * 0x1.0p-53, u2 = (stats_rng_next(g) >> 11) * 0x1.0p-53;
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* n log-normal values around median m with relative spread sigma. */
static void draw(stats_rng *g, double *out, int n, double m, double sigma)
{
    for (int i = 0; i < n; i++)
        out[i] = m * exp(sigma * normal(g));
}

/* Paired rounds: a shared per-round drift (both sides) plus each side's own noise. */
static void draw_pairs(stats_rng *g, double *b, double *n, int k, double shift, double sigma,
                       double drift)
{
    for (int i = 0; i < k; i++) {
        double d = exp(drift * normal(g));
        b[i] = 100 * d * exp(sigma * normal(g));
        n[i] = 100 * (1 + shift) * d * exp(sigma * normal(g));
    }
}

/* The verdict for one benchmark judged alone (adjusted p = p). */
static compare_verdict judge(const double *b, int nb, const double *n, int nn, bool paired,
                             bool higher, double noise, compare_reason *why)
{
    compare_estimate e;
    assert_int_equal(compare_estimate_make(b, nb, n, nn, paired, higher, 0.95, &e), 0);
    return compare_decide(&e, e.p, 0.05, noise, why);
}

static void test_rule_synthetic(void **state)
{
    (void)state;
    enum { N = 15, SEEDS = 40 };
    double b[N], n[N];
    int same_flagged = 0, low_slower = 0, high_nochange = 0, paired_slower = 0,
        paired_same_flagged = 0, paired_high_nochange = 0;
    for (int s = 0; s < SEEDS; s++) {
        stats_rng g;
        stats_rng_seed(&g, 1000 + (uint64_t)s);
        /* identical distributions, 5% spread */
        draw(&g, b, N, 100, 0.05);
        draw(&g, n, N, 100, 0.05);
        same_flagged += judge(b, N, n, N, false, false, 0.02, NULL) != VERDICT_NO_CHANGE;
        /* 10% slower, 1% noise */
        draw(&g, b, N, 100, 0.01);
        draw(&g, n, N, 110, 0.01);
        low_slower += judge(b, N, n, N, false, false, 0.02, NULL) == VERDICT_SLOWER;
        /* 10% slower, 30% noise */
        draw(&g, b, N, 100, 0.30);
        draw(&g, n, N, 110, 0.30);
        high_nochange += judge(b, N, n, N, false, false, 0.02, NULL) == VERDICT_NO_CHANGE;
        /* paired rounds with a large shared drift (20%) the pairing removes */
        draw_pairs(&g, b, n, N, 0.10, 0.01, 0.20);
        paired_slower += judge(b, N, n, N, true, false, 0.02, NULL) == VERDICT_SLOWER;
        draw_pairs(&g, b, n, N, 0.0, 0.05, 0.20);
        paired_same_flagged += judge(b, N, n, N, true, false, 0.02, NULL) != VERDICT_NO_CHANGE;
        draw_pairs(&g, b, n, N, 0.10, 0.30, 0.0);
        paired_high_nochange += judge(b, N, n, N, true, false, 0.02, NULL) == VERDICT_NO_CHANGE;
    }
    printf("# rule over %d seeds, n=%d: identical flagged %d (paired %d); 10%%/1%% slower %d "
           "(paired, 20%% drift: %d); 10%%/30%% no change %d (paired %d)\n", SEEDS, N,
           same_flagged, paired_same_flagged, low_slower, paired_slower, high_nochange,
           paired_high_nochange);
    assert_true(same_flagged <= 1);
    assert_true(paired_same_flagged <= 1);
    assert_int_equal(low_slower, SEEDS);
    assert_int_equal(paired_slower, SEEDS);
    assert_true(high_nochange >= SEEDS - 4);
    assert_true(paired_high_nochange >= SEEDS - 4);
    /* the same shifted drift unpaired: the drift hides it (why ab pairs rounds) */
    int unpaired_drift_slower = 0;
    for (int s = 0; s < SEEDS; s++) {
        stats_rng g;
        stats_rng_seed(&g, 5000 + (uint64_t)s);
        draw_pairs(&g, b, n, N, 0.10, 0.01, 0.20);
        unpaired_drift_slower += judge(b, N, n, N, false, false, 0.02, NULL) == VERDICT_SLOWER;
    }
    assert_true(unpaired_drift_slower < SEEDS / 2);
}

static void test_rule_details(void **state)
{
    (void)state;
    double b[15], n[15];
    stats_rng g;
    stats_rng_seed(&g, 7);
    compare_reason why;
    /* 1% slower with 0.1% noise: significant, but inside a 2% noise band */
    draw(&g, b, 15, 100, 0.001);
    draw(&g, n, 15, 101, 0.001);
    assert_int_equal(judge(b, 15, n, 15, false, false, 0.02, &why), VERDICT_NO_CHANGE);
    assert_int_equal(why, REASON_WITHIN_NOISE);
    assert_int_equal(judge(b, 15, n, 15, false, false, 0.005, &why), VERDICT_SLOWER);
    assert_int_equal(why, REASON_CHANGED);
    /* as a throughput (higher is better) the same numbers are faster */
    assert_int_equal(judge(b, 15, n, 15, false, true, 0.005, &why), VERDICT_FASTER);
    compare_estimate e;
    assert_int_equal(compare_estimate_make(b, 15, n, 15, false, false, 0.95, &e), 0);
    assert_true(e.ratio > 1.008 && e.ratio < 1.012);
    assert_true(e.ratio_lo < e.ratio && e.ratio < e.ratio_hi);
    assert_true(fabs(e.worse - log(e.ratio)) < 1e-12);
    assert_true(fabs(e.base_median - stats_median(b, 15)) < 1e-12);
    /* significant only before the correction */
    assert_int_equal(compare_decide(&e, 0.2, 0.05, 0.005, &why), VERDICT_NO_CHANGE);
    assert_int_equal(why, REASON_NOT_SIGNIFICANT);
    /* 3 against 3 cannot reach p < 0.05 (2 / C(6,3) = 0.1), however far apart */
    const double b3[] = {1, 1.01, 1.02}, n3[] = {2, 2.01, 2.02};
    assert_int_equal(judge(b3, 3, n3, 3, false, false, 0.02, &why), VERDICT_NO_CHANGE);
    assert_int_equal(why, REASON_TOO_FEW);
    /* 5 pairs: 2^-4 = 0.0625 at best */
    assert_int_equal(judge(b3, 3, n3, 3, true, false, 0.02, &why), VERDICT_NO_CHANGE);
    assert_int_equal(why, REASON_TOO_FEW);
    /* unusable input */
    const double bad[] = {1, 0, 2};
    assert_int_equal(compare_estimate_make(bad, 3, n3, 3, false, false, 0.95, &e), -1);
    assert_int_equal(compare_estimate_make(b3, 1, n3, 3, false, false, 0.95, &e), -1);
    assert_int_equal(compare_estimate_make(b3, 3, n3, 2, true, false, 0.95, &e), -1);
    assert_string_equal(compare_verdict_name(VERDICT_NO_CHANGE), "no_change");
    assert_string_equal(compare_verdict_name(VERDICT_CONTENDED), "contended");
}

/* 200 unchanged benchmarks and 10 that are 10% slower (2% noise a side), 12 paired rounds each: without a
 * correction about 5% of the unchanged ones are flagged; after Benjamini-Hochberg none is,
 * and the real changes still are; Holm flags nothing at all at this size. */
static void test_correction_synthetic(void **state)
{
    (void)state;
    enum { NULLS = 200, REAL = 10, M = NULLS + REAL, K = 12 };
    static compare_estimate est[M];
    double p[M], q[M], b[K], n[K];
    stats_rng g;
    stats_rng_seed(&g, 99);
    for (int i = 0; i < M; i++) {
        draw_pairs(&g, b, n, K, i < NULLS ? 0.0 : 0.10, 0.02, 0.05);
        assert_int_equal(compare_estimate_make(b, K, n, K, true, false, 0.95, &est[i]), 0);
        p[i] = est[i].p;
    }
    for (int c = 0; c < 3; c++) {
        stats_correction corr = c == 0 ? STATS_CORR_NONE : c == 1 ? STATS_CORR_BH : STATS_CORR_HOLM;
        stats_adjust(p, M, corr, q);
        int false_alarms = 0, found = 0;
        for (int i = 0; i < M; i++) {
            compare_verdict v = compare_decide(&est[i], q[i], 0.05, 0.0, NULL);
            if (v != VERDICT_NO_CHANGE)
                *(i < NULLS ? &false_alarms : &found) += 1;
        }
        printf("# correction %s: %d of %d unchanged flagged, %d of %d changed found\n",
               stats_correction_name(corr), false_alarms, NULLS, found, REAL);
        if (corr == STATS_CORR_NONE) {
            assert_true(false_alarms >= 3);
        } else if (corr == STATS_CORR_BH) {
            assert_int_equal(false_alarms, 0);
            assert_true(found >= REAL - 1);
        } else {
            /* Holm at 12 rounds finds nothing: the smallest signed-rank p, 2^-11, times
             * 210 is above 0.05 (why BH is the default) */
            assert_int_equal(false_alarms, 0);
            assert_int_equal(found, 0);
        }
    }
}

/* ---- the command ---- */

typedef struct captured {
    int rc;
    char out[131072];
    char err[16384];
} captured;

static void slurp(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* Runs compare_cmd with stdout and stderr captured; rc as main.c maps the status. */
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
    bench_error e = {{0}};
    bench_status st = compare_cmd(argc, (char **)argv, &e);
    if (st != BENCH_OK && e.msg[0])
        fprintf(stderr, "itera-bench compare: %s\n", e.msg);
    c->rc = st == BENCH_OK ? 0 : st == BENCH_ERR_INPUT ? 2 : 1;
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
static char tmpdir[64];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* The context of a fixture machine (tests/data/machine/NAME). */
static json_t *machine_ctx(const char *fixture)
{
    char root[256];
    snprintf(root, sizeof root, "tests/data/machine/%s", fixture);
    machine_info m;
    bench_error e;
    if (machine_read(root, "avx2", &m, &e) != BENCH_OK)
        fail_msg("%s", e.msg);
    json_t *ctx = json_object();
    machine_to_gb_context(&m, ctx);
    machine_to_context(&m, ctx);
    json_object_set_new(ctx, "itera_model", json_string("synthetic seed 1"));
    json_object_set_new(ctx, "itera_platform", json_string("embedded"));
    return ctx;
}

/* Appends one benchmark's iteration runs (real_time in us; contended[i] marks runs). */
static void add_bench(json_t *benches, const char *name, const double *us, int n,
                      const int *contended)
{
    for (int i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:s, s:f}", "name", name,
                              "run_name", name, "run_type", "iteration", "repetitions", n,
                              "repetition_index", i, "iterations", 100, "real_time", us[i],
                              "cpu_time", us[i], "time_unit", "us", "tokens_per_second",
                              1e6 / us[i]);
        if (contended) {
            json_object_set_new(e, "contended", json_integer(contended[i]));
            json_object_set_new(e, "load_other_cpu", json_real(contended[i] ? 1.5 : 0.01));
        }
        json_array_append_new(benches, e);
    }
}

static void write_file(const char *path, json_t *ctx, json_t *benches)
{
    json_t *root = json_pack("{s:o, s:o}", "context", ctx, "benchmarks", benches);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
}

static void test_cli_two_files(void **state)
{
    (void)state;
    char js[128];
    path_in(js, sizeof js, "two.json");
    const char *argv[] = {"compare", DATA "compare_base.json", DATA "compare_new.json",
                          "--json", js};
    run_compare(&cap, 5, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "| Benchmark | Base | New | Ratio [95% CI] | p (adjusted) | n "
                                    "| Verdict | Why |"));
    assert_non_null(strstr(cap.out, "**Not interleaved**"));
    /* 9 against 9 repetitions, +0.2 ms: slower, interval and adjusted p shown */
    assert_non_null(strstr(cap.out, "| `prefill/fp32/chunked/seq:128/batch:1/threads:2` | 1.040 ms "
                                    "±2.9% | 1.240 ms ±2.4% | 1.192 [1.160, 1.225] | "));
    assert_non_null(strstr(cap.out, "| 9 / 9 | **slower** +19.2% |"));
    /* 3 against 3: p >= 0.1 whatever the values: no change, and why */
    assert_non_null(strstr(cap.out, "| 3 / 3 | ~ no change | n=3/3: p ≥ 0.1 at best |"));
    assert_non_null(strstr(cap.out, "**Summary**: 3 benchmarks in both: 1 slower, 0 faster, 2 no change, "
                                    "0 contended; geomean ratio"));
    assert_non_null(strstr(cap.out, "1 benchmark only in base, 0 only in new"));
    assert_non_null(strstr(cap.out, "Machine: `fixture-2c`"));
    assert_non_null(strstr(cap.out, "`itera_git` `abc1234` → `def5678`"));
    assert_non_null(strstr(cap.out, "Noise threshold assumed (2.0%"));
    /* the JSON: every verdict one of the four words, counts adding up, fingerprints */
    json_error_t je;
    json_t *j = json_load_file(js, 0, &je);
    assert_non_null(j);
    json_t *bs = json_object_get(j, "benchmarks");
    assert_int_equal(json_array_size(bs), 3);
    size_t k;
    json_t *b;
    int slower = 0;
    json_array_foreach(bs, k, b)
    {
        const char *v = json_string_value(json_object_get(b, "verdict"));
        assert_true(strcmp(v, "faster") == 0 || strcmp(v, "slower") == 0 ||
                    strcmp(v, "no_change") == 0 || strcmp(v, "contended") == 0);
        slower += strcmp(v, "slower") == 0;
        assert_true(json_is_number(json_object_get(b, "p_adjusted")));
        assert_int_equal(json_array_size(json_object_get(b, "ratio_ci")), 2);
    }
    assert_int_equal(slower, 1);
    json_t *sum = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "slower")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "no_change")), 2);
    assert_true(json_is_number(json_object_get(sum, "geomean_ratio")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "noise_threshold"),
                                                          "source")), "assumed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            j, "new"), "fingerprint"), "itera_machine")), "fixture-2c");
    assert_false(json_is_true(json_object_get(j, "cross_machine")));
    assert_string_equal(json_string_value(json_object_get(j, "pairing")), "unpaired");
    json_decref(j);
}

static void test_cli_gate(void **state)
{
    (void)state;
    /* 19.2% slower with the interval [16.0%, 22.5%]: a 5% gate fails (exit 1) */
    const char *a1[] = {"compare", "--fail-above", "5", DATA "compare_base.json",
                        DATA "compare_new.json"};
    run_compare(&cap, 5, a1);
    assert_int_equal(cap.rc, 1);
    assert_non_null(strstr(cap.out, "**Gate failed**: 1 benchmark is slower with the whole "
                                    "interval beyond +5%"));
    assert_non_null(strstr(cap.out, "**slower** +19.2% (gate)"));
    /* 17%: the estimate is beyond it but the interval is not: the gate passes */
    const char *a2[] = {"compare", "--fail-above=17", DATA "compare_base.json",
                        DATA "compare_new.json"};
    run_compare(&cap, 4, a2);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "Gate passed"));
    /* swapped: it is faster; faster never fails a gate */
    const char *a3[] = {"compare", "--fail-above", "0", DATA "compare_new.json",
                        DATA "compare_base.json"};
    run_compare(&cap, 5, a3);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "**faster**"));
    /* throughput: lower tokens/s is slower */
    const char *a4[] = {"compare", "--metric", "tokens_per_second", "--fail-above", "5",
                        DATA "compare_base.json", DATA "compare_new.json"};
    run_compare(&cap, 7, a4);
    assert_int_equal(cap.rc, 1);
    assert_non_null(strstr(cap.out, "tok/s"));
    /* bad input is 2, never 1 */
    const char *a5[] = {"compare", "--fail-above", "x", DATA "compare_base.json",
                        DATA "compare_new.json"};
    run_compare(&cap, 5, a5);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "--fail-above 'x'"));
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
    const char *usage1[] = {"compare", DATA "compare_new.json"};
    run_compare(&cap, 2, usage1);
    assert_int_equal(cap.rc, 2);
    const char *cases[][3] = {
        {"--metric", "bogus", "--metric 'bogus'"},
        {"--alpha", "2", "--alpha '2'"},
        {"--correction", "bonferroni", "--correction 'bonferroni'"},
        {"--match", "threads:1", "--match 'threads:1': expected OLD=NEW"},
        {"--noise-threshold", "-3", "--noise-threshold '-3'"},
        {"--noise", DATA "compare_base.json", "not a noise file"},
        {"--rounds", "3", "--rounds measures"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {"compare", cases[i][0], cases[i][1], DATA "compare_base.json",
                              DATA "compare_new.json"};
        run_compare(&cap, 5, argv);
        if (cap.rc != 2 || !strstr(cap.err, cases[i][2]))
            fail_msg("%s %s: rc %d, stderr '%s'", cases[i][0], cases[i][1], cap.rc, cap.err);
    }
    const char *help[] = {"compare", "--help"};
    run_compare(&cap, 2, help);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "usage: itera-bench compare"));
}

static void test_cli_machines_and_models(void **state)
{
    (void)state;
    char pa[128], pb[128], js[128];
    path_in(pa, sizeof pa, "m_a.json");
    path_in(pb, sizeof pb, "m_b.json");
    path_in(js, sizeof js, "m.json");
    const double a[] = {10, 10.1, 10.2, 10.3, 10.4, 10.5}, b[] = {11, 11.1, 11.2, 11.3, 11.4, 11.5};
    const char *name = "scan/chunked/channels:8/state:4/seq:16/batch:1/threads:1";
    json_t *ba = json_array(), *bb = json_array();
    add_bench(ba, name, a, 6, NULL);
    add_bench(bb, name, b, 6, NULL);
    write_file(pa, machine_ctx("intel"), ba);
    write_file(pb, machine_ctx("amd"), bb);
    const char *argv[] = {"compare", pa, pb};
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "refusing to judge"));
    assert_non_null(strstr(cap.err, "different machines: "));
    assert_non_null(strstr(cap.err, "itera_machine_cores 2 vs"));
    assert_non_null(strstr(cap.err, "itera_machine_cpu_model"));
    assert_non_null(strstr(cap.err, "--cross"));
    assert_null(strstr(cap.err, "hostname"));
    /* --cross: judged, and every verdict labelled */
    const char *argv2[] = {"compare", "--cross", pa, pb, "--json", js};
    run_compare(&cap, 6, argv2);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "**Cross-machine** (--cross)"));
    assert_non_null(strstr(cap.out, "(cross-machine)"));
    json_error_t je;
    json_t *j = json_load_file(js, 0, &je);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "cross_machine")));
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "benchmarks"), 0),
                                             "cross_machine")));
    json_decref(j);
    /* one machine, another model: refused too, naming the key */
    json_t *cb = machine_ctx("intel");
    json_object_set_new(cb, "itera_model", json_string("/m sha256:abc"));
    bb = json_array();
    add_bench(bb, name, b, 6, NULL);
    write_file(pb, cb, bb);
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "the models differ: itera_model 'synthetic seed 1' vs "
                                    "'/m sha256:abc'"));
    /* the same machine under another host name is the same machine */
    cb = machine_ctx("intel");
    json_object_set_new(cb, "itera_machine_hostname", json_string("another-name"));
    json_object_set_new(cb, "itera_git", json_string("v2"));
    bb = json_array();
    add_bench(bb, name, b, 6, NULL);
    write_file(pb, cb, bb);
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "Differences (shown, not refused): `itera_git` `(absent)` → "
                                    "`v2`"));
    /* a file without a fingerprint: refused, naming the file and the key */
    ba = json_array();
    add_bench(ba, name, a, 6, NULL);
    write_file(pa, json_pack("{s:s}", "host_name", "h"), ba);
    run_compare(&cap, 3, argv);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "m_a.json: no machine fingerprint"));
}

/* Two files of one ab session: paired by round; contended rounds dropped. */
static void test_cli_paired_and_contended(void **state)
{
    (void)state;
    char pa[128], pb[128], js[128];
    path_in(pa, sizeof pa, "p_a.json");
    path_in(pb, sizeof pb, "p_b.json");
    path_in(js, sizeof js, "p.json");
    enum { R = 12 };
    double b[R], n[R];
    stats_rng g;
    stats_rng_seed(&g, 3);
    /* a 5% slowdown under a 15% drift shared by both sides of each round */
    draw_pairs(&g, b, n, R, 0.05, 0.005, 0.15);
    int none[R] = {0}, some[R] = {0}, most[R] = {0};
    some[2] = some[7] = 1;
    for (int i = 0; i < 7; i++)
        most[i] = 1;
    const char *s1 = "scan/chunked/channels:8/state:4/seq:16/batch:1/threads:1";
    const char *s2 = "scan/sequential/channels:8/state:4/seq:16/batch:1/threads:1";
    const char *s3 = "decode/fp32/sequential/steps:4/batch:1/threads:1";
    json_t *ba = json_array(), *bb = json_array();
    add_bench(ba, s1, b, R, none);
    add_bench(bb, s1, n, R, none);
    add_bench(ba, s2, b, R, none);
    add_bench(bb, s2, n, R, some);
    add_bench(ba, s3, b, R, none);
    add_bench(bb, s3, n, R, most);
    json_t *ca = machine_ctx("intel"), *cb = machine_ctx("intel");
    json_object_set_new(ca, "itera_ab_session", json_string("S1"));
    json_object_set_new(cb, "itera_ab_session", json_string("S1"));
    write_file(pa, ca, ba);
    write_file(pb, cb, bb);
    const char *argv[] = {"compare", pa, pb, "--json", js};
    run_compare(&cap, 5, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "Interleaved A/B (session `S1`)"));
    assert_non_null(strstr(cap.out, "| 12 pairs | **slower** +4.8% |"));
    assert_non_null(strstr(cap.out, "| 10 pairs | **slower** +4.6% |")); /* 2 rounds dropped */
    assert_non_null(strstr(cap.out, "| contended | 7/12 base, 7/12 new samples on a busy machine "
                                    "(up to 1.50 cores used by others) |"));
    assert_non_null(strstr(cap.out, "2 slower, 0 faster, 0 no change, 1 contended"));
    json_error_t je;
    json_t *j = json_load_file(js, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "pairing")), "paired by round");
    json_t *b3 = json_array_get(json_object_get(j, "benchmarks"), 2);
    assert_string_equal(json_string_value(json_object_get(b3, "verdict")), "contended");
    assert_true(json_is_null(json_object_get(b3, "ratio")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"),
                                                        "contended")), 1);
    json_decref(j);
    /* the same documents already in memory (ab's deciding looks): the same verdicts, and the
     * paths only name them (nothing is read from them) */
    {
        json_t *ja = json_load_file(pa, 0, &je), *jb = json_load_file(pb, 0, &je);
        assert_non_null(ja);
        assert_non_null(jb);
        compare_opts co;
        compare_opts_init(&co);
        co.base_path = "/nonexistent/base.json";
        co.new_path = "/nonexistent/new.json";
        co.base_json = ja;
        co.new_json = jb;
        FILE *sink = fopen("/dev/null", "w");
        assert_non_null(sink);
        co.md = sink;
        co.quiet_warnings = true;
        compare_result res;
        bench_error ce = {{0}};
        assert_int_equal(compare_files(&co, &res, &ce), BENCH_OK);
        fclose(sink);
        assert_int_equal(res.n_rows, 3);
        assert_int_equal(res.counts[VERDICT_SLOWER], 2);
        assert_int_equal(res.counts[VERDICT_CONTENDED], 1);
        compare_result_free(&res);
        /* borrowed: both documents are still the caller's */
        assert_int_equal((int)ja->refcount, 1);
        assert_int_equal((int)jb->refcount, 1);
        json_decref(ja);
        json_decref(jb);
    }
    /* another session (or none): unpaired; the 15% drift then hides the 5% change */
    cb = machine_ctx("intel");
    json_object_set_new(cb, "itera_ab_session", json_string("S2"));
    bb = json_array();
    add_bench(bb, s1, n, R, none);
    write_file(pb, cb, bb);
    const char *argv2[] = {"compare", pa, pb};
    run_compare(&cap, 3, argv2);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "**Not interleaved**"));
    assert_non_null(strstr(cap.out, "| 12 / 12 | ~ no change |"));
}

static void test_cli_match_variants_noise(void **state)
{
    (void)state;
    /* --variants in one file: chunked against sequential */
    const char *argv[] = {"compare", "--variants", "sequential,chunked", DATA "variants.json"};
    run_compare(&cap, 4, argv);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "| `scan/sequential→chunked/channels:256/state:64/seq:128/"
                                    "batch:4/threads:2` |"));
    assert_non_null(strstr(cap.out, "**faster** -7"));
    assert_null(strstr(cap.out, "parallel"));
    assert_non_null(strstr(cap.out, "the two variants were measured one after the other"));
    assert_non_null(strstr(cap.out, "`itera-bench ab` --variants"));
    const char *bad[] = {"compare", "--variants", "sequential,int8", DATA "variants.json"};
    run_compare(&cap, 4, bad);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "one is a kernel and the other a quant"));
    const char *bad2[] = {"compare", "--variants", "sequential,Turbo!", DATA "variants.json"};
    run_compare(&cap, 4, bad2);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "'Turbo!' is not a name part"));
    /* measuring needs this build's names */
    const char *bad3[] = {"compare", "--variants", "sequential,pytorch-eager"};
    run_compare(&cap, 3, bad3);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "'pytorch-eager' is not a kernel or a quant of this build"));
    const char *none[] = {"compare", "--variants", "int8,int4", DATA "variants.json"};
    run_compare(&cap, 4, none);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "variants.json: no pair of benchmarks"));

    /* --match threads:1=threads:2 across two files */
    char pa[128], pb[128], nf[128];
    path_in(pa, sizeof pa, "t_a.json");
    path_in(pb, sizeof pb, "t_b.json");
    path_in(nf, sizeof nf, "noise.json");
    const double a[] = {20, 20.1, 20.2, 20.3, 20.4, 20.5, 20.6}, b[] = {10, 10.1, 10.2, 10.3,
                                                                         10.4, 10.5, 10.6};
    json_t *ba = json_array(), *bb = json_array();
    add_bench(ba, "prefill/fp32/chunked/seq:16/batch:1/threads:1", a, 7, NULL);
    add_bench(bb, "prefill/fp32/chunked/seq:16/batch:1/threads:2", b, 7, NULL);
    write_file(pa, machine_ctx("intel"), ba);
    write_file(pb, machine_ctx("intel"), bb);
    const char *m1[] = {"compare", pa, pb};
    run_compare(&cap, 3, m1);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "no benchmark is in both"));
    const char *m2[] = {"compare", "--match", "threads:1=threads:2", pa, pb};
    run_compare(&cap, 5, m2);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "`prefill/fp32/chunked/seq:16/batch:1/threads:1→threads:2`"));
    assert_non_null(strstr(cap.out, "| 0.507 [0.495, 0.520] |"));
    assert_non_null(strstr(cap.out, "**faster** -49.3%"));

    /* a measured noise file: a 100% threshold for prefill (a factor of 2 either way)
     * turns the halving, interval [0.495, 0.520], into no change */
    FILE *f = fopen(nf, "w");
    assert_non_null(f);
    fprintf(f, "{\"itera_noise\": 1, \"machine\": \"x\", \"platform\": \"embedded\", "
               "\"profile\": \"ci\", \"rounds\": 15, \"date\": \"2026-01-01\", "
               "\"families\": {\"prefill\": {\"threshold_pct\": 100, \"benchmarks\": 9}}}\n");
    fclose(f);
    const char *m3[] = {"compare", "--match", "threads:1=threads:2", "--noise", nf, pa, pb};
    run_compare(&cap, 7, m3);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "Noise threshold measured ("));
    assert_non_null(strstr(cap.out, "prefill ±100.0%"));
    assert_non_null(strstr(cap.out, "~ no change | interval within the ±100.0% noise threshold"));
    const char *m4[] = {"compare", "--match", "threads:1=threads:2", "--noise-threshold", "100",
                        pa, pb};
    run_compare(&cap, 7, m4);
    assert_int_equal(cap.rc, 0);
    assert_non_null(strstr(cap.out, "given (--noise-threshold 100)"));
    assert_non_null(strstr(cap.out, "~ no change"));
    f = fopen(nf, "w");
    fprintf(f, "{\"itera_noise\": 1, \"families\": {\"turbo\": {\"threshold_pct\": 1}}}\n");
    fclose(f);
    run_compare(&cap, 7, m3);
    assert_int_equal(cap.rc, 2);
    assert_non_null(strstr(cap.err, "families.turbo: expected a known family"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_compare_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_synthetic),
        cmocka_unit_test(test_rule_details),
        cmocka_unit_test(test_correction_synthetic),
        cmocka_unit_test(test_cli_two_files),
        cmocka_unit_test(test_cli_gate),
        cmocka_unit_test(test_cli_bad_input),
        cmocka_unit_test(test_cli_machines_and_models),
        cmocka_unit_test(test_cli_paired_and_contended),
        cmocka_unit_test(test_cli_match_variants_noise),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
