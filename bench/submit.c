/*
 * submit.c: `itera-bench submit`: a sweep as a Slurm job array of shards plus a merge job.
 * See submit.h.
 */
#include "submit.h"
#include "argopt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "itera.h"
#include "machine.h"
#include "merge.h"
#include "platform.h"
#include "profile.h"
#include "results.h"
#include "runner.h"
#include "schema.h"
#include "shard.h"

#define SWEEP_VERSION 1
#define ERRN 16384

/* ---- a growing text buffer ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->len + (size_t)k < b->cap) {
            b->len += (size_t)k;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* s, single-quoted for sh. */
static void sb_quote(sbuf *b, const char *s)
{
    sb_add(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            sb_add(b, "'\\''");
        else
            sb_add(b, "%c", *p);
    }
    sb_add(b, "'");
}

/* ---- the sweep ---- */

typedef struct sweep {
    /* what to run */
    char platform[PATH_MAX], profile[PATH_MAX], model[PATH_MAX];
    char machine[MACHINE_NAME_MAX + 1]; /* every shard's itera_machine, and the results folder */
    bool emulate;
    json_t *sets;        /* array of "key=value" */
    int shards;
    /* what to ask Slurm for */
    char partition[256], constraint[256], time_limit[64], account[256];
    json_t *sbatch_args; /* array of extra #SBATCH options */
    int cpus_per_task;   /* 0: the platform's */
    bool exclusive;
    bool hint_nomultithread;
    /* where */
    char dir[PATH_MAX], out[PATH_MAX], report[PATH_MAX], bin[PATH_MAX], root[PATH_MAX];
    /* resolved */
    platform pl;
    profile pr;
    bench_cell *cells;
    int ncells;
    char hash[SHARD_HASH_LEN];
} sweep;

static void sweep_free(sweep *s)
{
    json_decref(s->sets);
    json_decref(s->sbatch_args);
    free(s->cells);
    s->sets = s->sbatch_args = NULL;
    s->cells = NULL;
}

/* An absolute form of path (its folder need not exist yet). */
static void absolute(const char *path, char *out, size_t n)
{
    if (path[0] == '/') {
        snprintf(out, n, "%s", path);
        return;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    const char *p = path;
    while (strncmp(p, "./", 2) == 0)
        p += 2;
    snprintf(out, n, "%.2000s/%.2000s", cwd, p);
}

/* Paths go into #SBATCH lines and double-quoted shell words: keep them plain. */
static int check_path(const char *what, const char *path, char *err, size_t n)
{
    for (const char *p = path; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n' || strchr("\"'`$\\%;&|<>*?", *p)) {
            snprintf(err, n, "%s '%s': a sweep's paths may not contain spaces or any of "
                     "\"'`$\\%%;&|<>*? (they go into #SBATCH lines and shell words); pick "
                     "another folder", what, path);
            return -1;
        }
    return 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* platform/profile argument as the scripts will pass it: a name stays a name (found under
 * ROOT, where the jobs cd to), a path becomes absolute. */
static void data_arg(const char *given, char *out, size_t n)
{
    if (strchr(given, '/') || strstr(given, ".ini"))
        absolute(given, out, n);
    else
        snprintf(out, n, "%s", given);
}

/* Loads the platform, profile and cells; fills the defaults derived from them. */
static int sweep_resolve(sweep *s, char *err, size_t n)
{
    size_t ns = json_array_size(s->sets);
    const char **sets = calloc(ns + 1, sizeof *sets);
    if (!sets) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ns; i++)
        sets[i] = json_string_value(json_array_get(s->sets, i));
    bench_error be;
    bench_status st = shard_sweep_cells(s->platform, s->profile, sets, (int)ns, &s->pl, &s->pr,
                                        &s->cells, &s->ncells, &be);
    free(sets);
    if (st != BENCH_OK)
        return bench_fail_msg(err, n, "%s", be.msg);
    if (s->ncells == 0) {
        snprintf(err, n, "profile %s has no cells", s->pr.name);
        return -1;
    }
    shard_hash_cells(s->cells, s->ncells, s->hash);
    return 0;
}

/* ---- the scripts ---- */

static void sbatch_common(sbuf *b, const sweep *s)
{
    if (s->partition[0])
        sb_add(b, "#SBATCH --partition=%s\n", s->partition);
    if (s->account[0])
        sb_add(b, "#SBATCH --account=%s\n", s->account);
    if (s->time_limit[0])
        sb_add(b, "#SBATCH --time=%s\n", s->time_limit);
}

static void script_env(sbuf *b, const sweep *s)
{
    sb_add(b, "set -u\ncd ");
    sb_quote(b, s->root);
    sb_add(b, " || exit 1\nexport ITERA_BENCH_ROOT=");
    sb_quote(b, s->root);
    sb_add(b, "\n");
}

/* The job array's script. */
static char *array_script(const sweep *s)
{
    sbuf b = { 0 };
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    sb_add(&b, "#!/bin/sh\n");
    sb_add(&b, "# itera-bench sweep: platform %s x profile %s, %d cells in %d shards, one Slurm\n"
           "# array task per shard (task I runs shard I/%d: the cells whose index mod %d is I;\n"
           "# `itera-bench list --cells --profile %s --shards %d` lists them).\n",
           s->pl.name, s->pr.name, s->ncells, s->shards, s->shards, s->shards, s->pr.name,
           s->shards);
    sb_add(&b, "# Written by `itera-bench submit` on %s. Re-submit every shard with\n"
           "#   sbatch %s/sweep.sbatch\n"
           "# or some of them with `sbatch --array=1,3 %s/sweep.sbatch`, then the merge with\n"
           "#   sbatch --dependency=afterany:<array job id> %s/merge.sbatch\n"
           "# (`itera-bench submit --resume %s` does both for the shards with missing cells).\n",
           when, s->dir, s->dir, s->dir, s->dir);
    sb_add(&b, "#SBATCH --job-name=itera-%s-%s\n", s->pl.name, s->pr.name);
    sb_add(&b, "#SBATCH --array=0-%d\n", s->shards - 1);
    sb_add(&b, "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n");
    if (s->cpus_per_task > 0)
        sb_add(&b, "#SBATCH --cpus-per-task=%d\n", s->cpus_per_task);
    if (s->hint_nomultithread)
        sb_add(&b, "#SBATCH --hint=nomultithread\n");
    if (s->exclusive)
        sb_add(&b, "#SBATCH --exclusive\n");
    if (s->constraint[0])
        sb_add(&b, "#SBATCH --constraint=%s\n", s->constraint);
    sbatch_common(&b, s);
    size_t i;
    json_t *a;
    json_array_foreach(s->sbatch_args, i, a)
        sb_add(&b, "#SBATCH %s\n", json_string_value(a));
    sb_add(&b, "#SBATCH --output=%s/logs/shard-%%a.out\n#SBATCH --open-mode=append\n", s->dir);
    script_env(&b, s);
    sb_add(&b, "shard=${SLURM_ARRAY_TASK_ID:?runs as a Slurm array task: sbatch --array=0-%d "
           "this script}\n", s->shards - 1);
    sb_add(&b, "echo \"itera-bench shard $shard/%d: job ${SLURM_ARRAY_JOB_ID:-?}_$shard on "
           "$(hostname), $(date)\"\n", s->shards);
    sb_add(&b, "# --resume: a re-submitted or requeued task runs only the cells its journal "
           "lacks.\nexec ");
    sb_quote(&b, s->bin);
    sb_add(&b, " run --platform ");
    sb_quote(&b, s->platform);
    sb_add(&b, " --profile ");
    sb_quote(&b, s->profile);
    json_array_foreach(s->sets, i, a)
    {
        sb_add(&b, " --set ");
        sb_quote(&b, json_string_value(a));
    }
    if (s->model[0]) {
        sb_add(&b, " --model ");
        sb_quote(&b, s->model);
    }
    if (s->emulate)
        sb_add(&b, " --emulate");
    sb_add(&b, " --machine ");
    sb_quote(&b, s->machine);
    sb_add(&b, " \\\n    --shard \"$shard/%d\" --resume --out \"%s/shard-$shard.json\"\n",
           s->shards, s->dir);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* The merge job's script. */
static char *merge_script(const sweep *s)
{
    sbuf b = { 0 };
    sb_add(&b, "#!/bin/sh\n");
    sb_add(&b, "# itera-bench sweep merge: platform %s x profile %s. Runs after the array\n"
           "# (--dependency=afterany:<array>), merges the shard files there are into\n"
           "#   %s\n"
           "# records what is missing in %s/merge-status.json, and renders the report into\n"
           "#   %s\n"
           "# Exit 1 when cells are missing (`itera-bench submit --resume %s` runs them).\n",
           s->pl.name, s->pr.name, s->out, s->dir, s->report, s->dir);
    sb_add(&b, "#SBATCH --job-name=itera-%s-%s-merge\n", s->pl.name, s->pr.name);
    sb_add(&b, "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n");
    sbatch_common(&b, s);
    sb_add(&b, "#SBATCH --output=%s/logs/merge.out\n#SBATCH --open-mode=append\n", s->dir);
    script_env(&b, s);
    sb_add(&b, "dir=\"%s\"\n", s->dir);
    sb_add(&b, "echo \"itera-bench merge: job ${SLURM_JOB_ID:-?} on $(hostname), $(date)\"\n");
    sb_add(&b, "files=\"\"\ni=0\nwhile [ $i -lt %d ]; do\n"
           "    [ -f \"$dir/shard-$i.json\" ] && files=\"$files $dir/shard-$i.json\"\n"
           "    i=$((i + 1))\ndone\n", s->shards);
    sb_add(&b, "if [ -z \"$files\" ]; then\n"
           "    echo \"no shard wrote its results file (see $dir/logs/shard-*.out)\" >&2\n"
           "    printf '{\"complete\": false, \"shards\": %d, \"shards_given\": 0, "
           "\"missing_shards\": \"all\"}\\n' >\"$dir/merge-status.json\"\n"
           "    exit 1\nfi\n", s->shards);
    sb_add(&b, "# $files: unquoted on purpose (a list of plain paths)\n");
    sb_quote(&b, s->bin);
    sb_add(&b, " merge $files --out ");
    sb_quote(&b, s->out);
    sb_add(&b, " --status \"$dir/merge-status.json\"\nrc=$?\n");
    sb_add(&b, "if [ $rc -le 1 ]; then\n    ");
    sb_quote(&b, s->bin);
    sb_add(&b, " report ");
    sb_quote(&b, s->out);
    sb_add(&b, " -o ");
    sb_quote(&b, s->report);
    sb_add(&b, " || rc=1\nfi\nexit $rc\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- files ---- */

/* Writes text to path atomically (the engine's atomic write), its folders made first. */
static int write_text(const char *path, const char *text, char *err, size_t n)
{
    bench_error be;
    if (results_make_parent(path, &be) != BENCH_OK)
        return bench_fail_msg(err, n, "%s", be.msg);
    itera_error ie;
    if (itera_write_file(path, text, strlen(text), &ie) != ITERA_OK) {
        snprintf(err, n, "%s", ie.msg);
        return -1;
    }
    return 0;
}

static json_t *sweep_json(const sweep *s)
{
    json_t *j = json_pack("{s:i, s:s, s:s, s:O, s:b, s:i, s:i, s:s}", "itera_sweep", SWEEP_VERSION,
                          "platform", s->platform, "profile", s->profile, "sets", s->sets,
                          "emulate", s->emulate, "shards", s->shards, "cells", s->ncells,
                          "cell_list_hash", s->hash);
    json_object_set_new(j, "model", s->model[0] ? json_string(s->model) : json_null());
    json_object_set_new(j, "machine", json_string(s->machine));
    json_object_set_new(j, "dir", json_string(s->dir));
    json_object_set_new(j, "out", json_string(s->out));
    json_object_set_new(j, "report", json_string(s->report));
    json_object_set_new(j, "bin", json_string(s->bin));
    json_object_set_new(j, "root", json_string(s->root));
    json_t *sb = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:O}", "partition", s->partition,
                           "constraint", s->constraint, "time", s->time_limit, "account",
                           s->account, "cpus_per_task", s->cpus_per_task, "exclusive",
                           s->exclusive, "hint_nomultithread", s->hint_nomultithread, "args",
                           s->sbatch_args);
    json_object_set_new(j, "sbatch", sb);
    json_object_set_new(j, "submissions", json_array());
    return j;
}

static int sweep_from_json(const json_t *j, const char *path, sweep *s, char *err, size_t n)
{
    memset(s, 0, sizeof *s);
    const char *keys[] = { "platform", "profile", "dir", "out", "report", "bin", "root" };
    char *dst[] = { s->platform, s->profile, s->dir, s->out, s->report, s->bin, s->root };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_string_value(json_object_get(j, keys[i]));
        if (!v) {
            snprintf(err, n, "%s: key '%s' missing or not a string (not a sweep written by "
                     "itera-bench submit?)", path, keys[i]);
            return -1;
        }
        snprintf(dst[i], PATH_MAX, "%s", v);
    }
    if (json_integer_value(json_object_get(j, "itera_sweep")) != SWEEP_VERSION) {
        snprintf(err, n, "%s: itera_sweep is not %d (written by another version)", path,
                 SWEEP_VERSION);
        return -1;
    }
    json_int_t k = json_integer_value(json_object_get(j, "shards"));
    if (k < 1 || k > SHARD_MAX) {
        snprintf(err, n, "%s: shards must be 1..%d", path, SHARD_MAX);
        return -1;
    }
    s->shards = (int)k;
    const char *m = json_string_value(json_object_get(j, "model"));
    snprintf(s->model, sizeof s->model, "%s", m ? m : "");
    const char *mn = json_string_value(json_object_get(j, "machine"));
    snprintf(s->machine, sizeof s->machine, "%s", mn ? mn : "");
    s->emulate = json_is_true(json_object_get(j, "emulate"));
    s->sets = json_deep_copy(json_object_get(j, "sets"));
    if (!json_is_array(s->sets)) {
        json_decref(s->sets);
        s->sets = json_array();
    }
    json_t *sb = json_object_get(j, "sbatch");
    s->sbatch_args = json_deep_copy(json_object_get(sb, "args"));
    if (!json_is_array(s->sbatch_args)) {
        json_decref(s->sbatch_args);
        s->sbatch_args = json_array();
    }
    return 0;
}

/* ---- running Slurm's commands ---- */

/* Runs argv, its stdout into out[n] (trimmed), its stderr to ours (or discarded when
 * quiet). Returns the exit status, or -1 when it could not be started (errno kept). */
static int run_capture(char *const argv[], char *out, size_t n, bool quiet)
{
    int fd[2];
    out[0] = '\0';
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        if (quiet) {
            int nul = open("/dev/null", O_WRONLY);
            if (nul >= 0)
                dup2(nul, STDERR_FILENO);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    for (;;) {
        char tmp[512];
        ssize_t r = read(fd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r && len + 1 < n; i++)
            out[len++] = tmp[i];
    }
    out[len] = '\0';
    close(fd[0]);
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
        out[--len] = '\0';
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(st))
        return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (WEXITSTATUS(st) == 127) { /* the exec failed: not found (or not runnable) */
        errno = ENOENT;
        return -1;
    }
    return WEXITSTATUS(st);
}

/* sbatch --parsable [extra...] script; the job id into id[n]. */
static int sbatch(const char *script, const char *extra1, const char *extra2, char *id,
                  size_t n, char *err, size_t errn)
{
    char *argv[6];
    int k = 0;
    argv[k++] = (char *)"sbatch";
    argv[k++] = (char *)"--parsable";
    if (extra1)
        argv[k++] = (char *)extra1;
    if (extra2)
        argv[k++] = (char *)extra2;
    argv[k++] = (char *)script;
    argv[k] = NULL;
    char out[256];
    int rc = run_capture(argv, out, sizeof out, false);
    if (rc < 0) {
        snprintf(err, errn, "cannot run sbatch (%s): is Slurm installed (Debian slurm-client; "
                 "sh scripts/deps.sh slurm)?", strerror(errno));
        return -1;
    }
    char *semi = strchr(out, ';'); /* "id;cluster" */
    if (semi)
        *semi = '\0';
    char *end;
    long v = strtol(out, &end, 10);
    if (rc != 0 || end == out || *end || v <= 0) {
        snprintf(err, errn, "sbatch %s%s%s%s%s failed (exit %d%s%s)%s", extra1 ? extra1 : "",
                 extra1 ? " " : "", extra2 ? extra2 : "", extra2 ? " " : "", script, rc,
                 out[0] ? ", said: " : "", out,
                 getenv("SLURM_CONF") ? ""
                 : is_file("/etc/slurm/slurm.conf")
                     ? ""
                     : "; no Slurm configuration (SLURM_CONF unset, no /etc/slurm/slurm.conf): "
                       "for the local test cluster, eval \"$(sh scripts/slurm-local.sh env)\"");
        return -1;
    }
    snprintf(id, n, "%ld", v);
    return 0;
}

/* Whether the cluster keeps accounting (else sacct reads the job-completion log: -c). */
static bool accounting_enabled(void)
{
    char *argv[] = { (char *)"scontrol", (char *)"show", (char *)"config", NULL };
    size_t n = 1 << 16;
    char *out = malloc(n);
    if (!out || run_capture(argv, out, n, true) != 0) {
        free(out);
        return true;
    }
    /* "AccountingStorageType   = accounting_storage/none" */
    const char *p = strstr(out, "AccountingStorageType");
    const char *eq = p ? strchr(p, '=') : NULL;
    bool none = eq && strncmp(eq + 1 + strspn(eq + 1, " "), "accounting_storage/none", 23) == 0;
    free(out);
    return !none;
}

/* Whether Slurm still knows job id as pending or running. */
static bool job_queued(const char *id)
{
    char *argv[] = { (char *)"squeue", (char *)"-h", (char *)"-j", (char *)id, (char *)"-o",
                     (char *)"%T", NULL };
    char out[4096];
    int rc = run_capture(argv, out, sizeof out, true);
    return rc == 0 && out[0] != '\0';
}

/* ---- printing ---- */

static void print_follow(const sweep *s, const char *array_id, const char *merge_id,
                         const char *tasks)
{
    printf("itera-bench submit: platform %s, profile %s: %d cells in %d shards\n", s->pl.name,
           s->pr.name, s->ncells, s->shards);
    printf("  array job: %s (tasks %s)\n", array_id, tasks);
    printf("  merge job: %s (after the array ends: --dependency=afterany:%s)\n", merge_id,
           array_id);
    printf("scripts: %s/sweep.sbatch, %s/merge.sbatch\n", s->dir, s->dir);
    printf("follow:  squeue -j %s,%s\n", array_id, merge_id);
    if (accounting_enabled())
        printf("         sacct -j %s,%s --format=JobID,JobName%%28,State,Elapsed,NodeList,"
               "AllocCPUS,ExitCode\n", array_id, merge_id);
    else
        printf("         sacct -c --format=JobID,JobName%%28,State,Elapsed,NodeList,ExitCode\n"
               "         (no accounting storage here: -c reads the job-completion log, where "
               "array tasks have their own job ids)\n");
    printf("results: shards %s/shard-<I>.json, logs %s/logs/\n", s->dir, s->dir);
    printf("         merged %s, report %s/README.md, status %s/merge-status.json\n", s->out,
           s->report, s->dir);
    printf("resume:  itera-bench submit --resume %s   (re-submits only shards with missing "
           "cells)\n", s->dir);
    fflush(stdout);
}

static void print_shards(const sweep *s)
{
    for (int i = 0; i < s->shards; i++) {
        shard_spec sp = { i, s->shards };
        printf("shard %d/%d: %d cells\n", i, s->shards, shard_size(&sp, s->ncells));
        for (int k = i; k < s->ncells; k += s->shards)
            printf("  %d\t%s\n", k, s->cells[k].name);
    }
}

/* ---- submitting ---- */

/* Appends a submission record to DIR/sweep.json. */
static int record_submission(const sweep *s, json_t *sj, const char *tasks, const char *array_id,
                             const char *merge_id, char *err, size_t n)
{
    char when[64], path[PATH_MAX + 16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    json_t *subs = json_object_get(sj, "submissions");
    if (!json_is_array(subs)) {
        subs = json_array();
        json_object_set_new(sj, "submissions", subs);
    }
    json_array_append_new(subs, json_pack("{s:s, s:s, s:s, s:s}", "date", when, "tasks", tasks,
                                          "array_job", array_id, "merge_job",
                                          merge_id ? merge_id : ""));
    snprintf(path, sizeof path, "%s/sweep.json", s->dir);
    bench_error be;
    if (results_write_atomic(path, sj, &be) != BENCH_OK)
        return bench_fail_msg(err, n, "%s", be.msg);
    return 0;
}

/* Submits the array (tasks "0-3" or "1,3") and the merge after it. */
static int submit_jobs(const sweep *s, json_t *sj, const char *tasks, bool all_tasks)
{
    char err[ERRN], array_id[64], merge_id[64], script[PATH_MAX + 32], dep[128],
        arr[SHARD_MAX * 6 + 16];
    snprintf(script, sizeof script, "%s/sweep.sbatch", s->dir);
    snprintf(arr, sizeof arr, "--array=%s", tasks);
    if (sbatch(script, all_tasks ? NULL : arr, NULL, array_id, sizeof array_id, err,
               sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit: %s\n", err);
        return 1;
    }
    snprintf(script, sizeof script, "%s/merge.sbatch", s->dir);
    snprintf(dep, sizeof dep, "--dependency=afterany:%s", array_id);
    if (sbatch(script, dep, NULL, merge_id, sizeof merge_id, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit: array job %s is submitted, but the merge job is "
                "not: %s\nitera-bench submit: submit it by hand: sbatch %s %s\n", array_id, err,
                dep, script);
        record_submission(s, sj, tasks, array_id, NULL, err, sizeof err);
        return 1;
    }
    if (record_submission(s, sj, tasks, array_id, merge_id, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit: jobs %s and %s are submitted, but: %s\n", array_id,
                merge_id, err);
        print_follow(s, array_id, merge_id, tasks);
        return 1;
    }
    print_follow(s, array_id, merge_id, tasks);
    return 0;
}

static void submit_usage(FILE *f)
{
    fputs("usage: itera-bench submit [--platform P] [--profile X] [--shards N] [--set K=V]...\n"
          "                          [--model DIR] [--emulate] [--partition Q] [--constraint C]\n"
          "                          [--time T] [--account A] [--cpus-per-task C] [--exclusive]\n"
          "                          [--sbatch-arg ARG]... [--dir DIR] [--out FILE] [--dry-run]\n"
          "       itera-bench submit --resume DIR [--dry-run]\n"
          "\n"
          "Runs a sweep (platform P, default embedded; profile X, default default) on a Slurm\n"
          "cluster: writes DIR/sweep.sbatch, a job array of N tasks (default 4, at most the cell\n"
          "count) where task I runs `itera-bench run --shard I/N`, and DIR/merge.sbatch, a job\n"
          "that runs after the whole array (--dependency=afterany), merges the shards into FILE,\n"
          "records the missing ones in DIR/merge-status.json and renders FILE's report into\n"
          "DIR/report/. Submits both with sbatch and prints their job ids and the squeue / sacct\n"
          "commands to follow them.\n"
          "\n"
          "Each task asks for the platform's cores: --cpus-per-task=<cores> (override with\n"
          "--cpus-per-task), --hint=nomultithread when the platform binds one worker per\n"
          "physical core, --exclusive when it takes every core of a node (platform host) or\n"
          "when asked. Inside the task the run binds its workers to the CPUs Slurm gave it and\n"
          "refuses (exit 2) an allocation smaller than the platform.\n"
          "\n"
          "  --shards N        array tasks (shards), 1..cells\n"
          "  --set K=V, --model DIR, --emulate, --machine NAME   passed to every `run`\n"
          "  --partition, --constraint, --time, --account   the sbatch options of that name\n"
          "  --sbatch-arg ARG  one more #SBATCH line for the array, e.g. --sbatch-arg=--mem=4G\n"
          "  --dir DIR         the sweep folder (default results/<machine>/<platform>/slurm/<profile>)\n"
          "  --out FILE        the merged results (default results/<machine>/<platform>/<profile>.json)\n"
          "  --machine NAME    every shard's machine name and the results folder (default\n"
          "                    ITERA_MACHINE, else derived from this host's CPU: give it when the\n"
          "                    nodes are not like the machine you submit from)\n"
          "  --dry-run         print the scripts, the sbatch commands and each shard's cells;\n"
          "                    write and submit nothing\n"
          "  --resume DIR      re-submit only the shards of that sweep with missing cells (each\n"
          "                    resumes from its journal) and a new merge job after them\n"
          "\n"
          "Exit: 0 submitted; 1 sbatch failed or the sweep is still queued; 2 bad usage/input.\n",
          f);
}

static int parse_count(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long k = strtol(v, &end, 10);
    if (end == v || *end || k < lo || k > hi) {
        fprintf(stderr, "itera-bench submit: %s '%s': expected an integer in %d..%d\n", flag, v,
                lo, hi);
        return -1;
    }
    *out = (int)k;
    return 0;
}

/* Shards of s with missing cells, as an sbatch --array list ("1,3") into out; how many
 * (-1 on bad input, message printed). */
static int missing_shards(const sweep *s, char *out, size_t n, bool *all_missing)
{
    const char **files = calloc((size_t)s->shards, sizeof *files);
    char(*paths)[PATH_MAX + 32] = calloc((size_t)s->shards, sizeof *paths);
    bool *miss = calloc((size_t)s->shards, sizeof *miss);
    int nf = 0, k = 0;
    out[0] = '\0';
    if (!files || !paths || !miss) {
        free(files);
        free(paths);
        free(miss);
        fprintf(stderr, "itera-bench submit: out of memory\n");
        return -1;
    }
    for (int i = 0; i < s->shards; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/shard-%d.json", s->dir, i);
        if (is_file(paths[i]))
            files[nf++] = paths[i];
        else
            miss[i] = true;
    }
    if (nf > 0) {
        json_t *root = NULL;
        merge_summary sum;
        bench_error err;
        if (merge_shards(files, nf, true, NULL, &root, &sum, &err) != BENCH_OK) {
            fprintf(stderr, "itera-bench submit --resume: %s\n", err.msg);
            free(files);
            free(paths);
            free(miss);
            return -1;
        }
        json_decref(root);
        size_t j;
        json_t *m;
        json_array_foreach(sum.missing, j, m)
        {
            int sh = (int)json_integer_value(json_object_get(m, "shard"));
            if (sh >= 0 && sh < s->shards)
                miss[sh] = true;
        }
        merge_summary_free(&sum);
    }
    size_t len = 0;
    for (int i = 0; i < s->shards; i++)
        if (miss[i]) {
            if (len < n)
                len += (size_t)snprintf(out + len, n - len, "%s%d", k ? "," : "", i);
            k++;
        }
    *all_missing = k == s->shards;
    free(files);
    free(paths);
    free(miss);
    return k;
}

static int resume_sweep(const char *dir_arg, bool dry_run)
{
    char dir[PATH_MAX], path[PATH_MAX + 16], err[ERRN];
    absolute(dir_arg, dir, sizeof dir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    json_error_t je;
    json_t *sj = json_load_file(path, 0, &je);
    if (!sj) {
        fprintf(stderr, "itera-bench submit --resume: %s: %s\n", path,
                is_file(path) ? je.text : "no such file (not a sweep folder written by "
                                          "itera-bench submit)");
        return 2;
    }
    sweep s;
    int rc = 2;
    if (sweep_from_json(sj, path, &s, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit --resume: %s\n", err);
        goto out;
    }
    if (strcmp(s.dir, dir) != 0) {
        fprintf(stderr, "itera-bench submit --resume: %s belongs to the sweep folder %s (the "
                "scripts name that folder); resume it there\n", path, s.dir);
        goto out;
    }
    if (sweep_resolve(&s, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit --resume: %s\n", err);
        goto out;
    }
    const char *was = json_string_value(json_object_get(sj, "cell_list_hash"));
    if (!was || strcmp(s.hash, was) != 0) {
        fprintf(stderr, "itera-bench submit --resume: the cells of platform %s x profile %s "
                "are not those of the submitted sweep (cell list %s, submitted %s): the profile "
                "or platform file changed; restore it, or submit a new sweep\n", s.pl.name,
                s.pr.name, s.hash, was ? was : "(none)");
        goto out;
    }
    /* Still queued? */
    json_t *subs = json_object_get(sj, "submissions");
    json_t *last = json_array_get(subs, json_array_size(subs) - 1);
    const char *ids[2] = { json_string_value(json_object_get(last, "array_job")),
                           json_string_value(json_object_get(last, "merge_job")) };
    for (int i = 0; i < 2; i++)
        if (ids[i] && ids[i][0] && job_queued(ids[i])) {
            fprintf(stderr, "itera-bench submit --resume: job %s of this sweep is still queued "
                    "or running (squeue -j %s); wait for it, or cancel it (scancel %s) first\n",
                    ids[i], ids[i], ids[i]);
            rc = 1;
            goto out;
        }
    char tasks[SHARD_MAX * 6 + 16];
    bool all = false;
    int k = missing_shards(&s, tasks, sizeof tasks, &all);
    if (k < 0)
        goto out;
    if (k == 0) {
        printf("itera-bench submit --resume: every shard of %s is complete (%d cells)\n", dir,
               s.ncells);
        if (!dry_run) {
            /* The merge may not have run, or ran before the last shard came in. */
            json_error_t e2;
            json_t *m = json_load_file(s.out, 0, &e2);
            const char *mc = m ? json_string_value(json_object_get(json_object_get(m, RES_CONTEXT),
                                                                   CTX_MISSING_CELLS))
                               : NULL;
            bool merged = mc && strcmp(mc, "0") == 0;
            json_decref(m);
            if (!merged) {
                char id[64], script[PATH_MAX + 32];
                snprintf(script, sizeof script, "%s/merge.sbatch", s.dir);
                if (sbatch(script, NULL, NULL, id, sizeof id, err, sizeof err) != 0) {
                    fprintf(stderr, "itera-bench submit --resume: %s\n", err);
                    rc = 1;
                    goto out;
                }
                printf("  %s is not complete: merge job %s submitted\n", s.out, id);
            } else {
                printf("  merged: %s\n", s.out);
            }
        }
        rc = 0;
        goto out;
    }
    printf("itera-bench submit --resume: %d of %d shards have missing cells: %s\n", k, s.shards,
           tasks);
    if (dry_run) {
        printf("would run: sbatch --parsable --array=%s %s/sweep.sbatch\n", tasks, s.dir);
        printf("           sbatch --parsable --dependency=afterany:<array> %s/merge.sbatch\n",
               s.dir);
        rc = 0;
        goto out;
    }
    rc = submit_jobs(&s, sj, tasks, false);
out:
    sweep_free(&s);
    json_decref(sj);
    return rc;
}

static int submit_cmd(int argc, char **argv)
{
    sweep s;
    memset(&s, 0, sizeof s);
    s.sets = json_array();
    s.sbatch_args = json_array();
    const char *platform_arg = "embedded", *profile_arg = "default", *dir_arg = NULL,
               *out_arg = NULL, *resume = NULL, *v = NULL, *machine_arg = NULL;
    bool dry_run = false, force_exclusive = false, other_opts = false;
    int shards = 4, rc = 2;
    bool shards_given = false;
    char err[ERRN];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            submit_usage(stdout);
            rc = 0;
            goto out;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry_run = true;
        } else if (strcmp(a, "--emulate") == 0) {
            s.emulate = other_opts = true;
        } else if (strcmp(a, "--exclusive") == 0) {
            force_exclusive = other_opts = true;
        } else if (argopt_value(argc, argv, &i, "--platform", &v) || argopt_value(argc, argv, &i, "--profile", &v) ||
                   argopt_value(argc, argv, &i, "--shards", &v) || argopt_value(argc, argv, &i, "--set", &v) ||
                   argopt_value(argc, argv, &i, "--model", &v) || argopt_value(argc, argv, &i, "--partition", &v) ||
                   argopt_value(argc, argv, &i, "--machine", &v) ||
                   argopt_value(argc, argv, &i, "--constraint", &v) || argopt_value(argc, argv, &i, "--time", &v) ||
                   argopt_value(argc, argv, &i, "--account", &v) ||
                   argopt_value(argc, argv, &i, "--cpus-per-task", &v) ||
                   argopt_value(argc, argv, &i, "--sbatch-arg", &v) || argopt_value(argc, argv, &i, "--dir", &v) ||
                   argopt_value(argc, argv, &i, "--out", &v) || argopt_value(argc, argv, &i, "--resume", &v)) {
            if (!v || !*v) {
                fprintf(stderr, "itera-bench submit: %s needs a value (see itera-bench submit "
                        "--help)\n", a);
                goto out;
            }
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(a, "="), a);
            if (strcmp(name, "--resume") == 0) {
                resume = v;
                continue;
            }
            other_opts = true;
            if (strcmp(name, "--platform") == 0) {
                platform_arg = v;
            } else if (strcmp(name, "--profile") == 0) {
                profile_arg = v;
            } else if (strcmp(name, "--shards") == 0) {
                if (parse_count(name, v, 1, SHARD_MAX, &shards) != 0)
                    goto out;
                shards_given = true;
            } else if (strcmp(name, "--set") == 0) {
                json_array_append_new(s.sets, json_string(v));
            } else if (strcmp(name, "--model") == 0) {
                absolute(v, s.model, sizeof s.model);
            } else if (strcmp(name, "--machine") == 0) {
                machine_arg = v;
            } else if (strcmp(name, "--partition") == 0) {
                snprintf(s.partition, sizeof s.partition, "%s", v);
            } else if (strcmp(name, "--constraint") == 0) {
                snprintf(s.constraint, sizeof s.constraint, "%s", v);
            } else if (strcmp(name, "--time") == 0) {
                snprintf(s.time_limit, sizeof s.time_limit, "%s", v);
            } else if (strcmp(name, "--account") == 0) {
                snprintf(s.account, sizeof s.account, "%s", v);
            } else if (strcmp(name, "--cpus-per-task") == 0) {
                if (parse_count(name, v, 1, PLATFORM_MAX_CORES, &s.cpus_per_task) != 0)
                    goto out;
            } else if (strcmp(name, "--sbatch-arg") == 0) {
                if (strchr(v, '\n')) {
                    fprintf(stderr, "itera-bench submit: --sbatch-arg: one option per flag, "
                            "without newlines\n");
                    goto out;
                }
                json_array_append_new(s.sbatch_args, json_string(v));
            } else if (strcmp(name, "--dir") == 0) {
                dir_arg = v;
            } else {
                out_arg = v;
            }
        } else {
            fprintf(stderr, "itera-bench submit: unknown argument '%s' (see itera-bench submit "
                    "--help)\n", a);
            goto out;
        }
    }
    if (resume) {
        if (other_opts) {
            fprintf(stderr, "itera-bench submit: --resume DIR takes the sweep's own options "
                    "(DIR/sweep.json); only --dry-run goes with it\n");
            goto out;
        }
        rc = resume_sweep(resume, dry_run);
        goto out;
    }

    /* What to run. */
    data_arg(platform_arg, s.platform, sizeof s.platform);
    data_arg(profile_arg, s.profile, sizeof s.profile);
    if (sweep_resolve(&s, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit: %s\n", err);
        goto out;
    }
    if (!shards_given && shards > s.ncells)
        shards = s.ncells;
    if (shards > s.ncells) {
        fprintf(stderr, "itera-bench submit: --shards %d is more than the %d cells of profile "
                "%s on platform %s; use at most %d\n", shards, s.ncells, s.pr.name, s.pl.name,
                s.ncells);
        goto out;
    }
    s.shards = shards;

    /* What to ask for: the platform's cores, one worker per physical core. */
    bool whole_node = false; /* a platform of "every core" (cores = 0): whole nodes */
    char p2[PATH_MAX];
    platform raw;
    bench_error raw_err;
    if (platform_load(s.pl.path, &raw, &raw_err) == BENCH_OK)
        whole_node = raw.cores == 0;
    s.exclusive = whole_node || force_exclusive;
    if (!s.cpus_per_task && !whole_node)
        s.cpus_per_task = s.pl.binding == PIN_BIND_PU ? s.pl.threads : s.pl.cores;
    s.hint_nomultithread = s.pl.binding == PIN_BIND_CORE;

    /* Where: results/<machine>/<platform>/... (rstore.h), the machine named as every shard
     * will be: --machine, else ITERA_MACHINE, else derived from this (the submitting)
     * host's CPU. */
    {
        machine_info mi;
        bench_error be;
        if (machine_read(NULL, itera_isa_name(itera_isa_best()), &mi, &be) != BENCH_OK ||
            machine_choose_name(&mi, machine_arg, &be) != BENCH_OK) {
            fprintf(stderr, "itera-bench submit: %s\n", be.msg);
            goto out;
        }
        snprintf(s.machine, sizeof s.machine, "%s", mi.name);
    }
    runner_root(p2, sizeof p2);
    if (!realpath(p2, s.root))
        absolute(p2, s.root, sizeof s.root);
    ssize_t el = readlink("/proc/self/exe", s.bin, sizeof s.bin - 1);
    s.bin[el > 0 ? el : 0] = '\0';
    if (dir_arg)
        absolute(dir_arg, s.dir, sizeof s.dir);
    else
        snprintf(s.dir, sizeof s.dir, "%.2000s/results/%.64s/%.200s/slurm/%.200s", s.root,
                 s.machine, s.pl.name, s.pr.name);
    size_t dl = strlen(s.dir);
    while (dl > 1 && s.dir[dl - 1] == '/')
        s.dir[--dl] = '\0';
    if (out_arg)
        absolute(out_arg, s.out, sizeof s.out);
    else
        snprintf(s.out, sizeof s.out, "%.2000s/results/%.64s/%.200s/%.200s.json", s.root,
                 s.machine, s.pl.name, s.pr.name);
    snprintf(s.report, sizeof s.report, "%.4000s/report", s.dir);
    if (check_path("--dir", s.dir, err, sizeof err) != 0 ||
        check_path("--out", s.out, err, sizeof err) != 0 ||
        check_path("the repository", s.root, err, sizeof err) != 0 ||
        check_path("the itera-bench binary", s.bin, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench submit: %s\n", err);
        goto out;
    }

    char *arr = array_script(&s), *mrg = merge_script(&s);
    if (!arr || !mrg) {
        fprintf(stderr, "itera-bench submit: out of memory\n");
        free(arr);
        free(mrg);
        goto out;
    }
    if (dry_run) {
        printf("# ---- %s/sweep.sbatch ----\n%s", s.dir, arr);
        printf("# ---- %s/merge.sbatch ----\n%s", s.dir, mrg);
        printf("# ---- would run ----\nsbatch --parsable %s/sweep.sbatch\n"
               "sbatch --parsable --dependency=afterany:<array job id> %s/merge.sbatch\n",
               s.dir, s.dir);
        printf("# ---- %d cells of platform %s x profile %s (cell list %s) in %d shards ----\n",
               s.ncells, s.pl.name, s.pr.name, s.hash, s.shards);
        print_shards(&s);
        free(arr);
        free(mrg);
        rc = 0;
        goto out;
    }

    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/sweep.json", s.dir);
    if (is_file(path)) {
        fprintf(stderr, "itera-bench submit: %s already holds a submitted sweep (%s): continue "
                "it with `itera-bench submit --resume %s`, or give another --dir, or remove "
                "the folder\n", s.dir, path, s.dir);
        free(arr);
        free(mrg);
        goto out;
    }
    json_t *sj = sweep_json(&s);
    snprintf(path, sizeof path, "%s/logs/.keep", s.dir);
    bench_error be;
    int wrc = 0;
    if (results_make_parent(path, &be) != BENCH_OK)
        wrc = bench_fail_msg(err, sizeof err, "%s", be.msg);
    if (wrc == 0) {
        snprintf(path, sizeof path, "%s/sweep.sbatch", s.dir);
        wrc = write_text(path, arr, err, sizeof err);
    }
    if (wrc == 0) {
        snprintf(path, sizeof path, "%s/merge.sbatch", s.dir);
        wrc = write_text(path, mrg, err, sizeof err);
    }
    free(arr);
    free(mrg);
    if (wrc != 0) {
        fprintf(stderr, "itera-bench submit: %s\n", err);
        json_decref(sj);
        rc = 1;
        goto out;
    }
    char tasks[32];
    snprintf(tasks, sizeof tasks, "0-%d", s.shards - 1);
    rc = submit_jobs(&s, sj, tasks, true);
    json_decref(sj);
out:
    sweep_free(&s);
    return rc;
}

bench_status submit_main(int argc, char **argv)
{
    int rc = submit_cmd(argc, argv); /* 0 done, 1 Slurm refused or still queued, 2 bad input */
    return rc == 0 ? BENCH_OK : rc == 2 ? BENCH_ERR_INPUT : BENCH_ERR_FAILED;
}
