/*
 * test_accuracy.c: the accuracy statistics (engine/accuracy.c, itera.h "Accuracy") on a tiny
 * fixed case whose every figure is worked out by hand below, plus the edge cases (one
 * position, no targets, bad arguments) and batching (adding rows in pieces changes nothing).
 */
#include "testutil.h"

#include <math.h>

#include "itera.h"

#define TOL 1e-12

/* |got − want| <= tol (NaN fails), printing both on failure. */
#define assert_near(got, want, tol) assert_near_at((got), (want), (tol), #got, __FILE__, __LINE__)
static void assert_near_at(double got, double want, double tol, const char *what, const char *file, int line)
{
    if (fabs(got - want) <= tol) return;
    print_error("%s = %.17g, expected %.17g within %g\n", what, got, want, tol);
    _fail(file, line);
}

/* V = 2, four positions (logits: reference | test, target):
 *   0: [0, 0]    | [ln 3, 0]  t=0   p=(½,½)   q=(¾,¼)  KLD = ½ln(½/¾) + ½ln(½/¼) = ½ln(4/3)
 *                                   nll_ref = ln 2, nll_test = ln(4/3); argmax 0 | 0 (first on
 *                                   ties); margin 0: a near tie
 *   1: [0, 0]    | [0, 0]     t=1   KLD 0; nll ln 2 | ln 2; agree; near tie
 *   2: [ln 3, 0] | [0, ln 3]  none  p=(¾,¼) q=(¼,¾): KLD = ¾ln 3 − ¼ln 3 = ½ln 3; disagree
 *   3: [1, 0]    | [1, 0]     t=0   KLD 0; nll ln(1 + 1/e) both; agree
 * So: KLD sum = ½ln(4/3) + ½ln 3 = ln 2, mean ln2/4; sorted KLD (0, 0, ½ln(4/3), ½ln 3):
 * p99 at h = 3·0.99 = 2.97: ½ln(4/3) + 0.97·(½ln 3 − ½ln(4/3)) = ½ln(4/3) + 0.97·ln(3/2);
 * p99.9 likewise with 0.997; max ½ln 3. sd of the four KLDs (n − 1) 0.25968842255424,
 * interval mean ± 1.96·sd/2. Top-1 3/4, near ties 2/4, max |Δlogit| ln 3.
 * PPL_ref = exp((2 ln 2 + ln(1 + 1/e))/3) = ∛(4(1 + 1/e)); PPL_test = ∛((8/3)(1 + 1/e)).
 * Standard errors and the paired ΔPPL error: the formulas of accuracy.c evaluated with
 * numpy (np.std(ddof=1), np.cov) on the three nll pairs. */
static void test_hand_case(void **state)
{
    (void)state;
    const float l3 = logf(3.0f);
    const float ref[] = {0, 0, 0, 0, l3, 0, 1, 0};
    const float test[] = {l3, 0, 0, 0, 0, l3, 1, 0};
    const int32_t tgt[] = {0, 1, -1, 0};
    itera_acc *a;
    itera_error err;
    itera_acc_stats s;
    assert_int_equal(itera_acc_create(2, &a, &err), ITERA_OK);
    /* in two pieces: the result is the same as one call */
    assert_int_equal(itera_acc_add(a, ref, test, tgt, 1, &err), ITERA_OK);
    assert_int_equal(itera_acc_add(a, ref + 2, test + 2, tgt + 1, 3, &err), ITERA_OK);
    assert_int_equal(itera_acc_summary(a, &s, &err), ITERA_OK);
    /* the logits are floats: ln 3 in float is 1.0986123 (error 3e-8), hence the looser
     * tolerance where it enters */
    const double ftol = 1e-7;
    assert_int_equal(s.positions, 4);
    assert_int_equal(s.predicted, 3);
    assert_near(s.kld_mean, log(2.0) / 4, ftol);
    assert_near(s.kld_max, 0.5 * log(3.0), ftol);
    assert_near(s.kld_p99, 0.5 * log(4.0 / 3) + 0.97 * log(1.5), ftol);
    assert_near(s.kld_p999, 0.5 * log(4.0 / 3) + 0.997 * log(1.5), ftol);
    const double se = 0.25968842255424 / 2;
    assert_near(s.kld_lo95, log(2.0) / 4 - 1.96 * se, ftol);
    assert_near(s.kld_hi95, log(2.0) / 4 + 1.96 * se, ftol);
    assert_near(s.top1_agreement, 0.75, TOL);
    assert_near(s.top1_se, sqrt(0.75 * 0.25 / 4), TOL);
    assert_near(s.near_tie_share, 0.5, TOL);
    assert_near(s.max_abs_logit_err, (double)l3, TOL);
    assert_near(s.ppl_ref, cbrt(4 * (1 + exp(-1.0))), ftol);
    assert_near(s.ppl, cbrt(8.0 / 3 * (1 + exp(-1.0))), ftol);
    assert_near(s.delta_ppl, cbrt(8.0 / 3 * (1 + exp(-1.0))) - cbrt(4 * (1 + exp(-1.0))), ftol);
    assert_near(s.ppl_ref_se, 0.22313484335123843, ftol);
    assert_near(s.ppl_se, 0.20180930051579718, ftol);
    assert_near(s.delta_ppl_se, 0.22349506420466522, ftol);
    itera_acc_free(a);
}

/* Identical logits: every divergence 0, agreement 1, ΔPPL 0 with error 0. */
static void test_identical(void **state)
{
    (void)state;
    enum { V = 50, N = 40 };
    float *l = malloc(sizeof(float) * V * N);
    int32_t t[N];
    uint32_t r = 1;
    for (int i = 0; i < V * N; i++) r = r * 1664525u + 1013904223u, l[i] = (float)(r >> 8) / 1e6f;
    for (int i = 0; i < N; i++) t[i] = i % V;
    itera_acc *a;
    itera_error err;
    itera_acc_stats s;
    assert_int_equal(itera_acc_create(V, &a, &err), ITERA_OK);
    assert_int_equal(itera_acc_add(a, l, l, t, N, &err), ITERA_OK);
    assert_int_equal(itera_acc_summary(a, &s, &err), ITERA_OK);
    assert_near(s.kld_mean, 0, 1e-15);
    assert_near(s.kld_max, 0, 1e-15);
    assert_near(s.top1_agreement, 1, 0);
    assert_near(s.delta_ppl, 0, 0);
    assert_near(s.delta_ppl_se, 0, 1e-9);
    assert_near(s.max_abs_logit_err, 0, 0);
    assert_true(s.ppl_ref > 1 && s.ppl_ref_se > 0);
    itera_acc_free(a);
    free(l);
}

/* One position, no target: what cannot be estimated is NaN, the rest is defined. */
static void test_undefined_is_nan(void **state)
{
    (void)state;
    const float ref[] = {1, 0, 0}, test[] = {0, 1, 0};
    itera_acc *a;
    itera_error err;
    itera_acc_stats s;
    assert_int_equal(itera_acc_create(3, &a, &err), ITERA_OK);
    assert_int_equal(itera_acc_add(a, ref, test, NULL, 1, &err), ITERA_OK);
    assert_int_equal(itera_acc_summary(a, &s, &err), ITERA_OK);
    assert_int_equal(s.predicted, 0);
    assert_true(isnan(s.ppl) && isnan(s.ppl_ref) && isnan(s.delta_ppl) && isnan(s.delta_ppl_se));
    assert_true(isnan(s.kld_lo95) && isnan(s.kld_hi95));
    assert_true(s.kld_mean > 0 && s.kld_max == s.kld_mean && s.kld_p99 == s.kld_mean);
    assert_near(s.top1_agreement, 0, 0);
    itera_acc_free(a);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    itera_acc *a = (itera_acc *)&a;
    itera_error err;
    assert_int_equal(itera_acc_create(1, &a, &err), ITERA_ERR_ARG);
    assert_null(a);
    assert_non_null(strstr(err.msg, "vocabulary of 1"));
    const float l[] = {0, 1};
    const int32_t t[] = {2};
    assert_int_equal(itera_acc_create(2, &a, &err), ITERA_OK);
    assert_int_equal(itera_acc_add(a, l, l, t, 1, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "target 2 of row 0"));
    itera_acc_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_undefined_is_nan),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
