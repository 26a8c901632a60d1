#include "dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outbox_db.h"

/* Each table's rows as one JSON array (SQLite's json_group_array), with
 * its count. The columns are those of the PostgreSQL schema's tables of
 * the same name (state/pg_schema.c), whose row types read them back. */
static const char *const queries[] = {
    "SELECT json_group_array(json_object('key', key, 'value', value)), count(*) FROM meta",
    "SELECT json_group_array(json_object('id', id, 'channel', channel, 'recipient', recipient,"
    " 'team_id', team_id, 'team_name', team_name, 'thread_key', thread_key, 'due_at', due_at,"
    " 'created_at', created_at, 'state', state, 'attempts', attempts,"
    " 'next_attempt', next_attempt, 'last_error', last_error, 'finished_at', finished_at,"
    " 'intro', intro)), count(*), coalesce(sum(state = 0), 0),"
    " coalesce(sum(state = 0 AND sending <> 0), 0) FROM notices",
    "SELECT json_group_array(json_object('notice_id', notice_id, 'idx', idx, 'item_id', item_id,"
    " 'title', title, 'commitment', commitment, 'owners', owners,"
    " 'deadline_text', deadline_text, 'status', status, 'progress', progress,"
    " 'deadline_day', deadline_day, 'kind', kind, 'stage', stage, 'stage_key', stage_key,"
    " 'days_left', days_left, 'late', late, 'category', category, 'url', url,"
    " 'answer', answer)), count(*) FROM entries",
    "SELECT json_group_array(json_object('key', key, 'notice_id', notice_id,"
    " 'created_at', created_at)), count(*) FROM log",
    "SELECT json_group_array(json_object('id', id, 'action_id', action_id,"
    " 'recipient', recipient, 'team_id', team_id, 'kind', kind, 'at', at,"
    " 'link_issued_at', link_issued_at, 'until_day', until_day, 'rag', rag, 'note', note,"
    " 'suggested_team', suggested_team, 'plan_deadline_day', plan_deadline_day,"
    " 'plan_deadline_text', plan_deadline_text, 'plan_status', plan_status,"
    " 'plan_owners', plan_owners, 'after_id', after_id)), count(*) FROM updates",
};

static void dump_free(struct tkl_outbox_dump *e)
{
    free(e->meta);
    free(e->notices);
    free(e->entries);
    free(e->log);
    free(e->updates);
    *e = (struct tkl_outbox_dump){0};
}

/* Runs query i into *json and *n (and the notices' extra counts). */
static int dump_table(struct tkl_outbox *o, size_t i, char **json, int64_t *n,
                      struct tkl_outbox_dump *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(o->db, queries[i], -1, &st, NULL);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    int r = 0;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -EIO : tkl_sqlite_errno(rc);
        goto out;
    }
    bool oom = false;
    *json = tkl_db_col_dup(st, 0, &oom);
    if (!*json) {
        r = oom ? -ENOMEM : -EIO;
        goto out;
    }
    *n = sqlite3_column_int64(st, 1);
    if (json == &e->notices) {
        e->n_pending = sqlite3_column_int64(st, 2);
        e->n_sending = sqlite3_column_int64(st, 3);
    }
out:
    sqlite3_finalize(st);
    return r;
}

int tkl_outbox_dump_begin(struct tkl_outbox *o, struct tkl_outbox_dump *ret)
{
    struct tkl_outbox_dump e = {0};
    if (!o || !ret || o->group_open)
        return -EINVAL;
    /* a daemon writing now holds the lock: say so at once, not after a wait */
    sqlite3_busy_timeout(o->db, 0);
    int rc = sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(o->db, o->busy_ms);
    if (rc != SQLITE_OK)
        return tkl_sqlite_errno(rc);
    int64_t moved = 0;
    int r = tkl_outbox_get_meta(o, TKL_OUTBOX_MOVED_AT, &moved);
    if (r == 0)
        r = -EALREADY;
    else if (r == -ENOENT)
        r = 0;
    char **json[] = {&e.meta, &e.notices, &e.entries, &e.log, &e.updates};
    int64_t *count[] = {&e.n_meta, &e.n_notices, &e.n_entries, &e.n_log, &e.n_updates};
    for (size_t i = 0; r == 0 && i < sizeof(queries) / sizeof(queries[0]); i++)
        r = dump_table(o, i, json[i], count[i], &e);
    if (r < 0) {
        dump_free(&e);
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    *ret = e;
    return 0;
}

int tkl_outbox_dump_end(struct tkl_outbox *o, struct tkl_outbox_dump *e, int64_t moved_at)
{
    int r = 0;
    dump_free(e);
    if (moved_at > 0) {
        sqlite3_stmt *st = NULL;
        r = tkl_db_stmt(o, TKL_ST_SET_META, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
                        &st);
        if (r == 0) {
            sqlite3_bind_text(st, 1, TKL_OUTBOX_MOVED_AT, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, moved_at);
            int rc = sqlite3_step(st);
            r = rc == SQLITE_DONE ? 0 : tkl_sqlite_errno(rc);
            tkl_db_done(st);
        }
        if (r == 0) {
            int rc = sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL);
            if (rc == SQLITE_OK)
                return 0;
            r = tkl_sqlite_errno(rc);
        }
    }
    sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}
