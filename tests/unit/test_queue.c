/* Tests for daemon/delivery/queue.c: a round of due reminders committed to
 * the outbox, put back whole when the outbox refuses it (a lock held by
 * another connection, any allocation failing, ours or SQLite's), and then
 * queued exactly once. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "capture.h"
#include "outbox_fixture.h"
#include "config/config.h"
#include "core/day.h"
#include "delivery/queue.h"
#include "update/answer.h"

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

/* The SQLite state of each open outbox, as the daemon runs it. */
static struct {
    struct tkl_outbox *o;
    struct tkl_state *st;
} states[4];

static struct tkl_state *state_of(const struct tkl_outbox *o)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (states[i].o == o)
            return states[i].st;
    ck_abort_msg("no state for the outbox");
    return NULL;
}

/* A new outbox in a new directory, with its state; the directory's path
 * goes to dir. */
static struct tkl_outbox *new_outbox(char *dir, size_t size)
{
    struct tkl_outbox *o = NULL;
    tkl_outbox_dir(dir, size, "queue");
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    tkl_outbox_set_busy_timeout(o, 10);
    for (size_t i = 0;; i++) {
        ck_assert_uint_lt(i, sizeof(states) / sizeof(states[0]));
        if (!states[i].o) {
            ck_assert_int_eq(tkl_state_sqlite_new(o, NULL, NULL, &states[i].st), 0);
            states[i].o = o;
            break;
        }
    }
    return o;
}

static void remove_outbox(struct tkl_outbox *o, const char *dir)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (states[i].o == o) {
            tkl_state_close(states[i].st);
            states[i].o = NULL;
            states[i].st = NULL;
        }
    tkl_outbox_close(o);
    tkl_outbox_dir_remove(dir);
}

/* What a round's or a report's completion was told. */
struct told {
    int calls, r;
    struct tkl_queue_result res;
};

static void on_told(void *data, int r, const struct tkl_queue_result *res)
{
    struct told *t = data;
    t->calls++;
    t->r = r;
    t->res = *res;
}

/* Completions told other than once, after the call that queued them:
 * abort() (no check assertion: allocations may be failing). */
static void told_once(const struct told *t, int calls)
{
    if (t->calls != calls)
        abort();
}

/* A round on o's state, its group ended at once as the daemon's round
 * does; returns what its completion was told (or the refusal). */
static int queue_due(struct tkl_scheduler *s, const struct tkl_answers *ans, struct tkl_outbox *o,
                     int64_t now, struct tkl_queue_result *res)
{
    struct told t = {0};
    struct tkl_state *st = state_of(o);
    int r =
        tkl_queue_due(s, &cfg->schedule, &cfg->teams, store, ans, st, now, on_told, NULL, &t, res);
    told_once(&t, 0); /* never from inside the call */
    if (r < 0)
        return r;
    (void)tkl_state_commit(st);
    told_once(&t, 1);
    *res = t.res;
    return t.r;
}

/* A "not ours" report on o's state, its group ended at once as the
 * service does; *n: notices queued, set only when it succeeds. */
static void answers_of(struct tkl_answers *ret, struct tkl_update *v, size_t n);

static int not_ours_of(struct tkl_outbox *o, const struct tkl_team *to, const struct tkl_action *a,
                       const struct tkl_answer *ans, const struct tkl_update *u, int64_t now,
                       size_t *n)
{
    struct told t = {0};
    struct tkl_state *st = state_of(o);
    int r = tkl_queue_not_ours(st, &cfg->teams, &cfg->schedule, to, a, ans, u, now, on_told, &t);
    told_once(&t, 0);
    if (r < 0)
        return r;
    (void)tkl_state_commit(st);
    told_once(&t, 1);
    if (t.r == 0)
        *n = t.res.committed;
    return t.r;
}

/* not_ours_of, the action's answer being u's alone. */
static int not_ours(struct tkl_outbox *o, const struct tkl_team *to, const struct tkl_action *a,
                    const struct tkl_update *u, int64_t now, size_t *n)
{
    struct tkl_answers ans;
    struct tkl_update v = *u;
    answers_of(&ans, &v, 1);
    int r = not_ours_of(o, to, a, tkl_answers_find(&ans, a->id), u, now, n);
    tkl_answers_free(&ans);
    return r;
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
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), -EBUSY);
    ck_assert_uint_eq(res.committed, 0);
    ck_assert_uint_gt(res.restored, 0);
    ck_assert_uint_eq(s.n, due);                      /* nothing lost */
    ck_assert_int_le(tkl_scheduler_next_at(&s), now); /* still due */
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    /* the lock is gone: the same round goes in, then nothing is due */
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    ck_assert_uint_gt(res.committed, 2);
    ck_assert_int_gt(tkl_scheduler_next_at(&s), now);
    size_t committed = res.committed;
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    ck_assert_uint_eq(res.committed, 0);

    /* the same as a round that was never refused */
    char dir2[256];
    struct tkl_scheduler s2;
    struct tkl_outbox *o2 = new_outbox(dir2, sizeof(dir2));
    build(&s2, now);
    ck_assert_int_eq(queue_due(&s2, NULL, o2, now, &res), 0);
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

START_TEST(a_grouped_round_whose_commit_fails_is_put_back_whole)
{
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    tkl_disk_full_install(); /* before the outbox's files are opened */
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    tkl_outbox_set_grouped(o, true); /* as the daemon runs it */
    build(&s, now);
    size_t due = s.n;
    /* every notice is written into the group, then the disk is full at
     * its commit: none is kept, every reminder goes back */
    tkl_disk_full = 1;
    tkl_capture_begin();
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), -ENOSPC);
    char *log = tkl_capture_end();
    tkl_disk_full = 0;
    /* the log names no notice that was undone (its id is given again) */
    ck_assert_ptr_null(strstr(log, "queued notice"));
    ck_assert_ptr_nonnull(strstr(log, "of the round's notices to the outbox"));
    ck_assert_uint_eq(res.committed, 0);
    free(log);
    ck_assert_uint_gt(res.restored, 0);
    ck_assert_uint_eq(s.n, due);
    ck_assert_int_le(tkl_scheduler_next_at(&s), now);
    ck_assert(!tkl_outbox_dirty(o));
    uint64_t ids[4];
    ck_assert_int_eq(tkl_outbox_due(o, now, ids, 4), 0);
    /* the next round puts them all in, in one commit */
    unsigned long before = tkl_outbox_syncs(o);
    tkl_capture_begin();
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    log = tkl_capture_end();
    ck_assert_ptr_nonnull(strstr(log, "queued notice: "));
    free(log);
    ck_assert_uint_gt(res.committed, 2);
    ck_assert_uint_eq(tkl_outbox_syncs(o), before + 1);
    ck_assert(!tkl_outbox_dirty(o));
    ck_assert_int_gt(tkl_scheduler_next_at(&s), now);
    tkl_scheduler_free(&s);
    remove_outbox(o, dir);
}
END_TEST

/* What a round put a part at a time was told of its parts. */
struct parted {
    struct told t;
    int parts;
    struct tkl_queue_round *waiting; /* the round whose next part waits */
};

static void on_part_told(void *data, struct tkl_queue_round *rd)
{
    struct parted *p = data;
    p->parts++;
    p->waiting = rd;
}

static void on_parted_told(void *data, int r, const struct tkl_queue_result *res)
{
    on_told(&((struct parted *)data)->t, r, res);
}

/* A round on o's state a notice a part, started and its first part
 * committed: p says what was told. */
static void start_parted(struct tkl_scheduler *s, struct tkl_outbox *o, int64_t now,
                         struct parted *p)
{
    static const struct tkl_queue_parts one = {on_part_told, 1};
    struct tkl_queue_result res;
    struct tkl_state *st = state_of(o);
    memset(p, 0, sizeof(*p));
    ck_assert_int_eq(tkl_queue_due(s, &cfg->schedule, &cfg->teams, store, NULL, st, now,
                                   on_parted_told, &one, p, &res),
                     0);
    ck_assert_int_eq(p->parts, 0); /* never from inside the call */
    (void)tkl_state_commit(st);
    ck_assert_int_eq(p->parts, 1);
    ck_assert_int_eq(p->t.calls, 0);
}

/* A schedule of June 2023's reminders due at now, beside a reference
 * outbox that holds the same round queued whole: what a round put in parts
 * must come to. */
struct parted_run {
    char dir[256], ref[256];
    int64_t now;
    struct tkl_scheduler s, s2;
    struct tkl_outbox *o, *o2;
    size_t all, due; /* notices of the round; reminders due */
};

static void parted_begin(struct parted_run *f, bool grouped)
{
    struct tkl_queue_result res;
    f->now = at(2023, 6, 30, 10);
    f->o = new_outbox(f->dir, sizeof(f->dir));
    f->o2 = new_outbox(f->ref, sizeof(f->ref));
    tkl_outbox_set_grouped(f->o, grouped); /* grouped: as the daemon runs it */
    build(&f->s2, f->now);
    ck_assert_int_eq(queue_due(&f->s2, NULL, f->o2, f->now, &res), 0);
    f->all = res.committed;
    ck_assert_uint_gt(f->all, 2);
    build(&f->s, f->now);
    f->due = f->s.n;
}

/* The outbox holds what the reference does, each notice once. */
static void parted_end(struct parted_run *f)
{
    char *a = contents(f->dir), *b = contents(f->ref);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    tkl_scheduler_free(&f->s);
    tkl_scheduler_free(&f->s2);
    remove_outbox(f->o, f->dir);
    remove_outbox(f->o2, f->ref);
}

/* The round of f, told to p, ended part way: every reminder is back in
 * the schedule and still due, the first part alone in the outbox; the
 * next round puts in the rest, the first part not again. */
static void parted_put_back(struct parted_run *f, const struct parted *p, int r)
{
    struct tkl_queue_result res;
    ck_assert_int_eq(p->t.calls, 1);
    ck_assert_int_eq(p->t.r, r);
    ck_assert_uint_eq(p->t.res.committed, 1);
    ck_assert_uint_gt(p->t.res.restored, 0);
    ck_assert_uint_eq(f->s.n, f->due);
    ck_assert_int_le(tkl_scheduler_next_at(&f->s), f->now);
    ck_assert_int_eq(tkl_outbox_seen_by_others(f->dir, "1"), 1);
    ck_assert_int_eq(queue_due(&f->s, NULL, f->o, f->now, &res), 0);
    ck_assert_uint_eq(res.committed, f->all - 1);
    parted_end(f);
}

START_TEST(a_round_in_parts_commits_each_before_the_next_is_put)
{
    struct parted_run f;
    struct parted p;
    parted_begin(&f, true);
    unsigned long syncs = tkl_outbox_syncs(f.o);
    start_parted(&f.s, f.o, f.now, &p);
    /* each part is durable, and the round still pending, before the next
     * part is put: one notice, one commit at a time */
    for (int n = 1; p.t.calls == 0; n++) {
        ck_assert_int_eq(tkl_outbox_seen_by_others(f.dir, "1"), n);
        ck_assert_uint_eq(tkl_outbox_syncs(f.o), syncs + (unsigned long)n);
        ck_assert(!tkl_outbox_dirty(f.o));
        ck_assert_ptr_nonnull(p.waiting);
        struct tkl_queue_round *rd = p.waiting;
        p.waiting = NULL;
        tkl_queue_more(rd);
        (void)tkl_state_commit(state_of(f.o));
    }
    ck_assert_int_eq(p.t.r, 0);
    ck_assert_uint_eq(p.t.res.committed, f.all);
    ck_assert_int_eq(p.parts, (int)f.all - 1); /* the last part ends the round */
    ck_assert_int_gt(tkl_scheduler_next_at(&f.s), f.now);
    parted_end(&f);
}
END_TEST

START_TEST(a_round_abandoned_part_way_is_put_back_and_queues_the_rest_once)
{
    struct parted_run f;
    struct parted p;
    parted_begin(&f, false);
    start_parted(&f.s, f.o, f.now, &p);
    /* the daemon stops between two parts */
    tkl_queue_abandon(p.waiting);
    parted_put_back(&f, &p, -ECANCELED);
}
END_TEST

START_TEST(a_round_whose_later_part_is_undone_keeps_the_first_and_queues_the_rest_once)
{
    struct parted_run f;
    struct parted p;
    tkl_disk_full_install(); /* before the outbox's files are opened */
    parted_begin(&f, true);
    start_parted(&f.s, f.o, f.now, &p);
    /* the disk is full at the second part's commit: the round ends with
     * it; the first part stays durable */
    tkl_disk_full = 1;
    tkl_capture_begin();
    tkl_queue_more(p.waiting);
    ck_assert_int_eq(p.t.calls, 0); /* told by the commit, not before */
    (void)tkl_state_commit(state_of(f.o));
    char *log = tkl_capture_end();
    tkl_disk_full = 0;
    ck_assert_ptr_nonnull(strstr(log, "cannot commit 1 of the round's notices to the outbox"));
    free(log);
    parted_put_back(&f, &p, -ENOSPC);
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
    ck_assert_int_eq(queue_due(&s2, NULL, o2, now, &res), 0);
    char *want = contents(ref);
    unsigned long i;
    for (i = 1;; i++) {
        build(&s, now);
        alloc_fail_nth(i);
        int r = queue_due(&s, NULL, o, now, &res);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        if (r < 0)
            ck_assert_int_le(tkl_scheduler_next_at(&s), now); /* put back, still due */
        for (int round = 0; round < 3 && tkl_scheduler_next_at(&s) <= now; round++)
            ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
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

/* An update of action id of kind by who for team, recorded at when, with
 * the plan as it stands in store (so that it holds). */
static struct tkl_update update(const char *id, enum tkl_update_kind kind, const char *who,
                                const char *team, int64_t when)
{
    const struct tkl_action *a = tkl_store_find(store, id);
    ck_assert_ptr_nonnull(a);
    return (struct tkl_update){
        .action_id = (char *)id,
        .recipient = (char *)who,
        .team_id = (char *)team,
        .kind = kind,
        .at = when,
        .link_issued_at = when - 3600,
        .until_day = TKL_NO_DAY,
        .plan_deadline_day = a->deadline.day,
        .plan_deadline_text = a->deadline_text,
        .plan_status = a->status_text,
        .plan_owners = a->owners,
    };
}

/* The answers of updates v (n of them; ids given in order) on store. */
static void answers_of(struct tkl_answers *ret, struct tkl_update *v, size_t n)
{
    struct tkl_updates l = {0};
    for (size_t i = 0; i < n; i++) {
        v[i].id = (int64_t)i + 1;
        ck_assert_int_eq(tkl_updates_push(&l, &v[i]), 0);
    }
    ck_assert_int_eq(tkl_answers_build(ret, &l, store, &cfg->schedule, &cfg->teams), 0);
}

/* A marked complete; C not ours for ICT; B snoozed until 10 July 2023. */
static void three_answers(struct tkl_answers *ret)
{
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 5, 2, 10)),
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 5, 2, 11)),
        update("B", TKL_UPDATE_SNOOZE, "policy@maidstone.example", "pce", at(2023, 5, 2, 12)),
    };
    v[2].until_day = tkl_day_from_civil(2023, 7, 10);
    answers_of(ret, v, 3);
}

/* One column of the outbox's entries of item, one value a line, in order
 * of the notices. */
static char *entries_of(const char *dir, const char *column, const char *item)
{
    char path[300], sql[200], *out = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM notices JOIN entries ON id = notice_id WHERE item_id = ?1 "
             "ORDER BY notice_id, recipient",
             column);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, item, -1, SQLITE_STATIC);
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s\n",
                sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "(null)");
    ck_assert_int_eq(fclose(f), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

START_TEST(reminders_an_answer_holds_back_are_not_queued)
{
    /* A marked complete; C (HR and ICT) not ours for ICT; B snoozed past
     * today: only C to HR and D are queued */
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_answers ans;
    three_answers(&ans);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, &ans, o, now, &res), 0);
    ck_assert_uint_eq(res.held, 3);
    char *got = contents(dir);
    ck_assert_str_eq(got, "email edi.officers@maidstone.example D overdue-4\n"
                          "email hr@maidstone.example C due\n"
                          "email ict@maidstone.example D overdue-4\n");
    free(got);
    /* they were taken all the same: next come the first nags */
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2023, 7, 7, 9));
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* An overdue action its only team said is not theirs is still escalated:
 * the escalation team is sent it, with the "not ours" said, and the team
 * none; unless the escalation team has said the same. */
START_TEST(an_action_its_team_disowned_is_still_escalated)
{
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 1, 10)),
        update("D", TKL_UPDATE_NOT_OURS, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 2, 10)),
    };
    v[0].note = (char *)"Forms are Digital's";
    v[0].suggested_team = (char *)"Digital";
    answers_of(&ans, v, 1);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, &ans, o, now, &res), 0);
    ck_assert_uint_eq(res.unrouted, 0);
    char *got = entries_of(dir, "recipient || ' ' || stage_key || ': ' || answer", "D");
    ck_assert_str_eq(got, "edi.officers@maidstone.example overdue-4: Not ours, "
                          "ict@maidstone.example on 1 Jun 2023: Forms are Digital's (suggested: "
                          "Digital)\n");
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
    /* the escalation team disowned it too: held, sent to nobody */
    answers_of(&ans, v, 2);
    o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, &ans, o, now, &res), 0);
    got = entries_of(dir, "recipient", "D");
    ck_assert_str_eq(got, "");
    free(got);
    ck_assert_uint_ge(res.held, 1);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* Runs every round from now to until, each at its time; *ret_held gets
 * the reminders held back. */
static void rounds(struct tkl_scheduler *s, const struct tkl_answers *ans, struct tkl_outbox *o,
                   int64_t until, size_t *ret_held)
{
    struct tkl_queue_result res;
    *ret_held = 0;
    for (int64_t t; (t = tkl_scheduler_next_at(s)) <= until;) {
        ck_assert_int_eq(queue_due(s, ans, o, t, &res), 0);
        *ret_held += res.held;
    }
}

/* D (ICT, due 31 May 2023) is escalated to the EDI officers from its
 * 4-week nag (Wednesday 28 June); ICT snoozes it on 26 June until
 * Thursday 3 August. Runs the rounds from 1 June to 4 August on a fresh
 * outbox (the daemon stopped from 27 June 10:00 to 3 July 10:00 when
 * restart is set: built again, as a start builds it) and returns D's
 * entries, "recipient stage_key day" a line. */
static char *escalated_snooze(struct tkl_update *v, size_t n, bool restart, char **ret_answers)
{
    char dir[256];
    struct tkl_scheduler s = {0};
    struct tkl_answers none = {0}, ans;
    size_t held;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10), snoozed = at(2023, 6, 26, 10);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    rounds(&s, &none, o, snoozed, &held);
    answers_of(&ans, v, n);
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, snoozed, false), 0);
    if (restart) {
        int64_t stop = at(2023, 6, 27, 10), back = at(2023, 7, 3, 10);
        rounds(&s, &ans, o, stop, &held);
        tkl_scheduler_free(&s);
        ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, stop, back),
                         0);
        ck_assert_int_eq(
            tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, stop, false), 0);
    }
    rounds(&s, &ans, o, at(2023, 8, 4, 10), &held);
    char *got = entries_of(dir,
                           "recipient || ' ' || stage_key || ' ' || "
                           "date(due_at, 'unixepoch', 'localtime')",
                           "D");
    if (ret_answers)
        *ret_answers = entries_of(dir, "coalesce(answer, '-')", "D");
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
    return got;
}

/* An owning team's snooze holds the owners' reminders only: the copies
 * escalated to the EDI officers go on as scheduled, each saying who
 * snoozed it and until when, and none twice (the nag the snooze's end
 * brings back to ICT on 3 August is not copied again); the same across a
 * restart in the middle of the snooze. */
START_TEST(an_owners_snooze_does_not_hold_its_escalation)
{
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 8, 3);
    const char *want = "ict@maidstone.example overdue-1 2023-06-07\n"
                       "ict@maidstone.example overdue-2 2023-06-14\n"
                       "ict@maidstone.example overdue-3 2023-06-21\n"
                       "edi.officers@maidstone.example overdue-4 2023-06-28\n"
                       "edi.officers@maidstone.example overdue-m2 2023-07-31\n"
                       "ict@maidstone.example overdue-m2 2023-08-03\n";
    char *answers = NULL;
    char *got = escalated_snooze(v, 1, false, &answers);
    ck_assert_str_eq(got, want);
    free(got);
    ck_assert_str_eq(answers, "-\n-\n-\n"
                              "Snoozed by its owners until Thursday 3 August 2023, "
                              "ict@maidstone.example on 26 Jun 2023; their reminders are held "
                              "until then, this escalation goes on\n"
                              "Snoozed by its owners until Thursday 3 August 2023, "
                              "ict@maidstone.example on 26 Jun 2023; their reminders are held "
                              "until then, this escalation goes on\n"
                              "-\n");
    free(answers);
    /* stopped over the 4-week nag: caught up on 3 July, the copy alone */
    got = escalated_snooze(v, 1, true, NULL);
    ck_assert_str_eq(got, want);
    free(got);
}
END_TEST

/* The owners' why, given with their snooze, is quoted in the copies
 * escalated meanwhile, on the copy's line: its line breaks (a browser
 * sends CRLF) are spaces, its markup and quotes as typed (each channel
 * escapes the answer as it writes it). */
START_TEST(an_owners_snooze_says_why_in_the_escalations_copies)
{
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 8, 3);
    v[0].note = "Waiting for \"Finance\" <script>x</script>\r\n\r\nProgress (green), "
                "someone@else on 1 Jul 2023";
    char *answers = NULL;
    free(escalated_snooze(v, 1, false, &answers));
    static const char copy[] =
        "Snoozed by its owners until Thursday 3 August 2023, ict@maidstone.example on 26 Jun "
        "2023; their reminders are held until then, this escalation goes on. Their reason: "
        "\xe2\x80\x9cWaiting for \"Finance\" <script>x</script> Progress (green), someone@else "
        "on 1 Jul 2023\xe2\x80\x9d\n";
    char want[1024];
    snprintf(want, sizeof(want), "-\n-\n-\n%s%s-\n", copy, copy);
    ck_assert_str_eq(answers, want);
    free(answers);
}
END_TEST

/* A snooze by the escalation team itself (its link is no owning team's:
 * no team recorded) holds every reminder, its own copies included; the
 * owners' held nag comes at its end, copied to it then. */
START_TEST(the_escalation_teams_snooze_holds_it_all)
{
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_SNOOZE, "edi.officers@maidstone.example", NULL, at(2023, 6, 26, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 8, 3);
    char *got = escalated_snooze(v, 1, false, NULL);
    ck_assert_str_eq(got, "ict@maidstone.example overdue-1 2023-06-07\n"
                          "ict@maidstone.example overdue-2 2023-06-14\n"
                          "ict@maidstone.example overdue-3 2023-06-21\n"
                          "ict@maidstone.example overdue-m2 2023-08-03\n"
                          "edi.officers@maidstone.example overdue-m2 2023-08-03\n");
    free(got);
}
END_TEST

/* The owners' snooze and the escalation team's hold apart: ICT snoozes
 * D until 3 August and the EDI officers, through their own link, until
 * 3 July: ICT's reminders stay held until August, and the copies come
 * again from 3 July (the 4-week nag they held first). The other way
 * round, the EDI officers' until August holds them all, ICT's shorter
 * snooze after it notwithstanding. */
START_TEST(the_owners_snooze_and_the_escalation_teams_hold_apart)
{
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 10)),
        update("D", TKL_UPDATE_SNOOZE, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 26, 11)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 8, 3);
    v[1].until_day = tkl_day_from_civil(2023, 7, 3);
    char *got = escalated_snooze(v, 2, false, NULL);
    ck_assert_str_eq(got, "ict@maidstone.example overdue-1 2023-06-07\n"
                          "ict@maidstone.example overdue-2 2023-06-14\n"
                          "ict@maidstone.example overdue-3 2023-06-21\n"
                          "edi.officers@maidstone.example overdue-4 2023-07-03\n"
                          "edi.officers@maidstone.example overdue-m2 2023-07-31\n"
                          "ict@maidstone.example overdue-m2 2023-08-03\n");
    free(got);
    v[0].until_day = tkl_day_from_civil(2023, 7, 3);
    v[1].until_day = tkl_day_from_civil(2023, 8, 3);
    struct tkl_update w[] = {v[1], v[0]};
    w[0].at = at(2023, 6, 26, 10);
    w[1].at = at(2023, 6, 26, 11);
    w[0].id = 1;
    w[1].id = 2;
    got = escalated_snooze(w, 2, false, NULL);
    ck_assert_str_eq(got, "ict@maidstone.example overdue-1 2023-06-07\n"
                          "ict@maidstone.example overdue-2 2023-06-14\n"
                          "ict@maidstone.example overdue-3 2023-06-21\n"
                          "ict@maidstone.example overdue-m2 2023-08-03\n"
                          "edi.officers@maidstone.example overdue-m2 2023-08-03\n");
    free(got);
}
END_TEST

/* Puts a store of D alone, owned by ICT and the EDI officers (who are
 * also ICT's escalation team), in place of the suite's; returns the
 * suite's, for co_owned_end. Updates made meanwhile are of that plan. */
static struct tkl_store *co_owned_begin(void)
{
    static const char plan[] = "Ref,Actions,Responsibility,Timeframe,Status\n"
                               "D,Accessible forms,\"ICT / Equality, Diversity and Inclusion "
                               "Officer Group\",31/05/2023,\n";
    struct tkl_store *saved = store, *mine = NULL;
    ck_assert_int_eq(tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", plan, strlen(plan),
                                           &mine, &diags),
                     0);
    ck_assert_uint_eq(tkl_store_find(mine, "D")->n_teams, 2);
    store = mine;
    return saved;
}

static void co_owned_end(struct tkl_store *saved)
{
    tkl_store_free(store);
    store = saved;
}

/* The escalation team's snooze holds it all though an owning team's came
 * after it; so does the snooze of an escalation team that also owns the
 * action, through its own (owning team's) link; and an escalation team
 * that said the action is not theirs is sent no copy while the owners'
 * snooze holds. */
START_TEST(copies_the_escalation_team_held_or_disowned_are_not_sent)
{
    struct tkl_update later[] = {
        update("D", TKL_UPDATE_SNOOZE, "edi.officers@maidstone.example", NULL, at(2023, 6, 26, 10)),
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 11)),
    };
    later[0].until_day = later[1].until_day = tkl_day_from_civil(2023, 8, 3);
    char *got = escalated_snooze(later, 2, false, NULL);
    ck_assert_ptr_null(strstr(got, "edi.officers@maidstone.example overdue-4 2023-06-28"));
    ck_assert_ptr_null(strstr(got, "2023-07-31"));
    free(got);
    struct tkl_store *saved = co_owned_begin();
    struct tkl_update own[] = {
        update("D", TKL_UPDATE_SNOOZE, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 26, 10)),
    };
    own[0].until_day = tkl_day_from_civil(2023, 8, 3);
    got = escalated_snooze(own, 1, false, NULL);
    ck_assert_ptr_null(strstr(got, "edi.officers@maidstone.example overdue-4 2023-06-28"));
    ck_assert_ptr_null(strstr(got, "ict@maidstone.example overdue-4 2023-06-28"));
    free(got);
    struct tkl_update disowned[] = {
        update("D", TKL_UPDATE_NOT_OURS, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 26, 9)),
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 10)),
    };
    disowned[1].until_day = tkl_day_from_civil(2023, 8, 3);
    got = escalated_snooze(disowned, 2, false, NULL);
    co_owned_end(saved);
    ck_assert_ptr_null(strstr(got, "edi.officers@maidstone.example overdue-4"));
    ck_assert_ptr_null(strstr(got, "edi.officers@maidstone.example overdue-m2"));
    free(got);
}
END_TEST

/* The EDI officers, owners of D beside ICT and ICT's escalation team,
 * snooze it through their own link until 3 August; ICT then snoozes it
 * until 3 July. The escalation team's snooze holds it all, also when the
 * plan names it among the owners and an owning team snoozes after it
 * (officers.md): nobody is sent anything from 26 June until 3 August. */
START_TEST(an_owning_escalation_teams_snooze_outlasts_an_owners_shorter_one)
{
    struct tkl_store *saved = co_owned_begin();
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_SNOOZE, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 26, 10)),
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 26, 11)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 8, 3);
    v[1].until_day = tkl_day_from_civil(2023, 7, 3);
    char *got = escalated_snooze(v, 2, false, NULL);
    co_owned_end(saved);
    for (const char *p = got; *p; p = strchr(p, '\n') + 1) {
        char day[11];
        ck_assert_int_eq(sscanf(p, "%*s %*s %10s", day), 1);
        ck_assert_msg(strcmp(day, "2023-06-26") < 0 || strcmp(day, "2023-08-03") >= 0,
                      "sent while the EDI officers' snooze holds: %s", got);
    }
    free(got);
}
END_TEST

/* An action of two teams, one of which said it is not theirs, escalated
 * through both: the escalation team's one entry for it says the "not
 * ours", whichever team's reminder was routed first. */
START_TEST(an_escalation_of_two_teams_keeps_the_not_ours)
{
    char dir[256];
    int64_t now = at(2023, 7, 28, 10); /* C (HR / ICT) is 4 weeks overdue */
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 1, 10)),
    };
    answers_of(&ans, v, 1);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, &ans, o, now, &res), 0);
    char *got =
        entries_of(dir, "recipient || ' ' || stage_key || ': ' || coalesce(answer, '-')", "C");
    ck_assert_str_eq(got, "edi.officers@maidstone.example overdue-4: Not ours, "
                          "ict@maidstone.example on 1 Jun 2023\n"
                          "hr@maidstone.example overdue-4: -\n");
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* A notice to team of reminders at stage of the actions ids (n of them). */
static struct tkl_notice notice_of(struct tkl_notice_entry *v, const char *const *ids, size_t n,
                                   enum tkl_stage stage, const char *team)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (struct tkl_notice_entry){.size = sizeof(v[i]),
                                         .item_id = ids[i],
                                         .title = "an action",
                                         .deadline_day = tkl_day_from_civil(2023, 6, 30),
                                         .kind = TKL_DEADLINE_DATE,
                                         .stage = stage};
    return (struct tkl_notice){.size = sizeof(struct tkl_notice),
                               .channel = "email",
                               .recipient = "someone@maidstone.example",
                               .team_id = team,
                               .entries = v,
                               .n_entries = n};
}

/* Whether notice n was completed whole: 1 with the reason checked
 * against want, else what tkl_queue_completed returned. */
static int completed(const struct tkl_answers *ans, const struct tkl_notice *n, const char *want)
{
    char *why = (char *)"untouched";
    int r = tkl_queue_completed(ans, n, &why);
    if (r == 1) {
        ck_assert_str_eq(why, want);
        free(why);
    } else {
        ck_assert_ptr_null(why);
    }
    return r;
}

/* A notice queued before its actions were marked complete is withdrawn
 * when every entry is a reminder of a completed action; a snooze or a
 * "not ours" withdraws nothing (the snooze ends with the reminder it held;
 * "not ours" is one team's, and a digest may reach its recipient through
 * another), nor does a digest completed in part, nor a completion a
 * reopen followed. */
START_TEST(a_notice_completed_whole_after_it_was_queued_is_withdrawn)
{
    struct tkl_answers ans;
    three_answers(&ans);
    struct tkl_notice_entry en[4];
    struct tkl_notice n;

    n = notice_of(en, (const char *const[]){"A"}, 1, TKL_STAGE_OVERDUE, "hr");
    ck_assert_int_eq(
        completed(&ans, &n,
                  "not sent: every action in it was marked complete before its turn came: A"),
        1);
    n = notice_of(en, (const char *const[]){"A", "A"}, 2, TKL_STAGE_DUE, "ict");
    ck_assert_int_eq(
        completed(&ans, &n,
                  "not sent: every action in it was marked complete before its turn came: A, A"),
        1);
    n = notice_of(en, (const char *const[]){"A"}, 1, TKL_STAGE_CHECKIN, "hr");
    ck_assert_int_eq(
        completed(&ans, &n,
                  "not sent: every action in it was marked complete before its turn came: A"),
        1);
    /* snoozed; not ours for the very team; completed in part */
    n = notice_of(en, (const char *const[]){"B"}, 1, TKL_STAGE_DUE, "pce");
    ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    n = notice_of(en, (const char *const[]){"C"}, 1, TKL_STAGE_LEAD, "ict");
    ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    n = notice_of(en, (const char *const[]){"A", "D"}, 2, TKL_STAGE_DUE, "hr");
    ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    /* update requests, prompts of an observance and reports are no
     * reminders a completion stops */
    const enum tkl_stage others[] = {TKL_STAGE_REQUEST, TKL_STAGE_REPORT, TKL_STAGE_ANSWER};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        n = notice_of(en, (const char *const[]){"A"}, 1, others[i], "hr");
        ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    }
    n = notice_of(en, (const char *const[]){"A"}, 1, TKL_STAGE_PROMPT, "hr");
    en[0].kind = TKL_DEADLINE_EVENT;
    ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    /* no answers at all */
    n = notice_of(en, (const char *const[]){"A"}, 1, TKL_STAGE_DUE, "hr");
    ck_assert_int_eq(completed(NULL, &n, NULL), 0);
    tkl_answers_free(&ans);

    /* reopened after the completion: reminded again */
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 5, 2, 10)),
        update("A", TKL_UPDATE_REOPEN, "hr@maidstone.example", "hr", at(2023, 5, 3, 10)),
    };
    answers_of(&ans, v, 2);
    ck_assert_int_eq(completed(&ans, &n, NULL), 0);
    tkl_answers_free(&ans);
}
END_TEST

START_TEST(a_snooze_ends_with_a_reminder_even_after_a_refused_round)
{
    /* HR's A and C are due on 30 June; A is snoozed on 1 June until
     * Monday 3 July. The 30 June round is refused once: put back whole,
     * A is held and moved again when the round goes in, and its reminder
     * comes on 3 July */
    char dir[256], path[300];
    struct tkl_scheduler s = {0};
    struct tkl_queue_result res;
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 7, 3);
    answers_of(&ans, v, 1);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10), day30 = at(2023, 6, 30, 9);
    size_t held = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    rounds(&s, &ans, o, day30 - 1, &held);
    ck_assert_uint_eq(held, 4); /* lead-28, lead-14, lead-7, lead-1 */
    char *got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "");
    free(got);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), day30);
    size_t before = s.n;

    sqlite3 *other = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(queue_due(&s, &ans, o, day30, &res), -EBUSY);
    ck_assert_uint_eq(res.held, 1);
    ck_assert_uint_eq(s.n, before); /* put back as it was, A's held one too */
    ck_assert_int_eq(tkl_scheduler_next_at(&s), day30);
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    rounds(&s, &ans, o, at(2023, 7, 3, 9), &held);
    got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "due\n"); /* held on 30 June, sent on 3 July */
    free(got);
    got = entries_of(dir, "late", "A");
    ck_assert_str_eq(got, "0\n");
    free(got);
    got = entries_of(dir, "stage_key", "C");
    /* C, to HR and ICT, was not held at all */
    ck_assert_str_eq(got, "lead-28\nlead-28\nlead-14\nlead-14\nlead-7\nlead-7\nlead-1\nlead-1\n"
                          "due\ndue\n");
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* When action id's entry (the first found) is due in s, or -1. */
static int64_t entry_of(struct tkl_scheduler *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(store->actions[s->heap[i].action].id, id))
            return tkl_scheduler_entry_at(s, &s->heap[i]);
    return -1;
}

/* A (HR) has lead-14 sent on Friday 16 June at 09:00; the officer snoozes
 * from its link at 10:00 until Wednesday 21 June: that reminder was sent,
 * not held, so nothing is brought to the snooze's end (the log would drop
 * it there, and the page promise it): lead-7 comes on the 23rd. */
START_TEST(a_reminder_sent_before_a_snooze_is_not_brought_to_its_end)
{
    char dir[256];
    struct tkl_scheduler s = {0};
    struct tkl_answers none = {0}, ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 16, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 6, 21);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10);
    size_t held = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    rounds(&s, &none, o, at(2023, 6, 16, 9), &held);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 23, 9));
    answers_of(&ans, v, 1);
    ck_assert_int_eq(tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL,
                                       at(2023, 6, 16, 10), false),
                     0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 23, 9));
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* Both teams of C said "not ours" on 1 June and took it back on 20 June,
 * HR at 15:00 and ICT at 16:00; ticklerd restarts at 16:30: each team's
 * held lead-14 comes on 21 June at 09:00, not only the later resume's. */
START_TEST(every_teams_resume_is_followed_after_a_restart)
{
    struct tkl_scheduler s = {0};
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("C", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 1, 11)),
        update("C", TKL_UPDATE_RESUME, "hr@maidstone.example", "hr", at(2023, 6, 20, 15)),
        update("C", TKL_UPDATE_RESUME, "ict@maidstone.example", "ict", at(2023, 6, 20, 16)),
    };
    answers_of(&ans, v, 4);
    int64_t restart = at(2023, 6, 20, 16) + 1800;
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, restart - 600, restart), 0);
    size_t c = (size_t)(tkl_store_find(store, "C") - store->actions);
    size_t hr = (size_t)(tkl_team_find(&cfg->teams, "hr") - cfg->teams.teams);
    size_t ict = (size_t)(tkl_team_find(&cfg->teams, "ict") - cfg->teams.teams);
    ck_assert_int_eq(tkl_scheduler_due_of(&s, c, hr), at(2023, 6, 23, 9));
    ck_assert_int_eq(tkl_scheduler_due_of(&s, c, ict), at(2023, 6, 23, 9));
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, restart, false), 0);
    ck_assert_int_eq(tkl_scheduler_due_of(&s, c, hr), at(2023, 6, 21, 9));
    ck_assert_int_eq(tkl_scheduler_due_of(&s, c, ict), at(2023, 6, 21, 9));
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
}
END_TEST

/* A snooze ended early by a resume: the reminder it held last goes at the
 * first send time after the resume, saying why, and the ladder goes on;
 * the other team of nothing held is not touched. */
START_TEST(a_resume_lets_the_last_held_reminder_go_at_the_next_send_time)
{
    /* A (HR) snoozed on 1 June until 3 July: lead-28 (2 June) and lead-14
     * (16 June) are held; resumed on Tuesday 20 June at 15:00, lead-14
     * goes on Wednesday 21 June at 09:00 */
    char dir[256];
    struct tkl_scheduler s = {0};
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
        update("A", TKL_UPDATE_RESUME, "hr@maidstone.example", "hr", at(2023, 6, 20, 15)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 7, 3);
    v[1].note = (char *)"Back from leave";
    answers_of(&ans, v, 1);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10), resumed = at(2023, 6, 20, 15);
    size_t held = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    rounds(&s, &ans, o, resumed, &held);
    ck_assert_uint_eq(held, 2);
    tkl_answers_free(&ans);
    answers_of(&ans, v, 2);
    /* only the resumed action's ends are scheduled; from the resume on */
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 23, 9));
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, "B", resumed, false), 0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 23, 9));
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, resumed, false), 0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 21, 9));
    rounds(&s, &ans, o, at(2023, 6, 30, 9), &held);
    ck_assert_uint_eq(held, 0);
    char *got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "lead-14\nlead-7\nlead-1\ndue\n");
    free(got);
    got = entries_of(dir, "late", "A");
    ck_assert_str_eq(got, "0\n0\n0\n0\n");
    free(got);
    got = entries_of(dir, "answer", "A");
    ck_assert_ptr_nonnull(
        strstr(got, "Reminders resumed, hr@maidstone.example on 20 Jun 2023: Back from leave\n"));
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* A (HR) said "not ours" on 1 June (lead-28 and lead-14 held), took it
 * back on Monday 19 June at 15:00 (lead-14 to go on the 20th at 09:00),
 * and at 16:00, before that, snoozed until Wednesday 21 June: the snooze
 * holds that lead-14 too, and its end brings it back on the 21st, where
 * no reminder of its own days would have come back; then lead-7 (on the
 * 23rd: had the snooze ended the day before it, lead-7 would go alone). */
START_TEST(a_snooze_before_a_resumed_reminder_came_brings_it_back_at_its_end)
{
    char dir[256];
    struct tkl_scheduler s = {0};
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
        update("A", TKL_UPDATE_RESUME, "hr@maidstone.example", "hr", at(2023, 6, 19, 15)),
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 19, 16)),
    };
    v[2].until_day = tkl_day_from_civil(2023, 6, 21);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10), snoozed = at(2023, 6, 19, 16);
    size_t held = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    answers_of(&ans, v, 1);
    rounds(&s, &ans, o, at(2023, 6, 19, 15), &held);
    ck_assert_uint_eq(held, 2);
    tkl_answers_free(&ans);
    answers_of(&ans, v, 2);
    ck_assert_int_eq(tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL,
                                       at(2023, 6, 19, 15), false),
                     0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 20, 9));
    tkl_answers_free(&ans);
    answers_of(&ans, v, 3);
    const struct tkl_answer *x = tkl_answers_find(&ans, "A");
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->snooze_since, at(2023, 6, 1, 10)); /* the "not ours" it took over */
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, snoozed, false), 0);
    rounds(&s, &ans, o, at(2023, 6, 30, 9), &held);
    ck_assert_uint_eq(held, 1); /* the 20th's */
    char *got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "lead-14\nlead-7\nlead-1\ndue\n");
    free(got);
    /* after a restart on the 20th, the same */
    tkl_scheduler_free(&s);
    int64_t restart = at(2023, 6, 20, 12);
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, restart - 600, restart), 0);
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, restart, false), 0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 21, 9));
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* A (HR) snoozed on 1 June until Tuesday 6 June: lead-28 (2 June) is
 * held and comes at the end, lead-14 being on the 16th. The daemon
 * reloads the plan, unchanged, at noon that day: the end has come, so
 * lead-28 is brought to the next working day in case the plan had moved
 * its next reminder (tkl_scheduler_snooze_end, replanned), and the
 * notification log keeps it from going twice. */
START_TEST(a_reload_after_a_snooze_ended_sends_nothing_twice)
{
    char dir[256];
    struct tkl_scheduler s = {0};
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 6, 6);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    int64_t start = at(2023, 6, 1, 10), reload = at(2023, 6, 6, 12);
    size_t held = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, store, start, start), 0);
    answers_of(&ans, v, 1);
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, start, true), 0);
    rounds(&s, &ans, o, at(2023, 6, 6, 9), &held);
    ck_assert_uint_eq(held, 1);
    char *got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "lead-28\n");
    free(got);
    ck_assert_int_eq(
        tkl_queue_snoozes(&s, &cfg->schedule, &cfg->teams, store, &ans, NULL, reload, true), 0);
    ck_assert_int_eq(entry_of(&s, "A"), at(2023, 6, 7, 9));
    rounds(&s, &ans, o, at(2023, 6, 16, 9), &held);
    ck_assert_uint_eq(held, 0);
    got = entries_of(dir, "stage_key", "A");
    ck_assert_str_eq(got, "lead-28\nlead-14\n");
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* A snooze recorded after the reminder a resume brought back had gone
 * holds from its own instant: nothing earlier is brought to its end. */
START_TEST(a_snooze_after_a_resumed_reminder_went_holds_from_its_own_instant)
{
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr", at(2023, 6, 1, 10)),
        update("A", TKL_UPDATE_RESUME, "hr@maidstone.example", "hr", at(2023, 6, 20, 15)),
        update("A", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr", at(2023, 6, 21, 10)),
    };
    v[2].until_day = tkl_day_from_civil(2023, 6, 22);
    answers_of(&ans, v, 3);
    const struct tkl_answer *x = tkl_answers_find(&ans, "A");
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->snooze_since, at(2023, 6, 21, 10));
    tkl_answers_free(&ans);
    /* nor one held by another team's "not ours" */
    struct tkl_update w[] = {
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 1, 10)),
        update("C", TKL_UPDATE_RESUME, "ict@maidstone.example", "ict", at(2023, 6, 20, 15)),
        update("C", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr", at(2023, 6, 20, 16)),
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 20, 17)),
    };
    answers_of(&ans, w, 4);
    x = tkl_answers_find(&ans, "C");
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(tkl_answer_not_ours_since(x, "hr"), at(2023, 6, 20, 16));
    ck_assert_int_eq(tkl_answer_not_ours_since(x, "ict"), at(2023, 6, 1, 10));
    ck_assert_int_eq(tkl_answer_not_ours_since(x, "finance"), INT64_MAX);
    tkl_answers_free(&ans);
}
END_TEST

START_TEST(the_plan_overrules_a_completion_and_the_digest_says_so)
{
    /* A was marked complete when its deadline was 31 May; the plan now
     * says 30 June: its reminders go, and say why */
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("A", TKL_UPDATE_PROGRESS, "hr@maidstone.example", "hr", at(2023, 5, 2, 10)),
        update("A", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 5, 3, 10)),
    };
    v[0].rag = TKL_RAG_AMBER;
    v[0].note = (char *)"Draft with the board";
    v[1].plan_deadline_day = tkl_day_from_civil(2023, 5, 31);
    v[1].plan_deadline_text = (char *)"31/05/2023";
    answers_of(&ans, v, 2);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, &ans, o, now, &res), 0);
    ck_assert_uint_eq(res.held, 0);
    char *got = entries_of(dir, "answer", "A");
    ck_assert_ptr_nonnull(strstr(got, "Progress (amber), hr@maidstone.example on 2 May 2023: "
                                      "Draft with the board\n"));
    ck_assert_ptr_nonnull(strstr(got, "hr@maidstone.example marked it complete on Wednesday 3 May "
                                      "2023; the plan now gives the deadline as 30/06/2023"));
    free(got);
    /* the plan's own progress column is not replaced */
    got = entries_of(dir, "answer", "C");
    ck_assert_str_eq(got, "(null)\n(null)\n");
    free(got);
    tkl_scheduler_free(&s);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* Tells report_to (EDI) of update u of C, as ICT's, twice: one notice the
 * first time, with the answer want, none the second. */
static void told_to_edi_once(const struct tkl_update *u, const char *want)
{
    char dir[256], line[128];
    int64_t now = u->at;
    size_t n = 99;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    const struct tkl_team *edi = tkl_team_find(&cfg->teams, "edi-officers");
    const struct tkl_action *c = tkl_store_find(store, "C");
    ck_assert_int_eq(not_ours(o, edi, c, u, now, &n), 0);
    ck_assert_uint_eq(n, 1);
    char *got = contents(dir);
    snprintf(line, sizeof(line), "email edi.officers@maidstone.example C answer-%" PRId64 "\n",
             u->id);
    ck_assert_str_eq(got, line);
    free(got);
    got = entries_of(dir, "answer", "C");
    ck_assert_str_eq(got, want);
    free(got);
    ck_assert_int_eq(not_ours(o, edi, c, u, now + 60, &n), 0);
    ck_assert_uint_eq(n, 0); /* told once */
    remove_outbox(o, dir);
}

START_TEST(not_ours_is_told_to_report_to_once)
{
    struct tkl_update u =
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10));
    u.id = 7;
    u.suggested_team = (char *)"Learning & Development";
    u.note = (char *)"Training is L&D's";
    told_to_edi_once(&u, "Not ours: ict@maidstone.example says this action is not for ICT; that "
                         "team gets no more reminders for it until the plan changes.\n"
                         "Suggested team: Learning & Development\n"
                         "Comment: Training is L&D's\n");
    /* what the officer wrote, on one line: a line break in the note or
     * the team suggested cannot start a line that passes for the notice's */
    u.suggested_team = (char *)"L&D\nSubject: forged";
    u.note = (char *)"Theirs\r\nSubject: forged\xe2\x80\xa8Suggested team: ICT";
    told_to_edi_once(&u, "Not ours: ict@maidstone.example says this action is not for ICT; that "
                         "team gets no more reminders for it until the plan changes.\n"
                         "Suggested team: L&D Subject: forged\n"
                         "Comment: \xe2\x81\xa8Theirs Subject: forged Suggested team: ICT"
                         "\xe2\x81\xa9\n");
    /* an override the officer left open, in the note or the team
     * suggested: closed inside an isolate, which ends before the
     * notice's own text goes on */
    u.suggested_team = (char *)"\xe2\x80\xae"
                               "D&L";
    u.note = (char *)"\xd8\xaa\xd9\x85 \xe2\x80\xaeTheirs";
    told_to_edi_once(&u, "Not ours: ict@maidstone.example says this action is not for ICT; that "
                         "team gets no more reminders for it until the plan changes.\n"
                         "Suggested team: \xe2\x81\xa8\xe2\x80\xae"
                         "D&L\xe2\x80\xac\xe2\x81\xa9\n"
                         "Comment: \xe2\x81\xa8\xd8\xaa\xd9\x85 \xe2\x80\xaeTheirs"
                         "\xe2\x80\xac\xe2\x81\xa9\n");
}
END_TEST

/* The answer told to report_to (EDI) of the last of updates v[0..n-1] of
 * action id, all recorded by then. */
static char *told_of_last(const char *id, struct tkl_update *v, size_t n)
{
    char dir[256];
    size_t told = 0;
    struct tkl_answers ans;
    answers_of(&ans, v, n);
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    const struct tkl_action *a = tkl_store_find(store, id);
    ck_assert_int_eq(not_ours_of(o, tkl_team_find(&cfg->teams, "edi-officers"), a,
                                 tkl_answers_find(&ans, id), &v[n - 1], v[n - 1].at + 60, &told),
                     0);
    ck_assert_uint_eq(told, 1);
    char *got = entries_of(dir, "answer", id);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
    return got;
}

/* A "not ours" that leaves no team of the plan's reminded says so, and
 * who still is: the escalation team past the escalation point, or
 * nobody when it has said the same. */
START_TEST(a_not_ours_that_leaves_no_team_says_who_is_left)
{
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10)),
    };
    char *got = told_of_last("D", v, 1);
    ck_assert_str_eq(got, "Not ours: ict@maidstone.example says this action is not for ICT; that "
                          "team gets no more reminders for it until the plan changes.\n"
                          "No team is reminded of it now: it was the only team the plan names. "
                          "From Wednesday 28 June 2023 its overdue reminders go to Equality, "
                          "Diversity and Inclusion Officer Group, as an escalation.\n");
    free(got);
    /* C is HR's and ICT's: ICT's alone leaves HR; both's leaves none */
    struct tkl_update c[] = {
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10)),
        update("C", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr", at(2023, 6, 5, 11)),
    };
    got = told_of_last("C", c, 1);
    ck_assert_ptr_null(strstr(got, "No team is reminded"));
    free(got);
    got = told_of_last("C", c, 2);
    ck_assert_ptr_nonnull(strstr(got, "\nNo team is reminded of it now: every team the plan "
                                      "names has said it is not theirs. From Friday 28 July 2023 "
                                      "its overdue reminders go to Equality, Diversity and "
                                      "Inclusion Officer Group, as an escalation.\n"));
    free(got);
    /* past the escalation point already: they still go */
    for (size_t i = 0; i < 2; i++)
        c[i].at = at(2023, 8, 1, 10 + (int)i);
    got = told_of_last("C", c, 2);
    ck_assert_ptr_nonnull(strstr(got, "No team is reminded of it now: every team the plan names "
                                      "has said it is not theirs. Its overdue reminders still go "
                                      "to Equality, Diversity and Inclusion Officer Group, as an "
                                      "escalation.\n"));
    free(got);
    /* the escalation team said it is not theirs before: nobody is left */
    struct tkl_update d[] = {
        update("D", TKL_UPDATE_NOT_OURS, "edi.officers@maidstone.example", "edi-officers",
               at(2023, 6, 2, 10)),
        update("D", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10)),
    };
    got = told_of_last("D", d, 2);
    ck_assert_ptr_nonnull(strstr(got, "\nNo team is reminded of it now: it was the only team "
                                      "the plan names. Nobody will be, until the plan changes its "
                                      "owners or a team takes it back.\n"));
    free(got);
    /* nor is anyone when ICT's rules nag no overdue action, so escalate
     * nothing; nor while the snooze ICT gave before it holds */
    size_t ict = (size_t)(tkl_team_find(&cfg->teams, "ict") - cfg->teams.teams);
    struct tkl_rules *rules = &cfg->schedule.team_rules[ict];
    int every = rules->overdue_every_days;
    rules->overdue_every_days = 0;
    got = told_of_last("D", v, 1);
    rules->overdue_every_days = every;
    ck_assert_ptr_nonnull(strstr(got, "Nobody will be, until the plan changes its owners"));
    free(got);
    struct tkl_update e[] = {
        update("D", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 5, 9)),
        update("D", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10)),
    };
    e[0].until_day = tkl_day_from_civil(2023, 7, 3);
    got = told_of_last("D", e, 2);
    ck_assert_ptr_nonnull(strstr(got, "No team is reminded of it now"));
    free(got);
}
END_TEST

/* A "not ours" taken back is told to report_to too, once, as "ours after
 * all". */
START_TEST(a_not_ours_taken_back_is_told_to_report_to_once)
{
    struct tkl_update u =
        update("C", TKL_UPDATE_RESUME, "ict@maidstone.example", "ict", at(2023, 6, 6, 10));
    u.id = 8;
    u.note = (char *)"We run the training <after all>";
    told_to_edi_once(&u, "Ours after all: ict@maidstone.example takes back the \"not ours\" of "
                         "ICT; that team gets its reminders for it again.\n"
                         "Comment: We run the training <after all>\n");
}
END_TEST

START_TEST(a_not_ours_notice_undone_at_its_commit_is_not_logged_as_queued)
{
    char dir[256];
    int64_t now = at(2023, 6, 5, 10);
    size_t n = 99;
    struct tkl_update u =
        update("C", TKL_UPDATE_NOT_OURS, "ict@maidstone.example", "ict", at(2023, 6, 5, 10));
    u.id = 7;
    tkl_disk_full_install(); /* before the outbox's files are opened */
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    tkl_outbox_set_grouped(o, true); /* as the daemon runs it */
    const struct tkl_team *edi = tkl_team_find(&cfg->teams, "edi-officers");
    const struct tkl_action *c = tkl_store_find(store, "C");
    tkl_disk_full = 1;
    tkl_capture_begin();
    ck_assert_int_eq(not_ours(o, edi, c, &u, now, &n), -ENOSPC);
    char *log = tkl_capture_end();
    tkl_disk_full = 0;
    ck_assert_ptr_null(strstr(log, "queued \"not ours\" notice"));
    free(log);
    ck_assert_uint_eq(n, 99);
    ck_assert(!tkl_outbox_dirty(o));
    tkl_capture_begin();
    ck_assert_int_eq(not_ours(o, edi, c, &u, now, &n), 0);
    log = tkl_capture_end();
    ck_assert_ptr_nonnull(strstr(log, "queued \"not ours\" notice; notice=1 "));
    free(log);
    ck_assert_uint_eq(n, 1);
    char *got = contents(dir);
    ck_assert_str_eq(got, "email edi.officers@maidstone.example C answer-7\n");
    free(got);
    remove_outbox(o, dir);
}
END_TEST

/* The answer of the action joint() tells of (NULL: none). */
static const struct tkl_answer *joint_ans;

/* A joint action's update u told to its other owning teams on o's state,
 * its group ended at once as the service does; *n: notices queued, set
 * only when it succeeds. */
static int joint(struct tkl_outbox *o, const struct tkl_update *u, int64_t now, size_t *n)
{
    struct told t = {0};
    struct tkl_state *st = state_of(o);
    const struct tkl_action *a = tkl_store_find(store, u->action_id);
    ck_assert_ptr_nonnull(a);
    int r = tkl_queue_joint(st, &cfg->teams, &cfg->schedule, a, joint_ans, u, now, on_told, &t);
    told_once(&t, 0);
    if (r < 0)
        return r;
    (void)tkl_state_commit(st);
    told_once(&t, 1);
    if (t.r == 0)
        *n = t.res.committed;
    return t.r;
}

/* Tells the owning teams of action id other than u's of u, twice: the
 * notices want (contents()) the first time, with the answer want_answer
 * and an intro that holds want_intro, at stage joint; none the second
 * time (told once). */
static void told_to_the_others_once(const struct tkl_update *u, const char *want,
                                    const char *want_answer, const char *want_intro)
{
    char dir[256];
    size_t n = 99, lines = 0;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    ck_assert_int_eq(joint(o, u, u->at + 60, &n), 0);
    for (const char *p = want; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(n, lines);
    char *got = contents(dir);
    ck_assert_str_eq(got, want);
    free(got);
    if (lines) {
        got = entries_of(dir, "answer", u->action_id);
        char *each = NULL;
        ck_assert_int_ge(asprintf(&each, "%s\n", want_answer), 0);
        ck_assert_ptr_nonnull(strstr(got, each));
        free(each);
        free(got);
        got = entries_of(dir, "stage", u->action_id);
        ck_assert_ptr_nonnull(strstr(got, "10\n"));
        free(got);
        got = entries_of(dir, "intro", u->action_id);
        ck_assert_msg(strstr(got, want_intro), "%s", got);
        free(got);
    }
    ck_assert_int_eq(joint(o, u, u->at + 120, &n), 0);
    ck_assert_uint_eq(n, 0); /* told once */
    remove_outbox(o, dir);
}

/* C (HR and ICT) marked complete by HR: ICT is told, once, with who did
 * what and when; HR, who did it, is not. */
START_TEST(a_joint_actions_completion_is_told_to_its_other_teams_once)
{
    struct tkl_update u =
        update("C", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 6, 5, 10));
    u.id = 7;
    told_to_the_others_once(&u, "email ict@maidstone.example C joint-7\n",
                            "Marked complete by Human Resources\n"
                            "hr@maidstone.example, Monday 5 June 2023",
                            "Human Resources marked this action complete on Monday 5 June 2023. "
                            "The plan names your team for it too, so your reminders for it have "
                            "stopped.");
}
END_TEST

/* C snoozed by ICT until Saturday 8 July: HR is told its reminders are
 * held until the Monday after; a resume of it, with its reason, too. */
START_TEST(a_joint_actions_snooze_and_its_resume_are_told_to_its_other_teams)
{
    struct tkl_update u =
        update("C", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 5, 10));
    u.id = 8;
    u.until_day = tkl_day_from_civil(2023, 7, 8);
    told_to_the_others_once(&u, "email hr@maidstone.example C joint-8\n",
                            "Snoozed by ICT until Saturday 8 July 2023\n"
                            "ict@maidstone.example, Monday 5 June 2023",
                            "your reminders for it are held: they go on from Monday 10 July "
                            "2023.");
    u = update("C", TKL_UPDATE_RESUME, "ict@maidstone.example", "ict", at(2023, 6, 6, 10));
    u.id = 9;
    u.note = (char *)"The data came <early>\nSubject: forged\xc2\x85Snoozed by HR";
    told_to_the_others_once(&u, "email hr@maidstone.example C joint-9\n",
                            "Reminders resumed by ICT\n"
                            "ict@maidstone.example, Tuesday 6 June 2023\n"
                            "Comment: \xe2\x81\xa8The data came <early> Subject: forged "
                            "Snoozed by HR\xe2\x81\xa9",
                            "ICT ended the snooze of this action on Tuesday 6 June 2023.");
}
END_TEST

/* C snoozed until September through a link of no owning team's, then by
 * ICT until Saturday 8 July: HR is told its reminders go on when the
 * longer snooze ends, which holds them too; ICT's own snooze after it, to
 * 1 December, says its own day. */
START_TEST(a_joint_snooze_under_a_longer_one_says_when_the_reminders_go_on)
{
    struct tkl_answers ans;
    struct tkl_update v[] = {
        update("C", TKL_UPDATE_SNOOZE, "board@maidstone.example", NULL, at(2023, 6, 1, 10)),
        update("C", TKL_UPDATE_SNOOZE, "ict@maidstone.example", "ict", at(2023, 6, 5, 10)),
    };
    v[0].until_day = tkl_day_from_civil(2023, 9, 1);
    v[1].until_day = tkl_day_from_civil(2023, 7, 8);
    answers_of(&ans, v, 2);
    joint_ans = tkl_answers_find(&ans, "C");
    ck_assert_ptr_nonnull(joint_ans);
    told_to_the_others_once(&ans.updates.v[1], "email hr@maidstone.example C joint-2\n",
                            "Snoozed by ICT until Saturday 8 July 2023\n"
                            "ict@maidstone.example, Monday 5 June 2023",
                            "your reminders for it are held, and another snooze holds them "
                            "longer: they go on from Friday 1 September 2023.");
    struct tkl_update w = ans.updates.v[1];
    w.id = 3;
    w.until_day = tkl_day_from_civil(2023, 12, 1);
    told_to_the_others_once(&w, "email hr@maidstone.example C joint-3\n",
                            "Snoozed by ICT until Friday 1 December 2023\n"
                            "ict@maidstone.example, Monday 5 June 2023",
                            "your reminders for it are held: they go on from Friday 1 December "
                            "2023.");
    joint_ans = NULL;
    tkl_answers_free(&ans);
}
END_TEST

/* An action of one team tells nobody of its team's completion; one
 * recorded through a link of no owning team's (an escalation team's)
 * tells every owning team, but not the address that recorded it. */
START_TEST(a_joint_update_is_told_to_the_owning_teams_that_did_not_make_it)
{
    struct tkl_update u =
        update("A", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 6, 5, 10));
    u.id = 7;
    told_to_the_others_once(&u, "", NULL, NULL);
    u = update("C", TKL_UPDATE_COMPLETE, "edi.officers@maidstone.example", NULL,
               at(2023, 6, 5, 10));
    u.id = 8;
    told_to_the_others_once(&u,
                            "email hr@maidstone.example C joint-8\n"
                            "email ict@maidstone.example C joint-8\n",
                            "Marked complete by edi.officers@maidstone.example\n"
                            "edi.officers@maidstone.example, Monday 5 June 2023",
                            "edi.officers@maidstone.example marked this action complete");
    u = update("C", TKL_UPDATE_REOPEN, "ict@maidstone.example", NULL, at(2023, 6, 5, 11));
    u.id = 9;
    told_to_the_others_once(&u, "email hr@maidstone.example C joint-9\n",
                            "Reopened by ict@maidstone.example\n"
                            "ict@maidstone.example, Monday 5 June 2023",
                            "said on Monday 5 June 2023 that this action is not complete after "
                            "all.");
}
END_TEST

/* E (HR and a name of no team's, so also the fallback team, the EDI
 * officers) marked complete by HR: the EDI officers are told they have it
 * as the fallback team for that name, not that the plan names them; F,
 * whose cell names the fallback team as well, says the plan names them. */
START_TEST(a_fallback_team_is_told_why_it_has_a_joint_action)
{
    static const char plan[] =
        "Ref,Actions,Responsibility,Timeframe,Status\n"
        "E,Train managers,HR / Facilities Unit,30/06/2023,\n"
        "F,Train staff,HR / EDI Officer Group / Facilities Unit,30/06/2023,\n";
    struct tkl_store *shared = store;
    ck_assert_int_eq(tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", plan, strlen(plan),
                                           &store, &diags),
                     0);
    struct tkl_update u =
        update("E", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr", at(2023, 6, 5, 10));
    u.id = 7;
    told_to_the_others_once(&u, "email edi.officers@maidstone.example E joint-7\n",
                            "Marked complete by Human Resources\n"
                            "hr@maidstone.example, Monday 5 June 2023",
                            "Human Resources marked this action complete on Monday 5 June 2023. "
                            "Your team has it too, as the fallback team for \u201cFacilities "
                            "Unit\u201d, a name in the plan that matches no team, so your "
                            "reminders for it have stopped.");
    u.action_id = "F";
    u.id = 8;
    told_to_the_others_once(&u, "email edi.officers@maidstone.example F joint-8\n",
                            "Marked complete by Human Resources\n"
                            "hr@maidstone.example, Monday 5 June 2023",
                            "on Monday 5 June 2023. The plan names your team for it too, so");
    tkl_store_free(store);
    store = shared;
}
END_TEST

/* A round of sched at now queued into o's open group, told to t. */
static void queue_open(struct tkl_scheduler *sched, struct tkl_outbox *o, int64_t now,
                       struct told *t)
{
    struct tkl_queue_result res;
    ck_assert_int_eq(tkl_queue_due(sched, &cfg->schedule, &cfg->teams, store, NULL, state_of(o),
                                   now, on_told, NULL, t, &res),
                     0);
    ck_assert_int_eq(t->calls, 0);
}

START_TEST(a_notice_is_logged_as_queued_only_in_its_put_completion)
{
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct told t = {0};
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    tkl_capture_begin();
    queue_open(&s, o, now, &t);
    char *log = tkl_capture_end();
    /* queued in the open group: nothing told, logged or seen by another
     * process until the group ends */
    ck_assert_int_eq(t.calls, 0);
    ck_assert_ptr_null(strstr(log, "queued notice"));
    free(log);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 0);
    tkl_capture_begin();
    ck_assert_int_eq(tkl_state_commit(state_of(o)), 0);
    log = tkl_capture_end();
    ck_assert_int_eq(t.calls, 1);
    ck_assert_int_eq(t.r, 0);
    ck_assert_uint_gt(t.res.committed, 2);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), (int64_t)t.res.committed);
    /* one line a notice, each once */
    size_t lines = 0;
    for (const char *p = log; (p = strstr(p, "queued notice: ")); p++)
        lines++;
    ck_assert_uint_eq(lines, t.res.committed);
    free(log);
    tkl_scheduler_free(&s);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(a_notice_logged_before_is_not_queued_twice)
{
    /* another node, or an earlier run, logged every notice of the round:
     * each put tells id 0, and nothing is logged as queued again */
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    size_t first = res.committed;
    ck_assert_uint_gt(first, 2);
    char *want = contents(dir);
    tkl_scheduler_free(&s);
    build(&s, now);
    tkl_capture_begin();
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    char *log = tkl_capture_end();
    ck_assert_uint_eq(res.committed, 0);
    ck_assert_uint_eq(res.restored, 0);
    ck_assert_ptr_null(strstr(log, "queued notice"));
    free(log);
    ck_assert_int_gt(tkl_scheduler_next_at(&s), now); /* taken, not put back */
    char *got = contents(dir);
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    tkl_scheduler_free(&s);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(a_round_whose_group_is_undone_is_told_and_queued_next_round)
{
    /* the round's puts are taken, then its group is undone at the commit
     * (disk full): the completion says so, nothing was logged as queued,
     * and the next round puts every notice in */
    char dir[256];
    int64_t now = at(2023, 6, 30, 10);
    struct tkl_scheduler s;
    struct tkl_queue_result res;
    struct told t = {0};
    tkl_disk_full_install(); /* before the outbox's files are opened */
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    build(&s, now);
    size_t due = s.n;
    queue_open(&s, o, now, &t);
    ck_assert_int_gt(tkl_scheduler_next_at(&s), now); /* taken while the puts wait */
    tkl_disk_full = 1;
    tkl_capture_begin();
    ck_assert_int_eq(tkl_state_commit(state_of(o)), -ENOSPC);
    char *log = tkl_capture_end();
    tkl_disk_full = 0;
    ck_assert_int_eq(t.calls, 1);
    ck_assert_int_eq(t.r, -ENOSPC);
    ck_assert_uint_eq(t.res.committed, 0);
    ck_assert_uint_eq(t.res.restored, due);
    ck_assert_ptr_null(strstr(log, "queued notice"));
    ck_assert_ptr_nonnull(strstr(log, "of the round's notices to the outbox"));
    free(log);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), 0);
    ck_assert_uint_eq(s.n, due);
    ck_assert_int_le(tkl_scheduler_next_at(&s), now);
    ck_assert_int_eq(queue_due(&s, NULL, o, now, &res), 0);
    ck_assert_uint_gt(res.committed, 2);
    ck_assert_int_eq(tkl_outbox_seen_by_others(dir, "1"), (int64_t)res.committed);
    tkl_scheduler_free(&s);
    remove_outbox(o, dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_grouped_round_whose_commit_fails_is_put_back_whole);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_refused_round_is_put_back_and_queued_once);
    tcase_add_test(tc, a_notice_is_logged_as_queued_only_in_its_put_completion);
    tcase_add_test(tc, a_notice_logged_before_is_not_queued_twice);
    tcase_add_test(tc, a_round_whose_group_is_undone_is_told_and_queued_next_round);
    tcase_add_test(tc, a_round_committed_in_part_queues_the_rest_once);
    tcase_add_test(tc, a_round_in_parts_commits_each_before_the_next_is_put);
    tcase_add_test(tc, a_round_abandoned_part_way_is_put_back_and_queues_the_rest_once);
    tcase_add_test(tc, a_round_whose_later_part_is_undone_keeps_the_first_and_queues_the_rest_once);
    tcase_add_test(tc, reminders_an_answer_holds_back_are_not_queued);
    tcase_add_test(tc, an_action_its_team_disowned_is_still_escalated);
    tcase_add_test(tc, an_owners_snooze_does_not_hold_its_escalation);
    tcase_add_test(tc, an_owners_snooze_says_why_in_the_escalations_copies);
    tcase_add_test(tc, the_escalation_teams_snooze_holds_it_all);
    tcase_add_test(tc, the_owners_snooze_and_the_escalation_teams_hold_apart);
    tcase_add_test(tc, copies_the_escalation_team_held_or_disowned_are_not_sent);
    tcase_add_test(tc, an_owning_escalation_teams_snooze_outlasts_an_owners_shorter_one);
    tcase_add_test(tc, an_escalation_of_two_teams_keeps_the_not_ours);
    tcase_add_test(tc, a_snooze_ends_with_a_reminder_even_after_a_refused_round);
    tcase_add_test(tc, a_resume_lets_the_last_held_reminder_go_at_the_next_send_time);
    tcase_add_test(tc, a_snooze_before_a_resumed_reminder_came_brings_it_back_at_its_end);
    tcase_add_test(tc, a_reload_after_a_snooze_ended_sends_nothing_twice);
    tcase_add_test(tc, a_snooze_after_a_resumed_reminder_went_holds_from_its_own_instant);
    tcase_add_test(tc, every_teams_resume_is_followed_after_a_restart);
    tcase_add_test(tc, a_reminder_sent_before_a_snooze_is_not_brought_to_its_end);
    tcase_add_test(tc, the_plan_overrules_a_completion_and_the_digest_says_so);
    tcase_add_test(tc, not_ours_is_told_to_report_to_once);
    tcase_add_test(tc, a_notice_completed_whole_after_it_was_queued_is_withdrawn);
    tcase_add_test(tc, a_not_ours_taken_back_is_told_to_report_to_once);
    tcase_add_test(tc, a_not_ours_that_leaves_no_team_says_who_is_left);
    tcase_add_test(tc, a_not_ours_notice_undone_at_its_commit_is_not_logged_as_queued);
    tcase_add_test(tc, a_joint_actions_completion_is_told_to_its_other_teams_once);
    tcase_add_test(tc, a_joint_actions_snooze_and_its_resume_are_told_to_its_other_teams);
    tcase_add_test(tc, a_joint_snooze_under_a_longer_one_says_when_the_reminders_go_on);
    tcase_add_test(tc, a_joint_update_is_told_to_the_owning_teams_that_did_not_make_it);
    tcase_add_test(tc, a_fallback_team_is_told_why_it_has_a_joint_action);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
