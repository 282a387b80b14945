/*
 * schema.h: the results schema in one place: the benchmark families, the cell a benchmark
 * name stands for and the one builder and parser of names, every counter (Google
 * Benchmark user counter) and every context key a results file holds, and the fields of
 * the op profile. The runner, families, report, compare, gbread and main use these names;
 * `itera-bench schema --json` prints the same lists for scripts (the PyTorch / ONNX Runtime
 * peers read them through scripts/itera_schema.py), and tests/cli/schema.sh checks that no
 * key or counter is written as a bare string literal elsewhere in bench/.
 *
 * Adding a key: one row in the list below (SCHEMA_CONTEXT_KEYS or SCHEMA_COUNTERS), then
 * use its constant (CTX_<ID> / MET_<ID>).
 *
 * Benchmark names (DESIGN.md), '/'-separated parts in this order, numbers as key:value:
 *   scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T
 *   prefill/<quant>/<kernel>/seq:L/batch:B/threads:T
 *   decode/<quant>/<kernel>/steps:S/batch:B/threads:T
 * Google Benchmark may append its own parts (repeats:N, min_time:X, min_warmup_time:X,
 * iterations:N, real_time, manual_time, process_time); the parser accepts and ignores
 * those after a complete name. <kernel> and <quant> are names of [a-z0-9._-]: the
 * engine's (itera_kernel_name / itera_quant_name) for harness cells, a peer's own name
 * (e.g. pytorch-eager) in peer files.
 *
 * Errors follow status.h.
 */
#ifndef ITERA_BENCH_SCHEMA_H
#define ITERA_BENCH_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "itera.h"
#include "status.h"

#define SCHEMA_VERSION "1" /* context key itera_schema */

/* ---- families ---- */

typedef enum bench_family {
    BENCH_FAMILY_NONE = -1, /* a name that is not one of ours */
    BENCH_SCAN = 0,
    BENCH_PREFILL = 1,
    BENCH_DECODE = 2,
    BENCH_FAMILY_COUNT
} bench_family;

const char *bench_family_name(bench_family f); /* "scan", "prefill", "decode"; "other" */
bool bench_family_parse(const char *s, bench_family *out);
/* "scan, prefill, decode" (for messages and help). */
const char *bench_family_list(void);
/* The name pattern of f, "scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T". */
const char *bench_family_pattern(bench_family f);

/* ---- names ---- */

/* The parts of a name, in the order families use them. */
typedef enum name_part {
    NAME_QUANT = 0,
    NAME_KERNEL,
    NAME_CHANNELS,
    NAME_STATE,
    NAME_SEQ,
    NAME_STEPS,
    NAME_BATCH,
    NAME_THREADS,
    NAME_PART_COUNT
} name_part;

const char *name_part_key(name_part p); /* "quant", "kernel", "channels", ... */
/* The parts of family f in name order; returns how many (0 for BENCH_FAMILY_NONE). */
int bench_family_parts(bench_family f, const name_part **parts);
/* Where part p stands in f's names, counting '/'-separated parts from 0 (the family):
 * prefill's kernel is 2. -1 when f has no such part. */
int bench_family_part_position(bench_family f, name_part p);

#define NAME_WORD_MAX 32

/* A benchmark name taken apart. Parts a family does not have are "" and -1. */
typedef struct bench_name {
    bench_family family;
    char quant[NAME_WORD_MAX];
    char kernel[NAME_WORD_MAX];
    int channels, state, seq, steps, batch, threads;
} bench_name;

/* An empty name: family BENCH_FAMILY_NONE, words "", numbers -1. */
void bench_name_clear(bench_name *n);

/* Writes n's benchmark name into out[cap]. BENCH_ERR_INPUT naming the part when a part
 * the family needs is missing (a word "" or not of [a-z0-9._-], a number < 1) or the name
 * does not fit. */
bench_status bench_name_format(const bench_name *n, char *out, size_t cap, bench_error *e);

/* Parses a benchmark name. BENCH_OK: one of ours, every part present and well formed
 * (GB's own parts after it ignored). Otherwise BENCH_ERR_INPUT with e naming the bad part
 * and what was expected ("'scan/x/channels:y/...': part 3 'channels:y': expected
 * channels:<whole number in 1..100000000> (scan/<kernel>/channels:C/...)"; a first part
 * that is no family: "not one of ours"), and *out cleared (family BENCH_FAMILY_NONE). */
bench_status bench_name_parse(const char *name, bench_name *out, bench_error *e);

/* name without the parts Google Benchmark appends to a registered name (see above), so
 * runs with different repetition counts still match. Truncates to cap. */
void bench_name_canonical(const char *name, char *out, size_t cap);

/* ---- cells: a point of a profile's product, with its name ---- */

/* One benchmark cell. Fields a family does not use are 0. */
typedef struct bench_cell {
    bench_family family;
    itera_kernel kernel;
    itera_quant quant;   /* prefill, decode */
    int channels, state; /* scan */
    int seq;             /* scan, prefill */
    int batch;
    int threads;
    int steps;           /* decode */
    char name[192];      /* the benchmark name */
} bench_cell;

/* The cell's parts as a name (kernel and quant by the engine's names). */
void bench_cell_to_name(const bench_cell *c, bench_name *out);
/* Writes c->name from its parts (bench_name_format). */
void bench_cell_format_name(bench_cell *c);
/* The cell a parsed name stands for, name included. BENCH_ERR_INPUT naming the kernel or
 * quant when it is not one of the engine's (a peer's benchmark) or the family is NONE. */
bench_status bench_cell_from_name(const bench_name *n, bench_cell *out, bench_error *e);

/* ---- counters: X(ID, name, unit, families, meaning) -> MET_<ID> ---- */

#define SCHEMA_COUNTERS(X)                                                                    \
    X(REAL_TIME, "real_time", "time_unit", "all",                                             \
      "Google Benchmark: wall time per iteration (in the entry's time_unit)")                 \
    X(CPU_TIME, "cpu_time", "time_unit", "all",                                               \
      "Google Benchmark: CPU time of the calling thread per iteration")                       \
    X(TOKENS_PER_SECOND, "tokens_per_second", "tokens/s", "all", "rate: tokens / real time")  \
    X(LATENCY_MS, "latency_ms", "ms", "all",                                                  \
      "per forward (prefill), per step (decode), per scan (scan)")                           \
    X(GFLOPS, "gflops", "GFLOP/s", "all", "achieved (model or scan FLOP count / time)")       \
    X(PCT_PEAK, "pct_peak", "%", "all",                                                       \
      "gflops as a share of the measured peak of the cores used; null when above 100")       \
    X(PEAK_SUSPECT, "peak_suspect", "flag", "all",                                            \
      "1 when gflops exceeded the measured peak (pct_peak left out; the peak is suspect)")   \
    X(WEIGHT_BYTES, "weight_bytes", "bytes", "prefill decode", "weights as stored")           \
    X(CPU_UTIL, "cpu_util", "fraction", "all",                                                \
      "share of the run's cores busy working: (CPU time - spin-waiting) / (wall x cores)")   \
    X(CPU_SPIN, "cpu_spin", "fraction", "all",                                                \
      "the worker pool's spin-waiting / (wall x the run's cores), apart from cpu_util")      \
    X(PEAK_RSS_MB, "peak_rss_mb", "MB", "all", "peak resident set during the cell")           \
    X(MAX_ABS_LOGIT_ERR, "max_abs_logit_err", "logit", "prefill decode",                      \
      "max |logit - FP32 logit| on the accuracy input")                                      \
    X(TOP1_AGREEMENT, "top1_agreement", "fraction", "prefill decode",                         \
      "share of positions whose argmax agrees with FP32")                                    \
    X(KLD_MEAN, "kld_mean", "nats", "prefill decode",                                         \
      "mean KL(fp32 || quant) of the next-token distributions on the accuracy input")        \
    X(DELTA_PPL, "delta_ppl", "ppl", "prefill decode",                                        \
      "perplexity - FP32's of the accuracy input's next tokens (random tokens: a shift, not a quality)") \
    X(COUNTERS_MULTIPLEXED, "counters_multiplexed", "flag", "all",                            \
      "1 when some <event>_per_token values were estimated (multiplexed)")                   \
    X(SESSION_CREATE_MS, "session_create_ms", "ms", "peer",                                   \
      "a peer's session set-up time (ONNX Runtime), outside the timed loop")                 \
    X(CONTENDED, "contended", "flag", "all",                                                  \
      "1 when the machine was busy over the cell (load.h); compare says contended")         \
    X(LOAD_OTHER_CPU, "load_other_cpu", "cores", "all",                                       \
      "cores other processes used over the cell (/proc/stat idle vs our CPU time)")         \
    X(LOAD_STEAL_PCT, "load_steal_pct", "%", "all", "hypervisor steal over the cell")         \
    X(LOAD_CPU_PRESSURE_PCT, "load_cpu_pressure_pct", "%", "all",                             \
      "/proc/pressure/cpu some over the cell's wall time (null without PSI)")               \
    X(LOAD_RUNNABLE_OTHERS, "load_runnable_others", "tasks", "all",                           \
      "runnable tasks besides the reader when the cell began (-1 unknown)")                 \
    X(LOAD_WINDOW_S, "load_window_s", "s", "all", "the wall time the load was measured over")

/* Hardware / software event counters: "<event>_per_token" (counters.h's event names). */
#define MET_PER_TOKEN_SUFFIX "_per_token"
/* Accuracy on a model folder's texts (profile key text_accuracy; prefill cells; bench/textacc.h):
 * "text_<stat>_<name>", <name> the text's file stem (e.g. wikitext2_test, tinystories), <stat>:
 *   ppl     perplexity of the cell's quant      dppl    ppl - FP32's      dpplse  its standard error
 *   kld     mean KL(fp32 || quant) in nats      top1    top-1 agreement with FP32 (fraction)
 * The same for every prefill cell of a quant (computed once per run: 1 thread, sequential
 * scan kernel); the fp32 cells hold FP32's perplexity (dppl, kld 0). */
#define MET_TEXT_PREFIX "text_"
#define MET_TEXT_STATS {"ppl", "dppl", "dpplse", "kld", "top1"}

#define SCHEMA_X_CONST(id, name, ...) static const char MET_##id[] = name;
SCHEMA_COUNTERS(SCHEMA_X_CONST)
#undef SCHEMA_X_CONST

/* ---- context keys: X(ID, key, source, meaning) -> CTX_<ID> ----
 * source: "gb" Google Benchmark's own key (written as GB writes it: numbers, booleans,
 * arrays); "itera" the harness's (strings, as GB's custom context writes them);
 * "machine" the fingerprint (machine.h, strings); written only in some files: "shard"
 * (run --shard), "merge" (itera-bench merge), "ab" (itera-bench ab's two sides),
 * "slurm" (inside a Slurm job), "peer" (the
 * peers, scripts/peer_*.py); "legacy" read from older files only. Every "gb", "itera" and
 * "machine" key is in every harness results file (tests/cli/schema.sh), except
 * itera_resumed (a resumed run). */

#define SCHEMA_CONTEXT_KEYS(X)                                                                \
    X(DATE, "date", "gb", "start of the run, ISO 8601 with the zone as +HH:MM")               \
    X(HOST_NAME, "host_name", "gb", "host name")                                              \
    X(EXECUTABLE, "executable", "gb", "the binary that ran")                                  \
    X(NUM_CPUS, "num_cpus", "gb", "online logical CPUs")                                      \
    X(MHZ_PER_CPU, "mhz_per_cpu", "gb", "cpu0's clock in MHz")                                \
    X(CPU_SCALING_ENABLED, "cpu_scaling_enabled", "gb", "a governor other than performance")  \
    X(CACHES, "caches", "gb", "[{type, level, size, num_sharing}]")                           \
    X(LOAD_AVG, "load_avg", "gb", "1, 5, 15 minute load averages at the start")               \
    X(LIBRARY_BUILD_TYPE, "library_build_type", "gb", "Google Benchmark's build type")        \
    X(SCHEMA, "itera_schema", "itera", "the version of this schema")                          \
    X(PLATFORM, "itera_platform", "itera", "platform name")                                   \
    X(PLATFORM_CORES, "itera_platform_cores", "itera", "the platform's cores")                \
    X(PLATFORM_DESCRIPTION, "itera_platform_description", "itera", "the platform's text")     \
    X(BINDING, "itera_binding", "itera", "worker binding: core, pu or none")                  \
    X(PROFILE, "itera_profile", "itera", "profile name")                                      \
    X(OVERRIDES, "itera_overrides", "itera", "--set overrides as given, '; '-separated")      \
    X(THREADS, "itera_threads", "itera", "the platform's worker threads")                     \
    X(WORKER_CPUS, "itera_worker_cpus", "itera", "OS CPU of each worker, read back")          \
    X(EMULATED, "itera_emulated", "itera", "true when the platform was emulated")             \
    X(MODEL, "itera_model", "itera", "synthetic seed N, or folder and sha256")                \
    X(GIT, "itera_git", "itera", "git describe of the build")                                 \
    X(COMPILER, "itera_compiler", "itera", "compiler and flags")                              \
    X(ISA, "itera_isa", "itera", "the engine's dispatch paths")                               \
    X(COUNTERS, "itera_counters", "itera", "events available, or why not")                    \
    X(PEAK_GFLOPS, "itera_peak_gflops", "itera", "measured FP32 peak of itera_peak_cores cores")\
    X(PEAK_INT8_GMACS, "itera_peak_int8_gmacs", "itera", "measured int8 MAC peak, those cores")\
    X(PEAK_GFLOPS_CORE, "itera_peak_gflops_core", "itera", "measured FP32 peak of one core")  \
    X(PEAK_INT8_GMACS_CORE, "itera_peak_int8_gmacs_core", "itera", "int8 MAC peak, one core") \
    X(PEAK_CORES, "itera_peak_cores", "itera", "cores of the all-cores peak (one thread each)")\
    X(PEAK_SUSPECT, "itera_peak_suspect", "itera", "cells above the peak (pct_peak left out), or none")\
    X(PEAK, "itera_peak", "itera", "the peak probe's description")                            \
    X(PCT_PEAK_BASIS, "itera_pct_peak_basis", "itera", "what pct_peak divides by")            \
    X(CPU_UTIL_BASIS, "itera_cpu_util_basis", "itera", "what cpu_util and cpu_spin divide by")\
    X(TOPOLOGY, "itera_topology", "itera", "hwloc's view of the host")                        \
    X(REPETITIONS, "itera_repetitions", "itera", "the profile's repetitions")                 \
    X(MIN_TIME, "itera_min_time", "itera", "the profile's min time, seconds")                 \
    X(ACCURACY_INPUT, "itera_accuracy_input", "itera", "the accuracy check's input")          \
    X(ACCURACY_TEXTS, "itera_accuracy_texts", "itera", "texts of the text_* counters, or why none") \
    X(RSS, "itera_rss", "itera", "how peak_rss_mb is measured")                               \
    X(CELLS, "itera_cells", "itera", "cells in the profile")                                  \
    X(MISSING_CELLS, "itera_missing_cells", "itera", "selected cells without results")        \
    X(FILTER, "itera_filter", "itera", "--benchmark_filter as given, \"\" for none")            \
    X(CELLS_SELECTED, "itera_cells_selected", "itera", "cells the filter selected")           \
    X(CELLS_FILTERED_OUT, "itera_cells_filtered_out", "itera", "cells the filter left out")  \
    X(RESUMED, "itera_resumed", "itera", "true when --resume completed the file")             \
    X(CONTENTION, "itera_contention", "itera", "the busy-machine rule the cells were marked by")\
    X(CONTENDED_CELLS, "itera_contended_cells", "itera", "cells measured on a busy machine")  \
    X(AB_SESSION, "itera_ab_session", "ab", "ab files: the session both sides share")         \
    X(AB_SIDE, "itera_ab_side", "ab", "ab files: base or new")                                \
    X(AB_SEED, "itera_ab_seed", "ab", "ab files: the seed of the order")                      \
    X(AB_ROUNDS, "itera_ab_rounds", "ab", "ab files: rounds run")                             \
    X(AB_SCHEDULE, "itera_ab_schedule", "ab", "ab files: the schedule file beside them")      \
    X(AB_BASE, "itera_ab_base", "ab", "ab files: the base side's build")                      \
    X(AB_NEW, "itera_ab_new", "ab", "ab files: the new side's build")                         \
    X(AB_BUILD, "itera_ab_build", "ab", "ab files: this side's build")                        \
    X(AB_NOTE, "itera_ab_note", "ab", "ab files: what one run per round means")               \
    X(PEER, "itera_peer", "peer", "a peer's implementation and settings")                     \
    X(PEER_THREADS, "itera_peer_threads", "peer", "the thread counts a peer ran")             \
    X(PEER_INPUTS, "itera_peer_inputs", "peer", "a peer's input tokens")                      \
    X(CELL_LIST_HASH, "itera_cell_list_hash", "itera", "hash of the full cell list (shard.h)")\
    X(SHARD, "itera_shard", "shard", "shard files: I/N (shard.h)")                            \
    X(SHARD_INDEX, "itera_shard_index", "shard", "shard files: I")                            \
    X(SHARD_COUNT, "itera_shard_count", "shard", "shard files: N")                            \
    X(SHARD_CELLS, "itera_shard_cells", "shard", "shard files: cells of this shard")          \
    X(PLATFORM_FILE, "itera_platform_file", "shard", "shard files: the platform file read")   \
    X(PROFILE_FILE, "itera_profile_file", "shard", "shard files: the profile file read")      \
    X(MERGED, "itera_merged", "merge", "merged files: \"K of N shards\" (merge.h)")            \
    X(MACHINES, "itera_machines", "merge", "merged across machines: their names")             \
    X(MACHINES_NOTE, "itera_machines_note", "merge", "merged across machines: what that means")\
    X(NODE, "itera_node", "itera", "node name: SLURMD_NODENAME, else the host name (alloc.h)")\
    X(ALLOCATION, "itera_allocation", "itera", "the CPUs the run was given")                  \
    X(SCHEDULER, "itera_scheduler", "itera", "slurm or none")                                 \
    X(SLURM_JOB_ID, "itera_slurm_job_id", "slurm", "Slurm: SLURM_JOB_ID")                     \
    X(SLURM_ARRAY_JOB_ID, "itera_slurm_array_job_id", "slurm", "Slurm: SLURM_ARRAY_JOB_ID")   \
    X(SLURM_ARRAY_TASK_ID, "itera_slurm_array_task_id", "slurm", "Slurm: SLURM_ARRAY_TASK_ID")\
    X(SLURM_PARTITION, "itera_slurm_partition", "slurm", "Slurm: SLURM_JOB_PARTITION")        \
    X(SLURM_CLUSTER, "itera_slurm_cluster", "slurm", "Slurm: SLURM_CLUSTER_NAME")             \
    X(SLURM_CPUS_PER_TASK, "itera_slurm_cpus_per_task", "slurm", "Slurm: SLURM_CPUS_PER_TASK")\
    X(MACHINE, "itera_machine", "machine", "machine name")                                    \
    X(MACHINE_NAME_SOURCE, "itera_machine_name_source", "machine", "where the name came from")\
    X(MACHINE_ID, "itera_machine_id", "machine", "hashed machine id")                         \
    X(MACHINE_ID_SOURCE, "itera_machine_id_source", "machine", "the id's file")               \
    X(MACHINE_CPU_MODEL, "itera_machine_cpu_model", "machine", "CPU model string")            \
    X(MACHINE_CPU_VENDOR, "itera_machine_cpu_vendor", "machine", "CPU vendor")                \
    X(MACHINE_CPU_FAMILY, "itera_machine_cpu_family", "machine", "CPU family")                \
    X(MACHINE_CPU_MODEL_NUMBER, "itera_machine_cpu_model_number", "machine", "CPU model")     \
    X(MACHINE_CPU_STEPPING, "itera_machine_cpu_stepping", "machine", "CPU stepping")          \
    X(MACHINE_SOCKETS, "itera_machine_sockets", "machine", "packages")                        \
    X(MACHINE_CORES, "itera_machine_cores", "machine", "physical cores online")               \
    X(MACHINE_THREADS, "itera_machine_threads", "machine", "logical CPUs online")             \
    X(MACHINE_CORES_ALLOWED, "itera_machine_cores_allowed", "machine", "cores allowed")       \
    X(MACHINE_THREADS_ALLOWED, "itera_machine_threads_allowed", "machine", "CPUs allowed")    \
    X(MACHINE_CPUS_ALLOWED, "itera_machine_cpus_allowed", "machine", "allowed CPU list")      \
    X(MACHINE_CACHES, "itera_machine_caches", "machine", "cache sizes per level")             \
    X(MACHINE_ISA_FEATURES, "itera_machine_isa_features", "machine", "SIMD flags")            \
    X(MACHINE_ISA_PATH, "itera_machine_isa_path", "machine", "the engine's ISA path")         \
    X(MACHINE_MEMORY_BYTES, "itera_machine_memory_bytes", "machine", "MemTotal, bytes")       \
    X(MACHINE_KERNEL, "itera_machine_kernel", "machine", "kernel release")                    \
    X(MACHINE_HOSTNAME, "itera_machine_hostname", "machine", "host name")                     \
    X(CPU_MODEL, "itera_cpu_model", "legacy", "CPU model string (files before the fingerprint)")

#define SCHEMA_X_CONST(id, key, ...) static const char CTX_##id[] = key;
SCHEMA_CONTEXT_KEYS(SCHEMA_X_CONST)
#undef SCHEMA_X_CONST

/* ---- peers: X(ID, name) ----
 * A peer (scripts/peer_<name>*.py) may add keys of its own under its prefix: context and
 * top-level keys "itera_<name>_...", counters "<name>_..." (e.g. itera_ort_best,
 * ort_intra_op_threads). Everything else a peer writes is a name of this schema. */
#define SCHEMA_PEERS(X) X(PYTORCH, "pytorch") X(ORT, "ort")

/* ---- the file's top level and the op profile (results.h): X(ID, key, meaning) -> RES_<ID> ---- */

#define SCHEMA_TOP_KEYS(X)                                                                    \
    X(CONTEXT, "context", "the context object (keys above)")                                  \
    X(BENCHMARKS, "benchmarks", "Google Benchmark's entries")                                 \
    X(OP_PROFILE, "itera_op_profile", "benchmark name -> op profile (prefill cells)")         \
    X(FILTERED_OUT, "itera_filtered_out", "names of the cells --benchmark_filter left out")   \
    X(JOURNAL, "itera_journal", "a journal's first line: its format version")                 \
    X(CELL_LIST, "itera_cell_list", "shard files: the full sweep's cell names, in order")      \
    X(SHARDS, "itera_shards", "merged files: one record per shard (file, node, job, ...)")     \
    X(MISSING, "itera_missing", "merged files: the names of the missing cells")                \
    X(OP_FORWARDS, "forwards", "op profile: forwards per round")                              \
    X(OP_TOKENS_PER_FORWARD, "tokens_per_forward", "op profile: B x L")                       \
    X(OP_THREADS, "threads", "op profile: worker threads")                                    \
    X(OP_OPS, "ops", "op profile: [{name, parent, calls, total_us, ...}]")                    \
    X(OP_NAME, "name", "op: zone name")                                                       \
    X(OP_PARENT, "parent", "op: enclosing zone, \"\" for a root")                             \
    X(OP_CALLS, "calls", "op: times entered")                                                 \
    X(OP_TOTAL_US, "total_us", "op: total over threads, us")                                  \
    X(OP_MEAN_US, "mean_us", "op: per call, us")                                              \
    X(OP_MIN_US, "min_us", "op: shortest call, us")                                           \
    X(OP_MAX_US, "max_us", "op: longest call, us")                                            \
    X(OP_US_PER_FORWARD, "us_per_forward", "op: caller wall us per forward, the median round")\
    X(OP_MEDIAN_ROUND, "median_round", "op profile: the round us_per_forward comes from")       \
    X(OP_ROUNDS, "rounds", "op profile: rounds of `forwards` forwards")                       \
    X(OP_TIMING, "timing", "op profile: what us_per_forward measures")                        \
    X(OP_US_Q1, "us_per_forward_q1", "op: 25th percentile over the rounds")                   \
    X(OP_US_Q3, "us_per_forward_q3", "op: 75th percentile over the rounds")                   \
    X(OP_US_MIN, "us_per_forward_min", "op: smallest round")                                  \
    X(OP_US_MAX, "us_per_forward_max", "op: largest round")

#define SCHEMA_X_CONST(id, key, ...) static const char RES_##id[] = key;
SCHEMA_TOP_KEYS(SCHEMA_X_CONST)
#undef SCHEMA_X_CONST

/* ---- Google Benchmark's entry fields (GB 1.7.1 JSONReporter): X(ID, key, meaning) -> ENT_<ID> ---- */

#define SCHEMA_ENTRY_FIELDS(X)                                                                \
    X(NAME, "name", "run_name, plus _<aggregate> for aggregates")                             \
    X(FAMILY_INDEX, "family_index", "the cell's index in the run")                            \
    X(PER_FAMILY_INSTANCE_INDEX, "per_family_instance_index", "always 0 here")                \
    X(RUN_NAME, "run_name", "the benchmark name")                                             \
    X(RUN_TYPE, "run_type", "iteration or aggregate")                                         \
    X(REPETITIONS, "repetitions", "repetitions of the cell")                                  \
    X(REPETITION_INDEX, "repetition_index", "iteration entries: 0-based repetition")          \
    X(THREADS, "threads", "Google Benchmark threads (1: the engine has its own pool)")        \
    X(ITERATIONS, "iterations", "timed iterations of the repetition")                         \
    X(TIME_UNIT, "time_unit", "ns, us, ms or s")                                              \
    X(AGGREGATE_NAME, "aggregate_name", "mean, median, stddev or cv")                         \
    X(AGGREGATE_UNIT, "aggregate_unit", "time or percentage")                                 \
    X(ERROR_OCCURRED, "error_occurred", "true when the cell was skipped with an error")       \
    X(ERROR_MESSAGE, "error_message", "why")                                                  \
    X(LABEL, "label", "cpus the workers ran on; emulated")                                    \
    X(ITERA_MACHINE, "itera_machine", "merged across machines: the entry's machine name")      \
    X(ITERA_NODE, "itera_node", "merged across machines: the entry's node")                    \
    X(ITERA_SHARD, "itera_shard", "merged across machines: the entry's shard index")

#define SCHEMA_X_CONST(id, key, ...) static const char ENT_##id[] = key;
SCHEMA_ENTRY_FIELDS(SCHEMA_X_CONST)
#undef SCHEMA_X_CONST

/* ---- the lists, for `itera-bench schema` and checks ---- */

typedef struct schema_entry {
    const char *name;
    const char *a, *b;  /* counters: unit, families; context keys: source, meaning;
                           top keys and entry fields: meaning, NULL */
    const char *c;      /* counters: meaning; otherwise NULL */
    const char *constant; /* its C constant, "CTX_PLATFORM" */
} schema_entry;

int schema_counters(const schema_entry **out);
int schema_context_keys(const schema_entry **out);
int schema_top_keys(const schema_entry **out);
int schema_entry_fields(const schema_entry **out);
/* Whether name is a counter of the schema (a listed one, or <event>_per_token). */
bool schema_is_counter(const char *name);
/* Whether key is a context key of the schema. */
bool schema_is_context_key(const char *key);

/* The whole schema as JSON (what `itera-bench schema --json` prints; scripts read it
 * through scripts/itera_schema.py):
 *   {"schema": SCHEMA_VERSION, "families": [{"name", "pattern", "parts": [...]}],
 *    "kernels": [engine kernels], "quants": [engine formats],
 *    "gb_name_suffixes": [...], "counters": [{"name", "unit", "families", "meaning"}],
 *    "per_token_suffix": "_per_token", "context_keys": [{"key", "source", "meaning"}],
 *    (every entry also has "constant": its C name, e.g. "CTX_PLATFORM")
 *    "peers": [{"name", "context_prefix", "counter_prefix"}],
 *    "top_keys": [{"key", "meaning"}], "entry_fields": [{"key", "meaning"}]}
 * A new reference (json_decref it); NULL when out of memory. */
json_t *schema_json(void);

#endif
