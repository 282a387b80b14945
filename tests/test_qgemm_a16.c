/*
 * test_qgemm_a16.c: the W8A16 products (engine/qgemm_a16.h): every ISA variant of the
 * table against the scalar reference, bit for bit, over awkward shapes, strides, several
 * chunks, extreme values and thread slices (variants the CPU lacks are skipped with a line
 * saying so); the scalar reference against a double-precision product of its own quantized
 * operands; the two-byte form of the activations.
 */
#include "testutil.h"

#include <math.h>

#include "itera.h"
#include "qgemm_a16.h"

/* The scalar reference against the exact product of its quantized operands, relative to
 * Σ |w·x| (float accumulation over at most a few chunks). */
#define REF_REL_TOL 1e-6

#define QA(i) ((const qa16_impl *)qa16_variants[i])

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(rng_state >> 40) / 8388608.0f - 1.0f;
}

static void fill(float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * frand();
}

/* W [n_out, K] as a memory form: per row d = max|w| / 127, q = rint(w / d). */
static void *packed(const float *W, int n_out, int K)
{
    const size_t b = (size_t)qg_panels(n_out) * qa16_panel_bytes(K);
    void *w = aligned_alloc(64, (b + 63) & ~(size_t)63);
    int8_t *q = malloc((size_t)K);
    assert_non_null(w);
    assert_non_null(q);
    memset(w, 0, b);
    for (int n = 0; n < n_out; n++) {
        float amax = 0;
        for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(W[(size_t)n * K + k]));
        const float d = amax / 127;
        for (int k = 0; k < K; k++) q[k] = (int8_t)lrintf(d > 0 ? W[(size_t)n * K + k] / d : 0);
        qa16_place_row(w, K, n, d, q);
    }
    free(q);
    return w;
}

/* W[n, :] of a memory form. */
static void unpack(const void *w, int K, int n, float *out)
{
    int8_t *q = malloc((size_t)K);
    const float d = qa16_take_row(w, K, n, q);
    for (int k = 0; k < K; k++) out[k] = d * (float)q[k];
    free(q);
}

static void run(const qa16_impl *impl, const void *w, int n_out, int K, const float *bias, const float *x,
                int ldx, int M, void *scratch, float *y, int ldy)
{
    qa16_act a = qa16_act_view(scratch, M, K);
    impl->prepare(x, ldx, 0, M, K, &a);
    qa16_args args = {.w = w, .n_out = n_out, .K = K, .bias = bias, .x = a, .y = y, .ldy = ldy};
    impl->gemm(&args, 0, M, 0, qg_panels(n_out));
}

/* The scalar reference's y against Σ_k (dw·q) · (dx·xq) in double. */
static void check_reference(const void *w, int n_out, int K, const float *bias, int M, void *scratch,
                            const float *y, int ldy)
{
    qa16_act a = qa16_act_view(scratch, M, K);
    const int nc = qa16_chunks(K);
    float *wr = malloc(sizeof(float) * K);
    for (int n = 0; n < n_out; n++) {
        unpack(w, K, n, wr);
        for (int m = 0; m < M; m++) {
            double acc = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                const double xv = a.xq[(size_t)m * K + k] * (double)a.xd[(size_t)m * nc + k / QA16_CHUNK];
                acc += xv * wr[k];
                mag += fabs(xv * wr[k]);
            }
            if (bias) acc += bias[n], mag += fabs(bias[n]);
            assert_true(fabs(y[(size_t)m * ldy + n] - acc) <= REF_REL_TOL * mag + 1e-30);
        }
    }
    free(wr);
}

static void test_variants_equal_reference(void **state)
{
    (void)state;
    const int Ms[] = {1, 2, 3, 4, 5, 15, 16, 17, 33, 64};
    const int Ns[] = {1, 15, 17, 40, 100};
    const int Ks[] = {32, 64, 96, 128, 256, 288, 544};
    for (int i = 1; i < qa16_variant_count; i++)
        if (!itera_isa_has(QA(i)->v.isa))
            printf("SKIPPED: qgemm_a16 %s: not supported by this CPU (or capped by ITERA_ISA)\n", QA(i)->v.name);
    long cases = 0;
    for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++) {
            const int K = Ks[ki], n_out = Ns[ni];
            float *W = malloc(sizeof(float) * n_out * K), *bias = malloc(sizeof(float) * n_out);
            fill(W, (size_t)n_out * K, 0.2f);
            W[0] = 0.2f, W[1] = -0.2f; /* q = ±127 in row 0 */
            fill(bias, n_out, 0.5f);
            void *w = packed(W, n_out, K);
            for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
                const int M = Ms[mi], ldx = K + 3, ldy = n_out + 5;
                float *x = malloc(sizeof(float) * M * ldx);
                fill(x, (size_t)M * ldx, 3.0f);
                if (M > 2) memset(x + ldx, 0, sizeof(float) * K);               /* a zero row */
                if (M > 3) x[2 * ldx] = 3.0f, x[2 * ldx + 1] = -3.0f;            /* ±32767 */
                if (M > 4 && K > QA16_CHUNK) memset(x + 3 * ldx, 0, sizeof(float) * QA16_CHUNK); /* a zero chunk */
                const float *b = (M + n_out) % 2 ? bias : NULL;
                const size_t sb = qa16_act_bytes(M, K), ys = (size_t)M * ldy;
                void *s0 = malloc(sb), *s1 = malloc(sb);
                float *y0 = malloc(sizeof(float) * ys), *y1 = malloc(sizeof(float) * ys);
                for (size_t j = 0; j < ys; j++) y0[j] = y1[j] = -7.0f; /* untouched past n_out */
                run(QA(0), w, n_out, K, b, x, ldx, M, s0, y0, ldy);
                if (M <= 17) check_reference(w, n_out, K, b, M, s0, y0, ldy);
                for (size_t j = 0; j < ys; j++)
                    if (j % ldy >= (size_t)n_out) assert_true(y0[j] == -7.0f);
                for (int i = 1; i < qa16_variant_count; i++) {
                    if (!itera_isa_has(QA(i)->v.isa)) continue;
                    memset(s1, 0xee, sb);
                    run(QA(i), w, n_out, K, b, x, ldx, M, s1, y1, ldy);
                    qa16_act a0 = qa16_act_view(s0, M, K), a1 = qa16_act_view(s1, M, K);
                    assert_memory_equal(a0.xq, a1.xq, sizeof(int16_t) * M * K);
                    assert_memory_equal(a0.lo, a1.lo, (size_t)M * K);
                    assert_memory_equal(a0.hi, a1.hi, (size_t)M * K);
                    assert_memory_equal(a0.xd, a1.xd, sizeof(float) * M * qa16_chunks(K));
                    if (memcmp(y0, y1, sizeof(float) * ys) != 0) {
                        for (size_t j = 0; j < ys; j++)
                            if (memcmp(&y0[j], &y1[j], 4))
                                print_error("%s M=%d n_out=%d K=%d: y[%zu] %.9g vs scalar %.9g\n", QA(i)->v.name,
                                            M, n_out, K, j, y1[j], y0[j]);
                        fail();
                    }
                    cases++;
                }
                free(x), free(s0), free(s1), free(y0), free(y1);
            }
            free(W), free(bias), free(w);
        }
    printf("qgemm_a16: %ld SIMD cases equal the scalar reference bit for bit\n", cases);
}

/* The activations' int16 values and their two bytes: x = 256 · (hi − 128) + lo, the
 * extremes ±32767 included; a zero chunk quantizes to zeros with scale 0. */
static void test_two_byte_form(void **state)
{
    (void)state;
    enum { K = 288 };
    float x[K];
    fill(x, K, 1.0f);
    x[5] = 1.0f, x[6] = -1.0f;
    memset(x + QA16_CHUNK, 0, sizeof(float) * (K - QA16_CHUNK));
    void *s = malloc(qa16_act_bytes(1, K));
    qa16_act a = qa16_act_view(s, 1, K);
    qa16_prepare_scalar(x, K, 0, 1, K, &a);
    assert_int_equal(a.xq[5], 32767);
    assert_int_equal(a.xq[6], -32767);
    assert_true(a.xd[0] == 1.0f / 32767.0f);
    assert_true(a.xd[1] == 0.0f);
    for (int k = 0; k < K; k++) {
        assert_int_equal(256 * ((int)a.hi[k] - 128) + a.lo[k], a.xq[k]);
        assert_true(fabsf(x[k] - a.xq[k] * a.xd[k / QA16_CHUNK]) <= 0.5f * a.xd[0] * 1.0001f);
    }
    free(s);
}

/* A chunk holding a NaN or an infinity gives NaN products (as FP32 would), never finite
 * garbage, in every variant; a chunk too small for 32767 / max|x| is a zero chunk. */
static void test_nonfinite_activations(void **state)
{
    (void)state;
    enum { N = 20, K = 288, M = 18 };
    float W[N * K], x[M * K], y0[M * N], y1[M * N];
    fill(W, N * K, 0.3f);
    fill(x, M * K, 1.0f);
    x[3] = NAN;                      /* row 0, chunk 0 */
    x[K + QA16_CHUNK + 1] = INFINITY; /* row 1, chunk 1 */
    x[2 * K + 7] = -INFINITY;        /* row 2, chunk 0 */
    for (int k = 0; k < K; k++) x[3 * K + k] = 1e-36f * (float)(k % 5); /* row 3: tiny */
    void *w = packed(W, N, K), *s = malloc(qa16_act_bytes(M, K));
    run(QA(0), w, N, K, NULL, x, K, M, s, y0, N);
    qa16_act a = qa16_act_view(s, M, K);
    assert_true(isnan(a.xd[0]) && isnan(a.xd[3]) && isnan(a.xd[4]) && !isnan(a.xd[1]));
    for (int k = 0; k < QA16_CHUNK; k++) assert_int_equal(a.xq[k], 0);
    for (int n = 0; n < N; n++) {
        assert_true(isnan(y0[n]) && isnan(y0[N + n]) && isnan(y0[2 * N + n]));
        assert_true(y0[3 * N + n] == 0.0f && isfinite(y0[4 * N + n]));
    }
    for (int i = 1; i < qa16_variant_count; i++) {
        if (!itera_isa_has(QA(i)->v.isa)) continue;
        run(QA(i), w, N, K, NULL, x, K, M, s, y1, N);
        for (int j = 0; j < M * N; j++) assert_true(isnan(y0[j]) ? isnan(y1[j]) : y0[j] == y1[j]);
    }
    free(w), free(s);
}

/* Sub-ranges of rows and panels (the thread slices) write exactly their part, for every
 * variant here (the AMX one takes 16-row tiles and hands the rest to VNNI). */
static void test_slices(void **state)
{
    (void)state;
    enum { N = 70, K = 64, M = 37 };
    const int P = qg_panels(N);
    float W[N * K], x[M * K], y0[M * N], y1[M * N];
    fill(W, N * K, 0.3f);
    fill(x, M * K, 1.0f);
    void *w = packed(W, N, K), *s = malloc(qa16_act_bytes(M, K));
    run(QA(0), w, N, K, NULL, x, K, M, s, y0, N);
    for (int i = 0; i < qa16_variant_count; i++) {
        if (!itera_isa_has(QA(i)->v.isa)) continue;
        for (size_t j = 0; j < M * N; j++) y1[j] = NAN;
        qa16_args a = {.w = w, .n_out = N, .K = K, .x = qa16_act_view(s, M, K), .y = y1, .ldy = N};
        QA(i)->gemm(&a, 0, 20, 0, 2);
        QA(i)->gemm(&a, 20, M, 0, 2);
        QA(i)->gemm(&a, 0, M, 2, 3);
        QA(i)->gemm(&a, 0, 1, 3, P);
        QA(i)->gemm(&a, 1, M, 3, P);
        assert_memory_equal(y0, y1, sizeof y0);
    }
    free(w), free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_byte_form),
        cmocka_unit_test(test_variants_equal_reference),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_nonfinite_activations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
