/*
 * textacc.c: a quant's accuracy against FP32 on a model folder's texts (textacc.h).
 */
#include "textacc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEXT_MAX_BYTES ((size_t)64 << 20) /* refuse texts larger than this */

bench_status textacc_open(textacc *ta, const char *dir, int vocab, bench_error *e)
{
    memset(ta, 0, sizeof *ta);
    if (!dir) {
        snprintf(ta->why_none, sizeof ta->why_none, "the synthetic model has no texts");
        return BENCH_OK;
    }
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (stat(path, &sb) != 0) {
        snprintf(ta->why_none, sizeof ta->why_none, "%.200s has no tokenizer.json", dir);
        return BENCH_OK;
    }
    const char *names[] = TEXTACC_NAMES;
    itera_tokenizer *tok = NULL;
    itera_error ie = {{0}};
    if (itera_tokenizer_load(path, &tok, &ie) != ITERA_OK)
        return bench_fail(e, BENCH_ERR_INPUT, "text accuracy: %s", ie.msg);
    bench_status st = BENCH_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && st == BENCH_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &sb) != 0) continue;
        char *text = NULL;
        size_t len = 0;
        if (itera_read_file(path, TEXT_MAX_BYTES, &text, &len, &ie) != ITERA_OK ||
            itera_check_text(path, text, len, &ie) != ITERA_OK) {
            free(text);
            st = bench_fail(e, BENCH_ERR_INPUT, "text accuracy: %s", ie.msg);
            break;
        }
        textacc_text *t = &ta->t[ta->count];
        const int words = itera_tokenize(tok, text, NULL, 0);
        t->ids = words >= 2 ? malloc((size_t)words * sizeof *t->ids) : NULL;
        if (words >= 2 && !t->ids) {
            free(text);
            st = bench_fail(e, BENCH_ERR_NOMEM, "text accuracy: out of memory for %s", path);
            break;
        }
        if (words >= 2) itera_tokenize(tok, text, t->ids, words);
        free(text);
        for (int k = 0; k < words && st == BENCH_OK; k++)
            if (t->ids[k] >= vocab)
                st = bench_fail(e, BENCH_ERR_INPUT, "text accuracy: %s: token id %d exceeds the model's vocabulary (%d)",
                                path, t->ids[k], vocab);
        if (st != BENCH_OK || words < 2) {
            free(t->ids);
            t->ids = NULL;
            if (st == BENCH_OK) st = bench_fail(e, BENCH_ERR_INPUT, "text accuracy: %s has %d words; at least 2 are needed", path, words);
            break;
        }
        t->n = words;
        snprintf(t->file, sizeof t->file, "%s", names[i]);
        snprintf(t->name, sizeof t->name, "%.*s", (int)(strrchr(names[i], '.') - names[i]), names[i]);
        ta->count++;
    }
    itera_tokenizer_free(tok);
    if (st != BENCH_OK) textacc_free(ta);
    else if (!ta->count) snprintf(ta->why_none, sizeof ta->why_none, "%.200s holds none of its texts", dir);
    return st;
}

void textacc_free(textacc *ta)
{
    for (int i = 0; i < ta->count; i++) free(ta->t[i].ids);
    ta->count = 0;
}

bench_status textacc_run(const textacc_text *t, int L, itera_ctx *ref, itera_ctx *test, int vocab,
                         textacc_result *out, bench_error *e)
{
    itera_acc *a = NULL;
    itera_error ie = {{0}};
    itera_acc_stats s;
    itera_status st = itera_acc_create(vocab, &a, &ie);
    if (st == ITERA_OK) st = itera_acc_windows(a, ref, test, t->ids, t->n, L, 1, &ie);
    if (st == ITERA_OK) st = itera_acc_summary(a, &s, &ie);
    itera_acc_free(a);
    if (st != ITERA_OK)
        return bench_fail(e, st == ITERA_ERR_NOMEM ? BENCH_ERR_NOMEM : BENCH_ERR_FAILED, "text accuracy on %s: %s",
                          t->file, ie.msg);
    *out = (textacc_result){.positions = s.positions, .predicted = s.predicted, .ppl_fp32 = s.ppl_ref,
                            .ppl = s.ppl, .dppl = s.delta_ppl, .dppl_se = s.delta_ppl_se,
                            .kld_mean = s.kld_mean, .top1 = s.top1_agreement};
    return BENCH_OK;
}

void textacc_describe(const textacc *ta, int L, char *buf, size_t n)
{
    if (!ta->count) {
        snprintf(buf, n, "none: %s", ta->why_none);
        return;
    }
    size_t used = 0;
    for (int i = 0; i < ta->count && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s: %d tokens", i ? "; " : "", ta->t[i].file, ta->t[i].n);
    if (used < n)
        snprintf(buf + used, n - used, "; consecutive windows of %d tokens, FP32 as the base, 1 thread, "
                 "sequential scan kernel", L);
}
