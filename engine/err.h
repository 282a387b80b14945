/*
 * err.h: filling an itera_error. Internal to libitera.
 */
#ifndef ITERA_ERR_H
#define ITERA_ERR_H

#include "itera.h"

/* Formats a one-line message into err (if not NULL) and returns code. */
itera_status itera_fail(itera_error *err, itera_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a file that is not a regular one is, for messages: "a folder", "a symbolic link",
 * "a FIFO", "a character device", "a block device", "a socket" (mode: st_mode). */
const char *itera_file_kind(unsigned mode);

#endif
