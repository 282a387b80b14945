/*
 * atomic_file.c: files and folders replaced atomically (itera.h, "Writing files").
 *
 * A file: a temporary file in the same folder (<path>.tmp.<pid>.<n>, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, so nothing that already exists is opened or followed), the
 * data written through a 64 KiB buffer with write(2) (partial writes and EINTR retried),
 * then fsync(2) and close(2) of the file, rename(2) over the path, and fsync of the folder.
 * Whatever fails, the temporary file is removed and the path is left as it was (or, when
 * only the last folder fsync fails, holds the complete new file). A path that exists and
 * is not a regular file (a folder, symbolic link, FIFO, device node, socket) is refused
 * before anything is created: replacing it would turn a device or a link's target into a
 * data file, or block on a FIFO.
 *
 * A folder: files are written into a temporary folder beside it (<path>.tmp.<pid>.<n>),
 * then the folder is moved into place: rename(2) when the path does not exist or is an
 * empty folder; an existing folder whose entries the new one all replaces is exchanged
 * with it atomically (renameat2 RENAME_EXCHANGE; two renames where the file system lacks
 * it) and its old files removed. A folder holding anything else is refused, so that a
 * mistyped path cannot delete a user's files.
 *
 * System calls used, in order (the fault-injection tests count on these being few):
 * lstat, open, write, fsync, close, rename (renameat2 for folders), unlink, mkdir,
 * rmdir, opendir/readdir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#define FILE_BUF (64 * 1024)

struct itera_file {
    char *path;         /* final name */
    char *tmp;          /* temporary name, in the same folder */
    int fd;
    size_t used;        /* bytes in buf */
    itera_status st;    /* first failure (sticky) */
    itera_error err;    /* its message */
    unsigned char buf[FILE_BUF];
};

static atomic_uint tmp_counter;

/* The folder holding path ("." for a bare name), malloc'd. */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    while (slash > path && slash[-1] == '/') slash--;
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* fsync of a folder, so that a rename or unlink in it is durable. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    if (close(fd) != 0 && rc == 0) return -1;
    errno = e;
    return rc;
}

/* "<path>.tmp.<pid>.<n>", malloc'd. */
static char *tmp_name(const char *path)
{
    size_t n = strlen(path) + 48;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&tmp_counter, 1u));
    return t;
}

/* Fails with ITERA_ERR_ARG when path exists and is not a regular file (lstat: a symbolic
 * link is refused, not followed); ITERA_ERR_IO when it cannot be examined. */
static itera_status check_replaceable(const char *path, itera_error *err)
{
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        if (S_ISREG(sb.st_mode)) return ITERA_OK;
        return itera_fail(err, ITERA_ERR_ARG, "%s: is %s, not a regular file; refusing to replace it",
                          path, itera_file_kind(sb.st_mode));
    }
    if (errno == ENOENT) return ITERA_OK;
    return itera_fail(err, ITERA_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
}

itera_status itera_file_create(const char *path, itera_file **out, itera_error *err)
{
    *out = NULL;
    if (!path || !*path) return itera_fail(err, ITERA_ERR_ARG, "output file: empty path");
    itera_status st = check_replaceable(path, err);
    if (st != ITERA_OK) return st;
    itera_file *f = malloc(sizeof *f);
    if (!f) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    f->path = strdup(path);
    f->tmp = NULL;
    f->fd = -1;
    f->used = 0;
    f->st = ITERA_OK;
    f->err.msg[0] = '\0';
    for (int tries = 0; f->path && tries < 100; tries++) {
        free(f->tmp);
        if (!(f->tmp = tmp_name(path))) break;
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (f->fd >= 0 || errno != EEXIST) break;
    }
    if (f->fd < 0) {
        int e = errno;
        if (!f->path || !f->tmp) st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
        else st = itera_fail(err, ITERA_ERR_IO, "%s: cannot write: %s (creating %s)", path, strerror(e), f->tmp);
        free(f->path);
        free(f->tmp);
        free(f);
        return st;
    }
    *out = f;
    return ITERA_OK;
}

/* Writes all of p (retrying partial writes and EINTR); records the first failure. */
static void write_out(itera_file *f, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0 && f->st == ITERA_OK) {
        ssize_t w = write(f->fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            f->st = itera_fail(&f->err, ITERA_ERR_IO, "%s: write failed: %s", f->path,
                               w < 0 ? strerror(errno) : "no progress");
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

static void flush_buf(itera_file *f)
{
    if (f->used) write_out(f, f->buf, f->used);
    f->used = 0;
}

void itera_file_write(itera_file *f, const void *data, size_t n)
{
    if (!f || f->st != ITERA_OK || n == 0) return;
    if (f->used + n > FILE_BUF) {
        flush_buf(f);
        if (n >= FILE_BUF) {
            write_out(f, data, n);
            return;
        }
    }
    memcpy(f->buf + f->used, data, n);
    f->used += n;
}

void itera_file_printf(itera_file *f, const char *fmt, ...)
{
    if (!f || f->st != ITERA_OK) return;
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        f->st = itera_fail(&f->err, ITERA_ERR_ARG, "%s: bad format string", f->path);
        return;
    }
    if ((size_t)n < sizeof small) {
        itera_file_write(f, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        f->st = itera_fail(&f->err, ITERA_ERR_NOMEM, "%s: out of memory", f->path);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    itera_file_write(f, big, (size_t)n);
    free(big);
}

bool itera_file_ok(const itera_file *f) { return f && f->st == ITERA_OK; }

static void file_free(itera_file *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

void itera_file_discard(itera_file *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->tmp);
    file_free(f);
}

itera_status itera_file_commit(itera_file *f, itera_error *err)
{
    if (!f) return itera_fail(err, ITERA_ERR_ARG, "output file: not open");
    flush_buf(f);
    if (f->st == ITERA_OK && fsync(f->fd) != 0)
        f->st = itera_fail(&f->err, ITERA_ERR_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    const int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0 && f->st == ITERA_OK)
        f->st = itera_fail(&f->err, ITERA_ERR_IO, "%s: close failed: %s", f->path, strerror(errno));
    if (f->st == ITERA_OK && rename(f->tmp, f->path) != 0)
        f->st = itera_fail(&f->err, ITERA_ERR_IO, "%s: cannot rename %s over it: %s", f->path, f->tmp,
                           strerror(errno));
    if (f->st != ITERA_OK) {
        itera_status st = f->st;
        if (err) *err = f->err;
        unlink(f->tmp);
        file_free(f);
        return st;
    }
    char *dir = parent_of(f->path);
    itera_status st = ITERA_OK;
    if (!dir) st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", f->path);
    else if (sync_dir(dir) != 0)
        st = itera_fail(err, ITERA_ERR_IO, "%s: written, but fsync of its folder %s failed: %s", f->path, dir,
                        strerror(errno));
    free(dir);
    file_free(f);
    return st;
}

itera_status itera_write_file(const char *path, const void *data, size_t n, itera_error *err)
{
    itera_file *f;
    itera_status st = itera_file_create(path, &f, err);
    if (st != ITERA_OK) return st;
    itera_file_write(f, data, n);
    return itera_file_commit(f, err);
}

/* ---- folders ---- */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A copy of path without trailing slashes (so "out/" and "out" name the same folder). */
static char *trim_slashes(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    return strndup(path, n);
}

/* Whether every entry of folder old is a regular file and (when new_dir is not NULL) has
 * a namesake in new_dir. On false, err says which entry is in the way. */
static itera_status check_old_folder(const char *old, const char *new_dir, itera_error *err)
{
    DIR *d = opendir(old);
    if (!d) return itera_fail(err, ITERA_ERR_IO, "%s: cannot read the folder: %s", old, strerror(errno));
    itera_status st = ITERA_OK;
    struct dirent *e;
    while (st == ITERA_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = join(old, e->d_name), *q = new_dir ? join(new_dir, e->d_name) : NULL;
        struct stat sb, sq;
        if (!p || (new_dir && !q)) st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", old);
        else if (lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            st = itera_fail(err, ITERA_ERR_ARG,
                            "%s: holds '%s', which is not a regular file; refusing to replace the folder",
                            old, e->d_name);
        else if (new_dir && lstat(q, &sq) != 0)
            st = itera_fail(err, ITERA_ERR_ARG,
                            "%s: holds '%s', which the new folder would not have; refusing to replace the "
                            "folder (remove it or choose another folder)",
                            old, e->d_name);
        free(p);
        free(q);
    }
    closedir(d);
    return st;
}

/* Removes folder dir and the regular files in it (nothing else: see check_old_folder). */
static int remove_folder(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = join(dir, e->d_name);
        struct stat sb;
        if (!p || lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode) || unlink(p) != 0) rc = -1;
        free(p);
    }
    closedir(d);
    if (rmdir(dir) != 0) rc = -1;
    return rc;
}

/* What may be at path before a folder is written there: nothing, or a folder of regular
 * files (checked against the new folder's entries at commit). */
static itera_status check_folder_target(const char *path, itera_error *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return ITERA_OK;
        return itera_fail(err, ITERA_ERR_IO, "%s: cannot examine: %s", path, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return itera_fail(err, ITERA_ERR_ARG, "%s: exists and is %s, not a folder", path,
                          S_ISREG(sb.st_mode) ? "a file" : itera_file_kind(sb.st_mode));
    return check_old_folder(path, NULL, err);
}

itera_status itera_dir_begin(const char *path, char **tmp_out, itera_error *err)
{
    *tmp_out = NULL;
    if (!path || !*path) return itera_fail(err, ITERA_ERR_ARG, "output folder: empty path");
    char *p = trim_slashes(path);
    if (!p) return itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    itera_status st = check_folder_target(p, err);
    char *t = NULL;
    for (int tries = 0; st == ITERA_OK && tries < 100; tries++) {
        free(t);
        if (!(t = tmp_name(p))) {
            st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        if (mkdir(t, 0777) == 0) break;
        if (errno != EEXIST || tries == 99)
            st = itera_fail(err, ITERA_ERR_IO, "%s: cannot create the folder %s: %s", path, t, strerror(errno));
    }
    free(p);
    if (st != ITERA_OK) {
        free(t);
        return st;
    }
    *tmp_out = t;
    return ITERA_OK;
}

void itera_dir_discard(const char *tmp)
{
    if (tmp) remove_folder(tmp);
}

itera_status itera_dir_commit(const char *tmp, const char *path, itera_error *err)
{
    char *p = trim_slashes(path), *parent = p ? parent_of(p) : NULL, *old = p ? tmp_name(p) : NULL;
    itera_status st = ITERA_OK;
    struct stat sb;
    if (!p || !parent || !old) {
        st = itera_fail(err, ITERA_ERR_NOMEM, "%s: out of memory", path);
    } else if (sync_dir(tmp) != 0) {
        st = itera_fail(err, ITERA_ERR_IO, "%s: fsync of the folder %s failed: %s", p, tmp, strerror(errno));
    } else if (lstat(p, &sb) != 0 && errno == ENOENT) {
        if (rename(tmp, p) != 0)
            st = itera_fail(err, ITERA_ERR_IO, "%s: cannot rename %s into place: %s", p, tmp, strerror(errno));
    } else if ((st = check_folder_target(p, err)) == ITERA_OK &&
               (st = check_old_folder(p, tmp, err)) == ITERA_OK) {
        /* p is a folder of files that tmp all replaces: swap the two, then remove the old */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, p, RENAME_EXCHANGE) == 0) {
            if (remove_folder(tmp) != 0)
                st = itera_fail(err, ITERA_ERR_IO, "%s: written, but the old files (now %s) could not be removed: %s",
                                p, tmp, strerror(errno));
        } else if (errno != EINVAL && errno != ENOSYS) {
            st = itera_fail(err, ITERA_ERR_IO, "%s: cannot exchange %s with it: %s", p, tmp, strerror(errno));
        } else if (rename(p, old) != 0) { /* no RENAME_EXCHANGE here: two renames */
            st = itera_fail(err, ITERA_ERR_IO, "%s: cannot move the old folder aside to %s: %s", p, old,
                            strerror(errno));
        } else if (rename(tmp, p) != 0) {
            int e = errno;
            rename(old, p);
            st = itera_fail(err, ITERA_ERR_IO, "%s: cannot rename %s into place: %s", p, tmp, strerror(e));
        } else if (remove_folder(old) != 0) {
            st = itera_fail(err, ITERA_ERR_IO, "%s: written, but the old files (now %s) could not be removed: %s", p,
                            old, strerror(errno));
        }
    }
    if (st == ITERA_OK && sync_dir(parent) != 0)
        st = itera_fail(err, ITERA_ERR_IO, "%s: written, but fsync of its folder %s failed: %s", p, parent,
                        strerror(errno));
    free(p);
    free(parent);
    free(old);
    return st;
}
