/*
 * The calendar feeds: /calendar.ics (every observance from a year back to
 * two years ahead), /calendar/<category>.ics (those of one category) and
 * /calendar.html (the printable page of one year), read from the running
 * sources at each request.
 *
 * A subscribed calendar is fetched again and again: the same content must
 * give the same bytes, so that its entity tag holds and the client is
 * answered 304. The service keeps, per feed, what it last served: a hash
 * of the content (the events as the feed shows them), when this daemon
 * first served that content, and the body. The DTSTAMP of the events and
 * Last-Modified are that time, not the time of the request; a request
 * whose events hash the same is answered with the kept body, without
 * writing it again.
 *
 * That time is kept in the state's meta ("feed:<key>", with the content's
 * hash in "feed-content:<key>"), so that a restart does not make an
 * unchanged calendar look changed: SQLite's, read and written at once;
 * with PostgreSQL the meta every node shares, so that nodes behind one
 * address serve the same bytes. There a request that must make its feed
 * afresh, for content whose stamp this node has not read, waits
 * (suspended, tkl_http_later) for the shared values, then is made again
 * with them; a new stamp is written without waiting. Two nodes stamping
 * the same new content at once may each keep their own until it changes.
 * Until the node first reached the database a feed is stamped
 * provisionally: kept (and written) then, unless the shared meta holds a
 * stamp of that content.
 *
 * A calendar downloaded is named by calendar.title as it is now
 * (Content-Disposition, RFC 6266): an ASCII file name made from it
 * ("maidstone-equality-dates.ics", a category's with its slug after it,
 * "...-race.ics"), and beside it, when the title is not plain ASCII, the
 * title's own characters percent-encoded (filename*=UTF-8''...).
 */
#include "web.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>

#include "../core/text.h"
#include "../core/log.h"
#include "../export/export.h"
#include "../state/state.h"

/* The days of the ICS feeds, around today. */
#define FEED_DAYS_BACK  365
#define FEED_DAYS_AHEAD 730

/* The years the page shows, around this one. */
#define FEED_YEARS_AROUND 50

/* The feeds remembered, the calendars (ICS) first, then the pages; the one
 * of its kind served longest ago gives way, so no number of pages asked
 * for can push a calendar out. */
#define FEED_MAX 40
#define FEED_ICS 24

#define FEED_KEY_SIZE 80

#define ICS_TYPE         "text/calendar; charset=utf-8"
#define HTML_TYPE        "text/html; charset=utf-8"
#define FEED_CACHE       "public, max-age=3600"
#define FEED_DESCRIPTION "Observances to mark, a year back and two years ahead, from tickler"
#define FEED_EMPTY_DESCRIPTION                                                                     \
    "No observance of this category falls a year back to two years ahead: its name may be "        \
    "mistyped. The index of this site's pages lists the calendars in use."

struct feed {
    char key[FEED_KEY_SIZE]; /* "ics", "ics/<slug>", "html/<year>"; "" when unused */
    uint64_t content;        /* hash of what the body shows, its DTSTAMP aside */
    int64_t first_seen;      /* when this daemon first served that content */
    uint64_t used;           /* the cache's clock when it was last served */
    uint64_t generation;     /* the service's sources_generation it was made for */
    int32_t day;             /* and the day */
    bool provisional;        /* stamped before the shared meta could be read */
    char *body;
    size_t len;
    char etag[48];
};

/* A feed's stamp in the meta every node shares (PostgreSQL), as last
 * read or written here. */
struct shared_stamp {
    char key[FEED_KEY_SIZE]; /* "" when unused */
    uint64_t read_for;       /* the content it was read or written for */
    bool found;              /* at and hash hold values */
    int64_t at;
    uint64_t hash;
    uint64_t used; /* the cache's clock when it was last read or written */
};

struct tkl_feed_cache {
    struct feed v[FEED_MAX];
    struct shared_stamp stamps[FEED_MAX];
    uint64_t clock;
};

void tkl_feed_cache_free(struct tkl_feed_cache **c)
{
    if (!*c)
        return;
    for (size_t i = 0; i < FEED_MAX; i++)
        free((*c)->v[i].body);
    free(*c);
    *c = NULL;
}

/* One feed as a request asks for it. */
struct feed_req {
    char key[FEED_KEY_SIZE];
    const struct tkl_event_list *l;
    const char *title;       /* the calendar's name, the page's title */
    const char *description; /* the calendar's, or NULL: FEED_DESCRIPTION */
    bool html;
    int32_t from, to;                 /* the page's days */
    const struct tkl_team_dir *teams; /* the page's team names */
};

static uint64_t hash_str(uint64_t h, const char *s)
{
    /* NULL and "" differ; the NUL ends each string */
    return s ? tkl_fnv1a(h, s, strlen(s) + 1) : tkl_fnv1a(h, "\x01", 1);
}

static const char *team_name(const struct tkl_team_dir *teams, const char *t)
{
    const struct tkl_team *team = teams ? tkl_team_find(teams, t) : NULL;
    return team && team->name ? team->name : t;
}

/* A hash of everything the feed's body shows but its DTSTAMP. */
static uint64_t content_hash(const struct feed_req *f)
{
    uint64_t h = hash_str(TKL_FNV_INIT, f->key);
    h = hash_str(h, f->title);
    h = tkl_fnv1a(h, &f->from, sizeof(f->from));
    h = tkl_fnv1a(h, &f->to, sizeof(f->to));
    for (size_t i = 0; i < f->l->n; i++) {
        const struct tkl_event *e = &f->l->v[i];
        h = hash_str(h, e->id);
        h = hash_str(h, e->title);
        h = hash_str(h, e->description);
        h = hash_str(h, e->category);
        h = hash_str(h, e->url);
        h = tkl_fnv1a(h, &e->first_day, sizeof(e->first_day));
        h = tkl_fnv1a(h, &e->last_day, sizeof(e->last_day));
        if (!f->html)
            continue;
        h = hash_str(h, team_name(f->teams, e->team));
        for (size_t k = 0; k < e->n_teams; k++)
            h = hash_str(h, team_name(f->teams, e->teams[k]));
        h = tkl_fnv1a(h, "\x02", 1); /* the end of an event's teams */
    }
    return h;
}

/* Writes the feed's body with DTSTAMP stamp. Returns 0 with *ret_body
 * (malloc()ed) and *ret_len set, or a negative errno. */
static int render(const struct feed_req *f, int64_t stamp, char **ret_body, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return -ENOMEM;
    const struct tkl_ics_opts opts = {.name = f->title,
                                      .description =
                                          f->description ? f->description : FEED_DESCRIPTION,
                                      .stamp = stamp,
                                      .refresh_hours = TKL_ICS_REFRESH_HOURS};
    int r = f->html ? tkl_export_html(out, f->l, f->from, f->to, f->title, f->teams)
                    : tkl_export_ics(out, f->l, &opts);
    if ((fclose(out) != 0 || !buf) && r == 0)
        r = -ENOMEM; /* a memory stream fails only for want of memory */
    if (r < 0) {
        free(buf);
        return r == -EIO ? -ENOMEM : r;
    }
    *ret_body = buf;
    *ret_len = len;
    return 0;
}

/* Whether record a gives way before b: an unused one first, then the one
 * served longest ago. */
static bool gives_way_before(const struct feed *a, const struct feed *b)
{
    if (!a->key[0] || !b->key[0])
        return !a->key[0] && b->key[0];
    return a->used < b->used;
}

/* The record of key, or the one of its kind it is to replace. */
static struct feed *slot_of(struct tkl_feed_cache *c, const char *key)
{
    bool html = !strncmp(key, "html/", 5);
    size_t lo = html ? FEED_ICS : 0, hi = html ? FEED_MAX : FEED_ICS;
    struct feed *victim = &c->v[lo];
    for (size_t i = lo; i < hi; i++) {
        if (!strcmp(c->v[i].key, key))
            return &c->v[i];
        if (gives_way_before(&c->v[i], victim))
            victim = &c->v[i];
    }
    return victim;
}

/* Whether record e was stamped before the shared meta could be read, and
 * now it can. */
static bool stale(const struct tkl_service *s, const struct feed *e)
{
    return e->provisional && s->state_ready;
}

/* The shared stamp of key, or NULL. */
static struct shared_stamp *stamp_of(struct tkl_feed_cache *c, const char *key)
{
    for (size_t i = 0; c && i < FEED_MAX; i++)
        if (!strcmp(c->stamps[i].key, key))
            return &c->stamps[i];
    return NULL;
}

/* The shared stamp of key, made (in the slot used longest ago) when
 * there is none. */
static struct shared_stamp *stamp_slot(struct tkl_feed_cache *c, const char *key)
{
    struct shared_stamp *x = stamp_of(c, key), *victim = &c->stamps[0];
    if (x)
        return x;
    for (size_t i = 0; i < FEED_MAX; i++)
        if (c->stamps[i].used < victim->used)
            victim = &c->stamps[i];
    *victim = (struct shared_stamp){0};
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    return victim;
}

static bool shared_meta(const struct tkl_service *s)
{
    return s->state && s->rt && s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL;
}

static void on_stamp_written(void *data, int r)
{
    (void)data;
    if (r < 0 && r != -ECANCELED && r != -ESHUTDOWN)
        log_debug("web: a calendar's stamp was not written to the shared meta: %s", strerror(-r));
}

/* first_served on the meta every node shares: the stamp read (or written)
 * for content, else a new one (prev itself when adopt: this content's
 * provisional stamp), written without waiting. */
static int64_t first_served_shared(struct tkl_service *s, const char *key, uint64_t content,
                                   int64_t now, int64_t prev, bool adopt)
{
    char k_at[FEED_KEY_SIZE + 16], k_hash[FEED_KEY_SIZE + 16];
    if (!s->state_ready) /* a provisional stamp, made again once it is read */
        return now > prev || prev > now ? now : prev + 1;
    struct shared_stamp *x = stamp_slot(s->feeds, key);
    bool known = x->found && x->at > 0 && x->at <= now;
    x->used = ++s->feeds->clock;
    if (known && x->hash == content)
        return x->at;
    if (known && x->at > prev && !adopt)
        prev = x->at;
    int64_t stamp = adopt ? prev : now > prev || prev > now ? now : prev + 1;
    snprintf(k_at, sizeof(k_at), "feed:%s", key);
    snprintf(k_hash, sizeof(k_hash), "feed-content:%s", key);
    if (tkl_state_set_meta(s->state, k_at, stamp, on_stamp_written, NULL) == 0)
        (void)tkl_state_set_meta(s->state, k_hash, (int64_t)content, on_stamp_written, NULL);
    *x = (struct shared_stamp){
        .read_for = content, .found = true, .at = stamp, .hash = content, .used = x->used};
    snprintf(x->key, sizeof(x->key), "%s", key);
    return stamp;
}

/*
 * When content was first served as feed key: kept in the outbox's meta
 * table ("feed:<key>" the time, "feed-content:<key>" the hash), so that a
 * restart, or the record giving way to others, does not make an unchanged
 * calendar look changed. New content is stamped now (a second after the
 * previous stamp at the earliest: a client that only sends
 * If-Modified-Since must see the change). Without the outbox, the time
 * this daemon first served it. adopt: this content was served already,
 * stamped prev before the meta every node shares could be read; unless
 * that meta holds a stamp of it, prev stays.
 */
static int64_t first_served(struct tkl_service *s, const char *key, uint64_t content, int64_t now,
                            int64_t prev, bool adopt)
{
    char k_at[FEED_KEY_SIZE + 16], k_hash[FEED_KEY_SIZE + 16];
    int64_t at = 0, hash = 0;
    snprintf(k_at, sizeof(k_at), "feed:%s", key);
    snprintf(k_hash, sizeof(k_hash), "feed-content:%s", key);
    if (shared_meta(s))
        return first_served_shared(s, key, content, now, prev, adopt);
    /* a stamp past the clock (set back, or an earlier --now) is none */
    bool known = s->outbox && tkl_outbox_get_meta(s->outbox, k_at, &at) == 0 && at > 0 && at <= now;
    if (known && tkl_outbox_get_meta(s->outbox, k_hash, &hash) == 0 && (uint64_t)hash == content)
        return at;
    if (known && at > prev)
        prev = at;
    int64_t stamp = now > prev || prev > now ? now : prev + 1;
    if (s->outbox) /* best effort and without waiting: a locked outbox only
                    * costs a new stamp after a restart */
        (void)(tkl_outbox_try_set_meta(s->outbox, k_at, stamp) == 0 &&
               tkl_outbox_try_set_meta(s->outbox, k_hash, (int64_t)content) == 0);
    return stamp;
}

/* Makes e the record of f's content: kept when it is the content e holds,
 * written afresh otherwise. Returns 0, or a negative errno with e
 * unchanged. */
static int refresh(struct tkl_service *s, struct feed *e, const struct feed_req *f, int64_t now)
{
    uint64_t content = content_hash(f);
    bool same_key = !strcmp(e->key, f->key);
    if (same_key && e->content == content && e->body && !stale(s, e))
        return 0;
    bool adopt = same_key && e->content == content && e->body && e->first_seen <= now;
    int64_t stamp = first_served(s, f->key, content, now, same_key ? e->first_seen : 0, adopt);
    char *body;
    size_t len;
    int r = render(f, stamp, &body, &len);
    if (r < 0)
        return r;
    struct tkl_http_response tagged = {.body = body, .len = len};
    tkl_http_etag_body(&tagged);
    free(e->body);
    snprintf(e->key, sizeof(e->key), "%s", f->key);
    e->content = content;
    e->first_seen = stamp;
    e->provisional = shared_meta(s) && !s->state_ready;
    e->body = body;
    e->len = len;
    memcpy(e->etag, tagged.etag, sizeof(e->etag));
    return 0;
}

/* Whether c may stand for itself in an RFC 5987 ext-value (attr-char). */
static bool attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

/* s percent-encoded as an ext-value's value-chars (RFC 5987) at
 * out[*len], *len moved past them. Returns false when they do not fit in
 * size bytes with a NUL (out then holds part of them, unterminated). */
static bool put_ext_value(char *out, size_t size, size_t *len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*len + 4 > size)
            return false;
        if (attr_char(*p)) {
            out[(*len)++] = (char)*p;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[*p >> 4];
            out[(*len)++] = hex[*p & 15];
        }
    }
    out[*len] = '\0';
    return true;
}

/*
 * The Content-Disposition of the calendar titled title, of the category
 * of slug when it is not NULL: inline, its filename the title's ASCII
 * letters lower-cased and digits, every run of other bytes one '-' (as a
 * category's slug), "calendar" when none is left, then "-<slug>" and
 * ".ics"; and, when the title is UTF-8 that is not plain ASCII, a
 * filename* of its own characters, percent-encoded (RFC 5987), as long as
 * it fits buf. Nothing in it is a quote, a control character or a byte
 * past ASCII.
 */
static void ics_disposition(const char *title, const char *slug, char *buf, size_t size)
{
    char name[TKL_CATEGORY_SLUG_SIZE];
    bool ascii = true;
    if (!*tkl_category_slug(title, name))
        snprintf(name, sizeof(name), "calendar");
    for (const char *p = title; *p; p++)
        ascii &= (unsigned char)*p < 0x80;
    int n = snprintf(buf, size, "inline; filename=\"%s%s%s.ics\"", name, slug ? "-" : "",
                     slug ? slug : "");
    if (ascii || n < 0 || (size_t)n >= size || !tkl_utf8_valid(title, strlen(title)))
        return;
    int ext = snprintf(buf + n, size - (size_t)n, "; filename*=UTF-8''");
    size_t len = (size_t)n + (size_t)ext;
    if (ext > 0 && len < size && put_ext_value(buf, size, &len, title) &&
        (!slug || (put_ext_value(buf, size, &len, "-") && put_ext_value(buf, size, &len, slug))) &&
        put_ext_value(buf, size, &len, ".ics"))
        return;
    buf[n] = '\0'; /* the filename alone */
}

/* The Content-Disposition of the ICS feed of key ("ics", "ics/<slug>"),
 * named by the title in force. */
static void feed_disposition(const struct tkl_service *s, const char *key, char *buf, size_t size)
{
    const char *title = s->rt && s->rt->cfg ? s->rt->cfg->calendar_title : TKL_EXPORT_TITLE;
    ics_disposition(title, strncmp(key, "ics/", 4) == 0 ? key + 4 : NULL, buf, size);
}

/* Answers with record e. Returns 0 or -ENOMEM. */
static int answer(struct tkl_service *s, struct feed *e, bool html, struct tkl_http_response *resp)
{
    e->used = ++s->feeds->clock;
    char *copy = malloc(e->len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, e->body, e->len);
    copy[e->len] = '\0';
    tkl_http_take(resp, html ? HTML_TYPE : ICS_TYPE, copy, e->len);
    resp->status = 200;
    memcpy(resp->etag, e->etag, sizeof(resp->etag));
    resp->last_modified = e->first_seen;
    resp->cache = FEED_CACHE;
    if (!html)
        feed_disposition(s, e->key, resp->disposition, sizeof(resp->disposition));
    return 0;
}

/* The record of key made today from the sources as they are, or NULL:
 * then the events must be read again. */
static struct feed *current(struct tkl_service *s, const char *key, int64_t now)
{
    if (!s->feeds)
        return NULL;
    struct feed *e = slot_of(s->feeds, key);
    return !strcmp(e->key, key) && e->body && !stale(s, e) &&
                   e->generation == s->sources_generation && e->day == tkl_local_day(now)
               ? e
               : NULL;
}

/* A feed request waiting for its stamp in the shared meta: the request
 * (made again once both values are told), answered through later (NULL:
 * nobody waits any more). */
struct stamp_read {
    struct tkl_service *s;
    struct tkl_http_later *later;
    char key[FEED_KEY_SIZE];
    struct tkl_request req;
    int64_t now;
    uint64_t content;
    int told, r;
    int64_t at, hash;
    bool has_at, has_hash;
};

/* The request of x made again, now that its stamp is known (it cannot
 * wait again); or 503 with Retry-After when the database could not
 * answer. */
static void stamp_read_answer(struct stamp_read *x)
{
    struct tkl_http_response resp = {.status = 200};
    struct tkl_http_request hr = {.req = &x->req, .now = x->now, .client = ""};
    int r = x->r;
    if (r == 0 && x->s->feeds) {
        struct shared_stamp *st = stamp_slot(x->s->feeds, x->key);
        st->read_for = x->content;
        st->found = x->has_at && x->has_hash;
        st->at = x->at;
        st->hash = (uint64_t)x->hash;
        st->used = ++x->s->feeds->clock;
    }
    if (r == 0)
        r = x->req.route == TKL_ROUTE_CALENDAR_HTML ? tkl_web_calendar_html(x->s, &hr, &resp)
                                                    : tkl_web_calendar_ics(x->s, &hr, &resp);
    if (r < 0 || r == TKL_HTTP_LATER) {
        tkl_http_response_free(&resp);
        resp = (struct tkl_http_response){0};
        if (tkl_http_text(&resp, 503, "The calendar cannot be read just now; try again shortly.") <
            0)
            resp.status = 503;
        resp.retry_after = 5;
        resp.cache = "no-store";
    }
    x->later->answer(x->later, &resp);
    tkl_http_response_free(&resp);
}

/* Each of the two values read: once both are told, the request is
 * answered (when it still waits) and x freed. */
static void stamp_told(struct stamp_read *x, int r, bool is_at, int64_t value)
{
    if (r == 0) {
        *(is_at ? &x->at : &x->hash) = value;
        *(is_at ? &x->has_at : &x->has_hash) = true;
    } else if (r != -ENOENT && x->r == 0) {
        x->r = r;
    }
    if (++x->told < 2)
        return;
    if (x->later)
        stamp_read_answer(x);
    free(x);
}

static void on_stamp_at(void *data, int r, int64_t value)
{
    stamp_told(data, r, true, value);
}

static void on_stamp_hash(void *data, int r, int64_t value)
{
    stamp_told(data, r, false, value);
}

/* Whether feed f, of content, must wait for its stamp in the shared meta:
 * PostgreSQL, a request that can wait, and no stamp read or written here
 * for that content. */
static bool stamp_unread(struct tkl_service *s, const struct tkl_http_request *req,
                         const struct feed_req *f, uint64_t content)
{
    const struct shared_stamp *x = stamp_of(s->feeds, f->key);
    return shared_meta(s) && s->state_ready && req->defer && !(x && x->read_for == content);
}

/* Queues the reads of f's stamp in the shared meta and defers req's
 * answer until they are told. Returns TKL_HTTP_LATER or a negative
 * errno. */
static int read_stamp(struct tkl_service *s, const struct tkl_http_request *req,
                      const struct feed_req *f, uint64_t content)
{
    char k_at[FEED_KEY_SIZE + 16], k_hash[FEED_KEY_SIZE + 16];
    struct stamp_read *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->s = s;
    x->req = *req->req;
    x->now = req->now;
    x->content = content;
    snprintf(x->key, sizeof(x->key), "%s", f->key);
    snprintf(k_at, sizeof(k_at), "feed:%s", f->key);
    snprintf(k_hash, sizeof(k_hash), "feed-content:%s", f->key);
    int r = tkl_state_get_meta(s->state, k_at, on_stamp_at, x);
    if (r < 0) {
        free(x);
        return r;
    }
    if ((r = tkl_state_get_meta(s->state, k_hash, on_stamp_hash, x)) < 0) {
        x->r = r;
        x->told++; /* the first read's completion frees x */
        return r;
    }
    /* queued: the last completion frees x, answering through later if taken */
    if (!(x->later = req->defer(req)))
        return -ESHUTDOWN;
    return TKL_HTTP_LATER;
}

/* Answers req with the feed f, from the record the service keeps, made
 * again when its content changed (after its stamp is read from the meta
 * every node shares: TKL_HTTP_LATER). Returns 0, TKL_HTTP_LATER or a
 * negative errno. */
static int serve(struct tkl_service *s, const struct tkl_http_request *req,
                 const struct feed_req *f, struct tkl_http_response *resp)
{
    int64_t now = req->now;
    if (!s->feeds && !(s->feeds = calloc(1, sizeof(*s->feeds))))
        return -ENOMEM;
    struct feed *e = slot_of(s->feeds, f->key);
    uint64_t content = content_hash(f);
    bool made = !strcmp(e->key, f->key) && e->content == content && e->body && !stale(s, e);
    if (!made && stamp_unread(s, req, f, content))
        return read_stamp(s, req, f, content);
    int r = refresh(s, e, f, now);
    if (r < 0)
        return r;
    e->generation = s->sources_generation;
    e->day = tkl_local_day(now);
    return answer(s, e, f->html, resp);
}

/* The category of slug in v (n of them), or NULL. */
static struct tkl_feed_category *category_of(struct tkl_feed_category *v, size_t n,
                                             const char *slug)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].slug, slug))
            return &v[i];
    return NULL;
}

int tkl_feed_categories(const struct tkl_event_list *l, struct tkl_feed_category **ret,
                        size_t *ret_n)
{
    size_t n_palette = 0, n = 0;
    while (tkl_category_palette(n_palette))
        n_palette++;
    struct tkl_feed_category *v = calloc(n_palette + l->n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (; n < n_palette; n++) {
        v[n].name = tkl_category_palette(n);
        (void)tkl_category_slug(v[n].name, v[n].slug);
    }
    for (size_t i = 0; i < l->n; i++) {
        char slug[TKL_CATEGORY_SLUG_SIZE];
        if (!*tkl_category_slug(l->v[i].category, slug)) /* none */
            continue;
        struct tkl_feed_category *c = category_of(v, n, slug);
        if (!c) {
            c = &v[n++];
            memcpy(c->slug, slug, sizeof(slug));
            c->name = l->v[i].category;
        }
        c->count++;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The calendar of a category that is neither one tickler knows nor one
 * an observance in the window has: empty, made for this request alone (no
 * stamp kept, no record of the cache taken), so that a name nobody uses
 * costs the state nothing however many are asked. Returns 0 or -ENOMEM. */
static int serve_empty(const struct tkl_service *s, const struct feed_req *f,
                       struct tkl_http_response *resp)
{
    char *body = NULL;
    size_t len = 0;
    struct feed_req empty = *f;
    empty.description = FEED_EMPTY_DESCRIPTION;
    int r = render(&empty, 0, &body, &len); /* no event: nothing carries the stamp */
    if (r < 0)
        return r;
    tkl_http_take(resp, ICS_TYPE, body, len);
    tkl_http_etag_body(resp); /* the same bytes every time: a tag of them */
    resp->status = 200;
    resp->cache = FEED_CACHE;
    feed_disposition(s, f->key, resp->disposition, sizeof(resp->disposition));
    return 0;
}

int tkl_web_feed_events(struct tkl_service *s, int64_t now, struct tkl_event_list *ret)
{
    int32_t today = tkl_local_day(now);
    if (!s->rt)
        return -EAGAIN; /* not loaded yet */
    if (today == TKL_NO_DAY)
        return -EOVERFLOW;
    return tkl_sources_events(&s->rt->sources, today - FEED_DAYS_BACK, today + FEED_DAYS_AHEAD,
                              ret);
}

int tkl_web_calendar_ics(struct tkl_service *s, const struct tkl_http_request *req,
                         struct tkl_http_response *resp)
{
    struct tkl_event_list all = {0}, view = {0};
    char title[TKL_EXPORT_TITLE_SIZE];
    const char *slug = req->req->route == TKL_ROUTE_CATEGORY_ICS ? req->req->arg : NULL;
    struct feed_req f = {.l = &all};
    snprintf(f.key, sizeof(f.key), slug ? "ics/%s" : "ics", slug ? slug : "");
    struct feed *kept = current(s, f.key, req->now);
    if (kept) /* nothing changed since it was made: no need to read the sources */
        return answer(s, kept, false, resp);
    int r = tkl_web_feed_events(s, req->now, &all);
    if (r < 0)
        return r;
    f.title = s->rt->cfg->calendar_title;
    /* a category with no observance in the window is an empty calendar,
     * not a 404: a subscriber's client keeps its last copy after a failed
     * refresh, so the events of a category emptied (its observances
     * removed, renamed or past) would stay in its calendar for good */
    bool known = true;
    if (slug) {
        struct tkl_feed_category *cats = NULL;
        size_t n_cats = 0;
        if ((r = tkl_feed_categories(&all, &cats, &n_cats)) < 0)
            goto out;
        known = category_of(cats, n_cats, slug) != NULL;
        free(cats);
    }
    if (slug) {
        if ((r = tkl_events_in_category(&all, slug, &view)) < 0)
            goto out;
        const char *name = tkl_category_known(slug);
        snprintf(title, sizeof(title), "%s: %s", s->rt->cfg->calendar_title,
                 name     ? name
                 : view.n ? view.v[0].category
                          : slug);
        f.l = &view;
        f.title = title;
    }
    r = known ? serve(s, req, &f, resp) : serve_empty(s, &f, resp);
out:
    tkl_event_view_free(&view);
    tkl_event_list_free(&all);
    return r;
}

/* The year the page is asked for: the query's year (four digits, within
 * FEED_YEARS_AROUND of this one), else this one. Returns 0, or -EINVAL. */
static int page_year(const struct tkl_http_request *req, int *ret_year)
{
    int y, m, d;
    tkl_day_to_civil(tkl_local_day(req->now), &y, &m, &d);
    const char *q = tkl_request_get(req->req, "year", 0);
    if (!q) {
        *ret_year = y;
        return 0;
    }
    if (tkl_request_get(req->req, "year", 1) || strlen(q) != 4 || strspn(q, "0123456789") != 4)
        return -EINVAL;
    int year = (int)strtol(q, NULL, 10);
    if (year < y - FEED_YEARS_AROUND || year > y + FEED_YEARS_AROUND)
        return -EINVAL;
    *ret_year = year;
    return 0;
}

int tkl_web_calendar_html(struct tkl_service *s, const struct tkl_http_request *req,
                          struct tkl_http_response *resp)
{
    int year;
    char title[TKL_EXPORT_TITLE_SIZE], text[160];
    if (!s->rt)
        return -EAGAIN;
    if (page_year(req, &year) < 0) {
        snprintf(text, sizeof(text), "year must be a year (YYYY) within %d years of this one",
                 FEED_YEARS_AROUND);
        return tkl_http_text(resp, 400, text);
    }
    struct tkl_event_list l = {0};
    struct feed_req f = {.l = &l,
                         .title = title,
                         .html = true,
                         .from = tkl_day_from_civil(year, 1, 1),
                         .to = tkl_day_from_civil(year, 12, 31),
                         .teams = &s->rt->cfg->teams};
    snprintf(title, sizeof(title), "%s %d", s->rt->cfg->calendar_title, year);
    snprintf(f.key, sizeof(f.key), "html/%d", year);
    struct feed *kept = current(s, f.key, req->now);
    if (kept)
        return answer(s, kept, true, resp);
    int r = tkl_sources_events(&s->rt->sources, f.from, f.to, &l);
    if (r == 0)
        r = serve(s, req, &f, resp);
    tkl_event_list_free(&l);
    return r;
}
