/*
 * platform.h: platform descriptions (platforms/<name>.ini), read with libinih.
 *
 * A platform is the machine a sweep stands for: how many physical cores it has, how many
 * worker threads the engine runs with, and how workers are bound (pin.h). The file:
 *
 *   [platform]
 *   name        = embedded          ; defaults to the file's stem
 *   description = 2-core edge board
 *   cores       = 2                 ; physical cores; 0 = every core of this host
 *   threads     = 2                 ; worker threads; 0 = one per core (the default)
 *   binding     = core              ; core | pu | none (default core)
 *
 * Anything else (an unknown section or key, a bad value) is an error naming the file,
 * the line, the key and the valid choices. Platforms and profiles are found by name in
 * the data folders (see bench_data_find).
 */
#ifndef ITERA_PLATFORM_H
#define ITERA_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "pin.h"

#define PLATFORM_MAX_CORES 1024

typedef struct platform {
    char name[64];
    char description[256];
    char path[512];      /* the file it was read from */
    int cores;           /* physical cores; 0 = all of this host (see platform_resolve) */
    int threads;         /* worker threads; 0 = cores */
    pin_binding binding; /* default PIN_BIND_CORE */
} platform;

/* Reads path into *out. Returns 0, or -1 with a one-line message in err[n]
 * ("platforms/x.ini:4: key 'cpus' ...; valid keys: ..."); *out is then unspecified. */
int platform_load(const char *path, platform *out, char *err, size_t n);

/* Same, from text (path is only used in messages). For tests. */
int platform_load_string(const char *text, const char *path, platform *out, char *err,
                         size_t n);

/* Resolves the "all" values against a host with host_cores physical cores:
 * cores 0 -> host_cores, threads 0 -> cores. */
void platform_resolve(platform *p, int host_cores);

/* Whether the platform fits the host; when it does not, err[n] gets the message a user
 * sees: both numbers and the way out (EMULATE=1 / --emulate). Call after resolve. */
bool platform_fits(const platform *p, int host_cores, char *err, size_t n);

/* The INI reading both platforms and profiles use: libinih's ini_parse_stream with a
 * reader that counts lines, so fn knows the line of each key. fn returns 0 to go on, or
 * -1 with a message (no "file:line: " prefix, which is added) in err[n]. Reads `text`
 * when not NULL, else the file `path` (a regular file of UTF-8 text without NUL bytes,
 * at most 1 MiB; never opened blocking). Lines libinih would accept quietly are refused:
 * indented lines (continuations), "key: value", a ';' in a value without white space
 * before it, and a key given twice in a section. Returns 0, or -1 with the first error:
 * "path:line: message", a syntax error, a too-long line or a missing file. */
typedef int (*bench_ini_fn)(void *user, const char *section, const char *key,
                            const char *value, char *err, size_t n);
int bench_ini_parse(const char *path, const char *text, bench_ini_fn fn, void *user,
                    char *err, size_t n);

/* Data folders: `kind` is "platforms" or "profiles". A name containing '/' or ending in
 * ".ini" is a path and used as given; otherwise <root>/<kind>/<name>.ini is looked up in
 * $ITERA_BENCH_ROOT, the current folder, and the folder above the executable's folder.
 * Returns 0 with the path in out[n], or -1 with err naming the name, where it looked
 * and the names that exist. */
int bench_data_find(const char *kind, const char *name, char *out, size_t n, char *err,
                    size_t errn);

/* The folder <root>/<kind> that bench_data_find would search first, or -1 if none. */
int bench_data_dir(const char *kind, char *out, size_t n);

/* Names (file stems of *.ini, sorted) in <root>/<kind>, comma-separated into out[n].
 * Returns how many. */
int bench_data_list(const char *kind, char *out, size_t n);

#endif
