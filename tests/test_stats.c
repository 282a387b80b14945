/*
 * test_stats.c: bench/stats.h against published and independently computed values.
 *
 * Sources:
 *  - Mann-Whitney U: scipy.stats.mannwhitneyu's documentation example (males vs females,
 *    U = 17, exact p = 0.1111..., asymptotic p = 0.11134688653314041); R's ?wilcox.test
 *    two-sample example (Hollander & Wolfe 1973, p. 69, permeability constants: W = 35,
 *    one-sided p = 0.1272; scipy 1.10.1 gives the two-sided 0.2544122544122544).
 *  - Wilcoxon signed-rank: R's ?wilcox.test paired example (Hollander & Wolfe 1973, p. 29f,
 *    depression scale: V = 40, one-sided p = 0.01953; two-sided 0.0390625); the normal
 *    approximation against scipy.stats.wilcoxon(mode="approx", correction=True).
 *  - Hodges-Lehmann intervals: R's wilcox.test(conf.int = TRUE) algorithm (the Walsh
 *    averages / pairwise differences at the qsignrank / qwilcox alpha/2 order statistics),
 *    recomputed by brute-force enumeration of the null distributions in Python: the
 *    paired example's (pseudo)median 0.46 with [0.01, 0.786] (achieved 0.9609375), the
 *    two-sample example's shift 0.305 with [-0.15, 0.76] (achieved 0.96004).
 *  - p.adjust: the 25 p-values of McDonald's Handbook of Biological Statistics BH example,
 *    adjusted by the definitions (BH: min over j >= i of m p_(j) / j; Holm: max over
 *    j <= i of (m - j + 1) p_(j)), and a hand-computed 5-value case.
 *  - the normal quantile: scipy.stats.norm.ppf.
 * The values were computed with Debian's python3-scipy 1.10.1; the tests never need it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static void assert_close(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-300))
        fail_msg("got %.17g, want %.17g (rel tol %g)", got, want, rel);
}

/* ---- Mann-Whitney U ---- */

static void test_mwu_scipy_doc_example(void **state)
{
    (void)state;
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    mwu_result r;
    assert_int_equal(mwu_test(males, 5, females, 4, MWU_EXACT, &r), 0);
    assert_close(r.u1, 17.0, 0);
    assert_close(r.u2, 3.0, 0);
    assert_close(r.p, 0.1111111111111111, 1e-12);
    assert_true(r.exact);
    assert_false(r.ties);
    assert_int_equal(mwu_test(males, 5, females, 4, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.11134688653314041, 1e-12);
    assert_false(r.exact);
    assert_int_equal(mwu_test(females, 4, males, 5, MWU_EXACT, &r), 0);
    assert_close(r.u1, 3.0, 0);
    assert_close(r.p, 0.1111111111111111, 1e-12);
}

static void test_mwu_r_permeability(void **state)
{
    (void)state;
    const double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    const double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    mwu_result r;
    assert_int_equal(mwu_test(x, 10, y, 5, MWU_AUTO, &r), 0);
    assert_close(r.u1, 35.0, 0); /* R's W */
    assert_true(r.exact);
    assert_close(r.p, 0.2544122544122544, 1e-12);
    assert_close(r.p / 2, 0.1272, 1e-3); /* R prints the one-sided 0.1272 */
}

static void test_mwu_separated_and_large(void **state)
{
    (void)state;
    const double a3[] = {1, 2, 3}, b3[] = {4, 5, 6};
    mwu_result r;
    assert_int_equal(mwu_test(a3, 3, b3, 3, MWU_EXACT, &r), 0);
    assert_close(r.p, 0.1, 1e-12); /* 2 / C(6,3) */
    assert_int_equal(mwu_test(a3, 3, b3, 3, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.0808555983700523, 1e-9);
    const double a9[] = {1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9};
    const double b9[] = {10.1, 11.1, 12.1, 13.1, 14.1, 15.1, 16.1, 17.1, 18.1};
    assert_int_equal(mwu_test(a9, 9, b9, 9, MWU_EXACT, &r), 0);
    assert_close(r.p, 2.0 / 48620.0, 1e-12);
    assert_int_equal(mwu_test(a9, 9, b9, 9, MWU_ASYMPTOTIC, &r), 0);
    assert_close(r.p, 0.0004122948020616911, 1e-9);
    /* 40 vs 40 fully apart: 2 / C(80, 40), summed from the tail (no cancellation) */
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = i;
        y[i] = 100 + i;
    }
    assert_int_equal(mwu_test(x, 40, y, 40, MWU_EXACT, &r), 0);
    assert_close(r.p, 1.8603403656036264e-23, 1e-9);
    /* ties: asymptotic; every value equal: p = 1 */
    const double t[] = {5, 5, 5}, u[] = {5, 5};
    assert_int_equal(mwu_test(t, 3, u, 2, MWU_AUTO, &r), 0);
    assert_true(r.ties);
    assert_close(r.p, 1.0, 0);
    /* bad input */
    assert_int_equal(mwu_test(t, 0, u, 2, MWU_AUTO, &r), -1);
    const double nanv[] = {1, NAN};
    assert_int_equal(mwu_test(nanv, 2, u, 2, MWU_AUTO, &r), -1);
}

/* ---- Wilcoxon signed-rank ---- */

static const double dep_x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
static const double dep_y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};

static void test_wsr_r_depression(void **state)
{
    (void)state;
    double d[9];
    for (int i = 0; i < 9; i++)
        d[i] = dep_x[i] - dep_y[i];
    wsr_result r;
    assert_int_equal(wsr_test(d, 9, false, &r), 0);
    assert_close(r.w_plus, 40.0, 0); /* R's V */
    assert_true(r.exact);
    assert_int_equal(r.n, 9);
    assert_close(r.p, 0.0390625, 1e-12);
    assert_close(r.p / 2, 0.01953, 1e-3); /* R's one-sided p-value */
    /* the test is symmetric in the sign */
    for (int i = 0; i < 9; i++)
        d[i] = -d[i];
    assert_int_equal(wsr_test(d, 9, false, &r), 0);
    assert_close(r.w_plus, 5.0, 0);
    assert_close(r.p, 0.0390625, 1e-12);
    /* 12 differences all positive: 2 / 2^12 */
    double p12[12];
    for (int i = 0; i < 12; i++)
        p12[i] = i + 1;
    assert_int_equal(wsr_test(p12, 12, false, &r), 0);
    assert_close(r.p, 0.00048828125, 1e-12);
}

static void test_wsr_normal_approximation(void **state)
{
    (void)state;
    double d[60];
    for (int i = 0; i < 60; i++)
        d[i] = ((i * 37) % 101 - 50) / 10.0 + 0.3;
    wsr_result r;
    assert_int_equal(wsr_test(d, 60, false, &r), 0);
    assert_false(r.exact);
    assert_int_equal(r.n, 59); /* d[4] = -0.3 + 0.3 is exactly 0: dropped, as scipy does */
    assert_close(r.w_plus, 969.5, 0); /* scipy's statistic min(W+, W-) = 800.5 = 1770 - 969.5 */
    assert_close(r.p, 0.5260538888877735, 1e-9);
    /* ties: the tie-corrected normal approximation, as scipy */
    const double t[] = {1, 2, 2, 3, -1, 4, 5, 5, 6, -2};
    assert_int_equal(wsr_test(t, 10, false, &r), 0);
    assert_true(r.ties);
    assert_false(r.exact);
    assert_close(r.w_plus, 49.5, 0);
    assert_close(r.p, 0.027801830120072507, 1e-9);
    /* zeros are dropped; all zero: no evidence */
    const double z[] = {0, 0, 0};
    assert_int_equal(wsr_test(z, 3, false, &r), 0);
    assert_close(r.p, 1.0, 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(wsr_test(d, 60, true, &r), -1); /* exact beyond STATS_EXACT_MAX */
}

/* ---- Hodges-Lehmann ---- */

static void test_hl_one_sample_r(void **state)
{
    (void)state;
    double d[9];
    for (int i = 0; i < 9; i++)
        d[i] = dep_x[i] - dep_y[i];
    hl_result h;
    assert_int_equal(hl_one_sample(d, 9, 0.95, &h), 0);
    assert_true(h.exact);
    assert_close(h.est, 0.46, 1e-12);
    assert_close(h.lo, 0.01, 1e-9);
    assert_close(h.hi, 0.786, 1e-12);
    assert_close(h.achieved_conf, 0.9609375, 1e-12);
    /* n = 5: 2^-5 * 2 > 0.05, the interval is every Walsh average's range */
    const double five[] = {1, 2, 3, 4, 5};
    assert_int_equal(hl_one_sample(five, 5, 0.95, &h), 0);
    assert_close(h.lo, 1, 0);
    assert_close(h.hi, 5, 0);
    assert_close(h.est, 3, 0);
    assert_true(h.achieved_conf < 0.95);
    /* large n: the normal-approximation order statistic; symmetric data, symmetric CI */
    double s[81];
    for (int i = 0; i < 81; i++)
        s[i] = i - 40;
    assert_int_equal(hl_one_sample(s, 81, 0.95, &h), 0);
    assert_false(h.exact);
    assert_close(h.est, 0, 0);
    assert_close(h.lo, -h.hi, 1e-12);
    assert_true(h.lo < 0 && h.lo > -20);
}

static void test_hl_two_sample_r(void **state)
{
    (void)state;
    const double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    const double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    hl_result h;
    /* R: wilcox.test(x, y, conf.int = TRUE) estimates the shift of x relative to y */
    assert_int_equal(hl_two_sample(y, 5, x, 10, 0.95, &h), 0);
    assert_true(h.exact);
    assert_close(h.est, 0.305, 1e-12);
    assert_close(h.lo, -0.15, 1e-9);
    assert_close(h.hi, 0.76, 1e-12);
    assert_close(h.achieved_conf, 0.9600399600399601, 1e-12);
    /* swapped: the negated shift and interval */
    assert_int_equal(hl_two_sample(x, 10, y, 5, 0.95, &h), 0);
    assert_close(h.est, -0.305, 1e-12);
    assert_close(h.lo, -0.76, 1e-12);
    assert_close(h.hi, 0.15, 1e-9);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Large sets are ranked by bisection instead of sorting every value: the same values. */
static void test_hl_bisection(void **state)
{
    (void)state;
    enum { NX = 300, NY = 400 };
    static double x[NX], y[NY], all[NX * NY];
    stats_rng g;
    stats_rng_seed(&g, 11);
    for (int i = 0; i < NX; i++)
        x[i] = (double)stats_rng_below(&g, 1000) / 7.0 - 60; /* ties, negatives */
    for (int j = 0; j < NY; j++)
        y[j] = (double)stats_rng_below(&g, 1000) / 3.0 - 100;
    size_t k = 0;
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NY; j++)
            all[k++] = y[j] - x[i];
    qsort(all, k, sizeof all[0], cmp_d);
    const size_t ranks[] = {1, 2, 17, 60000, 60001, 119999, 120000};
    for (size_t r = 0; r < sizeof ranks / sizeof ranks[0]; r++) {
        double v;
        assert_int_equal(hl_kth_for_tests(x, NX, y, NY, ranks[r], &v), 0);
        assert_true(v == all[ranks[r] - 1]);
    }
    k = 0;
    for (int i = 0; i < NX; i++)
        for (int j = i; j < NX; j++)
            all[k++] = (x[i] + x[j]) / 2;
    qsort(all, k, sizeof all[0], cmp_d);
    for (size_t r = 1; r <= k; r += 4513) {
        double v;
        assert_int_equal(hl_kth_for_tests(x, NX, NULL, 0, r, &v), 0);
        assert_true(v == all[r - 1]);
    }
    double v;
    assert_int_equal(hl_kth_for_tests(x, NX, y, NY, 0, &v), -1);
    /* 40,000 a side (1.6e9 differences): y = x + 1 shifts by exactly 1 */
    enum { BIG = 40000 };
    static double bx[BIG], by[BIG];
    for (int i = 0; i < BIG; i++) {
        bx[i] = (double)((i * 7919) % BIG);
        by[i] = bx[i] + 1;
    }
    hl_result h;
    assert_int_equal(hl_two_sample(bx, BIG, by, BIG, 0.95, &h), 0);
    assert_false(h.exact);
    assert_true(h.est == 1);
    assert_true(h.lo < 1 && h.hi > 1 && h.lo > -400 && h.hi < 402);
    assert_int_equal(hl_one_sample(bx, BIG, 0.95, &h), 0);
    assert_true(fabs(h.est - (BIG - 1) / 2.0) < 1e-9);
}

/* ---- medians, quantiles, normal quantile ---- */

static void test_median_and_ci(void **state)
{
    (void)state;
    const double x[] = {5, 1, 4, 2, 3, 9, 7, 8, 6, 10};
    assert_close(stats_median(x, 10), 5.5, 0);
    assert_close(stats_median(x, 9), 5, 0);
    double lo, hi;
    /* n = 10: P(B < 2) = 11/1024 <= 0.025 < P(B < 3) = 56/1024: [x_(2), x_(9)] */
    assert_int_equal(stats_median_ci(x, 10, 0.95, &lo, &hi), 0);
    assert_close(lo, 2, 0);
    assert_close(hi, 9, 0);
    /* n = 6: [x_(1), x_(6)] (1/64 <= 0.025); n = 5 has none (1/32 > 0.025) */
    assert_int_equal(stats_median_ci(x, 6, 0.95, &lo, &hi), 0);
    assert_close(lo, 1, 0);
    assert_close(hi, 9, 0);
    assert_int_equal(stats_median_ci(x, 5, 0.95, &lo, &hi), -1);
    assert_close(stats_quantile(x, 10, 0.95), 9.55, 1e-12); /* numpy: 9.55 */
    assert_close(stats_quantile(x, 10, 0), 1, 0);
    assert_true(isnan(stats_median(x, 0)));
    assert_close(stats_norm_ppf(0.975), 1.959963984540054, 1e-13);
    assert_close(stats_norm_ppf(0.001), -3.090232306167813, 1e-13);
    assert_close(stats_norm_ppf(0.9), 1.2815515655446004, 1e-13);
    assert_close(stats_norm_ppf(0.5), 0, 0);
}

/* ---- p.adjust ---- */

static void test_adjust(void **state)
{
    (void)state;
    const double p5[] = {0.01, 0.02, 0.03, 0.04, 0.05};
    double q[25];
    stats_adjust(p5, 5, STATS_CORR_BH, q);
    for (int i = 0; i < 5; i++)
        assert_close(q[i], 0.05, 1e-12);
    stats_adjust(p5, 5, STATS_CORR_HOLM, q);
    const double holm5[] = {0.05, 0.08, 0.09, 0.09, 0.09};
    for (int i = 0; i < 5; i++)
        assert_close(q[i], holm5[i], 1e-12);
    stats_adjust(p5, 5, STATS_CORR_NONE, q);
    assert_close(q[3], 0.04, 0);

    const double mc[25] = {0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212,
                           0.216, 0.222, 0.251, 0.269, 0.275, 0.34, 0.341, 0.384, 0.569,
                           0.594, 0.696, 0.762, 0.94, 0.942, 0.975, 0.986};
    const double bh[25] = {0.025, 0.1, 0.21, 0.21, 0.21, 0.25, 0.2642857143, 0.4910714286,
                           0.4910714286, 0.4910714286, 0.4910714286, 0.4910714286,
                           0.4910714286, 0.4910714286, 0.5328125, 0.5328125, 0.5647058824,
                           0.7815789474, 0.7815789474, 0.87, 0.9071428571, 0.986, 0.986,
                           0.986, 0.986};
    /* shuffled order: the adjustment follows each p wherever it is */
    double shuf[25], qs[25];
    int perm[25];
    for (int i = 0; i < 25; i++)
        perm[i] = (i * 7 + 3) % 25;
    for (int i = 0; i < 25; i++)
        shuf[i] = mc[perm[i]];
    stats_adjust(shuf, 25, STATS_CORR_BH, qs);
    for (int i = 0; i < 25; i++)
        assert_close(qs[i], bh[perm[i]], 1e-9);
    stats_adjust(mc, 25, STATS_CORR_HOLM, q);
    assert_close(q[0], 0.025, 1e-12);
    assert_close(q[1], 0.192, 1e-12);
    assert_close(q[2], 0.897, 1e-12);
    assert_close(q[4], 0.902, 1e-12);
    assert_close(q[5], 1.0, 0);
    /* NaN entries are skipped and not counted */
    const double withnan[] = {0.01, NAN, 0.04};
    stats_adjust(withnan, 3, STATS_CORR_BH, q);
    assert_close(q[0], 0.02, 1e-12);
    assert_true(isnan(q[1]));
    assert_close(q[2], 0.04, 1e-12);
    stats_correction c;
    assert_true(stats_correction_parse("fdr", &c) && c == STATS_CORR_BH);
    assert_true(stats_correction_parse("holm", &c) && c == STATS_CORR_HOLM);
    assert_false(stats_correction_parse("bonferroni", &c));
}

static void test_rng(void **state)
{
    (void)state;
    stats_rng a, b;
    stats_rng_seed(&a, 42);
    stats_rng_seed(&b, 42);
    int hist[6] = {0};
    for (int i = 0; i < 60000; i++) {
        int x = stats_rng_below(&a, 6);
        assert_int_equal(x, stats_rng_below(&b, 6));
        assert_true(x >= 0 && x < 6);
        hist[x]++;
    }
    for (int k = 0; k < 6; k++)
        assert_true(hist[k] > 9500 && hist[k] < 10500);
    assert_int_equal(stats_rng_below(&a, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mwu_scipy_doc_example),
        cmocka_unit_test(test_mwu_r_permeability),
        cmocka_unit_test(test_mwu_separated_and_large),
        cmocka_unit_test(test_wsr_r_depression),
        cmocka_unit_test(test_wsr_normal_approximation),
        cmocka_unit_test(test_hl_one_sample_r),
        cmocka_unit_test(test_hl_two_sample_r),
        cmocka_unit_test(test_hl_bisection),
        cmocka_unit_test(test_median_and_ci),
        cmocka_unit_test(test_adjust),
        cmocka_unit_test(test_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
