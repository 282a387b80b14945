/*
 * test_shard.c: the shard split (shard.h): "I/N" parsing and its errors, that every cell
 * lands in exactly one shard with sizes within one of each other, the in-place filter
 * keeping order, the cell list hash (its value, order sensitivity, names vs cells), and
 * shard_apply / the context keys a shard run records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shard.h"

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static void test_parse(void **state)
{
    (void)state;
    shard_spec s;
    bench_error err;
    assert_int_equal(shard_parse("0/1", &s, &err), BENCH_OK);
    assert_int_equal(s.index, 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(shard_parse("3/4", &s, &err), BENCH_OK);
    assert_int_equal(s.index, 3);
    assert_int_equal(s.count, 4);
    char buf[32];
    assert_string_equal(shard_format(&s, buf, sizeof buf), "3/4");

    static const struct { const char *text, *msg; } bad[] = {
        { "4/4", "the index must be 0..3 (shards are numbered from 0)" },
        { "1", "expected I/N" },
        { "", "expected I/N" },
        { "1/0", "the shard count N must be an integer in 1..10000" },
        { "0/10001", "the shard count N must be an integer in 1..10000" },
        { "-1/4", "the shard index I must be an integer in 0..3" },
        { "a/4", "the shard index I must be an integer in 0..3" },
        { "1/4x", "the shard count N must be an integer" },
        { "1 /4", "the shard index I must be an integer" },
        { "/4", "the shard index I must be an integer" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.index = 7;
        s.count = 9;
        err.msg[0] = '\0';
        assert_int_equal(shard_parse(bad[i].text, &s, &err), BENCH_ERR_INPUT);
        assert_has(err.msg, bad[i].msg);
        assert_has(err.msg, "--shard '");
        assert_int_equal(s.index, 7); /* unchanged on failure */
        assert_int_equal(s.count, 9);
    }
    assert_int_equal(shard_parse(NULL, &s, &err), BENCH_ERR_INPUT);
}

static void test_split_covers_each_cell_once(void **state)
{
    (void)state;
    for (int n = 1; n <= 9; n++)
        for (int cells = 0; cells <= 40; cells++) {
            int min = cells + 1, max = -1, sum = 0;
            for (int i = 0; i < n; i++) {
                shard_spec s = { i, n };
                int size = shard_size(&s, cells), counted = 0;
                for (int k = 0; k < cells; k++)
                    counted += shard_has(&s, k);
                assert_int_equal(size, counted);
                sum += size;
                min = size < min ? size : min;
                max = size > max ? size : max;
            }
            assert_int_equal(sum, cells);
            assert_true(max - min <= 1);
            for (int k = 0; k < cells; k++) {
                int owners = 0;
                for (int i = 0; i < n; i++)
                    owners += shard_has(&(shard_spec){ i, n }, k);
                assert_int_equal(owners, 1);
            }
        }
    /* Not sharded: everything. */
    shard_spec none = { 0, 0 };
    assert_true(shard_has(&none, 5));
    assert_true(shard_has(NULL, 5));
    assert_int_equal(shard_size(&none, 7), 7);
}

static void fill(bench_cell *c, int n)
{
    memset(c, 0, sizeof *c * (size_t)n);
    for (int i = 0; i < n; i++)
        snprintf(c[i].name, sizeof c[i].name, "cell/%d", i);
}

static void test_filter_keeps_order(void **state)
{
    (void)state;
    bench_cell c[10];
    int orig[10], n = 10;
    fill(c, n);
    shard_spec s = { 2, 3 };
    shard_filter(c, &n, &s, orig);
    assert_int_equal(n, 3);
    assert_string_equal(c[0].name, "cell/2");
    assert_string_equal(c[1].name, "cell/5");
    assert_string_equal(c[2].name, "cell/8");
    assert_int_equal(orig[0], 2);
    assert_int_equal(orig[2], 8);
}

static void test_hash(void **state)
{
    (void)state;
    char h1[SHARD_HASH_LEN], h2[SHARD_HASH_LEN], h3[SHARD_HASH_LEN];
    const char *ab[] = { "a", "b" }, *ba[] = { "b", "a" }, *joined[] = { "a\nb" };
    shard_hash_names(ab, 2, h1);
    /* FNV-1a 64 of "a\nb\n" (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = "a\nb\n"; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ULL;
    }
    char want[SHARD_HASH_LEN];
    snprintf(want, sizeof want, "fnv1a64:%016llx", (unsigned long long)h);
    assert_string_equal(h1, want);
    shard_hash_names(ba, 2, h2);
    assert_string_not_equal(h1, h2); /* the order is part of the list */
    shard_hash_names(joined, 1, h3);
    assert_string_equal(h1, h3); /* names are '\n'-terminated: a name holds no newline */
    bench_cell c[2];
    fill(c, 2);
    const char *names[] = { c[0].name, c[1].name };
    shard_hash_names(names, 2, h1);
    shard_hash_cells(c, 2, h2);
    assert_string_equal(h1, h2);
}

static void test_apply_and_context(void **state)
{
    (void)state;
    bench_cell c[7];
    int n = 7;
    fill(c, n);
    char full[SHARD_HASH_LEN];
    shard_hash_cells(c, n, full);
    shard_spec s = { 1, 3 };
    shard_info info;
    assert_int_equal(shard_apply(&s, c, &n, &info), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].name, "cell/1");
    assert_string_equal(c[1].name, "cell/4");
    assert_int_equal(info.total_cells, 7);
    assert_string_equal(info.hash, full);
    assert_int_equal((int)json_array_size(info.names), 7);
    assert_string_equal(json_string_value(json_array_get(info.names, 6)), "cell/6");

    platform pl = { 0 };
    profile pr = { 0 };
    snprintf(pl.path, sizeof pl.path, "platforms/embedded.ini");
    snprintf(pr.path, sizeof pr.path, "profiles/ci.ini");
    json_t *ctx = json_object(), *root = json_object();
    shard_context_add(ctx, &info, &pl, &pr);
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_shard")), "1/3");
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_shard_cells")), "2");
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_cells")), "7");
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_cell_list_hash")), full);
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_profile_file")),
                        "profiles/ci.ini");
    shard_results_add(root, &info);
    assert_int_equal((int)json_array_size(json_object_get(root, "itera_cell_list")), 7);
    json_decref(ctx);
    json_decref(root);
    shard_info_free(&info);

    /* Not sharded: nothing dropped, no shard keys, but the list is still recorded. */
    n = 7;
    fill(c, n);
    assert_int_equal(shard_apply(NULL, c, &n, &info), 0);
    assert_int_equal(n, 7);
    ctx = json_object();
    root = json_object();
    shard_context_add(ctx, &info, &pl, &pr);
    assert_null(json_object_get(ctx, "itera_shard"));
    assert_string_equal(json_string_value(json_object_get(ctx, "itera_cells")), "7");
    shard_results_add(root, &info);
    assert_null(json_object_get(root, "itera_cell_list"));
    json_decref(ctx);
    json_decref(root);
    shard_info_free(&info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_split_covers_each_cell_once),
        cmocka_unit_test(test_filter_keeps_order),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_apply_and_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
