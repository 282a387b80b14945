/*
 * ops.c: the model's op table (model_ops.def): names and nesting for the zone timer, and
 * the public itera_op_info_get (itera.h).
 */
#include "ops.h"

#include <stdbool.h>

#include "itera.h"

const char *const zone_names[ZONE_COUNT] = {
#define ITERA_OP(ID, name, parent, summary, original) [ZONE_##ID] = name,
#include "model_ops.def"
#undef ITERA_OP
};

static const itera_zone zone_parents[ZONE_COUNT] = {
#define ITERA_OP(ID, name, parent, summary, original) [ZONE_##ID] = ZONE_##parent,
#include "model_ops.def"
#undef ITERA_OP
};

static const char *const zone_summaries[ZONE_COUNT] = {
#define ITERA_OP(ID, name, parent, summary, original) [ZONE_##ID] = summary,
#include "model_ops.def"
#undef ITERA_OP
};

static const bool zone_original[ZONE_COUNT] = {
#define ITERA_OP(ID, name, parent, summary, original) [ZONE_##ID] = (original) != 0,
#include "model_ops.def"
#undef ITERA_OP
};

const char *zone_name(itera_zone z) { return (z >= 0 && z < ZONE_COUNT) ? zone_names[z] : "?"; }

itera_zone zone_parent(itera_zone z) { return (z >= 0 && z < ZONE_COUNT) ? zone_parents[z] : ZONE_NONE; }

int itera_op_count(void) { return ZONE_COUNT; }

bool itera_op_info_get(int i, itera_op_info *out)
{
    if (i < 0 || i >= ZONE_COUNT) return false;
    const itera_zone p = zone_parents[i];
    *out = (itera_op_info){.name = zone_names[i],
                           .parent = p == ZONE_NONE ? "" : zone_names[p],
                           .summary = zone_summaries[i],
                           .original = zone_original[i]};
    return true;
}
