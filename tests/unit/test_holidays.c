/* Tests for daemon/schedule/holidays.c. The expected dates are the
 * published England and Wales bank holidays (GOV.UK "UK bank holidays"
 * lists, and the dates the same statutory rules give for years not yet
 * published), written out here by hand, not computed. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "core/day.h"
#include "schedule/holidays.h"

struct ymd {
    int y, m, d;
};

static const struct ymd england_wales[] = {
    {2020, 1, 1},   {2020, 4, 10},  {2020, 4, 13},  {2020, 5, 8},   {2020, 5, 25},  {2020, 8, 31},
    {2020, 12, 25}, {2020, 12, 28}, {2021, 1, 1},   {2021, 4, 2},   {2021, 4, 5},   {2021, 5, 3},
    {2021, 5, 31},  {2021, 8, 30},  {2021, 12, 27}, {2021, 12, 28}, {2022, 1, 3},   {2022, 4, 15},
    {2022, 4, 18},  {2022, 5, 2},   {2022, 6, 2},   {2022, 6, 3},   {2022, 8, 29},  {2022, 9, 19},
    {2022, 12, 26}, {2022, 12, 27}, {2023, 1, 2},   {2023, 4, 7},   {2023, 4, 10},  {2023, 5, 1},
    {2023, 5, 8},   {2023, 5, 29},  {2023, 8, 28},  {2023, 12, 25}, {2023, 12, 26}, {2024, 1, 1},
    {2024, 3, 29},  {2024, 4, 1},   {2024, 5, 6},   {2024, 5, 27},  {2024, 8, 26},  {2024, 12, 25},
    {2024, 12, 26}, {2025, 1, 1},   {2025, 4, 18},  {2025, 4, 21},  {2025, 5, 5},   {2025, 5, 26},
    {2025, 8, 25},  {2025, 12, 25}, {2025, 12, 26}, {2026, 1, 1},   {2026, 4, 3},   {2026, 4, 6},
    {2026, 5, 4},   {2026, 5, 25},  {2026, 8, 31},  {2026, 12, 25}, {2026, 12, 28}, {2027, 1, 1},
    {2027, 3, 26},  {2027, 3, 29},  {2027, 5, 3},   {2027, 5, 31},  {2027, 8, 30},  {2027, 12, 27},
    {2027, 12, 28}, {2028, 1, 3},   {2028, 4, 14},  {2028, 4, 17},  {2028, 5, 1},   {2028, 5, 29},
    {2028, 8, 28},  {2028, 12, 25}, {2028, 12, 26}, {2029, 1, 1},   {2029, 3, 30},  {2029, 4, 2},
    {2029, 5, 7},   {2029, 5, 28},  {2029, 8, 27},  {2029, 12, 25}, {2029, 12, 26}, {2030, 1, 1},
    {2030, 4, 19},  {2030, 4, 22},  {2030, 5, 6},   {2030, 5, 27},  {2030, 8, 26},  {2030, 12, 25},
    {2030, 12, 26},
};

START_TEST(england_and_wales_2020_to_2030)
{
    struct tkl_holidays h = {.region = TKL_REGION_ENGLAND_WALES};
    size_t k = 0, n = sizeof(england_wales) / sizeof(england_wales[0]);
    for (int32_t d = tkl_day_from_civil(2020, 1, 1); d <= tkl_day_from_civil(2030, 12, 31); d++) {
        bool want = k < n && d == tkl_day_from_civil(england_wales[k].y, england_wales[k].m,
                                                     england_wales[k].d);
        char buf[11];
        ck_assert_msg(tkl_is_holiday(&h, d, NULL) == want, "%s: expected %s",
                      tkl_day_format(d, buf), want ? "a bank holiday" : "no bank holiday");
        k += want;
    }
    ck_assert_uint_eq(k, n);
}
END_TEST

START_TEST(scotland_differs)
{
    struct tkl_holidays h = {.region = TKL_REGION_SCOTLAND};
    ck_assert(tkl_is_holiday(&h, tkl_day_from_civil(2024, 1, 2), NULL));  /* 2nd January */
    ck_assert(!tkl_is_holiday(&h, tkl_day_from_civil(2024, 4, 1), NULL)); /* no Easter Monday */
    ck_assert(tkl_is_holiday(&h, tkl_day_from_civil(2024, 8, 5), NULL));  /* first Monday Aug */
    ck_assert(tkl_is_holiday(&h, tkl_day_from_civil(2025, 12, 1), NULL)); /* St Andrew's sub */
    struct tkl_holidays ni = {.region = TKL_REGION_NORTHERN_IRELAND};
    ck_assert(tkl_is_holiday(&ni, tkl_day_from_civil(2025, 3, 17), NULL));
    ck_assert(tkl_is_holiday(&ni, tkl_day_from_civil(2026, 7, 13), NULL)); /* 12th is Sunday */
}
END_TEST

START_TEST(config_adds_and_removes)
{
    int32_t add[] = {tkl_day_from_civil(2025, 12, 24)};
    int32_t rem[] = {tkl_day_from_civil(2025, 8, 25)};
    struct tkl_holidays h = {
        .region = TKL_REGION_ENGLAND_WALES, .add = add, .n_add = 1, .remove = rem, .n_remove = 1};
    ck_assert(!tkl_is_working_day(&h, add[0]));
    ck_assert(tkl_is_working_day(&h, rem[0]));
    /* Easter 2025: Friday 18 and Monday 21 April are off */
    ck_assert_int_eq(tkl_working_day_on_or_before(&h, tkl_day_from_civil(2025, 4, 21)),
                     tkl_day_from_civil(2025, 4, 17));
    ck_assert_int_eq(tkl_working_day_on_or_after(&h, tkl_day_from_civil(2025, 4, 18)),
                     tkl_day_from_civil(2025, 4, 22));
}
END_TEST

/* The bitset answers as the computation does, on the days of its first
 * and last years and past its ends, and on every day of 2015 to 2035, for
 * every region, with the config's changes: a day added, a holiday removed,
 * a weekend day removed (still off), one day both added and removed
 * (remove wins). */
START_TEST(bitset_answers_as_computed)
{
    int32_t add[] = {tkl_day_from_civil(2025, 12, 24), tkl_day_from_civil(2026, 6, 10),
                     tkl_day_from_civil(1900, 1, 2)};
    int32_t rem[] = {tkl_day_from_civil(2025, 8, 25), tkl_day_from_civil(2026, 6, 10),
                     tkl_day_from_civil(2026, 6, 13), tkl_day_from_civil(2199, 12, 26)};
    const int32_t spans[][2] = {{tkl_day_from_civil(TKL_HOLIDAYS_FIRST_YEAR, 1, 1) - 10,
                                 tkl_day_from_civil(TKL_HOLIDAYS_FIRST_YEAR, 12, 31)},
                                {tkl_day_from_civil(2015, 1, 1), tkl_day_from_civil(2035, 12, 31)},
                                {tkl_day_from_civil(TKL_HOLIDAYS_LAST_YEAR, 1, 1),
                                 tkl_day_from_civil(TKL_HOLIDAYS_LAST_YEAR, 12, 31) + 10}};
    for (int reg = TKL_REGION_ENGLAND_WALES; reg <= TKL_REGION_NONE; reg++) {
        struct tkl_holidays plain = {
            .region = (enum tkl_region)reg, .add = add, .n_add = 3, .remove = rem, .n_remove = 4};
        struct tkl_holidays h = plain;
        ck_assert_int_eq(tkl_holidays_index(&h), 0);
        ck_assert_ptr_nonnull(h.off);
        for (size_t k = 0; k < sizeof(spans) / sizeof(spans[0]); k++)
            for (int32_t d = spans[k][0]; d <= spans[k][1]; d++) {
                char buf[11];
                ck_assert_msg(tkl_is_working_day(&h, d) == tkl_is_working_day(&plain, d),
                              "%s, region %s", tkl_day_format(d, buf), tkl_region_name(h.region));
            }
        ck_assert(!tkl_is_working_day(&h, add[0]));
        ck_assert(tkl_is_working_day(&h, rem[1]));  /* a Wednesday added and removed */
        ck_assert(!tkl_is_working_day(&h, rem[2])); /* a Saturday stays off */
        free(h.off);
    }
}
END_TEST

/* The bitset's weekends, made for one run of 64 weeks and repeated, are
 * the computed weekends on every day of its years, and it covers them to
 * the last day, no further. */
START_TEST(bitset_weekends_every_day)
{
    struct tkl_holidays plain = {.region = TKL_REGION_NONE};
    struct tkl_holidays h = plain;
    ck_assert_int_eq(tkl_holidays_index(&h), 0);
    int32_t first = tkl_day_from_civil(TKL_HOLIDAYS_FIRST_YEAR, 1, 1);
    int32_t last = tkl_day_from_civil(TKL_HOLIDAYS_LAST_YEAR, 12, 31);
    ck_assert_int_eq(h.first_day, first);
    ck_assert_int_eq(h.n_days, last - first + 1);
    for (int32_t d = first; d <= last; d++) {
        char buf[11];
        ck_assert_msg(tkl_is_working_day(&h, d) == (tkl_day_weekday(d) < 5), "%s",
                      tkl_day_format(d, buf));
    }
    /* no bit past the last day */
    uint32_t n = (uint32_t)h.n_days;
    if (n % 64)
        ck_assert_uint_eq(h.off[n / 64] >> (n % 64), 0);
    free(h.off);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("holidays");
    TCase *tc = tcase_create("regions");
    tcase_add_test(tc, england_and_wales_2020_to_2030);
    tcase_add_test(tc, scotland_differs);
    tcase_add_test(tc, config_adds_and_removes);
    tcase_add_test(tc, bitset_answers_as_computed);
    tcase_add_test(tc, bitset_weekends_every_day);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
