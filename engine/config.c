/* config.c: config.json of a model folder, parsed with jansson and range-checked. */
#include <jansson.h>
#include <string.h>

#include "err.h"
#include "readfile.h"
#include "model.h"

void itera_config_micro(itera_config *c)
{
    memset(c, 0, sizeof *c);
    c->vocab_size = 2000;
    c->hidden_size = 64;
    c->num_layers = 3;
    c->ssm_state_size = 8;
    c->ssm_expand_factor = 2;
    c->ssm_conv_kernel = 4;
    c->num_experts = 4;
    c->expert_size = 32;
    c->top_k_experts = 2;
    c->max_seq_length = 128;
    c->layer_norm_eps = 1e-5f;
    c->tie_word_embeddings = true;
    c->moe_layer[1] = true;
}

static itera_status get_int(json_t *root, const char *path, const char *key, long lo, long hi,
                            int *out, itera_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: key '%s' missing (expected an integer in %ld..%ld)",
                          path, key, lo, hi);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: key '%s' must be an integer in %ld..%ld", path,
                          key, lo, hi);
    *out = (int)json_integer_value(v);
    return ITERA_OK;
}

/* config.json is a few hundred bytes; anything past this is not one. */
#define CONFIG_MAX_BYTES (1u << 20)

itera_status config_load(const char *path, itera_config *cfg, itera_error *err)
{
    json_t *root;
    itera_status st = json_file_load(path, CONFIG_MAX_BYTES, &root, err);
    if (st != ITERA_OK) return st;
    st = config_from_json(root, path, cfg, err);
    json_decref(root);
    return st;
}

itera_status config_from_json(json_t *root, const char *path, itera_config *cfg, itera_error *err)
{
    itera_status st = ITERA_OK;
    itera_config c;
    memset(&c, 0, sizeof c);
    if (!json_is_object(root)) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: expected a JSON object", path);
        goto out;
    }
    json_t *arch = json_object_get(root, "architecture");
    if (arch && (!json_is_string(arch) || strcmp(json_string_value(arch), "itera-lite") != 0)) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: key 'architecture' must be \"itera-lite\"", path);
        goto out;
    }
    if ((st = get_int(root, path, "vocab_size", 4, 1 << 22, &c.vocab_size, err)) ||
        (st = get_int(root, path, "hidden_size", 1, 1 << 14, &c.hidden_size, err)) ||
        (st = get_int(root, path, "num_layers", 1, ITERA_MAX_LAYERS, &c.num_layers, err)) ||
        (st = get_int(root, path, "ssm_state_size", 1, 1024, &c.ssm_state_size, err)) ||
        (st = get_int(root, path, "ssm_expand_factor", 1, 16, &c.ssm_expand_factor, err)) ||
        (st = get_int(root, path, "ssm_conv_kernel", 1, 64, &c.ssm_conv_kernel, err)) ||
        (st = get_int(root, path, "num_experts", 1, ITERA_MAX_EXPERTS, &c.num_experts, err)) ||
        (st = get_int(root, path, "expert_size", 1, 1 << 16, &c.expert_size, err)) ||
        (st = get_int(root, path, "top_k_experts", 1, c.num_experts, &c.top_k_experts, err)) ||
        (st = get_int(root, path, "max_seq_length", 1, 1 << 20, &c.max_seq_length, err)))
        goto out;
    json_t *eps = json_object_get(root, "layer_norm_eps");
    if (!eps || !json_is_number(eps) || !(json_number_value(eps) > 0) || json_number_value(eps) > 1) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: key 'layer_norm_eps' %s (expected a number in (0, 1])",
                        path, eps ? "out of range" : "missing");
        goto out;
    }
    c.layer_norm_eps = (float)json_number_value(eps);
    json_t *tie = json_object_get(root, "tie_word_embeddings");
    if (tie && !json_is_boolean(tie)) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: key 'tie_word_embeddings' must be true or false", path);
        goto out;
    }
    c.tie_word_embeddings = tie ? json_is_true(tie) : true;
    json_t *moe = json_object_get(root, "moe_layers");
    if (!moe || !json_is_array(moe)) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: key 'moe_layers' %s (expected an array of layer indices)", path,
                        moe ? "is not an array" : "missing");
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(moe, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= c.num_layers) {
            st = itera_fail(err, ITERA_ERR_FORMAT,
                            "%s: moe_layers[%zu] must be a layer index in 0..%d", path, i,
                            c.num_layers - 1);
            goto out;
        }
        c.moe_layer[json_integer_value(v)] = true;
    }
    *cfg = c;
out:
    return st;
}
