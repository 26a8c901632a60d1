/*
 * What the files of outbox/ share of the state database: the connection
 * and the mapping of SQLite's result codes to errnos. Not for other
 * folders.
 */
#ifndef TKL_OUTBOX_DB_H
#define TKL_OUTBOX_DB_H

#include <stdbool.h>

#include <sqlite3.h>

struct tkl_outbox {
    sqlite3 *db;
    int busy_ms; /* the busy timeout in force */
};

/* -ENOMEM, -EBUSY (busy or locked), -ENOSPC, -EACCES or -EIO. */
int tkl_sqlite_errno(int rc);

/* Binds s as text parameter i, not copied (it must outlive the step), or
 * NULL as SQL NULL. */
void tkl_db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* A copy of column i of st's row, or NULL for SQL NULL; *oom is set when
 * the copy could not be made. */
char *tkl_db_col_dup(sqlite3_stmt *st, int i, bool *oom);

#endif
