/*
 * /outbox: the operator's read-only view of the notices not delivered yet
 * (pending, retrying, failed), failed first, each with its channel,
 * recipient, team, number of actions, when it was queued, its attempts,
 * its next attempt and the last reply (cut short, escaped). Query: state
 * (pending, retrying or failed; repeatable); any other value is answered
 * 400. Nothing here changes the outbox: `tickler retry` does.
 *
 * With the PostgreSQL backend the page (and /metrics) shows the outbox
 * every node shares, as last read: a read is queued on the state (never
 * waited for) when the one kept is older than VIEW_FRESH seconds, and
 * once when the state is ready; until the first answer the page is 503.
 * /status reads every item's latest notice the same way
 * (tkl_web_last_notices).
 *
 * No secret can show: the outbox holds channel names, recipients (e-mail
 * addresses, destination names), team names and the replies notifiers
 * give, worded without secrets (a webhook's reply names its host, never its
 * URL); webhook URLs, passwords and tokens stay in the notifiers.
 */
#include "web.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/text.h>

#include "../core/day.h"
#include "../state/state.h"

#define LIST_MAX   500 /* notices on one page */
#define REPLY_MAX  200 /* bytes of a reply shown */
#define VIEW_FRESH 2   /* seconds a view of the shared outbox is shown without a new read */

/* The shared outbox (PostgreSQL) as last read: the view, and every
 * item's latest notice (tkl_web_last_notices). */
struct tkl_outbox_view {
    struct tkl_state_view *v; /* NULL: none read yet */
    int64_t read_at;          /* v's instant */
    int64_t asked_at;         /* the read in flight's */
    bool asking;
    struct tkl_item_notices last;
    uint64_t last_reads; /* answers taken into last; 0: none yet */
    int64_t last_read_at, last_asked_at;
    bool last_asking;
};

static const struct {
    const char *name;
    unsigned bit;
} states[] = {
    {"failed", TKL_LIST_FAILED},
    {"retrying", TKL_LIST_RETRYING},
    {"pending", TKL_LIST_PENDING},
};
#define N_STATES (sizeof(states) / sizeof(states[0]))

static const char style[] =
    "body{font-family:system-ui,\"Segoe UI\",Arial,sans-serif;color:#1f1f1f;margin:0 auto;"
    "padding:12px;max-width:90em;line-height:1.4}\n"
    "h1{font-size:1.5rem;margin:0 0 4px}\n"
    "a{color:#0b57a4}\n"
    ".meta{color:#4a4a4a;font-size:.9rem;margin:4px 0}\n"
    "ul.bar{list-style:none;padding:0;margin:8px 0}\n"
    "ul.bar li{display:inline-block;margin:0 10px 6px 0}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}\n"
    "th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #c8c8c8}\n"
    "td.reply{min-width:16em;overflow-wrap:anywhere}td.when{white-space:nowrap}\n"
    ".state{display:inline-block;border:1px solid var(--c);color:var(--c);border-radius:3px;"
    "padding:0 5px;font-weight:600;white-space:nowrap}\n"
    ".failed{--c:#b3261e}.retrying{--c:#8a4b00}.pending{--c:#0b57a4}\n"
    "@media print{body{padding:0;font-size:9pt;max-width:none}nav{display:none}"
    ".scroll{overflow:visible}a{color:inherit;text-decoration:none}}\n";

/* Reads the query's states into *ret (bits of TKL_LIST_*; every state when
 * none is named). Returns 0, or -EINVAL with the value refused in
 * *ret_bad. */
static int read_states(const struct tkl_request *q, unsigned *ret, const char **ret_bad)
{
    unsigned which = 0;
    const char *s;
    for (size_t i = 0; (s = tkl_request_get(q, "state", i)); i++) {
        size_t k = 0;
        while (k < N_STATES && strcmp(s, states[k].name) != 0)
            k++;
        if (k == N_STATES) {
            *ret_bad = s;
            return -EINVAL;
        }
        which |= states[k].bit;
    }
    *ret = which ? which : TKL_LIST_PENDING | TKL_LIST_RETRYING | TKL_LIST_FAILED;
    return 0;
}

/* Writes instant t as "30 Jun 2023 09:00" local time. */
static void put_when(FILE *f, int64_t t)
{
    struct tm tm;
    if (tkl_local_tm(t, &tm) < 0 || tm.tm_year + 1900 > 9999)
        fprintf(f, "@%lld", (long long)t);
    else
        fprintf(f, "%d %.3s %d %02d:%02d", tm.tm_mday, tkl_month_name(tm.tm_mon + 1),
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

/* Writes s escaped, at most REPLY_MAX bytes of it cut at a character's
 * start, with an ellipsis when cut. */
static void put_reply(FILE *f, const char *s)
{
    size_t n = strlen(s), cut = n > REPLY_MAX ? REPLY_MAX : n;
    while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    for (size_t i = 0; i < cut; i++) {
        const char *e = tkl_html_char(s[i]);
        if (e)
            fputs(e, f);
        else
            fputc(s[i], f);
    }
    if (cut < n)
        fputs("\xe2\x80\xa6", f);
}

/* Whether x is of a state which names (TKL_LIST_*). */
static bool row_in(unsigned which, const struct tkl_notice_row *x)
{
    unsigned bit = x->state == TKL_NOTICE_FAILED ? TKL_LIST_FAILED
                   : x->attempts                 ? TKL_LIST_RETRYING
                                                 : TKL_LIST_PENDING;
    return x->state != TKL_NOTICE_DELIVERED && x->state != TKL_NOTICE_WITHDRAWN && (which & bit);
}

/* One notice as a table row. */
static void put_row(FILE *f, const struct tkl_notice_row *x)
{
    const char *state = tkl_notice_state_name(x->state, x->attempts);
    fprintf(f, "<tr><td>%llu</td><td><span class=\"state %s\">%s</span></td><td>",
            (unsigned long long)x->id, state, state);
    tkl_html_fputs(x->channel, f);
    fputs("</td><td>", f);
    tkl_html_fputs(x->recipient, f);
    fputs("</td><td>", f);
    tkl_html_fputs(x->team_name ? x->team_name : x->team_id, f);
    fprintf(f, "</td><td>%zu</td><td class=\"when\">", x->n_entries);
    put_when(f, x->created_at);
    fprintf(f, "</td><td>%d</td><td class=\"when\">", x->attempts);
    if (x->lease_node) {
        fputs("sending now on node ", f);
        tkl_html_fputs(x->lease_node, f);
    } else if (x->sending) {
        fputs("sending now", f);
    } else if (x->state == TKL_NOTICE_PENDING)
        put_when(f, x->next_attempt);
    else
        fputs("none: <code>tickler retry</code> sends it again", f);
    fputs("</td><td class=\"reply\">", f);
    if (x->last_reply)
        put_reply(f, x->last_reply);
    fputs("</td></tr>\n", f);
}

/* The header: the counts and the links that choose a state. shared_at:
 * when the outbox every node shares was read, INT64_MIN for this node's
 * own. */
static void put_header(FILE *f, const struct tkl_outbox_stats *st, int64_t now, unsigned which,
                       int64_t shared_at)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Outbox</title>\n<style>\n",
          f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>Outbox</h1>\n<p class=\"meta\">", f);
    fprintf(f,
            "%lld pending, %lld retrying, %lld failed; %lld delivered today, %lld in all; "
            "%lld withdrawn (their actions completed first). Generated ",
            (long long)st->pending, (long long)st->retrying, (long long)st->failed,
            (long long)st->delivered_today, (long long)st->delivered, (long long)st->withdrawn);
    put_when(f, now);
    if (shared_at != INT64_MIN) {
        fputs(" from the outbox on PostgreSQL that every node shares, as read ", f);
        put_when(f, shared_at);
    }
    fputs(".</p>\n</header>\n<nav aria-label=\"States\">\n<ul class=\"bar\">\n<li>", f);
    fputs(which == (TKL_LIST_PENDING | TKL_LIST_RETRYING | TKL_LIST_FAILED)
              ? "<strong>Every state</strong>"
              : "<a href=\"outbox\">Every state</a>",
          f);
    fputs("</li>\n", f);
    const int64_t counts[] = {st->failed, st->retrying, st->pending};
    for (size_t k = 0; k < N_STATES; k++)
        fprintf(f, "<li><a href=\"outbox?state=%s\">%s (%lld)</a></li>\n", states[k].name,
                states[k].name, (long long)counts[k]);
    fputs("</ul>\n</nav>\n", f);
}

/* The page for the rows of the states which names (at most LIST_MAX),
 * of stats st; shared_at as put_header's. Returns 0 or -EIO. */
static int outbox_html(FILE *f, const struct tkl_notice_rows *rows,
                       const struct tkl_outbox_stats *st, int64_t now, unsigned which,
                       int64_t shared_at)
{
    size_t shown = 0;
    for (size_t i = 0; i < rows->n && shown < LIST_MAX; i++)
        shown += row_in(which, &rows->v[i]);
    put_header(f, st, now, which, shared_at);
    fputs("<main>\n", f);
    if (!shown) {
        fputs("<p>No notice in these states.</p>\n", f);
    } else {
        if (shown == LIST_MAX)
            fprintf(f, "<p class=\"meta\">The first %d are shown.</p>\n", LIST_MAX);
        fputs("<div class=\"scroll\">\n<table>\n<thead><tr><th scope=\"col\">#</th>"
              "<th scope=\"col\">State</th><th scope=\"col\">Channel</th>"
              "<th scope=\"col\">Recipient</th><th scope=\"col\">Team</th>"
              "<th scope=\"col\">Actions</th><th scope=\"col\">Queued</th>"
              "<th scope=\"col\">Attempts</th><th scope=\"col\">Next attempt</th>"
              "<th scope=\"col\">Last reply</th></tr></thead>\n<tbody>\n",
              f);
        for (size_t i = 0, k = 0; i < rows->n && k < shown; i++)
            if (row_in(which, &rows->v[i])) {
                put_row(f, &rows->v[i]);
                k++;
            }
        fputs("</tbody>\n</table>\n</div>\n", f);
    }
    fputs("</main>\n</body>\n</html>\n", f);
    return ferror(f) ? -EIO : 0;
}

/* Writes the page of rows (stats st, shared_at as put_header's) into a
 * new buffer. Returns 0 with *ret_body and *ret_len set, or a negative
 * errno. */
static int page(const struct tkl_notice_rows *rows, const struct tkl_outbox_stats *st, int64_t now,
                unsigned which, int64_t shared_at, char **ret_body, size_t *ret_len)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    int r = outbox_html(f, rows, st, now, which, shared_at);
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(body);
        return r;
    }
    *ret_body = body;
    *ret_len = len;
    return 0;
}

/* Reads this node's outbox and writes the page into a new buffer. Returns
 * 0 with *ret_body and *ret_len set, or a negative errno. */
static int render(struct tkl_outbox *o, int64_t now, unsigned which, char **ret_body,
                  size_t *ret_len)
{
    struct tkl_outbox_stats st;
    struct tkl_notice_rows rows = {0};
    int r = tkl_outbox_stats(o, tkl_local_instant(tkl_local_day(now), 0), &st);
    if (r == 0)
        r = tkl_outbox_undelivered(o, which, LIST_MAX, &rows);
    if (r == 0)
        r = page(&rows, &st, now, which, INT64_MIN, ret_body, ret_len);
    tkl_notice_rows_free(&rows);
    return r;
}

static void on_view(void *data, int r, struct tkl_state_view *v)
{
    struct tkl_outbox_view *c = data;
    c->asking = false;
    if (r < 0)
        return; /* the view kept is shown, and the next request asks again */
    tkl_state_view_free(c->v);
    c->v = v;
    c->read_at = c->asked_at;
}

void tkl_outbox_view_refresh(struct tkl_service *s, int64_t now)
{
    if (!s->state || !s->node) /* s->node: the backend in force is PostgreSQL */
        return;
    if (!s->outbox_view && !(s->outbox_view = calloc(1, sizeof(*s->outbox_view))))
        return;
    struct tkl_outbox_view *c = s->outbox_view;
    if (c->asking)
        return;
    if (tkl_state_view(s->state, tkl_local_instant(tkl_local_day(now), 0), now, LIST_MAX, on_view,
                       c) == 0) {
        c->asking = true;
        c->asked_at = now;
    }
}

const struct tkl_state_view *tkl_web_outbox_view(struct tkl_service *s, int64_t now,
                                                 int64_t *ret_read_at)
{
    const struct tkl_outbox_view *c = s->outbox_view;
    if (!c || !c->v || now - c->read_at >= VIEW_FRESH || now < c->read_at)
        tkl_outbox_view_refresh(s, now);
    c = s->outbox_view;
    if (!c || !c->v)
        return NULL;
    *ret_read_at = c->read_at;
    return c->v;
}

static void on_last_notices(void *data, int r, struct tkl_item_notices *l)
{
    struct tkl_outbox_view *c = data;
    c->last_asking = false;
    if (r < 0)
        return; /* the list kept is shown, and the next request asks again */
    tkl_item_notices_free(&c->last);
    c->last = *l;
    *l = (struct tkl_item_notices){0};
    c->last_read_at = c->last_asked_at;
    c->last_reads++;
}

const struct tkl_item_notices *tkl_web_last_notices(struct tkl_service *s, int64_t now,
                                                    uint64_t *ret_version)
{
    if (!s->state || !s->rt || s->rt->cfg->state.backend != TKL_STATE_POSTGRESQL)
        return NULL;
    if (!s->outbox_view && !(s->outbox_view = calloc(1, sizeof(*s->outbox_view))))
        return NULL;
    struct tkl_outbox_view *c = s->outbox_view;
    if (!c->last_asking &&
        (!c->last_reads || now - c->last_read_at >= VIEW_FRESH || now < c->last_read_at) &&
        tkl_state_item_notices(s->state, NULL, 0, now, on_last_notices, c) == 0) {
        c->last_asking = true;
        c->last_asked_at = now;
    }
    if (!c->last_reads)
        return NULL;
    *ret_version = c->last_reads;
    return &c->last;
}

void tkl_outbox_view_free(struct tkl_outbox_view **c)
{
    if (!*c)
        return;
    tkl_item_notices_free(&(*c)->last);
    tkl_state_view_free((*c)->v);
    free(*c);
    *c = NULL;
}

int tkl_web_outbox(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    unsigned which = 0;
    const char *bad = NULL;
    if (read_states(req->req, &which, &bad) < 0) {
        char text[256];
        snprintf(text, sizeof(text), "unknown state \"%s\" (pending, retrying or failed)", bad);
        return tkl_http_text(resp, 400, text);
    }
    char *body = NULL;
    size_t len = 0;
    int r;
    if (s->node) { /* the backend in force: a reload changes it only at the next start */
        int64_t at = 0;
        const struct tkl_state_view *v = tkl_web_outbox_view(s, req->now, &at);
        if (!v) {
            resp->retry_after = 1;
            return tkl_http_text(
                resp, 503, "The outbox is being read from PostgreSQL; try again in a moment.");
        }
        r = page(&v->rows, &v->st, req->now, which, at, &body, &len);
    } else {
        if (!s->outbox)
            return -EAGAIN;
        r = render(s->outbox, req->now, which, &body, &len);
    }
    if (r < 0)
        return r;
    tkl_http_take(resp, "text/html; charset=utf-8", body, len);
    resp->status = 200;
    resp->cache = "no-store";
    tkl_http_etag_body(resp);
    return 0;
}
