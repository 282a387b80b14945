/* cmd_perplexity.c: `itera perplexity`: perplexity of a text over consecutive windows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: itera perplexity [options] --text FILE [--seq L] [--batch B]\n"
    "Splits the tokenized text into consecutive windows of L tokens; in each window every\n"
    "token after the first is predicted from those before it. Windows run B at a time.\n"
    "Last line: perplexity=... tokens=... (predicted tokens) tokens_per_second=... (prefill\n"
    "rate: window tokens per second of forward passes alone).\n\n"
    "  --text FILE       UTF-8 text (a NUL byte or invalid UTF-8 is an error naming its offset)\n"
    "  --seq L           window length (default: the model's max_seq_length)\n"
    "  --batch B         windows per forward (default 1)\n" CLI_MODEL_USAGE;

enum { OPT_TEXT = OPT_FIRST_COMMAND_OPT, OPT_SEQ, OPT_BATCH };

/* −log softmax(logits)[target] */
static double nll(const float *logits, int V, int target)
{
    double mx = logits[0];
    for (int v = 1; v < V; v++)
        if (logits[v] > mx) mx = logits[v];
    double s = 0;
    for (int v = 0; v < V; v++) s += exp((double)logits[v] - mx);
    return log(s) + mx - (double)logits[target];
}

int cmd_perplexity(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_MODEL_LONGOPTS, {"text", required_argument, NULL, OPT_TEXT},
        {"seq", required_argument, NULL, OPT_SEQ}, {"batch", required_argument, NULL, OPT_BATCH},
        {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *text_path = NULL;
    long seq = 0, batch = 1;
    int opt, rc;
    while ((opt = cli_next_opt("perplexity", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        if (opt == OPT_TEXT) text_path = optarg;
        else if (opt == OPT_SEQ) {
            if (!cli_int("perplexity", "--seq", optarg, 2, 1 << 20, &seq)) return EXIT_BAD_INPUT;
        } else if (opt == OPT_BATCH) {
            if (!cli_int("perplexity", "--batch", optarg, 1, 4096, &batch)) return EXIT_BAD_INPUT;
        } else return cli_bad_option("perplexity", argv);
    }
    if (optind < argc) return cli_error("perplexity", "unexpected argument '%s'", argv[optind]);
    if (!text_path) return cli_error("perplexity", "--text FILE is required");

    rc = EXIT_BAD_INPUT;
    itera_model *m = NULL;
    itera_ctx *c = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    if (cli_load_model("perplexity", &mo, &m)) goto out;
    const itera_config *cf = itera_model_config(m);
    if (seq == 0) seq = cf->max_seq_length;
    if (seq > cf->max_seq_length) {
        cli_error("perplexity", "--seq: %ld exceeds the model's max_seq_length %d", seq, cf->max_seq_length);
        goto out;
    }
    int n;
    if (cli_text_tokens("perplexity", &mo, m, text_path, 2, &ids, &n)) goto out;
    logits = malloc((size_t)batch * seq * cf->vocab_size * sizeof *logits);
    if (!logits) {
        cli_error("perplexity", "out of memory");
        goto out;
    }
    if (cli_make_ctx("perplexity", &mo, m, (int)batch, (int)seq, &c)) goto out;
    int V = cf->vocab_size, L = (int)seq;
    int full = n / L, rem = n % L;
    double total_nll = 0, secs = 0;
    long predicted = 0, processed = 0;
    itera_error err;
    /* full windows, B at a time; then the remainder (if it predicts anything) alone */
    for (int w = 0; w <= full; w += (int)batch) {
        int Bn = w < full ? (full - w < batch ? full - w : (int)batch) : 0, Ln = L;
        if (w >= full) {
            if (rem < 2) break;
            Bn = 1;
            Ln = rem;
        }
        const int32_t *win = ids + (size_t)w * L;
        double t0 = cli_now();
        if (itera_forward(c, win, Bn, Ln, logits, &err) != ITERA_OK) {
            cli_error("perplexity", "%s", err.msg);
            goto out;
        }
        secs += cli_now() - t0;
        char where[64];
        snprintf(where, sizeof where, "window %d", w);
        if ((rc = cli_check_logits("perplexity", logits, (size_t)Bn * Ln * V, where))) goto out;
        rc = EXIT_BAD_INPUT;
        processed += (long)Bn * Ln;
        for (int b = 0; b < Bn; b++)
            for (int l = 0; l + 1 < Ln; l++) {
                total_nll += nll(logits + ((size_t)b * Ln + l) * V, V, win[(size_t)b * Ln + l + 1]);
                predicted++;
            }
        if (w >= full) break;
    }
    printf("model=%s quant=%s isa=%s kernel=%s threads=%d seq=%d batch=%ld windows=%d%s\n",
           itera_model_source(m), itera_quant_name(itera_model_quant(m)), itera_ctx_isa(c),
           itera_kernel_name(itera_ctx_kernel(c, (int)batch, L)), mo.threads, L, batch,
           full + (rem >= 2), rem >= 2 ? " (last one shorter)" : "");
    printf("perplexity=%.4f tokens=%ld tokens_per_second=%.0f\n", exp(total_nll / (double)predicted),
           predicted, (double)processed / secs);
    rc = 0;
out:
    itera_ctx_free(c);
    itera_model_free(m);
    free(ids);
    free(logits);
    return rc;
}
