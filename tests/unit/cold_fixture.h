/*
 * Shared by the tests of cold memory (core/mem.h, the arena, the store): a
 * directory on disk to keep it in, what /proc/self/maps says of an
 * address (whether it lies in cold memory there: a shared mapping of a
 * file of that directory that has no name), and the cold files held open.
 */
#ifndef TKL_COLD_FIXTURE_H
#define TKL_COLD_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

/* A new directory under the test's working directory (the build tree, on
 * disk), into dir (at least 32 bytes). */
static inline void cold_dir_make(char *dir)
{
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_lt(snprintf(dir, 4096, "%s/cold-XXXXXX", cwd), 4096);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct statfs fs;
    ck_assert_int_eq(statfs(dir, &fs), 0);
    ck_assert_msg(fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC,
                  "%s is not on ext4 or XFS, the file systems cold memory uses (core/mem.h): "
                  "build and test in a tree on one of them",
                  dir);
    /* cold memory leaves a tenth of the disk (at most 1 GiB) free */
    struct statvfs st;
    ck_assert_int_eq(statvfs(dir, &st), 0);
    uint64_t total = (uint64_t)st.f_blocks * st.f_frsize, spare = total / 10;
    if (spare > ((uint64_t)1 << 30))
        spare = (uint64_t)1 << 30;
    ck_assert_msg((uint64_t)st.f_bavail * st.f_frsize > spare + ((uint64_t)256 << 20),
                  "%s: the cold memory tests need 256 MiB free beyond the tenth of the disk (at "
                  "most 1 GiB) cold memory leaves free",
                  dir);
}

/* How many descriptors of this process are files of dir that have no
 * name (cold files held open). */
static inline int cold_fds(const char *dir)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    char link[300], target[4096];
    size_t n = strlen(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        count += strncmp(target, dir, n) == 0 && target[n] == '/' && strstr(target, " (deleted)");
    }
    ck_assert_int_eq(closedir(d), 0);
    return count;
}

/* The names in dir other than . and .. */
static inline int cold_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    ck_assert_int_eq(closedir(d), 0);
    return n;
}

/* Whether the line of /proc/self/maps is a shared, writable mapping of a
 * file of dir that has no name (deleted, or never linked). */
static inline bool cold_line(const char *line, const char *dir)
{
    const char *path = strchr(line, '/');
    size_t n = strlen(dir);
    return strstr(line, " rw-s ") && path && strncmp(path, dir, n) == 0 && path[n] == '/' &&
           strstr(path, " (deleted)\n");
}

/* Whether p lies in cold memory of dir; with p NULL, how many mappings
 * are cold memory of dir. */
static inline int cold_maps(const void *p, const char *dir)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        char *dash;
        uintptr_t a = strtoul(line, &dash, 16), b = strtoul(dash + 1, NULL, 16);
        if (cold_line(line, dir) && (!p || ((uintptr_t)p >= a && (uintptr_t)p < b)))
            n++;
    }
    ck_assert_int_eq(fclose(f), 0);
    return n;
}

/* Whether p lies in cold memory of dir. */
static inline bool cold_at(const void *p, const char *dir)
{
    return p && cold_maps(p, dir) == 1;
}

/* dir made by cold_dir_make removed, once nothing of cold memory is left
 * in it: no mapping, no descriptor, no name. */
static inline void cold_dir_remove(const char *dir)
{
    ck_assert_int_eq(cold_maps(NULL, dir), 0);
    ck_assert_int_eq(cold_fds(dir), 0);
    ck_assert_int_eq(cold_dir_entries(dir), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}

#endif
