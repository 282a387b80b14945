/*
 * matmul_avx512.c: the AVX-512 FP32 kernel over MM_NR = 16 column panels (one zmm per
 * panel row). Call only when itera_isa_has(ITERA_ISA_AVX512).
 *
 * A tile is MR rows of x by NP panels: MR·NP zmm accumulators, and per k one panel row
 * load per panel and one broadcast of x[m, k] per row (an embedded-broadcast FMA operand).
 * Tiles are fixed-size always_inline instantiations, so the accumulators live in registers.
 * mm_drive (matmul.c) walks the rows and panels with these tiles.
 */
#include "matmul.h"

#include <limits.h>

#include "simd_avx512.h"

enum { MR_MAX = 12, NP_MAX = 8 };

// x [MR, K] (rows ldx apart) · panels [NP] (pstride floats apart) -> y [MR, NP*16]
// (+ bias); the last panel stores its last_cols columns (the others are full).
AI void tile(const float *restrict x, size_t ldx, const float *restrict w, size_t pstride,
             int K, const float *restrict bias, float *restrict y, size_t ldy,
             int last_cols, const int MR, const int NP) {
    const __mmask16 last_mask = tail_mask16(last_cols);
    __m512 acc[MR_MAX][NP_MAX];
#pragma GCC unroll 12
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int n = 0; n < NP; n++) acc[m][n] = _mm512_setzero_ps();

#pragma GCC unroll 2
    for (int k = 0; k < K; k++) {
        __m512 wv[NP_MAX];
#pragma GCC unroll 8
        for (int n = 0; n < NP; n++) wv[n] = _mm512_loadu_ps(w + n * pstride + (size_t)k * 16);
#pragma GCC unroll 12
        for (int m = 0; m < MR; m++) {
            const __m512 xb = _mm512_set1_ps(x[m * ldx + k]);
#pragma GCC unroll 8
            for (int n = 0; n < NP; n++) acc[m][n] = _mm512_fmadd_ps(xb, wv[n], acc[m][n]);
        }
    }

    __m512 bv[NP_MAX];
#pragma GCC unroll 8
    for (int n = 0; n < NP; n++) {
        const __mmask16 mk = n == NP - 1 ? last_mask : (__mmask16)0xffff;
        bv[n] = bias ? _mm512_maskz_loadu_ps(mk, bias + n * 16) : _mm512_setzero_ps();
    }
#pragma GCC unroll 12
    for (int m = 0; m < MR; m++)
#pragma GCC unroll 8
        for (int n = 0; n < NP; n++) {
            const __m512 v = _mm512_add_ps(acc[m][n], bv[n]);
            if (n == NP - 1)
                _mm512_mask_storeu_ps(y + m * ldy + n * 16, last_mask, v);
            else
                _mm512_storeu_ps(y + m * ldy + n * 16, v);
        }
}

#define DEF_TILE(mr, np)                                                                      \
    static void tile_##mr##x##np(const float *x, size_t ldx, const float *w, size_t pstride, \
                                 int K, const float *bias, float *y, size_t ldy,             \
                                 int last_cols) {                                            \
        tile(x, ldx, w, pstride, K, bias, y, ldy, last_cols, mr, np);                        \
    }
// The shapes the policy below uses: up to 24 accumulators, plus NP panel rows, in 32 zmm.
DEF_TILE(1, 1) DEF_TILE(2, 1) DEF_TILE(3, 1) DEF_TILE(4, 1)
DEF_TILE(5, 1) DEF_TILE(6, 1) DEF_TILE(7, 1) DEF_TILE(8, 1)
DEF_TILE(1, 2) DEF_TILE(2, 2) DEF_TILE(3, 2) DEF_TILE(4, 2) DEF_TILE(5, 2) DEF_TILE(6, 2)
DEF_TILE(7, 2) DEF_TILE(8, 2) DEF_TILE(9, 2) DEF_TILE(10, 2) DEF_TILE(11, 2) DEF_TILE(12, 2)
DEF_TILE(1, 4) DEF_TILE(2, 4) DEF_TILE(3, 4) DEF_TILE(4, 4) DEF_TILE(5, 4) DEF_TILE(6, 4)
DEF_TILE(1, 8) DEF_TILE(2, 8)

// The tile shapes and the driver's policy: most rows per tile for each panel count.
static const mm_tiles tiles_avx512 = {
    .l1_x_floats = 32 * 1024 / 4,
    .mr_max = MR_MAX,
    .np_by_rows = {{2, 8}, {4, 4}, {INT_MAX, 2}},
    .mr_for_np = {[1] = 8, [2] = 12, [4] = 6, [8] = 2},
    .tile = {
        [1] = {NULL, tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1, tile_7x1, tile_8x1},
        [2] = {NULL, tile_1x2, tile_2x2, tile_3x2, tile_4x2, tile_5x2, tile_6x2, tile_7x2, tile_8x2,
               tile_9x2, tile_10x2, tile_11x2, tile_12x2},
        [4] = {NULL, tile_1x4, tile_2x4, tile_3x4, tile_4x4, tile_5x4, tile_6x4},
        [8] = {NULL, tile_1x8, tile_2x8},
    },
};

void mm_gemm_avx512(const linear_args *a, int m0, int m1, int p0, int p1) {
    mm_drive(&tiles_avx512, a, m0, m1, p0, p1);
}
