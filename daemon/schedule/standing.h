/*
 * An action's standing: where it stands today against its deadline, the
 * RAG state of the plan-status page (/status, /status.json) and of
 * `tickler actions`.
 *
 *   complete   its status says it is done (TKL_STATUS_COMPLETE)
 *   closed     its status says it will not be done: cancelled, withdrawn,
 *              superseded, no longer required (TKL_STATUS_CLOSED)
 *   overdue    active, and its due or review date is before today
 *   due-soon   active, and its date is today or at most the first rung of
 *              its ladder ahead (the largest lead: the reminders have begun);
 *              a review date is measured against the review ladder
 *   on-track   active, and its date is further ahead
 *   undated    active with no date to measure: "Ongoing", empty, TBC, or a
 *              deadline tickler could not read
 *
 * The status decides first: a complete action stays complete whatever its
 * date. Observances (actions of kind event that sources add) are not part
 * of the plan and have no standing.
 */
#ifndef TKL_STANDING_H
#define TKL_STANDING_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/action.h"
#include "../team/team.h"
#include "../update/answer.h"
#include "reminder.h"
#include "schedule_conf.h"

enum tkl_standing {
    TKL_STANDING_OVERDUE,
    TKL_STANDING_DUE_SOON,
    TKL_STANDING_ON_TRACK,
    TKL_STANDING_COMPLETE,
    TKL_STANDING_CLOSED,
    TKL_STANDING_UNDATED,
    TKL_STANDING_COUNT
};

/* "overdue", "due-soon", "on-track", "complete", "closed" or "undated";
 * "none" for any other value. */
const char *tkl_standing_name(enum tkl_standing s);

/* Reads a name tkl_standing_name gives (exactly, lower case). Returns 0
 * with *ret set, or -EINVAL. */
int tkl_standing_parse(const char *name, enum tkl_standing *ret);

/* Whether a is an action of the plan, not an observance of a source. */
bool tkl_action_in_plan(const struct tkl_action *a);

/* The rules a's standing is measured with: those of its first team that
 * teams holds (sc's rules for that team), else sc's policy's. */
const struct tkl_rules *tkl_standing_rules(const struct tkl_schedule_conf *sc,
                                           const struct tkl_team_dir *teams,
                                           const struct tkl_action *a);

/* a's standing on day today under rules: due soon from the day its
 * ladder's first reminder is sent (the working day of h on or before the
 * first rung's day; h NULL: that day itself); TKL_STANDING_COUNT for an
 * observance. */
enum tkl_standing tkl_standing_of(const struct tkl_action *a, const struct tkl_rules *rules,
                                  const struct tkl_holidays *h, int32_t today);

/* a's standing under the schedule sc, by the plan alone: its team's rules
 * and the policy's working days (see tkl_action_standing_answered). */
enum tkl_standing tkl_action_standing(const struct tkl_schedule_conf *sc,
                                      const struct tkl_team_dir *teams, const struct tkl_action *a,
                                      int32_t today);

/* The standing /status, /metrics, an action's page and `tickler actions`
 * give a: complete while an officer's completion holds (by answers; NULL:
 * none), as its reminders have stopped; else tkl_action_standing's.
 * *ret_plan (optional) gets the plan's own. TKL_STANDING_COUNT for an
 * observance. */
enum tkl_standing tkl_action_standing_answered(const struct tkl_schedule_conf *sc,
                                               const struct tkl_team_dir *teams,
                                               const struct tkl_answers *answers,
                                               const struct tkl_action *a, int32_t today,
                                               enum tkl_standing *ret_plan);

#endif
