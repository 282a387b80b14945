/*
 * status.c: bench_fail and friends (see status.h).
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

bench_status bench_fail(bench_error *e, bench_status s, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return s;
}

int bench_fail_msg(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *const status_names[BENCH_STATUS_COUNT] = {
    [BENCH_OK] = "ok",
    [BENCH_ERR_INPUT] = "bad input",
    [BENCH_ERR_IO] = "write failed",
    [BENCH_ERR_SYSTEM] = "system",
    [BENCH_ERR_NOMEM] = "out of memory",
    [BENCH_ERR_FAILED] = "check failed",
};

const char *bench_status_name(bench_status s)
{
    return (unsigned)s < BENCH_STATUS_COUNT ? status_names[s] : "?";
}
