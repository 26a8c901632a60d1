/* Tests for daemon/outbox/outbox.c: commit before delivery, the
 * notification log that never produces a notice twice, states, crash
 * recovery, and clean failure when any allocation (ours or SQLite's) fails. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "capture.h"
#include "outbox_fixture.h"
#include "outbox/outbox.h"

static char dir[256];
static struct tkl_outbox *o;

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    tkl_disk_full_install();
    tkl_disk_full = 0;
    snprintf(dir, sizeof(dir), "/tmp/tickler-test-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(dir, &o, &err), 0);
}

static void teardown(void)
{
    tkl_outbox_close(o);
    o = NULL;
    tkl_outbox_dir_remove(dir);
}

static const struct tkl_notice_entry entries[] = {
    {.size = sizeof(struct tkl_notice_entry),
     .item_id = "A1",
     .title = "First \xe2\x80\x99 action",
     .owners = "HR",
     .deadline_text = "April 2023",
     .deadline_day = 19477,
     .kind = TKL_DEADLINE_DATE,
     .stage = TKL_STAGE_LEAD,
     .days_left = 7},
    {.size = sizeof(struct tkl_notice_entry),
     .item_id = "A2",
     .title = "Second",
     .deadline_day = TKL_NO_DAY,
     .kind = TKL_DEADLINE_ONGOING,
     .stage = TKL_STAGE_CHECKIN},
};
static const char *const keys[] = {"lead-7", "checkin-2023-04"};

static struct tkl_notice notice(const char *recipient)
{
    return (struct tkl_notice){.size = sizeof(struct tkl_notice),
                               .channel = "email",
                               .recipient = recipient,
                               .team_id = "hr",
                               .team_name = "Human Resources",
                               .due_at = 1680000000,
                               .entries = entries,
                               .n_entries = 2};
}

/* A new outbox, and the journal SQLite writes beside it, are its owner's
 * alone whatever the umask: they hold recipients and officers' updates. */
START_TEST(a_new_outbox_is_readable_by_its_owner_only)
{
    char other[256];
    snprintf(other, sizeof(other), "/tmp/tickler-test-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(other));
    mode_t was = umask(022);
    struct tkl_outbox *p = NULL;
    ck_assert_int_eq(tkl_outbox_open(other, &p, NULL), 0);
    umask(was);
    struct tkl_notice n = notice("hr@example.org");
    uint64_t id;
    ck_assert_int_eq(tkl_outbox_put(p, &n, keys, 1000, &id), 0);
    char db[300], wal[300];
    snprintf(db, sizeof(db), "%s/tickler.db", other);
    snprintf(wal, sizeof(wal), "%s/tickler.db-wal", other);
    struct stat st;
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(wal, &st), 0); /* written while the outbox is open */
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    tkl_outbox_close(p);
    tkl_outbox_dir_remove(other);
}
END_TEST

/* An outbox made readable by every user (before new ones were made
 * owner-only) is its owner's and group's alone once its owner opens it
 * again, saying so; one the administrator gave its group is left so. */
START_TEST(an_old_outbox_readable_by_all_is_tightened_when_opened)
{
    char other[256], db[300];
    snprintf(other, sizeof(other), "/tmp/tickler-test-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(other));
    snprintf(db, sizeof(db), "%s/tickler.db", other);
    struct tkl_outbox *p = NULL;
    ck_assert_int_eq(tkl_outbox_open(other, &p, NULL), 0);
    tkl_outbox_close(p);
    ck_assert_int_eq(chmod(db, 0644), 0); /* as a umask of 022 made it */
    tkl_capture_begin();
    ck_assert_int_eq(tkl_outbox_open(other, &p, NULL), 0);
    char *logged = tkl_capture_end();
    struct stat st;
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_ptr_nonnull(strstr(logged, "tickler.db was readable by every user (mode 0644)"));
    ck_assert_ptr_nonnull(strstr(logged, "; now 0640\n"));
    free(logged);
    tkl_outbox_close(p);
    /* the group's mode, as set, is kept, and nothing said */
    tkl_capture_begin();
    ck_assert_int_eq(tkl_outbox_open(other, &p, NULL), 0);
    logged = tkl_capture_end();
    ck_assert_str_eq(logged, "");
    free(logged);
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    tkl_outbox_close(p);
    tkl_outbox_dir_remove(other);
}
END_TEST

START_TEST(a_notice_is_produced_once)
{
    struct tkl_notice n = notice("hr@example.org");
    uint64_t id = 0, again = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    ck_assert_uint_gt(id, 0);
    /* the same entries for the same recipient: nothing new */
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 2000, &again), 0);
    ck_assert_uint_eq(again, 0);
    /* another recipient is another notice */
    n.recipient = "boss@example.org";
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 2000, &again), 0);
    ck_assert_uint_gt(again, id);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id, &s), 0);
    ck_assert_uint_eq(s->notice.n_entries, 2);
    ck_assert_str_eq(s->entries[0].title, "First \xe2\x80\x99 action");
    ck_assert_str_eq(s->stage_keys[1], "checkin-2023-04");
    ck_assert_int_eq(s->entries[1].deadline_day, TKL_NO_DAY);
    ck_assert_int_eq(s->state, TKL_NOTICE_PENDING);
    tkl_stored_notice_free(s);
}
END_TEST

static int told[8], n_told;

static void listener(void *data, int r)
{
    (void)data;
    if (n_told < 8)
        told[n_told] = r;
    n_told++;
}

/* Puts a notice to recipient rcpt (fresh log keys); returns its id. */
static uint64_t put_to(const char *rcpt)
{
    struct tkl_notice n = notice(rcpt);
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    ck_assert_uint_gt(id, 0);
    return id;
}

START_TEST(grouped_writes_are_durable_together_at_the_sync)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_eq(tkl_outbox_sync(o), 0); /* nothing open: nothing to do */
    ck_assert_int_eq(n_told, 0);
    uint64_t a = put_to("a@example.org"), b = put_to("b@example.org");
    ck_assert_int_eq(tkl_outbox_mark_sending(o, a), 0);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, b, 1001, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_set_meta(o, "last_run", 1000), 0);
    /* this connection reads its own writes; nobody else does yet */
    ck_assert(tkl_outbox_dirty(o));
    ck_assert_int_eq(tkl_outbox_probe_write(o), 0);
    uint64_t ids[4];
    ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 4), 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 0);
    unsigned long before = tkl_outbox_syncs(o);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_uint_eq(tkl_outbox_syncs(o), before + 1); /* one commit for all of them */
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_eq(n_told, 1);
    ck_assert_int_eq(told[0], 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 1);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 1);
}
END_TEST

START_TEST(a_failed_commit_undoes_the_whole_group)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    uint64_t a = put_to("a@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    /* the disk fills up between the writes and their commit */
    (void)put_to("b@example.org");
    ck_assert_int_eq(tkl_outbox_mark_sending(o, a), 0);
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_outbox_sync(o), -ENOSPC);
    tkl_disk_full = 0;
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_eq(n_told, 2);
    ck_assert_int_eq(told[1], -ENOSPC);
    /* nothing of the group is left, for this connection or another */
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 1);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
    uint64_t ids[4];
    ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 4), 1);
    ck_assert_uint_eq(ids[0], a);
    /* the log does not hold the undone notice: it can be put again */
    (void)put_to("b@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 2);
}
END_TEST

START_TEST(a_write_that_fails_in_a_group_undoes_the_group)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    uint64_t a = put_to("a@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, a, 1001, "250 ok"), 0);
    /* the disk is full: the write fails at once or, kept in SQLite's
     * cache, at the commit; either way the group is undone, told */
    tkl_disk_full = 1;
    int r = tkl_outbox_set_meta(o, "last_run", 1000);
    if (r == 0) /* the write stayed in the cache: the commit fails instead */
        r = tkl_outbox_sync(o);
    tkl_disk_full = 0;
    ck_assert_int_eq(r, -ENOSPC);
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_eq(told[n_told - 1], -ENOSPC);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 0);
    int64_t v = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(o, "last_run", &v), -ENOENT);
    /* the next write opens a new group */
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, a, 1002, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 1);
}
END_TEST

/* Opens a group with a's sending mark, then loses it: another process's
 * write makes this connection read its pages again, and that read fails
 * (a failing disk), so SQLite rolls the group back by itself. */
static void lose_a_group(uint64_t a)
{
    tkl_outbox_touched_by_other(dir);
    ck_assert_int_eq(tkl_outbox_mark_sending(o, a), 0); /* opens the group */
    tkl_disk_unreadable = 1;
    int64_t v = 0;
    int r = tkl_outbox_get_meta(o, "last_run", &v);
    tkl_disk_unreadable = 0;
    ck_assert_int_eq(r, -EIO);
}

/* A read that fails inside a group (a failing disk) makes SQLite roll the
 * group back by itself: the group is told failed, and the writes after it
 * go in a new group, durable together at its sync, not each on its own. */
START_TEST(a_read_that_sqlite_rolls_back_ends_the_group)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    uint64_t a = put_to("a@example.org"), b = put_to("b@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 2);
    lose_a_group(a);
    /* the next write ends the lost group, told, and opens a new one */
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, b, 1001, "250 ok"), 0);
    ck_assert_int_eq(n_told, 2);
    ck_assert_int_eq(told[1], -EIO);
    ck_assert(tkl_outbox_dirty(o));
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 0); /* not yet durable */
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(n_told, 3);
    ck_assert_int_eq(told[2], 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "state = 1"), 1);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0); /* a's mark was undone */
}
END_TEST

/* The same found at the sync: the group is told failed, nothing commits. */
START_TEST(a_group_sqlite_rolled_back_fails_its_sync)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    uint64_t a = put_to("a@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    lose_a_group(a);
    ck_assert_int_eq(tkl_outbox_sync(o), -EIO);
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_eq(n_told, 2);
    ck_assert_int_eq(told[1], -EIO);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), 0);
}
END_TEST

/* The unix VFS's own writes fail with errno quota_errno while it is not
 * 0 (the real pwrite(2) calls SQLite makes, as on a disk whose quota is
 * exceeded): the VFS keeps that errno as the file's last, as it does of a
 * real failure, and keeps it after the writes succeed again. */
static int quota_errno;
static sqlite3_syscall_ptr real_pwrite64, real_pwrite, real_write;

static ssize_t quota_pwrite64(int fd, const void *p, size_t n, off_t off)
{
    if (quota_errno) {
        errno = quota_errno;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite64)(fd, p, n, off);
}

static ssize_t quota_pwrite(int fd, const void *p, size_t n, off_t off)
{
    if (quota_errno) {
        errno = quota_errno;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite)(fd, p, n, off);
}

static ssize_t quota_write(int fd, const void *p, size_t n)
{
    if (quota_errno) {
        errno = quota_errno;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t))real_write)(fd, p, n);
}

/* Puts the failing writes in the unix VFS (set: true) or takes them out. */
static void quota_writes(bool set)
{
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
    ck_assert_ptr_nonnull(unix_vfs);
    static const char *const names[] = {"pwrite64", "pwrite", "write"};
    sqlite3_syscall_ptr *reals[] = {&real_pwrite64, &real_pwrite, &real_write};
    const sqlite3_syscall_ptr ours[] = {(sqlite3_syscall_ptr)quota_pwrite64,
                                        (sqlite3_syscall_ptr)quota_pwrite,
                                        (sqlite3_syscall_ptr)quota_write};
    for (size_t i = 0; i < 3; i++) {
        if (set) {
            *reals[i] = unix_vfs->xGetSystemCall(unix_vfs, names[i]);
            if (*reals[i])
                ck_assert_int_eq(unix_vfs->xSetSystemCall(unix_vfs, names[i], ours[i]), SQLITE_OK);
        } else if (*reals[i]) {
            ck_assert_int_eq(unix_vfs->xSetSystemCall(unix_vfs, names[i], *reals[i]), SQLITE_OK);
        }
    }
}

/* An exceeded quota fails the commit as the quota, through the errno the
 * unix VFS kept of the write; once room is made, a later failure that is
 * no write's (a read of a failing disk) is an I/O error again, not the
 * quota the VFS still remembers of the write-ahead log. */
START_TEST(an_errno_the_vfs_kept_of_an_earlier_write_blames_no_later_failure)
{
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, listener, NULL);
    n_told = 0;
    uint64_t a = put_to("a@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    quota_writes(true);
    quota_errno = EDQUOT;
    int r = tkl_outbox_mark_delivered(o, a, 1001, "250 ok");
    if (r == 0)
        r = tkl_outbox_sync(o);
    quota_errno = 0;
    quota_writes(false);
    ck_assert_int_eq(r, -EDQUOT);
    ck_assert_int_eq(told[n_told - 1], -EDQUOT);
    /* room made: the next group commits */
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, a, 1002, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(told[n_told - 1], 0);
    uint64_t b = put_to("b@example.org");
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    int before = n_told;
    lose_a_group(b);
    ck_assert_int_eq(tkl_outbox_sync(o), -EIO);
    ck_assert_int_eq(n_told, before + 1);
    ck_assert_int_eq(told[n_told - 1], -EIO);
}
END_TEST

START_TEST(a_batch_reads_each_notice_whole_in_order)
{
    uint64_t a = put_to("a@example.org"), b = put_to("b@example.org");
    (void)put_to("c@example.org");
    struct tkl_stored_notice **v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_outbox_mark_sending(o, a), 0);
    ck_assert_int_eq(tkl_outbox_due_batch(o, "email", 1000, 2, &v, &n), 0);
    ck_assert_uint_eq(n, 2); /* a is being sent; two at most */
    ck_assert_uint_eq(v[0]->notice.id, b);
    ck_assert_str_eq(v[0]->notice.recipient, "b@example.org");
    ck_assert_uint_eq(v[0]->notice.n_entries, 2);
    ck_assert_ptr_eq(v[0]->notice.entries, v[0]->entries);
    ck_assert_str_eq(v[0]->entries[1].item_id, "A2");
    ck_assert_str_eq(v[0]->stage_keys[0], "lead-7");
    ck_assert_str_eq(v[1]->notice.recipient, "c@example.org");
    for (size_t i = 0; i < n; i++)
        tkl_stored_notice_free(v[i]);
    free(v);
    ck_assert_int_eq(tkl_outbox_release(o, a), 0);
    ck_assert_int_eq(tkl_outbox_due_batch(o, "email", 999, 8, &v, &n), 0);
    ck_assert_uint_eq(n, 0); /* none due yet */
    free(v);
    ck_assert_int_eq(tkl_outbox_due_batch(o, "teams", 1000, 8, &v, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(v);
    /* every allocation failure: an error and nothing returned, or all */
    unsigned long i;
    for (i = 1;; i++) {
        alloc_fail_nth(i);
        int r = tkl_outbox_due_batch(o, "email", 1000, 8, &v, &n);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_uint_eq(n, 3);
            for (size_t k = 0; k < n; k++)
                tkl_stored_notice_free(v[k]);
            free(v);
        } else {
            ck_assert_int_eq(r, -ENOMEM);
        }
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 10);
}
END_TEST

/* A channel that delivers again: its notices waiting for a retry are made
 * due now, their attempts kept; one never tried, one being sent, one due
 * already and another channel's are not touched. */
START_TEST(hastening_makes_due_only_the_channel_s_notices_waiting_for_a_retry)
{
    uint64_t waiting = put_to("a@example.org");
    (void)put_to("b@example.org"); /* never tried */
    uint64_t sending = put_to("c@example.org"), due = put_to("d@example.org");
    ck_assert_int_eq(tkl_outbox_mark_retry(o, waiting, 5000, "421 down"), 0);
    ck_assert_int_eq(tkl_outbox_mark_retry(o, sending, 5000, "421 down"), 0);
    ck_assert_int_eq(tkl_outbox_mark_sending(o, sending), 0);
    ck_assert_int_eq(tkl_outbox_mark_retry(o, due, 1500, "421 down"), 0);
    int64_t n = -1;
    ck_assert_int_eq(tkl_outbox_hasten(o, "teams", 2000, NULL, 0, &n), 0);
    ck_assert_int_eq(n, 0);
    /* one a server asked to wait is kept waiting */
    ck_assert_int_eq(tkl_outbox_hasten(o, "email", 2000, &waiting, 1, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(tkl_outbox_hasten(o, "email", 2000, NULL, 0, &n), 0);
    ck_assert_int_eq(n, 1);
    uint64_t ids[8];
    ck_assert_int_eq(tkl_outbox_due(o, 2000, ids, 8), 3); /* fresh, due and waiting */
    struct tkl_stored_notice *w = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, waiting, &w), 0);
    ck_assert_int_eq(w->attempts, 1);
    tkl_stored_notice_free(w);
}
END_TEST

static uint64_t put_for(const char *recipient, const struct tkl_notice_entry *e, size_t n_entries,
                        const char *const *k, int64_t now);

/* How many notices the outbox holds. */
static size_t notices_held(void)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_outbox_list(o, false, &ids, &n), 0);
    free(ids);
    return n;
}

/* The failures to report: failed notices, no report themselves, whose
 * report key is not logged, nor the key an earlier version logged for its
 * report to one of the recipients given; a report is written with its
 * keys whole, or not at all when one of them is logged already; a
 * failure after tickler retry is one to report again. */
START_TEST(a_failure_is_reported_once_and_again_after_a_retry)
{
    uint64_t a = put_to("a@example.org"), b = put_to("b@example.org");
    uint64_t c = put_to("c@example.org");
    (void)put_to("d@example.org"); /* pending */
    ck_assert_int_eq(tkl_outbox_mark_failed(o, a, 1200, "550 no such user"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, b, 1100, "550 gone"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, c, 1300, "550 gone"), 0);
    /* c's failure was reported to admin@ by an earlier version, a notice
     * of its own, which failed too: never reported itself */
    char item[32], stage[TKL_FAILURE_KEY_MAX];
    snprintf(item, sizeof(item), "notice-%" PRIu64, c);
    struct tkl_notice_entry report = {.size = sizeof(report),
                                      .item_id = item,
                                      .title = "could not be delivered",
                                      .deadline_day = TKL_NO_DAY,
                                      .kind = TKL_DEADLINE_UNDATED,
                                      .stage = TKL_STAGE_REPORT};
    const char *old_key[] = {tkl_failure_key(c, 1000, stage)};
    uint64_t old = put_for("admin@example.org", &report, 1, old_key, 1300);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, old, 1400, "550 relay refused"), 0);
    const struct tkl_report_to to[] = {{"email", "admin@example.org"}};
    struct tkl_failures l = {0};
    ck_assert_int_eq(tkl_outbox_unreported(o, to, 1, 10, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.v[0].id, b); /* the oldest failure first */
    ck_assert_uint_eq(l.v[1].id, a);
    ck_assert_str_eq(l.v[1].last_error, "550 no such user");
    ck_assert_str_eq(l.v[1].team_name, "Human Resources");
    ck_assert_int_eq(l.v[1].created_at, 1000);
    ck_assert_int_eq(l.v[1].finished_at, 1200);
    ck_assert_uint_eq(l.v[1].n_entries, 2);
    tkl_failures_free(&l);
    ck_assert_int_eq(tkl_outbox_unreported(o, to, 1, 1, &l), 0); /* at most max */
    ck_assert_uint_eq(l.n, 1);
    tkl_failures_free(&l);
    /* asked without that recipient, c's earlier report is not its */
    ck_assert_int_eq(tkl_outbox_unreported(o, NULL, 0, 10, &l), 0);
    ck_assert_uint_eq(l.n, 3);
    tkl_failures_free(&l);
    /* one report, to two recipients, with a's and b's keys */
    char ka[TKL_FAILURE_KEY_MAX], kb[TKL_FAILURE_KEY_MAX];
    const char *both[] = {tkl_failure_key(a, 1000, ka), tkl_failure_key(b, 1000, kb)};
    ck_assert_str_eq(ka, "failure-1-1000");
    struct tkl_notice r1 = notice("admin@example.org"), r2 = notice("boss@example.org");
    r1.entries = r2.entries = &report;
    r1.n_entries = r2.n_entries = 1;
    const struct tkl_notice *reports[] = {&r1, &r2};
    size_t held = notices_held();
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put_report(o, reports, 2, both, 2, 1500, &id), 0);
    ck_assert_uint_eq(id, old + 1);
    ck_assert_uint_eq(notices_held(), held + 2);
    ck_assert_int_eq(tkl_outbox_logged(o, ka), 1);
    ck_assert_int_eq(tkl_outbox_logged(o, kb), 1);
    ck_assert_int_eq(tkl_outbox_unreported(o, to, 1, 10, &l), 0);
    ck_assert_uint_eq(l.n, 0);
    /* a key logged already: nothing is written */
    const char *again[] = {stage, ka};
    ck_assert_int_eq(tkl_outbox_put_report(o, reports, 1, again + 1, 1, 1600, &id), -EEXIST);
    ck_assert_int_eq(tkl_outbox_put_report(o, reports, 1, again, 2, 1600, &id), -EEXIST);
    ck_assert_uint_eq(notices_held(), held + 2);
    ck_assert_int_eq(tkl_outbox_logged(o, stage), 0);
    /* tickler retry: a's failure after it is a failure to report anew */
    int64_t n = 0;
    ck_assert_int_eq(tkl_outbox_requeue(o, a, 2000, &n), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, a, 2100, "550 still no such user"), 0);
    ck_assert_int_eq(tkl_outbox_unreported(o, to, 1, 10, &l), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.v[0].id, a);
    ck_assert_int_eq(l.v[0].created_at, 2000);
    tkl_failures_free(&l);
}
END_TEST

/* Of the attempts of notice id, as stored. */
static int attempts_of(uint64_t id)
{
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id, &s), 0);
    int n = s->attempts;
    tkl_stored_notice_free(s);
    return n;
}

/* A look at a notice no notifier serves puts it back, due at the next
 * look and not sending, counting no attempt past the first. */
START_TEST(a_look_counts_no_attempt)
{
    struct tkl_notice n = notice("hr@example.org");
    uint64_t id = 0, ids[8];
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tkl_outbox_mark_sending(o, id), 0);
        ck_assert_int_eq(tkl_outbox_mark_wait(o, id, 5000 + i, "no notifier"), 0);
        ck_assert_int_eq(attempts_of(id), 1);
    }
    ck_assert_int_eq(tkl_outbox_due(o, 5001, ids, 8), 0);
    ck_assert_int_eq(tkl_outbox_due(o, 5002, ids, 8), 1); /* not sending */
    ck_assert_int_eq(tkl_outbox_mark_retry(o, id, 6000, "451 later"), 0);
    ck_assert_int_eq(attempts_of(id), 2);
    ck_assert_int_eq(tkl_outbox_mark_wait(o, id, 7000, "no notifier"), 0);
    ck_assert_int_eq(attempts_of(id), 2);
}
END_TEST

START_TEST(states_retries_recovery_and_requeue)
{
    struct tkl_notice n = notice("hr@example.org");
    uint64_t id = 0, ids[8];
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 8), 1);
    /* a delivery started, then the process died: recover makes it due */
    ck_assert_int_eq(tkl_outbox_mark_sending(o, id), 0);
    ck_assert_int_eq(tkl_outbox_mark_retry(o, id, 5000, "451 try later"), 0);
    ck_assert_int_eq(tkl_outbox_due(o, 4999, ids, 8), 0);
    int64_t next = 0;
    ck_assert_int_eq(tkl_outbox_next_attempt(o, &next), 0);
    ck_assert_int_eq(next, 5000);
    ck_assert_int_eq(tkl_outbox_mark_sending(o, id), 0);
    int64_t in_flight = 0;
    ck_assert_int_eq(tkl_outbox_recover(o, 3000, &in_flight), 0);
    ck_assert_int_eq(in_flight, 1);
    ck_assert_int_eq(tkl_outbox_due(o, 3000, ids, 8), 1);
    ck_assert_int_eq(tkl_outbox_recover(o, 3000, &in_flight), 0);
    ck_assert_int_eq(in_flight, 0);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(o, 0, &st), 0);
    ck_assert_int_eq(st.retrying, 1);
    /* failed for good, then re-queued by tickler retry */
    ck_assert_int_eq(tkl_outbox_mark_failed(o, id, 6000, "550 no such user"), 0);
    ck_assert_int_eq(tkl_outbox_due(o, 99999, ids, 8), 0);
    int64_t k = 0;
    ck_assert_int_eq(tkl_outbox_requeue(o, id + 1, 7000, &k), 0);
    ck_assert_int_eq(k, 0); /* no such failed notice */
    ck_assert_int_eq(tkl_outbox_requeue(o, 0, 7000, &k), 0);
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(tkl_outbox_due(o, 0, ids, 8), 1);
    /* withdrawn (its actions completed): final, no attempt counted, never
     * due; tickler retry puts it back when named, not with every failed */
    ck_assert_int_eq(tkl_outbox_mark_withdrawn(o, id, 7500, "not sent"), 0);
    ck_assert_int_eq(tkl_outbox_due(o, 99999, ids, 8), 0);
    struct tkl_stored_notice *w = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id, &w), 0);
    ck_assert_int_eq(w->state, TKL_NOTICE_WITHDRAWN);
    ck_assert_int_eq(w->attempts, 0);
    ck_assert_str_eq(w->last_error, "not sent");
    ck_assert_str_eq(tkl_notice_state_name(w->state, w->attempts), "withdrawn");
    tkl_stored_notice_free(w);
    ck_assert_int_eq(tkl_outbox_requeue(o, 0, 7000, &k), 0);
    ck_assert_int_eq(k, 0);
    ck_assert_int_eq(tkl_outbox_requeue(o, id, 7000, &k), 0);
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(tkl_outbox_due(o, 0, ids, 8), 1);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, id, 8000, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_stats(o, 7999, &st), 0);
    ck_assert_int_eq(st.delivered_today, 1);
    ck_assert_int_eq(st.pending + st.retrying + st.failed, 0);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id, &s), 0);
    ck_assert_int_eq(s->attempts, 1); /* counted again from the re-queueing */
    ck_assert_str_eq(s->last_error, "250 ok");
    tkl_stored_notice_free(s);
}
END_TEST

/* tickler retry --failed: every failed notice queued again, but the
 * failure reports of them withdrawn, in one transaction: a failure that
 * happens again is reported anew, and the old report would tell of a
 * notice being sent, or sent already. */
START_TEST(retrying_every_failed_notice_withdraws_their_failure_reports)
{
    struct tkl_notice n = notice("hr@example.org"), m = notice("ict@example.org");
    uint64_t a = 0, b = 0, rep = 0, done = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &a), 0);
    ck_assert_int_eq(tkl_outbox_put(o, &m, keys, 1000, &b), 0);
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "notice-1",
                                 .title = "A reminder could not be delivered",
                                 .deadline_day = TKL_NO_DAY,
                                 .kind = TKL_DEADLINE_UNDATED,
                                 .stage = TKL_STAGE_REPORT};
    struct tkl_notice r = notice("admin@example.org");
    r.entries = &e;
    r.n_entries = 1;
    const char *rkeys[] = {"failure-1-1000"};
    ck_assert_int_eq(tkl_outbox_put(o, &r, rkeys, 1000, &rep), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, a, 2000, "550 no such user"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, b, 2000, "550 no such user"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, rep, 2000, "550 relay refused"), 0);
    /* a report already sent stays as it is */
    const char *dkeys[] = {"failure-2-1000"};
    e.item_id = "notice-2";
    ck_assert_int_eq(tkl_outbox_put(o, &r, dkeys, 1000, &done), 0);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, done, 2100, "250 ok"), 0);
    int64_t queued = -1, reports = -1;
    ck_assert_int_eq(tkl_outbox_requeue_failed(o, 3000, &queued, &reports), 0);
    ck_assert_int_eq(queued, 2);
    ck_assert_int_eq(reports, 1);
    uint64_t ids[8];
    ck_assert_int_eq(tkl_outbox_due(o, 3000, ids, 8), 2);
    struct tkl_stored_notice *w = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, rep, &w), 0);
    ck_assert_int_eq(w->state, TKL_NOTICE_WITHDRAWN);
    ck_assert_str_eq(w->last_error, TKL_REPORT_MOOT);
    tkl_stored_notice_free(w);
    ck_assert_int_eq(tkl_outbox_get(o, done, &w), 0);
    ck_assert_int_eq(w->state, TKL_NOTICE_DELIVERED);
    tkl_stored_notice_free(w);
    /* named, a report is queued again as asked */
    int64_t k = 0;
    ck_assert_int_eq(tkl_outbox_requeue(o, rep, 4000, &k), 0);
    ck_assert_int_eq(k, 1);
    /* nothing failed: nothing done */
    ck_assert_int_eq(tkl_outbox_requeue_failed(o, 5000, &queued, &reports), 0);
    ck_assert_int_eq(queued + reports, 0);
}
END_TEST

/* What tickler status and ticklerd --check-config compare with the
 * configured notifiers: each channel with notices waiting, and how many. */
START_TEST(waiting_notices_by_channel)
{
    static const char *const channel[] = {"teams", "email", "teams", "teams"};
    uint64_t id[4];
    for (int i = 0; i < 4; i++) {
        struct tkl_notice n = notice(i == 3 ? "z@example.org" : "a@example.org");
        n.channel = channel[i];
        char key[16];
        snprintf(key, sizeof(key), "lead-%d", i + 1);
        const char *k[] = {key, "checkin-2023-04"};
        ck_assert_int_eq(tkl_outbox_put(o, &n, k, 1000, &id[i]), 0);
    }
    ck_assert_int_eq(tkl_outbox_mark_retry(o, id[2], 9000, "451 later"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, id[3], 4000, "550 no"), 0);
    struct tkl_channel_waiting *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_outbox_waiting_channels(o, &v, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].channel, "email");
    ck_assert_int_eq(v[0].n, 1);
    ck_assert_str_eq(v[1].channel, "teams");
    ck_assert_int_eq(v[1].n, 2); /* pending and retrying; not failed */
    tkl_channel_waiting_free(v, n);
}
END_TEST

START_TEST(waiting_notices_by_age)
{
    /* three notices committed at 1000, 2000 and 3000: what waits longer
     * than a given age is what tickler status calls stuck */
    static const char *const to[] = {"a@example.org", "b@example.org", "c@example.org"};
    uint64_t id[3];
    for (int i = 0; i < 3; i++) {
        struct tkl_notice n = notice(to[i]);
        ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000 * (i + 1), &id[i]), 0);
    }
    int64_t k = -1;
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 1000, &k), 0);
    ck_assert_int_eq(k, 0); /* created before, not at */
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 2001, &k), 0);
    ck_assert_int_eq(k, 2);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(o, 0, &st), 0);
    ck_assert_int_eq(st.oldest_pending, 1000);
    /* retrying and being sent still wait; failed and delivered do not */
    ck_assert_int_eq(tkl_outbox_mark_retry(o, id[0], 9000, "451 later"), 0);
    ck_assert_int_eq(tkl_outbox_mark_sending(o, id[1]), 0);
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 3001, &k), 0);
    ck_assert_int_eq(k, 3);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, id[0], 4000, "550 no"), 0);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, id[2], 4000, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 99999, &k), 0);
    ck_assert_int_eq(k, 1);
    ck_assert_int_eq(tkl_outbox_stats(o, 0, &st), 0);
    ck_assert_int_eq(st.oldest_pending, 2000);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, id[1], 4000, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 99999, &k), 0);
    ck_assert_int_eq(k, 0);
    ck_assert_int_eq(tkl_outbox_stats(o, 0, &st), 0);
    ck_assert_int_eq(st.oldest_pending, INT64_MAX);
    /* a failed notice put back waits from the moment it was put back */
    ck_assert_int_eq(tkl_outbox_requeue(o, id[0], 5000, &k), 0);
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 5000, &k), 0);
    ck_assert_int_eq(k, 0);
    ck_assert_int_eq(tkl_outbox_count_waiting(o, 5001, &k), 0);
    ck_assert_int_eq(k, 1);
    /* when SQLite cannot allocate, an error and the count untouched */
    unsigned long i;
    for (i = 1;; i++) {
        k = -1;
        alloc_fail_nth(i);
        int r = tkl_outbox_count_waiting(o, 5001, &k);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_int_eq(k, 1);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_int_eq(k, -1);
    }
    ck_assert_uint_gt(i, 1);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    /* put, get and mark with the 1st, 2nd, ... allocation failing (ours and
     * SQLite's): an error comes back, nothing half-written stays, nothing
     * leaks (LeakSanitizer checks at exit); then the same put succeeds
     * exactly once */
    struct tkl_notice n = notice("hr@example.org");
    unsigned long i;
    for (i = 1;; i++) {
        uint64_t id = 0;
        alloc_fail_nth(i);
        int r = tkl_outbox_put(o, &n, keys, 1000, &id);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        if (r == 0 && id) {
            ck_assert_uint_lt(used, i);
            break;
        }
        ck_assert_int_lt(r, 0);
        uint64_t ids[4];
        ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 4), 0); /* nothing half-written */
    }
    ck_assert_uint_gt(i, 5);
    uint64_t ids[4], again = 0;
    ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 4), 1);
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &again), 0);
    ck_assert_uint_eq(again, 0);
    for (i = 1;; i++) {
        struct tkl_stored_notice *s = NULL;
        alloc_fail_nth(i);
        int r = tkl_outbox_get(o, ids[0], &s);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_str_eq(s->entries[1].item_id, "A2");
            tkl_stored_notice_free(s);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(s);
    }
    ck_assert_uint_gt(i, 5);
}
END_TEST

/* Commits n's entries to recipient at now; returns the notice's id. */
static uint64_t put_for(const char *recipient, const struct tkl_notice_entry *e, size_t n_entries,
                        const char *const *k, int64_t now)
{
    struct tkl_notice n = notice(recipient);
    n.entries = e;
    n.n_entries = n_entries;
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, k, now, &id), 0);
    ck_assert_uint_gt(id, 0);
    return id;
}

/* A1 and A2 to hr (delivered), then to boss (pending), a report naming
 * A1 (left out), then A2 alone to team (tried once): A1's latest is the
 * one to boss, A2's the one to team. */
static void fill_for_last(uint64_t *ret_boss, uint64_t *ret_team)
{
    uint64_t hr = put_for("hr@example.org", entries, 2, keys, 1000);
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, hr, 1100, "250 ok"), 0);
    *ret_boss = put_for("boss@example.org", entries, 2, keys, 2000);
    struct tkl_notice_entry report = {.size = sizeof(report),
                                      .item_id = "A1",
                                      .title = "could not be delivered",
                                      .deadline_day = TKL_NO_DAY,
                                      .kind = TKL_DEADLINE_UNDATED,
                                      .stage = TKL_STAGE_REPORT};
    const char *report_key[] = {"failure-1-1000"};
    put_for("admin@example.org", &report, 1, report_key, 3000);
    *ret_team = put_for("team@example.org", &entries[1], 1, &keys[1], 4000);
    ck_assert_int_eq(tkl_outbox_mark_retry(o, *ret_team, 5000, "451 later"), 0);
}

START_TEST(each_item_s_latest_notice_in_one_read)
{
    uint64_t boss = 0, team = 0;
    fill_for_last(&boss, &team);
    /* an officer's answer about A1, told to the report route: left out */
    struct tkl_notice_entry answer = {.size = sizeof(answer),
                                      .item_id = "A1",
                                      .title = "said not ours",
                                      .deadline_day = TKL_NO_DAY,
                                      .kind = TKL_DEADLINE_UNDATED,
                                      .stage = TKL_STAGE_ANSWER};
    const char *answer_key[] = {"answer-1"};
    put_for("admin@example.org", &answer, 1, answer_key, 4500);
    /* nor another owning team's update, told to a team of a joint action */
    struct tkl_notice_entry joint = answer;
    joint.stage = TKL_STAGE_JOINT;
    const char *joint_key[] = {"joint-1"};
    put_for("other@example.org", &joint, 1, joint_key, 4600);
    struct tkl_item_notices l = {0};
    ck_assert_int_eq(tkl_outbox_last_notices(o, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    const struct tkl_item_notice *a1 = tkl_item_notices_find(&l, "A1");
    const struct tkl_item_notice *a2 = tkl_item_notices_find(&l, "A2");
    ck_assert_ptr_eq(a1, &l.v[0]);
    ck_assert_ptr_eq(a2, &l.v[1]);
    ck_assert_uint_eq(a1->notice_id, boss);
    ck_assert_str_eq(a1->channel, "email");
    ck_assert_str_eq(a1->recipient, "boss@example.org");
    ck_assert_str_eq(a1->team_id, "hr");
    ck_assert_str_eq(a1->team_name, "Human Resources");
    ck_assert_str_eq(a1->stage_key, "lead-7");
    ck_assert_int_eq(a1->state, TKL_NOTICE_PENDING);
    ck_assert_str_eq(tkl_notice_state_name(a1->state, a1->attempts), "pending");
    ck_assert_int_eq(a1->created_at, 2000);
    ck_assert_int_eq(a1->finished_at, 0);
    ck_assert_uint_eq(a2->notice_id, team);
    ck_assert_str_eq(a2->recipient, "team@example.org");
    ck_assert_str_eq(a2->stage_key, "checkin-2023-04");
    ck_assert_str_eq(tkl_notice_state_name(a2->state, a2->attempts), "retrying");
    ck_assert_ptr_null(tkl_item_notices_find(&l, "A0"));
    ck_assert_ptr_null(tkl_item_notices_find(&l, "A3"));
    ck_assert_ptr_null(tkl_item_notices_find(&l, "notice-1"));
    tkl_item_notices_free(&l);
    ck_assert_uint_eq(l.n, 0);
    /* delivered, it says when */
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, boss, 6000, "250 ok"), 0);
    ck_assert_int_eq(tkl_outbox_last_notices(o, &l), 0);
    ck_assert_str_eq(tkl_notice_state_name(l.v[0].state, l.v[0].attempts), "delivered");
    ck_assert_int_eq(l.v[0].finished_at, 6000);
    tkl_item_notices_free(&l);
    /* an empty outbox has none */
    tkl_outbox_empty(dir);
    ck_assert_int_eq(tkl_outbox_last_notices(o, &l), 0);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_null(tkl_item_notices_find(&l, "A1"));
    tkl_item_notices_free(&l);
}
END_TEST

START_TEST(what_is_not_delivered_failed_first)
{
    uint64_t boss = 0, team = 0;
    fill_for_last(&boss, &team);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, boss, 6000, "550 <no such user>"), 0);
    struct tkl_notice_rows rows = {0};
    ck_assert_int_eq(tkl_outbox_undelivered(
                         o, TKL_LIST_PENDING | TKL_LIST_RETRYING | TKL_LIST_FAILED, 10, &rows),
                     0);
    ck_assert_uint_eq(rows.n, 3); /* not the delivered one to hr */
    ck_assert_uint_eq(rows.v[0].id, boss);
    ck_assert_int_eq(rows.v[0].state, TKL_NOTICE_FAILED);
    ck_assert_str_eq(rows.v[0].last_reply, "550 <no such user>");
    ck_assert_str_eq(rows.v[0].recipient, "boss@example.org");
    ck_assert_uint_eq(rows.v[0].n_entries, 2);
    ck_assert_int_eq(rows.v[0].created_at, 2000);
    ck_assert_uint_eq(rows.v[1].id, team);
    ck_assert_int_eq(rows.v[1].attempts, 1);
    ck_assert_int_eq(rows.v[1].next_attempt, 5000);
    ck_assert_str_eq(rows.v[2].recipient, "admin@example.org");
    ck_assert_ptr_null(rows.v[2].last_reply);
    tkl_notice_rows_free(&rows);
    ck_assert_int_eq(tkl_outbox_undelivered(o, TKL_LIST_RETRYING | TKL_LIST_PENDING, 10, &rows), 0);
    ck_assert_uint_eq(rows.n, 2);
    ck_assert_uint_eq(rows.v[0].id, team);
    tkl_notice_rows_free(&rows);
    ck_assert_int_eq(tkl_outbox_undelivered(o, TKL_LIST_PENDING, 10, &rows), 0);
    ck_assert_uint_eq(rows.n, 1);
    ck_assert_str_eq(rows.v[0].recipient, "admin@example.org");
    tkl_notice_rows_free(&rows);
    /* at most max */
    ck_assert_int_eq(
        tkl_outbox_undelivered(o, TKL_LIST_PENDING | TKL_LIST_RETRYING | TKL_LIST_FAILED, 1, &rows),
        0);
    ck_assert_uint_eq(rows.n, 1);
    ck_assert_uint_eq(rows.v[0].id, boss);
    tkl_notice_rows_free(&rows);
}
END_TEST

START_TEST(the_web_face_s_reads_fail_cleanly)
{
    /* with the 1st, 2nd, ... allocation failing: an error, *ret untouched,
     * nothing leaked; then the read succeeds */
    uint64_t boss = 0, team = 0;
    fill_for_last(&boss, &team);
    unsigned long i;
    for (i = 1;; i++) {
        struct tkl_item_notices l = {.n = 99};
        alloc_fail_nth(i);
        int r = tkl_outbox_last_notices(o, &l);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_uint_eq(l.n, 2);
            tkl_item_notices_free(&l);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_uint_eq(l.n, 99);
        ck_assert_ptr_null(l.v);
    }
    ck_assert_uint_gt(i, 3);
    for (i = 1;; i++) {
        struct tkl_notice_rows rows = {.n = 99};
        alloc_fail_nth(i);
        int r = tkl_outbox_undelivered(o, TKL_LIST_PENDING | TKL_LIST_RETRYING, 10, &rows);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_uint_eq(rows.n, 3);
            tkl_notice_rows_free(&rows);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_uint_eq(rows.n, 99);
    }
    ck_assert_uint_gt(i, 3);
}
END_TEST

/* The version moves with this connection's writes and another process's,
 * and stays while nothing is written; the write probe changes nothing. */
START_TEST(the_version_follows_every_write)
{
    uint64_t v0, v1, v2, v3;
    ck_assert_int_eq(tkl_outbox_version(o, &v0), 0);
    ck_assert_int_eq(tkl_outbox_probe_write(o), 0);
    ck_assert_int_eq(tkl_outbox_version(o, &v1), 0);
    ck_assert(v0 == v1);
    ck_assert_int_eq(tkl_outbox_set_meta(o, "k", 1), 0);
    ck_assert_int_eq(tkl_outbox_version(o, &v2), 0);
    ck_assert(v2 != v1);
    struct tkl_outbox *other = NULL;
    ck_assert_int_eq(tkl_outbox_open(dir, &other, NULL), 0);
    ck_assert_int_eq(tkl_outbox_set_meta(other, "k", 2), 0);
    ck_assert_int_eq(tkl_outbox_version(o, &v3), 0);
    ck_assert(v3 != v2);
    tkl_outbox_close(other);
}
END_TEST

/* The reminders of one action, newest first: no report of a failed
 * delivery, no answer told to the report route, no other owning team's
 * update. */
START_TEST(an_item_s_history_newest_first)
{
    uint64_t boss = 0, team = 0;
    fill_for_last(&boss, &team);
    struct tkl_notice_entry answer = {.size = sizeof(answer),
                                      .item_id = "A1",
                                      .title = "not ours, says hr",
                                      .deadline_day = TKL_NO_DAY,
                                      .kind = TKL_DEADLINE_UNDATED,
                                      .stage = TKL_STAGE_ANSWER};
    const char *answer_key[] = {"answer-1"};
    put_for("admin@example.org", &answer, 1, answer_key, 4500);
    struct tkl_notice_entry joint = answer;
    joint.stage = TKL_STAGE_JOINT;
    const char *joint_key[] = {"joint-1"};
    put_for("other@example.org", &joint, 1, joint_key, 4600);
    struct tkl_item_notices l = {0};
    ck_assert_int_eq(tkl_outbox_item_history(o, "A1", 10, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.v[0].notice_id, boss);
    ck_assert_str_eq(l.v[0].recipient, "boss@example.org");
    ck_assert_str_eq(l.v[0].stage_key, "lead-7");
    ck_assert_str_eq(l.v[0].item_id, "A1");
    ck_assert_str_eq(l.v[1].recipient, "hr@example.org");
    ck_assert_str_eq(tkl_notice_state_name(l.v[1].state, l.v[1].attempts), "delivered");
    ck_assert_int_eq(l.v[1].finished_at, 1100);
    tkl_item_notices_free(&l);
    ck_assert_int_eq(tkl_outbox_item_history(o, "A2", 10, &l), 0);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.v[0].notice_id, team);
    ck_assert_str_eq(l.v[0].stage_key, "checkin-2023-04");
    tkl_item_notices_free(&l);
    /* at most max, the newest */
    ck_assert_int_eq(tkl_outbox_item_history(o, "A2", 2, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.v[0].notice_id, team);
    ck_assert_uint_eq(l.v[1].notice_id, boss);
    tkl_item_notices_free(&l);
    ck_assert_int_eq(tkl_outbox_item_history(o, "A9", 10, &l), 0);
    ck_assert_uint_eq(l.n, 0);
    tkl_item_notices_free(&l);
    /* a failed allocation: an error, *ret untouched */
    unsigned long i;
    for (i = 1;; i++) {
        struct tkl_item_notices f = {.n = 99};
        alloc_fail_nth(i);
        int r = tkl_outbox_item_history(o, "A2", 10, &f);
        alloc_fail_nth(0);
        if (r == 0) {
            ck_assert_uint_eq(f.n, 3);
            tkl_item_notices_free(&f);
            break;
        }
        ck_assert_int_lt(r, 0);
        ck_assert_uint_eq(f.n, 99);
    }
    ck_assert_uint_gt(i, 3);
}
END_TEST

static void same_text(const char *a, const char *b)
{
    if (!a || !b)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

/* a (claimed) is what the table holds of b's notice (read back). */
static void same_notice(const struct tkl_stored_notice *a, const struct tkl_stored_notice *b)
{
    ck_assert_uint_eq(a->notice.id, b->notice.id);
    same_text(a->notice.recipient, b->notice.recipient);
    same_text(a->notice.thread_key, b->notice.thread_key);
    same_text(a->notice.intro, b->notice.intro);
    ck_assert_int_eq(a->attempts, b->attempts);
    ck_assert_int_eq(a->next_attempt, b->next_attempt);
    ck_assert_uint_eq(a->notice.n_entries, b->notice.n_entries);
    ck_assert_ptr_eq(a->notice.entries, a->entries);
    for (size_t i = 0; i < a->notice.n_entries; i++) {
        const struct tkl_notice_entry *x = &a->entries[i], *y = &b->entries[i];
        same_text(x->item_id, y->item_id);
        same_text(x->title, y->title);
        same_text(x->commitment, y->commitment);
        same_text(x->owners, y->owners);
        same_text(x->deadline_text, y->deadline_text);
        same_text(x->status, y->status);
        same_text(x->progress, y->progress);
        same_text(x->category, y->category);
        same_text(x->url, y->url);
        same_text(x->answer, y->answer);
        same_text(a->stage_keys[i], b->stage_keys[i]);
        ck_assert_ptr_null(x->link);
        ck_assert_int_eq(x->deadline_day, y->deadline_day);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_int_eq(x->stage, y->stage);
        ck_assert_int_eq(x->days_left, y->days_left);
        ck_assert_int_eq(x->late, y->late);
    }
}

/* Claims the notices due on email at 1000 (at most 8) and checks each is
 * what the table holds. Returns how many. */
static size_t claim_as_stored(uint64_t *ids)
{
    struct tkl_stored_notice **v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_outbox_due_batch(o, "email", 1000, 8, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *s = NULL;
        ck_assert_int_eq(tkl_outbox_get(o, v[i]->notice.id, &s), 0);
        same_notice(v[i], s);
        tkl_stored_notice_free(s);
        ids[i] = v[i]->notice.id;
        ck_assert_int_eq(tkl_outbox_mark_sending(o, ids[i]), 0);
        tkl_stored_notice_free(v[i]);
    }
    free(v);
    return n;
}

/* A claim of notices this connection put takes their entries from memory
 * (the put memo): what it gives is what the table holds, the entries the
 * log dropped left out and the kept ones in order, every field alike. */
START_TEST(a_claim_of_notices_just_put_gives_what_the_table_holds)
{
    struct tkl_notice_entry e[2] = {entries[0], entries[1]};
    e[0].commitment = "Commitment 1";
    e[0].status = "In progress";
    e[0].progress = "Half done";
    e[0].late = 1;
    e[1].category = "Race";
    e[1].url = "https://example.org/r";
    e[1].answer = "Progress (green)";
    struct tkl_notice n = notice("hr@example.org");
    n.entries = e;
    n.intro = "Please give your progress.";
    n.thread_key = "thread-1";
    uint64_t id[3] = {0}, got[8];
    /* b's first entry was logged already: b keeps its second only */
    struct tkl_notice first = notice("b@example.org");
    first.n_entries = 1;
    ck_assert_int_eq(tkl_outbox_put(o, &first, keys, 1000, &id[0]), 0);
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id[1]), 0);
    n.recipient = "b@example.org";
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id[2]), 0);
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 3);
    ck_assert_uint_eq(claim_as_stored(got), 3);
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 0); /* each taken by its claim */
    ck_assert_uint_eq(got[2], id[2]);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id[2], &s), 0);
    ck_assert_uint_eq(s->notice.n_entries, 1);
    ck_assert_str_eq(s->entries[0].item_id, "A2");
    ck_assert_str_eq(s->notice.thread_key, "thread-1"); /* one entry: its thread */
    tkl_stored_notice_free(s);
    /* released, they are claimed again from the table, the same */
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(tkl_outbox_release(o, id[i]), 0);
    ck_assert_uint_eq(claim_as_stored(got), 3);
}
END_TEST

/* An undone group gives its notices' ids again: a notice put after it
 * under the same id is claimed with its own entries, not those of the
 * undone one. */
START_TEST(a_claim_after_an_undone_group_gives_the_notice_put_since)
{
    tkl_outbox_set_grouped(o, true);
    uint64_t a = put_to("a@example.org"), again = 0, got[8];
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_outbox_sync(o), -ENOSPC);
    tkl_disk_full = 0;
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 0);
    struct tkl_notice_entry e = entries[1];
    e.title = "Put after the undone group";
    struct tkl_notice n = notice("a@example.org");
    n.entries = &e;
    n.n_entries = 1;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys + 1, 1000, &again), 0);
    ck_assert_uint_eq(again, a); /* SQLite gives the id again */
    struct tkl_stored_notice **v = NULL;
    size_t k = 0;
    ck_assert_int_eq(tkl_outbox_due_batch(o, "email", 1000, 8, &v, &k), 0);
    ck_assert_uint_eq(k, 1);
    ck_assert_uint_eq(v[0]->notice.n_entries, 1);
    ck_assert_str_eq(v[0]->entries[0].title, "Put after the undone group");
    tkl_stored_notice_free(v[0]);
    free(v);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_uint_eq(claim_as_stored(got), 1);
}
END_TEST

/* More notices than the memo keeps (half its 8,192 slots): those past it
 * are read from the table; a claim of each, in order, some released and
 * claimed again, gives what the table holds. */
START_TEST(a_claim_past_the_memo_s_room_reads_the_table)
{
    enum { N = 4200 };
    static uint64_t got[8];
    tkl_outbox_set_grouped(o, true);
    for (int i = 0; i < N; i++) {
        char rcpt[32];
        snprintf(rcpt, sizeof(rcpt), "r%d@example.org", i);
        (void)put_to(rcpt);
    }
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 4096);
    size_t claimed = 0, k;
    while ((k = claim_as_stored(got)) > 0) {
        claimed += k;
        if (claimed % 3 == 0) /* the first again, from the table */
            ck_assert_int_eq(tkl_outbox_release(o, got[0]), 0);
    }
    ck_assert_uint_gt(claimed, N);                 /* the released ones twice */
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 0); /* each found, however it probed */
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "sending = 1"), N);
}
END_TEST

/* The first slot of id in the put memo: outbox.c's memo_home, 8,192
 * slots. */
static size_t memo_home(uint64_t id)
{
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - 13));
}

/* Makes the next notice put get id next (SQLite gives max(id) + 1): a
 * finished notices row at next - 1, written by another connection. */
static void next_id(uint64_t next)
{
    char path[300], sql[256];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    snprintf(sql, sizeof(sql),
             "INSERT INTO notices(id, channel, recipient, due_at, created_at, next_attempt, "
             "state) VALUES(%llu, 'email', 'filler', 0, 0, 0, 1)",
             (unsigned long long)(next - 1));
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Notices whose ids probe the same slots of the memo: each claim finds its
 * own, whichever of them went first, and the memo is left empty. */
START_TEST(the_memo_finds_notices_whose_slots_collide)
{
    uint64_t ids[4] = {2}, got[8];
    size_t n = 1;
    for (uint64_t id = 3; n < 4 && id < 50000000; id++) /* the same first slot, or the next */
        if (memo_home(id) == memo_home(ids[0]) + (n == 3))
            ids[n++] = id;
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < 4; i++) {
        char rcpt[32];
        snprintf(rcpt, sizeof(rcpt), "c%zu@example.org", i);
        next_id(ids[i]);
        ck_assert_uint_eq(put_to(rcpt), ids[i]);
    }
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 4);
    /* the second first: the slots after it move back */
    ck_assert_int_eq(tkl_outbox_mark_retry(o, ids[1], 500, "busy"), 0);
    ck_assert_uint_eq(claim_as_stored(got), 4);
    ck_assert_uint_eq(got[0], ids[1]);
    ck_assert_uint_eq(tkl_outbox_memo_held(o), 0);
}
END_TEST

START_TEST(intro_and_answer_are_kept)
{
    struct tkl_notice_entry e[2] = {entries[0], entries[1]};
    e[0].answer = "Progress (amber), hr@example.org on 3 Dec 2026: with legal";
    struct tkl_notice n = notice("hr@example.org");
    n.entries = e;
    n.intro = "Please give your progress by Monday 22 March 2027.";
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, id, &s), 0);
    ck_assert_str_eq(s->notice.intro, n.intro);
    ck_assert_str_eq(s->entries[0].answer, e[0].answer);
    ck_assert_ptr_null(s->entries[1].answer);
    ck_assert_ptr_null(s->entries[0].link); /* links are made at delivery, never kept */
    tkl_stored_notice_free(s);
}
END_TEST

START_TEST(an_outbox_of_the_last_version_is_upgraded)
{
    /* notices and entries as the previous release made them, one pending */
    char path[300];
    sqlite3 *db = NULL;
    tkl_outbox_close(o);
    o = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    unlink(path);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "CREATE TABLE notices(id INTEGER PRIMARY KEY, channel TEXT NOT NULL,"
                     " recipient TEXT NOT NULL, team_id TEXT, team_name TEXT, thread_key TEXT,"
                     " due_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
                     " state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
                     " next_attempt INTEGER NOT NULL, last_error TEXT, finished_at INTEGER,"
                     " sending INTEGER NOT NULL DEFAULT 0);"
                     "CREATE TABLE entries(notice_id INTEGER NOT NULL, idx INTEGER NOT NULL,"
                     " item_id TEXT NOT NULL, title TEXT, commitment TEXT, owners TEXT,"
                     " deadline_text TEXT, status TEXT, progress TEXT, deadline_day INTEGER,"
                     " kind INTEGER, stage INTEGER, stage_key TEXT, days_left INTEGER,"
                     " late INTEGER, category TEXT, url TEXT, PRIMARY KEY(notice_id, idx));"
                     "INSERT INTO notices(channel, recipient, due_at, created_at, next_attempt)"
                     " VALUES('email', 'hr@example.org', 900, 900, 900);"
                     "INSERT INTO entries(notice_id, idx, item_id, title, stage)"
                     " VALUES(1, 0, 'A1', 'Old', 1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    char *err = NULL;
    ck_assert_int_eq(tkl_outbox_open(dir, &o, &err), 0);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(o, 1, &s), 0);
    ck_assert_str_eq(s->entries[0].title, "Old");
    ck_assert_ptr_null(s->notice.intro);
    tkl_stored_notice_free(s);
    uint64_t ids[2];
    ck_assert_int_eq(tkl_outbox_due(o, 1000, ids, 2), 1);
}
END_TEST

/* A reader opened read-only sees what is written and writes nothing; with
 * no database it makes none. */
START_TEST(a_read_only_outbox_reads_and_writes_nothing)
{
    struct tkl_notice n = notice("hr@example.org");
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1000, &id), 0);
    struct tkl_outbox *ro = NULL;
    ck_assert_int_eq(tkl_outbox_open_readonly(dir, &ro, NULL), 0);
    struct tkl_stored_notice *s = NULL;
    ck_assert_int_eq(tkl_outbox_get(ro, id, &s), 0);
    ck_assert_str_eq(s->notice.recipient, "hr@example.org");
    tkl_stored_notice_free(s);
    uint64_t v0, v1;
    ck_assert_int_eq(tkl_outbox_version(o, &v0), 0);
    ck_assert_int_eq(tkl_outbox_set_meta(ro, "k", 1), -EACCES);
    ck_assert_int_eq(tkl_outbox_version(o, &v1), 0);
    ck_assert(v0 == v1);
    tkl_outbox_close(ro);
    char none[300], *err = NULL;
    snprintf(none, sizeof(none), "%s/none", dir);
    ro = NULL;
    ck_assert_int_eq(tkl_outbox_open_readonly(none, &ro, &err), -ENOENT);
    ck_assert_ptr_null(ro);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(access(none, F_OK), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_new_outbox_is_readable_by_its_owner_only);
    tcase_add_test(tc, an_old_outbox_readable_by_all_is_tightened_when_opened);
    tcase_add_test(tc, a_notice_is_produced_once);
    tcase_add_test(tc, states_retries_recovery_and_requeue);
    tcase_add_test(tc, a_look_counts_no_attempt);
    tcase_add_test(tc, hastening_makes_due_only_the_channel_s_notices_waiting_for_a_retry);
    tcase_add_test(tc, a_failure_is_reported_once_and_again_after_a_retry);
    tcase_add_test(tc, retrying_every_failed_notice_withdraws_their_failure_reports);
    tcase_add_test(tc, waiting_notices_by_age);
    tcase_add_test(tc, waiting_notices_by_channel);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    tcase_add_test(tc, each_item_s_latest_notice_in_one_read);
    tcase_add_test(tc, what_is_not_delivered_failed_first);
    tcase_add_test(tc, the_web_face_s_reads_fail_cleanly);
    tcase_add_test(tc, the_version_follows_every_write);
    tcase_add_test(tc, an_item_s_history_newest_first);
    tcase_add_test(tc, intro_and_answer_are_kept);
    tcase_add_test(tc, an_outbox_of_the_last_version_is_upgraded);
    tcase_add_test(tc, a_read_only_outbox_reads_and_writes_nothing);
    tcase_add_test(tc, grouped_writes_are_durable_together_at_the_sync);
    tcase_add_test(tc, a_failed_commit_undoes_the_whole_group);
    tcase_add_test(tc, a_write_that_fails_in_a_group_undoes_the_group);
    tcase_add_test(tc, a_read_that_sqlite_rolls_back_ends_the_group);
    tcase_add_test(tc, a_group_sqlite_rolled_back_fails_its_sync);
    tcase_add_test(tc, an_errno_the_vfs_kept_of_an_earlier_write_blames_no_later_failure);
    tcase_add_test(tc, a_batch_reads_each_notice_whole_in_order);
    tcase_add_test(tc, a_claim_of_notices_just_put_gives_what_the_table_holds);
    tcase_add_test(tc, a_claim_after_an_undone_group_gives_the_notice_put_since);
    tcase_add_test(tc, a_claim_past_the_memo_s_room_reads_the_table);
    tcase_add_test(tc, the_memo_finds_notices_whose_slots_collide);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
