/*
 * Civil days and local time, for plugins and host alike.
 *
 * Header-only: every function is static inline and compiles into the code
 * that includes it, so these helpers add no symbol to the plugin ABI and
 * need no change of TICKLER_ABI_VERSION. The host implements its own date
 * handling with the same functions, so a plugin and the host agree on every
 * date they write.
 *
 * A day is a civil date counted from 1970-01-01 (day 0), proleptic
 * Gregorian, with no time zone; TKL_NO_DAY (<tickler/notice.h>) marks "no
 * date". An instant is seconds since the epoch. Local time is the process
 * time zone, which the host sets (see "Time zone" in <tickler/plugin.h>).
 *
 * Text is always English and independent of the locale: no strftime() names.
 * Formatters write into buf only on success, and return 0 or a negative
 * errno: -ERANGE when the date is outside what the format can show,
 * -EOVERFLOW when the instant has no local time, -ENOSPC when the text and
 * its NUL do not fit in size bytes (the _SIZE constants always fit).
 *
 * Needs localtime_r() and struct tm's tm_gmtoff: the GNU and BSD C
 * libraries declare them unless a strict -std=c11 hides them (tickler builds
 * as gnu11 with _GNU_SOURCE).
 */
#ifndef TICKLER_DAY_H
#define TICKLER_DAY_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tickler/notice.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer sizes, NUL included, that hold every text the formatters write. */
#define TKL_DAY_ISO_SIZE      11 /* "2023-03-03" */
#define TKL_DAY_LONG_SIZE     28 /* "Wednesday 27 September 2023" */
#define TKL_INSTANT_ISO_SIZE  26 /* "2023-03-03T09:00:00+00:00" */
#define TKL_RFC5322_DATE_SIZE 32 /* "Fri, 03 Mar 2023 09:00:00 +0000" */

/*
 * The day of y-m-d (H. Hinnant's days_from_civil). m is 1 to 12; d counts on
 * from the first of the month, so a d past the month's end gives a day of a
 * later month. Meaningful while the result fits in int32_t (years within
 * about 5.8 million of 1970).
 */
static inline int32_t tkl_day_from_civil(int y, int m, int d)
{
    const int64_t yy = (int64_t)y - (m <= 2);
    const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    const int64_t yoe = yy - era * 400; /* [0, 399] */
    const int64_t doy = (153 * ((int64_t)m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

/* The civil date of day (the inverse of tkl_day_from_civil), for any day. */
static inline void tkl_day_to_civil(int32_t day, int *ret_y, int *ret_m, int *ret_d)
{
    const int64_t z = (int64_t)day + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *ret_y = (int)(era * 400 + (int64_t)yoe + (m <= 2));
    *ret_m = (int)m;
    *ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

/* The day of the week of day: 0 = Monday ... 6 = Sunday. */
static inline int tkl_day_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3) */
    return (int)(((int64_t)day % 7 + 7 + 3) % 7);
}

/* True when y is a Gregorian leap year (2000 is, 1900 and 2100 are not). */
static inline bool tkl_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m of year y: 28 to 31, or 0 when m is not 1 to 12. */
static inline int tkl_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && tkl_is_leap_year(y) ? 29 : days[m - 1];
}

/* True when y-m-d is a real date of the years 1 to 9999. */
static inline bool tkl_civil_valid(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= tkl_days_in_month(y, m);
}

/* "January" for 1 ... "December" for 12; "" for any other m. The first
 * three letters are the RFC 5322 abbreviation. */
static inline const char *tkl_month_name(int m)
{
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    return m >= 1 && m <= 12 ? names[m - 1] : "";
}

/* "Monday" for 0 ... "Sunday" for 6 (as tkl_day_weekday counts); "" for
 * any other wd. The first three letters are the RFC 5322 abbreviation. */
static inline const char *tkl_weekday_name(int wd)
{
    static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    return wd >= 0 && wd <= 6 ? names[wd] : "";
}

/* Internal to this header (names with "__"): snprintf into buf only when
 * the whole text fits. Returns 0, or -ENOSPC with buf untouched. */
static inline int tkl_day__printf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int tkl_day__printf(char *buf, size_t size, const char *fmt, ...)
{
    char text[64];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(text) || (size_t)n >= size)
        return -ENOSPC;
    memcpy(buf, text, (size_t)n + 1);
    return 0;
}

/* Internal: v (0 to 10^width - 1) as width digits at p, no NUL. The ISO
 * forms are written digit by digit: a notice's JSON writes several, and
 * vsnprintf costs a webhook post more than its signature. */
static inline void tkl_day__digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Internal: "YYYY-MM-DD" at p (10 characters, no NUL); y is 1 to 9999. */
static inline void tkl_day__iso_date(char *p, int y, int m, int d)
{
    tkl_day__digits(p, (unsigned)y, 4);
    p[4] = '-';
    tkl_day__digits(p + 5, (unsigned)m, 2);
    p[7] = '-';
    tkl_day__digits(p + 8, (unsigned)d, 2);
}

/* Internal: the civil date of day when its year has four digits (1 to
 * 9999). Returns 0, or -ERANGE. */
static inline int tkl_day__civil4(int32_t day, int *ret_y, int *ret_m, int *ret_d)
{
    tkl_day_to_civil(day, ret_y, ret_m, ret_d);
    return *ret_y >= 1 && *ret_y <= 9999 ? 0 : -ERANGE;
}

/* Writes day as "2023-03-03". Returns 0, -ERANGE for a day outside the
 * years 1 to 9999 (TKL_NO_DAY included), or -ENOSPC when size is less than
 * TKL_DAY_ISO_SIZE. */
static inline int tkl_day_iso(int32_t day, char *buf, size_t size)
{
    int y, m, d;
    const int r = tkl_day__civil4(day, &y, &m, &d);
    if (r < 0)
        return r;
    if (size < TKL_DAY_ISO_SIZE)
        return -ENOSPC;
    tkl_day__iso_date(buf, y, m, d);
    buf[10] = '\0';
    return 0;
}

/* Writes day as "Friday 3 March 2023". Returns 0, -ERANGE for a day outside
 * the years 1 to 9999 (TKL_NO_DAY included), or -ENOSPC when the text does
 * not fit (TKL_DAY_LONG_SIZE always does). */
static inline int tkl_day_long(int32_t day, char *buf, size_t size)
{
    int y, m, d;
    const int r = tkl_day__civil4(day, &y, &m, &d);
    return r < 0 ? r
                 : tkl_day__printf(buf, size, "%s %d %s %d", tkl_weekday_name(tkl_day_weekday(day)),
                                   d, tkl_month_name(m), y);
}

/* The local broken-down time of instant t (localtime_r). Returns 0, or
 * -EOVERFLOW when t has none (out of the range of time_t or of the year);
 * *ret_tm is set only on success. */
static inline int tkl_local_tm(int64_t t, struct tm *ret_tm)
{
    const time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt != t || !localtime_r(&tt, &tm) || tm.tm_year > INT_MAX - 1900)
        return -EOVERFLOW;
    *ret_tm = tm;
    return 0;
}

/* The local civil day that holds instant t, or TKL_NO_DAY when t has no
 * local time. */
static inline int32_t tkl_local_day(int64_t t)
{
    struct tm tm;
    if (tkl_local_tm(t, &tm) < 0)
        return TKL_NO_DAY;
    return tkl_day_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Internal: writes instant t in local time as RFC 5322 or ISO 8601 text. */
static inline int tkl_day__instant(int64_t t, bool rfc5322, char *buf, size_t size)
{
    struct tm tm;
    const int r = tkl_local_tm(t, &tm);
    if (r < 0)
        return r;
    const int y = tm.tm_year + 1900;
    if (y < (rfc5322 ? 1900 : 1) || y > 9999)
        return -ERANGE;
    const char sign = tm.tm_gmtoff < 0 ? '-' : '+';
    const long off = (tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff) / 60; /* minutes */
    if (rfc5322)
        return tkl_day__printf(buf, size, "%.3s, %02d %.3s %04d %02d:%02d:%02d %c%02ld%02ld",
                               tkl_weekday_name((tm.tm_wday + 6) % 7), tm.tm_mday,
                               tkl_month_name(tm.tm_mon + 1), y, tm.tm_hour, tm.tm_min, tm.tm_sec,
                               sign, off / 60, off % 60);
    if (off / 60 > 99) /* no zone is that far off UTC */
        return -ERANGE;
    if (size < TKL_INSTANT_ISO_SIZE)
        return -ENOSPC;
    tkl_day__iso_date(buf, y, tm.tm_mon + 1, tm.tm_mday);
    buf[10] = 'T';
    tkl_day__digits(buf + 11, (unsigned)tm.tm_hour, 2);
    buf[13] = ':';
    tkl_day__digits(buf + 14, (unsigned)tm.tm_min, 2);
    buf[16] = ':';
    tkl_day__digits(buf + 17, (unsigned)tm.tm_sec, 2);
    buf[19] = sign;
    tkl_day__digits(buf + 20, (unsigned)(off / 60), 2);
    buf[22] = ':';
    tkl_day__digits(buf + 23, (unsigned)(off % 60), 2);
    buf[25] = '\0';
    return 0;
}

/* Writes instant t as ISO 8601 local time with its UTC offset,
 * "2023-03-03T09:00:00+00:00". Returns 0, -EOVERFLOW, -ERANGE for a year
 * outside 1 to 9999, or -ENOSPC when size is less than
 * TKL_INSTANT_ISO_SIZE. */
static inline int tkl_instant_iso(int64_t t, char *buf, size_t size)
{
    return tkl_day__instant(t, false, buf, size);
}

/*
 * Writes instant t as an RFC 5322 date-time in local time, the value of a
 * message's Date: header: "Fri, 03 Mar 2023 09:00:00 +0000". Returns 0,
 * -EOVERFLOW, -ERANGE for a year outside 1900 to 9999 (RFC 5322 3.3), or
 * -ENOSPC when size is less than TKL_RFC5322_DATE_SIZE.
 */
static inline int tkl_instant_rfc5322(int64_t t, char *buf, size_t size)
{
    return tkl_day__instant(t, true, buf, size);
}

#ifdef __cplusplus
}
#endif

#endif /* TICKLER_DAY_H */
