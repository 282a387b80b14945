/*
 * gnuplot.c: running gnuplot for the report's charts (see gnuplot.h).
 */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itera.h"

int mkdir_p(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Runs argv with stdout and stderr appended to logpath (NULL: discarded); returns the
 * exit status, -1 when it could not start, 128 + the signal when one ended it. */
static int run_quiet(char *const *argv, const char *logpath)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = logpath ? open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0666) : -1;
        if (fd < 0)
            fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static bool file_nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

void gp_check(gp *g, const char *prog, const char *tpldir, const char *outdir,
              const char *const *names, int n, bool no_charts)
{
    memset(g, 0, sizeof *g);
    g->prog = prog;
    g->tpldir = tpldir;
    g->outdir = outdir;
    g->term = "pngcairo";
    g->ext = "png";
    if (no_charts) {
        snprintf(g->why, sizeof g->why, "--no-charts was given");
        return;
    }
    char *ver[] = {(char *)prog, (char *)"--version", NULL};
    int st = run_quiet(ver, NULL);
    if (st != 0) {
        snprintf(g->why, sizeof g->why, "gnuplot (`%s`) %s; install Debian's gnuplot-nox to get them",
                 prog, st == 127 || st < 0 ? "was not found" : "did not run");
        return;
    }
    for (int i = 0; i < n; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/%s.gp", tpldir, names[i]);
        if (!file_nonempty(p)) {
            snprintf(g->why, sizeof g->why,
                     "the chart template `%s` is missing (templates come from the repository's "
                     "reports/ folder; see --templates)",
                     p);
            return;
        }
    }
    char *png[] = {(char *)prog, (char *)"-e", (char *)"set terminal pngcairo", NULL};
    if (run_quiet(png, NULL) != 0) {
        g->term = "svg";
        g->ext = "svg";
    }
    g->ok = true;
}

/* Reads path whole into *data (malloc'd) and *len; 0, or -1. */
static int slurp(const char *path, char **data, size_t *len)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return -1;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            char *d = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!d) {
                rc = -1;
                break;
            }
            buf = d;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0) {
            rc = ferror(in) ? -1 : 0;
            break;
        }
    }
    fclose(in);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

bench_status gp_render(gp *g, const char *name, const char *dat, const char *img,
                       const char *title, const char *extra, bench_error *e)
{
    if (!g->tmpdir[0]) {
        snprintf(g->tmpdir, sizeof g->tmpdir, "%s/.gnuplot-XXXXXX", g->outdir);
        if (!mkdtemp(g->tmpdir)) {
            bench_status st = bench_fail(e, BENCH_ERR_SYSTEM, "cannot make a temporary folder "
                                         "in %s: %s", g->outdir, strerror(errno));
            g->tmpdir[0] = '\0';
            return st;
        }
    }
    char tpl[1200], log[1200], tmpimg[1400];
    snprintf(tpl, sizeof tpl, "%s/%.*s.gp", g->tpldir, (int)strcspn(name, "_"), name);
    snprintf(log, sizeof log, "%s/gnuplot.log", g->outdir);
    snprintf(tmpimg, sizeof tmpimg, "%s/%s.%s", g->tmpdir, name, g->ext);
    if (strchr(dat, '\'') || strchr(tmpimg, '\'') || strchr(g->tpldir, '\''))
        return bench_fail(e, BENCH_ERR_INPUT, "a path contains a quote");
    char t[256];
    size_t j = 0;
    for (const char *p = title; *p && j + 1 < sizeof t; p++)
        t[j++] = *p == '\'' ? ' ' : *p;
    t[j] = '\0';
    char vars[5000];
    snprintf(vars, sizeof vars,
             "tpldir='%s'; datafile='%s'; outfile='%s'; term='%s'; chart_title='%s'; %s", g->tpldir,
             dat, tmpimg, g->term, t, extra ? extra : "");
    remove(tmpimg);
    char *argv[] = {(char *)g->prog, (char *)"-e", vars, tpl, NULL};
    int st = run_quiet(argv, log);
    if (st != 0 || !file_nonempty(tmpimg)) {
        remove(tmpimg);
        return bench_fail(e, BENCH_ERR_SYSTEM, "gnuplot exited with status %d (see "
                          "`gnuplot.log`)", st);
    }
    char *data = NULL;
    size_t len = 0;
    bench_status rc = BENCH_OK;
    itera_error err;
    if (slurp(tmpimg, &data, &len) != 0)
        rc = bench_fail(e, BENCH_ERR_IO, "%.600s: cannot read gnuplot's output %.600s", img,
                        tmpimg);
    else if (itera_write_file(img, data, len, &err) != ITERA_OK)
        rc = bench_fail(e, BENCH_ERR_IO, "%s", err.msg);
    free(data);
    remove(tmpimg);
    return rc;
}

void gp_done(gp *g)
{
    if (g->tmpdir[0]) {
        rmdir(g->tmpdir); /* empty: every image was moved out or removed */
        g->tmpdir[0] = '\0';
    }
    if (g->outdir) {
        char log[1200];
        snprintf(log, sizeof log, "%s/gnuplot.log", g->outdir);
        struct stat st;
        if (stat(log, &st) == 0 && st.st_size == 0)
            remove(log);
    }
}
