/*
 * model.c: building a model: from a folder (config.json + model.safetensors, FP32 or a
 * quantized folder written by `itera quantize`) or from a fixed seed (the built-in
 * synthetic micro model). Both walk the same tensor list (model_list_tensors), so names,
 * shapes and destinations are defined once.
 */
#include "model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "quant.h"
#include "safetensors.h"

float *model_alloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

size_t model_tensor_elems(const model_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= (size_t)t->shape[i];
    return n;
}

/* A new tensor entry named by fmt, ap (printf-style). */
static model_tensor *add_tensor(itera_model *m, int rank, int64_t d0, int64_t d1, int64_t d2,
                                const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static model_tensor *add_tensor(itera_model *m, int rank, int64_t d0, int64_t d1, int64_t d2,
                                const char *fmt, va_list ap)
{
    model_tensor *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    t->rank = rank;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->shape[2] = d2;
    return t;
}

static void add_f32(itera_model *m, float **dst, int rank, int64_t d0, int64_t d1, int64_t d2,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add_lin(itera_model *m, linear *dst, float **bias, int64_t n_out, int64_t n_in,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_f32(itera_model *m, float **dst, int rank, int64_t d0, int64_t d1, int64_t d2,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_tensor(m, rank, d0, d1, d2, fmt, ap)->f32 = dst;
    va_end(ap);
}

static void add_lin(itera_model *m, linear *dst, float **bias, int64_t n_out, int64_t n_in,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    model_tensor *t = add_tensor(m, 2, n_out, n_in, 0, fmt, ap);
    va_end(ap);
    t->lin = dst;
    t->bias = bias;
}

void model_list_tensors(itera_model *m)
{
    const itera_config *c = &m->cfg;
    int D = c->hidden_size, E = c->ssm_expand_factor * D, N = c->ssm_state_size,
        K = c->ssm_conv_kernel, F = c->expert_size, X = c->num_experts, V = c->vocab_size;
    m->n_tensors = 0;
    add_lin(m, &m->embed, NULL, V, D, "embedding.weight");
    add_f32(m, &m->pos, 2, c->max_seq_length, D, 0, "position_embedding.weight");
    for (int i = 0; i < c->num_layers; i++) {
        layer_weights *l = &m->layers[i];
        l->moe = c->moe_layer[i];
        add_lin(m, &l->in_proj, NULL, 2 * E, D, "layers.%d.ssm.in_proj.weight", i);
        add_f32(m, &l->conv_w, 3, E, 1, K, "layers.%d.ssm.conv1d.weight", i);
        add_f32(m, &l->conv_b, 1, E, 0, 0, "layers.%d.ssm.conv1d.bias", i);
        add_f32(m, &l->A_log, 1, N, 0, 0, "layers.%d.ssm.ssm.A_log", i);
        add_f32(m, &l->B, 2, N, E, 0, "layers.%d.ssm.ssm.B", i);
        add_f32(m, &l->C, 2, E, N, 0, "layers.%d.ssm.ssm.C", i);
        add_f32(m, &l->D, 1, E, 0, 0, "layers.%d.ssm.ssm.D", i);
        add_f32(m, &l->delta_b, 1, E, 0, 0, "layers.%d.ssm.ssm.delta_proj.bias", i);
        add_lin(m, &l->delta_proj, &l->delta_b, E, E, "layers.%d.ssm.ssm.delta_proj.weight", i);
        add_lin(m, &l->out_proj, NULL, D, E, "layers.%d.ssm.out_proj.weight", i);
        add_f32(m, &l->ln1_w, 1, D, 0, 0, "layers.%d.ssm.norm.weight", i);
        add_f32(m, &l->ln1_b, 1, D, 0, 0, "layers.%d.ssm.norm.bias", i);
        if (!l->moe) {
            add_f32(m, &l->ln2_w, 1, D, 0, 0, "layers.%d.moe.norm.weight", i);
            add_f32(m, &l->ln2_b, 1, D, 0, 0, "layers.%d.moe.norm.bias", i);
            add_lin(m, &l->w1, NULL, F, D, "layers.%d.moe.ffn.w1.weight", i);
            add_lin(m, &l->w2, NULL, D, F, "layers.%d.moe.ffn.w2.weight", i);
        } else {
            add_lin(m, &l->router, NULL, X, D, "layers.%d.moe.layer.router.gate.weight", i);
            for (int e = 0; e < X; e++) {
                add_lin(m, &l->ew1[e], NULL, F, D, "layers.%d.moe.layer.experts.%d.w1.weight", i, e);
                add_lin(m, &l->ew2[e], NULL, D, F, "layers.%d.moe.layer.experts.%d.w2.weight", i, e);
            }
            add_f32(m, &l->ln2_w, 1, D, 0, 0, "layers.%d.moe.layer.norm.weight", i);
            add_f32(m, &l->ln2_b, 1, D, 0, 0, "layers.%d.moe.layer.norm.bias", i);
        }
    }
    add_f32(m, &m->lnf_w, 1, D, 0, 0, "norm.weight");
    add_f32(m, &m->lnf_b, 1, D, 0, 0, "norm.bias");
    if (!c->tie_word_embeddings) add_lin(m, &m->head, NULL, V, D, "lm_head.weight");
}

itera_status model_finish(itera_model *m, itera_error *err)
{
    const itera_config *c = &m->cfg;
    int E = c->ssm_expand_factor * c->hidden_size, N = c->ssm_state_size;
    for (int i = 0; i < c->num_layers; i++) {
        layer_weights *l = &m->layers[i];
        if (!(l->A = model_alloc((size_t)N)))
            return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
        for (int n = 0; n < N; n++) l->A[n] = -expf(l->A_log[n]);
        int K = c->ssm_conv_kernel;
        if (!(l->conv_wt = model_alloc((size_t)K * E)))
            return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
        for (int e = 0; e < E; e++)
            for (int k = 0; k < K; k++) l->conv_wt[(size_t)k * E + e] = l->conv_w[(size_t)e * K + k];
        char what[64];
        snprintf(what, sizeof what, "layers.%d.ssm.ssm.B", i);
        itera_status st = linear_init(&l->Bl, what, l->B, NULL, N, E, ITERA_QUANT_FP32, err);
        if (st != ITERA_OK) return st;
        snprintf(what, sizeof what, "layers.%d.ssm.ssm.C", i);
        st = linear_init(&l->Cl, what, l->C, NULL, E, N, ITERA_QUANT_FP32, err);
        if (st != ITERA_OK) return st;
    }
    return ITERA_OK;
}

void itera_model_free(itera_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_tensors; i++) {
        model_tensor *t = &m->tensors[i];
        if (t->f32) free(*t->f32);
        if (t->lin) linear_free(t->lin);
    }
    for (int i = 0; i < m->cfg.num_layers; i++) {
        free(m->layers[i].A);
        free(m->layers[i].conv_wt);
        linear_free(&m->layers[i].Bl);
        linear_free(&m->layers[i].Cl);
    }
    free(m);
}

/* ---- synthetic model ---- */

/* splitmix64: a fixed, portable stream of 64-bit values from a seed. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi), from 24 random bits: identical on every machine. */
static float uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(splitmix64(s) >> 40) * (1.0f / 16777216.0f);
}

static void fill(uint64_t *s, float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) p[i] = uniform(s, lo, hi);
}

/* Initial values by tensor role, loosely those of a trained small SSM (unit-scale
 * activations, decays spread over the state, a small positive delta). */
static void synth_values(const model_tensor *t, uint64_t *s, float *p, size_t n)
{
    const char *nm = t->name;
    size_t len = strlen(nm);
#define ENDS(suffix) (len >= sizeof(suffix) - 1 && strcmp(nm + len - (sizeof(suffix) - 1), suffix) == 0)
    if (ENDS("norm.weight")) fill(s, p, n, 0.9f, 1.1f);
    else if (ENDS("norm.bias")) fill(s, p, n, -0.1f, 0.1f);
    else if (ENDS("A_log"))
        for (size_t i = 0; i < n; i++) p[i] = logf((float)(i + 1));
    else if (ENDS("ssm.D")) fill(s, p, n, 0.9f, 1.1f);
    else if (ENDS("delta_proj.bias")) fill(s, p, n, -3.0f, -1.0f);
    else if (ENDS("conv1d.weight")) fill(s, p, n, -0.5f, 0.5f);
    else if (ENDS("conv1d.bias")) fill(s, p, n, -0.1f, 0.1f);
    else if (ENDS("position_embedding.weight")) fill(s, p, n, -0.1f, 0.1f);
    else if (ENDS("embedding.weight")) fill(s, p, n, -0.25f, 0.25f);
    else {
        /* matrices [out, in]: U(±1/√in), PyTorch's default scale */
        float a = 1.0f / sqrtf((float)t->shape[t->rank - 1]);
        fill(s, p, n, -a, a);
    }
#undef ENDS
}

static itera_model *model_new(const itera_config *cfg, itera_quant quant)
{
    itera_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->quant = quant;
    model_list_tensors(m);
    return m;
}

itera_status itera_model_synthetic(uint64_t seed, itera_quant quant, itera_model **out,
                                   itera_error *err)
{
    *out = NULL;
    if (quant == ITERA_QUANT_AS_STORED) quant = ITERA_QUANT_FP32;
    if (quant < 0 || quant >= ITERA_QUANT_COUNT)
        return itera_fail(err, ITERA_ERR_ARG, "quant: unknown format %d", (int)quant);
    itera_config cfg;
    itera_config_micro(&cfg);
    itera_model *m = model_new(&cfg, quant);
    if (!m) return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
    snprintf(m->source, sizeof m->source, "synthetic seed %llu", (unsigned long long)seed);
    uint64_t s = seed;
    itera_status st = ITERA_OK;
    /* FP32 parameters first (a linear's bias must exist before it is packed). */
    for (int pass = 0; pass < 2 && st == ITERA_OK; pass++)
        for (int i = 0; i < m->n_tensors && st == ITERA_OK; i++) {
            model_tensor *t = &m->tensors[i];
            size_t n = model_tensor_elems(t);
            if (pass == 0 && t->f32) {
                if (!(*t->f32 = model_alloc(n))) st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                else {
                    synth_values(t, &s, *t->f32, n);
                    /* quantized models hold their FP32 parameters at half precision (quant.h) */
                    if (quant != ITERA_QUANT_FP32) quant_round_f16(*t->f32, n);
                }
            } else if (pass == 1 && t->lin) {
                float *W = model_alloc(n);
                if (!W) {
                    st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                    break;
                }
                synth_values(t, &s, W, n);
                st = linear_init(t->lin, t->name, W, t->bias ? *t->bias : NULL, (int)t->shape[0],
                                 (int)t->shape[1], quant, err);
                free(W);
            }
        }
    if (st == ITERA_OK) st = model_finish(m, err);
    if (st != ITERA_OK) {
        itera_model_free(m);
        return st;
    }
    *out = m;
    return ITERA_OK;
}

/* ---- loading a folder ---- */

static itera_status load_tensors(itera_model *m, const st_file *f, itera_quant stored,
                                 itera_error *err)
{
    const linear_format *sf = &linear_formats[stored];
    /* every tensor in the file must be one the config expects */
    for (int i = 0; i < f->n; i++) {
        bool known = false;
        for (int j = 0; j < m->n_tensors && !known; j++) known = strcmp(f->t[i].name, m->tensors[j].name) == 0;
        if (!known)
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s: unexpected tensor '%s' (not in an itera-lite model of this config)",
                              f->path, f->t[i].name);
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->n_tensors; i++) {
            model_tensor *t = &m->tensors[i];
            if ((pass == 0) != (t->f32 != NULL)) continue;
            char want[96];
            size_t n = model_tensor_elems(t);
            int64_t n_out = t->shape[0], n_in = t->shape[1];
            st_tensor expect = {.rank = t->rank};
            if (t->lin && stored != ITERA_QUANT_FP32) {
                snprintf(expect.dtype, sizeof expect.dtype, "U8");
                expect.rank = 2;
                expect.shape[0] = n_out;
                expect.shape[1] = (int64_t)(sf->impl->file_bytes(sf, (int)n_out, (int)n_in) / (size_t)n_out);
            } else {
                /* FP32 parameters: F16 in a quantized file (quant.h) */
                snprintf(expect.dtype, sizeof expect.dtype, "%s", t->f32 ? quant_param_dtype(stored) : "F32");
                for (int d = 0; d < t->rank; d++) expect.shape[d] = t->shape[d];
            }
            st_describe(&expect, want, sizeof want);
            const st_tensor *ft = st_find(f, t->name);
            if (!ft)
                return itera_fail(err, ITERA_ERR_FORMAT, "%s: tensor '%s' missing (expected %s)",
                                  f->path, t->name, want);
            char got[96];
            st_describe(ft, got, sizeof got);
            bool same = strcmp(ft->dtype, expect.dtype) == 0 && ft->rank == expect.rank;
            for (int d = 0; same && d < ft->rank; d++) same = ft->shape[d] == expect.shape[d];
            if (!same)
                return itera_fail(err, ITERA_ERR_FORMAT, "%s: tensor '%s' is %s, expected %s",
                                  f->path, t->name, got, want);
            if (t->f32) {
                if (!(*t->f32 = model_alloc(n))) return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                if (stored == ITERA_QUANT_FP32) {
                    memcpy(*t->f32, ft->data, n * sizeof(float));
                    if (m->quant != ITERA_QUANT_FP32) quant_round_f16(*t->f32, n);
                } else {
                    const uint8_t *h = ft->data;
                    for (size_t k = 0; k < n; k++)
                        (*t->f32)[k] = quant_f16_to_f32((uint16_t)(h[2 * k] | h[2 * k + 1] << 8));
                }
                for (size_t k = 0; k < n; k++)
                    if (!isfinite((*t->f32)[k]))
                        return itera_fail(err, ITERA_ERR_FORMAT,
                                          "%s: tensor '%s' holds a non-finite value at index %zu",
                                          f->path, t->name, k);
                continue;
            }
            const float *bias = t->bias ? *t->bias : NULL;
            itera_status st;
            if (stored == ITERA_QUANT_FP32) {
                /* copy: the file buffer need not be aligned for floats */
                float *W = model_alloc(n);
                if (!W) return itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
                memcpy(W, ft->data, n * sizeof(float));
                size_t bad = n;
                for (size_t k = 0; k < n && bad == n; k++)
                    if (!isfinite(W[k])) bad = k;
                if (bad != n) {
                    free(W);
                    return itera_fail(err, ITERA_ERR_FORMAT,
                                      "%s: tensor '%s' holds a non-finite value at index %zu",
                                      f->path, t->name, bad);
                }
                st = linear_init(t->lin, t->name, W, bias, (int)n_out, (int)n_in, m->quant, err);
                free(W);
            } else {
                st = linear_init_packed(t->lin, t->name, ft->data, ft->nbytes, bias, (int)n_out,
                                        (int)n_in, stored, err);
            }
            if (st != ITERA_OK) return st;
        }
    return ITERA_OK;
}

itera_status itera_model_load(const char *dir, itera_quant quant, itera_model **out, itera_error *err)
{
    *out = NULL;
    char path[4096];
    itera_config cfg;
    snprintf(path, sizeof path, "%s/config.json", dir);
    itera_status st = config_load(path, &cfg, err);
    if (st != ITERA_OK) return st;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st_file *f = NULL;
    st = st_open(path, &f, err);
    if (st != ITERA_OK) return st;
    st = model_from_file(dir, &cfg, f, quant, out, err);
    st_close(f);
    return st;
}

itera_status model_from_file(const char *dir, const itera_config *cfg, const st_file *f,
                             itera_quant quant, itera_model **out, itera_error *err)
{
    *out = NULL;
    const char *path = f->path;
    itera_status st = ITERA_OK;
    itera_quant stored = ITERA_QUANT_FP32;
    const char *fmt = st_meta(f, "itera.quant");
    if (fmt && !itera_quant_parse(fmt, &stored)) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: metadata itera.quant = '%s' is not a known format (%s)",
                        path, fmt, itera_quant_choices());
        goto out;
    }
    const char *ffmt = st_meta(f, "itera.format"), *fblock = st_meta(f, "itera.block_size");
    if (stored != ITERA_QUANT_FP32 && ffmt && strcmp(ffmt, linear_formats[stored].dtype) != 0) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: metadata itera.format = '%s' does not match itera.quant = '%s' (expected %s)",
                        path, ffmt, fmt, linear_formats[stored].dtype);
        goto out;
    }
    if (stored != ITERA_QUANT_FP32 && fblock && strtol(fblock, NULL, 10) != linear_formats[stored].block) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: metadata itera.block_size = '%s' is not supported (expected %d)", path,
                        fblock, linear_formats[stored].block);
        goto out;
    }
    if (quant == ITERA_QUANT_AS_STORED) quant = stored;
    if (quant < 0 || quant >= ITERA_QUANT_COUNT) {
        st = itera_fail(err, ITERA_ERR_ARG, "quant: unknown format %d", (int)quant);
        goto out;
    }
    if (stored != ITERA_QUANT_FP32 && quant != stored) {
        st = itera_fail(err, ITERA_ERR_ARG,
                        "%s: the model is stored as %s; it cannot run as %s (use --quant %s, or the "
                        "FP32 folder to quantize differently)",
                        dir, itera_quant_name(stored), itera_quant_name(quant), itera_quant_name(stored));
        goto out;
    }
    itera_model *m = model_new(cfg, quant);
    if (!m) {
        st = itera_fail(err, ITERA_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(m->source, sizeof m->source, "%s", dir);
    st = load_tensors(m, f, stored, err);
    if (st == ITERA_OK) st = model_finish(m, err);
    if (st != ITERA_OK) itera_model_free(m);
    else *out = m;
out:
    return st;
}

/* ---- queries ---- */

const itera_config *itera_model_config(const itera_model *m) { return &m->cfg; }
itera_quant itera_model_quant(const itera_model *m) { return m->quant; }
const char *itera_model_source(const itera_model *m) { return m->source; }

size_t itera_model_param_count(const itera_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_tensors; i++) n += model_tensor_elems(&m->tensors[i]);
    return n;
}

size_t itera_model_weight_bytes(const itera_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const model_tensor *t = &m->tensors[i];
        n += t->lin ? t->lin->w_bytes : model_tensor_elems(t) * st_dtype_size(quant_param_dtype(m->quant));
    }
    return n;
}

int itera_model_tensor_count(const itera_model *m) { return m->n_tensors; }

bool itera_model_tensor(const itera_model *m, int i, itera_tensor_info *out)
{
    if (i < 0 || i >= m->n_tensors) return false;
    const model_tensor *t = &m->tensors[i];
    out->name = t->name;
    out->rank = t->rank;
    for (int d = 0; d < 4; d++) out->shape[d] = d < t->rank ? t->shape[d] : 0;
    out->dtype = t->lin ? linear_formats[t->lin->quant].dtype : quant_param_dtype(m->quant);
    out->bytes = t->lin ? t->lin->w_bytes : model_tensor_elems(t) * st_dtype_size(out->dtype);
    return true;
}

double itera_model_flops_per_token(const itera_model *m)
{
    const itera_config *c = &m->cfg;
    double D = c->hidden_size, E = c->ssm_expand_factor * D, N = c->ssm_state_size,
           K = c->ssm_conv_kernel, F = c->expert_size, X = c->num_experts, V = c->vocab_size;
    double f = 0;
    for (int i = 0; i < c->num_layers; i++) {
        f += 2 * D * 2 * E;          /* in_proj */
        f += 2 * K * E;              /* conv */
        f += 2 * E * E;              /* delta_proj */
        f += 2 * N * E + 2 * E * N;  /* B·u, C·h */
        f += 3 * N + 2 * E;          /* state update, D⊙u skip */
        f += 2 * E * D;              /* out_proj */
        if (c->moe_layer[i]) f += 2 * D * X + c->top_k_experts * (4 * D * F);
        else f += 4 * D * F;
    }
    return f + 2 * D * V;            /* head */
}
