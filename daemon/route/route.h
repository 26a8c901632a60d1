/*
 * Routing: reminders that fall due together become one digest per
 * (channel, recipient). A team's recipients come from the team directory;
 * an overdue nag past the escalation point also goes to the escalation
 * team (the owning team's escalate_to, else schedule.escalate_to).
 */
#ifndef TKL_ROUTE_H
#define TKL_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

#include "../schedule/scheduler.h"
#include "../team/team.h"
#include "../update/answer.h"

struct tkl_digest {
    char *channel;
    char *recipient;
    const struct tkl_team *team; /* first team that routed here */
    int64_t at;
    struct tkl_notice_entry *entries;
    char (*stage_keys)[32];
    size_t n;
    size_t cap;
};

struct tkl_route_batch {
    struct tkl_digest *digests;
    size_t n;
    size_t cap;
    char **texts; /* the entries' answers, owned by the batch */
    size_t n_texts;
    size_t *slots;  /* hash of (channel, recipient): digest index + 1, 0 empty */
    size_t n_slots; /* a power of two, at least twice n; 0: no table yet */
};

/* Keeps text (taken, also on failure) for as long as b: an entry's
 * answer made after routing. Returns 0 or -ENOMEM. */
int tkl_route_keep_text(struct tkl_route_batch *b, char *text);

/* The digest entry of action a at stage, seen from today; its strings
 * point into the action (its answer is NULL). */
void tkl_route_entry(const struct tkl_action *a, enum tkl_stage stage, int32_t today, bool late,
                     struct tkl_notice_entry *ret);

/*
 * What officers' updates say of action a in a digest entry (its answer),
 * from ans (NULL: none), plain text: a completion reopened ("Reopened
 * after it was marked complete, a@x on 3 Dec 2026: why"), a hold of team's
 * (a snooze, or its "not ours"; NULL: any team's) resumed lately, seen from
 * today (tkl_answer_resume_shown: "Reminders resumed, a@x on 3 Dec 2026:
 * why"), team's "not ours" that holds ("Not ours, a@x on 3 Dec 2026:
 * why (suggested: ICT)"), for snoozed_copy (the escalation's copy of a
 * reminder the owners' snooze holds, tkl_due.snoozed) that snooze
 * ("Snoozed by its owners until Monday 4 January 2027, a@x on 3 Dec 2026;
 * their reminders are held until then, this escalation goes on. Their
 * reason: 'why'", its why in curly double quotes), the
 * latest progress note ("Progress (amber), a@x on 3 Dec 2026: the note")
 * and what the plan has overruled (tkl_answer_overruled_text), each on a
 * line of its own; every text an officer wrote (a why, a note, a team
 * suggested) on one line, its line breaks as spaces
 * (tkl_text_fput_line). *ret is NULL when there is nothing to say. Returns 0
 * or -ENOMEM.
 */
int tkl_route_answer_text(const struct tkl_answer *ans, const struct tkl_action *a,
                          const char *team, int32_t today, bool snoozed_copy, char **ret);

/*
 * The team an escalation (due->r.escalate) of team index due->team goes
 * to as well: the team's escalate_to, else escalate_to (a team id, or
 * NULL); NULL when there is none, it is the team itself, or it has said
 * the action is not theirs (a "not ours" of ans that holds, whatever else
 * holds).
 */
const struct tkl_team *tkl_route_escalation(const struct tkl_team_dir *teams,
                                            const char *escalate_to, const struct tkl_due *due,
                                            const struct tkl_answer *ans);

/*
 * The team the reminders of action a for team index team of teams are
 * copied to as an escalation, by sc's rules (tkl_route_escalation's team,
 * with recipients), and in *ret_day the day of the first such copy (from
 * the deadline on: tkl_scheduler_first_escalation); NULL when there is
 * none: no such team, it is the team itself, it has no recipients, it has
 * said the action is not theirs (ans), or the team's rules copy nothing
 * of a (undated, no nags, no escalation point).
 */
const struct tkl_team *tkl_route_escalates(const struct tkl_team_dir *teams,
                                           const struct tkl_schedule_conf *sc, size_t team,
                                           const struct tkl_action *a, const struct tkl_answer *ans,
                                           int32_t *ret_day);

/*
 * Adds one due reminder of team index due->team of teams to the batch
 * (unless due->disowned or due->snoozed), and its escalation
 * (tkl_route_escalation). ans
 * is the action's answer (NULL: none); the entries' answer is
 * tkl_route_answer_text's, kept by the batch. Other strings in the
 * entries point into the action, which must outlive the batch.
 * *ret_routed gets how many recipients it reached (0: the team has none
 * on any channel). Returns 0 or -ENOMEM.
 */
int tkl_route_add(struct tkl_route_batch *b, const struct tkl_team_dir *teams,
                  const char *escalate_to, const struct tkl_due *due, const struct tkl_answer *ans,
                  int32_t today, size_t *ret_routed);

/*
 * Finishes each digest: an action that reached one recipient through two
 * teams is listed once; entries are ordered overdue first, then by
 * deadline, check-ins last, ties by action id. Returns 0 or -ENOMEM (the
 * digests are then whole but may be unordered).
 */
int tkl_route_sort(struct tkl_route_batch *b);

/*
 * The intro of notice n when some of its overdue reminders are of actions
 * none of whose owning teams reaches n's recipient on n's channel (a team
 * that said an action is not theirs, by answers on today, does not; NULL
 * answers: none said): other teams' actions, copied to it as an
 * escalation. It names them by id unless all of its entries are such
 * copies. The actions are found in st (the plan as it stands when the
 * notice is handed out: an action it no longer holds counts as the
 * recipient's). *ret is NULL when there is nothing to say, or n has an
 * intro of its own. Returns 0 or -ENOMEM.
 */
int tkl_route_copies_intro(const struct tkl_notice *n, const struct tkl_store *st,
                           const struct tkl_answers *answers, int32_t today,
                           const struct tkl_team_dir *teams, char **ret);

/* Fills a notice that views digest d (valid while the batch is). */
void tkl_route_notice(const struct tkl_digest *d, struct tkl_notice *ret);

void tkl_route_batch_free(struct tkl_route_batch *b);

#endif
