/*
 * shard.c: the round-robin split of a sweep's cells and the cell list hash. See shard.h.
 */
#include "shard.h"
#include "argopt.h"

#include <limits.h>

#include "pin.h"
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bench_status fail(bench_error *e, const char *text, const char *why)
{
    return bench_fail(e, BENCH_ERR_INPUT, "--shard '%s': %s", text, why);
}

/* A decimal integer filling [s, e) exactly, into *out; false otherwise. */
static bool parse_int(const char *s, const char *e, long *out)
{
    if (s == e || e - s > 9)
        return false;
    long v = 0;
    for (const char *p = s; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

bench_status shard_parse(const char *text, shard_spec *out, bench_error *e)
{
    if (!text)
        text = "";
    const char *slash = strchr(text, '/');
    char why[160];
    if (!slash)
        return fail(e, text, "expected I/N: shard I (from 0) of N, e.g. 0/4");
    long i, c;
    if (!parse_int(slash + 1, slash + strlen(slash), &c) || c < 1 || c > SHARD_MAX) {
        snprintf(why, sizeof why, "the shard count N must be an integer in 1..%d", SHARD_MAX);
        return fail(e, text, why);
    }
    if (!parse_int(text, slash, &i)) {
        snprintf(why, sizeof why, "the shard index I must be an integer in 0..%ld", c - 1);
        return fail(e, text, why);
    }
    if (i >= c) {
        snprintf(why, sizeof why, "the index must be 0..%ld (shards are numbered from 0)",
                 c - 1);
        return fail(e, text, why);
    }
    out->index = (int)i;
    out->count = (int)c;
    return BENCH_OK;
}

const char *shard_format(const shard_spec *s, char *buf, size_t n)
{
    if (!s || s->count <= 0)
        snprintf(buf, n, "%s", "");
    else
        snprintf(buf, n, "%d/%d", s->index, s->count);
    return buf;
}

bool shard_has(const shard_spec *s, int k)
{
    if (!s || s->count <= 0)
        return true;
    return k % s->count == s->index;
}

int shard_size(const shard_spec *s, int ncells)
{
    if (!s || s->count <= 0)
        return ncells;
    if (ncells <= s->index)
        return 0;
    return (ncells - 1 - s->index) / s->count + 1;
}

typedef struct fnv {
    uint64_t h;
} fnv;

static void fnv_add(fnv *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        f->h ^= (unsigned char)s[i];
        f->h *= 0x100000001b3ULL;
    }
}

static void fnv_name(fnv *f, const char *name)
{
    fnv_add(f, name, strlen(name));
    fnv_add(f, "\n", 1);
}

static void fnv_out(const fnv *f, char out[SHARD_HASH_LEN])
{
    snprintf(out, SHARD_HASH_LEN, "fnv1a64:%016" PRIx64, f->h);
}

void shard_hash_names(const char *const *names, int n, char out[SHARD_HASH_LEN])
{
    fnv f = { 0xcbf29ce484222325ULL };
    for (int i = 0; i < n; i++)
        fnv_name(&f, names[i]);
    fnv_out(&f, out);
}

void shard_hash_cells(const bench_cell *cells, int n, char out[SHARD_HASH_LEN])
{
    fnv f = { 0xcbf29ce484222325ULL };
    for (int i = 0; i < n; i++)
        fnv_name(&f, cells[i].name);
    fnv_out(&f, out);
}

void shard_filter(bench_cell *cells, int *ncells, const shard_spec *s, int *orig_index)
{
    int kept = 0;
    for (int k = 0; k < *ncells; k++) {
        if (!shard_has(s, k))
            continue;
        if (kept != k)
            cells[kept] = cells[k];
        if (orig_index)
            orig_index[kept] = k;
        kept++;
    }
    *ncells = kept;
}

int shard_apply(const shard_spec *s, bench_cell *cells, int *ncells, shard_info *info)
{
    memset(info, 0, sizeof *info);
    if (s)
        info->spec = *s;
    info->total_cells = *ncells;
    shard_hash_cells(cells, *ncells, info->hash);
    info->names = json_array();
    if (!info->names)
        return -1;
    for (int k = 0; k < *ncells; k++)
        if (json_array_append_new(info->names, json_string(cells[k].name)) != 0)
            return -1;
    shard_filter(cells, ncells, s, NULL);
    return 0;
}

void shard_info_free(shard_info *info)
{
    json_decref(info->names);
    info->names = NULL;
}

static void ctx_int(json_t *ctx, const char *key, int v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", v);
    json_object_set_new(ctx, key, json_string(buf));
}

void shard_context_add(json_t *ctx, const shard_info *info, const platform *pl,
                       const profile *pr)
{
    ctx_int(ctx, CTX_CELLS, info->total_cells);
    json_object_set_new(ctx, CTX_CELL_LIST_HASH, json_string(info->hash));
    if (info->spec.count <= 0)
        return;
    char buf[32];
    json_object_set_new(ctx, CTX_SHARD, json_string(shard_format(&info->spec, buf,
                                                                       sizeof buf)));
    ctx_int(ctx, CTX_SHARD_INDEX, info->spec.index);
    ctx_int(ctx, CTX_SHARD_COUNT, info->spec.count);
    ctx_int(ctx, CTX_SHARD_CELLS, shard_size(&info->spec, info->total_cells));
    json_object_set_new(ctx, CTX_PLATFORM_FILE, json_string(pl->path));
    json_object_set_new(ctx, CTX_PROFILE_FILE, json_string(pr->path));
}

void shard_results_add(json_t *root, const shard_info *info)
{
    if (info->spec.count > 0 && info->names)
        json_object_set(root, RES_CELL_LIST, info->names);
}

bench_status shard_sweep_cells(const char *platform_name, const char *profile_name,
                               const char *const *sets, int nsets, platform *pl, profile *pr,
                               bench_cell **cells, int *ncells, bench_error *e)
{
    char path[PATH_MAX];
    *cells = NULL;
    *ncells = 0;
    bench_status st;
    if ((st = bench_data_find("platforms", platform_name, path, sizeof path, e)) != BENCH_OK ||
        (st = platform_load(path, pl, e)) != BENCH_OK)
        return st;
    if ((st = bench_data_find("profiles", profile_name, path, sizeof path, e)) != BENCH_OK ||
        (st = profile_load(path, pr, e)) != BENCH_OK)
        return st;
    for (int i = 0; i < nsets; i++)
        if ((st = profile_override(pr, sets[i], e)) != BENCH_OK)
            return st;
    int host_cores = 1;
    if (pl->cores == 0) { /* `all cores`: this machine's, as run would resolve it */
        pin_topo *t = NULL;
        if ((st = pin_topology_load(&t, NULL, e)) != BENCH_OK)
            return st;
        host_cores = pin_topo_cores(t);
        pin_topology_free(t);
    }
    platform_resolve(pl, host_cores);
    return profile_cells(pr, pl->threads, cells, ncells, e);
}

static void list_cells_usage(FILE *f)
{
    fputs("usage: itera-bench list --cells [--profile X] [--platform P] [--set KEY=VALUE]...\n"
          "                         [--shard I/N | --shards N]\n"
          "\n"
          "Prints the cells of profile X (default default) on platform P (default embedded) in\n"
          "the order `run` runs them, one per line: INDEX<TAB>NAME, or with --shards N\n"
          "INDEX<TAB>SHARD<TAB>NAME. Shard I of N (`run --shard I/N`) holds the cells whose\n"
          "INDEX mod N is I; --shard I/N prints only those. A summary line (cell count, cell\n"
          "list hash) goes to stderr.\n",
          f);
}

bench_status shard_list_cells_main(int argc, char **argv)
{
    const char *pname = "embedded", *xname = "default", *v = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int nsets = 0, shards = 0;
    bench_status rc = BENCH_ERR_INPUT;
    shard_spec only = { 0, 0 };
    bench_error err;
    bench_cell *cells = NULL;
    if (!sets) {
        fprintf(stderr, "itera-bench list: out of memory\n");
        return BENCH_ERR_NOMEM;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            list_cells_usage(stdout);
            rc = BENCH_OK;
            goto out;
        }
        if (strcmp(a, "--cells") == 0)
            continue;
        if (argopt_value(argc, argv, &i, "--profile", &v) || argopt_value(argc, argv, &i, "--platform", &v) ||
            argopt_value(argc, argv, &i, "--set", &v) || argopt_value(argc, argv, &i, "--shards", &v) ||
            argopt_value(argc, argv, &i, "--shard", &v)) {
            if (!v || !*v) {
                fprintf(stderr, "itera-bench list: %s needs a value (see itera-bench list "
                        "--cells --help)\n", a);
                goto out;
            }
            if (strncmp(a, "--profile", 9) == 0) {
                xname = v;
            } else if (strncmp(a, "--platform", 10) == 0) {
                pname = v;
            } else if (strncmp(a, "--set", 5) == 0) {
                sets[nsets++] = v;
            } else if (strncmp(a, "--shards", 8) == 0) {
                char *end;
                long k = strtol(v, &end, 10);
                if (*end || end == v || k < 1 || k > SHARD_MAX) {
                    fprintf(stderr, "itera-bench list: --shards '%s': expected an integer in "
                            "1..%d\n", v, SHARD_MAX);
                    goto out;
                }
                shards = (int)k;
            } else if (shard_parse(v, &only, &err) != BENCH_OK) {
                fprintf(stderr, "itera-bench list: %s\n", err.msg);
                goto out;
            }
            continue;
        }
        fprintf(stderr, "itera-bench list --cells: unknown argument '%s' (see --help)\n", a);
        goto out;
    }
    if (only.count > 0 && shards > 0 && shards != only.count) {
        fprintf(stderr, "itera-bench list: --shard %d/%d and --shards %d disagree\n",
                only.index, only.count, shards);
        goto out;
    }
    if (only.count > 0)
        shards = only.count;
    platform pl;
    profile pr;
    int n = 0;
    bench_status st = shard_sweep_cells(pname, xname, sets, nsets, &pl, &pr, &cells, &n, &err);
    if (st != BENCH_OK) {
        fprintf(stderr, "itera-bench list: %s\n", err.msg);
        rc = st;
        goto out;
    }
    char hash[SHARD_HASH_LEN];
    shard_hash_cells(cells, n, hash);
    for (int k = 0; k < n; k++) {
        if (!shard_has(&only, k))
            continue;
        if (shards > 0)
            printf("%d\t%d\t%s\n", k, k % shards, cells[k].name);
        else
            printf("%d\t%s\n", k, cells[k].name);
    }
    fprintf(stderr, "profile %s on platform %s (%d threads): %d cells, cell list %s", pr.name,
            pl.name, pl.threads, n, hash);
    if (shards > 0)
        fprintf(stderr, "; %d shards of %d..%d cells (index mod %d)", shards,
                shard_size(&(shard_spec){ shards - 1, shards }, n),
                shard_size(&(shard_spec){ 0, shards }, n), shards);
    fprintf(stderr, "\n");
    rc = BENCH_OK;
out:
    free(cells);
    free(sets);
    return rc;
}
