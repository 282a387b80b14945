/*
 * summary.c: the end-of-run table (see summary.h).
 */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "itera.h"
#include "schema.h"
#include "stats.h"

#define MAX_REPS 1024

static summary_figure figure_of(double *v, int n)
{
    summary_figure f = { 0 };
    if (n <= 0)
        return f;
    f.n = n;
    f.median = stats_median(v, n);
    f.mad = stats_mad(v, n, f.median);
    return f;
}

summary_figure summary_cell_figure(const gb_cell *c, const char *metric)
{
    double v[MAX_REPS];
    return figure_of(v, gb_cell_values(c, metric, v, MAX_REPS));
}

summary_figure summary_runs_figure(const json_t *runs, const char *metric)
{
    double v[MAX_REPS];
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(runs, i, e)
    {
        const char *type = json_string_value(json_object_get(e, ENT_RUN_TYPE));
        if (n < MAX_REPS && type && strcmp(type, "iteration") == 0 &&
            !json_is_true(json_object_get(e, ENT_ERROR_OCCURRED)) &&
            gb_entry_metric(e, metric, &v[n]))
            n++;
    }
    return figure_of(v, n);
}

/* v rounded to an integer with thousands separators: 1234567 -> "1,234,567". */
static void thousands(double v, char *out, size_t n)
{
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), j = 0;
    if (v < 0 && j + 1 < n)
        out[j++] = '-';
    for (size_t i = 0; i < len && j + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && j + 1 < n)
            out[j++] = ',';
        if (j + 1 < n)
            out[j++] = digits[i];
    }
    out[j] = '\0';
}

char *summary_format_rate(summary_figure f, char *out, size_t n)
{
    if (f.n == 0 || !isfinite(f.median)) {
        snprintf(out, n, "-");
        return out;
    }
    char num[48];
    thousands(f.median, num, sizeof num);
    double pct = f.median != 0 ? 100.0 * f.mad / fabs(f.median) : 0;
    snprintf(out, n, "%s ± %.1f%%", num, pct);
    return out;
}

void summary_headline(const json_t *runs, char *out, size_t n)
{
    summary_figure f = summary_runs_figure(runs, MET_TOKENS_PER_SECOND);
    char rate[64];
    if (f.n == 0)
        snprintf(out, n, "%s", "");
    else
        snprintf(out, n, "tokens/s %s", summary_format_rate(f, rate, sizeof rate));
}

/* ---- the table ---- */

/* Columns: a title, and whether the text is right-aligned. Each is as wide as its widest
 * text (UTF-8 aware), two blanks apart, or one where that would not fit SUMMARY_WIDTH. */
typedef struct column {
    const char *title;
    bool right;
} column;

enum { COL_TEST, COL_QUANT, COL_KERNEL, COL_THR, COL_RATE, COL_LAT, COL_SPEED, COL_TOP1,
       COL_ERR, NCOLS };

static const column columns[NCOLS] = {
    [COL_TEST] = { "test", false },     [COL_QUANT] = { "quant", false },
    [COL_KERNEL] = { "kernel", false }, [COL_THR] = { "thr", true },
    [COL_RATE] = { "tokens/s", true },  [COL_LAT] = { "latency", true },
    [COL_SPEED] = { "speed-up", true }, [COL_TOP1] = { "top-1", true },
    [COL_ERR] = { "max|err|", true },
};
#define CELL_TEXT 48

typedef char row_text[NCOLS][CELL_TEXT];

/* Display width of UTF-8 text: bytes that do not continue a character. */
static int display_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void print_row(FILE *out, row_text text, const int width[NCOLS], int gap)
{
    char line[512];
    size_t j = 0;
    for (int c = 0; c < NCOLS && j < sizeof line; c++) {
        int pad = width[c] - display_width(text[c]);
        if (pad < 0)
            pad = 0;
        j += (size_t)snprintf(line + j, sizeof line - j, "%*s%*s%s%*s", c ? gap : 0, "",
                              columns[c].right ? pad : 0, "", text[c],
                              columns[c].right ? 0 : pad, "");
    }
    /* no trailing blanks */
    size_t len = strlen(line);
    while (len && line[len - 1] == ' ')
        line[--len] = '\0';
    fprintf(out, "%s\n", line);
}

/* One row: a group and the cell that stands for it. */
typedef struct row {
    const gb_cell *cell;
} row;

static bool same_group(const bench_name *a, const bench_name *b)
{
    return a->family == b->family && strcmp(a->quant, b->quant) == 0 &&
           strcmp(a->kernel, b->kernel) == 0 && a->threads == b->threads;
}

/* Whether cell b is the better headline of its family than a (see summary.h). */
static bool better_headline(const bench_name *a, const bench_name *b)
{
    switch (a->family) {
    case BENCH_PREFILL:
        if (b->batch != a->batch)
            return b->batch < a->batch;
        return b->seq > a->seq;
    case BENCH_DECODE:
        if (b->batch != a->batch)
            return b->batch < a->batch;
        return b->steps > a->steps;
    case BENCH_SCAN: {
        if (b->batch != a->batch)
            return b->batch > a->batch;
        int da = abs(a->seq - 128), db = abs(b->seq - 128);
        return db < da || (db == da && b->seq < a->seq);
    }
    default:
        return false;
    }
}

static bool same_shape(const bench_name *a, const bench_name *b)
{
    return a->family == b->family && a->channels == b->channels && a->state == b->state &&
           a->seq == b->seq && a->batch == b->batch && a->steps == b->steps &&
           a->threads == b->threads;
}

/* The cell of f with c's shape and threads, and the given quant and kernel; NULL if none. */
static const gb_cell *find_like(const gb_file *f, const gb_cell *c, const char *quant,
                                const char *kernel)
{
    for (int i = 0; i < f->n_cells; i++) {
        const gb_cell *o = &f->cells[i];
        if (o->ours && !o->error && same_shape(&o->nm, &c->nm) &&
            strcmp(o->nm.quant, quant) == 0 && strcmp(o->nm.kernel, kernel) == 0)
            return o;
    }
    return NULL;
}

static void format_test(const bench_name *nm, char *out, size_t n)
{
    switch (nm->family) {
    case BENCH_PREFILL: snprintf(out, n, "prefill L%d B%d", nm->seq, nm->batch); break;
    case BENCH_DECODE: snprintf(out, n, "decode %d B%d", nm->steps, nm->batch); break;
    case BENCH_SCAN: snprintf(out, n, "scan L%d B%d", nm->seq, nm->batch); break;
    default: snprintf(out, n, "?"); break;
    }
}

/* 3 significant digits (from 1 up): 1.25, 12.1, 184 */
static void format_sig3(double v, char *out, size_t n)
{
    if (!isfinite(v))
        snprintf(out, n, "-");
    else if (fabs(v) >= 100)
        snprintf(out, n, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(out, n, "%.1f", v);
    else
        snprintf(out, n, "%.2f", v);
}

/* The speed-up column: this row's median tokens/s over its baseline's. */
static void format_speedup(const gb_file *f, const gb_cell *c, summary_figure rate, char *out,
                           size_t n)
{
    /* baselines: the reference kernel and format rows (itera_kernels.def, itera_formats.def) */
    const char *ref_kernel = itera_kernel_name(ITERA_KERNEL_REFERENCE);
    const char *ref_quant = itera_quant_name(ITERA_QUANT_REFERENCE);
    const gb_cell *base = NULL;
    const char *vs = NULL;
    char kvs[8];
    snprintf(kvs, sizeof kvs, "%.3s", ref_kernel); /* "seq" */
    bool seq = strcmp(c->nm.kernel, ref_kernel) == 0;
    if (c->nm.family == BENCH_SCAN) {
        if (!seq) {
            base = find_like(f, c, "", ref_kernel);
            vs = kvs;
        }
    } else if (strcmp(c->nm.quant, ref_quant) != 0) {
        base = find_like(f, c, ref_quant, c->nm.kernel);
        vs = ref_quant;
    } else if (!seq) {
        base = find_like(f, c, ref_quant, ref_kernel);
        vs = kvs;
    }
    summary_figure b = base ? summary_cell_figure(base, MET_TOKENS_PER_SECOND) : (summary_figure){ 0 };
    if (!base || b.n == 0 || rate.n == 0 || b.median <= 0)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.2f× %s", rate.median / b.median, vs);
}

/* The texts of one row: the cell c standing for its group. */
static void row_texts(const gb_file *f, const gb_cell *c, row_text text)
{
    format_test(&c->nm, text[COL_TEST], CELL_TEXT);
    snprintf(text[COL_QUANT], CELL_TEXT, "%s", c->nm.quant[0] ? c->nm.quant : "-");
    snprintf(text[COL_KERNEL], CELL_TEXT, "%s", c->nm.kernel);
    snprintf(text[COL_THR], CELL_TEXT, "%d", c->nm.threads);
    summary_figure tps = summary_cell_figure(c, MET_TOKENS_PER_SECOND);
    summary_figure l = summary_cell_figure(c, MET_LATENCY_MS);
    summary_figure t1 = summary_cell_figure(c, MET_TOP1_AGREEMENT);
    summary_figure me = summary_cell_figure(c, MET_MAX_ABS_LOGIT_ERR);
    if (c->error && tps.n == 0)
        snprintf(text[COL_RATE], CELL_TEXT, "FAILED");
    else
        summary_format_rate(tps, text[COL_RATE], CELL_TEXT);
    if (l.n) {
        char v[24];
        bool ms = l.median >= 1.0;
        format_sig3(ms ? l.median : l.median * 1e3, v, sizeof v);
        snprintf(text[COL_LAT], CELL_TEXT, "%s %s", v, ms ? "ms" : "µs");
    } else {
        snprintf(text[COL_LAT], CELL_TEXT, "-");
    }
    format_speedup(f, c, tps, text[COL_SPEED], CELL_TEXT);
    bool quantized = c->nm.family != BENCH_SCAN && strcmp(c->nm.quant, itera_quant_name(ITERA_QUANT_REFERENCE)) != 0;
    if (quantized && t1.n)
        snprintf(text[COL_TOP1], CELL_TEXT, "%.3f", t1.median);
    else
        snprintf(text[COL_TOP1], CELL_TEXT, "-");
    if (quantized && me.n)
        snprintf(text[COL_ERR], CELL_TEXT, "%.1e", me.median);
    else
        snprintf(text[COL_ERR], CELL_TEXT, "-");
}

/* A context value, or "?" when absent. */
static void ctx_copy(const gb_file *f, const char *key, char *out, size_t n)
{
    char buf[512];
    const char *v = gb_ctx(f, key, buf, sizeof buf);
    snprintf(out, n, "%s", v ? v : "?");
}

int summary_print(FILE *out, const gb_file *f)
{
    row *rows = calloc((size_t)f->n_cells + 1, sizeof *rows);
    if (!rows)
        return 0;
    int nrows = 0, nfailed = 0, others = 0, max_reps = 0;
    int scan_channels = -1, scan_state = -1;
    bool scan_mixed = false;
    for (int i = 0; i < f->n_cells; i++) {
        const gb_cell *c = &f->cells[i];
        if (!c->ours) {
            others++;
            continue;
        }
        if (c->error)
            nfailed++;
        if (c->n_iter > max_reps)
            max_reps = c->n_iter;
        if (c->nm.family == BENCH_SCAN) {
            if (scan_channels >= 0 &&
                (scan_channels != c->nm.channels || scan_state != c->nm.state))
                scan_mixed = true;
            scan_channels = c->nm.channels;
            scan_state = c->nm.state;
        }
        int g = 0;
        while (g < nrows && !same_group(&rows[g].cell->nm, &c->nm))
            g++;
        if (g == nrows)
            rows[nrows++].cell = c;
        else if (better_headline(&rows[g].cell->nm, &c->nm))
            rows[g].cell = c;
    }

    /* Title: what ran, where. */
    char platform[128], profile[128], nthreads[32], emulated[16], model[256];
    ctx_copy(f, CTX_PLATFORM, platform, sizeof platform);
    ctx_copy(f, CTX_PROFILE, profile, sizeof profile);
    ctx_copy(f, CTX_THREADS, nthreads, sizeof nthreads);
    ctx_copy(f, CTX_EMULATED, emulated, sizeof emulated);
    ctx_copy(f, CTX_MODEL, model, sizeof model);
    fprintf(out, "summary: platform %.40s, %.8s threads%s, profile %.40s\n", platform, nthreads,
            strcmp(emulated, "true") == 0 ? " (EMULATED)" : "", profile);
    fprintf(out, "model %.60s; median ± MAD of %d repetitions\n", model, max_reps);
    if (nrows == 0) {
        fprintf(out, "(no cells of the scan, prefill or decode families)\n");
        free(rows);
        return 0;
    }
    fputc('\n', out);

    row_text *text = calloc((size_t)nrows + 1, sizeof *text);
    if (!text) {
        free(rows);
        return 0;
    }
    for (int c = 0; c < NCOLS; c++)
        snprintf(text[0][c], CELL_TEXT, "%s", columns[c].title);
    for (int r = 0; r < nrows; r++)
        row_texts(f, rows[r].cell, text[r + 1]);
    int width[NCOLS] = { 0 }, total = 0;
    for (int c = 0; c < NCOLS; c++) {
        for (int r = 0; r <= nrows; r++)
            if (display_width(text[r][c]) > width[c])
                width[c] = display_width(text[r][c]);
        total += width[c];
    }
    int gap = total + 2 * (NCOLS - 1) <= SUMMARY_WIDTH ? 2 : 1;
    print_row(out, text[0], width, gap);
    for (int r = 0; r < nrows; r++) {
        if (r > 0 && rows[r].cell->nm.family != rows[r - 1].cell->nm.family)
            fputc('\n', out);
        print_row(out, text[r + 1], width, gap);
    }
    free(text);
    fputc('\n', out);
    if (scan_channels >= 0 && !scan_mixed)
        fprintf(out, "scan: C%d channels, N%d state. ", scan_channels, scan_state);
    fprintf(out, "Other lengths, batches and every counter: the report.\n");
    if (others)
        fprintf(out, "%d benchmark(s) of other families not shown.\n", others);
    if (nfailed) {
        fprintf(out, "%d cell(s) failed:\n", nfailed);
        int shown = 0;
        for (int i = 0; i < f->n_cells && shown < 5; i++)
            if (f->cells[i].ours && f->cells[i].error) {
                fprintf(out, "  %.60s: %.34s\n", f->cells[i].run_name,
                        f->cells[i].error_message ? f->cells[i].error_message : "?");
                shown++;
            }
        if (nfailed > shown)
            fprintf(out, "  ... and %d more (see the results file)\n", nfailed - shown);
    }
    free(rows);
    return nrows;
}
