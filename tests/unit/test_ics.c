/* Tests for plugins/calendar/ics.c: where an observance's table of dates
 * ends (the rest of the parser is tested through the plugin by
 * tests/integration/test_calendar.py). */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <string.h>

#include <tickler/day.h>

#include "../../plugins/calendar/ics.h"

static struct ics_file *parse(const char *events)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n%sEND:VCALENDAR\r\n", events);
    struct ics_file *f = NULL;
    ck_assert_int_eq(ics_parse("test.ics", text, strlen(text), NULL, NULL, &f), 0);
    return f;
}

#define EVENT(uid, lines)                                                                          \
    "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:" uid                      \
    "\r\nDTSTART;VALUE=DATE:20250129\r\n" lines "END:VEVENT\r\n"

START_TEST(a_table_ends_on_its_latest_day)
{
    /* RDATE lists need not be in order */
    struct ics_file *f = parse(EVENT("a", "RDATE;VALUE=DATE:20500123,20260217\r\n"));
    int32_t end = 0;
    ck_assert(ics_table_end(&f->events[0], &end));
    ck_assert_int_eq(end, tkl_day_from_civil(2050, 1, 23));
    ics_file_free(f);
}
END_TEST

START_TEST(an_excluded_last_day_is_not_the_end)
{
    struct ics_file *f = parse(
        EVENT("a", "RDATE;VALUE=DATE:20260217,20270206\r\n"
                   "EXDATE;VALUE=DATE:20270206\r\n")
            EVENT("b", "RDATE;VALUE=DATE:20260217\r\nEXDATE;VALUE=DATE:20260217,20250129\r\n"));
    int32_t end = 0;
    ck_assert(ics_table_end(&f->events[0], &end));
    ck_assert_int_eq(end, tkl_day_from_civil(2026, 2, 17));
    end = 7;
    ck_assert(!ics_table_end(&f->events[1], &end)); /* every day excluded */
    ck_assert_int_eq(end, 7);
    ics_file_free(f);
}
END_TEST

START_TEST(rules_and_single_days_are_no_tables)
{
    struct ics_file *f = parse(EVENT("rule", "RRULE:FREQ=YEARLY\r\n") EVENT(
        "both", "RRULE:FREQ=YEARLY\r\nRDATE;VALUE=DATE:20260301\r\n") EVENT("once", ""));
    int32_t end = 7;
    for (size_t i = 0; i < f->n; i++)
        ck_assert(!ics_table_end(&f->events[i], &end));
    ck_assert_int_eq(end, 7);
    ics_file_free(f);
}
END_TEST

START_TEST(the_shipped_tables_reach_2050)
{
    struct ics_file *f = NULL;
    ck_assert_int_eq(ics_load(TICKLER_SOURCE_DIR "/etc/calendars/uk-diversity.ics", NULL, NULL, &f),
                     0);
    size_t tables = 0;
    for (size_t i = 0; i < f->n; i++) {
        int32_t end, last = TKL_NO_DAY;
        if (!ics_table_end(&f->events[i], &end))
            continue;
        tables++;
        /* an observance kept as several tables (Ramadan's months of 29
         * days and of 30) reaches 2050 in its last */
        for (size_t j = 0; j < f->n; j++) {
            int32_t other;
            if (!strcmp(f->events[j].summary, f->events[i].summary) &&
                ics_table_end(&f->events[j], &other) && other > last)
                last = other;
        }
        int y, m, d;
        tkl_day_to_civil(last, &y, &m, &d);
        ck_assert_msg(y == 2050, "%s ends in %d", f->events[i].uid, y);
    }
    ck_assert_uint_eq(tables, 15);
    ics_file_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ics");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, a_table_ends_on_its_latest_day);
    tcase_add_test(tc, an_excluded_last_day_is_not_the_end);
    tcase_add_test(tc, rules_and_single_days_are_no_tables);
    tcase_add_test(tc, the_shipped_tables_reach_2050);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
