/*
 * Shared by the unit tests that use a real outbox: SQLite's allocator made
 * to fail on the same count as ours (include "alloc_fail.h" first), the
 * directory an outbox goes in, and emptying one as another process would.
 */
#ifndef TKL_OUTBOX_FIXTURE_H
#define TKL_OUTBOX_FIXTURE_H

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

static sqlite3_mem_methods tkl_sqlite_real_mem;

static void *tkl_sqlite_malloc(int n)
{
    return alloc_fails() ? NULL : tkl_sqlite_real_mem.xMalloc(n);
}

static void *tkl_sqlite_realloc(void *p, int n)
{
    return alloc_fails() ? NULL : tkl_sqlite_real_mem.xRealloc(p, n);
}

/* Routes SQLite's allocations through alloc_fail.h's count; once per
 * process, before SQLite is first used. */
static inline void tkl_sqlite_alloc_fail_install(void)
{
    static int installed;
    if (installed)
        return;
    sqlite3_mem_methods m;
    ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &tkl_sqlite_real_mem), SQLITE_OK);
    m = tkl_sqlite_real_mem;
    m.xMalloc = tkl_sqlite_malloc;
    m.xRealloc = tkl_sqlite_realloc;
    ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
    installed = 1;
}

/* A new directory for an outbox, named after the test, on tmpfs where
 * there is one: the outbox's fsyncs cost nothing there. */
static inline void tkl_outbox_dir(char *dir, size_t size, const char *name)
{
    ck_assert_int_lt(snprintf(dir, size, "%s/tickler-test-%s-XXXXXX",
                              access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name),
                     (int)size);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the files of a closed outbox in dir, and dir. */
static inline void tkl_outbox_dir_remove(const char *dir)
{
    char path[300];
    const char *files[] = {"tickler.db", "tickler.db-wal", "tickler.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Empties the outbox in dir, as another connection would (ids start
 * again). */
static inline void tkl_outbox_empty(const char *dir)
{
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "PRAGMA foreign_keys=ON; DELETE FROM log; DELETE FROM notices",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

#endif
