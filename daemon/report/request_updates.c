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

/* How many rounds a run in year y looks at (round_near): each configured
 * date in y, the year before and the year after. */
static size_t rounds_near(const struct tkl_report_conf *rc)
{
    return 3 * rc->n_request_updates;
}

/* Round k of those (k < rounds_near(rc)): by date, then by year. */
static void round_near(const struct tkl_report_conf *rc, const struct tkl_policy *p, int y,
                       size_t k, struct tkl_request_round *ret)
{
    tkl_request_round_of(rc, p, k / 3, y - 1 + (int)(k % 3), ret);
}

int64_t tkl_requests_next_at(const struct tkl_report_conf *rc, const struct tkl_policy *p,
                             int64_t now)
{
    int64_t next = INT64_MAX;
    int y = year_of(now);
    for (size_t k = 0; k < rounds_near(rc); k++) {
        struct tkl_request_round r;
        round_near(rc, p, y, k, &r);
        for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++)
            if (r.at[ph] > now && r.at[ph] < next)
                next = r.at[ph];
    }
    return next;
}

/* ---- answers --------------------------------------------------------- */

/* The actions with an update recorded since the request, by id. */
struct answered {
    const char **ids; /* sorted; into the updates read */
    size_t n;
    const struct tkl_updates *u; /* those updates, and since when they answer */
    int64_t since;
};

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The actions of the updates of u (NULL: none) recorded since since into
 * *ret, pointing into u. Returns 0 or -ENOMEM. */
static int answered_of(const struct tkl_updates *u, int64_t since, struct answered *ret)
{
    struct answered a = {.u = u, .since = since};
    size_t n = u ? u->n : 0;
    if (n && !(a.ids = malloc(n * sizeof(*a.ids))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (u->v[i].at >= since)
            a.ids[a.n++] = u->v[i].action_id;
    if (a.n)
        qsort(a.ids, a.n, sizeof(*a.ids), by_string);
    *ret = a;
    return 0;
}

static bool answered_has(const struct answered *a, const char *id)
{
    return a && a->n && bsearch(&id, a->ids, a->n, sizeof(*a->ids), by_string);
}

/* Whether an answer about action id came through a link of team team_id
 * (an answer about an action answers for every team that owns it, whoever
 * gave it: another owning team, or a recipient of none, whose update has
 * no team). */
static bool answered_by(const struct answered *a, const char *id, const char *team_id)
{
    for (size_t i = 0; a->u && i < a->u->n; i++) {
        const struct tkl_update *x = &a->u->v[i];
        if (x->at >= a->since && !strcmp(x->action_id, id) && x->team_id &&
            !strcmp(x->team_id, team_id))
            return true;
    }
    return false;
}

static void answered_free(struct answered *a)
{
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
        /* with what its officers said last (Latest update), as a reminder
         * has it: the progress asked for follows on from it */
        const struct tkl_answer *ans =
            c->answers ? tkl_answers_find(c->answers, due.action->id) : NULL;
        if (tkl_route_add(b, c->teams, NULL, &due, ans, today, &routed) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Puts the digests of b, each opened by intro, due at at, to sink.
 * Returns 0 or a negative errno (the first refusal; the rest are not
 * tried). */
static int commit(const struct tkl_requests_sink *sink, struct tkl_route_batch *b,
                  const char *intro, int64_t at)
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
        r = sink->put(sink->data, &n, keys);
        free(keys);
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
static int ask_teams(const struct tkl_requests_ctx *c, const struct tkl_requests_sink *sink,
                     const struct tkl_request_round *r, enum tkl_request_phase ph,
                     const struct answered *answered, int64_t now, struct tkl_requests_result *res)
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
            rr = commit(sink, &b, intro, r->at[ph]);
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
    size_t got = 0, others = 0; /* answered; of them, by someone else only */
    for (size_t i = 0; t->n_recipients && i < l->n; i++) {
        size_t k = l->v[i];
        bool has = answered_has(answered, c->store->actions[k].id);
        got += has;
        others += has && !answered_by(answered, c->store->actions[k].id, t->id);
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
    /* a team credited with answers someone else gave (another owning
     * team, the plan's owner through a link of their own) is not said to
     * have given them */
    if (to == &y->some && others)
        return tkl_buf_printf(to, "%s (%zu of %zu, %zu of them answered by others)", team_name(t),
                              got, l->n, others);
    if (to == &y->some)
        return tkl_buf_printf(to, "%s (%zu of %zu)", team_name(t), got, l->n);
    if (to == &y->full && others == got)
        return tkl_buf_printf(to, "%s (all answered by others)", team_name(t));
    if (to == &y->full && others)
        return tkl_buf_printf(to, "%s (%zu answered by others)", team_name(t), others);
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
                           tkl_plural(y->actions));
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
        /* each says it has none (by which a digest tells a summary from a
         * request: TKL_NO_ANSWER_YET), then what was said before */
        for (size_t i = 0; rr == 0 && i < b->n; i++)
            for (size_t k = 0; rr == 0 && k < b->digests[i].n; k++) {
                struct tkl_notice_entry *e = &b->digests[i].entries[k];
                char *text = NULL;
                if (!e->answer)
                    e->answer = TKL_NO_ANSWER_YET;
                else if (asprintf(&text, "%s. Before the request: %s", TKL_NO_ANSWER_YET,
                                  e->answer) < 0)
                    rr = -ENOMEM;
                else if ((rr = tkl_route_keep_text(b, text)) == 0)
                    e->answer = text;
            }
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
static int summarise(const struct tkl_requests_ctx *c, const struct tkl_requests_sink *sink,
                     const struct tkl_request_round *r, const struct answered *answered,
                     int64_t now)
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
        rr = commit(sink, &b, intro, r->at[TKL_REQUEST_SUMMARY]);
    tkl_route_batch_free(&b);
    free(intro);
    tally_free(&y);
    return rr;
}

/* ---- runs ------------------------------------------------------------ */

/* What a run decides with. */
struct run {
    const struct tkl_requests_ctx *c;
    const struct tkl_requests_sink *sink;
    struct tkl_request_marks *marks;
    const struct tkl_updates *updates;
    int64_t from, now;
    struct tkl_requests_result *res;
};

/* Runs phase ph of r. Returns 0 or a negative errno. */
static int run_phase(const struct run *x, const struct tkl_request_round *r,
                     enum tkl_request_phase ph)
{
    struct answered answered = {0};
    if (ph == TKL_REQUEST_ASK)
        return ask_teams(x->c, x->sink, r, ph, NULL, x->now, x->res);
    int rr = answered_of(x->updates, r->at[TKL_REQUEST_ASK], &answered);
    if (rr < 0)
        return rr;
    rr = ph == TKL_REQUEST_FOLLOW_UP ? ask_teams(x->c, x->sink, r, ph, &answered, x->now, x->res)
                                     : summarise(x->c, x->sink, r, &answered, x->now);
    answered_free(&answered);
    return rr;
}

/* The mark of key in m, or NULL when it is not there. */
static struct tkl_request_mark *mark_of(struct tkl_request_marks *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].key, key))
            return &m->v[i];
    return NULL;
}

/* The mark of phase ph of r in m, or NULL when it is not there. */
static struct tkl_request_mark *phase_mark(struct tkl_request_marks *m,
                                           const struct tkl_request_round *r,
                                           enum tkl_request_phase ph)
{
    char key[TKL_REQUEST_KEY_SIZE];
    tkl_request_key(r, ph, key);
    return mark_of(m, key);
}

/* Whether phase ph of r may run at now from from: its time has come, not
 * before from, and has not passed. */
static bool phase_open(const struct tkl_request_round *r, enum tkl_request_phase ph, int64_t from,
                       int64_t now)
{
    return r->at[ph] <= now && r->at[ph] >= from && now < r->until[ph];
}

bool tkl_requests_over_by(const struct tkl_report_conf *rc, const struct tkl_policy *p,
                          int64_t from, int64_t now, int64_t until)
{
    int y = year_of(now);
    for (size_t k = 0; k < rounds_near(rc); k++) {
        struct tkl_request_round r;
        round_near(rc, p, y, k, &r);
        for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++)
            if (phase_open(&r, (enum tkl_request_phase)ph, from, now) && r.until[ph] <= until)
                return true;
    }
    return false;
}

/* Whether phase ph of r is one to run: open, not done; a follow-up and a
 * summary only after the request (a follow-up only when the request went
 * before its time). */
static bool phase_due(const struct run *x, const struct tkl_request_round *r,
                      enum tkl_request_phase ph)
{
    if (!phase_open(r, ph, x->from, x->now))
        return false;
    const struct tkl_request_mark *m = phase_mark(x->marks, r, ph);
    if (!m || m->done)
        return false;
    if (ph == TKL_REQUEST_ASK)
        return true;
    const struct tkl_request_mark *ask = phase_mark(x->marks, r, TKL_REQUEST_ASK);
    if (!ask || !ask->done)
        return false;
    return ph == TKL_REQUEST_SUMMARY || ask->at < r->at[ph];
}

/* Runs the phases of r that are due, each done (to the sink, and in the
 * marks) once its notices are put. Returns 0 or a negative errno
 * (res->failed_at set). */
static int run_request(const struct run *x, const struct tkl_request_round *r)
{
    for (int ph = 0; ph < TKL_REQUEST_N_PHASES; ph++) {
        if (!phase_due(x, r, (enum tkl_request_phase)ph))
            continue;
        struct tkl_request_mark *m = phase_mark(x->marks, r, (enum tkl_request_phase)ph);
        int rr = run_phase(x, r, (enum tkl_request_phase)ph);
        if (rr == 0)
            rr = x->sink->done(x->sink->data, m->key, r->at[ph]);
        if (rr < 0) {
            x->res->failed_at = r->at[ph];
            return rr;
        }
        m->done = true;
        m->at = x->now;
        x->res->phases++;
    }
    return 0;
}

int tkl_requests_decide(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                        struct tkl_request_marks *marks, const struct tkl_updates *updates,
                        const struct tkl_requests_sink *sink, struct tkl_requests_result *ret)
{
    ret->phases = ret->unrouted = 0;
    ret->next_at = tkl_requests_next_at(c->report, c->policy, now);
    ret->failed_at = INT64_MAX;
    const struct run x = {c, sink, marks, updates, from, now, ret};
    int y = year_of(now), rr = 0;
    for (size_t k = 0; rr == 0 && k < rounds_near(c->report); k++) {
        struct tkl_request_round r;
        round_near(c->report, c->policy, y, k, &r);
        rr = run_request(&x, &r);
    }
    return rr;
}

/* Adds the mark of phase ph of r to m (not done), unless it is there.
 * Returns 0 or -ENOMEM. */
static int mark_add(struct tkl_request_marks *m, size_t *cap, const struct tkl_request_round *r,
                    enum tkl_request_phase ph)
{
    struct tkl_request_mark k = {.done = false};
    tkl_request_key(r, ph, k.key);
    if (mark_of(m, k.key))
        return 0;
    if (m->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct tkl_request_mark *v = realloc(m->v, nc * sizeof(*v));
        if (!v)
            return -ENOMEM;
        m->v = v;
        *cap = nc;
    }
    m->v[m->n++] = k;
    return 0;
}

int tkl_requests_marks(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                       struct tkl_request_marks *ret)
{
    struct tkl_request_marks m = {.first_at = INT64_MAX, .since = INT64_MAX};
    size_t cap = 0;
    int y = year_of(now), rr = 0;
    for (size_t k = 0; rr == 0 && k < rounds_near(c->report); k++) {
        struct tkl_request_round r;
        round_near(c->report, c->policy, y, k, &r);
        for (int ph = 0; rr == 0 && ph < TKL_REQUEST_N_PHASES; ph++) {
            if (!phase_open(&r, (enum tkl_request_phase)ph, from, now))
                continue;
            rr = mark_add(&m, &cap, &r, (enum tkl_request_phase)ph);
            if (rr == 0 && ph != TKL_REQUEST_ASK)
                rr = mark_add(&m, &cap, &r, TKL_REQUEST_ASK);
            if (r.at[ph] < m.first_at)
                m.first_at = r.at[ph];
            if (ph != TKL_REQUEST_ASK && r.at[TKL_REQUEST_ASK] < m.since)
                m.since = r.at[TKL_REQUEST_ASK];
        }
    }
    if (rr < 0) {
        tkl_request_marks_free(&m);
        return rr;
    }
    *ret = m;
    return 0;
}

void tkl_request_marks_free(struct tkl_request_marks *m)
{
    free(m->v);
    *m = (struct tkl_request_marks){0};
}

/* ---- on a SQLite outbox ---------------------------------------------- */

struct outbox_sink {
    struct tkl_outbox *outbox;
    int64_t now;
    struct tkl_requests_result *res;
};

static int outbox_put(void *data, const struct tkl_notice *n, const char *const *stage_keys)
{
    struct outbox_sink *o = data;
    uint64_t id = 0;
    int r = tkl_outbox_put(o->outbox, n, stage_keys, o->now, &id);
    o->res->committed += r == 0 && id;
    return r;
}

/* The phase's notices and its mark, durable together. */
static int outbox_done(void *data, const char *key, int64_t at)
{
    struct outbox_sink *o = data;
    (void)at;
    int r = tkl_outbox_set_meta(o->outbox, key, o->now);
    return r == 0 ? tkl_outbox_sync(o->outbox) : r;
}

/* Reads the marks of m from o. Returns 0 or a negative errno. */
static int read_marks(struct tkl_outbox *o, struct tkl_request_marks *m)
{
    for (size_t i = 0; i < m->n; i++) {
        int r = tkl_outbox_get_meta(o, m->v[i].key, &m->v[i].at);
        if (r < 0 && r != -ENOENT)
            return r;
        m->v[i].done = r == 0;
    }
    return 0;
}

int tkl_requests_run(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                     struct tkl_requests_result *ret)
{
    struct tkl_requests_result res = {.next_at = tkl_requests_next_at(c->report, c->policy, now),
                                      .failed_at = INT64_MAX};
    struct tkl_request_marks marks = {0};
    struct tkl_updates updates = {0};
    struct outbox_sink o = {c->outbox, now, &res};
    const struct tkl_requests_sink sink = {outbox_put, outbox_done, &o};
    int rr = tkl_requests_marks(c, from, now, &marks);
    if (rr == 0 && marks.n)
        rr = read_marks(c->outbox, &marks);
    if (rr == 0 && marks.since != INT64_MAX)
        rr = tkl_outbox_updates(c->outbox, NULL, marks.since, INT64_MAX, &updates);
    if (rr == 0 && marks.n)
        rr = tkl_requests_decide(c, from, now, &marks, &updates, &sink, &res);
    else if (rr < 0) /* nothing was decided: the earliest phase is tried again */
        res.failed_at = marks.n ? marks.first_at : from;
    tkl_updates_free(&updates);
    tkl_request_marks_free(&marks);
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
