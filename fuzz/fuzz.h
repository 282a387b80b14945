/*
 * fuzz.h: shared by the libFuzzer harnesses in fuzz/ (one reader each; see fuzz/README.md).
 *
 * Every harness defines LLVMFuzzerTestOneInput(data, size) and runs the reader the way the
 * tool does after reading its file: the same parse and checks, then what the tool would do
 * next with what it accepted (run a model, expand a profile, render a report), so a
 * crash, leak, hang or undefined behaviour anywhere behind the reader is found. A harness
 * never prints (errors are the expected outcome) and frees everything it made.
 *
 * Built two ways (Makefile): with clang's -fsanitize=fuzzer for `make fuzz`, and with the
 * normal compiler and fuzz/replay.c as its main for `make test`, which runs every file of
 * fuzz/corpus/<target>/ through it once (crash reproducers are kept there).
 */
#ifndef ITERA_FUZZ_H
#define ITERA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data[n] with a NUL after it (readers take C strings or own buffers). */
static inline char *fuzz_dup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n) memcpy(s, data, n);
        s[n] = '\0';
    }
    return s;
}

/* Splits data at its first NUL byte: [0, *n1) before it, the rest after it (none: all in
 * the first part, the second empty). Multi-file inputs put a NUL between their files. */
static inline void fuzz_split(const uint8_t *data, size_t size, size_t *n1, const uint8_t **rest,
                              size_t *n2)
{
    const uint8_t *z = memchr(data, 0, size);
    *n1 = z ? (size_t)(z - data) : size;
    *rest = z ? z + 1 : data + size;
    *n2 = z ? size - *n1 - 1 : 0;
}

#endif
