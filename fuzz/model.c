/* fuzz/model.c: a model folder: config.json, a NUL, then model.safetensors. Parsed as
 * itera_model_load does (duplicate keys rejected, config range checks, strict safetensors,
 * every tensor against the config), then, when the model loads, a forward pass of two
 * tokens and one decode step (the engine must not crash or hit undefined behaviour on any
 * weights the loader accepts). When config.json's length is 1 mod 4, an FP32 model is
 * also loaded quantized to int8 (the load-time quantizer is slow: a quarter of the inputs
 * take that path). */
#include "fuzz.h"
#include "model.h"
#include "safetensors.h"

static void run(const itera_model *m)
{
    const itera_config *cf = itera_model_config(m);
    itera_ctx_opts o = {.threads = 1, .max_batch = 1, .max_seq = cf->max_seq_length < 2 ? 1 : 2,
                        .kernel = ITERA_KERNEL_AUTO};
    itera_ctx *c;
    itera_error err;
    if (itera_ctx_create(m, &o, &c, &err) != ITERA_OK) return;
    float *logits = malloc((size_t)2 * cf->vocab_size * sizeof *logits);
    int32_t tok[2] = {1 % cf->vocab_size, (cf->vocab_size - 1)};
    if (logits && itera_forward(c, tok, 1, o.max_seq, logits, &err) == ITERA_OK &&
        itera_ctx_position(c) < cf->max_seq_length)
        itera_decode_step(c, tok, logits, &err);
    free(logits);
    itera_ctx_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data, size, &n1, &rest, &n2);
    json_error_t je;
    json_t *root = json_loadb((const char *)data, n1, JSON_REJECT_DUPLICATES, &je);
    if (!root) return 0;
    itera_config cfg;
    itera_error err;
    itera_status st = config_from_json(root, "fuzz/config.json", &cfg, &err);
    json_decref(root);
    if (st != ITERA_OK) return 0;
    uint8_t *buf = malloc(n2 ? n2 : 1);
    if (!buf) return 0;
    if (n2) memcpy(buf, rest, n2);
    st_file *f;
    if (st_open_buffer("fuzz/model.safetensors", buf, n2, &f, &err) != ITERA_OK) return 0;
    const int passes = n1 % 4 == 1 ? 2 : 1;
    for (int q = 0; q < passes; q++) {
        itera_model *m;
        if (model_from_file("fuzz", &cfg, f, q ? ITERA_QUANT_INT8 : ITERA_QUANT_AS_STORED, &m, &err) !=
            ITERA_OK)
            continue;
        run(m);
        itera_model_free(m);
    }
    st_close(f);
    return 0;
}
