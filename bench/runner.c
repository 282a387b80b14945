/*
 * runner.c: the sweep. Platform + profile -> cells -> Google Benchmark through the shim,
 * each finished cell journaled, the final GB JSON written atomically; --resume runs only
 * what the journal lacks. See runner.h.
 */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "counters.h"
#include "families.h"
#include "gbench.h"
#include "gbread.h"
#include "itera.h"
#include "load.h"
#include "machine.h"
#include "peak.h"
#include "pin.h"
#include "platform.h"
#include "profile.h"
#include "progress.h"
#include "results.h"
#include "rstore.h"
#include "summary.h"
#include "schema.h"
#include "shard.h"
#include "sha256.h"

#ifndef ITERA_BUILD_FLAGS
#define ITERA_BUILD_FLAGS "unknown (not passed by the build)"
#endif

#define ERRN 1024
/* The error a call of a cell skips with once the run is interrupted; runs with it are
 * dropped, not journaled (the cell runs again on --resume). */
#define INTERRUPTED_MSG "interrupted (Ctrl-C or SIGTERM)"

/* Interruption, shared with the signal handler: the first SIGINT/SIGTERM sets g_stop and
 * the run stops after the current call of the current cell; a second one stops at once
 * (after printing the cells kept and the resume command). */
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_kept;   /* cells in the journal */
static char g_resume_cmd[4096];        /* the command that resumes this run */
static char g_journal_path[PATH_MAX + 16];

/* The state of one sweep, shared with the GB callbacks. */
typedef struct runner {
    const platform *pl;
    const profile *pr;
    bench_cell *cells;
    int ncells;
    fam_cell *fc;          /* one per cell */
    bool *selected;        /* chosen by --benchmark_filter (every cell without one) */
    bool *todo;            /* selected and still to run in this session */
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
    /* contention (load.h): one window per cell, from its first entry to its flush */
    load_rule load_rule;
    load_sample *load_start;
    bool *load_started;
    load_window *load_win;
    int contended_cells;
    /* --serve: cells the driver asked for */
    bool *requested;
    progress prog;
    bench_error err;        /* the journal's append error */
} runner;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


/* Columns of the terminal on stderr, 0 when unknown. */
static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
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

/* ---- contention: the machine's load over each cell (load.h) ---- */

static void load_begin(runner *r, int i)
{
    if (r->load_started[i])
        return;
    r->load_started[i] = load_read(NULL, &r->load_start[i], NULL) == BENCH_OK;
}

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Closes cell i's window and writes it into each of its iteration runs (GB counters:
 * contended 0/1, load_other_cpu cores, load_steal_pct, load_cpu_pressure_pct,
 * load_runnable_others, load_window_s; schema.h). */
static void load_end(runner *r, int i, json_t *runs)
{
    load_sample end;
    if (!r->load_started[i] || load_read(NULL, &end, NULL) != BENCH_OK)
        return;
    load_window *w = &r->load_win[i];
    load_window_make(&r->load_start[i], &end, &r->load_rule, r->cells[i].threads, w);
    size_t k;
    json_t *run;
    json_array_foreach(runs, k, run)
    {
        const char *type = json_string_value(json_object_get(run, ENT_RUN_TYPE));
        if (!type || strcmp(type, "iteration") != 0)
            continue;
        json_object_set_new(run, MET_CONTENDED, json_integer(w->contended ? 1 : 0));
        json_object_set_new(run, MET_LOAD_OTHER_CPU, real_or_null(w->other_cpu));
        json_object_set_new(run, MET_LOAD_STEAL_PCT, real_or_null(w->steal_pct));
        json_object_set_new(run, MET_LOAD_CPU_PRESSURE_PCT, real_or_null(w->pressure_pct));
        json_object_set_new(run, MET_LOAD_RUNNABLE_OTHERS, json_integer(w->runnable_others));
        json_object_set_new(run, MET_LOAD_WINDOW_S, real_or_null(w->wall_s));
    }
    if (w->contended) {
        r->contended_cells++;
        fprintf(stderr, "itera-bench: warning: %s was measured on a busy machine (%s): marked "
                "contended\n", r->cells[i].name, w->why);
    }
}

/* ---- journal flushing (GB callbacks) ---- */

/* Whether some run of a cell's reported runs has error text msg (NULL: any error). */
static bool runs_have_error(const json_t *runs, const char *msg)
{
    size_t k;
    json_t *e;
    json_array_foreach(runs, k, e)
    {
        const char *m = json_string_value(json_object_get(e, ENT_ERROR_MESSAGE));
        if (json_is_true(json_object_get(e, ENT_ERROR_OCCURRED)) &&
            (!msg || (m && strcmp(m, msg) == 0)))
            return true;
    }
    return false;
}

static bool cell_interrupted(const json_t *runs) { return runs_have_error(runs, INTERRUPTED_MSG); }
static bool cell_failed(const json_t *runs) { return runs_have_error(runs, NULL); }

static void flush_cell(runner *r, int i)
{
    if (!r->pending[i])
        return;
    load_end(r, i, r->pending[i]);
    fam_cell *fc = &r->fc[i];
    json_t *runs = r->pending[i];
    r->pending[i] = NULL;
    if (cell_interrupted(runs)) { /* not finished: it runs again on --resume */
        json_decref(runs);
        return;
    }
    json_t *entry = results_cell_entry(r->cells[i].name, runs, fc->op_profile);
    char headline[96];
    summary_headline(runs, headline, sizeof headline);
    bool failed = cell_failed(runs);
    json_decref(runs);
    if (r->journaled[i]) {
        progress_note(&r->prog, "itera-bench: warning: more results for %s after it was "
                      "journaled (ignored)", r->cells[i].name);
        json_decref(entry);
        return;
    }
    if (journal_append(r->jr, entry, &r->err) != BENCH_OK) {
        if (!r->journal_failed)
            progress_note(&r->prog, "itera-bench: %s", r->err.msg);
        r->journal_failed = true;
    } else {
        g_kept = g_kept + 1;
    }
    json_object_set_new(r->done, r->cells[i].name, entry);
    r->journaled[i] = true;
    r->finished++;
    progress_done(&r->prog, r->cells[i].name, headline, failed);
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
        progress_note(&r->prog, "itera-bench: warning: a result for unknown benchmark '%s'",
                      rn);
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

/* Every call of a cell's function starts here, outside its timed loop. */
static const char *on_enter(fam_cell *fc, void *user)
{
    runner *r = user;
    if (g_stop)
        return INTERRUPTED_MSG;
    if (r->active == fc) {
        progress_tick(&r->prog);
        return NULL;
    }
    flush_all(r); /* every cell reported so far is complete */
    if (r->active)
        fam_cell_release(r->active);
    r->active = fc;
    if (!fc->entered) {
        load_begin(r, fc->index);
        r->started++;
        progress_start(&r->prog, fc->cell->name);
    }
    return NULL;
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

typedef struct ctx_inputs {
    const machine_info *machine;
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
    const char *model_text;   /* itera_model, itera_git, itera_compiler (run_strings) */
    const char *git_text;
    const char *compiler_text;
} ctx_inputs;

/* The run's model, git and compiler strings (itera_model, itera_git, itera_compiler):
 * known before the run, as they decide where its results go (rstore.h). */
static void run_strings(const char *model_dir, uint64_t seed, char *model, size_t mn, char *git,
                        size_t gn, char *compiler, size_t cn)
{
    char root[PATH_MAX];
    runner_root(root, sizeof root);
    if (model_dir) {
        char st[PATH_MAX + 32], sha[SHA256_HEX_LEN + 1];
        snprintf(st, sizeof st, "%s/model.safetensors", model_dir);
        if (sha256_file_hex(st, sha, NULL) != BENCH_OK)
            snprintf(sha, sizeof sha, "unknown");
        snprintf(model, mn, "%s sha256:%s", model_dir, sha);
    } else {
        snprintf(model, mn, "synthetic seed %llu", (unsigned long long)seed);
    }
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "git -C '%s' describe --always --dirty --abbrev=12 2>/dev/null",
             root);
    git[0] = '\0';
    run_cmd(cmd, git, gn);
    if (!git[0])
        snprintf(git, gn, "unknown (not a git checkout)");
#if defined(__clang__)
    snprintf(compiler, cn, "clang %s; %s", __clang_version__, ITERA_BUILD_FLAGS);
#elif defined(__GNUC__)
    snprintf(compiler, cn, "gcc %s; %s", __VERSION__, ITERA_BUILD_FLAGS);
#else
    snprintf(compiler, cn, "unknown compiler; %s", ITERA_BUILD_FLAGS);
#endif
}

static json_t *build_context(const ctx_inputs *in)
{
    json_t *c = json_object();
    char buf[2048];

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
    ctx_set(c, CTX_DATE, buf);
    machine_to_gb_context(in->machine, c); /* host_name, num_cpus, mhz, scaling, caches */
    ssize_t el = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[el > 0 ? el : 0] = '\0';
    ctx_set(c, CTX_EXECUTABLE, buf);
    double la[3] = { 0, 0, 0 };
    getloadavg(la, 3);
    json_object_set_new(c, CTX_LOAD_AVG, json_pack("[f,f,f]", la[0], la[1], la[2]));
    ctx_set(c, CTX_LIBRARY_BUILD_TYPE, gb_library_build_type());

    /* itera keys (DESIGN.md, schema.h), strings as GB's custom context writes them. */
    ctx_set(c, CTX_SCHEMA, SCHEMA_VERSION);
    ctx_set(c, CTX_PLATFORM, in->pl->name);
    snprintf(buf, sizeof buf, "%d", in->pl->cores);
    ctx_set(c, CTX_PLATFORM_CORES, buf);
    ctx_set(c, CTX_PLATFORM_DESCRIPTION, in->pl->description);
    ctx_set(c, CTX_BINDING, pin_binding_name(in->pl->binding));
    ctx_set(c, CTX_PROFILE, in->pr->name);
    ctx_set(c, CTX_OVERRIDES, in->pr->override_text);
    snprintf(buf, sizeof buf, "%d", in->pl->threads);
    ctx_set(c, CTX_THREADS, buf);
    ctx_set(c, CTX_WORKER_CPUS, in->worker_cpus);
    ctx_set(c, CTX_EMULATED, in->emulated ? "true" : "false");
    ctx_set(c, CTX_MODEL, in->model_text);
    ctx_set(c, CTX_GIT, in->git_text);
    ctx_set(c, CTX_COMPILER, in->compiler_text);
    size_t used = (size_t)snprintf(buf, sizeof buf, "cpu %s; matmul", itera_isa_name(itera_isa_best()));
    for (int q = 0; q < ITERA_QUANT_COUNT && used < sizeof buf; q++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, " %s:%s",
                                 itera_quant_name((itera_quant)q),
                                 itera_quant_isa((itera_quant)q));
    ctx_set(c, CTX_ISA, buf);
    ctx_set(c, CTX_COUNTERS, in->counters_desc);
    if (in->peak) {
        snprintf(buf, sizeof buf, "%.1f", in->peak->fp32_gflops_all);
        ctx_set(c, CTX_PEAK_GFLOPS, buf);
        snprintf(buf, sizeof buf, "%.1f", in->peak->int8_gmacs_all);
        ctx_set(c, CTX_PEAK_INT8_GMACS, buf);
        snprintf(buf, sizeof buf, "%.1f", in->peak->fp32_gflops_core);
        ctx_set(c, CTX_PEAK_GFLOPS_CORE, buf);
        snprintf(buf, sizeof buf, "%.1f", in->peak->int8_gmacs_core);
        ctx_set(c, CTX_PEAK_INT8_GMACS_CORE, buf);
        snprintf(buf, sizeof buf, "%d", in->peak->threads_used);
        ctx_set(c, CTX_PEAK_CORES, buf);
        peak_describe(in->peak, buf, sizeof buf);
        ctx_set(c, CTX_PEAK, buf);
    } else {
        ctx_set(c, CTX_PEAK_GFLOPS, "unavailable");
        ctx_set(c, CTX_PEAK_GFLOPS_CORE, "unavailable");
        ctx_set(c, CTX_PEAK_INT8_GMACS_CORE, "unavailable");
        ctx_set(c, CTX_PEAK_CORES, "0");
        snprintf(buf, sizeof buf, "unavailable: %s", in->peak_err ? in->peak_err : "?");
        ctx_set(c, CTX_PEAK, buf);
    }
    /* "FP32 FMA peak (fp32, scan) or 2 x int8 MAC peak (int8, int4) at ...": the formats by
     * the arithmetic of their products (itera_formats.def) */
    size_t bu = (size_t)snprintf(buf, sizeof buf, "FP32 FMA peak (");
    for (int pass = 0; pass < 2; pass++) {
        const itera_arith want = pass ? ITERA_ARITH_INT8 : ITERA_ARITH_FP32;
        const char *sep = "";
        for (int q = 0; q < ITERA_QUANT_COUNT && bu < sizeof buf; q++)
            if (itera_quant_info_get((itera_quant)q)->products == want) {
                bu += (size_t)snprintf(buf + bu, sizeof buf - bu, "%s%s", sep, itera_quant_name((itera_quant)q));
                sep = ", ";
            }
        if (bu < sizeof buf)
            bu += (size_t)snprintf(buf + bu, sizeof buf - bu, "%s", pass ? ") at " : ", scan) or 2 x int8 MAC peak (");
    }
    if (bu < sizeof buf)
        snprintf(buf + bu, sizeof buf - bu, "the cores the cell used: min(threads, %d cores "
                 "available; an emulated cell's are the host's); left out and the cell flagged "
                 "(peak_suspect) where it would exceed 100%%", in->env->peak_slots);
    ctx_set(c, CTX_PCT_PEAK_BASIS, buf);
    ctx_set(c, CTX_PEAK_SUSPECT, "none"); /* finish() names the cells above the peak */
    snprintf(buf, sizeof buf, "%d cores available to the run (the platform's %d, at most the %d "
             "the host allows): cpu_util = (process CPU time - the worker pool's spin-waiting) "
             "/ (wall x %d), cpu_spin = spin-waiting / (wall x %d)", in->env->run_cores,
             in->pl->cores, in->env->peak_slots, in->env->run_cores, in->env->run_cores);
    ctx_set(c, CTX_CPU_UTIL_BASIS, buf);
    /* The machine's, not the allocation's (itera_allocation says which CPUs ran). */
    ctx_set(c, CTX_TOPOLOGY, pin_topo_machine_describe(in->topo));
    machine_to_context(in->machine, c);
    snprintf(buf, sizeof buf, "%d", in->pr->repetitions);
    ctx_set(c, CTX_REPETITIONS, buf);
    snprintf(buf, sizeof buf, "%g", in->pr->min_time);
    ctx_set(c, CTX_MIN_TIME, buf);
    snprintf(buf, sizeof buf, "%d rows x %d tokens, seed %u, vs FP32 with the same kernel and "
             "threads", FAM_ACC_BATCH, in->env->acc_seq, FAM_ACC_SEED);
    ctx_set(c, CTX_ACCURACY_INPUT, buf);
    if (in->pr->text_accuracy)
        textacc_describe(&in->env->texts, in->env->text_seq, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "off (profile key text_accuracy = false)");
    ctx_set(c, CTX_ACCURACY_TEXTS, buf);
    ctx_set(c, CTX_RSS, in->env->rss_reset_ok
                                ? "per cell: VmHWM after a reset through /proc/self/clear_refs"
                                : "process peak (ru_maxrss), not reset between cells");
    shard_context_add(c, in->shard, in->pl, in->pr); /* itera_cells, the cell list hash */
    alloc_context_add(c, in->alloc);
    return c;
}

/* ---- peak stored in the journal header, so a resumed run uses the same one ---- */

static json_t *peak_json(const peak_result *p)
{
    return json_pack("{s:i, s:i, s:i, s:f, s:f, s:f, s:f}", "threads", p->threads,
                     "threads_used", p->threads_used, "cores_available", p->cores_available,
                     "fp32_gflops_core", p->fp32_gflops_core, "fp32_gflops_all",
                     p->fp32_gflops_all, "int8_gmacs_core", p->int8_gmacs_core,
                     "int8_gmacs_all", p->int8_gmacs_all);
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
    p->threads_used = (int)json_integer_value(json_object_get(j, "threads_used"));
    p->cores_available = (int)json_integer_value(json_object_get(j, "cores_available"));
    p->fp32_path = p->int8_path = "journal";
    return p->threads > 0 && p->threads_used > 0; /* a journal of an older probe: probe again */
}

/* What else must match for --resume to continue a journal (platform and profile names
 * are checked first): the overrides, emulation, the model and the shard. Returns a new
 * object. */
static json_t *run_signature(const profile *pr, const runner_opts *o)
{
    char sh[32];
    return json_pack("{s:s, s:b, s:s, s:s}", "overrides", pr->override_text, "emulated",
                     o->emulate, "model", o->model_dir ? o->model_dir : "synthetic", "shard",
                     shard_format(&o->shard, sh, sizeof sh));
}

/* ---- the run: phases over one sweep state, one unwind (sweep_free) ---- */

/* write(2) of text, for the signal handler (only async-signal-safe calls). */
static void put_err(const char *text)
{
    ssize_t w = write(STDERR_FILENO, text, strlen(text));
    (void)w;
}

static void on_signal(int sig)
{
    if (!g_stop) {
        g_stop = 1;
        put_err("\nitera-bench: interrupted: stopping when the current cell's function "
                "returns; finished cells are kept (Ctrl-C again stops at once)\n");
        return;
    }
    char num[24];
    int k = (int)g_kept, j = (int)sizeof num - 1;
    num[j] = '\0';
    do {
        num[--j] = (char)('0' + k % 10);
        k /= 10;
    } while (k > 0 && j > 0);
    put_err("\nitera-bench: stopped: ");
    put_err(num + j);
    put_err(" finished cell(s) kept in ");
    put_err(g_journal_path);
    put_err("; resume with:\n  ");
    put_err(g_resume_cmd);
    put_err("\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Everything one sweep makes, in the order the phases make it. sweep_free undoes all of
 * it (what is still zero is skipped), so a phase fails by returning its status. */
typedef struct sweep {
    const runner_opts *o;
    bench_error *err;
    char msg[ERRN];         /* scratch for alloc_too_small's message */
    /* load_inputs */
    platform pl;
    profile pr;
    char **gargv;           /* the flags Google Benchmark saw */
    char gb_reps[64], gb_mint[64], gb_warm[64];
    /* plan_cells */
    machine_info machine;   /* this host's fingerprint (machine.h) */
    pin_topo *topo;
    pin_plan plan;
    alloc_info alloc;       /* the node, the Slurm job, the CPUs this process may use */
    bench_cell *cells;
    int ncells;
    shard_info shard;       /* the full cell list; the cells kept are this shard's */
    fam_env env;
    bool env_ready;
    char out[PATH_MAX], jpath[PATH_MAX + 16], logpath[PATH_MAX + 16];
    char model_text[PATH_MAX + 96], git_text[256], compiler_text[1024]; /* run_strings */
    /* select_cells */
    const char *filter;     /* --benchmark_filter, NULL when not given */
    bool *selected;         /* per cell */
    int nselected;
    /* load_journal */
    journal_data jd;
    bool resumed;
    /* probe_machine */
    counters *ctr;
    char ctr_desc[ERRN + 16];
    peak_result peak;
    const peak_result *peakp;
    char peak_err[512];
    json_t *context;
    /* run_cells: the state the Google Benchmark callbacks share */
    runner r;
    /* finish */
    json_t *root;
} sweep;

/* Platform, profile (+ --set overrides) and the Google Benchmark flags: the profile's
 * repetitions and min time first, so the user's own --benchmark_* flags (later) win. */
static bench_status load_inputs(sweep *s)
{
    const runner_opts *o = s->o;
    char path[PATH_MAX];
    const char *pname = o->platform ? o->platform : "embedded";
    bench_status st;
    if ((st = bench_data_find("platforms", pname, path, sizeof path, s->err)) != BENCH_OK ||
        (st = platform_load(path, &s->pl, s->err)) != BENCH_OK)
        return st;
    const char *prname = o->profile ? o->profile : "default";
    if ((st = bench_data_find("profiles", prname, path, sizeof path, s->err)) != BENCH_OK ||
        (st = profile_load(path, &s->pr, s->err)) != BENCH_OK)
        return st;
    for (int i = 0; i < o->nsets; i++)
        if ((st = profile_override(&s->pr, o->sets[i], s->err)) != BENCH_OK)
            return st;

    enum { NPRE = 3 };
    s->gargv = calloc((size_t)o->gb_argc + NPRE + 1, sizeof *s->gargv);
    if (!s->gargv)
        return bench_fail(s->err, BENCH_ERR_NOMEM, "out of memory");
    snprintf(s->gb_reps, sizeof s->gb_reps, "--benchmark_repetitions=%d", s->pr.repetitions);
    snprintf(s->gb_mint, sizeof s->gb_mint, "--benchmark_min_time=%g", s->pr.min_time);
    /* One warm-up of min_time per cell (GB runs it once, before the first repetition).
     * --serve sets it per request instead (serve_cells): GB would also run the global one
     * before a fixed iteration count, which takes no warm-up of its own. */
    snprintf(s->gb_warm, sizeof s->gb_warm, "--benchmark_min_warmup_time=%g",
             o->serve ? 0.0 : s->pr.min_time);
    s->gargv[0] = o->gb_argc > 0 ? o->gb_argv[0] : (char *)"itera-bench";
    s->gargv[1] = s->gb_reps;
    s->gargv[2] = s->gb_mint;
    s->gargv[3] = s->gb_warm;
    for (int i = 1; i < o->gb_argc; i++)
        s->gargv[i + NPRE] = o->gb_argv[i];
    int gargc = (o->gb_argc > 0 ? o->gb_argc : 1) + NPRE;
    if (gb_initialize(&gargc, s->gargv) != 0)
        return bench_fail(s->err, BENCH_ERR_INPUT, "%s", gb_error());
    if (gargc > 1)
        return bench_fail(s->err, BENCH_ERR_INPUT, "unknown option '%s' (see itera-bench run --help)",
                    s->gargv[1]);
    return BENCH_OK;
}

/* The host, the worker plan, the cells and the model they run on, and where results go. */
static bench_status plan_cells(sweep *s)
{
    const runner_opts *o = s->o;
    bench_error be;
    if (machine_read(NULL, itera_isa_name(itera_isa_best()), &s->machine, &be) != BENCH_OK)
        return bench_fail(s->err, BENCH_ERR_SYSTEM, "%s", be.msg);
    if (machine_choose_name(&s->machine, o->machine, &be) != BENCH_OK)
        return bench_fail(s->err, BENCH_ERR_INPUT, "%s", be.msg);
    bench_status st = pin_topology_load(&s->topo, NULL, &be);
    if (st != BENCH_OK)
        return bench_fail(s->err, st, "topology: %s", be.msg);
    int host_cores = pin_topo_cores(s->topo); /* the allowed ones (pin.h) */
    alloc_read(&s->alloc, s->topo);
    platform_resolve(&s->pl, host_cores);
    if (!o->emulate && (st = platform_check_fits(&s->pl, host_cores, s->err)) != BENCH_OK) {
        if (s->alloc.slurm || s->alloc.restricted) { /* the allocation is the limit */
            alloc_too_small(&s->alloc, s->pl.name, s->pl.cores, false, s->msg, sizeof s->msg);
            return bench_fail(s->err, st, "%s", s->msg);
        }
        return st;
    }
    if ((st = pin_plan_make(s->topo, s->pl.threads, s->pl.binding, o->emulate, &s->plan,
                            &be)) != BENCH_OK)
        return bench_fail(s->err, st, "platform %s: %s", s->pl.name, be.msg);

    if ((st = profile_cells(&s->pr, s->pl.threads, &s->cells, &s->ncells, s->err)) != BENCH_OK)
        return st;
    if (s->ncells == 0)
        return bench_fail(s->err, BENCH_ERR_INPUT, "profile %s has no cells", s->pr.name);
    /* Cell selection: a shard keeps only its cells (shard.h), the full list is recorded. */
    if (shard_apply(&o->shard, s->cells, &s->ncells, &s->shard) != 0)
        return bench_fail(s->err, BENCH_ERR_NOMEM, "out of memory");
    if (s->ncells == 0) {
        char sh[32];
        return bench_fail(s->err, BENCH_ERR_INPUT, "shard %s of profile %s has no cells (the profile "
                    "has %d; use at most %d shards)", shard_format(&o->shard, sh, sizeof sh),
                    s->pr.name, s->shard.total_cells, s->shard.total_cells);
    }
    for (int i = 0; i < s->ncells; i++)
        if (s->cells[i].threads > s->pl.threads)
            return bench_fail(s->err, BENCH_ERR_INPUT, "%s: threads %d is more than platform %s's %d "
                        "worker threads; use threads = platform or a bigger platform",
                        s->cells[i].name, s->cells[i].threads, s->pl.name, s->pl.threads);

    fam_env *env = &s->env;
    env->topo = s->topo;
    env->binding = s->pl.binding;
    env->oversubscribe = o->emulate;
    env->emulated = o->emulate;
    env->model_dir = o->model_dir;
    env->seed = ITERA_DEFAULT_SEED;
    env->text_accuracy = s->pr.text_accuracy;
    env->peak_slots = s->plan.slots;
    env->run_cores = s->pl.cores > 0 && s->pl.cores < s->plan.slots ? s->pl.cores : s->plan.slots;
    if ((st = fam_env_init(env, s->err)) != BENCH_OK)
        return st;
    s->env_ready = true;
    for (int i = 0; i < s->ncells; i++)
        if ((st = fam_cell_check(env, &s->cells[i], &be)) != BENCH_OK)
            return bench_fail(s->err, st, "profile %s: %s", s->pr.name, be.msg);

    run_strings(o->model_dir, env->seed, s->model_text, sizeof s->model_text, s->git_text,
                sizeof s->git_text, s->compiler_text, sizeof s->compiler_text);
    if (o->out) {
        snprintf(s->out, sizeof s->out, "%s", o->out);
    } else {
        /* results/<machine>/<platform>/<profile>.json, never over another machine's, model's
         * or build's file (rstore.h) */
        char root_dir[PATH_MAX], path[PATH_MAX], why[ERRN];
        runner_root(root_dir, sizeof root_dir);
        char suffix[64] = "";
        if (o->shard.count > 0)
            snprintf(suffix, sizeof suffix, ".shard-%d-of-%d", o->shard.index, o->shard.count);
        rstore_default_path(root_dir, s->machine.name, s->pl.name, s->pr.name, suffix, path,
                            sizeof path);
        run_id mine;
        run_id_make(&mine, &s->machine, s->model_text, s->git_text, s->compiler_text);
        if (rstore_place(path, &mine, s->out, sizeof s->out, why, sizeof why) == RSTORE_BESIDE)
            fprintf(stderr, "itera-bench: %s holds another run (%s): it is kept, and this run "
                    "writes %s beside it\n", path, why, s->out);
    }
    snprintf(s->jpath, sizeof s->jpath, "%s.journal", s->out);
    /* Outputs that exist and are not regular files (a device, a FIFO, a link, a folder)
     * are refused now, before any cell runs, not after the sweep (the writers refuse
     * them too). */
    const char *outs[] = {s->out, s->jpath};
    for (int i = 0; i < 2; i++) {
        struct stat sb;
        if (lstat(outs[i], &sb) == 0 && !S_ISREG(sb.st_mode))
            return bench_fail(s->err, BENCH_ERR_INPUT, "%s: is %s, not a regular file; refusing to "
                              "write %s there", outs[i], S_ISLNK(sb.st_mode) ? "a symbolic link" :
                              S_ISDIR(sb.st_mode) ? "a folder" : "a device, FIFO or socket",
                              i ? "the journal" : "the results");
    }
    size_t len = strlen(s->out);
    if (len > 5 && strcmp(s->out + len - 5, ".json") == 0)
        snprintf(s->logpath, sizeof s->logpath, "%.*s.log", (int)(len - 5), s->out);
    else
        snprintf(s->logpath, sizeof s->logpath, "%s.log", s->out);
    return BENCH_OK;
}

/* Which cells this run does: those --benchmark_filter selects (every cell without one),
 * the rest recorded as filtered out. Google Benchmark's rules: a POSIX extended regular
 * expression searched for in the cell's name; "" or "all" selects everything; a leading
 * '-' selects the cells that do not match. (With --shard, plan_cells has already kept only
 * the shard's cells; the filter narrows those.) */
static bench_status select_cells(sweep *s)
{
    s->selected = calloc((size_t)s->ncells, sizeof *s->selected);
    if (!s->selected)
        return bench_fail(s->err, BENCH_ERR_NOMEM, "out of memory");
    s->filter = gb_filter();
    const char *re = s->filter;
    bool negate = false;
    if (re && re[0] == '-') {
        negate = true;
        re++;
    }
    regex_t rx;
    bool use_rx = re && re[0] && strcmp(re, "all") != 0;
    if (use_rx) {
        int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[256];
            regerror(rc, &rx, why, sizeof why);
            return bench_fail(s->err, BENCH_ERR_INPUT, "--benchmark_filter=%s: not a regular expression: "
                        "%s", s->filter, why);
        }
    }
    s->nselected = 0;
    for (int i = 0; i < s->ncells; i++) {
        bool match = !use_rx || regexec(&rx, s->cells[i].name, 0, NULL, 0) == 0;
        s->selected[i] = use_rx ? match != negate : !negate;
        s->nselected += s->selected[i];
    }
    if (use_rx)
        regfree(&rx);
    if (s->nselected == 0)
        return bench_fail(s->err, BENCH_ERR_INPUT, "--benchmark_filter=%s selects none of the %d cells of "
                    "profile %s (e.g. %s); see them with --benchmark_list_tests", s->filter,
                    s->ncells, s->pr.name, s->cells[0].name);
    return BENCH_OK;
}

/* The runner state the callbacks share: one slot per cell. */
static bench_status init_runner(sweep *s)
{
    runner *r = &s->r;
    r->pl = &s->pl;
    r->pr = &s->pr;
    r->cells = s->cells;
    r->ncells = s->ncells;
    r->selected = s->selected;
    r->fc = calloc((size_t)s->ncells, sizeof *r->fc);
    r->todo = calloc((size_t)s->ncells, sizeof *r->todo);
    r->pending = calloc((size_t)s->ncells, sizeof *r->pending);
    r->journaled = calloc((size_t)s->ncells, sizeof *r->journaled);
    r->load_start = calloc((size_t)s->ncells, sizeof *r->load_start);
    r->load_started = calloc((size_t)s->ncells, sizeof *r->load_started);
    r->load_win = calloc((size_t)s->ncells, sizeof *r->load_win);
    r->requested = calloc((size_t)s->ncells, sizeof *r->requested);
    r->done = json_object();
    r->last_reported = -1;
    r->emulated = s->o->emulate;
    if (!r->fc || !r->todo || !r->pending || !r->journaled || !r->done || !r->load_start ||
        !r->load_started || !r->load_win || !r->requested)
        return bench_fail(s->err, BENCH_ERR_NOMEM, "out of memory");
    bench_error le;
    if (load_rule_from_env(&r->load_rule, &le) != BENCH_OK)
        return bench_fail(s->err, BENCH_ERR_INPUT, "%s", le.msg);
    return BENCH_OK;
}

/* --resume: the journal must be of this platform, profile and signature; its finished
 * cells, peak and context are taken over. Marks the cells still to run. */
static bench_status load_journal(sweep *s)
{
    const runner_opts *o = s->o;
    runner *r = &s->r;
    if (o->resume) {
        bool missing = false;
        bench_error je;
        bench_status jst = journal_read(s->jpath, &s->jd, &missing, &je);
        if (jst != BENCH_OK) {
            if (!missing)
                return bench_fail(s->err, jst, "--resume: %s", je.msg);
            fprintf(stderr, "itera-bench: --resume: no journal at %s; running every cell\n",
                    s->jpath);
        } else {
            const char *jp = json_string_value(json_object_get(s->jd.header, "platform"));
            const char *jx = json_string_value(json_object_get(s->jd.header, "profile"));
            if (!jp || !jx || strcmp(jp, s->pl.name) != 0 || strcmp(jx, s->pr.name) != 0)
                return bench_fail(s->err, BENCH_ERR_INPUT, "--resume: %s is a journal of platform %s, "
                            "profile %s, not %s, %s; run without --resume to start over",
                            s->jpath, jp ? jp : "?", jx ? jx : "?", s->pl.name, s->pr.name);
            /* The rest of what made the journal must match too. */
            json_t *want = run_signature(&s->pr, o);
            const char *key;
            json_t *v;
            bench_status st = BENCH_OK;
            json_object_foreach(want, key, v)
            {
                json_t *had = json_object_get(s->jd.header, key);
                if (!had || !json_equal(had, v)) {
                    char *a = had ? json_dumps(had, JSON_ENCODE_ANY) : NULL;
                    char *b = json_dumps(v, JSON_ENCODE_ANY);
                    st = bench_fail(s->err, BENCH_ERR_INPUT, "--resume: %s was made with %s = %s, this "
                              "run has %s; use the same options, or run without --resume to "
                              "start over", s->jpath, key, a ? a : "(none)", b ? b : "?");
                    free(a);
                    free(b);
                    break;
                }
            }
            json_decref(want);
            if (st != BENCH_OK)
                return st;
            s->resumed = true;
            if (peak_from_json(json_object_get(s->jd.header, "peak"), &s->peak))
                s->peakp = &s->peak;
            s->context = json_deep_copy(json_object_get(s->jd.header, RES_CONTEXT));
            /* Cells of another machine must not join this file. */
            machine_info had;
            bench_error be;
            char why[ERRN - 128];
            if (machine_from_context(s->context, &had, &be) == BENCH_OK &&
                !machine_same(&had, &s->machine, why, sizeof why))
                return bench_fail(s->err, BENCH_ERR_INPUT, "--resume: %s was made on another machine "
                            "(%s); run without --resume to start over", s->jpath, why);
            if (s->jd.partial_tail)
                fprintf(stderr, "itera-bench: --resume: the journal's last line was cut "
                        "short (a cell being written when the run stopped); it runs again\n");
        }
    }
    int ndone = 0;
    for (int i = 0; i < s->ncells; i++) {
        json_t *e = s->resumed ? json_object_get(s->jd.cells, s->cells[i].name) : NULL;
        if (e) {
            json_object_set(r->done, s->cells[i].name, e);
            r->journaled[i] = true;
            ndone++;
        } else if (s->selected[i]) {
            r->todo[i] = true;
            r->total_todo++;
        }
    }
    r->done_before = ndone;
    g_kept = ndone;
    if (s->resumed)
        fprintf(stderr, "itera-bench: resuming %s: %d of %d cells done, %d to run\n", s->jpath,
                ndone, s->ncells, r->total_todo);
    return BENCH_OK;
}

/* Counters, the peak probe and the binding check, then the results' context and the
 * journal (created, or reopened after --resume). */
static bench_status probe_machine(sweep *s)
{
    const runner_opts *o = s->o;
    runner *r = &s->r;
    bench_error be;
    if (counters_open(&s->ctr, &be) != BENCH_OK) {
        s->ctr = NULL;
        fprintf(stderr, "itera-bench: counters: %s\n", be.msg);
    }
    if (s->ctr)
        counters_describe(s->ctr, s->ctr_desc, sizeof s->ctr_desc);
    else
        snprintf(s->ctr_desc, sizeof s->ctr_desc, "none: %s", be.msg);
    s->env.ctr = s->ctr;
    if (!s->peakp && r->total_todo > 0) {
        if (peak_measure(itera_isa_best(), s->pl.threads,
                         s->pl.binding == PIN_BIND_NONE ? NULL : &s->plan, &s->peak,
                         &be) == BENCH_OK)
            s->peakp = &s->peak;
        else {
            bench_fail_msg(s->peak_err, sizeof s->peak_err, "%s", be.msg);
            fprintf(stderr, "itera-bench: peak probe: %s (no pct_peak)\n", s->peak_err);
        }
    }
    s->env.peak = s->peakp;
    bench_status st;
    char cpus[512] = "", isa[64] = "";
    if (r->total_todo > 0 &&
        (st = fam_binding_check(&s->env, s->pl.threads, cpus, sizeof cpus, isa, sizeof isa,
                                &be)) != BENCH_OK)
        return bench_fail(s->err, st, "platform %s: %s", s->pl.name, be.msg);
    if (!s->context) {
        ctx_inputs in = { .machine = &s->machine, .pl = &s->pl, .pr = &s->pr, .topo = s->topo, .emulated = o->emulate,
                          .worker_cpus = cpus, .counters_desc = s->ctr_desc, .peak = s->peakp,
                          .peak_err = s->peak_err, .env = &s->env, .model_dir = o->model_dir,
                          .shard = &s->shard, .alloc = &s->alloc, .model_text = s->model_text,
                          .git_text = s->git_text, .compiler_text = s->compiler_text };
        s->context = build_context(&in);
    } else {
        ctx_set(s->context, CTX_RESUMED, "true");
    }
    char rule[512];
    ctx_set(s->context, CTX_CONTENTION, load_rule_describe(&r->load_rule, rule, sizeof rule));

    if (s->resumed) {
        return journal_reopen(s->jpath, s->jd.valid_bytes, &r->jr, s->err);
    }
    json_t *h = json_pack("{s:i, s:s, s:s, s:i, s:O}", RES_JOURNAL, JOURNAL_VERSION,
                          "platform", s->pl.name, "profile", s->pr.name, "cells", s->ncells,
                          RES_CONTEXT, s->context);
    if (s->peakp)
        json_object_set_new(h, "peak", peak_json(s->peakp));
    json_t *sig = run_signature(&s->pr, o);
    json_object_update(h, sig);
    json_decref(sig);
    bench_status jrc = journal_create(s->jpath, h, &r->jr, s->err);
    json_decref(h);
    return jrc;
}

/* --serve (runner.h): one cell per request line, each run alone through Google Benchmark
 * and released (its workers gone) before the answer, so the process sits idle between
 * requests.
 *
 * Requests: "run CELL" measures as a run does (a warm-up of min_time, then Google Benchmark
 * estimates the iteration count for min_time; prefill cells also take their op profile);
 * "run CELL ITERS" runs exactly ITERS timed iterations after SERVE_FIXED_WARMUP_S of
 * untimed ones (at least one) and skips the op profile: a timing-only sample. ab's rounds
 * after the first run FIT_ITERATIONS, the count that fills min_time at the first round's
 * speed (serve_fit_iterations), which makes a round about a third as long as the first
 * and every round's sample of a cell equally long. Answers:
 * "ok CELL\tCONTENDED\tOTHER_CPU\tPRESSURE\tWHY\tITERATIONS\tFIT_ITERATIONS" (0: no fit)
 * or "err CELL\tMESSAGE". */
#define SERVE_ITERS_MAX 1000000000LL
#define SERVE_FIXED_WARMUP_S 0.01

/* The timed iterations that fill min_time at the speed of run0 (a finished run of
 * ran_iters iterations): ceil(min_time / seconds per iteration), at least 1; 0 when run0
 * has no usable time. Google Benchmark's own estimate aims at 1.4 x min_time (its
 * iteration count grows by that margin), so a round run with this count is about 30%
 * shorter with every sample still at least min_time long. */
static long long serve_fit_iterations(const json_t *run0, long long ran_iters, double min_time)
{
    double per_ns;
    if (ran_iters < 1 || !(min_time > 0) || !gb_entry_metric(run0, MET_REAL_TIME, &per_ns) ||
        !(per_ns > 0))
        return 0;
    double fit = ceil(min_time * 1e9 / per_ns);
    return fit < 1 ? 1 : fit > (double)SERVE_ITERS_MAX ? SERVE_ITERS_MAX : (long long)fit;
}

/* "run CELL [ITERS]" into the cell name (in place) and ITERS (0: not given); false when
 * ITERS is there but not a count in 1..SERVE_ITERS_MAX. */
static bool serve_request(char *name, long long *iters)
{
    *iters = 0;
    char *sp = strrchr(name, ' ');
    if (!sp)
        return true;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(sp + 1, &end, 10);
    if (end == sp + 1 || *end || errno || v < 1 || v > SERVE_ITERS_MAX)
        return false;
    *sp = '\0';
    *iters = v;
    return true;
}
static bench_status serve_cells(sweep *s, const gb_options *gopt)
{
    runner *r = &s->r;
    const char *log = s->logpath;
    fprintf(stderr, "itera-bench: serving %d cells of platform %s, profile %s -> %s (Google "
            "Benchmark's output in %s)\n", s->ncells, s->pl.name, s->pr.name, s->out, log);
    progress_init(&r->prog, stderr, false, 0, s->ncells, 0, s->ncells);
    printf("ready %d\n", s->ncells);
    fflush(stdout);
    r->t0 = mono_s();
    char line[4096];
    bool first = true;
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (strcmp(line, "quit") == 0)
            break;
        char *name = strncmp(line, "run ", 4) == 0 ? line + 4 : NULL;
        long long iters = 0;
        bool iters_ok = !name || serve_request(name, &iters);
        int i = -1;
        for (int k = 0; name && iters_ok && k < s->ncells && i < 0; k++)
            if (strcmp(s->cells[k].name, name) == 0)
                i = k;
        if (i < 0 || !r->todo[i] || r->requested[i]) {
            printf("err %s\t%s\n", name ? name : line,
                   !name ? "expected 'run CELL [ITERATIONS]' or 'quit'"
                   : !iters_ok ? "the iteration count after the cell is not a whole number "
                                 "from 1 to 1000000000"
                   : i < 0 ? "not a cell of this platform and profile" : "already run");
            fflush(stdout);
            continue;
        }
        r->requested[i] = true;
        gb_clear();
        int ran = -1;
        gb_options req = *gopt;
        if (iters > 0) {
            req.iterations = iters;
            req.min_time = req.min_warmup_time = 0;
            r->fc[i].timing_only = true;
            r->fc[i].warmup_s = SERVE_FIXED_WARMUP_S;
        } else { /* what the global flags give a run (GB honours a per-benchmark warm-up
                  * only beside a per-benchmark minimum time) */
            req.min_time = req.min_warmup_time = s->pr.min_time;
        }
        if (gb_register(s->cells[i].name, fam_bench, &r->fc[i], &req) == 0) {
            gb_run_opts ro = { .log_path = log, .log_append = !first, .filter = "all" };
            ran = gb_run_with(&ro, on_run, r);
        }
        first = false;
        flush_all(r);
        if (r->active)
            fam_cell_release(r->active);
        r->active = NULL;
        json_t *entry = json_object_get(r->done, s->cells[i].name);
        json_t *run0 = json_array_get(json_object_get(entry, "runs"), 0);
        const load_window *w = &r->load_win[i];
        if (ran < 0)
            printf("err %s\t%s\n", s->cells[i].name, gb_error());
        else if (!run0)
            printf("err %s\tno results\n", s->cells[i].name);
        else if (json_is_true(json_object_get(run0, ENT_ERROR_OCCURRED)))
            printf("err %s\t%s\n", s->cells[i].name,
                   json_string_value(json_object_get(run0, ENT_ERROR_MESSAGE)));
        else {
            long long ran_iters = json_integer_value(json_object_get(run0, ENT_ITERATIONS));
            printf("ok %s\t%d\t%.3f\t%.1f\t%s\t%lld\t%lld\n", s->cells[i].name,
                   w->contended ? 1 : 0, w->other_cpu,
                   isnan(w->pressure_pct) ? -1.0 : w->pressure_pct, w->why, ran_iters,
                   serve_fit_iterations(run0, ran_iters, s->pr.min_time));
        }
        fflush(stdout);
    }
    journal_close(r->jr);
    r->jr = NULL;
    return BENCH_OK;
}

/* Registers the cells still to run and runs them through Google Benchmark; every
 * finished cell is journaled as it completes (the callbacks above). */
static bench_status run_cells(sweep *s)
{
    const runner_opts *o = s->o;
    runner *r = &s->r;
    s->env.on_enter = on_enter;
    s->env.user = r;
    gb_options gopt = { 0 };
    gopt.use_real_time = true;
    gopt.unit = GB_UNIT_US;
    for (int i = 0; i < s->ncells; i++) {
        fam_cell_init(&r->fc[i], &s->env, &s->cells[i], i);
        if (!o->serve && r->todo[i] &&
            gb_register(s->cells[i].name, fam_bench, &r->fc[i], &gopt) != 0)
            return bench_fail(s->err, BENCH_ERR_SYSTEM, "%s", gb_error());
    }
    if (o->serve)
        return serve_cells(s, &gopt);
    fprintf(stderr, "itera-bench: platform %s (%d cores, %d threads%s), profile %s: %d cells "
            "-> %s\n", s->pl.name, s->pl.cores, s->pl.threads, o->emulate ? ", EMULATED" : "",
            s->pr.name, s->ncells, s->out);
    if (s->nselected < s->ncells)
        fprintf(stderr, "itera-bench: --benchmark_filter=%s: %d of the %d cells selected, %d "
                "filtered out\n", s->filter, s->nselected, s->ncells, s->ncells - s->nselected);
    fprintf(stderr, "itera-bench: Google Benchmark's output: %s%s\n", s->logpath,
            o->verbose ? " (and here: --verbose)" : " (--verbose or V=1 to see it here)");

    snprintf(g_journal_path, sizeof g_journal_path, "%s", s->jpath);
    snprintf(g_resume_cmd, sizeof g_resume_cmd, "%s", o->resume_command ? o->resume_command
                                                      : "itera-bench run ... --resume");
    g_stop = 0;
    struct sigaction sa = { 0 }, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* A live line on a terminal; with --verbose GB's lines go there too, so plain lines. */
    progress_init(&r->prog, stderr, isatty(STDERR_FILENO) && !o->verbose, terminal_width(),
                  r->done_before + r->total_todo, r->done_before, r->total_todo);
    r->t0 = mono_s();
    gb_run_opts ro = { .log_path = s->logpath, .log_append = s->resumed, .echo = o->verbose,
                       .filter = "all" };
    int ran = r->total_todo > 0 ? gb_run_with(&ro, on_run, r) : 0;
    flush_all(r);
    progress_end(&r->prog);
    if (r->active)
        fam_cell_release(r->active);
    r->active = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (journal_close(r->jr) != 0) {
        fprintf(stderr, "itera-bench: %s: closing the journal failed: %s\n", s->jpath, strerror(errno));
        r->journal_failed = true;
    }
    r->jr = NULL;
    if (ran < 0)
        return bench_fail(s->err, BENCH_ERR_SYSTEM, "Google Benchmark run failed: %s", gb_error());
    if (g_stop)
        return bench_fail(s->err, BENCH_ERR_FAILED, "interrupted: %d of %d cells kept in %s (the results "
                    "file is not written); resume with: %s", (int)g_kept, s->ncells, s->jpath,
                    g_resume_cmd);
    return BENCH_OK;
}

/* Names, in the context, the cells whose GFLOP/s exceeded the measured peak in some
 * repetition (families.c left their pct_peak out): "none", or "N cell(s) above the
 * measured peak, so it is suspect (probe under load?): NAME, ...". */
static void peak_suspects(json_t *root, json_t *ctx)
{
    char buf[2048] = "";
    size_t used = 0;
    int n = 0;
    const char *last = NULL;
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(root, RES_BENCHMARKS), k, b)
    {
        const char *name = json_string_value(json_object_get(b, ENT_RUN_NAME));
        json_t *flag = json_object_get(b, MET_PEAK_SUSPECT);
        if (!name || !json_is_number(flag) || json_number_value(flag) < 1 ||
            json_object_get(b, ENT_AGGREGATE_NAME) || (last && strcmp(last, name) == 0))
            continue;
        last = name;
        if (n++ < 8 && used < sizeof buf)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", n > 1 ? ", " : "", name);
    }
    if (n == 0) {
        ctx_set(ctx, CTX_PEAK_SUSPECT, "none");
        return;
    }
    char text[2300];
    snprintf(text, sizeof text, "%d cell(s) above the measured peak, so the peak is suspect (the "
             "probe ran under load?); their pct_peak is left out: %s%s", n, buf, n > 8 ? ", ..." : "");
    ctx_set(ctx, CTX_PEAK_SUSPECT, text);
}

/* The final file, written atomically: every cell with results (this run's and the
 * journal's), the filter and the cells it left out; then what failed or is missing, and
 * the summary table (from the file as written) on stdout. */
static bench_status finish(sweep *s)
{
    const runner_opts *o = s->o;
    runner *r = &s->r;
    const char **names = malloc((size_t)s->ncells * sizeof *names);
    json_t *left_out = json_array();
    if (!names || !left_out) {
        free(names);
        json_decref(left_out);
        return bench_fail(s->err, BENCH_ERR_NOMEM, "out of memory");
    }
    int missing = 0, filtered = 0, unused = 0, nnames = 0;
    for (int i = 0; i < s->ncells; i++) {
        if (o->serve && !r->requested[i])
            continue; /* --serve: the file holds the cells asked for */
        names[nnames++] = s->cells[i].name;
        if (json_object_get(r->done, s->cells[i].name))
            continue;
        if (s->selected[i] || o->serve) {
            missing++;
        } else {
            filtered++;
            json_array_append_new(left_out, json_string(s->cells[i].name));
        }
    }
    s->root = results_assemble(s->context, names, nnames, r->done, &unused);
    free(names);
    json_t *rc_ctx = json_object_get(s->root, RES_CONTEXT);
    char buf[64];
    snprintf(buf, sizeof buf, "%d", missing);
    ctx_set(rc_ctx, CTX_MISSING_CELLS, buf);
    snprintf(buf, sizeof buf, "%d", r->contended_cells);
    ctx_set(rc_ctx, CTX_CONTENDED_CELLS, buf);
    ctx_set(rc_ctx, CTX_FILTER, s->filter ? s->filter : "");
    snprintf(buf, sizeof buf, "%d", s->nselected);
    ctx_set(rc_ctx, CTX_CELLS_SELECTED, buf);
    snprintf(buf, sizeof buf, "%d", filtered);
    ctx_set(rc_ctx, CTX_CELLS_FILTERED_OUT, buf);
    json_object_set_new(s->root, RES_FILTERED_OUT, left_out);
    peak_suspects(s->root, rc_ctx);
    shard_results_add(s->root, &s->shard);
    bench_status wst = results_write_atomic(s->out, s->root, s->err);
    if (wst != BENCH_OK)
        return wst;

    int failed = 0;
    const char *first_fail = NULL, *first_msg = NULL;
    size_t k;
    json_t *b;
    json_array_foreach(json_object_get(s->root, RES_BENCHMARKS), k, b)
    {
        if (json_is_true(json_object_get(b, ENT_ERROR_OCCURRED)) &&
            json_integer_value(json_object_get(b, ENT_REPETITION_INDEX)) == 0 &&
            !json_object_get(b, ENT_AGGREGATE_NAME)) {
            if (!failed++) {
                first_fail = json_string_value(json_object_get(b, ENT_RUN_NAME));
                first_msg = json_string_value(json_object_get(b, ENT_ERROR_MESSAGE));
            }
        }
    }
    char tdur[32];
    progress_fmt_duration(mono_s() - r->t0, tdur, sizeof tdur);
    fprintf(stderr, "itera-bench: %d of %d cells in %s (%d this run, %s)%s%s\n",
            nnames - missing - filtered, nnames, s->out, r->finished, tdur,
            filtered ? ", the rest filtered out" : "", o->emulate ? ", EMULATED" : "");

    if (o->serve) {
        /* the driver (ab) reads stdout: the last line, no summary */
        printf("bye %s\n", s->out);
        fflush(stdout);
    } else {
        /* The summary, from the file as written. */
        gb_file f;
        fflush(stderr);
        bench_error le;
        if (gb_file_load(s->out, &f, &le) == BENCH_OK) {
            printf("\n");
            summary_print(stdout, &f);
            gb_file_free(&f);
        } else {
            fprintf(stderr, "itera-bench: warning: no summary: %s\n", le.msg);
        }
        printf("\nresults: %s\nlog:     %s\n", s->out, s->logpath);
        fflush(stdout);
    }

    /* One message for everything that went wrong (main prints it). */
    char why[ERRN] = "";
    size_t used = 0;
    if (failed)
        used += (size_t)snprintf(why + used, sizeof why - used, "%d cell(s) failed; first: "
                                 "%.200s: %.300s", failed, first_fail ? first_fail : "?",
                                 first_msg ? first_msg : "?");
    if (missing && used < sizeof why)
        used += (size_t)snprintf(why + used, sizeof why - used, "%s%d selected cell(s) did not "
                                 "finish; rerun with --resume to complete the file",
                                 used ? "; " : "", missing);
    if (r->journal_failed && used < sizeof why)
        snprintf(why + used, sizeof why - used, "%sthe journal %.400s could not be written",
                 used ? "; " : "", s->jpath);
    return why[0] ? bench_fail(s->err, BENCH_ERR_FAILED, "%s", why) : BENCH_OK;
}

static void sweep_free(sweep *s)
{
    runner *r = &s->r;
    if (r->fc)
        for (int i = 0; i < s->ncells; i++)
            fam_cell_free(&r->fc[i]);
    if (r->pending)
        for (int i = 0; i < s->ncells; i++)
            json_decref(r->pending[i]);
    journal_close(r->jr);
    free(r->fc);
    free(s->selected);
    free(r->todo);
    free(r->pending);
    free(r->journaled);
    free(r->load_start);
    free(r->load_started);
    free(r->load_win);
    free(r->requested);
    json_decref(r->done);
    json_decref(s->root);
    json_decref(s->context);
    journal_data_free(&s->jd);
    if (s->env_ready)
        fam_env_free(&s->env);
    counters_close(s->ctr);
    free(s->cells);
    shard_info_free(&s->shard);
    pin_topology_free(s->topo);
    free(s->gargv);
}

bench_status runner_run(const runner_opts *o, bench_error *err)
{
    sweep *s = calloc(1, sizeof *s);
    if (err)
        err->msg[0] = '\0';
    if (!s) {
        if (err)
            snprintf(err->msg, sizeof err->msg, "out of memory");
        return BENCH_ERR_NOMEM;
    }
    s->o = o;
    s->err = err;
    bench_status st = load_inputs(s);
    if (st == BENCH_OK)
        st = plan_cells(s);
    if (st == BENCH_OK)
        st = select_cells(s);
    if (st == BENCH_OK && gb_listing_only()) {
        for (int i = 0; i < s->ncells; i++)
            if (s->selected[i])
                printf("%s\n", s->cells[i].name);
    } else {
        if (st == BENCH_OK)
            st = init_runner(s);
        if (st == BENCH_OK)
            st = load_journal(s);
        if (st == BENCH_OK)
            st = probe_machine(s);
        if (st == BENCH_OK)
            st = run_cells(s);
        if (st == BENCH_OK)
            st = finish(s);
    }
    sweep_free(s);
    free(s);
    return st;
}
