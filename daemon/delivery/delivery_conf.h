/*
 * The delivery engine's slice of the configuration, delivery { ... }: how
 * long and how often notices are retried, how many are in flight per
 * notifier, and which team hears of permanent failures.
 */
#ifndef TKL_DELIVERY_CONF_H
#define TKL_DELIVERY_CONF_H

#include <libconfig.h>

#include "../core/confread.h"

struct tkl_delivery_conf {
    int max_age_hours;     /* transient failures are retried this long */
    int concurrency;       /* deliveries in flight per notifier */
    int retry_min_seconds; /* first backoff step; doubles up to an hour */
    char *report_to;       /* team id told of permanent failures, or NULL */
};

/* The defaults: 48 hours, 4 in flight, 30 seconds, no report team. */
void tkl_delivery_conf_init(struct tkl_delivery_conf *d);

/*
 * Reads the delivery group g (NULL: none, the defaults stay) over *d.
 * report_to is kept as written: the caller checks that it names a team.
 * Returns 0, -EINVAL (problems in x->diags) or -ENOMEM. Whatever it
 * returns, d holds what was read, for tkl_delivery_conf_free.
 */
int tkl_delivery_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_delivery_conf *d);

/* Frees what d holds (report_to). */
void tkl_delivery_conf_free(struct tkl_delivery_conf *d);

#endif
