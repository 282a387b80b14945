/* safetensors.c: safetensors reader and atomic writer (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

/* A header larger than this is refused (the reference implementation's MAX_HEADER_SIZE). */
#define ST_MAX_HEADER 100000000u

static const struct {
    const char *name;
    size_t size;
} st_dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
    {"I16", 2}, {"I8", 1},  {"U8", 1},  {"U16", 2},  {"U32", 4}, {"U64", 8}, {"BOOL", 1},
};

size_t st_dtype_size(const char *dtype)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dtype, st_dtypes[i].name) == 0) return st_dtypes[i].size;
    return 0;
}

void st_describe(const st_tensor *t, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "%s [", t->dtype);
    for (int i = 0; i < t->rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
}

void st_close(st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->t);
    free(f->buf);
    free(f->path);
    free(f);
}

/* Checked element count and byte size of a shape; false on overflow of size_t. */
static bool shape_bytes(const int64_t *shape, int rank, size_t elem, size_t *count, size_t *bytes)
{
    size_t c = 1;
    for (int i = 0; i < rank; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(c, (size_t)shape[i], &c)) return false;
    *count = c;
    return !__builtin_mul_overflow(c, elem, bytes);
}

/* One header entry: its keys, dtype, shape and offsets, checked one by one. The offsets
 * are checked against each other and the data size in check_tiling. */
static itera_status parse_entry(st_file *f, const char *key, json_t *v, const uint8_t *base,
                                size_t data_len, st_tensor *t, size_t *begin, itera_error *err)
{
    const char *path = f->path;
    if (!json_is_object(v))
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: tensor '%s': header entry is not an object",
                          path, key);
    const char *k;
    json_t *unused;
    json_object_foreach(v, k, unused)
    {
        if (strcmp(k, "dtype") != 0 && strcmp(k, "shape") != 0 && strcmp(k, "data_offsets") != 0)
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s: tensor '%s': unknown key '%s' (expected dtype, shape, data_offsets)",
                              path, key, k);
    }
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !st_dtype_size(json_string_value(dt)))
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': dtype missing or unknown (expected F32, I32, U8, ...)",
                          path, key);
    if (!json_is_array(sh) || json_array_size(sh) > ST_MAX_RANK)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': shape missing or not an array of at most %d sizes", path,
                          key, ST_MAX_RANK);
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        !json_is_integer(json_array_get(off, 0)) || !json_is_integer(json_array_get(off, 1)))
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets missing (expected [begin, end])", path, key);
    snprintf(t->dtype, sizeof t->dtype, "%s", json_string_value(dt));
    t->rank = (int)json_array_size(sh);
    for (int i = 0; i < t->rank; i++) {
        json_t *d = json_array_get(sh, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s: tensor '%s': shape[%d] is not a non-negative integer", path, key, i);
        t->shape[i] = json_integer_value(d);
    }
    char desc[160];
    st_describe(t, desc, sizeof desc);
    size_t count, want;
    if (!shape_bytes(t->shape, t->rank, st_dtype_size(t->dtype), &count, &want))
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': %s: element count or byte size overflows", path, key, desc);
    json_int_t b = json_integer_value(json_array_get(off, 0)),
               e = json_integer_value(json_array_get(off, 1));
    if (b < 0 || e < b || (uint64_t)e > data_len)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%lld, %lld] outside the %zu data bytes "
                          "(truncated file?)",
                          path, key, (long long)b, (long long)e, data_len);
    if ((uint64_t)(e - b) != want)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': %lld data bytes, expected %zu for %s", path, key,
                          (long long)(e - b), want, desc);
    t->nbytes = want;
    t->data = base + b;
    *begin = (size_t)b;
    t->name = strdup(key);
    if (!t->name) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    return ITERA_OK;
}

typedef struct st_span {
    size_t begin, end;
    int index;
} st_span;

static int cmp_span(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index - y->index;
}

/* The safetensors rule (the reference implementation's Metadata::validate and
 * MetadataIncompleteBuffer): sorted by offset, the tensors tile the data buffer exactly,
 * from 0 to its last byte: no overlap, no gap, nothing after the last tensor. */
static itera_status check_tiling(const st_file *f, const size_t *begins, size_t data_len,
                                 itera_error *err)
{
    st_span *sp = malloc((size_t)(f->n ? f->n : 1) * sizeof *sp);
    if (!sp) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", f->path);
    for (int i = 0; i < f->n; i++) sp[i] = (st_span){begins[i], begins[i] + f->t[i].nbytes, i};
    qsort(sp, (size_t)f->n, sizeof *sp, cmp_span);
    size_t at = 0;
    itera_status st = ITERA_OK;
    for (int i = 0; i < f->n && st == ITERA_OK; i++) {
        const st_tensor *t = &f->t[sp[i].index];
        if (sp[i].begin < at)
            st = itera_fail(err, ITERA_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%zu, %zu] overlap tensor '%s' (which ends at %zu)",
                            f->path, t->name, sp[i].begin, sp[i].end, f->t[sp[i - 1].index].name, at);
        else if (sp[i].begin > at)
            st = itera_fail(err, ITERA_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%zu, %zu] leave a gap of %zu bytes after "
                            "offset %zu (tensors must tile the data exactly)",
                            f->path, t->name, sp[i].begin, sp[i].end, sp[i].begin - at, at);
        at = sp[i].end;
    }
    if (st == ITERA_OK && at != data_len)
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: %zu bytes after the last tensor's data (the data section is %zu bytes, "
                        "its tensors cover %zu)",
                        f->path, data_len - at, data_len, at);
    free(sp);
    return st;
}

itera_status st_open(const char *path, st_file **out, itera_error *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    itera_status st = itera_read_file(path, 0, &buf, &len, err);
    if (st != ITERA_OK) return st;
    return st_open_buffer(path, (uint8_t *)buf, len, out, err);
}

itera_status st_open_buffer(const char *path, uint8_t *buf, size_t size, st_file **out,
                            itera_error *err)
{
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        free(buf);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    }
    f->buf = buf;
    f->size = size;
    itera_status st = ITERA_OK;
    size_t *begins = NULL;
    if (f->size < 8) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: %zu bytes, too short for a safetensors header (truncated?)", path,
                        f->size);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->buf[i];
    if (hlen > ST_MAX_HEADER || hlen > f->size - 8) {
        st = itera_fail(err, ITERA_ERR_FORMAT,
                        "%s: header length %llu exceeds the file's %zu bytes (truncated or not "
                        "safetensors)",
                        path, (unsigned long long)hlen, f->size);
        goto fail;
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)f->buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: header is not a JSON object: %s (column %d)",
                        path, root ? "not an object" : je.text, root ? 0 : je.column);
        json_decref(root);
        goto fail;
    }
    size_t data_len = f->size - 8 - (size_t)hlen;
    const uint8_t *base = f->buf + 8 + hlen;
    size_t cap = json_object_size(root);
    f->t = calloc(cap ? cap : 1, sizeof *f->t);
    begins = calloc(cap ? cap : 1, sizeof *begins);
    f->meta_keys = calloc(cap ? cap : 1, sizeof(char *));
    f->meta_vals = calloc(cap ? cap : 1, sizeof(char *));
    if (!f->t || !begins || !f->meta_keys || !f->meta_vals) {
        json_decref(root);
        st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(v)) {
                st = itera_fail(err, ITERA_ERR_FORMAT, "%s: __metadata__ is not an object", path);
                break;
            }
            size_t nm = json_object_size(v);
            char **nk = realloc(f->meta_keys, (nm ? nm : 1) * sizeof(char *)),
                 **nv = nk ? realloc(f->meta_vals, (nm ? nm : 1) * sizeof(char *)) : NULL;
            if (nk) f->meta_keys = nk;
            if (nv) f->meta_vals = nv;
            if (!nk || !nv) {
                st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv)
            {
                if (!json_is_string(mv)) {
                    st = itera_fail(err, ITERA_ERR_FORMAT,
                                    "%s: __metadata__ '%s' is not a string", path, mk);
                    break;
                }
                f->meta_keys[f->n_meta] = strdup(mk);
                f->meta_vals[f->n_meta] = strdup(json_string_value(mv));
                f->n_meta++;
                if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1]) {
                    st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
                    break;
                }
            }
            if (st != ITERA_OK) break;
            continue;
        }
        st = parse_entry(f, key, v, base, data_len, &f->t[f->n], &begins[f->n], err);
        if (st != ITERA_OK) break;
        f->n++;
    }
    json_decref(root);
    if (st == ITERA_OK) st = check_tiling(f, begins, data_len, err);
    if (st != ITERA_OK) goto fail;
    free(begins);
    *out = f;
    return ITERA_OK;
fail:
    free(begins);
    st_close(f);
    return st;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

/* ---- writer ---- */

typedef struct st_wentry {
    char *name;
    char dtype[8];
    int rank;
    int64_t shape[ST_MAX_RANK];
    const void *data;
    size_t nbytes;
} st_wentry;

struct st_writer {
    st_wentry *e;
    int n, cap;
    json_t *meta;
};

st_writer *st_writer_new(void)
{
    st_writer *w = calloc(1, sizeof *w);
    if (w && !(w->meta = json_object())) {
        free(w);
        return NULL;
    }
    return w;
}

void st_writer_free(st_writer *w)
{
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->e[i].name);
    free(w->e);
    json_decref(w->meta);
    free(w);
}

int st_writer_add(st_writer *w, const char *name, const char *dtype, int rank, const int64_t *shape,
                  const void *data, size_t nbytes)
{
    if (rank < 0 || rank > ST_MAX_RANK || !st_dtype_size(dtype)) return -1;
    if (w->n == w->cap) {
        int nc = w->cap ? 2 * w->cap : 64;
        st_wentry *ne = realloc(w->e, (size_t)nc * sizeof *ne);
        if (!ne) return -1;
        w->e = ne;
        w->cap = nc;
    }
    st_wentry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return -1;
    snprintf(e->dtype, sizeof e->dtype, "%s", dtype);
    e->rank = rank;
    for (int i = 0; i < rank; i++) e->shape[i] = shape[i];
    e->data = data;
    e->nbytes = nbytes;
    w->n++;
    return 0;
}

int st_writer_meta(st_writer *w, const char *key, const char *value)
{
    return json_object_set_new(w->meta, key, json_string(value));
}

itera_status st_write(st_writer *w, const char *path, itera_error *err)
{
    json_t *root = json_object();
    if (!root) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    if (json_object_size(w->meta)) json_object_set(root, "__metadata__", w->meta);
    size_t off = 0;
    for (int i = 0; i < w->n; i++) {
        json_t *ent = json_object(), *sh = json_array(), *of = json_array();
        json_object_set_new(ent, "dtype", json_string(w->e[i].dtype));
        for (int d = 0; d < w->e[i].rank; d++) json_array_append_new(sh, json_integer(w->e[i].shape[d]));
        json_object_set_new(ent, "shape", sh);
        json_array_append_new(of, json_integer((json_int_t)off));
        json_array_append_new(of, json_integer((json_int_t)(off + w->e[i].nbytes)));
        json_object_set_new(ent, "data_offsets", of);
        json_object_set_new(root, w->e[i].name, ent);
        off += w->e[i].nbytes;
    }
    char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!hdr) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    size_t hl = strlen(hdr), pad = (8 - hl % 8) % 8; /* data starts 8-aligned */
    itera_file *f;
    itera_status st = itera_file_create(path, &f, err);
    if (st != ITERA_OK) {
        free(hdr);
        return st;
    }
    uint8_t len8[8];
    uint64_t total = hl + pad;
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)(total >> (8 * i));
    itera_file_write(f, len8, 8);
    itera_file_write(f, hdr, hl);
    itera_file_write(f, "        ", pad);
    free(hdr);
    for (int i = 0; i < w->n; i++) itera_file_write(f, w->e[i].data, w->e[i].nbytes);
    st = itera_file_commit(f, err);
    return st;
}

/* ---- the public reader (itera.h) ---- */

struct itera_tensors {
    st_file *st;
    itera_tensor_view *views; /* [st->n], pointing into st */
};

static itera_status tensors_wrap(const char *path, st_file *st, itera_tensors **out, itera_error *err);

itera_status itera_tensors_open(const char *path, itera_tensors **out, itera_error *err)
{
    *out = NULL;
    st_file *st;
    itera_status rc = st_open(path, &st, err);
    if (rc != ITERA_OK) return rc;
    return tensors_wrap(path, st, out, err);
}

itera_status tensors_open_buffer(const char *path, uint8_t *buf, size_t size, itera_tensors **out,
                                 itera_error *err)
{
    *out = NULL;
    st_file *st;
    itera_status rc = st_open_buffer(path, buf, size, &st, err);
    if (rc != ITERA_OK) return rc;
    return tensors_wrap(path, st, out, err);
}

/* The public view of an opened file (takes st over). */
static itera_status tensors_wrap(const char *path, st_file *st, itera_tensors **out, itera_error *err)
{
    itera_tensors *f = calloc(1, sizeof *f);
    if (f) f->views = calloc((size_t)(st->n > 0 ? st->n : 1), sizeof *f->views);
    if (!f || !f->views) {
        free(f);
        st_close(st);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    }
    f->st = st;
    for (int i = 0; i < st->n; i++) {
        const st_tensor *t = &st->t[i];
        f->views[i] = (itera_tensor_view){.name = t->name, .dtype = t->dtype, .rank = t->rank, .shape = t->shape,
                                          .data = t->data, .nbytes = t->nbytes};
    }
    *out = f;
    return ITERA_OK;
}

const itera_tensor_view *itera_tensors_find(const itera_tensors *f, const char *name)
{
    for (int i = 0; f && i < f->st->n; i++)
        if (strcmp(f->views[i].name, name) == 0) return &f->views[i];
    return NULL;
}

void itera_tensors_close(itera_tensors *f)
{
    if (!f) return;
    st_close(f->st);
    free(f->views);
    free(f);
}
