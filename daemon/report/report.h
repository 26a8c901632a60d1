/*
 * The progress report: the plan in the council's own layout (seed 001, the
 * 2022 progress report of Maidstone's equality action plan), "Agreed
 * Actions | Progress – <period> | Status", grouped by objective and then
 * commitment in the order the plan first names them, each action in plan
 * order; observances are not part of it. `tickler report` and /report
 * write it as printable HTML, as a Word document (word.h), as CSV for
 * Excel and as Markdown.
 *
 * Progress: the progress notes, completions and reopens officers recorded
 * in the period, oldest first, each with its day, RAG and who; with none, the
 * plan's own Progress column, marked as from the plan; else "No update
 * this period".
 *
 * Status, in the council's three words (report.status_words), as the
 * council's report uses them and as at the period's last day (today, when
 * the period has not ended): the plan decides first, then the officers.
 *   incomplete  the plan closes the action (Withdrawn, Cancelled, "cannot
 *               be carried forward", ...: TKL_STATUS_CLOSED)
 *   complete    the plan says complete; or an officer marked it complete
 *               and that still holds (the plan still says what it said:
 *               tkl_update_holds) and was not reopened since (by a reopen
 *               that holds, recorded before the period's end); or on schedule: the latest progress
 *               note of the period is green, the action has an end (not
 *               "Ongoing") and it is not overdue
 *   ongoing     everything else: still open and overdue, a red or amber
 *               latest note, no update this period, or an ongoing action,
 *               which "remains included in the action plan" whatever its
 *               RAG
 */
#ifndef TKL_REPORT_H
#define TKL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../store/store.h"
#include "../update/update.h"
#include "report_conf.h"

struct tkl_schedule_conf;
struct tkl_team_dir;

/* Why a row has its status (tkl_report_reason_text words it). */
enum tkl_report_reason {
    TKL_REASON_PLAN_CLOSED,     /* incomplete: the plan's status closes it */
    TKL_REASON_PLAN_COMPLETE,   /* complete: the plan's status says so */
    TKL_REASON_MARKED_COMPLETE, /* complete: an officer's completion holds */
    TKL_REASON_NOT_OURS,        /* ongoing: every owning team said it is not theirs */
    TKL_REASON_ON_SCHEDULE,     /* complete: green, not overdue */
    TKL_REASON_OVERDUE,         /* ongoing: its date has passed */
    TKL_REASON_AT_RISK,         /* ongoing: the latest note is red or amber */
    TKL_REASON_NO_END,          /* ongoing: an ongoing action stays in the plan */
    TKL_REASON_NO_DATE,         /* ongoing: green, but no date to hold it to */
    TKL_REASON_NO_UPDATE,       /* ongoing: no progress note this period */
};

/* One action of the report. Pointers are into the store and the updates
 * the report was built from. */
struct tkl_report_row {
    const struct tkl_action *action;
    const struct tkl_update **notes; /* progress notes, completions, reopens, "not ours",
                                      * resumes and snoozes of the period, oldest first */
    size_t n_notes;
    const struct tkl_update *completion;      /* the latest completion that holds and was not
                                               * reopened since, or NULL */
    const struct tkl_update *latest;          /* the period's latest progress note, or NULL */
    const struct tkl_update *not_ours;        /* when every owning team said "not ours" and it
                                               * holds, the latest of them, else NULL */
    const struct tkl_update *partly_not_ours; /* else the latest "not ours" of one of its
                                               * teams that holds, or NULL */
    enum tkl_report_status status;
    enum tkl_report_reason reason;
    bool opens_objective;  /* the first row of its objective */
    bool opens_commitment; /* the first row of its commitment within the objective */
};

/* The updates of the period for an action id the plan no longer has
 * (removed, or given a new id): listed after the plan's actions, so that
 * no update recorded is left out of the report unsaid. */
struct tkl_report_orphan {
    const char *action_id;           /* borrowed from the updates */
    const struct tkl_update **notes; /* as a row's notes, oldest first */
    size_t n_notes;
};

struct tkl_report {
    const struct tkl_report_conf *conf; /* borrowed: the words and the title */
    int32_t from, to;                   /* the period: days [from, to) */
    int32_t as_at;                      /* the period's last day, or today if sooner */
    int32_t today;                      /* the day it was made, the plan read as it stands */
    struct tkl_report_row *rows;
    size_t n;
    size_t counts[TKL_REPORT_N_STATUS];
    struct tkl_report_orphan *orphans; /* by action id */
    size_t n_orphans;
    size_t n_orphan_notes; /* their notes, all told */
};

enum tkl_report_format {
    TKL_REPORT_HTML,
    TKL_REPORT_CSV,
    TKL_REPORT_MARKDOWN,
    TKL_REPORT_WORD, /* .docx */
};

/*
 * The period [*ret_from, *ret_to) from the texts given (YYYY-MM-DD, NULL
 * when not given), both days inclusive as a person writes them: neither:
 * the twelve months to today; from only: twelve months from it (1 April
 * 2026 gives the financial year to 31 March 2027); to only: the twelve
 * months to it. Returns 0, or -EINVAL (a text that is not a date, a to
 * before from, more than 50 years); then nothing is set.
 */
int tkl_report_period(const char *from, const char *to, int32_t today, int32_t *ret_from,
                      int32_t *ret_to);

/* The period's name as the report's heading gives it: "2026" for a
 * calendar year, else "1 Apr 2026 to 31 Mar 2027" ("3 Dec 2026" for one
 * day). Returns buf. */
char *tkl_report_period_text(int32_t from, int32_t to, char *buf, size_t size);

/* Reads "html", "docx" (also "word"), "csv" or "md" (also "markdown").
 * Returns 0 or -EINVAL. */
int tkl_report_format_parse(const char *s, enum tkl_report_format *ret);

/* The media type of a format, for the web face. */
const char *tkl_report_format_type(enum tkl_report_format f);

/*
 * Builds the report of store's plan for the days [from, to) from updates
 * (every update recorded, or at least those before the period's end; in
 * any order of actions, oldest first), on day today; the period's updates
 * of actions the plan no longer has in its orphans. store, updates and
 * conf are borrowed and must outlive *ret. Returns 0 or -ENOMEM (then *ret
 * is untouched).
 */
int tkl_report_build(const struct tkl_store *store, const struct tkl_updates *updates,
                     const struct tkl_report_conf *conf, int32_t from, int32_t to, int32_t today,
                     struct tkl_report *ret);

/* Frees what r holds and empties it. */
void tkl_report_free(struct tkl_report *r);

/* The size of a buffer that holds any why of tkl_report_reason_text
 * whole. */
#define TKL_REPORT_REASON_SIZE 512

/* Why row has its status, in plain text ("Marked complete by a@x.org on 3
 * Dec 2026."; addresses cut to 120 bytes; the plan's status quoted whole
 * up to 240 bytes, else its start and end, " … " between). Returns buf. */
char *tkl_report_reason_text(const struct tkl_report_row *row, char *buf, size_t size);

/*
 * Writes r in format f to out: HTML (a whole page, printable on A4, the
 * plan's and officers' text escaped, no script), CSV (UTF-8 with a byte
 * order mark, CRLF, RFC 4180 quoting, cells that a spreadsheet would read
 * as a formula prefixed with '; columns Objective, Commitment, Agreed
 * Actions, Responsibility, Timeframe, Progress – <period>, Status) or
 * Markdown (a heading and a table per objective, text escaped); then the
 * orphans, each with its id and notes (in CSV, rows whose Objective says
 * "Not in the plan"); or a Word document (word.h: binary, as the HTML).
 * Returns 0, -ENOMEM or -EIO (out reported an error); a Word document also
 * tkl_report_word_load's error (libzip or libxml2 cannot be loaded).
 */
int tkl_report_write(FILE *out, const struct tkl_report *r, enum tkl_report_format f);

/*
 * The updates export (`tickler updates`): every update of l recorded at
 * or after since (0: all), with the title of its action in store (empty
 * when the plan no longer has it) and whether it still holds on day
 * today (a snooze ended by a later one of its kind: sc and teams, as
 * tkl_update_by_owners). As CSV (as above: Excel-safe), or as a JSON array. The CSV
 * returns 0, -ENOMEM or -EIO; the JSON is NULL when out of memory.
 */
int tkl_updates_csv(FILE *out, const struct tkl_updates *l, const struct tkl_store *store,
                    const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams,
                    int64_t since, int32_t today);
json_t *tkl_updates_json(const struct tkl_updates *l, const struct tkl_store *store,
                         const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams,
                         int64_t since, int32_t today);

#endif
