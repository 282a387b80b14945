/* fuzz/safetensors.c: a safetensors file (header + data) through st_open's parser, then
 * every accepted tensor read and described as `itera info` and the loaders do. */
#include <stdio.h>

#include "fuzz.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    st_file *f;
    itera_error err;
    if (st_open_buffer("fuzz.safetensors", buf, size, &f, &err) != ITERA_OK) return 0;
    uint64_t sum = 0;
    char desc[256];
    for (int i = 0; i < f->n; i++) {
        const st_tensor *t = &f->t[i];
        st_describe(t, desc, sizeof desc);
        const uint8_t *p = t->data;
        for (size_t k = 0; k < t->nbytes; k++) sum += p[k]; /* every byte is inside the file */
        if (st_find(f, t->name) != t) abort();              /* names are unique */
    }
    for (int i = 0; i < f->n_meta; i++)
        if (!st_meta(f, f->meta_keys[i])) abort();
    st_close(f);
    return (int)(sum & 0);
}
