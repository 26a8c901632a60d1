/*
 * Working days: Monday to Friday, less the bank holidays of the selected
 * UK region, plus one-off holidays added in the config, less holidays the
 * config removes (a moved one is removed on its usual day and added on the
 * new one).
 *
 * The computed sets follow the Banking and Financial Dealings Act 1971 and
 * the annual royal proclamations: a holiday that falls on a weekend is
 * substituted by the next weekday not already a holiday.
 */
#ifndef TKL_HOLIDAYS_H
#define TKL_HOLIDAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tkl_region {
    TKL_REGION_ENGLAND_WALES = 0,
    TKL_REGION_SCOTLAND = 1,
    TKL_REGION_NORTHERN_IRELAND = 2,
    TKL_REGION_NONE = 3, /* weekends only */
};

/* The years tkl_holidays_index covers: those tickler holidays can list. */
#define TKL_HOLIDAYS_FIRST_YEAR 1900
#define TKL_HOLIDAYS_LAST_YEAR  2199

struct tkl_holidays {
    enum tkl_region region;
    int32_t *add; /* extra non-working days */
    size_t n_add;
    int32_t *remove; /* computed holidays that are working days after all */
    size_t n_remove;
    /* The non-working days (weekends and holidays) of the years
     * TKL_HOLIDAYS_FIRST_YEAR to TKL_HOLIDAYS_LAST_YEAR, one bit a day
     * from first_day on, built a year at a time by tkl_holidays_index;
     * NULL until then. It only makes the working-day tests O(1): they
     * answer the same without it, and compute days of other years. */
    uint64_t *off;
    int32_t first_day; /* 1 January of TKL_HOLIDAYS_FIRST_YEAR */
    int32_t n_days;    /* days the bits cover */
};

/* Parses "england-and-wales", "scotland", "northern-ireland" or "none".
 * Returns the region, or -EINVAL. */
int tkl_region_parse(const char *name);
const char *tkl_region_name(enum tkl_region r);

/* Day number of Easter Sunday (Gregorian) in year y. */
int32_t tkl_easter_sunday(int y);

/*
 * The computed bank holidays of year y for region r, in date order, with
 * their names. Returns the count (at most max).
 */
size_t tkl_bank_holidays(enum tkl_region r, int y, int32_t *days, const char **names, size_t max);

/* True when day is a bank holiday (computed or added, not removed). */
bool tkl_is_holiday(const struct tkl_holidays *h, int32_t day, const char **ret_name);

bool tkl_is_working_day(const struct tkl_holidays *h, int32_t day);

/* day itself when it is a working day, else the last working day before. */
int32_t tkl_working_day_on_or_before(const struct tkl_holidays *h, int32_t day);

/* day itself when it is a working day, else the first working day after. */
int32_t tkl_working_day_on_or_after(const struct tkl_holidays *h, int32_t day);

/*
 * Builds (again) h's bitset of non-working days from its region, add and
 * remove, for the working-day tests; call it after any of them changes.
 * Returns 0, or -ENOMEM (then h has no bitset, and the tests compute).
 */
int tkl_holidays_index(struct tkl_holidays *h);

/* Frees add, remove and the bitset. */
void tkl_holidays_free(struct tkl_holidays *h);

#endif
