/*
 * rheader.h: the report's descriptive parts: a header per result file (platform, machine,
 * topology, ISA path, counters, peak, model, build, date, failed cells), a machine's
 * fingerprint, a run group's heading, and the index's machine and file lists.
 */
#ifndef ITERA_RHEADER_H
#define ITERA_RHEADER_H

#include "rgroup.h"
#include "sbuf.h"

/* "### [n] `path`" and its table, then its failed cells. */
void header_file(sbuf *md, const rset *s, int file);
/* The fingerprint of machine m as a table (or why it has none). */
void header_machine(sbuf *md, const rset *s, int m);
/* A run group's heading ("### Run: model ...; build ..."), its files and overlaps. */
void header_group(sbuf *md, const rset *s, const rgroup *g);
/* The index's table of machines (links to <slug>/README.md). */
void index_machines(sbuf *md, const rset *s);
/* The index's list of result files. */
void index_files(sbuf *md, const rset *s);

#endif
