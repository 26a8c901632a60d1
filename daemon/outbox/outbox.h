/*
 * The outbox: every notice is committed here (SQLite, WAL, synchronous=FULL)
 * before any delivery starts, and marked delivered only after the notifier
 * reports success. The notification log beside it holds one key per
 * (item, deadline, stage, channel, recipient): a key that is in the log is
 * never put in the outbox again, across reloads and restarts.
 *
 * An outbox is used by one thread at a time (its connection has no mutex
 * of its own); separate outboxes may be used by separate threads.
 */
#ifndef TKL_OUTBOX_H
#define TKL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

struct tkl_outbox;

enum tkl_notice_state {
    TKL_NOTICE_PENDING = 0,
    TKL_NOTICE_DELIVERED = 1,
    TKL_NOTICE_FAILED = 2,
    /* not sent: every action in it was marked complete before it could be
     * handed out; final, as delivered is */
    TKL_NOTICE_WITHDRAWN = 3,
};

/* A notice with its entries, owned by the caller after tkl_outbox_get(). */
struct tkl_stored_notice {
    struct tkl_notice notice;
    struct tkl_notice_entry *entries;
    char **stage_keys; /* per entry */
    enum tkl_notice_state state;
    int attempts;
    int64_t created_at;
    int64_t next_attempt;
    char *last_error;
};

/* Opens (creating) <state_dir>/tickler.db. Returns 0 or a negative errno;
 * ret_err (optional) gets SQLite's message for the caller to print. */
int tkl_outbox_open(const char *state_dir, struct tkl_outbox **ret, char **ret_err);

/* The path of o's database file (as SQLite resolved it); lives as o. */
const char *tkl_outbox_file(const struct tkl_outbox *o);

/* Opens <state_dir>/tickler.db to read only (`tickler report`, `tickler
 * updates`): nothing is created, upgraded or written, and every write
 * through it fails. Returns 0, -ENOENT when there is no database, or
 * another negative errno; ret_err as above. */
int tkl_outbox_open_readonly(const char *state_dir, struct tkl_outbox **ret, char **ret_err);

/* Commits an open group (without telling the listener), finalizes the
 * prepared statements and closes the database. Accepts NULL. */
void tkl_outbox_close(struct tkl_outbox *o);

/*
 * Group commit. After tkl_outbox_set_grouped(o, true) (the daemon), every
 * write through o (put, the marks, recover, requeue, meta, updates) joins
 * one open transaction: the first write opens it (BEGIN IMMEDIATE, so the
 * write lock is held until the group ends) and tkl_outbox_sync commits it,
 * one fsync for all its writes. Until then none of them is durable: a
 * caller syncs before anything acts on what it wrote (a notice handed to a
 * notifier, an answer to a web client, a reminder taken off the schedule)
 * and the daemon syncs before its loop waits for events, so no group
 * stays open while the loop sleeps. A write that fails inside a group
 * undoes the whole group; so does any statement (a read too) after which
 * SQLite rolled the transaction back by itself (an I/O error, out of
 * memory): the group is ended as failed (-EIO) at the next write or sync,
 * and that write opens a new one. Reads through o see the open group's
 * writes; other processes see them once synced. Without grouping (the
 * default) each write is its own transaction, as before.
 */
void tkl_outbox_set_grouped(struct tkl_outbox *o, bool grouped);

/* Whether writes wait in an open group: made, not yet durable. */
bool tkl_outbox_dirty(const struct tkl_outbox *o);

/*
 * Commits the open group (none: returns 0 at once). On failure every write
 * of the group is undone. The listener (tkl_outbox_on_sync) is told the
 * result either way. Returns 0 or a negative errno (-ENOSPC, -EIO, ...).
 */
int tkl_outbox_sync(struct tkl_outbox *o);

/*
 * fn(data, r) is called each time a group ends: r == 0, committed; r < 0,
 * every write of the group undone (a failed commit, a write that failed
 * inside it, or a rollback SQLite made by itself). NULL: nobody is told.
 */
void tkl_outbox_on_sync(struct tkl_outbox *o, void (*fn)(void *data, int r), void *data);

/* How many groups o has committed (for tests and profiles). */
unsigned long tkl_outbox_syncs(const struct tkl_outbox *o);

/* Notices whose entries the put memo holds for their first claim (for the
 * tests). */
size_t tkl_outbox_memo_held(const struct tkl_outbox *o);

/* fn(data, n) is called just before the COMMIT of the group that would be
 * the nth committed (n from 1), its writes all made and none durable: a
 * point tests stop the daemon at. NULL: none. */
void tkl_outbox_on_commit(struct tkl_outbox *o, void (*fn)(void *data, unsigned long n),
                          void *data);

/* How long a write waits for another process's write to end before it
 * fails with -EBUSY (default 5000 ms; the daemon, whose loop waits
 * meanwhile, uses less). */
void tkl_outbox_set_busy_timeout(struct tkl_outbox *o, int ms);

/*
 * Commits one notice: entries whose log key is already present are dropped;
 * if none remain nothing is written and *ret_id is 0. stage_keys gives each
 * entry's stage key. Returns 0 or a negative errno.
 */
int tkl_outbox_put(struct tkl_outbox *o, const struct tkl_notice *n, const char *const *stage_keys,
                   int64_t now, uint64_t *ret_id);

/* Ids of pending notices whose next attempt is due at now and that are not
 * being sent, oldest first (at most max). Returns the count or a negative
 * errno. */
int tkl_outbox_due(struct tkl_outbox *o, int64_t now, uint64_t *ids, size_t max);

/*
 * The channels that have notices due at now and not being sent. The caller
 * frees each string and the array. Returns 0 or a negative errno (then
 * nothing is returned).
 */
int tkl_outbox_due_channels(struct tkl_outbox *o, int64_t now, char ***ret_channels, size_t *ret_n);

/* Ids of notices of channel due at now and not being sent (see
 * tkl_outbox_mark_sending), oldest first, at most max: what one channel
 * has room for. Returns the count or a negative errno. */
int tkl_outbox_due_on(struct tkl_outbox *o, const char *channel, int64_t now, uint64_t *ids,
                      size_t max);

/*
 * The notices tkl_outbox_due_on would list (of channel, due at now, not
 * being sent, oldest first, at most max), each read whole: its entries
 * from memory when this connection put it (the put memo), else from the
 * table. *ret gets an array of *ret_n notices: free each with
 * tkl_stored_notice_free and the array with free(). Returns 0 or a
 * negative errno (then nothing is returned).
 */
int tkl_outbox_due_batch(struct tkl_outbox *o, const char *channel, int64_t now, size_t max,
                         struct tkl_stored_notice ***ret, size_t *ret_n);

/* *ret: the earliest next attempt of a pending notice, or INT64_MAX when
 * there is none. Returns 0 or a negative errno (*ret untouched). */
int tkl_outbox_next_attempt(struct tkl_outbox *o, int64_t *ret);

int tkl_outbox_get(struct tkl_outbox *o, uint64_t id, struct tkl_stored_notice **ret);
void tkl_stored_notice_free(struct tkl_stored_notice *s);

int tkl_outbox_mark_delivered(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply);
int tkl_outbox_mark_failed(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply);
/* Withdrawn (TKL_NOTICE_WITHDRAWN): no attempt is counted; reply says why. */
int tkl_outbox_mark_withdrawn(struct tkl_outbox *o, uint64_t id, int64_t now, const char *reply);
int tkl_outbox_mark_retry(struct tkl_outbox *o, uint64_t id, int64_t next_attempt,
                          const char *reply);

/* Puts claimed notice id, which no notifier serves here, back until
 * next_look: no attempt is counted (a notice waits so for up to
 * delivery.max_age_hours, and its backoff once a notifier serves it
 * again starts from its attempts), but they are made at least one, so
 * that it counts as tried before (tkl_outbox_hasten, tickler status's
 * retrying). */
int tkl_outbox_mark_wait(struct tkl_outbox *o, uint64_t id, int64_t next_look, const char *reply);

/* Records that a delivery of id has started (cleared by the marks above),
 * so that a restart after a crash knows what was in flight. */
int tkl_outbox_mark_sending(struct tkl_outbox *o, uint64_t id);

/* Clears the `sending` mark of id without counting an attempt: a delivery
 * that was claimed but never started. */
int tkl_outbox_release(struct tkl_outbox *o, uint64_t id);

/*
 * At start: notices whose delivery was started but never finished (the
 * daemon was killed) are made due now. *ret_in_flight gets their number.
 * Returns 0 or a negative errno.
 */
int tkl_outbox_recover(struct tkl_outbox *o, int64_t now, int64_t *ret_in_flight);

/*
 * The notices of channel waiting for a retry (tried before, not being
 * sent, next attempt after now) are made due now, but for the n_keep of
 * keep (a server asked them to wait): its server answers again. Their
 * attempts and age are kept, so a notice that fails again backs off as
 * before and fails for good at delivery.max_age_hours. *ret_n gets their
 * number. Returns 0 or a negative errno.
 */
int tkl_outbox_hasten(struct tkl_outbox *o, const char *channel, int64_t now, const uint64_t *keep,
                      size_t n_keep, int64_t *ret_n);

/*
 * Puts failed or withdrawn notice id (0: every failed notice) back in
 * the queue, due now, as a new one: its maximum age counts from now and
 * its attempts from none, so a first refusal after it waits the first
 * backoff. *ret_n gets how many were failed or withdrawn and are now
 * pending. Returns 0 or a negative
 * errno.
 */
int tkl_outbox_requeue(struct tkl_outbox *o, uint64_t id, int64_t now, int64_t *ret_n);

/* Why a failure report tickler retry --failed withdraws (its last error):
 * the failure it reports is queued again with it, or was resolved. */
#define TKL_REPORT_MOOT                                                                            \
    "withdrawn by tickler retry --failed: the failure it reports was queued again, or resolved "   \
    "before"

/*
 * tickler retry --failed: in one transaction, every failed notice back in
 * the queue as tkl_outbox_requeue puts one (*ret_n of them), except the
 * failed failure reports (delivery.report_to's), which are withdrawn
 * (*ret_reports of them, TKL_REPORT_MOOT): the failures they report are
 * queued again too, and one that fails again is reported anew, so sent
 * now they would say that a notice failed that is being sent, or was.
 * Returns 0 or a negative errno (then nothing changed).
 */
int tkl_outbox_requeue_failed(struct tkl_outbox *o, int64_t now, int64_t *ret_n,
                              int64_t *ret_reports);

/* A notice that failed for good whose failure has not been reported to
 * delivery.report_to yet (tkl_outbox_unreported). */
struct tkl_failure {
    uint64_t id;
    int64_t created_at;  /* with id, its report key (tkl_failure_key) */
    int64_t finished_at; /* when it failed */
    char *channel;
    char *recipient;
    char *team_id;    /* or NULL */
    char *team_name;  /* or NULL */
    char *last_error; /* the peer's last reply or the local error, or NULL */
    size_t n_entries;
};

struct tkl_failures {
    struct tkl_failure *v;
    size_t n;
};

/* Frees what l holds and empties it. */
void tkl_failures_free(struct tkl_failures *l);

/* One of delivery.report_to's recipients. */
struct tkl_report_to {
    const char *channel;
    const char *recipient;
};

/* The last part of the log key under which an earlier version logged its
 * report of a failure to each of the n recipients of to,
 * "<channel>|<recipient>", into *ret (n texts, for the backends'
 * unreported reads). Returns 0, or -ENOMEM with *ret NULL. Free with
 * tkl_report_to_tails_free. */
int tkl_report_to_tails(const struct tkl_report_to *to, size_t n, char ***ret);
void tkl_report_to_tails_free(char **tails, size_t n);

/* The report key of the failure of notice id queued at created_at,
 * "failure-<id>-<created_at>": logged once the failure is reported, so
 * that it is reported once, and a failure after tickler retry (a new
 * created_at) is reported anew. Written into buf; returns buf. */
#define TKL_FAILURE_KEY_MAX 64
const char *tkl_failure_key(uint64_t id, int64_t created_at, char buf[TKL_FAILURE_KEY_MAX]);

/*
 * The failed notices whose failure is not reported: not a report to
 * delivery.report_to themselves (no entry of stage TKL_STAGE_REPORT), no
 * report key logged, and, for each of the n_to recipients of to, no log
 * key of the report per failure that earlier versions sent them. Oldest
 * failure first, at most max. Returns 0 with *ret filled (free it with
 * tkl_failures_free), or a negative errno (then *ret is untouched).
 */
int tkl_outbox_unreported(struct tkl_outbox *o, const struct tkl_report_to *to, size_t n_to,
                          size_t max, struct tkl_failures *ret);

/*
 * Writes, in one transaction (the open group), the n_reports notices of
 * reports (their entries not logged) and the n_keys report keys of keys,
 * each logged as of the first report: all of them, or, when one of the
 * keys is logged already (reported meanwhile), nothing (-EEXIST). *ret_id
 * gets the first report's id. Returns 0, -EEXIST or another negative
 * errno.
 */
int tkl_outbox_put_report(struct tkl_outbox *o, const struct tkl_notice *const *reports,
                          size_t n_reports, const char *const *keys, size_t n_keys, int64_t now,
                          uint64_t *ret_id);

struct tkl_outbox_stats {
    int64_t pending;  /* never tried */
    int64_t retrying; /* tried, waiting for the next attempt */
    int64_t failed;
    int64_t delivered_today; /* finished at or after day_start */
    int64_t delivered;
    int64_t next_attempt;   /* earliest pending attempt, or INT64_MAX */
    int64_t oldest_pending; /* created_at of the oldest pending notice, or INT64_MAX */
    int64_t withdrawn;      /* not sent: their actions were completed first */
    /* the earliest instant a pending notice became due (its next attempt,
     * or its queueing when later: a notice queued again is due from then),
     * or INT64_MAX */
    int64_t due_since;
    /* the earliest instant a notice still retrying, and tried more than
     * once, became due (queued, or its due time when later), or
     * INT64_MAX; and that notice's last error (its reply, cut to fit), ""
     * when none (tickler status's alone) */
    int64_t retrying_since;
    char last_error[256];
};

int tkl_outbox_stats(struct tkl_outbox *o, int64_t day_start, struct tkl_outbox_stats *ret);

/*
 * How many notices still wait for delivery (pending or retrying, being sent
 * or not) that were created (or put back by tkl_outbox_requeue) before
 * created_before: with now - delivery.max_age_hours, the notices that are
 * stuck. Returns 0 or a negative errno (then *ret_n is untouched).
 */
int tkl_outbox_count_waiting(struct tkl_outbox *o, int64_t created_before, int64_t *ret_n);

/* A channel and how many of its notices wait for delivery. */
struct tkl_channel_waiting {
    char *channel;
    int64_t n;
};

/*
 * Every channel with notices waiting for delivery (pending or retrying),
 * by name, with their number: *ret (free with tkl_channel_waiting_free)
 * of *ret_n. Returns 0 or a negative errno (then both are untouched).
 */
int tkl_outbox_waiting_channels(struct tkl_outbox *o, struct tkl_channel_waiting **ret,
                                size_t *ret_n);

/* Frees the n channels of v and v. Accepts NULL. */
void tkl_channel_waiting_free(struct tkl_channel_waiting *v, size_t n);

/*
 * A number that changes whenever the outbox changes, through this
 * connection or another process's (`tickler retry`): SQLite's data
 * version and this connection's count of changes. Returns 0 or a negative
 * errno.
 */
int tkl_outbox_version(struct tkl_outbox *o, uint64_t *ret);

/*
 * Whether a write could start now: takes the write lock without waiting
 * and lets it go again, changing nothing. Returns 0, -EBUSY (another
 * process holds the lock) or another negative errno (read-only, I/O).
 */
int tkl_outbox_probe_write(struct tkl_outbox *o);

/* Ids of all notices (or the failed ones), newest first; the caller frees
 * *ret_ids. Returns 0 or a negative errno. */
int tkl_outbox_list(struct tkl_outbox *o, bool failed_only, uint64_t **ret_ids, size_t *ret_n);

/* A value in the meta table ("last_run"); -ENOENT when absent. */
int tkl_outbox_get_meta(struct tkl_outbox *o, const char *key, int64_t *ret);
int tkl_outbox_set_meta(struct tkl_outbox *o, const char *key, int64_t value);

/* As tkl_outbox_set_meta, without waiting for another process's write
 * lock: -EBUSY at once (for what a web page may record on the way). */
int tkl_outbox_try_set_meta(struct tkl_outbox *o, const char *key, int64_t value);

/* The notification log key of one entry. Returns a new string or NULL. */
char *tkl_log_key(const char *item_id, int32_t deadline_day, const char *stage_key,
                  const char *channel, const char *recipient);

/* Whether a log key is present: 1, 0, or a negative errno. */
int tkl_outbox_logged(struct tkl_outbox *o, const char *key);

/* ---- What the web face reads: each item's latest notice, and the notices
 * not yet delivered ---- */

/* What n's entries are, as the log and tickler outbox count them, into
 * buf: "3 action(s)", "2 observance(s)" (calendar prompts) or "1 action(s)
 * and 2 observance(s)". Returns buf. */
const char *tkl_notice_items(const struct tkl_notice *n, char buf[72]);

/* "pending" (never tried), "retrying" (pending, tried before),
 * "delivered" or "failed". */
const char *tkl_notice_state_name(enum tkl_notice_state state, int attempts);

/* The latest notice that carried an item: to whom, when, how it went. */
struct tkl_item_notice {
    char *item_id;
    uint64_t notice_id;
    char *channel;
    char *recipient;
    char *team_id;   /* or NULL */
    char *team_name; /* or NULL */
    char *stage_key; /* the item's stage in it: "lead-7", "overdue-2" */
    enum tkl_notice_state state;
    int attempts;
    bool sending;        /* handed to its notifier, no outcome yet */
    int64_t created_at;  /* committed to the outbox */
    int64_t finished_at; /* delivered or failed for good; 0 while pending */
};

struct tkl_item_notices {
    struct tkl_item_notice *v; /* by item id, bytewise */
    size_t n;
};

/*
 * For every item of the outbox, its latest notice (the one committed last;
 * reports of failed deliveries, officers' answers told to the report
 * route and one owning team's update told to the others (stage joint)
 * left out: what the item's owners were last sent), read in one
 * query. Returns 0
 * with *ret filled (free it with tkl_item_notices_free), or a negative
 * errno (then *ret is untouched).
 */
int tkl_outbox_last_notices(struct tkl_outbox *o, struct tkl_item_notices *ret);

/* The latest notice of item_id in l, or NULL. */
const struct tkl_item_notice *tkl_item_notices_find(const struct tkl_item_notices *l,
                                                    const char *item_id);

/* Frees what l holds and empties it. */
void tkl_item_notices_free(struct tkl_item_notices *l);

/* A notice as a list shows it, without its entries. */
struct tkl_notice_row {
    uint64_t id;
    char *channel;
    char *recipient;
    char *team_id;    /* or NULL */
    char *team_name;  /* or NULL */
    char *last_reply; /* the peer's last reply or the local error, or NULL */
    enum tkl_notice_state state;
    int attempts;
    bool sending;
    int64_t due_at;
    int64_t created_at;
    int64_t next_attempt;
    size_t n_entries;
    /* a state shared by nodes (PostgreSQL): the node whose lease on the
     * notice had not expired when it was read, and when that lease ends;
     * NULL and 0 otherwise (SQLite: sending says it is in flight here) */
    char *lease_node;
    int64_t lease_until;
};

struct tkl_notice_rows {
    struct tkl_notice_row *v;
    size_t n;
};

/* Which notices tkl_outbox_undelivered lists (or-ed). */
#define TKL_LIST_PENDING  1u /* never tried */
#define TKL_LIST_RETRYING 2u /* tried, waiting for the next attempt */
#define TKL_LIST_FAILED   4u

/*
 * The notices of the kinds which names, at most max, read in one query:
 * failed first, then retrying, then pending, newest first within each.
 * Returns 0 with *ret filled (free it with tkl_notice_rows_free), or a
 * negative errno (then *ret is untouched).
 */
int tkl_outbox_undelivered(struct tkl_outbox *o, unsigned which, size_t max,
                           struct tkl_notice_rows *ret);

/* Frees what rows holds and empties it. */
void tkl_notice_rows_free(struct tkl_notice_rows *rows);

/*
 * The reminders that carried item_id, newest first, at most max, read in
 * one query: one row per notice, as tkl_outbox_last_notices gives each
 * (to whom, by which channel, for which team, at which stage, how it
 * went). Reports of failed deliveries, answers told to the report route
 * and one owning team's updates told to the others (stage joint) are left
 * out. Returns 0 with *ret filled (free it with
 * tkl_item_notices_free; its rows are newest first, not by item id), or a
 * negative errno (then *ret is untouched).
 */
int tkl_outbox_item_history(struct tkl_outbox *o, const char *item_id, size_t max,
                            struct tkl_item_notices *ret);

#endif
