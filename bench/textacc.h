/*
 * textacc.h: a quant's accuracy against FP32 on the plain texts of a model folder, for
 * the quantized prefill cells' results (profile key text_accuracy).
 *
 * The texts are the reference folder's TEXTACC_NAMES (wikitext2_test.txt, tinystories.txt),
 * where present beside a tokenizer.json; each is tokenized once and run in consecutive
 * windows of L tokens through an FP32 and a quantized context (itera_acc_windows, as
 * `itera accuracy --text`), giving per text: both perplexities, dppl with its standard
 * error, mean KLD and top-1 agreement (itera.h "Accuracy"). The cells record them as the
 * counters text_<stat>_<name> (schema.h MET_TEXT_PREFIX).
 */
#ifndef ITERA_TEXTACC_H
#define ITERA_TEXTACC_H

#include <stddef.h>
#include <stdint.h>

#include "itera.h"
#include "status.h"

#define TEXTACC_NAMES {"wikitext2_test.txt", "tinystories.txt"}
#define TEXTACC_MAX 2

typedef struct textacc_text {
    char name[32];   /* file stem: "wikitext2_test" (the counters' <name>) */
    char file[32];   /* "wikitext2_test.txt" */
    int32_t *ids;    /* [n] token ids */
    int n;
} textacc_text;

typedef struct textacc {
    int count;       /* texts found (0: none, or no tokenizer.json) */
    textacc_text t[TEXTACC_MAX];
    char why_none[256]; /* when count == 0: why, for the results' context */
} textacc;

typedef struct textacc_result {
    size_t positions, predicted;
    double ppl_fp32, ppl, dppl, dppl_se, kld_mean, top1;
} textacc_result;

/* Finds and tokenizes the texts of model folder dir (NULL: the synthetic model, no texts)
 * for a model of `vocab` tokens. A folder without texts or tokenizer is not an error
 * (count 0, why_none says so); an unreadable or malformed one is (BENCH_ERR_INPUT naming
 * the file). */
bench_status textacc_open(textacc *ta, const char *dir, int vocab, bench_error *e);
void textacc_free(textacc *ta);
/* Text t in windows of L through ref (FP32) and test (max_batch >= 1, max_seq >= L). */
bench_status textacc_run(const textacc_text *t, int L, itera_ctx *ref, itera_ctx *test, int vocab,
                         textacc_result *out, bench_error *e);
/* "wikitext2_test.txt: 3140 tokens; tinystories.txt: 28583 tokens; windows of 128" */
void textacc_describe(const textacc *ta, int L, char *buf, size_t n);

#endif
