/*
 * rtables.h: the report's tables. Each is one function over one run group (one machine,
 * platform, model and build: rgroup.h), listed in a registry, so a new table is one
 * function and one entry; each builds its rows once (rtable.h) and writes its markdown,
 * its .dat and its chart from them. The edge-platforms table is the one that compares
 * across groups: every row names its machine, model and build, and a table whose rows
 * differ in any of them says so under its title.
 *
 * Figures are medians over the repetitions; a figure that a speed-up or a ranking is read
 * from shows its spread (interquartile range) and n beside it.
 */
#ifndef ITERA_RTABLES_H
#define ITERA_RTABLES_H

#include <stdbool.h>

#include "gnuplot.h"
#include "rgroup.h"
#include "sbuf.h"

/* What the tables write into and count. */
typedef struct rctx {
    const rset *set;
    sbuf *md;              /* the document being written */
    const char *outdir;    /* the report's folder */
    const char *docdir;    /* the document's folder inside outdir ("" for the index) */
    gp *gp;
    int empty_tables;      /* tables that rendered "no results" (for --strict) */
    int missing_images;    /* charts that should exist but do not */
    int write_errors;      /* files that could not be written (each reported on stderr) */
    int docs_kept;         /* README.md files not replaced because of those */
} rctx;

typedef struct rtable_def {
    const char *id;        /* also its chart's file name */
    const char *title;     /* its heading */
    void (*render)(rctx *r, const rgroup *g); /* writes the heading, intro, table, notes */
} rtable_def;

/* The tables of one run group, in the order they appear. */
int report_group_tables(const rtable_def **out);

/* The chart templates the tables use (for gp_check). */
int report_chart_templates(const char *const **out);

/* The edge-platforms table over the engine groups of machines[0..n) (rows: each
 * platform's preferred prefill, and the same machine's peers beside it); its chart goes to
 * <docdir>/<folder>/edge.dat. with_missing: name the standard platforms with no row. */
void table_edge(rctx *r, const int *machines, int n, const char *folder, bool with_missing);

/* Reports a file that could not be written (the report then exits 2). */
void report_write_failed(rctx *r, const char *msg);

#endif
