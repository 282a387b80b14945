/*
 * cli.h: shared pieces of the `itera` command line: option parsing with checked numbers,
 * the options every model command takes, and error reporting.
 * Exit codes: 0 success, 1 a failed check, 2 bad usage or input.
 */
#ifndef ITERA_CLI_H
#define ITERA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "itera.h"

#define EXIT_CHECK_FAILED 1
#define EXIT_BAD_INPUT 2

/* Options shared by model commands, with their long-option ids. */
typedef struct cli_model_opts {
    const char *model;   /* folder, or NULL: the built-in synthetic model */
    int threads;
    itera_quant quant;   /* ITERA_QUANT_AS_STORED unless --quant */
    itera_kernel kernel; /* ITERA_KERNEL_AUTO unless --kernel */
    int chunk;
} cli_model_opts;

enum {
    OPT_MODEL = 1000,
    OPT_THREADS,
    OPT_QUANT,
    OPT_KERNEL,
    OPT_CHUNK,
    OPT_HELP,
    OPT_FIRST_COMMAND_OPT /* commands number their own options from here */
};

#define CLI_MODEL_LONGOPTS                                                              \
    {"model", required_argument, NULL, OPT_MODEL},                                      \
        {"threads", required_argument, NULL, OPT_THREADS},                              \
        {"quant", required_argument, NULL, OPT_QUANT},                                  \
        {"kernel", required_argument, NULL, OPT_KERNEL},                                \
        {"chunk", required_argument, NULL, OPT_CHUNK}, {"help", no_argument, NULL, OPT_HELP}

#define CLI_MODEL_USAGE                                                                 \
    "  --model DIR       model folder (config.json + model.safetensors); default: the\n"   \
    "                    built-in synthetic model (seed 20240501)\n"                        \
    "  --threads N       worker threads (default 1)\n"                                      \
    "  --quant Q         {quants} (default: as stored)\n"                                   \
    "  --kernel K        scan kernel {kernels}|auto (default auto)\n"                        \
    "  --chunk T         chunk length of the chunked scan (default: measured)\n"           \
    "  --help            this text\n"

void cli_model_opts_init(cli_model_opts *o);
/* Handles a shared option: 1 handled, 0 not a shared option, -1 bad value (reported). */
int cli_model_opt(const char *cmd, cli_model_opts *o, int opt, const char *arg);
/* Prints a usage text to fp with the tables filled in: {kernels} and {quants} become the
 * names of the kernel and format rows joined by '|', {formats} a line per format (name,
 * file dtype, bits per weight, activations, summary). */
void cli_print_usage(FILE *fp, const char *usage);
/* Prints "itera CMD: error: ..." on stderr and returns EXIT_BAD_INPUT. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Numbers: false (and an error printed naming the flag) if s is not a number in [lo, hi]. */
bool cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
bool cli_float(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);
/* The option loop every command shares: returns the next command-specific option id,
 * -1 when the options are done, or CLI_STOP with *rc set when the command must return
 * at once (--help printed: 0; a bad shared option, reported: 2). Shared model options are
 * handled here when mo is not NULL. */
#define CLI_STOP (-2)
int cli_next_opt(const char *cmd, int argc, char **argv, const char *shortopts,
                 const struct option *longopts, const char *usage, cli_model_opts *mo, int *rc);

/* The usual getopt error for an unknown option or missing argument. */
int cli_bad_option(const char *cmd, char **argv);

/* Loads the model the options name (prints the error). */
int cli_load_model(const char *cmd, const cli_model_opts *o, itera_model **m);
int cli_make_ctx(const char *cmd, const cli_model_opts *o, const itera_model *m, int max_batch,
                 int max_seq, itera_ctx **c);
/* tokenizer.json beside the model, or the synthetic one. */
int cli_load_tokenizer(const char *cmd, const cli_model_opts *o, const itera_model *m,
                       itera_tokenizer **t);
double cli_now(void); /* seconds, CLOCK_MONOTONIC */
/* 0 if logits[0..n) are all finite; else prints "itera CMD: error: the model's logits are
 * not finite (NaN at WHERE ...)" and returns EXIT_BAD_INPUT (the model is at fault). */
int cli_check_logits(const char *cmd, const float *logits, size_t n, const char *where);

/* A text file's words as token ids of the model's tokenizer (tokenizer.json beside the
 * model, or the synthetic one): *ids (malloc'd, *n of them; at least min_words) — every id
 * checked against the model's vocabulary. Returns 0, or prints the error naming --text. */
int cli_text_tokens(const char *cmd, const cli_model_opts *o, const itera_model *m,
                    const char *path, int min_words, int32_t **ids, int *n);

/* Commands: argv[0] is the command name. */
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_accuracy(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
