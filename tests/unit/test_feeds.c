/* Tests for daemon/web/feeds.c against a real service: the shipped
 * configuration with the sample calendars (etc/calendars/) in a temporary
 * directory, the calendar plugin of this build, the service loaded and
 * started on a real loop. The ICS feeds say what they are (type, file
 * name, caching, ETag, Last-Modified) and give the same bytes for the same
 * content; a category's feed holds that category only, and one with no
 * observance (unknown, or emptied by an edit) is an empty calendar, never
 * a 404 a subscriber's client would keep its last copy after; a calendar
 * file edited while the service runs (read by the
 * plugin's own watch, as in the daemon) changes the ETag and the
 * Last-Modified of the feeds it touches and of no other; the printable
 * page is for A4 with the year at a glance and escapes the calendars'
 * text; a bad year is 400. uv_loop_close() returns 0 at the end. */
#include <check.h>

#include "check_run.h"
#include "loop_wait.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/day.h"
#include "core/log.h"
#include "core/text.h"
#include "export/export.h"
#include "service/service.h"
#include "web/web.h"

static char dir[256], conf[300], state[300];
static uv_loop_t loop;
static struct tkl_service s;

/* Copies the file of the source tree at from to dir/to. */
static void copy_sample(const char *from, const char *to)
{
    char path[600];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", TICKLER_SOURCE_DIR, from);
    char *text = tkl_read_all(path, &len);
    tkl_write_file(dir, to, text, len);
    free(text);
}

static void on_changed(struct tkl_service *x)
{
    (void)x;
}

static void start_service(const char *now_arg);

static void setup(void)
{
    tkl_log_set_level(TKL_LOG_WARNING);
    tkl_tmpdir(dir, sizeof(dir), "feeds");
    char cals[300];
    snprintf(cals, sizeof(cals), "%s/calendars", dir);
    ck_assert_int_eq(mkdir(cals, 0700), 0);
    copy_sample("etc/tickler.conf", "tickler.conf");
    copy_sample("etc/sample-plan.csv", "sample-plan.csv");
    copy_sample("etc/calendars/uk-diversity.ics", "calendars/uk-diversity.ics");
    copy_sample("etc/calendars/local.ics", "calendars/local.ics");
    snprintf(conf, sizeof(conf), "%s/tickler.conf", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    start_service("2027-03-01T08:00:00");
}

static void start_service(const char *now_arg)
{
    memset(&s, 0, sizeof(s));
    memset(&loop, 0, sizeof(loop));
    s.env = (struct tkl_runtime_env){.config_path = conf,
                                     .plugin_dir = TICKLER_BUILD_PLUGIN_DIR,
                                     .state_dir = strdup(state),
                                     .svc = &s.svc,
                                     .now_arg = now_arg};
    ck_assert_ptr_nonnull(s.env.state_dir);
    s.svc.loop = &loop;
    s.changed = on_changed;
    s.finished = on_changed;
    s.log_level_override = 1; /* the configuration's "info" is not for tests */
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
}

static void teardown_service(void)
{
    tkl_service_stop(&s);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_service_free(&s);
    ck_assert_ptr_null(s.feeds);
}

static void teardown(void)
{
    teardown_service();
    tkl_rmtree(dir);
}

/* One GET of path (with the query key=value when key is given) at now,
 * through the page of its route. Returns what the page returned. */
static int get(const char *path, const char *key, const char *value, int64_t now,
               struct tkl_http_response *resp)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    if (key)
        ck_assert_int_eq(tkl_request_add_query(&r, key, value), 0);
    struct tkl_http_request req = {.req = &r, .now = now};
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    return r.route == TKL_ROUTE_CALENDAR_HTML ? tkl_web_calendar_html(&s, &req, resp)
                                              : tkl_web_calendar_ics(&s, &req, resp);
}

/* A GET that must succeed with 200. */
static void get_ok(const char *path, int64_t now, struct tkl_http_response *resp)
{
    ck_assert_int_eq(get(path, NULL, NULL, now, resp), 0);
    ck_assert_uint_eq(resp->status, 200);
    ck_assert_ptr_nonnull(resp->body);
    ck_assert_uint_eq(strlen(resp->body), resp->len);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* body with its folded lines joined (RFC 5545 3.1), malloc()ed. */
static char *unfolded(const char *body)
{
    char *out = strdup(body), *w = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = body; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
            p += 2; /* the line break and the space that continues it */
            continue;
        }
        *w++ = *p;
    }
    *w = '\0';
    return out;
}

/* "DTSTAMP:<t in UTC>" as a line of an ICS body. */
static void stamp_line(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
    ck_assert_uint_gt(strftime(buf, size, "\r\nDTSTAMP:%Y%m%dT%H%M%SZ\r\n", &tm), 0);
}

START_TEST(the_ics_feed_says_what_it_is)
{
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response r;
    get_ok("/calendar.ics", now, &r);
    ck_assert_str_eq(r.content_type, "text/calendar; charset=utf-8");
    ck_assert_str_eq(r.disposition, "inline; filename=\"diversity-calendar.ics\"");
    ck_assert_str_eq(r.cache, "public, max-age=3600");
    ck_assert_uint_eq(strlen(r.etag), 18);
    ck_assert_int_eq(r.etag[0], '"');
    ck_assert_int_eq(r.last_modified, now);
    ck_assert_int_eq(strncmp(r.body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nX-WR-CALNAME:Diversity calendar\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nX-PUBLISHED-TTL:PT12H\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nMETHOD:PUBLISH\r\n"));
    /* every event is stamped with the time the content was first served */
    char line[64];
    stamp_line(now, line, sizeof(line));
    ck_assert_uint_gt(count(r.body, "BEGIN:VEVENT"), 100);
    ck_assert_uint_eq(count(r.body, line), count(r.body, "BEGIN:VEVENT"));
    /* a year back and two ahead of 1 March 2027: October 2026, 2027, 2028 */
    ck_assert_uint_eq(count(r.body, "\r\nSUMMARY:Black History Month\r\n"), 3);
    ck_assert_ptr_nonnull(
        strstr(r.body, "\r\nUID:black-history-month@uk-diversity.tickler/2026-10-01\r\n"));
    /* nothing that ended more than a year back (Ramadan 2026, from 18
     * February, is still on the window's first day) */
    ck_assert_ptr_null(strstr(r.body, "/2026-01-"));
    ck_assert_ptr_nonnull(strstr(r.body, "UID:ramadan-30@uk-diversity.tickler/2026-02-18\r\n"));
    ck_assert_ptr_null(strstr(r.body, "/2029-03-")); /* more than two years ahead */
    ck_assert_int_eq(strcmp(r.body + r.len - 15, "END:VCALENDAR\r\n"), 0);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_same_content_gives_the_same_bytes)
{
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response a, b;
    get_ok("/calendar.ics", now, &a);
    get_ok("/calendar.ics", now + 600, &b); /* ten minutes on, nothing changed */
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_int_eq(memcmp(a.body, b.body, a.len), 0);
    ck_assert_str_eq(a.etag, b.etag);
    ck_assert_int_eq(b.last_modified, now);
    tkl_http_response_free(&a);
    tkl_http_response_free(&b);
    get_ok("/calendar.html", now, &a);
    get_ok("/calendar.html", now + 600, &b);
    ck_assert_str_eq(a.body, b.body);
    ck_assert_str_eq(a.etag, b.etag);
    ck_assert_int_eq(b.last_modified, now);
    tkl_http_response_free(&a);
    tkl_http_response_free(&b);
}
END_TEST

/* The value of each line of body that starts with name ("CATEGORIES:"),
 * checked to be want. Returns how many there were. */
static size_t all_lines_are(const char *body, const char *name, const char *want)
{
    size_t n = 0;
    for (const char *p = body; (p = strstr(p, name)); p++) {
        if (p[-1] != '\n')
            continue;
        const char *end = strstr(p, "\r\n");
        size_t len = strlen(name);
        ck_assert_msg((size_t)(end - p) == len + strlen(want) &&
                          !strncmp(p + len, want, end - p - len),
                      "%.*s", (int)(end - p), p);
        n++;
    }
    return n;
}

START_TEST(a_category_feed_holds_that_category_only)
{
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response all, so;
    get_ok("/calendar.ics", now, &all);
    get_ok("/calendar/sexual-orientation.ics", now, &so);
    ck_assert_str_eq(so.content_type, "text/calendar; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(so.body, "\r\nX-WR-CALNAME:Diversity calendar: sexual "
                                          "orientation\r\n"));
    size_t n = count(so.body, "BEGIN:VEVENT");
    ck_assert_uint_eq(all_lines_are(so.body, "CATEGORIES:", "sexual orientation"), n);
    ck_assert_uint_eq(count(all.body, "\r\nCATEGORIES:sexual orientation\r\n"), n);
    ck_assert_uint_eq(count(so.body, "\r\nSUMMARY:Pride Month\r\n"), 3); /* 2026 to 2028 */
    ck_assert_str_ne(so.etag, all.etag);
    tkl_http_response_free(&so);
    /* the council's own category has its feed too */
    get_ok("/calendar/wellbeing.ics", now, &so);
    ck_assert_uint_eq(all_lines_are(so.body, "CATEGORIES:", "wellbeing"), 3);
    tkl_http_response_free(&so);
    tkl_http_response_free(&all);
}
END_TEST

START_TEST(a_category_with_no_observance_is_an_empty_calendar)
{
    struct tkl_http_response r;
    get_ok("/calendar/no-such-thing.ics", tkl_service_now(&s), &r);
    ck_assert_str_eq(r.content_type, "text/calendar; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(r.body, "BEGIN:VCALENDAR\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nEND:VCALENDAR\r\n"));
    ck_assert_ptr_null(strstr(r.body, "BEGIN:VEVENT"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nX-WR-CALNAME:Diversity calendar: no-such-thing\r\n"));
    ck_assert_str_ne(r.etag, "");
    /* whoever subscribed to a mistyped name is told so in the calendar */
    char *text = unfolded(r.body);
    ck_assert_ptr_nonnull(strstr(text, "\r\nX-WR-CALDESC:No observance of this category falls "
                                       "a year back to two years ahead: its name may be "
                                       "mistyped. The index of this site's pages lists the "
                                       "calendars in use.\r\n"));
    free(text);
    tkl_http_response_free(&r);
    /* a name no observance has costs the state nothing: no stamp kept */
    int64_t at = 0;
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "feed:ics/no-such-thing", &at), -ENOENT);
    get_ok("/calendar/Wellbeing.ics", tkl_service_now(&s), &r); /* one that has, capitals and all */
    ck_assert_uint_eq(count(r.body, "CATEGORIES:wellbeing"), 3);
    text = unfolded(r.body);
    ck_assert_ptr_nonnull(strstr(text, "\r\nX-WR-CALDESC:Observances to mark\\, a year back "));
    free(text);
    tkl_http_response_free(&r);
    ck_assert_int_eq(tkl_outbox_get_meta(s.outbox, "feed:ics/wellbeing", &at), 0);
    ck_assert_int_gt(at, 0);
}
END_TEST

/* An event of local.ics, added: a title with HTML in it. */
static const char hostile[] = "BEGIN:VEVENT\r\n"
                              "UID:hostile@local.tickler\r\n"
                              "DTSTAMP:20270101T000000Z\r\n"
                              "SUMMARY:Staff <script>&\" Day\r\n"
                              "DTSTART;VALUE=DATE:20270315\r\n"
                              "CATEGORIES:wellbeing\r\n"
                              "END:VEVENT\r\n"
                              "END:VCALENDAR\r\n";

static bool hostile_read(void *arg)
{
    (void)arg;
    struct tkl_event_list l = {0};
    int32_t d = tkl_day_from_civil(2027, 3, 15);
    ck_assert_int_eq(tkl_sources_events(&s.rt->sources, d, d, &l), 0);
    bool found = false;
    for (size_t i = 0; i < l.n; i++)
        found |= !strcmp(l.v[i].id, "hostile@local.tickler/2027-03-15");
    tkl_event_list_free(&l);
    return found;
}

/* Rewrites local.ics with the hostile event and runs the loop until the
 * calendar plugin has read it (its watch, as in the daemon). */
static void edit_local_calendar(void)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/calendars/local.ics", dir);
    char *text = tkl_read_all(path, NULL);
    char *end = strstr(text, "END:VCALENDAR");
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, text), 0);
    ck_assert_int_eq(tkl_buf_puts(&b, hostile), 0);
    tkl_write_text(dir, "calendars/local.ics.new", b.data);
    char to[600];
    snprintf(to, sizeof(to), "%s/calendars/local.ics.new", dir);
    ck_assert_int_eq(rename(to, path), 0); /* as an editor saves */
    tkl_buf_free(&b);
    free(text);
    ck_assert(tkl_run_until(&loop, hostile_read, NULL, 20000));
}

START_TEST(a_changed_calendar_changes_the_feeds_it_touches)
{
    int64_t now = tkl_service_now(&s), later = now + 120;
    struct tkl_http_response all1, all2, so1, so2, w1, w2;
    get_ok("/calendar.ics", now, &all1);
    get_ok("/calendar/sexual-orientation.ics", now, &so1);
    get_ok("/calendar/wellbeing.ics", now, &w1);
    edit_local_calendar();
    get_ok("/calendar.ics", later, &all2);
    get_ok("/calendar/sexual-orientation.ics", later, &so2);
    get_ok("/calendar/wellbeing.ics", later, &w2);
    ck_assert_str_ne(all1.etag, all2.etag);
    ck_assert_int_eq(all2.last_modified, later);
    char line[64];
    stamp_line(later, line, sizeof(line));
    ck_assert_uint_eq(count(all2.body, line), count(all2.body, "BEGIN:VEVENT"));
    ck_assert_uint_eq(count(all2.body, "BEGIN:VEVENT"), count(all1.body, "BEGIN:VEVENT") + 1);
    ck_assert_ptr_nonnull(strstr(all2.body, "\r\nSUMMARY:Staff <script>&\" Day\r\n"));
    ck_assert_str_ne(w1.etag, w2.etag);
    ck_assert_int_eq(w2.last_modified, later);
    /* the other categories did not change: the same bytes */
    ck_assert_str_eq(so1.etag, so2.etag);
    ck_assert_int_eq(so2.last_modified, now);
    ck_assert_str_eq(so1.body, so2.body);
    struct tkl_http_response *v[] = {&all1, &all2, &so1, &so2, &w1, &w2};
    for (size_t i = 0; i < 6; i++)
        tkl_http_response_free(v[i]);
}
END_TEST

/* Whether no observance the sources give now is of the category wellbeing. */
static bool no_wellbeing_read(void *arg)
{
    (void)arg;
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_web_feed_events(&s, tkl_service_now(&s), &l), 0);
    bool none = true;
    for (size_t i = 0; i < l.n; i++)
        none &= !l.v[i].category || strcmp(l.v[i].category, "wellbeing") != 0;
    tkl_event_list_free(&l);
    return none;
}

/* The wellbeing week's category renamed in local.ics, its only event of
 * that category: the feed a subscriber holds of it is then an empty
 * calendar, so the client drops the events (a 404 would keep them). */
START_TEST(a_category_emptied_by_an_edit_is_an_empty_calendar)
{
    int64_t now = tkl_service_now(&s), later = now + 120;
    struct tkl_http_response before, after;
    get_ok("/calendar/wellbeing.ics", now, &before);
    ck_assert_ptr_nonnull(strstr(before.body, "BEGIN:VEVENT"));
    char path[600], to[600];
    snprintf(path, sizeof(path), "%s/calendars/local.ics", dir);
    snprintf(to, sizeof(to), "%s/calendars/local.ics.new", dir);
    char *text = tkl_read_all(path, NULL);
    char *cat = strstr(text, "CATEGORIES:wellbeing");
    ck_assert_ptr_nonnull(cat);
    memcpy(cat, "CATEGORIES:Wellness!", strlen("CATEGORIES:wellbeing")); /* as long */
    ck_assert_ptr_null(strstr(text, "CATEGORIES:wellbeing"));
    tkl_write_text(dir, "calendars/local.ics.new", text);
    ck_assert_int_eq(rename(to, path), 0);
    free(text);
    ck_assert(tkl_run_until(&loop, no_wellbeing_read, NULL, 20000));
    get_ok("/calendar/wellbeing.ics", later, &after);
    ck_assert_ptr_nonnull(strstr(after.body, "BEGIN:VCALENDAR\r\n"));
    ck_assert_ptr_null(strstr(after.body, "BEGIN:VEVENT"));
    ck_assert_str_ne(before.etag, after.etag);
    tkl_http_response_free(&before);
    tkl_http_response_free(&after);
}
END_TEST

START_TEST(a_change_within_the_second_is_still_later)
{
    /* If-Modified-Since has whole seconds: content that changed within the
     * second it was first served must not look unmodified */
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response a, b;
    get_ok("/calendar.ics", now, &a);
    edit_local_calendar();
    get_ok("/calendar.ics", now, &b);
    ck_assert_str_ne(a.etag, b.etag);
    ck_assert_int_gt(b.last_modified, a.last_modified);
    tkl_http_response_free(&a);
    tkl_http_response_free(&b);
}
END_TEST

START_TEST(the_page_is_for_a4_with_the_year_at_a_glance)
{
    edit_local_calendar();
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response r;
    get_ok("/calendar.html", now, &r);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(r.disposition, "");
    ck_assert_str_eq(r.cache, "public, max-age=3600");
    ck_assert_uint_eq(strlen(r.etag), 18);
    ck_assert_int_eq(r.last_modified, now);
    ck_assert_int_eq(strncmp(r.body, "<!DOCTYPE html>", 15), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "<h1>Diversity calendar 2027</h1>")); /* this year */
    ck_assert_ptr_nonnull(strstr(r.body, "@page{size:A4;"));
    ck_assert_ptr_nonnull(strstr(r.body, "<figure class=\"glance\">"));
    ck_assert_uint_eq(count(r.body, "<table class=\"mini\">"), 12);
    ck_assert_uint_eq(count(r.body, "<section>"), 12);
    ck_assert_ptr_nonnull(strstr(r.body, "<h2>October 2027</h2>"));
    ck_assert_ptr_nonnull(strstr(r.body, "Black History Month"));
    /* the calendar's text is escaped wherever it is shown */
    ck_assert_ptr_null(strstr(r.body, "<script"));
    ck_assert_ptr_nonnull(strstr(r.body, "<strong>Staff &lt;script&gt;&amp;&quot; Day</strong>"));
    ck_assert_ptr_nonnull(strstr(r.body, "title=\"Staff &lt;script&gt;&amp;&quot; Day "
                                         "(wellbeing)\">15</td>"));
    /* no style attribute: a policy allowing only the page's <style> shows it */
    ck_assert_ptr_null(strstr(r.body, "style=\""));
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_page_of_another_year)
{
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response r;
    ck_assert_int_eq(get("/calendar.html", "year", "2028", now, &r), 0);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<h1>Diversity calendar 2028</h1>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<h2>December 2028</h2>"));
    ck_assert_ptr_null(strstr(r.body, "<h2>December 2027</h2>"));
    tkl_http_response_free(&r);
    /* every year kept apart, more than the feeds remembered */
    for (int y = 1990; y <= 2070; y++) {
        char year[12];
        snprintf(year, sizeof(year), "%d", y);
        ck_assert_int_eq(get("/calendar.html", "year", year, now, &r), 0);
        ck_assert_uint_eq(r.status, 200);
        char h1[64];
        snprintf(h1, sizeof(h1), "<h1>Diversity calendar %d</h1>", y);
        ck_assert_ptr_nonnull(strstr(r.body, h1));
        tkl_http_response_free(&r);
    }
}
END_TEST

/* An unchanged calendar keeps its entity tag and date however many pages
 * are asked for meanwhile, and across a restart of the daemon. */
START_TEST(an_unchanged_calendar_stays_unchanged_for_its_subscribers)
{
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response a, b;
    get_ok("/calendar.ics", now, &a);
    for (int y = 1990; y <= 2070; y++) { /* far more pages than are remembered */
        char year[12];
        snprintf(year, sizeof(year), "%d", y);
        ck_assert_int_eq(get("/calendar.html", "year", year, now + 60, &b), 0);
        tkl_http_response_free(&b);
    }
    get_ok("/calendar.ics", now + 120, &b);
    ck_assert_str_eq(a.etag, b.etag);
    ck_assert_int_eq(b.last_modified, now);
    tkl_http_response_free(&b);
    /* the daemon restarts an hour later, on the same state directory */
    teardown_service();
    start_service("2027-03-01T09:00:00");
    get_ok("/calendar.ics", tkl_service_now(&s), &b);
    ck_assert_str_eq(a.etag, b.etag);
    ck_assert_int_eq(b.last_modified, now);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_int_eq(memcmp(a.body, b.body, a.len), 0);
    tkl_http_response_free(&a);
    tkl_http_response_free(&b);
}
END_TEST

/* The council names its calendar (calendar.title): every feed and page
 * says so, the ICS as escaped, folded TEXT, the page as escaped HTML. */
START_TEST(the_council_names_its_calendar)
{
    static const char title[] = "Maidstone Borough Council \u2013 equality, diversity & "
                                "inclusion; <dates> \\ 2027";
    char path[400];
    snprintf(path, sizeof(path), "%s/tickler.conf", dir);
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "calendar = { title = \"Maidstone Borough Council \u2013 equality, diversity & "
               "inclusion; <dates> \\\\ 2027\"; };\n");
    ck_assert_int_eq(fclose(f), 0);
    teardown_service();
    start_service("2027-03-01T08:00:00");
    ck_assert_str_eq(s.rt->cfg->calendar_title, title);
    int64_t now = tkl_service_now(&s);
    struct tkl_http_response r;
    get_ok("/calendar.ics", now, &r);
    char *text = unfolded(r.body);
    ck_assert_ptr_nonnull(strstr(text, "\r\nX-WR-CALNAME:Maidstone Borough Council \u2013 "
                                       "equality\\, diversity & inclusion\\; <dates> \\\\ "
                                       "2027\r\n"));
    free(text);
    /* folded: no line of the body is longer than 75 octets */
    for (const char *p = r.body, *end; (end = strstr(p, "\r\n")); p = end + 2)
        ck_assert_int_le(end - p, 75);
    ck_assert_ptr_null(strstr(r.body, "Diversity calendar"));
    tkl_http_response_free(&r);
    get_ok("/calendar/sexual-orientation.ics", now, &r);
    text = unfolded(r.body);
    ck_assert_ptr_nonnull(strstr(text, "\r\nX-WR-CALNAME:Maidstone Borough Council \u2013 "
                                       "equality\\, diversity & inclusion\\; <dates> \\\\ "
                                       "2027: sexual orientation\r\n"));
    free(text);
    tkl_http_response_free(&r);
    get_ok("/calendar.html", now, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "<title>Maidstone Borough Council \u2013 equality, "
                                         "diversity &amp; inclusion; &lt;dates&gt; \\ 2027 "
                                         "2027</title>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<h1>Maidstone Borough Council \u2013 equality, "
                                         "diversity &amp; inclusion; &lt;dates&gt; \\ 2027 "
                                         "2027</h1>"));
    ck_assert_ptr_null(strstr(r.body, "<dates>"));
    tkl_http_response_free(&r);
}
END_TEST

/* Whether value may be sent as a header's value: printable ASCII, its
 * only quotes the two around the filename. */
static bool header_safe(const char *value)
{
    size_t quotes = 0;
    for (const char *p = value; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            return false;
        quotes += *p == '"';
    }
    return quotes == 2;
}

/* A calendar downloaded is named by calendar.title as it is when asked
 * for: an ASCII file name made from it (a category's with its slug after
 * it), "calendar" when it has no ASCII letter or digit, and the title's
 * own characters percent-encoded in filename* (RFC 6266, 5987) when it is
 * UTF-8 that is not plain ASCII and fits; never a quote or a control
 * character of the title's in the header. */
START_TEST(an_ics_download_is_named_by_the_title)
{
    static char huge[1201];
    for (size_t i = 0; i < 300; i++)
        memcpy(huge + 4 * i, "\xf0\x9f\x8c\x88", 4); /* U+1F308 */
    static const struct {
        const char *title, *all, *race;
    } cases[] = {
        {"Diversity calendar", "inline; filename=\"diversity-calendar.ics\"",
         "inline; filename=\"diversity-calendar-race.ics\""},
        {"Kent \"equality\" dates", "inline; filename=\"kent-equality-dates.ics\"",
         "inline; filename=\"kent-equality-dates-race.ics\""},
        {"  --Pride & Joy!!  ", "inline; filename=\"pride-joy.ics\"",
         "inline; filename=\"pride-joy-race.ics\""},
        {"Maidstone \u2013 \u00e9quit\u00e9 2027",
         "inline; filename=\"maidstone-quit-2027.ics\"; "
         "filename*=UTF-8''Maidstone%20%E2%80%93%20%C3%A9quit%C3%A9%202027.ics",
         "inline; filename=\"maidstone-quit-2027-race.ics\"; "
         "filename*=UTF-8''Maidstone%20%E2%80%93%20%C3%A9quit%C3%A9%202027-race.ics"},
        {"\u041a\u0430\u043b\u0435\u043d\u0434\u0430\u0440\u044c \"x\"/1",
         "inline; filename=\"x-1.ics\"; "
         "filename*=UTF-8''%D0%9A%D0%B0%D0%BB%D0%B5%D0%BD%D0%B4%D0%B0%D1%80%D1%8C%20%22x%22%2F1."
         "ics",
         "inline; filename=\"x-1-race.ics\"; "
         "filename*=UTF-8''%D0%9A%D0%B0%D0%BB%D0%B5%D0%BD%D0%B4%D0%B0%D1%80%D1%8C%20%22x%22%2F1-"
         "race.ics"},
        {"\u00e9\u00e9", "inline; filename=\"calendar.ics\"; filename*=UTF-8''%C3%A9%C3%A9.ics",
         "inline; filename=\"calendar-race.ics\"; filename*=UTF-8''%C3%A9%C3%A9-race.ics"},
        /* not UTF-8: the ASCII name alone */
        {"Caf\xe9 dates", "inline; filename=\"caf-dates.ics\"",
         "inline; filename=\"caf-dates-race.ics\""},
        /* too long to encode whole: the ASCII name alone */
        {huge, "inline; filename=\"calendar.ics\"", "inline; filename=\"calendar-race.ics\""},
    };
    int64_t now = tkl_service_now(&s);
    char *was = s.rt->cfg->calendar_title;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        s.rt->cfg->calendar_title = (char *)cases[k].title;
        struct tkl_http_response r;
        get_ok("/calendar.ics", now, &r);
        ck_assert_str_eq(r.disposition, cases[k].all);
        ck_assert(header_safe(r.disposition));
        tkl_http_response_free(&r);
        get_ok("/calendar/race.ics", now, &r);
        ck_assert_str_eq(r.disposition, cases[k].race);
        ck_assert(header_safe(r.disposition));
        tkl_http_response_free(&r);
        /* a category no observance has is named the same way */
        get_ok("/calendar/no-such-thing.ics", now, &r);
        ck_assert_ptr_nonnull(strstr(r.disposition, "-no-such-thing.ics"));
        ck_assert(header_safe(r.disposition));
        tkl_http_response_free(&r);
        get_ok("/calendar.html", now, &r);
        ck_assert_str_eq(r.disposition, "");
        tkl_http_response_free(&r);
    }
    s.rt->cfg->calendar_title = was;
}
END_TEST

START_TEST(a_bad_year_is_400)
{
    static const char *const bad[] = {"abcd", "202", "02027", "+202", "1976", "2078", "", "2027 "};
    struct tkl_http_response r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(get("/calendar.html", "year", bad[i], tkl_service_now(&s), &r), 0);
        ck_assert_msg(r.status == 400, "year=%s gave %u", bad[i], r.status);
        ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
        ck_assert_ptr_nonnull(strstr(r.body, "year"));
        tkl_http_response_free(&r);
    }
    /* the year given twice */
    struct tkl_request q;
    ck_assert_int_eq(tkl_request_route("/calendar.html", &q), 0);
    ck_assert_int_eq(tkl_request_add_query(&q, "year", "2027"), 0);
    ck_assert_int_eq(tkl_request_add_query(&q, "year", "2028"), 0);
    struct tkl_http_request req = {.req = &q, .now = tkl_service_now(&s)};
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(tkl_web_calendar_html(&s, &req, &r), 0);
    ck_assert_uint_eq(r.status, 400);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(no_feed_before_the_service_is_loaded)
{
    struct tkl_service empty = {0};
    struct tkl_request q;
    ck_assert_int_eq(tkl_request_route("/calendar.ics", &q), 0);
    struct tkl_http_request req = {.req = &q, .now = tkl_service_now(&s)};
    struct tkl_http_response r = {0};
    ck_assert_int_eq(tkl_web_calendar_ics(&empty, &req, &r), -EAGAIN);
    ck_assert_int_eq(tkl_request_route("/calendar.html", &q), 0);
    ck_assert_int_eq(tkl_web_calendar_html(&empty, &req, &r), -EAGAIN);
    ck_assert_ptr_null(r.body);
    ck_assert_ptr_null(empty.feeds);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("feeds");
    TCase *tc = tcase_create("feeds");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_ics_feed_says_what_it_is);
    tcase_add_test(tc, the_same_content_gives_the_same_bytes);
    tcase_add_test(tc, a_category_feed_holds_that_category_only);
    tcase_add_test(tc, a_category_with_no_observance_is_an_empty_calendar);
    tcase_add_test(tc, a_category_emptied_by_an_edit_is_an_empty_calendar);
    tcase_add_test(tc, a_changed_calendar_changes_the_feeds_it_touches);
    tcase_add_test(tc, a_change_within_the_second_is_still_later);
    tcase_add_test(tc, the_page_is_for_a4_with_the_year_at_a_glance);
    tcase_add_test(tc, the_page_of_another_year);
    tcase_add_test(tc, an_unchanged_calendar_stays_unchanged_for_its_subscribers);
    tcase_add_test(tc, the_council_names_its_calendar);
    tcase_add_test(tc, an_ics_download_is_named_by_the_title);
    tcase_add_test(tc, a_bad_year_is_400);
    tcase_add_test(tc, no_feed_before_the_service_is_loaded);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}
