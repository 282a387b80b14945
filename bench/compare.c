/*
 * compare.c: `itera-bench compare` (see compare.h): two result files, or two variants,
 * benchmark by benchmark: Hodges-Lehmann ratio with its interval, a rank test, p-values
 * adjusted over the benchmarks, the family's noise threshold, contention, the gate.
 */
#include "compare.h"
#include "argopt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ab.h"
#include "gbread.h"
#include "itera.h"
#include "machine.h"
#include "noise.h"
#include "results.h"
#include "schema.h"
#include "runner.h"

/* ---- the verdict rule ---- */

static const char *const verdict_names[VERDICT_COUNT] = {
    [VERDICT_NO_CHANGE] = "no_change",
    [VERDICT_FASTER] = "faster",
    [VERDICT_SLOWER] = "slower",
    [VERDICT_CONTENDED] = "contended",
};

const char *compare_verdict_name(compare_verdict v)
{
    return (v >= 0 && v < VERDICT_COUNT) ? verdict_names[v] : "?";
}

/* log(C(a+b, a)) */
static double log_choose(int a, int b)
{
    return lgamma(a + b + 1.0) - lgamma(a + 1.0) - lgamma(b + 1.0);
}

int compare_estimate_make(const double *base, int nb, const double *nw, int nn, bool paired,
                          bool higher_is_better, double conf, compare_estimate *e)
{
    memset(e, 0, sizeof *e);
    e->paired = paired;
    if (nb < 2 || nn < 2 || (paired && nb != nn))
        return -1;
    for (int i = 0; i < nb; i++)
        if (!(base[i] > 0) || !isfinite(base[i]))
            return -1;
    for (int i = 0; i < nn; i++)
        if (!(nw[i] > 0) || !isfinite(nw[i]))
            return -1;
    e->n_base = nb;
    e->n_new = nn;
    e->base_median = stats_median(base, nb);
    e->new_median = stats_median(nw, nn);
    double *lb = malloc((size_t)nb * sizeof *lb), *ln = malloc((size_t)nn * sizeof *ln);
    if (!lb || !ln) {
        free(lb);
        free(ln);
        return -1;
    }
    for (int i = 0; i < nb; i++)
        lb[i] = log(base[i]);
    for (int i = 0; i < nn; i++)
        ln[i] = log(nw[i]);
    hl_result h;
    int rc;
    if (paired) {
        for (int i = 0; i < nb; i++)
            ln[i] -= lb[i]; /* per-round log-ratio */
        wsr_result w;
        rc = hl_one_sample(ln, nb, conf, &h);
        if (rc == 0)
            rc = wsr_test(ln, nb, false, &w);
        e->p = w.p;
        e->exact = w.exact;
        e->p_min = ldexp(1.0, 1 - nb);
    } else {
        mwu_result u;
        rc = hl_two_sample(lb, nb, ln, nn, conf, &h);
        if (rc == 0)
            rc = mwu_test(lb, nb, ln, nn, MWU_AUTO, &u);
        e->p = u.p;
        e->exact = u.exact;
        e->p_min = 2.0 * exp(-log_choose(nb, nn));
    }
    free(lb);
    free(ln);
    if (rc != 0)
        return -1;
    if (e->p_min > 1)
        e->p_min = 1;
    /* h is ln(NEW) - ln(BASE) of the metric */
    e->ratio = exp(h.est);
    e->ratio_lo = exp(h.lo);
    e->ratio_hi = exp(h.hi);
    if (higher_is_better) {
        e->worse = -h.est;
        e->worse_lo = -h.hi;
        e->worse_hi = -h.lo;
    } else {
        e->worse = h.est;
        e->worse_lo = h.lo;
        e->worse_hi = h.hi;
    }
    return 0;
}

compare_verdict compare_decide(const compare_estimate *e, double p_adjusted, double alpha,
                               double noise, compare_reason *why)
{
    compare_reason r;
    compare_verdict v = VERDICT_NO_CHANGE;
    double band = log1p(noise > 0 ? noise : 0);
    if (e->p_min >= alpha) {
        r = REASON_TOO_FEW;
    } else if (!(p_adjusted < alpha)) {
        r = REASON_NOT_SIGNIFICANT;
    } else if (e->worse_lo > band) {
        v = VERDICT_SLOWER;
        r = REASON_CHANGED;
    } else if (e->worse_hi < -band) {
        v = VERDICT_FASTER;
        r = REASON_CHANGED;
    } else {
        r = REASON_WITHIN_NOISE;
    }
    if (why)
        *why = r;
    return v;
}

/* ---- options ---- */

void compare_opts_init(compare_opts *o)
{
    memset(o, 0, sizeof *o);
    o->metric = MET_REAL_TIME;
    o->alpha = COMPARE_DEFAULT_ALPHA;
    o->correction = STATS_CORR_BH;
    o->noise_pct = -1;
}

void compare_usage(FILE *fp)
{
    fprintf(fp,
        "usage: itera-bench compare [options] BASE.json NEW.json\n"
        "       itera-bench compare [options] --variants A,B FILE.json\n"
        "       itera-bench compare [options] --variants A,B   (measure them now: ab --variants)\n"
        "\n"
        "Is NEW faster or slower than BASE beyond noise? Per benchmark in both files: the\n"
        "medians, the ratio NEW/BASE with its %.0f%% interval (Hodges-Lehmann, distribution-\n"
        "free), a rank-test p-value adjusted over all benchmarks, and a verdict:\n"
        "  slower / faster   adjusted p < alpha and the whole interval beyond the family's\n"
        "                    noise threshold (measured by `itera-bench noise`)\n"
        "  no change         not significant, or the interval reaches into the noise band\n"
        "  contended         more than half the samples were measured on a busy machine\n"
        "Files from one `itera-bench ab` session are paired by round (Wilcoxon signed-rank on\n"
        "the per-round log-ratios); other files are unpaired (Mann-Whitney U) and labelled\n"
        "not interleaved: their difference includes whatever changed between the runs.\n"
        "Files from different machines (fingerprint) or models are refused unless --cross.\n"
        "\n"
        "options:\n"
        "  --variants A,B       compare variant A (base) with B (new): benchmarks whose names\n"
        "                       differ only in that kernel or quant part (the engine's kernels:\n"
        "                       %s; quants: %s; a peer's own names work too); with\n"
        "                       no file, measure them interleaved on this build (ab --variants)\n"
        "  --match OLD=NEW      base benchmarks with the name part OLD against new ones with\n"
        "                       NEW instead (e.g. threads:1=threads:2); repeatable, up to %d\n"
        "  --metric M           real_time (default), cpu_time or tokens_per_second\n"
        "  --alpha A            significance level after correction (default %.2f)\n"
        "  --correction C       bh (Benjamini-Hochberg FDR, default), holm, none\n"
        "  --noise FILE         noise thresholds from FILE (default: this machine's\n"
        "                       results/<machine>/<platform>/noise.json when present)\n"
        "  --noise-threshold P  one threshold of P %% for every family instead\n"
        "                       (without either: an assumed %.1f%%, labelled so)\n"
        "  --fail-above PCT     exit 1 when a benchmark is slower and its whole interval is\n"
        "                       more than PCT %% slower; 0 otherwise\n"
        "  --cross              judge across machines or models; every verdict is labelled\n"
        "                       cross-machine\n"
        "  --json FILE          write the comparison as JSON: per benchmark the medians, ratio\n"
        "                       and interval, p and adjusted p, noise threshold, verdict\n"
        "                       (faster|slower|no_change|contended); summary counts, geomean,\n"
        "                       the noise thresholds and both files' fingerprints\n"
        "  --out FILE           also write the markdown to FILE\n"
        "Exit: 0 compared (and the gate passed), 1 the gate failed, 2 bad usage or input.\n",
        COMPARE_CONFIDENCE * 100, itera_kernel_choices(), itera_quant_choices(), COMPARE_MAX_MATCH,
        COMPARE_DEFAULT_ALPHA, COMPARE_ASSUMED_NOISE_PCT);
}

/* A word a name part can be: [a-z0-9._-]+ (schema.h). */
static bool name_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

bench_status compare_parse_variants(const char *spec, bool engine_only, char *a, char *b,
                                    size_t cap, bench_error *e)
{
    const char *comma = spec ? strchr(spec, ',') : NULL;
    if (!comma || comma == spec || comma[1] == '\0' || strchr(comma + 1, ',') ||
        (size_t)(comma - spec) >= cap || strlen(comma + 1) >= cap)
        return bench_fail(e, BENCH_ERR_INPUT, "--variants '%s': expected two names A,B (e.g. "
                          "%s,%s)", spec ? spec : "", itera_kernel_name(ITERA_KERNEL_REFERENCE),
                          itera_kernel_name((itera_kernel)(ITERA_KERNEL_COUNT - 1)));
    snprintf(a, cap, "%.*s", (int)(comma - spec), spec);
    snprintf(b, cap, "%s", comma + 1);
    if (strcmp(a, b) == 0)
        return bench_fail(e, BENCH_ERR_INPUT, "--variants '%s': the two variants are the same",
                          spec);
    itera_kernel ka, kb;
    itera_quant qa, qb;
    bool a_kernel = itera_kernel_parse(a, &ka) && ka >= 0, b_kernel = itera_kernel_parse(b, &kb) && kb >= 0;
    bool a_quant = itera_quant_parse(a, &qa), b_quant = itera_quant_parse(b, &qb);
    for (int s = 0; s < 2; s++) {
        const char *v = s ? b : a;
        bool engine = s ? b_kernel || b_quant : a_kernel || a_quant;
        if (!name_word(v) || (engine_only && !engine))
            return bench_fail(e, BENCH_ERR_INPUT, "--variants '%s': '%s' is not %s (the engine's "
                              "kernels: %s; quants: %s)", spec, v,
                              engine_only ? "a kernel or a quant of this build"
                                          : "a name part ([a-z0-9._-]: a kernel, a quant, or a "
                                            "peer's own name)",
                              itera_kernel_choices(), itera_quant_choices());
    }
    if ((a_kernel && b_quant) || (a_quant && b_kernel))
        return bench_fail(e, BENCH_ERR_INPUT, "--variants '%s': one is a kernel and the other a "
                          "quant; compare two kernels (%s) or two quants (%s)", spec,
                          itera_kernel_choices(), itera_quant_choices());
    return BENCH_OK;
}

/* ---- rows: a benchmark on both sides ---- */

typedef struct cmp_row {
    char label[512];
    const gb_cell *base, *nw;
    int family;
    /* samples after dropping contended ones */
    double *b, *n;
    int nb, nn;
    int *round;              /* paired: the round of each pair */
    int total_b, total_n;    /* runs with the metric (paired: pairs) */
    int cont_b, cont_n;      /* contended runs (paired: contended pairs in cont_b) */
    double worst_other_cpu;  /* the busiest contended sample, for the message */
    bool failed;
    char why_failed[300];
    /* results */
    bool judged;
    compare_estimate est;
    double p_adj, noise;
    compare_verdict verdict;
    compare_reason reason;
    bool gate;
} cmp_row;

typedef struct row_list {
    cmp_row *v;
    int n, cap;
} row_list;

static cmp_row *rows_push(row_list *l)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 32;
        cmp_row *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return NULL;
        l->v = nv;
        l->cap = cap;
    }
    cmp_row *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static void rows_free(row_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].b);
        free(l->v[i].n);
        free(l->v[i].round);
    }
    free(l->v);
}

/* Applies the --match substitutions to the '/'-parts of name: into out (the new side's
 * name) and label (with OLD→NEW); false when no part matched any OLD. */
static bool apply_match(const compare_opts *o, const char *name, char *out, size_t cap,
                        char *label, size_t lcap)
{
    size_t uo = 0, ul = 0;
    bool any = false;
    out[0] = label[0] = '\0';
    for (const char *p = name;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        const char *to = NULL, *from = NULL;
        for (int k = 0; k < o->n_match; k++)
            if (strlen(o->match_from[k]) == n && strncmp(p, o->match_from[k], n) == 0) {
                from = o->match_from[k];
                to = o->match_to[k];
                break;
            }
        const char *sep = p == name ? "" : "/";
        if (to) {
            any = true;
            uo += (size_t)snprintf(out + uo, uo < cap ? cap - uo : 0, "%s%s", sep, to);
            ul += (size_t)snprintf(label + ul, ul < lcap ? lcap - ul : 0, "%s%s→%s", sep, from,
                                   to);
        } else {
            uo += (size_t)snprintf(out + uo, uo < cap ? cap - uo : 0, "%s%.*s", sep, (int)n, p);
            ul += (size_t)snprintf(label + ul, ul < lcap ? lcap - ul : 0, "%s%.*s", sep,
                                   (int)n, p);
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    return any && uo < cap && ul < lcap;
}

static bool entry_contended(const json_t *e, double *other)
{
    double c = 0, oc = 0;
    if (gb_entry_metric(e, MET_LOAD_OTHER_CPU, &oc) && other)
        *other = oc;
    return gb_entry_metric(e, MET_CONTENDED, &c) && c > 0.5;
}

static int entry_round(const json_t *e)
{
    json_t *r = json_object_get(e, ENT_REPETITION_INDEX);
    return json_is_integer(r) ? (int)json_integer_value(r) : -1;
}

/* Fills a row's samples from its two cells. */
static int gather(cmp_row *r, const char *metric, bool paired)
{
    const gb_cell *b = r->base, *n = r->nw;
    if (b->error || n->error) {
        r->failed = true;
        snprintf(r->why_failed, sizeof r->why_failed, "run failed in %s: %.250s",
                 b->error ? "base" : "new",
                 (b->error ? b->error_message : n->error_message)
                     ? (b->error ? b->error_message : n->error_message) : "(no message)");
        return 0;
    }
    int cap = (b->n_iter > n->n_iter ? b->n_iter : n->n_iter) + 1;
    r->b = malloc((size_t)cap * sizeof *r->b);
    r->n = malloc((size_t)cap * sizeof *r->n);
    r->round = malloc((size_t)cap * sizeof *r->round);
    if (!r->b || !r->n || !r->round)
        return -1;
    double v, w, oc;
    if (paired) {
        /* both sides' runs are in repetition_index order (gbread.h): join on the round */
        for (int i = 0, j = 0; i < b->n_iter && j < n->n_iter;) {
            int rb = entry_round(b->iter[i]), rn = entry_round(n->iter[j]);
            if (rb < rn) {
                i++;
                continue;
            }
            if (rn < rb) {
                j++;
                continue;
            }
            const json_t *eb = b->iter[i++], *en = n->iter[j++];
            if (rb < 0 || !gb_entry_metric(eb, metric, &v) || !gb_entry_metric(en, metric, &w))
                continue;
            r->total_b++;
            oc = 0;
            bool cb = entry_contended(eb, &oc);
            if (oc > r->worst_other_cpu && cb)
                r->worst_other_cpu = oc;
            oc = 0;
            bool cn = entry_contended(en, &oc);
            if (oc > r->worst_other_cpu && cn)
                r->worst_other_cpu = oc;
            if (cb || cn) {
                r->cont_b++;
                continue;
            }
            r->round[r->nb] = rb;
            r->b[r->nb++] = v;
            r->n[r->nn++] = w;
        }
        r->total_n = r->total_b;
        r->cont_n = r->cont_b;
    } else {
        for (int s = 0; s < 2; s++) {
            const gb_cell *c = s ? n : b;
            for (int i = 0; i < c->n_iter; i++) {
                if (!gb_entry_metric(c->iter[i], metric, &v))
                    continue;
                oc = 0;
                bool cont = entry_contended(c->iter[i], &oc);
                if (cont && oc > r->worst_other_cpu)
                    r->worst_other_cpu = oc;
                if (s) {
                    r->total_n++;
                    if (cont)
                        r->cont_n++;
                    else
                        r->n[r->nn++] = v;
                } else {
                    r->total_b++;
                    if (cont)
                        r->cont_b++;
                    else
                        r->b[r->nb++] = v;
                }
            }
        }
    }
    if (r->total_b == 0 || r->total_n == 0) {
        r->failed = true;
        snprintf(r->why_failed, sizeof r->why_failed, "no %s values%s", metric,
                 paired ? " in rounds both sides have" : "");
    }
    return 0;
}

/* Contended: fewer than half the samples (or than 2) are clean on a side. */
static bool too_contended(const cmp_row *r)
{
    if (r->cont_b == 0 && r->cont_n == 0)
        return false;
    return r->nb < 2 || r->nn < 2 || 2 * r->nb < r->total_b || 2 * r->nn < r->total_n;
}

/* ---- identity: machines, models, builds ---- */

typedef struct side_info {
    const gb_file *f;
    machine_info m;
    bool have_m;
    char missing_key[320];
} side_info;

static const struct {
    const char *what, *key;
} shown_keys[] = {
    {"platform", CTX_PLATFORM},  {"emulation", CTX_EMULATED},
    {"threads", CTX_THREADS},    {"profile", CTX_PROFILE},
    {"min time", CTX_MIN_TIME},  {"build", CTX_GIT},
    {"build", CTX_COMPILER},     {"build", CTX_ISA},
};

static void side_read(side_info *s, const gb_file *f)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    bench_error e;
    if (machine_from_context(f->context, &s->m, &e) == BENCH_OK)
        s->have_m = true;
    else
        snprintf(s->missing_key, sizeof s->missing_key, "%.300s", e.msg);
}

static const char *ctx_or(const gb_file *f, const char *key, char *buf, size_t n,
                          const char *dflt)
{
    const char *v = gb_ctx(f, key, buf, n);
    return v ? v : dflt;
}

/* Refuses different machines or models unless cross; *cross_label when judged anyway. */
static bench_status check_identity(const compare_opts *o, const side_info *a,
                                   const side_info *b, bool *cross_label, char *cross_why,
                                   size_t cw, bench_error *e)
{
    *cross_label = false;
    cross_why[0] = '\0';
    if (a->f == b->f)
        return BENCH_OK; /* --variants in one file */
    char why[900] = "";
    if (!a->have_m || !b->have_m) {
        const side_info *s = !a->have_m ? a : b;
        snprintf(why, sizeof why, "%s: %.300s, so nothing shows that both files come from "
                 "one machine", s->f->path, s->missing_key);
    } else if (!machine_same(&a->m, &b->m, why, sizeof why)) {
        char tmp[900];
        snprintf(tmp, sizeof tmp, "the files come from different machines: %.800s", why);
        snprintf(why, sizeof why, "%s", tmp);
    }
    char ma[512], mb[512];
    const char *va = ctx_or(a->f, CTX_MODEL, ma, sizeof ma, "(absent)");
    const char *vb = ctx_or(b->f, CTX_MODEL, mb, sizeof mb, "(absent)");
    if (strcmp(va, vb) != 0) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof why - used, "%sthe models differ: itera_model '%.150s' vs "
                 "'%.150s'", used ? "; " : "", va, vb);
    }
    if (!why[0])
        return BENCH_OK;
    if (!o->cross)
        return bench_fail(e, BENCH_ERR_INPUT, "refusing to judge %s against %s (compare one "
                          "machine's results, e.g. from itera-bench ab, or pass --cross to "
                          "compare anyway, every verdict labelled cross-machine): %s",
                          a->f->path, b->f->path, why);
    *cross_label = true;
    snprintf(cross_why, cw, "%s", why);
    return BENCH_OK;
}

/* ---- noise thresholds ---- */

static bench_status choose_noise(const compare_opts *o, const side_info *nside,
                                 noise_table *t, bench_error *e)
{
    if (o->noise_file)
        return noise_load(o->noise_file, t, e);
    if (o->noise_pct >= 0) {
        noise_table_given(t, o->noise_pct);
        return BENCH_OK;
    }
    noise_table_assumed(t);
    char plat[128], root[PATH_MAX], path[PATH_MAX];
    const char *p = gb_ctx(nside->f, CTX_PLATFORM, plat, sizeof plat);
    if (!nside->have_m || !p)
        return BENCH_OK;
    runner_root(root, sizeof root);
    noise_default_path(root, nside->m.name, p, path, sizeof path);
    noise_table loaded;
    bench_error le;
    FILE *f = fopen(path, "r");
    if (!f)
        return BENCH_OK;
    fclose(f);
    if (noise_load(path, &loaded, &le) != BENCH_OK) {
        fprintf(stderr, "compare: warning: %s (ignored; thresholds assumed)\n", le.msg);
        return BENCH_OK;
    }
    char why[512];
    if (loaded.have_machine && !machine_same(&loaded.m, &nside->m, why, sizeof why)) {
        fprintf(stderr, "compare: warning: %s was measured on another machine (%s); ignored\n",
                path, why);
        return BENCH_OK;
    }
    *t = loaded;
    return BENCH_OK;
}

/* ---- formatting ---- */

typedef struct unit {
    const char *name;
    double div;
} unit;

static unit pick_unit(const char *metric, double v)
{
    if (strcmp(metric, MET_TOKENS_PER_SECOND) == 0)
        return (unit){"tok/s", 1.0};
    if (v >= 1e9)
        return (unit){"s", 1e9};
    if (v >= 1e6)
        return (unit){"ms", 1e6};
    if (v >= 1e3)
        return (unit){"µs", 1e3};
    return (unit){"ns", 1.0};
}

static void fmt_val(char *buf, size_t cap, double v)
{
    double a = fabs(v);
    int dec = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    snprintf(buf, cap, "%.*f", dec, v);
}

/* "121.3 µs ±1.2%" (the median's distribution-free 95% interval), or without ± for n < 6 */
static void fmt_side(char *buf, size_t cap, const double *v, int n, double median, unit u)
{
    char m[64];
    fmt_val(m, sizeof m, median / u.div);
    double lo, hi;
    if (stats_median_ci(v, n, COMPARE_CONFIDENCE, &lo, &hi) == 0 && median > 0) {
        double pm = fmax(hi - median, median - lo) / median * 100;
        snprintf(buf, cap, "%s %s ±%.1f%%", m, u.name, pm);
    } else {
        snprintf(buf, cap, "%s %s", m, u.name);
    }
}

static void fmt_p(char *buf, size_t cap, double p)
{
    if (isnan(p))
        snprintf(buf, cap, "—");
    else if (p < 0.0001)
        snprintf(buf, cap, "<0.0001");
    else
        snprintf(buf, cap, "%.4f", p);
}

/* ---- geomean and its bootstrap interval ---- */

static double row_log_ratio(const cmp_row *r)
{
    return log(r->est.ratio);
}

/* One bootstrap estimate of a row's log ratio (NEW/BASE of the metric): paired, the
 * drawn rounds (counts[round]); unpaired, resampled sides. NAN when nothing was drawn. */
static double boot_row(const cmp_row *r, bool paired, const int *counts, int nrounds,
                       stats_rng *g, double *buf_a, double *buf_b)
{
    hl_result h;
    if (paired) {
        int k = 0;
        for (int i = 0; i < r->nb; i++) {
            int c = r->round[i] >= 0 && r->round[i] < nrounds ? counts[r->round[i]] : 0;
            for (int t = 0; t < c; t++)
                buf_a[k++] = log(r->n[i]) - log(r->b[i]);
        }
        if (k < 1 || hl_one_sample(buf_a, k, COMPARE_CONFIDENCE, &h) != 0)
            return NAN;
        return h.est;
    }
    for (int i = 0; i < r->nb; i++)
        buf_a[i] = log(r->b[stats_rng_below(g, r->nb)]);
    for (int i = 0; i < r->nn; i++)
        buf_b[i] = log(r->n[stats_rng_below(g, r->nn)]);
    if (hl_two_sample(buf_a, r->nb, buf_b, r->nn, COMPARE_CONFIDENCE, &h) != 0)
        return NAN;
    return h.est;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Work of one bootstrap estimate of a row (values its HL estimate ranks). */
static double row_cost(const cmp_row *r, bool paired)
{
    return paired ? 0.5 * r->nb * (r->nb + 1.0) : (double)r->nb * r->nn;
}

#define COMPARE_BOOT_WORK 3e7 /* values ranked over the whole bootstrap, at most */

/* Geometric mean of the judged rows' ratios and its 95% interval: a percentile bootstrap
 * (paired: rounds resampled together, keeping what the rows share), with as many
 * replicates (up to COMPARE_BOOTSTRAP, at least 200) as COMPARE_BOOT_WORK allows; beyond
 * that the normal approximation over the rows' own intervals, taken as independent.
 * method[n] says which. Returns the rows used. */
static int geomean(const row_list *rows, bool paired, double *gm, double *lo, double *hi,
                   char *method, size_t mn)
{
    *gm = *lo = *hi = NAN;
    snprintf(method, mn, "none");
    int used = 0, nrounds = 0, maxn = 0;
    double s = 0, cost = 0, var = 0;
    for (int i = 0; i < rows->n; i++) {
        const cmp_row *r = &rows->v[i];
        if (!r->judged)
            continue;
        s += row_log_ratio(r);
        double se = (log(r->est.ratio_hi) - log(r->est.ratio_lo)) / (2 * 1.959963984540054);
        var += se * se;
        cost += row_cost(r, paired);
        used++;
        for (int k = 0; k < r->nb; k++)
            if (r->round[k] + 1 > nrounds)
                nrounds = r->round[k] + 1;
        int m = r->nb > r->nn ? r->nb : r->nn;
        if (m > maxn)
            maxn = m;
    }
    if (!used)
        return 0;
    *gm = exp(s / used);
    int B = cost > 0 ? (int)fmin(COMPARE_BOOTSTRAP, COMPARE_BOOT_WORK / cost) : COMPARE_BOOTSTRAP;
    if (B < 200) {
        double half = 1.959963984540054 * sqrt(var) / used;
        *lo = exp(s / used - half);
        *hi = exp(s / used + half);
        snprintf(method, mn, "normal approximation from the benchmarks' intervals (too many "
                 "samples for a bootstrap)");
        return used;
    }
    int cap = (paired ? maxn * (nrounds > 0 ? nrounds : 1) : maxn) + 1;
    double *ba = malloc((size_t)cap * sizeof *ba), *bb = malloc((size_t)cap * sizeof *bb);
    double *reps = malloc((size_t)B * sizeof *reps);
    int *counts = calloc((size_t)(nrounds > 0 ? nrounds : 1), sizeof *counts);
    stats_rng g;
    stats_rng_seed(&g, 0x17e7ab0e5eedULL);
    int nrep = 0;
    if (ba && bb && reps && counts) {
        for (int b = 0; b < B; b++) {
            if (paired) {
                memset(counts, 0, (size_t)(nrounds > 0 ? nrounds : 1) * sizeof *counts);
                for (int k = 0; k < nrounds; k++)
                    counts[stats_rng_below(&g, nrounds)]++;
            }
            double sum = 0;
            int k = 0;
            for (int i = 0; i < rows->n; i++) {
                const cmp_row *r = &rows->v[i];
                if (!r->judged)
                    continue;
                double x = boot_row(r, paired, counts, nrounds, &g, ba, bb);
                if (!isnan(x)) {
                    sum += x;
                    k++;
                }
            }
            if (k)
                reps[nrep++] = sum / k;
        }
    }
    if (nrep > 1) {
        qsort(reps, (size_t)nrep, sizeof *reps, cmp_dbl);
        *lo = exp(stats_quantile(reps, nrep, 0.025));
        *hi = exp(stats_quantile(reps, nrep, 0.975));
        snprintf(method, mn, "percentile bootstrap, %d replicates%s", nrep,
                 paired ? ", rounds resampled together" : "");
    }
    free(ba);
    free(bb);
    free(reps);
    free(counts);
    return used;
}

/* ---- JSON ---- */

static json_t *fingerprint_json(const side_info *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(s->f->path));
    char buf[1024];
    static const char *const keys[] = {CTX_PLATFORM, CTX_THREADS, CTX_EMULATED,
                                       CTX_PROFILE, CTX_MODEL, CTX_GIT,
                                       CTX_COMPILER, CTX_ISA, "date"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = gb_ctx(s->f, keys[i], buf, sizeof buf);
        json_object_set_new(o, keys[i], v ? json_string(v) : json_null());
    }
    json_t *fp = json_object();
    if (s->have_m)
        machine_to_context(&s->m, fp);
    json_object_set_new(o, "fingerprint", s->have_m ? fp : (json_decref(fp), json_null()));
    return o;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static const char *reason_text(const cmp_row *r, char *buf, size_t n, double alpha)
{
    switch (r->reason) {
    case REASON_CHANGED:
        snprintf(buf, n, "p_adj %s %.2g < %.2g, interval beyond ±%.1f%%",
                 r->est.paired ? "(signed-rank)" : "(U test)", r->p_adj, alpha,
                 r->noise * 100);
        break;
    case REASON_NOT_SIGNIFICANT:
        snprintf(buf, n, "p_adj %.2g ≥ %.2g", r->p_adj, alpha);
        break;
    case REASON_WITHIN_NOISE:
        snprintf(buf, n, "interval within the ±%.1f%% noise threshold", r->noise * 100);
        break;
    case REASON_TOO_FEW:
        snprintf(buf, n, "n=%d/%d: p ≥ %.2g at best", r->est.n_base, r->est.n_new, r->est.p_min);
        break;
    case REASON_CONTENDED:
        if (r->worst_other_cpu > 0)
            snprintf(buf, n, "%d/%d base, %d/%d new samples on a busy machine (up to %.2f "
                     "cores used by others)", r->cont_b, r->total_b, r->cont_n, r->total_n,
                     r->worst_other_cpu);
        else
            snprintf(buf, n, "%d/%d base, %d/%d new samples on a busy machine", r->cont_b,
                     r->total_b, r->cont_n, r->total_n);
        break;
    default:
        snprintf(buf, n, "?");
    }
    return buf;
}

/* ---- compare_files ---- */

void compare_result_free(compare_result *r)
{
    if (!r)
        return;
    free(r->rows);
    memset(r, 0, sizeof *r);
}

static bool metric_ok(const char *m, bool *higher)
{
    if (strcmp(m, MET_REAL_TIME) == 0 || strcmp(m, MET_CPU_TIME) == 0) {
        *higher = false;
        return true;
    }
    if (strcmp(m, MET_TOKENS_PER_SECOND) == 0) {
        *higher = true;
        return true;
    }
    return false;
}

/* The same ab session on both sides: paired by round. */
static bool same_session(const gb_file *a, const gb_file *b, char *id, size_t n)
{
    char sa[256], sb[256];
    const char *va = gb_ctx(a, CTX_AB_SESSION, sa, sizeof sa);
    const char *vb = gb_ctx(b, CTX_AB_SESSION, sb, sizeof sb);
    if (!va || !vb || !*va || strcmp(va, vb) != 0)
        return false;
    snprintf(id, n, "%s", va);
    return true;
}

static bench_status build_rows(const compare_opts *o, const gb_file *fa, const gb_file *fb,
                               row_list *rows, int *only_base, int *only_new, bench_error *e)
{
    *only_base = *only_new = 0;
    bool one_file = fa == fb && o->n_match > 0; /* variants inside one file */
    for (int i = 0; i < fa->n_cells; i++) {
        const gb_cell *c = &fa->cells[i];
        char other[512], label[512];
        const gb_cell *m;
        if (o->n_match) {
            if (!apply_match(o, c->canon, other, sizeof other, label, sizeof label))
                continue;
            m = gb_file_cell_canon(fb, other);
        } else {
            snprintf(label, sizeof label, "%s", c->canon);
            m = gb_file_cell_canon(fb, c->canon);
        }
        if (!m) {
            if (!one_file)
                (*only_base)++;
            continue;
        }
        cmp_row *r = rows_push(rows);
        if (!r)
            return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
        snprintf(r->label, sizeof r->label, "%s", label);
        r->base = c;
        r->nw = m;
        r->family = c->nm.family;
    }
    if (!one_file && !o->n_match)
        for (int i = 0; i < fb->n_cells; i++)
            if (!gb_file_cell_canon(fa, fb->cells[i].canon))
                (*only_new)++;
    if (rows->n == 0) {
        if (one_file)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: no pair of benchmarks whose names differ "
                              "only in '%s' -> '%s' (the engine's kernels: %s; quants: %s)",
                              fa->path, o->match_from[0], o->match_to[0], itera_kernel_choices(),
                              itera_quant_choices());
        if (o->n_match)
            return bench_fail(e, BENCH_ERR_INPUT, "no benchmark of %s with the part '%s' has a "
                              "counterpart with '%s' in %s", fa->path, o->match_from[0],
                              o->match_to[0], fb->path);
        return bench_fail(e, BENCH_ERR_INPUT, "no benchmark is in both %s and %s: nothing to "
                          "compare", fa->path, fb->path);
    }
    return BENCH_OK;
}

bench_status compare_files(const compare_opts *o, compare_result *res, bench_error *e)
{
    if (res)
        memset(res, 0, sizeof *res);
    bool higher;
    if (!metric_ok(o->metric, &higher))
        return bench_fail(e, BENCH_ERR_INPUT, "--metric '%s': expected %s, %s or %s", o->metric,
                          MET_REAL_TIME, MET_CPU_TIME, MET_TOKENS_PER_SECOND);
    gb_file fa, fb;
    memset(&fa, 0, sizeof fa);
    memset(&fb, 0, sizeof fb);
    bench_status lst = o->base_json ? gb_file_from_json(o->base_path, json_incref(o->base_json),
                                                        &fa, e)
                                    : gb_file_load(o->base_path, &fa, e);
    if (lst != BENCH_OK)
        return lst;
    bool same_path = strcmp(o->base_path, o->new_path) == 0;
    bool one_file = same_path && o->n_match > 0; /* two variants inside one file */
    if (!same_path &&
        (lst = o->new_json ? gb_file_from_json(o->new_path, json_incref(o->new_json), &fb, e)
                           : gb_file_load(o->new_path, &fb, e)) != BENCH_OK) {
        gb_file_free(&fa);
        return lst;
    }
    const gb_file *pa = &fa, *pb = same_path ? &fa : &fb;
    side_info sa, sb;
    side_read(&sa, pa);
    side_read(&sb, pb);
    sb.f = pb;
    row_list rows = {0};
    FILE *mdf = NULL;
    json_t *jrows = NULL;
    bench_status st;
    bool cross = false;
    char cross_why[1024];
    st = check_identity(o, &sa, &sb, &cross, cross_why, sizeof cross_why, e);
    if (st != BENCH_OK)
        goto out;
    int only_base, only_new;
    st = build_rows(o, pa, pb, &rows, &only_base, &only_new, e);
    if (st != BENCH_OK)
        goto out;
    char session[256] = "";
    bool paired = !one_file && same_session(pa, pb, session, sizeof session);
    noise_table nt;
    st = choose_noise(o, &sb, &nt, e);
    if (st != BENCH_OK)
        goto out;

    /* samples, estimates */
    int n_judged = 0;
    for (int i = 0; i < rows.n; i++) {
        cmp_row *r = &rows.v[i];
        if (gather(r, o->metric, paired) != 0) {
            st = bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (r->failed)
            continue;
        r->noise = noise_threshold(&nt, r->family);
        if (too_contended(r)) {
            r->verdict = VERDICT_CONTENDED;
            r->reason = REASON_CONTENDED;
            continue;
        }
        if (compare_estimate_make(r->b, r->nb, r->n, r->nn, paired, higher, COMPARE_CONFIDENCE,
                                  &r->est) != 0) {
            r->failed = true;
            snprintf(r->why_failed, sizeof r->why_failed, "%s",
                     r->nb < 2 || r->nn < 2 ? "fewer than 2 samples on a side"
                                            : "a value that is not positive and finite");
            continue;
        }
        r->judged = true;
        n_judged++;
    }
    double *pv = malloc((size_t)(rows.n ? rows.n : 1) * sizeof *pv);
    double *qv = malloc((size_t)(rows.n ? rows.n : 1) * sizeof *qv);
    if (!pv || !qv) {
        free(pv);
        free(qv);
        st = bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows.n; i++)
        pv[i] = rows.v[i].judged ? rows.v[i].est.p : NAN;
    stats_adjust(pv, rows.n, o->correction, qv);
    int counts[VERDICT_COUNT] = {0}, not_compared = 0, gate_fail = 0;
    for (int i = 0; i < rows.n; i++) {
        cmp_row *r = &rows.v[i];
        if (r->failed) {
            not_compared++;
            continue;
        }
        if (r->judged) {
            r->p_adj = qv[i];
            r->verdict = compare_decide(&r->est, r->p_adj, o->alpha, r->noise, &r->reason);
            if (o->fail_above_set && r->verdict == VERDICT_SLOWER &&
                r->est.worse_lo > log1p(o->fail_above_pct / 100.0)) {
                r->gate = true;
                gate_fail++;
            }
        }
        counts[r->verdict]++;
    }
    free(pv);
    free(qv);
    double gm, glo, ghi;
    char gm_method[160];
    int gm_n = geomean(&rows, paired, &gm, &glo, &ghi, gm_method, sizeof gm_method);

    /* ---- markdown ---- */
    FILE *md = o->md ? o->md : stdout;
    if (o->md_path) {
        mdf = tmpfile();
        if (!mdf) {
            st = bench_fail(e, BENCH_ERR_IO, "cannot make a temporary file: %s", strerror(errno));
            goto out;
        }
    }
    for (int pass = 0; pass < (mdf ? 2 : 1); pass++) {
        FILE *f = pass ? mdf : md;
        char buf[2048], b2[2048];
        if (one_file)
            fprintf(f, "## Compare: `%s` (base) → `%s` (new) in `%s`\n\n", o->match_from[0],
                    o->match_to[0], pa->path);
        else
            fprintf(f, "## Compare: `%s` (base) → `%s` (new)\n\n", pa->path, pb->path);
        if (paired)
            fprintf(f, "Interleaved A/B (session `%s`): base and new ran in alternating fresh "
                    "processes, in random order, cell by cell and round by round; each sample "
                    "is one round, and rounds pair base with new (Wilcoxon signed-rank test and "
                    "Hodges–Lehmann interval on the per-round log-ratios).\n\n", session);
        else
            fprintf(f, "**Not interleaved**: %s measured %s, so whatever changed in between "
                    "(load, temperature, other processes) is inside the difference; unpaired "
                    "Mann–Whitney U test and Hodges–Lehmann interval on the log values. For a "
                    "claim you can trust, measure both sides interleaved: `itera-bench ab`%s.\n\n",
                    one_file ? "the two variants were" : "these files were",
                    one_file ? "one after the other" : "at different times",
                    one_file ? " --variants" : "");
        if (cross)
            fprintf(f, "> **Cross-machine** (--cross): %s. Every verdict below is across "
                    "machines or models and says little about the change itself.\n\n",
                    cross_why);
        else if (!one_file && sa.have_m)
            fprintf(f, "Machine: `%s` (the same fingerprint on both sides).\n", sa.m.name);
        if (!one_file) {
            int nd = 0;
            for (size_t k = 0; k < sizeof shown_keys / sizeof shown_keys[0]; k++) {
                const char *va = gb_ctx(pa, shown_keys[k].key, buf, sizeof buf);
                const char *vb = gb_ctx(pb, shown_keys[k].key, b2, sizeof b2);
                if ((!va && !vb) || (va && vb && strcmp(va, vb) == 0))
                    continue;
                fprintf(f, "%s`%s` `%s` → `%s`", nd++ ? "; " : "Differences (shown, not refused): ",
                        shown_keys[k].key, va ? va : "(absent)", vb ? vb : "(absent)");
                if (pass == 0 && !o->quiet_warnings && strcmp(shown_keys[k].what, "build") != 0)
                    fprintf(stderr, "compare: warning: the files differ in %s: %s is '%s' in %s "
                            "but '%s' in %s\n", shown_keys[k].what, shown_keys[k].key,
                            va ? va : "(absent)", pa->path, vb ? vb : "(absent)", pb->path);
            }
            if (nd)
                fprintf(f, ".\n");
        }
        noise_describe(&nt, buf, sizeof buf);
        fprintf(f, "Metric `%s` (%s is better). Noise threshold %s:", o->metric,
                higher ? "higher" : "lower", buf);
        for (int fam = 0; fam < BENCH_FAMILY_COUNT; fam++)
            fprintf(f, " %s ±%.1f%%%s", bench_family_name((bench_family)fam),
                    noise_threshold(&nt, fam) * 100, fam + 1 < BENCH_FAMILY_COUNT ? "," : ".");
        fprintf(f, " Significance: α = %.2f after %s over %d benchmark%s; intervals %.0f%%.\n\n",
                o->alpha, stats_correction_describe(o->correction), n_judged,
                n_judged == 1 ? "" : "s", COMPARE_CONFIDENCE * 100);
        fprintf(f, "| Benchmark | Base | New | Ratio [95%% CI] | p (adjusted) | n | Verdict | Why |\n");
        fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
        for (int i = 0; i < rows.n; i++) {
            cmp_row *r = &rows.v[i];
            char sb_[160] = "—", sn_[160] = "—", ratio[160] = "—", pp[96] = "—", nn[64] = "—",
                 why[400];
            if (r->failed) {
                fprintf(f, "| `%s` | — | — | — | — | — | not compared | %s |\n", r->label,
                        r->why_failed);
                continue;
            }
            if (r->judged) {
                unit u = pick_unit(o->metric, r->est.base_median);
                fmt_side(sb_, sizeof sb_, r->b, r->nb, r->est.base_median, u);
                fmt_side(sn_, sizeof sn_, r->n, r->nn, r->est.new_median, u);
                snprintf(ratio, sizeof ratio, "%.3f [%.3f, %.3f]", r->est.ratio, r->est.ratio_lo,
                         r->est.ratio_hi);
                char p1[32], p2[32];
                fmt_p(p1, sizeof p1, r->est.p);
                fmt_p(p2, sizeof p2, r->p_adj);
                snprintf(pp, sizeof pp, "%s (%s)", p1, p2);
                if (paired)
                    snprintf(nn, sizeof nn, "%d pairs", r->nb);
                else
                    snprintf(nn, sizeof nn, "%d / %d", r->nb, r->nn);
            } else {
                snprintf(nn, sizeof nn, "%d / %d", r->total_b, r->total_n);
            }
            reason_text(r, why, sizeof why, o->alpha);
            char verdict[128];
            if (r->verdict == VERDICT_SLOWER || r->verdict == VERDICT_FASTER)
                snprintf(verdict, sizeof verdict, "**%s** %+.1f%%%s%s",
                         compare_verdict_name(r->verdict), (r->est.ratio - 1) * 100,
                         r->gate ? " (gate)" : "", cross ? " (cross-machine)" : "");
            else if (r->verdict == VERDICT_NO_CHANGE)
                snprintf(verdict, sizeof verdict, "~ no change%s", cross ? " (cross-machine)" : "");
            else
                snprintf(verdict, sizeof verdict, "contended");
            fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", r->label, sb_, sn_, ratio,
                    pp, nn, verdict, why);
        }
        fprintf(f, "\n**Summary**: %d benchmark%s in both%s: %d slower, %d faster, %d no "
                "change, %d contended", rows.n - not_compared, rows.n - not_compared == 1 ? "" : "s",
                cross ? " (cross-machine)" : "", counts[VERDICT_SLOWER], counts[VERDICT_FASTER],
                counts[VERDICT_NO_CHANGE], counts[VERDICT_CONTENDED]);
        if (not_compared)
            fprintf(f, ", %d not compared (failed)", not_compared);
        if (gm_n) {
            if (isfinite(glo))
                fprintf(f, "; geomean ratio %.3f [%.3f, %.3f] over %d", gm, glo, ghi, gm_n);
            else
                fprintf(f, "; geomean ratio %.3f over %d", gm, gm_n);
        }
        fprintf(f, ".\n");
        if (only_base || only_new)
            fprintf(f, "Not compared: %d benchmark%s only in base, %d only in new.\n", only_base,
                    only_base == 1 ? "" : "s", only_new);
        if (o->fail_above_set) {
            if (gate_fail)
                fprintf(f, "\n**Gate failed**: %d benchmark%s slower with the whole interval "
                        "beyond +%g%%.\n", gate_fail, gate_fail == 1 ? " is" : "s are",
                        o->fail_above_pct);
            else
                fprintf(f, "\nGate passed: no benchmark is slower with its whole interval beyond "
                        "+%g%%.\n", o->fail_above_pct);
        }
        fflush(f);
    }
    if (mdf) {
        rewind(mdf);
        itera_file *out = NULL;
        itera_error ie;
        if ((st = results_make_parent(o->md_path, e)) != BENCH_OK)
            goto out;
        if (itera_file_create(o->md_path, &out, &ie) != ITERA_OK) {
            st = bench_fail(e, BENCH_ERR_IO, "%s", ie.msg);
            goto out;
        }
        char chunk[8192];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, mdf)) > 0)
            itera_file_write(out, chunk, got);
        if (itera_file_commit(out, &ie) != ITERA_OK) {
            st = bench_fail(e, BENCH_ERR_IO, "%s", ie.msg);
            goto out;
        }
    }

    /* ---- JSON ---- */
    if (o->json_path) {
        json_t *root = json_object();
        json_object_set_new(root, "itera_compare", json_integer(1));
        json_object_set_new(root, "base", fingerprint_json(&sa));
        json_object_set_new(root, "new", fingerprint_json(&sb));
        json_object_set_new(root, "pairing", json_string(paired ? "paired by round" : "unpaired"));
        json_object_set_new(root, "ab_session", paired ? json_string(session) : json_null());
        json_object_set_new(root, "cross_machine", json_boolean(cross));
        if (cross)
            json_object_set_new(root, "cross_machine_why", json_string(cross_why));
        json_object_set_new(root, "metric", json_string(o->metric));
        json_object_set_new(root, "higher_is_better", json_boolean(higher));
        json_object_set_new(root, "alpha", json_real(o->alpha));
        json_object_set_new(root, "confidence", json_real(COMPARE_CONFIDENCE));
        json_object_set_new(root, "correction", json_string(stats_correction_name(o->correction)));
        char nd[1024];
        json_t *nj = json_object();
        json_object_set_new(nj, "source", json_string(nt.source == NOISE_MEASURED ? "measured"
                                                      : nt.source == NOISE_GIVEN ? "given"
                                                                                 : "assumed"));
        json_object_set_new(nj, "description", json_string(noise_describe(&nt, nd, sizeof nd)));
        json_object_set_new(nj, "file", nt.file[0] ? json_string(nt.file) : json_null());
        json_t *fams = json_object();
        for (int fam = 0; fam < BENCH_FAMILY_COUNT; fam++)
            json_object_set_new(fams, bench_family_name((bench_family)fam),
                                json_real(noise_threshold(&nt, fam) * 100));
        json_object_set_new(nj, "threshold_pct", fams);
        json_object_set_new(root, "noise_threshold", nj);
        jrows = json_array();
        json_t *failed = json_array();
        for (int i = 0; i < rows.n; i++) {
            cmp_row *r = &rows.v[i];
            if (r->failed) {
                json_array_append_new(failed, json_pack("{s:s, s:s}", "name", r->label,
                                                        "reason", r->why_failed));
                continue;
            }
            char why[400];
            json_t *j = json_object();
            json_object_set_new(j, "name", json_string(r->label));
            json_object_set_new(j, "base_name", json_string(r->base->canon));
            json_object_set_new(j, "new_name", json_string(r->nw->canon));
            json_object_set_new(j, "family", json_string(bench_family_name((bench_family)r->family)));
            json_object_set_new(j, "unit", json_string(higher ? "tokens/s" : "ns"));
            json_object_set_new(j, "base_median", num_or_null(r->judged ? r->est.base_median
                                                                        : NAN));
            json_object_set_new(j, "new_median", num_or_null(r->judged ? r->est.new_median : NAN));
            json_object_set_new(j, "n_base", json_integer(r->nb));
            json_object_set_new(j, "n_new", json_integer(r->nn));
            json_object_set_new(j, "contended_base", json_integer(r->cont_b));
            json_object_set_new(j, "contended_new", json_integer(r->cont_n));
            json_object_set_new(j, "ratio", num_or_null(r->judged ? r->est.ratio : NAN));
            json_object_set_new(j, "ratio_ci", json_pack("[o,o]",
                                num_or_null(r->judged ? r->est.ratio_lo : NAN),
                                num_or_null(r->judged ? r->est.ratio_hi : NAN)));
            json_object_set_new(j, "change_pct", num_or_null(r->judged ? (r->est.ratio - 1) * 100
                                                                       : NAN));
            json_object_set_new(j, "p", num_or_null(r->judged ? r->est.p : NAN));
            json_object_set_new(j, "p_adjusted", num_or_null(r->judged ? r->p_adj : NAN));
            json_object_set_new(j, "noise_threshold_pct", json_real(r->noise * 100));
            json_object_set_new(j, "verdict", json_string(compare_verdict_name(r->verdict)));
            json_object_set_new(j, "reason", json_string(reason_text(r, why, sizeof why,
                                                                     o->alpha)));
            json_object_set_new(j, "cross_machine", json_boolean(cross));
            if (o->fail_above_set)
                json_object_set_new(j, "gate_failed", json_boolean(r->gate));
            json_array_append_new(jrows, j);
        }
        json_object_set_new(root, "benchmarks", jrows);
        jrows = NULL;
        json_object_set_new(root, "not_compared", failed);
        json_t *sum = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "benchmarks",
                                rows.n - not_compared, "faster", counts[VERDICT_FASTER],
                                "slower", counts[VERDICT_SLOWER], "no_change",
                                counts[VERDICT_NO_CHANGE], "contended",
                                counts[VERDICT_CONTENDED], "not_compared", not_compared,
                                "only_in_base", only_base, "only_in_new", only_new);
        json_object_set_new(sum, "geomean_ratio", num_or_null(gm));
        json_object_set_new(sum, "geomean_ci", json_pack("[o,o]", num_or_null(glo),
                                                         num_or_null(ghi)));
        json_object_set_new(sum, "geomean_method", json_string(gm_method));
        json_object_set_new(root, "summary", sum);
        if (o->fail_above_set)
            json_object_set_new(root, "gate", json_pack("{s:f, s:b, s:i}", "fail_above_pct",
                                                        o->fail_above_pct, "passed",
                                                        gate_fail == 0, "failed", gate_fail));
        st = results_write_atomic(o->json_path, root, e);
        json_decref(root);
        if (st != BENCH_OK)
            goto out;
    }

    if (res) {
        res->rows = calloc((size_t)(rows.n ? rows.n : 1), sizeof *res->rows);
        if (res->rows) {
            for (int i = 0; i < rows.n; i++) {
                compare_row_result *x = &res->rows[res->n_rows++];
                snprintf(x->name, sizeof x->name, "%s", rows.v[i].label);
                snprintf(x->base_name, sizeof x->base_name, "%s",
                         rows.v[i].base ? rows.v[i].base->canon : rows.v[i].label);
                x->family = rows.v[i].family;
                x->noise = rows.v[i].noise;
                x->judged = rows.v[i].judged;
                x->est = rows.v[i].est;
                x->verdict = rows.v[i].verdict;
            }
        }
        memcpy(res->counts, counts, sizeof counts);
        res->not_compared = not_compared;
        res->gate_failed = gate_fail > 0;
    }
    if (gate_fail)
        st = bench_fail(e, BENCH_ERR_FAILED, "gate failed: %d benchmark%s slower with the whole "
                        "interval beyond +%g%%", gate_fail, gate_fail == 1 ? " is" : "s are",
                        o->fail_above_pct);

out:
    if (mdf)
        fclose(mdf);
    json_decref(jrows);
    rows_free(&rows);
    gb_file_free(&fa);
    if (!same_path)
        gb_file_free(&fb);
    return st;
}

/* ---- the command ---- */

bench_status compare_cmd(int argc, char **argv, bench_error *e)
{
    compare_opts o;
    compare_opts_init(&o);
    const char *files[2] = {NULL, NULL};
    int nfiles = 0;
    const char *variants = NULL, *measuring = NULL;
    char va[64], vb[64];
    char mbuf[COMPARE_MAX_MATCH][256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            compare_usage(stdout);
            return BENCH_OK;
        } else if (strcmp(a, "--cross") == 0) {
            o.cross = true;
        } else if (argopt_value(argc, argv, &i, "--variants", &v)) {
            if (!v)
                return bench_fail(e, BENCH_ERR_INPUT, "--variants needs A,B");
            variants = v;
        } else if (argopt_value(argc, argv, &i, "--match", &v)) {
            const char *eq = v ? strchr(v, '=') : NULL;
            if (!eq || eq == v || !eq[1] || strchr(eq + 1, '=') || strchr(v, '/') ||
                strlen(v) >= sizeof mbuf[0])
                return bench_fail(e, BENCH_ERR_INPUT, "--match '%s': expected OLD=NEW, one name "
                                  "part each (e.g. threads:1=threads:2)", v ? v : "");
            if (o.n_match == COMPARE_MAX_MATCH)
                return bench_fail(e, BENCH_ERR_INPUT, "--match: at most %d", COMPARE_MAX_MATCH);
            snprintf(mbuf[o.n_match], sizeof mbuf[0], "%s", v);
            mbuf[o.n_match][eq - v] = '\0';
            o.match_from[o.n_match] = mbuf[o.n_match];
            o.match_to[o.n_match] = mbuf[o.n_match] + (eq - v) + 1;
            o.n_match++;
        } else if (argopt_value(argc, argv, &i, "--metric", &v)) {
            if (!v)
                return bench_fail(e, BENCH_ERR_INPUT, "--metric needs a value");
            o.metric = v;
        } else if (argopt_value(argc, argv, &i, "--alpha", &v)) {
            if (!argopt_double(v, &o.alpha) || !(o.alpha > 0 && o.alpha < 1))
                return bench_fail(e, BENCH_ERR_INPUT, "--alpha '%s': expected a number between "
                                  "0 and 1", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--correction", &v)) {
            if (!v || !stats_correction_parse(v, &o.correction))
                return bench_fail(e, BENCH_ERR_INPUT, "--correction '%s': expected bh, holm or "
                                  "none", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--noise-threshold", &v)) {
            if (!argopt_double(v, &o.noise_pct) || o.noise_pct < 0 || o.noise_pct > 100)
                return bench_fail(e, BENCH_ERR_INPUT, "--noise-threshold '%s': expected a "
                                  "percentage from 0 to 100", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--noise", &v)) {
            if (!v || !*v)
                return bench_fail(e, BENCH_ERR_INPUT, "--noise needs a file");
            o.noise_file = v;
        } else if (argopt_value(argc, argv, &i, "--fail-above", &v)) {
            if (!argopt_double(v, &o.fail_above_pct) || o.fail_above_pct < 0)
                return bench_fail(e, BENCH_ERR_INPUT, "--fail-above '%s': expected a "
                                  "non-negative percentage", v ? v : "");
            o.fail_above_set = true;
        } else if (argopt_value(argc, argv, &i, "--json", &v)) {
            if (!v || !*v)
                return bench_fail(e, BENCH_ERR_INPUT, "--json needs a file");
            o.json_path = v;
        } else if (argopt_value(argc, argv, &i, "--out", &v)) {
            if (!v || !*v)
                return bench_fail(e, BENCH_ERR_INPUT, "--out needs a file");
            o.md_path = v;
        } else if (strcmp(a, "--emulate") == 0 || argopt_value(argc, argv, &i, "--platform", &v) ||
                   argopt_value(argc, argv, &i, "--profile", &v) ||
                   argopt_value(argc, argv, &i, "--rounds", &v) ||
                   argopt_value(argc, argv, &i, "--extra-rounds", &v) ||
                   argopt_value(argc, argv, &i, "--set", &v) || argopt_value(argc, argv, &i, "--seed", &v) ||
                   argopt_value(argc, argv, &i, "--filter", &v) ||
                   argopt_value(argc, argv, &i, "--timeout", &v) ||
                   argopt_value(argc, argv, &i, "--contention", &v) ||
                   argopt_value(argc, argv, &i, "--model", &v) ||
                   argopt_value(argc, argv, &i, "--machine", &v)) {
            measuring = a; /* ab's: for --variants A,B without a file */
        } else if (a[0] == '-' && a[1]) {
            return bench_fail(e, BENCH_ERR_INPUT, "unknown option '%s' (see itera-bench compare "
                              "--help)", a);
        } else {
            if (nfiles == 2)
                return bench_fail(e, BENCH_ERR_INPUT, "too many files ('%s'); expected BASE.json "
                                  "NEW.json", a);
            files[nfiles++] = a;
        }
    }
    if (o.noise_file && o.noise_pct >= 0)
        return bench_fail(e, BENCH_ERR_INPUT, "--noise and --noise-threshold: give one");
    bool higher;
    if (!metric_ok(o.metric, &higher))
        return bench_fail(e, BENCH_ERR_INPUT, "--metric '%s': expected %s, %s or %s", o.metric,
                          MET_REAL_TIME, MET_CPU_TIME, MET_TOKENS_PER_SECOND);
    if (variants) {
        if (o.n_match)
            return bench_fail(e, BENCH_ERR_INPUT, "--variants and --match: give one");
        /* measuring (no file) needs this build's names; files may hold a peer's */
        bench_status st = compare_parse_variants(variants, nfiles == 0, va, vb, sizeof va, e);
        if (st != BENCH_OK)
            return st;
        o.match_from[0] = va;
        o.match_to[0] = vb;
        o.n_match = 1;
        o.variants = true;
        if (nfiles == 0)
            return ab_cmd_variants(argc, argv, e); /* measure them now, interleaved */
        if (nfiles == 1)
            files[1] = files[0];
    } else if (nfiles != 2) {
        return bench_fail(e, BENCH_ERR_INPUT, "expected BASE.json NEW.json (got %d file%s); see "
                          "--help", nfiles, nfiles == 1 ? "" : "s");
    }
    if (measuring)
        return bench_fail(e, BENCH_ERR_INPUT, "%s measures (compare --variants A,B without a "
                          "file, or itera-bench ab); comparing files it has no meaning",
                          measuring);
    o.base_path = files[0];
    o.new_path = files[1];
    return compare_files(&o, NULL, e);
}
