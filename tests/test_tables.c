/*
 * test_tables.c: the kernel table (itera_kernels.def) and the format table
 * (itera_formats.def), row by row, so a new row is tested for free:
 *   - every scan kernel, with every ISA variant this machine has (isa_select_for each
 *     ISA up to itera_isa_hw()), on 1 and 2 threads, against the reference kernel with
 *     the scalar inner loops;
 *   - every weight format: its codecs agree with one another and with its bits per weight,
 *     and every kernel row this machine can run equals its scalar reference (bit for bit
 *     for integer products, within MM tolerance for FP32);
 *   - every row is reachable by name from the `itera` CLI, `itera-bench list`, a profile
 *     (itera-bench run), the report's tables and `itera-bench compare --variants`.
 * Tests run from the repository root; the binaries are found beside this test's folder
 * (argv[0] = BUILD/tests/test_tables).
 */
#include "testutil.h"

#include <math.h>
#include <sys/wait.h>

#include "isa_select.h"
#include "itera.h"
#include "linear.h"
#include "pool.h"
#include "scan.h"

/* Kernel vs reference (scan, FP32 sums in other orders): as test_scan's SCAN_TOL. */
#define SCAN_TOL 2e-5
/* FP32 kernels vs their scalar reference, relative to Σ|x·w| + |b|. */
#define MM_TOL 1e-5

static char build_dir[512];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(float lo, float hi)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng >> 40) * (1.0 / 16777216.0));
}

/* ---- consistency of the rows ---- */

static void test_rows_consistent(void **state)
{
    (void)state;
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
        assert_non_null(ki);
        assert_string_equal(scan_kernels[k].name, ki->name);
        assert_int_equal(scan_kernels[k].id, k);
        assert_int_equal(scan_kernels[k].takes_chunk, ki->takes_chunk);
        assert_int_equal(ki->takes_chunk, scan_kernels[k].impl->chunk_len != NULL);
        assert_non_null(scan_kernels[k].impl->run);
        assert_non_null(strstr(itera_kernel_choices(), ki->name));
        itera_kernel back;
        assert_true(itera_kernel_parse(ki->name, &back) && (int)back == k);
        for (int j = 0; j < k; j++) assert_string_not_equal(ki->name, itera_kernel_name((itera_kernel)j));
    }
    assert_null(itera_kernel_info_get(ITERA_KERNEL_COUNT));
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        const itera_quant_info *qi = itera_quant_info_get((itera_quant)q);
        const linear_format *f = &linear_formats[q];
        assert_non_null(qi);
        assert_string_equal(f->name, qi->name);
        assert_string_equal(f->dtype, qi->dtype);
        assert_int_equal(f->id, q);
        assert_int_equal(f->block, qi->block);
        assert_true(f->impl->n_kernels >= 1);
        assert_int_equal(f->impl->kernels[0]->isa, ITERA_ISA_SCALAR);
        for (int i = 1; i < f->impl->n_kernels; i++) assert_true(f->impl->kernels[i]->isa > f->impl->kernels[i - 1]->isa);
        /* a format whose kernels prepare activations says how big they are */
        assert_int_equal(((const linear_kernel *)f->impl->kernels[0])->prepare != NULL, f->impl->scratch_bytes != NULL);
        itera_quant back;
        assert_true(itera_quant_parse(qi->name, &back) && (int)back == q);
        for (int j = 0; j < q; j++) assert_string_not_equal(qi->name, itera_quant_name((itera_quant)j));
    }
    assert_null(itera_quant_info_get(ITERA_QUANT_COUNT));
}

/* ---- scan kernels x ISA variants ---- */

typedef struct scan_case {
    int E, N, B, L, ldu, ldy;
    float *A, *Bm, *Cm, *D, *u, *delta, *h0;
    linear Bl, Cl;
    scan_params p;
} scan_case;

static void case_init(scan_case *c, int E, int N, int B, int L)
{
    memset(c, 0, sizeof *c);
    c->E = E, c->N = N, c->B = B, c->L = L, c->ldu = E + 3, c->ldy = E + 1;
    size_t T = (size_t)B * L;
    c->A = malloc(sizeof(float) * N);
    c->Bm = malloc(sizeof(float) * N * E);
    c->Cm = malloc(sizeof(float) * E * N);
    c->D = malloc(sizeof(float) * E);
    c->u = malloc(sizeof(float) * T * c->ldu);
    c->delta = malloc(sizeof(float) * T);
    c->h0 = malloc(sizeof(float) * B * N);
    for (int n = 0; n < N; n++) c->A[n] = -expf(frand(-1.0f, 2.5f));
    for (int i = 0; i < N * E; i++) c->Bm[i] = frand(-1, 1) / sqrtf((float)E);
    for (int i = 0; i < E * N; i++) c->Cm[i] = frand(-1, 1) / sqrtf((float)N);
    for (int e = 0; e < E; e++) c->D[e] = frand(-1, 1);
    for (size_t i = 0; i < T * c->ldu; i++) c->u[i] = frand(-2, 2);
    for (size_t i = 0; i < T; i++) c->delta[i] = frand(0.001f, 0.8f);
    for (int i = 0; i < B * N; i++) c->h0[i] = frand(-3, 3); /* a carried-in state */
    itera_error err;
    assert_int_equal(linear_init(&c->Bl, "B", c->Bm, NULL, N, E, ITERA_QUANT_FP32, &err), ITERA_OK);
    assert_int_equal(linear_init(&c->Cl, "C", c->Cm, NULL, E, N, ITERA_QUANT_FP32, &err), ITERA_OK);
    c->p = (scan_params){.E = E, .N = N, .A = c->A, .B = c->Bm, .C = c->Cm, .D = c->D, .Bl = &c->Bl, .Cl = &c->Cl};
}

static void case_free(scan_case *c)
{
    linear_free(&c->Bl);
    linear_free(&c->Cl);
    free(c->A), free(c->Bm), free(c->Cm), free(c->D), free(c->u), free(c->delta), free(c->h0);
}

/* y [B·L, ldy] and h [B, N] of kernel k with the variants of sel. */
static void run_scan(const scan_case *c, itera_kernel k, itera_pool *pool, const isa_select *sel, float *y, float *h)
{
    const scan_impl *im = scan_kernels[k].impl;
    size_t sb = im->scratch_bytes(c->B, c->L, c->E, c->N, pool_size(pool), 0);
    void *scratch = aligned_alloc(64, (sb + 63) & ~(size_t)63);
    memset(scratch, 0xff, (sb + 63) & ~(size_t)63); /* NaN: nothing may be read unwritten */
    memcpy(h, c->h0, sizeof(float) * c->B * c->N);
    scan_io io = {.B = c->B, .L = c->L, .u = c->u, .ldu = c->ldu, .delta = c->delta, .h = h, .y = y, .ldy = c->ldy};
    im->run(pool, &c->p, &io, scratch, 0, NULL, sel);
    free(scratch);
}

static double max_rel(const float *got, const float *want, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs((double)want[i]));
        if (!(e <= m)) m = e;
    }
    return m;
}

static void test_every_kernel_every_isa(void **state)
{
    (void)state;
    itera_error err;
    itera_pool *pool2 = pool_create(2, NULL, NULL, &err);
    assert_non_null(pool2);
    static const int shapes[][4] = {{128, 8, 1, 300}, {37, 13, 3, 64}, {256, 64, 2, 33}};
    isa_select ref_sel;
    isa_select_for(ITERA_ISA_SCALAR, &ref_sel);
    int runs = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        scan_case c;
        case_init(&c, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]);
        size_t ny = (size_t)c.B * c.L * c.ldy, nh = (size_t)c.B * c.N;
        float *y0 = calloc(ny, sizeof(float)), *h0 = malloc(sizeof(float) * nh);
        float *y = calloc(ny, sizeof(float)), *h = malloc(sizeof(float) * nh);
        run_scan(&c, ITERA_KERNEL_REFERENCE, NULL, &ref_sel, y0, h0);
        for (int k = 0; k < ITERA_KERNEL_COUNT; k++)
            for (int isa = 0; isa <= (int)itera_isa_hw(); isa++)
                for (int t = 1; t <= 2; t++) {
                    isa_select sel;
                    isa_select_for((itera_isa)isa, &sel);
                    run_scan(&c, (itera_kernel)k, t == 2 ? pool2 : NULL, &sel, y, h);
                    double ey = max_rel(y, y0, ny), eh = max_rel(h, h0, nh);
                    if (!(ey <= SCAN_TOL && eh <= SCAN_TOL))
                        fail_msg("kernel %s, ISA %s (scan %s, matmul %s), %d thread(s), E=%d N=%d B=%d L=%d: "
                                 "y off by %g, h by %g (tolerance %g)",
                                 itera_kernel_name((itera_kernel)k), itera_isa_name((itera_isa)isa), sel.scan->v.name,
                                 sel.fmt[ITERA_QUANT_FP32]->v.name, t, c.E, c.N, c.B, c.L, ey, eh, SCAN_TOL);
                    runs++;
                }
        free(y0), free(h0), free(y), free(h);
        case_free(&c);
    }
    for (int isa = (int)itera_isa_hw() + 1; isa < ITERA_ISA_COUNT; isa++)
        printf("SKIPPED: ISA %s: not on this CPU\n", itera_isa_name((itera_isa)isa));
    printf("%d kernel x ISA x threads runs (%d kernels) equal the reference within %g\n", runs,
           ITERA_KERNEL_COUNT, SCAN_TOL);
    pool_destroy(pool2);
}

/* ---- formats x kernel rows ---- */

static void test_every_format_every_kernel(void **state)
{
    (void)state;
    static const int shapes[][3] = {{1, 70, 64}, {7, 33, 96}, {40, 130, 128}}; /* M, n_out, n_in */
    itera_error err;
    itera_pool *pool2 = pool_create(2, NULL, NULL, &err);
    assert_non_null(pool2);
    int runs = 0;
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        const linear_format *f = &linear_formats[q];
        const linear_impl *im = f->impl;
        const bool exact = itera_quant_info_get((itera_quant)q)->products != ITERA_ARITH_FP32;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int M = shapes[s][0], n_out = shapes[s][1], n_in = shapes[s][2];
            assert_int_equal(n_in % f->block, 0);
            float *W = malloc(sizeof(float) * n_out * n_in), *bias = malloc(sizeof(float) * n_out);
            for (int i = 0; i < n_out * n_in; i++) W[i] = frand(-0.3f, 0.3f);
            for (int i = 0; i < n_out; i++) bias[i] = frand(-1, 1);
            linear L;
            assert_int_equal(linear_init(&L, "w", W, bias, n_out, n_in, (itera_quant)q, &err), ITERA_OK);
            /* the codecs: bits per weight, file form = quantize_row per row, a lossless
             * file -> memory -> file round trip, and dequantize_row = the memory form's rows */
            /* bits per weight as the row says, at n_in = 64 (a per-row scale's share depends
             * on n_in), and the file form's size linear in the rows */
            assert_true(fabs(8.0 * (double)im->file_bytes(f, 1, 64) / 64.0 - f->bits_per_weight) < 1e-9);
            assert_int_equal(L.w_bytes, (size_t)n_out * im->file_bytes(f, 1, n_in));
            uint8_t *file = malloc(L.w_bytes), *row = malloc(L.w_bytes / n_out), *file2 = malloc(L.w_bytes);
            float *wr = malloc(sizeof(float) * n_in), *wq = malloc(sizeof(float) * n_in);
            linear_save(&L, file);
            double err2 = 0, sum2 = 0;
            for (int r = 0; r < n_out; r++) {
                im->quantize_row(f, W + (size_t)r * n_in, row, n_in);
                assert_memory_equal(row, file + (size_t)r * (L.w_bytes / n_out), L.w_bytes / n_out);
                im->dequantize_row(f, row, wq, n_in);
                linear_row(&L, r, wr);
                assert_memory_equal(wq, wr, sizeof(float) * n_in);
                for (int k = 0; k < n_in; k++) {
                    double d = wr[k] - W[(size_t)r * n_in + k];
                    err2 += d * d, sum2 += (double)W[(size_t)r * n_in + k] * W[(size_t)r * n_in + k];
                }
            }
            assert_true(sqrt(err2 / sum2) < 0.1); /* any format keeps the weights within 10% RMS */
            linear L2;
            assert_int_equal(linear_init_packed(&L2, "w2", file, L.w_bytes, bias, n_out, n_in, (itera_quant)q, &err),
                             ITERA_OK);
            linear_save(&L2, file2);
            assert_memory_equal(file, file2, L.w_bytes);
            linear_free(&L2);
            /* every kernel row this CPU runs, against the scalar row, 1 and 2 threads */
            float *x = malloc(sizeof(float) * M * n_in), *y0 = malloc(sizeof(float) * M * n_out),
                  *y = malloc(sizeof(float) * M * n_out);
            for (int i = 0; i < M * n_in; i++) x[i] = frand(-2, 2);
            void *sc = malloc(linear_scratch_bytes(&L, M) + 64);
            linear_forward_with(NULL, &L, (const linear_kernel *)im->kernels[0], x, n_in, M, sc, y0, n_out);
            for (int i = 0; i < im->n_kernels; i++) {
                const linear_kernel *k = (const linear_kernel *)im->kernels[i];
                if (!itera_isa_has(k->v.isa)) {
                    printf("SKIPPED: %s kernels %s: not supported by this CPU (or capped by ITERA_ISA)\n", f->name,
                           k->v.name);
                    continue;
                }
                for (int t = 1; t <= 2; t++) {
                    for (int j = 0; j < M * n_out; j++) y[j] = NAN;
                    linear_forward_with(t == 2 ? pool2 : NULL, &L, k, x, n_in, M, sc, y, n_out);
                    for (int m = 0; m < M; m++)
                        for (int n = 0; n < n_out; n++) {
                            const float got = y[(size_t)m * n_out + n], want = y0[(size_t)m * n_out + n];
                            if (exact) {
                                if (memcmp(&got, &want, sizeof got) != 0)
                                    fail_msg("%s kernels %s (%d threads) M=%d n_out=%d n_in=%d: y[%d,%d] %.9g, "
                                             "scalar %.9g (integer products must match bit for bit)",
                                             f->name, k->v.name, t, M, n_out, n_in, m, n, got, want);
                            } else {
                                double mag = fabs(bias[n]);
                                for (int kk = 0; kk < n_in; kk++)
                                    mag += fabs((double)x[(size_t)m * n_in + kk] * W[(size_t)n * n_in + kk]);
                                if (!(fabs((double)got - want) <= MM_TOL * mag))
                                    fail_msg("%s kernels %s (%d threads): y[%d,%d] %.9g, scalar %.9g", f->name,
                                             k->v.name, t, m, n, got, want);
                            }
                        }
                    runs++;
                }
            }
            linear_free(&L);
            free(W), free(bias), free(file), free(row), free(file2), free(wr), free(wq), free(x), free(y0), free(y),
                free(sc);
        }
    }
    printf("%d format x kernel x threads runs (%d formats) equal their scalar reference\n", runs, ITERA_QUANT_COUNT);
    pool_destroy(pool2);
}

/* ---- every row reachable from the consumers ---- */

/* Runs a shell command (from the repository root); its stdout+stderr in out (malloc'd). */
static int run_cmd(const char *cmd, char **out)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_run(const char *cmd, int want_rc, const char *needle)
{
    char *out;
    int rc = run_cmd(cmd, &out);
    if (rc != want_rc || (needle && !strstr(out, needle))) {
        print_error("$ %s\n%s\n", cmd, out);
        fail_msg("`%s` exited %d (wanted %d) or lacks '%s'", cmd, rc, want_rc, needle ? needle : "");
    }
    free(out);
}

static void test_rows_reachable(void **state)
{
    (void)state;
    char cmd[2048], needle[256], dir[64];
    make_tmpdir(dir, sizeof dir);
    /* the itera CLI */
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
        snprintf(cmd, sizeof cmd, "%s/itera scan --kernel %s --seq 40 --batch 1 --channels 32 --state 8 --reps 5",
                 build_dir, ki->name);
        snprintf(needle, sizeof needle, "kernel=%s ", ki->name);
        expect_run(cmd, 0, needle);
        if (ki->takes_chunk) expect_run(cmd, 0, " chunk=");
        snprintf(cmd, sizeof cmd, "%s/itera generate --kernel %s -n 2 --temperature 0", build_dir, ki->name);
        snprintf(needle, sizeof needle, "kernel=%s ", ki->name);
        expect_run(cmd, 0, needle);
        snprintf(cmd, sizeof cmd, "%s/itera scan --help", build_dir);
        expect_run(cmd, 0, ki->name);
    }
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        const char *name = itera_quant_name((itera_quant)q);
        snprintf(cmd, sizeof cmd, "%s/itera generate --quant %s -n 2 --temperature 0", build_dir, name);
        snprintf(needle, sizeof needle, "quant=%s ", name);
        expect_run(cmd, 0, needle);
        snprintf(cmd, sizeof cmd, "%s/itera quantize --quant %s --out %s/m-%s", build_dir, name, dir, name);
        snprintf(needle, sizeof needle, "quant=%s ", name);
        expect_run(cmd, 0, needle);
        snprintf(cmd, sizeof cmd, "%s/itera info --model %s/m-%s", build_dir, dir, name);
        expect_run(cmd, 0, itera_quant_info_get((itera_quant)q)->dtype);
        snprintf(cmd, sizeof cmd, "%s/itera quantize --help", build_dir);
        expect_run(cmd, 0, name);
    }
    /* itera-bench list */
    snprintf(cmd, sizeof cmd, "%s/itera-bench list", build_dir);
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        snprintf(needle, sizeof needle, "  %s ", itera_kernel_name((itera_kernel)k));
        expect_run(cmd, 0, needle);
    }
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        snprintf(needle, sizeof needle, "  %s ", itera_quant_name((itera_quant)q));
        expect_run(cmd, 0, needle);
    }
    /* a profile sweeping every row (`all`), run; the report's kernel and quantization
     * tables; compare --variants of every row against the reference row */
    char ini[128], res[128], rep[128];
    snprintf(ini, sizeof ini, "%s/rows.ini", dir);
    snprintf(res, sizeof res, "%s/rows.json", dir);
    snprintf(rep, sizeof rep, "%s/report", dir);
    write_text(ini, "[profile]\ndescription = every row of the tables\nfamilies = scan, prefill\n"
                    "kernels = all\nquants = all\nseq = 16\nbatch = 1\nthreads = 1\nrepetitions = 2\n"
                    "min_time = 0.002\nscan_channels = 256\nscan_state = 64\nscan_seq = 128\nscan_batch = 4\n");
    snprintf(cmd, sizeof cmd, "%s/itera-bench list --profile %s --cells", build_dir, ini);
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        snprintf(needle, sizeof needle, "scan/%s/", itera_kernel_name((itera_kernel)k));
        expect_run(cmd, 0, needle);
    }
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        snprintf(needle, sizeof needle, "prefill/%s/", itera_quant_name((itera_quant)q));
        expect_run(cmd, 0, needle);
    }
    snprintf(cmd, sizeof cmd, "%s/itera-bench run --platform host --profile %s --out %s", build_dir, ini, res);
    expect_run(cmd, 0, NULL);
    snprintf(cmd, sizeof cmd, "%s/itera-bench report --no-charts %s -o %s", build_dir, res, rep);
    expect_run(cmd, 0, NULL);
    char *md = NULL;
    /* the one machine's report: <rep>/<machine>/README.md */
    snprintf(cmd, sizeof cmd, "cat %s/*/README.md", rep);
    assert_int_equal(run_cmd(cmd, &md), 0);
    const char *kt = strstr(md, "#### Kernel comparison"), *qt = strstr(md, "#### Quantization\n");
    assert_non_null(kt);
    assert_non_null(qt);
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        /* a row "| rank | kernel | ..." */
        snprintf(needle, sizeof needle, " | %s | ", itera_kernel_name((itera_kernel)k));
        const char *at = strstr(kt, needle);
        if (!at || (qt > kt && at > qt)) fail_msg("the report's kernel table has no row for %s", needle + 3);
    }
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        snprintf(needle, sizeof needle, "\n| %s | ", itera_quant_name((itera_quant)q));
        if (!strstr(qt, needle)) fail_msg("the report's quantization table has no row for %s", needle + 3);
    }
    free(md);
    for (int k = 1; k < ITERA_KERNEL_COUNT; k++) {
        snprintf(cmd, sizeof cmd, "%s/itera-bench compare --variants %s,%s %s", build_dir,
                 itera_kernel_name(ITERA_KERNEL_REFERENCE), itera_kernel_name((itera_kernel)k), res);
        snprintf(needle, sizeof needle, "%s→%s", itera_kernel_name(ITERA_KERNEL_REFERENCE),
                 itera_kernel_name((itera_kernel)k));
        expect_run(cmd, 0, needle);
    }
    for (int q = 1; q < ITERA_QUANT_COUNT; q++) {
        snprintf(cmd, sizeof cmd, "%s/itera-bench compare --variants %s,%s %s", build_dir,
                 itera_quant_name(ITERA_QUANT_REFERENCE), itera_quant_name((itera_quant)q), res);
        snprintf(needle, sizeof needle, "%s→%s", itera_quant_name(ITERA_QUANT_REFERENCE),
                 itera_quant_name((itera_quant)q));
        expect_run(cmd, 0, needle);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* BUILD/tests/test_tables -> BUILD */
    snprintf(build_dir, sizeof build_dir, "%s", argv[0]);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(build_dir, '/');
        if (slash) *slash = '\0';
        else snprintf(build_dir, sizeof build_dir, ".");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_consistent),
        cmocka_unit_test(test_every_kernel_every_isa),
        cmocka_unit_test(test_every_format_every_kernel),
        cmocka_unit_test(test_rows_reachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
