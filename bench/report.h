/*
 * report.h: `itera-bench report`: markdown tables and gnuplot charts rendered from
 * Google Benchmark result files alone.
 *
 *   itera-bench report [options] FILE.json... [-o DIR]
 *
 * Writes DIR/README.md (default DIR: reports/) with, for each platform present: kernel
 * comparison, sequence-length scaling, operation profile, quantization, decode and thread
 * scaling tables, an edge-platforms table across platforms, and a header per result file
 * (machine, topology, ISA path, counters, git revision, date). Every number is a field of
 * a result file (or a ratio of two, named in the table). Charts: DIR/<platform>/<chart>.dat
 * plus the image rendered by gnuplot from the template <templates>/<chart>.gp.
 *
 * Deterministic: the same files (in any order) give byte-identical markdown; nothing
 * depends on the clock. Returns (status.h): BENCH_OK; BENCH_ERR_FAILED when --strict found
 * an empty table or a missing image; BENCH_ERR_INPUT for bad usage or input (a file that
 * cannot be read or is not GB JSON); BENCH_ERR_IO when an output could not be written;
 * BENCH_ERR_NOMEM. Messages go to stderr.
 */
#ifndef ITERA_REPORT_H
#define ITERA_REPORT_H

#include "status.h"

bench_status report_main(int argc, char **argv);

#endif
