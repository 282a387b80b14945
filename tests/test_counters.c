/*
 * test_counters.c: libpfm4/perf_event counters. On a machine without a PMU (this VM) the
 * auto mode must fall back to software events and say why the hardware ones are missing;
 * where hardware events do open, they must count. Forced software mode (parameter and
 * ITERA_COUNTERS), counts growing over busy work, threads created after open counted
 * (inherit) and threads that existed before open counted, multiplex scaling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"

static volatile double sink;

/* CPU time of the calling thread (so a loaded machine does not shorten the work). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Spins until this thread has used about `seconds` of CPU time. */
static void busy(double seconds)
{
    double t0 = now_s(), s = 0;
    while (now_s() - t0 < seconds)
        for (int i = 0; i < 1000; i++)
            s += (double)i * 1e-9;
    sink = s;
}

static double value_of(const counters_values *v, counters_event e, bool *found)
{
    for (int i = 0; i < v->n; i++)
        if (v->event[i] == e) {
            *found = true;
            return v->value[i];
        }
    *found = false;
    return 0;
}

static double must(const counters_values *v, counters_event e)
{
    bool found;
    double x = value_of(v, e, &found);
    if (!found)
        fail_msg("event %s not counted", counters_event_name(e));
    return x;
}

/* Opens in `mode`; skips the test (with the reason) when nothing at all can be counted. */
static counters *open_or_skip(counters_mode mode)
{
    counters *c = NULL;
    bench_error err = { { 0 } };
    int rc = counters_open_mode(&c, mode, &err);
    if (rc != 0)
        print_error("counters_open_mode: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    counters_values v;
    assert_int_equal(counters_read(c, &v), 0);
    if (v.n == 0) {
        char d[512];
        print_message("SKIPPED: no perf events can open here: %s\n", counters_describe(c, d, sizeof d));
        counters_close(c);
        skip();
    }
    return c;
}

static void test_auto_mode(void **state)
{
    (void)state;
    unsetenv("ITERA_COUNTERS");
    counters *c = NULL;
    bench_error err = { { 0 } };
    assert_int_equal(counters_open(&c, &err), BENCH_OK);
    counters_close(c);
    c = open_or_skip(COUNTERS_AUTO);
    char d[1024];
    counters_describe(c, d, sizeof d);
    print_message("counters here: %s\n", d);
    assert_int_equal(counters_get_mode(c), COUNTERS_AUTO);

    assert_int_equal(counters_start(c), 0);
    busy(0.03);
    assert_int_equal(counters_stop(c), 0);
    counters_values v;
    assert_int_equal(counters_read(c, &v), 0);
    for (int i = 0; i < v.n; i++)
        print_message("  %-18s %14.0f%s\n", v.name[i], v.value[i], v.multiplexed[i] ? " (multiplexed)" : "");

    /* software events are always there */
    assert_true(must(&v, CTR_TASK_CLOCK) >= 0.02e9);
    bool found;
    value_of(&v, CTR_CONTEXT_SWITCHES, &found);
    assert_true(found);
    value_of(&v, CTR_CPU_MIGRATIONS, &found);
    assert_true(found);
    value_of(&v, CTR_PAGE_FAULTS, &found);
    assert_true(found);
    assert_non_null(strstr(d, "software: task_clock_ns, context_switches, cpu_migrations, page_faults"));

    if (counters_hardware(c)) {
        /* a PMU: hardware events must count the busy loop */
        assert_true(v.hardware);
        assert_true(must(&v, CTR_CYCLES) > 1e6);
        assert_true(must(&v, CTR_INSTRUCTIONS) > 1e6);
        assert_non_null(strstr(d, "hardware: cycles"));
    } else {
        /* no PMU (e.g. this VM): the fallback, and the description says why */
        assert_false(v.hardware);
        value_of(&v, CTR_CYCLES, &found);
        assert_false(found);
        assert_non_null(strstr(d, "hardware unavailable: cycles"));
        assert_non_null(strstr(d, "perf_event_open: "));
        assert_non_null(strstr(d, "branch_misses"));
    }
    counters_close(c);
}

static void test_forced_software(void **state)
{
    (void)state;
    /* by parameter */
    counters *c = open_or_skip(COUNTERS_SOFTWARE);
    assert_false(counters_hardware(c));
    char d[1024];
    counters_describe(c, d, sizeof d);
    assert_non_null(strstr(d, "hardware not tried"));
    assert_null(strstr(d, "hardware:"));
    counters_values v;
    assert_int_equal(counters_start(c), 0);
    busy(0.01);
    assert_int_equal(counters_stop(c), 0);
    assert_int_equal(counters_read(c, &v), 0);
    assert_int_equal(v.n, 4);
    assert_false(v.hardware);
    counters_close(c);

    /* by environment */
    bench_error err = { { 0 } };
    setenv("ITERA_COUNTERS", "software", 1);
    assert_int_equal(counters_open(&c, &err), BENCH_OK);
    assert_int_equal(counters_get_mode(c), COUNTERS_SOFTWARE);
    assert_false(counters_hardware(c));
    counters_close(c);

    setenv("ITERA_COUNTERS", "off", 1);
    assert_int_equal(counters_open(&c, &err), BENCH_OK);
    assert_int_equal(counters_start(c), 0);
    assert_int_equal(counters_read(c, &v), 0);
    assert_int_equal(v.n, 0);
    assert_non_null(strstr(counters_describe(c, d, sizeof d), "off"));
    counters_close(c);

    setenv("ITERA_COUNTERS", "hardwar", 1);
    c = (counters *)&c; /* must be reset to NULL */
    assert_int_equal(counters_open(&c, &err), BENCH_ERR_INPUT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "ITERA_COUNTERS=hardwar"));
    assert_non_null(strstr(err.msg, "auto, software or off"));
    unsetenv("ITERA_COUNTERS");

    counters_mode m = COUNTERS_OFF;
    assert_int_equal(counters_mode_parse("software", &m), 0);
    assert_int_equal(m, COUNTERS_SOFTWARE);
    assert_int_equal(counters_mode_parse("sw", &m), -1);
    assert_int_equal(m, COUNTERS_SOFTWARE);
}

/* Counts grow with the work, and each start begins from zero. */
static void test_counts_increase(void **state)
{
    (void)state;
    counters *c = open_or_skip(COUNTERS_AUTO);
    counters_values v1, v2, mid;
    assert_int_equal(counters_start(c), 0);
    busy(0.01);
    assert_int_equal(counters_read(c, &mid), 0); /* while running */
    busy(0.01);
    assert_int_equal(counters_read(c, &v1), 0);
    assert_true(must(&v1, CTR_TASK_CLOCK) > must(&mid, CTR_TASK_CLOCK));
    assert_int_equal(counters_stop(c), 0);
    assert_int_equal(counters_read(c, &v1), 0);

    /* page faults: touch fresh memory */
    assert_int_equal(counters_start(c), 0);
    size_t bytes = 16u << 20;
    char *mem = malloc(bytes);
    assert_non_null(mem);
    for (size_t i = 0; i < bytes; i += 4096)
        mem[i] = (char)i;
    sink = mem[bytes / 2];
    free(mem);
    busy(0.04);
    assert_int_equal(counters_stop(c), 0);
    assert_int_equal(counters_read(c, &v2), 0);
    assert_true(must(&v2, CTR_PAGE_FAULTS) >= 1000);
    double t1 = must(&v1, CTR_TASK_CLOCK), t2 = must(&v2, CTR_TASK_CLOCK);
    assert_true(t1 >= 0.015e9 && t1 < 0.2e9); /* ~20 ms, not a running total */
    assert_true(t2 > t1);
    if (counters_hardware(c))
        assert_true(must(&v2, CTR_INSTRUCTIONS) > must(&v1, CTR_INSTRUCTIONS));
    counters_close(c);
}

static pthread_barrier_t go;

/* Threads of this process now (/proc/self/task). */
static int process_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void *spinner(void *arg)
{
    bool wait = arg != NULL;
    if (wait)
        pthread_barrier_wait(&go);
    busy(0.03);
    return NULL;
}

/* The whole process: a thread existing at open and one created after both count. */
static void test_threads_counted(void **state)
{
    (void)state;
    assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
    pthread_t early, late;
    assert_int_equal(pthread_create(&early, NULL, spinner, (void *)1), 0);
    /* this thread, the early one, and any the runtime has (ThreadSanitizer adds one) */
    const int before = process_threads();
    assert_true(before >= 2);
    counters *c = open_or_skip(COUNTERS_SOFTWARE);
    char d[512], want[64];
    counters_describe(c, d, sizeof d);
    snprintf(want, sizeof want, "%d threads at open", before);
    if (!strstr(d, want)) print_error("description: %s (expected '%s')\n", d, want);
    assert_non_null(strstr(d, want));

    counters_values v;
    assert_int_equal(counters_start(c), 0);
    pthread_barrier_wait(&go); /* the early thread spins ~30 ms while we block */
    pthread_join(early, NULL);
    assert_int_equal(pthread_create(&late, NULL, spinner, NULL), 0);
    pthread_join(late, NULL);
    assert_int_equal(counters_stop(c), 0);
    assert_int_equal(counters_read(c, &v), 0);
    double t = must(&v, CTR_TASK_CLOCK);
    print_message("task clock over two 30 ms threads: %.1f ms\n", t * 1e-6);
    assert_true(t >= 0.05e9);
    counters_close(c);
    pthread_barrier_destroy(&go);
}

static void test_scale(void **state)
{
    (void)state;
    bool m = true;
    assert_true(counters_scale(1000, 50, 50, &m) == 1000.0);
    assert_false(m);
    assert_true(counters_scale(1000, 100, 25, &m) == 4000.0);
    assert_true(m);
    assert_true(counters_scale(0, 100, 0, &m) == 0.0);
    assert_true(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_mode),
        cmocka_unit_test(test_forced_software),
        cmocka_unit_test(test_counts_increase),
        cmocka_unit_test(test_threads_counted),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
