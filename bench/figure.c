/*
 * figure.c: median, quartiles and range of a set of repetitions (see figure.h).
 */
#include "figure.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double figure_quantile(const double *sorted, int n, double p)
{
    if (n <= 0)
        return NAN;
    double h = (double)(n - 1) * p;
    int lo = (int)floor(h);
    if (lo < 0)
        lo = 0;
    if (lo >= n - 1)
        return sorted[n - 1];
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

figure figure_of(const double *v, int n)
{
    figure f = { 0, NAN, NAN, NAN, NAN, NAN };
    double *s = n > 0 ? malloc((size_t)n * sizeof *s) : NULL;
    if (!s)
        return f;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[k++] = v[i];
    if (k > 0) {
        qsort(s, (size_t)k, sizeof *s, cmp_double);
        f.n = k;
        f.median = figure_quantile(s, k, 0.5);
        f.q1 = figure_quantile(s, k, 0.25);
        f.q3 = figure_quantile(s, k, 0.75);
        f.min = s[0];
        f.max = s[k - 1];
    }
    free(s);
    return f;
}
