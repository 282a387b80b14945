/*
 * golden.h: golden files for `itera verify`: a safetensors file with input_ids I32 [B, L]
 * and logits F32 [B, L, V], checked against the model that is to run them.
 */
#ifndef ITERA_GOLDEN_H
#define ITERA_GOLDEN_H

#include <stdint.h>

#include "itera.h"

typedef struct golden {
    int B, L, V;
    int32_t *ids;   /* [B, L] (owned) */
    float *logits;  /* [B, L, V] (owned) */
} golden;

/* Takes input_ids and logits from f (path names it in messages): input_ids I32 [B, L] with
 * B, L >= 1 and every id in the vocabulary, L <= max_seq_length, logits F32 [B, L, V] for
 * the config's V; copied out (the file's data need not be aligned). ITERA_ERR_FORMAT with
 * a message naming the file, tensor and what was expected; g is then empty. */
itera_status golden_read(const itera_tensors *f, const char *path, const itera_config *cf,
                         golden *g, itera_error *err);
void golden_free(golden *g);

#endif
