/*
 * ab.h: `itera-bench ab` and `itera-bench noise`: interleaved A/B measurement.
 *
 *   itera-bench ab --base REV --new REV|DIR [--platform P] [--profile X] [--rounds N] ...
 *   itera-bench ab --base-bin PATH --new-bin PATH ...      (two builds already made)
 *   itera-bench ab --variants A,B ...                      (two variants of this build)
 *   itera-bench noise [--platform P] [--profile X] [--rounds N]   (A/A of this build)
 *
 * 1. Builds: a git revision is checked out with `git worktree add --detach` under
 *    build/ab/src/<sha> and built there (`make build`, its own build/ folder); a folder
 *    (a worktree, "." for the tree you are editing) is built in place. The same commit on
 *    both sides is built once (an A/A).
 * 2. Cells: each side lists its profile's cells (`run --benchmark_list_tests`); the cells
 *    both have are measured (with --variants, cell X/A on the base side against X/B).
 * 3. Rounds: per round, a fresh `run --serve` process per side (the one that starts first
 *    drawn at random), both idle between requests; the cells in a random order, and per
 *    cell base and new one after the other in a random order, one repetition each. A
 *    pair where either side was measured on a busy machine (load.h) is repeated in extra
 *    rounds (--extra-rounds), for the cells that lack clean pairs only. The seed and every
 *    round's order are recorded (ab.json).
 * 4. Results, in the session folder (--out, default results/tmp/ab/<session>/):
 *    base.json and new.json (Google Benchmark JSON: one iteration run per round,
 *    repetition_index = round, the session in the context so compare pairs them),
 *    rounds/<side>-<round>.json (each worker's file), ab.json (the schedule), compare.md
 *    and compare.json (compare_files on the two), workers.log and the build logs.
 * 5. noise (or ab --record-noise with the same build on both sides): the per-family
 *    thresholds of noise.h, written to results/<machine>/<platform>/noise.json.
 * The comparison's status is the command's (compare.h): the gate fails with
 * BENCH_ERR_FAILED; bad input (revisions, profiles, flags) is BENCH_ERR_INPUT.
 */
#ifndef ITERA_AB_H
#define ITERA_AB_H

#include <stdio.h>

#include "status.h"

/* Rounds for every pair, then deciding rounds for the undecided ones only (ab.c:
 * undecided()). 20 + up to 60 rather than 30 + 15: the rounds spent where they decide
 * something. Replayed on the rounds of two real default-profile sessions of 2026-12-03
 * (epyc-zen4-2c; scripts/ab-replay.py), 20 + 60 found 7.5 of the 8 cells of a 5%
 * slowdown on average (30 + 15: 5.5; measured runs: 5 and 6) with no false alarm in 20
 * replays of the A/A, in about the same modelled time. Measured there with it, the fitted
 * counts, the budget and in-memory looks (e19b3e5): A/A 0 of 232 in 25 min, power 8 of 8
 * in 21 min (in a busier hour, 8 of 8 took 33 min; the budget would have cut it at 6 of
 * 8). noise (an A/A with no deciding rounds) keeps 30. */
#define AB_DEFAULT_ROUNDS 20
#define AB_DEFAULT_EXTRA_ROUNDS 5
#define AB_DEFAULT_DECIDE_ROUNDS 60
#define NOISE_DEFAULT_ROUNDS 30
/* --budget: deciding rounds stop before one would end past 29 minutes (builds included),
 * so that with the final comparison a default-profile session stays within 30. */
#define AB_DEFAULT_BUDGET_MIN 29.0
#define AB_DEFAULT_TIMEOUT_S 600.0
#define AB_MAX_SETS 32

bench_status ab_cmd(int argc, char **argv, bench_error *e);
bench_status noise_cmd(int argc, char **argv, bench_error *e);
/* `compare --variants A,B` without a file: ab --variants on this build (argv as compare's). */
bench_status ab_cmd_variants(int argc, char **argv, bench_error *e);
void ab_usage(FILE *fp);
void noise_usage(FILE *fp);

#endif
