/*
 * gnuplot.h: drawing the report's charts with gnuplot, a separate program: whether it can
 * run (and with which terminal), and one chart from a template and a .dat file.
 *
 * gnuplot writes each image into a temporary folder of the output folder (created on the
 * first chart, removed by gp_done); the image then replaces the final path through the
 * engine's atomic write (itera_write_file), so a reader never sees a partial image and a
 * failed chart leaves no file behind. gnuplot's messages are appended to
 * <outdir>/gnuplot.log (removed by gp_done when it said nothing).
 *
 * Templates are <tpldir>/<name>.gp; a chart named X_variant (seqlen_b1) is drawn by X.gp.
 * They read the variables tpldir, datafile, outfile, term, chart_title and any extra
 * assignments (reports/common.gp documents them).
 */
#ifndef ITERA_GNUPLOT_H
#define ITERA_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef struct gp {
    const char *prog;     /* the gnuplot program */
    const char *tpldir;   /* the templates' folder */
    const char *outdir;   /* the report's folder (the temporary folder goes there) */
    const char *term;     /* "pngcairo" or "svg" */
    const char *ext;      /* "png" or "svg" */
    bool ok;              /* charts can be drawn */
    char why[1400];       /* when not: the reason, for the markdown */
    char tmpdir[1200];    /* "" until the first chart */
} gp;

/* Decides whether charts can be drawn (gnuplot runs, every template in names[0..n)
 * exists, pngcairo else svg), filling g->ok / g->why. no_charts: not asked for. */
void gp_check(gp *g, const char *prog, const char *tpldir, const char *outdir,
              const char *const *names, int n, bool no_charts);

/* Draws img from dat with the template of `name`. title: the chart's title (quotes
 * dropped); extra: more gnuplot assignments ("ncols=4;") or NULL. Returns BENCH_OK;
 * BENCH_ERR_SYSTEM (or BENCH_ERR_INPUT for a path with a quote) when gnuplot failed (e
 * says how; img is left as it was); BENCH_ERR_IO when a file could not be written or read
 * (e names it; img is left as it was). */
bench_status gp_render(gp *g, const char *name, const char *dat, const char *img,
                       const char *title, const char *extra, bench_error *e);

/* Removes the temporary folder, and the log when it is empty. */
void gp_done(gp *g);

/* mkdir -p. 0, or -1 with errno. */
int mkdir_p(const char *path);

#endif
