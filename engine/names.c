/* names.c: the public view of the kernel and format tables (itera_kernels.def,
 * itera_formats.def): rows, names, parsing names back, the lists of choices; and the
 * names of the status codes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "itera.h"

static const itera_kernel_info kernel_rows[ITERA_KERNEL_COUNT] = {
#define ITERA_KERNEL(ID, name_, impl, chunk, rank, summary_) \
    [ITERA_KERNEL_##ID] = {.name = name_, .summary = summary_, .takes_chunk = (chunk) != 0, .report_rank = rank},
#include "itera_kernels.def"
#undef ITERA_KERNEL
};

static const itera_quant_info quant_rows[ITERA_QUANT_COUNT] = {
#define ITERA_FORMAT(ID, name_, impl, dtype_, bits, block_, act, prod, summary_)                   \
    [ITERA_QUANT_##ID] = {.name = name_, .summary = summary_, .dtype = dtype_, .bits_per_weight = bits, \
                          .block = block_, .activations = act, .products = ITERA_ARITH_##prod},
#include "itera_formats.def"
#undef ITERA_FORMAT
};

const itera_kernel_info *itera_kernel_info_get(itera_kernel k)
{
    return (k >= 0 && k < ITERA_KERNEL_COUNT) ? &kernel_rows[k] : NULL;
}

const itera_quant_info *itera_quant_info_get(itera_quant q)
{
    return (q >= 0 && q < ITERA_QUANT_COUNT) ? &quant_rows[q] : NULL;
}

const char *itera_quant_name(itera_quant q)
{
    return (q >= 0 && q < ITERA_QUANT_COUNT) ? quant_rows[q].name : "?";
}

bool itera_quant_parse(const char *s, itera_quant *out)
{
    for (int q = 0; q < ITERA_QUANT_COUNT; q++)
        if (s && strcmp(s, quant_rows[q].name) == 0) {
            *out = (itera_quant)q;
            return true;
        }
    return false;
}

const char *itera_kernel_name(itera_kernel k)
{
    if (k == ITERA_KERNEL_AUTO) return "auto";
    return (k >= 0 && k < ITERA_KERNEL_COUNT) ? kernel_rows[k].name : "?";
}

bool itera_kernel_parse(const char *s, itera_kernel *out)
{
    if (s && strcmp(s, "auto") == 0) {
        *out = ITERA_KERNEL_AUTO;
        return true;
    }
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++)
        if (s && strcmp(s, kernel_rows[k].name) == 0) {
            *out = (itera_kernel)k;
            return true;
        }
    return false;
}

/* The choices, joined once (pthread_once) into fixed buffers. */
static char quant_choices[ITERA_QUANT_COUNT * 40], kernel_choices[ITERA_KERNEL_COUNT * 40];
static pthread_once_t choices_once = PTHREAD_ONCE_INIT;

static void join_choices(void)
{
    size_t n = 0;
    for (int q = 0; q < ITERA_QUANT_COUNT && n < sizeof quant_choices; q++)
        n += (size_t)snprintf(quant_choices + n, sizeof quant_choices - n, "%s%s", q ? ", " : "",
                              quant_rows[q].name);
    n = 0;
    for (int k = 0; k < ITERA_KERNEL_COUNT && n < sizeof kernel_choices; k++)
        n += (size_t)snprintf(kernel_choices + n, sizeof kernel_choices - n, "%s%s", k ? ", " : "",
                              kernel_rows[k].name);
}

const char *itera_quant_choices(void)
{
    pthread_once(&choices_once, join_choices);
    return quant_choices;
}

const char *itera_kernel_choices(void)
{
    pthread_once(&choices_once, join_choices);
    return kernel_choices;
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
