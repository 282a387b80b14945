/*
 * stats.h: the robust figures shown for a cell's repetitions: the median, and the median
 * absolute deviation (MAD) as its spread. Medians, so one disturbed repetition on a
 * shared machine moves neither figure much.
 */
#ifndef ITERA_STATS_H
#define ITERA_STATS_H

/* The median of v[0..n); sorts v in place. NAN when n is 0. */
double stats_median(double *v, int n);

/* The median of |v[i] - median| over v[0..n) (v is not changed). NAN when n is 0. */
double stats_mad(const double *v, int n, double median);

#endif
