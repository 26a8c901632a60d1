/*
 * The scheduler: one pending reminder per (action, owning team) in a
 * min-heap ordered by send instant, then action, then team. Each entry is
 * a cursor: when its reminder is taken, the action's next one takes its
 * place. The daemon arms one uv_timer for the earliest entry; nothing
 * polls; tickler upcoming takes the entries in order to list them.
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

/* 20 bytes. Its send instant is the policy's send time on r.day, and
 * send instants grow with days, so entries are ordered by day. */
struct tkl_sched_entry {
    struct tkl_reminder_packed r;
    uint32_t action; /* index in the store */
    uint32_t team;   /* index in the team directory */
};

struct tkl_scheduler {
    struct tkl_sched_entry *heap;
    size_t n;
    size_t cap;
    int send_minute; /* of the policy it was built with */
    bool memo_set;   /* memo_at is the send instant of memo_day */
    int32_t memo_day;
    int64_t memo_at;
    bool today_set; /* today is the local day of today_of */
    int32_t today;
    int64_t today_of;
};

/* The send instant of entry e of s. */
int64_t tkl_scheduler_entry_at(struct tkl_scheduler *s, const struct tkl_sched_entry *e);

/* A reminder that has fallen due. */
struct tkl_due {
    const struct tkl_action *action;
    size_t team;
    struct tkl_reminder r;
    int64_t at;
    bool late;     /* its day is before the day it is sent */
    bool disowned; /* its team said the action is not theirs: only its
                    * escalation goes (tkl_queue_pop, tkl_route_add) */
    bool snoozed;  /* an owning team's snooze holds it for its teams: only
                    * its escalation goes (tkl_queue_pop, tkl_route_add) */
};

/*
 * Schedules every active action of store, once for each of its teams that
 * teams holds, under sc's policy and that team's rules. Reminders whose
 * instant is in (missed_after, now] are caught up: for each (action, team)
 * only the latest of them is kept, due at once. Returns 0 or -ENOMEM (then
 * s is empty).
 *
 * A team with a weekly digest gets its reminders on its digest day (the
 * team's weekday, or the next working day when that is a holiday): a
 * reminder that comes before a date (lead, due, prompt, look-ahead) on the
 * latest digest day on or before its own day, so it is never later; one
 * that comes after (overdue, check-in) on the earliest digest day on or
 * after its own day. Of the reminders that land on one digest day only the
 * last, the most urgent, goes, so each action is in at most one message a
 * week. When an action is scheduled from a day after the digest day of a
 * reminder that comes before a date, and before that reminder's own day
 * (a new action, the first start), the reminder goes at the first send
 * time from then on instead of being passed over.
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
 * Whether an entry due at or before now is a comms prompt for an
 * observance of store that lasts until a day from first to before until:
 * one a round now would send, and a round on day until would drop as over
 * (tkl_queue_due).
 */
bool tkl_scheduler_prompt_over_by(const struct tkl_scheduler *s, const struct tkl_store *store,
                                  int64_t now, int32_t first, int32_t until);

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
 * none left; of several taken for one (action, team), the first wins (so
 * what tkl_scheduler_snooze_end did in the round is undone too). Popping
 * never grows the heap, and a snooze's end only gives back an entry its
 * (action, team) lost to the pop before it, so this needs no memory when
 * it follows the round at once. Returns 0 (-ENOMEM only for a caller that
 * pushed in between).
 */
int tkl_scheduler_restore(struct tkl_scheduler *s, const struct tkl_store *store,
                          const struct tkl_due *due, size_t n);

/*
 * A snooze ends with a reminder. For a snooze of action index action that
 * holds its reminders for team index team back from from_day (the first
 * day it held, tkl_scheduler_held_from, or an earlier held reminder's)
 * until until_day: the entry
 * of (action, team) is made due no later than the send time of the first
 * working day on or after until_day (its end). When the entry is after the
 * next working day after the end, or there is none left, the last
 * reminder of [from_day, until_day) takes its place at the end (with the
 * end as its day, so it is not "late"); an entry due by then, or on that
 * next working day, goes alone, as the held one would come the working
 * day before the plan's own; when no
 * reminder fell in the snooze, nothing was held back and nothing changes.
 * A reminder sent before the snooze was recorded is in the notification
 * log and is not sent again. Nothing changes when the end's send time is
 * not after not_before (a schedule built from a later time), unless
 * replanned: the entry may have been made again since that send time (a
 * reload, a start), so the plan's own reminder the end let go alone may
 * have moved later; unless the plan still has its own reminder due by
 * the working day after the end (that one went alone, or goes: the held
 * one was never owed), the end is then the next working day, if its send
 * time is after not_before. A held reminder the end did send then comes
 * again under the same log key, which the notification log does not send
 * twice; one the plan's new deadline keys anew goes (the plan changed).
 * Not for a preview, which would list that one again. The entry
 * only comes forward, so a reminder due before the end stays: it is held
 * back in turn, and this is called again. An action the plan itself no
 * longer reminds of (tkl_action_active) gets nothing. Returns 0 or -ENOMEM
 * (only when the entry had gone and the heap has no room left).
 */
int tkl_scheduler_snooze_end(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                             const struct tkl_store *store, size_t action, size_t team,
                             int32_t from_day, int32_t until_day, int64_t not_before,
                             bool replanned);

/* The first day whose send time is after the instant since: the first
 * whose reminder a hold recorded then (a snooze, a "not ours") held. */
int32_t tkl_scheduler_held_from(const struct tkl_schedule_conf *sc, int64_t since);

/* When a resume recorded at at lets its last held reminder go: the first
 * send time after at, on a working day. */
int64_t tkl_scheduler_resume_at(const struct tkl_schedule_conf *sc, int64_t at);

/*
 * A resume ends a hold early: a snooze, or a team's "not ours", held since
 * the instant since. As tkl_scheduler_snooze_end, the hold held the
 * reminders from tkl_scheduler_held_from(sc, since), and ends at
 * tkl_scheduler_resume_at(sc, at) (at: the time of the resume): the last
 * reminder it held comes then, unless the entry of (action, team) is due
 * by then anyway, or on the next working day after (not_before and
 * replanned: as there). Returns 0 or -ENOMEM.
 */
int tkl_scheduler_resume(struct tkl_scheduler *s, const struct tkl_schedule_conf *sc,
                         const struct tkl_store *store, size_t action, size_t team, int64_t since,
                         int64_t at, int64_t not_before, bool replanned);

/* The day of the first reminder of action a for team index team on or
 * after from_day that is escalated (an overdue nag past the team's
 * escalation point), or TKL_NO_DAY when none is: the plan no longer
 * reminds of it, it has no date, or the team's rules nag or escalate
 * nothing. */
int32_t tkl_scheduler_first_escalation(const struct tkl_schedule_conf *sc,
                                       const struct tkl_action *a, size_t team, int32_t from_day);

/* When the entry of (action, team) of s is due: its send instant, or
 * INT64_MAX when it has none. */
int64_t tkl_scheduler_due_of(const struct tkl_scheduler *s, size_t action, size_t team);

/* What tkl_scheduler_resume would make of the entry of (action, team) for
 * a resume at at of a hold since since, without changing s: when it would
 * be due (INT64_MAX: no reminder left), and in *ret_held whether that is a
 * reminder the hold held back. */
int64_t tkl_scheduler_resume_preview(const struct tkl_scheduler *s,
                                     const struct tkl_schedule_conf *sc,
                                     const struct tkl_store *store, size_t action, size_t team,
                                     int64_t since, int64_t at, bool *ret_held);

void tkl_scheduler_free(struct tkl_scheduler *s);

#endif
