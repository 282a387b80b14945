/* cmd_generate.c: `itera generate`: text from a prompt, prefill then stateful decode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: itera generate [options] [--prompt TEXT] [-n N] [--seed S] [--temperature T]\n"
    "Prefills the prompt, then decodes N tokens one at a time (greedy at temperature 0).\n"
    "Last line: tokens_per_second=... (decode rate: generated tokens per second of decode steps).\n\n"
    "  --prompt TEXT     prompt (default \"once upon a time\"; the synthetic model's words are w4..w1999)\n"
    "  -n N              tokens to generate (default 32; prompt + N <= max_seq_length)\n"
    "  --seed S          sampling seed (default 1)\n"
    "  --temperature T   0 = greedy (default 0.8)\n" CLI_MODEL_USAGE;

enum { OPT_PROMPT = OPT_FIRST_COMMAND_OPT, OPT_SEED, OPT_TEMP };

int cmd_generate(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_MODEL_LONGOPTS, {"prompt", required_argument, NULL, OPT_PROMPT},
        {"seed", required_argument, NULL, OPT_SEED}, {"temperature", required_argument, NULL, OPT_TEMP},
        {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *prompt = "once upon a time";
    long n_gen = 32, seed = 1;
    double temp = 0.8;
    int opt, rc;
    while ((opt = cli_next_opt("generate", argc, argv, "n:", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        if (opt == OPT_PROMPT) prompt = optarg;
        else if (opt == 'n') {
            if (!cli_int("generate", "-n", optarg, 1, 1 << 20, &n_gen)) return EXIT_BAD_INPUT;
        } else if (opt == OPT_SEED) {
            if (!cli_int("generate", "--seed", optarg, 0, 0x7fffffffL, &seed)) return EXIT_BAD_INPUT;
        } else if (opt == OPT_TEMP) {
            if (!cli_float("generate", "--temperature", optarg, 0, 100, &temp)) return EXIT_BAD_INPUT;
        } else return cli_bad_option("generate", argv);
    }
    if (optind < argc) return cli_error("generate", "unexpected argument '%s'", argv[optind]);
    itera_error terr;
    if (itera_check_text("--prompt", prompt, strlen(prompt), &terr) != ITERA_OK)
        return cli_error("generate", "%s", terr.msg);

    rc = EXIT_BAD_INPUT;
    itera_model *m = NULL;
    itera_tokenizer *tok = NULL;
    itera_ctx *c = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    if (cli_load_model("generate", &mo, &m)) goto out;
    if (cli_load_tokenizer("generate", &mo, m, &tok)) goto out;
    const itera_config *cf = itera_model_config(m);
    int V = cf->vocab_size, maxL = cf->max_seq_length;
    int np = itera_tokenize(tok, prompt, NULL, 0);
    if (np == 0) np = 1; /* empty prompt: start from <BOS> */
    if (np + n_gen > maxL) {
        cli_error("generate", "prompt (%d tokens) + -n %ld exceeds the model's max_seq_length %d", np,
                  n_gen, maxL);
        goto out;
    }
    ids = malloc((size_t)maxL * sizeof *ids);
    logits = malloc((size_t)maxL * V * sizeof *logits);
    if (!ids || !logits) {
        cli_error("generate", "out of memory");
        goto out;
    }
    if (itera_tokenize(tok, prompt, ids, maxL) == 0) ids[0] = ITERA_TOKEN_BOS;
    if (cli_make_ctx("generate", &mo, m, 1, maxL, &c)) goto out;
    itera_error err;
    if (itera_forward(c, ids, 1, np, logits, &err) != ITERA_OK) {
        cli_error("generate", "%s", err.msg);
        goto out;
    }
    if ((rc = cli_check_logits("generate", logits + (size_t)(np - 1) * V, (size_t)V, "the prompt's last token")))
        goto out;
    rc = EXIT_BAD_INPUT;
    uint64_t rng = (uint64_t)seed;
    for (int i = 0; i < np; i++) printf("%s%s", i ? " " : "", itera_token_text(tok, ids[i]));
    fflush(stdout);
    int32_t next = itera_sample(logits + (size_t)(np - 1) * V, V, (float)temp, &rng);
    double secs = 0;
    for (long i = 0; i < n_gen; i++) {
        printf(" %s", itera_token_text(tok, next));
        if (i + 1 == n_gen) break;
        double t0 = cli_now();
        if (itera_decode_step(c, &next, logits, &err) != ITERA_OK) {
            cli_error("generate", "%s", err.msg);
            goto out;
        }
        secs += cli_now() - t0;
        char where[48];
        snprintf(where, sizeof where, "generated token %ld", i + 2);
        if (cli_check_logits("generate", logits, (size_t)V, where)) {
            printf("\n");
            goto out;
        }
        next = itera_sample(logits, V, (float)temp, &rng);
    }
    printf("\n");
    printf("model=%s quant=%s isa=%s kernel=%s threads=%d prompt_tokens=%d generated=%ld\n",
           itera_model_source(m), itera_quant_name(itera_model_quant(m)), itera_ctx_isa(c),
           itera_kernel_name(itera_ctx_kernel(c, 1, 1)), mo.threads, np, n_gen);
    printf("tokens_per_second=%.0f\n", n_gen > 1 ? (double)(n_gen - 1) / secs : 0.0);
    rc = 0;
out:
    itera_ctx_free(c);
    itera_tokenizer_free(tok);
    itera_model_free(m);
    free(ids);
    free(logits);
    return rc;
}
