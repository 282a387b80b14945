/*
 * gunzip.h: result files stored gzip-compressed.
 *
 * A long run's Google Benchmark JSON grows to megabytes (the committed default profile
 * of one machine: 7 MB, 0.76 MB gzipped), so committed results may be kept as
 * FILE.json.gz. Every reader of result files goes through gb_file_load (gbread.h), which
 * asks this module: a file is known as gzip by its magic bytes (1f 8b), not by its name,
 * and is inflated whole (one or more concatenated gzip members, as gzip(1) writes them).
 * The harness itself writes plain JSON.
 */
#ifndef ITERA_BENCH_GUNZIP_H
#define ITERA_BENCH_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* true when the n bytes at p start a gzip stream. */
bool gunzip_is_gzip(const void *p, size_t n);

/* Inflates the gzip data [in, in + n) of file `path` (named in messages) into a new
 * NUL-terminated buffer *out of *out_len bytes (the NUL not counted), at most max_bytes.
 * BENCH_ERR_INPUT naming the file for corrupt or truncated data or an inflated size over
 * max_bytes; BENCH_ERR_NOMEM. On failure *out is NULL. */
bench_status gunzip_buffer(const char *path, const void *in, size_t n, size_t max_bytes, char **out,
                           size_t *out_len, bench_error *err);

#endif
