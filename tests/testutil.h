/*
 * testutil.h: shared helpers of the cmocka tests (header-only, static functions).
 * Reference data is read from ../shared/reference/itera-lite-micro relative to the repo
 * root (tests run from there); tests needing it print SKIPPED with the reason when absent.
 */
#ifndef ITERA_TESTUTIL_H
#define ITERA_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define REF_DIR "../shared/reference/itera-lite-micro"

/* True if the reference folder is present; else prints why the caller skips. */
static inline bool ref_available(const char *what)
{
    struct stat sb;
    if (stat(REF_DIR "/model.safetensors", &sb) == 0) return true;
    printf("SKIPPED %s: reference data %s is absent (tests read it from ../shared; it is not "
           "part of the repository)\n", what, REF_DIR);
    return false;
}

/* A fresh temporary folder (mkdtemp), path in buf. */
static inline void make_tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/itera-test-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static inline float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        if (!(d <= m)) m = d;
    }
    return m;
}

#endif
