#include "scheduler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"

static bool less(const struct tkl_sched_entry *a, const struct tkl_sched_entry *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    if (a->action != b->action)
        return a->action < b->action;
    return a->team < b->team;
}

static void sift_down(struct tkl_sched_entry *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && less(&h[l], &h[m]))
            m = l;
        if (r < n && less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct tkl_sched_entry t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heapify(struct tkl_sched_entry *h, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(h, n, i);
}

static int reserve(struct tkl_scheduler *s, size_t need)
{
    if (s->heap && need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    struct tkl_sched_entry *p = realloc(s->heap, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    s->heap = p;
    s->cap = cap;
    return 0;
}

/* Team index of id in teams, or -1. */
static long team_index(const struct tkl_team_dir *teams, const char *id)
{
    for (size_t i = 0; i < teams->n; i++)
        if (strcmp(teams->teams[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* The first reminder on or after from_day, as an entry. */
static int next_entry(const struct tkl_schedule_conf *sc, const struct tkl_action *a, size_t team,
                      int32_t from_day, struct tkl_sched_entry *ret)
{
    struct tkl_reminder r;
    int rc = a->deadline.kind == TKL_DEADLINE_EVENT
                 ? tkl_next_prompt(&sc->policy, a->deadline.day, a->deadline.last_day, from_day, &r)
                 : tkl_next_reminder(&sc->policy, tkl_schedule_team_rules(sc, team),
                                     a->deadline.kind, a->deadline.day, from_day, &r);
    if (rc < 0)
        return rc;
    ret->r = r;
    ret->at = tkl_local_instant(r.day, sc->policy.send_minute);
    ret->team = (uint32_t)team;
    return 0;
}

/* Pushes the entries of one action: for each team, the latest reminder in
 * (missed_after, now] if any, else the first one after now. */
static int schedule_action(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                           const struct tkl_team_dir *teams, const struct tkl_store *store,
                           size_t ai, int64_t missed_after, int64_t now)
{
    const struct tkl_action *a = &store->actions[ai];
    if (!tkl_action_active(a))
        return 0;
    int32_t from = missed_after < now ? tkl_local_day(missed_after) : tkl_local_day(now);
    for (size_t t = 0; t < a->n_teams; t++) {
        long ti = team_index(teams, a->teams[t]);
        if (ti < 0)
            continue;
        struct tkl_sched_entry e, best;
        bool have_best = false;
        int32_t day = from;
        for (;;) {
            if (next_entry(sc, a, (size_t)ti, day, &e) < 0)
                break;
            if (e.at >= now) /* due now is not missed: it is next */
                break;
            if (e.at > missed_after) {
                best = e;
                have_best = true;
            }
            day = e.r.day + 1;
        }
        if (!have_best) {
            if (next_entry(sc, a, (size_t)ti, day, &e) < 0)
                continue;
            best = e;
        }
        best.action = (uint32_t)ai;
        if (reserve(s, s->n + 1) < 0)
            return -ENOMEM;
        s->heap[s->n++] = best;
    }
    return 0;
}

int tkl_scheduler_build(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                        const struct tkl_team_dir *teams, const struct tkl_store *store,
                        int64_t missed_after, int64_t now)
{
    s->n = 0;
    for (size_t i = 0; i < store->n; i++)
        if (schedule_action(s, sc, teams, store, i, missed_after, now) < 0) {
            s->n = 0;
            return -ENOMEM;
        }
    heapify(s->heap, s->n);
    return 0;
}

int tkl_scheduler_reload(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                         const struct tkl_team_dir *teams, const struct tkl_store *old_store,
                         const struct tkl_store *new_store, int64_t now, size_t *ret_changed)
{
    struct tkl_scheduler next = {0};
    bool *kept = calloc(new_store->n + 1, sizeof(*kept));
    size_t changed = 0;
    if (!kept)
        return -ENOMEM;
    if (reserve(&next, s->n + 1) < 0)
        goto oom;
    for (size_t i = 0; i < s->n; i++) {
        const struct tkl_action *old = &old_store->actions[s->heap[i].action];
        const struct tkl_action *cur = tkl_store_find(new_store, old->id);
        if (!cur || cur->hash != old->hash)
            continue;
        struct tkl_sched_entry e = s->heap[i];
        e.action = (uint32_t)(cur - new_store->actions);
        kept[e.action] = true;
        next.heap[next.n++] = e;
    }
    for (size_t i = 0; i < new_store->n; i++) {
        if (kept[i])
            continue;
        const struct tkl_action *a = &new_store->actions[i];
        const struct tkl_action *old = tkl_store_find(old_store, a->id);
        /* an unchanged action with no pending entry (complete, or no
         * reminders left) stays as it was */
        if (old && old->hash == a->hash)
            continue;
        changed++;
        if (schedule_action(&next, sc, teams, new_store, i, now, now) < 0)
            goto oom;
    }
    for (size_t i = 0; i < old_store->n; i++)
        if (!tkl_store_find(new_store, old_store->actions[i].id))
            changed++;
    heapify(next.heap, next.n);
    free(kept);
    tkl_scheduler_free(s);
    *s = next;
    if (ret_changed)
        *ret_changed = changed;
    return 0;
oom:
    free(kept);
    tkl_scheduler_free(&next);
    return -ENOMEM;
}

int64_t tkl_scheduler_next_at(const struct tkl_scheduler *s)
{
    return s->n ? s->heap[0].at : INT64_MAX;
}

int tkl_scheduler_pop_due(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                          const struct tkl_store *store, int64_t now, struct tkl_due *ret)
{
    if (!s->n || s->heap[0].at > now)
        return -ENOENT;
    struct tkl_sched_entry top = s->heap[0];
    const struct tkl_action *a = &store->actions[top.action];
    *ret = (struct tkl_due){
        .action = a,
        .team = top.team,
        .r = top.r,
        .at = top.at,
        .late = top.r.day < tkl_local_day(now),
    };
    struct tkl_sched_entry e;
    if (next_entry(sc, a, top.team, top.r.day + 1, &e) == 0) {
        e.action = top.action;
        s->heap[0] = e;
        sift_down(s->heap, s->n, 0);
    } else {
        s->heap[0] = s->heap[--s->n];
        sift_down(s->heap, s->n, 0);
    }
    return 0;
}

int tkl_scheduler_restore(struct tkl_scheduler *s, const struct tkl_store *store,
                          const struct tkl_due *due, size_t n)
{
    /* popping never grows the heap, so it still has room for everything
     * it held before; the check only guards a caller that broke the rule */
    for (size_t i = 0; i < n; i++) {
        struct tkl_sched_entry e = {
            .at = due[i].at,
            .action = (uint32_t)(due[i].action - store->actions),
            .team = (uint32_t)due[i].team,
            .r = due[i].r,
        };
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = due[k].action != due[i].action || due[k].team != due[i].team;
        if (!first)
            continue;
        size_t j = 0;
        while (j < s->n && (s->heap[j].action != e.action || s->heap[j].team != e.team))
            j++;
        if (j == s->n && reserve(s, s->n + 1) < 0) {
            heapify(s->heap, s->n);
            return -ENOMEM;
        }
        s->heap[j] = e;
        if (j == s->n)
            s->n++;
    }
    heapify(s->heap, s->n);
    return 0;
}

void tkl_scheduler_free(struct tkl_scheduler *s)
{
    free(s->heap);
    memset(s, 0, sizeof(*s));
}
