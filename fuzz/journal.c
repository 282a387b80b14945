/* fuzz/journal.c: a run's journal (<out>.journal) as `itera-bench run --resume` reads it:
 * journal_parse (header line, one cell object per line, duplicates and bad lines counted,
 * a partial last line ignored), then the final file assembled from its cells. */
#include "fuzz.h"
#include "results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    journal_data d;
    bench_error err;
    if (journal_parse("fuzz.journal", (const char *)data, size, &d, &err) != BENCH_OK) return 0;
    size_t n = json_object_size(d.cells);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (names) {
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(d.cells, k, v) names[i++] = k;
        int missing = 0;
        json_t *ctx = json_object_get(d.header, "context");
        json_t *root = results_assemble(json_is_object(ctx) ? ctx : NULL, names, (int)n, d.cells, &missing);
        char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
        free(s);
        json_decref(root);
        free(names);
    }
    journal_data_free(&d);
    return 0;
}
