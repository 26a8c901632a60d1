/* Tests for daemon/store/heading.c: which column holds which field. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

static int field(const char *heading)
{
    return tkl_field_for_heading(&opts, heading);
}

START_TEST(headings_councils_use)
{
    ck_assert_int_eq(field("Actions"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Action Title"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Agreed actions"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Ref"), TKL_FIELD_ID);
    ck_assert_int_eq(field("Action ID"), TKL_FIELD_ID);
    ck_assert_int_eq(field("Commitments"), TKL_FIELD_COMMITMENT);
    ck_assert_int_eq(field("Theme"), TKL_FIELD_OBJECTIVE);
    ck_assert_int_eq(field("Responsibility"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Responsible Service"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Lead officer"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Timeframe"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("Timescales"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("By when"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("RAG Status"), TKL_FIELD_STATUS);
    ck_assert_int_eq(field("Latest update"), TKL_FIELD_PROGRESS);
}
END_TEST

START_TEST(case_punctuation_and_spacing_do_not_matter)
{
    ck_assert_int_eq(field("RESPONSIBLE SERVICE"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("  action-title "), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Responsible\nservice"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Due date:"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("Target  Date (dd/mm/yyyy)"), -1); /* more words: not the heading */
}
END_TEST

START_TEST(only_progress_may_run_on)
{
    ck_assert_int_eq(field("Progress - 2022"), TKL_FIELD_PROGRESS);
    ck_assert_int_eq(field("Progress update Q3"), TKL_FIELD_PROGRESS);
    ck_assert_int_eq(field("Progressive"), -1);
    ck_assert_int_eq(field("Status 2022"), -1);
}
END_TEST

START_TEST(headings_tickler_does_not_use)
{
    ck_assert_int_eq(field("Notes"), -1);
    ck_assert_int_eq(field("Budget"), -1);
    ck_assert_int_eq(field(""), -1);
    char long_heading[600];
    memset(long_heading, 'a', sizeof(long_heading) - 1);
    long_heading[sizeof(long_heading) - 1] = '\0';
    ck_assert_int_eq(field(long_heading), -1);
}
END_TEST

START_TEST(a_configured_heading_replaces_the_built_in_ones)
{
    opts.columns[TKL_FIELD_TITLE] = strdup("What we will do");
    ck_assert_int_eq(field("What we will do"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("WHAT WE WILL DO?"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Actions"), -1);
    ck_assert_int_eq(field("Responsibility"), TKL_FIELD_OWNERS); /* other fields as before */
    ck_assert_int_eq(tkl_field_for_heading(NULL, "Actions"), TKL_FIELD_TITLE);
}
END_TEST

START_TEST(field_names_as_the_configuration_spells_them)
{
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_OWNERS), "owners");
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_DEADLINE), "deadline");
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_COUNT), "?");
}
END_TEST

START_TEST(heading_keys)
{
    char key[16];
    ck_assert(tkl_heading_key("  Due -- DATE: ", key, sizeof(key)));
    ck_assert_str_eq(key, "due date");
    ck_assert(tkl_heading_key("Caf\xc3\xa9 2", key, sizeof(key)));
    ck_assert_str_eq(key, "caf\xc3\xa9 2");
    ck_assert(!tkl_heading_key("a heading that does not fit", key, sizeof(key)));
    ck_assert_uint_lt(strlen(key), sizeof(key));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heading");
    TCase *tc = tcase_create("columns");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, headings_councils_use);
    tcase_add_test(tc, case_punctuation_and_spacing_do_not_matter);
    tcase_add_test(tc, only_progress_may_run_on);
    tcase_add_test(tc, headings_tickler_does_not_use);
    tcase_add_test(tc, a_configured_heading_replaces_the_built_in_ones);
    tcase_add_test(tc, field_names_as_the_configuration_spells_them);
    tcase_add_test(tc, heading_keys);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
