/*
 * test_peak.c: the machine-peak probe on every ISA this CPU has (one thread and all cores,
 * pinned), its description, and its errors. Figures are printed, never asserted as
 * targets; the asserts check that the numbers are sane, ordered where the ISA width
 * guarantees it (an AVX-512 FMA loop is far more than twice a scalar one), and that the
 * all-cores figure never exceeds the cores it ran on (1, 2 and an emulated 12 threads).
 * No timing bound that a busy machine could break.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "peak.h"

/* Every ISA the hardware has is probed, whatever ITERA_ISA caps the engine to. */
static bool have(itera_isa isa)
{
    return isa <= itera_isa_hw();
}

static void test_each_isa_one_thread(void **state)
{
    (void)state;
    peak_result r[ITERA_ISA_COUNT];
    memset(r, 0, sizeof r);
    for (int i = 0; i < ITERA_ISA_COUNT; i++) {
        if (!have((itera_isa)i)) {
            print_message("%s: not on this CPU, not probed\n", itera_isa_name((itera_isa)i));
            continue;
        }
        bench_error err = { { 0 } };
        char d[256];
        int rc = peak_measure((itera_isa)i, 1, NULL, &r[i], &err);
        if (rc != 0)
            print_error("%s\n", err.msg);
        assert_int_equal(rc, 0);
        print_message("%s\n", peak_describe(&r[i], d, sizeof d));
        assert_int_equal(r[i].isa, i);
        assert_int_equal(r[i].threads, 1);
        assert_true(r[i].fp32_gflops_core > 0.1 && r[i].fp32_gflops_core < 1e4);
        assert_true(r[i].int8_gmacs_core > 0.1 && r[i].int8_gmacs_core < 1e5);
        assert_true(r[i].fp32_gflops_all == r[i].fp32_gflops_core);
        assert_int_equal(r[i].threads_used, 1);
        assert_true(r[i].seconds > 0);
    }
    if (have(ITERA_ISA_AVX512))
        assert_true(r[ITERA_ISA_AVX512].fp32_gflops_core > 2 * r[ITERA_ISA_SCALAR].fp32_gflops_core);
    if (have(ITERA_ISA_AVX512VNNI)) {
        assert_string_equal(r[ITERA_ISA_AVX512VNNI].int8_path, "avx512vnni");
        assert_true(r[ITERA_ISA_AVX512VNNI].int8_gmacs_core > 2 * r[ITERA_ISA_SCALAR].int8_gmacs_core);
    }
}

/* The all-cores figure of a probe asked for `threads` threads never exceeds the cores'
 * peak: per probe thread it is at most the per-core figure (x 1.1 for the margin;
 * by construction it is at most 1.0x), and never more threads than cores are used. No
 * lower bounds: a busy machine may slow any figure. */
static void check_probe(int threads, bool emulate)
{
    pin_topo *t = NULL;
    bench_error err = { { 0 } };
    char d[512];
    assert_int_equal(pin_topology_load(&t, NULL, &err), BENCH_OK);
    int cores = pin_topo_cores(t);
    if (threads > cores && !emulate) {
        pin_topology_free(t);
        return;
    }
    pin_plan p;
    assert_int_equal(pin_plan_make(t, threads, PIN_BIND_CORE, emulate, &p, &err), BENCH_OK);
    pin_affinity before, after;
    assert_int_equal(pin_save_self(&before), 0);
    peak_result r;
    int rc = peak_measure(itera_isa_best(), threads, &p, &r, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    print_message("%d thread(s) asked: %s\n", threads, peak_describe(&r, d, sizeof d));
    assert_int_equal(r.threads, threads);
    assert_true(r.threads_used >= 1);
    assert_true(r.threads_used <= cores);
    assert_true(r.threads_used <= threads);
    assert_int_equal(r.threads_used, threads < cores ? threads : cores);
    assert_true(r.fp32_gflops_core > 0 && r.int8_gmacs_core > 0);
    assert_true(r.fp32_gflops_all > 0 && r.int8_gmacs_all > 0);
    assert_true(r.fp32_gflops_all / r.threads_used <= r.fp32_gflops_core * 1.1);
    assert_true(r.int8_gmacs_all / r.threads_used <= r.int8_gmacs_core * 1.1);
    /* and pct_peak's denominator for the cores a cell uses stays within them */
    for (int k = 1; k <= threads; k++) {
        double pk = peak_at(&r, false, k < cores ? k : cores);
        assert_true(pk <= r.fp32_gflops_core * (k < r.threads_used ? k : r.threads_used) * 1.1);
    }
    /* the caller's affinity is given back */
    assert_int_equal(pin_save_self(&after), 0);
    assert_memory_equal(&before, &after, sizeof before);
    pin_topology_free(t);
}

static void test_probe_1_thread(void **state)
{
    (void)state;
    check_probe(1, false);
}

static void test_probe_2_threads(void **state)
{
    (void)state;
    check_probe(2, true); /* emulated where the machine has 1 core */
}

static void test_probe_12_threads_emulated(void **state)
{
    (void)state;
    check_probe(12, true);
}

/* The denominator for k cores, by hand on a made-up probe. */
static void test_peak_at(void **state)
{
    (void)state;
    peak_result r;
    memset(&r, 0, sizeof r);
    r.threads = 12;
    r.threads_used = 4;
    r.cores_available = 4;
    r.fp32_gflops_core = 100;
    r.fp32_gflops_all = 360;
    r.int8_gmacs_core = 200;
    r.int8_gmacs_all = 700;
    assert_true(peak_at(&r, false, 1) == 100);
    assert_true(peak_at(&r, false, 2) == 200);
    assert_true(peak_at(&r, false, 3) == 300);
    assert_true(peak_at(&r, false, 4) == 360);  /* all cores: the measured figure */
    assert_true(peak_at(&r, false, 12) == 360); /* an emulated cell: the host's cores */
    assert_true(peak_at(&r, true, 1) == 400);   /* 2 x MAC */
    assert_true(peak_at(&r, true, 4) == 1400);
    r.fp32_gflops_all = 150;                    /* a probe under load: never above all cores */
    assert_true(peak_at(&r, false, 3) == 150);
    assert_true(peak_at(NULL, false, 2) == 0);
    assert_true(peak_at(&r, false, 0) == 0);
}

static void test_errors(void **state)
{
    (void)state;
    peak_result r;
    memset(&r, 0x5a, sizeof r);
    peak_result before = r;
    bench_error err = { { 0 } };
    assert_int_equal(peak_measure(ITERA_ISA_COUNT, 1, NULL, &r, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "ISA"));
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 0, NULL, &r, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "0 threads"));
    pin_topo *t = NULL;
    assert_int_equal(pin_topology_load(&t, "core:2 pu:1", &err), BENCH_OK);
    pin_plan p;
    assert_int_equal(pin_plan_make(t, 1, PIN_BIND_CORE, false, &p, &err), BENCH_OK);
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 2, &p, &r, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "1 workers"));
    /* a synthetic topology cannot be bound to: the probe says so instead of running unpinned */
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 1, &p, &r, &err), BENCH_ERR_INPUT);
    assert_non_null(strstr(err.msg, "synthetic"));
    assert_memory_equal(&r, &before, sizeof r);
    pin_topology_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_isa_one_thread),
        cmocka_unit_test(test_probe_1_thread),
        cmocka_unit_test(test_probe_2_threads),
        cmocka_unit_test(test_probe_12_threads_emulated),
        cmocka_unit_test(test_peak_at),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
