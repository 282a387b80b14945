/*
 * tokenizer.c: the word-level tokenizer of tokenizer.json (parsed with jansson) and
 * sampling. Lookup: words sorted once, bsearch per word.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "readfile.h"
#include "tokenizer.h"

typedef struct tok_entry {
    char *word;
    int id;
} tok_entry;

struct itera_tokenizer {
    int vocab;       /* ids 0..vocab-1 */
    char **by_id;    /* [vocab] text of each id, or NULL */
    tok_entry *sorted; /* by word */
    int n;
};

void itera_tokenizer_free(itera_tokenizer *t)
{
    if (!t) return;
    for (int i = 0; t->by_id && i < t->vocab; i++) free(t->by_id[i]);
    free(t->by_id);
    free(t->sorted);
    free(t);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const tok_entry *)a)->word, ((const tok_entry *)b)->word);
}

static itera_status finish(itera_tokenizer *t, itera_error *err)
{
    t->sorted = calloc((size_t)t->vocab, sizeof *t->sorted);
    if (!t->sorted) return itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
    for (int i = 0; i < t->vocab; i++)
        if (t->by_id[i]) t->sorted[t->n++] = (tok_entry){t->by_id[i], i};
    qsort(t->sorted, (size_t)t->n, sizeof *t->sorted, cmp_entry);
    return ITERA_OK;
}

/* tokenizer.json holds a word list: anything past this is not one. */
#define TOKENIZER_MAX_BYTES (256u << 20)

itera_status itera_tokenizer_load(const char *path, itera_tokenizer **out, itera_error *err)
{
    *out = NULL;
    json_t *root;
    itera_status st = json_file_load(path, TOKENIZER_MAX_BYTES, &root, err);
    if (st != ITERA_OK) return st;
    st = tokenizer_from_json(root, path, out, err);
    json_decref(root);
    return st;
}

itera_status tokenizer_from_json(json_t *root, const char *path, itera_tokenizer **out,
                                 itera_error *err)
{
    *out = NULL;
    itera_status st = ITERA_OK;
    itera_tokenizer *t = calloc(1, sizeof *t);
    json_t *map = json_object_get(root, "token_to_id");
    json_t *vs = json_object_get(root, "vocab_size");
    if (!t) {
        st = itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
        goto out;
    }
    if (!json_is_object(map)) {
        st = itera_fail(err, ITERA_ERR_FORMAT, "%s: key 'token_to_id' missing or not an object", path);
        goto out;
    }
    int vocab = 0;
    const char *w;
    json_t *v;
    json_object_foreach(map, w, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 22)) {
            st = itera_fail(err, ITERA_ERR_FORMAT, "%s: token_to_id['%s'] must be a non-negative id", path, w);
            goto out;
        }
        if (json_integer_value(v) + 1 > vocab) vocab = (int)json_integer_value(v) + 1;
    }
    if (vs && json_is_integer(vs) && json_integer_value(vs) > vocab && json_integer_value(vs) < (1 << 22))
        vocab = (int)json_integer_value(vs);
    t->vocab = vocab;
    t->by_id = calloc((size_t)(vocab ? vocab : 1), sizeof(char *));
    if (!t->by_id) {
        st = itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
        goto out;
    }
    json_object_foreach(map, w, v)
    {
        int id = (int)json_integer_value(v);
        if (t->by_id[id]) {
            st = itera_fail(err, ITERA_ERR_FORMAT, "%s: id %d is given to two words ('%s', '%s')", path,
                            id, t->by_id[id], w);
            goto out;
        }
        if (!(t->by_id[id] = strdup(w))) {
            st = itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
            goto out;
        }
    }
    st = finish(t, err);
out:
    if (st != ITERA_OK) itera_tokenizer_free(t);
    else *out = t;
    return st;
}

itera_status itera_tokenizer_synthetic(int vocab_size, itera_tokenizer **out, itera_error *err)
{
    *out = NULL;
    if (vocab_size < 4) return itera_fail(err, ITERA_ERR_ARG, "tokenizer: vocab %d too small", vocab_size);
    itera_tokenizer *t = calloc(1, sizeof *t);
    if (!t || !(t->by_id = calloc((size_t)vocab_size, sizeof(char *)))) {
        free(t);
        return itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
    }
    t->vocab = vocab_size;
    static const char *special[4] = {"<pad>", "<unk>", "<bos>", "<eos>"};
    for (int i = 0; i < vocab_size; i++) {
        char buf[32];
        if (i < 4) snprintf(buf, sizeof buf, "%s", special[i]);
        else snprintf(buf, sizeof buf, "w%d", i);
        if (!(t->by_id[i] = strdup(buf))) {
            itera_tokenizer_free(t);
            return itera_fail(err, ITERA_ERR_NOMEM, "tokenizer: out of memory");
        }
    }
    itera_status st = finish(t, err);
    if (st != ITERA_OK) itera_tokenizer_free(t);
    else *out = t;
    return st;
}

int itera_tokenizer_vocab(const itera_tokenizer *t) { return t->vocab; }

int itera_tokenize(const itera_tokenizer *t, const char *text, int32_t *ids, int cap)
{
    int n = 0;
    char word[256];
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t len = 0;
        bool too_long = false;
        while (*p && !isspace((unsigned char)*p)) {
            if (len + 1 < sizeof word) word[len++] = (char)tolower((unsigned char)*p);
            else too_long = true;
            p++;
        }
        word[len] = 0;
        int id = ITERA_TOKEN_UNK;
        if (!too_long) {
            tok_entry key = {word, 0};
            const tok_entry *e = bsearch(&key, t->sorted, (size_t)t->n, sizeof *t->sorted, cmp_entry);
            if (e) id = e->id;
        }
        if (n < cap) ids[n] = id;
        n++;
    }
    return n;
}

const char *itera_token_text(const itera_tokenizer *t, int id)
{
    if (id < 0 || id >= t->vocab || !t->by_id[id]) return "<UNK>";
    return t->by_id[id];
}

int itera_sample(const float *logits, int V, float temperature, uint64_t *rng)
{
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    if (!(temperature > 0)) return best;
    /* splitmix64 step -> uniform in [0, 1) */
    uint64_t z = (*rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    double u = (double)(z >> 11) * (1.0 / 9007199254740992.0);
    double sum = 0, mx = logits[best];
    for (int i = 0; i < V; i++) sum += exp((logits[i] - mx) / temperature);
    double target = u * sum, acc = 0;
    for (int i = 0; i < V; i++) {
        acc += exp((logits[i] - mx) / temperature);
        if (acc > target) return i;
    }
    return best;
}
