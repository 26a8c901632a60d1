#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>
#include <tickler/text.h>

#include "../core/text.h"
#include "../export/export.h"
#include "../state/state.h"

static const tkl_web_page pages[TKL_ROUTE_COUNT] = {
    [TKL_ROUTE_INDEX] = tkl_web_index,
    [TKL_ROUTE_CALENDAR_ICS] = tkl_web_calendar_ics,
    [TKL_ROUTE_CATEGORY_ICS] = tkl_web_calendar_ics,
    [TKL_ROUTE_CALENDAR_HTML] = tkl_web_calendar_html,
    [TKL_ROUTE_STATUS_HTML] = tkl_web_status,
    [TKL_ROUTE_STATUS_JSON] = tkl_web_status,
    [TKL_ROUTE_OUTBOX] = tkl_web_outbox,
    [TKL_ROUTE_METRICS] = tkl_web_metrics,
    [TKL_ROUTE_HEALTH] = tkl_web_health,
    [TKL_ROUTE_ACT] = tkl_web_act,
    [TKL_ROUTE_REPORT] = tkl_web_report,
};

/*
 * The status pages last made, so that clients asking again and again (a
 * dashboard, a crawler) cost a copy, not a walk of the plan and the
 * outbox: each is kept while the store in force, the outbox (PostgreSQL:
 * the read of every node's notices, tkl_web_last_notices) and the
 * minute (the pages say when they were made, to the minute) stay the
 * same.
 */
#define PAGES_KEPT   8
#define PAGE_KEY_LEN (TKL_REQUEST_MAX_ARGS * (TKL_REQUEST_KEY_LEN + TKL_REQUEST_VALUE_LEN + 8) + 8)

struct kept_page {
    char key[PAGE_KEY_LEN]; /* route and query; "" when unused */
    uint64_t store_generation, outbox_version, used;
    int64_t minute;
    struct tkl_http_response resp;
};

struct tkl_page_cache {
    struct kept_page v[PAGES_KEPT];
    uint64_t clock;
};

void tkl_page_cache_free(struct tkl_page_cache **c)
{
    if (!*c)
        return;
    for (size_t i = 0; i < PAGES_KEPT; i++)
        tkl_http_response_free(&(*c)->v[i].resp);
    free(*c);
    *c = NULL;
}

static void page_key(const struct tkl_request *r, char *key)
{
    int n = snprintf(key, PAGE_KEY_LEN, "%d", (int)r->route);
    /* each value with its length: "team=a&state=b" is not one value */
    for (size_t i = 0; i < r->n_q && n > 0 && n < PAGE_KEY_LEN; i++)
        n += snprintf(key + n, PAGE_KEY_LEN - (size_t)n, "&%s=%zu:%s", r->q[i].key,
                      strlen(r->q[i].value), r->q[i].value);
}

/* The kept page of key made under this store, outbox and minute, or NULL;
 * *ret_slot gets where to keep a new one. */
static struct kept_page *kept(struct tkl_page_cache *c, const char *key,
                              const struct kept_page *now, struct kept_page **ret_slot)
{
    struct kept_page *slot = &c->v[0];
    for (size_t i = 0; i < PAGES_KEPT; i++) {
        struct kept_page *p = &c->v[i];
        if (!strcmp(p->key, key)) {
            *ret_slot = p;
            return p->store_generation == now->store_generation &&
                           p->outbox_version == now->outbox_version && p->minute == now->minute
                       ? p
                       : NULL;
        }
        if (p->used < slot->used)
            slot = p;
    }
    *ret_slot = slot;
    return NULL;
}

/* A copy of what was kept. Returns 0 or -ENOMEM. */
static int copy_response(const struct tkl_http_response *from, struct tkl_http_response *to)
{
    char *body = malloc(from->len + 1);
    if (!body)
        return -ENOMEM;
    if (from->len)
        memcpy(body, from->body, from->len);
    body[from->len] = '\0';
    free(to->body);
    *to = *from;
    to->body = body;
    return 0;
}

/* /status and /status.json, from what is kept when nothing changed. */
static int status_kept(struct tkl_service *s, const struct tkl_http_request *req,
                       struct tkl_http_response *resp)
{
    struct kept_page now = {.store_generation = s->store_generation, .minute = req->now / 60};
    bool shared = s->rt && s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL;
    /* PostgreSQL: a change is told by a new read of every node's notices */
    if (shared ? !tkl_web_last_notices(s, req->now, &now.outbox_version)
               : !s->outbox || tkl_outbox_version(s->outbox, &now.outbox_version) < 0)
        return tkl_web_status(s, req, resp); /* nothing to tell a change by */
    if (!s->pages && !(s->pages = calloc(1, sizeof(*s->pages))))
        return -ENOMEM;
    struct kept_page *slot;
    page_key(req->req, now.key);
    const struct kept_page *p = kept(s->pages, now.key, &now, &slot);
    if (p) {
        slot->used = ++s->pages->clock;
        return copy_response(&p->resp, resp);
    }
    int r = tkl_web_status(s, req, resp);
    if (r < 0 || resp->status != 200)
        return r;
    tkl_http_response_free(&slot->resp);
    if (copy_response(resp, &slot->resp) < 0) {
        slot->key[0] = '\0'; /* kept nothing: made again next time */
        return 0;
    }
    memcpy(slot->key, now.key, sizeof(now.key));
    slot->store_generation = now.store_generation;
    slot->outbox_version = now.outbox_version;
    slot->minute = now.minute;
    slot->used = ++s->pages->clock;
    return 0;
}

int tkl_web_handle(void *service, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    struct tkl_service *s = service;
    enum tkl_route route = req->req->route;
    if ((unsigned)route >= TKL_ROUTE_COUNT || !pages[route])
        return tkl_http_text(resp, 404, "Not found.");
    if (route == TKL_ROUTE_STATUS_HTML || route == TKL_ROUTE_STATUS_JSON)
        return status_kept(s, req, resp);
    return pages[route](s, req, resp);
}

/* Why the state every node shares (PostgreSQL) cannot take work, or
 * NULL: connected, its schema ready, its last transaction committed. */
static const char *shared_unhealthy(struct tkl_service *s, char *buf, size_t len)
{
    int r = s->state ? tkl_state_health(s->state) : -ENOENT;
    if (r == -ENOTCONN)
        return "database not connected";
    if (r == -EAGAIN)
        return "database schema not ready";
    if (r < 0) {
        snprintf(buf, len, "database: the last transaction failed: %s", strerror(-r));
        return buf;
    }
    return NULL;
}

/* Why the daemon cannot do its work, or NULL: the loop turns (this runs on
 * it), the store is loaded, the state takes writes (SQLite: a write probe
 * of the outbox, and its last group of writes committed; PostgreSQL:
 * shared_unhealthy). */
static const char *unhealthy(struct tkl_service *s, char *buf, size_t len)
{
    if (s->stopping)
        return "stopping";
    if (!s->rt || !s->rt->store)
        return "no store loaded";
    if (s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL)
        return shared_unhealthy(s, buf, len);
    if (!s->outbox)
        return "no outbox";
    int r = tkl_outbox_probe_write(s->outbox);
    if (r == -EBUSY)
        return "outbox locked by another process";
    if (r < 0) {
        snprintf(buf, len, "outbox not writable: %s", strerror(-r));
        return buf;
    }
    if (s->state && (r = tkl_state_health(s->state)) < 0) { /* a full disk, say */
        snprintf(buf, len, "outbox not writable: the last commit failed: %s", strerror(-r));
        return buf;
    }
    return NULL;
}

int tkl_web_health(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    (void)req;
    char buf[128];
    const char *why = unhealthy(s, buf, sizeof(buf));
    int r = tkl_http_text(resp, why ? 503 : 200, why ? why : "ok");
    resp->cache = "no-store";
    return r;
}

/* The address of a page as people reach it: under public_url (which has a
 * default once there is a web face), or the path alone. */
static void link_to(FILE *f, const struct tkl_service *s, const char *path)
{
    const char *base = s->rt->cfg->http.public_url;
    if (base)
        (void)tkl_html_fputs(base, f);
    else
        fputc('/', f);
    (void)tkl_html_fputs(path, f);
}

/* Opens a list item with the address of the page at path, as a link. */
static void address_item(FILE *f, const struct tkl_service *s, const char *path)
{
    fputs("<li><a href=\"", f);
    link_to(f, s, path);
    fputs("\">", f);
    link_to(f, s, path);
    fputs("</a>", f);
}

static void index_link(FILE *f, const struct tkl_service *s, const char *path, const char *what)
{
    address_item(f, s, path);
    fprintf(f, " — %s</li>\n", what);
}

/* public_url past its scheme ("tickler.example/"), which a webcal://
 * address follows, for an http:// and an https:// public_url alike
 * (webcal:// says nothing of TLS: the client picks, and one that fetches
 * it over plain HTTP needs the host to answer there, a proxy sending it
 * on to https://); NULL without public_url (sockets from systemd, no http
 * group), when there is no host to name. */
static const char *webcal_rest(const struct tkl_service *s)
{
    const char *base = s->rt->cfg->http.public_url;
    const char *sep = base ? strstr(base, "://") : NULL;
    return sep ? sep + 3 : NULL;
}

/* Opens a list item for the calendar feed at path: its address to paste,
 * then a one-click link to it as webcal://, which Outlook and Apple
 * Calendar open as a subscribe dialog (when there is a host to name). */
static void feed_item(FILE *f, const struct tkl_service *s, const char *path)
{
    const char *rest = webcal_rest(s);
    address_item(f, s, path);
    if (rest) {
        fputs(" · <a href=\"webcal://", f);
        (void)tkl_html_fputs(rest, f);
        (void)tkl_html_fputs(path, f);
        fputs("\">subscribe</a>", f);
    }
    fputs(" — ", f);
}

/* Lists the calendar of category c. */
static void index_category(FILE *f, const struct tkl_service *s, const struct tkl_feed_category *c)
{
    char path[TKL_CATEGORY_SLUG_SIZE + 16];
    snprintf(path, sizeof(path), "calendar/%s.ics", c->slug);
    feed_item(f, s, path);
    (void)tkl_html_fputs(c->name, f);
    fprintf(f, " only (%zu observance%s)</li>\n", c->count, tkl_plural(c->count));
}

/* The calendars to subscribe to: the whole one, then one per category
 * with events in the feeds' window (tkl_feed_categories' order). Returns
 * 0 or a negative errno. */
static int index_calendars(FILE *f, struct tkl_service *s, int64_t now)
{
    struct tkl_event_list l = {0};
    struct tkl_feed_category *cats = NULL;
    size_t n = 0;
    int r = tkl_web_feed_events(s, now, &l);
    if (r == 0 && (r = tkl_feed_categories(&l, &cats, &n)) == 0) {
        fputs("<h2>", f);
        (void)tkl_html_fputs(s->rt->cfg->calendar_title, f);
        fputs("</h2>\n<p>To subscribe in Outlook, choose <i>Add calendar, "
              "Subscribe from web</i>; in Google Calendar, <i>Other calendars, From URL</i>; and "
              "paste an address below.",
              f);
        if (webcal_rest(s))
            fputs(" Or choose <i>subscribe</i> beside it: Outlook and Apple Calendar open their "
                  "subscribe dialog. If that subscription cannot load the calendar, paste the "
                  "address instead.",
                  f);
        fputs("</p>\n<ul>\n", f);
        feed_item(f, s, "calendar.ics");
        fputs("every observance, a year back to two years ahead</li>\n", f);
        for (size_t i = 0; i < n; i++)
            if (cats[i].count)
                index_category(f, s, &cats[i]);
        index_link(f, s, "calendar.html", "the printable calendar for this year");
        fputs("</ul>\n", f);
    }
    free(cats);
    tkl_event_list_free(&l);
    return r;
}

int tkl_web_index(struct tkl_service *s, const struct tkl_http_request *req,
                  struct tkl_http_response *resp)
{
    char *body = NULL;
    size_t len = 0;
    if (!s->rt)
        return -EAGAIN;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>tickler</title>\n<style>body{font-family:system-ui,sans-serif;max-width:46em;"
          "margin:1em auto;padding:0 1em;line-height:1.5}a{overflow-wrap:anywhere}</style>\n"
          "</head><body>\n<h1>tickler</h1>\n",
          f);
    int r = index_calendars(f, s, req->now);
    fputs("<h2>The plan</h2>\n<ul>\n", f);
    index_link(f, s, "status", "every action, its state and its last reminder, by team");
    index_link(f, s, "status.json", "the same as JSON");
    index_link(f, s, "report", "the progress report of the last twelve months (prints on A4)");
    index_link(f, s, "report?format=docx", "the same as a Word document, to edit");
    index_link(f, s, "report?format=csv", "the same for Excel");
    fputs("</ul>\n<h2>For the operator</h2>\n<ul>\n", f);
    index_link(f, s, "outbox", "notices pending, retrying and failed");
    index_link(f, s, "metrics", "Prometheus metrics");
    index_link(f, s, "healthz", "health check");
    fputs("</ul>\n</body></html>\n", f);
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(body);
        return r;
    }
    tkl_http_take(resp, "text/html; charset=utf-8", body, len);
    tkl_http_etag_body(resp);
    resp->cache = "no-cache";
    return 0;
}

/* The number after prefix in key ("lead-7", "lead-": 7), or -1. */
static long number_after(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = NULL;
    if (strncmp(key, prefix, n) != 0 || key[n] < '0' || key[n] > '9')
        return -1;
    errno = 0;
    long v = strtol(key + n, &end, 10);
    return errno || *end ? -1 : v;
}

const char *tkl_web_stage_words(const char *key, char *buf, size_t len)
{
    long n;
    if (!key)
        return "a reminder";
    if (!strcmp(key, "due"))
        return "on the deadline";
    if (!strncmp(key, "checkin-", 8))
        return "a check-in";
    if (!strncmp(key, "request:", 8))
        return "an update request";
    if (!strncmp(key, "request-follow-up:", 18))
        return "a follow-up to an update request";
    if (!strncmp(key, "request-summary:", 16))
        return "the summary of an update request's answers";
    if (!strncmp(key, "answer-", 7))
        return "an officer's answer";
    if (!strncmp(key, "joint-", 6))
        return "another owning team's update";
    if ((n = number_after(key, "lead-")) >= 0)
        snprintf(buf, len, "%ld day%s before the deadline", n, tkl_plural(n));
    else if ((n = number_after(key, "after-")) >= 0)
        snprintf(buf, len, "%ld day%s after the deadline", n, tkl_plural(n));
    else if ((n = number_after(key, "overdue-m")) >= 0)
        snprintf(buf, len, "overdue, monthly reminder %ld", n);
    else if ((n = number_after(key, "overdue-")) >= 0)
        snprintf(buf, len, "overdue, reminder %ld", n);
    else
        snprintf(buf, len, "%s", key);
    return buf;
}

const char *tkl_web_status_reading(enum tkl_status status)
{
    switch (status) {
    case TKL_STATUS_COMPLETE:
        return "read as complete";
    case TKL_STATUS_CLOSED:
        return "read as closed";
    default:
        return "read as not yet done";
    }
}

const char *tkl_web_text_or(const char *s, const char *alt)
{
    return s && *s ? s : alt;
}

const char *tkl_web_when(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    if (tkl_local_tm(t, &tm) < 0 || tm.tm_year + 1900 > 9999)
        snprintf(buf, size, "@%lld", (long long)t);
    else
        snprintf(buf, size, "%d %.3s %d %02d:%02d", tm.tm_mday, tkl_month_name(tm.tm_mon + 1),
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
    return buf;
}

const char *tkl_web_when_long(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    char day[TKL_DAY_LONG_SIZE];
    if (tkl_local_tm(t, &tm) < 0 || tkl_day_long(tkl_local_day(t), day, sizeof(day)) < 0)
        return tkl_web_when(t, buf, size);
    snprintf(buf, size, "%s at %02d:%02d", day, tm.tm_hour, tm.tm_min);
    return buf;
}
