/*
 * gbread.c: loading Google Benchmark JSON result files into cells (see gbread.h).
 */
#include "gbread.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gunzip.h"
#include "itera.h"
#include "nameidx.h"

/* A results file larger than this is refused (1 GiB: ten times the largest tested). */
#define GB_MAX_FILE_BYTES ((size_t)1 << 30)

/* ---- loading ---- */

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
    const json_t *v = json_object_get(e, ENT_REPETITION_INDEX);
    return json_is_integer(v) && json_integer_value(v) >= INT_MIN && json_integer_value(v) <= INT_MAX
               ? (int)json_integer_value(v)
               : 0;
}

/* While loading: a cell's iteration entries with their repetition_index and arrival order,
 * sorted once at the end (stable by arrival for equal indices). */
typedef struct iter_ref {
    json_t *e;
    int rep;
    size_t order;
} iter_ref;

typedef struct iter_vec {
    iter_ref *v;
    size_t n, cap;
} iter_vec;

static int cmp_iter(const void *a, const void *b)
{
    const iter_ref *x = a, *y = b;
    if (x->rep != y->rep) return x->rep < y->rep ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int iter_push(iter_vec *iv, json_t *e, size_t order)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? 2 * iv->cap : 4;
        iter_ref *nv = realloc(iv->v, cap * sizeof *nv);
        if (!nv) return -1;
        iv->v = nv;
        iv->cap = cap;
    }
    iv->v[iv->n++] = (iter_ref){e, rep_index(e), order};
    return 0;
}

static const char *cell_run_name(const void *user, int i)
{
    return ((const gb_cell *)user)[i].run_name;
}

static const char *cell_canon(const void *user, int i)
{
    return ((const gb_cell *)user)[i].canon;
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
    name_index_free(&f->by_name);
    name_index_free(&f->by_canon);
    json_decref(f->root);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const gb_cell *gb_file_cell(const gb_file *f, const char *run_name)
{
    int i = name_index_find(&f->by_name, run_name, cell_run_name, f->cells);
    return i < 0 ? NULL : &f->cells[i];
}

const gb_cell *gb_file_cell_canon(const gb_file *f, const char *canon)
{
    int i = name_index_find(&f->by_canon, canon, cell_canon, f->cells);
    return i < 0 ? NULL : &f->cells[i];
}

bench_status gb_file_load(const char *path, gb_file *f, bench_error *err)
{
    memset(f, 0, sizeof *f);
    size_t len = 0;
    char *text;
    itera_error ie;
    if (itera_read_file(path, GB_MAX_FILE_BYTES, &text, &len, &ie) != ITERA_OK)
        return bench_fail(err, BENCH_ERR_INPUT, "%s", ie.msg);
    if (gunzip_is_gzip(text, len)) { /* FILE.json.gz (gunzip.h) */
        char *plain = NULL;
        bench_status zs = gunzip_buffer(path, text, len, GB_MAX_FILE_BYTES, &plain, &len, err);
        free(text);
        if (zs != BENCH_OK)
            return zs;
        text = plain;
    }
    bench_status rc = gb_file_parse(path, text, len, f, err);
    free(text);
    return rc;
}

bench_status gb_file_parse(const char *path, const char *text, size_t len, gb_file *f,
                           bench_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        size_t n2 = 0;
        char *clean = sanitize_nonfinite(text, len, &n2);
        if (clean)
            root = json_loadb(clean, n2, JSON_REJECT_DUPLICATES, &je);
        free(clean);
    }
    if (!root)
        return bench_fail(err, BENCH_ERR_INPUT, "%s:%d:%d: not JSON: %s", path, je.line,
                          je.column, je.text);
    return gb_file_from_json(path, root, f, err);
}

bench_status gb_file_from_json(const char *path, json_t *root, gb_file *f, bench_error *err)
{
    memset(f, 0, sizeof *f);
    iter_vec *iters = NULL; /* per cell, parallel to f->cells */
    int iters_cap = 0;
    bench_status st;
    json_t *ctx = json_object_get(root, RES_CONTEXT);
    json_t *benches = json_object_get(root, RES_BENCHMARKS);
    if (!json_is_object(root) || !json_is_object(ctx) || !json_is_array(benches)) {
        json_decref(root);
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: not a Google Benchmark result file: expected an object with a "
                          "\"context\" object and a \"benchmarks\" array",
                          path);
    }
    f->root = root;
    f->context = ctx;
    f->path = strdup(path);
    if (!f->path)
        goto out_nomem;

    size_t i;
    json_t *e;
    json_array_foreach(benches, i, e) {
        const char *name = obj_str(e, ENT_NAME);
        if (!json_is_object(e) || !name) {
            st = bench_fail(err, BENCH_ERR_INPUT, "%s: benchmarks[%zu]: expected an object with "
                            "a string \"name\"", path, i);
            goto out_fail;
        }
        const char *run_name = obj_str(e, ENT_RUN_NAME);
        if (!run_name)
            run_name = name;
        const char *run_type = obj_str(e, ENT_RUN_TYPE);
        bool aggregate = run_type && strcmp(run_type, "aggregate") == 0;

        gb_cell *c = (gb_cell *)gb_file_cell(f, run_name);
        if (!c) {
            if (f->n_cells == iters_cap) {
                if (iters_cap > INT_MAX / 2)
                    goto out_nomem;
                int cap = iters_cap ? 2 * iters_cap : 16;
                gb_cell *nc = realloc(f->cells, (size_t)cap * sizeof *nc);
                if (nc)
                    f->cells = nc;
                iter_vec *ni = nc ? realloc(iters, (size_t)cap * sizeof *ni) : NULL;
                if (!ni)
                    goto out_nomem;
                iters = ni;
                iters_cap = cap;
            }
            c = &f->cells[f->n_cells];
            memset(c, 0, sizeof *c);
            memset(&iters[f->n_cells], 0, sizeof iters[0]);
            f->n_cells++;
            c->run_name = run_name;
            size_t cap = strlen(run_name) + 1;
            c->canon = malloc(cap);
            if (!c->canon)
                goto out_nomem;
            bench_name_canonical(run_name, c->canon, cap);
            c->ours = bench_name_parse(run_name, &c->nm, NULL) == BENCH_OK;
            /* the first cell with a canonical name is the one gb_file_cell_canon finds */
            if (name_index_add(&f->by_name, f->n_cells - 1, cell_run_name, f->cells) != 0 ||
                (!gb_file_cell_canon(f, c->canon) &&
                 name_index_add(&f->by_canon, f->n_cells - 1, cell_canon, f->cells) != 0))
                goto out_nomem;
        }
        if (obj_bool(e, ENT_ERROR_OCCURRED)) {
            c->error = true;
            if (!c->error_message)
                c->error_message = obj_str(e, ENT_ERROR_MESSAGE);
        }
        if (aggregate) {
            const char *agg = obj_str(e, ENT_AGGREGATE_NAME);
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
        } else if (iter_push(&iters[c - f->cells], e, i) != 0) {
            goto out_nomem;
        }
    }
    /* Iteration runs in repetition_index order, one sort per cell (linear in entries
     * overall, up to the log factor). */
    for (int k = 0; k < f->n_cells; k++) {
        iter_vec *iv = &iters[k];
        gb_cell *c = &f->cells[k];
        if (iv->n > 1) /* (qsort must not get NULL, which a cell of aggregates only has) */
            qsort(iv->v, iv->n, sizeof *iv->v, cmp_iter);
        if (iv->n > (size_t)INT_MAX || !(c->iter = malloc((iv->n ? iv->n : 1) * sizeof *c->iter)))
            goto out_nomem;
        for (size_t j = 0; j < iv->n; j++)
            c->iter[j] = iv->v[j].e;
        c->n_iter = (int)iv->n;
    }
    for (int k = 0; k < f->n_cells; k++)
        free(iters[k].v);
    free(iters);
    return BENCH_OK;

out_nomem:
    st = bench_fail(err, BENCH_ERR_NOMEM, "%s: out of memory", path);
out_fail:
    for (int k = 0; k < f->n_cells; k++)
        free(iters[k].v);
    free(iters);
    gb_file_free(f);
    return st;
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
        x *= unit_to_ns(obj_str(entry, ENT_TIME_UNIT));
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
