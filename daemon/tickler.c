/*
 * tickler: check, preview and inspect what ticklerd does.
 *
 *   tickler [-c FILE] [--store FILE] actions [--json]
 *   tickler [-c FILE] check
 *   tickler [-c FILE] upcoming [--from DATE] [--days N] [--owner NAME] [--json]
 *   tickler [-c FILE] holidays [--year YYYY]
 *   tickler [-c FILE] [--state-dir DIR] status
 *   tickler [-c FILE] [--state-dir DIR] outbox [--failed] [--json]
 *   tickler [-c FILE] [--state-dir DIR] retry ID...|--failed
 *   tickler [-c FILE] calendar [--from DATE] [--to DATE] [--format ics|html|json]
 *                              [--category NAME]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "core/day.h"
#include "core/diag.h"
#include "core/log.h"
#include "export/export.h"
#include "outbox/outbox.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/set.h"
#include "route/route.h"
#include "runtime/runtime.h"
#include "schedule/holidays.h"
#include "schedule/scheduler.h"
#include "source/source.h"
#include "store/store.h"

#ifndef TICKLER_VERSION
#define TICKLER_VERSION "0"
#endif
#ifndef TICKLER_DEFAULT_CONFIG
#define TICKLER_DEFAULT_CONFIG "/etc/tickler/tickler.conf"
#endif

struct cli {
    const char *config;
    const char *store;
    const char *state_dir;
    const char *plugin_dir;
    struct tkl_config *cfg;
    struct tkl_store *st;
    struct tkl_diags diags;
    struct tkl_host_services svc;
    struct tkl_plugin_set plugins; /* the sources only */
    struct tkl_sources sources;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tickler [-c FILE] [--store FILE] [--state-dir DIR] COMMAND [ARGS]\n"
            "Check, preview and inspect tickler's reminders.\n\n"
            "Commands:\n"
            "  actions [--json]             the store as tickler reads it\n"
            "  check                        validate the configuration and the stores\n"
            "  upcoming [--from DATE] [--days N] [--owner NAME] [--json]\n"
            "                               the reminders that would be sent\n"
            "  holidays [--year YYYY]       the non-working days in use\n"
            "  status                       the outbox in numbers\n"
            "  outbox [--failed] [--json]   notices in the outbox, newest first\n"
            "  retry ID...|--failed         send failed notices again\n"
            "  send-test NOTIFIER --to RECIPIENT\n"
            "                               send a sample digest now and show the reply\n"
            "  calendar [--from DATE] [--to DATE] [--format ics|html|json]\n"
            "           [--category NAME]   the observances of the sources (default: the\n"
            "                               next 12 months, as iCalendar), or those of\n"
            "                               one category (sexual-orientation)\n\n"
            "Options:\n"
            "  -c, --config FILE     configuration file (default %s)\n"
            "      --store FILE      read this CSV file instead of store.files\n"
            "      --state-dir DIR   state directory (default: daemon.state_directory)\n"
            "      --plugin-dir DIR  load plugins from DIR (default:\n"
            "                        daemon.plugin_directory)\n"
            "  -V, --version         print the version\n"
            "  -h, --help            print this help\n",
            TICKLER_DEFAULT_CONFIG);
}

/* Loads the config and the store; prints problems. Returns 0, or 1 when
 * the config or the store has errors. */
static int load(struct cli *c, bool need_store)
{
    int r = tkl_config_load(c->config, &c->cfg, &c->diags);
    if (r < 0 || tkl_tz_set(c->cfg->timezone) < 0)
        return 1;
    if (c->store && tkl_store_opts_use_file(&c->cfg->store, c->store) < 0)
        return 1;
    if (need_store && tkl_store_load(&c->cfg->store, &c->cfg->teams, &c->st, &c->diags) < 0)
        return 1;
    return 0;
}

/* Opens the configured sources (calendars); problems are printed.
 * Returns 0, or 1 when a source could not be opened. */
static int open_sources(struct cli *c)
{
    const char *dir = c->plugin_dir ? c->plugin_dir : c->cfg->plugin_dir;
    int r = tkl_plugin_set_open(dir, &c->cfg->plugins, TKL_PLUGIN_SOURCE, &c->svc,
                                c->cfg->state_dir, &c->plugins, &c->diags);
    if (r == 0 && (r = tkl_sources_view(&c->plugins, c->cfg->sources, &c->sources)) < 0)
        fprintf(stderr, "tickler: out of memory\n");
    return r < 0 ? 1 : 0;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int json_print(json_t *root)
{
    if (!root) {
        fprintf(stderr, "tickler: out of memory\n");
        return 1;
    }
    int r = json_dumpf(root, stdout, JSON_INDENT(2));
    json_decref(root);
    fputc('\n', stdout);
    return r == 0 ? 0 : 1;
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int cmd_actions(struct cli *c, int argc, char **argv)
{
    bool json = argc > 1 && !strcmp(argv[1], "--json");
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < c->st->n; i++) {
            const struct tkl_action *a = &c->st->actions[i];
            char day[11];
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(a->id));
            json_object_set_new(o, "file", json_string(a->file));
            json_object_set_new(o, "line", json_integer(a->line));
            json_object_set_new(o, "title", json_string(a->title));
            json_object_set_new(o, "commitment", jstr(*a->commitment ? a->commitment : NULL));
            json_object_set_new(o, "objective", jstr(*a->objective ? a->objective : NULL));
            json_object_set_new(o, "owners", json_string(a->owners));
            json_object_set_new(o, "teams", strv_json(a->teams, a->n_teams));
            json_object_set_new(o, "unmatched_owners", strv_json(a->unmatched, a->n_unmatched));
            json_object_set_new(o, "deadline_text", json_string(a->deadline_text));
            json_object_set_new(o, "deadline",
                                a->deadline.day == TKL_NO_DAY
                                    ? json_null()
                                    : json_string(tkl_day_format(a->deadline.day, day)));
            json_object_set_new(o, "deadline_note", jstr(a->deadline.note));
            json_object_set_new(o, "kind", json_string(tkl_deadline_kind_name(a->deadline.kind)));
            json_object_set_new(o, "status_text", json_string(a->status_text));
            json_object_set_new(o, "status", json_string(tkl_status_name(a->status)));
            json_object_set_new(o, "active", json_boolean(tkl_action_active(a)));
            json_object_set_new(o, "progress", jstr(*a->progress ? a->progress : NULL));
            json_object_set_new(o, "warnings", strv_json(a->warnings, a->n_warnings));
            json_array_append_new(arr, o);
        }
        return json_print(arr);
    }
    for (size_t i = 0; i < c->st->n; i++) {
        const struct tkl_action *a = &c->st->actions[i];
        char day[11] = "-";
        if (a->deadline.day != TKL_NO_DAY)
            tkl_day_format(a->deadline.day, day);
        /* at most 70 bytes, cut at a character boundary */
        size_t cut = strlen(a->title);
        if (cut > 70)
            cut = 70;
        while (cut > 0 && ((unsigned char)a->title[cut] & 0xc0) == 0x80)
            cut--;
        char *title = strndup(a->title, cut);
        if (title)
            for (char *p = title; *p; p++)
                if (*p == '\n')
                    *p = ' ';
        printf("%s  %-10s %-8s %-8s %s\n", a->id, day, tkl_deadline_kind_name(a->deadline.kind),
               tkl_status_name(a->status), title ? title : a->title);
        free(title);
    }
    fprintf(stderr, "%zu actions, %zu warnings (tickler check lists them)\n", c->st->n,
            c->diags.n - c->diags.n_errors);
    return 0;
}

/* The one check ticklerd --check-config makes too: configuration,
 * plugins (each recipient asked of its notifier), store and calendars. */
static int cmd_check(struct cli *c, int argc, char **argv)
{
    struct tkl_runtime_env env = {.config_path = c->config,
                                  .plugin_dir = c->plugin_dir,
                                  .store_file = c->store,
                                  .state_dir = c->state_dir ? strdup(c->state_dir) : NULL,
                                  .svc = &c->svc};
    struct tkl_runtime *rt = NULL;
    int r = c->state_dir && !env.state_dir ? -ENOMEM : tkl_runtime_load(&env, &rt, &c->diags);
    tkl_diags_print(&c->diags, stdout);
    size_t errors = c->diags.n_errors + c->svc.n_errors;
    if (r == 0 && !errors) {
        const struct tkl_store *st = rt->store;
        size_t unmatched = 0;
        for (size_t i = 0; i < st->n; i++)
            unmatched += st->actions[i].n_unmatched;
        /* teams no one can reach */
        for (size_t i = 0; i < rt->cfg->teams.n; i++)
            if (!rt->cfg->teams.teams[i].n_recipients)
                printf("%s: warning: team \"%s\" has no recipients; its reminders go nowhere\n",
                       rt->cfg->path, rt->cfg->teams.teams[i].id);
        printf("ok: %zu actions, %zu observances, %zu teams, %zu owner names matched no team, "
               "%zu warnings\n",
               st->n - st->n_events, st->n_events, rt->cfg->teams.n, unmatched,
               c->diags.n - c->diags.n_errors);
    } else {
        printf("errors: %zu\n", errors ? errors : 1);
    }
    tkl_runtime_free(rt);
    free(env.state_dir);
    return r == 0 && !errors ? 0 : 1;
}

static bool owner_matches(const struct tkl_config *cfg, size_t team, const char *owner)
{
    const struct tkl_team *t = &cfg->teams.teams[team];
    if (!strcasecmp(t->id, owner))
        return true;
    struct tkl_team_dir one = {.teams = (struct tkl_team *)t, .n = 1};
    const struct tkl_team *m = NULL;
    return tkl_team_match(&one, owner, &m) == 0 && m;
}

/* Reads a whole decimal number; anything else (empty, "30x") gives INT_MIN,
 * which every range check refuses. */
static int int_arg(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN + 1 || v > INT_MAX)
        return INT_MIN;
    return (int)v;
}

struct upcoming_opts {
    const char *from;  /* YYYY-MM-DD, or NULL for today */
    const char *owner; /* only this owner's reminders, or NULL */
    int days;
    bool json;
};

/* Reads the options of tickler upcoming. Returns 0, or -EINVAL after
 * saying what is wrong. */
static int upcoming_args(int argc, char **argv, struct upcoming_opts *ret)
{
    struct upcoming_opts u = {.days = 30};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            u.from = argv[++i];
        else if (!strcmp(argv[i], "--days") && i + 1 < argc)
            u.days = int_arg(argv[++i]);
        else if (!strcmp(argv[i], "--owner") && i + 1 < argc)
            u.owner = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            u.json = true;
        else {
            fprintf(stderr, "tickler upcoming: unexpected \"%s\"\n", argv[i]);
            return -EINVAL;
        }
    }
    if (u.days < 1 || u.days > 3660) {
        fprintf(stderr, "tickler upcoming: --days must be 1 to 3660\n");
        return -EINVAL;
    }
    *ret = u;
    return 0;
}

/* The instant --from names (local time), or now without it. Returns 0, or
 * -EINVAL after saying what is wrong. */
static int upcoming_start(const char *from, int64_t *ret)
{
    int64_t start;
    if (!from) {
        start = (int64_t)time(NULL);
    } else if (tkl_parse_datetime(from, &start) < 0) {
        fprintf(stderr, "tickler upcoming: --from \"%s\" is not YYYY-MM-DD\n", from);
        return -EINVAL;
    }
    *ret = start;
    return 0;
}

/* A reminder as tickler upcoming --json shows it: at and dl are its time
 * and its deadline formatted, b where it goes. */
static json_t *due_json(const struct tkl_due *due, const struct tkl_team *t,
                        const struct tkl_route_batch *b, const char *at, const char *dl)
{
    json_t *o = json_object();
    json_t *rec = json_array();
    for (size_t i = 0; i < b->n; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "channel", json_string(b->digests[i].channel));
        json_object_set_new(r, "recipient", json_string(b->digests[i].recipient));
        json_object_set_new(r, "team", json_string(b->digests[i].team->id));
        json_array_append_new(rec, r);
    }
    json_object_set_new(o, "at", json_string(at));
    json_object_set_new(o, "item", json_string(due->action->id));
    json_object_set_new(o, "title", json_string(due->action->title));
    json_object_set_new(o, "stage", json_string(due->r.key));
    json_object_set_new(o, "escalated", json_boolean(due->r.escalate));
    json_object_set_new(o, "deadline",
                        due->action->deadline.day == TKL_NO_DAY ? json_null() : json_string(dl));
    json_object_set_new(o, "team", json_string(t->id));
    json_object_set_new(o, "recipients", rec);
    return o;
}

/* A reminder as tickler upcoming prints it: one line, then one line for
 * each recipient. */
static void print_due(const struct tkl_due *due, const struct tkl_team *t,
                      const struct tkl_route_batch *b, const char *at, const char *dl)
{
    printf("%s  %-12s %-10s %-22s %.60s\n", at, due->r.key, dl, t->id, due->action->title);
    for (size_t i = 0; i < b->n; i++)
        printf("%27s-> %s:%s\n", "", b->digests[i].channel, b->digests[i].recipient);
    if (!b->n)
        printf("%27s-> (team has no recipients)\n", "");
}

/* Routes the reminder due and shows it: appended to arr with json, printed
 * without. Returns 0, or a negative errno when it cannot be routed (then
 * nothing is shown). */
static int show_due(const struct tkl_config *cfg, const struct tkl_due *due, bool json, json_t *arr)
{
    const struct tkl_team *t = &cfg->teams.teams[due->team];
    struct tkl_route_batch b = {0};
    size_t routed = 0;
    int r = tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, due, due->r.day, &routed);
    if (r < 0) {
        tkl_route_batch_free(&b);
        return r;
    }
    char at[32], dl[11] = "-";
    tkl_format_instant(due->at, at);
    if (due->action->deadline.day != TKL_NO_DAY)
        tkl_day_format(due->action->deadline.day, dl);
    if (json)
        json_array_append_new(arr, due_json(due, t, &b, at, dl));
    else
        print_due(due, t, &b, at, dl);
    tkl_route_batch_free(&b);
    return 0;
}

/* Shows the reminders s has due from lo to hi, for u->owner when given,
 * until one cannot be routed. Returns how many it showed. */
static size_t show_upcoming(struct cli *c, struct tkl_scheduler *s, int64_t lo, int64_t hi,
                            const struct upcoming_opts *u, json_t *arr)
{
    struct tkl_due due;
    size_t count = 0;
    while (tkl_scheduler_pop_due(s, &c->cfg->schedule, c->st, hi, &due) == 0) {
        if (due.at < lo)
            continue;
        if (u->owner && !owner_matches(c->cfg, due.team, u->owner))
            continue;
        if (show_due(c->cfg, &due, u->json, arr) < 0)
            break;
        count++;
    }
    return count;
}

static int cmd_upcoming(struct cli *c, int argc, char **argv)
{
    struct upcoming_opts u;
    if (upcoming_args(argc, argv, &u) < 0)
        return 2;
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    int64_t start;
    if (upcoming_start(u.from, &start) < 0)
        return 2;
    /* the window starts at local midnight of the --from day */
    int32_t first = tkl_local_day(start);
    if (open_sources(c) ||
        tkl_sources_add_to_store(&c->sources, first, c->st, &c->cfg->teams, &c->diags) < 0) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (u.days > TKL_SOURCE_DAYS_AHEAD - 60 && c->sources.n)
        fprintf(stderr,
                "tickler upcoming: observances are read %d days ahead; prompts near "
                "the end of %d days may be missing\n",
                TKL_SOURCE_DAYS_AHEAD, u.days);
    int64_t lo = tkl_local_instant(first, 0);
    int64_t hi = tkl_local_instant(first + u.days, 0) - 1;
    struct tkl_scheduler s = {0};
    if (tkl_scheduler_build(&s, &c->cfg->schedule, &c->cfg->teams, c->st, lo - 1, lo - 1) < 0) {
        fprintf(stderr, "tickler: out of memory\n");
        return 1;
    }
    json_t *arr = u.json ? json_array() : NULL;
    size_t count = show_upcoming(c, &s, lo, hi, &u, arr);
    tkl_scheduler_free(&s);
    if (u.json)
        return json_print(arr);
    fprintf(stderr, "%zu reminders in %d days from %s\n", count, u.days,
            tkl_day_format(first, (char[11]){0}));
    return 0;
}

struct calendar_args {
    const char *from, *to, *format, *category;
    char slug[TKL_CATEGORY_SLUG_SIZE]; /* the category's, when given */
};

/* Reads the options of tickler calendar. Returns 0, or 2 (bad usage). */
static int calendar_args(int argc, char **argv, struct calendar_args *a)
{
    *a = (struct calendar_args){.format = "ics"};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            a->from = argv[++i];
        else if (!strcmp(argv[i], "--to") && i + 1 < argc)
            a->to = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            a->format = argv[++i];
        else if (!strcmp(argv[i], "--category") && i + 1 < argc)
            a->category = argv[++i];
        else {
            fprintf(stderr, "tickler calendar: unexpected \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (strcmp(a->format, "ics") != 0 && strcmp(a->format, "html") != 0 &&
        strcmp(a->format, "json") != 0) {
        fprintf(stderr, "tickler calendar: --format must be ics, html or json\n");
        return 2;
    }
    if (a->category && !*tkl_category_slug(a->category, a->slug)) {
        fprintf(stderr, "tickler calendar: --category \"%s\" names no category\n", a->category);
        return 2;
    }
    return 0;
}

/* Reads --from and --to (default: today and twelve whole months on).
 * Returns 0, or 2 (bad usage). */
static int calendar_days(const struct calendar_args *a, int32_t *ret_lo, int32_t *ret_hi)
{
    int32_t lo, hi;
    if (a->from && tkl_day_parse_iso(a->from, &lo) < 0) {
        fprintf(stderr, "tickler calendar: --from \"%s\" is not YYYY-MM-DD\n", a->from);
        return 2;
    }
    if (a->to && tkl_day_parse_iso(a->to, &hi) < 0) {
        fprintf(stderr, "tickler calendar: --to \"%s\" is not YYYY-MM-DD\n", a->to);
        return 2;
    }
    if (!a->from)
        lo = tkl_local_day((int64_t)time(NULL));
    if (!a->to) {
        int y, m, d;
        tkl_day_to_civil(lo, &y, &m, &d);
        hi = tkl_day_from_civil(y + 1, m, 1) - 1; /* twelve whole months on */
    }
    if (hi < lo || hi - lo > 366 * 50) {
        fprintf(stderr, "tickler calendar: --to must be after --from, within 50 years\n");
        return 2;
    }
    *ret_lo = lo;
    *ret_hi = hi;
    return 0;
}

/* Writes the events of [lo, hi] (of a.category only, when given) in
 * a.format. Returns 0 or a negative errno. */
static int calendar_write(struct cli *c, const struct calendar_args *a,
                          const struct tkl_event_list *all, int32_t lo, int32_t hi)
{
    struct tkl_event_list view = {0};
    const struct tkl_event_list *l = all;
    char title[160];
    const char *name = a->category ? tkl_category_known(a->slug) : NULL;
    if (a->category) {
        int r = tkl_events_in_category(all, a->slug, &view);
        if (r < 0)
            return r;
        l = &view;
        snprintf(title, sizeof(title), "%s: %s", TKL_EXPORT_TITLE,
                 name     ? name
                 : view.n ? view.v[0].category
                          : a->category);
    } else {
        snprintf(title, sizeof(title), "%s", TKL_EXPORT_TITLE);
    }
    struct tkl_ics_opts ics = {
        .name = title, .stamp = (int64_t)time(NULL), .refresh_hours = TKL_ICS_REFRESH_HOURS};
    int r = !strcmp(a->format, "ics")    ? tkl_export_ics(stdout, l, &ics)
            : !strcmp(a->format, "html") ? tkl_export_html(stdout, l, lo, hi, title, &c->cfg->teams)
                                         : tkl_export_json(stdout, l, lo, hi);
    tkl_event_view_free(&view);
    return r;
}

static int cmd_calendar(struct cli *c, int argc, char **argv)
{
    struct calendar_args a;
    int32_t lo, hi;
    if (calendar_args(argc, argv, &a))
        return 2;
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (calendar_days(&a, &lo, &hi))
        return 2;
    if (open_sources(c)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    tkl_diags_print(&c->diags, stderr);
    if (!c->sources.n) {
        fprintf(stderr, "tickler calendar: %s configures no sources (sources = ( ... ))\n",
                c->config);
        return 1;
    }
    struct tkl_event_list l = {0};
    int r = tkl_sources_events(&c->sources, lo, hi, &l);
    if (r < 0) {
        fprintf(stderr, "tickler calendar: cannot read the observances: %s\n", strerror(-r));
        return 1;
    }
    r = calendar_write(c, &a, &l, lo, hi);
    tkl_event_list_free(&l);
    if (fflush(stdout) != 0 || r < 0) {
        fprintf(stderr, "tickler calendar: cannot write the output: %s\n",
                strerror(r < 0 ? -r : errno));
        return 1;
    }
    /* a calendar file with problems was skipped: say so in the exit code */
    return c->svc.n_errors ? 1 : 0;
}

static int cmd_holidays(struct cli *c, int argc, char **argv)
{
    int year = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--year") && i + 1 < argc)
            year = int_arg(argv[++i]);
        else {
            fprintf(stderr, "tickler holidays: unexpected \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (!year) {
        int m, d;
        tkl_day_to_civil(tkl_local_day((int64_t)time(NULL)), &year, &m, &d);
    }
    if (year < 1900 || year > 2199) {
        fprintf(stderr, "tickler holidays: --year must be 1900 to 2199\n");
        return 2;
    }
    const struct tkl_holidays *h = &c->cfg->schedule.policy.holidays;
    printf("Non-working days in %d (%s; weekends are not listed)\n", year,
           tkl_region_name(h->region));
    for (int32_t d = tkl_day_from_civil(year, 1, 1); d <= tkl_day_from_civil(year, 12, 31); d++) {
        const char *name = NULL;
        if (tkl_is_holiday(h, d, &name)) {
            char buf[11];
            printf("%s %.3s  %s\n", tkl_day_format(d, buf), tkl_weekday_name(tkl_day_weekday(d)),
                   name);
        }
    }
    return 0;
}

static int open_outbox(struct cli *c, struct tkl_outbox **ret)
{
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    char *err = NULL;
    int r = tkl_outbox_open(dir, ret, &err);
    if (r < 0) {
        fprintf(stderr, "tickler: cannot open the outbox in %s: %s\n", dir,
                err ? err : strerror(-r));
        free(err);
        return 1;
    }
    return 0;
}

static int cmd_status(struct cli *c, int argc, char **argv)
{
    struct tkl_outbox *o = NULL;
    if (open_outbox(c, &o))
        return 1;
    int64_t now = (int64_t)time(NULL), last = 0;
    struct tkl_outbox_stats st = {0};
    int r = tkl_outbox_stats(o, tkl_local_instant(tkl_local_day(now), 0), &st);
    if (r == 0) {
        char lastbuf[32] = "never", nextbuf[32] = "none";
        if (tkl_outbox_get_meta(o, "last_run", &last) == 0)
            tkl_format_instant(last, lastbuf);
        if (st.next_attempt != INT64_MAX)
            tkl_format_instant(st.next_attempt > now ? st.next_attempt : now, nextbuf);
        printf("pending:          %" PRId64 "\n"
               "retrying:         %" PRId64 "\n"
               "failed:           %" PRId64 "%s\n"
               "delivered today:  %" PRId64 " (%" PRId64 " in all)\n"
               "next attempt:     %s\n"
               "last run:         %s\n",
               st.pending, st.retrying, st.failed,
               st.failed ? "  (tickler outbox --failed; tickler retry --failed)" : "",
               st.delivered_today, st.delivered, nextbuf, lastbuf);
    } else {
        fprintf(stderr, "tickler: cannot read the outbox: %s\n", strerror(-r));
    }
    tkl_outbox_close(o);
    return r < 0;
}

static int cmd_outbox(struct cli *c, int argc, char **argv)
{
    bool failed_only = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--failed"))
            failed_only = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(stderr, "tickler outbox: unexpected \"%s\"\n", argv[i]);
            return 2;
        }
    }
    struct tkl_outbox *o = NULL;
    if (open_outbox(c, &o))
        return 1;
    uint64_t *ids = NULL;
    size_t n = 0;
    int r = tkl_outbox_list(o, failed_only, &ids, &n);
    if (r < 0) {
        fprintf(stderr, "tickler: cannot read the outbox: %s\n", strerror(-r));
        tkl_outbox_close(o);
        return 1;
    }
    json_t *arr = json ? json_array() : NULL;
    static const char *const states[] = {"pending", "delivered", "failed"};
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *s = NULL;
        r = tkl_outbox_get(o, ids[i], &s);
        if (r < 0) {
            fprintf(stderr, "tickler: cannot read notice %" PRIu64 ": %s\n", ids[i], strerror(-r));
            break;
        }
        char at[32];
        tkl_format_instant(s->notice.due_at, at);
        const char *state =
            s->state == TKL_NOTICE_PENDING && s->attempts ? "retrying" : states[s->state % 3];
        if (json) {
            json_t *x = json_object();
            json_object_set_new(x, "id", json_integer((json_int_t)ids[i]));
            json_object_set_new(x, "state", json_string(state));
            json_object_set_new(x, "channel", json_string(s->notice.channel));
            json_object_set_new(x, "recipient", json_string(s->notice.recipient));
            json_object_set_new(x, "team", jstr(s->notice.team_id));
            json_object_set_new(x, "due_at", json_string(at));
            json_object_set_new(x, "attempts", json_integer(s->attempts));
            json_object_set_new(x, "last_error", jstr(s->last_error));
            json_t *items = json_array();
            for (size_t k = 0; k < s->notice.n_entries; k++)
                json_array_append_new(items, json_string(s->entries[k].item_id));
            json_object_set_new(x, "items", items);
            json_array_append_new(arr, x);
        } else {
            printf("%5" PRIu64 " %-9s %s %s:%s  %zu action(s), %d attempt(s)%s%s\n", ids[i], state,
                   at, s->notice.channel, s->notice.recipient, s->notice.n_entries, s->attempts,
                   s->last_error ? "  " : "", s->last_error ? s->last_error : "");
        }
        tkl_stored_notice_free(s);
    }
    free(ids);
    tkl_outbox_close(o);
    return json ? json_print(arr) : r < 0;
}

/* ---- send-test --------------------------------------------------------- */

struct send_test {
    bool done;
    enum tkl_delivery_status status;
    char reply[1024];
};

static void on_test_done(void *data, const struct tkl_delivery *res)
{
    struct send_test *t = data;
    t->done = true;
    t->status = res ? res->status : TKL_DELIVERY_TRANSIENT;
    snprintf(t->reply, sizeof(t->reply), "%s", res && res->reply ? res->reply : "");
}

/* Up to max active actions of the store as digest entries, soonest first,
 * or one made-up action when the store has none. */
static size_t sample_entries(const struct tkl_store *st, int32_t today, struct tkl_notice_entry *v,
                             size_t max)
{
    size_t n = 0;
    for (size_t i = 0; st && i < st->n && n < max; i++) {
        const struct tkl_action *a = &st->actions[i];
        if (!tkl_action_active(a))
            continue;
        int32_t dl = a->deadline.day;
        enum tkl_stage stage = dl == TKL_NO_DAY ? TKL_STAGE_CHECKIN
                               : dl < today     ? TKL_STAGE_OVERDUE
                               : dl == today    ? TKL_STAGE_DUE
                                                : TKL_STAGE_LEAD;
        tkl_route_entry(a, stage, today, false, &v[n++]);
    }
    if (n == 0)
        v[n++] = (struct tkl_notice_entry){
            .size = sizeof(v[0]),
            .item_id = "SAMPLE-1",
            .title = "A sample action: check that reminders reach you",
            .owners = "tickler send-test",
            .deadline_text = "in a week",
            .status = "NEW",
            .deadline_day = today + 7,
            .kind = TKL_DEADLINE_DATE,
            .stage = TKL_STAGE_LEAD,
            .days_left = 7,
        };
    return n;
}

/* Reads NOTIFIER and --to RECIPIENT. Returns 0, or -EINVAL after printing
 * the usage. */
static int send_test_args(int argc, char **argv, const char **ret_channel, const char **ret_to)
{
    const char *channel = NULL, *to = NULL;
    bool ok = true;
    for (int i = 1; ok && i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (argv[i][0] != '-' && !channel)
            channel = argv[i];
        else
            ok = false;
    }
    if (!ok || !channel || !to) {
        fprintf(stderr, "Usage: tickler send-test NOTIFIER --to RECIPIENT\n");
        return -EINVAL;
    }
    *ret_channel = channel;
    *ret_to = to;
    return 0;
}

/* The configured notifier named name (the last, should two have it), or
 * NULL. */
static const struct tkl_plugin_conf *find_notifier(const struct tkl_config *cfg, const char *name)
{
    const struct tkl_plugin_conf *nc = NULL;
    for (size_t i = 0; i < cfg->n_notifiers; i++)
        if (!strcmp(cfg->notifiers[i].name, name))
            nc = &cfg->notifiers[i];
    return nc;
}

/* Asks the notifier, when it can tell (ABI 2), whether it can deliver to
 * `to`. Returns 0, or its negative errno after saying why not. */
static int check_recipient(const struct tkl_plugin_instance *p, const char *channel, const char *to)
{
    int (*check)(void *, const char *, char *, size_t) = TKL_PLUGIN_V2(p, check_recipient);
    char why[512] = "";
    int r = check ? check(p->state, to, why, sizeof(why)) : 0;
    if (r < 0)
        fprintf(stderr, "tickler send-test: %s cannot deliver to \"%s\": %s\n", channel, to,
                why[0] ? why : "refused by the notifier");
    return r < 0 ? r : 0;
}

/* Hands the notifier p a sample digest for `to`, from the actions of st
 * (when loaded), and runs loop until p has answered into *t or nothing is
 * left to run.
 * Returns 0, or the negative errno with which p refused the notice (said
 * on stderr). */
static int send_sample(const struct tkl_store *st, const struct tkl_plugin_conf *nc,
                       struct tkl_plugin_instance *p, const char *to, uv_loop_t *loop,
                       struct send_test *t)
{
    int64_t now = (int64_t)time(NULL);
    struct tkl_notice_entry entries[3];
    struct tkl_notice n = {
        .size = sizeof(n),
        .id = (uint64_t)now,
        .channel = nc->name,
        .recipient = to,
        .team_id = "send-test",
        .team_name = "tickler send-test",
        .due_at = now,
        .entries = entries,
        .n_entries = sample_entries(st, tkl_local_day(now), entries, 3),
    };
    printf("sending a sample digest of %zu action(s) to %s through %s (plugin %s)\n", n.n_entries,
           to, nc->name, nc->plugin);
    int r = p->desc->deliver(p->state, &n, on_test_done, t);
    if (r < 0) {
        fprintf(stderr, "tickler send-test: the notifier refused the notice: %s\n", strerror(-r));
        return r;
    }
    while (!t->done && uv_run(loop, UV_RUN_ONCE))
        ;
    return 0;
}

/* Sends the sample through nc on a loop of its own, shows the answer,
 * stops the notifier and closes the loop. Returns the exit code: 0 when
 * the notice was delivered, else 1. */
static int run_send_test(struct cli *c, const struct tkl_plugin_conf *nc, const char *to)
{
    uv_loop_t loop = {0}; /* loop.data is read by the host before it is set */
    struct tkl_host_services svc = {.loop = &loop};
    struct tkl_plugin_instance *p = NULL;
    struct send_test t = {0};
    int r, rc = 1;
    if (uv_loop_init(&loop) < 0)
        return 1;
    if ((r = tkl_transfers_new(&loop, &svc.transfers)) < 0) {
        fprintf(stderr, "tickler send-test: cannot set up libcurl: %s\n", strerror(-r));
        goto out_loop;
    }
    r = tkl_notifier_open(c->plugin_dir ? c->plugin_dir : c->cfg->plugin_dir, &c->cfg->plugins, nc,
                          &svc, c->state_dir ? c->state_dir : c->cfg->state_dir, &p, &c->diags);
    if (r == 0 && p->desc->start && (r = p->desc->start(p->state)) == 0)
        p->started = true;
    if (r < 0) {
        tkl_diags_print(&c->diags, stderr);
        fprintf(stderr, "tickler send-test: notifier \"%s\" (plugin %s) could not start: %s\n",
                nc->name, nc->plugin, strerror(-r));
        goto out;
    }
    if (check_recipient(p, nc->name, to) < 0 || send_sample(c->st, nc, p, to, &loop, &t) < 0)
        goto out;
    static const char *const what[] = {"delivered", "failed, would be retried",
                                       "failed, would not be retried"};
    printf("%s: %s\n", t.done ? what[t.status % 3] : "no answer", t.reply);
    rc = t.done && t.status == TKL_DELIVERY_OK ? 0 : 1;
out:
    if (p && p->started)
        p->desc->stop(p->state);
    tkl_transfers_close(svc.transfers);
    uv_run(&loop, UV_RUN_DEFAULT);
    tkl_plugin_close(p);
out_loop:
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "tickler send-test: libuv handles left open\n");
        rc = 1;
    }
    return rc;
}

static int cmd_send_test(struct cli *c, int argc, char **argv)
{
    const char *channel, *to;
    if (send_test_args(argc, argv, &channel, &to) < 0)
        return 2;
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    const struct tkl_plugin_conf *nc = find_notifier(c->cfg, channel);
    if (!nc) {
        fprintf(stderr, "tickler send-test: no notifier named \"%s\" in %s\n", channel, c->config);
        return 1;
    }
    /* the store is optional here: its actions make the sample realistic */
    struct tkl_diags quiet = {0};
    tkl_store_load(&c->cfg->store, &c->cfg->teams, &c->st, &quiet);
    tkl_diags_free(&quiet);
    return run_send_test(c, nc, to);
}

/* Touches the wake-up file a running ticklerd watches. */
static void wake_daemon(const char *state_dir)
{
    char *path = NULL;
    if (asprintf(&path, "%s/wakeup", state_dir) < 0)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    free(path);
}

static int cmd_retry(struct cli *c, int argc, char **argv)
{
    bool all = false;
    uint64_t ids[256];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--failed")) {
            all = true;
            continue;
        }
        errno = 0;
        unsigned long long v = strtoull(argv[i], &end, 10);
        if (errno || *end || !v || n == sizeof(ids) / sizeof(ids[0])) {
            fprintf(stderr, "tickler retry: \"%s\" is not a notice id (see tickler outbox)\n",
                    argv[i]);
            return 2;
        }
        ids[n++] = (uint64_t)v;
    }
    if (all == (n > 0)) {
        fprintf(stderr, "Usage: tickler retry ID... | --failed\n");
        return 2;
    }
    struct tkl_outbox *o = NULL;
    if (open_outbox(c, &o))
        return 1;
    int64_t now = (int64_t)time(NULL), total = 0, k = 0;
    int r = 0, bad = 0;
    if (all) {
        r = tkl_outbox_requeue(o, 0, now, &total);
    } else {
        for (size_t i = 0; r == 0 && i < n; i++) {
            r = tkl_outbox_requeue(o, ids[i], now, &k);
            if (r == 0 && k == 0) {
                fprintf(stderr, "tickler retry: notice %" PRIu64 " is not a failed notice\n",
                        ids[i]);
                bad = 1;
            }
            total += k;
        }
    }
    tkl_outbox_close(o);
    if (r < 0) {
        fprintf(stderr, "tickler retry: cannot update the outbox: %s\n", strerror(-r));
        return 1;
    }
    wake_daemon(c->state_dir ? c->state_dir : c->cfg->state_dir);
    printf("%" PRId64 " notice%s queued again\n", total, total == 1 ? "" : "s");
    return bad;
}

/* The commands; each returns the exit code. */
static const struct command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"actions", cmd_actions},   {"check", cmd_check},         {"upcoming", cmd_upcoming},
    {"holidays", cmd_holidays}, {"status", cmd_status},       {"outbox", cmd_outbox},
    {"retry", cmd_retry},       {"send-test", cmd_send_test}, {"calendar", cmd_calendar},
};

/* Runs the command argv[0] with its arguments. Returns the exit code. */
static int run_command(struct cli *c, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[0], commands[i].name))
            return commands[i].run(c, argc, argv);
    fprintf(stderr, "tickler: unknown command \"%s\"\n", argv[0]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"store", required_argument, NULL, 'S'},
        {"state-dir", required_argument, NULL, 's'},
        {"version", no_argument, NULL, 'V'},
        {"plugin-dir", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli c = {.config = TICKLER_DEFAULT_CONFIG};
    int opt, r;
    /* options stop at the command: its own options follow it */
    while ((opt = getopt_long(argc, argv, "+c:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            c.config = optarg;
            break;
        case 'S':
            c.store = optarg;
            break;
        case 's':
            c.state_dir = optarg;
            break;
        case 'p':
            c.plugin_dir = optarg;
            break;
        case 'V':
            printf("tickler %s\n", TICKLER_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    tkl_log_set_level(TKL_LOG_WARNING);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "tickler: libcurl could not be initialised\n");
        return 1;
    }
    r = run_command(&c, argc - optind, argv + optind);
    tkl_sources_close(&c.sources);
    tkl_plugin_set_close(&c.plugins);
    tkl_store_free(c.st);
    tkl_config_free(c.cfg);
    tkl_diags_free(&c.diags);
    curl_global_cleanup();
    return r;
}
