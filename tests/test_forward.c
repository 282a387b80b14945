/* test_forward.c: the forward pass and decode step: golden logits (prefill and decode),
 * decode == prefill at every position, batch rows independent, 1 thread == N threads,
 * prefill continued by decode, bad arguments. */
#include "testutil.h"
#include "itera.h"
#include "safetensors.h"

/* FP32 against the PyTorch golden logits (reference README: about 1e-4). */
#define GOLDEN_TOL 1e-4f
/* Same engine, different paths (decode vs prefill, threads, batch): summation order may
 * differ slightly. */
#define PATH_TOL 2e-5f

static itera_model *synth(void)
{
    itera_model *m;
    itera_error err;
    assert_int_equal(itera_model_synthetic(ITERA_DEFAULT_SEED, ITERA_QUANT_FP32, &m, &err), ITERA_OK);
    return m;
}

static itera_ctx *ctx(const itera_model *m, int threads, int B, int L)
{
    itera_ctx *c;
    itera_error err;
    itera_ctx_opts o = {.threads = threads, .max_batch = B, .max_seq = L, .kernel = ITERA_KERNEL_AUTO};
    assert_int_equal(itera_ctx_create(m, &o, &c, &err), ITERA_OK);
    return c;
}

static void random_tokens(int32_t *t, int n, int V, uint32_t seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)V);
    }
}

static void run_golden(const char *file, itera_model *m, int threads, bool decode)
{
    itera_error err;
    st_file *f;
    assert_int_equal(st_open(file, &f, &err), ITERA_OK);
    const st_tensor *ti = st_find(f, "input_ids"), *tl = st_find(f, "logits");
    assert_non_null(ti);
    assert_non_null(tl);
    int B = (int)ti->shape[0], L = (int)ti->shape[1], V = 2000;
    int32_t *ids = malloc(sizeof(int32_t) * B * L);
    float *want = malloc(sizeof(float) * B * L * V), *got = malloc(sizeof(float) * B * L * V);
    memcpy(ids, ti->data, sizeof(int32_t) * B * L);
    memcpy(want, tl->data, sizeof(float) * B * L * V);
    itera_ctx *c = ctx(m, threads, B, L);
    if (!decode) {
        assert_int_equal(itera_forward(c, ids, B, L, got, &err), ITERA_OK);
    } else {
        assert_int_equal(itera_decode_reset(c, B, &err), ITERA_OK);
        float *lg = malloc(sizeof(float) * B * V);
        for (int l = 0; l < L; l++) {
            int32_t step[16];
            for (int b = 0; b < B; b++) step[b] = ids[b * L + l];
            assert_int_equal(itera_decode_step(c, step, lg, &err), ITERA_OK);
            for (int b = 0; b < B; b++) memcpy(got + ((size_t)b * L + l) * V, lg + (size_t)b * V, sizeof(float) * V);
        }
        free(lg);
    }
    float e = max_abs_diff(got, want, (size_t)B * L * V);
    printf("  %s %s threads=%d: max_abs_err=%.3g\n", strrchr(file, '/') + 1, decode ? "decode" : "prefill",
           threads, (double)e);
    assert_true(e <= GOLDEN_TOL);
    itera_ctx_free(c);
    free(ids);
    free(want);
    free(got);
    st_close(f);
}

static void test_golden(void **state)
{
    (void)state;
    if (!ref_available("golden logits")) return;
    itera_model *m;
    itera_error err;
    assert_int_equal(itera_model_load(REF_DIR, ITERA_QUANT_FP32, &m, &err), ITERA_OK);
    const char *files[] = {"random_b2_l128", "single_token", "text_b1_l128", "text_b1_l17"};
    for (size_t i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, REF_DIR "/golden/%s.safetensors", files[i]);
        run_golden(path, m, 1, false);
        run_golden(path, m, 2, false);
        run_golden(path, m, 1, true);
    }
    itera_model_free(m);
}

static void test_decode_equals_prefill(void **state)
{
    (void)state;
    itera_model *m = synth();
    int B = 2, L = 40, V = 2000;
    int32_t ids[80];
    random_tokens(ids, B * L, V, 7);
    float *pre = malloc(sizeof(float) * B * L * V), *lg = malloc(sizeof(float) * B * V);
    itera_error err;
    itera_ctx *c = ctx(m, 2, B, L);
    assert_int_equal(itera_forward(c, ids, B, L, pre, &err), ITERA_OK);
    assert_int_equal(itera_decode_reset(c, B, &err), ITERA_OK);
    for (int l = 0; l < L; l++) {
        int32_t step[2] = {ids[l], ids[L + l]};
        assert_int_equal(itera_decode_step(c, step, lg, &err), ITERA_OK);
        assert_int_equal(itera_ctx_position(c), l + 1);
        for (int b = 0; b < B; b++)
            assert_true(max_abs_diff(lg + (size_t)b * V, pre + ((size_t)b * L + l) * V, V) <= PATH_TOL);
    }
    itera_ctx_free(c);
    free(pre);
    free(lg);
    itera_model_free(m);
}

static void test_prefill_then_decode(void **state)
{
    (void)state;
    itera_model *m = synth();
    int L = 30, V = 2000;
    int32_t ids[30];
    random_tokens(ids, L, V, 11);
    float *full = malloc(sizeof(float) * L * V), *lg = malloc(sizeof(float) * V);
    itera_error err;
    itera_ctx *c = ctx(m, 1, 1, L);
    assert_int_equal(itera_forward(c, ids, 1, L, full, &err), ITERA_OK);
    assert_int_equal(itera_forward(c, ids, 1, 20, NULL, &err), ITERA_OK); /* state only */
    for (int l = 20; l < L; l++) {
        assert_int_equal(itera_decode_step(c, &ids[l], lg, &err), ITERA_OK);
        assert_true(max_abs_diff(lg, full + (size_t)l * V, V) <= PATH_TOL);
    }
    itera_ctx_free(c);
    free(full);
    free(lg);
    itera_model_free(m);
}

static void test_batch_rows_independent(void **state)
{
    (void)state;
    itera_model *m = synth();
    int B = 3, L = 25, V = 2000;
    int32_t ids[75];
    random_tokens(ids, B * L, V, 3);
    float *batch = malloc(sizeof(float) * B * L * V), *one = malloc(sizeof(float) * L * V);
    itera_error err;
    itera_ctx *c = ctx(m, 2, B, L);
    assert_int_equal(itera_forward(c, ids, B, L, batch, &err), ITERA_OK);
    for (int b = 0; b < B; b++) {
        assert_int_equal(itera_forward(c, ids + b * L, 1, L, one, &err), ITERA_OK);
        assert_true(max_abs_diff(one, batch + (size_t)b * L * V, (size_t)L * V) <= PATH_TOL);
    }
    itera_ctx_free(c);
    free(batch);
    free(one);
    itera_model_free(m);
}

static void test_threads_agree(void **state)
{
    (void)state;
    itera_model *m = synth();
    int B = 2, L = 128, V = 2000;
    int32_t *ids = malloc(sizeof(int32_t) * B * L);
    random_tokens(ids, B * L, V, 5);
    float *ref = malloc(sizeof(float) * B * L * V), *got = malloc(sizeof(float) * B * L * V);
    itera_error err;
    itera_ctx *c1 = ctx(m, 1, B, L);
    assert_int_equal(itera_forward(c1, ids, B, L, ref, &err), ITERA_OK);
    itera_ctx_free(c1);
    for (int t = 2; t <= 4; t++) {
        itera_ctx *c = ctx(m, t, B, L);
        assert_int_equal(itera_forward(c, ids, B, L, got, &err), ITERA_OK);
        assert_true(max_abs_diff(ref, got, (size_t)B * L * V) <= PATH_TOL);
        itera_ctx_free(c);
    }
    free(ids);
    free(ref);
    free(got);
    itera_model_free(m);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    itera_model *m = synth();
    itera_ctx *c = ctx(m, 1, 2, 16);
    itera_error err;
    float *lg = malloc(sizeof(float) * 2 * 16 * 2000);
    int32_t ids[32] = {0};
    ids[5] = 2000;
    assert_int_equal(itera_forward(c, ids, 1, 16, lg, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "token id 2000"));
    ids[5] = -1;
    assert_int_equal(itera_forward(c, ids, 1, 16, lg, &err), ITERA_ERR_ARG);
    ids[5] = 4;
    assert_int_equal(itera_forward(c, ids, 1, 17, lg, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "sequence length 17"));
    assert_int_equal(itera_forward(c, ids, 3, 4, lg, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "batch 3"));
    /* decode before any reset */
    itera_ctx *c2 = ctx(m, 1, 1, 8);
    assert_int_equal(itera_decode_step(c2, ids, lg, &err), ITERA_ERR_STATE);
    /* decode past max_seq_length */
    assert_int_equal(itera_decode_reset(c2, 1, &err), ITERA_OK);
    for (int i = 0; i < 128; i++) assert_int_equal(itera_decode_step(c2, ids, NULL, &err), ITERA_OK);
    assert_int_equal(itera_decode_step(c2, ids, NULL, &err), ITERA_ERR_STATE);
    assert_non_null(strstr(err.msg, "max_seq_length"));
    /* contexts beyond the model */
    itera_ctx *c3;
    itera_ctx_opts o = {.threads = 1, .max_seq = 129};
    assert_int_equal(itera_ctx_create(m, &o, &c3, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "max_seq"));
    o.max_seq = 0;
    o.threads = 1000;
    assert_int_equal(itera_ctx_create(m, &o, &c3, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "threads"));
    itera_ctx_free(c2);
    itera_ctx_free(c);
    free(lg);
    itera_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_decode_equals_prefill),
        cmocka_unit_test(test_prefill_then_decode),
        cmocka_unit_test(test_batch_rows_independent),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
