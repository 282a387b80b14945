/*
 * accuracy.c: how far a model's next-token distributions are from a reference model's,
 * measured the way llama.cpp's `perplexity --kl-divergence` does (itera.h, "Accuracy").
 *
 * Per position i with reference logits a and test logits b over V tokens:
 *   p = softmax(a), q = softmax(b)                      (in double, max-shifted)
 *   KLD_i  = Σ_v p_v · (log p_v − log q_v)              (≥ 0; nats)
 *   top-1  : argmax a == argmax b                       (first index on ties)
 *   margin : a_(1) − a_(2), the reference's top-2 logit gap (near tie: < ITERA_ACC_NEAR_TIE)
 *   nll    : −log p_t and −log q_t for the next token t (positions with a target only)
 * Summaries over the n positions (np with a target):
 *   perplexity PPL = exp(mean nll); its standard error by the delta method,
 *     se(PPL) = PPL · sd(nll) / √np                     (sd with np − 1)
 *   ΔPPL = PPL_test − PPL_ref, paired:
 *     var = (PPL_t² var_t + PPL_r² var_r − 2 PPL_t PPL_r cov_tr) / np
 *   mean KLD ± 1.96 · sd(KLD) / √n (the 95% interval of the mean, normal approximation)
 *   KLD percentiles: linear interpolation between order statistics (numpy's default:
 *     x_(⌊h⌋) + (h − ⌊h⌋)(x_(⌊h⌋+1) − x_(⌊h⌋)), h = (n − 1) · P/100 over the sorted x)
 *   top-1 agreement and its binomial standard error √(p(1 − p)/n)
 * A statistic that needs more positions than there are (an sd of one value) is NaN.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "itera.h"

typedef struct acc_pos {
    double kld;
    double nll_ref, nll_test; /* NaN: no target at this position */
} acc_pos;

struct itera_acc {
    int V;
    size_t n, cap;
    acc_pos *pos;
    size_t agree, near_tie, with_target;
    double max_abs_err;
};

itera_status itera_acc_create(int vocab, itera_acc **out, itera_error *err)
{
    *out = NULL;
    if (vocab < 2) return itera_fail(err, ITERA_ERR_ARG, "accuracy: vocabulary of %d tokens (need at least 2)", vocab);
    itera_acc *a = calloc(1, sizeof *a);
    if (!a) return itera_fail(err, ITERA_ERR_NOMEM, "accuracy: out of memory");
    a->V = vocab;
    *out = a;
    return ITERA_OK;
}

void itera_acc_free(itera_acc *a)
{
    if (!a) return;
    free(a->pos);
    free(a);
}

itera_status itera_acc_add(itera_acc *a, const float *ref, const float *test,
                           const int32_t *targets, size_t rows, itera_error *err)
{
    const int V = a->V;
    for (size_t r = 0; targets && r < rows; r++)
        if (targets[r] >= V || targets[r] < -1)
            return itera_fail(err, ITERA_ERR_ARG,
                              "accuracy: target %d of row %zu is outside the vocabulary (0..%d, or -1: none)",
                              (int)targets[r], r, V - 1);
    if (a->n + rows > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->n + rows) cap *= 2;
        acc_pos *p = realloc(a->pos, cap * sizeof *p);
        if (!p) return itera_fail(err, ITERA_ERR_NOMEM, "accuracy: out of memory for %zu positions", cap);
        a->pos = p;
        a->cap = cap;
    }
    for (size_t r = 0; r < rows; r++) {
        const float *x = ref + r * (size_t)V, *y = test + r * (size_t)V;
        const int t = targets ? targets[r] : -1;
        int ax = 0, ay = 0, second = -1;
        for (int v = 1; v < V; v++) {
            if (x[v] > x[ax]) second = ax, ax = v;
            else if (second < 0 || x[v] > x[second]) second = v;
            if (y[v] > y[ay]) ay = v;
        }
        /* KLD = Σ p (log p − log q) = Σ p (x − y) − (lse(x) − lse(y)), since Σ p = 1 */
        const double mx = x[ax], my = y[ay];
        double sx = 0, sy = 0, pd = 0;
        for (int v = 0; v < V; v++) {
            const double ex = exp((double)x[v] - mx), d = (double)x[v] - (double)y[v];
            sx += ex;
            sy += exp((double)y[v] - my);
            pd += ex * d;
            const double ad = fabs(d);
            if (!(ad <= a->max_abs_err)) a->max_abs_err = isnan(ad) ? INFINITY : ad;
        }
        const double lx = mx + log(sx), ly = my + log(sy);
        acc_pos *p = &a->pos[a->n++];
        p->kld = pd / sx - (lx - ly);
        p->nll_ref = p->nll_test = NAN;
        if (t >= 0) {
            p->nll_ref = lx - (double)x[t];
            p->nll_test = ly - (double)y[t];
            a->with_target++;
        }
        a->agree += ax == ay;
        a->near_tie += (double)x[ax] - (double)x[second] < ITERA_ACC_NEAR_TIE;
    }
    return ITERA_OK;
}

static int cmp_double(const void *pa, const void *pb)
{
    const double x = *(const double *)pa, y = *(const double *)pb;
    return (x > y) - (x < y);
}

/* P-th percentile of sorted x[n] (numpy's linear interpolation). */
static double percentile(const double *x, size_t n, double P)
{
    if (n == 0) return NAN;
    const double h = (double)(n - 1) * P / 100.0;
    const size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

itera_status itera_acc_summary(const itera_acc *a, itera_acc_stats *s, itera_error *err)
{
    memset(s, 0, sizeof *s);
    const size_t n = a->n, np = a->with_target;
    s->positions = n;
    s->predicted = np;
    s->max_abs_logit_err = a->max_abs_err;
    s->top1_agreement = n ? (double)a->agree / (double)n : NAN;
    s->top1_se = n ? sqrt(s->top1_agreement * (1 - s->top1_agreement) / (double)n) : NAN;
    s->near_tie_share = n ? (double)a->near_tie / (double)n : NAN;

    double *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) return itera_fail(err, ITERA_ERR_NOMEM, "accuracy: out of memory for %zu positions", n);
    double ksum = 0;
    for (size_t i = 0; i < n; i++) ksum += k[i] = a->pos[i].kld;
    const double kmean = n ? ksum / (double)n : NAN;
    double kvar = 0;
    for (size_t i = 0; i < n; i++) kvar += (k[i] - kmean) * (k[i] - kmean);
    kvar = n > 1 ? kvar / (double)(n - 1) : NAN;
    const double kse = sqrt(kvar / (double)n);
    s->kld_mean = kmean;
    s->kld_lo95 = kmean - 1.96 * kse;
    s->kld_hi95 = kmean + 1.96 * kse;
    qsort(k, n, sizeof *k, cmp_double);
    s->kld_p99 = percentile(k, n, 99.0);
    s->kld_p999 = percentile(k, n, 99.9);
    s->kld_max = n ? k[n - 1] : NAN;
    free(k);

    /* perplexities: two passes over the positions with a target */
    double mr = 0, mt = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(a->pos[i].nll_ref)) mr += a->pos[i].nll_ref, mt += a->pos[i].nll_test;
    mr = np ? mr / (double)np : NAN;
    mt = np ? mt / (double)np : NAN;
    double vr = 0, vt = 0, cov = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(a->pos[i].nll_ref)) {
            const double dr = a->pos[i].nll_ref - mr, dt = a->pos[i].nll_test - mt;
            vr += dr * dr, vt += dt * dt, cov += dr * dt;
        }
    if (np > 1) vr /= (double)(np - 1), vt /= (double)(np - 1), cov /= (double)(np - 1);
    else vr = vt = cov = NAN;
    s->ppl_ref = exp(mr);
    s->ppl = exp(mt);
    s->ppl_ref_se = s->ppl_ref * sqrt(vr / (double)np);
    s->ppl_se = s->ppl * sqrt(vt / (double)np);
    s->delta_ppl = s->ppl - s->ppl_ref;
    const double dv = (s->ppl * s->ppl * vt + s->ppl_ref * s->ppl_ref * vr -
                       2 * s->ppl * s->ppl_ref * cov) / (double)np;
    s->delta_ppl_se = isnan(dv) ? NAN : sqrt(dv > 0 ? dv : 0);
    return ITERA_OK;
}

itera_status itera_acc_windows(itera_acc *a, itera_ctx *ref, itera_ctx *test, const int32_t *ids, int n,
                               int L, int B, itera_error *err)
{
    if (n < 0 || L < 2 || B < 1)
        return itera_fail(err, ITERA_ERR_ARG, "accuracy windows: %d tokens in windows of %d, %d at a time (need L >= 2, B >= 1)", n, L, B);
    const size_t rows = (size_t)B * (size_t)L;
    float *lr = malloc(rows * (size_t)a->V * sizeof(float)), *lt = malloc(rows * (size_t)a->V * sizeof(float));
    int32_t *tg = malloc(rows * sizeof *tg);
    itera_status st = lr && lt && tg ? ITERA_OK : itera_fail(err, ITERA_ERR_NOMEM, "accuracy windows: out of memory");
    const int full = n / L, rem = n % L;
    /* full windows B at a time, then the shorter last one (w == full) alone */
    for (int w = 0; st == ITERA_OK && (w < full || (w == full && rem >= 2));) {
        const int Bn = w == full ? 1 : (full - w < B ? full - w : B), Ln = w == full ? rem : L;
        const int32_t *win = ids + (size_t)w * L;
        for (int b = 0; b < Bn; b++)
            for (int l = 0; l < Ln; l++) tg[(size_t)b * Ln + l] = l + 1 < Ln ? win[(size_t)b * Ln + l + 1] : -1;
        st = itera_forward(ref, win, Bn, Ln, lr, err);
        if (st == ITERA_OK) st = itera_forward(test, win, Bn, Ln, lt, err);
        if (st == ITERA_OK) st = itera_acc_add(a, lr, lt, tg, (size_t)Bn * Ln, err);
        if (w == full) break;
        w += Bn;
    }
    free(lr);
    free(lt);
    free(tg);
    return st;
}
