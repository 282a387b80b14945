/* cmd_quantize.c: `itera quantize`: write a model folder in a weight format. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "usage: itera quantize [--model DIR] --quant {quants} --out DIR2\n"
    "Quantizes every matrix-multiply weight to the format and writes DIR2/config.json,\n"
    "DIR2/model.safetensors (packed integers and scales as U8 tensors, FP32 parameters as F16;\n"
    "metadata itera.quant, itera.format, itera.block_size) and a copy of DIR/tokenizer.json\n"
    "when there is one. The formats:\n"
    "{formats}"
    "`--model DIR2` then loads it directly. Prints the file sizes and their ratio.\n"
    "--quant fp32 writes the FP32 weights unchanged (e.g. the built-in synthetic model as a\n"
    "folder, for tools outside the engine such as the PyTorch and ONNX Runtime peers).\n\n"
    "  --out DIR2        output folder, written as a whole (a temporary folder beside it,\n"
    "                    renamed into place); an existing DIR2 is replaced only when it\n"
    "                    holds nothing but the files the new folder has\n" CLI_MODEL_USAGE;

enum { OPT_OUT = OPT_FIRST_COMMAND_OPT };

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static itera_status read_error(itera_error *err, const char *src)
{
    snprintf(err->msg, sizeof err->msg, "%.400s: cannot read: %s", src, strerror(errno));
    return ITERA_ERR_IO;
}

/* Copies src to dst (itera_write_file's temporary file, renamed). */
static itera_status copy_file(const char *src, const char *dst, itera_error *err)
{
    FILE *in = fopen(src, "rb");
    if (!in) return read_error(err, src);
    itera_file *out;
    itera_status st = itera_file_create(dst, &out, err);
    char buf[65536];
    size_t n;
    while (st == ITERA_OK && (n = fread(buf, 1, sizeof buf, in)) > 0) itera_file_write(out, buf, n);
    if (st == ITERA_OK && ferror(in)) {
        itera_file_discard(out);
        st = read_error(err, src);
    } else if (st == ITERA_OK) {
        st = itera_file_commit(out, err);
    }
    fclose(in);
    return st;
}

int cmd_quantize(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_MODEL_LONGOPTS, {"out", required_argument, NULL, OPT_OUT},
                                             {0, 0, 0, 0}};
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *out = NULL;
    int opt, rc;
    while ((opt = cli_next_opt("quantize", argc, argv, "", longopts, usage, &mo, &rc)) != -1) {
        if (opt == CLI_STOP) return rc;
        if (opt == OPT_OUT) out = optarg;
        else return cli_bad_option("quantize", argv);
    }
    if (optind < argc) return cli_error("quantize", "unexpected argument '%s'", argv[optind]);
    if (mo.quant == ITERA_QUANT_AS_STORED)
        return cli_error("quantize", "--quant: expected one of %s (see itera quantize --help)",
                         itera_quant_choices());
    if (!out || !*out) return cli_error("quantize", "--out: missing (the folder to write)");
    struct stat sb;
    if (lstat(out, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return cli_error("quantize", "--out: '%s' exists and is not a folder", out);

    itera_model *m;
    if (cli_load_model("quantize", &mo, &m)) return EXIT_BAD_INPUT;
    itera_error err;
    char *tmp = NULL;
    rc = 0;
    if (itera_dir_begin(out, &tmp, &err) != ITERA_OK || itera_model_save(m, tmp, &err) != ITERA_OK) {
        rc = cli_error("quantize", "--out: %s", err.msg);
        goto done;
    }
    char src[4200], dst[4200];
    if (mo.model) {
        snprintf(src, sizeof src, "%s/tokenizer.json", mo.model);
        snprintf(dst, sizeof dst, "%s/tokenizer.json", tmp);
        if (file_size(src) >= 0 && copy_file(src, dst, &err) != ITERA_OK) {
            rc = cli_error("quantize", "%s", err.msg);
            goto done;
        }
    }
    if (itera_dir_commit(tmp, out, &err) != ITERA_OK) {
        rc = cli_error("quantize", "--out: %s", err.msg);
        goto done;
    }
    snprintf(dst, sizeof dst, "%s/model.safetensors", out);
    long out_bytes = file_size(dst), in_bytes = -1;
    if (mo.model) {
        snprintf(src, sizeof src, "%s/model.safetensors", mo.model);
        in_bytes = file_size(src);
    }
    printf("wrote %s: quant=%s weight_bytes=%zu file_bytes=%ld", out, itera_quant_name(itera_model_quant(m)),
           itera_model_weight_bytes(m), out_bytes);
    if (in_bytes > 0) printf(" source_file_bytes=%ld ratio=%.4f", in_bytes, (double)out_bytes / (double)in_bytes);
    printf("\n");
done:
    if (rc != 0 && tmp) itera_dir_discard(tmp);
    free(tmp);
    itera_model_free(m);
    return rc;
}
