#include "day.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days. */
int32_t tkl_day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void tkl_day_to_civil(int32_t day, int *ret_y, int *ret_m, int *ret_d)
{
    int z = day + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int y = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *ret_y = y + (m <= 2);
    *ret_m = (int)m;
    *ret_d = (int)d;
}

int tkl_day_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int w = (int)((day % 7 + 7) % 7);
    return (w + 3) % 7;
}

bool tkl_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tkl_days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && tkl_is_leap_year(y) ? 29 : dm[m - 1];
}

bool tkl_civil_valid(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= tkl_days_in_month(y, m);
}

char *tkl_day_format(int32_t day, char *buf)
{
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(buf, tmp, 10);
    buf[10] = '\0';
    return buf;
}

/* Reads exactly n ASCII digits (no sign, no space). */
static bool digits(const char *s, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

/* Reads YYYY-MM-DD at the start of s into a valid date. */
static bool iso_date(const char *s, int *y, int *m, int *d)
{
    return digits(s, 4, y) && s[4] == '-' && digits(s + 5, 2, m) && s[7] == '-' &&
           digits(s + 8, 2, d) && tkl_civil_valid(*y, *m, *d);
}

int tkl_day_parse_iso(const char *s, int32_t *ret_day)
{
    int y, m, d;
    if (!s || !iso_date(s, &y, &m, &d) || s[10] != '\0')
        return -EINVAL;
    *ret_day = tkl_day_from_civil(y, m, d);
    return 0;
}

int tkl_parse_hhmm(const char *s, int *ret_minute)
{
    int h, m;
    if (!s)
        return -EINVAL;
    size_t hl = s[0] && s[1] == ':' ? 1 : 2; /* H:MM or HH:MM */
    if (!digits(s, (int)hl, &h) || s[hl] != ':' || !digits(s + hl + 1, 2, &m) ||
        s[hl + 3] != '\0' || h > 23 || m > 59)
        return -EINVAL;
    *ret_minute = h * 60 + m;
    return 0;
}

int tkl_tz_check(const char *zone)
{
    char path[512];
    if (!zone || !*zone || strstr(zone, "..") || zone[0] == '/')
        return -EINVAL;
    int len = snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    if (len < 0 || (size_t)len >= sizeof(path))
        return -EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -ENOENT;
    char magic[4];
    size_t n = fread(magic, 1, sizeof(magic), f);
    (void)fclose(f);
    if (n != 4 || memcmp(magic, "TZif", 4) != 0)
        return -ENOENT;
    return 0;
}

int tkl_tz_set(const char *zone)
{
    int r = tkl_tz_check(zone);
    if (r < 0)
        return r;
    if (setenv("TZ", zone, 1) < 0)
        return -errno;
    tzset();
    return 0;
}

int64_t tkl_local_instant(int32_t day, int minute_of_day)
{
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    struct tm tm = {
        .tm_year = y - 1900,
        .tm_mon = m - 1,
        .tm_mday = d,
        .tm_hour = minute_of_day / 60,
        .tm_min = minute_of_day % 60,
        .tm_isdst = -1,
    };
    time_t t = mktime(&tm);
    /* mktime normalises a non-existent local time forward by the gap;
     * an ambiguous one resolves per tm_isdst=-1 to either offset, so pin
     * it to the earlier instant. */
    struct tm check;
    time_t earlier = t - 3600;
    if (localtime_r(&earlier, &check) && check.tm_mday == d &&
        check.tm_hour == minute_of_day / 60 && check.tm_min == minute_of_day % 60)
        t = earlier;
    return (int64_t)t;
}

int32_t tkl_local_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return TKL_NO_DAY;
    return tkl_day_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int tkl_parse_datetime(const char *s, int64_t *ret_t)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s)
        return -EINVAL;
    if (s[0] == '@') {
        char *end;
        errno = 0;
        long long v = strtoll(s + 1, &end, 10);
        if (errno || end == s + 1 || *end)
            return -EINVAL;
        *ret_t = v;
        return 0;
    }
    if (!iso_date(s, &y, &mo, &d))
        return -EINVAL;
    const char *rest = s + 10;
    if (*rest == 'T' || *rest == ' ') {
        if (!digits(rest + 1, 2, &h) || rest[3] != ':' || !digits(rest + 4, 2, &mi))
            return -EINVAL;
        rest += 6;
        if (*rest == ':') {
            if (!digits(rest + 1, 2, &sec))
                return -EINVAL;
            rest += 3;
        }
        if (h > 23 || mi > 59 || sec > 59)
            return -EINVAL;
    }
    if (*rest)
        return -EINVAL;
    *ret_t = tkl_local_instant(tkl_day_from_civil(y, mo, d), h * 60 + mi) + sec;
    return 0;
}

char *tkl_format_instant(int64_t t, char *buf)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm)) {
        snprintf(buf, 32, "@%lld", (long long)t);
        return buf;
    }
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600,
             (off % 3600) / 60);
    snprintf(buf, 32, "%.31s", tmp);
    return buf;
}

const char *tkl_month_name(int m)
{
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    return m >= 1 && m <= 12 ? names[m - 1] : "";
}
