#include "server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/secret.h"
#include "request.h"
#include "dynlib/libcurl.h"

struct listener {
    struct tkl_http_server *srv;
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer;
    bool handles; /* poll and timer initialised */
};

struct later;

struct tkl_http_server {
    struct tkl_http_server_host host;
    struct later *laters; /* the requests suspended, waiting for their page's answer */
    struct listener *v;
    size_t n;
    unsigned closing;  /* handles whose close callback has not run */
    bool stopping;     /* closing: no page may defer (MHD stops only with none suspended) */
    uint64_t later_ms; /* how long a request waits for its page's answer */
    char *cert, *key;  /* PEM, kept while MHD may read them */
    char addresses[512];
    unsigned char (*proxies)[16]; /* trusted proxies, IPv4 as ::ffff:a.b.c.d */
    size_t n_proxies;
};

/* A POST being read: routed at its headers, its body kept (up to
 * TKL_FORM_BODY_MAX) until the end. Also a GET or HEAD whose page answers
 * later: its routed request, no body. */
struct post_body {
    struct tkl_request req;
    char *data;
    size_t len, cap;
    bool too_big;        /* longer than TKL_FORM_BODY_MAX: answered 413 */
    bool oom;            /* could not be kept: answered 503 */
    struct later *later; /* the page answers later (tkl_http_later); NULL: now */
};

/*
 * A request whose page answers later: its connection is suspended
 * (MHD_suspend_connection) until the answer comes, then resumed and the
 * answer sent. A server closing meanwhile answers it 503 with Retry-After
 * itself. Freed once both the page answered and the connection let go of
 * it (sent, closed, or the server closed).
 */
struct later {
    struct tkl_http_later base; /* first: the page's handle */
    struct tkl_http_server *srv;
    struct listener *l; /* NULL once the connection let go */
    struct MHD_Connection *c;
    struct tkl_http_response resp; /* the answer to send, once has_resp */
    bool answered;                 /* the page answered */
    bool has_resp, suspended;
    /* the loop's ms: answered 503 if the page has not, so that a database
     * holding a lock does not hold the officer's page (http.timeout_seconds
     * after the request, as for a stalled connection) */
    uint64_t deadline;
    struct later *prev, *next; /* srv->laters, while the connection holds it */
};

/* What defer needs of the request being answered: a GET's state is
 * made (in *con_cls) only when its page defers. */
struct defer_ctx {
    struct tkl_http_server *srv;
    struct MHD_Connection *c;
    struct post_body *p;
    void **con_cls;
    const struct tkl_request *req;
};

#define STOP_RETRY_SECONDS 5 /* a request the server's close answers 503 */

/* The connection state of a GET or HEAD: nothing but "headers seen". */
static int seen;

/* Headers every answer carries: no script runs, nothing is framed or
 * sniffed, and no link leaks the page's address to another site. */
static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static void add_common_headers(struct MHD_Response *r, const struct tkl_http_response *resp)
{
    char n[16];
    (void)MHD_add_response_header(r, "Content-Security-Policy", csp);
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(r, "X-Frame-Options", "DENY");
    (void)MHD_add_response_header(r, "Referrer-Policy",
                                  resp->referrer ? resp->referrer : "no-referrer");
    if (resp->noindex)
        (void)MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    if (resp->location)
        (void)MHD_add_response_header(r, "Location", resp->location);
    if (resp->retry_after > 0) {
        snprintf(n, sizeof(n), "%d", resp->retry_after);
        (void)MHD_add_response_header(r, "Retry-After", n);
    }
}

/* RFC 9110's IMF-fixdate, independent of the locale. */
static void http_date(int64_t t, char buf[40])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Whether the client's copy is current (RFC 9110 13.1.2-3): If-None-Match
 * when sent, else If-Modified-Since. */
static bool not_modified(struct MHD_Connection *c, const struct tkl_http_response *resp,
                         int64_t now)
{
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm)
        return resp->etag[0] && tkl_etag_matches(inm, resp->etag);
    const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since");
    if (!ims || !resp->last_modified)
        return false;
    time_t since = sym_curl_getdate(ims, NULL);
    /* a date later than the server's clock is not one it gave: ignored */
    return since != -1 && (int64_t)since <= now && resp->last_modified <= (int64_t)since;
}

static void add_validators(struct MHD_Response *r, const struct tkl_http_response *resp)
{
    char date[40];
    if (resp->etag[0])
        (void)MHD_add_response_header(r, "ETag", resp->etag);
    if (resp->last_modified) {
        http_date(resp->last_modified, date);
        (void)MHD_add_response_header(r, "Last-Modified", date);
    }
    (void)MHD_add_response_header(r, "Cache-Control", resp->cache ? resp->cache : "no-store");
}

/* The methods route takes, for Allow. */
static const char *allowed(enum tkl_route route)
{
    return tkl_route_form(route) ? "GET, HEAD, POST" : "GET, HEAD";
}

/* Queues resp (its body passes to MHD) for route. A 304 carries the body
 * too: libmicrohttpd sends none with a 304 but gives its Content-Length,
 * which RFC 9110 (8.6) lets a 304 carry only as the full body's length;
 * an empty response would say 0, and libmicrohttpd 0.9.75 has no flag to
 * leave it out (MHD_RF_HEAD_ONLY_RESPONSE came later). Returns MHD's
 * answer. */
static enum MHD_Result queue(struct MHD_Connection *c, enum tkl_route route,
                             struct tkl_http_response *resp, bool head_304)
{
    struct MHD_Response *r;
    unsigned status = head_304 ? MHD_HTTP_NOT_MODIFIED : resp->status;
    if (!resp->body) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, free);
        if (r)
            resp->body = NULL;
    }
    if (!r)
        return MHD_NO;
    add_common_headers(r, resp);
    add_validators(r, resp);
    if (!head_304 && resp->content_type)
        (void)MHD_add_response_header(r, "Content-Type", resp->content_type);
    if (!head_304 && resp->disposition[0])
        (void)MHD_add_response_header(r, "Content-Disposition", resp->disposition);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        (void)MHD_add_response_header(r, "Allow", allowed(route));
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

struct query_ctx {
    struct tkl_request *req;
    int r;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct query_ctx *q = cls;
    int r = tkl_request_add_query(q->req, key, value);
    if (r < 0) {
        q->r = r;
        return MHD_NO;
    }
    return MHD_YES;
}

static bool get_or_head(const char *method)
{
    return !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

/* Whether a numeric address a (16 bytes, IPv4 mapped) is a trusted proxy. */
static bool trusted(const struct tkl_http_server *srv, const unsigned char *a)
{
    for (size_t i = 0; i < srv->n_proxies; i++)
        if (!memcmp(srv->proxies[i], a, 16))
            return true;
    return false;
}

/* Reads text (IPv4 or IPv6) into a (16 bytes, IPv4 mapped). */
static bool address_read(const char *text, unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (inet_pton(AF_INET6, text, a) == 1)
        return true;
    memcpy(a, mapped, sizeof(mapped));
    return inet_pton(AF_INET, text, a + 12) == 1;
}

/* Writes a (16 bytes, IPv4 mapped) as text: IPv4 as a.b.c.d. */
static void address_text(const unsigned char *a, char *buf, size_t len)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool v4 = !memcmp(a, mapped, sizeof(mapped));
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a + 12 : a, buf, (socklen_t)len))
        buf[0] = '\0';
}

/* The last address of an X-Forwarded-For value (the one the proxy saw)
 * into a. Returns whether there was one. */
static bool forwarded_for(const char *xff, unsigned char *a)
{
    const char *last = strrchr(xff, ',');
    char buf[64];
    last = last ? last + 1 : xff;
    last += strspn(last, " \t");
    size_t n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof(buf) || last[n + strspn(last + n, " \t")])
        return false;
    memcpy(buf, last, n);
    buf[n] = '\0';
    return address_read(buf, a);
}

/* The client's address as text into buf: the peer's, or the one a
 * trusted proxy forwarded for. "" when unknown. */
static void client_address(const struct tkl_http_server *srv, struct MHD_Connection *c, char *buf,
                           size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    unsigned char a[16] = {0};
    buf[0] = '\0';
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else if (sa && sa->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else {
        return;
    }
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    unsigned char fwd[16];
    if (xff && trusted(srv, a) && forwarded_for(xff, fwd))
        memcpy(a, fwd, sizeof(a));
    address_text(a, buf, len);
}

/* Answers a path no route takes, or a malformed one. Returns 0 or
 * -ENOMEM. */
static struct listener *listener_of(struct tkl_http_server *srv, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    for (size_t i = 0; ci && i < srv->n; i++)
        if (srv->v[i].d == ci->daemon)
            return &srv->v[i];
    return NULL;
}

static void later_unlink(struct later *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else if (x->srv->laters == x)
        x->srv->laters = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void on_timer(uv_timer_t *t);

/* x's answer resp (taken) to send: the connection resumed to send it at
 * MHD's next run (the listener's timer, at once). */
static void later_send(struct later *x, struct tkl_http_response *resp)
{
    x->has_resp = true;
    x->resp = *resp;
    resp->body = NULL;
    resp->location = NULL;
    resp->len = 0;
    if (x->suspended) {
        x->suspended = false;
        MHD_resume_connection(x->c);
        (void)uv_timer_start(&x->l->timer, on_timer, 0, 0);
    }
}

/* The page's answer: kept and sent (later_send); freed when the
 * connection let go already, or the request was answered meanwhile (its
 * wait ran out, or the server closing). */
static void later_answer(struct tkl_http_later *base, struct tkl_http_response *resp)
{
    struct later *x = (struct later *)base;
    if (x->answered) { /* a page that broke the contract: answered twice */
        tkl_http_response_free(resp);
        return;
    }
    x->answered = true;
    if (!x->l || x->has_resp) {
        tkl_http_response_free(resp);
        if (!x->l)
            free(x); /* the connection let go first */
        return;
    }
    later_send(x, resp);
}

/* The requests of listener l whose page has not answered by their
 * deadline (now) are answered 503; returns the earliest deadline of those
 * still waiting (now when one was answered, for MHD to run at once), or
 * UINT64_MAX. */
static uint64_t laters_expire(struct listener *l, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (struct later *x = l->srv->laters; x; x = x->next) {
        if (x->l != l || x->has_resp)
            continue;
        if (now < x->deadline) {
            next = x->deadline < next ? x->deadline : next;
            continue;
        }
        struct tkl_http_response resp = {0};
        if (tkl_http_text(&resp, 503,
                          "The database did not answer in time. Try again in a moment: an "
                          "answer sent twice is recorded once.") < 0)
            resp = (struct tkl_http_response){.status = 503};
        resp.retry_after = 5;
        resp.cache = "no-store";
        log_warning("http: a request waited %" PRIu64 " s for the state; answered 503",
                    l->srv->later_ms / 1000);
        later_send(x, &resp);
        next = now;
    }
    return next;
}

static struct tkl_http_later *defer(const struct tkl_http_request *req)
{
    struct defer_ctx *d = req->conn;
    if (!d || d->srv->stopping || (d->p && d->p->later))
        return NULL;
    struct listener *l = listener_of(d->srv, d->c);
    struct later *x = l ? calloc(1, sizeof(*x)) : NULL;
    if (!x)
        return NULL;
    if (!d->p) { /* a GET or HEAD: its state from now on */
        if (!(d->p = calloc(1, sizeof(*d->p)))) {
            free(x);
            return NULL;
        }
        d->p->req = *d->req;
        *d->con_cls = d->p;
    }
    x->base.answer = later_answer;
    x->srv = d->srv;
    x->l = l;
    x->c = d->c;
    x->deadline = uv_now(l->timer.loop) + d->srv->later_ms;
    x->next = d->srv->laters;
    if (x->next)
        x->next->prev = x;
    d->srv->laters = x;
    d->p->later = x;
    return &x->base;
}

/* The connection lets go of p's later (sent, closed): freed if the page
 * answered, else the page's answer frees it. */
static void later_let_go(struct later *x)
{
    later_unlink(x);
    x->l = NULL;
    tkl_http_response_free(&x->resp);
    x->resp = (struct tkl_http_response){0};
    if (x->answered)
        free(x);
}

static int route_refused(struct tkl_http_response *resp, int r)
{
    return tkl_http_text(resp, r == -ENOENT ? 404 : 400,
                         r == -ENOENT ? "Not found." : "Bad request path.");
}

/* The page's answer to the routed request req (its query read from c;
 * form the POST's, or NULL), or the server's own 400, 500 or 503; or,
 * when the page answers later, nothing yet (*con_cls the request's
 * post_body, its later set). Returns whether the answer is in resp. */
static bool call_page(struct tkl_http_server *srv, struct MHD_Connection *c,
                      struct tkl_request *req, const struct tkl_form *form, void **con_cls,
                      struct tkl_http_response *resp)
{
    int r;
    struct post_body *p = *con_cls != &seen ? *con_cls : NULL;
    struct defer_ctx d = {srv, c, p, con_cls, req};
    char client[INET6_ADDRSTRLEN];
    struct query_ctx q = {req, 0};
    (void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    client_address(srv, c, client, sizeof(client));
    struct tkl_http_request hr = {
        .req = req,
        .now = srv->host.now(srv->host.data),
        .post = form != NULL,
        .form = form,
        .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
        .referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer"),
        .client = client,
        .defer = defer,
        .conn = &d,
    };
    if (q.r < 0)
        r = tkl_http_text(resp, 400, "Unknown or malformed query argument.");
    else if ((r = srv->host.handle(srv->host.data, &hr, resp)) == TKL_HTTP_LATER && d.p &&
             d.p->later)
        return false;
    else if (r == TKL_HTTP_LATER)
        r = -EIO;          /* nothing taken to answer through */
    if (r == -ESHUTDOWN) { /* it cannot wait: the server is stopping */
        if ((r = tkl_http_text(resp, 503, "Stopping; try again shortly.")) == 0) {
            resp->retry_after = STOP_RETRY_SECONDS;
            resp->cache = "no-store";
        }
    } else if (r < 0) {
        r = tkl_http_text(resp, r == -EBUSY || r == -EAGAIN ? 503 : 500,
                          r == -EBUSY    ? "Busy: the outbox is locked; try again shortly."
                          : r == -EAGAIN ? "Not ready: the plan is being read; try again."
                                         : "Internal error; see the daemon's log.");
    }
    if (r < 0) /* out of memory: an empty answer */
        resp->status = 503;
    return true;
}

/* Fills resp for a GET or HEAD of url: the page's answer, or the server's
 * own 400, 404, 500 or 503. Returns false when the page answers later
 * (*con_cls then its post_body). */
static bool answer_get(struct tkl_http_server *srv, struct MHD_Connection *c, const char *url,
                       struct tkl_request *req, void **con_cls, struct tkl_http_response *resp)
{
    int r = tkl_request_route(url, req);
    if (r < 0) {
        req->route = TKL_ROUTE_COUNT;
        if (route_refused(resp, r) < 0)
            resp->status = 503;
        return true;
    }
    return call_page(srv, c, req, NULL, con_cls, resp);
}

/* Whether the Content-Length c announces is more than a form may have. */
static bool announced_too_big(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    return cl && strtoull(cl, NULL, 10) > TKL_FORM_BODY_MAX;
}

/* The token of the link whose page req is, or NULL: a POST refused there
 * links back to that page. */
static const char *link_of(const struct tkl_request *req)
{
    return req->route == TKL_ROUTE_ACT && req->token[0] ? req->token : NULL;
}

/*
 * At the headers of a request that is not GET or HEAD: a POST to a route
 * that takes one, url-encoded and not announced too long, is to be read
 * (*ret_post gets its state); anything else is answered in resp now,
 * before any body is read: 400, 404, 405, 413 or 415.
 */
static void headers_of_other(struct MHD_Connection *c, const char *method, const char *url,
                             struct tkl_request *req, struct tkl_http_response *resp,
                             struct post_body **ret_post)
{
    int r = tkl_request_route(url, req);
    if (r < 0) {
        req->route = TKL_ROUTE_COUNT;
        r = route_refused(resp, r);
    } else if (strcmp(method, MHD_HTTP_METHOD_POST) != 0 || !tkl_route_form(req->route)) {
        r = tkl_http_text(resp, 405,
                          tkl_route_form(req->route) ? "Only GET, HEAD and POST are served here."
                                                     : "Only GET and HEAD are served here.");
    } else if (!tkl_form_type_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"))) {
        r = tkl_http_post_refused(
            resp, 415, "Only forms (application/x-www-form-urlencoded) are taken.", link_of(req));
    } else if (announced_too_big(c)) {
        r = tkl_http_post_refused(resp, 413, "The form is too large.", link_of(req));
    } else {
        struct post_body *p = calloc(1, sizeof(*p));
        if (p) {
            p->req = *req;
            *ret_post = p;
            return;
        }
        r = -ENOMEM;
    }
    if (r < 0)
        resp->status = 503;
}

/* Keeps n more bytes of p's body, or notes that it is too long (and
 * keeps nothing more). */
static void keep_body(struct post_body *p, const char *data, size_t n)
{
    if (p->too_big || p->oom)
        return;
    if (n > TKL_FORM_BODY_MAX - p->len) {
        p->too_big = true;
        free(p->data);
        p->data = NULL;
        p->len = p->cap = 0;
        return;
    }
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        while (cap < p->len + n)
            cap *= 2;
        char *d = realloc(p->data, cap > TKL_FORM_BODY_MAX ? TKL_FORM_BODY_MAX : cap);
        if (!d) {
            p->oom = true;
            return;
        }
        p->data = d;
        p->cap = cap > TKL_FORM_BODY_MAX ? TKL_FORM_BODY_MAX : cap;
    }
    memcpy(p->data + p->len, data, n);
    p->len += n;
}

/* Fills resp for the POST p, read to its end: its form read and checked,
 * then the page's answer; or the server's 400, 413 or 503. Returns false
 * when the page answers later (p->later). */
static bool answer_post(struct tkl_http_server *srv, struct MHD_Connection *c, struct post_body *p,
                        struct tkl_http_response *resp)
{
    bool now = true;
    struct tkl_form form;
    char why[200];
    if (p->too_big || p->oom) {
        if (tkl_http_post_refused(resp, p->oom ? 503 : 413,
                                  p->oom ? "Out of memory; try again." : "The form is too large.",
                                  link_of(&p->req)) < 0)
            resp->status = 503;
        return true;
    }
    tkl_form_init(&form, tkl_route_form(p->req.route));
    int r = tkl_form_read(&form, c, p->data ? p->data : "", p->len);
    if (r < 0) {
        tkl_form_why(&form, why, sizeof(why));
        if (tkl_http_post_refused(resp, r == -ENOMEM ? 503 : 400, why, link_of(&p->req)) < 0)
            resp->status = 503;
    } else {
        void *con_cls = p;
        now = call_page(srv, c, &p->req, &form, &con_cls, resp);
    }
    tkl_form_free(&form);
    return now;
}

/* Sends resp (304 for a GET or HEAD the client has current), tells the
 * host, frees resp. No log line names more than the route. */
static enum MHD_Result finish(struct tkl_http_server *srv, struct MHD_Connection *c,
                              const char *method, const struct tkl_request *req,
                              struct tkl_http_response *resp)
{
    bool fresh = get_or_head(method) && resp->status == 200 &&
                 not_modified(c, resp, srv->host.now(srv->host.data));
    unsigned code = fresh ? 304 : resp->status;
    enum MHD_Result ok = queue(c, req->route, resp, fresh);
    log_debug("http: %s %s %u", method, tkl_route_name(req->route), code);
    if (srv->host.answered)
        srv->host.answered(srv->host.data, req->route, code);
    tkl_http_response_free(resp);
    return ok;
}

/* The request p whose page answers later: its connection suspended until
 * the answer comes (sent at once when the page broke the contract and
 * answered already). */
static enum MHD_Result suspend(struct tkl_http_server *srv, struct MHD_Connection *c,
                               const char *method, struct post_body *p)
{
    if (p->later->has_resp) {
        struct tkl_http_response resp = p->later->resp;
        p->later->resp = (struct tkl_http_response){0};
        return finish(srv, c, method, &p->req, &resp);
    }
    MHD_suspend_connection(c);
    p->later->suspended = true;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct tkl_http_server *srv = cls;
    struct tkl_request req = {.route = TKL_ROUTE_COUNT};
    struct tkl_http_response resp = {.status = 200};
    bool gh = get_or_head(method);
    (void)version;
    if (!*con_cls) { /* the headers */
        struct post_body *p = NULL;
        if (gh) { /* wait for the end of the request */
            *con_cls = &seen;
            return MHD_YES;
        }
        headers_of_other(c, method, url, &req, &resp, &p);
        if (p) {
            *con_cls = p;
            return MHD_YES;
        }
        return finish(srv, c, method, &req, &resp);
    }
    if (*upload_data_size) { /* a piece of the body: a GET's is discarded */
        if (*con_cls != &seen)
            keep_body(*con_cls, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*con_cls == &seen) {
        if (answer_get(srv, c, url, &req, con_cls, &resp))
            return finish(srv, c, method, &req, &resp);
        return suspend(srv, c, method, *con_cls);
    }
    struct post_body *p = *con_cls;
    req = p->req;
    if (p->later) { /* resumed: the answer came (else not yet) */
        if (!p->later->has_resp)
            return MHD_YES;
        resp = p->later->resp;
        p->later->resp = (struct tkl_http_response){0};
        return finish(srv, c, method, &req, &resp);
    }
    if (!answer_post(srv, c, p, &resp))
        return suspend(srv, c, method, p);
    return finish(srv, c, method, &req, &resp);
}

/* The end of a request, answered or not: what a POST kept is freed. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    if (*con_cls && *con_cls != &seen) {
        struct post_body *p = *con_cls;
        if (p->later)
            later_let_go(p->later);
        free(p->data);
        free(p);
    }
    *con_cls = NULL;
}

static void run(struct listener *l);

/* Also MHD's run for a connection resumed (later_answer). */
static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

/* The timer from MHD's own: none while no connection is open. */
static void arm(struct listener *l)
{
    MHD_UNSIGNED_LONG_LONG ms;
    uint64_t now = uv_now(l->timer.loop), next = laters_expire(l, now);
    uint64_t wait = next == UINT64_MAX ? UINT64_MAX : next - now;
    if (MHD_get_timeout(l->d, &ms) == MHD_YES && ms < wait)
        wait = ms;
    if (wait != UINT64_MAX)
        (void)uv_timer_start(&l->timer, on_timer, wait > 86400000ULL ? 86400000ULL : wait, 0);
    else
        (void)uv_timer_stop(&l->timer);
}

static void run(struct listener *l)
{
    (void)MHD_run(l->d);
    arm(l);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run(p->data);
}

/*
 * Decodes a request's path or query argument in place, as libmicrohttpd
 * would, except that a decoded NUL ("%00"), which would cut the text
 * short unseen, turns it into a control character that request.c
 * refuses (400). Returns the new length.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
    (void)cls;
    (void)c;
    size_t n = MHD_http_unescape(uri);
    if (strlen(uri) != n) {
        uri[0] = '\x01';
        uri[1] = '\0';
        return 1;
    }
    return n;
}

/* libmicrohttpd's messages (refused connections, TLS handshakes). */
/* Cuts every signed link's token out of text (libmicrohttpd names the
 * URL of a request it failed to answer): "/a/<token>" becomes "/a/...". */
static void redact_tokens(char *text)
{
    for (char *p = strstr(text, "/a/"); p; p = strstr(p, "/a/")) {
        p += 3;
        size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
        if (n >= 3) {
            memmove(p + 3, p + n, strlen(p + n) + 1);
            p[0] = p[1] = p[2] = '.';
        } else {
            memset(p, '.', n);
        }
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\r\n")] = '\0';
    redact_tokens(buf);
    log_debug("http: %.255s", buf); /* per connection: refusals, TLS handshakes */
}

/* A listening socket for a checked listen entry. Returns the fd or a
 * negative errno. "*" is every address, IPv6 and IPv4 where IPv6 is
 * there; "localhost" is 127.0.0.1. */
static int open_socket(const char *entry)
{
    char host[64];
    unsigned port;
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    if (tkl_http_listen_split(entry, host, &port) < 0)
        return -EINVAL;
    bool any = !*host, v6 = strchr(host, ':') != NULL;
    a6.sin6_port = a4.sin_port = htons((uint16_t)port);
    if (v6 && inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
        return -EINVAL;
    if (!v6 && !any &&
        inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &a4.sin_addr) != 1)
        return -EINVAL;
    int fd = (v6 || any) ? socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
    if (fd < 0 && any) /* no IPv6 here: IPv4 only */
        v6 = false;
    else if (any)
        v6 = true; /* in6addr_any, both families */
    if (fd < 0 && !v6 && (fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    int one = 1, only6 = !any;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only6, sizeof(only6)) < 0) ||
        (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
            : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) < 0 ||
        listen(fd, 128) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

/* The address a listening socket is bound to, as "[::1]:8470". */
static void socket_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        ss.ss_family = AF_UNSPEC;
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(buf, len, "[%s]:%u", host, port);
        return;
    }
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    snprintf(buf, len, "%s:%u", host, port);
}

/* Starts MHD on listening socket fd (MHD owns it from here, even on
 * failure) and the loop's handles for it. Returns 0 or a negative errno. */
static int listener_start(struct tkl_http_server *srv, struct listener *l, uv_loop_t *loop,
                          const struct tkl_http_conf *conf, int fd)
{
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, conf->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_per_ip, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout_seconds, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, conf->max_request_bytes, NULL},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {srv->key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->key},
        {srv->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->cert},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags =
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | (srv->key ? MHD_USE_TLS : 0);
    l->srv = srv;
    /* the logger first, so that MHD reports nothing elsewhere */
    l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
                            on_mhd_log, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!l->d) {
        close(fd);
        return -EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
    int r = info ? uv_poll_init(loop, &l->poll, info->epoll_fd) : UV_EINVAL;
    if (r < 0) {
        MHD_stop_daemon(l->d);
        l->d = NULL;
        return r;
    }
    (void)uv_timer_init(loop, &l->timer); /* cannot fail */
    l->poll.data = l->timer.data = l;
    l->handles = true;
    (void)uv_poll_start(&l->poll, UV_READABLE, on_poll);
    arm(l);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    struct tkl_http_server *srv = l->srv;
    if (--srv->closing)
        return;
    free(srv->v);
    tkl_secret_free(srv->key);
    free(srv->cert);
    free(srv->proxies);
    free(srv);
}

void tkl_http_server_close(struct tkl_http_server *srv)
{
    if (!srv)
        return;
    /* MHD stops only with no connection suspended: those still waiting
     * for their page are resumed and answered 503 with Retry-After, as
     * far as one run of MHD sends it (the page's answer, when it comes,
     * is freed) */
    bool resumed = false;
    srv->stopping = true; /* the run below may call pages */
    for (struct later *x = srv->laters; x; x = x->next) {
        resumed = resumed || x->has_resp; /* answered, not yet sent */
        if (x->suspended) {
            x->suspended = false;
            if (tkl_http_text(&x->resp, 503, "Stopping; try again shortly.") < 0)
                x->resp.status = 503;
            x->resp.retry_after = STOP_RETRY_SECONDS;
            x->resp.cache = "no-store";
            x->has_resp = true;
            MHD_resume_connection(x->c);
            resumed = true;
        }
    }
    for (size_t i = 0; resumed && i < srv->n; i++)
        if (srv->v[i].d)
            (void)MHD_run(srv->v[i].d);
    for (size_t i = 0; i < srv->n; i++) {
        struct listener *l = &srv->v[i];
        if (l->handles) {
            /* out of libuv's epoll before MHD closes its epoll fd */
            (void)uv_poll_stop(&l->poll);
            uv_close((uv_handle_t *)&l->poll, on_closed);
            uv_close((uv_handle_t *)&l->timer, on_closed);
            srv->closing += 2;
        }
        if (l->d)
            MHD_stop_daemon(l->d);
        l->d = NULL;
    }
    while (srv->laters) { /* not told by MHD: let go here */
        struct later *x = srv->laters;
        srv->laters = x->next;
        if (x->next)
            x->next->prev = NULL;
        x->next = NULL;
        later_let_go(x); /* unlinked already */
    }
    if (!srv->closing) {
        free(srv->v);
        tkl_secret_free(srv->key);
        free(srv->cert);
        free(srv->proxies);
        free(srv);
    }
}

const char *tkl_http_server_addresses(const struct tkl_http_server *srv)
{
    return srv->addresses;
}

static int read_tls(struct tkl_http_server *srv, const struct tkl_http_conf *conf, char *err,
                    size_t err_len)
{
    int r;
    if (!conf->tls_certificate)
        return 0;
    if ((r = tkl_secret_read_text(NULL, conf->tls_certificate, &srv->cert)) < 0) {
        snprintf(err, err_len, "http.tls_certificate %s: %s", conf->tls_certificate,
                 tkl_secret_strerror(r));
        return r;
    }
    if ((r = tkl_secret_read_text(NULL, conf->tls_key, &srv->key)) < 0) {
        snprintf(err, err_len, "http.tls_key %s: %s", conf->tls_key, tkl_secret_strerror(r));
        return r;
    }
    return 0;
}

/* The trusted proxies of conf, as numbers. */
static int read_proxies(struct tkl_http_server *srv, const struct tkl_http_conf *conf, char *err,
                        size_t err_len)
{
    if (!conf->n_trusted_proxies)
        return 0;
    srv->proxies = calloc(conf->n_trusted_proxies, sizeof(*srv->proxies));
    if (!srv->proxies) {
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < conf->n_trusted_proxies; i++) {
        if (!address_read(conf->trusted_proxies[i], srv->proxies[i])) {
            snprintf(err, err_len, "http.trusted_proxies: \"%s\" is not an address",
                     conf->trusted_proxies[i]);
            return -EINVAL;
        }
    }
    srv->n_proxies = conf->n_trusted_proxies;
    return 0;
}

/* Opens (or takes) the nth socket and starts its listener. */
static int start_nth(struct tkl_http_server *srv, uv_loop_t *loop, const struct tkl_http_conf *conf,
                     const int *fds, size_t n_fds, size_t i, char *err, size_t err_len)
{
    int fd = n_fds ? dup(fds[i]) : open_socket(conf->listen[i]);
    if (fd < 0) {
        int r = n_fds ? -errno : fd;
        snprintf(err, err_len, "cannot listen on %s: %s",
                 n_fds ? "the socket systemd passed" : conf->listen[i], strerror(-r));
        return r;
    }
    char name[80];
    socket_name(fd, name, sizeof(name));
    size_t used = strlen(srv->addresses);
    snprintf(srv->addresses + used, sizeof(srv->addresses) - used, "%s%s", used ? ", " : "", name);
    int r = listener_start(srv, &srv->v[i], loop, conf, fd);
    if (r < 0)
        snprintf(err, err_len, "cannot serve HTTP%s on %s (libmicrohttpd refused%s)",
                 srv->key ? "S" : "", name,
                 srv->key ? "; are the certificate and key a pair?" : "");
    srv->n = i + 1;
    return r;
}

int tkl_http_server_start(uv_loop_t *loop, const struct tkl_http_conf *conf, const int *fds,
                          size_t n_fds, const struct tkl_http_server_host *host,
                          struct tkl_http_server **ret, char *err, size_t err_len)
{
    size_t n = n_fds ? n_fds : conf->n_listen;
    int r = tkl_libcurl_load(err, err_len); /* for curl_getdate */
    if (r < 0)
        return r;
    struct tkl_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv || !(srv->v = calloc(n ? n : 1, sizeof(*srv->v)))) {
        free(srv);
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    srv->host = *host;
    srv->later_ms = (uint64_t)(conf->timeout_seconds > 0 ? conf->timeout_seconds : 30) * 1000;
    r = read_proxies(srv, conf, err, err_len);
    if (r == 0)
        r = read_tls(srv, conf, err, err_len);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = start_nth(srv, loop, conf, fds, n_fds, i, err, err_len);
    if (r < 0) {
        /* freed at once, or by the last close callback of its handles */
        tkl_http_server_close(srv);
        return r; // NOLINT(clang-analyzer-unix.Malloc)
    }
    *ret = srv;
    return 0;
}
