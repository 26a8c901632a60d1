/* Tests for daemon/outbox/dump.c: every row of every table in the JSON,
 * the write lock held while dumping, and the mark that says the state
 * moved. */
#include <check.h>

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "check_run.h"
#include "dump_fixture.h"
#include "outbox/dump.h"
#include "outbox_fixture.h"

static char dir[256];
static struct tkl_outbox *o;

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    tkl_outbox_dir(dir, sizeof(dir), "dump");
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(dir, &o, &err), 0);
}

static void teardown(void)
{
    tkl_outbox_close(o);
    o = NULL;
    tkl_outbox_dir_remove(dir);
}

static json_t *parse(const char *text, size_t n)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "%s: %s", e.text, text);
    ck_assert(json_is_array(j));
    ck_assert_uint_eq(json_array_size(j), n);
    return j;
}

/* A second connection to the database, as ticklerd's. */
static sqlite3 *other(void)
{
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

START_TEST(every_row_is_dumped_as_it_is)
{
    tkl_dump_fixture_fill(o);
    struct tkl_outbox_dump d;
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    ck_assert_int_eq(d.n_notices, TKL_DUMP_NOTICES);
    ck_assert_int_eq(d.n_pending, TKL_DUMP_PENDING);
    ck_assert_int_eq(d.n_sending, TKL_DUMP_SENDING);
    ck_assert_int_eq(d.n_entries, TKL_DUMP_ENTRIES);
    ck_assert_int_eq(d.n_log, TKL_DUMP_LOG);
    ck_assert_int_eq(d.n_updates, TKL_DUMP_UPDATES);
    ck_assert_int_eq(d.n_meta, TKL_DUMP_META);

    json_t *notices = parse(d.notices, TKL_DUMP_NOTICES);
    json_t *failed = json_array_get(notices, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(failed, "state")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(failed, "last_error")),
                     "550 no such \"user\"");
    ck_assert_str_eq(json_string_value(json_object_get(failed, "team_name")),
                     "Human \"Resources\"");
    ck_assert(json_is_null(json_object_get(failed, "thread_key")));
    json_decref(notices);

    json_t *entries = parse(d.entries, TKL_DUMP_ENTRIES);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(entries, 0), "title")),
                     TKL_DUMP_HARD_TITLE);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(entries, 0), "days_left")),
                     7);
    json_decref(entries);

    json_t *updates = parse(d.updates, TKL_DUMP_UPDATES);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(updates, 0), "note")),
                     TKL_DUMP_HARD_TITLE);
    json_decref(updates);
    json_t *log = parse(d.log, TKL_DUMP_LOG);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(log, 0), "key")),
                                 "EAP-1:lead-7:0"));
    json_decref(log);
    json_t *meta = parse(d.meta, TKL_DUMP_META);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(meta, 0), "value")),
                     1680000400);
    json_decref(meta);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
    ck_assert_ptr_null(d.notices);
}
END_TEST

START_TEST(an_empty_outbox_dumps_empty_arrays)
{
    struct tkl_outbox_dump d;
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    ck_assert_str_eq(d.notices, "[]");
    ck_assert_str_eq(d.updates, "[]");
    ck_assert_int_eq(d.n_notices + d.n_log + d.n_meta, 0);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
}
END_TEST

START_TEST(the_dump_holds_the_write_lock_until_it_ends)
{
    tkl_dump_fixture_fill(o);
    struct tkl_outbox_dump d;
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    sqlite3 *db = other();
    /* a daemon's write waits for the dump, and fails at once here */
    ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO meta VALUES('x', 1)", NULL, NULL, NULL),
                     SQLITE_BUSY);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO meta VALUES('x', 1)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}
END_TEST

START_TEST(a_database_being_written_is_not_dumped)
{
    sqlite3 *db = other();
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct tkl_outbox_dump d;
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), -EBUSY);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
}
END_TEST

START_TEST(a_moved_state_is_marked_and_not_dumped_again)
{
    tkl_dump_fixture_fill(o);
    struct tkl_outbox_dump d;
    int64_t at = 0;
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
    ck_assert_int_eq(tkl_outbox_get_meta(o, TKL_OUTBOX_MOVED_AT, &at), -ENOENT);
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), 0);
    ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 1700000000), 0);
    ck_assert_int_eq(tkl_outbox_get_meta(o, TKL_OUTBOX_MOVED_AT, &at), 0);
    ck_assert_int_eq(at, 1700000000);
    ck_assert_int_eq(tkl_outbox_dump_begin(o, &d), -EALREADY);
    /* and nothing is held after the refusal */
    ck_assert_int_eq(tkl_outbox_set_meta(o, "last_run", 1), 0);
}
END_TEST

START_TEST(a_dump_out_of_memory_fails_cleanly)
{
    tkl_dump_fixture_fill(o);
    int r = -ENOMEM;
    for (int n = 1; r == -ENOMEM && n < 20000; n++) {
        struct tkl_outbox_dump d;
        alloc_fail_nth(n);
        r = tkl_outbox_dump_begin(o, &d);
        alloc_fail_nth(0);
        if (r == 0)
            ck_assert_int_eq(tkl_outbox_dump_end(o, &d, 0), 0);
        else
            ck_assert_int_eq(r, -ENOMEM);
    }
    ck_assert_int_eq(r, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dump");
    TCase *tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_row_is_dumped_as_it_is);
    tcase_add_test(tc, an_empty_outbox_dumps_empty_arrays);
    tcase_add_test(tc, the_dump_holds_the_write_lock_until_it_ends);
    tcase_add_test(tc, a_database_being_written_is_not_dumped);
    tcase_add_test(tc, a_moved_state_is_marked_and_not_dumped_again);
    tcase_add_test(tc, a_dump_out_of_memory_fails_cleanly);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
