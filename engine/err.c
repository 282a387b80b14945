/* err.c: one-line error messages for itera_error, and the names of kinds of files. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

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

const char *itera_file_kind(unsigned mode)
{
    const mode_t m = (mode_t)mode;
    if (S_ISDIR(m)) return "a folder";
    if (S_ISLNK(m)) return "a symbolic link";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}
