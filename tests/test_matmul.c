/*
 * test_matmul.c: the FP32 matmul kernels (engine/matmul.h).
 *
 * Every variant this CPU runs is checked against a naive double-precision triple loop
 * over the unpacked W and against the scalar reference, over awkward shapes (row tails,
 * partial last panels, n_in of 1), with and without bias, with row strides wider than
 * the rows, and over panel sub-ranges [p0, p1): elements outside the slice (and the
 * stride padding) must keep their guard values.
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
#include "matmul.h"

/* The FP32 format's kernels, one per ISA (rows of its table, scalar first). */
#define FP32_IMPL (linear_formats[ITERA_QUANT_FP32].impl)
static const linear_kernel *fp32_kernel(int i) { return (const linear_kernel *)FP32_IMPL->kernels[i]; }

/* |y - exact| <= MM_TOL · (Σ_k |x·w| + |bias|): FP32 accumulation over n_in <= 513 terms. */
#define MM_TOL 2e-6
/* SIMD vs scalar reference, same bound (both are float sums in k order, FMA or not). */
#define MM_TOL_VS_SCALAR 2e-6
#define GUARD 1234.5f

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

typedef struct problem {
    int M, n_out, n_in, ldx, ldy;
    float *x, *W, *wp, *bias;
    double *exact, *scale; /* [M, n_out]: exact result, Σ|x·w| + |b| */
} problem;

static void problem_init(problem *P, int M, int n_out, int n_in, int with_bias) {
    P->M = M;
    P->n_out = n_out;
    P->n_in = n_in;
    P->ldx = n_in + 3;
    P->ldy = n_out + 5;
    P->x = malloc(sizeof(float) * (size_t)M * P->ldx);
    P->W = malloc(sizeof(float) * (size_t)n_out * n_in);
    P->wp = malloc(sizeof(float) * mm_packed_floats(n_out, n_in));
    P->bias = with_bias ? malloc(sizeof(float) * (size_t)n_out) : NULL;
    P->exact = malloc(sizeof(double) * (size_t)M * n_out);
    P->scale = malloc(sizeof(double) * (size_t)M * n_out);
    assert_non_null(P->x);
    assert_non_null(P->W);
    assert_non_null(P->wp);
    assert_non_null(P->exact);
    assert_non_null(P->scale);
    for (size_t i = 0; i < (size_t)M * P->ldx; i++) P->x[i] = frand();
    for (size_t i = 0; i < (size_t)n_out * n_in; i++) P->W[i] = frand();
    if (P->bias)
        for (int i = 0; i < n_out; i++) P->bias[i] = frand();
    mm_pack(P->wp, P->W, n_out, n_in);
    // The naive triple loop, in double, on the unpacked W.
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < n_out; n++) {
            double s = 0.0, a = 0.0;
            for (int k = 0; k < n_in; k++) {
                const double t = (double)P->x[(size_t)m * P->ldx + k] * P->W[(size_t)n * n_in + k];
                s += t;
                a += fabs(t);
            }
            if (P->bias) {
                s += P->bias[n];
                a += fabs(P->bias[n]);
            }
            P->exact[(size_t)m * n_out + n] = s;
            P->scale[(size_t)m * n_out + n] = a;
        }
    }
}

static void problem_free(problem *P) {
    free(P->x);
    free(P->W);
    free(P->wp);
    free(P->bias);
    free(P->exact);
    free(P->scale);
}

/* y = P's product on panels [p0, p1), all rows, with kernel k. */
static void run_gemm(const linear_kernel *k, const problem *P, int p0, int p1, float *y) {
    const linear_args a = {.w = P->wp, .n_out = P->n_out, .n_in = P->n_in, .bias = P->bias, .x = P->x,
                           .ldx = P->ldx, .M = P->M, .act = NULL, .y = y, .ldy = P->ldy};
    k->gemm(&a, 0, P->M, p0, p1);
}

static float *new_y(const problem *P) {
    const size_t len = (size_t)P->M * P->ldy;
    float *y = malloc(sizeof(float) * len);
    assert_non_null(y);
    for (size_t i = 0; i < len; i++) y[i] = GUARD;
    return y;
}

/* Counts the elements of y that are wrong: inside the slice of panels [p0, p1) farther
 * than tol·scale from ref (ref NULL: the exact result), outside it not the guard. */
static long check_y(const problem *P, const float *y, const float *ref, double tol, int p0,
                    int p1, const char *what) {
    long bad = 0;
    const int c0 = p0 * MM_NR, c1 = p1 * MM_NR < P->n_out ? p1 * MM_NR : P->n_out;
    for (int m = 0; m < P->M; m++) {
        for (int c = 0; c < P->ldy; c++) {
            const float v = y[(size_t)m * P->ldy + c];
            if (c >= c0 && c < c1) {
                const double want = ref ? ref[(size_t)m * P->ldy + c] : P->exact[(size_t)m * P->n_out + c];
                const double lim = tol * (P->scale[(size_t)m * P->n_out + c] + 1e-30);
                if (!(fabs(v - want) <= lim)) {
                    if (bad < 3)
                        fprintf(stderr, "%s M=%d n_out=%d n_in=%d p=[%d,%d) y[%d,%d]=%.9g want %.9g (lim %.3g)\n",
                                what, P->M, P->n_out, P->n_in, p0, p1, m, c, v, want, lim);
                    bad++;
                }
            } else if (v != GUARD) {
                if (bad < 3)
                    fprintf(stderr, "%s M=%d n_out=%d n_in=%d p=[%d,%d) wrote y[%d,%d] outside its slice\n",
                            what, P->M, P->n_out, P->n_in, p0, p1, m, c);
                bad++;
            }
        }
    }
    return bad;
}

/* Runs every available variant on panel slice [p0, p1); returns the wrong elements. */
static long run_slice(const problem *P, int p0, int p1) {
    long bad = 0;
    float *ref = new_y(P);
    run_gemm(fp32_kernel(0), P, p0, p1, ref);
    bad += check_y(P, ref, NULL, MM_TOL, p0, p1, "scalar vs exact");
    for (int i = 0; i < FP32_IMPL->n_kernels; i++) {
        const linear_kernel *im = fp32_kernel(i);
        if (im->v.isa == ITERA_ISA_SCALAR || !itera_isa_has(im->v.isa)) continue;
        float *y = new_y(P);
        run_gemm(im, P, p0, p1, y);
        bad += check_y(P, y, NULL, MM_TOL, p0, p1, im->v.name);
        bad += check_y(P, y, ref, MM_TOL_VS_SCALAR, p0, p1, im->v.name);
        free(y);
    }
    free(ref);
    return bad;
}

/* Full range, and where there are panels enough, a leading, a middle and a last slice. */
static long run_shape(int M, int n_out, int n_in, int with_bias) {
    problem P;
    problem_init(&P, M, n_out, n_in, with_bias);
    const int np = mm_panels(n_out);
    long bad = run_slice(&P, 0, np);
    if (np >= 2) {
        bad += run_slice(&P, 0, 1);
        bad += run_slice(&P, np - 1, np);
    }
    if (np >= 4) bad += run_slice(&P, 1, np - 1);
    if (np >= 11) bad += run_slice(&P, 3, 10); /* an odd count: 8 + 2... tile mixes */
    bad += run_slice(&P, np > 1 ? 1 : 0, np > 1 ? 1 : 0); /* empty slice writes nothing */
    problem_free(&P);
    return bad;
}

static const int outs[] = {1, 3, 15, 16, 17, 31, 33, 64, 2000};
static const int ins[] = {1, 7, 32, 64, 128, 256};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Every small M (row tails of every tile height) against every n_out and n_in. */
static void test_small_m_all_shapes(void **state) {
    (void)state;
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17};
    long bad = 0;
    for (int a = 0; a < COUNT(ms); a++)
        for (int b = 0; b < COUNT(outs); b++)
            for (int c = 0; c < COUNT(ins); c++)
                for (int bias = 0; bias < 2; bias++) bad += run_shape(ms[a], outs[b], ins[c], bias);
    assert_int_equal(bad, 0);
}

/* Large M (several row chunks; 513 leaves a one-row tail) on the model's shapes and
 * on awkward ones. */
static void test_large_m(void **state) {
    (void)state;
    static const int shapes[][2] = {{2000, 64}, {256, 64}, {128, 128}, {64, 128}, {32, 64},
                                    {64, 32},   {64, 256}, {17, 7},    {33, 1},   {15, 256},
                                    {31, 128}};
    static const int ms[] = {128, 513};
    long bad = 0;
    for (int a = 0; a < COUNT(ms); a++)
        for (int s = 0; s < COUNT(shapes); s++) {
            if (ms[a] == 513 && shapes[s][0] == 2000) continue; /* time: 128 covers it */
            bad += run_shape(ms[a], shapes[s][0], shapes[s][1], s & 1);
        }
    assert_int_equal(bad, 0);
}

/* The checker itself fails on a wrong element and on a write outside the slice. */
static void test_checker_catches_faults(void **state) {
    (void)state;
    problem P;
    problem_init(&P, 3, 33, 7, 1);
    float *y = new_y(&P);
    run_gemm(fp32_kernel(0), &P, 0, 3, y);
    assert_int_equal(check_y(&P, y, NULL, MM_TOL, 0, 3, "clean"), 0);
    y[1 * P.ldy + 20] += 1e-3f;
    assert_int_equal(check_y(&P, y, NULL, MM_TOL, 0, 3, "expected fault"), 1);
    y[1 * P.ldy + 20] -= 1e-3f;
    y[2 * P.ldy + 33] = 0.0f; /* stride padding */
    assert_int_equal(check_y(&P, y, NULL, MM_TOL, 0, 3, "expected fault"), 1);
    free(y);
    problem_free(&P);
}

static void test_pack_roundtrip(void **state) {
    (void)state;
    const int n_out = 37, n_in = 5;
    float W[37 * 5], row[5];
    for (int i = 0; i < n_out * n_in; i++) W[i] = (float)i;
    assert_int_equal(mm_packed_floats(n_out, n_in), (size_t)3 * MM_NR * n_in);
    float *wp = malloc(sizeof(float) * mm_packed_floats(n_out, n_in));
    assert_non_null(wp);
    mm_pack(wp, W, n_out, n_in);
    for (int r = 0; r < n_out; r++) {
        mm_unpack_row(wp, n_out, n_in, r, row);
        assert_memory_equal(row, W + r * n_in, sizeof row);
    }
    // Documented layout, and zero padding past n_out.
    assert_true(wp[(2 * n_in + 4) * MM_NR + 4] == W[36 * n_in + 4]);
    for (int k = 0; k < n_in; k++)
        for (int j = 5; j < MM_NR; j++) assert_true(wp[(2 * n_in + k) * MM_NR + j] == 0.0f);
    free(wp);
}

static void test_table_and_best(void **state) {
    (void)state;
    const linear_impl *im = FP32_IMPL;
    assert_true(im->n_kernels >= 3);
    assert_int_equal(im->kernels[0]->isa, ITERA_ISA_SCALAR);
    for (int i = 1; i < im->n_kernels; i++) {
        assert_true(im->kernels[i]->isa > im->kernels[i - 1]->isa);
        assert_non_null(fp32_kernel(i)->gemm);
    }
    const linear_kernel *b = isa_selected()->fmt[ITERA_QUANT_FP32];
    assert_non_null(b);
    assert_true(itera_isa_has(b->v.isa));
    for (int i = 0; i < im->n_kernels; i++)
        if (itera_isa_has(im->kernels[i]->isa)) assert_true(im->kernels[i]->isa <= b->v.isa);
    printf("selected matmul: %s (cpu %s)\n", b->v.name, itera_isa_name(itera_isa_best()));
    for (int i = 0; i < im->n_kernels; i++)
        if (!itera_isa_has(im->kernels[i]->isa))
            printf("SKIPPED: matmul %s: not supported by this CPU (or capped by ITERA_ISA)\n",
                   im->kernels[i]->name);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_best),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_checker_catches_faults),
        cmocka_unit_test(test_small_m_all_shapes),
        cmocka_unit_test(test_large_m),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
