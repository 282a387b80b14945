/*
 * tokenizer.h: the tokenizer's parser over a JSON value (internal to libitera; the public
 * API is in itera.h).
 */
#ifndef ITERA_TOKENIZER_H
#define ITERA_TOKENIZER_H

#include <jansson.h>

#include "itera.h"

/* itera_tokenizer_load after the file is read: root is borrowed, path names it in messages. */
itera_status tokenizer_from_json(json_t *root, const char *path, itera_tokenizer **out,
                                 itera_error *err);

#endif
