/*
 * test_report.c: `itera-bench report` on the hand-made result files in tests/data/
 * (tests/data/make_fixtures.py): every table with the cells the fixtures imply, medians and
 * their spread against values computed by hand, files of two machines and two models that
 * no table mixes (the edge table names each row and warns), the newest run of a cell held
 * twice shown with its file, the peers beside the engine with the engine's speed-up, a file
 * without a fingerprint kept apart, --machine, determinism (byte-identical markdown in any
 * file order), images when gnuplot exists, the skipped-charts path, --strict, bad input.
 *
 * Runs from the repository root (as `make test` does): fixtures in tests/data/, chart
 * templates in reports/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "figure.h"
#include "gbread.h"
#include "itera.h"
#include "numfmt.h"
#include "report.h"

#define DATA "tests/data/"
#define FIX "fixture-2c" /* the fixtures' machine (FIXTURE_MACHINE) */
#define AMD "epyc-zen4-4c"

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
static char *slurp(const char *path)
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

/* Renders into tmpdir/<sub>; args: options and files, NULL-terminated. Returns the status. */
static int render(const char *sub, const char *const *args)
{
    char out[512];
    snprintf(out, sizeof out, "%s/%s", tmpdir, sub);
    const char *argv[40] = {"report", "-o", out, "--templates", "reports"};
    int argc = 5;
    for (int i = 0; args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    return report_main(argc, (char **)argv);
}

/* A document of a render: "" the index, else a machine's folder. */
static char *doc(const char *sub, const char *machine)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s/%s%sREADME.md", tmpdir, sub, machine, machine[0] ? "/" : "");
    return slurp(p);
}

#define HAS(md, s) do { if (!strstr((md), (s))) fail_msg("markdown lacks: %s", (s)); } while (0)
#define LACKS(md, s) do { if (strstr((md), (s))) fail_msg("markdown has: %s", (s)); } while (0)

/* No table is empty: every alignment row is followed by a data row. */
static void tables_have_rows(const char *md)
{
    for (const char *p = strstr(md, "| --- "); p; p = strstr(p + 1, "| --- ")) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        assert_true(eol[1] == '|');
    }
}

/* ---- medians and spread, by hand ---- */

static void test_figure_by_hand(void **state)
{
    (void)state;
    const double four[] = {4, 1, 3, 2};
    figure f = figure_of(four, 4);
    assert_int_equal(f.n, 4);
    assert_true(f.median == 2.5 && f.q1 == 1.75 && f.q3 == 3.25 && f.min == 1 && f.max == 4);
    /* one disturbed repetition moves the median, not the mean's way: the chunked fixture */
    const double five[] = {0.49, 0.50, 0.51, 0.52, 0.90};
    f = figure_of(five, 5);
    assert_true(fabs(f.median - 0.51) < 1e-12 && fabs(f.q1 - 0.50) < 1e-12 && fabs(f.q3 - 0.52) < 1e-12);
    const double odd[] = {1.9, 2.0, 2.1};
    f = figure_of(odd, 3);
    assert_true(fabs(f.q1 - 1.95) < 1e-12 && fabs(f.q3 - 2.05) < 1e-12);
    const double with_nan[] = {NAN, 7, INFINITY};
    f = figure_of(with_nan, 3);
    assert_int_equal(f.n, 1);
    assert_true(f.median == 7);
    f = figure_of(NULL, 0);
    assert_int_equal(f.n, 0);
    assert_true(isnan(f.median));
    char b[128];
    const double two[] = {1.0, 3.0};
    f = figure_of(two, 2);
    fmt_figure(&f, 1.0, b, sizeof b);
    assert_string_equal(b, "2.000 (1.500–2.500, 2)");
    f = figure_of(two, 1);
    fmt_figure(&f, 1.0, b, sizeof b);
    assert_string_equal(b, "1.000 (n 1)");
}

/* ---- one machine: every table ---- */

static void test_every_table(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded.json", DATA "desktop_emulated.json", DATA "peer_embedded.json",
                          DATA "peer_ort_embedded.json", NULL};
    assert_int_equal(render("all", args), 0);
    char *md = doc("all", FIX), *ix = doc("all", "");
    assert_non_null(md);
    assert_non_null(ix);
    HAS(md, "# Machine: fixture-2c");
    HAS(md, "| CPU | Fixture CPU @ 2.10GHz (GenuineIntel, family 6, model 143, stepping 8) |");
    /* kernel comparison: ranked by the median (chunked's mean, 0.584, would put it at 3.42x) */
    HAS(md, "Standalone selective scan at the original report's configuration: 256 channels, "
            "state 64, L = 128, batch 4, 2 threads; random inputs (no model). Ranked by median latency.");
    HAS(md, "| Rank | Kernel | Latency (ms): median (IQR, n) | min–max | Speed-up vs sequential | GFLOP/s | % of peak |");
    HAS(md, "| 1 | chunked | 0.5100 (0.5000–0.5200, 5) | 0.4900–0.9000 | 3.92× | 3.922 | 3.922 |");
    HAS(md, "| 2 | parallel | 1.000 (0.975–1.025, 3) | 0.950–1.050 | 2.00× | 2.000 | 2.000 |");
    HAS(md, "| 3 | sequential | 2.000 (1.950–2.050, 3) | 1.900–2.100 | 1.00× | 1.000 | 1.000 |");
    /* sequence length: tok/s medians with their spread */
    HAS(md, "| 128 | 256000 (249905–262737, 3) | 512000 (499810–525474, 3) | 1003922 (984615–1024000, 5) |");
    HAS(md, "| 8192 | 256000 (n 1) | 512000 (n 1) | 1024000 (n 1) |");
    /* op profile: nested, with % of forward */
    HAS(md, "| ↳ `scan.state_transition` | state transition h = exp(ΔA)⊙h + Δ·Bu ¹ | 240.0 (240.0–240.0, 2) | 18.5 | 120.0 (120.0–120.0, 3) | 12.0 |");
    HAS(md, "| `in_proj` | SSM input linear (u, g) | 150.0 (150.0–150.0, 2) | 11.5 | 150.0 (150.0–150.0, 3) | 15.0 |");
    HAS(md, "| **`forward`** | whole prefill | **1300 (1300–1300, 2)** | 100.0 | **1000 (1000–1000, 3)** | 100.0 |");
    /* the fixture's profile (1300 µs) is far from its timed latency (6 ms): flagged */
    HAS(md, "sequential 1300 µs vs 6000 µs (-78.3%: **⚠ flagged: more than 5% apart");
    /* quantization, the peers beside the engine with the engine's speed-up over each */
    HAS(md, "| fp32 | 1.120 | 1.00× | 4.000 (3.980–4.020, 3) | 1.00× | — |");
    HAS(md, "| int8 | 0.2969 | 3.77× | 3.200 (3.184–3.216, 3) | 1.25× | — |");
    HAS(md, "| int4 | 0.1562 | 7.17× | 2.500 (2.487–2.513, 3) | 1.60× | — |");
    HAS(md, "| ONNX Runtime fp32, 2 threads | 1.720 | 0.65× | 30.00 (29.70–30.30, 3) | 0.13× | 7.50× (engine fp32) |");
    HAS(md, "| ONNX Runtime int8, 2 threads | 0.5300 | 2.11× | 27.00 (26.73–27.27, 3) | 0.15× | 8.44× (engine int8) |");
    HAS(md, "| PyTorch (eager) fp32, 2 threads | 1.120 | 1.00× | 20.00 (19.50–20.50, 3) | 0.20× | 5.00× (engine fp32) |");
    /* accuracy: what this model's files hold; KLD appears once files carry it */
    HAS(md, "| Method | Compression | top-1 agreement | max abs logit error |");
    HAS(md, "| int4 | 7.17× | 0.9766 | 4.56e-02 |");
    HAS(md, "Mean KLD and perplexity per text appear here once the files carry them");
    /* edge: one row per platform, emulated labelled, peers beside the engine */
    HAS(md, "| embedded (fp32, chunked, L = 128, batch 1) | fixture-2c | synthetic seed 20240501 | git abc1234, gcc 12.2.0 -O3 | 2 | 4.000 (3.980–4.020, 3) | 32000 (32000–32000, 3) | 95.0 ² | n/a | 12.50 | — | [2] |");
    HAS(md, "| embedded — ONNX Runtime (fp32, L = 128, batch 1) | fixture-2c | synthetic seed 20240501 | git abc1234, onnxruntime 1.30.0, node 20 | 2 | 30.00 (29.70–30.30, 3) | 4267 (4267–4267, 3) | 95.0 ³ | n/a | 12.50 | 7.50× | [4] |");
    HAS(md, "| embedded — PyTorch (eager) (fp32, L = 128, batch 1) | fixture-2c | synthetic seed 20240501 | git abc1234, python 3.11.2, torch 1.13.1 | 2 | 20.00 (19.50–20.50, 3) | 6400 (6400–6400, 3) | 95.0 ³ | n/a | 12.50 | 5.00× | [3] |");
    HAS(md, "| desktop **(emulated)** (fp32, chunked, L = 128, batch 1) | fixture-2c |");
    LACKS(md, "Mixed table"); /* one machine, model and build */
    HAS(md, "## Platform: desktop (emulated)");
    HAS(md, "**Emulated**: these runs used the platform's thread count on fewer cores");
    /* decode: rows are thread counts */
    HAS(md, "| Threads | fp32 (tok/s): median (IQR, n) | int8 (tok/s): median (IQR, n) | int4 (tok/s): median (IQR, n) |");
    HAS(md, "| 2 | 3000 (n 1) | 3750 (n 1) | 4500 (n 1) |");
    /* thread scaling */
    HAS(md, "| 1 | — | 18286 (n 1) |");
    /* the emulated section has only a prefill: the other tables say so */
    HAS(md, "No results for the standalone scan");
    HAS(md, "No results for decode");
    /* every table names its model */
    HAS(md, "Prefill, kernel chunked, L = 128, batch 1, 2 threads, model synthetic seed 20240501");
    HAS(md, "### Run: model synthetic seed 20240501; build git abc1234, gcc 12.2.0 -O3");
    /* a header per file, and the failed cell named */
    HAS(md, "### [2] `tests/data/embedded.json`");
    HAS(md, "| Build | git abc1234; compiler gcc 12.2.0 -O3; Google Benchmark library build: release |");
    HAS(md, "| Topology | 1 package, 2 cores, 1 thread per core |");
    HAS(md, "| Date | 2025-01-02T03:04:05+00:00 |");
    HAS(md, "- failed: `decode/int4/sequential/steps:64/batch:1/threads:2`: int4 decode not available");
    HAS(md, "| Peer | pytorch 1.13.1 eager |");
    /* the index: the machine, the edge table across machines, the files; laptop missing */
    HAS(ix, "| [fixture-2c](fixture-2c/README.md) | Fixture CPU @ 2.10GHz | 2 |");
    HAS(ix, "No results for laptop: no result file for platform `laptop` was given.");
    LACKS(ix, "No results for desktop");
    HAS(ix, "| [2] | `tests/data/embedded.json` | [fixture-2c](fixture-2c/README.md) | embedded | fixture |");
    tables_have_rows(md);
    tables_have_rows(ix);
    free(md);
    free(ix);
}

/* ---- two machines, two models: never mixed ---- */

static void test_two_machines_two_models(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded.json", DATA "amd_synthetic.json", DATA "embedded_checkpoint.json",
                          DATA "peer_embedded.json", NULL};
    assert_int_equal(render("mix", args), 0);
    char *ix = doc("mix", ""), *fix = doc("mix", FIX), *amd = doc("mix", AMD);
    assert_non_null(ix);
    assert_non_null(fix);
    assert_non_null(amd);
    /* the index lists both machines; the edge table warns and names each row's machine,
     * model and build */
    HAS(ix, "| [epyc-zen4-4c](epyc-zen4-4c/README.md) | AMD EPYC 9R14 Fixture | 4 |");
    HAS(ix, "| [fixture-2c](fixture-2c/README.md) | Fixture CPU @ 2.10GHz | 2 |");
    HAS(ix, "**⚠ Mixed table: these rows come from 2 machines, 2 models and 2 builds**");
    HAS(ix, "| embedded (fp32, parallel, L = 128, batch 1) | epyc-zen4-4c | synthetic seed 20240501 | git fedcba9, gcc 13.2.0 -O3 | 2 |");
    HAS(ix, "| embedded (fp32, chunked, L = 128, batch 1) | fixture-2c | itera-lite-micro (sha256 424242424242) | git abc1234, gcc 12.2.0 -O3 | 2 |");
    HAS(ix, "| embedded (fp32, chunked, L = 128, batch 1) | fixture-2c | synthetic seed 20240501 | git abc1234, gcc 12.2.0 -O3 | 2 |");
    /* the peer stands beside its own machine's run only */
    HAS(ix, "| embedded — PyTorch (eager) (fp32, L = 128, batch 1) | fixture-2c |");
    LACKS(amd, "PyTorch");
    /* the AMD machine's scan lengths (256, 1024) and its int4 accuracy (0.859) stay in its
     * own report; the fixture machine's (512, 8192) in theirs: no zig-zag table */
    HAS(amd, "| 256 |");
    HAS(amd, "| 1024 |");
    LACKS(amd, "| 512 |");
    LACKS(amd, "| 8192 |");
    HAS(amd, "| int4 | 7.17× | 0.8590 | 4.56e-02 |");
    HAS(fix, "| 512 |");
    LACKS(fix, "| 256 |");
    LACKS(fix, "| 1024 |");
    LACKS(fix, "0.8590");
    LACKS(fix, "epyc");
    /* two models on one machine and platform: two runs, each with its own tables, the
     * checkpoint's accuracy (KLD, perplexity per text) only beside the checkpoint */
    HAS(fix, "Runs of 2 models or builds on this platform, each with its own tables (no table combines them)");
    HAS(fix, "### Run: model itera-lite-micro (sha256 424242424242); build git abc1234, gcc 12.2.0 -O3");
    HAS(fix, "### Run: model synthetic seed 20240501; build git abc1234, gcc 12.2.0 -O3");
    HAS(fix, "| Method | Compression | top-1 agreement | mean KLD (nats) | max abs logit error | ppl tinystories | Δppl tinystories (± se) | KLD tinystories | top-1 tinystories |");
    HAS(fix, "| int4 | 7.17× | 0.9950 | 1.50e-02 | 4.56e-02 | 12.90 | 0.9000 ± 0.0500 | 3.10e-02 | 0.9500 |");
    HAS(fix, "| int4 | 0.1562 | 7.17× | 5.000 (4.975–5.025, 3) | 1.60× | — |");    /* checkpoint */
    HAS(fix, "| int4 | 0.1562 | 7.17× | 2.500 (2.487–2.513, 3) | 1.60× | — |");    /* synthetic */
    /* the PyTorch peer ran the synthetic model: beside the synthetic run, not the checkpoint */
    const char *ck = strstr(fix, "### Run: model itera-lite-micro"), *syn = strstr(fix, "### Run: model synthetic");
    assert_non_null(ck);
    assert_non_null(syn);
    assert_true(ck < syn);
    char *ckpart = strndup(ck, (size_t)(syn - ck));
    LACKS(ckpart, "PyTorch");
    LACKS(ckpart, "0.9766"); /* the synthetic model's int4 top-1 */
    free(ckpart);
    HAS(syn, "| PyTorch (eager) fp32, 2 threads |");
    /* every table of a run names its model */
    HAS(fix, "Prefill, kernel chunked, L = 128, batch 1, 2 threads, model itera-lite-micro (sha256 424242424242).");
    HAS(amd, "Prefill, kernel parallel, L = 128, batch 1, 2 threads, model synthetic seed 20240501.");
    tables_have_rows(ix);
    tables_have_rows(fix);
    tables_have_rows(amd);
    free(ix);
    free(fix);
    free(amd);
}

/* ---- the newest run of a cell held twice ---- */

static void test_newest_wins(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded_newer.json", DATA "embedded.json", NULL};
    assert_int_equal(render("newest", args), 0);
    char *md = doc("newest", FIX);
    assert_non_null(md);
    /* [2] embedded_newer (2025-03-04) replaces [1] embedded (2025-01-02) for its two cells */
    HAS(md, "From [1], [2]: one machine, model and build, so its tables may combine these files. 2 cells "
            "are held by more than one of them");
    HAS(md, "| 3 | sequential | 1.800 (1.800–1.800, 3) | 1.800–1.800 | 1.00× |");
    HAS(md, "| 1 | chunked | 0.5100 (0.5000–0.5200, 5) | 0.4900–0.9000 | 3.53× |");
    HAS(md, "Several files hold some of these cells; the newest run is shown: "
            "`scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2` from [2] "
            "(2025-03-04T05:06:07+00:00) over [1] (2025-01-02T03:04:05+00:00).");
    HAS(md, "| 2 | 3000 (n 1) | 4000 (n 1) | 4500 (n 1) |");
    HAS(md, "`decode/int8/chunked/steps:64/batch:1/threads:2` from [2] (2025-03-04T05:06:07+00:00) over [1]");
    LACKS(md, "2.000 (1.950–2.050, 3)"); /* the older sequential figure is not shown */
    free(md);
}

/* ---- a file without a fingerprint ---- */

static void test_no_fingerprint(void **state)
{
    (void)state;
    const char *args[] = {DATA "embedded.json", DATA "legacy_embedded.json", NULL};
    assert_int_equal(render("legacy", args), 0);
    char *ix = doc("legacy", ""), *old = doc("legacy", "machine-not-recorded-2"), *fix = doc("legacy", FIX);
    assert_non_null(ix);
    assert_non_null(old);
    assert_non_null(fix);
    HAS(old, "**No machine fingerprint**: [2] `tests/data/legacy_embedded.json` was written before results "
             "carried one (host old-host");
    HAS(old, "| fp32 | 1.120 | 1.00× | 9.000 (9.000–9.000, 3) |");
    LACKS(fix, "9.000 (9.000");
    HAS(ix, "**⚠ Mixed table: these rows come from 2 machines");
    HAS(ix, "| embedded (fp32, chunked, L = 128, batch 1) | machine-not-recorded-2 |");
    free(ix);
    free(old);
    free(fix);
}

/* ---- --machine: one machine's report ---- */

static void test_machine_option(void **state)
{
    (void)state;
    const char *args[] = {"--machine", AMD, DATA "embedded.json", DATA "amd_synthetic.json", NULL};
    assert_int_equal(render("one", args), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/one/%s/README.md", tmpdir, AMD);
    assert_true(exists(p));
    snprintf(p, sizeof p, "%s/one/%s/README.md", tmpdir, FIX);
    assert_false(exists(p));
    snprintf(p, sizeof p, "%s/one/README.md", tmpdir);
    assert_false(exists(p)); /* the index is not rewritten */
    const char *bad[] = {"--machine", "no-such-box", DATA "embedded.json", NULL};
    assert_int_equal(render("one2", bad), BENCH_ERR_INPUT);
    const char *empty[] = {"--machine", NULL};
    assert_int_equal(render("one3", empty), BENCH_ERR_INPUT);
}

/* The harness's op-profile layout (top-level itera_op_profile keyed by name, an older one
 * without rounds), a name with GB's repeats:N suffix, and a laptop row in the edge table. */
static void test_op_profile_layout(void **state)
{
    (void)state;
    const char *args[] = {DATA "laptop_opprofile.json", DATA "embedded.json", NULL};
    assert_int_equal(render("laptop", args), 0);
    char *md = doc("laptop", FIX), *ix = doc("laptop", "");
    HAS(md, "## Platform: laptop");
    HAS(md, "| ↳ `scan.state_transition` | state transition h = exp(ΔA)⊙h + Δ·Bu ¹ | 60.00 (n 1) | 12.0 |");
    HAS(md, "| `in_proj` | SSM input linear (u, g) | 75.00 (n 1) | 15.0 |");
    HAS(md, "| **`forward`** | whole prefill | **500.0 (n 1)** | 100.0 |");
    HAS(md, "`itera_op_profile` of an older run: `us_per_forward` summed over every thread");
    HAS(md, "| laptop (fp32, chunked, L = 128, batch 1) | fixture-2c | synthetic seed 20240501 | git abc1234, gcc 12.2.0 -O3 | 4 | 2.000 (2.000–2.000, 2) | 64000 (64000–64000, 2) |");
    LACKS(ix, "No results for laptop");
    HAS(ix, "No results for desktop");
    free(md);
    free(ix);
}

/* Failed runs: named in the tables, charts with nothing to plot omitted, --strict fails. */
static void test_failures(void **state)
{
    (void)state;
    const char *args[] = {DATA "host_failures.json", NULL};
    assert_int_equal(render("failures", args), 0);
    char *md = doc("failures", FIX);
    HAS(md, "| – | sequential | failed: itera_scan_bench_create: not in this engine build yet |");
    HAS(md, "| 1024 | failed | failed | failed |");
    HAS(md, "No chart: no successful run to plot.");
    HAS(md, "| int8 | failed: int8 model: weight format 1 is not built in |");
    HAS(md, "| 2 | 16000 (n 1) | failed |");
    HAS(md, "| Benchmarks | 10 (8 failed) |");
    LACKS(md, "kernels.png");
    free(md);
    const char *strict[] = {"--strict", DATA "host_failures.json", NULL};
    assert_int_equal(render("failures_strict", strict), BENCH_ERR_FAILED);
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *a[] = {DATA "embedded.json", DATA "desktop_emulated.json", DATA "peer_embedded.json",
                       DATA "amd_synthetic.json", DATA "embedded_newer.json", NULL};
    const char *b[] = {DATA "embedded_newer.json", DATA "amd_synthetic.json", DATA "peer_embedded.json",
                       DATA "embedded.json", DATA "desktop_emulated.json", DATA "embedded.json", NULL};
    assert_int_equal(render("det1", a), 0);
    assert_int_equal(render("det2", b), 0);
    const char *docs[] = {"", FIX, AMD};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *m1 = doc("det1", docs[i]), *m2 = doc("det2", docs[i]);
        assert_non_null(m1);
        assert_non_null(m2);
        assert_string_equal(m1, m2);
        LACKS(m1, "2026"); /* nothing that changes with the clock */
        free(m1);
        free(m2);
    }
    /* the same for the chart data */
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/det1/%s/embedded/kernels.dat", tmpdir, FIX);
    snprintf(p2, sizeof p2, "%s/det2/%s/embedded/kernels.dat", tmpdir, FIX);
    char *d1 = slurp(p1), *d2 = slurp(p2);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_string_equal(d1, d2);
    /* the .dat holds the table's figures: median, quartiles, range (fastest first) */
    HAS(d1, "# kernel median_ms q1_ms q3_ms min_ms max_ms\n\"chunked\" 0.51 0.5 0.52 0.49 0.9\n");
    free(d1);
    free(d2);
}

/* Every image a document links exists, under the document's folder. */
static int check_links(const char *sub, const char *machine, const char *md)
{
    int n = 0;
    for (const char *p = strstr(md, "]("); p; p = strstr(p + 1, "](")) {
        const char *end = strchr(p, ')');
        char rel[256], path[900];
        snprintf(rel, sizeof rel, "%.*s", (int)(end - p - 2), p + 2);
        if (rel[0] == '#' || strstr(rel, "README.md"))
            continue; /* in-page links and links between documents */
        snprintf(path, sizeof path, "%s/%s/%s%s%s", tmpdir, sub, machine, machine[0] ? "/" : "", rel);
        if (!exists(path))
            fail_msg("linked image missing: %s", path);
        n++;
    }
    return n;
}

static void test_images(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        printf("SKIPPED: gnuplot is not installed (Debian gnuplot-nox); the image check needs it\n");
        return;
    }
    const char *args[] = {"--strict", DATA "embedded.json", DATA "desktop_emulated.json",
                          DATA "peer_embedded.json", DATA "embedded_checkpoint.json", NULL};
    int rc = render("img", args);
    char *ix = doc("img", ""), *md = doc("img", FIX);
    assert_non_null(md);
    int n = check_links("img", "", ix) + check_links("img", FIX, md);
    static const char *const charts[] = {FIX "/embedded-c2caeb80/kernels", FIX "/embedded-c2caeb80/seqlen",
                                         FIX "/embedded-c2caeb80/ops",     FIX "/embedded-c2caeb80/quant",
                                         FIX "/embedded-c2caeb80/decode",  FIX "/embedded-c2caeb80/threads",
                                         FIX "/embedded-2eb0785f/quantacc", FIX "/all-platforms/edge",
                                         "all-machines/edge"};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char png[700], svg[700], dat[700];
        snprintf(png, sizeof png, "%s/img/%s.png", tmpdir, charts[i]);
        snprintf(svg, sizeof svg, "%s/img/%s.svg", tmpdir, charts[i]);
        snprintf(dat, sizeof dat, "%s/img/%s.dat", tmpdir, charts[i]);
        if (!exists(png) && !exists(svg))
            fail_msg("no image for %s", charts[i]);
        assert_true(exists(dat));
    }
    assert_true(n >= 12);
    /* no temporary folder is left behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a '%s/img' | grep -q '^\\.gnuplot-'", tmpdir);
    assert_int_not_equal(system(cmd), 0);
    /* --strict fails: the emulated desktop section has empty tables */
    assert_int_equal(rc, BENCH_ERR_FAILED);
    free(md);
    free(ix);
}

static void test_charts_skipped(void **state)
{
    (void)state;
    const char *args[] = {"--gnuplot", "/nonexistent/gnuplot", DATA "embedded.json", NULL};
    assert_int_equal(render("nognuplot", args), 0);
    char *md = doc("nognuplot", FIX);
    HAS(md, "**Charts were skipped**: gnuplot (`/nonexistent/gnuplot`) was not found; install "
            "Debian's gnuplot-nox to get them.");
    HAS(md, "Chart skipped (data in `embedded/kernels.dat`).");
    LACKS(md, "![");
    HAS(md, "| 1 | chunked | 0.5100 (0.5000–0.5200, 5) |");
    char dat[600];
    snprintf(dat, sizeof dat, "%s/nognuplot/%s/embedded/kernels.dat", tmpdir, FIX);
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
    char *m2 = doc("notpl", "");
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
static void test_loader_nan(void **state)
{
    (void)state;
    gb_file f;
    bench_error err;
    assert_int_equal(gb_file_load(DATA "embedded.json", &f, &err), BENCH_OK);
    const gb_cell *c = gb_file_cell(&f, "scan/chunked/channels:64/state:16/seq:32/batch:1/threads:2");
    assert_non_null(c);
    double v;
    assert_false(gb_cell_mean(c, "gflops", &v));
    assert_true(gb_cell_mean(c, "tokens_per_second", &v));
    c = gb_file_cell(&f, "scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2");
    assert_int_equal(c->n_iter, 3);
    double lo, hi;
    assert_int_equal(gb_cell_range(c, "real_time", &lo, &hi), 3);
    assert_true(lo == 1.9e6 && hi == 2.1e6); /* ns */
    gb_file_free(&f);
}

/* FILE.json.gz: a gzip-compressed result file (two members, as `gzip a; gzip b; cat`
 * gives) loads as its plain JSON does; truncated or corrupt gzip data is refused naming
 * the file. */
static void write_gz_members(const char *path, const char *text, size_t len)
{
    const size_t half = len / 2;
    gzFile z = gzopen(path, "wb9");
    assert_non_null(z);
    assert_int_equal(gzwrite(z, text, (unsigned)half), (int)half);
    assert_int_equal(gzclose(z), Z_OK);
    z = gzopen(path, "ab9");
    assert_non_null(z);
    assert_int_equal(gzwrite(z, text + half, (unsigned)(len - half)), (int)(len - half));
    assert_int_equal(gzclose(z), Z_OK);
}

static void test_loader_gzip(void **state)
{
    (void)state;
    char *text;
    size_t len;
    itera_error ie;
    assert_int_equal(itera_read_file(DATA "embedded.json", 1 << 24, &text, &len, &ie), ITERA_OK);
    char gz[512], bad[512];
    snprintf(gz, sizeof gz, "%s/embedded.json.gz", tmpdir);
    write_gz_members(gz, text, len);
    free(text);

    gb_file plain, packed;
    bench_error err;
    assert_int_equal(gb_file_load(DATA "embedded.json", &plain, &err), BENCH_OK);
    assert_int_equal(gb_file_load(gz, &packed, &err), BENCH_OK);
    assert_int_equal(packed.n_cells, plain.n_cells);
    assert_true(plain.n_cells > 0);
    const char *name = "scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2";
    const gb_cell *a = gb_file_cell(&plain, name), *b = gb_file_cell(&packed, name);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(b->n_iter, a->n_iter);
    double alo, ahi, blo, bhi;
    assert_int_equal(gb_cell_range(b, "real_time", &blo, &bhi), gb_cell_range(a, "real_time", &alo, &ahi));
    assert_true(alo == blo && ahi == bhi);
    gb_file_free(&plain);
    gb_file_free(&packed);

    char *zdata;
    size_t zlen;
    assert_int_equal(itera_read_file(gz, 1 << 24, &zdata, &zlen, &ie), ITERA_OK);
    snprintf(bad, sizeof bad, "%s/truncated.json.gz", tmpdir);
    FILE *fp = fopen(bad, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(zdata, 1, zlen - 12, fp), zlen - 12); /* the last member's end cut off */
    fclose(fp);
    assert_int_equal(gb_file_load(bad, &packed, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "truncated gzip data"));

    snprintf(bad, sizeof bad, "%s/corrupt.json.gz", tmpdir);
    zdata[zlen / 3] ^= 0x5a; /* inside the first member's deflate data */
    fp = fopen(bad, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(zdata, 1, zlen, fp), zlen);
    fclose(fp);
    assert_int_equal(gb_file_load(bad, &packed, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "gzip data"));
    free(zdata);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figure_by_hand),
        cmocka_unit_test(test_every_table),
        cmocka_unit_test(test_two_machines_two_models),
        cmocka_unit_test(test_newest_wins),
        cmocka_unit_test(test_no_fingerprint),
        cmocka_unit_test(test_machine_option),
        cmocka_unit_test(test_op_profile_layout),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_charts_skipped),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_loader_nan),
        cmocka_unit_test(test_loader_gzip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
