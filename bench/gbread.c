/*
 * gbread.c: loading Google Benchmark JSON result files into cells (see gbread.h).
 */
#include "gbread.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

/* Reads the whole file; NULL with errno set on failure. */
static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) {
            if (ferror(fp)) {
                free(buf);
                buf = NULL;
                errno = EIO;
            }
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(fp);
    *len = n;
    return buf;
}

/* A copy of JSON text with GB's bare NaN / Infinity (optionally signed) outside strings
 * replaced by null. */
static char *sanitize_nonfinite(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + n / 3 + 16); /* "NaN" (3) -> "null" (4) grows by at most a third */
    if (!o)
        return NULL;
    size_t j = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            o[j++] = c;
            if (c == '\\' && i + 1 < n)
                o[j++] = s[++i];
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            o[j++] = c;
            continue;
        }
        size_t k = i + (c == '-' || c == '+');
        if (k + 3 <= n && strncmp(s + k, "NaN", 3) == 0) {
            memcpy(o + j, "null", 4);
            j += 4;
            i = k + 2;
            continue;
        }
        if (k + 8 <= n && strncmp(s + k, "Infinity", 8) == 0) {
            memcpy(o + j, "null", 4);
            j += 4;
            i = k + 7;
            continue;
        }
        o[j++] = c;
    }
    *outlen = j;
    return o;
}

static bool obj_bool(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return v && (json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0));
}

static const char *obj_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int rep_index(const json_t *e)
{
    const json_t *v = json_object_get(e, "repetition_index");
    return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

static int cell_add_iter(gb_cell *c, json_t *e)
{
    json_t **ni = realloc(c->iter, (size_t)(c->n_iter + 1) * sizeof *ni);
    if (!ni)
        return -1;
    c->iter = ni;
    /* insertion by repetition_index (stable for equal indices) */
    int i = c->n_iter;
    while (i > 0 && rep_index(c->iter[i - 1]) > rep_index(e)) {
        c->iter[i] = c->iter[i - 1];
        i--;
    }
    c->iter[i] = e;
    c->n_iter++;
    return 0;
}

void gb_file_free(gb_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_cells; i++) {
        free(f->cells[i].iter);
        free(f->cells[i].canon);
    }
    free(f->cells);
    json_decref(f->root);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const gb_cell *gb_file_cell(const gb_file *f, const char *run_name)
{
    for (int i = 0; i < f->n_cells; i++)
        if (strcmp(f->cells[i].run_name, run_name) == 0)
            return &f->cells[i];
    return NULL;
}

const gb_cell *gb_file_cell_canon(const gb_file *f, const char *canon)
{
    for (int i = 0; i < f->n_cells; i++)
        if (strcmp(f->cells[i].canon, canon) == 0)
            return &f->cells[i];
    return NULL;
}

int gb_file_load(const char *path, gb_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        size_t n2 = 0;
        char *clean = sanitize_nonfinite(text, len, &n2);
        if (clean)
            root = json_loadb(clean, n2, 0, &je);
        free(clean);
    }
    free(text);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: not JSON: %s", path, je.line, je.column, je.text);
        return -1;
    }
    json_t *ctx = json_object_get(root, RES_CONTEXT);
    json_t *benches = json_object_get(root, RES_BENCHMARKS);
    if (!json_is_object(root) || !json_is_object(ctx) || !json_is_array(benches)) {
        snprintf(err, errlen,
                 "%s: not a Google Benchmark result file: expected an object with a "
                 "\"context\" object and a \"benchmarks\" array",
                 path);
        json_decref(root);
        return -1;
    }
    f->root = root;
    f->context = ctx;
    f->path = strdup(path);
    if (!f->path)
        goto out_nomem;

    size_t i;
    json_t *e;
    json_array_foreach(benches, i, e) {
        const char *name = obj_str(e, "name");
        if (!json_is_object(e) || !name) {
            snprintf(err, errlen, "%s: benchmarks[%zu]: expected an object with a string \"name\"",
                     path, i);
            gb_file_free(f);
            return -1;
        }
        const char *run_name = obj_str(e, "run_name");
        if (!run_name)
            run_name = name;
        const char *run_type = obj_str(e, "run_type");
        bool aggregate = run_type && strcmp(run_type, "aggregate") == 0;

        gb_cell *c = (gb_cell *)gb_file_cell(f, run_name);
        if (!c) {
            gb_cell *nc = realloc(f->cells, (size_t)(f->n_cells + 1) * sizeof *nc);
            if (!nc)
                goto out_nomem;
            f->cells = nc;
            c = &f->cells[f->n_cells++];
            memset(c, 0, sizeof *c);
            c->run_name = run_name;
            size_t cap = strlen(run_name) + 1;
            c->canon = malloc(cap);
            if (!c->canon)
                goto out_nomem;
            bench_name_canonical(run_name, c->canon, cap);
            c->ours = bench_name_parse(run_name, &c->nm, NULL) == BENCH_OK;
        }
        if (obj_bool(e, "error_occurred")) {
            c->error = true;
            if (!c->error_message)
                c->error_message = obj_str(e, "error_message");
        }
        if (aggregate) {
            const char *agg = obj_str(e, "aggregate_name");
            if (!agg)
                continue;
            if (strcmp(agg, "mean") == 0)
                c->mean = e;
            else if (strcmp(agg, "median") == 0)
                c->median = e;
            else if (strcmp(agg, "stddev") == 0)
                c->stddev = e;
            else if (strcmp(agg, "cv") == 0)
                c->cv = e;
        } else if (cell_add_iter(c, e) != 0) {
            goto out_nomem;
        }
    }
    return 0;

out_nomem:
    snprintf(err, errlen, "%s: out of memory", path);
    gb_file_free(f);
    return -1;
}

const char *gb_ctx(const gb_file *f, const char *key, char *buf, size_t buflen)
{
    const json_t *v = json_object_get(f->context, key);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, buflen, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, buflen, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, buflen, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    return buf;
}

static double unit_to_ns(const char *u)
{
    if (!u || strcmp(u, "ns") == 0)
        return 1.0;
    if (strcmp(u, "us") == 0)
        return 1e3;
    if (strcmp(u, "ms") == 0)
        return 1e6;
    if (strcmp(u, "s") == 0)
        return 1e9;
    return NAN;
}

bool gb_entry_metric(const json_t *entry, const char *metric, double *out)
{
    const json_t *v = json_object_get(entry, metric);
    if (!json_is_number(v))
        return false;
    double x = json_number_value(v);
    if (strcmp(metric, MET_REAL_TIME) == 0 || strcmp(metric, MET_CPU_TIME) == 0)
        x *= unit_to_ns(obj_str(entry, "time_unit"));
    if (!isfinite(x))
        return false;
    *out = x;
    return true;
}

int gb_cell_values(const gb_cell *c, const char *metric, double *out, int cap)
{
    int n = 0;
    for (int i = 0; i < c->n_iter && n < cap; i++)
        if (gb_entry_metric(c->iter[i], metric, &out[n]))
            n++;
    return n;
}

bool gb_cell_mean(const gb_cell *c, const char *metric, double *out)
{
    if (c->mean && gb_entry_metric(c->mean, metric, out))
        return true;
    double s = 0, x;
    int n = 0;
    for (int i = 0; i < c->n_iter; i++)
        if (gb_entry_metric(c->iter[i], metric, &x)) {
            s += x;
            n++;
        }
    if (n == 0)
        return false;
    *out = s / n;
    return true;
}

bool gb_cell_stddev(const gb_cell *c, const char *metric, double *out)
{
    return c->stddev && gb_entry_metric(c->stddev, metric, out);
}

int gb_cell_range(const gb_cell *c, const char *metric, double *min, double *max)
{
    int n = 0;
    double x;
    for (int i = 0; i < c->n_iter; i++)
        if (gb_entry_metric(c->iter[i], metric, &x)) {
            if (n == 0 || x < *min)
                *min = x;
            if (n == 0 || x > *max)
                *max = x;
            n++;
        }
    return n;
}
