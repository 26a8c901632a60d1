/* Tests for daemon/core/day.c: the strict parsers of dates, instants and
 * clock times that read the command line and the configuration. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>

#include "core/day.h"

START_TEST(iso_dates)
{
    int32_t d = 0;
    ck_assert_int_eq(tkl_day_parse_iso("2024-02-29", &d), 0);
    ck_assert_int_eq(d, tkl_day_from_civil(2024, 2, 29));
    static const char *const bad[] = {"2023-02-29",  "2024-13-01", "2024-00-10",  "2024-1-05",
                                      "2024-+1-05",  "2024- 1-05", " 2024-01-05", "+024-01-05",
                                      "2024-01-05 ", "2024-01-5",  "2024/01/05",  "",
                                      "2024-01-0x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        d = 7;
        ck_assert_msg(tkl_day_parse_iso(bad[i], &d) == -EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(d, 7);
    }
    ck_assert_int_eq(tkl_day_parse_iso(NULL, &d), -EINVAL);
}
END_TEST

START_TEST(instants)
{
    int64_t t = 0;
    /* TZ=Europe/London (set by the test's environment): BST in July */
    ck_assert_int_eq(tkl_parse_datetime("2025-07-01T09:30", &t), 0);
    ck_assert_int_eq(t, 1751358600);
    ck_assert_int_eq(tkl_parse_datetime("2025-07-01 09:30:15", &t), 0);
    ck_assert_int_eq(t, 1751358615);
    ck_assert_int_eq(tkl_parse_datetime("2025-01-01", &t), 0);
    ck_assert_int_eq(t, 1735689600);
    ck_assert_int_eq(tkl_parse_datetime("@1700000000", &t), 0);
    ck_assert_int_eq(t, 1700000000);
    static const char *const bad[] = {"2025-07-01T9:30",
                                      "2025-07-01T09:3",
                                      "2025-07-01T24:00",
                                      "2025-07-01T09:60",
                                      "2025-07-01T09:30:",
                                      "2025-07-01T09:30:60",
                                      "2025-07-01T+9:30",
                                      "2025-07-01T09:30Z",
                                      "2025-07-01X",
                                      "2025-07-01T 9:30",
                                      "@",
                                      "@12x",
                                      "2025-07-01T09:-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(tkl_parse_datetime(bad[i], &t) == -EINVAL, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(clock_times)
{
    int m = -1;
    ck_assert_int_eq(tkl_parse_hhmm("09:30", &m), 0);
    ck_assert_int_eq(m, 570);
    ck_assert_int_eq(tkl_parse_hhmm("9:30", &m), 0);
    ck_assert_int_eq(m, 570);
    ck_assert_int_eq(tkl_parse_hhmm("23:59", &m), 0);
    ck_assert_int_eq(m, 1439);
    ck_assert_int_eq(tkl_parse_hhmm("00:00", &m), 0);
    ck_assert_int_eq(m, 0);
    static const char *const bad[] = {"24:00", "12:60", "9:5",   "+9:30", " 9:30", "09:30 ",
                                      "0930",  "9",     "09:-1", "",      ":30",   "123:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        m = 7;
        ck_assert_msg(tkl_parse_hhmm(bad[i], &m) == -EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(m, 7);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("day");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, iso_dates);
    tcase_add_test(tc, instants);
    tcase_add_test(tc, clock_times);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
