/* fuzz/ini.c: platform and profile INI files and --set lines. The first byte picks the
 * kind (even: platform, odd: profile); then the file up to a NUL; after it, one --set
 * assignment per line (profiles). The file is checked as text and parsed as
 * bench_ini_parse does for a file (pre-scan, inih, the key tables); a profile then takes
 * its --set lines and is expanded into cells, a platform is resolved against 2 cores. */
#include <stdio.h>

#include "fuzz.h"
#include "platform.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const bool is_profile = data[0] & 1;
    size_t n1, n2;
    const uint8_t *rest;
    fuzz_split(data + 1, size - 1, &n1, &rest, &n2);
    char *text = fuzz_dup(data + 1, n1), *sets = fuzz_dup(rest, n2);
    bench_error msg;
    itera_error err;
    if (!text || !sets || itera_check_text("fuzz.ini", text, n1, &err) != ITERA_OK) goto out;
    if (!is_profile) {
        platform p;
        if (platform_load_string(text, "fuzz.ini", &p, &msg) == BENCH_OK) {
            platform_resolve(&p, 2);
            platform_check_fits(&p, 2, &msg);
        }
        goto out;
    }
    profile *p = malloc(sizeof *p);
    if (!p) goto out;
    if (profile_load_string(text, "fuzz.ini", p, &msg) == BENCH_OK) {
        bool ok = true;
        for (char *line = sets, *nl; ok && *line; line = nl ? nl + 1 : line + strlen(line)) {
            nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            ok = profile_override(p, line, &msg) == BENCH_OK;
        }
        if (ok) {
            char out[2048];
            for (const char *k = profile_keys(); *k;) {
                char key[64];
                size_t len = strcspn(k, ",");
                snprintf(key, sizeof key, "%.*s", (int)len, k);
                if (profile_format(p, key, out, sizeof out) != 0) abort();
                k += len;
                while (*k == ',' || *k == ' ') k++;
            }
            bench_cell *cells;
            int n;
            if (profile_cells(p, 2, &cells, &n, &msg) == BENCH_OK) free(cells);
        }
    }
    free(p);
out:
    free(text);
    free(sets);
    return 0;
}
