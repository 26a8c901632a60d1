#include "day.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *tkl_day_format(int32_t day, char *buf)
{
    int y, m, d;
    /* tkl_day_iso's text, without a format parsed for each of the millions
     * of days tickler upcoming writes */
    if (tkl_day__civil4(day, &y, &m, &d) < 0) {
        buf[0] = '\0';
        return buf;
    }
    const int v[] = {y / 1000, y / 100 % 10, y / 10 % 10, y % 10, -1,
                     m / 10,   m % 10,       -1,          d / 10, d % 10};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        buf[i] = v[i] < 0 ? '-' : (char)('0' + v[i]);
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
    if (tkl_instant_iso(t, buf, 32) < 0)
        snprintf(buf, 32, "@%lld", (long long)t);
    return buf;
}
