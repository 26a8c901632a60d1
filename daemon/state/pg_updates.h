/*
 * The officers' updates of a state on PostgreSQL (the updates table of
 * state/pg_schema.h), as rows and for the command-line tool.
 */
#ifndef TKL_STATE_PG_UPDATES_H
#define TKL_STATE_PG_UPDATES_H

#include <libpq-fe.h>

#include "update/update.h"

/* The columns of an update's row, in order: id, then these. */
#define TKL_PG_UPDATE_COLUMNS                                                                      \
    "action_id, recipient, team_id, kind, at, link_issued_at, until_day, rag, note, "              \
    "suggested_team, plan_deadline_day, plan_deadline_text, plan_status, plan_owners"

/* Reads row of res (id, then TKL_PG_UPDATE_COLUMNS) into *u. Returns 0 or
 * -ENOMEM (then u holds what was copied, for tkl_update_free). */
int tkl_pg_update_read(const PGresult *res, int row, struct tkl_update *u);

/* Every row of res into *ret (oldest first as res has them). Returns 0 or
 * -ENOMEM (then *ret is empty). */
int tkl_pg_updates_of(const PGresult *res, struct tkl_updates *ret);

/*
 * Reads every update recorded in the database conninfo_file names (a path
 * or "credential:NAME"), oldest first. Runs a loop of its own until done
 * (for the command-line tool). Returns 0 with *ret (free with
 * tkl_updates_free), or a negative errno with *ret_err (the caller frees
 * it): -ENOENT when the database has no tickler schema.
 */
int tkl_pg_updates_read(const char *conninfo_file, struct tkl_updates *ret, char **ret_err);

#endif
