/*
 * sha256.c: SHA-256 through nettle (see sha256.h).
 */
#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

static void to_hex(const unsigned char *d, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    struct sha256_ctx c;
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, len, data);
    sha256_digest(&c, sizeof d, d);
    to_hex(d, out);
}

bench_status sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], bench_error *e)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return bench_fail(e, BENCH_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    struct sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&c, got, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return bench_fail(e, BENCH_ERR_INPUT, "%s: read error", path);
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    to_hex(d, out);
    return BENCH_OK;
}
