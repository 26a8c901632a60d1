/*
 * The schedule's slice of the configuration: the reminder policy of
 * schedule { ... } (send time, ladders, nags, escalation, check-ins,
 * holidays, prompts), and each team's own rules, the policy's with the
 * overrides its entry in teams ( ... ) gives.
 */
#ifndef TKL_SCHEDULE_CONF_H
#define TKL_SCHEDULE_CONF_H

#include <libconfig.h>
#include <stddef.h>

#include "../core/confread.h"
#include "../team/team.h"
#include "reminder.h"

/* A source's own prompts: the schedule's with the prompt keys of its entry
 * in sources ( ... ) over them. */
struct tkl_source_prompts {
    char *source; /* the source's name */
    struct tkl_prompts prompts;
};

struct tkl_schedule_conf {
    struct tkl_policy policy;
    char *escalate_to;            /* schedule.escalate_to: a team id, or NULL */
    struct tkl_rules *team_rules; /* per team of the directory, or NULL */
    size_t n_team_rules;
    struct tkl_source_prompts *source_prompts; /* the sources that give their own */
    size_t n_source_prompts;
};

/* The default policy (tkl_policy_default), no escalation team, no team
 * rules. */
void tkl_schedule_conf_init(struct tkl_schedule_conf *sc);

/*
 * Reads the schedule group g (NULL: none, the defaults stay) over sc.
 * escalate_to is kept as written: the caller checks that it names a team.
 * Returns 0, -EINVAL (problems in x->diags) or -ENOMEM. Whatever it
 * returns, sc holds what was read, for tkl_schedule_conf_free.
 */
int tkl_schedule_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_schedule_conf *sc);

/*
 * Gives each team of teams, read from the list teams ( ... ), its rules:
 * the policy's (read first), with the rule keys of the team's entry
 * (ladder, review_ladder, overdue_every_days, overdue_weekly_for,
 * escalate_after_weeks) over them, and the team's digest day when its
 * digest is weekly (read by team_conf.c). Entries that are not teams of
 * the directory (refused, repeated) are passed over. Returns 0, -EINVAL
 * (problems in x->diags) or -ENOMEM; whatever it returns, sc stays
 * freeable.
 */
int tkl_schedule_conf_teams(const struct tkl_confread *x, const config_setting_t *list,
                            const struct tkl_team_dir *teams, struct tkl_schedule_conf *sc);

/*
 * Gives each source of the list sources ( ... ) whose entry has
 * prompt_days or prompt_days_long its own prompts: the policy's (read
 * first), with those keys over them, checked as the schedule's are. An
 * entry without a name is passed over (plugin_conf.c refuses it). Returns
 * 0, -EINVAL (problems in x->diags) or -ENOMEM; whatever it returns, sc
 * stays freeable.
 */
int tkl_schedule_conf_sources(const struct tkl_confread *x, const config_setting_t *list,
                              struct tkl_schedule_conf *sc);

/* The prompts for the observances of the source named source: its own,
 * else the policy's. */
const struct tkl_prompts *tkl_schedule_prompts(const struct tkl_schedule_conf *sc,
                                               const char *source);

/* The rules of team index team: its own, else the policy's. */
const struct tkl_rules *tkl_schedule_team_rules(const struct tkl_schedule_conf *sc, size_t team);

/* Frees what sc holds and empties it. Accepts an empty one. */
void tkl_schedule_conf_free(struct tkl_schedule_conf *sc);

#endif
