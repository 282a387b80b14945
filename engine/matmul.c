/*
 * matmul.c: packing of FP32 weights into MM_NR-column panels, the scalar reference
 * kernel, the one driver loop of the SIMD kernels (mm_drive: their tiles live in
 * matmul_avx2.c and matmul_avx512.c, compiled with their ISA flags), and the table of
 * kernel variants.
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

// The reference: x [M, n_in] · Wᵀ [n_in, n_out] (+ bias) -> y [M, n_out], rows [m0, m1)
// and columns of panels [p0, p1) only; accumulates in k order, one float sum per output.
void mm_gemm_scalar(const linear_args *a, int m0, int m1, int p0, int p1) {
    const float *wp = a->w, *bias = a->bias;
    const int n_in = a->n_in, n_out = a->n_out, M = m1 - m0, ldx = a->ldx, ldy = a->ldy;
    const float *x = a->x + (size_t)m0 * ldx;
    float *y = a->y + (size_t)m0 * ldy;
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

void mm_drive(const mm_tiles *t, const linear_args *a, int m0_, int m1_, int p0, int p1) {
    const float *wp = a->w, *bias = a->bias;
    const int n_in = a->n_in, n_out = a->n_out, M = m1_ - m0_, ldx = a->ldx, ldy = a->ldy;
    const float *x = a->x + (size_t)m0_ * ldx;
    float *y = a->y + (size_t)m0_ * ldy;
    if (M <= 0 || p0 >= p1 || n_in <= 0) {
        // n_in == 0: y = bias (or 0) over the range.
        if (M > 0 && n_in <= 0) {
            for (int m = 0; m < M; m++)
                for (int n = p0 * MM_NR; n < p1 * MM_NR && n < n_out; n++)
                    y[(size_t)m * ldy + n] = bias ? bias[n] : 0.0f;
        }
        return;
    }
    const size_t pstride = (size_t)n_in * MM_NR;
    const int last_panel = mm_panels(n_out) - 1;
    const int rem = n_out - last_panel * MM_NR;
    int mc = t->l1_x_floats / n_in;
    if (mc < t->mr_max) mc = t->mr_max;

    for (int m0 = 0; m0 < M; m0 += mc) {
        const int mrows = M - m0 < mc ? M - m0 : mc;
        int np0 = 1;
        for (int i = 0; i < 3; i++)
            if (mrows <= t->np_by_rows[i].rows) {
                np0 = t->np_by_rows[i].np;
                break;
            }
        for (int p = p0; p < p1;) {
            int np = np0;
            while (np > p1 - p) np >>= 1;
            const int mr_max = t->mr_for_np[np];
            const int ntiles = (mrows + mr_max - 1) / mr_max;
            const int base = mrows / ntiles, extra = mrows % ntiles;
            const int lc = p + np - 1 == last_panel ? rem : MM_NR;
            const float *w = wp + (size_t)p * pstride;
            const float *b = bias ? bias + p * MM_NR : NULL;
            int m = m0;
            for (int k = 0; k < ntiles; k++) {
                const int mr = base + (k < extra);
                t->tile[np][mr](x + (size_t)m * ldx, (size_t)ldx, w, pstride, n_in, b,
                                y + (size_t)m * ldy + p * MM_NR, (size_t)ldy, lc);
                m += mr;
            }
            p += np;
        }
    }
}
