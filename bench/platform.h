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
#include "status.h"

#define PLATFORM_MAX_CORES 1024

typedef struct platform {
    char name[64];
    char description[256];
    char path[512];      /* the file it was read from */
    int cores;           /* physical cores; 0 = all of this host (see platform_resolve) */
    int threads;         /* worker threads; 0 = cores */
    pin_binding binding; /* default PIN_BIND_CORE */
} platform;

/* Reads path into *out. Returns BENCH_OK, or BENCH_ERR_INPUT (a file that cannot be read
 * or does not hold a valid platform) or BENCH_ERR_NOMEM with one line in e
 * ("platforms/x.ini:4: key 'cpus' ...; valid keys: ..."); *out is then unspecified. */
bench_status platform_load(const char *path, platform *out, bench_error *e);

/* Same, from text (path is only used in messages). For tests. */
bench_status platform_load_string(const char *text, const char *path, platform *out,
                                  bench_error *e);

/* Resolves the "all" values against a host with host_cores physical cores:
 * cores 0 -> host_cores, threads 0 -> cores. */
void platform_resolve(platform *p, int host_cores);

/* Whether the platform fits the host: BENCH_OK, or BENCH_ERR_INPUT with the message a
 * user sees in e: both numbers and the way out (EMULATE=1 / --emulate). Call after
 * resolve. */
bench_status platform_check_fits(const platform *p, int host_cores, bench_error *e);

/* The INI reading both platforms and profiles use: libinih's ini_parse_stream with a
 * reader that counts lines, so fn knows the line of each key. fn returns BENCH_OK to go
 * on, or a failure with a message (no "file:line: " prefix, which is added) in e. Reads
 * `text` when not NULL, else the file `path` (a regular file of UTF-8 text without NUL
 * bytes, at most 1 MiB; never opened blocking). Lines libinih would accept quietly are
 * refused: indented lines (continuations), "key: value", a ';' in a value without white
 * space before it, and a key given twice in a section. Returns BENCH_OK, or a failure
 * with the first error in e: "path:line: message", a syntax error, a too-long line or a
 * missing file (BENCH_ERR_INPUT; fn's own status for its errors; BENCH_ERR_NOMEM). */
typedef bench_status (*bench_ini_fn)(void *user, const char *section, const char *key,
                                     const char *value, bench_error *e);
bench_status bench_ini_parse(const char *path, const char *text, bench_ini_fn fn, void *user,
                             bench_error *e);

/* Data folders: `kind` is "platforms" or "profiles". A name containing '/' or ending in
 * ".ini" is a path and used as given; otherwise <root>/<kind>/<name>.ini is looked up in
 * $ITERA_BENCH_ROOT, the current folder, and the folder above the executable's folder.
 * Returns BENCH_OK with the path in out[n], or BENCH_ERR_INPUT with e naming the name,
 * where it looked and the names that exist. */
bench_status bench_data_find(const char *kind, const char *name, char *out, size_t n,
                             bench_error *e);

/* Whether bench_data_find takes name as a path (it contains '/' or ends in ".ini"). */
bool bench_data_is_path(const char *name);

/* The folder <root>/<kind> that bench_data_find would search first, or -1 if none. */
int bench_data_dir(const char *kind, char *out, size_t n);

/* Names (file stems of *.ini, sorted) in <root>/<kind>, comma-separated into out[n].
 * Returns how many. */
int bench_data_list(const char *kind, char *out, size_t n);

#endif
