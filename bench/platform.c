/*
 * platform.c: platform files (platforms/NAME.ini) through libinih, the line-counting INI
 * reader shared with profile.c, and the lookup of data files by name.
 */
#include "platform.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "itera.h"

/* ---- INI reading with line numbers ----
 *
 * Files are read whole (itera_read_file: a regular file, never opened blocking), checked
 * as text (no NUL, valid UTF-8) and pre-scanned for what libinih would otherwise accept
 * quietly, whatever options the system's build of it has: an indented line (inih's
 * multi-line option makes it a continuation of the previous value), a ';' inside a value
 * with no white space before it (an inline comment needs one, so "a;b" and "a ;b" would
 * mean different things), and "key: value" (inih also splits at ':'). Keys given twice in
 * a section are refused too (inih would hand both over and the last would win). */

#define INI_MAX_FILE_BYTES (1u << 20)
#define INI_MAX_KEYS 256

typedef struct ini_reader_state {
    const char *text; /* what is left to hand out */
    int line;         /* line of the chunk handed out last */
    int next_line;    /* line the next chunk starts on */
    int long_line;    /* first line longer than the reader's buffer, 0 if none */
    bench_ini_fn fn;
    void *user;
    int err_line;     /* line of the first handler error, 0 if none */
    bench_status err_status; /* its status */
    bench_error err;  /* its message */
    int n_keys;       /* section + key pairs seen, for duplicates */
    struct {
        char section[64], key[64];
        int line;
    } keys[INI_MAX_KEYS];
} ini_reader_state;

static char *ini_read_chunk(char *buf, int num, void *stream)
{
    ini_reader_state *s = stream;
    if (!*s->text)
        return NULL;
    int i = 0;
    while (i < num - 1 && s->text[i] && s->text[i] != '\n')
        i++;
    if (i < num - 1 && s->text[i] == '\n')
        i++;
    memcpy(buf, s->text, (size_t)i);
    buf[i] = '\0';
    s->text += i;
    s->line = s->next_line;
    size_t len = (size_t)i;
    if (len > 0 && buf[len - 1] == '\n')
        s->next_line++;
    else if ((int)len == num - 1 && !s->long_line && *s->text != '\0')
        s->long_line = s->line;
    return buf;
}

/* A repeated key in a section: the message into s->err, true. */
static bool ini_duplicate(ini_reader_state *s, const char *section, const char *key)
{
    for (int i = 0; i < s->n_keys; i++)
        if (strcmp(s->keys[i].section, section) == 0 && strcmp(s->keys[i].key, key) == 0) {
            bench_fail(&s->err, BENCH_ERR_INPUT, "key '%s' given twice in [%s] (first on line %d)",
                       key, section, s->keys[i].line);
            return true;
        }
    if (s->n_keys < INI_MAX_KEYS && strlen(section) < sizeof s->keys[0].section &&
        strlen(key) < sizeof s->keys[0].key) {
        snprintf(s->keys[s->n_keys].section, sizeof s->keys[0].section, "%s", section);
        snprintf(s->keys[s->n_keys].key, sizeof s->keys[0].key, "%s", key);
        s->keys[s->n_keys].line = s->line;
        s->n_keys++;
    }
    return false;
}

static int ini_dispatch(void *user, const char *section, const char *name, const char *value)
{
    ini_reader_state *s = user;
    if (s->err_line)
        return 1; /* keep only the first error */
    if (s->long_line)
        return 1;
    if (ini_duplicate(s, section, name)) {
        s->err_status = BENCH_ERR_INPUT;
        s->err_line = s->line;
        return 0;
    }
    bench_status st = s->fn(s->user, section, name, value, &s->err);
    if (st != BENCH_OK) {
        s->err_status = st;
        s->err_line = s->line;
        return 0;
    }
    return 1;
}

/* The pre-scan (see above): 0, or the number of the first offending line with its
 * message in msg[n]. */
static int ini_prescan(const char *text, char *msg, size_t n)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *q = p;
        if (line == 1 && len >= 3 && memcmp(q, "\xEF\xBB\xBF", 3) == 0)
            q += 3; /* a UTF-8 byte order mark, which inih skips */
        const char *first = q;
        while (first < p + len && (*first == ' ' || *first == '\t' || *first == '\r'))
            first++;
        bool blank = first == p + len, comment = !blank && (*first == ';' || *first == '#');
        if (!blank && !comment && first != q) {
            snprintf(msg, n, "indented line (inih would read it as a continuation of the "
                     "previous value); remove the indentation");
            return line;
        }
        if (!blank && !comment && *first != '[') {
            const char *eq = memchr(first, '=', (size_t)(p + len - first)),
                       *colon = memchr(first, ':', (size_t)(p + len - first));
            if (colon && (!eq || colon < eq)) {
                snprintf(msg, n, "'key: value' is not accepted; write 'key = value'");
                return line;
            }
            for (const char *c = eq ? eq + 1 : p + len; c < p + len; c++)
                if (*c == ';' && c[-1] != ' ' && c[-1] != '\t') {
                    snprintf(msg, n, "';' inside a value (a comment needs white space before "
                             "';'; values cannot hold one)");
                    return line;
                }
        }
        p = end ? end + 1 : p + len;
    }
    return 0;
}

bench_status bench_ini_parse(const char *path, const char *text, bench_ini_fn fn, void *user,
                             bench_error *e)
{
    char *owned = NULL;
    if (!text) {
        size_t len;
        itera_error ie;
        if (itera_read_file(path, INI_MAX_FILE_BYTES, &owned, &len, &ie) != ITERA_OK ||
            itera_check_text(path, owned, len, &ie) != ITERA_OK) {
            free(owned);
            return bench_fail(e, BENCH_ERR_INPUT, "%s", ie.msg);
        }
        text = owned;
    }
    ini_reader_state *s = calloc(1, sizeof *s);
    if (!s) {
        free(owned);
        return bench_fail(e, BENCH_ERR_NOMEM, "%s: out of memory", path);
    }
    *s = (ini_reader_state){ .text = text, .line = 0, .next_line = 1, .fn = fn, .user = user };
    char msg[200];
    int bad = ini_prescan(text, msg, sizeof msg);
    int rc = bad ? 0 : ini_parse_stream(ini_read_chunk, s, ini_dispatch, s);
    bench_status result = BENCH_OK;
    if (bad)
        result = bench_fail(e, BENCH_ERR_INPUT, "%s:%d: %s", path, bad, msg);
    else if (s->long_line && (!s->err_line || s->long_line <= s->err_line))
        result = bench_fail(e, BENCH_ERR_INPUT, "%s:%d: line too long (at most %d characters)",
                            path, s->long_line, INI_MAX_LINE - 3);
    else if (s->err_line && (rc <= 0 || s->err_line <= rc))
        result = bench_fail(e, s->err_status, "%s:%d: %s", path, s->err_line, s->err.msg);
    else if (rc > 0)
        result = bench_fail(e, BENCH_ERR_INPUT, "%s:%d: syntax error: expected '[section]', "
                            "'key = value' or a comment (';' or '#')", path, rc);
    else if (rc < 0)
        result = bench_fail(e, BENCH_ERR_INPUT, "%s: cannot read (ini_parse_stream returned %d)",
                            path, rc);
    free(s);
    free(owned);
    return result;
}

/* ---- Platforms ---- */

static const char *const platform_keys = "name, description, cores, threads, binding";

/* Parses a whole decimal number in [lo, hi]; false for anything else. */
static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

typedef struct platform_parse {
    platform *p;
    bool seen_name;
} platform_parse;

static bench_status platform_key(void *user, const char *section, const char *key,
                                 const char *value, bench_error *e)
{
    platform_parse *pp = user;
    platform *p = pp->p;
    if (strcmp(section, "platform") != 0) {
        if (*section)
            return bench_fail(e, BENCH_ERR_INPUT, "unknown section [%s]; valid sections: "
                              "[platform]", section);
        return bench_fail(e, BENCH_ERR_INPUT, "key '%s' before any section; put it under "
                          "[platform]", key);
    }
    if (strcmp(key, "name") == 0) {
        if (!*value || strlen(value) >= sizeof p->name || strpbrk(value, "/ \t"))
            return bench_fail(e, BENCH_ERR_INPUT, "name: '%s' is not a valid name (1..%zu "
                              "characters, no '/' or spaces)", value, sizeof p->name - 1);
        snprintf(p->name, sizeof p->name, "%s", value);
        pp->seen_name = true;
    } else if (strcmp(key, "description") == 0) {
        snprintf(p->description, sizeof p->description, "%s", value);
    } else if (strcmp(key, "cores") == 0) {
        if (!parse_int(value, 0, PLATFORM_MAX_CORES, &p->cores))
            return bench_fail(e, BENCH_ERR_INPUT, "cores: '%s' is not a whole number in 0..%d "
                              "(0 = every core of the host)", value, PLATFORM_MAX_CORES);
    } else if (strcmp(key, "threads") == 0) {
        if (!parse_int(value, 0, PIN_MAX_WORKERS, &p->threads))
            return bench_fail(e, BENCH_ERR_INPUT, "threads: '%s' is not a whole number in 0..%d "
                              "(0 = one per core)", value, PIN_MAX_WORKERS);
    } else if (strcmp(key, "binding") == 0) {
        if (pin_binding_parse(value, &p->binding) != 0)
            return bench_fail(e, BENCH_ERR_INPUT, "binding: '%s' is not a binding; valid: core, "
                              "pu, none", value);
    } else {
        return bench_fail(e, BENCH_ERR_INPUT, "unknown key '%s' in [platform]; valid keys: %s",
                          key, platform_keys);
    }
    return BENCH_OK;
}

/* The stem of path: "platforms/desktop.ini" -> "desktop". */
static void file_stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strlen(b);
    if (len > 4 && strcmp(b + len - 4, ".ini") == 0)
        len -= 4;
    if (len >= n)
        len = n - 1;
    memcpy(out, b, len);
    out[len] = '\0';
}

static bench_status platform_parse_any(const char *text, const char *path, platform *out,
                                       bench_error *e)
{
    memset(out, 0, sizeof *out);
    out->binding = PIN_BIND_CORE;
    snprintf(out->path, sizeof out->path, "%s", path);
    platform_parse pp = { .p = out };
    bench_status st = bench_ini_parse(path, text, platform_key, &pp, e);
    if (st != BENCH_OK)
        return st;
    if (!pp.seen_name)
        file_stem(path, out->name, sizeof out->name);
    if (out->cores > 0 && out->threads > 0 && out->binding == PIN_BIND_CORE &&
        out->threads > out->cores)
        return bench_fail(e, BENCH_ERR_INPUT, "%s: threads = %d is more than cores = %d with "
                          "binding = core (one worker per core); lower threads or use binding "
                          "= pu or none", path, out->threads, out->cores);
    return BENCH_OK;
}

bench_status platform_load(const char *path, platform *out, bench_error *e)
{
    return platform_parse_any(NULL, path, out, e);
}

bench_status platform_load_string(const char *text, const char *path, platform *out,
                                  bench_error *e)
{
    return platform_parse_any(text, path, out, e);
}

void platform_resolve(platform *p, int host_cores)
{
    if (p->cores == 0)
        p->cores = host_cores;
    if (p->threads == 0)
        p->threads = p->cores < PIN_MAX_WORKERS ? p->cores : PIN_MAX_WORKERS;
}

bench_status platform_check_fits(const platform *p, int host_cores, bench_error *e)
{
    if (p->cores <= host_cores)
        return BENCH_OK;
    return bench_fail(e, BENCH_ERR_INPUT, "platform '%s' asks for %d cores but this host has "
                      "%d; run it emulated (%d worker threads on %d cores, results marked "
                      "emulated) with EMULATE=1 (make bench) or --emulate (itera-bench run), or "
                      "pick a platform that fits (e.g. PLATFORM=host)", p->name, p->cores,
                      host_cores, p->threads, host_cores);
}

/* ---- Data folders ---- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Candidate roots, in search order; returns how many (at most 3). */
static int data_roots(char roots[3][PATH_MAX])
{
    int k = 0;
    const char *env = getenv("ITERA_BENCH_ROOT");
    if (env && *env)
        snprintf(roots[k++], PATH_MAX, "%s", env);
    snprintf(roots[k++], PATH_MAX, ".");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(roots[k++], PATH_MAX, "%.*s/..", PATH_MAX - 8, exe);
        }
    }
    return k;
}

int bench_data_dir(const char *kind, char *out, size_t n)
{
    char roots[3][PATH_MAX];
    int k = data_roots(roots);
    for (int i = 0; i < k; i++) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%.3000s/%.64s", roots[i], kind);
        if (is_dir(d)) {
            snprintf(out, n, "%s", d);
            return 0;
        }
    }
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int bench_data_list(const char *kind, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    char dir[PATH_MAX];
    if (bench_data_dir(kind, dir, sizeof dir) != 0)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[256];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".ini") == 0 && e->d_name[0] != '.')
            names[count++] = strndup(e->d_name, len - 4);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof names[0], cmp_str);
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        if (names[i] && used < n) {
            int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", names[i]);
            if (w > 0)
                used += (size_t)w;
        }
        free(names[i]);
    }
    return count;
}

bool bench_data_is_path(const char *name)
{
    size_t len = strlen(name);
    return strchr(name, '/') || (len > 4 && strcmp(name + len - 4, ".ini") == 0);
}

bench_status bench_data_find(const char *kind, const char *name, char *out, size_t n,
                             bench_error *e)
{
    if (bench_data_is_path(name)) {
        if (access(name, R_OK) != 0)
            return bench_fail(e, BENCH_ERR_INPUT, "%s: cannot open: %s", name, strerror(errno));
        snprintf(out, n, "%s", name);
        return BENCH_OK;
    }
    if (!*name)
        return bench_fail(e, BENCH_ERR_INPUT, "empty %s name", kind);
    char roots[3][PATH_MAX];
    int k = data_roots(roots);
    for (int i = 0; i < k; i++) {
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%.3000s/%.64s/%.200s.ini", roots[i], kind, name);
        if (access(p, R_OK) == 0) {
            snprintf(out, n, "%s", p);
            return BENCH_OK;
        }
    }
    char have[1024];
    int count = bench_data_list(kind, have, sizeof have);
    char dir[PATH_MAX];
    if (bench_data_dir(kind, dir, sizeof dir) != 0)
        snprintf(dir, sizeof dir, "./%s (not found; set ITERA_BENCH_ROOT to the repository)",
                 kind);
    return bench_fail(e, BENCH_ERR_INPUT, "unknown %.*s '%s' (no %s/%s.ini); valid: %s",
                      (int)strlen(kind) - 1, kind, name, dir, name, count ? have : "(none)");
}
