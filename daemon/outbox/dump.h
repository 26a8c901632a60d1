/*
 * The whole outbox (notices, their entries, the notification log, the
 * updates, the meta values) as JSON, for moving an installation's state to
 * another backend (state/migrate.h), and the mark that says it moved.
 */
#ifndef TKL_OUTBOX_DUMP_H
#define TKL_OUTBOX_DUMP_H

#include <stdint.h>

#include "outbox.h"

/* The meta key whose value is the instant the state was moved out
 * (tkl_outbox_dump_end with moved_at): ticklerd refuses to run on it. */
#define TKL_OUTBOX_MOVED_AT "moved_to_postgresql_at"

/* Each table as a JSON array of row objects keyed by column name, and its
 * row count. sending: notices that were being delivered when their daemon
 * stopped (due again once moved, as at a start). */
struct tkl_outbox_dump {
    char *meta, *notices, *entries, *log, *updates;
    int64_t n_meta, n_notices, n_pending, n_sending, n_entries, n_log, n_updates;
};

/*
 * Reads every table in one transaction that takes the database's write
 * lock and keeps it until tkl_outbox_dump_end, so no daemon writes in
 * between. Fails with -EBUSY at once (no waiting) when another process
 * holds the lock, and with -EALREADY when the state was moved out
 * before. Returns 0 or a negative errno (then nothing is held).
 */
int tkl_outbox_dump_begin(struct tkl_outbox *o, struct tkl_outbox_dump *ret);

/*
 * Ends the transaction of tkl_outbox_dump_begin and frees e's texts.
 * moved_at > 0 records TKL_OUTBOX_MOVED_AT = moved_at in the same
 * transaction and commits it; 0 changes nothing. Returns 0 or a negative
 * errno (the mark not made; the lock is released either way).
 */
int tkl_outbox_dump_end(struct tkl_outbox *o, struct tkl_outbox_dump *e, int64_t moved_at);

#endif
