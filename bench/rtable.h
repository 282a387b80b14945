/*
 * rtable.h: one table of the report as rows of cells, from which both its markdown and its
 * chart's .dat file are written, so the two can never disagree.
 *
 * A column has a markdown heading and alignment and, when it is charted, a .dat heading;
 * a row has a markdown label (its first cell), a .dat label (quoted text, or a number for
 * an x axis) and one cell per column: the text shown, and the number charted (NaN: '?',
 * gnuplot's missing value). A row may be left out of the .dat (a nested op, a note row).
 *
 * .dat layout: one line per charted row, "label v1 v2 ..." over the charted columns in
 * column order; a first line naming the columns, either as a comment ("# kernel median_ms
 * q1_ms ...", RT_DAT_COMMENT) or as gnuplot's columnheader row ("L \"sequential\" ...",
 * RT_DAT_COLUMNHEAD).
 */
#ifndef ITERA_RTABLE_H
#define ITERA_RTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf.h"
#include "status.h"

#define RT_MAX_COLS 48
#define RT_TEXT 320

typedef enum rt_dat_head { RT_DAT_COMMENT = 0, RT_DAT_COLUMNHEAD } rt_dat_head;

typedef struct rt_col {
    char head[RT_TEXT];   /* markdown heading */
    bool right;           /* right-aligned (numbers) */
    char dat[96];         /* .dat heading; "" = not charted */
    bool hidden;          /* charted only: not a markdown column (a spread's quartiles) */
} rt_col;

typedef struct rt_row {
    char (*text)[RT_TEXT]; /* [ncols] markdown cells (text[0] is the label column) */
    double *val;           /* [ncols] charted values */
    char dat_label[128];
    bool dat_numeric;      /* the label is an x value: written unquoted */
    bool in_dat;
} rt_row;

typedef struct rtable {
    rt_col cols[RT_MAX_COLS];
    int ncols;
    rt_row *rows;
    int nrows, cap;
    char dat_label_head[64]; /* the .dat's first column heading ("kernel", "L") */
    rt_dat_head dat_head;
    bool oom;
} rtable;

void rt_init(rtable *t, const char *dat_label_head, rt_dat_head head);
void rt_free(rtable *t);
/* Adds a column; returns its index (-1 past RT_MAX_COLS). dat: its .dat heading or NULL. */
int rt_col_add(rtable *t, const char *head, bool right, const char *dat);
/* A column charted but not shown in the markdown (e.g. the quartiles of a figure whose
 * text shows them). */
int rt_col_add_hidden(rtable *t, const char *dat);
/* Adds a row whose first cell is label; dat_label (NULL: not charted) and whether it is a
 * number. Returns its index, or -1 when out of memory. */
int rt_row_add(rtable *t, const char *label, const char *dat_label, bool numeric);
/* Sets a cell: its text and charted value (NaN when none). */
void rt_set(rtable *t, int row, int col, const char *text, double val);
/* The number of charted rows with at least one finite charted value. */
int rt_dat_points(const rtable *t);
/* Appends the markdown table (heading, alignment row, rows). */
void rt_markdown(const rtable *t, sbuf *md);
/* Writes the .dat file atomically (itera_file). BENCH_OK, or BENCH_ERR_IO with e. */
bench_status rt_write_dat(const rtable *t, const char *path, bench_error *e);
/* The .dat column (1 = the label) of charted column col, 0 when it is not charted. */
int rt_dat_index(const rtable *t, int col);
/* Charted columns + 1 (gnuplot's ncols). */
int rt_dat_ncols(const rtable *t);

#endif
