/* Tests for include/tickler/day.h, the date helpers plugins and host share:
 * civil-day arithmetic against known dates and the C library's UTC
 * calendar, and the English, locale-independent formats in real zones. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tickler/day.h>

static void use_zone(const char *zone)
{
    ck_assert_int_eq(setenv("TZ", zone, 1), 0);
    tzset();
}

START_TEST(known_days)
{
    static const struct {
        int y, m, d;
        int32_t day;
        int weekday; /* 0 = Monday */
    } known[] = {
        {1970, 1, 1, 0, 3},         {1969, 12, 31, -1, 2},    {2023, 3, 3, 19419, 4},
        {2000, 2, 29, 11016, 1},    {2000, 3, 1, 11017, 2},   {1900, 1, 1, -25567, 0},
        {2100, 3, 1, 47541, 0},     {2200, 12, 31, 84370, 2}, {1, 1, 1, -719162, 0},
        {9999, 12, 31, 2932896, 4},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++) {
        int y = 0, m = 0, d = 0;
        ck_assert_int_eq(tkl_day_from_civil(known[i].y, known[i].m, known[i].d), known[i].day);
        tkl_day_to_civil(known[i].day, &y, &m, &d);
        ck_assert_int_eq(y, known[i].y);
        ck_assert_int_eq(m, known[i].m);
        ck_assert_int_eq(d, known[i].d);
        ck_assert_int_eq(tkl_day_weekday(known[i].day), known[i].weekday);
    }
    /* a day past the month's end counts on into the next month */
    ck_assert_int_eq(tkl_day_from_civil(2023, 1, 32), tkl_day_from_civil(2023, 2, 1));
    ck_assert_int_eq(tkl_day_weekday(-7), 3);
    int y, m, d; /* defined for every day, TKL_NO_DAY included */
    tkl_day_to_civil(TKL_NO_DAY, &y, &m, &d);
    ck_assert_int_eq(tkl_day_from_civil(y, m, d), TKL_NO_DAY);
    ck_assert_int_eq(tkl_day_weekday(TKL_NO_DAY), tkl_day_weekday(TKL_NO_DAY + 7));
}
END_TEST

START_TEST(leap_years)
{
    ck_assert(tkl_is_leap_year(2000));
    ck_assert(tkl_is_leap_year(2024));
    ck_assert(tkl_is_leap_year(2400));
    ck_assert(!tkl_is_leap_year(1900));
    ck_assert(!tkl_is_leap_year(2100));
    ck_assert(!tkl_is_leap_year(2200));
    ck_assert(!tkl_is_leap_year(2023));
    ck_assert_int_eq(tkl_days_in_month(1900, 2), 28);
    ck_assert_int_eq(tkl_days_in_month(2000, 2), 29);
    ck_assert_int_eq(tkl_days_in_month(2100, 2), 28);
    ck_assert_int_eq(tkl_days_in_month(2024, 2), 29);
    ck_assert_int_eq(tkl_days_in_month(2023, 4), 30);
    ck_assert_int_eq(tkl_days_in_month(2023, 12), 31);
    ck_assert_int_eq(tkl_days_in_month(2023, 0), 0);
    ck_assert_int_eq(tkl_days_in_month(2023, 13), 0);
    /* 28 February to 1 March: one day, two in a leap year */
    ck_assert_int_eq(tkl_day_from_civil(1900, 3, 1) - tkl_day_from_civil(1900, 2, 28), 1);
    ck_assert_int_eq(tkl_day_from_civil(2000, 3, 1) - tkl_day_from_civil(2000, 2, 28), 2);
    ck_assert_int_eq(tkl_day_from_civil(2100, 3, 1) - tkl_day_from_civil(2100, 2, 28), 1);
    ck_assert(tkl_civil_valid(2000, 2, 29));
    ck_assert(tkl_civil_valid(2024, 2, 29));
    ck_assert(!tkl_civil_valid(1900, 2, 29));
    ck_assert(!tkl_civil_valid(2100, 2, 29));
    ck_assert(!tkl_civil_valid(2023, 2, 29));
    ck_assert(!tkl_civil_valid(2023, 4, 31));
    ck_assert(!tkl_civil_valid(2023, 13, 1));
    ck_assert(!tkl_civil_valid(2023, 1, 0));
    ck_assert(!tkl_civil_valid(0, 1, 1));
    ck_assert(!tkl_civil_valid(10000, 1, 1));
    ck_assert(tkl_civil_valid(9999, 12, 31));
}
END_TEST

/* Whether day is y-m-d by gmtime_r (the C library's own UTC calendar),
 * with its weekday, and converts back. */
static bool agrees_with_libc(int32_t day, int y, int m, int d)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    return gmtime_r(&t, &tm) && y == tm.tm_year + 1900 && m == tm.tm_mon + 1 && d == tm.tm_mday &&
           tkl_day_weekday(day) == (tm.tm_wday + 6) % 7 && tkl_day_from_civil(y, m, d) == day &&
           tkl_civil_valid(y, m, d);
}

/* Every day of 1970..2200: against the C library, and each the day after
 * the one before. (Check's assertions are slow: one per day at most.) */
START_TEST(round_trips)
{
    int32_t first = tkl_day_from_civil(1970, 1, 1), last = tkl_day_from_civil(2200, 12, 31);
    int py = 1969, pm = 12, pd = 31;
    for (int32_t day = first; day <= last; day++) {
        int y, m, d;
        tkl_day_to_civil(day, &y, &m, &d);
        bool next_month = d == 1 && pd == tkl_days_in_month(py, pm);
        bool follows = next_month ? (m == pm % 12 + 1 && y == py + (pm == 12))
                                  : (y == py && m == pm && d == pd + 1);
        if (!follows || !agrees_with_libc(day, y, m, d))
            ck_abort_msg("day %d is %04d-%02d-%02d", (int)day, y, m, d);
        py = y, pm = m, pd = d;
    }
    ck_assert_int_eq(last - first + 1, 84371);
    ck_assert(py == 2200 && pm == 12 && pd == 31);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(tkl_month_name(1), "January");
    ck_assert_str_eq(tkl_month_name(9), "September");
    ck_assert_str_eq(tkl_month_name(12), "December");
    ck_assert_str_eq(tkl_month_name(0), "");
    ck_assert_str_eq(tkl_month_name(13), "");
    ck_assert_str_eq(tkl_weekday_name(0), "Monday");
    ck_assert_str_eq(tkl_weekday_name(6), "Sunday");
    ck_assert_str_eq(tkl_weekday_name(-1), "");
    ck_assert_str_eq(tkl_weekday_name(7), "");
}
END_TEST

START_TEST(day_formats)
{
    char buf[64];
    ck_assert_int_eq(tkl_day_iso(19419, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2023-03-03");
    ck_assert_int_eq(tkl_day_iso(tkl_day_from_civil(1, 1, 1), buf, TKL_DAY_ISO_SIZE), 0);
    ck_assert_str_eq(buf, "0001-01-01");
    ck_assert_int_eq(tkl_day_iso(tkl_day_from_civil(9999, 12, 31), buf, TKL_DAY_ISO_SIZE), 0);
    ck_assert_str_eq(buf, "9999-12-31");
    strcpy(buf, "kept");
    ck_assert_int_eq(tkl_day_iso(19419, buf, TKL_DAY_ISO_SIZE - 1), -ENOSPC);
    ck_assert_int_eq(tkl_day_iso(TKL_NO_DAY, buf, sizeof(buf)), -ERANGE);
    ck_assert_int_eq(tkl_day_iso(tkl_day_from_civil(10000, 1, 1), buf, sizeof(buf)), -ERANGE);
    ck_assert_int_eq(tkl_day_iso(tkl_day_from_civil(0, 12, 31), buf, sizeof(buf)), -ERANGE);
    ck_assert_str_eq(buf, "kept");

    ck_assert_int_eq(tkl_day_long(19419, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Friday 3 March 2023");
    ck_assert_int_eq(tkl_day_long(11016, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Tuesday 29 February 2000");
    /* the longest there is fills TKL_DAY_LONG_SIZE exactly */
    ck_assert_int_eq(tkl_day_long(tkl_day_from_civil(2023, 9, 27), buf, TKL_DAY_LONG_SIZE), 0);
    ck_assert_str_eq(buf, "Wednesday 27 September 2023");
    ck_assert_uint_eq(strlen(buf) + 1, TKL_DAY_LONG_SIZE);
    strcpy(buf, "kept");
    ck_assert_int_eq(tkl_day_long(tkl_day_from_civil(2023, 9, 27), buf, TKL_DAY_LONG_SIZE - 1),
                     -ENOSPC);
    ck_assert_int_eq(tkl_day_long(TKL_NO_DAY, buf, sizeof(buf)), -ERANGE);
    ck_assert_str_eq(buf, "kept");
}
END_TEST

START_TEST(local_days)
{
    use_zone("Europe/London");
    /* 23:30 UTC on 30 June is 00:30 BST on 1 July */
    ck_assert_int_eq(tkl_local_day(1688167800), tkl_day_from_civil(2023, 7, 1));
    ck_assert_int_eq(tkl_local_day(1677834000), tkl_day_from_civil(2023, 3, 3));
    /* 02:00 UTC on 3 March is 21:00 on 2 March in New York */
    use_zone("America/New_York");
    ck_assert_int_eq(tkl_local_day(1677808800), tkl_day_from_civil(2023, 3, 2));
    use_zone("Europe/London");
}
END_TEST

START_TEST(rfc5322_dates)
{
    static const struct {
        const char *zone;
        int64_t t;
        const char *want;
    } cases[] = {
        {"Europe/London", 1677834000, "Fri, 03 Mar 2023 09:00:00 +0000"}, /* winter: GMT */
        {"Europe/London", 1689321600, "Fri, 14 Jul 2023 09:00:00 +0100"}, /* summer: BST */
        {"Europe/London", 1679792399, "Sun, 26 Mar 2023 00:59:59 +0000"}, /* spring forward */
        {"Europe/London", 1679792400, "Sun, 26 Mar 2023 02:00:00 +0100"},
        {"Europe/London", 1698539400, "Sun, 29 Oct 2023 01:30:00 +0100"}, /* fall back */
        {"Europe/London", 1698543000, "Sun, 29 Oct 2023 01:30:00 +0000"},
        {"America/New_York", 1677808800, "Thu, 02 Mar 2023 21:00:00 -0500"},
        {"Asia/Kolkata", 1677834000, "Fri, 03 Mar 2023 14:30:00 +0530"},
        {"UTC", 0, "Thu, 01 Jan 1970 00:00:00 +0000"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        use_zone(cases[i].zone);
        ck_assert_int_eq(tkl_instant_rfc5322(cases[i].t, buf, TKL_RFC5322_DATE_SIZE), 0);
        ck_assert_str_eq(buf, cases[i].want);
    }
    use_zone("Europe/London");
    strcpy(buf, "kept");
    ck_assert_int_eq(tkl_instant_rfc5322(1677834000, buf, TKL_RFC5322_DATE_SIZE - 1), -ENOSPC);
    ck_assert_int_eq(tkl_instant_rfc5322(-2303596800, buf, sizeof(buf)), -ERANGE); /* 1897 */
    ck_assert_int_eq(tkl_instant_rfc5322(INT64_MAX, buf, sizeof(buf)), -EOVERFLOW);
    ck_assert_str_eq(buf, "kept");
}
END_TEST

START_TEST(iso_instants)
{
    char buf[64];
    use_zone("Europe/London");
    ck_assert_int_eq(tkl_instant_iso(1677834000, buf, TKL_INSTANT_ISO_SIZE), 0);
    ck_assert_str_eq(buf, "2023-03-03T09:00:00+00:00");
    ck_assert_int_eq(tkl_instant_iso(1689321600, buf, TKL_INSTANT_ISO_SIZE), 0);
    ck_assert_str_eq(buf, "2023-07-14T09:00:00+01:00");
    use_zone("Asia/Kolkata");
    ck_assert_int_eq(tkl_instant_iso(1677834000, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2023-03-03T14:30:00+05:30");
    use_zone("America/New_York");
    ck_assert_int_eq(tkl_instant_iso(1677808800, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2023-03-02T21:00:00-05:00");
    use_zone("Europe/London");
    strcpy(buf, "kept");
    ck_assert_int_eq(tkl_instant_iso(1677834000, buf, TKL_INSTANT_ISO_SIZE - 1), -ENOSPC);
    ck_assert_int_eq(tkl_instant_iso(INT64_MAX, buf, sizeof(buf)), -EOVERFLOW);
    ck_assert_str_eq(buf, "kept");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_day");
    TCase *tc = tcase_create("day");
    tcase_add_test(tc, known_days);
    tcase_add_test(tc, leap_years);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, names);
    tcase_add_test(tc, day_formats);
    tcase_add_test(tc, local_days);
    tcase_add_test(tc, rfc5322_dates);
    tcase_add_test(tc, iso_instants);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
