/*
 * report.c: `itera-bench report` (see report.h): result files -> reports/README.md plus
 * gnuplot charts.
 *
 * Data flow: load every file (sorted by path, so the order given does not matter) ->
 * group their benchmarks into sections, one per (platform, emulated) of the file's
 * context, a benchmark present in several files of a section taken from the file with
 * the most repetitions (then the first path) -> per section choose the cells of each
 * table by fixed preferences (the original report's configuration first) -> markdown
 * rows, .dat files and charts. Numbers are printed with fixed formats; nothing reads the
 * clock or the environment except the gnuplot check, whose outcome the markdown states.
 */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "gbread.h"
#include "itera.h"
#include "schema.h"

/* The original report's kernel-comparison configuration. */
#define REF_CHANNELS 256
#define REF_STATE 64
#define REF_SEQ 128
#define REF_BATCH 4
/* Operation profile, quantization and edge tables: a prefill at this length, batch 1. */
#define PREFILL_SEQ 128
#define PREFILL_BATCH 1

#define PEER_KERNEL "pytorch-eager"
#define PEER_LABEL "PyTorch (eager)"

/* ---- string buffer ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int w = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)w < room) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n <= (size_t)w)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* ---- number formats (fixed, so output is reproducible) ---- */

typedef struct num {
    char s[48];
} num;

static int decimals_for(double v)
{
    double a = fabs(v);
    return a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
}

/* v with the decimals that suit `like`: 12345, 123.4, 12.34, 1.234, 0.1234. "n/a" for NaN. */
static num fnum_as(double v, double like)
{
    num r;
    if (!isfinite(v)) {
        snprintf(r.s, sizeof r.s, "n/a");
        return r;
    }
    int dec = decimals_for(isfinite(like) ? like : v);
    snprintf(r.s, sizeof r.s, "%.*f", dec, v);
    if (r.s[0] == '-' && strspn(r.s + 1, "0.") == strlen(r.s + 1))
        memmove(r.s, r.s + 1, strlen(r.s)); /* "-0.000" -> "0.000" */
    return r;
}

static num fnum(double v)
{
    return fnum_as(v, v);
}

/* Percentages: one decimal. */
static num fpct(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "n/a");
    else
        snprintf(r.s, sizeof r.s, "%.1f", v);
    return r;
}

static num fsci(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "n/a");
    else
        snprintf(r.s, sizeof r.s, "%.2e", v);
    return r;
}

/* For .dat files: "?" is gnuplot's missing value (set datafile missing "?"). */
static num fdat(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "?");
    else
        snprintf(r.s, sizeof r.s, "%.6g", v);
    return r;
}

/* A context string made safe for one markdown table cell. */
static void md_cell(char *dst, size_t cap, const char *s)
{
    size_t j = 0;
    for (; s && *s && j + 3 < cap; s++) {
        if (*s == '|') {
            dst[j++] = '\\';
            dst[j++] = '|';
        } else if (*s == '\n' || *s == '\r' || *s == '\t') {
            dst[j++] = ' ';
        } else {
            dst[j++] = *s;
        }
    }
    dst[j] = '\0';
}

/* ---- sections: one per (platform, emulated) ---- */

typedef struct rp_cell {
    const gb_cell *c;
    int file; /* index into rp.files (label [file+1]) */
} rp_cell;

typedef struct section {
    char platform[64];
    bool emulated;
    int threads;        /* itera_threads of its first file, -1 when not recorded */
    char slug[96];      /* folder of its charts */
    int files[64];
    int n_files;
    rp_cell *cells;
    int n_cells, cells_cap;
    name_index by_canon; /* cells by canonical name */
} section;

static const char *rp_cell_canon(const void *user, int i)
{
    return ((const rp_cell *)user)[i].c->canon;
}

typedef struct rp {
    gb_file *files;
    int n_files;
    section *sec;
    int n_sec;
    sbuf md;
    const char *outdir;
    const char *tpldir;
    const char *gnuplot;
    const char *term, *ext;
    bool charts;
    char charts_why[1400];
    bool strict;
    int empty_tables;   /* tables that rendered "no results" (for --strict) */
    int missing_images; /* charts that should exist but do not */
    int write_errors;   /* files that could not be written (each reported on stderr) */
} rp;

static const char *const platform_order[] = {"desktop", "laptop", "embedded", "host"};
#define N_STD_PLATFORMS 3 /* the edge table expects desktop, laptop, embedded */

static int platform_rank(const char *p)
{
    for (int i = 0; i < (int)(sizeof platform_order / sizeof platform_order[0]); i++)
        if (strcmp(p, platform_order[i]) == 0)
            return i;
    return 100;
}

static int cmp_section(const void *a, const void *b)
{
    const section *x = a, *y = b;
    int rx = platform_rank(x->platform), ry = platform_rank(y->platform);
    if (rx != ry)
        return rx - ry;
    int c = strcmp(x->platform, y->platform);
    if (c)
        return c;
    return (int)x->emulated - (int)y->emulated;
}

static bool ctx_true(const gb_file *f, const char *key)
{
    char b[64];
    const char *v = gb_ctx(f, key, b, sizeof b);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

static int ctx_int(const gb_file *f, const char *key)
{
    char b[64];
    const char *v = gb_ctx(f, key, b, sizeof b);
    if (!v)
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return (end != v && x > 0 && x < INT_MAX) ? (int)x : -1;
}

static int build_sections(rp *r)
{
    for (int fi = 0; fi < r->n_files; fi++) {
        const gb_file *f = &r->files[fi];
        char b[128];
        const char *plat = gb_ctx(f, CTX_PLATFORM, b, sizeof b);
        if (!plat || !*plat)
            plat = "unknown";
        bool emu = ctx_true(f, CTX_EMULATED);
        section *s = NULL;
        for (int i = 0; i < r->n_sec; i++)
            if (strcmp(r->sec[i].platform, plat) == 0 && r->sec[i].emulated == emu)
                s = &r->sec[i];
        if (!s) {
            section *ns = realloc(r->sec, (size_t)(r->n_sec + 1) * sizeof *ns);
            if (!ns)
                return -1;
            r->sec = ns;
            s = &r->sec[r->n_sec++];
            memset(s, 0, sizeof *s);
            snprintf(s->platform, sizeof s->platform, "%s", plat);
            s->emulated = emu;
            s->threads = ctx_int(f, CTX_THREADS);
            size_t j = 0;
            for (const char *p = s->platform; *p && j + 1 < sizeof s->slug; p++)
                s->slug[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                                          ? *p
                                          : '_');
            s->slug[j] = '\0';
            if (emu)
                strncat(s->slug, "-emulated", sizeof s->slug - strlen(s->slug) - 1);
        }
        if (s->n_files < (int)(sizeof s->files / sizeof s->files[0]))
            s->files[s->n_files++] = fi;
        if (s->threads < 0)
            s->threads = ctx_int(f, CTX_THREADS);
        for (int ci = 0; ci < f->n_cells; ci++) {
            const gb_cell *c = &f->cells[ci];
            int dup = name_index_find(&s->by_canon, c->canon, rp_cell_canon, s->cells);
            if (dup >= 0) {
                /* the file with more repetitions wins; files come in path order */
                if (c->n_iter > s->cells[dup].c->n_iter)
                    s->cells[dup] = (rp_cell){c, fi};
                continue;
            }
            if (s->n_cells == s->cells_cap) {
                int cap = s->cells_cap ? 2 * s->cells_cap : 64;
                rp_cell *nc = realloc(s->cells, (size_t)cap * sizeof *nc);
                if (!nc)
                    return -1;
                s->cells = nc;
                s->cells_cap = cap;
            }
            s->cells[s->n_cells++] = (rp_cell){c, fi};
            if (name_index_add(&s->by_canon, s->n_cells - 1, rp_cell_canon, s->cells) != 0)
                return -1;
        }
    }
    qsort(r->sec, (size_t)r->n_sec, sizeof *r->sec, cmp_section);
    return 0;
}

/* ---- choosing cells ---- */

/* Kernels and quants are shown in the engine's table order (itera_kernels.def,
 * itera_formats.def); names the engine does not know (a peer's, another build's) after
 * them. */
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

/* The reference rows by name: the speedups' baselines. */
static const char *ref_kernel(void) { return itera_kernel_name(ITERA_KERNEL_REFERENCE); }
static const char *ref_quant(void) { return itera_quant_name(ITERA_QUANT_REFERENCE); }

/* Orders names: known ones first in their fixed order, the rest alphabetically. */
static int cmp_named(const char *a, const char *b, int (*rank)(const char *))
{
    int ra = rank(a), rb = rank(b);
    if (ra != rb)
        return ra - rb;
    return strcmp(a, b);
}

/* A filter on parsed names: NULL / -1 fields match anything. */
typedef struct want {
    bench_family fam;
    const char *quant, *kernel;
    int channels, state, seq, batch, threads, steps;
    bool no_peer; /* exclude the PyTorch peer */
} want;

#define WANT(f) ((want){.fam = (f), .channels = -1, .state = -1, .seq = -1, .batch = -1, \
                        .threads = -1, .steps = -1})

static bool matches(const gb_cell *c, const want *w)
{
    const bench_name *n = &c->nm;
    if (!c->ours || n->family != w->fam)
        return false;
    if (w->quant && strcmp(n->quant, w->quant) != 0)
        return false;
    if (w->kernel && strcmp(n->kernel, w->kernel) != 0)
        return false;
    if (w->no_peer && strcmp(n->kernel, PEER_KERNEL) == 0)
        return false;
    return (w->channels < 0 || n->channels == w->channels) && (w->state < 0 || n->state == w->state) &&
           (w->seq < 0 || n->seq == w->seq) && (w->batch < 0 || n->batch == w->batch) &&
           (w->threads < 0 || n->threads == w->threads) && (w->steps < 0 || n->steps == w->steps);
}

static const rp_cell *find(const section *s, const want *w)
{
    for (int i = 0; i < s->n_cells; i++)
        if (matches(s->cells[i].c, w))
            return &s->cells[i];
    return NULL;
}

typedef enum dim { DIM_CHANNELS, DIM_STATE, DIM_SEQ, DIM_BATCH, DIM_THREADS, DIM_STEPS } dim;

static int dim_of(const bench_name *n, dim d)
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

static void set_dim(want *w, dim d, int v)
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

/* Narrows w on dimension d to the value among matching cells closest to pref (ties: the
 * larger when prefer_larger). Returns the value, or -1 when nothing matches. */
static int narrow(const section *s, want *w, dim d, long pref, bool prefer_larger)
{
    int best = -1;
    for (int i = 0; i < s->n_cells; i++) {
        if (!matches(s->cells[i].c, w))
            continue;
        int v = dim_of(&s->cells[i].c->nm, d);
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

/* The preferred kernel among cells matching w: the engine's kernels by their report_rank
 * (itera_kernels.def: parallel first, the engine's default (scan_auto) for the prefill
 * shapes the tables show, L <= 128 on a few threads), then the alphabetically first
 * other name, or NULL. */
static const char *pick_kernel(const section *s, const want *w)
{
    const char *best_known = NULL;
    int best_rank = 0;
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
        want x = *w;
        x.kernel = ki->name;
        if ((!best_known || ki->report_rank < best_rank) && find(s, &x)) {
            best_known = ki->name;
            best_rank = ki->report_rank;
        }
    }
    if (best_known)
        return best_known;
    const char *best = NULL;
    for (int i = 0; i < s->n_cells; i++)
        if (matches(s->cells[i].c, w) && (!best || strcmp(s->cells[i].c->nm.kernel, best) < 0))
            best = s->cells[i].c->nm.kernel;
    return best;
}

/* Distinct values of kernel (or quant) among cells matching w, in display order. */
static int distinct_names(const section *s, const want *w, bool quant, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < s->n_cells; i++) {
        if (!matches(s->cells[i].c, w))
            continue;
        const char *v = quant ? s->cells[i].c->nm.quant : s->cells[i].c->nm.kernel;
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

static int distinct_dim(const section *s, const want *w, dim d, int *out, int cap)
{
    int n = 0;
    for (int i = 0; i < s->n_cells; i++) {
        if (!matches(s->cells[i].c, w))
            continue;
        int v = dim_of(&s->cells[i].c->nm, d);
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

/* ---- metrics of a cell ---- */

static double mean_of(const rp_cell *c, const char *metric)
{
    double v;
    if (c && !c->c->error && gb_cell_mean(c->c, metric, &v))
        return v;
    return NAN;
}

/* Latency in ms: the latency_ms counter, else real_time. *from names the field used. */
static double latency_ms(const rp_cell *c, const char **from)
{
    double v = mean_of(c, MET_LATENCY_MS);
    if (isfinite(v)) {
        if (from)
            *from = MET_LATENCY_MS;
        return v;
    }
    v = mean_of(c, MET_REAL_TIME);
    if (from)
        *from = MET_REAL_TIME;
    return v / 1e6;
}

/* "[1]" style references to the files the cells came from, in file order. */
static void file_refs(const rp_cell *const *cells, int n, char *out, size_t cap)
{
    out[0] = '\0';
    bool used[1024] = {false};
    for (int i = 0; i < n; i++)
        if (cells[i] && cells[i]->file < 1024)
            used[cells[i]->file] = true;
    size_t len = 0;
    for (int f = 0; f < 1024 && len + 8 < cap; f++)
        if (used[f])
            len += (size_t)snprintf(out + len, cap - len, "%s[%d]", len ? ", " : "", f + 1);
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

/* ---- charts ---- */

static int mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Runs argv with stdout and stderr appended to logpath; returns the exit status, -1 when
 * it could not start. */
static int run_quiet(char *const *argv, const char *logpath)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = logpath ? open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0666) : -1;
        if (fd < 0)
            fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static bool file_nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static const char *const chart_names[] = {"common", "kernels", "seqlen", "ops", "quant",
                                          "decode", "threads", "edge"};

/* Decides whether charts can be drawn, and with which terminal; the reason when not. */
static void check_gnuplot(rp *r)
{
    r->charts = false;
    r->term = "pngcairo";
    r->ext = "png";
    char *ver[] = {(char *)r->gnuplot, (char *)"--version", NULL};
    int st = run_quiet(ver, NULL);
    if (st != 0) {
        snprintf(r->charts_why, sizeof r->charts_why,
                 "gnuplot (`%s`) %s; install Debian's gnuplot-nox to get them", r->gnuplot,
                 st == 127 || st < 0 ? "was not found" : "did not run");
        return;
    }
    for (size_t i = 0; i < sizeof chart_names / sizeof chart_names[0]; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/%s.gp", r->tpldir, chart_names[i]);
        if (!file_nonempty(p)) {
            snprintf(r->charts_why, sizeof r->charts_why,
                     "the chart template `%s` is missing (templates come from the repository's "
                     "reports/ folder; see --templates)",
                     p);
            return;
        }
    }
    char *png[] = {(char *)r->gnuplot, (char *)"-e", (char *)"set terminal pngcairo", NULL};
    if (run_quiet(png, NULL) != 0) {
        r->term = "svg";
        r->ext = "svg";
    }
    r->charts = true;
}

/* Reports a file that could not be written (the report then exits 2). */
static void write_failed(rp *r, const char *msg)
{
    fprintf(stderr, "report: %s\n", msg);
    r->write_errors++;
}

/* Starts <outdir>/<slug>/<name>.dat (written atomically by close_dat); NULL when it
 * cannot (reported). */
static itera_file *open_dat(rp *r, const section *s, const char *name, char *path, size_t cap)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", r->outdir, s->slug);
    if (mkdir_p(dir) != 0) {
        char msg[1300];
        snprintf(msg, sizeof msg, "%s: cannot create the folder: %s", dir, strerror(errno));
        write_failed(r, msg);
        return NULL;
    }
    snprintf(path, cap, "%s/%s.dat", dir, name);
    itera_file *f;
    itera_error err;
    if (itera_file_create(path, &f, &err) != ITERA_OK) {
        write_failed(r, err.msg);
        return NULL;
    }
    return f;
}

/* Puts a .dat file in place (before its chart reads it). */
static void close_dat(rp *r, itera_file *dat)
{
    itera_error err;
    if (dat && itera_file_commit(dat, &err) != ITERA_OK)
        write_failed(r, err.msg);
}

/* Whether a .dat file has a point to plot: a line (not a # comment) with a finite number
 * after its first field. */
static bool dat_has_points(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    char line[4096];
    bool any = false;
    while (!any && fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        int field = 0;
        for (char *p = line; *p && !any;) {
            while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
            if (!*p)
                break;
            char *start = p;
            if (*p == '"') {
                p = strchr(p + 1, '"');
                p = p ? p + 1 : start + strlen(start);
            } else {
                while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                    p++;
            }
            if (field++ > 0 && *start != '"') {
                char *end;
                double v = strtod(start, &end);
                any = end == p && isfinite(v);
            }
        }
    }
    fclose(fp);
    return any;
}

/* Moves what a program wrote to tmp into path through itera_write_file (fsynced, renamed
 * atomically; path is never a partial image); 0, or -1 reported. tmp is removed. */
static int install_file(rp *r, const char *tmp, const char *path)
{
    char msg[1600];
    FILE *in = fopen(tmp, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0;
    bool ok = in != NULL;
    while (ok) {
        if (n == cap) {
            char *d = realloc(data, cap = cap ? 2 * cap : 65536);
            if (!d) {
                ok = false;
                break;
            }
            data = d;
        }
        size_t got = fread(data + n, 1, cap - n, in);
        n += got;
        if (got == 0) {
            ok = !ferror(in);
            break;
        }
    }
    if (in)
        fclose(in);
    remove(tmp);
    itera_error err;
    int rc = 0;
    if (!ok) {
        snprintf(msg, sizeof msg, "%.700s: cannot read gnuplot's output %.700s", path, tmp);
        write_failed(r, msg);
        rc = -1;
    } else if (itera_write_file(path, data, n, &err) != ITERA_OK) {
        write_failed(r, err.msg);
        rc = -1;
    }
    free(data);
    return rc;
}

/* Renders <slug>/<name>.<ext> from its .dat with <tpldir>/<name>.gp, and links it in md;
 * says why when it cannot. extra: more gnuplot assignments ("ncols=4;"). */
static void chart(rp *r, const section *s, const char *name, const char *title, const char *extra)
{
    char rel[300], img[1400], dat[1400], tpl[1100], log[1100];
    snprintf(rel, sizeof rel, "%s/%s.%s", s->slug, name, r->ext);
    snprintf(img, sizeof img, "%s/%s", r->outdir, rel);
    snprintf(dat, sizeof dat, "%s/%s/%s.dat", r->outdir, s->slug, name);
    /* a chart named X_variant (e.g. seqlen_b1) is drawn by template X.gp */
    snprintf(tpl, sizeof tpl, "%s/%.*s.gp", r->tpldir, (int)strcspn(name, "_"), name);
    snprintf(log, sizeof log, "%s/gnuplot.log", r->outdir);
    if (!dat_has_points(dat)) {
        sb_printf(&r->md, "No chart: no successful run to plot.\n\n");
        r->empty_tables++;
        return;
    }
    if (!r->charts) {
        sb_printf(&r->md, "Chart skipped (data in `%s/%s.dat`).\n\n", s->slug, name);
        return;
    }
    if (strchr(dat, '\'') || strchr(img, '\'') || strchr(r->tpldir, '\'')) {
        sb_printf(&r->md, "Chart skipped: the output path contains a quote.\n\n");
        r->missing_images++;
        return;
    }
    char t[256];
    size_t j = 0;
    for (const char *p = title; *p && j + 1 < sizeof t; p++)
        t[j++] = *p == '\'' ? ' ' : *p;
    t[j] = '\0';
    char vars[4096];
    /* gnuplot draws into a temporary file beside the image, which then replaces the image
     * atomically (itera_write_file) */
    char tmpimg[1500];
    snprintf(tmpimg, sizeof tmpimg, "%s.gnuplot.%ld", img, (long)getpid());
    snprintf(vars, sizeof vars,
             "tpldir='%s'; datafile='%s'; outfile='%s'; term='%s'; chart_title='%s'; %s", r->tpldir,
             dat, tmpimg, r->term, t, extra ? extra : "");
    remove(tmpimg);
    char *argv[] = {(char *)r->gnuplot, (char *)"-e", vars, tpl, NULL};
    int st = run_quiet(argv, log);
    if (st != 0 || !file_nonempty(tmpimg)) {
        remove(tmpimg);
        remove(img);
        sb_printf(&r->md, "Chart `%s` failed: gnuplot exited with status %d (see `gnuplot.log`).\n\n",
                  rel, st);
        r->missing_images++;
        return;
    }
    if (install_file(r, tmpimg, img) != 0) {
        r->missing_images++;
        return;
    }
    sb_printf(&r->md, "![%s](%s)\n\n", title, rel);
}

static void no_results(rp *r, const char *what)
{
    sb_printf(&r->md, "No results for %s.\n\n", what);
    r->empty_tables++;
}

/* ---- tables ---- */

/* Kernel comparison: scan at the reference configuration (or the closest there is). */
static void table_kernels(rp *r, const section *s, want *scan_group)
{
    sb_printf(&r->md, "### Kernel comparison\n\n");
    want w = WANT(BENCH_SCAN);
    w.channels = REF_CHANNELS;
    w.state = REF_STATE;
    w.seq = REF_SEQ;
    w.batch = REF_BATCH;
    bool ref = narrow(s, &w, DIM_THREADS, s->threads > 0 ? s->threads : INT_MAX, true) >= 0;
    if (!ref) {
        w = WANT(BENCH_SCAN);
        if (narrow(s, &w, DIM_CHANNELS, REF_CHANNELS, true) < 0) {
            *scan_group = w;
            scan_group->fam = BENCH_FAMILY_NONE;
            no_results(r, "the standalone scan (`scan/…` benchmarks)");
            return;
        }
        narrow(s, &w, DIM_STATE, REF_STATE, true);
        narrow(s, &w, DIM_SEQ, REF_SEQ, true);
        narrow(s, &w, DIM_BATCH, REF_BATCH, true);
        narrow(s, &w, DIM_THREADS, s->threads > 0 ? s->threads : INT_MAX, true);
    }
    *scan_group = w;
    scan_group->seq = -1;

    const char *kernels[16];
    int nk = distinct_names(s, &w, false, kernels, 16);
    if (ref)
        sb_printf(&r->md,
                  "Standalone selective scan at the original report's configuration: %d channels, "
                  "state %d, L = %d, batch %d, %d thread%s.\n\n",
                  w.channels, w.state, w.seq, w.batch, w.threads, w.threads == 1 ? "" : "s");
    else
        sb_printf(&r->md,
                  "The original report's configuration (%d channels, state %d, L = %d, batch %d) is "
                  "not in these results; shown at the closest there is: %d channels, state %d, "
                  "L = %d, batch %d, %d thread%s.\n\n",
                  REF_CHANNELS, REF_STATE, REF_SEQ, REF_BATCH, w.channels, w.state, w.seq, w.batch,
                  w.threads, w.threads == 1 ? "" : "s");

    want ws = w;
    ws.kernel = ref_kernel();
    const rp_cell *seq = find(s, &ws);
    const char *lat_from = MET_LATENCY_MS;
    double seq_lat = seq ? latency_ms(seq, NULL) : NAN;

    char datpath[1200];
    itera_file *dat = open_dat(r, s, "kernels", datpath, sizeof datpath);
    if (dat)
        itera_file_printf(dat, "# kernel latency_ms_mean latency_ms_min latency_ms_max\n");

    sb_printf(&r->md, "| Kernel | Latency (ms) | Spread: min–max (n) | Speedup vs %s | "
                      "GFLOP/s | %% of peak |\n", ref_kernel());
    sb_printf(&r->md, "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    const rp_cell *used[16];
    for (int k = 0; k < nk; k++) {
        want wk = w;
        wk.kernel = kernels[k];
        const rp_cell *c = find(s, &wk);
        used[k] = c;
        if (c->c->error) {
            sb_printf(&r->md, "| %s | failed: %s | | | | |\n", kernels[k],
                      c->c->error_message ? c->c->error_message : "error");
            continue;
        }
        double lat = latency_ms(c, &lat_from);
        double sd, lo = NAN, hi = NAN;
        bool have_sd = gb_cell_stddev(c->c, lat_from, &sd);
        int n = gb_cell_range(c->c, lat_from, &lo, &hi);
        double scale = strcmp(lat_from, MET_REAL_TIME) == 0 ? 1e-6 : 1.0;
        if (have_sd)
            sd *= scale;
        lo *= scale;
        hi *= scale;
        char latcell[128], spread[128], speed[64];
        if (have_sd)
            snprintf(latcell, sizeof latcell, "%s ± %s", fnum(lat).s, fnum_as(sd, lat).s);
        else
            snprintf(latcell, sizeof latcell, "%s", fnum(lat).s);
        if (n >= 2)
            snprintf(spread, sizeof spread, "%s–%s (%d)", fnum_as(lo, lat).s, fnum_as(hi, lat).s, n);
        else
            snprintf(spread, sizeof spread, "single run (%d)", n);
        if (isfinite(seq_lat) && lat > 0)
            snprintf(speed, sizeof speed, "%.2f×", seq_lat / lat);
        else
            snprintf(speed, sizeof speed, "n/a (no %s run)", ref_kernel());
        sb_printf(&r->md, "| %s | %s | %s | %s | %s | %s |\n", kernels[k], latcell, spread, speed,
                  fnum(mean_of(c, MET_GFLOPS)).s, fnum(mean_of(c, MET_PCT_PEAK)).s);
        if (dat)
            itera_file_printf(dat, "\"%s\" %s %s %s\n", kernels[k], fdat(lat).s, fdat(n ? lo : lat).s,
                    fdat(n ? hi : lat).s);
    }
    close_dat(r, dat);
    char refs[256], pat[512];
    file_refs(used, nk, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_SCAN, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    sb_printf(&r->md,
              "\nSource: %s `%s`: latency = `%s` (mean and stddev aggregates; min–max and n over "
              "the iteration runs), speedup = %s latency / kernel latency, `gflops`, "
              "`pct_peak`.\n\n",
              refs, pat, lat_from, ref_kernel());
    chart(r, s, "kernels", "Scan kernels: latency (ms), min-max over repetitions", NULL);
}

/* Writes a table of `rows` x kernels: latency and tokens/s, and its .dat (x, tok/s per
 * kernel). w: the group, with the varying dimension d unset. */
static int table_sweep(rp *r, const section *s, const want *w, dim d, const char *dname,
                       const char *chart_name, const char *chart_title, bool do_chart)
{
    int vals[64];
    int nv = distinct_dim(s, w, d, vals, 64);
    const char *kernels[16];
    int nk = distinct_names(s, w, false, kernels, 16);
    if (nv == 0 || nk == 0)
        return 0;
    sb_printf(&r->md, "| %s |", dname);
    for (int k = 0; k < nk; k++)
        sb_printf(&r->md, " %s (ms) | %s (tok/s) |", kernels[k], kernels[k]);
    sb_printf(&r->md, "\n| ---: |");
    for (int k = 0; k < nk; k++)
        sb_printf(&r->md, " ---: | ---: |");
    sb_printf(&r->md, "\n");

    char datpath[1200];
    itera_file *dat = do_chart ? open_dat(r, s, chart_name, datpath, sizeof datpath) : NULL;
    if (dat) {
        itera_file_printf(dat, "%s", dname);
        for (int k = 0; k < nk; k++)
            itera_file_printf(dat, " \"%s\"", kernels[k]);
        itera_file_printf(dat, "\n");
    }
    const rp_cell *used[64 * 16];
    int nused = 0;
    for (int i = 0; i < nv; i++) {
        sb_printf(&r->md, "| %d |", vals[i]);
        if (dat)
            itera_file_printf(dat, "%d", vals[i]);
        for (int k = 0; k < nk; k++) {
            want x = *w;
            x.kernel = kernels[k];
            set_dim(&x, d, vals[i]);
            const rp_cell *c = find(s, &x);
            if (c)
                used[nused++] = c;
            double tps = mean_of(c, MET_TOKENS_PER_SECOND);
            if (c && c->c->error)
                sb_printf(&r->md, " failed | failed |");
            else
                sb_printf(&r->md, " %s | %s |", c ? fnum(latency_ms(c, NULL)).s : "—",
                          c ? fnum(tps).s : "—");
            if (dat)
                itera_file_printf(dat, " %s", fdat(tps).s);
        }
        sb_printf(&r->md, "\n");
        if (dat)
            itera_file_printf(dat, "\n");
    }
    close_dat(r, dat);
    char refs[256], pat[512], pat2[512], key[32];
    file_refs(used, nused, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(w->fam, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    /* the varying part shown as <dname> */
    snprintf(key, sizeof key, "%s:", d == DIM_SEQ       ? name_part_key(NAME_SEQ)
                                     : d == DIM_THREADS ? name_part_key(NAME_THREADS)
                                                        : "?");
    const char *kp = strstr(pat, key);
    if (kp) {
        const char *end = strchr(kp, '/');
        snprintf(pat2, sizeof pat2, "%.*s%s<%s>%s", (int)(kp - pat), pat, key, dname,
                 end ? end : "");
    } else {
        snprintf(pat2, sizeof pat2, "%s", pat);
    }
    sb_printf(&r->md,
              "\nSource: %s `%s`: latency = `latency_ms` (mean), tok/s = `tokens_per_second` "
              "(mean); — where that run is absent; failed runs are listed under the file header.\n\n",
              refs, pat2);
    if (do_chart) {
        char extra[64];
        snprintf(extra, sizeof extra, "ncols=%d;", nk + 1);
        chart(r, s, chart_name, chart_title, extra);
    }
    return nv;
}

static void table_seqlen(rp *r, const section *s, const want *scan_group)
{
    sb_printf(&r->md, "### Sequence length\n\n");
    int shown = 0;
    if (scan_group->fam == BENCH_SCAN) {
        want w = *scan_group;
        w.kernel = NULL;
        sb_printf(&r->md, "Standalone scan, %d channels, state %d, batch %d, %d thread%s:\n\n",
                  w.channels, w.state, w.batch, w.threads, w.threads == 1 ? "" : "s");
        shown = table_sweep(r, s, &w, DIM_SEQ, "L", "seqlen",
                            "Scan: tokens/s against sequence length", true);
        /* one long sequence (batch 1): where splitting along time matters */
        int lens[64];
        want b1 = w;
        b1.batch = 1;
        if (w.batch != 1 && find(s, &b1) && distinct_dim(s, &b1, DIM_SEQ, lens, 64) >= 2) {
            sb_printf(&r->md, "Standalone scan, %d channels, state %d, batch 1, %d thread%s:\n\n",
                      b1.channels, b1.state, b1.threads, b1.threads == 1 ? "" : "s");
            shown += table_sweep(r, s, &b1, DIM_SEQ, "L", "seqlen_b1",
                                 "Scan, batch 1: tokens/s against sequence length", true);
        }
    }
    want p = WANT(BENCH_PREFILL);
    p.no_peer = true;
    p.quant = ref_quant();
    if (!find(s, &p))
        p.quant = NULL;
    narrow(s, &p, DIM_BATCH, PREFILL_BATCH, false);
    narrow(s, &p, DIM_THREADS, s->threads > 0 ? s->threads : INT_MAX, true);
    int lens[64];
    if (find(s, &p) && distinct_dim(s, &p, DIM_SEQ, lens, 64) >= 2) {
        if (!p.quant) {
            const char *qs[8];
            distinct_names(s, &p, true, qs, 8);
            p.quant = qs[0];
        }
        sb_printf(&r->md, "Prefill (whole model, %s), batch %d, %d thread%s:\n\n", p.quant, p.batch,
                  p.threads, p.threads == 1 ? "" : "s");
        shown += table_sweep(r, s, &p, DIM_SEQ, "L", "seqlen_prefill",
                             "Prefill: tokens/s against sequence length", false);
    }
    if (!shown)
        no_results(r, "a sequence-length sweep (`scan/…/seq:L/…` or `prefill/…/seq:L/…`)");
}

/* ---- operation profile ---- */

/* The engine's ops (itera_op_info_get: engine/model_ops.def) in forward order, with what
 * each covers (¹: one of the original report's four). Zones the results name but the
 * engine does not know are listed after these, alphabetically. */
#define OP_PREFIX "op_us."
#define OP_ROOT op_root()

/* The prefill's root op ("forward"): the first op without a parent. */
static const char *op_root(void)
{
    itera_op_info oi;
    for (int i = 0; itera_op_info_get(i, &oi); i++)
        if (!oi.parent[0])
            return oi.name;
    return "";
}

/* Whether z is a root op (the whole prefill or decode step: not a row of the table). */
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

static int cmp_zone(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    /* children sort right after their parent */
    char px[96], py[96];
    snprintf(px, sizeof px, "%s", x);
    snprintf(py, sizeof py, "%s", y);
    char *dx = strchr(px, '.'), *dy = strchr(py, '.');
    if (dx)
        *dx = '\0';
    if (dy)
        *dy = '\0';
    if (strcmp(px, py) != 0)
        return cmp_named(px, py, zone_rank);
    if (!dx != !dy)
        return dx ? 1 : -1;
    return cmp_named(x, y, zone_rank);
}

typedef struct op_profile {
    int n;
    char zone[64][96];
    char parent[64][96]; /* "" when not recorded or a root */
    double us[64];
    const char *source;  /* how it was stored, for the Source line */
} op_profile;

static void op_add(op_profile *p, const char *zone, const char *parent, double us)
{
    if (p->n == 64)
        return;
    snprintf(p->zone[p->n], sizeof p->zone[p->n], "%s", zone);
    snprintf(p->parent[p->n], sizeof p->parent[p->n], "%s", parent ? parent : "");
    p->us[p->n++] = us;
}

/* The op profile of a prefill cell, in µs per forward. This is the one place that knows
 * how the harness stores it; two layouts are read:
 *   1. the file's top-level "itera_op_profile" object, keyed by benchmark name (without
 *      GB's suffixes): {"forwards": F, "ops": [{"name", "parent", "total_us",
 *      "us_per_forward", ...}]} (what bench/runner.c writes);
 *   2. numeric "op_us.<zone>" counters on the cell's entries (mean over repetitions).
 * Returns the number of zones (0: none recorded). */
static int read_op_profile(const gb_file *f, const gb_cell *c, op_profile *p)
{
    p->n = 0;
    p->source = "";
    if (c->error)
        return 0;
    const json_t *all = json_object_get(f->root, RES_OP_PROFILE);
    const json_t *cp = json_object_get(all, c->canon);
    if (!cp)
        cp = json_object_get(all, c->run_name);
    const json_t *ops = json_object_get(cp, RES_OP_OPS);
    if (json_is_array(ops)) {
        const json_t *fw = json_object_get(cp, RES_OP_FORWARDS);
        double forwards = json_is_number(fw) && json_number_value(fw) > 0 ? json_number_value(fw) : 1;
        size_t i;
        const json_t *o;
        json_array_foreach(ops, i, o) {
            const json_t *name = json_object_get(o, RES_OP_NAME);
            const json_t *par = json_object_get(o, RES_OP_PARENT);
            const json_t *upf = json_object_get(o, RES_OP_US_PER_FORWARD);
            const json_t *tot = json_object_get(o, RES_OP_TOTAL_US);
            if (!json_is_string(name))
                continue;
            double us = json_is_number(upf)   ? json_number_value(upf)
                        : json_is_number(tot) ? json_number_value(tot) / forwards
                                              : NAN;
            if (isfinite(us))
                op_add(p, json_string_value(name), json_is_string(par) ? json_string_value(par) : "",
                       us);
        }
        p->source = "`itera_op_profile` (µs per forward: `us_per_forward`)";
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
        double x;
        if (gb_cell_mean(c, key, &x))
            op_add(p, key + strlen(OP_PREFIX), "", x);
    }
    p->source = "counters `" OP_PREFIX "<zone>` (mean)";
    return p->n;
}

static const char *op_parent(const op_profile *p, const char *zone)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->zone[i], zone) == 0)
            return p->parent[i];
    return "";
}

static double op_get(const op_profile *p, const char *zone)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->zone[i], zone) == 0)
            return p->us[i];
    return NAN;
}

static void table_ops(rp *r, const section *s)
{
    sb_printf(&r->md, "### Operation profile\n\n");
    want w = WANT(BENCH_PREFILL);
    w.no_peer = true;
    w.quant = ref_quant();
    if (!find(s, &w))
        w.quant = NULL;
    /* only cells that carry a profile */
    const char *kernels[16];
    static op_profile prof[16];
    int nk = 0;
    if (narrow(s, &w, DIM_SEQ, PREFILL_SEQ, false) >= 0) {
        narrow(s, &w, DIM_BATCH, PREFILL_BATCH, false);
        narrow(s, &w, DIM_THREADS, s->threads > 0 ? s->threads : INT_MAX, true);
        if (!w.quant) {
            const char *qs[8];
            distinct_names(s, &w, true, qs, 8);
            w.quant = qs[0];
        }
        const char *all[16];
        int na = distinct_names(s, &w, false, all, 16);
        for (int k = 0; k < na; k++) {
            want x = w;
            x.kernel = all[k];
            const rp_cell *c = find(s, &x);
            if (c && read_op_profile(&r->files[c->file], c->c, &prof[nk]) > 0)
                kernels[nk++] = all[k];
        }
    }
    if (nk == 0) {
        no_results(r, "an operation profile (`itera_op_profile` entries or `op_us.<zone>` counters "
                      "for `prefill/…` benchmarks)");
        return;
    }
    sb_printf(&r->md,
              "µs per op for one prefill (%s, L = %d, batch %d, %d thread%s), and its share of the "
              "whole forward. Nested ops (↳) are included in their parent.\n\n",
              w.quant, w.seq, w.batch, w.threads, w.threads == 1 ? "" : "s");

    /* union of zones, sorted */
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

    sb_printf(&r->md, "| Op | What |");
    for (int k = 0; k < nk; k++)
        sb_printf(&r->md, " %s (µs) | %s (%% of forward) |", kernels[k], kernels[k]);
    sb_printf(&r->md, "\n| --- | --- |");
    for (int k = 0; k < nk; k++)
        sb_printf(&r->md, " ---: | ---: |");
    sb_printf(&r->md, "\n");

    char datpath[1200];
    itera_file *dat = open_dat(r, s, "ops", datpath, sizeof datpath);
    if (dat) {
        itera_file_printf(dat, "op");
        for (int k = 0; k < nk; k++)
            itera_file_printf(dat, " \"%s\"", kernels[k]);
        itera_file_printf(dat, "\n");
    }
    /* a zone is shown nested when its parent (recorded, else "a" of a name "a.b") is
     * among the zones; the root (forward) is no parent here */
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
    bool any_original = false;
    for (int i = 0; i < nz; i++) {
        bool child = is_child[i];
        char whatbuf[256];
        const char *what = zone_what(zones[i], whatbuf, sizeof whatbuf);
        any_original = any_original || strstr(what, "¹") != NULL;
        sb_printf(&r->md, "| %s`%s` | %s |", child ? "↳ " : "", zones[i], what);
        if (dat && !child)
            itera_file_printf(dat, "\"%s\"", zones[i]);
        for (int k = 0; k < nk; k++) {
            double us = op_get(&prof[k], zones[i]), fwd = op_get(&prof[k], OP_ROOT);
            sb_printf(&r->md, " %s | %s |", fnum(us).s,
                      isfinite(fwd) && fwd > 0 && isfinite(us) ? fpct(100.0 * us / fwd).s : "n/a");
            if (dat && !child)
                itera_file_printf(dat, " %s", fdat(us).s);
        }
        sb_printf(&r->md, "\n");
        if (dat && !child)
            itera_file_printf(dat, "\n");
    }
    /* the rest of the forward, outside every top-level zone */
    sb_printf(&r->md, "| (outside the ops above) | forward − sum of the top-level ops |");
    for (int k = 0; k < nk; k++) {
        double fwd = op_get(&prof[k], OP_ROOT), sum = 0;
        for (int i = 0; i < nz; i++) {
            double us = op_get(&prof[k], zones[i]);
            if (!is_child[i] && isfinite(us))
                sum += us;
        }
        double rest = fwd - sum;
        sb_printf(&r->md, " %s | %s |", fnum(rest).s,
                  isfinite(fwd) && fwd > 0 ? fpct(100.0 * rest / fwd).s : "n/a");
    }
    sb_printf(&r->md, "\n| **`%s`** | whole prefill |", OP_ROOT);
    for (int k = 0; k < nk; k++) {
        double fwd = op_get(&prof[k], OP_ROOT);
        sb_printf(&r->md, " **%s** | %s |", fnum(fwd).s, isfinite(fwd) ? "100.0" : "n/a");
    }
    sb_printf(&r->md, "\n");
    close_dat(r, dat);
    const rp_cell *used[16];
    for (int k = 0; k < nk; k++) {
        want x = w;
        x.kernel = kernels[k];
        used[k] = find(s, &x);
    }
    char refs[256], pat[512];
    file_refs(used, nk, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_PREFILL, NAME_KERNEL),
                 "<kernel>", pat, sizeof pat);
    sb_printf(&r->md, "\n%sSource: %s `%s`: %s; %% = op / `%s`.\n\n",
              any_original ? "¹ one of the four ops of the original report's profile. " : "", refs,
              pat, prof[0].source, OP_ROOT);
    char extra[64];
    snprintf(extra, sizeof extra, "ncols=%d;", nk + 1);
    chart(r, s, "ops", "Operation profile: us per top-level op, one prefill", extra);
}

/* ---- quantization ---- */

#define MIB 1048576.0

/* The prefill configuration used by the quantization and edge tables: fp32 present,
 * preferred kernel, L closest to 128, smallest batch, the platform's threads. */
static bool prefill_config(const section *s, want *w)
{
    *w = WANT(BENCH_PREFILL);
    w->no_peer = true;
    w->quant = ref_quant();
    if (!find(s, w))
        w->quant = NULL;
    if (narrow(s, w, DIM_SEQ, PREFILL_SEQ, false) < 0)
        return false;
    narrow(s, w, DIM_BATCH, PREFILL_BATCH, false);
    narrow(s, w, DIM_THREADS, s->threads > 0 ? s->threads : INT_MAX, true);
    w->kernel = pick_kernel(s, w);
    w->quant = NULL;
    return w->kernel != NULL;
}

/* The PyTorch peer at w's shape (its own thread count preferred equal), or NULL. */
static const rp_cell *peer_cell(const section *s, const want *w)
{
    want p = *w;
    p.no_peer = false;
    p.kernel = PEER_KERNEL;
    p.quant = NULL;
    const rp_cell *c = find(s, &p);
    if (c)
        return c;
    p.threads = -1;
    if (narrow(s, &p, DIM_THREADS, w->threads, true) < 0)
        return NULL;
    return find(s, &p);
}

static void table_quant(rp *r, const section *s)
{
    sb_printf(&r->md, "### Quantization\n\n");
    want w;
    if (!prefill_config(s, &w)) {
        no_results(r, "prefill (`prefill/<quant>/…` benchmarks)");
        return;
    }
    const char *quants[16];
    int nq = distinct_names(s, &w, true, quants, 16);
    sb_printf(&r->md, "Prefill, kernel %s, L = %d, batch %d, %d thread%s.\n\n", w.kernel, w.seq,
              w.batch, w.threads, w.threads == 1 ? "" : "s");
    want wf = w;
    wf.quant = ref_quant();
    const rp_cell *fp = find(s, &wf);
    double fp_bytes = mean_of(fp, MET_WEIGHT_BYTES), fp_lat = fp ? latency_ms(fp, NULL) : NAN;

    sb_printf(&r->md, "| Method | Size (MB) | Compression | Latency (ms) | Speedup | max abs logit "
                      "error | top-1 agreement |\n");
    sb_printf(&r->md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    char datpath[1200];
    itera_file *dat = open_dat(r, s, "quant", datpath, sizeof datpath);
    if (dat)
        itera_file_printf(dat, "# method size_mb latency_ms\n");
    const rp_cell *used[17];
    int nu = 0;
    for (int q = 0; q <= nq; q++) {
        const rp_cell *c;
        char label[96];
        if (q < nq) {
            want x = w;
            x.quant = quants[q];
            c = find(s, &x);
            snprintf(label, sizeof label, "%s", quants[q]);
        } else {
            c = peer_cell(s, &w);
            if (!c)
                break;
            snprintf(label, sizeof label, "%s %s, %d thread%s", PEER_LABEL, c->c->nm.quant,
                     c->c->nm.threads, c->c->nm.threads == 1 ? "" : "s");
        }
        used[nu++] = c;
        if (c->c->error) {
            sb_printf(&r->md, "| %s | failed: %s | | | | | |\n", label,
                      c->c->error_message ? c->c->error_message : "error");
            continue;
        }
        double bytes = mean_of(c, MET_WEIGHT_BYTES), lat = latency_ms(c, NULL);
        char comp[32] = "n/a", spd[32] = "n/a";
        if (isfinite(fp_bytes) && bytes > 0)
            snprintf(comp, sizeof comp, "%.2f×", fp_bytes / bytes);
        if (isfinite(fp_lat) && lat > 0)
            snprintf(spd, sizeof spd, "%.2f×", fp_lat / lat);
        sb_printf(&r->md, "| %s | %s | %s | %s | %s | %s | %s |\n", label, fnum(bytes / MIB).s, comp,
                  fnum(lat).s, spd, fsci(mean_of(c, MET_MAX_ABS_LOGIT_ERR)).s,
                  fnum(mean_of(c, MET_TOP1_AGREEMENT)).s);
        if (dat)
            itera_file_printf(dat, "\"%s\" %s %s\n", q < nq ? quants[q] : "PyTorch", fdat(bytes / MIB).s,
                    fdat(lat).s);
    }
    close_dat(r, dat);
    char refs[256], pat[512];
    file_refs(used, nu, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_PREFILL, NAME_QUANT),
                 "<quant>", pat, sizeof pat);
    sb_printf(&r->md,
              "\nSource: %s `%s`%s: size = `weight_bytes` (the stored weights; 1 MB = 2^20 bytes), "
              "compression = %s bytes / bytes, latency = `latency_ms` (mean), speedup = %s "
              "latency / latency, `max_abs_logit_err` and `top1_agreement` (against %s on fixed "
              "inputs; a fraction, 1 = every position agrees).\n\n",
              refs, pat, nu > nq ? " and the PyTorch peer" : "", ref_quant(), ref_quant(), ref_quant());
    chart(r, s, "quant", "Quantization: weight size and prefill latency", NULL);
}

/* ---- decode ---- */

static void table_decode(rp *r, const section *s)
{
    sb_printf(&r->md, "### Decode\n\n");
    want w = WANT(BENCH_DECODE);
    w.no_peer = true;
    if (narrow(s, &w, DIM_BATCH, 1, false) < 0) {
        no_results(r, "decode (`decode/<quant>/…` benchmarks)");
        return;
    }
    narrow(s, &w, DIM_STEPS, INT_MAX, true);
    w.kernel = pick_kernel(s, &w);
    const char *quants[16];
    int nq = distinct_names(s, &w, true, quants, 16);
    int th[32];
    int nt = distinct_dim(s, &w, DIM_THREADS, th, 32);
    sb_printf(&r->md, "Tokens per second, %d decode steps from an empty state, batch %d, kernel %s.\n\n",
              w.steps, w.batch, w.kernel);
    sb_printf(&r->md, "| Quant |");
    for (int t = 0; t < nt; t++)
        sb_printf(&r->md, " %d thread%s (tok/s) |", th[t], th[t] == 1 ? "" : "s");
    sb_printf(&r->md, "\n| --- |");
    for (int t = 0; t < nt; t++)
        sb_printf(&r->md, " ---: |");
    sb_printf(&r->md, "\n");
    char datpath[1200];
    itera_file *dat = open_dat(r, s, "decode", datpath, sizeof datpath);
    if (dat) {
        itera_file_printf(dat, "threads");
        for (int q = 0; q < nq; q++)
            itera_file_printf(dat, " \"%s\"", quants[q]);
        itera_file_printf(dat, "\n");
    }
    const rp_cell *used[512];
    int nu = 0;
    for (int q = 0; q < nq; q++) {
        sb_printf(&r->md, "| %s |", quants[q]);
        for (int t = 0; t < nt; t++) {
            want x = w;
            x.quant = quants[q];
            x.threads = th[t];
            const rp_cell *c = find(s, &x);
            if (c && nu < 512)
                used[nu++] = c;
            sb_printf(&r->md, " %s |", !c             ? "—"
                                       : c->c->error ? "failed"
                                                     : fnum(mean_of(c, MET_TOKENS_PER_SECOND)).s);
        }
        sb_printf(&r->md, "\n");
    }
    for (int t = 0; t < nt && dat; t++) {
        itera_file_printf(dat, "%d", th[t]);
        for (int q = 0; q < nq; q++) {
            want x = w;
            x.quant = quants[q];
            x.threads = th[t];
            itera_file_printf(dat, " %s", fdat(mean_of(find(s, &x), MET_TOKENS_PER_SECOND)).s);
        }
        itera_file_printf(dat, "\n");
    }
    close_dat(r, dat);
    char refs[256], pat[512], pat2[512];
    file_refs(used, nu, refs, sizeof refs);
    name_pattern(used[0]->c->run_name, bench_family_part_position(BENCH_DECODE, NAME_QUANT),
                 "<quant>", pat, sizeof pat);
    const char *kp = strstr(pat, "threads:");
    if (kp) {
        const char *end = strchr(kp, '/');
        snprintf(pat2, sizeof pat2, "%.*sthreads:<T>%s", (int)(kp - pat), pat, end ? end : "");
    } else {
        snprintf(pat2, sizeof pat2, "%s", pat);
    }
    sb_printf(&r->md, "\nSource: %s `%s`: `tokens_per_second` (mean); — where that run is absent.\n\n",
              refs, pat2);
    char extra[64];
    snprintf(extra, sizeof extra, "ncols=%d;", nq + 1);
    chart(r, s, "decode", "Decode: tokens/s against threads", extra);
}

/* ---- thread scaling ---- */

static void table_threads(rp *r, const section *s)
{
    sb_printf(&r->md, "### Thread scaling\n\n");
    want w;
    int th[32];
    if (!prefill_config(s, &w)) {
        sb_printf(&r->md, "No results for thread scaling (no prefill benchmarks).\n\n");
        return;
    }
    w.quant = ref_quant();
    w.threads = -1;
    w.kernel = NULL;
    if (!find(s, &w))
        w.quant = NULL;
    if (!w.quant) {
        const char *qs[8];
        distinct_names(s, &w, true, qs, 8);
        w.quant = qs[0];
    }
    int nt = distinct_dim(s, &w, DIM_THREADS, th, 32);
    if (nt < 2) {
        sb_printf(&r->md, "No results for thread scaling: every prefill (%s, L = %d, batch %d) ran "
                          "with %d thread%s.\n\n",
                  w.quant, w.seq, w.batch, th[0], th[0] == 1 ? "" : "s");
        return;
    }
    sb_printf(&r->md, "Prefill, %s, L = %d, batch %d:\n\n", w.quant, w.seq, w.batch);
    table_sweep(r, s, &w, DIM_THREADS, "threads", "threads", "Prefill: tokens/s against threads",
                true);
}

/* ---- edge platforms (all sections) ---- */

static void edge_row(rp *r, const char *label, const rp_cell *c, itera_file *dat, const char *datlabel)
{
    if (c->c->error) {
        sb_printf(&r->md, "| %s | %d | failed: %s | | | |\n", label, c->c->nm.threads,
                  c->c->error_message ? c->c->error_message : "error");
        return;
    }
    double lat = latency_ms(c, NULL), tps = mean_of(c, MET_TOKENS_PER_SECOND);
    double util = mean_of(c, MET_CPU_UTIL), lo, hi, rss = NAN;
    if (gb_cell_range(c->c, MET_PEAK_RSS_MB, &lo, &hi) > 0)
        rss = hi;
    else
        rss = mean_of(c, MET_PEAK_RSS_MB);
    sb_printf(&r->md, "| %s | %d | %s | %s | %s | %s | [%d] |\n", label, c->c->nm.threads,
              fnum(lat).s, fnum(tps).s, fpct(100.0 * util).s, fnum(rss).s, c->file + 1);
    if (dat)
        itera_file_printf(dat, "\"%s\" %s %s\n", datlabel, fdat(tps).s, fdat(lat).s);
}

static void table_edge(rp *r)
{
    sb_printf(&r->md, "## Edge platforms\n\n");
    int rows = 0;
    bool present[N_STD_PLATFORMS] = {false};
    for (int i = 0; i < r->n_sec; i++) {
        want w;
        if (!prefill_config(&r->sec[i], &w))
            continue;
        int pr = platform_rank(r->sec[i].platform);
        if (pr < N_STD_PLATFORMS)
            present[pr] = true;
        rows++;
    }
    if (rows == 0) {
        no_results(r, "any platform (no `prefill/…` benchmarks in these files)");
        return;
    }
    /* the kernels by report_rank: "parallel, the engine's default at this shape; else
     * chunked, sequential" */
    char pref[256];
    size_t pu = 0;
    int ranked = 0;
    for (int rank = 0; rank < 64 && pu < sizeof pref; rank++)
        for (int k = 0; k < ITERA_KERNEL_COUNT && pu < sizeof pref; k++) {
            const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
            if (ki->report_rank != rank)
                continue;
            pu += (size_t)snprintf(pref + pu, sizeof pref - pu, "%s%s%s", ranked == 1 ? "; else " : ranked ? ", " : "",
                                   ki->name, ranked == 0 ? ", the engine's default at this shape" : "");
            ranked++;
        }
    sb_printf(&r->md,
              "One prefill per platform: %s (else the first quant), the preferred kernel "
              "(%s), L closest to %d, the smallest batch, the "
              "platform's own thread count. Emulated rows ran the platform's threads on fewer "
              "cores than it has: they do not measure that machine.\n\n",
              ref_quant(), pref, PREFILL_SEQ);
    sb_printf(&r->md, "| Platform | Cores | Latency (ms) | Throughput (tok/s) | CPU usage (%%) | Peak "
                      "memory (MB) | Source |\n");
    sb_printf(&r->md, "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");

    /* the chart's data goes with the report, not a platform */
    section all;
    memset(&all, 0, sizeof all);
    snprintf(all.slug, sizeof all.slug, "all");
    char datpath[1200];
    itera_file *dat = open_dat(r, &all, "edge", datpath, sizeof datpath);
    if (dat)
        itera_file_printf(dat, "# platform tokens_per_second latency_ms\n");
    for (int i = 0; i < r->n_sec; i++) {
        const section *s = &r->sec[i];
        want w;
        if (!prefill_config(s, &w))
            continue;
        want x = w;
        x.quant = ref_quant();
        const rp_cell *c = find(s, &x);
        if (!c) {
            const char *qs[8];
            distinct_names(s, &w, true, qs, 8);
            x.quant = qs[0];
            c = find(s, &x);
        }
        char label[160], dl[160];
        snprintf(label, sizeof label, "%s%s (%s, %s, L = %d, batch %d)", s->platform,
                 s->emulated ? " **(emulated)**" : "", x.quant, x.kernel, x.seq, x.batch);
        snprintf(dl, sizeof dl, "%s%s", s->platform, s->emulated ? " (emulated)" : "");
        edge_row(r, label, c, dat, dl);
        const rp_cell *p = peer_cell(s, &w);
        if (p) {
            snprintf(label, sizeof label, "%s%s — %s (%s, L = %d, batch %d)", s->platform,
                     s->emulated ? " **(emulated)**" : "", PEER_LABEL, p->c->nm.quant, p->c->nm.seq,
                     p->c->nm.batch);
            snprintf(dl, sizeof dl, "%s%s PyTorch", s->platform, s->emulated ? " (emulated)" : "");
            edge_row(r, label, p, dat, dl);
        }
    }
    close_dat(r, dat);
    sb_printf(&r->md,
              "\nSource: the file named in each row: cores = `threads:` of the benchmark name, "
              "latency = `latency_ms` (mean), throughput = `tokens_per_second` (mean), CPU usage = "
              "100 × `cpu_util` (mean), peak memory = `peak_rss_mb` (largest over the "
              "repetitions).\n\n");
    for (int p = 0; p < N_STD_PLATFORMS; p++)
        if (!present[p])
            sb_printf(&r->md, "No results for %s: no result file for platform `%s` was given.\n\n",
                      platform_order[p], platform_order[p]);
    chart(r, &all, "edge", "Edge platforms: prefill tokens/s", NULL);
}

/* ---- header per file ---- */

static void file_header(rp *r, int fi)
{
    const gb_file *f = &r->files[fi];
    char b[32][512];
    int k = 0;
#define VAL(key) gb_ctx(f, (key), b[k++], sizeof b[0])
    const char *plat = VAL(CTX_PLATFORM), *prof = VAL(CTX_PROFILE),
               *thr = VAL(CTX_THREADS), *cpus = VAL(CTX_WORKER_CPUS),
               *emu = VAL(CTX_EMULATED), *host = VAL(CTX_HOST_NAME), *cpu = VAL(CTX_CPU_MODEL),
               *ncpu = VAL(CTX_NUM_CPUS), *mhz = VAL(CTX_MHZ_PER_CPU), *topo = VAL(CTX_TOPOLOGY),
               *isa = VAL(CTX_ISA), *ctr = VAL(CTX_COUNTERS), *peak = VAL(CTX_PEAK_GFLOPS),
               *model = VAL(CTX_MODEL), *git = VAL(CTX_GIT), *cc = VAL(CTX_COMPILER),
               *bt = VAL(CTX_LIBRARY_BUILD_TYPE), *date = VAL(CTX_DATE), *peer = VAL(CTX_PEER),
               *mname = VAL(CTX_MACHINE), *mid = VAL(CTX_MACHINE_ID),
               *mcpu = VAL(CTX_MACHINE_CPU_MODEL);
#undef VAL
    if (mcpu)
        cpu = mcpu; /* itera_cpu_model: files written before the machine fingerprint */
#define NR(x) ((x) ? (x) : "not recorded")
    char cell[2048];
    sb_printf(&r->md, "### [%d] `%s`\n\n| | |\n| --- | --- |\n", fi + 1, f->path);
    snprintf(cell, sizeof cell, "%s, %s worker thread(s) on CPUs %s; emulated: %s", NR(plat), NR(thr),
             NR(cpus), emu && strcmp(emu, "true") == 0 ? "**yes**" : NR(emu));
    md_cell(b[k], sizeof b[0], cell);
    sb_printf(&r->md, "| Platform | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(prof));
    sb_printf(&r->md, "| Profile | %s |\n", b[k]);
    if (mname)
        snprintf(cell, sizeof cell, "%s (id %.12s); host %s; CPU %s; %s CPUs at %s MHz", mname,
                 NR(mid), NR(host), NR(cpu), NR(ncpu), NR(mhz));
    else
        snprintf(cell, sizeof cell, "%s; CPU %s; %s CPUs at %s MHz", NR(host), NR(cpu), NR(ncpu),
                 NR(mhz));
    md_cell(b[k], sizeof b[0], cell);
    sb_printf(&r->md, "| Machine | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(topo));
    sb_printf(&r->md, "| Topology | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(isa));
    sb_printf(&r->md, "| ISA path | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(ctr));
    sb_printf(&r->md, "| Counters | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(peak));
    sb_printf(&r->md, "| Peak (measured, GFLOP/s) | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(model));
    sb_printf(&r->md, "| Model | %s |\n", b[k]);
    snprintf(cell, sizeof cell, "git %s; compiler %s; Google Benchmark library build: %s", NR(git),
             NR(cc), NR(bt));
    md_cell(b[k], sizeof b[0], cell);
    sb_printf(&r->md, "| Build | %s |\n", b[k]);
    md_cell(b[k], sizeof b[0], NR(date));
    sb_printf(&r->md, "| Date | %s |\n", b[k]);
    if (peer) {
        md_cell(b[k], sizeof b[0], peer);
        sb_printf(&r->md, "| Peer | %s |\n", b[k]);
    }
#undef NR
    int failed = 0;
    for (int i = 0; i < f->n_cells; i++)
        failed += f->cells[i].error;
    sb_printf(&r->md, "| Benchmarks | %d (%d failed) |\n\n", f->n_cells, failed);
    for (int i = 0; i < f->n_cells; i++)
        if (f->cells[i].error) {
            md_cell(b[k], sizeof b[0],
                    f->cells[i].error_message ? f->cells[i].error_message : "(no message)");
            sb_printf(&r->md, "- failed: `%s`: %s\n", f->cells[i].run_name, b[k]);
        }
    if (failed)
        sb_printf(&r->md, "\n");
}

/* ---- the command ---- */

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: itera-bench report [options] FILE.json... [-o DIR]\n"
            "\n"
            "Renders DIR/README.md (markdown tables) and charts from Google Benchmark result files\n"
            "written by `itera-bench run`: per platform a kernel comparison, sequence-length table,\n"
            "operation profile, quantization, decode and thread scaling; an edge-platforms table;\n"
            "a header per file. The same files give byte-identical markdown.\n"
            "\n"
            "options:\n"
            "  -o, --out DIR        output folder (default reports)\n"
            "  --templates DIR      gnuplot templates <chart>.gp (default reports)\n"
            "  --gnuplot PROG       gnuplot program (default gnuplot; ITERA_GNUPLOT overrides)\n"
            "  --no-charts          write the .dat files but draw no charts\n"
            "  --strict             exit 1 when a table has no results or an image is missing\n"
            "  -h, --help           this text\n"
            "exit status: 0 done, 1 --strict check failed, 2 bad usage or input\n");
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bench_status report_main(int argc, char **argv)
{
    rp r;
    memset(&r, 0, sizeof r);
    r.outdir = "reports";
    r.tpldir = NULL;
    r.gnuplot = getenv("ITERA_GNUPLOT") ? getenv("ITERA_GNUPLOT") : "gnuplot";
    bool no_charts = false;
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    int np = 0;
    bench_status rc = BENCH_OK;
    if (!paths) {
        fprintf(stderr, "report: out of memory\n");
        return BENCH_ERR_NOMEM;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(paths);
            return BENCH_OK;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--templates") == 0 ||
                   strcmp(a, "--gnuplot") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "report: %s needs a value\n", a);
                free(paths);
                return BENCH_ERR_INPUT;
            }
            const char *v = argv[++i];
            if (a[1] == 'o' || a[2] == 'o')
                r.outdir = v;
            else if (a[2] == 't')
                r.tpldir = v;
            else
                r.gnuplot = v;
        } else if (strcmp(a, "--no-charts") == 0) {
            no_charts = true;
        } else if (strcmp(a, "--strict") == 0) {
            r.strict = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "report: unknown option '%s' (see itera-bench report --help)\n", a);
            free(paths);
            return BENCH_ERR_INPUT;
        } else {
            paths[np++] = a;
        }
    }
    if (np == 0) {
        fprintf(stderr, "report: no result files given; usage: itera-bench report FILE.json... [-o DIR]\n");
        free(paths);
        return BENCH_ERR_INPUT;
    }
    if (!r.tpldir)
        r.tpldir = "reports";
    qsort(paths, (size_t)np, sizeof *paths, cmp_path);
    r.files = calloc((size_t)np, sizeof *r.files);
    if (!r.files) {
        free(paths);
        return BENCH_ERR_NOMEM;
    }
    for (int i = 0; i < np; i++) {
        if (i > 0 && strcmp(paths[i], paths[i - 1]) == 0)
            continue; /* the same file twice */
        char err[1024];
        if (gb_file_load(paths[i], &r.files[r.n_files], err, sizeof err) != 0) {
            fprintf(stderr, "report: %s\n", err);
            rc = BENCH_ERR_INPUT;
            goto out;
        }
        r.n_files++;
    }
    if (mkdir_p(r.outdir) != 0) {
        fprintf(stderr, "report: cannot create output folder %s: %s\n", r.outdir, strerror(errno));
        rc = BENCH_ERR_IO;
        goto out;
    }
    char oldlog[1100];
    snprintf(oldlog, sizeof oldlog, "%s/gnuplot.log", r.outdir);
    remove(oldlog); /* this run's messages only */
    if (build_sections(&r) != 0) {
        fprintf(stderr, "report: out of memory\n");
        rc = BENCH_ERR_NOMEM;
        goto out;
    }
    if (no_charts)
        snprintf(r.charts_why, sizeof r.charts_why, "--no-charts was given");
    else
        check_gnuplot(&r);

    sb_printf(&r.md, "# itera-bench report\n\n");
    sb_printf(&r.md,
              "Rendered by `itera-bench report` from %d result file%s (listed at the end, as [n]); "
              "every number below is a field of those files or a ratio of two, named under each "
              "table. Latencies are means over the repetitions.\n\n",
              r.n_files, r.n_files == 1 ? "" : "s");
    if (r.charts)
        sb_printf(&r.md, "Charts: gnuplot, %s terminal; their data are the `.dat` files beside "
                         "them.\n\n", r.term);
    else
        sb_printf(&r.md, "**Charts were skipped**: %s. The tables are complete; each chart's data "
                         "is still written as a `.dat` file.\n\n", r.charts_why);

    sb_printf(&r.md, "Platforms: ");
    for (int i = 0; i < r.n_sec; i++)
        sb_printf(&r.md, "%s[%s%s](#%s)", i ? ", " : "", r.sec[i].platform,
                  r.sec[i].emulated ? " (emulated)" : "", r.sec[i].slug);
    sb_printf(&r.md, ".\n\n");

    table_edge(&r);

    for (int i = 0; i < r.n_sec; i++) {
        const section *s = &r.sec[i];
        sb_printf(&r.md, "<a id=\"%s\"></a>\n\n## Platform: %s%s\n\n", s->slug, s->platform,
                  s->emulated ? " (emulated)" : "");
        if (s->emulated)
            sb_printf(&r.md,
                      "**Emulated**: these runs used the platform's thread count on fewer cores than "
                      "it has (see `itera_worker_cpus` in the file header); they do not measure a "
                      "real %s machine.\n\n",
                      s->platform);
        sb_printf(&r.md, "From ");
        for (int k = 0; k < s->n_files; k++)
            sb_printf(&r.md, "%s[%d]", k ? ", " : "", s->files[k] + 1);
        if (s->threads > 0)
            sb_printf(&r.md, "; platform threads: %d", s->threads);
        sb_printf(&r.md, ".\n\n");
        want scan_group;
        table_kernels(&r, s, &scan_group);
        table_seqlen(&r, s, &scan_group);
        table_ops(&r, s);
        table_quant(&r, s);
        table_decode(&r, s);
        table_threads(&r, s);
    }

    sb_printf(&r.md, "## Result files\n\n");
    for (int i = 0; i < r.n_files; i++)
        file_header(&r, i);

    if (r.md.oom) {
        fprintf(stderr, "report: out of memory\n");
        rc = BENCH_ERR_NOMEM;
        goto out;
    }
    char mdpath[1100];
    snprintf(mdpath, sizeof mdpath, "%s/README.md", r.outdir);
    itera_error werr;
    if (itera_write_file(mdpath, r.md.p, r.md.n, &werr) != ITERA_OK)
        write_failed(&r, werr.msg);
    if (r.write_errors) {
        fprintf(stderr, "report: %d file%s could not be written (see above)\n", r.write_errors,
                r.write_errors == 1 ? "" : "s");
        rc = BENCH_ERR_IO;
        goto out;
    }
    /* gnuplot's messages, kept only when it said something */
    char logpath[1100];
    snprintf(logpath, sizeof logpath, "%s/gnuplot.log", r.outdir);
    struct stat lst;
    if (stat(logpath, &lst) == 0 && lst.st_size == 0)
        remove(logpath);
    printf("report: %s (%d file%s, %d platform section%s)%s\n", mdpath, r.n_files,
           r.n_files == 1 ? "" : "s", r.n_sec, r.n_sec == 1 ? "" : "s",
           r.charts ? "" : "; charts skipped");
    if (!r.charts)
        fprintf(stderr, "report: charts skipped: %s\n", r.charts_why);
    if (r.strict && (r.empty_tables || r.missing_images || !r.charts)) {
        fprintf(stderr, "report: --strict: %d table%s without results, %d image%s missing%s\n",
                r.empty_tables, r.empty_tables == 1 ? "" : "s", r.missing_images,
                r.missing_images == 1 ? "" : "s", r.charts ? "" : ", charts skipped");
        rc = BENCH_ERR_FAILED;
    }

out:
    for (int i = 0; i < r.n_sec; i++) {
        free(r.sec[i].cells);
        name_index_free(&r.sec[i].by_canon);
    }
    free(r.sec);
    for (int i = 0; i < r.n_files; i++)
        gb_file_free(&r.files[i]);
    free(r.files);
    free(r.md.p);
    free(paths);
    return rc;
}
