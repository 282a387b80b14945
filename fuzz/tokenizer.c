/* fuzz/tokenizer.c: tokenizer.json, a NUL, then a text: the JSON parsed as
 * itera_tokenizer_load does, the text checked as `itera perplexity --text` does (UTF-8,
 * no NUL) and, when both are accepted, tokenized and every id turned back to text. The
 * text is also tokenized with the synthetic tokenizer. */
#include "fuzz.h"
#include "tokenizer.h"

static void tokenize(const itera_tokenizer *t, const char *text)
{
    int32_t ids[64];
    int n = itera_tokenize(t, text, ids, 64);
    if (n < 0) abort();
    for (int i = 0; i < n && i < 64; i++) {
        const char *w = itera_token_text(t, ids[i]);
        if (!w) abort();
    }
    itera_token_text(t, -1);
    itera_token_text(t, itera_tokenizer_vocab(t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data, size, &n1, &rest, &n2);
    itera_error err;
    char *text = fuzz_dup(rest, n2);
    if (!text) return 0;
    bool text_ok = itera_check_text("fuzz.txt", text, n2, &err) == ITERA_OK;
    static itera_tokenizer *synth;
    if (!synth && itera_tokenizer_synthetic(2000, &synth, &err) != ITERA_OK) abort();
    if (text_ok) tokenize(synth, text);
    json_error_t je;
    json_t *root = json_loadb((const char *)data, n1, JSON_REJECT_DUPLICATES, &je);
    if (root) {
        itera_tokenizer *t;
        if (tokenizer_from_json(root, "fuzz/tokenizer.json", &t, &err) == ITERA_OK) {
            if (text_ok) tokenize(t, text);
            itera_tokenizer_free(t);
        }
        json_decref(root);
    }
    free(text);
    return 0;
}
