/*
 * Exporting observances (the items of the sources) for people: an
 * iCalendar file to subscribe to or import (RFC 5545, one VEVENT per
 * occurrence), a printable HTML page month by month, and JSON.
 */
#ifndef TKL_EXPORT_H
#define TKL_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../source/source.h"

/*
 * Writes an iCalendar of the events: CRLF lines folded at 75 octets,
 * all-day VEVENTs with an exclusive DTEND, DTSTAMP at now (seconds since
 * the epoch), text escaped. Returns 0, -ENOMEM or -EIO.
 */
int tkl_export_ics(FILE *out, const struct tkl_event_list *l, int64_t now, const char *name);

/*
 * Writes a standalone HTML page: one section per month from from_day to
 * to_day, each observance coloured by category (with the category named,
 * so colour is not the only cue) and a legend; teams are shown by the
 * names teams gives them. Returns 0 or -EIO.
 */
int tkl_export_html(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day,
                    const char *title, const struct tkl_team_dir *teams);

/* Writes {"from", "to", "observances": [...]}. Returns 0, -ENOMEM or -EIO. */
int tkl_export_json(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day);

#endif
