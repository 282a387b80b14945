/* test_strict.c: the strict readers: files that are not regular refused without blocking,
 * text with NUL or invalid UTF-8, safetensors headers as the format's reference
 * implementation checks them, and JSON with duplicate keys. Every case here was accepted
 * (or hung, or wrapped) before these checks. */
#include <signal.h>
#include <sys/stat.h>

#include "testutil.h"
#include "itera.h"
#include "model.h"
#include "readfile.h"
#include "safetensors.h"

/* A reader that blocks would hang the suite: fail it after 10 s instead. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_strict: a reader blocked (alarm after 10 s)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

static void expect_read_refused(const char *path, const char *needle)
{
    char *buf = (char *)0x1;
    size_t len = 7;
    itera_error err;
    alarm(10);
    itera_status st = itera_read_file(path, 0, &buf, &len, &err);
    alarm(0);
    assert_int_not_equal(st, ITERA_OK);
    assert_null(buf);
    if (!strstr(err.msg, needle)) print_error("message: %s (expected '%s')\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
    assert_non_null(strstr(err.msg, path));
}

static void test_not_regular_files(void **state)
{
    (void)state;
    char dir[64], fifo[128], reg[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_read_refused(fifo, "is a FIFO, expected a regular file");
    expect_read_refused("/dev/null", "is a character device");
    expect_read_refused(dir, "is a folder");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none", dir);
    expect_read_refused(missing, "cannot open");
    /* the engine's readers all go through it: config, tokenizer, safetensors */
    itera_error err;
    itera_config cfg;
    assert_int_equal(config_load(fifo, &cfg, &err), ITERA_ERR_IO);
    itera_tokenizer *t;
    assert_int_equal(itera_tokenizer_load(fifo, &t, &err), ITERA_ERR_IO);
    st_file *f;
    assert_int_equal(st_open(fifo, &f, &err), ITERA_ERR_IO);
    assert_non_null(strstr(err.msg, "FIFO"));
    /* a regular file, and the size limit */
    snprintf(reg, sizeof reg, "%s/r.txt", dir);
    write_text(reg, "hello\n");
    char *buf;
    size_t len;
    assert_int_equal(itera_read_file(reg, 0, &buf, &len, &err), ITERA_OK);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "hello\n");
    free(buf);
    assert_int_equal(itera_read_file(reg, 5, &buf, &len, &err), ITERA_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "more than the 5 bytes"));
    unlink(reg);
    unlink(fifo);
    rmdir(dir);
}

static void expect_text(const char *text, size_t len, const char *needle)
{
    itera_error err;
    itera_status st = itera_check_text("t.txt", text, len, &err);
    if (!needle) {
        assert_int_equal(st, ITERA_OK);
        return;
    }
    assert_int_equal(st, ITERA_ERR_FORMAT);
    if (!strstr(err.msg, needle)) print_error("message: %s (expected '%s')\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
}

static void test_text_checks(void **state)
{
    (void)state;
    expect_text("plain words\n", 12, NULL);
    expect_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, NULL); /* é € 😀 */
    expect_text("one\ntwo\0three", 13, "t.txt:2: NUL byte at byte offset 7");
    expect_text("ab\xff", 3, "invalid UTF-8 (byte 0xff) at byte offset 2");
    expect_text("\xc0\x80", 2, "byte offset 0");            /* overlong NUL */
    expect_text("x\xed\xa0\x80", 4, "byte offset 1");       /* a surrogate */
    expect_text("\xf4\x90\x80\x80", 4, "byte offset 0");    /* past U+10FFFF */
    expect_text("abc\xe2\x82", 5, "byte offset 3");         /* cut short */
}

/* Writes a safetensors file: the header text as given (padded to 8 with spaces), then
 * data_len bytes of 0x3f (1 as a float is 0x3f800000; any byte pattern is fine here). */
static void write_st(const char *path, const char *header, size_t data_len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    size_t hl = strlen(header), pad = (8 - hl % 8) % 8;
    uint64_t n = hl + pad;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)(n >> (8 * i));
    assert_int_equal(fwrite(len8, 1, 8, fp), 8);
    assert_int_equal(fwrite(header, 1, hl, fp), hl);
    assert_int_equal(fwrite("        ", 1, pad, fp), pad);
    for (size_t i = 0; i < data_len; i++) fputc(0x3f, fp);
    fclose(fp);
}

static void expect_st(const char *dir, const char *header, size_t data_len, const char *needle)
{
    char path[128];
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    write_st(path, header, data_len);
    st_file *f = (st_file *)0x1;
    itera_error err;
    itera_status st = st_open(path, &f, &err);
    if (!needle) {
        if (st != ITERA_OK) print_error("refused: %s\nheader: %s\n", err.msg, header);
        assert_int_equal(st, ITERA_OK);
        st_close(f);
        return;
    }
    if (st == ITERA_OK) print_error("accepted: %s\n", header);
    assert_int_equal(st, ITERA_ERR_FORMAT);
    assert_null(f);
    if (!strstr(err.msg, needle)) print_error("message: %s (expected '%s')\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
}

static void test_safetensors_strict(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    /* good: in order, out of order in the JSON (sorted by offset), a zero-size tensor */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}", 11, NULL);
    expect_st(dir, "{\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
                   "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[8,8]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 11, NULL);
    expect_st(dir, "{}", 0, NULL);
    /* overlap: b starts inside a */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
              "overlap tensor 'a'");
    /* the same bytes twice */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlap");
    /* a gap between tensors, and one before the first */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16,
              "gap of 4 bytes after offset 8");
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
              "gap of 4 bytes after offset 0");
    /* bytes after the last tensor (the model file with extra bytes the loader took) */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 24,
              "16 bytes after the last tensor");
    /* a repeated name */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
              "duplicate object key");
    /* element counts that wrap: [2^32, 2^32] is 2^64 elements (0 when wrapped) */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
              "element count or byte size overflows");
    expect_st(dir, "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0,
              "overflows");
    /* a size that does not match, an unknown key, a huge offset */
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
              "8 data bytes, expected 12 for F32 [3]");
    expect_st(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"offset\":1}}", 8,
              "unknown key 'offset'");
    expect_st(dir, "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9223372036854775806,9223372036854775807]}}", 8,
              "outside the 8 data bytes");
    /* metadata with more entries than the header has tensors: all kept (were cut off) */
    char path[128];
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    write_st(path, "{\"__metadata__\":{\"k1\":\"a\",\"k2\":\"b\",\"k3\":\"c\"},"
                   "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    st_file *f;
    itera_error err;
    assert_int_equal(st_open(path, &f, &err), ITERA_OK);
    assert_string_equal(st_meta(f, "k3"), "c");
    st_close(f);
    unlink(path);
    rmdir(dir);
}

static void test_json_duplicate_keys(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    itera_error err;
    snprintf(path, sizeof path, "%s/config.json", dir);
    /* a valid micro config with vocab_size given twice: the last one won */
    write_text(path, "{\"vocab_size\": 2000, \"hidden_size\": 64, \"num_layers\": 3, \"ssm_state_size\": 8,"
                     " \"ssm_expand_factor\": 2, \"ssm_conv_kernel\": 4, \"num_experts\": 4,"
                     " \"expert_size\": 32, \"top_k_experts\": 2, \"max_seq_length\": 128,"
                     " \"layer_norm_eps\": 1e-5, \"moe_layers\": [1], \"vocab_size\": 50}");
    itera_config cfg;
    assert_int_equal(config_load(path, &cfg, &err), ITERA_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "duplicate object key"));
    assert_non_null(strstr(err.msg, "config.json:1"));
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    write_text(path, "{\"token_to_id\": {\"<pad>\": 0, \"a\": 4, \"a\": 5}}");
    itera_tokenizer *t;
    assert_int_equal(itera_tokenizer_load(path, &t, &err), ITERA_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "duplicate object key"));
    write_text(path, "{\"token_to_id\": {\"<pad>\": 0, \"a\": 4}, \"token_to_id\": {}}");
    assert_int_equal(itera_tokenizer_load(path, &t, &err), ITERA_ERR_FORMAT);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_regular_files),
        cmocka_unit_test(test_text_checks),
        cmocka_unit_test(test_safetensors_strict),
        cmocka_unit_test(test_json_duplicate_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
