/*
 * Loading plugins: dlopen(RTLD_NOW | RTLD_LOCAL) from the plugin directory
 * only, ABI negotiation, and instance lifetime.
 */
#ifndef TKL_LOADER_H
#define TKL_LOADER_H

#include <tickler/plugin.h>

#include "../core/diag.h"

struct tkl_transfers;

/*
 * One instance's life: opened and init()ed, started, stopped (stop() has
 * closed its handles through host.close), destroyed once every close
 * callback has run. An instance that never started is never stopped.
 */
struct tkl_plugin_instance {
    void *dl;
    const struct tkl_plugin *desc;
    struct tkl_host host;
    char *instance;   /* owns host.instance */
    char *config_dir; /* owns host.config_dir */
    char *path;
    void *state;
    const config_setting_t *settings; /* in the configuration it now serves */
    unsigned line;                    /* of its entry in that configuration */
    bool started;
    bool stopped;
    bool retired;     /* no longer serves a configuration; destroyed when closed */
    unsigned closing; /* handles closed through host.close, callbacks pending */
    bool untracked;   /* a close could not be tracked: destroyed only at exit */
    bool told_abi;    /* logged that its transfers are refused (ABI below 3) */
    bool settling;    /* stopping: transfers refused, those that ended being told */
    bool draining;    /* retired, its deliveries in flight let finish before stop() */
    /* its own transfers, on a thread of their own (host.c): made at its
     * first transfer, closed when it stops; NULL before and after */
    struct tkl_transfers *transfers;
    uint64_t drain_until; /* draining: stopped at this uv_now() at the latest */
    struct tkl_plugin_instance *next_retired;
};

/* The ABI 2 callbacks, or NULL for a plugin of ABI 1. */
#define TKL_PLUGIN_V2(p, cb) ((p)->desc->abi_version >= 2 ? (p)->desc->cb : NULL)

/* ABI versions this host supports, newest first. */
extern const uint32_t tkl_host_abi_versions[];
extern const size_t tkl_host_abi_versions_n;

/*
 * Loads <dir>/<name>.so and checks its descriptor. Problems (file missing,
 * dlerror, missing entry symbol, unsupported ABI) go to diags naming the
 * file. Returns 0 or a negative errno; on failure *ret is untouched.
 */
int tkl_plugin_open(const char *dir, const char *name, struct tkl_plugin_instance **ret,
                    struct tkl_diags *diags);

/* Calls init() with the instance's settings. host fields other than
 * instance must be filled by the caller beforehand. */
int tkl_plugin_init(struct tkl_plugin_instance *p, const char *instance,
                    const config_setting_t *settings);

/*
 * Asks notifier instance p, when it can tell (ABI 2), whether it can
 * deliver to address. Returns 0, or the notifier's negative errno with
 * *ret_why a new string of why, as the plugin said it made one clean
 * line (tkl_text_reply_line: its words are a third party's), "refused by
 * the notifier" when it said nothing, NULL when out of memory.
 */
int tkl_plugin_check_recipient(const struct tkl_plugin_instance *p, const char *address,
                               char **ret_why);

/* Closes the transfers p still has (host.c; their memory is freed when
 * the loop next runs), then calls destroy() (if init succeeded) and
 * dlclose(). Accepts NULL. */
void tkl_plugin_close(struct tkl_plugin_instance *p);

#endif
