#include "updates.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outbox_db.h"

/* the schema's unique index and find_same name "not ours" by its number */
_Static_assert(TKL_UPDATE_NOT_OURS == 4, "kind 4 is \"not ours\" in the SQL");

#define UPDATE_COLUMNS                                                                             \
    "action_id, recipient, team_id, kind, at, link_issued_at, until_day, rag, note, "              \
    "suggested_team, plan_deadline_day, plan_deadline_text, plan_status, plan_owners"

/* Binds the day, or NULL for TKL_NO_DAY. */
static void bind_day(sqlite3_stmt *st, int i, int32_t day)
{
    if (day == TKL_NO_DAY)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int(st, i, day);
}

static void bind_update(sqlite3_stmt *st, const struct tkl_update *u)
{
    tkl_db_bind_text(st, 1, u->action_id);
    tkl_db_bind_text(st, 2, u->recipient);
    tkl_db_bind_text(st, 3, u->team_id);
    sqlite3_bind_int(st, 4, (int)u->kind);
    sqlite3_bind_int64(st, 5, u->at);
    sqlite3_bind_int64(st, 6, u->link_issued_at);
    bind_day(st, 7, u->until_day);
    sqlite3_bind_int(st, 8, (int)u->rag);
    tkl_db_bind_text(st, 9, u->note);
    tkl_db_bind_text(st, 10, u->suggested_team);
    bind_day(st, 11, u->plan_deadline_day);
    tkl_db_bind_text(st, 12, u->plan_deadline_text);
    tkl_db_bind_text(st, 13, u->plan_status);
    tkl_db_bind_text(st, 14, u->plan_owners);
}

/* A row of the link bound by bind_update (its action, recipient and issue
 * time), and of that link a row recording what the bound update does; the
 * id of the link's latest row saying something else, of the action's
 * latest row turning what it does the other way through any link
 * (TKL_UPDATE_TOGGLES_SQL), or of its latest snooze, progress note or
 * team's "not ours" through another link saying something else
 * (TKL_UPDATE_ANSWERED_SQL;
 * 0: none), which the bound update follows: with it, the columns of
 * updates_once_after */
#define SAME_LINK "action_id = ?1 AND recipient = ?2 AND link_issued_at = ?6"
#define SAME_UPDATE                                                                                \
    TKL_UPDATE_SAME_SQL("", "IS", "?4", "?7", "?8", "?9", "?10", "?11", "?13", "?14")
#define AFTER_ID                                                                                   \
    "(SELECT coalesce(max(id), 0) FROM updates WHERE (" SAME_LINK " AND NOT (" SAME_UPDATE         \
    ")) OR " TKL_UPDATE_TOGGLES_SQL("?1", "?4", "?3", "IS") " OR " TKL_UPDATE_ANSWERED_SQL(        \
        "?1", "?4", "?3", "IS", SAME_LINK, SAME_UPDATE) ")"

/* The id of the row that records what u does (see tkl_outbox_add_update),
 * in *ret_id: the link's latest such row (the one the unique index found,
 * as no row saying something else follows it). Returns 0, -ENOENT or a
 * negative errno. */
static int find_same(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret_id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db,
                                "SELECT id FROM updates WHERE " SAME_LINK " AND " SAME_UPDATE
                                " ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    bind_update(st, u);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : tkl_sqlite_errno(rc);
}

/* The insert of tkl_outbox_add_update, in the write begun. */
static int add_update(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret_id,
                      bool *ret_new)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(o->db,
                           "INSERT OR IGNORE INTO updates(" UPDATE_COLUMNS ", after_id) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14," AFTER_ID ")",
                           -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    bind_update(st, u);
    rc = sqlite3_step(st);
    bool inserted = rc == SQLITE_DONE && sqlite3_changes(o->db) == 1;
    int64_t id = inserted ? sqlite3_last_insert_rowid(o->db) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return tkl_sqlite_errno(rc);
    /* ignored: the unique index found the same update */
    int r;
    if (!inserted && (r = find_same(o, u, &id)) < 0)
        return r == -ENOENT ? -EIO : r;
    *ret_id = id;
    *ret_new = inserted;
    return 0;
}

int tkl_outbox_add_update(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret_id,
                          bool *ret_new)
{
    int r = tkl_update_check(u);
    if (r < 0)
        return r;
    bool own = false;
    if ((r = tkl_db_write_begin(o, &own)) < 0)
        return r;
    return tkl_db_write_end(o, own, add_update(o, u, ret_id, ret_new));
}

int tkl_outbox_link_updates(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db,
                                "SELECT count(*) FROM updates WHERE " SAME_LINK
                                " AND NOT (" SAME_UPDATE " AND after_id = " AFTER_ID ")",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    bind_update(st, u);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : tkl_sqlite_errno(rc);
}

static int32_t col_day(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? TKL_NO_DAY : sqlite3_column_int(st, i);
}

/* Reads st's current row into *u. Returns 0 or -ENOMEM (then u holds what
 * was copied, for tkl_update_free). */
static int read_update(sqlite3_stmt *st, struct tkl_update *u)
{
    bool oom = false;
    *u = (struct tkl_update){.id = sqlite3_column_int64(st, 0)};
    u->action_id = tkl_db_col_dup(st, 1, &oom);
    u->recipient = tkl_db_col_dup(st, 2, &oom);
    u->team_id = tkl_db_col_dup(st, 3, &oom);
    u->kind = (enum tkl_update_kind)sqlite3_column_int(st, 4);
    u->at = sqlite3_column_int64(st, 5);
    u->link_issued_at = sqlite3_column_int64(st, 6);
    u->until_day = col_day(st, 7);
    u->rag = (enum tkl_rag)sqlite3_column_int(st, 8);
    u->note = tkl_db_col_dup(st, 9, &oom);
    u->suggested_team = tkl_db_col_dup(st, 10, &oom);
    u->plan_deadline_day = col_day(st, 11);
    u->plan_deadline_text = tkl_db_col_dup(st, 12, &oom);
    u->plan_status = tkl_db_col_dup(st, 13, &oom);
    u->plan_owners = tkl_db_col_dup(st, 14, &oom);
    return oom || !u->action_id || !u->recipient ? -ENOMEM : 0;
}

/* Appends st's current row to l. Returns 0 or -ENOMEM. */
static int append_row(sqlite3_stmt *st, struct tkl_updates *l, size_t *cap)
{
    if (l->n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct tkl_update *v = realloc(l->v, c * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        *cap = c;
    }
    int r = read_update(st, &l->v[l->n]);
    if (r < 0)
        tkl_update_free(&l->v[l->n]);
    else
        l->n++;
    return r;
}

int tkl_outbox_updates(struct tkl_outbox *o, const char *action_id, int64_t since, int64_t until,
                       struct tkl_updates *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db,
                                "SELECT id, " UPDATE_COLUMNS " FROM updates "
                                "WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR action_id = ?3) "
                                "ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, until);
    tkl_db_bind_text(st, 3, action_id);
    struct tkl_updates l = {0};
    size_t cap = 0;
    int r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (r = append_row(st, &l, &cap)) == 0)
        ;
    if (r == 0 && rc != SQLITE_DONE)
        r = tkl_sqlite_errno(rc);
    sqlite3_finalize(st);
    if (r < 0) {
        tkl_updates_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

int tkl_outbox_updates_version(struct tkl_outbox *o, int64_t *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db, "SELECT coalesce(max(id), 0) FROM updates", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : tkl_sqlite_errno(rc);
}
