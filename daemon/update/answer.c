#include "answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tickler/day.h>

#include "../core/text.h"
#include "../schedule/scheduler.h"

static bool same_text(const char *a, const char *b)
{
    return strcasecmp(a ? a : "", b ? b : "") == 0;
}

bool tkl_update_holds(const struct tkl_update *u, const struct tkl_action *a)
{
    if (u->plan_deadline_day != a->deadline.day || !same_text(u->plan_status, a->status_text))
        return false;
    return u->kind != TKL_UPDATE_NOT_OURS || same_text(u->plan_owners, a->owners);
}

/* Orders pointers to updates by action id, then as recorded. */
static int by_action(const void *x, const void *y)
{
    const struct tkl_update *a = *(const struct tkl_update *const *)x;
    const struct tkl_update *b = *(const struct tkl_update *const *)y;
    int c = strcmp(a->action_id, b->action_id);
    if (c)
        return c;
    if (a->id != b->id)
        return (a->id > b->id) - (a->id < b->id);
    return (a > b) - (a < b);
}

/* Sets the not-ours update of u's team in ans to u (the later wins),
 * holding from since, or from the earlier one's since while it held on.
 * Returns 0 or -ENOMEM. */
static int set_not_ours(struct tkl_answer *ans, const struct tkl_update *u, int64_t since)
{
    for (size_t i = 0; i < ans->n_not_ours; i++)
        if (strcmp(ans->not_ours[i]->team_id, u->team_id) == 0) {
            ans->not_ours[i] = u;
            if (since < ans->not_ours_since[i])
                ans->not_ours_since[i] = since;
            return 0;
        }
    int64_t *t = realloc(ans->not_ours_since, (ans->n_not_ours + 1) * sizeof(*t));
    if (!t)
        return -ENOMEM;
    ans->not_ours_since = t;
    /* an array of pointers: sizeof(*v) is a pointer's size, as meant */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    const struct tkl_update **v = realloc(ans->not_ours, (ans->n_not_ours + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    t[ans->n_not_ours] = since;
    v[ans->n_not_ours++] = u;
    ans->not_ours = v;
    return 0;
}

/* Ends the "not ours" of team in ans, keeping the others in order; its
 * update is *ret (NULL: none), held from *ret_since. */
static void end_not_ours(struct tkl_answer *ans, const char *team, const struct tkl_update **ret,
                         int64_t *ret_since)
{
    *ret = NULL;
    for (size_t i = 0; team && i < ans->n_not_ours; i++)
        if (strcmp(ans->not_ours[i]->team_id, team) == 0) {
            *ret = ans->not_ours[i];
            *ret_since = ans->not_ours_since[i];
            size_t after = ans->n_not_ours - i - 1;
            /* an array of pointers: sizeof a pointer, as meant */
            // NOLINTNEXTLINE(bugprone-sizeof-expression)
            memmove(&ans->not_ours[i], &ans->not_ours[i + 1], after * sizeof(ans->not_ours[0]));
            memmove(&ans->not_ours_since[i], &ans->not_ours_since[i + 1],
                    after * sizeof(ans->not_ours_since[0]));
            ans->n_not_ours--;
            return;
        }
}

int64_t tkl_answer_not_ours_since(const struct tkl_answer *ans, const char *team)
{
    for (size_t i = 0; ans && team && i < ans->n_not_ours; i++)
        if (strcmp(ans->not_ours[i]->team_id, team) == 0)
            return ans->not_ours_since[i];
    return INT64_MAX;
}

/* Whether a and b name the same team (NULL, every team, as one). */
static bool same_team(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Forgets the holds ans's resumes ended for team (NULL: a snooze's). */
static void forget_resumed(struct tkl_answer *ans, const char *team)
{
    size_t k = 0;
    for (size_t i = 0; i < ans->n_resumed; i++)
        if (!same_team(ans->resumed[i].team, team))
            ans->resumed[k++] = ans->resumed[i];
    ans->n_resumed = k;
}

/* Keeps r as the latest hold of its team (NULL: every team's) a resume
 * ended in ans, in place of an older one of that team (whose reminder came
 * first). Returns 0 or -ENOMEM. */
static int keep_resumed(struct tkl_answer *ans, struct tkl_resumed r)
{
    forget_resumed(ans, r.team);
    struct tkl_resumed *v = realloc(ans->resumed, (ans->n_resumed + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    v[ans->n_resumed++] = r;
    ans->resumed = v;
    return 0;
}

/* The instant a hold of team (NULL: a snooze, every team's) recorded at
 * at holds from in ans: at, or the since of a hold a resume ended whose
 * reminder, brought back to the resume's send time by sc, was still to
 * come at at (that resume's snooze's, or team's "not ours"). */
static int64_t hold_since(const struct tkl_answer *ans, const struct tkl_schedule_conf *sc,
                          const char *team, int64_t at)
{
    int64_t since = at;
    for (size_t i = 0; sc && i < ans->n_resumed; i++) {
        const struct tkl_resumed *x = &ans->resumed[i];
        if ((!team || !x->team || !strcmp(x->team, team)) && x->since < since &&
            tkl_scheduler_resume_at(sc, x->u->at) > at)
            since = x->since;
    }
    return since;
}

/* Whether snooze u (NULL: none) holds on day. */
static bool snooze_on(const struct tkl_update *u, int32_t day)
{
    return u && u->until_day > day;
}

/* Whether team id is the team another owning team of a escalates to (its
 * escalate_to in teams, else sc's), as tkl_route_escalation finds it. */
static bool escalates_to(const struct tkl_action *a, const char *id,
                         const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams)
{
    for (size_t k = 0; teams && k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
        const char *to = t && t->escalate_to ? t->escalate_to : sc ? sc->escalate_to : NULL;
        if (t && to && strcmp(t->id, id) != 0 && !strcmp(to, id))
            return true;
    }
    return false;
}

bool tkl_update_by_owners(const struct tkl_update *u, const struct tkl_action *a,
                          const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams)
{
    for (size_t k = 0; a && u->team_id && k < a->n_teams; k++)
        if (!strcmp(a->teams[k], u->team_id))
            return !escalates_to(a, u->team_id, sc, teams);
    return false;
}

/* What resume u ends in ans: each snooze (the owners', and one through a
 * link of no owning team's), unless its last day is over by the resume's
 * (its end has come, or, after a weekend or a bank holiday, is still to
 * come: it stays, and ends as it would have), and its team's "not ours";
 * each kept as a hold of its own (keep_resumed; the snoozes as one, from
 * the earlier since). Returns 0 or -ENOMEM. */
static int resume(struct tkl_answer *ans, const struct tkl_update *u)
{
    const struct tkl_update *not_ours;
    int64_t not_ours_since = 0, since = INT64_MAX;
    int32_t day = tkl_local_day(u->at);
    end_not_ours(ans, u->team_id, &not_ours, &not_ours_since);
    if (ans->snooze && ans->snooze->until_day >= day) {
        since = ans->snooze_since;
        ans->snooze = NULL;
    }
    if (ans->snooze_all && ans->snooze_all->until_day >= day) {
        if (ans->snooze_all_since < since)
            since = ans->snooze_all_since;
        ans->snooze_all = NULL;
    }
    int r = 0;
    if (since != INT64_MAX)
        r = keep_resumed(ans, (struct tkl_resumed){.u = u, .since = since});
    if (not_ours && r == 0)
        r = keep_resumed(
            ans, (struct tkl_resumed){.u = u, .team = not_ours->team_id, .since = not_ours_since});
    return r;
}

/* Records snooze u (holds: it still holds against the plan) in ans: an
 * owning team's as the owners' snooze, one through a link of no owning
 * team's as the one that holds it all; each replaces the earlier of its
 * kind. It holds from the instant it was recorded, or from a snooze's of
 * either kind that still held then (it goes on as that one), or from a
 * hold a resume ended whose reminder was still to come (hold_since). */
static void snooze(struct tkl_answer *ans, const struct tkl_update *u, bool holds,
                   const struct tkl_action *a, const struct tkl_schedule_conf *sc,
                   const struct tkl_team_dir *teams)
{
    int32_t day = tkl_local_day(u->at);
    int64_t since = hold_since(ans, sc, NULL, u->at);
    if (snooze_on(ans->snooze, day) && ans->snooze_since < since)
        since = ans->snooze_since;
    if (snooze_on(ans->snooze_all, day) && ans->snooze_all_since < since)
        since = ans->snooze_all_since;
    bool owners = tkl_update_by_owners(u, a, sc, teams);
    const struct tkl_update **slot = owners ? &ans->snooze : &ans->snooze_all;
    *slot = holds ? u : NULL;
    if (holds) { /* held again, every team: its end brings back what it holds */
        *(owners ? &ans->snooze_since : &ans->snooze_all_since) = since;
        ans->n_resumed = 0;
    }
}

/* Fills ans from the n updates of one action, in the order recorded. */
static int answer_fill(struct tkl_answer *ans, const struct tkl_update *const *u, size_t n,
                       const struct tkl_action *a, const struct tkl_schedule_conf *sc,
                       const struct tkl_team_dir *teams)
{
    const struct tkl_update *last_acting = NULL;
    *ans = (struct tkl_answer){.action_id = u[0]->action_id, .latest = u[n - 1]};
    for (size_t i = 0; i < n; i++) {
        bool holds = tkl_update_holds(u[i], a);
        switch (u[i]->kind) {
        case TKL_UPDATE_PROGRESS:
            ans->progress = u[i];
            continue;
        case TKL_UPDATE_COMPLETE:
            if (holds) {
                ans->complete = u[i];
                ans->reopened = NULL;
            }
            break;
        case TKL_UPDATE_REOPEN:
            if (holds && ans->complete) {
                ans->complete = NULL;
                ans->reopened = u[i];
            }
            break;
        case TKL_UPDATE_SNOOZE:
            snooze(ans, u[i], holds, a, sc, teams);
            break;
        case TKL_UPDATE_NOT_OURS:
            if (!holds || !u[i]->team_id)
                break;
            if (set_not_ours(ans, u[i], hold_since(ans, sc, u[i]->team_id, u[i]->at)) < 0)
                return -ENOMEM;
            forget_resumed(ans, u[i]->team_id);
            break;
        case TKL_UPDATE_RESUME:
            if (resume(ans, u[i]) < 0)
                return -ENOMEM;
            break;
        }
        last_acting = u[i];
    }
    /* a reopen or a resume held nothing back: the plan moving on overrules
     * nothing */
    if (last_acting && last_acting->kind != TKL_UPDATE_REOPEN &&
        last_acting->kind != TKL_UPDATE_RESUME && !tkl_update_holds(last_acting, a))
        ans->overruled = last_acting;
    return 0;
}

/* Frees what one answer holds. */
static void answer_clear(struct tkl_answer *ans)
{
    free(ans->not_ours);
    free(ans->not_ours_since);
    free(ans->resumed);
}

static void answers_clear(struct tkl_answer *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        answer_clear(&v[i]);
    free(v);
}

int tkl_answers_build(struct tkl_answers *ret, struct tkl_updates *updates,
                      const struct tkl_store *store, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams)
{
    struct tkl_answers x = {.updates = *updates};
    *updates = (struct tkl_updates){0};
    const struct tkl_update **p = NULL;
    int r = -ENOMEM;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, as meant
    if (x.updates.n && !(p = malloc(x.updates.n * sizeof(*p))))
        goto fail;
    for (size_t i = 0; i < x.updates.n; i++)
        p[i] = &x.updates.v[i];
    if (x.updates.n)
        qsort(p, x.updates.n, sizeof(*p), by_action); // NOLINT(bugprone-sizeof-expression)
    for (size_t i = 0, j; i < x.updates.n; i = j) {
        for (j = i + 1; j < x.updates.n && strcmp(p[j]->action_id, p[i]->action_id) == 0; j++)
            ;
        const struct tkl_action *a = tkl_store_find(store, p[i]->action_id);
        if (!a)
            continue;
        struct tkl_answer *v = realloc(x.v, (x.n + 1) * sizeof(*v));
        if (!v)
            goto fail;
        x.v = v;
        if (answer_fill(&x.v[x.n], p + i, j - i, a, sc, teams) < 0) {
            answer_clear(&x.v[x.n]);
            goto fail;
        }
        x.n++;
    }
    free(p);
    *ret = x;
    return 0;
fail:
    free(p);
    answers_clear(x.v, x.n);
    tkl_updates_free(&x.updates);
    *ret = (struct tkl_answers){0};
    return r;
}

const struct tkl_answer *tkl_answers_find(const struct tkl_answers *a, const char *action_id)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->v[mid].action_id, action_id);
        if (c == 0)
            return &a->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct tkl_resumed *tkl_answer_resumed(const struct tkl_answer *ans, const char *team)
{
    for (size_t i = ans ? ans->n_resumed : 0; i > 0; i--)
        if (!team || !ans->resumed[i - 1].team || !strcmp(ans->resumed[i - 1].team, team))
            return &ans->resumed[i - 1];
    return NULL;
}

const struct tkl_update *tkl_answer_slot(const struct tkl_answer *ans, enum tkl_snooze_slot slot,
                                         int32_t day, int64_t *ret_since)
{
    if (!ans)
        return NULL;
    bool all = slot == TKL_SNOOZE_ALL;
    const struct tkl_update *z = all ? ans->snooze_all : ans->snooze;
    if (!snooze_on(z, day))
        return NULL;
    if (ret_since)
        *ret_since = all ? ans->snooze_all_since : ans->snooze_since;
    return z;
}

bool tkl_answer_holds_copies(const struct tkl_answer *ans, const char *esc_id, int32_t day)
{
    if (!ans)
        return false;
    if (snooze_on(ans->snooze_all, day))
        return true;
    const struct tkl_update *s = ans->snooze; /* of a team both owner and escalation */
    return snooze_on(s, day) && esc_id && !strcmp(s->team_id, esc_id);
}

const struct tkl_update *tkl_answer_snooze(const struct tkl_answer *ans, int32_t day,
                                           int64_t *ret_since)
{
    int64_t a = INT64_MAX, b = INT64_MAX;
    const struct tkl_update *own = tkl_answer_slot(ans, TKL_SNOOZE_OWNERS, day, &a);
    const struct tkl_update *all = tkl_answer_slot(ans, TKL_SNOOZE_ALL, day, &b);
    if (ret_since && (own || all))
        *ret_since = a < b ? a : b;
    return all && (!own || all->until_day > own->until_day) ? all : own;
}

enum tkl_hold tkl_answer_holds(const struct tkl_answer *ans, const char *team_id, int32_t day)
{
    if (!ans)
        return TKL_HOLD_NONE;
    if (ans->complete)
        return TKL_HOLD_COMPLETE;
    if (snooze_on(ans->snooze, day) || snooze_on(ans->snooze_all, day))
        return TKL_HOLD_SNOOZED;
    for (size_t i = 0; team_id && i < ans->n_not_ours; i++)
        if (strcmp(ans->not_ours[i]->team_id, team_id) == 0)
            return TKL_HOLD_NOT_OURS;
    return TKL_HOLD_NONE;
}

const char *tkl_hold_name(enum tkl_hold h)
{
    switch (h) {
    case TKL_HOLD_COMPLETE:
        return "complete";
    case TKL_HOLD_SNOOZED:
        return "snoozed";
    case TKL_HOLD_NOT_OURS:
        return "not ours";
    case TKL_HOLD_NONE:
        break;
    }
    return "";
}

/* "marked it complete", "snoozed it until 5 Jan 2027", "said it is not
 * theirs", "reopened it" into buf. */
static void what_was_done(const struct tkl_update *u, char *buf, size_t size)
{
    char day[40] = "";
    switch (u->kind) {
    case TKL_UPDATE_COMPLETE:
        snprintf(buf, size, "marked it complete");
        return;
    case TKL_UPDATE_SNOOZE:
        if (tkl_day_long(u->until_day, day, sizeof(day)) < 0)
            snprintf(day, sizeof(day), "a later day");
        snprintf(buf, size, "snoozed it until %s", day);
        return;
    case TKL_UPDATE_NOT_OURS:
        snprintf(buf, size, "said it is not theirs");
        return;
    case TKL_UPDATE_REOPEN:
        snprintf(buf, size, "reopened it");
        return;
    case TKL_UPDATE_RESUME:
        snprintf(buf, size, "resumed its reminders");
        return;
    case TKL_UPDATE_PROGRESS:
        break;
    }
    snprintf(buf, size, "gave progress");
}

/* s (NULL: "none") on one line (tkl_text_fput_line): a new string, or
 * NULL. */
static char *one_line(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    tkl_text_fput_line(f, s && *s ? s : "none");
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int tkl_answer_overruled_text(const struct tkl_answer *ans, const struct tkl_action *a, char **ret)
{
    *ret = NULL;
    if (!ans || !ans->overruled)
        return 0;
    const struct tkl_update *u = ans->overruled;
    char what[80], when[40];
    what_was_done(u, what, sizeof(what));
    if (tkl_day_long(tkl_local_day(u->at), when, sizeof(when)) < 0)
        snprintf(when, sizeof(when), "an earlier day");
    const char *dl = a->deadline_text && *a->deadline_text ? a->deadline_text : "none";
    const char *st = a->status_text && *a->status_text ? a->status_text : "none";
    int n;
    if (!tkl_action_active(a)) /* the plan itself stops them */
        n = asprintf(ret,
                     "%s %s on %s; the plan now gives the status as %s, which needs no "
                     "reminder.",
                     u->recipient, what, when, st);
    else if (u->kind == TKL_UPDATE_NOT_OURS && !same_text(u->plan_owners, a->owners)) {
        /* a Responsibility cell may part its teams by line breaks */
        char *owners = one_line(a->owners);
        n = owners ? asprintf(ret,
                              "%s %s on %s; the plan has since changed its owners to %s, so "
                              "reminders go on.",
                              u->recipient, what, when, owners)
                   : -1;
        free(owners);
    } else
        n = asprintf(ret,
                     "%s %s on %s; the plan now gives the deadline as %s and the status as %s, "
                     "so reminders go on.",
                     u->recipient, what, when, dl, st);
    if (n < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

void tkl_answers_free(struct tkl_answers *a)
{
    answers_clear(a->v, a->n);
    tkl_updates_free(&a->updates);
    *a = (struct tkl_answers){0};
}
