#include "holidays.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"

int tkl_region_parse(const char *name)
{
    if (!name)
        return -EINVAL;
    if (!strcmp(name, "england-and-wales"))
        return TKL_REGION_ENGLAND_WALES;
    if (!strcmp(name, "scotland"))
        return TKL_REGION_SCOTLAND;
    if (!strcmp(name, "northern-ireland"))
        return TKL_REGION_NORTHERN_IRELAND;
    if (!strcmp(name, "none"))
        return TKL_REGION_NONE;
    return -EINVAL;
}

const char *tkl_region_name(enum tkl_region r)
{
    switch (r) {
    case TKL_REGION_ENGLAND_WALES:
        return "england-and-wales";
    case TKL_REGION_SCOTLAND:
        return "scotland";
    case TKL_REGION_NORTHERN_IRELAND:
        return "northern-ireland";
    default:
        return "none";
    }
}

int32_t tkl_easter_sunday(int y)
{
    /* Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31;
    int day = (h + l - 7 * m + 114) % 31 + 1;
    return tkl_day_from_civil(y, month, day);
}

/* First weekday wd (0 = Monday) on or after day. */
static int32_t weekday_on_or_after(int32_t day, int wd)
{
    return day + (wd - tkl_day_weekday(day) + 7) % 7;
}

static int32_t last_weekday_of_month(int y, int m, int wd)
{
    int32_t last = tkl_day_from_civil(y, m, tkl_days_in_month(y, m));
    return last - (tkl_day_weekday(last) - wd + 7) % 7;
}

struct fixed {
    int32_t day;
    const char *name;
    bool substitutable; /* a weekend date gets a substitute weekday */
};

static int cmp_fixed(const void *a, const void *b)
{
    const struct fixed *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* One-off changes by proclamation that the rules cannot know. */
static void special_cases(int y, struct fixed *v, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        /* early May moved to Friday 8 May for VE Day 75 */
        if (y == 2020 && !strcmp(v[i].name, "Early May bank holiday"))
            v[i].day = tkl_day_from_civil(2020, 5, 8);
        /* spring moved to Thursday 2 June for the Platinum Jubilee */
        if (y == 2022 && !strcmp(v[i].name, "Spring bank holiday"))
            v[i].day = tkl_day_from_civil(2022, 6, 2);
        /* early May moved to 8 May, 2012 diamond jubilee etc. are before range */
    }
    if (y == 2022) {
        v[(*n)++] =
            (struct fixed){tkl_day_from_civil(2022, 6, 3), "Platinum Jubilee bank holiday", false};
        v[(*n)++] =
            (struct fixed){tkl_day_from_civil(2022, 9, 19),
                           "Bank Holiday for the State Funeral of Queen Elizabeth II", false};
    }
    if (y == 2023)
        v[(*n)++] = (struct fixed){tkl_day_from_civil(2023, 5, 8),
                                   "Bank holiday for the coronation of King Charles III", false};
}

size_t tkl_bank_holidays(enum tkl_region r, int y, int32_t *days, const char **names, size_t max)
{
    struct fixed v[24];
    size_t n = 0;
    if (r == TKL_REGION_NONE)
        return 0;
    int32_t easter = tkl_easter_sunday(y);

    v[n++] = (struct fixed){tkl_day_from_civil(y, 1, 1), "New Year's Day", true};
    if (r == TKL_REGION_SCOTLAND)
        v[n++] = (struct fixed){tkl_day_from_civil(y, 1, 2), "2nd January", true};
    if (r == TKL_REGION_NORTHERN_IRELAND)
        v[n++] = (struct fixed){tkl_day_from_civil(y, 3, 17), "St Patrick's Day", true};
    v[n++] = (struct fixed){easter - 2, "Good Friday", false};
    if (r != TKL_REGION_SCOTLAND)
        v[n++] = (struct fixed){easter + 1, "Easter Monday", false};
    v[n++] = (struct fixed){weekday_on_or_after(tkl_day_from_civil(y, 5, 1), 0),
                            "Early May bank holiday", false};
    v[n++] = (struct fixed){last_weekday_of_month(y, 5, 0), "Spring bank holiday", false};
    if (r == TKL_REGION_NORTHERN_IRELAND)
        v[n++] = (struct fixed){tkl_day_from_civil(y, 7, 12),
                                "Battle of the Boyne (Orangemen's Day)", true};
    if (r == TKL_REGION_SCOTLAND)
        v[n++] = (struct fixed){weekday_on_or_after(tkl_day_from_civil(y, 8, 1), 0),
                                "Summer bank holiday", false};
    else
        v[n++] = (struct fixed){last_weekday_of_month(y, 8, 0), "Summer bank holiday", false};
    if (r == TKL_REGION_SCOTLAND)
        v[n++] = (struct fixed){tkl_day_from_civil(y, 11, 30), "St Andrew's Day", true};
    v[n++] = (struct fixed){tkl_day_from_civil(y, 12, 25), "Christmas Day", true};
    v[n++] = (struct fixed){tkl_day_from_civil(y, 12, 26), "Boxing Day", true};
    special_cases(y, v, &n);
    qsort(v, n, sizeof(v[0]), cmp_fixed);

    /* Substitute days: each weekend holiday moves to the next weekday that
     * is not already a holiday, in date order (Christmas on Saturday gives
     * Monday 27th, Boxing Day on Sunday then Tuesday 28th). */
    int32_t taken[24];
    size_t n_taken = 0;
    for (size_t i = 0; i < n; i++)
        if (!(v[i].substitutable && tkl_day_weekday(v[i].day) >= 5))
            taken[n_taken++] = v[i].day;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].substitutable && tkl_day_weekday(v[i].day) >= 5))
            continue;
        int32_t d = v[i].day;
        for (;;) {
            d++;
            if (tkl_day_weekday(d) >= 5)
                continue;
            bool clash = false;
            for (size_t k = 0; k < n_taken; k++)
                clash |= taken[k] == d;
            if (!clash)
                break;
        }
        v[i].day = d;
        taken[n_taken++] = d;
    }
    qsort(v, n, sizeof(v[0]), cmp_fixed);
    size_t out = 0;
    for (size_t i = 0; i < n && out < max; i++, out++) {
        days[out] = v[i].day;
        if (names)
            names[out] = v[i].name;
    }
    return out;
}

/* A one-year cache: the schedule asks about the same few years millions of
 * times. */
static struct {
    enum tkl_region region;
    int year;
    size_t n;
    int32_t days[24];
    const char *names[24];
} cache = {.year = -1};

bool tkl_is_holiday(const struct tkl_holidays *h, int32_t day, const char **ret_name)
{
    for (size_t i = 0; i < h->n_remove; i++)
        if (h->remove[i] == day)
            return false;
    for (size_t i = 0; i < h->n_add; i++)
        if (h->add[i] == day) {
            if (ret_name)
                *ret_name = "Additional holiday (configured)";
            return true;
        }
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    if (cache.year != y || cache.region != h->region) {
        cache.n = tkl_bank_holidays(h->region, y, cache.days, cache.names, 24);
        cache.year = y;
        cache.region = h->region;
    }
    for (size_t i = 0; i < cache.n; i++)
        if (cache.days[i] == day) {
            if (ret_name)
                *ret_name = cache.names[i];
            return true;
        }
    return false;
}

bool tkl_is_working_day(const struct tkl_holidays *h, int32_t day)
{
    if (h->off && day >= h->first_day && day - h->first_day < h->n_days) {
        uint32_t i = (uint32_t)(day - h->first_day);
        return !(h->off[i / 64] >> (i % 64) & 1);
    }
    return tkl_day_weekday(day) < 5 && !tkl_is_holiday(h, day, NULL);
}

/* Sets (on) or clears bit day - first of off, for a day in [first, first + n). */
static void set_off(uint64_t *off, int32_t first, int32_t n, int32_t day, bool on)
{
    if (day < first || day - first >= n)
        return;
    uint32_t i = (uint32_t)(day - first);
    if (on)
        off[i / 64] |= (uint64_t)1 << (i % 64);
    else
        off[i / 64] &= ~((uint64_t)1 << (i % 64));
}

int tkl_holidays_index(struct tkl_holidays *h)
{
    int32_t first = tkl_day_from_civil(TKL_HOLIDAYS_FIRST_YEAR, 1, 1);
    int32_t n = tkl_day_from_civil(TKL_HOLIDAYS_LAST_YEAR + 1, 1, 1) - first;
    free(h->off);
    h->off = NULL;
    uint64_t *off = calloc(((size_t)n + 63) / 64, sizeof(*off));
    if (!off)
        return -ENOMEM;
    /* the weekends: 64 weeks are 7 words, so the first 7 words, set day
     * by day, repeat to the end */
    size_t n_words = ((size_t)n + 63) / 64;
    for (int32_t d = first; d < first + n && d - first < 7 * 64; d++)
        if (tkl_day_weekday(d) >= 5)
            set_off(off, first, n, d, true);
    for (size_t w = 7; w < n_words; w++)
        off[w] = off[w - 7];
    if (n % 64)
        off[n_words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
    /* each year's computed holidays, then the config's changes over them
     * in the order tkl_is_holiday reads them: remove wins over add */
    for (int y = TKL_HOLIDAYS_FIRST_YEAR; y <= TKL_HOLIDAYS_LAST_YEAR; y++) {
        int32_t days[24];
        size_t k = tkl_bank_holidays(h->region, y, days, NULL, 24);
        for (size_t i = 0; i < k; i++)
            set_off(off, first, n, days[i], true);
    }
    for (size_t i = 0; i < h->n_add; i++)
        set_off(off, first, n, h->add[i], true);
    for (size_t i = 0; i < h->n_remove; i++)
        set_off(off, first, n, h->remove[i], tkl_day_weekday(h->remove[i]) >= 5);
    h->off = off;
    h->first_day = first;
    h->n_days = n;
    return 0;
}

int32_t tkl_working_day_on_or_before(const struct tkl_holidays *h, int32_t day)
{
    while (!tkl_is_working_day(h, day))
        day--;
    return day;
}

int32_t tkl_working_day_on_or_after(const struct tkl_holidays *h, int32_t day)
{
    while (!tkl_is_working_day(h, day))
        day++;
    return day;
}

void tkl_holidays_free(struct tkl_holidays *h)
{
    if (!h)
        return;
    free(h->add);
    free(h->remove);
    free(h->off);
    h->add = h->remove = NULL;
    h->off = NULL;
    h->n_add = h->n_remove = 0;
    h->n_days = 0;
}
