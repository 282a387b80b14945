/*
 * argopt.h: the command-line helpers every itera-bench command shares.
 */
#ifndef ITERA_BENCH_ARGOPT_H
#define ITERA_BENCH_ARGOPT_H

#include <stdbool.h>

/* Takes the value of option `name` at argv[*i], written "--name V" (advances *i past V)
 * or "--name=V". Returns false when argv[*i] is not that option (nothing changes);
 * true when it is, with *out the value, or NULL when "--name" is the last argument. */
bool argopt_value(int argc, char **argv, int *i, const char *name, const char **out);

/* s as a finite double (the whole string; NULL or empty refused). */
bool argopt_double(const char *s, double *v);

#endif
