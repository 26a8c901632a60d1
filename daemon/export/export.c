#include "export.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
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

int tkl_export_ics(FILE *out, const struct tkl_event_list *l, int64_t now, const char *name)
{
    struct ics_out o = {.f = out};
    char stamp[32], buf[80], d1[36], d2[36];
    time_t t = (time_t)now;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
        return -EIO;
    ics_raw(&o, "BEGIN:VCALENDAR");
    ics_raw(&o, "VERSION:2.0");
    ics_raw(&o, "PRODID:-//tickler//calendar export//EN");
    ics_raw(&o, "CALSCALE:GREGORIAN");
    ics_raw(&o, "METHOD:PUBLISH");
    ics_line(&o, "X-WR-CALNAME", name);
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_event *e = &l->v[i];
        ics_raw(&o, "BEGIN:VEVENT");
        ics_line(&o, "UID", e->id);
        snprintf(buf, sizeof(buf), "DTSTAMP:%s", stamp);
        ics_raw(&o, buf);
        basic_date(e->first_day, d1);
        basic_date(e->last_day + 1, d2);
        snprintf(buf, sizeof(buf), "DTSTART;VALUE=DATE:%s", d1);
        ics_raw(&o, buf);
        snprintf(buf, sizeof(buf), "DTEND;VALUE=DATE:%s", d2);
        ics_raw(&o, buf);
        ics_line(&o, "SUMMARY", e->title ? e->title : e->id);
        if (e->description)
            ics_line(&o, "DESCRIPTION", e->description);
        if (e->category)
            ics_line(&o, "CATEGORIES", e->category);
        if (e->url)
            ics_uri_line(&o, "URL", e->url);
        ics_raw(&o, "TRANSP:TRANSPARENT");
        ics_raw(&o, "X-MICROSOFT-CDO-BUSYSTATUS:FREE");
        ics_raw(&o, "END:VEVENT");
    }
    ics_raw(&o, "END:VCALENDAR");
    tkl_buf_free(&o.line);
    return o.oom ? -ENOMEM : ferror(out) ? -EIO : 0;
}

/* ---- HTML ------------------------------------------------------------ */

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
#define OTHER_COLOUR "#3d3d3d"

/* The category's colour, or NULL for one outside the palette. */
static const char *known_colour(const char *category)
{
    for (size_t i = 0; category && i < sizeof(palette) / sizeof(palette[0]); i++)
        if (strcmp(palette[i].category, category) == 0)
            return palette[i].colour;
    return NULL;
}

static const char *colour_of(const char *category)
{
    const char *c = known_colour(category);
    return c ? c : OTHER_COLOUR;
}

static void chip(FILE *f, const char *category)
{
    fprintf(f, "<span class=\"chip\" style=\"background:%s\">", colour_of(category));
    tkl_html_fputs(category ? category : "other", f);
    fputs("</span>", f);
}

/* The display name of a team given by id or name. */
static const char *team_name(const struct tkl_team_dir *teams, const char *t)
{
    const struct tkl_team *team = teams ? tkl_team_find(teams, t) : NULL;
    return team && team->name ? team->name : t;
}

static const char html_style[] =
    "body{font-family:\"Segoe UI\",Arial,sans-serif;color:#1f1f1f;margin:24px;"
    "line-height:1.45;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "h1{font-size:24px;margin:0 0 4px}\n"
    "h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f1f1f}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid "
    "#c8c8c8}\n"
    "td.when{white-space:nowrap;width:13em}\n"
    "tr{border-left:6px solid var(--c)}\n"
    ".chip{display:inline-block;color:#fff;border-radius:3px;padding:0 6px;"
    "font-size:13px;margin:1px 4px 1px 0;white-space:nowrap}\n"
    ".legend{margin:12px 0 0;padding:0;list-style:none}\n"
    ".legend li{display:inline-block;margin:0 8px 4px 0}\n"
    ".desc{font-size:14px;color:#3d3d3d}\n"
    "section{break-inside:avoid-page}\n"
    "@media print{body{margin:10mm;font-size:11pt}h2{break-after:avoid}}\n";

/* The document's head: its title and the style sheet. */
static void html_head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    tkl_html_fputs(title, out);
    fputs("</title>\n<style>\n", out);
    fputs(html_style, out);
    fputs("</style>\n</head>\n", out);
}

static bool category_used(const struct tkl_event_list *l, const char *category)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].category && strcmp(l->v[i].category, category) == 0)
            return true;
    return false;
}

/* The legend: the categories that appear, in palette order, then "other"
 * when any category is outside the palette. */
static void html_legend(FILE *out, const struct tkl_event_list *l)
{
    fputs("<ul class=\"legend\" aria-label=\"Categories\">\n", out);
    const size_t n_palette = sizeof(palette) / sizeof(palette[0]);
    bool other = false;
    for (size_t i = 0; i < l->n; i++)
        other |= !known_colour(l->v[i].category);
    for (size_t k = 0; k < n_palette; k++) {
        if (category_used(l, palette[k].category)) {
            fputs("<li>", out);
            chip(out, palette[k].category);
            fputs("</li>\n", out);
        }
    }
    if (other)
        fputs("<li><span class=\"chip\" style=\"background:" OTHER_COLOUR "\">other "
              "(the council's own)</span></li>\n",
              out);
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

/* One observance as a table row: when, title, category, description,
 * link, and the teams by name. */
static void html_row(FILE *out, const struct tkl_event *e, const struct tkl_team_dir *teams)
{
    char when[128];
    tkl_day_range_format(e->first_day, e->last_day, when, sizeof(when));
    fprintf(out, "<tr style=\"--c:%s\"><td class=\"when\">", colour_of(e->category));
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
    if (e->url) {
        fputs("<div class=\"desc\"><a href=\"", out);
        tkl_html_fputs(e->url, out);
        fputs("\">Resources</a></div>", out);
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
            fputs("<table>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">"
                  "Observance</th><th scope=\"col\">Teams</th></tr></thead>\n<tbody>\n",
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
