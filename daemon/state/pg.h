/*
 * One asynchronous PostgreSQL connection on the libuv loop (libpq in
 * non-blocking pipeline mode): connecting, queries queued and pipelined,
 * prepared statements and LISTEN channels kept across reconnections, and
 * reconnection with capped, jittered exponential backoff.
 *
 * Nothing blocks the loop: libpq is driven by one uv_poll_t on PQsocket()
 * (made again after every PQconnectPoll step, as the socket may change),
 * and output is flushed with PQflush while watching for writability. An
 * idle connection only watches its socket for reading: no timer runs, so
 * it wakes nothing until the server sends (a NOTIFY) or goes away.
 *
 * The conninfo (libpq's "key=value" form) is read from a file or a systemd
 * credential (core/secret.h). The log names only host, port, dbname and
 * user, and every libpq message is logged with the password cut out.
 *
 * Every callback runs on the loop thread, never from inside the call that
 * queued its work.
 */
#ifndef TKL_STATE_PG_H
#define TKL_STATE_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>
#include <uv.h>

struct tkl_pg;

/* A statement's outcome. r is 0 with res its result (PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK); -EEXIST (unique violation), -EAGAIN (serialization
 * failure or deadlock) or -EIO (any other error) with res the error
 * result (PQresultErrorMessage, PQresultErrorField); -ECONNRESET when the
 * connection was lost first and -ECANCELED when it was closed first, with
 * res NULL. res is freed when the callback returns. */
typedef void (*tkl_pg_result_cb)(void *data, int r, const PGresult *res);

/* A transaction's outcome: r as for tkl_pg_result_cb (the first error);
 * results[i] is statement i's result, or NULL for a statement that did not
 * run (after the one that failed, or all of them when the connection went
 * away). The results are freed when the callback returns. */
typedef void (*tkl_pg_batch_cb)(void *data, int r, const PGresult *const *results, size_t n);

/* Told connected once the connection is up, its statements prepared and
 * its channels listened to; told lost when a connection that was up goes
 * away (after every pending callback got -ECONNRESET), before the
 * reconnection is tried. */
typedef void (*tkl_pg_state_cb)(void *data, bool connected);

/* A NOTIFY on a channel listened to; payload may be empty. */
typedef void (*tkl_pg_notify_cb)(void *data, const char *channel, const char *payload);

struct tkl_pg_options {
    const char *conninfo_file;   /* a path, or "credential:NAME" */
    unsigned backoff_min_ms;     /* first wait before reconnecting; 0: 250 */
    unsigned backoff_max_ms;     /* the cap of the doubling waits; 0: 30000 */
    unsigned connect_timeout_ms; /* a connection not up by then fails; 0: 10000 */
    tkl_pg_state_cb on_state;    /* may be NULL */
    tkl_pg_notify_cb on_notify;  /* may be NULL */
    void *data;                  /* given to on_state, on_notify and on_unreachable */
    const char *purpose;         /* what the connection is for, said after the target in
                                  * its log lines ("host=... (purpose)"), or NULL */
    /* Before the connection was ever up: told once, when this many
     * attempts in a row have failed (0: never), why the last did (the
     * password cut out); the attempts go on unless it closes the
     * connection. */
    unsigned unreachable_after;
    void (*on_unreachable)(void *data, const char *why);
    /* A claim made first on every connection, before it is up: claim_sql
     * (with claim_param as $1, or none when NULL) answers one row whose
     * first value is true when this connection may be used (a session's
     * advisory lock taken). Any other answer is a failed attempt, logged
     * as an error with claim_refused as its reason: the connection is
     * dropped and made again after the backoff. NULL: no claim. The
     * strings are copied. */
    const char *claim_sql;
    const char *claim_param;
    const char *claim_refused;
};

/* A statement of a query or transaction: sql (with $1..$n) or the name of a
 * statement prepared with tkl_pg_prepare; params are text, NULL for SQL
 * NULL. The strings are copied. */
struct tkl_pg_stmt {
    const char *sql;
    const char *prepared;
    int nparams;
    const char *const *params;
};

/* Loads libpq when first called (dynlib/libpq.h), reads the conninfo file
 * and starts connecting. Returns 0 with *ret, or a negative errno:
 * -ELIBACC or -ELIBBAD when libpq cannot be loaded or lacks a function
 * (logged, naming the library and its package), the file's
 * (core/secret.h), -EINVAL for a conninfo libpq cannot parse (logged,
 * password cut out), -ENOMEM. */
int tkl_pg_new(uv_loop_t *loop, const struct tkl_pg_options *opts, struct tkl_pg **ret);

/* Whether the connection is up (connected told, lost not yet). */
bool tkl_pg_connected(const struct tkl_pg *pg);

/* "host=H port=P dbname=D user=U" of the conninfo: what the log shows. */
const char *tkl_pg_describe(const struct tkl_pg *pg);

/* Registers a prepared statement: made now if the connection is up and
 * again on every connection. Returns 0, -EEXIST (the name is taken),
 * -EINVAL, -ENOMEM or -ESHUTDOWN (closed). */
int tkl_pg_prepare(struct tkl_pg *pg, const char *name, const char *sql, int nparams);

/* Listens to channel (lowercase letters, digits and '_', at most 63) now
 * if up and on every connection. Returns 0, -EINVAL, -ENOMEM or
 * -ESHUTDOWN. */
int tkl_pg_listen(struct tkl_pg *pg, const char *channel);

/* Queues one statement, run in a transaction of its own. While the
 * connection is being made, it waits for it. Returns 0 (cb runs exactly
 * once, later), -ENOTCONN (the connection is lost and not made again yet),
 * -ENOENT (no such prepared statement), -EINVAL, -ENOMEM or -ESHUTDOWN;
 * on an error cb never runs. */
int tkl_pg_query(struct tkl_pg *pg, const struct tkl_pg_stmt *stmt, tkl_pg_result_cb cb,
                 void *data);

/* Queues n statements (1..64) as one transaction, sent in one go: they all
 * take effect or none does, and cb runs once. The statements run in the
 * implicit transaction a pipeline keeps up to its sync point, which is
 * BEGIN ... COMMIT without leaving the session in a failed transaction
 * block for the work pipelined after it when a statement fails. Returns
 * as tkl_pg_query. */
int tkl_pg_transaction(struct tkl_pg *pg, const struct tkl_pg_stmt *stmts, size_t n,
                       tkl_pg_batch_cb cb, void *data);

/* The text that says why an operation failed: the first line of
 * PostgreSQL's own message in res (NULL: none), else errno r's (for
 * -ECONNRESET: that the connection failed, which this file logged). The
 * text lives as long as res. */
const char *tkl_pg_error_text(int r, const PGresult *res);

/* The n ids of ids as a bigint[] parameter in PostgreSQL's text form
 * ("{1,2}", "{}" for none) into *ret (malloc()ed). Returns 0 or
 * -ENOMEM. */
int tkl_pg_id_array(const uint64_t *ids, size_t n, char **ret);

/* Closes the connection: every pending callback gets -ECANCELED, every
 * handle is closed and the memory freed once the loop has run their close
 * callbacks. No callback runs after this returns. Accepts NULL. */
void tkl_pg_close(struct tkl_pg *pg);

/*
 * For a command-line tool: runs a loop of its own with one connection to
 * conninfo_file. start(pg, data) queues the work (0, or a negative errno
 * when nothing was queued), whose callbacks set *done once finished; then
 * the connection is closed and the loop ends. A connection that cannot be
 * made fails the work queued with -ECONNRESET (logged). Returns start's
 * or the setup's negative errno, else 0.
 */
int tkl_pg_run(const char *conninfo_file, int (*start)(struct tkl_pg *pg, void *data), void *data,
               const bool *done);

/* For a command-line tool: why its work failed (r, res the error result
 * or NULL) as "what: why" in a new string *ret_err (NULL when out of
 * memory), or, for -ELIBACC and -ELIBBAD, why libpq cannot be loaded.
 * Returns r; -ENOENT only when the database has no tickler schema (no
 * ticklerd made it yet: said so), any other -ENOENT (a conninfo file that
 * is not there) as -EIO; or -ENOMEM. */
int tkl_pg_run_failed(int r, const char *what, const PGresult *res, char **ret_err);

#endif
