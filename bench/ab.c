/*
 * ab.c: `itera-bench ab` and `itera-bench noise` (see ab.h): builds two sides, runs their
 * cells interleaved in fresh `run --serve` processes round by round, merges each side's
 * rounds into one Google Benchmark file and compares the two.
 */
#include "ab.h"
#include "argopt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "compare.h"
#include "gbread.h"
#include "itera.h"
#include "load.h"
#include "machine.h"
#include "noise.h"
#include "platform.h"
#include "profile.h"
#include "results.h"
#include "schema.h"
#include "runner.h"
#include "stats.h"

/* ---- options ---- */

typedef struct ab_opts {
    const char *base_spec, *new_spec;   /* --base / --new: a git revision or a folder */
    const char *base_bin, *new_bin;     /* --base-bin / --new-bin: builds already made */
    const char *variants;               /* --variants A,B: one build, two variants */
    char var_a[64], var_b[64];
    const char *platform, *profile, *model, *machine;
    const char *sets[AB_MAX_SETS];
    int nsets;
    bool emulate;
    int rounds, extra_rounds, decide_rounds;
    double budget_s;                    /* --budget MIN: no deciding round that would end
                                           later than this after the start (0: none) */
    bool budget_set;                    /* --budget given (else the profile's, or the
                                           default: session_budget) */
    bool rounds_set;                    /* --rounds given (else noise takes its own default) */
    bool seed_set;
    uint64_t seed;
    const char *out_dir;
    const char *filter;                 /* POSIX extended regex on the base side's cells */
    double timeout_s;                   /* per cell answer */
    bool record_noise;                  /* write the A/A's thresholds (same build only) */
    const char *noise_out;
    const char *contention;             /* ITERA_CONTENTION for the workers */
    compare_opts cmp;
    char match_buf[COMPARE_MAX_MATCH][256];
} ab_opts;

void ab_usage(FILE *fp)
{
    fprintf(fp,
        "usage: itera-bench ab --base REV --new REV|DIR [options]\n"
        "       itera-bench ab --base-bin PATH --new-bin PATH [options]\n"
        "       itera-bench ab --variants A,B [options]\n"
        "\n"
        "Interleaved A/B: builds both sides (a git revision in its own worktree and build\n"
        "folder under build/ab/src/; a folder such as . is built in place), then measures\n"
        "the profile's cells round by round: each round starts a fresh `run --serve` process\n"
        "per side, and cell by cell, in a random order, runs base and new one after the other\n"
        "(which goes first drawn at random), one repetition each, so drift and other load hit\n"
        "both sides alike. The first round lets Google Benchmark estimate each side's\n"
        "iteration count; later rounds run the count that fills the profile's min_time at\n"
        "that round's speed (GB's own aims at 1.4 x min_time), after a short warm-up and\n"
        "without the op profile, so a round takes about a third as long as the first and\n"
        "every sample of a cell is equally long. Pairs measured on a busy machine are redone\n"
        "in extra rounds.\n"
        "Writes base.json and new.json (Google Benchmark JSON, one run per round), the\n"
        "schedule (ab.json, with the seed) and the comparison (compare.md, compare.json) into\n"
        "the session folder, and prints the comparison (see itera-bench compare --help).\n"
        "\n"
        "  --base REV, --new REV|DIR  the two sides (make ab BASE=... NEW=...)\n"
        "  --base-bin P, --new-bin P  use these itera-bench binaries as they are\n"
        "  --variants A,B             this build's cells with kernel/quant A against B\n"
        "  --platform P, --profile X  as for run (default embedded, ci); each side reads its\n"
        "                             own platforms/ and profiles/\n"
        "  --set K=V, --emulate, --model DIR, --machine NAME   as for run\n"
        "  --rounds N                 rounds for every pair (samples per cell and side;\n"
        "                             default %d, with --record-noise %d)\n"
        "  --extra-rounds N           at most N more rounds for cells with contended pairs\n"
        "                             (default %d)\n"
        "  --decide-rounds N          then at most N more rounds, one at a time, for the pairs\n"
        "                             whose interval still straddles their noise threshold,\n"
        "                             or lies beyond it while the test is not yet significant\n"
        "                             (more samples can still decide them either way; default\n"
        "                             %d, 0: none; not with --record-noise)\n"
        "  --budget MIN               no deciding round that would end more than MIN minutes\n"
        "                             after the start (builds included; estimated from the last\n"
        "                             round's time per pair); the pairs still undecided then are\n"
        "                             judged on the rounds they have (default: the profile's\n"
        "                             ab_budget_minutes, else %g; 0: none; the main rounds\n"
        "                             and the extra ones are never cut)\n"
        "  --seed S                   the order's seed (default: from the clock; recorded)\n"
        "  --filter REGEX             only the cells (base names) matching REGEX\n"
        "  --out DIR                  the session folder (default results/tmp/ab/<session>)\n"
        "  --timeout S                seconds a cell may take before its worker is stopped\n"
        "                             (default %.0f)\n"
        "  --contention SPEC          the busy-machine rule for the workers (ITERA_CONTENTION:\n"
        "                             cpu=CORES,steal=PCT,pressure=PCT or off)\n"
        "  --record-noise [FILE]      with the same build on both sides: write the A/A's\n"
        "                             noise thresholds (default results/<machine>/<platform>/\n"
        "                             noise.json); itera-bench noise does this\n"
        "  compare's options: --json FILE, --fail-above PCT, --alpha A, --correction C,\n"
        "                     --noise FILE, --noise-threshold PCT, --metric M, --cross\n"
        "Exit: 0 done (gate passed), 1 the gate failed or a side could not be measured,\n"
        "2 bad usage or input (a revision, profile or flag).\n",
        AB_DEFAULT_ROUNDS, NOISE_DEFAULT_ROUNDS, AB_DEFAULT_EXTRA_ROUNDS,
        AB_DEFAULT_DECIDE_ROUNDS, AB_DEFAULT_BUDGET_MIN, AB_DEFAULT_TIMEOUT_S);
}

void noise_usage(FILE *fp)
{
    fprintf(fp,
        "usage: itera-bench noise [--platform P] [--profile X] [--rounds N] [--out FILE]\n"
        "                         [ab options]   (--rounds default %d)\n"
        "\n"
        "Measures this machine's noise: an interleaved A/A (this build against itself, as\n"
        "itera-bench ab runs it) and, per benchmark family, the 95th percentile of |ratio - 1|\n"
        "over the family's benchmarks (at least %.1f%%). compare and ab report a change only\n"
        "when its whole 95%% interval lies beyond it. Writes results/<machine>/<platform>/\n"
        "noise.json (or --out FILE) and prints the thresholds and the A/A's verdicts (which\n"
        "should all be no change: anything else is a false alarm).\n"
        "Exit: 0 done, 1 a measurement failed, 2 bad usage.\n",
        NOISE_DEFAULT_ROUNDS, NOISE_FLOOR_PCT);
}

static bool parse_int(const char *s, int lo, int hi, int *v)
{
    char *end = NULL;
    errno = 0;
    long x = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s || *end || errno || x < lo || x > hi)
        return false;
    *v = (int)x;
    return true;
}

/* Parses ab's and compare's options (argv[0] is the command's name). */
static bench_status parse_ab(int argc, char **argv, ab_opts *o, bool *help, bench_error *e)
{
    memset(o, 0, sizeof *o);
    compare_opts_init(&o->cmp);
    o->rounds = AB_DEFAULT_ROUNDS;
    o->extra_rounds = AB_DEFAULT_EXTRA_ROUNDS;
    o->decide_rounds = AB_DEFAULT_DECIDE_ROUNDS;
    o->budget_s = AB_DEFAULT_BUDGET_MIN * 60.0;
    o->timeout_s = AB_DEFAULT_TIMEOUT_S;
    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
#define NEED(flag)                                                                         \
    do {                                                                                   \
        if (!v || !*v)                                                                     \
            return bench_fail(e, BENCH_ERR_INPUT, "%s needs a value (see --help)", flag);  \
    } while (0)
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
            return BENCH_OK;
        } else if (strcmp(a, "--emulate") == 0) {
            o->emulate = true;
        } else if (strcmp(a, "--cross") == 0) {
            o->cmp.cross = true;
        } else if (strcmp(a, "--record-noise") == 0) {
            o->record_noise = true;
            if (i + 1 < argc && argv[i + 1][0] != '-')
                o->noise_out = argv[++i];
        } else if (argopt_value(argc, argv, &i, "--base-bin", &v)) {
            NEED("--base-bin");
            o->base_bin = v;
        } else if (argopt_value(argc, argv, &i, "--new-bin", &v)) {
            NEED("--new-bin");
            o->new_bin = v;
        } else if (argopt_value(argc, argv, &i, "--base", &v)) {
            NEED("--base");
            o->base_spec = v;
        } else if (argopt_value(argc, argv, &i, "--new", &v)) {
            NEED("--new");
            o->new_spec = v;
        } else if (argopt_value(argc, argv, &i, "--variants", &v)) {
            NEED("--variants");
            o->variants = v;
        } else if (argopt_value(argc, argv, &i, "--platform", &v)) {
            NEED("--platform");
            o->platform = v;
        } else if (argopt_value(argc, argv, &i, "--profile", &v)) {
            NEED("--profile");
            o->profile = v;
        } else if (argopt_value(argc, argv, &i, "--model", &v)) {
            NEED("--model");
            o->model = v;
        } else if (argopt_value(argc, argv, &i, "--machine", &v)) {
            NEED("--machine");
            o->machine = v;
        } else if (argopt_value(argc, argv, &i, "--set", &v)) {
            NEED("--set");
            if (o->nsets == AB_MAX_SETS)
                return bench_fail(e, BENCH_ERR_INPUT, "--set: at most %d", AB_MAX_SETS);
            if (strncmp(v, "repetitions=", 12) == 0)
                return bench_fail(e, BENCH_ERR_INPUT, "--set %s: ab runs one repetition per "
                                  "round; use --rounds N for more samples", v);
            o->sets[o->nsets++] = v;
        } else if (argopt_value(argc, argv, &i, "--rounds", &v)) {
            if (!parse_int(v, 2, 1000, &o->rounds))
                return bench_fail(e, BENCH_ERR_INPUT, "--rounds '%s': expected 2 to 1000",
                                  v ? v : "");
            o->rounds_set = true;
        } else if (argopt_value(argc, argv, &i, "--decide-rounds", &v)) {
            if (!parse_int(v, 0, 1000, &o->decide_rounds))
                return bench_fail(e, BENCH_ERR_INPUT, "--decide-rounds '%s': expected 0 to 1000",
                                  v);
        } else if (argopt_value(argc, argv, &i, "--budget", &v)) {
            char *end = NULL;
            double m = v ? strtod(v, &end) : NAN;
            if (!v || end == v || *end || !(m >= 0) || m > 10000)
                return bench_fail(e, BENCH_ERR_INPUT, "--budget '%s': expected minutes from 0 "
                                  "(no budget) to 10000", v ? v : "");
            o->budget_s = m * 60.0;
            o->budget_set = true;
        } else if (argopt_value(argc, argv, &i, "--extra-rounds", &v)) {
            if (!parse_int(v, 0, 1000, &o->extra_rounds))
                return bench_fail(e, BENCH_ERR_INPUT, "--extra-rounds '%s': expected 0 to 1000",
                                  v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--seed", &v)) {
            char *end = NULL;
            errno = 0;
            unsigned long long s = v ? strtoull(v, &end, 0) : 0;
            if (!v || end == v || *end || errno)
                return bench_fail(e, BENCH_ERR_INPUT, "--seed '%s': expected an unsigned "
                                  "integer", v ? v : "");
            o->seed = s;
            o->seed_set = true;
        } else if (argopt_value(argc, argv, &i, "--filter", &v)) {
            NEED("--filter");
            o->filter = v;
        } else if (argopt_value(argc, argv, &i, "--out", &v)) {
            NEED("--out");
            o->out_dir = v;
        } else if (argopt_value(argc, argv, &i, "--timeout", &v)) {
            if (!argopt_double(v, &o->timeout_s) || !(o->timeout_s > 0))
                return bench_fail(e, BENCH_ERR_INPUT, "--timeout '%s': expected seconds > 0",
                                  v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--contention", &v)) {
            NEED("--contention");
            load_rule lr;
            if (load_rule_parse(v, &lr, e) != BENCH_OK)
                return BENCH_ERR_INPUT;
            o->contention = v;
        } else if (argopt_value(argc, argv, &i, "--json", &v)) {
            NEED("--json");
            o->cmp.json_path = v;
        } else if (argopt_value(argc, argv, &i, "--fail-above", &v)) {
            if (!argopt_double(v, &o->cmp.fail_above_pct) || o->cmp.fail_above_pct < 0)
                return bench_fail(e, BENCH_ERR_INPUT, "--fail-above '%s': expected a "
                                  "non-negative percentage", v ? v : "");
            o->cmp.fail_above_set = true;
        } else if (argopt_value(argc, argv, &i, "--alpha", &v)) {
            if (!argopt_double(v, &o->cmp.alpha) || !(o->cmp.alpha > 0 && o->cmp.alpha < 1))
                return bench_fail(e, BENCH_ERR_INPUT, "--alpha '%s': expected a number between "
                                  "0 and 1", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--correction", &v)) {
            if (!v || !stats_correction_parse(v, &o->cmp.correction))
                return bench_fail(e, BENCH_ERR_INPUT, "--correction '%s': expected bh, holm or "
                                  "none", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--noise-threshold", &v)) {
            if (!argopt_double(v, &o->cmp.noise_pct) || o->cmp.noise_pct < 0 ||
                o->cmp.noise_pct > 100)
                return bench_fail(e, BENCH_ERR_INPUT, "--noise-threshold '%s': expected a "
                                  "percentage from 0 to 100", v ? v : "");
        } else if (argopt_value(argc, argv, &i, "--noise", &v)) {
            NEED("--noise");
            o->cmp.noise_file = v;
        } else if (argopt_value(argc, argv, &i, "--metric", &v)) {
            NEED("--metric");
            o->cmp.metric = v;
        } else {
            return bench_fail(e, BENCH_ERR_INPUT, "%s '%s' (see itera-bench %s --help)",
                              a[0] == '-' ? "unknown option" : "unexpected argument", a,
                              argv[0]);
        }
#undef NEED
    }
    if (o->variants) {
        if (o->base_spec || o->new_spec || o->base_bin || o->new_bin)
            return bench_fail(e, BENCH_ERR_INPUT, "--variants measures two variants of this "
                              "build: no --base/--new/--base-bin/--new-bin with it");
        if (compare_parse_variants(o->variants, true, o->var_a, o->var_b, sizeof o->var_a, e) !=
            BENCH_OK)
            return BENCH_ERR_INPUT;
        o->cmp.match_from[0] = o->var_a;
        o->cmp.match_to[0] = o->var_b;
        o->cmp.n_match = 1;
        o->cmp.variants = true;
    } else {
        bool b = o->base_spec || o->base_bin, n = o->new_spec || o->new_bin;
        if ((o->base_spec && o->base_bin) || (o->new_spec && o->new_bin))
            return bench_fail(e, BENCH_ERR_INPUT, "give each side once: --base or --base-bin, "
                              "--new or --new-bin");
        if (!b || !n)
            return bench_fail(e, BENCH_ERR_INPUT, "ab needs both sides: --base REV --new REV|DIR "
                              "(or --base-bin/--new-bin, or --variants A,B); see --help");
    }
    if (o->cmp.noise_file && o->cmp.noise_pct >= 0)
        return bench_fail(e, BENCH_ERR_INPUT, "--noise and --noise-threshold: give one");
    if (o->record_noise && !o->rounds_set)
        o->rounds = NOISE_DEFAULT_ROUNDS; /* every pair's threshold from as many rounds */
    if (!o->platform)
        o->platform = "embedded";
    if (!o->profile)
        o->profile = "ci";
    return BENCH_OK;
}

/* ---- child processes ---- */

/* In the child: cwd, environment, then exec. Never returns. */
static void child_exec(char *const argv[], const char *cwd, const char *bench_root,
                       const char *contention, bool clean_make)
{
    if (cwd && chdir(cwd) != 0) {
        fprintf(stderr, "itera-bench ab: cannot enter %s: %s\n", cwd, strerror(errno));
        _exit(127);
    }
    if (clean_make) {
        /* a make started from `make ab` must not inherit its parent's jobserver */
        unsetenv("MAKEFLAGS");
        unsetenv("MFLAGS");
        unsetenv("MAKELEVEL");
        unsetenv("MAKEOVERRIDES");
    }
    if (bench_root)
        setenv("ITERA_BENCH_ROOT", bench_root, 1);
    if (contention)
        setenv("ITERA_CONTENTION", contention, 1);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    fprintf(stderr, "itera-bench ab: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Runs argv to completion: stdout captured into *out (malloc'd, NUL-terminated) when out
 * is not NULL, else to out_fd; stderr to err_fd (-1: inherited). Returns the exit status,
 * 128+signal when killed, -1 when it could not start. */
static int run_wait(char *const argv[], const char *cwd, const char *bench_root, bool clean_make,
                    char **out, int out_fd, int err_fd)
{
    int p[2] = {-1, -1};
    if (out && pipe2(p, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        if (out) {
            close(p[0]);
            close(p[1]);
        }
        return -1;
    }
    if (pid == 0) {
        int fd = out ? p[1] : out_fd;
        if (fd >= 0 && fd != STDOUT_FILENO)
            dup2(fd, STDOUT_FILENO);
        if (err_fd >= 0 && err_fd != STDERR_FILENO)
            dup2(err_fd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        child_exec(argv, cwd, bench_root, NULL, clean_make);
    }
    size_t len = 0, cap = 0;
    char *buf = NULL;
    if (out) {
        close(p[1]);
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 16384;
                char *nb = realloc(buf, cap);
                if (!nb)
                    break;
                buf = nb;
            }
            ssize_t got = read(p[0], buf + len, cap - len - 1);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            len += (size_t)got;
        }
        close(p[0]);
        if (buf)
            buf[len] = '\0';
        *out = buf;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

typedef struct worker {
    pid_t pid;
    int to_fd, from_fd;
    char buf[16384];
    size_t len;
} worker;

static bench_status worker_start(worker *w, char *const argv[], const char *cwd,
                                 const char *root, const char *contention, int log_fd,
                                 bench_error *e)
{
    memset(w, 0, sizeof *w);
    w->pid = -1;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return bench_fail(e, BENCH_ERR_SYSTEM, "pipe: %s", strerror(errno));
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return bench_fail(e, BENCH_ERR_SYSTEM, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return bench_fail(e, BENCH_ERR_SYSTEM, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        if (log_fd >= 0)
            dup2(log_fd, STDERR_FILENO);
        child_exec(argv, cwd, root, contention, false);
    }
    close(in[0]);
    close(out[1]);
    w->pid = pid;
    w->to_fd = in[1];
    w->from_fd = out[0];
    return BENCH_OK;
}

/* The next line from the worker (without '\n'): 1, 0 at end of file, -1 on timeout or a
 * read error. */
static int worker_line(worker *w, char *line, size_t cap, double timeout_s)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *nl = memchr(w->buf, '\n', w->len);
        if (nl) {
            size_t n = (size_t)(nl - w->buf);
            snprintf(line, cap, "%.*s", (int)n, w->buf);
            memmove(w->buf, nl + 1, w->len - n - 1);
            w->len -= n + 1;
            return 1;
        }
        if (w->len == sizeof w->buf) /* a line longer than the buffer: cut it */
            w->len = 0;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double left = timeout_s - ((double)(t1.tv_sec - t0.tv_sec) +
                                   1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = w->from_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)fmin(left * 1000 + 1, 1e9));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return pr == 0 ? -1 : -1;
        ssize_t got = read(w->from_fd, w->buf + w->len, sizeof w->buf - w->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return 0;
        w->len += (size_t)got;
    }
}

static int worker_send(worker *w, const char *text)
{
    size_t n = strlen(text);
    while (n) {
        ssize_t put = write(w->to_fd, text, n);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        text += put;
        n -= (size_t)put;
    }
    return 0;
}

/* Asks the worker to finish (it writes its results file) and waits. The exit status,
 * 128+signal, or -1. */
static int worker_stop(worker *w, double timeout_s)
{
    if (w->pid <= 0)
        return -1;
    worker_send(w, "quit\n");
    close(w->to_fd);
    w->to_fd = -1;
    char line[4096];
    while (worker_line(w, line, sizeof line, timeout_s) == 1)
        ; /* "bye PATH" */
    close(w->from_fd);
    w->from_fd = -1;
    int status;
    pid_t got;
    while ((got = waitpid(w->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    w->pid = -1;
    if (got < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

static void worker_kill(worker *w)
{
    if (w->pid <= 0)
        return;
    kill(w->pid, SIGKILL);
    if (w->to_fd >= 0)
        close(w->to_fd);
    if (w->from_fd >= 0)
        close(w->from_fd);
    int status;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->pid = -1;
}

/* ---- sides: build, list ---- */

typedef struct ab_side {
    const char *name;        /* "base" / "new" */
    char spec[PATH_MAX];     /* as given */
    char sha[64];            /* the commit; "" for a folder or a binary */
    char root[PATH_MAX];     /* the tree its workers read platforms/ and profiles/ from */
    char bin[PATH_MAX];
    char desc[PATH_MAX + 256];
    char **cells;
    int ncells;
} ab_side;

static void side_free(ab_side *s)
{
    for (int i = 0; i < s->ncells; i++)
        free(s->cells[i]);
    free(s->cells);
    s->cells = NULL;
    s->ncells = 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_exec(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* One line of a command's output into out ("" when it failed). */
static int capture_line(char *const argv[], const char *cwd, char *out, size_t n)
{
    char *text = NULL;
    int rc = run_wait(argv, cwd, NULL, false, &text, -1, -1);
    out[0] = '\0';
    if (text) {
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = '\0';
        snprintf(out, n, "%s", text);
        free(text);
    }
    trim(out);
    return rc;
}

/* The root of a binary's tree: <bin>/../.. when it holds platforms/ (build/itera-bench),
 * else the current folder. */
static void root_of_bin(const char *bin, char *out, size_t n)
{
    char real[PATH_MAX];
    if (!realpath(bin, real)) {
        snprintf(out, n, ".");
        return;
    }
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(real, '/');
        if (!slash)
            break;
        *slash = '\0';
        char probe[PATH_MAX + 16];
        snprintf(probe, sizeof probe, "%s/platforms", real);
        if (is_dir(probe)) {
            snprintf(out, n, "%s", real);
            return;
        }
    }
    if (!getcwd(out, n))
        snprintf(out, n, ".");
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Prepares one side: a binary as it is, a folder built in place, or a revision checked out
 * into its own worktree and built there. repo: the repository ab runs in. */
static bench_status side_prepare(ab_side *s, const char *spec, bool is_bin, const char *repo,
                                 const char *out_dir, const ab_side *other, bench_error *e)
{
    snprintf(s->spec, sizeof s->spec, "%s", spec);
    char log[PATH_MAX + 64];
    snprintf(log, sizeof log, "%s/build-%s.log", out_dir, s->name);
    if (is_bin) {
        if (!is_exec(spec))
            return bench_fail(e, BENCH_ERR_INPUT, "--%s-bin %s: not an executable file", s->name,
                              spec);
        if (!realpath(spec, s->bin))
            return bench_fail(e, BENCH_ERR_INPUT, "--%s-bin %s: %s", s->name, spec,
                              strerror(errno));
        root_of_bin(s->bin, s->root, sizeof s->root);
        snprintf(s->desc, sizeof s->desc, "binary %s", s->bin);
        return BENCH_OK;
    }
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (logfd < 0)
        return bench_fail(e, BENCH_ERR_IO, "%s: %s", log, strerror(errno));
    char jobs[32];
    snprintf(jobs, sizeof jobs, "-j%d", cpu_count());
    bench_status st = BENCH_OK;
    char tree[PATH_MAX];
    if (is_dir(spec)) {
        if (!realpath(spec, tree)) {
            st = bench_fail(e, BENCH_ERR_INPUT, "--%s %s: %s", s->name, spec, strerror(errno));
            goto out;
        }
        char *desc_argv[] = {"git", "-C", tree, "describe", "--always", "--dirty", "--abbrev=12",
                             NULL};
        char d[256];
        capture_line(desc_argv, NULL, d, sizeof d);
        snprintf(s->desc, sizeof s->desc, "folder %.3000s (%.200s)", tree,
                 d[0] ? d : "not a git tree");
    } else {
        char ref[PATH_MAX + 16];
        snprintf(ref, sizeof ref, "%s^{commit}", spec);
        char *parse[] = {"git", "-C", (char *)repo, "rev-parse", "--verify", "--quiet", ref, NULL};
        if (capture_line(parse, NULL, s->sha, sizeof s->sha) != 0 || !s->sha[0]) {
            st = bench_fail(e, BENCH_ERR_INPUT, "--%s %s: not a git revision of %s (nor a "
                            "folder)", s->name, spec, repo);
            goto out;
        }
        snprintf(s->desc, sizeof s->desc, "%s = %.12s", spec, s->sha);
        if (other && other->sha[0] && strcmp(other->sha, s->sha) == 0) {
            /* the same commit: one build serves both sides (an A/A) */
            snprintf(s->root, sizeof s->root, "%s", other->root);
            snprintf(s->bin, sizeof s->bin, "%s", other->bin);
            snprintf(s->desc, sizeof s->desc, "%s = %.12s (the same build as %s)", spec, s->sha,
                     other->name);
            goto out;
        }
        snprintf(tree, sizeof tree, "%s/build/ab/src/%.12s", repo, s->sha);
        char probe[PATH_MAX + 16];
        snprintf(probe, sizeof probe, "%s/.git", tree);
        if (access(probe, F_OK) != 0) {
            char parent[PATH_MAX + 16];
            snprintf(parent, sizeof parent, "%s/build/ab/src", repo);
            char tmp[PATH_MAX + 32];
            snprintf(tmp, sizeof tmp, "%s/x", parent);
            if ((st = results_make_parent(tmp, e)) != BENCH_OK)
                goto out;
            char *prune[] = {"git", "-C", (char *)repo, "worktree", "prune", NULL};
            run_wait(prune, NULL, NULL, false, NULL, logfd, logfd);
            char *add[] = {"git", "-C", (char *)repo, "worktree", "add", "--detach", "--force",
                           tree, s->sha, NULL};
            fprintf(stderr, "ab: %s: git worktree add %s %.12s\n", s->name, tree, s->sha);
            if (run_wait(add, NULL, NULL, false, NULL, logfd, logfd) != 0) {
                st = bench_fail(e, BENCH_ERR_FAILED, "--%s %s: git worktree add %s failed (see "
                                "%s)", s->name, spec, tree, log);
                goto out;
            }
        }
        snprintf(s->desc, sizeof s->desc, "%s = %.12s (worktree %s)", spec, s->sha, tree);
    }
    fprintf(stderr, "ab: %s: building %s (make %s build, log %s)\n", s->name, tree, jobs, log);
    char *make[] = {"make", "-C", tree, jobs, "build", NULL};
    int rc = run_wait(make, NULL, NULL, true, NULL, logfd, logfd);
    snprintf(s->root, sizeof s->root, "%s", tree);
    snprintf(s->bin, sizeof s->bin, "%.3000s/build/itera-bench", tree);
    if (rc != 0 || !is_exec(s->bin))
        st = bench_fail(e, BENCH_ERR_FAILED, "%s side (%s): the build failed (exit %d); its "
                        "output is in %s", s->name, spec, rc, log);
out:
    close(logfd);
    return st;
}

/* The common run arguments of a side's workers (argv built into av, returns argc). */
static int run_args(const ab_opts *o, const ab_side *s, char **av, int cap, const char *out,
                    bool serve, bool list)
{
    int n = 0;
    av[n++] = (char *)s->bin;
    av[n++] = "run";
    av[n++] = "--platform";
    av[n++] = (char *)o->platform;
    av[n++] = "--profile";
    av[n++] = (char *)o->profile;
    for (int i = 0; i < o->nsets && n + 2 < cap; i++) {
        av[n++] = "--set";
        av[n++] = (char *)o->sets[i];
    }
    if (!list) {
        av[n++] = "--set";
        av[n++] = "repetitions=1";
    }
    if (o->emulate)
        av[n++] = "--emulate";
    if (o->model) {
        av[n++] = "--model";
        av[n++] = (char *)o->model;
    }
    if (o->machine) {
        av[n++] = "--machine";
        av[n++] = (char *)o->machine;
    }
    if (out) {
        av[n++] = "--out";
        av[n++] = (char *)out;
    }
    if (serve)
        av[n++] = "--serve";
    if (list)
        av[n++] = "--benchmark_list_tests=true";
    av[n] = NULL;
    return n;
}

static bench_status side_list(const ab_opts *o, ab_side *s, int log_fd, bench_error *e)
{
    char *av[96];
    run_args(o, s, av, 90, NULL, false, true);
    char *text = NULL;
    int rc = run_wait(av, s->root, s->root, false, &text, -1, log_fd);
    if (rc != 0 || !text) {
        free(text);
        return bench_fail(e, rc == 2 ? BENCH_ERR_INPUT : BENCH_ERR_FAILED, "%s side (%s): "
                          "listing the cells of platform %s, profile %s failed (exit %d; see "
                          "workers.log)", s->name, s->spec, o->platform, o->profile, rc);
    }
    int cap = 64;
    s->cells = malloc((size_t)cap * sizeof *s->cells);
    for (char *line = text, *next; s->cells && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        trim(line);
        if (!*line || strchr(line, ' '))
            continue;
        if (s->ncells == cap) {
            cap *= 2;
            char **nc = realloc(s->cells, (size_t)cap * sizeof *nc);
            if (!nc)
                break;
            s->cells = nc;
        }
        s->cells[s->ncells++] = strdup(line);
    }
    free(text);
    if (s->ncells == 0)
        return bench_fail(e, BENCH_ERR_INPUT, "%s side (%s): platform %s, profile %s has no "
                          "cells", s->name, s->spec, o->platform, o->profile);
    return BENCH_OK;
}

static bool side_serves(const ab_side *s)
{
    char *av[] = {(char *)s->bin, "run", "--help", NULL};
    char *text = NULL;
    run_wait(av, s->root, s->root, false, &text, -1, -1);
    bool ok = text && strstr(text, "--serve");
    free(text);
    return ok;
}

/* ---- pairs and the schedule ---- */

typedef struct ab_pair {
    int bi, ni;     /* cells of the base and new sides */
    int clean;      /* rounds where both sides ran uncontended */
    int ran;        /* rounds it took part in */
    long long iters[2]; /* base, new: the timed iterations of the pair's first answered
                           round (0: not known yet, or a worker that does not report them:
                           then GB estimates each time) */
    long long fit[2];   /* base, new: the count that fills min_time at that round's speed
                           (0: a worker that does not report it) */
} ab_pair;

/* The timed iterations side s runs in the pair's later rounds: both sides' fitted counts
 * when both workers gave one (samples of min_time, not GB's 1.4 x), else both sides'
 * counts as GB estimated them; the same rule for both sides either way. */
static long long pair_iterations(const ab_pair *p, int s)
{
    return p->fit[0] > 0 && p->fit[1] > 0 ? p->fit[s] : p->iters[s];
}

/* The new side's cell for base cell name: the same name, or with --variants A -> B. */
static int find_counterpart(const ab_opts *o, const char *name, const ab_side *nw)
{
    char want[512];
    if (o->variants) {
        char label[1024];
        size_t uo = 0;
        bool any = false;
        (void)label;
        for (const char *p = name;;) {
            const char *slash = strchr(p, '/');
            size_t n = slash ? (size_t)(slash - p) : strlen(p);
            bool hit = strlen(o->var_a) == n && strncmp(p, o->var_a, n) == 0;
            any |= hit;
            uo += (size_t)snprintf(want + uo, uo < sizeof want ? sizeof want - uo : 0, "%s%.*s",
                                   p == name ? "" : "/", hit ? (int)strlen(o->var_b) : (int)n,
                                   hit ? o->var_b : p);
            if (!slash)
                break;
            p = slash + 1;
        }
        if (!any || uo >= sizeof want)
            return -1;
    } else {
        snprintf(want, sizeof want, "%s", name);
    }
    for (int j = 0; j < nw->ncells; j++)
        if (strcmp(nw->cells[j], want) == 0)
            return j;
    return -1;
}

/* ---- merging a side's rounds ---- */

/* A side's rounds as read so far: merge_side reads each round file once and keeps its
 * entries here, so a deciding round costs one more file per side, not all of them again. */
typedef struct side_rounds {
    json_t **per;       /* per pair: its iteration entries, round by round */
    int npairs;
    int loaded;         /* rounds 0..loaded-1 read */
    json_t *context;    /* the first readable round's context, as it was */
    json_t *op_profile; /* the first round's op profile that had one */
} side_rounds;

static void side_rounds_free(side_rounds *sr)
{
    for (int p = 0; sr->per && p < sr->npairs; p++)
        json_decref(sr->per[p]);
    free(sr->per);
    json_decref(sr->context);
    json_decref(sr->op_profile);
    memset(sr, 0, sizeof *sr);
}

/* Reads rounds sr->loaded..rounds_run-1 of side s into sr. */
static bench_status side_rounds_load(side_rounds *sr, const char *dir, const ab_side *s,
                                     const ab_pair *pairs, int npairs, bool is_base,
                                     int rounds_run, bench_error *e)
{
    if (!sr->per) {
        sr->per = calloc((size_t)npairs, sizeof *sr->per);
        if (!sr->per)
            return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
        sr->npairs = npairs;
        for (int p = 0; p < npairs; p++)
            if (!(sr->per[p] = json_array()))
                return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
    }
    for (int r = sr->loaded; r < rounds_run; r++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/rounds/%s-%03d.json", dir, s->name, r);
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je);
        sr->loaded = r + 1;
        if (!root) {
            fprintf(stderr, "ab: warning: %s: %s (round %d of %s left out)\n", path, je.text, r,
                    s->name);
            continue;
        }
        if (!sr->context)
            sr->context = json_deep_copy(json_object_get(root, "context"));
        json_t *ops = json_object_get(root, RES_OP_PROFILE);
        if (!sr->op_profile && json_is_object(ops))
            sr->op_profile = json_deep_copy(ops);
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(root, "benchmarks"), k, b)
        {
            const char *rn = json_string_value(json_object_get(b, ENT_RUN_NAME));
            const char *type = json_string_value(json_object_get(b, ENT_RUN_TYPE));
            if (!rn || !type || strcmp(type, "iteration") != 0)
                continue;
            for (int p = 0; p < npairs; p++) {
                const char *want = s->cells[is_base ? pairs[p].bi : pairs[p].ni];
                if (strcmp(rn, want) != 0)
                    continue;
                json_t *c = json_deep_copy(b);
                json_object_set_new(c, ENT_REPETITION_INDEX, json_integer(r));
                json_object_set_new(c, ENT_FAMILY_INDEX, json_integer(p));
                json_object_set_new(c, ENT_PER_FAMILY_INSTANCE_INDEX, json_integer(0));
                json_array_append_new(sr->per[p], c);
                break;
            }
        }
        json_decref(root);
    }
    return BENCH_OK;
}

/* Side s's rounds 0..rounds_run-1 (rounds/<side>-<round>.json) as one Google Benchmark
 * file: each pair's entries in round order, the first round's context plus ab_ctx; written
 * atomically to out_path, or, with *out set (out non-NULL), only made in memory (its
 * entries shared with sr). sr keeps what was read for the next call. */
static bench_status merge_side(side_rounds *sr, const char *dir, const ab_side *s,
                               const ab_pair *pairs, int npairs, bool is_base, int rounds_run,
                               json_t *ab_ctx, const char *out_path, json_t **out,
                               bench_error *e)
{
    bench_status st = side_rounds_load(sr, dir, s, pairs, npairs, is_base, rounds_run, e);
    if (st != BENCH_OK)
        return st;
    if (!sr->context)
        return bench_fail(e, BENCH_ERR_FAILED, "%s side: no round produced a results file "
                          "(see %s/workers.log)", s->name, dir);
    json_t *context = json_deep_copy(sr->context);
    json_object_update(context, ab_ctx);
    json_object_set_new(context, CTX_AB_SIDE, json_string(s->name));
    json_object_set_new(context, CTX_AB_BUILD, json_string(s->desc));
    json_t *benches = json_array();
    int max_reps = 0;
    for (int p = 0; p < npairs; p++) {
        size_t k;
        json_t *b;
        int n = (int)json_array_size(sr->per[p]);
        if (n > max_reps)
            max_reps = n;
        json_array_foreach(sr->per[p], k, b)
        {
            json_object_set_new(b, "repetitions", json_integer(n));
            json_array_append(benches, b);
        }
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", max_reps);
    json_object_set_new(context, CTX_REPETITIONS, json_string(buf));
    json_t *root = json_pack("{s:o, s:o}", "context", context, "benchmarks", benches);
    if (root && sr->op_profile)
        json_object_set(root, RES_OP_PROFILE, sr->op_profile);
    if (!root)
        return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
    if (out) {
        *out = root;
        return BENCH_OK;
    }
    st = results_write_atomic(out_path, root, e);
    json_decref(root);
    return st;
}

/* ---- the session ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_dur(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* One reply line "ok CELL\tC\tO\tP\tWHY[\tITERATIONS[\tFIT_ITERATIONS]]" / "err CELL\tMSG"
 * (runner.c: serve_cells) into a JSON sample record; *iters the timed iterations, *fit the
 * count that fills min_time (each 0 when the worker does not report it: a build from before
 * fixed or fitted iteration counts). */
static json_t *reply_json(const char *line, bool *ok, bool *contended, long long *iters,
                          long long *fit)
{
    *ok = strncmp(line, "ok ", 3) == 0;
    *contended = false;
    *iters = *fit = 0;
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_boolean(*ok));
    const char *tab = strchr(line, '\t');
    if (*ok && tab) {
        const char *f[6] = {NULL}; /* after the cell: C, O, P, WHY, ITERATIONS, FIT */
        int nf = 0;
        for (const char *q = tab; q && nf < 6; q = strchr(q + 1, '\t'))
            f[nf++] = q + 1;
        *contended = nf > 0 && atoi(f[0]) != 0;
        double other = nf > 1 ? atof(f[1]) : 0, pressure = nf > 2 ? atof(f[2]) : -1;
        char why[200] = "";
        if (nf > 3) {
            size_t len = nf > 4 ? (size_t)(f[4] - 1 - f[3]) : strcspn(f[3], "\n");
            snprintf(why, sizeof why, "%.*s", (int)(len < sizeof why ? len : sizeof why - 1), f[3]);
        }
        if (nf > 4)
            *iters = atoll(f[4]) > 0 ? atoll(f[4]) : 0;
        if (nf > 5)
            *fit = atoll(f[5]) > 0 ? atoll(f[5]) : 0;
        json_object_set_new(j, "contended", json_boolean(*contended));
        json_object_set_new(j, "other_cpu", json_real(other));
        json_object_set_new(j, "pressure_pct", pressure >= 0 ? json_real(pressure) : json_null());
        if (why[0])
            json_object_set_new(j, "why", json_string(why));
        if (*iters > 0)
            json_object_set_new(j, "iterations", json_integer(*iters));
        if (*fit > 0)
            json_object_set_new(j, "fit_iterations", json_integer(*fit));
    } else {
        json_object_set_new(j, "error", json_string(tab ? tab + 1 : line));
    }
    return j;
}

typedef struct session {
    const ab_opts *o;
    ab_side *side[2];          /* base, new */
    ab_pair *pairs;
    int npairs;
    char dir[PATH_MAX];
    char id[128];
    uint64_t seed;
    int log_fd;
    json_t *schedule;
    int rounds_run;
    int decide_rounds_run;     /* of rounds_run: deciding rounds (deciding_rounds) */
    const char *decide_stop;   /* why the deciding rounds ended (NULL: none ran or began) */
    double round_s, start_s;   /* the last round: its whole time, and its workers' start */
    int round_pairs;           /* the last round's pairs */
    side_rounds merged[2];     /* base, new: the rounds merge_sides has read */
    double budget_s;           /* the deciding rounds' time budget (0: none; session_budget) */
    char budget_from[PATH_MAX + 64]; /* where it came from, for ab.json and messages */
} session;

static bench_status write_manifest(const session *ss, double elapsed, bench_error *e)
{
    const ab_opts *o = ss->o;
    json_t *m = json_object();
    json_object_set_new(m, "itera_ab", json_integer(1));
    json_object_set_new(m, "session", json_string(ss->id));
    char seed[32];
    snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)ss->seed);
    json_object_set_new(m, "seed", json_string(seed));
    json_object_set_new(m, "platform", json_string(o->platform));
    json_object_set_new(m, "profile", json_string(o->profile));
    json_t *sets = json_array();
    for (int i = 0; i < o->nsets; i++)
        json_array_append_new(sets, json_string(o->sets[i]));
    json_object_set_new(m, "sets", sets);
    json_object_set_new(m, "variants", o->variants ? json_string(o->variants) : json_null());
    json_object_set_new(m, "rounds", json_integer(o->rounds));
    json_object_set_new(m, "rounds_run", json_integer(ss->rounds_run));
    json_object_set_new(m, "decide_rounds_run", json_integer(ss->decide_rounds_run));
    json_object_set_new(m, "decide_stop",
                        ss->decide_stop ? json_string(ss->decide_stop) : json_null());
    json_object_set_new(m, "budget_s", json_real(ss->budget_s));
    json_object_set_new(m, "budget_from", json_string(ss->budget_from));
    json_object_set_new(m, "elapsed_s", json_real(elapsed));
    for (int s = 0; s < 2; s++)
        json_object_set_new(m, ss->side[s]->name,
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "spec", ss->side[s]->spec,
                                      "commit", ss->side[s]->sha, "root", ss->side[s]->root,
                                      "bin", ss->side[s]->bin, "build", ss->side[s]->desc));
    json_t *pairs = json_array();
    for (int p = 0; p < ss->npairs; p++)
    {
        const ab_pair *pr = &ss->pairs[p];
        bool fit = pr->fit[0] > 0 && pr->fit[1] > 0;
        /* *_iterations: what the rounds after the first run; *_estimated: GB's count */
        json_array_append_new(pairs,
                              json_pack("{s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:s}", "base",
                                        ss->side[0]->cells[pr->bi], "new",
                                        ss->side[1]->cells[pr->ni], "rounds", pr->ran, "clean",
                                        pr->clean, "base_iterations",
                                        (json_int_t)pair_iterations(pr, 0), "new_iterations",
                                        (json_int_t)pair_iterations(pr, 1),
                                        "base_estimated_iterations", (json_int_t)pr->iters[0],
                                        "new_estimated_iterations", (json_int_t)pr->iters[1],
                                        "iterations_rule",
                                        fit ? "fills min_time at round 1's speed"
                                            : "Google Benchmark's estimate"));
    }
    json_object_set_new(m, "pairs", pairs);
    json_object_set(m, "schedule", ss->schedule);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/ab.json", ss->dir);
    bench_status rc = results_write_atomic(path, m, e);
    json_decref(m);
    return rc;
}

/* Runs one round over the pairs in todo[] (1 = runs). */
static bench_status run_round(session *ss, int round, const bool *todo, bench_error *e)
{
    const ab_opts *o = ss->o;
    const double t_begin = now_s();
    stats_rng g;
    stats_rng_seed(&g, ss->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(round + 1)));
    int *order = malloc((size_t)ss->npairs * sizeof *order);
    if (!order)
        return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
    int n = 0;
    for (int p = 0; p < ss->npairs; p++)
        if (todo[p])
            order[n++] = p;
    for (int i = n - 1; i > 0; i--) {
        int j = stats_rng_below(&g, i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int start_first = stats_rng_below(&g, 2); /* which side's worker starts first */
    json_t *rj = json_pack("{s:i, s:s, s:[]}", "round", round, "started_first",
                           ss->side[start_first]->name, "order");
    json_t *jorder = json_object_get(rj, "order");
    worker w[2];
    memset(w, 0, sizeof w);
    w[0].pid = w[1].pid = -1;
    bench_status st = BENCH_OK;
    char outp[2][PATH_MAX + 64];
    /* One worker after the other: each measures the machine's peak as it starts (runner.c:
     * probe_machine), which two at once would halve. */
    for (int k = 0; k < 2; k++) {
        int s = k ? 1 - start_first : start_first;
        snprintf(outp[s], sizeof outp[s], "%s/rounds/%s-%03d.json", ss->dir, ss->side[s]->name,
                 round);
        char *av[96];
        run_args(o, ss->side[s], av, 90, outp[s], true, false);
        st = worker_start(&w[s], av, ss->side[s]->root, ss->side[s]->root, o->contention,
                          ss->log_fd, e);
        char line[4096];
        int got = st == BENCH_OK ? worker_line(&w[s], line, sizeof line, o->timeout_s) : 1;
        if (st == BENCH_OK && (got != 1 || strncmp(line, "ready ", 6) != 0))
            st = bench_fail(e, BENCH_ERR_FAILED, "round %d: the %s worker (%s) did not start "
                            "(see %s/workers.log)", round, ss->side[s]->name, ss->side[s]->bin,
                            ss->dir);
        if (st != BENCH_OK)
            goto out;
    }
    double t0 = now_s();
    int contended = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int p = order[i];
        int first = stats_rng_below(&g, 2);
        json_t *rec = json_pack("{s:i, s:s}", "pair", p, "first", ss->side[first]->name);
        bool ok_both = true, cont_any = false;
        ab_pair *pr = &ss->pairs[p];
        /* both sides' counts known: this round runs them as fixed (both sides alike) */
        const bool fixed = pr->iters[0] > 0 && pr->iters[1] > 0;
        json_object_set_new(rec, "fixed_iterations", json_boolean(fixed));
        for (int k = 0; k < 2; k++) {
            int s = k ? 1 - first : first;
            const char *cell = ss->side[s]->cells[s ? pr->ni : pr->bi];
            char cmd[1024], line[4096];
            if (fixed)
                snprintf(cmd, sizeof cmd, "run %s %lld\n", cell, pair_iterations(pr, s));
            else
                snprintf(cmd, sizeof cmd, "run %s\n", cell);
            int got = worker_send(&w[s], cmd) == 0
                          ? worker_line(&w[s], line, sizeof line, o->timeout_s) : 0;
            if (got != 1) {
                json_decref(rec);
                st = bench_fail(e, BENCH_ERR_FAILED, "round %d: the %s worker %s while running "
                                "%s (see %s/workers.log)", round, ss->side[s]->name,
                                got < 0 ? "timed out" : "stopped", cell, ss->dir);
                goto out;
            }
            bool ok, cont;
            long long it, fit;
            json_object_set_new(rec, ss->side[s]->name, reply_json(line, &ok, &cont, &it, &fit));
            if (ok && !fixed) {
                pr->iters[s] = it;
                pr->fit[s] = fit;
            }
            ok_both &= ok;
            cont_any |= cont;
            if (!ok)
                fprintf(stderr, "ab: round %d: %s %s failed: %s\n", round + 1, ss->side[s]->name,
                        cell, strchr(line, '\t') ? strchr(line, '\t') + 1 : line);
        }
        pr->ran++;
        if (ok_both && !cont_any)
            pr->clean++;
        contended += cont_any;
        failed += !ok_both;
        json_array_append_new(jorder, rec);
    }
    for (int s = 0; s < 2; s++) {
        int rc = worker_stop(&w[s], o->timeout_s);
        if (rc != 0 && rc != 1) /* 1: a cell failed (reported above) */
            fprintf(stderr, "ab: round %d: the %s worker ended with status %d\n", round + 1,
                    ss->side[s]->name, rc);
    }
    ss->start_s = t0 - t_begin;
    ss->round_s = now_s() - t_begin;
    ss->round_pairs = n;
    char dur[32];
    fmt_dur(now_s() - t0, dur, sizeof dur);
    fprintf(stderr, "ab: round %d: %d pairs in %s, %d contended%s\n", round + 1, n, dur,
            contended, failed ? ", some failed" : "");
    json_object_set_new(rj, "contended_pairs", json_integer(contended));
    json_object_set_new(rj, "failed_pairs", json_integer(failed));
out:
    for (int s = 0; s < 2; s++)
        worker_kill(&w[s]);
    json_array_append_new(ss->schedule, rj);
    free(order);
    return st;
}

/* Both sides' rounds so far into base.json and new.json (bpath, npath), or, with roots
 * non-NULL, into roots[0] and roots[1] in memory only (the caller releases them). */
static bench_status merge_sides(session *ss, const char *seedtxt, const char *bpath,
                                const char *npath, json_t **roots, bench_error *e)
{
    json_t *ab_ctx = json_object();
    json_object_set_new(ab_ctx, CTX_AB_SESSION, json_string(ss->id));
    json_object_set_new(ab_ctx, CTX_AB_SEED, json_string(seedtxt));
    char buf[64];
    snprintf(buf, sizeof buf, "%d", ss->rounds_run);
    json_object_set_new(ab_ctx, CTX_AB_ROUNDS, json_string(buf));
    json_object_set_new(ab_ctx, CTX_AB_SCHEDULE, json_string("ab.json"));
    json_object_set_new(ab_ctx, CTX_AB_BASE, json_string(ss->side[0]->desc));
    json_object_set_new(ab_ctx, CTX_AB_NEW, json_string(ss->side[1]->desc));
    int nfixed = 0, nfit = 0;
    for (int p = 0; p < ss->npairs; p++) {
        const ab_pair *pr = &ss->pairs[p];
        nfixed += pr->iters[0] > 0 && pr->iters[1] > 0;
        nfit += pr->iters[0] > 0 && pr->iters[1] > 0 && pr->fit[0] > 0 && pr->fit[1] > 0;
    }
    char note[700];
    snprintf(note, sizeof note,
             "one iteration run per round: one repetition of the cell in a fresh process, base "
             "and new back to back in random order; repetition_index is the round; no "
             "aggregates; %s%s",
             nfixed == ss->npairs ? "Google Benchmark estimated the iteration count in the "
                                    "first round, later rounds ran a fixed count"
             : nfixed ? "iteration counts fixed from the first round where both workers reported "
                        "them, estimated every round for the other pairs"
                      : "the iteration count estimated every round (a worker did not report it)",
             !nfixed ? ""
             : nfit == nfixed ? " (the count that fills min_time at the first round's speed)"
             : nfit ? " (for pairs whose workers both reported it, the count that fills min_time "
                      "at the first round's speed; for the others, Google Benchmark's)"
                    : " (Google Benchmark's: a worker did not report the count that fills "
                      "min_time)");
    json_object_set_new(ab_ctx, CTX_AB_NOTE, json_string(note));
    if (roots)
        roots[0] = roots[1] = NULL;
    bench_status st = merge_side(&ss->merged[0], ss->dir, ss->side[0], ss->pairs, ss->npairs,
                                 true, ss->rounds_run, ab_ctx, bpath, roots ? &roots[0] : NULL, e);
    if (st == BENCH_OK)
        st = merge_side(&ss->merged[1], ss->dir, ss->side[1], ss->pairs, ss->npairs, false,
                        ss->rounds_run, ab_ctx, npath, roots ? &roots[1] : NULL, e);
    json_decref(ab_ctx);
    return st;
}

/* Whether more rounds could still decide a judged benchmark: its interval straddles an edge
 * of its noise band (within the noise, or beyond it), or lies wholly beyond the band while
 * the test, corrected over all benchmarks, is not yet significant (a real change of about
 * the band's size: measured on the 5% power test, 3 of 8 slowed cells at p 0.002–0.005,
 * adjusted 0.06–0.11, had only the 30 main rounds the default then gave). */
static bool undecided(const compare_row_result *r)
{
    if (!r->judged)
        return false;
    double band = log1p(r->noise > 0 ? r->noise : 0);
    bool straddles = (r->est.worse_lo <= band && r->est.worse_hi > band) ||
                     (r->est.worse_hi >= -band && r->est.worse_lo < -band);
    bool beyond = r->est.worse_lo > band || r->est.worse_hi < -band;
    return straddles || (beyond && r->verdict == VERDICT_NO_CHANGE);
}

/* The deciding rounds' time budget: --budget, else the new side's profile's
 * ab_budget_minutes (the file its workers read: NAME from its tree's profiles/, a path as
 * given; with the --set overrides), else AB_DEFAULT_BUDGET_MIN. A profile this build cannot
 * read (a key newer than this build; the workers have read it already) keeps the default
 * and says why. */
static void session_budget(session *ss)
{
    const ab_opts *o = ss->o;
    ss->budget_s = o->budget_s;
    snprintf(ss->budget_from, sizeof ss->budget_from, "%s",
             o->budget_set ? "--budget" : "the default");
    if (o->budget_set)
        return;
    char path[PATH_MAX];
    if (o->profile[0] == '/')
        snprintf(path, sizeof path, "%.4000s", o->profile);
    else if (bench_data_is_path(o->profile)) /* relative to the workers' folder, as for them */
        snprintf(path, sizeof path, "%.3000s/%.900s", ss->side[1]->root, o->profile);
    else
        snprintf(path, sizeof path, "%.3000s/profiles/%.900s.ini", ss->side[1]->root, o->profile);
    profile p;
    bench_error pe;
    bench_status st = profile_load(path, &p, &pe);
    for (int i = 0; st == BENCH_OK && i < o->nsets; i++)
        st = profile_override(&p, o->sets[i], &pe);
    if (st != BENCH_OK) {
        fprintf(stderr, "ab: warning: the time budget stays %g min: this build cannot read "
                "the profile's ab_budget_minutes (%s)\n", o->budget_s / 60.0, pe.msg);
        return;
    }
    if (p.ab_budget_minutes > 0) {
        ss->budget_s = p.ab_budget_minutes * 60.0;
        snprintf(ss->budget_from, sizeof ss->budget_from, "ab_budget_minutes in %s", path);
    }
}

/* Deciding rounds (--decide-rounds N): while some pairs are undecided (undecided(); compared
 * after every round, quietly, with the session's compare options), up to N more rounds of
 * just those pairs; each look merges the rounds in memory and compares them there, and
 * base.json and new.json are written once after the last. Each look can only end a pair's extra rounds, never change how a verdict is made:
 * the final comparison judges every round like any other. */
static bench_status deciding_rounds(session *ss, const char *seedtxt, const char *bpath,
                                    const char *npath, double t_start, bench_error *e)
{
    const ab_opts *o = ss->o;
    bool *todo = calloc((size_t)ss->npairs, sizeof *todo);
    FILE *sink = fopen("/dev/null", "w");
    bench_status st = todo && sink ? BENCH_OK : bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
    for (int d = 0; st == BENCH_OK && d < o->decide_rounds; d++) {
        const double t_look = now_s();
        compare_opts co = o->cmp;
        co.base_path = bpath;
        co.new_path = npath;
        co.md_path = NULL;
        co.json_path = NULL;
        co.md = sink;
        co.quiet_warnings = true;
        co.fail_above_set = false;
        compare_result res;
        memset(&res, 0, sizeof res);
        bench_error ce;
        json_t *roots[2];
        if (merge_sides(ss, seedtxt, bpath, npath, roots, &ce) != BENCH_OK)
            break; /* the final merge reports it */
        co.base_json = roots[0];
        co.new_json = roots[1];
        bench_status cst = compare_files(&co, &res, &ce);
        json_decref(roots[0]);
        json_decref(roots[1]);
        if (cst != BENCH_OK)
            break; /* the final comparison reports it */
        int n = 0;
        for (int p = 0; p < ss->npairs; p++) {
            todo[p] = false;
            const char *bn = ss->side[0]->cells[ss->pairs[p].bi];
            for (int i = 0; i < res.n_rows && !todo[p]; i++)
                todo[p] = strcmp(res.rows[i].base_name, bn) == 0 && undecided(&res.rows[i]);
            n += todo[p];
        }
        compare_result_free(&res);
        if (n == 0) {
            ss->decide_stop = "every pair decided";
            break;
        }
        /* The next round's time: its workers' start, the last round's time per pair for its
         * pairs, and a look like this one (merging and comparing again). */
        const double look_s = now_s() - t_look;
        const double est = ss->start_s + look_s +
                           (ss->round_pairs > 0 ? (ss->round_s - ss->start_s) * n /
                                                      ss->round_pairs : 0);
        const double elapsed = now_s() - t_start;
        if (ss->budget_s > 0 && elapsed + est > ss->budget_s) {
            char a[32], b[32];
            fmt_dur(elapsed, a, sizeof a);
            fmt_dur(ss->budget_s, b, sizeof b);
            fprintf(stderr, "ab: time budget: %d undecided pair%s left after %d deciding "
                    "round%s: another round (about %.0f s) would end past the budget (%s of "
                    "%s gone; %s); they are judged on the rounds they have\n", n,
                    n == 1 ? "" : "s", d, d == 1 ? "" : "s", est, a, b, ss->budget_from);
            ss->decide_stop = "time budget";
            break;
        }
        fprintf(stderr, "ab: deciding round %d of at most %d: %d undecided pair%s (interval "
                "straddling the noise threshold, or beyond it but not yet significant)\n", d + 1,
                o->decide_rounds, n, n == 1 ? "" : "s");
        st = run_round(ss, ss->rounds_run, todo, e);
        ss->rounds_run++;
        ss->decide_rounds_run++;
        bench_error me;
        write_manifest(ss, now_s() - t_start, &me);
        if (d + 1 == o->decide_rounds)
            ss->decide_stop = "the last deciding round (--decide-rounds)";
    }
    /* the files once, at the end (a look compares the rounds in memory); an interrupted
     * session keeps every round in rounds/ all the same */
    if (st == BENCH_OK && ss->decide_rounds_run > 0)
        st = merge_sides(ss, seedtxt, bpath, npath, NULL, e);
    if (sink)
        fclose(sink);
    free(todo);
    return st;
}

static void session_id(char *out, size_t n, uint64_t seed)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[32];
    strftime(d, sizeof d, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, n, "%s-%04llx", d, (unsigned long long)(seed & 0xffff));
}

static bench_status mkdir_p(const char *dir, bench_error *e)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%.4000s/x", dir);
    return results_make_parent(tmp, e);
}

/* The repository ab runs in (for revisions and build/ab/): git's top level of the current
 * folder, else runner_root. */
static void repo_root(char *out, size_t n)
{
    char *av[] = {"git", "rev-parse", "--show-toplevel", NULL};
    if (capture_line(av, NULL, out, n) == 0 && out[0])
        return;
    runner_root(out, n);
}

static void print_noise(const noise_table *t, FILE *f)
{
    fprintf(f, "\n| family | threshold | benchmarks | median |ratio-1| | 95th pct | max |\n");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int fam = 0; fam < BENCH_FAMILY_COUNT; fam++) {
        const noise_family *nf = &t->fam[fam];
        if (!nf->have)
            continue;
        fprintf(f, "| %s | ±%.2f%% | %d | %.2f%% | %.2f%% | %.2f%% |\n",
                bench_family_name((bench_family)fam), nf->threshold_pct, nf->benchmarks,
                nf->median_abs_pct, nf->q95_abs_pct, nf->max_abs_pct);
    }
}

static bench_status ab_run(ab_opts *o, bench_error *e)
{
    bench_status st = BENCH_OK;
    char repo[PATH_MAX];
    repo_root(repo, sizeof repo);
    session ss;
    memset(&ss, 0, sizeof ss);
    ss.o = o;
    ss.log_fd = -1;
    ab_side sb = {.name = "base"}, sn = {.name = "new"};
    ss.side[0] = &sb;
    ss.side[1] = &sn;
    ss.seed = o->seed_set ? o->seed
                          : ((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull) ^ (uint64_t)getpid() ^
                                ((uint64_t)(now_s() * 1e9));
    session_id(ss.id, sizeof ss.id, ss.seed);
    if (o->out_dir)
        snprintf(ss.dir, sizeof ss.dir, "%s", o->out_dir);
    else
        snprintf(ss.dir, sizeof ss.dir, "%.3000s/results/tmp/ab/%.120s", repo, ss.id);
    char absprof[PATH_MAX], absmodel[PATH_MAX];
    if (strchr(o->profile, '/') && realpath(o->profile, absprof))
        o->profile = absprof;
    if (o->model && realpath(o->model, absmodel))
        o->model = absmodel;
    if ((st = mkdir_p(ss.dir, e)) != BENCH_OK)
        return st;
    char rounds_dir[PATH_MAX + 16];
    snprintf(rounds_dir, sizeof rounds_dir, "%s/rounds", ss.dir);
    if ((st = mkdir_p(rounds_dir, e)) != BENCH_OK)
        return st;
    char logp[PATH_MAX + 32];
    snprintf(logp, sizeof logp, "%s/workers.log", ss.dir);
    ss.log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (ss.log_fd < 0)
        return bench_fail(e, BENCH_ERR_IO, "%s: %s", logp, strerror(errno));
    ss.schedule = json_array();
    regex_t re;
    bool have_re = false;
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    double t_start = now_s();

    /* sides */
    if (o->variants) {
        char self[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
        if ((st = side_prepare(&sb, self, true, repo, ss.dir, NULL, e)) != BENCH_OK ||
            (st = side_prepare(&sn, self, true, repo, ss.dir, NULL, e)) != BENCH_OK)
            goto out;
        snprintf(sb.desc, sizeof sb.desc, "this build (%s), variant %s", self, o->var_a);
        snprintf(sn.desc, sizeof sn.desc, "this build (%s), variant %s", self, o->var_b);
    } else {
        if ((st = side_prepare(&sb, o->base_bin ? o->base_bin : o->base_spec, o->base_bin != NULL,
                               repo, ss.dir, NULL, e)) != BENCH_OK ||
            (st = side_prepare(&sn, o->new_bin ? o->new_bin : o->new_spec, o->new_bin != NULL,
                               repo, ss.dir, &sb, e)) != BENCH_OK)
            goto out;
    }
    for (int s = 0; s < 2; s++) {
        if (s == 1 && strcmp(sb.bin, sn.bin) == 0 && strcmp(sb.root, sn.root) == 0) {
            sn.cells = malloc((size_t)sb.ncells * sizeof *sn.cells);
            if (!sn.cells) {
                st = bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
                goto out;
            }
            for (int i = 0; i < sb.ncells; i++)
                sn.cells[sn.ncells++] = strdup(sb.cells[i]);
            break;
        }
        if (!side_serves(ss.side[s])) {
            st = bench_fail(e, BENCH_ERR_INPUT, "%s side (%s): its itera-bench has no `run "
                            "--serve`, which ab needs (the revision predates interleaved A/B); "
                            "compare from a revision that has it", ss.side[s]->name,
                            ss.side[s]->spec);
            goto out;
        }
        if ((st = side_list(o, ss.side[s], ss.log_fd, e)) != BENCH_OK)
            goto out;
    }
    if (o->filter) {
        int rc = regcomp(&re, o->filter, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            st = bench_fail(e, BENCH_ERR_INPUT, "--filter '%s': %s", o->filter, msg);
            goto out;
        }
        have_re = true;
    }
    ss.pairs = calloc((size_t)sb.ncells, sizeof *ss.pairs);
    if (!ss.pairs) {
        st = bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    int only_base = 0;
    for (int i = 0; i < sb.ncells; i++) {
        if (have_re && regexec(&re, sb.cells[i], 0, NULL, 0) != 0)
            continue;
        int j = find_counterpart(o, sb.cells[i], &sn);
        if (j < 0) {
            if (!o->variants)
                only_base++;
            continue;
        }
        ss.pairs[ss.npairs++] = (ab_pair){.bi = i, .ni = j};
    }
    if (ss.npairs == 0) {
        st = bench_fail(e, BENCH_ERR_INPUT, "no cell to measure: %s", o->variants
                        ? "no cell of the profile has that kernel/quant pair"
                        : have_re ? "--filter matched none of the cells both sides have"
                                  : "the two sides have no cell in common");
        goto out;
    }
    char seedtxt[32];
    snprintf(seedtxt, sizeof seedtxt, "0x%016llx", (unsigned long long)ss.seed);
    session_budget(&ss);
    fprintf(stderr, "ab: base: %s\nab: new:  %s\n", sb.desc, sn.desc);
    fprintf(stderr, "ab: platform %s, profile %s: %d cell%s, %d rounds (+ up to %d for "
            "contended pairs, + up to %d deciding), seed %s, session %s\nab: results in %s\n",
            o->platform, o->profile, ss.npairs, ss.npairs == 1 ? "" : "s", o->rounds,
            o->extra_rounds, o->record_noise ? 0 : o->decide_rounds, seedtxt, ss.id, ss.dir);
    if (o->decide_rounds > 0 && !o->record_noise) {
        if (ss.budget_s > 0)
            fprintf(stderr, "ab: time budget %g min (%s): no deciding round that would end "
                    "later\n", ss.budget_s / 60.0, ss.budget_from);
        else
            fprintf(stderr, "ab: no time budget (%s)\n", ss.budget_from);
    }
    if (only_base)
        fprintf(stderr, "ab: %d cell%s only on the base side (not measured)\n", only_base,
                only_base == 1 ? "" : "s");

    /* rounds, then extra rounds for pairs short of clean samples */
    bool *todo = malloc((size_t)ss.npairs * sizeof *todo);
    if (!todo) {
        st = bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int r = 0; r < o->rounds + o->extra_rounds; r++) {
        int n = 0;
        for (int p = 0; p < ss.npairs; p++) {
            todo[p] = r < o->rounds || ss.pairs[p].clean < o->rounds;
            n += todo[p];
        }
        if (n == 0)
            break;
        if (r >= o->rounds)
            fprintf(stderr, "ab: extra round %d: %d pair%s short of %d clean rounds\n",
                    r - o->rounds + 1, n, n == 1 ? "" : "s", o->rounds);
        st = run_round(&ss, r, todo, e);
        ss.rounds_run = r + 1;
        bench_error me;
        write_manifest(&ss, now_s() - t_start, &me);
        if (st != BENCH_OK)
            break;
    }
    free(todo);
    if (st != BENCH_OK)
        goto out;

    /* both sides' files, then deciding rounds for the undecided pairs (undecided()), then
     * the comparison */
    char bpath[PATH_MAX + 16], npath[PATH_MAX + 16], mdp[PATH_MAX + 16], jp[PATH_MAX + 16];
    snprintf(bpath, sizeof bpath, "%s/base.json", ss.dir);
    snprintf(npath, sizeof npath, "%s/new.json", ss.dir);
    snprintf(mdp, sizeof mdp, "%s/compare.md", ss.dir);
    snprintf(jp, sizeof jp, "%s/compare.json", ss.dir);
    st = merge_sides(&ss, seedtxt, bpath, npath, NULL, e);
    if (st == BENCH_OK && o->decide_rounds > 0 && !o->record_noise)
        st = deciding_rounds(&ss, seedtxt, bpath, npath, t_start, e);
    if (st != BENCH_OK)
        goto out;
    char dur[32];
    fmt_dur(now_s() - t_start, dur, sizeof dur);
    fprintf(stderr, "ab: measured in %s; %s and %s\n", dur, bpath, npath);
    write_manifest(&ss, now_s() - t_start, e);

    compare_opts co = o->cmp;
    co.base_path = bpath;
    co.new_path = npath;
    co.md_path = mdp;
    const char *user_json = co.json_path;
    co.json_path = jp;
    compare_result res;
    bench_status cst = compare_files(&co, &res, e);
    if (cst != BENCH_OK && cst != BENCH_ERR_FAILED) {
        st = cst;
        goto out;
    }
    if (user_json) {
        char *text = NULL;
        FILE *f = fopen(jp, "r");
        if (f) {
            fseek(f, 0, SEEK_END);
            long sz = ftell(f);
            rewind(f);
            text = sz > 0 ? malloc((size_t)sz) : NULL;
            if (text && fread(text, 1, (size_t)sz, f) == (size_t)sz) {
                itera_error ie;
                if (results_make_parent(user_json, NULL) != BENCH_OK ||
                    itera_write_file(user_json, text, (size_t)sz, &ie) != ITERA_OK)
                    fprintf(stderr, "ab: cannot write %s\n", user_json);
            }
            fclose(f);
        }
        free(text);
    }
    bool aa = !o->variants && strcmp(sb.bin, sn.bin) == 0;
    if (aa) {
        noise_table nt;
        memset(&nt, 0, sizeof nt);
        noise_from_aa(&res, &nt);
        printf("\nA/A (the same build on both sides): %d of %d benchmarks flagged (every flag "
               "is a false alarm). Per-family spread of the ratios:\n",
               res.counts[VERDICT_FASTER] + res.counts[VERDICT_SLOWER],
               res.n_rows - res.not_compared);
        print_noise(&nt, stdout);
        int measured = 0;
        for (int fam = 0; fam < BENCH_FAMILY_COUNT; fam++)
            measured += nt.fam[fam].have;
        if (o->record_noise && !measured) {
            compare_result_free(&res);
            st = bench_fail(e, BENCH_ERR_FAILED, "noise: no benchmark could be judged (every "
                            "one contended or failed), so there is nothing to record; run it "
                            "again when the machine is quiet");
            goto out;
        }
        if (o->record_noise) {
            gb_file bf;
            bench_error err;
            if (gb_file_load(bpath, &bf, &err) == BENCH_OK) {
                machine_info m;
                bool have_m = machine_from_context(bf.context, &m, NULL) == BENCH_OK;
                char tmp[256];
                snprintf(nt.machine, sizeof nt.machine, "%s", have_m ? m.name : "unknown");
                const char *pl = gb_ctx(&bf, CTX_PLATFORM, tmp, sizeof tmp);
                snprintf(nt.platform, sizeof nt.platform, "%s", pl ? pl : o->platform);
                const char *pr = gb_ctx(&bf, CTX_PROFILE, tmp, sizeof tmp);
                snprintf(nt.profile, sizeof nt.profile, "%s", pr ? pr : o->profile);
                const char *gi = gb_ctx(&bf, CTX_GIT, tmp, sizeof tmp);
                snprintf(nt.git, sizeof nt.git, "%s", gi ? gi : "");
                time_t t = time(NULL);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(nt.date, sizeof nt.date, "%Y-%m-%dT%H:%M:%SZ", &tm);
                int minr = INT_MAX;
                for (int p = 0; p < ss.npairs; p++)
                    if (ss.pairs[p].clean < minr)
                        minr = ss.pairs[p].clean;
                nt.rounds = o->rounds;
                char path[PATH_MAX];
                if (o->noise_out) {
                    snprintf(path, sizeof path, "%s", o->noise_out);
                } else {
                    char root[PATH_MAX];
                    runner_root(root, sizeof root);
                    noise_default_path(repo[0] ? repo : root, nt.machine, nt.platform, path,
                                       sizeof path);
                }
                bench_status ns = noise_write(path, &nt, have_m ? &m : NULL, e);
                gb_file_free(&bf);
                if (ns != BENCH_OK) {
                    compare_result_free(&res);
                    st = ns;
                    goto out;
                }
                printf("\nNoise thresholds written to %s (clean pairs per benchmark: at least "
                       "%d). compare and ab use them on this machine and platform.\n", path,
                       minr == INT_MAX ? 0 : minr);
            } else {
                fprintf(stderr, "ab: %s\n", err.msg);
            }
        }
    } else if (o->record_noise) {
        fprintf(stderr, "ab: --record-noise needs the same build on both sides (an A/A); "
                "nothing recorded\n");
    }
    compare_result_free(&res);
    fflush(stdout);
    fprintf(stderr, "ab: session %s: %s, %s, %s, %s\n", ss.id, bpath, npath, mdp, jp);
    st = cst;

out:
    if (have_re)
        regfree(&re);
    signal(SIGPIPE, old_pipe);
    if (ss.log_fd >= 0)
        close(ss.log_fd);
    json_decref(ss.schedule);
    side_rounds_free(&ss.merged[0]);
    side_rounds_free(&ss.merged[1]);
    free(ss.pairs);
    side_free(&sb);
    side_free(&sn);
    return st;
}

bench_status ab_cmd(int argc, char **argv, bench_error *e)
{
    ab_opts o;
    bool help;
    bench_status st = parse_ab(argc, argv, &o, &help, e);
    if (st != BENCH_OK)
        return st;
    if (help) {
        ab_usage(stdout);
        return BENCH_OK;
    }
    return ab_run(&o, e);
}

bench_status ab_cmd_variants(int argc, char **argv, bench_error *e)
{
    return ab_cmd(argc, argv, e);
}

bench_status noise_cmd(int argc, char **argv, bench_error *e)
{
    /* noise [opts] = ab --base-bin SELF --new-bin SELF --record-noise [FILE] [opts] */
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return bench_fail(e, BENCH_ERR_SYSTEM, "cannot find this program (/proc/self/exe)");
    self[len] = '\0';
    char **av = calloc((size_t)argc + 8, sizeof *av);
    if (!av)
        return bench_fail(e, BENCH_ERR_NOMEM, "out of memory");
    int n = 0;
    av[n++] = "noise";
    av[n++] = "--base-bin";
    av[n++] = self;
    av[n++] = "--new-bin";
    av[n++] = self;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            free(av);
            noise_usage(stdout);
            return BENCH_OK;
        }
        if (strcmp(a, "--base") == 0 || strcmp(a, "--new") == 0 || strncmp(a, "--base", 6) == 0 ||
            strncmp(a, "--new", 5) == 0 || strncmp(a, "--variants", 10) == 0) {
            free(av);
            return bench_fail(e, BENCH_ERR_INPUT, "noise measures this build against itself: "
                              "no %s (itera-bench ab compares two builds)", a);
        }
        if ((strcmp(a, "--out") == 0 && i + 1 < argc) || strncmp(a, "--out=", 6) == 0) {
            out = a[5] == '=' ? a + 6 : argv[++i];
            continue;
        }
        av[n++] = argv[i];
    }
    av[n++] = "--record-noise";
    if (out)
        av[n++] = (char *)out;
    av[n] = NULL;
    bench_status st = ab_cmd(n, av, e);
    free(av);
    return st;
}
