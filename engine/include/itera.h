/*
 * itera.h: public API of libitera, the reference engine for the Itera-Lite
 * SSM + Mixture-of-Experts model (see ../shared/reference/itera-lite-micro/README.md).
 *
 * Lifecycle: load or build a model (immutable, shareable), create a context on it
 * (thread pool, scratch, decode state, profiler), run prefill (itera_forward) and/or
 * decode steps, free the context, free the model.
 *
 * Errors: every action returns an itera_status; on failure the itera_error (when not
 * NULL) holds one line naming the file, tensor, key or argument and what was expected,
 * and outputs are left unchanged. The library never exits or aborts on bad input.
 */
#ifndef ITERA_H
#define ITERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum itera_status {
    ITERA_OK = 0,
    ITERA_ERR_IO = 1,      /* a file could not be opened, read or written */
    ITERA_ERR_FORMAT = 2,  /* a file's contents are malformed or do not match the config */
    ITERA_ERR_ARG = 3,     /* an argument is out of range (token id, L, B, threads, ...) */
    ITERA_ERR_NOMEM = 4,   /* allocation failed */
    ITERA_ERR_STATE = 5,   /* call not valid in the context's state (e.g. decode past max length) */
} itera_status;

typedef struct itera_error {
    char msg[512]; /* one line, no trailing newline */
} itera_error;

/* Weight formats of every matrix-multiply weight: one row of itera_formats.def each
 * (ITERA_QUANT_FP32, ITERA_QUANT_INT8, ...). Row 0 is the reference format. */
typedef enum itera_quant {
#define ITERA_FORMAT(ID, ...) ITERA_QUANT_##ID,
#include "itera_formats.def"
#undef ITERA_FORMAT
    ITERA_QUANT_COUNT,
    ITERA_QUANT_REFERENCE = 0 /* the format the others are measured against (FP32) */
} itera_quant;

/* For itera_model_load: run with the weights' stored format (FP32 or a quantized folder). */
#define ITERA_QUANT_AS_STORED ((itera_quant)-1)

/* SSM scan kernels: one row of itera_kernels.def each (ITERA_KERNEL_SEQUENTIAL, ...).
 * AUTO: the fastest for the shape. Row 0 is the reference kernel. */
typedef enum itera_kernel {
    ITERA_KERNEL_AUTO = -1,
#define ITERA_KERNEL(ID, ...) ITERA_KERNEL_##ID,
#include "itera_kernels.def"
#undef ITERA_KERNEL
    ITERA_KERNEL_COUNT,
    ITERA_KERNEL_REFERENCE = 0 /* the kernel the others are tested against (sequential) */
} itera_kernel;

/* The arithmetic a format's products run in (which machine peak they compare to). */
typedef enum itera_arith {
    ITERA_ARITH_FP32 = 0, /* FP32 FMA */
    ITERA_ARITH_INT8 = 1, /* u8 x s8 multiply-accumulates (vpdpbusd / vpmaddubsw) */
} itera_arith;

/* What a row of the tables says, for every consumer that lists, parses or reports them. */
typedef struct itera_kernel_info {
    const char *name;    /* "sequential", ... */
    const char *summary; /* one line */
    bool takes_chunk;    /* runs with a chunk length (itera_ctx_opts.chunk) */
    int report_rank;     /* a one-kernel-per-platform report table prefers the lowest */
} itera_kernel_info;

typedef struct itera_quant_info {
    const char *name;        /* "fp32", ... */
    const char *summary;     /* one line */
    const char *dtype;       /* file form: "F32", "Q8_0", ... (model metadata itera.format) */
    double bits_per_weight;  /* file form, scales included */
    int block;               /* weights per block along a row (1: not blocked) */
    const char *activations; /* what the weights are multiplied with */
    itera_arith products;    /* the arithmetic of the products */
} itera_quant_info;

#define ITERA_MAX_LAYERS 32
#define ITERA_MAX_EXPERTS 64
#define ITERA_MAX_THREADS 64

/* Model hyper-parameters, names as in config.json. */
typedef struct itera_config {
    int vocab_size;
    int hidden_size;       /* D */
    int num_layers;
    int ssm_state_size;    /* N */
    int ssm_expand_factor; /* E = factor * D */
    int ssm_conv_kernel;   /* K */
    int num_experts;
    int expert_size;       /* F */
    int top_k_experts;
    int max_seq_length;
    float layer_norm_eps;
    bool tie_word_embeddings;
    bool moe_layer[ITERA_MAX_LAYERS]; /* from moe_layers */
} itera_config;

typedef struct itera_model itera_model; /* config + packed weights; read-only once built */
typedef struct itera_ctx itera_ctx;     /* threads, scratch, decode state, profiler */

/* The rows of the tables (NULL out of range), their names, and parsing names back. The
 * parse functions return false for an unknown name; itera_kernel_parse also takes "auto".
 * The choices functions give every row's name, comma-separated ("fp32, int8, int4"), for
 * messages and help texts. */
const itera_kernel_info *itera_kernel_info_get(itera_kernel k);
const itera_quant_info *itera_quant_info_get(itera_quant q);
const char *itera_quant_name(itera_quant q);
bool itera_quant_parse(const char *s, itera_quant *out);
const char *itera_kernel_name(itera_kernel k); /* "auto" for ITERA_KERNEL_AUTO, "?" out of range */
bool itera_kernel_parse(const char *s, itera_kernel *out);
const char *itera_quant_choices(void);
const char *itera_kernel_choices(void);
const char *itera_status_name(itera_status s);
/* The ISA path the matrix products of format q take on this CPU, e.g. "avx512", "avx512-vnni". */
const char *itera_quant_isa(itera_quant q);

/* ---- Instruction sets (engine/cpu.c, engine/isa_select.c) ----
 *
 * Every kernel family (FP32 and integer matrix products, element-wise math, the scan's
 * inner loops) keeps one scalar reference and SIMD variants as rows of a table ordered by
 * ISA. One selection, made once per process at first use (pthread_once), picks each
 * family's row for itera_isa_best(); results record the rows' names. */
typedef enum itera_isa {
    ITERA_ISA_SCALAR = 0,
    ITERA_ISA_AVX2 = 1,       /* AVX2 + FMA + F16C */
    ITERA_ISA_AVX512 = 2,     /* AVX-512 F/BW/DQ/VL */
    ITERA_ISA_AVX512VNNI = 3, /* AVX-512 + VNNI (vpdpbusd) */
    ITERA_ISA_AMX = 4,        /* AVX512VNNI + AMX-TILE/INT8, tile data granted by the OS */
    ITERA_ISA_COUNT
} itera_isa;

/* Highest ISA usable here: CPUID + OS (XGETBV) support, capped by the environment variable
 * ITERA_ISA=scalar|avx2|avx512|avx512vnni|amx when set. Read once. */
itera_isa itera_isa_best(void);
/* isa <= itera_isa_best(). */
bool itera_isa_has(itera_isa isa);
/* Highest ISA the CPU and OS support, ignoring ITERA_ISA. */
itera_isa itera_isa_hw(void);
/* "scalar", "avx2", "avx512", "avx512vnni", "amx" (the ITERA_ISA spellings); "?" out of range. */
const char *itera_isa_name(itera_isa isa);
/* Parses an ITERA_ISA value (the itera_isa_name spellings, case-insensitive; "avx512-vnni"
 * also accepted). false (and *out unchanged) for NULL or an unknown name. */
bool itera_isa_parse(const char *s, itera_isa *out);
/* ITERA_ISA was set to an unknown value: a one-line message naming it and the valid
 * choices (the value is then ignored: no cap). NULL when unset or valid. */
const char *itera_isa_env_error(void);

/* The head every ISA-variant row starts with: the lowest ISA it needs, and its name as
 * results record it (e.g. "avx512-vnni"). */
typedef struct itera_variant {
    itera_isa isa;
    const char *name;
} itera_variant;
/* The one selection rule: the index of the last of rows[0..n) (ordered by ISA, rows[0]
 * the scalar reference) whose ISA is <= cap; 0 when none is. */
int itera_isa_pick(const itera_variant *const *rows, int n, itera_isa cap);

/* The seed of the built-in synthetic model used when no model folder is given. */
#define ITERA_DEFAULT_SEED 20240501u

/* Load a model folder (config.json + model.safetensors), FP32 or quantized (the file's
 * metadata names its format). quant: storage to run with (ITERA_QUANT_AS_STORED: as the
 * file holds it); an FP32 file can be quantized at load time; a quantized file can only
 * run as its own quant (else ITERA_ERR_ARG). */
itera_status itera_model_load(const char *dir, itera_quant quant, itera_model **out, itera_error *err);

/* The built-in micro configuration (same shapes as the reference checkpoint) with weights
 * drawn from a fixed seed: deterministic across runs and machines. */
itera_status itera_model_synthetic(uint64_t seed, itera_quant quant, itera_model **out,
                                   itera_error *err);

/* The micro configuration itself (reference shapes). */
void itera_config_micro(itera_config *cfg);

/* Writes dir/config.json and dir/model.safetensors (created atomically; dir must exist)
 * holding the model as it runs: FP32 tensors, or for a quantized model its packed
 * integers and scales (dtype U8, metadata itera.quant / itera.format). */
itera_status itera_model_save(const itera_model *m, const char *dir, itera_error *err);

void itera_model_free(itera_model *m);
const itera_config *itera_model_config(const itera_model *m);
itera_quant itera_model_quant(const itera_model *m);
const char *itera_model_source(const itera_model *m); /* "synthetic seed N" or the folder path */
size_t itera_model_param_count(const itera_model *m); /* parameters of the model (unique, tied once) */
size_t itera_model_weight_bytes(const itera_model *m); /* bytes of all weights as stored for this quant */
/* FLOPs of one forward token at position-independent cost (2 per multiply-add, MoE counts
 * top_k experts), excluding the transcendentals. */
double itera_model_flops_per_token(const itera_model *m);

/* Per-tensor listing (name as in safetensors, dtype as stored, bytes as stored). */
typedef struct itera_tensor_info {
    const char *name;
    const char *dtype; /* "F32" (and "F16" for a quantized model's FP32 parameters), or the format's dtype */
    int rank;
    int64_t shape[4];
    size_t bytes;
} itera_tensor_info;
int itera_model_tensor_count(const itera_model *m);
bool itera_model_tensor(const itera_model *m, int i, itera_tensor_info *out);

/* Context options. Zero-initialised fields take the defaults noted. */
typedef struct itera_ctx_opts {
    int threads;            /* worker threads including the caller; 0 -> 1 */
    int max_batch;          /* largest B for forward/decode; 0 -> 8 */
    int max_seq;            /* largest L for forward; 0 -> config max_seq_length */
    itera_kernel kernel;    /* scan kernel; set ITERA_KERNEL_AUTO explicitly for auto */
    int chunk;              /* chunked-scan chunk length T; 0 -> measured default */
    /* Called once on each worker thread (ith = 0 is the creating thread) before it
     * runs any work; used by the harness to pin workers. May be NULL. */
    void (*on_thread_start)(int ith, void *user);
    void *user;
} itera_ctx_opts;

itera_status itera_ctx_create(const itera_model *m, const itera_ctx_opts *opts, itera_ctx **out,
                              itera_error *err);
void itera_ctx_free(itera_ctx *c);
int itera_ctx_threads(const itera_ctx *c);
itera_kernel itera_ctx_kernel(const itera_ctx *c, int B, int L); /* the kernel that runs for a shape */

/* The worker pool's idle waiting (engine/pool.c), totals since the context (or scan bench)
 * was made: between parallel regions, and while a region's slowest thread finishes, its
 * threads spin before they sleep, which is CPU time but not work. Each thread counts its
 * own spinning (the pause phase as its checks x the measured cost of one check, at most
 * its wall time; the yield phase as thread CPU time); sleeping is not counted (it uses no
 * CPU). A wait whose condition already holds costs nothing extra. Take the difference of
 * two readings around a timed loop. */
typedef struct itera_pool_waits {
    double spin_ns;    /* CPU time spent spin-waiting, all threads, ns */
    uint64_t waits;    /* waits that spun */
} itera_pool_waits;
void itera_ctx_pool_waits(const itera_ctx *c, itera_pool_waits *out);

const char *itera_ctx_isa(const itera_ctx *c); /* ISA path of the matmuls that run, e.g. "avx512" */

/* Prefill: tokens [B, L] (row-major int32), logits [B, L, vocab] out (may be NULL: then
 * only the state is computed). Starts from an empty state at position 0 and leaves the
 * decode state after the last token, so itera_decode_step continues the sequences. */
itera_status itera_forward(itera_ctx *c, const int32_t *tokens, int B, int L, float *logits,
                           itera_error *err);

/* Decode: empties the state of B sequences (position 0). */
itera_status itera_decode_reset(itera_ctx *c, int B, itera_error *err);
/* One token per sequence at the current position; logits [B, vocab] out (may be NULL).
 * O(1) in the position: carries the last K-1 conv inputs and the scan state per layer. */
itera_status itera_decode_step(itera_ctx *c, const int32_t *tokens, float *logits, itera_error *err);
int itera_ctx_position(const itera_ctx *c); /* tokens consumed per sequence so far */
int itera_ctx_batch(const itera_ctx *c);    /* B of the current decode state */

/* ---- Profiling (engine/zone.h; the ops: engine/model_ops.def): µs per op from the engine's zones ---- */

/* Switches zone accumulation on/off for this context (off: one branch per zone). */
void itera_prof_enable(itera_ctx *c, bool on);
void itera_prof_reset(itera_ctx *c);
/* The model's ops (engine/model_ops.def), in forward order: what itera_prof_ops reports
 * and results name (op_profile entries, op_us.<name> counters). */
typedef struct itera_op_info {
    const char *name;    /* e.g. "in_proj", "scan.state_transition" */
    const char *parent;  /* the enclosing op, "" for a root ("forward", "decode") */
    const char *summary; /* what it covers */
    bool original;       /* one of the four ops of the original Itera-Lite report's profile */
} itera_op_info;
int itera_op_count(void);
/* false (and *out unchanged) when i is out of range. */
bool itera_op_info_get(int i, itera_op_info *out);

/* One op's totals over all threads since the last reset. Times in µs, with the measured
 * cost of a zone already subtracted. caller_us is the op's time on the calling thread
 * (worker 0) alone: the caller takes part in every parallel region and every op nests on
 * it, so it is the op's wall time, and an op's children's caller_us never add up to more
 * than its own (total_us, summed over threads, can). */
typedef struct itera_op_stat {
    const char *name;   /* zone name, e.g. "in_proj", "scan.state_transition" */
    const char *parent; /* enclosing zone name, or "" for a root */
    uint64_t calls;
    double total_us, mean_us, min_us, max_us;
    double caller_us;   /* on worker 0 only; 0 when it did not run there */
} itera_op_stat;
/* Fills up to cap entries (zones with calls > 0); returns how many were available. */
int itera_prof_ops(itera_ctx *c, itera_op_stat *out, int cap);
/* Tracing: while on (and profiling enabled), every zone is also kept as an event, up to
 * 65,536 per thread (buffers allocated on first use; ITERA_ERR_NOMEM if that fails).
 * Events are cleared by itera_prof_reset. */
itera_status itera_prof_trace(itera_ctx *c, bool on, itera_error *err);
/* The events since the last reset as Chrome trace-event JSON (Perfetto, chrome://tracing):
 * {"traceEvents": [{"name", "ph": "X", "ts", "dur" (µs), "pid", "tid"}...]}, written to
 * path atomically (itera_write_file). */
itera_status itera_prof_write_trace(itera_ctx *c, const char *path, itera_error *err);
/* The measured cost of one zone: zone_ns, the time an empty zone reports (subtracted
 * from every total above); pair_ns, the full cost of a begin/end pair. Either may be NULL. */
void itera_prof_overhead(itera_ctx *c, double *zone_ns, double *pair_ns);

/* ---- Accuracy against a reference model (engine/accuracy.c) ----
 * Positions (rows of V logits) from a reference model (e.g. FP32) and a test model (e.g.
 * a quant) on the same tokens are added; the summary gives, as llama.cpp's
 * `perplexity --kl-divergence`: both perplexities with their standard errors, ΔPPL with its
 * paired standard error, mean KL divergence KL(ref ‖ test) in nats with its 95% interval,
 * its 99th / 99.9th percentiles and maximum, top-1 agreement, the share of near ties (the
 * reference's top-2 logit margin below ITERA_ACC_NEAR_TIE), and the max |logit| difference.
 * Formulas: engine/accuracy.c. Statistics undefined for the positions given (an sd of one
 * value, a perplexity without targets) are NaN. */
#define ITERA_ACC_NEAR_TIE 0.01
typedef struct itera_acc itera_acc;
typedef struct itera_acc_stats {
    size_t positions;   /* rows added */
    size_t predicted;   /* rows with a target (the perplexity's tokens) */
    double ppl_ref, ppl_ref_se, ppl, ppl_se;
    double delta_ppl, delta_ppl_se;      /* ppl − ppl_ref */
    double kld_mean, kld_lo95, kld_hi95; /* nats */
    double kld_p99, kld_p999, kld_max;
    double top1_agreement, top1_se;      /* shares in [0, 1] */
    double near_tie_share;
    double max_abs_logit_err;
} itera_acc_stats;
itera_status itera_acc_create(int vocab, itera_acc **out, itera_error *err);
void itera_acc_free(itera_acc *a);
/* Adds `rows` positions: ref and test logits [rows, vocab]; targets [rows]: the next token
 * at each position, or −1 where there is none (targets may be NULL: none anywhere). */
itera_status itera_acc_add(itera_acc *a, const float *ref, const float *test,
                           const int32_t *targets, size_t rows, itera_error *err);
itera_status itera_acc_summary(const itera_acc *a, itera_acc_stats *out, itera_error *err);
/* Consecutive windows of L tokens of ids[0..n) — every token after a window's first is a
 * target; a last shorter window of at least 2 tokens is included — run B windows at a
 * time through ref and test (contexts on models of a's vocabulary, max_batch >= B,
 * max_seq >= L), every position added to a. The windows of `itera perplexity`. */
itera_status itera_acc_windows(itera_acc *a, itera_ctx *ref, itera_ctx *test, const int32_t *ids, int n,
                               int L, int B, itera_error *err);

/* ---- The standalone selective scan (engine/scan.h), for benchmarks ---- */

/* A scan of E channels, state N, over B rows of L tokens with random inputs from seed,
 * run by kernel k (AUTO: fastest for the shape) on its own pool of `threads` workers. */
typedef struct itera_scan_bench itera_scan_bench;
typedef struct itera_scan_opts {
    int E, N, B, L;
    int threads;
    itera_kernel kernel;
    int chunk;          /* 0: default */
    uint64_t seed;
    void (*on_thread_start)(int ith, void *user);
    void *user;
} itera_scan_opts;
itera_status itera_scan_bench_create(const itera_scan_opts *o, itera_scan_bench **out,
                                     itera_error *err);
void itera_scan_bench_run(itera_scan_bench *s);              /* one full scan */
double itera_scan_bench_flops(const itera_scan_bench *s);    /* FLOPs of one run */
itera_kernel itera_scan_bench_kernel(const itera_scan_bench *s);
int itera_scan_bench_chunk(const itera_scan_bench *s);       /* chunk length run (chunked; else 0) */
const float *itera_scan_bench_output(const itera_scan_bench *s); /* y [B·L, E] of the last run */
void itera_scan_bench_pool_waits(const itera_scan_bench *s, itera_pool_waits *out); /* as itera_ctx_pool_waits */
/* The kernel AUTO picks for B rows of L tokens, E channels, state N on `threads` workers. */
itera_kernel itera_scan_auto(int B, int L, int E, int N, int threads);
void itera_scan_bench_free(itera_scan_bench *s);

/* ---- Tokenizer (word level) and sampling ---- */

/* tokenizer.json of a model folder: {"token_to_id": {...}, "id_to_token": {...}}. Text is
 * lower-cased, split on ASCII white space, each word mapped; unknown words -> 1 (<UNK>). */
typedef struct itera_tokenizer itera_tokenizer;
itera_status itera_tokenizer_load(const char *path, itera_tokenizer **out, itera_error *err);
/* A tokenizer for a model without one (the synthetic model): word "w<id>" is id <id>. */
itera_status itera_tokenizer_synthetic(int vocab_size, itera_tokenizer **out, itera_error *err);
void itera_tokenizer_free(itera_tokenizer *t);
int itera_tokenizer_vocab(const itera_tokenizer *t);
/* Writes up to cap ids; returns the number of words in text (may exceed cap). */
int itera_tokenize(const itera_tokenizer *t, const char *text, int32_t *ids, int cap);
const char *itera_token_text(const itera_tokenizer *t, int id); /* "<UNK>" style for unknown ids */

#define ITERA_TOKEN_PAD 0
#define ITERA_TOKEN_UNK 1
#define ITERA_TOKEN_BOS 2
#define ITERA_TOKEN_EOS 3

/* Next token from logits [V]: argmax when temperature <= 0, else a draw from
 * softmax(logits / temperature) using *rng (a 64-bit state advanced in place). */
int itera_sample(const float *logits, int V, float temperature, uint64_t *rng);

/* ---- Reading input files (every reader of libitera and the harness goes through these) ---- */

/* Reads all of path into *buf (malloc'd, NUL-terminated; *len bytes without the NUL).
 * Anything that is not a regular file (FIFO, device, folder, socket) is refused without
 * blocking: the file is opened O_NONBLOCK and its type checked on the open descriptor
 * before any read. max_bytes > 0: a larger file is refused (ITERA_ERR_FORMAT). On error
 * *buf is NULL and err names the file and the problem. */
itera_status itera_read_file(const char *path, size_t max_bytes, char **buf, size_t *len,
                             itera_error *err);
/* Checks that text[0..len) is UTF-8 without NUL bytes; ITERA_ERR_FORMAT otherwise, the
 * message "WHAT:LINE: NUL byte at byte offset N" (or "invalid UTF-8 (byte 0xXX) at ..."). */
itera_status itera_check_text(const char *what, const char *text, size_t len, itera_error *err);

/* ---- Reading tensor files (safetensors, e.g. the golden files; engine/safetensors.c) ----
 * The file is read whole and validated as model files are (strict header, tensors tiling
 * the data exactly); errors name the file and the problem. */
typedef struct itera_tensors itera_tensors;
typedef struct itera_tensor_view {
    const char *name;
    const char *dtype;    /* "F32", "I32", "U8", ... */
    int rank;
    const int64_t *shape; /* [rank] */
    const void *data;     /* little-endian, in the file's buffer: valid until itera_tensors_close */
    size_t nbytes;
} itera_tensor_view;
itera_status itera_tensors_open(const char *path, itera_tensors **out, itera_error *err);
/* The tensor named `name`, or NULL. */
const itera_tensor_view *itera_tensors_find(const itera_tensors *f, const char *name);
void itera_tensors_close(itera_tensors *f);

/* ---- Writing files atomically (engine/atomic_file.c): every writer of the engine, the
 * CLI and the harness goes through these ----
 *
 * A file is written to a temporary file in its own folder (created exclusively, never
 * following a link), fsynced, closed, renamed over the path, and the folder fsynced: a
 * reader sees the old file or the whole new one, never a part, and a crash leaves one of
 * the two. A path that exists and is not a regular file (folder, symbolic link, FIFO,
 * device node, socket) is refused with ITERA_ERR_ARG before anything is created. Errors
 * (ITERA_ERR_IO) name the path and the failing step; the path is then left as it was.
 *
 *   itera_file *f;
 *   if (itera_file_create(path, &f, &err) != ITERA_OK) ...;
 *   itera_file_write(f, data, n); itera_file_printf(f, "%d\n", x);   (errors are kept)
 *   if (itera_file_commit(f, &err) != ITERA_OK) ...;                  (frees f)
 */
typedef struct itera_file itera_file;
itera_status itera_file_create(const char *path, itera_file **out, itera_error *err);
/* Appends bytes; the first failure is kept and reported by itera_file_commit (later
 * writes are then ignored). Writes are buffered (64 KiB). */
void itera_file_write(itera_file *f, const void *data, size_t n);
void itera_file_printf(itera_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool itera_file_ok(const itera_file *f); /* false once a write has failed */
/* Flushes, fsyncs, closes, renames into place, fsyncs the folder; frees f either way.
 * On failure the temporary file is removed and the path is untouched, except when only
 * the final folder fsync fails (the new file is then in place; the error says so). */
itera_status itera_file_commit(itera_file *f, itera_error *err);
void itera_file_discard(itera_file *f); /* removes the temporary file; frees f; NULL is a no-op */
/* The whole file in one call: create, write n bytes, commit. */
itera_status itera_write_file(const char *path, const void *data, size_t n, itera_error *err);

/* A folder written as a whole (e.g. a quantized model): itera_dir_begin checks what is at
 * path (nothing, or a folder holding only regular files) and creates an empty temporary
 * folder beside it, *tmp (malloc'd: free it). Fill it with itera_file_* or
 * itera_model_save. itera_dir_commit moves it into place: a rename when path does not
 * exist; an existing folder is exchanged with it atomically and its old files removed,
 * but only when every one of them is a regular file the new folder also has (otherwise
 * ITERA_ERR_ARG naming the file in the way, and nothing changes). After a failed commit,
 * itera_dir_discard(tmp) removes the temporary folder. */
itera_status itera_dir_begin(const char *path, char **tmp, itera_error *err);
itera_status itera_dir_commit(const char *tmp, const char *path, itera_error *err);
void itera_dir_discard(const char *tmp);

#ifdef __cplusplus
}
#endif
#endif /* ITERA_H */
