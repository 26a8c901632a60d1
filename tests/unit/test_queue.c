/* Tests for daemon/delivery/queue.c: a round of due reminders committed to
 * the outbox, put back whole when the outbox refuses it (a lock held by
 * another connection, any allocation failing, ours or SQLite's), and then
 * queued exactly once. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "outbox_fixture.h"
#include "config/config.h"
#include "core/day.h"
#include "delivery/queue.h"

static struct tkl_config *cfg;
static struct tkl_diags diags;
static struct tkl_store *store;

#define PLAN                                                                                       \
    "Ref,Actions,Responsibility,Timeframe,Status\n"                                                \
    "A,Review the pay gap,HR,30/06/2023,\n"                                                        \
    "B,Publish the report,Policy Communities and Engagement,30/06/2023,\n"                         \
    "C,Train managers,HR / ICT,30/06/2023,\n"                                                      \
    "D,Accessible forms,ICT,31/05/2023,\n"

static int64_t at(int y, int m, int d, int hh)
{
    return tkl_local_instant(tkl_day_from_civil(y, m, d), hh * 60);
}

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    memset(&diags, 0, sizeof(diags));
    ck_assert_int_eq(tkl_config_load(TICKLER_SOURCE_DIR "/etc/tickler.conf", &cfg, &diags), 0);
    ck_assert_int_eq(tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", PLAN, strlen(PLAN),
                                           &store, &diags),
                     0);
}

static void teardown(void)
{
    tkl_store_free(store);
    tkl_config_free(cfg);
    tkl_diags_free(&diags);
}

/* A new outbox in a new directory; the directory's path goes to dir. */
static struct tkl_outbox *new_outbox(char *dir, size_t size)
{
    struct tkl_outbox *o = NULL;
    tkl_outbox_dir(dir, size, "queue");
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    tkl_outbox_set_busy_timeout(o, 10);
    return o;
}

static void remove_outbox(struct tkl_outbox *o, const char *dir)
{
    char path[300];
    tkl_outbox_close(o);
    const char *files[] = {"tickler.db", "tickler.db-wal", "tickler.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Every (channel, recipient, action, stage) in the outbox, one a line, in
 * order: what a person would count. */
static char *contents(const char *dir)
{
    char path[300], *out = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT channel || ' ' || recipient || ' ' || item_id || "
                                        "' ' || stage_key FROM notices JOIN entries ON id = "
                                        "notice_id ORDER BY 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s\n", (const char *)sqlite3_column_text(st, 0));
    ck_assert_int_eq(fclose(f), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* A schedule whose reminders of June 2023 are all due at now. */
static void build(struct tkl_scheduler *s, int64_t now)
{
    memset(s, 0, sizeof(*s));
    ck_assert_int_eq(
        tkl_scheduler_build(s, &cfg->schedule, &cfg->teams, store, at(2023, 5, 1, 8), now), 0);
    ck_assert_int_le(tkl_scheduler_next_at(s), now);
}

START_TEST(a_refused_round_is_put_back_and_queued_once)
{
    char dir[256], path[300];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    size_t due = s.n;

    /* another process holds the database */
    sqlite3 *other = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(tkl_queue_due(&s, &cfg->schedule, &cfg->teams, store, o, now, &res), -EBUSY);
    ck_assert_uint_eq(res.committed, 0);
    ck_assert_uint_gt(res.restored, 0);
    ck_assert_uint_eq(s.n, due);                      /* nothing lost */
    ck_assert_int_le(tkl_scheduler_next_at(&s), now); /* still due */
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    /* the lock is gone: the same round goes in, then nothing is due */
    ck_assert_int_eq(tkl_queue_due(&s, &cfg->schedule, &cfg->teams, store, o, now, &res), 0);
    ck_assert_uint_gt(res.committed, 2);
    ck_assert_int_gt(tkl_scheduler_next_at(&s), now);
    size_t committed = res.committed;
    ck_assert_int_eq(tkl_queue_due(&s, &cfg->schedule, &cfg->teams, store, o, now, &res), 0);
    ck_assert_uint_eq(res.committed, 0);

    /* the same as a round that was never refused */
    char dir2[256];
    struct tkl_scheduler s2;
    struct tkl_outbox *o2 = new_outbox(dir2, sizeof(dir2));
    build(&s2, now);
    ck_assert_int_eq(tkl_queue_due(&s2, &cfg->schedule, &cfg->teams, store, o2, now, &res), 0);
    ck_assert_uint_eq(res.committed, committed);
    char *a = contents(dir), *b = contents(dir2);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "email hr@maidstone.example A "));
    free(a);
    free(b);
    tkl_scheduler_free(&s);
    tkl_scheduler_free(&s2);
    remove_outbox(o, dir);
    remove_outbox(o2, dir2);
}
END_TEST

START_TEST(a_round_committed_in_part_queues_the_rest_once)
{
    /* the outbox takes the first notice of the round, then refuses: the
     * round is put back, and the next one adds only what was missing */
    char dir[256], ref[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s, s2;
    struct tkl_queue_result res;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir)), *o2 = new_outbox(ref, sizeof(ref));
    build(&s2, now);
    ck_assert_int_eq(tkl_queue_due(&s2, &cfg->schedule, &cfg->teams, store, o2, now, &res), 0);
    char *want = contents(ref);
    unsigned long i;
    for (i = 1;; i++) {
        build(&s, now);
        alloc_fail_nth(i);
        int r = tkl_queue_due(&s, &cfg->schedule, &cfg->teams, store, o, now, &res);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        if (r < 0)
            ck_assert_int_le(tkl_scheduler_next_at(&s), now); /* put back, still due */
        for (int round = 0; round < 3 && tkl_scheduler_next_at(&s) <= now; round++)
            ck_assert_int_eq(tkl_queue_due(&s, &cfg->schedule, &cfg->teams, store, o, now, &res),
                             0);
        ck_assert_int_gt(tkl_scheduler_next_at(&s), now);
        char *got = contents(dir);
        ck_assert_str_eq(got, want); /* each notice exactly once */
        free(got);
        tkl_scheduler_free(&s);
        tkl_outbox_empty(dir);
        if (r == 0 && used < i)
            break;
    }
    ck_assert_uint_gt(i, 20);
    free(want);
    tkl_scheduler_free(&s2);
    remove_outbox(o, dir);
    remove_outbox(o2, ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_refused_round_is_put_back_and_queued_once);
    tcase_add_test(tc, a_round_committed_in_part_queues_the_rest_once);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
