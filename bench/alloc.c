/*
 * alloc.c: the node, the Slurm job and the CPUs a run was given. See alloc.h.
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include <unistd.h>

static void env_copy(const char *name, char *out, size_t n)
{
    const char *v = getenv(name);
    snprintf(out, n, "%s", v ? v : "");
}

void alloc_read(alloc_info *a, const pin_topo *t)
{
    memset(a, 0, sizeof *a);
    env_copy("SLURM_JOB_ID", a->job_id, sizeof a->job_id);
    a->slurm = a->job_id[0] != '\0';
    if (a->slurm) {
        env_copy("SLURM_ARRAY_JOB_ID", a->array_job_id, sizeof a->array_job_id);
        env_copy("SLURM_ARRAY_TASK_ID", a->array_task_id, sizeof a->array_task_id);
        env_copy("SLURM_JOB_PARTITION", a->partition, sizeof a->partition);
        env_copy("SLURM_CLUSTER_NAME", a->cluster, sizeof a->cluster);
        env_copy("SLURM_CPUS_PER_TASK", a->cpus_per_task, sizeof a->cpus_per_task);
        env_copy("SLURMD_NODENAME", a->node, sizeof a->node);
    }
    if (!a->node[0]) {
        if (gethostname(a->node, sizeof a->node) != 0)
            snprintf(a->node, sizeof a->node, "unknown");
        a->node[sizeof a->node - 1] = '\0';
    }
    a->restricted = pin_topo_allowed(t, a->cpus, sizeof a->cpus);
    a->cores = pin_topo_cores(t);
    a->pus = pin_topo_pus(t);
    a->machine_cores = pin_topo_machine_cores(t);
    a->machine_pus = pin_topo_machine_pus(t);
}

const char *alloc_where(const alloc_info *a, char *buf, size_t n)
{
    if (!a->slurm)
        snprintf(buf, n, "node %s", a->node);
    else if (a->array_job_id[0])
        snprintf(buf, n, "Slurm job %s_%s (job id %s) on node %s", a->array_job_id,
                 a->array_task_id, a->job_id, a->node);
    else
        snprintf(buf, n, "Slurm job %s on node %s", a->job_id, a->node);
    return buf;
}

static const char *plural(int k)
{
    return k == 1 ? "" : "s";
}

const char *alloc_describe(const alloc_info *a, char *buf, size_t n)
{
    if (!a->restricted)
        snprintf(buf, n, "CPUs %s: %d core%s, %d PU%s (all of the machine's %d core%s)",
                 a->cpus, a->cores, plural(a->cores), a->pus, plural(a->pus),
                 a->machine_cores, plural(a->machine_cores));
    else
        snprintf(buf, n, "CPUs %s: %d core%s, %d PU%s of the machine's %d core%s, %d PU%s",
                 a->cpus, a->cores, plural(a->cores), a->pus, plural(a->pus),
                 a->machine_cores, plural(a->machine_cores), a->machine_pus,
                 plural(a->machine_pus));
    return buf;
}

void alloc_too_small(const alloc_info *a, const char *platform, int need, bool pus, char *buf,
                     size_t n)
{
    char where[256];
    alloc_where(a, where, sizeof where);
    int have = pus ? a->pus : a->cores;
    const char *unit = pus ? "PU" : "core";
    if (a->slurm)
        snprintf(buf, n, "platform %s needs %d %s%s but the allocation of %s gives %d "
                 "(CPUs %s; the node has %d cores, %d PUs): submit with --cpus-per-task=%d "
                 "%s(itera-bench submit does), or run emulated (--emulate)",
                 platform, need, unit, plural(need), where, have, a->cpus, a->machine_cores,
                 a->machine_pus, need, pus ? "" : "--hint=nomultithread ");
    else
        snprintf(buf, n, "platform %s needs %d %s%s but this process may run on %d (CPUs %s, "
                 "its affinity; the machine has %d cores, %d PUs): run it without the CPU "
                 "restriction, or emulated (--emulate)",
                 platform, need, unit, plural(need), have, a->cpus, a->machine_cores,
                 a->machine_pus);
}

static void set(json_t *c, const char *key, const char *v)
{
    json_object_set_new(c, key, json_string(v ? v : ""));
}

void alloc_context_add(json_t *ctx, const alloc_info *a)
{
    char buf[512];
    set(ctx, CTX_NODE, a->node);
    set(ctx, CTX_ALLOCATION, alloc_describe(a, buf, sizeof buf));
    set(ctx, CTX_SCHEDULER, a->slurm ? "slurm" : "none");
    if (!a->slurm)
        return;
    set(ctx, CTX_SLURM_JOB_ID, a->job_id);
    set(ctx, CTX_SLURM_ARRAY_JOB_ID, a->array_job_id);
    set(ctx, CTX_SLURM_ARRAY_TASK_ID, a->array_task_id);
    set(ctx, CTX_SLURM_PARTITION, a->partition);
    set(ctx, CTX_SLURM_CLUSTER, a->cluster);
    set(ctx, CTX_SLURM_CPUS_PER_TASK, a->cpus_per_task);
}
