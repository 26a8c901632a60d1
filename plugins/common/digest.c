#include "digest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>
#include <tickler/plugin.h>
#include <tickler/text.h>

const char dg_default_footer[] =
    "You receive this because you are listed for this team in tickler's team directory. "
    "To change who is reminded, or if an action is not yours, contact the action plan's owner.";

const char dg_default_footer_links[] =
    "You receive this because you are listed for this team in tickler's team directory. "
    "If an action the plan gives your team is not your team's, say so from its link (the "
    "page's Not ours button); to change who is reminded, contact the action plan's owner. "
    "Only an action's link records an update; a reply to this message does not.";

const char dg_default_footer_calendar[] =
    "You receive this because you are listed for this team in tickler's team directory. "
    "To change who is prompted, or for which observances, contact the action plan's owner.";

const char dg_default_footer_reports[] =
    "You receive this because your team is the one tickler tells of officers' answers, update "
    "requests' results and failed deliveries. To change that, contact whoever runs tickler.";

const char *dg_default_footer_of(const struct tkl_notice *n)
{
    size_t events = 0, told = 0;
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        events += e->kind == TKL_DEADLINE_EVENT;
        told += e->stage == TKL_STAGE_ANSWER || e->stage == TKL_STAGE_REPORT ||
                tkl_entry_is_unanswered(e) || tkl_entry_is_request_line(e);
    }
    if (n->n_entries && told == n->n_entries)
        return dg_default_footer_reports;
    if (n->n_entries && events == n->n_entries)
        return dg_default_footer_calendar;
    return dg_has_links(n) ? dg_default_footer_links : dg_default_footer;
}

const char dg_links_note[] =
    "The links open a page; nothing changes until you press a button there.";

const char dg_link_label[] = "Update this action";

void dg_put(struct dg_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void dg_puts(struct dg_buf *b, const char *s)
{
    dg_put(b, s, strlen(s));
}

void dg_printf(struct dg_buf *b, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        dg_put(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void dg_put_int(struct dg_buf *b, long long v)
{
    char buf[24]; /* 20 digits and a sign fit */
    size_t k = sizeof(buf);
    /* the magnitude as unsigned: -LLONG_MIN does not fit a long long */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        buf[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--k] = '-';
    dg_put(b, buf + k, sizeof(buf) - k);
}

enum dg_group dg_group_of(const struct tkl_notice_entry *e)
{
    if (e->stage == TKL_STAGE_REPORT)
        return DG_FAILURES;
    if (e->stage == TKL_STAGE_ANSWER || tkl_entry_is_request_line(e))
        return DG_ANSWERS;
    if (e->stage == TKL_STAGE_JOINT)
        return DG_JOINT;
    if (e->stage == TKL_STAGE_LOOKAHEAD)
        return DG_LOOKAHEAD;
    if (e->kind == TKL_DEADLINE_EVENT)
        return DG_PROMPTS;
    if (e->deadline_day == TKL_NO_DAY)
        return DG_CHECKINS;
    if (e->days_left < 0)
        return DG_OVERDUE;
    if (e->days_left <= 7)
        return DG_THIS_WEEK;
    return DG_COMING_UP;
}

/* The look-ahead's title, of a notice without a calendar title. */
static const char lookahead_title[] = TKL_CALENDAR_TITLE_DEFAULT ": coming up";

const char *dg_group_title(enum dg_group g)
{
    static const char *const t[DG_GROUPS] = {"Delivery failures",
                                             "Overdue",
                                             "Due within 7 days",
                                             "Coming up",
                                             "Check-ins (no deadline)",
                                             "Observances to prepare for",
                                             lookahead_title,
                                             "Officers' answers",
                                             "Another owning team's update"};
    return g < DG_GROUPS ? t[g] : "";
}

const char *dg_answer_label(const struct tkl_notice_entry *e)
{
    return e->stage == TKL_STAGE_ANSWER  ? "Answer"
           : e->stage == TKL_STAGE_JOINT ? "Update"
                                         : "Latest update";
}

const char *dg_reply_label(const struct tkl_notice_entry *e)
{
    return e->item_id && strncmp(e->item_id, "notice-", 7) == 0 ? "Reply" : "Latest reply";
}

void dg_format_day(int32_t day, char *buf, size_t size)
{
    if (tkl_day_long(day, buf, size) < 0)
        snprintf(buf, size, "no date");
}

void dg_when(const struct tkl_notice_entry *e, char *buf, size_t size)
{
    int d = e->days_left;
    if (e->kind == TKL_DEADLINE_EVENT && e->deadline_day != TKL_NO_DAY) {
        if (d < 0)
            snprintf(buf, size, "under way, began %d day%s ago", -d, d == -1 ? "" : "s");
        else if (d == 0)
            snprintf(buf, size, "begins today");
        else
            snprintf(buf, size, "begins in %d day%s", d, d == 1 ? "" : "s");
    } else if (e->deadline_day == TKL_NO_DAY)
        snprintf(buf, size, "no deadline: this is a check-in");
    else if (d < 0)
        snprintf(buf, size, "%d day%s overdue", -d, d == -1 ? "" : "s");
    else if (d == 0)
        snprintf(buf, size, "due today");
    else
        snprintf(buf, size, "%d day%s left", d, d == 1 ? "" : "s");
}

/* Cuts s to at most max bytes at a UTF-8 character boundary. */
static int utf8_prefix(const char *s, int max)
{
    int n = (int)strlen(s);
    if (n <= max)
        return n;
    /* max < strlen(s) here */
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

const char *dg_late(const struct tkl_notice_entry *e)
{
    if (!e->late)
        return "";
    return e->kind == TKL_DEADLINE_EVENT ? " (this prompt is late)" : " (this reminder is late)";
}

void dg_deadline(const struct tkl_notice_entry *e, bool with_when, char *buf, size_t size)
{
    char day[64], w[64];
    const char *dt = e->deadline_text && *e->deadline_text ? e->deadline_text : NULL;
    int cut = dt ? utf8_prefix(dt, 200) : 0;
    dg_when(e, w, sizeof(w));
    if (e->kind == TKL_DEADLINE_EVENT && dt) {
        /* an observance's text is its days in words already */
        if (with_when)
            snprintf(buf, size, "%.*s, %s%s", cut, dt, w, dg_late(e));
        else
            snprintf(buf, size, "%.*s", cut, dt);
    } else if (e->deadline_day != TKL_NO_DAY) {
        dg_format_day(e->deadline_day, day, sizeof(day));
        if (with_when)
            snprintf(buf, size, "%.*s (%s), %s%s", dt ? cut : 1, dt ? dt : "-", day, w, dg_late(e));
        else
            snprintf(buf, size, "%.*s (%s)", dt ? cut : 1, dt ? dt : "-", day);
    } else if (with_when) {
        snprintf(buf, size, "%.*s, %s%s", dt ? cut : 7, dt ? dt : "not set", w, dg_late(e));
    } else {
        snprintf(buf, size, "%.*s", dt ? cut : 7, dt ? dt : "not set");
    }
}

void dg_secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void dg_printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = ' ';
}

void dg_reply_capture(const char *data, size_t size, char *ok, char *fail, size_t cap)
{
    if (size < 4 || data[0] < '2' || data[0] > '5' || data[0] == '3' || cap == 0)
        return;
    char *to = data[0] == '2' ? ok : fail;
    size_t n = size < cap - 1 ? size : cap - 1;
    memcpy(to, data, n);
    to[n] = '\0';
    to[strcspn(to, "\r\n")] = '\0';
    dg_printable(to);
}

/* How many entries of n are at stage st. */
static size_t count_stage(const struct tkl_notice *n, enum tkl_stage st)
{
    size_t c = 0;
    for (size_t i = 0; i < n->n_entries; i++)
        c += n->entries[i].stage == st;
    return c;
}

/* Whether e is an observance that has begun by the day its notice goes. */
static bool under_way(const struct tkl_notice_entry *e)
{
    return e->kind == TKL_DEADLINE_EVENT && e->deadline_day != TKL_NO_DAY && e->days_left < 0;
}

/* How many of n's look-ahead entries are under way. */
static size_t lookahead_begun(const struct tkl_notice *n)
{
    size_t c = 0;
    for (size_t i = 0; i < n->n_entries; i++)
        c += n->entries[i].stage == TKL_STAGE_LOOKAHEAD && under_way(&n->entries[i]);
    return c;
}

const char *dg_calendar_title(const struct tkl_notice *n)
{
    if (TKL_HAS_MEMBER(n, n->size, calendar_title) && n->calendar_title && *n->calendar_title)
        return n->calendar_title;
    return TKL_CALENDAR_TITLE_DEFAULT;
}

/* Bytes of a calendar title a subject or heading holds: calendar.title's
 * 100 characters of the Basic Multilingual Plane (3 bytes each), which
 * leaves a subject of 512 bytes room for an entry's title. */
#define TITLE_BYTES 300

/* Bytes of a subject a header holds (header_text). */
#define SUBJECT_BYTES 480

const char *dg_group_heading(const struct tkl_notice *n, enum dg_group g, char *buf, size_t size)
{
    if (g != DG_LOOKAHEAD)
        return dg_group_title(g);
    size_t begun = lookahead_begun(n);
    const char *title = dg_calendar_title(n);
    const char *which = !begun                                         ? "coming up"
                        : begun == count_stage(n, TKL_STAGE_LOOKAHEAD) ? "under way"
                                                                       : "coming up or under way";
    snprintf(buf, size, "%.*s: %s", utf8_prefix(title, TITLE_BYTES), title, which);
    return buf;
}

void dg_subject(const struct tkl_notice *n, char *buf, size_t size)
{
    size_t overdue = 0, events = 0, lookahead = count_stage(n, TKL_STAGE_LOOKAHEAD);
    size_t requests = count_stage(n, TKL_STAGE_REQUEST), answers = count_stage(n, TKL_STAGE_ANSWER);
    for (size_t i = 0; i < n->n_entries; i++) {
        overdue += dg_group_of(&n->entries[i]) == DG_OVERDUE;
        events += n->entries[i].kind == TKL_DEADLINE_EVENT;
    }
    const char *team = n->team_name ? n->team_name : n->recipient;
    const char *t = n->n_entries ? n->entries[0].title : NULL;
    const char *cal = dg_calendar_title(n);
    int cal_len = utf8_prefix(cal, TITLE_BYTES);
    size_t unanswered = 0;
    t = t ? t : "";
    for (size_t i = 0; i < n->n_entries; i++)
        unanswered += tkl_entry_is_unanswered(&n->entries[i]);
    if (n->n_entries && requests == n->n_entries) {
        /* an update request, its follow-up (their entries may carry what
         * officers said last), or the summary of the answers (whose
         * entries say they have none) */
        if (unanswered)
            snprintf(buf, size, "Update request summary: %zu action%s without an answer",
                     unanswered, unanswered == 1 ? "" : "s");
        else if (n->n_entries == 1)
            snprintf(buf, size, "Update request%s: %.*s",
                     tkl_entry_is_request_line(&n->entries[0]) ? " summary" : "",
                     utf8_prefix(t, 160), t);
        else
            snprintf(buf, size, "Update request: %zu actions for %.*s", n->n_entries,
                     utf8_prefix(team, 120), team);
    } else if (n->n_entries == 1 && n->entries[0].stage == TKL_STAGE_REPORT) {
        /* one notice's failure, or one channel and team's several (the
         * intro counts them): the entry's title says which */
        snprintf(buf, size, "Delivery failure%s: %.*s", n->intro && *n->intro ? "s" : "",
                 utf8_prefix(t, 160), t);
    } else if (n->n_entries && count_stage(n, TKL_STAGE_REPORT) == n->n_entries) {
        /* failures reported together: the intro's count, up to its ';' */
        const char *intro = n->intro && *n->intro ? n->intro : "notices could not be delivered";
        int len = (int)strcspn(intro, ";");
        int cut = utf8_prefix(intro, 160);
        snprintf(buf, size, "Delivery failures: %.*s", len < cut ? len : cut, intro);
    } else if (n->n_entries == 1 && n->entries[0].stage == TKL_STAGE_JOINT) {
        /* the answer's first line is its headline ("Marked complete by
         * Human Resources"): see TKL_STAGE_JOINT */
        const char *a = n->entries[0].answer ? n->entries[0].answer : "Updated by another team";
        int len = (int)strcspn(a, "\n");
        int cut = utf8_prefix(a, 160);
        snprintf(buf, size, "%.*s: %.*s", len < cut ? len : cut, a, utf8_prefix(t, 160), t);
    } else if (n->n_entries && count_stage(n, TKL_STAGE_JOINT) == n->n_entries) {
        snprintf(buf, size, "Updates from another owning team: %zu actions", n->n_entries);
    } else if (n->n_entries && answers == n->n_entries) {
        if (n->n_entries == 1)
            snprintf(buf, size, "Officer's answer: %.*s", utf8_prefix(t, 160), t);
        else
            snprintf(buf, size, "Officers' answers: %zu actions", n->n_entries);
    } else if (n->n_entries == 1) {
        char w[64];
        const char *what = n->entries[0].stage == TKL_STAGE_LOOKAHEAD ? cal
                           : n->entries[0].kind == TKL_DEADLINE_EVENT ? "Comms prompt"
                                                                      : "Reminder";
        dg_when(&n->entries[0], w, sizeof(w));
        /* the entry's title whole up to 160 bytes, the calendar's title
         * what is left of a header's 480 (SUBJECT_BYTES) */
        int t_len = utf8_prefix(t, 160);
        size_t room = SUBJECT_BYTES - strlen(w) - 5 - (size_t)t_len;
        snprintf(buf, size, "%.*s (%s): %.*s",
                 utf8_prefix(what, (int)(room < TITLE_BYTES ? room : TITLE_BYTES)), what, w, t_len,
                 t);
    } else if (events == n->n_entries && lookahead == n->n_entries) {
        /* the look-ahead lists observances still under way beside those
         * coming up: the subject says which it holds */
        size_t begun = lookahead_begun(n), coming = n->n_entries - begun;
        if (!begun || !coming)
            snprintf(buf, size, "%.*s: %zu observances %s", cal_len, cal, n->n_entries,
                     begun ? "under way" : "coming up");
        else
            snprintf(buf, size, "%.*s: %zu observance%s coming up, %zu under way", cal_len, cal,
                     coming, coming == 1 ? "" : "s", begun);
    } else if (events == n->n_entries) {
        /* prompts, and a look-ahead's observances beside them: how many
         * are to prepare for, then what the look-ahead says of the rest */
        size_t begun = lookahead_begun(n), coming = lookahead - begun;
        size_t prompts = n->n_entries - lookahead;
        char rest[80] = "";
        if (coming && begun)
            snprintf(rest, sizeof(rest), ", %zu coming up, %zu under way", coming, begun);
        else if (coming || begun)
            snprintf(rest, sizeof(rest), ", %zu %s", coming + begun,
                     coming ? "coming up" : "under way");
        snprintf(buf, size, "%.*s: %zu observance%s to prepare for%s", cal_len, cal, prompts,
                 prompts == 1 ? "" : "s", rest);
    } else {
        /* how many of its actions are overdue: all, or how many */
        size_t actions = n->n_entries - events;
        char late[40] = "";
        if (overdue && overdue == actions && actions > 1)
            snprintf(late, sizeof(late), " (%s overdue)", actions == 2 ? "both" : "all");
        else if (overdue)
            snprintf(late, sizeof(late), " (%zu overdue)", overdue);
        if (events) /* a team's actions beside its calendar (comms) */
            snprintf(buf, size, "Reminder: %zu action%s and %zu observance%s for %.*s%s", actions,
                     actions == 1 ? "" : "s", events, events == 1 ? "" : "s",
                     utf8_prefix(team, 120), team, late);
        else
            snprintf(buf, size, "Reminder: %zu actions for %.*s%s", n->n_entries,
                     utf8_prefix(team, 120), team, late);
    }
    dg_header_safe(buf);
}

const char *dg_intro(const struct tkl_notice *n)
{
    size_t events = 0, begun = 0;
    if (n->intro && *n->intro)
        return n->intro;
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        events += e->kind == TKL_DEADLINE_EVENT;
        begun += under_way(e);
    }
    if (n->n_entries && count_stage(n, TKL_STAGE_REQUEST) == n->n_entries)
        return n->n_entries == 1
                   ? "Please tell us how this action is going: open its link to mark it complete, "
                     "snooze it or give a progress note."
                   : "Please tell us how each action below is going: open its link to mark it "
                     "complete, snooze it or give a progress note.";
    if (n->n_entries && count_stage(n, TKL_STAGE_ANSWER) == n->n_entries)
        return n->n_entries == 1 ? "An officer has answered a reminder."
                                 : "Officers have answered reminders.";
    if (n->n_entries && count_stage(n, TKL_STAGE_JOINT) == n->n_entries)
        return n->n_entries == 1
                   ? "Another team that owns this action with yours has updated it."
                   : "Other teams that own these actions with yours have updated them.";
    /* a prompt sent late (a first start, a machine that was off) may find
     * its observance begun; one that has ended is not sent at all */
    if (events == n->n_entries && events && begun == events)
        return events == 1 ? "This observance is under way: there is still time for its comms."
                           : "These observances are under way: there is still time for their "
                             "comms.";
    if (events == n->n_entries && events && begun)
        return "These observances are coming up or under way: time to plan the comms for them.";
    if (events == n->n_entries && events)
        return events == 1 ? "This observance is coming up: time to plan the comms for it."
                           : "These observances are coming up: time to plan the comms for them.";
    return n->n_entries == 1 ? "This item needs your attention."
                             : "These items need your attention.";
}

bool dg_has_links(const struct tkl_notice *n)
{
    for (size_t i = 0; i < n->n_entries; i++)
        if (n->entries[i].link && *n->entries[i].link)
            return true;
    return false;
}

int dg_link_tokens(const struct tkl_notice *n, char ***ret)
{
    size_t k = 0;
    char **v = NULL;
    *ret = NULL;
    if (!dg_has_links(n))
        return 0;
    if (!(v = calloc(n->n_entries + 1, sizeof(*v))))
        return -ENOMEM;
    for (size_t i = 0; i < n->n_entries; i++) {
        const char *l = n->entries[i].link;
        if (!l || !*l)
            continue;
        const char *slash = strrchr(l, '/');
        if (!(v[k++] = strdup(slash ? slash + 1 : l))) {
            dg_secrets_free(v);
            return -ENOMEM;
        }
    }
    *ret = v;
    return 0;
}

bool dg_holds_token(const char *text, char *const *tokens)
{
    for (size_t i = 0; text && tokens && tokens[i]; i++)
        if (*tokens[i] && strstr(text, tokens[i]))
            return true;
    return false;
}

void dg_secrets_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        dg_secret_free(v[i]);
    free(v);
}

void dg_header_safe(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

bool dg_web_url_ok(const char *s)
{
    size_t skip = !strncmp(s, "https://", 8) ? 8 : !strncmp(s, "http://", 7) ? 7 : 0;
    if (!skip || !s[skip] || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 2047 "B" encoding in words of at most 60 characters, split only at
 * UTF-8 character boundaries, each after the first on a line of its own
 * (eol then a space: folding), so that with a header name of up to 15
 * characters no line holding one exceeds RFC 2047's 76. */
static void encoded_words(struct dg_buf *b, const char *s, const char *eol)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(s), pos = 0;
    while (pos < len) {
        /* 36 input bytes -> 48 encoded characters + 12 of wrapper */
        size_t n = len - pos < 36 ? len - pos : 36;
        while (n > 0 && pos + n < len && ((unsigned char)s[pos + n] & 0xc0) == 0x80)
            n--;
        if (n == 0) /* not UTF-8: a run of continuation bytes; cut anywhere */
            n = len - pos < 36 ? len - pos : 36;
        if (pos) {
            dg_puts(b, eol);
            dg_puts(b, " ");
        }
        dg_puts(b, "=?UTF-8?B?");
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned char)s[pos + i] << 16;
            if (i + 1 < n)
                v |= (unsigned char)s[pos + i + 1] << 8;
            if (i + 2 < n)
                v |= (unsigned char)s[pos + i + 2];
            char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
                         i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
            dg_put(b, q, 4);
        }
        dg_puts(b, "?=");
        pos += n;
    }
}

/* Writes value (already safe) plainly when that is unambiguous (on one
 * line, under 998 octets with its header name), else as encoded words
 * folded with eol (encoded_words); at most 480 bytes of it. */
static void header_text(struct dg_buf *b, const char *value, const char *eol)
{
    int n = utf8_prefix(value, SUBJECT_BYTES);
    char *v = strndup(value, (size_t)n);
    if (!v) {
        b->oom = true;
        return;
    }
    if (plain_ascii(v) && !strstr(v, "=?") && strlen(v) < 400)
        dg_puts(b, v);
    else
        encoded_words(b, v, eol);
    free(v);
}

/* The code point of the UTF-8 character at s, NUL-terminated (*ret_len
 * bytes), or -1 when it starts none (tkl_utf8_decode). */
static int32_t utf8_next(const unsigned char *s, size_t *ret_len)
{
    uint32_t cp = 0;
    size_t n = tkl_utf8_decode((const char *)s, strnlen((const char *)s, 4), &cp);
    if (!n)
        return -1;
    *ret_len = n;
    return (int32_t)cp;
}

void dg_put_json_string(struct dg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!s) {
        dg_put(b, "null", 4);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *run = p;
    dg_put(b, "\"", 1);
    while (*p) {
        size_t len;
        int32_t cp = utf8_next(p, &len);
        if (cp < 0) { /* a byte that is not part of valid UTF-8: U+FFFD */
            cp = 0xFFFD;
            len = 1;
        }
        if (cp >= 0x20 && cp < 0x80 && cp != '"' && cp != '\\') {
            p += len;
            continue;
        }
        dg_put(b, (const char *)run, (size_t)(p - run));
        /* the two-character escapes, then \uXXXX (twice past U+FFFF) */
        static const char named[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
        const char *nm = cp < 0x80 ? strchr(named, (int)cp) : NULL; /* cp is never 0 here */
        char esc[13];
        size_t k = 0;
        if (nm) {
            esc[k++] = '\\';
            esc[k++] = letter[nm - named];
        } else {
            int32_t units[2] = {cp, -1};
            if (cp >= 0x10000) {
                units[0] = 0xD800 | ((cp - 0x10000) >> 10);
                units[1] = 0xDC00 | ((cp - 0x10000) & 0x3FF);
            }
            for (int u = 0; u < 2 && units[u] >= 0; u++) {
                esc[k++] = '\\';
                esc[k++] = 'u';
                for (int shift = 12; shift >= 0; shift -= 4)
                    esc[k++] = hex[(units[u] >> shift) & 0xF];
            }
        }
        dg_put(b, esc, k);
        p += len;
        run = p;
    }
    dg_put(b, (const char *)run, (size_t)(p - run));
    dg_put(b, "\"", 1);
}

void dg_put_qp(struct dg_buf *b, const char *s, const char *eol)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t eol_len = strlen(eol);
    char line[80]; /* one output line, added to b whole: at most 76 characters */
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            dg_put(b, line, col);
            dg_put(b, eol, eol_len);
            col = 0;
            continue;
        }
        bool line_end = p[1] == '\n' || p[1] == '\0';
        bool literal =
            (*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !line_end);
        size_t w = literal ? 1 : 3;
        /* room for a soft break after this, unless the line ends here */
        if (col + w > (line_end ? 76u : 75u)) {
            line[col++] = '=';
            dg_put(b, line, col);
            dg_put(b, eol, eol_len);
            col = 0;
        }
        if (literal) {
            line[col] = (char)*p;
        } else {
            line[col] = '=';
            line[col + 1] = hex[*p >> 4];
            line[col + 2] = hex[*p & 15];
        }
        col += w;
    }
    dg_put(b, line, col);
}

void dg_header(struct dg_buf *b, const char *name, const char *value, const char *eol)
{
    char *v = strdup(value ? value : "");
    if (!v) {
        b->oom = true;
        return;
    }
    dg_header_safe(v);
    dg_puts(b, name);
    dg_puts(b, ": ");
    header_text(b, v, eol);
    dg_puts(b, eol);
    free(v);
}

void dg_mailbox(struct dg_buf *b, const char *name, const char *address, const char *eol)
{
    char *n = strdup(name ? name : ""), *a = strdup(address ? address : "");
    if (!n || !a) {
        free(n);
        free(a);
        b->oom = true;
        return;
    }
    dg_header_safe(n);
    /* the display name is cut to 160 bytes (at most 4 encoded words), and
     * the config allows addresses of up to 320: the line stays under 998 */
    n[utf8_prefix(n, 160)] = '\0';
    if (strlen(a) > 320)
        a[320] = '\0';
    /* an address holds no spaces, brackets, quotes or control characters
     * (the config checks); should one come anyway, it cannot end the line */
    for (char *p = a; *p; p++)
        if (*p == ' ' || *p == '<' || *p == '>' || *p == '"' || *p == ',' ||
            (unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '_';
    if (*n && plain_ascii(n) && !strstr(n, "=?")) {
        dg_puts(b, "\"");
        for (const char *p = n; *p; p++) {
            if (*p == '"' || *p == '\\')
                dg_puts(b, "\\");
            dg_put(b, p, 1);
        }
        dg_puts(b, "\" ");
    } else if (*n) {
        header_text(b, n, eol);
        dg_puts(b, eol); /* the address on a line of its own: the words' stay short */
        dg_puts(b, " ");
    }
    dg_printf(b, "<%s>", a);
    free(n);
    free(a);
}

/* Writes prefix then text word-wrapped at 76 columns, continuation lines
 * indented under the text; line breaks in the text are kept; no line
 * exceeds 998 octets. */
static void wrapped(struct dg_buf *b, const char *prefix, const char *text, const char *eol)
{
    const char *p = text;
    char indent[64];
    size_t plen = strlen(prefix), w0 = 0;
    for (const char *q = prefix; *q; q++)
        w0 += ((unsigned char)*q & 0xc0) != 0x80;
    if (w0 > sizeof(indent) - 1)
        w0 = sizeof(indent) - 1;
    memset(indent, ' ', w0);
    indent[w0] = '\0';
    size_t col = plen;
    dg_puts(b, prefix);
    while (*p) {
        if (*p == '\r') {
            p++;
            continue;
        }
        if (*p == '\n') {
            dg_puts(b, eol);
            dg_puts(b, indent);
            col = w0;
            p++;
            continue;
        }
        size_t w = strcspn(p, " \r\n");
        if (col > w0 && col + w > 76) {
            if (!b->oom && b->len && b->data[b->len - 1] == ' ')
                b->data[--b->len] = '\0'; /* no trailing space before the break */
            dg_puts(b, eol);
            dg_puts(b, indent);
            col = w0;
        }
        while (w > 900) {
            int cut = utf8_prefix(p, 900);
            dg_put(b, p, (size_t)cut);
            dg_puts(b, eol);
            dg_puts(b, indent);
            p += cut;
            w -= (size_t)cut;
        }
        dg_put(b, p, w);
        col += w;
        p += w;
        if (*p == ' ') {
            dg_puts(b, " ");
            col++;
            p++;
        }
    }
    dg_puts(b, eol);
}

/* The groups of actions as plain text. */
static void text_actions(struct dg_buf *b, const struct tkl_notice *n, const char *eol)
{
    char line[512];
    char heading[DG_HEADING_SIZE];
    for (int g = 0; g < DG_GROUPS; g++) {
        bool any = false;
        for (size_t i = 0; i < n->n_entries; i++) {
            const struct tkl_notice_entry *e = &n->entries[i];
            if (dg_group_of(e) != (enum dg_group)g)
                continue;
            if (!any) {
                dg_puts(b, eol);
                dg_puts(b, dg_group_heading(n, (enum dg_group)g, heading, sizeof(heading)));
                dg_puts(b, eol);
                any = true;
            }
            dg_puts(b, eol);
            wrapped(b, "  * ", e->title ? e->title : "(no title)", eol);
            if (g == DG_FAILURES) {
                if (e->progress) {
                    char label[32];
                    snprintf(label, sizeof(label), "    %s: ", dg_reply_label(e));
                    wrapped(b, label, e->progress, eol);
                }
                if (strncmp(e->item_id, "notice-", 7) == 0)
                    dg_printf(b, "    See: tickler outbox --failed; tickler retry %s%s",
                              e->item_id + 7, eol);
                else
                    dg_printf(b, "    See: tickler outbox --failed; tickler retry --failed%s", eol);
                continue;
            }
            if (tkl_entry_is_request_line(e))
                continue; /* its title says it all */
            dg_deadline(e, true, line, sizeof(line));
            if (e->kind == TKL_DEADLINE_EVENT) {
                wrapped(b, "    When: ", line, eol);
                if (e->category)
                    wrapped(b, "    Category: ", e->category, eol);
                if (e->commitment)
                    wrapped(b, "    Suggested comms: ", e->commitment, eol);
                if (e->owners && *e->owners)
                    wrapped(b, "    Teams prompted: ", e->owners, eol);
                if (e->url)
                    wrapped(b, "    Resources: ", e->url, eol);
                continue;
            }
            wrapped(b, e->deadline_day != TKL_NO_DAY ? "    Deadline: " : "    Timeframe: ", line,
                    eol);
            if (e->status && *e->status)
                wrapped(b, "    Status: ", e->status, eol);
            if (e->owners && *e->owners)
                wrapped(b, "    Responsibility: ", e->owners, eol);
            if (e->commitment)
                wrapped(b, "    Commitment: ", e->commitment, eol);
            if (e->progress)
                wrapped(b, "    Latest progress: ", e->progress, eol);
            if (e->answer) {
                char label[32];
                snprintf(label, sizeof(label), "    %s: ", dg_answer_label(e));
                wrapped(b, label, e->answer, eol);
            }
            wrapped(b, "    Action id: ", e->item_id, eol);
            if (e->link && *e->link) {
                dg_printf(b, "    %s (mark complete, snooze, progress):%s", dg_link_label, eol);
                wrapped(b, "    ", e->link, eol);
            }
        }
    }
}

/* HTML-escapes s; line breaks become <br>. */
static void html(struct dg_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *e = *s == '\n' ? "<br>\n" : *s == '\r' ? "" : tkl_html_char(*s);
        if (e)
            dg_puts(b, e);
        else
            dg_put(b, s, 1);
    }
}

/* A row of an action's table, up to its value: the label, then the
 * value's cell opened. */
static void html_row_open(struct dg_buf *b, const char *label)
{
    dg_puts(b, "<tr><th scope=\"row\" style=\"text-align:left;vertical-align:top;"
               "padding:2px 12px 2px 0;color:#1f1f1f;font-weight:600;white-space:nowrap\">");
    html(b, label);
    dg_puts(b, "</th><td style=\"padding:2px 0;color:#1f1f1f\">");
}

static void html_row(struct dg_buf *b, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    html_row_open(b, label);
    html(b, value);
    dg_puts(b, "</td></tr>\n");
}

/* HTML-escapes s for a quoted attribute value: line breaks become spaces. */
static void html_attr(struct dg_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *e = tkl_html_char(*s);
        if (e)
            dg_puts(b, e);
        else
            dg_put(b, s, 1);
    }
}

/* An observance's resources: a link when url is a web address
 * (dg_web_url_ok), otherwise the text as written, never a link. */
static void html_resources(struct dg_buf *b, const char *url)
{
    if (!url || !*url || !dg_web_url_ok(url)) {
        html_row(b, "Resources", url);
        return;
    }
    html_row_open(b, "Resources");
    dg_puts(b, "<a href=\"");
    html_attr(b, url);
    dg_puts(b, "\" style=\"color:#0b5394\">");
    html(b, url);
    dg_puts(b, "</a></td></tr>\n");
}

/* An action's link as a button; its accessible name names the action. */
static void html_link(struct dg_buf *b, const struct tkl_notice_entry *e)
{
    dg_puts(b, "<p style=\"margin:8px 0 0\"><a href=\"");
    html_attr(b, e->link);
    dg_puts(b, "\" aria-label=\"");
    html_attr(b, dg_link_label);
    dg_puts(b, ": ");
    html_attr(b, e->title ? e->title : "(no title)");
    dg_puts(b, "\" style=\"display:inline-block;padding:6px 14px;background:#0b5394;"
               "color:#ffffff;text-decoration:none;border-radius:4px;font-weight:600\">");
    html(b, dg_link_label);
    dg_puts(b, "</a> <span style=\"font-size:13px;color:#3d3d3d\">mark complete, snooze or "
               "give progress</span></p>\n");
}

/* The groups of actions as HTML. Colours: text on white at 7:1 or better;
 * the group marker is a left border and the heading names the group, so
 * colour is never the only cue. */
static void html_actions(struct dg_buf *b, const struct tkl_notice *n)
{
    static const char *const accent[DG_GROUPS] = {"#5c2d91", "#b00020", "#8a4b00",
                                                  "#0b5394", "#3d3d3d", "#00695c",
                                                  "#1a5e20", "#37474f", "#37474f"};
    char heading[DG_HEADING_SIZE];
    for (int g = 0; g < DG_GROUPS; g++) {
        bool any = false;
        for (size_t i = 0; i < n->n_entries; i++) {
            const struct tkl_notice_entry *e = &n->entries[i];
            if (dg_group_of(e) != (enum dg_group)g)
                continue;
            if (!any) {
                dg_printf(b, "<h2 style=\"font-size:17px;margin:20px 0 8px;color:%s\">", accent[g]);
                html(b, dg_group_heading(n, (enum dg_group)g, heading, sizeof(heading)));
                dg_puts(b, "</h2>\n<ul style=\"list-style:none;margin:0;padding:0\">\n");
                any = true;
            }
            dg_printf(b,
                      "<li style=\"border-left:4px solid %s;padding:4px 0 4px 12px;"
                      "margin:0 0 12px\">\n<h3 style=\"font-size:15px;margin:0 0 4px\">",
                      accent[g]);
            html(b, e->title ? e->title : "(no title)");
            dg_puts(b, "</h3>\n<table role=\"presentation\" style=\"border-collapse:collapse;"
                       "font-size:14px\">\n");
            if (g == DG_FAILURES) {
                html_row(b, dg_reply_label(e), e->progress);
                html_row(b, "Notice", e->item_id);
            } else if (tkl_entry_is_request_line(e)) {
                /* its title says it all */
            } else if (e->kind == TKL_DEADLINE_EVENT) {
                char line[512];
                dg_deadline(e, true, line, sizeof(line));
                html_row(b, "When", line);
                html_row(b, "Category", e->category);
                html_row(b, "Suggested comms", e->commitment);
                html_row(b, "Teams prompted", e->owners);
                html_resources(b, e->url);
            } else {
                char line[512];
                dg_deadline(e, true, line, sizeof(line));
                html_row(b, e->deadline_day != TKL_NO_DAY ? "Deadline" : "Timeframe", line);
                html_row(b, "Status", e->status);
                html_row(b, "Responsibility", e->owners);
                html_row(b, "Commitment", e->commitment);
                html_row(b, "Latest progress", e->progress);
                html_row(b, dg_answer_label(e), e->answer);
                html_row(b, "Action id", e->item_id);
            }
            dg_puts(b, "</table>\n");
            if (g != DG_FAILURES && e->kind != TKL_DEADLINE_EVENT && e->link && *e->link)
                html_link(b, e);
            dg_puts(b, "</li>\n");
        }
        if (any)
            dg_puts(b, "</ul>\n");
    }
}

/* ---- templates ---------------------------------------------------------- */

const char dg_default_subject[] = "{{summary}}";

const char dg_default_text[] = "Hello {{team}},\n"
                               "\n"
                               "{{intro}}\n"
                               "{{actions}}"
                               "{{plan_link}}"
                               "\n"
                               "-- \n"
                               "{{footer}}\n";

const char dg_default_html[] =
    "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{subject}}</title>\n</head>\n"
    "<body style=\"margin:0;padding:16px;background:#ffffff;color:#1f1f1f;"
    "font-family:Segoe UI,Arial,sans-serif;font-size:15px;line-height:1.5;"
    "overflow-wrap:anywhere;word-break:break-word\">\n"
    "<div style=\"max-width:680px\">\n"
    "<h1 style=\"font-size:20px;margin:0 0 12px\">{{subject}}</h1>\n"
    "<p>Hello {{team}},</p>\n<p>{{intro}}</p>\n"
    "{{actions}}"
    "{{plan_link}}"
    "<hr style=\"border:0;border-top:1px solid #c8c8c8;margin:24px 0 8px\">\n"
    "<p style=\"font-size:13px;color:#3d3d3d\">{{footer}}</p>\n"
    "</div>\n</body>\n</html>\n";

static const char *const names[] = {"team",      "recipient", "count",       "overdue",  "date",
                                    "summary",   "subject",   "intro",       "actions",  "plan_url",
                                    "plan_link", "footer",    "first_title", "calendar", NULL};

int dg_template_check(const char *t, unsigned *ret_line, char *err, size_t size)
{
    unsigned line = 1;
    for (const char *p = t; *p; p++) {
        if (*p == '\n')
            line++;
        if (p[0] != '{' || p[1] != '{')
            continue;
        const char *end = strstr(p + 2, "}}");
        size_t len = end ? (size_t)(end - p - 2) : 0;
        bool known = false;
        for (size_t i = 0; end && names[i]; i++)
            known |= strlen(names[i]) == len && !strncmp(p + 2, names[i], len);
        if (!known) {
            char list[256] = ""; /* names[], ", " between */
            size_t at = 0;
            for (size_t i = 0; names[i] && at < sizeof(list); i++)
                at +=
                    (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", names[i]);
            snprintf(err, size, "unknown placeholder \"%.*s\" (known: %s)", end ? (int)len + 4 : 2,
                     p, list);
            *ret_line = line;
            return -EINVAL;
        }
        p = end + 1;
    }
    return 0;
}

/* {{plan_link}}: a link to the plan (plan_url NULL: nothing). */
static void plan_link(struct dg_buf *b, const char *plan_url, enum dg_mode mode, const char *eol)
{
    if (!plan_url)
        return;
    if (mode == DG_HTML) {
        dg_puts(b, "<p><a href=\"");
        html(b, plan_url);
        dg_puts(b, "\" style=\"color:#0b5394\">Open the action plan</a></p>\n");
    } else if (mode == DG_TEXT) {
        dg_puts(b, eol);
        wrapped(b, "The action plan: ", plan_url, eol);
    } else {
        dg_puts(b, plan_url);
    }
}

/* Writes one placeholder's value for mode. */
static void value(struct dg_buf *b, const char *name, size_t len, const struct tkl_notice *n,
                  const struct dg_render_opts *o, enum dg_mode mode, const char *eol)
{
    char buf[512];
    const char *v = NULL;
    const char *team = n->team_name ? n->team_name : n->recipient;
#define IS(s) (strlen(s) == len && !strncmp(name, s, len))
    if (IS("actions")) {
        if (mode == DG_HTML)
            html_actions(b, n);
        else if (mode == DG_TEXT)
            text_actions(b, n, eol);
        else
            dg_printf(b, "%zu", n->n_entries);
        return;
    }
    if (IS("plan_link")) {
        plan_link(b, o->plan_url, mode, eol);
        return;
    }
    if (IS("team"))
        v = team;
    else if (IS("recipient"))
        v = n->recipient;
    else if (IS("count") || IS("overdue")) {
        size_t c = n->n_entries;
        if (IS("overdue")) {
            c = 0;
            for (size_t i = 0; i < n->n_entries; i++)
                c += dg_group_of(&n->entries[i]) == DG_OVERDUE;
        }
        snprintf(buf, sizeof(buf), "%zu", c);
        v = buf;
    } else if (IS("date")) {
        dg_format_day(tkl_local_day(o->now), buf, sizeof(buf));
        v = buf;
    } else if (IS("summary") || IS("subject")) {
        dg_subject(n, buf, sizeof(buf));
        v = buf;
    } else if (IS("intro")) {
        v = dg_intro(n);
    } else if (IS("plan_url")) {
        v = o->plan_url ? o->plan_url : "";
    } else if (IS("footer")) {
        v = o->footer ? o->footer : dg_default_footer_of(n);
    } else if (IS("first_title")) {
        v = n->n_entries && n->entries[0].title ? n->entries[0].title : "";
    } else if (IS("calendar")) {
        v = dg_calendar_title(n);
    }
    if (!v)
        return;
    bool para = IS("footer") || IS("intro");
    bool links_note = IS("footer") && dg_has_links(n);
#undef IS
    if (mode == DG_HTML) {
        html(b, v);
        if (links_note) {
            dg_puts(b, "<br>\n");
            html(b, dg_links_note);
        }
    } else if (mode == DG_TEXT && para) {
        /* wrapped at 76 columns; the template ends the last line */
        wrapped(b, "", v, eol);
        if (links_note)
            wrapped(b, "", dg_links_note, eol);
        if (!b->oom && b->len >= strlen(eol))
            b->data[b->len -= strlen(eol)] = '\0';
    } else {
        dg_puts(b, v);
    }
}

void dg_render(struct dg_buf *b, const char *t, const struct tkl_notice *n,
               const struct dg_render_opts *o, enum dg_mode mode, const char *eol)
{
    if (!t)
        t = mode == DG_HTML   ? dg_default_html
            : mode == DG_TEXT ? dg_default_text
                              : dg_default_subject;
    for (const char *p = t; *p;) {
        if (p[0] == '{' && p[1] == '{' && strstr(p + 2, "}}")) {
            const char *end = strstr(p + 2, "}}");
            value(b, p + 2, (size_t)(end - p - 2), n, o, mode, eol);
            p = end + 2;
        } else if (*p == '\n') {
            dg_puts(b, mode == DG_SUBJECT ? " " : eol);
            p++;
        } else if (*p == '\r') {
            p++;
        } else {
            dg_put(b, p, 1);
            p++;
        }
    }
    while (mode == DG_SUBJECT && !b->oom && b->len && b->data[b->len - 1] == ' ')
        b->data[--b->len] = '\0';
}

/* Why d, an address's domain, is no host name, or NULL: RFC 5321's Domain,
 * labels split by dots, none empty, each of letters, digits and hyphens
 * and neither starting nor ending with a hyphen, an ASCII label at most 63
 * bytes (RFC 1035). A byte past ASCII counts as a letter: a label of an
 * internationalised domain is UTF-8 (RFC 6531), and its length is that of
 * the A-label the server is sent. */
static const char *domain_problem(const char *d)
{
    for (const char *label = d;; label++) {
        size_t n = strcspn(label, ".");
        bool ascii = true;
        if (n == 0)
            return "no leading, trailing or doubled dot in the domain";
        if (label[0] == '-' || label[n - 1] == '-')
            return "no hyphen at either end of a domain label";
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)label[i], l = c | 0x20;
            if (c < 0x80 && c != '-' && !(c >= '0' && c <= '9') && !(l >= 'a' && l <= 'z'))
                return "a domain of letters, digits, hyphens and dots";
            ascii &= c < 0x80;
        }
        if (ascii && n > 63)
            return "domain labels of at most 63 characters";
        label += n;
        if (!*label)
            return NULL;
    }
}

const char *dg_address_problem(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@'))
        return "local@domain";
    if (strlen(a) > 254)
        return "at most 254 bytes";
    for (const unsigned char *p = (const unsigned char *)a; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f)
            return "no spaces or control characters";
        if (strchr("<>\"(),;:\\[]", *p))
            return "one plain address, without <>\"(),;:\\[]";
    }
    return domain_problem(at + 1);
}

int dg_split_mailbox(const char *from, char **ret_name, char **ret_addr)
{
    char *name, *addr;
    const char *lt = strrchr(from, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt || gt[1])
            return -EINVAL;
        size_t nl = (size_t)(lt - from);
        while (nl && from[nl - 1] == ' ')
            nl--;
        const char *n = from;
        if (nl >= 2 && n[0] == '"' && n[nl - 1] == '"') {
            n++;
            nl -= 2;
        }
        name = strndup(n, nl);
        addr = strndup(lt + 1, (size_t)(gt - lt - 1));
    } else {
        name = strdup("");
        addr = strdup(from);
    }
    if (!name || !addr || dg_address_problem(addr)) {
        int r = name && addr ? -EINVAL : -ENOMEM;
        free(name);
        free(addr);
        return r;
    }
    *ret_name = name;
    *ret_addr = addr;
    return 0;
}
