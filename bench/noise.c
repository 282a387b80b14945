/*
 * noise.c: per-family noise thresholds: measured from an A/A comparison, stored in a
 * noise file, read back by compare and ab (see noise.h).
 */
#include "noise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "results.h"
#include "schema.h"

static void table_clear(noise_table *t)
{
    memset(t, 0, sizeof *t);
}

void noise_table_assumed(noise_table *t)
{
    table_clear(t);
    t->source = NOISE_ASSUMED;
    t->fallback_pct = COMPARE_ASSUMED_NOISE_PCT;
}

void noise_table_given(noise_table *t, double pct)
{
    table_clear(t);
    t->source = NOISE_GIVEN;
    t->fallback_pct = pct;
}

double noise_threshold(const noise_table *t, int family)
{
    if (family >= 0 && family < BENCH_FAMILY_COUNT && t->fam[family].have)
        return t->fam[family].threshold_pct / 100.0;
    return t->fallback_pct / 100.0;
}

const char *noise_describe(const noise_table *t, char *buf, size_t n)
{
    switch (t->source) {
    case NOISE_MEASURED:
        snprintf(buf, n, "measured (%s: A/A of profile %s, %d rounds, %s; families it lacks "
                 "%.1f%%)", t->file, t->profile, t->rounds, t->date, t->fallback_pct);
        break;
    case NOISE_GIVEN:
        snprintf(buf, n, "given (--noise-threshold %g)", t->fallback_pct);
        break;
    default:
        snprintf(buf, n, "assumed (%.1f%%: no noise file for this machine and platform; "
                 "measure one with `itera-bench noise`)", t->fallback_pct);
        break;
    }
    return buf;
}

void noise_default_path(const char *root, const char *machine, const char *platform,
                        char *out, size_t n)
{
    snprintf(out, n, "%s/results/%s/%s/noise.json", root && *root ? root : ".", machine,
             platform);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void noise_from_aa(const compare_result *aa, noise_table *t)
{
    double *v = malloc((size_t)(aa->n_rows ? aa->n_rows : 1) * sizeof *v);
    if (!v)
        return;
    double all_max = 0;
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++) {
        int k = 0;
        for (int i = 0; i < aa->n_rows; i++)
            if (aa->rows[i].judged && aa->rows[i].family == f)
                v[k++] = fabs(log(aa->rows[i].est.ratio));
        noise_family *nf = &t->fam[f];
        memset(nf, 0, sizeof *nf);
        if (!k)
            continue;
        qsort(v, (size_t)k, sizeof *v, cmp_dbl);
        double q95 = stats_quantile(v, k, 0.95);
        nf->have = true;
        nf->benchmarks = k;
        nf->q95_abs_pct = expm1(q95) * 100;
        nf->max_abs_pct = expm1(v[k - 1]) * 100;
        nf->median_abs_pct = expm1(stats_median(v, k)) * 100;
        nf->threshold_pct = fmax(NOISE_FLOOR_PCT, nf->q95_abs_pct);
        if (nf->threshold_pct > all_max)
            all_max = nf->threshold_pct;
    }
    free(v);
    /* A family the A/A did not run: the largest measured threshold, else the assumption. */
    t->fallback_pct = all_max > 0 ? all_max : COMPARE_ASSUMED_NOISE_PCT;
    t->source = NOISE_MEASURED;
}

static const char *obj_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

bench_status noise_load(const char *path, noise_table *t, bench_error *e)
{
    table_clear(t);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return bench_fail(e, BENCH_ERR_INPUT, "%s: not a noise file: %s (line %d)", path,
                          je.text, je.line);
    bench_status st = BENCH_OK;
    json_t *ver = json_object_get(root, "itera_noise");
    json_t *fams = json_object_get(root, "families");
    if (!json_is_object(root) || !json_is_integer(ver) || json_integer_value(ver) != NOISE_VERSION) {
        st = bench_fail(e, BENCH_ERR_INPUT, "%s: not a noise file of version %d (key "
                        "\"itera_noise\"; write one with itera-bench noise)", path, NOISE_VERSION);
        goto out;
    }
    if (!json_is_object(fams)) {
        st = bench_fail(e, BENCH_ERR_INPUT, "%s: \"families\" is missing or not an object", path);
        goto out;
    }
    t->source = NOISE_MEASURED;
    snprintf(t->file, sizeof t->file, "%s", path);
    snprintf(t->machine, sizeof t->machine, "%s", obj_str(root, "machine"));
    snprintf(t->platform, sizeof t->platform, "%s", obj_str(root, "platform"));
    snprintf(t->profile, sizeof t->profile, "%s", obj_str(root, "profile"));
    snprintf(t->date, sizeof t->date, "%s", obj_str(root, "date"));
    snprintf(t->git, sizeof t->git, "%s", obj_str(root, "git"));
    t->rounds = (int)json_integer_value(json_object_get(root, "rounds"));
    double fb = json_number_value(json_object_get(root, "fallback_pct"));
    t->fallback_pct = fb > 0 ? fb : COMPARE_ASSUMED_NOISE_PCT;
    const char *key;
    json_t *v;
    json_object_foreach(fams, key, v)
    {
        int f = -1;
        for (int k = 0; k < BENCH_FAMILY_COUNT; k++)
            if (strcmp(key, bench_family_name((bench_family)k)) == 0)
                f = k;
        json_t *th = json_object_get(v, "threshold_pct");
        if (f < 0 || !json_is_number(th) || !(json_number_value(th) >= 0) ||
            json_number_value(th) > 100) {
            st = bench_fail(e, BENCH_ERR_INPUT, "%s: families.%s: expected a known family (scan, "
                            "prefill, decode, other) with threshold_pct from 0 to 100", path, key);
            goto out;
        }
        noise_family *nf = &t->fam[f];
        nf->have = true;
        nf->threshold_pct = json_number_value(th);
        nf->benchmarks = (int)json_integer_value(json_object_get(v, "benchmarks"));
        nf->q95_abs_pct = json_number_value(json_object_get(v, "q95_abs_pct"));
        nf->max_abs_pct = json_number_value(json_object_get(v, "max_abs_pct"));
        nf->median_abs_pct = json_number_value(json_object_get(v, "median_abs_pct"));
    }
    json_t *ctx = json_object_get(root, "context");
    if (json_is_object(ctx) && machine_from_context(ctx, &t->m, NULL) == BENCH_OK)
        t->have_machine = true;
out:
    json_decref(root);
    if (st != BENCH_OK)
        table_clear(t);
    return st;
}

bench_status noise_write(const char *path, const noise_table *t, const machine_info *m,
                         bench_error *e)
{
    json_t *root = json_object();
    json_object_set_new(root, "itera_noise", json_integer(NOISE_VERSION));
    json_object_set_new(root, "machine", json_string(t->machine));
    json_object_set_new(root, "platform", json_string(t->platform));
    json_object_set_new(root, "profile", json_string(t->profile));
    json_object_set_new(root, "rounds", json_integer(t->rounds));
    json_object_set_new(root, "date", json_string(t->date));
    json_object_set_new(root, "git", json_string(t->git));
    json_object_set_new(root, "fallback_pct", json_real(t->fallback_pct));
    char rule[256];
    snprintf(rule, sizeof rule, "threshold = max(%.1f%%, 95th percentile over the family's "
             "benchmarks of |ratio - 1| in an interleaved A/A of one build)", NOISE_FLOOR_PCT);
    json_object_set_new(root, "rule", json_string(rule));
    json_t *ctx = json_object();
    if (m)
        machine_to_context(m, ctx);
    json_object_set_new(root, "context", ctx);
    json_t *fams = json_object();
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++) {
        const noise_family *nf = &t->fam[f];
        if (!nf->have)
            continue;
        json_object_set_new(fams, bench_family_name((bench_family)f),
                            json_pack("{s:f, s:i, s:f, s:f, s:f}", "threshold_pct",
                                      nf->threshold_pct, "benchmarks", nf->benchmarks,
                                      "q95_abs_pct", nf->q95_abs_pct, "max_abs_pct",
                                      nf->max_abs_pct, "median_abs_pct", nf->median_abs_pct));
    }
    json_object_set_new(root, "families", fams);
    bench_status rc = results_write_atomic(path, root, e);
    json_decref(root);
    return rc;
}
