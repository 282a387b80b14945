/*
 * cmd_accuracy.c: `itera accuracy`: each quant's next-token distributions against FP32's
 * on the same tokens (a text in consecutive windows, or golden files' input_ids), with the
 * statistics of itera.h's "Accuracy" section (engine/accuracy.c): perplexity and ΔPPL with
 * their errors, mean KLD with its 95% interval, KLD percentiles and maximum, top-1
 * agreement, the share of near ties, and the largest logit difference.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char usage[] =
    "usage: itera accuracy [options] (--text FILE [--seq L] [--batch B] | FILE.safetensors...)\n"
    "Runs the FP32 model and each quant on the same tokens and compares each quant's\n"
    "next-token distributions with FP32's, as llama.cpp's perplexity --kl-divergence does:\n"
    "perplexity and its standard error, dppl (quant − fp32, paired standard error), mean\n"
    "KL divergence KL(fp32 || quant) in nats with its 95% interval, its 99th / 99.9th\n"
    "percentiles and maximum, top-1 agreement, and the largest |logit| difference. The\n"
    "header of each input gives near_ties: the share of positions whose FP32 top-2 logit\n"
    "margin is below 0.01 (where top-1 agreement is a coin toss).\n"
    "Inputs: a text split into consecutive windows of L tokens (as itera perplexity: every\n"
    "token after the first of a window is a perplexity target; a last shorter window of at\n"
    "least 2 tokens is included), or golden files (their input_ids I32 [B, L]; one table per\n"
    "file, then one over all of them). --model must be an FP32 folder (or none: the\n"
    "built-in model).\n\n"
    "  --quant LIST      comma-separated quants to compare (default: every quantized format)\n"
    "  --text FILE       plain text\n"
    "  --seq L           window length (default: the model's max_seq_length)\n"
    "  --batch B         windows per forward (default 1)\n"
    "  --json FILE       also write the figures as JSON\n"
    "  --model DIR       FP32 model folder; default: the built-in synthetic model\n"
    "  --threads N       worker threads (default 1)\n"
    "  --kernel K        scan kernel sequential|parallel|chunked|auto (default auto)\n"
    "  --chunk T         chunk length of the chunked scan (default: measured)\n"
    "  --help            this text\n";

enum { OPT_QUANTS = OPT_FIRST_COMMAND_OPT, OPT_TEXT, OPT_SEQ, OPT_BATCH, OPT_JSON };

/* One model under comparison; row 0 is FP32 itself (the base, compared with itself). */
typedef struct acc_model {
    itera_quant quant;
    itera_model *m;
    itera_ctx *c;
    float *logits;   /* [max rows, V] */
} acc_model;

/* One input's accumulators, one per model. */
typedef struct acc_input {
    char name[4200];
    char detail[200]; /* "seq=128 batch=1 windows=25" or "B=2 L=128" */
    itera_acc *acc[ITERA_QUANT_COUNT + 1];
} acc_input;

static int parse_quants(const char *s, itera_quant *out, int *n)
{
    *n = 0;
    char buf[256];
    if (strlen(s) >= sizeof buf) return cli_error("accuracy", "--quant: list '%s' is too long", s);
    strcpy(buf, s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        itera_quant q;
        if (!itera_quant_parse(t, &q)) {
            char names[128] = "";
            for (int k = 0; k < ITERA_QUANT_COUNT; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "",
                         itera_quant_name((itera_quant)k));
            return cli_error("accuracy", "--quant: '%s' is not one of %s", t, names);
        }
        if (q == ITERA_QUANT_FP32) continue; /* the base is always shown */
        for (int i = 0; i < *n; i++)
            if (out[i] == q) return cli_error("accuracy", "--quant: '%s' is listed twice", t);
        out[(*n)++] = q;
    }
    return 0;
}

static int input_init(acc_input *in, int nm, int V)
{
    itera_error err;
    for (int i = 0; i < nm; i++)
        if (itera_acc_create(V, &in->acc[i], &err) != ITERA_OK) return cli_error("accuracy", "%s", err.msg);
    return 0;
}

static void input_free(acc_input *in)
{
    for (int i = 0; i < ITERA_QUANT_COUNT + 1; i++) itera_acc_free(in->acc[i]);
    memset(in, 0, sizeof *in);
}

/* Runs tokens [B, L] through every model and adds the positions (targets: the next token of
 * each row, none at the last) to the accumulators of every input in ins[0..nin). */
static int run_tokens(acc_model *ms, int nm, const int32_t *ids, int B, int L, int32_t *targets,
                      acc_input **ins, int nin)
{
    itera_error err;
    const size_t rows = (size_t)B * L;
    for (int b = 0; b < B; b++)
        for (int l = 0; l < L; l++) targets[(size_t)b * L + l] = l + 1 < L ? ids[(size_t)b * L + l + 1] : -1;
    for (int i = 0; i < nm; i++)
        if (itera_forward(ms[i].c, ids, B, L, ms[i].logits, &err) != ITERA_OK)
            return cli_error("accuracy", "%s forward: %s", itera_quant_name(ms[i].quant), err.msg);
    for (int k = 0; k < nin; k++)
        for (int i = 0; i < nm; i++)
            if (itera_acc_add(ins[k]->acc[i], ms[0].logits, ms[i].logits, targets, rows, &err) != ITERA_OK)
                return cli_error("accuracy", "%s", err.msg);
    return 0;
}

/* A number with `prec` significant digits (fixed: decimals; sign: a leading + for positive),
 * or "-" where it is undefined (NaN: e.g. a perplexity without targets). */
static void fmt_num(char out[16], double v, int prec, bool fixed, bool sign)
{
    if (isnan(v)) snprintf(out, 16, "-");
    else if (fixed) snprintf(out, 16, "%.*f", prec, v);
    else if (sign) snprintf(out, 16, "%+.*g", prec, v);
    else snprintf(out, 16, "%.*g", prec, v);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* Prints one input's table and appends its JSON object to arr. */
static int report_input(const acc_input *in, const acc_model *ms, int nm, json_t *arr)
{
    itera_error err;
    itera_acc_stats st[ITERA_QUANT_COUNT + 1];
    for (int i = 0; i < nm; i++)
        if (itera_acc_summary(in->acc[i], &st[i], &err) != ITERA_OK) return cli_error("accuracy", "%s", err.msg);
    printf("\ninput=%s %s positions=%zu predicted=%zu near_ties=%.4f (FP32 top-2 logit margin < %g)\n",
           in->name, in->detail, st[0].positions, st[0].predicted, st[0].near_tie_share, ITERA_ACC_NEAR_TIE);
    printf("%-6s %-12s %10s %10s %9s %10s %9s %9s %9s %9s %9s %9s %9s %7s %11s\n", "quant", "isa", "bytes",
           "ppl", "ppl_se", "dppl", "dppl_se", "kld_mean", "kld_lo95", "kld_hi95", "kld_p99", "kld_p99.9",
           "kld_max", "top1", "max_abs_err");
    json_t *quants = json_array();
    for (int i = 0; i < nm; i++) {
        const itera_acc_stats *s = &st[i];
        const size_t bytes = itera_model_weight_bytes(ms[i].m);
        char f[6][16];
        fmt_num(f[0], s->ppl, 3, true, false);
        fmt_num(f[1], s->ppl_se, 3, false, false);
        fmt_num(f[2], s->delta_ppl, 4, false, true);
        fmt_num(f[3], s->delta_ppl_se, 3, false, false);
        fmt_num(f[4], s->kld_lo95, 3, false, false);
        fmt_num(f[5], s->kld_hi95, 3, false, false);
        printf("%-6s %-12s %10zu %10s %9s %10s %9s %9.3g %9s %9s %9.3g %9.3g %9.3g %7.4f %11.3g\n",
               itera_quant_name(ms[i].quant), itera_ctx_isa(ms[i].c), bytes, f[0], f[1], f[2], f[3],
               s->kld_mean, f[4], f[5], s->kld_p99, s->kld_p999, s->kld_max, s->top1_agreement,
               s->max_abs_logit_err);
        json_t *o = json_object();
        json_object_set_new(o, "quant", json_string(itera_quant_name(ms[i].quant)));
        json_object_set_new(o, "isa", json_string(itera_ctx_isa(ms[i].c)));
        json_object_set_new(o, "weight_bytes", json_integer((json_int_t)bytes));
        json_object_set_new(o, "perplexity", jnum(s->ppl));
        json_object_set_new(o, "perplexity_se", jnum(s->ppl_se));
        json_object_set_new(o, "delta_ppl", jnum(s->delta_ppl));
        json_object_set_new(o, "delta_ppl_se", jnum(s->delta_ppl_se));
        json_object_set_new(o, "kld_mean", jnum(s->kld_mean));
        json_object_set_new(o, "kld_mean_lo95", jnum(s->kld_lo95));
        json_object_set_new(o, "kld_mean_hi95", jnum(s->kld_hi95));
        json_object_set_new(o, "kld_p99", jnum(s->kld_p99));
        json_object_set_new(o, "kld_p999", jnum(s->kld_p999));
        json_object_set_new(o, "kld_max", jnum(s->kld_max));
        json_object_set_new(o, "top1_agreement", jnum(s->top1_agreement));
        json_object_set_new(o, "top1_se", jnum(s->top1_se));
        json_object_set_new(o, "max_abs_logit_err", jnum(s->max_abs_logit_err));
        json_array_append_new(quants, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "input", json_string(in->name));
    json_object_set_new(o, "detail", json_string(in->detail));
    json_object_set_new(o, "positions", json_integer((json_int_t)st[0].positions));
    json_object_set_new(o, "predicted", json_integer((json_int_t)st[0].predicted));
    json_object_set_new(o, "near_tie_share", jnum(st[0].near_tie_share));
    json_object_set_new(o, "quants", quants);
    json_array_append_new(arr, o);
    return 0;
}

/* The figures as indented JSON, written atomically (itera_write_file). */
static int write_json(const char *path, json_t *root)
{
    char *text = json_dumps(root, JSON_INDENT(2));
    if (!text) return cli_error("accuracy", "--json: out of memory");
    itera_error err;
    itera_status st = itera_write_file(path, text, strlen(text), &err);
    free(text);
    if (st != ITERA_OK) return cli_error("accuracy", "--json: %s", err.msg);
    return 0;
}

int cmd_accuracy(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"chunk", required_argument, NULL, OPT_CHUNK},
        {"help", no_argument, NULL, OPT_HELP},
        {"quant", required_argument, NULL, OPT_QUANTS},
        {"text", required_argument, NULL, OPT_TEXT},
        {"seq", required_argument, NULL, OPT_SEQ},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"json", required_argument, NULL, OPT_JSON},
        {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    itera_quant quants[ITERA_QUANT_COUNT];
    int nq = 0;
    for (int q = 0; q < ITERA_QUANT_COUNT; q++)
        if (q != ITERA_QUANT_FP32) quants[nq++] = (itera_quant)q;
    const char *text_path = NULL, *json_path = NULL;
    long seq = 0, batch = 1;
    int opt, rc;
    while ((opt = cli_next_opt("accuracy", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        if (opt == OPT_QUANTS) {
            if (parse_quants(optarg, quants, &nq)) return EXIT_BAD_INPUT;
        } else if (opt == OPT_TEXT) text_path = optarg;
        else if (opt == OPT_JSON) json_path = optarg;
        else if (opt == OPT_SEQ) {
            if (!cli_int("accuracy", "--seq", optarg, 2, 1 << 20, &seq)) return EXIT_BAD_INPUT;
        } else if (opt == OPT_BATCH) {
            if (!cli_int("accuracy", "--batch", optarg, 1, 4096, &batch)) return EXIT_BAD_INPUT;
        } else return cli_bad_option("accuracy", argv);
    }
    const int nfiles = argc - optind;
    if (!text_path && nfiles == 0)
        return cli_error("accuracy", "no input: give --text FILE or golden FILE.safetensors (see itera accuracy --help)");
    if (text_path && nfiles > 0)
        return cli_error("accuracy", "give either --text or golden files, not both ('%s')", argv[optind]);
    if (!text_path && (seq || batch != 1))
        return cli_error("accuracy", "--seq and --batch apply to --text only");

    rc = EXIT_BAD_INPUT;
    acc_model ms[ITERA_QUANT_COUNT + 1];
    memset(ms, 0, sizeof ms);
    const int nm = 1 + nq;
    itera_tensors **files = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *files);
    acc_input *ins = calloc((size_t)nfiles + 2, sizeof *ins);
    int32_t *ids = NULL, *targets = NULL;
    json_t *root = json_object(), *arr = json_array();
    if (!files || !ins || !root || !arr) {
        cli_error("accuracy", "out of memory");
        goto out;
    }
    mo.quant = ITERA_QUANT_FP32;
    ms[0].quant = ITERA_QUANT_FP32;
    if (cli_load_model("accuracy", &mo, &ms[0].m)) goto out;
    for (int i = 1; i < nm; i++) {
        mo.quant = ms[i].quant = quants[i - 1];
        if (cli_load_model("accuracy", &mo, &ms[i].m)) goto out;
    }
    const itera_config *cf = itera_model_config(ms[0].m);
    const int V = cf->vocab_size;

    /* the shapes to run: text windows of L, B at a time; or each golden file */
    int maxB = (int)batch, maxL = 0, n = 0;
    if (text_path) {
        if (seq == 0) seq = cf->max_seq_length;
        if (seq > cf->max_seq_length) {
            cli_error("accuracy", "--seq: %ld exceeds the model's max_seq_length %d", seq, cf->max_seq_length);
            goto out;
        }
        maxL = (int)seq;
        if (cli_text_tokens("accuracy", &mo, ms[0].m, text_path, 2, &ids, &n)) goto out;
    } else {
        for (int k = 0; k < nfiles; k++) {
            const char *path = argv[optind + k];
            itera_error err;
            if (itera_tensors_open(path, &files[k], &err) != ITERA_OK) {
                cli_error("accuracy", "%s", err.msg);
                goto out;
            }
            const itera_tensor_view *ti = itera_tensors_find(files[k], "input_ids");
            if (!ti || strcmp(ti->dtype, "I32") || ti->rank != 2 || ti->shape[0] < 1 || ti->shape[1] < 1) {
                cli_error("accuracy", "%s: tensor 'input_ids' missing or not I32 [B, L] with B, L >= 1", path);
                goto out;
            }
            if (ti->shape[1] > cf->max_seq_length || ti->shape[0] > 4096) {
                cli_error("accuracy", "%s: input_ids [%lld, %lld]: L exceeds the model's max_seq_length %d or B exceeds 4096",
                          path, (long long)ti->shape[0], (long long)ti->shape[1], cf->max_seq_length);
                goto out;
            }
            /* the file's data need not be aligned for int32 (safetensors does not pad): copied */
            const unsigned char *t = ti->data;
            for (int64_t i = 0; i < ti->shape[0] * ti->shape[1]; i++) {
                int32_t id;
                memcpy(&id, t + 4 * i, sizeof id);
                if (id < 0 || id >= V) {
                    cli_error("accuracy", "%s: input_ids[%lld] = %d is outside the vocabulary (0..%d)", path,
                              (long long)i, id, V - 1);
                    goto out;
                }
            }
            if (ti->shape[0] > maxB) maxB = (int)ti->shape[0];
            if (ti->shape[1] > maxL) maxL = (int)ti->shape[1];
        }
        ids = malloc((size_t)maxB * maxL * sizeof *ids);
        if (!ids) {
            cli_error("accuracy", "out of memory");
            goto out;
        }
    }
    targets = malloc((size_t)maxB * maxL * sizeof *targets);
    if (!targets) {
        cli_error("accuracy", "out of memory");
        goto out;
    }
    for (int i = 0; i < nm; i++) {
        if (cli_make_ctx("accuracy", &mo, ms[i].m, maxB, maxL, &ms[i].c)) goto out;
        ms[i].logits = malloc((size_t)maxB * maxL * V * sizeof(float));
        if (!ms[i].logits) {
            cli_error("accuracy", "out of memory");
            goto out;
        }
    }
    printf("accuracy model=%s base=fp32 threads=%d kernel=%s quants=", itera_model_source(ms[0].m),
           mo.threads, itera_kernel_name(mo.kernel));
    for (int i = 1; i < nm; i++) printf("%s%s", i > 1 ? "," : "", itera_quant_name(ms[i].quant));
    printf("\n(KL divergence KL(fp32 || quant) in nats; kld_lo95..kld_hi95: the 95%% interval of its mean; "
           "dppl = ppl - ppl(fp32), se: standard errors; fp32 is the base, compared with itself)\n");

    int ninputs = 0;
    if (text_path) {
        acc_input *in = &ins[ninputs++];
        const int L = (int)seq, full = n / L, rem = n % L;
        snprintf(in->name, sizeof in->name, "%s", text_path);
        snprintf(in->detail, sizeof in->detail, "seq=%d batch=%ld windows=%d%s", L, batch,
                 full + (rem >= 2), rem >= 2 ? " (last one shorter)" : "");
        if (input_init(in, nm, V)) goto out;
        for (int i = 0; i < nm; i++) {
            itera_error err;
            if (itera_acc_windows(in->acc[i], ms[0].c, ms[i].c, ids, n, L, (int)batch, &err) != ITERA_OK) {
                cli_error("accuracy", "%s: %s", itera_quant_name(ms[i].quant), err.msg);
                goto out;
            }
        }
    } else {
        acc_input *all = NULL;
        if (nfiles > 1) {
            all = &ins[nfiles];
            snprintf(all->name, sizeof all->name, "all %d files", nfiles);
            snprintf(all->detail, sizeof all->detail, "(pooled)");
            if (input_init(all, nm, V)) goto out;
        }
        for (int k = 0; k < nfiles; k++) {
            acc_input *in = &ins[ninputs++];
            const itera_tensor_view *ti = itera_tensors_find(files[k], "input_ids");
            const int B = (int)ti->shape[0], L = (int)ti->shape[1];
            snprintf(in->name, sizeof in->name, "%s", argv[optind + k]);
            snprintf(in->detail, sizeof in->detail, "B=%d L=%d", B, L);
            if (input_init(in, nm, V)) goto out;
            memcpy(ids, ti->data, (size_t)B * L * sizeof *ids);
            acc_input *both[2] = {in, all};
            if (run_tokens(ms, nm, ids, B, L, targets, both, all ? 2 : 1)) goto out;
        }
        if (all) ninputs++;
    }
    for (int k = 0; k < ninputs; k++)
        if (report_input(&ins[k], ms, nm, arr)) goto out;
    if (json_path) {
        json_object_set_new(root, "model", json_string(itera_model_source(ms[0].m)));
        json_object_set_new(root, "base", json_string(itera_quant_name(ITERA_QUANT_REFERENCE)));
        json_object_set_new(root, "threads", json_integer(mo.threads));
        json_object_set_new(root, "kernel", json_string(itera_kernel_name(mo.kernel)));
        json_object_set_new(root, "near_tie_margin", json_real(ITERA_ACC_NEAR_TIE));
        json_object_set_new(root, "kld_unit", json_string("nats"));
        json_object_set_new(root, "inputs", arr);
        arr = NULL;
        if (write_json(json_path, root)) goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < nm; i++) {
        itera_ctx_free(ms[i].c);
        itera_model_free(ms[i].m);
        free(ms[i].logits);
    }
    for (int k = 0; ins && k < nfiles + 2; k++) input_free(&ins[k]);
    for (int k = 0; files && k < nfiles; k++) itera_tensors_close(files[k]);
    free(files);
    free(ins);
    free(ids);
    free(targets);
    json_decref(arr);
    json_decref(root);
    return rc;
}
