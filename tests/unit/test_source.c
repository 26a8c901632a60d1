/* Tests for daemon/source/source.c with real source plugins: the calendar
 * plugin of the build reading a small .ics file, and the suite's test
 * source (tests/plugins/items.c), configured by a real configuration file
 * and opened as the daemon opens them. Items become events in order, with
 * their source and teams; observances join the store in the window around
 * today; a source that fails, or gives an item without an id, changes
 * nothing. */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/day.h"
#include "core/log.h"
#include "source/source.h"

static char dir[256];
static uv_loop_t loop;
static struct tkl_host_services svc;
static struct tkl_config *cfg;
static struct tkl_plugin_set set;
static struct tkl_sources view;

static const char ics[] = "BEGIN:VCALENDAR\r\n"
                          "VERSION:2.0\r\n"
                          "PRODID:-//tickler//test//EN\r\n"
                          "BEGIN:VEVENT\r\n"
                          "UID:pride@test\r\n"
                          "DTSTAMP:20261123T090000Z\r\n"
                          "SUMMARY:Pride Month\r\n"
                          "DTSTART;VALUE=DATE:20270601\r\n"
                          "DTEND;VALUE=DATE:20270701\r\n"
                          "RRULE:FREQ=YEARLY\r\n"
                          "CATEGORIES:sexual orientation\r\n"
                          "DESCRIPTION:Fly the flag\\, brief the press\r\n"
                          "URL:https://example.org/pride\r\n"
                          "END:VEVENT\r\n"
                          "BEGIN:VEVENT\r\n"
                          "UID:carers@test\r\n"
                          "DTSTAMP:20261123T090000Z\r\n"
                          "SUMMARY:Carers Week\r\n"
                          "DTSTART;VALUE=DATE:20270607\r\n"
                          "DURATION:P7D\r\n"
                          "CATEGORIES:disability\r\n"
                          "X-TICKLER-TEAMS:hr,nosuch\r\n"
                          "END:VEVENT\r\n"
                          "BEGIN:VEVENT\r\n"
                          "UID:hmd@test\r\n"
                          "DTSTAMP:20261123T090000Z\r\n"
                          "SUMMARY:Holocaust Memorial Day\r\n"
                          "DTSTART;VALUE=DATE:20270127\r\n"
                          "RRULE:FREQ=YEARLY\r\n"
                          "CATEGORIES:religion or belief\r\n"
                          "END:VEVENT\r\n"
                          "END:VCALENDAR\r\n";

static int32_t day(int y, int m, int d)
{
    return tkl_day_from_civil(y, m, d);
}

/* Writes the configuration with the settings of the test source "local"
 * (NULL: no sources at all), and opens its sources as the daemon does. */
static void open_sources(const char *local_settings)
{
    char conf[8192];
    int n = snprintf(conf, sizeof(conf),
                     "store = { files = [ \"plan.csv\" ]; };\n"
                     "teams = (\n"
                     "  { id = \"comms\"; name = \"Communications\"; },\n"
                     "  { id = \"hr\"; name = \"Human Resources\"; aliases = [ \"HR\" ]; }\n"
                     ");\n");
    if (local_settings)
        n += snprintf(conf + n, sizeof(conf) - (size_t)n,
                      "sources = (\n"
                      "  { name = \"diversity\"; plugin = \"calendar\"; team = \"comms\";\n"
                      "    settings = { files = [ \"cal.ics\" ]; }; },\n"
                      "  { name = \"local\"; plugin = \"items\"; team = \"hr\";\n"
                      "    settings = { %s }; }\n"
                      ");\n",
                      local_settings);
    ck_assert_uint_lt((size_t)n, sizeof(conf));
    const char *path = tkl_write_text(dir, "tickler.conf", conf);
    struct tkl_diags d = {0};
    int r = tkl_config_load(path, &cfg, &d);
    if (r < 0)
        tkl_diags_print(&d, stderr);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(d.n_errors, 0);
    tkl_diags_free(&d); /* the warnings that no team has recipients */
    d = (struct tkl_diags){0};
    char plugins[300];
    snprintf(plugins, sizeof(plugins), "%s/plugins", dir);
    r = tkl_plugin_set_open(plugins, &cfg->plugins, TKL_PLUGIN_SOURCE, &svc, dir, &set, &d);
    if (r < 0)
        tkl_diags_print(&d, stderr);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(tkl_sources_view(&set, cfg->sources, &view), 0);
    tkl_diags_free(&d);
}

/* The plan: one action, as a spreadsheet exports it. */
static struct tkl_store *load_plan(void)
{
    struct tkl_diags d = {0};
    struct tkl_store *store = NULL;
    ck_assert_int_eq(tkl_store_load(&cfg->store, &cfg->teams, &store, &d), 0);
    ck_assert_uint_eq(store->n, 1);
    tkl_diags_free(&d);
    return store;
}

static void setup(void)
{
    tkl_log_set_level(TKL_LOG_NOTICE); /* the calendar's counts are info */
    tkl_tmpdir(dir, sizeof(dir), "source");
    char path[600];
    snprintf(path, sizeof(path), "%s/plugins", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    /* the calendar plugin of this build and the suite's test source, side
     * by side in one plugin directory */
    snprintf(path, sizeof(path), "%s/plugins/calendar.so", dir);
    ck_assert_int_eq(symlink(TICKLER_BUILD_PLUGIN_DIR "/calendar.so", path), 0);
    snprintf(path, sizeof(path), "%s/plugins/items.so", dir);
    ck_assert_int_eq(symlink(TEST_PLUGIN_DIR "/items.so", path), 0);
    tkl_write_text(dir, "cal.ics", ics);
    tkl_write_text(dir, "plan.csv",
                   "Ref,Action,Responsibility,Deadline\n"
                   "A1,Train staff,HR,April 2027\n");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    memset(&svc, 0, sizeof(svc));
    svc.loop = &loop;
    cfg = NULL;
    memset(&set, 0, sizeof(set));
    memset(&view, 0, sizeof(view));
}

static void teardown(void)
{
    tkl_sources_close(&view);
    tkl_plugin_set_close(&set);
    tkl_config_free(cfg);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_rmtree(dir);
}

/* The test source's items: a week in May (an item of the layout before
 * file and line), one on the first day of Pride Month (of an older,
 * shorter layout still), and one whose end is before its start. */
static char local_items[1024];

static const char *local(const char *extra)
{
    snprintf(local_items, sizeof(local_items),
             "items = ("
             " { id = \"wellbeing\"; title = \"Staff Wellbeing Week\"; start = %d; end = %d;"
             "   category = \"wellbeing\"; url = \"https://example.org/w\"; teams = [ \"comms\" ];"
             "   old = true; },"
             " { id = \"awards\"; title = \"Awards\"; start = %d; short = true;"
             "   url = \"https://example.org/not-in-an-old-item\"; },"
             " { id = \"backwards\"; title = \"Backwards\"; start = %d; end = %d; }"
             " ); %s",
             day(2027, 5, 10), day(2027, 5, 14), day(2027, 6, 1), day(2027, 7, 1), day(2027, 6, 30),
             extra);
    return local_items;
}

START_TEST(the_view_names_each_source_and_its_team)
{
    open_sources(local(""));
    ck_assert_uint_eq(view.n, 2);
    ck_assert_str_eq(view.v[0].plugin->instance, "diversity");
    ck_assert_str_eq(view.v[0].plugin->desc->name, "calendar");
    ck_assert_str_eq(view.v[0].team, "comms");
    ck_assert_str_eq(view.v[1].plugin->instance, "local");
    ck_assert_str_eq(view.v[1].team, "hr");
}
END_TEST

START_TEST(items_of_every_source_become_events_in_order)
{
    open_sources(local(""));
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, day(2027, 5, 1), day(2027, 6, 30), &l), 0);
    ck_assert_uint_eq(l.n, 4);
    /* by first day, then title: "Awards" before "Pride Month" on 1 June */
    const struct tkl_event *w = &l.v[0], *a = &l.v[1], *p = &l.v[2], *c = &l.v[3];
    ck_assert_str_eq(w->id, "wellbeing");
    ck_assert_str_eq(w->source, "local");
    ck_assert_str_eq(w->team, "hr");
    ck_assert_int_eq(w->first_day, day(2027, 5, 10));
    ck_assert_int_eq(w->last_day, day(2027, 5, 14));
    ck_assert_str_eq(w->category, "wellbeing");
    ck_assert_str_eq(w->url, "https://example.org/w");
    ck_assert_uint_eq(w->n_teams, 1);
    ck_assert_str_eq(w->teams[0], "comms");
    ck_assert_ptr_null(w->description);
    ck_assert_ptr_null(w->file); /* the item's size does not cover file and line */
    ck_assert_uint_eq(w->line, 0);
    ck_assert_str_eq(a->title, "Awards");
    ck_assert_ptr_null(a->url); /* the item's size does not cover url */
    ck_assert_ptr_null(a->file);
    ck_assert_int_eq(a->last_day, a->first_day);
    ck_assert_str_eq(p->id, "pride@test/2027-06-01");
    ck_assert_str_eq(p->title, "Pride Month");
    ck_assert_str_eq(p->source, "diversity");
    ck_assert_str_eq(p->team, "comms");
    ck_assert_int_eq(p->first_day, day(2027, 6, 1));
    ck_assert_int_eq(p->last_day, day(2027, 6, 30)); /* DTEND is exclusive */
    ck_assert_str_eq(p->category, "sexual orientation");
    ck_assert_str_eq(p->description, "Fly the flag, brief the press");
    ck_assert_str_eq(p->url, "https://example.org/pride");
    ck_assert_uint_eq(p->n_teams, 0);
    /* where each event is written: the file and its BEGIN:VEVENT line */
    char ics_path[300];
    snprintf(ics_path, sizeof(ics_path), "%s/cal.ics", dir);
    ck_assert_str_eq(p->file, ics_path);
    ck_assert_uint_eq(p->line, 4);
    ck_assert_str_eq(c->file, ics_path);
    ck_assert_uint_eq(c->line, 15);
    ck_assert_str_eq(c->id, "carers@test/2027-06-07");
    ck_assert_int_eq(c->last_day, day(2027, 6, 13));
    ck_assert_uint_eq(c->n_teams, 2);
    ck_assert_str_eq(c->teams[0], "hr");
    ck_assert_str_eq(c->teams[1], "nosuch");
    tkl_event_list_free(&l);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_null(l.v);
}
END_TEST

/* A source's text that is not UTF-8 is read as Windows-1252, as a plan's
 * is (each stray byte of a text mostly UTF-8, else the whole): no feed,
 * page or message gets bytes that are not UTF-8. */
START_TEST(an_item_text_that_is_not_utf8_is_read_as_windows_1252)
{
    char extra[512];
    snprintf(
        extra, sizeof(extra),
        "items = ( { id = \"caf\xe9\"; title = \"Caf\xe9 \x96 \x80\x80\x80\"; start = %d;"
        " description = \"fine \xc3\xa9\"; category = \"caf\xc3\xa9 \xe2\x80\x93 it\x92s\"; } );",
        day(2027, 5, 10));
    open_sources(extra);
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, day(2027, 5, 1), day(2027, 5, 31), &l), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].id, "caf\xc3\xa9");
    ck_assert_str_eq(l.v[0].title, "Caf\xc3\xa9 \xe2\x80\x93 \xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
    ck_assert_str_eq(l.v[0].description, "fine \xc3\xa9"); /* UTF-8 already: as it is */
    ck_assert_str_eq(l.v[0].category, "caf\xc3\xa9 \xe2\x80\x93 it\xe2\x80\x99s");
    tkl_event_list_free(&l);
}
END_TEST

START_TEST(recurring_items_give_each_occurrence_in_the_range)
{
    open_sources(local(""));
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, day(2027, 1, 1), day(2028, 12, 31), &l), 0);
    int pride = 0, hmd = 0;
    for (size_t i = 0; i < l.n; i++) {
        pride += strncmp(l.v[i].id, "pride@test/", 11) == 0;
        hmd += strncmp(l.v[i].id, "hmd@test/", 9) == 0;
        if (i)
            ck_assert_int_le(l.v[i - 1].first_day, l.v[i].first_day);
    }
    ck_assert_int_eq(pride, 2);
    ck_assert_int_eq(hmd, 2);
    ck_assert_uint_eq(l.n, 2 + 2 + 1 + 3); /* and Carers Week and the three items */
    ck_assert_str_eq(l.v[0].id, "hmd@test/2027-01-27");
    ck_assert_str_eq(l.v[l.n - 1].id, "pride@test/2028-06-01");
    tkl_event_list_free(&l);
    /* a range with nothing in it */
    ck_assert_int_eq(tkl_sources_events(&view, day(2027, 2, 1), day(2027, 2, 28), &l), 0);
    ck_assert_uint_eq(l.n, 0);
    tkl_event_list_free(&l);
}
END_TEST

START_TEST(observances_around_today_join_the_store)
{
    open_sources(local(""));
    struct tkl_store *store = load_plan();
    struct tkl_diags d = {0};
    /* [today - 7, today + 400]: 25 May 2027 to 5 July 2028 */
    int32_t today = day(2027, 6, 1);
    ck_assert_int_eq(tkl_sources_add_to_store(&view, today, store, &cfg->teams, &d), 0);
    /* Pride Month 2027 and 2028, Carers Week, Awards, Backwards, and
     * Holocaust Memorial Day 2028; not the Wellbeing Week that ended */
    ck_assert_uint_eq(store->n_events, 6);
    ck_assert_uint_eq(store->n, 7);
    ck_assert_ptr_nonnull(tkl_store_find(store, "A1"));
    ck_assert_ptr_null(tkl_store_find(store, "wellbeing"));
    ck_assert_ptr_null(tkl_store_find(store, "hmd@test/2027-01-27"));
    ck_assert_ptr_nonnull(tkl_store_find(store, "hmd@test/2028-01-27"));
    ck_assert_ptr_nonnull(tkl_store_find(store, "pride@test/2028-06-01"));
    const struct tkl_action *p = tkl_store_find(store, "pride@test/2027-06-01");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->deadline.kind, TKL_DEADLINE_EVENT);
    ck_assert_int_eq(p->deadline.day, day(2027, 6, 1));
    ck_assert_int_eq(p->deadline.last_day, day(2027, 6, 30));
    ck_assert_str_eq(p->file, "diversity");
    ck_assert_str_eq(p->owners, "Communications");
    ck_assert_str_eq(tkl_action_rare(p)->category, "sexual orientation");
    /* Carers Week: the source's team and the teams it names that exist */
    const struct tkl_action *c = tkl_store_find(store, "carers@test/2027-06-07");
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_teams, 2);
    ck_assert_str_eq(c->owners, "Communications, Human Resources");
    ck_assert_uint_eq(tkl_action_rare(c)->n_unmatched, 1);
    ck_assert_str_eq(tkl_action_rare(c)->unmatched[0], "nosuch");
    /* the team that is not one is a warning at the event's file and line */
    ck_assert_uint_eq(d.n, 1);
    ck_assert_uint_eq(d.n_errors, 0);
    char ics_path[300];
    snprintf(ics_path, sizeof(ics_path), "%s/cal.ics", dir);
    ck_assert_str_eq(d.items[0].file, ics_path);
    ck_assert_uint_eq(d.items[0].line, 15);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "\"nosuch\""));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "Carers Week"));
    tkl_diags_free(&d);
    tkl_store_free(store);
}
END_TEST

START_TEST(a_source_that_fails_changes_nothing)
{
    open_sources(local("fail_after = 1;"));
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, day(2027, 1, 1), day(2028, 12, 31), &l), -EIO);
    ck_assert_uint_eq(l.n, 0); /* what the other source gave is dropped too */
    ck_assert_ptr_null(l.v);
    struct tkl_store *store = load_plan();
    struct tkl_diags d = {0};
    ck_assert_int_eq(tkl_sources_add_to_store(&view, day(2027, 6, 1), store, &cfg->teams, &d),
                     -EIO);
    ck_assert_uint_eq(store->n, 1);
    ck_assert_uint_eq(store->n_events, 0);
    ck_assert_ptr_nonnull(tkl_store_find(store, "A1"));
    tkl_diags_free(&d);
    tkl_store_free(store);
}
END_TEST

START_TEST(an_item_without_an_id_is_refused)
{
    open_sources("items = ( { id = \"x\"; title = \"No id\"; start = 20605; no_id = true; } );");
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, 20600, 20610, &l), -EINVAL);
    ck_assert_uint_eq(l.n, 0);
    struct tkl_store *store = load_plan();
    struct tkl_diags d = {0};
    ck_assert_int_eq(tkl_sources_add_to_store(&view, 20605, store, &cfg->teams, &d), -EINVAL);
    ck_assert_uint_eq(store->n, 1);
    tkl_diags_free(&d);
    tkl_store_free(store);
}
END_TEST

START_TEST(no_sources_no_observances)
{
    open_sources(NULL);
    ck_assert_uint_eq(view.n, 0);
    struct tkl_event_list l = {0};
    ck_assert_int_eq(tkl_sources_events(&view, 0, 100000, &l), 0);
    ck_assert_uint_eq(l.n, 0);
    tkl_event_list_free(&l);
    struct tkl_store *store = load_plan();
    struct tkl_diags d = {0};
    ck_assert_int_eq(tkl_sources_add_to_store(&view, day(2027, 6, 1), store, &cfg->teams, &d), 0);
    ck_assert_uint_eq(store->n, 1);
    ck_assert_uint_eq(d.n, 0);
    tkl_store_free(store);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("source");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_view_names_each_source_and_its_team);
    tcase_add_test(tc, items_of_every_source_become_events_in_order);
    tcase_add_test(tc, an_item_text_that_is_not_utf8_is_read_as_windows_1252);
    tcase_add_test(tc, recurring_items_give_each_occurrence_in_the_range);
    tcase_add_test(tc, observances_around_today_join_the_store);
    tcase_add_test(tc, a_source_that_fails_changes_nothing);
    tcase_add_test(tc, an_item_without_an_id_is_refused);
    tcase_add_test(tc, no_sources_no_observances);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
