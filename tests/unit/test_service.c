/* Tests for daemon/service/service.c on a real loop with real files, a real
 * outbox and the real echo notifier (tests/plugins/echo.c): what is due is
 * queued, delivered once and --oneshot then stops with every handle closed;
 * a reload keeps the running notifier (reconfigured, not replaced) and what
 * it holds. uv_loop_close() returns 0 at the end of each test. */
#include <check.h>

#include "check_run.h"
#include "record_fixture.h"
#include "tmpdir.h"
#include <dlfcn.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "outbox/updates.h"
#include "service/service.h"

static char dir[256], conf[300], state[300];
static uv_loop_t loop;
static struct tkl_service s;
static int finished, changed;

#define PLAN                                                                                       \
    "Ref,Actions,Responsibility,Timeframe,Status\n"                                                \
    "A,Review the pay gap,HR,30/06/2023,\n"                                                        \
    "B,Accessible forms,ICT,30/06/2023,\n"

static void on_changed(struct tkl_service *x)
{
    (void)x;
    changed++;
}

static void on_finished(struct tkl_service *x)
{
    finished++;
    tkl_service_stop(x);
}

/* A new service on the same files, as a restart at now_arg makes it. */
static void restart_at(const char *now_arg)
{
    memset(&s, 0, sizeof(s));
    memset(&loop, 0, sizeof(loop));
    s.env = (struct tkl_runtime_env){.config_path = conf,
                                     .plugin_dir = TEST_PLUGIN_DIR,
                                     .state_dir = strdup(state),
                                     .svc = &s.svc,
                                     .now_arg = now_arg};
    ck_assert_ptr_nonnull(s.env.state_dir);
    s.svc.loop = &loop;
    s.changed = on_changed;
    s.finished = on_finished;
}

/* The configuration: HR (report_to) reached at hr_chat, a list of quoted
 * addresses. */
static void write_conf(const char *hr_chat)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "daemon = { timezone = \"Europe/London\"; };\n"
             "store = { files = [ \"plan.csv\" ]; };\n"
             "schedule = { catch_up_days = 1; };\n"
             "delivery = { concurrency = 1; report_to = \"hr\"; };\n"
             "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
             "teams = (\n"
             "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ %s ]; }; },\n"
             "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"ict\" ]; }; }\n"
             ");\n",
             hr_chat);
    tkl_write_text(dir, "tickler.conf", text);
}

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "service");
    tkl_write_text(dir, "plan.csv", PLAN);
    write_conf("\"hr\"");
    snprintf(conf, sizeof(conf), "%s/tickler.conf", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    restart_at("2023-06-30T09:00:30");
    finished = changed = 0;
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* Loads and starts the service on the loop. */
static void start(void)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
}

/* Runs the loop out and frees the service; the loop must close. */
static void finish(void)
{
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}

START_TEST(oneshot_delivers_what_is_due_once_then_stops_clean)
{
    s.oneshot = true;
    start();
    finish();
    ck_assert_int_eq(finished, 1);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.delivered, 2); /* HR and ICT, due at 09:00 */
    ck_assert_int_eq(st.pending + st.retrying + st.failed, 0);
    int64_t last_run = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "last_run", &last_run), 0);
    ck_assert_int_ge(last_run, tkl_service_now(&s) - 5);
    tkl_service_free(&s);

    /* the same run again sends nothing again */
    restart_at("2023-06-30T09:00:30");
    s.oneshot = true;
    start();
    finish();
    ck_assert_int_eq(finished, 2);
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.delivered, 2);
    tkl_service_free(&s);
}
END_TEST

static void on_reload_timer(uv_timer_t *t)
{
    struct tkl_plugin_instance *before = s.rt->plugins.notifiers[0];
    tkl_service_reload(&s);
    struct tkl_plugin_instance *after = s.rt->plugins.notifiers[0];
    ck_assert_ptr_eq(before, after); /* kept, not replaced */
    unsigned (*count)(void *) = NULL;
    *(void **)&count = dlsym(after->dl, "echo_reconfigures");
    ck_assert_ptr_nonnull(count);
    ck_assert_uint_eq(count(after->state), 1);
    ck_assert(after->started && !after->stopped);
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

START_TEST(a_reload_keeps_the_running_notifier)
{
    uv_timer_t t;
    start();
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, on_reload_timer, 0, 0), 0);
    finish();
    ck_assert_int_eq(finished, 0);
    tkl_service_free(&s);
}
END_TEST

/* Whether another process could write the state database now, without
 * waiting: `tickler retry` while the daemon works. */
static bool another_can_write(void)
{
    char path[320];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", state);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    return rc == SQLITE_OK;
}

static void on_write_then_reload_timer(uv_timer_t *t)
{
    /* a write of this turn (as the web face's feed stamp, or an outcome)
     * waits in the open group, holding the write lock */
    ck_assert_int_eq(tkl_outbox_try_set_meta(s.outbox, "stamp", 42), 0);
    ck_assert(tkl_outbox_dirty(s.outbox));
    ck_assert(!another_can_write());
    /* a reload reads the plans (seconds for a large one, up to 30 s for a
     * plan at a URL) with the group committed first, not held */
    tkl_service_reload(&s);
    ck_assert(!tkl_outbox_dirty(s.outbox));
    ck_assert(another_can_write());
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

START_TEST(a_reload_does_not_hold_the_outbox_write_lock)
{
    uv_timer_t t;
    start();
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, on_write_then_reload_timer, 0, 0), 0);
    finish();
    int64_t v = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "stamp", &v), 0);
    ck_assert_int_eq(v, 42);
    tkl_service_free(&s);
}
END_TEST

/* Records an update of action id of kind by who for team (NULL: a link
 * of no owning team's), with the plan as it stands, at instant at, until
 * day until (a snooze's); returns whether it was new. */
static bool record_at_until(const char *id, enum tkl_update_kind kind, const char *who,
                            const char *team, const char *suggested, int64_t at, int32_t until)
{
    const struct tkl_action *a = tkl_store_find(s.rt->store, id);
    ck_assert_ptr_nonnull(a);
    struct tkl_update u = {.action_id = (char *)id,
                           .recipient = (char *)who,
                           .team_id = (char *)team,
                           .kind = kind,
                           .at = at,
                           .link_issued_at = at - 60,
                           .until_day = until,
                           .suggested_team = (char *)suggested,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    bool is_new = false;
    ck_assert_int_eq(record_now(&s, &u, &is_new), 0);
    return is_new;
}

/* Records an update of action id by who for team, with the plan as it
 * stands, at the service's instant when the test first records (so that
 * the same update said again is the same, however slowly the test runs);
 * returns whether it was new. */
static int64_t record_at;

static bool record(const char *id, enum tkl_update_kind kind, const char *who, const char *team,
                   const char *suggested)
{
    if (!record_at)
        record_at = tkl_service_now(&s);
    return record_at_until(id, kind, who, team, suggested, record_at, TKL_NO_DAY);
}

START_TEST(recorded_updates_hold_reminders_and_not_ours_is_told)
{
    /* A marked complete by HR, B "not ours" for ICT: neither reminder
     * goes; report_to (HR) is told of B once */
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert(record("A", TKL_UPDATE_COMPLETE, "hr", "hr", NULL));
    ck_assert(record("B", TKL_UPDATE_NOT_OURS, "ict", "ict", "Facilities"));
    ck_assert(!record("B", TKL_UPDATE_NOT_OURS, "ict", "ict", "Facilities"));
    s.oneshot = true;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
    finish();
    ck_assert_int_eq(finished, 1);
    uint64_t *ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    struct tkl_stored_notice *x = NULL;
    ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[0], &x), 0);
    ck_assert_str_eq(x->notice.recipient, "hr");
    ck_assert_uint_eq(x->notice.n_entries, 1);
    ck_assert_str_eq(x->entries[0].item_id, "B");
    ck_assert_int_eq(x->entries[0].stage, TKL_STAGE_ANSWER);
    ck_assert_ptr_nonnull(strstr(x->entries[0].answer, "ict says this action is not for ICT"));
    ck_assert_ptr_nonnull(strstr(x->entries[0].answer, "Suggested team: Facilities"));
    ck_assert_ptr_nonnull(x->notice.intro);
    tkl_stored_notice_free(x);
    free(ids);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.delivered, 1);
}
END_TEST

/* The notices in the outbox to recipient with an entry for item at
 * stage. */
static size_t notices_of(const char *recipient, const char *item, enum tkl_stage stage)
{
    uint64_t *ids = NULL;
    size_t n = 0, found = 0;
    ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *x = NULL;
        ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[i], &x), 0);
        for (size_t k = 0; k < x->notice.n_entries; k++)
            found += !strcmp(x->notice.recipient, recipient) &&
                     !strcmp(x->entries[k].item_id, item) && x->entries[k].stage == stage;
        tkl_stored_notice_free(x);
    }
    free(ids);
    return found;
}

/* Runs the service loaded (and updates recorded) once, as --oneshot. */
static void run_oneshot(void);

/* B "not ours" for ICT, then taken back by ICT (a resume): report_to
 * (HR) is told of both, once each, the second as "ours after all"; ICT's
 * reminder of B goes. A resume by a team that said nothing tells
 * nobody. */
START_TEST(a_not_ours_taken_back_is_told_and_its_team_reminded)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert(record("B", TKL_UPDATE_NOT_OURS, "ict", "ict", NULL));
    ck_assert(record("B", TKL_UPDATE_RESUME, "ict", "ict", NULL));
    ck_assert(record("A", TKL_UPDATE_RESUME, "hr", "hr", NULL));
    run_oneshot();
    ck_assert_int_eq(finished, 1);
    ck_assert_uint_eq(notices_of("hr", "B", TKL_STAGE_ANSWER), 2);
    ck_assert_uint_eq(notices_of("hr", "A", TKL_STAGE_ANSWER), 0);
    uint64_t *ids = NULL;
    size_t n = 0, ours = 0, reminded = 0;
    ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *x = NULL;
        ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[i], &x), 0);
        for (size_t k = 0; k < x->notice.n_entries; k++) {
            const struct tkl_notice_entry *e = &x->entries[k];
            if (e->stage == TKL_STAGE_ANSWER && e->answer &&
                strstr(e->answer, "Ours after all: ict takes back the \"not ours\" of ICT")) {
                ours++;
                ck_assert_ptr_nonnull(strstr(x->notice.intro, "taken back their"));
            }
            reminded += !strcmp(x->notice.recipient, "ict") && !strcmp(e->item_id, "B") &&
                        e->stage != TKL_STAGE_ANSWER;
        }
        tkl_stored_notice_free(x);
    }
    free(ids);
    ck_assert_uint_eq(ours, 1);
    ck_assert_uint_eq(reminded, 1);
}
END_TEST

/* A "not ours" the plan overruled (its owners changed since) was never
 * told: a resume after it tells nothing either. */
START_TEST(a_resume_after_an_overruled_not_ours_tells_nobody)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    const struct tkl_action *b = tkl_store_find(s.rt->store, "B");
    record_at = tkl_service_now(&s);
    struct tkl_update u = {.action_id = "B",
                           .recipient = "ict",
                           .team_id = "ict",
                           .kind = TKL_UPDATE_NOT_OURS,
                           .at = record_at,
                           .link_issued_at = record_at - 60,
                           .until_day = TKL_NO_DAY,
                           .plan_deadline_day = b->deadline.day,
                           .plan_deadline_text = b->deadline_text,
                           .plan_status = b->status_text,
                           .plan_owners = "Somebody else"};
    bool is_new = false;
    ck_assert_int_eq(record_now(&s, &u, &is_new), 0);
    ck_assert(is_new);
    ck_assert(record("B", TKL_UPDATE_RESUME, "ict", "ict", NULL));
    run_oneshot();
    ck_assert_int_eq(finished, 1);
    ck_assert_uint_eq(notices_of("hr", "B", TKL_STAGE_ANSWER), 0);
}
END_TEST

/* Runs the service loaded (and updates recorded) once, as --oneshot. */
static void run_oneshot(void)
{
    s.oneshot = true;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
    finish();
}

/* Puts a one-entry notice of item at stage to recipient (team) on chat,
 * as a round before the officer answered would have; returns its id. */
static uint64_t queued_before(const char *item, const char *recipient, const char *team)
{
    struct tkl_notice_entry en = {.size = sizeof(en),
                                  .item_id = item,
                                  .title = "an action",
                                  .deadline_day = tkl_day_from_civil(2023, 6, 30),
                                  .kind = TKL_DEADLINE_DATE,
                                  .stage = TKL_STAGE_LEAD};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "chat",
                           .recipient = recipient,
                           .team_id = team,
                           .due_at = tkl_local_instant(tkl_day_from_civil(2023, 6, 23), 9 * 60),
                           .entries = &en,
                           .n_entries = 1};
    char key[64];
    snprintf(key, sizeof(key), "%s|lead-7|chat|%s", item, recipient);
    const char *keys[] = {key};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(s.outbox, &n, keys, n.due_at, &id), 0);
    ck_assert_int_eq(tkl_outbox_sync(s.outbox), 0);
    ck_assert_uint_gt(id, 0);
    return id;
}

/* The state of notice id in the service's outbox. */
static enum tkl_notice_state state_of(uint64_t id)
{
    struct tkl_stored_notice *x = NULL;
    ck_assert_int_eq(tkl_outbox_get(s.outbox, id, &x), 0);
    enum tkl_notice_state st = x->state;
    tkl_stored_notice_free(x);
    return st;
}

/* A reminder still in the outbox when its action is marked complete (the
 * week before's, its server down since) is withdrawn at its turn, not
 * delivered; another action's goes. */
START_TEST(a_waiting_reminder_of_an_action_since_completed_is_withdrawn)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    uint64_t a = queued_before("A", "hr", "hr"), b = queued_before("B", "ict", "ict");
    ck_assert(record("A", TKL_UPDATE_COMPLETE, "hr", "hr", NULL));
    run_oneshot();
    ck_assert_int_eq(state_of(a), TKL_NOTICE_WITHDRAWN);
    ck_assert_int_eq(state_of(b), TKL_NOTICE_DELIVERED);
    ck_assert_uint_eq(notices_of("hr", "A", TKL_STAGE_DUE), 0); /* held, as ever */
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.withdrawn, 1);
    ck_assert_int_eq(st.pending + st.retrying + st.failed, 0);
    tkl_service_free(&s);
}
END_TEST

/* A marked complete: its reminder on the day is held; reopened a week
 * later, its reminders go on as the plan says, the first overdue one
 * that day. */
START_TEST(a_reopened_action_is_reminded_again)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert(record("A", TKL_UPDATE_COMPLETE, "hr", "hr", NULL));
    run_oneshot();
    ck_assert_uint_eq(notices_of("hr", "A", TKL_STAGE_DUE), 0);
    ck_assert_uint_eq(notices_of("ict", "B", TKL_STAGE_DUE), 1);
    tkl_service_free(&s);

    restart_at("2023-07-07T09:00:30");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    const struct tkl_answer *ans = tkl_answers_find(&s.answers, "A");
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", tkl_day_from_civil(2023, 7, 7)),
                     TKL_HOLD_COMPLETE);
    record_at = 0; /* recorded now */
    ck_assert(record("A", TKL_UPDATE_REOPEN, "hr", "hr", NULL));
    ck_assert(!record("A", TKL_UPDATE_REOPEN, "hr", "hr", NULL)); /* a retry: the same */
    ans = tkl_answers_find(&s.answers, "A");
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", tkl_day_from_civil(2023, 7, 7)), TKL_HOLD_NONE);
    run_oneshot();
    ck_assert_uint_eq(notices_of("hr", "A", TKL_STAGE_OVERDUE), 1);
    ck_assert_uint_eq(notices_of("ict", "B", TKL_STAGE_OVERDUE), 1);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.delivered, 3);
    tkl_service_free(&s);
}
END_TEST

/* The "not ours" reports in the outbox (stage answer), each to hr about B. */
static size_t not_ours_reports(void)
{
    uint64_t *ids = NULL;
    size_t n = 0, reports = 0;
    ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *x = NULL;
        ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[i], &x), 0);
        if (x->notice.n_entries == 1 && x->entries[0].stage == TKL_STAGE_ANSWER) {
            ck_assert_str_eq(x->notice.recipient, "hr");
            ck_assert_str_eq(x->entries[0].item_id, "B");
            reports++;
        }
        tkl_stored_notice_free(x);
    }
    free(ids);
    return reports;
}

static void stop_now(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

/* Writes an update of action id of kind by who for team into the state
 * as a process that stopped right after its commit would leave it:
 * recorded, nobody told; the service stays loaded, for the caller to
 * check and free. */
static void recorded_untold(const char *id, enum tkl_update_kind kind, const char *who,
                            const char *team, const char *suggested)
{
    const char *start = s.env.now_arg; /* the load takes it */
    ck_assert_ptr_nonnull(start);
    ck_assert_int_eq(tkl_service_load(&s), 0);
    const struct tkl_action *a = tkl_store_find(s.rt->store, id);
    ck_assert_ptr_nonnull(a);
    /* at the service's start time, however long the load took */
    int64_t now = 0, uid = 0;
    ck_assert_int_eq(tkl_parse_datetime(start, &now), 0);
    ck_assert_int_ge(tkl_service_now(&s), now);
    struct tkl_update u = {.action_id = (char *)id,
                           .recipient = (char *)who,
                           .team_id = (char *)team,
                           .kind = kind,
                           .at = now,
                           .link_issued_at = now - 60,
                           .until_day = TKL_NO_DAY,
                           .suggested_team = (char *)suggested,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(s.outbox, &u, &uid, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_state_commit(s.state), 0);
}

/* A "not ours" update of B by ICT, recorded_untold. */
static void not_ours_recorded_untold(void)
{
    recorded_untold("B", TKL_UPDATE_NOT_OURS, "ict", "ict", "Facilities");
    ck_assert_uint_eq(not_ours_reports(), 0);
    tkl_service_free(&s);
}

/* C, owned by HR and ICT, marked complete by HR and the process stopped
 * before telling anyone: the next start, once the completion has settled
 * (delivery.joint_settle_seconds, 10 minutes), tells ICT once (stage joint, the
 * entry saying who did what), never HR; the starts after it tell nobody
 * again. A, HR's alone, marked complete by HR, tells nobody. */
START_TEST(a_joint_actions_completion_left_untold_is_told_to_its_other_team_once)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/06/2023,\n");
    recorded_untold("A", TKL_UPDATE_COMPLETE, "hr", "hr", NULL);
    tkl_service_free(&s);
    restart_at("2023-06-30T09:00:30");
    recorded_untold("C", TKL_UPDATE_COMPLETE, "hr", "hr", NULL);
    ck_assert_uint_eq(notices_of("ict", "C", TKL_STAGE_JOINT), 0);
    tkl_service_free(&s);
    for (int run = 0; run < 3; run++) {
        restart_at("2023-06-30T09:11:00");
        s.oneshot = true;
        start();
        finish();
        ck_assert_int_eq(finished, run + 1);
        ck_assert_uint_eq(notices_of("ict", "C", TKL_STAGE_JOINT), 1);
        ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 0);
        ck_assert_uint_eq(notices_of("hr", "A", TKL_STAGE_JOINT), 0);
        ck_assert_uint_eq(notices_of("ict", "A", TKL_STAGE_JOINT), 0);
        uint64_t *ids = NULL;
        size_t n = 0;
        ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
        for (size_t i = 0; i < n; i++) {
            struct tkl_stored_notice *x = NULL;
            ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[i], &x), 0);
            if (x->entries[0].stage == TKL_STAGE_JOINT) {
                ck_assert_str_eq(x->notice.team_id, "ict");
                ck_assert_ptr_nonnull(strstr(x->entries[0].answer, "Marked complete by HR\nhr, "));
                ck_assert_ptr_nonnull(
                    strstr(x->notice.intro, "your reminders for it have stopped"));
            }
            tkl_stored_notice_free(x);
        }
        free(ids);
        tkl_service_free(&s);
    }
}
END_TEST

/* Recorded through the service, a joint action's completion and its
 * reopen, more than delivery.joint_settle_seconds (10 minutes) apart and
 * settled, are each told to the other team once, in the run that
 * recorded them. */
START_TEST(a_joint_actions_completion_and_reopen_are_told_to_its_other_team)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/06/2023,\n");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    record_at = tkl_service_now(&s) - 3600;
    ck_assert(record("C", TKL_UPDATE_COMPLETE, "ict", "ict", NULL));
    record_at += 601;
    ck_assert(record("C", TKL_UPDATE_REOPEN, "ict", "ict", NULL));
    ck_assert(record("A", TKL_UPDATE_COMPLETE, "hr", "hr", NULL));
    run_oneshot();
    ck_assert_int_eq(finished, 1);
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 2);
    ck_assert_uint_eq(notices_of("ict", "C", TKL_STAGE_JOINT), 0);
    ck_assert_uint_eq(notices_of("ict", "A", TKL_STAGE_JOINT), 0);
    tkl_service_free(&s);
}
END_TEST

/* ICT's n updates of C, complete, reopen, complete..., gap seconds apart
 * from now on, then a --oneshot run, which tells HR nothing of them. */
static void toggled_by_ict(int n, int64_t gap)
{
    ck_assert_int_eq(tkl_service_load(&s), 0);
    size_t told = notices_of("hr", "C", TKL_STAGE_JOINT);
    record_at = tkl_service_now(&s);
    for (int i = 0; i < n; i++, record_at += gap)
        ck_assert(record("C", i % 2 ? TKL_UPDATE_REOPEN : TKL_UPDATE_COMPLETE, "ict", "ict", NULL));
    run_oneshot();
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), told); /* none at once */
    tkl_service_free(&s);
}

/* A --oneshot run of a restart at now_arg. */
static void oneshot_at(const char *now_arg)
{
    restart_at(now_arg);
    s.oneshot = true;
    start();
    finish();
}

/* The joint answers HR was told of C, a new string: each notice's
 * answer's first line, in the order queued, lines apart. */
static char *joint_told_to_hr(void)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tkl_outbox_list(s.outbox, false, &ids, &n), 0);
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *x = NULL;
        ck_assert_int_eq(tkl_outbox_get(s.outbox, ids[i], &x), 0);
        const struct tkl_notice_entry *e = &x->entries[0];
        if (e->stage == TKL_STAGE_JOINT && !strcmp(x->notice.recipient, "hr") &&
            !strcmp(e->item_id, "C"))
            fprintf(f, "%.*s\n", (int)strcspn(e->answer, "\n"), e->answer);
        tkl_stored_notice_free(x);
    }
    free(ids);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

/* ICT toggles C, HR's and ICT's, within delivery.joint_settle_seconds
 * (10 minutes): HR is told only once an update has stood that long, and
 * only the last of a run. At 9:00:30 ICT completes C and reopens it a
 * minute later: a run at 9:05 tells HR nothing; a run at 9:12 tells the
 * reopen, not the completion it superseded. At 9:20 ICT completes it,
 * reopens it and completes it again within two minutes: nothing at once;
 * 11 minutes later HR is told once, of the completion; the runs after it
 * tell nothing more. */
START_TEST(a_joint_update_is_told_once_it_has_settled_and_only_its_net_result)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/06/2023,\n");
    toggled_by_ict(2, 60);
    oneshot_at("2023-06-30T09:05:00");
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 0);
    tkl_service_free(&s);
    oneshot_at("2023-06-30T09:12:00");
    char *reopened = joint_told_to_hr();
    ck_assert_str_eq(reopened, "Reopened by ICT\n");
    free(reopened);
    tkl_service_free(&s);
    restart_at("2023-06-30T09:20:00");
    toggled_by_ict(3, 50);
    for (int run = 0; run < 2; run++) {
        oneshot_at(run ? "2023-06-30T10:00:00" : "2023-06-30T09:33:00");
        char *told = joint_told_to_hr();
        ck_assert_str_eq(told, "Marked complete by ICT\nReopened by ICT\n");
        free(told);
        ck_assert_uint_eq(notices_of("ict", "C", TKL_STAGE_JOINT), 0);
        tkl_service_free(&s);
    }
}
END_TEST

/* A running service tells a joint update when it settles, by its timer:
 * with delivery.joint_settle_seconds = 1, ICT's completion of C is told
 * to HR about a second after it was recorded, with no queue round. */
START_TEST(a_running_service_tells_a_joint_update_when_it_settles)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/06/2023,\n");
    char text[1024];
    snprintf(text, sizeof(text),
             "daemon = { timezone = \"Europe/London\"; };\n"
             "store = { files = [ \"plan.csv\" ]; };\n"
             "schedule = { catch_up_days = 1; };\n"
             "delivery = { concurrency = 1; report_to = \"hr\"; joint_settle_seconds = 1; };\n"
             "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
             "teams = (\n"
             "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; },\n"
             "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"ict\" ]; }; }\n"
             ");\n");
    tkl_write_text(dir, "tickler.conf", text);
    start();
    ck_assert(record("C", TKL_UPDATE_COMPLETE, "ict", "ict", NULL));
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 0);
    for (int i = 0; i < 100 && notices_of("hr", "C", TKL_STAGE_JOINT) == 0; i++)
        (void)uv_run(&loop, UV_RUN_ONCE);
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 1);
    tkl_service_stop(&s);
    finish();
    tkl_service_free(&s);
}
END_TEST

/* HR snoozed C (HR's and ICT's) until September, told to ICT long ago.
 * ICT snoozes it until August and, within the settle time, resumes it:
 * the resume ends every team's snooze, HR's too, so HR's reminders come
 * back, and HR hears of it, though ICT's run of updates undid itself. */
START_TEST(a_resume_that_ends_another_teams_snooze_is_told_though_its_teller_snoozed_first)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/09/2023,\n");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    int64_t now = tkl_service_now(&s);
    ck_assert(record_at_until("C", TKL_UPDATE_SNOOZE, "hr", "hr", NULL, now - 3 * 86400,
                              tkl_day_from_civil(2023, 9, 1)));
    ck_assert(record_at_until("C", TKL_UPDATE_SNOOZE, "ict", "ict", NULL, now,
                              tkl_day_from_civil(2023, 8, 1)));
    ck_assert(record_at_until("C", TKL_UPDATE_RESUME, "ict", "ict", NULL, now + 60, TKL_NO_DAY));
    tkl_service_free(&s);
    oneshot_at("2023-06-30T09:20:00");
    /* HR's snooze until September no longer holds: the resume ended it */
    ck_assert_ptr_null(
        tkl_answer_snooze(tkl_answers_find(&s.answers, "C"), tkl_day_from_civil(2023, 7, 3), NULL));
    char *told = joint_told_to_hr();
    ck_assert_str_eq(told, "Reminders resumed by ICT\n");
    free(told);
    tkl_service_free(&s);
}
END_TEST

/* C, owned by HR and ICT, snoozed until September through a link of no
 * owning team's, then by HR until Monday 26 June (the owners' snooze, over
 * since): ICT's resume on 30 June ends the snooze until September, which
 * held HR's reminders too, so HR is told of it. */
START_TEST(a_resume_that_ends_the_snooze_of_no_owning_team_is_told_after_an_owners_ended_one)
{
    tkl_write_text(dir, "plan.csv", PLAN "C,Train managers,HR / ICT,30/09/2023,\n");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    int64_t now = tkl_service_now(&s);
    ck_assert(record_at_until("C", TKL_UPDATE_SNOOZE, "board", NULL, NULL, now - 10 * 86400,
                              tkl_day_from_civil(2023, 9, 1)));
    ck_assert(record_at_until("C", TKL_UPDATE_SNOOZE, "hr", "hr", NULL, now - 9 * 86400,
                              tkl_day_from_civil(2023, 6, 26)));
    record_at = now - 700; /* settled: delivery.joint_settle_seconds */
    ck_assert(record("C", TKL_UPDATE_RESUME, "ict", "ict", NULL));
    run_oneshot();
    ck_assert_int_eq(finished, 1);
    ck_assert_uint_eq(notices_of("hr", "C", TKL_STAGE_JOINT), 1);
    ck_assert_uint_eq(notices_of("ict", "C", TKL_STAGE_JOINT), 0);
    tkl_service_free(&s);
}
END_TEST

/* The next start tells it; the ones after do not, not even to a
 * recipient report_to's team gained since. */
START_TEST(a_not_ours_left_untold_by_a_stop_is_told_at_the_next_start_once)
{
    not_ours_recorded_untold();
    for (int run = 0; run < 3; run++) {
        if (run == 2)
            write_conf("\"hr\", \"hr2\"");
        restart_at("2023-06-30T09:00:30");
        s.oneshot = true;
        start();
        finish();
        ck_assert_int_eq(finished, run + 1);
        ck_assert_uint_eq(not_ours_reports(), 1);
        tkl_service_free(&s);
    }
}
END_TEST

/* One left untold for longer than a week is not told late: a report_to
 * set since, or the first start of a version that tells them, does not
 * bring up every old one. */
START_TEST(a_not_ours_untold_for_more_than_a_week_is_not_told_late)
{
    not_ours_recorded_untold();        /* at 09:00:30 on 30 June */
    restart_at("2023-07-07T08:59:30"); /* a week after, less a minute */
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_uint_eq(not_ours_reports(), 1);
    tkl_service_free(&s);
    tkl_rmtree(state);
    restart_at("2023-06-30T09:00:30");
    not_ours_recorded_untold();
    restart_at("2023-07-07T09:01:30"); /* a week and a minute */
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_uint_eq(not_ours_reports(), 0);
    tkl_service_free(&s);
}
END_TEST

static sqlite3 *locker;

static void unlock_state(uv_timer_t *t)
{
    ck_assert_uint_eq(not_ours_reports(), 0);              /* refused so far */
    ck_assert(uv_is_active((uv_handle_t *)&s.tell_timer)); /* to try again */
    ck_assert_int_eq(sqlite3_exec(locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(locker), SQLITE_OK);
    locker = NULL;
    uv_close((uv_handle_t *)t, NULL);
}

static int polls;

static void stop_once_reported(uv_timer_t *t)
{
    if (locker || not_ours_reports() == 0) {
        ck_assert_int_lt(++polls, 600); /* a minute */
        return;
    }
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

/* Another writer holds the state while the report would be queued: it is
 * refused, and told once the state is free, with nobody pressing again
 * and nothing due (no queue round tries it: the service's own timer). */
START_TEST(a_refused_not_ours_report_is_told_again_without_a_second_press)
{
    uv_timer_t unlock, poll;
    s.env.now_arg = "2023-05-02T09:00:30"; /* the first reminder is on 2 June */
    not_ours_recorded_untold();
    char db[400];
    snprintf(db, sizeof(db), "%s/tickler.db", state);
    ck_assert_int_eq(sqlite3_open(db, &locker), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    restart_at("2023-05-02T09:00:30");
    start();
    ck_assert_int_eq(uv_timer_init(&loop, &unlock), 0);
    ck_assert_int_eq(uv_timer_start(&unlock, unlock_state, 500, 0), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &poll), 0);
    ck_assert_int_eq(uv_timer_start(&poll, stop_once_reported, 100, 100), 0);
    finish();
    ck_assert_uint_eq(not_ours_reports(), 1);
    tkl_service_free(&s);
}
END_TEST

/* Friday 30 June 2023 is an update request's day: the teams are asked at
 * start, and the timer waits for the follow-up, two weeks on. */
START_TEST(update_requests_go_at_their_time_and_the_timer_waits_for_the_next)
{
    uv_timer_t t;
    tkl_write_text(dir, "tickler.conf",
                   "daemon = { timezone = \"Europe/London\"; };\n"
                   "store = { files = [ \"plan.csv\" ]; };\n"
                   "report = { request_updates = [ \"06-30\" ]; };\n"
                   "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
                   "teams = (\n"
                   "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; },\n"
                   "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"ict\" ]; }; }\n"
                   ");\n");
    start();
    int64_t when = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "request:2023-06-30", &when), 0);
    /* asked at start: at --now, or the seconds the start took after it */
    ck_assert_int_ge(when, tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 9 * 60) + 30);
    ck_assert_int_le(when, tkl_service_now(&s));
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_eq(st.pending, 2); /* the requests; the reminders once the loop runs */
    ck_assert(uv_is_active((uv_handle_t *)&s.request_timer));
    uint64_t left = uv_timer_get_due_in(&s.request_timer);
    ck_assert_uint_gt(left, (14 * 86400 - 60) * UINT64_C(1000));
    ck_assert_uint_le(left, 14 * 86400 * UINT64_C(1000));
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, stop_now, 0, 0), 0);
    finish();
    tkl_service_free(&s);
}
END_TEST

static void reload_then_stop(uv_timer_t *t)
{
    tkl_service_reload(&s);
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

/* The outbox refuses the update request at its time (another writer holds
 * the database); a queue round then gets in (last_run moves past the
 * request's time) and the configuration is reloaded before the request is
 * tried again: the request still goes. */
START_TEST(a_refused_update_request_survives_a_reload)
{
    uv_timer_t t;
    tkl_write_text(dir, "tickler.conf",
                   "daemon = { timezone = \"Europe/London\"; };\n"
                   "store = { files = [ \"plan.csv\" ]; };\n"
                   "report = { request_updates = [ \"06-30\" ]; };\n"
                   "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
                   "teams = (\n"
                   "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; },\n"
                   "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"ict\" ]; }; }\n"
                   ");\n");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    char db[400];
    sqlite3 *other = NULL;
    snprintf(db, sizeof(db), "%s/tickler.db", state);
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0); /* the request is refused */
    int64_t when = 0;
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "request:2023-06-30", &when), -ENOENT);
    /* what a queue round that gets in records */
    ck_assert_int_eq(tkl_outbox_set_meta(s.outbox, "last_run", tkl_service_now(&s)), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, reload_then_stop, 0, 0), 0);
    finish();
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "request:2023-06-30", &when), 0);
    tkl_service_free(&s);
}
END_TEST

/* The same, with a restart in place of the reload: the next start sends
 * the request although last_run has moved past its time. */
START_TEST(a_refused_update_request_survives_a_restart)
{
    uv_timer_t t;
    tkl_write_text(dir, "tickler.conf",
                   "daemon = { timezone = \"Europe/London\"; };\n"
                   "store = { files = [ \"plan.csv\" ]; };\n"
                   "report = { request_updates = [ \"06-30\" ]; };\n"
                   "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
                   "teams = (\n"
                   "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; }\n"
                   ");\n");
    ck_assert_int_eq(tkl_service_load(&s), 0);
    char db[400];
    sqlite3 *other = NULL;
    snprintf(db, sizeof(db), "%s/tickler.db", state);
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0); /* the request is refused */
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(tkl_outbox_set_meta(s.outbox, "last_run", tkl_service_now(&s) + 60), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, stop_now, 0, 0), 0);
    finish();
    tkl_service_free(&s);

    restart_at("2023-06-30T09:05:00");
    start();
    int64_t when = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "request:2023-06-30", &when), 0);
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "requests_pending", &when), 0);
    ck_assert(when == INT64_MAX); /* done with */
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, stop_now, 0, 0), 0);
    finish();
    tkl_service_free(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("service");
    TCase *tc = tcase_create("service");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, oneshot_delivers_what_is_due_once_then_stops_clean);
    tcase_add_test(tc, a_reload_keeps_the_running_notifier);
    tcase_add_test(tc, a_reload_does_not_hold_the_outbox_write_lock);
    tcase_add_test(tc, recorded_updates_hold_reminders_and_not_ours_is_told);
    tcase_add_test(tc, a_not_ours_taken_back_is_told_and_its_team_reminded);
    tcase_add_test(tc, a_resume_after_an_overruled_not_ours_tells_nobody);
    tcase_add_test(tc, a_reopened_action_is_reminded_again);
    tcase_add_test(tc, a_waiting_reminder_of_an_action_since_completed_is_withdrawn);
    tcase_add_test(tc, a_not_ours_left_untold_by_a_stop_is_told_at_the_next_start_once);
    tcase_add_test(tc, a_refused_not_ours_report_is_told_again_without_a_second_press);
    tcase_add_test(tc, a_not_ours_untold_for_more_than_a_week_is_not_told_late);
    tcase_add_test(tc, a_joint_actions_completion_left_untold_is_told_to_its_other_team_once);
    tcase_add_test(tc, a_joint_actions_completion_and_reopen_are_told_to_its_other_team);
    tcase_add_test(tc, a_joint_update_is_told_once_it_has_settled_and_only_its_net_result);
    tcase_add_test(tc, a_running_service_tells_a_joint_update_when_it_settles);
    tcase_add_test(tc,
                   a_resume_that_ends_another_teams_snooze_is_told_though_its_teller_snoozed_first);
    tcase_add_test(
        tc, a_resume_that_ends_the_snooze_of_no_owning_team_is_told_after_an_owners_ended_one);
    tcase_add_test(tc, update_requests_go_at_their_time_and_the_timer_waits_for_the_next);
    tcase_add_test(tc, a_refused_update_request_survives_a_reload);
    tcase_add_test(tc, a_refused_update_request_survives_a_restart);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}
