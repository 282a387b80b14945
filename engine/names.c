/* names.c: names of the public enums, and parsing them back. */
#include <string.h>

#include "itera.h"

static const char *const quant_names[ITERA_QUANT_COUNT] = {
    [ITERA_QUANT_FP32] = "fp32",
    [ITERA_QUANT_INT8] = "int8",
    [ITERA_QUANT_INT4] = "int4",
};

static const char *const kernel_names[ITERA_KERNEL_COUNT] = {
    [ITERA_KERNEL_SEQUENTIAL] = "sequential",
    [ITERA_KERNEL_PARALLEL] = "parallel",
    [ITERA_KERNEL_CHUNKED] = "chunked",
};

const char *itera_quant_name(itera_quant q)
{
    return (q >= 0 && q < ITERA_QUANT_COUNT) ? quant_names[q] : "?";
}

bool itera_quant_parse(const char *s, itera_quant *out)
{
    for (int q = 0; q < ITERA_QUANT_COUNT; q++)
        if (s && strcmp(s, quant_names[q]) == 0) {
            *out = (itera_quant)q;
            return true;
        }
    return false;
}

const char *itera_kernel_name(itera_kernel k)
{
    if (k == ITERA_KERNEL_AUTO) return "auto";
    return (k >= 0 && k < ITERA_KERNEL_COUNT) ? kernel_names[k] : "?";
}

bool itera_kernel_parse(const char *s, itera_kernel *out)
{
    if (s && strcmp(s, "auto") == 0) {
        *out = ITERA_KERNEL_AUTO;
        return true;
    }
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++)
        if (s && strcmp(s, kernel_names[k]) == 0) {
            *out = (itera_kernel)k;
            return true;
        }
    return false;
}

const char *itera_status_name(itera_status s)
{
    switch (s) {
    case ITERA_OK: return "ok";
    case ITERA_ERR_IO: return "i/o error";
    case ITERA_ERR_FORMAT: return "bad format";
    case ITERA_ERR_ARG: return "bad argument";
    case ITERA_ERR_NOMEM: return "out of memory";
    case ITERA_ERR_STATE: return "bad state";
    }
    return "?";
}
