/*
 * The scheduler: one pending reminder per (action, owning team) in a
 * min-heap ordered by send instant. The daemon arms one uv_timer for the
 * earliest entry; nothing polls.
 */
#ifndef TKL_SCHEDULER_H
#define TKL_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../team/team.h"
#include "reminder.h"
#include "schedule_conf.h"

struct tkl_sched_entry {
    int64_t at;      /* send instant */
    uint32_t action; /* index in the store */
    uint32_t team;   /* index in the team directory */
    struct tkl_reminder r;
};

struct tkl_scheduler {
    struct tkl_sched_entry *heap;
    size_t n;
    size_t cap;
};

/* A reminder that has fallen due. */
struct tkl_due {
    const struct tkl_action *action;
    size_t team;
    struct tkl_reminder r;
    int64_t at;
    bool late; /* its day is before the day it is sent */
};

/*
 * Schedules every active action of store, once for each of its teams that
 * teams holds, under sc's policy and that team's rules. Reminders whose
 * instant is in (missed_after, now] are caught up: for each (action, team)
 * only the latest of them is kept, due at once. Returns 0 or -ENOMEM (then
 * s is empty).
 */
int tkl_scheduler_build(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                        const struct tkl_team_dir *teams, const struct tkl_store *store,
                        int64_t missed_after, int64_t now);

/*
 * After a store reload: entries of actions whose content did not change
 * are kept as they are; changed and new actions are scheduled from now;
 * removed ones are dropped. Returns 0 or -ENOMEM (then s is unchanged).
 */
int tkl_scheduler_reload(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                         const struct tkl_team_dir *teams, const struct tkl_store *old_store,
                         const struct tkl_store *new_store, int64_t now, size_t *ret_changed);

/* Instant of the earliest entry, or INT64_MAX. */
int64_t tkl_scheduler_next_at(const struct tkl_scheduler *s);

/*
 * Takes the earliest entry if it is due at now, and schedules that action's
 * next reminder. Returns 0 with *ret set, or -ENOENT when nothing is due.
 * The action pointer is valid as long as store is.
 */
int tkl_scheduler_pop_due(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                          const struct tkl_store *store, int64_t now, struct tkl_due *ret);

/*
 * Puts back reminders that tkl_scheduler_pop_due took from s (with the same
 * store), for a round whose notices could not be committed: each replaces
 * the entry its (action, team) has now, or is added when the action had
 * none left; of several taken for one (action, team), the first wins.
 * Popping never grows the heap, so this needs no memory when it follows
 * the pops at once. Returns 0 (-ENOMEM only for a caller that pushed in
 * between).
 */
int tkl_scheduler_restore(struct tkl_scheduler *s, const struct tkl_store *store,
                          const struct tkl_due *due, size_t n);

void tkl_scheduler_free(struct tkl_scheduler *s);

#endif
