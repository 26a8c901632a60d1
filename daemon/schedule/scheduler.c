#include "scheduler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"
#include "../core/mem.h"

_Static_assert(sizeof(struct tkl_sched_entry) == 20, "an entry is 20 bytes (scheduler.h)");

/* How many reminders tkl_scheduler_first_escalation looks through: more
 * than a ladder's lead reminders, four weeks of weekly nags and a year of
 * monthly ones. */
#define FIRST_ESCALATION_LOOK 128

/* Entries in order of day, then action, then team: a total order, so the
 * order of pops does not depend on the heap's shape. */
static bool less(const struct tkl_sched_entry *a, const struct tkl_sched_entry *b)
{
    uint64_t ka = (uint64_t)((uint32_t)a->r.day ^ 0x80000000u) << 32 | a->action;
    uint64_t kb = (uint64_t)((uint32_t)b->r.day ^ 0x80000000u) << 32 | b->action;
    if (ka != kb)
        return ka < kb;
    return a->team < b->team;
}

/*
 * The heap is 4-ary: entry i's children are 4i + 1 to 4i + 4, so a path
 * from the top to a leaf is half as long as a binary heap's, and the
 * children compared at each step lie side by side in memory. At a million
 * entries the heap is far larger than the caches, and each level down
 * costs a memory access.
 */
#define ARITY 4

static size_t parent(size_t i)
{
    return (i - 1) / ARITY;
}

/*
 * Puts e in slot i of heap h of n entries, whose subtrees below i are
 * heaps. The hole at i goes down along the least children to a leaf, then
 * e rises from there: a reminder's next one mostly belongs near the
 * leaves, so it rarely rises far.
 */
static void place_down(struct tkl_sched_entry *h, size_t n, size_t i, struct tkl_sched_entry e)
{
    size_t top = i;
    for (size_t c; (c = ARITY * i + 1) < n;) {
        size_t end = n - c > ARITY ? c + ARITY : n, m = c;
        for (size_t k = c + 1; k < end; k++)
            if (less(&h[k], &h[m]))
                m = k;
        h[i] = h[m];
        i = m;
    }
    while (i > top && less(&e, &h[parent(i)])) {
        h[i] = h[parent(i)];
        i = parent(i);
    }
    h[i] = e;
}

static void sift_up(struct tkl_sched_entry *h, size_t i)
{
    struct tkl_sched_entry e = h[i];
    while (i > 0 && less(&e, &h[parent(i)])) {
        h[i] = h[parent(i)];
        i = parent(i);
    }
    h[i] = e;
}

static void heapify(struct tkl_sched_entry *h, size_t n)
{
    /* from the last entry with a child, (n - 2) / ARITY, up */
    for (size_t i = (n + ARITY - 2) / ARITY; i-- > 0;)
        place_down(h, n, i, h[i]);
}

static int reserve(struct tkl_scheduler *s, size_t need)
{
    if (s->heap && need <= s->cap)
        return 0;
    /* the first room is what was asked: a build asks for all it needs */
    size_t cap = s->cap ? s->cap : need > 64 ? need : 64;
    while (cap < need)
        cap *= 2;
    struct tkl_sched_entry *p = realloc(s->heap, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    if (!s->cap) /* a build's room, filled whole; grown room is not */
        tkl_mem_prefault(p, cap * sizeof(*p));
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

/* The first reminder of action a for team index team whose own day is on
 * or after from_day, before any weekly digest moves it. */
static int base_reminder(const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                         size_t team, int32_t from_day, struct tkl_reminder *ret)
{
    if (a->deadline.kind == TKL_DEADLINE_EVENT) /* an observance's file is its source */
        return tkl_next_prompt(&sc->policy, tkl_schedule_prompts(sc, a->file), a->deadline.day,
                               a->deadline.last_day, from_day, ret);
    return tkl_next_reminder_unkeyed(&sc->policy, tkl_schedule_team_rules(sc, team),
                                     a->deadline.kind, a->deadline.day, from_day, ret);
}

/* The day a weekly digest on weekday wd goes in the week that starts on
 * monday: that weekday, or the next working day when it is not one. */
static int32_t digest_in_week(const struct tkl_policy *p, int wd, int32_t monday)
{
    return tkl_working_day_on_or_after(&p->holidays, monday + wd);
}

/*
 * The digest day a reminder r goes on for a weekly team: a reminder that
 * comes before a date (lead, due, prompt, look-ahead) goes on the latest
 * digest day on or before its day, so it is never later than it was;
 * one that comes after (overdue, check-in) goes on the earliest digest
 * day on or after its day.
 */
static int32_t digest_day(const struct tkl_policy *p, int wd, const struct tkl_reminder *r)
{
    int32_t monday = r->day - tkl_day_weekday(r->day);
    bool before = r->stage != TKL_STAGE_OVERDUE && r->stage != TKL_STAGE_CHECKIN;
    if (before) {
        /* a digest day that is a holiday moves forward, maybe past r */
        int32_t d;
        while ((d = digest_in_week(p, wd, monday)) > r->day)
            monday -= 7;
        return d;
    }
    int32_t d;
    monday -= 7; /* last week's digest day may have moved into this week */
    while ((d = digest_in_week(p, wd, monday)) < r->day)
        monday += 7;
    return d;
}

/*
 * The first reminder of a for team whose send day is on or after from_day.
 * For a team with a weekly digest, each reminder moves to its digest day
 * (digest_day) and of the reminders that land on one digest day only the
 * last, the most urgent, is kept, with that day as its own. Days and keys
 * depend on the deadline, the rules and the holidays only, as
 * tkl_next_reminder's do.
 */
static int next_reminder(const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                         size_t team, int32_t from_day, struct tkl_reminder *ret)
{
    const struct tkl_rules *rules = tkl_schedule_team_rules(sc, team);
    if (!rules->weekly)
        return base_reminder(sc, a, team, from_day, ret);
    /* a digest day is less than two weeks from the day it stands for */
    struct tkl_reminder r, best;
    int32_t day = from_day - 14, digest = TKL_NO_DAY;
    while (base_reminder(sc, a, team, day, &r) == 0) {
        int32_t d = digest_day(&sc->policy, rules->weekday, &r);
        if (digest != TKL_NO_DAY && d != digest)
            break;
        if (d >= from_day) {
            digest = d;
            best = r;
        }
        day = r.day + 1;
    }
    if (digest == TKL_NO_DAY)
        return -ENOENT;
    best.day = digest;
    *ret = best;
    return 0;
}

static int64_t send_at(const struct tkl_schedule_conf *sc, int32_t day)
{
    return tkl_local_instant(day, sc->policy.send_minute);
}

static struct tkl_sched_entry entry_of(const struct tkl_reminder *r, size_t action, size_t team)
{
    struct tkl_sched_entry e = {.action = (uint32_t)action, .team = (uint32_t)team};
    tkl_reminder_pack(r, &e.r);
    return e;
}

/* The local day of now, asked again for each of many pops. */
static int32_t today(struct tkl_scheduler *s, int64_t now)
{
    if (!s->today_set || s->today_of != now) {
        s->today = tkl_local_day(now);
        s->today_of = now;
        s->today_set = true;
    }
    return s->today;
}

int64_t tkl_scheduler_entry_at(struct tkl_scheduler *s, const struct tkl_sched_entry *e)
{
    if (!s->memo_set || s->memo_day != e->r.day) {
        s->memo_at = tkl_local_instant(e->r.day, s->send_minute);
        s->memo_day = e->r.day;
        s->memo_set = true;
    }
    return s->memo_at;
}

/*
 * The reminder a schedule starting at first_day would pass over, though
 * its day has not gone by when the schedule is made on day today (a new
 * action, a new deadline, a first start); it goes on the first working
 * day on or after first_day instead:
 * - for a team with a weekly digest, the reminder that comes before a
 *   date whose digest day is before first_day while its own day is not
 *   (its next digest day may be after the deadline); that working day is
 *   not after its own day;
 * - for any other team, the reminder of today whose send time had passed
 *   (unless the next reminder is due on that working day anyway, and
 *   stands for both, as two stages on one day do).
 * Returns 0 with *ret, or -ENOENT.
 */
static int passed_over(const struct tkl_schedule_conf *sc, const struct tkl_action *a, size_t team,
                       int32_t first_day, int32_t today, struct tkl_reminder *ret)
{
    const struct tkl_rules *rules = tkl_schedule_team_rules(sc, team);
    struct tkl_reminder r, best;
    int32_t digest = TKL_NO_DAY, day = first_day;
    if (!rules->weekly) {
        int32_t to = tkl_working_day_on_or_after(&sc->policy.holidays, first_day);
        if (today >= first_day || base_reminder(sc, a, team, today, &r) < 0 || r.day >= first_day ||
            (base_reminder(sc, a, team, first_day, &best) == 0 && best.day == to))
            return -ENOENT;
        r.day = to;
        *ret = r;
        return 0;
    }
    /* the group of the first reminder from first_day on, when its digest
     * day has passed: its last member stands for it */
    while (base_reminder(sc, a, team, day, &r) == 0) {
        int32_t d = digest_day(&sc->policy, rules->weekday, &r);
        if (d >= first_day || (digest != TKL_NO_DAY && d != digest))
            break;
        digest = d;
        best = r;
        day = r.day + 1;
    }
    if (digest == TKL_NO_DAY)
        return -ENOENT;
    best.day = tkl_working_day_on_or_after(&sc->policy.holidays, first_day);
    *ret = best;
    return 0;
}

/* The days a schedule built at now, catching up after missed_after,
 * counts from. Send instants grow with days, so the tests on instants
 * are tests on days, made once for every action. */
struct window {
    int32_t today;  /* the day the schedule is made on */
    int32_t day;    /* the first day looked at */
    int32_t first;  /* the first day whose send time counts */
    int32_t missed; /* the first day whose send time is after missed_after */
    int32_t now;    /* the first day whose send time is at or after now */
    int64_t at;     /* now */
};

/* The first day whose send time is at or after t. */
static int32_t first_day_from(const struct tkl_schedule_conf *sc, int64_t t)
{
    int32_t day = tkl_local_day(t);
    if (day == TKL_NO_DAY) /* before or after every day */
        return t < 0 ? INT32_MIN : INT32_MAX;
    return send_at(sc, day) >= t ? day : day + 1;
}

static struct window window_of(const struct tkl_schedule_conf *sc, int64_t missed_after,
                               int64_t now)
{
    int32_t day = missed_after < now ? tkl_local_day(missed_after) : tkl_local_day(now);
    /* the first send time that counts: after missed_after, or now */
    int64_t lo = missed_after < now ? missed_after + 1 : now;
    return (struct window){
        .today = tkl_local_day(now),
        .day = day,
        .first = send_at(sc, day) >= lo ? day : day + 1,
        .missed = missed_after < INT64_MAX ? first_day_from(sc, missed_after + 1) : INT32_MAX,
        .now = first_day_from(sc, now),
        .at = now,
    };
}

/* The reminder of a for team index team: the latest one in
 * (missed_after, now] of w if any, else the first one after now. Returns
 * 0 or -ENOENT (none left). */
static int first_reminder(const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                          size_t team, const struct window *w, struct tkl_reminder *ret)
{
    int32_t day = w->day;
    struct tkl_reminder e, best;
    bool have_best = false;
    int rc = passed_over(sc, a, team, w->first, w->today, &e);
    if (rc < 0)
        rc = next_reminder(sc, a, team, day, &e);
    for (; rc == 0; rc = next_reminder(sc, a, team, day, &e)) {
        if (e.day >= w->now) {
            /* due now is not missed: it is next; due at this very instant,
             * it stands for a missed one, which would go in the same round
             * (one reminder an action and team a round, the later) */
            if (send_at(sc, e.day) <= w->at)
                have_best = false;
            break;
        }
        if (e.day >= w->missed) {
            best = e;
            have_best = true;
        }
        day = e.day + 1;
    }
    if (!have_best && rc < 0)
        return -ENOENT;
    *ret = have_best ? best : e;
    return 0;
}

/* Pushes the entries of one action, one for each of its teams. */
static int schedule_action(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                           const struct tkl_team_dir *teams, const struct tkl_store *store,
                           size_t ai, const struct window *w)
{
    const struct tkl_action *a = &store->actions[ai];
    if (!tkl_action_active(a))
        return 0;
    for (size_t t = 0; t < a->n_teams; t++) {
        long ti = team_index(teams, a->teams[t]);
        struct tkl_reminder r;
        if (ti < 0 || first_reminder(sc, a, (size_t)ti, w, &r) < 0)
            continue;
        if (reserve(s, s->n + 1) < 0)
            return -ENOMEM;
        s->heap[s->n++] = entry_of(&r, ai, (size_t)ti);
    }
    return 0;
}

int tkl_scheduler_build(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                        const struct tkl_team_dir *teams, const struct tkl_store *store,
                        int64_t missed_after, int64_t now)
{
    s->n = 0;
    s->send_minute = sc->policy.send_minute;
    s->memo_set = s->today_set = false;
    /* room for an entry per (action, team) at once, not doubled to it */
    size_t pairs = 0;
    for (size_t i = 0; i < store->n; i++)
        pairs += tkl_action_active(&store->actions[i]) ? store->actions[i].n_teams : 0;
    if (pairs && reserve(s, pairs) < 0)
        return -ENOMEM;
    struct window w = window_of(sc, missed_after, now);
    for (size_t i = 0; i < store->n; i++)
        if (schedule_action(s, sc, teams, store, i, &w) < 0) {
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
    struct tkl_scheduler next = {.send_minute = sc->policy.send_minute};
    struct window w = window_of(sc, now, now);
    bool *kept = calloc(new_store->n + 1, sizeof(*kept));
    size_t changed = 0;
    if (!kept)
        return -ENOMEM;
    if (reserve(&next, s->n + 1) < 0)
        goto oom;
    for (size_t i = 0; i < s->n; i++) {
        const struct tkl_action *cur =
            tkl_store_counterpart(new_store, old_store, s->heap[i].action);
        if (!cur || tkl_store_hash(new_store, (size_t)(cur - new_store->actions)) !=
                        tkl_store_hash(old_store, s->heap[i].action))
            continue;
        struct tkl_sched_entry e = s->heap[i];
        e.action = (uint32_t)(cur - new_store->actions);
        kept[e.action] = true;
        next.heap[next.n++] = e;
    }
    for (size_t i = 0; i < new_store->n; i++) {
        if (kept[i])
            continue;
        const struct tkl_action *old = tkl_store_counterpart(old_store, new_store, i);
        /* an unchanged action with no pending entry (complete, or no
         * reminders left) stays as it was */
        if (old && tkl_store_hash(old_store, (size_t)(old - old_store->actions)) ==
                       tkl_store_hash(new_store, i))
            continue;
        changed++;
        if (schedule_action(&next, sc, teams, new_store, i, &w) < 0)
            goto oom;
    }
    for (size_t i = 0; i < old_store->n; i++)
        if (!tkl_store_counterpart(new_store, old_store, i))
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

bool tkl_scheduler_prompt_over_by(const struct tkl_scheduler *s, const struct tkl_store *store,
                                  int64_t now, int32_t first, int32_t until)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct tkl_sched_entry *e = &s->heap[i];
        const struct tkl_deadline *dl = &store->actions[e->action].deadline;
        if (dl->kind == TKL_DEADLINE_EVENT && dl->last_day >= first && dl->last_day < until &&
            tkl_local_instant(e->r.day, s->send_minute) <= now)
            return true;
    }
    return false;
}

int64_t tkl_scheduler_next_at(const struct tkl_scheduler *s)
{
    if (!s->n)
        return INT64_MAX;
    if (s->memo_set && s->memo_day == s->heap[0].r.day)
        return s->memo_at;
    return tkl_local_instant(s->heap[0].r.day, s->send_minute);
}

int tkl_scheduler_pop_due(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                          const struct tkl_store *store, int64_t now, struct tkl_due *ret)
{
    if (!s->n)
        return -ENOENT;
    int64_t at = tkl_scheduler_entry_at(s, &s->heap[0]);
    if (at > now)
        return -ENOENT;
    struct tkl_sched_entry top = s->heap[0];
    const struct tkl_action *a = &store->actions[top.action];
    /* the texts a caller shows, read from memory while the next reminder
     * is found (the action itself was fetched at the last pop) */
    __builtin_prefetch(a->title);
    __builtin_prefetch(a->id);
    *ret = (struct tkl_due){
        .action = a,
        .team = top.team,
        .at = at,
        .late = top.r.day < today(s, now),
    };
    tkl_reminder_unpack(&top.r, &ret->r);
    struct tkl_reminder r;
    if (next_reminder(sc, a, top.team, top.r.day + 1, &r) == 0) {
        place_down(s->heap, s->n, 0, entry_of(&r, top.action, top.team));
    } else {
        s->n--;
        place_down(s->heap, s->n, 0, s->heap[s->n]);
    }
    /* the actions of the next pops, far apart in a large store, are read
     * from memory while the caller uses this one: the next at the top,
     * the one after among its children */
    for (size_t i = 0; i <= ARITY && i < s->n; i++) {
        const char *next = (const char *)&store->actions[s->heap[i].action];
        for (size_t off = 0; off < sizeof(struct tkl_action); off += 64)
            __builtin_prefetch(next + off);
    }
    return 0;
}

int tkl_scheduler_restore(struct tkl_scheduler *s, const struct tkl_store *store,
                          const struct tkl_due *due, size_t n)
{
    /* popping never grows the heap, so it still has room for everything
     * it held before; the check only guards a caller that broke the rule */
    for (size_t i = 0; i < n; i++) {
        struct tkl_sched_entry e =
            entry_of(&due[i].r, (size_t)(due[i].action - store->actions), due[i].team);
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

/* The index in s's heap of the entry of (action, team), or s->n. */
static size_t find_entry(const struct tkl_scheduler *s, size_t action, size_t team)
{
    size_t j = 0;
    while (j < s->n && (s->heap[j].action != action || s->heap[j].team != team))
        j++;
    return j;
}

/* Whether a hold of a's reminders for team from from_day until until_day
 * held one back: the last of [from_day, until_day) into *ret. None for an
 * action the plan itself no longer reminds of. */
static bool last_held(const struct tkl_schedule_conf *sc, const struct tkl_action *a, size_t team,
                      int32_t from_day, int32_t until_day, struct tkl_reminder *ret)
{
    struct tkl_reminder e;
    bool held = false;
    if (!tkl_action_active(a))
        return false;
    for (int32_t day = from_day; next_reminder(sc, a, team, day, &e) == 0 && e.day < until_day;
         day = e.day + 1) {
        *ret = e;
        held = true;
    }
    return held;
}

/* Whether a hold ending on day end (a working day) gives back its last
 * held reminder, the entry of its (action, team) being next on day next
 * (INT32_MAX: none left): not when the plan's own next reminder comes by
 * then, nor when it comes on the next working day, where the held one
 * would go the working day before it. */
static bool gives_back(const struct tkl_schedule_conf *sc, int32_t next, int32_t end)
{
    return next == INT32_MAX || next > tkl_working_day_on_or_after(&sc->policy.holidays, end + 1);
}

int tkl_scheduler_snooze_end(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                             const struct tkl_store *store, size_t action, size_t team,
                             int32_t from_day, int32_t until_day, int64_t not_before,
                             bool replanned)
{
    int32_t end = tkl_working_day_on_or_after(&sc->policy.holidays, until_day);
    int64_t at = send_at(sc, end);
    struct tkl_reminder last, own;
    if (at <= not_before && replanned) {
        /* the plan's own reminder due by the next working day went alone
         * at the end (it was not given back): nothing is owed; else the
         * next working day's, if still to come */
        if (next_reminder(sc, &store->actions[action], team, end, &own) == 0 &&
            !gives_back(sc, own.day, end))
            return 0;
        end = tkl_working_day_on_or_after(&sc->policy.holidays, end + 1);
        at = send_at(sc, end);
    }
    if (at <= not_before)
        return 0;
    size_t j = find_entry(s, action, team);
    if (!gives_back(sc, j < s->n ? s->heap[j].r.day : INT32_MAX, end) ||
        !last_held(sc, &store->actions[action], team, from_day, until_day, &last))
        return 0;
    last.day = end;
    if (j == s->n) {
        if (reserve(s, s->n + 1) < 0)
            return -ENOMEM;
        s->n++;
    }
    s->heap[j] = entry_of(&last, action, team);
    sift_up(s->heap, j); /* it only came forward */
    return 0;
}

int64_t tkl_scheduler_resume_at(const struct tkl_schedule_conf *sc, int64_t at)
{
    int32_t today = tkl_local_day(at);
    int64_t send = send_at(sc, tkl_working_day_on_or_after(&sc->policy.holidays, today));
    if (send <= at) /* today's send time has passed: the next working day's */
        send = send_at(sc, tkl_working_day_on_or_after(&sc->policy.holidays, today + 1));
    return send;
}

int32_t tkl_scheduler_held_from(const struct tkl_schedule_conf *sc, int64_t since)
{
    int32_t day = tkl_local_day(since);
    return send_at(sc, day) > since ? day : day + 1;
}

int tkl_scheduler_resume(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                         const struct tkl_store *store, size_t action, size_t team, int64_t since,
                         int64_t at, int64_t not_before, bool replanned)
{
    return tkl_scheduler_snooze_end(s, sc, store, action, team, tkl_scheduler_held_from(sc, since),
                                    tkl_local_day(tkl_scheduler_resume_at(sc, at)), not_before,
                                    replanned);
}

int32_t tkl_scheduler_first_escalation(const struct tkl_schedule_conf *sc,
                                       const struct tkl_action *a, size_t team, int32_t from_day)
{
    struct tkl_reminder e;
    int32_t day = from_day;
    for (int i = 0; i < FIRST_ESCALATION_LOOK && next_reminder(sc, a, team, day, &e) == 0; i++) {
        if (e.escalate)
            return e.day;
        day = e.day + 1;
    }
    return TKL_NO_DAY;
}

int64_t tkl_scheduler_due_of(const struct tkl_scheduler *s, size_t action, size_t team)
{
    size_t j = find_entry(s, action, team);
    return j < s->n ? tkl_local_instant(s->heap[j].r.day, s->send_minute) : INT64_MAX;
}

int64_t tkl_scheduler_resume_preview(const struct tkl_scheduler *s,
                                     const struct tkl_schedule_conf *sc,
                                     const struct tkl_store *store, size_t action, size_t team,
                                     int64_t since, int64_t at, bool *ret_held)
{
    int64_t due = tkl_scheduler_due_of(s, action, team), back = tkl_scheduler_resume_at(sc, at);
    struct tkl_reminder last;
    /* as tkl_scheduler_resume would find it */
    *ret_held =
        gives_back(sc, due == INT64_MAX ? INT32_MAX : tkl_local_day(due), tkl_local_day(back)) &&
        last_held(sc, &store->actions[action], team, tkl_scheduler_held_from(sc, since),
                  tkl_local_day(back), &last);
    return *ret_held ? back : due;
}

void tkl_scheduler_free(struct tkl_scheduler *s)
{
    free(s->heap);
    memset(s, 0, sizeof(*s));
}
