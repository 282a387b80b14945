/*
 * runner.c: the sweep. Platform + profile -> cells -> Google Benchmark through the shim,
 * each finished cell journaled, the final GB JSON written atomically; --resume runs only
 * what the journal lacks. See runner.h.
 */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "counters.h"
#include "cpu.h"
#include "families.h"
#include "gbench.h"
#include "itera.h"
#include "peak.h"
#include "pin.h"
#include "platform.h"
#include "profile.h"
#include "results.h"
#include "shard.h"

#ifndef ITERA_BUILD_FLAGS
#define ITERA_BUILD_FLAGS "unknown (not passed by the build)"
#endif

#define ERRN 1024

/* The state of one sweep, shared with the GB callbacks. */
typedef struct runner {
    const platform *pl;
    const profile *pr;
    bench_cell *cells;
    int ncells;
    fam_cell *fc;          /* one per cell */
    bool *todo;            /* cell still to run in this session */
    json_t **pending;      /* runs reported for a cell, not yet journaled (NULL: none) */
    bool *journaled;
    json_t *done;          /* name -> journal entry, every finished cell */
    journal *jr;
    int last_reported;     /* cell whose runs came last, -1 */
    fam_cell *active;      /* cell whose engine state is alive */
    int done_before;       /* cells finished by an earlier run (resume) */
    int started, finished; /* in this session */
    int total_todo;
    double t0;
    bool emulated;
    bool journal_failed;
    char err[ERRN];
} runner;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_dur(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

void runner_root(char *out, size_t n)
{
    char dir[PATH_MAX];
    if (bench_data_dir("platforms", dir, sizeof dir) == 0) {
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, n, "%s", dir);
            return;
        }
    }
    snprintf(out, n, ".");
}

/* ---- journal flushing (GB callbacks) ---- */

static void flush_cell(runner *r, int i)
{
    if (!r->pending[i])
        return;
    fam_cell *fc = &r->fc[i];
    json_t *entry = results_cell_entry(r->cells[i].name, r->pending[i], fc->op_profile);
    json_decref(r->pending[i]);
    r->pending[i] = NULL;
    if (r->journaled[i]) {
        fprintf(stderr, "itera-bench: warning: more results for %s after it was journaled "
                "(ignored)\n", r->cells[i].name);
        json_decref(entry);
        return;
    }
    if (journal_append(r->jr, entry, r->err, sizeof r->err) != 0) {
        if (!r->journal_failed)
            fprintf(stderr, "itera-bench: %s\n", r->err);
        r->journal_failed = true;
    }
    json_object_set_new(r->done, r->cells[i].name, entry);
    r->journaled[i] = true;
    r->finished++;
}

static void flush_all(runner *r)
{
    for (int i = 0; i < r->ncells; i++)
        flush_cell(r, i);
}

/* The cell a GB run belongs to: its name is the cell's name, maybe followed by GB's own
 * "/..." parts (real_time, repeats:N, min_time:X). */
static int find_cell(const runner *r, const char *run_name, int hint)
{
    for (int k = -1; k < r->ncells; k++) {
        int i = k < 0 ? hint : k;
        if (i < 0)
            continue;
        size_t len = strlen(r->cells[i].name);
        if (strncmp(run_name, r->cells[i].name, len) == 0 &&
            (run_name[len] == '\0' || run_name[len] == '/'))
            return i;
    }
    return -1;
}

static void on_run(const gb_run_result *res, void *user)
{
    runner *r = user;
    const char *rn = res->run_name && *res->run_name ? res->run_name : res->name;
    int i = find_cell(r, rn, r->last_reported);
    if (i < 0) {
        fprintf(stderr, "itera-bench: warning: a result for unknown benchmark '%s'\n", rn);
        return;
    }
    if (r->last_reported >= 0 && r->last_reported != i)
        flush_cell(r, r->last_reported); /* all its runs came in one report */
    r->last_reported = i;
    /* The run's label, else (aggregates, failed cells) the cell's, else "emulated". */
    const char *label = res->label && *res->label ? res->label
                        : r->fc[i].label[0]       ? r->fc[i].label
                        : r->emulated             ? "emulated"
                                                  : "";
    json_t *run = results_run_json(res, r->cells[i].name, i, 0, label);
    if (!run)
        return;
    if (!r->pending[i])
        r->pending[i] = json_array();
    json_array_append_new(r->pending[i], run);
}

static void on_enter(fam_cell *fc, void *user)
{
    runner *r = user;
    flush_all(r); /* every cell reported so far is complete */
    if (r->active && r->active != fc)
        fam_cell_release(r->active);
    r->active = fc;
    if (fc->entered)
        return;
    r->started++;
    double el = mono_s() - r->t0;
    char e[32], left[32];
    fmt_dur(el, e, sizeof e);
    if (r->finished > 0)
        fmt_dur(el / r->finished * (r->total_todo - r->finished), left, sizeof left);
    else
        snprintf(left, sizeof left, "?");
    fprintf(stderr, "[%d/%d] %s  elapsed %s  left ~%s\n", r->done_before + r->started,
            r->ncells, fc->cell->name, e, left);
}

/* ---- context ---- */

static void ctx_set(json_t *c, const char *key, const char *value)
{
    json_object_set_new(c, key, json_string(value ? value : ""));
}

/* First line of a command's output (trimmed), or "" */
static void run_cmd(const char *cmd, char *out, size_t n)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)n, p)) {
        size_t len = strlen(out);
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
            out[--len] = '\0';
    }
    pclose(p);
}

/* The value of "key : value" in /proc/cpuinfo (first CPU), or "". */
static void cpuinfo(const char *key, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t' ||
                                              line[klen] == ':')) {
            char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ')
                    v++;
                size_t len = strlen(v);
                while (len && (v[len - 1] == '\n' || v[len - 1] == ' '))
                    v[--len] = '\0';
                snprintf(out, n, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

static int read_sys(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(out, (int)n, f))
        out[0] = '\0';
    fclose(f);
    size_t len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
        out[--len] = '\0';
    return 0;
}

/* GB's "caches": [{type, level, size, num_sharing}] from sysfs, as GB reads them. */
static json_t *caches_json(void)
{
    json_t *a = json_array();
    for (int i = 0; i < 16; i++) {
        char base[128], path[192], type[64], level[16], size[32], shared[256];
        snprintf(base, sizeof base, "/sys/devices/system/cpu/cpu0/cache/index%d", i);
        snprintf(path, sizeof path, "%s/type", base);
        if (read_sys(path, type, sizeof type) != 0)
            break;
        snprintf(path, sizeof path, "%s/level", base);
        read_sys(path, level, sizeof level);
        snprintf(path, sizeof path, "%s/size", base);
        read_sys(path, size, sizeof size);
        snprintf(path, sizeof path, "%s/shared_cpu_list", base);
        read_sys(path, shared, sizeof shared);
        long bytes = strtol(size, NULL, 10);
        if (strchr(size, 'K'))
            bytes *= 1024;
        else if (strchr(size, 'M'))
            bytes *= 1024 * 1024;
        /* count CPUs in a list like "0-1,4" */
        int sharing = 0;
        for (char *s = shared; *s;) {
            long a0 = strtol(s, &s, 10), a1 = a0;
            if (*s == '-')
                a1 = strtol(s + 1, &s, 10);
            sharing += (int)(a1 - a0 + 1);
            if (*s == ',')
                s++;
            else
                break;
        }
        if (strcmp(type, "Unified") == 0 || strcmp(type, "Data") == 0 ||
            strcmp(type, "Instruction") == 0)
            json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:i}", "type", type, "level",
                                               atoi(level), "size", (json_int_t)bytes,
                                               "num_sharing", sharing));
    }
    return a;
}

static void sha256_file(const char *path, char *out, size_t n)
{
    /* Quote the path for the shell: '...' with ' written as '\'' */
    char q[PATH_MAX * 4 + 64];
    size_t k = 0;
    q[k++] = '\'';
    for (const char *p = path; *p && k < sizeof q - 8; p++) {
        if (*p == '\'') {
            memcpy(q + k, "'\\''", 4);
            k += 4;
        } else {
            q[k++] = *p;
        }
    }
    q[k++] = '\'';
    q[k] = '\0';
    char cmd[sizeof q + 64];
    snprintf(cmd, sizeof cmd, "sha256sum -- %s 2>/dev/null", q);
    char line[256];
    run_cmd(cmd, line, sizeof line);
    char *sp = strchr(line, ' ');
    if (sp)
        *sp = '\0';
    snprintf(out, n, "%s", line[0] ? line : "unknown");
}

typedef struct ctx_inputs {
    const platform *pl;
    const profile *pr;
    const pin_topo *topo;
    bool emulated;
    const char *worker_cpus;
    const char *counters_desc;
    const peak_result *peak;  /* NULL when the probe failed */
    const char *peak_err;
    fam_env *env;
    const char *model_dir;
    const shard_info *shard;
    const alloc_info *alloc;
} ctx_inputs;

static json_t *build_context(const ctx_inputs *in)
{
    json_t *c = json_object();
    char buf[2048], root[PATH_MAX];
    runner_root(root, sizeof root);

    /* Google Benchmark's own keys. */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    /* GB writes the zone as +HH:MM */
    size_t len = strlen(buf);
    if (len > 5 && (buf[len - 5] == '+' || buf[len - 5] == '-')) {
        memmove(buf + len - 1, buf + len - 2, 3);
        buf[len - 2] = ':';
    }
    ctx_set(c, "date", buf);
    gethostname(buf, sizeof buf);
    buf[sizeof buf - 1] = '\0';
    ctx_set(c, "host_name", buf);
    ssize_t el = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[el > 0 ? el : 0] = '\0';
    ctx_set(c, "executable", buf);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(c, "num_cpus", json_integer(ncpu));
    cpuinfo("cpu MHz", buf, sizeof buf);
    json_object_set_new(c, "mhz_per_cpu", json_integer((json_int_t)(atof(buf) + 0.5)));
    char gov[64];
    bool scaling = read_sys("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", gov,
                            sizeof gov) == 0 && strcmp(gov, "performance") != 0;
    json_object_set_new(c, "cpu_scaling_enabled", json_boolean(scaling));
    json_object_set_new(c, "caches", caches_json());
    double la[3] = { 0, 0, 0 };
    getloadavg(la, 3);
    json_object_set_new(c, "load_avg", json_pack("[f,f,f]", la[0], la[1], la[2]));
    ctx_set(c, "library_build_type", "release");

    /* itera keys (DESIGN.md), strings as GB's custom context writes them. */
    ctx_set(c, "itera_platform", in->pl->name);
    snprintf(buf, sizeof buf, "%d", in->pl->cores);
    ctx_set(c, "itera_platform_cores", buf);
    ctx_set(c, "itera_platform_description", in->pl->description);
    ctx_set(c, "itera_binding", pin_binding_name(in->pl->binding));
    ctx_set(c, "itera_profile", in->pr->name);
    ctx_set(c, "itera_overrides", in->pr->override_text);
    snprintf(buf, sizeof buf, "%d", in->pl->threads);
    ctx_set(c, "itera_threads", buf);
    ctx_set(c, "itera_worker_cpus", in->worker_cpus);
    ctx_set(c, "itera_emulated", in->emulated ? "true" : "false");
    if (in->model_dir) {
        char st[PATH_MAX + 32], sha[128];
        snprintf(st, sizeof st, "%s/model.safetensors", in->model_dir);
        sha256_file(st, sha, sizeof sha);
        snprintf(buf, sizeof buf, "%s sha256:%s", in->model_dir, sha);
    } else {
        snprintf(buf, sizeof buf, "synthetic seed %llu",
                 (unsigned long long)in->env->seed);
    }
    ctx_set(c, "itera_model", buf);
    char git[256], cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "git -C '%s' describe --always --dirty --abbrev=12 2>/dev/null",
             root);
    run_cmd(cmd, git, sizeof git);
    ctx_set(c, "itera_git", git[0] ? git : "unknown (not a git checkout)");
#if defined(__clang__)
    snprintf(buf, sizeof buf, "clang %s; %s", __clang_version__, ITERA_BUILD_FLAGS);
#elif defined(__GNUC__)
    snprintf(buf, sizeof buf, "gcc %s; %s", __VERSION__, ITERA_BUILD_FLAGS);
#else
    snprintf(buf, sizeof buf, "unknown compiler; %s", ITERA_BUILD_FLAGS);
#endif
    ctx_set(c, "itera_compiler", buf);
    size_t used = (size_t)snprintf(buf, sizeof buf, "cpu %s; matmul", cpu_isa_name(cpu_isa_best()));
    for (int q = 0; q < ITERA_QUANT_COUNT && used < sizeof buf; q++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, " %s:%s",
                                 itera_quant_name((itera_quant)q),
                                 itera_quant_isa((itera_quant)q));
    ctx_set(c, "itera_isa", buf);
    ctx_set(c, "itera_counters", in->counters_desc);
    if (in->peak) {
        snprintf(buf, sizeof buf, "%.1f", in->peak->fp32_gflops_all);
        ctx_set(c, "itera_peak_gflops", buf);
        snprintf(buf, sizeof buf, "%.1f", in->peak->int8_gmacs_all);
        ctx_set(c, "itera_peak_int8_gmacs", buf);
        peak_describe(in->peak, buf, sizeof buf);
        ctx_set(c, "itera_peak", buf);
    } else {
        ctx_set(c, "itera_peak_gflops", "unavailable");
        snprintf(buf, sizeof buf, "unavailable: %s", in->peak_err ? in->peak_err : "?");
        ctx_set(c, "itera_peak", buf);
    }
    ctx_set(c, "itera_pct_peak_basis",
            "FP32 FMA peak (fp32, scan) or 2 x int8 MAC peak (int8, int4) at "
            "min(threads, cores) cores");
    /* The machine's, not the allocation's (itera_allocation says which CPUs ran). */
    ctx_set(c, "itera_topology", pin_topo_machine_describe(in->topo));
    cpuinfo("model name", buf, sizeof buf);
    ctx_set(c, "itera_cpu_model", buf);
    snprintf(buf, sizeof buf, "%d", in->pr->repetitions);
    ctx_set(c, "itera_repetitions", buf);
    snprintf(buf, sizeof buf, "%g", in->pr->min_time);
    ctx_set(c, "itera_min_time", buf);
    snprintf(buf, sizeof buf, "%d rows x %d tokens, seed %u, vs FP32 with the same kernel and "
             "threads", FAM_ACC_BATCH, in->env->acc_seq, FAM_ACC_SEED);
    ctx_set(c, "itera_accuracy_input", buf);
    ctx_set(c, "itera_rss", in->env->rss_reset_ok
                                ? "per cell: VmHWM after a reset through /proc/self/clear_refs"
                                : "process peak (ru_maxrss), not reset between cells");
    shard_context_add(c, in->shard, in->pl, in->pr);
    alloc_context_add(c, in->alloc);
    return c;
}

/* ---- peak stored in the journal header, so a resumed run uses the same one ---- */

static json_t *peak_json(const peak_result *p)
{
    return json_pack("{s:i, s:f, s:f, s:f, s:f}", "threads", p->threads, "fp32_gflops_core",
                     p->fp32_gflops_core, "fp32_gflops_all", p->fp32_gflops_all,
                     "int8_gmacs_core", p->int8_gmacs_core, "int8_gmacs_all",
                     p->int8_gmacs_all);
}

static bool peak_from_json(const json_t *j, peak_result *p)
{
    if (!json_is_object(j))
        return false;
    memset(p, 0, sizeof *p);
    p->threads = (int)json_integer_value(json_object_get(j, "threads"));
    p->fp32_gflops_core = json_number_value(json_object_get(j, "fp32_gflops_core"));
    p->fp32_gflops_all = json_number_value(json_object_get(j, "fp32_gflops_all"));
    p->int8_gmacs_core = json_number_value(json_object_get(j, "int8_gmacs_core"));
    p->int8_gmacs_all = json_number_value(json_object_get(j, "int8_gmacs_all"));
    p->fp32_path = p->int8_path = "journal";
    return p->threads > 0;
}

/* What else must match for --resume to continue a journal (platform and profile names
 * are checked first): the overrides, emulation and the model. Returns a new object. */
static json_t *run_signature(const profile *pr, const runner_opts *o)
{
    char sh[32];
    return json_pack("{s:s, s:b, s:s, s:s}", "overrides", pr->override_text, "emulated",
                     o->emulate, "model", o->model_dir ? o->model_dir : "synthetic", "shard",
                     shard_format(&o->shard, sh, sizeof sh));
}

/* ---- the run ---- */

static void on_signal(int sig)
{
    static const char msg[] = "\nitera-bench: interrupted; finished cells are in the journal, "
                              "rerun with --resume (RESUME=1) to complete the file\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

int runner_run(const runner_opts *o)
{
    int rc = 2;
    char err[ERRN], path[PATH_MAX];
    platform pl;
    profile pr;
    pin_topo *topo = NULL;
    counters *ctr = NULL;
    bench_cell *cells = NULL;
    int ncells = 0;
    fam_env env = { 0 };
    bool env_ready = false;
    runner r = { 0 };
    journal_data jd = { 0 };
    json_t *context = NULL, *root = NULL;
    char **gargv = NULL;
    char out[PATH_MAX], jpath[PATH_MAX + 16];
    shard_info shard = { 0 };
    alloc_info alloc;

    /* Google Benchmark flags: the profile's repetitions and min time first, so the
     * user's own --benchmark_* flags (later) win. */
    /* (filled after the profile is read; checked here for unknown arguments first) */

    /* Platform and profile. */
    const char *pname = o->platform ? o->platform : "embedded";
    if (bench_data_find("platforms", pname, path, sizeof path, err, sizeof err) != 0 ||
        platform_load(path, &pl, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }
    const char *prname = o->profile ? o->profile : "default";
    if (bench_data_find("profiles", prname, path, sizeof path, err, sizeof err) != 0 ||
        profile_load(path, &pr, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }
    for (int i = 0; i < o->nsets; i++)
        if (profile_override(&pr, o->sets[i], err, sizeof err) != 0) {
            fprintf(stderr, "itera-bench run: %s\n", err);
            goto out;
        }

    /* GB flags. */
    enum { NPRE = 3 };
    int gargc = o->gb_argc + NPRE;
    gargv = calloc((size_t)gargc + 1, sizeof *gargv);
    if (!gargv)
        goto out;
    char reps[64], mint[64], warm[64];
    snprintf(reps, sizeof reps, "--benchmark_repetitions=%d", pr.repetitions);
    snprintf(mint, sizeof mint, "--benchmark_min_time=%g", pr.min_time);
    /* One warm-up of min_time per cell (GB runs it once, before the first repetition). */
    snprintf(warm, sizeof warm, "--benchmark_min_warmup_time=%g", pr.min_time);
    gargv[0] = o->gb_argc > 0 ? o->gb_argv[0] : (char *)"itera-bench";
    gargv[1] = reps;
    gargv[2] = mint;
    gargv[3] = warm;
    for (int i = 1; i < o->gb_argc; i++)
        gargv[i + NPRE] = o->gb_argv[i];
    gargc = (o->gb_argc > 0 ? o->gb_argc : 1) + NPRE;
    if (gb_initialize(&gargc, gargv) != 0)
        goto out;
    if (gargc > 1) {
        fprintf(stderr, "itera-bench run: unknown option '%s' (see itera-bench run --help)\n",
                gargv[1]);
        goto out;
    }

    /* The host. */
    if (pin_topology_load(&topo, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: topology: %s\n", err);
        rc = 1;
        goto out;
    }
    int host_cores = pin_topo_cores(topo);
    alloc_read(&alloc, topo);
    platform_resolve(&pl, host_cores);
    if (!platform_fits(&pl, host_cores, err, sizeof err) && !o->emulate) {
        if (alloc.slurm || alloc.restricted) /* the allocation is the limit, not the host */
            alloc_too_small(&alloc, pl.name, pl.cores, false, err, sizeof err);
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }
    pin_plan plan;
    if (pin_plan_make(topo, pl.threads, pl.binding, o->emulate, &plan, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: platform %s: %s\n", pl.name, err);
        goto out;
    }

    /* The cells. */
    if (profile_cells(&pr, pl.threads, &cells, &ncells, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }
    if (ncells == 0) {
        fprintf(stderr, "itera-bench run: profile %s has no cells\n", pr.name);
        goto out;
    }
    if (shard_apply(&o->shard, cells, &ncells, &shard) != 0) {
        fprintf(stderr, "itera-bench run: out of memory\n");
        goto out;
    }
    if (ncells == 0) {
        char sh[32];
        fprintf(stderr, "itera-bench run: shard %s of profile %s has no cells (the profile has "
                "%d; use at most %d shards)\n", shard_format(&o->shard, sh, sizeof sh), pr.name,
                shard.total_cells, shard.total_cells);
        goto out;
    }
    for (int i = 0; i < ncells; i++)
        if (cells[i].threads > pl.threads) {
            fprintf(stderr, "itera-bench run: %s: threads %d is more than platform %s's %d "
                    "worker threads; use threads = platform or a bigger platform\n",
                    cells[i].name, cells[i].threads, pl.name, pl.threads);
            goto out;
        }

    /* The engine environment. */
    env.topo = topo;
    env.binding = pl.binding;
    env.oversubscribe = o->emulate;
    env.emulated = o->emulate;
    env.model_dir = o->model_dir;
    env.seed = ITERA_DEFAULT_SEED;
    env.peak_slots = plan.slots;
    if (fam_env_init(&env, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }
    env_ready = true;
    for (int i = 0; i < ncells; i++)
        if (fam_cell_check(&env, &cells[i], err, sizeof err) != 0) {
            fprintf(stderr, "itera-bench run: profile %s: %s\n", pr.name, err);
            goto out;
        }

    /* Where results go. */
    if (o->out) {
        snprintf(out, sizeof out, "%s", o->out);
    } else {
        char root_dir[PATH_MAX];
        runner_root(root_dir, sizeof root_dir);
        char suffix[64] = "";
        if (o->shard.count > 0)
            snprintf(suffix, sizeof suffix, ".shard-%d-of-%d", o->shard.index, o->shard.count);
        snprintf(out, sizeof out, "%.2000s/results/%.200s/%.200s%s.json", root_dir, pl.name,
                 pr.name, suffix);
        if (strncmp(out, "./", 2) == 0)
            memmove(out, out + 2, strlen(out + 2) + 1);
    }
    snprintf(jpath, sizeof jpath, "%s.journal", out);
    rc = 1;

    if (gb_listing_only()) {
        for (int i = 0; i < ncells; i++)
            printf("%s\n", cells[i].name);
        rc = 0;
        goto out;
    }

    /* The runner state. */
    r.pl = &pl;
    r.pr = &pr;
    r.cells = cells;
    r.ncells = ncells;
    r.fc = calloc((size_t)ncells, sizeof *r.fc);
    r.todo = calloc((size_t)ncells, sizeof *r.todo);
    r.pending = calloc((size_t)ncells, sizeof *r.pending);
    r.journaled = calloc((size_t)ncells, sizeof *r.journaled);
    r.done = json_object();
    r.last_reported = -1;
    r.emulated = o->emulate;
    if (!r.fc || !r.todo || !r.pending || !r.journaled || !r.done) {
        fprintf(stderr, "itera-bench run: out of memory\n");
        goto out;
    }

    /* Resume: the finished cells from the journal. */
    peak_result peak, *peakp = NULL;
    char peak_err[512] = "";
    bool resumed = false;
    if (o->resume) {
        bool missing = false;
        if (journal_read(jpath, &jd, &missing, err, sizeof err) != 0) {
            if (!missing) {
                fprintf(stderr, "itera-bench run --resume: %s\n", err);
                rc = 2;
                goto out;
            }
            fprintf(stderr, "itera-bench: --resume: no journal at %s; running every cell\n",
                    jpath);
        } else {
            const char *jp = json_string_value(json_object_get(jd.header, "platform"));
            const char *jx = json_string_value(json_object_get(jd.header, "profile"));
            if (!jp || !jx || strcmp(jp, pl.name) != 0 || strcmp(jx, pr.name) != 0) {
                fprintf(stderr, "itera-bench run --resume: %s is a journal of platform %s, "
                        "profile %s, not %s, %s; run without --resume to start over\n",
                        jpath, jp ? jp : "?", jx ? jx : "?", pl.name, pr.name);
                rc = 2;
                goto out;
            }
            /* The rest of what made the journal must match too. */
            json_t *want = run_signature(&pr, o);
            const char *key;
            json_t *v;
            json_object_foreach(want, key, v)
            {
                json_t *had = json_object_get(jd.header, key);
                if (!had || !json_equal(had, v)) {
                    char *a = had ? json_dumps(had, JSON_ENCODE_ANY) : NULL;
                    char *b = json_dumps(v, JSON_ENCODE_ANY);
                    fprintf(stderr, "itera-bench run --resume: %s was made with %s = %s, this "
                            "run has %s; use the same options, or run without --resume to "
                            "start over\n", jpath, key, a ? a : "(none)", b ? b : "?");
                    free(a);
                    free(b);
                    json_decref(want);
                    rc = 2;
                    goto out;
                }
            }
            json_decref(want);
            resumed = true;
            if (peak_from_json(json_object_get(jd.header, "peak"), &peak))
                peakp = &peak;
            context = json_deep_copy(json_object_get(jd.header, "context"));
            if (jd.partial_tail)
                fprintf(stderr, "itera-bench: --resume: the journal's last line was cut "
                        "short (a cell being written when the run stopped); it runs again\n");
        }
    }
    int ndone = 0;
    for (int i = 0; i < ncells; i++) {
        json_t *e = resumed ? json_object_get(jd.cells, cells[i].name) : NULL;
        if (e) {
            json_object_set(r.done, cells[i].name, e);
            r.journaled[i] = true;
            ndone++;
        } else {
            r.todo[i] = true;
        }
    }
    r.done_before = ndone;
    r.total_todo = ncells - ndone;
    if (resumed)
        fprintf(stderr, "itera-bench: resuming %s: %d of %d cells done, %d to run\n", jpath,
                ndone, ncells, ncells - ndone);

    /* Counters, peak, binding check: the context. */
    if (counters_open(&ctr, err, sizeof err) != 0) {
        ctr = NULL;
        fprintf(stderr, "itera-bench: counters: %s\n", err);
    }
    char ctr_desc[ERRN + 16];
    if (ctr)
        counters_describe(ctr, ctr_desc, sizeof ctr_desc);
    else
        snprintf(ctr_desc, sizeof ctr_desc, "none: %s", err);
    env.ctr = ctr;
    if (!peakp && r.total_todo > 0) {
        if (peak_measure(cpu_isa_best(), pl.threads, pl.binding == PIN_BIND_NONE ? NULL : &plan,
                         &peak, peak_err, sizeof peak_err) == 0)
            peakp = &peak;
        else
            fprintf(stderr, "itera-bench: peak probe: %s (no pct_peak)\n", peak_err);
    }
    env.peak = peakp;
    char cpus[512] = "", isa[64] = "";
    if (r.total_todo > 0 &&
        fam_binding_check(&env, pl.threads, cpus, sizeof cpus, isa, sizeof isa, err,
                          sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: platform %s: %s\n", pl.name, err);
        goto out;
    }
    if (!context) {
        ctx_inputs in = { .pl = &pl, .pr = &pr, .topo = topo, .emulated = o->emulate,
                          .worker_cpus = cpus, .counters_desc = ctr_desc, .peak = peakp,
                          .peak_err = peak_err, .env = &env, .model_dir = o->model_dir,
                          .shard = &shard, .alloc = &alloc };
        context = build_context(&in);
    } else {
        ctx_set(context, "itera_resumed", "true");
    }

    /* The journal. */
    if (resumed) {
        if (journal_reopen(jpath, jd.valid_bytes, &r.jr, err, sizeof err) != 0) {
            fprintf(stderr, "itera-bench run: %s\n", err);
            goto out;
        }
    } else {
        json_t *h = json_pack("{s:i, s:s, s:s, s:i, s:O}", "itera_journal", JOURNAL_VERSION,
                              "platform", pl.name, "profile", pr.name, "cells", ncells,
                              "context", context);
        if (peakp)
            json_object_set_new(h, "peak", peak_json(peakp));
        json_t *sig = run_signature(&pr, o);
        json_object_update(h, sig);
        json_decref(sig);
        int jrc = journal_create(jpath, h, &r.jr, err, sizeof err);
        json_decref(h);
        if (jrc != 0) {
            fprintf(stderr, "itera-bench run: %s\n", err);
            goto out;
        }
    }

    /* Register the cells to run and run them. */
    env.on_enter = on_enter;
    env.user = &r;
    gb_options gopt = { 0 };
    gopt.use_real_time = true;
    gopt.unit = GB_UNIT_US;
    for (int i = 0; i < ncells; i++) {
        fam_cell_init(&r.fc[i], &env, &cells[i], i);
        if (r.todo[i] && gb_register(cells[i].name, fam_bench, &r.fc[i], &gopt) != 0)
            goto out;
    }
    fprintf(stderr, "itera-bench: platform %s (%d cores, %d threads%s), profile %s: %d cells "
            "-> %s\n", pl.name, pl.cores, pl.threads, o->emulate ? ", EMULATED" : "", pr.name,
            ncells, out);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    r.t0 = mono_s();
    int ran = r.total_todo > 0 ? gb_run(on_run, &r) : 0;
    flush_all(&r);
    if (r.active)
        fam_cell_release(r.active);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    journal_close(r.jr);
    r.jr = NULL;
    if (ran < 0) {
        fprintf(stderr, "itera-bench run: Google Benchmark run failed\n");
        goto out;
    }

    /* The final file. */
    const char **names = malloc((size_t)ncells * sizeof *names);
    if (!names)
        goto out;
    for (int i = 0; i < ncells; i++)
        names[i] = cells[i].name;
    int missing = 0;
    root = results_assemble(context, names, ncells, r.done, &missing);
    free(names);
    json_t *rc_ctx = json_object_get(root, "context");
    char buf[64];
    snprintf(buf, sizeof buf, "%d", missing);
    ctx_set(rc_ctx, "itera_missing_cells", buf);
    shard_results_add(root, &shard);
    if (results_write_atomic(out, root, err, sizeof err) != 0) {
        fprintf(stderr, "itera-bench run: %s\n", err);
        goto out;
    }

    /* Summary: failed cells and missing ones. */
    int failed = 0;
    const char *first_fail = NULL, *first_msg = NULL;
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(root, "benchmarks"), k, b)
    {
        if (json_is_true(json_object_get(b, "error_occurred")) &&
            json_integer_value(json_object_get(b, "repetition_index")) == 0 &&
            !json_object_get(b, "aggregate_name")) {
            if (!failed++) {
                first_fail = json_string_value(json_object_get(b, "run_name"));
                first_msg = json_string_value(json_object_get(b, "error_message"));
            }
        }
    }
    double total = mono_s() - r.t0;
    char tdur[32];
    fmt_dur(total, tdur, sizeof tdur);
    fprintf(stderr, "itera-bench: %d of %d cells in %s (%d this run, %s)%s\n",
            ncells - missing, ncells, out, r.finished, tdur, o->emulate ? ", EMULATED" : "");
    rc = 0;
    if (failed) {
        fprintf(stderr, "itera-bench: %d cell(s) failed; first: %s: %s\n", failed,
                first_fail ? first_fail : "?", first_msg ? first_msg : "?");
        rc = 1;
    }
    if (missing) {
        fprintf(stderr, "itera-bench: %d cell(s) have no results (filtered out by "
                "--benchmark_filter, or lost); rerun with --resume to complete the file\n",
                missing);
        rc = 1;
    }
    if (r.journal_failed)
        rc = 1;
    printf("%s\n", out);
    fflush(stdout);

out:
    if (r.fc) {
        for (int i = 0; i < ncells; i++)
            fam_cell_free(&r.fc[i]);
    }
    if (r.pending)
        for (int i = 0; i < ncells; i++)
            json_decref(r.pending[i]);
    journal_close(r.jr);
    free(r.fc);
    free(r.todo);
    free(r.pending);
    free(r.journaled);
    json_decref(r.done);
    json_decref(root);
    json_decref(context);
    journal_data_free(&jd);
    if (env_ready)
        fam_env_free(&env);
    counters_close(ctr);
    free(cells);
    shard_info_free(&shard);
    pin_topology_free(topo);
    free(gargv);
    return rc;
}
