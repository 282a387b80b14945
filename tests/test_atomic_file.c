/*
 * test_atomic_file.c: the engine's atomic writers (itera.h "Writing files atomically";
 * engine/atomic_file.c): a file or folder is replaced whole or not at all, nothing that
 * is not a regular file is replaced, and every error names the path.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#include "testutil.h"

#include "itera.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    buf[*n < (1 << 20) ? *n : (1 << 20) - 1] = '\0';
    return buf;
}

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void expect_content(const char *path, const char *want)
{
    size_t n;
    char *got = slurp(path, &n);
    assert_non_null(got);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
    free(got);
}

static void test_write_and_replace(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    itera_error err;
    assert_int_equal(itera_write_file(path, "first\n", 6, &err), ITERA_OK);
    expect_content(path, "first\n");
    /* replace, through the streaming calls; a printf longer than its stack buffer */
    itera_file *f;
    assert_int_equal(itera_file_create(path, &f, &err), ITERA_OK);
    expect_content(path, "first\n"); /* untouched until commit */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    itera_file_printf(f, "%s|%d\n", big, 42);
    for (int i = 0; i < 20000; i++) itera_file_write(f, "0123456789", 10); /* past the buffer */
    assert_true(itera_file_ok(f));
    assert_int_equal(itera_file_commit(f, &err), ITERA_OK);
    size_t n;
    char *got = slurp(path, &n);
    assert_int_equal(n, 2999 + 4 + 200000);
    assert_memory_equal(got + 2999, "|42\n0123456789", 14);
    free(got);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */
    /* discard leaves the old file */
    assert_int_equal(itera_file_create(path, &f, &err), ITERA_OK);
    itera_file_write(f, "zzz", 3);
    itera_file_discard(f);
    assert_int_equal(count_entries(dir), 1);
    unlink(path);
    rmdir(dir);
}

static void test_refuses_non_regular(void **state)
{
    (void)state;
    char dir[64], path[128], target[128];
    make_tmpdir(dir, sizeof dir);
    itera_error err;
    itera_file *f = (itera_file *)&err; /* must be set to NULL on failure */
    /* a symbolic link: refused, its target not truncated */
    snprintf(target, sizeof target, "%s/target", dir);
    snprintf(path, sizeof path, "%s/link", dir);
    write_text(target, "keep me");
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(itera_file_create(path, &f, &err), ITERA_ERR_ARG);
    assert_null(f);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "symbolic link"));
    expect_content(target, "keep me");
    /* a FIFO: refused at once (never opened, so no blocking) */
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(itera_write_file(path, "x", 1, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "FIFO"));
    /* a folder */
    assert_int_equal(itera_write_file(dir, "x", 1, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "a folder"));
    /* a device node (lstat only: nothing is opened) */
    assert_int_equal(itera_write_file("/dev/null", "x", 1, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "/dev/null: is a character device"));
    assert_int_equal(count_entries(dir), 3); /* nothing created beside them */
    unlink(path);
    snprintf(path, sizeof path, "%s/link", dir);
    unlink(path);
    unlink(target);
    rmdir(dir);
}

static void test_errors_name_the_file(void **state)
{
    (void)state;
    itera_error err;
    assert_int_equal(itera_write_file("/nonexistent-itera-dir/x.json", "x", 1, &err), ITERA_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent-itera-dir/x.json"));
    assert_int_equal(itera_write_file("", "x", 1, &err), ITERA_ERR_ARG);
}

/* A write that fails part way (the file-size limit: EFBIG) leaves the old file and no
 * temporary file, and the error names the path. */
static void test_failed_write_keeps_old(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/data.bin", dir);
    itera_error err;
    assert_int_equal(itera_write_file(path, "old", 3, &err), ITERA_OK);
    struct rlimit old, small = {.rlim_cur = 100000, .rlim_max = RLIM_INFINITY};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    char *big = calloc(1, 300000);
    assert_non_null(big);
    itera_status st = itera_write_file(path, big, 300000, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    free(big);
    assert_int_equal(st, ITERA_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "write failed"));
    expect_content(path, "old");
    assert_int_equal(count_entries(dir), 1);
    unlink(path);
    rmdir(dir);
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    itera_error err;
    assert_int_equal(itera_write_file(p, text, strlen(text), &err), ITERA_OK);
}

static void test_folder(void **state)
{
    (void)state;
    char base[64], out[128], p[256];
    make_tmpdir(base, sizeof base);
    snprintf(out, sizeof out, "%s/model", base);
    itera_error err;
    char *tmp;
    /* a new folder */
    assert_int_equal(itera_dir_begin(out, &tmp, &err), ITERA_OK);
    put(tmp, "a.txt", "A1");
    put(tmp, "b.txt", "B1");
    assert_int_equal(itera_dir_commit(tmp, out, &err), ITERA_OK);
    free(tmp);
    snprintf(p, sizeof p, "%s/a.txt", out);
    expect_content(p, "A1");
    assert_int_equal(count_entries(base), 1);
    /* replaced as a whole (with a trailing slash in the name) */
    snprintf(p, sizeof p, "%s/", out);
    assert_int_equal(itera_dir_begin(p, &tmp, &err), ITERA_OK);
    put(tmp, "a.txt", "A2");
    put(tmp, "b.txt", "B2");
    assert_int_equal(itera_dir_commit(tmp, p, &err), ITERA_OK);
    free(tmp);
    snprintf(p, sizeof p, "%s/b.txt", out);
    expect_content(p, "B2");
    assert_int_equal(count_entries(base), 1);
    assert_int_equal(count_entries(out), 2);
    /* a folder holding a file the new one lacks is refused, untouched */
    assert_int_equal(itera_dir_begin(out, &tmp, &err), ITERA_OK);
    put(tmp, "a.txt", "A3");
    itera_status st = itera_dir_commit(tmp, out, &err);
    assert_int_equal(st, ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "b.txt"));
    itera_dir_discard(tmp);
    free(tmp);
    snprintf(p, sizeof p, "%s/a.txt", out);
    expect_content(p, "A2");
    assert_int_equal(count_entries(base), 1);
    /* a folder holding a sub-folder is refused before anything is written */
    snprintf(p, sizeof p, "%s/sub", out);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(itera_dir_begin(out, &tmp, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "sub"));
    rmdir(p);
    /* a file where the folder should be */
    snprintf(p, sizeof p, "%s/file", base);
    write_text(p, "x");
    assert_int_equal(itera_dir_begin(p, &tmp, &err), ITERA_ERR_ARG);
    assert_non_null(strstr(err.msg, "not a folder"));
    unlink(p);
    snprintf(p, sizeof p, "%s/a.txt", out);
    unlink(p);
    snprintf(p, sizeof p, "%s/b.txt", out);
    unlink(p);
    rmdir(out);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_replace),
        cmocka_unit_test(test_refuses_non_regular),
        cmocka_unit_test(test_errors_name_the_file),
        cmocka_unit_test(test_failed_write_keeps_old),
        cmocka_unit_test(test_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
