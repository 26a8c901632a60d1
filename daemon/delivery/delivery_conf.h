/*
 * The delivery engine's slice of the configuration, delivery { ... }: how
 * long and how often notices are retried, how many are in flight per
 * notifier, and which team hears of permanent failures.
 */
#ifndef TKL_DELIVERY_CONF_H
#define TKL_DELIVERY_CONF_H

#include <libconfig.h>

#include "../core/confread.h"

/*
 * delivery.drain_seconds' default: how long a stop (and the retirement of
 * a notifier by a reload) lets the deliveries in flight finish before the
 * notifier cuts them short (then they are sent again). With PostgreSQL's
 * drain after it (at most half of state.lease_seconds, 150 s by default)
 * it stays within the shipped unit's TimeoutStopSec=170s; a server that
 * answers at all answers well within it.
 */
#define TKL_DRAIN_SECONDS 15

/*
 * delivery.joint_settle_seconds' default: how long an officer's update of
 * a joint action (complete, reopen, snooze, resume) stands before the
 * action's other owning teams are told of it. A later update of the same
 * action by the same team of the same pair (complete and reopen, snooze
 * and resume) within it supersedes it: of a quick run only the last is
 * told (complete then reopen: the reopen alone; complete, reopen,
 * complete: one completion), so clicks made and undone tell once, not
 * each time.
 */
#define TKL_JOINT_SETTLE_SECONDS 600

/* delivery.connections: one notifier's own limit. */
struct tkl_channel_limit {
    char *channel; /* a notifier's name */
    int n;         /* deliveries in flight, so connections open, at most */
    unsigned line;
};

struct tkl_delivery_conf {
    int max_age_hours;        /* transient failures are retried this long */
    int concurrency;          /* deliveries in flight per notifier */
    int retry_min_seconds;    /* first backoff step; doubles up to an hour */
    int drain_seconds;        /* a stop or a retirement waits this long for deliveries in flight */
    char *report_to;          /* team id told of permanent failures, or NULL */
    int report_every_seconds; /* failures are reported together this long after one */
    int joint_settle_seconds; /* a joint action's update is told once it stood this long */
    struct tkl_channel_limit *limits; /* delivery.connections, by notifier */
    size_t n_limits;
};

/* The defaults: 48 hours, 64 in flight (measured:
 * bench/notes/delivery-profile.md), 30 seconds, a drain of
 * TKL_DRAIN_SECONDS, no report team, reports every 300 seconds at most,
 * joint updates told after TKL_JOINT_SETTLE_SECONDS, no own limits. */
void tkl_delivery_conf_init(struct tkl_delivery_conf *d);

/*
 * Reads the delivery group g (NULL: none, the defaults stay) over *d.
 * report_to and the channels of connections are kept as written: the
 * caller checks that they name a team and notifiers.
 * Returns 0, -EINVAL (problems in x->diags) or -ENOMEM. Whatever it
 * returns, d holds what was read, for tkl_delivery_conf_free.
 */
int tkl_delivery_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_delivery_conf *d);

/* The deliveries channel may have in flight: its delivery.connections
 * entry, else delivery.concurrency. */
int tkl_delivery_conf_limit(const struct tkl_delivery_conf *d, const char *channel);

/* Frees what d holds (report_to, the limits). */
void tkl_delivery_conf_free(struct tkl_delivery_conf *d);

#endif
