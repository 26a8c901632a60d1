/* Tests for daemon/schedule/reminder.c: ladders, shifts, nags, check-ins,
 * and send instants across the Europe/London clock changes. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "schedule/reminder.h"

#define DAY(y, m, d) tkl_day_from_civil(y, m, d)

static struct tkl_policy p;

static void setup(void)
{
    tkl_policy_default(&p);
    ck_assert_int_eq(tkl_tz_set("Europe/London"), 0);
}

/* Every reminder of a dated action from `from` onwards, up to max. */
static size_t all(int32_t deadline, int32_t from, struct tkl_reminder *out, size_t max)
{
    size_t n = 0;
    while (n < max &&
           tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, deadline, from, &out[n]) == 0) {
        from = out[n].day + 1;
        n++;
    }
    return n;
}

START_TEST(every_ladder_stage)
{
    /* Friday 30 June 2023: 28 -> Fri 2 Jun, 14 -> Fri 16 Jun, 7 -> Fri 23 Jun,
     * 1 -> Thu 29 Jun, 0 -> Fri 30 Jun, then weekly nags */
    struct tkl_reminder r[7];
    ck_assert_uint_eq(all(DAY(2023, 6, 30), DAY(2023, 1, 1), r, 7), 7);
    ck_assert_int_eq(r[0].day, DAY(2023, 6, 2));
    ck_assert_str_eq(r[0].key, "lead-28");
    ck_assert_int_eq(r[1].day, DAY(2023, 6, 16));
    ck_assert_int_eq(r[2].day, DAY(2023, 6, 23));
    ck_assert_int_eq(r[3].day, DAY(2023, 6, 29));
    ck_assert_str_eq(r[3].key, "lead-1");
    ck_assert_int_eq(r[4].day, DAY(2023, 6, 30));
    ck_assert_int_eq(r[4].stage, TKL_STAGE_DUE);
    ck_assert_str_eq(r[4].key, "due");
    ck_assert_int_eq(r[5].day, DAY(2023, 7, 7));
    ck_assert_int_eq(r[5].stage, TKL_STAGE_OVERDUE);
    ck_assert_str_eq(r[5].key, "overdue-1");
    ck_assert(!r[5].escalate);
    ck_assert_int_eq(r[6].day, DAY(2023, 7, 14));
}
END_TEST

START_TEST(weekend_moves_to_previous_working_day_once)
{
    /* Sunday 30 April 2023: due -> Fri 28 Apr; 1 day before is Saturday ->
     * also Fri 28 Apr, so only one reminder that day, the "due" one */
    struct tkl_reminder r[6];
    size_t n = all(DAY(2023, 4, 30), DAY(2023, 4, 20), r, 6);
    ck_assert_uint_ge(n, 3);
    ck_assert_int_eq(r[0].day, DAY(2023, 4, 21)); /* 7 days before: Sun 23 -> Fri 21 */
    ck_assert_int_eq(r[1].day, DAY(2023, 4, 28));
    ck_assert_str_eq(r[1].key, "due");
    ck_assert_int_gt(r[2].day, DAY(2023, 4, 28));
    for (size_t i = 1; i < n; i++)
        ck_assert_int_gt(r[i].day, r[i - 1].day);
}
END_TEST

START_TEST(deadline_on_easter_monday)
{
    /* Easter Monday 1 April 2024: due moves back over Easter Monday, the
     * weekend and Good Friday to Thursday 28 March */
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2024, 4, 1), DAY(2024, 3, 28), &r), 0);
    ck_assert_int_eq(r.day, DAY(2024, 3, 28));
    ck_assert_str_eq(r.key, "due");
}
END_TEST

START_TEST(boxing_day_on_sunday)
{
    /* 26 December 2027 is a Sunday; 27 and 28 are substitute days. A nag
     * due on Tuesday 28 December moves to Friday 24 December. */
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2027, 12, 26), DAY(2027, 12, 20), &r),
        0);
    ck_assert_int_eq(r.day, DAY(2027, 12, 24));
    ck_assert_str_eq(r.key, "due");
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2027, 12, 21), DAY(2027, 12, 22), &r),
        0);
    ck_assert_int_eq(r.day, DAY(2027, 12, 24)); /* nag 1 due Tue 28 */
    ck_assert_str_eq(r.key, "overdue-1");
}
END_TEST

START_TEST(deadline_already_past)
{
    /* loaded on 1 March 2023 with a deadline of 31 Dec 2022: the weekly
     * nags ended in January, so the next reminder is the monthly one on
     * 31 March, escalated (past 4 weeks) */
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2022, 12, 31), DAY(2023, 3, 1), &r), 0);
    ck_assert_int_eq(r.stage, TKL_STAGE_OVERDUE);
    ck_assert_int_eq(r.day, DAY(2023, 3, 31));
    ck_assert_str_eq(r.key, "overdue-m3");
    ck_assert(r.escalate);
    /* on 28 February, the month's nag (31 Feb clamped) is still ahead */
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2022, 12, 31), DAY(2023, 2, 28), &r), 0);
    ck_assert_int_eq(r.day, DAY(2023, 2, 28));
    ck_assert_str_eq(r.key, "overdue-m2");
    p.rules.overdue_every_days = 0;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2022, 12, 31), DAY(2023, 3, 1), &r),
        -ENOENT);
}
END_TEST

/* Every nag of a deadline under rules from `from` onwards, up to max. */
static size_t nags(const struct tkl_rules *rules, int32_t deadline, int32_t from,
                   struct tkl_reminder *out, size_t max)
{
    size_t n = 0;
    while (n < max &&
           tkl_next_reminder(&p, rules, TKL_DEADLINE_DATE, deadline, from, &out[n]) == 0) {
        from = out[n].day + 1;
        if (out[n].stage == TKL_STAGE_OVERDUE)
            n++;
    }
    return n;
}

START_TEST(weekly_for_four_weeks_then_monthly)
{
    /* deadline Tuesday 31 January 2023: nags weekly on 7, 14, 21 and 28
     * February; then on the 31st, clamped to the month: the first at least
     * a week after the four weeks end (7 March) is 31 March */
    static const struct {
        int y, m, d;
        const char *key;
    } want[] = {
        {2023, 2, 7, "overdue-1"},     {2023, 2, 14, "overdue-2"},    {2023, 2, 21, "overdue-3"},
        {2023, 2, 28, "overdue-4"},    {2023, 3, 31, "overdue-m2"},   {2023, 4, 28, "overdue-m3"},
        {2023, 5, 31, "overdue-m4"},   {2023, 6, 30, "overdue-m5"},   {2023, 7, 31, "overdue-m6"},
        {2023, 8, 31, "overdue-m7"},   {2023, 9, 29, "overdue-m8"},   {2023, 10, 31, "overdue-m9"},
        {2023, 11, 30, "overdue-m10"}, {2023, 12, 29, "overdue-m11"}, {2024, 1, 31, "overdue-m12"},
        {2024, 2, 29, "overdue-m13"},  {2024, 3, 28, "overdue-m14"},
    };
    /* Sun 30 Apr -> Fri 28; Sat 30 Sep -> Fri 29; Sun 31 Dec -> Fri 29;
     * 29 February 2024 (a leap year); Sun 31 March 2024 -> Thu 28, past
     * Easter Saturday and Good Friday */
    size_t n_want = sizeof(want) / sizeof(want[0]);
    struct tkl_reminder r[20];
    ck_assert_uint_eq(nags(NULL, DAY(2023, 1, 31), DAY(2023, 2, 1), r, n_want), n_want);
    for (size_t i = 0; i < n_want; i++) {
        ck_assert_int_eq(r[i].day, DAY(want[i].y, want[i].m, want[i].d));
        ck_assert_str_eq(r[i].key, want[i].key);
        /* escalated from 4 weeks after the deadline: the fourth weekly nag */
        ck_assert(r[i].escalate == (i >= 3));
    }
    /* the next year holds 12 nags, one a month, not 52 */
    size_t n = nags(NULL, DAY(2023, 1, 31), DAY(2024, 1, 31), r, 20);
    size_t in_year = 0;
    for (size_t i = 0; i < n; i++)
        in_year += r[i].day <= DAY(2024, 1, 31) + 364;
    ck_assert_uint_eq(in_year, 12);
    ck_assert_str_eq(r[0].key, "overdue-m12");
    ck_assert_str_eq(r[11].key, "overdue-m23");
}
END_TEST

START_TEST(monthly_from_the_start)
{
    /* overdue_weekly_for = 0: the first nag is a month after the deadline;
     * 31 January gives the last day of February, then 31 March */
    struct tkl_rules rules = p.rules;
    rules.overdue_weekly_for = 0;
    struct tkl_reminder r[3];
    ck_assert_uint_eq(nags(&rules, DAY(2023, 1, 31), DAY(2023, 1, 1), r, 3), 3);
    ck_assert_int_eq(r[0].day, DAY(2023, 2, 28));
    ck_assert_str_eq(r[0].key, "overdue-m1");
    ck_assert(r[0].escalate); /* 28 days after the deadline */
    ck_assert_int_eq(r[1].day, DAY(2023, 3, 31));
    ck_assert_str_eq(r[1].key, "overdue-m2");
    ck_assert_int_eq(r[2].day, DAY(2023, 4, 28)); /* Sun 30 April */
    ck_assert_uint_eq(nags(&rules, DAY(2024, 1, 31), DAY(2024, 1, 1), r, 1), 1);
    ck_assert_int_eq(r[0].day, DAY(2024, 2, 29));
    /* escalation after 5 weeks, deadline 15 February: 15 March is 4 weeks
     * on, not escalated; Saturday 15 April (sent Friday 14) is */
    rules.escalate_after_weeks = 5;
    ck_assert_uint_eq(nags(&rules, DAY(2023, 2, 15), DAY(2023, 1, 1), r, 2), 2);
    ck_assert_int_eq(r[0].day, DAY(2023, 3, 15));
    ck_assert(!r[0].escalate);
    ck_assert_int_eq(r[1].day, DAY(2023, 4, 14));
    ck_assert(r[1].escalate);
    /* the policy's own rules are untouched */
    ck_assert_uint_eq(nags(NULL, DAY(2023, 1, 31), DAY(2023, 1, 1), r, 1), 1);
    ck_assert_str_eq(r[0].key, "overdue-1");
}
END_TEST

START_TEST(a_team_weekly_for_longer)
{
    /* a team nagged weekly for 8 weeks: deadline Wednesday 3 May 2023;
     * weekly to 28 June, then 3 August (3 July is less than a week after
     * the eight weeks end on 28 June) */
    struct tkl_rules rules = p.rules;
    rules.overdue_weekly_for = 8;
    struct tkl_reminder r[10];
    ck_assert_uint_eq(nags(&rules, DAY(2023, 5, 3), DAY(2023, 5, 4), r, 10), 10);
    ck_assert_int_eq(r[0].day, DAY(2023, 5, 10));
    ck_assert_int_eq(r[7].day, DAY(2023, 6, 28));
    ck_assert_str_eq(r[7].key, "overdue-8");
    ck_assert_int_eq(r[8].day, DAY(2023, 8, 3));
    ck_assert_str_eq(r[8].key, "overdue-m3");
    ck_assert_int_eq(r[9].day, DAY(2023, 9, 1)); /* Sun 3 Sep -> Fri 1 */
    /* fortnightly for those 8 weeks: 4 nags, then the same months */
    rules.overdue_every_days = 14;
    ck_assert_uint_eq(nags(&rules, DAY(2023, 5, 3), DAY(2023, 5, 4), r, 5), 5);
    ck_assert_int_eq(r[3].day, DAY(2023, 6, 28));
    ck_assert_str_eq(r[3].key, "overdue-4");
    ck_assert_int_eq(r[4].day, DAY(2023, 8, 3));
    ck_assert_str_eq(r[4].key, "overdue-m3");
}
END_TEST

/* From any day, the next nag is the one the day before gave when that is
 * not yet past, and keys never repeat: a restart on any day neither skips
 * nor repeats a nag. */
static void check_consistent(const struct tkl_rules *rules, int32_t deadline)
{
    struct tkl_reminder prev, r;
    char seen[64][32];
    size_t n_seen = 0;
    ck_assert_int_eq(
        tkl_next_reminder(&p, rules, TKL_DEADLINE_DATE, deadline, deadline - 40, &prev), 0);
    for (int32_t d = deadline - 39; d < deadline + 900; d++) {
        ck_assert_int_eq(tkl_next_reminder(&p, rules, TKL_DEADLINE_DATE, deadline, d, &r), 0);
        ck_assert_int_ge(r.day, d);
        if (prev.day >= d) {
            ck_assert_int_eq(r.day, prev.day);
            ck_assert_str_eq(r.key, prev.key);
        } else {
            ck_assert_int_gt(r.day, prev.day);
            for (size_t i = 0; i < n_seen; i++)
                ck_assert_str_ne(seen[i], r.key);
            if (n_seen < 64)
                memcpy(seen[n_seen++], r.key, sizeof(r.key));
        }
        prev = r;
    }
}

START_TEST(nags_are_the_same_from_any_day)
{
    static const int every[] = {1, 3, 7, 30};
    static const int weeks[] = {0, 4, 9};
    static const int32_t deadlines[][3] = {{2023, 1, 31}, {2027, 12, 24}, {2024, 3, 28}};
    struct tkl_rules rules = p.rules;
    for (size_t a = 0; a < sizeof(every) / sizeof(every[0]); a++)
        for (size_t b = 0; b < sizeof(weeks) / sizeof(weeks[0]); b++)
            for (size_t c = 0; c < 3; c++) {
                rules.overdue_every_days = every[a];
                rules.overdue_weekly_for = weeks[b];
                check_consistent(&rules, DAY(deadlines[c][0], deadlines[c][1], deadlines[c][2]));
            }
}
END_TEST

START_TEST(team_rules_change_nags_and_escalation)
{
    /* a team nagged fortnightly, escalating after 2 weeks: deadline Fri
     * 3 Mar 2023; nags on 17 Mar (escalated already) and 31 Mar */
    struct tkl_rules rules = p.rules;
    rules.overdue_every_days = 14;
    rules.escalate_after_weeks = 2;
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, &rules, TKL_DEADLINE_DATE, DAY(2023, 3, 3), DAY(2023, 3, 4), &r), 0);
    ck_assert_int_eq(r.day, DAY(2023, 3, 17));
    ck_assert_str_eq(r.key, "overdue-1");
    ck_assert(r.escalate);
    ck_assert_int_eq(
        tkl_next_reminder(&p, &rules, TKL_DEADLINE_DATE, DAY(2023, 3, 3), r.day + 1, &r), 0);
    ck_assert_int_eq(r.day, DAY(2023, 3, 31));
    /* the policy's own rules are untouched: weekly, escalation at 4 weeks */
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2023, 3, 3), DAY(2023, 3, 4), &r), 0);
    ck_assert_int_eq(r.day, DAY(2023, 3, 10));
    ck_assert(!r.escalate);
}
END_TEST

START_TEST(checkins_for_ongoing)
{
    /* first working day of January, April, July, October */
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_ONGOING, TKL_NO_DAY, DAY(2023, 11, 1), &r), 0);
    ck_assert_int_eq(r.day, DAY(2024, 1, 2)); /* 1 Jan is a holiday */
    ck_assert_str_eq(r.key, "checkin-2024-01");
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_UNDATED, TKL_NO_DAY, DAY(2024, 1, 3), &r), 0);
    ck_assert_int_eq(r.day, DAY(2024, 4, 2)); /* 1 Apr 2024 is Easter Monday */
    p.checkin_months = 0;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_ONGOING, TKL_NO_DAY, DAY(2024, 1, 3), &r),
        -ENOENT);
}
END_TEST

START_TEST(review_uses_its_own_ladder)
{
    p.rules.review = (struct tkl_ladder){.lead = {14, 0}, .n = 2};
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_reminder(&p, NULL, TKL_DEADLINE_REVIEW, DAY(2023, 1, 31), DAY(2023, 1, 1), &r), 0);
    ck_assert_int_eq(r.day, DAY(2023, 1, 17));
    ck_assert_str_eq(r.key, "lead-14");
}
END_TEST

/* Every prompt of an observance [first, last] from `from` onwards. */
static size_t prompts(int32_t first, int32_t last, int32_t from, struct tkl_reminder *out,
                      size_t max)
{
    size_t n = 0;
    while (n < max && tkl_next_prompt(&p, NULL, first, last, from, &out[n]) == 0) {
        from = out[n].day + 1;
        n++;
    }
    return n;
}

START_TEST(prompts_for_a_month_long_observance)
{
    /* Black History Month 2027 (Fri 1 - Sun 31 October): look-ahead on
     * Wed 1 September, prompts 42 days (Fri 20 August) and 14 days (Fri 17
     * September) before, look-ahead on Fri 1 October */
    struct tkl_reminder r[8];
    ck_assert_uint_eq(prompts(DAY(2027, 10, 1), DAY(2027, 10, 31), DAY(2027, 1, 1), r, 8), 4);
    ck_assert_int_eq(r[0].day, DAY(2027, 8, 20));
    ck_assert_str_eq(r[0].key, "prompt-42");
    ck_assert_int_eq(r[0].stage, TKL_STAGE_PROMPT);
    ck_assert_int_eq(r[1].day, DAY(2027, 9, 1));
    ck_assert_str_eq(r[1].key, "lookahead-2027-09");
    ck_assert_int_eq(r[1].stage, TKL_STAGE_LOOKAHEAD);
    ck_assert_int_eq(r[2].day, DAY(2027, 9, 17));
    ck_assert_str_eq(r[2].key, "prompt-14");
    ck_assert_int_eq(r[3].day, DAY(2027, 10, 1));
    ck_assert_str_eq(r[3].key, "lookahead-2027-10");
}
END_TEST

START_TEST(a_look_ahead_lists_an_observance_still_under_way)
{
    /* South Asian Heritage Month 2027 (Sun 18 July - Tue 17 August): the
     * look-aheads of June and July (it is coming up), and of Mon 2 August
     * (it is under way); none in September, when it is over */
    struct tkl_reminder r[8];
    p.prompts.longer = (struct tkl_ladder){.n = 0};
    ck_assert_uint_eq(prompts(DAY(2027, 7, 18), DAY(2027, 8, 17), DAY(2027, 1, 1), r, 8), 3);
    ck_assert_str_eq(r[0].key, "lookahead-2027-06");
    ck_assert_str_eq(r[1].key, "lookahead-2027-07");
    ck_assert_int_eq(r[2].day, DAY(2027, 8, 2));
    ck_assert_str_eq(r[2].key, "lookahead-2027-08");
    ck_assert_int_eq(r[2].stage, TKL_STAGE_LOOKAHEAD);
    /* one that began before its month's look-ahead and ended before it: none */
    ck_assert_int_eq(
        tkl_next_prompt(&p, NULL, DAY(2027, 7, 18), DAY(2027, 8, 1), DAY(2027, 7, 19), r), -ENOENT);
    /* across a year's end: 16 Days of Activism (25 November - 10 December
     * 2027) in the look-ahead of Wed 1 December; the 16 December to 16
     * January one in that of Tue 4 January 2028 (the 3rd a bank holiday) */
    ck_assert_int_eq(
        tkl_next_prompt(&p, NULL, DAY(2027, 11, 25), DAY(2027, 12, 10), DAY(2027, 11, 2), r), 0);
    ck_assert_str_eq(r[0].key, "lookahead-2027-12");
    ck_assert_int_eq(r[0].day, DAY(2027, 12, 1));
    ck_assert_int_eq(
        tkl_next_prompt(&p, NULL, DAY(2027, 12, 16), DAY(2028, 1, 16), DAY(2027, 12, 2), r), 0);
    ck_assert_str_eq(r[0].key, "lookahead-2028-01");
    ck_assert_int_eq(r[0].day, DAY(2028, 1, 4));
}
END_TEST

START_TEST(prompts_for_a_one_day_observance)
{
    /* World Menopause Day, Mon 18 October 2027: look-aheads Wed 1 September
     * and Fri 1 October; 14 days -> Mon 4 October; 2 days -> Sat 16, so
     * Fri 15 October */
    struct tkl_reminder r[8];
    ck_assert_uint_eq(prompts(DAY(2027, 10, 18), DAY(2027, 10, 18), DAY(2027, 1, 1), r, 8), 4);
    ck_assert_int_eq(r[0].day, DAY(2027, 9, 1));
    ck_assert_int_eq(r[1].day, DAY(2027, 10, 1));
    ck_assert_int_eq(r[2].day, DAY(2027, 10, 4));
    ck_assert_str_eq(r[2].key, "prompt-14");
    ck_assert_int_eq(r[3].day, DAY(2027, 10, 15));
    ck_assert_str_eq(r[3].key, "prompt-2");
    /* a prompt and a look-ahead on one day: the prompt is kept */
    p.prompts.one_day = (struct tkl_ladder){.lead = {17}, .n = 1};
    ck_assert_uint_eq(prompts(DAY(2027, 10, 18), DAY(2027, 10, 18), DAY(2027, 9, 2), r, 8), 1);
    ck_assert_int_eq(r[0].day, DAY(2027, 10, 1));
    ck_assert_str_eq(r[0].key, "prompt-17");
    /* no look-ahead when it is switched off */
    p.lookahead_months = 0;
    ck_assert_uint_eq(prompts(DAY(2027, 10, 18), DAY(2027, 10, 18), DAY(2027, 1, 1), r, 8), 1);
}
END_TEST

START_TEST(no_prompts_once_an_observance_is_over)
{
    struct tkl_reminder r;
    ck_assert_int_eq(
        tkl_next_prompt(&p, NULL, DAY(2027, 10, 18), DAY(2027, 10, 18), DAY(2027, 10, 19), &r),
        -ENOENT);
    /* a month-long one still in its look-ahead month after it began */
    ck_assert_int_eq(
        tkl_next_prompt(&p, NULL, DAY(2028, 10, 1), DAY(2028, 10, 31), DAY(2028, 10, 2), &r), 0);
    ck_assert_str_eq(r.key, "lookahead-2028-10"); /* Sun 1 Oct: Mon 2 October */
    ck_assert_int_eq(r.day, DAY(2028, 10, 2));
}
END_TEST

START_TEST(send_time_across_clock_changes)
{
    /* 09:00 Europe/London is 09:00 UTC in winter and 08:00 UTC in summer,
     * including on the days the clocks change */
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 3, 30), 9 * 60),
                     (int64_t)DAY(2024, 3, 30) * 86400 + 9 * 3600);
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 3, 31), 9 * 60),
                     (int64_t)DAY(2024, 3, 31) * 86400 + 8 * 3600);
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 10, 27), 9 * 60),
                     (int64_t)DAY(2024, 10, 27) * 86400 + 9 * 3600);
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 10, 26), 9 * 60),
                     (int64_t)DAY(2024, 10, 26) * 86400 + 8 * 3600);
    /* 01:30 on 27 Oct 2024 happens twice: the first (BST) is used */
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 10, 27), 90),
                     (int64_t)DAY(2024, 10, 27) * 86400 + 30 * 60);
    /* 01:30 on 31 Mar 2024 does not exist: an hour later is used */
    ck_assert_int_eq(tkl_local_instant(DAY(2024, 3, 31), 90),
                     (int64_t)DAY(2024, 3, 31) * 86400 + 90 * 60);
    char buf[32];
    ck_assert_str_eq(tkl_format_instant(tkl_local_instant(DAY(2024, 7, 1), 540), buf),
                     "2024-07-01T09:00:00+01:00");
}
END_TEST

/* A start's catch-up is sent at once only on a working day from the send
 * time until catch_up_until; otherwise it waits for the next send time. */
START_TEST(catch_up_waits_for_the_sending_hours)
{
#define AT(y, mo, d, h, mi) tkl_local_instant(DAY(y, mo, d), (h)*60 + (mi))
    /* Friday 28 August 2026, then the bank holiday weekend: Monday 31st */
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 28, 8, 59)));
    ck_assert_int_eq(tkl_catch_up_at(&p, AT(2026, 8, 28, 8, 59)), AT(2026, 8, 28, 9, 0));
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 28, 9, 0)));
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 28, 16, 59)));
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 28, 17, 0)));
    /* past the hours on Friday: Tuesday 1 September, the Monday a holiday */
    ck_assert_int_eq(tkl_catch_up_at(&p, AT(2026, 8, 28, 17, 0)), AT(2026, 9, 1, 9, 0));
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 29, 11, 0))); /* Saturday */
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 31, 11, 0))); /* the bank holiday */
    ck_assert_int_eq(tkl_catch_up_at(&p, AT(2026, 8, 31, 2, 0)), AT(2026, 9, 1, 9, 0));
    ck_assert(tkl_catch_up_now(&p, AT(2026, 9, 1, 9, 0)));
    /* summer time: 09:00 is 08:00 UTC, and the hours follow local time */
    ck_assert_int_eq(AT(2026, 9, 1, 9, 0), (int64_t)DAY(2026, 9, 1) * 86400 + 8 * 3600);
    /* "24:00": until midnight; "any time": whatever the day */
    p.catch_up_until = 24 * 60;
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 28, 23, 59)));
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 29, 0, 0)));
    p.catch_up_until = -1;
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 29, 2, 0)));
    /* a send time after the default 17:00: until the day's end */
    p.catch_up_until = 17 * 60;
    p.send_minute = 18 * 60;
    ck_assert(!tkl_catch_up_now(&p, AT(2026, 8, 28, 17, 30)));
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 28, 18, 0)));
    ck_assert(tkl_catch_up_now(&p, AT(2026, 8, 28, 23, 0)));
#undef AT
}
END_TEST

/* Packed, every kind of reminder comes back whole, key included: lead,
 * due, after, weekly and monthly nags (escalated or not), check-ins,
 * prompts and look-aheads. */
START_TEST(packed_reminders_unpack_whole)
{
    struct tkl_reminder v[64];
    size_t n = 0;
    p.rules.ladder = (struct tkl_ladder){.lead = {14, 0, -3}, .n = 3};
    for (int32_t from = DAY(2023, 1, 1); n < 30; from = v[n - 1].day + 1)
        ck_assert_int_eq(
            tkl_next_reminder(&p, NULL, TKL_DEADLINE_DATE, DAY(2023, 3, 15), from, &v[n++]), 0);
    for (int32_t from = DAY(2023, 1, 1); n < 36; from = v[n - 1].day + 1)
        ck_assert_int_eq(
            tkl_next_reminder(&p, NULL, TKL_DEADLINE_ONGOING, TKL_NO_DAY, from, &v[n++]), 0);
    for (int32_t from = DAY(2023, 1, 1);
         tkl_next_prompt(&p, NULL, DAY(2023, 5, 1), DAY(2023, 5, 31), from, &v[n]) == 0;
         from = v[n++].day + 1)
        ;
    bool seen[16] = {false}, monthly = false, escalated = false;
    for (size_t i = 0; i < n; i++) {
        struct tkl_reminder_packed packed;
        struct tkl_reminder back;
        tkl_reminder_pack(&v[i], &packed);
        tkl_reminder_unpack(&packed, &back);
        ck_assert_int_eq(back.day, v[i].day);
        ck_assert_int_eq(back.stage, v[i].stage);
        ck_assert_int_eq(back.n, v[i].n);
        ck_assert(back.escalate == v[i].escalate);
        ck_assert_str_eq(back.key, v[i].key);
        seen[v[i].stage] = true;
        monthly |= v[i].monthly;
        escalated |= v[i].escalate;
    }
    ck_assert(seen[TKL_STAGE_LEAD] && seen[TKL_STAGE_DUE] && seen[TKL_STAGE_OVERDUE] &&
              seen[TKL_STAGE_CHECKIN] && seen[TKL_STAGE_PROMPT] && seen[TKL_STAGE_LOOKAHEAD]);
    ck_assert(monthly && escalated);
    ck_assert_str_eq(v[2].key, "after-3");
}
END_TEST

START_TEST(unkeyed_reminders_are_the_same_without_their_key)
{
    /* from every day around a deadline on a bank holiday Monday, with
     * rungs that meet on one working day, and for a check-in */
    p.rules.ladder = (struct tkl_ladder){.lead = {30, 28, 14, 3, 1, 0}, .n = 6};
    const enum tkl_deadline_kind kinds[] = {TKL_DEADLINE_DATE, TKL_DEADLINE_ONGOING};
    for (size_t k = 0; k < 2; k++)
        for (int32_t from = DAY(2023, 3, 1); from <= DAY(2023, 9, 30); from++) {
            int32_t deadline = kinds[k] == TKL_DEADLINE_DATE ? DAY(2023, 5, 29) : TKL_NO_DAY;
            struct tkl_reminder keyed, unkeyed;
            int r = tkl_next_reminder(&p, NULL, kinds[k], deadline, from, &keyed);
            ck_assert_int_eq(
                tkl_next_reminder_unkeyed(&p, NULL, kinds[k], deadline, from, &unkeyed), r);
            if (r != 0)
                continue;
            ck_assert_int_eq(unkeyed.day, keyed.day);
            ck_assert_int_eq(unkeyed.stage, keyed.stage);
            ck_assert_int_eq(unkeyed.n, keyed.n);
            ck_assert_int_eq(unkeyed.month, keyed.month);
            ck_assert(unkeyed.escalate == keyed.escalate && unkeyed.monthly == keyed.monthly);
            ck_assert_str_eq(unkeyed.key, "");
            ck_assert_str_ne(keyed.key, "");
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reminder");
    TCase *tc = tcase_create("policy");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, every_ladder_stage);
    tcase_add_test(tc, catch_up_waits_for_the_sending_hours);
    tcase_add_test(tc, unkeyed_reminders_are_the_same_without_their_key);
    tcase_add_test(tc, weekend_moves_to_previous_working_day_once);
    tcase_add_test(tc, deadline_on_easter_monday);
    tcase_add_test(tc, boxing_day_on_sunday);
    tcase_add_test(tc, deadline_already_past);
    tcase_add_test(tc, weekly_for_four_weeks_then_monthly);
    tcase_add_test(tc, monthly_from_the_start);
    tcase_add_test(tc, a_team_weekly_for_longer);
    tcase_add_test(tc, nags_are_the_same_from_any_day);
    tcase_add_test(tc, team_rules_change_nags_and_escalation);
    tcase_add_test(tc, checkins_for_ongoing);
    tcase_add_test(tc, review_uses_its_own_ladder);
    tcase_add_test(tc, send_time_across_clock_changes);
    tcase_add_test(tc, prompts_for_a_month_long_observance);
    tcase_add_test(tc, prompts_for_a_one_day_observance);
    tcase_add_test(tc, a_look_ahead_lists_an_observance_still_under_way);
    tcase_add_test(tc, no_prompts_once_an_observance_is_over);
    tcase_add_test(tc, packed_reminders_unpack_whole);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
