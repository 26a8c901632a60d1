/* Tests for daemon/state/pg_status.c against a real PostgreSQL 15 (the
 * ctest fixture): the numbers tickler status shows, and the nodes with
 * their leases. */
#include <check.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_run.h"
#include "dump_fixture.h"
#include "pg_fixture.h"
#include "state/migrate.h"
#include "state/pg_status.h"
#include "tmpdir.h"

static char dir[256], state[300];
static const char *conninfo;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "pg-status");
    conninfo = tkl_pg_fixture_db(dir, "t_pg_status");
    snprintf(state, sizeof(state), "%s/state", dir);
    ck_assert_int_eq(mkdir(state, 0700), 0);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* The database holding the fixture's state (test_migrate proves the copy). */
static void fill(void)
{
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(state, &o, &err), 0);
    tkl_dump_fixture_fill(o);
    tkl_outbox_close(o);
    struct tkl_migrate_counts n;
    ck_assert_int_eq(tkl_state_migrate_to_pg(state, conninfo, &n, &err), 0);
}

START_TEST(the_numbers_are_those_of_the_outbox)
{
    fill();
    struct tkl_pg_status s;
    char *err = NULL;
    /* notice 1 was delivered at 1680000100, notice 3 retries, 4 was in
     * flight; both wait since 1680000000 */
    ck_assert_int_eq(tkl_pg_status_read(conninfo, 1680000050, 1680000001, &s, &err), 0);
    ck_assert_int_eq(s.st.pending, 1);
    ck_assert_int_eq(s.st.retrying, 1);
    ck_assert_int_eq(s.st.failed, 1);
    ck_assert_int_eq(s.st.delivered, 1);
    ck_assert_int_eq(s.st.delivered_today, 1);
    ck_assert_int_eq(s.st.oldest_pending, 1680000000);
    ck_assert_int_eq(s.stuck, 2);
    ck_assert_int_eq(s.last_run, 1680000400);
    ck_assert_uint_eq(s.n_nodes, 0);
    tkl_pg_status_free(&s);
    ck_assert_int_eq(tkl_pg_status_read(conninfo, 1680000101, 1680000000, &s, &err), 0);
    ck_assert_int_eq(s.st.delivered_today, 0);
    ck_assert_int_eq(s.stuck, 0);
    tkl_pg_status_free(&s);
}
END_TEST

START_TEST(the_nodes_are_listed_with_their_leases)
{
    fill();
    PGconn *c = tkl_pg_fixture_connect("t_pg_status");
    PQclear(tkl_pg_fixture_exec(c, "INSERT INTO nodes VALUES ('vm-a', 1680000500),"
                                   " ('vm-b', 1680000600)"));
    /* vm-a holds both notices waiting; vm-c, never recorded, a lease on a
     * finished one (not counted) */
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET lease_node = 'vm-a',"
                                   " lease_until = 1680000700 + id WHERE state = 0"));
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET lease_node = 'vm-c',"
                                   " lease_until = 1680000900 WHERE id = 1"));
    PQclear(tkl_pg_fixture_exec(c, "UPDATE notices SET state = 0, attempts = 0,"
                                   " lease_node = 'vm-d', lease_until = 1680000800 WHERE id = 2"));
    PQfinish(c);
    struct tkl_pg_status s;
    char *err = NULL;
    ck_assert_int_eq(tkl_pg_status_read(conninfo, 0, 0, &s, &err), 0);
    ck_assert_uint_eq(s.n_nodes, 3);
    ck_assert_str_eq(s.nodes[0].id, "vm-a");
    ck_assert_int_eq(s.nodes[0].last_seen, 1680000500);
    ck_assert_int_eq(s.nodes[0].leases, 2);
    ck_assert_int_eq(s.nodes[0].lease_until, 1680000704);
    ck_assert_str_eq(s.nodes[1].id, "vm-b");
    ck_assert_int_eq(s.nodes[1].leases, 0);
    ck_assert_int_eq(s.nodes[1].lease_until, INT64_MIN);
    ck_assert_str_eq(s.nodes[2].id, "vm-d");
    ck_assert_int_eq(s.nodes[2].last_seen, INT64_MIN);
    ck_assert_int_eq(s.nodes[2].leases, 1);
    tkl_pg_status_free(&s);
}
END_TEST

START_TEST(a_database_without_state_says_so)
{
    struct tkl_pg_status s;
    char *err = NULL;
    ck_assert_int_eq(tkl_pg_status_read(conninfo, 0, 0, &s, &err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "holds no tickler state yet"));
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_status");
    TCase *tc = tcase_create("pg_status");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_numbers_are_those_of_the_outbox);
    tcase_add_test(tc, the_nodes_are_listed_with_their_leases);
    tcase_add_test(tc, a_database_without_state_says_so);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
