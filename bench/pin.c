/*
 * pin.c: hwloc topology, worker placement plans and thread binding (see pin.h).
 */
#include "pin.h"
#include "status.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

struct pin_topo {
    hwloc_topology_t topo;
    bool this_system;
    bool no_cores; /* hwloc found no Core objects: PUs stand in for cores */
    bool restricted;        /* narrowed to the process's affinity (pin_topo_allowed) */
    char allowed[256];      /* the CPUs the process may run on at load, "0-1,4" */
    int machine_cores, machine_pus; /* before the narrowing */
    char machine_desc[512]; /* pin_topo_describe before the narrowing */
};

_Static_assert(sizeof(pin_affinity) == sizeof(cpu_set_t), "pin_affinity holds a cpu_set_t");

static const char *const binding_names[PIN_BIND_COUNT] = {
    [PIN_BIND_CORE] = "core",
    [PIN_BIND_PU] = "pu",
    [PIN_BIND_NONE] = "none",
};

const char *pin_binding_name(pin_binding b)
{
    return (unsigned)b < PIN_BIND_COUNT ? binding_names[b] : "?";
}

int pin_binding_parse(const char *s, pin_binding *out)
{
    for (int i = 0; s && i < PIN_BIND_COUNT; i++)
        if (strcmp(s, binding_names[i]) == 0) {
            *out = (pin_binding)i;
            return 0;
        }
    return -1;
}

/* ---- topology ---------------------------------------------------------------------- */

/* hwloc already leaves out CPUs a cgroup cpuset forbids (Slurm's task/cgroup); a scheduler
 * or taskset that binds with sched_setaffinity (Slurm's task/affinity) is only visible in
 * the thread's binding. Narrows the topology to that binding, so cores the process may not
 * use are neither counted nor planned on. */
static bench_status restrict_to_affinity(pin_topo *p, bench_error *e)
{
    hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(p->topo);
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    if (!mine)
        return bench_fail(e, BENCH_ERR_NOMEM, "pin: out of memory");
    if (hwloc_get_cpubind(p->topo, mine, HWLOC_CPUBIND_THREAD) != 0)
        hwloc_bitmap_copy(mine, all); /* binding unreadable: assume everything */
    hwloc_bitmap_and(mine, mine, all);
    hwloc_bitmap_list_snprintf(p->allowed, sizeof p->allowed, mine);
    bench_status rc = BENCH_OK;
    if (!hwloc_bitmap_iszero(mine) && !hwloc_bitmap_isequal(mine, all)) {
        if (hwloc_topology_restrict(p->topo, mine, HWLOC_RESTRICT_FLAG_REMOVE_CPULESS) != 0)
            rc = bench_fail(e, BENCH_ERR_SYSTEM, "pin: cannot narrow the topology to this "
                            "process's CPUs %s: %s", p->allowed, strerror(errno));
        else
            p->restricted = true;
        p->no_cores = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_CORE) <= 0;
    }
    hwloc_bitmap_free(mine);
    return rc;
}

bench_status pin_topology_load(pin_topo **t, const char *synthetic, bench_error *e)
{
    *t = NULL;
    pin_topo *p = calloc(1, sizeof *p);
    if (!p)
        return bench_fail(e, BENCH_ERR_NOMEM, "pin: out of memory");
    if (hwloc_topology_init(&p->topo) != 0) {
        free(p);
        return bench_fail(e, BENCH_ERR_SYSTEM, "pin: hwloc_topology_init failed: %s",
                          strerror(errno));
    }
    bench_status st;
    if (synthetic && hwloc_topology_set_synthetic(p->topo, synthetic) != 0) {
        st = bench_fail(e, BENCH_ERR_INPUT, "pin: bad synthetic topology \"%s\" (hwloc syntax, "
                        "e.g. \"pack:1 core:4 pu:2\")", synthetic);
        goto out_destroy;
    }
    if (hwloc_topology_load(p->topo) != 0) {
        st = bench_fail(e, BENCH_ERR_SYSTEM, "pin: hwloc_topology_load failed: %s",
                        strerror(errno));
        goto out_destroy;
    }
    p->this_system = hwloc_topology_is_thissystem(p->topo) != 0;
    p->no_cores = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_CORE) <= 0;
    p->machine_cores = pin_topo_cores(p);
    p->machine_pus = pin_topo_pus(p);
    pin_topo_describe(p, p->machine_desc, sizeof p->machine_desc);
    if (p->this_system && (st = restrict_to_affinity(p, e)) != BENCH_OK)
        goto out_destroy;
    *t = p;
    return BENCH_OK;

out_destroy:
    hwloc_topology_destroy(p->topo);
    free(p);
    return st;
}

void pin_topology_free(pin_topo *t)
{
    if (!t)
        return;
    hwloc_topology_destroy(t->topo);
    free(t);
}

bool pin_topo_is_this_system(const pin_topo *t)
{
    return t->this_system;
}

bool pin_topo_allowed(const pin_topo *t, char *buf, size_t n)
{
    snprintf(buf, n, "%s", t->allowed[0] ? t->allowed : "all");
    return t->restricted;
}

int pin_topo_machine_cores(const pin_topo *t)
{
    return t->machine_cores;
}

int pin_topo_machine_pus(const pin_topo *t)
{
    return t->machine_pus;
}

const char *pin_topo_machine_describe(const pin_topo *t)
{
    return t->machine_desc;
}

static int count_type(const pin_topo *t, hwloc_obj_type_t type)
{
    int k = hwloc_get_nbobjs_by_type(t->topo, type);
    return k > 0 ? k : 0;
}

int pin_topo_packages(const pin_topo *t)
{
    int k = count_type(t, HWLOC_OBJ_PACKAGE);
    return k > 0 ? k : 1;
}

int pin_topo_cores(const pin_topo *t)
{
    return t->no_cores ? count_type(t, HWLOC_OBJ_PU) : count_type(t, HWLOC_OBJ_CORE);
}

int pin_topo_pus(const pin_topo *t)
{
    return count_type(t, HWLOC_OBJ_PU);
}

/* "2MB" / "48KB" / "260MB" for a size in bytes. */
static void fmt_size(char *buf, size_t n, unsigned long long bytes)
{
    if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
        snprintf(buf, n, "%lluMB", bytes >> 20);
    else
        snprintf(buf, n, "%lluKB", bytes >> 10);
}

const char *pin_topo_describe(const pin_topo *t, char *buf, size_t n)
{
    int pk = pin_topo_packages(t), co = pin_topo_cores(t), pu = pin_topo_pus(t);
    size_t len = (size_t)snprintf(buf, n, "%d package%s, %d core%s, %d PU%s%s", pk, pk == 1 ? "" : "s",
                                  co, co == 1 ? "" : "s", pu, pu == 1 ? "" : "s",
                                  t->no_cores ? " (no core objects: PUs counted as cores)" : "");
    static const struct { hwloc_obj_type_t type; const char *name; } caches[] = {
        {HWLOC_OBJ_L2CACHE, "L2"},
        {HWLOC_OBJ_L3CACHE, "L3"},
    };
    for (size_t i = 0; i < sizeof caches / sizeof caches[0] && len < n; i++) {
        int k = count_type(t, caches[i].type);
        if (k == 0)
            continue;
        hwloc_obj_t o = hwloc_get_obj_by_type(t->topo, caches[i].type, 0);
        char sz[32];
        fmt_size(sz, sizeof sz, (unsigned long long)o->attr->cache.size);
        len += (size_t)snprintf(buf + len, n - len, ", %s %dx%s", caches[i].name, k, sz);
    }
    if (!t->this_system && len < n)
        snprintf(buf + len, n - len, " (synthetic)");
    return buf;
}

/* ---- plans ------------------------------------------------------------------------- */

/* OS index of the first PU of logical core i (or PU i when there are no cores). */
static int core_first_pu(const pin_topo *t, int i)
{
    if (t->no_cores)
        return (int)hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)i)->os_index;
    hwloc_obj_t core = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_CORE, (unsigned)i);
    hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(t->topo, core->cpuset, HWLOC_OBJ_PU, 0);
    return pu ? (int)pu->os_index : -1;
}

/* Logical index of the core holding PU i. */
static int pu_core(const pin_topo *t, int i)
{
    hwloc_obj_t pu = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)i);
    if (t->no_cores)
        return i;
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t->topo, HWLOC_OBJ_CORE, pu);
    return core ? (int)core->logical_index : -1;
}

bench_status pin_plan_make(const pin_topo *t, int workers, pin_binding mode,
                           bool allow_oversubscribe, pin_plan *out, bench_error *e)
{
    if (workers < 1 || workers > PIN_MAX_WORKERS)
        return bench_fail(e, BENCH_ERR_INPUT, "pin: %d workers asked; expected 1..%d", workers,
                          PIN_MAX_WORKERS);
    if ((unsigned)mode >= PIN_BIND_COUNT)
        return bench_fail(e, BENCH_ERR_INPUT, "pin: bad binding mode %d; expected core, pu or "
                          "none", (int)mode);
    int cores = pin_topo_cores(t), pus = pin_topo_pus(t);
    int slots = mode == PIN_BIND_CORE ? cores : pus;
    if (slots < 1)
        return bench_fail(e, BENCH_ERR_SYSTEM, "pin: the topology has no %s",
                          mode == PIN_BIND_CORE ? "cores" : "PUs");
    if (workers > slots && !allow_oversubscribe) {
        if (mode == PIN_BIND_CORE)
            return bench_fail(e, BENCH_ERR_INPUT,
                        "%d workers need %d physical cores (one per core) but this machine has %d "
                        "core%s (%d PU%s); use fewer threads, or emulate (--emulate, EMULATE=1) to "
                        "run %d workers on the %d core%s with results marked emulated",
                        workers, workers, cores, cores == 1 ? "" : "s", pus, pus == 1 ? "" : "s",
                        workers, cores, cores == 1 ? "" : "s");
        return bench_fail(e, BENCH_ERR_INPUT,
                    "%d workers need %d PUs (hardware threads) but this machine has %d; use fewer "
                    "threads, or emulate (--emulate, EMULATE=1) to run %d workers on the %d PU%s "
                    "with results marked emulated",
                    workers, workers, pus, workers, pus, pus == 1 ? "" : "s");
    }

    pin_plan p;
    memset(&p, 0, sizeof p);
    p.topo = t;
    p.mode = mode;
    p.workers = workers;
    p.slots = slots;
    p.emulated = workers > slots;
    for (int i = 0; i < PIN_MAX_WORKERS; i++)
        p.cpu[i] = p.core[i] = -1;
    for (int i = 0; i < workers; i++) {
        int s = i % slots;
        switch (mode) {
        case PIN_BIND_CORE:
            p.cpu[i] = core_first_pu(t, s);
            p.core[i] = s;
            break;
        case PIN_BIND_PU:
            p.cpu[i] = (int)hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_PU, (unsigned)s)->os_index;
            p.core[i] = pu_core(t, s);
            break;
        case PIN_BIND_NONE:
        case PIN_BIND_COUNT:
            break;
        }
        if (mode != PIN_BIND_NONE && p.cpu[i] < 0)
            return bench_fail(e, BENCH_ERR_SYSTEM, "pin: no PU found for worker %d (slot %d)", i,
                              s);
    }
    *out = p;
    return BENCH_OK;
}

/* ---- binding ----------------------------------------------------------------------- */

int pin_read_self(int *cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    int count = CPU_COUNT(&set);
    *cpu = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) {
            *cpu = i;
            break;
        }
    return count;
}

bench_status pin_bind_self(const pin_plan *p, int ith, bench_error *e)
{
    if (ith < 0 || ith >= p->workers)
        return bench_fail(e, BENCH_ERR_INPUT, "pin: worker %d outside the plan's %d workers", ith,
                          p->workers);
    if (p->mode == PIN_BIND_NONE)
        return BENCH_OK;
    if (!p->topo->this_system)
        return bench_fail(e, BENCH_ERR_INPUT, "pin: worker %d: cannot bind on a synthetic "
                          "topology", ith);
    int want = p->cpu[ith];
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return bench_fail(e, BENCH_ERR_NOMEM, "pin: out of memory");
    hwloc_bitmap_only(set, (unsigned)want);
    int rc = hwloc_set_cpubind(p->topo->topo, set, HWLOC_CPUBIND_THREAD);
    int saved = errno;
    hwloc_bitmap_free(set);
    if (rc != 0)
        return bench_fail(e, BENCH_ERR_SYSTEM, "pin: worker %d: binding to CPU %d failed: %s",
                          ith, want, strerror(saved));
    int got = -1;
    int count = pin_read_self(&got);
    if (count < 0)
        return bench_fail(e, BENCH_ERR_SYSTEM, "pin: worker %d: sched_getaffinity failed: %s",
                          ith, strerror(errno));
    if (count != 1 || got != want)
        return bench_fail(e, BENCH_ERR_SYSTEM,
                          "pin: worker %d: binding to CPU %d did not take: the OS reports %d CPU%s "
                          "allowed, lowest %d",
                          ith, want, count, count == 1 ? "" : "s", got);
    return BENCH_OK;
}

int pin_save_self(pin_affinity *a)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    memcpy(a, &set, sizeof set);
    return 0;
}

int pin_restore_self(const pin_affinity *a)
{
    cpu_set_t set;
    memcpy(&set, a, sizeof set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
}

/* ---- the pool start callback ------------------------------------------------------- */

void pin_ctx_init(pin_ctx *ctx, const pin_plan *p)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->plan = p;
    ctx->workers = p->workers;
    for (int i = 0; i < PIN_MAX_WORKERS; i++)
        ctx->cpu_read[i] = -1;
}

void pin_on_thread_start(int ith, void *user)
{
    pin_ctx *ctx = user;
    if (ith < 0 || ith >= ctx->workers)
        return; /* pin_ctx_check reports the worker that never started */
    bench_error be;
    bench_status rc = pin_bind_self(ctx->plan, ith, &be);
    if (rc != BENCH_OK)
        bench_fail_msg(ctx->err[ith], sizeof ctx->err[ith], "%s", be.msg);
    int cpu = -1;
    int count = pin_read_self(&cpu);
    ctx->cpu_read[ith] = cpu;
    ctx->ncpus_read[ith] = count;
    ctx->failed[ith] = rc != BENCH_OK || count < 0;
    if (rc == BENCH_OK && count < 0)
        snprintf(ctx->err[ith], sizeof ctx->err[ith], "pin: worker %d: sched_getaffinity failed", ith);
    ctx->started[ith] = true;
}

bench_status pin_ctx_check(const pin_ctx *ctx, bench_error *e)
{
    for (int i = 0; i < ctx->workers; i++) {
        if (!ctx->started[i])
            return bench_fail(e, BENCH_ERR_SYSTEM, "pin: worker %d of %d never ran its start "
                              "callback", i, ctx->workers);
        if (ctx->failed[i])
            return bench_fail(e, BENCH_ERR_SYSTEM, "%s", ctx->err[i]);
        if (ctx->plan->mode != PIN_BIND_NONE &&
            (ctx->ncpus_read[i] != 1 || ctx->cpu_read[i] != ctx->plan->cpu[i]))
            return bench_fail(e, BENCH_ERR_SYSTEM, "pin: worker %d: planned CPU %d, the OS "
                              "reports %d CPUs, lowest %d", i, ctx->plan->cpu[i],
                              ctx->ncpus_read[i], ctx->cpu_read[i]);
    }
    return BENCH_OK;
}

const char *pin_ctx_cpus(const pin_ctx *ctx, char *buf, size_t n)
{
    size_t len = 0;
    if (n)
        buf[0] = '\0';
    for (int i = 0; i < ctx->workers && len < n; i++) {
        const char *sep = i ? "," : "";
        if (ctx->started[i] && ctx->ncpus_read[i] == 1)
            len += (size_t)snprintf(buf + len, n - len, "%s%d", sep, ctx->cpu_read[i]);
        else
            len += (size_t)snprintf(buf + len, n - len, "%s*", sep);
    }
    return buf;
}
