/* safetensors.c: safetensors reader and atomic writer (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

/* A header larger than this is refused (the format's own reference limit is 100 MB). */
#define ST_MAX_HEADER (100u << 20)

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

static itera_status read_file(const char *path, uint8_t **buf, size_t *size, itera_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return itera_fail(err, ITERA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return itera_fail(err, ITERA_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        fclose(fp);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, n);
    }
    if (fread(b, 1, n, fp) != n) {
        free(b);
        fclose(fp);
        return itera_fail(err, ITERA_ERR_IO, "%s: read failed", path);
    }
    fclose(fp);
    *buf = b;
    *size = n;
    return ITERA_OK;
}

static itera_status parse_entry(st_file *f, const char *key, json_t *v, const uint8_t *base,
                                size_t data_len, st_tensor *t, itera_error *err)
{
    const char *path = f->path;
    if (!json_is_object(v))
        return itera_fail(err, ITERA_ERR_FORMAT, "%s: tensor '%s': header entry is not an object",
                          path, key);
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
    size_t count = 1;
    for (int i = 0; i < t->rank; i++) {
        json_t *d = json_array_get(sh, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1ll << 40))
            return itera_fail(err, ITERA_ERR_FORMAT,
                              "%s: tensor '%s': shape[%d] is not a non-negative integer", path, key, i);
        t->shape[i] = json_integer_value(d);
        count *= (size_t)t->shape[i];
    }
    json_int_t b = json_integer_value(json_array_get(off, 0)),
               e = json_integer_value(json_array_get(off, 1));
    if (b < 0 || e < b || (size_t)e > data_len)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%lld, %lld] outside the %zu data bytes "
                          "(truncated file?)",
                          path, key, (long long)b, (long long)e, data_len);
    size_t want = count * st_dtype_size(t->dtype);
    if ((size_t)(e - b) != want)
        return itera_fail(err, ITERA_ERR_FORMAT,
                          "%s: tensor '%s': %lld data bytes, expected %zu for its dtype and shape",
                          path, key, (long long)(e - b), want);
    t->nbytes = want;
    t->data = base + b;
    t->name = strdup(key);
    if (!t->name) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    return ITERA_OK;
}

itera_status st_open(const char *path, st_file **out, itera_error *err)
{
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    }
    itera_status st = read_file(path, &f->buf, &f->size, err);
    if (st != ITERA_OK) goto fail;
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
    json_t *root = json_loadb((const char *)f->buf + 8, (size_t)hlen, 0, &je);
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
    f->meta_keys = calloc(cap ? cap : 1, sizeof(char *));
    f->meta_vals = calloc(cap ? cap : 1, sizeof(char *));
    if (!f->t || !f->meta_keys || !f->meta_vals) {
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
                if (f->n_meta >= (int)cap) break;
            }
            if (st != ITERA_OK) break;
            continue;
        }
        st = parse_entry(f, key, v, base, data_len, &f->t[f->n], err);
        if (st != ITERA_OK) break;
        f->n++;
    }
    json_decref(root);
    if (st != ITERA_OK) goto fail;
    *out = f;
    return ITERA_OK;
fail:
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
