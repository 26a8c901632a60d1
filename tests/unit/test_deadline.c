/* Tests for daemon/store/deadline.c: every deadline form councils write. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "store/deadline.h"

static struct tkl_deadline parse(const char *text)
{
    struct tkl_deadline d;
    ck_assert_int_eq(tkl_deadline_parse(text, &d), 0);
    return d;
}

#define DAY(y, m, d) tkl_day_from_civil(y, m, d)

static void expect(const char *text, enum tkl_deadline_kind kind, int32_t day)
{
    struct tkl_deadline d = parse(text);
    ck_assert_msg(d.kind == kind && d.day == day && !d.problem, "\"%s\": kind %d day %d problem %s",
                  text, d.kind, d.day, d.problem ? tkl_deadline_problem(&d) : "-");
    tkl_deadline_clear(&d);
}

START_TEST(month_and_year)
{
    expect("April 2023", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("Apr 2023", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("Sept 2023", TKL_DEADLINE_DATE, DAY(2023, 9, 30));
    expect("Sept. 2023", TKL_DEADLINE_DATE, DAY(2023, 9, 30));
    expect("Apr-23", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("December 2018", TKL_DEADLINE_DATE, DAY(2018, 12, 31));
    expect("  march   2023 ", TKL_DEADLINE_DATE, DAY(2023, 3, 31));
    expect("February 2024", TKL_DEADLINE_DATE, DAY(2024, 2, 29)); /* leap */
    expect("February 2023", TKL_DEADLINE_DATE, DAY(2023, 2, 28));
    expect("Feb 2100", TKL_DEADLINE_DATE, DAY(2100, 2, 28)); /* not leap */
    expect("by end of June 2024", TKL_DEADLINE_DATE, DAY(2024, 6, 30));
}
END_TEST

START_TEST(review_and_note)
{
    expect("Review Jan 2023", TKL_DEADLINE_REVIEW, DAY(2023, 1, 31));
    expect("Review Feb 2023", TKL_DEADLINE_REVIEW, DAY(2023, 2, 28));
    struct tkl_deadline d = parse("Dec 2023 (ongoing release)");
    ck_assert_int_eq(d.kind, TKL_DEADLINE_DATE);
    ck_assert_int_eq(d.day, DAY(2023, 12, 31));
    ck_assert_str_eq(d.note, "ongoing release");
    tkl_deadline_clear(&d);
}
END_TEST

START_TEST(full_dates)
{
    expect("2023-04-30", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("30/04/2023", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("1/4/2023", TKL_DEADLINE_DATE, DAY(2023, 4, 1)); /* day first */
    expect("30.04.23", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("30 April 2023", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("30th April 2023", TKL_DEADLINE_DATE, DAY(2023, 4, 30));
    expect("1st of March 2024", TKL_DEADLINE_DATE, DAY(2024, 3, 1));
    expect("29/02/2024", TKL_DEADLINE_DATE, DAY(2024, 2, 29));
    expect("31/12/2023", TKL_DEADLINE_DATE, DAY(2023, 12, 31));
    expect("45046", TKL_DEADLINE_DATE, DAY(2023, 4, 30)); /* Excel serial */
}
END_TEST

START_TEST(financial_years_and_quarters)
{
    expect("2023/24", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
    expect("2023/2024", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
    expect("FY 2023/24", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
    expect("2099/00", TKL_DEADLINE_DATE, DAY(2100, 3, 31));
    expect("Q3 2023", TKL_DEADLINE_DATE, DAY(2023, 9, 30));
    expect("Q4 2023", TKL_DEADLINE_DATE, DAY(2023, 12, 31));
    expect("Q1 2023/24", TKL_DEADLINE_DATE, DAY(2023, 6, 30));
    expect("Q3 2023/24", TKL_DEADLINE_DATE, DAY(2023, 12, 31));
    expect("Q4 2023/24", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
}
END_TEST

START_TEST(ongoing_and_undated)
{
    expect("Ongoing", TKL_DEADLINE_ONGOING, TKL_NO_DAY);
    expect("Ongoing Project", TKL_DEADLINE_ONGOING, TKL_NO_DAY);
    expect("ongoing action", TKL_DEADLINE_ONGOING, TKL_NO_DAY);
    expect("", TKL_DEADLINE_UNDATED, TKL_NO_DAY);
    expect("TBC", TKL_DEADLINE_UNDATED, TKL_NO_DAY);
    expect("Ongoing until TBC", TKL_DEADLINE_ONGOING, TKL_NO_DAY);
    expect("tba", TKL_DEADLINE_UNDATED, TKL_NO_DAY);
    expect(NULL, TKL_DEADLINE_UNDATED, TKL_NO_DAY);
}
END_TEST

START_TEST(unreadable_is_kept_undated_with_a_reason)
{
    const char *bad[] = {"31/02/2023", "Soon",           "2023/25",          "Q5 2023",
                         "13/13/2023", "April 30th-ish", "30 Febtember 2023"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tkl_deadline d = parse(bad[i]);
        ck_assert_msg(d.kind == TKL_DEADLINE_UNDATED && d.problem, "\"%s\" was read", bad[i]);
        tkl_deadline_clear(&d);
    }
    struct tkl_deadline d = parse("31/02/2023");
    ck_assert_str_eq(tkl_deadline_problem(&d), "no such date");
    tkl_deadline_clear(&d);
}
END_TEST

static void expect_problem(const char *text, enum tkl_deadline_problem problem)
{
    struct tkl_deadline d = parse(text);
    ck_assert_msg(d.kind == TKL_DEADLINE_UNDATED && d.day == TKL_NO_DAY && d.problem == problem,
                  "\"%s\": kind %d day %d problem %d", text, d.kind, d.day, d.problem);
    tkl_deadline_clear(&d);
}

/* What would be a guess is not read: a day and month with no year (not a
 * month in a year of two digits after a space), a century, a serial far
 * past any plan's years. */
START_TEST(no_year_no_century_no_guess)
{
    expect_problem("April 30", TKL_DEADLINE_NO_YEAR);
    expect_problem("March 15", TKL_DEADLINE_NO_YEAR);
    expect_problem("June 10th", TKL_DEADLINE_NO_YEAR);
    expect_problem("30 April", TKL_DEADLINE_NO_YEAR);
    expect_problem("by 1st March", TKL_DEADLINE_NO_YEAR);
    expect_problem("Mar 24", TKL_DEADLINE_NO_YEAR);
    expect("Mar-24", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
    expect("March 2024", TKL_DEADLINE_DATE, DAY(2024, 3, 31));
    expect_problem("Sep-99", TKL_DEADLINE_CENTURY);
    expect_problem("30/04/99", TKL_DEADLINE_CENTURY);
    expect_problem("30.04.70", TKL_DEADLINE_CENTURY);
    expect("Sep-69", TKL_DEADLINE_DATE, DAY(2069, 9, 30));
    expect("30/04/00", TKL_DEADLINE_DATE, DAY(2000, 4, 30));
    expect_problem("99999", TKL_DEADLINE_UNREADABLE);
    expect("80000", TKL_DEADLINE_DATE, DAY(2119, 1, 11));
    struct tkl_deadline d = parse("April 30");
    ck_assert_ptr_nonnull(strstr(tkl_deadline_problem(&d), "no year"));
    tkl_deadline_clear(&d);
    d = parse("Sep-99");
    ck_assert_ptr_nonnull(strstr(tkl_deadline_problem(&d), "write the year in full"));
    tkl_deadline_clear(&d);
}
END_TEST

/* Ongoing work with a date after it: that date, "ongoing" its note. */
START_TEST(ongoing_until_a_date_is_that_date)
{
    struct tkl_deadline d = parse("Ongoing until March 2024");
    ck_assert_int_eq(d.kind, TKL_DEADLINE_DATE);
    ck_assert_int_eq(d.day, DAY(2024, 3, 31));
    ck_assert_str_eq(d.note, "ongoing");
    tkl_deadline_clear(&d);
    d = parse("Ongoing - review April 2024");
    ck_assert_int_eq(d.kind, TKL_DEADLINE_REVIEW);
    ck_assert_int_eq(d.day, DAY(2024, 4, 30));
    tkl_deadline_clear(&d);
    d = parse("ongoing: to 30/06/2024 (quarterly report)");
    ck_assert_int_eq(d.kind, TKL_DEADLINE_DATE);
    ck_assert_int_eq(d.day, DAY(2024, 6, 30));
    ck_assert_str_eq(d.note, "quarterly report");
    tkl_deadline_clear(&d);
    expect_problem("Ongoing until 31/02/2024", TKL_DEADLINE_NO_SUCH_DATE);
}
END_TEST

/* A deadline written only in brackets is read, not kept as a note. */
START_TEST(a_bracket_alone_is_the_deadline)
{
    struct tkl_deadline d = parse("(March 2024)");
    ck_assert_int_eq(d.kind, TKL_DEADLINE_DATE);
    ck_assert_int_eq(d.day, DAY(2024, 3, 31));
    ck_assert_ptr_null(d.note);
    tkl_deadline_clear(&d);
    expect_problem("(soon)", TKL_DEADLINE_UNREADABLE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("forms");
    tcase_add_test(tc, month_and_year);
    tcase_add_test(tc, review_and_note);
    tcase_add_test(tc, full_dates);
    tcase_add_test(tc, financial_years_and_quarters);
    tcase_add_test(tc, ongoing_and_undated);
    tcase_add_test(tc, unreadable_is_kept_undated_with_a_reason);
    tcase_add_test(tc, no_year_no_century_no_guess);
    tcase_add_test(tc, a_bracket_alone_is_the_deadline);
    tcase_add_test(tc, ongoing_until_a_date_is_that_date);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
