/*
 * Moving an installation's state from the SQLite outbox of its state
 * directory to a PostgreSQL database (`tickler migrate --from sqlite --to
 * postgresql`), without losing a notice or a key of the notification log.
 */
#ifndef TKL_STATE_MIGRATE_H
#define TKL_STATE_MIGRATE_H

#include <stdint.h>

/* What was moved: rows of each table. pending: notices not yet delivered
 * or failed, of which sending were being delivered when their daemon
 * stopped (due again now, as at a daemon's start). */
struct tkl_migrate_counts {
    int64_t notices, pending, sending, entries, log, updates, meta;
};

/*
 * Moves the state of <state_dir>/tickler.db into the database that
 * conninfo_file (a path, or "credential:NAME") names:
 *   - the SQLite database's write lock is taken first and held to the end
 *     (-EBUSY at once when a daemon is writing);
 *   - the PostgreSQL schema is created or migrated;
 *   - a database that already holds tickler state (notices, log keys,
 *     updates or meta values) is refused with -EEXIST;
 *   - every table is copied in one transaction, under an exclusive lock on
 *     the tables, and the id sequences moved past the copied ids;
 *   - only once that transaction committed is the SQLite state marked as
 *     moved (export.h): ticklerd refuses to run on it from then on, and a
 *     second migration of it is refused with -EALREADY.
 * Runs a loop of its own until done (for the command-line tool). Returns
 * 0 with *ret, or a negative errno with *ret_err (the caller frees it)
 * saying what failed; then nothing was marked as moved, except when the
 * copy committed and the mark could not be made, which *ret_err says.
 */
int tkl_state_migrate_to_pg(const char *state_dir, const char *conninfo_file,
                            struct tkl_migrate_counts *ret, char **ret_err);

#endif
