/* Tests for daemon/schedule/schedule_conf.c: the schedule { ... } slice
 * read into the reminder policy, each team's rule overrides, and their
 * mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <string.h>

#include "core/day.h"
#include "schedule/schedule_conf.h"

START_TEST(no_schedule_keeps_the_defaults)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_schedule_conf sc;
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc), 0);
    ck_assert_int_eq(sc.policy.send_minute, 9 * 60);
    ck_assert_uint_eq(sc.policy.rules.ladder.n, 5);
    ck_assert_int_eq(sc.policy.rules.overdue_every_days, 7);
    ck_assert_int_eq(sc.policy.rules.overdue_weekly_for, 4);
    ck_assert_int_eq(sc.policy.catch_up_until, 17 * 60);
    ck_assert_ptr_null(sc.escalate_to);
    ck_assert_ptr_eq(tkl_schedule_team_rules(&sc, 3), &sc.policy.rules);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
}
END_TEST

START_TEST(a_schedule_is_read)
{
    struct conf_fixture f;
    conf_parse(&f, "schedule = {\n"
                   "  send_time = \"08:30\";\n"
                   "  ladder = [ 7, 28, 0, 7 ];\n"
                   "  overdue_every_days = 3;\n"
                   "  overdue_weekly_for = 0;\n"
                   "  escalate_after_weeks = 2;\n"
                   "  escalate_to = \"ceo\";\n"
                   "  checkin_months = [ 1, 7 ];\n"
                   "  catch_up_days = 5;\n"
                   "  holidays = { region = \"scotland\"; add = [ \"2024-12-27\" ];\n"
                   "               remove = [ \"2024-08-05\", \"2024-01-02\" ]; };\n"
                   "  prompt_days = [ 3 ];\n"
                   "  prompt_days_long = [ 30, 10 ];\n"
                   "  lookahead_months = 1;\n"
                   "  catch_up_until = \"18:30\";\n"
                   "};\n");
    struct tkl_schedule_conf sc;
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    const struct tkl_policy *p = &sc.policy;
    ck_assert_int_eq(p->send_minute, 8 * 60 + 30);
    /* sorted, repeats dropped; the review ladder follows it */
    ck_assert_uint_eq(p->rules.ladder.n, 3);
    ck_assert_int_eq(p->rules.ladder.lead[0], 28);
    ck_assert_int_eq(p->rules.ladder.lead[2], 0);
    ck_assert_uint_eq(p->rules.review.n, 3);
    ck_assert_int_eq(p->rules.overdue_every_days, 3);
    ck_assert_int_eq(p->rules.overdue_weekly_for, 0);
    ck_assert_int_eq(p->rules.escalate_after_weeks, 2);
    ck_assert_str_eq(sc.escalate_to, "ceo");
    ck_assert_uint_eq(p->checkin_months, 1u | 1u << 6);
    ck_assert_int_eq(p->catch_up_days, 5);
    ck_assert_int_eq(p->holidays.region, TKL_REGION_SCOTLAND);
    ck_assert_uint_eq(p->holidays.n_add, 1);
    ck_assert_int_eq(p->holidays.add[0], tkl_day_from_civil(2024, 12, 27));
    ck_assert_uint_eq(p->holidays.n_remove, 2);
    ck_assert_int_eq(p->holidays.remove[1], tkl_day_from_civil(2024, 1, 2));
    ck_assert_uint_eq(p->prompts.one_day.n, 1);
    ck_assert_int_eq(p->prompts.longer.lead[0], 30);
    ck_assert_int_eq(p->lookahead_months, 1);
    ck_assert_int_eq(p->catch_up_until, 18 * 60 + 30);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f,
               "schedule = {\n"
               "  send_time = \"9am\";\n"
               "  ladder = [ 7,\n"
               "             -1 ];\n"
               "  review_ladder = [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 ];\n"
               "  checkin_months = [ 1, 13 ];\n"
               "  holidays = {\n"
               "    region = \"wales\";\n"
               "    add = [ \"2023-02-30\" ];\n"
               "    moved = [];\n"
               "  };\n"
               "  prompt_days = 3;\n"
               "  lookahead_months = 13;\n"
               "  overdue_weekly_for = -1;\n"
               "  send_at = \"09:00\";\n"
               "};\n");
    struct tkl_schedule_conf sc;
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "send_time must be HH:MM in 24-hour local time (got \"9am\")"));
    ck_assert(conf_error_at(&f, 4, "lead times are whole numbers of days from 0 to 366"));
    ck_assert(conf_error_at(&f, 5, "a ladder holds 1 to 16 lead times (got 17)"));
    ck_assert(conf_error_at(&f, 6, "checkin_months must list month numbers 1 to 12"));
    ck_assert(conf_error_at(&f, 8, "region must be \"england-and-wales\""));
    ck_assert(conf_error_at(&f, 9, "\"2023-02-30\" is not a date in the form YYYY-MM-DD"));
    ck_assert(conf_error_at(&f, 10, "unknown key \"moved\" in schedule.holidays"));
    ck_assert(conf_error_at(&f, 12, "a ladder is a list of days before the deadline"));
    ck_assert(conf_error_at(&f, 13, "lookahead_months must be between 0 and 12 (got 13)"));
    ck_assert(conf_error_at(&f, 14, "overdue_weekly_for must be between 0 and 520 (got -1)"));
    ck_assert(conf_error_at(&f, 15, "unknown key \"send_at\" in schedule"));
    ck_assert_uint_eq(f.diags.n_errors, 11);
    /* what was refused keeps its default */
    ck_assert_int_eq(sc.policy.send_minute, 9 * 60);
    ck_assert_uint_eq(sc.policy.rules.ladder.n, 5);
    ck_assert_ptr_null(sc.policy.holidays.add);
    ck_assert_int_eq(sc.policy.rules.overdue_weekly_for, 4);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
}
END_TEST

/* catch_up_until: a time after send_time, "24:00" or "any time". */
START_TEST(catch_up_until_is_read)
{
    static const struct {
        const char *text;
        int minute; /* -2: refused */
    } cases[] = {
        {"\"24:00\"", 24 * 60}, {"\"any time\"", -1}, {"\"09:30\"", 9 * 60 + 30}, {"\"09:00\"", -2},
        {"\"08:00\"", -2},      {"\"anytime\"", -2},  {"\"25:00\"", -2},          {"17", -2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text),
                 "schedule = {\n  send_time = \"09:00\";\n"
                 "  catch_up_until = %s;\n};\n",
                 cases[i].text);
        struct conf_fixture f;
        conf_parse(&f, text);
        struct tkl_schedule_conf sc;
        tkl_schedule_conf_init(&sc);
        int r = tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc);
        if (cases[i].minute == -2) {
            ck_assert_int_eq(r, -EINVAL);
            ck_assert_msg(cases[i].text[0] != '"' ||
                              conf_error_at(&f, 3,
                                            "catch_up_until must be HH:MM after send_time "
                                            "(09:00), \"24:00\" or \"any time\""),
                          "%s", cases[i].text);
            ck_assert_int_eq(sc.policy.catch_up_until, 17 * 60); /* kept */
        } else {
            ck_assert_int_eq(r, 0);
            ck_assert_int_eq(sc.policy.catch_up_until, cases[i].minute);
        }
        tkl_schedule_conf_free(&sc);
        conf_done(&f);
    }
}
END_TEST

START_TEST(teams_override_the_policy_rules)
{
    struct conf_fixture f;
    conf_parse(&f, "schedule = { ladder = [ 14, 0 ]; overdue_every_days = 7; };\n"
                   "teams = (\n"
                   "  { id = \"hr\"; overdue_every_days = 14; overdue_weekly_for = 0; },\n"
                   "  { id = \"Bad Id\"; ladder = [ 1 ]; },\n"
                   "  \"not a team\",\n"
                   "  { id = \"ict\"; ladder = [ 28, 7 ]; review_ladder = [ 3 ]; },\n"
                   "  { id = \"hr\"; overdue_every_days = 1; },\n"
                   "  { id = \"housing\"; escalate_after_weeks = 600;\n"
                   "    overdue_weekly_for = 521; }\n"
                   ");\n");
    struct tkl_team t[] = {{.id = "hr"}, {.id = "ict"}, {.id = "housing"}};
    struct tkl_team_dir dir = {.teams = t, .n = 3};
    struct tkl_schedule_conf sc;
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc), 0);
    ck_assert_int_eq(tkl_schedule_conf_teams(&f.x, conf_at(&f, "teams"), &dir, &sc), -EINVAL);
    ck_assert_uint_eq(sc.n_team_rules, 3);
    const struct tkl_rules *hr = tkl_schedule_team_rules(&sc, 0),
                           *ict = tkl_schedule_team_rules(&sc, 1),
                           *housing = tkl_schedule_team_rules(&sc, 2);
    /* hr: its own nags (the first entry with its id), the schedule's ladder */
    ck_assert_int_eq(hr->overdue_every_days, 14);
    ck_assert_int_eq(hr->overdue_weekly_for, 0);
    ck_assert_uint_eq(hr->ladder.n, 2);
    ck_assert_int_eq(hr->ladder.lead[0], 14);
    /* ict: its own ladders, the schedule's nags */
    ck_assert_int_eq(ict->ladder.lead[0], 28);
    ck_assert_uint_eq(ict->review.n, 1);
    ck_assert_int_eq(ict->review.lead[0], 3);
    ck_assert_int_eq(ict->overdue_every_days, 7);
    ck_assert_int_eq(ict->overdue_weekly_for, 4);
    /* housing: a refused value leaves the schedule's */
    ck_assert(conf_error_at(&f, 8, "escalate_after_weeks must be between 0 and 520 (got 600)"));
    ck_assert(conf_error_at(&f, 9, "overdue_weekly_for must be between 0 and 520 (got 521)"));
    ck_assert_uint_eq(f.diags.n_errors, 2);
    ck_assert_int_eq(housing->escalate_after_weeks, sc.policy.rules.escalate_after_weeks);
    ck_assert_int_eq(housing->overdue_weekly_for, 4);
    ck_assert_uint_eq(housing->review.n, 2);
    ck_assert_ptr_eq(tkl_schedule_team_rules(&sc, 3), &sc.policy.rules);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
}
END_TEST

/* A source's prompt_days and prompt_days_long are its own, over the
 * schedule's (read first), checked as the schedule's are. */
START_TEST(a_source_s_own_prompts_are_read)
{
    struct conf_fixture f;
    conf_parse(&f, "schedule = { prompt_days = [ 10 ]; prompt_days_long = [ 30 ]; };\n"
                   "sources = (\n"
                   "  { name = \"awards\"; plugin = \"calendar\"; team = \"comms\";\n"
                   "    prompt_days = [ 14, 42, 14 ]; },\n"
                   "  { name = \"diversity\"; plugin = \"calendar\"; team = \"comms\"; },\n"
                   "  { name = \"weeks\"; plugin = \"calendar\"; team = \"comms\";\n"
                   "    prompt_days_long = [ 56 ]; }\n"
                   ");\n");
    struct tkl_schedule_conf sc;
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_read(&f.x, conf_at(&f, "schedule"), &sc), 0);
    ck_assert_int_eq(tkl_schedule_conf_sources(&f.x, conf_at(&f, "sources"), &sc), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_uint_eq(sc.n_source_prompts, 2); /* those that give their own */
    const struct tkl_prompts *a = tkl_schedule_prompts(&sc, "awards");
    ck_assert_uint_eq(a->one_day.n, 2); /* sorted, the repeat dropped */
    ck_assert_int_eq(a->one_day.lead[0], 42);
    ck_assert_int_eq(a->one_day.lead[1], 14);
    ck_assert_uint_eq(a->longer.n, 1); /* the schedule's */
    ck_assert_int_eq(a->longer.lead[0], 30);
    const struct tkl_prompts *w = tkl_schedule_prompts(&sc, "weeks");
    ck_assert_int_eq(w->one_day.lead[0], 10);
    ck_assert_int_eq(w->longer.lead[0], 56);
    ck_assert_ptr_eq(tkl_schedule_prompts(&sc, "diversity"), &sc.policy.prompts);
    ck_assert_ptr_eq(tkl_schedule_prompts(&sc, NULL), &sc.policy.prompts);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
    /* mistakes, at their lines */
    conf_parse(&f, "sources = (\n"
                   "  { name = \"awards\"; plugin = \"calendar\"; team = \"comms\";\n"
                   "    prompt_days = [ 42,\n"
                   "                    400 ];\n"
                   "    prompt_days_long = [ ]; }\n"
                   ");\n");
    tkl_schedule_conf_init(&sc);
    ck_assert_int_eq(tkl_schedule_conf_sources(&f.x, conf_at(&f, "sources"), &sc), -EINVAL);
    ck_assert(conf_error_at(&f, 4, "lead times are whole numbers of days from 0 to 366"));
    ck_assert(conf_error_at(&f, 5, "a ladder holds 1 to 16 lead times (got 0)"));
    ck_assert_uint_eq(f.diags.n_errors, 2);
    /* what was refused keeps the schedule's */
    ck_assert_int_eq(tkl_schedule_prompts(&sc, "awards")->one_day.lead[0], 14);
    tkl_schedule_conf_free(&sc);
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, no_schedule_keeps_the_defaults);
    tcase_add_test(tc, a_schedule_is_read);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    tcase_add_test(tc, catch_up_until_is_read);
    tcase_add_test(tc, teams_override_the_policy_rules);
    tcase_add_test(tc, a_source_s_own_prompts_are_read);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
