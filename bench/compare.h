/*
 * compare.h: `itera-bench compare`: is B faster than A, beyond noise?
 *
 *   itera-bench compare [options] BASE.json NEW.json
 *   itera-bench compare [options] --variants A,B FILE.json
 *
 * For each benchmark present on both sides: base and new (mean over the iteration runs,
 * i.e. the repetitions), change %, a two-sided Mann-Whitney U test on the repetitions and
 * a verdict (faster / slower / no significant change) with the rule that decided it:
 *   - at least COMPARE_UTEST_MIN_REPS repetitions on each side: the U test at alpha;
 *   - 2 .. COMPARE_UTEST_MIN_REPS-1 (the U test cannot reliably reach significance, as
 *     Google Benchmark's compare.py warns): faster/slower only when the min-max ranges of
 *     the two sides do not overlap;
 *   - fewer than 2 on a side: no spread to judge by, no significant change.
 * Exit codes: 0 done, 1 the --fail-above gate failed, 2 bad usage or input.
 */
#ifndef ITERA_COMPARE_H
#define ITERA_COMPARE_H

#include <stdbool.h>

#define COMPARE_UTEST_MIN_REPS 9
#define COMPARE_DEFAULT_ALPHA 0.05

int compare_main(int argc, char **argv);

/* ---- Mann-Whitney U test (exposed for tests) ---- */

typedef enum mwu_method {
    MWU_AUTO = 0,     /* exact when there are no ties and both sides have <= MWU_EXACT_MAX */
    MWU_EXACT,        /* exact null distribution (no tie correction) */
    MWU_ASYMPTOTIC,   /* normal approximation, tie-corrected variance, continuity correction */
    MWU_METHOD_COUNT
} mwu_method;

#define MWU_EXACT_MAX 50

typedef struct mwu_result {
    double u1;    /* U of the first sample: R1 - n1(n1+1)/2 (scipy's `statistic`) */
    double u2;    /* n1*n2 - u1 */
    double p;     /* two-sided p-value, in [0, 1] */
    bool exact;   /* p from the exact distribution */
    bool ties;    /* the pooled samples had ties */
} mwu_result;

/* Two-sided test of x[nx] against y[ny] (nx, ny >= 1). Matches scipy.stats.mannwhitneyu
 * (alternative="two-sided", use_continuity=True) for method exact / asymptotic.
 * Returns 0, or -1 for empty input or an exact request beyond MWU_EXACT_MAX. */
int mwu_test(const double *x, int nx, const double *y, int ny, mwu_method method, mwu_result *r);

/* ---- Verdicts (exposed for tests) ---- */

typedef enum compare_verdict {
    VERDICT_SAME = 0,   /* no significant change */
    VERDICT_FASTER,
    VERDICT_SLOWER,
    VERDICT_NONE,       /* not compared (error or missing metric) */
    VERDICT_COUNT
} compare_verdict;

typedef enum compare_rule {
    RULE_UTEST = 0,     /* U test, n >= COMPARE_UTEST_MIN_REPS on both sides */
    RULE_SPREAD,        /* min-max overlap, fewer repetitions */
    RULE_TOO_FEW,       /* < 2 repetitions on a side */
    RULE_MISSING,       /* metric missing or a run failed */
    RULE_COUNT
} compare_rule;

typedef struct compare_judgement {
    compare_verdict verdict;
    compare_rule rule;
    double base_mean, new_mean;
    double base_min, base_max, new_min, new_max;
    int n_base, n_new;
    double change_pct;   /* (new - base) / base * 100 of the metric itself */
    double worse_pct;    /* how much slower new is, in % (negative: faster) */
    bool have_p;
    mwu_result u;
} compare_judgement;

/* Judges new[] against base[] (per-repetition values of a metric; higher_is_better for
 * throughputs). Always fills j; verdict VERDICT_NONE when a side is empty. */
void compare_judge(const double *base, int nb, const double *nw, int nn, bool higher_is_better,
                   double alpha, compare_judgement *j);

const char *compare_verdict_name(compare_verdict v);

#endif
