/* Tests for daemon/store/status.c: status words to status. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

/* The status of text; known says whether tickler knew the words. */
static enum tkl_status status(const char *text, bool known)
{
    bool k = !known;
    enum tkl_status st = tkl_status_parse(&opts, text, &k);
    ck_assert_msg(k == known, "\"%s\": known is %d", text ? text : "(null)", k);
    return st;
}

START_TEST(status_wording_from_the_plans)
{
    /* said of work on schedule too (the 2022 report's "remain on target
     * to achieve 18 by summer 2023"): still reminded */
    ck_assert_int_eq(status("Complete/on schedule to deliver", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("Complete or on track", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("Complete", true), TKL_STATUS_COMPLETE);
    ck_assert_int_eq(status("Completed 3 March", true), TKL_STATUS_COMPLETE);
    ck_assert_int_eq(status("Delivered", true), TKL_STATUS_COMPLETE);
    ck_assert_int_eq(status("Incomplete/cannot be carried forward", true), TKL_STATUS_CLOSED);
    ck_assert_int_eq(status("Ongoing/remain included in action plan", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("NEW", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("Cancelled - merged with EAP-4", true), TKL_STATUS_CLOSED);
    ck_assert_int_eq(status("Superseded", true), TKL_STATUS_CLOSED);
    ck_assert_int_eq(status("No longer required", true), TKL_STATUS_CLOSED);
    ck_assert_int_eq(status("Done", true), TKL_STATUS_COMPLETE);
    ck_assert_int_eq(status("Achieved (March)", true), TKL_STATUS_COMPLETE);
    ck_assert_int_eq(status("In progress", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("Amber", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("A watching brief", true), TKL_STATUS_ACTIVE);
}
END_TEST

START_TEST(empty_is_active)
{
    ck_assert_int_eq(status("", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("  ", true), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status(NULL, true), TKL_STATUS_ACTIVE);
}
END_TEST

START_TEST(unknown_words_are_active_and_said_so)
{
    ck_assert_int_eq(status("Parked by cabinet", false), TKL_STATUS_ACTIVE);
    /* a known word must end where the text's word ends */
    ck_assert_int_eq(status("Newcastle pilot", false), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(status("Donegal", false), TKL_STATUS_ACTIVE);
}
END_TEST

START_TEST(configured_rules_come_first)
{
    opts.status_rules = calloc(2, sizeof(*opts.status_rules));
    opts.status_rules[0] =
        (struct tkl_status_rule){strdup("parked by  CABINET"), TKL_STATUS_CLOSED};
    opts.status_rules[1] = (struct tkl_status_rule){strdup("Done"), TKL_STATUS_ACTIVE};
    opts.n_status_rules = 2;
    ck_assert_int_eq(status("Parked by cabinet.", true), TKL_STATUS_CLOSED);
    ck_assert_int_eq(status("done", true), TKL_STATUS_ACTIVE);
    /* a rule matches the whole text, not its beginning */
    ck_assert_int_eq(status("Done and dusted", true), TKL_STATUS_COMPLETE);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(tkl_status_name(TKL_STATUS_ACTIVE), "active");
    ck_assert_str_eq(tkl_status_name(TKL_STATUS_COMPLETE), "complete");
    ck_assert_str_eq(tkl_status_name(TKL_STATUS_CLOSED), "closed");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("words");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, status_wording_from_the_plans);
    tcase_add_test(tc, empty_is_active);
    tcase_add_test(tc, unknown_words_are_active_and_said_so);
    tcase_add_test(tc, configured_rules_come_first);
    tcase_add_test(tc, status_names);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
