/* cmd_info.c: `itera info`: the model's config, parameters, and bytes per tensor. */
#include <stdio.h>

#include "cli.h"

static const char usage[] =
    "usage: itera info [--model DIR] [--quant Q]\n"
    "Prints the model's configuration, parameter count, FLOPs per token, the ISA path of\n"
    "its matrix products, and every tensor with its stored dtype, shape and bytes.\n\n" CLI_MODEL_USAGE;

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_MODEL_LONGOPTS, {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    int opt, rc;
    while ((opt = cli_next_opt("info", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        return cli_bad_option("info", argv);
    }
    if (optind < argc) return cli_error("info", "unexpected argument '%s'", argv[optind]);
    itera_model *m;
    if (cli_load_model("info", &mo, &m)) return EXIT_BAD_INPUT;
    const itera_config *c = itera_model_config(m);
    printf("model: %s\n", itera_model_source(m));
    printf("quant: %s (matmul ISA path: %s)\n", itera_quant_name(itera_model_quant(m)),
           itera_quant_isa(itera_model_quant(m)));
    printf("config: vocab_size=%d hidden_size=%d num_layers=%d ssm_state_size=%d "
           "ssm_expand_factor=%d ssm_conv_kernel=%d num_experts=%d expert_size=%d "
           "top_k_experts=%d max_seq_length=%d layer_norm_eps=%g tie_word_embeddings=%s moe_layers=[",
           c->vocab_size, c->hidden_size, c->num_layers, c->ssm_state_size, c->ssm_expand_factor,
           c->ssm_conv_kernel, c->num_experts, c->expert_size, c->top_k_experts, c->max_seq_length,
           (double)c->layer_norm_eps, c->tie_word_embeddings ? "true" : "false");
    for (int i = 0, first = 1; i < c->num_layers; i++)
        if (c->moe_layer[i]) {
            printf("%s%d", first ? "" : ",", i);
            first = 0;
        }
    printf("]\n");
    printf("\n%-48s %-6s %-14s %10s\n", "tensor", "dtype", "shape", "bytes");
    for (int i = 0; i < itera_model_tensor_count(m); i++) {
        itera_tensor_info t;
        itera_model_tensor(m, i, &t);
        char shape[64];
        int off = snprintf(shape, sizeof shape, "[");
        for (int d = 0; d < t.rank; d++)
            off += snprintf(shape + off, sizeof shape - (size_t)off, "%s%lld", d ? ", " : "", (long long)t.shape[d]);
        snprintf(shape + off, sizeof shape - (size_t)off, "]");
        printf("%-48s %-6s %-14s %10zu\n", t.name, t.dtype, shape, t.bytes);
    }
    printf("\nparameters=%zu weight_bytes=%zu flops_per_token=%.0f\n", itera_model_param_count(m),
           itera_model_weight_bytes(m), itera_model_flops_per_token(m));
    itera_model_free(m);
    return 0;
}
