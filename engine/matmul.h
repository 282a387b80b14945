/*
 * matmul.h: FP32 matrix products against weights packed at load time.
 *
 * Weights arrive in PyTorch layout W [n_out, n_in] (y = x · Wᵀ). mm_pack stores them in
 * panels of MM_NR output columns: panel p holds W[p*MM_NR + j][k] at
 * wp[(p*n_in + k)*MM_NR + j], zero-padded past n_out. The kernels stream a panel once
 * per block of rows of x, broadcasting x[m, k] against a row of MM_NR weights.
 *
 * One scalar reference and SIMD variants in a table; tests compare them.
 */
#ifndef ITERA_MATMUL_H
#define ITERA_MATMUL_H

#include <stddef.h>
#include "itera.h"
#include "linear.h"

#define MM_NR LINEAR_PANEL

static inline int mm_panels(int n_out) { return (n_out + MM_NR - 1) / MM_NR; }
size_t mm_packed_floats(int n_out, int n_in);
void mm_pack(float *wp, const float *W, int n_out, int n_in);
/* W[row, 0:n_in] from the packed form. */
void mm_unpack_row(const float *wp, int n_out, int n_in, int row, float *out);

/* The FP32 format's kernels (linear.h linear_gemm_fn, rows of linear_fp32's table):
 * y[m, n] = Σ_k x[m, k] · W[n, k] (+ bias[n] if bias) for m in [m0, m1) and
 * n in [p0*MM_NR, min(p1*MM_NR, n_out)), W the packed a->w. Writes only those elements of
 * y. Any 0 <= m0 <= m1 <= M and 0 <= p0 <= p1 <= mm_panels(n_out) (threads take disjoint
 * panel or row slices); no alignment needed; n_in == 0 writes the bias (or 0). x and y
 * must not overlap. */
void mm_gemm_scalar(const linear_args *a, int m0, int m1, int p0, int p1);
void mm_gemm_avx2(const linear_args *a, int m0, int m1, int p0, int p1);
void mm_gemm_avx512(const linear_args *a, int m0, int m1, int p0, int p1);

/* ---- The SIMD kernels: one driver, per-ISA tiles ----
 *
 * A tile computes y [mr, np·16] = x [mr, K] · np panels (+ bias) with its accumulators in
 * registers; pstride: floats from one panel to the next; the last panel of the tile has
 * last_cols valid columns (16 when full; only those are stored). mm_drive walks any
 * [M, p0..p1) with one ISA's tiles: rows in chunks whose slice of x fits in L1 (at least
 * mr_max rows), and within a chunk every group of np panels streamed once per row tile
 * while it is hot in L1; np from the rows in the chunk (few rows: wider tiles keep enough
 * independent accumulators), the chunk's rows spread evenly over the fewest tiles. */
#define MM_TILE_MR_MAX 12
#define MM_TILE_NP_MAX 8
typedef void (*mm_tile_fn)(const float *x, size_t ldx, const float *w, size_t pstride, int K,
                           const float *bias, float *y, size_t ldy, int last_cols);
typedef struct mm_tiles {
    int l1_x_floats;  /* floats of x kept hot in L1 per row chunk */
    int mr_max;       /* rows of the tallest tile (the smallest chunk) */
    /* panels per tile: np_by_rows[i].np for the first i with rows in chunk <= .rows */
    struct { int rows, np; } np_by_rows[3];
    int mr_for_np[MM_TILE_NP_MAX + 1];                       /* most rows per tile of np panels */
    mm_tile_fn tile[MM_TILE_NP_MAX + 1][MM_TILE_MR_MAX + 1]; /* [np][mr] */
} mm_tiles;

/* The kernels' contract, with the tiles of one ISA. */
void mm_drive(const mm_tiles *t, const linear_args *a, int m0, int m1, int p0, int p1);

void mm_kernel_scalar(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy);
void mm_kernel_avx2(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                    int p0, int p1, const float *bias, float *y, int ldy);
void mm_kernel_avx512(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy);

#endif
