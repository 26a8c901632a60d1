/* Tests for daemon/export/export.c, on real files: the iCalendar export
 * (CRLF lines folded at 75 octets and never inside a character, text
 * escaped, URIs not, all-day events with an exclusive DTEND, the
 * calendar's name, description and refresh interval, the same bytes for
 * the same content, UIDs that the order of the events does not change and
 * that are never given twice) read back by libical as a calendar client
 * would; the HTML page (every text escaped, A4, the year at a glance, one
 * section per month, legend, team names, no script and no style
 * attribute); the JSON (parsed with jansson); category slugs and the
 * events of one category. */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "core/day.h"
#include "core/text.h"
#include "export/export.h"
#include "http/request.h"

static char dir[256];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "export");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

static int32_t day(int y, int m, int d)
{
    return tkl_day_from_civil(y, m, d);
}

enum format { ICS, HTML, JSON };

/* Exports l as iCalendar with opts (NULL: the tests' usual ones) and
 * returns the file's content. */
static char *export_ics(const struct tkl_event_list *l, const struct tkl_ics_opts *opts)
{
    static const struct tkl_ics_opts usual = {.name = "Council, dates; 2027",
                                              .description = "Days to mark, with\nsuggested comms",
                                              .stamp = 1800000000,
                                              .refresh_hours = TKL_ICS_REFRESH_HOURS};
    char path[300];
    snprintf(path, sizeof(path), "%s/out.ics", dir);
    FILE *out = fopen(path, "w");
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tkl_export_ics(out, l, opts ? opts : &usual), 0);
    ck_assert_int_eq(fclose(out), 0);
    return tkl_read_all(path, NULL);
}

/* Exports l in one format to a file and returns the file's content. */
static char *export(enum format f, const struct tkl_event_list *l, int32_t from, int32_t to,
                    const struct tkl_team_dir *teams)
{
    if (f == ICS)
        return export_ics(l, NULL);
    char path[300];
    snprintf(path, sizeof(path), "%s/out", dir);
    FILE *out = fopen(path, "w");
    ck_assert_ptr_nonnull(out);
    int r = f == HTML ? tkl_export_html(out, l, from, to, "Dates <b>& \"more\"</b>", teams)
                      : tkl_export_json(out, l, from, to);
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(fclose(out), 0);
    return tkl_read_all(path, NULL);
}

/* A stream every write to fails. */
static FILE *unwritable(void)
{
    const char *path = tkl_write_text(dir, "ro", "");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    return f;
}

static const char *const carer_teams[] = {"hr", "nosuch"};

/* Pride Month (the whole of June), a day at the year's end, a day before a
 * leap day, one whose text needs escaping, one with a long UTF-8 title,
 * one with only an id. */
static struct tkl_event events[6];
static struct tkl_event_list list = {.v = events, .n = 6};
static char long_title[600];

static void fill_events(void)
{
    long_title[0] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(long_title, "Caf\xc3\xa9 \xe2\x80\x94 "); /* é and an em dash: 2 and 3 octets */
    long_title[strlen(long_title) - 1] = '\0'; /* no trailing space, which libical drops */
    struct tkl_event e[6] = {
        {.source = "diversity",
         .id = "pride@test/2027-06-01",
         .title = "Pride Month",
         .description = "Fly the flag",
         .category = "sexual orientation",
         .url = "https://example.org/pride?a=1,2;b=3",
         .first_day = day(2027, 6, 1),
         .last_day = day(2027, 6, 30),
         .team = "comms"},
        {.source = "diversity",
         .id = "nye@test/2027-12-31",
         .title = "Year end",
         .first_day = day(2027, 12, 31),
         .last_day = day(2027, 12, 31),
         .team = "comms"},
        {.source = "local",
         .id = "leap@test/2028-02-28",
         .title = "Before the leap day",
         .first_day = day(2028, 2, 28),
         .last_day = day(2028, 2, 28),
         .team = "hr"},
        {.source = "local",
         .id = "carers@test/2027-06-07",
         .title = "Carers, families; friends \\ all\nwelcome\r",
         .description = "Line one\nLine two, with \"quotes\" and <tags> & a\ttab\x01.",
         .category = "disability",
         .first_day = day(2027, 6, 7),
         .last_day = day(2027, 6, 13),
         .team = "hr",
         .teams = carer_teams,
         .n_teams = 2},
        {.source = "local",
         .id = "long@test/2027-07-01",
         .title = long_title,
         .category = "wellbeing",
         .first_day = day(2027, 7, 1),
         .last_day = day(2027, 7, 1),
         .team = "hr"},
        {.source = "local",
         .id = "untitled@test/2027-07-02",
         .first_day = day(2027, 7, 2),
         .last_day = day(2027, 7, 2),
         .team = "hr"},
    };
    memcpy(events, e, sizeof(e));
}

/* ---- iCalendar ---------------------------------------------------------- */

/* Checks the physical lines of text and returns its logical lines (the
 * folding undone), joined by "\n", for the caller to free. */
static char *unfold_checked(const char *text)
{
    struct tkl_buf logical = {0};
    const char *p = text;
    ck_assert_int_ne(*p, '\0');
    while (*p) {
        const char *crlf = strstr(p, "\r\n");
        ck_assert_msg(crlf != NULL, "a line does not end in CRLF: %.40s", p);
        size_t len = (size_t)(crlf - p);
        ck_assert_msg(len <= 75, "a line of %zu octets: %.*s", len, (int)len, p);
        ck_assert_ptr_null(memchr(p, '\n', len)); /* no bare LF */
        ck_assert_ptr_null(memchr(p, '\r', len)); /* no bare CR */
        /* a fold never splits a character */
        ck_assert_msg(tkl_utf8_valid(p, len), "a line is not UTF-8: %.*s", (int)len, p);
        if (*p == ' ') { /* a continuation */
            ck_assert_uint_gt(logical.len, 0);
            ck_assert_int_eq(tkl_buf_append(&logical, p + 1, len - 1), 0);
        } else {
            if (logical.len)
                ck_assert_int_eq(tkl_buf_putc(&logical, '\n'), 0);
            ck_assert_int_eq(tkl_buf_append(&logical, p, len), 0);
        }
        p = crlf + 2;
    }
    return tkl_buf_steal(&logical);
}

/* Whether the logical lines hold this line. */
static bool has_line(const char *lines, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = lines; (p = strstr(p, line)); p += n)
        if ((p == lines || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

START_TEST(ics_lines_are_folded_and_escaped)
{
    fill_events();
    char *text = export(ICS, &list, 0, 0, NULL);
    char *lines = unfold_checked(text);
    ck_assert_int_eq(strncmp(lines, "BEGIN:VCALENDAR\nVERSION:2.0\n", 28), 0);
    ck_assert(has_line(lines, "PRODID:-//tickler//calendar export//EN"));
    ck_assert(has_line(lines, "X-WR-CALNAME:Council\\, dates\\; 2027"));
    ck_assert(has_line(lines, "DTSTAMP:20270115T080000Z"));
    ck_assert(has_line(lines, "UID:pride@test/2027-06-01"));
    ck_assert(has_line(lines, "SUMMARY:Carers\\, families\\; friends \\\\ all\\nwelcome"));
    /* control characters other than line breaks become spaces */
    ck_assert(has_line(lines, "DESCRIPTION:Line one\\nLine two\\, with \"quotes\" and <tags> & "
                              "a tab ."));
    ck_assert(has_line(lines, "CATEGORIES:sexual orientation"));
    /* an event without a title is named by its id */
    ck_assert(has_line(lines, "SUMMARY:untitled@test/2027-07-02"));
    /* the long title was folded, and unfolds to itself */
    char want[700];
    snprintf(want, sizeof(want), "SUMMARY:%s", long_title);
    ck_assert(has_line(lines, want));
    ck_assert_ptr_nonnull(strstr(text, "\r\n ")); /* folded at least once */
    ck_assert_int_eq(strcmp(lines + strlen(lines) - 14, "\nEND:VCALENDAR"), 0);
    free(lines);
    free(text);
}
END_TEST

/* Bytes that are not UTF-8 (which the sources and the store never let
 * through) still end: the line is folded where no character starts. */
START_TEST(ics_folds_a_text_that_is_not_utf8)
{
    char title[101];
    memset(title, 0x80, 100);
    title[100] = '\0';
    struct tkl_event e = {.source = "local",
                          .id = "bad@test/2027-07-01",
                          .title = title,
                          .first_day = day(2027, 7, 1),
                          .last_day = day(2027, 7, 1),
                          .team = "hr"};
    struct tkl_event_list one = {.v = &e, .n = 1};
    char *text = export(ICS, &one, 0, 0, NULL);
    size_t longest = 0, bytes = 0;
    for (const char *p = text, *crlf; (crlf = strstr(p, "\r\n")); p = crlf + 2) {
        longest = (size_t)(crlf - p) > longest ? (size_t)(crlf - p) : longest;
        for (const char *q = p; q < crlf; q++)
            bytes += (unsigned char)*q == 0x80;
    }
    ck_assert_uint_le(longest, 75);
    ck_assert_uint_eq(bytes, 100); /* none lost, none written twice */
    /* unfolded, the line is the title's bytes, in order */
    char want[120] = "\r\nSUMMARY:", *u = strdup(text), *w = u;
    ck_assert_ptr_nonnull(u);
    for (const char *p = text; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 2; /* a fold: CRLF and the space */
            continue;
        }
        *w++ = *p;
    }
    *w = '\0';
    strcat(want, title);
    strcat(want, "\r\n");
    ck_assert_ptr_nonnull(strstr(u, want));
    free(u);
    ck_assert_ptr_nonnull(strstr(text, "\r\nEND:VCALENDAR\r\n"));
    free(text);
}
END_TEST

START_TEST(ics_days_are_all_day_with_an_exclusive_end)
{
    fill_events();
    char *text = export(ICS, &list, 0, 0, NULL);
    char *lines = unfold_checked(text);
    ck_assert(has_line(lines, "DTSTART;VALUE=DATE:20270601"));
    ck_assert(has_line(lines, "DTEND;VALUE=DATE:20270701")); /* 1-30 June */
    ck_assert(has_line(lines, "DTSTART;VALUE=DATE:20271231"));
    ck_assert(has_line(lines, "DTEND;VALUE=DATE:20280101")); /* into the next year */
    ck_assert(has_line(lines, "DTSTART;VALUE=DATE:20280228"));
    ck_assert(has_line(lines, "DTEND;VALUE=DATE:20280229")); /* 2028 is a leap year */
    ck_assert(has_line(lines, "DTEND;VALUE=DATE:20270614")); /* 7-13 June */
    free(lines);
    free(text);
}
END_TEST

START_TEST(ics_uris_are_not_escaped)
{
    /* RFC 5545 3.3.13: a URI value has no backslash escapes; a client
     * would read "\," as part of the address */
    fill_events();
    char *text = export(ICS, &list, 0, 0, NULL);
    char *lines = unfold_checked(text);
    ck_assert(has_line(lines, "URL:https://example.org/pride?a=1,2;b=3"));
    free(lines);
    free(text);
}
END_TEST

START_TEST(ics_describes_the_calendar_for_subscribers)
{
    fill_events();
    char *text = export(ICS, &list, 0, 0, NULL);
    char *lines = unfold_checked(text);
    const char *first_event = strstr(lines, "\nBEGIN:VEVENT\n");
    ck_assert_ptr_nonnull(first_event);
    char *head = strndup(lines, (size_t)(first_event - lines));
    ck_assert(has_line(head, "CALSCALE:GREGORIAN"));
    ck_assert(has_line(head, "METHOD:PUBLISH"));
    ck_assert(has_line(head, "X-WR-CALDESC:Days to mark\\, with\\nsuggested comms"));
    ck_assert(has_line(head, "REFRESH-INTERVAL;VALUE=DURATION:PT12H"));
    ck_assert(has_line(head, "X-PUBLISHED-TTL:PT12H"));
    free(head);
    /* all-day events need no time zone */
    ck_assert_ptr_null(strstr(lines, "VTIMEZONE"));
    free(lines);
    free(text);
    /* without a refresh interval or a description, neither is said */
    const struct tkl_ics_opts bare = {.name = "x", .stamp = 1800000000};
    text = export_ics(&list, &bare);
    ck_assert_ptr_null(strstr(text, "REFRESH-INTERVAL"));
    ck_assert_ptr_null(strstr(text, "X-PUBLISHED-TTL"));
    ck_assert_ptr_null(strstr(text, "X-WR-CALDESC"));
    free(text);
}
END_TEST

/* How many times needle occurs in s. */
static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

START_TEST(ics_is_the_same_for_the_same_content)
{
    /* the DTSTAMP is the one given (when the content changed), not the
     * time of writing: the same content gives the same bytes */
    fill_events();
    char *a = export(ICS, &list, 0, 0, NULL);
    char *b = export(ICS, &list, 0, 0, NULL);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(count(a, "\r\nDTSTAMP:20270115T080000Z\r\n"), 6);
    const struct tkl_ics_opts later = {.name = "Council, dates; 2027",
                                       .description = "Days to mark, with\nsuggested comms",
                                       .stamp = 1800000000 + 3600,
                                       .refresh_hours = TKL_ICS_REFRESH_HOURS};
    char *c = export_ics(&list, &later);
    ck_assert_uint_eq(count(c, "\r\nDTSTAMP:20270115T090000Z\r\n"), 6);
    ck_assert_uint_eq(count(c, "DTSTAMP:20270115T080000Z"), 0);
    ck_assert_uint_eq(strlen(a), strlen(c)); /* only the stamps differ */
    free(a);
    free(b);
    free(c);
}
END_TEST

/* The VEVENT whose UID is uid, from BEGIN to END, in logical lines. */
static char *vevent_of(const char *lines, const char *uid)
{
    char want[600];
    snprintf(want, sizeof(want), "\nUID:%s\n", uid);
    const char *at = strstr(lines, want);
    ck_assert_msg(at != NULL, "no event %s", uid);
    ck_assert_msg(strstr(at + 1, want) == NULL, "UID %s given twice", uid);
    const char *begin = at;
    while (strncmp(begin, "BEGIN:VEVENT\n", 13) != 0)
        begin--;
    const char *end = strstr(at, "END:VEVENT");
    ck_assert_ptr_nonnull(end);
    return strndup(begin, (size_t)(end - begin));
}

START_TEST(ics_uids_do_not_depend_on_the_order_of_the_events)
{
    fill_events();
    struct tkl_event reversed[6];
    for (size_t i = 0; i < 6; i++)
        reversed[i] = events[5 - i];
    struct tkl_event_list back = {.v = reversed, .n = 6};
    char *a_text = export(ICS, &list, 0, 0, NULL), *b_text = export(ICS, &back, 0, 0, NULL);
    char *a = unfold_checked(a_text), *b = unfold_checked(b_text);
    for (size_t i = 0; i < 6; i++) {
        char *x = vevent_of(a, events[i].id), *y = vevent_of(b, events[i].id);
        ck_assert_str_eq(x, y);
        free(x);
        free(y);
    }
    free(a);
    free(b);
    free(a_text);
    free(b_text);
}
END_TEST

/* The UIDs of a calendar, as libical reads them, joined by "\n" in
 * order. */
static char *uids_of(const char *text)
{
    icalcomponent *cal = icalparser_parse_string(text);
    ck_assert_ptr_nonnull(cal);
    ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
    struct tkl_buf b = {0};
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
        ck_assert_int_eq(
            tkl_buf_printf(&b, "%s=%s\n", icalcomponent_get_uid(ev), icalcomponent_get_summary(ev)),
            0);
    }
    icalcomponent_free(cal);
    return tkl_buf_steal(&b);
}

START_TEST(ics_gives_no_uid_twice)
{
    fill_events();
    /* Pride Month again from a second source reading the same file, and a
     * different event that happens to have the id of "Year end" */
    struct tkl_event again = events[0], other = events[1];
    again.source = "second";
    other.source = "second";
    other.title = "Another year end";
    struct tkl_event v[] = {events[0], again, events[1], other};
    struct tkl_event_list l = {.v = v, .n = 4};
    char *text = export(ICS, &l, 0, 0, NULL);
    char *uids = uids_of(text);
    /* the same event once; the two that differ with a hash each */
    ck_assert_uint_eq(count(uids, "\n"), 3);
    ck_assert_uint_eq(count(uids, "pride@test/2027-06-01=Pride Month\n"), 1);
    ck_assert_uint_eq(count(uids, "nye@test/2027-12-31/"), 2);
    ck_assert_ptr_null(strstr(uids, "nye@test/2027-12-31="));
    char *first = strstr(uids, "nye@test/2027-12-31/"), *second = strstr(first + 1, "nye@test/");
    ck_assert(strncmp(first, second, 36) != 0); /* the UIDs differ */
    /* whichever comes first, each keeps its UID */
    struct tkl_event w[] = {other, events[1], again, events[0]};
    struct tkl_event_list m = {.v = w, .n = 4};
    char *text2 = export(ICS, &m, 0, 0, NULL);
    char *uids2 = uids_of(text2);
    char *line = strtok(uids, "\n");
    for (; line; line = strtok(NULL, "\n"))
        ck_assert_msg(strstr(uids2, line) != NULL, "%s is not in the other order's", line);
    free(uids);
    free(uids2);
    free(text);
    free(text2);
}
END_TEST

/* The property of ev named kind, read by libical. */
static const char *ical_text(icalcomponent *ev, icalproperty_kind kind)
{
    icalproperty *p = icalcomponent_get_first_property(ev, kind);
    ck_assert_ptr_nonnull(p);
    return icalproperty_get_value_as_string(p);
}

START_TEST(a_calendar_client_reads_what_was_written)
{
    fill_events();
    /* and a description longer than any line buffer, with characters of
     * several octets and escapes throughout */
    struct tkl_buf big = {0};
    for (int i = 0; i < 2000; i++)
        ck_assert_int_eq(tkl_buf_puts(&big, "\xc3\xa9t\xc3\xa9, "), 0);
    big.data[--big.len] = '\0'; /* no trailing space, which libical drops */
    events[5].description = big.data;
    char *text = export(ICS, &list, 0, 0, NULL);
    free(unfold_checked(text));
    icalcomponent *cal = icalparser_parse_string(text);
    ck_assert_ptr_nonnull(cal);
    ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
    ck_assert_int_eq(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 6);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    for (size_t i = 0; ev; i++, ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
        const struct tkl_event *e = &events[i];
        ck_assert_str_eq(icalcomponent_get_uid(ev), e->id);
        struct icaltimetype start = icalcomponent_get_dtstart(ev);
        struct icaltimetype end = icalcomponent_get_dtend(ev);
        ck_assert(start.is_date && end.is_date);
        ck_assert_int_eq(day(start.year, start.month, start.day), e->first_day);
        ck_assert_int_eq(day(end.year, end.month, end.day), e->last_day + 1);
        if (i == 3) /* the line breaks come back; the CR was dropped */
            ck_assert_str_eq(icalcomponent_get_summary(ev),
                             "Carers, families; friends \\ all\nwelcome");
        else
            ck_assert_str_eq(icalcomponent_get_summary(ev), e->title ? e->title : e->id);
        if (i == 5) {
            const char *got = icalcomponent_get_description(ev);
            ck_assert_msg(strcmp(got, big.data) == 0, "description of %zu octets read as %zu",
                          big.len, strlen(got));
        }
    }
    ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    ck_assert_str_eq(ical_text(ev, ICAL_URL_PROPERTY), "https://example.org/pride?a=1,2;b=3");
    icalcomponent_free(cal);
    tkl_buf_free(&big);
    free(text);
}
END_TEST

START_TEST(ics_of_nothing_and_of_a_failing_stream)
{
    struct tkl_event_list empty = {0};
    char *text = export(ICS, &empty, 0, 0, NULL);
    char *lines = unfold_checked(text);
    ck_assert_ptr_null(strstr(lines, "VEVENT"));
    ck_assert_int_eq(strcmp(lines + strlen(lines) - 14, "\nEND:VCALENDAR"), 0);
    free(lines);
    free(text);
    fill_events();
    FILE *f = unwritable();
    const struct tkl_ics_opts opts = {.name = "x", .stamp = 1800000000};
    ck_assert_int_eq(tkl_export_ics(f, &list, &opts), -EIO);
    ck_assert_int_eq(tkl_export_html(f, &list, day(2027, 6, 1), day(2027, 7, 31), "x", NULL), -EIO);
    ck_assert_int_eq(tkl_export_json(f, &list, day(2027, 6, 1), day(2027, 7, 31)), -EIO);
    fclose(f);
}
END_TEST

/* ---- HTML ------------------------------------------------------------------ */

static struct tkl_team team_v[] = {
    {.id = "hr", .name = "Human Resources"},
    {.id = "comms", .name = "Comms & <Engagement>"},
};
static const struct tkl_team_dir teams = {.teams = team_v, .n = 2};

/* The text between the heading of one month and the next. */
static char *month_section(const char *html, const char *heading)
{
    char h2[64];
    snprintf(h2, sizeof(h2), "<h2>%s</h2>", heading);
    const char *start = strstr(html, h2);
    ck_assert_msg(start != NULL, "no section %s", heading);
    const char *end = strstr(start, "</section>");
    ck_assert_ptr_nonnull(end);
    return strndup(start, (size_t)(end - start));
}

START_TEST(html_escapes_every_text)
{
    fill_events();
    char *html = export(HTML, &list, day(2027, 6, 1), day(2027, 7, 31), &teams);
    ck_assert_int_eq(strncmp(html, "<!DOCTYPE html>", 15), 0);
    ck_assert_ptr_nonnull(strstr(html, "<title>Dates &lt;b&gt;&amp; &quot;more&quot;&lt;/b&gt;"
                                       "</title>"));
    ck_assert_ptr_nonnull(strstr(html, "<h1>Dates &lt;b&gt;&amp; &quot;more&quot;&lt;/b&gt;</h1>"));
    ck_assert_ptr_null(strstr(html, "<b>"));
    ck_assert_ptr_null(strstr(html, "<tags>"));
    ck_assert_ptr_nonnull(strstr(html, "Line one Line two, with &quot;quotes&quot; and "
                                       "&lt;tags&gt; &amp; a tab ."));
    ck_assert_ptr_nonnull(strstr(html, "Carers, families; friends \\ all welcome"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"https://example.org/pride?a=1,2;b=3\""));
    /* teams by their names, escaped; an unknown one as it was given */
    ck_assert_ptr_nonnull(strstr(html, "<td>Human Resources; Human Resources; nosuch</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<td>Comms &amp; &lt;Engagement&gt;</td>"));
    ck_assert_int_eq(strcmp(html + strlen(html) - 16, "</body>\n</html>\n"), 0);
    free(html);
}
END_TEST

START_TEST(html_has_a_section_per_month)
{
    fill_events();
    /* from mid-May: an observance that began in April is listed in May */
    struct tkl_event before = {.source = "local",
                               .id = "spring@test",
                               .title = "Spring clean",
                               .first_day = day(2027, 4, 28),
                               .last_day = day(2027, 5, 20),
                               .team = "hr"};
    struct tkl_event v[] = {before, events[0], events[3], events[4], events[1]};
    struct tkl_event_list l = {.v = v, .n = 5}; /* up to the year's end */
    char *html = export(HTML, &l, day(2027, 5, 15), day(2028, 1, 10), &teams);
    ck_assert_ptr_nonnull(strstr(html, "15 May 2027 \xe2\x80\x93 10 January 2028: 5 observances."));
    const char *months[] = {"May 2027",      "June 2027",      "July 2027",
                            "August 2027",   "September 2027", "October 2027",
                            "November 2027", "December 2027",  "January 2028"};
    const char *prev = html;
    for (size_t i = 0; i < 9; i++) {
        char *s = month_section(html, months[i]);
        const char *at = strstr(html, s);
        ck_assert(at > prev); /* in order */
        prev = at;
        if (strcmp(months[i], "May 2027") == 0) {
            ck_assert_ptr_nonnull(strstr(s, "Spring clean"));
            ck_assert_ptr_nonnull(strstr(s, "28 April \xe2\x80\x93 20 May 2027"));
        } else if (strcmp(months[i], "June 2027") == 0) {
            ck_assert_ptr_nonnull(strstr(s, "Pride Month"));
            ck_assert_ptr_nonnull(strstr(s, "1\xe2\x80\x93"
                                            "30 June 2027"));
            ck_assert_ptr_nonnull(strstr(s, "Carers, families"));
            ck_assert_ptr_null(strstr(s, "Spring clean"));
        } else if (strcmp(months[i], "July 2027") == 0) {
            ck_assert_ptr_nonnull(strstr(s, "Caf\xc3\xa9"));
        } else if (strcmp(months[i], "December 2027") == 0) {
            ck_assert_ptr_nonnull(strstr(s, "Year end"));
        } else {
            ck_assert_ptr_nonnull(strstr(s, "<p>No observances.</p>"));
        }
        free(s);
    }
    ck_assert_ptr_null(strstr(html, "<h2>April 2027</h2>"));
    ck_assert_ptr_null(strstr(html, "<h2>February 2028</h2>"));
    free(html);
}
END_TEST

START_TEST(html_legend_names_the_categories_shown)
{
    fill_events();
    char *html = export(HTML, &list, day(2027, 6, 1), day(2027, 7, 31), &teams);
    const char *legend = strstr(html, "<ul class=\"legend\"");
    ck_assert_ptr_nonnull(legend);
    char *ul = strndup(legend, (size_t)(strstr(legend, "</ul>") - legend));
    /* in palette order, each category named (colour is not the only cue) */
    const char *dis = strstr(ul, ">disability</span>");
    const char *sex = strstr(ul, ">sexual orientation</span>");
    ck_assert_ptr_nonnull(dis);
    ck_assert_ptr_nonnull(sex);
    ck_assert(dis < sex);
    ck_assert_ptr_null(strstr(ul, ">age</span>"));
    /* "wellbeing" and the events with none are the council's own */
    ck_assert_ptr_nonnull(strstr(ul, "other (the council's own)"));
    free(ul);
    /* without them, no "other" */
    struct tkl_event_list only_pride = {.v = events, .n = 1};
    free(html);
    html = export(HTML, &only_pride, day(2027, 6, 1), day(2027, 6, 30), &teams);
    ck_assert_ptr_null(strstr(html, "the council's own"));
    ck_assert_ptr_nonnull(strstr(html, ": 1 observances."));
    free(html);
}
END_TEST

/* The mini month of the year at a glance headed caption. */
static char *mini_month(const char *html, const char *caption)
{
    char want[64];
    snprintf(want, sizeof(want), "<caption>%s</caption>", caption);
    const char *start = strstr(html, want);
    ck_assert_msg(start != NULL, "no month %s at a glance", caption);
    const char *end = strstr(start, "</div>");
    ck_assert_ptr_nonnull(end);
    ck_assert(end < strstr(html, "<main>"));
    return strndup(start, (size_t)(end - start));
}

START_TEST(html_prints_on_a4_with_the_year_at_a_glance)
{
    fill_events();
    struct tkl_event march[2] = {
        {.source = "local",
         .id = "a@test/2027-03-21",
         .title = "Day <A>",
         .category = "race",
         .first_day = day(2027, 3, 21),
         .last_day = day(2027, 3, 21),
         .team = "hr"},
        {.source = "local",
         .id = "b@test/2027-03-21",
         .title = "Day B",
         .category = "Disability", /* matched whatever its case */
         .first_day = day(2027, 3, 21),
         .last_day = day(2027, 3, 21),
         .team = "hr"},
    };
    struct tkl_event v[] = {march[0], march[1], events[0], events[3], events[4], events[5]};
    struct tkl_event_list l = {.v = v, .n = 6};
    char *html = export(HTML, &l, day(2027, 1, 1), day(2027, 12, 31), &teams);
    ck_assert_ptr_nonnull(strstr(html, "@page{size:A4;"));
    /* the grid comes first and ends the first page */
    const char *glance = strstr(html, "<figure class=\"glance\">");
    ck_assert_ptr_nonnull(glance);
    ck_assert(glance < strstr(html, "<main>"));
    ck_assert_ptr_nonnull(strstr(html, ".glance{margin:20px 0 0;break-after:page;"));
    ck_assert_ptr_nonnull(strstr(glance, "<figcaption>At a glance: January \xe2\x80\x93 December "
                                         "2027</figcaption>"));
    ck_assert_uint_eq(count(html, "<table class=\"mini\">"), 12);
    /* 1 March 2027 is a Monday, 1 June a Tuesday */
    char *mar = mini_month(html, "March 2027"), *jun = mini_month(html, "June 2027");
    ck_assert_ptr_nonnull(strstr(mar, "<tbody>\n<tr><td>1</td><td>2</td>"));
    ck_assert_ptr_nonnull(strstr(jun, "<tbody>\n<tr><td></td><td>1</td>"));
    /* a day of two categories shows both, each observance named */
    ck_assert_ptr_nonnull(strstr(mar, "<td class=\"on k5 two d1\" title=\"Day &lt;A&gt; (race); "
                                      "Day B (Disability)\">21</td>"));
    ck_assert_uint_eq(count(mar, "class=\"on"), 1);
    /* Carers Week (7 days) colours its days; Pride Month (a month) is
     * named below the month instead */
    ck_assert_uint_eq(count(jun, "class=\"on k1\""), 7);
    ck_assert_ptr_nonnull(strstr(jun, "<td class=\"on k1\" title=\"Carers, families; friends \\ "
                                      "all welcome  (disability)\">7</td>"));
    ck_assert_ptr_nonnull(strstr(jun, "<p class=\"long\"><span class=\"chip k8\">Pride Month "
                                      "(sexual orientation)</span></p>"));
    free(mar);
    free(jun);
    char *jul = mini_month(html, "July 2027");
    ck_assert_ptr_nonnull(strstr(jul, "title=\"untitled@test/2027-07-02 (other)\">2</td>"));
    ck_assert_ptr_nonnull(strstr(jul, "<td class=\"on ko\""));
    free(jul);
    /* the colours are classes of the page's own style sheet */
    ck_assert_ptr_null(strstr(html, "style=\""));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_nonnull(strstr(html, ".k8{--c:#4b3b9c}"));
    free(html);
}
END_TEST

START_TEST(html_glance_shows_at_most_twelve_months)
{
    fill_events();
    char *html = export(HTML, &list, day(2027, 6, 15), day(2029, 6, 14), &teams);
    ck_assert_uint_eq(count(html, "<table class=\"mini\">"), 12);
    ck_assert_ptr_nonnull(strstr(html, "At a glance: June 2027 \xe2\x80\x93 May 2028<"));
    ck_assert_ptr_nonnull(strstr(html, "<h2>June 2029</h2>")); /* the list goes on */
    free(html);
    html = export(HTML, &list, day(2027, 6, 1), day(2027, 7, 31), &teams);
    ck_assert_uint_eq(count(html, "<table class=\"mini\">"), 2);
    ck_assert_ptr_nonnull(strstr(html, "At a glance: June \xe2\x80\x93 July 2027<"));
    free(html);
}
END_TEST

START_TEST(html_links_only_web_and_mail_addresses)
{
    fill_events();
    events[1].url = "javascript:alert(1)";
    events[2].url = "MAILTO:comms@example.org";
    char *html = export(HTML, &list, day(2027, 6, 1), day(2028, 2, 29), &teams);
    ck_assert_ptr_null(strstr(html, "href=\"javascript"));
    ck_assert_ptr_nonnull(strstr(html, "<div class=\"desc\">Resources: javascript:alert(1)</div>"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"MAILTO:comms@example.org\""));
    free(html);
    /* a calendar client opens an event's URL: none but web and mail ones */
    char *ics = export(ICS, &list, 0, 0, NULL);
    ck_assert_ptr_null(strstr(ics, "javascript"));
    ck_assert_ptr_nonnull(strstr(ics, "\r\nURL:MAILTO:comms@example.org\r\n"));
    free(ics);
}
END_TEST

/* ---- categories ---------------------------------------------------------- */

START_TEST(category_slugs)
{
    char buf[TKL_CATEGORY_SLUG_SIZE];
    ck_assert_str_eq(tkl_category_slug("Sexual orientation", buf), "sexual-orientation");
    ck_assert_str_eq(tkl_category_slug("  Religion or Belief!! ", buf), "religion-or-belief");
    ck_assert_str_eq(tkl_category_slug("LGBT+ History, 2027", buf), "lgbt-history-2027");
    ck_assert_str_eq(tkl_category_slug("Caf\xc3\xa9 culture", buf), "caf-culture");
    ck_assert_str_eq(tkl_category_slug("\xe2\x98\x85", buf), "");
    ck_assert_str_eq(tkl_category_slug(NULL, buf), "");
    /* at most 63 bytes, and never ending in '-' where it was cut */
    char lng[200] = "";
    for (int i = 0; i < 20; i++)
        strcat(lng, "abc de");
    tkl_category_slug(lng, buf);
    ck_assert_uint_le(strlen(buf), TKL_CATEGORY_SLUG_SIZE - 1);
    ck_assert(tkl_slug_valid(buf)); /* what the web face's routes accept */
    ck_assert_int_ne(buf[strlen(buf) - 1], '-');
    memset(lng, 'x', 100);
    lng[100] = '\0';
    ck_assert_uint_eq(strlen(tkl_category_slug(lng, buf)), 63);
    ck_assert_str_eq(tkl_category_known("sexual-orientation"), "sexual orientation");
    ck_assert_str_eq(tkl_category_known("armed-forces"), "armed forces");
    ck_assert_ptr_null(tkl_category_known("wellbeing"));
    ck_assert_ptr_null(tkl_category_known(""));
}
END_TEST

START_TEST(events_of_one_category)
{
    fill_events();
    events[2].category = "Sexual Orientation";
    struct tkl_event_list v = {0};
    ck_assert_int_eq(tkl_events_in_category(&list, "sexual-orientation", &v), 0);
    ck_assert_uint_eq(v.n, 2);
    ck_assert_str_eq(v.v[0].id, "pride@test/2027-06-01");
    ck_assert_str_eq(v.v[1].id, "leap@test/2028-02-28");
    tkl_event_view_free(&v);
    ck_assert_int_eq(tkl_events_in_category(&list, "age", &v), 0);
    ck_assert_uint_eq(v.n, 0);
    tkl_event_view_free(&v);
    ck_assert_ptr_null(v.v);
}
END_TEST

/* ---- JSON -------------------------------------------------------------------- */

START_TEST(json_is_valid_and_complete)
{
    fill_events();
    char *text = export(JSON, &list, day(2027, 6, 1), day(2028, 2, 29), NULL);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    ck_assert_msg(root != NULL, "invalid JSON at line %d: %s", err.line, err.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "from")), "2027-06-01");
    ck_assert_str_eq(json_string_value(json_object_get(root, "to")), "2028-02-29");
    json_t *obs = json_object_get(root, "observances");
    ck_assert(json_is_array(obs));
    ck_assert_uint_eq(json_array_size(obs), 6);
    json_t *p = json_array_get(obs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(p, "id")), "pride@test/2027-06-01");
    ck_assert_str_eq(json_string_value(json_object_get(p, "title")), "Pride Month");
    ck_assert_str_eq(json_string_value(json_object_get(p, "first_day")), "2027-06-01");
    ck_assert_str_eq(json_string_value(json_object_get(p, "last_day")), "2027-06-30");
    ck_assert_str_eq(json_string_value(json_object_get(p, "category")), "sexual orientation");
    ck_assert_str_eq(json_string_value(json_object_get(p, "url")),
                     "https://example.org/pride?a=1,2;b=3");
    ck_assert_str_eq(json_string_value(json_object_get(p, "source")), "diversity");
    ck_assert_uint_eq(json_array_size(json_object_get(p, "teams")), 1);
    /* texts come back exactly, whatever they hold */
    json_t *c = json_array_get(obs, 3);
    ck_assert_str_eq(json_string_value(json_object_get(c, "title")), events[3].title);
    ck_assert_str_eq(json_string_value(json_object_get(c, "description")), events[3].description);
    json_t *t = json_object_get(c, "teams");
    ck_assert_uint_eq(json_array_size(t), 3);
    ck_assert_str_eq(json_string_value(json_array_get(t, 0)), "hr");
    ck_assert_str_eq(json_string_value(json_array_get(t, 2)), "nosuch");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(obs, 4), "title")),
                     long_title);
    /* what an event lacks is null, not absent */
    json_t *u = json_array_get(obs, 5);
    ck_assert(json_is_null(json_object_get(u, "title")));
    ck_assert(json_is_null(json_object_get(u, "category")));
    ck_assert(json_is_null(json_object_get(u, "description")));
    ck_assert(json_is_null(json_object_get(u, "url")));
    json_decref(root);
    free(text);
    struct tkl_event_list empty = {0};
    text = export(JSON, &empty, day(2027, 1, 1), day(2027, 1, 1), NULL);
    root = json_loads(text, 0, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "observances")), 0);
    json_decref(root);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ics_lines_are_folded_and_escaped);
    tcase_add_test(tc, ics_folds_a_text_that_is_not_utf8);
    tcase_add_test(tc, ics_days_are_all_day_with_an_exclusive_end);
    tcase_add_test(tc, ics_uris_are_not_escaped);
    tcase_add_test(tc, ics_describes_the_calendar_for_subscribers);
    tcase_add_test(tc, ics_is_the_same_for_the_same_content);
    tcase_add_test(tc, ics_uids_do_not_depend_on_the_order_of_the_events);
    tcase_add_test(tc, ics_gives_no_uid_twice);
    tcase_add_test(tc, a_calendar_client_reads_what_was_written);
    tcase_add_test(tc, ics_of_nothing_and_of_a_failing_stream);
    tcase_add_test(tc, html_escapes_every_text);
    tcase_add_test(tc, html_has_a_section_per_month);
    tcase_add_test(tc, html_legend_names_the_categories_shown);
    tcase_add_test(tc, html_prints_on_a4_with_the_year_at_a_glance);
    tcase_add_test(tc, html_glance_shows_at_most_twelve_months);
    tcase_add_test(tc, html_links_only_web_and_mail_addresses);
    tcase_add_test(tc, category_slugs);
    tcase_add_test(tc, events_of_one_category);
    tcase_add_test(tc, json_is_valid_and_complete);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
