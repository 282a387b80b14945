/*
 * matmul_avx512.c: the AVX-512 FP32 kernel over MM_NR = 16 column panels (one zmm per
 * panel row). Call only when cpu_isa_has(CPU_ISA_AVX512).
 *
 * A tile is MR rows of x by NP panels: MR·NP zmm accumulators, and per k one panel row
 * load per panel and one broadcast of x[m, k] per row (an embedded-broadcast FMA operand).
 * Tiles are fixed-size always_inline instantiations, so the accumulators live in registers.
 * Rows are processed in chunks whose slice of x fits in L1; within a chunk every group of
 * NP panels is streamed once per row tile while it stays hot in L1.
 */
#include "matmul.h"

#include <immintrin.h>
#include <stdint.h>

#define AI static inline __attribute__((always_inline))

enum { MR_MAX = 12, NP_MAX = 8 };

// x [MR, K] (rows ldx apart) · panels [NP] (pstride floats apart) -> y [MR, NP*16]
// (+ bias); the last panel's store uses last_mask (the others are full).
AI void tile(const float *restrict x, size_t ldx, const float *restrict w, size_t pstride,
             int K, const float *restrict bias, float *restrict y, size_t ldy,
             __mmask16 last_mask, const int MR, const int NP) {
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

typedef void (*tile_fn)(const float *x, size_t ldx, const float *w, size_t pstride, int K,
                        const float *bias, float *y, size_t ldy, __mmask16 last_mask);

#define DEF_TILE(mr, np)                                                                      \
    static void tile_##mr##x##np(const float *x, size_t ldx, const float *w, size_t pstride, \
                                 int K, const float *bias, float *y, size_t ldy,             \
                                 __mmask16 last_mask) {                                      \
        tile(x, ldx, w, pstride, K, bias, y, ldy, last_mask, mr, np);                        \
    }
// The shapes the policy below uses: up to 24 accumulators, plus NP panel rows, in 32 zmm.
DEF_TILE(1, 1) DEF_TILE(2, 1) DEF_TILE(3, 1) DEF_TILE(4, 1)
DEF_TILE(5, 1) DEF_TILE(6, 1) DEF_TILE(7, 1) DEF_TILE(8, 1)
DEF_TILE(1, 2) DEF_TILE(2, 2) DEF_TILE(3, 2) DEF_TILE(4, 2) DEF_TILE(5, 2) DEF_TILE(6, 2)
DEF_TILE(7, 2) DEF_TILE(8, 2) DEF_TILE(9, 2) DEF_TILE(10, 2) DEF_TILE(11, 2) DEF_TILE(12, 2)
DEF_TILE(1, 4) DEF_TILE(2, 4) DEF_TILE(3, 4) DEF_TILE(4, 4) DEF_TILE(5, 4) DEF_TILE(6, 4)
DEF_TILE(1, 8) DEF_TILE(2, 8)

// tiles[np][mr]
static const tile_fn tiles[NP_MAX + 1][MR_MAX + 1] = {
    [1] = {NULL, tile_1x1, tile_2x1, tile_3x1, tile_4x1, tile_5x1, tile_6x1, tile_7x1, tile_8x1},
    [2] = {NULL, tile_1x2, tile_2x2, tile_3x2, tile_4x2, tile_5x2, tile_6x2, tile_7x2, tile_8x2,
           tile_9x2, tile_10x2, tile_11x2, tile_12x2},
    [4] = {NULL, tile_1x4, tile_2x4, tile_3x4, tile_4x4, tile_5x4, tile_6x4},
    [8] = {NULL, tile_1x8, tile_2x8},
};

// Tile shape policy: most rows per tile for each panel count.
static const int mr_for_np[NP_MAX + 1] = {0, 8, 12, 0, 6, 0, 0, 0, 2};

// Floats of x kept hot in L1 per row chunk.
#define L1_X_FLOATS (32 * 1024 / 4)

void mm_kernel_avx512(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy) {
    if (M <= 0 || p0 >= p1 || n_in <= 0) {
        // n_in == 0: y = bias (or 0) over the range.
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
    const __mmask16 part_mask = (__mmask16)((1u << rem) - 1u);

    // Row chunk: as many rows as fit the L1 budget, at least one full tile.
    int mc = L1_X_FLOATS / n_in;
    if (mc < MR_MAX) mc = MR_MAX;

    for (int m0 = 0; m0 < M; m0 += mc) {
        const int mrows = M - m0 < mc ? M - m0 : mc;
        for (int p = p0; p < p1;) {
            const int left = p1 - p;
            // Few rows: wider tiles keep enough independent accumulators.
            int np = mrows <= 2 ? 8 : mrows <= 4 ? 4 : 2;
            while (np > left) np >>= 1;
            const int mr_max = mr_for_np[np];
            const int ntiles = (mrows + mr_max - 1) / mr_max;
            const int base = mrows / ntiles, extra = mrows % ntiles;
            const __mmask16 lm = p + np - 1 == last_panel ? part_mask : (__mmask16)0xffff;
            const float *w = wp + (size_t)p * pstride;
            const float *b = bias ? bias + p * 16 : NULL;
            int m = m0;
            for (int t = 0; t < ntiles; t++) {
                const int mr = base + (t < extra);
                tiles[np][mr](x + (size_t)m * ldx, (size_t)ldx, w, pstride, n_in, b,
                              y + (size_t)m * ldy + p * 16, (size_t)ldy, lm);
                m += mr;
            }
            p += np;
        }
    }
}
