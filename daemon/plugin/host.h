/*
 * The services the host lends each plugin instance (struct tkl_host): the
 * loop, logging, the clock, transfers on the shared curl multi handle, and
 * secret reading. ticklerd and `tickler send-test` share them.
 */
#ifndef TKL_HOST_H
#define TKL_HOST_H

#include <stdint.h>

#include <uv.h>

#include "../core/config.h"
#include "../core/diag.h"
#include "../transfer/transfer.h"
#include "loader.h"

struct tkl_host_services {
    uv_loop_t *loop;
    struct tkl_transfers *transfers; /* NULL: transfers are refused */
    int64_t clock_offset;            /* seconds added to time(NULL) */
    void (*items_changed)(void *data, const char *instance);
    void *data;
    unsigned n_errors; /* lines plugins logged at TKL_LOG_ERR */
};

/* Points p->host at svc (which must outlive the instance) and the given
 * directories (which must outlive it too). */
void tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                   const char *config_dir, const char *state_dir);

/*
 * Opens the configured notifier nc from plugin_dir, checks it is a
 * notifier, lends it svc and inits it with its settings. Problems go to
 * diags as c->path:line messages. Returns 0 with *ret set, or a negative
 * errno (nothing left open).
 */
int tkl_notifier_open(const char *plugin_dir, const struct tkl_config *c,
                      const struct tkl_notifier_conf *nc, struct tkl_host_services *svc,
                      const char *state_dir, struct tkl_plugin_instance **ret,
                      struct tkl_diags *diags);

#endif
