/*
 * shard.h: splitting a sweep's cells into N shards that run anywhere (`run --shard I/N`)
 * and are merged back (merge.h).
 *
 * The split. A profile expands to its cells in one deterministic order (profile.h; the
 * order `itera-bench list --cells` prints). Shard I of N (0 <= I < N, numbered from 0 like
 * Slurm array task ids) holds the cells whose index k in that order has k mod N == I: a
 * round-robin deal. Every cell costs about the same — Google Benchmark sizes each
 * repetition to the profile's min_time, so a cell is (repetitions + 1 warm-up) x min_time
 * plus its set-up — and consecutive cells differ in one axis, so the deal gives every
 * shard within one cell of the same count and a like mix of families and sizes.
 *
 * The cell list hash identifies the full, ordered list of cell names (every shard of one
 * sweep carries the same one): FNV-1a 64 over the names, each followed by '\n', written
 * "fnv1a64:<16 hex digits>". It is a consistency check, not a security one.
 */
#ifndef ITERA_SHARD_H
#define ITERA_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "platform.h"
#include "status.h"
#include "profile.h"

#define SHARD_MAX 10000        /* the most shards a sweep can be split into */
#define SHARD_HASH_LEN 32      /* room for "fnv1a64:" + 16 hex digits + NUL */

/* One shard of a split; count 0 means "not sharded" (every cell). */
typedef struct shard_spec {
    int index; /* 0 .. count-1 */
    int count; /* N, 1 .. SHARD_MAX; 0: no sharding */
} shard_spec;

/* Parses "I/N" (0 <= I < N <= SHARD_MAX). Returns BENCH_OK, or BENCH_ERR_INPUT with e
 * saying what was expected, e.g. "--shard '4/4': the index must be 0..3 (shards are
 * numbered from 0)". */
bench_status shard_parse(const char *text, shard_spec *out, bench_error *e);

/* "I/N" into buf (for messages and the results); "" when not sharded. Returns buf. */
const char *shard_format(const shard_spec *s, char *buf, size_t n);

/* Whether cell index k (in the profile's order) belongs to shard s. Always true when s
 * is NULL or not sharded. */
bool shard_has(const shard_spec *s, int k);

/* How many of ncells cells shard s holds. */
int shard_size(const shard_spec *s, int ncells);

/* The cell list hash of names[0..n) (see above) into out[SHARD_HASH_LEN]. */
void shard_hash_names(const char *const *names, int n, char out[SHARD_HASH_LEN]);
/* The same over cells[0..n).name. */
void shard_hash_cells(const bench_cell *cells, int n, char out[SHARD_HASH_LEN]);

/* Keeps, in order and in place, only the cells of shard s: cells[0..*ncells) becomes
 * cells[0..shard_size) and *ncells is updated. orig_index (may be NULL; room for
 * *ncells ints) receives each kept cell's index in the full list. */
void shard_filter(bench_cell *cells, int *ncells, const shard_spec *s, int *orig_index);

/* The cells a run of platform `platform` and profile `profile` (names or paths) with the
 * `--set` overrides sets[0..nsets) has, in order, as `run` computes them: the platform's
 * `all` cores are resolved against this machine's (allowed) cores. Fills *pl, *pr and
 * *cells (malloc'd, *ncells of them). Returns BENCH_OK, or BENCH_ERR_INPUT with e naming
 * the file, key or value (bad input); BENCH_ERR_SYSTEM when this machine's topology
 * cannot be read, BENCH_ERR_NOMEM. */
bench_status shard_sweep_cells(const char *platform_name, const char *profile_name,
                               const char *const *sets, int nsets, platform *pl, profile *pr,
                               bench_cell **cells, int *ncells, bench_error *e);

/* `itera-bench list --cells ...` (argv[0] is "list"): prints the cell order. BENCH_OK, or
 * BENCH_ERR_INPUT for bad usage or input (a message on stderr). */
bench_status shard_list_cells_main(int argc, char **argv);

/* What a run records about its shard. */
typedef struct shard_info {
    shard_spec spec;            /* count 0: not sharded */
    int total_cells;            /* cells in the full sweep */
    char hash[SHARD_HASH_LEN];  /* of the full cell list */
    json_t *names;              /* the full list of cell names, in order (owned) */
} shard_info;

/* For a run: records the full cell list of cells[0..*ncells) in *info (hash, names), then
 * keeps only shard s's cells (shard_filter). s may be NULL or not sharded (nothing is
 * dropped; the list is still recorded). Returns 0, or -1 on allocation failure. Free
 * with shard_info_free. */
int shard_apply(const shard_spec *s, bench_cell *cells, int *ncells, shard_info *info);
void shard_info_free(shard_info *info);

/* Context keys of a shard run (strings): itera_shard "I/N", itera_shard_index "I",
 * itera_shard_count "N", itera_shard_cells (cells in this shard), itera_platform_file and
 * itera_profile_file (the files read, so a re-run command can name them); of every run:
 * itera_cells (the full sweep's cell count), itera_cell_list_hash. */
void shard_context_add(json_t *ctx, const shard_info *info, const platform *pl,
                       const profile *pr);

/* The results file's top-level "itera_cell_list": the full sweep's cell names in order
 * (merge reports missing cells by name from it). Added to shard runs only. */
void shard_results_add(json_t *root, const shard_info *info);

#endif
