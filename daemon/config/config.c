#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/confread.h"
#include "../core/day.h"
#include "../core/log.h"
#include "../core/text.h"
#include "../delivery/delivery_conf.h"
#include "../export/export.h"
#include "../plugin/plugin_conf.h"
#include "../plugin/plugin_dir.h"
#include "../report/report_conf.h"
#include "../schedule/schedule_conf.h"
#include "../state/state_conf.h"
#include "../store/store_conf.h"
#include "../team/team_conf.h"

/* A load in progress: the configuration it fills, and where its problems
 * go. */
struct ctx {
    struct tkl_confread rd;
    struct tkl_config *c;
};

/* The daemon's own settings, daemon { ... }, over the defaults. Returns 0,
 * -EINVAL or -ENOMEM. */
static int load_daemon(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"state_directory", "plan_memory", "plugin_directory",
                                       "log_level",       "timezone",    NULL};
    struct tkl_config *c = x->c;
    const char *s;
    int r = 0;
    if (!tkl_conf_check_keys(&x->rd, g, "daemon", keys))
        r = -EINVAL;
    c->state_dir = strdup("/var/lib/tickler");
    c->plugin_dir = tkl_plugin_dir_default();
    c->timezone = strdup("Europe/London");
    if (!c->state_dir || !c->plugin_dir || !c->timezone)
        return -ENOMEM;
    if (tkl_conf_get_string(&x->rd, g, "state_directory", &s) > 0) {
        free(c->state_dir);
        if (!(c->state_dir = tkl_conf_path(&x->rd, s)))
            return -ENOMEM;
    }
    if (tkl_conf_get_string(&x->rd, g, "plan_memory", &s) > 0) {
        if (strcmp(s, "files") == 0 || strcmp(s, "private") == 0) {
            c->plan_private = strcmp(s, "private") == 0;
        } else {
            tkl_conf_err_at(&x->rd, config_setting_get_member(g, "plan_memory"),
                            "must be \"files\" or \"private\" (got \"%s\")", s);
            r = -EINVAL;
        }
    }
    if (tkl_conf_get_string(&x->rd, g, "plugin_directory", &s) > 0) {
        free(c->plugin_dir);
        if (!(c->plugin_dir = tkl_conf_path(&x->rd, s)))
            return -ENOMEM;
    }
    if (tkl_conf_get_string(&x->rd, g, "log_level", &s) > 0) {
        int lvl = tkl_log_parse_level(s);
        if (lvl < 0) {
            tkl_conf_err_at(&x->rd, config_setting_get_member(g, "log_level"),
                            "log_level must be err, warning, notice, info or debug (got \"%s\")",
                            s);
            r = -EINVAL;
        } else {
            c->log_level = lvl;
        }
    }
    if (tkl_conf_get_string(&x->rd, g, "timezone", &s) > 0) {
        free(c->timezone);
        if (!(c->timezone = strdup(s)))
            return -ENOMEM;
    }
    return r;
}

/* The teams, whose recipients name the notifiers read before them.
 * Returns 0, -EINVAL or -ENOMEM. */
static int load_teams(struct ctx *x, const config_setting_t *list)
{
    struct tkl_config *c = x->c;
    const char **names = calloc(c->n_notifiers + 1, sizeof(*names));
    if (!names)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_notifiers; i++)
        names[i] = c->notifiers[i].name;
    int r = tkl_teams_conf_read(&x->rd, list, names, c->n_notifiers, &c->teams);
    free(names);
    return r;
}

/* Records rr in *r when it is an error. Returns whether the load is out of
 * memory, which ends it at once; other errors let it go on, so that one
 * check finds them all. */
static bool out_of_memory(int *r, int rr)
{
    if (rr < 0)
        *r = rr;
    return *r == -ENOMEM;
}

/* Each slice in turn, by the step that reads it. Returns 0, -EINVAL or
 * -ENOMEM (then at once). */
/* Each channel of delivery.connections must be a notifier's name.
 * Returns 0 or -EINVAL (problems in rd's diags). */
static int check_limits(const struct tkl_confread *rd, const struct tkl_config *c)
{
    int r = 0;
    for (size_t i = 0; i < c->delivery.n_limits; i++) {
        const struct tkl_channel_limit *l = &c->delivery.limits[i];
        size_t k = 0;
        while (k < c->n_notifiers && strcmp(c->notifiers[k].name, l->channel) != 0)
            k++;
        if (k == c->n_notifiers) {
            tkl_conf_err_at(rd,
                            config_setting_get_member(
                                config_lookup(&c->cfg, "delivery.connections"), l->channel),
                            "delivery.connections names no notifier: \"%s\"", l->channel);
            r = -EINVAL;
        }
    }
    return r;
}

/* The calendar of the sources' observances, calendar { ... }: its title.
 * Returns 0, -EINVAL or -ENOMEM. */
static int load_calendar(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"title", NULL};
    int r = tkl_conf_check_keys(&x->rd, g, "calendar", keys) ? 0 : -EINVAL;
    int rr = tkl_conf_get_text(&x->rd, g, "title", "calendar.title", TKL_EXPORT_TITLE_MAX,
                               &x->c->calendar_title);
    return rr < 0 ? rr : r;
}

static int load_slices(struct ctx *x, const config_setting_t *root)
{
    static const char *const top[] = {"daemon",        "store",     "schedule", "delivery", "teams",
                                      "fallback_team", "notifiers", "sources",  "http",     "links",
                                      "report",        "state",     "calendar", NULL};
    struct tkl_config *c = x->c;
    const struct tkl_confread *rd = &x->rd;
    const config_setting_t *teams = config_setting_get_member(root, "teams"), *g;
    int r = tkl_conf_check_keys(rd, root, "the top level", top) ? 0 : -EINVAL;
    if (out_of_memory(&r, load_daemon(x, config_setting_get_member(root, "daemon"))))
        return -ENOMEM;
    g = config_setting_get_member(root, "store");
    if (out_of_memory(&r, tkl_store_conf_read(rd, g, &c->store, &c->debounce_ms)))
        return -ENOMEM;
    g = config_setting_get_member(root, "schedule");
    if (out_of_memory(&r, tkl_schedule_conf_read(rd, g, &c->schedule)))
        return -ENOMEM;
    /* notifiers first: team recipients name them */
    g = config_setting_get_member(root, "notifiers");
    if (out_of_memory(
            &r, tkl_plugin_conf_read(rd, g, TKL_PLUGIN_NOTIFIER, &c->notifiers, &c->n_notifiers)) ||
        out_of_memory(&r, load_teams(x, teams)) ||
        out_of_memory(&r, tkl_schedule_conf_teams(rd, teams, &c->teams, &c->schedule)))
        return -ENOMEM;
    g = config_setting_get_member(root, "delivery");
    if (out_of_memory(&r, tkl_delivery_conf_read(rd, g, &c->delivery)))
        return -ENOMEM;
    if (c->delivery.report_to && !tkl_team_find(&c->teams, c->delivery.report_to)) {
        tkl_conf_err_at(rd, config_lookup(&c->cfg, "delivery.report_to"),
                        "report_to names no team: \"%s\"", c->delivery.report_to);
        r = -EINVAL;
    }
    if (check_limits(rd, c) < 0)
        r = -EINVAL;
    g = config_setting_get_member(root, "state");
    if (out_of_memory(&r, tkl_state_conf_read(rd, g, &c->state)))
        return -ENOMEM;
    g = config_setting_get_member(root, "http");
    if (out_of_memory(&r, tkl_http_conf_read(rd, g, &c->http)))
        return -ENOMEM;
    g = config_setting_get_member(root, "links");
    if (out_of_memory(&r, tkl_links_conf_read(rd, g, &c->links)))
        return -ENOMEM;
    g = config_setting_get_member(root, "report");
    if (out_of_memory(&r, tkl_report_conf_read(rd, g, &c->report)))
        return -ENOMEM;
    g = config_setting_get_member(root, "calendar");
    if (out_of_memory(&r, load_calendar(x, g)))
        return -ENOMEM;
    g = config_setting_get_member(root, "sources");
    if (out_of_memory(&r,
                      tkl_plugin_conf_read(rd, g, TKL_PLUGIN_SOURCE, &c->sources, &c->n_sources)) ||
        out_of_memory(&r, tkl_schedule_conf_sources(rd, g, &c->schedule)))
        return -ENOMEM;
    return r;
}

/* With links on, a warning when the links in notices would open an
 * address people are not given (no http.public_url, so plain http to the
 * listen address) or one only this machine reaches (localhost, loopback,
 * a wildcard), at public_url's line, else the http group's. */
static void check_public_url(struct ctx *x)
{
    const struct tkl_config *c = x->c;
    const struct tkl_http_conf *h = &c->http;
    if (!c->links.enabled || !h->n_listen || !h->public_url)
        return;
    bool set = h->public_url_line != 0, local = tkl_http_url_local(h->public_url);
    if (set && !local)
        return;
    const config_setting_t *s = config_lookup(&c->cfg, set ? "http.public_url" : "http");
    const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : c->path;
    unsigned line = s ? (unsigned)config_setting_source_line(s) : h->line;
    if (set)
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, file, line, "public_url",
                     "http.public_url \"%s\" is reached only from this machine: the links in "
                     "notices open nowhere else; give the address people open "
                     "(\"https://tickler.example.gov.uk/\")",
                     h->public_url);
    else
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, file, line, "public_url",
                     "links without http.public_url: the links in notices go to %s, taken from "
                     "http.listen%s; set http.public_url to the address people open "
                     "(\"https://tickler.example.gov.uk/\")",
                     h->public_url, local ? ", which only this machine reaches" : "");
}

/* The team ids that slices name (sources, fallback_team, escalate_to),
 * and the time zone. Returns 0, -EINVAL or -ENOMEM. */
static int check_references(struct ctx *x, const config_setting_t *root)
{
    struct tkl_config *c = x->c;
    const char *fb;
    int r = 0;
    for (size_t i = 0; i < c->n_sources; i++)
        if (!tkl_team_find(&c->teams, c->sources[i].team)) {
            tkl_diag_add(x->rd.diags, TKL_SEV_ERROR, c->path, c->sources[i].line, "team",
                         "source \"%s\": team \"%s\" is not the id of a team in teams",
                         c->sources[i].name, c->sources[i].team);
            r = -EINVAL;
        }
    if (tkl_conf_get_string(&x->rd, root, "fallback_team", &fb) > 0) {
        if (!tkl_team_find(&c->teams, fb)) {
            tkl_conf_err_at(&x->rd, config_setting_get_member(root, "fallback_team"),
                            "fallback_team names no team: \"%s\"", fb);
            r = -EINVAL;
        } else if (!(c->teams.fallback = strdup(fb))) {
            return -ENOMEM;
        }
    }
    if (c->schedule.escalate_to && !tkl_team_find(&c->teams, c->schedule.escalate_to)) {
        tkl_conf_err_at(&x->rd, config_lookup(&c->cfg, "schedule.escalate_to"),
                        "escalate_to names no team: \"%s\"", c->schedule.escalate_to);
        r = -EINVAL;
    }
    if (c->report.n_request_updates && !c->delivery.report_to)
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, c->path, c->report.line, "request_updates",
                     "report.request_updates without delivery.report_to: no one is told which "
                     "teams answered");
    if (c->links.enabled && !c->delivery.report_to)
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, c->path, c->links.line, "links",
                     "links without delivery.report_to: nobody is told when a team says an "
                     "action is not theirs");
    const struct tkl_team *told;
    (void)tkl_config_report_team(c, &told); /* the team named, with recipients or not */
    const config_setting_t *told_at = config_lookup(&c->cfg, "delivery.report_to");
    if (c->links.enabled && told && !told->n_recipients)
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, c->path,
                     told_at ? (unsigned)config_setting_source_line(told_at) : 0, "report_to",
                     "links with delivery.report_to's team \"%s\" without recipients: nobody is "
                     "told when a team says an action is not theirs",
                     told->id);
    if (c->report.n_request_updates && (!c->links.enabled || !c->http.n_listen))
        tkl_diag_add(x->rd.diags, TKL_SEV_WARNING, c->path, c->report.line, "request_updates",
                     "report.request_updates without links and http: the requests carry no "
                     "links, so no answer is recorded and every team is followed up");
    check_public_url(x);
    /* only checked: the runtime sets the zone once the configuration is
     * accepted */
    if (tkl_tz_check(c->timezone) < 0) {
        tkl_conf_err_at(&x->rd, config_lookup(&c->cfg, "daemon.timezone"),
                        "unknown time zone \"%s\" (an IANA name such as \"Europe/London\"; is "
                        "tzdata installed?)",
                        c->timezone);
        r = -EINVAL;
    }
    return r;
}

/* A configuration of path with every default set, not read yet. Returns
 * NULL on ENOMEM. */
static struct tkl_config *config_new(const char *path)
{
    struct tkl_config *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    config_init(&c->cfg);
    c->log_level = -1;
    c->debounce_ms = 500;
    tkl_schedule_conf_init(&c->schedule);
    tkl_delivery_conf_init(&c->delivery);
    tkl_state_conf_init(&c->state);
    tkl_http_conf_init(&c->http);
    tkl_links_conf_init(&c->links);
    if (tkl_report_conf_init(&c->report) < 0) {
        tkl_config_free(c);
        return NULL;
    }
    c->path = strdup(path);
    c->dir = tkl_path_dir(path);
    c->calendar_title = strdup(TKL_EXPORT_TITLE);
    if (!c->path || !c->dir || !c->calendar_title) {
        tkl_config_free(c);
        return NULL;
    }
    return c;
}

int tkl_config_load(const char *path, struct tkl_config **ret, struct tkl_diags *diags)
{
    struct tkl_config *c = config_new(path);
    if (!c)
        return -ENOMEM;
    struct ctx x = {.rd = {.diags = diags, .file = path, .dir = c->dir}, .c = c};
    int r = tkl_conf_read_file(&c->cfg, path, c->dir, diags), rr;
    if (r == 0) {
        const config_setting_t *root = config_root_setting(&c->cfg);
        r = load_slices(&x, root);
        if (r != -ENOMEM && (rr = check_references(&x, root)) < 0)
            r = rr;
    }
    if (r == 0 && tkl_diags_has_errors(diags))
        r = -EINVAL;
    if (r < 0) {
        tkl_config_free(c);
        return r;
    }
    c->plugins = (struct tkl_plugin_set_conf){.path = c->path,
                                              .dir = c->dir,
                                              .notifiers = c->notifiers,
                                              .n_notifiers = c->n_notifiers,
                                              .sources = c->sources,
                                              .n_sources = c->n_sources,
                                              .teams = &c->teams};
    *ret = c;
    return 0;
}

void tkl_config_free(struct tkl_config *c)
{
    if (!c)
        return;
    tkl_plugin_conf_free(c->notifiers, c->n_notifiers);
    tkl_plugin_conf_free(c->sources, c->n_sources);
    tkl_team_dir_free(&c->teams);
    tkl_delivery_conf_free(&c->delivery);
    tkl_state_conf_free(&c->state);
    tkl_http_conf_free(&c->http);
    tkl_links_conf_free(&c->links);
    tkl_report_conf_free(&c->report);
    free(c->calendar_title);
    tkl_store_opts_free(&c->store);
    tkl_schedule_conf_free(&c->schedule);
    free(c->path);
    free(c->dir);
    free(c->state_dir);
    free(c->plugin_dir);
    free(c->timezone);
    config_destroy(&c->cfg);
    free(c);
}

const char *tkl_config_report_team(const struct tkl_config *c, const struct tkl_team **ret)
{
    const char *to = c->delivery.report_to;
    *ret = to ? tkl_team_find(&c->teams, to) : NULL;
    if (!to)
        return "delivery.report_to is not set";
    if (!*ret)
        return "delivery.report_to names no team";
    return (*ret)->n_recipients ? NULL : "delivery.report_to's team has no recipients";
}

const struct tkl_plugin_conf *tkl_config_notifier(const struct tkl_config *c, const char *name)
{
    const struct tkl_plugin_conf *nc = NULL;
    for (size_t i = 0; i < c->n_notifiers; i++)
        if (!strcmp(c->notifiers[i].name, name))
            nc = &c->notifiers[i];
    return nc;
}

bool tkl_config_writes_to(const struct tkl_config *c, const struct tkl_action *a,
                          const char *address)
{
    const struct tkl_team_dir *dir = &c->teams;
    const struct tkl_team *told;
    if (!tkl_config_report_team(c, &told) && tkl_team_lists(told, address))
        return true;
    for (size_t i = 0; !a && i < dir->n; i++)
        if (tkl_team_lists(&dir->teams[i], address))
            return true;
    for (size_t k = 0; a && k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(dir, a->teams[k]);
        const char *to = t && t->escalate_to ? t->escalate_to : c->schedule.escalate_to;
        if (tkl_team_lists(t, address) ||
            (t && to && tkl_team_lists(tkl_team_find(dir, to), address)))
            return true;
    }
    return false;
}
