/* golden.c: reading and checking golden files (see golden.h). */
#include "golden.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void golden_free(golden *g)
{
    free(g->ids);
    free(g->logits);
    memset(g, 0, sizeof *g);
}

static itera_status fail(golden *g, itera_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static itera_status fail(golden *g, itera_error *err, const char *fmt, ...)
{
    golden_free(g);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return ITERA_ERR_FORMAT;
}

itera_status golden_read(const itera_tensors *f, const char *path, const itera_config *cf, golden *g,
                         itera_error *err)
{
    memset(g, 0, sizeof *g);
    const itera_tensor_view *ti = itera_tensors_find(f, "input_ids"), *tl = itera_tensors_find(f, "logits");
    const int V = cf->vocab_size;
    if (!ti || strcmp(ti->dtype, "I32") || ti->rank != 2)
        return fail(g, err, "%s: tensor 'input_ids' missing or not I32 [B, L]", path);
    const int64_t B = ti->shape[0], L = ti->shape[1];
    if (B < 1 || L < 1)
        return fail(g, err, "%s: input_ids is empty ([%lld, %lld])", path, (long long)B, (long long)L);
    if (L > cf->max_seq_length)
        return fail(g, err, "%s: L=%lld exceeds the model's max_seq_length %d", path, (long long)L,
                    cf->max_seq_length);
    if (B > 4096)
        return fail(g, err, "%s: B=%lld is more than the 4096 sequences verify runs at once", path,
                    (long long)B);
    if (!tl || strcmp(tl->dtype, "F32") || tl->rank != 3 || tl->shape[0] != B || tl->shape[1] != L ||
        tl->shape[2] != V)
        return fail(g, err, "%s: tensor 'logits' missing or not F32 [%lld, %lld, %d]", path,
                    (long long)B, (long long)L, V);
    /* B <= 4096, L <= 2^20, V <= 2^22: the products fit size_t */
    const size_t n = (size_t)B * (size_t)L;
    g->B = (int)B;
    g->L = (int)L;
    g->V = V;
    g->ids = malloc(n * sizeof *g->ids);
    g->logits = malloc(n * (size_t)V * sizeof *g->logits);
    if (!g->ids || !g->logits) {
        golden_free(g);
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
        return ITERA_ERR_NOMEM;
    }
    memcpy(g->ids, ti->data, n * sizeof *g->ids);
    memcpy(g->logits, tl->data, n * (size_t)V * sizeof *g->logits);
    for (size_t i = 0; i < n; i++)
        if (g->ids[i] < 0 || g->ids[i] >= V)
            return fail(g, err, "%s: input_ids: token id %d at index %zu is outside the vocabulary "
                        "(0..%d)", path, (int)g->ids[i], i, V - 1);
    return ITERA_OK;
}
