/*
 * sbuf.h: a growing text buffer for the report's markdown. Appends never fail loudly: the
 * first allocation failure sets oom, later appends are ignored, and the writer checks oom
 * once at the end.
 */
#ifndef ITERA_SBUF_H
#define ITERA_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbuf {
    char *p;     /* NUL-terminated text (NULL before the first append) */
    size_t n;    /* bytes, without the NUL */
    size_t cap;
    bool oom;
} sbuf;

void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_puts(sbuf *b, const char *s);
/* Empties b (keeps its memory). */
void sb_clear(sbuf *b);
void sb_free(sbuf *b);

#endif
