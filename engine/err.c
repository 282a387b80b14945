/* err.c: one-line error messages for itera_error. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

itera_status itera_fail(itera_error *err, itera_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
