/*
 * ops.h: the model's ops as zones of the zone timer (internal to libitera), generated
 * from model_ops.def: the ZONE_<ID> numbers forward.c and the scan kernels time, and the
 * table of their names and nesting (zone.h itself knows no op: a profiler is created
 * with this table's names).
 */
#ifndef ITERA_OPS_H
#define ITERA_OPS_H

typedef enum itera_zone {
#define ITERA_OP(ID, ...) ZONE_##ID,
#include "model_ops.def"
#undef ITERA_OP
    ZONE_COUNT,
    ZONE_NONE = ZONE_COUNT /* a root's parent */
} itera_zone;

/* The ops' names, indexed by itera_zone (what a profiler is created with). */
extern const char *const zone_names[ZONE_COUNT];
const char *zone_name(itera_zone z);   /* "?" out of range */
itera_zone zone_parent(itera_zone z);  /* ZONE_NONE for a root */

#endif
