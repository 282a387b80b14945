/*
 * readfile.c: reading a whole input file, refusing anything that is not a regular file
 * without blocking on it, checking text for NUL and invalid UTF-8 (see itera.h), and JSON
 * files parsed with duplicate keys rejected (readfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "readfile.h"

itera_status itera_read_file(const char *path, size_t max_bytes, char **buf, size_t *len,
                             itera_error *err)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO for reading does not wait for a writer; O_NOCTTY: a
     * terminal never becomes ours. The type is checked on the open descriptor, so what is
     * read is what was checked. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return itera_fail(err, ITERA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return itera_fail(err, ITERA_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return itera_fail(err, ITERA_ERR_IO, "%s: is %s, expected a regular file", path,
                          itera_file_kind(sb.st_mode));
    }
    if (max_bytes && (uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: %lld bytes, more than the %zu bytes this reader accepts",
                          path, (long long)sb.st_size, max_bytes);
    }
    /* Read to the end, not to st_size: the file may grow or shrink while it is read. Room
     * for st_size bytes, the NUL and one more, so a file of the size it said ends the loop
     * without growing the buffer. */
    size_t cap = (size_t)sb.st_size + 2, n = 0;
    if (cap < 4096) cap = 4096;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (n + 1 == cap) {
            if (max_bytes && n >= max_bytes) {
                free(b);
                close(fd);
                return itera_fail(err, ITERA_ERR_FORMAT, "%s: more than the %zu bytes this reader accepts",
                                  path, max_bytes);
            }
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                close(fd);
                return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory reading it", path);
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return itera_fail(err, ITERA_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (max_bytes && n > max_bytes) {
        free(b);
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: more than the %zu bytes this reader accepts",
                          path, max_bytes);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return ITERA_OK;
}

/* Length of the UTF-8 sequence at s[0..n) (1..4), or 0 when it is not a valid one:
 * overlong forms, surrogates and code points past U+10FFFF are invalid (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

itera_status itera_check_text(const char *what, const char *text, size_t len, itera_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t line = 1;
    for (size_t i = 0; i < len;) {
        if (s[i] == 0)
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s:%zu: NUL byte at byte offset %zu (expected text)", what, line, i);
        size_t k = utf8_seq(s + i, len - i);
        if (!k)
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s:%zu: invalid UTF-8 (byte 0x%02x) at byte offset %zu", what, line,
                              s[i], i);
        if (s[i] == '\n') line++;
        i += k;
    }
    return ITERA_OK;
}

itera_status json_file_load(const char *path, size_t max_bytes, json_t **out, itera_error *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    itera_status st = itera_read_file(path, max_bytes, &buf, &len, err);
    if (st != ITERA_OK) return st;
    json_error_t je;
    *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!*out)
        return itera_fail(err, ITERA_ERR_FORMAT, "%s:%d: not valid JSON: %s", path, je.line, je.text);
    return ITERA_OK;
}
