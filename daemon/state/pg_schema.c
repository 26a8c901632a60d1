#include "pg_schema.h"
#include "pg_updates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlib/libpq.h"

/* Taken (pg_advisory_xact_lock) by the migration transaction; held to its
 * end. "tickler" in ASCII. */
#define MIGRATION_LOCK "126943345059186"

/* The numbered migrations: migrations[i] brings version i to i + 1. Each
 * is plpgsql statements, run inside a DO block only when the version is
 * below its number. Never edit one that has shipped: add the next. */
static const char *const migrations[] = {
    /* 1: the outbox, the notification log, the updates, meta, the nodes
     * and the leases */
    "CREATE TABLE meta(key text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE nodes(id text PRIMARY KEY, last_seen bigint NOT NULL);"
    "CREATE TABLE notices("
    "  id bigserial PRIMARY KEY,"
    "  channel text NOT NULL, recipient text NOT NULL,"
    "  team_id text, team_name text, thread_key text,"
    "  due_at bigint NOT NULL, created_at bigint NOT NULL,"
    "  state smallint NOT NULL DEFAULT 0, attempts integer NOT NULL DEFAULT 0,"
    "  next_attempt bigint NOT NULL, last_error text, finished_at bigint, intro text,"
    "  lease_node text, lease_until bigint);"
    "CREATE INDEX notices_due ON notices(channel, next_attempt, id) WHERE state = 0;"
    "CREATE INDEX notices_lease ON notices(lease_node) WHERE lease_node IS NOT NULL;"
    "CREATE TABLE entries("
    "  notice_id bigint NOT NULL REFERENCES notices(id) ON DELETE CASCADE,"
    "  idx integer NOT NULL,"
    "  item_id text NOT NULL, title text, commitment text, owners text,"
    "  deadline_text text, status text, progress text,"
    "  deadline_day integer, kind integer, stage integer, stage_key text,"
    "  days_left integer, late integer, category text, url text, answer text,"
    "  PRIMARY KEY(notice_id, idx));"
    "CREATE INDEX entries_item ON entries(item_id, stage, notice_id);"
    "CREATE TABLE log(key text PRIMARY KEY, notice_id bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE TABLE updates("
    "  id bigserial PRIMARY KEY,"
    "  action_id text NOT NULL, recipient text NOT NULL, team_id text,"
    "  kind integer NOT NULL, at bigint NOT NULL, link_issued_at bigint NOT NULL,"
    "  until_day integer, rag integer NOT NULL DEFAULT 0, note text, suggested_team text,"
    "  plan_deadline_day integer, plan_deadline_text text, plan_status text,"
    "  plan_owners text);"
    /* one row per update said against one plan, as the SQLite outbox */
    "CREATE UNIQUE INDEX updates_once_per_plan ON updates(action_id, recipient, kind,"
    "  link_issued_at, until_day, rag, coalesce(note, ''), coalesce(suggested_team, ''),"
    "  plan_deadline_day, coalesce(plan_status, ''),"
    "  (CASE kind WHEN 4 THEN coalesce(plan_owners, '') ELSE '' END)) NULLS NOT DISTINCT;"
    "CREATE INDEX updates_at ON updates(at);"
    "CREATE FUNCTION updates_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $f$ BEGIN RAISE EXCEPTION 'updates are append-only'; END $f$;"
    "CREATE TRIGGER updates_no_change BEFORE UPDATE OR DELETE ON updates"
    "  FOR EACH ROW EXECUTE FUNCTION updates_append_only();",
    /* 2: an update names the link's latest update that said something
     * else (0: none), and is one row per update said against one plan
     * after it: green, amber, green again is three updates */
    "ALTER TABLE updates ADD COLUMN after_id bigint NOT NULL DEFAULT 0;"
    /* each row recorded before: what it would have been recorded with */
    "ALTER TABLE updates DISABLE TRIGGER updates_no_change;"
    "UPDATE updates u SET after_id = coalesce((SELECT max(p.id) FROM updates p"
    "  WHERE p.action_id = u.action_id AND p.recipient = u.recipient"
    "  AND p.link_issued_at = u.link_issued_at AND p.id < u.id AND NOT (p.kind = u.kind"
    "  AND p.until_day IS NOT DISTINCT FROM u.until_day AND p.rag = u.rag"
    "  AND coalesce(p.note, '') = coalesce(u.note, '')"
    "  AND coalesce(p.suggested_team, '') = coalesce(u.suggested_team, '')"
    "  AND p.plan_deadline_day IS NOT DISTINCT FROM u.plan_deadline_day"
    "  AND coalesce(p.plan_status, '') = coalesce(u.plan_status, '')"
    "  AND (p.kind <> 4 OR coalesce(p.plan_owners, '') = coalesce(u.plan_owners, '')))), 0);"
    "ALTER TABLE updates ENABLE TRIGGER updates_no_change;"
    "DROP INDEX updates_once_per_plan;"
    "CREATE UNIQUE INDEX updates_once_after ON updates(action_id, recipient, kind,"
    "  link_issued_at, until_day, rag, coalesce(note, ''), coalesce(suggested_team, ''),"
    "  plan_deadline_day, coalesce(plan_status, ''),"
    "  (CASE kind WHEN 4 THEN coalesce(plan_owners, '') ELSE '' END), after_id)"
    "  NULLS NOT DISTINCT;",
    /* 3: a btree entry holds at most 2,704 bytes, and the plan's texts
     * (an id, a status, the owners), a log key holding an id and an
     * officer's note can be longer: the indexes that hold them hold their
     * MD5 instead */
    "ALTER TABLE log DROP CONSTRAINT log_pkey;"
    "CREATE UNIQUE INDEX log_key ON log(md5(key));"
    "DROP INDEX entries_item;"
    "CREATE INDEX entries_item ON entries(md5(item_id), stage, notice_id);"
    "DROP INDEX updates_once_after;"
    "CREATE UNIQUE INDEX updates_once_after ON updates(md5(action_id), md5(recipient), kind,"
    "  link_issued_at, until_day, rag, md5(coalesce(note, '')), md5(coalesce(suggested_team, '')),"
    "  plan_deadline_day, md5(coalesce(plan_status, '')),"
    "  md5(CASE kind WHEN 4 THEN coalesce(plan_owners, '') ELSE '' END), after_id)"
    "  NULLS NOT DISTINCT;",
    /* 4: an update may be a resume (kind 6), which a node of version 3
     * would not follow (it would go on holding what the resume ended):
     * this version keeps such a node off the database, and the kinds a
     * node of this version knows are the only ones taken */
    "ALTER TABLE updates ADD CONSTRAINT updates_kind CHECK (kind BETWEEN 1 AND 6);",
};

/* a new kind of update needs a migration of its own (4's check widened):
 * a node that does not know it must not take the database */
_Static_assert(TKL_UPDATE_RESUME == 6, "the kinds migration 4 takes are 1 to 6");
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == TKL_PG_SCHEMA_VERSION,
               "one migration per schema version");

#define ENTRY_COLUMNS                                                                              \
    "idx, item_id, title, commitment, owners, deadline_text, status, progress, deadline_day, "     \
    "kind, stage, stage_key, days_left, late, category, url, answer"

/* ch: the channels with pending notices, one index seek each (a
 * skip-scan of notices_due), not a scan of every pending notice */
#define PENDING_CHANNELS                                                                           \
    "WITH RECURSIVE ch(channel) AS ("                                                              \
    " (SELECT channel FROM notices WHERE state = 0 ORDER BY channel LIMIT 1)"                      \
    " UNION ALL SELECT (SELECT n.channel FROM notices n WHERE n.state = 0"                         \
    " AND n.channel > ch.channel ORDER BY n.channel LIMIT 1) FROM ch"                              \
    " WHERE ch.channel IS NOT NULL) "

static const struct {
    const char *name, *sql;
    int nparams;
} statements[] = {
    {TKL_PG_PUT_NOTICE,
     "WITH e AS (SELECT j, ord FROM jsonb_array_elements($10::jsonb) WITH ORDINALITY AS a(j, ord)),"
     " id AS (SELECT nextval('notices_id_seq') AS id),"
     " won AS (INSERT INTO log(key, notice_id, created_at)"
     "   SELECT e.j->>'key', id.id, $7::bigint FROM e, id ORDER BY e.ord"
     "   ON CONFLICT ((md5(key))) DO NOTHING RETURNING key),"
     " n AS (INSERT INTO notices(id, channel, recipient, team_id, team_name, thread_key, due_at,"
     "   created_at, next_attempt, intro)"
     "   SELECT id.id, $1, $2, $3, $4, CASE WHEN (SELECT count(*) FROM won) = 1 THEN $5 END,"
     "   $6::bigint, $7::bigint, $8::bigint, $9 FROM id"
     "   WHERE EXISTS (SELECT 1 FROM won) RETURNING id),"
     " ins AS (INSERT INTO entries(notice_id, " ENTRY_COLUMNS ")"
     "   SELECT n.id, (row_number() OVER (ORDER BY e.ord) - 1)::integer, e.j->>'item_id',"
     "   e.j->>'title', e.j->>'commitment', e.j->>'owners', e.j->>'deadline_text',"
     "   e.j->>'status', e.j->>'progress', (e.j->>'deadline_day')::integer,"
     "   (e.j->>'kind')::integer, (e.j->>'stage')::integer, e.j->>'stage_key',"
     "   (e.j->>'days_left')::integer, (e.j->>'late')::integer, e.j->>'category',"
     "   e.j->>'url', e.j->>'answer'"
     "   FROM n, e WHERE e.j->>'key' IN (SELECT key FROM won) RETURNING 1)"
     "SELECT (SELECT id FROM n) AS id, (SELECT count(*) FROM ins) AS entries",
     10},
    {TKL_PG_NOTIFY_QUEUED, "SELECT pg_notify('" TKL_PG_QUEUED_CHANNEL "', $1)", 1},
    {TKL_PG_CLAIM,
     "WITH c AS (SELECT id, lease_node AS was_node, lease_until AS was_until FROM notices"
     "   WHERE state = 0 AND channel = $1 AND next_attempt <= $2::bigint"
     "   AND (lease_until IS NULL OR lease_until <= $2::bigint)"
     "   ORDER BY next_attempt, id LIMIT $5::bigint FOR UPDATE SKIP LOCKED),"
     " u AS (UPDATE notices n SET lease_node = $3, lease_until = $2::bigint + $4::bigint"
     "   FROM c WHERE n.id = c.id RETURNING n.*, c.was_node, c.was_until)"
     "SELECT u.id, u.channel, u.recipient, u.team_id, u.team_name, u.thread_key, u.due_at,"
     " u.created_at, u.attempts, u.intro, e.idx, e.item_id, e.title, e.commitment, e.owners,"
     " e.deadline_text, e.status, e.progress, e.deadline_day, e.kind, e.stage, e.stage_key,"
     " e.days_left, e.late, e.category, e.url, e.answer, u.was_node, u.was_until"
     " FROM u JOIN entries e ON e.notice_id = u.id ORDER BY u.next_attempt, u.id, e.idx",
     5},
    {TKL_PG_RENEW,
     "UPDATE notices SET lease_until = $2::bigint + $3::bigint"
     " WHERE lease_node = $1 AND state = 0 AND id = ANY($4::bigint[]) RETURNING id",
     4},
    {TKL_PG_DELIVERED,
     "UPDATE notices SET state = 1, finished_at = $3::bigint, last_error = $4,"
     " attempts = attempts + 1, lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     4},
    {TKL_PG_FAILED,
     "UPDATE notices SET state = 2, finished_at = $3::bigint, last_error = $4,"
     " attempts = attempts + 1, lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     4},
    {TKL_PG_WITHDRAWN,
     "UPDATE notices SET state = 3, finished_at = $3::bigint, last_error = $4,"
     " lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     4},
    {TKL_PG_RETRY,
     "UPDATE notices SET next_attempt = $3::bigint, last_error = $4,"
     " attempts = attempts + 1, lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     4},
    {TKL_PG_WAIT,
     "UPDATE notices SET next_attempt = $3::bigint, last_error = $4,"
     " attempts = greatest(attempts, 1), lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     4},
    {TKL_PG_NODE_SEEN,
     "INSERT INTO nodes(id, last_seen) VALUES($1, $2::bigint)"
     " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
     2},
    {TKL_PG_RELEASE,
     "UPDATE notices SET lease_node = NULL, lease_until = NULL"
     " WHERE id = $1::bigint AND lease_node = $2 AND state = 0 RETURNING id",
     2},
    {TKL_PG_RECOVER,
     "UPDATE notices SET next_attempt = $2::bigint, lease_node = NULL, lease_until = NULL"
     " WHERE lease_node = $1 AND state = 0 RETURNING id",
     2},
    {TKL_PG_HASTEN,
     "UPDATE notices SET next_attempt = $2::bigint WHERE state = 0 AND attempts > 0"
     " AND channel = $1 AND next_attempt > $2::bigint AND lease_node IS NULL"
     " AND NOT (id = ANY($3::bigint[])) RETURNING id",
     3},
    /* the key an earlier version logged for its report to one recipient:
     * tkl_log_key("notice-<id>", TKL_NO_DAY, "failure-<id>-<created_at>",
     * channel, recipient), TKL_NO_DAY (INT32_MIN, part of the ABI)
     * written out */
    {TKL_PG_UNREPORTED,
     "SELECT n.id, n.created_at, coalesce(n.finished_at, 0), n.channel, n.recipient, n.team_id,"
     " n.team_name, n.last_error, (SELECT count(*) FROM entries e WHERE e.notice_id = n.id)"
     " FROM notices n CROSS JOIN LATERAL (SELECT 'failure-' || n.id || '-' || n.created_at AS key,"
     "   'notice-' || n.id || '|-2147483648|failure-' || n.id || '-' || n.created_at || '|' AS "
     "old) k"
     " WHERE n.state = 2"
     " AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.notice_id = n.id AND e.stage = $1::integer)"
     " AND NOT EXISTS (SELECT 1 FROM log l WHERE md5(l.key) = md5(k.key) AND l.key = k.key)"
     " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text($3::jsonb) AS t(r), log l"
     "   WHERE md5(l.key) = md5(k.old || t.r) AND l.key = k.old || t.r)"
     " ORDER BY n.finished_at, n.id LIMIT $2::bigint",
     3},
    {TKL_PG_PUT_REPORT,
     "WITH r AS MATERIALIZED (SELECT nextval('notices_id_seq') AS id, j, ord"
     "   FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(j, ord)),"
     " first AS (SELECT id FROM r ORDER BY ord LIMIT 1),"
     " n AS (INSERT INTO notices(id, channel, recipient, team_id, team_name, due_at,"
     "   created_at, next_attempt, intro)"
     "   SELECT id, j->>'channel', j->>'recipient', j->>'team_id', j->>'team_name', $3::bigint,"
     "   $3::bigint, $3::bigint, j->>'intro' FROM r RETURNING id),"
     " ins AS (INSERT INTO entries(notice_id, " ENTRY_COLUMNS ")"
     "   SELECT r.id, (e.ord - 1)::integer, e.j->>'item_id',"
     "   e.j->>'title', e.j->>'commitment', e.j->>'owners', e.j->>'deadline_text',"
     "   e.j->>'status', e.j->>'progress', (e.j->>'deadline_day')::integer,"
     "   (e.j->>'kind')::integer, (e.j->>'stage')::integer, e.j->>'stage_key',"
     "   (e.j->>'days_left')::integer, (e.j->>'late')::integer, e.j->>'category',"
     "   e.j->>'url', e.j->>'answer'"
     "   FROM r, jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(j, ord) RETURNING 1),"
     " l AS (INSERT INTO log(key, notice_id, created_at)"
     "   SELECT k, first.id, $3::bigint FROM jsonb_array_elements_text($4::jsonb) AS k(k), first"
     "   RETURNING 1)"
     "SELECT (SELECT id FROM first), (SELECT count(*) FROM n), (SELECT count(*) FROM ins),"
     " (SELECT count(*) FROM l)",
     4},
    {TKL_PG_RELEASE_STRAY,
     "UPDATE notices SET lease_node = NULL, lease_until = NULL"
     " WHERE lease_node = $1 AND state = 0 AND NOT (id = ANY($2::bigint[])) RETURNING id",
     2},
    {TKL_PG_DUE_CHANNELS,
     PENDING_CHANNELS
     "SELECT channel FROM ch WHERE channel IS NOT NULL AND EXISTS (SELECT 1"
     " FROM notices n WHERE n.state = 0 AND n.channel = ch.channel"
     " AND n.next_attempt <= $1::bigint AND (n.lease_until IS NULL OR n.lease_until <= $1::bigint))"
     " ORDER BY channel",
     1},
    /* a notice is leased (lease_node and lease_until set) or not (both
     * NULL): unleased, its next attempt, the first of its channel in the
     * index; leased by another node, not before its lease ends */
    {TKL_PG_NEXT_ATTEMPT,
     PENDING_CHANNELS
     "SELECT least((SELECT min(x.next_attempt) FROM ch CROSS JOIN LATERAL"
     " (SELECT n.next_attempt FROM notices n WHERE n.state = 0 AND n.channel = ch.channel"
     " AND n.lease_until IS NULL ORDER BY n.next_attempt LIMIT 1) x),"
     " (SELECT min(greatest(next_attempt, lease_until)) FROM notices"
     " WHERE state = 0 AND lease_node IS NOT NULL AND lease_node <> $1))",
     1},
    {TKL_PG_META_GET, "SELECT value FROM meta WHERE key = $1", 1},
    {TKL_PG_OUTBOX_VIEW,
     "WITH s AS (SELECT count(*) FILTER (WHERE state = 0 AND attempts = 0) AS pending,"
     " count(*) FILTER (WHERE state = 0 AND attempts > 0) AS retrying,"
     " count(*) FILTER (WHERE state = 2) AS failed,"
     " count(*) FILTER (WHERE state = 1 AND finished_at >= $1::bigint) AS today,"
     " count(*) FILTER (WHERE state = 1) AS delivered,"
     " min(next_attempt) FILTER (WHERE state = 0) AS next_attempt,"
     " min(created_at) FILTER (WHERE state = 0) AS oldest,"
     " count(*) FILTER (WHERE state = 3) AS withdrawn FROM notices),"
     " r AS ((SELECT 0 AS k, * FROM notices WHERE state = 2 ORDER BY id DESC LIMIT $3::bigint)"
     " UNION ALL (SELECT 1, * FROM notices WHERE state = 0 AND attempts > 0"
     "   ORDER BY id DESC LIMIT $3::bigint)"
     " UNION ALL (SELECT 2, * FROM notices WHERE state = 0 AND attempts = 0"
     "   ORDER BY id DESC LIMIT $3::bigint))"
     "SELECT s.*, r.id, r.channel, r.recipient, r.team_id, r.team_name, r.last_error, r.state,"
     " r.attempts, r.due_at, r.created_at, r.next_attempt,"
     " (SELECT count(*) FROM entries e WHERE e.notice_id = r.id),"
     " CASE WHEN r.lease_until > $2::bigint THEN r.lease_node END,"
     " CASE WHEN r.lease_until > $2::bigint THEN r.lease_until END"
     " FROM s LEFT JOIN r ON true ORDER BY r.k, r.id DESC",
     3},
    /* entries_item leads with the item_id's MD5: no scan of the entries */
    {TKL_PG_ITEM_HISTORY,
     "SELECT e.item_id, n.id, n.channel, n.recipient, n.team_id, n.team_name, min(e.stage_key),"
     " n.state, n.attempts, coalesce(n.lease_until > $5::bigint, false), n.created_at,"
     " n.finished_at FROM entries e JOIN notices n ON n.id = e.notice_id"
     " WHERE md5(e.item_id) = md5($1) AND e.item_id = $1"
     " AND e.stage NOT IN ($2::integer, $3::integer, $6::integer)"
     " GROUP BY n.id, e.item_id ORDER BY n.id DESC LIMIT $4::bigint",
     6},
    {TKL_PG_LAST_NOTICES,
     "SELECT DISTINCT ON (e.item_id COLLATE \"C\") e.item_id, n.id, n.channel, n.recipient,"
     " n.team_id, n.team_name, e.stage_key, n.state, n.attempts,"
     " coalesce(n.lease_until > $2::bigint, false), n.created_at, n.finished_at"
     " FROM entries e JOIN notices n ON n.id = e.notice_id"
     " WHERE e.stage NOT IN ($1::integer, $3::integer, $4::integer)"
     " ORDER BY e.item_id COLLATE \"C\", n.id DESC, e.idx",
     4},
    {TKL_PG_META_SET,
     "INSERT INTO meta(key, value) VALUES($1, $2::bigint)"
     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
     2},
};

/* officers' updates (pg_schema.h) */

/* FNV-1a, 32 bits, of the n bytes of p, continuing from h. */
static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

int32_t tkl_pg_update_lock(const char *action_id)
{
    return (int32_t)(fnv1a(2166136261u, action_id, strlen(action_id)) & 0x7fffffffu);
}

/* Of the link of TKL_PG_ADD_UPDATE's parameters (its action, recipient
 * and issue time), a row, and a row recording what the update does: the
 * columns of updates_once_after but after_id (as the SQLite outbox's) */
#define PG_SAME_LINK "action_id = $1 AND recipient = $2 AND link_issued_at = $6::bigint"
#define PG_SAME_UPDATE                                                                             \
    TKL_UPDATE_SAME_SQL("", "IS NOT DISTINCT FROM", "$4::integer", "$7::integer", "$8::integer",   \
                        "$9", "$10", "$11::integer", "$13", "$14")
/* the same for TKL_PG_LINK_UPDATES: the link $1 to $3, then what the
 * update does, $4 to $11, and its team, $12 */
#define LINK_SAME_LINK "action_id = $1 AND recipient = $2 AND link_issued_at = $3::bigint"
#define LINK_SAME_UPDATE                                                                           \
    TKL_UPDATE_SAME_SQL("", "IS NOT DISTINCT FROM", "$4::integer", "$5::integer", "$6::integer",   \
                        "$7", "$8", "$9::integer", "$10", "$11")
/* the id of the link's latest row saying something else, of the action's
 * latest turning what it does the other way (any link,
 * TKL_UPDATE_TOGGLES_SQL), or of its latest snooze, progress note or
 * team's "not ours" through another link saying something else
 * (TKL_UPDATE_ANSWERED_SQL),
 * or 0 */
#define PG_AFTER_ID                                                                                \
    "(SELECT coalesce(max(id), 0) FROM updates WHERE (" PG_SAME_LINK " AND NOT (" PG_SAME_UPDATE   \
    ")) OR " TKL_UPDATE_TOGGLES_SQL(                                                               \
        "$1", "$4::integer", "$3",                                                                 \
        "IS NOT DISTINCT FROM") " OR " TKL_UPDATE_ANSWERED_SQL("$1", "$4::integer", "$3",          \
                                                               "IS NOT DISTINCT FROM",             \
                                                               PG_SAME_LINK, PG_SAME_UPDATE) ")"

static const struct {
    const char *name, *sql;
    int nparams;
} update_statements[] = {
    /* inserted unless updates_once_after finds it: then the link's latest
     * row recording the same (the one found: no row saying something else
     * follows it) */
    {TKL_PG_ADD_UPDATE,
     "WITH ins AS (INSERT INTO updates(" TKL_PG_UPDATE_COLUMNS ", after_id)"
     "   VALUES($1, $2, $3, $4::integer, $5::bigint, $6::bigint, $7::integer, $8::integer, $9,"
     "   $10, $11::integer, $12, $13, $14, " PG_AFTER_ID ") ON CONFLICT DO NOTHING RETURNING id)"
     "SELECT id, true FROM ins UNION ALL"
     " (SELECT id, false FROM updates WHERE NOT EXISTS (SELECT 1 FROM ins)"
     " AND " PG_SAME_LINK " AND " PG_SAME_UPDATE " ORDER BY id DESC LIMIT 1)",
     14},
    {TKL_PG_LOCK_UPDATES,
     "SELECT count(pg_advisory_xact_lock(" TKL_PG_UPDATE_LOCK_CLASS ", k))"
     " FROM unnest($1::integer[]) AS k",
     1},
    {TKL_PG_NOTIFY_UPDATED, "SELECT pg_notify('" TKL_PG_UPDATED_CHANNEL "', $1)", 1},
    {TKL_PG_UPDATES,
     "SELECT id, " TKL_PG_UPDATE_COLUMNS " FROM updates WHERE at >= $1::bigint AND at < $2::bigint"
     " AND ($3::text IS NULL OR action_id = $3) ORDER BY id",
     3},
    /* the updates of a link less the one TKL_PG_ADD_UPDATE would find the
     * update given to be (the same search, its parameters numbered
     * LINK_SAME_* here) */
    {TKL_PG_LINK_UPDATES,
     "SELECT count(*) FROM updates WHERE " LINK_SAME_LINK " AND NOT (" LINK_SAME_UPDATE
     " AND after_id = (SELECT coalesce(max(id), 0) FROM updates WHERE (" LINK_SAME_LINK
     " AND NOT (" LINK_SAME_UPDATE ")) OR " TKL_UPDATE_TOGGLES_SQL(
         "$1", "$4::integer", "$12",
         "IS NOT DISTINCT FROM") " OR " TKL_UPDATE_ANSWERED_SQL("$1", "$4::integer", "$12",
                                                                "IS NOT DISTINCT FROM",
                                                                LINK_SAME_LINK,
                                                                LINK_SAME_UPDATE) "))",
     12},
    {TKL_PG_UPDATES_VERSION, "SELECT count(*) FROM updates", 0},
};

struct migration {
    tkl_pg_schema_cb cb;
    void *data;
};

static void migrated(void *data, int r, const PGresult *const *results, size_t n)
{
    struct migration *m = data;
    int version = 0;
    if (r == 0) {
        const PGresult *last = results[n - 1];
        if (sym_PQntuples(last) != 1 || sym_PQgetisnull(last, 0, 0))
            r = -EPROTO;
        else
            version = (int)strtol(sym_PQgetvalue(last, 0, 0), NULL, 10);
        if (r == 0 && version > TKL_PG_SCHEMA_VERSION)
            r = -EPROTO;
    }
    m->cb(m->data, r, version);
    free(m);
}

int tkl_pg_schema_migrate(struct tkl_pg *pg, tkl_pg_schema_cb cb, void *data)
{
    enum { N = TKL_PG_SCHEMA_VERSION };
    struct tkl_pg_stmt stmts[N + 3] = {
        {.sql = "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")"},
        {.sql = "CREATE TABLE IF NOT EXISTS tickler_schema_version("
                "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"},
    };
    char *blocks[N] = {0};
    int r = 0;
    if (!pg || !cb)
        return -EINVAL;
    struct migration *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->cb = cb;
    m->data = data;
    for (int i = 0; i < N; i++) {
        if (asprintf(&blocks[i],
                     "DO $tickler_migration$ BEGIN "
                     "IF (SELECT coalesce(max(version), 0) FROM tickler_schema_version) < %d "
                     "THEN %s INSERT INTO tickler_schema_version(version) VALUES (%d); "
                     "END IF; END $tickler_migration$",
                     i + 1, migrations[i], i + 1) < 0) {
            blocks[i] = NULL;
            r = -ENOMEM;
            goto out;
        }
        stmts[2 + i].sql = blocks[i];
    }
    stmts[N + 2].sql = "SELECT coalesce(max(version), 0) FROM tickler_schema_version";
    r = tkl_pg_transaction(pg, stmts, N + 3, migrated, m);
out:
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    if (r < 0)
        free(m);
    return r;
}

int tkl_pg_schema_prepare(struct tkl_pg *pg)
{
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
        int r = tkl_pg_prepare(pg, statements[i].name, statements[i].sql, statements[i].nparams);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < sizeof(update_statements) / sizeof(update_statements[0]); i++) {
        int r = tkl_pg_prepare(pg, update_statements[i].name, update_statements[i].sql,
                               update_statements[i].nparams);
        if (r < 0)
            return r;
    }
    return 0;
}
