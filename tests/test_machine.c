/*
 * test_machine.c: the machine fingerprint (bench/machine.h) read from fixture roots
 * (tests/data/machine/{intel,amd,arm}: fake /proc, /sys, /etc), the derived names, name
 * checks, context keys both ways with their errors, and "same machine?" naming the fields
 * that differ. Also the SHA-256 helper against the FIPS 180-2 example and this machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "machine.h"
#include "sha256.h"

#define FIX "tests/data/machine/"

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static void read_fixture(const char *name, const char *isa, machine_info *m)
{
    bench_error e = { { 0 } };
    char root[256];
    snprintf(root, sizeof root, FIX "%s", name);
    if (machine_read(root, isa, m, &e) != BENCH_OK)
        fail_msg("%s: %s", root, e.msg);
}

static void field(const machine_info *m, machine_field f, const char *want)
{
    char got[1024];
    machine_field_format(m, f, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", machine_field_key(f), got, want);
}

static void test_sha256(void **state)
{
    (void)state;
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bench_error e = { { 0 } };
    assert_int_equal(sha256_file_hex(FIX "intel/etc/machine-id", hex, &e), BENCH_OK);
    /* sha256 of "0123456789abcdef0123456789abcdef\n" */
    assert_string_equal(hex, "6ed6653dba3d6aee8110c6e23de37f15c609b8a6e29aa164d1acace604e5cb7e");
    assert_int_equal(sha256_file_hex(FIX "no-such-file", hex, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, FIX "no-such-file");
    assert_string_equal(hex, "");
}

static void test_intel_fixture(void **state)
{
    (void)state;
    machine_info m;
    read_fixture("intel", "avx512vnni", &m);
    field(&m, MACHINE_F_NAME, "xeon-sapphirerapids-2c");
    field(&m, MACHINE_F_NAME_SOURCE, "cpu");
    /* sha256 of "itera-bench machine id:" + the file's first line */
    field(&m, MACHINE_F_ID, "42f3dcf29bbd25c7c8472b5e1affd3aad9887f7dc7c3ec92d68335bfa12a4ec9");
    field(&m, MACHINE_F_ID_SOURCE, "/etc/machine-id");
    field(&m, MACHINE_F_CPU_MODEL, "Intel(R) Xeon(R) Processor");
    field(&m, MACHINE_F_CPU_VENDOR, "GenuineIntel");
    field(&m, MACHINE_F_CPU_FAMILY, "6");
    field(&m, MACHINE_F_CPU_MODEL_NUMBER, "167");
    field(&m, MACHINE_F_CPU_STEPPING, "1");
    field(&m, MACHINE_F_SOCKETS, "1");
    field(&m, MACHINE_F_CORES, "2");
    field(&m, MACHINE_F_THREADS, "2");
    field(&m, MACHINE_F_CORES_ALLOWED, "2");
    field(&m, MACHINE_F_THREADS_ALLOWED, "2");
    field(&m, MACHINE_F_CPUS_ALLOWED, "0-1");
    field(&m, MACHINE_F_CACHES, "L1d:48K L1i:64K L2:2M L3:480M");
    field(&m, MACHINE_F_ISA_FEATURES,
          "sse4_2 avx avx2 fma f16c bmi2 avx_vnni avx512f avx512dq avx512cd avx512bw avx512vl "
          "avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni avx512_bf16 avx512_fp16 avx512_bitalg "
          "avx512_vpopcntdq amx_tile amx_int8 amx_bf16");
    field(&m, MACHINE_F_ISA_PATH, "avx512vnni");
    field(&m, MACHINE_F_MEMORY_BYTES, "25276502016"); /* 24684084 kB */
    field(&m, MACHINE_F_KERNEL, "6.18.44-fc-v669");
    field(&m, MACHINE_F_HOSTNAME, "vm");
    assert_true(m.mhz == 2600.0);
    assert_string_equal(m.governor, "");
    assert_int_equal(m.caches[3].num_sharing, 2);
    assert_int_equal(m.caches[0].num_sharing, 1);
}

static void test_amd_fixture(void **state)
{
    (void)state;
    machine_info m;
    read_fixture("amd", "avx512vnni", &m);
    field(&m, MACHINE_F_NAME, "epyc-zen4-4c");
    field(&m, MACHINE_F_ID, "deed16606371bc904a0bf89503d1f5a75beee1071cd5e4dfe120ccdbfc38051f");
    field(&m, MACHINE_F_ID_SOURCE, "/sys/class/dmi/id/product_uuid");
    field(&m, MACHINE_F_CPU_MODEL, "AMD EPYC 9554 64-Core Processor");
    field(&m, MACHINE_F_CPU_VENDOR, "AuthenticAMD");
    field(&m, MACHINE_F_CPU_FAMILY, "25");
    field(&m, MACHINE_F_CPU_MODEL_NUMBER, "17");
    field(&m, MACHINE_F_SOCKETS, "1");
    field(&m, MACHINE_F_CORES, "4");
    field(&m, MACHINE_F_THREADS, "8");
    field(&m, MACHINE_F_CORES_ALLOWED, "2");
    field(&m, MACHINE_F_THREADS_ALLOWED, "4");
    field(&m, MACHINE_F_CPUS_ALLOWED, "0-1,4-5");
    field(&m, MACHINE_F_CACHES, "L1d:32K L1i:32K L2:1M L3:32M");
    field(&m, MACHINE_F_ISA_FEATURES,
          "sse4_2 avx avx2 fma f16c bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx512ifma "
          "avx512vbmi avx512_vbmi2 avx512_vnni avx512_bf16 avx512_bitalg avx512_vpopcntdq");
    field(&m, MACHINE_F_KERNEL, "6.1.0-18-amd64");
    field(&m, MACHINE_F_HOSTNAME, "gpu-node-07");
    assert_int_equal(m.caches[0].num_sharing, 2);
    assert_int_equal(m.caches[3].num_sharing, 8);

    /* GB's own keys from the same fingerprint */
    json_t *ctx = json_object();
    machine_to_gb_context(&m, ctx);
    assert_int_equal(json_integer_value(json_object_get(ctx, "num_cpus")), 8);
    assert_int_equal(json_integer_value(json_object_get(ctx, "mhz_per_cpu")), 3100);
    assert_true(json_is_true(json_object_get(ctx, "cpu_scaling_enabled"))); /* schedutil */
    assert_string_equal(json_string_value(json_object_get(ctx, "host_name")), "gpu-node-07");
    json_t *l3 = json_array_get(json_object_get(ctx, "caches"), 3);
    assert_int_equal(json_integer_value(json_object_get(l3, "size")), 32 << 20);
    assert_int_equal(json_integer_value(json_object_get(l3, "level")), 3);
    assert_int_equal(json_integer_value(json_object_get(l3, "num_sharing")), 8);
    json_decref(ctx);
}

static void test_arm_fixture(void **state)
{
    (void)state;
    machine_info m;
    read_fixture("arm", NULL, &m);
    field(&m, MACHINE_F_NAME, "cortex-a76-4c");
    field(&m, MACHINE_F_CPU_MODEL, "ARM Cortex-A76");
    field(&m, MACHINE_F_CPU_VENDOR, "arm");
    field(&m, MACHINE_F_CPU_FAMILY, "8");
    field(&m, MACHINE_F_CPU_MODEL_NUMBER, "3339"); /* 0xd0b */
    field(&m, MACHINE_F_CPU_STEPPING, "1");
    field(&m, MACHINE_F_ISA_FEATURES, "asimd asimddp asimdhp");
    field(&m, MACHINE_F_ID, "unknown");
    field(&m, MACHINE_F_ID_SOURCE, "none");
    /* no /proc/self/status: every online CPU is allowed */
    field(&m, MACHINE_F_THREADS_ALLOWED, "4");
    field(&m, MACHINE_F_CPUS_ALLOWED, "0-3");
    field(&m, MACHINE_F_ISA_PATH, "");
    field(&m, MACHINE_F_CACHES, "L1d:64K L1i:64K L2:512K L3:2M");
}

static void test_missing_root(void **state)
{
    (void)state;
    machine_info m;
    bench_error e = { { 0 } };
    assert_int_equal(machine_read(FIX "nowhere", NULL, &m, &e), BENCH_ERR_SYSTEM);
    assert_has(e.msg, FIX "nowhere/proc/cpuinfo");
}

static void test_this_machine(void **state)
{
    (void)state;
    machine_info m;
    bench_error e = { { 0 } };
    assert_int_equal(machine_read(NULL, "scalar", &m, &e), BENCH_OK);
    assert_true(m.threads >= 1);
    assert_true(m.cores >= 1 && m.cores <= m.threads);
    assert_true(m.threads_allowed >= 1 && m.threads_allowed <= m.threads);
    assert_true(m.memory_bytes > 0);
    assert_true(m.kernel[0] != '\0');
    assert_int_equal(machine_name_check(m.name, "derived", &e), BENCH_OK);
    printf("this machine: %s (%s, %d cores, %d threads, id %.12s from %s)\n", m.name,
           m.cpu_model, m.cores, m.threads, m.id, m.id_source);
}

static void test_default_names(void **state)
{
    (void)state;
    machine_info m;
    char name[64];
    read_fixture("intel", NULL, &m);
    /* a client part: the model table */
    snprintf(m.cpu_model, sizeof m.cpu_model, "12th Gen Intel(R) Core(TM) i7-12700K");
    m.cpu_model_number = 0x97;
    m.cores = 12;
    snprintf(m.isa_features, sizeof m.isa_features, "avx2 fma avx_vnni");
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "core-alderlake-12c");
    /* a Xeon without AVX-512: the model table */
    snprintf(m.cpu_model, sizeof m.cpu_model, "Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz");
    m.cpu_model_number = 0x3f;
    m.cores = 24;
    snprintf(m.isa_features, sizeof m.isa_features, "avx2 fma");
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "xeon-haswell-24c");
    /* a Xeon with AVX-512 VNNI and no BF16: cascade lake whatever CPUID's model says */
    snprintf(m.cpu_model, sizeof m.cpu_model, "Intel Xeon Processor (Cascadelake)");
    m.cpu_model_number = 0x55;
    snprintf(m.isa_features, sizeof m.isa_features, "avx2 avx512f avx512_vnni");
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "xeon-cascadelake-24c");
    /* nothing known but the vendor */
    snprintf(m.cpu_model, sizeof m.cpu_model, "Genuine Intel(R) CPU 0000");
    m.cpu_model_number = 0x01;
    m.cores = 8;
    snprintf(m.isa_features, sizeof m.isa_features, "avx2");
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "intel-8c");
    /* an unknown vendor */
    snprintf(m.cpu_vendor, sizeof m.cpu_vendor, "HygonGenuine");
    snprintf(m.cpu_model, sizeof m.cpu_model, "Hygon C86 7185 32-core Processor");
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "cpu-8c");
    /* AMD families */
    read_fixture("amd", NULL, &m);
    snprintf(m.cpu_model, sizeof m.cpu_model, "AMD Ryzen 9 5950X 16-Core Processor");
    m.cpu_family = 0x19;
    m.cpu_model_number = 0x21;
    m.cores = 16;
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "ryzen-zen3-16c");
    m.cpu_family = 0x17;
    m.cpu_model_number = 0x31;
    snprintf(m.cpu_model, sizeof m.cpu_model, "AMD EPYC 7742 64-Core Processor");
    m.cores = 64;
    machine_default_name(&m, name, sizeof name);
    assert_string_equal(name, "epyc-zen2-64c");
}

static void test_name_check(void **state)
{
    (void)state;
    bench_error e = { { 0 } };
    assert_int_equal(machine_name_check("pi5-lab", "--machine", &e), BENCH_OK);
    assert_int_equal(machine_name_check("a", "--machine", &e), BENCH_OK);
    const char *bad[] = { "", "Pi5", "pi5_lab", "-pi5", "pi5-", "pi 5", "../x",
                          "a123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = '\0';
        if (machine_name_check(bad[i], "--machine", &e) != BENCH_ERR_INPUT)
            fail_msg("'%s' was accepted", bad[i]);
        assert_has(e.msg, "--machine");
        assert_has(e.msg, "expected 1 to 63 lowercase letters, digits and '-'");
    }
    machine_name_check("Pi5", "ITERA_MACHINE", &e);
    assert_has(e.msg, "ITERA_MACHINE 'Pi5'");

    machine_info m;
    read_fixture("intel", NULL, &m);
    unsetenv("ITERA_MACHINE");
    assert_int_equal(machine_choose_name(&m, NULL, &e), BENCH_OK);
    assert_string_equal(m.name, "xeon-sapphirerapids-2c");
    assert_string_equal(m.name_source, "cpu");
    setenv("ITERA_MACHINE", "lab-box", 1);
    assert_int_equal(machine_choose_name(&m, NULL, &e), BENCH_OK);
    assert_string_equal(m.name, "lab-box");
    assert_string_equal(m.name_source, "ITERA_MACHINE");
    assert_int_equal(machine_choose_name(&m, "pi5-lab", &e), BENCH_OK); /* the flag wins */
    assert_string_equal(m.name, "pi5-lab");
    assert_string_equal(m.name_source, "--machine");
    setenv("ITERA_MACHINE", "Lab Box", 1);
    assert_int_equal(machine_choose_name(&m, NULL, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "ITERA_MACHINE 'Lab Box'");
    assert_string_equal(m.name, "pi5-lab"); /* unchanged */
    unsetenv("ITERA_MACHINE");
}

static void test_context_round_trip(void **state)
{
    (void)state;
    const char *names[] = { "intel", "amd", "arm" };
    for (size_t i = 0; i < 3; i++) {
        machine_info m, back;
        read_fixture(names[i], "avx2", &m);
        json_t *ctx = json_object();
        machine_to_context(&m, ctx);
        assert_int_equal(json_object_size(ctx), MACHINE_F_COUNT);
        for (int f = 0; f < MACHINE_F_COUNT; f++)
            assert_true(json_is_string(json_object_get(ctx, machine_field_key((machine_field)f))));
        bench_error e = { { 0 } };
        if (machine_from_context(ctx, &back, &e) != BENCH_OK)
            fail_msg("%s: %s", names[i], e.msg);
        char why[1024];
        assert_int_equal(machine_diff_describe(&m, &back, 0xffffffffu, why, sizeof why), 0);
        json_decref(ctx);
    }
}

static void test_context_errors(void **state)
{
    (void)state;
    machine_info m, back;
    read_fixture("intel", NULL, &m);
    bench_error e = { { 0 } };
    json_t *ctx = json_object();
    machine_to_context(&m, ctx);

    json_t *c1 = json_deep_copy(ctx);
    json_object_del(c1, "itera_machine_id");
    assert_int_equal(machine_from_context(c1, &back, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "itera_machine_id is absent");
    json_decref(c1);

    c1 = json_deep_copy(ctx);
    json_object_del(c1, "itera_machine_hostname"); /* informational: may be absent */
    assert_int_equal(machine_from_context(c1, &back, &e), BENCH_OK);
    assert_string_equal(back.hostname, "");
    json_decref(c1);

    c1 = json_deep_copy(ctx);
    json_object_set_new(c1, "itera_machine_cores", json_string("two"));
    assert_int_equal(machine_from_context(c1, &back, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "itera_machine_cores: 'two' is not a whole number");
    json_object_set_new(c1, "itera_machine_cores", json_integer(2));
    assert_int_equal(machine_from_context(c1, &back, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "itera_machine_cores: expected a string");
    json_decref(c1);

    c1 = json_deep_copy(ctx);
    json_object_set_new(c1, "itera_machine_caches", json_string("L1d 48K"));
    assert_int_equal(machine_from_context(c1, &back, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "itera_machine_caches: 'L1d 48K' is not a cache list");
    json_decref(c1);

    assert_int_equal(machine_from_context(NULL, &back, &e), BENCH_ERR_INPUT);
    json_decref(ctx);
}

static void test_same_machine(void **state)
{
    (void)state;
    machine_info a, b;
    char why[2048];
    read_fixture("intel", "avx512vnni", &a);
    b = a;
    assert_true(machine_same(&a, &b, why, sizeof why));
    assert_string_equal(why, "");

    /* informational fields do not make another machine */
    snprintf(b.hostname, sizeof b.hostname, "other");
    snprintf(b.name, sizeof b.name, "lab");
    snprintf(b.isa_path, sizeof b.isa_path, "avx2");
    b.threads_allowed = 1;
    b.cores_allowed = 1;
    b.memory_bytes = a.memory_bytes + a.memory_bytes / 200; /* +0.5% */
    assert_true(machine_same(&a, &b, why, sizeof why));
    uint32_t d = machine_diff(&a, &b);
    assert_true(d & (1u << MACHINE_F_HOSTNAME));
    assert_true(d & (1u << MACHINE_F_ISA_PATH));
    assert_false(d & (1u << MACHINE_F_MEMORY_BYTES));
    assert_int_equal(d & machine_identity_mask(), 0);

    /* identity fields do, and are named with both values */
    b.memory_bytes = a.memory_bytes + a.memory_bytes / 50; /* +2% */
    b.cores = 4;
    b.caches[2].size_bytes = 1 << 20;
    assert_false(machine_same(&a, &b, why, sizeof why));
    assert_string_equal(why, "itera_machine_cores 2 vs 4; "
                             "itera_machine_caches 'L1d:48K L1i:64K L2:2M L3:480M' vs "
                             "'L1d:48K L1i:64K L2:1M L3:480M'; "
                             "itera_machine_memory_bytes 25276502016 vs 25782032056");

    /* two fixtures: every identity field that differs, by key */
    machine_info amd;
    read_fixture("amd", "avx512vnni", &amd);
    assert_false(machine_same(&a, &amd, why, sizeof why));
    const char *keys[] = { "itera_machine_id ", "itera_machine_cpu_model ",
                           "itera_machine_cpu_vendor ", "itera_machine_cpu_family ",
                           "itera_machine_cpu_model_number ", "itera_machine_cores ",
                           "itera_machine_threads ", "itera_machine_caches ",
                           "itera_machine_isa_features ", "itera_machine_memory_bytes ",
                           "itera_machine_kernel " };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_has(why, keys[i]);
    assert_null(strstr(why, "itera_machine_hostname"));
    assert_null(strstr(why, "itera_machine_cpu_stepping")); /* both 1 */
    assert_null(strstr(why, "itera_machine_sockets"));      /* both 1 */
    /* a small buffer is cut, never overrun */
    char small[24];
    assert_int_equal(machine_diff_describe(&a, &amd, machine_identity_mask(), small,
                                           sizeof small), 11);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_intel_fixture),
        cmocka_unit_test(test_amd_fixture),
        cmocka_unit_test(test_arm_fixture),
        cmocka_unit_test(test_missing_root),
        cmocka_unit_test(test_this_machine),
        cmocka_unit_test(test_default_names),
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_context_round_trip),
        cmocka_unit_test(test_context_errors),
        cmocka_unit_test(test_same_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
