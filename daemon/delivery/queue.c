#include "queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

int tkl_queue_pop(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, int64_t now, int64_t send_from,
                  struct tkl_due *ret, enum tkl_hold *ret_hold)
{
    struct tkl_due due;
    if (tkl_scheduler_pop_due(sched, sc, store, now, &due) < 0)
        return -ENOENT;
    const struct tkl_answer *ans = answers ? tkl_answers_find(answers, due.action->id) : NULL;
    /* only an answer holds (the local day is asked only for one) */
    enum tkl_hold hold =
        ans ? tkl_answer_holds(ans, teams->teams[due.team].id,
                               tkl_local_day(due.at > send_from ? due.at : send_from))
            : TKL_HOLD_NONE;
    int r = 0;
    if (hold == TKL_HOLD_SNOOZED && ans) {
        /* from the day it was recorded, or this reminder's if earlier */
        int32_t from = tkl_local_day(ans->snooze->at);
        /* its end is after the day this one is sent (else it would not hold) */
        r = tkl_scheduler_snooze_end(sched, sc, store, (size_t)(due.action - store->actions),
                                     due.team, due.r.day < from ? due.r.day : from,
                                     ans->snooze->until_day, INT64_MIN);
    }
    *ret = due;
    *ret_hold = hold;
    return r;
}

int tkl_queue_snoozes(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams, const struct tkl_store *store,
                      const struct tkl_answers *answers, const char *action_id, int64_t not_before)
{
    for (size_t i = 0; answers && i < answers->n; i++) {
        const struct tkl_answer *ans = &answers->v[i];
        if (!ans->snooze || (action_id && strcmp(action_id, ans->action_id) != 0))
            continue;
        const struct tkl_action *a = tkl_store_find(store, ans->action_id);
        for (size_t k = 0; a && k < a->n_teams; k++) {
            const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
            if (t && tkl_scheduler_snooze_end(
                         sched, sc, store, (size_t)(a - store->actions), (size_t)(t - teams->teams),
                         tkl_local_day(ans->snooze->at), ans->snooze->until_day, not_before) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* Logs a reminder an answer held back. */
static void log_held(const struct tkl_due *due, const struct tkl_team_dir *teams,
                     enum tkl_hold hold)
{
    log_debug("reminder held back by an officer's update (%s): %s; action=%s team=%s stage=%s",
              tkl_hold_name(hold), due->action->title, due->action->id, teams->teams[due->team].id,
              due->r.key);
}

/* Pops every due reminder into t and routes those answers do not hold
 * back into b. Returns 0 or -ENOMEM (what was popped is in t). */
static int take_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                    const struct tkl_team_dir *teams, const struct tkl_store *store,
                    const struct tkl_answers *answers, int64_t now, struct taken *t,
                    struct tkl_route_batch *b, struct tkl_queue_result *res)
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
        enum tkl_hold hold;
        int r = tkl_queue_pop(sched, sc, teams, store, answers, now, now, due, &hold);
        if (r == -ENOENT)
            return 0;
        t->n++;
        if (r < 0)
            return r;
        if (hold != TKL_HOLD_NONE) {
            res->held++;
            log_held(due, teams, hold);
            continue;
        }
        size_t routed = 0;
        const struct tkl_answer *ans = answers ? tkl_answers_find(answers, due->action->id) : NULL;
        if (tkl_route_add(b, teams, sc->escalate_to, due, ans, today, &routed) < 0)
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

/* Logs notice id, of digest i of b and durable, as queued, and counts it
 * in res. */
static void log_queued(const struct tkl_route_batch *b, size_t i, uint64_t id,
                       struct tkl_queue_result *res)
{
    struct tkl_notice n;
    tkl_route_notice(&b->digests[i], &n);
    res->committed++;
    log_info("queued notice: %zu action(s); notice=%" PRIu64 " channel=%s team=%s recipient=%s",
             n.n_entries, id, n.channel, n.team_id, n.recipient);
}

/* Commits the digests of b and syncs the outbox (one transaction for the
 * round when it is grouped); each notice is logged as queued and counted
 * in res once durable (an undone group's ids are given again). Returns 0,
 * or the first error: then the rest are not tried (the round is put back
 * whole, and each refusal can hold the loop for the outbox's busy
 * timeout). */
static int commit(const struct tkl_route_batch *b, struct tkl_outbox *outbox, int64_t batch_at,
                  int64_t now, struct tkl_queue_result *res)
{
    int err = 0;
    size_t written = 0;
    uint64_t *ids = calloc(b->n + 1, sizeof(*ids));
    if (!ids)
        return -ENOMEM;
    for (size_t i = 0; i < b->n; i++) {
        const struct tkl_digest *dg = &b->digests[i];
        struct tkl_notice n;
        const char *keys[dg->n + 1];
        tkl_route_notice(dg, &n);
        n.due_at = batch_at;
        for (size_t k = 0; k < dg->n; k++)
            keys[k] = dg->stage_keys[k];
        int r = tkl_outbox_put(outbox, &n, keys, now, &ids[i]);
        if (r < 0) {
            log_error("cannot commit a notice to the outbox: %s; channel=%s recipient=%s",
                      strerror(-r), n.channel, n.recipient);
            err = r;
            break;
        }
        written += ids[i] != 0;
        if (ids[i] && !tkl_outbox_dirty(outbox)) { /* its own transaction: durable now */
            log_queued(b, i, ids[i], res);
            ids[i] = 0;
        }
    }
    if (err == 0 && (err = tkl_outbox_sync(outbox)) < 0)
        log_error("cannot commit the round's %zu notices to the outbox: %s", written,
                  strerror(-err));
    for (size_t i = 0; err == 0 && i < b->n; i++)
        if (ids[i])
            log_queued(b, i, ids[i], res);
    free(ids);
    return err;
}

int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, struct tkl_outbox *outbox, int64_t now,
                  struct tkl_queue_result *ret)
{
    struct tkl_queue_result res = {0};
    struct tkl_route_batch batch = {0};
    struct taken t = {0};
    int64_t batch_at = INT64_MIN;
    int r = take_due(sched, sc, teams, store, answers, now, &t, &batch, &res);
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

/* The answer of a "not ours" u told to report_to, plain text. Returns a
 * new string or NULL. */
static char *not_ours_text(const struct tkl_team_dir *teams, const struct tkl_update *u)
{
    const struct tkl_team *t = u->team_id ? tkl_team_find(teams, u->team_id) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "Not ours: %s says this action is not ", u->recipient);
    if (t || u->team_id)
        fprintf(f, "for %s", t ? t->name : u->team_id);
    else
        fputs("theirs", f);
    fputs("; that team gets no more reminders for it until the plan changes.", f);
    if (u->suggested_team && *u->suggested_team)
        fprintf(f, "\nSuggested team: %s", u->suggested_team);
    if (u->note && *u->note)
        fprintf(f, "\nComment: %s", u->note);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

int tkl_queue_not_ours(struct tkl_outbox *outbox, const struct tkl_team_dir *teams,
                       const struct tkl_team *report, const struct tkl_action *a,
                       const struct tkl_update *u, int64_t now, size_t *ret_committed)
{
    struct tkl_notice_entry entry;
    char key[40];
    size_t committed = 0;
    int r = 0;
    char *text = not_ours_text(teams, u);
    uint64_t *ids = calloc(report->n_recipients + 1, sizeof(*ids));
    if (!text || !ids) {
        free(text);
        free(ids);
        return -ENOMEM;
    }
    tkl_route_entry(a, TKL_STAGE_ANSWER, tkl_local_day(now), false, &entry);
    entry.answer = text;
    snprintf(key, sizeof(key), "answer-%" PRId64, u->id);
    const char *keys[] = {key};
    for (size_t i = 0; r == 0 && i < report->n_recipients; i++) {
        struct tkl_notice n = {
            .size = sizeof(n),
            .channel = report->recipients[i].channel,
            .recipient = report->recipients[i].address,
            .team_id = report->id,
            .team_name = report->name,
            .due_at = now,
            .entries = &entry,
            .n_entries = 1,
            .thread_key = a->id,
            .intro = "An officer has said that this action of the plan is not their team's. "
                     "Please check who owns it: the plan decides, and the team gets its "
                     "reminders again once the plan changes.",
        };
        r = tkl_outbox_put(outbox, &n, keys, now, &ids[i]);
    }
    free(text);
    if (r == 0)
        r = tkl_outbox_sync(outbox);
    /* logged once durable: an undone group's ids are given again */
    for (size_t i = 0; r == 0 && i < report->n_recipients; i++)
        if (ids[i]) {
            committed++;
            log_info("queued \"not ours\" notice; notice=%" PRIu64 " update=%" PRId64
                     " channel=%s team=%s recipient=%s",
                     ids[i], u->id, report->recipients[i].channel, report->id,
                     report->recipients[i].address);
        }
    free(ids);
    if (r == 0)
        *ret_committed = committed;
    return r;
}
