/*
 * Observances: the items of the sources (calendars) as actions of kind
 * event, added to a store so that the scheduler prompts them like the
 * plan's actions.
 */
#ifndef TKL_OBSERVANCE_H
#define TKL_OBSERVANCE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../store/store.h"
#include "../team/team.h"

/*
 * An observance from a source, to be prompted like an action: its deadline
 * is of kind event, from first_day to last_day. team is the source's team
 * id; teams are further team names or ids from the item.
 */
struct tkl_event {
    const char *source; /* source name: the action's file, for warnings */
    const char *id;
    const char *title;
    const char *description;
    const char *category;
    const char *url;
    int32_t first_day, last_day;
    const char *team;
    const char *const *teams;
    size_t n_teams;
    const char *file; /* where the item is written, or NULL: named by source */
    unsigned line;    /* its line in file, or 0 */
};

/*
 * Adds events to store as actions of kind event (owners: the teams' names;
 * deadline text: the days in words). A team name that matches no team is
 * a warning in diags at the event's file and line (its source when the
 * file is not known), naming the event. Returns 0 or
 * -ENOMEM (then store is unchanged).
 */
int tkl_observances_add(struct tkl_store *store, const struct tkl_event *ev, size_t n,
                        const struct tkl_team_dir *teams, struct tkl_diags *diags);

/* "1 October 2027", "1-31 October 2027", "28 September - 4 October 2027"
 * (with an en dash); buf holds at least 64 bytes. */
char *tkl_day_range_format(int32_t first, int32_t last, char *buf, size_t size);

#endif
