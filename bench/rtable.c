/*
 * rtable.c: a table's rows -> markdown and .dat (see rtable.h).
 */
#include "rtable.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itera.h"
#include "numfmt.h"

void rt_init(rtable *t, const char *dat_label_head, rt_dat_head head)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dat_label_head, sizeof t->dat_label_head, "%s", dat_label_head ? dat_label_head : "label");
    t->dat_head = head;
}

void rt_free(rtable *t)
{
    for (int i = 0; i < t->nrows; i++) {
        free(t->rows[i].text);
        free(t->rows[i].val);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

int rt_col_add(rtable *t, const char *head, bool right, const char *dat)
{
    if (t->ncols == RT_MAX_COLS || t->nrows > 0)
        return -1; /* columns come first */
    rt_col *c = &t->cols[t->ncols];
    md_cell(c->head, sizeof c->head, head);
    c->right = right;
    snprintf(c->dat, sizeof c->dat, "%s", dat ? dat : "");
    return t->ncols++;
}

int rt_col_add_hidden(rtable *t, const char *dat)
{
    int c = rt_col_add(t, "", true, dat);
    if (c >= 0)
        t->cols[c].hidden = true;
    return c;
}

int rt_row_add(rtable *t, const char *label, const char *dat_label, bool numeric)
{
    if (t->oom)
        return -1;
    if (t->nrows == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        rt_row *nr = realloc(t->rows, (size_t)cap * sizeof *nr);
        if (!nr) {
            t->oom = true;
            return -1;
        }
        t->rows = nr;
        t->cap = cap;
    }
    rt_row *r = &t->rows[t->nrows];
    memset(r, 0, sizeof *r);
    int nc = t->ncols > 0 ? t->ncols : 1;
    r->text = calloc((size_t)nc, sizeof *r->text);
    r->val = malloc((size_t)nc * sizeof *r->val);
    if (!r->text || !r->val) {
        free(r->text);
        free(r->val);
        t->oom = true;
        return -1;
    }
    for (int i = 0; i < nc; i++)
        r->val[i] = NAN;
    snprintf(r->text[0], RT_TEXT, "%s", label);
    r->in_dat = dat_label != NULL;
    snprintf(r->dat_label, sizeof r->dat_label, "%s", dat_label ? dat_label : "");
    for (char *q = r->dat_label; *q; q++) /* one quoted field of the .dat, one line */
        if (*q == '"' || *q == '\n' || *q == '\r' || *q == '\\')
            *q = '\'';
    r->dat_numeric = numeric;
    return t->nrows++;
}

void rt_set(rtable *t, int row, int col, const char *text, double val)
{
    if (row < 0 || row >= t->nrows || col < 0 || col >= t->ncols)
        return;
    snprintf(t->rows[row].text[col], RT_TEXT, "%s", text ? text : "");
    t->rows[row].val[col] = val;
}

int rt_dat_points(const rtable *t)
{
    int n = 0;
    for (int r = 0; r < t->nrows; r++) {
        if (!t->rows[r].in_dat)
            continue;
        bool any = false;
        for (int c = 0; c < t->ncols && !any; c++)
            any = t->cols[c].dat[0] && isfinite(t->rows[r].val[c]);
        n += any;
    }
    return n;
}

int rt_dat_index(const rtable *t, int col)
{
    if (col < 0 || col >= t->ncols || !t->cols[col].dat[0])
        return 0;
    int n = 1;
    for (int c = 0; c <= col; c++)
        n += t->cols[c].dat[0] != '\0';
    return n;
}

int rt_dat_ncols(const rtable *t)
{
    int n = 1;
    for (int c = 0; c < t->ncols; c++)
        n += t->cols[c].dat[0] != '\0';
    return n;
}

void rt_markdown(const rtable *t, sbuf *md)
{
    sb_puts(md, "|");
    for (int c = 0; c < t->ncols; c++)
        if (!t->cols[c].hidden)
            sb_printf(md, " %s |", t->cols[c].head);
    sb_puts(md, "\n|");
    for (int c = 0; c < t->ncols; c++)
        if (!t->cols[c].hidden)
            sb_puts(md, t->cols[c].right ? " ---: |" : " --- |");
    sb_puts(md, "\n");
    for (int r = 0; r < t->nrows; r++) {
        sb_puts(md, "|");
        for (int c = 0; c < t->ncols; c++) {
            if (t->cols[c].hidden)
                continue;
            const char *x = t->rows[r].text[c];
            sb_printf(md, "%s%s |", x[0] ? " " : "", x);
        }
        sb_puts(md, "\n");
    }
}

bench_status rt_write_dat(const rtable *t, const char *path, bench_error *e)
{
    itera_file *f;
    itera_error err;
    if (itera_file_create(path, &f, &err) != ITERA_OK)
        return bench_fail(e, BENCH_ERR_IO, "%s", err.msg);
    if (t->dat_head == RT_DAT_COMMENT) {
        itera_file_printf(f, "# %s", t->dat_label_head);
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].dat[0])
                itera_file_printf(f, " %s", t->cols[c].dat);
    } else {
        itera_file_printf(f, "%s", t->dat_label_head);
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].dat[0])
                itera_file_printf(f, " \"%s\"", t->cols[c].dat);
    }
    itera_file_printf(f, "\n");
    for (int r = 0; r < t->nrows; r++) {
        const rt_row *row = &t->rows[r];
        if (!row->in_dat)
            continue;
        if (row->dat_numeric)
            itera_file_printf(f, "%s", row->dat_label);
        else
            itera_file_printf(f, "\"%s\"", row->dat_label);
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].dat[0])
                itera_file_printf(f, " %s", fdat(row->val[c]).s);
        itera_file_printf(f, "\n");
    }
    if (itera_file_commit(f, &err) != ITERA_OK)
        return bench_fail(e, BENCH_ERR_IO, "%s", err.msg);
    return BENCH_OK;
}
