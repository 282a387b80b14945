/*
 * scan_parallel.c: the parallel scan kernel (itera_kernels.def row PARALLEL): three
 * passes across the pool: (1) Bu = u·Bmᵀ for all B·L tokens (FP32 matmul, rows split
 * across threads), (2) the recurrence over Bu in place, serial in l, batch rows split
 * across threads, (3) y = H·Cmᵀ + D⊙u for all tokens (matmul, rows split; the skip added
 * per block of rows while hot).
 *
 * Scratch: H [B·L, N].
 */
#include "isa_select.h"
#include "scan.h"
#include "scan_simd.h"

typedef struct par_task {
    const scan_params *p;
    const scan_io *io;
    float *H;
    itera_prof *prof;
    const isa_select *sel;
} par_task;

static void par_input(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    int r0, r1;
    pool_slice(a->io->B * a->io->L, ith, nth, &r0, &r1);
    if (r1 <= r0) return;
    SCAN_TZONE(a->prof, ith, ZONE_SCAN_INPUT,
               scan_matmul(a->sel, a->io->u + (size_t)r0 * a->io->ldu, a->io->ldu, r1 - r0, p->Bl,
                           a->H + (size_t)r0 * p->N, p->N));
}

static void par_state(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    const scan_io *io = a->io;
    int b0, b1;
    pool_slice(io->B, ith, nth, &b0, &b1);
    if (b1 <= b0) return;
    uint64_t z0 = zone_begin(a->prof);
    for (int b = b0; b < b1; b++) {
        size_t t0 = (size_t)b * io->L;
        a->sel->scan->recur(p->A, p->N, io->delta + t0, io->L, a->H + t0 * p->N, p->N,
                                io->h + (size_t)b * p->N);
    }
    zone_end(a->prof, ith, ZONE_SCAN_STATE, z0);
}

static void par_output(int ith, int nth, void *v)
{
    const par_task *a = v;
    const scan_params *p = a->p;
    const scan_io *io = a->io;
    int r0, r1;
    pool_slice(io->B * io->L, ith, nth, &r0, &r1);
    for (int r = r0; r < r1; r += SCAN_OUT_ROWS) {
        int n = r1 - r < SCAN_OUT_ROWS ? r1 - r : SCAN_OUT_ROWS;
        float *y = io->y + (size_t)r * io->ldy;
        SCAN_TZONE(a->prof, ith, ZONE_SCAN_OUTPUT,
               scan_matmul(a->sel, a->H + (size_t)r * p->N, p->N, n, p->Cl, y, io->ldy));
        SCAN_TZONE(a->prof, ith, ZONE_SCAN_SKIP,
              a->sel->scan->skip_add(p->D, p->E, io->u + (size_t)r * io->ldu, io->ldu, n, y, io->ldy));
    }
}

static size_t par_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)E, (void)nthreads, (void)chunk;
    return scan_align64((size_t)B * L * N * sizeof(float));
}

static void par_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                    int chunk, itera_prof *prof, const isa_select *sel)
{
    (void)chunk;
    par_task a = {.p = p, .io = io, .H = scratch, .prof = prof, .sel = sel};
    itera_pool *pl = scan_pool_for(pool, io, p);
    pool_run(pl, par_input, &a);
    if (io->B > 1) pool_run(pl, par_state, &a);
    else par_state(0, 1, &a);
    pool_run(pl, par_output, &a);
}

const scan_impl scan_parallel = {.scratch_bytes = par_scratch, .run = par_run, .chunk_len = NULL};
