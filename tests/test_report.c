/*
 * test_report.c: `itera-bench report` on the hand-made result files in tests/data/:
 * every table rendered with the cells the fixtures imply, the emulated label, a missing
 * platform, determinism (two renders, files in different orders, byte-identical
 * markdown), images produced when gnuplot exists, the skipped-charts path, --strict,
 * bad input, and the benchmark-name parser.
 *
 * Runs from the repository root (as `make test` does): fixtures in tests/data/, chart
 * templates in reports/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gbread.h"
#include "report.h"

#define DATA "tests/data/"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_report_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Reads a whole file (NUL-terminated, caller frees); NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, fp);
    fclose(fp);
    b[got] = '\0';
    if (len)
        *len = got;
    return b;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static bool have_gnuplot(void)
{
    return system("gnuplot --version >/dev/null 2>&1") == 0;
}

/* Renders files into tmpdir/<sub> quietly; returns the exit code. Extra args may follow
 * (NULL-terminated), then the files. */
static int render(const char *sub, const char *const *args)
{
    char out[512];
    snprintf(out, sizeof out, "%s/%s", tmpdir, sub);
    const char *argv[32] = {"report", "-o", out, "--templates", "reports"};
    int argc = 5;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    return report_main(argc, (char **)argv);
}

static char *render_md(const char *sub, const char *const *args, int *rc)
{
    *rc = render(sub, args);
    char p[600];
    snprintf(p, sizeof p, "%s/%s/README.md", tmpdir, sub);
    return slurp(p, NULL);
}

#define HAS(md, s) do { if (!strstr((md), (s))) fail_msg("markdown lacks: %s", (s)); } while (0)
#define LACKS(md, s) do { if (strstr((md), (s))) fail_msg("markdown has: %s", (s)); } while (0)

static void test_every_table(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded.json", DATA "desktop_emulated.json",
                          DATA "peer_embedded.json", NULL};
    int rc;
    char *md = render_md("all", args, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(md);

    /* kernel comparison at 256/64/128/4: mean ± stddev, min–max, speedup, GFLOP/s, % peak */
    HAS(md, "Standalone selective scan at the original report's configuration: 256 channels, "
            "state 64, L = 128, batch 4, 2 threads.");
    HAS(md, "| Kernel | Latency (ms) | Spread: min–max (n) | Speedup vs sequential | GFLOP/s | % of peak |");
    HAS(md, "| sequential | 2.000 ± 0.100 | 1.900–2.100 (3) | 1.00× |");
    HAS(md, "| chunked | 0.5000 ± 0.0100 | 0.4900–0.5100 (3) | 4.00× | 4.001 | 4.001 |");
    /* sequence length up to 8192 */
    HAS(md, "| 8192 | 128.0 | 256000 | 64.00 | 512000 | 32.00 | 1024000 |");
    /* op profile: the original four, nested, with % of forward */
    HAS(md, "| ↳ `scan.state_transition` | state transition h = exp(ΔA)⊙h + Δ·Bu ¹ | 240.0 | 18.5 | 120.0 | 12.0 |");
    HAS(md, "| ↳ `scan.input_projection` |");
    HAS(md, "| ↳ `scan.output_projection` |");
    HAS(md, "| ↳ `scan.skip_connection` |");
    HAS(md, "| `in_proj` | SSM input linear (u, g) | 150.0 | 11.5 | 150.0 | 15.0 |");
    HAS(md, "| (outside the ops above) | forward − sum of the top-level ops | 50.00 | 3.8 | 50.00 | 5.0 |");
    HAS(md, "| **`forward`** | whole prefill | **1300** | 100.0 | **1000** | 100.0 |");
    /* quantization, sizes from weight_bytes (2^20 bytes per MB), and the PyTorch row */
    HAS(md, "| fp32 | 1.120 | 1.00× | 4.000 | 1.00× | 0.00e+00 | 1.000 |");
    HAS(md, "| int8 | 0.2969 | 3.77× | 3.200 | 1.25× | 1.23e-02 | 0.9922 |");
    HAS(md, "| int4 | 0.1562 | 7.17× | 2.500 | 1.60× | 4.56e-02 | 0.9766 |");
    HAS(md, "| PyTorch (eager) fp32, 2 threads | 1.120 | 1.00× | 20.00 | 0.20× | 2.00e-06 | 1.000 |");
    /* edge: one row per platform, emulated labelled, PyTorch beside the engine */
    HAS(md, "| desktop **(emulated)** (fp32, chunked, L = 128, batch 1) | 12 | 5.000 | 25600 | 95.0 | 12.50 | [1] |");
    HAS(md, "| embedded (fp32, chunked, L = 128, batch 1) | 2 | 4.000 | 32000 | 95.0 | 12.50 | [2] |");
    HAS(md, "| embedded — PyTorch (eager) (fp32, L = 128, batch 1) | 2 | 20.00 | 6400 | 95.0 | 12.50 | [3] |");
    HAS(md, "## Platform: desktop (emulated)");
    HAS(md, "**Emulated**: these runs used the platform's thread count on fewer cores");
    /* decode: tokens/s per quant and thread count */
    HAS(md, "| Quant | 1 thread (tok/s) | 2 threads (tok/s) |");
    HAS(md, "| int4 | 3000 | 4500 |");
    /* thread scaling */
    HAS(md, "| 1 | — | — | 7.000 | 18286 |");
    /* the emulated section has only a prefill: the other tables say so */
    HAS(md, "No results for the standalone scan");
    HAS(md, "No results for decode");
    /* a header per file, and the failed cell named */
    HAS(md, "### [2] `tests/data/embedded.json`");
    HAS(md, "| Build | git abc1234; compiler gcc 12.2.0 -O3; Google Benchmark library build: release |");
    HAS(md, "| Topology | 1 package, 2 cores, 1 thread per core |");
    HAS(md, "| ISA path | avx512_vnni |");
    HAS(md, "| Counters | software: task-clock,context-switches (no PMU in this VM) |");
    HAS(md, "| Date | 2025-01-02T03:04:05+00:00 |");
    HAS(md, "| Platform | desktop, 12 worker thread(s) on CPUs");
    HAS(md, "emulated: **yes**");
    HAS(md, "- failed: `decode/int4/sequential/steps:64/batch:1/threads:2`: int4 decode not available");
    HAS(md, "| Peer | pytorch 1.13.1 eager |");
    /* laptop absent */
    HAS(md, "No results for laptop: no result file for platform `laptop` was given.");
    LACKS(md, "No results for desktop");
    /* no empty table anywhere: a header row is always followed by a data row */
    for (const char *p = strstr(md, "| --- "); p; p = strstr(p + 1, "| --- ")) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        assert_true(eol[1] == '|');
    }
    free(md);
}

static void test_missing_platform_and_no_peer(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded.json", NULL};
    int rc;
    char *md = render_md("embedded_only", args, &rc);
    assert_int_equal(rc, 0);
    HAS(md, "No results for desktop: no result file for platform `desktop` was given.");
    HAS(md, "No results for laptop");
    LACKS(md, "No results for embedded");
    LACKS(md, "PyTorch");
    LACKS(md, "(emulated)");
    HAS(md, "| int4 | 0.1562 | 7.17× |");
    free(md);
}

/* The harness's op-profile layout (top-level itera_op_profile keyed by name), a name with
 * GB's repeats:N suffix, and a laptop row in the edge table. */
static void test_op_profile_layout(void **state)
{
    (void)state;
    const char *args[] = {DATA "laptop_opprofile.json", DATA "embedded.json", NULL};
    int rc;
    char *md = render_md("laptop", args, &rc);
    assert_int_equal(rc, 0);
    HAS(md, "## Platform: laptop");
    HAS(md, "| ↳ `scan.state_transition` | state transition h = exp(ΔA)⊙h + Δ·Bu ¹ | 60.00 | 12.0 |");
    HAS(md, "| `in_proj` | SSM input linear (u, g) | 75.00 | 15.0 |");
    HAS(md, "| **`forward`** | whole prefill | **500.0** | 100.0 |");
    HAS(md, "`itera_op_profile` (µs per forward: `us_per_forward`)");
    HAS(md, "| laptop (fp32, chunked, L = 128, batch 1) | 4 | 2.000 | 64000 |");
    LACKS(md, "No results for laptop");
    HAS(md, "No results for desktop");
    free(md);
}

/* Failed runs: named in the tables, charts with nothing to plot omitted, --strict fails. */
static void test_failures(void **state)
{
    (void)state;
    const char *args[] = {DATA "host_failures.json", NULL};
    int rc;
    char *md = render_md("failures", args, &rc);
    assert_int_equal(rc, 0);
    HAS(md, "| sequential | failed: itera_scan_bench_create: not in this engine build yet | | | | |");
    HAS(md, "| 1024 | failed | failed | failed | failed | failed | failed |");
    HAS(md, "No chart: no successful run to plot.");
    HAS(md, "| int8 | failed: int8 model: weight format 1 is not built in | | | | | |");
    HAS(md, "| fp32 | 16000 |");
    HAS(md, "| int8 | failed |");
    HAS(md, "| Benchmarks | 10 (8 failed) |");
    LACKS(md, "embedded/kernels.png");
    free(md);
    const char *strict[] = {"--strict", DATA "host_failures.json", NULL};
    assert_int_equal(render("failures_strict", strict), BENCH_ERR_FAILED);
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *a[] = {DATA "embedded.json", DATA "desktop_emulated.json", DATA "peer_embedded.json", NULL};
    const char *b[] = {DATA "peer_embedded.json", DATA "embedded.json", DATA "desktop_emulated.json", NULL};
    int rc1, rc2;
    char *m1 = render_md("det1", a, &rc1);
    char *m2 = render_md("det2", b, &rc2);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);
    assert_non_null(m1);
    assert_non_null(m2);
    assert_string_equal(m1, m2);
    /* the same for the chart data */
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/det1/embedded/kernels.dat", tmpdir);
    snprintf(p2, sizeof p2, "%s/det2/embedded/kernels.dat", tmpdir);
    char *d1 = slurp(p1, NULL), *d2 = slurp(p2, NULL);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_string_equal(d1, d2);
    /* nothing that changes with the clock */
    LACKS(m1, "2026");
    free(m1);
    free(m2);
    free(d1);
    free(d2);
}

static void test_images(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        printf("SKIPPED: gnuplot is not installed (Debian gnuplot-nox); the image check needs it\n");
        return;
    }
    const char *args[] = {"--strict", DATA "embedded.json", DATA "desktop_emulated.json",
                          DATA "peer_embedded.json", NULL};
    int rc;
    char *md = render_md("img", args, &rc);
    assert_non_null(md);
    /* every image the markdown links exists */
    int n = 0;
    for (const char *p = strstr(md, "]("); p; p = strstr(p + 1, "](")) {
        const char *end = strchr(p, ')');
        char rel[256], path[700];
        snprintf(rel, sizeof rel, "%.*s", (int)(end - p - 2), p + 2);
        if (rel[0] == '#')
            continue; /* in-page link */
        snprintf(path, sizeof path, "%s/img/%s", tmpdir, rel);
        if (!exists(path))
            fail_msg("linked image missing: %s", path);
        n++;
    }
    static const char *const charts[] = {"embedded/kernels", "embedded/seqlen", "embedded/ops",
                                         "embedded/quant", "embedded/decode", "embedded/threads",
                                         "all/edge"};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char png[700], svg[700], dat[700];
        snprintf(png, sizeof png, "%s/img/%s.png", tmpdir, charts[i]);
        snprintf(svg, sizeof svg, "%s/img/%s.svg", tmpdir, charts[i]);
        snprintf(dat, sizeof dat, "%s/img/%s.dat", tmpdir, charts[i]);
        if (!exists(png) && !exists(svg))
            fail_msg("no image for %s", charts[i]);
        assert_true(exists(dat));
    }
    assert_true(n >= 8);
    /* --strict fails: the emulated desktop section has empty tables */
    assert_int_equal(rc, BENCH_ERR_FAILED);
    free(md);
    /* and passes on the complete embedded file */
    const char *full[] = {"--strict", DATA "embedded.json", NULL};
    assert_int_equal(render("strict_ok", full), 0);
}

static void test_charts_skipped(void **state)
{
    (void)state;
    const char *args[] = {"--gnuplot", "/nonexistent/gnuplot", DATA "embedded.json", NULL};
    int rc;
    char *md = render_md("nognuplot", args, &rc);
    assert_int_equal(rc, 0);
    HAS(md, "**Charts were skipped**: gnuplot (`/nonexistent/gnuplot`) was not found; install "
            "Debian's gnuplot-nox to get them.");
    HAS(md, "Chart skipped (data in `embedded/kernels.dat`).");
    LACKS(md, "![");
    HAS(md, "| chunked | 0.5000 ± 0.0100 |");
    char dat[600];
    snprintf(dat, sizeof dat, "%s/nognuplot/embedded/kernels.dat", tmpdir);
    assert_true(exists(dat));
    free(md);
    /* strict: skipped charts are missing images */
    const char *strict[] = {"--strict", "--gnuplot", "/nonexistent/gnuplot", DATA "embedded.json", NULL};
    assert_int_equal(render("nognuplot2", strict), BENCH_ERR_FAILED);
    /* templates missing */
    char out[512];
    snprintf(out, sizeof out, "%s/notpl", tmpdir);
    const char *argv[] = {"report", "-o", out, "--templates", "/nonexistent", DATA "embedded.json"};
    assert_int_equal(report_main(6, (char **)argv), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/README.md", out);
    char *m2 = slurp(p, NULL);
    HAS(m2, "the chart template `/nonexistent/common.gp` is missing");
    free(m2);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *missing[] = {DATA "no_such.json", NULL};
    assert_int_equal(render("bad1", missing), BENCH_ERR_INPUT);
    const char *notgb[] = {DATA "make_fixtures.py", NULL};
    assert_int_equal(render("bad2", notgb), BENCH_ERR_INPUT);
    const char *argv[] = {"report"};
    assert_int_equal(report_main(1, (char **)argv), BENCH_ERR_INPUT);
    const char *argv2[] = {"report", "--bogus", DATA "embedded.json"};
    assert_int_equal(report_main(3, (char **)argv2), BENCH_ERR_INPUT);
    const char *help[] = {"report", "--help"};
    assert_int_equal(report_main(2, (char **)help), 0);
}

/* Google Benchmark writes bare NaN; the loader reads it as absent. */
static void test_loader_nan_and_names(void **state)
{
    (void)state;
    gb_file f;
    char err[512];
    assert_int_equal(gb_file_load(DATA "embedded.json", &f, err, sizeof err), 0);
    const gb_cell *c = gb_file_cell(&f, "scan/chunked/channels:64/state:16/seq:32/batch:1/threads:2");
    assert_non_null(c);
    double v;
    assert_false(gb_cell_mean(c, "gflops", &v));
    assert_true(gb_cell_mean(c, "tokens_per_second", &v));
    /* iteration runs in repetition order, aggregates found */
    c = gb_file_cell(&f, "scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2");
    assert_int_equal(c->n_iter, 3);
    assert_non_null(c->mean);
    assert_non_null(c->stddev);
    double lo, hi;
    assert_int_equal(gb_cell_range(c, "real_time", &lo, &hi), 3);
    assert_true(lo == 1.9e6 && hi == 2.1e6); /* ns */
    gb_file_free(&f);

    /* benchmark names: tests/test_schema.c */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_table),
        cmocka_unit_test(test_missing_platform_and_no_peer),
        cmocka_unit_test(test_op_profile_layout),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_charts_skipped),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_loader_nan_and_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
