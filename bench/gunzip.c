/*
 * gunzip.c: inflating gzip-compressed result files with zlib (see gunzip.h).
 */
#include "gunzip.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

bool gunzip_is_gzip(const void *p, size_t n)
{
    const unsigned char *b = p;
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

bench_status gunzip_buffer(const char *path, const void *in, size_t n, size_t max_bytes, char **out,
                           size_t *out_len, bench_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (n > UINT_MAX)
        return bench_fail(err, BENCH_ERR_INPUT, "%s: gzip file of %zu bytes: at most %u are read", path, n,
                          UINT_MAX);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
        return bench_fail(err, BENCH_ERR_NOMEM, "%s: zlib: cannot start inflating", path);
    size_t cap = n * 8 + 4096, len = 0;
    if (cap > max_bytes + 1)
        cap = max_bytes + 1;
    char *buf = malloc(cap);
    bench_status st = BENCH_OK;
    if (!buf) {
        st = bench_fail(err, BENCH_ERR_NOMEM, "%s: out of memory inflating gzip data", path);
        goto done;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    for (;;) {
        if (len + 1 >= cap) { /* keep one byte for the NUL */
            if (cap > max_bytes) {
                st = bench_fail(err, BENCH_ERR_INPUT, "%s: gzip data inflates to more than %zu bytes", path,
                                max_bytes);
                goto done;
            }
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                st = bench_fail(err, BENCH_ERR_NOMEM, "%s: out of memory inflating gzip data", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - 1 - len;
        zs.next_out = (Bytef *)buf + len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        const uInt before = zs.avail_out;
        const int rc = inflate(&zs, Z_NO_FLUSH);
        len += before - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* another member follows (gzip a b > c): inflate it too */
            if (inflateReset(&zs) != Z_OK) {
                st = bench_fail(err, BENCH_ERR_INPUT, "%s: corrupt gzip data after byte %lu", path,
                                (unsigned long)zs.total_in);
                goto done;
            }
            continue;
        }
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && zs.avail_out == 0) /* output full: grow */
            continue;
        if (rc == Z_BUF_ERROR) { /* no input left, and the stream has not ended */
            st = bench_fail(err, BENCH_ERR_INPUT, "%s: truncated gzip data (%zu bytes end before the stream does)",
                            path, n);
            goto done;
        }
        st = bench_fail(err, rc == Z_MEM_ERROR ? BENCH_ERR_NOMEM : BENCH_ERR_INPUT, "%s: corrupt gzip data: %s",
                        path, zs.msg ? zs.msg : "zlib error");
        goto done;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    inflateEnd(&zs);
    free(buf);
    return st;
}
