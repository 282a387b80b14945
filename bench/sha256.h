/*
 * sha256.h: SHA-256 digests as lowercase hex (nettle), for the model hash and the hashed
 * machine id in results.
 */
#ifndef ITERA_BENCH_SHA256_H
#define ITERA_BENCH_SHA256_H

#include <stddef.h>

#include "status.h"

#define SHA256_HEX_LEN 64 /* characters, without the NUL */

/* Digest of data[len] into out[SHA256_HEX_LEN + 1]. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* Digest of the file's bytes. BENCH_ERR_INPUT naming the file when it cannot be opened
 * or read (out is then ""). */
bench_status sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], bench_error *e);

#endif
