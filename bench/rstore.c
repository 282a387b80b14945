/*
 * rstore.c: results paths and run identities (see rstore.h).
 */
#include "rstore.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gbread.h"
#include "itera.h"
#include "schema.h"
#include "sha256.h"

void rstore_model_key(const char *s, char *key, size_t keyn, char *label, size_t labeln)
{
    key[0] = '\0';
    if (!s) {
        snprintf(label, labeln, "not recorded");
        return;
    }
    snprintf(label, labeln, "%s", s);
    const char *syn = "synthetic seed ";
    if (strncmp(s, syn, strlen(syn)) == 0) {
        snprintf(key, keyn, "%s", s);
        return;
    }
    /* "<folder> sha256:<hex>" (harness) or "<folder> sha256 <hex>" (peers) */
    const char *h = strstr(s, " sha256");
    if (!h)
        return;
    const char *hex = h + strlen(" sha256");
    if (*hex == ':' || *hex == ' ')
        hex++;
    size_t nhex = strspn(hex, "0123456789abcdef");
    if (nhex != SHA256_HEX_LEN || hex[nhex] != '\0')
        return;
    snprintf(key, keyn, "sha256:%s", hex);
    /* the folder's last part names it */
    size_t flen = (size_t)(h - s);
    while (flen > 1 && s[flen - 1] == '/')
        flen--;
    const char *base = s;
    for (size_t i = 0; i < flen; i++)
        if (s[i] == '/' && i + 1 < flen)
            base = s + i + 1;
    snprintf(label, labeln, "%.*s (sha256 %.12s)", (int)(flen - (size_t)(base - s)), base, hex);
}

static const char *ctx_str(const json_t *ctx, const char *key)
{
    const json_t *v = json_object_get(ctx, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void build_text(char *out, size_t n, const char *git, const char *compiler)
{
    if (!git && !compiler)
        out[0] = '\0';
    else
        snprintf(out, n, "git %s; compiler %s", git ? git : "not recorded",
                 compiler ? compiler : "not recorded");
}

void run_id_from_context(const json_t *ctx, run_id *out)
{
    memset(out, 0, sizeof *out);
    bench_error e;
    out->fingerprint = machine_from_context(ctx, &out->m, &e) == BENCH_OK;
    const char *name = ctx_str(ctx, CTX_MACHINE);
    snprintf(out->machine, sizeof out->machine, "%s", name ? name : "");
    rstore_model_key(ctx_str(ctx, CTX_MODEL), out->model_key, sizeof out->model_key,
                     out->model_label, sizeof out->model_label);
    build_text(out->build, sizeof out->build, ctx_str(ctx, CTX_GIT), ctx_str(ctx, CTX_COMPILER));
}

void run_id_make(run_id *out, const machine_info *m, const char *model, const char *git,
                 const char *compiler)
{
    memset(out, 0, sizeof *out);
    out->fingerprint = true;
    out->m = *m;
    snprintf(out->machine, sizeof out->machine, "%s", m->name);
    rstore_model_key(model, out->model_key, sizeof out->model_key, out->model_label,
                     sizeof out->model_label);
    build_text(out->build, sizeof out->build, git, compiler);
}

bool run_id_same(const run_id *a, const run_id *b, char *why, size_t n)
{
    if (why && n)
        why[0] = '\0';
    if (!a->fingerprint || !b->fingerprint) {
        if (why)
            snprintf(why, n, "no machine fingerprint in %s", a->fingerprint ? "the other file"
                                                                              : "the existing file");
        return false;
    }
    char d[RSTORE_TEXT];
    if (!machine_same(&a->m, &b->m, d, sizeof d)) {
        if (why)
            snprintf(why, n, "machine: %s", d);
        return false;
    }
    if (!a->model_key[0] || !b->model_key[0] || strcmp(a->model_key, b->model_key) != 0) {
        if (why)
            snprintf(why, n, "model: %.300s vs %.300s", a->model_label, b->model_label);
        return false;
    }
    if (strcmp(a->build, b->build) != 0) {
        if (why)
            snprintf(why, n, "build: %.400s vs %.400s", a->build[0] ? a->build : "not recorded",
                     b->build[0] ? b->build : "not recorded");
        return false;
    }
    return true;
}

void run_id_tag(const run_id *id, char out[9])
{
    char text[2 * RSTORE_TEXT], hex[SHA256_HEX_LEN + 1];
    int len = snprintf(text, sizeof text, "%s\n%s\n%s", id->fingerprint ? id->m.id : id->machine,
                       id->model_key, id->build);
    sha256_hex(text, len > 0 ? (size_t)len < sizeof text ? (size_t)len : sizeof text - 1 : 0, hex);
    memcpy(out, hex, 8);
    out[8] = '\0';
}

void rstore_default_path(const char *root, const char *machine, const char *platform,
                         const char *profile, const char *suffix, char *out, size_t n)
{
    bool here = !root || !root[0] || strcmp(root, ".") == 0;
    snprintf(out, n, "%s%sresults/%s/%s/%s%s.json", here ? "" : root, here ? "" : "/", machine,
             platform, profile, suffix ? suffix : "");
}

rstore_action rstore_place(const char *path, const run_id *mine, char *out, size_t n, char *why,
                           size_t wn)
{
    struct stat st;
    if (why && wn)
        why[0] = '\0';
    snprintf(out, n, "%s", path);
    if (stat(path, &st) != 0)
        return RSTORE_NEW;
    run_id had;
    bool same = false;
    gb_file f;
    bench_error err;
    if (gb_file_load(path, &f, &err) != BENCH_OK) {
        if (why)
            snprintf(why, wn, "it is not a results file this build can read: %s", err.msg);
    } else {
        run_id_from_context(f.context, &had);
        same = run_id_same(&had, mine, why, wn);
        gb_file_free(&f);
    }
    if (same)
        return RSTORE_REPLACE_OWN;
    char tag[9];
    run_id_tag(mine, tag);
    size_t len = strlen(path);
    int stem = len > 5 && strcmp(path + len - 5, ".json") == 0 ? (int)(len - 5) : (int)len;
    snprintf(out, n, "%.*s.%s.json", stem, path, tag);
    return RSTORE_BESIDE;
}
