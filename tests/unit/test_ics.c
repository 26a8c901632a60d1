/* Tests for plugins/calendar/ics.c: where an observance's table of dates
 * ends, and the prompt days of an event's alarms (the rest of the parser
 * is tested through the plugin by tests/integration/test_calendar.py). */
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

#define ALARM(trigger)                                                                             \
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n" trigger "\r\nEND:VALARM\r\n"

START_TEST(alarms_of_days_or_weeks_are_its_prompt_days)
{
    struct ics_file *f =
        parse(EVENT("awards", ALARM("TRIGGER:-P2W") ALARM("TRIGGER;RELATED=START:-P6W")
                                  ALARM("TRIGGER:-P14D") ALARM("TRIGGER:-P1D")) EVENT("none", "")
                  EVENT("app", ALARM("TRIGGER:-PT15M") ALARM("TRIGGER:PT9H") ALARM("TRIGGER:-P3W")
                                   ALARM("TRIGGER:PT0S")));
    /* descending, each once */
    ck_assert_uint_eq(f->events[0].n_prompt_days, 3);
    ck_assert_int_eq(f->events[0].prompt_days[0], 42);
    ck_assert_int_eq(f->events[0].prompt_days[1], 14);
    ck_assert_int_eq(f->events[0].prompt_days[2], 1);
    ck_assert_ptr_null(f->events[0].alarm_why);
    ck_assert_uint_eq(f->events[1].n_prompt_days, 0);
    /* a calendar app's reminders of hours or minutes are not lead times */
    ck_assert_uint_eq(f->events[2].n_prompt_days, 1);
    ck_assert_int_eq(f->events[2].prompt_days[0], 21);
    ck_assert(f->events[2].dropped & ICS_DROPPED_ALARM_TIME);
    ck_assert(!(f->events[0].dropped & ICS_DROPPED_ALARM_TIME));
    ics_file_free(f);
}
END_TEST

/* An alarm that gives no lead time is no problem of the file: the event
 * says why (what was expected) and where, and has no prompt days, so it
 * keeps the ladder. */
START_TEST(an_alarm_that_gives_no_lead_time_leaves_the_ladder)
{
    static const struct {
        const char *alarm, *why;
        unsigned line;
    } cases[] = {
        {ALARM("TRIGGER:P1D"),
         "TRIGGER \"P1D\" is after the start; expected a duration before "
         "the start in days or weeks, such as TRIGGER:-P6W (six weeks before)",
         17},
        {ALARM("TRIGGER;RELATED=END:-P1D"),
         "TRIGGER \"-P1D\" is relative to the end (RELATED=END); expected", 17},
        {ALARM("TRIGGER:-P60W"),
         "TRIGGER \"-P60W\" is 420 days before the start; at most 366 "
         "(a year) are allowed",
         17},
        {ALARM("TRIGGER;VALUE=DATE-TIME:20270901T090000Z"),
         "TRIGGER \"20270901T090000Z\" is a date and time, not a time before each occurrence", 17},
        {"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nEND:VALARM\r\n",
         "it has no TRIGGER; expected", 14},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        /* a good alarm first: one bad alarm leaves the whole event the ladder */
        char text[1024];
        snprintf(text, sizeof(text), "%s%s%s",
                 "BEGIN:VEVENT\r\nUID:awards\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:awards\r\n"
                 "DTSTART;VALUE=DATE:20250129\r\n" ALARM("TRIGGER:-P6W"),
                 cases[k].alarm, "END:VEVENT\r\n" EVENT("fine", ALARM("TRIGGER:-P1W")));
        struct ics_file *f = parse(text);
        const struct ics_event *e = &f->events[0];
        ck_assert_uint_eq(f->n, 2);
        ck_assert_uint_eq(e->n_prompt_days, 0);
        ck_assert_ptr_nonnull(e->alarm_why);
        ck_assert_msg(strncmp(e->alarm_why, cases[k].why, strlen(cases[k].why)) == 0, "%s",
                      e->alarm_why);
        ck_assert_uint_eq(e->alarm_line, cases[k].line);
        /* the other event keeps its alarm */
        ck_assert_uint_eq(f->events[1].n_prompt_days, 1);
        ck_assert_int_eq(f->events[1].prompt_days[0], 7);
        ics_file_free(f);
    }
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
    tcase_add_test(tc, alarms_of_days_or_weeks_are_its_prompt_days);
    tcase_add_test(tc, an_alarm_that_gives_no_lead_time_leaves_the_ladder);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
