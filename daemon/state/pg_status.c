#include "pg_status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib/libpq.h"
#include "state/pg.h"
#include "state/pg_schema.h"

struct reading {
    int64_t day_start, stuck_before;
    struct tkl_pg_status *ret;
    bool done;
    int r;
    char *err;
};

/* The numbers tickler status shows for SQLite (outbox.c's
 * tkl_outbox_stats and tkl_outbox_count_waiting), then last_run. */
static const char numbers_sql[] =
    "SELECT count(*) FILTER (WHERE state = 0 AND attempts = 0),"
    " count(*) FILTER (WHERE state = 0 AND attempts > 0),"
    " count(*) FILTER (WHERE state = 2),"
    " count(*) FILTER (WHERE state = 1 AND finished_at >= $1::bigint),"
    " count(*) FILTER (WHERE state = 1),"
    " min(next_attempt) FILTER (WHERE state = 0),"
    " min(created_at) FILTER (WHERE state = 0),"
    " count(*) FILTER (WHERE state = 0 AND created_at < $2::bigint),"
    " (SELECT value FROM meta WHERE key = 'last_run'),"
    " count(*) FILTER (WHERE state = 3),"
    " min(greatest(next_attempt, created_at)) FILTER (WHERE state = 0),"
    " min(greatest(due_at, created_at)) FILTER (WHERE state = 0 AND attempts > 1),"
    " (SELECT last_error FROM notices WHERE state = 0 AND attempts > 1"
    "  ORDER BY greatest(due_at, created_at), id LIMIT 1)"
    " FROM notices";

/* Every node seen or holding a lease on a notice not finished, and
 * whether a session holds its name's lock (TKL_PG_NODE_CLAIM) in this
 * database now: a ticklerd of that name is connected. In pg_locks a lock
 * of two int4 keys is classid, objid (as oid) and objsubid 2. */
static const char nodes_sql[] =
    "SELECT x.id, x.last_seen, x.leases, x.until, EXISTS (SELECT 1 FROM pg_locks k"
    "   WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 2"
    "   AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "   AND k.classid = " TKL_PG_NODE_LOCK_CLASS "::bigint::oid"
    "   AND k.objid = (hashtext(x.id)::bigint & 4294967295)::oid)"
    " FROM (SELECT coalesce(n.id, l.node) AS id, n.last_seen, coalesce(l.leases, 0) AS leases,"
    "   l.until FROM nodes n FULL JOIN (SELECT lease_node AS node, count(*) AS leases,"
    "   max(lease_until) AS until FROM notices"
    "   WHERE state = 0 AND lease_node IS NOT NULL GROUP BY lease_node) l ON l.node = n.id) x"
    " ORDER BY 1";

/* The channels with notices waiting, as tkl_outbox_waiting_channels. */
static const char channels_sql[] = "SELECT channel, count(*) FROM notices WHERE state = 0"
                                   " GROUP BY channel ORDER BY channel";

/* Column i of row of res, or none when NULL. */
static int64_t value(const PGresult *res, int row, int i, int64_t none)
{
    return sym_PQgetisnull(res, row, i) ? none : strtoll(sym_PQgetvalue(res, row, i), NULL, 10);
}

static void fail(struct reading *x, int r, const char *what, const PGresult *res)
{
    x->r = tkl_pg_run_failed(r, what, res, &x->err);
}

static void on_read(void *data, int r, const PGresult *const *results, size_t n)
{
    struct reading *x = data;
    x->done = true;
    if (r < 0) {
        const PGresult *failed = NULL;
        for (size_t i = 0; i < n && results[i]; i++)
            failed = results[i];
        fail(x, r, "cannot read the state", failed);
        return;
    }
    const PGresult *a = results[0], *b = results[1], *c = results[2];
    struct tkl_pg_status s = {.st = {.pending = value(a, 0, 0, 0),
                                     .retrying = value(a, 0, 1, 0),
                                     .failed = value(a, 0, 2, 0),
                                     .delivered_today = value(a, 0, 3, 0),
                                     .delivered = value(a, 0, 4, 0),
                                     .next_attempt = value(a, 0, 5, INT64_MAX),
                                     .oldest_pending = value(a, 0, 6, INT64_MAX),
                                     .withdrawn = value(a, 0, 9, 0),
                                     .due_since = value(a, 0, 10, INT64_MAX),
                                     .retrying_since = value(a, 0, 11, INT64_MAX)},
                              .stuck = value(a, 0, 7, 0),
                              .last_run = value(a, 0, 8, INT64_MIN)};
    if (!sym_PQgetisnull(a, 0, 12))
        snprintf(s.st.last_error, sizeof(s.st.last_error), "%s", sym_PQgetvalue(a, 0, 12));
    int rows = sym_PQntuples(b);
    if (rows > 0 && !(s.nodes = calloc((size_t)rows, sizeof(*s.nodes)))) {
        x->r = -ENOMEM;
        return;
    }
    for (int i = 0; i < rows; i++) {
        struct tkl_pg_node *node = &s.nodes[s.n_nodes];
        if (!(node->id = strdup(sym_PQgetvalue(b, i, 0)))) {
            tkl_pg_status_free(&s);
            x->r = -ENOMEM;
            return;
        }
        node->last_seen = value(b, i, 1, INT64_MIN);
        node->leases = value(b, i, 2, 0);
        node->lease_until = value(b, i, 3, INT64_MIN);
        node->connected = strcmp(sym_PQgetvalue(b, i, 4), "t") == 0;
        s.n_nodes++;
    }
    rows = sym_PQntuples(c);
    if (rows > 0 && !(s.channels = calloc((size_t)rows, sizeof(*s.channels)))) {
        tkl_pg_status_free(&s);
        x->r = -ENOMEM;
        return;
    }
    for (int i = 0; i < rows; i++) {
        if (!(s.channels[i].channel = strdup(sym_PQgetvalue(c, i, 0)))) {
            tkl_pg_status_free(&s);
            x->r = -ENOMEM;
            return;
        }
        s.channels[i].n = value(c, i, 1, 0);
        s.n_channels++;
    }
    *x->ret = s;
}

static int start(struct tkl_pg *pg, void *data)
{
    struct reading *x = data;
    char day[24], stuck[24];
    snprintf(day, sizeof(day), "%" PRId64, x->day_start);
    snprintf(stuck, sizeof(stuck), "%" PRId64, x->stuck_before);
    const char *params[] = {day, stuck};
    const struct tkl_pg_stmt stmts[] = {{.sql = numbers_sql, .nparams = 2, .params = params},
                                        {.sql = nodes_sql},
                                        {.sql = channels_sql}};
    int r = tkl_pg_transaction(pg, stmts, 3, on_read, x);
    if (r < 0)
        fail(x, r, "cannot query the database", NULL);
    return r;
}

int tkl_pg_status_read(const char *conninfo_file, int64_t day_start, int64_t stuck_before,
                       struct tkl_pg_status *ret, char **ret_err)
{
    struct reading x = {.day_start = day_start, .stuck_before = stuck_before, .ret = ret};
    *ret_err = NULL;
    int r = tkl_pg_run(conninfo_file, start, &x, &x.done);
    if (r < 0 && !x.err && x.r == 0)
        fail(&x, r, "cannot use the conninfo", NULL);
    if (x.r < 0) {
        *ret_err = x.err ? x.err : strdup(strerror(-x.r));
        return x.r;
    }
    free(x.err);
    return 0;
}

void tkl_pg_status_free(struct tkl_pg_status *s)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        free(s->nodes[i].id);
    free(s->nodes);
    s->nodes = NULL;
    s->n_nodes = 0;
    tkl_channel_waiting_free(s->channels, s->n_channels);
    s->channels = NULL;
    s->n_channels = 0;
}
