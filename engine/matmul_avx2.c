/*
 * matmul_avx2.c: the AVX2 + FMA FP32 kernel over MM_NR = 16 column panels (two ymm per
 * panel row). Call only when itera_isa_has(ITERA_ISA_AVX2).
 *
 * A tile is MR rows of x by NP panels: 2·MR·NP ymm accumulators (16 ymm registers in
 * all, so 6x1, 2x2 or 1x4), per k two loads per panel and one broadcast per row.
 * Fixed-size always_inline instantiations keep the accumulators in registers; the last
 * panel's partial columns are written with masked stores. mm_drive (matmul.c) walks the
 * rows and panels with these tiles.
 */
#include "matmul.h"

#include <limits.h>

#include "simd_avx2.h"

enum { MR_MAX = 6, NP_MAX = 4 };

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
    const __m256i mk0 = tail_mask8(last_cols), mk1 = tail_mask8(last_cols - 8);
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

#define DEF_TILE(mr, np)                                                                      \
    static void tile_##mr##x##np(const float *x, size_t ldx, const float *w, size_t pstride, \
                                 int K, const float *bias, float *y, size_t ldy,             \
                                 int last_cols) {                                            \
        tile(x, ldx, w, pstride, K, bias, y, ldy, last_cols, mr, np);                        \
    }
DEF_TILE(1, 1) DEF_TILE(2, 1) DEF_TILE(3, 1) DEF_TILE(4, 1) DEF_TILE(5, 1) DEF_TILE(6, 1)
DEF_TILE(1, 2) DEF_TILE(2, 2)
DEF_TILE(1, 4)

// The tile shapes (16 ymm registers: 2·mr·np accumulators) and the driver's policy.
static const mm_tiles tiles_avx2 = {
    .l1_x_floats = 24 * 1024 / 4,
    .mr_max = MR_MAX,
    .np_by_rows = {{1, 4}, {2, 2}, {INT_MAX, 1}},
    .mr_for_np = {[1] = 6, [2] = 2, [4] = 1},
    .tile = {
        [1] = {NULL, tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1},
        [2] = {NULL, tile_1x2, tile_2x2},
        [4] = {NULL, tile_1x4},
    },
};

void mm_gemm_avx2(const linear_args *a, int m0, int m1, int p0, int p1) {
    mm_drive(&tiles_avx2, a, m0, m1, p0, p1);
}
