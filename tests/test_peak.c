/*
 * test_peak.c: the machine-peak probe on every ISA this CPU has (one thread and all cores,
 * pinned), its description, and its errors. Figures are printed, never asserted as
 * targets; the asserts check that the numbers are sane and ordered where the ISA width
 * guarantees it (an AVX-512 FMA loop is far more than twice a scalar one).
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
        char err[256] = "", d[256];
        int rc = peak_measure((itera_isa)i, 1, NULL, &r[i], err, sizeof err);
        if (rc != 0)
            print_error("%s\n", err);
        assert_int_equal(rc, 0);
        print_message("%s\n", peak_describe(&r[i], d, sizeof d));
        assert_int_equal(r[i].isa, i);
        assert_int_equal(r[i].threads, 1);
        assert_true(r[i].fp32_gflops_core > 0.1 && r[i].fp32_gflops_core < 1e4);
        assert_true(r[i].int8_gmacs_core > 0.1 && r[i].int8_gmacs_core < 1e5);
        assert_true(r[i].fp32_gflops_all == r[i].fp32_gflops_core);
        assert_true(r[i].seconds > 0 && r[i].seconds < 1.0);
    }
    if (have(ITERA_ISA_AVX512))
        assert_true(r[ITERA_ISA_AVX512].fp32_gflops_core > 2 * r[ITERA_ISA_SCALAR].fp32_gflops_core);
    if (have(ITERA_ISA_AVX512VNNI)) {
        assert_string_equal(r[ITERA_ISA_AVX512VNNI].int8_path, "avx512vnni");
        assert_true(r[ITERA_ISA_AVX512VNNI].int8_gmacs_core > 2 * r[ITERA_ISA_SCALAR].int8_gmacs_core);
    }
}

static void test_all_cores_pinned(void **state)
{
    (void)state;
    pin_topo *t = NULL;
    char err[256] = "", d[256];
    assert_int_equal(pin_topology_load(&t, NULL, err, sizeof err), 0);
    int cores = pin_topo_cores(t);
    pin_plan p;
    assert_int_equal(pin_plan_make(t, cores, PIN_BIND_CORE, false, &p, err, sizeof err), 0);
    pin_affinity before, after;
    assert_int_equal(pin_save_self(&before), 0);
    peak_result r;
    int rc = peak_measure(itera_isa_best(), cores, &p, &r, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    print_message("%s\n", peak_describe(&r, d, sizeof d));
    assert_int_equal(r.threads, cores);
    assert_true(r.fp32_gflops_all > 0.5 * r.fp32_gflops_core);
    assert_true(r.int8_gmacs_all > 0.5 * r.int8_gmacs_core);
    assert_true(r.seconds < 1.0);
    /* the caller's affinity is given back */
    assert_int_equal(pin_save_self(&after), 0);
    assert_memory_equal(&before, &after, sizeof before);
    pin_topology_free(t);
}

static void test_errors(void **state)
{
    (void)state;
    peak_result r;
    memset(&r, 0x5a, sizeof r);
    peak_result before = r;
    char err[256] = "";
    assert_int_equal(peak_measure(ITERA_ISA_COUNT, 1, NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "ISA"));
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 0, NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "0 threads"));
    pin_topo *t = NULL;
    assert_int_equal(pin_topology_load(&t, "core:2 pu:1", err, sizeof err), 0);
    pin_plan p;
    assert_int_equal(pin_plan_make(t, 1, PIN_BIND_CORE, false, &p, err, sizeof err), 0);
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 2, &p, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "1 workers"));
    /* a synthetic topology cannot be bound to: the probe says so instead of running unpinned */
    assert_int_equal(peak_measure(ITERA_ISA_SCALAR, 1, &p, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "synthetic"));
    assert_memory_equal(&r, &before, sizeof r);
    pin_topology_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_isa_one_thread),
        cmocka_unit_test(test_all_cores_pinned),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
