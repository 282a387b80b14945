/*
 * compare.h: `itera-bench compare`: is NEW faster or slower than BASE, beyond noise?
 *
 *   itera-bench compare [options] BASE.json NEW.json
 *   itera-bench compare [options] --variants A,B FILE.json     (A's cells against B's)
 *   itera-bench compare [options] --variants A,B                (measures them: ab --variants)
 *
 * Per benchmark on both sides (matched by name, or through --match / --variants):
 *   samples   the iteration runs of the metric. Files from one `ab` session (the same
 *             itera_ab_session in both contexts) pair base and new by round
 *             (repetition_index): each pair was measured back to back, in random order,
 *             in two fresh processes. Other files are unpaired and labelled so.
 *             Runs marked contended (itera_contended, load.h) are dropped, pairs when
 *             either side was; a benchmark left with fewer than half its samples (or < 2)
 *             is `contended`, not judged.
 *   estimate  the ratio NEW/BASE of the metric and its 95% interval: exp of the
 *             Hodges-Lehmann shift of the log values (paired: the pseudo-median of the
 *             per-round log-ratios; unpaired: the median of all pairwise log differences),
 *             with the distribution-free interval that goes with it (stats.h), and the
 *             matching rank test: Wilcoxon signed-rank (paired) or Mann-Whitney U.
 *   verdict   p-values adjusted over every benchmark judged (Benjamini-Hochberg by
 *             default, --correction holm|none); then
 *               slower / faster  adjusted p < alpha and the whole interval beyond the
 *                                benchmark family's noise threshold in that direction;
 *               no_change        otherwise (not significant, or within the noise);
 *               contended        too many samples measured on a busy machine.
 *   noise     per family (scan, prefill, decode) from `itera-bench noise` on this machine
 *             (results/<machine>/<platform>/noise.json, or --noise FILE), else
 *             --noise-threshold PCT, else an assumed COMPARE_ASSUMED_NOISE_PCT (labelled).
 *   identity  files from different machines (the itera_machine_* fingerprint) or models
 *             are refused (bad input) unless --cross, which labels every verdict
 *             cross-machine; platform, threads, build and git differences are shown.
 *   gate      --fail-above PCT fails (BENCH_ERR_FAILED: exit 1) when a benchmark is
 *             slower and its whole interval is more than PCT % slower.
 * Output: a markdown table on stdout (or to a file), a benchstat-style summary line with
 * the geometric mean of the ratios and its bootstrap interval, and with --json FILE the
 * same machine-readably (see compare_usage).
 */
#ifndef ITERA_COMPARE_H
#define ITERA_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "stats.h"
#include "status.h"

#define COMPARE_DEFAULT_ALPHA 0.05
#define COMPARE_CONFIDENCE 0.95
#define COMPARE_ASSUMED_NOISE_PCT 2.0
#define COMPARE_BOOTSTRAP 1000
#define COMPARE_MAX_MATCH 8

/* ---- the verdict rule (pure; exposed for tests) ---- */

typedef enum compare_verdict {
    VERDICT_NO_CHANGE = 0,
    VERDICT_FASTER,
    VERDICT_SLOWER,
    VERDICT_CONTENDED,
    VERDICT_COUNT
} compare_verdict;

/* "no_change", "faster", "slower", "contended" (the --json words). */
const char *compare_verdict_name(compare_verdict v);

typedef enum compare_reason {
    REASON_CHANGED = 0,    /* significant and beyond the noise threshold */
    REASON_NOT_SIGNIFICANT,
    REASON_WITHIN_NOISE,   /* significant, but the interval reaches into the noise band */
    REASON_TOO_FEW,        /* so few samples that p < alpha cannot happen */
    REASON_CONTENDED,
    REASON_COUNT
} compare_reason;

typedef struct compare_estimate {
    bool paired;
    int n_base, n_new;          /* samples used (paired: both are the pairs) */
    double base_median, new_median;
    double ratio, ratio_lo, ratio_hi;   /* NEW/BASE of the metric, 95% interval */
    double worse, worse_lo, worse_hi;   /* ln(time NEW / time BASE): > 0 is slower; for a
                                           higher-is-better metric the log-ratio negated */
    double p;                   /* two-sided rank-test p-value */
    double p_min;               /* the smallest p these sample sizes can give */
    bool exact;
} compare_estimate;

/* Estimates NEW against BASE from the metric's values (all > 0). paired: base[i] and
 * nw[i] are one round (nb == nn). Returns 0, or -1 when a side has fewer than 2 values,
 * a value is not positive and finite, or memory runs out. */
int compare_estimate_make(const double *base, int nb, const double *nw, int nn, bool paired,
                          bool higher_is_better, double conf, compare_estimate *e);

/* The verdict from an estimate, its adjusted p-value, alpha and the noise threshold (a
 * fraction, e.g. 0.012). */
compare_verdict compare_decide(const compare_estimate *e, double p_adjusted, double alpha,
                               double noise, compare_reason *why);

/* ---- comparing files ---- */

typedef struct compare_opts {
    const char *base_path, *new_path;   /* the same path twice for --variants on one file */
    json_t *base_json, *new_json;       /* or NULL: the files' contents already in memory
                                           (borrowed; the paths still name them) */
    const char *match_from[COMPARE_MAX_MATCH], *match_to[COMPARE_MAX_MATCH];
    int n_match;                        /* --match OLD=NEW parts (--variants A,B is one) */
    bool variants;                      /* the match came from --variants (labels) */
    const char *metric;                 /* "real_time" (default), "cpu_time",
                                           "tokens_per_second" */
    double alpha;
    stats_correction correction;
    const char *noise_file;             /* --noise FILE, or NULL: look for this machine's */
    double noise_pct;                   /* --noise-threshold PCT; < 0: not given */
    bool fail_above_set;
    double fail_above_pct;
    bool cross;                         /* --cross: judge across machines/models, labelled */
    const char *json_path;              /* --json FILE, or NULL */
    const char *md_path;                /* also write the markdown here, or NULL */
    FILE *md;                           /* where the markdown goes (NULL: stdout) */
    bool quiet_warnings;                /* no per-difference warnings on stderr */
} compare_opts;

void compare_opts_init(compare_opts *o);

/* Per benchmark, what compare_files decided (for `noise`, which turns an A/A into
 * thresholds). Families as schema.h's bench_family (BENCH_FAMILY_NONE: other). */
typedef struct compare_row_result {
    char name[512];
    char base_name[512];  /* the base side's benchmark (the name, or --match/--variants') */
    int family;
    double noise;         /* the noise threshold it was judged against (a fraction) */
    bool judged;          /* an estimate was made (not contended, not failed) */
    compare_estimate est;
    compare_verdict verdict;
} compare_row_result;

typedef struct compare_result {
    compare_row_result *rows;
    int n_rows;
    int counts[VERDICT_COUNT];
    int not_compared;
    bool gate_failed;
} compare_result;

void compare_result_free(compare_result *r);

/* Runs one comparison: loads both files, refuses what cannot be judged (BENCH_ERR_INPUT
 * naming the file and field: a different machine or model without --cross, no
 * benchmark in common, a bad --match), writes the markdown and the --json file.
 * Returns BENCH_OK, BENCH_ERR_FAILED when the --fail-above gate failed, or an error.
 * res (may be NULL) receives the per-benchmark results. */
bench_status compare_files(const compare_opts *o, compare_result *res, bench_error *e);

/* `itera-bench compare ARGS`: BENCH_OK (also for --help), BENCH_ERR_FAILED (gate),
 * BENCH_ERR_INPUT (usage, files). Messages in e; main.c prints them and picks the exit
 * status. */
bench_status compare_cmd(int argc, char **argv, bench_error *e);
void compare_usage(FILE *fp);

/* Splits "A,B" (--variants) into a and b (buffers of cap): two different name words, not a
 * kernel against a quant of the engine's tables; engine_only (measuring this build): both
 * must be the engine's kernels or quants. BENCH_ERR_INPUT naming the part otherwise. */
bench_status compare_parse_variants(const char *spec, bool engine_only, char *a, char *b,
                                    size_t cap, bench_error *e);

#endif
