/*
 * qgemm_a16_amx.c: the W8A16 products with AMX-INT8 (tdpbusd: a 16 × 64 u8 tile times a
 * 64 × 16 s8 tile into 16 × 16 int32, 16,384 multiply-adds per instruction), the
 * activations as two bytes (qgemm_a16.h): C_lo += lo · W and C_hi += hi · W, then per
 * chunk isum = ((C_hi + nsum) << 8) + C_lo — the same integers as the references, so the
 * float epilogue (one multiply-add per chunk, then the bias) gives their result bit for
 * bit. Compiled with -mamx-tile -mamx-int8 and AVX-512; called only when the ISA selection
 * allows AMX (which cpu.c reports only once Linux has granted this process the tile data
 * state: arch_prctl ARCH_REQ_XCOMP_PERM).
 *
 * Tiles (8 registers): tmm0/1 the low / high bytes of 16 rows of x over KT k, tmm2/3 the
 * weights of two panels (KT/4 rows of 64 bytes: the panel's groups, as laid), tmm4..7 the
 * four accumulators (2 panels × 2 bytes). KT = 64, or 32 when K is not a multiple of 64.
 * The tile configuration is loaded per call and released at its end (the tile state goes
 * back to its initial state: nothing extra to save on a context switch). Rows past the
 * last multiple of 16 (and decode's few rows) run the VNNI kernel.
 */
#include <immintrin.h>
#include <string.h>

#include "qgemm_a16.h"

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((packed)) tile_config;
static_assert(sizeof(tile_config) == 64, "LDTILECFG reads 64 bytes");

#define TR 16 /* rows of x per tile */

static void config(int KT)
{
    _Alignas(64) tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 2; t++) c.rows[t] = TR, c.colsb[t] = (uint16_t)KT;                   /* x */
    for (int t = 2; t < 4; t++) c.rows[t] = (uint8_t)(KT / 4), c.colsb[t] = 4 * QG_NR;       /* W */
    for (int t = 4; t < 8; t++) c.rows[t] = TR, c.colsb[t] = QG_NR * sizeof(int32_t);        /* C */
    _tile_loadconfig(&c);
}

/* The float epilogue of one panel for rows [m, m + TR) and chunk c: isum from the two
 * accumulators, scaled into acc (first chunk: from 0), and on the last chunk + bias into y. */
static void epilogue(const qa16_args *a, const int32_t (*clo)[QG_NR], const int32_t (*chi)[QG_NR], int m,
                     int p, int c, int nc, float (*acc)[QG_NR])
{
    const int K = a->K, n0 = p * QG_NR, cnt = a->n_out - n0 < QG_NR ? a->n_out - n0 : QG_NR;
    const __mmask16 mask = (__mmask16)((1u << cnt) - 1u);
    const __m512i ns = _mm512_load_si512(qa16_panel_nsum(a->w, K, p, c));
    const __m512 dw = _mm512_load_ps(qa16_panel_d(a->w, K, p));
    const __m512 bias = a->bias ? _mm512_maskz_loadu_ps(mask, a->bias + n0) : _mm512_setzero_ps();
    for (int i = 0; i < TR; i++) {
        const __m512i isum = _mm512_add_epi32(
            _mm512_slli_epi32(_mm512_add_epi32(_mm512_load_si512(chi[i]), ns), 8), _mm512_load_si512(clo[i]));
        const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(a->x.xd[(size_t)(m + i) * nc + c]));
        const __m512 prev = c ? _mm512_load_ps(acc[i]) : _mm512_setzero_ps();
        const __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), s, prev);
        if (c + 1 < nc) _mm512_store_ps(acc[i], v);
        else _mm512_mask_storeu_ps(a->y + (size_t)(m + i) * a->ldy + n0, mask, a->bias ? _mm512_add_ps(v, bias) : v);
    }
}

void qa16_gemm_amx(const qa16_args *a, int m0, int m1, int p0, int p1)
{
    const int K = a->K, nc = qa16_chunks(K), KT = K % 64 == 0 ? 64 : 32;
    const int mt = m0 + (m1 - m0) / TR * TR; /* rows [m0, mt) in tiles, the rest by VNNI */
    if (mt > m0) {
        _Alignas(64) int32_t cbuf[4][TR][QG_NR];
        _Alignas(64) float acc[2][TR][QG_NR];
        config(KT);
        /* one tile of weights per panel (K = KT): loaded once per panel pair, kept across rows */
        const bool keep_w = K == KT;
        for (int p = p0; p < p1; p += 2) {
            const int np = p + 2 <= p1 ? 2 : 1;
            if (keep_w) {
                _tile_loadd(2, qa16_panel_group(a->w, K, p, 0), 4 * QG_NR);
                if (np == 2) _tile_loadd(3, qa16_panel_group(a->w, K, p + 1, 0), 4 * QG_NR);
            }
            for (int m = m0; m < mt; m += TR)
                for (int c = 0; c < nc; c++) {
                    const int k0 = c * QA16_CHUNK, k1 = k0 + QA16_CHUNK < K ? k0 + QA16_CHUNK : K;
                    _tile_zero(4);
                    _tile_zero(5);
                    _tile_zero(6);
                    _tile_zero(7);
                    for (int k = k0; k < k1; k += KT) {
                        _tile_loadd(0, a->x.lo + (size_t)m * K + k, K);
                        _tile_loadd(1, a->x.hi + (size_t)m * K + k, K);
                        if (!keep_w) {
                            _tile_loadd(2, qa16_panel_group(a->w, K, p, k / 4), 4 * QG_NR);
                            if (np == 2) _tile_loadd(3, qa16_panel_group(a->w, K, p + 1, k / 4), 4 * QG_NR);
                        }
                        _tile_dpbusd(4, 0, 2);
                        _tile_dpbusd(5, 1, 2);
                        if (np == 2) {
                            _tile_dpbusd(6, 0, 3);
                            _tile_dpbusd(7, 1, 3);
                        }
                    }
                    _tile_stored(4, cbuf[0], QG_NR * sizeof(int32_t));
                    _tile_stored(5, cbuf[1], QG_NR * sizeof(int32_t));
                    epilogue(a, (const int32_t(*)[QG_NR])cbuf[0], (const int32_t(*)[QG_NR])cbuf[1], m, p, c, nc,
                             acc[0]);
                    if (np == 2) {
                        _tile_stored(6, cbuf[2], QG_NR * sizeof(int32_t));
                        _tile_stored(7, cbuf[3], QG_NR * sizeof(int32_t));
                        epilogue(a, (const int32_t(*)[QG_NR])cbuf[2], (const int32_t(*)[QG_NR])cbuf[3], m, p + 1,
                                 c, nc, acc[1]);
                    }
                }
        }
        _tile_release();
    }
    if (mt < m1) qa16_gemm_vnni(a, mt, m1, p0, p1);
}
