#include "standing.h"

#include <errno.h>
#include <string.h>

static const char *const names[TKL_STANDING_COUNT] = {
    [TKL_STANDING_OVERDUE] = "overdue",   [TKL_STANDING_DUE_SOON] = "due-soon",
    [TKL_STANDING_ON_TRACK] = "on-track", [TKL_STANDING_COMPLETE] = "complete",
    [TKL_STANDING_CLOSED] = "closed",     [TKL_STANDING_UNDATED] = "undated",
};

const char *tkl_standing_name(enum tkl_standing s)
{
    return (unsigned)s < TKL_STANDING_COUNT ? names[s] : "none";
}

int tkl_standing_parse(const char *name, enum tkl_standing *ret)
{
    for (unsigned i = 0; name && i < TKL_STANDING_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *ret = (enum tkl_standing)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool tkl_action_in_plan(const struct tkl_action *a)
{
    return a->deadline.kind != TKL_DEADLINE_EVENT;
}

const struct tkl_rules *tkl_standing_rules(const struct tkl_schedule_conf *sc,
                                           const struct tkl_team_dir *teams,
                                           const struct tkl_action *a)
{
    const struct tkl_team *t = a->n_teams ? tkl_team_find(teams, a->teams[0]) : NULL;
    return t ? tkl_schedule_team_rules(sc, (size_t)(t - teams->teams)) : &sc->policy.rules;
}

enum tkl_standing tkl_standing_of(const struct tkl_action *a, const struct tkl_rules *rules,
                                  const struct tkl_holidays *h, int32_t today)
{
    if (!tkl_action_in_plan(a))
        return TKL_STANDING_COUNT;
    if (a->status == TKL_STATUS_COMPLETE)
        return TKL_STANDING_COMPLETE;
    if (a->status == TKL_STATUS_CLOSED)
        return TKL_STANDING_CLOSED;
    const struct tkl_deadline *d = &a->deadline;
    if ((d->kind != TKL_DEADLINE_DATE && d->kind != TKL_DEADLINE_REVIEW) || d->day == TKL_NO_DAY)
        return TKL_STANDING_UNDATED;
    if (d->day < today)
        return TKL_STANDING_OVERDUE;
    const struct tkl_ladder *l = d->kind == TKL_DEADLINE_REVIEW ? &rules->review : &rules->ladder;
    int64_t rung = l->n && l->lead[0] > 0 ? l->lead[0] : 0;
    /* the first reminder goes on the working day on or before the rung's */
    int32_t first = (int32_t)(d->day - rung);
    if (h)
        first = tkl_working_day_on_or_before(h, first);
    return today >= first ? TKL_STANDING_DUE_SOON : TKL_STANDING_ON_TRACK;
}

enum tkl_standing tkl_action_standing(const struct tkl_schedule_conf *sc,
                                      const struct tkl_team_dir *teams, const struct tkl_action *a,
                                      int32_t today)
{
    return tkl_standing_of(a, tkl_standing_rules(sc, teams, a), &sc->policy.holidays, today);
}

enum tkl_standing tkl_action_standing_answered(const struct tkl_schedule_conf *sc,
                                               const struct tkl_team_dir *teams,
                                               const struct tkl_answers *answers,
                                               const struct tkl_action *a, int32_t today,
                                               enum tkl_standing *ret_plan)
{
    enum tkl_standing plan = tkl_action_standing(sc, teams, a, today);
    const struct tkl_answer *ans = answers ? tkl_answers_find(answers, a->id) : NULL;
    if (ret_plan)
        *ret_plan = plan;
    if (ans && ans->complete && plan < TKL_STANDING_COUNT && plan != TKL_STANDING_COMPLETE &&
        plan != TKL_STANDING_CLOSED)
        return TKL_STANDING_COMPLETE;
    return plan;
}
