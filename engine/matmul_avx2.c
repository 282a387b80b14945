/*
 * matmul_avx2.c: the AVX2 + FMA FP32 kernel over MM_NR = 16 column panels (two ymm per
 * panel row). Call only when cpu_isa_has(CPU_ISA_AVX2).
 *
 * A tile is MR rows of x by NP panels: 2·MR·NP ymm accumulators (16 ymm registers in
 * all, so 6x1, 2x2 or 1x4), per k two loads per panel and one broadcast per row.
 * Fixed-size always_inline instantiations keep the accumulators in registers. Rows are
 * processed in chunks whose slice of x fits in L1; the last panel's partial columns are
 * written with masked stores.
 */
#include "matmul.h"

#include <immintrin.h>
#include <stdint.h>

#define AI static inline __attribute__((always_inline))

enum { MR_MAX = 6, NP_MAX = 4 };

// Lanes of a partial 16-column panel: mask for ymm half h (0 or 1) with `cols` valid.
AI __m256i half_mask(int cols, int h) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * h), idx);
}

// x [MR, K] · panels [NP] -> y [MR, NP*16] (+ bias); the last panel has last_cols valid
// columns (16 when full).
AI void tile(const float *restrict x, size_t ldx, const float *restrict w, size_t pstride,
             int K, const float *restrict bias, float *restrict y, size_t ldy, int last_cols,
             const int MR, const int NP) {
    __m256 acc[MR_MAX][2 * NP_MAX];
#pragma GCC unroll 6
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int n = 0; n < 2 * NP; n++) acc[m][n] = _mm256_setzero_ps();

#pragma GCC unroll 2
    for (int k = 0; k < K; k++) {
        __m256 wv[2 * NP_MAX];
#pragma GCC unroll 8
        for (int n = 0; n < 2 * NP; n++)
            wv[n] = _mm256_loadu_ps(w + (n >> 1) * pstride + (size_t)k * 16 + (n & 1) * 8);
#pragma GCC unroll 6
        for (int m = 0; m < MR; m++) {
            const __m256 xb = _mm256_broadcast_ss(x + m * ldx + k);
#pragma GCC unroll 8
            for (int n = 0; n < 2 * NP; n++) acc[m][n] = _mm256_fmadd_ps(xb, wv[n], acc[m][n]);
        }
    }

    const int full = last_cols == 16;
    const __m256i mk0 = half_mask(last_cols, 0), mk1 = half_mask(last_cols, 1);
    __m256 bv[2 * NP_MAX];
#pragma GCC unroll 8
    for (int n = 0; n < 2 * NP; n++) {
        if (!bias)
            bv[n] = _mm256_setzero_ps();
        else if (n < 2 * NP - 2 || full)
            bv[n] = _mm256_loadu_ps(bias + n * 8);
        else
            bv[n] = _mm256_maskload_ps(bias + n * 8, (n & 1) ? mk1 : mk0);
    }
#pragma GCC unroll 6
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int n = 0; n < 2 * NP; n++) {
            const __m256 v = _mm256_add_ps(acc[m][n], bv[n]);
            float *dst = y + m * ldy + n * 8;
            if (n < 2 * NP - 2 || full)
                _mm256_storeu_ps(dst, v);
            else
                _mm256_maskstore_ps(dst, (n & 1) ? mk1 : mk0, v);
        }
}

typedef void (*tile_fn)(const float *x, size_t ldx, const float *w, size_t pstride, int K,
                        const float *bias, float *y, size_t ldy, int last_cols);

#define DEF_TILE(mr, np)                                                                      \
    static void tile_##mr##x##np(const float *x, size_t ldx, const float *w, size_t pstride, \
                                 int K, const float *bias, float *y, size_t ldy,             \
                                 int last_cols) {                                            \
        tile(x, ldx, w, pstride, K, bias, y, ldy, last_cols, mr, np);                        \
    }
DEF_TILE(1, 1) DEF_TILE(2, 1) DEF_TILE(3, 1) DEF_TILE(4, 1) DEF_TILE(5, 1) DEF_TILE(6, 1)
DEF_TILE(1, 2) DEF_TILE(2, 2)
DEF_TILE(1, 4)

// tiles[np][mr]
static const tile_fn tiles[NP_MAX + 1][MR_MAX + 1] = {
    [1] = {NULL, tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1},
    [2] = {NULL, tile_1x2, tile_2x2},
    [4] = {NULL, tile_1x4},
};
static const int mr_for_np[NP_MAX + 1] = {0, 6, 2, 0, 1};

#define L1_X_FLOATS (24 * 1024 / 4)

void mm_kernel_avx2(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                    int p0, int p1, const float *bias, float *y, int ldy) {
    if (M <= 0 || p0 >= p1 || n_in <= 0) {
        if (M > 0 && n_in <= 0) {
            for (int m = 0; m < M; m++)
                for (int n = p0 * 16; n < p1 * 16 && n < n_out; n++)
                    y[(size_t)m * ldy + n] = bias ? bias[n] : 0.0f;
        }
        return;
    }
    const size_t pstride = (size_t)n_in * 16;
    const int last_panel = mm_panels(n_out) - 1;
    const int rem = n_out - last_panel * 16;
    int mc = L1_X_FLOATS / n_in;
    if (mc < MR_MAX) mc = MR_MAX;

    for (int m0 = 0; m0 < M; m0 += mc) {
        const int mrows = M - m0 < mc ? M - m0 : mc;
        for (int p = p0; p < p1;) {
            const int left = p1 - p;
            int np = mrows == 1 ? 4 : mrows == 2 ? 2 : 1;
            while (np > left) np >>= 1;
            const int mr_max = mr_for_np[np];
            const int ntiles = (mrows + mr_max - 1) / mr_max;
            const int base = mrows / ntiles, extra = mrows % ntiles;
            const int lc = p + np - 1 == last_panel ? rem : 16;
            const float *w = wp + (size_t)p * pstride;
            const float *b = bias ? bias + p * 16 : NULL;
            int m = m0;
            for (int t = 0; t < ntiles; t++) {
                const int mr = base + (t < extra);
                tiles[np][mr](x + (size_t)m * ldx, (size_t)ldx, w, pstride, n_in, b,
                              y + (size_t)m * ldy + p * 16, (size_t)ldy, lc);
                m += mr;
            }
            p += np;
        }
    }
}
