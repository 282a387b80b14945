/*
 * compare.c: `itera-bench compare` (see compare.h): two result files, or two variants of
 * one, benchmark by benchmark, with a Mann-Whitney U test on the repetitions.
 */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbread.h"
#include "itera.h"
#include "machine.h"
#include "schema.h"

/* ---- Mann-Whitney U ---- */

typedef struct ranked {
    double v;
    int from_x;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return (x > y) - (x < y);
}

/* P(U >= k) under H0 for sizes m, n with no ties. The number of arrangements with U = k is
 * the number of partitions of k into at most m parts, each at most n (the coefficients of
 * the Gaussian binomial [m+n choose m]_q); counted with additions only, so no cancellation.
 * dp[c][s]: partitions into exactly c parts (of the sizes seen so far) summing to s. */
static double exact_sf(int m, int n, double k)
{
    int mn = m * n;
    size_t w = (size_t)mn + 1;
    double *dp = calloc((size_t)(m + 1) * w, sizeof *dp);
    if (!dp)
        return NAN;
    dp[0] = 1.0;
    for (int part = 1; part <= n; part++)
        for (int c = 1; c <= m; c++)
            for (int s = part; s <= mn; s++)
                dp[(size_t)c * w + (size_t)s] += dp[(size_t)(c - 1) * w + (size_t)(s - part)];
    double total = 0, tail = 0;
    for (int s = 0; s <= mn; s++) {
        double cnt = 0;
        for (int c = 0; c <= m; c++)
            cnt += dp[(size_t)c * w + (size_t)s];
        total += cnt;
        if (s >= k)
            tail += cnt;
    }
    free(dp);
    return tail / total;
}

int mwu_test(const double *x, int nx, const double *y, int ny, mwu_method method, mwu_result *r)
{
    memset(r, 0, sizeof *r);
    if (nx < 1 || ny < 1 || !x || !y)
        return -1;
    int n = nx + ny;
    ranked *a = malloc((size_t)n * sizeof *a);
    if (!a)
        return -1;
    for (int i = 0; i < nx; i++)
        a[i] = (ranked){x[i], 1};
    for (int i = 0; i < ny; i++)
        a[nx + i] = (ranked){y[i], 0};
    qsort(a, (size_t)n, sizeof *a, cmp_ranked);

    double r1 = 0, tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && a[j + 1].v == a[i].v)
            j++;
        double t = j - i + 1, midrank = (i + j) / 2.0 + 1.0;
        for (int k = i; k <= j; k++)
            if (a[k].from_x)
                r1 += midrank;
        if (t > 1) {
            tie_term += t * t * t - t;
            r->ties = true;
        }
        i = j + 1;
    }
    free(a);

    double mn = (double)nx * ny;
    r->u1 = r1 - nx * (nx + 1) / 2.0;
    r->u2 = mn - r->u1;
    double u = r->u1 > r->u2 ? r->u1 : r->u2;

    bool exact = method == MWU_EXACT ||
                 (method == MWU_AUTO && !r->ties && nx <= MWU_EXACT_MAX && ny <= MWU_EXACT_MAX);
    if (exact) {
        if (nx > MWU_EXACT_MAX || ny > MWU_EXACT_MAX)
            return -1;
        r->p = 2.0 * exact_sf(nx, ny, u);
        r->exact = true;
    } else {
        double s = sqrt(mn / 12.0 * ((n + 1) - tie_term / ((double)n * (n - 1))));
        if (!(s > 0)) {
            r->p = 1.0; /* every value tied: no evidence of a difference */
        } else {
            double z = (u - mn / 2.0 - 0.5) / s;
            r->p = erfc(z / sqrt(2.0)); /* 2 * (1 - Phi(z)) */
        }
    }
    if (r->p > 1.0)
        r->p = 1.0;
    if (r->p < 0.0)
        r->p = 0.0;
    return isnan(r->p) ? -1 : 0;
}

/* ---- verdicts ---- */

static const char *const verdict_names[VERDICT_COUNT] = {
    [VERDICT_SAME] = "no significant change",
    [VERDICT_FASTER] = "faster",
    [VERDICT_SLOWER] = "slower",
    [VERDICT_NONE] = "not compared",
};

const char *compare_verdict_name(compare_verdict v)
{
    return (v >= 0 && v < VERDICT_COUNT) ? verdict_names[v] : "?";
}

static void mean_range(const double *v, int n, double *mean, double *mn, double *mx)
{
    double s = 0;
    *mn = *mx = v[0];
    for (int i = 0; i < n; i++) {
        s += v[i];
        if (v[i] < *mn)
            *mn = v[i];
        if (v[i] > *mx)
            *mx = v[i];
    }
    *mean = s / n;
}

void compare_judge(const double *base, int nb, const double *nw, int nn, bool higher_is_better,
                   double alpha, compare_judgement *j)
{
    memset(j, 0, sizeof *j);
    j->n_base = nb;
    j->n_new = nn;
    j->verdict = VERDICT_NONE;
    j->rule = RULE_MISSING;
    j->change_pct = j->worse_pct = NAN;
    if (nb < 1 || nn < 1)
        return;
    mean_range(base, nb, &j->base_mean, &j->base_min, &j->base_max);
    mean_range(nw, nn, &j->new_mean, &j->new_min, &j->new_max);
    j->change_pct = j->base_mean != 0 ? (j->new_mean - j->base_mean) / j->base_mean * 100.0 : NAN;
    j->worse_pct = higher_is_better ? -j->change_pct : j->change_pct;
    /* "new is better" in the metric's own direction */
    bool new_better = higher_is_better ? j->new_mean > j->base_mean : j->new_mean < j->base_mean;

    j->have_p = mwu_test(base, nb, nw, nn, MWU_AUTO, &j->u) == 0;
    if (nb < 2 || nn < 2) {
        j->rule = RULE_TOO_FEW;
        j->verdict = VERDICT_SAME;
    } else if (nb >= COMPARE_UTEST_MIN_REPS && nn >= COMPARE_UTEST_MIN_REPS) {
        j->rule = RULE_UTEST;
        if (j->have_p && j->u.p < alpha && j->new_mean != j->base_mean)
            j->verdict = new_better ? VERDICT_FASTER : VERDICT_SLOWER;
        else
            j->verdict = VERDICT_SAME;
    } else {
        j->rule = RULE_SPREAD;
        bool apart = j->new_max < j->base_min || j->new_min > j->base_max;
        if (apart)
            j->verdict = new_better ? VERDICT_FASTER : VERDICT_SLOWER;
        else
            j->verdict = VERDICT_SAME;
    }
}

/* ---- the command ---- */

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: itera-bench compare [options] BASE.json NEW.json\n"
            "       itera-bench compare [options] --variants A,B FILE.json\n"
            "\n"
            "Compares Google Benchmark result files benchmark by benchmark and prints a markdown\n"
            "table: Benchmark | Base | New | Change %% | p-value | Verdict | Rule.\n"
            "Base and New are the mean over the repetitions (iteration runs), with min-max and n.\n"
            "Verdicts: with >= %d repetitions a side, a two-sided Mann-Whitney U test at alpha;\n"
            "with 2..%d the U test cannot reliably reach significance, so faster/slower only when\n"
            "the min-max ranges do not overlap; with 1, no significant change can be shown.\n"
            "\n"
            "options:\n"
            "  --variants A,B     compare variant A (base) with B (new) inside one file: benchmarks\n"
            "                     whose names differ only in the kernel or quant part (A -> B);\n"
            "                     the engine's kernels: %s; quants: %s\n"
            "                     (a peer's own names work too)\n"
            "  --metric M         real_time (default), cpu_time or tokens_per_second\n"
            "  --fail-above PCT   exit 1 when any benchmark is significantly slower by more than PCT %%\n"
            "  --alpha A          significance level of the U test (default %.2f)\n"
            "  -h, --help         this text\n"
            "exit status: 0 done, 1 the --fail-above gate failed, 2 bad usage or input\n",
            COMPARE_UTEST_MIN_REPS, COMPARE_UTEST_MIN_REPS - 1, itera_kernel_choices(), itera_quant_choices(),
            COMPARE_DEFAULT_ALPHA);
}

typedef struct cmp_opts {
    const char *files[2];
    int n_files;
    const char *variant_a, *variant_b;
    char variants_buf[128];
    const char *metric;
    bool higher_is_better;
    bool gate;
    double fail_above;
    double alpha;
} cmp_opts;

static bool parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Returns 0 to run, 1 after --help, 2 on bad usage (message printed). */
static int parse_args(int argc, char **argv, cmp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->metric = MET_REAL_TIME;
    o->alpha = COMPARE_DEFAULT_ALPHA;
    const char *variants = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *opt = NULL;
        static const char *const with_value[] = {"--variants", "--metric", "--fail-above", "--alpha"};
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
            size_t n = strlen(with_value[k]);
            if (strncmp(a, with_value[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                opt = with_value[k];
                if (a[n] == '=') {
                    val = a + n + 1;
                } else if (i + 1 < argc) {
                    val = argv[++i];
                } else {
                    fprintf(stderr, "compare: %s needs a value\n", opt);
                    return 2;
                }
            }
        }
        if (opt) {
            if (strcmp(opt, "--variants") == 0) {
                variants = val;
            } else if (strcmp(opt, "--metric") == 0) {
                o->metric = val;
            } else if (strcmp(opt, "--fail-above") == 0) {
                if (!parse_double(val, &o->fail_above) || o->fail_above < 0) {
                    fprintf(stderr, "compare: --fail-above '%s': expected a percentage >= 0\n", val);
                    return 2;
                }
                o->gate = true;
            } else {
                if (!parse_double(val, &o->alpha) || !(o->alpha > 0 && o->alpha < 1)) {
                    fprintf(stderr, "compare: --alpha '%s': expected a number in (0, 1)\n", val);
                    return 2;
                }
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "compare: unknown option '%s' (see itera-bench compare --help)\n", a);
            return 2;
        } else {
            if (o->n_files == 2) {
                fprintf(stderr, "compare: too many files ('%s'); expected BASE.json NEW.json\n", a);
                return 2;
            }
            o->files[o->n_files++] = a;
        }
    }
    if (strcmp(o->metric, MET_REAL_TIME) == 0 || strcmp(o->metric, MET_CPU_TIME) == 0) {
        o->higher_is_better = false;
    } else if (strcmp(o->metric, MET_TOKENS_PER_SECOND) == 0) {
        o->higher_is_better = true;
    } else {
        fprintf(stderr,
                "compare: --metric '%s': expected %s, %s or %s\n", o->metric, MET_REAL_TIME,
                MET_CPU_TIME, MET_TOKENS_PER_SECOND);
        return 2;
    }
    if (variants) {
        const char *comma = strchr(variants, ',');
        size_t len = strlen(variants);
        if (!comma || comma == variants || comma[1] == '\0' || strchr(comma + 1, ',') ||
            len >= sizeof o->variants_buf) {
            fprintf(stderr, "compare: --variants '%s': expected two names A,B (e.g. %s,%s)\n", variants,
                    itera_kernel_name(ITERA_KERNEL_REFERENCE), itera_kernel_name((itera_kernel)(ITERA_KERNEL_COUNT - 1)));
            return 2;
        }
        memcpy(o->variants_buf, variants, len + 1);
        o->variants_buf[comma - variants] = '\0';
        o->variant_a = o->variants_buf;
        o->variant_b = o->variants_buf + (comma - variants) + 1;
        if (strcmp(o->variant_a, o->variant_b) == 0) {
            fprintf(stderr, "compare: --variants '%s': the two variants are the same\n", variants);
            return 2;
        }
        itera_kernel ka, kb;
        itera_quant qa, qb;
        const bool a_kernel = itera_kernel_parse(o->variant_a, &ka) && ka >= 0,
                   b_kernel = itera_kernel_parse(o->variant_b, &kb) && kb >= 0,
                   a_quant = itera_quant_parse(o->variant_a, &qa), b_quant = itera_quant_parse(o->variant_b, &qb);
        if ((a_kernel && b_quant) || (a_quant && b_kernel)) {
            fprintf(stderr,
                    "compare: --variants '%s': one is a kernel and the other a quant; compare two kernels "
                    "(%s) or two quants (%s)\n",
                    variants, itera_kernel_choices(), itera_quant_choices());
            return 2;
        }
        if (o->n_files != 1) {
            fprintf(stderr, "compare: --variants takes exactly one result file (got %d)\n", o->n_files);
            return 2;
        }
    } else if (o->n_files != 2) {
        fprintf(stderr, "compare: expected BASE.json NEW.json (got %d file%s); see --help\n",
                o->n_files, o->n_files == 1 ? "" : "s");
        return 2;
    }
    return 0;
}

/* One row of the table: a benchmark on both sides. */
typedef struct cmp_row {
    char label[512];
    const gb_cell *base, *nw;
} cmp_row;

typedef struct row_list {
    cmp_row *v;
    int n, cap;
} row_list;

static int rows_push(row_list *l, const char *label, const gb_cell *b, const gb_cell *n)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 32;
        cmp_row *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    cmp_row *r = &l->v[l->n++];
    snprintf(r->label, sizeof r->label, "%s", label);
    r->base = b;
    r->nw = n;
    return 0;
}

/* name with its '/'-part number `idx` (1 or 2) equal to from replaced by to; false when
 * that part is not `from`. */
static bool replace_part(const char *name, int idx, const char *from, const char *to, char *out,
                         size_t cap)
{
    const char *p = name;
    for (int i = 0; i < idx; i++) {
        p = strchr(p, '/');
        if (!p)
            return false;
        p++;
    }
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n != strlen(from) || strncmp(p, from, n) != 0)
        return false;
    int w = snprintf(out, cap, "%.*s%s%s", (int)(p - name), name, to, p + n);
    return w > 0 && (size_t)w < cap;
}

/* Context keys whose difference makes a comparison suspect. The machine is compared by
 * its fingerprint (machine.h) when both files carry one, else by the keys older files
 * have. */
static const struct {
    const char *what, *key;
} fingerprint[] = {
    {"platform", CTX_PLATFORM}, {"platform", CTX_EMULATED},         {"threads", CTX_THREADS},
    {"build", CTX_GIT},         {"build", CTX_COMPILER},           {"build", CTX_LIBRARY_BUILD_TYPE},
    {"build", CTX_ISA},         {"model", CTX_MODEL},
};
static const char *const legacy_machine_keys[] = {CTX_HOST_NAME, CTX_CPU_MODEL, CTX_NUM_CPUS};

static void warn_differ(const char *what, const char *key, const char *va, const char *vb,
                        const gb_file *a, const gb_file *b, FILE *md)
{
    fprintf(stderr, "compare: warning: the files differ in %s: %s is '%s' in %s but '%s' in %s\n",
            what, key, va ? va : "(absent)", a->path, vb ? vb : "(absent)", b->path);
    fprintf(md, "> **Warning**: the files differ in %s: `%s` is `%s` in base but `%s` in new.\n",
            what, key, va ? va : "(absent)", vb ? vb : "(absent)");
}

/* One warning for key when it differs; returns 1 when it did. */
static int warn_key(const char *what, const char *key, const gb_file *a, const gb_file *b,
                    FILE *md)
{
    char ba[256], bb[256];
    const char *va = gb_ctx(a, key, ba, sizeof ba);
    const char *vb = gb_ctx(b, key, bb, sizeof bb);
    if ((!va && !vb) || (va && vb && strcmp(va, vb) == 0))
        return 0;
    warn_differ(what, key, va, vb, a, b, md);
    return 1;
}

/* Writes one warning line per difference to stderr and into md (as markdown quotes).
 * Returns the number of differences. */
static int fingerprint_warnings(const gb_file *a, const gb_file *b, FILE *md)
{
    int n = 0;
    machine_info ma, mb;
    if (machine_from_context(a->context, &ma, NULL) == BENCH_OK &&
        machine_from_context(b->context, &mb, NULL) == BENCH_OK) {
        uint32_t d = machine_diff(&ma, &mb) & machine_identity_mask();
        for (int f = 0; f < MACHINE_F_COUNT; f++) {
            if (!(d & (1u << f)))
                continue;
            char va[512], vb[512];
            machine_field_format(&ma, (machine_field)f, va, sizeof va);
            machine_field_format(&mb, (machine_field)f, vb, sizeof vb);
            warn_differ("machine", machine_field_key((machine_field)f), va, vb, a, b, md);
            n++;
        }
    } else {
        for (size_t i = 0; i < sizeof legacy_machine_keys / sizeof legacy_machine_keys[0]; i++)
            n += warn_key("machine", legacy_machine_keys[i], a, b, md);
    }
    for (size_t i = 0; i < sizeof fingerprint / sizeof fingerprint[0]; i++)
        n += warn_key(fingerprint[i].what, fingerprint[i].key, a, b, md);
    if (n)
        fprintf(md, "\n");
    return n;
}

/* A value of metric in display units: times as ns/us/ms/s chosen from `scale_ns`. */
typedef struct unit {
    const char *name;
    double div;
} unit;

static unit pick_unit(const char *metric, double scale)
{
    if (strcmp(metric, MET_TOKENS_PER_SECOND) == 0)
        return (unit){"tok/s", 1.0};
    if (scale >= 1e9)
        return (unit){"s", 1e9};
    if (scale >= 1e6)
        return (unit){"ms", 1e6};
    if (scale >= 1e3)
        return (unit){"us", 1e3};
    return (unit){"ns", 1.0};
}

static void fmt_val(char *buf, size_t cap, double v)
{
    double a = fabs(v);
    int dec = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    snprintf(buf, cap, "%.*f", dec, v);
}

static void fmt_side(char *buf, size_t cap, double mean, double mn, double mx, int n, unit u)
{
    char m[64], lo[64], hi[64];
    fmt_val(m, sizeof m, mean / u.div);
    if (n >= 2) {
        fmt_val(lo, sizeof lo, mn / u.div);
        fmt_val(hi, sizeof hi, mx / u.div);
        snprintf(buf, cap, "%s %s (%s–%s, n=%d)", m, u.name, lo, hi, n);
    } else {
        snprintf(buf, cap, "%s %s (n=%d)", m, u.name, n);
    }
}

static void fmt_rule(char *buf, size_t cap, const compare_judgement *j, double alpha,
                     const gb_cell *b, const gb_cell *n)
{
    switch (j->rule) {
    case RULE_UTEST:
        snprintf(buf, cap, "U test (%s p), p %s %.2f", j->u.exact ? "exact" : "normal approx.",
                 j->have_p && j->u.p < alpha ? "<" : "≥", alpha);
        break;
    case RULE_SPREAD:
        snprintf(buf, cap, "min–max ranges %s (n < %d: U test not used)",
                 j->verdict == VERDICT_SAME ? "overlap" : "do not overlap", COMPARE_UTEST_MIN_REPS);
        break;
    case RULE_TOO_FEW:
        snprintf(buf, cap, "1 repetition: no spread to judge by");
        break;
    default:
        if (b->error || n->error)
            snprintf(buf, cap, "run failed: %s",
                     b->error ? (b->error_message ? b->error_message : "error in base")
                              : (n->error_message ? n->error_message : "error in new"));
        else
            snprintf(buf, cap, "metric missing");
        break;
    }
}

#define MAX_REPS 4096

int compare_main(int argc, char **argv)
{
    cmp_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc == 1)
        return 0;
    if (rc)
        return 2;

    gb_file fa, fb;
    memset(&fb, 0, sizeof fb);
    char err[1024];
    if (gb_file_load(o.files[0], &fa, err, sizeof err) != 0) {
        fprintf(stderr, "compare: %s\n", err);
        return 2;
    }
    bool two = o.variant_a == NULL;
    if (two && gb_file_load(o.files[1], &fb, err, sizeof err) != 0) {
        fprintf(stderr, "compare: %s\n", err);
        gb_file_free(&fa);
        return 2;
    }
    const gb_file *nf = two ? &fb : &fa;

    row_list rows = {0};
    int only_base = 0, only_new = 0;
    rc = 0;
    if (two) {
        /* matched on the canonical name: GB's repeats:N etc. may differ between runs */
        for (int i = 0; i < fa.n_cells; i++) {
            const gb_cell *n = gb_file_cell_canon(&fb, fa.cells[i].canon);
            if (!n) {
                only_base++;
                continue;
            }
            if (rows_push(&rows, fa.cells[i].canon, &fa.cells[i], n) != 0)
                rc = 2;
        }
        for (int i = 0; i < fb.n_cells; i++)
            if (!gb_file_cell_canon(&fa, fb.cells[i].canon))
                only_new++;
    } else {
        for (int i = 0; i < fa.n_cells; i++) {
            char other[512], label[512];
            for (int idx = 1; idx <= 2; idx++) {
                if (!replace_part(fa.cells[i].canon, idx, o.variant_a, o.variant_b, other,
                                  sizeof other))
                    continue;
                const gb_cell *n = gb_file_cell_canon(&fa, other);
                if (!n)
                    continue;
                char arrow[160];
                snprintf(arrow, sizeof arrow, "%s→%s", o.variant_a, o.variant_b);
                replace_part(fa.cells[i].canon, idx, o.variant_a, arrow, label, sizeof label);
                if (rows_push(&rows, label, &fa.cells[i], n) != 0)
                    rc = 2;
                break;
            }
        }
    }
    if (rc) {
        fprintf(stderr, "compare: out of memory\n");
        goto out;
    }
    if (rows.n == 0) {
        if (two)
            fprintf(stderr, "compare: no benchmark is in both %s and %s: nothing to compare\n",
                    fa.path, fb.path);
        else
            fprintf(stderr,
                    "compare: %s: no pair of benchmarks whose names differ only in '%s' -> '%s' "
                    "(kernel or quant part; the engine's kernels: %s; quants: %s)\n",
                    fa.path, o.variant_a, o.variant_b, itera_kernel_choices(), itera_quant_choices());
        rc = 2;
        goto out;
    }

    FILE *md = stdout;
    if (two)
        fprintf(md, "## Compare: `%s` (base) → `%s` (new)\n\n", fa.path, fb.path);
    else
        fprintf(md, "## Compare: `%s` (base) → `%s` (new) in `%s`\n\n", o.variant_a, o.variant_b,
                fa.path);
    if (two)
        fingerprint_warnings(&fa, &fb, md);
    fprintf(md,
            "Metric: `%s` (%s is better), the mean over the repetitions with min–max and n. "
            "Verdicts: Mann–Whitney U test at α = %.2f with ≥ %d repetitions a side; with fewer the "
            "U test cannot reliably reach significance, so the verdict is faster/slower only when "
            "the min–max ranges do not overlap.\n\n",
            o.metric, o.higher_is_better ? "higher" : "lower", o.alpha, COMPARE_UTEST_MIN_REPS);
    fprintf(md, "| Benchmark | Base | New | Change %% | p-value | Verdict | Rule |\n");
    fprintf(md, "| --- | ---: | ---: | ---: | ---: | --- | --- |\n");

    static double bv[MAX_REPS], nv[MAX_REPS];
    int counts[VERDICT_COUNT] = {0};
    int gate_fail = 0;
    for (int i = 0; i < rows.n; i++) {
        const cmp_row *r = &rows.v[i];
        int nb = (r->base->error) ? 0 : gb_cell_values(r->base, o.metric, bv, MAX_REPS);
        int nn = (r->nw->error) ? 0 : gb_cell_values(r->nw, o.metric, nv, MAX_REPS);
        /* aggregates-only files: the mean is the one value there is */
        if (nb == 0 && !r->base->error && gb_cell_mean(r->base, o.metric, &bv[0]))
            nb = 1;
        if (nn == 0 && !r->nw->error && gb_cell_mean(r->nw, o.metric, &nv[0]))
            nn = 1;
        compare_judgement j;
        compare_judge(bv, nb, nv, nn, o.higher_is_better, o.alpha, &j);
        counts[j.verdict]++;

        char sb[320] = "n/a", sn[320] = "n/a", ch[32] = "n/a", pv[32] = "—", rule[256];
        if (j.verdict != VERDICT_NONE) {
            unit u = pick_unit(o.metric, j.base_mean);
            fmt_side(sb, sizeof sb, j.base_mean, j.base_min, j.base_max, j.n_base, u);
            fmt_side(sn, sizeof sn, j.new_mean, j.new_min, j.new_max, j.n_new, u);
            if (isfinite(j.change_pct))
                snprintf(ch, sizeof ch, "%+.1f", j.change_pct);
            if (j.have_p && j.n_base >= 2 && j.n_new >= 2)
                snprintf(pv, sizeof pv, j.u.p < 0.0001 ? "<0.0001" : "%.4f", j.u.p);
        }
        fmt_rule(rule, sizeof rule, &j, o.alpha, r->base, r->nw);
        bool over = o.gate && j.verdict == VERDICT_SLOWER && j.worse_pct > o.fail_above;
        if (over)
            gate_fail++;
        fprintf(md, "| `%s` | %s | %s | %s | %s | %s%s%s | %s |\n", r->label, sb, sn, ch, pv,
                j.verdict == VERDICT_SLOWER || j.verdict == VERDICT_FASTER ? "**" : "",
                compare_verdict_name(j.verdict),
                j.verdict == VERDICT_SLOWER || j.verdict == VERDICT_FASTER ? "**" : "", rule);
    }
    fprintf(md, "\n%d benchmark%s in both: %d faster, %d slower, %d no significant change", rows.n,
            rows.n == 1 ? "" : "s",
            counts[VERDICT_FASTER], counts[VERDICT_SLOWER], counts[VERDICT_SAME]);
    if (counts[VERDICT_NONE])
        fprintf(md, ", %d not compared", counts[VERDICT_NONE]);
    fprintf(md, ".\n");
    if (only_base || only_new)
        fprintf(md, "Not compared: %d benchmark%s only in base, %d only in new.\n", only_base,
                only_base == 1 ? "" : "s", only_new);
    if (o.gate) {
        if (gate_fail) {
            fprintf(md, "\n**Gate failed**: %d benchmark%s significantly slower by more than %g%%.\n",
                    gate_fail, gate_fail == 1 ? " is" : "s are", o.fail_above);
            fprintf(stderr, "compare: gate failed: %d benchmark%s significantly slower by more than %g%%\n",
                    gate_fail, gate_fail == 1 ? " is" : "s are", o.fail_above);
            rc = 1;
        } else {
            fprintf(md, "\nGate passed: no benchmark significantly slower by more than %g%%.\n",
                    o.fail_above);
        }
    }
    fflush(md);
    (void)nf;

out:
    free(rows.v);
    gb_file_free(&fa);
    if (two)
        gb_file_free(&fb);
    return rc;
}
