/*
 * rgroup.c: result files -> machines -> platform sections -> run groups, and the queries
 * over a group (see rgroup.h).
 */
#include "rgroup.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itera.h"
#include "sha256.h"

#define MAX_REPS 4096

/* ---- small helpers ---- */

static int push_int(int **v, int *n, int x)
{
    int *nv = realloc(*v, (size_t)(*n + 1) * sizeof **v);
    if (!nv)
        return -1;
    nv[(*n)++] = x;
    *v = nv;
    return 0;
}

static const char *ctx_str(const gb_file *f, const char *key, char *buf, size_t n)
{
    return gb_ctx(f, key, buf, n);
}

static bool ctx_true(const gb_file *f, const char *key)
{
    char b[64];
    const char *v = ctx_str(f, key, b, sizeof b);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

static int ctx_int(const gb_file *f, const char *key)
{
    char b[64];
    const char *v = ctx_str(f, key, b, sizeof b);
    if (!v)
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return (end != v && x > 0 && x < INT_MAX) ? (int)x : -1;
}

/* "2026-11-26T07:29:17+00:00" (or Z, or no zone: UTC) -> seconds since the epoch. */
static double parse_date(const char *s)
{
    if (!s)
        return -INFINITY;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int consumed = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -INFINITY;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double t = (double)timegm(&tm);
    const char *z = s + consumed;
    while (*z == '.' || (*z >= '0' && *z <= '9'))
        z++; /* fractions of a second */
    int hh = 0, mm = 0;
    if ((*z == '+' || *z == '-') && sscanf(z + 1, "%2d:%2d", &hh, &mm) >= 1)
        t -= (*z == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
    return t;
}

int platform_rank(const char *p)
{
    static const char *const order[] = {"desktop", "laptop", "embedded", "host"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(p, order[i]) == 0)
            return i;
    return 100;
}

const char *std_platform(int i)
{
    static const char *const std[N_STD_PLATFORMS] = {"desktop", "laptop", "embedded"};
    return i >= 0 && i < N_STD_PLATFORMS ? std[i] : "";
}

static void slugify(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (const char *p = in; *p && j + 1 < n; p++)
        out[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                              ? *p
                              : '_');
    if (n)
        out[j] = '\0';
}

/* "git X, <compiler up to its first ';'>" */
static void short_build(const gb_file *f, char *out, size_t n)
{
    char b1[512], b2[1024];
    const char *git = ctx_str(f, CTX_GIT, b1, sizeof b1);
    const char *cc = ctx_str(f, CTX_COMPILER, b2, sizeof b2);
    if (!git && !cc) {
        snprintf(out, n, "build not recorded");
        return;
    }
    int cl = cc ? (int)strcspn(cc, ";") : 0;
    snprintf(out, n, "git %.100s, %.*s", git ? git : "not recorded", cl > 80 ? 80 : cl,
             cc ? cc : "");
    if (!cc)
        snprintf(out, n, "git %.100s", git);
}

/* ---- loading and grouping ---- */

static const char *rcell_canon(const void *user, int i)
{
    return ((const rcell *)user)[i].c->canon;
}

static void group_free(rgroup *g)
{
    free(g->files);
    free(g->cells);
    name_index_free(&g->by_canon);
}

static void section_free(rsection *s)
{
    for (int i = 0; i < s->n_groups; i++)
        group_free(&s->groups[i]);
    for (int i = 0; i < s->n_peers; i++)
        group_free(&s->peers[i]);
    free(s->groups);
    free(s->peers);
}

void rset_free(rset *s)
{
    for (int m = 0; m < s->n_machines; m++) {
        for (int i = 0; i < s->machines[m].n_secs; i++)
            section_free(&s->machines[m].secs[i]);
        free(s->machines[m].secs);
        free(s->machines[m].files);
    }
    free(s->machines);
    for (int i = 0; i < s->n_files; i++)
        gb_file_free(&s->files[i].gb);
    free(s->files);
    memset(s, 0, sizeof *s);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The group of f in the section (made when new). */
static rgroup *group_of(rsection *sec, const rfile *f, int machine, int section)
{
    rgroup **arr = f->peer ? &sec->peers : &sec->groups;
    int *n = f->peer ? &sec->n_peers : &sec->n_groups;
    const char *key = f->id.model_key[0] ? f->id.model_key : f->id.model_label;
    for (int i = 0; i < *n; i++) {
        rgroup *g = &(*arr)[i];
        const char *gk = g->model_key[0] ? g->model_key : g->model_label;
        if (strcmp(gk, key) == 0 && strcmp(g->build, f->id.build) == 0)
            return g;
    }
    rgroup *ng = realloc(*arr, (size_t)(*n + 1) * sizeof *ng);
    if (!ng)
        return NULL;
    *arr = ng;
    rgroup *g = &ng[(*n)++];
    memset(g, 0, sizeof *g);
    g->machine = machine;
    g->section = section;
    g->peer = f->peer;
    snprintf(g->model_key, sizeof g->model_key, "%s", f->id.model_key);
    snprintf(g->model_label, sizeof g->model_label, "%s", f->id.model_label);
    snprintf(g->build, sizeof g->build, "%s", f->id.build);
    short_build(&f->gb, g->build_label, sizeof g->build_label);
    return g;
}

/* Files oldest first (unknown dates oldest), then by path: the later one replaces. */
static const rset *g_sort_set;
static int cmp_file_age(const void *a, const void *b)
{
    const rfile *x = &g_sort_set->files[*(const int *)a], *y = &g_sort_set->files[*(const int *)b];
    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    return x->num - y->num;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The cells of g's files, the newest file's taking a name several hold. */
static int fill_cells(rset *s, rgroup *g)
{
    int *order = malloc((size_t)g->n_files * sizeof *order);
    if (!order)
        return -1;
    memcpy(order, g->files, (size_t)g->n_files * sizeof *order);
    g_sort_set = s;
    qsort(order, (size_t)g->n_files, sizeof *order, cmp_file_age);
    for (int k = 0; k < g->n_files; k++) {
        int fi = order[k];
        const gb_file *f = &s->files[fi].gb;
        for (int ci = 0; ci < f->n_cells; ci++) {
            const gb_cell *c = &f->cells[ci];
            if (gb_file_cell_canon(f, c->canon) != c)
                continue; /* a repeat of a name within one file: its first cell counts */
            int at = name_index_find(&g->by_canon, c->canon, rcell_canon, g->cells);
            if (at >= 0) {
                rcell *rc = &g->cells[at];
                if (rc->n_older == 0)
                    g->n_overlap++;
                if (rc->n_older < RCELL_MAX_OLDER)
                    rc->older[rc->n_older] = rc->file;
                rc->n_older++;
                rc->c = c;
                rc->file = fi;
                continue;
            }
            if (g->n_cells == g->cells_cap) {
                int cap = g->cells_cap ? 2 * g->cells_cap : 64;
                rcell *nc = realloc(g->cells, (size_t)cap * sizeof *nc);
                if (!nc) {
                    free(order);
                    return -1;
                }
                g->cells = nc;
                g->cells_cap = cap;
            }
            g->cells[g->n_cells] = (rcell){.c = c, .file = fi};
            g->n_cells++;
            if (name_index_add(&g->by_canon, g->n_cells - 1, rcell_canon, g->cells) != 0) {
                free(order);
                return -1;
            }
        }
    }
    free(order);
    return 0;
}

static int cmp_section(const void *a, const void *b)
{
    const rsection *x = a, *y = b;
    int rx = platform_rank(x->platform), ry = platform_rank(y->platform);
    if (rx != ry)
        return rx - ry;
    int c = strcmp(x->platform, y->platform);
    if (c)
        return c;
    return (int)x->emulated - (int)y->emulated;
}

static int cmp_group(const void *a, const void *b)
{
    const rgroup *x = a, *y = b;
    int c = strcmp(x->model_label, y->model_label);
    return c ? c : strcmp(x->build, y->build);
}

static int cmp_machine(const void *a, const void *b)
{
    const rmachine *x = a, *y = b;
    if (x->fingerprint != y->fingerprint)
        return x->fingerprint ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    c = strcmp(x->m.id, y->m.id);
    return c ? c : x->files[0] - y->files[0];
}

/* An 8-hex tag of text. */
static void tag8(const char *text, char out[9])
{
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(text, strlen(text), hex);
    memcpy(out, hex, 8);
    out[8] = '\0';
}

static int build_machines(rset *s)
{
    for (int fi = 0; fi < s->n_files; fi++) {
        rfile *f = &s->files[fi];
        int mi = -1;
        if (f->id.fingerprint)
            for (int m = 0; m < s->n_machines && mi < 0; m++)
                if (s->machines[m].fingerprint && machine_same(&s->machines[m].m, &f->id.m, NULL, 0))
                    mi = m;
        if (mi < 0) {
            rmachine *nm = realloc(s->machines, (size_t)(s->n_machines + 1) * sizeof *nm);
            if (!nm)
                return -1;
            s->machines = nm;
            mi = s->n_machines++;
            rmachine *m = &nm[mi];
            memset(m, 0, sizeof *m);
            m->fingerprint = f->id.fingerprint;
            if (m->fingerprint) {
                m->m = f->id.m;
                snprintf(m->name, sizeof m->name, "%s", f->id.machine[0] ? f->id.machine : "unnamed");
            } else {
                snprintf(m->name, sizeof m->name, "machine-not-recorded");
            }
        }
        if (push_int(&s->machines[mi].files, &s->machines[mi].n_files, fi) != 0)
            return -1;
    }
    qsort(s->machines, (size_t)s->n_machines, sizeof *s->machines, cmp_machine);
    for (int m = 0; m < s->n_machines; m++) {
        rmachine *mc = &s->machines[m];
        for (int k = 0; k < mc->n_files; k++)
            s->files[mc->files[k]].machine = m;
        /* the folder: the name, unless another machine of the set has it too */
        bool clash = !mc->fingerprint;
        for (int o = 0; o < s->n_machines && !clash; o++)
            clash = o != m && strcmp(s->machines[o].name, mc->name) == 0;
        char base[MACHINE_NAME_MAX + 1];
        slugify(mc->name, base, sizeof base);
        if (!clash)
            snprintf(mc->slug, sizeof mc->slug, "%s", base);
        else if (mc->fingerprint)
            snprintf(mc->slug, sizeof mc->slug, "%s-%.8s", base, mc->m.id);
        else
            snprintf(mc->slug, sizeof mc->slug, "%s-%d", base, s->files[mc->files[0]].num);
        if (!mc->fingerprint) /* "machine-not-recorded-3": named by its one file */
            snprintf(mc->name, sizeof mc->name, "%.*s", (int)sizeof mc->name - 1, mc->slug);
    }
    return 0;
}

static int build_sections(rset *s, int m)
{
    rmachine *mc = &s->machines[m];
    for (int k = 0; k < mc->n_files; k++) {
        const rfile *f = &s->files[mc->files[k]];
        rsection *sec = NULL;
        for (int i = 0; i < mc->n_secs && !sec; i++)
            if (strcmp(mc->secs[i].platform, f->platform) == 0 && mc->secs[i].emulated == f->emulated)
                sec = &mc->secs[i];
        if (!sec) {
            rsection *ns = realloc(mc->secs, (size_t)(mc->n_secs + 1) * sizeof *ns);
            if (!ns)
                return -1;
            mc->secs = ns;
            sec = &ns[mc->n_secs++];
            memset(sec, 0, sizeof *sec);
            sec->machine = m;
            sec->threads = -1;
            snprintf(sec->platform, sizeof sec->platform, "%s", f->platform);
            sec->emulated = f->emulated;
        }
        if (sec->threads < 0 && !f->peer)
            sec->threads = f->threads;
    }
    qsort(mc->secs, (size_t)mc->n_secs, sizeof *mc->secs, cmp_section);
    for (int i = 0; i < mc->n_secs; i++) {
        rsection *sec = &mc->secs[i];
        char b[64];
        slugify(sec->platform, b, sizeof b);
        snprintf(sec->slug, sizeof sec->slug, "%s%s", b, sec->emulated ? "-emulated" : "");
        if (sec->threads < 0)
            for (int k = 0; k < mc->n_files && sec->threads < 0; k++) {
                const rfile *f = &s->files[mc->files[k]];
                if (strcmp(f->platform, sec->platform) == 0 && f->emulated == sec->emulated)
                    sec->threads = f->threads;
            }
        for (int k = 0; k < mc->n_files; k++) {
            int fi = mc->files[k];
            const rfile *f = &s->files[fi];
            if (strcmp(f->platform, sec->platform) != 0 || f->emulated != sec->emulated)
                continue;
            rgroup *g = group_of(sec, f, m, i);
            if (!g || push_int(&g->files, &g->n_files, fi) != 0)
                return -1;
        }
        if (sec->n_groups > 1)
            qsort(sec->groups, (size_t)sec->n_groups, sizeof *sec->groups, cmp_group);
        if (sec->n_peers > 1)
            qsort(sec->peers, (size_t)sec->n_peers, sizeof *sec->peers, cmp_group);
        for (int pass = 0; pass < 2; pass++) {
            rgroup *arr = pass ? sec->peers : sec->groups;
            int n = pass ? sec->n_peers : sec->n_groups;
            for (int gi = 0; gi < n; gi++) {
                rgroup *g = &arr[gi];
                g->section = i;
                qsort(g->files, (size_t)g->n_files, sizeof *g->files, cmp_int);
                for (int k = 0; k < g->n_files; k++) {
                    s->files[g->files[k]].section = i;
                    s->files[g->files[k]].group = pass ? sec->n_groups + gi : gi;
                }
                char key[sizeof g->model_label + sizeof g->build + 2], tag[9]; /* label or key, \n, build */
                snprintf(key, sizeof key, "%s\n%s", g->model_key[0] ? g->model_key : g->model_label,
                         g->build);
                tag8(key, tag);
                if (pass == 0 && sec->n_groups == 1)
                    snprintf(g->slug, sizeof g->slug, "%s", sec->slug);
                else
                    snprintf(g->slug, sizeof g->slug, "%s-%s%s", sec->slug, pass ? "peer-" : "", tag);
                snprintf(g->anchor, sizeof g->anchor, "%s-run-%s", sec->slug, tag);
                if (fill_cells(s, g) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* Two groups of the set with different builds but the same short label: both labels get
 * the build's tag, so no two builds read alike. */
static int disambiguate_builds(rset *s)
{
    rgroup **all = NULL;
    int n = 0;
    for (int m = 0; m < s->n_machines; m++)
        for (int i = 0; i < s->machines[m].n_secs; i++) {
            rsection *sec = &s->machines[m].secs[i];
            for (int pass = 0; pass < 2; pass++) {
                rgroup *arr = pass ? sec->peers : sec->groups;
                int cnt = pass ? sec->n_peers : sec->n_groups;
                for (int gi = 0; gi < cnt; gi++) {
                    rgroup **na = realloc(all, (size_t)(n + 1) * sizeof *na);
                    if (!na) {
                        free(all);
                        return -1;
                    }
                    all = na;
                    all[n++] = &arr[gi];
                }
            }
        }
    bool *clash = calloc((size_t)(n > 0 ? n : 1), sizeof *clash);
    if (!clash) {
        free(all);
        return -1;
    }
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (strcmp(all[a]->build, all[b]->build) != 0 &&
                strcmp(all[a]->build_label, all[b]->build_label) == 0)
                clash[a] = clash[b] = true;
    for (int a = 0; a < n; a++)
        if (clash[a]) {
            char tag[9];
            tag8(all[a]->build, tag);
            size_t len = strlen(all[a]->build_label);
            snprintf(all[a]->build_label + len, sizeof all[a]->build_label - len, " (build %s)", tag);
        }
    free(clash);
    free(all);
    return 0;
}

bench_status rset_load(rset *s, const char *const *paths_in, int n, bench_error *err)
{
    memset(s, 0, sizeof *s);
    const char **paths = malloc((size_t)(n > 0 ? n : 1) * sizeof *paths);
    s->files = calloc((size_t)(n > 0 ? n : 1), sizeof *s->files);
    if (!paths || !s->files) {
        free(paths);
        free(s->files);
        s->files = NULL;
        return bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
    }
    memcpy(paths, paths_in, (size_t)n * sizeof *paths);
    qsort(paths, (size_t)n, sizeof *paths, cmp_path);
    for (int i = 0; i < n; i++) {
        if (i > 0 && strcmp(paths[i], paths[i - 1]) == 0)
            continue; /* the same file twice */
        rfile *f = &s->files[s->n_files];
        bench_status lst = gb_file_load(paths[i], &f->gb, err);
        if (lst != BENCH_OK) {
            free(paths);
            rset_free(s);
            return lst;
        }
        s->n_files++;
        f->num = s->n_files;
        run_id_from_context(f->gb.context, &f->id);
        char b[128];
        const char *plat = ctx_str(&f->gb, CTX_PLATFORM, b, sizeof b);
        snprintf(f->platform, sizeof f->platform, "%s", plat && *plat ? plat : "unknown");
        f->emulated = ctx_true(&f->gb, CTX_EMULATED);
        f->threads = ctx_int(&f->gb, CTX_THREADS);
        const char *date = ctx_str(&f->gb, CTX_DATE, b, sizeof b);
        snprintf(f->date, sizeof f->date, "%s", date ? date : "");
        f->when = parse_date(date);
        f->peer = ctx_str(&f->gb, CTX_PEER, b, sizeof b) != NULL;
    }
    free(paths);
    if (build_machines(s) != 0)
        goto nomem;
    for (int m = 0; m < s->n_machines; m++)
        if (build_sections(s, m) != 0)
            goto nomem;
    if (disambiguate_builds(s) != 0)
        goto nomem;
    return BENCH_OK;
nomem:
    rset_free(s);
    return bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
}

const rmachine *rg_machine(const rset *s, const rgroup *g)
{
    return &s->machines[g->machine];
}

const rsection *rg_section(const rset *s, const rgroup *g)
{
    return &s->machines[g->machine].secs[g->section];
}

/* ---- queries ---- */

int dim_of(const bench_name *n, rdim d)
{
    switch (d) {
    case DIM_CHANNELS: return n->channels;
    case DIM_STATE: return n->state;
    case DIM_SEQ: return n->seq;
    case DIM_BATCH: return n->batch;
    case DIM_THREADS: return n->threads;
    default: return n->steps;
    }
}

void set_dim(want *w, rdim d, int v)
{
    switch (d) {
    case DIM_CHANNELS: w->channels = v; break;
    case DIM_STATE: w->state = v; break;
    case DIM_SEQ: w->seq = v; break;
    case DIM_BATCH: w->batch = v; break;
    case DIM_THREADS: w->threads = v; break;
    default: w->steps = v; break;
    }
}

bool want_match(const gb_cell *c, const want *w)
{
    const bench_name *n = &c->nm;
    if (!c->ours || n->family != w->fam)
        return false;
    if (w->quant && strcmp(n->quant, w->quant) != 0)
        return false;
    if (w->kernel && strcmp(n->kernel, w->kernel) != 0)
        return false;
    return (w->channels < 0 || n->channels == w->channels) && (w->state < 0 || n->state == w->state) &&
           (w->seq < 0 || n->seq == w->seq) && (w->batch < 0 || n->batch == w->batch) &&
           (w->threads < 0 || n->threads == w->threads) && (w->steps < 0 || n->steps == w->steps);
}

const rcell *rg_find(const rgroup *g, const want *w)
{
    for (int i = 0; i < g->n_cells; i++)
        if (want_match(g->cells[i].c, w))
            return &g->cells[i];
    return NULL;
}

int rg_narrow(const rgroup *g, want *w, rdim d, long pref, bool prefer_larger)
{
    int best = -1;
    for (int i = 0; i < g->n_cells; i++) {
        if (!want_match(g->cells[i].c, w))
            continue;
        int v = dim_of(&g->cells[i].c->nm, d);
        if (best < 0) {
            best = v;
            continue;
        }
        long dv = labs(v - pref), db = labs(best - pref);
        if (dv < db || (dv == db && (prefer_larger ? v > best : v < best)))
            best = v;
    }
    if (best >= 0)
        set_dim(w, d, best);
    return best;
}

static int kernel_rank(const char *k)
{
    itera_kernel id;
    return itera_kernel_parse(k, &id) && id >= 0 ? (int)id : ITERA_KERNEL_COUNT;
}

static int quant_rank(const char *q)
{
    itera_quant id;
    return itera_quant_parse(q, &id) ? (int)id : ITERA_QUANT_COUNT;
}

static int cmp_named(const char *a, const char *b, int (*rank)(const char *))
{
    int ra = rank(a), rb = rank(b);
    if (ra != rb)
        return ra - rb;
    return strcmp(a, b);
}

const char *rg_pick_kernel(const rgroup *g, const want *w)
{
    const char *best_known = NULL;
    int best_rank = 0;
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
        want x = *w;
        x.kernel = ki->name;
        if ((!best_known || ki->report_rank < best_rank) && rg_find(g, &x)) {
            best_known = ki->name;
            best_rank = ki->report_rank;
        }
    }
    if (best_known)
        return best_known;
    const char *best = NULL;
    for (int i = 0; i < g->n_cells; i++)
        if (want_match(g->cells[i].c, w) && (!best || strcmp(g->cells[i].c->nm.kernel, best) < 0))
            best = g->cells[i].c->nm.kernel;
    return best;
}

int rg_distinct_names(const rgroup *g, const want *w, bool quant, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < g->n_cells; i++) {
        if (!want_match(g->cells[i].c, w))
            continue;
        const char *v = quant ? g->cells[i].c->nm.quant : g->cells[i].c->nm.kernel;
        bool seen = false;
        for (int k = 0; k < n; k++)
            seen = seen || strcmp(out[k], v) == 0;
        if (seen || n == cap)
            continue;
        int k = n++;
        while (k > 0 && cmp_named(out[k - 1], v, quant ? quant_rank : kernel_rank) > 0) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = v;
    }
    return n;
}

int rg_distinct_dim(const rgroup *g, const want *w, rdim d, int *out, int cap)
{
    int n = 0;
    for (int i = 0; i < g->n_cells; i++) {
        if (!want_match(g->cells[i].c, w))
            continue;
        int v = dim_of(&g->cells[i].c->nm, d);
        bool seen = false;
        for (int k = 0; k < n; k++)
            seen = seen || out[k] == v;
        if (seen || n == cap)
            continue;
        int k = n++;
        while (k > 0 && out[k - 1] > v) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = v;
    }
    return n;
}

int rs_peer_groups(const rset *s, const rgroup *g, const rgroup **out, int cap)
{
    const rsection *sec = rg_section(s, g);
    int n = 0;
    for (int i = 0; i < sec->n_peers && n < cap; i++) {
        const rgroup *p = &sec->peers[i];
        bool same = g->model_key[0] && p->model_key[0] ? strcmp(p->model_key, g->model_key) == 0
                                                       : strcmp(p->model_label, g->model_label) == 0;
        if (same)
            out[n++] = p;
    }
    return n;
}

const char *peer_label(const char *kernel)
{
    if (strcmp(kernel, "pytorch-eager") == 0)
        return "PyTorch (eager)";
    if (strcmp(kernel, "onnxruntime") == 0)
        return "ONNX Runtime";
    return kernel;
}

/* ---- figures ---- */

figure rc_figure(const rcell *c, const char *metric)
{
    figure f = figure_of(NULL, 0);
    if (!c || c->c->error)
        return f;
    double v[MAX_REPS];
    int n = gb_cell_values(c->c, metric, v, MAX_REPS);
    if (n > 0)
        return figure_of(v, n);
    double x;
    if (c->c->median && gb_entry_metric(c->c->median, metric, &x))
        return figure_of(&x, 1);
    if (c->c->mean && gb_entry_metric(c->c->mean, metric, &x))
        return figure_of(&x, 1);
    return f;
}

figure rc_latency(const rcell *c, const char **from)
{
    figure f = rc_figure(c, MET_LATENCY_MS);
    if (f.n > 0) {
        if (from)
            *from = MET_LATENCY_MS;
        return f;
    }
    if (from)
        *from = MET_REAL_TIME;
    f = rc_figure(c, MET_REAL_TIME);
    f.median /= 1e6;
    f.q1 /= 1e6;
    f.q3 /= 1e6;
    f.min /= 1e6;
    f.max /= 1e6;
    return f;
}

double rc_max(const rcell *c, const char *metric)
{
    if (!c || c->c->error)
        return NAN;
    double lo, hi;
    if (gb_cell_range(c->c, metric, &lo, &hi) > 0)
        return hi;
    return rc_figure(c, metric).max;
}

bool rc_flag(const rcell *c, const char *metric)
{
    if (!c)
        return false;
    double lo, hi;
    return gb_cell_range(c->c, metric, &lo, &hi) > 0 && hi >= 1;
}
