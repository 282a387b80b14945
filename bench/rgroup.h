/*
 * rgroup.h: the report's view of the result files it was given, and the queries its tables
 * make. Files are grouped so that no table can combine cells of different machines, models
 * or builds:
 *
 *   machine   files whose fingerprints are the same machine (machine.h machine_same); a
 *             file without a fingerprint (written before it existed) is a machine of its
 *             own, since it may come from any
 *   section   one platform of a machine (its name, and whether it was emulated)
 *   group     the files of a section with one model (seed or sha256) and one build (git +
 *             compiler): a table is made of one group's cells. The peers' files (itera_peer:
 *             PyTorch eager, ONNX Runtime) form their own groups in the section, found by
 *             the engine's tables through the model they ran (rs_peer_*).
 *
 * Within a group a cell held by several files is taken from the newest (the context's
 * date; the later path on a tie) and remembers the older files, so a table can say which
 * file it shows and which it passed over.
 *
 * Figures are read from a cell's iteration runs (figure.h: the median and its spread); a
 * file without iteration runs falls back to its median aggregate (n counted as 1).
 */
#ifndef ITERA_RGROUP_H
#define ITERA_RGROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "figure.h"
#include "gbread.h"
#include "machine.h"
#include "nameidx.h"
#include "rstore.h"
#include "schema.h"

#define RCELL_MAX_OLDER 4

typedef struct rfile {
    gb_file gb;
    int num;               /* its [num] in the report: 1 + its index in path order */
    run_id id;             /* machine, model, build (rstore.h) */
    char platform[64];
    bool emulated;
    int threads;           /* itera_threads, -1 when not recorded */
    char date[64];         /* the context's date, "" when absent */
    double when;           /* that date in seconds since the epoch, -inf when absent */
    bool peer;             /* a peer's file (itera_peer) */
    int machine;           /* index in rset.machines */
    int section, group;    /* its section in the machine, and its group there (peer groups
                              counted after the engine's) */
} rfile;

typedef struct rcell {
    const gb_cell *c;
    int file;              /* index in rset.files */
    int older[RCELL_MAX_OLDER]; /* other files of the group holding it (older), first ones */
    int n_older;           /* how many there were (may exceed RCELL_MAX_OLDER) */
} rcell;

typedef struct rgroup {
    int machine, section;  /* indexes of its machine and of its section there */
    bool peer;             /* a group of peer files */
    char model_key[96];    /* run_id.model_key ("" unknown: then the label keys it) */
    char model_label[256];
    char build[RSTORE_TEXT];
    char build_label[192]; /* short: "git 1281e0807819-dirty, gcc 12.2.0" (+ a tag if two
                              builds of the set would read the same) */
    char slug[192];        /* its chart folder inside the machine's folder */
    char anchor[200];      /* its markdown anchor */
    int *files;            /* indexes in rset.files, path order */
    int n_files;
    rcell *cells;
    int n_cells, cells_cap;
    name_index by_canon;
    int n_overlap;         /* cells more than one of its files hold */
} rgroup;

typedef struct rsection {
    int machine;
    char platform[64];
    bool emulated;
    int threads;           /* the platform's worker threads, -1 when not recorded */
    char slug[96];         /* "embedded", "desktop-emulated" */
    rgroup *groups;        /* the engine's runs, by model label then build */
    int n_groups;
    rgroup *peers;         /* the peers' runs */
    int n_peers;
} rsection;

typedef struct rmachine {
    char name[MACHINE_NAME_MAX + 1];
    char slug[96];         /* its folder: the name, unique in the set */
    bool fingerprint;      /* false: one file without a fingerprint */
    machine_info m;        /* its fingerprint (the first file's) */
    int *files;            /* indexes in rset.files, path order */
    int n_files;
    rsection *secs;        /* in platform order: desktop, laptop, embedded, host, others */
    int n_secs;
} rmachine;

typedef struct rset {
    rfile *files;          /* in path order */
    int n_files;
    rmachine *machines;    /* by name (fingerprinted first), then id */
    int n_machines;
} rset;

/* Loads paths[0..n) (sorted by path here; a path given twice is loaded once) and groups
 * them. Returns BENCH_OK; BENCH_ERR_INPUT with err naming the file that cannot be read;
 * BENCH_ERR_NOMEM. On failure *s is freed. */
bench_status rset_load(rset *s, const char *const *paths, int n, bench_error *err);
void rset_free(rset *s);

/* The platform's display order: desktop, laptop, embedded, host, then others (100). */
int platform_rank(const char *platform);
#define N_STD_PLATFORMS 3 /* desktop, laptop and embedded: the edge table names a missing one */
const char *std_platform(int i);

/* ---- queries over one group ---- */

typedef enum rdim { DIM_CHANNELS, DIM_STATE, DIM_SEQ, DIM_BATCH, DIM_THREADS, DIM_STEPS } rdim;

/* A filter on parsed names: NULL / -1 fields match anything. */
typedef struct want {
    bench_family fam;
    const char *quant, *kernel;
    int channels, state, seq, batch, threads, steps;
} want;

#define WANT(f) ((want){.fam = (f), .channels = -1, .state = -1, .seq = -1, .batch = -1, \
                        .threads = -1, .steps = -1})

int dim_of(const bench_name *n, rdim d);
void set_dim(want *w, rdim d, int v);
bool want_match(const gb_cell *c, const want *w);
/* The first cell of g matching w (cells are in the order their files first had them). */
const rcell *rg_find(const rgroup *g, const want *w);
/* Narrows w on dimension d to the value among matching cells closest to pref (ties: the
 * larger when prefer_larger). Returns the value, or -1 when nothing matches. */
int rg_narrow(const rgroup *g, want *w, rdim d, long pref, bool prefer_larger);
/* The preferred kernel among cells matching w: the engine's by report_rank, else the
 * alphabetically first name; NULL when none. */
const char *rg_pick_kernel(const rgroup *g, const want *w);
/* Distinct kernels (quant false) or quants among matching cells, in the engine's table
 * order then alphabetically; returns how many (at most cap). */
int rg_distinct_names(const rgroup *g, const want *w, bool quant, const char **out, int cap);
/* Distinct values of d among matching cells, ascending. */
int rg_distinct_dim(const rgroup *g, const want *w, rdim d, int *out, int cap);

/* The peer groups of a section with the model of g (matching model key; labels when
 * either key is unknown): up to cap, in section order. */
int rs_peer_groups(const rset *s, const rgroup *g, const rgroup **out, int cap);
/* A display name for a peer's kernel: "PyTorch (eager)", "ONNX Runtime", else itself. */
const char *peer_label(const char *kernel);

/* ---- figures of a cell ---- */

/* metric over the cell's iteration runs (real_time / cpu_time in ns); a failed cell or a
 * metric it lacks gives n = 0. */
figure rc_figure(const rcell *c, const char *metric);
/* Latency in ms: latency_ms, else real_time; *from (may be NULL) names the one used. */
figure rc_latency(const rcell *c, const char **from);
/* The largest value of metric over the runs (peak memory), NaN when absent. */
double rc_max(const rcell *c, const char *metric);
/* Whether some run has metric >= 1 (a flag counter such as peak_suspect). */
bool rc_flag(const rcell *c, const char *metric);

/* The machine, section and file of a group or cell. */
const rmachine *rg_machine(const rset *s, const rgroup *g);
const rsection *rg_section(const rset *s, const rgroup *g);

#endif
