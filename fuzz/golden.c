/* fuzz/golden.c: a golden file for `itera verify` (safetensors with input_ids and logits)
 * checked against the built-in micro model's config as verify does, then, when it is
 * accepted and small (at most 8 tokens), run through the built-in model and compared. */
#include <math.h>

#include "fuzz.h"
#include "golden.h"
#include "safetensors.h"

static itera_model *model; /* built once: the same for every input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    itera_error err;
    if (!model && itera_model_synthetic(ITERA_DEFAULT_SEED, ITERA_QUANT_FP32, &model, &err) != ITERA_OK)
        abort();
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    itera_tensors *f;
    if (tensors_open_buffer("fuzz-golden.safetensors", buf, size, &f, &err) != ITERA_OK) return 0;
    golden g;
    if (golden_read(f, "fuzz-golden.safetensors", itera_model_config(model), &g, &err) == ITERA_OK) {
        if ((size_t)g.B * g.L <= 8) {
            itera_ctx_opts o = {.threads = 1, .max_batch = g.B, .max_seq = g.L, .kernel = ITERA_KERNEL_AUTO};
            itera_ctx *c;
            float *got = malloc((size_t)g.B * g.L * g.V * sizeof *got);
            if (got && itera_ctx_create(model, &o, &c, &err) == ITERA_OK) {
                if (itera_forward(c, g.ids, g.B, g.L, got, &err) == ITERA_OK) {
                    double worst = 0;
                    for (size_t i = 0; i < (size_t)g.B * g.L * g.V; i++) {
                        double e = fabs((double)got[i] - (double)g.logits[i]);
                        if (!(e <= worst)) worst = e;
                    }
                    (void)worst;
                }
                itera_ctx_free(c);
            }
            free(got);
        }
        golden_free(&g);
    }
    itera_tensors_close(f);
    return 0;
}
