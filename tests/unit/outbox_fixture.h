/*
 * Shared by the unit tests that use a real outbox: SQLite's allocator made
 * to fail on the same count as ours (include "alloc_fail.h" first), the
 * directory an outbox goes in, and emptying one as another process would.
 */
#ifndef TKL_OUTBOX_FIXTURE_H
#define TKL_OUTBOX_FIXTURE_H

#include <check.h>
#include <sqlite3.h>
#include <stdint.h>
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

/* A meta key of the outbox in dir written by another connection, so that
 * the outbox's own connection reads its pages again from the files. */
static inline void tkl_outbox_touched_by_other(const char *dir)
{
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT OR REPLACE INTO meta(key, value) VALUES('other', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* How many notices of the outbox in dir another process sees (a
 * connection of its own) where the SQL condition where holds. */
static inline int64_t tkl_outbox_seen_by_others(const char *dir, const char *where)
{
    char path[300], sql[200];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notices WHERE %s", where);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A full disk, on demand: while tkl_disk_full is set, every write and
 * sync SQLite makes through the default VFS fails with SQLITE_FULL, as
 * on a full file system (a COMMIT then fails and rolls back). While
 * tkl_disk_errno is set (EDQUOT: the user's disk quota), every write and
 * sync fails with SQLite's I/O error, and the file's last errno
 * (SQLITE_FCNTL_LAST_ERRNO) is that errno, as the unix VFS keeps it of a
 * write(2) or fsync(2) that failed so. While tkl_disk_unreadable is set,
 * every read fails with SQLITE_IOERR_READ, as on a failing disk (SQLite
 * then rolls back the open transaction). */
static int tkl_disk_full, tkl_disk_errno, tkl_disk_unreadable;
static int tkl_disk_last_errno; /* of the last write or sync failed by tkl_disk_errno */
static sqlite3_vfs tkl_full_vfs, *tkl_real_vfs;
/* the unix VFS's method tables (a few kinds of file), and ours for each */
static const sqlite3_io_methods *tkl_real_methods[4];
static sqlite3_io_methods tkl_full_methods[4];

static const sqlite3_io_methods *tkl_real_of(sqlite3_file *f)
{
    return tkl_real_methods[f->pMethods - tkl_full_methods];
}

/* The failure of a write (SQLITE_IOERR_WRITE) or sync while the disk is
 * full or tkl_disk_errno is set; SQLITE_OK when neither. */
static int tkl_disk_failure(int ioerr)
{
    if (tkl_disk_full)
        return SQLITE_FULL;
    if (!tkl_disk_errno)
        return SQLITE_OK;
    tkl_disk_last_errno = tkl_disk_errno;
    return ioerr;
}

static int tkl_full_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    int rc = tkl_disk_failure(SQLITE_IOERR_WRITE);
    return rc != SQLITE_OK ? rc : tkl_real_of(f)->xWrite(f, p, n, off);
}

static int tkl_full_file_control(sqlite3_file *f, int op, void *arg)
{
    if (op == SQLITE_FCNTL_LAST_ERRNO && tkl_disk_last_errno) {
        *(int *)arg = tkl_disk_last_errno;
        return SQLITE_OK;
    }
    return tkl_real_of(f)->xFileControl(f, op, arg);
}

static int tkl_full_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return tkl_disk_unreadable ? SQLITE_IOERR_READ : tkl_real_of(f)->xRead(f, p, n, off);
}

static int tkl_full_sync(sqlite3_file *f, int flags)
{
    int rc = tkl_disk_failure(SQLITE_IOERR_FSYNC);
    return rc != SQLITE_OK ? rc : tkl_real_of(f)->xSync(f, flags);
}

static int tkl_full_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    int rc = tkl_real_vfs->xOpen(tkl_real_vfs, name, f, flags, out);
    if (rc != SQLITE_OK || !f->pMethods)
        return rc;
    size_t i = 0;
    while (i < 4 && tkl_real_methods[i] && tkl_real_methods[i] != f->pMethods)
        i++;
    ck_assert_uint_lt(i, 4);
    if (!tkl_real_methods[i]) {
        tkl_real_methods[i] = f->pMethods;
        tkl_full_methods[i] = *f->pMethods;
        tkl_full_methods[i].xWrite = tkl_full_write;
        tkl_full_methods[i].xRead = tkl_full_read;
        tkl_full_methods[i].xSync = tkl_full_sync;
        tkl_full_methods[i].xFileControl = tkl_full_file_control;
    }
    f->pMethods = &tkl_full_methods[i];
    return SQLITE_OK;
}

/* Makes the failing VFS the default; once per process, before the
 * outboxes of the test are opened. */
static inline void tkl_disk_full_install(void)
{
    if (tkl_real_vfs)
        return;
    tkl_real_vfs = sqlite3_vfs_find(NULL);
    ck_assert_ptr_nonnull(tkl_real_vfs);
    tkl_full_vfs = *tkl_real_vfs;
    tkl_full_vfs.zName = "tickler-test-full";
    tkl_full_vfs.xOpen = tkl_full_open;
    ck_assert_int_eq(sqlite3_vfs_register(&tkl_full_vfs, 1), SQLITE_OK);
}

#endif
