/*
 * test_load.c: bench/load.h: reading /proc/stat and /proc/pressure/cpu from fixture roots
 * (tests/data/load/<case>/proc/...), the window arithmetic and the contention rule on
 * constructed samples, and the rule's parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tol %g)", got, want, tol);
}

static void test_read_fixtures(void **state)
{
    (void)state;
    double hz = (double)sysconf(_SC_CLK_TCK);
    load_sample s;
    bench_error e;
    assert_int_equal(load_read("tests/data/load/basic", &s, &e), BENCH_OK);
    assert_int_equal(s.ncpu, 2);
    assert_int_equal(s.procs_running, 4);
    assert_close(s.idle_s, (118257 + 1545) / hz, 1e-9);
    assert_close(s.steal_s, 231 / hz, 1e-9);
    assert_close(s.total_s, (186786 + 12 + 34674 + 118257 + 1545 + 0 + 351 + 231) / hz, 1e-6);
    assert_close(s.psi_some_us, 652225834, 0);
    assert_true(s.wall_s > 0 && s.self_cpu_s > 0);

    /* a kernel without PSI and with only the four oldest fields */
    assert_int_equal(load_read("tests/data/load/nopsi", &s, &e), BENCH_OK);
    assert_int_equal(s.ncpu, 1);
    assert_close(s.psi_some_us, -1, 0);
    assert_int_equal(s.procs_running, -1);
    assert_close(s.idle_s, 1000 / hz, 1e-9);
    assert_close(s.steal_s, 0, 0);

    assert_int_equal(load_read("tests/data/load/bad", &s, &e), BENCH_ERR_SYSTEM);
    assert_non_null(strstr(e.msg, "tests/data/load/bad/proc/stat: no aggregate cpu line"));
    assert_int_equal(load_read("tests/data/load/none", &s, &e), BENCH_ERR_SYSTEM);
    assert_non_null(strstr(e.msg, "tests/data/load/none/proc/stat: cannot read"));

    /* this machine: readable, and two reads make a window */
    load_sample a, b;
    assert_int_equal(load_read(NULL, &a, &e), BENCH_OK);
    assert_int_equal(load_read("/", &b, &e), BENCH_OK);
    assert_true(a.ncpu >= 1);
    load_window w;
    load_window_make(&a, &b, NULL, 1, &w);
    assert_true(w.wall_s >= 0 && w.other_cpu >= 0);
}

/* Two samples one second apart on a 2-CPU machine. */
static void pair(load_sample *a, load_sample *b, double self, double idle, double steal,
                 double psi_us)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    a->ncpu = b->ncpu = 2;
    a->procs_running = 3;
    b->procs_running = 1;
    a->wall_s = 10;
    b->wall_s = 11;
    a->self_cpu_s = 5;
    b->self_cpu_s = 5 + self;
    a->idle_s = 100;
    b->idle_s = 100 + idle;
    a->total_s = 1000;
    b->total_s = 1002;
    a->steal_s = 1;
    b->steal_s = 1 + steal;
    a->psi_some_us = 1e6;
    b->psi_some_us = 1e6 + psi_us;
}

static void test_window_rule(void **state)
{
    (void)state;
    load_rule r;
    bench_error e;
    assert_int_equal(load_rule_parse(NULL, &r, &e), BENCH_OK);
    assert_true(r.enabled);
    assert_close(r.max_other_cpu, LOAD_DEFAULT_OTHER_CPU, 0);
    load_sample a, b;
    load_window w;

    /* quiet: our 2 threads used 1.9 cores, 0.05 s idle: others 0.05 cores */
    pair(&a, &b, 1.9, 0.05, 0, 10000);
    load_window_make(&a, &b, &r, 2, &w);
    assert_close(w.wall_s, 1, 1e-12);
    assert_close(w.other_cpu, 0.05, 1e-9);
    assert_close(w.pressure_pct, 1.0, 1e-9);
    assert_int_equal(w.runnable_others, 2);
    assert_false(w.contended);
    assert_string_equal(w.why, "");

    /* a one-thread cell while another process keeps the other CPU busy */
    pair(&a, &b, 1.0, 0.0, 0, 0);
    load_window_make(&a, &b, &r, 1, &w);
    assert_close(w.other_cpu, 1.0, 1e-9);
    assert_true(w.contended);
    assert_non_null(strstr(w.why, "other processes used 1.00 cores (limit 0.25)"));

    /* the hypervisor took 10% of the CPUs' time */
    pair(&a, &b, 1.95, 0.05, 0.2, 0);
    load_window_make(&a, &b, &r, 2, &w);
    assert_close(w.steal_pct, 10, 1e-9);
    assert_true(w.contended);
    assert_non_null(strstr(w.why, "steal 10.0%"));

    /* CPU pressure 30%: contended for 2 threads on 2 CPUs; not for an emulated 12-thread
     * cell, which stalls itself */
    pair(&a, &b, 1.95, 0.05, 0, 300000);
    load_window_make(&a, &b, &r, 2, &w);
    assert_true(w.contended);
    assert_non_null(strstr(w.why, "CPU pressure 30.0%"));
    load_window_make(&a, &b, &r, 12, &w);
    assert_false(w.contended);

    /* our own CPU time beyond the wall time of the idle CPUs: clamped at 0 */
    pair(&a, &b, 2.0, 0.05, 0, 0);
    load_window_make(&a, &b, &r, 2, &w);
    assert_close(w.other_cpu, 0, 0);

    /* no PSI: pressure unknown, never decides */
    pair(&a, &b, 1.95, 0.05, 0, 0);
    a.psi_some_us = b.psi_some_us = -1;
    load_window_make(&a, &b, &r, 2, &w);
    assert_true(isnan(w.pressure_pct));
    assert_false(w.contended);

    /* the rule off: measured, never marked */
    assert_int_equal(load_rule_parse("off", &r, &e), BENCH_OK);
    pair(&a, &b, 1.0, 0.0, 0, 0);
    load_window_make(&a, &b, &r, 1, &w);
    assert_close(w.other_cpu, 1.0, 1e-9);
    assert_false(w.contended);

    /* custom limits */
    assert_int_equal(load_rule_parse("cpu=1.5,pressure=50", &r, &e), BENCH_OK);
    load_window_make(&a, &b, &r, 1, &w);
    assert_false(w.contended);
    char buf[512];
    assert_non_null(strstr(load_rule_describe(&r, buf, sizeof buf), "more than 1.50 cores"));
}

static void test_rule_errors(void **state)
{
    (void)state;
    load_rule r;
    bench_error e;
    assert_int_equal(load_rule_parse("cpu=x", &r, &e), BENCH_ERR_INPUT);
    assert_non_null(strstr(e.msg, "'cpu=x' is not KEY=NUMBER"));
    assert_int_equal(load_rule_parse("cpu=-1", &r, &e), BENCH_ERR_INPUT);
    assert_int_equal(load_rule_parse("load=3", &r, &e), BENCH_ERR_INPUT);
    assert_non_null(strstr(e.msg, "unknown key 'load'"));
    assert_true(r.enabled); /* defaults after an error */
    assert_close(r.max_other_cpu, LOAD_DEFAULT_OTHER_CPU, 0);
    setenv("ITERA_CONTENTION", "steal=oops", 1);
    assert_int_equal(load_rule_from_env(&r, &e), BENCH_ERR_INPUT);
    assert_non_null(strstr(e.msg, "ITERA_CONTENTION: contention rule 'steal=oops'"));
    setenv("ITERA_CONTENTION", "steal=2", 1);
    assert_int_equal(load_rule_from_env(&r, &e), BENCH_OK);
    assert_close(r.max_steal_pct, 2, 0);
    unsetenv("ITERA_CONTENTION");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_fixtures),
        cmocka_unit_test(test_window_rule),
        cmocka_unit_test(test_rule_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
