/*
 * alloc.h: where a run runs — the node, the scheduler job it belongs to (Slurm), and the
 * CPUs it was given — for the results' context and for messages that refuse a platform
 * bigger than the allocation.
 *
 * Read from the environment Slurm sets in a job (SLURM_JOB_ID, SLURM_ARRAY_JOB_ID,
 * SLURM_ARRAY_TASK_ID, SLURMD_NODENAME, SLURM_JOB_PARTITION, SLURM_CLUSTER_NAME,
 * SLURM_CPUS_PER_TASK) and from the topology (pin.h), which already holds only the CPUs
 * the process may use. Outside Slurm the node is the host name and the allocation is the
 * process's own CPU affinity.
 *
 * Context keys written (strings, like every GB custom context value):
 *   itera_node          node name (SLURMD_NODENAME, else the host name)
 *   itera_allocation    "CPUs 0-1: 2 cores, 2 PUs (all of the machine's 2 cores)" or
 *                       "CPUs 0: 1 core, 1 PU of the machine's 2 cores, 2 PUs"
 *   itera_scheduler     "slurm" or "none"
 *   in a Slurm job also itera_slurm_job_id, itera_slurm_array_job_id,
 *   itera_slurm_array_task_id, itera_slurm_partition, itera_slurm_cluster,
 *   itera_slurm_cpus_per_task (empty when Slurm did not set one).
 */
#ifndef ITERA_ALLOC_H
#define ITERA_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "pin.h"

typedef struct alloc_info {
    bool slurm;              /* inside a Slurm job (SLURM_JOB_ID is set) */
    char node[128];
    char job_id[32];         /* SLURM_JOB_ID: this task's own job id */
    char array_job_id[32];   /* SLURM_ARRAY_JOB_ID ("" outside an array) */
    char array_task_id[16];  /* SLURM_ARRAY_TASK_ID */
    char partition[64];
    char cluster[64];
    char cpus_per_task[16];
    char cpus[256];          /* the CPUs the process may use, "0-1" */
    bool restricted;         /* fewer than the machine has */
    int cores, pus;          /* usable */
    int machine_cores, machine_pus;
} alloc_info;

/* Fills *a from the environment and the (loaded) topology t. */
void alloc_read(alloc_info *a, const pin_topo *t);

/* "Slurm job 12_3 (job id 15) on node vm" / "node vm" into buf; returns buf. */
const char *alloc_where(const alloc_info *a, char *buf, size_t n);

/* The value of itera_allocation (see above) into buf; returns buf. */
const char *alloc_describe(const alloc_info *a, char *buf, size_t n);

/* The message refusing a platform of `need` cores (binding core) or PUs in an allocation
 * that gives fewer, with both numbers and the way out. */
void alloc_too_small(const alloc_info *a, const char *platform, int need, bool pus, char *buf,
                     size_t n);

/* Adds the keys above to a results context. */
void alloc_context_add(json_t *ctx, const alloc_info *a);

#endif
