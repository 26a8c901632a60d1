/* Tests for daemon/report/request_updates.c: the days of an update
 * request, which teams are asked about what on the day, the follow-up to
 * the teams that have not answered, the summary told to report_to, each
 * once across restarts, a refused run tried again, and what `tickler
 * upcoming` lists. */
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
#include "outbox/updates.h"
#include "report/request_updates.h"

/* Teams: hr and ict by e-mail, pce by e-mail to two addresses, museums
 * without recipients, edi hears the summary. */
#define CONF                                                                                       \
    "store = { files = [ \"plan.csv\" ]; };\n"                                                     \
    "delivery = { report_to = \"edi\"; };\n"                                                       \
    "report = { request_updates = [ \"03-01\", \"09-01\" ]; };\n"                                  \
    "notifiers = ( { name = \"email\"; plugin = \"email\"; } );\n"                                 \
    "fallback_team = \"edi\";\n"                                                                   \
    "teams = (\n"                                                                                  \
    "  { id = \"hr\"; name = \"Human Resources\"; aliases = [ \"HR\" ];\n"                         \
    "    recipients = { email = [ \"hr@example.org\" ]; }; },\n"                                   \
    "  { id = \"ict\"; name = \"ICT\"; recipients = { email = [ \"ict@example.org\" ]; }; },\n"    \
    "  { id = \"pce\"; name = \"Policy, Communities and Engagement\";\n"                           \
    "    recipients = { email = [ \"policy@example.org\", \"pce.lead@example.org\" ]; }; },\n"     \
    "  { id = \"museums\"; name = \"Museums\"; },\n"                                               \
    "  { id = \"edi\"; name = \"EDI Officer Group\";\n"                                            \
    "    recipients = { email = [ \"edi@example.org\" ]; }; }\n"                                   \
    ");\n"

/* A, C: hr's; C, D: ict's (D complete); B: pce's; E: museums'. */
#define PLAN                                                                                       \
    "Ref,Actions,Responsibility,Timeframe,Status\n"                                                \
    "A,Review the pay gap,HR,30/06/2027,Ongoing\n"                                                 \
    "B,Publish the report,\"Policy, Communities and Engagement\",31/12/2027,\n"                    \
    "C,Train managers,HR / ICT,30/09/2027,\n"                                                      \
    "D,Accessible forms,ICT,31/05/2026,Complete\n"                                                 \
    "E,Loan boxes,Museums,Ongoing,\n"

static struct tkl_config *cfg;
static struct tkl_diags diags;
static struct tkl_store *store;
static char conf_path[64];

static int64_t at(int y, int m, int d, int hh, int mm)
{
    return tkl_local_instant(tkl_day_from_civil(y, m, d), hh * 60 + mm);
}

static int32_t day(int y, int m, int d)
{
    return tkl_day_from_civil(y, m, d);
}

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    memset(&diags, 0, sizeof(diags));
    snprintf(conf_path, sizeof(conf_path), "/tmp/test_request_updates-%d.conf", (int)getpid());
    FILE *f = fopen(conf_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(CONF, f);
    fclose(f);
    ck_assert_int_eq(tkl_config_load(conf_path, &cfg, &diags), 0);
    ck_assert_int_eq(tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", PLAN, strlen(PLAN),
                                           &store, &diags),
                     0);
}

static void teardown(void)
{
    tkl_store_free(store);
    tkl_config_free(cfg);
    tkl_diags_free(&diags);
    unlink(conf_path);
}

static struct tkl_requests_ctx ctx(struct tkl_outbox *o, const struct tkl_answers *answers)
{
    return (struct tkl_requests_ctx){.report = &cfg->report,
                                     .policy = &cfg->schedule.policy,
                                     .teams = &cfg->teams,
                                     .report_to = cfg->delivery.report_to,
                                     .store = store,
                                     .answers = answers,
                                     .links = true,
                                     .outbox = o};
}

static struct tkl_outbox *new_outbox(char *dir, size_t size)
{
    struct tkl_outbox *o = NULL;
    tkl_outbox_dir(dir, size, "requests");
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    tkl_outbox_set_busy_timeout(o, 10);
    return o;
}

static void remove_outbox(struct tkl_outbox *o, const char *dir)
{
    tkl_outbox_close(o);
    tkl_outbox_dir_remove(dir);
}

/* The rows of query over the outbox in dir, one a line. */
static char *rows(const char *dir, const char *query)
{
    char path[300], *out = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, query, -1, &st, NULL), SQLITE_OK);
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s\n", (const char *)sqlite3_column_text(st, 0));
    ck_assert_int_eq(fclose(f), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Every (recipient, team, action, stage key) in the outbox, one a line,
 * sorted: what a person would count. */
static char *contents(const char *dir)
{
    return rows(dir, "SELECT recipient || ' ' || team_id || ' ' || item_id || ' ' || stage_key "
                     "FROM notices JOIN entries ON id = notice_id ORDER BY 1");
}

/* The intro of each notice to recipient, one a line. */
static char *intros(const char *dir, const char *recipient)
{
    char q[256];
    snprintf(q, sizeof(q), "SELECT intro FROM notices WHERE recipient = '%s' ORDER BY id",
             recipient);
    return rows(dir, q);
}

/* Records an update of action by who at t; a snooze until until_day. */
static void answer_until(struct tkl_outbox *o, const char *action, const char *who,
                         const char *team, enum tkl_update_kind kind, int64_t t, int32_t until_day)
{
    const struct tkl_action *a = tkl_store_find(store, action);
    ck_assert_ptr_nonnull(a);
    struct tkl_update u = {.action_id = (char *)action,
                           .recipient = (char *)who,
                           .team_id = (char *)team,
                           .kind = kind,
                           .at = t,
                           .link_issued_at = t - 3600,
                           .until_day = until_day,
                           .rag = kind == TKL_UPDATE_PROGRESS ? TKL_RAG_GREEN : TKL_RAG_NONE,
                           .note = kind == TKL_UPDATE_PROGRESS ? (char *)"On track" : NULL,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    int64_t id;
    bool is_new;
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &id, &is_new), 0);
    ck_assert(is_new);
}

/* Records an update of action by who at t. */
static void answer(struct tkl_outbox *o, const char *action, const char *who, const char *team,
                   enum tkl_update_kind kind, int64_t t)
{
    answer_until(o, action, who, team, kind, t, TKL_NO_DAY);
}

/* Runs the requests at now, catching up from from; returns the result. */
static struct tkl_requests_result run(struct tkl_outbox *o, const struct tkl_answers *ans,
                                      int64_t from, int64_t now)
{
    struct tkl_requests_ctx c = ctx(o, ans);
    struct tkl_requests_result res;
    ck_assert_int_eq(tkl_requests_run(&c, from, now, &res), 0);
    return res;
}

START_TEST(the_days_of_a_request)
{
    struct tkl_request_round r;
    char key[TKL_REQUEST_KEY_SIZE];
    /* Monday 1 March 2027: answers by Monday 22 March, the follow-up on
     * Monday 15 March, the summary the morning after the "by" day */
    tkl_request_round_of(&cfg->report, &cfg->schedule.policy, 0, 2027, &r);
    ck_assert_int_eq(r.date, day(2027, 3, 1));
    ck_assert_int_eq(r.day[TKL_REQUEST_ASK], day(2027, 3, 1));
    ck_assert_int_eq(r.at[TKL_REQUEST_ASK], at(2027, 3, 1, 9, 0));
    ck_assert_int_eq(r.by_day, day(2027, 3, 22));
    ck_assert_int_eq(r.day[TKL_REQUEST_FOLLOW_UP], day(2027, 3, 15));
    ck_assert_int_eq(r.day[TKL_REQUEST_SUMMARY], day(2027, 3, 23));
    ck_assert_int_eq(r.until[TKL_REQUEST_ASK], at(2027, 3, 23, 9, 0));
    ck_assert_int_eq(r.until[TKL_REQUEST_SUMMARY], at(2027, 3, 30, 9, 0)); /* catch_up_days 7 */
    tkl_request_key(&r, TKL_REQUEST_FOLLOW_UP, key);
    ck_assert_str_eq(key, "request-follow-up:2027-03-01");
    /* Saturday 1 March 2025: asked on Monday 3 March; 22 days later is
     * Monday 24 March */
    tkl_request_round_of(&cfg->report, &cfg->schedule.policy, 0, 2025, &r);
    ck_assert_int_eq(r.day[TKL_REQUEST_ASK], day(2025, 3, 3));
    ck_assert_int_eq(r.by_day, day(2025, 3, 24));
    /* 29 February in another year is 28 February; bank holidays are not
     * working days: 25 December 2026 is a Friday, the 28th the Boxing Day
     * holiday in lieu */
    cfg->report.request_updates[0] = (struct tkl_request_date){.month = 2, .day = 29};
    cfg->report.request_updates[1] = (struct tkl_request_date){.month = 12, .day = 25};
    tkl_request_round_of(&cfg->report, &cfg->schedule.policy, 0, 2028, &r);
    ck_assert_int_eq(r.date, day(2028, 2, 29));
    tkl_request_round_of(&cfg->report, &cfg->schedule.policy, 0, 2027, &r);
    ck_assert_int_eq(r.date, day(2027, 2, 28));
    ck_assert_int_eq(r.day[TKL_REQUEST_ASK], day(2027, 3, 1));
    tkl_request_round_of(&cfg->report, &cfg->schedule.policy, 1, 2026, &r);
    ck_assert_int_eq(r.day[TKL_REQUEST_ASK], day(2026, 12, 29));
    tkl_request_key(&r, TKL_REQUEST_ASK, key);
    ck_assert_str_eq(key, "request:2026-12-25");
}
END_TEST

START_TEST(the_next_instant_is_known_in_advance)
{
    const struct tkl_policy *p = &cfg->schedule.policy;
    ck_assert_int_eq(tkl_requests_next_at(&cfg->report, p, at(2027, 1, 10, 12, 0)),
                     at(2027, 3, 1, 9, 0));
    ck_assert_int_eq(tkl_requests_next_at(&cfg->report, p, at(2027, 3, 1, 9, 0)),
                     at(2027, 3, 15, 9, 0));
    ck_assert_int_eq(tkl_requests_next_at(&cfg->report, p, at(2027, 3, 23, 9, 0)),
                     at(2027, 9, 1, 9, 0));
    /* after September's summary, next year's first request */
    ck_assert_int_eq(tkl_requests_next_at(&cfg->report, p, at(2027, 12, 1, 9, 0)),
                     at(2028, 3, 1, 9, 0));
    cfg->report.n_request_updates = 0;
    ck_assert_int_eq(tkl_requests_next_at(&cfg->report, p, at(2027, 1, 10, 12, 0)), INT64_MAX);
}
END_TEST

/* What a run at now would take from from, and a run at until could not:
 * a start outside the sending hours keeps the rest for them. */
START_TEST(a_phase_over_by_a_later_instant_is_known)
{
    const struct tkl_policy *p = &cfg->schedule.policy;
    const struct tkl_report_conf *rc = &cfg->report;
    /* the follow-up of Monday 15 March 2027 missed: open until the
     * summary's time, Tuesday 23rd 09:00 */
    ck_assert(!tkl_requests_over_by(rc, p, at(2027, 3, 2, 9, 0), at(2027, 3, 20, 2, 0),
                                    at(2027, 3, 22, 9, 0)));
    ck_assert(tkl_requests_over_by(rc, p, at(2027, 3, 2, 9, 0), at(2027, 3, 22, 20, 0),
                                   at(2027, 3, 23, 9, 0)));
    /* nothing missed since from: nothing to lose */
    ck_assert(!tkl_requests_over_by(rc, p, at(2027, 3, 16, 9, 0), at(2027, 3, 22, 20, 0),
                                    at(2027, 3, 23, 9, 0)));
    /* the summary of the 23rd, missed, is open for catch_up_days (7) */
    ck_assert(!tkl_requests_over_by(rc, p, at(2027, 3, 22, 9, 0), at(2027, 3, 27, 2, 0),
                                    at(2027, 3, 29, 9, 0)));
    ck_assert(tkl_requests_over_by(rc, p, at(2027, 3, 22, 9, 0), at(2027, 3, 27, 2, 0),
                                   at(2027, 3, 30, 9, 0)));
}
END_TEST

START_TEST(each_owning_team_is_asked_once_about_its_actions)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    /* the day before: nothing */
    struct tkl_requests_result res = run(o, NULL, 0, at(2027, 2, 28, 12, 0));
    ck_assert_uint_eq(res.committed, 0);
    ck_assert_int_eq(res.next_at, at(2027, 3, 1, 9, 0));
    res = run(o, NULL, 0, at(2027, 3, 1, 9, 0));
    ck_assert_uint_eq(res.phases, 1);
    ck_assert_uint_eq(res.committed, 4); /* hr, ict, and pce's two addresses */
    ck_assert_uint_eq(res.unrouted, 1);  /* museums have no recipients */
    ck_assert_int_eq(res.next_at, at(2027, 3, 15, 9, 0));
    char *got = contents(dir);
    ck_assert_str_eq(got, "hr@example.org hr A request:2027-03-01\n"
                          "hr@example.org hr C request:2027-03-01\n"
                          "ict@example.org ict C request:2027-03-01\n"
                          "pce.lead@example.org pce B request:2027-03-01\n"
                          "policy@example.org pce B request:2027-03-01\n");
    free(got);
    got = intros(dir, "hr@example.org");
    ck_assert_str_eq(got, "Please give your progress on each action below by Monday 22 March "
                          "2027: open its link to give a progress note with its RAG status, mark "
                          "it complete, or say it is not your team's. Your answers go into the "
                          "progress report.\n");
    free(got);
    /* once: a later run, or a restart, sends nothing more */
    char *before = contents(dir);
    res = run(o, NULL, 0, at(2027, 3, 1, 9, 30));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    tkl_outbox_close(o);
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    res = run(o, NULL, at(2027, 3, 1, 8, 0), at(2027, 3, 2, 10, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    got = contents(dir);
    ck_assert_str_eq(got, before);
    free(got);
    free(before);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(a_missed_request_is_caught_up_while_answers_are_open)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    /* ticklerd stopped from before the day: caught up on start */
    struct tkl_requests_result res = run(o, NULL, at(2027, 2, 26, 17, 0), at(2027, 3, 4, 10, 0));
    ck_assert_uint_eq(res.phases, 1);
    ck_assert_uint_eq(res.committed, 4);
    char *late = rows(dir, "SELECT DISTINCT late FROM entries");
    ck_assert_str_eq(late, "1\n");
    free(late);
    remove_outbox(o, dir);
    /* not from before the catch-up point (a first start long after) */
    o = new_outbox(dir, sizeof(dir));
    res = run(o, NULL, at(2027, 3, 5, 10, 0), at(2027, 3, 12, 10, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    /* nor once the answers are due: only the summary is left, and it
     * follows a request only */
    res = run(o, NULL, at(2027, 2, 1, 10, 0), at(2027, 3, 23, 10, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(the_follow_up_goes_to_those_who_have_not_answered)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    /* an update before the request is no answer to it */
    answer(o, "B", "policy@example.org", "pce", TKL_UPDATE_PROGRESS, at(2027, 2, 20, 10, 0));
    run(o, NULL, 0, at(2027, 3, 1, 9, 0));
    tkl_outbox_empty(dir);
    /* hr answers for A (not C); ict says nothing; pce answers for B */
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "B", "pce.lead@example.org", "pce", TKL_UPDATE_PROGRESS, at(2027, 3, 8, 11, 0));
    struct tkl_requests_result res = run(o, NULL, 0, at(2027, 3, 15, 9, 0));
    ck_assert_uint_eq(res.phases, 1);
    char *got = contents(dir);
    ck_assert_str_eq(got, "hr@example.org hr C request-follow-up:2027-03-01\n"
                          "ict@example.org ict C request-follow-up:2027-03-01\n");
    free(got);
    got = intros(dir, "ict@example.org");
    ck_assert_ptr_nonnull(strstr(got, "On Monday 1 March 2027 we asked for your progress"));
    ck_assert_ptr_nonnull(strstr(got, "by Monday 22 March 2027"));
    free(got);
    /* once */
    res = run(o, NULL, 0, at(2027, 3, 16, 9, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(the_summary_tells_report_to_who_answered)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    run(o, NULL, 0, at(2027, 3, 1, 9, 0));
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "B", "pce.lead@example.org", "pce", TKL_UPDATE_COMPLETE, at(2027, 3, 22, 17, 0));
    run(o, NULL, 0, at(2027, 3, 15, 9, 0));
    tkl_outbox_empty(dir);
    /* not on the "by" day itself: answers given that day count */
    struct tkl_requests_result res = run(o, NULL, 0, at(2027, 3, 22, 18, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    ck_assert_int_eq(res.next_at, at(2027, 3, 23, 9, 0));
    res = run(o, NULL, 0, at(2027, 3, 23, 9, 0));
    ck_assert_uint_eq(res.phases, 1);
    ck_assert_uint_eq(res.committed, 1);
    char *got = contents(dir);
    ck_assert_str_eq(got, "edi@example.org edi C request-summary:2027-03-01\n");
    free(got);
    got = intros(dir, "edi@example.org");
    ck_assert_str_eq(got, "Answers to the update request of Monday 1 March 2027, due by Monday 22 "
                          "March 2027: 3 teams were asked about 3 actions. Answered for every "
                          "action: Policy, Communities and Engagement. Answered for some: Human "
                          "Resources (1 of 2). Not answered: ICT. Not asked, as the team has no "
                          "recipients: Museums. The actions below have no answer yet.\n");
    free(got);
    got = rows(dir, "SELECT answer FROM entries");
    ck_assert_str_eq(got, "No answer yet\n");
    free(got);
    /* once, across a restart too */
    tkl_outbox_close(o);
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    res = run(o, NULL, at(2027, 3, 20, 9, 0), at(2027, 3, 24, 9, 0));
    ck_assert_uint_eq(res.committed + res.phases, 0);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(when_every_action_has_an_answer_the_summary_says_so)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    run(o, NULL, 0, at(2027, 3, 1, 9, 0));
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "B", "policy@example.org", "pce", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "C", "ict@example.org", "ict", TKL_UPDATE_NOT_OURS, at(2027, 3, 4, 11, 0));
    struct tkl_requests_result res = run(o, NULL, 0, at(2027, 3, 15, 9, 0));
    ck_assert_uint_eq(res.phases, 1); /* the follow-up, to no one */
    ck_assert_uint_eq(res.committed, 0);
    res = run(o, NULL, 0, at(2027, 3, 23, 9, 0));
    ck_assert_uint_eq(res.committed, 1);
    char *got = rows(dir, "SELECT item_id || ' ' || title FROM entries WHERE stage_key = "
                          "'request-summary:2027-03-01'");
    ck_assert_str_eq(got, "request:2027-03-01 Every team answered for every action it was asked "
                          "about\n");
    free(got);
    got = intros(dir, "edi@example.org");
    /* C is HR's and ICT's: ICT's answer is not said to be HR's */
    ck_assert_ptr_nonnull(strstr(got, "Answered for every action: Human Resources (1 answered by "
                                      "others); ICT; Policy, Communities and Engagement. Not "
                                      "asked"));
    ck_assert_ptr_nonnull(strstr(got, "Every action has an answer."));
    free(got);
    remove_outbox(o, dir);
}
END_TEST

/* A team that pressed nothing, whose only action another owning team
 * answered, is not said to have answered. */
START_TEST(a_team_answered_for_by_another_is_said_so)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    run(o, NULL, 0, at(2027, 3, 1, 9, 0));
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "C", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    answer(o, "B", "policy@example.org", "pce", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    (void)run(o, NULL, 0, at(2027, 3, 15, 9, 0));
    (void)run(o, NULL, 0, at(2027, 3, 23, 9, 0));
    char *got = intros(dir, "edi@example.org");
    ck_assert_ptr_nonnull(strstr(got, "Answered for every action: Human Resources; ICT (all "
                                      "answered by others); Policy, Communities and Engagement."));
    free(got);
    remove_outbox(o, dir);
}
END_TEST

/* The answers of every update recorded in o, against the store. */
static void answers_of(struct tkl_outbox *o, struct tkl_answers *ret)
{
    struct tkl_updates ups = {0};
    ck_assert_int_eq(tkl_outbox_updates(o, NULL, 0, INT64_MAX, &ups), 0);
    ck_assert_int_eq(tkl_answers_build(ret, &ups, store, NULL, NULL), 0); /* takes ups */
}

START_TEST(what_an_update_before_the_request_settled_is_not_asked)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    struct tkl_answers ans = {0};
    /* marked complete in February, and still so in the plan's terms */
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_COMPLETE, at(2027, 2, 10, 11, 0));
    answers_of(o, &ans);
    run(o, &ans, 0, at(2027, 3, 1, 9, 0));
    char *got = rows(dir, "SELECT item_id FROM entries WHERE notice_id IN (SELECT id FROM notices "
                          "WHERE team_id = 'hr')");
    ck_assert_str_eq(got, "C\n");
    free(got);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* The request shows, under each action, what its officers said last, as
 * a reminder does (Latest update); the summary says an action has no
 * answer yet, then what was said before the request. */
START_TEST(a_request_shows_the_latest_progress_note)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    struct tkl_answers ans = {0};
    answer(o, "B", "policy@example.org", "pce", TKL_UPDATE_PROGRESS, at(2027, 2, 20, 10, 0));
    answers_of(o, &ans);
    run(o, &ans, 0, at(2027, 3, 1, 9, 0));
    char *got = rows(dir, "SELECT DISTINCT item_id || ': ' || coalesce(answer, '-') FROM entries "
                          "WHERE notice_id IN (SELECT id FROM notices WHERE team_id = 'pce')");
    ck_assert_str_eq(got, "B: Progress (green), policy@example.org on 20 Feb 2027: On track\n");
    free(got);
    got = rows(dir, "SELECT DISTINCT item_id || ': ' || coalesce(answer, '-') FROM entries "
                    "WHERE notice_id IN (SELECT id FROM notices WHERE team_id = 'ict')");
    ck_assert_str_eq(got, "C: -\n"); /* nothing said of C */
    free(got);
    run(o, &ans, 0, at(2027, 3, 23, 9, 0));
    got = rows(dir, "SELECT item_id || ': ' || answer FROM entries WHERE stage_key LIKE "
                    "'request-summary:%' ORDER BY item_id");
    ck_assert_str_eq(got, "A: No answer yet\nB: No answer yet. Before the request: Progress "
                          "(green), policy@example.org on 20 Feb 2027: On track\nC: No answer "
                          "yet\n");
    free(got);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

/* An update request to owners who snoozed an action says what they said,
 * not the words of an escalation's copy. */
START_TEST(a_request_to_owners_who_snoozed_is_no_escalation)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    struct tkl_answers ans = {0};
    answer_until(o, "B", "policy@example.org", "pce", TKL_UPDATE_SNOOZE, at(2027, 2, 20, 10, 0),
                 day(2027, 4, 1));
    answers_of(o, &ans);
    run(o, &ans, 0, at(2027, 3, 1, 9, 0));
    char *got = rows(dir, "SELECT DISTINCT recipient || ' ' || coalesce(answer, '-') FROM entries "
                          "JOIN notices ON id = notice_id WHERE item_id = 'B'");
    ck_assert_ptr_nonnull(strstr(got, "policy@example.org"));
    ck_assert_ptr_null(strstr(got, "escalation goes on"));
    free(got);
    tkl_answers_free(&ans);
    remove_outbox(o, dir);
}
END_TEST

START_TEST(a_refused_run_is_tried_again_and_goes_once)
{
    char dir[256], path[300];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    struct tkl_requests_ctx c = ctx(o, NULL);
    struct tkl_requests_result res;
    sqlite3 *other = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(tkl_requests_run(&c, 0, at(2027, 3, 1, 9, 0), &res), -EBUSY);
    ck_assert_int_eq(res.failed_at, at(2027, 3, 1, 9, 0));
    ck_assert_uint_eq(res.phases, 0);
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(tkl_requests_run(&c, 0, at(2027, 3, 1, 9, 1), &res), 0);
    ck_assert_uint_eq(res.phases, 1);
    ck_assert_uint_eq(res.committed, 4);
    ck_assert_int_eq(res.failed_at, INT64_MAX);
    remove_outbox(o, dir);
}
END_TEST

/* Empties the outbox and forgets the phases of the requests that match
 * like (SQL), as if they had not been sent. */
static void forget(const char *dir, const char *like)
{
    char path[300], sql[128];
    sqlite3 *db = NULL;
    tkl_outbox_empty(dir);
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    snprintf(sql, sizeof(sql), "DELETE FROM meta WHERE key LIKE '%s'", like);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Runs the phase like names at now with the Nth allocation failing, for
 * each N until none fails: the run is refused or done, and once tried
 * again the outbox holds what one clean run puts there. */
static void torture(struct tkl_outbox *o, const char *dir, const char *like, int64_t now)
{
    forget(dir, like);
    run(o, NULL, 0, now);
    char *want = contents(dir);
    ck_assert_uint_gt(strlen(want), 0);
    unsigned long i;
    for (i = 1;; i++) {
        forget(dir, like);
        struct tkl_requests_ctx c = ctx(o, NULL);
        struct tkl_requests_result res;
        alloc_fail_nth(i);
        int r = tkl_requests_run(&c, 0, now, &res);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %lu: %d", i, r);
        ck_assert(r == 0 || res.failed_at < INT64_MAX);
        run(o, NULL, 0, now);
        char *got = contents(dir);
        ck_assert_str_eq(got, want);
        free(got);
        if (r == 0 && used < i)
            break;
    }
    ck_assert_uint_gt(i, 20);
    free(want);
}

START_TEST(allocation_failures_leave_each_notice_once)
{
    char dir[256];
    struct tkl_outbox *o = new_outbox(dir, sizeof(dir));
    torture(o, dir, "request:%", at(2027, 3, 1, 9, 0));
    answer(o, "A", "hr@example.org", "hr", TKL_UPDATE_PROGRESS, at(2027, 3, 3, 11, 0));
    torture(o, dir, "request-summary:%", at(2027, 3, 23, 9, 0));
    remove_outbox(o, dir);
}
END_TEST

/* A sink that keeps what a decision yields, one line per entry put
 * ("recipient team action stage-key") and per phase done ("done KEY"),
 * refusing the put numbered refuse (from 1; 0: none) with -EIO. */
struct kept {
    char *text;
    size_t len;
    FILE *f;
    int puts, refuse;
};

static int kept_put(void *data, const struct tkl_notice *n, const char *const *stage_keys)
{
    struct kept *k = data;
    if (++k->puts == k->refuse)
        return -EIO;
    for (size_t i = 0; i < n->n_entries; i++)
        fprintf(k->f, "%s %s %s %s\n", n->recipient, n->team_id, n->entries[i].item_id,
                stage_keys[i]);
    return 0;
}

static int kept_done(void *data, const char *key, int64_t send_at)
{
    struct kept *k = data;
    fprintf(k->f, "done %s %s\n", key, send_at == at(2027, 3, 15, 9, 0) ? "15 March" : "other");
    return 0;
}

/* Decides the run at now from from with marks as read (done: the keys
 * done, each at done_at) and updates; returns what the sink kept (free
 * it) and sets *res and *r. */
static char *decide(int64_t from, int64_t now, const char *const *done, int64_t done_at,
                    const struct tkl_updates *updates, int refuse, struct tkl_request_marks *m,
                    struct tkl_requests_result *res, int *r)
{
    struct tkl_requests_ctx c = ctx(NULL, NULL);
    struct kept k = {.refuse = refuse};
    k.f = open_memstream(&k.text, &k.len);
    ck_assert_ptr_nonnull(k.f);
    ck_assert_int_eq(tkl_requests_marks(&c, from, now, m), 0);
    for (size_t i = 0; i < m->n; i++)
        for (size_t d = 0; done && done[d]; d++)
            if (!strcmp(m->v[i].key, done[d])) {
                m->v[i].done = true;
                m->v[i].at = done_at;
            }
    const struct tkl_requests_sink sink = {kept_put, kept_done, &k};
    *res = (struct tkl_requests_result){0};
    *r = tkl_requests_decide(&c, from, now, m, updates, &sink, res);
    ck_assert_int_eq(fclose(k.f), 0);
    return k.text;
}

START_TEST(a_run_is_decided_from_the_marks_and_updates_it_is_given)
{
    struct tkl_request_marks m;
    struct tkl_requests_result res;
    int r;
    /* at the request's time: its key is read, nothing else */
    char *got = decide(0, at(2027, 3, 1, 9, 0), NULL, 0, NULL, 0, &m, &res, &r);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(m.n, 1);
    ck_assert_str_eq(m.v[0].key, "request:2027-03-01");
    ck_assert_int_eq(m.first_at, at(2027, 3, 1, 9, 0));
    ck_assert_int_eq(m.since, INT64_MAX); /* a request reads no updates */
    ck_assert_str_eq(got, "hr@example.org hr A request:2027-03-01\n"
                          "hr@example.org hr C request:2027-03-01\n"
                          "ict@example.org ict C request:2027-03-01\n"
                          "policy@example.org pce B request:2027-03-01\n"
                          "pce.lead@example.org pce B request:2027-03-01\n"
                          "done request:2027-03-01 other\n");
    ck_assert(m.v[0].done); /* marked in the table as decided */
    ck_assert_int_eq(m.v[0].at, at(2027, 3, 1, 9, 0));
    ck_assert_uint_eq(res.phases, 1);
    ck_assert_uint_eq(res.unrouted, 1);
    ck_assert_int_eq(res.next_at, at(2027, 3, 15, 9, 0));
    free(got);
    tkl_request_marks_free(&m);
    /* marked done (by this node or another): nothing */
    const char *const asked[] = {"request:2027-03-01", NULL};
    got = decide(0, at(2027, 3, 1, 9, 5), asked, at(2027, 3, 1, 9, 0), NULL, 0, &m, &res, &r);
    ck_assert_str_eq(got, "");
    ck_assert_uint_eq(res.phases, 0);
    free(got);
    tkl_request_marks_free(&m);
    /* the follow-up: both keys read, the answers those of the updates
     * given since the request (one before it is no answer) */
    struct tkl_updates ups = {0};
    struct tkl_update u = {.action_id = (char *)"A",
                           .recipient = (char *)"hr@example.org",
                           .kind = TKL_UPDATE_PROGRESS,
                           .at = at(2027, 3, 3, 11, 0),
                           .until_day = TKL_NO_DAY};
    ck_assert_int_eq(tkl_updates_push(&ups, &u), 0);
    u.action_id = (char *)"B";
    u.at = at(2027, 2, 20, 11, 0);
    ck_assert_int_eq(tkl_updates_push(&ups, &u), 0);
    got = decide(0, at(2027, 3, 15, 9, 0), asked, at(2027, 3, 1, 9, 0), &ups, 0, &m, &res, &r);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(m.n, 2);
    ck_assert_int_eq(m.since, at(2027, 3, 1, 9, 0));
    ck_assert_str_eq(got, "hr@example.org hr C request-follow-up:2027-03-01\n"
                          "ict@example.org ict C request-follow-up:2027-03-01\n"
                          "policy@example.org pce B request-follow-up:2027-03-01\n"
                          "pce.lead@example.org pce B request-follow-up:2027-03-01\n"
                          "done request-follow-up:2027-03-01 15 March\n");
    free(got);
    tkl_request_marks_free(&m);
    /* a request marked at or after the follow-up's time (caught up late)
     * has no follow-up */
    got = decide(0, at(2027, 3, 15, 9, 0), asked, at(2027, 3, 15, 9, 0), &ups, 0, &m, &res, &r);
    ck_assert_str_eq(got, "");
    free(got);
    tkl_request_marks_free(&m);
    tkl_updates_free(&ups);
}
END_TEST

START_TEST(a_refusal_of_the_sink_stops_the_run_and_leaves_its_phase_open)
{
    struct tkl_request_marks m;
    struct tkl_requests_result res;
    int r;
    /* the second notice refused: the first was put, the phase is not done */
    char *got = decide(0, at(2027, 3, 1, 9, 0), NULL, 0, NULL, 2, &m, &res, &r);
    ck_assert_int_eq(r, -EIO);
    ck_assert_int_eq(res.failed_at, at(2027, 3, 1, 9, 0));
    ck_assert_uint_eq(res.phases, 0);
    ck_assert_str_eq(got, "hr@example.org hr A request:2027-03-01\n"
                          "hr@example.org hr C request:2027-03-01\n");
    ck_assert(!m.v[0].done);
    free(got);
    tkl_request_marks_free(&m);
    /* nothing open: no key is read */
    struct tkl_requests_ctx c = ctx(NULL, NULL);
    ck_assert_int_eq(tkl_requests_marks(&c, 0, at(2027, 2, 20, 9, 0), &m), 0);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_int_eq(m.first_at, INT64_MAX);
    tkl_request_marks_free(&m);
}
END_TEST

START_TEST(upcoming_lists_the_requests_of_the_period)
{
    struct tkl_requests_ctx c = ctx(NULL, NULL);
    struct tkl_due *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_requests_asks(&c, at(2027, 2, 1, 0, 0), at(2027, 4, 1, 0, 0), &v, &n), 0);
    ck_assert_uint_eq(n, 5); /* hr: A, C; ict: C; pce: B; museums: E */
    const char *want[][2] = {
        {"hr", "A"}, {"hr", "C"}, {"ict", "C"}, {"pce", "B"}, {"museums", "E"}};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(cfg->teams.teams[v[i].team].id, want[i][0]);
        ck_assert_str_eq(v[i].action->id, want[i][1]);
        ck_assert_int_eq(v[i].at, at(2027, 3, 1, 9, 0));
        ck_assert_int_eq(v[i].r.stage, TKL_STAGE_REQUEST);
        ck_assert_str_eq(v[i].r.key, "request");
    }
    free(v);
    /* a year: March and September */
    ck_assert_int_eq(tkl_requests_asks(&c, at(2027, 1, 1, 0, 0), at(2028, 1, 1, 0, 0), &v, &n), 0);
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(v[9].at, at(2027, 9, 1, 9, 0));
    free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("request_updates");
    TCase *tc = tcase_create("requests");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, the_days_of_a_request);
    tcase_add_test(tc, the_next_instant_is_known_in_advance);
    tcase_add_test(tc, a_phase_over_by_a_later_instant_is_known);
    tcase_add_test(tc, each_owning_team_is_asked_once_about_its_actions);
    tcase_add_test(tc, a_missed_request_is_caught_up_while_answers_are_open);
    tcase_add_test(tc, a_request_to_owners_who_snoozed_is_no_escalation);
    tcase_add_test(tc, the_follow_up_goes_to_those_who_have_not_answered);
    tcase_add_test(tc, the_summary_tells_report_to_who_answered);
    tcase_add_test(tc, when_every_action_has_an_answer_the_summary_says_so);
    tcase_add_test(tc, a_team_answered_for_by_another_is_said_so);
    tcase_add_test(tc, what_an_update_before_the_request_settled_is_not_asked);
    tcase_add_test(tc, a_request_shows_the_latest_progress_note);
    tcase_add_test(tc, a_refused_run_is_tried_again_and_goes_once);
    tcase_add_test(tc, allocation_failures_leave_each_notice_once);
    tcase_add_test(tc, a_run_is_decided_from_the_marks_and_updates_it_is_given);
    tcase_add_test(tc, a_refusal_of_the_sink_stops_the_run_and_leaves_its_phase_open);
    tcase_add_test(tc, upcoming_lists_the_requests_of_the_period);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
