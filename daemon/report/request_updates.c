#include "request_updates.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"
#include "../core/text.h"
#include "../outbox/updates.h"
#include "../route/route.h"

static const char *const phase_names[TKL_REQUEST_N_PHASES] = {"request", "request-follow-up",
                                                              "request-summary"};

/* The text a summary entry of an action without an answer carries as its
 * answer (and by which a digest tells a summary from a request). */
static const char no_answer[] = "No answer yet";

const char *tkl_request_phase_name(enum tkl_request_phase ph)
{
    return (unsigned)ph < TKL_REQUEST_N_PHASES ? phase_names[ph] : "";
}

void tkl_request_round_of(const struct tkl_report_conf *rc, const struct tkl_policy *p, size_t i,
                          int year, struct tkl_request_round *ret)
{
    const struct tkl_request_date *d = &rc->request_updates[i];
    const struct tkl_holidays *h = &p->holidays;
    int day = d->month == 2 && d->day == 29 && !tkl_is_leap_year(year) ? 28 : d->day;
    struct tkl_request_round r = {.date = tkl_day_from_civil(year, d->month, day)};
    int32_t ask = tkl_working_day_on_or_after(h, r.date);
    r.by_day = tkl_working_day_on_or_after(h, ask + rc->respond_within_days);
    r.day[TKL_REQUEST_ASK] = ask;
    r.day[TKL_REQUEST_FOLLOW_UP] = tkl_working_day_on_or_after(h, ask + rc->follow_up_after_days);
    r.day[TKL_REQUEST_SUMMARY] = tkl_working_day_on_or_after(h, r.by_day + 1);
    for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++)
        r.at[ph] = tkl_local_instant(r.day[ph], p->send_minute);
    int keep = p->catch_up_days > 1 ? p->catch_up_days : 1;
    r.until[TKL_REQUEST_ASK] = r.until[TKL_REQUEST_FOLLOW_UP] = r.at[TKL_REQUEST_SUMMARY];
    r.until[TKL_REQUEST_SUMMARY] =
        tkl_local_instant(r.day[TKL_REQUEST_SUMMARY] + keep, p->send_minute);
    *ret = r;
}

void tkl_request_key(const struct tkl_request_round *r, enum tkl_request_phase ph,
                     char buf[TKL_REQUEST_KEY_SIZE])
{
    char day[TKL_DAY_ISO_SIZE] = "";
    (void)tkl_day_iso(r->date, day, sizeof(day));
    snprintf(buf, TKL_REQUEST_KEY_SIZE, "%s:%s", tkl_request_phase_name(ph), day);
}

/* The year of the local day of now. */
static int year_of(int64_t now)
{
    int32_t today = tkl_local_day(now);
    int y = 1970, m, d;
    if (today != TKL_NO_DAY)
        tkl_day_to_civil(today, &y, &m, &d);
    return y;
}

int64_t tkl_requests_next_at(const struct tkl_report_conf *rc, const struct tkl_policy *p,
                             int64_t now)
{
    int64_t next = INT64_MAX;
    int y = year_of(now);
    for (size_t i = 0; i < rc->n_request_updates; i++)
        for (int year = y - 1; year <= y + 1; year++) {
            struct tkl_request_round r;
            tkl_request_round_of(rc, p, i, year, &r);
            for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++)
                if (r.at[ph] > now && r.at[ph] < next)
                    next = r.at[ph];
        }
    return next;
}

/* ---- answers --------------------------------------------------------- */

/* The actions with an update recorded since the request, by id. */
struct answered {
    struct tkl_updates updates;
    const char **ids; /* sorted; into updates */
    size_t n;
};

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads the updates recorded since since into *ret. Returns 0 or a
 * negative errno. */
static int answered_read(struct tkl_outbox *o, int64_t since, struct answered *ret)
{
    struct answered a = {0};
    int r = tkl_outbox_updates(o, NULL, since, INT64_MAX, &a.updates);
    if (r < 0)
        return r;
    if (a.updates.n && !(a.ids = malloc(a.updates.n * sizeof(*a.ids)))) {
        tkl_updates_free(&a.updates);
        return -ENOMEM;
    }
    for (size_t i = 0; i < a.updates.n; i++)
        a.ids[a.n++] = a.updates.v[i].action_id;
    if (a.n)
        qsort(a.ids, a.n, sizeof(*a.ids), by_string);
    *ret = a;
    return 0;
}

static bool answered_has(const struct answered *a, const char *id)
{
    return a && a->n && bsearch(&id, a->ids, a->n, sizeof(*a->ids), by_string);
}

static void answered_free(struct answered *a)
{
    tkl_updates_free(&a->updates);
    free(a->ids);
    *a = (struct answered){0};
}

/* ---- who is asked about what ----------------------------------------- */

/* Actions of the store by index, in store order. */
struct list {
    size_t *v;
    size_t n;
};

static bool owns(const struct tkl_action *a, const char *team_id)
{
    for (size_t i = 0; i < a->n_teams; i++)
        if (!strcmp(a->teams[i], team_id))
            return true;
    return false;
}

/* Whether team t is asked about a on day: an active plan action it owns,
 * unless an update holds it as complete or not the team's, which counts
 * only when it came before the request (one since is an answer, in
 * answered). */
static bool asked_about(const struct tkl_requests_ctx *c, const struct tkl_action *a,
                        const struct tkl_team *t, int32_t day, const struct answered *answered)
{
    if (a->deadline.kind == TKL_DEADLINE_EVENT || !tkl_action_active(a) || !owns(a, t->id))
        return false;
    if (answered_has(answered, a->id) || !c->answers)
        return true;
    enum tkl_hold h = tkl_answer_holds(tkl_answers_find(c->answers, a->id), t->id, day);
    return h != TKL_HOLD_COMPLETE && h != TKL_HOLD_NOT_OURS;
}

/* The actions team t is asked about on day into *ret (free ret->v).
 * Returns 0 or -ENOMEM. */
static int team_actions(const struct tkl_requests_ctx *c, const struct tkl_team *t, int32_t day,
                        const struct answered *answered, struct list *ret)
{
    const struct tkl_store *st = c->store;
    struct list l = {0};
    if (st->n && !(l.v = malloc(st->n * sizeof(*l.v))))
        return -ENOMEM;
    for (size_t i = 0; i < st->n; i++)
        if (asked_about(c, &st->actions[i], t, day, answered))
            l.v[l.n++] = i;
    *ret = l;
    return 0;
}

/* ---- notices --------------------------------------------------------- */

/* Routes the n actions actions[v[i]], at phase ph of r, to team index
 * team of the directory into b. Returns 0 or -ENOMEM. */
static int route_list(const struct tkl_requests_ctx *c, struct tkl_route_batch *b, size_t team,
                      const struct tkl_action *actions, const size_t *v, size_t n,
                      const struct tkl_request_round *r, enum tkl_request_phase ph, int32_t today)
{
    struct tkl_due due = {.team = team,
                          .at = r->at[ph],
                          .late = today > r->day[ph],
                          .r = {.day = r->day[ph], .stage = TKL_STAGE_REQUEST}};
    tkl_request_key(r, ph, due.r.key);
    for (size_t i = 0; i < n; i++) {
        size_t routed;
        due.action = &actions[v[i]];
        if (tkl_route_add(b, c->teams, NULL, &due, NULL, today, &routed) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Commits the digests of b, each opened by intro, due at at. Returns 0 or
 * a negative errno (the first refusal; the rest are not tried). */
static int commit(const struct tkl_requests_ctx *c, struct tkl_route_batch *b, const char *intro,
                  int64_t at, int64_t now, struct tkl_requests_result *res)
{
    int r = tkl_route_sort(b);
    for (size_t i = 0; r == 0 && i < b->n; i++) {
        const struct tkl_digest *dg = &b->digests[i];
        const char **keys = malloc((dg->n ? dg->n : 1) * sizeof(*keys));
        if (!keys)
            return -ENOMEM;
        for (size_t k = 0; k < dg->n; k++)
            keys[k] = dg->stage_keys[k];
        struct tkl_notice n;
        tkl_route_notice(dg, &n);
        n.due_at = at;
        n.thread_key = NULL;
        n.intro = intro;
        uint64_t id = 0;
        r = tkl_outbox_put(c->outbox, &n, keys, now, &id);
        free(keys);
        res->committed += r == 0 && id;
    }
    return r;
}

/* The name a notice gives team t. */
static const char *team_name(const struct tkl_team *t)
{
    return t->name ? t->name : t->id;
}

/* The opening of a request (ph: the request or its follow-up) into *ret.
 * Returns 0 or -ENOMEM. */
static int ask_intro(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                     enum tkl_request_phase ph, char **ret)
{
    char by[TKL_DAY_LONG_SIZE] = "", asked[TKL_DAY_LONG_SIZE] = "";
    const struct tkl_team *to = c->report_to ? tkl_team_find(c->teams, c->report_to) : NULL;
    struct tkl_buf b = {0};
    (void)tkl_day_long(r->by_day, by, sizeof(by));
    (void)tkl_day_long(r->day[TKL_REQUEST_ASK], asked, sizeof(asked));
    int e = ph == TKL_REQUEST_FOLLOW_UP
                ? tkl_buf_printf(&b,
                                 "On %s we asked for your progress on each action your team "
                                 "owns; the actions below have no answer yet. ",
                                 asked)
                : 0;
    if (e == 0)
        e = tkl_buf_printf(&b, "Please give your progress on each action below by %s", by);
    if (e == 0 && c->links)
        e = tkl_buf_puts(&b, ": open its link to give a progress note with its RAG status, "
                             "mark it complete, or say it is not your team's.");
    else if (e == 0 && to)
        e = tkl_buf_printf(&b, ", to %s.", team_name(to));
    else if (e == 0)
        e = tkl_buf_puts(&b, ".");
    if (e == 0)
        e = tkl_buf_puts(&b, " Your answers go into the progress report.");
    if (e < 0 || !(*ret = tkl_buf_steal(&b))) {
        tkl_buf_free(&b);
        return -ENOMEM;
    }
    return 0;
}

/* The request (ask) or its follow-up: to each team, the actions it is
 * asked about (follow-up: only those without an answer in answered).
 * Returns 0 or a negative errno. */
static int ask_teams(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                     enum tkl_request_phase ph, const struct answered *answered, int64_t now,
                     struct tkl_requests_result *res)
{
    char *intro = NULL;
    int32_t today = tkl_local_day(now);
    int rr = ask_intro(c, r, ph, &intro);
    for (size_t ti = 0; rr == 0 && ti < c->teams->n; ti++) {
        const struct tkl_team *t = &c->teams->teams[ti];
        struct list l = {0};
        struct tkl_route_batch b = {0};
        if ((rr = team_actions(c, t, r->day[ph], answered, &l)) < 0)
            break;
        size_t n = 0;
        for (size_t i = 0; i < l.n; i++)
            if (!answered_has(answered, c->store->actions[l.v[i]].id))
                l.v[n++] = l.v[i];
        if (n && !t->n_recipients)
            res->unrouted++;
        else if (n && (rr = route_list(c, &b, ti, c->store->actions, l.v, n, r, ph, today)) == 0)
            rr = commit(c, &b, intro, r->at[ph], now, res);
        tkl_route_batch_free(&b);
        free(l.v);
    }
    free(intro);
    return rr;
}

/* ---- the summary ----------------------------------------------------- */

/* What the summary says: the teams by how they answered, and the actions
 * still without an answer. */
struct tally {
    struct tkl_buf full, some, none, unreached; /* team names, "; " between */
    size_t teams, actions;                      /* asked, and asked about */
    struct list open;                           /* without an answer, each once */
    bool *seen;                                 /* per store action: counted */
};

static void tally_free(struct tally *y)
{
    tkl_buf_free(&y->full);
    tkl_buf_free(&y->some);
    tkl_buf_free(&y->none);
    tkl_buf_free(&y->unreached);
    free(y->open.v);
    free(y->seen);
}

/* Adds team t, asked about the actions of l, to *y; a team without
 * recipients was not asked, and is only named. Returns 0 or -ENOMEM. */
static int tally_team(struct tally *y, const struct tkl_requests_ctx *c, const struct tkl_team *t,
                      const struct list *l, const struct answered *answered)
{
    size_t got = 0;
    for (size_t i = 0; t->n_recipients && i < l->n; i++) {
        size_t k = l->v[i];
        bool has = answered_has(answered, c->store->actions[k].id);
        got += has;
        if (!y->seen[k]) {
            y->seen[k] = true;
            y->actions++;
            if (!has)
                y->open.v[y->open.n++] = k;
        }
    }
    y->teams += t->n_recipients > 0;
    struct tkl_buf *to = !t->n_recipients ? &y->unreached
                         : got == l->n    ? &y->full
                         : got            ? &y->some
                                          : &y->none;
    if (to->len && tkl_buf_puts(to, "; ") < 0)
        return -ENOMEM;
    if (to == &y->some)
        return tkl_buf_printf(to, "%s (%zu of %zu)", team_name(t), got, l->n);
    return tkl_buf_puts(to, team_name(t));
}

/* Tallies every team asked about actions in r. Returns 0 or -ENOMEM. */
static int tally(struct tally *y, const struct tkl_requests_ctx *c,
                 const struct tkl_request_round *r, const struct answered *answered)
{
    size_t n = c->store->n ? c->store->n : 1;
    if (!(y->seen = calloc(n, sizeof(*y->seen))) || !(y->open.v = malloc(n * sizeof(*y->open.v))))
        return -ENOMEM;
    for (size_t ti = 0; ti < c->teams->n; ti++) {
        const struct tkl_team *t = &c->teams->teams[ti];
        struct list l = {0};
        if (team_actions(c, t, r->day[TKL_REQUEST_SUMMARY], answered, &l) < 0)
            return -ENOMEM;
        int rr = l.n ? tally_team(y, c, t, &l, answered) : 0;
        free(l.v);
        if (rr < 0)
            return rr;
    }
    return 0;
}

/* The summary's opening into *ret. Returns 0 or -ENOMEM. */
static int summary_intro(const struct tally *y, const struct tkl_request_round *r, char **ret)
{
    char asked[TKL_DAY_LONG_SIZE] = "", by[TKL_DAY_LONG_SIZE] = "";
    struct tkl_buf b = {0};
    (void)tkl_day_long(r->day[TKL_REQUEST_ASK], asked, sizeof(asked));
    (void)tkl_day_long(r->by_day, by, sizeof(by));
    int e = tkl_buf_printf(&b,
                           "Answers to the update request of %s, due by %s: %zu team%s asked "
                           "about %zu action%s.",
                           asked, by, y->teams, y->teams == 1 ? " was" : "s were", y->actions,
                           y->actions == 1 ? "" : "s");
    const struct {
        const char *label;
        const struct tkl_buf *names;
    } parts[] = {{"Answered for every action", &y->full},
                 {"Answered for some", &y->some},
                 {"Not answered", &y->none},
                 {"Not asked, as the team has no recipients", &y->unreached}};
    for (size_t i = 0; e == 0 && i < sizeof(parts) / sizeof(parts[0]); i++)
        if (parts[i].names->len)
            e = tkl_buf_printf(&b, " %s: %s.", parts[i].label, parts[i].names->data);
    if (e == 0)
        e = tkl_buf_puts(&b, y->open.n ? " The actions below have no answer yet."
                                       : " Every action has an answer.");
    if (e < 0 || !(*ret = tkl_buf_steal(&b))) {
        tkl_buf_free(&b);
        return -ENOMEM;
    }
    return 0;
}

/* Routes the summary of r to team index ti: the actions of y still
 * without an answer, or the line *all (named key) saying every action has
 * one; the entries point into *all, which must outlive b. Returns 0 or
 * -ENOMEM. */
static int route_summary(const struct tkl_requests_ctx *c, struct tkl_route_batch *b, size_t ti,
                         const struct tally *y, const struct tkl_request_round *r, int32_t today,
                         struct tkl_action *all, char key[TKL_REQUEST_KEY_SIZE])
{
    if (y->open.n) {
        int rr = route_list(c, b, ti, c->store->actions, y->open.v, y->open.n, r,
                            TKL_REQUEST_SUMMARY, today);
        for (size_t i = 0; rr == 0 && i < b->n; i++)
            for (size_t k = 0; k < b->digests[i].n; k++)
                b->digests[i].entries[k].answer = no_answer;
        return rr;
    }
    /* a notice needs an entry: this one is named after the request */
    tkl_request_key(r, TKL_REQUEST_ASK, key);
    *all = (struct tkl_action){
        .id = key,
        .title = (char *)"Every team answered for every action it was asked about",
        .deadline = {.kind = TKL_DEADLINE_UNDATED, .day = TKL_NO_DAY}};
    static const size_t first = 0;
    return route_list(c, b, ti, all, &first, 1, r, TKL_REQUEST_SUMMARY, today);
}

/* The summary to report_to: who answered (the opening) and what has no
 * answer. Nothing when there is no report_to or no team was asked.
 * Returns 0 or a negative errno. */
static int summarise(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                     const struct answered *answered, int64_t now, struct tkl_requests_result *res)
{
    const struct tkl_team *to = c->report_to ? tkl_team_find(c->teams, c->report_to) : NULL;
    struct tally y = {0};
    struct tkl_route_batch b = {0};
    struct tkl_action all;
    char *intro = NULL, key[TKL_REQUEST_KEY_SIZE];
    if (!to)
        return 0;
    int rr = tally(&y, c, r, answered);
    if (rr == 0 && y.teams)
        rr = summary_intro(&y, r, &intro);
    if (rr == 0 && y.teams)
        rr = route_summary(c, &b, (size_t)(to - c->teams->teams), &y, r, tkl_local_day(now), &all,
                           key);
    if (rr == 0 && y.teams)
        rr = commit(c, &b, intro, r->at[TKL_REQUEST_SUMMARY], now, res);
    tkl_route_batch_free(&b);
    free(intro);
    tally_free(&y);
    return rr;
}

/* ---- runs ------------------------------------------------------------ */

/* Runs phase ph of r. Returns 0 or a negative errno. */
static int run_phase(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                     enum tkl_request_phase ph, int64_t now, struct tkl_requests_result *res)
{
    struct answered answered = {0};
    if (ph == TKL_REQUEST_ASK)
        return ask_teams(c, r, ph, NULL, now, res);
    int rr = answered_read(c->outbox, r->at[TKL_REQUEST_ASK], &answered);
    if (rr < 0)
        return rr;
    rr = ph == TKL_REQUEST_FOLLOW_UP ? ask_teams(c, r, ph, &answered, now, res)
                                     : summarise(c, r, &answered, now, res);
    answered_free(&answered);
    return rr;
}

/* When phase ph of r was done: 1 with *ret set, 0 when it was not, or a
 * negative errno. */
static int done_at(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                   enum tkl_request_phase ph, int64_t *ret)
{
    char key[TKL_REQUEST_KEY_SIZE];
    tkl_request_key(r, ph, key);
    int rr = tkl_outbox_get_meta(c->outbox, key, ret);
    return rr == 0 ? 1 : rr == -ENOENT ? 0 : rr;
}

/* Whether phase ph of r is one to run at now: its time has come, not
 * before from, and has not passed; a follow-up and a summary only after
 * the request (a follow-up only when the request went before its time).
 * Returns 1, 0 or a negative errno. */
static int phase_due(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                     enum tkl_request_phase ph, int64_t from, int64_t now)
{
    int64_t t;
    if (r->at[ph] > now || r->at[ph] < from || now >= r->until[ph])
        return 0;
    int rr = done_at(c, r, ph, &t);
    if (rr != 0)
        return rr < 0 ? rr : 0;
    if (ph == TKL_REQUEST_ASK)
        return 1;
    if ((rr = done_at(c, r, TKL_REQUEST_ASK, &t)) <= 0)
        return rr;
    return ph == TKL_REQUEST_SUMMARY || t < r->at[ph];
}

/* Runs the phases of r that are due, each marked done once its notices
 * are in. Returns 0 or a negative errno (res->failed_at set). */
static int run_request(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                       int64_t from, int64_t now, struct tkl_requests_result *res)
{
    for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++) {
        char key[TKL_REQUEST_KEY_SIZE];
        int rr = phase_due(c, r, (enum tkl_request_phase)ph, from, now);
        if (rr > 0) {
            tkl_request_key(r, (enum tkl_request_phase)ph, key);
            rr = run_phase(c, r, (enum tkl_request_phase)ph, now, res);
            if (rr == 0)
                rr = tkl_outbox_set_meta(c->outbox, key, now);
            if (rr == 0) /* the phase's notices and its mark, durable together */
                rr = tkl_outbox_sync(c->outbox);
            res->phases += rr == 0;
        }
        if (rr < 0) {
            res->failed_at = r->at[ph];
            return rr;
        }
    }
    return 0;
}

int tkl_requests_run(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                     struct tkl_requests_result *ret)
{
    struct tkl_requests_result res = {.next_at = tkl_requests_next_at(c->report, c->policy, now),
                                      .failed_at = INT64_MAX};
    int y = year_of(now), rr = 0;
    for (size_t i = 0; rr == 0 && i < c->report->n_request_updates; i++)
        for (int year = y - 1; rr == 0 && year <= y + 1; year++) {
            struct tkl_request_round r;
            tkl_request_round_of(c->report, c->policy, i, year, &r);
            rr = run_request(c, &r, from, now, &res);
        }
    *ret = res;
    return rr;
}

/* ---- what is ahead --------------------------------------------------- */

/* Appends, for each team, a reminder per action it is asked about at r.
 * Returns 0 or -ENOMEM. */
static int asks_of(const struct tkl_requests_ctx *c, const struct tkl_request_round *r,
                   struct tkl_due **v, size_t *n, size_t *cap)
{
    for (size_t ti = 0; ti < c->teams->n; ti++) {
        struct list l = {0};
        if (team_actions(c, &c->teams->teams[ti], r->day[TKL_REQUEST_ASK], NULL, &l) < 0)
            return -ENOMEM;
        if (*n + l.n > *cap) {
            size_t nc = (*n + l.n) * 2;
            struct tkl_due *p = realloc(*v, nc * sizeof(*p));
            if (!p) {
                free(l.v);
                return -ENOMEM;
            }
            *v = p;
            *cap = nc;
        }
        for (size_t i = 0; i < l.n; i++)
            (*v)[(*n)++] = (struct tkl_due){.action = &c->store->actions[l.v[i]],
                                            .team = ti,
                                            .at = r->at[TKL_REQUEST_ASK],
                                            .r = {.day = r->day[TKL_REQUEST_ASK],
                                                  .stage = TKL_STAGE_REQUEST,
                                                  .key = "request"}};
        free(l.v);
    }
    return 0;
}

/* Requests in order of time; then as asks_of put them. */
static int by_time(const void *a, const void *b)
{
    const struct tkl_due *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->team != y->team)
        return x->team < y->team ? -1 : 1;
    return (x->action > y->action) - (x->action < y->action);
}

int tkl_requests_asks(const struct tkl_requests_ctx *c, int64_t lo, int64_t hi,
                      struct tkl_due **ret, size_t *ret_n)
{
    struct tkl_due *v = NULL;
    size_t n = 0, cap = 0;
    int y0 = year_of(lo), y1 = year_of(hi);
    for (size_t i = 0; i < c->report->n_request_updates; i++)
        for (int year = y0 - 1; year <= y1 + 1; year++) {
            struct tkl_request_round r;
            tkl_request_round_of(c->report, c->policy, i, year, &r);
            if (r.at[TKL_REQUEST_ASK] < lo || r.at[TKL_REQUEST_ASK] > hi)
                continue;
            if (asks_of(c, &r, &v, &n, &cap) < 0) {
                free(v);
                return -ENOMEM;
            }
        }
    if (n > 1)
        qsort(v, n, sizeof(*v), by_time);
    *ret = v;
    *ret_n = n;
    return 0;
}
