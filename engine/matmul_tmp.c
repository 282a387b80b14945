/* TEMPORARY scalar matmul until the kernels branch lands (deleted at merge). */
#include "matmul.h"
#include <string.h>
size_t mm_packed_floats(int n_out, int n_in) { return (size_t)mm_panels(n_out) * MM_NR * n_in; }
void mm_pack(float *wp, const float *W, int n_out, int n_in)
{
    for (int p = 0; p < mm_panels(n_out); p++)
        for (int k = 0; k < n_in; k++)
            for (int j = 0; j < MM_NR; j++) {
                int n = p * MM_NR + j;
                wp[((size_t)p * n_in + k) * MM_NR + j] = n < n_out ? W[(size_t)n * n_in + k] : 0.0f;
            }
}
void mm_unpack_row(const float *wp, int n_out, int n_in, int row, float *out)
{
    (void)n_out;
    int p = row / MM_NR, j = row % MM_NR;
    for (int k = 0; k < n_in; k++) out[k] = wp[((size_t)p * n_in + k) * MM_NR + j];
}
void mm_kernel_scalar(const float *x, int ldx, int M, const float *wp, int n_in, int n_out, int p0,
                      int p1, const float *bias, float *y, int ldy)
{
    for (int m = 0; m < M; m++)
        for (int p = p0; p < p1; p++)
            for (int j = 0; j < MM_NR; j++) {
                int n = p * MM_NR + j;
                if (n >= n_out) break;
                float acc = bias ? bias[n] : 0.0f;
                for (int k = 0; k < n_in; k++) acc += x[(size_t)m * ldx + k] * wp[((size_t)p * n_in + k) * MM_NR + j];
                y[(size_t)m * ldy + n] = acc;
            }
}
static const mm_impl tmp_impl = {CPU_ISA_SCALAR, "scalar", mm_kernel_scalar};
const mm_impl *mm_best(void) { return &tmp_impl; }
