/* TEMPORARY profiler stubs until the scan/zone branch lands (deleted at merge). */
#include "zone.h"
#include <stdlib.h>
itera_prof *prof_create(int nthreads, itera_error *err) { (void)err; itera_prof *p = calloc(1, sizeof *p); if (p) p->nthreads = nthreads; return p; }
void prof_free(itera_prof *p) { free(p); }
void prof_reset(itera_prof *p) { (void)p; }
const char *zone_name(itera_zone z) { (void)z; return "?"; }
itera_zone zone_parent(itera_zone z) { (void)z; return ZONE_COUNT; }
