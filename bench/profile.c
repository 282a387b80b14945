/*
 * profile.c: sweep profiles: defaults, the key table, INI reading (libinih through
 * bench_ini_parse), --set overrides, and the cartesian product into benchmark cells.
 */
#include "profile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nameidx.h"
#include "platform.h"

/* ---- The key table ---- */

typedef enum key_kind {
    KEY_TEXT,     /* a string field */
    KEY_FAMILIES, /* list of family names */
    KEY_KERNELS,  /* list of kernel names (no auto) */
    KEY_QUANTS,   /* list of quant names */
    KEY_INTS,     /* list of whole numbers in [lo, hi] */
    KEY_THREADS,  /* list of whole numbers in [lo, hi] or `platform` */
    KEY_INT,      /* one whole number in [lo, hi] */
    KEY_SECONDS,  /* one positive real in (0, hi] */
    KEY_MINUTES,  /* one positive real in (0, hi] */
    KEY_BOOL,     /* true or false */
} key_kind;

typedef struct key_def {
    const char *name;
    key_kind kind;
    size_t offset;
    long lo, hi;
} key_def;

#define OFF(f) offsetof(profile, f)
static const key_def keys[] = {
    { "name", KEY_TEXT, OFF(name), 0, sizeof(((profile *)0)->name) - 1 },
    { "description", KEY_TEXT, OFF(description), 0, sizeof(((profile *)0)->description) - 1 },
    { "families", KEY_FAMILIES, OFF(families), 0, 0 },
    { "kernels", KEY_KERNELS, OFF(kernels), 0, 0 },
    { "decode_kernels", KEY_KERNELS, OFF(decode_kernels), 0, 0 },
    { "quants", KEY_QUANTS, OFF(quants), 0, 0 },
    { "seq", KEY_INTS, OFF(seq), 1, 8192 },
    { "batch", KEY_INTS, OFF(batch), 1, 64 },
    { "threads", KEY_THREADS, OFF(threads), 1, ITERA_MAX_THREADS },
    { "steps", KEY_INTS, OFF(steps), 1, 8192 },
    { "repetitions", KEY_INT, OFF(repetitions), 1, 1000 },
    { "min_time", KEY_SECONDS, OFF(min_time), 0, 600 },
    { "scan_channels", KEY_INTS, OFF(scan_channels), 1, 65536 },
    { "scan_state", KEY_INTS, OFF(scan_state), 1, 4096 },
    { "scan_seq", KEY_INTS, OFF(scan_seq), 1, 1 << 20 },
    { "scan_batch", KEY_INTS, OFF(scan_batch), 1, 1024 },
    { "text_accuracy", KEY_BOOL, OFF(text_accuracy), 0, 0 },
    { "ab_budget_minutes", KEY_MINUTES, OFF(ab_budget_minutes), 0, 10000 },
};
#define NKEYS (int)(sizeof keys / sizeof keys[0])

const char *profile_keys(void)
{
    static char buf[512];
    if (!buf[0]) {
        size_t used = 0;
        for (int i = 0; i < NKEYS; i++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "",
                                     keys[i].name);
    }
    return buf;
}

static const key_def *key_find(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void list_set(profile_list *l, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    l->n = n;
    for (int i = 0; i < n; i++)
        l->v[i] = va_arg(ap, int);
    va_end(ap);
}

/* l = 0, 1, .., n-1: every row of a table. */
static void list_rows(profile_list *l, int n)
{
    l->n = n;
    for (int i = 0; i < n; i++)
        l->v[i] = i;
}

void profile_defaults(profile *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "default");
    list_set(&p->families, 3, BENCH_SCAN, BENCH_PREFILL, BENCH_DECODE);
    /* every kernel and format of the engine's tables; decode: the kernel AUTO runs for one
     * token (a one-token step runs the same code for every kernel) */
    list_rows(&p->kernels, ITERA_KERNEL_COUNT);
    list_set(&p->decode_kernels, 1, (int)itera_scan_auto(1, 1, 1, 1, 1));
    list_rows(&p->quants, ITERA_QUANT_COUNT);
    list_set(&p->seq, 1, 128);
    list_set(&p->batch, 1, 1);
    list_set(&p->threads, 1, PROFILE_THREADS_PLATFORM);
    list_set(&p->steps, 1, 64);
    p->repetitions = 3;
    p->min_time = 0.05;
    list_set(&p->scan_channels, 1, 256);
    list_set(&p->scan_state, 1, 64);
    list_set(&p->scan_seq, 1, 128);
    list_set(&p->scan_batch, 1, 4);
}

/* Valid names of a list kind, for messages. */
static const char *kind_choices(key_kind k)
{
    switch (k) {
    case KEY_FAMILIES: return bench_family_list();
    case KEY_KERNELS: return itera_kernel_choices();
    case KEY_QUANTS: return itera_quant_choices();
    default: return "";
    }
}

/* Trims spaces at both ends of s in place; returns s. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    return s;
}

/* Parses one list item of kind k into *v; false with a message otherwise. */
static bool parse_item(const key_def *k, const char *item, int *v, bench_error *e)
{
    switch (k->kind) {
    case KEY_FAMILIES: {
        bench_family f;
        if (bench_family_parse(item, &f)) {
            *v = (int)f;
            return true;
        }
        bench_fail(e, BENCH_ERR_INPUT, "%s: '%s' is not a family; valid: %s", k->name, item,
                   kind_choices(k->kind));
        return false;
    }
    case KEY_KERNELS: {
        itera_kernel kk;
        if (itera_kernel_parse(item, &kk) && kk >= 0 && kk < ITERA_KERNEL_COUNT) {
            *v = (int)kk;
            return true;
        }
        bench_fail(e, BENCH_ERR_INPUT,
                   "%s: '%s' is not a kernel; valid: %s (or all)", k->name, item,
                   kind_choices(k->kind));
        return false;
    }
    case KEY_QUANTS: {
        itera_quant q;
        if (itera_quant_parse(item, &q)) {
            *v = (int)q;
            return true;
        }
        bench_fail(e, BENCH_ERR_INPUT, "%s: '%s' is not a quant; valid: %s (or all)", k->name, item,
                   kind_choices(k->kind));
        return false;
    }
    case KEY_THREADS:
        if (strcmp(item, "platform") == 0) {
            *v = PROFILE_THREADS_PLATFORM;
            return true;
        }
        /* fall through */
    case KEY_INTS:
    case KEY_INT: {
        char *end;
        errno = 0;
        long x = strtol(item, &end, 10);
        if (end != item && *end == '\0' && errno != ERANGE && x >= k->lo && x <= k->hi) {
            *v = (int)x;
            return true;
        }
        bench_fail(e, BENCH_ERR_INPUT,
                   "%s: '%s' is not a whole number in %ld..%ld%s", k->name, item, k->lo,
                   k->hi, k->kind == KEY_THREADS ? " or 'platform'" : "");
        return false;
    }
    default:
        bench_fail(e, BENCH_ERR_INPUT, "%s: internal: not a list", k->name);
        return false;
    }
}

bench_status profile_set(profile *p, const char *key, const char *value, const char *origin,
                         bench_error *e)
{
    (void)origin;
    const key_def *k = key_find(key);
    if (!k)
        return bench_fail(e, BENCH_ERR_INPUT,
                          "unknown key '%s'; valid keys: %s", key, profile_keys());
    char *field = (char *)p + k->offset;
    char buf[1024];
    if (strlen(value) >= sizeof buf)
        return bench_fail(e, BENCH_ERR_INPUT, "%s: value too long", key);
    snprintf(buf, sizeof buf, "%s", value);
    char *v = trim(buf);
    switch (k->kind) {
    case KEY_TEXT:
        if (strlen(v) > (size_t)k->hi)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: at most %ld characters", key, k->hi);
        if (strcmp(key, "name") == 0 && (!*v || strpbrk(v, "/ \t")))
            return bench_fail(e, BENCH_ERR_INPUT,
                              "name: '%s' is not a valid name (no '/' or spaces)", v);
        snprintf(field, (size_t)k->hi + 1, "%s", v);
        return BENCH_OK;
    case KEY_INT: {
        int x;
        if (!parse_item(k, v, &x, e))
            return BENCH_ERR_INPUT;
        *(int *)field = x;
        return BENCH_OK;
    }
    case KEY_SECONDS:
    case KEY_MINUTES: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end != '\0' || errno == ERANGE || !isfinite(x) || x <= 0 ||
            x > (double)k->hi)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: '%s' is not a number of %s in (0, %ld]",
                              key, v, k->kind == KEY_MINUTES ? "minutes" : "seconds", k->hi);
        *(double *)field = x;
        return BENCH_OK;
    }
    case KEY_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: '%s' is not true or false", key, v);
        *(bool *)field = strcmp(v, "true") == 0;
        return BENCH_OK;
    default:
        break;
    }
    /* A comma-separated list: parse into a temporary, then replace the field. */
    profile_list l = { 0 };
    if (!*v) {
        if (k->kind == KEY_FAMILIES || k->kind == KEY_KERNELS || k->kind == KEY_QUANTS)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: empty list; give one or more of: %s",
                              key, kind_choices(k->kind));
        return bench_fail(e, BENCH_ERR_INPUT, "%s: empty list; give one or more numbers", key);
    }
    /* `all`: every row of the engine's table (a kernel or format added there is swept) */
    if ((k->kind == KEY_KERNELS || k->kind == KEY_QUANTS) && strcmp(v, "all") == 0) {
        list_rows((profile_list *)field, k->kind == KEY_KERNELS ? ITERA_KERNEL_COUNT : ITERA_QUANT_COUNT);
        return BENCH_OK;
    }
    char *save = NULL;
    /* strtok_r would merge empty items; walk commas by hand to reject "64,,128". */
    for (char *item = v;; item = save + 1) {
        save = strchr(item, ',');
        if (save)
            *save = '\0';
        char *t = trim(item);
        if (!*t)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: empty item in the list (stray comma?)", key);
        int x;
        if (!parse_item(k, t, &x, e))
            return BENCH_ERR_INPUT;
        bool dup = false;
        for (int i = 0; i < l.n; i++)
            dup |= l.v[i] == x;
        if (!dup) {
            if (l.n == PROFILE_MAX_VALUES)
                return bench_fail(e, BENCH_ERR_INPUT,
                                  "%s: more than %d values", key, PROFILE_MAX_VALUES);
            l.v[l.n++] = x;
        }
        if (!save)
            break;
    }
    *(profile_list *)field = l;
    return BENCH_OK;
}

bench_status profile_override(profile *p, const char *assignment, bench_error *e)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return bench_fail(e, BENCH_ERR_INPUT,
                          "--set %s: expected key=value; valid keys: %s", assignment,
                          profile_keys());
    for (const char *c = assignment; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return bench_fail(e, BENCH_ERR_INPUT,
                              "--set: control character (byte 0x%02x) at offset %d of the "
                              "assignment", (unsigned char)*c, (int)(c - assignment));
    itera_error ie;
    if (itera_check_text("--set", assignment, strlen(assignment), &ie) != ITERA_OK)
        return bench_fail(e, BENCH_ERR_INPUT, "%s", ie.msg);
    char key[64];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key)
        return bench_fail(e, BENCH_ERR_INPUT,
                          "--set %s: unknown key; valid keys: %s", assignment, profile_keys());
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    char *k = trim(key);
    bench_error inner;
    bench_status st = profile_set(p, k, eq + 1, "--set", &inner);
    if (st != BENCH_OK)
        return bench_fail(e, st, "--set %s: %s", assignment, inner.msg);
    size_t used = strlen(p->override_text);
    snprintf(p->override_text + used, sizeof p->override_text - used, "%s%s",
             used ? "; " : "", assignment);
    p->overrides++;
    return BENCH_OK;
}

int profile_format(const profile *p, const char *key, char *out, size_t n)
{
    const key_def *k = key_find(key);
    if (!k)
        return -1;
    const char *field = (const char *)p + k->offset;
    out[0] = '\0';
    switch (k->kind) {
    case KEY_TEXT:
        snprintf(out, n, "%s", field);
        return 0;
    case KEY_INT:
        snprintf(out, n, "%d", *(const int *)field);
        return 0;
    case KEY_SECONDS:
    case KEY_MINUTES:
        snprintf(out, n, "%g", *(const double *)field);
        return 0;
    case KEY_BOOL:
        snprintf(out, n, "%s", *(const bool *)field ? "true" : "false");
        return 0;
    default:
        break;
    }
    const profile_list *l = (const profile_list *)field;
    size_t used = 0;
    for (int i = 0; i < l->n && used < n; i++) {
        const char *sep = i ? ", " : "";
        int w;
        switch (k->kind) {
        case KEY_FAMILIES: w = snprintf(out + used, n - used, "%s%s", sep, bench_family_name((bench_family)l->v[i])); break;
        case KEY_KERNELS: w = snprintf(out + used, n - used, "%s%s", sep, itera_kernel_name((itera_kernel)l->v[i])); break;
        case KEY_QUANTS: w = snprintf(out + used, n - used, "%s%s", sep, itera_quant_name((itera_quant)l->v[i])); break;
        case KEY_THREADS:
            if (l->v[i] == PROFILE_THREADS_PLATFORM) {
                w = snprintf(out + used, n - used, "%splatform", sep);
                break;
            }
            /* fall through */
        default: w = snprintf(out + used, n - used, "%s%d", sep, l->v[i]); break;
        }
        if (w > 0)
            used += (size_t)w;
    }
    return 0;
}

/* ---- Reading files ---- */

static bench_status profile_key(void *user, const char *section, const char *key,
                                const char *value, bench_error *e)
{
    profile *p = user;
    if (strcmp(section, "profile") != 0) {
        if (*section)
            return bench_fail(e, BENCH_ERR_INPUT, "unknown section [%s]; valid sections: "
                              "[profile]", section);
        return bench_fail(e, BENCH_ERR_INPUT, "key '%s' before any section; put it under "
                          "[profile]", key);
    }
    if (!key_find(key))
        return bench_fail(e, BENCH_ERR_INPUT, "unknown key '%s' in [profile]; valid keys: %s",
                          key, profile_keys());
    return profile_set(p, key, value, NULL, e);
}

static bench_status profile_parse_any(const char *text, const char *path, profile *p,
                                      bench_error *e)
{
    profile_defaults(p);
    /* The name defaults to the file's stem. */
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strlen(b);
    if (len > 4 && strcmp(b + len - 4, ".ini") == 0)
        len -= 4;
    snprintf(p->name, sizeof p->name, "%.*s", (int)(len < sizeof p->name ? len : sizeof p->name - 1), b);
    snprintf(p->path, sizeof p->path, "%s", path);
    return bench_ini_parse(path, text, profile_key, p, e);
}

bench_status profile_load(const char *path, profile *p, bench_error *e)
{
    return profile_parse_any(NULL, path, p, e);
}

bench_status profile_load_string(const char *text, const char *path, profile *p,
                                 bench_error *e)
{
    return profile_parse_any(text, path, p, e);
}

/* ---- Cells ---- */

typedef struct cell_vec {
    bench_cell *v;
    int n, cap;
    name_index by_name; /* de-duplication in linear time */
} cell_vec;

static const char *cell_name_at(const void *user, int i)
{
    return ((const bench_cell *)user)[i].name;
}

static int cell_push(cell_vec *cv, const bench_cell *c)
{
    if (name_index_find(&cv->by_name, c->name, cell_name_at, cv->v) >= 0)
        return 0; /* a duplicate (e.g. threads 2 and `platform` = 2) */
    if (cv->n == cv->cap) {
        int cap = cv->cap ? cv->cap * 2 : 64;
        bench_cell *nv = realloc(cv->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        cv->v = nv;
        cv->cap = cap;
    }
    cv->v[cv->n++] = *c;
    return name_index_add(&cv->by_name, cv->n - 1, cell_name_at, cv->v);
}

#define MAX_CELLS 100000

bench_status profile_cells(const profile *p, int platform_threads, bench_cell **out,
                           int *count, bench_error *err)
{
    /* Resolve `platform` in the threads list, keeping order and dropping repeats. */
    profile_list th = { 0 };
    for (int i = 0; i < p->threads.n; i++) {
        int t = p->threads.v[i] == PROFILE_THREADS_PLATFORM ? platform_threads : p->threads.v[i];
        bool dup = false;
        for (int j = 0; j < th.n; j++)
            dup |= th.v[j] == t;
        if (!dup)
            th.v[th.n++] = t;
    }
    /* Size check before allocating. */
    double total = 0;
    for (int f = 0; f < p->families.n; f++) {
        switch ((bench_family)p->families.v[f]) {
        case BENCH_SCAN:
            total += (double)p->kernels.n * p->scan_channels.n * p->scan_state.n *
                     p->scan_seq.n * p->scan_batch.n * th.n;
            break;
        case BENCH_PREFILL:
            total += (double)p->quants.n * p->kernels.n * p->seq.n * p->batch.n * th.n;
            break;
        case BENCH_DECODE:
            total += (double)p->quants.n * p->decode_kernels.n * p->steps.n * p->batch.n * th.n;
            break;
        default:
            break;
        }
    }
    if (total > MAX_CELLS)
        return bench_fail(err, BENCH_ERR_INPUT, "profile '%s' expands to %.0f cells (at most %d)",
                          p->name, total, MAX_CELLS);
    cell_vec cv = { 0 };
    bench_cell c;
    for (int f = 0; f < p->families.n; f++) {
        bench_family fam = (bench_family)p->families.v[f];
        if (fam == BENCH_SCAN) {
            for (int a = 0; a < p->kernels.n; a++)
            for (int b = 0; b < p->scan_channels.n; b++)
            for (int d = 0; d < p->scan_state.n; d++)
            for (int e = 0; e < p->scan_seq.n; e++)
            for (int g = 0; g < p->scan_batch.n; g++)
            for (int t = 0; t < th.n; t++) {
                memset(&c, 0, sizeof c);
                c.family = fam;
                c.kernel = (itera_kernel)p->kernels.v[a];
                c.quant = ITERA_QUANT_REFERENCE; /* the standalone scan has no weights */
                c.channels = p->scan_channels.v[b];
                c.state = p->scan_state.v[d];
                c.seq = p->scan_seq.v[e];
                c.batch = p->scan_batch.v[g];
                c.threads = th.v[t];
                bench_cell_format_name(&c);
                if (cell_push(&cv, &c) != 0)
                    goto nomem;
            }
        } else if (fam == BENCH_PREFILL) {
            for (int a = 0; a < p->quants.n; a++)
            for (int b = 0; b < p->kernels.n; b++)
            for (int d = 0; d < p->seq.n; d++)
            for (int e = 0; e < p->batch.n; e++)
            for (int t = 0; t < th.n; t++) {
                memset(&c, 0, sizeof c);
                c.family = fam;
                c.quant = (itera_quant)p->quants.v[a];
                c.kernel = (itera_kernel)p->kernels.v[b];
                c.seq = p->seq.v[d];
                c.batch = p->batch.v[e];
                c.threads = th.v[t];
                bench_cell_format_name(&c);
                if (cell_push(&cv, &c) != 0)
                    goto nomem;
            }
        } else if (fam == BENCH_DECODE) {
            for (int a = 0; a < p->quants.n; a++)
            for (int b = 0; b < p->decode_kernels.n; b++)
            for (int d = 0; d < p->steps.n; d++)
            for (int e = 0; e < p->batch.n; e++)
            for (int t = 0; t < th.n; t++) {
                memset(&c, 0, sizeof c);
                c.family = fam;
                c.quant = (itera_quant)p->quants.v[a];
                c.kernel = (itera_kernel)p->decode_kernels.v[b];
                c.steps = p->steps.v[d];
                c.batch = p->batch.v[e];
                c.threads = th.v[t];
                bench_cell_format_name(&c);
                if (cell_push(&cv, &c) != 0)
                    goto nomem;
            }
        }
    }
    name_index_free(&cv.by_name);
    *out = cv.v;
    *count = cv.n;
    return BENCH_OK;
nomem:
    name_index_free(&cv.by_name);
    free(cv.v);
    return bench_fail(err, BENCH_ERR_NOMEM, "out of memory expanding profile '%s'", p->name);
}
