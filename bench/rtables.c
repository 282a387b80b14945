/*
 * rtables.c: the report's tables and their registry (see rtables.h).
 *
 * Every table picks its cells from one group with fixed preferences (the original
 * report's configuration first), fills one rtable, and emit() writes its markdown, the
 * .dat beside the document and the chart from those rows. Every number printed is a field
 * of a result file or a ratio of two, named in the table's Source line.
 */
#include "rtables.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itera.h"
#include "numfmt.h"
#include "rtable.h"
#include "schema.h"

/* The original report's kernel-comparison configuration. */
#define REF_CHANNELS 256
#define REF_STATE 64
#define REF_SEQ 128
#define REF_BATCH 4
/* The operation profile, quantization and edge tables: a prefill at this length, batch 1. */
#define PREFILL_SEQ 128
#define PREFILL_BATCH 1
/* The op profile's forward and the cell's timed latency must agree within this. */
#define PROFILE_AGREE_PCT 5.0
#define MIB 1048576.0
#define MAXK 16
#define MAXQ 16
#define MAX_PEERS 8
#define MAX_OPS 64
#define MAX_TEXTS 8

static const char *ref_kernel(void) { return itera_kernel_name(ITERA_KERNEL_REFERENCE); }
static const char *ref_quant(void) { return itera_quant_name(ITERA_QUANT_REFERENCE); }

void report_write_failed(rctx *r, const char *msg)
{
    fprintf(stderr, "report: %s\n", msg);
    r->write_errors++;
}

static void no_results(rctx *r, const char *what)
{
    sb_printf(r->md, "No results for %s.\n\n", what);
    r->empty_tables++;
}

static const char *plural(int n)
{
    return n == 1 ? "" : "s";
}

static int cmp_int_asc(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* "[2], [3]": the files the cells came from, in file order. */
static void file_refs(const rset *s, const rcell *const *cells, int n, char *out, size_t cap)
{
    out[0] = '\0';
    int *f = malloc((size_t)(n > 0 ? n : 1) * sizeof *f), k = 0;
    if (!f)
        return;
    for (int i = 0; i < n; i++)
        if (cells[i])
            f[k++] = cells[i]->file;
    qsort(f, (size_t)k, sizeof *f, cmp_int_asc);
    size_t len = 0;
    for (int i = 0; i < k && len + 12 < cap; i++)
        if (i == 0 || f[i] != f[i - 1])
            len += (size_t)snprintf(out + len, cap - len, "%s[%d]", len ? ", " : "", s->files[f[i]].num);
    free(f);
}

/* Says which file each cell held by several came from (never a silent pick). */
static void newest_note(rctx *r, const rcell *const *cells, int n)
{
    int shown = 0, total = 0;
    for (int i = 0; i < n; i++) {
        const rcell *c = cells[i];
        if (!c || c->n_older == 0)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = cells[j] == c;
        if (seen)
            continue;
        total++;
        if (shown == 3)
            continue;
        const rfile *f = &r->set->files[c->file];
        sb_printf(r->md, "%s`%s` from [%d] (%s) over ",
                  shown ? "; " : "Several files hold some of these cells; the newest run is shown: ",
                  c->c->canon, f->num, f->date[0] ? f->date : "no date");
        int k = c->n_older < RCELL_MAX_OLDER ? c->n_older : RCELL_MAX_OLDER;
        for (int j = 0; j < k; j++) {
            const rfile *o = &r->set->files[c->older[j]];
            sb_printf(r->md, "%s[%d] (%s)", j ? ", " : "", o->num, o->date[0] ? o->date : "no date");
        }
        if (c->n_older > k)
            sb_printf(r->md, " and %d more", c->n_older - k);
        shown++;
    }
    if (total > shown)
        sb_printf(r->md, "; and %d more cell%s", total - shown, plural(total - shown));
    if (total)
        sb_puts(r->md, ".\n\n");
}

/* The run name with the part at index idx ('/'-separated) replaced by `with`. */
static void name_pattern(const char *name, int idx, const char *with, char *out, size_t cap)
{
    const char *p = name;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '/');
        if (p)
            p++;
    }
    if (!p) {
        snprintf(out, cap, "%s", name);
        return;
    }
    const char *end = strchr(p, '/');
    snprintf(out, cap, "%.*s%s%s", (int)(p - name), name, with, end ? end : "");
}

/* pat with the value of key ("seq") replaced by <what>. */
static void key_pattern(const char *pat, const char *key, const char *what, char *out, size_t cap)
{
    char k[32];
    snprintf(k, sizeof k, "%s:", key);
    const char *kp = strstr(pat, k);
    if (!kp) {
        snprintf(out, cap, "%s", pat);
        return;
    }
    const char *end = strchr(kp, '/');
    snprintf(out, cap, "%.*s%s<%s>%s", (int)(kp - pat), pat, k, what, end ? end : "");
}

/* Writes t's markdown, then (name not NULL) its .dat <docdir>/<folder>/<name>.dat and the
 * chart drawn from it. extra: gnuplot assignments. */
static void emit(rctx *r, const rtable *t, const char *folder, const char *name, const char *title,
                 const char *extra)
{
    if (t->oom) {
        report_write_failed(r, "out of memory building a table");
        return;
    }
    rt_markdown(t, r->md);
    sb_puts(r->md, "\n");
    if (!name)
        return;
    char dir[1400], dat[1600], img[1600], rel[700], msg[1600];
    snprintf(dir, sizeof dir, "%s%s%s/%s", r->outdir, r->docdir[0] ? "/" : "", r->docdir, folder);
    snprintf(dat, sizeof dat, "%s/%s.dat", dir, name);
    snprintf(rel, sizeof rel, "%s/%s", folder, name);
    if (mkdir_p(dir) != 0) {
        snprintf(msg, sizeof msg, "%s: cannot create the folder: %s", dir, strerror(errno));
        report_write_failed(r, msg);
        return;
    }
    bench_error be;
    if (rt_write_dat(t, dat, &be) != BENCH_OK) {
        report_write_failed(r, be.msg);
        return;
    }
    if (rt_dat_points(t) == 0) {
        sb_puts(r->md, "No chart: no successful run to plot.\n\n");
        r->empty_tables++;
        return;
    }
    if (!r->gp->ok) {
        sb_printf(r->md, "Chart skipped (data in `%s.dat`).\n\n", rel);
        return;
    }
    char vars[256];
    snprintf(vars, sizeof vars, "ncols=%d; %s", rt_dat_ncols(t), extra ? extra : "");
    snprintf(img, sizeof img, "%s/%s.%s", dir, name, r->gp->ext);
    bench_status grc = gp_render(r->gp, name, dat, img, title, vars, &be);
    if (grc == BENCH_ERR_IO) {
        report_write_failed(r, be.msg);
        return;
    }
    if (grc != BENCH_OK) {
        sb_printf(r->md, "Chart `%s.%s` failed: %s.\n\n", rel, r->gp->ext, be.msg);
        r->missing_images++;
        return;
    }
    sb_printf(r->md, "![%s](%s.%s)\n\n", title, rel, r->gp->ext);
}

/* A figure's text and its median charted, plus (hidden, charted) its quartiles. */
static void set_fig(rtable *t, int row, int col, const figure *f, double scale)
{
    char b[RT_TEXT];
    fmt_figure(f, scale, b, sizeof b);
    rt_set(t, row, col, b, f->n > 0 ? f->median * scale : NAN);
}

static void set_failed(rtable *t, int row, int col, const rcell *c)
{
    char m[RT_TEXT];
    snprintf(m, sizeof m, "failed: %s", c->c->error_message ? c->c->error_message : "error");
    rt_set(t, row, col, m, NAN);
}

/* ---- kernel comparison ---- */

typedef struct scan_shape {
    bool found, ref;
    want w; /* every part fixed but the kernel */
} scan_shape;

/* The kernel table's scan shape: the original configuration, else the closest there is. */
static scan_shape scan_shape_of(const rgroup *g, const rsection *sec)
{
    scan_shape sh;
    memset(&sh, 0, sizeof sh);
    want w = WANT(BENCH_SCAN);
    w.channels = REF_CHANNELS;
    w.state = REF_STATE;
    w.seq = REF_SEQ;
    w.batch = REF_BATCH;
    sh.ref = rg_narrow(g, &w, DIM_THREADS, sec->threads > 0 ? sec->threads : INT_MAX, true) >= 0;
    if (!sh.ref) {
        w = WANT(BENCH_SCAN);
        if (rg_narrow(g, &w, DIM_CHANNELS, REF_CHANNELS, true) < 0)
            return sh;
        rg_narrow(g, &w, DIM_STATE, REF_STATE, true);
        rg_narrow(g, &w, DIM_SEQ, REF_SEQ, true);
        rg_narrow(g, &w, DIM_BATCH, REF_BATCH, true);
        rg_narrow(g, &w, DIM_THREADS, sec->threads > 0 ? sec->threads : INT_MAX, true);
    }
    sh.found = true;
    sh.w = w;
    return sh;
}

typedef struct kernel_row {
    const rcell *c;
    const char *kernel;
    figure lat;
} kernel_row;

/* Successful rows by median latency, fastest first; failed ones last. */
static int cmp_kernel_row(const void *a, const void *b)
{
    const kernel_row *x = a, *y = b;
    bool fx = x->lat.n > 0, fy = y->lat.n > 0;
    if (fx != fy)
        return fx ? -1 : 1;
    if (fx && x->lat.median != y->lat.median)
        return x->lat.median < y->lat.median ? -1 : 1;
    return strcmp(x->kernel, y->kernel);
}

static void table_kernels(rctx *r, const rgroup *g)
{
    scan_shape sh = scan_shape_of(g, rg_section(r->set, g));
    if (!sh.found) {
        no_results(r, "the standalone scan (`scan/…` benchmarks)");
        return;
    }
    const want w = sh.w;
    if (sh.ref)
        sb_printf(r->md,
                  "Standalone selective scan at the original report's configuration: %d channels, "
                  "state %d, L = %d, batch %d, %d thread%s; random inputs (no model). Ranked by "
                  "median latency.\n\n",
                  w.channels, w.state, w.seq, w.batch, w.threads, plural(w.threads));
    else
        sb_printf(r->md,
                  "The original report's configuration (%d channels, state %d, L = %d, batch %d) is "
                  "not in these results; shown at the closest there is: %d channels, state %d, "
                  "L = %d, batch %d, %d thread%s; random inputs (no model). Ranked by median "
                  "latency.\n\n",
                  REF_CHANNELS, REF_STATE, REF_SEQ, REF_BATCH, w.channels, w.state, w.seq, w.batch,
                  w.threads, plural(w.threads));
    const char *kernels[MAXK];
    int nk = rg_distinct_names(g, &w, false, kernels, MAXK);
    kernel_row rows[MAXK];
    const char *lat_from = MET_LATENCY_MS;
    for (int k = 0; k < nk; k++) {
        want x = w;
        x.kernel = kernels[k];
        rows[k].c = rg_find(g, &x);
        rows[k].kernel = kernels[k];
        rows[k].lat = rc_latency(rows[k].c, &lat_from);
    }
    qsort(rows, (size_t)nk, sizeof *rows, cmp_kernel_row);
    want ws = w;
    ws.kernel = ref_kernel();
    figure seq = rc_latency(rg_find(g, &ws), NULL);

    rtable t;
    rt_init(&t, "kernel", RT_DAT_COMMENT);
    char h[128];
    rt_col_add(&t, "Rank", true, NULL);
    rt_col_add(&t, "Kernel", false, NULL);
    int c_lat = rt_col_add(&t, "Latency (ms): median (IQR, n)", true, "median_ms");
    int c_q1 = rt_col_add_hidden(&t, "q1_ms"), c_q3 = rt_col_add_hidden(&t, "q3_ms");
    int c_min = rt_col_add_hidden(&t, "min_ms"), c_max = rt_col_add_hidden(&t, "max_ms");
    int c_range = rt_col_add(&t, "min–max", true, NULL);
    snprintf(h, sizeof h, "Speed-up vs %s", ref_kernel());
    int c_speed = rt_col_add(&t, h, true, NULL);
    int c_gf = rt_col_add(&t, "GFLOP/s", true, NULL);
    int c_pk = rt_col_add(&t, "% of peak", true, NULL);
    const rcell *used[MAXK];
    int rank = 0;
    char b[RT_TEXT];
    for (int k = 0; k < nk; k++) {
        const rcell *c = rows[k].c;
        used[k] = c;
        const figure *lat = &rows[k].lat;
        int row = rt_row_add(&t, lat->n > 0 ? (snprintf(b, sizeof b, "%d", ++rank), b) : "–",
                             rows[k].kernel, false);
        rt_set(&t, row, 1, rows[k].kernel, NAN);
        if (c->c->error || lat->n == 0) {
            set_failed(&t, row, c_lat, c);
            continue;
        }
        set_fig(&t, row, c_lat, lat, 1.0);
        rt_set(&t, row, c_q1, "", lat->q1);
        rt_set(&t, row, c_q3, "", lat->q3);
        rt_set(&t, row, c_min, "", lat->min);
        rt_set(&t, row, c_max, "", lat->max);
        if (lat->n >= 2)
            snprintf(b, sizeof b, "%s–%s", fnum_as(lat->min, lat->median).s, fnum_as(lat->max, lat->median).s);
        else
            snprintf(b, sizeof b, "single run");
        rt_set(&t, row, c_range, b, NAN);
        if (seq.n > 0 && lat->median > 0)
            snprintf(b, sizeof b, "%s", fratio(seq.median / lat->median).s);
        else
            snprintf(b, sizeof b, "n/a (no %s run)", ref_kernel());
        rt_set(&t, row, c_speed, b, NAN);
        rt_set(&t, row, c_gf, fnum(rc_figure(c, MET_GFLOPS).median).s, NAN);
        if (rc_flag(c, MET_PEAK_SUSPECT))
            rt_set(&t, row, c_pk, "suspect: above the measured peak", NAN);
        else
            rt_set(&t, row, c_pk, fnum(rc_figure(c, MET_PCT_PEAK).median).s, NAN);
    }
    char refs[256], pat[512];
    file_refs(r->set, used, nk, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_SCAN, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    emit(r, &t, g->slug, "kernels", "Scan kernels: median latency (ms) and interquartile range", NULL);
    sb_printf(r->md,
              "Source: %s `%s`: latency = `%s` of each repetition (median, interquartile range and "
              "n; min–max), speed-up = %s's median / the kernel's median, `gflops` and `pct_peak` "
              "(medians; %% of the measured peak of the cores the cell used).\n\n",
              refs, pat, lat_from, ref_kernel());
    newest_note(r, used, nk);
    rt_free(&t);
}

/* ---- sweeps: tokens/s against one dimension, one column per kernel ---- */

/* A table of rows = values of d, columns = kernels: tokens/s as median (IQR, n); its .dat
 * (x, median tok/s per kernel) and chart when chart_name. w: the group's cells, d unset.
 * Returns the number of rows. */
static int table_sweep(rctx *r, const rgroup *g, const want *w, rdim d, const char *dname,
                       const char *key, const char *chart_name, const char *chart_title)
{
    int vals[64];
    int nv = rg_distinct_dim(g, w, d, vals, 64);
    const char *kernels[MAXK];
    int nk = rg_distinct_names(g, w, false, kernels, MAXK);
    if (nv == 0 || nk == 0)
        return 0;
    rtable t;
    rt_init(&t, dname, RT_DAT_COLUMNHEAD);
    rt_col_add(&t, dname, true, NULL);
    int col[MAXK];
    for (int k = 0; k < nk; k++) {
        char h[128];
        snprintf(h, sizeof h, "%s (tok/s)", kernels[k]);
        col[k] = rt_col_add(&t, h, true, kernels[k]);
    }
    const rcell *used[64 * MAXK];
    int nused = 0;
    for (int i = 0; i < nv; i++) {
        char x[32];
        snprintf(x, sizeof x, "%d", vals[i]);
        int row = rt_row_add(&t, x, x, true);
        for (int k = 0; k < nk; k++) {
            want q = *w;
            q.kernel = kernels[k];
            set_dim(&q, d, vals[i]);
            const rcell *c = rg_find(g, &q);
            if (!c) {
                rt_set(&t, row, col[k], "—", NAN);
                continue;
            }
            used[nused++] = c;
            if (c->c->error) {
                rt_set(&t, row, col[k], "failed", NAN);
                continue;
            }
            figure f = rc_figure(c, MET_TOKENS_PER_SECOND);
            set_fig(&t, row, col[k], &f, 1.0);
        }
    }
    emit(r, &t, g->slug, chart_name, chart_title, NULL);
    char refs[256], pat[512], pat2[512];
    file_refs(r->set, used, nused, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(w->fam, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    key_pattern(pat, key, dname, pat2, sizeof pat2);
    sb_printf(r->md,
              "Source: %s `%s`: `tokens_per_second` of each repetition (median, interquartile range, "
              "n); — where that run is absent; failed runs are listed under the file header.\n\n",
              refs, pat2);
    newest_note(r, used, nused);
    rt_free(&t);
    return nv;
}

static void table_seqlen(rctx *r, const rgroup *g)
{
    const rsection *sec = rg_section(r->set, g);
    int shown = 0;
    scan_shape sh = scan_shape_of(g, sec);
    if (sh.found) {
        want w = sh.w;
        w.seq = -1;
        w.kernel = NULL;
        int lens[64];
        if (rg_distinct_dim(g, &w, DIM_SEQ, lens, 64) >= 2) {
            sb_printf(r->md, "Standalone scan, %d channels, state %d, batch %d, %d thread%s; random "
                             "inputs (no model):\n\n",
                      w.channels, w.state, w.batch, w.threads, plural(w.threads));
            shown += table_sweep(r, g, &w, DIM_SEQ, "L", name_part_key(NAME_SEQ), "seqlen",
                                 "Scan: tokens/s against sequence length (medians)");
        }
        /* one long sequence (batch 1): where splitting along time matters */
        want b1 = w;
        b1.batch = 1;
        if (w.batch != 1 && rg_find(g, &b1) && rg_distinct_dim(g, &b1, DIM_SEQ, lens, 64) >= 2) {
            sb_printf(r->md, "Standalone scan, %d channels, state %d, batch 1, %d thread%s; random "
                             "inputs (no model):\n\n",
                      b1.channels, b1.state, b1.threads, plural(b1.threads));
            shown += table_sweep(r, g, &b1, DIM_SEQ, "L", name_part_key(NAME_SEQ), "seqlen_b1",
                                 "Scan, batch 1: tokens/s against sequence length (medians)");
        }
    }
    want p = WANT(BENCH_PREFILL);
    p.quant = ref_quant();
    if (!rg_find(g, &p))
        p.quant = NULL;
    rg_narrow(g, &p, DIM_BATCH, PREFILL_BATCH, false);
    rg_narrow(g, &p, DIM_THREADS, sec->threads > 0 ? sec->threads : INT_MAX, true);
    int lens[64];
    if (rg_find(g, &p) && rg_distinct_dim(g, &p, DIM_SEQ, lens, 64) >= 2) {
        if (!p.quant) {
            const char *qs[MAXQ];
            rg_distinct_names(g, &p, true, qs, MAXQ);
            p.quant = qs[0];
        }
        sb_printf(r->md, "Prefill (whole model, %s), batch %d, %d thread%s, model %s:\n\n", p.quant,
                  p.batch, p.threads, plural(p.threads), g->model_label);
        shown += table_sweep(r, g, &p, DIM_SEQ, "L", name_part_key(NAME_SEQ), NULL, NULL);
    }
    if (!shown)
        no_results(r, "a sequence-length sweep (`scan/…/seq:L/…` or `prefill/…/seq:L/…`)");
}

/* ---- operation profile ---- */

#define OP_PREFIX "op_us."

/* The prefill's root op ("forward"): the engine's first op without a parent. */
static const char *op_root(void)
{
    itera_op_info oi;
    for (int i = 0; itera_op_info_get(i, &oi); i++)
        if (!oi.parent[0])
            return oi.name;
    return "";
}

static bool op_is_root(const char *z)
{
    itera_op_info oi;
    for (int i = 0; itera_op_info_get(i, &oi); i++)
        if (!oi.parent[0] && strcmp(z, oi.name) == 0)
            return true;
    return false;
}

static int zone_rank(const char *z)
{
    itera_op_info oi;
    int i = 0;
    for (; itera_op_info_get(i, &oi); i++)
        if (strcmp(z, oi.name) == 0)
            return i;
    return i;
}

static const char *zone_what(const char *z, char *buf, size_t n)
{
    itera_op_info oi;
    if (!itera_op_info_get(zone_rank(z), &oi))
        return "";
    snprintf(buf, n, "%s%s", oi.summary, oi.original ? " ¹" : "");
    return buf;
}

static int cmp_zone_named(const char *a, const char *b)
{
    int ra = zone_rank(a), rb = zone_rank(b);
    return ra != rb ? ra - rb : strcmp(a, b);
}

/* Children sort right after their parent ("a.b" after "a"). */
static int cmp_zone(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    char px[96], py[96];
    snprintf(px, sizeof px, "%s", x);
    snprintf(py, sizeof py, "%s", y);
    char *dx = strchr(px, '.'), *dy = strchr(py, '.');
    if (dx)
        *dx = '\0';
    if (dy)
        *dy = '\0';
    if (strcmp(px, py) != 0)
        return cmp_zone_named(px, py);
    if (!dx != !dy)
        return dx ? 1 : -1;
    return cmp_zone_named(x, y);
}

typedef struct op_prof {
    int n;
    char zone[MAX_OPS][96];
    char parent[MAX_OPS][96]; /* "" when not recorded or a root */
    figure us[MAX_OPS];       /* µs per forward */
    int rounds;               /* the profile's rounds (0: an older profile without them) */
    bool caller_wall;         /* nested ops are the caller's wall time (children <= parent) */
    const char *source;
} op_prof;

static void op_add(op_prof *p, const char *zone, const char *parent, figure us)
{
    if (p->n == MAX_OPS)
        return;
    snprintf(p->zone[p->n], sizeof p->zone[p->n], "%s", zone);
    snprintf(p->parent[p->n], sizeof p->parent[p->n], "%s", parent ? parent : "");
    p->us[p->n++] = us;
}

static double jnum(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* The op profile of a prefill cell, in µs per forward. Two layouts are read:
 *   1. the file's top-level "itera_op_profile" keyed by benchmark name (bench/results.h):
 *      {"forwards", "rounds", "ops": [{"name", "parent", "us_per_forward" (the caller's
 *      wall time in the median round), "us_per_forward_q1", "_q3", ...}]}; a profile
 *      without "rounds" is an older one (per-op totals over every thread / forwards);
 *   2. "op_us.<zone>" counters on the cell's entries (median over the repetitions).
 * Returns the number of ops (0: none recorded). */
static int read_op_profile(const gb_file *f, const rcell *rc, op_prof *p)
{
    memset(p, 0, sizeof *p);
    p->source = "";
    const gb_cell *c = rc->c;
    if (c->error)
        return 0;
    const json_t *all = json_object_get(f->root, RES_OP_PROFILE);
    const json_t *cp = json_object_get(all, c->canon);
    if (!cp)
        cp = json_object_get(all, c->run_name);
    const json_t *ops = json_object_get(cp, RES_OP_OPS);
    if (json_is_array(ops)) {
        double forwards = jnum(cp, RES_OP_FORWARDS, 1);
        if (!(forwards > 0))
            forwards = 1;
        p->rounds = (int)jnum(cp, RES_OP_ROUNDS, 0);
        p->caller_wall = p->rounds > 0;
        size_t i;
        const json_t *o;
        json_array_foreach(ops, i, o) {
            const json_t *name = json_object_get(o, RES_OP_NAME);
            const json_t *par = json_object_get(o, RES_OP_PARENT);
            if (!json_is_string(name))
                continue;
            double med = jnum(o, RES_OP_US_PER_FORWARD, NAN);
            if (!isfinite(med))
                med = jnum(o, RES_OP_TOTAL_US, NAN) / forwards;
            if (!isfinite(med))
                continue;
            figure fg = figure_of(&med, 1);
            if (p->rounds > 0) {
                fg.n = p->rounds;
                fg.q1 = jnum(o, RES_OP_US_Q1, med);
                fg.q3 = jnum(o, RES_OP_US_Q3, med);
                fg.min = jnum(o, RES_OP_US_MIN, med);
                fg.max = jnum(o, RES_OP_US_MAX, med);
            }
            op_add(p, json_string_value(name), json_is_string(par) ? json_string_value(par) : "", fg);
        }
        p->source = p->caller_wall
                        ? "`itera_op_profile`: `us_per_forward`, the caller's wall time per forward in "
                          "the profile's median round (the round whose forward is the median, so "
                          "nested ops add up to at most their parent), with the interquartile range "
                          "and n over the rounds"
                        : "`itera_op_profile` of an older run: `us_per_forward` summed over every "
                          "thread, one pass without rounds (nested ops may add up to more than "
                          "their parent)";
        return p->n;
    }
    const json_t *e = c->mean ? c->mean : (c->n_iter ? c->iter[0] : NULL);
    if (!e)
        return 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)e, key, v) {
        if (strncmp(key, OP_PREFIX, strlen(OP_PREFIX)) != 0)
            continue;
        figure fg = rc_figure(rc, key);
        if (fg.n > 0)
            op_add(p, key + strlen(OP_PREFIX), "", fg);
    }
    p->source = "counters `" OP_PREFIX "<zone>` (median, interquartile range and n over the repetitions)";
    return p->n;
}

static const char *op_parent(const op_prof *p, const char *zone)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->zone[i], zone) == 0)
            return p->parent[i];
    return "";
}

static figure op_get(const op_prof *p, const char *zone)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->zone[i], zone) == 0)
            return p->us[i];
    return figure_of(NULL, 0);
}

/* The prefill configuration of the quantization and edge tables: fp32 present, the
 * preferred kernel, L closest to 128, the smallest batch, the platform's threads. */
static bool prefill_config(const rgroup *g, const rsection *sec, want *w)
{
    *w = WANT(BENCH_PREFILL);
    w->quant = ref_quant();
    if (!rg_find(g, w))
        w->quant = NULL;
    if (rg_narrow(g, w, DIM_SEQ, PREFILL_SEQ, false) < 0)
        return false;
    rg_narrow(g, w, DIM_BATCH, PREFILL_BATCH, false);
    rg_narrow(g, w, DIM_THREADS, sec->threads > 0 ? sec->threads : INT_MAX, true);
    w->kernel = rg_pick_kernel(g, w);
    w->quant = NULL;
    return w->kernel != NULL;
}

static void table_ops(rctx *r, const rgroup *g)
{
    const rsection *sec = rg_section(r->set, g);
    want w = WANT(BENCH_PREFILL);
    w.quant = ref_quant();
    if (!rg_find(g, &w))
        w.quant = NULL;
    const char *kernels[MAXK];
    const rcell *cells[MAXK];
    static op_prof prof[MAXK];
    int nk = 0;
    if (rg_narrow(g, &w, DIM_SEQ, PREFILL_SEQ, false) >= 0) {
        rg_narrow(g, &w, DIM_BATCH, PREFILL_BATCH, false);
        rg_narrow(g, &w, DIM_THREADS, sec->threads > 0 ? sec->threads : INT_MAX, true);
        if (!w.quant) {
            const char *qs[MAXQ];
            rg_distinct_names(g, &w, true, qs, MAXQ);
            w.quant = qs[0];
        }
        const char *all[MAXK];
        int na = rg_distinct_names(g, &w, false, all, MAXK);
        for (int k = 0; k < na; k++) {
            want x = w;
            x.kernel = all[k];
            const rcell *c = rg_find(g, &x);
            if (c && read_op_profile(&r->set->files[c->file].gb, c, &prof[nk]) > 0) {
                cells[nk] = c;
                kernels[nk++] = all[k];
            }
        }
    }
    if (nk == 0) {
        no_results(r, "an operation profile (`itera_op_profile` entries or `op_us.<zone>` counters "
                      "for `prefill/…` benchmarks)");
        return;
    }
    sb_printf(r->md,
              "µs per op for one prefill (%s, L = %d, batch %d, %d thread%s, model %s), and its share "
              "of the whole forward. Nested ops (↳) are included in their parent.\n\n",
              w.quant, w.seq, w.batch, w.threads, plural(w.threads), g->model_label);
    /* the union of the ops, in the engine's order */
    const char *zones[128];
    int nz = 0;
    for (int k = 0; k < nk; k++)
        for (int i = 0; i < prof[k].n; i++) {
            const char *z = prof[k].zone[i];
            if (op_is_root(z))
                continue;
            bool seen = false;
            for (int j = 0; j < nz; j++)
                seen = seen || strcmp(zones[j], z) == 0;
            if (!seen && nz < 128)
                zones[nz++] = z;
        }
    qsort(zones, (size_t)nz, sizeof zones[0], cmp_zone);
    /* nested when its parent (recorded, else "a" of a name "a.b") is among the ops */
    bool is_child[128];
    for (int i = 0; i < nz; i++) {
        is_child[i] = false;
        char parent[96] = "";
        for (int k = 0; k < nk && !parent[0]; k++)
            snprintf(parent, sizeof parent, "%s", op_parent(&prof[k], zones[i]));
        const char *dot = strchr(zones[i], '.');
        if (!parent[0] && dot)
            snprintf(parent, sizeof parent, "%.*s", (int)(dot - zones[i]), zones[i]);
        for (int j = 0; j < nz && parent[0]; j++)
            is_child[i] = is_child[i] || strcmp(zones[j], parent) == 0;
    }
    rtable t;
    rt_init(&t, "op", RT_DAT_COLUMNHEAD);
    rt_col_add(&t, "Op", false, NULL);
    rt_col_add(&t, "What", false, NULL);
    int c_us[MAXK], c_pct[MAXK];
    for (int k = 0; k < nk; k++) {
        char h[128];
        snprintf(h, sizeof h, "%s (µs): %s (IQR, n)", kernels[k],
                 prof[k].caller_wall ? "median round" : "median");
        c_us[k] = rt_col_add(&t, h, true, kernels[k]);
        snprintf(h, sizeof h, "%s (%% of forward)", kernels[k]);
        c_pct[k] = rt_col_add(&t, h, true, NULL);
    }
    const char *root = op_root();
    bool any_original = false;
    for (int i = 0; i < nz; i++) {
        char label[160], what[RT_TEXT];
        snprintf(label, sizeof label, "%s`%s`", is_child[i] ? "↳ " : "", zones[i]);
        int row = rt_row_add(&t, label, is_child[i] ? NULL : zones[i], false);
        zone_what(zones[i], what, sizeof what);
        any_original = any_original || strstr(what, "¹") != NULL;
        rt_set(&t, row, 1, what, NAN);
        for (int k = 0; k < nk; k++) {
            figure us = op_get(&prof[k], zones[i]), fwd = op_get(&prof[k], root);
            set_fig(&t, row, c_us[k], &us, 1.0);
            rt_set(&t, row, c_pct[k],
                   fwd.n > 0 && fwd.median > 0 && us.n > 0 ? fpct(100.0 * us.median / fwd.median).s : "n/a",
                   NAN);
        }
    }
    /* the rest of the forward, outside every top-level op */
    int row = rt_row_add(&t, "(outside the ops above)", NULL, false);
    rt_set(&t, row, 1, "forward − sum of the top-level ops (medians)", NAN);
    for (int k = 0; k < nk; k++) {
        figure fwd = op_get(&prof[k], root);
        double sum = 0;
        for (int i = 0; i < nz; i++) {
            figure us = op_get(&prof[k], zones[i]);
            if (!is_child[i] && us.n > 0)
                sum += us.median;
        }
        double rest = fwd.n > 0 ? fwd.median - sum : NAN;
        rt_set(&t, row, c_us[k], fnum(rest).s, NAN);
        rt_set(&t, row, c_pct[k], fwd.n > 0 && fwd.median > 0 ? fpct(100.0 * rest / fwd.median).s : "n/a",
               NAN);
    }
    char rootlab[128];
    snprintf(rootlab, sizeof rootlab, "**`%s`**", root);
    row = rt_row_add(&t, rootlab, NULL, false);
    rt_set(&t, row, 1, "whole prefill", NAN);
    for (int k = 0; k < nk; k++) {
        figure fwd = op_get(&prof[k], root);
        char b[RT_TEXT], fb[RT_TEXT - 8];
        fmt_figure(&fwd, 1.0, fb, sizeof fb);
        snprintf(b, sizeof b, "**%s**", fb);
        rt_set(&t, row, c_us[k], b, NAN);
        rt_set(&t, row, c_pct[k], fwd.n > 0 ? "100.0" : "n/a", NAN);
    }
    emit(r, &t, g->slug, "ops", "Operation profile: us per top-level op, one prefill (medians)", NULL);
    /* the profile's forward against the cell's timed latency */
    sb_puts(r->md, "The profile's forward against the cell's timed latency (medians): ");
    for (int k = 0; k < nk; k++) {
        figure fwd = op_get(&prof[k], root), lat = rc_latency(cells[k], NULL);
        double l_us = lat.median * 1e3;
        sb_printf(r->md, "%s%s %s µs vs %s µs", k ? "; " : "", kernels[k], fnum(fwd.median).s, fnum(l_us).s);
        if (fwd.n > 0 && lat.n > 0 && l_us > 0) {
            double d = 100.0 * (fwd.median - l_us) / l_us;
            if (fabs(d) <= PROFILE_AGREE_PCT)
                sb_printf(r->md, " (%+.1f%%: within %.0f%%)", d, PROFILE_AGREE_PCT);
            else
                sb_printf(r->md, " (%+.1f%%: **⚠ flagged: more than %.0f%% apart, so this profile's split "
                                 "may not be the timed run's**)", d, PROFILE_AGREE_PCT);
        } else {
            sb_puts(r->md, " (not comparable)");
        }
    }
    sb_puts(r->md, ".\n\n");
    char refs[256], pat[512];
    file_refs(r->set, cells, nk, refs, sizeof refs);
    name_pattern(cells[0]->c->run_name, bench_family_part_position(BENCH_PREFILL, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    sb_printf(r->md, "%sSource: %s `%s`: %s; %% = op / `%s` (medians).\n\n",
              any_original ? "¹ one of the four ops of the original report's profile. " : "", refs,
              pat, prof[0].source, root);
    newest_note(r, cells, nk);
    rt_free(&t);
}

/* ---- quantization ---- */

typedef struct method_row {
    const rcell *c;
    char label[160];
    char dat_label[96];
    bool peer;
    const char *quant;      /* the cell's quant */
} method_row;

/* The rows of the quantization tables: the engine's quants at w (prefill_config), then each
 * peer of the same machine, platform and model at the same shape (its own thread count
 * preferred equal). */
static int method_rows(const rctx *r, const rgroup *g, const want *w, method_row *rows, int cap)
{
    int n = 0;
    const char *quants[MAXQ];
    int nq = rg_distinct_names(g, w, true, quants, MAXQ);
    for (int q = 0; q < nq && n < cap; q++) {
        want x = *w;
        x.quant = quants[q];
        method_row *m = &rows[n++];
        memset(m, 0, sizeof *m);
        m->c = rg_find(g, &x);
        m->quant = quants[q];
        snprintf(m->label, sizeof m->label, "%s", quants[q]);
        snprintf(m->dat_label, sizeof m->dat_label, "%s", quants[q]);
    }
    const rgroup *peers[MAX_PEERS];
    int np = rs_peer_groups(r->set, g, peers, MAX_PEERS);
    for (int p = 0; p < np; p++) {
        want pw = *w;
        pw.kernel = NULL;
        pw.quant = NULL;
        const char *pk[MAXK];
        int npk = rg_distinct_names(peers[p], &pw, false, pk, MAXK);
        for (int k = 0; k < npk; k++) {
            want kw = pw;
            kw.kernel = pk[k];
            const char *pq[MAXQ];
            int npq = rg_distinct_names(peers[p], &kw, true, pq, MAXQ);
            for (int q = 0; q < npq && n < cap; q++) {
                want qw = kw;
                qw.quant = pq[q];
                const rcell *c = rg_find(peers[p], &qw);
                if (!c) { /* not at the engine's thread count: the closest */
                    qw.threads = -1;
                    if (rg_narrow(peers[p], &qw, DIM_THREADS, w->threads, true) >= 0)
                        c = rg_find(peers[p], &qw);
                }
                if (!c)
                    continue;
                method_row *m = &rows[n++];
                memset(m, 0, sizeof *m);
                m->c = c;
                m->peer = true;
                m->quant = pq[q];
                snprintf(m->label, sizeof m->label, "%s %s, %d thread%s", peer_label(pk[k]), pq[q],
                         c->c->nm.threads, plural(c->c->nm.threads));
                snprintf(m->dat_label, sizeof m->dat_label, "%s %s", peer_label(pk[k]), pq[q]);
            }
        }
    }
    return n;
}

/* The engine's row of a quant among rows (NULL when absent). */
static const method_row *engine_row(const method_row *rows, int n, const char *quant)
{
    for (int i = 0; i < n; i++)
        if (!rows[i].peer && strcmp(rows[i].quant, quant) == 0)
            return &rows[i];
    return NULL;
}

static void table_quant(rctx *r, const rgroup *g)
{
    const rsection *sec = rg_section(r->set, g);
    want w;
    if (!prefill_config(g, sec, &w)) {
        no_results(r, "prefill (`prefill/<quant>/…` benchmarks)");
        return;
    }
    method_row rows[MAXQ + 4 * MAX_PEERS];
    int n = method_rows(r, g, &w, rows, (int)(sizeof rows / sizeof rows[0]));
    sb_printf(r->md, "Prefill, kernel %s, L = %d, batch %d, %d thread%s, model %s%s.\n\n", w.kernel,
              w.seq, w.batch, w.threads, plural(w.threads), g->model_label,
              n > 0 && rows[n - 1].peer ? "; the peers of this machine on the same model below" : "");
    const method_row *fp = engine_row(rows, n, ref_quant());
    double fp_bytes = fp ? rc_figure(fp->c, MET_WEIGHT_BYTES).median : NAN;
    figure fp_lat = fp ? rc_latency(fp->c, NULL) : figure_of(NULL, 0);

    rtable t;
    rt_init(&t, "method", RT_DAT_COMMENT);
    rt_col_add(&t, "Method", false, NULL);
    int c_size = rt_col_add(&t, "Size (MB)", true, "size_mb");
    int c_comp = rt_col_add(&t, "Compression", true, NULL);
    int c_lat = rt_col_add(&t, "Latency (ms): median (IQR, n)", true, MET_LATENCY_MS);
    char h[128];
    snprintf(h, sizeof h, "Speed-up vs %s", ref_quant());
    int c_speed = rt_col_add(&t, h, true, NULL);
    int c_ratio = rt_col_add(&t, "Engine's speed-up over it", true, NULL);
    const rcell *used[MAXQ + 4 * MAX_PEERS];
    for (int i = 0; i < n; i++) {
        const method_row *m = &rows[i];
        used[i] = m->c;
        int row = rt_row_add(&t, m->label, m->dat_label, false);
        if (m->c->c->error) {
            set_failed(&t, row, c_size, m->c);
            continue;
        }
        double bytes = rc_figure(m->c, MET_WEIGHT_BYTES).median;
        figure lat = rc_latency(m->c, NULL);
        rt_set(&t, row, c_size, fnum(bytes / MIB).s, bytes / MIB);
        rt_set(&t, row, c_comp, isfinite(fp_bytes) && bytes > 0 ? fratio(fp_bytes / bytes).s : "n/a", NAN);
        set_fig(&t, row, c_lat, &lat, 1.0);
        rt_set(&t, row, c_speed,
               fp_lat.n > 0 && lat.n > 0 && lat.median > 0 ? fratio(fp_lat.median / lat.median).s : "n/a",
               NAN);
        if (!m->peer) {
            rt_set(&t, row, c_ratio, "—", NAN);
            continue;
        }
        const method_row *e = engine_row(rows, n, m->quant);
        const char *against = m->quant;
        if (!e) {
            e = fp;
            against = ref_quant();
        }
        figure el = e ? rc_latency(e->c, NULL) : figure_of(NULL, 0);
        char b[RT_TEXT];
        if (el.n > 0 && lat.n > 0 && el.median > 0)
            snprintf(b, sizeof b, "%s (engine %s)", fratio(lat.median / el.median).s, against);
        else
            snprintf(b, sizeof b, "n/a");
        rt_set(&t, row, c_ratio, b, NAN);
    }
    emit(r, &t, g->slug, "quant", "Quantization: weight size and prefill latency (medians)", NULL);
    char refs[256], pat[512];
    file_refs(r->set, used, n, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_PREFILL, NAME_QUANT),
                 "<quant>", pat, sizeof pat);
    sb_printf(r->md,
              "Source: %s `%s`%s: size = `weight_bytes` (the stored weights; 1 MB = 2^20 bytes), "
              "compression = %s bytes / bytes, latency = `latency_ms` of each repetition (median, "
              "interquartile range, n), speed-up = %s's median / the row's median, the engine's "
              "speed-up over a peer = the peer's median / the engine's median for the same quant "
              "(same machine, platform and model).\n\n",
              refs, pat, n > 0 && rows[n - 1].peer ? " and the peers' files" : "", ref_quant(), ref_quant());
    newest_note(r, used, n);
    rt_free(&t);
}

/* The texts the text_<stat>_<name> counters of the rows name (schema.h MET_TEXT_PREFIX). */
static int text_names(const method_row *rows, int n, char names[][64], int cap)
{
    static const char *const stats[] = MET_TEXT_STATS;
    int nn = 0;
    for (int i = 0; i < n; i++) {
        const gb_cell *c = rows[i].c->c;
        const json_t *e = c->n_iter ? c->iter[0] : c->median ? c->median : c->mean;
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)e, key, v) {
            if (strncmp(key, MET_TEXT_PREFIX, strlen(MET_TEXT_PREFIX)) != 0)
                continue;
            const char *rest = key + strlen(MET_TEXT_PREFIX), *name = NULL;
            size_t best = 0;
            for (size_t s = 0; s < sizeof stats / sizeof stats[0]; s++) {
                size_t l = strlen(stats[s]);
                if (l > best && strncmp(rest, stats[s], l) == 0 && rest[l] == '_') {
                    best = l;
                    name = rest + l + 1;
                }
            }
            if (!name || !*name)
                continue;
            bool seen = false;
            for (int k = 0; k < nn; k++)
                seen = seen || strcmp(names[k], name) == 0;
            if (!seen && nn < cap) {
                int k = nn++;
                snprintf(names[k], 64, "%s", name);
                while (k > 0 && strcmp(names[k - 1], names[k]) > 0) {
                    char tmp[64];
                    memcpy(tmp, names[k - 1], 64);
                    memcpy(names[k - 1], names[k], 64);
                    memcpy(names[k], tmp, 64);
                    k--;
                }
            }
        }
    }
    return nn;
}

static bool rows_have(const method_row *rows, int n, const char *metric)
{
    for (int i = 0; i < n; i++)
        if (rc_figure(rows[i].c, metric).n > 0)
            return true;
    return false;
}

static void table_accuracy(rctx *r, const rgroup *g)
{
    const rsection *sec = rg_section(r->set, g);
    want w;
    if (!prefill_config(g, sec, &w)) {
        no_results(r, "quantization accuracy (`prefill/<quant>/…` benchmarks)");
        return;
    }
    method_row rows[MAXQ + 4 * MAX_PEERS];
    int n = method_rows(r, g, &w, rows, (int)(sizeof rows / sizeof rows[0]));
    char texts[MAX_TEXTS][64];
    int nt = text_names(rows, n, texts, MAX_TEXTS);
    const method_row *fp = engine_row(rows, n, ref_quant());
    double fp_bytes = fp ? rc_figure(fp->c, MET_WEIGHT_BYTES).median : NAN;
    sb_printf(r->md,
              "Each quant against %s of the same model (%s), measured once per quant outside the "
              "timed loop: on the harness's fixed accuracy input (`itera_accuracy_input`)%s. Only "
              "the model these were measured on is shown here.\n\n",
              ref_quant(), g->model_label,
              nt ? " and on the model folder's texts in consecutive windows (`itera_accuracy_texts`)"
                 : "");
    rtable t;
    rt_init(&t, "method", RT_DAT_COMMENT);
    rt_col_add(&t, "Method", false, NULL);
    int c_comp = rt_col_add(&t, "Compression", true, "compression");
    int c_top1 = -1, c_err = -1, c_kld = -1, c_dppl = -1;
    if (rows_have(rows, n, MET_TOP1_AGREEMENT))
        c_top1 = rt_col_add(&t, "top-1 agreement", true, "top1");
    if (rows_have(rows, n, MET_KLD_MEAN))
        c_kld = rt_col_add(&t, "mean KLD (nats)", true, "kld");
    if (rows_have(rows, n, MET_DELTA_PPL))
        c_dppl = rt_col_add(&t, "Δppl (accuracy input)", true, NULL);
    if (rows_have(rows, n, MET_MAX_ABS_LOGIT_ERR))
        c_err = rt_col_add(&t, "max abs logit error", true, NULL);
    int c_ppl[MAX_TEXTS], c_tdppl[MAX_TEXTS], c_tkld[MAX_TEXTS], c_ttop1[MAX_TEXTS];
    for (int i = 0; i < nt; i++) {
        char h[600], d[600]; /* room for any text name: no truncation warning at -O1 */
        snprintf(h, sizeof h, "ppl %s", texts[i]);
        c_ppl[i] = rt_col_add(&t, h, true, NULL);
        snprintf(h, sizeof h, "Δppl %s (± se)", texts[i]);
        c_tdppl[i] = rt_col_add(&t, h, true, NULL);
        snprintf(h, sizeof h, "KLD %s", texts[i]);
        snprintf(d, sizeof d, "kld_%s", texts[i]);
        c_tkld[i] = rt_col_add(&t, h, true, d);
        snprintf(h, sizeof h, "top-1 %s", texts[i]);
        c_ttop1[i] = rt_col_add(&t, h, true, NULL);
    }
    const rcell *used[MAXQ + 4 * MAX_PEERS];
    for (int i = 0; i < n; i++) {
        const method_row *m = &rows[i];
        used[i] = m->c;
        /* the chart is the engine's quants: a peer's rows are in the table only */
        int row = rt_row_add(&t, m->label, m->peer ? NULL : m->dat_label, false);
        if (m->c->c->error) {
            set_failed(&t, row, c_comp, m->c);
            continue;
        }
        double bytes = rc_figure(m->c, MET_WEIGHT_BYTES).median;
        double comp = isfinite(fp_bytes) && bytes > 0 ? fp_bytes / bytes : NAN;
        rt_set(&t, row, c_comp, fratio(comp).s, comp);
        double v;
        if (c_top1 >= 0) {
            v = rc_figure(m->c, MET_TOP1_AGREEMENT).median;
            rt_set(&t, row, c_top1, fnum(v).s, v);
        }
        if (c_kld >= 0) {
            v = rc_figure(m->c, MET_KLD_MEAN).median;
            rt_set(&t, row, c_kld, fsci(v).s, v);
        }
        if (c_dppl >= 0)
            rt_set(&t, row, c_dppl, fnum(rc_figure(m->c, MET_DELTA_PPL).median).s, NAN);
        if (c_err >= 0)
            rt_set(&t, row, c_err, fsci(rc_figure(m->c, MET_MAX_ABS_LOGIT_ERR).median).s, NAN);
        for (int k = 0; k < nt; k++) {
            char key[128], b[RT_TEXT];
            snprintf(key, sizeof key, "%sppl_%s", MET_TEXT_PREFIX, texts[k]);
            rt_set(&t, row, c_ppl[k], fnum(rc_figure(m->c, key).median).s, NAN);
            snprintf(key, sizeof key, "%sdppl_%s", MET_TEXT_PREFIX, texts[k]);
            double dp = rc_figure(m->c, key).median;
            snprintf(key, sizeof key, "%sdpplse_%s", MET_TEXT_PREFIX, texts[k]);
            double se = rc_figure(m->c, key).median;
            if (isfinite(se))
                snprintf(b, sizeof b, "%s ± %s", fnum(dp).s, fnum_as(se, dp).s);
            else
                snprintf(b, sizeof b, "%s", fnum(dp).s);
            rt_set(&t, row, c_tdppl[k], b, NAN);
            snprintf(key, sizeof key, "%skld_%s", MET_TEXT_PREFIX, texts[k]);
            v = rc_figure(m->c, key).median;
            rt_set(&t, row, c_tkld[k], fsci(v).s, v);
            snprintf(key, sizeof key, "%stop1_%s", MET_TEXT_PREFIX, texts[k]);
            rt_set(&t, row, c_ttop1[k], fnum(rc_figure(m->c, key).median).s, NAN);
        }
    }
    /* the chart: top-1 and mean KLD (the first text's, else the accuracy input's) against
     * compression, the engine's quants */
    char extra[256];
    int kcol = nt > 0 ? rt_dat_index(&t, c_tkld[0]) : rt_dat_index(&t, c_kld);
    char what[64];
    snprintf(what, sizeof what, "%s", nt > 0 ? texts[0] : "the accuracy input");
    for (char *q = what; *q; q++) /* a result file's text: nothing gnuplot could read as code */
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '_' || *q == '-' || *q == '.'))
            *q = ' ';
    snprintf(extra, sizeof extra, "top1col=%d; kldcol=%d; kldwhat='%s';", rt_dat_index(&t, c_top1),
             kcol, what);
    emit(r, &t, g->slug, "quantacc", "Quantization: accuracy against compression", extra);
    char refs[256], pat[512];
    file_refs(r->set, used, n, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_PREFILL, NAME_QUANT),
                 "<quant>", pat, sizeof pat);
    sb_printf(r->md,
              "Source: %s `%s`: compression = %s `weight_bytes` / the row's; on the accuracy input: "
              "`top1_agreement` (a fraction: 1 = every position's argmax agrees with %s)%s%s, "
              "`max_abs_logit_err`%s. %s\n\n",
              refs, pat, ref_quant(), ref_quant(),
              c_kld >= 0 ? ", `kld_mean` (mean KL(fp32 ‖ quant) of the next-token distributions, nats)" : "",
              c_dppl >= 0 ? ", `delta_ppl` (perplexity − FP32's on random tokens: a shift, not a quality)" : "",
              nt ? "; on each text: `text_ppl_<text>`, `text_dppl_<text>` ± `text_dpplse_<text>`, "
                   "`text_kld_<text>`, `text_top1_<text>`" : "",
              c_kld < 0 && nt == 0 ? "Mean KLD and perplexity per text appear here once the files "
                                     "carry them (the `kld_mean` and `text_*` counters)." : "");
    newest_note(r, used, n);
    rt_free(&t);
}

/* ---- decode ---- */

static void table_decode(rctx *r, const rgroup *g)
{
    want w = WANT(BENCH_DECODE);
    if (rg_narrow(g, &w, DIM_BATCH, 1, false) < 0) {
        no_results(r, "decode (`decode/<quant>/…` benchmarks)");
        return;
    }
    rg_narrow(g, &w, DIM_STEPS, INT_MAX, true);
    w.kernel = rg_pick_kernel(g, &w);
    const char *quants[MAXQ];
    int nq = rg_distinct_names(g, &w, true, quants, MAXQ);
    int th[32];
    int nt = rg_distinct_dim(g, &w, DIM_THREADS, th, 32);
    sb_printf(r->md, "Tokens per second, %d decode steps from an empty state, batch %d, kernel %s, "
                     "model %s.\n\n",
              w.steps, w.batch, w.kernel, g->model_label);
    rtable t;
    rt_init(&t, "threads", RT_DAT_COLUMNHEAD);
    rt_col_add(&t, "Threads", true, NULL);
    int col[MAXQ];
    for (int q = 0; q < nq; q++) {
        char h[128];
        snprintf(h, sizeof h, "%s (tok/s): median (IQR, n)", quants[q]);
        col[q] = rt_col_add(&t, h, true, quants[q]);
    }
    const rcell *used[32 * MAXQ];
    int nu = 0;
    for (int i = 0; i < nt; i++) {
        char x[32];
        snprintf(x, sizeof x, "%d", th[i]);
        int row = rt_row_add(&t, x, x, true);
        for (int q = 0; q < nq; q++) {
            want x2 = w;
            x2.quant = quants[q];
            x2.threads = th[i];
            const rcell *c = rg_find(g, &x2);
            if (!c) {
                rt_set(&t, row, col[q], "—", NAN);
                continue;
            }
            used[nu++] = c;
            if (c->c->error) {
                rt_set(&t, row, col[q], "failed", NAN);
                continue;
            }
            figure f = rc_figure(c, MET_TOKENS_PER_SECOND);
            set_fig(&t, row, col[q], &f, 1.0);
        }
    }
    emit(r, &t, g->slug, "decode", "Decode: tokens/s against threads (medians)", NULL);
    char refs[256], pat[512], pat2[512];
    file_refs(r->set, used, nu, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_DECODE, NAME_QUANT),
                 "<quant>", pat, sizeof pat);
    key_pattern(pat, name_part_key(NAME_THREADS), "T", pat2, sizeof pat2);
    sb_printf(r->md, "Source: %s `%s`: `tokens_per_second` of each repetition (median, interquartile "
                     "range, n); — where that run is absent.\n\n",
              refs, pat2);
    newest_note(r, used, nu);
    rt_free(&t);
}

/* ---- thread scaling ---- */

static void table_threads(rctx *r, const rgroup *g)
{
    const rsection *sec = rg_section(r->set, g);
    want w;
    if (!prefill_config(g, sec, &w)) {
        sb_printf(r->md, "No results for thread scaling (no prefill benchmarks).\n\n");
        return;
    }
    w.quant = ref_quant();
    w.threads = -1;
    w.kernel = NULL;
    if (!rg_find(g, &w))
        w.quant = NULL;
    if (!w.quant) {
        const char *qs[MAXQ];
        rg_distinct_names(g, &w, true, qs, MAXQ);
        w.quant = qs[0];
    }
    int th[32];
    int nt = rg_distinct_dim(g, &w, DIM_THREADS, th, 32);
    if (nt < 2) {
        sb_printf(r->md, "No results for thread scaling: every prefill (%s, L = %d, batch %d) ran "
                         "with %d thread%s.\n\n",
                  w.quant, w.seq, w.batch, th[0], plural(th[0]));
        return;
    }
    sb_printf(r->md, "Prefill, %s, L = %d, batch %d, model %s:\n\n", w.quant, w.seq, w.batch,
              g->model_label);
    table_sweep(r, g, &w, DIM_THREADS, "threads", name_part_key(NAME_THREADS), "threads",
                "Prefill: tokens/s against threads (medians)");
}

/* ---- edge platforms (across groups) ---- */

typedef struct edge_row {
    const rgroup *g;       /* the engine's group, or the peer's */
    const rcell *c;
    const rcell *engine;   /* for a peer row: the engine's row beside it */
    bool peer;
    const char *kernel;
    int block;             /* the engine row and its peers share one, in platform order */
} edge_row;

/* Rows by platform (desktop, laptop, embedded, ...; real before emulated), then machine
 * and run; a peer row stays right after its engine row. */
static const rset *g_edge_set;
static int cmp_edge(const void *a, const void *b)
{
    const edge_row *x = a, *y = b;
    const rsection *sx = rg_section(g_edge_set, x->g), *sy = rg_section(g_edge_set, y->g);
    int rx = platform_rank(sx->platform), ry = platform_rank(sy->platform);
    if (rx != ry)
        return rx - ry;
    int c = strcmp(sx->platform, sy->platform);
    if (c)
        return c;
    if (sx->emulated != sy->emulated)
        return (int)sx->emulated - (int)sy->emulated;
    return x->block - y->block; /* machine, then run: the order they were collected in */
}

/* Whether a file predates the spin-wait accounting (cpu_util counted spin as work). */
static bool old_cpu_util(const rset *s, int file)
{
    char b[64];
    return gb_ctx(&s->files[file].gb, CTX_CPU_UTIL_BASIS, b, sizeof b) == NULL;
}

void table_edge(rctx *r, const int *machines, int n_machines, const char *folder, bool with_missing)
{
    const rset *s = r->set;
    edge_row rows[256];
    int n = 0;
    bool present[N_STD_PLATFORMS] = {false};
    for (int mi = 0; mi < n_machines; mi++) {
        const rmachine *m = &s->machines[machines[mi]];
        for (int si = 0; si < m->n_secs; si++) {
            const rsection *sec = &m->secs[si];
            for (int gi = 0; gi < sec->n_groups && n < 250; gi++) {
                const rgroup *g = &sec->groups[gi];
                want w;
                if (!prefill_config(g, sec, &w))
                    continue;
                want x = w;
                x.quant = ref_quant();
                const rcell *c = rg_find(g, &x);
                if (!c) {
                    const char *qs[MAXQ];
                    rg_distinct_names(g, &w, true, qs, MAXQ);
                    x.quant = qs[0];
                    c = rg_find(g, &x);
                }
                if (!c)
                    continue;
                int pr = platform_rank(sec->platform);
                if (pr < N_STD_PLATFORMS)
                    present[pr] = true;
                int block = n;
                rows[n++] = (edge_row){.g = g, .c = c, .kernel = x.kernel, .block = block};
                const rcell *engine = c;
                const rgroup *peers[MAX_PEERS];
                int np = rs_peer_groups(s, g, peers, MAX_PEERS);
                for (int p = 0; p < np && n < 254; p++) {
                    want pw = x;
                    pw.kernel = NULL;
                    const char *pk[MAXK];
                    int npk = rg_distinct_names(peers[p], &pw, false, pk, MAXK);
                    for (int k = 0; k < npk && n < 254; k++) {
                        want kw = pw;
                        kw.kernel = pk[k];
                        const rcell *pc = rg_find(peers[p], &kw);
                        if (!pc) {
                            kw.threads = -1;
                            if (rg_narrow(peers[p], &kw, DIM_THREADS, x.threads, true) >= 0)
                                pc = rg_find(peers[p], &kw);
                        }
                        if (pc)
                            rows[n++] = (edge_row){.g = peers[p], .c = pc, .engine = engine,
                                                   .peer = true, .kernel = pk[k], .block = block};
                    }
                }
            }
        }
    }
    if (n == 0) {
        no_results(r, "any platform (no `prefill/…` benchmarks in these files)");
        return;
    }
    /* blocks by platform; within a block the engine row first (then its peers, in order) */
    for (int i = 0; i < n; i++)
        rows[i].block = rows[i].block * 256 + (i - rows[i].block);
    g_edge_set = s;
    qsort(rows, (size_t)n, sizeof *rows, cmp_edge);
    /* a comparison across machines, models or builds says so */
    int n_mach = 0, n_model = 0, n_build = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].peer)
            continue;
        bool m_seen = false, mo_seen = false, b_seen = false;
        for (int j = 0; j < i; j++) {
            if (rows[j].peer)
                continue;
            m_seen = m_seen || rows[j].g->machine == rows[i].g->machine;
            mo_seen = mo_seen || strcmp(rows[j].g->model_label, rows[i].g->model_label) == 0;
            b_seen = b_seen || strcmp(rows[j].g->build, rows[i].g->build) == 0;
        }
        n_mach += !m_seen;
        n_model += !mo_seen;
        n_build += !b_seen;
    }
    if (n_mach > 1 || n_model > 1 || n_build > 1)
        sb_printf(r->md,
                  "**⚠ Mixed table: these rows come from %d machine%s, %d model%s and %d build%s** "
                  "(each row names its own): a difference between two rows may be the machine, the "
                  "model or the build, not only the platform.\n\n",
                  n_mach, plural(n_mach), n_model, plural(n_model), n_build, plural(n_build));
    /* the kernels by report_rank: "parallel, the engine's default at this shape; else ..." */
    char pref[256];
    size_t pu = 0;
    int ranked = 0;
    for (int rank = 0; rank < 64 && pu < sizeof pref; rank++)
        for (int k = 0; k < ITERA_KERNEL_COUNT && pu < sizeof pref; k++) {
            const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
            if (ki->report_rank != rank)
                continue;
            pu += (size_t)snprintf(pref + pu, sizeof pref - pu, "%s%s%s",
                                   ranked == 1 ? "; else " : ranked ? ", " : "", ki->name,
                                   ranked == 0 ? ", the engine's default at this shape" : "");
            ranked++;
        }
    sb_printf(r->md,
              "One prefill per platform and run: %s (else the first quant), the preferred kernel "
              "(%s), L closest to %d, the smallest batch, the platform's own thread count; beside "
              "it the peers of the same machine, platform and model. Emulated rows ran the "
              "platform's threads on fewer cores than it has: they do not measure that "
              "machine.\n\n",
              ref_quant(), pref, PREFILL_SEQ);
    rtable t;
    rt_init(&t, "platform", RT_DAT_COMMENT);
    rt_col_add(&t, "Platform", false, NULL);
    rt_col_add(&t, "Machine", false, NULL);
    rt_col_add(&t, "Model", false, NULL);
    rt_col_add(&t, "Build", false, NULL);
    int c_cores = rt_col_add(&t, "Threads", true, NULL);
    int c_lat = rt_col_add(&t, "Latency (ms): median (IQR, n)", true, NULL);
    int c_tps = rt_col_add(&t, "Throughput (tok/s): median (IQR, n)", true, MET_TOKENS_PER_SECOND);
    int c_dlat = rt_col_add_hidden(&t, MET_LATENCY_MS);
    int c_util = rt_col_add(&t, "CPU busy (%)", true, NULL);
    int c_spin = rt_col_add(&t, "CPU spin (%)", true, NULL);
    int c_rss = rt_col_add(&t, "Peak memory (MB)", true, NULL);
    int c_ratio = rt_col_add(&t, "Engine's speed-up over it", true, NULL);
    int c_src = rt_col_add(&t, "Source", false, NULL);
    bool any_old = false, any_peer = false;
    for (int i = 0; i < n; i++) {
        const edge_row *e = &rows[i];
        const rsection *sec = rg_section(s, e->g);
        const rmachine *m = rg_machine(s, e->g);
        char label[RT_TEXT], dl[128], b[RT_TEXT];
        const bench_name *nm = &e->c->c->nm;
        if (e->peer) {
            snprintf(label, sizeof label, "%s%s — %s (%s, L = %d, batch %d)", sec->platform,
                     sec->emulated ? " **(emulated)**" : "", peer_label(e->kernel), nm->quant, nm->seq,
                     nm->batch);
            snprintf(dl, sizeof dl, "%s%s %s", sec->platform, sec->emulated ? " (emulated)" : "",
                     peer_label(e->kernel));
        } else {
            snprintf(label, sizeof label, "%s%s (%s, %s, L = %d, batch %d)", sec->platform,
                     sec->emulated ? " **(emulated)**" : "", nm->quant, e->kernel, nm->seq, nm->batch);
            snprintf(dl, sizeof dl, "%s%s", sec->platform, sec->emulated ? " (emulated)" : "");
        }
        int row = rt_row_add(&t, label, dl, false);
        rt_set(&t, row, 1, m->name, NAN);
        rt_set(&t, row, 2, e->g->model_label, NAN);
        rt_set(&t, row, 3, e->g->build_label, NAN);
        snprintf(b, sizeof b, "%d", nm->threads);
        rt_set(&t, row, c_cores, b, NAN);
        snprintf(b, sizeof b, "[%d]", s->files[e->c->file].num);
        rt_set(&t, row, c_src, b, NAN);
        if (e->c->c->error) {
            set_failed(&t, row, c_lat, e->c);
            continue;
        }
        figure lat = rc_latency(e->c, NULL), tps = rc_figure(e->c, MET_TOKENS_PER_SECOND);
        set_fig(&t, row, c_lat, &lat, 1.0);
        set_fig(&t, row, c_tps, &tps, 1.0);
        rt_set(&t, row, c_dlat, "", lat.n > 0 ? lat.median : NAN);
        bool old = !e->peer && old_cpu_util(s, e->c->file);
        any_old = any_old || old;
        any_peer = any_peer || e->peer;
        figure util = rc_figure(e->c, MET_CPU_UTIL), spin = rc_figure(e->c, MET_CPU_SPIN);
        snprintf(b, sizeof b, "%s%s", fpct(100.0 * util.median).s,
                 util.n > 0 ? e->peer ? " ³" : old ? " ²" : "" : "");
        rt_set(&t, row, c_util, b, NAN);
        rt_set(&t, row, c_spin, fpct(100.0 * spin.median).s, NAN);
        rt_set(&t, row, c_rss, fnum(rc_max(e->c, MET_PEAK_RSS_MB)).s, NAN);
        if (e->peer && e->engine && !e->engine->c->error) {
            figure el = rc_latency(e->engine, NULL);
            rt_set(&t, row, c_ratio,
                   el.n > 0 && lat.n > 0 && el.median > 0 ? fratio(lat.median / el.median).s : "n/a", NAN);
        } else {
            rt_set(&t, row, c_ratio, "—", NAN);
        }
    }
    emit(r, &t, folder, "edge", "Edge platforms: prefill tokens/s (medians)", NULL);
    sb_printf(r->md,
              "Source: the file named in each row: threads = `threads:` of the benchmark name, "
              "latency = `latency_ms` and throughput = `tokens_per_second` of each repetition "
              "(median, interquartile range, n), CPU busy = 100 × `cpu_util` (the share of the "
              "run's cores busy working, spin-waiting left out: `itera_cpu_util_basis`), CPU spin "
              "= 100 × `cpu_spin` (the worker pool's spin-waiting), peak memory = `peak_rss_mb` "
              "(largest over the repetitions), the engine's speed-up over a peer = the peer's "
              "median latency / the engine row's above it.%s%s\n\n",
              any_old ? " ² a file from before the spin-wait accounting: process CPU time / (wall × "
                        "threads), spin-waiting counted as work and divided by threads, not cores."
                      : "",
              any_peer ? " ³ a peer's own measure: its process CPU time / (wall × its threads), its "
                         "runtime's spin-waiting included." : "");
    const rcell *used[256];
    for (int i = 0; i < n; i++)
        used[i] = rows[i].c;
    newest_note(r, used, n);
    if (with_missing)
        for (int p = 0; p < N_STD_PLATFORMS; p++)
            if (!present[p])
                sb_printf(r->md, "No results for %s: no result file for platform `%s` was given.\n\n",
                          std_platform(p), std_platform(p));
    rt_free(&t);
}

/* ---- the registry ---- */

static const rtable_def group_tables[] = {
    {"kernels", "Kernel comparison", table_kernels},
    {"seqlen", "Sequence length", table_seqlen},
    {"ops", "Operation profile", table_ops},
    {"quant", "Quantization", table_quant},
    {"quantacc", "Quantization accuracy", table_accuracy},
    {"decode", "Decode", table_decode},
    {"threads", "Thread scaling", table_threads},
};

int report_group_tables(const rtable_def **out)
{
    *out = group_tables;
    return (int)(sizeof group_tables / sizeof group_tables[0]);
}

int report_chart_templates(const char *const **out)
{
    static const char *const names[] = {"common", "kernels", "seqlen", "ops", "quant", "quantacc",
                                        "decode", "threads", "edge"};
    *out = names;
    return (int)(sizeof names / sizeof names[0]);
}
