/*
 * safetensors.h: reading and writing safetensors files
 * (8-byte little-endian header length, JSON header, raw little-endian data).
 * The header is parsed with jansson, duplicate keys rejected; every entry is checked as
 * the format's reference implementation does: only the keys dtype, shape, data_offsets;
 * dtype known; shape non-negative with the element count and byte size computed with
 * overflow checks; data_offsets matching dtype size x element count; and, sorted by
 * offset, the tensors tile the data section exactly (no overlap, no gap, no bytes after
 * the last tensor).
 */
#ifndef ITERA_SAFETENSORS_H
#define ITERA_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "itera.h"

#define ST_MAX_RANK 8

typedef struct st_tensor {
    char *name;
    char dtype[8];          /* "F32", "I32", "U8", ... */
    int rank;
    int64_t shape[ST_MAX_RANK];
    const void *data;       /* into the file's buffer */
    size_t nbytes;
} st_tensor;

typedef struct st_file {
    char *path;
    uint8_t *buf;           /* whole file */
    size_t size;
    int n;
    st_tensor *t;
    int n_meta;
    char **meta_keys, **meta_vals; /* __metadata__ (string values) */
} st_file;

/* Opens and validates path. On error: NULL *out, message names the file and the problem. */
itera_status st_open(const char *path, st_file **out, itera_error *err);
/* The same over a file already in memory: buf[size] (malloc'd) is taken over, freed on
 * error or by st_close; path names it in messages. For the fuzz harnesses. */
itera_status st_open_buffer(const char *path, uint8_t *buf, size_t size, st_file **out,
                            itera_error *err);
void st_close(st_file *f);
/* itera_tensors_open (itera.h) over a file in memory, taking buf over as st_open_buffer
 * does. For the fuzz harnesses. */
itera_status tensors_open_buffer(const char *path, uint8_t *buf, size_t size, itera_tensors **out,
                                 itera_error *err);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key); /* NULL if absent */
size_t st_dtype_size(const char *dtype);                /* 0 if unknown */
/* "F32 [2000, 64]" into buf */
void st_describe(const st_tensor *t, char *buf, size_t n);

/* Writing: collect tensors (data not copied: must live until st_write), then write the file
 * atomically (temporary file in the same folder, fsync, rename). */
typedef struct st_writer st_writer;
st_writer *st_writer_new(void);
int st_writer_add(st_writer *w, const char *name, const char *dtype, int rank, const int64_t *shape,
                  const void *data, size_t nbytes);
int st_writer_meta(st_writer *w, const char *key, const char *value);
itera_status st_write(st_writer *w, const char *path, itera_error *err);
void st_writer_free(st_writer *w);

#endif
