/* model_save.c: writing a model folder (config.json + model.safetensors). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "quant.h"
#include "safetensors.h"

static itera_status write_config(const itera_config *c, const char *path, itera_error *err)
{
    json_t *o = json_object(), *moe = json_array();
    json_object_set_new(o, "architecture", json_string("itera-lite"));
    json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(o, "hidden_size", json_integer(c->hidden_size));
    json_object_set_new(o, "num_layers", json_integer(c->num_layers));
    json_object_set_new(o, "ssm_state_size", json_integer(c->ssm_state_size));
    json_object_set_new(o, "ssm_expand_factor", json_integer(c->ssm_expand_factor));
    json_object_set_new(o, "ssm_conv_kernel", json_integer(c->ssm_conv_kernel));
    json_object_set_new(o, "num_experts", json_integer(c->num_experts));
    json_object_set_new(o, "expert_size", json_integer(c->expert_size));
    json_object_set_new(o, "top_k_experts", json_integer(c->top_k_experts));
    for (int i = 0; i < c->num_layers; i++)
        if (c->moe_layer[i]) json_array_append_new(moe, json_integer(i));
    json_object_set_new(o, "moe_layers", moe);
    json_object_set_new(o, "max_seq_length", json_integer(c->max_seq_length));
    json_object_set_new(o, "layer_norm_eps", json_real(c->layer_norm_eps));
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tie_word_embeddings));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    itera_status st = itera_write_file(path, text, strlen(text), err);
    free(text);
    return st;
}

itera_status itera_model_save(const itera_model *m, const char *dir, itera_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    itera_status st = write_config(&m->cfg, path, err);
    if (st != ITERA_OK) return st;
    st_writer *w = st_writer_new();
    void **bufs = calloc((size_t)m->n_tensors, sizeof(void *));
    if (!w || !bufs) {
        st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
        goto out;
    }
    const linear_format *fmt = &linear_formats[m->quant];
    char block[16];
    snprintf(block, sizeof block, "%d", fmt->block);
    st_writer_meta(w, "itera.quant", itera_quant_name(m->quant));
    st_writer_meta(w, "itera.format", fmt->dtype);
    if (m->quant != ITERA_QUANT_FP32) st_writer_meta(w, "itera.block_size", block);
    st_writer_meta(w, "source", m->source);
    for (int i = 0; i < m->n_tensors && st == ITERA_OK; i++) {
        const model_tensor *t = &m->tensors[i];
        int rc;
        if (t->f32 && m->quant != ITERA_QUANT_FP32) {
            /* quantized models keep their FP32 parameters at half precision (quant.h) */
            size_t n = model_tensor_elems(t);
            uint8_t *h = bufs[i] = malloc(2 * n);
            if (!h) {
                st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; k < n; k++) {
                uint16_t v = quant_f32_to_f16((*t->f32)[k]);
                h[2 * k] = (uint8_t)(v & 0xff);
                h[2 * k + 1] = (uint8_t)(v >> 8);
            }
            rc = st_writer_add(w, t->name, "F16", t->rank, t->shape, h, 2 * n);
        } else if (t->f32) {
            rc = st_writer_add(w, t->name, "F32", t->rank, t->shape, *t->f32,
                               model_tensor_elems(t) * sizeof(float));
        } else {
            const linear *L = t->lin;
            if (!(bufs[i] = malloc(L->w_bytes))) {
                st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                break;
            }
            linear_save(L, bufs[i]);
            if (m->quant == ITERA_QUANT_FP32) {
                rc = st_writer_add(w, t->name, "F32", 2, t->shape, bufs[i], L->w_bytes);
            } else {
                int64_t shape[2] = {L->n_out, (int64_t)(L->w_bytes / (size_t)L->n_out)};
                rc = st_writer_add(w, t->name, "U8", 2, shape, bufs[i], L->w_bytes);
            }
        }
        if (rc != 0) st = itera_fail(err, ITERA_ERR_NOMEM, "%s: cannot add tensor", t->name);
    }
    if (st == ITERA_OK) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        st = st_write(w, path, err);
    }
out:
    if (bufs)
        for (int i = 0; i < m->n_tensors; i++) free(bufs[i]);
    free(bufs);
    st_writer_free(w);
    return st;
}
