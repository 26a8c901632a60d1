/* Tests for daemon/update/answer.c: what holds a reminder back (complete
 * until a reopen, snooze until its day or a resume, not ours for one team
 * until its resume), the latest
 * progress note, and the plan winning when it later says otherwise. */
#include <check.h>

#include "check_run.h"
#include "store_fixture.h"
#include <tickler/day.h>

#include "update/answer.h"

static const char plan[] = "Actions,Responsibility,Timeframe,Status\n"
                           "Publish the pay gap report,HR,31/03/2027,In progress\n"
                           "Train every manager,HR & EDI Officer Group,30/06/2027,Not started\n";
static const char plan_later[] = "Actions,Responsibility,Timeframe,Status\n"
                                 "Publish the pay gap report,HR,30/09/2027,In progress\n"
                                 "Train every manager,HR,30/06/2027,Not started\n";

/* An update of kind k for action a as the plan st says it now. */
static struct tkl_update about(const struct tkl_action *a, enum tkl_update_kind k, int64_t id)
{
    return (struct tkl_update){.id = id,
                               .action_id = a->id,
                               .recipient = "hr@example.org",
                               .team_id = "hr",
                               .kind = k,
                               .at = 1796000000 + id,
                               .link_issued_at = 1795000000,
                               .until_day = TKL_NO_DAY,
                               .plan_deadline_day = a->deadline.day,
                               .plan_deadline_text = a->deadline_text,
                               .plan_status = a->status_text,
                               .plan_owners = a->owners};
}

/* The answers of the updates u[0..n) over store st. */
static void build(struct tkl_answers *ret, const struct tkl_update *u, size_t n,
                  const struct tkl_store *st)
{
    struct tkl_updates l = {0};
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(tkl_updates_push(&l, &u[i]), 0);
    ck_assert_int_eq(tkl_answers_build(ret, &l, st, NULL, NULL), 0);
    ck_assert_uint_eq(l.n, 0); /* taken */
}

START_TEST(complete_holds_every_reminder)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u = about(&st->actions[0], TKL_UPDATE_COMPLETE, 1);
    struct tkl_answers a;
    build(&a, &u, 1, st);
    const struct tkl_answer *ans = tkl_answers_find(&a, st->actions[0].id);
    ck_assert_ptr_nonnull(ans);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_COMPLETE);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 30000), TKL_HOLD_COMPLETE);
    ck_assert_ptr_null(tkl_answers_find(&a, st->actions[1].id));
    ck_assert_int_eq(tkl_answer_holds(NULL, "hr", 20000), TKL_HOLD_NONE);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &st->actions[0], &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

START_TEST(snooze_holds_until_its_day_and_the_latest_counts)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u[2] = {about(&st->actions[0], TKL_UPDATE_SNOOZE, 1),
                              about(&st->actions[0], TKL_UPDATE_SNOOZE, 2)};
    u[0].until_day = 20800;
    u[1].until_day = 20790;
    struct tkl_answers a;
    build(&a, u, 2, st);
    const struct tkl_answer *ans = tkl_answers_find(&a, st->actions[0].id);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20789), TKL_HOLD_SNOOZED);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20790), TKL_HOLD_NONE);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20795), TKL_HOLD_NONE);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* A snooze, or a team's "not ours", recorded again while the first holds
 * goes on from the first's instant (its end brings back what both held);
 * one recorded after the first ended holds from its own. */
START_TEST(a_hold_recorded_again_goes_on_from_the_first)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const int64_t day = 86400;
    struct tkl_update u[6] = {about(&st->actions[0], TKL_UPDATE_SNOOZE, 1),
                              about(&st->actions[0], TKL_UPDATE_SNOOZE, 2),
                              about(&st->actions[1], TKL_UPDATE_SNOOZE, 3),
                              about(&st->actions[1], TKL_UPDATE_SNOOZE, 4),
                              about(&st->actions[1], TKL_UPDATE_NOT_OURS, 5),
                              about(&st->actions[1], TKL_UPDATE_NOT_OURS, 6)};
    int32_t today = tkl_local_day(u[0].at);
    u[0].until_day = today + 10;
    u[1].at += 3 * day;
    u[1].until_day = today + 20;
    u[2].until_day = today + 1;
    u[3].at += 3 * day; /* the first ended two days before */
    u[3].until_day = today + 20;
    u[5].at += 5 * day;
    struct tkl_answers a;
    build(&a, u, 6, st);
    const struct tkl_answer *x = tkl_answers_find(&a, st->actions[0].id);
    ck_assert_ptr_eq(x->snooze, a.updates.v + 1);
    ck_assert_int_eq(x->snooze_since, u[0].at);
    x = tkl_answers_find(&a, st->actions[1].id);
    int64_t since = 0;
    ck_assert_ptr_eq(tkl_answer_snooze(x, today + 4, &since), a.updates.v + 3);
    ck_assert_int_eq(since, u[3].at);
    ck_assert_int_eq(tkl_answer_not_ours_since(x, "hr"), u[4].at);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

START_TEST(not_ours_holds_one_team_only)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u = about(&st->actions[1], TKL_UPDATE_NOT_OURS, 1);
    u.suggested_team = "Learning and Development";
    struct tkl_answers a;
    build(&a, &u, 1, st);
    const struct tkl_answer *ans = tkl_answers_find(&a, st->actions[1].id);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NOT_OURS);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 20000), TKL_HOLD_NONE);
    ck_assert_int_eq(tkl_answer_holds(ans, NULL, 20000), TKL_HOLD_NONE);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

START_TEST(progress_holds_nothing_and_the_latest_shows)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u[3] = {about(&st->actions[0], TKL_UPDATE_PROGRESS, 1),
                              about(&st->actions[1], TKL_UPDATE_PROGRESS, 2),
                              about(&st->actions[0], TKL_UPDATE_PROGRESS, 3)};
    u[0].rag = TKL_RAG_RED;
    u[0].note = "Stuck";
    u[1].rag = TKL_RAG_GREEN;
    u[2].rag = TKL_RAG_AMBER;
    u[2].note = "Moving again";
    struct tkl_answers a;
    build(&a, u, 3, st);
    ck_assert_uint_eq(a.n, 2);
    const struct tkl_answer *ans = tkl_answers_find(&a, st->actions[0].id);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_str_eq(ans->progress->note, "Moving again");
    ck_assert_ptr_eq(ans->latest, ans->progress);
    ck_assert_ptr_null(ans->overruled);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

START_TEST(the_plan_wins_when_it_changes)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u[2] = {about(&st->actions[0], TKL_UPDATE_COMPLETE, 1),
                              about(&st->actions[1], TKL_UPDATE_NOT_OURS, 2)};
    u[1].team_id = "edi";
    struct tkl_store *later = load(plan_later);
    ck_assert_ptr_nonnull(later);
    /* the ids stay: they come from the action's text, not its deadline */
    ck_assert_str_eq(later->actions[0].id, st->actions[0].id);
    struct tkl_answers a;
    build(&a, u, 2, later);
    const struct tkl_answer *ans = tkl_answers_find(&a, later->actions[0].id);
    ck_assert_ptr_nonnull(ans);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_ptr_eq(ans->overruled, &a.updates.v[0]);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &later->actions[0], &text), 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "hr@example.org marked it complete on "));
    ck_assert_ptr_nonnull(strstr(text, "the deadline as 30/09/2027"));
    ck_assert_ptr_nonnull(strstr(text, "status as In progress"));
    free(text);
    /* the owners changed: "not ours" no longer holds */
    ans = tkl_answers_find(&a, later->actions[1].id);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 20000), TKL_HOLD_NONE);
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &later->actions[1], &text), 0);
    ck_assert_ptr_nonnull(strstr(text, "changed its owners to HR"));
    free(text);
    tkl_answers_free(&a);
    tkl_store_free(later);
    tkl_store_free(st);
}
END_TEST

/* The owner copies a completion into the plan: the sentence says what
 * the plan now says, not that reminders go on. */
START_TEST(a_plan_that_agrees_stops_reminders_itself)
{
    static const char plan_done[] = "Actions,Responsibility,Timeframe,Status\n"
                                    "Publish the pay gap report,HR,31/03/2027,Complete\n";
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u = about(&st->actions[0], TKL_UPDATE_COMPLETE, 1);
    struct tkl_store *done = load(plan_done);
    ck_assert_ptr_nonnull(done);
    struct tkl_answers a;
    build(&a, &u, 1, done);
    const struct tkl_answer *ans = tkl_answers_find(&a, done->actions[0].id);
    ck_assert_ptr_nonnull(ans);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &done->actions[0], &text), 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "the plan now gives the status as Complete, which needs no "
                                       "reminder."));
    ck_assert_ptr_null(strstr(text, "reminders go on"));
    free(text);
    tkl_answers_free(&a);
    tkl_store_free(done);
    tkl_store_free(st);
}
END_TEST

/* The answer of the updates u[0..n) of one action over store of (st, or a
 * later plan), into a. */
static const struct tkl_answer *answer_of(struct tkl_answers *a, const struct tkl_update *u,
                                          size_t n, const struct tkl_store *of)
{
    build(a, u, n, of);
    const struct tkl_answer *ans = tkl_answers_find(a, u[0].action_id);
    ck_assert_ptr_nonnull(ans);
    return ans;
}

/* Complete, reopen, complete again: each reopen ends the completions
 * before it, and a completion after it holds again. */
START_TEST(a_reopen_ends_the_complete_and_a_later_complete_holds_again)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *x = &st->actions[0];
    struct tkl_update u[4] = {about(x, TKL_UPDATE_COMPLETE, 1), about(x, TKL_UPDATE_REOPEN, 2),
                              about(x, TKL_UPDATE_COMPLETE, 3), about(x, TKL_UPDATE_REOPEN, 4)};
    u[1].recipient = "edi@example.org"; /* anyone with a link may reopen */
    u[1].note = "Not signed off yet";
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 1, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_COMPLETE);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 2, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 20000), TKL_HOLD_NONE);
    ck_assert_ptr_null(ans->complete);
    ck_assert_ptr_eq(ans->reopened, &a.updates.v[1]);
    ck_assert_str_eq(ans->reopened->note, "Not signed off yet");
    ck_assert_ptr_eq(ans->latest, &a.updates.v[1]);
    ck_assert_ptr_null(ans->overruled);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, x, &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 3, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_COMPLETE);
    ck_assert_ptr_eq(ans->complete, &a.updates.v[2]);
    ck_assert_ptr_null(ans->reopened);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 4, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_ptr_eq(ans->reopened, &a.updates.v[3]);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* A reopen ends completions only: the snooze before it holds again, to
 * its day; and a reopen with no completion to end records nothing
 * reopened. */
START_TEST(a_reopen_ends_completions_only)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *x = &st->actions[0];
    struct tkl_update u[3] = {about(x, TKL_UPDATE_SNOOZE, 1), about(x, TKL_UPDATE_COMPLETE, 2),
                              about(x, TKL_UPDATE_REOPEN, 3)};
    u[0].until_day = 20800;
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 2, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20900), TKL_HOLD_COMPLETE);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 3, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20799), TKL_HOLD_SNOOZED);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20800), TKL_HOLD_NONE);
    tkl_answers_free(&a);
    ans = answer_of(&a, u + 2, 1, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_ptr_null(ans->reopened);
    ck_assert_ptr_null(ans->overruled);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* The plan wins over a reopen too: once it changes the deadline the
 * reopen no longer holds, and the digest says nothing of it (it held
 * nothing back: reminders go as before); a completion recorded against
 * the new plan holds, and a reopen recorded against the old one does not
 * end it. */
START_TEST(the_plan_overrules_a_reopen)
{
    struct tkl_store *st = load(plan), *later = load(plan_later);
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(later);
    struct tkl_update u[3] = {about(&st->actions[0], TKL_UPDATE_COMPLETE, 1),
                              about(&st->actions[0], TKL_UPDATE_REOPEN, 2),
                              about(&later->actions[0], TKL_UPDATE_COMPLETE, 3)};
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 2, later);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NONE);
    ck_assert_ptr_null(ans->reopened);
    ck_assert_ptr_null(ans->overruled);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &later->actions[0], &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&a);
    /* complete (new plan) after the old reopen: holds */
    struct tkl_update v[3] = {u[2], u[1], u[0]};
    v[1].id = 4;
    v[2].id = 5;
    ans = answer_of(&a, v, 2, later);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_COMPLETE);
    ck_assert_ptr_eq(ans->complete, &a.updates.v[0]);
    tkl_answers_free(&a);
    tkl_store_free(later);
    tkl_store_free(st);
}
END_TEST

/* A resume ends the snooze (for every team) and its own team's "not
 * ours", not another team's; what it ended is kept for the scheduler
 * (the resume, the team, the day the hold began), one per team. A later
 * snooze, or a "not ours" of the same team, holds again. */
START_TEST(a_resume_ends_the_snooze_and_its_teams_not_ours)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *x = &st->actions[1]; /* HR and the EDI Officer Group */
    struct tkl_update u[5] = {about(x, TKL_UPDATE_SNOOZE, 1), about(x, TKL_UPDATE_NOT_OURS, 2),
                              about(x, TKL_UPDATE_NOT_OURS, 3), about(x, TKL_UPDATE_RESUME, 86400),
                              about(x, TKL_UPDATE_SNOOZE, 2 * 86400)};
    u[0].until_day = 20800;
    u[2].team_id = "edi";
    u[2].recipient = "edi@example.org";
    u[4].until_day = 20810;
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 3, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20799), TKL_HOLD_SNOOZED);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20800), TKL_HOLD_NOT_OURS);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 20800), TKL_HOLD_NOT_OURS);
    ck_assert_uint_eq(ans->n_resumed, 0);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 4, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20799), TKL_HOLD_NONE);
    ck_assert_int_eq(tkl_answer_holds(ans, "edi", 20799), TKL_HOLD_NOT_OURS);
    ck_assert_ptr_null(ans->snooze);
    ck_assert_uint_eq(ans->n_not_ours, 1);
    ck_assert_str_eq(ans->not_ours[0]->team_id, "edi");
    /* two holds ended: the snooze (every team's) and HR's "not ours" */
    ck_assert_uint_eq(ans->n_resumed, 2);
    ck_assert_ptr_eq(ans->resumed[0].u, &a.updates.v[3]);
    ck_assert_ptr_null(ans->resumed[0].team);
    ck_assert_int_eq(ans->resumed[0].since, u[0].at);
    ck_assert_str_eq(ans->resumed[1].team, "hr");
    ck_assert_int_eq(ans->resumed[1].since, u[1].at);
    ck_assert_ptr_eq(tkl_answer_resumed(ans, "edi"), &ans->resumed[0]);
    ck_assert_ptr_eq(tkl_answer_resumed(ans, "hr"), &ans->resumed[1]);
    ck_assert_ptr_null(ans->overruled);
    tkl_answers_free(&a);
    ans = answer_of(&a, u, 5, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20809), TKL_HOLD_SNOOZED);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20810), TKL_HOLD_NONE);
    ck_assert_uint_eq(ans->n_resumed, 0);
    tkl_answers_free(&a);
    /* the "not ours" alone: resumed for its team only, from its day */
    struct tkl_update v[3] = {u[1], u[2], u[3]};
    ans = answer_of(&a, v, 3, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20799), TKL_HOLD_NONE);
    ck_assert_uint_eq(ans->n_resumed, 1);
    ck_assert_str_eq(ans->resumed[0].team, "hr");
    ck_assert_int_eq(ans->resumed[0].since, u[1].at);
    ck_assert_ptr_null(tkl_answer_resumed(ans, "edi"));
    tkl_answers_free(&a);
    /* said again after the resume: holds again, its resume forgotten */
    struct tkl_update w[4] = {u[1], u[2], u[3], u[1]};
    w[3].id = w[3].at = 3 * 86400;
    w[3].at += 1796000000;
    ans = answer_of(&a, w, 4, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20799), TKL_HOLD_NOT_OURS);
    ck_assert_uint_eq(ans->n_resumed, 0);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* The owners' snooze and one through a link of no owning team's (the
 * escalation team's) each hold apart: neither shortens the other, the
 * owners' reminders are held while either holds, the escalated copies
 * only by the latter; a resume ends both. */
/* A "not ours" the plan overruled by new owners says them on one line,
 * as the Responsibility cell may part its teams by a line break. */
START_TEST(overruled_owners_are_said_on_one_line)
{
    struct tkl_update u = {.id = 1,
                           .action_id = "A",
                           .recipient = "hr@example.org",
                           .team_id = "hr",
                           .kind = TKL_UPDATE_NOT_OURS,
                           .plan_owners = "EDI",
                           .at = 1796000000};
    struct tkl_action a = {.id = "A", .owners = "HR\nICT\r\nEDI", .status = TKL_STATUS_ACTIVE};
    struct tkl_answer ans = {.action_id = "A", .overruled = &u};
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(&ans, &a, &text), 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "changed its owners to HR ICT EDI, so reminders go on."), "%s",
                  text);
    ck_assert_ptr_null(strpbrk(text, "\r\n"));
    free(text);
}
END_TEST

START_TEST(the_owners_snooze_and_the_escalation_teams_hold_apart)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *x = &st->actions[0]; /* HR's */
    struct tkl_update u[3] = {about(x, TKL_UPDATE_SNOOZE, 1), about(x, TKL_UPDATE_SNOOZE, 2),
                              about(x, TKL_UPDATE_RESUME, 3)};
    int32_t today = tkl_local_day(u[0].at);
    u[0].until_day = today + 100; /* HR's, until September say */
    u[1].team_id = "edi";         /* the escalation team's week */
    u[1].recipient = "edi@example.org";
    u[1].until_day = today + 7;
    struct tkl_answers a;
    for (int order = 0; order < 2; order++) {
        struct tkl_update v[2] = {u[order], u[1 - order]};
        for (int i = 0; i < 2; i++) /* recorded in this order */
            v[i].at = 1796000000 + (v[i].id = i + 1);
        const struct tkl_answer *ans = answer_of(&a, v, 2, st);
        ck_assert_int_eq(tkl_answer_holds(ans, "hr", today + 3), TKL_HOLD_SNOOZED);
        ck_assert(tkl_answer_holds_copies(ans, "edi", today + 3));
        /* the week over: HR's reminders still held, the copies not */
        ck_assert_int_eq(tkl_answer_holds(ans, "hr", today + 10), TKL_HOLD_SNOOZED);
        ck_assert(!tkl_answer_holds_copies(ans, "edi", today + 10));
        ck_assert_int_eq(tkl_answer_holds(ans, "hr", today + 100), TKL_HOLD_NONE);
        int64_t since = 0;
        ck_assert_int_eq(tkl_answer_snooze(ans, today + 3, &since)->until_day, today + 100);
        ck_assert_int_eq(since, v[0].at);
        /* each slot alone, and only while it holds */
        int64_t owners_since = 0, all_since = 0;
        const struct tkl_update *own =
            tkl_answer_slot(ans, TKL_SNOOZE_OWNERS, today + 3, &owners_since);
        const struct tkl_update *esc = tkl_answer_slot(ans, TKL_SNOOZE_ALL, today + 3, &all_since);
        ck_assert(own && own->until_day == today + 100 && esc && esc->until_day == today + 7);
        /* the later goes on from the instant of the one that held then */
        ck_assert_int_eq(owners_since, v[0].at);
        ck_assert_int_eq(all_since, v[0].at);
        ck_assert_ptr_null(tkl_answer_slot(ans, TKL_SNOOZE_ALL, today + 7, NULL));
        ck_assert_ptr_eq(tkl_answer_slot(ans, TKL_SNOOZE_OWNERS, today + 99, NULL), own);
        ck_assert_ptr_null(tkl_answer_slot(ans, TKL_SNOOZE_OWNERS, today + 100, NULL));
        ck_assert_ptr_eq(tkl_answer_slot(ans, TKL_SNOOZE_ALL, INT32_MIN, NULL), esc);
        tkl_answers_free(&a);
    }
    /* the escalation team's longer than the owners': it holds them all */
    u[1].until_day = today + 200;
    struct tkl_update w[2] = {u[1], u[0]};
    for (int i = 0; i < 2; i++)
        w[i].at = 1796000000 + (w[i].id = i + 1);
    const struct tkl_answer *ans = answer_of(&a, w, 2, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", today + 150), TKL_HOLD_SNOOZED);
    ck_assert(tkl_answer_holds_copies(ans, "edi", today + 150));
    tkl_answers_free(&a);
    /* a resume, of either, ends both */
    ans = answer_of(&a, u, 3, st);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", today + 3), TKL_HOLD_NONE);
    ck_assert(!tkl_answer_holds_copies(ans, "edi", today + 3));
    ck_assert_ptr_null(tkl_answer_snooze(ans, today + 3, NULL));
    ck_assert_uint_eq(ans->n_resumed, 1);
    ck_assert_int_eq(ans->resumed[0].since, u[0].at);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* Both teams said "not ours", and each takes it back: each team's resume
 * is kept for the scheduler, not only the latest (a restart between the
 * two and the send time brings both back). */
START_TEST(each_teams_resume_is_kept)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *x = &st->actions[1];
    struct tkl_update u[4] = {about(x, TKL_UPDATE_NOT_OURS, 1), about(x, TKL_UPDATE_NOT_OURS, 2),
                              about(x, TKL_UPDATE_RESUME, 3), about(x, TKL_UPDATE_RESUME, 4)};
    u[1].team_id = u[3].team_id = "edi";
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 4, st);
    ck_assert_uint_eq(ans->n_resumed, 2);
    ck_assert_str_eq(ans->resumed[0].team, "hr");
    ck_assert_str_eq(ans->resumed[1].team, "edi");
    ck_assert_ptr_eq(tkl_answer_resumed(ans, "hr")->u, &a.updates.v[2]);
    ck_assert_ptr_eq(tkl_answer_resumed(ans, NULL)->u, &a.updates.v[3]);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

/* A resume that ends nothing (no hold, another team's "not ours", a
 * snooze whose last day was before the resume's) records what it says but
 * resumes nothing; one on a snooze's last day ends it (its end may be to
 * come: the scheduler tells); the plan changing after a resume overrules
 * nothing. */
START_TEST(a_resume_with_nothing_to_end_resumes_nothing)
{
    struct tkl_store *st = load(plan), *later = load(plan_later);
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(later);
    const struct tkl_action *x = &st->actions[0];
    struct tkl_update u[2] = {about(x, TKL_UPDATE_SNOOZE, 1), about(x, TKL_UPDATE_RESUME, 2)};
    /* its last day over by the resume's (a Saturday, resumed on Sunday):
     * it stays, to end as it would have (on Monday) */
    u[0].until_day = tkl_local_day(u[1].at) - 1;
    struct tkl_answers a;
    const struct tkl_answer *ans = answer_of(&a, u, 2, st);
    ck_assert_uint_eq(ans->n_resumed, 0);
    ck_assert_ptr_eq(ans->snooze, &a.updates.v[0]);
    tkl_answers_free(&a);
    u[0].until_day = tkl_local_day(u[1].at); /* its last day: its end may be to come */
    ans = answer_of(&a, u, 2, st);
    ck_assert_uint_eq(ans->n_resumed, 1);
    ck_assert_ptr_null(ans->snooze);
    tkl_answers_free(&a);
    ans = answer_of(&a, u + 1, 1, st);
    ck_assert_uint_eq(ans->n_resumed, 0);
    ck_assert_ptr_eq(ans->latest, &a.updates.v[0]);
    tkl_answers_free(&a);
    struct tkl_update other[2] = {about(&st->actions[1], TKL_UPDATE_NOT_OURS, 1),
                                  about(&st->actions[1], TKL_UPDATE_RESUME, 2)};
    other[1].team_id = "edi";
    ans = answer_of(&a, other, 2, st);
    ck_assert_uint_eq(ans->n_resumed, 0);
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", 20000), TKL_HOLD_NOT_OURS);
    tkl_answers_free(&a);
    u[0].until_day = 20900;
    ans = answer_of(&a, u, 2, later);
    ck_assert_ptr_null(ans->overruled);
    char *text = NULL;
    ck_assert_int_eq(tkl_answer_overruled_text(ans, &later->actions[0], &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&a);
    tkl_store_free(later);
    tkl_store_free(st);
}
END_TEST

START_TEST(updates_of_removed_actions_are_kept_without_an_answer)
{
    struct tkl_store *st = load(plan);
    ck_assert_ptr_nonnull(st);
    struct tkl_update u = about(&st->actions[0], TKL_UPDATE_COMPLETE, 1);
    u.action_id = "a00000000000";
    struct tkl_answers a;
    build(&a, &u, 1, st);
    ck_assert_uint_eq(a.n, 0);
    ck_assert_uint_eq(a.updates.n, 1);
    tkl_answers_free(&a);
    tkl_store_free(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("answer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, complete_holds_every_reminder);
    tcase_add_test(tc, snooze_holds_until_its_day_and_the_latest_counts);
    tcase_add_test(tc, a_hold_recorded_again_goes_on_from_the_first);
    tcase_add_test(tc, not_ours_holds_one_team_only);
    tcase_add_test(tc, progress_holds_nothing_and_the_latest_shows);
    tcase_add_test(tc, the_plan_wins_when_it_changes);
    tcase_add_test(tc, a_plan_that_agrees_stops_reminders_itself);
    tcase_add_test(tc, a_reopen_ends_the_complete_and_a_later_complete_holds_again);
    tcase_add_test(tc, a_reopen_ends_completions_only);
    tcase_add_test(tc, the_plan_overrules_a_reopen);
    tcase_add_test(tc, a_resume_ends_the_snooze_and_its_teams_not_ours);
    tcase_add_test(tc, each_teams_resume_is_kept);
    tcase_add_test(tc, the_owners_snooze_and_the_escalation_teams_hold_apart);
    tcase_add_test(tc, overruled_owners_are_said_on_one_line);
    tcase_add_test(tc, a_resume_with_nothing_to_end_resumes_nothing);
    tcase_add_test(tc, updates_of_removed_actions_are_kept_without_an_answer);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
