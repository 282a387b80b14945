/*
 * schema.c: the families' name shapes, the one benchmark-name builder and parser, cells
 * to and from names, and the schema's lists (see schema.h).
 */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- families: one row each, the parts of their names in order ---- */

typedef struct family_def {
    const char *name;
    const char *pattern;
    int nparts;
    name_part parts[NAME_PART_COUNT];
} family_def;

static const family_def families[BENCH_FAMILY_COUNT] = {
    [BENCH_SCAN] = { "scan", "scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T", 6,
                     { NAME_KERNEL, NAME_CHANNELS, NAME_STATE, NAME_SEQ, NAME_BATCH,
                       NAME_THREADS } },
    [BENCH_PREFILL] = { "prefill", "prefill/<quant>/<kernel>/seq:L/batch:B/threads:T", 5,
                        { NAME_QUANT, NAME_KERNEL, NAME_SEQ, NAME_BATCH, NAME_THREADS } },
    [BENCH_DECODE] = { "decode", "decode/<quant>/<kernel>/steps:S/batch:B/threads:T", 5,
                       { NAME_QUANT, NAME_KERNEL, NAME_STEPS, NAME_BATCH, NAME_THREADS } },
};

static const char *const part_keys[NAME_PART_COUNT] = {
    [NAME_QUANT] = "quant",   [NAME_KERNEL] = "kernel", [NAME_CHANNELS] = "channels",
    [NAME_STATE] = "state",   [NAME_SEQ] = "seq",       [NAME_STEPS] = "steps",
    [NAME_BATCH] = "batch",   [NAME_THREADS] = "threads",
};

const char *bench_family_name(bench_family f)
{
    return (unsigned)f < BENCH_FAMILY_COUNT ? families[f].name : "other";
}

bool bench_family_parse(const char *s, bench_family *out)
{
    for (int f = 0; s && f < BENCH_FAMILY_COUNT; f++)
        if (strcmp(s, families[f].name) == 0) {
            *out = (bench_family)f;
            return true;
        }
    return false;
}

const char *bench_family_list(void)
{
    static char buf[128];
    if (!buf[0]) {
        size_t used = 0;
        for (int f = 0; f < BENCH_FAMILY_COUNT; f++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", f ? ", " : "",
                                     families[f].name);
    }
    return buf;
}

const char *bench_family_pattern(bench_family f)
{
    return (unsigned)f < BENCH_FAMILY_COUNT ? families[f].pattern : "";
}

const char *name_part_key(name_part p)
{
    return (unsigned)p < NAME_PART_COUNT ? part_keys[p] : "?";
}

int bench_family_parts(bench_family f, const name_part **parts)
{
    if ((unsigned)f >= BENCH_FAMILY_COUNT) {
        *parts = NULL;
        return 0;
    }
    *parts = families[f].parts;
    return families[f].nparts;
}

int bench_family_part_position(bench_family f, name_part p)
{
    if ((unsigned)f >= BENCH_FAMILY_COUNT)
        return -1;
    for (int i = 0; i < families[f].nparts; i++)
        if (families[f].parts[i] == p)
            return i + 1;
    return -1;
}

/* ---- names ---- */

void bench_name_clear(bench_name *n)
{
    memset(n, 0, sizeof *n);
    n->family = BENCH_FAMILY_NONE;
    n->channels = n->state = n->seq = n->steps = n->batch = n->threads = -1;
}

static char *word_of(bench_name *n, name_part p)
{
    return p == NAME_QUANT ? n->quant : p == NAME_KERNEL ? n->kernel : NULL;
}

static int *number_of(bench_name *n, name_part p)
{
    switch (p) {
    case NAME_CHANNELS: return &n->channels;
    case NAME_STATE: return &n->state;
    case NAME_SEQ: return &n->seq;
    case NAME_STEPS: return &n->steps;
    case NAME_BATCH: return &n->batch;
    case NAME_THREADS: return &n->threads;
    default: return NULL;
    }
}

/* A kernel or quant word: 1..NAME_WORD_MAX-1 characters of [a-z0-9._-]. */
static bool word_ok(const char *s, size_t len)
{
    if (len == 0 || len >= NAME_WORD_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

#define NUMBER_MAX 100000000 /* the largest number a name part may hold */

bench_status bench_name_format(const bench_name *n, char *out, size_t cap, bench_error *e)
{
    if (cap)
        out[0] = '\0';
    if ((unsigned)n->family >= BENCH_FAMILY_COUNT)
        return bench_fail(e, BENCH_ERR_INPUT, "benchmark name: no family (expected one of %s)",
                          bench_family_list());
    const family_def *fd = &families[n->family];
    bench_name *m = (bench_name *)n; /* read only: the accessors take a non-const name */
    size_t used = (size_t)snprintf(out, cap, "%s", fd->name);
    for (int i = 0; i < fd->nparts; i++) {
        name_part p = fd->parts[i];
        const char *w = word_of(m, p);
        int wlen;
        if (w) {
            if (!word_ok(w, strlen(w)))
                return bench_fail(e, BENCH_ERR_INPUT, "%s name: %s '%s': expected 1 to %d of "
                                  "a-z, 0-9, '.', '_', '-'", fd->name, part_keys[p], w,
                                  NAME_WORD_MAX - 1);
            wlen = snprintf(out + used, used < cap ? cap - used : 0, "/%s", w);
        } else {
            int v = *number_of(m, p);
            if (v < 1 || v > NUMBER_MAX)
                return bench_fail(e, BENCH_ERR_INPUT, "%s name: %s %d: expected a whole number "
                                  "in 1..%d", fd->name, part_keys[p], v, NUMBER_MAX);
            wlen = snprintf(out + used, used < cap ? cap - used : 0, "/%s:%d", part_keys[p], v);
        }
        used += (size_t)wlen;
    }
    if (used >= cap) {
        if (cap)
            out[0] = '\0';
        return bench_fail(e, BENCH_ERR_INPUT, "%s name: longer than %zu characters", fd->name,
                          cap ? cap - 1 : 0);
    }
    return BENCH_OK;
}

/* Google Benchmark's own parts after a registered name: "key:" prefixes and words. */
static const char *const gb_prefixes[] = { "repeats:", "min_time:", "min_warmup_time:",
                                           "iterations:" };
static const char *const gb_words[] = { "real_time", "manual_time", "process_time" };

static bool gb_suffix(const char *s, size_t n)
{
    const char *const *prefixes = gb_prefixes, *const *words = gb_words;
    for (size_t i = 0; i < sizeof gb_prefixes / sizeof gb_prefixes[0]; i++)
        if (n > strlen(prefixes[i]) && strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof gb_words / sizeof gb_words[0]; i++)
        if (n == strlen(words[i]) && strncmp(s, words[i], n) == 0)
            return true;
    return false;
}

bench_status bench_name_parse(const char *name, bench_name *out, bench_error *e)
{
    bench_name_clear(out);
    if (!name)
        return bench_fail(e, BENCH_ERR_INPUT, "no benchmark name");
    const char *p = name;
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    int fam = -1;
    for (int f = 0; f < BENCH_FAMILY_COUNT && fam < 0; f++)
        if (len == strlen(families[f].name) && strncmp(p, families[f].name, len) == 0)
            fam = f;
    if (fam < 0)
        return bench_fail(e, BENCH_ERR_INPUT, "'%s': not one of ours: part 1 '%.*s' is not a "
                          "family (expected %s)", name, (int)(len < 64 ? len : 64), p,
                          bench_family_list());
    const family_def *fd = &families[fam];
    bench_name n;
    bench_name_clear(&n);
    n.family = (bench_family)fam;
    for (int i = 0; i < fd->nparts; i++) {
        name_part pt = fd->parts[i];
        int idx = i + 2; /* 1-based, the family is part 1 */
        if (!slash)
            return bench_fail(e, BENCH_ERR_INPUT, "'%s': part %d is missing: expected %s "
                              "(%s)", name, idx, pt == NAME_QUANT || pt == NAME_KERNEL
                              ? (pt == NAME_QUANT ? "<quant>" : "<kernel>") : part_keys[pt],
                              fd->pattern);
        p = slash + 1;
        slash = strchr(p, '/');
        len = slash ? (size_t)(slash - p) : strlen(p);
        char *w = word_of(&n, pt);
        if (w) {
            if (!word_ok(p, len))
                return bench_fail(e, BENCH_ERR_INPUT, "'%s': part %d '%.*s': expected a %s "
                                  "name (1 to %d of a-z, 0-9, '.', '_', '-')", name, idx,
                                  (int)(len < 64 ? len : 64), p, part_keys[pt],
                                  NAME_WORD_MAX - 1);
            memcpy(w, p, len);
            w[len] = '\0';
            continue;
        }
        const char *key = part_keys[pt];
        size_t klen = strlen(key);
        long v = 0;
        bool ok = len > klen + 1 && strncmp(p, key, klen) == 0 && p[klen] == ':';
        for (size_t k = klen + 1; ok && k < len; k++) {
            ok = p[k] >= '0' && p[k] <= '9' && v <= NUMBER_MAX;
            v = v * 10 + (p[k] - '0');
        }
        if (!ok || v < 1 || v > NUMBER_MAX)
            return bench_fail(e, BENCH_ERR_INPUT, "'%s': part %d '%.*s': expected %s:<whole "
                              "number in 1..%d> (%s)", name, idx, (int)(len < 64 ? len : 64),
                              p, key, NUMBER_MAX, fd->pattern);
        *number_of(&n, pt) = (int)v;
    }
    for (int idx = fd->nparts + 2; slash; idx++) {
        p = slash + 1;
        slash = strchr(p, '/');
        len = slash ? (size_t)(slash - p) : strlen(p);
        if (!gb_suffix(p, len))
            return bench_fail(e, BENCH_ERR_INPUT, "'%s': part %d '%.*s' follows a complete "
                              "%s name and is not one of Google Benchmark's (repeats:N, "
                              "min_time:X, real_time, ...)", name, idx,
                              (int)(len < 64 ? len : 64), p, fd->name);
    }
    *out = n;
    return BENCH_OK;
}

void bench_name_canonical(const char *name, char *out, size_t cap)
{
    size_t j = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (const char *p = name; p && *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (p == name || !gb_suffix(p, n)) {
            if (j > 0 && j + 1 < cap)
                out[j++] = '/';
            for (size_t i = 0; i < n && j + 1 < cap; i++)
                out[j++] = p[i];
            out[j] = '\0';
        }
        p = slash ? slash + 1 : NULL;
    }
}

/* ---- cells ---- */

void bench_cell_to_name(const bench_cell *c, bench_name *out)
{
    bench_name_clear(out);
    out->family = c->family;
    if ((unsigned)c->family >= BENCH_FAMILY_COUNT)
        return;
    const family_def *fd = &families[c->family];
    for (int i = 0; i < fd->nparts; i++) {
        name_part p = fd->parts[i];
        switch (p) {
        case NAME_QUANT:
            snprintf(out->quant, sizeof out->quant, "%s", itera_quant_name(c->quant));
            break;
        case NAME_KERNEL:
            snprintf(out->kernel, sizeof out->kernel, "%s", itera_kernel_name(c->kernel));
            break;
        case NAME_CHANNELS: out->channels = c->channels; break;
        case NAME_STATE: out->state = c->state; break;
        case NAME_SEQ: out->seq = c->seq; break;
        case NAME_STEPS: out->steps = c->steps; break;
        case NAME_BATCH: out->batch = c->batch; break;
        case NAME_THREADS: out->threads = c->threads; break;
        default: break;
        }
    }
}

void bench_cell_format_name(bench_cell *c)
{
    bench_name n;
    bench_cell_to_name(c, &n);
    if (bench_name_format(&n, c->name, sizeof c->name, NULL) != BENCH_OK)
        snprintf(c->name, sizeof c->name, "?");
}

bench_status bench_cell_from_name(const bench_name *n, bench_cell *out, bench_error *e)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)n->family >= BENCH_FAMILY_COUNT)
        return bench_fail(e, BENCH_ERR_INPUT, "not a benchmark of ours (no family)");
    out->family = n->family;
    itera_kernel k;
    if (!itera_kernel_parse(n->kernel, &k) || k < 0 || k >= ITERA_KERNEL_COUNT)
        return bench_fail(e, BENCH_ERR_INPUT, "kernel '%s' is not one of the engine's "
                          "kernels", n->kernel);
    out->kernel = k;
    out->quant = ITERA_QUANT_FP32;
    if (n->family != BENCH_SCAN && !itera_quant_parse(n->quant, &out->quant))
        return bench_fail(e, BENCH_ERR_INPUT, "quant '%s' is not one of the engine's formats",
                          n->quant);
    if (n->family == BENCH_SCAN) {
        out->channels = n->channels;
        out->state = n->state;
    }
    if (n->family != BENCH_DECODE)
        out->seq = n->seq;
    if (n->family == BENCH_DECODE)
        out->steps = n->steps;
    out->batch = n->batch;
    out->threads = n->threads;
    bench_name tmp;
    bench_cell_to_name(out, &tmp);
    return bench_name_format(&tmp, out->name, sizeof out->name, e);
}

/* ---- the lists ---- */

#define ROW_COUNTER(id, name, unit, fams, meaning) { name, unit, fams, meaning, "MET_" #id },
static const schema_entry counters[] = { SCHEMA_COUNTERS(ROW_COUNTER) };
#define ROW_CONTEXT(id, key, source, meaning) { key, source, meaning, NULL, "CTX_" #id },
static const schema_entry context_keys[] = { SCHEMA_CONTEXT_KEYS(ROW_CONTEXT) };
#define ROW_RES(id, key, meaning) { key, meaning, NULL, NULL, "RES_" #id },
static const schema_entry top_keys[] = { SCHEMA_TOP_KEYS(ROW_RES) };
#define ROW_ENT(id, key, meaning) { key, meaning, NULL, NULL, "ENT_" #id },
static const schema_entry entry_fields[] = { SCHEMA_ENTRY_FIELDS(ROW_ENT) };

#define COUNT(a) (int)(sizeof a / sizeof a[0])

int schema_counters(const schema_entry **out)
{
    *out = counters;
    return COUNT(counters);
}

int schema_context_keys(const schema_entry **out)
{
    *out = context_keys;
    return COUNT(context_keys);
}

int schema_top_keys(const schema_entry **out)
{
    *out = top_keys;
    return COUNT(top_keys);
}

int schema_entry_fields(const schema_entry **out)
{
    *out = entry_fields;
    return COUNT(entry_fields);
}

bool schema_is_counter(const char *name)
{
    for (int i = 0; i < COUNT(counters); i++)
        if (strcmp(counters[i].name, name) == 0)
            return true;
    size_t n = strlen(name), s = strlen(MET_PER_TOKEN_SUFFIX);
    return n > s && strcmp(name + n - s, MET_PER_TOKEN_SUFFIX) == 0;
}

bool schema_is_context_key(const char *key)
{
    for (int i = 0; i < COUNT(context_keys); i++)
        if (strcmp(context_keys[i].name, key) == 0)
            return true;
    return false;
}

/* ---- as JSON ---- */

static json_t *entries_json(const schema_entry *v, int n, const char *k0, const char *k1,
                            const char *k2, const char *k3)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, k0, json_string(v[i].name));
        json_object_set_new(o, k1, json_string(v[i].a));
        if (k2 && v[i].b)
            json_object_set_new(o, k2, json_string(v[i].b));
        if (k3 && v[i].c)
            json_object_set_new(o, k3, json_string(v[i].c));
        json_object_set_new(o, "constant", json_string(v[i].constant));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *schema_json(void)
{
    json_t *root = json_object();
    if (!root)
        return NULL;
    json_object_set_new(root, "schema", json_string(SCHEMA_VERSION));
    json_t *fams = json_array();
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++) {
        json_t *parts = json_array();
        for (int i = 0; i < families[f].nparts; i++)
            json_array_append_new(parts, json_string(part_keys[families[f].parts[i]]));
        json_array_append_new(fams, json_pack("{s:s, s:s, s:o}", "name", families[f].name,
                                              "pattern", families[f].pattern, "parts", parts));
    }
    json_object_set_new(root, "families", fams);
    json_t *k = json_array(), *q = json_array(), *sfx = json_array();
    for (int i = 0; i < ITERA_KERNEL_COUNT; i++)
        json_array_append_new(k, json_string(itera_kernel_name((itera_kernel)i)));
    for (int i = 0; i < ITERA_QUANT_COUNT; i++)
        json_array_append_new(q, json_string(itera_quant_name((itera_quant)i)));
    for (size_t i = 0; i < sizeof gb_prefixes / sizeof gb_prefixes[0]; i++)
        json_array_append_new(sfx, json_string(gb_prefixes[i]));
    for (size_t i = 0; i < sizeof gb_words / sizeof gb_words[0]; i++)
        json_array_append_new(sfx, json_string(gb_words[i]));
    json_object_set_new(root, "kernels", k);
    json_object_set_new(root, "quants", q);
    json_object_set_new(root, "gb_name_suffixes", sfx);
    json_object_set_new(root, "counters",
                        entries_json(counters, COUNT(counters), "name", "unit", "families",
                                     "meaning"));
    json_object_set_new(root, "per_token_suffix", json_string(MET_PER_TOKEN_SUFFIX));
    json_object_set_new(root, "context_keys",
                        entries_json(context_keys, COUNT(context_keys), "key", "source",
                                     "meaning", NULL));
    json_t *peers = json_array();
#define ROW_PEER(id, name)                                                                    \
    json_array_append_new(peers, json_pack("{s:s, s:s, s:s}", "name", name, "context_prefix", \
                                           "itera_" name "_", "counter_prefix", name "_"));
    SCHEMA_PEERS(ROW_PEER)
#undef ROW_PEER
    json_object_set_new(root, "peers", peers);
    json_object_set_new(root, "top_keys",
                        entries_json(top_keys, COUNT(top_keys), "key", "meaning", NULL, NULL));
    json_object_set_new(root, "entry_fields",
                        entries_json(entry_fields, COUNT(entry_fields), "key", "meaning", NULL,
                                     NULL));
    return root;
}
