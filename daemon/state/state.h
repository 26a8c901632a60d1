/*
 * The daemon's durable state behind one interface: the outbox of notices,
 * the notification log beside it and the meta values, each backend a
 * table of operations (struct tkl_state_ops). SQLite (state/sqlite.c, the
 * outbox of daemon/outbox) is the default; a backend on a database server
 * completes the same operations when its answers arrive.
 *
 * The contract of every operation that takes a completion (cb, data): a
 * return of 0 means cb is called exactly once, later, on the loop thread,
 * and never from inside the call that queued it (nor from inside another
 * operation's call); a negative errno means nothing was queued and cb is
 * never called. Writes join one open group (a transaction): an operation's
 * completion fires when its group ends, with r == 0 and its results once
 * the group is durable, or r < 0 (and no results) when the group was
 * undone, every write of it with it. A backend may send a long group as
 * several transactions (PostgreSQL: 62 statements each); then each
 * operation is told the outcome of its own transaction, and one of them
 * undone does not undo the others. Nothing may act on what an operation
 * wrote (hand a notice out, log it as queued, answer a web client) before
 * its completion says r == 0. tkl_state_commit ends the open group and
 * tells the completions: the daemon calls it before its loop waits.
 *
 * Leases: a claimed notice is leased to a node (its id) for some seconds;
 * its outcome is recorded only while the lease is the node's. A backend
 * shared by several nodes reports an outcome whose lease another node took
 * over as TKL_STATE_NOT_OURS (nothing recorded); SQLite, one node, never
 * does: its lease is the notice's `sending` mark, without node or expiry,
 * and tkl_state_recover at start makes every mark due again.
 *
 * Everything runs on the loop thread.
 */
#ifndef TKL_STATE_H
#define TKL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>
#include <uv.h>

#include "../outbox/outbox.h"
#include "../update/update.h"

struct tkl_state;

/* An outcome's r when the notice's lease was taken over by another node:
 * nothing was recorded, that node delivers it. Positive: not an error. */
#define TKL_STATE_NOT_OURS 1

/* What a delivery came to. */
enum tkl_state_outcome {
    TKL_STATE_DELIVERED, /* at: when */
    TKL_STATE_RETRY,     /* at: the next attempt; one attempt counted */
    TKL_STATE_FAILED,    /* at: when; failed for good */
    TKL_STATE_RELEASE,   /* claimed but never handed out: due again, no attempt counted */
    TKL_STATE_WITHDRAWN, /* at: when; claimed, never handed out, and not to be sent
                          * (TKL_NOTICE_WITHDRAWN); no attempt counted */
    TKL_STATE_WAIT,      /* at: the next look; claimed, never handed out (no notifier
                          * serves its channel here): no attempt counted, but its
                          * attempts are made at least one, as a notice tried before */
};

/* A lease: the node that holds it and for how long (seconds). */
struct tkl_state_lease {
    const char *node;
    int seconds;
};

/* r: 0 committed, TKL_STATE_NOT_OURS (outcomes only), or a negative errno
 * (the group undone, or the operation refused). */
typedef void (*tkl_state_done_cb)(void *data, int r);
/* put: id of the notice written, 0 when every entry's key was logged before. */
typedef void (*tkl_state_put_cb)(void *data, int r, uint64_t id);
/* recover (notices made due), next attempt (INT64_MAX: none), meta value. */
typedef void (*tkl_state_value_cb)(void *data, int r, int64_t value);
/* The callee owns v, each notice (tkl_stored_notice_free) and the array
 * (free); NULL and 0 when r != 0. */
typedef void (*tkl_state_claim_cb)(void *data, int r, struct tkl_stored_notice **v, size_t n);
/* The callee owns v, each string and the array; NULL and 0 when r != 0. */
typedef void (*tkl_state_channels_cb)(void *data, int r, char **v, size_t n);

/* An officer's update added: its id, and whether it is new (false: the
 * same update was recorded before, id is that one's; outbox/updates.h). */
typedef void (*tkl_state_update_cb)(void *data, int r, int64_t id, bool is_new);
/* The callee owns *u (tkl_updates_free); empty when r != 0. */
typedef void (*tkl_state_updates_cb)(void *data, int r, struct tkl_updates *u);
/* What the operator's outbox page and /metrics show of a state shared by
 * nodes: the numbers (delivered_today counted from the day_start asked)
 * and the notices not delivered, failed first, then retrying, then
 * pending, newest first within each, at most the max asked of each state;
 * each row's lease_node the node holding a lease on it that had not
 * expired at the now asked (outbox.h). */
struct tkl_state_view {
    struct tkl_outbox_stats st;
    struct tkl_notice_rows rows;
};

/* The callee owns v (tkl_state_view_free); NULL when r != 0. */
typedef void (*tkl_state_view_cb)(void *data, int r, struct tkl_state_view *v);
/* The callee may take what *l holds (leaving *l empty); what is left is
 * freed once it returns. Empty when r != 0. */
typedef void (*tkl_state_notices_cb)(void *data, int r, struct tkl_item_notices *l);

/* The callee may take what *l holds (leaving *l empty); what is left is
 * freed once it returns. Empty when r != 0. */
typedef void (*tkl_state_failures_cb)(void *data, int r, struct tkl_failures *l);

/* A backend. impl is the backend's own; the calls return as the
 * operations of this header do. */
struct tkl_state_ops {
    const char *name;
    int (*put)(void *impl, const struct tkl_notice *n, const char *const *stage_keys, int64_t now,
               tkl_state_put_cb cb, void *data);
    int (*due_channels)(void *impl, int64_t now, tkl_state_channels_cb cb, void *data);
    int (*claim)(void *impl, const char *channel, int64_t now, size_t max,
                 const struct tkl_state_lease *lease, tkl_state_claim_cb cb, void *data);
    int (*outcome)(void *impl, uint64_t id, enum tkl_state_outcome what, int64_t at,
                   const char *reply, const char *node, tkl_state_done_cb cb, void *data);
    int (*renew)(void *impl, const uint64_t *ids, size_t n, const struct tkl_state_lease *lease,
                 int64_t now, tkl_state_done_cb cb, void *data);
    bool (*lease_fresh)(const void *impl, uint64_t id); /* NULL: always */
    int (*recover)(void *impl, const char *node, int64_t now, tkl_state_value_cb cb, void *data);
    int (*hasten)(void *impl, const char *channel, int64_t now, const uint64_t *keep, size_t n_keep,
                  tkl_state_value_cb cb, void *data);
    int (*next_attempt)(void *impl, tkl_state_value_cb cb, void *data);
    int (*unreported)(void *impl, const struct tkl_report_to *to, size_t n_to, size_t max,
                      tkl_state_failures_cb cb, void *data);
    int (*put_report)(void *impl, const struct tkl_notice *const *reports, size_t n_reports,
                      const char *const *keys, size_t n_keys, int64_t now, tkl_state_put_cb cb,
                      void *data);
    int (*get_meta)(void *impl, const char *key, tkl_state_value_cb cb, void *data);
    int (*set_meta)(void *impl, const char *key, int64_t value, tkl_state_done_cb cb, void *data);
    int (*sync)(void *impl, tkl_state_done_cb cb, void *data);
    /* officers' updates */
    int (*add_update)(void *impl, const struct tkl_update *u, tkl_state_update_cb cb, void *data);
    int (*updates)(void *impl, const char *action_id, int64_t since, int64_t until,
                   tkl_state_updates_cb cb, void *data);
    int (*link_updates)(void *impl, const struct tkl_update *u, tkl_state_value_cb cb, void *data);
    int (*updates_version)(void *impl, tkl_state_value_cb cb, void *data);
    int (*commit)(void *impl);
    bool (*busy)(const void *impl);
    void (*drain)(void *impl); /* NULL: nothing to let go */
    void (*close)(void *impl);
    /* NULL: not offered (SQLite: its outbox is read directly) */
    int (*view)(void *impl, int64_t day_start, int64_t now, size_t max, tkl_state_view_cb cb,
                void *data);
    /* NULL: not offered (SQLite: its outbox is read directly) */
    int (*item_notices)(void *impl, const char *item_id, size_t max, int64_t now,
                        tkl_state_notices_cb cb, void *data);
    /* NULL: always 0 */
    int (*health)(const void *impl);
    /* NULL: not said (tkl_state_where) */
    const char *(*where)(const void *impl);
};

/* A state on backend ops with its impl; ownership of impl passes to the
 * state only when this succeeds (ops->close frees it). Returns 0 or
 * -ENOMEM. */
int tkl_state_new(const struct tkl_state_ops *ops, void *impl, struct tkl_state **ret);

/* The SQLite backend on outbox o (grouped from now on: see
 * tkl_outbox_set_grouped). o is lent: it must outlive the state, and its
 * sync listener (tkl_outbox_on_sync) is the state's; also (NULL: none) is
 * told after it of each group's end, with data. Returns 0 or -ENOMEM. */
int tkl_state_sqlite_new(struct tkl_outbox *o, void (*also)(void *data, int r), void *data,
                         struct tkl_state **ret);

/* The PostgreSQL backend (state/pg_state.c), for several nodes on one
 * database (state/pg_schema.h). */
struct tkl_state_pg_options {
    const char *conninfo_file; /* a path, or "credential:NAME" (state/pg.h) */
    const char *node;          /* this node's id: its leases and recovery */
    int lease_seconds;         /* the lease of the notices it claims */
    /* told once the schema is migrated and the statements prepared (0),
     * or when that failed for good (r < 0: a newer schema, an SQL error;
     * a lost connection is tried again). NULL: nobody. */
    void (*on_ready)(void *data, int r);
    /* told once, after on_ready's 0, when the failure sweep's index was
     * seen to (pg_state.c): 0 built or there, r < 0 not now (warned; the
     * sweep reads without it). NULL: nobody. Never told once closed or
     * drained. */
    void (*on_index)(void *data, int r);
    void *data;
    /* when not 0: on_ready is told -ECONNREFUSED (once, and never 0 after
     * it) when this many attempts in a row at the first connection have
     * failed (--oneshot: a run that ends) */
    unsigned unreachable_after;
    /* the clock (nanoseconds) leases are timed by; NULL: the time since
     * boot, suspend included (CLOCK_BOOTTIME) */
    uint64_t (*clock_ns)(void);
};

/*
 * Starts connecting (reading opts->conninfo_file now), then migrates the
 * schema and prepares the statements; operations may be queued at once:
 * the open group waits until then. Notices put by another node wake this
 * one (tkl_state_on_wake), and so does every reconnection. Returns 0, or
 * a negative errno: the conninfo file's, -EINVAL, -ENOMEM.
 */
int tkl_state_pg_new(uv_loop_t *loop, const struct tkl_state_pg_options *opts,
                     struct tkl_state **ret);

/* No more work will come but what completions queue: a backend holding
 * handles on the loop (PostgreSQL's connection) lets them go once what
 * is queued or in flight was told, so the loop can end. Operations after
 * that are refused (-ESHUTDOWN). SQLite: nothing. */
void tkl_state_drain(struct tkl_state *st);

/* Ends the open group and tells every completion whose group ended (a
 * completion may queue more operations: they are committed and told too
 * before this returns). Closes the backend after. Accepts NULL. */
void tkl_state_close(struct tkl_state *st);

/* The backend's name ("sqlite", "postgresql"). */
const char *tkl_state_backend(const struct tkl_state *st);

/* Where the state is kept, for a message about it: the SQLite outbox's
 * file; NULL when the backend does not say. Lives as st. */
const char *tkl_state_where(const struct tkl_state *st);

/* Room for tkl_state_failure's text. */
#define TKL_STATE_FAILURE_MAX 4224

/* Why a write to st failed (r, a negative errno), into buf (size bytes,
 * cut to fit): a full disk says so and names where the state is kept,
 * which the operator must make room on ("the disk holding
 * /var/lib/tickler/tickler.db, or SQLite's temporary files, is full (No
 * space left on device)": SQLite says the same of its temporary files'
 * directory, /var/tmp or /tmp); an exceeded disk quota likewise, as
 * the quota of the user running ticklerd ("the disk quota of the user
 * running ticklerd is exceeded on the disk holding ..."); any other
 * error its own text. Returns buf. */
const char *tkl_state_failure(const struct tkl_state *st, int r, char *buf, size_t size);

/*
 * Commits one notice into the open group: entries whose log key is already
 * present are dropped, and if none remain nothing is written (id 0). A
 * backend shared by nodes lets exactly one of them write each key.
 */
int tkl_state_put(struct tkl_state *st, const struct tkl_notice *n, const char *const *stage_keys,
                  int64_t now, tkl_state_put_cb cb, void *data);

/* The channels that have notices due at now and not leased. */
int tkl_state_due_channels(struct tkl_state *st, int64_t now, tkl_state_channels_cb cb, void *data);

/* Leases to lease->node, for lease->seconds, at most max notices of
 * channel due at now and not leased, oldest first, each read whole. Hand
 * one out only once cb says r == 0: the lease is durable then. */
int tkl_state_claim(struct tkl_state *st, const char *channel, int64_t now, size_t max,
                    const struct tkl_state_lease *lease, tkl_state_claim_cb cb, void *data);

/* Records what the delivery of notice id, leased to node, came to (reply:
 * the peer's reply or the local error). Ends the lease. cb may be told
 * TKL_STATE_NOT_OURS. */
int tkl_state_outcome(struct tkl_state *st, uint64_t id, enum tkl_state_outcome what, int64_t at,
                      const char *reply, const char *node, tkl_state_done_cb cb, void *data);

/* Extends to now + lease->seconds the leases of lease->node on the n
 * notices of ids (those in flight). */
int tkl_state_renew(struct tkl_state *st, const uint64_t *ids, size_t n,
                    const struct tkl_state_lease *lease, int64_t now, tkl_state_done_cb cb,
                    void *data);

/* Whether this node's lease on notice id, claimed here and its outcome
 * not recorded, is known to hold with margin now: confirmed (the claim or
 * a renewal asked, then answered) less than half a lease ago by the
 * monotonic clock. A notice is handed to a notifier only then; else it
 * is released (another node may hold it by now). SQLite (one node, a
 * lease without expiry): always true. */
bool tkl_state_lease_fresh(const struct tkl_state *st, uint64_t id);

/* At start: the notices node leased and never finished (it was killed)
 * made due at now; value: how many. */
int tkl_state_recover(struct tkl_state *st, const char *node, int64_t now, tkl_state_value_cb cb,
                      void *data);

/* The notices of channel waiting for a retry (tried before, not leased,
 * next attempt after now) made due at now, their attempts and age kept
 * (its server answers again), but for the n_keep of keep (a server asked
 * them to wait); value: how many. */
int tkl_state_hasten(struct tkl_state *st, const char *channel, int64_t now, const uint64_t *keep,
                     size_t n_keep, tkl_state_value_cb cb, void *data);

/* The failed notices whose failure is not reported yet, oldest failure
 * first, at most max (tkl_outbox_unreported: to, delivery.report_to's
 * recipients, recognise the reports of earlier versions). */
int tkl_state_unreported(struct tkl_state *st, const struct tkl_report_to *to, size_t n_to,
                         size_t max, tkl_state_failures_cb cb, void *data);

/*
 * Queues the n_reports notices of reports (one report of failures per
 * recipient of delivery.report_to; their entries are not logged) and logs
 * the n_keys report keys of keys (tkl_failure_key), all in one
 * transaction: all of them, or nothing when a key is logged already
 * (another node, or an earlier sweep, reported that failure meanwhile):
 * then cb is told -EEXIST. A backend shared by nodes lets exactly one of
 * them log each key, and sends this in a transaction of its own, so that
 * -EEXIST undoes nothing else. id: the first report's.
 */
int tkl_state_put_report(struct tkl_state *st, const struct tkl_notice *const *reports,
                         size_t n_reports, const char *const *keys, size_t n_keys, int64_t now,
                         tkl_state_put_cb cb, void *data);

/* value: the earliest next attempt of a notice due and not leased, or
 * INT64_MAX. */
int tkl_state_next_attempt(struct tkl_state *st, tkl_state_value_cb cb, void *data);

/* value: the meta value key ("last_run"); r == -ENOENT when absent. */
int tkl_state_get_meta(struct tkl_state *st, const char *key, tkl_state_value_cb cb, void *data);
int tkl_state_set_meta(struct tkl_state *st, const char *key, int64_t value, tkl_state_done_cb cb,
                       void *data);

/* A barrier: cb is told r == 0 once everything queued before it is
 * durable, or the negative errno of the group that undid it. */
int tkl_state_sync(struct tkl_state *st, tkl_state_done_cb cb, void *data);

/* ---- officers' updates (update/update.h) ---- */

/*
 * Adds officer's update u (its id ignored) in the open group, with the
 * rules of tkl_outbox_add_update: an update equal to one recorded against
 * the same plan is not written again (is_new false, id the earlier row's).
 * cb is told once the group is durable. Returns 0, -EINVAL (refused by
 * tkl_update_check: nothing queued) or another negative errno. A backend
 * shared by nodes tells the others (tkl_state_on_updated) when the group
 * commits.
 */
int tkl_state_add_update(struct tkl_state *st, const struct tkl_update *u, tkl_state_update_cb cb,
                         void *data);

/* The updates recorded in [since, until) (0 and INT64_MAX: all), of
 * action_id only unless it is NULL, oldest first. */
int tkl_state_updates(struct tkl_state *st, const char *action_id, int64_t since, int64_t until,
                      tkl_state_updates_cb cb, void *data);

/* value: how many updates were recorded through u's link (u's action by
 * u's recipient, with a link issued at u->link_issued_at), not counting
 * one that records what u does (tkl_outbox_link_updates). */
int tkl_state_link_updates(struct tkl_state *st, const struct tkl_update *u, tkl_state_value_cb cb,
                           void *data);

/* value: a number that moves on whenever an update is recorded, by this
 * node or another (SQLite: the largest id; PostgreSQL: how many there are,
 * as ids of transactions committing out of order may land below it). */
int tkl_state_updates_version(struct tkl_state *st, tkl_state_value_cb cb, void *data);

/* fn(data) is called when another node recorded an update (a backend
 * shared by nodes; SQLite never calls it). NULL: nobody. */
void tkl_state_on_updated(struct tkl_state *st, void (*fn)(void *data), void *data);

/* For a backend: tells the updates listener. */
void tkl_state_updated(struct tkl_state *st);

/*
 * Ends the open group (SQLite: commits it, one fsync) and tells the
 * completions whose group ended, again until none is left (a completion
 * may queue more). Called again from inside a completion: returns 0 and
 * leaves the work to the outer call. Returns 0 or the negative errno of a
 * group that was undone (its completions were told).
 */
int tkl_state_commit(struct tkl_state *st);

/* Whether writes or completions wait for tkl_state_commit. */
bool tkl_state_busy(const struct tkl_state *st);

/* Reads the view of the state at now (tkl_state_view), in the open group
 * as every operation: cb is told once its group ended. -ENOTSUP from a
 * backend that does not offer it (SQLite). */
int tkl_state_view(struct tkl_state *st, int64_t day_start, int64_t now, size_t max,
                   tkl_state_view_cb cb, void *data);

/* Frees v and what it holds. Accepts NULL. */
void tkl_state_view_free(struct tkl_state_view *v);

/*
 * Reads, in the open group as every operation, the notices of the items
 * as the web face shows them (outbox.h): with item_id, the reminders that
 * carried it, newest first, at most max (tkl_outbox_item_history); with
 * item_id NULL, every item's latest notice, by item id bytewise, max not
 * counted (tkl_outbox_last_notices). A notice is `sending` while a node
 * holds a lease on it that has not expired at now. -ENOTSUP from a
 * backend that does not offer it (SQLite: read its outbox directly).
 */
int tkl_state_item_notices(struct tkl_state *st, const char *item_id, size_t max, int64_t now,
                           tkl_state_notices_cb cb, void *data);

/* 0 when the backend can do its work as far as it last saw: PostgreSQL
 * connected, its schema ready, and its last transaction committed; SQLite
 * its last group of writes committed; else the negative errno of what is
 * wrong (-ENOTCONN, -EAGAIN: not ready yet, or the last transaction's or
 * group's error). */
int tkl_state_health(const struct tkl_state *st);

/* fn(data) is called when another node queued work (a backend shared by
 * nodes; SQLite never calls it). NULL: nobody. */
void tkl_state_on_wake(struct tkl_state *st, void (*fn)(void *data), void *data);

/* For a backend: tells the wake-up listener. */
void tkl_state_woken(struct tkl_state *st);

#endif
