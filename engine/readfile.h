/*
 * readfile.h: JSON files read strictly (internal to libitera; the public readers
 * itera_read_file and itera_check_text are in itera.h).
 */
#ifndef ITERA_READFILE_H
#define ITERA_READFILE_H

#include <jansson.h>

#include "itera.h"

/* Reads path (a regular file of at most max_bytes; 0: no limit) and parses it as one JSON
 * value with duplicate object keys rejected. On error *out is NULL and err reads
 * "PATH: cannot open: ..." (ITERA_ERR_IO) or "PATH:LINE: not valid JSON: ..." (ITERA_ERR_FORMAT). */
itera_status json_file_load(const char *path, size_t max_bytes, json_t **out, itera_error *err);

#endif
