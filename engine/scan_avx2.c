/*
 * scan_avx2.c: AVX2 + FMA inner loops of the scan kernels (scan_simd.h). Call only when
 * itera_isa_has(ITERA_ISA_AVX2). The panels of Bl and Cl are 16 wide (matmul.h), so a
 * panel is two vectors of 8 ("halves"); a panel whose upper half is all padding (N <= 8
 * state values: the reference model's N = 8) skips it. Partial vectors at the ends use
 * vmaskmov masks. exp8 and tail_mask8 are simd_avx2.h's (the same exp as vmath_avx2.c).
 * Sums run in another order than the scalar reference's (k split into 4 chains), so
 * results agree with it to rounding, as the AVX-512 table's do.
 */
#include "matmul.h"
#include "scan_simd.h"
#include "simd_avx2.h"

/* out[h] = Σ_k x[k] · w[k·16 + 8h + 0..7] for halves h < NH of one panel (K rows of 16):
 * 4 k-interleaved chains per half (B·u has K = E = 128 and a single panel per 16 states). */
AI void panel_dot1(const float *restrict x, const float *restrict w, int K, const int NH, __m256 out[2])
{
    __m256 a[2][4];
    for (int h = 0; h < NH; h++)
        for (int c = 0; c < 4; c++) a[h][c] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 4 <= K; k += 4)
        for (int c = 0; c < 4; c++) {
            const __m256 xv = _mm256_set1_ps(x[k + c]);
            for (int h = 0; h < NH; h++)
                a[h][c] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + (size_t)(k + c) * 16 + 8 * h), a[h][c]);
        }
    for (; k < K; k++) {
        const __m256 xv = _mm256_set1_ps(x[k]);
        for (int h = 0; h < NH; h++) a[h][0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + (size_t)k * 16 + 8 * h), a[h][0]);
    }
    for (int h = 0; h < NH; h++) out[h] = _mm256_add_ps(_mm256_add_ps(a[h][0], a[h][1]), _mm256_add_ps(a[h][2], a[h][3]));
}

/* out[j][h] = Σ_k x[k] · w[j·K·16 + k·16 + 8h + 0..7] for NP panels (C·h: K = N small,
 * many panels): one chain per panel and half, 2·NP accumulators. */
AI void panel_dot_n(const float *restrict x, const float *restrict w, int K, __m256 out[][2], const int NP)
{
    __m256 a[4][2];
    for (int j = 0; j < NP; j++) a[j][0] = a[j][1] = _mm256_setzero_ps();
    const size_t ps = (size_t)K * 16;
    for (int k = 0; k < K; k++) {
        const __m256 xv = _mm256_set1_ps(x[k]);
        for (int j = 0; j < NP; j++)
            for (int h = 0; h < 2; h++)
                a[j][h] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + j * ps + (size_t)k * 16 + 8 * h), a[j][h]);
    }
    for (int j = 0; j < NP; j++) out[j][0] = a[j][0], out[j][1] = a[j][1];
}

/* y[0 .. E) = out of panel q's two halves, columns past E not written. */
AI void store_panel(float *y, int E, int q, __m256 v[2])
{
    for (int h = 0; h < 2; h++) {
        const int c0 = q * 16 + 8 * h;
        if (c0 + 8 <= E) _mm256_storeu_ps(y + c0, v[h]);
        else if (c0 < E) _mm256_maskstore_ps(y + c0, tail_mask8(E - c0), v[h]);
    }
}

/* y[0..E) += D ⊙ u[0..E) (the skip connection of one token). */
AI void skip_row(const float *D, int E, const float *u, float *y)
{
    int e = 0;
    for (; e + 8 <= E; e += 8)
        _mm256_storeu_ps(y + e, _mm256_fmadd_ps(_mm256_loadu_ps(D + e), _mm256_loadu_ps(u + e), _mm256_loadu_ps(y + e)));
    if (e < E) {
        const __m256i m = tail_mask8(E - e);
        _mm256_maskstore_ps(y + e, m, _mm256_fmadd_ps(_mm256_maskload_ps(D + e, m), _mm256_maskload_ps(u + e, m),
                                                      _mm256_maskload_ps(y + e, m)));
    }
}

AI void seq_row_impl(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                     float *h, float *y, int ldy, float *work, zone_acc *acc, const bool timed)
{
    const int E = p->E, N = p->N, PN = (N + 15) / 16, PE = (E + 15) / 16, NV = PN * 2;
    float *hb = work, *bu = work + PN * 16; /* padded h and B·u */
    const float *Bw = p->Bl->w, *Cw = p->Cl->w;
    for (int v = 0; v < NV; v++)
        _mm256_store_ps(hb + v * 8, _mm256_maskload_ps(h + v * 8, tail_mask8(N - v * 8)));
    uint64_t t = 0;
    for (int l = 0; l < L; l++) {
        const float *ul = u + (size_t)l * ldu;
        float *yl = y + (size_t)l * ldy;
        const bool tt = timed && l % SEQ_SAMPLE == 0; /* a sampled token */
        if (tt) t = zone_ticks();
        /* input projection: bu = Bm · u[l] (panels of Bl: 16 state values each) */
        for (int q = 0; q < PN; q++) {
            __m256 r[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
            if (N - q * 16 > 8) panel_dot1(ul, Bw + (size_t)q * E * 16, E, 2, r);
            else panel_dot1(ul, Bw + (size_t)q * E * 16, E, 1, r); /* upper half: padding */
            _mm256_store_ps(bu + q * 16, r[0]);
            _mm256_store_ps(bu + q * 16 + 8, r[1]);
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_INPUT], t1 - t);
            t = t1;
        }
        /* state transition: h = exp(Δ·A) ⊙ h + Δ·bu (padding lanes: A = 0, bu = 0 -> 0) */
        const __m256 d = _mm256_set1_ps(delta[l]);
        for (int v = 0; v * 8 < N; v++) {
            const __m256 a = exp8(_mm256_mul_ps(d, _mm256_maskload_ps(p->A + v * 8, tail_mask8(N - v * 8))));
            _mm256_store_ps(hb + v * 8, _mm256_fmadd_ps(a, _mm256_load_ps(hb + v * 8),
                                                        _mm256_mul_ps(d, _mm256_load_ps(bu + v * 8))));
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_STATE], t1 - t);
            t = t1;
        }
        /* output projection: y[l] = Cm · h (panels of Cl: 16 channels each) */
        {
            const size_t ps = (size_t)N * 16;
            int q = 0;
            __m256 r[4][2];
            for (; q + 4 <= PE; q += 4) {
                panel_dot_n(hb, Cw + q * ps, N, r, 4);
                for (int j = 0; j < 4; j++) store_panel(yl, E, q + j, r[j]);
            }
            for (; q < PE; q++) {
                panel_dot_n(hb, Cw + q * ps, N, r, 1);
                store_panel(yl, E, q, r[0]);
            }
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_OUTPUT], t1 - t);
            t = t1;
        }
        /* skip connection: y[l] += D ⊙ u[l] */
        skip_row(p->D, E, ul, yl);
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_SKIP], t1 - t);
            t = t1;
        }
    }
    for (int v = 0; v * 8 < N; v++) store_first8(h + v * 8, N - v * 8, _mm256_load_ps(hb + v * 8));
}

static void seq_row(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                    float *h, float *y, int ldy, float *work, zone_acc *acc)
{
    if (acc) seq_row_impl(p, u, ldu, delta, L, h, y, ldy, work, acc, true);
    else seq_row_impl(p, u, ldu, delta, L, h, y, ldy, work, NULL, false);
}

/* One 8-lane slice of the state at a time: the lanes are independent (the transition is
 * diagonal), so the only serial chain per token is one FMA; the exps pipeline. */
static void recur(const float *A, int N, const float *delta, int n, float *H, int ldh, float *h)
{
    for (int v = 0; v * 8 < N; v++) {
        const __m256i m = tail_mask8(N - v * 8);
        const __m256 a = _mm256_maskload_ps(A + v * 8, m);
        __m256 hv = _mm256_maskload_ps(h + v * 8, m);
        float *Hv = H + v * 8;
        for (int l = 0; l < n; l++) {
            const __m256 d = _mm256_set1_ps(delta[l]);
            float *row = Hv + (size_t)l * ldh;
            hv = _mm256_fmadd_ps(exp8(_mm256_mul_ps(d, a)), hv, _mm256_mul_ps(d, _mm256_maskload_ps(row, m)));
            store_first8(row, N - v * 8, hv);
        }
        store_first8(h + v * 8, N - v * 8, hv);
    }
}

static void fixup(const float *A, int N, const float *S, int n, float *H, int ldh, const float *hin)
{
    for (int v = 0; v * 8 < N; v++) {
        const __m256i m = tail_mask8(N - v * 8);
        const __m256 a = _mm256_maskload_ps(A + v * 8, m);
        const __m256 hv = _mm256_maskload_ps(hin + v * 8, m);
        float *Hv = H + v * 8;
        for (int j = 0; j < n; j++) {
            float *row = Hv + (size_t)j * ldh;
            const __m256 dec = exp8(_mm256_mul_ps(_mm256_set1_ps(S[j]), a));
            store_first8(row, N - v * 8, _mm256_fmadd_ps(dec, hv, _mm256_maskload_ps(row, m)));
        }
    }
}

static void skip(const float *D, int E, const float *u, int ldu, int n, float *y, int ldy)
{
    for (int r = 0; r < n; r++) {
        skip_row(D, E, u + (size_t)r * ldu, y + (size_t)r * ldy);
    }
}

const scan_simd scan_simd_avx2 = {
    .v = {ITERA_ISA_AVX2, "avx2"},
    .seq_row = seq_row,
    .recur = recur,
    .fixup = fixup,
    .skip_add = skip,
};
