/*
 * Queueing: the reminders that have fallen due, routed into digests and
 * committed to the outbox in one round. A round is all or nothing for the
 * scheduler: when the outbox refuses any notice (locked, full, out of
 * memory), every reminder the round took is put back as it was, so the next
 * round offers them again; the notification log drops the ones that were
 * committed, so none is queued twice.
 */
#ifndef TKL_QUEUE_H
#define TKL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "../outbox/outbox.h"
#include "../schedule/scheduler.h"
#include "../store/store.h"

struct tkl_queue_result {
    size_t committed; /* notices written to the outbox */
    size_t unrouted;  /* reminders of teams with no recipients (logged) */
    size_t restored;  /* reminders put back because the round failed */
};

/*
 * Runs one round at now: the reminders sched built with sc, teams and
 * store, routed to teams (escalations to sc->escalate_to when the team has
 * none of its own). Returns 0, or a negative errno when the round failed
 * and its reminders were put back (then the caller retries later, and must
 * not advance last_run).
 */
int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  struct tkl_outbox *outbox, int64_t now, struct tkl_queue_result *ret);

#endif
