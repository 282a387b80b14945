/*
 * scan_avx512.c: AVX-512 inner loops of the scan kernels (scan_simd.h). Call only when
 * itera_isa_has(ITERA_ISA_AVX512). Vectors run over 16 state values (the recurrence, B·u)
 * or 16 channels (C·h, D⊙u); partial vectors at the ends use masks. exp16 and the masks
 * are simd_avx512.h's (the same exp as vmath_avx512.c).
 */
#include "matmul.h"
#include "scan_simd.h"
#include "simd_avx512.h"

/* y = x · (Bm panel group)ᵀ for panels [q, q+NP) of a panel-form weight with n_in = K:
 * acc[j] = Σ_k x[k] · w[(q+j)·K·16 + k·16 + 0..15]. Two k-interleaved chains per panel. */
AI void panel_dot(const float *restrict x, const float *restrict w, int K, __m512 *out, const int NP)
{
    __m512 a0[4], a1[4];
    for (int j = 0; j < NP; j++) a0[j] = a1[j] = _mm512_setzero_ps();
    const size_t ps = (size_t)K * 16;
    int k = 0;
    for (; k + 2 <= K; k += 2) {
        const __m512 x0 = _mm512_set1_ps(x[k]), x1 = _mm512_set1_ps(x[k + 1]);
        for (int j = 0; j < NP; j++) {
            a0[j] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(w + j * ps + (size_t)k * 16), a0[j]);
            a1[j] = _mm512_fmadd_ps(x1, _mm512_loadu_ps(w + j * ps + (size_t)(k + 1) * 16), a1[j]);
        }
    }
    if (k < K) {
        const __m512 x0 = _mm512_set1_ps(x[k]);
        for (int j = 0; j < NP; j++)
            a0[j] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(w + j * ps + (size_t)k * 16), a0[j]);
    }
    for (int j = 0; j < NP; j++) out[j] = _mm512_add_ps(a0[j], a1[j]);
}

/* out[0 .. P·16) = x[0..K) · panelsᵀ, P panels, in groups of 4. */
AI void panels_all(const float *restrict x, const float *restrict w, int K, int P, float *restrict out)
{
    const size_t ps = (size_t)K * 16;
    int q = 0;
    __m512 r[4];
    for (; q + 4 <= P; q += 4) {
        panel_dot(x, w + q * ps, K, r, 4);
        for (int j = 0; j < 4; j++) _mm512_store_ps(out + (q + j) * 16, r[j]);
    }
    for (; q + 2 <= P; q += 2) {
        panel_dot(x, w + q * ps, K, r, 2);
        for (int j = 0; j < 2; j++) _mm512_store_ps(out + (q + j) * 16, r[j]);
    }
    for (; q < P; q++) {
        panel_dot(x, w + q * ps, K, r, 1);
        _mm512_store_ps(out + q * 16, r[0]);
    }
}

AI void seq_row_impl(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                     float *h, float *y, int ldy, float *work, zone_acc *acc, const bool timed)
{
    const int E = p->E, N = p->N, PN = (N + 15) / 16, PE = (E + 15) / 16;
    float *hb = work, *bu = work + PN * 16; /* padded h and B·u */
    const float *Bw = p->Bl->w, *Cw = p->Cl->w;
    for (int q = 0; q < PN; q++) {
        const __mmask16 m = tail_mask16(N - q * 16);
        _mm512_store_ps(hb + q * 16, _mm512_maskz_loadu_ps(m, h + q * 16));
    }
    uint64_t t = 0;
    for (int l = 0; l < L; l++) {
        const float *ul = u + (size_t)l * ldu;
        float *yl = y + (size_t)l * ldy;
        const bool tt = timed && l % SEQ_SAMPLE == 0; /* a sampled token */
        if (tt) t = zone_ticks();
        /* input projection: bu = Bm · u[l] (panels of Bl: 16 state values each) */
        panels_all(ul, Bw, E, PN, bu);
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_INPUT], t1 - t);
            t = t1;
        }
        /* state transition: h = exp(Δ·A) ⊙ h + Δ·bu (padding lanes: A = 0, bu = 0 -> 0) */
        const __m512 d = _mm512_set1_ps(delta[l]);
        for (int q = 0; q < PN; q++) {
            const __mmask16 m = tail_mask16(N - q * 16);
            const __m512 a = exp16(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, p->A + q * 16)));
            const __m512 hv = _mm512_fmadd_ps(a, _mm512_load_ps(hb + q * 16),
                                              _mm512_mul_ps(d, _mm512_load_ps(bu + q * 16)));
            _mm512_store_ps(hb + q * 16, hv);
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
            __m512 r[4];
            for (; q + 4 <= PE; q += 4) {
                panel_dot(hb, Cw + q * ps, N, r, 4);
                for (int j = 0; j < 4; j++)
                    _mm512_mask_storeu_ps(yl + (q + j) * 16, tail_mask16(E - (q + j) * 16), r[j]);
            }
            for (; q < PE; q++) {
                panel_dot(hb, Cw + q * ps, N, r, 1);
                _mm512_mask_storeu_ps(yl + q * 16, tail_mask16(E - q * 16), r[0]);
            }
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_OUTPUT], t1 - t);
            t = t1;
        }
        /* skip connection: y[l] += D ⊙ u[l] */
        for (int q = 0; q < PE; q++) {
            const __mmask16 m = tail_mask16(E - q * 16);
            const __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p->D + q * 16),
                                             _mm512_maskz_loadu_ps(m, ul + q * 16),
                                             _mm512_maskz_loadu_ps(m, yl + q * 16));
            _mm512_mask_storeu_ps(yl + q * 16, m, v);
        }
        if (tt) {
            uint64_t t1 = zone_ticks();
            zone_acc_add(&acc[SEQ_T_SKIP], t1 - t);
            t = t1;
        }
    }
    for (int q = 0; q < PN; q++)
        _mm512_mask_storeu_ps(h + q * 16, tail_mask16(N - q * 16), _mm512_load_ps(hb + q * 16));
}

static void seq_row(const scan_params *p, const float *u, int ldu, const float *delta, int L,
                    float *h, float *y, int ldy, float *work, zone_acc *acc)
{
    if (acc) seq_row_impl(p, u, ldu, delta, L, h, y, ldy, work, acc, true);
    else seq_row_impl(p, u, ldu, delta, L, h, y, ldy, work, NULL, false);
}

/* One 16-lane slice of the state at a time: the lanes are independent (the transition
 * is diagonal), so the only serial chain per token is one FMA; the exps pipeline. */
static void recur(const float *A, int N, const float *delta, int n, float *H, int ldh, float *h)
{
    for (int q = 0; q * 16 < N; q++) {
        const __mmask16 m = tail_mask16(N - q * 16);
        const __m512 a = _mm512_maskz_loadu_ps(m, A + q * 16);
        __m512 hv = _mm512_maskz_loadu_ps(m, h + q * 16);
        float *Hq = H + q * 16;
        for (int l = 0; l < n; l++) {
            const __m512 d = _mm512_set1_ps(delta[l]);
            float *row = Hq + (size_t)l * ldh;
            const __m512 bu = _mm512_maskz_loadu_ps(m, row);
            hv = _mm512_fmadd_ps(exp16(_mm512_mul_ps(d, a)), hv, _mm512_mul_ps(d, bu));
            _mm512_mask_storeu_ps(row, m, hv);
        }
        _mm512_mask_storeu_ps(h + q * 16, m, hv);
    }
}

static void fixup(const float *A, int N, const float *S, int n, float *H, int ldh, const float *hin)
{
    for (int q = 0; q * 16 < N; q++) {
        const __mmask16 m = tail_mask16(N - q * 16);
        const __m512 a = _mm512_maskz_loadu_ps(m, A + q * 16);
        const __m512 hv = _mm512_maskz_loadu_ps(m, hin + q * 16);
        float *Hq = H + q * 16;
        for (int j = 0; j < n; j++) {
            float *row = Hq + (size_t)j * ldh;
            const __m512 dec = exp16(_mm512_mul_ps(_mm512_set1_ps(S[j]), a));
            _mm512_mask_storeu_ps(row, m, _mm512_fmadd_ps(dec, hv, _mm512_maskz_loadu_ps(m, row)));
        }
    }
}

static void skip(const float *D, int E, const float *u, int ldu, int n, float *y, int ldy)
{
    for (int r = 0; r < n; r++) {
        const float *ur = u + (size_t)r * ldu;
        float *yr = y + (size_t)r * ldy;
        for (int q = 0; q * 16 < E; q++) {
            const __mmask16 m = tail_mask16(E - q * 16);
            const __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, D + q * 16),
                                             _mm512_maskz_loadu_ps(m, ur + q * 16),
                                             _mm512_maskz_loadu_ps(m, yr + q * 16));
            _mm512_mask_storeu_ps(yr + q * 16, m, v);
        }
    }
}

const scan_simd scan_simd_avx512 = {
    .v = {ITERA_ISA_AVX512, "avx512"},
    .seq_row = seq_row,
    .recur = recur,
    .fixup = fixup,
    .skip_add = skip,
};
