/*
 * main.c: the `itera-bench` command line: run, list, info, report, compare.
 *
 * Exit status: 0 success, 1 a failed check (a cell failed, a file could not be written),
 * 2 bad usage or input. Every command answers --help.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "argopt.h"
#include "itera.h"
#include "machine.h"
#include "peak.h"
#include "pin.h"
#include "platform.h"
#include "profile.h"
#include "alloc.h"
#include "merge.h"
#include "runner.h"
#include "summary.h"
#include "schema.h"
#include "shard.h"
#include "status.h"
#include "submit.h"

#include <jansson.h>

#include "ab.h"
#include "compare.h"
#include "report.h"

/* The process exit status of a bench_status: the one place exit codes are decided
 * (status.h). 0 success; 2 bad usage or input; 1 every other failure (a check failed, a
 * file could not be written, the OS refused). */
static int bench_exit_code(bench_status s)
{
    switch (s) {
    case BENCH_OK: return 0;
    case BENCH_ERR_INPUT: return 2;
    default: return 1;
    }
}

static void usage(FILE *f)
{
    fputs("usage: itera-bench <command> [options]\n"
          "\n"
          "Benchmarks the Itera-Lite reference engine (libitera) on platform profiles and\n"
          "writes Google Benchmark JSON results.\n"
          "\n"
          "commands:\n"
          "  run       run a sweep: a platform x a profile -> results/<machine>/<platform>/<profile>.json\n"
          "  list      the platforms, profiles, kernels, quants and counters you can use\n"
          "  info      this machine: fingerprint, topology, ISA path, measured peak, counters\n"
          "  schema    the results schema: benchmark names, counters, context keys\n"
          "  report    render markdown tables and charts from result files\n"
          "  summary   the end-of-run table of a result file (what `run` prints last)\n"
          "  compare   compare two result files (or two variants within one): verdicts\n"
          "            with intervals, the noise threshold and a --fail-above gate\n"
          "  ab        interleaved A/B of two revisions (or two variants): builds both,\n"
          "            alternates them cell by cell in fresh processes, compares\n"
          "  noise     this machine's noise threshold per family (an A/A of this build)\n"
          "  merge     join the shard files of `run --shard I/N` into one results file\n"
          "  submit    run a sweep on a Slurm cluster: a job array of shards + a merge job\n"
          "  help      this text\n"
          "\n"
          "`itera-bench <command> --help` explains a command. Start with:\n"
          "  itera-bench list\n"
          "  itera-bench run --platform embedded --profile ci\n"
          "or from the repository: make bench PLATFORM=embedded PROFILE=ci\n"
          "The engine itself (verify, perplexity, generate, quantize, profile, scan):\n"
          "build/itera --help. Every make target: make help.\n",
          f);
}

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: itera-bench run [--platform P] [--profile X] [--out FILE] [--resume]\n"
            "                       [--emulate] [--model DIR] [--machine NAME] [--verbose]\n"
            "                       [--set KEY=VALUE]... [--shard I/N]\n"
            "                       [Google Benchmark flags...]\n"
            "\n"
            "Runs every cell of profile X (the cartesian product of its axes) on platform P\n"
            "and writes Google Benchmark JSON (GB's compare.py reads it).\n"
            "\n"
            "  --platform P   platforms/P.ini or a path (default embedded); see `itera-bench list`\n"
            "  --profile X    profiles/X.ini or a path (default default)\n"
            "  --out FILE     results file (default results/<machine>/<platform>/<profile>.json,\n"
            "                 or <profile>.<tag>.json beside it when that file holds another\n"
            "                 machine's, model's or build's run: it is never overwritten); each\n"
            "                 finished cell is also appended to FILE.journal as it completes\n"
            "  --resume       keep the cells FILE.journal already has, run only the missing\n"
            "                 ones, then write the complete FILE (make bench RESUME=1)\n"
            "  --emulate      run a platform with more cores than this host has: its worker\n"
            "                 threads share the cores there are, and every result is marked\n"
            "                 emulated (make bench EMULATE=1). Without it such a platform is\n"
            "                 refused with exit 2.\n"
            "  --model DIR    a model folder (config.json + model.safetensors); default: the\n"
            "                 engine's synthetic model (seed %u)\n"
            "  --machine NAME this machine's name in the results (itera_machine; default:\n"
            "                 ITERA_MACHINE, else derived from the CPU, e.g.\n"
            "                 xeon-sapphirerapids-2c); [a-z0-9-], at most 63 characters\n"
            "  --set K=V      override profile key K (same syntax as the file), repeatable,\n"
            "                 e.g. --set seq=64,128 --set threads=1,platform --set quants=int8\n"
            "                 keys: %s\n"
            "  --shard I/N    run only shard I (0..N-1) of N: the cells whose index in the\n"
            "                 profile's order (itera-bench list --cells) is I mod N; the file\n"
            "                 (default results/<machine>/<platform>/<profile>.shard-I-of-N.json) records\n"
            "                 the shard and the full cell list; itera-bench merge joins shards\n"
            "  -v, --verbose  also show Google Benchmark's own lines (one per repetition) on\n"
            "                 stderr; they always go to the log beside the results (make V=1)\n"
            "  --serve        (for itera-bench ab) set up, print \"ready N\", then run one\n"
            "                 cell per stdin line \"run CELL\" (as a run measures it) or \"run\n"
            "                 CELL ITERATIONS\" (exactly that many timed iterations after a short\n"
            "                 warm-up, no op profile) and answer \"ok CELL ... ITERATIONS FIT\"\n"
            "                 (FIT: the count that fills min_time at this run's speed) or\n"
            "                 \"err CELL MESSAGE\"; \"quit\" writes FILE with the cells run\n"
            "  --benchmark_filter=REGEX  run only the cells whose name matches (POSIX extended\n"
            "                 regex, searched; a leading '-' runs those that do not match); the\n"
            "                 results record the filter and the cells it left out, and a run\n"
            "                 whose selected cells all finished is complete (exit 0)\n"
            "  --benchmark_*  other Google Benchmark flags, e.g. --benchmark_repetitions=N,\n"
            "                 --benchmark_min_time=SECONDS, --benchmark_list_tests,\n"
            "                 --benchmark_enable_random_interleaving=true (these win over the\n"
            "                 profile's repetitions and min_time)\n"
            "\n"
            "Output: on a terminal one progress line (cell i/N, name, elapsed, time left, the\n"
            "last cell's median tokens/s), elsewhere one line per finished cell, on stderr;\n"
            "Google Benchmark's console output in FILE's .log; at the end the summary table\n"
            "(itera-bench summary FILE prints it again) and the results and log paths on\n"
            "stdout. Ctrl-C (or SIGTERM) stops after the current repetition: the finished\n"
            "cells stay in FILE.journal and the exact command that resumes is printed (a\n"
            "second Ctrl-C stops at once).\n"
            "Exit: 0 every selected cell ran, 1 a selected cell failed or did not finish\n"
            "(interrupted: --resume completes it), 2 bad usage or input.\n",
            ITERA_DEFAULT_SEED, profile_keys());
}

static const char *g_prog = "itera-bench"; /* argv[0] */

/* Appends arg to out[n] (at *used), quoted for a POSIX shell when it needs to be. */
static void shell_append(char *out, size_t n, size_t *used, const char *arg)
{
    bool plain = *arg != '\0';
    for (const char *p = arg; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%",
                    *p))
            plain = false;
    size_t j = *used;
    if (j && j + 1 < n)
        out[j++] = ' ';
    if (!plain && j + 1 < n)
        out[j++] = '\'';
    for (const char *p = arg; *p && j + 5 < n; p++) {
        if (*p == '\'' && !plain) {
            memcpy(out + j, "'\\''", 4);
            j += 4;
        } else {
            out[j++] = *p;
        }
    }
    if (!plain && j + 1 < n)
        out[j++] = '\'';
    out[j < n ? j : n - 1] = '\0';
    *used = j < n ? j : n - 1;
}

/* The command line that resumes `run` with these arguments: the same, plus --resume. */
static void resume_command(int argc, char **argv, char *out, size_t n)
{
    size_t used = 0;
    bool has_resume = false;
    out[0] = '\0';
    shell_append(out, n, &used, g_prog);
    for (int i = 0; i < argc; i++) {
        shell_append(out, n, &used, argv[i]);
        has_resume = has_resume || strcmp(argv[i], "--resume") == 0;
    }
    if (!has_resume)
        shell_append(out, n, &used, "--resume");
}

static int cmd_run(int argc, char **argv)
{
    runner_opts o = { 0 };
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    char **gb = calloc((size_t)argc + 2, sizeof *gb);
    int rc = 2;
    if (!sets || !gb) {
        fprintf(stderr, "itera-bench run: out of memory\n");
        goto out;
    }
    gb[0] = (char *)"itera-bench";
    o.gb_argc = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            run_usage(stdout);
            rc = 0;
            goto out;
        } else if (strcmp(a, "--resume") == 0) {
            o.resume = true;
        } else if (strcmp(a, "--emulate") == 0) {
            o.emulate = true;
        } else if (strcmp(a, "--serve") == 0) {
            o.serve = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = true;
        } else if (argopt_value(argc, argv, &i, "--shard", &v)) {
            bench_error se;
            bench_status sst = shard_parse(v, &o.shard, &se);
            if (sst != BENCH_OK) {
                fprintf(stderr, "itera-bench run: %s\n", se.msg);
                rc = bench_exit_code(sst);
                goto out;
            }
        } else if (argopt_value(argc, argv, &i, "--platform", &v) ||
                   argopt_value(argc, argv, &i, "--profile", &v) ||
                   argopt_value(argc, argv, &i, "--out", &v) ||
                   argopt_value(argc, argv, &i, "--model", &v) ||
                   argopt_value(argc, argv, &i, "--machine", &v) ||
                   argopt_value(argc, argv, &i, "--set", &v)) {
            if (!v || !*v) {
                fprintf(stderr, "itera-bench run: %s needs a value (see itera-bench run "
                        "--help)\n", a);
                goto out;
            }
            if (strncmp(a, "--platform", 10) == 0)
                o.platform = v;
            else if (strncmp(a, "--profile", 9) == 0)
                o.profile = v;
            else if (strncmp(a, "--out", 5) == 0)
                o.out = v;
            else if (strncmp(a, "--model", 7) == 0)
                o.model_dir = v;
            else if (strncmp(a, "--machine", 9) == 0)
                o.machine = v;
            else
                sets[o.nsets++] = v;
        } else {
            gb[o.gb_argc++] = argv[i]; /* Google Benchmark's, or unknown (reported) */
        }
    }
    o.sets = sets;
    o.gb_argv = gb;
    char resume[4096];
    resume_command(argc, argv, resume, sizeof resume);
    o.resume_command = resume;
    bench_error err;
    bench_status st = runner_run(&o, &err);
    if (st != BENCH_OK && err.msg[0])
        fprintf(stderr, "itera-bench run: %s\n", err.msg);
    rc = bench_exit_code(st);
out:
    free(sets);
    free(gb);
    return rc;
}

/* Cuts the first name off a ", "-separated list in place; returns the rest. */
static char *split_name(char *s)
{
    char *e = strstr(s, ", ");
    if (!e) return s + strlen(s);
    *e = '\0';
    return e + 2;
}

static int cmd_list(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--cells") == 0)
            return bench_exit_code(shard_list_cells_main(argc, argv));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: itera-bench list\n       itera-bench list --cells [--profile X] "
                 "[--platform P] [--set K=V]... [--shard I/N | --shards N]\n\nLists the "
                 "platforms (platforms/*.ini), the profiles (profiles/*.ini) with their cell "
                 "counts, the kernels, quants, profile keys and the counters written per "
                 "benchmark. With --cells: the cells of one profile in run order, with their "
                 "shard (see itera-bench list --cells --help).");
            return 0;
        }
        fprintf(stderr, "itera-bench list: unknown argument '%s' (see --help)\n", argv[i]);
        return 2;
    }
    char names[2048], path[PATH_MAX];
    bench_error err;
    printf("platforms (platforms/NAME.ini; itera-bench run --platform NAME, make bench "
           "PLATFORM=NAME):\n");
    bench_data_list("platforms", names, sizeof names);
    for (char *s = names, *e; *s; s = e) {
        e = split_name(s);
        platform p;
        if (bench_data_find("platforms", s, path, sizeof path, &err) == BENCH_OK &&
            platform_load(path, &p, &err) == BENCH_OK) {
            char cores[32];
            if (p.cores)
                snprintf(cores, sizeof cores, "%d cores", p.cores);
            else
                snprintf(cores, sizeof cores, "all cores");
            printf("  %-10s %-10s %s\n", s, cores, p.description);
        } else {
            printf("  %-10s (invalid: %s)\n", s, err.msg);
        }
    }
    printf("\nprofiles (profiles/NAME.ini; --profile NAME, PROFILE=NAME; cells on a 2-thread "
           "platform):\n");
    bench_data_list("profiles", names, sizeof names);
    for (char *s = names, *e; *s; s = e) {
        e = split_name(s);
        profile p;
        bench_cell *cells = NULL;
        int n = 0;
        if (bench_data_find("profiles", s, path, sizeof path, &err) == BENCH_OK &&
            profile_load(path, &p, &err) == BENCH_OK &&
            profile_cells(&p, 2, &cells, &n, &err) == BENCH_OK) {
            printf("  %-10s %4d cells  %s\n", s, n, p.description);
            free(cells);
        } else {
            printf("  %-10s (invalid: %s)\n", s, err.msg);
        }
    }
    printf("\nfamilies: %s\n", bench_family_list());
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++)
        printf("  %s\n", bench_family_pattern((bench_family)f));
    printf("kernels: %s\n", itera_kernel_choices());
    for (int k = 0; k < ITERA_KERNEL_COUNT; k++) {
        const itera_kernel_info *ki = itera_kernel_info_get((itera_kernel)k);
        printf("  %-11s %s%s%s\n", ki->name, ki->summary, ki->takes_chunk ? " (takes a chunk length)" : "",
               k == ITERA_KERNEL_REFERENCE ? " [reference]" : "");
    }
    printf("quants:  %s\n", itera_quant_choices());
    for (int q = 0; q < ITERA_QUANT_COUNT; q++) {
        const itera_quant_info *qi = itera_quant_info_get((itera_quant)q);
        printf("  %-11s %s, %.1f bits per weight; activations: %s; matmul path here: %s%s\n", qi->name,
               qi->dtype, qi->bits_per_weight, qi->activations, itera_quant_isa((itera_quant)q),
               q == ITERA_QUANT_REFERENCE ? " [reference]" : "");
        printf("  %-11s %s\n", "", qi->summary);
    }
    printf("profile keys (files and --set KEY=VALUE): %s\n", profile_keys());
    const schema_entry *ctrs;
    int nctr = schema_counters(&ctrs);
    for (int pass = 0; pass < 2; pass++) {
        printf(pass == 0 ? "\ncounters per benchmark:" : ";\n  prefill and decode also");
        /* pass 0: every family's (not GB's own times); pass 1: prefill and decode's */
        for (int i = 0, k = 0; i < nctr; i++)
            if (strcmp(ctrs[i].a, ENT_TIME_UNIT) != 0 &&
                strcmp(ctrs[i].b, pass == 0 ? "all" : "prefill decode") == 0)
                printf("%s %s", k++ ? "," : "", ctrs[i].name);
    }
    printf(";\n  events per token (<event>%s, ITERA_COUNTERS=auto|software|off):",
           MET_PER_TOKEN_SUFFIX);
    for (int e = 0; e < CTR_EVENT_COUNT; e++)
        printf("%s %s%s", e ? "," : "", counters_event_name((counters_event)e),
               counters_event_is_hardware((counters_event)e) ? " (hw)" : "");
    printf("\n\nnext: itera-bench run --platform embedded --profile ci (or make bench "
           "PLATFORM=embedded);\n  every command: itera-bench --help, build/itera --help "
           "(the engine), make help\n");
    return 0;
}

static int cmd_summary(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: itera-bench summary FILE.json\n\nPrints the table `itera-bench run` "
                 "ends with, for any results file: one row per\n(family, quant, kernel, "
                 "threads) at the family's headline shape, with median tokens/s\n\u00b1 its "
                 "MAD, latency, speed-up against FP32 or the sequential kernel, and accuracy\n"
                 "against FP32 for quantized rows.");
            return 0;
        }
        if (path) {
            fprintf(stderr, "itera-bench summary: one results file, not '%s' too\n", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "itera-bench summary: which results file? (usage: itera-bench summary "
                "FILE.json)\n");
        return 2;
    }
    gb_file f;
    bench_error err;
    bench_status st = gb_file_load(path, &f, &err);
    if (st != BENCH_OK) {
        fprintf(stderr, "itera-bench summary: %s\n", err.msg);
        return bench_exit_code(st);
    }
    summary_print(stdout, &f);
    gb_file_free(&f);
    return 0;
}

static void info_usage(FILE *f)
{
    fputs("usage: itera-bench info [--json] [--machine NAME] [--threads N [--emulate]]\n"
          "\n"
          "Shows this machine: its fingerprint (the itera_machine_* keys every results file\n"
          "carries), topology (hwloc), ISA paths, the peak measured by the FMA / int8 probe\n"
          "on one core and on every core (bound), and which counters can be read.\n"
          "\n"
          "  --json          print only the fingerprint, as {\"context\": {...}} with the keys\n"
          "                  a results file's context holds (Google Benchmark's host_name,\n"
          "                  num_cpus, mhz_per_cpu, cpu_scaling_enabled, caches and the\n"
          "                  itera_machine_* keys), for scripts such as the PyTorch peer; no\n"
          "                  probe runs\n"
          "  --machine NAME  the machine's name (default: ITERA_MACHINE, else derived from\n"
          "                  the CPU, e.g. xeon-sapphirerapids-2c); [a-z0-9-], at most 63\n"
          "  --threads N     probe the peak as a run of N worker threads would (default: one\n"
          "                  per core): one probe thread per core there is, never more\n"
          "  --emulate       with --threads above the cores: plan the threads onto the cores\n"
          "                  there are, as run --emulate does (the probe still uses one\n"
          "                  thread per core, so the peak is the host's cores')\n"
          "Exit: 0 done, 1 the peak probe or the topology failed, 2 bad usage.\n",
          f);
}

static int cmd_info(int argc, char **argv)
{
    bool json = false, emulate = false;
    const char *name = NULL;
    int want_threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            info_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--emulate") == 0) {
            emulate = true;
        } else if (argopt_value(argc, argv, &i, "--threads", &v)) {
            char *end = NULL;
            long t = v ? strtol(v, &end, 10) : 0;
            if (!v || end == v || *end || t < 1 || t > PIN_MAX_WORKERS) {
                fprintf(stderr, "itera-bench info: --threads needs a whole number in 1..%d, not '%s'\n",
                        PIN_MAX_WORKERS, v ? v : "");
                return 2;
            }
            want_threads = (int)t;
        } else if (argopt_value(argc, argv, &i, "--machine", &v)) {
            if (!v) {
                fprintf(stderr, "itera-bench info: --machine needs a value\n");
                return 2;
            }
            name = v;
        } else {
            fprintf(stderr, "itera-bench info: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    machine_info m;
    bench_error be;
    bench_status st = machine_read(NULL, itera_isa_name(itera_isa_best()), &m, &be);
    if (st == BENCH_OK)
        st = machine_choose_name(&m, name, &be);
    if (st != BENCH_OK) {
        fprintf(stderr, "itera-bench info: %s\n", be.msg);
        return bench_exit_code(st);
    }
    if (json) {
        json_t *ctx = json_object();
        machine_to_gb_context(&m, ctx);
        machine_to_context(&m, ctx);
        json_t *root = json_pack("{s:o}", RES_CONTEXT, ctx);
        char *text = json_dumps(root, JSON_INDENT(2));
        json_decref(root);
        if (!text) {
            fprintf(stderr, "itera-bench info: out of memory\n");
            return bench_exit_code(BENCH_ERR_NOMEM);
        }
        puts(text);
        free(text);
        return 0;
    }
    char buf[2048];
    printf("machine: %s (name from %s; id %.16s... from %s)\n", m.name, m.name_source, m.id,
           m.id_source);
    printf("cpu: %s (%s family %d model %d stepping %d); %d core%s, %d thread%s online, "
           "%d allowed (%s)\n", m.cpu_model, m.cpu_vendor, m.cpu_family, m.cpu_model_number,
           m.cpu_stepping, m.cores, m.cores == 1 ? "" : "s", m.threads,
           m.threads == 1 ? "" : "s", m.threads_allowed, m.cpus_allowed);
    machine_field_format(&m, MACHINE_F_CACHES, buf, sizeof buf);
    printf("caches: %s; memory %.1f GiB; kernel %s\n", buf,
           (double)m.memory_bytes / (1024.0 * 1024 * 1024), m.kernel);
    printf("isa features: %s\n", m.isa_features);
    pin_topo *topo = NULL;
    if ((st = pin_topology_load(&topo, NULL, &be)) != BENCH_OK) {
        fprintf(stderr, "itera-bench info: topology: %s\n", be.msg);
        return bench_exit_code(st);
    }
    printf("topology: %s\n", pin_topo_machine_describe(topo));
    alloc_info alloc;
    alloc_read(&alloc, topo);
    char where[256];
    printf("allocation: %s; %s\n", alloc_describe(&alloc, buf, sizeof buf),
           alloc_where(&alloc, where, sizeof where));
    printf("isa: %s (best usable; ITERA_ISA caps it)\n", itera_isa_name(itera_isa_best()));
    for (int q = 0; q < ITERA_QUANT_COUNT; q++)
        printf("  %s matmul path: %s\n", itera_quant_name((itera_quant)q),
               itera_quant_isa((itera_quant)q));
    int cores = pin_topo_cores(topo);
    int threads = want_threads ? want_threads : cores < PIN_MAX_WORKERS ? cores : PIN_MAX_WORKERS;
    pin_plan plan;
    peak_result pk;
    int rc = 0;
    if (pin_plan_make(topo, threads, PIN_BIND_CORE, emulate, &plan, &be) == BENCH_OK &&
        peak_measure(itera_isa_best(), threads, &plan, &pk, &be) == BENCH_OK) {
        printf("peak: %s\n", peak_describe(&pk, buf, sizeof buf));
        printf("peak per thread of the all-cores probe: fp32 %.1f GFLOP/s, int8 %.1f G MAC/s "
               "(<= the per-core figure by construction)\n",
               pk.fp32_gflops_all / pk.threads_used, pk.int8_gmacs_all / pk.threads_used);
    } else {
        printf("peak: unavailable: %s\n", be.msg);
        rc = 1;
    }
    counters *c = NULL;
    if (counters_open(&c, &be) == BENCH_OK) {
        printf("counters: %s\n", counters_describe(c, buf, sizeof buf));
        counters_close(c);
    } else {
        printf("counters: none: %s\n", be.msg);
    }
    pin_topology_free(topo);
    return rc;
}

static int cmd_schema(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: itera-bench schema [--json]\n\n"
                 "The results schema (bench/schema.h): the benchmark families and their name\n"
                 "patterns, every counter a benchmark entry may hold and every context key a\n"
                 "results file may hold, with what each means. --json prints it for scripts\n"
                 "(scripts/itera_schema.py reads it; the PyTorch and ONNX Runtime peers write\n"
                 "only these names).");
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        fprintf(stderr, "itera-bench schema: unknown argument '%s' (see --help)\n", argv[i]);
        return 2;
    }
    if (json) {
        json_t *root = schema_json();
        char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
        json_decref(root);
        if (!text) {
            fprintf(stderr, "itera-bench schema: out of memory\n");
            return bench_exit_code(BENCH_ERR_NOMEM);
        }
        puts(text);
        free(text);
        return 0;
    }
    printf("results schema %s (bench/schema.h)\n\nbenchmark names:\n", SCHEMA_VERSION);
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++)
        printf("  %s\n", bench_family_pattern((bench_family)f));
    const schema_entry *v;
    int n = schema_counters(&v);
    printf("\ncounters (%s: %s):\n", "families", "all or prefill decode");
    for (int i = 0; i < n; i++)
        printf("  %-22s %-9s %-15s %s\n", v[i].name, v[i].a, v[i].b, v[i].c);
    printf("  <event>%-15s %-9s %-15s %s\n", MET_PER_TOKEN_SUFFIX, "per token", "all",
           "counters.h events over the timed loop / tokens");
    n = schema_context_keys(&v);
    printf("\ncontext keys (source: gb = Google Benchmark's, itera, machine = fingerprint; "
           "only in some files: shard, merge, slurm, peer; legacy = older files):\n");
    for (int i = 0; i < n; i++)
        printf("  %-32s %-8s %s\n", v[i].name, v[i].a, v[i].b);
    n = schema_top_keys(&v);
    printf("\ntop-level and op-profile keys:\n");
    for (int i = 0; i < n; i++)
        printf("  %-20s %s\n", v[i].name, v[i].a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    g_prog = argv[0];
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0)
        return cmd_summary(argc - 1, argv + 1);
    if (strcmp(cmd, "schema") == 0)
        return cmd_schema(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return bench_exit_code(report_main(argc - 1, argv + 1));
    if (strcmp(cmd, "compare") == 0 || strcmp(cmd, "ab") == 0 || strcmp(cmd, "noise") == 0) {
        bench_error e = { { 0 } };
        bench_status st = cmd[0] == 'c' ? compare_cmd(argc - 1, argv + 1, &e)
                          : cmd[0] == 'a' ? ab_cmd(argc - 1, argv + 1, &e)
                                          : noise_cmd(argc - 1, argv + 1, &e);
        if (st != BENCH_OK && e.msg[0])
            fprintf(stderr, "itera-bench %s: %s\n", cmd, e.msg);
        return bench_exit_code(st);
    }
    if (strcmp(cmd, "merge") == 0)
        return bench_exit_code(merge_main(argc - 1, argv + 1));
    if (strcmp(cmd, "submit") == 0)
        return bench_exit_code(submit_main(argc - 1, argv + 1));
    fprintf(stderr, "itera-bench: unknown command '%s'; commands: run, list, info, schema, "
            "report, summary, compare, ab, noise, merge, submit, help\n", cmd);
    return 2;
}
