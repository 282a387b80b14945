/* cmd_verify.c: `itera verify`: the engine's logits against golden safetensors files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golden.h"

static const char usage[] =
    "usage: itera verify [options] [--decode] [--tol X] FILE.safetensors...\n"
    "Runs each file's input_ids (I32 [B, L]) and compares the logits with its logits\n"
    "(F32 [B, L, vocab]). One line per file with max_abs_err= and top1_agree=; exit 0 only if\n"
    "every file is within the tolerance, 1 if one is not, 2 on bad input.\n\n"
    "  --decode          feed the tokens one at a time through the decode path\n"
    "  --tol X           largest allowed absolute logit error (default 1e-4)\n" CLI_MODEL_USAGE;

enum { OPT_DECODE = OPT_FIRST_COMMAND_OPT, OPT_TOL };

static int argmax(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

/* Runs one golden file; returns 0 pass, 1 fail, 2 bad input. */
static int verify_file(const char *path, itera_model *m, const cli_model_opts *mo, bool decode, double tol)
{
    itera_error err;
    itera_tensors *f;
    if (itera_tensors_open(path, &f, &err) != ITERA_OK) return cli_error("verify", "%s", err.msg);
    int rc = EXIT_BAD_INPUT;
    itera_ctx *c = NULL;
    float *got = NULL;
    golden gd;
    if (golden_read(f, path, itera_model_config(m), &gd, &err) != ITERA_OK) {
        cli_error("verify", "%s", err.msg);
        itera_tensors_close(f);
        return EXIT_BAD_INPUT;
    }
    const int B = gd.B, L = gd.L, V = gd.V;
    const int32_t *ids = gd.ids;
    const float *want = gd.logits;
    size_t n = (size_t)B * L * V;
    got = malloc(n * sizeof *got);
    if (!got) {
        cli_error("verify", "%s: out of memory", path);
        goto out;
    }
    if (cli_make_ctx("verify", mo, m, B, L, &c)) goto out;
    itera_status st;
    if (!decode) {
        st = itera_forward(c, ids, B, L, got, &err);
    } else {
        st = itera_decode_reset(c, B, &err);
        int32_t *step = malloc((size_t)B * sizeof *step);
        float *lg = malloc((size_t)B * V * sizeof *lg);
        if (!step || !lg) st = ITERA_ERR_NOMEM, snprintf(err.msg, sizeof err.msg, "out of memory");
        for (int l = 0; l < L && st == ITERA_OK; l++) {
            for (int b = 0; b < B; b++) step[b] = ids[(size_t)b * L + l];
            st = itera_decode_step(c, step, lg, &err);
            for (int b = 0; st == ITERA_OK && b < B; b++)
                memcpy(got + ((size_t)b * L + l) * V, lg + (size_t)b * V, (size_t)V * sizeof(float));
        }
        free(step);
        free(lg);
    }
    if (st != ITERA_OK) {
        cli_error("verify", "%s: %s", path, err.msg);
        goto out;
    }
    double max_err = 0;
    int agree = 0;
    for (size_t r = 0; r < (size_t)B * L; r++) {
        const float *a = got + r * V, *b = want + r * V;
        for (int v = 0; v < V; v++) {
            double e = fabs((double)a[v] - (double)b[v]);
            if (!(e <= max_err)) max_err = e; /* NaN counts as the worst */
        }
        agree += argmax(a, V) == argmax(b, V);
    }
    bool pass = max_err <= tol;
    printf("%s: max_abs_err=%.3g top1_agree=%.4f B=%d L=%d path=%s quant=%s isa=%s kernel=%s threads=%d %s\n",
           path, max_err, (double)agree / ((double)B * L), B, L, decode ? "decode" : "prefill",
           itera_quant_name(itera_model_quant(m)), itera_ctx_isa(c), itera_kernel_name(itera_ctx_kernel(c, B, decode ? 1 : L)),
           itera_ctx_threads(c), pass ? "PASS" : "FAIL");
    rc = pass ? 0 : EXIT_CHECK_FAILED;
out:
    itera_ctx_free(c);
    golden_free(&gd);
    free(got);
    itera_tensors_close(f);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_MODEL_LONGOPTS, {"decode", no_argument, NULL, OPT_DECODE},
        {"tol", required_argument, NULL, OPT_TOL}, {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    bool decode = false;
    double tol = 1e-4;
    int opt, rc;
    while ((opt = cli_next_opt("verify", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        if (opt == OPT_DECODE) decode = true;
        else if (opt == OPT_TOL) {
            if (!cli_float("verify", "--tol", optarg, 0, 1e30, &tol)) return EXIT_BAD_INPUT;
        } else return cli_bad_option("verify", argv);
    }
    if (optind >= argc) return cli_error("verify", "no golden file given (see itera verify --help)");
    itera_model *m;
    if (cli_load_model("verify", &mo, &m)) return EXIT_BAD_INPUT;
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        rc = verify_file(argv[i], m, &mo, decode, tol);
        if (rc > worst) worst = rc;
    }
    itera_model_free(m);
    return worst;
}
