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
                                  int32_t today)
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
    return (int64_t)d->day - today <= rung ? TKL_STANDING_DUE_SOON : TKL_STANDING_ON_TRACK;
}
