/*
 * What `tickler outbox` lists and `tickler retry` queues again of a state
 * on PostgreSQL (state/pg_schema.h): the shared notices, each with the
 * node holding a lease on it, read and written as for SQLite (outbox.c's
 * tkl_outbox_list, tkl_outbox_get, tkl_outbox_requeue). For the
 * command-line tool: each call runs a loop of its own until done
 * (tkl_pg_run) and returns 0, or a negative errno with *ret_err (the
 * caller frees it): -ENOENT when the database has no tickler schema.
 */
#ifndef TKL_STATE_PG_OUTBOX_H
#define TKL_STATE_PG_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbox/outbox.h"

/* A notice as tickler outbox shows it: s whole (its entries, state,
 * attempts, last error), and the node holding a lease on it that has
 * not expired at the read (NULL: none) with the lease's end. */
struct tkl_pg_listed {
    struct tkl_stored_notice *s;
    char *lease_node;
    int64_t lease_until;
};

/* Every notice (or the failed ones), newest first, read at now in one
 * transaction into *ret (free with tkl_pg_listed_free), *ret_n of them. */
int tkl_pg_outbox_list(const char *conninfo_file, bool failed_only, int64_t now,
                       struct tkl_pg_listed **ret, size_t *ret_n, char **ret_err);

void tkl_pg_listed_free(struct tkl_pg_listed *v, size_t n);

/* Why a notice named to tkl_pg_outbox_requeue was not queued again. */
enum tkl_pg_requeue_why {
    TKL_PG_REQUEUED,   /* it was failed and is due now */
    TKL_PG_NO_NOTICE,  /* no notice has that id */
    TKL_PG_NOT_FAILED, /* pending, retrying or delivered */
    TKL_PG_LEASED,     /* a node holds a lease on it: in flight there */
};

struct tkl_pg_requeued {
    uint64_t id;
    enum tkl_pg_requeue_why why;
    char *lease_node;    /* TKL_PG_LEASED: the node */
    int64_t lease_until; /* and when its lease ends */
};

/*
 * Puts the failed notices of ids (n of them; n == 0: every failed
 * notice) back in the queue, due now, their maximum age counting from
 * now, and wakes the nodes (NOTIFY, as a queued notice does), in one
 * transaction. A notice a node holds a lease on is left alone. *ret_n
 * gets how many were queued again; with ids, ret (n of them, in order;
 * free with tkl_pg_requeued_free) says what became of each. With every
 * failed notice, the failed failure reports are withdrawn instead, as
 * tkl_outbox_requeue_failed withdraws them (*ret_reports of them).
 */
int tkl_pg_outbox_requeue(const char *conninfo_file, const uint64_t *ids, size_t n, int64_t now,
                          int64_t *ret_n, int64_t *ret_reports, struct tkl_pg_requeued *ret,
                          char **ret_err);

void tkl_pg_requeued_free(struct tkl_pg_requeued *v, size_t n);

#endif
