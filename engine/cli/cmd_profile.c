/* cmd_profile.c: `itera profile`: µs per op of the forward pass from the engine's zones,
 * as a table, JSON (--json) and a Chrome trace of one forward (--trace). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: itera profile [options]\n"
    "Runs R forwards of B x L random tokens with the zone profiler on (each one interleaved\n"
    "with a forward with it off, to measure what profiling costs) and prints one line per op:\n"
    "calls, total µs, mean µs, % of the forward, sorted by time. Zone overhead is measured\n"
    "and subtracted; the gap between the top-level ops and the forward is stated.\n\n"
    "  --seq L           tokens per sequence (default 128)\n"
    "  --batch B         sequences (default 1)\n"
    "  --reps R          profiled forwards (default 20)\n"
    "  --json FILE       also write the table as JSON (atomically)\n"
    "  --trace FILE      write one forward as Chrome trace-event JSON (Perfetto)\n" CLI_MODEL_USAGE;

enum { OPT_SEQ = OPT_FIRST_COMMAND_OPT, OPT_BATCH, OPT_REPS, OPT_JSON, OPT_TRACE };

#define MAX_OPS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_op(const void *a, const void *b)
{
    const itera_op_stat *x = a, *y = b;
    return (x->total_us < y->total_us) - (x->total_us > y->total_us);
}

static const itera_op_stat *find_op(const itera_op_stat *ops, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ops[i].name, name)) return &ops[i];
    return NULL;
}

/* Whether name is a root op (no parent: the whole prefill or decode step). */
static bool is_root(const char *name)
{
    itera_op_info oi;
    for (int i = 0; itera_op_info_get(i, &oi); i++)
        if (!strcmp(oi.name, name)) return !oi.parent[0];
    return false;
}

typedef struct summary {
    const char *model, *quant, *kernel, *isa;
    int threads, seq, batch, reps;
    double fwd_us, top_us, gap_us;          /* per forward, from the zones */
    double wall_off_us, wall_on_us;         /* median wall time per forward */
    double zone_ns, pair_ns, zones_per_fwd;
} summary;

static int write_json(const char *path, const summary *s, const itera_op_stat *ops, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "name", ops[i].name, "parent",
                              ops[i].parent, "calls", (json_int_t)ops[i].calls, "total_us", ops[i].total_us,
                              "per_forward_us", ops[i].total_us / s->reps, "mean_us", ops[i].mean_us, "min_us",
                              ops[i].min_us, "max_us", ops[i].max_us, "pct_of_forward",
                              s->fwd_us > 0 ? 100.0 * ops[i].total_us / s->reps / s->fwd_us : 0.0);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            return cli_error("profile", "%s: out of memory building JSON", path);
        }
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "model",
        s->model, "quant", s->quant, "kernel", s->kernel, "isa", s->isa, "threads", s->threads, "seq", s->seq,
        "batch", s->batch, "reps", s->reps, "forward_us", s->fwd_us, "top_level_sum_us", s->top_us, "gap_us",
        s->gap_us, "wall_forward_profiling_off_us", s->wall_off_us, "wall_forward_profiling_on_us",
        s->wall_on_us, "profiling_overhead_pct", 100.0 * (s->wall_on_us / s->wall_off_us - 1.0),
        "zone_overhead_ns", s->zone_ns, "zone_pair_ns", s->pair_ns, "zones_per_forward", s->zones_per_fwd,
        "ops", arr);
    if (!root) return cli_error("profile", "%s: out of memory building JSON", path);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text) return cli_error("profile", "%s: out of memory serialising JSON", path);
    itera_error err;
    itera_status st = itera_write_file(path, text, strlen(text), &err);
    free(text);
    if (st != ITERA_OK) return cli_error("profile", "--json: %s", err.msg);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_MODEL_LONGOPTS,
        {"seq", required_argument, NULL, OPT_SEQ},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"reps", required_argument, NULL, OPT_REPS},
        {"json", required_argument, NULL, OPT_JSON},
        {"trace", required_argument, NULL, OPT_TRACE},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    long L = 128, B = 1, reps = 20;
    const char *json_path = NULL, *trace_path = NULL;
    int c, rc;
    while ((c = cli_next_opt("profile", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        switch (c) {
        case CLI_STOP: return rc;
        case OPT_SEQ:
            if (!cli_int("profile", "--seq", optarg, 1, 1 << 20, &L)) return EXIT_BAD_INPUT;
            break;
        case OPT_BATCH:
            if (!cli_int("profile", "--batch", optarg, 1, 4096, &B)) return EXIT_BAD_INPUT;
            break;
        case OPT_REPS:
            if (!cli_int("profile", "--reps", optarg, 1, 1000000, &reps)) return EXIT_BAD_INPUT;
            break;
        case OPT_JSON: json_path = optarg; break;
        case OPT_TRACE: trace_path = optarg; break;
        default: return cli_bad_option("profile", argv);
        }
    }
    if (optind < argc)
        return cli_error("profile", "unexpected argument '%s' (see itera profile --help)", argv[optind]);

    itera_model *m = NULL;
    itera_ctx *ctx = NULL;
    int32_t *tok = NULL;
    double *t_off = NULL, *t_on = NULL;
    rc = cli_load_model("profile", &mo, &m);
    if (rc) return rc;
    const itera_config *cf = itera_model_config(m);
    if (L > cf->max_seq_length) {
        rc = cli_error("profile", "--seq: %ld exceeds the model's max_seq_length %d", L, cf->max_seq_length);
        goto out;
    }
    if ((rc = cli_make_ctx("profile", &mo, m, (int)B, (int)L, &ctx))) goto out;
    tok = malloc(sizeof *tok * (size_t)(B * L));
    t_off = malloc(sizeof *t_off * (size_t)reps);
    t_on = malloc(sizeof *t_on * (size_t)reps);
    if (!tok || !t_off || !t_on) {
        rc = cli_error("profile", "out of memory");
        goto out;
    }
    /* ordinary words: ids past the 4 special ones, when the vocabulary has any */
    uint32_t seed = 12345, first = cf->vocab_size > 4 ? 4 : 0;
    for (long i = 0; i < B * L; i++) {
        seed = seed * 1664525u + 1013904223u;
        tok[i] = (int32_t)(first + (seed >> 8) % ((uint32_t)cf->vocab_size - first));
    }
    itera_error err;
    for (int i = 0; i < 3; i++) /* warm-up */
        if (itera_forward(ctx, tok, (int)B, (int)L, NULL, &err) != ITERA_OK) {
            rc = cli_error("profile", "%s", err.msg);
            goto out;
        }
    /* Interleaved: a forward with profiling off, then one with it on, reps times. The
     * logits are computed (lm_head runs) but not kept: NULL would skip the head. */
    float *logits = malloc(sizeof(float) * (size_t)(B * L) * cf->vocab_size);
    if (!logits) {
        rc = cli_error("profile", "out of memory");
        goto out;
    }
    itera_prof_reset(ctx);
    for (long i = 0; i < reps; i++) {
        double a = cli_now();
        itera_forward(ctx, tok, (int)B, (int)L, logits, &err);
        t_off[i] = (cli_now() - a) * 1e6;
        itera_prof_enable(ctx, true);
        a = cli_now();
        itera_forward(ctx, tok, (int)B, (int)L, logits, &err);
        t_on[i] = (cli_now() - a) * 1e6;
        itera_prof_enable(ctx, false);
    }
    itera_op_stat ops[MAX_OPS];
    int n = itera_prof_ops(ctx, ops, MAX_OPS);
    if (n > MAX_OPS) n = MAX_OPS;
    qsort(ops, (size_t)n, sizeof ops[0], cmp_op);
    qsort(t_off, (size_t)reps, sizeof *t_off, cmp_double);
    qsort(t_on, (size_t)reps, sizeof *t_on, cmp_double);

    summary s = {.model = itera_model_source(m), .quant = itera_quant_name(itera_model_quant(m)),
                 .kernel = itera_kernel_name(itera_ctx_kernel(ctx, (int)B, (int)L)), .isa = itera_ctx_isa(ctx),
                 .threads = itera_ctx_threads(ctx), .seq = (int)L, .batch = (int)B, .reps = (int)reps,
                 .wall_off_us = t_off[reps / 2], .wall_on_us = t_on[reps / 2]};
    itera_prof_overhead(ctx, &s.zone_ns, &s.pair_ns);
    /* the prefill's root op (the first op without a parent: "forward") */
    itera_op_info root = {.name = ""};
    for (int i = 0; itera_op_info_get(i, &root) && root.parent[0]; i++) {
    }
    const itera_op_stat *fwd = find_op(ops, n, root.name);
    s.fwd_us = fwd ? fwd->total_us / reps : 0;
    uint64_t zones = 0;
    for (int i = 0; i < n; i++) {
        zones += ops[i].calls;
        if (!strcmp(ops[i].parent, root.name)) s.top_us += ops[i].total_us / reps;
    }
    s.zones_per_fwd = (double)zones / reps;
    s.gap_us = s.fwd_us - s.top_us;

    printf("profile model=%s quant=%s kernel=%s isa=%s threads=%d seq=%ld batch=%ld reps=%ld\n", s.model, s.quant,
           s.kernel, s.isa, s.threads, L, B, reps);
    printf("%-24s %-8s %9s %12s %12s %10s %10s %8s\n", "op", "parent", "calls", "total_us", "per_fwd_us",
           "mean_us", "max_us", "%fwd");
    for (int i = 0; i < n; i++) {
        /* a sub-op (its parent is an op, not a root) is timed on every thread: a sum */
        bool threads_sum = ops[i].parent[0] && !is_root(ops[i].parent) && s.threads > 1;
        printf("%-24s %-8s %9llu %12.1f %12.2f %10.3f %10.2f %7.1f%%%s\n", ops[i].name,
               ops[i].parent[0] ? ops[i].parent : "-", (unsigned long long)ops[i].calls, ops[i].total_us,
               ops[i].total_us / reps, ops[i].mean_us, ops[i].max_us,
               s.fwd_us > 0 ? 100.0 * ops[i].total_us / reps / s.fwd_us : 0.0, threads_sum ? "  (sum over threads)" : "");
    }
    printf("forward_us=%.2f top_level_sum_us=%.2f gap_us=%.2f (%.2f%% of the forward not inside a top-level op)\n",
           s.fwd_us, s.top_us, s.gap_us, s.fwd_us > 0 ? 100.0 * s.gap_us / s.fwd_us : 0.0);
    printf("zone_overhead_ns=%.1f (an empty zone's own time, subtracted from every total) zone_pair_ns=%.1f "
           "(full cost of a begin/end pair) zones_per_forward=%.0f\n",
           s.zone_ns, s.pair_ns, s.zones_per_fwd);
    itera_kernel ran;
    if (itera_kernel_parse(s.kernel, &ran) && ran == ITERA_KERNEL_SEQUENTIAL)
        printf("note: the sequential kernel times its scan.* phases on a sample of tokens (every 8th of each "
               "row) and scales the totals to all tokens (calls = tokens)\n");
    printf("wall_forward_us profiling_off=%.2f profiling_on=%.2f overhead=%+.2f%% (medians of %ld interleaved pairs)\n",
           s.wall_off_us, s.wall_on_us, 100.0 * (s.wall_on_us / s.wall_off_us - 1.0), reps);

    if (json_path && (rc = write_json(json_path, &s, ops, n))) goto out_logits;
    if (trace_path) {
        itera_prof_reset(ctx);
        if (itera_prof_trace(ctx, true, &err) != ITERA_OK) {
            rc = cli_error("profile", "--trace: %s", err.msg);
            goto out_logits;
        }
        itera_prof_enable(ctx, true);
        itera_forward(ctx, tok, (int)B, (int)L, logits, &err);
        itera_prof_enable(ctx, false);
        itera_prof_trace(ctx, false, &err);
        if (itera_prof_write_trace(ctx, trace_path, &err) != ITERA_OK) {
            rc = cli_error("profile", "--trace: %s", err.msg);
            goto out_logits;
        }
        printf("trace=%s (one forward; open in https://ui.perfetto.dev)\n", trace_path);
    }
    if (json_path) printf("json=%s\n", json_path);
out_logits:
    free(logits);
out:
    free(tok);
    free(t_off);
    free(t_on);
    itera_ctx_free(ctx);
    itera_model_free(m);
    return rc;
}
