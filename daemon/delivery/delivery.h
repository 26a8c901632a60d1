/*
 * The delivery engine: hands the outbox's due notices to the notifier of
 * their channel, each channel only as far as it has room
 * (delivery.concurrency), records every outcome, backs transient failures
 * off and reports permanent ones to delivery.report_to.
 *
 * The promise: a notice is in the outbox before its delivery starts and is
 * marked `sending` while it is in flight; its outcome is recorded when the
 * notifier reports. An outcome the outbox refuses (locked, full, out of
 * memory) is kept and recorded again at every round, and its notice is not
 * handed out again meanwhile, so nothing is sent twice by a running daemon;
 * after a crash only the notices marked `sending` can be sent twice.
 *
 * Group commit: the engine expects a grouped outbox (tkl_outbox_set_grouped)
 * whose listener is tkl_delivery_synced. Outcomes are written into the
 * open group as the notifiers report; a round claims each channel's due
 * notices in one read, marks them `sending` in the same group, then syncs
 * it (one transaction, one fsync: the notices queued since the last sync,
 * the outcomes and the marks) and only then calls deliver(). The one
 * place that calls deliver() (hand_all) syncs before each call, so no
 * delivery can start while any write is not durable; a failed sync hands
 * nothing out (the claimed notices stay due). An outcome whose group is
 * undone is kept and recorded again. A crash loses at most the outcomes
 * written since the last sync, all of notices that were in flight at that
 * sync: duplicates stay bounded by the deliveries in flight.
 *
 * Everything runs on the loop thread. The engine logs what it does.
 */
#ifndef TKL_DELIVERY_H
#define TKL_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../outbox/outbox.h"
#include "../plugin/loader.h"
#include "../team/team.h"
#include "../token/token.h"
#include "delivery_conf.h"

struct tkl_flight;
struct tkl_metrics;

/* What the engine's owner lends it. */
struct tkl_delivery_host {
    int64_t (*now_ms)(void *data); /* the clock, milliseconds (honours --now) */
    void (*kick)(void *data);      /* run tkl_delivery_round() soon, from the loop */
    void *data;
};

struct tkl_deliverer {
    struct tkl_outbox *outbox;
    const struct tkl_delivery_conf *conf;
    const struct tkl_team_dir *teams;
    struct tkl_plugin_instance *const *notifiers; /* instance name = channel */
    size_t n_notifiers;
    struct tkl_delivery_host host;
    struct tkl_flight *flights; /* handed to a notifier, not reported yet */
    size_t n_flights;
    struct tkl_flight *unrecorded;      /* reported, but the outbox refused the outcome */
    struct tkl_flight *written;         /* outcome in the outbox's open group, not durable */
    bool stopping;                      /* shutting down: nothing new starts */
    struct tkl_metrics *metrics;        /* attempts and outcomes counted there; NULL: none */
    const struct tkl_token_ring *links; /* signs the links in notices; NULL or empty: none */
    const char *link_base;              /* http.public_url (ends in '/'); NULL: no links */
    int link_days;                      /* how long a link lasts */
};

/*
 * Points the engine at a configuration and its notifiers (after a start or
 * a reload); deliveries in flight complete through the instances they were
 * handed to. All must stay valid until the next call or tkl_delivery_free.
 * Each notifier's channel gets its metrics series (when metrics is set).
 */
void tkl_delivery_set(struct tkl_deliverer *e, const struct tkl_delivery_conf *conf,
                      const struct tkl_team_dir *teams,
                      struct tkl_plugin_instance *const *notifiers, size_t n_notifiers);

/*
 * The links the engine puts in the notices it hands out from now on. Each
 * entry that is a plan action (not an observance) reminded of or asked
 * about (stages lead, due, overdue, check-in, request) gets
 * <public_url>a/<token>, the token signed with ring for (the action, the
 * notice's recipient), issued when the notice is handed to its notifier
 * and valid for expiry_days. No links while ring is NULL or empty or
 * public_url is NULL. ring and public_url must stay valid until the next
 * call or tkl_delivery_free.
 *
 * A link is made for one deliver() call and wiped after it: it is never
 * written to the outbox nor logged, and a notifier's reply that repeats
 * one of its tokens is not kept (the outbox records that it was not).
 */
void tkl_delivery_set_links(struct tkl_deliverer *e, const struct tkl_token_ring *ring,
                            const char *public_url, int expiry_days);

/*
 * One round: records outcomes kept from before, then starts the due
 * notices of every channel whose notifier is running and has room;
 * notices of a channel no notifier serves fail for good. *ret_next gets
 * the instant (seconds) of the next notice that will fall due, or
 * INT64_MAX. Returns the number of deliveries started, or a negative errno
 * when an outbox error cut the round short (the deliveries it started run
 * on; notices it did not reach stay due, for the caller to try again soon).
 */
int tkl_delivery_round(struct tkl_deliverer *e, int64_t *ret_next);

/* The outbox's listener (tkl_outbox_on_sync, data: the engine): frees
 * the flights whose outcomes the group made durable (r == 0), or keeps
 * them to record again when the group was undone (r < 0). */
void tkl_delivery_synced(void *data, int r);

/* Records the outcomes kept because the outbox refused them and syncs the
 * outbox. Returns how many outcomes are still not durable (their notices
 * are sent again after a restart). */
size_t tkl_delivery_settle(struct tkl_deliverer *e);

/* Nothing in flight and every outcome recorded. */
bool tkl_delivery_idle(const struct tkl_deliverer *e);

/* The next delivery rounds start nothing; deliveries in flight complete
 * (a transient end is kept pending for the next start). */
void tkl_delivery_stop(struct tkl_deliverer *e);

/* The backoff before attempt `attempts` (1: the first retry): first
 * doubling to an hour with up to 25 % jitter, at least retry_after. */
int64_t tkl_delivery_backoff(int first, int attempts, int32_t retry_after);

/* Frees what is left (after the loop has ended). Accepts an empty engine. */
void tkl_delivery_free(struct tkl_deliverer *e);

#endif
