#include "pg_outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib/libpq.h"
#include "state/pg.h"
#include "state/pg_schema.h"

/* The columns of TKL_PG_CLAIM's rows (pg_schema.h), then the notice's
 * state, last error, next attempt and live lease. */
#define NOTICE_COLUMNS                                                                             \
    "n.id, n.channel, n.recipient, n.team_id, n.team_name, n.thread_key, n.due_at,"                \
    " n.created_at, n.attempts, n.intro, e.idx, e.item_id, e.title, e.commitment, e.owners,"       \
    " e.deadline_text, e.status, e.progress, e.deadline_day, e.kind, e.stage, e.stage_key,"        \
    " e.days_left, e.late, e.category, e.url, e.answer, n.state, n.last_error, n.next_attempt,"    \
    " CASE WHEN n.lease_until > $1::bigint THEN n.lease_node END,"                                 \
    " CASE WHEN n.lease_until > $1::bigint THEN n.lease_until END"
enum { C_STATE = 27, C_LAST_ERROR, C_NEXT_ATTEMPT, C_LEASE_NODE, C_LEASE_UNTIL };

static const char list_sql[] =
    "SELECT " NOTICE_COLUMNS " FROM notices n JOIN entries e ON e.notice_id = n.id"
    " WHERE NOT $2::boolean OR n.state = 2 ORDER BY n.id DESC, e.idx";

/* A failed notice, or a withdrawn one named, no node holds a lease on is
 * due again now ($1), its age counting from now; $2 the ids (an array),
 * $3 true: every failed notice. One row (id) per notice queued again. */
static const char requeue_sql[] =
    "UPDATE notices SET state = 0, attempts = 0, next_attempt = 0, created_at = $1::bigint,"
    " finished_at = NULL WHERE (state = 2 OR (state = 3 AND NOT $3::boolean))"
    " AND lease_node IS NULL AND ($3::boolean OR id = ANY($2::bigint[])) RETURNING id";
/* First, for every failed notice (tickler retry --failed): the failure
 * reports withdrawn (outbox.h, TKL_REPORT_MOOT); requeue_sql then takes
 * only what is still failed. */
static const char withdraw_sql[] =
    "UPDATE notices SET state = 3, finished_at = $1::bigint, last_error = '" TKL_REPORT_MOOT "'"
    " WHERE $2::boolean AND state = 2 AND lease_node IS NULL"
    " AND EXISTS (SELECT 1 FROM entries e WHERE e.notice_id = notices.id"
    " AND e.stage = $3::integer) RETURNING id";
/* Then what the notices named are (those not queued again say why). */
static const char named_sql[] =
    "SELECT id, state, CASE WHEN lease_until > $1::bigint THEN lease_node END, lease_until"
    " FROM notices WHERE id = ANY($2::bigint[])";
static const char wake_sql[] = "SELECT pg_notify('" TKL_PG_QUEUED_CHANNEL "', 'tickler retry')";

struct job {
    bool done;
    int r;
    char *err;
    /* list */
    bool failed_only;
    int64_t now;
    struct tkl_pg_listed *listed;
    size_t n_listed;
    /* requeue */
    const uint64_t *ids;
    size_t n_ids;
    int64_t requeued;
    int64_t withdrawn; /* failure reports, with every failed notice */
    struct tkl_pg_requeued *named;
};

static int64_t value(const PGresult *res, int row, int i, int64_t none)
{
    return sym_PQgetisnull(res, row, i) ? none : strtoll(sym_PQgetvalue(res, row, i), NULL, 10);
}

/* Records the failure of the job: r, and "what: why" in err. */
static void fail(struct job *x, int r, const char *what, const PGresult *res)
{
    free(x->err);
    x->r = tkl_pg_run_failed(r, what, res, &x->err);
}

/* The last result of a transaction that failed (its error), or NULL. */
static const PGresult *failed_result(const PGresult *const *results, size_t n)
{
    const PGresult *failed = NULL;
    for (size_t i = 0; i < n && results[i]; i++)
        failed = results[i];
    return failed;
}

/* Runs start with x until done; returns 0 or x's error with *ret_err. */
static int run(const char *conninfo_file, int (*start)(struct tkl_pg *pg, void *data),
               struct job *x, char **ret_err)
{
    *ret_err = NULL;
    int r = tkl_pg_run(conninfo_file, start, x, &x->done);
    if (r < 0 && x->r == 0)
        fail(x, r, "cannot use the conninfo", NULL);
    if (x->r < 0) {
        *ret_err = x->err ? x->err : strdup(strerror(-x->r));
        return x->r;
    }
    free(x->err);
    return 0;
}

/* ---- list ---------------------------------------------------------------- */

static void on_listed(void *data, int r, const PGresult *const *results, size_t n)
{
    struct job *x = data;
    struct tkl_stored_notice **v = NULL;
    size_t k = 0;
    x->done = true;
    if (r < 0) {
        fail(x, r, "cannot read the outbox", failed_result(results, n));
        return;
    }
    const PGresult *res = results[0];
    if ((r = tkl_pg_notices_read(res, &v, &k)) == 0 && k &&
        !(x->listed = calloc(k, sizeof(*x->listed))))
        r = -ENOMEM;
    /* the rows of one notice follow each other: its first row's values */
    for (int row = 0, i = -1; r == 0 && row < sym_PQntuples(res); row++) {
        if (i >= 0 && x->listed[i].s->notice.id == (uint64_t)value(res, row, 0, 0))
            continue;
        struct tkl_stored_notice *s = v[++i];
        struct tkl_pg_listed *l = &x->listed[i];
        s->state = (enum tkl_notice_state)value(res, row, C_STATE, 0);
        s->next_attempt = value(res, row, C_NEXT_ATTEMPT, 0);
        if (!sym_PQgetisnull(res, row, C_LAST_ERROR) &&
            !(s->last_error = strdup(sym_PQgetvalue(res, row, C_LAST_ERROR))))
            r = -ENOMEM;
        if (!sym_PQgetisnull(res, row, C_LEASE_NODE) &&
            !(l->lease_node = strdup(sym_PQgetvalue(res, row, C_LEASE_NODE))))
            r = -ENOMEM;
        l->lease_until = value(res, row, C_LEASE_UNTIL, 0);
        l->s = s;
        v[i] = NULL;
        x->n_listed = (size_t)i + 1;
    }
    for (size_t i = 0; i < k; i++)
        tkl_stored_notice_free(v[i]);
    free(v);
    if (r < 0) {
        x->r = r;
        if (asprintf(&x->err, "cannot read the outbox: %s", strerror(-r)) < 0)
            x->err = NULL;
    }
}

static int start_list(struct tkl_pg *pg, void *data)
{
    struct job *x = data;
    char now[24];
    snprintf(now, sizeof(now), "%" PRId64, x->now);
    const char *params[] = {now, x->failed_only ? "true" : "false"};
    const struct tkl_pg_stmt stmt = {.sql = list_sql, .nparams = 2, .params = params};
    int r = tkl_pg_transaction(pg, &stmt, 1, on_listed, x);
    if (r < 0)
        fail(x, r, "cannot query the database", NULL);
    return r;
}

int tkl_pg_outbox_list(const char *conninfo_file, bool failed_only, int64_t now,
                       struct tkl_pg_listed **ret, size_t *ret_n, char **ret_err)
{
    struct job x = {.failed_only = failed_only, .now = now};
    int r = run(conninfo_file, start_list, &x, ret_err);
    if (r < 0) {
        tkl_pg_listed_free(x.listed, x.n_listed);
        return r;
    }
    *ret = x.listed;
    *ret_n = x.n_listed;
    return 0;
}

void tkl_pg_listed_free(struct tkl_pg_listed *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        tkl_stored_notice_free(v[i].s);
        free(v[i].lease_node);
    }
    free(v);
}

/* ---- requeue ------------------------------------------------------------- */

/* What became of named notice *y, from the requeue's rows (a) and the
 * notices named as they are now (b). Returns 0 or -ENOMEM. */
static int explain(struct tkl_pg_requeued *y, const PGresult *a, const PGresult *b)
{
    for (int i = 0; i < sym_PQntuples(a); i++)
        if ((uint64_t)value(a, i, 0, 0) == y->id) {
            y->why = TKL_PG_REQUEUED;
            return 0;
        }
    y->why = TKL_PG_NO_NOTICE;
    for (int i = 0; i < sym_PQntuples(b); i++) {
        if ((uint64_t)value(b, i, 0, 0) != y->id)
            continue;
        y->why = TKL_PG_NOT_FAILED;
        if (!sym_PQgetisnull(b, i, 2)) {
            y->why = TKL_PG_LEASED;
            y->lease_until = value(b, i, 3, 0);
            if (!(y->lease_node = strdup(sym_PQgetvalue(b, i, 2))))
                return -ENOMEM;
        }
    }
    return 0;
}

static void on_requeued(void *data, int r, const PGresult *const *results, size_t n)
{
    struct job *x = data;
    x->done = true;
    if (r < 0) {
        fail(x, r, "cannot update the outbox", failed_result(results, n));
        return;
    }
    x->withdrawn = sym_PQntuples(results[0]);
    x->requeued = sym_PQntuples(results[1]);
    for (size_t i = 0; r == 0 && i < x->n_ids; i++) {
        x->named[i].id = x->ids[i];
        r = explain(&x->named[i], results[1], results[2]);
    }
    if (r < 0) {
        x->r = r;
        x->err = strdup(strerror(-r));
    }
}

static int start_requeue(struct tkl_pg *pg, void *data)
{
    struct job *x = data;
    char now[24], report[12], *ids = NULL;
    int r = tkl_pg_id_array(x->ids, x->n_ids, &ids);
    if (r == 0) {
        snprintf(now, sizeof(now), "%" PRId64, x->now);
        snprintf(report, sizeof(report), "%d", (int)TKL_STAGE_REPORT);
        const char *params[] = {now, ids, x->n_ids ? "false" : "true"};
        const char *moot[] = {now, x->n_ids ? "false" : "true", report};
        const struct tkl_pg_stmt stmts[] = {
            {.sql = withdraw_sql, .nparams = 3, .params = moot},
            {.sql = requeue_sql, .nparams = 3, .params = params},
            {.sql = named_sql, .nparams = 2, .params = params},
            {.sql = wake_sql},
        };
        r = tkl_pg_transaction(pg, stmts, 4, on_requeued, x);
    }
    free(ids);
    if (r < 0)
        fail(x, r, "cannot query the database", NULL);
    return r;
}

int tkl_pg_outbox_requeue(const char *conninfo_file, const uint64_t *ids, size_t n, int64_t now,
                          int64_t *ret_n, int64_t *ret_reports, struct tkl_pg_requeued *ret,
                          char **ret_err)
{
    struct job x = {.now = now, .ids = ids, .n_ids = n, .named = ret};
    if (n)
        memset(ret, 0, n * sizeof(*ret));
    int r = run(conninfo_file, start_requeue, &x, ret_err);
    if (r < 0) {
        tkl_pg_requeued_free(ret, n);
        return r;
    }
    *ret_n = x.requeued;
    *ret_reports = x.withdrawn;
    return 0;
}

void tkl_pg_requeued_free(struct tkl_pg_requeued *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].lease_node);
        v[i].lease_node = NULL;
    }
}
