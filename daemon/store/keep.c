/* Copies of local plan files as last read good (see keep.h). */
#include "keep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/text.h"
#include "remote.h"

/* "file:" and path with its directory as realpath(3) gives it (however
 * the configuration named it: "./plan.csv", a symbolic link), or as
 * written when that directory is not there. NULL when out of memory. */
static char *path_key(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char *dir = tkl_path_dir(path);
    if (!dir)
        return NULL;
    char *real = realpath(dir, NULL), *key = NULL;
    int n = real ? asprintf(&key, "file:%s%s%s", real, strcmp(real, "/") ? "/" : "", base)
                 : asprintf(&key, "file:%s", path);
    free(real);
    free(dir);
    return n < 0 ? NULL : key;
}

char *tkl_keep_path(const char *state_dir, const char *path, const char *ext)
{
    char *key = path_key(path), *dir = NULL, *stem = NULL, *out = NULL;
    if (!key)
        return NULL;
    if (asprintf(&dir, "%s/%s", state_dir, TKL_REMOTE_CACHE_SUBDIR) >= 0 &&
        (stem = tkl_remote_cache_stem(dir, key)) && asprintf(&out, "%s%s", stem, ext) < 0)
        out = NULL;
    free(key);
    free(dir);
    free(stem);
    return out;
}

static bool same_mtime(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Whether st is the file as_read was: the same file, size and time. */
static bool unchanged(const struct stat *st, const struct stat *as_read)
{
    return st->st_dev == as_read->st_dev && st->st_ino == as_read->st_ino &&
           st->st_size == as_read->st_size && same_mtime(st, as_read);
}

/* Copies what is left of from into to. Returns 0 or a negative errno. */
static int copy_fd(int from, int to)
{
    bool in_kernel = true;
    for (;;) {
        ssize_t n;
        if (in_kernel) {
            n = copy_file_range(from, NULL, to, NULL, 1 << 30, 0);
            if (n < 0 &&
                (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                in_kernel = false; /* not between these files: by hand */
                continue;
            }
        } else {
            char buf[65536];
            n = read(from, buf, sizeof(buf));
            for (ssize_t off = 0; n > 0 && off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno != EINTR)
                    return -errno;
                if (w > 0)
                    off += w;
            }
        }
        if (n == 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

int tkl_keep_save(const char *copy, const char *path, const struct stat *as_read)
{
    struct stat st;
    if (stat(copy, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == as_read->st_size &&
        same_mtime(&st, as_read))
        return 0; /* a copy of it already */
    int from = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (from < 0)
        return errno == ENOENT ? 1 : -errno; /* gone since: another read follows */
    int r = fstat(from, &st) < 0 ? -errno : unchanged(&st, as_read) ? 0 : 1;
    char *tmp = NULL;
    int to = -1;
    /* one name a copy: a copy cut short (the process killed) is written
     * over by the next, never left beside it */
    char *dir = r == 0 ? tkl_path_dir(copy) : NULL;
    if (r == 0 && !dir)
        r = -ENOMEM;
    if (r == 0 && (r = tkl_remote_ensure_dir(dir)) == 0 && asprintf(&tmp, "%s.tmp", copy) < 0) {
        tmp = NULL;
        r = -ENOMEM;
    }
    free(dir);
    if (r == 0 && (to = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        r = -errno;
    if (r == 0)
        r = copy_fd(from, to);
    /* written in place while it was copied: not the file as read */
    if (r == 0 && fstat(from, &st) == 0 && !unchanged(&st, as_read))
        r = 1;
    if (r == 0) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, as_read->st_mtim};
        if (futimens(to, ts) < 0)
            r = -errno;
    }
    /* on disk before its name replaces the last copy: a crash never leaves
     * a copy named but empty, the plan read from it then (a copy outlives
     * the file it was made from) */
    if (r == 0 && fsync(to) < 0)
        r = -errno;
    if (to >= 0 && close(to) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, copy) < 0)
        r = -errno;
    if (r == 0) /* a failure only leaves the rename to the kernel's writeback */
        (void)tkl_remote_sync_dir(copy);
    if (r != 0 && to >= 0)
        (void)unlink(tmp);
    free(tmp);
    (void)close(from);
    return r;
}
