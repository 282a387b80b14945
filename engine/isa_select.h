/*
 * isa_select.h: the one ISA selection of libitera (internal). Every kernel family keeps
 * its variants as a table of rows ordered by ISA, the scalar reference first, each row
 * starting with an itera_variant head; one rule (itera_isa_pick: the last row the ISA
 * allows) picks a row per family. The process's selection is made once, at first use
 * (pthread_once), for itera_isa_best(), and never changes; kernels read it through
 * isa_selected() (or take a selection as an argument, so tests can run any variant).
 */
#ifndef ITERA_ISA_SELECT_H
#define ITERA_ISA_SELECT_H

#include "itera.h"
#include "linear.h"
#include "scan_simd.h"
#include "vmath.h"

typedef struct isa_select {
    itera_isa isa;                              /* the cap the rows were picked for */
    const linear_kernel *fmt[ITERA_QUANT_COUNT]; /* each weight format's matrix products
                                                  * (fmt[ITERA_QUANT_FP32]: the FP32 matmul) */
    const vmath_ops *vm;                        /* element-wise math (vmath.h) */
    const scan_simd *scan;                      /* the scan kernels' inner loops (scan_simd.h) */
} isa_select;

/* Every family's row for cap. */
void isa_select_for(itera_isa cap, isa_select *out);
/* The process's selection (for itera_isa_best()). */
const isa_select *isa_selected(void);

#endif
