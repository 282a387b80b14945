/* cmd_scan.c: `itera scan`: times the standalone selective scan (itera_scan_bench_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: itera scan [options]\n"
    "Times one selective scan of random inputs (no model): ms per scan (median and best of\n"
    "the repetitions) and GFLOP/s, for every kernel or the one asked. Defaults are the\n"
    "report's kernel-table shape.\n\n"
    "  --channels C      channels E (default 256)\n"
    "  --state N         state size N (default 64)\n"
    "  --seq L           tokens per row (default 128)\n"
    "  --batch B         rows (default 4)\n"
    "  --threads T       worker threads (default 1)\n"
    "  --kernel K        {kernels}|auto (default: every kernel, then auto's pick)\n"
    "  --chunk T         chunk length of the chunked kernel (default: measured)\n"
    "  --reps R          timed repetitions (default: as many as fit 0.3 s, 5..10000)\n"
    "  --seed S          input seed (default 1)\n"
    "  --help            this text\n";

enum { OPT_CHANNELS = OPT_FIRST_COMMAND_OPT, OPT_STATE, OPT_SEQ, OPT_BATCH, OPT_REPS, OPT_SEED };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times kernel k; returns 0 and the median ms, or 2 on error (printed). */
static int time_kernel(itera_scan_opts o, itera_kernel k, long reps, double *med_ms, double *best_ms,
                       itera_kernel *ran)
{
    itera_error err;
    itera_scan_bench *s;
    o.kernel = k;
    if (itera_scan_bench_create(&o, &s, &err) != ITERA_OK) return cli_error("scan", "%s", err.msg);
    *ran = itera_scan_bench_kernel(s);
    /* warm-up: at least 2 runs and 50 ms */
    double t0 = cli_now();
    int warm = 0;
    for (; warm < 2 || cli_now() - t0 < 0.05; warm++) itera_scan_bench_run(s);
    double one = (cli_now() - t0) / warm;
    long n = reps;
    if (n <= 0) {
        n = one > 0 ? (long)(0.3 / one) : 10000;
        if (n < 5) n = 5;
        if (n > 10000) n = 10000;
    }
    double *ms = malloc((size_t)n * sizeof *ms);
    if (!ms) {
        itera_scan_bench_free(s);
        return cli_error("scan", "out of memory");
    }
    for (long i = 0; i < n; i++) {
        double a = cli_now();
        itera_scan_bench_run(s);
        ms[i] = (cli_now() - a) * 1e3;
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    *med_ms = ms[n / 2];
    *best_ms = ms[0];
    double gflop = itera_scan_bench_flops(s) / 1e9;
    printf("scan kernel=%s channels=%d state=%d seq=%d batch=%d threads=%d", itera_kernel_name(*ran), o.E,
           o.N, o.L, o.B, o.threads);
    if (itera_kernel_info_get(*ran)->takes_chunk) printf(" chunk=%d", itera_scan_bench_chunk(s));
    printf(" reps=%ld ms=%.4f best_ms=%.4f gflops=%.1f", n, *med_ms, *best_ms, gflop / (*med_ms * 1e-3));
    free(ms);
    itera_scan_bench_free(s);
    return 0;
}

int cmd_scan(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"channels", required_argument, NULL, OPT_CHANNELS},
        {"state", required_argument, NULL, OPT_STATE},
        {"seq", required_argument, NULL, OPT_SEQ},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"chunk", required_argument, NULL, OPT_CHUNK},
        {"reps", required_argument, NULL, OPT_REPS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    itera_scan_opts o = {.E = 256, .N = 64, .B = 4, .L = 128, .threads = 1, .seed = 1};
    bool all = true;
    long v, reps = 0;
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    int c, rc;
    while ((c = cli_next_opt("scan", argc, argv, "", longopts, usage, NULL, &rc)) != -1) {
        switch (c) {
        case CLI_STOP: return rc;
        case OPT_CHANNELS:
            if (!cli_int("scan", "--channels", optarg, 1, 65536, &v)) return EXIT_BAD_INPUT;
            o.E = (int)v;
            break;
        case OPT_STATE:
            if (!cli_int("scan", "--state", optarg, 1, 4096, &v)) return EXIT_BAD_INPUT;
            o.N = (int)v;
            break;
        case OPT_SEQ:
            if (!cli_int("scan", "--seq", optarg, 1, 1 << 20, &v)) return EXIT_BAD_INPUT;
            o.L = (int)v;
            break;
        case OPT_BATCH:
            if (!cli_int("scan", "--batch", optarg, 1, 4096, &v)) return EXIT_BAD_INPUT;
            o.B = (int)v;
            break;
        case OPT_REPS:
            if (!cli_int("scan", "--reps", optarg, 1, 1000000, &v)) return EXIT_BAD_INPUT;
            reps = v;
            break;
        case OPT_SEED:
            if (!cli_int("scan", "--seed", optarg, 0, 0x7fffffffL, &v)) return EXIT_BAD_INPUT;
            o.seed = (uint64_t)v;
            break;
        case OPT_THREADS:
        case OPT_KERNEL:
        case OPT_CHUNK:
            if (cli_model_opt("scan", &mo, c, optarg) < 0) return EXIT_BAD_INPUT;
            if (c == OPT_KERNEL) all = false;
            break;
        default: return cli_bad_option("scan", argv);
        }
    }
    if (optind < argc) return cli_error("scan", "unexpected argument '%s' (see itera scan --help)", argv[optind]);
    o.threads = mo.threads;
    o.chunk = mo.chunk;

    double med, best, seq_ms = 0;
    itera_kernel ran;
    if (!all) {
        rc = time_kernel(o, mo.kernel, reps, &med, &best, &ran);
        if (!rc) printf("%s\n", mo.kernel == ITERA_KERNEL_AUTO ? " (auto)" : "");
        return rc;
    }
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        rc = time_kernel(o, (itera_kernel)k, reps, &med, &best, &ran);
        if (rc) return rc;
        if (k == ITERA_KERNEL_REFERENCE) seq_ms = med;
        printf(" speedup=%.2f\n", seq_ms / med);
    }
    printf("auto=%s\n", itera_kernel_name(itera_scan_auto(o.B, o.L, o.E, o.N, o.threads)));
    return 0;
}
