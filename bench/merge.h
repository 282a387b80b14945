/*
 * merge.h: shard results files (`run --shard I/N`, shard.h) back into one results file of
 * the same form as a single-machine run.
 *
 * Checks, each failing with a message naming both files and the key:
 *   - every input is a shard file: GB JSON with itera_shard in its context and the full
 *     cell list (itera_cell_list) matching its itera_cell_list_hash;
 *   - all belong to one sweep: the same profile (itera_profile, itera_overrides, repetitions,
 *     min time), platform (itera_platform, cores, threads, binding, emulated), model
 *     (itera_model), build (itera_git, itera_compiler), shard count and cell list;
 *   - no shard is given twice, no cell appears twice, every cell is in the shard that the
 *     split (shard.h) puts it in;
 *   - all come from the same machine (host, CPU model, topology, ISA), unless
 *     allow_machines; then every benchmark entry keeps its machine: "itera_node" and
 *     "itera_shard" are added to each entry.
 * A cell none of the inputs has is missing: the merged file is still written (nothing is
 * lost), with itera_missing_cells and the names under "itera_missing", and the summary
 * names them per shard with the command that runs only those.
 *
 * The merged file: the first shard's context without the per-shard keys (itera_shard*,
 * the Slurm job ids), plus itera_merged ("4 of 4 shards") and itera_missing_cells; every
 * cell's entries in the full cell order (family_index = the cell's index); the op
 * profiles; and "itera_shards": one object per input (shard, file, cells, node, host,
 * allocation, worker CPUs, date, Slurm ids, peak) so each cell's origin is kept.
 */
#ifndef ITERA_MERGE_H
#define ITERA_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "status.h"

/* What a merge found. */
typedef struct merge_summary {
    int total_cells;     /* in the sweep */
    int present_cells;
    int shard_count;     /* N */
    int shards_given;
    json_t *missing;     /* array of {"shard": I, "file": path or null, "cells": [names]}
                            for each shard with missing cells (owned) */
    json_t *rerun;       /* array of strings: one command per such shard (owned) */
} merge_summary;

/* Merges files[0..nfiles); the re-run commands name `program` (NULL: "itera-bench"), e.g.
 * the running binary. On success returns BENCH_OK with *out the merged root (owned by the
 * caller) and *sum filled (free with merge_summary_free) — also when cells are missing.
 * Returns BENCH_ERR_INPUT with err for unreadable input, a file that is not a shard,
 * shards of different sweeps, machines (without allow_machines), a shard or cell given
 * twice; BENCH_ERR_NOMEM. */
bench_status merge_shards(const char *const *files, int nfiles, bool allow_machines,
                          const char *program, json_t **out, merge_summary *sum,
                          bench_error *err);
void merge_summary_free(merge_summary *sum);

/* `itera-bench merge SHARD.json... --out FILE [--allow-machines] [--status S]` (argv[0]
 * "merge"). BENCH_OK: every cell merged; BENCH_ERR_FAILED: cells missing (the file is
 * written, the missing cells and the re-run commands printed); BENCH_ERR_IO: a file could
 * not be written; BENCH_ERR_INPUT: bad usage or input. */
bench_status merge_main(int argc, char **argv);

#endif
