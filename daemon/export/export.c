#include "export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include <tickler/text.h>

#include "../core/day.h"
#include "../core/text.h"

/* ---- iCalendar ------------------------------------------------------- */

struct ics_out {
    FILE *f;
    struct tkl_buf line; /* the logical line, folded when written */
    bool oom;
};

static void ics_add(struct ics_out *o, const char *s, size_t n)
{
    if (tkl_buf_append(&o->line, s, n) < 0)
        o->oom = true;
}

/* Appends text escaped as an RFC 5545 TEXT value; control characters
 * other than line breaks become spaces. */
static void ics_text(struct ics_out *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '\\':
            ics_add(o, "\\\\", 2);
            break;
        case ';':
            ics_add(o, "\\;", 2);
            break;
        case ',':
            ics_add(o, "\\,", 2);
            break;
        case '\n':
            ics_add(o, "\\n", 2);
            break;
        case '\r':
            break;
        default:
            ics_add(o, (unsigned char)*s < 0x20 || *s == 0x7f ? " " : s, 1);
        }
    }
}

/* Writes the line folded at 75 octets, never inside a UTF-8 character. */
static void ics_end(struct ics_out *o)
{
    const char *line = o->line.data ? o->line.data : "";
    size_t pos = 0, limit = 75, len = o->line.len;
    while (len - pos > limit) {
        size_t cut = pos + limit;
        while (cut > pos && ((unsigned char)line[cut] & 0xc0) == 0x80)
            cut--;
        if (cut == pos) /* no character starts there: not UTF-8; cut anyway */
            cut = pos + limit;
        (void)fwrite(line + pos, 1, cut - pos, o->f); /* ferror() at the end */
        fputs("\r\n ", o->f);
        pos = cut;
        limit = 74; /* the leading space counts */
    }
    (void)fwrite(line + pos, 1, len - pos, o->f);
    fputs("\r\n", o->f);
    tkl_buf_reset(&o->line);
}

static void ics_line(struct ics_out *o, const char *name, const char *text)
{
    ics_add(o, name, strlen(name));
    ics_add(o, ":", 1);
    ics_text(o, text);
    ics_end(o);
}

/* A URI value (RFC 5545 3.3.13) is written as it is, without the
 * backslash escapes of text; control characters, which no URI holds and
 * which could end the line, are left out. */
static void ics_uri_line(struct ics_out *o, const char *name, const char *uri)
{
    ics_add(o, name, strlen(name));
    ics_add(o, ":", 1);
    for (const char *s = uri; *s; s++)
        if ((unsigned char)*s >= 0x20 && *s != 0x7f)
            ics_add(o, s, 1);
    ics_end(o);
}

static void ics_raw(struct ics_out *o, const char *s)
{
    ics_add(o, s, strlen(s));
    ics_end(o);
}

static void basic_date(int32_t day, char buf[36])
{
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    snprintf(buf, 36, "%04d%02d%02d", y, m, d);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    /* NULL and "" differ; the NUL ends each string */
    return s ? tkl_fnv1a(h, s, strlen(s) + 1) : tkl_fnv1a(h, "\x01", 1);
}

/* A hash of what an event's VEVENT shows besides its UID. */
static uint64_t event_hash(const struct tkl_event *e)
{
    uint64_t h = TKL_FNV_INIT;
    h = hash_str(h, e->title);
    h = hash_str(h, e->description);
    h = hash_str(h, e->category);
    h = hash_str(h, e->url);
    h = tkl_fnv1a(h, &e->first_day, sizeof(e->first_day));
    return tkl_fnv1a(h, &e->last_day, sizeof(e->last_day));
}

/* What becomes of one event of the list: left out (the same event given
 * again) or its UID suffixed with hash (its id is shared with another
 * event that differs). */
struct ics_uid {
    const struct tkl_event *e;
    size_t i; /* its index in the list */
    uint64_t hash;
    bool skip, suffix;
};

static int by_id_hash(const void *a, const void *b)
{
    const struct ics_uid *x = a, *y = b;
    int c = strcmp(x->e->id, y->e->id);
    if (c)
        return c;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Fills *ret with one entry per event, in the list's order, saying which
 * to skip and which UIDs get their hash: a choice made from the ids and
 * contents alone, so the order the sources gave them does not matter.
 * Returns 0 or -ENOMEM. */
static int plan_uids(const struct tkl_event_list *l, struct ics_uid **ret)
{
    struct ics_uid *u = calloc(l->n ? l->n : 1, sizeof(*u));
    struct ics_uid *v = calloc(l->n ? l->n : 1, sizeof(*v));
    if (!u || !v) {
        free(u);
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        v[i] = (struct ics_uid){.e = &l->v[i], .i = i, .hash = event_hash(&l->v[i])};
    qsort(v, l->n, sizeof(*v), by_id_hash);
    for (size_t g = 0, end; g < l->n; g = end) {
        size_t distinct = 1;
        for (end = g + 1; end < l->n && !strcmp(v[end].e->id, v[g].e->id); end++) {
            v[end].skip = v[end].hash == v[end - 1].hash;
            distinct += !v[end].skip;
        }
        for (size_t k = g; k < end; k++)
            v[k].suffix = distinct > 1;
    }
    for (size_t k = 0; k < l->n; k++)
        u[v[k].i] = v[k];
    free(v);
    *ret = u;
    return 0;
}

/* Whether a calendar's URL may be a link: a web or mail address, never a
 * script (javascript:) or data. */
static bool linkable(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0 ||
           strncasecmp(url, "mailto:", 7) == 0;
}

/* The calendar's own properties, before its events. */
static void ics_head(struct ics_out *o, const struct tkl_ics_opts *opts)
{
    char buf[80];
    ics_raw(o, "BEGIN:VCALENDAR");
    ics_raw(o, "VERSION:2.0");
    ics_raw(o, "PRODID:-//tickler//calendar export//EN");
    ics_raw(o, "CALSCALE:GREGORIAN");
    ics_raw(o, "METHOD:PUBLISH");
    ics_line(o, "X-WR-CALNAME", opts->name ? opts->name : TKL_EXPORT_TITLE);
    if (opts->description)
        ics_line(o, "X-WR-CALDESC", opts->description);
    if (opts->refresh_hours > 0) {
        /* RFC 7986 for the clients that know it, Outlook's own for Outlook */
        snprintf(buf, sizeof(buf), "REFRESH-INTERVAL;VALUE=DURATION:PT%dH", opts->refresh_hours);
        ics_raw(o, buf);
        snprintf(buf, sizeof(buf), "X-PUBLISHED-TTL:PT%dH", opts->refresh_hours);
        ics_raw(o, buf);
    }
}

static void ics_event(struct ics_out *o, const struct ics_uid *u, const char *stamp)
{
    const struct tkl_event *e = u->e;
    char buf[80], d1[36], d2[36];
    ics_raw(o, "BEGIN:VEVENT");
    ics_add(o, "UID:", 4);
    ics_text(o, e->id);
    if (u->suffix) {
        snprintf(buf, sizeof(buf), "/%016" PRIx64, u->hash);
        ics_add(o, buf, strlen(buf));
    }
    ics_end(o);
    snprintf(buf, sizeof(buf), "DTSTAMP:%s", stamp);
    ics_raw(o, buf);
    basic_date(e->first_day, d1);
    basic_date(e->last_day + 1, d2);
    snprintf(buf, sizeof(buf), "DTSTART;VALUE=DATE:%s", d1);
    ics_raw(o, buf);
    snprintf(buf, sizeof(buf), "DTEND;VALUE=DATE:%s", d2);
    ics_raw(o, buf);
    ics_line(o, "SUMMARY", e->title ? e->title : e->id);
    if (e->description)
        ics_line(o, "DESCRIPTION", e->description);
    if (e->category)
        ics_line(o, "CATEGORIES", e->category);
    if (e->url && linkable(e->url)) /* a calendar client opens it: web and mail only */
        ics_uri_line(o, "URL", e->url);
    ics_raw(o, "TRANSP:TRANSPARENT");
    ics_raw(o, "X-MICROSOFT-CDO-BUSYSTATUS:FREE");
    ics_raw(o, "END:VEVENT");
}

int tkl_export_ics(FILE *out, const struct tkl_event_list *l, const struct tkl_ics_opts *opts)
{
    struct ics_out o = {.f = out};
    char stamp[32];
    time_t t = (time_t)opts->stamp;
    struct tm tm;
    struct ics_uid *uids = NULL;
    if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
        return -EIO;
    int r = plan_uids(l, &uids);
    if (r < 0)
        return r;
    ics_head(&o, opts);
    for (size_t i = 0; i < l->n; i++)
        if (!uids[i].skip)
            ics_event(&o, &uids[i], stamp);
    ics_raw(&o, "END:VCALENDAR");
    tkl_buf_free(&o.line);
    free(uids);
    return o.oom ? -ENOMEM : ferror(out) ? -EIO : 0;
}

/* ---- categories ------------------------------------------------------ */

char *tkl_category_slug(const char *category, char buf[TKL_CATEGORY_SLUG_SIZE])
{
    const size_t max = TKL_CATEGORY_SLUG_SIZE - 1;
    size_t n = 0;
    bool gap = false;
    for (const char *p = category; p && *p && n < max; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            gap = true;
            continue;
        }
        if (gap && n) {
            if (n + 2 > max)
                break; /* no room for a letter after the '-' */
            buf[n++] = '-';
        }
        gap = false;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return buf;
}

/* Colours for the categories of the Equality Act 2010 and the council's
 * own; each is dark enough for white text at 4.5:1 or better. */
static const struct {
    const char *category;
    const char *colour;
} palette[] = {
    {"age", "#8a4b00"},
    {"disability", "#005a9c"},
    {"gender reassignment", "#7b2c83"},
    {"marriage and civil partnership", "#8c1d40"},
    {"pregnancy and maternity", "#a3336e"},
    {"race", "#1a5e20"},
    {"religion or belief", "#5c4b00"},
    {"sex", "#b0003a"},
    {"sexual orientation", "#4b3b9c"},
    {"armed forces", "#3d4f2f"},
    {"poverty", "#00695c"},
};
#define N_PALETTE    (sizeof(palette) / sizeof(palette[0]))
#define OTHER_COLOUR "#3d3d3d"

/* The palette's entry for slug, or -1. */
static int palette_of_slug(const char *slug)
{
    char buf[TKL_CATEGORY_SLUG_SIZE];
    for (size_t k = 0; *slug && k < N_PALETTE; k++)
        if (strcmp(tkl_category_slug(palette[k].category, buf), slug) == 0)
            return (int)k;
    return -1;
}

/* The palette's entry for the category (matched by slug, so "Sexual
 * Orientation" is "sexual orientation"), or -1 for one outside it. */
static int palette_index(const char *category)
{
    char slug[TKL_CATEGORY_SLUG_SIZE];
    return palette_of_slug(tkl_category_slug(category, slug));
}

const char *tkl_category_palette(size_t k)
{
    return k < N_PALETTE ? palette[k].category : NULL;
}

const char *tkl_category_known(const char *slug)
{
    int k = palette_of_slug(slug);
    return k < 0 ? NULL : palette[k].category;
}

int tkl_events_in_category(const struct tkl_event_list *l, const char *slug,
                           struct tkl_event_list *ret)
{
    struct tkl_event_list v = {0};
    char buf[TKL_CATEGORY_SLUG_SIZE];
    if (l->n && !(v.v = malloc(l->n * sizeof(*v.v))))
        return -ENOMEM;
    v.cap = l->n;
    for (size_t i = 0; i < l->n; i++)
        if (*slug && strcmp(tkl_category_slug(l->v[i].category, buf), slug) == 0)
            v.v[v.n++] = l->v[i];
    *ret = v;
    return 0;
}

void tkl_event_view_free(struct tkl_event_list *view)
{
    free(view->v);
    memset(view, 0, sizeof(*view));
}

/* ---- HTML ------------------------------------------------------------ */

/* The class that gives a palette entry's colour (-1: other) to --c
 * (prefix 'k') or to --d (prefix 'd'), the second colour of a day. */
static void colour_class(FILE *f, char prefix, int k)
{
    if (k < 0)
        fprintf(f, "%co", prefix);
    else
        fprintf(f, "%c%d", prefix, k);
}

static void chip(FILE *f, const char *category)
{
    fputs("<span class=\"chip ", f);
    colour_class(f, 'k', palette_index(category));
    fputs("\">", f);
    tkl_html_fputs(category ? category : "other", f);
    fputs("</span>", f);
}

/* The display name of a team given by id or name. */
static const char *team_name(const struct tkl_team_dir *teams, const char *t)
{
    const struct tkl_team *team = teams ? tkl_team_find(teams, t) : NULL;
    return team && team->name ? team->name : t;
}

/* The page is printed on A4: the header, the legend and the year at a
 * glance on the first page, then the months, a month's heading kept with
 * its table and a row never split. Colours are classes (no style
 * attribute), so a Content-Security-Policy that allows only the page's own
 * <style> still shows them. */
static const char html_style[] =
    "@page{size:A4;margin:12mm}\n"
    "body{font-family:\"Segoe UI\",Arial,sans-serif;color:#1f1f1f;margin:24px;"
    "line-height:1.45;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "h1{font-size:24px;margin:0 0 4px}\n"
    "h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f1f1f;"
    "break-after:avoid;page-break-after:avoid}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "thead{display:table-header-group}\n"
    "th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid "
    "#c8c8c8}\n"
    "td.when{white-space:nowrap;width:13em}\n"
    "table.list tr{border-left:6px solid var(--c);break-inside:avoid;page-break-inside:avoid}\n"
    ".chip{display:inline-block;color:#fff;background:var(--c);border-radius:3px;padding:0 6px;"
    "font-size:13px;margin:1px 4px 1px 0;white-space:nowrap}\n"
    ".legend{margin:12px 0 0;padding:0;list-style:none}\n"
    ".legend li{display:inline-block;margin:0 8px 4px 0}\n"
    ".desc{font-size:14px;color:#3d3d3d}\n"
    "section{break-inside:avoid-page;page-break-inside:avoid}\n"
    ".glance{margin:20px 0 0;break-after:page;page-break-after:always}\n"
    ".glance figcaption{font-size:19px;font-weight:600;margin:0 0 8px}\n"
    ".months{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px 18px}\n"
    ".mon{break-inside:avoid;page-break-inside:avoid}\n"
    "table.mini{table-layout:fixed;font-size:11px;line-height:1.35}\n"
    "table.mini caption{text-align:left;font-weight:600;font-size:13px;padding:0 0 2px}\n"
    "table.mini th,table.mini td{padding:1px 0;text-align:center;vertical-align:middle;"
    "border:0}\n"
    "table.mini th{color:#555}\n"
    "table.mini td.on{background:var(--c);color:#fff;font-weight:700}\n"
    "table.mini td.two{background:linear-gradient(135deg,var(--c) 50%,var(--d) 50%)}\n"
    ".long{margin:3px 0 0;font-size:11px}\n"
    ".long .chip{font-size:11px;white-space:normal}\n"
    "@media print{body{margin:0;font-size:10.5pt}}\n"
    "@media screen and (max-width:760px){.months{grid-template-columns:repeat(2,minmax(0,1fr))}}\n";

/* The document's head: its title and the style sheet. */
static void html_head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    tkl_html_fputs(title, out);
    fputs("</title>\n<style>\n", out);
    fputs(html_style, out);
    for (size_t k = 0; k < N_PALETTE; k++)
        fprintf(out, ".k%zu{--c:%s}.d%zu{--d:%s}\n", k, palette[k].colour, k, palette[k].colour);
    fputs(".ko{--c:" OTHER_COLOUR "}.do{--d:" OTHER_COLOUR "}\n", out);
    fputs("</style>\n</head>\n", out);
}

/* The legend: the categories that appear, in palette order, then "other"
 * when any category is outside the palette. */
static void html_legend(FILE *out, const struct tkl_event_list *l)
{
    bool used[N_PALETTE] = {false}, other = false;
    for (size_t i = 0; i < l->n; i++) {
        int k = palette_index(l->v[i].category);
        if (k < 0)
            other = true;
        else
            used[k] = true;
    }
    fputs("<ul class=\"legend\" aria-label=\"Categories\">\n", out);
    for (size_t k = 0; k < N_PALETTE; k++) {
        if (used[k]) {
            fputs("<li>", out);
            chip(out, palette[k].category);
            fputs("</li>\n", out);
        }
    }
    if (other)
        fputs("<li><span class=\"chip ko\">other (the council's own)</span></li>\n", out);
    fputs("</ul>\n", out);
}

/* The page's header: title, the days shown, the count and the legend. */
static void html_header(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day,
                        const char *title)
{
    char when[128];
    fputs("<body>\n<header>\n<h1>", out);
    tkl_html_fputs(title, out);
    fputs("</h1>\n<p>", out);
    tkl_html_fputs(tkl_day_range_format(from_day, to_day, when, sizeof(when)), out);
    fprintf(out, ": %zu observances.</p>\n", l->n);
    html_legend(out, l);
    fputs("</header>\n", out);
}

/* Observances longer than a week are named below the month in the grid
 * instead of colouring all its days. */
#define GLANCE_LONG_DAYS 8

static bool glance_long(const struct tkl_event *e)
{
    return e->last_day - e->first_day + 1 >= GLANCE_LONG_DAYS;
}

/* One day of the grid: coloured by the categories of its first two short
 * observances (the second as a diagonal half), named in its title. */
static void glance_day(FILE *out, const struct tkl_event_list *l, int32_t day, int d)
{
    int k[2] = {0, 0}, n_colours = 0;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        if (glance_long(e) || day < e->first_day || day > e->last_day)
            continue;
        int c = palette_index(e->category);
        if (n_colours == 0 || (n_colours == 1 && c != k[0]))
            k[n_colours++] = c;
        n++;
    }
    if (!n) {
        fprintf(out, "<td>%d</td>", d);
        return;
    }
    fputs("<td class=\"on ", out);
    colour_class(out, 'k', k[0]);
    if (n_colours > 1) {
        fputs(" two ", out);
        colour_class(out, 'd', k[1]);
    }
    fputs("\" title=\"", out);
    for (size_t i = 0, shown = 0; i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        if (glance_long(e) || day < e->first_day || day > e->last_day)
            continue;
        fputs(shown++ ? "; " : "", out);
        tkl_html_fputs(e->title ? e->title : e->id, out);
        fputs(" (", out);
        tkl_html_fputs(e->category ? e->category : "other", out);
        fputs(")", out);
    }
    fprintf(out, "\">%d</td>", d);
}

/* The long observances that overlap [first, last], as chips. */
static void glance_long_list(FILE *out, const struct tkl_event_list *l, int32_t first, int32_t last)
{
    size_t shown = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        if (!glance_long(e) || e->last_day < first || e->first_day > last)
            continue;
        fputs(shown++ ? "\n" : "<p class=\"long\">", out);
        fputs("<span class=\"chip ", out);
        colour_class(out, 'k', palette_index(e->category));
        fputs("\">", out);
        tkl_html_fputs(e->title ? e->title : e->id, out);
        fputs(" (", out);
        tkl_html_fputs(e->category ? e->category : "other", out);
        fputs(")</span>", out);
    }
    if (shown)
        fputs("</p>\n", out);
}

/* One month of the grid: a small table of six weeks from Monday. */
static void glance_month(FILE *out, const struct tkl_event_list *l, int y, int m)
{
    int32_t first = tkl_day_from_civil(y, m, 1);
    int n_days = tkl_days_in_month(y, m), lead = tkl_day_weekday(first);
    fprintf(out, "<div class=\"mon\">\n<table class=\"mini\">\n<caption>%s %d</caption>\n",
            tkl_month_name(m), y);
    fputs("<thead><tr>", out);
    for (int w = 0; w < 7; w++)
        fprintf(out, "<th scope=\"col\" abbr=\"%s\">%c</th>", tkl_weekday_name(w),
                tkl_weekday_name(w)[0]);
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int cell = 0; cell < 42; cell++) {
        int d = cell - lead + 1;
        fputs(cell % 7 == 0 ? "<tr>" : "", out);
        if (d < 1 || d > n_days)
            fputs("<td></td>", out);
        else
            glance_day(out, l, first + d - 1, d);
        fputs(cell % 7 == 6 ? "</tr>\n" : "", out);
    }
    fputs("</tbody>\n</table>\n", out);
    glance_long_list(out, l, first, first + n_days - 1);
    fputs("</div>\n", out);
}

/* The year at a glance: the first twelve months of [from_day, to_day]. */
static void html_glance(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day)
{
    int y, m, d, ey, em, ed;
    tkl_day_to_civil(from_day, &y, &m, &d);
    tkl_day_to_civil(to_day, &ey, &em, &ed);
    int months = (ey - y) * 12 + (em - m) + 1;
    if (months < 1)
        return;
    months = months > 12 ? 12 : months;
    int ly = y + (m - 1 + months - 1) / 12, lm = (m - 1 + months - 1) % 12 + 1;
    fputs("<figure class=\"glance\">\n<figcaption>At a glance: ", out);
    if (months == 1)
        fprintf(out, "%s %d", tkl_month_name(m), y);
    else if (ly == y)
        fprintf(out, "%s \xe2\x80\x93 %s %d", tkl_month_name(m), tkl_month_name(lm), y);
    else
        fprintf(out, "%s %d \xe2\x80\x93 %s %d", tkl_month_name(m), y, tkl_month_name(lm), ly);
    fputs("</figcaption>\n<div class=\"months\">\n", out);
    for (int i = 0; i < months; i++, m = m == 12 ? 1 : m + 1, y += m == 1)
        glance_month(out, l, y, m);
    fputs("</div>\n</figure>\n", out);
}

/* One observance as a table row: when, title, category, description,
 * link, and the teams by name. */
static void html_row(FILE *out, const struct tkl_event *e, const struct tkl_team_dir *teams)
{
    char when[128];
    tkl_day_range_format(e->first_day, e->last_day, when, sizeof(when));
    fputs("<tr class=\"", out);
    colour_class(out, 'k', palette_index(e->category));
    fputs("\"><td class=\"when\">", out);
    tkl_html_fputs(when, out);
    fputs("</td><td><strong>", out);
    tkl_html_fputs(e->title ? e->title : e->id, out);
    fputs("</strong> ", out);
    chip(out, e->category);
    if (e->description) {
        fputs("<div class=\"desc\">", out);
        tkl_html_fputs(e->description, out);
        fputs("</div>", out);
    }
    if (e->url && linkable(e->url)) {
        fputs("<div class=\"desc\"><a href=\"", out);
        tkl_html_fputs(e->url, out);
        fputs("\">Resources</a></div>", out);
    } else if (e->url) {
        fputs("<div class=\"desc\">Resources: ", out);
        tkl_html_fputs(e->url, out);
        fputs("</div>", out);
    }
    fputs("</td><td>", out);
    tkl_html_fputs(team_name(teams, e->team), out);
    for (size_t k = 0; k < e->n_teams; k++) {
        fputs("; ", out);
        tkl_html_fputs(team_name(teams, e->teams[k]), out);
    }
    fputs("</td></tr>\n", out);
}

/* The section of month m of year y: a table of the observances listed in
 * it, or a line saying there are none. */
static void html_month(FILE *out, const struct tkl_event_list *l, int32_t from_day, int y, int m,
                       const struct tkl_team_dir *teams)
{
    int32_t first = tkl_day_from_civil(y, m, 1);
    int32_t last = first + tkl_days_in_month(y, m) - 1;
    fprintf(out, "<section>\n<h2>%s %d</h2>\n", tkl_month_name(m), y);
    size_t shown = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        /* listed in the month it begins, or in the first month shown
         * when it began before */
        int32_t start = e->first_day < from_day ? from_day : e->first_day;
        if (start < first || start > last)
            continue;
        if (!shown++)
            fputs("<table class=\"list\">\n<thead><tr><th scope=\"col\">When</th><th "
                  "scope=\"col\">Observance</th><th scope=\"col\">Teams</th></tr></thead>\n"
                  "<tbody>\n",
                  out);
        html_row(out, e, teams);
    }
    if (shown)
        fputs("</tbody>\n</table>\n", out);
    else
        fputs("<p>No observances.</p>\n", out);
    fputs("</section>\n", out);
}

int tkl_export_html(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day,
                    const char *title, const struct tkl_team_dir *teams)
{
    html_head(out, title);
    html_header(out, l, from_day, to_day, title);
    html_glance(out, l, from_day, to_day);
    fputs("<main>\n", out);
    int y, m, d, ey, em, ed;
    tkl_day_to_civil(from_day, &y, &m, &d);
    tkl_day_to_civil(to_day, &ey, &em, &ed);
    for (; y < ey || (y == ey && m <= em); m = m == 12 ? 1 : m + 1, y += m == 1)
        html_month(out, l, from_day, y, m, teams);
    fputs("</main>\n</body>\n</html>\n", out);
    return ferror(out) ? -EIO : 0;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *day_json(int32_t day)
{
    char buf[16];
    return json_string(tkl_day_format(day, buf));
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

int tkl_export_json(FILE *out, const struct tkl_event_list *l, int32_t from_day, int32_t to_day)
{
    json_t *root = json_object(), *arr = json_array();
    int bad = !root || !arr;
    for (size_t i = 0; !bad && i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        json_t *o = json_object(), *teams = json_array();
        bad |= !o || !teams;
        bad |= json_array_append_new(teams, opt_str(e->team));
        for (size_t k = 0; !bad && k < e->n_teams; k++)
            bad |= json_array_append_new(teams, opt_str(e->teams[k]));
        bad |= json_object_set_new(o, "id", opt_str(e->id));
        bad |= json_object_set_new(o, "title", opt_str(e->title));
        bad |= json_object_set_new(o, "first_day", day_json(e->first_day));
        bad |= json_object_set_new(o, "last_day", day_json(e->last_day));
        bad |= json_object_set_new(o, "category", opt_str(e->category));
        bad |= json_object_set_new(o, "description", opt_str(e->description));
        bad |= json_object_set_new(o, "url", opt_str(e->url));
        bad |= json_object_set_new(o, "teams", teams);
        bad |= json_object_set_new(o, "source", opt_str(e->source));
        bad |= json_array_append_new(arr, o);
    }
    bad |= json_object_set_new(root, "from", day_json(from_day));
    bad |= json_object_set_new(root, "to", day_json(to_day));
    bad |= json_object_set_new(root, "observances", arr);
    if (bad) {
        json_decref(root);
        return -ENOMEM;
    }
    int r = json_dumpf(root, out, JSON_INDENT(2));
    json_decref(root);
    fputc('\n', out);
    return r == 0 && !ferror(out) ? 0 : -EIO;
}
