/* Tests for daemon/state/pg_outbox.c against a real PostgreSQL 15 (the
 * ctest fixture): what tickler outbox lists of the shared notices, with
 * the node holding each live lease, and what tickler retry queues again
 * (never a notice a node holds a lease on). */
#include <check.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_run.h"
#include "dump_fixture.h"
#include "pg_fixture.h"
#include "state/migrate.h"
#include "state/pg_outbox.h"
#include "tmpdir.h"

#define NOW 1680001000

static char dir[256], state[300];
static const char *conninfo;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "pg-outbox");
    conninfo = tkl_pg_fixture_db(dir, "t_pg_outbox");
    snprintf(state, sizeof(state), "%s/state", dir);
    ck_assert_int_eq(mkdir(state, 0700), 0);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* The fixture's notices (1 delivered, 2 failed, 3 retrying, 4 pending) in
 * the database; vm-a holds a lease on 4 until after NOW, vm-b's lease on 3
 * has expired. */
static void fill(void)
{
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(state, &o, &err), 0);
    tkl_dump_fixture_fill(o);
    tkl_outbox_close(o);
    struct tkl_migrate_counts n;
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), 0);
    PGconn *c = tkl_pg_fixture_connect("t_pg_outbox");
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET lease_node = 'vm-a',"
                                   " lease_until = 1680001100 WHERE id = 4"));
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET lease_node = 'vm-b',"
                                   " lease_until = 1680000999 WHERE id = 3"));
    PQfinish(c);
}

START_TEST(every_notice_is_listed_whole_newest_first_with_its_lease)
{
    fill();
    struct tkl_pg_listed *v = NULL;
    size_t n = 0;
    char *err = NULL;
    ck_assert_int_eq(tkl_pg_outbox_list(conninfo, false, NOW, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    const enum tkl_notice_state states[] = {TKL_NOTICE_PENDING, TKL_NOTICE_PENDING,
                                            TKL_NOTICE_FAILED, TKL_NOTICE_DELIVERED};
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(v[i].s->notice.id, 4 - i);
        ck_assert_int_eq(v[i].s->state, states[i]);
        ck_assert_uint_eq(v[i].s->notice.n_entries, 2);
        ck_assert_str_eq(v[i].s->entries[1].title, "Second");
        ck_assert_str_eq(v[i].s->notice.team_name, "Human \"Resources\"");
    }
    ck_assert_str_eq(v[0].lease_node, "vm-a");
    ck_assert_int_eq(v[0].lease_until, 1680001100);
    ck_assert_ptr_null(v[1].lease_node); /* expired: nobody's */
    ck_assert_int_eq(v[1].s->attempts, 1);
    ck_assert_str_eq(v[1].s->last_error, "451 try later");
    ck_assert_str_eq(v[2].s->last_error, "550 no such \"user\"");
    tkl_pg_listed_free(v, n);
    ck_assert_int_eq(tkl_pg_outbox_list(conninfo, true, NOW, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].s->notice.id, 2);
    tkl_pg_listed_free(v, n);
}
END_TEST

START_TEST(retry_queues_failed_notices_and_says_why_not_the_others)
{
    fill();
    const uint64_t ids[] = {2, 4, 1, 99};
    struct tkl_pg_requeued y[4];
    int64_t total = -1, reports = -1;
    char *err = NULL;
    ck_assert_int_eq(tkl_pg_outbox_requeue(conninfo, ids, 4, NOW, &total, &reports, y, &err), 0);
    ck_assert_int_eq(total, 1);
    ck_assert_int_eq(reports, 0); /* named: no failure report withdrawn */
    ck_assert_int_eq(y[0].why, TKL_PG_REQUEUED);
    ck_assert_int_eq(y[1].why, TKL_PG_LEASED);
    ck_assert_str_eq(y[1].lease_node, "vm-a");
    ck_assert_int_eq(y[1].lease_until, 1680001100);
    ck_assert_int_eq(y[2].why, TKL_PG_NOT_FAILED);
    ck_assert_int_eq(y[3].why, TKL_PG_NO_NOTICE);
    tkl_pg_requeued_free(y, 4);
    PGconn *c = tkl_pg_fixture_connect("t_pg_outbox");
    PGresult *r = tkl_pg_fixture_exec(c, "SELECT state, created_at, next_attempt, attempts,"
                                         " finished_at IS NULL FROM notices WHERE id = 2");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
    ck_assert_str_eq(PQgetvalue(r, 0, 1), "1680001000"); /* its age counts from now */
    ck_assert_str_eq(PQgetvalue(r, 0, 2), "0");          /* due at once */
    ck_assert_str_eq(PQgetvalue(r, 0, 3), "0");          /* attempts counted anew */
    ck_assert_str_eq(PQgetvalue(r, 0, 4), "t");
    PQclear(r);
    /* a failed notice a node still holds a lease on is left alone */
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET state = 2, lease_node = 'vm-b',"
                                   " lease_until = 1680001100 WHERE id = 2"));
    ck_assert_int_eq(tkl_pg_outbox_requeue(conninfo, NULL, 0, NOW, &total, &reports, NULL, &err),
                     0);
    ck_assert_int_eq(total, 0);
    r = tkl_pg_fixture_exec(c, "SELECT state FROM notices WHERE id = 2");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    PQfinish(c);
}
END_TEST

START_TEST(a_database_without_state_says_so)
{
    struct tkl_pg_listed *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    char *err = NULL;
    ck_assert_int_eq(tkl_pg_outbox_list(conninfo, false, NOW, &v, &n, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "holds no tickler state yet"));
    free(err);
    int64_t reports = 0;
    ck_assert_int_eq(tkl_pg_outbox_requeue(conninfo, NULL, 0, NOW, &total, &reports, NULL, &err),
                     -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "holds no tickler state yet"));
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_outbox");
    TCase *tc = tcase_create("pg_outbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_notice_is_listed_whole_newest_first_with_its_lease);
    tcase_add_test(tc, retry_queues_failed_notices_and_says_why_not_the_others);
    tcase_add_test(tc, a_database_without_state_says_so);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
