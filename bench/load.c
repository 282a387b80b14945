/*
 * load.c: machine load around a cell, from /proc/stat and /proc/pressure/cpu (load.h).
 */
#include "load.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void rule_defaults(load_rule *r)
{
    r->enabled = true;
    r->max_other_cpu = LOAD_DEFAULT_OTHER_CPU;
    r->max_steal_pct = LOAD_DEFAULT_STEAL_PCT;
    r->max_pressure_pct = LOAD_DEFAULT_PRESSURE_PCT;
}

bench_status load_rule_parse(const char *spec, load_rule *r, bench_error *e)
{
    rule_defaults(r);
    if (!spec || !*spec)
        return BENCH_OK;
    if (strcmp(spec, "off") == 0) {
        r->enabled = false;
        return BENCH_OK;
    }
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return bench_fail(e, BENCH_ERR_INPUT, "contention rule '%.60s...': too long", spec);
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || end == eq + 1 || *end != '\0' || !(v >= 0) || !isfinite(v)) {
            rule_defaults(r);
            return bench_fail(e, BENCH_ERR_INPUT, "contention rule '%s': '%s' is not KEY=NUMBER "
                              "(keys cpu, steal, pressure; or the whole rule 'off')", spec, tok);
        }
        *eq = '\0';
        if (strcmp(tok, "cpu") == 0) {
            r->max_other_cpu = v;
        } else if (strcmp(tok, "steal") == 0) {
            r->max_steal_pct = v;
        } else if (strcmp(tok, "pressure") == 0) {
            r->max_pressure_pct = v;
        } else {
            rule_defaults(r);
            return bench_fail(e, BENCH_ERR_INPUT, "contention rule '%s': unknown key '%s' "
                              "(expected cpu, steal or pressure)", spec, tok);
        }
    }
    return BENCH_OK;
}

bench_status load_rule_from_env(load_rule *r, bench_error *e)
{
    const char *env = getenv("ITERA_CONTENTION");
    bench_status st = load_rule_parse(env, r, e);
    if (st != BENCH_OK && e) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "ITERA_CONTENTION: %.990s", e->msg);
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    }
    return st;
}

const char *load_rule_describe(const load_rule *r, char *buf, size_t n)
{
    if (!r->enabled)
        snprintf(buf, n, "off (ITERA_CONTENTION=off): load measured, never marked contended");
    else
        snprintf(buf, n, "contended when, over the cell, other processes used more than %.2f "
                 "cores (/proc/stat idle vs this process's CPU time), steal exceeded %.1f%%, "
                 "or CPU pressure (/proc/pressure/cpu some) exceeded %.1f%% of the wall time",
                 r->max_other_cpu, r->max_steal_pct, r->max_pressure_pct);
    return buf;
}

/* Opens rel under root for reading. */
static FILE *open_under(const char *root, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", root ? root : "", rel);
    return fopen(path, "r");
}

/* One /proc/stat line into s; false for a malformed aggregate cpu line (msg in e). */
static bool stat_line(const char *line, double hz, load_sample *s, bool *have_cpu,
                      const char *root, bench_error *e)
{
    if (strncmp(line, "cpu ", 4) == 0) {
        unsigned long long v[8] = {0};
        int k = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
        if (k < 4) {
            bench_fail(e, BENCH_ERR_SYSTEM, "%s/proc/stat: the cpu line has %d fields, "
                       "expected at least 4: '%.80s'", root ? root : "", k < 0 ? 0 : k, line);
            return false;
        }
        /* user nice system idle iowait irq softirq steal (guest time is inside user) */
        double total = 0;
        for (int i = 0; i < k; i++)
            total += (double)v[i];
        s->idle_s = (double)(v[3] + v[4]) / hz;
        s->steal_s = (double)v[7] / hz;
        s->total_s = total / hz;
        *have_cpu = true;
    } else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9') {
        s->ncpu++;
    } else if (strncmp(line, "procs_running ", 14) == 0) {
        s->procs_running = atoi(line + 14);
    }
    return true;
}

bench_status load_read(const char *root, load_sample *s, bench_error *e)
{
    memset(s, 0, sizeof *s);
    s->procs_running = -1;
    s->psi_some_us = -1;
    if (root && strcmp(root, "/") == 0)
        root = NULL;
    s->wall_s = clock_s(CLOCK_MONOTONIC);
    s->self_cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID);

    FILE *f = open_under(root, "/proc/stat");
    if (!f)
        return bench_fail(e, BENCH_ERR_SYSTEM, "%s/proc/stat: cannot read: %s", root ? root : "",
                          strerror(errno));
    double hz = (double)sysconf(_SC_CLK_TCK);
    if (!(hz > 0))
        hz = 100;
    bool have_cpu = false, ok = true;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        ok = stat_line(line, hz, s, &have_cpu, root, e);
    }
    free(line);
    fclose(f);
    if (!ok)
        return BENCH_ERR_SYSTEM;
    if (!have_cpu || s->ncpu < 1)
        return bench_fail(e, BENCH_ERR_SYSTEM, "%s/proc/stat: no aggregate cpu line or no "
                          "cpuN lines", root ? root : "");

    f = open_under(root, "/proc/pressure/cpu");
    if (f) {
        char buf[512];
        while (fgets(buf, sizeof buf, f)) {
            const char *tot = strncmp(buf, "some ", 5) == 0 ? strstr(buf, "total=") : NULL;
            if (tot) {
                s->psi_some_us = strtod(tot + 6, NULL);
                break;
            }
        }
        fclose(f);
    }
    return BENCH_OK;
}

void load_window_make(const load_sample *a, const load_sample *b, const load_rule *r,
                      int own_threads, load_window *w)
{
    memset(w, 0, sizeof *w);
    w->wall_s = b->wall_s - a->wall_s;
    w->pressure_pct = NAN;
    w->runnable_others = a->procs_running >= 1 ? a->procs_running - 1 : -1;
    int ncpu = b->ncpu > 0 ? b->ncpu : a->ncpu;
    if (!(w->wall_s > 0) || ncpu < 1)
        return;
    double idle = b->idle_s - a->idle_s, self = b->self_cpu_s - a->self_cpu_s;
    double other = (ncpu * w->wall_s - idle - self) / w->wall_s;
    w->other_cpu = other > 0 ? other : 0;
    double total = b->total_s - a->total_s;
    w->steal_pct = total > 0 ? 100.0 * (b->steal_s - a->steal_s) / total : 0;
    if (a->psi_some_us >= 0 && b->psi_some_us >= a->psi_some_us)
        w->pressure_pct = 100.0 * (b->psi_some_us - a->psi_some_us) * 1e-6 / w->wall_s;
    if (!r || !r->enabled)
        return;
    if (w->other_cpu > r->max_other_cpu) {
        w->contended = true;
        snprintf(w->why, sizeof w->why, "other processes used %.2f cores (limit %.2f)",
                 w->other_cpu, r->max_other_cpu);
    } else if (w->steal_pct > r->max_steal_pct) {
        w->contended = true;
        snprintf(w->why, sizeof w->why, "steal %.1f%% (limit %.1f%%)", w->steal_pct,
                 r->max_steal_pct);
    } else if (own_threads <= ncpu && !isnan(w->pressure_pct) &&
               w->pressure_pct > r->max_pressure_pct) {
        w->contended = true;
        snprintf(w->why, sizeof w->why, "CPU pressure %.1f%% of the time (limit %.1f%%)",
                 w->pressure_pct, r->max_pressure_pct);
    }
}
