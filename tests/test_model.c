/* test_model.c: model folders: loading the reference, the synthetic model's determinism,
 * save/reload, and every kind of bad input giving a clear error (never a crash). */
#include "testutil.h"
#include "itera.h"
#include "safetensors.h"

static char dir[64];

static void save_synthetic(const char *d)
{
    itera_model *m;
    itera_error err;
    assert_int_equal(itera_model_synthetic(ITERA_DEFAULT_SEED, ITERA_QUANT_FP32, &m, &err), ITERA_OK);
    assert_int_equal(itera_model_save(m, d, &err), ITERA_OK);
    itera_model_free(m);
}

/* Rewrites d/model.safetensors from a good copy, changing one tensor (by name):
 * mode 'd' drop it, 't' dtype F16 of same bytes, 's' shape transposed, 'x' add an extra
 * tensor, 'n' put a NaN in it. */
static void mutate(const char *good, const char *d, const char *name, char mode)
{
    itera_error err;
    st_file *f;
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", good);
    assert_int_equal(st_open(path, &f, &err), ITERA_OK);
    st_writer *w = st_writer_new();
    float *copy = NULL;
    for (int i = 0; i < f->n; i++) {
        const st_tensor *t = &f->t[i];
        if (strcmp(t->name, name) != 0) {
            st_writer_add(w, t->name, t->dtype, t->rank, t->shape, t->data, t->nbytes);
            continue;
        }
        int64_t sh[8];
        memcpy(sh, t->shape, sizeof sh);
        switch (mode) {
        case 'd': break;
        case 't':
            sh[t->rank - 1] *= 2;
            st_writer_add(w, t->name, "F16", t->rank, sh, t->data, t->nbytes);
            break;
        case 's':
            sh[0] = t->shape[1];
            sh[1] = t->shape[0];
            st_writer_add(w, t->name, t->dtype, t->rank, sh, t->data, t->nbytes);
            break;
        case 'x':
            st_writer_add(w, t->name, t->dtype, t->rank, sh, t->data, t->nbytes);
            st_writer_add(w, "layers.9.bogus", t->dtype, t->rank, sh, t->data, t->nbytes);
            break;
        case 'n':
            copy = malloc(t->nbytes);
            memcpy(copy, t->data, t->nbytes);
            copy[3] = 0.0f / 0.0f;
            st_writer_add(w, t->name, t->dtype, t->rank, sh, copy, t->nbytes);
            break;
        }
    }
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    assert_int_equal(st_write(w, path, &err), ITERA_OK);
    st_writer_free(w);
    free(copy);
    st_close(f);
}

static void copy_config(const char *from, const char *to)
{
    char a[256], b[256], cmd[600];
    snprintf(a, sizeof a, "%s/config.json", from);
    snprintf(b, sizeof b, "%s/config.json", to);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    assert_int_equal(system(cmd), 0);
}

/* Expects loading d to fail with status st and a message containing each of the needles. */
static void expect_fail(const char *d, itera_status st, const char *n1, const char *n2)
{
    itera_model *m = (itera_model *)0x1;
    itera_error err = {{0}};
    itera_status got = itera_model_load(d, ITERA_QUANT_AS_STORED, &m, &err);
    printf("  expected error: %s\n", err.msg);
    assert_int_equal(got, st);
    assert_null(m);
    assert_non_null(strstr(err.msg, n1));
    if (n2) assert_non_null(strstr(err.msg, n2));
}

static void test_reference_loads(void **state)
{
    (void)state;
    if (!ref_available("reference model")) return;
    itera_model *m;
    itera_error err;
    assert_int_equal(itera_model_load(REF_DIR, ITERA_QUANT_AS_STORED, &m, &err), ITERA_OK);
    assert_int_equal(itera_model_param_count(m), 293656);
    assert_int_equal(itera_model_weight_bytes(m), 293656 * 4);
    assert_int_equal(itera_model_config(m)->hidden_size, 64);
    assert_true(itera_model_config(m)->moe_layer[1]);
    itera_model_free(m);
}

static void test_synthetic_deterministic_and_roundtrip(void **state)
{
    (void)state;
    itera_model *a, *b, *c, *r;
    itera_error err;
    assert_int_equal(itera_model_synthetic(ITERA_DEFAULT_SEED, ITERA_QUANT_FP32, &a, &err), ITERA_OK);
    assert_int_equal(itera_model_synthetic(ITERA_DEFAULT_SEED, ITERA_QUANT_FP32, &b, &err), ITERA_OK);
    assert_int_equal(itera_model_synthetic(ITERA_DEFAULT_SEED + 1, ITERA_QUANT_FP32, &c, &err), ITERA_OK);
    assert_int_equal(itera_model_param_count(a), 293656);
    char d[64];
    make_tmpdir(d, sizeof d);
    assert_int_equal(itera_model_save(a, d, &err), ITERA_OK);
    assert_int_equal(itera_model_load(d, ITERA_QUANT_AS_STORED, &r, &err), ITERA_OK);
    int32_t ids[16] = {2, 5, 9, 100, 1999, 4, 4, 7, 3, 1, 0, 45, 46, 47, 48, 49};
    size_t n = 16 * 2000;
    float *la = malloc(n * 4), *lb = malloc(n * 4), *lc = malloc(n * 4), *lr = malloc(n * 4);
    itera_model *ms[4] = {a, b, c, r};
    float *ls[4] = {la, lb, lc, lr};
    for (int i = 0; i < 4; i++) {
        itera_ctx *x;
        itera_ctx_opts o = {.threads = 1, .max_batch = 1, .max_seq = 16, .kernel = ITERA_KERNEL_AUTO};
        assert_int_equal(itera_ctx_create(ms[i], &o, &x, &err), ITERA_OK);
        assert_int_equal(itera_forward(x, ids, 1, 16, ls[i], &err), ITERA_OK);
        itera_ctx_free(x);
    }
    assert_memory_equal(la, lb, n * 4);  /* same seed: bit-identical */
    assert_memory_equal(la, lr, n * 4);  /* saved and reloaded: bit-identical */
    assert_true(max_abs_diff(la, lc, n) > 1e-3f); /* another seed: another model */
    for (int i = 0; i < 4; i++) {
        itera_model_free(ms[i]);
        free(ls[i]);
    }
}

static void test_bad_folders(void **state)
{
    (void)state;
    char good[64], bad[64], path[256];
    make_tmpdir(good, sizeof good);
    make_tmpdir(bad, sizeof bad);
    save_synthetic(good);

    expect_fail("/nonexistent/itera-model", ITERA_ERR_IO, "/nonexistent/itera-model/config.json", "cannot open");

    snprintf(path, sizeof path, "%s/config.json", bad);
    write_text(path, "{ \"vocab_size\": 2000, oops }");
    expect_fail(bad, ITERA_ERR_FORMAT, "config.json", "not valid JSON");
    write_text(path, "{\"vocab_size\": 2000, \"num_layers\": 3, \"ssm_state_size\": 8, \"ssm_expand_factor\": 2,"
                     "\"ssm_conv_kernel\": 4, \"num_experts\": 4, \"expert_size\": 32, \"top_k_experts\": 2,"
                     "\"moe_layers\": [1], \"max_seq_length\": 128, \"layer_norm_eps\": 1e-5}");
    expect_fail(bad, ITERA_ERR_FORMAT, "'hidden_size' missing", NULL);
    write_text(path, "{\"vocab_size\": 2000, \"hidden_size\": 64, \"num_layers\": 3, \"ssm_state_size\": 8,"
                     "\"ssm_expand_factor\": 2, \"ssm_conv_kernel\": 4, \"num_experts\": 4, \"expert_size\": 32,"
                     "\"top_k_experts\": 5, \"moe_layers\": [1], \"max_seq_length\": 128, \"layer_norm_eps\": 1e-5}");
    expect_fail(bad, ITERA_ERR_FORMAT, "'top_k_experts'", "1..4");
    write_text(path, "{\"vocab_size\": 2000, \"hidden_size\": 64, \"num_layers\": 3, \"ssm_state_size\": 8,"
                     "\"ssm_expand_factor\": 2, \"ssm_conv_kernel\": 4, \"num_experts\": 4, \"expert_size\": 32,"
                     "\"top_k_experts\": 2, \"moe_layers\": [7], \"max_seq_length\": 128, \"layer_norm_eps\": 1e-5}");
    expect_fail(bad, ITERA_ERR_FORMAT, "moe_layers[0]", NULL);

    copy_config(good, bad);
    expect_fail(bad, ITERA_ERR_IO, "model.safetensors", "cannot open");

    /* truncated file */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "head -c 100000 %s/model.safetensors > %s/model.safetensors", good, bad);
    assert_int_equal(system(cmd), 0);
    expect_fail(bad, ITERA_ERR_FORMAT, "model.safetensors", "truncated");
    snprintf(cmd, sizeof cmd, "head -c 5 %s/model.safetensors > %s/model.safetensors", good, bad);
    assert_int_equal(system(cmd), 0);
    expect_fail(bad, ITERA_ERR_FORMAT, "too short", NULL);
    /* header that is not JSON */
    snprintf(path, sizeof path, "%s/model.safetensors", bad);
    FILE *f = fopen(path, "wb");
    uint64_t hl = 12;
    fwrite(&hl, 8, 1, f);
    fwrite("not json!!!!", 1, 12, f);
    fclose(f);
    expect_fail(bad, ITERA_ERR_FORMAT, "header is not a JSON object", NULL);

    mutate(good, bad, "layers.1.ssm.ssm.delta_proj.weight", 'd');
    expect_fail(bad, ITERA_ERR_FORMAT, "'layers.1.ssm.ssm.delta_proj.weight' missing", "F32 [128, 128]");
    mutate(good, bad, "layers.0.ssm.ssm.B", 't');
    expect_fail(bad, ITERA_ERR_FORMAT, "'layers.0.ssm.ssm.B' is F16 [8, 256]", "expected F32 [8, 128]");
    mutate(good, bad, "layers.2.ssm.out_proj.weight", 's');
    expect_fail(bad, ITERA_ERR_FORMAT, "'layers.2.ssm.out_proj.weight' is F32 [128, 64]", "expected F32 [64, 128]");
    mutate(good, bad, "norm.bias", 'x');
    expect_fail(bad, ITERA_ERR_FORMAT, "unexpected tensor 'layers.9.bogus'", NULL);
    mutate(good, bad, "layers.0.ssm.conv1d.bias", 'n');
    expect_fail(bad, ITERA_ERR_FORMAT, "'layers.0.ssm.conv1d.bias' holds a non-finite value", NULL);
    mutate(good, bad, "embedding.weight", 'n');
    expect_fail(bad, ITERA_ERR_FORMAT, "'embedding.weight' holds a non-finite value", NULL);
}

static void test_safetensors_writer_roundtrip(void **state)
{
    (void)state;
    char d[64], path[128];
    make_tmpdir(d, sizeof d);
    snprintf(path, sizeof path, "%s/x.safetensors", d);
    float a[6] = {1, 2, 3, 4, 5, 6};
    int32_t b[3] = {7, 8, 9};
    int64_t sa[2] = {2, 3}, sb[1] = {3};
    st_writer *w = st_writer_new();
    assert_int_equal(st_writer_add(w, "a", "F32", 2, sa, a, sizeof a), 0);
    assert_int_equal(st_writer_add(w, "b", "I32", 1, sb, b, sizeof b), 0);
    assert_int_equal(st_writer_meta(w, "k", "v"), 0);
    assert_int_equal(st_writer_add(w, "c", "F99", 1, sb, b, sizeof b), -1);
    itera_error err;
    assert_int_equal(st_write(w, path, &err), ITERA_OK);
    st_writer_free(w);
    st_file *f;
    assert_int_equal(st_open(path, &f, &err), ITERA_OK);
    assert_int_equal(f->n, 2);
    assert_string_equal(st_meta(f, "k"), "v");
    assert_null(st_meta(f, "nope"));
    const st_tensor *t = st_find(f, "a");
    assert_non_null(t);
    assert_int_equal(t->shape[1], 3);
    assert_memory_equal(t->data, a, sizeof a);
    assert_memory_equal(st_find(f, "b")->data, b, sizeof b);
    st_close(f);
}

int main(void)
{
    make_tmpdir(dir, sizeof dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_loads),
        cmocka_unit_test(test_synthetic_deterministic_and_roundtrip),
        cmocka_unit_test(test_bad_folders),
        cmocka_unit_test(test_safetensors_writer_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
