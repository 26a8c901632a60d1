/*
 * /status and /status.json: every action of the plan by objective and
 * team, with its standing (daemon/schedule/standing.h), its deadline as
 * written and as read, its status, its latest progress and the last
 * reminder the outbox holds for it (with PostgreSQL, the outbox every
 * node shares, as last read: a read is queued when the one kept is a few
 * seconds old, never waited for); a summary line per team and one for
 * all. Observances are not part of the plan and are not listed.
 *
 * Query: team (a team's id, name or alias) and state (a standing's name),
 * each repeatable: the actions of any of those teams in any of those
 * states. The summary counts every state of the actions of the teams
 * chosen, so that a state filter narrows the list and not the picture.
 * A team or state that names nothing is answered 400.
 *
 * An action of several teams is listed under each of them on the HTML
 * page and once in the JSON. The HTML page is one document with its style
 * sheet inline, no script and nothing from elsewhere. Both carry the
 * minute they were made, not the second, so that a page that has not
 * changed keeps its entity tag for that minute.
 *
 * The JSON: {"generated": instant, "today": date, "filters": {"teams":
 * [ids], "states": [names]}, "summary": counts, "teams": [{"id", "name",
 * "counts"}] (the teams chosen, or all and then, when there are any, the
 * actions of no team with id and name null), "actions": [{"id", "title",
 * "commitment", "objective", "owners", "teams": [ids], "deadline": {"text",
 * "kind", "date", "note", "problem"}, "status": {"text", "read"},
 * "standing" (Complete while an officer's completion holds), "plan_standing"
 * (the plan's alone), "progress", "last_reminder": {"at", "queued_at", "channel",
 * "recipient", "team", "team_id", "state", "sending", "attempts", "stage"}
 * or null, "answers": what officers' updates say (below) or null,
 * "warnings": count, "file", "line"}]}, where counts are
 * {"overdue": n, "due-soon": n, "on-track": n, "complete": n, "closed": n,
 * "undated": n, "total": n}, and answers are {"progress": {"rag", "by",
 * "at", "note"} or null (the latest progress note), "complete": {"by",
 * "at"} or null, "snoozed": {"until", "by", "at"} or null (the snooze
 * that holds the owners' reminders longest, while it lasts), "snoozes":
 * [{"until", "by", "at", "copies"}] (each snooze that lasts: the owners'
 * and one through a link of no owning team's, whose "copies" is true as
 * it holds the escalation's copies too), "not_ours": [{"team_id", "team", "by", "at", "suggested",
 * "note"}], "overruled": text or null}: the updates that hold (the plan
 * has not changed since), and what the plan has overruled. "by" is the
 * recipient the link was issued to.
 */
#include "web.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <tickler/text.h>

#include "../core/day.h"
#include "../core/text.h"
#include "../schedule/standing.h"
#include "../update/answer.h"

/* Count slots: one per standing, then the total. */
#define N_COUNTS (TKL_STANDING_COUNT + 1)

struct status_view {
    const struct tkl_store *store;
    const struct tkl_team_dir *dir;
    const struct tkl_schedule_conf *sc;
    const struct tkl_answers *answers; /* officers' updates, against the store */
    int64_t now;
    int32_t today;
    bool *team_on;                   /* per team of dir: named by the query */
    bool team_filter;                /* the query names teams */
    unsigned state_on;               /* bit per standing the query names; 0: all */
    enum tkl_standing *standing;     /* per action of the store */
    enum tkl_standing *plan;         /* the same by the plan alone */
    size_t (*team_counts)[N_COUNTS]; /* per team of dir, then the actions of none */
    size_t counts[N_COUNTS];         /* the actions of the teams chosen */
    size_t listed;                   /* the actions the query selects */
    struct tkl_item_notices last;
    /* PostgreSQL: every node's, as last read (tkl_web_last_notices) */
    const struct tkl_item_notices *shared_last;
    int outbox_error; /* the outbox could not be read: no last reminders */
    char bad[256];    /* why the query is refused, or "" */
};

/* What a standing is called on the page: as a label, and in a count. */
static const char *const labels[TKL_STANDING_COUNT] = {
    [TKL_STANDING_OVERDUE] = "Overdue",   [TKL_STANDING_DUE_SOON] = "Due soon",
    [TKL_STANDING_ON_TRACK] = "On track", [TKL_STANDING_COMPLETE] = "Complete",
    [TKL_STANDING_CLOSED] = "Closed",     [TKL_STANDING_UNDATED] = "Undated",
};
static const char *const counted[TKL_STANDING_COUNT] = {
    [TKL_STANDING_OVERDUE] = "overdue",   [TKL_STANDING_DUE_SOON] = "due soon",
    [TKL_STANDING_ON_TRACK] = "on track", [TKL_STANDING_COMPLETE] = "complete",
    [TKL_STANDING_CLOSED] = "closed",     [TKL_STANDING_UNDATED] = "undated",
};

/* ---- The view: the query, each action's standing, the counts ---------- */

static bool owns(const struct tkl_action *a, const struct tkl_team *t)
{
    for (size_t k = 0; k < a->n_teams; k++)
        if (strcmp(a->teams[k], t->id) == 0)
            return true;
    return false;
}

/* Whether a has no team of the directory. */
static bool unowned(const struct status_view *v, const struct tkl_action *a)
{
    for (size_t k = 0; k < a->n_teams; k++)
        if (tkl_team_find(v->dir, a->teams[k]))
            return false;
    return true;
}

/* Whether a belongs to a team the query chose (any, without a team filter). */
static bool team_chosen(const struct status_view *v, const struct tkl_action *a)
{
    if (!v->team_filter)
        return true;
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(v->dir, a->teams[k]);
        if (t && v->team_on[t - v->dir->teams])
            return true;
    }
    return false;
}

/* Whether action i is listed: a plan action of a team and a state chosen. */
static bool is_listed(const struct status_view *v, size_t i)
{
    enum tkl_standing st = v->standing[i];
    return st != TKL_STANDING_COUNT && team_chosen(v, &v->store->actions[i]) &&
           (!v->state_on || (v->state_on & 1u << st));
}

/* Reads the query's teams and states; an unknown one sets v->bad.
 * Returns 0 or -ENOMEM. */
static int read_query(struct status_view *v, const struct tkl_request *q)
{
    const char *s;
    for (size_t i = 0; (s = tkl_request_get(q, "team", i)); i++) {
        const struct tkl_team *t = NULL;
        int r = tkl_team_match(v->dir, s, &t);
        if (r < 0)
            return r;
        if (!t) {
            snprintf(v->bad, sizeof(v->bad), "unknown team \"%s\"", s);
            return 0;
        }
        v->team_on[t - v->dir->teams] = true;
        v->team_filter = true;
    }
    for (size_t i = 0; (s = tkl_request_get(q, "state", i)); i++) {
        enum tkl_standing st;
        if (tkl_standing_parse(s, &st) < 0) {
            snprintf(v->bad, sizeof(v->bad),
                     "unknown state \"%s\" (overdue, due-soon, on-track, complete, closed or "
                     "undated)",
                     s);
            return 0;
        }
        v->state_on |= 1u << st;
    }
    return 0;
}

/* Each action's standing, the counts, the number listed. */
static void count(struct status_view *v)
{
    for (size_t i = 0; i < v->store->n; i++) {
        const struct tkl_action *a = &v->store->actions[i];
        enum tkl_standing st =
            tkl_action_standing_answered(v->sc, v->dir, v->answers, a, v->today, &v->plan[i]);
        v->standing[i] = st;
        if (st == TKL_STANDING_COUNT)
            continue;
        if (team_chosen(v, a)) {
            v->counts[st]++;
            v->counts[TKL_STANDING_COUNT]++;
        }
        for (size_t t = 0; t < v->dir->n; t++) {
            if (owns(a, &v->dir->teams[t])) {
                v->team_counts[t][st]++;
                v->team_counts[t][TKL_STANDING_COUNT]++;
            }
        }
        if (unowned(v, a)) {
            v->team_counts[v->dir->n][st]++;
            v->team_counts[v->dir->n][TKL_STANDING_COUNT]++;
        }
        v->listed += is_listed(v, i);
    }
}

static void view_free(struct status_view *v)
{
    free(v->team_on);
    free(v->standing);
    free(v->plan);
    free(v->team_counts);
    tkl_item_notices_free(&v->last);
}

/* Reads the query and, when it is good, everything the page shows.
 * Returns 0 (v->bad says whether the query was refused) or -ENOMEM; v is
 * freed with view_free either way. */
static int view_init(struct status_view *v, struct tkl_service *s,
                     const struct tkl_http_request *req)
{
    const struct tkl_runtime *rt = s->rt;
    *v = (struct status_view){.store = rt->store,
                              .dir = &rt->cfg->teams,
                              .sc = &rt->cfg->schedule,
                              .answers = &s->answers,
                              .now = req->now - (req->now % 60 + 60) % 60,
                              .today = tkl_local_day(req->now)};
    v->team_on = calloc(v->dir->n + 1, sizeof(*v->team_on));
    v->standing = calloc(v->store->n + 1, sizeof(*v->standing));
    v->plan = calloc(v->store->n + 1, sizeof(*v->plan));
    v->team_counts = calloc(v->dir->n + 1, sizeof(*v->team_counts));
    if (!v->team_on || !v->standing || !v->plan || !v->team_counts)
        return -ENOMEM;
    int r = read_query(v, req->req);
    if (r < 0 || v->bad[0])
        return r;
    count(v);
    if (rt->cfg->state.backend == TKL_STATE_POSTGRESQL) { /* every node's, as last read */
        uint64_t version;
        v->shared_last = tkl_web_last_notices(s, req->now, &version);
        v->outbox_error = v->shared_last ? 0 : -EAGAIN;
        return 0;
    }
    r = s->outbox ? tkl_outbox_last_notices(s->outbox, &v->last) : -ENOENT;
    if (r == -ENOMEM)
        return r;
    v->outbox_error = r;
    return 0;
}

/* ---- Text both formats use -------------------------------------------- */

/* The latest notice of a, or NULL. */
static const struct tkl_item_notice *last_of(const struct status_view *v,
                                             const struct tkl_action *a)
{
    return tkl_item_notices_find(v->shared_last ? v->shared_last : &v->last, a->id);
}

/* When the notice x last changed: finished, else committed. */
static int64_t notice_at(const struct tkl_item_notice *x)
{
    return x->finished_at ? x->finished_at : x->created_at;
}

/* ---- HTML ----------------------------------------------------------- */

static const char style[] =
    "body{font-family:system-ui,\"Segoe UI\",Arial,sans-serif;color:#1f1f1f;margin:0 auto;"
    "padding:12px;max-width:72em;line-height:1.45;-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}\n"
    "h1{font-size:1.5rem;margin:0 0 4px}\n"
    "h2{font-size:1.2rem;margin:28px 0 8px;border-bottom:2px solid #1f1f1f}\n"
    "h3{font-size:1.05rem;margin:16px 0 8px}\n"
    "a{color:#0b57a4}\n"
    ".meta{color:#4a4a4a;font-size:.9rem;margin:4px 0}\n"
    ".overdue{--c:#b3261e;--b:#fdecea}.due-soon{--c:#8a4b00;--b:#fff1d6}\n"
    ".on-track{--c:#1e6b2a;--b:#e3f4e5}.complete{--c:#0b57a4;--b:#e3eefb}\n"
    ".closed{--c:#555;--b:#eee}.undated{--c:#6b3fa0;--b:#f1eaf9}\n"
    ".rag{display:inline-block;color:var(--c);background:var(--b);border:1px solid var(--c);"
    "border-radius:3px;padding:0 6px;font-size:.85rem;font-weight:600;white-space:nowrap}\n"
    "ul.bar,ul.summary{list-style:none;padding:0;margin:8px 0}\n"
    "ul.bar li{display:inline-block;margin:0 6px 6px 0}\n"
    "ul.summary li{margin:0 0 6px}\n"
    "article{border:1px solid #c8c8c8;border-left:6px solid var(--c);border-radius:4px;"
    "padding:8px 12px;margin:0 0 10px;break-inside:avoid}\n"
    "article h4{margin:4px 0 6px;font-size:1rem;overflow-wrap:anywhere}\n"
    ".id{color:#4a4a4a;font-size:.85rem;margin-left:6px}\n"
    ".plan{color:#4a4a4a;font-size:.85rem;margin-left:6px}\n"
    "dl{margin:0;font-size:.92rem}dt{font-weight:600;color:#4a4a4a}\n"
    "dd{margin:0 0 6px;overflow-wrap:anywhere}\n"
    ".src{font-size:.8rem;color:#5a5a5a;margin:6px 0 0}\n"
    "details.filter{margin:8px 0;border:1px solid #c8c8c8;border-radius:4px;padding:6px 10px}\n"
    "fieldset{border:0;padding:0;margin:6px 0}legend{font-weight:600}\n"
    "label{display:inline-block;margin:2px 14px 2px 0;min-height:24px}\n"
    "button{font:inherit;padding:6px 16px}\n"
    "@media (min-width:40em){dl{display:grid;grid-template-columns:9em 1fr;gap:2px 12px}"
    "dd{margin:0}}\n"
    "@media print{body{padding:0;font-size:10pt;max-width:none}nav,details.filter{display:none}"
    "a{color:inherit;text-decoration:none}h2,h3{break-after:avoid}}\n";

/* Writes s percent-encoded for a query string (safe in an attribute). */
static void url_put(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

/* Writes a link to the page showing text, with the teams chosen: those
 * teams marks (per team of the directory; NULL for none) and team index
 * one (SIZE_MAX for none); and the states of the bits of states. */
static void html_link(FILE *f, const struct status_view *v, const bool *teams, size_t one,
                      unsigned states, const char *text)
{
    const char *sep = "?";
    fputs("<a href=\"status", f);
    for (size_t t = 0; t < v->dir->n; t++) {
        if ((teams && teams[t]) || t == one) {
            fprintf(f, "%steam=", sep);
            url_put(f, v->dir->teams[t].id);
            sep = "&amp;";
        }
    }
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++) {
        if (states & 1u << st) {
            fprintf(f, "%sstate=%s", sep, tkl_standing_name((enum tkl_standing)st));
            sep = "&amp;";
        }
    }
    fputs("\">", f);
    tkl_html_fputs(text, f);
    fputs("</a>", f);
}

/* The counts of c: "7 actions: 2 overdue 1 due soon ...", the non-zero
 * ones, each labelled in its colour. */
static void html_counts(FILE *f, const size_t *c)
{
    fprintf(f, "%zu action%s", c[TKL_STANDING_COUNT], tkl_plural(c[TKL_STANDING_COUNT]));
    const char *sep = ": ";
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++) {
        if (!c[st])
            continue;
        fprintf(f, "%s<span class=\"rag %s\">%zu %s</span>", sep,
                tkl_standing_name((enum tkl_standing)st), c[st], counted[st]);
        sep = ", ";
    }
}

static void html_head(FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Plan status</title>\n<style>\n",
          f);
    fputs(style, f);
    fputs("</style>\n</head>\n", f);
}

/* The links that choose one state (keeping the teams chosen), and all. */
static void html_state_bar(FILE *f, const struct status_view *v)
{
    const bool *teams = v->team_filter ? v->team_on : NULL;
    fputs("<nav aria-label=\"States\">\n<ul class=\"bar\">\n<li>", f);
    html_link(f, v, teams, SIZE_MAX, 0, "Every state");
    fputs("</li>\n", f);
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++) {
        char text[64];
        snprintf(text, sizeof(text), "%s (%zu)", labels[st], v->counts[st]);
        fprintf(f, "<li class=\"%s\">", tkl_standing_name((enum tkl_standing)st));
        html_link(f, v, teams, SIZE_MAX, 1u << st, text);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</nav>\n", f);
}

/* The filter form: teams and states as check boxes, sent with GET. */
static void html_filter(FILE *f, const struct status_view *v)
{
    fputs("<details class=\"filter\"><summary>Filter by team and state</summary>\n"
          "<form method=\"get\" action=\"status\">\n<fieldset><legend>Teams</legend>\n",
          f);
    for (size_t t = 0; t < v->dir->n; t++) {
        fputs("<label><input type=\"checkbox\" name=\"team\" value=\"", f);
        tkl_html_fputs(v->dir->teams[t].id, f);
        fprintf(f, "\"%s> ", v->team_on[t] ? " checked" : "");
        tkl_html_fputs(v->dir->teams[t].name, f);
        fputs("</label>\n", f);
    }
    fputs("</fieldset>\n<fieldset><legend>States</legend>\n", f);
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++)
        fprintf(f, "<label><input type=\"checkbox\" name=\"state\" value=\"%s\"%s> %s</label>\n",
                tkl_standing_name((enum tkl_standing)st), v->state_on & 1u << st ? " checked" : "",
                labels[st]);
    fputs("</fieldset>\n<button type=\"submit\">Show</button>\n</form>\n</details>\n", f);
}

/* One line per team shown (and for the actions of no team), then all. */
static void html_summary(FILE *f, const struct status_view *v)
{
    fputs("<h2>Summary</h2>\n<ul class=\"summary\">\n", f);
    for (size_t t = 0; t < v->dir->n; t++) {
        if (v->team_filter && !v->team_on[t])
            continue;
        fputs("<li>", f);
        html_link(f, v, NULL, t, v->state_on, v->dir->teams[t].name);
        fputs(": ", f);
        html_counts(f, v->team_counts[t]);
        fputs("</li>\n", f);
    }
    if (!v->team_filter && v->team_counts[v->dir->n][TKL_STANDING_COUNT]) {
        fputs("<li>No team: ", f);
        html_counts(f, v->team_counts[v->dir->n]);
        fputs("</li>\n", f);
    }
    fputs("<li><strong>", f);
    fputs(v->team_filter ? "These teams" : "All teams", f);
    fputs("</strong>: ", f);
    html_counts(f, v->counts);
    fputs("</li>\n", f);
    if (v->team_filter) {
        fputs("<li>", f);
        html_link(f, v, NULL, SIZE_MAX, v->state_on, "Every team");
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

/* The deadline as tickler read it: "Friday 30 June 2023, in 3 days". */
static void html_deadline_read(FILE *f, const struct status_view *v, const struct tkl_action *a)
{
    const struct tkl_deadline *d = &a->deadline;
    char day[TKL_DAY_LONG_SIZE];
    if ((d->kind != TKL_DEADLINE_DATE && d->kind != TKL_DEADLINE_REVIEW) ||
        tkl_day_long(d->day, day, sizeof(day)) < 0) {
        fputs(d->kind == TKL_DEADLINE_ONGOING ? "ongoing: no date" : "no date", f);
        if (d->problem) {
            fputs(" (", f);
            tkl_html_fputs(tkl_deadline_problem(d), f);
            fputs(")", f);
        }
        return;
    }
    int64_t left = (int64_t)d->day - v->today;
    fprintf(f, "%s%s, ", d->kind == TKL_DEADLINE_REVIEW ? "review on " : "", day);
    if (left == 0)
        fputs("today", f);
    else if (left > 0)
        fprintf(f, "in %lld day%s", (long long)left, tkl_plural(left));
    else
        fprintf(f, "%lld day%s ago", (long long)-left, left == -1 ? "" : "s");
}

/* The last reminder of a: how it went, when, to whom, at which stage. */
static void html_reminder(FILE *f, const struct status_view *v, const struct tkl_action *a)
{
    const struct tkl_item_notice *x = last_of(v, a);
    if (!x) {
        fputs(v->outbox_error ? "unknown (the outbox could not be read)" : "none yet", f);
        return;
    }
    char when[48];
    fprintf(f, "%s%s %s to ", tkl_notice_state_name(x->state, x->attempts),
            x->sending ? " (sending)" : "", tkl_web_when(notice_at(x), when, sizeof(when)));
    tkl_html_fputs(x->recipient, f);
    fputs(" by ", f);
    tkl_html_fputs(x->channel, f);
    if (x->team_name) {
        fputs(" (", f);
        tkl_html_fputs(x->team_name, f);
        fputs(")", f);
    }
    if (x->stage_key) {
        char stage[80];
        fputs(": ", f);
        tkl_html_fputs(tkl_web_stage_words(x->stage_key, stage, sizeof(stage)), f);
    }
}

/* The name of team id, or the id when the directory has no such team. */
static const char *team_name(const struct status_view *v, const char *id)
{
    const struct tkl_team *t = id ? tkl_team_find(v->dir, id) : NULL;
    return t ? t->name : tkl_web_text_or(id, "their team");
}

/* Who gave update u and when: " by a@x on 3 Dec 2026 10:15". */
static void html_by(FILE *f, const struct tkl_update *u)
{
    char when[48];
    fputs(" by ", f);
    tkl_html_fputs(u->recipient, f);
    fprintf(f, " on %s", tkl_web_when(u->at, when, sizeof(when)));
}

/* What the officers' updates of a say: the latest progress note, what
 * holds its reminders back, what the plan overruled. Nothing without. */
static void html_answers(FILE *f, const struct status_view *v, const struct tkl_action *a)
{
    const struct tkl_answer *ans = tkl_answers_find(v->answers, a->id);
    char *over = NULL, day[TKL_DAY_LONG_SIZE];
    const struct tkl_update *p = ans ? ans->progress : NULL;
    if (ans && ans->overruled && tkl_answer_overruled_text(ans, a, &over) < 0)
        over = NULL; /* out of memory: the rest is still shown */
    const struct tkl_update *sz = tkl_answer_snooze(ans, v->today, NULL);
    bool snoozed = sz != NULL;
    if (p) {
        fprintf(f, "<dt>Officer's progress</dt><dd>%s%s%s", p->rag ? "<strong>" : "",
                p->rag ? tkl_rag_name(p->rag) : "", p->rag ? "</strong>" : "");
        html_by(f, p);
        if (p->note && *p->note) {
            fputs(":<br>", f);
            tkl_html_fput_quote(f, p->note);
        }
        fputs("</dd>\n", f);
    }
    if (!ans || (!ans->complete && !snoozed && !ans->n_not_ours && !over))
        return;
    fputs("<dt>Reminders</dt><dd>", f);
    if (ans->complete) {
        fputs("held: marked complete", f);
        html_by(f, ans->complete);
        fputs("<br>", f);
    }
    /* the owners' snooze, and one of no owning team's that holds the
     * copies too: each that holds */
    for (int i = 0; snoozed && i < TKL_SNOOZE_SLOTS; i++) {
        const struct tkl_update *z = tkl_answer_slot(ans, i, v->today, NULL);
        if (!z || tkl_day_long(z->until_day, day, sizeof(day)) < 0)
            continue;
        fprintf(f, "held: snoozed until %s", day);
        html_by(f, z);
        fputs(i == TKL_SNOOZE_ALL ? " (the escalation's copies too)<br>" : "<br>", f);
    }
    for (size_t k = 0; k < ans->n_not_ours; k++) {
        const struct tkl_update *u = ans->not_ours[k];
        fputs("held for ", f);
        tkl_html_fputs(team_name(v, u->team_id), f);
        fputs(": not ours", f);
        html_by(f, u);
        if (u->suggested_team && *u->suggested_team) {
            fputs("; suggests ", f);
            tkl_html_fput_quote(f, u->suggested_team);
        }
        if (u->note && *u->note) {
            fputs(": ", f);
            tkl_html_fput_quote(f, u->note);
        }
        fputs("<br>", f);
    }
    if (over) {
        fputs("overruled by the plan: ", f);
        tkl_html_fput_lines(f, over);
    }
    fputs("</dd>\n", f);
    free(over);
}

/* The other teams of a than team index t, by name. */
static void html_other_teams(FILE *f, const struct status_view *v, const struct tkl_action *a,
                             size_t t)
{
    if (a->n_teams < 2)
        return;
    fputs("<dt>Shared with</dt><dd>", f);
    const char *sep = "";
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *o = tkl_team_find(v->dir, a->teams[k]);
        if (t < v->dir->n && o == &v->dir->teams[t])
            continue;
        fputs(sep, f);
        tkl_html_fputs(o ? o->name : a->teams[k], f);
        sep = ", ";
    }
    fputs("</dd>\n", f);
}

/* Action i as a card, listed under team index t (dir->n: no team). */
static void html_action(FILE *f, const struct status_view *v, size_t i, size_t t)
{
    const struct tkl_action *a = &v->store->actions[i];
    enum tkl_standing st = v->standing[i], plan = v->plan[i];
    const char *name = tkl_standing_name(st);
    fprintf(f, "<article class=\"%s\">\n<p><span class=\"rag %s\">%s</span>", name, name,
            labels[st]);
    /* an officer's completion holds: what the plan alone says beside it */
    if (st != plan)
        fprintf(f, "<span class=\"plan\">marked complete; by the plan alone: %s</span>",
                counted[plan]);
    fputs("<span class=\"id\">", f);
    tkl_html_fputs(a->id, f);
    fputs("</span></p>\n<h4>", f);
    tkl_html_fputs(a->title, f);
    fputs("</h4>\n<dl>\n<dt>Deadline</dt><dd>", f);
    tkl_html_fputs(tkl_web_text_or(a->deadline_text, "(none)"), f);
    fputs("<br>read as ", f);
    html_deadline_read(f, v, a);
    fputs("</dd>\n<dt>Status</dt><dd>", f);
    tkl_html_fput_lines(f, tkl_web_text_or(a->status_text, "(none)"));
    fprintf(f, " (%s)</dd>\n<dt>Progress</dt><dd>", tkl_web_status_reading(a->status));
    tkl_html_fput_lines(f, tkl_web_text_or(a->progress, "none recorded"));
    fputs("</dd>\n", f);
    html_answers(f, v, a);
    fputs("<dt>Last reminder</dt><dd>", f);
    html_reminder(f, v, a);
    fputs("</dd>\n", f);
    html_other_teams(f, v, a, t);
    size_t n_warnings = tkl_action_rare(a)->n_warnings;
    if (n_warnings)
        fprintf(f, "<dt>Warnings</dt><dd>%zu (tickler check lists them)</dd>\n", n_warnings);
    fputs("</dl>\n<p class=\"src\">", f);
    tkl_html_fputs(a->file, f);
    if (a->line) /* a Word table's place names its row itself */
        fprintf(f, ":%u", a->line);
    fputs("</p>\n</article>\n", f);
}

/* A listed action and its objective, for grouping. */
struct row {
    const char *objective;
    size_t i; /* in the store */
};

/* By objective, then in plan order. */
static int row_cmp(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    int c = strcmp(a->objective, b->objective);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The rows of one objective. */
struct group {
    const struct row *rows;
    size_t n;
};

/* In plan order: by the first action of each. */
static int group_cmp(const void *x, const void *y)
{
    const struct group *a = x, *b = y;
    return (a->rows->i > b->rows->i) - (a->rows->i < b->rows->i);
}

/* One objective: its actions under each team shown, in directory order,
 * then those of no team. */
static void html_group(FILE *f, const struct status_view *v, const struct group *g)
{
    fputs("<section>\n<h2>", f);
    tkl_html_fputs(*g->rows->objective ? g->rows->objective : "No objective given", f);
    fputs("</h2>\n", f);
    for (size_t t = 0; t <= v->dir->n; t++) {
        if (v->team_filter && (t == v->dir->n || !v->team_on[t]))
            continue;
        bool any = false;
        for (size_t k = 0; k < g->n; k++) {
            const struct tkl_action *a = &v->store->actions[g->rows[k].i];
            if (t < v->dir->n ? !owns(a, &v->dir->teams[t]) : !unowned(v, a))
                continue;
            if (!any) {
                fputs("<h3>", f);
                tkl_html_fputs(t < v->dir->n ? v->dir->teams[t].name : "No team", f);
                fputs("</h3>\n", f);
                any = true;
            }
            html_action(f, v, g->rows[k].i, t);
        }
    }
    fputs("</section>\n", f);
}

/* The listed actions by objective (in plan order) and team. Returns 0 or
 * -ENOMEM. */
static int html_actions(FILE *f, const struct status_view *v)
{
    struct row *rows = calloc(v->listed + 1, sizeof(*rows));
    struct group *groups = calloc(v->listed + 1, sizeof(*groups));
    if (!rows || !groups) {
        free(rows);
        free(groups);
        return -ENOMEM;
    }
    size_t n = 0, n_groups = 0;
    for (size_t i = 0; i < v->store->n && n < v->listed; i++)
        if (is_listed(v, i))
            rows[n++] = (struct row){tkl_web_text_or(v->store->actions[i].objective, ""), i};
    qsort(rows, n, sizeof(*rows), row_cmp);
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || strcmp(rows[k].objective, rows[k - 1].objective) != 0)
            groups[n_groups++] = (struct group){&rows[k], 0};
        groups[n_groups - 1].n++;
    }
    qsort(groups, n_groups, sizeof(*groups), group_cmp);
    if (!n)
        fputs("<p>No action of the plan matches.</p>\n", f);
    for (size_t k = 0; k < n_groups; k++)
        html_group(f, v, &groups[k]);
    free(rows);
    free(groups);
    return 0;
}

/* The page: header, filters, summary, the actions. Returns 0 or a
 * negative errno. */
static int status_html(FILE *f, const struct status_view *v)
{
    char today[TKL_DAY_LONG_SIZE] = "", at[48];
    (void)tkl_day_long(v->today, today, sizeof(today));
    html_head(f);
    fputs("<body>\n<header>\n<h1>Plan status</h1>\n<p class=\"meta\">", f);
    fprintf(f,
            "%s; generated %s. Standing against the deadline today; a date within the first "
            "reminder of its ladder is due soon.</p>\n",
            today, tkl_web_when(v->now, at, sizeof(at)));
    if (v->outbox_error)
        fprintf(f,
                "<p class=\"meta\">The outbox could not be read (%s): last reminders are not "
                "shown.</p>\n",
                strerror(-v->outbox_error));
    fputs("</header>\n", f);
    html_state_bar(f, v);
    html_filter(f, v);
    html_summary(f, v);
    fputs("<main>\n", f);
    int r = html_actions(f, v);
    fputs("</main>\n</body>\n</html>\n", f);
    return r;
}

/* ---- JSON ----------------------------------------------------------- */

static json_t *jstr(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *jinstant(int64_t t)
{
    char buf[TKL_INSTANT_ISO_SIZE];
    return tkl_instant_iso(t, buf, sizeof(buf)) == 0 ? json_string(buf) : json_null();
}

static json_t *jday(int32_t day)
{
    char buf[TKL_DAY_ISO_SIZE];
    return day != TKL_NO_DAY && tkl_day_iso(day, buf, sizeof(buf)) == 0 ? json_string(buf)
                                                                        : json_null();
}

/* o, or NULL (o freed) when bad. */
static json_t *unless_bad(json_t *o, int bad)
{
    if (!bad)
        return o;
    json_decref(o);
    return NULL;
}

/* {"overdue": n, ..., "total": n} */
static json_t *json_counts(const size_t *c)
{
    json_t *o = json_object();
    int bad = !o;
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++)
        bad |= json_object_set_new(o, tkl_standing_name((enum tkl_standing)st),
                                   json_integer((json_int_t)c[st]));
    bad |= json_object_set_new(o, "total", json_integer((json_int_t)c[TKL_STANDING_COUNT]));
    return unless_bad(o, bad);
}

/* The teams shown, each with its counts; then the actions of no team
 * (id and name null) when there are any and no team was chosen. */
static json_t *json_teams(const struct status_view *v)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t t = 0; !bad && t <= v->dir->n; t++) {
        bool none = t == v->dir->n;
        if (v->team_filter ? none || !v->team_on[t]
                           : none && !v->team_counts[t][TKL_STANDING_COUNT])
            continue;
        json_t *o = json_object();
        bad |= !o;
        bad |= json_object_set_new(o, "id", jstr(none ? NULL : v->dir->teams[t].id));
        bad |= json_object_set_new(o, "name", jstr(none ? NULL : v->dir->teams[t].name));
        bad |= json_object_set_new(o, "counts", json_counts(v->team_counts[t]));
        bad |= json_array_append_new(arr, o);
    }
    return unless_bad(arr, bad);
}

/* The last reminder of a, or null. */
static json_t *json_reminder(const struct status_view *v, const struct tkl_action *a)
{
    const struct tkl_item_notice *x = last_of(v, a);
    if (!x)
        return json_null();
    json_t *o = json_object();
    int bad = !o;
    bad |= json_object_set_new(o, "at", jinstant(notice_at(x)));
    bad |= json_object_set_new(o, "queued_at", jinstant(x->created_at));
    bad |= json_object_set_new(o, "channel", jstr(x->channel));
    bad |= json_object_set_new(o, "recipient", jstr(x->recipient));
    bad |= json_object_set_new(o, "team", jstr(x->team_name));
    bad |= json_object_set_new(o, "team_id", jstr(x->team_id));
    bad |=
        json_object_set_new(o, "state", json_string(tkl_notice_state_name(x->state, x->attempts)));
    bad |= json_object_set_new(o, "sending", json_boolean(x->sending));
    bad |= json_object_set_new(o, "attempts", json_integer(x->attempts));
    bad |= json_object_set_new(o, "stage", jstr(x->stage_key));
    return unless_bad(o, bad);
}

/* Update u as {"by", "at"} and the members of names (NULL-ended pairs of
 * a name and a string, a NULL string for null). */
static json_t *json_update(const struct tkl_update *u, const char *const *more)
{
    json_t *o = json_object();
    int bad = !o;
    bad |= json_object_set_new(o, "by", json_string(u->recipient));
    bad |= json_object_set_new(o, "at", jinstant(u->at));
    for (; more && more[0]; more += 2)
        bad |= json_object_set_new(o, more[0], jstr(more[1]));
    return unless_bad(o, bad);
}

/* What the officers' updates of a say (see the top of this file), or
 * null when there are none. */
static json_t *json_answers(const struct status_view *v, const struct tkl_action *a)
{
    const struct tkl_answer *ans = tkl_answers_find(v->answers, a->id);
    if (!ans)
        return json_null();
    char *over = NULL;
    json_t *o = json_object(), *not_ours = json_array();
    int bad = !o || !not_ours || tkl_answer_overruled_text(ans, a, &over) < 0;
    const struct tkl_update *p = ans->progress, *z = tkl_answer_snooze(ans, v->today, NULL);
    const char *const progress[] = {"rag", p ? tkl_rag_name(p->rag) : NULL, "note",
                                    p ? p->note : NULL, NULL};
    bad |= json_object_set_new(o, "progress", p ? json_update(p, progress) : json_null());
    bad |= json_object_set_new(o, "complete",
                               ans->complete ? json_update(ans->complete, NULL) : json_null());
    json_t *snooze = z ? json_update(z, NULL) : json_null();
    if (z)
        bad |= !snooze || json_object_set_new(snooze, "until", jday(z->until_day));
    bad |= json_object_set_new(o, "snoozed", snooze);
    /* each snooze that holds, as the page lists them */
    json_t *snoozes = json_array();
    bad |= !snoozes;
    for (int i = 0; !bad && i < TKL_SNOOZE_SLOTS; i++) {
        const struct tkl_update *h = tkl_answer_slot(ans, i, v->today, NULL);
        if (!h)
            continue;
        json_t *one = json_update(h, NULL);
        bad |= !one || json_object_set_new(one, "until", jday(h->until_day)) ||
               json_object_set_new(one, "copies", json_boolean(i == TKL_SNOOZE_ALL));
        bad |= json_array_append_new(snoozes, one);
    }
    bad |= json_object_set_new(o, "snoozes", snoozes);
    for (size_t k = 0; !bad && k < ans->n_not_ours; k++) {
        const struct tkl_update *u = ans->not_ours[k];
        const char *const more[] = {
            "team_id", u->team_id, "team", team_name(v, u->team_id), "suggested", u->suggested_team,
            "note",    u->note,    NULL};
        bad |= json_array_append_new(not_ours, json_update(u, more));
    }
    bad |= json_object_set_new(o, "not_ours", not_ours);
    bad |= json_object_set_new(o, "overruled", jstr(over));
    free(over);
    return unless_bad(o, bad);
}

/* {"text", "kind", "date", "note", "problem"} of a's deadline. */
static json_t *json_deadline(const struct tkl_action *a)
{
    const struct tkl_deadline *d = &a->deadline;
    json_t *o = json_object();
    int bad = !o;
    bad |= json_object_set_new(o, "text", json_string(tkl_web_text_or(a->deadline_text, "")));
    bad |= json_object_set_new(o, "kind", json_string(tkl_deadline_kind_name(d->kind)));
    bad |= json_object_set_new(o, "date", jday(d->day));
    bad |= json_object_set_new(o, "note", jstr(d->note));
    bad |= json_object_set_new(o, "problem", jstr(tkl_deadline_problem(d)));
    return unless_bad(o, bad);
}

/* {"text", "read"} of a's status. */
static json_t *json_status(const struct tkl_action *a)
{
    json_t *o = json_object();
    int bad = !o;
    bad |= json_object_set_new(o, "text", jstr(a->status_text));
    bad |= json_object_set_new(o, "read", json_string(tkl_status_name(a->status)));
    return unless_bad(o, bad);
}

/* Action i as the JSON lists it. */
static json_t *json_action(const struct status_view *v, size_t i)
{
    const struct tkl_action *a = &v->store->actions[i];
    json_t *o = json_object(), *teams = json_array();
    int bad = !o || !teams;
    for (size_t k = 0; !bad && k < a->n_teams; k++)
        bad |= json_array_append_new(teams, json_string(a->teams[k]));
    bad |= json_object_set_new(o, "id", json_string(a->id));
    bad |= json_object_set_new(o, "title", json_string(tkl_web_text_or(a->title, "")));
    bad |= json_object_set_new(o, "commitment", jstr(a->commitment));
    bad |= json_object_set_new(o, "objective", jstr(a->objective));
    bad |= json_object_set_new(o, "owners", jstr(a->owners));
    bad |= json_object_set_new(o, "teams", teams);
    bad |= json_object_set_new(o, "deadline", json_deadline(a));
    bad |= json_object_set_new(o, "status", json_status(a));
    bad |= json_object_set_new(o, "standing", json_string(tkl_standing_name(v->standing[i])));
    bad |= json_object_set_new(o, "plan_standing", json_string(tkl_standing_name(v->plan[i])));
    bad |= json_object_set_new(o, "progress", jstr(a->progress));
    bad |= json_object_set_new(o, "last_reminder", json_reminder(v, a));
    bad |= json_object_set_new(o, "answers", json_answers(v, a));
    bad |= json_object_set_new(o, "warnings",
                               json_integer((json_int_t)tkl_action_rare(a)->n_warnings));
    bad |= json_object_set_new(o, "file", json_string(a->file));
    bad |= json_object_set_new(o, "line", json_integer(a->line));
    return unless_bad(o, bad);
}

/* {"teams": [ids], "states": [names]}: what the query chose. */
static json_t *json_filters(const struct status_view *v)
{
    json_t *o = json_object(), *teams = json_array(), *states = json_array();
    int bad = !o || !teams || !states;
    for (size_t t = 0; !bad && t < v->dir->n; t++)
        if (v->team_on[t])
            bad |= json_array_append_new(teams, json_string(v->dir->teams[t].id));
    for (unsigned st = 0; !bad && st < TKL_STANDING_COUNT; st++)
        if (v->state_on & 1u << st)
            bad |= json_array_append_new(states,
                                         json_string(tkl_standing_name((enum tkl_standing)st)));
    bad |= json_object_set_new(o, "teams", teams);
    bad |= json_object_set_new(o, "states", states);
    return unless_bad(o, bad);
}

/* The whole answer as a JSON document (malloc()ed), or NULL. */
static char *status_json(const struct status_view *v)
{
    json_t *root = json_object(), *actions = json_array();
    int bad = !root || !actions;
    for (size_t i = 0; !bad && i < v->store->n; i++)
        if (is_listed(v, i))
            bad |= json_array_append_new(actions, json_action(v, i));
    bad |= json_object_set_new(root, "generated", jinstant(v->now));
    bad |= json_object_set_new(root, "today", jday(v->today));
    bad |= json_object_set_new(root, "filters", json_filters(v));
    bad |= json_object_set_new(root, "summary", json_counts(v->counts));
    bad |= json_object_set_new(root, "teams", json_teams(v));
    bad |= json_object_set_new(root, "actions", actions);
    if (v->outbox_error)
        bad |= json_object_set_new(root, "outbox_error", json_string(strerror(-v->outbox_error)));
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    return text;
}

/* ---- The page --------------------------------------------------------- */

/* Writes the HTML page into a new buffer. Returns 0 with *ret_body and
 * *ret_len set, or a negative errno. */
static int render_html(const struct status_view *v, char **ret_body, size_t *ret_len)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    int r = status_html(f, v);
    if (ferror(f) && r == 0)
        r = -ENOMEM;
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(body);
        return r;
    }
    *ret_body = body;
    *ret_len = len;
    return 0;
}

int tkl_web_status(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    if (!s->rt)
        return -EAGAIN;
    struct status_view v;
    int r = view_init(&v, s, req);
    if (r == 0 && v.bad[0])
        r = tkl_http_text(resp, 400, v.bad);
    else if (r == 0 && req->req->route == TKL_ROUTE_STATUS_JSON) {
        char *text = status_json(&v);
        if (text)
            tkl_http_take(resp, "application/json", text, strlen(text));
        else
            r = -ENOMEM;
    } else if (r == 0) {
        char *body = NULL;
        size_t len = 0;
        if ((r = render_html(&v, &body, &len)) == 0)
            tkl_http_take(resp, "text/html; charset=utf-8", body, len);
    }
    view_free(&v);
    if (r == 0 && resp->status != 400) {
        resp->status = 200;
        tkl_http_etag_body(resp);
    }
    /* officers' addresses and notes: kept by no cache, indexed by no one */
    resp->cache = "private, no-store";
    resp->noindex = true;
    return r;
}
