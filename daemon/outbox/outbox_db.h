/*
 * What the files of outbox/ share of the state database: the connection,
 * the statements prepared once per connection, the open group of writes,
 * and the mapping of SQLite's result codes to errnos. Not for other
 * folders.
 */
#ifndef TKL_OUTBOX_DB_H
#define TKL_OUTBOX_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct tkl_notice_entry;

/* The statements the delivery path runs for every notice: prepared on
 * first use (SQLITE_PREPARE_PERSISTENT), reset after each use, finalized
 * by tkl_outbox_close. */
enum tkl_db_stmt {
    TKL_ST_LOGGED,
    TKL_ST_PUT_NOTICE,
    TKL_ST_PUT_ENTRY,
    TKL_ST_PUT_LOG,
    TKL_ST_DUE_IDS,
    TKL_ST_DUE_BATCH,
    TKL_ST_DUE_CHANNELS,
    TKL_ST_NEXT_ATTEMPT,
    TKL_ST_READ_NOTICE,
    TKL_ST_READ_ENTRIES,
    TKL_ST_MARK_DELIVERED,
    TKL_ST_MARK_FAILED,
    TKL_ST_MARK_WITHDRAWN,
    TKL_ST_MARK_RETRY,
    TKL_ST_MARK_WAIT,
    TKL_ST_MARK_SENDING,
    TKL_ST_RELEASE,
    TKL_ST_GET_META,
    TKL_ST_SET_META,
    TKL_ST_COUNT
};

/* The entries of a notice this connection put, kept until the first
 * claim of that notice takes them (tkl_outbox_due_batch), which then reads
 * them from memory instead of the entries table. Entries are never
 * changed once written, so the copy is what the table holds while the
 * group that wrote them stands; an undone group empties the memo (its ids
 * are given again). */
struct tkl_put_memo {
    uint64_t id; /* 0: a free slot */
    struct tkl_notice_entry *entries;
    char **stage_keys; /* per entry */
    size_t n;
};

struct tkl_outbox {
    sqlite3 *db;
    struct tkl_put_memo *memo;          /* open addressing by id, MEMO_SLOTS slots, or NULL */
    size_t memo_n;                      /* slots in use, at most half of them */
    int busy_ms;                        /* the busy timeout in force */
    sqlite3_stmt *stmts[TKL_ST_COUNT];  /* NULL until first used */
    bool grouped;                       /* writes join one open transaction */
    bool group_open;                    /* that transaction is open */
    void (*on_sync)(void *data, int r); /* told when a group ends */
    void *on_sync_data;
    void (*on_commit)(void *data, unsigned long n); /* before a group's COMMIT */
    void *on_commit_data;
    unsigned long syncs; /* groups committed (for the tests and the profile) */
};

/* -ENOMEM, -EBUSY (busy or locked), -ENOSPC, -EACCES or -EIO. */
int tkl_sqlite_errno(int rc);

/* r, a failure of the latest call on db; an -EIO that SQLite had as a
 * failed write or sync (SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC) of the
 * system's -EDQUOT (the user's disk quota) or -ENOSPC (a full disk, which
 * a write in SQLite's unix VFS says as SQLITE_FULL but an fsync as an I/O
 * error) made that errno, which the operator can act on:
 * sqlite3_system_errno's, else the last errno the VFS kept of the
 * write-ahead log or the database (SQLITE_FCNTL_LAST_ERRNO). Any other
 * I/O error stays -EIO. */
int tkl_sqlite_io_errno(sqlite3 *db, int r);

/* Statement id of o (its text: sql), prepared on first use and kept.
 * The caller binds, steps, then calls tkl_db_done. Returns 0 and the
 * statement, or a negative errno. */
int tkl_db_stmt(struct tkl_outbox *o, enum tkl_db_stmt id, const char *sql, sqlite3_stmt **ret_st);

/* Resets st and clears its bindings (its read snapshot ends); accepts
 * NULL. */
void tkl_db_done(sqlite3_stmt *st);

/*
 * A write's transaction: joins the open group, or opens it when o is
 * grouped, or else begins a transaction of the write's own (*ret_own).
 * Returns 0 or a negative errno (-EBUSY: another process writes).
 */
int tkl_db_write_begin(struct tkl_outbox *o, bool *ret_own);

/*
 * Ends a write begun with tkl_db_write_begin: r == 0 commits its own
 * transaction (a grouped write waits for tkl_outbox_sync); r < 0 rolls
 * back its own transaction, or the whole group (whose listener is told).
 * Returns r, or the commit's negative errno.
 */
int tkl_db_write_end(struct tkl_outbox *o, bool own, int r);

/* Binds s as text parameter i, not copied (it must outlive the step), or
 * NULL as SQL NULL. */
void tkl_db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* A copy of column i of st's row, or NULL for SQL NULL; *oom is set when
 * the copy could not be made. */
char *tkl_db_col_dup(sqlite3_stmt *st, int i, bool *oom);

#endif
