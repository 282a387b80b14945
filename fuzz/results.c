/* fuzz/results.c: a results file as `itera-bench report` and `compare` read it: parsed
 * by gb_file_parse (duplicate keys rejected, GB's bare NaN/Infinity read as null, cells by
 * name), every cell's values and aggregates read; a file that parses is then written to a
 * scratch folder (in /dev/shm when there is one) and rendered by report (--no-charts) and
 * compared with itself and as --variants, through their real command lines. */
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "fuzz.h"
#include "gbread.h"
#include "report.h"

static char dir[256];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* The scratch folder goes when the process ends (libFuzzer and replay both exit). */
static void remove_dir(void)
{
    if (dir[0]) nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* glibc: optind = 0 re-initialises getopt fully for the next command line. */
static void report(int argc, const char **argv)
{
    optind = 0;
    report_main(argc, (char **)argv);
}

static void compare(int argc, const char **argv)
{
    bench_error e;
    optind = 0;
    compare_cmd(argc, (char **)argv, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_file f;
    bench_error err;
    if (gb_file_parse("fuzz.json", (const char *)data, size, &f, &err) != BENCH_OK) return 0;
    static const char *const metrics[] = {"real_time", "cpu_time", "tokens_per_second", "gflops"};
    char buf[128];
    gb_ctx(&f, "itera_platform", buf, sizeof buf);
    gb_ctx(&f, "itera_threads", buf, sizeof buf);
    for (int i = 0; i < f.n_cells; i++) {
        const gb_cell *c = &f.cells[i];
        if (gb_file_cell(&f, c->run_name) != c) abort(); /* first cell by name is itself */
        if (!gb_file_cell_canon(&f, c->canon)) abort();
        for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
            double v[16], x, lo, hi;
            gb_cell_values(c, metrics[m], v, 16);
            gb_cell_mean(c, metrics[m], &x);
            gb_cell_stddev(c, metrics[m], &x);
            gb_cell_range(c, metrics[m], &lo, &hi);
        }
    }
    gb_file_free(&f);
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/itera-fuzz-results-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
        atexit(remove_dir);
    }
    char path[300], out[300];
    snprintf(path, sizeof path, "%s/in.json", dir);
    snprintf(out, sizeof out, "%s/report", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (size && fwrite(data, 1, size, fp) != size) abort();
    fclose(fp);
    const char *rep[] = {"report", "--no-charts", path, "-o", out, NULL};
    report(5, rep);
    const char *cmp[] = {"compare", path, path, NULL};
    compare(3, cmp);
    const char *var[] = {"compare", "--variants", "sequential,chunked", path, NULL};
    compare(4, var);
    return 0;
}
