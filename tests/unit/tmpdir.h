/* Shared by the unit tests: a fresh directory under /tmp for the real
 * files a test reads and writes, helpers to write and read them, and
 * removal of the directory with everything in it. */
#ifndef TKL_TMPDIR_H
#define TKL_TMPDIR_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates /tmp/tickler-test-<name>-XXXXXX into dir (size bytes). */
static inline void tkl_tmpdir(char *dir, size_t size, const char *name)
{
    ck_assert_int_lt(snprintf(dir, size, "/tmp/tickler-test-%s-XXXXXX", name), (int)size);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int tkl_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it. */
static inline void tkl_rmtree(const char *dir)
{
    ck_assert_int_eq(nftw(dir, tkl_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Writes len bytes to dir/name (name may hold a '/'); returns the path in
 * a static buffer. */
static inline const char *tkl_write_file(const char *dir, const char *name, const void *data,
                                         size_t len)
{
    static char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_msg(n > 0 && (size_t)n < sizeof(path), "path too long: %s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static inline const char *tkl_write_text(const char *dir, const char *name, const char *text)
{
    return tkl_write_file(dir, name, text, strlen(text));
}

/* The content of path as a NUL-terminated string the caller frees;
 * *ret_len (if given) gets its length. */
static inline char *tkl_read_all(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 1024) {
            buf = realloc(buf, cap *= 2);
            ck_assert_ptr_nonnull(buf);
        }
    }
    ck_assert(!ferror(f));
    fclose(f);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return buf;
}

#endif
