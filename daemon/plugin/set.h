/*
 * The plugin instances a configuration names, notifiers and sources alike,
 * under one set of lifecycle rules (see struct tkl_plugin_instance):
 * opened and init()ed when a configuration is read, started once it is in
 * force and never after shutdown began, stopped only if started, retired
 * through the host so that destroy() runs after the close callbacks.
 *
 * On a reload the instances of the new configuration are built first and
 * checked; tkl_plugin_set_carry() then keeps every running instance whose
 * name and plugin stay (reconfigured when the plugin can take new settings,
 * else only when its settings did not change), so a reload loses no plugin
 * state: work a notifier already accepted, rate budgets, watches.
 */
#ifndef TKL_PLUGIN_SET_H
#define TKL_PLUGIN_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/diag.h"
#include "host.h"
#include "loader.h"
#include "plugin_conf.h"

struct tkl_plugin_set {
    struct tkl_plugin_instance **notifiers; /* in configuration order */
    size_t n_notifiers;
    struct tkl_plugin_instance **sources; /* conf->sources[i] is sources[i] */
    size_t n_sources;
};

/*
 * Opens and inits every instance of conf of the kinds given (a mask of enum
 * tkl_plugin_kind) from plugin_dir, and asks each notifier whether it can
 * use every recipient of conf->teams on its channel. Problems go to diags
 * as conf->path:line messages. Returns 0 with *ret set, or a negative
 * errno (nothing left open).
 */
int tkl_plugin_set_open(const char *plugin_dir, const struct tkl_plugin_set_conf *conf,
                        unsigned kinds, struct tkl_host_services *svc, const char *state_dir,
                        struct tkl_plugin_set *ret, struct tkl_diags *diags);

/*
 * Opens and inits the one notifier nc of conf (tickler send-test). Returns
 * 0 with *ret set, or a negative errno (problems in diags; nothing open).
 */
int tkl_notifier_open(const char *plugin_dir, const struct tkl_plugin_set_conf *conf,
                      const struct tkl_plugin_conf *nc, struct tkl_host_services *svc,
                      const char *state_dir, struct tkl_plugin_instance **ret,
                      struct tkl_diags *diags);

/*
 * Moves into fresh (opened, not started) every started instance of old
 * whose instance name and plugin file are the same: the plugin's
 * reconfigure() takes fresh's settings, or, for a plugin without it, the
 * instance is kept only if its settings are unchanged. The fresh instances
 * it replaces are destroyed. Returns how many were kept.
 */
size_t tkl_plugin_set_carry(struct tkl_plugin_set *old, struct tkl_plugin_set *fresh);

/* Starts every instance not yet started, each whatever the others do (one
 * that fails stays unstarted, to be tried again). Returns 0 or the first
 * error, with *ret_failed naming its instance. */
int tkl_plugin_set_start(struct tkl_plugin_set *s, const char **ret_failed);

/* Whether every instance has started. */
bool tkl_plugin_set_started(const struct tkl_plugin_set *s);

/* Stops the started instances (shutdown); they stay in the set. */
void tkl_plugin_set_stop(struct tkl_plugin_set *s);

/* Retires every instance through svc and empties the set. */
void tkl_plugin_set_retire(struct tkl_plugin_set *s, struct tkl_host_services *svc);

/* Destroys every instance at once: for a set that never started, or after
 * the loop has ended. Accepts an empty set. */
void tkl_plugin_set_close(struct tkl_plugin_set *s);

#endif
