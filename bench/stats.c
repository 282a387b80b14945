/*
 * stats.c: median and median absolute deviation (see stats.h).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_median(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double stats_mad(const double *v, int n, double median)
{
    if (n <= 0)
        return NAN;
    double *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return NAN;
    for (int i = 0; i < n; i++)
        d[i] = fabs(v[i] - median);
    double m = stats_median(d, n);
    free(d);
    return m;
}
