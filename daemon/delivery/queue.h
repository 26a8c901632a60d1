/*
 * Queueing: the reminders that have fallen due, routed into digests and
 * committed to the outbox in one round. A round is all or nothing for the
 * scheduler: when the outbox refuses any notice (locked, full, out of
 * memory), every reminder the round took is put back as it was, so the next
 * round offers them again; the notification log drops the ones that were
 * committed, so none is queued twice.
 *
 * Reminders listen to officers' answers (daemon/update/answer.h): one that
 * an answer holds back (the action marked complete, snoozed past the send
 * day, or not ours for the team) is taken from the scheduler like any
 * other (its action's next reminder follows) but not sent. A snooze ends
 * with a reminder (tkl_scheduler_snooze_end). "Not ours" is told to
 * delivery.report_to (tkl_queue_not_ours).
 */
#ifndef TKL_QUEUE_H
#define TKL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "../outbox/outbox.h"
#include "../schedule/scheduler.h"
#include "../store/store.h"
#include "../update/answer.h"

struct tkl_queue_result {
    size_t committed; /* notices written to the outbox and durable (logged as queued) */
    size_t unrouted;  /* reminders of teams with no recipients (logged) */
    size_t held;      /* reminders officers' answers held back (logged at debug) */
    size_t restored;  /* reminders put back because the round failed */
};

/*
 * Takes the earliest reminder of sched if it is due at now (see
 * tkl_scheduler_pop_due) into *ret, and sets *ret_hold to what of answers
 * (NULL: none) holds it back for its team on the day it is sent (the day
 * of send_from, or its own when later; a round sends at now). When a
 * snooze holds it, the snooze's end is scheduled
 * (tkl_scheduler_snooze_end). Returns 0, -ENOENT (nothing due) or -ENOMEM
 * (the reminder was taken all the same: *ret and *ret_hold are set, for
 * tkl_scheduler_restore).
 */
int tkl_queue_pop(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, int64_t now, int64_t send_from,
                  struct tkl_due *ret, enum tkl_hold *ret_hold);

/*
 * Schedules the end of every snooze of answers that holds (of action_id
 * only, unless it is NULL), for each team of its action: for after a
 * schedule is built (not_before: the time it caught up from) or reloaded,
 * and after a snooze is recorded (not_before: now). See
 * tkl_scheduler_snooze_end. Returns 0 or -ENOMEM.
 */
int tkl_queue_snoozes(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams, const struct tkl_store *store,
                      const struct tkl_answers *answers, const char *action_id, int64_t not_before);

/*
 * Queues what a "not ours" update u of action a says to every recipient
 * of team report (delivery.report_to): one notice each, at stage answer,
 * with a as its entry and the entry's answer saying who said the action
 * is not whose team's, the team suggested and the comment. The stage key
 * is "answer-<u->id>", so each update is told once. *ret_committed gets
 * how many notices were written, each logged as queued once durable. The
 * outbox is synced before it returns (tkl_outbox_sync). Returns 0 or a
 * negative errno.
 */
int tkl_queue_not_ours(struct tkl_outbox *outbox, const struct tkl_team_dir *teams,
                       const struct tkl_team *report, const struct tkl_action *a,
                       const struct tkl_update *u, int64_t now, size_t *ret_committed);

/*
 * Runs one round at now: the reminders sched built with sc, teams and
 * store, less those answers (NULL: none) hold back, routed to teams
 * (escalations to sc->escalate_to when the team has none of its own),
 * each entry with what the answers say of its action. The round's
 * notices are synced (tkl_outbox_sync: with a grouped outbox, one
 * transaction for them all and whatever else the group held) before it
 * returns 0. Returns 0, or a
 * negative errno when the round failed and its reminders were put back,
 * held ones too (then the caller retries later, and must not advance
 * last_run).
 */
int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, struct tkl_outbox *outbox, int64_t now,
                  struct tkl_queue_result *ret);

#endif
