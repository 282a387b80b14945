/*
 * model.h: the model's weights in memory (internal to libitera).
 * Notation as in the reference README: D hidden, E = expand·D, N state, K conv kernel,
 * F expert/FFN width, X experts, V vocab. Every matrix-multiply weight is a `linear`
 * in the model's quant; everything else is FP32.
 */
#ifndef ITERA_MODEL_H
#define ITERA_MODEL_H

#include <jansson.h>

#include "itera.h"
#include "linear.h"

typedef struct layer_weights {
    /* SSM block */
    float *ln1_w, *ln1_b;   /* [D]  layers.i.ssm.norm */
    linear in_proj;         /* D -> 2E (u first, then g) */
    float *conv_w;          /* [E, K] (stored [E, 1, K]) */
    float *conv_b;          /* [E] */
    float *conv_wt;         /* [K, E] conv_w transposed (derived): vectorizes over channels */
    float *A_log;           /* [N] */
    float *A;               /* [N] = −exp(A_log), derived */
    float *delta_b;         /* [E] delta_proj.bias (also inside delta_proj) */
    linear delta_proj;      /* E -> E, with bias */
    float *B;               /* [N, E] */
    float *C;               /* [E, N] */
    linear Bl, Cl;          /* B and C packed as FP32 linears for the scan kernels */
    float *D;               /* [E] */
    linear out_proj;        /* E -> D */
    /* feed-forward: dense or mixture of experts */
    bool moe;
    float *ln2_w, *ln2_b;   /* [D]  layers.i.moe.norm or layers.i.moe.layer.norm */
    linear w1, w2;          /* dense: D -> F, F -> D */
    linear router;          /* moe: D -> X */
    linear ew1[ITERA_MAX_EXPERTS], ew2[ITERA_MAX_EXPERTS]; /* moe: D -> F, F -> D */
} layer_weights;

/* One tensor the model stores, in safetensors order. */
typedef struct model_tensor {
    char name[96];
    int rank;
    int64_t shape[3];
    float **f32;   /* FP32 parameter: where its data goes (allocated by the loader) */
    linear *lin;   /* matrix-multiply weight: packed in the model's quant */
    float **bias;  /* for lin: its FP32 bias array (loaded before), or NULL */
} model_tensor;

#define MODEL_MAX_TENSORS (8 + ITERA_MAX_LAYERS * (20 + 2 * ITERA_MAX_EXPERTS))

struct itera_model {
    itera_config cfg;
    itera_quant quant;
    char source[1024];
    linear embed;          /* [V, D]; the head too when tied */
    linear head;           /* [V, D] when not tied */
    float *pos;            /* [max_seq, D] */
    layer_weights layers[ITERA_MAX_LAYERS];
    float *lnf_w, *lnf_b;  /* [D] */
    int n_tensors;
    model_tensor tensors[MODEL_MAX_TENSORS];
};

/* Parses and range-checks a config.json (duplicate keys rejected). */
itera_status config_load(const char *path, itera_config *cfg, itera_error *err);
/* The same over a parsed JSON value (borrowed); path names it in messages. */
itera_status config_from_json(json_t *root, const char *path, itera_config *cfg, itera_error *err);
/* itera_model_load after both files are read: the model of cfg from the tensors of f
 * (borrowed; dir names the folder in messages). For the fuzz harnesses. */
struct st_file;
itera_status model_from_file(const char *dir, const itera_config *cfg, const struct st_file *f,
                             itera_quant quant, itera_model **out, itera_error *err);
/* Fills m->tensors from m->cfg (names, shapes, destinations). */
void model_list_tensors(itera_model *m);
/* Allocates an FP32 parameter array of n floats (64-byte aligned, zeroed); NULL on failure. */
float *model_alloc(size_t n);
/* Derived arrays (A = −exp(A_log)) and the scan's packed B/C, after every tensor is set. */
itera_status model_finish(itera_model *m, itera_error *err);
size_t model_tensor_elems(const model_tensor *t);

#endif
