#include "dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The pid written in the lock file open on fd, or 0. */
static pid_t holder_of(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    return v > 0 && v <= INT_MAX && (*end == '\n' || *end == '\0') ? (pid_t)v : 0;
}

/* Opens dir's lock file with flags. Returns the descriptor or -errno. */
static int open_lock(const char *dir, int flags)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, TKL_DIRLOCK_FILE);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    return fd < 0 ? -errno : fd;
}

int tkl_dirlock_holder(const char *dir, pid_t *ret_holder)
{
    *ret_holder = 0;
    int fd = open_lock(dir, O_RDONLY);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return fd;
    /* a shared lock is refused while the holder's exclusive one stands */
    int r = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        (void)flock(fd, LOCK_UN);
    else if (errno == EWOULDBLOCK)
        r = 1;
    else
        r = -errno;
    if (r == 1)
        *ret_holder = holder_of(fd);
    close(fd);
    return r;
}

int tkl_dirlock_take(const char *dir, int *ret_fd, pid_t *ret_holder)
{
    *ret_holder = 0;
    int fd = open_lock(dir, O_RDWR | O_CREAT);
    if (fd < 0)
        return fd;
    /* a look of tkl_dirlock_holder (tickler status) holds a shared lock
     * for a moment: tried again for up to a second before it is a holder */
    int tries = 0, lr;
    while ((lr = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EWOULDBLOCK && ++tries < 200)
        (void)usleep(5000);
    if (lr < 0) {
        int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (r == -EBUSY)
            *ret_holder = holder_of(fd);
        close(fd);
        return r;
    }
    char pid[24];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    errno = 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int r = errno ? -errno : -EIO;
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}
