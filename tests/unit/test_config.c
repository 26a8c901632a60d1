/* Tests for daemon/config/config.c, the whole configuration: the shipped
 * file is valid; the slices are read by their steps and the references
 * between them are checked; mistakes are errors naming file and line. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static char path[256];

static void write_conf(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/tickler-test-config-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Whether d has a problem of severity sev at line whose message holds text. */
static bool severity_at(const struct tkl_diags *d, enum tkl_severity sev, unsigned line,
                        const char *text)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].line == line && strstr(d->items[i].message, text) &&
            d->items[i].severity == sev)
            return true;
    return false;
}

static bool diag_at(const struct tkl_diags *d, unsigned line, const char *text)
{
    return severity_at(d, TKL_SEV_ERROR, line, text);
}

START_TEST(shipped_config_is_valid)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(TICKLER_SOURCE_DIR "/etc/tickler.conf", &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(c->n_notifiers, 1);
    ck_assert_ptr_nonnull(tkl_team_find(&c->teams, "pce"));
    ck_assert_int_eq(c->schedule.policy.send_minute, 9 * 60);
    ck_assert_uint_eq(c->schedule.policy.rules.ladder.n, 5);
    tkl_config_free(c);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(unknown_key_names_its_line)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "schedule = {\n"
               "  send_tme = \"09:00\";\n"
               "};\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert_ptr_null(c);
    ck_assert(diag_at(&d, 3, "unknown key \"send_tme\""));
    ck_assert_str_eq(d.items[0].file, path);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

START_TEST(syntax_error_names_its_line)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n\nschedule = { send_time = 09:00; };\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 3, "syntax error"));
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

START_TEST(bad_values_are_reported)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "daemon = { timezone = \"Europe/Atlantis\"; };\n"
               "schedule = { ladder = [ 7, -1 ]; holidays = { add = [ \"2023-02-30\" ]; }; };\n"
               "notifiers = ( { name = \"email\"; plugin = \"maildir\"; } );\n"
               "teams = ( { id = \"hr\"; recipients = { sms = [ \"x\" ]; email = [ \"a@b, c@d\" ]; "
               "}; } );\n"
               "fallback_team = \"nobody\";\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 2, "unknown time zone"));
    ck_assert(diag_at(&d, 3, "lead times"));
    ck_assert(diag_at(&d, 3, "2023-02-30"));
    ck_assert(diag_at(&d, 5, "\"sms\" is not the name of a configured notifier"));
    ck_assert(diag_at(&d, 5, "one plain address per string"));
    ck_assert(diag_at(&d, 6, "fallback_team names no team"));
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

START_TEST(team_rules_override_the_schedule)
{
    write_conf(
        "store = { files = [ \"x.csv\" ]; };\n"
        "schedule = { ladder = [ 14, 0 ]; overdue_every_days = 7; escalate_after_weeks = 4; };\n"
        "teams = ( { id = \"hr\"; overdue_every_days = 14; },\n"
        "          { id = \"ict\"; ladder = [ 28, 7 ]; review_ladder = [ 3 ]; escalate_after_weeks "
        "= 0; },\n"
        "          { id = \"housing\"; } );\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    const struct tkl_rules *hr = tkl_schedule_team_rules(&c->schedule, 0),
                           *ict = tkl_schedule_team_rules(&c->schedule, 1),
                           *housing = tkl_schedule_team_rules(&c->schedule, 2);
    /* hr: its own nag interval, the schedule's ladder and escalation */
    ck_assert_int_eq(hr->overdue_every_days, 14);
    ck_assert_int_eq(hr->escalate_after_weeks, 4);
    ck_assert_uint_eq(hr->ladder.n, 2);
    ck_assert_int_eq(hr->ladder.lead[0], 14);
    /* ict: its own ladders and no escalation, the schedule's nags */
    ck_assert_uint_eq(ict->ladder.n, 2);
    ck_assert_int_eq(ict->ladder.lead[0], 28);
    ck_assert_uint_eq(ict->review.n, 1);
    ck_assert_int_eq(ict->review.lead[0], 3);
    ck_assert_int_eq(ict->escalate_after_weeks, 0);
    ck_assert_int_eq(ict->overdue_every_days, 7);
    /* housing: the schedule's rules, review ladder = ladder */
    ck_assert_uint_eq(housing->review.n, 2);
    ck_assert_int_eq(housing->overdue_every_days, 7);
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

/* libconfig 1.5 ends the process on an @include of "" or a directory: the
 * loader must refuse those itself, naming the line, and the process goes
 * on. A good @include still works. */
START_TEST(includes_are_checked)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    static const char *const bad[] = {"@include \"\"\n", "@include \"/tmp\"\n",
                                      "@include \"x\\\"y\"\n", "@include nothing\n"};
    static const char *const why[] = {"needs a file name", "\"/tmp\": not a regular file",
                                      "needs a file name", "needs a file name"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char text[256];
        snprintf(text, sizeof(text), "store = { files = [ \"x.csv\" ]; };\n\n%s", bad[i]);
        write_conf(text);
        ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_msg(diag_at(&d, 3, why[i]), "case %zu", i);
        tkl_diags_free(&d);
        d = (struct tkl_diags){0};
    }
    /* a missing file is libconfig's to report */
    write_conf("@include \"no-such-file.conf\"\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 1, "cannot open include file") || diag_at(&d, 1, "No such file"));
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    /* the teams in a file of their own */
    char inc[300];
    snprintf(inc, sizeof(inc), "%s.teams", path);
    FILE *f = fopen(inc, "w");
    ck_assert_ptr_nonnull(f);
    fputs("teams = ( { id = \"hr\"; name = \"HR\"; } );\n", f);
    fclose(f);
    char text[600];
    snprintf(text, sizeof(text), "store = { files = [ \"x.csv\" ]; };\n  @include \"%s\"\n",
             strrchr(inc, '/') + 1);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_ptr_nonnull(tkl_team_find(&c->teams, "hr"));
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(inc);
    unlink(path);
}
END_TEST

START_TEST(references_between_slices_are_checked)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "schedule = { escalate_to = \"board\"; };\n"
               "delivery = { report_to = \"admin\"; };\n"
               "teams = ( { id = \"hr\"; } );\n"
               "sources = ( { name = \"diversity\"; plugin = \"calendar\"; team = \"comms\"; } );\n"
               "fallback_team = \"hr\";\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 2, "escalate_to names no team: \"board\""));
    ck_assert(diag_at(&d, 3, "report_to names no team: \"admin\""));
    ck_assert(diag_at(&d, 5, "source \"diversity\": team \"comms\" is not the id of a team"));
    ck_assert_uint_eq(d.n_errors, 3);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    /* named teams: accepted, and each slice where its step reads it */
    write_conf("store = { files = [ \"x.csv\" ]; debounce_ms = 100; };\n"
               "schedule = { escalate_to = \"hr\"; };\n"
               "delivery = { report_to = \"hr\"; };\n"
               "notifiers = ( { name = \"email\"; plugin = \"email\"; } );\n"
               "teams = ( { id = \"hr\"; recipients = { email = [ \"hr@example.org\" ]; }; } );\n"
               "sources = ( { name = \"diversity\"; plugin = \"calendar\"; team = \"hr\"; } );\n"
               "fallback_team = \"hr\";\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(c->debounce_ms, 100);
    ck_assert_str_eq(c->store.paths[0], "/tmp/x.csv");
    ck_assert_str_eq(c->schedule.escalate_to, "hr");
    ck_assert_str_eq(c->delivery.report_to, "hr");
    ck_assert_str_eq(c->teams.fallback, "hr");
    ck_assert_uint_eq(c->teams.teams[0].recipients[0].line, 5);
    /* the view a plugin set is opened from */
    ck_assert_str_eq(c->plugins.path, path);
    ck_assert_str_eq(c->plugins.dir, "/tmp");
    ck_assert_ptr_eq(c->plugins.notifiers, c->notifiers);
    ck_assert_uint_eq(c->plugins.n_sources, 1);
    ck_assert_str_eq(c->plugins.sources[0].team, "hr");
    ck_assert_ptr_eq(c->plugins.teams, &c->teams);
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

START_TEST(the_report_slice_is_read)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "teams = ( { id = \"hr\"; } );\n"
               "report = {\n"
               "  request_updates = [ \"03-01\", \"09-01\" ];\n"
               "  respond_within_days = 28;\n"
               "};\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(c->report.n_request_updates, 2);
    ck_assert_int_eq(c->report.request_updates[1].month, 9);
    ck_assert_int_eq(c->report.respond_within_days, 28);
    ck_assert_int_eq(c->report.follow_up_after_days, 18);
    /* requests with no one to tell who answered, and no links to answer
     * with: warnings at the group */
    ck_assert_uint_eq(d.n, 3);
    ck_assert_uint_eq(d.n_errors, 0);
    ck_assert(severity_at(&d, TKL_SEV_WARNING, 2, "team \"hr\" has no recipients"));
    ck_assert(severity_at(&d, TKL_SEV_WARNING, 3, "without delivery.report_to"));
    ck_assert(severity_at(&d, TKL_SEV_WARNING, 3, "without links and http"));
    tkl_config_free(c);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "report = { request_updates = [ \"02-30\" ]; };\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 2, "\"02-30\" is not a day of the year"));
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

/* The council names its calendar: calendar.title, by default the
 * calendar's own name; text on one line, or an error naming the setting. */
START_TEST(the_calendar_is_named_by_calendar_title)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    write_conf("store = { files = [ \"x.csv\" ]; };\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_str_eq(c->calendar_title, "Diversity calendar");
    tkl_config_free(c);
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "calendar = { title = \"Maidstone Borough Council \u2013 equality dates\"; };\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_str_eq(c->calendar_title, "Maidstone Borough Council \u2013 equality dates");
    tkl_config_free(c);
    static const char *const bad[] = {"\"\"", "\"   \"", "\"Council\\ncalendar\"",
                                      "\"Council\\x1b[31m\"",
                                      "\"Council\xc2\x9b"
                                      "calendar\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "store = { files = [ \"x.csv\" ]; };\n\ncalendar = {\n  title = %s;\n};\n",
                 bad[i]);
        write_conf(text);
        d = (struct tkl_diags){0};
        c = NULL;
        ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_msg(diag_at(&d, 4,
                              "calendar.title must be text on one line, not empty and without "
                              "control characters"),
                      "%s", bad[i]);
        tkl_diags_free(&d);
    }
    char text[512];
    d = (struct tkl_diags){0};
    snprintf(text, sizeof(text),
             "store = { files = [ \"x.csv\" ]; };\ncalendar = { title = \"%0101d\"; };\n", 1);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 2, "calendar.title must be at most 100 characters long (got 101)"));
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    write_conf("store = { files = [ \"x.csv\" ]; };\ncalendar = { name = \"x\"; };\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), -EINVAL);
    ck_assert(diag_at(&d, 2, "unknown key \"name\" in calendar"));
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

/* Links let a team say an action is not theirs: without a report_to team
 * with recipients nobody is told, which is warned of. */
START_TEST(links_without_anyone_told_are_warned_of)
{
    static const char *const confs[] = {
        "store = { files = [ \"x.csv\" ]; };\n"
        "teams = ( { id = \"hr\"; } );\n"
        "links = { keys = ( { id = \"k1\"; file = \"k\"; } ); };\n",
        "store = { files = [ \"x.csv\" ]; };\n"
        "teams = ( { id = \"hr\"; } );\n"
        "delivery = { report_to = \"hr\"; };\n"
        "links = { keys = ( { id = \"k1\"; file = \"k\"; } ); };\n",
        "store = { files = [ \"x.csv\" ]; };\n"
        "notifiers = ( { name = \"email\"; plugin = \"email\"; } );\n"
        "teams = ( { id = \"hr\"; recipients = { email = [ \"hr@example.org\" ]; }; } );\n"
        "delivery = { report_to = \"hr\"; };\n"
        "links = { keys = ( { id = \"k1\"; file = \"k\"; } ); };\n",
    };
    static const struct {
        unsigned line;
        const char *text;
    } want[] = {{3, "links without delivery.report_to: nobody is told"},
                {3, "delivery.report_to's team \"hr\" without recipients: nobody is told"},
                {0, NULL}};
    for (size_t k = 0; k < 3; k++) {
        write_conf(confs[k]);
        struct tkl_diags d = {0};
        struct tkl_config *c = NULL;
        ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
        ck_assert_uint_eq(d.n_errors, 0);
        /* the first two name a team with no recipients: a warning of its own */
        ck_assert_uint_eq(d.n, want[k].text ? 2 : 0);
        if (want[k].text) {
            ck_assert(severity_at(&d, TKL_SEV_WARNING, 2, "team \"hr\" has no recipients"));
            ck_assert(severity_at(&d, TKL_SEV_WARNING, want[k].line, want[k].text));
        }
        tkl_config_free(c);
        tkl_diags_free(&d);
    }
    unlink(path);
}
END_TEST

/* Update requests go through the shared state: accepted on PostgreSQL,
 * with nothing to say about the backend. */
START_TEST(update_requests_are_accepted_on_postgresql)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "teams = ( { id = \"hr\"; } );\n"
               "delivery = { report_to = \"hr\"; };\n"
               "state = { backend = \"postgresql\"; conninfo_file = \"pg\"; node = \"a\"; };\n"
               "report = { request_updates = [ \"03-01\" ]; };\n");
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n_errors, 0);
    ck_assert_uint_eq(c->report.n_request_updates, 1);
    for (size_t i = 0; i < d.n; i++)
        ck_assert_ptr_null(strstr(d.items[i].message, "postgresql"));
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

/* The loader checks the zone; only the runtime sets it, once the whole
 * configuration is accepted. */
START_TEST(the_time_zone_is_checked_not_set)
{
    write_conf("store = { files = [ \"x.csv\" ]; };\n"
               "daemon = { timezone = \"America/New_York\"; };\n");
    setenv("TZ", "Europe/London", 1);
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_str_eq(c->timezone, "America/New_York");
    ck_assert_str_eq(getenv("TZ"), "Europe/London");
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

static bool warning_at(const struct tkl_diags *d, unsigned line, const char *text)
{
    return severity_at(d, TKL_SEV_WARNING, line, text);
}

START_TEST(links_to_an_address_people_are_not_given_are_warned_of)
{
    /* a report team with a recipient: told of a "not ours", no warning */
    static const char *const head =
        "store = { files = [ \"x.csv\" ]; };\n"
        "notifiers = ( { name = \"email\"; plugin = \"email\"; } );\n"
        "teams = ( { id = \"hr\"; recipients = { email = [ \"hr@example.org\" ]; }; } );\n"
        "delivery = { report_to = \"hr\"; };\n"
        "links = { keys = ( { id = \"k1\"; file = \"k\"; } ); };\n";
    struct tkl_diags d = {0};
    struct tkl_config *c = NULL;
    char text[1024];
    /* no public_url: the links take the listen address, at the group */
    snprintf(text, sizeof(text), "%shttp = {\n  listen = [ \"127.0.0.1:8470\" ];\n};\n", head);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(warning_at(&d, 6,
                         "links without http.public_url: the links in notices go to "
                         "http://127.0.0.1:8470/, taken from http.listen, which only this "
                         "machine reaches"));
    ck_assert_str_eq(d.items[0].file, path);
    tkl_config_free(c);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    /* a listen address others may reach is still not the address given */
    snprintf(text, sizeof(text), "%shttp = { listen = [ \"192.0.2.10:8470\" ]; };\n", head);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(warning_at(&d, 6, "go to http://192.0.2.10:8470/, taken from http.listen; set"));
    tkl_config_free(c);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    /* a public_url of this machine: at its line */
    snprintf(text, sizeof(text),
             "%shttp = { listen = [ \"*:8470\" ];\n"
             "  public_url = \"http://localhost:8470/\"; };\n",
             head);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(warning_at(&d, 7,
                         "http.public_url \"http://localhost:8470/\" is reached only from "
                         "this machine"));
    tkl_config_free(c);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    /* the address people open; and without links, no link to warn of */
    snprintf(text, sizeof(text),
             "%shttp = { listen = [ \"*:8470\" ]; public_url = \"https://t.example/\"; };\n", head);
    write_conf(text);
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    tkl_config_free(c);
    write_conf("store = { files = [ \"x.csv\" ]; };\nhttp = { listen = [ \"127.0.0.1:1\" ]; };\n");
    ck_assert_int_eq(tkl_config_load(path, &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    tkl_config_free(c);
    tkl_diags_free(&d);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, shipped_config_is_valid);
    tcase_add_test(tc, unknown_key_names_its_line);
    tcase_add_test(tc, syntax_error_names_its_line);
    tcase_add_test(tc, bad_values_are_reported);
    tcase_add_test(tc, team_rules_override_the_schedule);
    tcase_add_test(tc, includes_are_checked);
    tcase_add_test(tc, references_between_slices_are_checked);
    tcase_add_test(tc, the_report_slice_is_read);
    tcase_add_test(tc, the_calendar_is_named_by_calendar_title);
    tcase_add_test(tc, links_without_anyone_told_are_warned_of);
    tcase_add_test(tc, update_requests_are_accepted_on_postgresql);
    tcase_add_test(tc, the_time_zone_is_checked_not_set);
    tcase_add_test(tc, links_to_an_address_people_are_not_given_are_warned_of);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
