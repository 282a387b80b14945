/*
 * progress.h: what a sweep shows while it runs, on stderr.
 *
 * On a terminal: one line, rewritten in place when a cell starts, finishes, and at most
 * every 0.2 s while it runs (each time Google Benchmark calls the cell, outside its timed
 * loop):
 *   [12/180] prefill/fp32/parallel/seq:128/batch:1/threads:2  0:42, ~5:10 left
 *            | last: tokens/s 515,953 ± 1.2%
 * cut to the terminal's width. Anything else (a log, CI): one plain line per finished cell
 *   [12/180] prefill/fp32/parallel/seq:128/batch:1/threads:2  tokens/s 515,953 ± 1.2%
 *            (0:42, ~5:10 left)
 * Messages printed while the line is up go through progress_note, which clears it first.
 * The estimate of the time left is the mean time per finished cell so far times the cells
 * still to run.
 */
#ifndef ITERA_PROGRESS_H
#define ITERA_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct progress {
    FILE *f;
    bool live;             /* rewrite one line (a terminal) instead of a line per cell */
    int width;             /* columns of the terminal */
    int total;             /* cells of the run */
    int done_before;       /* cells finished by an earlier run (--resume) */
    int to_run;            /* cells this run has to do */
    int started, finished; /* in this run */
    double t0, drawn;      /* start, and the last time the live line was drawn */
    char name[192];        /* the current cell */
    char last[96];         /* the last finished cell's headline */
    bool shown;            /* a live line is on the screen */
} progress;

/* live: a terminal (isatty), with width columns (0: $COLUMNS or 80). */
void progress_init(progress *p, FILE *f, bool live, int width, int total, int done_before,
                   int to_run);
/* A cell starts. */
void progress_start(progress *p, const char *name);
/* The current cell is still running: redraws the live line if 0.2 s have passed. */
void progress_tick(progress *p);
/* A cell finished; headline may be "" (a failed cell: failed says so). */
void progress_done(progress *p, const char *name, const char *headline, bool failed);
/* Prints a message line (a warning) without garbling the live line. */
void progress_note(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the live line (the run is over). */
void progress_end(progress *p);

/* "1:23" or "1:02:03" for s seconds. */
void progress_fmt_duration(double s, char *out, size_t n);

#endif
