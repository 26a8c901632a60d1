/*
 * The team directory's slice of the configuration, teams ( ... ): each
 * team's id, name and aliases, its recipients per channel (with the line
 * of each list, for problems found later), its escalation team, and how
 * often it gets a message (digest = "daily" or "weekly", digest_day).
 */
#ifndef TKL_TEAM_CONF_H
#define TKL_TEAM_CONF_H

#include <libconfig.h>
#include <stddef.h>

#include "../core/confread.h"
#include "team.h"

/*
 * Reads the list teams ( ... ) (NULL: none) into *dir, zeroed by the
 * caller. channels (n_channels of them) are the names of the configured
 * notifiers: recipients on another channel are an error. Each escalate_to
 * must name a team of the list. digest is "daily" (the default) or
 * "weekly"; digest_day, a weekday from monday to friday (default monday),
 * is allowed with "weekly" only. An entry may also hold rule keys (ladder,
 * review_ladder, overdue_every_days, overdue_weekly_for,
 * escalate_after_weeks): they are the schedule's to read
 * (tkl_schedule_conf_teams). Returns 0, -EINVAL (problems in x->diags) or
 * -ENOMEM. Whatever it returns, dir holds the
 * teams read, each the first entry with its id, for tkl_team_dir_free.
 */
int tkl_teams_conf_read(const struct tkl_confread *x, const config_setting_t *list,
                        const char *const *channels, size_t n_channels, struct tkl_team_dir *dir);

#endif
