/*
 * Exporting observances (the items of the sources) for people: an
 * iCalendar file to subscribe to or import (RFC 5545, one VEVENT per
 * occurrence), a printable HTML page month by month, and JSON. Used by
 * `tickler calendar` and by ticklerd's calendar feeds (web/feeds.c).
 */
#ifndef TKL_EXPORT_H
#define TKL_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include <tickler/notice.h>

#include "../source/source.h"

/* The calendar's name, in the ICS, on the page and in the notices, unless
 * calendar.title names it; such a title holds at most TKL_EXPORT_TITLE_MAX
 * characters. */
#define TKL_EXPORT_TITLE     TKL_CALENDAR_TITLE_DEFAULT
#define TKL_EXPORT_TITLE_MAX 100

/* Bytes of a calendar's name with a category or a year after it
 * ("<title>: <category>", "<title> 2027"). */
#define TKL_EXPORT_TITLE_SIZE 1024

/* How often a subscribed calendar should be fetched again. */
#define TKL_ICS_REFRESH_HOURS 12

/* What an iCalendar says about itself. */
struct tkl_ics_opts {
    const char *name;        /* X-WR-CALNAME */
    const char *description; /* X-WR-CALDESC, or NULL */
    /* Every event's DTSTAMP (seconds since the epoch): when this content
     * last changed, not when it is written, so that the same content gives
     * the same bytes (and the same entity tag) at every fetch. */
    int64_t stamp;
    int refresh_hours; /* REFRESH-INTERVAL and X-PUBLISHED-TTL; 0 for neither */
};

/*
 * Writes an iCalendar of the events (METHOD:PUBLISH, CALSCALE:GREGORIAN):
 * CRLF lines folded at 75 octets, text escaped, all-day VEVENTs with an
 * exclusive DTEND and no time zone. Each event's UID is its id (the
 * calendar's UID and the first day), which neither the order the sources
 * load in nor a reload changes. Events with the same id and the same
 * content (one calendar read by two sources) are written once; when
 * events with the same id differ, each UID gets "/" and a hash of its
 * content. Returns 0, -ENOMEM or -EIO.
 */
int tkl_export_ics(FILE *out, const struct tkl_event_list *l, const struct tkl_ics_opts *o);

/*
 * Writes a standalone HTML page (inline CSS only: no script, nothing
 * fetched) for A4: a year-at-a-glance grid of the first twelve months from
 * from_day to to_day on the first page, the observance days coloured by
 * category, then one section per month, each observance coloured by
 * category (with the category named, so colour is not the only cue) and a
 * legend; teams are shown by the names teams gives them. Every text is
 * escaped; a link only for http, https and mailto addresses. Returns 0 or
 * -EIO.
 */
int tkl_export_html(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day,
                    const char *title, const struct tkl_team_dir *teams);

/* Writes {"from", "to", "observances": [...]}. Returns 0, -ENOMEM or -EIO. */
int tkl_export_json(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day);

/* Bytes of a category slug, its NUL included. */
#define TKL_CATEGORY_SLUG_SIZE 64

/*
 * The category's slug, for addresses and file names: ASCII letters
 * lower-cased and digits kept, every run of other bytes one '-', none at
 * either end, at most TKL_CATEGORY_SLUG_SIZE - 1 bytes ("Sexual
 * orientation" gives "sexual-orientation"). Returns buf, "" for NULL or a
 * category without a letter or digit.
 */
char *tkl_category_slug(const char *category, char buf[TKL_CATEGORY_SLUG_SIZE]);

/* The kth category the page has a colour for (the protected
 * characteristics of the Equality Act 2010, then armed forces and
 * poverty), as it names them ("sexual orientation"); NULL past the last. */
const char *tkl_category_palette(size_t k);

/* The name of the category of the palette whose slug is slug, or NULL
 * when it is none of them. */
const char *tkl_category_known(const char *slug);

/*
 * Sets *ret to the events of l whose category has slug, in l's order: a
 * view that borrows l's strings, to be released with
 * tkl_event_view_free() (never tkl_event_list_free()) before l is freed.
 * Returns 0 or -ENOMEM (then *ret is untouched).
 */
int tkl_events_in_category(const struct tkl_event_list *l, const char *slug,
                           struct tkl_event_list *ret);

void tkl_event_view_free(struct tkl_event_list *view);

#endif
