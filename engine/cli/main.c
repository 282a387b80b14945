/* main.c: `itera`, the engine's command line. One table entry per command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "config, parameter count, weight bytes per tensor"},
    {"verify", cmd_verify, "check logits against golden safetensors files"},
    {"perplexity", cmd_perplexity, "perplexity of a text, and the prefill rate"},
    {"accuracy", cmd_accuracy, "each quant's distributions against FP32: KLD, perplexity, top-1"},
    {"generate", cmd_generate, "generate text, and the decode rate"},
    {"quantize", cmd_quantize, "write an int8 / int4 model folder"},
    {"profile", cmd_profile, "time every op of the forward pass in µs (zones), trace it"},
    {"scan", cmd_scan, "time the standalone selective scan kernels"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: itera COMMAND [options]   (itera COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status: 0 success, 1 a failed check, 2 bad usage or input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "itera: error: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_BAD_INPUT;
}
