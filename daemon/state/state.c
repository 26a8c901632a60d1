#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tkl_state {
    const struct tkl_state_ops *ops;
    void *impl;
    void (*wake)(void *data);
    void *wake_data;
    void (*updated)(void *data);
    void *updated_data;
};

int tkl_state_new(const struct tkl_state_ops *ops, void *impl, struct tkl_state **ret)
{
    struct tkl_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->ops = ops;
    st->impl = impl;
    *ret = st;
    return 0;
}

void tkl_state_close(struct tkl_state *st)
{
    if (!st)
        return;
    st->ops->close(st->impl);
    free(st);
}

const char *tkl_state_backend(const struct tkl_state *st)
{
    return st->ops->name;
}

const char *tkl_state_where(const struct tkl_state *st)
{
    return st->ops->where ? st->ops->where(st->impl) : NULL;
}

const char *tkl_state_failure(const struct tkl_state *st, int r, char *buf, size_t size)
{
    const char *where = tkl_state_where(st);
    if (r == -ENOSPC)
        snprintf(buf, size, "the disk holding %s, or SQLite's temporary files, is full (%s)",
                 where ? where : "the state", strerror(-r));
    else if (r == -EDQUOT)
        snprintf(buf, size,
                 "the disk quota of the user running ticklerd is exceeded on the disk holding "
                 "%s, or SQLite's temporary files (%s)",
                 where ? where : "the state", strerror(-r));
    else
        snprintf(buf, size, "%s", strerror(-r));
    return buf;
}

int tkl_state_put(struct tkl_state *st, const struct tkl_notice *n, const char *const *stage_keys,
                  int64_t now, tkl_state_put_cb cb, void *data)
{
    return st->ops->put(st->impl, n, stage_keys, now, cb, data);
}

int tkl_state_due_channels(struct tkl_state *st, int64_t now, tkl_state_channels_cb cb, void *data)
{
    return st->ops->due_channels(st->impl, now, cb, data);
}

int tkl_state_claim(struct tkl_state *st, const char *channel, int64_t now, size_t max,
                    const struct tkl_state_lease *lease, tkl_state_claim_cb cb, void *data)
{
    return st->ops->claim(st->impl, channel, now, max, lease, cb, data);
}

int tkl_state_outcome(struct tkl_state *st, uint64_t id, enum tkl_state_outcome what, int64_t at,
                      const char *reply, const char *node, tkl_state_done_cb cb, void *data)
{
    return st->ops->outcome(st->impl, id, what, at, reply, node, cb, data);
}

int tkl_state_renew(struct tkl_state *st, const uint64_t *ids, size_t n,
                    const struct tkl_state_lease *lease, int64_t now, tkl_state_done_cb cb,
                    void *data)
{
    return st->ops->renew(st->impl, ids, n, lease, now, cb, data);
}

bool tkl_state_lease_fresh(const struct tkl_state *st, uint64_t id)
{
    return !st->ops->lease_fresh || st->ops->lease_fresh(st->impl, id);
}

int tkl_state_recover(struct tkl_state *st, const char *node, int64_t now, tkl_state_value_cb cb,
                      void *data)
{
    return st->ops->recover(st->impl, node, now, cb, data);
}

int tkl_state_hasten(struct tkl_state *st, const char *channel, int64_t now, const uint64_t *keep,
                     size_t n_keep, tkl_state_value_cb cb, void *data)
{
    return st->ops->hasten(st->impl, channel, now, keep, n_keep, cb, data);
}

int tkl_state_unreported(struct tkl_state *st, const struct tkl_report_to *to, size_t n_to,
                         size_t max, tkl_state_failures_cb cb, void *data)
{
    return st->ops->unreported(st->impl, to, n_to, max, cb, data);
}

int tkl_state_put_report(struct tkl_state *st, const struct tkl_notice *const *reports,
                         size_t n_reports, const char *const *keys, size_t n_keys, int64_t now,
                         tkl_state_put_cb cb, void *data)
{
    return st->ops->put_report(st->impl, reports, n_reports, keys, n_keys, now, cb, data);
}

int tkl_state_next_attempt(struct tkl_state *st, tkl_state_value_cb cb, void *data)
{
    return st->ops->next_attempt(st->impl, cb, data);
}

int tkl_state_get_meta(struct tkl_state *st, const char *key, tkl_state_value_cb cb, void *data)
{
    return st->ops->get_meta(st->impl, key, cb, data);
}

int tkl_state_set_meta(struct tkl_state *st, const char *key, int64_t value, tkl_state_done_cb cb,
                       void *data)
{
    return st->ops->set_meta(st->impl, key, value, cb, data);
}

int tkl_state_sync(struct tkl_state *st, tkl_state_done_cb cb, void *data)
{
    return st->ops->sync(st->impl, cb, data);
}

int tkl_state_commit(struct tkl_state *st)
{
    return st->ops->commit(st->impl);
}

bool tkl_state_busy(const struct tkl_state *st)
{
    return st->ops->busy(st->impl);
}

void tkl_state_drain(struct tkl_state *st)
{
    if (st && st->ops->drain)
        st->ops->drain(st->impl);
}

void tkl_state_on_wake(struct tkl_state *st, void (*fn)(void *data), void *data)
{
    st->wake = fn;
    st->wake_data = data;
}

void tkl_state_woken(struct tkl_state *st)
{
    if (st->wake)
        st->wake(st->wake_data);
}

/* ---- officers' updates ---- */

int tkl_state_add_update(struct tkl_state *st, const struct tkl_update *u, tkl_state_update_cb cb,
                         void *data)
{
    return st->ops->add_update(st->impl, u, cb, data);
}

int tkl_state_updates(struct tkl_state *st, const char *action_id, int64_t since, int64_t until,
                      tkl_state_updates_cb cb, void *data)
{
    return st->ops->updates(st->impl, action_id, since, until, cb, data);
}

int tkl_state_link_updates(struct tkl_state *st, const struct tkl_update *u, tkl_state_value_cb cb,
                           void *data)
{
    return st->ops->link_updates(st->impl, u, cb, data);
}

int tkl_state_updates_version(struct tkl_state *st, tkl_state_value_cb cb, void *data)
{
    return st->ops->updates_version(st->impl, cb, data);
}

void tkl_state_on_updated(struct tkl_state *st, void (*fn)(void *data), void *data)
{
    st->updated = fn;
    st->updated_data = data;
}

void tkl_state_updated(struct tkl_state *st)
{
    if (st->updated)
        st->updated(st->updated_data);
}

int tkl_state_view(struct tkl_state *st, int64_t day_start, int64_t now, size_t max,
                   tkl_state_view_cb cb, void *data)
{
    if (!st->ops->view)
        return -ENOTSUP;
    return st->ops->view(st->impl, day_start, now, max, cb, data);
}

int tkl_state_item_notices(struct tkl_state *st, const char *item_id, size_t max, int64_t now,
                           tkl_state_notices_cb cb, void *data)
{
    if (!st->ops->item_notices)
        return -ENOTSUP;
    return st->ops->item_notices(st->impl, item_id, max, now, cb, data);
}

int tkl_state_health(const struct tkl_state *st)
{
    return st->ops->health ? st->ops->health(st->impl) : 0;
}

void tkl_state_view_free(struct tkl_state_view *v)
{
    if (!v)
        return;
    tkl_notice_rows_free(&v->rows);
    free(v);
}
