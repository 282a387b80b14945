/*
 * status.h: the error convention of bench/, the engine's (itera_status + itera_error) on
 * the harness side.
 *
 * An action returns a bench_status; on failure the bench_error (when not NULL) holds one
 * line, no trailing newline, naming the file, line, field, key or flag and what was
 * expected, and the action's outputs are unspecified unless its contract says otherwise.
 * Library code never exits and never chooses a process exit status: main.c alone maps a
 * status to one (bench_exit_code there: BENCH_ERR_INPUT -> 2, every other failure -> 1).
 *
 * Every public function of bench/ that can fail this way follows it. Only file-local
 * helpers still take (char *err, size_t n) and return 0 / -1, with the same message rules
 * (bench_fail_msg below): those of families.c (the cell preparation, whose message ends
 * up in fam_cell.err) and of submit.c (the sweep file and script writers).
 */
#ifndef ITERA_BENCH_STATUS_H
#define ITERA_BENCH_STATUS_H

#include <stddef.h>

typedef enum bench_status {
    BENCH_OK = 0,
    BENCH_ERR_INPUT = 1,  /* bad usage or input: a flag, a name, a file the user named that
                             cannot be read or does not hold what it should */
    BENCH_ERR_IO = 2,     /* an output could not be written (results, journal, report) */
    BENCH_ERR_SYSTEM = 3, /* the OS or a library refused: topology, binding, counters */
    BENCH_ERR_NOMEM = 4,  /* allocation failed */
    BENCH_ERR_FAILED = 5, /* the work ran and a check failed: a cell failed or is missing,
                             a gate was not passed */
    BENCH_STATUS_COUNT
} bench_status;

typedef struct bench_error {
    char msg[1024]; /* one line, no trailing newline */
} bench_error;

/* Writes the formatted message into e (when not NULL) and returns s. */
bench_status bench_fail(bench_error *e, bench_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same into a (char *err, size_t n) buffer (the older modules' form); returns -1. */
int bench_fail_msg(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "ok", "bad input", "write failed", "system", "out of memory", "check failed". */
const char *bench_status_name(bench_status s);

#endif
