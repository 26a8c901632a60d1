/* Tests for daemon/schedule/standing.c on actions the real store reads:
 * each standing from the status and deadline as a council writes them,
 * the first rung of the owning team's ladder (or review ladder) as the
 * edge of "due soon", the names both ways, and observances left out. */
#include <check.h>

#include "check_run.h"
#include <errno.h>

#include "core/day.h"
#include "schedule/standing.h"
#include "store_fixture.h"

/* 1 June 2023: the day the tests stand on. */
#define TODAY tkl_day_from_civil(2023, 6, 1)

static struct tkl_schedule_conf sc;

/* hr has its own rules: a ladder whose first rung is 42 days, a review
 * ladder whose first rung is 3; edi has the policy's (28 and 28). */
static void rules_setup(void)
{
    setup();
    tkl_schedule_conf_init(&sc);
    sc.team_rules = calloc(2, sizeof(*sc.team_rules));
    ck_assert_ptr_nonnull(sc.team_rules);
    sc.n_team_rules = 2;
    sc.team_rules[0] = sc.policy.rules;
    sc.team_rules[0].ladder = (struct tkl_ladder){.lead = {42, 7, 0}, .n = 3};
    sc.team_rules[0].review = (struct tkl_ladder){.lead = {3, 0}, .n = 2};
    sc.team_rules[1] = sc.policy.rules;
}

static void rules_teardown(void)
{
    tkl_schedule_conf_free(&sc);
    teardown();
}

/* The standing of the action with id in st, on TODAY. */
static enum tkl_standing standing(const struct tkl_store *st, const char *id)
{
    const struct tkl_action *a = tkl_store_find(st, id);
    ck_assert_msg(a != NULL, "no action %s", id);
    return tkl_action_standing(&sc, &dir, a, TODAY);
}

#define ASSERT_STANDING(st, id, want)                                                              \
    ck_assert_str_eq(tkl_standing_name(standing(st, id)), tkl_standing_name(want))

START_TEST(dates_against_the_policy_ladder)
{
    /* EDI has the policy's ladder: its first rung is 28 days */
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe,Status\n"
                                "D1,Yesterday,EDI Officer Group,31/05/2023,\n"
                                "D2,Today,EDI Officer Group,01/06/2023,\n"
                                "D3,Tomorrow,EDI Officer Group,02/06/2023,In progress\n"
                                "D4,Rung,EDI Officer Group,29/06/2023,\n"
                                "D5,After the rung,EDI Officer Group,30/06/2023,\n"
                                "D6,Month,EDI Officer Group,April 2023,Delayed\n"
                                "D7,Year end,EDI Officer Group,2023/24,Amber\n");
    ck_assert_ptr_nonnull(st);
    ASSERT_STANDING(st, "D1", TKL_STANDING_OVERDUE);
    ASSERT_STANDING(st, "D2", TKL_STANDING_DUE_SOON); /* due today is not late yet */
    ASSERT_STANDING(st, "D3", TKL_STANDING_DUE_SOON);
    ASSERT_STANDING(st, "D4", TKL_STANDING_DUE_SOON); /* 28 days ahead: the first reminder */
    ASSERT_STANDING(st, "D5", TKL_STANDING_ON_TRACK);
    ASSERT_STANDING(st, "D6", TKL_STANDING_OVERDUE); /* 30 April */
    ASSERT_STANDING(st, "D7", TKL_STANDING_ON_TRACK);
    tkl_store_free(st);
}
END_TEST

/* The first reminder of a deadline whose first rung falls on a weekend
 * goes on the Friday before: the action is due soon from that Friday. */
START_TEST(due_soon_from_the_working_day_of_the_first_reminder)
{
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe,Status\n"
                                "W1,Saturday deadline,EDI Officer Group,01/07/2023,\n");
    ck_assert_ptr_nonnull(st);
    const struct tkl_action *a = tkl_store_find(st, "W1");
    int32_t friday = tkl_day_from_civil(2023, 6, 2), thursday = friday - 1;
    ck_assert_int_eq(tkl_action_standing(&sc, &dir, a, thursday), TKL_STANDING_ON_TRACK);
    ck_assert_int_eq(tkl_action_standing(&sc, &dir, a, friday), TKL_STANDING_DUE_SOON);
    /* counted in calendar days only, the Saturday 28 days before */
    ck_assert_int_eq(tkl_standing_of(a, &sc.policy.rules, NULL, friday), TKL_STANDING_ON_TRACK);
    ck_assert_int_eq(tkl_standing_of(a, &sc.policy.rules, NULL, friday + 1), TKL_STANDING_DUE_SOON);
    tkl_store_free(st);
}
END_TEST

START_TEST(the_first_team_s_rules_decide)
{
    /* hr's ladder starts 42 days ahead, its review ladder 3 days ahead;
     * edi has the policy's, 28 days for both */
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe\n"
                                "T1,HR first,HR / EDI Officer Group,30/06/2023\n"
                                "T2,EDI first,EDI Officer Group / HR,30/06/2023\n"
                                "T3,Fallback,Nobody we know,30/06/2023\n"
                                "T4,HR review,HR,Review Jun 2023\n"
                                "T5,HR review soon,HR,Review 04/06/2023\n"
                                "T6,HR review past,HR,Review May 2023\n"
                                "T7,EDI review,EDI Officer Group,Review 30/06/2023\n"
                                "T8,EDI review,EDI Officer Group,Review 29/06/2023\n");
    ck_assert_ptr_nonnull(st);
    ASSERT_STANDING(st, "T1", TKL_STANDING_DUE_SOON); /* 29 days, within 42 */
    ASSERT_STANDING(st, "T2", TKL_STANDING_ON_TRACK); /* 29 days, past 28 */
    ASSERT_STANDING(st, "T3", TKL_STANDING_ON_TRACK); /* the fallback team, edi */
    /* a review date is measured against the review ladder */
    ASSERT_STANDING(st, "T4", TKL_STANDING_ON_TRACK); /* 29 days, past 3 */
    ASSERT_STANDING(st, "T5", TKL_STANDING_DUE_SOON); /* 3 days */
    ASSERT_STANDING(st, "T6", TKL_STANDING_OVERDUE);  /* a review not held by its date */
    ASSERT_STANDING(st, "T7", TKL_STANDING_ON_TRACK);
    ASSERT_STANDING(st, "T8", TKL_STANDING_DUE_SOON);
    tkl_store_free(st);
}
END_TEST

START_TEST(without_a_team_the_policy_decides)
{
    free(dir.fallback);
    dir.fallback = NULL;
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe\n"
                                "N1,Nobody,Nobody we know,29/06/2023\n"
                                "N2,Nobody,,30/06/2023\n");
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_eq(tkl_store_find(st, "N1")->n_teams, 0);
    ck_assert_ptr_eq(tkl_standing_rules(&sc, &dir, tkl_store_find(st, "N1")), &sc.policy.rules);
    ASSERT_STANDING(st, "N1", TKL_STANDING_DUE_SOON);
    ASSERT_STANDING(st, "N2", TKL_STANDING_ON_TRACK);
    tkl_store_free(st);
}
END_TEST

START_TEST(the_status_decides_before_the_date)
{
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe,Status\n"
                                "S1,Done late,HR,April 2023,Complete\n"
                                "S2,Done early,HR,2030,Completed - signed off\n"
                                "S3,Dropped,HR,April 2023,Cancelled\n"
                                "S4,Replaced,HR,Ongoing,Superseded by S5\n"
                                "S5,Withdrawn,HR,TBC,Withdrawn\n"
                                "S6,Late,HR,April 2023,Red\n"
                                "S7,Unknown wording,HR,April 2023,Parked somewhere\n");
    ck_assert_ptr_nonnull(st);
    ASSERT_STANDING(st, "S1", TKL_STANDING_COMPLETE);
    ASSERT_STANDING(st, "S2", TKL_STANDING_COMPLETE);
    ASSERT_STANDING(st, "S3", TKL_STANDING_CLOSED);
    ASSERT_STANDING(st, "S4", TKL_STANDING_CLOSED);
    ASSERT_STANDING(st, "S5", TKL_STANDING_CLOSED);
    ASSERT_STANDING(st, "S6", TKL_STANDING_OVERDUE);
    ASSERT_STANDING(st, "S7", TKL_STANDING_OVERDUE); /* unknown wording is active */
    tkl_store_free(st);
}
END_TEST

START_TEST(no_date_is_undated)
{
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe,Status\n"
                                "U1,Culture,HR,Ongoing,\n"
                                "U2,Projects,HR,Ongoing Project,Ongoing\n"
                                "U3,Someday,HR,TBC,\n"
                                "U4,Blank,HR,,\n"
                                "U5,Unreadable,HR,When the budget allows,\n");
    ck_assert_ptr_nonnull(st);
    ASSERT_STANDING(st, "U1", TKL_STANDING_UNDATED);
    ASSERT_STANDING(st, "U2", TKL_STANDING_UNDATED);
    ASSERT_STANDING(st, "U3", TKL_STANDING_UNDATED);
    ASSERT_STANDING(st, "U4", TKL_STANDING_UNDATED);
    ASSERT_STANDING(st, "U5", TKL_STANDING_UNDATED);
    tkl_store_free(st);
}
END_TEST

START_TEST(an_observance_has_no_standing)
{
    struct tkl_action a = {.id = "pride",
                           .title = "Pride Month",
                           .rare = &(struct tkl_action_rare){.category = "sexual-orientation"},
                           .deadline = {.kind = TKL_DEADLINE_EVENT,
                                        .day = tkl_day_from_civil(2023, 6, 1),
                                        .last_day = tkl_day_from_civil(2023, 6, 30)}};
    ck_assert(!tkl_action_in_plan(&a));
    ck_assert_int_eq(tkl_standing_of(&a, &sc.policy.rules, NULL, TODAY), TKL_STANDING_COUNT);
    ck_assert_str_eq(tkl_standing_name(TKL_STANDING_COUNT), "none");
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe\nP1,Plan,HR,2030\n");
    ck_assert(tkl_action_in_plan(tkl_store_find(st, "P1")));
    tkl_store_free(st);
}
END_TEST

/* A completion of action id of st, recorded as the plan stood (so that it
 * holds), pushed to l. */
static void completed(struct tkl_updates *l, const struct tkl_store *st, const char *id)
{
    const struct tkl_action *a = tkl_store_find(st, id);
    ck_assert_ptr_nonnull(a);
    struct tkl_update u = {.id = (int64_t)l->n + 1,
                           .action_id = (char *)id,
                           .recipient = (char *)"edi@example.org",
                           .team_id = (char *)"edi",
                           .kind = TKL_UPDATE_COMPLETE,
                           .at = tkl_local_instant(TODAY - 1, 600),
                           .link_issued_at = tkl_local_instant(TODAY - 2, 600),
                           .until_day = TKL_NO_DAY,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    ck_assert_int_eq(tkl_updates_push(l, &u), 0);
}

/* An officer's completion that holds makes an open action complete, with
 * the plan's own standing beside it; a closed one stays closed, and
 * without answers the plan's standing is given. */
START_TEST(a_completion_that_holds_is_complete_beside_the_plan_s_standing)
{
    struct tkl_store *st = load("Ref,Actions,Responsibility,Timeframe,Status\n"
                                "O1,Late,EDI Officer Group,31/05/2023,\n"
                                "U1,Ongoing,EDI Officer Group,Ongoing,\n"
                                "X1,Dropped,EDI Officer Group,31/05/2023,Withdrawn\n"
                                "N1,Untouched,EDI Officer Group,31/05/2023,\n");
    struct tkl_updates l = {0};
    completed(&l, st, "O1");
    completed(&l, st, "U1");
    completed(&l, st, "X1");
    struct tkl_answers ans;
    ck_assert_int_eq(tkl_answers_build(&ans, &l, st, NULL, NULL), 0);
    static const struct {
        const char *id;
        enum tkl_standing want, plan;
    } cases[] = {
        {"O1", TKL_STANDING_COMPLETE, TKL_STANDING_OVERDUE},
        {"U1", TKL_STANDING_COMPLETE, TKL_STANDING_UNDATED},
        {"X1", TKL_STANDING_CLOSED, TKL_STANDING_CLOSED},
        {"N1", TKL_STANDING_OVERDUE, TKL_STANDING_OVERDUE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tkl_action *a = tkl_store_find(st, cases[i].id);
        enum tkl_standing plan = TKL_STANDING_COUNT;
        ck_assert_str_eq(
            tkl_standing_name(tkl_action_standing_answered(&sc, &dir, &ans, a, TODAY, &plan)),
            tkl_standing_name(cases[i].want));
        ck_assert_str_eq(tkl_standing_name(plan), tkl_standing_name(cases[i].plan));
        ck_assert_str_eq(
            tkl_standing_name(tkl_action_standing_answered(&sc, &dir, NULL, a, TODAY, NULL)),
            tkl_standing_name(cases[i].plan));
    }
    tkl_answers_free(&ans);
    tkl_updates_free(&l);
    tkl_store_free(st);
}
END_TEST

START_TEST(names_both_ways)
{
    static const char *const want[] = {"overdue",  "due-soon", "on-track",
                                       "complete", "closed",   "undated"};
    ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), TKL_STANDING_COUNT);
    for (unsigned i = 0; i < TKL_STANDING_COUNT; i++) {
        enum tkl_standing s = TKL_STANDING_COUNT;
        ck_assert_str_eq(tkl_standing_name((enum tkl_standing)i), want[i]);
        ck_assert_int_eq(tkl_standing_parse(want[i], &s), 0);
        ck_assert_int_eq(s, (int)i);
    }
    enum tkl_standing s = TKL_STANDING_CLOSED;
    ck_assert_int_eq(tkl_standing_parse("Overdue", &s), -EINVAL);
    ck_assert_int_eq(tkl_standing_parse("due soon", &s), -EINVAL);
    ck_assert_int_eq(tkl_standing_parse("", &s), -EINVAL);
    ck_assert_int_eq(tkl_standing_parse("none", &s), -EINVAL);
    ck_assert_int_eq(tkl_standing_parse(NULL, &s), -EINVAL);
    ck_assert_int_eq(s, TKL_STANDING_CLOSED); /* untouched on failure */
}
END_TEST

int main(void)
{
    Suite *su = suite_create("standing");
    TCase *tc = tcase_create("standing");
    tcase_add_checked_fixture(tc, rules_setup, rules_teardown);
    tcase_add_test(tc, dates_against_the_policy_ladder);
    tcase_add_test(tc, due_soon_from_the_working_day_of_the_first_reminder);
    tcase_add_test(tc, the_first_team_s_rules_decide);
    tcase_add_test(tc, without_a_team_the_policy_decides);
    tcase_add_test(tc, the_status_decides_before_the_date);
    tcase_add_test(tc, no_date_is_undated);
    tcase_add_test(tc, an_observance_has_no_standing);
    tcase_add_test(tc, names_both_ways);
    tcase_add_test(tc, a_completion_that_holds_is_complete_beside_the_plan_s_standing);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}
