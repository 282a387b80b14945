/* nameidx.c: the name -> entry hash index (see nameidx.h). */
#include "nameidx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

void name_index_free(name_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->n = 0;
}

int name_index_find(const name_index *ix, const char *key, name_key_fn key_of, const void *user)
{
    if (!ix->cap)
        return -1;
    size_t mask = ix->cap - 1;
    for (size_t h = fnv1a(key) & mask; ix->slots[h]; h = (h + 1) & mask)
        if (strcmp(key_of(user, ix->slots[h] - 1), key) == 0)
            return ix->slots[h] - 1;
    return -1;
}

static void place(int *slots, size_t mask, size_t h, int i)
{
    while (slots[h])
        h = (h + 1) & mask;
    slots[h] = i + 1;
}

int name_index_add(name_index *ix, int i, name_key_fn key_of, const void *user)
{
    if (i < 0 || i == INT32_MAX)
        return -1;
    if (2 * (ix->n + 1) > ix->cap) {
        size_t cap = ix->cap ? 2 * ix->cap : 64;
        int *slots = cap > SIZE_MAX / sizeof *slots ? NULL : calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t k = 0; k < ix->cap; k++)
            if (ix->slots[k])
                place(slots, cap - 1, fnv1a(key_of(user, ix->slots[k] - 1)) & (cap - 1),
                      ix->slots[k] - 1);
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    place(ix->slots, ix->cap - 1, fnv1a(key_of(user, i)) & (ix->cap - 1), i);
    ix->n++;
    return 0;
}
