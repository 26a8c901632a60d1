#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../core/log.h"
#include "../update/update.h"
#include "outbox_db.h"

static void memo_clear(struct tkl_outbox *o);

/* updates are append-only: this trigger refuses any change of a row */
#define UPDATES_NO_UPDATE                                                                          \
    "CREATE TRIGGER IF NOT EXISTS updates_no_update BEFORE UPDATE ON updates"                      \
    "  BEGIN SELECT RAISE(ABORT, 'updates are append-only'); END;"

/* An outbox's updates before after_id: the column, and for each row the
 * id of its link's latest row before it that said something else (0:
 * none), what tkl_outbox_add_update would have given it; the trigger set
 * aside for it */
#define UPDATES_AFTER_ID                                                                           \
    "ALTER TABLE updates ADD COLUMN after_id INTEGER NOT NULL DEFAULT 0;"                          \
    "DROP TRIGGER IF EXISTS updates_no_update;"                                                    \
    "UPDATE updates SET after_id = coalesce((SELECT max(p.id) FROM updates p"                      \
    "  WHERE p.action_id = updates.action_id AND p.recipient = updates.recipient"                  \
    "  AND p.link_issued_at = updates.link_issued_at AND p.id < updates.id"                        \
    "  AND NOT (" TKL_UPDATE_SAME_ROWS("p", "updates", "IS") ")), 0);" UPDATES_NO_UPDATE

/* Whether db's updates are as this version records them (after_id and
 * its index, no index before it), so that opening it writes nothing and
 * takes no lock a reader or another writer holds. */
static bool updates_current(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT (SELECT count(*) FROM pragma_table_info('updates')"
            " WHERE name = 'after_id') = 1 AND (SELECT group_concat(name) FROM"
            " sqlite_master WHERE type = 'index' AND name IN ('updates_once',"
            " 'updates_once_per_plan', 'updates_once_after')) = 'updates_once_after'",
            -1, &st, NULL) != SQLITE_OK)
        return false;
    bool yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return yes;
}

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notices("
    "  id INTEGER PRIMARY KEY,"
    "  channel TEXT NOT NULL, recipient TEXT NOT NULL,"
    "  team_id TEXT, team_name TEXT, thread_key TEXT,"
    "  due_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL, last_error TEXT, finished_at INTEGER,"
    "  sending INTEGER NOT NULL DEFAULT 0, intro TEXT);"
    /* the due notices, pending rows only: an outcome takes its row out of
     * both indexes and adds it to none, and finished rows do not grow them
     * (the first indexes of these names held every row) */
    "DROP INDEX IF EXISTS notices_pending;"
    "DROP INDEX IF EXISTS notices_channel;"
    "CREATE INDEX IF NOT EXISTS notices_due ON notices(next_attempt) WHERE state = 0;"
    /* the failure sweep's (tkl_outbox_unreported): the failed alone */
    "CREATE INDEX IF NOT EXISTS notices_failed ON notices(finished_at, id) WHERE state = 2;"
    "CREATE INDEX IF NOT EXISTS notices_due_channel ON notices(channel, next_attempt)"
    "  WHERE state = 0;"
    "CREATE TABLE IF NOT EXISTS entries("
    "  notice_id INTEGER NOT NULL REFERENCES notices(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  item_id TEXT NOT NULL, title TEXT, commitment TEXT, owners TEXT,"
    "  deadline_text TEXT, status TEXT, progress TEXT,"
    "  deadline_day INTEGER, kind INTEGER, stage INTEGER, stage_key TEXT,"
    "  days_left INTEGER, late INTEGER, category TEXT, url TEXT, answer TEXT,"
    "  PRIMARY KEY(notice_id, idx));"
    "CREATE INDEX IF NOT EXISTS entries_item ON entries(item_id, stage, notice_id);"
    "CREATE TABLE IF NOT EXISTS log("
    "  key TEXT PRIMARY KEY, notice_id INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS updates("
    "  id INTEGER PRIMARY KEY,"
    "  action_id TEXT NOT NULL, recipient TEXT NOT NULL, team_id TEXT,"
    "  kind INTEGER NOT NULL, at INTEGER NOT NULL, link_issued_at INTEGER NOT NULL,"
    "  until_day INTEGER, rag INTEGER NOT NULL DEFAULT 0, note TEXT, suggested_team TEXT,"
    "  plan_deadline_day INTEGER, plan_deadline_text TEXT, plan_status TEXT,"
    "  plan_owners TEXT, after_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS updates_at ON updates(at);" UPDATES_NO_UPDATE
    "CREATE TRIGGER IF NOT EXISTS updates_no_delete BEFORE DELETE ON updates"
    "  BEGIN SELECT RAISE(ABORT, 'updates are append-only'); END;";

int tkl_sqlite_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        return -EACCES;
    default:
        return -EIO;
    }
}

/* Whether e is an errno of room: the disk's or the user's quota. */
static bool no_room(int e)
{
    return e == EDQUOT || e == ENOSPC;
}

int tkl_sqlite_io_errno(sqlite3 *db, int r)
{
    /* only a failed write or sync: the unix VFS keeps their errno, fresh,
     * as the failing file's last; any other I/O error (a read, a short
     * read, a lock) leaves errno and the files' last errno as an earlier
     * failure set them, which would blame a quota made room for since */
    int x = sqlite3_extended_errcode(db);
    if (r != -EIO || (x != SQLITE_IOERR_WRITE && x != SQLITE_IOERR_FSYNC))
        return r;
    int e = sqlite3_system_errno(db);
    if (no_room(e))
        return -e;
    /* the unix VFS keeps each file's last errno (sqlite3_system_errno
     * reads errno after the rollback, which may have changed it): the
     * write-ahead log's, where a commit writes, then the database's */
    sqlite3_file *wal = NULL;
    e = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK && wal &&
        wal->pMethods &&
        wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK && no_room(e))
        return -e;
    e = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK && no_room(e))
        return -e;
    return r;
}

static void library_setup_once(void)
{
    /* SQLite's allocation statistics take a global mutex around every
     * allocation; tickler reads none of them. Refused (SQLITE_MISUSE, no
     * change) once SQLite is initialised: statistics then stay on, which
     * costs time, not correctness. */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* SQLite as the outbox uses it: set before its first connection. */
static void library_setup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, library_setup_once); /* fails only for a bad argument */
}

/* An outbox made before new ones were made owner-only (tickler.db under a
 * umask of 022: 0644) lets every user read its recipients and officers'
 * updates. When its owner opens it, its permissions for others, and its
 * journal files', are taken away (the group's are left as they are: an
 * administrator may have set them), saying so once. */
static void tighten_mode(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4096];
        struct stat st;
        if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= (int)sizeof(p))
            return;
        int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            continue; /* none, or not a file: SQLite says what is wrong */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO) &&
            st.st_uid == geteuid()) {
            mode_t mode = st.st_mode & (S_IRWXU | S_IRWXG);
            if (fchmod(fd, mode) == 0)
                log_notice("%s was readable by every user (mode %04o): it holds recipients and "
                           "officers' updates; now %04o",
                           p, (unsigned)(st.st_mode & 07777), (unsigned)mode);
            else
                log_warning("%s is readable by every user (mode %04o) and cannot be changed: %s", p,
                            (unsigned)(st.st_mode & 07777), strerror(errno));
        }
        (void)close(fd);
    }
}

/* An outbox's connection is used by one thread at a time (outbox.h), so it
 * is opened without SQLite's per-connection mutex. */
#define DB_OPEN_FLAGS SQLITE_OPEN_NOMUTEX

const char *tkl_outbox_file(const struct tkl_outbox *o)
{
    return sqlite3_db_filename(o->db, "main");
}

int tkl_outbox_open(const char *state_dir, struct tkl_outbox **ret, char **ret_err)
{
    char *path = NULL;
    struct tkl_outbox *o = calloc(1, sizeof(*o));
    int r;
    if (!o || asprintf(&path, "%s/tickler.db", state_dir) < 0) {
        free(o);
        return -ENOMEM;
    }
    library_setup();
    /* a new outbox is made owner-only (recipients, officers' updates),
     * whatever the umask: SQLite gives its journal files the database's
     * mode. Any failure here is SQLite's to report, as it opens the file. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        (void)close(fd);
    else if (errno == EEXIST)
        tighten_mode(path);
    int rc = sqlite3_open_v2(path, &o->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | DB_OPEN_FLAGS, NULL);
    free(path);
    if (rc != SQLITE_OK)
        goto fail_rc;
    sqlite3_busy_timeout(o->db, 5000);
    o->busy_ms = 5000;
    char *msg = NULL;
    rc = sqlite3_exec(o->db, schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        if (ret_err && msg)
            *ret_err = strdup(msg);
        sqlite3_free(msg);
        r = tkl_sqlite_errno(rc);
        sqlite3_close(o->db);
        free(o);
        return r;
    }
    /* outboxes made before the sending column existed */
    if (sqlite3_exec(o->db, "SELECT sending FROM notices LIMIT 0", NULL, NULL, NULL) != SQLITE_OK &&
        (rc = sqlite3_exec(o->db,
                           "ALTER TABLE notices ADD COLUMN sending INTEGER NOT NULL DEFAULT 0",
                           NULL, NULL, NULL)) != SQLITE_OK)
        goto fail_rc;
    /* outboxes made before observances had a category and a link */
    if (sqlite3_exec(o->db, "SELECT category, url FROM entries LIMIT 0", NULL, NULL, NULL) !=
            SQLITE_OK &&
        (rc = sqlite3_exec(o->db,
                           "BEGIN; ALTER TABLE entries ADD COLUMN category TEXT; "
                           "ALTER TABLE entries ADD COLUMN url TEXT; COMMIT;",
                           NULL, NULL, NULL)) != SQLITE_OK) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail_rc;
    }
    /* outboxes made before notices had an intro and entries an answer */
    if (sqlite3_exec(o->db, "SELECT intro FROM notices LIMIT 0", NULL, NULL, NULL) != SQLITE_OK &&
        (rc = sqlite3_exec(o->db,
                           "BEGIN; ALTER TABLE notices ADD COLUMN intro TEXT; "
                           "ALTER TABLE entries ADD COLUMN answer TEXT; COMMIT;",
                           NULL, NULL, NULL)) != SQLITE_OK) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail_rc;
    }
    /* outboxes made before an update named the one it follows (updates.c):
     * each row is given the link's latest row before it that said
     * something else, as it would have been recorded with, in the same
     * transaction as the index that takes it in (the rows are append-only
     * but for this); the indexes before it left that out, then the plan */
    if (updates_current(o->db))
        goto done;
    if ((rc = sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        goto fail_rc;
    if (sqlite3_exec(o->db, "SELECT after_id FROM updates LIMIT 0", NULL, NULL, NULL) !=
            SQLITE_OK &&
        (rc = sqlite3_exec(o->db, UPDATES_AFTER_ID, NULL, NULL, NULL)) != SQLITE_OK) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail_rc;
    }
    if ((rc = sqlite3_exec(
             o->db,
             "DROP INDEX IF EXISTS updates_once;"
             "DROP INDEX IF EXISTS updates_once_per_plan;"
             "CREATE UNIQUE INDEX IF NOT EXISTS updates_once_after ON updates(action_id,"
             "  recipient, kind, link_issued_at, coalesce(until_day, ''), rag, coalesce(note, ''),"
             "  coalesce(suggested_team, ''), coalesce(plan_deadline_day, ''),"
             "  coalesce(plan_status, ''),"
             "  CASE kind WHEN 4 THEN coalesce(plan_owners, '') ELSE '' END, after_id);"
             "COMMIT;",
             NULL, NULL, NULL)) != SQLITE_OK) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail_rc;
    }
done:
    *ret = o;
    return 0;
fail_rc:
    if (ret_err)
        *ret_err = strdup(o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
    r = tkl_sqlite_errno(rc);
    sqlite3_close(o->db);
    free(o);
    return r;
}

int tkl_outbox_open_readonly(const char *state_dir, struct tkl_outbox **ret, char **ret_err)
{
    char *path = NULL;
    struct tkl_outbox *o = calloc(1, sizeof(*o));
    if (!o || asprintf(&path, "%s/tickler.db", state_dir) < 0) {
        free(o);
        return -ENOMEM;
    }
    library_setup();
    int r = 0, rc = SQLITE_OK;
    if (access(path, F_OK) != 0)
        r = -errno; /* SQLite would say "unable to open" for any reason */
    else if ((rc = sqlite3_open_v2(path, &o->db, SQLITE_OPEN_READONLY | DB_OPEN_FLAGS, NULL)) !=
             SQLITE_OK)
        r = tkl_sqlite_errno(rc);
    free(path);
    if (r < 0) {
        if (ret_err && rc != SQLITE_OK)
            *ret_err = strdup(o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
        sqlite3_close(o->db);
        free(o);
        return r;
    }
    sqlite3_busy_timeout(o->db, 5000);
    o->busy_ms = 5000;
    *ret = o;
    return 0;
}

void tkl_outbox_set_busy_timeout(struct tkl_outbox *o, int ms)
{
    sqlite3_busy_timeout(o->db, ms);
    o->busy_ms = ms;
}

int tkl_outbox_version(struct tkl_outbox *o, uint64_t *ret)
{
    /* data_version moves on with other connections' commits (read afresh
     * by the statement), total_changes with this one's */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db, "PRAGMA data_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    rc = sqlite3_step(st);
    uint64_t v = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return tkl_sqlite_errno(rc);
    *ret = v << 40 ^ (uint64_t)sqlite3_total_changes64(o->db);
    return 0;
}

int tkl_outbox_try_set_meta(struct tkl_outbox *o, const char *key, int64_t value)
{
    sqlite3_busy_timeout(o->db, 0);
    int r = tkl_outbox_set_meta(o, key, value);
    sqlite3_busy_timeout(o->db, o->busy_ms);
    return r;
}

static int group_lost(struct tkl_outbox *o);

int tkl_outbox_probe_write(struct tkl_outbox *o)
{
    if (o->group_open && group_lost(o) == 0)
        return 0; /* this connection holds the write lock */
    sqlite3_busy_timeout(o->db, 0);
    int rc = sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(o->db, o->busy_ms);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    rc = sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : tkl_sqlite_errno(rc);
}

void tkl_outbox_close(struct tkl_outbox *o)
{
    if (!o)
        return;
    if (o->group_open && sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; i < TKL_ST_COUNT; i++)
        sqlite3_finalize(o->stmts[i]);
    sqlite3_close(o->db);
    memo_clear(o);
    free(o->memo);
    free(o);
}

int tkl_db_stmt(struct tkl_outbox *o, enum tkl_db_stmt id, const char *sql, sqlite3_stmt **ret_st)
{
    if (!o->stmts[id]) {
        int rc = sqlite3_prepare_v3(o->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &o->stmts[id], NULL);
        if (rc != SQLITE_OK)
            return tkl_sqlite_errno(rc);
    }
    *ret_st = o->stmts[id];
    return 0;
}

void tkl_db_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Ends the open group with r: rolls it back when r < 0 (unless SQLite
 * already did), then tells the listener. */
static void group_end(struct tkl_outbox *o, int r)
{
    if (r < 0 && !sqlite3_get_autocommit(o->db))
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
    if (r < 0)
        memo_clear(o); /* the ids of its puts are given again */
    o->group_open = false;
    if (o->on_sync)
        o->on_sync(o->on_sync_data, r);
}

/* Whether SQLite rolled the open group back by itself: an I/O error or
 * out of memory in any statement, a read's included, ends the
 * transaction. The group is then ended as failed (-EIO, or the errno of
 * the I/O error: tkl_sqlite_io_errno), its operations told, so that a
 * later write opens a new group instead of committing on its own,
 * outside any. Returns 0 (not lost) or the group's negative errno. */
static int group_lost(struct tkl_outbox *o)
{
    if (!o->group_open || !sqlite3_get_autocommit(o->db))
        return 0;
    int r = tkl_sqlite_io_errno(o->db, -EIO);
    group_end(o, r);
    return r;
}

int tkl_db_write_begin(struct tkl_outbox *o, bool *ret_own)
{
    *ret_own = false;
    if (o->group_open && group_lost(o) == 0)
        return 0;
    int rc = sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    if (o->grouped)
        o->group_open = true;
    else
        *ret_own = true;
    return 0;
}

int tkl_db_write_end(struct tkl_outbox *o, bool own, int r)
{
    if (own) {
        int rc = r == 0 ? sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL) : SQLITE_OK;
        if (rc != SQLITE_OK)
            r = tkl_sqlite_errno(rc);
        r = tkl_sqlite_io_errno(o->db, r);
        if (r < 0 && !sqlite3_get_autocommit(o->db))
            sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    r = tkl_sqlite_io_errno(o->db, r);
    if (r < 0 && o->group_open)
        group_end(o, r);
    return r;
}

void tkl_outbox_set_grouped(struct tkl_outbox *o, bool grouped)
{
    o->grouped = grouped;
}

bool tkl_outbox_dirty(const struct tkl_outbox *o)
{
    return o->group_open;
}

int tkl_outbox_sync(struct tkl_outbox *o)
{
    int lost = group_lost(o);
    if (lost)
        return lost;
    if (!o->group_open)
        return 0;
    if (o->on_commit)
        o->on_commit(o->on_commit_data, o->syncs + 1);
    int rc = sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL);
    int r = rc == SQLITE_OK ? 0 : tkl_sqlite_io_errno(o->db, tkl_sqlite_errno(rc));
    if (r == 0)
        o->syncs++;
    group_end(o, r);
    return r;
}

void tkl_outbox_on_sync(struct tkl_outbox *o, void (*fn)(void *data, int r), void *data)
{
    o->on_sync = fn;
    o->on_sync_data = data;
}

void tkl_outbox_on_commit(struct tkl_outbox *o, void (*fn)(void *data, unsigned long n), void *data)
{
    o->on_commit = fn;
    o->on_commit_data = data;
}

unsigned long tkl_outbox_syncs(const struct tkl_outbox *o)
{
    return o->syncs;
}

char *tkl_log_key(const char *item_id, int32_t deadline_day, const char *stage_key,
                  const char *channel, const char *recipient)
{
    char *k = NULL;
    if (asprintf(&k, "%s|%ld|%s|%s|%s", item_id, (long)deadline_day, stage_key, channel,
                 recipient) < 0)
        return NULL;
    return k;
}

int tkl_outbox_logged(struct tkl_outbox *o, const char *key)
{
    sqlite3_stmt *st = NULL;
    int r = tkl_db_stmt(o, TKL_ST_LOGGED, "SELECT 1 FROM log WHERE key = ?", &st);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    tkl_db_done(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
}

void tkl_db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Slots of the put memo (outbox_db.h), a power of two: at most half are
 * used, so that a lookup probes few. A put past that is read back by its
 * claim, as without the memo. */
#define MEMO_BITS  13
#define MEMO_SLOTS (1u << MEMO_BITS)
#define MEMO_MASK  (MEMO_SLOTS - 1u)

/* The first slot id probes: Fibonacci hashing spreads consecutive ids
 * (as a round's puts get them), which would otherwise fill one run of
 * slots that every removal walks to its end. */
static size_t memo_home(uint64_t id)
{
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - MEMO_BITS));
}

static void entries_free(struct tkl_notice_entry *v, char **stage_keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tkl_notice_entry *e = &v[i];
        free((char *)e->item_id);
        free((char *)e->title);
        free((char *)e->commitment);
        free((char *)e->owners);
        free((char *)e->deadline_text);
        free((char *)e->status);
        free((char *)e->progress);
        free((char *)e->category);
        free((char *)e->url);
        free((char *)e->answer);
        free(stage_keys[i]);
    }
    free(v);
    free(stage_keys);
}

/* Empties the memo: its notices are read from the table again. */
static void memo_clear(struct tkl_outbox *o)
{
    for (size_t i = 0; o->memo && o->memo_n && i < MEMO_SLOTS; i++) {
        struct tkl_put_memo *m = &o->memo[i];
        if (!m->id)
            continue;
        entries_free(m->entries, m->stage_keys, m->n);
        *m = (struct tkl_put_memo){0};
        o->memo_n--;
    }
}

/* The slot of id in the memo, or SIZE_MAX. */
static size_t memo_find(const struct tkl_outbox *o, uint64_t id)
{
    if (!o->memo || !o->memo_n)
        return SIZE_MAX;
    for (size_t i = memo_home(id);; i = (i + 1) & MEMO_MASK) {
        if (o->memo[i].id == id)
            return i;
        if (!o->memo[i].id)
            return SIZE_MAX;
    }
}

/* Frees slot i's place, moving back the slots after it that probed past
 * it, so that every lookup still meets its id before a free slot. */
static void memo_remove(struct tkl_outbox *o, size_t i)
{
    for (size_t j = i;;) {
        j = (j + 1) & MEMO_MASK;
        if (!o->memo[j].id)
            break;
        size_t home = memo_home(o->memo[j].id);
        /* slot j stays when its home lies cyclically in (i, j] */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            o->memo[i] = o->memo[j];
            i = j;
        }
    }
    o->memo[i] = (struct tkl_put_memo){0};
    o->memo_n--;
}

/* A copy of s, or NULL (and *oom) for NULL or out of memory. */
static char *dup_or_null(const char *s, bool *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = true;
    return d;
}

/* The entries of n that p keeps, as the entries table gives them back
 * (append_entry), into a memo slot for notice id. Out of memory or room,
 * nothing is kept: the claim then reads them. */
static void memo_add(struct tkl_outbox *o, uint64_t id, const struct tkl_notice *n,
                     const char *const *stage_keys, const bool *keep, size_t kept)
{
    if (!id || (!o->memo && !(o->memo = calloc(MEMO_SLOTS, sizeof(*o->memo)))))
        return; /* 0 marks a free slot: never an id */
    /* an id given again (its group undone) replaces what was kept of it */
    size_t old = memo_find(o, id);
    if (old != SIZE_MAX) {
        entries_free(o->memo[old].entries, o->memo[old].stage_keys, o->memo[old].n);
        memo_remove(o, old);
    }
    if (o->memo_n >= MEMO_SLOTS / 2)
        return;
    struct tkl_notice_entry *v = calloc(kept, sizeof(*v));
    char **keys = calloc(kept, sizeof(*keys));
    bool oom = !v || !keys;
    size_t k = 0;
    for (size_t i = 0; !oom && i < n->n_entries; i++) {
        if (!keep[i])
            continue;
        const struct tkl_notice_entry *e = &n->entries[i];
        v[k] = (struct tkl_notice_entry){
            .size = sizeof(v[k]),
            .item_id = dup_or_null(e->item_id, &oom),
            .title = dup_or_null(e->title, &oom),
            .commitment = dup_or_null(e->commitment, &oom),
            .owners = dup_or_null(e->owners, &oom),
            .deadline_text = dup_or_null(e->deadline_text, &oom),
            .status = dup_or_null(e->status, &oom),
            .progress = dup_or_null(e->progress, &oom),
            .deadline_day = e->deadline_day,
            .kind = e->kind,
            .stage = e->stage,
            .days_left = e->days_left,
            .late = e->late,
            .category = dup_or_null(e->category, &oom),
            .url = dup_or_null(e->url, &oom),
            .answer = dup_or_null(e->answer, &oom),
        };
        keys[k] = dup_or_null(stage_keys[i], &oom);
        k++;
    }
    if (oom) {
        if (v && keys)
            entries_free(v, keys, k);
        else {
            free(v);
            free(keys);
        }
        return;
    }
    size_t i = memo_home(id);
    while (o->memo[i].id)
        i = (i + 1) & MEMO_MASK;
    o->memo[i] = (struct tkl_put_memo){.id = id, .entries = v, .stage_keys = keys, .n = kept};
    o->memo_n++;
}

size_t tkl_outbox_memo_held(const struct tkl_outbox *o)
{
    return o->memo_n;
}

/* Moves the memo's entries of notice id into s (which has none). Returns
 * whether it held them. */
static bool memo_take(struct tkl_outbox *o, uint64_t id, struct tkl_stored_notice *s)
{
    size_t i = memo_find(o, id);
    if (i == SIZE_MAX)
        return false;
    s->entries = o->memo[i].entries;
    s->stage_keys = o->memo[i].stage_keys;
    s->notice.n_entries = o->memo[i].n;
    s->notice.entries = s->entries;
    memo_remove(o, i);
    return true;
}

/* Which entries of a notice tkl_outbox_put() stores: those whose log key
 * is not in the log yet. */
struct put_plan {
    char **keys; /* each entry's log key */
    bool *keep;  /* each entry's "not logged yet" */
    size_t kept;
};

static void put_plan_free(struct put_plan *p, size_t n_entries)
{
    for (size_t i = 0; p->keys && i < n_entries; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p->keep);
}

/* Fills p (allocated for n's entries) with each entry's log key and
 * whether it is logged. Returns 0 or a negative errno. */
static int put_plan_fill(struct tkl_outbox *o, const struct tkl_notice *n,
                         const char *const *stage_keys, struct put_plan *p)
{
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        p->keys[i] =
            tkl_log_key(e->item_id, e->deadline_day, stage_keys[i], n->channel, n->recipient);
        if (!p->keys[i])
            return -ENOMEM;
        int logged = tkl_outbox_logged(o, p->keys[i]);
        if (logged < 0)
            return logged;
        p->keep[i] = !logged;
        p->kept += p->keep[i];
    }
    return 0;
}

/* The statements tkl_outbox_put() runs for each notice and entry. */
struct put_stmts {
    sqlite3_stmt *notice, *entry, *log;
};

static int put_stmts_get(struct tkl_outbox *o, struct put_stmts *s)
{
    int r = tkl_db_stmt(o, TKL_ST_PUT_NOTICE,
                        "INSERT INTO notices(channel, recipient, team_id, team_name, "
                        "thread_key, due_at, created_at, next_attempt, intro) "
                        "VALUES(?,?,?,?,?,?,?,?,?)",
                        &s->notice);
    if (r == 0)
        r = tkl_db_stmt(o, TKL_ST_PUT_ENTRY,
                        "INSERT INTO entries(notice_id, idx, item_id, title, commitment, "
                        "owners, deadline_text, status, progress, deadline_day, kind, "
                        "stage, stage_key, days_left, late, category, url, answer) "
                        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &s->entry);
    if (r == 0)
        r = tkl_db_stmt(o, TKL_ST_PUT_LOG,
                        "INSERT INTO log(key, notice_id, created_at) VALUES(?,?,?)", &s->log);
    return r;
}

static void put_stmts_done(struct put_stmts *s)
{
    tkl_db_done(s->notice);
    tkl_db_done(s->entry);
    tkl_db_done(s->log);
}

/* Inserts the notices row of n, with n's thread key only when it carries
 * one entry. Returns 0 and the row's id, or a negative errno. */
static int insert_notice(struct tkl_outbox *o, sqlite3_stmt *st, const struct tkl_notice *n,
                         bool one_entry, int64_t now, sqlite3_int64 *ret_id)
{
    tkl_db_bind_text(st, 1, n->channel);
    tkl_db_bind_text(st, 2, n->recipient);
    tkl_db_bind_text(st, 3, n->team_id);
    tkl_db_bind_text(st, 4, n->team_name);
    tkl_db_bind_text(st, 5, one_entry ? n->thread_key : NULL);
    sqlite3_bind_int64(st, 6, n->due_at);
    sqlite3_bind_int64(st, 7, now);
    sqlite3_bind_int64(st, 8, now);
    tkl_db_bind_text(st, 9, n->intro);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return tkl_sqlite_errno(rc);
    *ret_id = sqlite3_last_insert_rowid(o->db);
    return 0;
}

/* Inserts entry e as entry idx of notice id. Returns 0 or a negative errno. */
static int insert_entry(sqlite3_stmt *st, sqlite3_int64 id, int idx,
                        const struct tkl_notice_entry *e, const char *stage_key)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, idx);
    tkl_db_bind_text(st, 3, e->item_id);
    tkl_db_bind_text(st, 4, e->title);
    tkl_db_bind_text(st, 5, e->commitment);
    tkl_db_bind_text(st, 6, e->owners);
    tkl_db_bind_text(st, 7, e->deadline_text);
    tkl_db_bind_text(st, 8, e->status);
    tkl_db_bind_text(st, 9, e->progress);
    sqlite3_bind_int(st, 10, e->deadline_day);
    sqlite3_bind_int(st, 11, (int)e->kind);
    sqlite3_bind_int(st, 12, (int)e->stage);
    tkl_db_bind_text(st, 13, stage_key);
    sqlite3_bind_int(st, 14, e->days_left);
    sqlite3_bind_int(st, 15, e->late);
    tkl_db_bind_text(st, 16, e->category);
    tkl_db_bind_text(st, 17, e->url);
    tkl_db_bind_text(st, 18, e->answer);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
}

/* Logs key as sent in notice id. Returns 0 or a negative errno. */
static int insert_log(sqlite3_stmt *st, const char *key, sqlite3_int64 id, int64_t now)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
}

/* Inserts the notice with the entries p keeps, and their log keys, inside
 * the caller's transaction. Returns 0 and the notice's id, or a negative
 * errno. */
static int insert_rows(struct tkl_outbox *o, const struct tkl_notice *n,
                       const char *const *stage_keys, const struct put_plan *p, int64_t now,
                       sqlite3_int64 *ret_id)
{
    struct put_stmts s = {0};
    sqlite3_int64 id = 0;
    int r = put_stmts_get(o, &s);
    if (r == 0)
        r = insert_notice(o, s.notice, n, p->kept == 1, now, &id);
    int idx = 0;
    for (size_t i = 0; r == 0 && i < n->n_entries; i++) {
        if (!p->keep[i])
            continue;
        r = insert_entry(s.entry, id, idx++, &n->entries[i], stage_keys[i]);
        if (r == 0)
            r = insert_log(s.log, p->keys[i], id, now);
    }
    put_stmts_done(&s);
    if (r == 0)
        *ret_id = id;
    return r;
}

int tkl_outbox_put(struct tkl_outbox *o, const struct tkl_notice *n, const char *const *stage_keys,
                   int64_t now, uint64_t *ret_id)
{
    struct put_plan p = {0};
    p.keys = calloc(n->n_entries + 1, sizeof(*p.keys));
    p.keep = calloc(n->n_entries + 1, sizeof(*p.keep));
    sqlite3_int64 id = 0;
    bool own = false;
    int r;
    if (!p.keys || !p.keep) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = tkl_db_write_begin(o, &own)) < 0)
        goto out;
    if ((r = put_plan_fill(o, n, stage_keys, &p)) == 0 && p.kept)
        r = insert_rows(o, n, stage_keys, &p, now, &id);
    /* every key logged already: nothing written, and the commit is empty */
    if ((r = tkl_db_write_end(o, own, r)) < 0)
        goto out;
    if (id)
        memo_add(o, (uint64_t)id, n, stage_keys, p.keep, p.kept);
    *ret_id = (uint64_t)id;
out:
    put_plan_free(&p, n->n_entries);
    return r;
}

/* Ids of due notices (of channel, when not NULL) not being sent, oldest
 * first, at most max. Returns the count or a negative errno. */
static int due_ids(struct tkl_outbox *o, const char *channel, int64_t now, uint64_t *ids,
                   size_t max)
{
    sqlite3_stmt *st = NULL;
    int rc, r = tkl_db_stmt(o, TKL_ST_DUE_IDS,
                            "SELECT id FROM notices WHERE state = 0 AND sending = 0 AND "
                            "next_attempt <= ?1 AND (?2 IS NULL OR channel = ?2) "
                            "ORDER BY next_attempt, id LIMIT ?3",
                            &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, now);
    if (channel)
        sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    int n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = (uint64_t)sqlite3_column_int64(st, 0);
    tkl_db_done(st);
    return rc == SQLITE_DONE ? n : tkl_sqlite_errno(rc);
}

int tkl_outbox_due(struct tkl_outbox *o, int64_t now, uint64_t *ids, size_t max)
{
    return due_ids(o, NULL, now, ids, max);
}

int tkl_outbox_due_channels(struct tkl_outbox *o, int64_t now, char ***ret_channels, size_t *ret_n)
{
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    /* a skip-scan of notices_due_channel, one seek per channel with pending
     * notices, then one short range per channel for a due one: a round
     * costs no scan of the pending notices */
    int rc,
        r = tkl_db_stmt(o, TKL_ST_DUE_CHANNELS,
                        "WITH RECURSIVE c(ch) AS ("
                        " SELECT (SELECT min(channel) FROM notices WHERE state = 0)"
                        " UNION ALL SELECT (SELECT min(channel) FROM notices WHERE state = 0 AND"
                        "  channel > c.ch) FROM c WHERE c.ch IS NOT NULL) "
                        "SELECT ch FROM c WHERE ch IS NOT NULL AND EXISTS (SELECT 1 FROM notices n"
                        " WHERE n.state = 0 AND n.channel = c.ch AND n.next_attempt <= ?1 AND"
                        " n.sending = 0)",
                        &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 8;
            char **nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                r = -ENOMEM;
                goto out;
            }
            v = nv;
        }
        if (!(v[n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
            r = -ENOMEM;
            goto out;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
out:
    tkl_db_done(st);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret_channels = v;
    *ret_n = n;
    return 0;
}

int tkl_outbox_due_on(struct tkl_outbox *o, const char *channel, int64_t now, uint64_t *ids,
                      size_t max)
{
    return due_ids(o, channel, now, ids, max);
}

int tkl_outbox_next_attempt(struct tkl_outbox *o, int64_t *ret)
{
    sqlite3_stmt *st = NULL;
    int r =
        tkl_db_stmt(o, TKL_ST_NEXT_ATTEMPT,
                    "SELECT min(next_attempt) FROM notices WHERE state = 0 AND sending = 0", &st);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : INT64_MAX;
    else
        r = tkl_sqlite_errno(rc);
    tkl_db_done(st);
    return r;
}

char *tkl_db_col_dup(sqlite3_stmt *st, int i, bool *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    char *s = strdup((const char *)t);
    if (!s)
        *oom = true;
    return s;
}

void tkl_stored_notice_free(struct tkl_stored_notice *s)
{
    if (!s)
        return;
    free((char *)s->notice.channel);
    free((char *)s->notice.recipient);
    free((char *)s->notice.team_id);
    free((char *)s->notice.team_name);
    free((char *)s->notice.thread_key);
    free((char *)s->notice.intro);
    entries_free(s->entries, s->stage_keys, s->notice.n_entries);
    free(s->last_error);
    free(s);
}

#define NOTICE_COLUMNS                                                                             \
    "n.channel, n.recipient, n.team_id, n.team_name, n.thread_key, n.due_at, n.state, "            \
    "n.attempts, n.created_at, n.next_attempt, n.last_error, n.intro"
#define ENTRY_COLUMNS                                                                              \
    "e.item_id, e.title, e.commitment, e.owners, e.deadline_text, e.status, e.progress, "          \
    "e.deadline_day, e.kind, e.stage, e.stage_key, e.days_left, e.late, e.category, e.url, "       \
    "e.answer"

/* Fills s's notice (its id aside) from st's row, NOTICE_COLUMNS from
 * column c. Returns 0 or -ENOMEM; what s holds is freed by the caller. */
static int notice_read(sqlite3_stmt *st, int c, struct tkl_stored_notice *s)
{
    bool oom = false;
    s->notice.size = sizeof(s->notice);
    s->notice.channel = tkl_db_col_dup(st, c, &oom);
    s->notice.recipient = tkl_db_col_dup(st, c + 1, &oom);
    s->notice.team_id = tkl_db_col_dup(st, c + 2, &oom);
    s->notice.team_name = tkl_db_col_dup(st, c + 3, &oom);
    s->notice.thread_key = tkl_db_col_dup(st, c + 4, &oom);
    s->notice.due_at = sqlite3_column_int64(st, c + 5);
    s->state = (enum tkl_notice_state)sqlite3_column_int(st, c + 6);
    s->attempts = sqlite3_column_int(st, c + 7);
    s->created_at = sqlite3_column_int64(st, c + 8);
    s->next_attempt = sqlite3_column_int64(st, c + 9);
    s->last_error = tkl_db_col_dup(st, c + 10, &oom);
    s->notice.intro = tkl_db_col_dup(st, c + 11, &oom);
    return oom || !s->notice.channel || !s->notice.recipient ? -ENOMEM : 0;
}

/* Reads the notices row of id into s. Returns 0, -ENOENT when there is
 * none, or a negative errno. */
static int read_notice(struct tkl_outbox *o, uint64_t id, struct tkl_stored_notice *s)
{
    sqlite3_stmt *st = NULL;
    int r = tkl_db_stmt(o, TKL_ST_READ_NOTICE,
                        "SELECT " NOTICE_COLUMNS " FROM notices n WHERE n.id = ?", &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->notice.id = id;
        r = notice_read(st, 0, s);
    } else {
        r = rc == SQLITE_DONE ? -ENOENT : tkl_sqlite_errno(rc);
    }
    tkl_db_done(st);
    return r;
}

/* Makes room in s for one more entry and its stage key, doubling *cap when
 * full. Returns 0 or -ENOMEM. */
static int grow_entries(struct tkl_stored_notice *s, size_t *cap)
{
    if (s->notice.n_entries < *cap)
        return 0;
    *cap = *cap ? *cap * 2 : 8;
    struct tkl_notice_entry *e = realloc(s->entries, *cap * sizeof(*e));
    char **k = e ? realloc(s->stage_keys, *cap * sizeof(*k)) : NULL;
    if (e)
        s->entries = e;
    if (k)
        s->stage_keys = k;
    s->notice.entries = s->entries;
    return e && k ? 0 : -ENOMEM;
}

/* Appends the entry in st's current row (ENTRY_COLUMNS from column c) to
 * s, which has room for it. Returns 0 or -ENOMEM; the entry is counted
 * either way, so that tkl_stored_notice_free() frees what it holds. */
static int append_entry(sqlite3_stmt *st, int c, struct tkl_stored_notice *s)
{
    bool oom = false;
    size_t i = s->notice.n_entries;
    struct tkl_notice_entry *e = &s->entries[i];
    *e = (struct tkl_notice_entry){.size = sizeof(*e)};
    e->item_id = tkl_db_col_dup(st, c, &oom);
    e->title = tkl_db_col_dup(st, c + 1, &oom);
    e->commitment = tkl_db_col_dup(st, c + 2, &oom);
    e->owners = tkl_db_col_dup(st, c + 3, &oom);
    e->deadline_text = tkl_db_col_dup(st, c + 4, &oom);
    e->status = tkl_db_col_dup(st, c + 5, &oom);
    e->progress = tkl_db_col_dup(st, c + 6, &oom);
    e->deadline_day = sqlite3_column_int(st, c + 7);
    e->kind = (enum tkl_deadline_kind)sqlite3_column_int(st, c + 8);
    e->stage = (enum tkl_stage)sqlite3_column_int(st, c + 9);
    s->stage_keys[i] = tkl_db_col_dup(st, c + 10, &oom);
    e->days_left = sqlite3_column_int(st, c + 11);
    e->late = sqlite3_column_int(st, c + 12);
    e->category = tkl_db_col_dup(st, c + 13, &oom);
    e->url = tkl_db_col_dup(st, c + 14, &oom);
    e->answer = tkl_db_col_dup(st, c + 15, &oom);
    s->notice.n_entries++;
    return oom || !e->item_id ? -ENOMEM : 0;
}

/* Reads the entries of notice id into s, in their order. Returns 0 or a
 * negative errno. */
static int read_entries(struct tkl_outbox *o, uint64_t id, struct tkl_stored_notice *s)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = SQLITE_DONE;
    int r = tkl_db_stmt(o, TKL_ST_READ_ENTRIES,
                        "SELECT " ENTRY_COLUMNS " FROM entries e WHERE e.notice_id = ? "
                        "ORDER BY e.idx",
                        &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = grow_entries(s, &cap);
        if (r == 0)
            r = append_entry(st, 0, s);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
    tkl_db_done(st);
    return r;
}

int tkl_outbox_get(struct tkl_outbox *o, uint64_t id, struct tkl_stored_notice **ret)
{
    struct tkl_stored_notice *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int r = read_notice(o, id, s);
    if (r == 0)
        r = read_entries(o, id, s);
    if (r < 0) {
        tkl_stored_notice_free(s);
        return r;
    }
    s->notice.entries = s->entries;
    *ret = s;
    return 0;
}

/* A batch of notices being read: the array and its room. */
struct batch {
    struct tkl_stored_notice **v;
    size_t n, cap;
};

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        tkl_stored_notice_free(b->v[i]);
    free(b->v);
}

/* Adds st's notice (its id in column 0, NOTICE_COLUMNS after it) to b,
 * with no entries. Returns 0 or -ENOMEM. */
static int batch_row(sqlite3_stmt *st, struct batch *b)
{
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 16;
        struct tkl_stored_notice **v = realloc(b->v, c * sizeof(struct tkl_stored_notice *));
        if (!v)
            return -ENOMEM;
        b->v = v;
        b->cap = c;
    }
    if (!(b->v[b->n] = calloc(1, sizeof(**b->v))))
        return -ENOMEM;
    b->v[b->n]->notice.id = (uint64_t)sqlite3_column_int64(st, 0);
    return notice_read(st, 1, b->v[b->n++]);
}

/* Gives each notice of b its entries: from the memo when this connection
 * put it, else from the entries table. A notice with no entries is left
 * out, as a join of the two tables leaves it. Returns 0 or a negative
 * errno. */
static int batch_entries(struct tkl_outbox *o, struct batch *b)
{
    size_t kept = 0;
    int r = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct tkl_stored_notice *s = b->v[i];
        if (r == 0 && !memo_take(o, s->notice.id, s))
            r = read_entries(o, s->notice.id, s);
        if (r == 0 && s->notice.n_entries) {
            s->notice.entries = s->entries;
            b->v[kept++] = s;
        } else {
            tkl_stored_notice_free(s);
        }
    }
    b->n = kept;
    return r;
}

int tkl_outbox_due_batch(struct tkl_outbox *o, const char *channel, int64_t now, size_t max,
                         struct tkl_stored_notice ***ret, size_t *ret_n)
{
    sqlite3_stmt *st = NULL;
    struct batch b = {0};
    int rc = SQLITE_DONE;
    /* notices_due_channel finds the due notices; their entries follow */
    int r = tkl_db_stmt(o, TKL_ST_DUE_BATCH,
                        "SELECT n.id, " NOTICE_COLUMNS " FROM notices n WHERE n.state = 0 AND "
                        "n.sending = 0 AND n.channel = ?1 AND n.next_attempt <= ?2 "
                        "ORDER BY n.next_attempt, n.id LIMIT ?3",
                        &st);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(max > (size_t)INT64_MAX ? (size_t)INT64_MAX : max));
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = batch_row(st, &b);
    if (r == 0 && rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
    tkl_db_done(st);
    if (r == 0)
        r = batch_entries(o, &b);
    if (r < 0) {
        batch_free(&b);
        return r;
    }
    *ret = b.v;
    *ret_n = b.n;
    return 0;
}

/* Runs cached statement sid (sql) as one write: with three parameters,
 * ?1 = t, ?2 = reply and ?3 = id; with one, ?1 = id. Returns 0 or a
 * negative errno. */
static int update(struct tkl_outbox *o, enum tkl_db_stmt sid, const char *sql, uint64_t id,
                  int64_t t, const char *reply)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    int r = tkl_db_write_begin(o, &own);
    if (r == 0 && (r = tkl_db_stmt(o, sid, sql, &st)) == 0) {
        int np = sqlite3_bind_parameter_count(st);
        if (np == 3) {
            sqlite3_bind_int64(st, 1, t);
            tkl_db_bind_text(st, 2, reply);
        }
        sqlite3_bind_int64(st, np, (sqlite3_int64)id);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
        tkl_db_done(st);
    }
    return tkl_db_write_end(o, own, r);
}

int tkl_outbox_mark_delivered(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply)
{
    return update(o, TKL_ST_MARK_DELIVERED,
                  "UPDATE notices SET state = 1, finished_at = ?1, last_error = ?2, "
                  "attempts = attempts + 1, sending = 0 WHERE id = ?3",
                  id, now, reply);
}

int tkl_outbox_mark_failed(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply)
{
    return update(o, TKL_ST_MARK_FAILED,
                  "UPDATE notices SET state = 2, finished_at = ?1, last_error = ?2, "
                  "attempts = attempts + 1, sending = 0 WHERE id = ?3",
                  id, now, reply);
}

int tkl_outbox_mark_withdrawn(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply)
{
    return update(o, TKL_ST_MARK_WITHDRAWN,
                  "UPDATE notices SET state = 3, finished_at = ?1, last_error = ?2, "
                  "sending = 0 WHERE id = ?3",
                  id, now, reply);
}

int tkl_outbox_mark_retry(struct tkl_outbox *o, uint64_t id, int64_t next_attempt,
                          const char *reply)
{
    return update(o, TKL_ST_MARK_RETRY,
                  "UPDATE notices SET next_attempt = ?1, last_error = ?2, "
                  "attempts = attempts + 1, sending = 0 WHERE id = ?3",
                  id, next_attempt, reply);
}

int tkl_outbox_mark_wait(struct tkl_outbox *o, uint64_t id, int64_t next_look, const char *reply)
{
    return update(o, TKL_ST_MARK_WAIT,
                  "UPDATE notices SET next_attempt = ?1, last_error = ?2, "
                  "attempts = max(attempts, 1), sending = 0 WHERE id = ?3",
                  id, next_look, reply);
}

int tkl_outbox_mark_sending(struct tkl_outbox *o, uint64_t id)
{
    return update(o, TKL_ST_MARK_SENDING, "UPDATE notices SET sending = 1 WHERE id = ?1", id, 0,
                  NULL);
}

int tkl_outbox_release(struct tkl_outbox *o, uint64_t id)
{
    return update(o, TKL_ST_RELEASE, "UPDATE notices SET sending = 0 WHERE id = ?1", id, 0, NULL);
}

/* Runs one UPDATE binding ?1 = a and, if used, ?2 = b; returns the rows it
 * changed, with 0 or a negative errno in *ret. */
static int64_t update_count(struct tkl_outbox *o, const char *sql, int64_t a, int64_t b, int *ret)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t n = 0;
    int r = tkl_db_write_begin(o, &own);
    int rc = r == 0 ? sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) : SQLITE_OK;
    if (rc != SQLITE_OK)
        r = tkl_sqlite_errno(rc);
    if (r == 0) {
        sqlite3_bind_int64(st, 1, a);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, b);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
        n = r == 0 ? sqlite3_changes64(o->db) : 0;
    }
    sqlite3_finalize(st);
    *ret = tkl_db_write_end(o, own, r);
    return *ret ? 0 : n;
}

int tkl_outbox_recover(struct tkl_outbox *o, int64_t now, int64_t *ret_in_flight)
{
    int r;
    *ret_in_flight =
        update_count(o,
                     "UPDATE notices SET sending = 0, next_attempt = min(next_attempt, ?1) "
                     "WHERE sending = 1 AND state = 0",
                     now, 0, &r);
    return r;
}

int tkl_outbox_hasten(struct tkl_outbox *o, const char *channel, int64_t now, const uint64_t *keep,
                      size_t n_keep, int64_t *ret_n)
{
    static const char head[] = "UPDATE notices SET next_attempt = ?1 WHERE state = 0 AND"
                               " attempts > 0 AND sending = 0 AND channel = ?2 AND"
                               " next_attempt > ?1";
    if (n_keep > 30000) /* more than SQLite binds: none hastened */
        return -E2BIG;
    /* the ids kept waiting as parameters ?3 ...: a short list */
    size_t size = sizeof(head) + 20 + n_keep * 2;
    char *sql = malloc(size);
    if (!sql)
        return -ENOMEM;
    size_t len = (size_t)snprintf(sql, size, "%s", head);
    for (size_t i = 0; i < n_keep; i++)
        len += (size_t)snprintf(sql + len, size - len, "%s", i ? ",?" : " AND id NOT IN (?");
    snprintf(sql + len, size - len, "%s", n_keep ? ")" : "");
    sqlite3_stmt *st = NULL;
    bool own = false;
    int r = tkl_db_write_begin(o, &own);
    int rc = r == 0 ? sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) : SQLITE_OK;
    free(sql);
    if (rc != SQLITE_OK)
        r = tkl_sqlite_errno(rc);
    int64_t n = 0;
    if (r == 0) {
        sqlite3_bind_int64(st, 1, now);
        tkl_db_bind_text(st, 2, channel);
        for (size_t i = 0; i < n_keep; i++)
            sqlite3_bind_int64(st, (int)i + 3, (sqlite3_int64)keep[i]);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
        n = r == 0 ? sqlite3_changes64(o->db) : 0;
    }
    sqlite3_finalize(st);
    if ((r = tkl_db_write_end(o, own, r)) == 0)
        *ret_n = n;
    return r;
}

int tkl_outbox_requeue(struct tkl_outbox *o, uint64_t id, int64_t now, int64_t *ret_n)
{
    int r;
    if (id)
        *ret_n =
            update_count(o,
                         "UPDATE notices SET state = 0, attempts = 0, next_attempt = 0, "
                         "created_at = ?1, finished_at = NULL WHERE state IN (2, 3) AND id = ?2",
                         now, (int64_t)id, &r);
    else
        *ret_n = update_count(o,
                              "UPDATE notices SET state = 0, attempts = 0, next_attempt = 0, "
                              "created_at = ?1, finished_at = NULL WHERE state = 2",
                              now, 0, &r);
    return r;
}

int tkl_outbox_requeue_failed(struct tkl_outbox *o, int64_t now, int64_t *ret_n,
                              int64_t *ret_reports)
{
    static const char *const sql[] = {
        "UPDATE notices SET state = 3, finished_at = ?1, last_error = '" TKL_REPORT_MOOT "' "
        "WHERE state = 2 AND EXISTS (SELECT 1 FROM entries e WHERE e.notice_id = notices.id "
        "AND e.stage = ?2)",
        "UPDATE notices SET state = 0, attempts = 0, next_attempt = 0, created_at = ?1, "
        "finished_at = NULL WHERE state = 2"};
    int64_t n[2] = {0, 0};
    bool own = false;
    int r = tkl_db_write_begin(o, &own);
    for (int i = 0; r == 0 && i < 2; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(o->db, sql[i], -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, now);
            if (i == 0)
                sqlite3_bind_int(st, 2, TKL_STAGE_REPORT);
            rc = sqlite3_step(st);
        }
        r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
        n[i] = r == 0 ? sqlite3_changes64(o->db) : 0;
        sqlite3_finalize(st);
    }
    if ((r = tkl_db_write_end(o, own, r)) < 0)
        return r;
    *ret_reports = n[0];
    *ret_n = n[1];
    return 0;
}

int tkl_outbox_stats(struct tkl_outbox *o, int64_t day_start, struct tkl_outbox_stats *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db,
                                "SELECT"
                                " count(*) FILTER (WHERE state = 0 AND attempts = 0),"
                                " count(*) FILTER (WHERE state = 0 AND attempts > 0),"
                                " count(*) FILTER (WHERE state = 2),"
                                " count(*) FILTER (WHERE state = 1 AND finished_at >= ?),"
                                " count(*) FILTER (WHERE state = 1),"
                                " min(next_attempt) FILTER (WHERE state = 0),"
                                " min(created_at) FILTER (WHERE state = 0),"
                                " count(*) FILTER (WHERE state = 3),"
                                " min(max(next_attempt, created_at)) FILTER (WHERE state = 0),"
                                " min(max(due_at, created_at)) FILTER (WHERE state = 0 AND"
                                "  attempts > 1),"
                                " (SELECT last_error FROM notices WHERE state = 0 AND attempts > 1"
                                "  ORDER BY max(due_at, created_at), id LIMIT 1)"
                                " FROM notices",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_int64(st, 1, day_start);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ret->pending = sqlite3_column_int64(st, 0);
        ret->retrying = sqlite3_column_int64(st, 1);
        ret->failed = sqlite3_column_int64(st, 2);
        ret->delivered_today = sqlite3_column_int64(st, 3);
        ret->delivered = sqlite3_column_int64(st, 4);
        ret->next_attempt =
            sqlite3_column_type(st, 5) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 5);
        ret->oldest_pending =
            sqlite3_column_type(st, 6) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 6);
        ret->withdrawn = sqlite3_column_int64(st, 7);
        ret->due_since =
            sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 8);
        ret->retrying_since =
            sqlite3_column_type(st, 9) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 9);
        const unsigned char *e = sqlite3_column_text(st, 10);
        snprintf(ret->last_error, sizeof(ret->last_error), "%s", e ? (const char *)e : "");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : tkl_sqlite_errno(rc);
}

int tkl_outbox_count_waiting(struct tkl_outbox *o, int64_t created_before, int64_t *ret_n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        o->db, "SELECT count(*) FROM notices WHERE state = 0 AND created_at < ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_int64(st, 1, created_before);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret_n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : tkl_sqlite_errno(rc);
}

int tkl_outbox_waiting_channels(struct tkl_outbox *o, struct tkl_channel_waiting **ret,
                                size_t *ret_n)
{
    sqlite3_stmt *st = NULL;
    struct tkl_channel_waiting *v = NULL;
    size_t n = 0;
    int rc = sqlite3_prepare_v2(o->db,
                                "SELECT channel, count(*) FROM notices WHERE state = 0"
                                " GROUP BY channel ORDER BY channel",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    int r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct tkl_channel_waiting *p = reallocarray(v, n + 1, sizeof(*p));
        const char *channel = (const char *)sqlite3_column_text(st, 0);
        if (!p || !(p[n].channel = strdup(channel ? channel : ""))) {
            v = p ? p : v;
            r = -ENOMEM;
            break;
        }
        v = p;
        v[n++].n = sqlite3_column_int64(st, 1);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
    sqlite3_finalize(st);
    if (r < 0) {
        tkl_channel_waiting_free(v, n);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

void tkl_channel_waiting_free(struct tkl_channel_waiting *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].channel);
    free(v);
}

int tkl_outbox_list(struct tkl_outbox *o, bool failed_only, uint64_t **ret_ids, size_t *ret_n)
{
    sqlite3_stmt *st = NULL;
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc =
        sqlite3_prepare_v2(o->db,
                           failed_only ? "SELECT id FROM notices WHERE state = 2 ORDER BY id DESC"
                                       : "SELECT id FROM notices ORDER BY id DESC",
                           -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *p = realloc(ids, cap * sizeof(*p));
            if (!p) {
                free(ids);
                sqlite3_finalize(st);
                return -ENOMEM;
            }
            ids = p;
        }
        ids[n++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return tkl_sqlite_errno(rc);
    }
    *ret_ids = ids;
    *ret_n = n;
    return 0;
}

int tkl_outbox_get_meta(struct tkl_outbox *o, const char *key, int64_t *ret)
{
    sqlite3_stmt *st = NULL;
    int r = tkl_db_stmt(o, TKL_ST_GET_META, "SELECT value FROM meta WHERE key = ?", &st);
    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : tkl_sqlite_errno(rc);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    tkl_db_done(st);
    return r;
}

int tkl_outbox_set_meta(struct tkl_outbox *o, const char *key, int64_t value)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    int r = tkl_db_write_begin(o, &own);
    if (r == 0 &&
        (r = tkl_db_stmt(o, TKL_ST_SET_META, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
                         &st)) == 0) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, value);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
        tkl_db_done(st);
    }
    return tkl_db_write_end(o, own, r);
}

/* ---- What the web face reads ------------------------------------------ */

const char *tkl_notice_items(const struct tkl_notice *n, char buf[72])
{
    size_t events = 0;
    for (size_t i = 0; i < n->n_entries; i++)
        events += n->entries[i].kind == TKL_DEADLINE_EVENT;
    size_t actions = n->n_entries - events;
    if (events && actions)
        snprintf(buf, 72, "%zu action(s) and %zu observance(s)", actions, events);
    else
        snprintf(buf, 72, "%zu %s", n->n_entries, events ? "observance(s)" : "action(s)");
    return buf;
}

const char *tkl_notice_state_name(enum tkl_notice_state state, int attempts)
{
    switch (state) {
    case TKL_NOTICE_PENDING:
        return attempts > 0 ? "retrying" : "pending";
    case TKL_NOTICE_DELIVERED:
        return "delivered";
    case TKL_NOTICE_FAILED:
        return "failed";
    case TKL_NOTICE_WITHDRAWN:
        return "withdrawn";
    }
    return "unknown";
}

/* Fills x from st's row (columns as tkl_outbox_last_notices selects).
 * Returns 0 or -ENOMEM; what x holds is freed by the caller either way. */
static int item_notice_read(sqlite3_stmt *st, void *row)
{
    struct tkl_item_notice *x = row;
    bool oom = false;
    x->item_id = tkl_db_col_dup(st, 0, &oom);
    x->notice_id = (uint64_t)sqlite3_column_int64(st, 1);
    x->channel = tkl_db_col_dup(st, 2, &oom);
    x->recipient = tkl_db_col_dup(st, 3, &oom);
    x->team_id = tkl_db_col_dup(st, 4, &oom);
    x->team_name = tkl_db_col_dup(st, 5, &oom);
    x->stage_key = tkl_db_col_dup(st, 6, &oom);
    x->state = (enum tkl_notice_state)sqlite3_column_int(st, 7);
    x->attempts = sqlite3_column_int(st, 8);
    x->sending = sqlite3_column_int(st, 9) != 0;
    x->created_at = sqlite3_column_int64(st, 10);
    x->finished_at = sqlite3_column_int64(st, 11); /* NULL reads as 0 */
    return oom || !x->item_id || !x->channel || !x->recipient ? -ENOMEM : 0;
}

/* Array v of n elements of size bytes, with room for *cap, made to hold
 * one more, zeroed (*cap doubles when full). Returns the array, or NULL
 * when out of memory (then v is unchanged). */
static void *grow_zeroed(void *v, size_t n, size_t *cap, size_t size)
{
    if (n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        void *p = realloc(v, c * size);
        if (!p)
            return NULL;
        v = p;
        *cap = c;
    }
    memset((char *)v + n * size, 0, size);
    return v;
}

/*
 * Steps st to its end, appending each row read by read() to the array *v
 * of *n elements of size bytes (grown as needed), then finalizes st.
 * Returns 0 or a negative errno; either way *v and *n hold every row
 * begun, for the caller to free.
 */
static int read_rows(sqlite3_stmt *st, void **v, size_t *n, size_t size,
                     int (*read)(sqlite3_stmt *st, void *row))
{
    size_t cap = *n;
    int r = 0, rc;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *grown = grow_zeroed(*v, *n, &cap, size);
        if (grown) {
            *v = grown;
            r = read(st, (char *)grown + (*n)++ * size);
        } else {
            r = -ENOMEM;
        }
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
    sqlite3_finalize(st);
    return r;
}

int tkl_outbox_last_notices(struct tkl_outbox *o, struct tkl_item_notices *ret)
{
    sqlite3_stmt *st = NULL;
    struct tkl_item_notices l = {0};
    /* entries_item gives each item's highest notice id without a sort */
    int rc = sqlite3_prepare_v2(
        o->db,
        "WITH last AS (SELECT item_id, max(notice_id) AS nid FROM entries "
        "              WHERE stage NOT IN (?1, ?2, ?3) GROUP BY item_id) "
        "SELECT last.item_id, n.id, n.channel, n.recipient, n.team_id, n.team_name, "
        " (SELECT e.stage_key FROM entries e WHERE e.notice_id = n.id AND "
        "  e.item_id = last.item_id ORDER BY e.idx LIMIT 1), "
        " n.state, n.attempts, n.sending, n.created_at, n.finished_at "
        "FROM last JOIN notices n ON n.id = last.nid ORDER BY last.item_id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_int(st, 1, TKL_STAGE_REPORT);
    sqlite3_bind_int(st, 2, TKL_STAGE_ANSWER);
    sqlite3_bind_int(st, 3, TKL_STAGE_JOINT);
    void *rows = NULL;
    int r = read_rows(st, &rows, &l.n, sizeof(*l.v), item_notice_read);
    l.v = rows;
    if (r < 0) {
        tkl_item_notices_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

const struct tkl_item_notice *tkl_item_notices_find(const struct tkl_item_notices *l,
                                                    const char *item_id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->v[mid].item_id, item_id);
        if (c == 0)
            return &l->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void tkl_item_notices_free(struct tkl_item_notices *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct tkl_item_notice *x = &l->v[i];
        free(x->item_id);
        free(x->channel);
        free(x->recipient);
        free(x->team_id);
        free(x->team_name);
        free(x->stage_key);
    }
    free(l->v);
    *l = (struct tkl_item_notices){0};
}

/* Fills x from st's row (columns as tkl_outbox_undelivered selects).
 * Returns 0 or -ENOMEM; what x holds is freed by the caller either way. */
static int notice_row_read(sqlite3_stmt *st, void *row)
{
    struct tkl_notice_row *x = row;
    bool oom = false;
    x->id = (uint64_t)sqlite3_column_int64(st, 0);
    x->channel = tkl_db_col_dup(st, 1, &oom);
    x->recipient = tkl_db_col_dup(st, 2, &oom);
    x->team_id = tkl_db_col_dup(st, 3, &oom);
    x->team_name = tkl_db_col_dup(st, 4, &oom);
    x->last_reply = tkl_db_col_dup(st, 5, &oom);
    x->state = (enum tkl_notice_state)sqlite3_column_int(st, 6);
    x->attempts = sqlite3_column_int(st, 7);
    x->sending = sqlite3_column_int(st, 8) != 0;
    x->due_at = sqlite3_column_int64(st, 9);
    x->created_at = sqlite3_column_int64(st, 10);
    x->next_attempt = sqlite3_column_int64(st, 11);
    x->n_entries = (size_t)sqlite3_column_int64(st, 12);
    return oom || !x->channel || !x->recipient ? -ENOMEM : 0;
}

int tkl_outbox_undelivered(struct tkl_outbox *o, unsigned which, size_t max,
                           struct tkl_notice_rows *ret)
{
    sqlite3_stmt *st = NULL;
    struct tkl_notice_rows l = {0};
    int rc = sqlite3_prepare_v2(
        o->db,
        "SELECT n.id, n.channel, n.recipient, n.team_id, n.team_name, n.last_error, n.state, "
        " n.attempts, n.sending, n.due_at, n.created_at, n.next_attempt, "
        " (SELECT count(*) FROM entries e WHERE e.notice_id = n.id) "
        "FROM notices n WHERE (?1 AND n.state = 0 AND n.attempts = 0) OR "
        " (?2 AND n.state = 0 AND n.attempts > 0) OR (?3 AND n.state = 2) "
        "ORDER BY CASE WHEN n.state = 2 THEN 0 WHEN n.attempts > 0 THEN 1 ELSE 2 END, "
        " n.id DESC LIMIT ?4",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_int(st, 1, (which & TKL_LIST_PENDING) != 0);
    sqlite3_bind_int(st, 2, (which & TKL_LIST_RETRYING) != 0);
    sqlite3_bind_int(st, 3, (which & TKL_LIST_FAILED) != 0);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(max > (size_t)INT64_MAX ? (size_t)INT64_MAX : max));
    void *rows = NULL;
    int r = read_rows(st, &rows, &l.n, sizeof(*l.v), notice_row_read);
    l.v = rows;
    if (r < 0) {
        tkl_notice_rows_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

void tkl_notice_rows_free(struct tkl_notice_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        struct tkl_notice_row *x = &rows->v[i];
        free(x->channel);
        free(x->recipient);
        free(x->team_id);
        free(x->team_name);
        free(x->last_reply);
        free(x->lease_node);
    }
    free(rows->v);
    *rows = (struct tkl_notice_rows){0};
}

int tkl_outbox_item_history(struct tkl_outbox *o, const char *item_id, size_t max,
                            struct tkl_item_notices *ret)
{
    sqlite3_stmt *st = NULL;
    struct tkl_item_notices l = {0};
    /* entries_item leads with item_id: no scan of the entries */
    int rc = sqlite3_prepare_v2(
        o->db,
        "SELECT e.item_id, n.id, n.channel, n.recipient, n.team_id, n.team_name, "
        " min(e.stage_key), n.state, n.attempts, n.sending, n.created_at, n.finished_at "
        "FROM entries e JOIN notices n ON n.id = e.notice_id "
        "WHERE e.item_id = ?1 AND e.stage NOT IN (?2, ?3, ?5) "
        "GROUP BY n.id ORDER BY n.id DESC LIMIT ?4",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_text(st, 1, item_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, TKL_STAGE_REPORT);
    sqlite3_bind_int(st, 3, TKL_STAGE_ANSWER);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(max > (size_t)INT64_MAX ? (size_t)INT64_MAX : max));
    sqlite3_bind_int(st, 5, TKL_STAGE_JOINT);
    void *rows = NULL;
    int r = read_rows(st, &rows, &l.n, sizeof(*l.v), item_notice_read);
    l.v = rows;
    if (r < 0) {
        tkl_item_notices_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

const char *tkl_failure_key(uint64_t id, int64_t created_at, char buf[TKL_FAILURE_KEY_MAX])
{
    snprintf(buf, TKL_FAILURE_KEY_MAX, "failure-%" PRIu64 "-%" PRId64, id, created_at);
    return buf;
}

int tkl_report_to_tails(const struct tkl_report_to *to, size_t n, char ***ret)
{
    char **tails = calloc(n + 1, sizeof(*tails));
    int r = tails ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        if (asprintf(&tails[i], "%s|%s", to[i].channel, to[i].recipient) < 0) {
            tails[i] = NULL;
            r = -ENOMEM;
        }
    if (r < 0) {
        tkl_report_to_tails_free(tails, n);
        tails = NULL;
    }
    *ret = tails;
    return r;
}

void tkl_report_to_tails_free(char **tails, size_t n)
{
    for (size_t i = 0; tails && i < n; i++)
        free(tails[i]);
    free(tails);
}

void tkl_failures_free(struct tkl_failures *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct tkl_failure *x = &l->v[i];
        free(x->channel);
        free(x->recipient);
        free(x->team_id);
        free(x->team_name);
        free(x->last_error);
    }
    free(l->v);
    *l = (struct tkl_failures){0};
}

static int failure_read(sqlite3_stmt *st, void *row)
{
    struct tkl_failure *x = row;
    bool oom = false;
    x->id = (uint64_t)sqlite3_column_int64(st, 0);
    x->created_at = sqlite3_column_int64(st, 1);
    x->finished_at = sqlite3_column_int64(st, 2);
    x->channel = tkl_db_col_dup(st, 3, &oom);
    x->recipient = tkl_db_col_dup(st, 4, &oom);
    x->team_id = tkl_db_col_dup(st, 5, &oom);
    x->team_name = tkl_db_col_dup(st, 6, &oom);
    x->last_error = tkl_db_col_dup(st, 7, &oom);
    x->n_entries = (size_t)sqlite3_column_int64(st, 8);
    return oom || !x->channel || !x->recipient ? -ENOMEM : 0;
}

/* The key an earlier version logged for its report of a failure to one
 * recipient (tkl_log_key of item notice-<id>, no day, stage key
 * failure-<id>-<created_at>), less its last part: the recipient's
 * "<channel>|<recipient>", bound as ?3, ?4, ... */
#define FAILURE_SQL_OLD_KEY                                                                        \
    "'notice-' || n.id || '|" NO_DAY_TEXT "|failure-' || n.id || '-' || n.created_at || '|'"
#define NO_DAY_TEXT "-2147483648" /* TKL_NO_DAY, INT32_MIN: part of the ABI */

int tkl_outbox_unreported(struct tkl_outbox *o, const struct tkl_report_to *to, size_t n_to,
                          size_t max, struct tkl_failures *ret)
{
    static const char head[] =
        "SELECT n.id, n.created_at, coalesce(n.finished_at, 0), n.channel, n.recipient,"
        " n.team_id, n.team_name, n.last_error,"
        " (SELECT count(*) FROM entries e WHERE e.notice_id = n.id)"
        " FROM notices n WHERE n.state = 2"
        " AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.notice_id = n.id AND e.stage = ?1)"
        " AND NOT EXISTS (SELECT 1 FROM log WHERE key = 'failure-' || n.id || '-' || n.created_at)";
    static const char old[] =
        " AND NOT EXISTS (SELECT 1 FROM log WHERE key = " FAILURE_SQL_OLD_KEY " || ?%zu)";
    static const char tail[] = " ORDER BY n.finished_at, n.id LIMIT ?2";
    if (n_to > 1000) /* more recipients than a query should hold */
        return -E2BIG;
    size_t size = sizeof(head) + n_to * (sizeof(old) + 8) + sizeof(tail);
    char *sql = malloc(size);
    if (!sql)
        return -ENOMEM;
    size_t len = (size_t)snprintf(sql, size, "%s", head);
    for (size_t i = 0; i < n_to; i++)
        len += (size_t)snprintf(sql + len, size - len, old, i + 3);
    snprintf(sql + len, size - len, "%s", tail);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    char **tails = NULL;
    int r = tkl_report_to_tails(to, n_to, &tails);
    struct tkl_failures l = {0};
    if (r == 0) {
        sqlite3_bind_int(st, 1, TKL_STAGE_REPORT);
        sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
        for (size_t i = 0; i < n_to; i++)
            sqlite3_bind_text(st, (int)i + 3, tails[i], -1, SQLITE_STATIC);
        r = read_rows(st, (void **)&l.v, &l.n, sizeof(*l.v), failure_read); /* finalizes st */
    } else {
        sqlite3_finalize(st);
    }
    tkl_report_to_tails_free(tails, n_to);
    if (r < 0) {
        tkl_failures_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

/* Whether any of the n keys is logged: 1, 0, or a negative errno. */
static int any_logged(struct tkl_outbox *o, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int r = tkl_outbox_logged(o, keys[i]);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Inserts report n with its entries, unlogged, inside the caller's
 * transaction. Returns 0 and its id, or a negative errno. */
static int insert_report(struct tkl_outbox *o, const struct tkl_notice *n, int64_t now,
                         sqlite3_int64 *ret_id)
{
    struct put_stmts s = {0};
    int r = put_stmts_get(o, &s);
    if (r == 0)
        r = insert_notice(o, s.notice, n, n->n_entries == 1, now, ret_id);
    for (size_t i = 0; r == 0 && i < n->n_entries; i++)
        r = insert_entry(s.entry, *ret_id, (int)i, &n->entries[i], NULL);
    put_stmts_done(&s);
    return r;
}

int tkl_outbox_put_report(struct tkl_outbox *o, const struct tkl_notice *const *reports,
                          size_t n_reports, const char *const *keys, size_t n_keys, int64_t now,
                          uint64_t *ret_id)
{
    bool own = false;
    sqlite3_int64 first = 0;
    if (!n_reports)
        return -EINVAL;
    int r = tkl_db_write_begin(o, &own);
    if (r < 0)
        return r;
    int logged = any_logged(o, keys, n_keys);
    if (logged != 0) {
        (void)tkl_db_write_end(o, own, 0); /* nothing written: the group stands */
        return logged > 0 ? -EEXIST : logged;
    }
    for (size_t i = 0; r == 0 && i < n_reports; i++) {
        sqlite3_int64 id = 0;
        r = insert_report(o, reports[i], now, &id);
        if (i == 0)
            first = id;
    }
    if (r == 0) {
        sqlite3_stmt *st = NULL;
        r = tkl_db_stmt(o, TKL_ST_PUT_LOG,
                        "INSERT INTO log(key, notice_id, created_at) VALUES(?,?,?)", &st);
        for (size_t i = 0; r == 0 && i < n_keys; i++)
            r = insert_log(st, keys[i], first, now);
        tkl_db_done(st);
    }
    if ((r = tkl_db_write_end(o, own, r)) < 0)
        return r;
    *ret_id = (uint64_t)first;
    return 0;
}
