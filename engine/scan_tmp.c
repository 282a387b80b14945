/* TEMPORARY sequential scan until the scan branch lands (deleted at merge). */
#include "scan.h"
#include <math.h>
static size_t seq_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)B; (void)L; (void)E; (void)nthreads; (void)chunk;
    return (size_t)N * 2 * sizeof(float);
}
static void seq_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch, int chunk, itera_prof *prof)
{
    (void)pool; (void)chunk; (void)prof;
    int E = p->E, N = p->N;
    float *bu = scratch;
    for (int b = 0; b < io->B; b++) {
        float *h = io->h + (size_t)b * N;
        for (int l = 0; l < io->L; l++) {
            size_t t = (size_t)b * io->L + l;
            const float *u = io->u + t * io->ldu;
            float d = io->delta[t];
            for (int n = 0; n < N; n++) {
                float s = 0;
                for (int e = 0; e < E; e++) s += p->B[(size_t)n * E + e] * u[e];
                bu[n] = s;
                h[n] = expf(d * p->A[n]) * h[n] + d * bu[n];
            }
            float *y = io->y + t * io->ldy;
            for (int e = 0; e < E; e++) {
                float s = 0;
                for (int n = 0; n < N; n++) s += p->C[(size_t)e * N + n] * h[n];
                y[e] = s + p->D[e] * u[e];
            }
        }
    }
}
const scan_kernel scan_kernels[ITERA_KERNEL_COUNT] = {
    {ITERA_KERNEL_SEQUENTIAL, "sequential", seq_scratch, seq_run},
    {ITERA_KERNEL_PARALLEL, "parallel", seq_scratch, seq_run},
    {ITERA_KERNEL_CHUNKED, "chunked", seq_scratch, seq_run},
};
itera_kernel scan_auto(int B, int L, int E, int N, int threads) { (void)B; (void)L; (void)E; (void)N; (void)threads; return ITERA_KERNEL_SEQUENTIAL; }
