/*
 * summary.h: what a finished sweep prints last, in the spirit of llama-bench: one table
 * row per cell group with the figures people look for first, fitting 100 columns (wide
 * detail belongs in the report).
 *
 * A group is (family, quant, kernel, threads); its row shows one cell, the family's
 * headline shape: prefill at the smallest batch and the longest sequence, decode at the
 * smallest batch and the most steps, scan at the largest batch and the length nearest
 * 128 (the original report's kernel table). Columns:
 *   test      prefill L128 B1 | decode 64 B1 (steps, batch) | scan L128 B4
 *   quant, kernel, thr (worker threads)
 *   tokens/s  median over the repetitions ± the median absolute deviation, as % of it
 *   latency   median latency_ms (per forward, decode step or scan)
 *   speed-up  median tokens/s over the same shape and threads in FP32 (quantized rows:
 *             "1.41× fp32") or with the sequential kernel (other kernels: "4.50× seq")
 *   top-1, max|err|   top1_agreement and max_abs_logit_err against FP32 (quantized rows)
 * Figures come from the iteration runs of the results file (failed runs skipped), so the
 * table and the file agree by construction.
 */
#ifndef ITERA_SUMMARY_H
#define ITERA_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "gbread.h"

#define SUMMARY_WIDTH 100 /* columns every line of the table fits in */

/* Median and MAD of one metric over a set of repetitions; n = 0 when none had it. */
typedef struct summary_figure {
    int n;
    double median, mad;
} summary_figure;

/* The figure of metric over a results-file cell's iteration runs. */
summary_figure summary_cell_figure(const gb_cell *c, const char *metric);
/* The same over an array of Google Benchmark entries (a journal cell's "runs"). */
summary_figure summary_runs_figure(const json_t *runs, const char *metric);

/* "515,953 ± 1.2%" (thousands separated; the MAD as % of the median), "-" when f.n is 0.
 * Returns out. */
char *summary_format_rate(summary_figure f, char *out, size_t n);

/* A cell's headline for the progress line: "tokens/s 515,953 ± 1.2%", or "" when no
 * repetition has tokens_per_second (a failed cell). */
void summary_headline(const json_t *runs, char *out, size_t n);

/* Prints the table for the cells of f (ours only; others are counted, not shown): a title
 * naming the platform, threads, profile, model and repetitions, the rows, and a line per
 * failed cell. Every line fits SUMMARY_WIDTH columns. Returns the number of rows. */
int summary_print(FILE *out, const gb_file *f);

#endif
