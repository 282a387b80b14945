/*
 * families.h: the three benchmark families, as Google Benchmark functions (gbench.h).
 *
 *   scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T   itera_scan_bench_run
 *   prefill/<quant>/<kernel>/seq:L/batch:B/threads:T            one itera_forward, B×L tokens
 *   decode/<quant>/<kernel>/steps:S/batch:B/threads:T           itera_decode_reset + S steps
 *
 * A cell's engine state (context or scan bench, with its pinned worker pool) is made the
 * first time GB calls the cell's function, outside the timed loop, and kept across GB's
 * calls for that cell until fam_cell_release. Workers are bound by pin_on_thread_start and
 * read back; a binding that did not take skips the cell with an error. Also once per
 * cell and outside the timed loop: the accuracy of the cell's quant against FP32 on a
 * fixed token batch (same kernel, threads and binding), and for prefill the op profile
 * (an untimed pass with the engine's zones on).
 *
 * Counters per run (GB user counters):
 *   tokens_per_second  rate (tokens / real time)
 *   latency_ms         per forward (prefill), per step (decode), per scan (scan)
 *   gflops, pct_peak   achieved GFLOP/s (model / scan FLOP count) and its % of the peak
 *                      probe at min(threads, cores) cores: FP32 FMA peak for fp32 and
 *                      scan, 2 × the int8 MAC peak for int8 / int4
 *   weight_bytes       bytes of the weights as stored (prefill, decode)
 *   cpu_util           the share of the run's cores busy working over the timed loop:
 *                      (process CPU time − the pool's spin-waiting) / (wall × run_cores)
 *   cpu_spin           the pool's spin-waiting / (wall × run_cores) (itera_pool_waits)
 *   peak_rss_mb        peak resident set during the cell (VmHWM after a reset through
 *                      /proc/self/clear_refs), else the process peak (ru_maxrss)
 *   max_abs_logit_err, top1_agreement, kld_mean, delta_ppl   vs FP32 on the accuracy input
 *                      (prefill, decode; itera.h "Accuracy")
 *   text_<stat>_<name> with text_accuracy: vs FP32 on the model folder's texts (prefill;
 *                      schema.h MET_TEXT_PREFIX, textacc.h)
 *   <event>_per_token  counters.h events over the timed loop / tokens;
 *                      counters_multiplexed = 1 when some were estimated
 */
#ifndef ITERA_FAMILIES_H
#define ITERA_FAMILIES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "counters.h"
#include "gbench.h"
#include "itera.h"
#include "peak.h"
#include "pin.h"
#include "profile.h"
#include "textacc.h"

/* Fixed accuracy input: ACC_BATCH rows of ACC_SEQ tokens drawn from ACC_SEED. */
#define FAM_ACC_BATCH 2
#define FAM_ACC_SEQ 64
#define FAM_ACC_SEED 7u
/* A prefill cell's op profile (untimed, zones on): a warm-up of FAM_PROFILE_WARMUP_S, then
 * FAM_PROFILE_ROUNDS rounds of F forwards each, F = enough forwards for FAM_PROFILE_ROUND_S
 * (1..FAM_PROFILE_MAX_FORWARDS). */
#define FAM_PROFILE_WARMUP_S 0.01
#define FAM_PROFILE_ROUNDS 9
#define FAM_PROFILE_ROUND_S 0.005
#define FAM_PROFILE_MAX_FORWARDS 256
#define FAM_PROFILE_TIMING "caller wall time: each op's time on worker 0 (the caller, which " \
    "takes part in every parallel region) per forward, in the median round (by the forward's " \
    "time: nested ops add up to at most their parent); quartiles and range over the rounds"
#define FAM_MAX_REFS 64

typedef struct fam_cell fam_cell;

/* What every cell of a run shares. Fill the public part, then fam_env_init. */
typedef struct fam_env {
    /* public: set by the runner */
    const pin_topo *topo;
    pin_binding binding;
    bool oversubscribe;     /* more workers than slots allowed (--emulate) */
    bool emulated;          /* label every result emulated */
    counters *ctr;          /* may be NULL */
    const peak_result *peak;/* may be NULL: no pct_peak */
    int peak_slots;         /* cores the peak's per-core figure scales to */
    int run_cores;          /* cores available to the run (cpu_util's divisor): the platform's
                               cores, at most the slots the host allows */
    const char *model_dir;  /* NULL: the synthetic model */
    uint64_t seed;          /* synthetic model seed */
    bool text_accuracy;     /* also measure each quant on the model folder's texts (textacc.h) */
    /* Called when GB enters a cell (every call of its function), before anything else;
     * returns NULL to go on, or a message to skip this call with (an interrupted run). */
    const char *(*on_enter)(fam_cell *c, void *user);
    void *user;

    /* private */
    itera_model *models[ITERA_QUANT_COUNT];
    int32_t *acc_tokens;    /* [FAM_ACC_BATCH, FAM_ACC_SEQ] */
    int acc_seq;
    struct fam_ref {
        itera_kernel kernel;
        int threads;
        float *logits;      /* [FAM_ACC_BATCH, acc_seq, vocab] from the FP32 model */
    } refs[FAM_MAX_REFS];
    int nrefs;
    bool rss_reset_ok;      /* /proc/self/clear_refs accepted "5" */
    textacc texts;          /* with text_accuracy: the folder's texts, tokenized */
    int text_seq;           /* their window length: the model's max_seq_length */
    struct fam_textres {
        bool done;
        textacc_result r[TEXTACC_MAX];
    } textres[ITERA_QUANT_COUNT]; /* per quant, measured at its first prefill cell */
} fam_env;

/* Per cell: the engine state while it runs and what is measured once. */
struct fam_cell {
    const bench_cell *cell;
    fam_env *env;
    int index;              /* position in the run */
    bool entered;           /* GB has called the function at least once */
    bool ready;             /* engine state made and binding checked */
    bool failed;            /* preparing failed: every call skips with err */
    char err[600];
    pin_plan plan;
    pin_ctx pin;
    itera_ctx *ctx;
    itera_scan_bench *scan;
    int32_t *tokens;        /* prefill [B, L]; decode [S, B] */
    float *logits;          /* prefill [B, L, V]; decode [B, V] */
    double tokens_per_iter, flops_per_iter, work_per_iter; /* work: forwards or steps */
    double weight_bytes;
    double peak_gflops;     /* the pct_peak denominator, 0 when unknown */
    char cpus[512];         /* workers' CPUs read back, "0,1" */
    char label[640];
    bool have_acc;
    double max_abs_err, top1, kld_mean, delta_ppl;
    json_t *op_profile;     /* prefill: the op profile (owned), else NULL */
    bool timing_only;       /* set before the first call: no op profile (ab's rounds after
                               the first, which compare only the times; runner.c --serve) */
    double warmup_s;        /* set before the first call: at least one and for this long
                               untimed iterations before the first timed loop (a fixed
                               iteration count, where Google Benchmark does no warm-up of
                               its own that is shorter than the global one) */
};

/* Checks the model can be made (loads the FP32 one) and fills the accuracy input.
 * Returns BENCH_OK, or with err BENCH_ERR_INPUT (the model or its texts cannot be
 * loaded) or BENCH_ERR_NOMEM. */
bench_status fam_env_init(fam_env *e, bench_error *err);
void fam_env_free(fam_env *e);
/* The model for quant q (made on first use, kept). BENCH_ERR_INPUT when it cannot be
 * loaded or made, BENCH_ERR_NOMEM. */
bench_status fam_model(fam_env *e, itera_quant q, const itera_model **out, bench_error *err);

/* Checks a cell against the model and the platform before the run (e.g. prefill seq
 * beyond the model's max_seq_length). Returns BENCH_OK or BENCH_ERR_INPUT with err naming
 * the value. */
bench_status fam_cell_check(fam_env *e, const bench_cell *c, bench_error *err);

void fam_cell_init(fam_cell *fc, fam_env *e, const bench_cell *c, int index);
/* The GB function of every family: user is a fam_cell*. */
void fam_bench(gb_state *st, void *user);
/* Frees the cell's engine state and restores the caller's affinity; the measured-once
 * results (accuracy, op profile) are kept. */
void fam_cell_release(fam_cell *fc);
/* Frees everything, op profile included. */
void fam_cell_free(fam_cell *fc);

/* CPU usage over a timed loop: busy = (cpu_s − spin_s) / (wall_s × cores), spin =
 * spin_s / (wall_s × cores), spin clipped to [0, cpu_s]; both NaN when wall_s <= 0, cores
 * < 1 or cpu_s < 0. */
typedef struct cpu_share {
    double busy, spin;
} cpu_share;
cpu_share cpu_share_of(double cpu_s, double spin_s, double wall_s, int cores);

/* One context on the FP32 model with `threads` workers bound per plan: reads back the
 * workers' CPUs ("0,1" into cpus) and the ISA path (into isa). For the run's context.
 * Returns BENCH_OK, or BENCH_ERR_SYSTEM with err (a binding that did not take; the
 * plan's and the model's own statuses as pin_plan_make and fam_model give them). */
bench_status fam_binding_check(fam_env *e, int threads, char *cpus, size_t cpus_n, char *isa,
                               size_t isa_n, bench_error *err);

#endif
