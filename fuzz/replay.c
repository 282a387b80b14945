/*
 * replay.c: the main of a harness built without libFuzzer (make test): runs each file
 * given, or every file of each folder given (in name order), through
 * LLVMFuzzerTestOneInput once. Prints "replay: N inputs" and exits 0; a crash or a
 * sanitizer report ends it non-zero (tests/cli/fuzz_corpus.sh then replays the files one
 * by one to name the input). REPLAY_VERBOSE=1 names each file before it runs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "itera.h"

static int run_file(const char *path)
{
    char *buf;
    size_t len;
    itera_error err;
    if (itera_read_file(path, 0, &buf, &len, &err) != ITERA_OK) {
        fprintf(stderr, "replay: %s\n", err.msg);
        return -1;
    }
    if (getenv("REPLAY_VERBOSE")) fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: not found\n", argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            bad += run_file(argv[i]) != 0;
            n++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: %s: cannot open the folder\n", argv[i]);
            bad++;
            continue;
        }
        char **names = NULL;
        size_t k = 0, cap = 0;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 64;
                char **nn = realloc(names, cap * sizeof *nn);
                if (!nn) break;
                names = nn;
            }
            size_t need = strlen(argv[i]) + strlen(e->d_name) + 2;
            if (!(names[k] = malloc(need))) break;
            snprintf(names[k], need, "%s/%s", argv[i], e->d_name);
            k++;
        }
        closedir(d);
        qsort(names, k, sizeof *names, cmp_str); /* the same order on every machine */
        for (size_t j = 0; j < k; j++) {
            bad += run_file(names[j]) != 0;
            n++;
            free(names[j]);
        }
        free(names);
    }
    printf("replay: %d inputs%s\n", n, bad ? " (some could not be read)" : "");
    return bad ? 1 : 0;
}
