/*
 * The team directory: who owns actions, and how to reach them.
 *
 * A Responsibility cell may name several teams, separated by "/", ";", a
 * line break or a bullet; commas and "&" stay inside a name. Names match a
 * team's name or aliases forgivingly: case, punctuation, "&" versus "and",
 * a trailing "team", and word order do not matter.
 */
#ifndef TKL_TEAM_H
#define TKL_TEAM_H

#include <stdbool.h>
#include <stddef.h>

struct tkl_recipient {
    char *channel; /* notifier instance name, e.g. "email" */
    char *address; /* e-mail address or destination name */
    unsigned line; /* of the recipients list in the configuration */
};

struct tkl_team {
    char *id;
    char *name;
    char **keys; /* normalised name and aliases */
    size_t n_keys;
    struct tkl_recipient *recipients;
    size_t n_recipients;
    char *escalate_to; /* team id for overdue escalation, or NULL */
    bool weekly;       /* digest = "weekly": one message a week, on weekday */
    int weekday;       /* digest_day: 0 = Monday ... 4 = Friday (as tkl_day_weekday) */
};

struct tkl_team_dir {
    struct tkl_team *teams;
    size_t n;
    char *fallback; /* team id for owners matching no team, or NULL */
};

/*
 * The match key of a team name: lower case, "&" and "+" read as "and",
 * punctuation dropped, the words "and" and a trailing "team"/"teams"
 * dropped, the rest sorted. Returns a new string, or NULL on ENOMEM.
 */
char *tkl_team_key(const char *name);

/*
 * Splits a Responsibility cell into owner names (cleaned, none empty).
 * Returns 0 or -ENOMEM; on success the caller frees the array and strings.
 */
int tkl_owners_split(const char *cell, char ***ret_names, size_t *ret_n);

/* Adds a name or alias to team t. Returns 0 or -ENOMEM. */
int tkl_team_add_key(struct tkl_team *t, const char *name);

/* Sets *ret to the team whose id, name or an alias matches name, or NULL.
 * Returns 0 or -ENOMEM (then *ret is untouched). */
int tkl_team_match(const struct tkl_team_dir *dir, const char *name, const struct tkl_team **ret);

/*
 * Matches name as a whole or, when it contains commas and matches nothing,
 * as a comma-separated run of team names ("Housing, Revenues and Benefits,
 * Policy, Communities and Engagement"), longest names first. ret_teams gets
 * the teams (at most max) and *ret_n their number, 0 when no complete
 * reading exists. Returns 0 or -ENOMEM.
 */
int tkl_team_match_list(const struct tkl_team_dir *dir, const char *name,
                        const struct tkl_team **ret_teams, size_t max, size_t *ret_n);

/* The team with this id, or NULL. */
const struct tkl_team *tkl_team_find(const struct tkl_team_dir *dir, const char *id);

/* Whether t (NULL: none) lists address among its recipients, on any
 * channel, ignoring case. */
bool tkl_team_lists(const struct tkl_team *t, const char *address);

void tkl_team_dir_free(struct tkl_team_dir *dir);

#endif
