/*
 * stats.h: the statistics of the harness: the median and MAD the run's summary shows, and
 * behind `compare`, `ab` and `noise` rank tests, Hodges-Lehmann estimates with their
 * distribution-free confidence intervals, order-statistic intervals of a median,
 * multiple-comparison adjustment and a seeded generator.
 *
 * Every routine works on plain arrays (it copies what it sorts; inputs are never changed),
 * allocates nothing that outlives the call, and returns 0, or -1 for input it cannot judge
 * (too few values, NaN, out of memory); outputs are then unspecified.
 *
 * Conventions follow R's wilcox.test and scipy.stats, so published examples check them:
 *   - Mann-Whitney U (mwu_test): scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
 *     use_continuity=True), exact null distribution when there are no ties.
 *   - Wilcoxon signed-rank (wsr_test): scipy.stats.wilcoxon(d, zero_method="wilcox",
 *     correction=True) / R wilcox.test(d): zeros dropped, exact when no ties remain.
 *   - Hodges-Lehmann one-sample (hl_one_sample): R wilcox.test(d, conf.int = TRUE):
 *     the median of the n(n+1)/2 Walsh averages, interval from their order statistics at
 *     the signed-rank distribution's alpha/2 quantile.
 *   - Hodges-Lehmann two-sample (hl_two_sample): R wilcox.test(y, x, conf.int = TRUE):
 *     the median of the nx*ny differences y_j - x_i, interval from their order statistics
 *     at the Mann-Whitney distribution's alpha/2 quantile.
 *   Exact quantiles for n <= STATS_EXACT_MAX; beyond, the normal-approximation order
 *   statistic (Hollander & Wolfe): k = floor(N/2 - z * sd), as large-sample references do.
 */
#ifndef ITERA_STATS_H
#define ITERA_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_EXACT_MAX 50

/* Median of x[n] (x is not changed); NaN for n < 1. */
double stats_median(const double *x, int n);

/* The median of |x[i] - median| over x[n] (the median absolute deviation, the robust spread
 * the run's summary shows); NaN for n < 1. */
double stats_mad(const double *x, int n, double median);

/* Distribution-free interval of the median at confidence conf (e.g. 0.95): the order
 * statistics x_(k), x_(n+1-k) with the largest k such that P(Binomial(n, 1/2) < k) <=
 * (1 - conf) / 2. Returns -1 when n is too small for any such k (n < 6 at 0.95). */
int stats_median_ci(const double *x, int n, double conf, double *lo, double *hi);

/* Quantile q in [0, 1] of x[n] by linear interpolation between order statistics
 * (type 7, numpy's default). NaN for n < 1. */
double stats_quantile(const double *x, int n, double q);

/* The standard normal quantile (inverse CDF) at p in (0, 1). */
double stats_norm_ppf(double p);

/* ---- Mann-Whitney U ---- */

typedef enum mwu_method {
    MWU_AUTO = 0,     /* exact when there are no ties and both sides have <= MWU_EXACT_MAX */
    MWU_EXACT,        /* exact null distribution (no tie correction) */
    MWU_ASYMPTOTIC,   /* normal approximation, tie-corrected variance, continuity correction */
    MWU_METHOD_COUNT
} mwu_method;

#define MWU_EXACT_MAX STATS_EXACT_MAX

typedef struct mwu_result {
    double u1;    /* U of the first sample: R1 - n1(n1+1)/2 (scipy's `statistic`) */
    double u2;    /* n1*n2 - u1 */
    double p;     /* two-sided p-value, in [0, 1] */
    bool exact;   /* p from the exact distribution */
    bool ties;    /* the pooled samples had ties */
} mwu_result;

/* Two-sided test of x[nx] against y[ny] (nx, ny >= 1). Returns 0, or -1 for empty input
 * or an exact request beyond MWU_EXACT_MAX. */
int mwu_test(const double *x, int nx, const double *y, int ny, mwu_method method, mwu_result *r);

/* ---- Wilcoxon signed-rank ---- */

typedef struct wsr_result {
    double w_plus;  /* sum of the ranks of the positive differences (R's V) */
    double p;       /* two-sided p-value */
    int n;          /* differences used (zeros dropped) */
    bool exact;
    bool ties;      /* tied |d| among those used */
} wsr_result;

/* Two-sided test that d[n] is symmetric about 0. exact: true forces the exact
 * distribution (refused beyond STATS_EXACT_MAX), false lets ties or n decide (exact when
 * no ties and n <= STATS_EXACT_MAX, else the normal approximation with tie-corrected
 * variance and continuity correction). Every d zero: p = 1. Returns 0 or -1. */
int wsr_test(const double *d, int n, bool exact, wsr_result *r);

/* ---- Hodges-Lehmann estimates and intervals ---- */

typedef struct hl_result {
    double est;   /* the location (shift) estimate */
    double lo, hi;/* the interval at the requested confidence */
    double achieved_conf; /* the interval's actual coverage (exact: discrete) */
    bool exact;
} hl_result;

/* Pseudo-median of d[n] (n >= 1) and its interval at conf. Returns -1 for n < 1 or NaN;
 * with n too small for the confidence the interval is the whole range of the Walsh
 * averages (achieved_conf says what it covers). */
int hl_one_sample(const double *d, int n, double conf, hl_result *r);

/* Shift of y[ny] relative to x[nx] (median of y_j - x_i) and its interval at conf. */
int hl_two_sample(const double *x, int nx, const double *y, int ny, double conf, hl_result *r);

/* The k-th smallest (1-based) of the Walsh averages of x (y NULL) or of the differences
 * y_j - x_i, found by the bisection large sets use (for tests: it must agree with sorting
 * every value). Returns 0, or -1 for k out of range. */
int hl_kth_for_tests(const double *x, int nx, const double *y, int ny, size_t k, double *out);

/* ---- multiple comparisons ---- */

typedef enum stats_correction {
    STATS_CORR_BH = 0,   /* Benjamini-Hochberg false-discovery rate (the default) */
    STATS_CORR_HOLM,     /* Holm-Bonferroni family-wise error rate */
    STATS_CORR_NONE,
    STATS_CORR_COUNT
} stats_correction;

/* Adjusted p-values q[n] for p[n] (R's p.adjust "BH" / "holm" / "none"). NaN entries are
 * left NaN and not counted. */
void stats_adjust(const double *p, int n, stats_correction c, double *q);
const char *stats_correction_name(stats_correction c);       /* "bh", "holm", "none" */
const char *stats_correction_describe(stats_correction c);   /* a phrase for reports */
/* Parses "bh" / "fdr", "holm", "none"; false for anything else. */
bool stats_correction_parse(const char *s, stats_correction *c);

/* ---- seeded pseudo-random numbers (reproducible orders and bootstraps) ---- */

typedef struct stats_rng {
    uint64_t s;
} stats_rng;

void stats_rng_seed(stats_rng *g, uint64_t seed);
uint64_t stats_rng_next(stats_rng *g);          /* splitmix64 */
int stats_rng_below(stats_rng *g, int n);       /* uniform in [0, n), n >= 1 */

#endif
