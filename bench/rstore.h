/*
 * rstore.h: the results store, and what makes two results files "the same run":
 *
 *   results/<machine>/<platform>/<profile>.json
 *
 * <machine> is the fingerprint's readable name (itera_machine: derived from the CPU, or
 * --machine / MACHINE= / ITERA_MACHINE), so a run on a new machine writes its own folder
 * and never touches another machine's files. A results file's identity is its machine
 * (the fingerprint, machine.h), its model and its build:
 *   - model: itera_model, "synthetic seed N" or "<folder> sha256:<hex>" (the peers write
 *     "<folder> sha256 <hex>"): the key is the seed or the hash, never the folder's path;
 *   - build: itera_git and itera_compiler ("git X; compiler Y"; a peer's compiler names
 *     its runtime).
 * `itera-bench run` (and the peers, scripts/peerlib.py, by the same rule) replaces an
 * existing file at its default path only when that file has the same identity; otherwise
 * it writes beside it, <profile>.<tag>.json with tag the first 8 hex digits of the
 * SHA-256 of the identity (so the same machine, model and build find their file again,
 * for --resume too), and says where. An --out given explicitly is written as asked.
 *
 * Errors follow status.h.
 */
#ifndef ITERA_RSTORE_H
#define ITERA_RSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "machine.h"
#include "status.h"

#define RSTORE_TEXT 1024

typedef struct run_id {
    bool fingerprint;            /* every identity key of machine.h present */
    machine_info m;              /* valid when fingerprint */
    char machine[MACHINE_NAME_MAX + 1]; /* itera_machine, "" when not recorded */
    char model_key[96];          /* "synthetic seed 1234" or "sha256:<64 hex>"; "" unknown */
    char model_label[256];       /* "synthetic seed 1234", "itera-lite-micro (sha256 421ebb8da0b4)" */
    char build[RSTORE_TEXT];     /* "git X; compiler Y"; "" when neither is recorded */
} run_id;

/* The identity of the model string itera_model: key and label as above; key "" when the
 * string is neither form (the label is then the string itself, "not recorded" for NULL). */
void rstore_model_key(const char *itera_model, char *key, size_t keyn, char *label, size_t labeln);

/* The identity a results context records (absent parts left empty / not fingerprint). */
void run_id_from_context(const json_t *ctx, run_id *out);

/* The identity of a run about to be made: its machine, itera_model and build parts. */
void run_id_make(run_id *out, const machine_info *m, const char *model, const char *git,
                 const char *compiler);

/* Same machine (machine_same on the fingerprints; both must have one), same model key
 * (both known) and same build. When not, why[n] says what differs ("machine:
 * itera_machine_cores 2 vs 4", "model: synthetic seed 1 vs sha256:42..", "build: ...",
 * "no machine fingerprint in the existing file"). */
bool run_id_same(const run_id *a, const run_id *b, char *why, size_t n);

/* The first 8 hex digits of the SHA-256 of the identity (machine id, model key, build). */
void run_id_tag(const run_id *id, char out[9]);

/* results/<machine>/<platform>/<profile><suffix>.json under root ("." -> no prefix). */
void rstore_default_path(const char *root, const char *machine, const char *platform,
                         const char *profile, const char *suffix, char *out, size_t n);

typedef enum rstore_action {
    RSTORE_NEW = 0,      /* nothing at the path: write it */
    RSTORE_REPLACE_OWN,  /* the path holds a run of the same identity: replace it */
    RSTORE_BESIDE        /* the path holds another machine's, model's or build's: write beside */
} rstore_action;

/* Where a run of identity `mine` whose default path is `path` writes: out[n] (path, or the
 * file beside it), why[wn] (for BESIDE: what differs, or why the existing file could not
 * be read). A file at path that cannot be read as results counts as another run's. */
rstore_action rstore_place(const char *path, const run_id *mine, char *out, size_t n, char *why,
                           size_t wn);

#endif
