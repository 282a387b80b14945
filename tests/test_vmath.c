/*
 * test_vmath.c: the element-wise functions (engine/vmath.h).
 *
 * Every SIMD table this CPU runs is compared with the scalar (libm) reference within
 * VMATH_TOL (relative, plus the same absolute floor) on random inputs, on edge values
 * (0, ±1e-8, ±20, ±88, ±100, overflow and underflow of exp), and on every tail length
 * 0..33 with guard values after the end; results must be NaN-free for finite inputs and
 * in-place calls must agree. The references themselves are checked against double
 * precision truth (erf, exp, log1p) so a wrong reference cannot hide a wrong kernel.
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

#include "isa_select.h"
#include "vmath.h"

#define GUARD 777.25f
#define NMAX 20000
/* softplus_sum: relative to the sum (all terms positive, float lanes vs double). */
#define SUM_TOL 1e-5
/* Accuracy of the kernels against double-precision truth, relative plus absolute. */
#define TRUTH_TOL 1e-6

static uint64_t rng = 0x243f6a8885a308d3ull;
static float frand(float lo, float hi) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng >> 40) * (1.0 / 16777216.0));
}

static const float edges[] = {
    0.0f, -0.0f, 1e-8f, -1e-8f, 1e-30f, -1e-30f, 1.0f, -1.0f, 0.5f, -0.5f, 3.0f, -3.0f,
    5.5f, -5.5f, 10.0f, -10.0f, 20.0f, -20.0f, 40.0f, -40.0f, 87.0f, -87.0f, 87.5f, -87.5f,
    88.0f, -88.0f, 88.7f, -88.7f, 88.72f, -88.72f, 88.73f, -88.73f, 89.0f, -89.0f,
    100.0f, -100.0f, 103.9f, -103.9f, 104.5f, -104.5f, 200.0f, -200.0f, 1e30f, -1e30f,
    0.3465736f, -0.3465736f, 0.6931472f, 1.4142135f, 0.84375f, -0.84375f, 2.5f, -2.5f,
};
#define NEDGE ((int)(sizeof edges / sizeof edges[0]))

static int close_enough(float got, float want, double tol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    if (!isfinite(got)) return 0;
    return fabs((double)got - want) <= tol * fabs(want) + tol;
}

typedef void (*unary_fn)(float *, const float *, int);
typedef struct unary {
    const char *name;
    size_t off; /* offset of the function in vmath_ops */
} unary;
static const unary unaries[] = {
    {"exp", offsetof(vmath_ops, exp)},
    {"silu", offsetof(vmath_ops, silu)},
    {"gelu", offsetof(vmath_ops, gelu)},
    {"softplus", offsetof(vmath_ops, softplus)},
};
#define NUNARY ((int)(sizeof unaries / sizeof unaries[0]))
static unary_fn get_unary(const vmath_ops *o, const unary *u) {
    unary_fn f;
    memcpy(&f, (const char *)o + u->off, sizeof f);
    return f;
}

static const vmath_ops *const simd_tables[] = {&vmath_avx2, &vmath_avx512};
#define NSIMD ((int)(sizeof simd_tables / sizeof simd_tables[0]))

static float xs[NMAX + 64], ys[NMAX + 64], rs[NMAX + 64], gs[NMAX + 64];

/* Compares a unary SIMD function with the reference on xs[0:n]; checks the guard after. */
static long check_unary(const vmath_ops *o, const unary *u, int n, const char *what) {
    long bad = 0;
    unary_fn f = get_unary(o, u), ref = get_unary(&vmath_scalar, u);
    for (int i = 0; i < n + 16; i++) ys[i] = GUARD;
    ref(rs, xs, n);
    f(ys, xs, n);
    for (int i = 0; i < n; i++) {
        const int nan_from_finite = isfinite(xs[i]) && isnan(ys[i]);
        if (nan_from_finite || !close_enough(ys[i], rs[i], VMATH_TOL)) {
            if (bad < 4)
                fprintf(stderr, "%s %s (%s, n=%d): x=%.9g got %.9g want %.9g\n", o->v.name, u->name,
                        what, n, xs[i], ys[i], rs[i]);
            bad++;
        }
    }
    for (int i = n; i < n + 16; i++)
        if (ys[i] != GUARD) {
            fprintf(stderr, "%s %s (%s): wrote past n=%d at %d\n", o->v.name, u->name, what, n, i);
            bad++;
        }
    // In place: same values.
    memcpy(gs, xs, sizeof(float) * (size_t)n);
    f(gs, gs, n);
    if (n > 0 && memcmp(gs, ys, sizeof(float) * (size_t)n) != 0) {
        fprintf(stderr, "%s %s (%s, n=%d): in-place result differs\n", o->v.name, u->name, what, n);
        bad++;
    }
    return bad;
}

static void test_unary_random_edges_tails(void **state) {
    (void)state;
    long bad = 0;
    for (int t = 0; t < NSIMD; t++) {
        const vmath_ops *o = simd_tables[t];
        if (!itera_isa_has(o->v.isa)) {
            printf("SKIPPED: vmath %s: not supported by this CPU (or capped by ITERA_ISA)\n", o->v.name);
            continue;
        }
        for (int u = 0; u < NUNARY; u++) {
            // Random over the whole useful range, and densely near 0.
            for (int i = 0; i < NMAX; i++) xs[i] = i & 1 ? frand(-110.0f, 110.0f) : frand(-6.0f, 6.0f);
            bad += check_unary(o, &unaries[u], NMAX, "random");
            // Edge values, at every position of a vector (shifted by 0..16).
            for (int s = 0; s <= 16; s++) {
                for (int i = 0; i < s; i++) xs[i] = 0.25f;
                memcpy(xs + s, edges, sizeof edges);
                bad += check_unary(o, &unaries[u], s + NEDGE, "edges");
            }
            // Every tail length.
            for (int n = 0; n <= 33; n++) {
                for (int i = 0; i < n; i++) xs[i] = frand(-30.0f, 30.0f);
                bad += check_unary(o, &unaries[u], n, "tail");
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_mul_silu(void **state) {
    (void)state;
    long bad = 0;
    static float as[NMAX + 64];
    for (int t = 0; t < NSIMD; t++) {
        const vmath_ops *o = simd_tables[t];
        if (!itera_isa_has(o->v.isa)) continue;
        for (int n = 0; n <= 1100; n = n < 40 ? n + 1 : n * 3) {
            for (int i = 0; i < n; i++) {
                as[i] = frand(-3.0f, 3.0f);
                gs[i] = i < NEDGE ? edges[i] : frand(-100.0f, 100.0f);
            }
            for (int i = 0; i < n + 16; i++) ys[i] = GUARD;
            vmath_scalar.mul_silu(rs, as, gs, n);
            o->mul_silu(ys, as, gs, n);
            for (int i = 0; i < n; i++)
                if (!close_enough(ys[i], rs[i], VMATH_TOL) || isnan(ys[i])) {
                    if (bad < 4)
                        fprintf(stderr, "%s mul_silu n=%d a=%g g=%g got %.9g want %.9g\n", o->v.name,
                                n, as[i], gs[i], ys[i], rs[i]);
                    bad++;
                }
            for (int i = n; i < n + 16; i++) bad += ys[i] != GUARD;
            // In place over a and over g.
            memcpy(xs, as, sizeof(float) * (size_t)n);
            o->mul_silu(xs, xs, gs, n);
            bad += n > 0 && memcmp(xs, ys, sizeof(float) * (size_t)n) != 0;
            memcpy(xs, gs, sizeof(float) * (size_t)n);
            o->mul_silu(xs, as, xs, n);
            bad += n > 0 && memcmp(xs, ys, sizeof(float) * (size_t)n) != 0;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_softplus_sum(void **state) {
    (void)state;
    long bad = 0;
    for (int t = 0; t < NSIMD; t++) {
        const vmath_ops *o = simd_tables[t];
        if (!itera_isa_has(o->v.isa)) continue;
        /* mixed signs with the edges; all small terms (the log1p part only, sums far below
         * 1: relative accuracy of tiny terms); all large terms (the max part dominates) */
        static const float lo[] = {-12.0f, -20.0f, 4.0f}, hi[] = {8.0f, -8.0f, 30.0f};
        for (int d = 0; d < 3; d++)
            for (int n = 0; n <= NMAX; n = n < 40 ? n + 1 : n * 2) {
                for (int i = 0; i < n; i++)
                    xs[i] = d == 0 && i < NEDGE ? edges[i] / 4 : frand(lo[d], hi[d]);
                for (int i = n; i < n + 16; i++) xs[i] = 1e6f; /* would dominate if read */
                const float want = vmath_scalar.softplus_sum(xs, n);
                const float got = o->softplus_sum(xs, n);
                if (!(fabs((double)got - want) <= SUM_TOL * fabs(want) + 1e-30) && !(n == 0 && got == 0.0f)) {
                    fprintf(stderr, "%s softplus_sum [%g, %g] n=%d: got %.9g want %.9g\n", o->v.name,
                            lo[d], hi[d], n, got, want);
                    bad++;
                }
            }
    }
    assert_int_equal(bad, 0);
}

static void test_layernorm(void **state) {
    (void)state;
    long bad = 0;
    static float w[NMAX], b[NMAX];
    static const int ns[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 1000};
    for (int t = 0; t < NSIMD; t++) {
        const vmath_ops *o = simd_tables[t];
        if (!itera_isa_has(o->v.isa)) continue;
        for (int a = 0; a < (int)(sizeof ns / sizeof ns[0]); a++) {
            const int n = ns[a];
            const float offset = a % 3 == 0 ? 5.0f : 0.0f;
            for (int i = 0; i < n; i++) {
                xs[i] = offset + frand(-2.0f, 2.0f);
                w[i] = frand(0.5f, 1.5f);
                b[i] = frand(-0.5f, 0.5f);
            }
            for (int variant = 0; variant < 3; variant++) {
                const float *wv = variant == 1 ? NULL : w, *bv = variant == 2 ? NULL : b;
                for (int i = 0; i < n + 16; i++) ys[i] = GUARD;
                vmath_scalar.layernorm(rs, xs, wv, bv, n, 1e-5f);
                o->layernorm(ys, xs, wv, bv, n, 1e-5f);
                for (int i = 0; i < n; i++)
                    if (!close_enough(ys[i], rs[i], VMATH_TOL)) {
                        if (bad < 4)
                            fprintf(stderr, "%s layernorm n=%d [%d] got %.9g want %.9g\n", o->v.name,
                                    n, i, ys[i], rs[i]);
                        bad++;
                    }
                for (int i = n; i < n + 16; i++) bad += ys[i] != GUARD;
                memcpy(gs, xs, sizeof(float) * (size_t)n);
                o->layernorm(gs, gs, wv, bv, n, 1e-5f);
                bad += memcmp(gs, ys, sizeof(float) * (size_t)n) != 0;
                /* add_layernorm: x + d must leave x holding the float sum and give the
                 * reference norm of that sum */
                static float xa[NMAX + 16], da[NMAX], ra[NMAX + 16], xr[NMAX + 16];
                for (int i = 0; i < n; i++) {
                    da[i] = (float)((i % 15) - 7) / 8.0f;
                    xa[i] = xs[i] - da[i];
                    xr[i] = xa[i] + da[i];
                }
                for (int i = n; i < n + 16; i++) xa[i] = ra[i] = GUARD;
                vmath_scalar.layernorm(rs, xr, wv, bv, n, 1e-5f);
                o->add_layernorm(ra, xa, da, wv, bv, n, 1e-5f);
                bad += memcmp(xa, xr, sizeof(float) * (size_t)n) != 0;
                for (int i = 0; i < n; i++)
                    if (!close_enough(ra[i], rs[i], VMATH_TOL)) {
                        if (bad < 4)
                            fprintf(stderr, "%s add_layernorm n=%d [%d] got %.9g want %.9g\n",
                                    o->v.name, n, i, ra[i], rs[i]);
                        bad++;
                    }
                for (int i = n; i < n + 16; i++) bad += xa[i] != GUARD || ra[i] != GUARD;
                for (int i = 0; i < n; i++) xa[i] = xs[i] - da[i];
                vmath_scalar.add_layernorm(ra, xa, da, wv, bv, n, 1e-5f);
                bad += memcmp(xa, xr, sizeof(float) * (size_t)n) != 0;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* conv_silu: every tap count 1..5 and 8, channel counts over all tail lengths, with and
 * without bias, in place over a tap row; against the scalar reference and against double
 * truth for the scalar one. Weights are multiples of 1/8 and inputs of 1/16 (exact
 * products), so FMA and multiply-then-add sum to the same float; the bias carries the
 * edge values into SiLU. */
static void test_conv_silu(void **state) {
    (void)state;
    long bad = 0;
    enum { KMAX = 8, CMAX = 300 };
    static float wt[KMAX * CMAX], bias[CMAX], u[KMAX][CMAX + 16], r[CMAX + 16], y[CMAX + 16];
    static const int ks[] = {1, 2, 3, 4, 5, 8};
    for (int a = 0; a < (int)(sizeof ks / sizeof ks[0]); a++) {
        const int K = ks[a];
        for (int n = 0; n <= CMAX; n = n < 40 ? n + 1 : n + 37) {
            const float *up[KMAX];
            for (int k = 0; k < K; k++) {
                for (int i = 0; i < n; i++) {
                    wt[k * n + i] = floorf(frand(-8.0f, 9.0f)) / 8.0f;
                    u[k][i] = floorf(frand(-64.0f, 65.0f)) / 16.0f;
                }
                up[k] = u[k];
            }
            for (int i = 0; i < n; i++) bias[i] = i < NEDGE ? edges[i] : frand(-0.5f, 0.5f);
            for (int withb = 0; withb < 2; withb++) {
                const float *bv = withb ? bias : NULL;
                vmath_scalar.conv_silu(r, up, wt, bv, K, n);
                for (int i = 0; i < n; i++) { /* the reference against double truth */
                    double s = bv ? bv[i] : 0.0;
                    for (int k = 0; k < K; k++) s += (double)wt[k * n + i] * u[k][i];
                    const double want = s / (1.0 + exp(-s));
                    if (!(fabs(r[i] - want) <= 1e-5 * (fabs(want) + 1.0))) {
                        if (bad < 4) fprintf(stderr, "scalar conv_silu K=%d n=%d [%d] got %.9g want %.9g\n", K, n, i, r[i], want);
                        bad++;
                    }
                }
                for (int t = 0; t < NSIMD; t++) {
                    const vmath_ops *o = simd_tables[t];
                    if (!itera_isa_has(o->v.isa)) continue;
                    for (int i = 0; i < n + 16; i++) y[i] = GUARD;
                    o->conv_silu(y, up, wt, bv, K, n);
                    for (int i = 0; i < n; i++)
                        if (!close_enough(y[i], r[i], VMATH_TOL) || isnan(y[i])) {
                            if (bad < 4)
                                fprintf(stderr, "%s conv_silu K=%d n=%d [%d] got %.9g want %.9g\n",
                                        o->v.name, K, n, i, y[i], r[i]);
                            bad++;
                        }
                    for (int i = n; i < n + 16; i++) bad += y[i] != GUARD;
                    /* in place over the last tap row */
                    float save[CMAX];
                    memcpy(save, u[K - 1], sizeof(float) * (size_t)n);
                    o->conv_silu(u[K - 1], up, wt, bv, K, n);
                    bad += n > 0 && memcmp(u[K - 1], y, sizeof(float) * (size_t)n) != 0;
                    memcpy(u[K - 1], save, sizeof(float) * (size_t)n);
                }
            }
        }
    }
    /* a case worked by hand: tap k of row u[k] takes weight row k (0.5·1 − 1·2 = −1.5) */
    if (itera_isa_has(isa_selected()->vm->v.isa)) {
        const float *up[2] = {u[0], u[1]};
        for (int i = 0; i < 16; i++) { u[0][i] = 1.0f; u[1][i] = 2.0f; wt[i] = 0.5f; wt[16 + i] = -1.0f; }
        isa_selected()->vm->conv_silu(y, up, wt, NULL, 2, 16);
        const float want = -1.5f / (1.0f + expf(1.5f));
        for (int i = 0; i < 16; i++) bad += !close_enough(y[i], want, VMATH_TOL);
    }
    assert_int_equal(bad, 0);
}

/* The references, and every table this CPU runs, against double-precision truth. */
static double truth(const char *name, double x) {
    if (!strcmp(name, "exp")) return exp(x);
    if (!strcmp(name, "silu")) return x / (1.0 + exp(-x));
    if (!strcmp(name, "gelu")) return 0.5 * x * erfc(-x / sqrt(2.0));
    return fmax(x, 0.0) + log1p(exp(-fabs(x))); /* softplus */
}

static void test_against_truth(void **state) {
    (void)state;
    long bad = 0;
    const vmath_ops *tables[] = {&vmath_scalar, &vmath_avx2, &vmath_avx512};
    const int n = 4000;
    for (int i = 0; i < n; i++) xs[i] = i < NEDGE ? edges[i] : frand(-15.0f, 15.0f);
    for (int t = 0; t < 3; t++) {
        if (!itera_isa_has(tables[t]->v.isa)) continue;
        for (int u = 0; u < NUNARY; u++) {
            get_unary(tables[t], &unaries[u])(ys, xs, n);
            double worst = 0.0;
            for (int i = 0; i < n; i++) {
                const double want = truth(unaries[u].name, xs[i]);
                if (isinf(want) || want > 3.4e38) continue;
                const double err = fabs(ys[i] - want) / (fabs(want) + 1.0);
                if (err > worst) worst = err;
            }
            printf("%s %s: max error vs double truth %.3g (relative + absolute)\n", tables[t]->v.name,
                   unaries[u].name, worst);
            bad += !(worst <= TRUTH_TOL);
        }
    }
    assert_int_equal(bad, 0);
}

/* The comparison itself fails on a wrong value, a NaN and an infinity mismatch. */
static void test_checker_catches_faults(void **state) {
    (void)state;
    assert_true(close_enough(1.0f, 1.0f, VMATH_TOL));
    assert_false(close_enough(1.0f + 1e-5f, 1.0f, VMATH_TOL));
    assert_false(close_enough(NAN, 1.0f, VMATH_TOL));
    assert_false(close_enough(3e38f, INFINITY, VMATH_TOL));
    assert_true(close_enough(1e-7f, 0.0f, VMATH_TOL));
}

static void test_best(void **state) {
    (void)state;
    const vmath_ops *b = isa_selected()->vm;
    assert_non_null(b);
    assert_true(itera_isa_has(b->v.isa));
    assert_true(b->v.isa == ITERA_ISA_SCALAR || b->v.isa == ITERA_ISA_AVX2 || b->v.isa == ITERA_ISA_AVX512);
    if (itera_isa_has(ITERA_ISA_AVX512)) assert_ptr_equal(b, &vmath_avx512);
    printf("vmath_best: %s\n", b->v.name);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best),
        cmocka_unit_test(test_checker_catches_faults),
        cmocka_unit_test(test_unary_random_edges_tails),
        cmocka_unit_test(test_mul_silu),
        cmocka_unit_test(test_softplus_sum),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_conv_silu),
        cmocka_unit_test(test_against_truth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
