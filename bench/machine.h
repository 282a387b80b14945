/*
 * machine.h: the machine fingerprint every results file carries, so compare, merge and
 * the report can tell "same machine?" and name what differs.
 *
 * Read from the kernel's own text files, relative to a root folder ("/" on this machine,
 * a fixture folder in tests):
 *   proc/cpuinfo                         model name, vendor_id, cpu family, model, stepping,
 *                                        flags, cpu MHz (x86); CPU implementer / part /
 *                                        variant / revision, Features (arm64)
 *   proc/meminfo                         MemTotal
 *   proc/sys/kernel/osrelease, hostname  kernel version, host name
 *   proc/self/status                     Cpus_allowed_list (this process's affinity)
 *   sys/devices/system/cpu/online        online logical CPUs
 *   sys/devices/system/cpu/cpuN/topology physical_package_id, core_id (physical cores)
 *   sys/devices/system/cpu/cpu0/cache    indexN/{level,type,size,shared_cpu_list}
 *   sys/devices/system/cpu/cpu0/cpufreq/scaling_governor
 *   etc/machine-id, var/lib/dbus/machine-id, sys/class/dmi/id/product_uuid (first found)
 * (hwloc is not used here: with a fixture root its Linux backend falls back to the host's
 * own CPUID for what a fixture lacks, so a test could not pin what it reads.)
 *
 * Results `context` keys (values are strings, as Google Benchmark's custom context writes
 * them). "id" marks the identity fields: two fingerprints are the same machine when every
 * identity field is equal (memory within 1%); the others are informational.
 *   itera_machine                  readable name, [a-z0-9-], e.g. xeon-sapphirerapids-2c:
 *                                  derived from the CPU, or set (--machine, ITERA_MACHINE)
 *   itera_machine_name_source      "cpu", "--machine" or "ITERA_MACHINE"
 *   itera_machine_id            id sha256 hex of "itera-bench machine id:" + the id file's
 *                                  first line (never the raw id), or "unknown"
 *   itera_machine_id_source        the file it came from, or "none"
 *   itera_machine_cpu_model     id "Intel(R) Xeon(R) Platinum 8480+"
 *   itera_machine_cpu_vendor    id "GenuineIntel", "AuthenticAMD", "arm"
 *   itera_machine_cpu_family    id decimal (x86 cpu family; arm64: architecture), -1 unknown
 *   itera_machine_cpu_model_number id decimal (x86 model; arm64: part), -1 unknown
 *   itera_machine_cpu_stepping  id decimal (x86 stepping; arm64: revision), -1 unknown
 *   itera_machine_sockets       id packages with an online CPU
 *   itera_machine_cores         id physical cores online
 *   itera_machine_threads       id logical CPUs online
 *   itera_machine_cores_allowed    physical cores with a CPU in this process's affinity
 *   itera_machine_threads_allowed  logical CPUs in this process's affinity
 *   itera_machine_cpus_allowed     those CPUs as a list, "0-1"
 *   itera_machine_caches        id cpu0's caches, "L1d:48K L1i:32K L2:2M L3:105M" (sizes of
 *                                  one instance; K/M/G are powers of 1024)
 *   itera_machine_isa_features  id the SIMD flags the CPU and kernel report, in a fixed
 *                                  order with cpuinfo's spelling: "avx2 fma f16c avx512f ..."
 *   itera_machine_isa_path         the ISA path the engine chose ("avx512vnni"); given by
 *                                  the caller (ITERA_ISA may cap it on the same machine)
 *   itera_machine_memory_bytes  id MemTotal in bytes
 *   itera_machine_kernel        id kernel release, "6.1.0-18-amd64"
 *   itera_machine_hostname         host name (informational: "vm" on many machines)
 *
 * Errors follow status.h.
 */
#ifndef ITERA_BENCH_MACHINE_H
#define ITERA_BENCH_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "status.h"

#define MACHINE_NAME_MAX 63 /* characters of a machine name */
#define MACHINE_MAX_CACHES 8

typedef struct machine_cache {
    int level;             /* 1, 2, 3, ... */
    char type[16];         /* "Data", "Instruction", "Unified" (sysfs spelling) */
    long long size_bytes;  /* one instance */
    int num_sharing;       /* logical CPUs sharing one instance */
} machine_cache;

typedef struct machine_info {
    char name[MACHINE_NAME_MAX + 1];
    char name_source[16];
    char id[65];
    char id_source[48];
    char cpu_model[128];
    char cpu_vendor[32];
    int cpu_family, cpu_model_number, cpu_stepping; /* -1 unknown */
    int sockets, cores, threads;                    /* online; 0 unknown */
    int cores_allowed, threads_allowed;
    char cpus_allowed[256];
    machine_cache caches[MACHINE_MAX_CACHES];
    int ncaches;
    char isa_features[512];
    char isa_path[32];
    long long memory_bytes; /* 0 unknown */
    char kernel[128];
    char hostname[128];
    /* Informational, for Google Benchmark's own context keys (not in the fingerprint). */
    double mhz;             /* cpu0's "cpu MHz", 0 unknown */
    char governor[32];      /* cpu0's scaling_governor, "" when absent */
} machine_info;

/* The fields, in context-key order. */
typedef enum machine_field {
    MACHINE_F_NAME = 0,
    MACHINE_F_NAME_SOURCE,
    MACHINE_F_ID,
    MACHINE_F_ID_SOURCE,
    MACHINE_F_CPU_MODEL,
    MACHINE_F_CPU_VENDOR,
    MACHINE_F_CPU_FAMILY,
    MACHINE_F_CPU_MODEL_NUMBER,
    MACHINE_F_CPU_STEPPING,
    MACHINE_F_SOCKETS,
    MACHINE_F_CORES,
    MACHINE_F_THREADS,
    MACHINE_F_CORES_ALLOWED,
    MACHINE_F_THREADS_ALLOWED,
    MACHINE_F_CPUS_ALLOWED,
    MACHINE_F_CACHES,
    MACHINE_F_ISA_FEATURES,
    MACHINE_F_ISA_PATH,
    MACHINE_F_MEMORY_BYTES,
    MACHINE_F_KERNEL,
    MACHINE_F_HOSTNAME,
    MACHINE_F_COUNT
} machine_field;

/* The context key of f ("itera_machine_cores"); NULL out of range. */
const char *machine_field_key(machine_field f);
/* Whether f is an identity field (see the table above). */
bool machine_field_is_identity(machine_field f);
/* f's value as the context writes it, into out[n]. */
void machine_field_format(const machine_info *m, machine_field f, char *out, size_t n);

/* Reads the fingerprint from the files under root (NULL or "" = "/"); isa_path is the
 * engine's chosen path (NULL: ""). The name is the derived default (name_source "cpu").
 * Files that are absent leave their fields unknown; only an unreadable cpuinfo fails
 * (BENCH_ERR_SYSTEM naming it). */
bench_status machine_read(const char *root, const char *isa_path, machine_info *m,
                          bench_error *e);

/* The readable default name from the CPU: <brand>-<microarchitecture>-<cores>c, e.g.
 * "xeon-sapphirerapids-2c", "epyc-zen4-4c", "cortex-a76-4c"; parts not known are left
 * out ("intel-8c"). Always a valid name. */
void machine_default_name(const machine_info *m, char *out, size_t n);

/* Checks a machine name: 1..MACHINE_NAME_MAX characters of [a-z0-9-], starting and ending
 * with a letter or digit. origin ("--machine", "ITERA_MACHINE") names where it came from
 * in the message. BENCH_ERR_INPUT when it is not valid. */
bench_status machine_name_check(const char *name, const char *origin, bench_error *e);

/* Sets m's name from, in order: flag (origin "--machine") when not NULL, the ITERA_MACHINE
 * environment variable when set, else the derived default. A bad name: BENCH_ERR_INPUT,
 * m's name unchanged. */
bench_status machine_choose_name(machine_info *m, const char *flag, bench_error *e);

/* Adds the fingerprint's keys (the table above) to a results context object. */
void machine_to_context(const machine_info *m, json_t *ctx);

/* Adds Google Benchmark's own machine keys from m: host_name, num_cpus (online logical
 * CPUs), mhz_per_cpu, cpu_scaling_enabled (a governor other than "performance"),
 * caches ([{type, level, size, num_sharing}], as GB writes them). */
void machine_to_gb_context(const machine_info *m, json_t *ctx);

/* Reads a fingerprint back from a results context. Every identity key must be present
 * and well formed: BENCH_ERR_INPUT naming the first key that is absent (a file written
 * before fingerprints) or bad. Informational keys that are absent are left empty. */
bench_status machine_from_context(const json_t *ctx, machine_info *m, bench_error *e);

/* A bit (1u << field) for every field whose value differs between a and b (memory: by
 * more than 1%). */
uint32_t machine_diff(const machine_info *a, const machine_info *b);
/* The bits of the identity fields. */
uint32_t machine_identity_mask(void);

/* Whether a and b are the same machine (no identity field differs). When not, why[n]
 * names each differing identity field by its context key with both values:
 * "itera_machine_cores 2 vs 4; itera_machine_cpu_model 'A' vs 'B'". */
bool machine_same(const machine_info *a, const machine_info *b, char *why, size_t n);

/* Writes the fields of mask that differ, as machine_same does, into out[n]; returns how
 * many differ. */
int machine_diff_describe(const machine_info *a, const machine_info *b, uint32_t mask,
                          char *out, size_t n);

#endif
