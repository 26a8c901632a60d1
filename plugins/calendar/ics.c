#include "ics.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libical/ical.h>
#include <tickler/day.h>
#include <tickler/text.h>

#define MAX_FILE_BYTES  (16u << 20)
#define MAX_OCCURRENCES 100000 /* per event and query: a runaway rule stops here */
#define MAX_DEPTH       16
#define MAX_SPAN_DAYS   366

/* One unfolded content line and the physical line it starts on. */
struct cline {
    char *text;
    unsigned line;
};

/* A VEVENT found by the structure check: its lines [first, last]. */
struct vrange {
    size_t first, last;
};

struct parse {
    const char *path;
    ics_problem_fn problem;
    void *pdata;
    unsigned n_problems;
    struct cline *lines;
    size_t n_lines, cap_lines;
    struct vrange *events;
    size_t n_events, cap_events;
};

static void problem(struct parse *P, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct parse *P, unsigned line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    P->n_problems++;
    if (P->problem)
        P->problem(P->pdata, line, msg);
}

/* Dates tickler reads from a calendar: real ones of 1900 to 2200. */
static bool valid_date(int y, int m, int d)
{
    return y >= 1900 && y <= 2200 && tkl_civil_valid(y, m, d);
}

/* ---- structure ------------------------------------------------------- */

/* Whether s[0..n) is well-formed UTF-8 (tkl_utf8_decode). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = tkl_utf8_decode((const char *)s + i, n - i, NULL)))
            return false;
    return true;
}

static int add_line(struct parse *P, const char *s, size_t n, unsigned line)
{
    if (P->n_lines == P->cap_lines) {
        size_t cap = P->cap_lines ? P->cap_lines * 2 : 256;
        struct cline *v = realloc(P->lines, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        P->lines = v;
        P->cap_lines = cap;
    }
    char *t = strndup(s, n);
    if (!t)
        return -ENOMEM;
    P->lines[P->n_lines++] = (struct cline){.text = t, .line = line};
    return 0;
}

/* Appends a continuation to the last logical line. */
static int extend_line(struct parse *P, const char *s, size_t n)
{
    struct cline *c = &P->lines[P->n_lines - 1];
    size_t old = strlen(c->text);
    char *t = realloc(c->text, old + n + 1);
    if (!t)
        return -ENOMEM;
    memcpy(t + old, s, n);
    t[old + n] = '\0';
    c->text = t;
    return 0;
}

/* Splits data into unfolded content lines (RFC 5545 3.1). */
static int unfold(struct parse *P, const char *data, size_t len)
{
    unsigned line = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t n = end - pos;
        line++;
        if (n && data[pos + n - 1] == '\r')
            n--;
        if (n && (data[pos] == ' ' || data[pos] == '\t')) {
            if (!P->n_lines) {
                problem(P, line, "a continuation line (starting with a space) comes first");
            } else if (extend_line(P, data + pos + 1, n - 1) < 0) {
                return -ENOMEM;
            }
        } else if (n && add_line(P, data + pos, n, line) < 0) {
            return -ENOMEM;
        }
        pos = end + 1;
    }
    return 0;
}

/* Length of the property name at s (RFC 5545 iana-token / x-name). */
static size_t name_len(const char *s)
{
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '-')
        n++;
    return n;
}

/* Checks "name *(;param=value) : value"; returns why not, or NULL. */
static const char *content_line_problem(const char *s)
{
    size_t n = name_len(s);
    if (!n)
        return "expected a property name (letters, digits and '-') at the start of the line";
    s += n;
    while (*s == ';') {
        s++;
        size_t pn = name_len(s);
        if (!pn || s[pn] != '=')
            return "expected a parameter NAME=VALUE after ';'";
        s += pn + 1;
        for (;;) {
            if (*s == '"') {
                const char *q = strchr(s + 1, '"');
                if (!q)
                    return "a quoted parameter value is not closed";
                s = q + 1;
            } else {
                while (*s && *s != ';' && *s != ':' && *s != ',' && *s != '"')
                    s++;
            }
            if (*s != ',')
                break;
            s++;
        }
    }
    if (*s != ':')
        return "expected ':' between the property name and its value";
    return NULL;
}

static bool line_is(const char *text, const char *what)
{
    return strcasecmp(text, what) == 0;
}

/* Checks the content lines and the BEGIN/END nesting, and records where
 * each VEVENT of the VCALENDAR lies. */
static int check_structure(struct parse *P)
{
    char stack[MAX_DEPTH][64];
    size_t begin_at[MAX_DEPTH];
    int depth = 0;
    bool seen_calendar = false;
    for (size_t i = 0; i < P->n_lines; i++) {
        const char *t = P->lines[i].text;
        unsigned ln = P->lines[i].line;
        if (i == 0 && !line_is(t, "BEGIN:VCALENDAR")) {
            problem(P, ln,
                    "expected BEGIN:VCALENDAR as the first line; is this an iCalendar file?");
            return 0;
        }
        const char *why = content_line_problem(t);
        if (why) {
            problem(P, ln, "%s", why);
            continue;
        }
        if (strncasecmp(t, "BEGIN:", 6) == 0) {
            if (depth == MAX_DEPTH) {
                problem(P, ln, "components are nested more than %d deep", MAX_DEPTH);
                return 0;
            }
            if (depth == 0 && seen_calendar) {
                problem(P, ln, "a second VCALENDAR; put one calendar in each file");
                return 0;
            }
            snprintf(stack[depth], sizeof(stack[depth]), "%s", t + 6);
            begin_at[depth] = i;
            if (depth == 0)
                seen_calendar = true;
            depth++;
        } else if (strncasecmp(t, "END:", 4) == 0) {
            if (depth == 0) {
                problem(P, ln, "%s without a matching BEGIN", t);
                continue;
            }
            if (strcasecmp(stack[depth - 1], t + 4) != 0) {
                problem(P, ln, "%s does not close BEGIN:%s of line %u", t, stack[depth - 1],
                        P->lines[begin_at[depth - 1]].line);
                return 0;
            }
            depth--;
            if (depth == 1 && strcasecmp(stack[1], "VEVENT") == 0) {
                if (P->n_events == P->cap_events) {
                    size_t cap = P->cap_events ? P->cap_events * 2 : 64;
                    struct vrange *v = realloc(P->events, cap * sizeof(*v));
                    if (!v)
                        return -ENOMEM;
                    P->events = v;
                    P->cap_events = cap;
                }
                P->events[P->n_events++] = (struct vrange){begin_at[1], i};
            }
        } else if (depth == 0) {
            problem(P, ln, "a property outside BEGIN:VCALENDAR ... END:VCALENDAR");
        }
    }
    if (depth > 0)
        problem(P, P->lines[begin_at[depth - 1]].line, "BEGIN:%s is never closed (no END:%s)",
                stack[depth - 1], stack[depth - 1]);
    if (!seen_calendar && P->n_lines == 0)
        problem(P, 0, "the file is empty");
    return 0;
}

/* ---- events ---------------------------------------------------------- */

/* The line of the first property called name in event range v, else the
 * event's BEGIN line. */
static unsigned line_of(const struct parse *P, const struct vrange *v, const char *name,
                        const char *value)
{
    size_t n = strlen(name);
    unsigned first = 0;
    for (size_t i = v->first; i <= v->last; i++) {
        const char *t = P->lines[i].text;
        if (strncasecmp(t, name, n) != 0 || (t[n] != ':' && t[n] != ';'))
            continue;
        if (!first)
            first = P->lines[i].line;
        if (!value)
            return first;
        const char *colon = strchr(t, ':');
        if (colon && strstr(colon + 1, value))
            return P->lines[i].line;
    }
    return first ? first : P->lines[v->first].line;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int push_day(struct ics_days *d, int32_t day)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        int32_t *p = realloc(d->v, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        d->v = p;
        d->cap = cap;
    }
    d->v[d->n++] = day;
    return 0;
}

static void event_clear(struct ics_event *e)
{
    free(e->uid);
    free(e->summary);
    free(e->description);
    free(e->category);
    free(e->url);
    for (size_t i = 0; i < e->n_teams; i++)
        free(e->teams[i]);
    free(e->teams);
    free(e->rrule);
    free(e->rdates.v);
    free(e->exdates.v);
    memset(e, 0, sizeof(*e));
}

/* A date property's day; false (with a problem) when it is not a valid
 * date or date-time. */
static bool take_day(struct parse *P, const struct vrange *v, const char *name,
                     struct icaltimetype t, const char *raw, int32_t *ret)
{
    if (icaltime_is_null_time(t) || !valid_date(t.year, t.month, t.day)) {
        problem(P, line_of(P, v, name, raw), "%s: \"%s\" is not a valid date (YYYYMMDD)", name,
                raw ? raw : "");
        return false;
    }
    *ret = tkl_day_from_civil(t.year, t.month, t.day);
    return true;
}

/* The zone named id: a VTIMEZONE of file F, or one of libical's (an Olson
 * name such as Europe/London, with or without libical's own prefix), or
 * NULL. */
static icaltimezone *zone_named(const struct ics_file *F, const char *id)
{
    for (size_t i = 0; i < F->n_zones; i++) {
        const char *z = icaltimezone_get_tzid(F->zones[i]);
        if (z && strcmp(z, id) == 0)
            return F->zones[i];
    }
    icaltimezone *zone = icaltimezone_get_builtin_timezone(id);
    return zone ? zone : icaltimezone_get_builtin_timezone_from_tzid(id);
}

/* Keeps a copy of each VTIMEZONE of root in F, for the events' times to be
 * read in. One libical cannot take (no TZID) is not kept: no event can
 * name it. Returns 0 or -ENOMEM. */
static int keep_zones(struct ics_file *F, icalcomponent *root)
{
    for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VTIMEZONE_COMPONENT); c;
         c = icalcomponent_get_next_component(root, ICAL_VTIMEZONE_COMPONENT)) {
        icaltimezone **v = realloc(F->zones, (F->n_zones + 1) * sizeof(icaltimezone *));
        if (!v)
            return -ENOMEM;
        F->zones = v;
        icaltimezone *zone = icaltimezone_new();
        icalcomponent *copy = zone ? icalcomponent_new_clone(c) : NULL;
        if (!copy) {
            if (zone)
                icaltimezone_free(zone, 1);
            return -ENOMEM;
        }
        if (!icaltimezone_set_component(zone, copy)) {
            icalcomponent_free(copy);
            icaltimezone_free(zone, 1);
            continue;
        }
        F->zones[F->n_zones++] = zone;
    }
    return 0;
}

/* The wall-clock time of the daemon's zone (TZ, set from daemon.timezone)
 * at t, a time of zone. */
static struct icaltimetype local_time(struct icaltimetype t, icaltimezone *zone)
{
    time_t at = icaltime_as_timet_with_zone(t, zone);
    struct tm lt;
    if (!localtime_r(&at, &lt))
        return t;
    struct icaltimetype r = icaltime_null_time();
    r.year = lt.tm_year + 1900;
    r.month = lt.tm_mon + 1;
    r.day = lt.tm_mday;
    r.hour = lt.tm_hour;
    r.minute = lt.tm_min;
    r.second = lt.tm_sec;
    return r;
}

/*
 * A date-time t of property p as the wall-clock time of the daemon's zone,
 * whose date is then the day: a UTC time ("...Z") or one with a TZID (a
 * VTIMEZONE of file F, or a zone such as Europe/London) is converted; a
 * floating time, or a date, is taken as written. *ret_zone (if given)
 * gets the zone t was converted from, or NULL. A TZID that names no zone
 * is a problem, and the time is taken as written.
 */
static struct icaltimetype in_local_zone(struct parse *P, const struct vrange *v, const char *name,
                                         const struct ics_file *F, icalproperty *p,
                                         struct icaltimetype t, const char *raw,
                                         icaltimezone **ret_zone)
{
    icaltimezone *zone = NULL;
    if (ret_zone)
        *ret_zone = NULL;
    if (t.is_date || icaltime_is_null_time(t))
        return t;
    if (icaltime_is_utc(t)) {
        zone = icaltimezone_get_utc_timezone();
    } else {
        icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
        const char *id = tz ? icalparameter_get_tzid(tz) : NULL;
        if (!id)
            return t;
        if (!(zone = zone_named(F, id))) {
            problem(P, line_of(P, v, name, raw),
                    "%s: TZID \"%s\" is neither a VTIMEZONE of this file nor a known zone "
                    "(such as Europe/London)",
                    name, id);
            return t;
        }
    }
    if (ret_zone)
        *ret_zone = zone;
    return local_time(t, zone);
}

/* Adds the comma-separated values of s to e->teams. */
static int add_teams(struct ics_event *e, const char *s)
{
    while (s && *s) {
        size_t n = strcspn(s, ",");
        const char *a = s, *b = s + n;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            char **v = realloc(e->teams, (e->n_teams + 1) * sizeof(*v));
            if (!v)
                return -ENOMEM;
            e->teams = v;
            if (!(v[e->n_teams] = strndup(a, (size_t)(b - a))))
                return -ENOMEM;
            e->n_teams++;
        }
        s += n + (s[n] == ',');
    }
    return 0;
}

/* Reads one VEVENT into *e. Problems go to P; returns 0 or -ENOMEM. */
static int read_event(struct parse *P, const struct ics_file *F, icalcomponent *c,
                      const struct vrange *v, struct ics_event *e)
{
    unsigned begin = P->lines[v->first].line;
    bool have_start = false, have_end = false, have_duration = false;
    int32_t end = 0;
    uint64_t duration = 0;     /* seconds */
    uint32_t start_second = 0; /* of DTSTART's day, in the daemon's zone */
    e->line = begin;
    e->span = 1;
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        icalproperty_kind k = icalproperty_isa(p);
        const char *raw = icalproperty_get_value_as_string(p);
        switch (k) {
        case ICAL_XLICERROR_PROPERTY: {
            const char *msg = icalproperty_get_xlicerror(p);
            const char *in = msg ? strstr(msg, " in ") : NULL;
            char name[64] = "";
            if (in && sscanf(in, " in %63s property", name) != 1)
                name[0] = '\0';
            const char *val = msg ? strstr(msg, "property: ") : NULL;
            problem(P, name[0] ? line_of(P, v, name, val ? val + 10 : NULL) : begin, "%s",
                    msg ? msg : "libical could not read a property");
            break;
        }
        case ICAL_UID_PROPERTY:
            if (!e->uid && !(e->uid = dup_or_null(icalproperty_get_uid(p))) && raw && *raw)
                return -ENOMEM;
            break;
        case ICAL_SUMMARY_PROPERTY:
            if (!e->summary && !(e->summary = dup_or_null(icalproperty_get_summary(p))) && raw &&
                *raw)
                return -ENOMEM;
            break;
        case ICAL_DESCRIPTION_PROPERTY:
            if (!e->description &&
                !(e->description = dup_or_null(icalproperty_get_description(p))) && raw && *raw)
                return -ENOMEM;
            break;
        case ICAL_URL_PROPERTY:
            if (!e->url && !(e->url = dup_or_null(icalproperty_get_url(p))) && raw && *raw)
                return -ENOMEM;
            break;
        case ICAL_LOCATION_PROPERTY:
            if (raw && *raw)
                e->dropped |= ICS_DROPPED_LOCATION;
            break;
        case ICAL_CATEGORIES_PROPERTY:
            if (e->category) {
                if (raw && raw[strspn(raw, ", \t")])
                    e->dropped |= ICS_DROPPED_CATEGORIES;
            } else {
                const char *cat = icalproperty_get_categories(p);
                size_t n = cat ? strcspn(cat, ",") : 0;
                if (n && cat[n + strspn(cat + n, ", \t")]) /* a second value */
                    e->dropped |= ICS_DROPPED_CATEGORIES;
                if (n) {
                    if (!(e->category = strndup(cat, n)))
                        return -ENOMEM;
                    for (char *q = e->category; *q; q++)
                        *q = (char)tolower((unsigned char)*q);
                }
            }
            break;
        case ICAL_DTSTART_PROPERTY: {
            struct icaltimetype t = icalproperty_get_dtstart(p);
            struct icaltimetype lt = in_local_zone(P, v, "DTSTART", F, p, t, raw, &e->zone);
            have_start = take_day(P, v, "DTSTART", lt, raw, &e->start);
            e->dtstart = t;
            e->dtstart.zone = NULL; /* the parsed calendar's, freed with it: e->zone */
            if (!lt.is_date) {
                start_second = (uint32_t)(lt.hour * 3600 + lt.minute * 60 + lt.second);
                e->dropped |= ICS_DROPPED_TIME;
            }
            break;
        }
        case ICAL_DTEND_PROPERTY: {
            struct icaltimetype t =
                in_local_zone(P, v, "DTEND", F, p, icalproperty_get_dtend(p), raw, NULL);
            have_end = take_day(P, v, "DTEND", t, raw, &end);
            /* a date-time end is inclusive of its day unless at midnight */
            if (have_end && !t.is_date && (t.hour || t.minute || t.second))
                end++;
            break;
        }
        case ICAL_DURATION_PROPERTY: {
            struct icaldurationtype d = icalproperty_get_duration(p);
            /* in 64 bits: icaldurationtype_as_int's int wraps past 68 years */
            uint64_t secs = ((uint64_t)d.weeks * 7 + d.days) * 86400 + (uint64_t)d.hours * 3600 +
                            (uint64_t)d.minutes * 60 + d.seconds;
            if (icaldurationtype_is_bad_duration(d) || d.is_neg || secs == 0) {
                problem(P, line_of(P, v, "DURATION", NULL),
                        "DURATION: \"%s\" is not a positive duration such as P1D or P4W",
                        raw ? raw : "");
                break;
            }
            uint64_t days = (secs + 86399) / 86400;
            if (days > MAX_SPAN_DAYS) {
                problem(P, line_of(P, v, "DURATION", NULL),
                        "DURATION: \"%s\" lasts %llu days; at most %d are allowed", raw ? raw : "",
                        (unsigned long long)days, MAX_SPAN_DAYS);
                break;
            }
            duration = secs; /* from DTSTART's time of day, below */
            have_duration = true;
            break;
        }
        case ICAL_RRULE_PROPERTY: {
            struct icalrecurrencetype r = icalproperty_get_rrule(p);
            if (e->rrule) {
                problem(P, line_of(P, v, "RRULE", NULL),
                        "more than one RRULE; put the dates of the second rule in RDATE");
                break;
            }
            if (r.freq == ICAL_NO_RECURRENCE) {
                problem(P, line_of(P, v, "RRULE", NULL), "RRULE: \"%s\" is not a rule",
                        raw ? raw : "");
                break;
            }
            if (r.freq == ICAL_SECONDLY_RECURRENCE || r.freq == ICAL_MINUTELY_RECURRENCE ||
                r.freq == ICAL_HOURLY_RECURRENCE) {
                problem(P, line_of(P, v, "RRULE", NULL),
                        "RRULE: \"%s\" repeats within a day; observances are whole days, so "
                        "use FREQ=DAILY or longer",
                        raw ? raw : "");
                break;
            }
            if (!(e->rrule = icalrecurrencetype_as_string_r(&r)))
                return -ENOMEM;
            break;
        }
        case ICAL_RDATE_PROPERTY: {
            struct icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
            int32_t day;
            if (!icalperiodtype_is_null_period(dp.period)) {
                problem(P, line_of(P, v, "RDATE", raw),
                        "RDATE: periods are not supported; give dates and a DURATION");
                break;
            }
            if (take_day(P, v, "RDATE", in_local_zone(P, v, "RDATE", F, p, dp.time, raw, NULL), raw,
                         &day) &&
                push_day(&e->rdates, day) < 0)
                return -ENOMEM;
            break;
        }
        case ICAL_EXDATE_PROPERTY: {
            int32_t day;
            if (take_day(P, v, "EXDATE",
                         in_local_zone(P, v, "EXDATE", F, p, icalproperty_get_exdate(p), raw, NULL),
                         raw, &day) &&
                push_day(&e->exdates, day) < 0)
                return -ENOMEM;
            break;
        }
        case ICAL_X_PROPERTY: {
            const char *xn = icalproperty_get_x_name(p);
            if (xn && strcasecmp(xn, "X-TICKLER-TEAMS") == 0 && add_teams(e, raw) < 0)
                return -ENOMEM;
            break;
        }
        case ICAL_RECURRENCEID_PROPERTY:
            problem(P, line_of(P, v, "RECURRENCE-ID", NULL),
                    "RECURRENCE-ID (a changed occurrence) is not supported; use EXDATE on the "
                    "series and a separate event");
            break;
        default:
            break;
        }
    }
    if (!e->uid)
        problem(P, begin, "the event has no UID");
    if (!e->summary)
        problem(P, begin, "the event has no SUMMARY (its name)");
    if (!have_start) {
        if (!icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY))
            problem(P, begin, "the event has no DTSTART");
        return 0;
    }
    if (have_duration) /* the days it touches, from its start's time of day */
        e->span = (int32_t)((start_second + duration + 86399) / 86400);
    if (have_end) {
        if (end <= e->start) {
            problem(P, line_of(P, v, "DTEND", NULL),
                    "DTEND is not after DTSTART (for a one-day event, DTEND is the next day)");
            return 0;
        }
        e->span = end - e->start;
        int y, m, d, ey, em, ed;
        tkl_day_to_civil(e->start, &y, &m, &d);
        tkl_day_to_civil(end, &ey, &em, &ed);
        e->whole_month = d == 1 && ed == 1 && (em == m + 1 || (m == 12 && em == 1 && ey == y + 1));
    }
    if (e->span > MAX_SPAN_DAYS)
        problem(P, begin, "the event lasts %d days; at most %d are allowed", e->span,
                MAX_SPAN_DAYS);
    return 0;
}

static void parse_release(struct parse *P)
{
    for (size_t i = 0; i < P->n_lines; i++)
        free(P->lines[i].text);
    free(P->lines);
    free(P->events);
}

void ics_file_free(struct ics_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        event_clear(&f->events[i]);
    free(f->events);
    for (size_t i = 0; i < f->n_zones; i++)
        icaltimezone_free(f->zones[i], 1);
    free(f->zones);
    free(f->path);
    free(f);
}

int ics_parse(const char *path, const char *data, size_t len, ics_problem_fn problem_fn,
              void *problem_data, struct ics_file **ret)
{
    struct parse P = {.path = path, .problem = problem_fn, .pdata = problem_data};
    struct ics_file *f = NULL;
    icalcomponent *root = NULL;
    char *copy = NULL;
    int r = 0;

    if (memchr(data, '\0', len)) {
        problem(&P, 0, "the file holds NUL bytes; it is not a text iCalendar file");
        return -EINVAL;
    }
    if (!valid_utf8((const unsigned char *)data, len)) {
        /* name the first bad line */
        unsigned line = 1;
        size_t start = 0;
        for (size_t i = 0; i <= len; i++)
            if (i == len || data[i] == '\n') {
                if (!valid_utf8((const unsigned char *)data + start, i - start))
                    break;
                line++;
                start = i + 1;
            }
        problem(&P, line, "the text is not valid UTF-8");
        return -EINVAL;
    }
    if ((r = unfold(&P, data, len)) < 0 || (r = check_structure(&P)) < 0)
        goto out;
    if (P.n_problems) {
        r = -EINVAL;
        goto out;
    }
    if (!(copy = strndup(data, len))) {
        r = -ENOMEM;
        goto out;
    }
    icalerror_set_errors_are_fatal(0);
    root = icalparser_parse_string(copy);
    icalerror_clear_errno();
    if (!root || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
        problem(&P, 1, "libical could not read the calendar");
        r = -EINVAL;
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path))) {
        r = -ENOMEM;
        goto out;
    }
    if ((P.n_events && !(f->events = calloc(P.n_events, sizeof(*f->events)))) ||
        keep_zones(f, root) < 0) {
        r = -ENOMEM;
        goto out;
    }
    size_t k = 0;
    for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
         c && k < P.n_events; c = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
        struct ics_event *e = &f->events[k];
        f->n = ++k;
        if ((r = read_event(&P, f, c, &P.events[k - 1], e)) < 0)
            goto out;
        for (size_t j = 0; j + 1 < k && e->uid; j++)
            if (f->events[j].uid && strcmp(f->events[j].uid, e->uid) == 0)
                problem(&P, e->line, "UID %s is used again (first at line %u)", e->uid,
                        f->events[j].line);
    }
    if (k != P.n_events)
        problem(&P, 0, "libical read %zu events where the file has %zu", k, P.n_events);
    if (P.n_problems)
        r = -EINVAL;
out:
    if (root)
        icalcomponent_free(root);
    free(copy);
    parse_release(&P);
    if (r < 0) {
        ics_file_free(f);
        return r;
    }
    *ret = f;
    return 0;
}

int ics_load(const char *path, ics_problem_fn problem_fn, void *problem_data, struct ics_file **ret)
{
    struct parse P = {.path = path, .problem = problem_fn, .pdata = problem_data};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        problem(&P, 0, "cannot open: %s", strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        problem(&P, 0, "cannot read: %s", strerror(e));
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE_BYTES) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        problem(&P, 0, "not a regular file of at most %u MiB", MAX_FILE_BYTES >> 20);
        close(fd);
        return -e;
    }
    size_t len = (size_t)st.st_size, off = 0;
    char *buf = malloc(len + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (off < len) {
        ssize_t n = read(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            problem(&P, 0, "cannot read: %s", strerror(e));
            free(buf);
            close(fd);
            return -e;
        }
        off += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    int r = ics_parse(path, buf, len, problem_fn, problem_data, ret);
    free(buf);
    return r;
}

/* ---- expansion ------------------------------------------------------- */

static int cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static bool excluded(const struct ics_event *e, int32_t day)
{
    for (size_t i = 0; i < e->exdates.n; i++)
        if (e->exdates.v[i] == day)
            return true;
    return false;
}

/* Last day of the occurrence of e that starts on day. */
static int32_t last_day(const struct ics_event *e, int32_t day)
{
    if (e->whole_month) {
        int y, m, d;
        tkl_day_to_civil(day, &y, &m, &d);
        return (m == 12 ? tkl_day_from_civil(y + 1, 1, 1) : tkl_day_from_civil(y, m + 1, 1)) - 1;
    }
    return day + e->span - 1;
}

int ics_occurrences(const struct ics_event *e, int32_t from, int32_t to,
                    int (*fn)(void *data, int32_t first, int32_t last), void *data)
{
    struct ics_days days = {0};
    int r = 0;
    /* an occurrence starting at s overlaps when s <= to && last >= from */
    int32_t lo = from - (e->whole_month ? 31 : e->span) + 1;
    if (e->start >= lo && e->start <= to && (r = push_day(&days, e->start)) < 0)
        goto out;
    for (size_t i = 0; i < e->rdates.n; i++)
        if (e->rdates.v[i] >= lo && e->rdates.v[i] <= to &&
            (r = push_day(&days, e->rdates.v[i])) < 0)
            goto out;
    if (e->rrule) {
        struct icalrecurrencetype rule = icalrecurrencetype_from_string(e->rrule);
        /* not icaltime_null_date(): its hour of -1 moves every occurrence
         * back a day */
        struct icaltimetype start = {.is_date = 1};
        int y, m, d;
        tkl_day_to_civil(e->start, &y, &m, &d);
        start.year = y;
        start.month = m;
        start.day = d;
        /* a time of a zone repeats in its zone (its weekdays, its UNTIL,
         * its clock changes); each occurrence is then on its day here */
        if (e->zone) {
            start = e->dtstart;
            start.zone = e->zone;
            /* an UNTIL date includes its day: libical ranks any time of that
             * day after the date, and would end the series a day early */
            if (!icaltime_is_null_time(rule.until) && rule.until.is_date) {
                rule.until.is_date = 0;
                rule.until.hour = 23;
                rule.until.minute = 59;
                rule.until.second = 59;
                rule.until.zone = e->zone;
            }
        }
        icalrecur_iterator *it = icalrecur_iterator_new(rule, start);
        if (!it) {
            r = -ENOMEM;
            goto out;
        }
        for (int i = 0; i < MAX_OCCURRENCES; i++) {
            struct icaltimetype t = icalrecur_iterator_next(it);
            if (icaltime_is_null_time(t))
                break;
            if (e->zone)
                t = local_time(t, e->zone);
            int32_t day = tkl_day_from_civil(t.year, t.month, t.day);
            if (day > to)
                break;
            if (day >= lo && (r = push_day(&days, day)) < 0)
                break;
        }
        icalrecur_iterator_free(it);
        if (r < 0)
            goto out;
    }
    if (days.n)
        qsort(days.v, days.n, sizeof(*days.v), cmp_day);
    for (size_t i = 0; i < days.n; i++) {
        int32_t day = days.v[i];
        if ((i && day == days.v[i - 1]) || excluded(e, day) || last_day(e, day) < from)
            continue;
        if ((r = fn(data, day, last_day(e, day))) < 0)
            break;
    }
out:
    free(days.v);
    return r;
}

bool ics_table_end(const struct ics_event *e, int32_t *ret_day)
{
    if (e->rrule || !e->rdates.n)
        return false;
    int32_t end = INT32_MIN;
    if (!excluded(e, e->start))
        end = e->start;
    for (size_t i = 0; i < e->rdates.n; i++)
        if (e->rdates.v[i] > end && !excluded(e, e->rdates.v[i]))
            end = e->rdates.v[i];
    if (end == INT32_MIN)
        return false;
    *ret_day = end;
    return true;
}
