/*
 * The plugin instances a configuration names, notifiers ( ... ) and
 * sources ( ... ): each instance's name, plugin file and own settings,
 * and, for a source, the team prompted for its items.
 */
#ifndef TKL_PLUGIN_CONF_H
#define TKL_PLUGIN_CONF_H

#include <libconfig.h>
#include <stddef.h>

#include <tickler/plugin.h>

#include "../core/confread.h"
#include "../team/team.h"

struct tkl_plugin_conf {
    char *name;   /* instance name; a notifier's is the channel team recipients name */
    char *plugin; /* plugin file stem: <plugin_directory>/<plugin>.so */
    char *team;   /* a source's team id, prompted for every item; NULL for a notifier */
    const config_setting_t *settings; /* the plugin's own group, or NULL; in the configuration */
    unsigned line;                    /* of the instance's entry */
    unsigned plugin_line;             /* of its plugin key */
};

/*
 * Reads list (NULL: none), the instances of kind, into a new array
 * *instances of *n_instances. A source must name a team; whether a team
 * has that id is the caller's check. Returns 0, -EINVAL (problems in
 * x->diags) or -ENOMEM. Whatever it returns, *instances and *n_instances
 * are set to the instances read (each with a name and a plugin; none when
 * there is no list), for tkl_plugin_conf_free.
 */
int tkl_plugin_conf_read(const struct tkl_confread *x, const config_setting_t *list,
                         enum tkl_plugin_kind kind, struct tkl_plugin_conf **instances,
                         size_t *n_instances);

/* Frees the n instances of v and v. Accepts NULL. */
void tkl_plugin_conf_free(struct tkl_plugin_conf *v, size_t n);

/* What a plugin set is opened from: a configuration's instances, the file
 * its problems are reported at, the directory its plugins read relative
 * paths from, and the teams whose recipients notifiers are asked about.
 * Borrowed: all must outlive the set's instances. */
struct tkl_plugin_set_conf {
    const char *path;
    const char *dir;
    const struct tkl_plugin_conf *notifiers;
    size_t n_notifiers;
    const struct tkl_plugin_conf *sources;
    size_t n_sources;
    const struct tkl_team_dir *teams;
};

#endif
