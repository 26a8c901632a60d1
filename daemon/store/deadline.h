/*
 * Deadlines as councils write them, resolved to a date and a kind.
 *
 *   April 2023, Apr 2023, Sept 2023, Apr-23     last day of that month
 *   Review Jan 2023                              kind review, same rule
 *   Dec 2023 (ongoing release)                   the bracket is kept as a note
 *   2023-04-30, 30/04/2023, 30.04.23             that day (UK day/month order;
 *                                                a two-digit year is 2000 to
 *                                                2069)
 *   30 April 2023, 30th April 2023               that day
 *   2023/24, 2023/2024, FY 2023/24               31 March of the later year
 *   Q3 2023                                      end of calendar quarter
 *   Q1 2023/24                                   end of financial quarter
 *                                                (Q1 = April to June)
 *   2024                                         31 December
 *   45046                                        an Excel serial date (20000
 *                                                to 80000: 1954 to 2119)
 *   (April 2023)                                 the bracket read when
 *                                                nothing is outside it
 *   Ongoing, Ongoing Project, Ongoing Action     kind ongoing, no date
 *   Ongoing until March 2024                     that date, "ongoing" its note
 *   Ongoing - review April 2024                  kind review, the same
 *   (empty), TBC, TBA, TBD                       kind undated
 *
 * Leading "by", "due", "end of" and "deadline" are ignored. Anything else,
 * a date that does not exist, a day and month with no year ("April 30",
 * "June 10th": a month's year is written after a hyphen, "Apr-23", or in
 * full) and a two-digit year from 70 on ("Sep-99": no century is guessed)
 * is kind undated with a problem text.
 */
#ifndef TKL_DEADLINE_H
#define TKL_DEADLINE_H

#include <stdint.h>

#include <tickler/notice.h>

/* Why a deadline's text was not understood (tkl_deadline_problem). */
enum tkl_deadline_problem {
    TKL_DEADLINE_UNDERSTOOD,
    TKL_DEADLINE_NO_SUCH_DATE,
    TKL_DEADLINE_UNREADABLE,
    TKL_DEADLINE_NO_YEAR, /* "April 30", "June 10th", "30 April" */
    TKL_DEADLINE_CENTURY, /* a two-digit year from 70: "30/04/99", "Sep-99" */
};

/* 24 bytes: one is held in every action. */
struct tkl_deadline {
    int32_t day;      /* TKL_NO_DAY unless kind is date, review or event */
    int32_t last_day; /* event: its last day (== day for one day) */
    char *note;       /* text of a trailing bracket, or NULL */
    enum tkl_deadline_kind kind;
    uint8_t problem; /* enum tkl_deadline_problem */
};

/*
 * Reads text into *ret (which the caller later clears with
 * tkl_deadline_clear). Text that is not understood still succeeds, with
 * kind undated and a problem (tkl_deadline_problem). Returns 0 or -ENOMEM.
 */
int tkl_deadline_parse(const char *text, struct tkl_deadline *ret);

/* Why d's text was not understood, as a static text, or NULL when it was. */
const char *tkl_deadline_problem(const struct tkl_deadline *d);

void tkl_deadline_clear(struct tkl_deadline *d);

#endif
