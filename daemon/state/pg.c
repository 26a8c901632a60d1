#include "pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib/libpq.h"
#include "core/log.h"
#include "core/secret.h"

#define BATCH_MAX 64

enum pg_state {
    PG_CONNECTING, /* PQconnectPoll steps */
    PG_SETUP,      /* up; statements being prepared, channels listened to */
    PG_READY,      /* up; queued work sent as it comes */
    PG_LOST,       /* waiting to connect again */
    PG_CLOSED,
};

enum stmt_kind { STMT_SQL, STMT_PREPARED, STMT_PREPARE };

struct stmt {
    enum stmt_kind kind;
    char *sql;  /* STMT_SQL, STMT_PREPARE */
    char *name; /* STMT_PREPARED, STMT_PREPARE */
    int nparams;
    char **params;
};

/* One unit of work: its statements, then a sync point. */
struct item {
    struct item *next;
    size_t n, done;        /* statements; those whose results all came */
    bool got;              /* statement `done` has given a result */
    bool sent;             /* handed to libpq */
    bool internal;         /* connection setup, a late PREPARE or LISTEN */
    bool setup;            /* the connection's setup */
    int err;               /* first error */
    struct stmt *stmts;    /* n */
    PGresult **results;    /* n */
    tkl_pg_result_cb one;  /* tkl_pg_query */
    tkl_pg_batch_cb batch; /* tkl_pg_transaction */
    void *data;
};

struct prepared {
    char *name, *sql;
    int nparams;
};

/* A poll handle on one socket: made for each socket libpq hands over and
 * freed in its close callback. */
struct poll {
    uv_poll_t handle;
    struct tkl_pg *pg;
};

struct tkl_pg {
    uv_loop_t *loop;
    enum pg_state state;
    PGconn *conn;
    struct poll *poll;
    int poll_events;
    uv_timer_t timer; /* connect timeout, then backoff; stopped while up */
    unsigned open_handles;

    char **keywords, **values; /* the parsed conninfo, NULL-terminated */
    char *password;            /* points into values; cut out of messages */
    char describe[512];

    unsigned backoff_min, backoff_max, connect_timeout, backoff;
    unsigned failures; /* connection attempts failed since the last time up */
    uint64_t rand;

    struct item *head, *tail;
    struct prepared *prep;
    size_t nprep, prep_cap;
    char **channels;
    size_t nchannels, channels_cap;

    tkl_pg_state_cb on_state;
    tkl_pg_notify_cb on_notify;
    void *data;
    unsigned unreachable_after; /* see struct tkl_pg_options */
    void (*on_unreachable)(void *data, const char *why);
    bool ever_up;
    char *claim_sql, *claim_param, *claim_refused; /* see struct tkl_pg_options */
    bool refused; /* the connection being dropped was refused its claim */
};

static void lose(struct tkl_pg *pg, const char *why);
static void flush_and_watch(struct tkl_pg *pg);

/* A copy of msg with the password replaced by "***" and the trailing line
 * break removed, in buf. libpq can echo a conninfo value in a message. */
static const char *scrub(const struct tkl_pg *pg, const char *msg, char *buf, size_t size)
{
    size_t o = 0, plen = pg->password ? strlen(pg->password) : 0;
    if (!msg)
        msg = "";
    while (*msg && o + 4 < size) {
        if (plen && strncmp(msg, pg->password, plen) == 0) {
            memcpy(buf + o, "***", 3);
            o += 3;
            msg += plen;
            continue;
        }
        buf[o++] = *msg == '\n' ? ' ' : *msg;
        msg++;
    }
    while (o && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    return buf;
}

static void free_stmt(struct stmt *s)
{
    free(s->sql);
    free(s->name);
    for (int i = 0; s->params && i < s->nparams; i++)
        free(s->params[i]);
    free(s->params);
}

static void free_item(struct item *it)
{
    if (!it)
        return;
    for (size_t i = 0; it->stmts && i < it->n; i++) {
        free_stmt(&it->stmts[i]);
        sym_PQclear(it->results[i]);
    }
    free(it->stmts);
    free(it->results);
    free(it);
}

static struct item *new_item(size_t n)
{
    struct item *it = calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->n = n;
    it->stmts = calloc(n, sizeof(*it->stmts));
    it->results = calloc(n, sizeof(PGresult *));
    if (!it->stmts || !it->results) {
        free(it->stmts);
        free(it->results);
        free(it);
        return NULL;
    }
    return it;
}

static int copy_stmt(struct tkl_pg *pg, struct stmt *s, const struct tkl_pg_stmt *in)
{
    if (!in || !in->sql == !in->prepared || in->nparams < 0 || (in->nparams && !in->params))
        return -EINVAL;
    if (in->prepared) {
        size_t i;
        for (i = 0; i < pg->nprep && strcmp(pg->prep[i].name, in->prepared) != 0; i++)
            ;
        if (i == pg->nprep)
            return -ENOENT;
        if (pg->prep[i].nparams != in->nparams)
            return -EINVAL;
        s->kind = STMT_PREPARED;
        if (!(s->name = strdup(in->prepared)))
            return -ENOMEM;
    } else {
        s->kind = STMT_SQL;
        if (!(s->sql = strdup(in->sql)))
            return -ENOMEM;
    }
    if (in->nparams) {
        if (!(s->params = calloc((size_t)in->nparams, sizeof(*s->params))))
            return -ENOMEM;
        s->nparams = in->nparams;
        for (int i = 0; i < in->nparams; i++)
            if (in->params[i] && !(s->params[i] = strdup(in->params[i])))
                return -ENOMEM;
    }
    return 0;
}

static void append(struct tkl_pg *pg, struct item *it)
{
    if (pg->tail)
        pg->tail->next = it;
    else
        pg->head = it;
    pg->tail = it;
}

/* Takes the first item off the queue. */
static struct item *pop(struct tkl_pg *pg)
{
    struct item *it = pg->head;
    if (it) {
        pg->head = it->next;
        if (!pg->head)
            pg->tail = NULL;
        it->next = NULL;
    }
    return it;
}

/* Gives an item its outcome and frees it; the item is off the queue. */
static void complete(struct tkl_pg *pg, struct item *it)
{
    if (it->internal) {
        if (it->err && pg->state == PG_READY) {
            char buf[512];
            const PGresult *res = it->results[it->done < it->n ? it->done : it->n - 1];
            log_warning("postgresql: %s: %s", pg->describe,
                        scrub(pg, res ? sym_PQresultErrorMessage(res) : "connection lost", buf,
                              sizeof(buf)));
        }
    } else if (it->one) {
        it->one(it->data, it->err,
                it->err == -ECONNRESET || it->err == -ECANCELED ? NULL : it->results[0]);
    } else if (it->batch) {
        it->batch(it->data, it->err, (const PGresult *const *)it->results, it->n);
    }
    free_item(it);
}

/* Every queued item gets err (its results dropped). */
static void fail_all(struct tkl_pg *pg, int err)
{
    struct item *it;
    while ((it = pop(pg))) {
        for (size_t i = 0; i < it->n; i++) {
            sym_PQclear(it->results[i]);
            it->results[i] = NULL;
        }
        it->err = err;
        complete(pg, it);
        if (pg->state == PG_CLOSED && err != -ECANCELED)
            return; /* closed from the callback: tkl_pg_close failed the rest */
    }
}

static void on_poll_closed(uv_handle_t *h)
{
    struct poll *p = h->data;
    struct tkl_pg *pg = p->pg;
    free(p);
    if (--pg->open_handles == 0 && pg->state == PG_CLOSED)
        free(pg);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct tkl_pg *pg = h->data;
    if (--pg->open_handles == 0 && pg->state == PG_CLOSED)
        free(pg);
}

static void stop_poll(struct tkl_pg *pg)
{
    if (!pg->poll)
        return;
    uv_close((uv_handle_t *)&pg->poll->handle, on_poll_closed);
    pg->poll = NULL;
    pg->poll_events = 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches the connection's socket for events; a new handle when fresh. */
static int watch(struct tkl_pg *pg, int events, bool fresh)
{
    int r;
    if (fresh)
        stop_poll(pg);
    if (!pg->poll) {
        int fd = sym_PQsocket(pg->conn);
        if (fd < 0)
            return -EBADF;
        struct poll *p = calloc(1, sizeof(*p));
        if (!p)
            return -ENOMEM;
        if ((r = uv_poll_init(pg->loop, &p->handle, fd)) < 0) {
            free(p);
            return r;
        }
        p->pg = pg;
        p->handle.data = p;
        pg->open_handles++;
        pg->poll = p;
        pg->poll_events = 0;
    }
    if (events == pg->poll_events)
        return 0;
    if ((r = uv_poll_start(&pg->poll->handle, events, on_poll)) < 0)
        return r;
    pg->poll_events = events;
    return 0;
}

static uint64_t next_rand(struct tkl_pg *pg)
{
    /* splitmix64: enough to spread the reconnections of several nodes */
    uint64_t z = (pg->rand += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void on_timer(uv_timer_t *t);
static void start_connect(struct tkl_pg *pg);

/* Waits before connecting again: a random time between half the backoff
 * and the backoff, which doubles up to its cap. */
static void schedule_reconnect(struct tkl_pg *pg)
{
    unsigned wait = pg->backoff / 2 + (unsigned)(next_rand(pg) % (pg->backoff / 2 + 1));
    pg->backoff = pg->backoff >= pg->backoff_max / 2 ? pg->backoff_max : pg->backoff * 2;
    pg->state = PG_LOST;
    tkl_log(pg->failures <= 1 ? TKL_LOG_INFO : TKL_LOG_DEBUG,
            "postgresql: %s: connecting again in %u ms", pg->describe, wait);
    int r = uv_timer_start(&pg->timer, on_timer, wait, 0);
    if (r < 0)
        log_error("postgresql: cannot arm the reconnection timer: %s", uv_strerror(r));
}

/* Whether n is a power of two: while the database stays down, its
 * failures are logged at the 1st, 2nd, 4th, 8th... attempt (the others
 * at debug), so a long outage costs a few lines, not one per attempt. */
static bool logged_attempt(unsigned n)
{
    return n && (n & (n - 1)) == 0;
}

/* The connection failed or went away: every pending item gets
 * -ECONNRESET, the owner is told if it was up, and a reconnection waits. */
static void lose(struct tkl_pg *pg, const char *why)
{
    char buf[512];
    /* a connection that never became ready (its setup failed, its claim
     * was refused) is a failed attempt; a claim refused is a fault to
     * mend: an error */
    bool refused = pg->refused;
    bool was_up = pg->state == PG_READY;
    bool told = was_up;
    pg->refused = false;
    scrub(pg, why, buf, sizeof(buf));
    if (was_up)
        log_warning("postgresql: %s: connection lost: %s", pg->describe, buf);
    else if (logged_attempt(++pg->failures))
        tkl_log(refused ? TKL_LOG_ERR : TKL_LOG_WARNING,
                "postgresql: %s: cannot connect (attempt %u; logged again at attempt %u): %s",
                pg->describe, pg->failures, pg->failures * 2, buf);
    else
        log_debug("postgresql: %s: cannot connect (attempt %u): %s", pg->describe, pg->failures,
                  buf);
    bool unreachable = !was_up && !pg->ever_up && pg->unreachable_after &&
                       pg->failures == pg->unreachable_after && pg->on_unreachable;
    stop_poll(pg);
    sym_PQfinish(pg->conn);
    pg->conn = NULL;
    uv_timer_stop(&pg->timer);
    pg->state = PG_LOST;
    fail_all(pg, -ECONNRESET);
    if (pg->state == PG_CLOSED)
        return;
    if (told && pg->on_state) {
        pg->on_state(pg->data, false);
        if (pg->state == PG_CLOSED)
            return;
    }
    schedule_reconnect(pg);
    if (unreachable)
        pg->on_unreachable(pg->data, buf); /* may close pg */
}

static void lose_conn(struct tkl_pg *pg)
{
    lose(pg, pg->conn ? sym_PQerrorMessage(pg->conn) : "no connection");
}

static void notice_processor(void *arg, const char *message)
{
    struct tkl_pg *pg = arg;
    char buf[512];
    log_debug("postgresql: %s: %s", pg->describe, scrub(pg, message, buf, sizeof(buf)));
}

/* Sends every statement of it and its sync point. Returns 0 or -EIO. */
static int send_item(struct tkl_pg *pg, struct item *it)
{
    for (size_t i = 0; i < it->n; i++) {
        const struct stmt *s = &it->stmts[i];
        const char *const *params = (const char *const *)s->params;
        int ok;
        switch (s->kind) {
        case STMT_SQL:
            ok = sym_PQsendQueryParams(pg->conn, s->sql, s->nparams, NULL, params, NULL, NULL, 0);
            break;
        case STMT_PREPARED:
            ok = sym_PQsendQueryPrepared(pg->conn, s->name, s->nparams, params, NULL, NULL, 0);
            break;
        default:
            ok = sym_PQsendPrepare(pg->conn, s->name, s->sql, s->nparams, NULL);
            break;
        }
        if (!ok)
            return -EIO;
    }
    if (!sym_PQpipelineSync(pg->conn))
        return -EIO;
    it->sent = true;
    return 0;
}

/* Sends what is queued and not sent yet (while setting up, only the setup
 * item), then flushes. */
static void send_queued(struct tkl_pg *pg)
{
    for (struct item *it = pg->head; it; it = it->next) {
        if (it->sent)
            continue;
        if (pg->state != PG_READY && !it->internal)
            break;
        if (send_item(pg, it) < 0) {
            lose_conn(pg);
            return;
        }
    }
    flush_and_watch(pg);
}

/* Flushes libpq's output; watches for writability while some is left. */
static void flush_and_watch(struct tkl_pg *pg)
{
    int f = sym_PQflush(pg->conn);
    if (f < 0) {
        lose_conn(pg);
        return;
    }
    int r = watch(pg, f ? UV_READABLE | UV_WRITABLE : UV_READABLE, false);
    if (r < 0)
        lose(pg, uv_strerror(r));
}

static int result_errno(const PGresult *res)
{
    const char *state = sym_PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!state)
        return -EIO;
    if (strcmp(state, "23505") == 0)
        return -EEXIST;
    /* a conflict (serialization, deadlock) or a lock waited on too long */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return -EAGAIN;
    return -EIO;
}

/* The connection is set up: the owner is told and the queue sent. */
static void became_ready(struct tkl_pg *pg)
{
    pg->state = PG_READY;
    pg->ever_up = true;
    pg->backoff = pg->backoff_min;
    uv_timer_stop(&pg->timer);
    if (pg->failures)
        log_info("postgresql: %s: connected after %u failed attempts", pg->describe, pg->failures);
    else
        log_info("postgresql: %s: connected", pg->describe);
    pg->failures = 0;
    if (pg->on_state) {
        pg->on_state(pg->data, true);
        if (pg->state != PG_READY)
            return;
    }
    send_queued(pg);
}

/* Whether the claim's answer res (NULL: none) is a row whose first value
 * is true. */
static bool claim_taken(const PGresult *res)
{
    return res && sym_PQresultStatus(res) == PGRES_TUPLES_OK && sym_PQntuples(res) >= 1 &&
           strcmp(sym_PQgetvalue(res, 0, 0), "t") == 0;
}

/* Reads every result libpq has whole and hands them to the head items.
 * Returns false when the connection is gone or closed. */
static bool read_results(struct tkl_pg *pg)
{
    bool was_null = false;
    while (pg->head && pg->head->sent && !sym_PQisBusy(pg->conn)) {
        struct item *it = pg->head;
        PGresult *res = sym_PQgetResult(pg->conn);
        if (!res) {
            /* the end of statement `done`'s results; a second NULL in a
             * row: nothing more until more input */
            if (was_null)
                break;
            was_null = true;
            if (it->done < it->n && it->got) {
                it->done++;
                it->got = false;
            }
            continue;
        }
        was_null = false;
        ExecStatusType st = sym_PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            sym_PQclear(res);
            it = pop(pg);
            bool setup = it->setup;
            if (setup && it->err) {
                char buf[512];
                const PGresult *e = NULL;
                for (size_t i = 0; i < it->n && !e; i++)
                    if (it->results[i] && sym_PQresultStatus(it->results[i]) == PGRES_FATAL_ERROR)
                        e = it->results[i];
                snprintf(buf, sizeof(buf), "setting up: %s",
                         e ? sym_PQresultErrorMessage(e) : "failed");
                free_item(it);
                lose(pg, buf);
                return false;
            }
            if (setup && pg->claim_sql && !claim_taken(it->results[0])) {
                free_item(it);
                pg->refused = true;
                lose(pg, pg->claim_refused);
                return false;
            }
            complete(pg, it);
            if (pg->state == PG_CLOSED || !pg->conn)
                return false;
            if (setup)
                became_ready(pg);
            if (pg->state == PG_CLOSED || !pg->conn)
                return false;
            continue;
        }
        if (it->done >= it->n) {
            sym_PQclear(res); /* nothing expected: a protocol surprise */
            continue;
        }
        if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED || st == PGRES_BAD_RESPONSE) {
            if (!it->err)
                it->err = st == PGRES_FATAL_ERROR ? result_errno(res) : -EIO;
            if (st == PGRES_PIPELINE_ABORTED) {
                sym_PQclear(res);
                res = NULL;
            }
        }
        sym_PQclear(it->results[it->done]);
        it->results[it->done] = res;
        it->got = true;
    }
    return true;
}

static void read_notifies(struct tkl_pg *pg)
{
    PGnotify *n;
    while (pg->conn && (n = sym_PQnotifies(pg->conn))) {
        if (pg->on_notify)
            pg->on_notify(pg->data, n->relname, n->extra ? n->extra : "");
        sym_PQfreemem(n);
        if (pg->state == PG_CLOSED)
            return;
    }
}

static void queue_setup(struct tkl_pg *pg);

/* One PQconnectPoll step, with a fresh poll handle on its socket. */
static void connect_step(struct tkl_pg *pg)
{
    int r;
    switch (sym_PQconnectPoll(pg->conn)) {
    case PGRES_POLLING_READING:
        r = watch(pg, UV_READABLE, true);
        break;
    case PGRES_POLLING_WRITING:
        r = watch(pg, UV_WRITABLE, true);
        break;
    case PGRES_POLLING_OK:
        if (sym_PQsetnonblocking(pg->conn, 1) != 0 || sym_PQenterPipelineMode(pg->conn) != 1) {
            lose_conn(pg);
            return;
        }
        sym_PQsetNoticeProcessor(pg->conn, notice_processor, pg);
        pg->state = PG_SETUP;
        if ((r = watch(pg, UV_READABLE, true)) < 0)
            break;
        queue_setup(pg);
        return;
    default:
        lose_conn(pg);
        return;
    }
    if (r < 0)
        lose(pg, uv_strerror(r));
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct tkl_pg *pg = ((struct poll *)h->data)->pg;
    if (pg->state == PG_CONNECTING) {
        connect_step(pg);
        return;
    }
    if (status < 0) {
        lose(pg, uv_strerror(status));
        return;
    }
    if (events & UV_READABLE) {
        if (!sym_PQconsumeInput(pg->conn)) {
            lose_conn(pg);
            return;
        }
        if (!read_results(pg))
            return;
        read_notifies(pg);
        if (pg->state == PG_CLOSED || !pg->conn)
            return;
        if (sym_PQstatus(pg->conn) == CONNECTION_BAD) {
            lose_conn(pg);
            return;
        }
    }
    send_queued(pg);
}

static void on_timer(uv_timer_t *t)
{
    struct tkl_pg *pg = t->data;
    if (pg->state == PG_LOST)
        start_connect(pg);
    else if (pg->state == PG_CONNECTING || pg->state == PG_SETUP)
        lose(pg, "timed out");
}

/* Starts a connection attempt: PQconnectStartParams, then PQconnectPoll
 * steps as its socket becomes ready, bounded by the connect timeout. */
static void start_connect(struct tkl_pg *pg)
{
    pg->state = PG_CONNECTING;
    pg->conn = sym_PQconnectStartParams((const char *const *)pg->keywords,
                                        (const char *const *)pg->values, 0);
    if (!pg->conn) {
        lose(pg, "out of memory");
        return;
    }
    if (sym_PQstatus(pg->conn) == CONNECTION_BAD) {
        lose_conn(pg);
        return;
    }
    int r = uv_timer_start(&pg->timer, on_timer, pg->connect_timeout, 0);
    if (r < 0 || (r = watch(pg, UV_WRITABLE, true)) < 0)
        lose(pg, uv_strerror(r));
}

/* The setup item, first in the queue: the claim (its answer the first),
 * every statement prepared and every channel listened to, as one
 * pipeline. With none, the connection is ready at once. */
static void queue_setup(struct tkl_pg *pg)
{
    size_t first = pg->claim_sql ? 1 : 0, n = first + pg->nprep + pg->nchannels;
    if (!n) {
        became_ready(pg);
        return;
    }
    struct item *it = new_item(n);
    if (!it) {
        lose(pg, "out of memory");
        return;
    }
    it->internal = it->setup = true;
    if (first) {
        const char *params[] = {pg->claim_param};
        const struct tkl_pg_stmt claim = {
            .sql = pg->claim_sql, .nparams = pg->claim_param ? 1 : 0, .params = params};
        if (copy_stmt(pg, &it->stmts[0], &claim) < 0)
            goto oom;
    }
    for (size_t i = 0; i < pg->nprep; i++) {
        struct stmt *s = &it->stmts[first + i];
        s->kind = STMT_PREPARE;
        s->nparams = pg->prep[i].nparams;
        if (!(s->name = strdup(pg->prep[i].name)) || !(s->sql = strdup(pg->prep[i].sql)))
            goto oom;
    }
    for (size_t i = 0; i < pg->nchannels; i++) {
        struct stmt *s = &it->stmts[first + pg->nprep + i];
        s->kind = STMT_SQL;
        if (asprintf(&s->sql, "LISTEN %s", pg->channels[i]) < 0) {
            s->sql = NULL;
            goto oom;
        }
    }
    /* first: the items queued while connecting wait behind it */
    it->next = pg->head;
    pg->head = it;
    if (!pg->tail)
        pg->tail = it;
    send_queued(pg);
    return;
oom:
    free_item(it);
    lose(pg, "out of memory");
}

/* What a conninfo over TCP gets unless it says otherwise: a server that
 * went away without closing (a host down, a network cut) is noticed by the
 * kernel's keepalive probes within about a minute while idle, and within
 * a minute of unacknowledged data while busy, instead of TCP's quarter of
 * an hour. The probes are the kernel's: the idle process still sleeps. */
static const char *const tcp_defaults[][2] = {
    {"keepalives", "1"},       {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "60000"},
};

/* A copy of libpq's message about a conninfo it could not parse, in buf,
 * everything between its first double quote and its last (or after a
 * lone one) shown as "***": a
 * quoted part is a piece of the conninfo, maybe of its password, and may
 * itself hold double quotes, so no quote inside can be told to close it. */
static const char *cut_quoted(const char *msg, char *buf, size_t size)
{
    const char *first = strchr(msg, '"'), *last = strrchr(msg, '"');
    size_t o = 0;
    for (const char *p = msg; *p && o + 6 < size; p++) {
        if (first && p > first && (p < last || first == last))
            continue;
        buf[o++] = *p == '\n' ? ' ' : *p;
        if (p == first) {
            memcpy(buf + o, "***", 3);
            o += 3;
        }
    }
    while (o && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    return buf;
}

/* Parses the conninfo into keyword and value arrays, keeps the password
 * to cut it out of messages, and describes the target. */
static int parse_conninfo(struct tkl_pg *pg, const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = sym_PQconninfoParse(conninfo, &err);
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    size_t n = 0;
    int r = 0;
    if (!opts) {
        if (err) {
            char buf[512];
            log_error("postgresql: the conninfo cannot be read: %s",
                      cut_quoted(err, buf, sizeof(buf)));
            sym_PQfreemem(err);
            return -EINVAL;
        }
        return -ENOMEM;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val)
            n++;
    size_t ndefaults = sizeof(tcp_defaults) / sizeof(tcp_defaults[0]);
    pg->keywords = calloc(n + ndefaults + 1, sizeof(char *));
    pg->values = calloc(n + ndefaults + 1, sizeof(char *));
    if (!pg->keywords || !pg->values) {
        r = -ENOMEM;
        goto out;
    }
    n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!(pg->keywords[n] = strdup(o->keyword)) || !(pg->values[n] = strdup(o->val))) {
            r = -ENOMEM;
            goto out;
        }
        if (strcmp(o->keyword, "password") == 0 && *o->val)
            pg->password = pg->values[n];
        else if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
            host = host ? host : pg->values[n];
        else if (strcmp(o->keyword, "port") == 0)
            port = pg->values[n];
        else if (strcmp(o->keyword, "dbname") == 0)
            db = pg->values[n];
        else if (strcmp(o->keyword, "user") == 0)
            user = pg->values[n];
        n++;
    }
    for (size_t d = 0; d < ndefaults; d++) {
        PQconninfoOption *o;
        for (o = opts; o->keyword && strcmp(o->keyword, tcp_defaults[d][0]) != 0; o++)
            ;
        if (o->keyword && o->val)
            continue;
        if (!(pg->keywords[n] = strdup(tcp_defaults[d][0])) ||
            !(pg->values[n] = strdup(tcp_defaults[d][1]))) {
            r = -ENOMEM;
            goto out;
        }
        n++;
    }
    char describe[sizeof(pg->describe)];
    snprintf(describe, sizeof(describe), "host=%s port=%s dbname=%s user=%s",
             host ? host : "(default)", port ? port : "(default)", db ? db : "(default)",
             user ? user : "(default)");
    scrub(pg, describe, pg->describe, sizeof(pg->describe));
out:
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val)
            explicit_bzero(o->val, strlen(o->val));
    sym_PQconninfoFree(opts);
    return r;
}

static void free_conninfo(struct tkl_pg *pg)
{
    for (size_t i = 0; pg->keywords && pg->keywords[i]; i++) {
        free(pg->keywords[i]);
        if (pg->values[i])
            explicit_bzero(pg->values[i], strlen(pg->values[i]));
        free(pg->values[i]);
    }
    free(pg->keywords);
    free(pg->values);
    pg->keywords = pg->values = NULL;
    pg->password = NULL;
}

int tkl_pg_new(uv_loop_t *loop, const struct tkl_pg_options *opts, struct tkl_pg **ret)
{
    char *conninfo = NULL;
    int r;
    if (!loop || !opts || !opts->conninfo_file || !ret)
        return -EINVAL;
    char err[512];
    if ((r = tkl_libpq_load(err, sizeof(err))) < 0) {
        log_error("postgresql: %s", err);
        return r;
    }
    struct tkl_pg *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return -ENOMEM;
    if ((r = tkl_secret_read(NULL, opts->conninfo_file, &conninfo)) < 0) {
        free(pg);
        return r;
    }
    r = parse_conninfo(pg, conninfo);
    tkl_secret_free(conninfo);
    if (r < 0)
        goto fail;
    if (opts->purpose) { /* its messages tell it from the node's connection */
        size_t len = strlen(pg->describe);
        snprintf(pg->describe + len, sizeof(pg->describe) - len, " (%s)", opts->purpose);
    }
    if ((r = uv_timer_init(loop, &pg->timer)) < 0)
        goto fail;
    pg->timer.data = pg;
    pg->open_handles = 1;
    pg->loop = loop;
    pg->backoff_min = opts->backoff_min_ms ? opts->backoff_min_ms : 250;
    pg->backoff_max = opts->backoff_max_ms ? opts->backoff_max_ms : 30000;
    if (pg->backoff_max < pg->backoff_min)
        pg->backoff_max = pg->backoff_min;
    pg->backoff = pg->backoff_min;
    pg->connect_timeout = opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000;
    pg->rand = uv_hrtime() ^ (uint64_t)(uintptr_t)pg;
    pg->on_state = opts->on_state;
    pg->on_notify = opts->on_notify;
    pg->data = opts->data;
    pg->unreachable_after = opts->unreachable_after;
    pg->on_unreachable = opts->on_unreachable;
    if (opts->claim_sql &&
        (!(pg->claim_sql = strdup(opts->claim_sql)) ||
         (opts->claim_param && !(pg->claim_param = strdup(opts->claim_param))) ||
         !(pg->claim_refused =
               strdup(opts->claim_refused ? opts->claim_refused : "the claim was refused")))) {
        r = -ENOMEM;
        goto fail_timer;
    }
    log_info("postgresql: connecting to %s", pg->describe);
    start_connect(pg);
    *ret = pg;
    return 0;
fail_timer:
    /* the memory goes with the timer's close callback */
    tkl_pg_close(pg);
    return r;
fail:
    free_conninfo(pg);
    free(pg);
    return r;
}

bool tkl_pg_connected(const struct tkl_pg *pg)
{
    return pg && pg->state == PG_READY;
}

const char *tkl_pg_describe(const struct tkl_pg *pg)
{
    return pg->describe;
}

/* Work queued by a call is sent when the socket is next writable (the
 * same loop turn's work in one write), so that no callback runs from
 * inside the call that queued its work. */
static int want_send(struct tkl_pg *pg)
{
    return watch(pg, UV_READABLE | UV_WRITABLE, false);
}

/* Queues an internal statement (a late PREPARE or LISTEN) when up. */
static int queue_internal(struct tkl_pg *pg, enum stmt_kind kind, const char *name, const char *sql,
                          int nparams)
{
    if (pg->state != PG_READY)
        return 0; /* made with the rest when the connection is set up */
    struct item *it = new_item(1);
    if (!it)
        return -ENOMEM;
    it->internal = true;
    it->stmts[0].kind = kind;
    it->stmts[0].nparams = nparams;
    if ((name && !(it->stmts[0].name = strdup(name))) || !(it->stmts[0].sql = strdup(sql))) {
        free_item(it);
        return -ENOMEM;
    }
    int r = want_send(pg);
    if (r < 0) {
        free_item(it);
        return r;
    }
    append(pg, it);
    return 0;
}

static int grow(void **array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *a = reallocarray(*array, c, size);
    if (!a)
        return -ENOMEM;
    *array = a;
    *cap = c;
    return 0;
}

int tkl_pg_prepare(struct tkl_pg *pg, const char *name, const char *sql, int nparams)
{
    if (!pg || !name || !*name || !sql || nparams < 0)
        return -EINVAL;
    if (pg->state == PG_CLOSED)
        return -ESHUTDOWN;
    for (size_t i = 0; i < pg->nprep; i++)
        if (strcmp(pg->prep[i].name, name) == 0)
            return -EEXIST;
    int r = grow((void **)&pg->prep, &pg->prep_cap, pg->nprep, sizeof(*pg->prep));
    if (r < 0)
        return r;
    struct prepared *p = &pg->prep[pg->nprep];
    p->name = strdup(name);
    p->sql = strdup(sql);
    p->nparams = nparams;
    if (!p->name || !p->sql) {
        free(p->name);
        free(p->sql);
        return -ENOMEM;
    }
    if ((r = queue_internal(pg, STMT_PREPARE, name, sql, nparams)) < 0) {
        free(p->name);
        free(p->sql);
        return r;
    }
    pg->nprep++;
    return 0;
}

int tkl_pg_listen(struct tkl_pg *pg, const char *channel)
{
    char *sql = NULL;
    if (!pg || !channel || !*channel || strlen(channel) > 63 ||
        strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(channel))
        return -EINVAL;
    if (pg->state == PG_CLOSED)
        return -ESHUTDOWN;
    int r = grow((void **)&pg->channels, &pg->channels_cap, pg->nchannels, sizeof(char *));
    if (r < 0)
        return r;
    if (!(pg->channels[pg->nchannels] = strdup(channel)) ||
        asprintf(&sql, "LISTEN %s", channel) < 0) {
        free(pg->channels[pg->nchannels]);
        return -ENOMEM;
    }
    r = queue_internal(pg, STMT_SQL, NULL, sql, 0);
    free(sql);
    if (r < 0) {
        free(pg->channels[pg->nchannels]);
        return r;
    }
    pg->nchannels++;
    return 0;
}

static int queue_user(struct tkl_pg *pg, const struct tkl_pg_stmt *stmts, size_t n,
                      tkl_pg_result_cb one, tkl_pg_batch_cb batch, void *data)
{
    int r;
    if (!pg || !stmts || n == 0 || n > BATCH_MAX || (!one && !batch))
        return -EINVAL;
    if (pg->state == PG_CLOSED)
        return -ESHUTDOWN;
    if (pg->state == PG_LOST)
        return -ENOTCONN;
    struct item *it = new_item(n);
    if (!it)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((r = copy_stmt(pg, &it->stmts[i], &stmts[i])) < 0) {
            free_item(it);
            return r;
        }
    it->one = one;
    it->batch = batch;
    it->data = data;
    if (pg->state == PG_READY && (r = want_send(pg)) < 0) {
        free_item(it);
        return r;
    }
    append(pg, it);
    return 0;
}

int tkl_pg_query(struct tkl_pg *pg, const struct tkl_pg_stmt *stmt, tkl_pg_result_cb cb, void *data)
{
    if (!cb)
        return -EINVAL;
    return queue_user(pg, stmt, 1, cb, NULL, data);
}

int tkl_pg_transaction(struct tkl_pg *pg, const struct tkl_pg_stmt *stmts, size_t n,
                       tkl_pg_batch_cb cb, void *data)
{
    if (!cb)
        return -EINVAL;
    return queue_user(pg, stmts, n, NULL, cb, data);
}

const char *tkl_pg_error_text(int r, const PGresult *res)
{
    const char *msg = res ? sym_PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg)
        return msg;
    /* the conninfo file's own faults (empty, two lines) as a secret's */
    return r == -ECONNRESET ? "the connection failed (see the warning above)"
                            : tkl_secret_strerror(r);
}

void tkl_pg_close(struct tkl_pg *pg)
{
    if (!pg || pg->state == PG_CLOSED)
        return;
    pg->state = PG_CLOSED;
    stop_poll(pg);
    sym_PQfinish(pg->conn);
    pg->conn = NULL;
    fail_all(pg, -ECANCELED);
    free_conninfo(pg);
    for (size_t i = 0; i < pg->nprep; i++) {
        free(pg->prep[i].name);
        free(pg->prep[i].sql);
    }
    free(pg->prep);
    for (size_t i = 0; i < pg->nchannels; i++)
        free(pg->channels[i]);
    free(pg->channels);
    pg->prep = NULL;
    pg->channels = NULL;
    free(pg->claim_sql);
    free(pg->claim_param);
    free(pg->claim_refused);
    pg->claim_sql = pg->claim_param = pg->claim_refused = NULL;
    pg->on_state = NULL;
    pg->on_notify = NULL;
    uv_close((uv_handle_t *)&pg->timer, on_timer_closed);
}

int tkl_pg_run(const char *conninfo_file, int (*start)(struct tkl_pg *pg, void *data), void *data,
               const bool *done)
{
    uv_loop_t loop;
    struct tkl_pg *pg = NULL;
    int r = uv_loop_init(&loop);
    if (r < 0)
        return r;
    const struct tkl_pg_options opts = {.conninfo_file = conninfo_file};
    if ((r = tkl_pg_new(&loop, &opts, &pg)) == 0 && (r = start(pg, data)) == 0)
        while (!*done)
            (void)uv_run(&loop, UV_RUN_ONCE);
    tkl_pg_close(pg);
    (void)uv_run(&loop, UV_RUN_DEFAULT); /* the connection's handles close */
    int rc = uv_loop_close(&loop);
    return r < 0 ? r : rc;
}

int tkl_pg_run_failed(int r, const char *what, const PGresult *res, char **ret_err)
{
    char why[512];
    if ((r == -ELIBACC || r == -ELIBBAD) && tkl_libpq_load(why, sizeof(why)) < 0) {
        /* libpq cannot be loaded: that alone is the reason, whatever was tried */
        if (!(*ret_err = strdup(why)))
            return -ENOMEM;
        return r;
    }
    const char *msg = tkl_pg_error_text(r, res);
    const char *code = res ? sym_PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* 42P01: undefined table: no ticklerd has made the schema yet */
    if (code && strcmp(code, "42P01") == 0) {
        r = -ENOENT;
        msg = "the database holds no tickler state yet (ticklerd makes it when it first runs)";
    } else if (r == -ENOENT) {
        r = -EIO; /* a conninfo file that is not there: not an empty state */
    }
    if (asprintf(ret_err, "%s: %s", what, msg) < 0)
        *ret_err = NULL;
    return r;
}

int tkl_pg_id_array(const uint64_t *ids, size_t n, char **ret)
{
    size_t size = 3 + n * 21, o = 0;
    char *s = malloc(size);
    if (!s)
        return -ENOMEM;
    s[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, size - o, "%s%" PRIu64, i ? "," : "", ids[i]);
    s[o++] = '}';
    s[o] = '\0';
    *ret = s;
    return 0;
}
