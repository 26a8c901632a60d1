/*
 * Answers: what the updates recorded for each action mean now, against the
 * plan as it stands. The plan wins: an update holds only while the plan
 * still says what it said when the update was recorded (the deadline, the
 * status text and, for "not ours", the owners); once the plan says
 * otherwise the update is overruled, reminders go as the plan says, and
 * the next digest says why (tkl_answer_overruled_text).
 *
 * What holds a reminder back, for action a, team t, send day d:
 *  - a "complete" that holds and that no "reopen" that holds has
 *    followed (a "complete" after the reopen holds again);
 *  - a snooze that holds with until_day > d: the owning teams' latest,
 *    or the latest through a link of no owning team's or of the
 *    escalation team's (tkl_update_by_owners), each counted apart, so that neither's snooze
 * shortens or ends the other's; an owning team's snooze does not hold the copies escalated to
 * another team (tkl_queue_pop, tkl_answer_holds_copies);
 *  - a "not ours" that holds, recorded for team t.
 * A reopen ends only the completions before it: a snooze or a "not ours"
 * that held before still holds. A resume ends the snoozes before it (of
 * any team: a snooze holds the action for all of them), unless a
 * snooze's last day was before the resume's, and the "not ours" of its own
 * team before it, whatever the plan has said since: it holds nothing back,
 * so the plan has nothing to overrule in it. The reminders such a resume
 * let go again go on with the last one held, at the next send time after
 * the resume (tkl_queue_snoozes). A progress note holds nothing back; the
 * latest one (held or overruled) is the action's progress shown in
 * digests, /status and the report.
 */
#ifndef TKL_ANSWER_H
#define TKL_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/day.h>

#include "../store/action.h"
#include "../schedule/schedule_conf.h"
#include "../store/store.h"
#include "update.h"

struct tkl_team_dir;

enum tkl_hold {
    TKL_HOLD_NONE = 0,
    TKL_HOLD_COMPLETE = 1,
    TKL_HOLD_SNOOZED = 2,
    TKL_HOLD_NOT_OURS = 3,
};

/*
 * A hold a resume ended: a snooze (team NULL: it held every team) or the
 * "not ours" of team, held since the instant since (its hold's: see
 * tkl_answer). The scheduler brings the last reminder it held forward to
 * the resume's send time (tkl_scheduler_resume). One is kept per team
 * (NULL counted as one) until that team is held again: a snooze that
 * holds ends them all, a "not ours" that holds those of its team.
 */
struct tkl_resumed {
    const struct tkl_update *u; /* the resume */
    const char *team;
    int64_t since;
};

/*
 * What the updates say of one action. Pointers are into the answers'
 * updates.
 *
 * A hold (a snooze, or a team's "not ours") holds from the instant it was
 * recorded, or from an earlier one: a hold recorded before the reminder a
 * resume brought back had come (the resume's send time,
 * tkl_scheduler_resume_at) holds that reminder too, so it holds from the
 * since of the hold that resume ended, and its own end or resume brings it
 * back. A snooze, or a team's "not ours", recorded while one still holds
 * goes on from that one's instant.
 */
struct tkl_answer {
    const char *action_id;
    const struct tkl_update *complete;   /* the latest "complete" that holds and no holding
                                          * reopen followed, or NULL */
    const struct tkl_update *reopened;   /* the reopen that ended the latest completion, while
                                          * no complete holds after it, or NULL */
    const struct tkl_update *snooze;     /* the latest snooze through an owning team's
                                          * link, the escalation team's aside, if it
                                          * holds (the owners' snooze), until a resume
                                          * ends it, or NULL */
    const struct tkl_update *snooze_all; /* the latest snooze through a link of no owning
                                          * team's (team_id NULL) or of the escalation
                                          * team's (tkl_update_by_owners), if it holds,
                                          * until a resume ends it, or NULL: it holds the
                                          * copies too */
    int64_t snooze_since;                /* the instant the owners' snooze holds from */
    int64_t snooze_all_since;            /* the instant snooze_all holds from */
    const struct tkl_update *progress;   /* the latest progress note, or NULL */
    const struct tkl_update **not_ours;  /* per team, the latest that holds */
    int64_t *not_ours_since;             /* the instant each holds from */
    size_t n_not_ours;
    struct tkl_resumed *resumed; /* the holds resumes ended, oldest first */
    size_t n_resumed;
    const struct tkl_update *overruled; /* the latest update, when the plan has overruled it */
    const struct tkl_update *latest;    /* the latest update of any kind */
};

struct tkl_answers {
    struct tkl_updates updates; /* owned */
    struct tkl_answer *v;       /* by action id, bytewise */
    size_t n;
};

/*
 * Builds the answers of every action of store from updates (taken: on
 * success and failure alike, *updates is emptied and its contents belong
 * to ret or are freed), with the send times of sc (NULL: every hold holds
 * from its own instant). Updates of actions not in store are kept in
 * ret->updates but get no answer; teams (NULL: none) and sc's escalate_to
 * say which team an action escalates to (tkl_update_by_owners). Returns 0
 * or -ENOMEM (then *ret is empty).
 */
int tkl_answers_build(struct tkl_answers *ret, struct tkl_updates *updates,
                      const struct tkl_store *store, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams);

/* The instant the "not ours" of team that holds in ans holds from, or
 * INT64_MAX when none holds. */
int64_t tkl_answer_not_ours_since(const struct tkl_answer *ans, const char *team);

/* The answer for action_id, or NULL. */
const struct tkl_answer *tkl_answers_find(const struct tkl_answers *a, const char *action_id);

/* The latest hold of ans (NULL: none) a resume ended that concerned team
 * (any, when team is NULL): a snooze's, or team's "not ours"; or NULL. */
const struct tkl_resumed *tkl_answer_resumed(const struct tkl_answer *ans, const char *team);

/* How long after a resume its digests and page say so. */
#define TKL_RESUME_SHOWN_DAYS 14

/* Whether resume x is still said, seen from today: it was recorded less
 * than TKL_RESUME_SHOWN_DAYS before. */
static inline bool tkl_answer_resume_shown(const struct tkl_resumed *x, int32_t today)
{
    return tkl_local_day(x->u->at) + TKL_RESUME_SHOWN_DAYS > today;
}

/* Whether a snooze of ans (NULL: none) holds back, on day, the copies of
 * its action's reminders escalated to team esc_id, as well as the owners'
 * own: one through a link of no owning team's (snooze_all) holds, or the
 * owners' snooze holds and was recorded through a link of team esc_id's
 * (a team the plan names among the owners that is also the escalation
 * team). An owning team's snooze otherwise holds only the owners'
 * reminders. */
bool tkl_answer_holds_copies(const struct tkl_answer *ans, const char *esc_id, int32_t day);

/* The two snoozes struct tkl_answer keeps apart: the owners' (snooze)
 * and the one through a link of no owning team's (snooze_all). */
enum tkl_snooze_slot { TKL_SNOOZE_OWNERS, TKL_SNOOZE_ALL, TKL_SNOOZE_SLOTS };

/* The snooze of ans (NULL: none) in slot if it holds on day (it ends
 * after day; INT32_MIN: any kept), or NULL. *ret_since (unless ret_since
 * is NULL) gets the instant it holds from when there is one. */
const struct tkl_update *tkl_answer_slot(const struct tkl_answer *ans, enum tkl_snooze_slot slot,
                                         int32_t day, int64_t *ret_since);

/* The snooze of ans (NULL: none) that holds the owners' reminders on
 * day, or NULL: of the owners' snooze and snooze_all, the one that holds
 * them longer (the later until_day). *ret_since (unless ret_since is
 * NULL) gets the earlier since of the two that hold: what their ends, or
 * a resume, bring back is held from then. */
const struct tkl_update *tkl_answer_snooze(const struct tkl_answer *ans, int32_t day,
                                           int64_t *ret_since);

/* Whether ans (NULL: none) holds back a reminder of its action for team
 * team_id sent on day. */
enum tkl_hold tkl_answer_holds(const struct tkl_answer *ans, const char *team_id, int32_t day);

/* Whether update u was recorded through the link of a team action a (NULL:
 * none) gives the action to that is not the team another of its owning
 * teams escalates to (the team's escalate_to in teams, else sc's; teams
 * NULL: none is): a snooze so recorded is the owners' (struct
 * tkl_answer); the escalation team's holds it all, also when the plan
 * names it among the owners. */
bool tkl_update_by_owners(const struct tkl_update *u, const struct tkl_action *a,
                          const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams);

/* Whether update u still holds for action a (the plan says what it said). */
bool tkl_update_holds(const struct tkl_update *u, const struct tkl_action *a);

/*
 * When the plan has overruled ans's latest update (of a kind that acts:
 * not a progress note), a sentence saying so for a digest: who recorded
 * what and when, and what the plan now says ("a@x marked it complete on
 * Thursday 3 December 2026; the plan now gives the deadline as 31/03/2027
 * and the status as In progress, so reminders go on."; of an action the
 * plan now gives a status that needs no reminder, only that status). A
 * reopen held nothing back, so the plan moving on after one overrules
 * nothing. Plain
 * text. *ret is NULL when there is nothing to say. Returns 0 or -ENOMEM.
 */
int tkl_answer_overruled_text(const struct tkl_answer *ans, const struct tkl_action *a, char **ret);

/* "complete", "snoozed", "not ours", "" */
const char *tkl_hold_name(enum tkl_hold h);

/* Frees what a holds and empties it. */
void tkl_answers_free(struct tkl_answers *a);

#endif
