/*
 * The PostgreSQL schema of the daemon's state and the statements of its
 * core operations, for several ticklerd sharing one database.
 *
 * The tables mirror the SQLite outbox (outbox/outbox.c): meta, notices,
 * entries, log (the notification log, its key unique), updates
 * (append-only); and add what several nodes need: nodes (each node's id
 * and when it was last seen) and a lease per notice (lease_node,
 * lease_until): a notice leased to a node whose lease has not expired is
 * that node's to deliver. Instants are seconds since the epoch, given by
 * the caller (the nodes' clocks are assumed in step, as NTP keeps them,
 * to well within a lease).
 *
 * tkl_pg_schema_migrate() brings a database to the version this build
 * knows: one transaction, under an advisory lock, so nodes starting
 * together apply each numbered migration once.
 */
#ifndef TKL_STATE_PG_SCHEMA_H
#define TKL_STATE_PG_SCHEMA_H

#include "state/pg.h"

struct tkl_stored_notice;

/* The schema version this build writes. */
#define TKL_PG_SCHEMA_VERSION 4

/* The channel TKL_PG_NOTIFY_QUEUED notifies, when the transaction that
 * queued a notice commits; its payload is what the caller gives (the
 * state backend: the queueing node's id, so a node can tell its own). */
#define TKL_PG_QUEUED_CHANNEL "tickler_queued"

/* The channel TKL_PG_NOTIFY_UPDATED notifies when the transaction that
 * added an officer's update commits; its payload: the adding node's id. */
#define TKL_PG_UPDATED_CHANNEL "tickler_updated"

/* r is 0 with version the schema's version, or a negative errno: -EPROTO
 * for a database of a newer schema than this build knows, or the
 * transaction's (state/pg.h). */
typedef void (*tkl_pg_schema_cb)(void *data, int r, int version);

/* Queues the migration transaction. Returns as tkl_pg_transaction. */
int tkl_pg_schema_migrate(struct tkl_pg *pg, tkl_pg_schema_cb cb, void *data);

/*
 * The prepared statements of the core operations (tkl_pg_schema_prepare
 * registers them all). Parameters are text; the $n of each:
 *
 * TKL_PG_PUT_NOTICE: a notice with the entries whose log key is new.
 *   $1 channel, $2 recipient, $3 team_id, $4 team_name, $5 thread_key,
 *   $6 due_at, $7 now (created_at), $8 next_attempt, $9 intro (the
 *   thread key is stored only when one entry is stored),
 *   $10 the entries, a JSON array of objects: "key" (the log key) and the
 *   entries columns item_id, title, commitment, owners, deadline_text,
 *   status, progress, deadline_day, kind, stage, stage_key, days_left,
 *   late, category, url, answer (absent: NULL).
 *   One row: the new notice's id (NULL when every key was logged
 *   already) and the number of entries stored. The log keys are taken
 *   with INSERT ... ON CONFLICT DO NOTHING: of two transactions putting
 *   the same key, the second waits for the first and stores that entry
 *   only if the first rolled back.
 * TKL_PG_NOTIFY_QUEUED: $1 the payload; NOTIFY TKL_PG_QUEUED_CHANNEL
 *   with it, sent at commit (in the put's transaction).
 * TKL_PG_CLAIM: the due notices of a channel not leased to a node (or
 *   whose lease has expired), leased to this node; locked rows are
 *   skipped, so nodes claiming at once get disjoint sets.
 *   $1 channel, $2 now, $3 node id, $4 lease seconds, $5 at most so many.
 *   One row per entry, notices in (next_attempt, id) order, entries in
 *   order: id, channel, recipient, team_id, team_name, thread_key, due_at,
 *   created_at, attempts, intro, idx, item_id, title, commitment, owners,
 *   deadline_text, status, progress, deadline_day, kind, stage, stage_key,
 *   days_left, late, category, url, answer.
 * TKL_PG_RENEW: $1 node id, $2 now, $3 lease seconds, $4 the ids of the
 *   notices in flight (a bigint array). Extends the node's leases on
 *   those not finished; one row (id) per notice still the node's.
 * TKL_PG_DELIVERED, TKL_PG_FAILED, TKL_PG_WITHDRAWN: $1 notice id, $2
 *   node id, $3 now (finished_at), $4 the reply (or NULL); withdrawn
 *   counts no attempt. TKL_PG_RETRY: the same with $3 the next attempt. TKL_PG_WAIT: the same
 *   as TKL_PG_RETRY, for a notice no notifier serves on the node, counting no attempt but making
 *   its attempts at least one. Each records the outcome
 * and ends the lease only if the lease is still the node's: one row (id) when recorded, none when
 * another node holds the notice now (or finished it). TKL_PG_RELEASE: $1 notice id, $2 node id.
 * Ends the node's lease without counting an attempt: one row (id) when it was the node's.
 * TKL_PG_RECOVER: $1 node id, $2 now. The node's leased notices not
 *   finished (a previous run of the node was killed) made due at now,
 *   their leases ended; one row (id) each. Other nodes' leases are
 *   untouched.
 * TKL_PG_HASTEN: $1 channel, $2 now, $3 the ids to keep waiting (an
 *   array). The channel's other notices waiting for a retry (tried
 *   before, not leased, next attempt after now) made due at now, their
 *   attempts and age kept; one row (id) each.
 * TKL_PG_UNREPORTED: $1 the stage of a report (TKL_STAGE_REPORT), $2 at
 *   most so many, $3 a JSON array of delivery.report_to's recipients, each
 *   "<channel>|<recipient>". The failed notices that are no report
 *   themselves and whose failure's report key (tkl_failure_key) is not
 *   logged, nor the key an earlier version logged for its report to one
 *   of $3; oldest failure first. One row each: id, created_at,
 *   finished_at, channel, recipient, team_id, team_name, last_error, its
 *   number of entries (outbox.h's tkl_failure).
 * TKL_PG_PUT_REPORT: $1 a JSON array of the report notices (objects:
 *   channel, recipient, team_id, team_name, intro), $2 their entries (a
 *   JSON array as TKL_PG_PUT_NOTICE's, without keys; not logged), $3 now
 *   (due_at, created_at, next_attempt), $4 a JSON array of the report
 *   keys, logged as of the first notice. A key logged already fails the
 *   statement (unique_violation), so its transaction, which holds this
 *   alone, writes nothing. One row: the first notice's id.
 * TKL_PG_RELEASE_STRAY: $1 node id, $2 the ids of the notices it holds
 *   (an array). Ends the node's leases on every other notice not
 *   finished (claims whose answer a lost connection took), without
 *   counting an attempt; one row (id) per notice released.
 * TKL_PG_DUE_CHANNELS: $1 now. One row (channel) per channel with a
 *   notice due and not leased (or whose lease expired).
 * TKL_PG_NEXT_ATTEMPT: $1 node id. One row: the earliest instant a
 *   notice not leased to the node may be claimed (its next attempt, or
 *   the end of another node's lease on it), NULL when none.
 * TKL_PG_NODE_SEEN: $1 node id, $2 now.
 * TKL_PG_META_GET: $1 key; one row (value) or none.
 * TKL_PG_META_SET: $1 key, $2 value (an integer).
 *
 * Officers' updates (the updates table, as outbox/updates.h):
 * TKL_PG_ADD_UPDATE: $1 action_id, $2 recipient, $3 team_id, $4 kind,
 *   $5 at, $6 link_issued_at, $7 until_day, $8 rag, $9 note,
 *   $10 suggested_team, $11 plan_deadline_day, $12 plan_deadline_text,
 *   $13 plan_status, $14 plan_owners. Adds the update unless the same one
 *   (updates_once_per_plan) is there: one row, its id and whether it was
 *   added now (true) or found (false); no row when the same update, added
 *   by a transaction that committed meanwhile, is not yet in this
 *   statement's snapshot (try again).
 * TKL_PG_LOCK_UPDATES: $1 an integer[] of tkl_pg_update_lock keys,
 *   ascending and distinct. Takes each key's transaction-level advisory
 *   lock (class TKL_PG_UPDATE_LOCK_CLASS) in that order; one row. A
 *   transaction that adds updates takes the locks of their actions first,
 *   so that two nodes adding updates of one action (through one link, or
 *   a completion and its reopen through two) add them one after the
 *   other, each seeing the other's row (READ COMMITTED: a statement's
 *   snapshot is taken after the locks before it) and following it
 *   (after_id).
 * TKL_PG_NOTIFY_UPDATED: $1 the payload; NOTIFY TKL_PG_UPDATED_CHANNEL.
 * TKL_PG_UPDATES: $1 since, $2 until, $3 action_id or NULL (all). One row
 *   per update, oldest first: id, then the columns of $1..$14 above.
 * TKL_PG_LINK_UPDATES: $1 action_id, $2 recipient, $3 link_issued_at (the
 *   link), then of an update through it $4 kind, $5 until_day, $6 rag, $7
 *   note, $8 suggested_team, $9 plan_deadline_day, $10 plan_status, $11
 *   plan_owners, $12 team_id. One row: how many updates were recorded
 *   through that link, less the one that records what that update does, if
 *   there is one.
 * TKL_PG_UPDATES_VERSION: one row: how many updates there are (the table
 *   is append-only, so the count moves on with every commit that adds one,
 *   whatever order the ids were taken in).
 */
#define TKL_PG_PUT_NOTICE    "tkl_put_notice"
#define TKL_PG_NOTIFY_QUEUED "tkl_notify_queued"
#define TKL_PG_CLAIM         "tkl_claim"
#define TKL_PG_RENEW         "tkl_renew"
#define TKL_PG_DELIVERED     "tkl_delivered"
#define TKL_PG_FAILED        "tkl_failed"
#define TKL_PG_WITHDRAWN     "tkl_withdrawn"
#define TKL_PG_RETRY         "tkl_retry"
#define TKL_PG_WAIT          "tkl_wait"
#define TKL_PG_RELEASE       "tkl_release"
#define TKL_PG_RECOVER       "tkl_recover"
#define TKL_PG_HASTEN        "tkl_hasten"
#define TKL_PG_RELEASE_STRAY "tkl_release_stray"
#define TKL_PG_UNREPORTED    "tkl_unreported"
#define TKL_PG_PUT_REPORT    "tkl_put_report"
#define TKL_PG_DUE_CHANNELS  "tkl_due_channels"
#define TKL_PG_NEXT_ATTEMPT  "tkl_next_attempt"
#define TKL_PG_NODE_SEEN     "tkl_node_seen"
#define TKL_PG_META_GET      "tkl_meta_get"
#define TKL_PG_META_SET      "tkl_meta_set"

#define TKL_PG_LOCK_UPDATES    "tkl_lock_updates"
#define TKL_PG_ADD_UPDATE      "tkl_add_update"
#define TKL_PG_NOTIFY_UPDATED  "tkl_notify_updated"
#define TKL_PG_UPDATES         "tkl_updates"
#define TKL_PG_LINK_UPDATES    "tkl_link_updates"
#define TKL_PG_UPDATES_VERSION "tkl_updates_version"
/*
 * TKL_PG_OUTBOX_VIEW: what the operator's outbox page and /metrics show
 *   (state.h's tkl_state_view). $1 day_start, $2 now, $3 at most so many
 *   notices of each state. At least one row: the numbers pending,
 *   retrying, failed, delivered since $1, delivered, the earliest next
 *   attempt and the oldest pending notice's created_at (NULL: none); then,
 *   NULL in a row that carries no notice, a notice not delivered (failed,
 *   retrying, pending; newest first in each): id, channel, recipient,
 *   team_id, team_name, last_error, state, attempts, due_at, created_at,
 *   next_attempt, its number of entries, and the node holding a lease on
 *   it not expired at $2 with the lease's end (else NULL).
 */
#define TKL_PG_OUTBOX_VIEW "tkl_outbox_view"
/*
 * What the web face shows of each item's notices (state.h's
 * tkl_state_item_notices); rows of the columns of outbox.h's
 * tkl_item_notice: item_id, id, channel, recipient, team_id, team_name,
 * stage_key, state, attempts, sending (a lease not expired at now),
 * created_at, finished_at.
 * TKL_PG_ITEM_HISTORY: $1 item_id, $2, $3 and $6 stages left out, $4 at
 *   most so many, $5 now. One row per notice that carried the item, newest
 *   first; stage_key its least of the item's.
 * TKL_PG_LAST_NOTICES: $1, $3 and $4 the stages left out, $2 now. One row per item,
 *   its latest notice, by item id bytewise; stage_key the item's first
 *   entry's in it.
 */
#define TKL_PG_ITEM_HISTORY "tkl_item_history"
#define TKL_PG_LAST_NOTICES "tkl_last_notices"

/* Registers every statement above with tkl_pg_prepare (after the
 * migration: they name its tables). Returns 0 or tkl_pg_prepare's
 * error. */
int tkl_pg_schema_prepare(struct tkl_pg *pg);

/* Reads rows in TKL_PG_CLAIM's columns (more may follow them), one per
 * entry, the rows of a notice next to each other, into notices (state
 * pending: the caller sets what its query read) in *ret, *ret_n of them
 * (free each with tkl_stored_notice_free, then the array). Returns 0 or
 * -ENOMEM (nothing returned). Defined by state/pg_state.c. */
int tkl_pg_notices_read(const PGresult *res, struct tkl_stored_notice ***ret, size_t *ret_n);

/* The class (first key) of the advisory locks of actions' updates:
 * "tick". */
#define TKL_PG_UPDATE_LOCK_CLASS "1953063787"

/* The class of a node's session lock: "tknd". */
#define TKL_PG_NODE_LOCK_CLASS "1953197668"

/*
 * A node's claim on its name ($1, state.node), made first on each of its
 * connections (struct tkl_pg_options, claim_sql): the session's advisory
 * lock of the name, held while the session lives, so that a second
 * ticklerd with the same node name (a cloned machine keeps its host name)
 * is refused the database instead of taking the first one's leases for
 * its own and sending their notices again. The server's TCP settings for
 * the session are set first (they count only on TCP; each where the server
 * has it): keepalives (30 s idle, then 3 probes 10 s apart) for an idle
 * session, and a user timeout of 60 s for one whose data goes
 * unacknowledged, so that the session of a node whose host died, lock and
 * all, ends within about a minute instead of the kernel's hours, and the
 * node, restarted, gets its name back.
 */
#define TKL_PG_NODE_CLAIM                                                                          \
    "WITH k AS (SELECT set_config(name, CASE name WHEN 'tcp_keepalives_idle' THEN '30'"            \
    " WHEN 'tcp_keepalives_interval' THEN '10' WHEN 'tcp_keepalives_count' THEN '3'"               \
    " ELSE '60000' END, false) FROM pg_settings WHERE name IN ('tcp_keepalives_idle',"             \
    " 'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout'))"                     \
    " SELECT pg_try_advisory_lock(" TKL_PG_NODE_LOCK_CLASS ", hashtext($1))"                       \
    " FROM (SELECT count(*) FROM k) c"

/* The second key of the advisory lock of the updates of an action
 * (TKL_PG_LOCK_UPDATES): a 31-bit hash of its id, at least 0, so two
 * actions may share a lock, which only orders them. */
int32_t tkl_pg_update_lock(const char *action_id);

#endif
