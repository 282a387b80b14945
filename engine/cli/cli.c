/* cli.c: shared option handling of the `itera` commands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cli_model_opts_init(cli_model_opts *o)
{
    o->model = NULL;
    o->threads = 1;
    o->quant = ITERA_QUANT_AS_STORED;
    o->kernel = ITERA_KERNEL_AUTO;
    o->chunk = 0;
}

void cli_print_usage(FILE *fp, const char *usage)
{
    for (const char *p = usage; *p; p++) {
        if (!strncmp(p, "{kernels}", 9)) {
            for (int k = 0; k < ITERA_KERNEL_COUNT; k++)
                fprintf(fp, "%s%s", k ? "|" : "", itera_kernel_name((itera_kernel)k));
            p += 8;
        } else if (!strncmp(p, "{quants}", 8)) {
            for (int q = 0; q < ITERA_QUANT_COUNT; q++)
                fprintf(fp, "%s%s", q ? "|" : "", itera_quant_name((itera_quant)q));
            p += 7;
        } else if (!strncmp(p, "{formats}", 9)) {
            for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
                const itera_quant_info *f = itera_quant_info_get((itera_quant)q);
                fprintf(fp, "  %-6s %s, %.1f bits per weight; activations: %s\n         %s\n", f->name,
                        f->dtype, f->bits_per_weight, f->activations, f->summary);
            }
            p += 8;
        } else {
            fputc(*p, fp);
        }
    }
}

int cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "itera %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_BAD_INPUT;
}

bool cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error(cmd, "%s: '%s' is not an integer in %ld..%ld", flag, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool cli_float(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        cli_error(cmd, "%s: '%s' is not a number in [%g, %g]", flag, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int cli_next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
                 const struct option *longopts, const char *usage, cli_model_opts *mo, int *rc)
{
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (opt == OPT_HELP) {
            cli_print_usage(stdout, usage);
            *rc = 0;
            return CLI_STOP;
        }
        int r = mo && opt != -1 ? cli_model_opt(cmd, mo, opt, optarg) : 0;
        if (r < 0) {
            *rc = EXIT_BAD_INPUT;
            return CLI_STOP;
        }
        if (r == 0) return opt;
    }
}

int cli_bad_option(const char *cmd, char **argv)
{
    return cli_error(cmd, "bad option '%s' (see itera %s --help)", argv[optind - 1], cmd);
}

int cli_model_opt(const char *cmd, cli_model_opts *o, int opt, const char *arg)
{
    long v;
    switch (opt) {
    case OPT_MODEL:
        o->model = arg;
        return 1;
    case OPT_THREADS:
        if (!cli_int(cmd, "--threads", arg, 1, ITERA_MAX_THREADS, &v)) return -1;
        o->threads = (int)v;
        return 1;
    case OPT_QUANT:
        if (!itera_quant_parse(arg, &o->quant)) {
            cli_error(cmd, "--quant: '%s' is not one of %s", arg, itera_quant_choices());
            return -1;
        }
        return 1;
    case OPT_KERNEL:
        if (!itera_kernel_parse(arg, &o->kernel)) {
            cli_error(cmd, "--kernel: '%s' is not one of %s, auto", arg, itera_kernel_choices());
            return -1;
        }
        return 1;
    case OPT_CHUNK:
        if (!cli_int(cmd, "--chunk", arg, 1, 1 << 20, &v)) return -1;
        o->chunk = (int)v;
        return 1;
    }
    return 0;
}

int cli_load_model(const char *cmd, const cli_model_opts *o, itera_model **m)
{
    itera_error err;
    itera_status st;
    if (o->model) {
        struct stat sb;
        if (stat(o->model, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return cli_error(cmd, "--model: '%s' is not a folder (expected config.json + model.safetensors)",
                             o->model);
        st = itera_model_load(o->model, o->quant, m, &err);
    } else {
        st = itera_model_synthetic(ITERA_DEFAULT_SEED, o->quant, m, &err);
    }
    if (st != ITERA_OK) return cli_error(cmd, "%s", err.msg);
    return 0;
}

int cli_make_ctx(const char *cmd, const cli_model_opts *o, const itera_model *m, int max_batch,
                 int max_seq, itera_ctx **c)
{
    itera_error err;
    itera_ctx_opts co = {.threads = o->threads, .max_batch = max_batch, .max_seq = max_seq,
                         .kernel = o->kernel, .chunk = o->chunk};
    if (itera_ctx_create(m, &co, c, &err) != ITERA_OK) return cli_error(cmd, "%s", err.msg);
    return 0;
}

int cli_load_tokenizer(const char *cmd, const cli_model_opts *o, const itera_model *m,
                       itera_tokenizer **t)
{
    itera_error err;
    itera_status st;
    if (o->model) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tokenizer.json", o->model);
        st = itera_tokenizer_load(path, t, &err);
    } else {
        st = itera_tokenizer_synthetic(itera_model_config(m)->vocab_size, t, &err);
    }
    if (st != ITERA_OK) return cli_error(cmd, "%s", err.msg);
    return 0;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_check_logits(const char *cmd, const float *logits, size_t n, const char *where)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(logits[i]))
            return cli_error(cmd,
                             "the model's logits are not finite (%s at %s): its weights make the "
                             "activations overflow",
                             isnan(logits[i]) ? "NaN" : "infinity", where);
    return 0;
}

/* The whole file as a NUL-terminated string (malloc'd): a regular file (never opened
 * blocking) of UTF-8 text without NUL bytes; else NULL with the message in err (naming the
 * byte offset of a NUL or invalid byte: a NUL would otherwise end the text early). */
static char *read_text(const char *path, itera_error *err)
{
    char *buf;
    size_t len;
    if (itera_read_file(path, 0, &buf, &len, err) != ITERA_OK) return NULL;
    if (itera_check_text(path, buf, len, err) != ITERA_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int cli_text_tokens(const char *cmd, const cli_model_opts *o, const itera_model *m,
                    const char *path, int min_words, int32_t **ids, int *n)
{
    *ids = NULL;
    *n = 0;
    itera_error err;
    char *text = read_text(path, &err);
    if (!text) return cli_error(cmd, "--text: %s", err.msg);
    itera_tokenizer *tok = NULL;
    int rc = EXIT_BAD_INPUT;
    if (cli_load_tokenizer(cmd, o, m, &tok)) goto out;
    const int words = itera_tokenize(tok, text, NULL, 0), V = itera_model_config(m)->vocab_size;
    if (words < min_words) {
        cli_error(cmd, "--text: '%s' has %d words; at least %d are needed", path, words, min_words);
        goto out;
    }
    int32_t *t = malloc((size_t)words * sizeof *t);
    if (!t) {
        cli_error(cmd, "--text: out of memory for %d tokens", words);
        goto out;
    }
    itera_tokenize(tok, text, t, words);
    for (int i = 0; i < words; i++)
        if (t[i] >= V) {
            cli_error(cmd, "--text: token id %d (word %d of '%s') exceeds the model's vocabulary (%d)",
                      t[i], i + 1, path, V);
            free(t);
            goto out;
        }
    *ids = t;
    *n = words;
    rc = 0;
out:
    itera_tokenizer_free(tok);
    free(text);
    return rc;
}
