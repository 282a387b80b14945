/*
 * numfmt.h: the report's number formats, fixed so that the same results always give the
 * same text (nothing here depends on the locale or the clock).
 *
 *   fnum     decimals by magnitude: 12345, 123.4, 12.34, 1.234, 0.1234; "n/a" for NaN
 *   fnum_as  v with the decimals that suit another value (a spread beside its median)
 *   fpct     one decimal: 99.7
 *   fsci     2.00e-06
 *   fratio   1.23×
 *   fdat     %.6g for gnuplot's .dat files, "?" (its missing value) for NaN
 *   fmt_figure  "median (q1–q3, n)", the figure of a set of repetitions (figure.h)
 *   md_cell  a text made safe for one markdown table cell ('|' escaped, no line breaks)
 */
#ifndef ITERA_NUMFMT_H
#define ITERA_NUMFMT_H

#include <stddef.h>

#include "figure.h"

typedef struct num {
    char s[64];
} num;

num fnum(double v);
num fnum_as(double v, double like);
num fpct(double v);
num fsci(double v);
num fratio(double v);
num fdat(double v);

/* f scaled by `scale` (1: as stored), as "median (q1–q3, n)"; a single repetition is
 * "median (n 1)"; no values "n/a". out[n]. */
void fmt_figure(const figure *f, double scale, char *out, size_t n);

void md_cell(char *dst, size_t cap, const char *s);

#endif
