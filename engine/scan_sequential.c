/*
 * scan_sequential.c: the sequential scan kernel (itera_kernels.def row SEQUENTIAL), the
 * reference the others are tested against: token by token, everything fused
 * (scan_simd.seq_row), on the calling thread only.
 *
 * Zones: its phases alternate every token (tens of ns each at the model's shape, where
 * four timestamps a token would add ~5% to a forward), so they are timed on every
 * SEQ_SAMPLE-th token of each row (token 0 always: every decode step) into local
 * accumulators, and the totals scaled to all tokens: calls = tokens, total = the
 * sampled sum × tokens / sampled tokens (at most the rows' measured wall time in all:
 * the sampled shares of it where the estimate would exceed it), min/max over the sampled
 * tokens. No trace events for them.
 *
 * Scratch: 2 padded state vectors.
 */
#include "isa_select.h"
#include "scan.h"
#include "scan_simd.h"

static size_t seq_scratch(int B, int L, int E, int N, int nthreads, int chunk)
{
    (void)B, (void)L, (void)E, (void)nthreads, (void)chunk;
    return scan_align64((size_t)scan_seq_work_floats(N) * sizeof(float));
}

static void seq_run(itera_pool *pool, const scan_params *p, const scan_io *io, void *scratch,
                    int chunk, itera_prof *prof, const isa_select *sel)
{
    (void)pool, (void)chunk;
    const scan_simd *s = sel->scan;
    zone_acc acc[SEQ_T_COUNT];
    const bool timed = zone_on(prof);
    for (int i = 0; i < SEQ_T_COUNT; i++) acc[i] = (zone_acc){0, 0, UINT64_MAX, 0};
    const uint64_t rows0 = timed ? zone_ticks() : 0;
    for (int b = 0; b < io->B; b++) {
        size_t t0 = (size_t)b * io->L;
        s->seq_row(p, io->u + t0 * io->ldu, io->ldu, io->delta + t0, io->L, io->h + (size_t)b * p->N,
                   io->y + t0 * io->ldy, io->ldy, scratch, timed ? acc : NULL);
    }
    if (timed) { /* sampled tokens -> estimates for all B·L tokens */
        const double rows = (double)(zone_ticks() - rows0);
        double scale = (double)io->B * io->L / (double)(acc[0].count ? acc[0].count : 1);
        double sum = 0;
        for (int i = 0; i < SEQ_T_COUNT; i++) sum += (double)acc[i].total * scale;
        /* A sampled token runs slower than the others (its timestamps break the overlap of
         * the phases), so the estimate can exceed the rows' measured wall time: then the
         * phases keep their sampled shares of that wall time, and never add up to more
         * than the scan that contains them. */
        if (sum > rows && sum > 0) scale *= rows / sum;
        for (int i = 0; i < SEQ_T_COUNT; i++) {
            acc[i].total = (uint64_t)((double)acc[i].total * scale);
            acc[i].count = (uint64_t)io->B * io->L;
        }
        static const itera_zone zz[SEQ_T_COUNT] = {ZONE_SCAN_INPUT, ZONE_SCAN_STATE, ZONE_SCAN_OUTPUT,
                                                   ZONE_SCAN_SKIP};
        for (int i = 0; i < SEQ_T_COUNT; i++) zone_merge(prof, 0, zz[i], &acc[i]);
    }
}

const scan_impl scan_sequential = {.scratch_bytes = seq_scratch, .run = seq_run, .chunk_len = NULL};
