/*
 * figure.h: the figure the report and the op profile show for a set of repetitions: the
 * median as the headline, with its spread (interquartile range, min-max) and n.
 *
 * Quantiles are interpolated linearly between order statistics (the "type 7" rule of R
 * and numpy's default): the p-quantile of sorted x[0..n) is x[h] + (h - floor h) *
 * (x[h+1] - x[h]) at h = (n - 1) p. So the median of an even count is the mean of the two
 * middle values, and q1/q3 of {1, 2, 3, 4} are 1.75 and 3.25.
 */
#ifndef ITERA_FIGURE_H
#define ITERA_FIGURE_H

typedef struct figure {
    int n;                 /* values (non-finite ones are left out); 0: every field NaN */
    double median;
    double q1, q3;         /* 25th and 75th percentiles */
    double min, max;
} figure;

/* The figure of v[0..n) (v is not changed). Non-finite values are not counted. */
figure figure_of(const double *v, int n);

/* The p-quantile (0 <= p <= 1) of sorted[0..n) by the rule above; NaN when n is 0. */
double figure_quantile(const double *sorted, int n, double p);

#endif
