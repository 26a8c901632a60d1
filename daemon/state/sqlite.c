/*
 * The SQLite backend of the state interface: the outbox of daemon/outbox,
 * grouped. Each operation runs its statements at once in the outbox's open
 * group and waits, with its results, until that group ends: committed
 * (tkl_outbox_sync, from tkl_state_commit or any other caller) or undone
 * (a failed commit, or a write that failed inside the group). The outbox's
 * sync listener moves the group's operations to the ended list, and
 * tkl_state_commit tells them, so no completion runs inside the call that
 * queued it. One node: the lease is the `sending` mark (node and expiry
 * ignored), and an outcome is never "not ours".
 */
#include <errno.h>
#include <stdlib.h>

#include "../outbox/updates.h"
#include "state.h"

/* Passes of tkl_state_commit before it leaves what completions keep
 * queueing to the next call (a completion that queues again at once each
 * time it is told would otherwise hold the loop). */
#define COMMIT_PASSES 64

enum op_kind {
    OP_DONE,
    OP_PUT,
    OP_VALUE,
    OP_CLAIM,
    OP_CHANNELS,
    OP_UPDATE,
    OP_UPDATES,
    OP_FAILURES
};

struct op {
    enum op_kind kind;
    union {
        tkl_state_done_cb done;
        tkl_state_put_cb put;
        tkl_state_value_cb value;
        tkl_state_claim_cb claim;
        tkl_state_channels_cb channels;
        tkl_state_update_cb update;
        tkl_state_updates_cb updates;
        tkl_state_failures_cb failures;
    } cb;
    void *data;
    int own; /* the operation's own answer (get_meta: -ENOENT) when its group commits */
    int r;   /* how its group ended */
    uint64_t id;
    int64_t value;
    struct tkl_stored_notice **notices; /* claim */
    char **channels;                    /* due_channels */
    size_t n;
    bool is_new;                  /* add_update */
    struct tkl_updates updates;   /* updates */
    struct tkl_failures failures; /* unreported */
    struct op *next;
};

struct sq {
    struct tkl_outbox *o;
    struct op *open, **open_tail;   /* their group has not ended */
    struct op *ended, **ended_tail; /* their group ended (r): to be told */
    bool committing;
    int write_error; /* how the last group of writes ended: 0, or its negative errno */
    void (*also)(void *data, int r);
    void *also_data;
};

static struct op *op_new(enum op_kind kind, void *data)
{
    struct op *p = calloc(1, sizeof(*p));
    if (p) {
        p->kind = kind;
        p->data = data;
    }
    return p;
}

static void op_queue(struct sq *q, struct op *p)
{
    *q->open_tail = p;
    q->open_tail = &p->next;
}

/* The operations waiting for their group: that group ended with r. */
static void end_open(struct sq *q, int r)
{
    for (struct op *p = q->open; p; p = p->next)
        p->r = r;
    if (!q->open)
        return;
    *q->ended_tail = q->open;
    q->ended_tail = q->open_tail;
    q->open = NULL;
    q->open_tail = &q->open;
}

static void on_sync(void *data, int r)
{
    struct sq *q = data;
    q->write_error = r < 0 ? r : 0;
    end_open(q, r);
    if (q->also)
        q->also(q->also_data, r);
}

static void free_results(struct op *p)
{
    for (size_t i = 0; p->notices && i < p->n; i++)
        tkl_stored_notice_free(p->notices[i]);
    for (size_t i = 0; p->channels && i < p->n; i++)
        free(p->channels[i]);
    tkl_updates_free(&p->updates);
    tkl_failures_free(&p->failures);
    free(p->notices);
    free(p->channels);
    p->notices = NULL;
    p->channels = NULL;
    p->n = 0;
}

/* Tells op p its end (r overriding its own answer when the group was
 * undone) and frees it. */
static void tell(struct op *p, int r)
{
    if (r == 0)
        r = p->own;
    if (r != 0)
        free_results(p);
    switch (p->kind) {
    case OP_DONE:
        p->cb.done(p->data, r);
        break;
    case OP_PUT:
        p->cb.put(p->data, r, r == 0 ? p->id : 0);
        break;
    case OP_VALUE:
        p->cb.value(p->data, r, r == 0 ? p->value : 0);
        break;
    case OP_CLAIM:
        p->cb.claim(p->data, r, p->notices, p->n);
        break;
    case OP_CHANNELS:
        p->cb.channels(p->data, r, p->channels, p->n);
        break;
    case OP_UPDATE:
        p->cb.update(p->data, r, r == 0 ? p->value : 0, r == 0 && p->is_new);
        break;
    case OP_UPDATES:
        p->cb.updates(p->data, r, &p->updates);
        tkl_updates_free(&p->updates);
        break;
    case OP_FAILURES:
        p->cb.failures(p->data, r, &p->failures);
        tkl_failures_free(&p->failures);
        break;
    }
    free(p);
}

/* Tells every ended operation, in the order they were queued. */
static void tell_ended(struct sq *q)
{
    struct op *p = q->ended;
    q->ended = NULL;
    q->ended_tail = &q->ended;
    while (p) {
        struct op *next = p->next;
        tell(p, p->r);
        p = next;
    }
}

static bool sq_busy(const void *impl)
{
    const struct sq *q = impl;
    return q->open || q->ended || tkl_outbox_dirty(q->o);
}

static int sq_commit(void *impl)
{
    struct sq *q = impl;
    int rc = 0;
    if (q->committing)
        return 0;
    q->committing = true;
    for (int pass = 0; pass < COMMIT_PASSES && sq_busy(q); pass++) {
        int r = tkl_outbox_sync(q->o); /* a group open: the listener ends its operations */
        if (r < 0)
            rc = r;
        end_open(q, r); /* queued while no group was open (reads, writes of nothing) */
        tell_ended(q);
    }
    q->committing = false;
    return rc;
}

/* Commits and tells until nothing is left: what completions queue, past
 * the passes of one commit too, is committed and told before the state
 * goes (never from inside a completion). */
static void sq_close(void *impl)
{
    struct sq *q = impl;
    while (!q->committing && sq_busy(q))
        (void)sq_commit(q);
    tkl_outbox_on_sync(q->o, NULL, NULL);
    free(q);
}

/* Queues p with the result r of its statements run at once: 0 queued, or
 * r < 0 (p freed, with its results). */
static int finish(struct sq *q, struct op *p, int r)
{
    if (r < 0) {
        free_results(p);
        free(p);
        return r;
    }
    op_queue(q, p);
    return 0;
}

static int sq_put(void *impl, const struct tkl_notice *n, const char *const *stage_keys,
                  int64_t now, tkl_state_put_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_PUT, data);
    if (!p)
        return -ENOMEM;
    p->cb.put = cb;
    return finish(q, p, tkl_outbox_put(q->o, n, stage_keys, now, &p->id));
}

static int sq_due_channels(void *impl, int64_t now, tkl_state_channels_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_CHANNELS, data);
    if (!p)
        return -ENOMEM;
    p->cb.channels = cb;
    return finish(q, p, tkl_outbox_due_channels(q->o, now, &p->channels, &p->n));
}

static int sq_claim(void *impl, const char *channel, int64_t now, size_t max,
                    const struct tkl_state_lease *lease, tkl_state_claim_cb cb, void *data)
{
    struct sq *q = impl;
    (void)lease; /* the `sending` mark: no node, no expiry */
    struct op *p = op_new(OP_CLAIM, data);
    if (!p)
        return -ENOMEM;
    p->cb.claim = cb;
    int r = tkl_outbox_due_batch(q->o, channel, now, max, &p->notices, &p->n);
    for (size_t i = 0; r == 0 && i < p->n; i++)
        r = tkl_outbox_mark_sending(q->o, p->notices[i]->notice.id);
    return finish(q, p, r); /* a refused mark undid the group, the marks before it too */
}

static int sq_outcome(void *impl, uint64_t id, enum tkl_state_outcome what, int64_t at,
                      const char *reply, const char *node, tkl_state_done_cb cb, void *data)
{
    struct sq *q = impl;
    (void)node; /* one node: the outcome is always ours */
    struct op *p = op_new(OP_DONE, data);
    int r = -EINVAL;
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    switch (what) {
    case TKL_STATE_DELIVERED:
        r = tkl_outbox_mark_delivered(q->o, id, at, reply);
        break;
    case TKL_STATE_RETRY:
        r = tkl_outbox_mark_retry(q->o, id, at, reply);
        break;
    case TKL_STATE_FAILED:
        r = tkl_outbox_mark_failed(q->o, id, at, reply);
        break;
    case TKL_STATE_RELEASE:
        r = tkl_outbox_release(q->o, id);
        break;
    case TKL_STATE_WITHDRAWN:
        r = tkl_outbox_mark_withdrawn(q->o, id, at, reply);
        break;
    case TKL_STATE_WAIT:
        r = tkl_outbox_mark_wait(q->o, id, at, reply);
        break;
    }
    return finish(q, p, r);
}

/* A completion told at the next commit, with nothing written. */
static int queue_done(struct sq *q, tkl_state_done_cb cb, void *data)
{
    struct op *p = op_new(OP_DONE, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    return finish(q, p, 0);
}

static int sq_renew(void *impl, const uint64_t *ids, size_t n, const struct tkl_state_lease *lease,
                    int64_t now, tkl_state_done_cb cb, void *data)
{
    (void)ids, (void)n, (void)lease, (void)now; /* a `sending` mark does not expire */
    return queue_done(impl, cb, data);
}

static int sq_sync(void *impl, tkl_state_done_cb cb, void *data)
{
    return queue_done(impl, cb, data);
}

static int sq_recover(void *impl, const char *node, int64_t now, tkl_state_value_cb cb, void *data)
{
    struct sq *q = impl;
    (void)node; /* one node: every mark is this node's */
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, tkl_outbox_recover(q->o, now, &p->value));
}

static int sq_hasten(void *impl, const char *channel, int64_t now, const uint64_t *keep,
                     size_t n_keep, tkl_state_value_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, tkl_outbox_hasten(q->o, channel, now, keep, n_keep, &p->value));
}

static int sq_unreported(void *impl, const struct tkl_report_to *to, size_t n_to, size_t max,
                         tkl_state_failures_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_FAILURES, data);
    if (!p)
        return -ENOMEM;
    p->cb.failures = cb;
    return finish(q, p, tkl_outbox_unreported(q->o, to, n_to, max, &p->failures));
}

static int sq_put_report(void *impl, const struct tkl_notice *const *reports, size_t n_reports,
                         const char *const *keys, size_t n_keys, int64_t now, tkl_state_put_cb cb,
                         void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_PUT, data);
    if (!p)
        return -ENOMEM;
    p->cb.put = cb;
    int r = tkl_outbox_put_report(q->o, reports, n_reports, keys, n_keys, now, &p->id);
    if (r == -EEXIST) /* nothing written: told as its own answer */
        p->own = r, r = 0;
    return finish(q, p, r);
}

static int sq_next_attempt(void *impl, tkl_state_value_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, tkl_outbox_next_attempt(q->o, &p->value));
}

static int sq_get_meta(void *impl, const char *key, tkl_state_value_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    int r = tkl_outbox_get_meta(q->o, key, &p->value);
    if (r == -ENOENT)
        p->own = r, r = 0;
    return finish(q, p, r);
}

static int sq_set_meta(void *impl, const char *key, int64_t value, tkl_state_done_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_DONE, data);
    if (!p)
        return -ENOMEM;
    p->cb.done = cb;
    return finish(q, p, tkl_outbox_set_meta(q->o, key, value));
}

/* ---- officers' updates (outbox/updates.h) ---- */

static int sq_add_update(void *impl, const struct tkl_update *u, tkl_state_update_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_UPDATE, data);
    if (!p)
        return -ENOMEM;
    p->cb.update = cb;
    return finish(q, p, tkl_outbox_add_update(q->o, u, &p->value, &p->is_new));
}

static int sq_updates(void *impl, const char *action_id, int64_t since, int64_t until,
                      tkl_state_updates_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_UPDATES, data);
    if (!p)
        return -ENOMEM;
    p->cb.updates = cb;
    return finish(q, p, tkl_outbox_updates(q->o, action_id, since, until, &p->updates));
}

static int sq_link_updates(void *impl, const struct tkl_update *u, tkl_state_value_cb cb,
                           void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, tkl_outbox_link_updates(q->o, u, &p->value));
}

static int sq_updates_version(void *impl, tkl_state_value_cb cb, void *data)
{
    struct sq *q = impl;
    struct op *p = op_new(OP_VALUE, data);
    if (!p)
        return -ENOMEM;
    p->cb.value = cb;
    return finish(q, p, tkl_outbox_updates_version(q->o, &p->value));
}

/* How the last group of writes ended: a full disk, a file made read-only
 * or an I/O error shows here until a group commits again (a probe that
 * writes nothing would not see it). */
static int sq_health(const void *impl)
{
    return ((const struct sq *)impl)->write_error;
}

static const char *sq_where(const void *impl)
{
    return tkl_outbox_file(((const struct sq *)impl)->o);
}

static const struct tkl_state_ops sqlite_ops = {
    .name = "sqlite",
    .put = sq_put,
    .due_channels = sq_due_channels,
    .claim = sq_claim,
    .outcome = sq_outcome,
    .renew = sq_renew,
    .recover = sq_recover,
    .hasten = sq_hasten,
    .next_attempt = sq_next_attempt,
    .unreported = sq_unreported,
    .put_report = sq_put_report,
    .get_meta = sq_get_meta,
    .set_meta = sq_set_meta,
    .sync = sq_sync,
    .add_update = sq_add_update,
    .updates = sq_updates,
    .link_updates = sq_link_updates,
    .updates_version = sq_updates_version,
    .commit = sq_commit,
    .busy = sq_busy,
    .close = sq_close,
    .health = sq_health,
    .where = sq_where,
};

int tkl_state_sqlite_new(struct tkl_outbox *o, void (*also)(void *data, int r), void *data,
                         struct tkl_state **ret)
{
    struct sq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    *q = (struct sq){.o = o, .also = also, .also_data = data};
    q->open_tail = &q->open;
    q->ended_tail = &q->ended;
    int r = tkl_state_new(&sqlite_ops, q, ret);
    if (r < 0) {
        free(q);
        return r;
    }
    tkl_outbox_set_grouped(o, true);
    tkl_outbox_on_sync(o, on_sync, q);
    return 0;
}
