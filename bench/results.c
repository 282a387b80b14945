/*
 * results.c: the journal (append + fsync per finished cell, read back for --resume) and
 * the final Google Benchmark JSON file (assembled in cell order, written atomically).
 */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itera.h"
#include "schema.h"

struct journal {
    int fd;
    off_t size;   /* bytes of complete lines: a failed append is cut back to this */
    bool broken;  /* an append failed and could not be cut back: no more appends */
    char path[PATH_MAX];
};

/* Writes all of buf[len] to fd (a write that makes no progress is an error: ENOSPC). */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends obj + '\n' with a single write and fsyncs; *bytes: the line's length. */
static int write_line(int fd, const json_t *obj, size_t *bytes)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    size_t len = strlen(s);
    char *line = malloc(len + 2);
    if (!line) {
        free(s);
        errno = ENOMEM;
        return -1;
    }
    memcpy(line, s, len);
    line[len] = '\n';
    free(s);
    int rc = write_all(fd, line, len + 1);
    free(line);
    if (rc == 0)
        rc = fsync(fd);
    *bytes = len + 1;
    return rc;
}

bench_status results_make_parent(const char *path, bench_error *e)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return BENCH_OK;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                return bench_fail(e, BENCH_ERR_IO, "%s: cannot create folder: %s", dir,
                                  strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return BENCH_OK;
}

/* Opens the journal for writing without following a link in its last component and
 * without blocking (a FIFO would wait for a reader), and refuses anything that is not a
 * regular file: a journal path must never truncate or write through to another file or a
 * device. create: make it if absent, and empty it. Returns the descriptor (O_APPEND), or
 * -1 with e (BENCH_ERR_IO). */
static int journal_open(const char *path, bool create, bench_error *e)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                            (create ? O_CREAT : 0),
                  0666);
    if (fd < 0) {
        if (errno == ELOOP)
            bench_fail(e, BENCH_ERR_IO, "%s: the journal is a symbolic link; refusing to write "
                       "through it", path);
        else if (errno == ENXIO)
            bench_fail(e, BENCH_ERR_IO, "%s: the journal is not a regular file (a FIFO or "
                       "socket); refusing it", path);
        else
            bench_fail(e, BENCH_ERR_IO, "%s: cannot open the journal: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    int flags = fcntl(fd, F_GETFL);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        bench_fail(e, BENCH_ERR_IO, "%s: the journal is not a regular file; refusing to write to "
                   "it", path);
        close(fd);
        return -1;
    }
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || (create && ftruncate(fd, 0) != 0)) {
        bench_fail(e, BENCH_ERR_IO, "%s: cannot open the journal: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

bench_status journal_create(const char *path, const json_t *header, journal **out,
                            bench_error *e)
{
    *out = NULL;
    bench_status st = results_make_parent(path, e);
    if (st != BENCH_OK)
        return st;
    journal *j = calloc(1, sizeof *j);
    if (!j)
        return bench_fail(e, BENCH_ERR_NOMEM, "%s: out of memory", path);
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = journal_open(path, true, e);
    if (j->fd < 0) {
        free(j);
        return BENCH_ERR_IO;
    }
    size_t bytes;
    if (write_line(j->fd, header, &bytes) != 0) {
        /* no journal rather than one without a whole header (--resume would refuse it) */
        st = bench_fail(e, BENCH_ERR_IO, "%s: cannot write the journal: %s", path,
                        strerror(errno));
        close(j->fd);
        unlink(path);
        free(j);
        return st;
    }
    j->size = (off_t)bytes;
    *out = j;
    return BENCH_OK;
}

bench_status journal_reopen(const char *path, long valid_bytes, journal **out, bench_error *e)
{
    *out = NULL;
    journal *j = calloc(1, sizeof *j);
    if (!j)
        return bench_fail(e, BENCH_ERR_NOMEM, "%s: out of memory", path);
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = journal_open(path, false, e);
    if (j->fd < 0) {
        free(j);
        return BENCH_ERR_IO;
    }
    j->size = (off_t)valid_bytes;
    if (ftruncate(j->fd, (off_t)valid_bytes) != 0 || fsync(j->fd) != 0) {
        bench_status st = bench_fail(e, BENCH_ERR_IO, "%s: cannot reopen the journal: %s", path,
                                     strerror(errno));
        if (j->fd >= 0)
            close(j->fd);
        free(j);
        return st;
    }
    *out = j;
    return BENCH_OK;
}

bench_status journal_append(journal *j, const json_t *entry, bench_error *e)
{
    if (j->broken)
        return bench_fail(e, BENCH_ERR_IO, "%s: not appended: the journal could not be repaired "
                          "after an earlier failed write", j->path);
    size_t bytes;
    if (write_line(j->fd, entry, &bytes) != 0) {
        int saved = errno;
        /* Cut the torn (or not durable) line off, so later lines follow whole ones. */
        if (ftruncate(j->fd, j->size) != 0 || fsync(j->fd) != 0)
            j->broken = true;
        return bench_fail(e, BENCH_ERR_IO, "%s: cannot append to the journal: %s", j->path,
                          strerror(saved));
    }
    j->size += (off_t)bytes;
    return BENCH_OK;
}

int journal_close(journal *j)
{
    if (!j)
        return 0;
    int rc = close(j->fd);
    free(j);
    return rc;
}

bench_status journal_read(const char *path, journal_data *out, bool *missing, bench_error *e)
{
    memset(out, 0, sizeof *out);
    if (missing)
        *missing = false;
    size_t len;
    char *buf;
    itera_error ie;
    if (itera_read_file(path, 0, &buf, &len, &ie) != ITERA_OK) {
        struct stat sb;
        if (missing)
            *missing = lstat(path, &sb) != 0 && errno == ENOENT;
        return bench_fail(e, BENCH_ERR_INPUT, "%s (reading the journal)", ie.msg);
    }
    if (len == 0) {
        /* a run killed between creating the journal and writing its header: nothing was
         * journaled, so it counts as no journal */
        free(buf);
        if (missing)
            *missing = true;
        return bench_fail(e, BENCH_ERR_INPUT, "%s: empty journal (a run killed before its header "
                          "was written)", path);
    }
    bench_status rc = journal_parse(path, buf, len, out, e);
    free(buf);
    return rc;
}

bench_status journal_parse(const char *path, const char *buf, size_t len, journal_data *out,
                           bench_error *e)
{
    memset(out, 0, sizeof *out);
    out->cells = json_object();
    const char *line = buf;
    int lineno = 0;
    while (line < buf + len) {
        const char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        if (!nl) {
            out->partial_tail = true; /* a write cut short: ignored */
            break;
        }
        lineno++;
        /* the line's bytes exactly: a NUL inside it makes it invalid, not shorter */
        json_error_t je;
        json_t *obj = json_loadb(line, (size_t)(nl - line), JSON_REJECT_DUPLICATES, &je);
        if (lineno == 1) {
            if (!obj || !json_is_object(obj) || !json_object_get(obj, RES_JOURNAL)) {
                json_decref(obj);
                journal_data_free(out);
                return bench_fail(e, BENCH_ERR_INPUT, "%s:1: not an itera-bench journal (no "
                                  "header line)", path);
            }
            out->header = obj;
        } else {
            const char *name = json_string_value(json_object_get(obj, "cell"));
            if (!obj || !json_is_object(obj) || !name ||
                !json_is_array(json_object_get(obj, "runs"))) {
                out->bad_lines++;
            } else if (json_object_get(out->cells, name)) {
                out->duplicates++;
            } else {
                json_object_set(out->cells, name, obj);
                out->entries++;
            }
            json_decref(obj);
        }
        line = nl + 1;
        out->valid_bytes = (long)(line - buf);
    }
    if (!out->header) {
        journal_data_free(out);
        return bench_fail(e, BENCH_ERR_INPUT, "%s: empty journal (no header line)", path);
    }
    return BENCH_OK;
}

void journal_data_free(journal_data *d)
{
    json_decref(d->header);
    json_decref(d->cells);
    d->header = d->cells = NULL;
}

/* A number, or null when not finite (jansson refuses NaN and infinities). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *results_run_json(const gb_run_result *r, const char *cell_name, int family_index,
                         int repetitions, const char *label)
{
    if (repetitions <= 0)
        repetitions = r->repetitions > 0 ? r->repetitions : 1;
    if (!label)
        label = r->label;
    bool agg = r->run_type && strcmp(r->run_type, "aggregate") == 0;
    json_t *o = json_object();
    if (!o)
        return NULL;
    char name[512];
    if (agg && r->aggregate_name && *r->aggregate_name)
        snprintf(name, sizeof name, "%s_%s", cell_name, r->aggregate_name);
    else
        snprintf(name, sizeof name, "%s", cell_name);
    json_object_set_new(o, ENT_NAME, json_string(name));
    json_object_set_new(o, ENT_FAMILY_INDEX, json_integer(family_index));
    json_object_set_new(o, ENT_PER_FAMILY_INSTANCE_INDEX, json_integer(0));
    json_object_set_new(o, ENT_RUN_NAME, json_string(cell_name));
    json_object_set_new(o, ENT_RUN_TYPE, json_string(agg ? "aggregate" : "iteration"));
    json_object_set_new(o, ENT_REPETITIONS, json_integer(repetitions));
    json_object_set_new(o, ENT_THREADS, json_integer(1));
    if (!agg) {
        json_object_set_new(o, ENT_REPETITION_INDEX, json_integer(r->repetition_index));
    } else {
        const char *an = r->aggregate_name ? r->aggregate_name : "";
        json_object_set_new(o, ENT_AGGREGATE_NAME, json_string(an));
        const char *unit = r->aggregate_unit && *r->aggregate_unit
                               ? r->aggregate_unit
                               : strcmp(an, "cv") == 0 ? "percentage" : "time";
        json_object_set_new(o, ENT_AGGREGATE_UNIT, json_string(unit));
    }
    if (r->error_occurred) {
        json_object_set_new(o, ENT_ERROR_OCCURRED, json_true());
        json_object_set_new(o, ENT_ERROR_MESSAGE,
                            json_string(r->error_message ? r->error_message : ""));
    }
    json_object_set_new(o, ENT_ITERATIONS, json_integer(r->iterations));
    json_object_set_new(o, MET_REAL_TIME, num(r->real_time));
    json_object_set_new(o, MET_CPU_TIME, num(r->cpu_time));
    json_object_set_new(o, ENT_TIME_UNIT, json_string(r->time_unit ? r->time_unit : "ns"));
    for (int i = 0; i < r->n_counters; i++)
        json_object_set_new(o, r->counter_names[i], num(r->counter_values[i]));
    if (label && *label)
        json_object_set_new(o, ENT_LABEL, json_string(label));
    return o;
}

json_t *results_cell_entry(const char *name, json_t *runs, json_t *op_profile)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "cell", json_string(name));
    json_object_set_new(o, "runs", runs ? json_incref(runs) : json_array());
    if (op_profile)
        json_object_set(o, "op_profile", op_profile);
    return o;
}

json_t *results_assemble(const json_t *context, const char *const *names, int n,
                         const json_t *cells, int *missing)
{
    json_t *root = json_object();
    json_t *benches = json_array();
    json_t *prof = json_object();
    int miss = 0;
    json_object_set_new(root, RES_CONTEXT, context ? json_deep_copy(context) : json_object());
    for (int i = 0; i < n; i++) {
        json_t *cell = json_object_get(cells, names[i]);
        if (!cell) {
            miss++;
            continue;
        }
        size_t k;
        json_t *run;
        json_array_foreach(json_object_get(cell, "runs"), k, run)
        {
            /* family_index follows the final order so it is unique and increasing. */
            json_t *copy = json_deep_copy(run);
            json_object_set_new(copy, ENT_FAMILY_INDEX, json_integer(i));
            json_array_append_new(benches, copy);
        }
        json_t *op = json_object_get(cell, "op_profile");
        if (op)
            json_object_set(prof, names[i], op);
    }
    json_object_set_new(root, RES_BENCHMARKS, benches);
    json_object_set_new(root, RES_OP_PROFILE, prof);
    if (missing)
        *missing = miss;
    return root;
}

bench_status results_write_atomic(const char *path, const json_t *root, bench_error *e)
{
    bench_status bst = results_make_parent(path, e);
    if (bst != BENCH_OK)
        return bst;
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (!s)
        return bench_fail(e, BENCH_ERR_IO, "%s: cannot serialise the results", path);
    itera_error ie;
    itera_file *f;
    itera_status st = itera_file_create(path, &f, &ie);
    if (st == ITERA_OK) {
        itera_file_write(f, s, strlen(s));
        itera_file_write(f, "\n", 1);
        st = itera_file_commit(f, &ie);
    }
    free(s);
    if (st != ITERA_OK)
        return bench_fail(e, BENCH_ERR_IO, "%s", ie.msg);
    return BENCH_OK;
}
