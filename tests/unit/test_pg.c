/* daemon/state/pg.c against a real PostgreSQL 15 (the ctest fixture). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "capture.h"
#include "check_run.h"
#include "core/log.h"
#include "loop_wait.h"
#include "pg_fixture.h"
#include "state/pg.h"
#include "tmpdir.h"

/* What a connection told its owner. */
struct seen {
    int connected, lost;
    struct tkl_pg *pg; /* when set: work is tried when told lost */
    int refused_when_lost;
    int notifies;
    char channel[64], payload[256];
    int unreachable; /* told unreachable_after attempts failed */
};

static void on_refused(void *data, int r, const PGresult *res)
{
    ck_abort_msg("work refused ran: %d", r);
}

static void on_state(void *data, bool connected)
{
    struct seen *s = data;
    if (connected) {
        s->connected++;
        return;
    }
    s->lost++;
    if (s->pg) {
        struct tkl_pg_stmt st = {.sql = "SELECT 3"};
        s->refused_when_lost = tkl_pg_query(s->pg, &st, on_refused, NULL);
    }
}

static void on_notify(void *data, const char *channel, const char *payload)
{
    struct seen *s = data;
    s->notifies++;
    snprintf(s->channel, sizeof(s->channel), "%s", channel);
    snprintf(s->payload, sizeof(s->payload), "%s", payload);
}

/* One statement's outcome. */
struct answer {
    int calls, r;
    char value[256];
    bool null;
};

static void on_result(void *data, int r, const PGresult *res)
{
    struct answer *a = data;
    a->calls++;
    a->r = r;
    a->null = true;
    if (r == 0 && res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        snprintf(a->value, sizeof(a->value), "%s", PQgetvalue(res, 0, 0));
        a->null = false;
    }
}

/* A failed statement's text, as tkl_pg_error_text gives it. */
struct failure {
    int calls, r;
    char text[256];
};

static void on_failure(void *data, int r, const PGresult *res)
{
    struct failure *f = data;
    f->calls++;
    f->r = r;
    snprintf(f->text, sizeof(f->text), "%s", tkl_pg_error_text(r, res));
}

/* A transaction's outcome: which statements gave a result. */
struct batch {
    int calls, r;
    size_t n;
    bool had[8];
    char first[64];
};

static void on_batch(void *data, int r, const PGresult *const *results, size_t n)
{
    struct batch *b = data;
    b->calls++;
    b->r = r;
    b->n = n;
    for (size_t i = 0; i < n && i < 8; i++)
        b->had[i] = results[i] != NULL;
    if (r == 0 && PQntuples(results[0]) > 0)
        snprintf(b->first, sizeof(b->first), "%s", PQgetvalue(results[0], 0, 0));
}

static char dir[256];
static uv_loop_t loop;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "pg");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

static struct tkl_pg *open_pg(const char *conninfo_file, struct seen *s)
{
    struct tkl_pg_options o = {
        .conninfo_file = conninfo_file,
        .backoff_min_ms = 50,
        .backoff_max_ms = 400,
        .on_state = on_state,
        .on_notify = on_notify,
        .data = s,
    };
    struct tkl_pg *pg = NULL;
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &pg), 0);
    return pg;
}

static void close_pg(struct tkl_pg *pg)
{
    tkl_pg_close(pg);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}

static struct tkl_pg *connect_db(const char *db, struct seen *s)
{
    struct tkl_pg *pg = open_pg(tkl_pg_fixture_db(dir, db), s);
    ck_assert(tkl_run_until_count(&loop, &s->connected, 1));
    ck_assert(tkl_pg_connected(pg));
    return pg;
}

/* Whether the session of db runs "SELECT pg_sleep(60)" now. */
static bool sleeping(void *arg)
{
    PGconn *c = arg;
    return tkl_pg_fixture_value(c, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                                   " AND query = 'SELECT pg_sleep(60)'") == 1;
}

static int query(struct tkl_pg *pg, const char *sql, struct answer *a)
{
    struct tkl_pg_stmt st = {.sql = sql};
    return tkl_pg_query(pg, &st, on_result, a);
}

START_TEST(connects_and_queries_with_parameters)
{
    struct seen s = {0};
    struct tkl_pg *pg = connect_db("t_connect", &s);
    ck_assert_ptr_nonnull(strstr(tkl_pg_describe(pg), " dbname=t_connect "));
    const char *params[] = {"41", NULL};
    struct tkl_pg_stmt st = {
        .sql = "SELECT $1::int + 1, $2::text IS NULL", .nparams = 2, .params = params};
    struct answer a = {0};
    ck_assert_int_eq(tkl_pg_query(pg, &st, on_result, &a), 0);
    ck_assert_int_eq(a.calls, 0); /* never from inside the call */
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1));
    ck_assert_int_eq(a.r, 0);
    ck_assert_str_eq(a.value, "42");
    ck_assert_int_eq(s.lost, 0);
    close_pg(pg);
}
END_TEST

START_TEST(says_why_a_statement_failed)
{
    struct seen s = {0};
    struct tkl_pg *pg = connect_db("t_error_text", &s);
    struct tkl_pg_stmt st = {.sql = "SELECT * FROM no_such_table"};
    struct failure f = {0};
    ck_assert_int_eq(tkl_pg_query(pg, &st, on_failure, &f), 0);
    ck_assert(tkl_run_until_count(&loop, &f.calls, 1));
    ck_assert_int_lt(f.r, 0);
    /* PostgreSQL's own first line, not the errno's */
    ck_assert_str_eq(f.text, "relation \"no_such_table\" does not exist");
    /* without a result: the errno's, the lost connection said plainly */
    ck_assert_str_eq(tkl_pg_error_text(-ENOMEM, NULL), strerror(ENOMEM));
    ck_assert_str_eq(tkl_pg_error_text(-ECONNRESET, NULL),
                     "the connection failed (see the warning above)");
    close_pg(pg);
}
END_TEST

START_TEST(describes_without_the_password)
{
    struct seen s = {0};
    const char *path =
        tkl_write_text(dir, "conninfo", "host=/nowhere port=5 dbname=d user=u password=Pw-secret");
    struct tkl_pg *pg = open_pg(path, &s);
    ck_assert_str_eq(tkl_pg_describe(pg), "host=/nowhere port=5 dbname=d user=u");
    close_pg(pg);
}
END_TEST

START_TEST(pipelines_queries_and_transactions_in_order)
{
    struct seen s = {0};
    struct tkl_pg *pg = connect_db("t_pipeline", &s);
    struct answer made = {0}, q[3] = {{0}}, after = {0}, dup = {0};
    ck_assert_int_eq(query(pg, "CREATE TABLE t(k int PRIMARY KEY)", &made), 0);
    /* one loop turn's work: sent together, answered in order */
    ck_assert_int_eq(query(pg, "INSERT INTO t VALUES (1) RETURNING k", &q[0]), 0);
    ck_assert_int_eq(query(pg, "INSERT INTO t VALUES (2) RETURNING k", &q[1]), 0);
    ck_assert_int_eq(query(pg, "SELECT count(*) FROM t", &q[2]), 0);
    /* a transaction whose second statement fails: nothing of it stays, and
     * the work after it runs in a clean session */
    struct tkl_pg_stmt txn[] = {
        {.sql = "INSERT INTO t VALUES (10)"},
        {.sql = "SELECT 1 / 0"},
        {.sql = "INSERT INTO t VALUES (11)"},
    };
    struct batch failed = {0}, good = {0};
    ck_assert_int_eq(tkl_pg_transaction(pg, txn, 3, on_batch, &failed), 0);
    struct tkl_pg_stmt txn2[] = {
        {.sql = "INSERT INTO t VALUES (20) RETURNING k"},
        {.sql = "INSERT INTO t VALUES (21)"},
    };
    ck_assert_int_eq(tkl_pg_transaction(pg, txn2, 2, on_batch, &good), 0);
    ck_assert_int_eq(query(pg, "INSERT INTO t VALUES (1)", &dup), 0);
    ck_assert_int_eq(query(pg, "SELECT string_agg(k::text, ',' ORDER BY k) FROM t", &after), 0);
    ck_assert(tkl_run_until_count(&loop, &after.calls, 1));
    ck_assert_int_eq(made.r, 0);
    ck_assert_int_eq(q[0].r, 0);
    ck_assert_str_eq(q[0].value, "1");
    ck_assert_str_eq(q[1].value, "2");
    ck_assert_str_eq(q[2].value, "2");
    ck_assert_int_eq(failed.calls, 1);
    ck_assert_int_eq(failed.r, -EIO);
    ck_assert_uint_eq(failed.n, 3);
    ck_assert(failed.had[0] && failed.had[1] && !failed.had[2]);
    ck_assert_int_eq(good.calls, 1);
    ck_assert_int_eq(good.r, 0);
    ck_assert_str_eq(good.first, "20");
    ck_assert_int_eq(dup.r, -EEXIST);
    ck_assert_str_eq(after.value, "1,2,20,21");
    close_pg(pg);
}
END_TEST

START_TEST(prepares_statements_once_registered)
{
    struct seen s = {0};
    /* registered before the connection is up: made as it comes up */
    struct tkl_pg *pg = open_pg(tkl_pg_fixture_db(dir, "t_prepare"), &s);
    ck_assert_int_eq(tkl_pg_prepare(pg, "add", "SELECT $1::int + $2::int", 2), 0);
    ck_assert_int_eq(tkl_pg_prepare(pg, "add", "SELECT 1", 0), -EEXIST);
    const char *params[] = {"2", "3"};
    struct tkl_pg_stmt st = {.prepared = "add", .nparams = 2, .params = params};
    struct answer a = {0}, late = {0};
    ck_assert_int_eq(tkl_pg_query(pg, &st, on_result, &a), 0);
    struct tkl_pg_stmt unknown = {.prepared = "nope"};
    ck_assert_int_eq(tkl_pg_query(pg, &unknown, on_result, &a), -ENOENT);
    struct tkl_pg_stmt wrong = {.prepared = "add", .nparams = 1, .params = params};
    ck_assert_int_eq(tkl_pg_query(pg, &wrong, on_result, &a), -EINVAL);
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1));
    ck_assert_int_eq(a.r, 0);
    ck_assert_str_eq(a.value, "5");
    /* registered while up: made at once, before the work queued after */
    ck_assert_int_eq(tkl_pg_prepare(pg, "twice", "SELECT 2 * $1::int", 1), 0);
    struct tkl_pg_stmt st2 = {.prepared = "twice", .nparams = 1, .params = params};
    ck_assert_int_eq(tkl_pg_query(pg, &st2, on_result, &late), 0);
    ck_assert(tkl_run_until_count(&loop, &late.calls, 1));
    ck_assert_int_eq(late.r, 0);
    ck_assert_str_eq(late.value, "4");
    close_pg(pg);
}
END_TEST

static bool notified(void *arg)
{
    return ((struct seen *)arg)->notifies > 0;
}

/* Every active handle of the loop but the guard: none may be a timer. */
static void no_timer(uv_handle_t *h, void *arg)
{
    if (uv_is_active(h) && h->type == UV_TIMER)
        (*(int *)arg)++;
}

START_TEST(listens_and_idles_without_timers)
{
    struct seen s = {0};
    struct tkl_pg *pg = open_pg(tkl_pg_fixture_db(dir, "t_listen"), &s);
    ck_assert_int_eq(tkl_pg_listen(pg, "t_wake"), 0);
    ck_assert_int_eq(tkl_pg_listen(pg, "Bad-Name"), -EINVAL);
    ck_assert(tkl_run_until_count(&loop, &s.connected, 1));
    /* up and idle: only its socket is watched */
    int timers = 0;
    uv_walk(&loop, no_timer, &timers);
    ck_assert_int_eq(timers, 0);
    ck_assert_int_eq(uv_loop_alive(&loop), 1);

    PGconn *c = tkl_pg_fixture_connect("t_listen");
    PQclear(tkl_pg_fixture_exec(c, "NOTIFY t_wake, 'hello'"));
    ck_assert(tkl_run_until(&loop, notified, &s, 20000));
    ck_assert_str_eq(s.channel, "t_wake");
    ck_assert_str_eq(s.payload, "hello");
    /* a channel listened to while up */
    ck_assert_int_eq(tkl_pg_listen(pg, "t_later"), 0);
    struct answer a = {0};
    ck_assert_int_eq(query(pg, "SELECT 1", &a), 0);
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1)); /* the LISTEN went before it */
    PQclear(tkl_pg_fixture_exec(c, "NOTIFY t_later"));
    s.notifies = 0;
    ck_assert(tkl_run_until(&loop, notified, &s, 20000));
    ck_assert_str_eq(s.channel, "t_later");
    ck_assert_str_eq(s.payload, "");
    PQfinish(c);
    close_pg(pg);
}
END_TEST

START_TEST(reconnects_after_a_restart)
{
    struct seen s = {0};
    struct tkl_pg *pg = open_pg(tkl_pg_fixture_db(dir, "t_restart"), &s);
    ck_assert_int_eq(tkl_pg_prepare(pg, "one", "SELECT 1 + $1::int", 1), 0);
    ck_assert_int_eq(tkl_pg_listen(pg, "t_back"), 0);
    ck_assert(tkl_run_until_count(&loop, &s.connected, 1));
    /* in flight when the server goes: told the connection went */
    struct answer slow = {0}, queued = {0};
    ck_assert_int_eq(query(pg, "SELECT pg_sleep(60)", &slow), 0);
    PGconn *watcher = tkl_pg_fixture_connect("postgres");
    ck_assert(tkl_run_until(&loop, sleeping, watcher, 20000));
    PQfinish(watcher);
    s.pg = pg;
    tkl_pg_fixture_restart();
    ck_assert_int_eq(query(pg, "SELECT 2", &queued), 0);
    ck_assert(tkl_run_until_count(&loop, &s.lost, 1));
    ck_assert_int_eq(slow.calls, 1);
    ck_assert_int_eq(slow.r, -ECONNRESET);
    ck_assert_int_eq(queued.calls, 1);
    ck_assert_int_eq(queued.r, -ECONNRESET);
    /* until it is back, work is refused */
    ck_assert_int_eq(s.refused_when_lost, -ENOTCONN);
    ck_assert(tkl_run_until_count(&loop, &s.connected, 2));
    /* the statement prepared again, the channel listened to again */
    const char *params[] = {"1"};
    struct tkl_pg_stmt st = {.prepared = "one", .nparams = 1, .params = params};
    struct answer a = {0};
    ck_assert_int_eq(tkl_pg_query(pg, &st, on_result, &a), 0);
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1));
    ck_assert_int_eq(a.r, 0);
    ck_assert_str_eq(a.value, "2");
    PGconn *c = tkl_pg_fixture_connect("t_restart");
    PQclear(tkl_pg_fixture_exec(c, "NOTIFY t_back, 'again'"));
    PQfinish(c);
    ck_assert(tkl_run_until(&loop, notified, &s, 20000));
    ck_assert_str_eq(s.payload, "again");
    ck_assert_int_eq(s.lost, 1);
    close_pg(pg);
}
END_TEST

static void on_unreachable(void *data, const char *why)
{
    (void)why;
    ((struct seen *)data)->unreachable++;
}

/* A connection whose claim is claim_sql (param its $1, or none), refused
 * saying refused; told unreachable after unreachable_after attempts
 * failed. */
static struct tkl_pg *open_with_claim(const char *conninfo_file, struct seen *s,
                                      const char *claim_sql, const char *param, const char *refused,
                                      unsigned unreachable_after)
{
    struct tkl_pg_options o = {
        .conninfo_file = conninfo_file,
        .backoff_min_ms = 50,
        .backoff_max_ms = 100,
        .on_state = on_state,
        .data = s,
        .claim_sql = claim_sql,
        .claim_param = param,
        .claim_refused = refused,
        .unreachable_after = unreachable_after,
        .on_unreachable = on_unreachable,
    };
    struct tkl_pg *pg = NULL;
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &pg), 0);
    return pg;
}

/* A connection whose claim is the advisory lock of "node-x"; told
 * unreachable after 5 attempts failed. */
static struct tkl_pg *open_claiming(const char *conninfo_file, struct seen *s)
{
    return open_with_claim(conninfo_file, s, "SELECT pg_try_advisory_lock(7, hashtext($1))",
                           "node-x", "node-x is taken", 5);
}

/* A claim refused (another session holds the lock) is a failed attempt,
 * said as an error with the reason given, at the 1st, 2nd, 4th...
 * attempt; the connection is never told up until the claim is taken,
 * once the holder's session has ended. */
START_TEST(a_claim_refused_fails_the_attempt_until_the_holder_goes)
{
    const char *file = tkl_pg_fixture_db(dir, "t_claim");
    struct seen first = {0}, second = {0};
    struct tkl_pg *holder = open_claiming(file, &first);
    ck_assert(tkl_run_until_count(&loop, &first.connected, 1));
    tkl_capture_begin();
    struct tkl_pg *twin = open_claiming(file, &second);
    ck_assert(tkl_run_until_count(&loop, &second.unreachable, 1)); /* 5 attempts */
    char *logged = tkl_capture_end();
    ck_assert_int_eq(second.connected, 0);
    ck_assert(!tkl_pg_connected(twin));
    ck_assert_ptr_nonnull(strstr(logged, "<3>postgresql: host="));
    ck_assert_ptr_nonnull(strstr(
        logged, ": cannot connect (attempt 1; logged again at attempt 2): node-x is taken\n"));
    ck_assert_ptr_nonnull(strstr(
        logged, ": cannot connect (attempt 4; logged again at attempt 8): node-x is taken\n"));
    ck_assert_ptr_null(strstr(logged, "(attempt 3;"));
    ck_assert_ptr_null(strstr(logged, "(attempt 5;"));
    ck_assert_ptr_null(strstr(logged, "connection lost"));
    free(logged);
    tkl_pg_close(holder); /* its session, and its lock, end */
    ck_assert(tkl_run_until_count(&loop, &second.connected, 1));
    struct answer a = {0};
    ck_assert_int_eq(query(twin, "SELECT 5", &a), 0);
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1));
    ck_assert_str_eq(a.value, "5");
    ck_assert_int_eq(first.lost + second.lost, 0);
    ck_assert_int_eq(first.unreachable, 0);
    close_pg(twin);
}
END_TEST

/* A setup that fails (here the claim's SQL) is a failed attempt, as a
 * connection refused is: a warning at the 1st, 2nd, 4th... attempt, never
 * "connection lost", counted towards unreachable_after (--oneshot). */
START_TEST(a_setup_that_fails_is_a_failed_attempt)
{
    struct seen s = {0};
    tkl_capture_begin();
    struct tkl_pg *pg = open_with_claim(tkl_pg_fixture_db(dir, "t_setup"), &s, "SELECT 1 / 0", NULL,
                                        "never said: the claim fails, it is not refused", 3);
    ck_assert(tkl_run_until_count(&loop, &s.unreachable, 1));
    char *logged = tkl_capture_end();
    ck_assert_int_eq(s.connected, 0);
    ck_assert_ptr_nonnull(strstr(logged, "<4>postgresql: host="));
    ck_assert_ptr_nonnull(strstr(logged, ": cannot connect (attempt 1; logged again at attempt 2): "
                                         "setting up: ERROR:  division by zero"));
    ck_assert_ptr_nonnull(strstr(logged, "(attempt 2; logged again at attempt 4)"));
    ck_assert_ptr_null(strstr(logged, "(attempt 3;"));
    ck_assert_ptr_null(strstr(logged, "connection lost"));
    ck_assert_ptr_null(strstr(logged, "never said"));
    free(logged);
    close_pg(pg);
}
END_TEST

START_TEST(follows_the_socket_to_the_next_host)
{
    /* a host list whose first entry refuses: libpq moves on to the next
     * with a new socket inside PQconnectPoll */
    char *ci = tkl_pg_fixture_conninfo(NULL);
    int port = 0;
    char user[64] = "";
    const char *p = strstr(ci, "port=");
    const char *u = strstr(ci, "user=");
    ck_assert(p && u);
    ck_assert_int_eq(sscanf(p, "port=%d", &port), 1);
    ck_assert_int_eq(sscanf(u, "user=%63s", user), 1);
    free(ci);
    char text[256];
    snprintf(text, sizeof(text),
             "host=127.0.0.1,127.0.0.1 port=1,%d dbname=postgres user=%s connect_timeout=30", port,
             user);
    struct seen s = {0};
    struct tkl_pg *pg = open_pg(tkl_write_text(dir, "conninfo-hosts", text), &s);
    ck_assert(tkl_run_until_count(&loop, &s.connected, 1));
    struct answer a = {0};
    ck_assert_int_eq(query(pg, "SELECT inet_server_port()", &a), 0);
    ck_assert(tkl_run_until_count(&loop, &a.calls, 1));
    ck_assert_int_eq(atoi(a.value), port);
    close_pg(pg);
}
END_TEST

START_TEST(close_cancels_pending_work)
{
    struct seen s = {0};
    struct tkl_pg *pg = connect_db("t_close", &s);
    struct answer slow = {0}, queued = {0};
    ck_assert_int_eq(query(pg, "SELECT pg_sleep(60)", &slow), 0);
    PGconn *watcher = tkl_pg_fixture_connect("postgres");
    ck_assert(tkl_run_until(&loop, sleeping, watcher, 20000));
    PQfinish(watcher);
    ck_assert_int_eq(query(pg, "SELECT 1", &queued), 0);
    tkl_pg_close(pg);
    ck_assert_int_eq(slow.calls, 1);
    ck_assert_int_eq(slow.r, -ECANCELED);
    ck_assert_int_eq(queued.calls, 1);
    ck_assert_int_eq(queued.r, -ECANCELED);
    ck_assert_int_eq(s.lost, 0);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}
END_TEST

/* Closes the connection from inside its own callback. */
static void close_from_callback(void *data, int r, const PGresult *res)
{
    struct tkl_pg **pg = data;
    tkl_pg_close(*pg);
    *pg = NULL;
}

START_TEST(closes_from_a_callback)
{
    struct seen s = {0};
    struct tkl_pg *pg = connect_db("t_close_cb", &s);
    struct tkl_pg *handle = pg;
    struct answer after = {0};
    struct tkl_pg_stmt st = {.sql = "SELECT 1"};
    ck_assert_int_eq(tkl_pg_query(pg, &st, close_from_callback, &handle), 0);
    ck_assert_int_eq(query(pg, "SELECT 2", &after), 0);
    ck_assert(tkl_run_until_count(&loop, &after.calls, 1));
    ck_assert_ptr_null(handle);
    ck_assert_int_eq(after.r, -ECANCELED);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}
END_TEST

/* The conninfo of the password role with the password replaced. */
static const char *password_conninfo(const char *password, char **ret_real)
{
    char *text = tkl_read_all(tkl_pg_fixture_file("conninfo-password"), NULL);
    text[strcspn(text, "\n")] = '\0';
    char *at = strstr(text, "password=");
    ck_assert_ptr_nonnull(at);
    *ret_real = strdup(at + strlen("password="));
    ck_assert_ptr_nonnull(*ret_real);
    if (password) {
        *at = '\0';
        char *out = NULL;
        ck_assert_int_ge(asprintf(&out, "%spassword=%s", text, password), 0);
        free(text);
        text = out;
    }
    const char *path = tkl_write_text(dir, "conninfo-pw", text);
    free(text);
    return path;
}

START_TEST(never_logs_the_password)
{
    char *real = NULL, *real2 = NULL;
    tkl_log_set_level(TKL_LOG_DEBUG);
    tkl_capture_begin();
    /* the right password: connected */
    struct seen s = {0};
    struct tkl_pg *pg = open_pg(password_conninfo(NULL, &real), &s);
    ck_assert(tkl_run_until_count(&loop, &s.connected, 1));
    struct answer who = {0};
    ck_assert_int_eq(query(pg, "SELECT current_user", &who), 0);
    ck_assert(tkl_run_until_count(&loop, &who.calls, 1));
    tkl_pg_close(pg);
    /* a wrong one: the attempt fails, and the work waiting for it */
    struct seen s2 = {0};
    pg = open_pg(password_conninfo("Wrong-Pw-5150", &real2), &s2);
    struct answer waiting = {0};
    ck_assert_int_eq(query(pg, "SELECT 1", &waiting), 0);
    ck_assert(tkl_run_until_count(&loop, &waiting.calls, 1));
    tkl_pg_close(pg);
    /* a value libpq echoes in its message, the password's too */
    const char *echo =
        tkl_write_text(dir, "conninfo-echo", "host=127.0.0.1 port=Echo-Pw-77 password=Echo-Pw-77");
    struct seen s3 = {0};
    pg = open_pg(echo, &s3);
    tkl_pg_close(pg);
    /* a conninfo libpq cannot parse: its message quotes the conninfo */
    const char *unquoted =
        tkl_write_text(dir, "conninfo-unquoted", "host=127.0.0.1 password=Split Pw-Part");
    struct tkl_pg_options o = {.conninfo_file = unquoted};
    struct tkl_pg *none = NULL;
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &none), -EINVAL);
    /* a password holding a double quote, in a URI libpq cannot decode: its
     * message quotes the password, quote and all */
    o.conninfo_file =
        tkl_write_text(dir, "conninfo-quote", "postgresql://u:Qu\"ote-Pw%zz@127.0.0.1/db");
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &none), -EINVAL);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    char *log = tkl_capture_end();
    ck_assert_str_eq(who.value, "tickler_pw");
    ck_assert_int_eq(waiting.r, -ECONNRESET);
    ck_assert_int_eq(s2.connected, 0);
    ck_assert_ptr_nonnull(strstr(log, "user=tickler_pw"));
    ck_assert_ptr_nonnull(strstr(log, "password authentication failed"));
    ck_assert_ptr_nonnull(strstr(log, "invalid integer value \"***\""));
    ck_assert_msg(!strstr(log, real), "the password logged:\n%s", log);
    ck_assert_msg(!strstr(log, "Wrong-Pw-5150"), "the password logged:\n%s", log);
    ck_assert_msg(!strstr(log, "Echo-Pw-77"), "the password logged:\n%s", log);
    ck_assert_msg(!strstr(log, "Pw-Part"), "the password logged:\n%s", log);
    ck_assert_msg(!strstr(log, "ote-Pw"), "the password logged:\n%s", log);
    ck_assert_ptr_nonnull(strstr(log, "invalid percent-encoded token: \"***\""));
    ck_assert_ptr_nonnull(strstr(log, "cannot be read: missing \"***\" in connection info"));
    free(log);
    free(real);
    free(real2);
}
END_TEST

START_TEST(refuses_a_missing_conninfo_file)
{
    struct tkl_pg_options o = {.conninfo_file = "/nonexistent/conninfo"};
    struct tkl_pg *pg = NULL;
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &pg), -ENOENT);
    ck_assert_ptr_null(pg);
    const char *bad = tkl_write_text(dir, "bad", "host='unterminated");
    o.conninfo_file = bad;
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &pg), -EINVAL);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pg");
    TCase *tc = tcase_create("pg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, connects_and_queries_with_parameters);
    tcase_add_test(tc, says_why_a_statement_failed);
    tcase_add_test(tc, describes_without_the_password);
    tcase_add_test(tc, pipelines_queries_and_transactions_in_order);
    tcase_add_test(tc, prepares_statements_once_registered);
    tcase_add_test(tc, listens_and_idles_without_timers);
    tcase_add_test(tc, reconnects_after_a_restart);
    tcase_add_test(tc, a_claim_refused_fails_the_attempt_until_the_holder_goes);
    tcase_add_test(tc, a_setup_that_fails_is_a_failed_attempt);
    tcase_add_test(tc, follows_the_socket_to_the_next_host);
    tcase_add_test(tc, close_cancels_pending_work);
    tcase_add_test(tc, closes_from_a_callback);
    tcase_add_test(tc, never_logs_the_password);
    tcase_add_test(tc, refuses_a_missing_conninfo_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
