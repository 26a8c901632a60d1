#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tickler/plugin.h>

#include "../schedule/schedule_conf.h"
#include "../plugin/plugin_conf.h"
#include "../store/store_conf.h"
#include "../team/team_conf.h"
#include "../core/confread.h"
#include "../core/day.h"
#include "../core/log.h"
#include "../core/text.h"

#ifndef TICKLER_PLUGIN_DIR
#define TICKLER_PLUGIN_DIR "/usr/local/lib/tickler/plugins"
#endif
const char tkl_default_plugin_dir[] = TICKLER_PLUGIN_DIR;

struct ctx {
    struct tkl_confread rd; /* first: the context of every problem */
    struct tkl_config *c;
};

static int load_daemon(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"state_directory", "plugin_directory", "log_level",
                                       "timezone", NULL};
    struct tkl_config *c = x->c;
    const char *s;
    int r = 0;
    if (!tkl_conf_check_keys(&x->rd, g, "daemon", keys))
        r = -EINVAL;
    c->state_dir = strdup("/var/lib/tickler");
    c->plugin_dir = strdup(tkl_default_plugin_dir);
    c->timezone = strdup("Europe/London");
    if (!c->state_dir || !c->plugin_dir || !c->timezone)
        return -ENOMEM;
    if (tkl_conf_get_string(&x->rd, g, "state_directory", &s) > 0) {
        free(c->state_dir);
        if (!(c->state_dir = tkl_conf_path(&x->rd, s)))
            return -ENOMEM;
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

int tkl_config_load(const char *path, struct tkl_config **ret, struct tkl_diags *diags)
{
    static const char *const top[] = {"daemon",        "store",     "schedule", "delivery", "teams",
                                      "fallback_team", "notifiers", "sources",  NULL};
    struct tkl_config *c = calloc(1, sizeof(*c));
    struct ctx x = {.rd = {.diags = diags, .file = path}, .c = c};
    int r = 0, rr;
    if (!c)
        return -ENOMEM;
    config_init(&c->cfg);
    c->log_level = -1;
    c->debounce_ms = 500;
    tkl_schedule_conf_init(&c->schedule);
    tkl_delivery_conf_init(&c->delivery);
    if (!(c->path = strdup(path)))
        goto oom;
    char *slash = strrchr(c->path, '/');
    if (slash == c->path)
        c->dir = strdup("/");
    else if (slash)
        c->dir = strndup(c->path, (size_t)(slash - c->path));
    else
        c->dir = strdup(".");
    if (!c->dir)
        goto oom;
    x.rd.dir = c->dir;
    if ((r = tkl_conf_read_file(&c->cfg, path, c->dir, diags)) < 0) {
        if (r == -ENOMEM)
            goto oom;
        goto fail;
    }
    const config_setting_t *root = config_root_setting(&c->cfg);
    if (!tkl_conf_check_keys(&x.rd, root, "the top level", top))
        r = -EINVAL;
    if ((rr = load_daemon(&x, config_setting_get_member(root, "daemon"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = tkl_store_conf_read(&x.rd, config_setting_get_member(root, "store"), &c->store,
                                  &c->debounce_ms)) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = tkl_schedule_conf_read(&x.rd, config_setting_get_member(root, "schedule"),
                                     &c->schedule)) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    /* notifiers first: team recipients name them */
    if ((rr = tkl_plugin_conf_read(&x.rd, config_setting_get_member(root, "notifiers"),
                                   TKL_PLUGIN_NOTIFIER, &c->notifiers, &c->n_notifiers)) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_teams(&x, config_setting_get_member(root, "teams"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = tkl_schedule_conf_teams(&x.rd, config_setting_get_member(root, "teams"), &c->teams,
                                      &c->schedule)) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = tkl_delivery_conf_read(&x.rd, config_setting_get_member(root, "delivery"),
                                     &c->delivery)) < 0)
        r = rr;
    if (c->delivery.report_to && !tkl_team_find(&c->teams, c->delivery.report_to)) {
        tkl_conf_err_at(&x.rd, config_lookup(&c->cfg, "delivery.report_to"),
                        "report_to names no team: \"%s\"", c->delivery.report_to);
        r = -EINVAL;
    }
    if (r == -ENOMEM)
        goto oom;
    if ((rr = tkl_plugin_conf_read(&x.rd, config_setting_get_member(root, "sources"),
                                   TKL_PLUGIN_SOURCE, &c->sources, &c->n_sources)) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    for (size_t i = 0; i < c->n_sources; i++)
        if (!tkl_team_find(&c->teams, c->sources[i].team)) {
            tkl_diag_add(diags, TKL_SEV_ERROR, path, c->sources[i].line, "team",
                         "source \"%s\": team \"%s\" is not the id of a team in teams",
                         c->sources[i].name, c->sources[i].team);
            r = -EINVAL;
        }
    const char *fb;
    if (tkl_conf_get_string(&x.rd, root, "fallback_team", &fb) > 0) {
        if (!tkl_team_find(&c->teams, fb)) {
            tkl_conf_err_at(&x.rd, config_setting_get_member(root, "fallback_team"),
                            "fallback_team names no team: \"%s\"", fb);
            r = -EINVAL;
        } else if (!(c->teams.fallback = strdup(fb))) {
            goto oom;
        }
    }
    if (c->schedule.escalate_to && !tkl_team_find(&c->teams, c->schedule.escalate_to)) {
        tkl_conf_err_at(&x.rd, config_lookup(&c->cfg, "schedule.escalate_to"),
                        "escalate_to names no team: \"%s\"", c->schedule.escalate_to);
        r = -EINVAL;
    }
    if (tkl_tz_check(c->timezone) < 0) {
        tkl_conf_err_at(
            &x.rd, config_lookup(&c->cfg, "daemon.timezone"),
            "unknown time zone \"%s\" (an IANA name such as \"Europe/London\"; is tzdata "
            "installed?)",
            c->timezone);
        r = -EINVAL;
    }
    if (r < 0 || tkl_diags_has_errors(diags)) {
        r = r < 0 ? r : -EINVAL;
        goto fail;
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
oom:
    r = -ENOMEM;
fail:
    tkl_config_free(c);
    return r;
}

void tkl_config_free(struct tkl_config *c)
{
    if (!c)
        return;
    tkl_plugin_conf_free(c->notifiers, c->n_notifiers);
    tkl_plugin_conf_free(c->sources, c->n_sources);
    tkl_team_dir_free(&c->teams);
    tkl_delivery_conf_free(&c->delivery);
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
