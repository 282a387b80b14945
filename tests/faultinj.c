/*
 * faultinj.c: an LD_PRELOAD shim that fails one file-system call, SQLite style, for the
 * fault-injection test (tests/cli/faults.sh).
 *
 * Counted calls: write, pwrite, fsync, fdatasync, ftruncate, and close (except of a file
 * open only for reading) on a descriptor open on a file or folder under FAULT_DIR, and rename, renameat, renameat2, mkdir on a path under
 * FAULT_DIR (anything else, e.g. stdout, is never counted or failed; unlink and rmdir are
 * not counted: they are how a writer cleans up after a failure). Environment:
 *   FAULT_DIR=/abs/dir     only calls on files below it count (required; else a no-op)
 *   FAULT_N=n              the n-th counted call (from 1) fails; 0 or unset: none fails
 *   FAULT_ERRNO=ENOSPC|EIO the errno it fails with (default ENOSPC)
 *   FAULT_LOG=/abs/file    appends one line per counted call ("n call path") and one for
 *                          the injected failure ("n call path FAILED errno"), so the test
 *                          knows how many points there were and which one failed
 * A failed call does nothing (a failed close still closes the descriptor, as POSIX allows,
 * so nothing leaks). Only the process that loaded the shim counts: a forked child's calls
 * are not counted, and the shim removes itself from LD_PRELOAD for programs it runs
 * (gnuplot).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static const char *dir;
static size_t dir_len;
static long fail_at;
static int fail_errno = ENOSPC;
static const char *log_path;
static atomic_long calls;
static pid_t owner; /* calls of a forked child (before it execs) are not counted */

__attribute__((constructor)) static void faultinj_init(void)
{
    dir = getenv("FAULT_DIR");
    dir_len = dir ? strlen(dir) : 0;
    const char *n = getenv("FAULT_N"), *e = getenv("FAULT_ERRNO");
    fail_at = n ? atol(n) : 0;
    if (e && strcmp(e, "EIO") == 0) fail_errno = EIO;
    log_path = getenv("FAULT_LOG");
    owner = getpid();
    unsetenv("LD_PRELOAD"); /* children run unchanged */
}

#define REAL(ret, name, ...)                                                                 \
    static ret (*real_##name)(__VA_ARGS__);                                                  \
    if (!real_##name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name)

static int under_dir_abs(const char *path)
{
    if (getpid() != owner) return 0;
    return strncmp(path, dir, dir_len) == 0 && (path[dir_len] == '/' || path[dir_len] == '\0');
}

/* Whether path (absolute, or relative to the working folder) is under FAULT_DIR. */
static int under_dir(const char *path)
{
    if (!dir_len || !path) return 0;
    if (path[0] == '/') return under_dir_abs(path);
    char abs[PATH_MAX];
    if (!getcwd(abs, sizeof abs)) return 0;
    size_t n = strlen(abs);
    snprintf(abs + n, sizeof abs - n, "/%s", path);
    return under_dir_abs(abs);
}

/* The path a descriptor is open on, if it is a regular file (or folder) under FAULT_DIR. */
static int fd_under_dir(int fd, char *path, size_t cap)
{
    if (!dir_len || fd < 0) return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    if (n <= 0) return 0;
    path[n] = '\0';
    return under_dir_abs(path);
}

static void log_line(long k, const char *call, const char *path, int failed)
{
    if (!log_path) return;
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[PATH_MAX + 128];
    int len = snprintf(line, sizeof line, "%ld %s %s%s%s\n", k, call, path, failed ? " FAILED " : "",
                       failed ? (fail_errno == EIO ? "EIO" : "ENOSPC") : "");
    REAL(ssize_t, write, int, const void *, size_t);
    if (len > 0) real_write(fd, line, (size_t)len);
    REAL(int, close, int);
    real_close(fd);
}

/* Counts one call on path; true when this is the one to fail (errno is then set). */
static int inject(const char *call, const char *path)
{
    long k = atomic_fetch_add(&calls, 1) + 1;
    int failed = fail_at > 0 && k == fail_at;
    log_line(k, call, path, failed);
    if (failed) errno = fail_errno;
    return failed;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && inject("write", p)) return -1;
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && inject("pwrite", p)) return -1;
    return real_pwrite(fd, buf, n, off);
}

int fsync(int fd)
{
    REAL(int, fsync, int);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && inject("fsync", p)) return -1;
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && inject("fdatasync", p)) return -1;
    return real_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
    REAL(int, ftruncate, int, off_t);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && inject("ftruncate", p)) return -1;
    return real_ftruncate(fd, len);
}

/* A regular file open only for reading: its close is not a write point. */
static int read_only_file(int fd)
{
    struct stat sb;
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_ACCMODE) == O_RDONLY && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

int close(int fd)
{
    REAL(int, close, int);
    char p[PATH_MAX];
    if (fd_under_dir(fd, p, sizeof p) && !read_only_file(fd) && inject("close", p)) {
        int e = errno;
        real_close(fd);
        errno = e;
        return -1;
    }
    return real_close(fd);
}

int rename(const char *a, const char *b)
{
    REAL(int, rename, const char *, const char *);
    if ((under_dir(a) || under_dir(b)) && inject("rename", b)) return -1;
    return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
    REAL(int, renameat, int, const char *, int, const char *);
    if ((under_dir(a) || under_dir(b)) && inject("renameat", b)) return -1;
    return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
    REAL(int, renameat2, int, const char *, int, const char *, unsigned);
    if ((under_dir(a) || under_dir(b)) && inject("renameat2", b)) return -1;
    return real_renameat2(da, a, db, b, flags);
}

int mkdir(const char *path, mode_t mode)
{
    REAL(int, mkdir, const char *, mode_t);
    if (under_dir(path) && inject("mkdir", path)) return -1;
    return real_mkdir(path, mode);
}
