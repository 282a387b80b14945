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
#include "cpu.h"

#define MM_NR 16

static inline int mm_panels(int n_out) { return (n_out + MM_NR - 1) / MM_NR; }
size_t mm_packed_floats(int n_out, int n_in);
void mm_pack(float *wp, const float *W, int n_out, int n_in);
/* W[row, 0:n_in] from the packed form. */
void mm_unpack_row(const float *wp, int n_out, int n_in, int row, float *out);

/* y[m, n] = Σ_k x[m, k] · W[n, k] (+ bias[n] if bias) for m in [0, M) and
 * n in [p0*MM_NR, min(p1*MM_NR, n_out)). x rows have stride ldx, y rows ldy (floats).
 * Writes only those elements of y. Any M >= 0 and 0 <= p0 <= p1 <= mm_panels(n_out)
 * (threads take disjoint panel or row slices); no alignment needed; n_in == 0 writes
 * the bias (or 0). x and y must not overlap. */
typedef void (*mm_kernel_fn)(const float *x, int ldx, int M, const float *wp, int n_in,
                             int n_out, int p0, int p1, const float *bias, float *y, int ldy);

typedef struct mm_impl {
    cpu_isa isa;
    const char *name;
    mm_kernel_fn kernel;
} mm_impl;

void mm_kernel_scalar(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy);
void mm_kernel_avx2(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                    int p0, int p1, const float *bias, float *y, int ldy);
void mm_kernel_avx512(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy);

/* The variants, best last; mm_best() is the best one the CPU allows. */
extern const mm_impl mm_impls[];
extern const int mm_impl_count;
const mm_impl *mm_best(void);

#endif
