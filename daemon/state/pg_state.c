/*
 * The PostgreSQL backend of the state interface (state.h), for several
 * ticklerd sharing one database: one connection (state/pg.h), the schema
 * of state/pg_schema.h.
 *
 * Groups: every operation is one statement (or none: sync) queued into the
 * open group; tkl_state_commit sends the group as pipelined transactions
 * of at most GROUP_STMTS statements each (tkl_pg_transaction takes 64),
 * and each operation's completion is told from its transaction's answer:
 * r == 0 with its results once committed, r < 0 when it was undone (a
 * statement failed, the connection went: -ECONNRESET, the state closed:
 * -ECANCELED). A transaction that adds officers' updates first takes the
 * advisory locks of their actions (TKL_PG_LOCK_UPDATES, ascending, so
 * two nodes never wait on each other in a cycle). Reads ride in the group
 * too, so they see its writes. While the connection is not up (lost, or
 * being made again), commit tells the group's operations -ENOTCONN:
 * nothing of a group waits in the connection's queue for it, so what a
 * reconnection queues first (the release of stray leases) is the first
 * thing sent. Until the schema is migrated and the statements prepared,
 * the open group waits (busy).
 *
 * Leases: a claim leases its notices to the node until its now plus the
 * lease; the node's clock when the answer arrives is that now plus the
 * time the clock since boot (suspend included) says passed. When less than half the
 * lease is left by then (the node was stopped, SIGSTOP, or the database
 * answered late) nothing is handed out: the notices are released, as
 * another node may already hold them. While notices this node claimed are
 * in flight (claimed, their outcome not recorded), a timer renews their
 * leases (no other lease of the node) every third of a lease; it runs
 * only then, so an idle daemon wakes for nothing. The node's row in
 * `nodes` is written at start and with every claim and renewal, never on
 * a timer of its own. Each notice held is known fresh (tkl_state_lease_
 * fresh) until half a lease after the claim or renewal that confirmed it
 * was asked. At every reconnection the node's leases on notices it does
 * not hold (claims committed whose answer the lost connection took) are
 * released first thing, so those notices wait for no lease to run out.
 *
 * Wake-ups: a group that puts a notice notifies TKL_PG_QUEUED_CHANNEL with
 * the node's id; a NOTIFY from another node, and every reconnection,
 * calls tkl_state_woken (the engine runs a round). A group that adds an
 * officer's update notifies TKL_PG_UPDATED_CHANNEL likewise; another
 * node's calls tkl_state_updated.
 *
 * The backend commits its open group itself before the loop waits (a
 * uv_prepare that never keeps the loop alive), besides the daemon's own
 * tkl_state_commit calls. Once tkl_state_pg_drain was called and nothing
 * is queued or in flight, the connection is closed so the loop can end.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynlib/libpq.h"
#include "core/day.h"
#include "core/log.h"
#include "pg.h"
#include "pg_schema.h"
#include "pg_updates.h"
#include "state.h"

/* An operation's statements per transaction: five more (the lock wait's
 * limit and the actions' locks, the NOTIFYs, node seen) fit within
 * tkl_pg_transaction's 64. */
#define GROUP_STMTS 59
/* How long a transaction waits for another node's lock on an action's
 * updates (a node stalled inside its transaction) before it is undone
 * (-EAGAIN), so that one stall cannot hold this node's connection. */
#define LOCK_WAIT  "10s"
#define MAX_PARAMS 14

enum op_kind {
    OP_DONE,
    OP_PUT,
    OP_VALUE,
    OP_CLAIM,
    OP_CHANNELS,
    OP_UPDATE,
    OP_UPDATES,
    OP_VIEW,
    OP_NOTICES,
    OP_FAILURES,
};

enum op_what {
    W_PUT,
    W_DUE,
    W_CLAIM,
    W_OUTCOME,
    W_RELEASE,
    W_RENEW,
    W_RECOVER,
    W_HASTEN,
    W_UNREPORTED,
    W_PUT_REPORT,
    W_RELEASE_STRAY,
    W_NEXT,
    W_GET_META,
    W_SET_META,
    W_SYNC,
    W_ADD_UPDATE,
    W_UPDATES,
    W_LINK_UPDATES,
    W_UPDATES_VERSION,
    W_VIEW,
    W_ITEM_NOTICES,
};

struct op {
    enum op_kind kind;
    enum op_what what;
    union {
        tkl_state_done_cb done;
        tkl_state_put_cb put;
        tkl_state_value_cb value;
        tkl_state_claim_cb claim;
        tkl_state_channels_cb channels;
        tkl_state_update_cb update;
        tkl_state_updates_cb updates;
        tkl_state_view_cb view;
        tkl_state_notices_cb notices;
        tkl_state_failures_cb failures;
    } cb; /* NULL: the backend's own (a renewal, a release) */
    void *data;
    const char *prepared; /* NULL: no statement */
    int nparams;
    char *params[MAX_PARAMS];
    uint64_t id;         /* an outcome's notice */
    uint64_t asked_ns;   /* a claim, a renewal: clock_ns when asked */
    int lease_seconds;   /* a claim */
    int32_t update_lock; /* an update's: tkl_pg_update_lock of its action */
    /* sent in a transaction of its own: a statement that may fail for
     * another node's write (a report's keys) undoes nothing else */
    bool alone;
    struct op *next;
};

struct pgs {
    uv_loop_t *loop;
    struct tkl_pg *pg;
    struct tkl_state *st;
    char *node;
    int lease_seconds;
    void (*on_ready)(void *data, int r);
    void (*on_index)(void *data, int r);
    unsigned unreachable_after;
    void *data;
    char *conninfo_file;
    struct tkl_pg *ix; /* the failure sweep's index being seen to; NULL: not */
    bool ix_started;   /* once a process */
    bool migrating, ready, closed, pg_closed, draining;
    bool unreachable;   /* on_ready was told -ECONNREFUSED (unreachable_after) */
    bool drain_expired; /* the drain waits no longer for notices held */
    int last_txn;       /* the last transaction answered: 0, or its error */
    struct op *open, **open_tail;
    size_t txns;       /* sent, not answered */
    struct held *held; /* notices claimed here, outcome not recorded */
    size_t n_held, held_cap;
    uint64_t (*clock_ns)(void); /* the clock since boot, suspend included */
    int64_t base_now;           /* the node's clock: base_now at base_ns (clock_ns) */
    uint64_t base_ns;
    uv_timer_t renew;
    uv_prepare_t prepare;
    int handles;           /* open handles: once none and closed, the memory goes */
    bool handles_released; /* uv_close called on them */
};

/* A notice claimed here, its outcome not recorded: its lease holds, with
 * margin, until fresh_ns (clock_ns): half a lease after the
 * claim or renewal that confirmed it was asked. */
struct held {
    uint64_t id;
    uint64_t fresh_ns;
};

/* One transaction of a group: its operations, in order. */
struct txn {
    struct pgs *q;
    struct op *ops;
    size_t skip; /* answers before the operations' (the actions' locks) */
};

static int pgs_commit(void *impl);

/* The node's clock now (seconds): the last now a caller gave, plus what
 * clock_ns says passed since. */
static int64_t clock_now(const struct pgs *q)
{
    if (!q->base_ns)
        return (int64_t)time(NULL);
    return q->base_now + (int64_t)((q->clock_ns() - q->base_ns) / 1000000000u);
}

static void clock_set(struct pgs *q, int64_t now)
{
    q->base_now = now;
    q->base_ns = q->clock_ns();
}

/* The time since boot, suspend included (CLOCK_BOOTTIME), in
 * nanoseconds: a lease runs on in the database while the machine sleeps,
 * so it must seem to run on here too (CLOCK_MONOTONIC, uv_hrtime's, stops
 * during a suspend). */
static uint64_t boottime_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_BOOTTIME, &t) != 0)
        return uv_hrtime(); /* not on this kernel: monotonic without suspend */
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The clock_ns instant half of lease seconds after asked_ns. */
static uint64_t half_lease_after(uint64_t asked_ns, int lease_seconds)
{
    return asked_ns + (uint64_t)lease_seconds * 500000000u;
}

static void op_free(struct op *p)
{
    for (int i = 0; i < p->nparams; i++)
        free(p->params[i]);
    free(p);
}

static struct op *op_new(enum op_kind kind, enum op_what what, void *data)
{
    struct op *p = calloc(1, sizeof(*p));
    if (p) {
        p->kind = kind;
        p->what = what;
        p->data = data;
    }
    return p;
}

/* Sets p's statement and its parameters (copied; NULL stays SQL NULL).
 * Returns 0 or -ENOMEM. */
static int op_stmt(struct op *p, const char *prepared, int n, const char *const *params)
{
    p->prepared = prepared;
    p->nparams = n;
    for (int i = 0; i < n; i++)
        if (params[i] && !(p->params[i] = strdup(params[i])))
            return -ENOMEM;
    return 0;
}

static void op_queue(struct pgs *q, struct op *p)
{
    *q->open_tail = p;
    q->open_tail = &p->next;
}

/* Queues p, or frees it and returns r < 0. */
static int finish(struct pgs *q, struct op *p, int r)
{
    if (r == 0 && (q->closed || q->pg_closed))
        r = -ESHUTDOWN;
    if (r < 0) {
        op_free(p);
        return r;
    }
    op_queue(q, p);
    return 0;
}

static void free_notices(struct tkl_stored_notice **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tkl_stored_notice_free(v[i]);
    free(v);
}

/* ---- the notices in flight and their renewal --------------------------- */

/* Room for n more held notices. Returns 0 or -ENOMEM. */
static int held_reserve(struct pgs *q, size_t n)
{
    if (q->n_held + n <= q->held_cap)
        return 0;
    size_t c = q->held_cap ? q->held_cap : 16;
    while (c < q->n_held + n)
        c *= 2;
    if (c > SIZE_MAX / sizeof(*q->held))
        return -ENOMEM;
    struct held *v = realloc(q->held, c * sizeof(*v));
    if (!v)
        return -ENOMEM;
    q->held = v;
    q->held_cap = c;
    return 0;
}

static struct held *held_find(const struct pgs *q, uint64_t id)
{
    for (size_t i = 0; i < q->n_held; i++)
        if (q->held[i].id == id)
            return &q->held[i];
    return NULL;
}

/* Holds id, its lease fresh until fresh_ns; room was reserved. A notice
 * held already (claimed again once the node's own lease ran out; the
 * engine keeps its flight) is held once, its lease fresh again, so one
 * outcome ends it. */
static void hold(struct pgs *q, uint64_t id, uint64_t fresh_ns)
{
    struct held *h = held_find(q, id);
    if (h) {
        if (fresh_ns > h->fresh_ns)
            h->fresh_ns = fresh_ns;
        return;
    }
    q->held[q->n_held++] = (struct held){id, fresh_ns};
}

static void unhold(struct pgs *q, uint64_t id)
{
    for (size_t i = 0; i < q->n_held; i++)
        if (q->held[i].id == id) {
            q->held[i] = q->held[--q->n_held];
            break;
        }
    if (!q->n_held && !q->handles_released && !q->draining)
        uv_timer_stop(&q->renew);
}

static uint64_t renew_period_ms(const struct pgs *q)
{
    uint64_t ms = (uint64_t)q->lease_seconds * 1000 / 3;
    return ms ? ms : 1;
}

static int queue_renew(struct pgs *q, tkl_state_done_cb cb, void *data);

static void on_renew_timer(uv_timer_t *t)
{
    struct pgs *q = t->data;
    if (!q->n_held) {
        uv_timer_stop(&q->renew);
        return;
    }
    if (queue_renew(q, NULL, NULL) == 0)
        (void)pgs_commit(q);
}

static void arm_renewal(struct pgs *q)
{
    if (q->n_held && !q->handles_released && !q->draining &&
        !uv_is_active((uv_handle_t *)&q->renew)) {
        uint64_t ms = renew_period_ms(q);
        (void)uv_timer_start(&q->renew, on_renew_timer, ms, ms);
    }
}

/* ---- answers ------------------------------------------------------------ */

static char *value_dup(const PGresult *res, int row, int col, bool *oom)
{
    if (sym_PQgetisnull(res, row, col))
        return NULL;
    char *s = strdup(sym_PQgetvalue(res, row, col));
    if (!s)
        *oom = true;
    return s;
}

static int64_t value_int(const PGresult *res, int row, int col)
{
    return sym_PQgetisnull(res, row, col) ? 0 : strtoll(sym_PQgetvalue(res, row, col), NULL, 10);
}

/* Room for one more entry in s (*cap doubled when full). */
static int grow_entries(struct tkl_stored_notice *s, size_t *cap)
{
    if (s->notice.n_entries < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4;
    struct tkl_notice_entry *e = reallocarray(s->entries, c, sizeof(*e));
    if (!e)
        return -ENOMEM;
    s->entries = e;
    s->notice.entries = e;
    char **k = reallocarray(s->stage_keys, c, sizeof(*k));
    if (!k)
        return -ENOMEM;
    s->stage_keys = k;
    *cap = c;
    return 0;
}

/* The columns of TKL_PG_CLAIM's rows (pg_schema.h). */
enum {
    C_ID,
    C_CHANNEL,
    C_RECIPIENT,
    C_TEAM_ID,
    C_TEAM_NAME,
    C_THREAD_KEY,
    C_DUE_AT,
    C_CREATED_AT,
    C_ATTEMPTS,
    C_INTRO,
    C_IDX,
    C_ITEM_ID,
    C_TITLE,
    C_COMMITMENT,
    C_OWNERS,
    C_DEADLINE_TEXT,
    C_STATUS,
    C_PROGRESS,
    C_DEADLINE_DAY,
    C_KIND,
    C_STAGE,
    C_STAGE_KEY,
    C_DAYS_LEFT,
    C_LATE,
    C_CATEGORY,
    C_URL,
    C_ANSWER,
    /* the claim's own: the lease the notice had, ended (another node's
     * that stopped, died or lost the database), or NULL */
    C_WAS_NODE,
    C_WAS_UNTIL,
};

static int notice_read(const PGresult *res, int row, struct tkl_stored_notice *s)
{
    bool oom = false;
    s->notice.size = sizeof(s->notice);
    s->notice.id = (uint64_t)value_int(res, row, C_ID);
    s->notice.channel = value_dup(res, row, C_CHANNEL, &oom);
    s->notice.recipient = value_dup(res, row, C_RECIPIENT, &oom);
    s->notice.team_id = value_dup(res, row, C_TEAM_ID, &oom);
    s->notice.team_name = value_dup(res, row, C_TEAM_NAME, &oom);
    s->notice.thread_key = value_dup(res, row, C_THREAD_KEY, &oom);
    s->notice.due_at = value_int(res, row, C_DUE_AT);
    s->notice.intro = value_dup(res, row, C_INTRO, &oom);
    s->created_at = value_int(res, row, C_CREATED_AT);
    s->attempts = (int)value_int(res, row, C_ATTEMPTS);
    s->state = TKL_NOTICE_PENDING;
    return oom || !s->notice.channel || !s->notice.recipient ? -ENOMEM : 0;
}

static int entry_read(const PGresult *res, int row, struct tkl_stored_notice *s)
{
    bool oom = false;
    size_t i = s->notice.n_entries;
    struct tkl_notice_entry *e = &s->entries[i];
    *e = (struct tkl_notice_entry){.size = sizeof(*e)};
    e->item_id = value_dup(res, row, C_ITEM_ID, &oom);
    e->title = value_dup(res, row, C_TITLE, &oom);
    e->commitment = value_dup(res, row, C_COMMITMENT, &oom);
    e->owners = value_dup(res, row, C_OWNERS, &oom);
    e->deadline_text = value_dup(res, row, C_DEADLINE_TEXT, &oom);
    e->status = value_dup(res, row, C_STATUS, &oom);
    e->progress = value_dup(res, row, C_PROGRESS, &oom);
    e->deadline_day = (int32_t)value_int(res, row, C_DEADLINE_DAY);
    e->kind = (enum tkl_deadline_kind)value_int(res, row, C_KIND);
    e->stage = (enum tkl_stage)value_int(res, row, C_STAGE);
    s->stage_keys[i] = value_dup(res, row, C_STAGE_KEY, &oom);
    e->days_left = (int32_t)value_int(res, row, C_DAYS_LEFT);
    e->late = (int)value_int(res, row, C_LATE);
    e->category = value_dup(res, row, C_CATEGORY, &oom);
    e->url = value_dup(res, row, C_URL, &oom);
    e->answer = value_dup(res, row, C_ANSWER, &oom);
    s->notice.n_entries++;
    return oom || !e->item_id ? -ENOMEM : 0;
}

/* The claim's rows, one per entry, grouped into notices. Returns 0 or
 * -ENOMEM (nothing returned). */
static int claim_read(const PGresult *res, struct tkl_stored_notice ***ret, size_t *ret_n)
{
    int rows = sym_PQntuples(res);
    struct tkl_stored_notice **v = NULL;
    size_t n = 0, entry_cap = 0;
    int r = 0;
    for (int i = 0; r == 0 && i < rows; i++) {
        uint64_t id = (uint64_t)value_int(res, i, C_ID);
        if (!n || v[n - 1]->notice.id != id) {
            struct tkl_stored_notice **nv =
                reallocarray(v, n + 1, sizeof(struct tkl_stored_notice *));
            if (!nv || !(nv[n] = calloc(1, sizeof(**nv)))) {
                v = nv ? nv : v;
                r = -ENOMEM;
                break;
            }
            v = nv;
            entry_cap = 0;
            if ((r = notice_read(res, i, v[n++])) < 0)
                break;
        }
        if ((r = grow_entries(v[n - 1], &entry_cap)) == 0)
            r = entry_read(res, i, v[n - 1]);
    }
    if (r < 0) {
        free_notices(v, n);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int tkl_pg_notices_read(const PGresult *res, struct tkl_stored_notice ***ret, size_t *ret_n)
{
    return claim_read(res, ret, ret_n);
}

static void on_released(void *data, int r)
{
    (void)data;
    if (r < 0)
        log_warning("postgresql: cannot release claimed notices (%s); they are due again when "
                    "their lease ends",
                    strerror(-r));
}

static int queue_release(struct pgs *q, uint64_t id, tkl_state_done_cb cb, void *data);

/* Says, once for each node, which notices of the claim answered by res
 * were another node's whose lease had ended: that node stopped, died or
 * lost the database, and this one sends them now. */
static void log_takeovers(const struct pgs *q, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    for (int i = 0; i < rows; i++) {
        if (sym_PQgetisnull(res, i, C_WAS_NODE))
            continue;
        const char *node = sym_PQgetvalue(res, i, C_WAS_NODE);
        bool first = true; /* the first row of that node's, of this claim's */
        for (int k = 0; first && k < i; k++)
            first = sym_PQgetisnull(res, k, C_WAS_NODE) ||
                    strcmp(sym_PQgetvalue(res, k, C_WAS_NODE), node) != 0;
        if (!first || strcmp(node, q->node) == 0)
            continue;
        char ids[256];
        size_t len = 0, count = 0;
        int64_t until = INT64_MIN;
        for (int k = i; k < rows; k++) {
            if (sym_PQgetisnull(res, k, C_WAS_NODE) ||
                strcmp(sym_PQgetvalue(res, k, C_WAS_NODE), node) != 0 ||
                (k > i && value_int(res, k, C_ID) == value_int(res, k - 1, C_ID)))
                continue; /* another node's, or another entry of the same notice */
            count++;
            int64_t u = value_int(res, k, C_WAS_UNTIL);
            until = u > until ? u : until;
            if (len + 24 < sizeof(ids))
                len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%" PRId64,
                                        count > 1 ? "," : "", value_int(res, k, C_ID));
            else if (len + 4 < sizeof(ids) && ids[len - 1] != '.')
                len += (size_t)snprintf(ids + len, sizeof(ids) - len, ",...");
        }
        char at[32];
        tkl_format_instant(until, at);
        log_notice("postgresql: took over %zu notice%s from node %s, whose lease ended at %s (it "
                   "stopped, died or lost the database): notice=%s",
                   count, count == 1 ? "" : "s", node, at, ids);
    }
}

/* A claim's notices, handed to the caller only while more than half the
 * lease is left by the node's clock, and only when they can be held (so
 * renewed): else released, and the claim told -ENOMEM. */
static void tell_claim(struct pgs *q, struct op *p, const PGresult *res)
{
    struct tkl_stored_notice **v = NULL;
    size_t n = 0;
    int r = claim_read(res, &v, &n);
    uint64_t passed = (q->clock_ns() - p->asked_ns) / 1000000000u;
    if (r == 0 && n && passed * 2 >= (uint64_t)p->lease_seconds) {
        log_warning("postgresql: a claim of %zu notices took %" PRIu64 " s of a %d s lease; they "
                    "are released, not sent (another node may hold them)",
                    n, passed, p->lease_seconds);
        for (size_t i = 0; i < n; i++)
            (void)queue_release(q, v[i]->notice.id, on_released, NULL);
        free_notices(v, n);
        v = NULL;
        n = 0;
    }
    if (r < 0) {
        /* held by the lease: released so another round (here or elsewhere) takes them */
        int rows = sym_PQntuples(res);
        for (int i = 0; i < rows; i++)
            if (i == 0 || value_int(res, i, C_ID) != value_int(res, i - 1, C_ID))
                (void)queue_release(q, (uint64_t)value_int(res, i, C_ID), on_released, NULL);
    }
    if (r == 0 && n && held_reserve(q, n) < 0) {
        log_error("postgresql: out of memory holding %zu notices claimed; they are released, "
                  "not sent",
                  n);
        for (size_t i = 0; i < n; i++)
            (void)queue_release(q, v[i]->notice.id, on_released, NULL);
        free_notices(v, n);
        v = NULL;
        n = 0;
        r = -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        hold(q, v[i]->notice.id, half_lease_after(p->asked_ns, p->lease_seconds));
    if (n)
        log_takeovers(q, res);
    arm_renewal(q);
    p->cb.claim(p->data, r, v, n);
}

static void tell_channels(struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    char **v = calloc((size_t)rows + 1, sizeof(*v));
    int r = v ? 0 : -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++)
        if (!(v[i] = strdup(sym_PQgetvalue(res, i, 0))))
            r = -ENOMEM;
    if (r < 0) {
        for (int i = 0; v && i < rows; i++)
            free(v[i]);
        free(v);
        p->cb.channels(p->data, r, NULL, 0);
        return;
    }
    p->cb.channels(p->data, 0, v, (size_t)rows);
}

/* A renewal's answer: the leases it extended (one row each) are fresh
 * again from when it was asked. */
static void renewed(struct pgs *q, const struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    for (int i = 0; i < rows; i++) {
        struct held *h = held_find(q, (uint64_t)value_int(res, i, 0));
        uint64_t fresh = half_lease_after(p->asked_ns, q->lease_seconds);
        if (h && fresh > h->fresh_ns)
            h->fresh_ns = fresh;
    }
}

/* ---- officers' updates ---- */

/* An added update's row (id, added now), or the updates read. No row for
 * an added one: the same update committed meanwhile, not yet in view:
 * -EAGAIN (tried again, it is found). */
static void tell_updates(struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    if (p->what == W_ADD_UPDATE) {
        if (rows != 1)
            p->cb.update(p->data, -EAGAIN, 0, false);
        else
            p->cb.update(p->data, 0, value_int(res, 0, 0), sym_PQgetvalue(res, 0, 1)[0] == 't');
        return;
    }
    struct tkl_updates l = {0};
    int r = tkl_pg_updates_of(res, &l);
    p->cb.updates(p->data, r, &l);
    tkl_updates_free(&l);
}

/* The columns of TKL_PG_OUTBOX_VIEW's rows (pg_schema.h). */
enum {
    V_PENDING,
    V_RETRYING,
    V_FAILED,
    V_TODAY,
    V_DELIVERED,
    V_NEXT_ATTEMPT,
    V_OLDEST,
    V_WITHDRAWN,
    V_ID,
    V_CHANNEL,
    V_RECIPIENT,
    V_TEAM_ID,
    V_TEAM_NAME,
    V_LAST_ERROR,
    V_STATE,
    V_ATTEMPTS,
    V_DUE_AT,
    V_CREATED_AT,
    V_NEXT,
    V_ENTRIES,
    V_LEASE_NODE,
    V_LEASE_UNTIL,
};

/* Row i of a view's answer into x. Returns 0 or -ENOMEM. */
static int view_row_read(const PGresult *res, int i, struct tkl_notice_row *x)
{
    bool oom = false;
    x->id = (uint64_t)value_int(res, i, V_ID);
    x->channel = value_dup(res, i, V_CHANNEL, &oom);
    x->recipient = value_dup(res, i, V_RECIPIENT, &oom);
    x->team_id = value_dup(res, i, V_TEAM_ID, &oom);
    x->team_name = value_dup(res, i, V_TEAM_NAME, &oom);
    x->last_reply = value_dup(res, i, V_LAST_ERROR, &oom);
    x->state = (enum tkl_notice_state)value_int(res, i, V_STATE);
    x->attempts = (int)value_int(res, i, V_ATTEMPTS);
    x->due_at = value_int(res, i, V_DUE_AT);
    x->created_at = value_int(res, i, V_CREATED_AT);
    x->next_attempt = value_int(res, i, V_NEXT);
    x->n_entries = (size_t)value_int(res, i, V_ENTRIES);
    x->lease_node = value_dup(res, i, V_LEASE_NODE, &oom);
    x->lease_until = value_int(res, i, V_LEASE_UNTIL);
    x->sending = x->lease_node != NULL;
    return oom || !x->channel || !x->recipient ? -ENOMEM : 0;
}

static void tell_view(struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    struct tkl_state_view *v = rows > 0 ? calloc(1, sizeof(*v)) : NULL;
    int r = v ? 0 : rows > 0 ? -ENOMEM : -EPROTO;
    if (r == 0) {
        v->st = (struct tkl_outbox_stats){
            .pending = value_int(res, 0, V_PENDING),
            .retrying = value_int(res, 0, V_RETRYING),
            .failed = value_int(res, 0, V_FAILED),
            .delivered_today = value_int(res, 0, V_TODAY),
            .delivered = value_int(res, 0, V_DELIVERED),
            .next_attempt = sym_PQgetisnull(res, 0, V_NEXT_ATTEMPT)
                                ? INT64_MAX
                                : value_int(res, 0, V_NEXT_ATTEMPT),
            .oldest_pending =
                sym_PQgetisnull(res, 0, V_OLDEST) ? INT64_MAX : value_int(res, 0, V_OLDEST),
            .withdrawn = value_int(res, 0, V_WITHDRAWN),
            .due_since = INT64_MAX, /* not read: tickler status's alone */
            .retrying_since = INT64_MAX,
        };
        size_t n = sym_PQgetisnull(res, 0, V_ID) ? 0 : (size_t)rows;
        if (n && !(v->rows.v = calloc(n, sizeof(*v->rows.v))))
            r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++) {
            v->rows.n++;
            r = view_row_read(res, (int)i, &v->rows.v[i]);
        }
    }
    if (r < 0) {
        tkl_state_view_free(v);
        v = NULL;
    }
    p->cb.view(p->data, r, v);
}

/* Row i of TKL_PG_ITEM_HISTORY's or TKL_PG_LAST_NOTICES's answer into
 * x. Returns 0 or -ENOMEM; what x holds is freed by the caller either
 * way. */
static int item_notice_read(const PGresult *res, int i, struct tkl_item_notice *x)
{
    bool oom = false;
    x->item_id = value_dup(res, i, 0, &oom);
    x->notice_id = (uint64_t)value_int(res, i, 1);
    x->channel = value_dup(res, i, 2, &oom);
    x->recipient = value_dup(res, i, 3, &oom);
    x->team_id = value_dup(res, i, 4, &oom);
    x->team_name = value_dup(res, i, 5, &oom);
    x->stage_key = value_dup(res, i, 6, &oom);
    x->state = (enum tkl_notice_state)value_int(res, i, 7);
    x->attempts = (int)value_int(res, i, 8);
    x->sending = sym_PQgetvalue(res, i, 9)[0] == 't';
    x->created_at = value_int(res, i, 10);
    x->finished_at = value_int(res, i, 11); /* NULL reads as 0 */
    return oom || !x->item_id || !x->channel || !x->recipient ? -ENOMEM : 0;
}

static void tell_item_notices(struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    struct tkl_item_notices l = {0};
    int r = 0;
    if (rows > 0 && !(l.v = calloc((size_t)rows, sizeof(*l.v))))
        r = -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++) {
        l.n++; /* freed with the list, whole or not */
        r = item_notice_read(res, i, &l.v[i]);
    }
    if (r < 0)
        tkl_item_notices_free(&l);
    p->cb.notices(p->data, r, &l);
    tkl_item_notices_free(&l);
}

/* The failed notices not reported, TKL_PG_UNREPORTED's rows. */
static void tell_failures(struct op *p, const PGresult *res)
{
    int rows = sym_PQntuples(res);
    struct tkl_failures l = {0};
    int r = 0;
    if (rows > 0 && !(l.v = calloc((size_t)rows, sizeof(*l.v))))
        r = -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++) {
        bool oom = false;
        struct tkl_failure *x = &l.v[l.n++]; /* freed with the list, whole or not */
        x->id = (uint64_t)value_int(res, i, 0);
        x->created_at = value_int(res, i, 1);
        x->finished_at = value_int(res, i, 2);
        x->channel = value_dup(res, i, 3, &oom);
        x->recipient = value_dup(res, i, 4, &oom);
        x->team_id = value_dup(res, i, 5, &oom);
        x->team_name = value_dup(res, i, 6, &oom);
        x->last_error = value_dup(res, i, 7, &oom);
        x->n_entries = (size_t)value_int(res, i, 8);
        if (oom || !x->channel || !x->recipient)
            r = -ENOMEM;
    }
    if (r < 0)
        tkl_failures_free(&l);
    p->cb.failures(p->data, r, &l);
    tkl_failures_free(&l);
}

/* Tells p what its statement's result res says (r == 0), or r. */
static void tell(struct pgs *q, struct op *p, int r, const PGresult *res)
{
    if (p->what == W_RENEW && r == 0)
        renewed(q, p, res);
    if (p->what == W_OUTCOME || p->what == W_RELEASE) {
        if (r == 0 && sym_PQntuples(res) == 0)
            r = TKL_STATE_NOT_OURS;
        if (r >= 0)
            unhold(q, p->id);
    }
    if (!p->cb.done) /* the backend's own */
        goto out;
    if (r < 0) {
        switch (p->kind) {
        case OP_DONE:
            p->cb.done(p->data, r);
            break;
        case OP_PUT:
            p->cb.put(p->data, r, 0);
            break;
        case OP_VALUE:
            p->cb.value(p->data, r, 0);
            break;
        case OP_CLAIM:
            p->cb.claim(p->data, r, NULL, 0);
            break;
        case OP_CHANNELS:
            p->cb.channels(p->data, r, NULL, 0);
            break;
        case OP_UPDATE:
            p->cb.update(p->data, r, 0, false);
            break;
        case OP_UPDATES: {
            struct tkl_updates none = {0};
            p->cb.updates(p->data, r, &none);
            break;
        }
        case OP_VIEW:
            p->cb.view(p->data, r, NULL);
            break;
        case OP_NOTICES: {
            struct tkl_item_notices none = {0};
            p->cb.notices(p->data, r, &none);
            break;
        }
        case OP_FAILURES: {
            struct tkl_failures none = {0};
            p->cb.failures(p->data, r, &none);
            break;
        }
        }
        goto out;
    }
    switch (p->what) {
    case W_PUT:
    case W_PUT_REPORT:
        p->cb.put(p->data, 0, (uint64_t)value_int(res, 0, 0));
        break;
    case W_UNREPORTED:
        tell_failures(p, res);
        break;
    case W_DUE:
        tell_channels(p, res);
        break;
    case W_CLAIM:
        tell_claim(q, p, res);
        break;
    case W_RECOVER:
    case W_HASTEN:
        p->cb.value(p->data, 0, sym_PQntuples(res));
        break;
    case W_NEXT:
        p->cb.value(p->data, 0, sym_PQgetisnull(res, 0, 0) ? INT64_MAX : value_int(res, 0, 0));
        break;
    case W_ADD_UPDATE:
    case W_UPDATES:
        tell_updates(p, res);
        break;
    case W_LINK_UPDATES:
    case W_UPDATES_VERSION:
        p->cb.value(p->data, 0, value_int(res, 0, 0));
        break;
    case W_VIEW:
        tell_view(p, res);
        break;
    case W_ITEM_NOTICES:
        tell_item_notices(p, res);
        break;
    case W_GET_META:
        if (sym_PQntuples(res) == 0)
            p->cb.value(p->data, -ENOENT, 0);
        else
            p->cb.value(p->data, 0, value_int(res, 0, 0));
        break;
    default:
        p->cb.done(p->data, r);
        break;
    }
out:
    op_free(p);
}

static void free_pgs(struct pgs *q)
{
    free(q->held);
    free(q->conninfo_file);
    free(q->node);
    free(q);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct pgs *q = h->data;
    if (--q->handles == 0 && q->closed)
        free_pgs(q);
}

static void release_handles(struct pgs *q)
{
    if (q->handles_released)
        return;
    q->handles_released = true;
    uv_close((uv_handle_t *)&q->renew, on_handle_closed);
    uv_close((uv_handle_t *)&q->prepare, on_handle_closed);
}

static void tell_all(struct pgs *q, struct op *p, int r);

/* Lets the index's connection go, telling nobody (a build the server
 * started runs on there to its end). */
static void index_close(struct pgs *q)
{
    struct tkl_pg *ix = q->ix;
    q->ix = NULL;
    tkl_pg_close(ix);
}

/* Closes the connection and the handles once draining and nothing is
 * left to answer, nor a notice held (its notifier's outcome still to
 * come) for at most half a lease; at once while the connection is not
 * up, and at the half lease even while the database, connected, has not
 * answered (a lock held elsewhere): what waits for it is told -ENOTCONN
 * or -ETIMEDOUT (a stop does not wait for the database longer; what it
 * did not commit is undone, and the notices leased stay so until their
 * lease ends). */
static void maybe_drained(struct pgs *q)
{
    if (!q->draining || q->pg_closed)
        return;
    bool connected = tkl_pg_connected(q->pg);
    if (!connected || (q->drain_expired && (q->open || q->txns))) {
        struct op *ops = q->open;
        q->open = NULL;
        q->open_tail = &q->open;
        if (connected)
            log_warning("postgresql: stopping without the answers of %zu groups the database has "
                        "not answered in half a lease; what they did not commit is undone",
                        q->txns + (ops != NULL));
        tell_all(q, ops, connected ? -ETIMEDOUT : -ENOTCONN); /* what they queue is refused */
        q->pg_closed = true;
        tkl_pg_close(q->pg); /* tells what was sent -ECANCELED */
        index_close(q);
        release_handles(q);
        return;
    }
    if (!q->open && !q->txns && (!q->n_held || q->drain_expired)) {
        q->pg_closed = true;
        tkl_pg_close(q->pg);
        index_close(q);
        release_handles(q);
    }
}

static void on_txn(void *data, int r, const PGresult *const *results, size_t n)
{
    struct txn *t = data;
    struct pgs *q = t->q;
    size_t i = t->skip;
    q->txns--;
    /* health: what says the database cannot take the node's work; not a
     * conflict with another node (-EAGAIN, -EEXIST: tried again), nor a
     * connection lost (told by the connection itself) or closed */
    if (r != -ECANCELED && r != -ECONNRESET && r != -EAGAIN && r != -EEXIST)
        q->last_txn = r;
    if (r == -EEXIST && t->ops && t->ops->what == W_PUT_REPORT)
        log_info("postgresql: a report of failures was not queued: another node reported some "
                 "of them meanwhile");
    else if (r < 0 && r != -ECANCELED)
        log_warning("postgresql: a group of the state was undone: %s", strerror(-r));
    while (t->ops) {
        struct op *p = t->ops;
        t->ops = p->next;
        const PGresult *res = NULL;
        if (p->prepared)
            res = i < n ? results[i++] : NULL;
        tell(q, p, r == 0 && p->prepared && !res ? -EIO : r, res);
    }
    free(t);
    if (!q->closed)
        maybe_drained(q);
}

/* ---- commit ------------------------------------------------------------- */

static void tell_all(struct pgs *q, struct op *p, int r)
{
    while (p) {
        struct op *next = p->next;
        tell(q, p, r, NULL);
        p = next;
    }
}

static int by_key(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The locks of the actions of the n updates in keys (taken: sorted), as
 * TKL_PG_LOCK_UPDATES' array parameter, ascending and distinct, into
 * buf. */
static void update_locks(int32_t *keys, size_t n, char *buf, size_t size)
{
    qsort(keys, n, sizeof(*keys), by_key);
    size_t len = 0;
    buf[len++] = '{';
    for (size_t i = 0; i < n; i++)
        if (i == 0 || keys[i] != keys[i - 1])
            len +=
                (size_t)snprintf(buf + len, size - len, "%s%" PRId32, len > 1 ? "," : "", keys[i]);
    snprintf(buf + len, size - len, "}");
}

/* Sends the operations of ops, GROUP_STMTS statements at most, as one
 * transaction; returns the rest in *rest. Returns 0 or the negative
 * errno told to those operations. */
static int send_txn(struct pgs *q, struct op *ops, struct op **rest)
{
    /* stmts[0] and [1]: the lock wait's limit and the actions' locks,
     * when the group adds updates */
    enum { FIRST = 2 };
    struct tkl_pg_stmt stmts[FIRST + GROUP_STMTS + 3];
    int32_t keys[GROUP_STMTS];
    size_t n = FIRST, n_keys = 0;
    bool put = false, seen = false, updated = false;
    struct op *p = ops, **tail = &ops;
    while (p && n < FIRST + GROUP_STMTS) {
        if (p->alone && p != ops)
            break; /* the next transaction's */
        if (p->prepared)
            stmts[n++] = (struct tkl_pg_stmt){.prepared = p->prepared,
                                              .nparams = p->nparams,
                                              .params = (const char *const *)p->params};
        if (p->what == W_ADD_UPDATE)
            keys[n_keys++] = p->update_lock;
        put |= p->what == W_PUT || p->what == W_PUT_REPORT;
        seen |= p->what == W_CLAIM || p->what == W_RENEW;
        updated |= p->what == W_ADD_UPDATE;
        tail = &p->next;
        p = p->next;
        if (ops->alone)
            break;
    }
    char locks[GROUP_STMTS * 12 + 3];
    const char *lock_params[] = {locks};
    size_t first = FIRST;
    if (n_keys) {
        update_locks(keys, n_keys, locks, sizeof(locks));
        stmts[0] =
            (struct tkl_pg_stmt){.sql = "SELECT set_config('lock_timeout', '" LOCK_WAIT "', true)"};
        stmts[1] = (struct tkl_pg_stmt){
            .prepared = TKL_PG_LOCK_UPDATES, .nparams = 1, .params = lock_params};
        first = 0;
    }
    *tail = NULL;
    *rest = p;
    char now[24];
    const char *notify[] = {q->node}, *node_seen[] = {q->node, now};
    snprintf(now, sizeof(now), "%" PRId64, clock_now(q));
    if (put)
        stmts[n++] =
            (struct tkl_pg_stmt){.prepared = TKL_PG_NOTIFY_QUEUED, .nparams = 1, .params = notify};
    if (updated)
        stmts[n++] =
            (struct tkl_pg_stmt){.prepared = TKL_PG_NOTIFY_UPDATED, .nparams = 1, .params = notify};
    if (seen)
        stmts[n++] =
            (struct tkl_pg_stmt){.prepared = TKL_PG_NODE_SEEN, .nparams = 2, .params = node_seen};
    if (n == FIRST)
        stmts[n++] = (struct tkl_pg_stmt){.sql = "SELECT 1"}; /* a barrier */
    struct txn *t = calloc(1, sizeof(*t));
    int r = t ? 0 : -ENOMEM;
    if (t) {
        t->q = q;
        t->ops = ops;
        t->skip = FIRST - first;
        r = tkl_pg_transaction(q->pg, stmts + first, n - first, on_txn, t);
    }
    if (r < 0) {
        free(t);
        tell_all(q, ops, r);
        return r;
    }
    q->txns++;
    return 0;
}

static int pgs_commit(void *impl)
{
    struct pgs *q = impl;
    int rc = 0;
    if (q->closed || q->pg_closed || !q->ready || !q->open)
        return 0;
    /* what completions queue while this runs waits for the next commit */
    struct op *ops = q->open;
    q->open = NULL;
    q->open_tail = &q->open;
    if (!tkl_pg_connected(q->pg)) {
        /* a claim queued for the connection being made would be sent
         * before the reconnection's release of stray leases, which would
         * then release the notices it leased */
        tell_all(q, ops, -ENOTCONN);
        return -ENOTCONN;
    }
    while (ops) {
        struct op *rest = NULL;
        int r = send_txn(q, ops, &rest);
        if (r < 0)
            rc = r;
        ops = rest;
    }
    return rc;
}

static bool pgs_busy(const void *impl)
{
    const struct pgs *q = impl;
    return q->open != NULL;
}

static void on_prepare(uv_prepare_t *h)
{
    struct pgs *q = h->data;
    if (q->open)
        (void)pgs_commit(q);
    maybe_drained(q);
}

/* ---- operations --------------------------------------------------------- */

static int put_entries_json(const struct tkl_notice *n, const char *const *stage_keys, char **ret)
{
    json_t *a = json_array();
    int r = a ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        char *key = stage_keys ? tkl_log_key(e->item_id, e->deadline_day, stage_keys[i], n->channel,
                                             n->recipient)
                               : NULL;
        json_t *o = key || !stage_keys ? json_object() : NULL;
        const struct {
            const char *name, *value;
        } texts[] = {
            {"key", key},
            {"item_id", e->item_id},
            {"title", e->title},
            {"commitment", e->commitment},
            {"owners", e->owners},
            {"deadline_text", e->deadline_text},
            {"status", e->status},
            {"progress", e->progress},
            {"stage_key", stage_keys ? stage_keys[i] : NULL},
            {"category", e->category},
            {"url", e->url},
            {"answer", e->answer},
        };
        const struct {
            const char *name;
            json_int_t value;
        } ints[] = {
            {"deadline_day", e->deadline_day}, {"kind", e->kind}, {"stage", e->stage},
            {"days_left", e->days_left},       {"late", e->late},
        };
        for (size_t k = 0; o && k < sizeof(texts) / sizeof(texts[0]); k++)
            if (texts[k].value &&
                json_object_set_new(o, texts[k].name, json_string(texts[k].value)) < 0) {
                json_decref(o);
                o = NULL;
            }
        for (size_t k = 0; o && k < sizeof(ints) / sizeof(ints[0]); k++)
            if (json_object_set_new(o, ints[k].name, json_integer(ints[k].value)) < 0) {
                json_decref(o);
                o = NULL;
            }
        free(key);
        if (!o || json_array_append_new(a, o) < 0)
            r = -ENOMEM;
    }
    char *s = r == 0 ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int pgs_put(void *impl, const struct tkl_notice *n, const char *const *stage_keys,
                   int64_t now, tkl_state_put_cb cb, void *data)
{
    struct pgs *q = impl;
    char *entries = NULL;
    char due[24], at[24];
    if (!n->n_entries)
        return -EINVAL;
    struct op *p = op_new(OP_PUT, W_PUT, data);
    if (!p)
        return -ENOMEM;
    p->cb.put = cb;
    int r = put_entries_json(n, stage_keys, &entries);
    if (r == 0) {
        snprintf(due, sizeof(due), "%" PRId64, n->due_at);
        snprintf(at, sizeof(at), "%" PRId64, now);
        const char *params[] = {n->channel, n->recipient, n->team_id, n->team_name, n->thread_key,
                                due,        at,           at,         n->intro,     entries};
        r = op_stmt(p, TKL_PG_PUT_NOTICE, 10, params);
    }
    free(entries);
    if (r == 0)
        clock_set(q, now);
    return finish(q, p, r);
}

static int pgs_due_channels(void *impl, int64_t now, tkl_state_channels_cb cb, void *data)
{
    struct pgs *q = impl;
    char t[24];
    struct op *p = op_new(OP_CHANNELS, W_DUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.channels = cb;
    snprintf(t, sizeof(t), "%" PRId64, now);
    const char *params[] = {t};
    clock_set(q, now);
    return finish(q, p, op_stmt(p, TKL_PG_DUE_CHANNELS, 1, params));
}

static int pgs_claim(void *impl, const char *channel, int64_t now, size_t max,
                     const struct tkl_state_lease *lease, tkl_state_claim_cb cb, void *data)
{
    struct pgs *q = impl;
    char t[24], secs[16], m[24];
    if (!lease || !lease->node || lease->seconds <= 0)
        return -EINVAL;
    struct op *p = op_new(OP_CLAIM, W_CLAIM, data);
    if (!p)
        return -ENOMEM;
    p->cb.claim = cb;
    p->asked_ns = q->clock_ns();
    p->lease_seconds = lease->seconds;
    snprintf(t, sizeof(t), "%" PRId64, now);
    snprintf(secs, sizeof(secs), "%d", lease->seconds);
    snprintf(m, sizeof(m), "%zu", max);
    const char *params[] = {channel, t, lease->node, secs, m};
    clock_set(q, now);
    return finish(q, p, op_stmt(p, TKL_PG_CLAIM, 5, params));
}

static int queue_outcome(struct pgs *q, uint64_t id, enum tkl_state_outcome what, int64_t at,
                         const char *reply, const char *node, tkl_state_done_cb cb, void *data)
{
    static const char *const stmt[] = {
        [TKL_STATE_DELIVERED] = TKL_PG_DELIVERED, [TKL_STATE_RETRY] = TKL_PG_RETRY,
        [TKL_STATE_FAILED] = TKL_PG_FAILED,       [TKL_STATE_RELEASE] = TKL_PG_RELEASE,
        [TKL_STATE_WITHDRAWN] = TKL_PG_WITHDRAWN, [TKL_STATE_WAIT] = TKL_PG_WAIT,
    };
    char idt[24], t[24];
    if ((unsigned)what > TKL_STATE_WAIT || !node)
        return -EINVAL;
    struct op *p = op_new(OP_DONE, what == TKL_STATE_RELEASE ? W_RELEASE : W_OUTCOME, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    p->id = id;
    snprintf(idt, sizeof(idt), "%" PRIu64, id);
    snprintf(t, sizeof(t), "%" PRId64, at);
    const char *params[] = {idt, node, t, reply};
    return finish(q, p, op_stmt(p, stmt[what], what == TKL_STATE_RELEASE ? 2 : 4, params));
}

static int queue_release(struct pgs *q, uint64_t id, tkl_state_done_cb cb, void *data)
{
    return queue_outcome(q, id, TKL_STATE_RELEASE, 0, NULL, q->node, cb, data);
}

static int pgs_outcome(void *impl, uint64_t id, enum tkl_state_outcome what, int64_t at,
                       const char *reply, const char *node, tkl_state_done_cb cb, void *data)
{
    return queue_outcome(impl, id, what, at, reply, node, cb, data);
}

/* The held notices as a PostgreSQL array ("{1,2}"): *ret, or -ENOMEM. */
static int held_array(const struct pgs *q, char **ret)
{
    size_t size = 3 + q->n_held * 21, o = 0;
    char *s = malloc(size);
    if (!s)
        return -ENOMEM;
    s[o++] = '{';
    for (size_t i = 0; i < q->n_held; i++)
        o += (size_t)snprintf(s + o, size - o, "%s%" PRIu64, i ? "," : "", q->held[i].id);
    s[o++] = '}';
    s[o] = '\0';
    *ret = s;
    return 0;
}

static int queue_renew(struct pgs *q, tkl_state_done_cb cb, void *data)
{
    char t[24], secs[16], *ids = NULL;
    struct op *p = op_new(OP_DONE, W_RENEW, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    p->asked_ns = q->clock_ns();
    snprintf(t, sizeof(t), "%" PRId64, clock_now(q));
    snprintf(secs, sizeof(secs), "%d", q->lease_seconds);
    int r = held_array(q, &ids);
    if (r == 0) {
        const char *params[] = {q->node, t, secs, ids};
        r = op_stmt(p, TKL_PG_RENEW, 4, params);
    }
    free(ids);
    return finish(q, p, r);
}

/* The leases of the notices this node holds (claimed here, outcome not
 * recorded) are renewed: a lease of the node it does not hold (a claim
 * committed whose answer a lost connection took) runs out, and the
 * notice is claimed again. ids only say whether anything is in flight. */
static int pgs_renew(void *impl, const uint64_t *ids, size_t n, const struct tkl_state_lease *lease,
                     int64_t now, tkl_state_done_cb cb, void *data)
{
    struct pgs *q = impl;
    (void)ids, (void)n;
    if (!lease || strcmp(lease->node, q->node) != 0)
        return -EINVAL;
    clock_set(q, now);
    return queue_renew(q, cb, data);
}

static bool pgs_lease_fresh(const void *impl, uint64_t id)
{
    const struct pgs *q = impl;
    const struct held *h = held_find(q, id);
    return h && q->clock_ns() < h->fresh_ns;
}

static int pgs_recover(void *impl, const char *node, int64_t now, tkl_state_value_cb cb, void *data)
{
    struct pgs *q = impl;
    char t[24];
    struct op *p = op_new(OP_VALUE, W_RECOVER, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    snprintf(t, sizeof(t), "%" PRId64, now);
    const char *params[] = {node, t};
    clock_set(q, now);
    return finish(q, p, op_stmt(p, TKL_PG_RECOVER, 2, params));
}

static int pgs_hasten(void *impl, const char *channel, int64_t now, const uint64_t *keep,
                      size_t n_keep, tkl_state_value_cb cb, void *data)
{
    struct pgs *q = impl;
    char t[24], *ids = NULL;
    if (tkl_pg_id_array(keep, n_keep, &ids) < 0)
        return -ENOMEM;
    struct op *p = op_new(OP_VALUE, W_HASTEN, data);
    if (!p) {
        free(ids);
        return -ENOMEM;
    }
    p->cb.value = cb;
    snprintf(t, sizeof(t), "%" PRId64, now);
    const char *params[] = {channel, t, ids};
    clock_set(q, now);
    int r = op_stmt(p, TKL_PG_HASTEN, 3, params);
    free(ids);
    return finish(q, p, r);
}

/* texts as a JSON array of strings into *ret (NULL entries skipped).
 * Returns 0 or -ENOMEM. */
static int json_texts(const char *const *texts, size_t n, char **ret)
{
    json_t *a = json_array();
    int r = a ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        if (texts[i] && json_array_append_new(a, json_string(texts[i])) < 0)
            r = -ENOMEM;
    char *s = r == 0 ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int pgs_unreported(void *impl, const struct tkl_report_to *to, size_t n_to, size_t max,
                          tkl_state_failures_cb cb, void *data)
{
    struct pgs *q = impl;
    char stage[16], m[24], *list = NULL;
    char **tails = NULL;
    int r = tkl_report_to_tails(to, n_to, &tails);
    if (r == 0)
        r = json_texts((const char *const *)tails, n_to, &list);
    tkl_report_to_tails_free(tails, n_to);
    if (r < 0)
        return r;
    struct op *p = op_new(OP_FAILURES, W_UNREPORTED, data);
    if (!p) {
        free(list);
        return -ENOMEM;
    }
    p->cb.failures = cb;
    snprintf(stage, sizeof(stage), "%d", (int)TKL_STAGE_REPORT);
    snprintf(m, sizeof(m), "%zu", max);
    const char *params[] = {stage, m, list};
    r = op_stmt(p, TKL_PG_UNREPORTED, 3, params);
    free(list);
    return finish(q, p, r);
}

/* The report notices as TKL_PG_PUT_REPORT's $1 into *ret. Returns 0 or
 * -ENOMEM. */
static int reports_json(const struct tkl_notice *const *reports, size_t n, char **ret)
{
    json_t *a = json_array();
    int r = a ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct tkl_notice *x = reports[i];
        json_t *o = json_object();
        const struct {
            const char *name, *value;
        } texts[] = {
            {"channel", x->channel},     {"recipient", x->recipient}, {"team_id", x->team_id},
            {"team_name", x->team_name}, {"intro", x->intro},
        };
        for (size_t k = 0; o && k < sizeof(texts) / sizeof(texts[0]); k++)
            if (texts[k].value &&
                json_object_set_new(o, texts[k].name, json_string(texts[k].value)) < 0) {
                json_decref(o);
                o = NULL;
            }
        if (!o || json_array_append_new(a, o) < 0)
            r = -ENOMEM;
    }
    char *s = r == 0 ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int pgs_put_report(void *impl, const struct tkl_notice *const *reports, size_t n_reports,
                          const char *const *keys, size_t n_keys, int64_t now, tkl_state_put_cb cb,
                          void *data)
{
    struct pgs *q = impl;
    char *notices = NULL, *entries = NULL, *logged = NULL, at[24];
    if (!n_reports || !reports[0]->n_entries)
        return -EINVAL;
    struct op *p = op_new(OP_PUT, W_PUT_REPORT, data);
    if (!p)
        return -ENOMEM;
    p->cb.put = cb;
    p->alone = true;
    int r = reports_json(reports, n_reports, &notices);
    if (r == 0)
        r = put_entries_json(reports[0], NULL, &entries);
    if (r == 0)
        r = json_texts(keys, n_keys, &logged);
    if (r == 0) {
        snprintf(at, sizeof(at), "%" PRId64, now);
        const char *params[] = {notices, entries, at, logged};
        r = op_stmt(p, TKL_PG_PUT_REPORT, 4, params);
    }
    free(notices);
    free(entries);
    free(logged);
    if (r == 0)
        clock_set(q, now);
    return finish(q, p, r);
}

static int pgs_next_attempt(void *impl, tkl_state_value_cb cb, void *data)
{
    struct pgs *q = impl;
    struct op *p = op_new(OP_VALUE, W_NEXT, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    const char *params[] = {q->node};
    return finish(q, p, op_stmt(p, TKL_PG_NEXT_ATTEMPT, 1, params));
}

static int pgs_get_meta(void *impl, const char *key, tkl_state_value_cb cb, void *data)
{
    struct pgs *q = impl;
    struct op *p = op_new(OP_VALUE, W_GET_META, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    const char *params[] = {key};
    return finish(q, p, op_stmt(p, TKL_PG_META_GET, 1, params));
}

static int pgs_set_meta(void *impl, const char *key, int64_t value, tkl_state_done_cb cb,
                        void *data)
{
    struct pgs *q = impl;
    char v[24];
    struct op *p = op_new(OP_DONE, W_SET_META, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    snprintf(v, sizeof(v), "%" PRId64, value);
    const char *params[] = {key, v};
    return finish(q, p, op_stmt(p, TKL_PG_META_SET, 2, params));
}

static int pgs_sync(void *impl, tkl_state_done_cb cb, void *data)
{
    struct pgs *q = impl;
    struct op *p = op_new(OP_DONE, W_SYNC, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    return finish(q, p, 0);
}

/* ---- officers' updates -------------------------------------------------- */

/* The day's text for a parameter: NULL for TKL_NO_DAY. */
static const char *day_param(int32_t day, char buf[16])
{
    if (day == TKL_NO_DAY)
        return NULL;
    snprintf(buf, 16, "%" PRId32, day);
    return buf;
}

/* The numbers of an update as parameters' texts. */
struct update_numbers {
    char kind[16], at[24], issued[24], until[16], rag[16], deadline[16];
};

/* u's columns as parameters, in TKL_PG_UPDATE_COLUMNS' order ($1..$14),
 * their numbers written into n. */
static void update_params(const struct tkl_update *u, struct update_numbers *n,
                          const char *params[14])
{
    snprintf(n->kind, sizeof(n->kind), "%d", (int)u->kind);
    snprintf(n->at, sizeof(n->at), "%" PRId64, u->at);
    snprintf(n->issued, sizeof(n->issued), "%" PRId64, u->link_issued_at);
    snprintf(n->rag, sizeof(n->rag), "%d", (int)u->rag);
    const char *v[14] = {u->action_id,
                         u->recipient,
                         u->team_id,
                         n->kind,
                         n->at,
                         n->issued,
                         day_param(u->until_day, n->until),
                         n->rag,
                         u->note,
                         u->suggested_team,
                         day_param(u->plan_deadline_day, n->deadline),
                         u->plan_deadline_text,
                         u->plan_status,
                         u->plan_owners};
    memcpy(params, v, sizeof(v));
}

static int pgs_add_update(void *impl, const struct tkl_update *u, tkl_state_update_cb cb,
                          void *data)
{
    struct pgs *q = impl;
    struct update_numbers n = {0};
    const char *params[14];
    int r = tkl_update_check(u);
    if (r < 0)
        return r;
    struct op *p = op_new(OP_UPDATE, W_ADD_UPDATE, data);
    if (!p)
        return -ENOMEM;
    p->cb.update = cb;
    p->update_lock = tkl_pg_update_lock(u->action_id);
    update_params(u, &n, params);
    return finish(q, p, op_stmt(p, TKL_PG_ADD_UPDATE, 14, params));
}

static int pgs_updates(void *impl, const char *action_id, int64_t since, int64_t until,
                       tkl_state_updates_cb cb, void *data)
{
    struct pgs *q = impl;
    char a[24], b[24];
    struct op *p = op_new(OP_UPDATES, W_UPDATES, data);
    if (!p)
        return -ENOMEM;
    p->cb.updates = cb;
    snprintf(a, sizeof(a), "%" PRId64, since);
    snprintf(b, sizeof(b), "%" PRId64, until);
    const char *params[] = {a, b, action_id};
    return finish(q, p, op_stmt(p, TKL_PG_UPDATES, 3, params));
}

static int pgs_link_updates(void *impl, const struct tkl_update *u, tkl_state_value_cb cb,
                            void *data)
{
    struct pgs *q = impl;
    struct update_numbers n = {0};
    const char *c[14];
    struct op *p = op_new(OP_VALUE, W_LINK_UPDATES, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    update_params(u, &n, c);
    /* the link ($1 to $3), then what the update does ($4 to $11), its team */
    const char *params[] = {c[0], c[1], c[5],  c[3],  c[6],  c[7],
                            c[8], c[9], c[10], c[12], c[13], c[2]};
    return finish(q, p, op_stmt(p, TKL_PG_LINK_UPDATES, 12, params));
}

static int pgs_updates_version(void *impl, tkl_state_value_cb cb, void *data)
{
    struct pgs *q = impl;
    struct op *p = op_new(OP_VALUE, W_UPDATES_VERSION, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, op_stmt(p, TKL_PG_UPDATES_VERSION, 0, NULL));
}

static int pgs_view(void *impl, int64_t day_start, int64_t now, size_t max, tkl_state_view_cb cb,
                    void *data)
{
    struct pgs *q = impl;
    char day[24], t[24], m[24];
    struct op *p = op_new(OP_VIEW, W_VIEW, data);
    if (!p)
        return -ENOMEM;
    p->cb.view = cb;
    snprintf(day, sizeof(day), "%" PRId64, day_start);
    snprintf(t, sizeof(t), "%" PRId64, now);
    snprintf(m, sizeof(m), "%zu", max);
    const char *params[] = {day, t, m};
    return finish(q, p, op_stmt(p, TKL_PG_OUTBOX_VIEW, 3, params));
}

static int pgs_item_notices(void *impl, const char *item_id, size_t max, int64_t now,
                            tkl_state_notices_cb cb, void *data)
{
    struct pgs *q = impl;
    char report[16], answer[16], joint[16], m[24], t[24];
    struct op *p = op_new(OP_NOTICES, W_ITEM_NOTICES, data);
    if (!p)
        return -ENOMEM;
    p->cb.notices = cb;
    snprintf(report, sizeof(report), "%d", (int)TKL_STAGE_REPORT);
    snprintf(answer, sizeof(answer), "%d", (int)TKL_STAGE_ANSWER);
    snprintf(joint, sizeof(joint), "%d", (int)TKL_STAGE_JOINT);
    snprintf(m, sizeof(m), "%zu", max > INT64_MAX ? (size_t)INT64_MAX : max);
    snprintf(t, sizeof(t), "%" PRId64, now);
    if (!item_id) {
        const char *params[] = {report, t, answer, joint};
        return finish(q, p, op_stmt(p, TKL_PG_LAST_NOTICES, 4, params));
    }
    const char *params[] = {item_id, report, answer, m, t, joint};
    return finish(q, p, op_stmt(p, TKL_PG_ITEM_HISTORY, 6, params));
}

static int pgs_health(const void *impl)
{
    const struct pgs *q = impl;
    if (q->closed || q->pg_closed)
        return -ESHUTDOWN;
    if (!tkl_pg_connected(q->pg))
        return -ENOTCONN;
    if (!q->ready)
        return -EAGAIN;
    return q->last_txn;
}

/* ---- start, close ------------------------------------------------------- */

static void pgs_close(void *impl)
{
    struct pgs *q = impl;
    q->closed = true;
    struct op *ops = q->open;
    q->open = NULL;
    q->open_tail = &q->open;
    tell_all(q, ops, -ECANCELED); /* what they queue is refused (closed) */
    if (!q->pg_closed) {
        q->pg_closed = true;
        tkl_pg_close(q->pg); /* tells the transactions in flight -ECANCELED */
    }
    index_close(q);
    if (!q->handles_released)
        release_handles(q); /* the memory goes with the last close callback */
    else if (q->handles == 0)
        free_pgs(q); /* drained: the loop has run their close callbacks */
}

static void on_drain_deadline(uv_timer_t *t)
{
    struct pgs *q = t->data;
    q->drain_expired = true;
    if (q->n_held)
        log_warning("postgresql: stopping without the outcomes of %zu notices in flight; they are "
                    "sent again once their lease ends",
                    q->n_held);
    maybe_drained(q);
}

/* The renewal timer becomes the drain's deadline: half a lease, while the
 * leases it no longer renews still hold. */
static void pgs_drain(void *impl)
{
    struct pgs *q = impl;
    q->draining = true;
    if (!q->handles_released) {
        uv_timer_stop(&q->renew);
        (void)uv_timer_start(&q->renew, on_drain_deadline, (uint64_t)q->lease_seconds * 1000 / 2,
                             0);
    }
    maybe_drained(q);
}

static const struct tkl_state_ops pg_ops = {
    .name = "postgresql",
    .put = pgs_put,
    .due_channels = pgs_due_channels,
    .claim = pgs_claim,
    .outcome = pgs_outcome,
    .renew = pgs_renew,
    .lease_fresh = pgs_lease_fresh,
    .recover = pgs_recover,
    .hasten = pgs_hasten,
    .next_attempt = pgs_next_attempt,
    .unreported = pgs_unreported,
    .put_report = pgs_put_report,
    .get_meta = pgs_get_meta,
    .set_meta = pgs_set_meta,
    .sync = pgs_sync,
    .add_update = pgs_add_update,
    .updates = pgs_updates,
    .link_updates = pgs_link_updates,
    .updates_version = pgs_updates_version,
    .commit = pgs_commit,
    .busy = pgs_busy,
    .drain = pgs_drain,
    .close = pgs_close,
    .view = pgs_view,
    .item_notices = pgs_item_notices,
    .health = pgs_health,
};

static void on_seen(void *data, int r)
{
    (void)data;
    if (r < 0 && r != -ECANCELED)
        log_warning("postgresql: cannot record this node as seen: %s", strerror(-r));
}

/* ---- the failure sweep's index ---------------------------------------- */

/*
 * The failure sweep's index (TKL_PG_UNREPORTED reads the failed notices in
 * the order they failed): built once the schema is migrated, on a
 * connection of its own, so that no statement of the node waits for it,
 * and CONCURRENTLY, so that no node's writes do; under a short
 * lock_timeout, so that a lock held elsewhere fails it rather than holds
 * it. It is no migration: the schema's version stays, and a node of an
 * earlier release takes the database as before. An index of its name
 * that is valid is kept as it is (one a DBA made too); an invalid one (a
 * concurrent build interrupted) is dropped, concurrently, and built again,
 * unless a session is building it now. When it cannot be built now it is
 * said in a warning and the sweep reads the failed notices without it;
 * the next start tries again.
 */
#define INDEX_NAME         "notices_failed"
#define INDEX_LOCK_TIMEOUT "SET lock_timeout = '2s'"
#define INDEX_STATE                                                                                \
    "SELECT i.indisvalid, EXISTS (SELECT 1 FROM pg_stat_progress_create_index p"                   \
    " WHERE p.index_relid = i.indexrelid) FROM pg_index i"                                         \
    " WHERE i.indexrelid = to_regclass('" INDEX_NAME "')"
#define INDEX_DROP "DROP INDEX CONCURRENTLY IF EXISTS " INDEX_NAME
#define INDEX_CREATE                                                                               \
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS " INDEX_NAME                                          \
    " ON notices(finished_at, id) WHERE state = 2"

/* Ends the index's work: why (NULL: built, or there) warned, the
 * connection let go, on_index told r. */
static void index_done(struct pgs *q, int r, const char *why)
{
    if (why)
        log_warning("postgresql: %s: cannot build the failure sweep's index " INDEX_NAME
                    " now: %s; the sweep reads the failed notices without it, and ticklerd "
                    "tries again at its next start",
                    tkl_pg_describe(q->pg), why);
    index_close(q);
    if (q->on_index)
        q->on_index(q->data, r);
}

static void index_query(struct pgs *q, const char *sql, tkl_pg_result_cb cb)
{
    const struct tkl_pg_stmt stmt = {.sql = sql};
    int r = tkl_pg_query(q->ix, &stmt, cb, q);
    if (r < 0)
        index_done(q, r, strerror(-r));
}

/* The index as it is once the build returned: IF NOT EXISTS also returns
 * when another session made one of its name meanwhile, which may be
 * invalid (its build running, or interrupted). */
static void on_index_built(void *data, int r, const PGresult *res)
{
    struct pgs *q = data;
    if (r == -ECANCELED)
        return;
    if (r < 0) {
        index_done(q, r, tkl_pg_error_text(r, res));
    } else if (sym_PQntuples(res) == 0) {
        index_done(q, -ENOENT, "another session dropped it");
    } else if (strcmp(sym_PQgetvalue(res, 0, 0), "t") == 0) {
        log_info("postgresql: %s: the failure sweep's index " INDEX_NAME " is built",
                 tkl_pg_describe(q->pg));
        index_done(q, 0, NULL);
    } else if (strcmp(sym_PQgetvalue(res, 0, 1), "t") == 0) {
        index_done(q, -EALREADY, "another session is building it");
    } else {
        index_done(q, -EAGAIN,
                   "another session's build of it, made meanwhile, was interrupted: it is "
                   "invalid");
    }
}

static void on_index_created(void *data, int r, const PGresult *res)
{
    struct pgs *q = data;
    if (r == -ECANCELED)
        return;
    if (r < 0)
        index_done(q, r, tkl_pg_error_text(r, res));
    else
        index_query(q, INDEX_STATE, on_index_built);
}

static void on_index_dropped(void *data, int r, const PGresult *res)
{
    struct pgs *q = data;
    if (r == -ECANCELED)
        return;
    if (r < 0) {
        char why[512];
        snprintf(why, sizeof(why),
                 "an invalid index of its name, left by a build that was "
                 "interrupted, cannot be dropped: %s",
                 tkl_pg_error_text(r, res));
        index_done(q, r, why);
        return;
    }
    index_query(q, INDEX_CREATE, on_index_created);
}

static void on_index_state(void *data, int r, const PGresult *res)
{
    struct pgs *q = data;
    if (r == -ECANCELED)
        return;
    if (r < 0) {
        index_done(q, r, tkl_pg_error_text(r, res));
        return;
    }
    if (sym_PQntuples(res) == 0) {
        index_query(q, INDEX_CREATE, on_index_created);
    } else if (strcmp(sym_PQgetvalue(res, 0, 0), "t") == 0) {
        log_info("postgresql: %s: the failure sweep's index " INDEX_NAME " is there (valid)",
                 tkl_pg_describe(q->pg));
        index_done(q, 0, NULL);
    } else if (strcmp(sym_PQgetvalue(res, 0, 1), "t") == 0) {
        index_done(q, -EALREADY, "another session is building it");
    } else {
        log_notice("postgresql: %s: the failure sweep's index " INDEX_NAME " is invalid (a "
                   "concurrent build of it was interrupted): dropped and built again",
                   tkl_pg_describe(q->pg));
        index_query(q, INDEX_DROP, on_index_dropped);
    }
}

static void on_index_timeout_set(void *data, int r, const PGresult *res)
{
    if (r < 0 && r != -ECANCELED)
        index_done(data, r, tkl_pg_error_text(r, res));
}

static void on_index_connection(void *data, bool connected)
{
    struct pgs *q = data;
    if (!connected || !q->ix)
        return; /* a lost connection told the statements -ECONNRESET */
    /* the session's lock_timeout (no transaction holds the build), then
     * what is there; each a query of its own, as a concurrent build must
     * be */
    index_query(q, INDEX_LOCK_TIMEOUT, on_index_timeout_set);
    if (q->ix)
        index_query(q, INDEX_STATE, on_index_state);
}

static void on_index_unreachable(void *data, const char *why)
{
    index_done(data, -ECONNREFUSED, why);
}

/* Starts seeing to the index, once a process: on a connection of its own,
 * never waited for. */
static void index_start(struct pgs *q)
{
    if (q->ix_started)
        return;
    q->ix_started = true;
    struct tkl_pg_options po = {.conninfo_file = q->conninfo_file,
                                .on_state = on_index_connection,
                                .unreachable_after = 3,
                                .on_unreachable = on_index_unreachable,
                                .data = q,
                                .purpose = "building the failure sweep's index"};
    int r = tkl_pg_new(q->loop, &po, &q->ix);
    if (r < 0) {
        q->ix = NULL;
        index_done(q, r, strerror(-r));
    }
}

static void start_migration(struct pgs *q);

static void on_migrated(void *data, int r, int version)
{
    struct pgs *q = data;
    q->migrating = false;
    if (q->closed || q->pg_closed)
        return; /* closed or drained: nothing waits for the schema */
    if (r == -ECONNRESET || r == -ENOTCONN)
        return; /* tried again when the connection is back */
    if (r == 0)
        r = tkl_pg_schema_prepare(q->pg);
    if (r < 0) {
        if (r == -EPROTO)
            log_error("postgresql: %s: the database's schema (version %d) is newer than this "
                      "ticklerd knows (%d)",
                      tkl_pg_describe(q->pg), version, TKL_PG_SCHEMA_VERSION);
        else
            log_error("postgresql: %s: cannot set up the schema: %s", tkl_pg_describe(q->pg),
                      strerror(-r));
        struct op *ops = q->open;
        q->open = NULL;
        q->open_tail = &q->open;
        tell_all(q, ops, r);
        if (q->on_ready && !q->unreachable)
            q->on_ready(q->data, r);
        return;
    }
    q->ready = true;
    log_info("postgresql: %s: schema version %d, node %s", tkl_pg_describe(q->pg), version,
             q->node);
    char now[24];
    const char *params[] = {q->node, now};
    snprintf(now, sizeof(now), "%" PRId64, clock_now(q));
    struct op *p = op_new(OP_DONE, W_SYNC, NULL);
    if (p) {
        p->cb.done = on_seen;
        if (finish(q, p, op_stmt(p, TKL_PG_NODE_SEEN, 2, params)) < 0)
            log_warning("postgresql: cannot record this node as seen: out of memory");
    }
    (void)pgs_commit(q);
    index_start(q);
    if (q->on_ready && !q->unreachable)
        q->on_ready(q->data, 0);
}

static void start_migration(struct pgs *q)
{
    int r = tkl_pg_schema_migrate(q->pg, on_migrated, q);
    if (r == 0)
        q->migrating = true;
    else if (r != -ENOTCONN)
        log_error("postgresql: cannot queue the schema migration: %s", strerror(-r));
}

static void on_strays_released(void *data, int r)
{
    (void)data;
    if (r < 0 && r != -ECANCELED)
        log_warning("postgresql: cannot release the leases of claims whose answer was lost (%s); "
                    "those notices are due again when their lease ends",
                    strerror(-r));
}

/* Queues, first in the open group (before any claim queued meanwhile),
 * the release of this node's leases on notices it does not hold: claims
 * committed whose answer the lost connection took. Nothing of this node
 * is in flight at a reconnection, so every other lease of it is such a
 * stray. */
static void release_strays(struct pgs *q)
{
    char *ids = NULL;
    struct op *p = op_new(OP_DONE, W_RELEASE_STRAY, NULL);
    int r = p ? held_array(q, &ids) : -ENOMEM;
    if (r == 0) {
        const char *params[] = {q->node, ids};
        p->cb.done = on_strays_released;
        r = op_stmt(p, TKL_PG_RELEASE_STRAY, 2, params);
    }
    free(ids);
    if (r < 0) {
        if (p)
            op_free(p);
        log_warning("postgresql: cannot release the leases of claims whose answer was lost (%s); "
                    "those notices are due again when their lease ends",
                    strerror(-r));
        return;
    }
    p->next = q->open;
    if (!q->open)
        q->open_tail = &p->next;
    q->open = p;
}

static void on_pg_state(void *data, bool connected)
{
    struct pgs *q = data;
    if (!connected || q->closed)
        return;
    if (!q->ready && !q->migrating) {
        start_migration(q);
    } else if (q->ready && q->st) {
        if (!q->pg_closed)
            release_strays(q);
        tkl_state_woken(q->st); /* what failed meanwhile is tried again */
    }
}

/* The first connection failed unreachable_after times in a row. */
static void on_pg_unreachable(void *data, const char *why)
{
    struct pgs *q = data;
    if (q->closed || q->ready || q->unreachable)
        return;
    q->unreachable = true;
    log_error("postgresql: %s: cannot connect, %u attempts failed: %s", tkl_pg_describe(q->pg),
              q->unreachable_after, why);
    if (q->on_ready)
        q->on_ready(q->data, -ECONNREFUSED);
}

static void on_pg_notify(void *data, const char *channel, const char *payload)
{
    struct pgs *q = data;
    if (strcmp(channel, TKL_PG_QUEUED_CHANNEL) == 0 && strcmp(payload, q->node) != 0 && q->st)
        tkl_state_woken(q->st);
    if (strcmp(channel, TKL_PG_UPDATED_CHANNEL) == 0 && strcmp(payload, q->node) != 0 && q->st)
        tkl_state_updated(q->st);
}

int tkl_state_pg_new(uv_loop_t *loop, const struct tkl_state_pg_options *opts,
                     struct tkl_state **ret)
{
    if (!loop || !opts || !opts->conninfo_file || !opts->node || !*opts->node ||
        opts->lease_seconds <= 0)
        return -EINVAL;
    struct pgs *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->loop = loop;
    q->lease_seconds = opts->lease_seconds;
    q->on_ready = opts->on_ready;
    q->on_index = opts->on_index;
    q->unreachable_after = opts->unreachable_after;
    q->data = opts->data;
    q->clock_ns = opts->clock_ns ? opts->clock_ns : boottime_ns;
    q->open_tail = &q->open;
    if (!(q->node = strdup(opts->node)) || !(q->conninfo_file = strdup(opts->conninfo_file))) {
        free(q->node);
        free(q);
        return -ENOMEM;
    }
    char refused[512];
    snprintf(refused, sizeof(refused),
             "another session holds the node name \"%s\" (state.node): another ticklerd with "
             "this name, which must be given a name of its own (two nodes of one name would "
             "send the same notices twice), or this node's own connection from before, which "
             "the database drops within about a minute; waiting until it is gone",
             q->node);
    struct tkl_pg_options po = {.conninfo_file = opts->conninfo_file,
                                .on_state = on_pg_state,
                                .unreachable_after = opts->unreachable_after,
                                .on_unreachable = on_pg_unreachable,
                                .on_notify = on_pg_notify,
                                .data = q,
                                .claim_sql = TKL_PG_NODE_CLAIM,
                                .claim_param = q->node,
                                .claim_refused = refused};
    int r = tkl_pg_new(loop, &po, &q->pg);
    if (r == 0 && (r = tkl_pg_listen(q->pg, TKL_PG_QUEUED_CHANNEL)) == 0 &&
        (r = tkl_pg_listen(q->pg, TKL_PG_UPDATED_CHANNEL)) == 0)
        r = tkl_state_new(&pg_ops, q, &q->st);
    if (r < 0) {
        tkl_pg_close(q->pg);
        free(q->conninfo_file);
        free(q->node);
        free(q);
        return r;
    }
    (void)uv_timer_init(loop, &q->renew); /* cannot fail */
    (void)uv_prepare_init(loop, &q->prepare);
    q->renew.data = q->prepare.data = q;
    q->handles = 2;
    (void)uv_prepare_start(&q->prepare, on_prepare);
    uv_unref((uv_handle_t *)&q->prepare); /* never keeps the loop alive nor wakes it */
    start_migration(q);
    *ret = q->st;
    return 0;
}
