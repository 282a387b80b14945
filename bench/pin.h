/*
 * pin.h: machine topology (hwloc) and worker binding for the harness.
 *
 * A platform asks for W worker threads bound one per physical core. pin_plan() turns a
 * topology and W into the OS CPU each worker binds to (the first PU of each core by
 * default, so SMT siblings stay idle); pin_bind_self() binds the calling thread to its
 * planned CPU with hwloc, and pin_read_self() reads the affinity back from the OS
 * (sched_getaffinity), so a binding that did not take is an error, not a footnote.
 *
 * The engine's pool calls a start callback on each thread (ith 0 is the caller); pin_ctx
 * + pin_on_thread_start() is that callback ready-made: it binds worker ith, records the
 * CPU read back (or the error) per worker, and pin_ctx_check() / pin_ctx_cpus() turn that
 * into an error or the results' `itera_worker_cpus` value ("0,1").
 *
 * Errors: functions returning bench_status give BENCH_OK, or a failure with a one-line
 * message in e (when not NULL; status.h); nothing here exits or aborts.
 */
#ifndef ITERA_PIN_H
#define ITERA_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "itera.h" /* ITERA_MAX_THREADS */
#include "status.h"

#define PIN_MAX_WORKERS ITERA_MAX_THREADS

typedef struct pin_topo pin_topo; /* an hwloc topology, loaded once */

/* How workers are placed. */
typedef enum pin_binding {
    PIN_BIND_CORE = 0, /* one worker per physical core, on the core's first PU (default) */
    PIN_BIND_PU = 1,   /* one worker per PU (hardware thread), SMT siblings included */
    PIN_BIND_NONE = 2, /* no binding: the OS schedules workers anywhere */
    PIN_BIND_COUNT
} pin_binding;

/* "core", "pu", "none". */
const char *pin_binding_name(pin_binding b);
/* Parses "core" | "pu" | "none" into *out; -1 (nothing changed) for anything else. */
int pin_binding_parse(const char *s, pin_binding *out);

/* Loads this machine's topology (synthetic == NULL), or a synthetic one described in
 * hwloc's synthetic syntax, e.g. "pack:1 core:4 pu:2" (used by tests; such a topology
 * can be planned on but never bound to). On failure *t is NULL.
 * This machine's topology holds only the CPUs the calling thread may run on: those a
 * cgroup cpuset allows (hwloc's default) and, within them, its affinity mask (what
 * Slurm's task/affinity, taskset or numactl gave the process). Counts and plans below
 * are over those; pin_topo_allowed / pin_topo_machine_* tell what was left out.
 * Fails with BENCH_ERR_SYSTEM (hwloc refused), BENCH_ERR_INPUT (a bad synthetic
 * description) or BENCH_ERR_NOMEM. */
bench_status pin_topology_load(pin_topo **t, const char *synthetic, bench_error *e);
void pin_topology_free(pin_topo *t);
/* True when the topology is this machine's (binding is possible), false for synthetic. */
bool pin_topo_is_this_system(const pin_topo *t);
int pin_topo_packages(const pin_topo *t);
int pin_topo_cores(const pin_topo *t); /* physical cores */
int pin_topo_pus(const pin_topo *t);   /* processing units (hardware threads) */
/* The OS CPUs the process could run on at load, as a list ("0-1,4"; "all" for a
 * synthetic topology) into buf; returns whether that is fewer than the machine has. */
bool pin_topo_allowed(const pin_topo *t, char *buf, size_t n);
/* Cores, PUs and pin_topo_describe of the whole machine, before the narrowing to the
 * allowed CPUs (the same as pin_topo_cores etc. when nothing was left out). */
int pin_topo_machine_cores(const pin_topo *t);
int pin_topo_machine_pus(const pin_topo *t);
const char *pin_topo_machine_describe(const pin_topo *t);
/* One line, e.g. "1 package, 2 cores, 2 PUs, L2 2x2MB, L3 1x260MB". Returns buf. */
const char *pin_topo_describe(const pin_topo *t, char *buf, size_t n);

/* Where each worker goes. Valid while the topology it was planned on is alive. */
typedef struct pin_plan {
    const pin_topo *topo;
    pin_binding mode;
    int workers;                 /* W */
    int slots;                   /* cores (mode core) or PUs (modes pu, none) there are */
    bool emulated;               /* W > slots: workers share slots round-robin (asked for) */
    int cpu[PIN_MAX_WORKERS];    /* worker ith -> OS CPU index (PU os_index); -1 for none */
    int core[PIN_MAX_WORKERS];   /* worker ith -> logical core index; -1 for none */
} pin_plan;

/* Plans `workers` (1..PIN_MAX_WORKERS) workers on t in `mode`. With more workers than
 * slots it fails with a message naming both numbers and the way out (emulation), unless
 * allow_oversubscribe, in which case workers go round-robin onto the slots there are
 * and out->emulated is set. Mode none plans no CPUs (cpu[], core[] all -1) but applies
 * the same rule with slots = PUs. On failure *out is unchanged: BENCH_ERR_INPUT (the
 * workers or mode asked for), BENCH_ERR_SYSTEM (the topology lacks what a plan needs). */
bench_status pin_plan_make(const pin_topo *t, int workers, pin_binding mode,
                           bool allow_oversubscribe, pin_plan *out, bench_error *e);

/* Binds the calling thread to p->cpu[ith] (hwloc_set_cpubind, HWLOC_CPUBIND_THREAD) and
 * reads the affinity back; fails if the topology is not this system's, the bind call
 * fails, or the OS reports a different CPU set (BENCH_ERR_SYSTEM; BENCH_ERR_INPUT for a
 * worker outside the plan or a synthetic topology). Mode none: does nothing, returns
 * BENCH_OK. */
bench_status pin_bind_self(const pin_plan *p, int ith, bench_error *e);

/* Reads the calling thread's affinity from the OS. Returns the number of CPUs it may run
 * on (1 after a successful bind), with *cpu the lowest of them; -1 on error. */
int pin_read_self(int *cpu);

/* A thread's CPU affinity as saved by pin_save_self (up to 1024 CPUs). */
typedef struct pin_affinity {
    unsigned long mask[1024 / (8 * sizeof(unsigned long))];
} pin_affinity;
/* Saves / restores the calling thread's affinity (sched_getaffinity / sched_setaffinity),
 * e.g. to give the caller thread back its CPUs after it served as worker 0. */
int pin_save_self(pin_affinity *a);
int pin_restore_self(const pin_affinity *a);

/* Per-worker record of a pool start: the ready-made start callback's state. */
typedef struct pin_ctx {
    const pin_plan *plan;
    int workers;
    int cpu_read[PIN_MAX_WORKERS];  /* CPU read back after binding (lowest allowed one),
                                       -1 until the worker started */
    int ncpus_read[PIN_MAX_WORKERS];/* how many CPUs the worker may run on (1 when bound) */
    bool started[PIN_MAX_WORKERS];
    bool failed[PIN_MAX_WORKERS];
    char err[PIN_MAX_WORKERS][160]; /* the binding error of worker ith, "" when none */
} pin_ctx;

/* Prepares ctx for plan p (all workers not started). */
void pin_ctx_init(pin_ctx *ctx, const pin_plan *p);
/* pool_start_fn: user is a pin_ctx*. Binds worker ith per the plan and records the
 * result; each thread writes only its own slot, so no locking is needed. */
void pin_on_thread_start(int ith, void *user);
/* BENCH_OK when every worker started and (unless mode none) is bound to its planned CPU;
 * else BENCH_ERR_SYSTEM naming the first worker that did not start or whose binding did
 * not take. */
bench_status pin_ctx_check(const pin_ctx *ctx, bench_error *e);
/* The CPU read back per worker, comma-separated ("0,1"); a worker that is not bound to a
 * single CPU shows as "*" (mode none). Returns buf. */
const char *pin_ctx_cpus(const pin_ctx *ctx, char *buf, size_t n);

#endif
