/*
 * The `state` group of the configuration: where the daemon's durable state
 * lives. backend "sqlite" (the default: the outbox in the state directory)
 * or "postgresql" (several ticklerd on one database, state/pg_state.c).
 */
#ifndef TKL_STATE_CONF_H
#define TKL_STATE_CONF_H

#include <libconfig.h>

#include "../core/confread.h"

enum tkl_state_backend {
    TKL_STATE_SQLITE = 0,
    TKL_STATE_POSTGRESQL = 1,
};

struct tkl_state_conf {
    enum tkl_state_backend backend;
    /* postgresql: a path (relative to the configuration's folder) or
     * "credential:NAME" */
    char *conninfo_file;
    char *node;        /* this node's id (default: the host name) */
    int lease_seconds; /* the lease of a claimed notice (default 300) */
};

void tkl_state_conf_init(struct tkl_state_conf *s);

/* Reads group g (NULL: absent, the defaults kept). Returns 0, -EINVAL
 * (problems in x's diags, naming file, line and setting) or -ENOMEM. */
int tkl_state_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_state_conf *s);

void tkl_state_conf_free(struct tkl_state_conf *s);

#endif
