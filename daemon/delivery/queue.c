#include "queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"
#include "../core/log.h"
#include "../route/route.h"

/* The reminders one round took from the scheduler. */
struct taken {
    struct tkl_due *v;
    size_t n, cap;
};

/* Pops every due reminder into t and routes it into b. Returns 0 or
 * -ENOMEM (what was popped is in t). */
static int take_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                    const struct tkl_team_dir *teams, const struct tkl_store *store, int64_t now,
                    struct taken *t, struct tkl_route_batch *b, struct tkl_queue_result *res)
{
    int32_t today = tkl_local_day(now);
    for (;;) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            struct tkl_due *v = realloc(t->v, cap * sizeof(*v));
            if (!v)
                return -ENOMEM;
            t->v = v;
            t->cap = cap;
        }
        struct tkl_due *due = &t->v[t->n];
        if (tkl_scheduler_pop_due(sched, sc, store, now, due) < 0)
            return 0;
        t->n++;
        size_t routed = 0;
        if (tkl_route_add(b, teams, sc->escalate_to, due, today, &routed) < 0)
            return -ENOMEM;
        if (!routed) {
            res->unrouted++;
            log_warning("team has no recipients; reminder not sent: %s; action=%s team=%s "
                        "stage=%s",
                        due->action->title, due->action->id, teams->teams[due->team].id,
                        due->r.key);
        }
    }
}

/* Commits the digests of b. Returns 0, or the first error: then the rest
 * are not tried (the round is put back whole, and each refusal can hold
 * the loop for the outbox's busy timeout). */
static int commit(const struct tkl_route_batch *b, struct tkl_outbox *outbox, int64_t batch_at,
                  int64_t now, struct tkl_queue_result *res)
{
    int err = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct tkl_digest *dg = &b->digests[i];
        struct tkl_notice n;
        const char *keys[dg->n + 1];
        tkl_route_notice(dg, &n);
        n.due_at = batch_at;
        for (size_t k = 0; k < dg->n; k++)
            keys[k] = dg->stage_keys[k];
        uint64_t id = 0;
        int r = tkl_outbox_put(outbox, &n, keys, now, &id);
        if (r < 0) {
            log_error("cannot commit a notice to the outbox: %s; channel=%s recipient=%s",
                      strerror(-r), n.channel, n.recipient);
            err = r;
            break;
        }
        if (id) {
            res->committed++;
            log_info("queued notice: %zu action(s); notice=%" PRIu64
                     " channel=%s team=%s recipient=%s",
                     n.n_entries, id, n.channel, n.team_id, n.recipient);
        }
    }
    return err;
}

int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  struct tkl_outbox *outbox, int64_t now, struct tkl_queue_result *ret)
{
    struct tkl_queue_result res = {0};
    struct tkl_route_batch batch = {0};
    struct taken t = {0};
    int64_t batch_at = INT64_MIN;
    int r = take_due(sched, sc, teams, store, now, &t, &batch, &res);
    if (r == 0) {
        for (size_t i = 0; i < t.n; i++)
            if (batch_at < t.v[i].at)
                batch_at = t.v[i].at;
        if (tkl_route_sort(&batch) < 0)
            log_error("out of memory ordering digests; they are sent unordered");
        r = commit(&batch, outbox, batch_at, now, &res);
    }
    if (r < 0) {
        /* the scheduler gets back what it gave; the log keeps what was
         * committed from being queued again */
        if (tkl_scheduler_restore(sched, store, t.v, t.n) < 0)
            log_error("out of memory putting %zu reminders back; they are lost", t.n);
        else
            res.restored = t.n;
    }
    tkl_route_batch_free(&batch);
    free(t.v);
    *ret = res;
    return r;
}
