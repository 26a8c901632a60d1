/*
 * What `tickler status` reports of a state on PostgreSQL: the outbox's
 * numbers as for SQLite, and the nodes sharing the database, each with
 * when it was last seen, the leases it holds and whether it is connected.
 */
#ifndef TKL_STATE_PG_STATUS_H
#define TKL_STATE_PG_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbox/outbox.h"

/* A node: one that recorded itself (last_seen, else INT64_MIN) or holds
 * leases on notices not finished (leases of them, the latest expiry in
 * lease_until, else INT64_MIN); connected when a ticklerd of its name is
 * connected to the database now (it holds its name's lock). */
struct tkl_pg_node {
    char *id;
    int64_t last_seen;
    int64_t leases;
    int64_t lease_until;
    bool connected;
};

struct tkl_pg_status {
    struct tkl_outbox_stats st;
    int64_t stuck;    /* waiting since before stuck_before */
    int64_t last_run; /* meta last_run, INT64_MIN when none */
    struct tkl_pg_node *nodes;
    size_t n_nodes;
    struct tkl_channel_waiting *channels; /* as tkl_outbox_waiting_channels */
    size_t n_channels;
};

/*
 * Reads the status of the database conninfo_file names (a path or
 * "credential:NAME"), in one transaction: delivered_today counting from
 * day_start, stuck counting what waits since before stuck_before. Runs a
 * loop of its own until done (for the command-line tool). Returns 0 with
 * *ret (free with tkl_pg_status_free), or a negative errno with *ret_err
 * (the caller frees it): -ENOENT when the database has no tickler schema.
 */
int tkl_pg_status_read(const char *conninfo_file, int64_t day_start, int64_t stuck_before,
                       struct tkl_pg_status *ret, char **ret_err);

void tkl_pg_status_free(struct tkl_pg_status *s);

#endif
