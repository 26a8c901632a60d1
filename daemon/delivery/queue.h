/*
 * Queueing: the reminders that have fallen due, routed into digests and
 * put into the state's open group (state/state.h) in one round. A round is
 * all or nothing for the scheduler: when the state refuses any notice
 * (locked, full, out of memory) or undoes the group holding it, every
 * reminder the round took is put back as it was, so the next round offers
 * them again; the notification log drops the ones that were committed
 * (their put tells id 0), so none is queued twice. A notice is logged as
 * queued only in its put's completion, once durable.
 *
 * Reminders listen to officers' answers (daemon/update/answer.h): one that
 * an answer holds back (the action marked complete, snoozed past the send
 * day, or not ours for the team; an owning team's snooze or "not ours"
 * never holds its escalation) is taken from the scheduler like any
 * other (its action's next reminder follows) but not sent. A snooze ends
 * with a reminder (tkl_scheduler_snooze_end), and so does a hold a resume
 * ended (tkl_scheduler_resume). "Not ours", and a resume that takes one
 * back, are told to delivery.report_to (tkl_queue_not_ours); a joint
 * action's completion or snooze, and their undoing, to its other owning
 * teams (tkl_queue_joint).
 */
#ifndef TKL_QUEUE_H
#define TKL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "../schedule/scheduler.h"
#include "../state/state.h"
#include "../store/store.h"
#include "../update/answer.h"

struct tkl_queue_result {
    size_t committed; /* notices written and durable (logged as queued) */
    size_t unrouted;  /* reminders of teams with no recipients (logged) */
    size_t held;      /* reminders officers' answers held back (logged at debug) */
    size_t restored;  /* reminders put back because the round failed */
};

/*
 * Takes the earliest reminder of sched if it is due at now (see
 * tkl_scheduler_pop_due) into *ret, and sets *ret_hold to what of answers
 * (NULL: none) holds it back for its team on the day it is sent (the day
 * of send_from, or its own when later; a round sends at now). A "not
 * ours" of its team does not hold an escalation that has a team to go to
 * (tkl_route_escalation): *ret is disowned, which tkl_route_add sends
 * there alone. When a
 * snooze holds it, the snooze's end is scheduled
 * (tkl_scheduler_snooze_end); an owning team's snooze holds the owning
 * teams' reminders only, so an escalation with a team to go to still goes:
 * *ret is snoozed, which tkl_route_add sends there alone (its log key
 * keeps the reminder the snooze's end brings back from going to that team
 * twice). A snooze of the escalation team's own, or through a link of no
 * owning team's, holds it all (tkl_answer_holds_copies). Returns 0,
 * -ENOENT (nothing due) or -ENOMEM
 * (the reminder was taken all the same: *ret and *ret_hold are set, for
 * tkl_scheduler_restore).
 */
int tkl_queue_pop(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, int64_t now, int64_t send_from,
                  struct tkl_due *ret, enum tkl_hold *ret_hold);

/*
 * Whether notice n was completed whole after it was queued: each of its
 * entries is a reminder of a plan action (lead, due, overdue, check-in)
 * that answers mark complete (a completion that holds, no reopen after
 * it). Such a notice is withdrawn rather than sent. Only a completion
 * withdraws: it holds for every team and every day, where a snooze must
 * still end with the reminder it held (in the notification log once
 * queued) and a "not ours" holds for one of the teams a digest may have
 * reached its recipient through. *ret_why (the caller frees it) says why
 * for the outbox and the log: "not sent: every action in it was marked
 * complete before its turn came: A1, A2". Returns 1 (completed, *ret_why
 * set), 0 (to be sent; *ret_why NULL) or -ENOMEM.
 */
int tkl_queue_completed(const struct tkl_answers *answers, const struct tkl_notice *n,
                        char **ret_why);

/*
 * Schedules the end of every snooze of answers that holds, and of every
 * hold a resume ended (tkl_scheduler_resume; for the team whose "not
 * ours" it ended only, when it ended no snooze), of action_id only,
 * unless it is NULL, for each team of its action: for after a
 * schedule is built (not_before: the time it caught up from) or reloaded,
 * and after a snooze is recorded (not_before: now); replanned for a
 * schedule whose entries may have been made after an end had come (a
 * daemon's start or reload), not for a preview. See
 * tkl_scheduler_snooze_end. Returns 0 or -ENOMEM.
 */
int tkl_queue_snoozes(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                      const struct tkl_team_dir *teams, const struct tkl_store *store,
                      const struct tkl_answers *answers, const char *action_id, int64_t not_before,
                      bool replanned);

/* What a round or a "not ours" report came to: r 0, or the negative errno
 * of the state's refusal or of the group it undid. */
typedef void (*tkl_queue_done_cb)(void *data, int r, const struct tkl_queue_result *res);

/*
 * Queues what a "not ours" update u of action a (or a resume u that takes
 * one back: "ours after all") says to every recipient of team report
 * (delivery.report_to): one notice each, at stage answer, with a as its
 * entry and the entry's answer saying who said the action is not whose
 * team's (or is after all), the team suggested and the comment, and, when
 * no team of a's is reminded of it any more (every one has a "not ours" of
 * ans, a's answer with u, holding), who still is: the escalation team its
 * nags go to past the escalation point (sc's rules), or nobody. The stage key
 * is "answer-<u->id>", so each update is told once. The puts join the
 * state's open group: the caller ends it (tkl_state_commit). Returns 0:
 * cb is told exactly once, never from inside this call, when every put's
 * completion came (res->committed: notices durable, each logged as queued
 * in its completion; r < 0: some were undone, and telling the update again
 * queues what is missing). A negative errno: nothing was queued, or what
 * was queued before the refusal is still told (logged as queued when
 * durable) but cb is never called.
 */
int tkl_queue_not_ours(struct tkl_state *state, const struct tkl_team_dir *teams,
                       const struct tkl_schedule_conf *sc, const struct tkl_team *report,
                       const struct tkl_action *a, const struct tkl_answer *ans,
                       const struct tkl_update *u, int64_t now, tkl_queue_done_cb cb, void *data);

/*
 * Queues what update u (complete, snooze, reopen or resume) of action a,
 * an action of more than one owning team, means for the owning teams other
 * than the one u was recorded for (u->team_id; every owning team when it
 * is NULL, a link of no owning team's): one notice to each of their
 * recipients on each channel but the address u was recorded by, at stage
 * joint (TKL_STAGE_JOINT: the entry's answer says who did what and when,
 * the intro what it means for the team's reminders: a snooze's, when they
 * go on, at the end of whichever snooze of ans, a's answer (NULL: none),
 * holds them longer), whose delivery gives it the recipient's own link for
 * a. The stage key is "joint-<u->id>", so
 * each recipient is told of an update once on each channel (a recipient of
 * two other teams once). The caller decides which updates are told. Returns
 * as tkl_queue_not_ours.
 */
int tkl_queue_joint(struct tkl_state *state, const struct tkl_team_dir *teams,
                    const struct tkl_schedule_conf *sc, const struct tkl_action *a,
                    const struct tkl_answer *ans, const struct tkl_update *u, int64_t now,
                    tkl_queue_done_cb cb, void *data);

/* A round in flight (tkl_queue_due). */
struct tkl_queue_round;

/*
 * A round of many notices put a part at a time, so that the first are
 * sent while the rest are written: once a part's notices are durable
 * (each logged as queued), cb is told (with tkl_queue_due's data), never
 * from inside the call that queued them, and the round waits; the caller
 * then calls tkl_queue_more(round) from a later turn of its loop (its
 * deliveries can claim what is durable meanwhile), or tkl_queue_abandon.
 */
typedef void (*tkl_queue_part_cb)(void *data, struct tkl_queue_round *round);
struct tkl_queue_parts {
    tkl_queue_part_cb cb;
    size_t size; /* notices a part, at least 1 */
};

/* Notices a part of the daemon's rounds, a commit each: the first are
 * sent after two such commits instead of one of the whole round (measured:
 * bench/notes/delivery-profile.md). */
#define TKL_QUEUE_PART 256

/*
 * Runs one round at now: the reminders sched built with sc, teams and
 * store, less those answers (NULL: none) hold back, routed to teams
 * (escalations to sc->escalate_to when the team has none of its own),
 * each entry with what the answers say of its action, put into the
 * state's open group, a part at a time when parts (NULL: the whole round
 * at once) says so. The caller ends the group (tkl_state_commit; with
 * SQLite, one transaction for the part and whatever else the group held)
 * and keeps sched, sc, teams and store as they are until cb is told.
 *
 * Returns 0: cb is told exactly once, never from inside this call, once
 * every notice's put completion came, with r 0 (res->committed notices
 * durable, each logged as queued in its completion) or the negative errno
 * of a refusal, an undone group or tkl_queue_abandon: then the round's
 * reminders were put back, held ones too (res->restored), the caller
 * retries later and must not advance last_run; the notices of parts
 * already durable are kept (and may be sent), and the notification log
 * keeps the retry from queueing them again. Returns a negative errno when
 * the state took nothing of the round (not even the barrier told after
 * its puts, see tkl_state_sync): the reminders were put back (*ret says
 * so) and cb is never called. *ret also gets what is known at once
 * (unrouted, held).
 */
int tkl_queue_due(struct tkl_scheduler *sched, const struct tkl_schedule_conf *sc,
                  const struct tkl_team_dir *teams, const struct tkl_store *store,
                  const struct tkl_answers *answers, struct tkl_state *state, int64_t now,
                  tkl_queue_done_cb cb, const struct tkl_queue_parts *parts, void *data,
                  struct tkl_queue_result *ret);

/* Puts the next part of a round its part cb told (in the state's open
 * group: the caller ends it), or its last; the round's cb may be told from
 * inside this call (a refusal of the state with nothing else pending). */
void tkl_queue_more(struct tkl_queue_round *round);

/* Ends a round its part cb told without putting the rest: its cb is told
 * -ECANCELED from inside this call, the round's reminders put back. For a
 * caller that stops. */
void tkl_queue_abandon(struct tkl_queue_round *round);

#endif
