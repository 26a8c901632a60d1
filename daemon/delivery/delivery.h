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
 * Group commit: the engine writes through the state interface
 * (state/state.h), whose writes join one open group. Outcomes are written
 * into the open group as the notifiers report; a round claims each
 * served channel's due notices as soon as it starts (read and marked
 * `sending` in the same group as the outcomes that asked for the round)
 * and hands them out only in the claim's completion, once the group that
 * holds the marks (with the notices queued since the last commit and the
 * outcomes) is durable: one transaction, one fsync a round. The one place that
 * calls deliver() (hand_ready) hands out only while no write waits in the
 * open group (a write made meanwhile, such as the outcome of a refused
 * deliver(), is first made durable: the rest wait for a barrier's
 * completion), so no delivery can start while any write is not durable;
 * a claim or barrier whose group was undone hands nothing out (the claimed
 * notices stay due). An outcome whose group is undone is kept and recorded
 * again. A crash loses at most the outcomes written since the last
 * commit, all of notices that were in flight at that commit: duplicates
 * stay bounded by the deliveries in flight.
 *
 * A claimed notice every action of which officers have marked complete
 * since it was queued (host.completed: a retry after the mail server
 * refused it, say) is withdrawn: never handed out, its outcome withdrawn,
 * counted in tickler_notifications_withdrawn_total once durable. A digest
 * completed in part is sent whole.
 *
 * Everything runs on the loop thread. The engine logs what it does.
 */
#ifndef TKL_DELIVERY_H
#define TKL_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../outbox/outbox.h"
#include "../state/state.h"
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
    /* a round's end: r (0, or the negative errno that cut it short),
     * the deliveries it started, the instant (seconds) of the next notice
     * that will fall due or INT64_MAX */
    void (*round_done)(void *data, int r, int started, int64_t next);
    void *data;
    /* a delivery's outcome was reported (told after it is recorded, even
     * while a round runs or the engine stops); NULL: not told */
    void (*ended)(void *data);
    /* Whether claimed notice n was completed whole since it was queued
     * (tkl_queue_completed): 1 withdraws it, not handed out, its outcome
     * withdrawn with *ret_why (taken) as its reply; 0 sends it; -ENOMEM
     * sends it too. NULL: every notice is sent. */
    int (*completed)(void *data, const struct tkl_notice *n, char **ret_why);
    /* An intro for claimed notice n, which has none, given to its notifier
     * with it (tkl_route_copies_intro over the plan in force): *ret, taken,
     * or NULL for none. Returns 0, or -ENOMEM (it goes without). NULL:
     * none is asked for. */
    int (*intro)(void *data, const struct tkl_notice *n, char **ret);
    /* Run tkl_delivery_sweep() in about seconds, unless one is asked
     * for sooner already: a failure to report was recorded, or a sweep
     * is tried again. NULL: none is asked for (the owner sweeps). */
    void (*sweep_in)(void *data, int seconds);
};

/* Transient failures in a row on one channel after which its server is
 * taken to be down (a recipient refused for now alone rarely makes so
 * many in a row). */
#define TKL_DELIVERY_DOWN_AFTER 3

struct tkl_channel_streak;
struct tkl_unserved;

struct tkl_server_wait {
    uint64_t id;
    int64_t until;
};

struct tkl_deliverer {
    struct tkl_state *state;
    struct tkl_state_lease lease; /* this node's, for the notices it claims */
    /* the state is shared by nodes: a channel no notifier here serves may
     * be another node's (a configuration rolled out one node at a time);
     * it changes only what the log and the notice's reply say */
    bool shared;
    const struct tkl_delivery_conf *conf;
    const struct tkl_team_dir *teams;
    struct tkl_plugin_instance *const *notifiers; /* instance name = channel */
    size_t n_notifiers;
    struct tkl_delivery_host host;
    struct tkl_flight *flights; /* handed to a notifier, not reported yet */
    size_t n_flights;
    struct tkl_flight *unrecorded; /* reported, but the outbox refused the outcome */
    unsigned record_failures;      /* refusals in a row: logged at the 1st, 2nd, 4th... */
    struct tkl_flight *written;    /* outcome in the open group, its completion not told */
    struct tkl_flight *ready;      /* claimed and durable, not yet handed out */
    bool ready_waiting;            /* a barrier is queued for ready */
    bool in_round, round_again;    /* a round waits for completions; another was asked */
    size_t round_claims;           /* its reads (claims, due channels) not told yet */
    int round_r, round_started;
    bool stopping;               /* shutting down: nothing new starts */
    struct tkl_metrics *metrics; /* attempts and outcomes counted there; NULL: none */
    /* per channel, the transient failures in a row (made at its first):
     * at TKL_DELIVERY_DOWN_AFTER its server is taken to be down, and its
     * next delivery makes the notices waiting for a retry due at once */
    struct tkl_channel_streak *streaks;
    /* per channel no notifier serves (renamed or removed by a reload),
     * its notices seen waiting since the last tkl_delivery_set: warned of
     * once, and made due at once when a notifier of that name comes back */
    struct tkl_unserved *unserved;
    /* the notifiers' names as last set, to compare at a reload; NULL
     * before the first set (or when they could not be kept) */
    char **names;
    size_t n_names;
    /* notices a server asked to wait (Retry-After) until their next
     * attempt: never hastened; if one could not be kept, nothing is
     * hastened before waits_lost_until */
    struct tkl_server_wait *waits;
    size_t n_waits;
    int64_t waits_lost_until;
    bool sweeping;                      /* a sweep waits for the state */
    bool sweep_again;                   /* another was asked for meanwhile, or more failures wait */
    size_t sweep_n;                     /* the failures of the report being queued */
    const struct tkl_token_ring *links; /* signs the links in notices; NULL or empty: none */
    const char *link_base;              /* http.public_url (ends in '/'); NULL: no links */
    int link_days;                      /* how long a link lasts */
    const char *calendar_title;         /* given to each notice handed out; NULL: none */
};

/*
 * Points the engine at a configuration and its notifiers (after a start or
 * a reload); deliveries in flight complete through the instances they were
 * handed to. All must stay valid until the next call or tkl_delivery_free.
 * Each notifier's channel gets its metrics series (when metrics is set).
 * At a reload, the notices waiting for a retry of each notifier the
 * configuration no longer has (renamed or removed) are made due at once,
 * so that the next round warns of them (they wait for a notifier of that
 * name), and so are those of each notifier it has again, which go at once.
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
 * The calendar's name (calendar.title) the engine gives each notice it
 * hands out from now on (tkl_notice.calendar_title), for the notifiers to
 * name the calendar by; NULL: none (they say TKL_CALENDAR_TITLE_DEFAULT).
 * title must stay valid until the next call or tkl_delivery_free.
 */
void tkl_delivery_set_calendar(struct tkl_deliverer *e, const char *title);

/*
 * One round: records outcomes kept from before, then claims the due
 * notices of every channel whose notifier is running and has room, and
 * hands them out as each claim's completion says it is durable; notices
 * of a channel no notifier serves (a notifier renamed or removed) stay
 * queued, looked at again every 5 minutes, until delivery.max_age_hours
 * old, then fail for good (warned of once a channel and configuration,
 * with how many the round saw). The round's end is told
 * to host.round_done, later, from a completion (never from inside this
 * call). A round asked for while one runs starts when it ends. Returns 0,
 * or a negative errno when the state refused the round (then round_done
 * is not told, and the caller tries again soon).
 */
int tkl_delivery_round(struct tkl_deliverer *e);

/*
 * The sweep: reports every failure not reported yet (a notice failed for
 * good, not itself a report to delivery.report_to, whose report key
 * failure-<id>-<created_at> is not logged) in one report to each
 * recipient of delivery.report_to, its entries one per channel and team
 * (the largest REPORT_GROUPS, the rest counted), and logs their keys in
 * the same transaction (tkl_state_put_report), so that a failure is
 * reported once across crashes, restarts and nodes, and one after
 * tickler retry (a new created_at) again. A report's own failure is not
 * reported. The owner calls it at start and when host.sweep_in asks (a
 * failure recorded, delivery.report_every_seconds later), so an idle
 * daemon is not woken. Nothing without report_to or once stopping.
 * Returns 0, or the state's negative errno (host.sweep_in is asked to
 * try again).
 */
int tkl_delivery_sweep(struct tkl_deliverer *e);

/* Records the outcomes kept because the state refused them and commits
 * the state. Returns how many outcomes are still not durable (their
 * notices are sent again after a restart). */
size_t tkl_delivery_settle(struct tkl_deliverer *e);

/* Nothing in flight and every outcome recorded. */
bool tkl_delivery_idle(const struct tkl_deliverer *e);

/* The deliveries handed to plugin (every notifier, for NULL) whose
 * outcome it has not reported yet. */
unsigned tkl_delivery_in_flight(const struct tkl_deliverer *e,
                                const struct tkl_plugin_instance *plugin);

/* The next delivery rounds start nothing; deliveries in flight complete
 * and their outcomes are recorded as usual, except that one its
 * notifier's stop() cut short stays pending, due at once (at the next
 * start). */
void tkl_delivery_stop(struct tkl_deliverer *e);

/* The backoff before attempt `attempts` (1: the first retry): first
 * doubling to an hour with up to 25 % jitter, at least retry_after. */
int64_t tkl_delivery_backoff(int first, int attempts, int32_t retry_after);

/* Frees what is left (after the loop has ended). Accepts an empty engine. */
void tkl_delivery_free(struct tkl_deliverer *e);

#endif
