/* fuzz/gunzip.c: a gzip-compressed results file (FILE.json.gz) as gb_file_load reads it:
 * known by its magic bytes, inflated by gunzip_buffer (bounded here to 4 MiB, so a
 * decompression bomb is refused, not followed), then parsed by gb_file_parse and its cells
 * read. Inputs that are not gzip go to gunzip_buffer anyway: it must refuse them cleanly. */
#include "fuzz.h"
#include "gbread.h"
#include "gunzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    bench_error err;
    const bool magic = gunzip_is_gzip(data, size);
    if (gunzip_buffer("fuzz.json.gz", data, size, (size_t)4 << 20, &text, &len, &err) != BENCH_OK) {
        if (text) abort(); /* a failure leaves no buffer */
        return 0;
    }
    if (!magic || text[len] != '\0' || len > ((size_t)4 << 20)) abort(); /* only gzip inflates */
    gb_file f;
    if (gb_file_parse("fuzz.json.gz", text, len, &f, &err) == BENCH_OK) {
        double v;
        for (int i = 0; i < f.n_cells; i++) gb_cell_mean(&f.cells[i], "real_time", &v);
        gb_file_free(&f);
    }
    free(text);
    return 0;
}
