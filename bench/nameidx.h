/*
 * nameidx.h: a hash index from names to entry numbers, for the readers and tools that
 * look up benchmarks by name (results files, report sections, profile cells), so that
 * building and querying them is linear in the entries instead of quadratic.
 *
 * The index stores entry numbers only; the name of entry i comes from the caller's
 * key_of(user, i), passed on every call (so the entries may move between calls), and
 * nothing is copied. Open addressing, FNV-1a, capacity a power of two kept at most half
 * full. Names are unique: add a name only after find said it is absent.
 */
#ifndef ITERA_NAMEIDX_H
#define ITERA_NAMEIDX_H

#include <stddef.h>

typedef const char *(*name_key_fn)(const void *user, int i);

typedef struct name_index {
    int *slots;  /* entry + 1, 0 when empty */
    size_t cap;  /* slots (0 or a power of two) */
    size_t n;    /* entries stored */
} name_index;  /* zero-initialised: empty */

void name_index_free(name_index *ix);
/* The entry whose name is key, or -1. */
int name_index_find(const name_index *ix, const char *key, name_key_fn key_of, const void *user);
/* Adds entry i under key_of(user, i). Returns 0, or -1 when out of memory (ix unchanged). */
int name_index_add(name_index *ix, int i, name_key_fn key_of, const void *user);

#endif
