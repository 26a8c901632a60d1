/* Tests for daemon/state/state.c and its SQLite backend (sqlite.c): every
 * completion runs once, never inside the call that queued it, when its
 * group ends: committed with the results, undone (a full disk, another
 * process holding the write lock) with r < 0; the notification log keeps a
 * notice from being put twice; a claim, its outcome and the recovery of a
 * claim never finished. */
#include <check.h>
#include <limits.h>

#include "check_run.h"
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "outbox_fixture.h"
#include "state/state.h"
#include "state_told.h"
#include "state_updates.h"

static char dir[256];
static struct tkl_outbox *o;
static struct tkl_state *st;
static unsigned long n_groups; /* group ends the backend passed on */
static int last_group;

static const struct tkl_state_lease lease = {.node = "node-a", .seconds = 60};

static void also(void *data, int r)
{
    (void)data;
    n_groups++;
    last_group = r;
}

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    tkl_disk_full_install();
    tkl_disk_full = tkl_disk_errno = tkl_disk_last_errno = 0;
    tkl_outbox_dir(dir, sizeof(dir), "state");
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    tkl_outbox_set_busy_timeout(o, 10);
    ck_assert_int_eq(tkl_state_sqlite_new(o, also, NULL, &st), 0);
    ck_assert_str_eq(tkl_state_backend(st), "sqlite");
    n_groups = 0;
}

static void teardown(void)
{
    tkl_state_close(st);
    st = NULL;
    tkl_outbox_close(o);
    o = NULL;
    tkl_outbox_dir_remove(dir);
}

static const struct tkl_notice_entry entry = {.size = sizeof(struct tkl_notice_entry),
                                              .item_id = "A1",
                                              .title = "Review the register",
                                              .deadline_day = 19477,
                                              .kind = TKL_DEADLINE_DATE,
                                              .stage = TKL_STAGE_DUE};
static const char *const keys[] = {"due"};

static struct tkl_notice notice(const char *recipient)
{
    return (struct tkl_notice){.size = sizeof(struct tkl_notice),
                               .channel = "email",
                               .recipient = recipient,
                               .team_id = "hr",
                               .team_name = "Human Resources",
                               .due_at = 1000,
                               .entries = &entry,
                               .n_entries = 1};
}

/* Puts a notice for recipient into the open group. */
static void put(const char *recipient, struct told *t)
{
    struct tkl_notice n = notice(recipient);
    inside = true;
    ck_assert_int_eq(tkl_state_put(st, &n, keys, 1000, on_put, t), 0);
    inside = false;
}

START_TEST(a_put_completes_at_its_group_s_commit_with_its_id)
{
    struct told a = {0}, b = {0}, again = {0};
    put("a@example.org", &a);
    put("b@example.org", &b);
    /* nothing told inside the calls, nothing durable before the commit */
    ck_assert_int_eq(a.calls + b.calls, 0);
    ck_assert(tkl_state_busy(st));
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(b.calls, 1);
    ck_assert_int_eq(a.r, 0);
    ck_assert_int_eq(b.r, 0);
    ck_assert_uint_gt(a.id, 0);
    ck_assert_uint_gt(b.id, a.id);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 2); /* one commit for both */
    ck_assert_uint_eq(n_groups, 1);
    ck_assert(!tkl_state_busy(st));
    /* the same key for the same recipient again: logged, nothing written */
    put("a@example.org", &again);
    ck_assert_int_eq(again.calls, 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(again.calls, 1);
    ck_assert_int_eq(again.r, 0);
    ck_assert_uint_eq(again.id, 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 2);
    /* a second commit tells nobody again */
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(a.calls + b.calls + again.calls, 3);
}
END_TEST

START_TEST(a_group_undone_at_its_commit_tells_every_operation_r_below_0)
{
    struct told a = {0}, meta = {0}, barrier = {0};
    put("a@example.org", &a);
    ck_assert_int_eq(tkl_state_set_meta(st, "last_run", 1000, on_done, &meta), 0);
    ck_assert_int_eq(tkl_state_sync(st, on_done, &barrier), 0);
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_state_commit(st), -ENOSPC);
    tkl_disk_full = 0;
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(a.r, -ENOSPC);
    ck_assert_uint_eq(a.id, 0);
    ck_assert_int_eq(meta.calls, 1);
    ck_assert_int_eq(meta.r, -ENOSPC);
    ck_assert_int_eq(barrier.r, -ENOSPC);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 0);
    /* the undone notice is not in the log: put again, it is written */
    struct told again = {0}, value = {0};
    put("a@example.org", &again);
    ck_assert_int_eq(tkl_state_get_meta(st, "last_run", on_value, &value), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(again.r, 0);
    ck_assert_uint_gt(again.id, 0);
    ck_assert_int_eq(value.calls, 1);
    ck_assert_int_eq(value.r, -ENOENT); /* the set was undone */
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 1);
}
END_TEST

/* A full disk's failure says so and names the outbox's file, which the
 * operator must make room for; another failure is its own text. */
START_TEST(a_full_disk_is_said_with_the_outbox_s_file)
{
    struct told a = {0};
    put("a@example.org", &a);
    tkl_disk_full = 1;
    int r = tkl_state_commit(st);
    tkl_disk_full = 0;
    ck_assert_int_eq(r, -ENOSPC);
    char path[300], real[PATH_MAX], want[PATH_MAX + 128], why[TKL_STATE_FAILURE_MAX];
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_ptr_nonnull(realpath(path, real));
    ck_assert_str_eq(tkl_state_where(st), real);
    snprintf(want, sizeof(want),
             "the disk holding %s, or SQLite's temporary files, is full (No space left on device)",
             real);
    ck_assert_str_eq(tkl_state_failure(st, a.r, why, sizeof(why)), want);
    ck_assert_str_eq(tkl_state_failure(st, -EBUSY, why, sizeof(why)), "Device or resource busy");
}
END_TEST

/* The commit of a group (and the group told) fails under an I/O error of
 * errno e, a write's or a sync's as SQLite's unix VFS says them. */
static int commit_under(int e, struct told *a)
{
    put("a@example.org", a);
    tkl_disk_errno = e;
    int r = tkl_state_commit(st);
    tkl_disk_errno = tkl_disk_last_errno = 0;
    return r;
}

/* An exceeded disk quota, which SQLite has as an I/O error, is said as
 * the quota of the user running ticklerd on the outbox's disk; a full
 * disk said by an I/O error (fsync's ENOSPC) as the full disk. */
START_TEST(an_exceeded_disk_quota_is_said_with_the_outbox_s_file)
{
    struct told a = {0}, b = {0};
    ck_assert_int_eq(commit_under(EDQUOT, &a), -EDQUOT);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(a.r, -EDQUOT);
    char path[300], real[PATH_MAX], want[PATH_MAX + 160], why[TKL_STATE_FAILURE_MAX];
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_ptr_nonnull(realpath(path, real));
    snprintf(want, sizeof(want),
             "the disk quota of the user running ticklerd is exceeded on the disk holding %s, or "
             "SQLite's temporary files (Disk quota exceeded)",
             real);
    ck_assert_str_eq(tkl_state_failure(st, a.r, why, sizeof(why)), want);
    ck_assert_int_eq(commit_under(ENOSPC, &b), -ENOSPC);
    ck_assert_int_eq(b.r, -ENOSPC);
    /* another I/O error is one still, and the next group commits */
    struct told c = {0}, d = {0};
    ck_assert_int_eq(commit_under(EIO, &c), -EIO);
    put("d@example.org", &d);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(d.r, 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "recipient = 'a@example.org'"), 0);
}
END_TEST

START_TEST(a_write_refused_inside_the_group_undoes_the_operations_before_it)
{
    struct told a = {0}, b = {0};
    put("a@example.org", &a);
    /* another process holds the write lock: the next group cannot open */
    ck_assert_int_eq(tkl_state_commit(st), 0);
    char path[300];
    sqlite3 *other = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct tkl_notice n = notice("b@example.org");
    ck_assert_int_eq(tkl_state_put(st, &n, keys, 1000, on_put, &b), -EBUSY);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(b.calls, 0); /* refused: never told */
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    /* a write that fails once a group holds others: the group undone */
    struct told c = {0}, d = {0};
    put("c@example.org", &c);
    tkl_disk_full = 1;
    int r = tkl_state_set_meta(st, "last_run", 1, on_done, &d);
    if (r == 0) /* kept in SQLite's cache: the commit fails instead */
        r = tkl_state_commit(st);
    tkl_disk_full = 0;
    ck_assert_int_eq(r, -ENOSPC);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.r, -ENOSPC);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "recipient = 'c@example.org'"), 0);
    sqlite3_close(other);
}
END_TEST

/* A completion that queues another operation, as the delivery engine
 * hands out in a claim's completion and records in it. */
struct chain {
    struct told first, second;
};

static void put_then_meta(void *data, int r, uint64_t id)
{
    struct chain *c = data;
    on_put(&c->first, r, id);
    inside = true;
    ck_assert_int_eq(tkl_state_set_meta(st, "last_run", 7, on_done, &c->second), 0);
    inside = false;
    ck_assert_int_eq(c->second.calls, 0);
}

START_TEST(a_completion_s_own_operations_are_committed_before_commit_returns)
{
    struct chain c = {0};
    struct tkl_notice n = notice("a@example.org");
    ck_assert_int_eq(tkl_state_put(st, &n, keys, 1000, put_then_meta, &c), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(c.first.calls, 1);
    ck_assert_int_eq(c.second.calls, 1);
    ck_assert_int_eq(c.second.r, 0);
    ck_assert(!tkl_state_busy(st));
    ck_assert_uint_eq(n_groups, 2); /* two groups: the second began in a completion */
    int64_t v = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(o, "last_run", &v), 0);
    ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(a_claim_then_its_outcome_round_trip)
{
    struct told a = {0}, b = {0}, channels = {0}, claim = {0}, none = {0};
    put("a@example.org", &a);
    put("b@example.org", &b);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    /* the claim's marks are durable when it is told */
    inside = true;
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 8, &lease, on_claim, &claim), 0);
    inside = false;
    ck_assert_int_eq(claim.calls, 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(claim.r, 0);
    ck_assert_uint_eq(claim.n, 2);
    ck_assert_uint_eq(claim.ids[0], a.id);
    ck_assert_uint_eq(claim.ids[1], b.id);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 2);
    /* leased: neither due nor claimed again, renewals complete */
    struct told renew = {0}, next = {0};
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 8, &lease, on_claim, &none), 0);
    ck_assert_int_eq(tkl_state_renew(st, claim.ids, 2, &lease, 1010, on_done, &renew), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(none.r, 0);
    ck_assert_uint_eq(none.n, 0);
    ck_assert_int_eq(renew.r, 0);
    /* outcomes: one delivered, one retried later; never "not ours" here */
    struct told out_a = {0}, out_b = {0};
    ck_assert_int_eq(tkl_state_outcome(st, a.id, TKL_STATE_DELIVERED, 1001, "250 ok", lease.node,
                                       on_done, &out_a),
                     0);
    ck_assert_int_eq(tkl_state_outcome(st, b.id, TKL_STATE_RETRY, 1500, "451 later", lease.node,
                                       on_done, &out_b),
                     0);
    ck_assert_int_eq(tkl_state_next_attempt(st, on_value, &next), 0);
    ck_assert_int_eq(out_a.calls + out_b.calls + next.calls, 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(out_a.r, 0);
    ck_assert_int_eq(out_b.r, 0);
    ck_assert_int_eq(next.r, 0);
    ck_assert_int_eq(next.value, 1500);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 1);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
    /* the channels with notices due: none before 1500, email then */
    struct told later = {0};
    ck_assert_int_eq(tkl_state_due_channels(st, 1000, on_channels, &channels), 0);
    ck_assert_int_eq(tkl_state_due_channels(st, 1500, on_channels, &later), 0);
    ck_assert_int_eq(channels.calls + later.calls, 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(channels.r, 0);
    ck_assert_uint_eq(channels.n, 0);
    ck_assert_int_eq(later.r, 0);
    ck_assert_uint_eq(later.n, 1);
}
END_TEST

START_TEST(a_claim_undone_leaves_its_notices_due)
{
    struct told a = {0}, claim = {0};
    put("a@example.org", &a);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 8, &lease, on_claim, &claim), 0);
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_state_commit(st), -ENOSPC);
    tkl_disk_full = 0;
    ck_assert_int_eq(claim.calls, 1);
    ck_assert_int_eq(claim.r, -ENOSPC); /* nothing handed: nothing to free either */
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
    struct told again = {0};
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 8, &lease, on_claim, &again), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_uint_eq(again.n, 1);
    ck_assert_uint_eq(again.ids[0], a.id);
}
END_TEST

START_TEST(recovery_makes_the_claims_never_finished_due)
{
    struct told a = {0}, b = {0}, claim = {0};
    put("a@example.org", &a);
    put("b@example.org", &b);
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 1, &lease, on_claim, &claim), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_uint_eq(claim.n, 1);
    /* the daemon dies with a's delivery in flight; the next one starts */
    tkl_state_close(st);
    tkl_outbox_close(o);
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    ck_assert_int_eq(tkl_state_sqlite_new(o, also, NULL, &st), 0);
    struct told rec = {0}, after = {0};
    ck_assert_int_eq(tkl_state_recover(st, lease.node, 2000, on_value, &rec), 0);
    ck_assert_int_eq(rec.calls, 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(rec.r, 0);
    ck_assert_int_eq(rec.value, 1);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
    ck_assert_int_eq(tkl_state_claim(st, "email", 2000, 8, &lease, on_claim, &after), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_uint_eq(after.n, 2);
}
END_TEST

/* The failures not reported, then their report with its keys, each told
 * at its group's commit; a report whose keys are logged already (a sweep
 * that raced another) is told -EEXIST and writes nothing, and the rest of
 * its group stands. */
START_TEST(a_report_of_failures_is_written_once_with_its_keys)
{
    struct told a = {0}, b = {0}, claim = {0}, fa = {0}, fb = {0}, u = {0}, r1 = {0}, r2 = {0};
    struct told other = {0}, after = {0};
    put("a@example.org", &a);
    put("b@example.org", &b);
    ck_assert_int_eq(tkl_state_claim(st, "email", 1000, 2, &lease, on_claim, &claim), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_uint_eq(claim.n, 2);
    ck_assert_int_eq(tkl_state_outcome(st, a.id, TKL_STATE_FAILED, 1100, "550 no such user",
                                       lease.node, on_done, &fa),
                     0);
    ck_assert_int_eq(
        tkl_state_outcome(st, b.id, TKL_STATE_FAILED, 1200, "550 gone", lease.node, on_done, &fb),
        0);
    const struct tkl_report_to to[] = {{"email", "admin@example.org"}};
    inside = true;
    ck_assert_int_eq(tkl_state_unreported(st, to, 1, 10, on_failures, &u), 0);
    inside = false;
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(u.r, 0);
    ck_assert_uint_eq(u.n, 2);
    ck_assert_uint_eq(u.ids[0], a.id);
    ck_assert_str_eq(u.first_title, "550 no such user");
    char ka[TKL_FAILURE_KEY_MAX], kb[TKL_FAILURE_KEY_MAX];
    const char *k[] = {tkl_failure_key(a.id, 1000, ka), tkl_failure_key(b.id, 1000, kb)};
    struct tkl_notice r = notice("admin@example.org");
    const struct tkl_notice *reports[] = {&r};
    inside = true;
    ck_assert_int_eq(tkl_state_put_report(st, reports, 1, k, 2, 1300, on_put, &r1), 0);
    inside = false;
    ck_assert_int_eq(r1.calls, 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(r1.r, 0);
    ck_assert_uint_gt(r1.id, b.id);
    put("c@example.org", &other);
    inside = true;
    ck_assert_int_eq(tkl_state_put_report(st, reports, 1, k + 1, 1, 1300, on_put, &r2), 0);
    ck_assert_int_eq(tkl_state_unreported(st, to, 1, 10, on_failures, &after), 0);
    inside = false;
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(r2.r, -EEXIST);
    ck_assert_uint_eq(r2.id, 0);
    ck_assert_int_eq(other.r, 0);
    ck_assert_uint_gt(other.id, r1.id);
    ck_assert_int_eq(after.r, 0);
    ck_assert_uint_eq(after.n, 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "recipient = 'admin@example.org'"), 1);
}
END_TEST

START_TEST(a_read_only_database_refuses_every_write)
{
    tkl_state_close(st);
    tkl_outbox_close(o);
    ck_assert_int_eq(tkl_outbox_open_readonly(dir, &o, NULL), 0);
    ck_assert_int_eq(tkl_state_sqlite_new(o, also, NULL, &st), 0);
    struct told a = {0}, meta = {0};
    struct tkl_notice n = notice("a@example.org");
    ck_assert_int_lt(tkl_state_put(st, &n, keys, 1000, on_put, &a), 0);
    ck_assert_int_lt(tkl_state_set_meta(st, "last_run", 1, on_done, &meta), 0);
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert_int_eq(a.calls + meta.calls, 0);
}
END_TEST

START_TEST(closing_tells_what_is_left)
{
    struct told a = {0};
    put("a@example.org", &a);
    tkl_state_close(st);
    st = NULL;
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(a.r, 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 1);
    ck_assert_int_eq(tkl_state_sqlite_new(o, also, NULL, &st), 0);
}
END_TEST

/* A completion that queues another set_meta each time it is told, until
 * it has been told left times. */
struct relay {
    int queued, told, left;
};

static void relay_again(void *data, int r)
{
    struct relay *c = data;
    (void)r;
    c->told++;
    if (--c->left > 0) {
        inside = true;
        ck_assert_int_eq(tkl_state_set_meta(st, "last_run", c->left, relay_again, c), 0);
        inside = false;
        c->queued++;
    }
}

START_TEST(closing_tells_every_operation_a_long_chain_of_completions_queues)
{
    /* longer than the passes one tkl_state_commit makes: close still
     * tells each operation once and commits the last write */
    struct relay c = {.queued = 1, .left = 200};
    ck_assert_int_eq(tkl_state_set_meta(st, "last_run", c.left, relay_again, &c), 0);
    tkl_state_close(st);
    st = NULL;
    ck_assert_int_eq(c.told, c.queued);
    ck_assert_int_eq(c.left, 0);
    int64_t v = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(o, "last_run", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(tkl_state_sqlite_new(o, also, NULL, &st), 0);
}
END_TEST

START_TEST(every_allocation_failure_is_refused_or_told_once)
{
    unsigned long i;
    for (i = 1;; i++) {
        struct told a = {0}, claim = {0};
        char to[64];
        snprintf(to, sizeof(to), "a%lu@example.org", i);
        struct tkl_notice n = notice(to);
        alloc_fail_nth(i);
        int rp = tkl_state_put(st, &n, keys, 1000, on_put, &a);
        int rc = tkl_state_claim(st, "email", 1000, 8, &lease, on_claim, &claim);
        (void)tkl_state_commit(st);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        /* queued: told exactly once; refused: never */
        ck_assert_int_eq(a.calls, rp == 0);
        ck_assert_int_eq(claim.calls, rc == 0);
        ck_assert(!tkl_state_busy(st));
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 10);
}
END_TEST

/* SQLite: the commit tells the completions. */
static void settle_now(struct tkl_state *s, int *calls)
{
    (void)calls;
    ck_assert_int_eq(tkl_state_commit(s), 0);
}

START_TEST(officers_updates_are_added_once_per_plan_and_read_back)
{
    updates_contract(st, st, settle_now);
    updates_reopen_contract(st, st, settle_now);
    updates_resume_contract(st, st, settle_now);
    updates_colleague_contract(st, st, settle_now);
    updates_long_texts_contract(st, st, settle_now);
    ck_assert_int_eq(last_group, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("state");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_put_completes_at_its_group_s_commit_with_its_id);
    tcase_add_test(tc, a_group_undone_at_its_commit_tells_every_operation_r_below_0);
    tcase_add_test(tc, a_full_disk_is_said_with_the_outbox_s_file);
    tcase_add_test(tc, an_exceeded_disk_quota_is_said_with_the_outbox_s_file);
    tcase_add_test(tc, a_write_refused_inside_the_group_undoes_the_operations_before_it);
    tcase_add_test(tc, a_completion_s_own_operations_are_committed_before_commit_returns);
    tcase_add_test(tc, a_claim_then_its_outcome_round_trip);
    tcase_add_test(tc, a_claim_undone_leaves_its_notices_due);
    tcase_add_test(tc, recovery_makes_the_claims_never_finished_due);
    tcase_add_test(tc, a_report_of_failures_is_written_once_with_its_keys);
    tcase_add_test(tc, a_read_only_database_refuses_every_write);
    tcase_add_test(tc, closing_tells_what_is_left);
    tcase_add_test(tc, closing_tells_every_operation_a_long_chain_of_completions_queues);
    tcase_add_test(tc, every_allocation_failure_is_refused_or_told_once);
    tcase_add_test(tc, officers_updates_are_added_once_per_plan_and_read_back);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
