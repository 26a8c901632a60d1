/* daemon/state/pg_schema.c against a real PostgreSQL 15 (the ctest
 * fixture): the migration, and each core operation's statement, with two
 * connections where two nodes could meet. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "check_run.h"
#include "loop_wait.h"
#include "pg_fixture.h"
#include "state/pg.h"
#include "state/pg_schema.h"
#include "tmpdir.h"

static char dir[256];
static const char *conninfo;
static uv_loop_t loop;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "pg-schema");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    conninfo = tkl_pg_fixture_db(dir, "t_schema");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

struct node {
    struct tkl_pg *pg;
    int connected;
    int notifies;
    char payload[64];
};

static void on_state(void *data, bool connected)
{
    if (connected)
        ((struct node *)data)->connected++;
}

static void on_notify(void *data, const char *channel, const char *payload)
{
    struct node *n = data;
    if (strcmp(channel, TKL_PG_QUEUED_CHANNEL) == 0) {
        n->notifies++;
        snprintf(n->payload, sizeof(n->payload), "%s", payload);
    }
}

/* A connection, not migrated. */
static void open_node(struct node *n)
{
    struct tkl_pg_options o = {
        .conninfo_file = conninfo, .on_state = on_state, .on_notify = on_notify, .data = n};
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &n->pg), 0);
    ck_assert(tkl_run_until_count(&loop, &n->connected, 1));
}

struct migrated {
    int calls, r, version;
};

static void on_migrated(void *data, int r, int version)
{
    struct migrated *m = data;
    m->calls++;
    m->r = r;
    m->version = version;
}

/* A connection to the migrated database, its statements prepared. */
static void start_node(struct node *n)
{
    open_node(n);
    struct migrated m = {0};
    ck_assert_int_eq(tkl_pg_schema_migrate(n->pg, on_migrated, &m), 0);
    ck_assert(tkl_run_until_count(&loop, &m.calls, 1));
    ck_assert_int_eq(m.r, 0);
    ck_assert_int_eq(m.version, TKL_PG_SCHEMA_VERSION);
    ck_assert_int_eq(tkl_pg_schema_prepare(n->pg), 0);
}

static void finish(struct node *a, struct node *b)
{
    tkl_pg_close(a->pg);
    if (b)
        tkl_pg_close(b->pg);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}

/* A statement's rows: column 0 of each, joined by ','. */
struct rows {
    int calls, r, n;
    char ids[1024];
    char items[1024]; /* with TKL_PG_CLAIM: "id:item_id" per row */
};

static void on_rows(void *data, int r, const PGresult *res)
{
    struct rows *w = data;
    w->calls++;
    w->r = r;
    if (r < 0)
        return;
    w->n = PQntuples(res);
    for (int i = 0; i < w->n; i++) {
        size_t len = strlen(w->ids);
        snprintf(w->ids + len, sizeof(w->ids) - len, "%s%s", i ? "," : "",
                 PQgetisnull(res, i, 0) ? "null" : PQgetvalue(res, i, 0));
        if (PQnfields(res) > 11) {
            len = strlen(w->items);
            snprintf(w->items + len, sizeof(w->items) - len, "%s%s:%s", i ? "," : "",
                     PQgetvalue(res, i, 0), PQgetvalue(res, i, 11));
        }
    }
}

static void run(struct node *n, const char *name, int nparams, const char *const *params,
                struct rows *w)
{
    struct tkl_pg_stmt st = {.prepared = name, .nparams = nparams, .params = params};
    ck_assert_int_eq(tkl_pg_query(n->pg, &st, on_rows, w), 0);
}

/* Runs a statement and waits for its rows. */
static void run_wait(struct node *n, const char *name, int nparams, const char *const *params,
                     struct rows *w)
{
    run(n, name, nparams, params, w);
    ck_assert(tkl_run_until_count(&loop, &w->calls, 1));
    ck_assert_msg(w->r == 0, "%s: %d", name, w->r);
}

/* The put's parameters for a notice on channel to r@x with the entries
 * keyed keys (comma-separated), due at due. */
struct put {
    char due[24], entries[2048];
    const char *params[10];
};

static const char *const *put_params(struct put *p, const char *channel, const char *keys,
                                     long long due)
{
    snprintf(p->due, sizeof(p->due), "%lld", due);
    size_t len = 0;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", keys);
    len += (size_t)snprintf(p->entries, sizeof(p->entries), "[");
    int i = 0;
    for (char *save = NULL, *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        i++;
        len += (size_t)snprintf(p->entries + len, sizeof(p->entries) - len,
                                "%s{\"key\":\"%s\",\"item_id\":\"A%d\",\"title\":\"Item %s\","
                                "\"stage\":%d,\"deadline_day\":20000}",
                                i > 1 ? "," : "", k, i, k, i);
    }
    snprintf(p->entries + len, sizeof(p->entries) - len, "]");
    const char *v[10] = {channel, "r@x",  "t1",   "Team", NULL,
                         p->due,  p->due, p->due, NULL,   p->entries};
    memcpy(p->params, v, sizeof(v));
    return p->params;
}

START_TEST(migrates_once_and_again_to_the_same_version)
{
    struct node a = {0}, b = {0};
    open_node(&a);
    open_node(&b);
    /* two nodes starting together: the lock makes one apply it */
    struct migrated ma = {0}, mb = {0};
    ck_assert_int_eq(tkl_pg_schema_migrate(a.pg, on_migrated, &ma), 0);
    ck_assert_int_eq(tkl_pg_schema_migrate(b.pg, on_migrated, &mb), 0);
    ck_assert(tkl_run_until_count(&loop, &ma.calls, 1));
    ck_assert(tkl_run_until_count(&loop, &mb.calls, 1));
    ck_assert_int_eq(ma.r, 0);
    ck_assert_int_eq(mb.r, 0);
    ck_assert_int_eq(ma.version, TKL_PG_SCHEMA_VERSION);
    ck_assert_int_eq(mb.version, TKL_PG_SCHEMA_VERSION);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM tickler_schema_version"),
                     TKL_PG_SCHEMA_VERSION);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM information_schema.tables"
                                             " WHERE table_schema = 'public' AND table_name IN"
                                             " ('meta', 'nodes', 'notices', 'entries', 'log',"
                                             " 'updates')"),
                     6);
    /* updates are append-only */
    PQclear(tkl_pg_fixture_exec(c, "INSERT INTO updates(action_id, recipient, kind, at,"
                                   " link_issued_at) VALUES ('A1', 'r@x', 1, 5, 4)"));
    PGresult *res = PQexec(c, "UPDATE updates SET note = 'x'");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(res), "append-only"));
    PQclear(res);
    res = PQexec(c, "INSERT INTO updates(action_id, recipient, kind, at, link_issued_at)"
                    " VALUES ('A1', 'r@x', 1, 6, 4)");
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505");
    PQclear(res);
    /* a database of a later version is refused */
    PQclear(tkl_pg_fixture_exec(c, "INSERT INTO tickler_schema_version(version) VALUES (99)"));
    PQfinish(c);
    struct migrated later = {0};
    ck_assert_int_eq(tkl_pg_schema_migrate(a.pg, on_migrated, &later), 0);
    ck_assert(tkl_run_until_count(&loop, &later.calls, 1));
    ck_assert_int_eq(later.r, -EPROTO);
    ck_assert_int_eq(later.version, 99);
    finish(&a, &b);
}
END_TEST

/* A database of version 3, whose updates a resume (kind 6) may be
 * among, is brought to this version, its rows kept: a node of version 3
 * (which would not follow a resume) refuses it from then on, and an
 * update of a kind this version does not know is refused. */
START_TEST(a_version_3_database_is_migrated_and_takes_only_known_kinds)
{
    struct node a = {0};
    start_node(&a);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    PQclear(tkl_pg_fixture_exec(
        c, "ALTER TABLE updates DROP CONSTRAINT updates_kind;"
           " DELETE FROM tickler_schema_version WHERE version > 3;"
           " INSERT INTO updates(action_id, recipient, kind, at, link_issued_at)"
           " VALUES ('A1', 'r@x', 2, 5, 4), ('A1', 'r@x', 6, 6, 4)"));
    struct migrated m = {0};
    ck_assert_int_eq(tkl_pg_schema_migrate(a.pg, on_migrated, &m), 0);
    ck_assert(tkl_run_until_count(&loop, &m.calls, 1));
    ck_assert_int_eq(m.r, 0);
    ck_assert_int_eq(m.version, TKL_PG_SCHEMA_VERSION);
    ck_assert_int_ge(TKL_PG_SCHEMA_VERSION, 4); /* what a node of version 3 refuses */
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM updates WHERE kind = 6"), 1);
    PGresult *res = PQexec(c, "INSERT INTO updates(action_id, recipient, kind, at,"
                              " link_issued_at) VALUES ('A1', 'r@x', 7, 7, 4)");
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514"); /* check_violation */
    PQclear(res);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM updates"), 2);
    PQfinish(c);
    finish(&a, NULL);
}
END_TEST

/* A database of version 1 (its updates without after_id, one row per
 * update said against one plan; the texts themselves in its indexes) is
 * brought to this version, its rows kept. */
START_TEST(a_version_1_database_is_migrated)
{
    struct node a = {0};
    start_node(&a);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    PQclear(tkl_pg_fixture_exec(
        c, "DROP INDEX log_key; ALTER TABLE log ADD PRIMARY KEY (key);"
           " DROP INDEX entries_item; CREATE INDEX entries_item ON entries(item_id, stage,"
           " notice_id);"
           " INSERT INTO log(key, notice_id, created_at) VALUES ('k1', 1, 1);"
           " DROP INDEX updates_once_after; ALTER TABLE updates DROP COLUMN after_id;"
           " CREATE UNIQUE INDEX updates_once_per_plan ON updates(action_id, recipient, kind,"
           " link_issued_at, until_day, rag, coalesce(note, ''), coalesce(suggested_team, ''),"
           " plan_deadline_day, coalesce(plan_status, ''),"
           " (CASE kind WHEN 4 THEN coalesce(plan_owners, '') ELSE '' END)) NULLS NOT DISTINCT;"
           " ALTER TABLE updates DROP CONSTRAINT updates_kind;"
           " DELETE FROM tickler_schema_version WHERE version > 1;"
           " INSERT INTO updates(action_id, recipient, kind, at, link_issued_at, rag, note)"
           " VALUES ('A1', 'r@x', 3, 5, 4, 3, 'green'), ('A1', 'r@x', 3, 6, 4, 2, 'amber')"));
    struct migrated m = {0};
    ck_assert_int_eq(tkl_pg_schema_migrate(a.pg, on_migrated, &m), 0);
    ck_assert(tkl_run_until_count(&loop, &m.calls, 1));
    ck_assert_int_eq(m.r, 0);
    ck_assert_int_eq(m.version, TKL_PG_SCHEMA_VERSION);
    /* green first, follows nothing; amber follows green */
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT after_id FROM updates WHERE note = 'green'"),
                     0);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT after_id FROM updates WHERE note = 'amber'"),
                     tkl_pg_fixture_value(c, "SELECT id FROM updates WHERE note = 'green'"));
    /* still append-only */
    PGresult *res = PQexec(c, "UPDATE updates SET note = 'x'");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM pg_indexes WHERE indexname"
                                             " = 'updates_once_after'"),
                     1);
    ck_assert_int_eq(
        tkl_pg_fixture_value(
            c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'updates_once_per_plan'"),
        0);
    /* green said again after amber: a row of its own now */
    PQclear(tkl_pg_fixture_exec(c, "INSERT INTO updates(action_id, recipient, kind, at,"
                                   " link_issued_at, rag, note, after_id) SELECT 'A1', 'r@x', 3, 7,"
                                   " 4, 3, 'green', id FROM updates WHERE note = 'amber'"));
    /* amber again, recorded after green already: refused as the same */
    res = PQexec(c, "INSERT INTO updates(action_id, recipient, kind, at, link_issued_at, rag, note,"
                    " after_id) SELECT 'A1', 'r@x', 3, 8, 4, 2, 'amber', after_id FROM updates"
                    " WHERE note = 'amber'");
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505");
    PQclear(res);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM updates"), 3);
    /* the key logged before: a notice of it is not put again, one of
     * another key is */
    struct put p;
    struct rows logged = {0}, fresh = {0};
    run_wait(&a, TKL_PG_PUT_NOTICE, 10, put_params(&p, "email", "k1", 100), &logged);
    ck_assert_str_eq(logged.ids, "null");
    run_wait(&a, TKL_PG_PUT_NOTICE, 10, put_params(&p, "email", "k1,k2", 100), &fresh);
    ck_assert_str_ne(fresh.ids, "null");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM log"), 2);
    PQfinish(c);
    finish(&a, NULL);
}
END_TEST

START_TEST(puts_only_entries_not_logged_yet)
{
    struct node a = {0};
    start_node(&a);
    struct put p;
    struct rows first = {0}, again = {0}, part = {0};
    run_wait(&a, TKL_PG_PUT_NOTICE, 10, put_params(&p, "email", "k1,k2", 100), &first);
    ck_assert_int_eq(first.n, 1);
    ck_assert_str_ne(first.ids, "null");
    run_wait(&a, TKL_PG_PUT_NOTICE, 10, put_params(&p, "email", "k1,k2", 100), &again);
    ck_assert_str_eq(again.ids, "null");
    run_wait(&a, TKL_PG_PUT_NOTICE, 10, put_params(&p, "email", "k2,k3", 100), &part);
    ck_assert_str_ne(part.ids, "null");
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices"), 2);
    char sql[1400];
    snprintf(sql, sizeof(sql),
             "SELECT string_agg(idx || ':' || item_id || ':' || stage, ',' ORDER BY idx)"
             " FROM entries WHERE notice_id = %s",
             part.ids);
    PGresult *res = tkl_pg_fixture_exec(c, sql);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "0:A2:2"); /* k3, renumbered from 0 */
    PQclear(res);
    snprintf(sql, sizeof(sql), "SELECT notice_id FROM log WHERE key = 'k3'");
    ck_assert_int_eq(tkl_pg_fixture_value(c, sql), atoll(part.ids));
    PQfinish(c);
    finish(&a, NULL);
}
END_TEST

/* Whether a session waits on a lock now. */
static bool someone_waits(void *arg)
{
    return tkl_pg_fixture_value(arg, "SELECT count(*) FROM pg_stat_activity"
                                     " WHERE wait_event_type = 'Lock'") > 0;
}

static bool two_wait(void *arg)
{
    return tkl_pg_fixture_value(arg, "SELECT count(*) FROM pg_stat_activity"
                                     " WHERE wait_event_type = 'Lock'") == 2;
}

/* A transaction holding the advisory lock 77 that a's transaction waits
 * for after its first statement. */
static void held_after(struct node *a, const struct tkl_pg_stmt *first, tkl_pg_batch_cb cb,
                       void *data)
{
    struct tkl_pg_stmt txn[] = {*first, {.sql = "SELECT pg_advisory_xact_lock(77)"}};
    ck_assert_int_eq(tkl_pg_transaction(a->pg, txn, 2, cb, data), 0);
}

struct held {
    int calls, r;
    char id[1024]; /* column 0 of each row, joined by ',' */
    int n;
};

static void on_held(void *data, int r, const PGresult *const *results, size_t n)
{
    struct held *h = data;
    h->calls++;
    h->r = r;
    if (r == 0) {
        h->n = PQntuples(results[0]);
        for (int i = 0; i < h->n; i++) {
            size_t len = strlen(h->id);
            snprintf(h->id + len, sizeof(h->id) - len, "%s%s", i ? "," : "",
                     PQgetisnull(results[0], i, 0) ? "null" : PQgetvalue(results[0], i, 0));
        }
    }
}

START_TEST(one_of_two_concurrent_puts_wins)
{
    struct node a = {0}, b = {0};
    start_node(&a);
    start_node(&b);
    PGconn *lock = tkl_pg_fixture_connect("t_schema");
    PGconn *watch = tkl_pg_fixture_connect("t_schema");
    PQclear(tkl_pg_fixture_exec(lock, "SELECT pg_advisory_lock(77)"));
    /* a puts k1 and holds its transaction open */
    struct put pa, pb;
    struct tkl_pg_stmt put_a = {
        .prepared = TKL_PG_PUT_NOTICE, .nparams = 10, .params = put_params(&pa, "email", "k1", 1)};
    struct held ha = {0};
    held_after(&a, &put_a, on_held, &ha);
    ck_assert(tkl_run_until(&loop, someone_waits, watch, 20000));
    /* b puts k1 too: it waits for a's key */
    struct rows rb = {0};
    run(&b, TKL_PG_PUT_NOTICE, 10, put_params(&pb, "email", "k1", 1), &rb);
    /* both wait now: a on the advisory lock, b on a's key */
    ck_assert(tkl_run_until(&loop, two_wait, watch, 20000));
    ck_assert_int_eq(rb.calls, 0);
    PQclear(tkl_pg_fixture_exec(lock, "SELECT pg_advisory_unlock(77)"));
    ck_assert(tkl_run_until_count(&loop, &rb.calls, 1));
    ck_assert(tkl_run_until_count(&loop, &ha.calls, 1));
    ck_assert_int_eq(ha.r, 0);
    ck_assert_str_ne(ha.id, "null");
    ck_assert_int_eq(rb.r, 0);
    ck_assert_str_eq(rb.ids, "null");
    ck_assert_int_eq(tkl_pg_fixture_value(watch, "SELECT count(*) FROM notices"), 1);
    ck_assert_int_eq(tkl_pg_fixture_value(watch, "SELECT count(*) FROM log"), 1);
    PQfinish(lock);
    PQfinish(watch);
    finish(&a, &b);
}
END_TEST

/* Puts n notices on channel, keys c1..cn, due at 100. */
static void put_many(struct node *a, const char *channel, int n)
{
    for (int i = 1; i <= n; i++) {
        struct put p;
        char key[32];
        struct rows w = {0};
        snprintf(key, sizeof(key), "%s-%d", channel, i);
        run_wait(a, TKL_PG_PUT_NOTICE, 10, put_params(&p, channel, key, 100), &w);
    }
}

static const char *const *claim_params(const char *channel, const char *now, const char *node,
                                       const char *lease, const char *max)
{
    static const char *v[5];
    v[0] = channel;
    v[1] = now;
    v[2] = node;
    v[3] = lease;
    v[4] = max;
    return v;
}

/* Whether the comma-separated ids of x and y share none. */
static bool disjoint(const char *x, const char *y)
{
    char a[1024];
    snprintf(a, sizeof(a), "%s", x);
    for (char *save = NULL, *t = strtok_r(a, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char in[1100];
        snprintf(in, sizeof(in), ",%s,", y);
        char needle[40];
        snprintf(needle, sizeof(needle), ",%s,", t);
        if (strstr(in, needle))
            return false;
    }
    return true;
}

START_TEST(concurrent_claims_get_disjoint_sets)
{
    struct node a = {0}, b = {0};
    start_node(&a);
    start_node(&b);
    put_many(&a, "email", 10);
    put_many(&a, "teams", 2); /* another channel: never claimed here */
    PGconn *lock = tkl_pg_fixture_connect("t_schema");
    PGconn *watch = tkl_pg_fixture_connect("t_schema");
    PQclear(tkl_pg_fixture_exec(lock, "SELECT pg_advisory_lock(77)"));
    /* a claims 6 and keeps them locked; b, claiming up to 10, skips them */
    struct tkl_pg_stmt claim_a = {.prepared = TKL_PG_CLAIM,
                                  .nparams = 5,
                                  .params = claim_params("email", "1000", "node-a", "30", "6")};
    struct held ha = {0};
    held_after(&a, &claim_a, on_held, &ha);
    ck_assert(tkl_run_until(&loop, someone_waits, watch, 20000));
    struct rows rb = {0};
    run_wait(&b, TKL_PG_CLAIM, 5, claim_params("email", "1000", "node-b", "30", "10"), &rb);
    ck_assert_int_eq(ha.calls, 0); /* b did not wait for a */
    ck_assert_int_eq(rb.n, 4);
    PQclear(tkl_pg_fixture_exec(lock, "SELECT pg_advisory_unlock(77)"));
    ck_assert(tkl_run_until_count(&loop, &ha.calls, 1));
    ck_assert_int_eq(ha.r, 0);
    ck_assert_int_eq(ha.n, 6);
    ck_assert_msg(disjoint(ha.id, rb.ids), "%s and %s", ha.id, rb.ids);
    ck_assert_int_eq(tkl_pg_fixture_value(watch, "SELECT count(*) FROM notices WHERE"
                                                 " lease_node = 'node-a' AND lease_until = 1030"),
                     6);
    ck_assert_int_eq(tkl_pg_fixture_value(watch, "SELECT count(*) FROM notices WHERE"
                                                 " lease_node = 'node-b' AND channel = 'email'"),
                     4);
    ck_assert_int_eq(tkl_pg_fixture_value(watch, "SELECT count(*) FROM notices WHERE"
                                                 " channel = 'teams' AND lease_node IS NULL"),
                     2);
    /* nothing left to claim while the leases hold */
    struct rows none = {0};
    run_wait(&b, TKL_PG_CLAIM, 5, claim_params("email", "1029", "node-b", "30", "10"), &none);
    ck_assert_int_eq(none.n, 0);
    PQfinish(lock);
    PQfinish(watch);
    finish(&a, &b);
}
END_TEST

START_TEST(an_expired_lease_is_reclaimed_and_outcomes_need_the_lease)
{
    struct node a = {0}, b = {0};
    start_node(&a);
    start_node(&b);
    put_many(&a, "email", 1);
    struct rows ca = {0}, renewed = {0}, cb = {0}, stale = {0}, mine = {0}, lost = {0};
    run_wait(&a, TKL_PG_CLAIM, 5, claim_params("email", "1000", "node-a", "30", "10"), &ca);
    ck_assert_int_eq(ca.n, 1);
    ck_assert_str_eq(ca.items, "1:A1");
    /* a renews while in flight: to 1020 + 30 */
    char held[1040];
    snprintf(held, sizeof(held), "{%s}", ca.ids);
    const char *renew_a[] = {"node-a", "1020", "30", held};
    run_wait(&a, TKL_PG_RENEW, 4, renew_a, &renewed);
    ck_assert_str_eq(renewed.ids, ca.ids);
    /* a stops; its lease runs out and b takes the notice */
    run_wait(&b, TKL_PG_CLAIM, 5, claim_params("email", "1049", "node-b", "30", "10"), &cb);
    ck_assert_int_eq(cb.n, 0);
    memset(&cb, 0, sizeof(cb));
    run_wait(&b, TKL_PG_CLAIM, 5, claim_params("email", "1050", "node-b", "30", "10"), &cb);
    ck_assert_str_eq(cb.ids, ca.ids);
    /* a comes back: its outcome and its renewal change nothing */
    const char *outcome_a[] = {ca.ids, "node-a", "1060", "250 sent"};
    run_wait(&a, TKL_PG_DELIVERED, 4, outcome_a, &stale);
    ck_assert_int_eq(stale.n, 0);
    run_wait(&a, TKL_PG_RENEW, 4, renew_a, &lost);
    ck_assert_int_eq(lost.n, 0);
    /* b's is recorded */
    const char *outcome_b[] = {ca.ids, "node-b", "1061", "250 sent"};
    run_wait(&b, TKL_PG_DELIVERED, 4, outcome_b, &mine);
    ck_assert_str_eq(mine.ids, ca.ids);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices WHERE state = 1 AND"
                                             " finished_at = 1061 AND attempts = 1 AND"
                                             " lease_node IS NULL"),
                     1);
    PQfinish(c);
    finish(&a, &b);
}
END_TEST

START_TEST(records_retries_and_failures)
{
    struct node a = {0};
    start_node(&a);
    put_many(&a, "email", 2);
    struct rows claimed = {0}, retry = {0}, failed = {0}, again = {0};
    run_wait(&a, TKL_PG_CLAIM, 5, claim_params("email", "1000", "node-a", "30", "10"), &claimed);
    ck_assert_int_eq(claimed.n, 2);
    char first[32], second[32];
    sscanf(claimed.ids, "%31[^,],%31s", first, second);
    const char *r1[] = {first, "node-a", "2000", "451 later"};
    run_wait(&a, TKL_PG_RETRY, 4, r1, &retry);
    ck_assert_str_eq(retry.ids, first);
    const char *f2[] = {second, "node-a", "1001", "550 no such user"};
    run_wait(&a, TKL_PG_FAILED, 4, f2, &failed);
    ck_assert_str_eq(failed.ids, second);
    /* the retry is due again at 2000, for any node */
    run_wait(&a, TKL_PG_CLAIM, 5, claim_params("email", "1999", "node-b", "30", "10"), &again);
    ck_assert_int_eq(again.n, 0);
    memset(&again, 0, sizeof(again));
    run_wait(&a, TKL_PG_CLAIM, 5, claim_params("email", "2000", "node-b", "30", "10"), &again);
    ck_assert_str_eq(again.ids, first);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices WHERE state = 2 AND"
                                             " last_error = '550 no such user'"),
                     1);
    PQfinish(c);
    finish(&a, NULL);
}
END_TEST

struct done {
    int calls, r;
};

static void on_done(void *data, int r, const PGresult *const *results, size_t n)
{
    struct done *d = data;
    d->calls++;
    d->r = r;
}

START_TEST(a_queued_notice_wakes_the_other_node_at_commit)
{
    struct node a = {0}, b = {0};
    start_node(&a);
    start_node(&b);
    ck_assert_int_eq(tkl_pg_listen(b.pg, TKL_PG_QUEUED_CHANNEL), 0);
    struct rows ping = {0};
    const char *key[] = {"x"};
    run_wait(&b, TKL_PG_META_GET, 1, key, &ping); /* the LISTEN is in */
    struct put p;
    const char *channel[] = {"email"};
    struct tkl_pg_stmt txn[] = {
        {.prepared = TKL_PG_PUT_NOTICE,
         .nparams = 10,
         .params = put_params(&p, "email", "k1", 100)},
        {.prepared = TKL_PG_NOTIFY_QUEUED, .nparams = 1, .params = channel},
    };
    struct done d = {0};
    ck_assert_int_eq(tkl_pg_transaction(a.pg, txn, 2, on_done, &d), 0);
    ck_assert(tkl_run_until_count(&loop, &b.notifies, 1));
    ck_assert_int_eq(d.r, 0);
    ck_assert_str_eq(b.payload, "email");
    /* a transaction that fails notifies no one */
    const char *bad[] = {"email"};
    struct tkl_pg_stmt failing[] = {
        {.prepared = TKL_PG_NOTIFY_QUEUED, .nparams = 1, .params = bad},
        {.sql = "SELECT 1 / 0"},
    };
    struct done f = {0};
    ck_assert_int_eq(tkl_pg_transaction(a.pg, failing, 2, on_done, &f), 0);
    ck_assert(tkl_run_until_count(&loop, &f.calls, 1));
    ck_assert_int_eq(f.r, -EIO);
    struct rows ping2 = {0};
    run_wait(&b, TKL_PG_META_GET, 1, key, &ping2);
    ck_assert_int_eq(b.notifies, 1);
    finish(&a, &b);
}
END_TEST

START_TEST(keeps_meta_and_nodes)
{
    struct node a = {0};
    start_node(&a);
    struct rows none = {0}, set1 = {0}, set2 = {0}, got = {0}, seen1 = {0}, seen2 = {0};
    const char *key[] = {"request:2026-03-01"};
    run_wait(&a, TKL_PG_META_GET, 1, key, &none);
    ck_assert_int_eq(none.n, 0);
    const char *v1[] = {"request:2026-03-01", "1"}, *v2[] = {"request:2026-03-01", "2"};
    run_wait(&a, TKL_PG_META_SET, 2, v1, &set1);
    run_wait(&a, TKL_PG_META_SET, 2, v2, &set2);
    run_wait(&a, TKL_PG_META_GET, 1, key, &got);
    ck_assert_str_eq(got.ids, "2");
    const char *n1[] = {"node-a", "100"}, *n2[] = {"node-a", "160"};
    run_wait(&a, TKL_PG_NODE_SEEN, 2, n1, &seen1);
    run_wait(&a, TKL_PG_NODE_SEEN, 2, n2, &seen2);
    PGconn *c = tkl_pg_fixture_connect("t_schema");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT last_seen FROM nodes WHERE id = 'node-a'"),
                     160);
    PQfinish(c);
    finish(&a, NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pg_schema");
    TCase *tc = tcase_create("pg_schema");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, migrates_once_and_again_to_the_same_version);
    tcase_add_test(tc, a_version_1_database_is_migrated);
    tcase_add_test(tc, a_version_3_database_is_migrated_and_takes_only_known_kinds);
    tcase_add_test(tc, puts_only_entries_not_logged_yet);
    tcase_add_test(tc, one_of_two_concurrent_puts_wins);
    tcase_add_test(tc, concurrent_claims_get_disjoint_sets);
    tcase_add_test(tc, an_expired_lease_is_reclaimed_and_outcomes_need_the_lease);
    tcase_add_test(tc, records_retries_and_failures);
    tcase_add_test(tc, a_queued_notice_wakes_the_other_node_at_commit);
    tcase_add_test(tc, keeps_meta_and_nodes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
