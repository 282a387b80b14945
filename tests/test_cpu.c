/*
 * test_cpu.c: run-time ISA detection and the ITERA_ISA cap (itera.h, engine/cpu.c).
 *
 * The cap is read once per process, so the cap tests re-run this binary as a child
 * (`--probe`, which prints what it detected) with ITERA_ISA set in its environment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itera.h"

static char self[4096];

static void test_names_and_parse(void **state) {
    (void)state;
    for (int i = 0; i < ITERA_ISA_COUNT; i++) {
        itera_isa got = ITERA_ISA_COUNT;
        assert_true(itera_isa_parse(itera_isa_name((itera_isa)i), &got));
        assert_int_equal(got, i);
    }
    assert_string_equal(itera_isa_name(ITERA_ISA_SCALAR), "scalar");
    assert_string_equal(itera_isa_name(ITERA_ISA_AVX512VNNI), "avx512vnni");
    assert_string_equal(itera_isa_name(ITERA_ISA_COUNT), "?");
    assert_string_equal(itera_isa_name((itera_isa)-1), "?");
    itera_isa v = ITERA_ISA_AVX2;
    assert_true(itera_isa_parse("AVX512", &v));
    assert_int_equal(v, ITERA_ISA_AVX512);
    assert_true(itera_isa_parse("avx512-vnni", &v));
    assert_int_equal(v, ITERA_ISA_AVX512VNNI);
    v = ITERA_ISA_AVX2;
    assert_false(itera_isa_parse("sse4", &v));
    assert_false(itera_isa_parse("", &v));
    assert_false(itera_isa_parse(NULL, &v));
    assert_int_equal(v, ITERA_ISA_AVX2); /* untouched on failure */
}

static void test_best_consistent(void **state) {
    (void)state;
    const itera_isa hw = itera_isa_hw(), best = itera_isa_best();
    assert_true(hw >= ITERA_ISA_SCALAR && hw < ITERA_ISA_COUNT);
    assert_true(best <= hw);
    assert_int_equal(itera_isa_best(), best); /* cached: stable */
    for (int i = 0; i < ITERA_ISA_COUNT; i++) assert_int_equal(itera_isa_has((itera_isa)i), i <= (int)best);
    assert_true(itera_isa_has(ITERA_ISA_SCALAR));
    assert_false(itera_isa_has(ITERA_ISA_COUNT));
    // The compiler's own view of this CPU agrees with CPUID + XGETBV.
    __builtin_cpu_init();
    const int gcc_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int gcc_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    assert_int_equal(hw >= ITERA_ISA_AVX2, gcc_avx2);
    assert_int_equal(hw >= ITERA_ISA_AVX512, gcc_avx512);
    const char *env = getenv("ITERA_ISA");
    itera_isa cap;
    if (!env || !*env || itera_isa_parse(env, &cap))
        assert_null(itera_isa_env_error());
    else
        assert_non_null(itera_isa_env_error());
    printf("cpu: hw %s, best %s\n", itera_isa_name(hw), itera_isa_name(best));
}

/* Runs `self --probe` with ITERA_ISA=value; returns its one output line in out. */
static int probe(const char *value, char *out, size_t size) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ITERA_ISA='%s' '%s' --probe", value, self);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    if (!fgets(out, (int)size, p)) out[0] = 0;
    out[strcspn(out, "\n")] = 0;
    return pclose(p);
}

static void test_env_cap(void **state) {
    (void)state;
    char line[512], want[512];
    const itera_isa hw = itera_isa_hw();
    for (int i = 0; i < ITERA_ISA_COUNT; i++) {
        assert_int_equal(probe(itera_isa_name((itera_isa)i), line, sizeof line), 0);
        const itera_isa expect = (itera_isa)i < hw ? (itera_isa)i : hw;
        snprintf(want, sizeof want, "best=%s hw=%s error=none", itera_isa_name(expect), itera_isa_name(hw));
        assert_string_equal(line, want);
    }
    // Unknown value: no cap, and a message naming the value and the choices.
    assert_int_equal(probe("avx1024", line, sizeof line), 0);
    snprintf(want, sizeof want, "best=%s hw=%s error=", itera_isa_name(hw), itera_isa_name(hw));
    assert_memory_equal(line, want, strlen(want));
    assert_non_null(strstr(line, "avx1024"));
    assert_non_null(strstr(line, "scalar, avx2, avx512, avx512vnni"));
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--probe") == 0) {
        const char *e = itera_isa_env_error();
        printf("best=%s hw=%s error=%s\n", itera_isa_name(itera_isa_best()), itera_isa_name(itera_isa_hw()),
               e ? e : "none");
        return 0;
    }
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) self[len] = 0;
    else snprintf(self, sizeof self, "%s", argv[0]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_parse),
        cmocka_unit_test(test_best_consistent),
        cmocka_unit_test(test_env_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
