/*
 * Civil dates as day numbers (days since 1970-01-01, proleptic Gregorian),
 * and local times in the process time zone (set once from the config with
 * tkl_tz_set()). The arithmetic, names and formats that plugins share with
 * the host (tkl_day_from_civil, tkl_day_to_civil, tkl_day_weekday,
 * tkl_civil_valid, tkl_month_name, tkl_local_day, ...) are the static
 * inline functions of <tickler/day.h>; this adds the host's parsers, its
 * time zone and its fixed-buffer formatters.
 */
#ifndef TKL_DAY_H
#define TKL_DAY_H

#include <stdbool.h>
#include <stdint.h>

#include <tickler/day.h>

/* Formats a day as YYYY-MM-DD into buf (at least 11 bytes): tkl_day_iso,
 * with "" for a day outside the years 1 to 9999. Returns buf. */
char *tkl_day_format(int32_t day, char *buf);

/* Parses YYYY-MM-DD exactly. Returns 0, or -EINVAL. */
int tkl_day_parse_iso(const char *s, int32_t *ret_day);

/* Parses a clock time, H:MM or HH:MM (00:00-23:59), into minutes after
 * midnight. Returns 0, or -EINVAL. */
int tkl_parse_hhmm(const char *s, int *ret_minute);

/*
 * Whether zone is an IANA name such as "Europe/London" that the system's
 * time zone database holds. Returns 0, -EINVAL (not a name) or -ENOENT.
 */
int tkl_tz_check(const char *zone);

/*
 * Sets the process time zone (TZ) to zone, once a configuration naming it
 * has been accepted. Returns 0, or a negative errno as tkl_tz_check.
 */
int tkl_tz_set(const char *zone);

/* The instant of local time hh:mm on day in the process time zone. On a day
 * where that time does not exist (spring forward), the instant one hour
 * later; where it exists twice (fall back), the first. */
int64_t tkl_local_instant(int32_t day, int minute_of_day);

/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (local time) or
 * "@SECONDS" into an instant. Returns 0, or -EINVAL.
 */
int tkl_parse_datetime(const char *s, int64_t *ret_t);

/* Formats an instant as ISO 8601 local time with offset
 * ("2023-03-01T09:00:00+00:00") into buf (at least 32 bytes): tkl_instant_iso,
 * with "@SECONDS" for an instant it cannot show. Returns buf. */
char *tkl_format_instant(int64_t t, char *buf);

#endif
