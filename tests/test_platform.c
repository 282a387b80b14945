/*
 * test_platform.c: platform files: the shipped ones, every error (unknown section and key,
 * bad values and numbers, syntax, missing file, a long line) with its file/line/choices,
 * resolving "all cores", the fits-the-host refusal and looking files up by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "platform.h"

static bench_error err;

/* Loads text as file "t.ini"; returns the status. */
static bench_status load(const char *text, platform *p)
{
    err.msg[0] = '\0';
    return platform_load_string(text, "platforms/t.ini", p, &err);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static void test_shipped_platforms(void **state)
{
    (void)state;
    static const struct { const char *name; int cores; } want[] = {
        { "desktop", 12 }, { "laptop", 4 }, { "embedded", 2 }, { "host", 0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[512];
        assert_int_equal(bench_data_find("platforms", want[i].name, path, sizeof path, &err),
                         BENCH_OK);
        platform p;
        if (platform_load(path, &p, &err) != BENCH_OK)
            fail_msg("%s", err.msg);
        assert_string_equal(p.name, want[i].name);
        assert_int_equal(p.cores, want[i].cores);
        assert_int_equal(p.binding, PIN_BIND_CORE);
        assert_true(p.description[0] != '\0');
    }
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\ncores = 4\n", &p), BENCH_OK);
    assert_string_equal(p.name, "t"); /* the file's stem */
    assert_int_equal(p.cores, 4);
    assert_int_equal(p.threads, 0);
    assert_int_equal(p.binding, PIN_BIND_CORE);
    platform_resolve(&p, 2);
    assert_int_equal(p.cores, 4);
    assert_int_equal(p.threads, 4);

    assert_int_equal(load("; c\n[platform]\nname = x\ncores = 0\nthreads = 3\nbinding = none ; why\n",
                          &p), 0);
    assert_string_equal(p.name, "x");
    assert_int_equal(p.binding, PIN_BIND_NONE);
    platform_resolve(&p, 8);
    assert_int_equal(p.cores, 8);
    assert_int_equal(p.threads, 3);
}

static void test_unknown_key(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\nname = x\ncpus = 4\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:3:");
    assert_has(err.msg, "'cpus'");
    assert_has(err.msg, "valid keys: name, description, cores, threads, binding");
}

static void test_unknown_section(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\ncores = 2\n[plat]\ncores = 4\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:4:");
    assert_has(err.msg, "[plat]");
    assert_has(err.msg, "valid sections: [platform]");
    assert_int_equal(load("cores = 4\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:1:");
    assert_has(err.msg, "[platform]");
}

static void test_bad_values(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\nbinding = socket\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:2:");
    assert_has(err.msg, "binding");
    assert_has(err.msg, "'socket'");
    assert_has(err.msg, "core, pu, none");

    assert_int_equal(load("[platform]\n\ncores = 4x\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:3:");
    assert_has(err.msg, "cores: '4x' is not a whole number");

    assert_int_equal(load("[platform]\nthreads = -1\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:2:");
    assert_has(err.msg, "threads");

    assert_int_equal(load("[platform]\nthreads = 99999999999999999999\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "threads");

    assert_int_equal(load("[platform]\nname = a b\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "name");

    /* Only the first error is reported. */
    assert_int_equal(load("[platform]\ncores = x\ncores = y\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, ":2:");
}

static void test_threads_over_cores(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\ncores = 2\nthreads = 4\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "threads = 4");
    assert_has(err.msg, "cores = 2");
    assert_int_equal(load("[platform]\ncores = 2\nthreads = 4\nbinding = pu\n", &p), BENCH_OK);
}

static void test_syntax_error(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\ncores = 2\nthis is not ini\n", &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:3:");
    assert_has(err.msg, "syntax error");
}

static void test_long_line(void **state)
{
    (void)state;
    char text[1200];
    snprintf(text, sizeof text, "[platform]\ndescription = ");
    size_t len = strlen(text);
    memset(text + len, 'x', 900);
    snprintf(text + len + 900, sizeof text - len - 900, "\ncores = 2\n");
    platform p;
    assert_int_equal(load(text, &p), BENCH_ERR_INPUT);
    assert_has(err.msg, "platforms/t.ini:2:");
    assert_has(err.msg, "too long");
}

static void test_missing_file(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(platform_load("/nonexistent/dir/x.ini", &p, &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "/nonexistent/dir/x.ini");
    assert_has(err.msg, "cannot open");

    char path[512];
    assert_int_equal(bench_data_find("platforms", "mainframe", path, sizeof path, &err),
                     BENCH_ERR_INPUT);
    assert_has(err.msg, "unknown platform 'mainframe'");
    assert_has(err.msg, "desktop, embedded, host, laptop");

    assert_int_equal(bench_data_find("platforms", "./nope.ini", path, sizeof path, &err),
                     BENCH_ERR_INPUT);
    assert_has(err.msg, "./nope.ini");
}

static void test_fits(void **state)
{
    (void)state;
    platform p;
    assert_int_equal(load("[platform]\nname = desktop\ncores = 12\n", &p), BENCH_OK);
    platform_resolve(&p, 2);
    assert_int_equal(platform_check_fits(&p, 2, &err), BENCH_ERR_INPUT);
    assert_has(err.msg, "12 cores");
    assert_has(err.msg, "has 2");
    assert_has(err.msg, "EMULATE=1");
    assert_has(err.msg, "--emulate");
    assert_int_equal(platform_check_fits(&p, 12, &err), BENCH_OK);
    assert_int_equal(platform_check_fits(&p, 16, &err), BENCH_OK);
}

static void test_list(void **state)
{
    (void)state;
    char names[512];
    assert_true(bench_data_list("platforms", names, sizeof names) >= 4);
    assert_has(names, "desktop, embedded, host, laptop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_platforms),
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_threads_over_cores),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
