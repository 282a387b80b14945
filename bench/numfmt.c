/*
 * numfmt.c: fixed number formats (see numfmt.h).
 */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int decimals_for(double v)
{
    double a = fabs(v);
    return a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4;
}

num fnum_as(double v, double like)
{
    num r;
    if (!isfinite(v)) {
        snprintf(r.s, sizeof r.s, "n/a");
        return r;
    }
    int dec = decimals_for(isfinite(like) ? like : v);
    snprintf(r.s, sizeof r.s, "%.*f", dec, v);
    if (r.s[0] == '-' && strspn(r.s + 1, "0.") == strlen(r.s + 1))
        memmove(r.s, r.s + 1, strlen(r.s)); /* "-0.000" -> "0.000" */
    return r;
}

num fnum(double v)
{
    return fnum_as(v, v);
}

num fpct(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "n/a");
    else
        snprintf(r.s, sizeof r.s, "%.1f", v);
    return r;
}

num fsci(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "n/a");
    else
        snprintf(r.s, sizeof r.s, "%.2e", v);
    return r;
}

num fratio(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "n/a");
    else
        snprintf(r.s, sizeof r.s, "%.2f×", v);
    return r;
}

num fdat(double v)
{
    num r;
    if (!isfinite(v))
        snprintf(r.s, sizeof r.s, "?");
    else
        snprintf(r.s, sizeof r.s, "%.6g", v);
    return r;
}

void fmt_figure(const figure *f, double scale, char *out, size_t n)
{
    if (f->n <= 0 || !isfinite(f->median)) {
        snprintf(out, n, "n/a");
        return;
    }
    double m = f->median * scale;
    if (f->n == 1)
        snprintf(out, n, "%s (n 1)", fnum(m).s);
    else
        snprintf(out, n, "%s (%s–%s, %d)", fnum(m).s, fnum_as(f->q1 * scale, m).s,
                 fnum_as(f->q3 * scale, m).s, f->n);
}

void md_cell(char *dst, size_t cap, const char *s)
{
    size_t j = 0;
    for (; s && *s && j + 3 < cap; s++) {
        if (*s == '|') {
            dst[j++] = '\\';
            dst[j++] = '|';
        } else if (*s == '\n' || *s == '\r' || *s == '\t') {
            dst[j++] = ' ';
        } else {
            dst[j++] = *s;
        }
    }
    if (cap)
        dst[j] = '\0';
}
