#include "queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/day.h"
#include "../core/log.h"
#include "../core/text.h"
#include "../route/route.h"
#include "../schedule/holidays.h"
#include "../store/row.h"

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
    int32_t day = ans ? tkl_local_day(due.at > send_from ? due.at : send_from) : TKL_NO_DAY;
    enum tkl_hold hold =
        ans ? tkl_answer_holds(ans, teams->teams[due.team].id, day) : TKL_HOLD_NONE;
    /* the escalation of an action its team said is not theirs still goes,
     * as an action nobody owns is the one to escalate (the team is sent
     * none: due.disowned) */
    const struct tkl_team *esc =
        hold == TKL_HOLD_NOT_OURS ? tkl_route_escalation(teams, sc->escalate_to, &due, ans) : NULL;
    if (esc && esc->n_recipients) { /* else held, as nobody would be sent it */
        hold = TKL_HOLD_NONE;
        due.disowned = true;
    }
    int r = 0;
    if (hold == TKL_HOLD_SNOOZED && ans) {
        /* the end of each snooze that holds it (after the day this one is
         * sent, else it would not hold): held from the first day it held,
         * or this reminder's if earlier */
        for (int i = 0; r == 0 && i < TKL_SNOOZE_SLOTS; i++) {
            int64_t since;
            const struct tkl_update *z = tkl_answer_slot(ans, i, day, &since);
            if (!z)
                continue;
            int32_t from = tkl_scheduler_held_from(sc, since);
            r = tkl_scheduler_snooze_end(sched, sc, store, (size_t)(due.action - store->actions),
                                         due.team, due.r.day < from ? due.r.day : from,
                                         z->until_day, INT64_MIN, false);
        }
        /* an owning team's snooze holds the owners' reminders only: the
         * escalation is there for when the owners let an action slip, so
         * they cannot silence it alone (a snooze of the escalation team's,
         * or through a link of no owning team's, holds it all) */
        esc = tkl_route_escalation(teams, sc->escalate_to, &due, ans);
        if (esc && esc->n_recipients && !tkl_answer_holds_copies(ans, esc->id, day)) {
            hold = TKL_HOLD_NONE;
            due.snoozed = true;
        }
    }
    *ret = due;
    *ret_hold = hold;
    return r;
}

/* Schedules the end of ans's snooze, and of each hold its resumes ended,
 * for each team of a it held. Returns 0 or -ENOMEM. */
static int queue_ends(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams, const struct tkl_store *store,
                      const struct tkl_answer *ans, const struct tkl_action *a, int64_t not_before,
                      bool replanned)
{
    size_t action = (size_t)(a - store->actions);
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
        if (!t)
            continue;
        size_t team = (size_t)(t - teams->teams);
        int r = 0;
        /* a reminder sent before a snooze was recorded was not held */
        for (int i = 0; r == 0 && i < TKL_SNOOZE_SLOTS; i++) {
            int64_t since;
            const struct tkl_update *z = tkl_answer_slot(ans, i, INT32_MIN, &since);
            if (z)
                r = tkl_scheduler_snooze_end(sched, sc, store, action, team,
                                             tkl_scheduler_held_from(sc, since), z->until_day,
                                             not_before, replanned);
        }
        for (size_t i = 0; r == 0 && i < ans->n_resumed; i++) {
            const struct tkl_resumed *x = &ans->resumed[i];
            if (!x->team || !strcmp(x->team, t->id))
                r = tkl_scheduler_resume(sched, sc, store, action, team, x->since, x->u->at,
                                         not_before, replanned);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int tkl_queue_snoozes(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams, const struct tkl_store *store,
                      const struct tkl_answers *answers, const char *action_id, int64_t not_before,
                      bool replanned)
{
    for (size_t i = 0; answers && i < answers->n; i++) {
        const struct tkl_answer *ans = &answers->v[i];
        if ((!ans->snooze && !ans->snooze_all && !ans->n_resumed) ||
            (action_id && strcmp(action_id, ans->action_id) != 0))
            continue;
        const struct tkl_action *a = tkl_store_find(store, ans->action_id);
        if (a && queue_ends(sched, sc, teams, store, ans, a, not_before, replanned) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* Whether en is a reminder of a plan action (not an update request, a
 * prompt or a report), which a completion stops. */
static bool reminder_of_action(const struct tkl_notice_entry *en)
{
    if (en->kind == TKL_DEADLINE_EVENT || !en->item_id)
        return false;
    return en->stage == TKL_STAGE_LEAD || en->stage == TKL_STAGE_DUE ||
           en->stage == TKL_STAGE_OVERDUE || en->stage == TKL_STAGE_CHECKIN;
}

/* At most this many actions are named in a withdrawn notice's reason. */
#define COMPLETED_NAMED 8

int tkl_queue_completed(const struct tkl_answers *answers, const struct tkl_notice *n,
                        char **ret_why)
{
    *ret_why = NULL;
    if (!answers || !n->n_entries)
        return 0;
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *en = &n->entries[i];
        const struct tkl_answer *ans = tkl_answers_find(answers, en->item_id);
        if (!reminder_of_action(en) || !ans || !ans->complete)
            return 0;
    }
    char *why = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&why, &len);
    if (!f)
        return -ENOMEM;
    fputs("not sent: every action in it was marked complete before its turn came:", f);
    for (size_t i = 0; i < n->n_entries && i < COMPLETED_NAMED; i++)
        fprintf(f, "%s %s", i ? "," : "", n->entries[i].item_id);
    if (n->n_entries > COMPLETED_NAMED)
        fprintf(f, " and %zu more", n->n_entries - COMPLETED_NAMED);
    if (fclose(f) != 0) {
        free(why);
        return -ENOMEM;
    }
    *ret_why = why;
    return 1;
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
        /* a prompt sent late (a first start, days off) for an observance
         * that has ended by now prompts nothing */
        const struct tkl_deadline *dl = &due->action->deadline;
        if (dl->kind == TKL_DEADLINE_EVENT && dl->last_day < today) {
            char last[TKL_DAY_ISO_SIZE];
            if (tkl_day_iso(dl->last_day, last, sizeof(last)) < 0)
                snprintf(last, sizeof(last), "?");
            log_info("comms prompt not sent: %s ended on %s, before this late prompt; team=%s "
                     "stage=%s",
                     due->action->title, last, teams->teams[due->team].id, due->r.key);
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

/*
 * The puts of one round or report, each told on its own: a put's data is
 * its slot (which notice it is). Its end is told (ended) once every put
 * queued and the barrier after them were told, never from inside the call
 * that queued them.
 */
struct putset;
struct put_slot {
    struct putset *ps;
    size_t i;
};
struct putset {
    struct put_slot *slots;
    size_t pending; /* completions not yet told */
    size_t queued;  /* puts the state took */
    size_t told_ok; /* of them, told durable */
    int err;        /* the first refusal or undone group */
    bool refused;   /* err is a put's refusal (logged where it was made) */
    struct tkl_queue_result res;
    void (*durable)(struct putset *ps, size_t i, uint64_t id); /* logs notice i as queued */
    void (*ended)(struct putset *ps);
    tkl_queue_done_cb cb;
    void *data;
};

static int putset_init(struct putset *ps, size_t n, tkl_queue_done_cb cb, void *data)
{
    ps->slots = calloc(n + 1, sizeof(*ps->slots));
    if (!ps->slots)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        ps->slots[i] = (struct put_slot){.ps = ps, .i = i};
    ps->cb = cb;
    ps->data = data;
    return 0;
}

static void putset_told(struct putset *ps, int r)
{
    if (r < 0 && ps->err == 0)
        ps->err = r;
    if (--ps->pending == 0)
        ps->ended(ps);
}

static void on_put(void *data, int r, uint64_t id)
{
    struct put_slot *slot = data;
    struct putset *ps = slot->ps;
    ps->told_ok += r == 0;
    if (r == 0 && id) { /* id 0: every key logged before (an earlier run, another node) */
        ps->res.committed++;
        ps->durable(ps, slot->i, id);
    }
    putset_told(ps, r);
}

static void on_barrier(void *data, int r)
{
    putset_told(data, r);
}

/* Puts notice i into st's open group. Returns 0 or the refusal (kept). */
static int putset_put(struct putset *ps, struct tkl_state *st, size_t i, const struct tkl_notice *n,
                      const char *const *keys, int64_t now)
{
    int r = tkl_state_put(st, n, keys, now, on_put, &ps->slots[i]);
    if (r < 0)
        ps->err = r, ps->refused = true;
    else
        ps->pending++, ps->queued++;
    return r;
}

/* After the last put: a barrier, so that the end is told even when no
 * put was taken. Returns 0 (ended will be told) or a negative errno
 * (nothing pending: ended never told). */
static int putset_close(struct putset *ps, struct tkl_state *st)
{
    int r = tkl_state_sync(st, on_barrier, ps);
    if (r == 0)
        ps->pending++;
    else if (ps->err == 0)
        ps->err = r;
    return ps->pending ? 0 : ps->err;
}

/* A round whose puts wait for their completions, put a part at a time
 * when parts is set. */
struct tkl_queue_round {
    struct putset ps; /* first: a putset is its round */
    struct tkl_scheduler *sched;
    const struct tkl_store *store;
    struct taken t;
    struct tkl_route_batch batch;
    struct tkl_state *st;
    int64_t batch_at, now;
    size_t next;                  /* the first digest not put yet */
    struct tkl_queue_parts parts; /* cb NULL: the round in one part */
};

static void round_free(struct tkl_queue_round *rd)
{
    tkl_route_batch_free(&rd->batch);
    free(rd->t.v);
    free(rd->ps.slots);
    free(rd);
}

/* The scheduler gets back what it gave; the log keeps what was committed
 * from being queued again. */
static void round_restore(struct tkl_queue_round *rd)
{
    if (tkl_scheduler_restore(rd->sched, rd->store, rd->t.v, rd->t.n) < 0)
        log_error("out of memory putting %zu reminders back; they are lost", rd->t.n);
    else
        rd->ps.res.restored = rd->t.n;
}

/* Logs notice id, of digest i of the round and durable, as queued. */
static void round_durable(struct putset *ps, size_t i, uint64_t id)
{
    struct tkl_queue_round *rd = (struct tkl_queue_round *)ps;
    struct tkl_notice n;
    tkl_route_notice(&rd->batch.digests[i], &n);
    char items[72];
    log_info("queued notice: %s; notice=%" PRIu64 " channel=%s team=%s recipient=%s",
             tkl_notice_items(&n, items), id, n.channel, n.team_id, n.recipient);
}

static void round_ended(struct putset *ps)
{
    struct tkl_queue_round *rd = (struct tkl_queue_round *)ps;
    char why[TKL_STATE_FAILURE_MAX];
    if (ps->err < 0 && ps->err != -ECANCELED && !ps->refused)
        log_error("cannot commit %zu of the round's notices to the outbox: %s",
                  ps->queued - ps->told_ok, tkl_state_failure(rd->st, ps->err, why, sizeof(why)));
    if (ps->err < 0)
        round_restore(rd);
    ps->cb(ps->data, ps->err, &ps->res);
    round_free(rd);
}

/* Puts the next part of the round's digests (all of them when it has no
 * parts) into its state's open group. Stops at the first refusal
 * (logged): the round is put back whole when its puts are told, and each
 * refusal can hold the loop for the outbox's busy timeout. Returns whether
 * digests are left to put. */
static bool round_put(struct tkl_queue_round *rd)
{
    size_t end = rd->batch.n;
    if (rd->parts.cb && rd->parts.size && end - rd->next > rd->parts.size)
        end = rd->next + rd->parts.size;
    for (; rd->next < end; rd->next++) {
        const struct tkl_digest *dg = &rd->batch.digests[rd->next];
        struct tkl_notice n;
        const char *keys[dg->n + 1];
        tkl_route_notice(dg, &n);
        n.due_at = rd->batch_at;
        for (size_t k = 0; k < dg->n; k++)
            keys[k] = dg->stage_keys[k];
        int r = putset_put(&rd->ps, rd->st, rd->next, &n, keys, rd->now);
        if (r < 0) {
            char why[TKL_STATE_FAILURE_MAX];
            log_error("cannot commit a notice to the outbox: %s; channel=%s recipient=%s",
                      tkl_state_failure(rd->st, r, why, sizeof(why)), n.channel, n.recipient);
            rd->next = rd->batch.n; /* nothing more: the round is put back */
            return false;
        }
    }
    return rd->next < rd->batch.n;
}

/* A part's barrier: every put before it was told. The next part waits for
 * the caller (tkl_queue_more), holding this barrier's count so the round
 * does not end meanwhile; a refusal or undone group ends the round. */
static void on_part(void *data, int r)
{
    struct tkl_queue_round *rd = data;
    if (r < 0 || rd->ps.err < 0) {
        putset_told(&rd->ps, r);
        return;
    }
    rd->parts.cb(rd->ps.data, rd);
}

/* Puts the round's next part, then the barrier after it: a part's
 * (on_part) while digests are left, else the last (putset_close).
 * Returns 0 (the round's end will be told) or a negative errno (nothing
 * pending: it will not). */
static int round_part(struct tkl_queue_round *rd)
{
    if (round_put(rd) && rd->ps.err == 0) {
        int r = tkl_state_sync(rd->st, on_part, rd);
        if (r == 0) {
            rd->ps.pending++;
            return 0;
        }
        rd->ps.err = r;
    }
    return putset_close(&rd->ps, rd->st);
}

void tkl_queue_more(struct tkl_queue_round *rd)
{
    /* the held count keeps the round pending through round_part, so it
     * never fails here: a refusal is kept in the round's error */
    (void)round_part(rd);
    putset_told(&rd->ps, 0); /* the held count: may end the round */
}

void tkl_queue_abandon(struct tkl_queue_round *rd)
{
    putset_told(&rd->ps, -ECANCELED);
}

int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, struct tkl_state *state, int64_t now,
                  tkl_queue_done_cb cb, const struct tkl_queue_parts *parts, void *data,
                  struct tkl_queue_result *ret)
{
    struct tkl_queue_round *rd = calloc(1, sizeof(*rd));
    if (!rd) {
        *ret = (struct tkl_queue_result){0};
        return -ENOMEM;
    }
    rd->sched = sched;
    rd->store = store;
    rd->st = state;
    rd->now = now;
    rd->batch_at = INT64_MIN;
    if (parts)
        rd->parts = *parts;
    rd->ps.durable = round_durable;
    rd->ps.ended = round_ended;
    int r = take_due(sched, sc, teams, store, answers, now, &rd->t, &rd->batch, &rd->ps.res);
    if (r == 0) {
        for (size_t i = 0; i < rd->t.n; i++)
            if (rd->batch_at < rd->t.v[i].at)
                rd->batch_at = rd->t.v[i].at;
        if (tkl_route_sort(&rd->batch) < 0)
            log_error("out of memory ordering digests; they are sent unordered");
        r = putset_init(&rd->ps, rd->batch.n, cb, data);
    }
    if (r == 0)
        r = round_part(rd);
    *ret = rd->ps.res;
    if (r == 0)
        return 0;
    round_restore(rd);
    *ret = rd->ps.res;
    round_free(rd);
    return r;
}

/*
 * Who is still reminded of action a once no team of the plan's is (every
 * team of a->teams has a "not ours" of ans that holds), said to f; nothing
 * while some team still is. The reminders of an action with a deadline
 * are copied past its owner teams' escalation point to their escalation
 * team (tkl_route_escalates: the first such from the teams in the plan's
 * order), unless that team has disowned it too; otherwise nobody is
 * reminded of it.
 */
static void say_who_is_left(FILE *f, const struct tkl_team_dir *teams,
                            const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                            const struct tkl_answer *ans, int32_t today)
{
    const struct tkl_team *esc = NULL;
    int32_t esc_day = TKL_NO_DAY;
    if (a->n_teams == 0)
        return;
    for (size_t i = 0; i < a->n_teams; i++)
        if (tkl_answer_not_ours_since(ans, a->teams[i]) == INT64_MAX)
            return;
    for (size_t i = 0; !esc && i < a->n_teams; i++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[i]);
        if (t)
            esc = tkl_route_escalates(teams, sc, (size_t)(t - teams->teams), a, ans, &esc_day);
    }
    fprintf(f, "\nNo team is reminded of it now: %s.",
            a->n_teams == 1 ? "it was the only team the plan names"
                            : "every team the plan names has said it is not theirs");
    char day[TKL_DAY_LONG_SIZE];
    if (esc && esc_day <= today)
        fprintf(f, " Its overdue reminders still go to %s, as an escalation.", esc->name);
    else if (esc && tkl_day_long(esc_day, day, sizeof(day)) == 0)
        fprintf(f, " From %s its overdue reminders go to %s, as an escalation.", day, esc->name);
    else
        fputs(" Nobody will be, until the plan changes its owners or a team takes it back.", f);
}

/* Ends the text of update u that f, the memory stream of *text, writes
 * with u's comment, if any. Returns *text, or NULL (freed) when it could
 * not be written. */
static char *text_end(FILE *f, char **text, const struct tkl_update *u)
{
    if (u->note && *u->note) {
        fputs("\nComment: ", f);
        tkl_text_fput_quote(f, u->note);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(*text);
        return NULL;
    }
    return *text;
}

/* The answer of a "not ours" u, or of a resume u that took one back, told
 * to report_to, plain text (with say_who_is_left's, on day today). Returns
 * a new string or NULL. */
static char *not_ours_text(const struct tkl_team_dir *teams, const struct tkl_schedule_conf *sc,
                           const struct tkl_action *a, const struct tkl_answer *ans,
                           const struct tkl_update *u, int32_t today)
{
    const struct tkl_team *t = u->team_id ? tkl_team_find(teams, u->team_id) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    if (u->kind == TKL_UPDATE_RESUME)
        fprintf(f,
                "Ours after all: %s takes back the \"not ours\" of %s; that team gets its "
                "reminders for it again.",
                u->recipient, t ? t->name : u->team_id);
    else {
        fprintf(f, "Not ours: %s says this action is not ", u->recipient);
        if (t || u->team_id)
            fprintf(f, "for %s", t ? t->name : u->team_id);
        else
            fputs("theirs", f);
        fputs("; that team gets no more reminders for it until the plan changes.", f);
        say_who_is_left(f, teams, sc, a, ans, today);
    }
    if (u->suggested_team && *u->suggested_team) {
        fputs("\nSuggested team: ", f);
        tkl_text_fput_quote(f, u->suggested_team);
    }
    return text_end(f, &text, u);
}
/* One notice of a report: recipient i of team. */
struct target {
    const struct tkl_team *team;
    size_t i;
    const char *intro; /* the notice's intro, or NULL: its report_text's */
};

/* A report of one update whose puts wait for their completions (a "not
 * ours" to report_to, or a joint action's update to its other owning
 * teams). It keeps what its log lines name: a reload may free the teams
 * meanwhile. */
struct report {
    struct putset ps; /* first: a putset is its report */
    const char *what; /* "\"not ours\"", "joint action" */
    int64_t update;
    char **where; /* per notice: "channel=... team=... recipient=..." */
    size_t n;
};

static void report_free(struct report *rp)
{
    for (size_t i = 0; rp->where && i < rp->n; i++)
        free(rp->where[i]);
    free(rp->where);
    free(rp->ps.slots);
    free(rp);
}

static void report_durable(struct putset *ps, size_t i, uint64_t id)
{
    const struct report *rp = (const struct report *)ps;
    log_info("queued %s notice; notice=%" PRIu64 " update=%" PRId64 " %s", rp->what, id, rp->update,
             rp->where[i]);
}

static void report_ended(struct putset *ps)
{
    if (ps->cb)
        ps->cb(ps->data, ps->err, &ps->res);
    report_free((struct report *)ps);
}

/* What every notice of a report shares. */
struct report_text {
    const char *what; /* for the log: "\"not ours\"", "joint action" */
    const struct tkl_action *a;
    const struct tkl_update *u;
    enum tkl_stage stage;
    const char *answer; /* the entry's */
    const char *intro;
    const char *key_prefix; /* the stage key: key_prefix and u's id */
};

/*
 * Puts one notice of t to each of the n targets v, in the state's open
 * group, with the stage key "<t->key_prefix><u->id>" (so that each
 * recipient is told of an update once). Returns as tkl_queue_not_ours.
 */
static int put_told(struct tkl_state *state, const struct report_text *t, const struct target *v,
                    size_t n, int64_t now, tkl_queue_done_cb cb, void *data)
{
    struct tkl_notice_entry entry;
    char key[48];
    int r = 0;
    struct report *rp = calloc(1, sizeof(*rp));
    if (rp) {
        rp->n = n;
        rp->where = calloc(n ? n : 1, sizeof(*rp->where));
    }
    for (size_t i = 0; rp && rp->where && r == 0 && i < n; i++)
        if (asprintf(&rp->where[i], "channel=%s team=%s recipient=%s",
                     v[i].team->recipients[v[i].i].channel, v[i].team->id,
                     v[i].team->recipients[v[i].i].address) < 0) {
            rp->where[i] = NULL;
            r = -ENOMEM;
        }
    if (!rp || !rp->where || r < 0 || putset_init(&rp->ps, n, cb, data) < 0) {
        if (rp)
            report_free(rp);
        return -ENOMEM;
    }
    rp->what = t->what;
    rp->update = t->u->id;
    rp->ps.durable = report_durable;
    rp->ps.ended = report_ended;
    tkl_route_entry(t->a, t->stage, tkl_local_day(now), false, &entry);
    entry.answer = t->answer;
    snprintf(key, sizeof(key), "%s%" PRId64, t->key_prefix, t->u->id);
    const char *keys[] = {key};
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct tkl_team *team = v[i].team;
        struct tkl_notice nt = {
            .size = sizeof(nt),
            .channel = team->recipients[v[i].i].channel,
            .recipient = team->recipients[v[i].i].address,
            .team_id = team->id,
            .team_name = team->name,
            .due_at = now,
            .entries = &entry,
            .n_entries = 1,
            .thread_key = t->a->id,
            .intro = v[i].intro ? v[i].intro : t->intro,
        };
        r = putset_put(&rp->ps, state, i, &nt, keys, now);
    }
    if (r == 0)
        r = putset_close(&rp->ps, state);
    if (r < 0 && rp->ps.pending == 0) {
        report_free(rp);
    } else if (r < 0) {
        rp->ps.cb = NULL; /* what was queued is still logged when durable */
    }
    return r;
}

int tkl_queue_not_ours(struct tkl_state *state, const struct tkl_team_dir *teams,
                       const struct tkl_schedule_conf *sc, const struct tkl_team *report,
                       const struct tkl_action *a, const struct tkl_answer *ans,
                       const struct tkl_update *u, int64_t now, tkl_queue_done_cb cb, void *data)
{
    char *text = not_ours_text(teams, sc, a, ans, u, tkl_local_day(now));
    struct target *v = calloc(report->n_recipients ? report->n_recipients : 1, sizeof(*v));
    if (!text || !v) {
        free(text);
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < report->n_recipients; i++)
        v[i] = (struct target){report, i, NULL};
    const struct report_text t = {
        .what = "\"not ours\"",
        .a = a,
        .u = u,
        .stage = TKL_STAGE_ANSWER,
        .answer = text,
        .intro = u->kind == TKL_UPDATE_RESUME
                     ? "An officer has taken back their \"not ours\" for this action of "
                       "the plan: it is their team's after all, and its reminders go on. "
                       "Nothing needs reassigning on their account."
                     : "An officer has said that this action of the plan is not their "
                       "team's. Please check who owns it: the plan decides, and the team "
                       "gets its reminders again once the plan changes.",
        .key_prefix = "answer-",
    };
    int r = put_told(state, &t, v, report->n_recipients, now, cb, data);
    free(v);
    free(text);
    return r;
}

/* Whether team t of a joint action is told of u: an owning team other
 * than the one u was recorded for. */
static bool joint_told_team(const struct tkl_update *u, const struct tkl_team *t)
{
    return !u->team_id || strcmp(u->team_id, t->id) != 0;
}

/* Who recorded u, for a headline: their team's name, else their address. */
static const char *joint_by(const struct tkl_team_dir *teams, const struct tkl_update *u)
{
    const struct tkl_team *t = u->team_id ? tkl_team_find(teams, u->team_id) : NULL;
    return t ? t->name : u->recipient;
}

/* The entry's answer of joint update u (see TKL_STAGE_JOINT): a headline,
 * then who and when, then the comment. Returns a new string or NULL. */
static char *joint_text(const struct tkl_team_dir *teams, const struct tkl_update *u)
{
    char day[TKL_DAY_LONG_SIZE], until[TKL_DAY_LONG_SIZE];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    const char *by = joint_by(teams, u);
    if (tkl_day_long(tkl_local_day(u->at), day, sizeof(day)) < 0)
        snprintf(day, sizeof(day), "?");
    switch (u->kind) {
    case TKL_UPDATE_COMPLETE:
        fprintf(f, "Marked complete by %s", by);
        break;
    case TKL_UPDATE_SNOOZE:
        if (tkl_day_long(u->until_day, until, sizeof(until)) < 0)
            snprintf(until, sizeof(until), "?");
        fprintf(f, "Snoozed by %s until %s", by, until);
        break;
    case TKL_UPDATE_REOPEN:
        fprintf(f, "Reopened by %s", by);
        break;
    default:
        fprintf(f, "Reminders resumed by %s", by);
        break;
    }
    fprintf(f, "\n%s, %s", u->recipient, day);
    return text_end(f, &text, u);
}

/* Whether team t has action a only as the fallback team (teams'), for
 * owner names that match no team: no name of a's owners cell matches it.
 * -ENOMEM when that cannot be told. */
static int joint_as_fallback(const struct tkl_team_dir *teams, const struct tkl_action *a,
                             const struct tkl_team *t)
{
    if (!teams->fallback || strcmp(t->id, teams->fallback) != 0 || !tkl_action_rare(a)->n_unmatched)
        return 0;
    char **names = NULL;
    size_t n = 0;
    int r = tkl_owners_split(a->owners, &names, &n);
    for (size_t i = 0; r == 0 && i < n && i < TKL_ROW_MAX_OWNERS; i++) { /* as the store reads */
        const struct tkl_team *found[32];
        size_t nf = 0;
        r = tkl_team_match_list(teams, names[i], found, 32, &nf);
        for (size_t k = 0; r == 0 && k < nf; k++)
            if (found[k] == t)
                r = -EEXIST;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r == -EEXIST ? 0 : r < 0 ? r : 1;
}

/* Why a team is told of a joint update, the start of its intro's second
 * sentence: the plan names it too, or (as_fallback, with a's first owner
 * name that matches no team) it has the action as the fallback team.
 * Returns a new string or NULL. */
static char *joint_why(const struct tkl_action *a, bool as_fallback)
{
    char *why = NULL;
    const struct tkl_action_rare *rare = tkl_action_rare(a);
    if (!as_fallback || !rare->n_unmatched)
        return strdup("The plan names your team for it too");
    size_t more = rare->n_unmatched - 1;
    if (asprintf(&why,
                 "Your team has it too, as the fallback team for \xe2\x80\x9c%s\xe2\x80\x9d%s, "
                 "a name in the plan that matches no team",
                 rare->unmatched[0], more ? " and other names" : "") < 0)
        return NULL;
    return why;
}

/* The intro of the notice of joint update u to the other owning teams,
 * why they are told (joint_why), on day today with ans (NULL: none) the
 * action's answer: a snooze's says when the owners' reminders go on, at
 * the end of the snooze of ans that holds them longer, when that is not
 * u (tkl_answer_snooze). */
static char *joint_intro(const struct tkl_team_dir *teams, const struct tkl_update *u,
                         const char *why, const struct tkl_answer *ans, int32_t today,
                         const struct tkl_holidays *h)
{
    char day[TKL_DAY_LONG_SIZE], until[TKL_DAY_LONG_SIZE];
    char *text = NULL;
    const char *by = joint_by(teams, u);
    const struct tkl_update *held = tkl_answer_snooze(ans, today, NULL);
    int32_t end = held && held->until_day > u->until_day ? held->until_day : u->until_day;
    if (tkl_day_long(tkl_local_day(u->at), day, sizeof(day)) < 0)
        snprintf(day, sizeof(day), "?");
    int r = -1;
    switch (u->kind) {
    case TKL_UPDATE_COMPLETE:
        r = asprintf(&text,
                     "%s marked this action complete on %s. %s, so your reminders for it have "
                     "stopped. If that is wrong, open the link below: its page shows the action "
                     "and Not complete after all.",
                     by, day, why);
        break;
    case TKL_UPDATE_SNOOZE:
        if (tkl_day_long(tkl_working_day_on_or_after(h, end), until, sizeof(until)) < 0)
            snprintf(until, sizeof(until), "?");
        r = asprintf(&text,
                     "%s snoozed this action on %s. %s, so your reminders for it are held%s: "
                     "they go on from %s. If that is wrong, open the link below: its page shows "
                     "the action and Resume reminders.",
                     by, day, why,
                     end != u->until_day ? ", and another snooze holds them longer" : "", until);
        break;
    case TKL_UPDATE_REOPEN:
        r = asprintf(&text,
                     "%s said on %s that this action is not complete after all. %s, so your "
                     "reminders for it go on as the plan says. The link below opens its page.",
                     by, day, why);
        break;
    default:
        r = asprintf(&text,
                     "%s ended the snooze of this action on %s. %s, so your reminders for it go "
                     "on as the plan says. The link below opens its page.",
                     by, day, why);
        break;
    }
    return r < 0 ? NULL : text;
}

int tkl_queue_joint(struct tkl_state *state, const struct tkl_team_dir *teams,
                    const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                    const struct tkl_answer *ans, const struct tkl_update *u, int64_t now,
                    tkl_queue_done_cb cb, void *data)
{
    size_t n = 0, cap = 0;
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
        cap += t ? t->n_recipients : 0;
    }
    struct target *v = calloc(cap ? cap : 1, sizeof(*v));
    char *text = joint_text(teams, u), *intro[2] = {NULL, NULL};
    int r = v && text ? 0 : -ENOMEM;
    /* a fallback team's intro only for an action with a name that matched no team */
    for (int fb = 0; r == 0 && fb < (tkl_action_rare(a)->n_unmatched ? 2 : 1); fb++) {
        char *why = joint_why(a, fb);
        intro[fb] =
            why ? joint_intro(teams, u, why, ans, tkl_local_day(now), &sc->policy.holidays) : NULL;
        free(why);
        r = intro[fb] ? 0 : -ENOMEM;
    }
    for (size_t k = 0; r == 0 && k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
        if (!t || !joint_told_team(u, t) || (r = joint_as_fallback(teams, a, t)) < 0)
            continue;
        for (size_t i = 0; i < t->n_recipients; i++)
            if (strcasecmp(t->recipients[i].address, u->recipient) != 0)
                v[n++] = (struct target){t, i, intro[r]};
        r = 0;
    }
    if (r < 0) {
        free(v);
        free(text);
        free(intro[0]);
        free(intro[1]);
        return r;
    }
    const struct report_text t = {
        .what = "joint action",
        .a = a,
        .u = u,
        .stage = TKL_STAGE_JOINT,
        .answer = text,
        .intro = intro[0],
        .key_prefix = "joint-",
    };
    r = put_told(state, &t, v, n, now, cb, data);
    free(v);
    free(text);
    free(intro[0]);
    free(intro[1]);
    return r;
}
