/*
 * Update requests (report.request_updates): on each configured day of the
 * year, at the schedule's send time on the first working day on or after
 * it, each team that owns active plan actions is asked for its progress on
 * every one of them, by a date respond_within_days on (a working day); one
 * follow-up goes follow_up_after_days after the request to each team that
 * has not answered for every action it was asked about, listing only
 * those; on the working day after the "by" date, delivery.report_to hears
 * which teams answered for every action, which for some and which not at
 * all, with the actions still without an answer.
 *
 * An answer is any update (daemon/outbox/updates.h) of the action recorded
 * since the request's send time. An action the team was not asked about,
 * because an update recorded before the request holds it as complete or
 * not the team's (daemon/update/answer.h), stays out of the follow-up and
 * the summary too; the plan as it stands decides the rest (an action
 * closed since is not chased).
 *
 * Each phase of a request happens once: its notices go through the
 * outbox with stage keys "request:2027-03-01", "request-follow-up:..."
 * and "request-summary:..." (the configured day names the request), and
 * the phase is marked done in the state's meta values under the same key.
 * A phase missed (ticklerd stopped) is caught up once, while the answers
 * are still open: the request and the follow-up until the summary's time,
 * the summary for schedule.catch_up_days after its time (at least one
 * day), and none from before the caller's catch-up point.
 *
 * A run is decided apart from the state it reads and writes
 * (tkl_requests_decide): given the marks of the phases it may run
 * (tkl_requests_marks names their keys) and the updates recorded, it
 * yields each notice and each phase done to a sink, which writes them.
 * tkl_requests_run does all of it on a SQLite outbox at once; the daemon
 * on PostgreSQL reads the marks and writes through the state
 * asynchronously (daemon/service), where the notification log's keys let
 * one node of several create each notice.
 */
#ifndef TKL_REPORT_REQUEST_UPDATES_H
#define TKL_REPORT_REQUEST_UPDATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../outbox/outbox.h"
#include "../schedule/reminder.h"
#include "../schedule/scheduler.h"
#include "../store/store.h"
#include "../team/team.h"
#include "../update/answer.h"
#include "report_conf.h"

enum tkl_request_phase {
    TKL_REQUEST_ASK = 0,       /* each owning team is asked */
    TKL_REQUEST_FOLLOW_UP = 1, /* again, to the teams that have not answered in full */
    TKL_REQUEST_SUMMARY = 2,   /* report_to hears who answered */
};
#define TKL_REQUEST_N_PHASES 3

/* The size of a request's key, NUL included: "request-follow-up:2027-03-01". */
#define TKL_REQUEST_KEY_SIZE 32

/* One update request: a configured day in one year, and its phases. */
struct tkl_request_round {
    int32_t date;                        /* the configured day that year; names the request */
    int32_t by_day;                      /* answers are asked for by this day */
    int32_t day[TKL_REQUEST_N_PHASES];   /* the send day of each phase */
    int64_t at[TKL_REQUEST_N_PHASES];    /* the send instant of each phase */
    int64_t until[TKL_REQUEST_N_PHASES]; /* a phase not sent by then is not sent */
};

/*
 * The request of rc->request_updates[i] in year: asked on the first
 * working day (p's holidays) on or after its day (29 February: 28 February
 * in other years), the "by" day the first working day on or after
 * respond_within_days later, the follow-up on the first working day on or
 * after follow_up_after_days later, the summary on the first working day
 * after the "by" day; each at p's send time.
 */
void tkl_request_round_of(const struct tkl_report_conf *rc, const struct tkl_policy *p, size_t i,
                          int year, struct tkl_request_round *ret);

/* "request", "request-follow-up", "request-summary". */
const char *tkl_request_phase_name(enum tkl_request_phase ph);

/* The key of phase ph of r ("request:2027-03-01") into buf. */
void tkl_request_key(const struct tkl_request_round *r, enum tkl_request_phase ph,
                     char buf[TKL_REQUEST_KEY_SIZE]);

/* The earliest send instant of any phase of any request after now, or
 * INT64_MAX when rc configures none: when to run next. */
int64_t tkl_requests_next_at(const struct tkl_report_conf *rc, const struct tkl_policy *p,
                             int64_t now);

/* Whether a phase due from from to now (a run now would take it, unless
 * done already) can no longer run at until: its time to run is over by
 * then. */
bool tkl_requests_over_by(const struct tkl_report_conf *rc, const struct tkl_policy *p,
                          int64_t from, int64_t now, int64_t until);

/* What a run reads. Borrowed; the store and the answers as in force. */
struct tkl_requests_ctx {
    const struct tkl_report_conf *report;
    const struct tkl_policy *policy; /* send time, holidays, catch_up_days */
    const struct tkl_team_dir *teams;
    const char *report_to; /* delivery.report_to: a team id, or NULL (no summary) */
    const struct tkl_store *store;
    const struct tkl_answers *answers; /* NULL: no updates recorded */
    bool links;                        /* notices carry links to act on each action */
    struct tkl_outbox *outbox;         /* tkl_requests_run's; NULL otherwise */
};

struct tkl_requests_result {
    size_t committed;  /* notices written to the outbox */
    size_t phases;     /* phases done in this run */
    size_t unrouted;   /* teams that own requested actions and have no recipients */
    int64_t next_at;   /* tkl_requests_next_at */
    int64_t failed_at; /* the send instant of the phase the outbox refused, else INT64_MAX */
};

/*
 * Runs every phase whose send instant is in [from, now] and that is not
 * done yet, as the header comment says, on c->outbox (SQLite): each
 * phase's notices and its mark are made durable together. Returns 0, or
 * a negative errno when the outbox refused a phase (then it is not marked
 * done, and a later run tries it again; what was committed is not sent
 * twice). *ret is set either way.
 */
int tkl_requests_run(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                     struct tkl_requests_result *ret);

/* ---- a run decided apart from the state ---- */

/* The mark of one phase: its key, and whether and when it was done. */
struct tkl_request_mark {
    char key[TKL_REQUEST_KEY_SIZE];
    bool done;
    int64_t at; /* when it was done (done only) */
};

/* The marks a run at now reads, each once. */
struct tkl_request_marks {
    struct tkl_request_mark *v;
    size_t n;
    int64_t first_at; /* the earliest send instant of a phase the run may do; INT64_MAX: none */
    int64_t since;    /* updates from this instant on decide it (INT64_MAX: none are read) */
};

/*
 * The marks a run at now, catching up from from, reads: the key of every
 * phase whose send instant is in [from, now] and still open, and of its
 * request (a follow-up and a summary follow the request only), each
 * marked not done, into *ret (free it with tkl_request_marks_free).
 * Returns 0 or -ENOMEM.
 */
int tkl_requests_marks(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                       struct tkl_request_marks *ret);

void tkl_request_marks_free(struct tkl_request_marks *m);

/* Where a run's notices and marks go. */
struct tkl_requests_sink {
    /* One notice of the phase being decided, its stage_keys one per
     * entry; both valid during the call only. Returns 0 or a negative
     * errno (the run stops; that phase is not done). */
    int (*put)(void *data, const struct tkl_notice *n, const char *const *stage_keys);
    /* Every notice of the phase key (send instant at) was put: the phase
     * is done. Returns 0 or a negative errno (the run stops). */
    int (*done)(void *data, const char *key, int64_t at);
    void *data;
};

/*
 * Decides the run at now from from, as tkl_requests_run does, from marks
 * (tkl_requests_marks, each read: a phase done is marked in it as it is
 * decided) and updates (every update recorded since marks->since at
 * least; NULL: none), without reading or writing any state: each notice
 * of a phase goes to sink->put, then sink->done. c->outbox is not used.
 * Returns 0, or the first negative errno of the sink or -ENOMEM (then
 * ret->failed_at is that phase's send instant). ret->committed is the
 * sink's to count; the rest of *ret is set either way.
 */
int tkl_requests_decide(const struct tkl_requests_ctx *c, int64_t from, int64_t now,
                        struct tkl_request_marks *marks, const struct tkl_updates *updates,
                        const struct tkl_requests_sink *sink, struct tkl_requests_result *ret);

/*
 * The requests asked in [lo, hi], as reminders: one per (action, team)
 * the team would be asked about (the answers as they stand now), stage
 * TKL_STAGE_REQUEST and key "request", in order of time, then team, then
 * store order. c->outbox is not read. Returns 0 with *ret (free it) and
 * *ret_n set, or -ENOMEM.
 */
int tkl_requests_asks(const struct tkl_requests_ctx *c, int64_t lo, int64_t hi,
                      struct tkl_due **ret, size_t *ret_n);

#endif
