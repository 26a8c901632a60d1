/*
 * The reminder policy, and the reminders it gives one action.
 *
 * Every reminder is sent at the policy's local send time on a working day.
 * A stage whose day is not a working day moves to the previous working day;
 * when two stages of one action land on the same day only the later stage
 * (the more urgent one) is kept, so no action is reminded twice in a day.
 */
#ifndef TKL_REMINDER_H
#define TKL_REMINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

#include "holidays.h"

#define TKL_MAX_LADDER 16

struct tkl_ladder {
    int lead[TKL_MAX_LADDER]; /* days before the deadline, descending */
    size_t n;
};

/* The rules a team may override; the policy holds the defaults. */
struct tkl_rules {
    struct tkl_ladder ladder; /* for dated actions */
    struct tkl_ladder review; /* for review dates */
    int overdue_every_days;   /* 0: no overdue nags */
    int overdue_weekly_for;   /* weeks of nags every overdue_every_days
                               * after the deadline; monthly after them */
    int escalate_after_weeks; /* 0: never escalate */
    bool weekly;              /* the team's digest is weekly: every reminder
                               * goes on a digest day (scheduler.c) */
    int weekday;              /* the digest day: 0 = Monday ... 4 = Friday */
};

/* The prompts ahead of observances: the schedule's, or a source's own. */
struct tkl_prompts {
    struct tkl_ladder one_day; /* days before a one-day observance */
    struct tkl_ladder longer;  /* days before a longer one (a month) */
};

struct tkl_policy {
    int send_minute;         /* minutes after local midnight */
    struct tkl_rules rules;  /* defaults for teams without their own */
    unsigned checkin_months; /* bit m-1 set: check in that month */
    int catch_up_days;       /* late notices older than this go as late */
    int catch_up_until;      /* minute of the day (1440: midnight) after which a
                              * start keeps what it missed for the next send
                              * time (tkl_catch_up_now); -1: never */
    struct tkl_holidays holidays;
    struct tkl_prompts prompts; /* schedule.prompt_days, prompt_days_long */
    int lookahead_months;       /* 0: none; else the first working day of each
                                 * month lists the observances of this many months */
};

struct tkl_reminder {
    int32_t day; /* local send day (a working day) */
    enum tkl_stage stage;
    int n;         /* LEAD: days before; OVERDUE: nag number (weekly) or
                    * months after the deadline (monthly) */
    bool escalate; /* OVERDUE past the escalation point */
    bool monthly;  /* OVERDUE: a monthly nag */
    int32_t month; /* CHECKIN, LOOKAHEAD: the month the key names, as
                    * year * 12 + month - 1 */
    char key[32];  /* "lead-28", "due", "overdue-3", "overdue-m2",
                    * "checkin-2023-04" */
};

/* A reminder of tkl_next_reminder or tkl_next_prompt in 12 bytes, as the
 * scheduler holds it: its key is written again from the rest. */
struct tkl_reminder_packed {
    int32_t day;
    int32_t n; /* n, or month for a check-in or look-ahead */
    uint8_t stage;
    uint8_t flags; /* escalate, monthly */
};

void tkl_reminder_pack(const struct tkl_reminder *r, struct tkl_reminder_packed *ret);

/* The reminder r was packed from, key included. */
void tkl_reminder_unpack(const struct tkl_reminder_packed *p, struct tkl_reminder *ret);

/* The default policy: ladder 28, 14, 7, 1, 0; weekly nags for 4 weeks, then
 * monthly ones; escalation after 4 weeks; quarterly check-ins; 09:00;
 * England and Wales; prompts 14 and 2 days before a one-day observance, 42
 * and 14 days before a longer one; a look-ahead of two months; what a
 * start missed sent at once until 17:00 on a working day. */
void tkl_policy_default(struct tkl_policy *p);

/*
 * Whether a daemon started at t sends at once the reminders it missed
 * while stopped: t is on a working day, at or after the send time and
 * before catch_up_until (the day's end when that is not after the send
 * time), or the policy says any time (catch_up_until -1).
 * Outside those hours they wait for tkl_catch_up_at(p, t), so that no one
 * is sent one at 2 a.m. or on a Saturday. An instant outside the days
 * tickler counts is in them.
 */
bool tkl_catch_up_now(const struct tkl_policy *p, int64_t t);

/* The first send time at or after t on a working day: where a start
 * outside the hours catches up. INT64_MAX when there is none. */
int64_t tkl_catch_up_at(const struct tkl_policy *p, int64_t t);

/* Sorts a ladder descending and removes repeats. */
void tkl_ladder_normalise(struct tkl_ladder *l);

/*
 * The first reminder of an action with this deadline whose send day is on
 * or after from_day, under rules (NULL: the policy's own rules).
 *
 * After the ladder come the overdue nags (none when overdue_every_days is
 * 0). Weekly nag k ("overdue-k", k >= 1) is due deadline + k * every days
 * for each k with k * every <= 7 * overdue_weekly_for. Monthly nag M
 * ("overdue-mM") is due M months after the deadline on the deadline's day
 * of the month, clamped to that month's length (31 January gives 28 or 29
 * February, then 31 March), for each M whose day is at least a week after
 * the weekly nags' weeks end (deadline + 7 * (overdue_weekly_for + 1)).
 * Each nag is sent on the working day on or before its due day, but after
 * the deadline; a nag whose send day is not after the previous nag's is
 * dropped. A nag is escalated when its due day is escalate_after_weeks
 * weeks or more after the deadline. Days and keys depend only on the
 * deadline, the rules and the holidays, never on from_day, so a restart
 * computes the same ones.
 *
 * Returns 0 with *ret set, or -ENOENT when there is none (an undated kind
 * with no check-in months, or no stages left and no nags).
 */
int tkl_next_reminder(const struct tkl_policy *p, const struct tkl_rules *rules,
                      enum tkl_deadline_kind kind, int32_t deadline_day, int32_t from_day,
                      struct tkl_reminder *ret);

/* tkl_next_reminder without its key (ret->key is left empty): for the
 * scheduler, which packs reminders and writes keys when they are taken. */
int tkl_next_reminder_unkeyed(const struct tkl_policy *p, const struct tkl_rules *rules,
                              enum tkl_deadline_kind kind, int32_t deadline_day, int32_t from_day,
                              struct tkl_reminder *ret);

/*
 * The first prompt for an observance lasting [first_day, last_day] whose
 * send day is on or after from_day: the prompt ladder of prompts (NULL:
 * the policy's; its longer ladder when the observance lasts more than one
 * day), and the policy's monthly look-aheads whose months cover its first
 * day or that come while it is under way, unless the observance is over
 * by then. A look-ahead on the day of a prompt gives way to it. Returns 0
 * with *ret set, or -ENOENT when there is none left.
 */
int tkl_next_prompt(const struct tkl_policy *p, const struct tkl_prompts *prompts,
                    int32_t first_day, int32_t last_day, int32_t from_day,
                    struct tkl_reminder *ret);

#endif
