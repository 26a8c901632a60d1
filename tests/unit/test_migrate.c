/* Tests for daemon/state/migrate.c against a real PostgreSQL 15 (the
 * ctest fixture): an installation's SQLite state moved whole, a database
 * that holds state refused, and the moved state marked so that nothing
 * runs on it again. */
#include <check.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_run.h"
#include "dump_fixture.h"
#include "outbox/dump.h"
#include "pg_fixture.h"
#include "state/migrate.h"
#include "tmpdir.h"

static char dir[256], state[300], state2[300];
static const char *conninfo;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "migrate");
    conninfo = tkl_pg_fixture_db(dir, "t_migrate");
    snprintf(state, sizeof(state), "%s/a", dir);
    snprintf(state2, sizeof(state2), "%s/b", dir);
    ck_assert_int_eq(mkdir(state, 0700), 0);
    ck_assert_int_eq(mkdir(state2, 0700), 0);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* Fills the outbox of d as tkl_dump_fixture_fill does. */
static void fill(const char *d)
{
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(d, &o, &err), 0);
    tkl_dump_fixture_fill(o);
    tkl_outbox_close(o);
}

/* Whether the state of d is marked as moved. */
static bool moved(const char *d)
{
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    int64_t at = 0;
    ck_assert_int_eq(tkl_outbox_open(d, &o, &err), 0);
    int r = tkl_outbox_get_meta(o, TKL_OUTBOX_MOVED_AT, &at);
    tkl_outbox_close(o);
    ck_assert(r == 0 || r == -ENOENT);
    return r == 0;
}

static char *text(PGconn *c, const char *sql)
{
    PGresult *res = tkl_pg_fixture_exec(c, sql);
    ck_assert_int_eq(PQntuples(res), 1);
    char *s = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return s;
}

START_TEST(every_row_moves_as_it_was)
{
    fill(state);
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(n.notices, TKL_DUMP_NOTICES);
    ck_assert_int_eq(n.pending, TKL_DUMP_PENDING);
    ck_assert_int_eq(n.sending, TKL_DUMP_SENDING);
    ck_assert_int_eq(n.entries, TKL_DUMP_ENTRIES);
    ck_assert_int_eq(n.log, TKL_DUMP_LOG);
    ck_assert_int_eq(n.updates, TKL_DUMP_UPDATES);
    ck_assert_int_eq(n.meta, TKL_DUMP_META);
    ck_assert(moved(state));

    PGconn *c = tkl_pg_fixture_connect("t_migrate");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices"), TKL_DUMP_NOTICES);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM entries"), TKL_DUMP_ENTRIES);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM log"), TKL_DUMP_LOG);
    /* the states as they were: delivered, failed, retrying, and the one
     * in flight due again with no node's lease on it */
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT state FROM notices WHERE id = 1"), 1);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT state FROM notices WHERE id = 2"), 2);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT next_attempt FROM notices WHERE id = 3"),
                     1680000900);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT attempts FROM notices WHERE id = 3"), 1);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices WHERE id = 4 AND "
                                             "state = 0 AND lease_node IS NULL"),
                     1);
    char *s = text(c, "SELECT last_error FROM notices WHERE id = 2");
    ck_assert_str_eq(s, "550 no such \"user\"");
    free(s);
    s = text(c, "SELECT title FROM entries WHERE notice_id = 3 AND idx = 0");
    ck_assert_str_eq(s, TKL_DUMP_HARD_TITLE);
    free(s);
    ck_assert_int_eq(tkl_pg_fixture_value(c,
                                          "SELECT count(*) FROM entries WHERE title = 'Second' AND "
                                          "owners IS NULL AND commitment IS NULL AND kind = 3"),
                     4);
    s = text(c, "SELECT note FROM updates");
    ck_assert_str_eq(s, TKL_DUMP_HARD_TITLE);
    free(s);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT value FROM meta WHERE key = 'last_run'"),
                     1680000400);
    /* new rows take ids after the moved ones */
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT nextval('notices_id_seq')"), 5);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT nextval('updates_id_seq')"), 2);
    PQfinish(c);
}
END_TEST

START_TEST(a_database_holding_state_is_refused_and_nothing_changes)
{
    fill(state);
    fill(state2);
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), 0);
    ck_assert_int_eq(tkl_state_migrate_to_pg(state2, conninfo, &n, &err), -EEXIST);
    ck_assert_ptr_nonnull(strstr(err, "already holds tickler state (4 notices, 8 log keys"));
    free(err);
    ck_assert(!moved(state2));
    PGconn *c = tkl_pg_fixture_connect("t_migrate");
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices"), TKL_DUMP_NOTICES);
    PQfinish(c);
}
END_TEST

START_TEST(a_moved_state_is_not_moved_again)
{
    fill(state);
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), 0);
    PGconn *c = tkl_pg_fixture_connect("t_migrate");
    PQclear(tkl_pg_fixture_exec(c, "TRUNCATE meta, notices, entries, log"));
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), -EALREADY);
    ck_assert_ptr_nonnull(strstr(err, "was moved to PostgreSQL already"));
    free(err);
    ck_assert_int_eq(tkl_pg_fixture_value(c, "SELECT count(*) FROM notices"), 0);
    PQfinish(c);
}
END_TEST

START_TEST(a_missing_state_is_named)
{
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/none", dir);
    ck_assert_int_eq(tkl_state_migrate_to_pg(missing, conninfo, &n, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "none/tickler.db"));
    free(err);
}
END_TEST

START_TEST(an_unreachable_database_leaves_the_state_as_it_was)
{
    fill(state);
    /* a port nothing listens on */
    const char *bad = tkl_write_text(dir, "bad-conninfo",
                                     "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=5\n");
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    ck_assert_int_lt(tkl_state_migrate_to_pg(state, bad, &n, &err), 0);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert(!moved(state));
    /* and the lock is gone: the daemon could write again */
    struct tkl_outbox *o = NULL;
    ck_assert_int_eq(tkl_outbox_open(state, &o, &err), 0);
    ck_assert_int_eq(tkl_outbox_set_meta(o, "last_run", 1), 0);
    tkl_outbox_close(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_row_moves_as_it_was);
    tcase_add_test(tc, a_database_holding_state_is_refused_and_nothing_changes);
    tcase_add_test(tc, a_moved_state_is_not_moved_again);
    tcase_add_test(tc, a_missing_state_is_named);
    tcase_add_test(tc, an_unreachable_database_leaves_the_state_as_it_was);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
