/*
 * Reading iCalendar files (RFC 5545) into observances, and expanding their
 * occurrences. libical parses; this file adds what libical does not give:
 * the line of each problem, and a check of the file's structure before
 * libical sees it, so that a damaged file is refused whole rather than
 * read in part.
 */
#ifndef CAL_ICS_H
#define CAL_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

/* One VEVENT. Days count from 1970-01-01. */
/* A growable list of days. */
struct ics_days {
    int32_t *v;
    size_t n, cap;
};

struct ics_event {
    char *uid;
    char *summary;
    char *description; /* suggested comms and resources, or NULL */
    char *category;    /* the first CATEGORIES value, lower case, or NULL */
    char *url;         /* URL, or NULL */
    char **teams;      /* X-TICKLER-TEAMS values */
    size_t n_teams;
    unsigned line;   /* of its BEGIN:VEVENT */
    int32_t start;   /* DTSTART's day */
    int32_t span;    /* days each occurrence lasts, >= 1 */
    int whole_month; /* DTSTART on a 1st, DTEND the 1st of the next month:
                      * each occurrence lasts its whole month (February
                      * has 29 days in a leap year) */
    char *rrule;     /* the RRULE as text, or NULL */
    /* DTSTART as written and its zone (UTC, a VTIMEZONE of the file or one
     * of libical's), for expanding the RRULE where it was written; zone is
     * NULL for a date or a floating time, which expand from start */
    struct icaltimetype dtstart;
    icaltimezone *zone;
    struct ics_days rdates;  /* RDATE days */
    struct ics_days exdates; /* EXDATE days */
    unsigned dropped;        /* ICS_DROPPED_* bits: what it says that tickler does not keep */
};

/* What an event may say that an observance does not keep (warned of by
 * the plugin, calendar.c). */
enum {
    ICS_DROPPED_TIME = 1u << 0,       /* DTSTART has a time of day: kept by the day */
    ICS_DROPPED_CATEGORIES = 1u << 1, /* CATEGORIES after the first value */
    ICS_DROPPED_LOCATION = 1u << 2,   /* LOCATION */
};

struct ics_file {
    char *path;
    struct ics_event *events;
    size_t n;
    icaltimezone **zones; /* the file's VTIMEZONEs, owned */
    size_t n_zones;
};

/* Receives one problem: line in the file (0: the whole file) and why. */
typedef void (*ics_problem_fn)(void *data, unsigned line, const char *msg);

/*
 * Parses data (len bytes, the content of path). Every problem found is
 * passed to problem(); any problem refuses the whole file. Returns 0 with
 * *ret set, -EINVAL when the file has problems, or -ENOMEM; on failure
 * *ret is untouched.
 */
int ics_parse(const char *path, const char *data, size_t len, ics_problem_fn problem,
              void *problem_data, struct ics_file **ret);

/* Reads and parses path; problems as for ics_parse (line 0 for I/O). */
int ics_load(const char *path, ics_problem_fn problem, void *problem_data, struct ics_file **ret);

void ics_file_free(struct ics_file *f);

/*
 * Calls fn with the first and last day of each occurrence of e that
 * overlaps [from, to], in ascending order, each once. Returns 0, the first
 * negative value fn returned, or -ENOMEM.
 */
int ics_occurrences(const struct ics_event *e, int32_t from, int32_t to,
                    int (*fn)(void *data, int32_t first, int32_t last), void *data);

/*
 * Whether e's days are a table (RDATE without RRULE, as for a lunar
 * observance): then *ret_day is the first day of its last occurrence, after
 * which it has none until someone adds dates. An event that repeats by
 * RRULE, has DTSTART only, or whose days are all excluded (EXDATE), is no
 * table: returns false, *ret_day untouched.
 */
bool ics_table_end(const struct ics_event *e, int32_t *ret_day);

#endif
