#include "plugin_dir.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TICKLER_PLUGIN_DIR
#define TICKLER_PLUGIN_DIR "/usr/local/lib/tickler/plugins"
#endif
const char tkl_installed_plugin_dir[] = TICKLER_PLUGIN_DIR;

/* Whether the marker open at fd may name the plugins of the program exe:
 * a regular file (not a link) owned by the user running the program, by
 * root or by the program's owner, that no one else may write. A marker
 * another user left beside a program in a directory others may write
 * (/tmp) would otherwise make it load that user's plugins. */
static bool marker_trusted(int fd, const char *exe)
{
    struct stat st, prog;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return false;
    if (st.st_uid == geteuid() || st.st_uid == 0)
        return true;
    return stat(exe, &prog) == 0 && st.st_uid == prog.st_uid;
}

/* Reads the marker file at path, beside the program exe, into buf (size
 * bytes): its first line, without the line break. Returns 0, or a
 * negative errno when it is missing or unreadable, -EPERM when it is not
 * trusted (marker_trusted), or -EINVAL when its line is empty, holds a NUL
 * or does not fit. */
static int read_marker(const char *path, const char *exe, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (!marker_trusted(fd, exe)) {
        close(fd);
        return -EPERM;
    }
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    int r = n < 0 ? -errno : 0;
    close(fd);
    if (r < 0)
        return r;
    buf[n] = '\0';
    size_t len = strcspn(buf, "\n");
    if (len == 0 || memchr(buf, '\0', (size_t)n) || (len == (size_t)n && len == size - 1))
        return -EINVAL;
    buf[len] = '\0';
    return 0;
}

char *tkl_plugin_dir_for(const char *exe)
{
    const char *slash = exe ? strrchr(exe, '/') : NULL;
    if (!slash)
        return strdup(tkl_installed_plugin_dir);
    int dir_len = (int)(slash - exe);
    char path[PATH_MAX], named[PATH_MAX] = "";
    int n = snprintf(path, sizeof(path), "%.*s/%s", dir_len, exe, TKL_PLUGIN_DIR_MARKER);
    if (n < 0 || (size_t)n >= sizeof(path) || read_marker(path, exe, named, sizeof(named)) < 0)
        return strdup(tkl_installed_plugin_dir);
    if (named[0] == '/')
        return strdup(named);
    char *ret = NULL;
    if (asprintf(&ret, "%.*s/%s", dir_len, exe, named) < 0)
        return NULL;
    return ret;
}

char *tkl_plugin_dir_default(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return strdup(tkl_installed_plugin_dir);
    exe[n] = '\0';
    return tkl_plugin_dir_for(exe);
}
