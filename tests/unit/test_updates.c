/* Tests for daemon/outbox/updates.c: officers' updates recorded once
 * (a repeated POST records nothing more), read back whole in the order
 * recorded, by action and period, never changed or deleted (the table
 * refuses it), and clean failure when any allocation fails. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "outbox_fixture.h"
#include "outbox/updates.h"

static char dir[256];
static struct tkl_outbox *o;

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    tkl_disk_full_install();
    tkl_disk_full = 0;
    tkl_outbox_dir(dir, sizeof(dir), "updates");
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(dir, &o, &err), 0);
}

static void teardown(void)
{
    tkl_outbox_close(o);
    o = NULL;
    tkl_outbox_dir_remove(dir);
}

static struct tkl_update note(const char *action, int64_t at, const char *text)
{
    return (struct tkl_update){.action_id = (char *)action,
                               .recipient = "hr@example.org",
                               .team_id = "hr",
                               .kind = TKL_UPDATE_PROGRESS,
                               .at = at,
                               .link_issued_at = 1000,
                               .until_day = TKL_NO_DAY,
                               .rag = TKL_RAG_AMBER,
                               .note = (char *)text,
                               .plan_deadline_day = 20543,
                               .plan_deadline_text = "31/03/2026",
                               .plan_status = "In progress",
                               .plan_owners = "HR"};
}

START_TEST(an_update_is_recorded_once)
{
    struct tkl_update u = note("a1", 5000, "<b>Draft</b> with legal");
    int64_t id = 0, again = 0;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &id, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(id, 0);
    u.at = 5060; /* the same POST a minute later */
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &again, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(again, id);
    u.note = "<b>Draft</b> with legal, signed off";
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &again, &is_new), 0);
    ck_assert(is_new);
    /* a completion has no note, a snooze a day: NULLs compare as equal */
    struct tkl_update c = note("a1", 6000, NULL);
    c.kind = TKL_UPDATE_COMPLETE;
    c.rag = TKL_RAG_NONE;
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &again, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(again, id);
    int64_t v = 0;
    ck_assert_int_eq(tkl_outbox_updates_version(o, &v), 0);
    ck_assert_int_eq(v, id);
}
END_TEST

/* The plan has the last word: once it says otherwise (a new deadline, a
 * new status, new owners for a "not ours"), the same button pressed again
 * through the same link says it anew, against the plan as it now stands,
 * and is recorded. */
START_TEST(the_same_update_against_a_changed_plan_is_recorded_again)
{
    struct tkl_update c = note("a1", 6000, NULL);
    c.kind = TKL_UPDATE_COMPLETE;
    c.rag = TKL_RAG_NONE;
    int64_t first = 0, id = 0;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &first, &is_new), 0);
    ck_assert(is_new);
    c.at = 7000;
    c.plan_deadline_day = 20600; /* the plan moved the deadline */
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(id, first);
    c.at = 8000;
    c.plan_status = "Delayed"; /* and then the status */
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &first, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(!is_new); /* against the same plan: nothing more */
    ck_assert_int_eq(id, first);
    c.plan_owners = "HR / ICT"; /* owners overrule a "not ours" only */
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(!is_new);
    struct tkl_update x = note("a1", 9000, NULL);
    x.kind = TKL_UPDATE_NOT_OURS;
    x.rag = TKL_RAG_NONE;
    ck_assert_int_eq(tkl_outbox_add_update(o, &x, &first, &is_new), 0);
    ck_assert(is_new);
    x.plan_owners = "HR / ICT";
    ck_assert_int_eq(tkl_outbox_add_update(o, &x, &id, &is_new), 0);
    ck_assert(is_new);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 5);
    tkl_updates_free(&l);
}
END_TEST

/* A state database made before the plan was part of an update's identity
 * (its unique index without it) takes the same update against a changed
 * plan too, once opened. */
START_TEST(an_older_database_takes_it_too)
{
    struct tkl_update c = note("a1", 6000, NULL);
    c.kind = TKL_UPDATE_COMPLETE;
    c.rag = TKL_RAG_NONE;
    struct tkl_update g = note("a1", 6100, "on track"), a = note("a1", 6200, "waiting");
    g.rag = TKL_RAG_GREEN;
    int64_t id = 0, amber = 0, n = -1;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &g, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &amber, &is_new), 0);
    tkl_outbox_close(o);
    char path[300], *err = NULL;
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "DROP INDEX updates_once_after;"
                                  "ALTER TABLE updates DROP COLUMN after_id;"
                                  "CREATE UNIQUE INDEX updates_once ON updates(action_id, "
                                  "recipient, kind, link_issued_at, coalesce(until_day, ''), rag, "
                                  "coalesce(note, ''), coalesce(suggested_team, ''));",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    ck_assert_int_eq(tkl_outbox_open(dir, &o, &err), 0);
    /* the rows recorded before are given what they follow: amber, the
     * link's last, pressed again is found, and counts once */
    a.at = 6300;
    ck_assert_int_eq(tkl_outbox_link_updates(o, &a, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &id, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(id, amber);
    /* green said again after it is a new update */
    g.at = 6400;
    ck_assert_int_eq(tkl_outbox_add_update(o, &g, &id, &is_new), 0);
    ck_assert(is_new);
    /* and the plan in the identity, as before */
    c.plan_deadline_day = 20600;
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &c, &id, &is_new), 0);
    ck_assert(!is_new);
    /* still append-only */
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_ne(sqlite3_exec(db, "UPDATE updates SET note = 'x'", NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

/* What a link says last holds: green, amber, then green again through the
 * same link is three updates, and only a repeat of the last (a retry, a
 * second press) records nothing. */
START_TEST(said_again_after_something_else_is_recorded)
{
    struct tkl_update g = note("a1", 5000, "On track"), a = note("a1", 5100, "Waiting on HR");
    g.rag = TKL_RAG_GREEN;
    int64_t first = 0, second = 0, third = 0, again = 0;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &g, &first, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &second, &is_new), 0);
    ck_assert(is_new);
    g.at = 5200;
    ck_assert_int_eq(tkl_outbox_add_update(o, &g, &third, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(third, second);
    ck_assert_int_gt(second, first);
    g.at = 5300; /* pressed again: the third found */
    ck_assert_int_eq(tkl_outbox_add_update(o, &g, &again, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(again, third);
    a.at = 5400; /* amber again after green: recorded */
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &again, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(again, third);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_int_eq(l.v[3].rag, TKL_RAG_AMBER); /* what holds now */
    tkl_updates_free(&l);
}
END_TEST

/* An officer saying again what a colleague has since contradicted, through
 * another link, records it anew, so that it holds; pressed again, it is
 * found; the colleague saying theirs again records that anew in turn. The
 * same for a snooze. */
START_TEST(said_again_after_a_colleague_said_otherwise_is_recorded)
{
    struct tkl_update alice = note("a1", 5000, "Report drafted"), bob = note("a1", 5100, "Blocked");
    alice.rag = TKL_RAG_GREEN;
    bob.recipient = "bob@example.org";
    bob.link_issued_at = 1500;
    bob.rag = TKL_RAG_RED;
    int64_t a1 = 0, b1 = 0, a2 = 0, again = 0, b2 = 0, n = -1;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &alice, &a1, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &bob, &b1, &is_new), 0);
    ck_assert(is_new);
    alice.at = 5200;
    ck_assert_int_eq(tkl_outbox_link_updates(o, &alice, &n), 0);
    ck_assert_int_eq(n, 1); /* her first counts: this one is new */
    ck_assert_int_eq(tkl_outbox_add_update(o, &alice, &a2, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(a2, b1);
    alice.at = 5300; /* pressed again: found */
    ck_assert_int_eq(tkl_outbox_add_update(o, &alice, &again, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(again, a2);
    ck_assert_int_eq(tkl_outbox_link_updates(o, &alice, &n), 0);
    ck_assert_int_eq(n, 1); /* the repeat is not counted */
    bob.at = 5400;          /* and Bob's again, after hers */
    ck_assert_int_eq(tkl_outbox_add_update(o, &bob, &b2, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_gt(b2, a2);
    /* a colleague's note that says the same is no reason to record it again */
    struct tkl_update carol = alice;
    carol.recipient = "carol@example.org";
    carol.at = 5500;
    int64_t c1 = 0, c2 = 0;
    ck_assert_int_eq(tkl_outbox_add_update(o, &carol, &c1, &is_new), 0);
    ck_assert(is_new);
    carol.at = 5600;
    ck_assert_int_eq(tkl_outbox_add_update(o, &carol, &c2, &is_new), 0);
    ck_assert(!is_new);
    /* snoozes: Alice's, Bob's to another day, Alice's again */
    struct tkl_update as = note("a2", 6000, NULL), bs;
    as.kind = TKL_UPDATE_SNOOZE;
    as.rag = TKL_RAG_NONE;
    as.until_day = 20600;
    bs = as;
    bs.recipient = "bob@example.org";
    bs.until_day = 20560;
    bs.at = 6100;
    ck_assert_int_eq(tkl_outbox_add_update(o, &as, &a1, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_add_update(o, &bs, &b1, &is_new), 0);
    ck_assert(is_new);
    as.at = 6200;
    ck_assert_int_eq(tkl_outbox_add_update(o, &as, &a2, &is_new), 0);
    ck_assert(is_new);
    as.at = 6300;
    ck_assert_int_eq(tkl_outbox_add_update(o, &as, &again, &is_new), 0);
    ck_assert(!is_new);
    ck_assert_int_eq(again, a2);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 8);
    tkl_updates_free(&l);
}
END_TEST

START_TEST(a_bad_update_is_refused)
{
    struct tkl_update u = note("a1", 5000, "fine");
    u.rag = TKL_RAG_NONE;
    int64_t id = -1;
    bool is_new = true;
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &id, &is_new), -EINVAL);
    ck_assert_int_eq(id, -1);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(updates_read_back_whole_by_action_and_period)
{
    int64_t id;
    bool is_new;
    struct tkl_update s = note("a2", 3000, NULL);
    s.kind = TKL_UPDATE_SNOOZE;
    s.rag = TKL_RAG_NONE;
    s.until_day = 20600;
    s.plan_deadline_day = TKL_NO_DAY;
    struct tkl_update n = note("a1", 2000, "Caf\xc3\xa9 \"quoted\"\nsecond line");
    struct tkl_update x = note("a1", 4000, "later");
    x.kind = TKL_UPDATE_NOT_OURS;
    x.rag = TKL_RAG_NONE;
    x.suggested_team = "Comms";
    ck_assert_int_eq(tkl_outbox_add_update(o, &n, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &s, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &x, &id, &is_new), 0);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.v[0].note, n.note);
    ck_assert_str_eq(l.v[0].plan_status, "In progress");
    ck_assert_int_eq(l.v[0].plan_deadline_day, 20543);
    ck_assert_int_eq(l.v[0].rag, TKL_RAG_AMBER);
    ck_assert_int_eq(l.v[1].kind, TKL_UPDATE_SNOOZE);
    ck_assert_int_eq(l.v[1].until_day, 20600);
    ck_assert_int_eq(l.v[1].plan_deadline_day, TKL_NO_DAY);
    ck_assert_ptr_null(l.v[1].note);
    ck_assert_str_eq(l.v[2].suggested_team, "Comms");
    ck_assert_int_lt(l.v[0].id, l.v[1].id);
    tkl_updates_free(&l);
    ck_assert_int_eq(tkl_outbox_updates(o, "a1", 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    tkl_updates_free(&l);
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 3000, 4000, &l), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].action_id, "a2");
    tkl_updates_free(&l);
}
END_TEST

START_TEST(the_table_is_append_only)
{
    int64_t id;
    bool is_new;
    struct tkl_update u = note("a1", 2000, "kept");
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &id, &is_new), 0);
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_ne(sqlite3_exec(db, "UPDATE updates SET note = 'changed'", NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_ne(sqlite3_exec(db, "DELETE FROM updates", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].note, "kept");
    tkl_updates_free(&l);
}
END_TEST

/* The updates recorded through one link: its action, recipient and issue
 * time; repeats that recorded nothing are not counted, nor the update the
 * count is taken for when it is recorded already. */
START_TEST(the_updates_of_one_link_are_counted)
{
    int64_t id, n = -1;
    bool is_new;
    struct tkl_update a = note("a1", 2000, "one"), b = note("a1", 2100, "two");
    struct tkl_update other = note("a2", 2200, "elsewhere"), later = note("a1", 2300, "later");
    struct tkl_update third = note("a1", 2400, "three"), ict = third;
    later.link_issued_at = 2250; /* a newer link */
    ict.recipient = "ict@example.org";
    ck_assert_int_eq(tkl_outbox_link_updates(o, &third, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &b, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_add_update(o, &other, &id, &is_new), 0);
    /* b, the last said, pressed again is a repeat: a alone counts; a said
     * again after b is a new update: both count */
    ck_assert_int_eq(tkl_outbox_link_updates(o, &b, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(tkl_outbox_link_updates(o, &a, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(tkl_outbox_add_update(o, &later, &id, &is_new), 0);
    ck_assert_int_eq(tkl_outbox_link_updates(o, &third, &n), 0);
    ck_assert_int_eq(n, 2);
    /* b said again after another link said something else is a new update
     * too: both count */
    ck_assert_int_eq(tkl_outbox_link_updates(o, &b, &n), 0);
    ck_assert_int_eq(n, 2);
    /* the same words on another day of the plan are another update */
    b.plan_status = "Delayed";
    ck_assert_int_eq(tkl_outbox_link_updates(o, &b, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(tkl_outbox_link_updates(o, &ict, &n), 0);
    ck_assert_int_eq(n, 0);
}
END_TEST

/* How many updates another connection sees in the outbox of dir. */
static int64_t updates_seen_by_others(void)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM updates", -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* In the daemon's grouped outbox an update is one of the group's writes:
 * durable at its sync, undone with it, never committed on its own. */
START_TEST(an_update_joins_the_open_group)
{
    tkl_outbox_set_grouped(o, true);
    struct tkl_update a = note("a1", 2000, "one"), b = note("a1", 2100, "two");
    int64_t id = 0, n = 0;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &a, &id, &is_new), 0);
    ck_assert(is_new);
    ck_assert(tkl_outbox_dirty(o));
    ck_assert_int_eq(updates_seen_by_others(), 0); /* not yet durable */
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(updates_seen_by_others(), 1);
    /* a group whose commit fails takes its update with it */
    ck_assert_int_eq(tkl_outbox_add_update(o, &b, &id, &is_new), 0);
    ck_assert(is_new);
    tkl_disk_full = 1;
    int r = tkl_outbox_sync(o);
    tkl_disk_full = 0;
    ck_assert_int_eq(r, -ENOSPC);
    ck_assert_int_eq(updates_seen_by_others(), 1);
    ck_assert_int_eq(tkl_outbox_link_updates(o, &a, &n), 0);
    ck_assert_int_eq(n, 0); /* b is not there, for this connection either */
    ck_assert_int_eq(tkl_outbox_add_update(o, &b, &id, &is_new), 0);
    ck_assert(is_new); /* so it is recorded when said again */
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(updates_seen_by_others(), 2);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    struct tkl_update u = note("a1", 2000, "a note");
    unsigned long i;
    int64_t id;
    bool is_new;
    for (i = 1;; i++) {
        alloc_fail_nth(i);
        int r = tkl_outbox_add_update(o, &u, &id, &is_new);
        alloc_fail_nth(0);
        if (r == 0)
            break;
        ck_assert_int_lt(r, 0);
    }
    ck_assert(is_new);
    for (i = 1;; i++) {
        struct tkl_updates l = {0};
        alloc_fail_nth(i);
        int r = tkl_outbox_updates(o, NULL, 0, INT64_MAX, &l);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_uint_eq(l.n, 1);
            tkl_updates_free(&l);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_uint_eq(l.n, 0);
    }
    ck_assert_uint_gt(i, 3);
    for (i = 1;; i++) {
        int64_t n = -1;
        alloc_fail_nth(i);
        struct tkl_update other = note("a1", 3000, "another");
        int r = tkl_outbox_link_updates(o, &other, &n);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_int_eq(n, 1);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_int_eq(n, -1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("updates");
    TCase *tc = tcase_create("updates");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, an_update_is_recorded_once);
    tcase_add_test(tc, the_same_update_against_a_changed_plan_is_recorded_again);
    tcase_add_test(tc, an_older_database_takes_it_too);
    tcase_add_test(tc, said_again_after_something_else_is_recorded);
    tcase_add_test(tc, said_again_after_a_colleague_said_otherwise_is_recorded);
    tcase_add_test(tc, a_bad_update_is_refused);
    tcase_add_test(tc, updates_read_back_whole_by_action_and_period);
    tcase_add_test(tc, the_table_is_append_only);
    tcase_add_test(tc, the_updates_of_one_link_are_counted);
    tcase_add_test(tc, an_update_joins_the_open_group);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
