/*
 * test_schema.c: the results schema (bench/schema.h): every family's names built from a
 * cell and parsed back for every kernel and quant the engine lists; parse errors that
 * name the bad part; Google Benchmark's own parts; peers' names; canonical names; the
 * lists (no name twice, patterns that match the builder).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static void cells_equal(const bench_cell *a, const bench_cell *b)
{
    assert_int_equal(a->family, b->family);
    assert_int_equal(a->kernel, b->kernel);
    assert_int_equal(a->quant, b->quant);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->steps, b->steps);
    assert_int_equal(a->batch, b->batch);
    assert_int_equal(a->threads, b->threads);
    assert_string_equal(a->name, b->name);
}

/* cell -> name -> parse -> cell, for every family x kernel x quant and a few shapes. */
static void test_round_trip(void **state)
{
    (void)state;
    const int shapes[][6] = { { 1, 1, 1, 1, 1, 1 }, { 256, 64, 128, 4, 2, 64 },
                              { 65536, 4096, 1048576, 1024, 64, 8192 } };
    int n = 0;
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++)
        for (int k = 0; k < ITERA_KERNEL_COUNT; k++)
            for (int q = 0; q < ITERA_QUANT_COUNT; q++)
                for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                    bench_cell c;
                    memset(&c, 0, sizeof c);
                    c.family = (bench_family)f;
                    c.kernel = (itera_kernel)k;
                    c.quant = f == BENCH_SCAN ? ITERA_QUANT_FP32 : (itera_quant)q;
                    if (f == BENCH_SCAN) {
                        c.channels = shapes[s][0];
                        c.state = shapes[s][1];
                    }
                    if (f != BENCH_DECODE)
                        c.seq = shapes[s][2];
                    else
                        c.steps = shapes[s][5];
                    c.batch = shapes[s][3];
                    c.threads = shapes[s][4];
                    bench_cell_format_name(&c);
                    assert_string_not_equal(c.name, "?");
                    /* the name starts with the family and holds the engine's names */
                    assert_true(strncmp(c.name, bench_family_name(c.family),
                                        strlen(bench_family_name(c.family))) == 0);
                    assert_has(c.name, itera_kernel_name(c.kernel));
                    if (f != BENCH_SCAN)
                        assert_has(c.name, itera_quant_name(c.quant));
                    bench_name nm;
                    bench_error e = { { 0 } };
                    if (bench_name_parse(c.name, &nm, &e) != BENCH_OK)
                        fail_msg("%s: %s", c.name, e.msg);
                    bench_cell back;
                    if (bench_cell_from_name(&nm, &back, &e) != BENCH_OK)
                        fail_msg("%s: %s", c.name, e.msg);
                    cells_equal(&c, &back);
                    /* and with Google Benchmark's own parts appended */
                    char gb[320];
                    snprintf(gb, sizeof gb, "%s/repeats:5/min_time:0.100/min_warmup_time:0.05/"
                             "iterations:3/real_time/manual_time/process_time", c.name);
                    assert_int_equal(bench_name_parse(gb, &nm, &e), BENCH_OK);
                    assert_int_equal(bench_cell_from_name(&nm, &back, &e), BENCH_OK);
                    cells_equal(&c, &back);
                    char canon[256];
                    bench_name_canonical(gb, canon, sizeof canon);
                    assert_string_equal(canon, c.name);
                    n++;
                }
    assert_int_equal(n, BENCH_FAMILY_COUNT * ITERA_KERNEL_COUNT * ITERA_QUANT_COUNT * 3);
}

static void test_parse_fields(void **state)
{
    (void)state;
    bench_name n;
    bench_error e;
    assert_int_equal(bench_name_parse("prefill/int8/chunked/seq:128/batch:1/threads:2/repeats:5/"
                                      "min_time:0.100", &n, &e), BENCH_OK);
    assert_int_equal(n.family, BENCH_PREFILL);
    assert_string_equal(n.quant, "int8");
    assert_string_equal(n.kernel, "chunked");
    assert_int_equal(n.seq, 128);
    assert_int_equal(n.batch, 1);
    assert_int_equal(n.threads, 2);
    assert_int_equal(n.steps, -1);
    assert_int_equal(n.channels, -1);
    assert_int_equal(bench_name_parse("scan/parallel/channels:256/state:64/seq:8192/batch:4/"
                                      "threads:12", &n, &e), BENCH_OK);
    assert_int_equal(n.family, BENCH_SCAN);
    assert_int_equal(n.channels, 256);
    assert_int_equal(n.state, 64);
    assert_int_equal(n.seq, 8192);
    assert_string_equal(n.quant, "");
    assert_int_equal(bench_name_parse("decode/fp32/sequential/steps:64/batch:1/threads:1", &n, &e),
                     BENCH_OK);
    assert_int_equal(n.steps, 64);
    assert_int_equal(n.seq, -1);

    /* a peer's benchmark: ours in shape, its own kernel name; not an engine cell */
    assert_int_equal(bench_name_parse("prefill/fp32/pytorch-eager/seq:128/batch:1/threads:2", &n,
                                      &e), BENCH_OK);
    assert_string_equal(n.kernel, "pytorch-eager");
    bench_cell c;
    assert_int_equal(bench_cell_from_name(&n, &c, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "kernel 'pytorch-eager' is not one of the engine's kernels");
    assert_int_equal(bench_name_parse("prefill/q5/chunked/seq:1/batch:1/threads:1", &n, &e),
                     BENCH_OK);
    assert_int_equal(bench_cell_from_name(&n, &c, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "quant 'q5' is not one of the engine's formats");
}

/* Every malformed name is refused with the part that is wrong and what was expected. */
static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name, *want;
    } bad[] = {
        { "BM_Other/8", "not one of ours: part 1 'BM_Other' is not a family (expected scan, "
                        "prefill, decode)" },
        { "", "part 1 '' is not a family" },
        { "scan", "part 2 is missing: expected <kernel> "
                  "(scan/<kernel>/channels:C/state:N/seq:L/batch:B/threads:T)" },
        { "decode/fp32/sequential/batch:1/threads:1",
          "part 4 'batch:1': expected steps:<whole number in 1..100000000>" },
        { "decode/fp32/sequential/steps:64/batch:1", "part 6 is missing: expected threads" },
        { "scan/chunked/channels:x/state:64/seq:8/batch:1/threads:1",
          "part 3 'channels:x': expected channels:<whole number" },
        { "scan/chunked/channels:0/state:64/seq:8/batch:1/threads:1", "part 3 'channels:0'" },
        { "scan/chunked/channels:-4/state:64/seq:8/batch:1/threads:1", "part 3 'channels:-4'" },
        { "scan/chunked/channels:999999999/state:64/seq:8/batch:1/threads:1",
          "part 3 'channels:999999999'" },
        { "scan/chunked/channels:4/state:64/seq:8/batch:1/threads:", "part 7 'threads:'" },
        { "scan/chunked/state:64/channels:4/seq:8/batch:1/threads:1",
          "part 3 'state:64': expected channels:" },
        { "prefill/fp32/Chunked/seq:8/batch:1/threads:1",
          "part 3 'Chunked': expected a kernel name (1 to 31 of a-z, 0-9, '.', '_', '-')" },
        { "prefill//chunked/seq:8/batch:1/threads:1", "part 2 '': expected a quant name" },
        { "prefill/fp32/chunked/seq:8/batch:1/threads:1/extra",
          "part 7 'extra' follows a complete prefill name and is not one of Google Benchmark's" },
        { "prefill/fp32/chunked/seq:8/batch:1/threads:1/repeats:",
          "part 7 'repeats:' follows a complete prefill name" },
        { "prefill/fp32/a-kernel-name-that-is-far-too-long-x/seq:8/batch:1/threads:1",
          "part 3 'a-kernel-name-that-is-far-too-long-x': expected a kernel name" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bench_name n;
        bench_error e = { { 0 } };
        if (bench_name_parse(bad[i].name, &n, &e) != BENCH_ERR_INPUT)
            fail_msg("'%s' was accepted", bad[i].name);
        assert_has(e.msg, bad[i].want);
        assert_int_equal(n.family, BENCH_FAMILY_NONE); /* cleared */
        char quoted[256];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i].name);
        assert_has(e.msg, quoted); /* the whole name too */
    }
    bench_name n;
    bench_error e;
    assert_int_equal(bench_name_parse(NULL, &n, &e), BENCH_ERR_INPUT);
}

static void test_format_errors(void **state)
{
    (void)state;
    bench_name n;
    bench_error e;
    char out[192];
    bench_name_clear(&n);
    assert_int_equal(bench_name_format(&n, out, sizeof out, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "no family");
    n.family = BENCH_PREFILL;
    snprintf(n.quant, sizeof n.quant, "int8");
    snprintf(n.kernel, sizeof n.kernel, "chunked");
    n.seq = 16;
    n.batch = 1;
    n.threads = 0;
    assert_int_equal(bench_name_format(&n, out, sizeof out, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "prefill name: threads 0: expected a whole number in 1..100000000");
    n.threads = 2;
    snprintf(n.kernel, sizeof n.kernel, "a/b");
    assert_int_equal(bench_name_format(&n, out, sizeof out, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "prefill name: kernel 'a/b'");
    snprintf(n.kernel, sizeof n.kernel, "chunked");
    assert_int_equal(bench_name_format(&n, out, sizeof out, &e), BENCH_OK);
    assert_string_equal(out, "prefill/int8/chunked/seq:16/batch:1/threads:2");
    n.steps = 7; /* a part decode has, prefill has not: not written */
    assert_int_equal(bench_name_format(&n, out, sizeof out, &e), BENCH_OK);
    assert_string_equal(out, "prefill/int8/chunked/seq:16/batch:1/threads:2");
    char small[20];
    assert_int_equal(bench_name_format(&n, small, sizeof small, &e), BENCH_ERR_INPUT);
    assert_has(e.msg, "longer than 19 characters");
    assert_string_equal(small, "");
}

static void test_canonical(void **state)
{
    (void)state;
    char canon[256];
    bench_name_canonical("decode/int4/chunked/steps:64/batch:1/threads:2/repeats:5/min_time:0.100/"
                         "real_time", canon, sizeof canon);
    assert_string_equal(canon, "decode/int4/chunked/steps:64/batch:1/threads:2");
    bench_name_canonical("scan/chunked/channels:256/state:64/seq:128/batch:4/threads:2", canon,
                         sizeof canon);
    assert_string_equal(canon, "scan/chunked/channels:256/state:64/seq:128/batch:4/threads:2");
    bench_name_canonical("real_time/iterations:3", canon, sizeof canon); /* the first part stays */
    assert_string_equal(canon, "real_time");
    bench_name_canonical("BM_x/repeats:3", canon, 5);
    assert_string_equal(canon, "BM_x");
}

/* The pattern of each family lists its parts in the builder's order. */
static void test_families(void **state)
{
    (void)state;
    assert_string_equal(bench_family_list(), "scan, prefill, decode");
    for (int f = 0; f < BENCH_FAMILY_COUNT; f++) {
        bench_family g;
        assert_true(bench_family_parse(bench_family_name((bench_family)f), &g));
        assert_int_equal(g, f);
        const name_part *parts;
        int np = bench_family_parts((bench_family)f, &parts);
        assert_true(np >= 5);
        const char *pat = bench_family_pattern((bench_family)f);
        const char *p = strchr(pat, '/');
        for (int i = 0; i < np; i++) {
            assert_non_null(p);
            char want[32];
            if (parts[i] == NAME_QUANT || parts[i] == NAME_KERNEL)
                snprintf(want, sizeof want, "/<%s>", name_part_key(parts[i]));
            else
                snprintf(want, sizeof want, "/%s:", name_part_key(parts[i]));
            assert_true(strncmp(p, want, strlen(want)) == 0);
            assert_int_equal(bench_family_part_position((bench_family)f, parts[i]), i + 1);
            p = strchr(p + 1, '/');
        }
        assert_null(p);
    }
    bench_family g;
    assert_false(bench_family_parse("Scan", &g));
    assert_string_equal(bench_family_name(BENCH_FAMILY_NONE), "other");
    assert_int_equal(bench_family_part_position(BENCH_SCAN, NAME_QUANT), -1);
    assert_int_equal(bench_family_part_position(BENCH_PREFILL, NAME_KERNEL), 2);
}

static void no_repeats(const schema_entry *v, int n, const char *what)
{
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_non_null(v[i].name);
        assert_true(v[i].name[0] != '\0');
        for (int j = 0; j < i; j++)
            if (strcmp(v[i].name, v[j].name) == 0)
                fail_msg("%s '%s' is listed twice", what, v[i].name);
    }
}

static void test_lists(void **state)
{
    (void)state;
    const schema_entry *v;
    int n = schema_counters(&v);
    no_repeats(v, n, "counter");
    for (int i = 0; i < n; i++)
        assert_true(strcmp(v[i].b, "all") == 0 || strcmp(v[i].b, "prefill decode") == 0 ||
                    strcmp(v[i].b, "peer") == 0);
    n = schema_context_keys(&v);
    no_repeats(v, n, "context key");
    for (int i = 0; i < n; i++) {
        const char *src = v[i].a;
        assert_true(strcmp(src, "gb") == 0 || strcmp(src, "itera") == 0 ||
                    strcmp(src, "machine") == 0 || strcmp(src, "peer") == 0 ||
                    strcmp(src, "shard") == 0 || strcmp(src, "merge") == 0 || strcmp(src, "ab") == 0 ||
                    strcmp(src, "slurm") == 0 || strcmp(src, "legacy") == 0);
        /* the harness's own keys carry its prefix; GB's do not */
        assert_int_equal(strncmp(v[i].name, "itera_", 6) == 0, strcmp(src, "gb") != 0);
    }
    n = schema_top_keys(&v);
    assert_true(n > 0);
    n = schema_entry_fields(&v);
    no_repeats(v, n, "entry field");
    assert_true(schema_is_counter(MET_TOKENS_PER_SECOND));
    assert_true(schema_is_counter("cycles" MET_PER_TOKEN_SUFFIX));
    assert_false(schema_is_counter("_per_token"));
    assert_false(schema_is_counter("tokens_per_sec"));
    assert_true(schema_is_context_key(CTX_MACHINE_ID));
    assert_true(schema_is_context_key("itera_cpu_model"));
    assert_false(schema_is_context_key("itera_nothing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
