/*
 * progress.c: the progress line (see progress.h).
 */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_fmt_duration(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_init(progress *p, FILE *f, bool live, int width, int total, int done_before,
                   int to_run)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->live = live;
    if (width <= 0) {
        const char *cols = getenv("COLUMNS");
        width = cols ? atoi(cols) : 0;
    }
    p->width = width >= 20 ? width : 80;
    p->total = total;
    p->done_before = done_before;
    p->to_run = to_run;
    p->t0 = mono_s();
}

/* "0:42, ~5:10 left" */
static void times(const progress *p, char *out, size_t n)
{
    double el = mono_s() - p->t0;
    char e[32], left[32];
    progress_fmt_duration(el, e, sizeof e);
    if (p->finished > 0 && p->finished <= p->to_run)
        progress_fmt_duration(el / p->finished * (p->to_run - p->finished), left, sizeof left);
    else
        snprintf(left, sizeof left, "?");
    snprintf(out, n, "%s, ~%s left", e, left);
}

/* Cuts UTF-8 text to at most cols display columns. */
static void cut_to(char *s, int cols)
{
    int w = 0;
    for (char *c = s; *c; c++) {
        if (((unsigned char)*c & 0xC0) == 0x80)
            continue;
        if (w++ == cols) {
            *c = '\0';
            return;
        }
    }
}

/* Display columns of UTF-8 text. */
static int columns_of(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* "[i/N] NAME  TIMES  | last: FIGURE", the name shortened (ending in "~") when the whole
 * would not fit the terminal, and then the rest cut. */
static void draw(progress *p)
{
    char t[80], head[32], tail[192], name[192], line[512];
    times(p, t, sizeof t);
    snprintf(head, sizeof head, "[%d/%d] ", p->done_before + p->started, p->total);
    if (p->last[0])
        snprintf(tail, sizeof tail, "  %s  | last: %s", t, p->last);
    else
        snprintf(tail, sizeof tail, "  %s", t);
    snprintf(name, sizeof name, "%s", p->name);
    int room = p->width - 1 - columns_of(head) - columns_of(tail);
    if (room < 24)
        room = 24;
    if (columns_of(name) > room) {
        cut_to(name, room - 1);
        strcat(name, "~");
    }
    snprintf(line, sizeof line, "%s%s%s", head, name, tail);
    cut_to(line, p->width - 1);
    fprintf(p->f, "\r%s\033[K", line);
    fflush(p->f);
    p->shown = true;
    p->drawn = mono_s();
}

static void clear(progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", p->f);
        p->shown = false;
    }
}

void progress_start(progress *p, const char *name)
{
    p->started++;
    snprintf(p->name, sizeof p->name, "%s", name);
    if (p->live)
        draw(p);
}

void progress_tick(progress *p)
{
    if (p->live && mono_s() - p->drawn >= 0.2)
        draw(p);
}

void progress_done(progress *p, const char *name, const char *headline, bool failed)
{
    p->finished++;
    snprintf(p->last, sizeof p->last, "%s", failed ? "FAILED" : headline);
    if (p->live) {
        draw(p);
        return;
    }
    char t[80];
    times(p, t, sizeof t);
    fprintf(p->f, "[%d/%d] %s  %s  (%s)\n", p->done_before + p->finished, p->total, name,
            failed ? "FAILED" : headline[0] ? headline : "no figures", t);
    fflush(p->f);
}

void progress_note(progress *p, const char *fmt, ...)
{
    clear(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
    fputc('\n', p->f);
    if (p->live && p->started)
        draw(p);
}

void progress_end(progress *p)
{
    clear(p);
    fflush(p->f);
}
