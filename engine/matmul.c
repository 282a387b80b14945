/*
 * matmul.c: packing of FP32 weights into MM_NR-column panels, the scalar reference
 * kernel, and the table of kernel variants (SIMD ones live in matmul_avx2.c and
 * matmul_avx512.c, compiled with their ISA flags).
 */
#include "matmul.h"


size_t mm_packed_floats(int n_out, int n_in) {
    return (size_t)mm_panels(n_out) * MM_NR * (size_t)n_in;
}

// W [n_out, n_in] -> wp: panel p, row k, lane j = W[p*MM_NR + j][k], zero past n_out.
void mm_pack(float *wp, const float *W, int n_out, int n_in) {
    const int np = mm_panels(n_out);
    for (int p = 0; p < np; p++) {
        for (int k = 0; k < n_in; k++) {
            float *dst = wp + ((size_t)p * n_in + k) * MM_NR;
            for (int j = 0; j < MM_NR; j++) {
                const int n = p * MM_NR + j;
                dst[j] = n < n_out ? W[(size_t)n * n_in + k] : 0.0f;
            }
        }
    }
}

void mm_unpack_row(const float *wp, int n_out, int n_in, int row, float *out) {
    (void)n_out;
    const int p = row / MM_NR, j = row % MM_NR;
    const float *src = wp + (size_t)p * n_in * MM_NR + j;
    for (int k = 0; k < n_in; k++) out[k] = src[(size_t)k * MM_NR];
}

// The reference: x [M, n_in] · Wᵀ [n_in, n_out] (+ bias) -> y [M, n_out], columns of
// panels [p0, p1) only; accumulates in k order, one float sum per output.
void mm_kernel_scalar(const float *x, int ldx, int M, const float *wp, int n_in, int n_out,
                      int p0, int p1, const float *bias, float *y, int ldy) {
    for (int p = p0; p < p1; p++) {
        const float *panel = wp + (size_t)p * n_in * MM_NR;
        const int nj = n_out - p * MM_NR < MM_NR ? n_out - p * MM_NR : MM_NR;
        for (int m = 0; m < M; m++) {
            const float *xr = x + (size_t)m * ldx;
            float acc[MM_NR];
            for (int j = 0; j < MM_NR; j++) acc[j] = 0.0f;
            for (int k = 0; k < n_in; k++) {
                const float xv = xr[k];
                for (int j = 0; j < MM_NR; j++) acc[j] += xv * panel[(size_t)k * MM_NR + j];
            }
            float *yr = y + (size_t)m * ldy + (size_t)p * MM_NR;
            for (int j = 0; j < nj; j++) yr[j] = acc[j] + (bias ? bias[p * MM_NR + j] : 0.0f);
        }
    }
}

const mm_impl mm_impls[] = {
    {CPU_ISA_SCALAR, "scalar", mm_kernel_scalar},
    {CPU_ISA_AVX2, "avx2", mm_kernel_avx2},
    {CPU_ISA_AVX512, "avx512", mm_kernel_avx512},
};
const int mm_impl_count = (int)(sizeof mm_impls / sizeof mm_impls[0]);

const mm_impl *mm_best(void) {
    const cpu_isa isa = cpu_isa_best();
    for (int i = mm_impl_count - 1; i > 0; i--)
        if (mm_impls[i].isa <= isa) return &mm_impls[i];
    return &mm_impls[0];
}
