#include "migrate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tickler/text.h>

#include "dynlib/libpq.h"
#include "outbox/dump.h"
#include "state/pg.h"
#include "state/pg_schema.h"

struct migration {
    struct tkl_pg *pg;
    struct tkl_outbox *outbox;
    struct tkl_outbox_dump e;
    bool dumped;
    struct tkl_migrate_counts *counts;
    bool done;
    int r;
    char *err;
};

/* Ends the migration with r, and err (printf-style) as the reason. */
__attribute__((format(printf, 3, 4))) static void finish(struct migration *m, int r,
                                                         const char *fmt, ...)
{
    m->done = true;
    m->r = r;
    if (r < 0 && fmt && !m->err) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&m->err, fmt, ap) < 0)
            m->err = NULL;
        va_end(ap);
    }
}

/* The copy, one statement per table, in the order their references need. */
static const char *const copy_sql[] = {
    /* the tables locked against nodes (inside the block: the pipeline's
     * implicit transaction is no transaction block for a LOCK of its
     * own), and the check made again under the lock */
    "DO $tickler_migrate$ BEGIN"
    " LOCK TABLE meta, notices, entries, log, updates IN EXCLUSIVE MODE; IF EXISTS (SELECT 1 FROM "
    "notices) OR EXISTS (SELECT 1 FROM log)"
    " OR EXISTS (SELECT 1 FROM updates) OR EXISTS (SELECT 1 FROM meta) THEN RAISE EXCEPTION"
    " 'the database already holds tickler state'; END IF; END $tickler_migrate$",
    "INSERT INTO meta SELECT * FROM json_populate_recordset(NULL::meta, $1::json)",
    "INSERT INTO notices SELECT * FROM json_populate_recordset(NULL::notices, $1::json)",
    "INSERT INTO entries SELECT * FROM json_populate_recordset(NULL::entries, $1::json)",
    "INSERT INTO log SELECT * FROM json_populate_recordset(NULL::log, $1::json)",
    "INSERT INTO updates SELECT * FROM json_populate_recordset(NULL::updates, $1::json)",
    "SELECT setval(pg_get_serial_sequence('notices', 'id'),"
    " coalesce((SELECT max(id) FROM notices), 0) + 1, false),"
    " setval(pg_get_serial_sequence('updates', 'id'),"
    " coalesce((SELECT max(id) FROM updates), 0) + 1, false)",
};
enum { COPY_N = sizeof(copy_sql) / sizeof(copy_sql[0]), COPY_FIRST_TABLE = 1 };

static void on_copied(void *data, int r, const PGresult *const *results, size_t n)
{
    struct migration *m = data;
    if (r < 0) {
        const PGresult *failed = NULL;
        for (size_t i = 0; i < n && results[i]; i++)
            failed = results[i];
        if (r == -ECONNRESET)
            finish(m, r,
                   "the connection was lost before the copy was answered: the database may hold "
                   "it or not (tickler status says); the SQLite state is not marked as moved");
        else
            finish(m, r, "the copy was not made (nothing changed): %s",
                   tkl_pg_error_text(r, failed));
        return;
    }
    /* every row of each table went in, as the dump counted them */
    const int64_t want[] = {m->e.n_meta, m->e.n_notices, m->e.n_entries, m->e.n_log,
                            m->e.n_updates};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *got = sym_PQcmdTuples((PGresult *)results[COPY_FIRST_TABLE + i]);
        if (strtoll(got, NULL, 10) != want[i]) {
            finish(m, -EIO, "the copy committed %s rows of a table of %" PRId64, got, want[i]);
            return;
        }
    }
    *m->counts = (struct tkl_migrate_counts){.notices = m->e.n_notices,
                                             .pending = m->e.n_pending,
                                             .sending = m->e.n_sending,
                                             .entries = m->e.n_entries,
                                             .log = m->e.n_log,
                                             .updates = m->e.n_updates,
                                             .meta = m->e.n_meta};
    m->dumped = false;
    r = tkl_outbox_dump_end(m->outbox, &m->e, (int64_t)time(NULL));
    if (r < 0)
        finish(m, r,
               "the state was copied to PostgreSQL, but the SQLite state could not be marked as "
               "moved (%s): do not start ticklerd on the sqlite backend again",
               strerror(-r));
    else
        finish(m, 0, NULL);
}

static void on_counted(void *data, int r, const PGresult *res)
{
    struct migration *m = data;
    if (r < 0) {
        finish(m, r, "cannot read the database: %s", tkl_pg_error_text(r, res));
        return;
    }
    int64_t held = 0;
    for (int i = 0; i < sym_PQnfields(res); i++)
        held += strtoll(sym_PQgetvalue(res, 0, i), NULL, 10);
    if (held > 0) {
        finish(m, -EEXIST,
               "the database already holds tickler state (%s notices, %s log keys, %s updates, %s "
               "meta values): tickler migrate moves a state into an empty one",
               sym_PQgetvalue(res, 0, 0), sym_PQgetvalue(res, 0, 1), sym_PQgetvalue(res, 0, 2),
               sym_PQgetvalue(res, 0, 3));
        return;
    }
    const char *const json[] = {m->e.meta, m->e.notices, m->e.entries, m->e.log, m->e.updates};
    struct tkl_pg_stmt stmts[COPY_N] = {0};
    for (size_t i = 0; i < COPY_N; i++) {
        stmts[i].sql = copy_sql[i];
        if (i >= COPY_FIRST_TABLE && i < COPY_FIRST_TABLE + 5) {
            stmts[i].nparams = 1;
            stmts[i].params = &json[i - COPY_FIRST_TABLE];
        }
    }
    if ((r = tkl_pg_transaction(m->pg, stmts, COPY_N, on_copied, m)) < 0)
        finish(m, r, "cannot send the copy: %s", strerror(-r));
}

static void on_migrated(void *data, int r, int version)
{
    struct migration *m = data;
    if (r == -EPROTO) {
        finish(m, r, "the database's schema (version %d) is newer than this tickler knows (%d)",
               version, TKL_PG_SCHEMA_VERSION);
        return;
    }
    if (r < 0) {
        finish(m, r, "cannot create the schema: %s", tkl_pg_error_text(r, NULL));
        return;
    }
    const struct tkl_pg_stmt count = {
        .sql = "SELECT (SELECT count(*) FROM notices), (SELECT count(*) FROM log),"
               " (SELECT count(*) FROM updates), (SELECT count(*) FROM meta)"};
    if ((r = tkl_pg_query(m->pg, &count, on_counted, m)) < 0)
        finish(m, r, "cannot query the database: %s", strerror(-r));
}

/* Opens the outbox of state_dir (which must exist) and dumps it. */
static int dump_state(struct migration *m, const char *state_dir)
{
    char *path = NULL, *err = NULL;
    if (asprintf(&path, "%s/tickler.db", state_dir) < 0)
        return -ENOMEM;
    int r = access(path, F_OK) == 0 ? 0 : -errno;
    if (r < 0)
        finish(m, r, "no state to move: %s: %s", path, strerror(-r));
    else if ((r = tkl_outbox_open(state_dir, &m->outbox, &err)) < 0)
        finish(m, r, "cannot open %s: %s", path, err ? err : strerror(-r));
    else if ((r = tkl_outbox_dump_begin(m->outbox, &m->e)) == 0)
        m->dumped = true;
    else if (r == -EBUSY)
        finish(m, r, "%s is being written: stop ticklerd first", path);
    else if (r == -EALREADY)
        finish(m, r, "the state in %s was moved to PostgreSQL already", path);
    else
        finish(m, r, "cannot read %s: %s", path, strerror(-r));
    free(err);
    free(path);
    return r;
}

static int start(struct tkl_pg *pg, void *data)
{
    struct migration *m = data;
    m->pg = pg;
    int r = tkl_pg_schema_migrate(pg, on_migrated, m);
    if (r < 0)
        finish(m, r, "cannot send the schema: %s", strerror(-r));
    return r;
}

int tkl_state_migrate_to_pg(const char *state_dir, const char *conninfo_file,
                            struct tkl_migrate_counts *ret, char **ret_err)
{
    struct migration m = {.counts = ret};
    *ret_err = NULL;
    if (dump_state(&m, state_dir) == 0) {
        int r = tkl_pg_run(conninfo_file, start, &m, &m.done);
        char why[512];
        if (r < 0 && !m.done && (r == -ELIBACC || r == -ELIBBAD) &&
            tkl_libpq_load(why, sizeof(why)) < 0)
            finish(&m, r, "%s", why);
        else if (r < 0 && !m.done)
            finish(&m, r, "cannot use the conninfo in %s: %s", conninfo_file,
                   tkl_secret_strerror(r));
    }
    if (m.dumped)
        (void)tkl_outbox_dump_end(m.outbox, &m.e, 0);
    tkl_outbox_close(m.outbox);
    if (m.r < 0)
        *ret_err = m.err ? m.err : strdup(strerror(-m.r));
    else
        free(m.err);
    return m.r;
}
