#include "route.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>

#include "../core/text.h"

/* FNV-1a of channel, a NUL, then recipient. */
static size_t key_hash(const char *channel, const char *recipient)
{
    uint64_t h = 1469598103934665603u;
    for (const char *p = channel;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
        if (!*p)
            break;
    }
    for (const char *p = recipient; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (size_t)h;
}

/* The slot of b's table that holds (channel, recipient), or the empty one
 * where it goes. */
static size_t *slot_of(const struct tkl_route_batch *b, const char *channel, const char *recipient)
{
    size_t mask = b->n_slots - 1, i = key_hash(channel, recipient) & mask;
    while (b->slots[i]) {
        const struct tkl_digest *d = &b->digests[b->slots[i] - 1];
        if (!strcmp(d->channel, channel) && !strcmp(d->recipient, recipient))
            break;
        i = (i + 1) & mask;
    }
    return &b->slots[i];
}

/* Makes b's table room for one more digest (at most half full). Returns 0
 * or -ENOMEM (the old table kept). */
static int slots_grow(struct tkl_route_batch *b)
{
    if ((b->n + 1) * 2 <= b->n_slots)
        return 0;
    size_t n = b->n_slots ? b->n_slots * 2 : 64;
    size_t *v = calloc(n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    free(b->slots);
    b->slots = v;
    b->n_slots = n;
    for (size_t i = 0; i < b->n; i++)
        *slot_of(b, b->digests[i].channel, b->digests[i].recipient) = i + 1;
    return 0;
}

/* The digest of (channel, recipient) in b, made when there is none (one
 * hash lookup: a round of many recipients is not quadratic). NULL when out
 * of memory. */
static struct tkl_digest *digest_for(struct tkl_route_batch *b, const char *channel,
                                     const char *recipient, const struct tkl_team *team, int64_t at)
{
    if (slots_grow(b) < 0)
        return NULL;
    size_t *slot = slot_of(b, channel, recipient);
    if (*slot)
        return &b->digests[*slot - 1];
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct tkl_digest *p = realloc(b->digests, cap * sizeof(*p));
        if (!p)
            return NULL;
        b->digests = p;
        b->cap = cap;
    }
    struct tkl_digest *d = &b->digests[b->n];
    *d = (struct tkl_digest){.team = team, .at = at};
    d->channel = strdup(channel);
    d->recipient = strdup(recipient);
    if (!d->channel || !d->recipient) {
        free(d->channel);
        free(d->recipient);
        return NULL;
    }
    *slot = ++b->n;
    return d;
}

void tkl_route_entry(const struct tkl_action *a, enum tkl_stage stage, int32_t today, bool late,
                     struct tkl_notice_entry *ret)
{
    int32_t dl = a->deadline.day;
    *ret = (struct tkl_notice_entry){
        .size = sizeof(struct tkl_notice_entry),
        .item_id = a->id,
        .title = a->title,
        .commitment = a->commitment && *a->commitment ? a->commitment : NULL,
        .owners = a->owners,
        .deadline_text = a->deadline_text,
        .status = a->status_text,
        .progress = a->progress && *a->progress ? a->progress : NULL,
        .deadline_day = dl,
        .kind = a->deadline.kind,
        .stage = stage,
        .days_left = dl == TKL_NO_DAY ? 0 : dl - today,
        .late = late,
        .category = tkl_action_rare(a)->category,
        .url = tkl_action_rare(a)->url,
    };
}

/* Of two answers of one action through two of its teams (an escalation),
 * the one to show: the fuller, as each says what holds for its own team
 * ("Not ours" is one team's); kept when they are alike. */
static const char *fuller_answer(const char *kept, const char *other)
{
    return other && (!kept || strlen(other) > strlen(kept)) ? other : kept;
}

static int digest_add(struct tkl_digest *d, const struct tkl_due *due, const char *answer,
                      int32_t today)
{
    const struct tkl_action *a = due->action;
    /* an action reached twice through two teams is usually the last entry
     * (the fuller answer kept: see sort_digest); other repeats are removed
     * by tkl_route_sort() */
    if (d->n && d->entries[d->n - 1].item_id == a->id) {
        d->entries[d->n - 1].answer = fuller_answer(d->entries[d->n - 1].answer, answer);
        return 0;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1; /* most digests hold one or a few */
        struct tkl_notice_entry *e = realloc(d->entries, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        d->entries = e;
        char(*k)[32] = realloc(d->stage_keys, cap * sizeof(*k));
        if (!k)
            return -ENOMEM;
        d->stage_keys = k;
        d->cap = cap;
    }
    tkl_route_entry(a, due->r.stage, today, due->late, &d->entries[d->n]);
    d->entries[d->n].answer = answer;
    memcpy(d->stage_keys[d->n], due->r.key, sizeof(due->r.key));
    d->n++;
    return 0;
}

static int route_team(struct tkl_route_batch *b, const struct tkl_team *t,
                      const struct tkl_due *due, const char *answer, int32_t today, size_t *routed)
{
    for (size_t i = 0; i < t->n_recipients; i++) {
        struct tkl_digest *d =
            digest_for(b, t->recipients[i].channel, t->recipients[i].address, t, due->at);
        if (!d || digest_add(d, due, answer, today) < 0)
            return -ENOMEM;
        (*routed)++;
    }
    return 0;
}

/* "3 Dec 2026", the local day of instant t. */
static void short_day(int64_t t, char buf[16])
{
    int y, m, d;
    tkl_day_to_civil(tkl_local_day(t), &y, &m, &d);
    snprintf(buf, 16, "%d %.3s %d", d, tkl_month_name(m), y);
}

/* Writes ": " and note (NULL or empty: nothing) on one line, isolated
 * (tkl_text_fput_quote). */
static void put_note(FILE *f, const char *note)
{
    if (note && *note) {
        fputs(": ", f);
        tkl_text_fput_quote(f, note);
    }
}

int tkl_route_answer_text(const struct tkl_answer *ans, const struct tkl_action *a,
                          const char *team, int32_t today, bool snoozed_copy, char **ret)
{
    char *over = NULL, *text = NULL, day[16];
    size_t len = 0;
    const struct tkl_update *p = ans ? ans->progress : NULL;
    /* a completion reopened, or a hold resumed: why its reminders came
     * back */
    const struct tkl_resumed *x = tkl_answer_resumed(ans, team);
    const struct tkl_update *re = ans ? ans->reopened : NULL,
                            *rs = x && tkl_answer_resume_shown(x, today) ? x->u : NULL, *no = NULL;
    /* the team's "not ours", said to the team its escalation goes to */
    for (size_t i = 0; team && ans && i < ans->n_not_ours; i++)
        if (!strcmp(ans->not_ours[i]->team_id, team))
            no = ans->not_ours[i];
    /* the escalation's copy of a reminder an owning team's snooze holds
     * (due->snoozed, tkl_queue_pop): it says the owners saw to it */
    const struct tkl_update *sn = snoozed_copy && ans ? ans->snooze : NULL;
    if (ans && tkl_answer_overruled_text(ans, a, &over) < 0)
        return -ENOMEM;
    if (!p && !over && !re && !rs && !no && !sn) {
        *ret = NULL;
        return 0;
    }
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(over);
        return -ENOMEM;
    }
    if (re) {
        short_day(re->at, day);
        fprintf(f, "Reopened after it was marked complete, %s on %s", re->recipient, day);
        put_note(f, re->note);
    }
    if (rs) {
        short_day(rs->at, day);
        fprintf(f, "%sReminders resumed, %s on %s", re ? "\n" : "", rs->recipient, day);
        put_note(f, rs->note);
    }
    if (no) {
        short_day(no->at, day);
        fprintf(f, "%sNot ours, %s on %s", re || rs ? "\n" : "", no->recipient, day);
        put_note(f, no->note);
        if (no->suggested_team && *no->suggested_team) {
            fputs(" (suggested: ", f);
            tkl_text_fput_quote(f, no->suggested_team);
            fputc(')', f);
        }
    }
    if (sn) {
        char until[TKL_DAY_LONG_SIZE];
        if (tkl_day_long(sn->until_day, until, sizeof(until)) < 0)
            snprintf(until, sizeof(until), "a later day");
        short_day(sn->at, day);
        fprintf(f,
                "%sSnoozed by its owners until %s, %s on %s; their reminders are held until "
                "then, this escalation goes on",
                re || rs || no ? "\n" : "", until, sn->recipient, day);
        if (sn->note && *sn->note) {
            fputs(". Their reason: \xe2\x80\x9c", f);
            tkl_text_fput_quote(f, sn->note);
            fputs("\xe2\x80\x9d", f);
        }
    }
    if (p) {
        short_day(p->at, day);
        fprintf(f, "%sProgress%s%s%s, %s on %s", re || rs || no || sn ? "\n" : "",
                p->rag ? " (" : "", tkl_rag_name(p->rag), p->rag ? ")" : "", p->recipient, day);
        put_note(f, p->note);
    }
    if (over)
        fprintf(f, "%s%s", p || re || rs || no || sn ? "\n" : "", over);
    free(over);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return -ENOMEM;
    }
    *ret = text;
    return 0;
}

int tkl_route_keep_text(struct tkl_route_batch *b, char *text)
{
    char **v = realloc(b->texts, (b->n_texts + 1) * sizeof(*v));
    if (!v) {
        free(text);
        return -ENOMEM;
    }
    b->texts = v;
    b->texts[b->n_texts++] = text;
    return 0;
}

/* The team team index team's escalations go to: its escalate_to, else
 * escalate_to; NULL when there is none, it is the team itself, or it has
 * said the action is not theirs (a "not ours" of ans that holds, whatever
 * else holds, such as the owners' snooze: it is not brought back). */
static const struct tkl_team *escalation_team(const struct tkl_team_dir *teams,
                                              const char *escalate_to, size_t team,
                                              const struct tkl_answer *ans)
{
    const struct tkl_team *t = &teams->teams[team];
    const char *to = t->escalate_to ? t->escalate_to : escalate_to;
    const struct tkl_team *esc = to ? tkl_team_find(teams, to) : NULL;
    if (!esc || esc == t || tkl_answer_not_ours_since(ans, esc->id) != INT64_MAX)
        return NULL;
    return esc;
}

const struct tkl_team *tkl_route_escalation(const struct tkl_team_dir *teams,
                                            const char *escalate_to, const struct tkl_due *due,
                                            const struct tkl_answer *ans)
{
    return due->r.escalate ? escalation_team(teams, escalate_to, due->team, ans) : NULL;
}

const struct tkl_team *tkl_route_escalates(const struct tkl_team_dir *teams,
                                           const struct tkl_schedule_conf *sc, size_t team,
                                           const struct tkl_action *a, const struct tkl_answer *ans,
                                           int32_t *ret_day)
{
    const struct tkl_team *esc = escalation_team(teams, sc->escalate_to, team, ans);
    if (!esc || !esc->n_recipients || a->deadline.day == TKL_NO_DAY)
        return NULL;
    int32_t day = tkl_scheduler_first_escalation(sc, a, team, a->deadline.day);
    if (day == TKL_NO_DAY)
        return NULL;
    *ret_day = day;
    return esc;
}

int tkl_route_add(struct tkl_route_batch *b, const struct tkl_team_dir *teams,
                  const char *escalate_to, const struct tkl_due *due, const struct tkl_answer *ans,
                  int32_t today, size_t *ret_routed)
{
    size_t routed = 0;
    char *answer = NULL;
    const struct tkl_team *t = &teams->teams[due->team];
    const struct tkl_team *esc = tkl_route_escalation(teams, escalate_to, due, ans);
    int r = tkl_route_answer_text(ans, due->action, t->id, today, due->snoozed, &answer);
    if (r == 0 && answer)
        r = tkl_route_keep_text(b, answer);
    if (r == 0 && !due->disowned && !due->snoozed)
        r = route_team(b, t, due, answer, today, &routed);
    if (r == 0 && esc)
        r = route_team(b, esc, due, answer, today, &routed);
    *ret_routed = routed;
    return r;
}

/* overdue, dated, check-ins, prompts, look-ahead */
static int rank(const struct tkl_notice_entry *e)
{
    if (e->stage == TKL_STAGE_LOOKAHEAD)
        return 4;
    if (e->kind == TKL_DEADLINE_EVENT)
        return 3;
    if (e->stage == TKL_STAGE_OVERDUE)
        return 0;
    if (e->deadline_day != TKL_NO_DAY)
        return 1;
    return 2;
}

struct slot {
    const struct tkl_notice_entry *e;
    size_t i;           /* position when added */
    const char *answer; /* the fullest answer of e's action in the digest */
};

static int by_item(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    int c = strcmp(x->e->item_id, y->e->item_id);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int by_urgency(const void *a, const void *b)
{
    const struct tkl_notice_entry *x = ((const struct slot *)a)->e,
                                  *y = ((const struct slot *)b)->e;
    int rx = rank(x), ry = rank(y);
    if (rx != ry)
        return rx - ry;
    if (rx != 2 && x->deadline_day != y->deadline_day)
        return (x->deadline_day > y->deadline_day) - (x->deadline_day < y->deadline_day);
    return strcmp(x->item_id, y->item_id);
}

/* Drops repeated actions (keeping the first added) and orders the rest.
 * Returns 0 or -ENOMEM (then d is unchanged). */
static int sort_digest(struct tkl_digest *d)
{
    if (d->n < 2)
        return 0;
    struct slot *v = malloc(d->n * sizeof(*v));
    struct tkl_notice_entry *e = malloc(d->n * sizeof(*e));
    char(*k)[32] = malloc(d->n * sizeof(*k));
    if (!v || !e || !k) {
        free(v);
        free(e);
        free(k);
        return -ENOMEM;
    }
    for (size_t i = 0; i < d->n; i++)
        v[i] = (struct slot){&d->entries[i], i, d->entries[i].answer};
    qsort(v, d->n, sizeof(*v), by_item);
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (n == 0 || strcmp(v[n - 1].e->item_id, v[i].e->item_id) != 0) {
            v[n++] = v[i];
            continue;
        }
        /* the same action through another team: whichever was routed first */
        v[n - 1].answer = fuller_answer(v[n - 1].answer, v[i].answer);
    }
    qsort(v, n, sizeof(*v), by_urgency);
    for (size_t i = 0; i < n; i++) {
        e[i] = *v[i].e;
        e[i].answer = v[i].answer;
        memcpy(k[i], d->stage_keys[v[i].i], sizeof(k[i]));
    }
    free(v);
    free(d->entries);
    free(d->stage_keys);
    d->entries = e;
    d->stage_keys = k;
    d->cap = d->n; /* the size of the new arrays */
    d->n = n;
    return 0;
}

int tkl_route_sort(struct tkl_route_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (sort_digest(&b->digests[i]) < 0)
            return -ENOMEM;
    return 0;
}

/* Whether an owning team of a that has not said a is not theirs (by ans,
 * on today) reaches recipient on channel. */
static bool reached_as_owner(const struct tkl_action *a, const struct tkl_answer *ans,
                             int32_t today, const struct tkl_team_dir *teams, const char *channel,
                             const char *recipient)
{
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[k]);
        if (!t || tkl_answer_holds(ans, t->id, today) == TKL_HOLD_NOT_OURS)
            continue; /* its reminders are held: it is sent none */
        for (size_t i = 0; i < t->n_recipients; i++)
            if (!strcmp(t->recipients[i].channel, channel) &&
                !strcmp(t->recipients[i].address, recipient))
                return true;
    }
    return false;
}

/* Whether entry e of n is an overdue reminder (the only kind escalated)
 * of an action of st that none of its owning teams reaches n's recipient
 * with. */
static bool copied(const struct tkl_notice *n, const struct tkl_notice_entry *e,
                   const struct tkl_store *st, const struct tkl_answers *answers, int32_t today,
                   const struct tkl_team_dir *teams)
{
    if (e->kind == TKL_DEADLINE_EVENT || !e->item_id || e->stage != TKL_STAGE_OVERDUE)
        return false;
    const struct tkl_action *a = tkl_store_find(st, e->item_id);
    return a && a->n_teams &&
           !reached_as_owner(a, answers ? tkl_answers_find(answers, a->id) : NULL, today, teams,
                             n->channel, n->recipient);
}

int tkl_route_copies_intro(const struct tkl_notice *n, const struct tkl_store *st,
                           const struct tkl_answers *answers, int32_t today,
                           const struct tkl_team_dir *teams, char **ret)
{
    size_t copies = 0;
    *ret = NULL;
    if ((n->intro && *n->intro) || !n->channel || !n->recipient || !st)
        return 0;
    for (size_t i = 0; i < n->n_entries; i++)
        copies += copied(n, &n->entries[i], st, answers, today, teams);
    if (!copies)
        return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -ENOMEM;
    if (copies == n->n_entries && copies == 1)
        fputs("This action is another team's and long overdue. It is copied to you, the team its "
              "reminders escalate to, to follow it up with them.",
              f);
    else if (copies == n->n_entries)
        fputs("These actions are other teams' and long overdue. They are copied to you, the team "
              "their reminders escalate to, to follow them up with their owners.",
              f);
    else {
        fputs("Copied to you, the team their reminders escalate to, as they are other teams' and "
              "long overdue: ",
              f);
        size_t k = 0;
        for (size_t i = 0; i < n->n_entries; i++) {
            if (!copied(n, &n->entries[i], st, answers, today, teams))
                continue;
            const char *sep = k == 0 ? "" : k + 1 == copies ? " and " : ", ";
            fprintf(f, "%s%s", sep, n->entries[i].item_id);
            k++;
        }
        fputs(n->n_entries - copies == 1 ? ". The other is your team's."
                                         : ". The others are your team's.",
              f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return -ENOMEM;
    }
    *ret = text;
    return 0;
}

void tkl_route_notice(const struct tkl_digest *d, struct tkl_notice *ret)
{
    *ret = (struct tkl_notice){
        .size = sizeof(struct tkl_notice),
        .channel = d->channel,
        .recipient = d->recipient,
        .team_id = d->team->id,
        .team_name = d->team->name,
        .due_at = d->at,
        .entries = d->entries,
        .n_entries = d->n,
        .thread_key = d->n == 1 ? d->entries[0].item_id : NULL,
    };
}

void tkl_route_batch_free(struct tkl_route_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->digests[i].channel);
        free(b->digests[i].recipient);
        free(b->digests[i].entries);
        free(b->digests[i].stage_keys);
    }
    for (size_t i = 0; i < b->n_texts; i++)
        free(b->texts[i]);
    free(b->texts);
    free(b->digests);
    free(b->slots);
    memset(b, 0, sizeof(*b));
}
