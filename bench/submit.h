/*
 * submit.h: a sweep on a Slurm cluster — `itera-bench submit` (and `make bench-slurm`).
 *
 * A sweep is one folder, DIR (default results/<platform>/slurm/<profile>/), holding:
 *   sweep.sbatch   the job array: task I runs `itera-bench run --shard I/N --resume
 *                  --out DIR/shard-I.json` on the platform's cores (--cpus-per-task = its
 *                  cores; --hint=nomultithread for one worker per physical core; --exclusive
 *                  for a platform of "all cores" of a node)
 *   merge.sbatch   the merge job, submitted with --dependency=afterany:<array>: merges the
 *                  shard files there are into OUT (default results/<platform>/<profile>.json),
 *                  writes DIR/merge-status.json (complete or the missing shards and cells),
 *                  and renders OUT's report into DIR/report/
 *   sweep.json     what was submitted: the options, the paths, every submission's job ids
 *   shard-I.json (+ .journal), logs/shard-I.out, logs/merge.out   as the jobs run
 * Both scripts are plain sbatch scripts a user can read and re-submit by hand.
 *
 * `submit --resume DIR` reads sweep.json and the shard files, and re-submits only the array
 * tasks of shards with missing cells (`sbatch --array=1,3 DIR/sweep.sbatch`; each resumes
 * from its journal, so only the missing cells run), then a new merge job after them.
 * `--dry-run` prints the scripts, the sbatch commands and the cells of each shard, and
 * writes and submits nothing.
 */
#ifndef ITERA_SUBMIT_H
#define ITERA_SUBMIT_H

#include "status.h"

/* `itera-bench submit ...` (argv[0] "submit"). BENCH_OK: submitted (or the dry run printed,
 * or nothing left to resume); BENCH_ERR_FAILED: sbatch failed, or the sweep is still queued
 * (--resume); BENCH_ERR_INPUT: bad usage or input. Messages on stderr, ids on stdout. */
bench_status submit_main(int argc, char **argv);

#endif
