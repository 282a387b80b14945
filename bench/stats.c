/*
 * stats.c: median and MAD, rank tests, Hodges-Lehmann intervals, median intervals, p-value
 * adjustment and a seeded generator (see stats.h for the conventions each one follows).
 */
#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A sorted copy of x[n] (caller frees), NULL on failure or a NaN in x. */
static double *sorted_copy(const double *x, int n)
{
    if (n < 1)
        return NULL;
    double *c = malloc((size_t)n * sizeof *c);
    if (!c)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (isnan(x[i])) {
            free(c);
            return NULL;
        }
        c[i] = x[i];
    }
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    return c;
}

static double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double stats_median(const double *x, int n)
{
    double *s = sorted_copy(x, n);
    if (!s)
        return NAN;
    double m = median_sorted(s, (size_t)n);
    free(s);
    return m;
}

double stats_mad(const double *x, int n, double median)
{
    if (n < 1)
        return NAN;
    double *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return NAN;
    for (int i = 0; i < n; i++)
        d[i] = fabs(x[i] - median);
    double m = stats_median(d, n);
    free(d);
    return m;
}

double stats_quantile(const double *x, int n, double q)
{
    double *s = sorted_copy(x, n);
    if (!s)
        return NAN;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    int hi = lo + 1 < n ? lo + 1 : lo;
    double v = s[lo] + (h - lo) * (s[hi] - s[lo]);
    free(s);
    return v;
}

/* log C(n, k) - n log 2 */
static double log_binom_half(int n, int k)
{
    return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * M_LN2;
}

int stats_median_ci(const double *x, int n, double conf, double *lo, double *hi)
{
    if (n < 1 || !(conf > 0 && conf < 1))
        return -1;
    double tail = (1 - conf) / 2;
    /* cdf[k] = P(B < k) = sum_{i<k} P(B = i); the largest k >= 1 with cdf <= tail */
    double cdf = 0;
    int k = 0;
    for (int c = 1; c <= (n + 1) / 2; c++) {
        cdf += exp(log_binom_half(n, c - 1));
        if (cdf <= tail * (1 + 1e-12))
            k = c;
        else
            break;
    }
    if (k < 1)
        return -1;
    double *s = sorted_copy(x, n);
    if (!s)
        return -1;
    *lo = s[k - 1];
    *hi = s[n - k];
    free(s);
    return 0;
}

/* Acklam's rational approximation, refined by one Halley step on erfc. */
double stats_norm_ppf(double p)
{
    if (!(p > 0 && p < 1))
        return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    double q, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = 0.5 * erfc(-x / M_SQRT2) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* Standard normal CDF. */
static double norm_cdf(double z)
{
    return 0.5 * erfc(-z / M_SQRT2);
}

/* ---- exact null distributions (counts, so no cancellation) ---- */

/* counts[k], k = 0..m*n: arrangements with U = k, for sizes m, n. The number with U = k
 * is the number of partitions of k into at most m parts each at most n (the coefficients
 * of the Gaussian binomial [m+n choose m]_q). dp[c][s]: exactly c parts summing to s. */
static double *mwu_counts(int m, int n)
{
    int mn = m * n;
    size_t w = (size_t)mn + 1;
    double *dp = calloc((size_t)(m + 1) * w, sizeof *dp);
    double *cnt = calloc(w, sizeof *cnt);
    if (!dp || !cnt) {
        free(dp);
        free(cnt);
        return NULL;
    }
    dp[0] = 1.0;
    for (int part = 1; part <= n; part++)
        for (int c = 1; c <= m; c++)
            for (int s = part; s <= mn; s++)
                dp[(size_t)c * w + (size_t)s] += dp[(size_t)(c - 1) * w + (size_t)(s - part)];
    for (int s = 0; s <= mn; s++)
        for (int c = 0; c <= m; c++)
            cnt[s] += dp[(size_t)c * w + (size_t)s];
    free(dp);
    return cnt;
}

/* counts[k], k = 0..n(n+1)/2: subsets of {1..n} whose sum is k. */
static double *signrank_counts(int n)
{
    int N = n * (n + 1) / 2;
    double *c = calloc((size_t)N + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    int top = 0;
    for (int i = 1; i <= n; i++) {
        top += i;
        for (int k = top; k >= i; k--)
            c[k] += c[k - i];
    }
    return c;
}

/* Smallest q with P(X <= q) >= p for the distribution counts[0..N] (R's q* functions:
 * p lowered by 10 DBL_EPSILON against rounding). */
static int quantile_counts(const double *counts, int N, double p)
{
    double total = 0;
    for (int k = 0; k <= N; k++)
        total += counts[k];
    double target = p - 10 * DBL_EPSILON, cum = 0;
    for (int k = 0; k <= N; k++) {
        cum += counts[k];
        if (cum / total >= target)
            return k;
    }
    return N;
}

/* P(X <= q) for counts[0..N]. */
static double cdf_counts(const double *counts, int N, double q)
{
    double total = 0, cum = 0;
    for (int k = 0; k <= N; k++) {
        total += counts[k];
        if (k <= q)
            cum += counts[k];
    }
    return cum / total;
}

/* P(X > q) for counts[0..N], summed directly (no cancellation for small tails). */
static double sf_counts(const double *counts, int N, double q)
{
    double total = 0, tail = 0;
    for (int k = 0; k <= N; k++) {
        total += counts[k];
        if (k > q)
            tail += counts[k];
    }
    return tail / total;
}

/* ---- Mann-Whitney U ---- */

typedef struct ranked {
    double v;
    int from_x;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return (x > y) - (x < y);
}

int mwu_test(const double *x, int nx, const double *y, int ny, mwu_method method, mwu_result *r)
{
    memset(r, 0, sizeof *r);
    if (nx < 1 || ny < 1 || !x || !y)
        return -1;
    int n = nx + ny;
    ranked *a = malloc((size_t)n * sizeof *a);
    if (!a)
        return -1;
    for (int i = 0; i < nx; i++)
        a[i] = (ranked){x[i], 1};
    for (int i = 0; i < ny; i++)
        a[nx + i] = (ranked){y[i], 0};
    for (int i = 0; i < n; i++)
        if (isnan(a[i].v)) {
            free(a);
            return -1;
        }
    qsort(a, (size_t)n, sizeof *a, cmp_ranked);

    double r1 = 0, tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && a[j + 1].v == a[i].v)
            j++;
        double t = j - i + 1, midrank = (i + j) / 2.0 + 1.0;
        for (int k = i; k <= j; k++)
            if (a[k].from_x)
                r1 += midrank;
        if (t > 1) {
            tie_term += t * t * t - t;
            r->ties = true;
        }
        i = j + 1;
    }
    free(a);

    double mn = (double)nx * ny;
    r->u1 = r1 - nx * (nx + 1) / 2.0;
    r->u2 = mn - r->u1;
    double u = r->u1 > r->u2 ? r->u1 : r->u2;

    bool exact = method == MWU_EXACT ||
                 (method == MWU_AUTO && !r->ties && nx <= MWU_EXACT_MAX && ny <= MWU_EXACT_MAX);
    if (exact) {
        if (nx > MWU_EXACT_MAX || ny > MWU_EXACT_MAX)
            return -1;
        double *cnt = mwu_counts(nx, ny);
        if (!cnt)
            return -1;
        /* P(U >= u) = 1 - P(U <= u - 1); U takes integer values without ties */
        r->p = 2.0 * sf_counts(cnt, nx * ny, ceil(u) - 1);
        free(cnt);
        r->exact = true;
    } else {
        double s = sqrt(mn / 12.0 * ((n + 1) - tie_term / ((double)n * (n - 1))));
        if (!(s > 0)) {
            r->p = 1.0; /* every value tied: no evidence of a difference */
        } else {
            double z = (u - mn / 2.0 - 0.5) / s;
            r->p = erfc(z / sqrt(2.0)); /* 2 * (1 - Phi(z)) */
        }
    }
    if (r->p > 1.0)
        r->p = 1.0;
    if (r->p < 0.0)
        r->p = 0.0;
    return isnan(r->p) ? -1 : 0;
}

/* ---- Wilcoxon signed-rank ---- */

typedef struct absrank {
    double a;
    int positive;
} absrank;

static int cmp_absrank(const void *p, const void *q)
{
    double x = ((const absrank *)p)->a, y = ((const absrank *)q)->a;
    return (x > y) - (x < y);
}

int wsr_test(const double *d, int n, bool exact, wsr_result *r)
{
    memset(r, 0, sizeof *r);
    if (n < 1 || !d)
        return -1;
    absrank *a = malloc((size_t)n * sizeof *a);
    if (!a)
        return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(d[i])) {
            free(a);
            return -1;
        }
        if (d[i] != 0)
            a[m++] = (absrank){fabs(d[i]), d[i] > 0};
    }
    r->n = m;
    if (m == 0) {
        free(a);
        r->p = 1.0;
        return 0;
    }
    qsort(a, (size_t)m, sizeof *a, cmp_absrank);
    double wplus = 0, tie_term = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && a[j + 1].a == a[i].a)
            j++;
        double t = j - i + 1, midrank = (i + j) / 2.0 + 1.0;
        for (int k = i; k <= j; k++)
            if (a[k].positive)
                wplus += midrank;
        if (t > 1) {
            tie_term += t * t * t - t;
            r->ties = true;
        }
        i = j + 1;
    }
    free(a);
    r->w_plus = wplus;
    double N = m * (m + 1) / 2.0;
    bool use_exact = exact || (!r->ties && m <= STATS_EXACT_MAX);
    if (use_exact) {
        if (m > STATS_EXACT_MAX)
            return -1;
        double *c = signrank_counts(m);
        if (!c)
            return -1;
        int Ni = m * (m + 1) / 2;
        /* R: V > N/2 ? P(V >= V_obs) : P(V <= V_obs), doubled */
        double p = wplus > N / 2 ? sf_counts(c, Ni, ceil(wplus) - 1)
                                 : cdf_counts(c, Ni, floor(wplus));
        free(c);
        r->p = 2 * p;
        r->exact = true;
    } else {
        double z = wplus - N / 2;
        double sigma = sqrt(m * (m + 1.0) * (2.0 * m + 1) / 24.0 - tie_term / 48.0);
        if (!(sigma > 0)) {
            r->p = 1.0;
        } else {
            double corr = z > 0 ? 0.5 : z < 0 ? -0.5 : 0;
            z = (z - corr) / sigma;
            r->p = 2 * fmin(norm_cdf(z), 1 - norm_cdf(z));
        }
    }
    if (r->p > 1)
        r->p = 1;
    if (r->p < 0)
        r->p = 0;
    return isnan(r->p) ? -1 : 0;
}

/* ---- Hodges-Lehmann ---- */

/* The N values an estimate is taken over, by rank. Walsh averages (a_i + a_j) / 2, i <= j,
 * when b is NULL; else the differences b_j - a_i. a and b sorted. Up to
 * STATS_HL_DIRECT_MAX values are made and sorted; beyond, the k-th is found by bisection
 * on the doubles' order (at most 64 steps) counting the values <= v in O(na + nb) with two
 * pointers, so a side of 10^5 samples needs no 10^10 array. Both give the same value. */
#define STATS_HL_DIRECT_MAX ((size_t)1 << 20)

typedef struct hl_set {
    const double *a, *b;
    int na, nb;
    size_t N;
    double *all; /* every value, sorted (small sets), else NULL */
} hl_set;

static double hl_value(const hl_set *s, int i, int j)
{
    return s->b ? s->b[j] - s->a[i] : (s->a[i] + s->a[j]) / 2;
}

/* How many values are <= v. */
static size_t hl_count_le(const hl_set *s, double v)
{
    size_t c = 0;
    if (s->b) {
        int p = 0; /* for growing a_i, the first j with b_j - a_i > v only moves right */
        for (int i = 0; i < s->na; i++) {
            while (p < s->nb && hl_value(s, i, p) <= v)
                p++;
            c += (size_t)p;
        }
    } else {
        int p = s->na - 1; /* for growing i, the last j with (a_i + a_j) / 2 <= v moves left */
        for (int i = 0; i < s->na; i++) {
            while (p >= i && hl_value(s, i, p) > v)
                p--;
            if (p < i)
                break;
            c += (size_t)(p - i + 1);
        }
    }
    return c;
}

/* Order-preserving map of doubles to unsigned integers, and back. */
static uint64_t dbl_key(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (1ull << 63);
}

static double key_dbl(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & ~(1ull << 63) : ~k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The k-th smallest value, k in 1..N. */
static double hl_kth(const hl_set *s, size_t k)
{
    if (s->all)
        return s->all[k - 1];
    double lo_v = s->b ? s->b[0] - s->a[s->na - 1] : s->a[0];
    double hi_v = s->b ? s->b[s->nb - 1] - s->a[0] : s->a[s->na - 1];
    /* count(<= lo) < k <= count(<= hi); the k-th value lies in (lo, hi] */
    uint64_t lo = dbl_key(nextafter(lo_v, -INFINITY)), hi = dbl_key(hi_v);
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (hl_count_le(s, key_dbl(mid)) >= k)
            hi = mid;
        else
            lo = mid;
    }
    return key_dbl(hi);
}

static double hl_median(const hl_set *s)
{
    return s->N % 2 ? hl_kth(s, (s->N + 1) / 2)
                    : 0.5 * (hl_kth(s, s->N / 2) + hl_kth(s, s->N / 2 + 1));
}

/* Fills the set over sorted a (and b); makes the sorted array of every value when small. */
static int hl_set_make(hl_set *s, const double *a, int na, const double *b, int nb)
{
    memset(s, 0, sizeof *s);
    s->a = a;
    s->na = na;
    s->b = b;
    s->nb = nb;
    s->N = b ? (size_t)na * (size_t)nb : (size_t)na * (size_t)(na + 1) / 2;
    if (s->N > STATS_HL_DIRECT_MAX)
        return 0;
    s->all = malloc(s->N * sizeof *s->all);
    if (!s->all)
        return -1;
    size_t k = 0;
    for (int i = 0; i < na; i++)
        for (int j = b ? 0 : i; j < (b ? nb : na); j++)
            s->all[k++] = hl_value(s, i, j);
    qsort(s->all, s->N, sizeof *s->all, cmp_double);
    return 0;
}

/* Estimate and interval from the set, given the exact null distribution's counts (or
 * NULL: the normal approximation with standard deviation sd). */
static void hl_finish(const hl_set *s, const double *counts, double sd, double conf,
                      hl_result *r)
{
    double alpha = 1 - conf;
    long qu;
    r->est = hl_median(s);
    if (counts) {
        qu = quantile_counts(counts, (int)s->N, alpha / 2);
        if (qu == 0)
            qu = 1;
        r->achieved_conf = 1 - 2 * cdf_counts(counts, (int)s->N, (double)qu - 1);
        r->exact = true;
    } else {
        qu = lround((double)s->N / 2 - stats_norm_ppf(1 - alpha / 2) * sd);
        if (qu < 1)
            qu = 1;
        r->achieved_conf = conf;
    }
    if ((size_t)qu > (s->N + 1) / 2)
        qu = (long)((s->N + 1) / 2);
    r->lo = hl_kth(s, (size_t)qu);
    r->hi = hl_kth(s, s->N + 1 - (size_t)qu);
}

int hl_one_sample(const double *d, int n, double conf, hl_result *r)
{
    memset(r, 0, sizeof *r);
    if (n < 1 || !(conf > 0 && conf < 1))
        return -1;
    double *a = sorted_copy(d, n);
    if (!a)
        return -1;
    hl_set s;
    double *c = n <= STATS_EXACT_MAX ? signrank_counts(n) : NULL;
    int rc = -1;
    if (hl_set_make(&s, a, n, NULL, 0) == 0 && (n > STATS_EXACT_MAX || c)) {
        hl_finish(&s, c, sqrt(n * (n + 1.0) * (2.0 * n + 1) / 24.0), conf, r);
        rc = 0;
    }
    free(s.all);
    free(c);
    free(a);
    return rc;
}

int hl_two_sample(const double *x, int nx, const double *y, int ny, double conf, hl_result *r)
{
    memset(r, 0, sizeof *r);
    if (nx < 1 || ny < 1 || !(conf > 0 && conf < 1))
        return -1;
    double *a = sorted_copy(x, nx), *b = sorted_copy(y, ny);
    bool exact = nx <= STATS_EXACT_MAX && ny <= STATS_EXACT_MAX;
    double *c = a && b && exact ? mwu_counts(nx, ny) : NULL;
    hl_set s = {0};
    int rc = -1;
    if (a && b && (!exact || c) && hl_set_make(&s, a, nx, b, ny) == 0) {
        hl_finish(&s, c, sqrt((double)nx * ny * (nx + ny + 1.0) / 12.0), conf, r);
        rc = 0;
    }
    free(s.all);
    free(c);
    free(a);
    free(b);
    return rc;
}

int hl_kth_for_tests(const double *x, int nx, const double *y, int ny, size_t k, double *out)
{
    double *a = sorted_copy(x, nx), *b = y ? sorted_copy(y, ny) : NULL;
    hl_set s = {0};
    int rc = -1;
    if (a && (!y || b)) {
        s.a = a;
        s.na = nx;
        s.b = b;
        s.nb = ny;
        s.N = b ? (size_t)nx * (size_t)ny : (size_t)nx * (size_t)(nx + 1) / 2;
        if (k >= 1 && k <= s.N) {
            *out = hl_kth(&s, k); /* always the bisection, whatever the size */
            rc = 0;
        }
    }
    free(a);
    free(b);
    return rc;
}

/* ---- multiple comparisons ---- */

typedef struct pidx {
    double p;
    int i;
} pidx;

static int cmp_pidx(const void *a, const void *b)
{
    const pidx *x = a, *y = b;
    if (x->p != y->p)
        return (x->p > y->p) - (x->p < y->p);
    return x->i - y->i;
}

void stats_adjust(const double *p, int n, stats_correction c, double *q)
{
    pidx *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    int m = 0;
    for (int i = 0; i < n; i++) {
        q[i] = p[i];
        if (s && !isnan(p[i]))
            s[m++] = (pidx){p[i], i};
    }
    if (!s || c == STATS_CORR_NONE || m == 0) {
        free(s);
        return;
    }
    qsort(s, (size_t)m, sizeof *s, cmp_pidx);
    if (c == STATS_CORR_BH) {
        double run = 1.0;
        for (int k = m - 1; k >= 0; k--) {
            double v = s[k].p * m / (k + 1);
            if (v < run)
                run = v;
            q[s[k].i] = run;
        }
    } else {
        double run = 0.0;
        for (int k = 0; k < m; k++) {
            double v = s[k].p * (m - k);
            if (v > 1)
                v = 1;
            if (v > run)
                run = v;
            q[s[k].i] = run;
        }
    }
    free(s);
}

const char *stats_correction_name(stats_correction c)
{
    switch (c) {
    case STATS_CORR_BH: return "bh";
    case STATS_CORR_HOLM: return "holm";
    case STATS_CORR_NONE: return "none";
    default: return "?";
    }
}

const char *stats_correction_describe(stats_correction c)
{
    switch (c) {
    case STATS_CORR_BH: return "Benjamini-Hochberg false-discovery rate";
    case STATS_CORR_HOLM: return "Holm-Bonferroni family-wise error rate";
    case STATS_CORR_NONE: return "no correction for multiple comparisons";
    default: return "?";
    }
}

bool stats_correction_parse(const char *s, stats_correction *c)
{
    if (strcmp(s, "bh") == 0 || strcmp(s, "fdr") == 0)
        *c = STATS_CORR_BH;
    else if (strcmp(s, "holm") == 0)
        *c = STATS_CORR_HOLM;
    else if (strcmp(s, "none") == 0)
        *c = STATS_CORR_NONE;
    else
        return false;
    return true;
}

/* ---- generator ---- */

void stats_rng_seed(stats_rng *g, uint64_t seed)
{
    g->s = seed;
}

uint64_t stats_rng_next(stats_rng *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int stats_rng_below(stats_rng *g, int n)
{
    if (n <= 1)
        return 0;
    uint64_t un = (uint64_t)n, limit = (uint64_t)0 - ((uint64_t)0 - un) % un;
    uint64_t x;
    do
        x = stats_rng_next(g);
    while (limit && x >= limit);
    return (int)(x % un);
}
