/*
 * counters.c: libpfm4 + perf_event_open counters for the whole process (see counters.h).
 *
 * Layout: for each event, one perf fd per thread that existed at open (inherit=1 so the
 * threads those create later are counted through them). counters_start snapshots every
 * fd (value, time_enabled, time_running) and enables; counters_stop snapshots again and
 * disables; a read scales each fd's delta by its own enabled/running delta and sums.
 */
#include "counters.h"
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/perf_event.h> /* the kernel's attr layout; libpfm4's copy then stands down */
#include <perfmon/pfmlib_perf_event.h> /* also the perf_event_open() syscall stub */

#define CTR_MAX_TASKS 256 /* threads counted individually at open */

static const struct {
    const char *name; /* result name */
    const char *pfm;  /* libpfm4 event string */
    bool hardware;
} events[CTR_EVENT_COUNT] = {
    [CTR_CYCLES] = {"cycles", "perf::CYCLES", true},
    [CTR_INSTRUCTIONS] = {"instructions", "perf::INSTRUCTIONS", true},
    [CTR_CACHE_REFERENCES] = {"cache_references", "perf::CACHE-REFERENCES", true},
    [CTR_CACHE_MISSES] = {"cache_misses", "perf::CACHE-MISSES", true},
    [CTR_BRANCH_MISSES] = {"branch_misses", "perf::BRANCH-MISSES", true},
    [CTR_TASK_CLOCK] = {"task_clock_ns", "perf::TASK-CLOCK", false},
    [CTR_CONTEXT_SWITCHES] = {"context_switches", "perf::CONTEXT-SWITCHES", false},
    [CTR_CPU_MIGRATIONS] = {"cpu_migrations", "perf::CPU-MIGRATIONS", false},
    [CTR_PAGE_FAULTS] = {"page_faults", "perf::PAGE-FAULTS", false},
};

static const char *const mode_names[COUNTERS_MODE_COUNT] = {
    [COUNTERS_AUTO] = "auto",
    [COUNTERS_SOFTWARE] = "software",
    [COUNTERS_OFF] = "off",
};

typedef struct snap {
    uint64_t value, enabled, running;
} snap;

typedef struct ev_state {
    bool open;
    bool tried;
    char why[96];   /* why it is not open ("" when open or not tried) */
    int nfd;
    int *fd;        /* [nfd], -1 for a thread that exited before open */
    snap *base;     /* [nfd] at start */
    snap *end;      /* [nfd] at stop */
} ev_state;

struct counters {
    counters_mode mode;
    bool running;      /* started and not stopped */
    bool user_only;    /* kernel-mode counting was refused: exclude_kernel */
    int ntasks;        /* threads that existed at open (up to CTR_MAX_TASKS) */
    int ntasks_seen;   /* threads listed, possibly more than ntasks */
    char global_why[128]; /* a reason nothing could open (libpfm init, task listing) */
    ev_state ev[CTR_EVENT_COUNT];
    pid_t tid[CTR_MAX_TASKS];
};

const char *counters_event_name(counters_event e)
{
    return (unsigned)e < CTR_EVENT_COUNT ? events[e].name : "?";
}

bool counters_event_is_hardware(counters_event e)
{
    return (unsigned)e < CTR_EVENT_COUNT && events[e].hardware;
}

const char *counters_mode_name(counters_mode m)
{
    return (unsigned)m < COUNTERS_MODE_COUNT ? mode_names[m] : "?";
}

int counters_mode_parse(const char *s, counters_mode *out)
{
    for (int i = 0; s && i < COUNTERS_MODE_COUNT; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (counters_mode)i;
            return 0;
        }
    return -1;
}

static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_init_status = PFM_SUCCESS;
static void pfm_init_once(void)
{
    pfm_init_status = pfm_initialize();
}

static int read_paranoid(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = -99;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -99;
        fclose(f);
    }
    return v;
}

/* The reason an errno from perf_event_open gives, with a hint. */
static void errno_why(char *buf, size_t n, int e)
{
    const char *hint = "";
    char para[64] = "";
    switch (e) {
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV:
        hint = ": no PMU exposed to this system (e.g. a VM)";
        break;
    case EACCES:
    case EPERM:
        snprintf(para, sizeof para, ": not permitted (perf_event_paranoid=%d)", read_paranoid());
        hint = para;
        break;
    case ENOSYS:
        hint = ": no perf_event support in this kernel";
        break;
    default:
        break;
    }
    snprintf(buf, n, "perf_event_open: %s%s", strerror(e), hint);
}

/* Threads of this process, up to CTR_MAX_TASKS. */
static int list_tasks(counters *c)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        snprintf(c->global_why, sizeof c->global_why, "/proc/self/task: %s", strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        if (c->ntasks < CTR_MAX_TASKS)
            c->tid[c->ntasks++] = (pid_t)atoi(de->d_name);
        c->ntasks_seen++;
    }
    closedir(d);
    return 0;
}

static void close_event(ev_state *ev)
{
    for (int i = 0; ev->fd && i < ev->nfd; i++)
        if (ev->fd[i] >= 0)
            close(ev->fd[i]);
    free(ev->fd);
    free(ev->base);
    free(ev->end);
    ev->fd = NULL;
    ev->base = ev->end = NULL;
    ev->nfd = 0;
    ev->open = false;
}

/* Opens event e on every listed thread; on failure records why. -1 only when out of memory. */
static int open_event(counters *c, counters_event e)
{
    ev_state *ev = &c->ev[e];
    ev->tried = true;
    ev->fd = malloc((size_t)c->ntasks * sizeof *ev->fd);
    ev->base = calloc((size_t)c->ntasks, sizeof *ev->base);
    ev->end = calloc((size_t)c->ntasks, sizeof *ev->end);
    if (!ev->fd || !ev->base || !ev->end) {
        close_event(ev);
        return -1;
    }
    ev->nfd = c->ntasks;
    for (int i = 0; i < ev->nfd; i++)
        ev->fd[i] = -1;

    struct perf_event_attr attr;
    pfm_perf_encode_arg_t arg;
    memset(&attr, 0, sizeof attr);
    memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.size = sizeof arg;
    int rc = pfm_get_os_event_encoding(events[e].pfm, c->user_only ? PFM_PLM3 : PFM_PLM3 | PFM_PLM0,
                                       PFM_OS_PERF_EVENT, &arg);
    if (rc != PFM_SUCCESS) {
        snprintf(ev->why, sizeof ev->why, "libpfm4 cannot encode %s: %s", events[e].pfm, pfm_strerror(rc));
        close_event(ev);
        return 0;
    }
    attr.size = sizeof attr;
    attr.disabled = 1;
    attr.inherit = 1;
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    int opened = 0;
    for (int i = 0; i < ev->nfd; i++) {
        int fd = perf_event_open(&attr, c->tid[i], -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0 && (errno == EACCES || errno == EPERM) && !c->user_only) {
            /* kernel-mode counting refused: count user space only, from now on */
            c->user_only = true;
            attr.exclude_kernel = 1;
            fd = perf_event_open(&attr, c->tid[i], -1, -1, PERF_FLAG_FD_CLOEXEC);
        }
        if (fd < 0) {
            int err = errno;
            if (err == ESRCH && i > 0)
                continue; /* that thread exited meanwhile */
            errno_why(ev->why, sizeof ev->why, err);
            close_event(ev);
            return 0;
        }
        ev->fd[i] = fd;
        opened++;
    }
    if (opened == 0) {
        snprintf(ev->why, sizeof ev->why, "no thread of this process could be counted");
        close_event(ev);
        return 0;
    }
    ev->open = true;
    ev->why[0] = '\0';
    return 0;
}

bench_status counters_open_mode(counters **out, counters_mode mode, bench_error *e)
{
    *out = NULL;
    if ((unsigned)mode >= COUNTERS_MODE_COUNT)
        return bench_fail(e, BENCH_ERR_INPUT, "counters: bad mode %d; expected auto, software or "
                          "off", (int)mode);
    counters *c = calloc(1, sizeof *c);
    if (!c)
        return bench_fail(e, BENCH_ERR_NOMEM, "counters: out of memory");
    c->mode = mode;
    if (mode == COUNTERS_OFF) {
        *out = c;
        return BENCH_OK;
    }
    pthread_once(&pfm_once, pfm_init_once);
    if (pfm_init_status != PFM_SUCCESS) {
        snprintf(c->global_why, sizeof c->global_why, "libpfm4 pfm_initialize: %s",
                 pfm_strerror(pfm_init_status));
        *out = c;
        return BENCH_OK;
    }
    if (list_tasks(c) != 0 || c->ntasks == 0) {
        *out = c;
        return BENCH_OK;
    }
    for (int ev = 0; ev < CTR_EVENT_COUNT; ev++) {
        if (events[ev].hardware && mode == COUNTERS_SOFTWARE)
            continue;
        if (open_event(c, (counters_event)ev) != 0) {
            counters_close(c);
            return bench_fail(e, BENCH_ERR_NOMEM, "counters: out of memory");
        }
    }
    *out = c;
    return BENCH_OK;
}

bench_status counters_open(counters **c, bench_error *e)
{
    counters_mode mode = COUNTERS_AUTO;
    const char *env = getenv("ITERA_COUNTERS");
    if (env && *env && counters_mode_parse(env, &mode) != 0) {
        *c = NULL;
        return bench_fail(e, BENCH_ERR_INPUT, "ITERA_COUNTERS=%s: unknown counters mode; "
                          "expected auto, software or off", env);
    }
    return counters_open_mode(c, mode, e);
}

void counters_close(counters *c)
{
    if (!c)
        return;
    for (int e = 0; e < CTR_EVENT_COUNT; e++)
        close_event(&c->ev[e]);
    free(c);
}

counters_mode counters_get_mode(const counters *c)
{
    return c->mode;
}

bool counters_hardware(const counters *c)
{
    for (int e = 0; e < CTR_EVENT_COUNT; e++)
        if (events[e].hardware && c->ev[e].open)
            return true;
    return false;
}

static int read_fd(int fd, snap *s)
{
    uint64_t buf[3];
    if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
        return -1;
    s->value = buf[0];
    s->enabled = buf[1];
    s->running = buf[2];
    return 0;
}

static int snapshot(const counters *c, bool at_end)
{
    int rc = 0;
    for (int e = 0; e < CTR_EVENT_COUNT; e++) {
        const ev_state *ev = &c->ev[e];
        if (!ev->open)
            continue;
        for (int i = 0; i < ev->nfd; i++)
            if (ev->fd[i] >= 0 && read_fd(ev->fd[i], at_end ? &ev->end[i] : &ev->base[i]) != 0)
                rc = -1;
    }
    return rc;
}

static int ioctl_all(const counters *c, unsigned long req)
{
    int rc = 0;
    for (int e = 0; e < CTR_EVENT_COUNT; e++) {
        const ev_state *ev = &c->ev[e];
        if (!ev->open)
            continue;
        for (int i = 0; i < ev->nfd; i++)
            if (ev->fd[i] >= 0 && ioctl(ev->fd[i], req, 0) != 0)
                rc = -1;
    }
    return rc;
}

int counters_start(counters *c)
{
    int rc = ioctl_all(c, PERF_EVENT_IOC_ENABLE);
    if (snapshot(c, false) != 0)
        rc = -1;
    c->running = rc == 0;
    return rc;
}

int counters_stop(counters *c)
{
    if (!c->running)
        return 0;
    int rc = snapshot(c, true);
    if (ioctl_all(c, PERF_EVENT_IOC_DISABLE) != 0)
        rc = -1;
    c->running = false;
    return rc;
}

double counters_scale(uint64_t value, uint64_t enabled, uint64_t running, bool *multiplexed)
{
    *multiplexed = running < enabled;
    if (!*multiplexed)
        return (double)value;
    if (running == 0)
        return 0.0;
    return (double)value * ((double)enabled / (double)running);
}

int counters_read(const counters *c, counters_values *v)
{
    memset(v, 0, sizeof *v);
    int rc = 0;
    for (int e = 0; e < CTR_EVENT_COUNT; e++) {
        const ev_state *ev = &c->ev[e];
        if (!ev->open)
            continue;
        double total = 0;
        bool mux = false;
        for (int i = 0; i < ev->nfd; i++) {
            if (ev->fd[i] < 0)
                continue;
            snap now;
            if (c->running) {
                if (read_fd(ev->fd[i], &now) != 0) {
                    rc = -1;
                    continue;
                }
            } else {
                now = ev->end[i];
            }
            bool m = false;
            total += counters_scale(now.value - ev->base[i].value, now.enabled - ev->base[i].enabled,
                                    now.running - ev->base[i].running, &m);
            mux |= m;
        }
        int k = v->n++;
        v->event[k] = (counters_event)e;
        v->name[k] = events[e].name;
        v->value[k] = total;
        v->multiplexed[k] = mux;
        v->any_multiplexed |= mux;
        v->hardware |= events[e].hardware;
    }
    return rc;
}

/* Appends to buf at *len, never past n. */
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len += (size_t)k;
}

/* "name, name" of the events with hardware == hw that are open (open) or failed (!open). */
static void list_events(const counters *c, bool hw, bool open, char *buf, size_t n, size_t *len)
{
    bool first = true;
    for (int e = 0; e < CTR_EVENT_COUNT; e++) {
        if (events[e].hardware != hw || c->ev[e].open != open || (!open && !c->ev[e].tried))
            continue;
        append(buf, n, len, "%s%s", first ? "" : ", ", events[e].name);
        if (!open) {
            /* name the reason once per run of identical reasons */
            int next = e + 1;
            while (next < CTR_EVENT_COUNT && (events[next].hardware != hw || c->ev[next].open || !c->ev[next].tried))
                next++;
            if (next >= CTR_EVENT_COUNT || strcmp(c->ev[next].why, c->ev[e].why) != 0)
                append(buf, n, len, " (%s)", c->ev[e].why);
        }
        first = false;
    }
}

static bool any(const counters *c, bool hw, bool open)
{
    for (int e = 0; e < CTR_EVENT_COUNT; e++)
        if (events[e].hardware == hw && c->ev[e].open == open && (open || c->ev[e].tried))
            return true;
    return false;
}

const char *counters_describe(const counters *c, char *buf, size_t n)
{
    size_t len = 0;
    if (n)
        buf[0] = '\0';
    if (c->mode == COUNTERS_OFF) {
        append(buf, n, &len, "off (counters mode off): nothing counted");
        return buf;
    }
    if (c->global_why[0]) {
        append(buf, n, &len, "none: %s", c->global_why);
        return buf;
    }
    bool hw = any(c, true, true), sw = any(c, false, true);
    if (hw) {
        append(buf, n, &len, "hardware: ");
        list_events(c, true, true, buf, n, &len);
    }
    if (sw) {
        append(buf, n, &len, "%ssoftware: ", hw ? "; " : "");
        list_events(c, false, true, buf, n, &len);
    }
    if (!hw && !sw)
        append(buf, n, &len, "none");
    if (any(c, true, false)) {
        append(buf, n, &len, "; hardware unavailable: ");
        list_events(c, true, false, buf, n, &len);
    }
    if (any(c, false, false)) {
        append(buf, n, &len, "; software unavailable: ");
        list_events(c, false, false, buf, n, &len);
    }
    if (c->mode == COUNTERS_SOFTWARE)
        append(buf, n, &len, "; hardware not tried (counters mode software)");
    if (c->user_only)
        append(buf, n, &len, "; user space only (kernel counting not permitted, perf_event_paranoid=%d)",
               read_paranoid());
    if (hw || sw) {
        append(buf, n, &len, "; scope: process, %d thread%s at open + threads they create", c->ntasks,
               c->ntasks == 1 ? "" : "s");
        if (c->ntasks_seen > c->ntasks)
            append(buf, n, &len, " (%d more threads not counted)", c->ntasks_seen - c->ntasks);
        append(buf, n, &len, "; scaled by time enabled/running");
    }
    return buf;
}
