/*
 * The whole configuration file (libconfig syntax), documented key by key
 * in etc/tickler.conf and tickler.conf(5). Unknown keys are errors.
 * Relative paths are read relative to the directory of the configuration
 * file.
 *
 * Each step reads its own slice (store_conf.c, schedule_conf.c,
 * delivery_conf.c, team_conf.c, plugin_conf.c, report_conf.c,
 * state_conf.c); this reads the file, hands each step its group, keeps the
 * daemon's own settings and checks what one slice names of another. Steps are given their slices,
 * never this struct.
 */
#ifndef TKL_CONFIG_H
#define TKL_CONFIG_H

#include <libconfig.h>
#include <stddef.h>

#include "../core/diag.h"
#include "../delivery/delivery_conf.h"
#include "../http/http_conf.h"
#include "../plugin/plugin_conf.h"
#include "../report/report_conf.h"
#include "../schedule/schedule_conf.h"
#include "../state/state_conf.h"
#include "../store/store.h"
#include "../team/team.h"
#include "../token/token_conf.h"

struct tkl_config {
    config_t cfg; /* kept: plugin settings point into it */
    char *path;
    char *dir;
    char *state_dir;
    bool plan_private; /* daemon.plan_memory = "private": the plan never in files */
    char *plugin_dir;
    char *timezone;
    int log_level;
    struct tkl_store_opts store;
    int debounce_ms;
    struct tkl_schedule_conf schedule; /* the policy, escalate_to, each team's rules */
    struct tkl_team_dir teams;
    struct tkl_delivery_conf delivery;
    struct tkl_state_conf state;   /* where the durable state lives */
    struct tkl_http_conf http;     /* the web face */
    struct tkl_links_conf links;   /* the signed links' keys; none: no links */
    struct tkl_report_conf report; /* update requests and the progress report's wording */
    char *calendar_title;          /* calendar.title: the name of the calendar of the sources'
                                    * observances (feeds, pages, tickler calendar) */
    struct tkl_plugin_conf *notifiers;
    size_t n_notifiers;
    struct tkl_plugin_conf *sources; /* each names its team */
    size_t n_sources;
    struct tkl_plugin_set_conf plugins; /* the instances above, for tkl_plugin_set_open */
};

/*
 * Reads and validates path. Problems go to diags as file:line messages.
 * daemon.timezone is only checked: the caller sets the process zone once
 * it accepts the configuration. Returns 0 with *ret set, or -EINVAL (diags
 * holds why) or -ENOMEM; on failure *ret is untouched.
 */
int tkl_config_load(const char *path, struct tkl_config **ret, struct tkl_diags *diags);

void tkl_config_free(struct tkl_config *c);

/* The notifier of c named name (the last, should two have it), or NULL:
 * the channel name queued notices give, which a reload may have renamed
 * or removed. */
const struct tkl_plugin_conf *tkl_config_notifier(const struct tkl_config *c, const char *name);

/* Who is told of a "not ours" (delivery.report_to): NULL when it names a
 * team with recipients, else why nobody is ("delivery.report_to is not
 * set", "... names no team", "...'s team has no recipients"); *ret is the
 * team it names, or NULL. */
const char *tkl_config_report_team(const struct tkl_config *c, const struct tkl_team **ret);

/* Whether tickler, by c, writes to address about action a (NULL: one the
 * plan no longer has): a recipient of a team that owns a, of the team
 * each of those escalates to (its escalate_to, else
 * schedule.escalate_to), or of delivery.report_to's team; for an action
 * the plan no longer has, of any team. A link whose recipient it is not
 * acts for nobody: its holder was taken off the teams since. */
bool tkl_config_writes_to(const struct tkl_config *c, const struct tkl_action *a,
                          const char *address);

#endif
