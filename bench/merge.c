/*
 * merge.c: shard results files back into one results file. See merge.h.
 */
#include "merge.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine.h"
#include "results.h"
#include "schema.h"
#include "shard.h"
#include "status.h"

typedef struct shard_file {
    const char *path;
    json_t *root;  /* owned */
    json_t *ctx;   /* borrowed from root */
    shard_spec spec;
} shard_file;

static const char *ctx_str(const json_t *ctx, const char *key)
{
    return json_string_value(json_object_get(ctx, key));
}

/* What one sweep's shards must share, grouped by what the user would call it. */
static const struct {
    const char *what;
    const char *key;
} same_sweep[] = {
    { "profile", CTX_PROFILE },     { "profile", CTX_OVERRIDES },
    { "profile", CTX_REPETITIONS }, { "profile", CTX_MIN_TIME },
    { "platform", CTX_PLATFORM },   { "platform", CTX_PLATFORM_CORES },
    { "platform", CTX_THREADS },    { "platform", CTX_BINDING },
    { "platform", CTX_EMULATED },   { "model", CTX_MODEL },
    { "build", CTX_GIT },           { "build", CTX_COMPILER },
    { "sweep", CTX_SHARD_COUNT },   { "sweep", CTX_CELLS },
    { "sweep", CTX_CELL_LIST_HASH },
};

/* Context keys that describe one shard's run rather than the sweep: left out of the
 * merged context, kept per shard under "itera_shards". */
static const char *const per_shard_keys[] = {
    CTX_SHARD, CTX_SHARD_INDEX, CTX_SHARD_COUNT, CTX_SHARD_CELLS,
    CTX_SLURM_JOB_ID, CTX_SLURM_ARRAY_JOB_ID, CTX_SLURM_ARRAY_TASK_ID,
};

/* A context value as text, for messages (strings as they are, others as JSON). */
static void value_text(const json_t *v, char *out, size_t n)
{
    if (!v) {
        snprintf(out, n, "(none)");
    } else if (json_is_string(v)) {
        snprintf(out, n, "'%s'", json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

static bench_status load_shard(const char *path, shard_file *f, bench_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    struct stat st;
    if (stat(path, &st) != 0)
        return bench_fail(err, BENCH_ERR_INPUT, "%s: no such file", path);
    if (!S_ISREG(st.st_mode))
        return bench_fail(err, BENCH_ERR_INPUT, "%s: not a regular file", path);
    json_error_t je;
    f->root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!f->root)
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
    f->ctx = json_object_get(f->root, RES_CONTEXT);
    if (!json_is_object(f->ctx) || !json_is_array(json_object_get(f->root, RES_BENCHMARKS)))
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: not a Google Benchmark results file (no context object or "
                          "benchmarks array)", path);
    const char *sh = ctx_str(f->ctx, CTX_SHARD);
    if (!sh)
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: not a shard file (no itera_shard in its context): merge takes "
                          "the files of `itera-bench run --shard I/N`", path);
    bench_error se;
    if (shard_parse(sh, &f->spec, &se) != BENCH_OK)
        return bench_fail(err, BENCH_ERR_INPUT, "%s: context itera_shard: %s", path, se.msg);
    json_t *list = json_object_get(f->root, RES_CELL_LIST);
    const char *total = ctx_str(f->ctx, CTX_CELLS);
    const char *hash = ctx_str(f->ctx, CTX_CELL_LIST_HASH);
    if (!json_is_array(list) || !total || !hash)
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: a shard file needs itera_cell_list, itera_cells and "
                          "itera_cell_list_hash; it lacks %s", path,
                          !json_is_array(list) ? "itera_cell_list (an array of names)"
                          : !total             ? CTX_CELLS
                                               : CTX_CELL_LIST_HASH);
    size_t k = json_array_size(list);
    if (k == 0 || k > INT_MAX || (size_t)atol(total) != k)
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: itera_cell_list has %zu names but itera_cells is '%s'", path,
                          k, total);
    const char **names = malloc(k * sizeof *names);
    if (!names)
        return bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
        names[i] = json_string_value(json_array_get(list, i));
        if (!names[i]) {
            free(names);
            return bench_fail(err, BENCH_ERR_INPUT,
                              "%s: itera_cell_list[%zu] is not a string", path, i);
        }
    }
    char h[SHARD_HASH_LEN];
    shard_hash_names(names, (int)k, h);
    free(names);
    if (strcmp(h, hash) != 0)
        return bench_fail(err, BENCH_ERR_INPUT,
                          "%s: itera_cell_list hashes to %s, but its itera_cell_list_hash is "
                          "%s (the file was changed)", path, h, hash);
    return BENCH_OK;
}

static int cmp_index(const void *a, const void *b)
{
    const shard_file *x = a, *y = b;
    return (x->spec.index > y->spec.index) - (x->spec.index < y->spec.index);
}

/* ---- re-run commands ---- */


/* Appends s to buf, single-quoted for the shell when it needs it. */
static void add_word(char *buf, size_t n, const char *s)
{
    size_t len = strlen(buf);
    bool plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "-_./:=,@+%", *p))
            plain = false;
    if (len && len < n - 1)
        buf[len++] = ' ';
    if (plain) {
        snprintf(buf + len, n - len, "%s", s);
        return;
    }
    if (len < n - 1)
        buf[len++] = '\'';
    for (const char *p = s; *p && len < n - 6; p++) {
        if (*p == '\'') {
            memcpy(buf + len, "'\\''", 4);
            len += 4;
        } else {
            buf[len++] = *p;
        }
    }
    if (len < n - 1)
        buf[len++] = '\'';
    buf[len] = '\0';
}

/* The name `run` takes for a data file: NAME when it is <something>/<kind>/NAME.ini, else
 * the path. */
static void data_arg(const char *path, const char *name, const char *kind, char *out, size_t n)
{
    char tail[PATH_MAX];
    snprintf(tail, sizeof tail, "/%s/%s.ini", kind, name ? name : "");
    size_t lp = path ? strlen(path) : 0, lt = strlen(tail);
    if (!path || !*path || (lp >= lt && strcmp(path + lp - lt, tail) == 0) ||
        (lp == lt - 1 && strcmp(path, tail + 1) == 0))
        snprintf(out, n, "%s", name ? name : "?");
    else
        snprintf(out, n, "%s", path);
}

/* The results path of shard `index` given a sibling shard file of shard `known`: its
 * basename with "shard-<known>" replaced by "shard-<index>"; NULL when it has none. */
static bool sibling_path(const char *path, int known, int index, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char needle[32];
    snprintf(needle, sizeof needle, "shard-%d", known);
    for (const char *p = strstr(base, needle); p; p = strstr(p + 1, needle)) {
        const char *after = p + strlen(needle);
        if (*after >= '0' && *after <= '9')
            continue;
        snprintf(out, n, "%.*sshard-%d%s", (int)(p - path), path, index, after);
        return true;
    }
    return false;
}

/* `itera-bench run ...` that runs the missing cells of shard index (of ref's sweep),
 * resuming from the journal beside `out_path`. */
static void rerun_command(const char *program, const json_t *ctx, int index, int count,
                          const char *out_path, char *buf, size_t n)
{
    char arg[PATH_MAX + 64];
    buf[0] = '\0';
    add_word(buf, n, program && *program ? program : "itera-bench");
    add_word(buf, n, "run");
    add_word(buf, n, "--platform");
    data_arg(ctx_str(ctx, CTX_PLATFORM_FILE), ctx_str(ctx, CTX_PLATFORM), "platforms",
             arg, sizeof arg);
    add_word(buf, n, arg);
    add_word(buf, n, "--profile");
    data_arg(ctx_str(ctx, CTX_PROFILE_FILE), ctx_str(ctx, CTX_PROFILE), "profiles", arg,
             sizeof arg);
    add_word(buf, n, arg);
    const char *ov = ctx_str(ctx, CTX_OVERRIDES);
    if (ov && *ov) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", ov);
        char *save = NULL;
        for (char *s = strtok_r(tmp, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
            while (*s == ' ')
                s++;
            if (!*s)
                continue;
            add_word(buf, n, "--set");
            add_word(buf, n, s);
        }
    }
    const char *model = ctx_str(ctx, CTX_MODEL);
    if (model && strncmp(model, "synthetic", 9) != 0) {
        snprintf(arg, sizeof arg, "%s", model);
        char *sha = strstr(arg, " sha256:");
        if (sha)
            *sha = '\0';
        add_word(buf, n, "--model");
        add_word(buf, n, arg);
    }
    const char *emu = ctx_str(ctx, CTX_EMULATED);
    if (emu && strcmp(emu, "true") == 0)
        add_word(buf, n, "--emulate");
    snprintf(arg, sizeof arg, "%d/%d", index, count);
    add_word(buf, n, "--shard");
    add_word(buf, n, arg);
    add_word(buf, n, "--resume");
    add_word(buf, n, "--out");
    add_word(buf, n, out_path);
}

/* ---- the merge ---- */

void merge_summary_free(merge_summary *sum)
{
    json_decref(sum->missing);
    json_decref(sum->rerun);
    sum->missing = sum->rerun = NULL;
}

static json_t *shard_record(const shard_file *f, int cells)
{
    static const struct {
        const char *out, *key;
    } keep[] = {
        { "node", CTX_NODE },
        { "machine", CTX_MACHINE },
        { CTX_HOST_NAME, CTX_HOST_NAME },
        { "allocation", CTX_ALLOCATION },
        { "worker_cpus", CTX_WORKER_CPUS },
        { CTX_DATE, CTX_DATE },
        { "scheduler", CTX_SCHEDULER },
        { "slurm_job_id", CTX_SLURM_JOB_ID },
        { "slurm_array_job_id", CTX_SLURM_ARRAY_JOB_ID },
        { "slurm_array_task_id", CTX_SLURM_ARRAY_TASK_ID },
        { "slurm_partition", CTX_SLURM_PARTITION },
        { "peak_gflops", CTX_PEAK_GFLOPS },
        { "missing_cells", CTX_MISSING_CELLS },
    };
    char sh[32];
    json_t *o = json_pack("{s:s, s:i, s:s, s:i}", "shard", shard_format(&f->spec, sh, sizeof sh),
                          "index", f->spec.index, "file", f->path, "cells", cells);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(f->ctx, keep[i].key);
        if (v)
            json_object_set(o, keep[i].out, v);
    }
    return o;
}

/* Distinct string values of key over the files, ", "-joined into out. */
static void distinct_values(const shard_file *fs, int nf, const char *key, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < nf; i++) {
        const char *v = ctx_str(fs[i].ctx, key);
        if (!v)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) {
            const char *w = ctx_str(fs[j].ctx, key);
            seen = w && strcmp(v, w) == 0;
        }
        if (!seen && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", v);
    }
}

bench_status merge_shards(const char *const *files, int nfiles, bool allow_machines,
                          const char *program, json_t **out, merge_summary *sum, bench_error *err)
{
    bench_status rc = BENCH_ERR_INPUT;
    *out = NULL;
    memset(sum, 0, sizeof *sum);
    if (nfiles < 1)
        return bench_fail(err, BENCH_ERR_INPUT, "no shard files given");
    shard_file *fs = calloc((size_t)nfiles, sizeof *fs);
    json_t *index_of = json_object(); /* name -> index in the full list */
    json_t *owner = json_object();    /* name -> path of the file that has it */
    json_t *cells = json_object();    /* name -> {"runs": [...], "op_profile": {...}} */
    const char **names = NULL;
    json_t *root = NULL;
    if (!fs || !index_of || !owner || !cells) {
        rc = bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nfiles; i++)
        if ((rc = load_shard(files[i], &fs[i], err)) != BENCH_OK)
            goto out;
    qsort(fs, (size_t)nfiles, sizeof *fs, cmp_index);
    const shard_file *ref = &fs[0];

    /* One sweep. */
    for (int i = 1; i < nfiles; i++) {
        const shard_file *f = &fs[i];
        if (f->spec.index == fs[i - 1].spec.index) {
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "shard %d/%d is given twice: %s and %s", f->spec.index, f->spec.count,
                            fs[i - 1].path, f->path);
            goto out;
        }
        for (size_t k = 0; k < sizeof same_sweep / sizeof same_sweep[0]; k++) {
            json_t *a = json_object_get(ref->ctx, same_sweep[k].key);
            json_t *b = json_object_get(f->ctx, same_sweep[k].key);
            if (a && b && json_equal(a, b))
                continue;
            char va[512], vb[512];
            value_text(a, va, sizeof va);
            value_text(b, vb, sizeof vb);
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "%s and %s are not shards of one sweep: their %s differs (%s = %s in "
                            "the first, %s in the second); merge only the shards of one run", ref->path,
                            f->path, same_sweep[k].what, same_sweep[k].key, va, vb);
            goto out;
        }
        if (!json_equal(json_object_get(ref->root, RES_CELL_LIST),
                        json_object_get(f->root, RES_CELL_LIST))) {
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "%s and %s list different cells (itera_cell_list)", ref->path, f->path);
            goto out;
        }
    }

    /* One machine (machine.h's fingerprint), unless allowed. */
    bool machines_differ = false;
    machine_info mref;
    bench_error be;
    if (machine_from_context(ref->ctx, &mref, &be) != BENCH_OK) {
        rc = bench_fail(err, BENCH_ERR_INPUT, "%s: no machine fingerprint: %s", ref->path, be.msg);
        goto out;
    }
    for (int i = 1; i < nfiles; i++) {
        machine_info m;
        char why[1024];
        if (machine_from_context(fs[i].ctx, &m, &be) != BENCH_OK) {
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "%s: no machine fingerprint: %s", fs[i].path, be.msg);
            goto out;
        }
        if (machine_same(&mref, &m, why, sizeof why))
            continue;
        machines_differ = true;
        if (!allow_machines) {
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "%s and %s come from different machines (%s); merge them only when "
                            "the platform stands for any such machine: --allow-machines (each cell then "
                            "keeps its machine)", ref->path, fs[i].path, why);
            goto out;
        }
    }

    /* The full cell list. */
    json_t *list = json_object_get(ref->root, RES_CELL_LIST);
    int total = (int)json_array_size(list);
    int count = ref->spec.count;
    names = malloc((size_t)total * sizeof *names);
    if (!names) {
        rc = bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < total; k++) {
        names[k] = json_string_value(json_array_get(list, (size_t)k));
        if (json_object_get(index_of, names[k])) {
            rc = bench_fail(err, BENCH_ERR_INPUT,
                            "%s: itera_cell_list names %s twice", ref->path, names[k]);
            goto out;
        }
        json_object_set_new(index_of, names[k], json_integer(k));
    }

    /* Every benchmark entry into its cell. */
    for (int i = 0; i < nfiles; i++) {
        const shard_file *f = &fs[i];
        json_t *prof = json_object_get(f->root, RES_OP_PROFILE);
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(f->root, RES_BENCHMARKS), k, b)
        {
            const char *rn = json_string_value(json_object_get(b, ENT_RUN_NAME));
            if (!rn) {
                rc = bench_fail(err, BENCH_ERR_INPUT,
                                "%s: benchmarks[%zu] has no run_name", f->path, k);
                goto out;
            }
            json_t *ix = json_object_get(index_of, rn);
            if (!ix) {
                rc = bench_fail(err, BENCH_ERR_INPUT,
                                "%s: benchmark %s is not a cell of the sweep (itera_cell_list)",
                                f->path, rn);
                goto out;
            }
            int idx = (int)json_integer_value(ix);
            if (!shard_has(&f->spec, idx)) {
                rc = bench_fail(err, BENCH_ERR_INPUT,
                                "%s: cell %s (index %d) belongs to shard %d/%d, not to this "
                                "file's shard %d/%d", f->path, rn, idx, idx % count, count, f->spec.index,
                                count);
                goto out;
            }
            const char *had = json_string_value(json_object_get(owner, rn));
            if (had && strcmp(had, f->path) != 0) {
                rc = bench_fail(err, BENCH_ERR_INPUT,
                                "cell %s appears twice: in %s and in %s", rn, had, f->path);
                goto out;
            }
            json_t *cell = json_object_get(cells, rn);
            if (!cell) {
                json_object_set_new(owner, rn, json_string(f->path));
                cell = json_pack("{s:[]}", "runs");
                json_t *op = json_object_get(prof, rn);
                if (op)
                    json_object_set(cell, "op_profile", op);
                json_object_set_new(cells, rn, cell);
            }
            json_t *entry = json_deep_copy(b);
            if (machines_differ) {
                json_object_set(entry, ENT_ITERA_NODE, json_object_get(f->ctx, CTX_NODE));
                json_object_set(entry, ENT_ITERA_MACHINE, json_object_get(f->ctx, CTX_MACHINE));
                json_object_set_new(entry, ENT_ITERA_SHARD, json_integer(f->spec.index));
            }
            json_array_append_new(json_object_get(cell, "runs"), entry);
        }
    }

    /* The merged context. */
    json_t *ctx = json_deep_copy(ref->ctx);
    for (size_t k = 0; k < sizeof per_shard_keys / sizeof per_shard_keys[0]; k++)
        json_object_del(ctx, per_shard_keys[k]);
    json_object_del(ctx, CTX_PLATFORM_FILE);
    json_object_del(ctx, CTX_PROFILE_FILE);
    char buf[2048];
    int missing_shards = 0;
    for (int s = 0, j = 0; s < count; s++) {
        while (j < nfiles && fs[j].spec.index < s)
            j++;
        if (j >= nfiles || fs[j].spec.index != s)
            missing_shards++;
    }
    snprintf(buf, sizeof buf, "%d of %d shards", count - missing_shards, count);
    json_object_set_new(ctx, CTX_MERGED, json_string(buf));
    if (machines_differ) {
        distinct_values(fs, nfiles, CTX_NODE, buf, sizeof buf);
        json_object_set_new(ctx, CTX_NODE, json_string(buf));
        distinct_values(fs, nfiles, CTX_HOST_NAME, buf, sizeof buf);
        json_object_set_new(ctx, CTX_HOST_NAME, json_string(buf));
        distinct_values(fs, nfiles, CTX_MACHINE, buf, sizeof buf);
        json_object_set_new(ctx, CTX_MACHINES, json_string(buf));
        json_object_set_new(ctx, CTX_MACHINES_NOTE,
                            json_string("shards from several machines (--allow-machines): the "
                                        "machine keys are the first shard's; each benchmark "
                                        "entry names its own itera_machine and itera_node"));
    }
    int missing = 0;
    root = results_assemble(ctx, names, total, cells, &missing);
    json_decref(ctx);
    if (!root) {
        rc = bench_fail(err, BENCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(buf, sizeof buf, "%d", missing);
    json_object_set_new(json_object_get(root, RES_CONTEXT), CTX_MISSING_CELLS,
                        json_string(buf));

    /* Where each cell came from, and what is missing. */
    json_t *shards = json_array();
    for (int i = 0; i < nfiles; i++) {
        int have = 0;
        for (int k = 0; k < total; k++)
            if (shard_has(&fs[i].spec, k) && json_object_get(cells, names[k]))
                have++;
        json_array_append_new(shards, shard_record(&fs[i], have));
    }
    json_object_set_new(root, RES_SHARDS, shards);
    sum->total_cells = total;
    sum->present_cells = total - missing;
    sum->shard_count = count;
    sum->shards_given = nfiles;
    sum->missing = json_array();
    sum->rerun = json_array();
    if (missing) {
        json_t *all = json_array();
        for (int k = 0; k < total; k++)
            if (!json_object_get(cells, names[k]))
                json_array_append_new(all, json_string(names[k]));
        json_object_set_new(root, RES_MISSING, all);
        for (int s = 0; s < count; s++) {
            json_t *mine = json_array();
            for (int k = s; k < total; k += count)
                if (!json_object_get(cells, names[k]))
                    json_array_append_new(mine, json_string(names[k]));
            if (json_array_size(mine) == 0) {
                json_decref(mine);
                continue;
            }
            const shard_file *have = NULL;
            for (int i = 0; i < nfiles; i++)
                if (fs[i].spec.index == s)
                    have = &fs[i];
            char path[PATH_MAX + 64], cmd[4096];
            if (have)
                snprintf(path, sizeof path, "%s", have->path);
            else if (!sibling_path(ref->path, ref->spec.index, s, path, sizeof path))
                snprintf(path, sizeof path, "%s.shard-%d-of-%d.json",
                         ctx_str(ref->ctx, CTX_PROFILE) ? ctx_str(ref->ctx, CTX_PROFILE)
                                                            : "sweep", s, count);
            rerun_command(program, ref->ctx, s, count, path, cmd, sizeof cmd);
            json_array_append_new(sum->missing,
                                  json_pack("{s:i, s:s, s:b, s:o}", "shard", s, "file", path,
                                            "file_given", have != NULL, "cells", mine));
            json_array_append_new(sum->rerun, json_string(cmd));
        }
    }
    *out = root;
    root = NULL;
    rc = BENCH_OK;
out:
    if (fs)
        for (int i = 0; i < nfiles; i++)
            json_decref(fs[i].root);
    free(fs);
    free(names);
    json_decref(root);
    json_decref(index_of);
    json_decref(owner);
    json_decref(cells);
    if (rc != BENCH_OK)
        merge_summary_free(sum);
    return rc;
}

/* ---- the command ---- */

static void merge_usage(FILE *f)
{
    fputs("usage: itera-bench merge SHARD.json... --out FILE [--allow-machines] [--status S]\n"
          "\n"
          "Joins the results files of `itera-bench run --shard I/N` (one per shard, any order)\n"
          "into FILE, a results file of the same form as a single run of the whole sweep (the\n"
          "cells in the profile's order; `itera-bench report` and `compare` read it).\n"
          "\n"
          "Refused (exit 2), naming the files and the key: a file that is not a shard file;\n"
          "shards of different profiles, overrides, platforms, models, builds or cell lists;\n"
          "a shard or a cell given twice; shards from different machines, unless\n"
          "--allow-machines (then every benchmark entry keeps its machine: itera_node).\n"
          "\n"
          "Cells no shard has are missing: FILE is still written (with itera_missing_cells and\n"
          "the names under itera_missing), the missing cells are listed by shard with the\n"
          "`itera-bench run --shard I/N --resume` command that runs only those, and the exit\n"
          "status is 1. Exit 0: every cell merged.\n"
          "\n"
          "--status S writes S (JSON): complete, cells, present, shards, shards_given, and the\n"
          "missing cells per shard with their re-run commands (the Slurm merge job's record).\n",
          f);
}

bench_status merge_main(int argc, char **argv)
{
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    const char *outp = NULL, *status = NULL;
    bool allow = false;
    int nf = 0;
    if (!files) {
        fprintf(stderr, "itera-bench merge: out of memory\n");
        return BENCH_ERR_INPUT;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            merge_usage(stdout);
            free(files);
            return BENCH_OK;
        } else if (strcmp(a, "--allow-machines") == 0) {
            allow = true;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "itera-bench merge: %s needs a file name\n", a);
                free(files);
                return BENCH_ERR_INPUT;
            }
            outp = argv[++i];
        } else if (strncmp(a, "--out=", 6) == 0 && a[6]) {
            outp = a + 6;
        } else if (strcmp(a, "--status") == 0) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "itera-bench merge: --status needs a file name\n");
                free(files);
                return BENCH_ERR_INPUT;
            }
            status = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "itera-bench merge: unknown option '%s' (see itera-bench merge "
                    "--help)\n", a);
            free(files);
            return BENCH_ERR_INPUT;
        } else {
            files[nf++] = a;
        }
    }
    if (!outp || nf == 0) {
        fprintf(stderr, "itera-bench merge: %s (usage: itera-bench merge SHARD.json... --out "
                "FILE)\n", !outp ? "--out FILE is required" : "no shard files given");
        free(files);
        return BENCH_ERR_INPUT;
    }
    for (int i = 0; i < nf; i++)
        if (strcmp(files[i], outp) == 0) {
            fprintf(stderr, "itera-bench merge: --out %s is also an input; write the merged "
                    "file elsewhere\n", outp);
            free(files);
            return BENCH_ERR_INPUT;
        }
    json_t *root = NULL;
    merge_summary sum;
    char exe[PATH_MAX];
    bench_error err;
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = '\0';
    bench_status mst = merge_shards(files, nf, allow, exe, &root, &sum, &err);
    if (mst != BENCH_OK) {
        fprintf(stderr, "itera-bench merge: %s\n", err.msg);
        free(files);
        return mst;
    }
    free(files);
    bench_status rc = BENCH_OK;
    bench_error we;
    bench_status wst = results_write_atomic(outp, root, &we);
    bool written = wst == BENCH_OK;
    if (!written) {
        fprintf(stderr, "itera-bench merge: %s\n", we.msg);
        rc = wst;
    }
    json_decref(root);
    fprintf(stderr, "itera-bench merge: %d of %d cells from %d of %d shards %s %s\n",
            sum.present_cells, sum.total_cells, sum.shards_given, sum.shard_count,
            written ? "->" : "NOT written to", outp);
    if (sum.present_cells < sum.total_cells) {
        fprintf(stderr, "itera-bench merge: %d cell(s) missing:\n",
                sum.total_cells - sum.present_cells);
        size_t k;
        json_t *m;
        json_array_foreach(sum.missing, k, m)
        {
            json_t *c = json_object_get(m, "cells");
            fprintf(stderr, "  shard %d/%d (%s): %zu cell(s)\n",
                    (int)json_integer_value(json_object_get(m, "shard")), sum.shard_count,
                    json_is_true(json_object_get(m, "file_given")) ? "file incomplete"
                                                                   : "no file given",
                    json_array_size(c));
            size_t j;
            json_t *name;
            json_array_foreach(c, j, name)
                fprintf(stderr, "    %s\n", json_string_value(name));
        }
        fprintf(stderr, "itera-bench merge: to run only the missing cells (then merge again "
                "with the new files):\n");
        json_array_foreach(sum.rerun, k, m)
            fprintf(stderr, "  %s\n", json_string_value(m));
        if (rc == BENCH_OK)
            rc = BENCH_ERR_FAILED;
    }
    if (status) {
        json_t *st = json_pack("{s:b, s:s, s:b, s:i, s:i, s:i, s:i, s:O, s:O}", "complete",
                               rc == BENCH_OK, "out", outp, "written", written, "cells",
                               sum.total_cells, "present", sum.present_cells, "shards",
                               sum.shard_count, "shards_given", sum.shards_given, "missing",
                               sum.missing, "rerun", sum.rerun);
        if (!st || (wst = results_write_atomic(status, st, &we)) != BENCH_OK) {
            fprintf(stderr, "itera-bench merge: --status: %s\n", st ? we.msg : "out of memory");
            rc = st ? wst : BENCH_ERR_IO;
        }
        json_decref(st);
    }
    merge_summary_free(&sum);
    if (written)
        printf("%s\n", outp);
    return rc;
}
