/*
 * isa_select.c: the one ISA selection (isa_select.h): every family's variant table, one
 * pick per family, made once per process.
 */
#include "isa_select.h"

#include <pthread.h>

void isa_select_for(itera_isa cap, isa_select *out)
{
    out->isa = cap;
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) out->fmt[q] = linear_kernel_of(&linear_formats[q], cap);
    out->vm = (const vmath_ops *)vmath_variants[itera_isa_pick(vmath_variants, vmath_variant_count, cap)];
    out->scan = (const scan_simd *)scan_simd_variants[itera_isa_pick(scan_simd_variants, scan_simd_variant_count, cap)];
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static isa_select selected;

static void select_once(void) { isa_select_for(itera_isa_best(), &selected); }

const isa_select *isa_selected(void)
{
    pthread_once(&once, select_once);
    return &selected;
}
