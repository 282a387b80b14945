/* argopt.c: see argopt.h. */
#include "argopt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool argopt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return false;
    if (a[len] == '=') {
        *out = a + len + 1;
        return true;
    }
    if (a[len] != '\0')
        return false;
    *out = *i + 1 < argc ? argv[++*i] : NULL;
    return true;
}

bool argopt_double(const char *s, double *v)
{
    char *end = NULL;
    errno = 0;
    double x = s ? strtod(s, &end) : NAN;
    if (!s || end == s || *end || errno || !isfinite(x))
        return false;
    *v = x;
    return true;
}
