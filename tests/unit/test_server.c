/* Tests for daemon/http/server.c: libmicrohttpd on a real libuv loop,
 * answering real clients (libcurl, and raw sockets, in a thread of their
 * own while the loop runs here): pages are called with the parsed route,
 * every answer carries the security headers, conditional GETs get 304,
 * HEAD gets no body, other methods 405, bad paths and queries 400, page
 * errors 500 or 503; a POST reaches the link's page only, with its form
 * read, its Origin and Referer and the client's address (a trusted
 * proxy's X-Forwarded-For), and is refused otherwise (405, 413, 415, 400
 * for a bad form) before the page is asked; what a page sets (Location,
 * Retry-After, Referrer-Policy, X-Robots-Tag) is sent; a POST or GET whose
 * page answers later is sent its answer then, or 503 with Retry-After when
 * the server closes first (the late answer freed); a client that sends nothing is closed at the
 * timeout while others are served; the per-address limit holds; HTTPS works with a certificate and
 * key; sockets passed in (systemd) are served; and closing leaves no handle: uv_loop_close()
 * returns 0 in every test. */
#include <check.h>

#include "check_run.h"
#include "refused_port.h"
#include "loop_wait.h"
#include "tmpdir.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/server.h"

static uv_loop_t loop;
static struct tkl_http_server *srv;
static int port;
static int answered[TKL_ROUTE_COUNT + 1][600];
static int page_calls;
static int page_error; /* what the page returns */
static char last_team[256];
static char last_post[1024]; /* what the page saw of a POST */
/* a POST's page answering later (tkl_http_later): the handle it took,
 * the timer that runs later_step after later_ms */
static bool later_mode;
static struct tkl_http_later *held;
static uv_timer_t later_timer;
static unsigned later_ms;
static void (*later_step)(void);
static bool later_ran;

static void on_later_timer(uv_timer_t *t)
{
    (void)t;
    later_step();
    later_ran = true;
}

/* ---- the page and the server ------------------------------------------ */

static int page(void *data, const struct tkl_http_request *req, struct tkl_http_response *resp)
{
    (void)data;
    page_calls++;
    if (page_error)
        return page_error;
    if (later_mode) {
        if (!req->defer || !(held = req->defer(req)))
            return -ENOMEM;
        (void)uv_timer_start(&later_timer, on_later_timer, later_ms, 0);
        return TKL_HTTP_LATER;
    }
    const char *team = tkl_request_get(req->req, "team", 0);
    snprintf(last_team, sizeof(last_team), "%s", team ? team : "");
    if (req->post) {
        const char *note = tkl_form_get(req->form, "note");
        snprintf(last_post, sizeof(last_post),
                 "token=%s do=%s note=%s origin=%s referer=%s client=%s", req->req->token,
                 tkl_form_get(req->form, "do"), note ? note : "(none)",
                 req->origin ? req->origin : "(none)", req->referer ? req->referer : "(none)",
                 req->client);
        resp->status = 303;
        resp->location = strdup("http://t.example/a/x?done=complete");
        resp->referrer = "same-origin";
        resp->noindex = true;
        resp->retry_after = 7;
    }
    char *body = NULL;
    if (asprintf(&body, "route %s arg %s now %lld\n", tkl_route_name(req->req->route),
                 req->req->arg, (long long)req->now) < 0)
        return -ENOMEM;
    tkl_http_take(resp, "text/plain; charset=utf-8", body, strlen(body));
    if (req->req->route == TKL_ROUTE_CALENDAR_ICS) {
        tkl_http_etag_body(resp);
        resp->last_modified = 1700000000;
        resp->cache = "public, max-age=60";
    }
    return 0;
}

static void on_answered(void *data, enum tkl_route route, unsigned code)
{
    (void)data;
    if (code < 600)
        answered[route][code]++;
}

static int64_t clock_now(void *data)
{
    (void)data;
    return 1800000000;
}

static const struct tkl_http_server_host host = {page, on_answered, clock_now, NULL};

/* A loopback port free a moment ago, for the server to listen on. */
static int free_port(void)
{
    int fd, p = tkl_refused_port(&fd);
    close(fd);
    return p;
}

static char listen_buf[64];
static char *listen_v[2] = {listen_buf, NULL};

static struct tkl_http_conf conf_for(int p)
{
    struct tkl_http_conf c;
    tkl_http_conf_init(&c);
    snprintf(listen_buf, sizeof(listen_buf), "127.0.0.1:%d", p);
    c.listen = listen_v;
    c.n_listen = 1;
    return c;
}

static void start(const struct tkl_http_conf *c)
{
    char err[256] = "";
    int r = tkl_http_server_start(&loop, c, NULL, 0, &host, &srv, err, sizeof(err));
    ck_assert_msg(r == 0, "%s", err);
}

/* start(c), each POST's or GET's page then answering later: step runs
 * ms after the page took its handle (held). */
static void start_later(const struct tkl_http_conf *c, unsigned ms, void (*step)(void))
{
    start(c);
    later_mode = true;
    later_ms = ms;
    later_step = step;
}

static void setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &later_timer), 0);
    memset(answered, 0, sizeof(answered));
    page_calls = page_error = 0;
    later_mode = later_ran = false;
    held = NULL;
    last_post[0] = '\0';
    srv = NULL;
    port = free_port();
}

static void teardown(void)
{
    tkl_http_server_close(srv);
    srv = NULL;
    uv_close((uv_handle_t *)&later_timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* ---- the clients, in a thread while the loop runs --------------------- */

struct fetch {
    const char *method; /* NULL: GET */
    char path[256];
    const char *header; /* one extra request header, or NULL */
    const char *header2;
    const char *send;   /* a POST's body: "a=1" when NULL */
    bool chunked;       /* sent without a length */
    const char *cainfo; /* https with this CA */
    long timeout_ms;    /* the client gives up after this; 0: 20 s */
    long status;
    char body[8192];
    size_t body_len;
    char headers[8192];
    size_t headers_len;
    CURLcode rc;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t len = size * n, room = sizeof(f->body) - 1 - f->body_len;
    memcpy(f->body + f->body_len, p, len < room ? len : room);
    f->body_len += len < room ? len : room;
    f->body[f->body_len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t len = size * n, room = sizeof(f->headers) - 1 - f->headers_len;
    memcpy(f->headers + f->headers_len, p, len < room ? len : room);
    f->headers_len += len < room ? len : room;
    f->headers[f->headers_len] = '\0';
    return len;
}

static void do_fetch(struct fetch *f)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hs = f->header ? curl_slist_append(NULL, f->header) : NULL;
    if (f->header2)
        hs = curl_slist_append(hs, f->header2);
    if (f->chunked)
        hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
    char url[512];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", f->cainfo ? "https" : "http", port, f->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, f->timeout_ms ? f->timeout_ms : 20000L);
    if (f->cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, f->cainfo);
    if (hs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (f->method && !strcmp(f->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (f->method && !strcmp(f->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, f->send ? f->send : "a=1");
        if (!f->chunked)
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)strlen(f->send ? f->send : "a=1"));
    } else if (f->method) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, f->method);
    }
    f->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hs);
}

struct job {
    void (*fn)(void *arg);
    void *arg;
    atomic_bool done;
    uv_async_t wake; /* the loop hears of the end */
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    j->fn(j->arg);
    atomic_store(&j->done, true);
    uv_async_send(&j->wake);
    return NULL;
}

static void on_wake(uv_async_t *a)
{
    (void)a;
}

static bool job_done(void *arg)
{
    return atomic_load(&((struct job *)arg)->done);
}

/* Runs fn(arg) in a thread while the loop serves; fails if it hangs. */
static void run_client(void (*fn)(void *), void *arg)
{
    struct job j = {fn, arg, false, {0}};
    pthread_t t;
    bool closed = false;
    ck_assert_int_eq(uv_async_init(&loop, &j.wake, on_wake), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, job_main, &j), 0);
    bool finished = tkl_run_until(&loop, job_done, &j, 50000);
    ck_assert_msg(finished, "the client did not finish");
    pthread_join(t, NULL);
    j.wake.data = &closed;
    uv_close((uv_handle_t *)&j.wake, tkl_wait_closed);
    while (!closed)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static void fetch_fn(void *arg)
{
    do_fetch(arg);
}

static struct fetch get(const char *path, const char *method, const char *header)
{
    struct fetch f = {.method = method, .header = header};
    snprintf(f.path, sizeof(f.path), "%s", path);
    run_client(fetch_fn, &f);
    ck_assert_msg(f.rc == CURLE_OK, "%s: %s", path, curl_easy_strerror(f.rc));
    return f;
}

/* The value of header name in f's answer, or "" (case-insensitive). */
static const char *header_of(const struct fetch *f, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    buf[0] = '\0';
    for (const char *p = f->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1 + strspn(p + n + 1, " ");
            size_t vl = strcspn(v, "\r\n");
            snprintf(buf, len, "%.*s", (int)(vl < len ? vl : len - 1), v);
            break;
        }
    }
    return buf;
}

/* ---- the tests --------------------------------------------------------- */

START_TEST(a_page_gets_its_route_and_every_answer_the_safety_headers)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    char buf[512];
    struct fetch f = get("/status?team=housing", NULL, NULL);
    ck_assert_int_eq(f.status, 200);
    ck_assert_str_eq(f.body, "route /status arg  now 1800000000\n");
    ck_assert_str_eq(last_team, "housing");
    ck_assert_str_eq(header_of(&f, "Content-Type", buf, sizeof(buf)), "text/plain; charset=utf-8");
    ck_assert_ptr_nonnull(
        strstr(header_of(&f, "Content-Security-Policy", buf, sizeof(buf)), "default-src 'none'"));
    ck_assert_str_eq(header_of(&f, "X-Content-Type-Options", buf, sizeof(buf)), "nosniff");
    ck_assert_str_eq(header_of(&f, "Referrer-Policy", buf, sizeof(buf)), "no-referrer");
    ck_assert_str_eq(header_of(&f, "Cache-Control", buf, sizeof(buf)), "no-store");
    f = get("/calendar/sexual-orientation.ics", NULL, NULL);
    ck_assert_str_eq(f.body,
                     "route /calendar/{category}.ics arg sexual-orientation now 1800000000\n");
    /* the feeds ignore what calendar clients and shared links add */
    f = get("/calendar/sexual-orientation.ics?token=abc&x", NULL, NULL);
    ck_assert_int_eq(f.status, 200);
    ck_assert_str_eq(f.body,
                     "route /calendar/{category}.ics arg sexual-orientation now 1800000000\n");
    ck_assert_int_eq(get("/calendar.ics?x=1", NULL, NULL).status, 200);
    ck_assert_int_eq(answered[TKL_ROUTE_STATUS_HTML][200], 1);
    ck_assert_int_eq(answered[TKL_ROUTE_CATEGORY_ICS][200], 2);
}
END_TEST

START_TEST(what_no_page_takes_is_refused_by_the_server)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    char buf[128];
    ck_assert_int_eq(get("/nowhere", NULL, NULL).status, 404);
    ck_assert_int_eq(get("/calendar/Not_A_Slug.ics", NULL, NULL).status, 404);
    ck_assert_int_eq(get("/calendar/../status", NULL, NULL).status, 400);
    ck_assert_int_eq(get("/status?bogus=1", NULL, NULL).status, 400);
    /* a decoded NUL would cut the path or a value short unseen */
    ck_assert_int_eq(get("/status%00.css", NULL, NULL).status, 400);
    ck_assert_int_eq(get("/status?team=a%00b", NULL, NULL).status, 400);
    ck_assert_int_eq(get("/metrics?team=x", NULL, NULL).status, 400);
    struct fetch f = get("/status", "POST", NULL);
    ck_assert_int_eq(f.status, 405);
    ck_assert_str_eq(header_of(&f, "Allow", buf, sizeof(buf)), "GET, HEAD");
    ck_assert_ptr_nonnull(
        strstr(header_of(&f, "Content-Security-Policy", buf, sizeof(buf)), "default-src 'none'"));
    ck_assert_int_eq(page_calls, 0);
    ck_assert_int_eq(answered[TKL_ROUTE_COUNT][404], 2);
    ck_assert_int_eq(answered[TKL_ROUTE_COUNT][400], 2);
    ck_assert_int_eq(answered[TKL_ROUTE_STATUS_HTML][400], 2);
    page_error = -EBUSY;
    ck_assert_int_eq(get("/healthz", NULL, NULL).status, 503);
    page_error = -EAGAIN;
    ck_assert_int_eq(get("/healthz", NULL, NULL).status, 503);
    /* a page that could not wait, the server stopping */
    page_error = -ESHUTDOWN;
    f = get("/healthz", NULL, NULL);
    ck_assert_int_eq(f.status, 503);
    ck_assert_str_eq(header_of(&f, "Retry-After", buf, sizeof(buf)), "5");
    ck_assert_ptr_nonnull(strstr(f.body, "Stopping"));
    page_error = -EIO;
    f = get("/healthz", NULL, NULL);
    ck_assert_int_eq(f.status, 500);
    ck_assert_ptr_nonnull(strstr(f.body, "Internal error"));
}
END_TEST

static struct fetch post(const char *path, const char *body, const char *header,
                         const char *header2)
{
    struct fetch f = {.method = "POST", .header = header, .header2 = header2, .send = body};
    snprintf(f.path, sizeof(f.path), "%s", path);
    run_client(fetch_fn, &f);
    ck_assert_msg(f.rc == CURLE_OK, "%s: %s", path, curl_easy_strerror(f.rc));
    return f;
}

#define FORM "Content-Type: application/x-www-form-urlencoded"

START_TEST(a_post_reaches_the_link_page_with_its_form)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    char buf[256];
    struct fetch f = post("/a/AbC-_9", "token=AbC-_9&do=progress&note=On+track%0D%0Adone+soon",
                          FORM, "Origin: https://tickler.example");
    ck_assert_int_eq(f.status, 303);
    ck_assert_str_eq(last_post, "token=AbC-_9 do=progress note=On track\ndone soon "
                                "origin=https://tickler.example referer=(none) client=127.0.0.1");
    ck_assert_str_eq(header_of(&f, "Location", buf, sizeof(buf)),
                     "http://t.example/a/x?done=complete");
    ck_assert_str_eq(header_of(&f, "Referrer-Policy", buf, sizeof(buf)), "same-origin");
    ck_assert_str_eq(header_of(&f, "X-Robots-Tag", buf, sizeof(buf)), "noindex, nofollow");
    ck_assert_str_eq(header_of(&f, "Retry-After", buf, sizeof(buf)), "7");
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][303], 1);
    /* a charset parameter is fine; the Referer is handed over too */
    f = post("/a/x", "do=complete",
             "Content-Type: application/x-www-form-urlencoded; charset=UTF-8",
             "Referer: https://tickler.example/a/x");
    ck_assert_int_eq(f.status, 303);
    ck_assert_ptr_nonnull(strstr(last_post, "referer=https://tickler.example/a/x"));
    /* the same page by GET: no form */
    last_post[0] = '\0';
    ck_assert_int_eq(get("/a/x", NULL, NULL).status, 200);
    ck_assert_str_eq(last_post, "");
    ck_assert_int_eq(page_calls, 3);
}
END_TEST

/* The held POST's answer: 303 to the page. */
static void answer_held(void)
{
    struct tkl_http_response resp = {.status = 303};
    resp.location = strdup("http://t.example/a/x?done=later");
    char *body = strdup("recorded\n");
    ck_assert_ptr_nonnull(body);
    tkl_http_take(&resp, "text/plain; charset=utf-8", body, strlen(body));
    held->answer(held, &resp);
    tkl_http_response_free(&resp);
    held = NULL;
}

/* The server closes with the POST waiting, then the page answers. */
static void close_then_answer(void)
{
    tkl_http_server_close(srv);
    srv = NULL;
    answer_held();
}

static bool later_done(void *arg)
{
    (void)arg;
    return later_ran;
}

START_TEST(a_post_answered_later_is_sent_when_the_page_answers)
{
    struct tkl_http_conf c = conf_for(port);
    start_later(&c, 200, answer_held);
    char buf[256];
    struct fetch f = post("/a/x", "token=x&do=complete", FORM, NULL);
    ck_assert_int_eq(f.status, 303);
    ck_assert_str_eq(header_of(&f, "Location", buf, sizeof(buf)),
                     "http://t.example/a/x?done=later");
    ck_assert_str_eq(f.body, "recorded\n");
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][303], 1);
    /* the connection serves the next request as before */
    later_mode = false;
    ck_assert_int_eq(get("/a/x", NULL, NULL).status, 200);
}
END_TEST

START_TEST(a_post_waiting_when_the_server_closes_is_answered_503_and_its_late_answer_freed)
{
    struct tkl_http_conf c = conf_for(port);
    start_later(&c, 200, close_then_answer);
    struct fetch f = {.method = "POST", .header = FORM, .send = "token=x&do=complete"};
    snprintf(f.path, sizeof(f.path), "/a/x");
    char buf[64];
    run_client(fetch_fn, &f);
    ck_assert(later_ran);
    ck_assert_int_eq(f.rc, CURLE_OK); /* answered, not left hanging */
    ck_assert_int_eq(f.status, 503);
    ck_assert_str_eq(header_of(&f, "Retry-After", buf, sizeof(buf)), "5");
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][303], 0);
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][503], 1);
}
END_TEST

/* A page that has not answered in http.timeout_seconds: the POST is
 * answered 503 (try again), and the page's late answer is let go. */
START_TEST(a_post_whose_page_does_not_answer_in_time_is_answered_503)
{
    struct tkl_http_conf c = conf_for(port);
    c.timeout_seconds = 1;
    start_later(&c, 2500, answer_held);
    char buf[64];
    struct fetch f = post("/a/x", "token=x&do=complete", FORM, NULL);
    ck_assert_int_eq(f.status, 503);
    ck_assert_str_eq(header_of(&f, "Retry-After", buf, sizeof(buf)), "5");
    ck_assert(strstr(f.body, "did not answer in time") != NULL);
    ck_assert(!later_ran); /* answered before the page did */
    ck_assert(tkl_run_until(&loop, later_done, NULL, 20000));
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][303], 0);
    /* the server goes on serving */
    later_mode = false;
    ck_assert_int_eq(get("/a/x", NULL, NULL).status, 200);
}
END_TEST

START_TEST(a_post_whose_client_went_is_let_go_when_the_page_answers)
{
    struct tkl_http_conf c = conf_for(port);
    start_later(&c, 1500, answer_held);
    struct fetch f = {
        .method = "POST", .header = FORM, .send = "token=x&do=complete", .timeout_ms = 300};
    snprintf(f.path, sizeof(f.path), "/a/x");
    run_client(fetch_fn, &f);
    ck_assert_int_eq(f.rc, CURLE_OPERATION_TIMEDOUT);
    ck_assert(tkl_run_until(&loop, later_done, NULL, 20000));
    /* the server goes on serving */
    later_mode = false;
    ck_assert_int_eq(get("/a/x", NULL, NULL).status, 200);
}
END_TEST

START_TEST(posts_the_page_cannot_take_are_refused_before_it_is_asked)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    char buf[256];
    /* a route without a form: 405, and Allow says what it takes */
    struct fetch f = post("/status", "do=x", FORM, NULL);
    ck_assert_int_eq(f.status, 405);
    ck_assert_str_eq(header_of(&f, "Allow", buf, sizeof(buf)), "GET, HEAD");
    f = get("/a/x", "PUT", NULL);
    ck_assert_int_eq(f.status, 405);
    ck_assert_str_eq(header_of(&f, "Allow", buf, sizeof(buf)), "GET, HEAD, POST");
    ck_assert_int_eq(post("/nowhere", "do=x", FORM, NULL).status, 404);
    /* not a form */
    ck_assert_int_eq(post("/a/x", "{\"do\":1}", "Content-Type: application/json", NULL).status,
                     415);
    ck_assert_int_eq(post("/a/x", "do=x", "Content-Type: text/plain", NULL).status, 415);
    f = post("/a/x", "--b\r\n\r\n--b--\r\n", "Content-Type: multipart/form-data; boundary=b", NULL);
    ck_assert_int_eq(f.status, 415);
    /* a bad form: the page says why, and links back to the link's page */
    f = post("/a/x", "do=a&do=b", FORM, NULL);
    ck_assert_int_eq(f.status, 400);
    ck_assert_str_eq(header_of(&f, "Content-Type", buf, sizeof(buf)), "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(f.body, "<p>The field &quot;do&quot; is sent twice.</p>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<a href=\"x\">Back to the action</a>"));
    f = post("/a/x", "do=x", "Content-Type: text/plain", NULL);
    ck_assert_ptr_nonnull(strstr(f.body, "<a href=\"x\">Back to the action</a>"));
    /* no link: no page to go back to */
    f = post("/a/x.y", "do=a&do=b", FORM, NULL);
    ck_assert_int_eq(f.status, 400);
    ck_assert_str_eq(header_of(&f, "Content-Type", buf, sizeof(buf)), "text/plain; charset=utf-8");
    ck_assert_int_eq(post("/a/x", "admin=1", FORM, NULL).status, 400);
    ck_assert_int_eq(post("/a/x", "note=%FF", FORM, NULL).status, 400);
    /* too long: announced (answered before the body is read), or found
     * so as it comes (chunked) */
    static char big[TKL_FORM_BODY_MAX + 64];
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "note=", 5);
    f = post("/a/x", big, FORM, NULL);
    ck_assert_int_eq(f.status, 413);
    struct fetch ch = {.method = "POST", .header = FORM, .send = big, .chunked = true};
    snprintf(ch.path, sizeof(ch.path), "/a/x");
    run_client(fetch_fn, &ch);
    ck_assert_int_eq(ch.status, 413);
    /* a form exactly at the limit is read (and its note refused as long) */
    big[TKL_FORM_BODY_MAX] = '\0';
    ck_assert_int_eq(post("/a/x", big, FORM, NULL).status, 400);
    ck_assert_int_eq(page_calls, 0);
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][415], 4);
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][413], 2);
    /* and the server still answers */
    ck_assert_int_eq(post("/a/x", "do=complete", FORM, NULL).status, 303);
}
END_TEST

START_TEST(a_trusted_proxy_names_the_client)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    /* no proxy is trusted: X-Forwarded-For is anyone's to send */
    post("/a/x", "do=complete", FORM, "X-Forwarded-For: 203.0.113.9");
    ck_assert_ptr_nonnull(strstr(last_post, "client=127.0.0.1"));
    tkl_http_server_close(srv);
    srv = NULL;
    char *proxies[] = {"::1", "127.0.0.1"};
    c.trusted_proxies = proxies;
    c.n_trusted_proxies = 2;
    start(&c);
    post("/a/x", "do=complete", FORM, "X-Forwarded-For: 198.51.100.7, 203.0.113.9");
    ck_assert_ptr_nonnull(strstr(last_post, "client=203.0.113.9"));
    post("/a/x", "do=complete", FORM, "X-Forwarded-For: 2001:DB8::1");
    ck_assert_ptr_nonnull(strstr(last_post, "client=2001:db8::1"));
    /* what is not an address is not taken */
    post("/a/x", "do=complete", FORM, "X-Forwarded-For: 203.0.113.9:443");
    ck_assert_ptr_nonnull(strstr(last_post, "client=127.0.0.1"));
    post("/a/x", "do=complete", FORM, "X-Forwarded-For: unknown");
    ck_assert_ptr_nonnull(strstr(last_post, "client=127.0.0.1"));
}
END_TEST

/* Two GETs on one connection, the first with header: both answers, as
 * the server sent them. */
struct pipelined {
    const char *header;
    char got[16384];
    size_t len;
};

static void pipelined_fn(void *arg)
{
    struct pipelined *p = arg;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /calendar.ics HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n"
                     "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     p->header);
    (void)!send(fd, req, (size_t)n, MSG_NOSIGNAL);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssize_t k;
    while (p->len < sizeof(p->got) - 1 &&
           (k = recv(fd, p->got + p->len, sizeof(p->got) - 1 - p->len, 0)) > 0)
        p->len += (size_t)k;
    p->got[p->len] = '\0';
    close(fd);
}

START_TEST(a_current_copy_gets_304_and_head_gets_no_body)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    char etag[128], lm[128], hdr[256];
    struct fetch f = get("/calendar.ics", NULL, NULL);
    ck_assert_int_eq(f.status, 200);
    header_of(&f, "ETag", etag, sizeof(etag));
    header_of(&f, "Last-Modified", lm, sizeof(lm));
    ck_assert_int_eq(etag[0], '"');
    ck_assert_str_eq(lm, "Tue, 14 Nov 2023 22:13:20 GMT");
    ck_assert_str_eq(header_of(&f, "Cache-Control", hdr, sizeof(hdr)), "public, max-age=60");
    char full[32], cl[32];
    header_of(&f, "Content-Length", full, sizeof(full));
    ck_assert_int_gt(atoi(full), 0);
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"other\", W/%s", etag);
    f = get("/calendar.ics", NULL, hdr);
    ck_assert_int_eq(f.status, 304);
    ck_assert_uint_eq(f.body_len, 0);
    ck_assert_str_eq(header_of(&f, "ETag", hdr, sizeof(hdr)), etag);
    /* a 304's Content-Length, if any, is the full body's (RFC 9110 8.6),
     * never 0; no body follows it, so the next answer on the connection
     * is whole */
    ck_assert_str_eq(header_of(&f, "Content-Length", cl, sizeof(cl)), full);
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
    struct pipelined pl = {.header = hdr};
    run_client(pipelined_fn, &pl);
    ck_assert_ptr_nonnull(strstr(pl.got, "HTTP/1.1 304 Not Modified\r\n"));
    ck_assert_ptr_null(strstr(pl.got, "Content-Length: 0\r\n\r\nHTTP"));
    const char *second = strstr(pl.got, "\r\n\r\nHTTP/1.1 200 OK\r\n");
    ck_assert_ptr_nonnull(second);
    ck_assert_ptr_nonnull(strstr(second, "\r\n\r\nroute /healthz "));
    ck_assert_ptr_null(strstr(pl.got, "route /calendar.ics"));
    f = get("/calendar.ics", NULL, "If-None-Match: \"other\"");
    ck_assert_int_eq(f.status, 200);
    snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", lm);
    ck_assert_int_eq(get("/calendar.ics", NULL, hdr).status, 304);
    ck_assert_int_eq(
        get("/calendar.ics", NULL, "If-Modified-Since: Mon, 13 Nov 2023 00:00:00 GMT").status, 200);
    ck_assert_int_eq(get("/calendar.ics", NULL, "If-Modified-Since: garbage").status, 200);
    /* a date past the server's clock (2027-01-15) is not one it gave */
    ck_assert_int_eq(
        get("/calendar.ics", NULL, "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT").status, 200);
    /* If-None-Match wins over If-Modified-Since; a page without validators
     * never answers 304 */
    ck_assert_int_eq(get("/status", NULL, "If-None-Match: *").status, 200);
    f = get("/calendar.ics", "HEAD", NULL);
    ck_assert_int_eq(f.status, 200);
    ck_assert_uint_eq(f.body_len, 0);
    ck_assert_str_eq(header_of(&f, "ETag", hdr, sizeof(hdr)), etag);
    ck_assert_int_eq(answered[TKL_ROUTE_CALENDAR_ICS][304], 3);
}
END_TEST

/* A client that connects and sends nothing (slowloris). */
struct silent {
    int fd;
    bool closed_by_server;
    struct fetch others[3];
};

static void silent_fn(void *arg)
{
    struct silent *s = arg;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return;
    for (int i = 0; i < 3; i++) /* served while the silent one waits */
        do_fetch(&s->others[i]);
    struct timeval tv = {30, 0};
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char c;
    s->closed_by_server = recv(s->fd, &c, 1, 0) == 0;
    close(s->fd);
}

START_TEST(a_client_that_sends_nothing_holds_up_no_one_and_is_closed)
{
    struct tkl_http_conf c = conf_for(port);
    c.timeout_seconds = 1;
    start(&c);
    struct silent s = {0};
    for (int i = 0; i < 3; i++)
        snprintf(s.others[i].path, sizeof(s.others[i].path), "/healthz");
    run_client(silent_fn, &s);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s.others[i].status, 200);
    ck_assert_msg(s.closed_by_server, "the silent connection was not closed by the server");
}
END_TEST

/* Two connections from one address with a limit of one: the second is
 * closed unanswered while the first is open. */
struct two {
    bool second_refused;
    struct fetch after;
};

static void two_fn(void *arg)
{
    struct two *t = arg;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = socket(AF_INET, SOCK_STREAM, 0), two = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(one, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        connect(two, (struct sockaddr *)&a, sizeof(a)) < 0)
        return;
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    struct timeval tv = {30, 0};
    setsockopt(two, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)!send(two, req, sizeof(req) - 1, MSG_NOSIGNAL);
    char buf[64];
    ssize_t n = recv(two, buf, sizeof(buf), 0);
    t->second_refused = n <= 0;
    close(two);
    close(one);
    /* served again once the server has seen the first one close */
    snprintf(t->after.path, sizeof(t->after.path), "/healthz");
    for (int i = 0; i < 600 && t->after.status != 200; i++) {
        if (i)
            usleep(50000);
        t->after.status = 0;
        do_fetch(&t->after);
    }
}

START_TEST(the_per_address_limit_holds)
{
    struct tkl_http_conf c = conf_for(port);
    c.max_per_ip = 1;
    start(&c);
    struct two t = {0};
    run_client(two_fn, &t);
    ck_assert_msg(t.second_refused, "a second connection from one address was served");
    ck_assert_int_eq(t.after.status, 200);
}
END_TEST

START_TEST(an_address_in_use_is_refused_with_its_name)
{
    struct tkl_http_conf c = conf_for(port);
    start(&c);
    struct tkl_http_server *second = NULL;
    char err[256] = "", want[128];
    ck_assert_int_eq(tkl_http_server_start(&loop, &c, NULL, 0, &host, &second, err, sizeof(err)),
                     -EADDRINUSE);
    ck_assert_ptr_null(second);
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: Address already in use", port);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(sockets_passed_in_are_served_instead_of_listen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    struct tkl_http_conf c = conf_for(1); /* not used */
    char err[256] = "", want[64];
    ck_assert_int_eq(tkl_http_server_start(&loop, &c, &fd, 1, &host, &srv, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    ck_assert_str_eq(tkl_http_server_addresses(srv), want);
    ck_assert_int_eq(get("/healthz", NULL, NULL).status, 200);
    close(fd);
}
END_TEST

static void run_cmd(const char *cmd)
{
    int st = system(cmd);
    ck_assert_msg(st == 0, "%s: %d", cmd, st);
}

START_TEST(https_with_a_certificate_and_key)
{
    char dir[256], cmd[1024], cert[300], key[300];
    tkl_tmpdir(dir, sizeof(dir), "server-tls");
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
             key, cert);
    run_cmd(cmd);
    struct tkl_http_conf c = conf_for(port);
    c.tls_certificate = cert;
    c.tls_key = key;
    start(&c);
    struct fetch f = {.cainfo = cert};
    snprintf(f.path, sizeof(f.path), "/healthz");
    run_client(fetch_fn, &f);
    ck_assert_msg(f.rc == CURLE_OK, "%s", curl_easy_strerror(f.rc));
    ck_assert_int_eq(f.status, 200);
    struct fetch plain = {0}; /* plain HTTP to the HTTPS port gets no page */
    snprintf(plain.path, sizeof(plain.path), "/healthz");
    run_client(fetch_fn, &plain);
    ck_assert_int_ne(plain.status, 200);
    /* a key that does not match: refused at start */
    tkl_http_server_close(srv);
    srv = NULL;
    snprintf(cmd, sizeof(cmd), "openssl genrsa -out %s 2048 2>/dev/null", key);
    run_cmd(cmd);
    struct tkl_http_server *bad = NULL;
    char err[256] = "";
    ck_assert_int_lt(tkl_http_server_start(&loop, &c, NULL, 0, &host, &bad, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "certificate and key"));
    tkl_rmtree(dir);
}
END_TEST

START_TEST(a_get_whose_page_answers_later_waits_suspended_for_the_answer)
{
    struct tkl_http_conf c = conf_for(port);
    start_later(&c, 50, answer_held);
    char buf[64];
    struct fetch f = get("/a/AbC", NULL, NULL);
    ck_assert_int_eq(f.status, 303);
    ck_assert_str_eq(f.body, "recorded\n");
    ck_assert_str_eq(header_of(&f, "X-Content-Type-Options", buf, sizeof(buf)), "nosniff");
    f = get("/a/AbC", "HEAD", NULL);
    ck_assert_int_eq(f.status, 303);
    ck_assert_uint_eq(f.body_len, 0);
    ck_assert_int_eq(answered[TKL_ROUTE_ACT][303], 2);
    ck_assert_int_eq(page_calls, 2);
}
END_TEST

START_TEST(a_get_waiting_when_the_server_closes_is_answered_503_and_its_late_answer_freed)
{
    struct tkl_http_conf c = conf_for(port);
    start_later(&c, 50, close_then_answer);
    char buf[64];
    struct fetch f = get("/a/AbC", NULL, NULL);
    ck_assert(later_ran);
    ck_assert_int_eq(f.status, 503);
    ck_assert_str_eq(header_of(&f, "Retry-After", buf, sizeof(buf)), "5");
    ck_assert_ptr_null(srv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_page_gets_its_route_and_every_answer_the_safety_headers);
    tcase_add_test(tc, what_no_page_takes_is_refused_by_the_server);
    tcase_add_test(tc, a_post_reaches_the_link_page_with_its_form);
    tcase_add_test(tc, a_post_answered_later_is_sent_when_the_page_answers);
    tcase_add_test(tc,
                   a_post_waiting_when_the_server_closes_is_answered_503_and_its_late_answer_freed);
    tcase_add_test(tc, a_post_whose_page_does_not_answer_in_time_is_answered_503);
    tcase_add_test(tc, a_post_whose_client_went_is_let_go_when_the_page_answers);
    tcase_add_test(tc, posts_the_page_cannot_take_are_refused_before_it_is_asked);
    tcase_add_test(tc, a_trusted_proxy_names_the_client);
    tcase_add_test(tc, a_current_copy_gets_304_and_head_gets_no_body);
    tcase_add_test(tc, a_client_that_sends_nothing_holds_up_no_one_and_is_closed);
    tcase_add_test(tc, the_per_address_limit_holds);
    tcase_add_test(tc, an_address_in_use_is_refused_with_its_name);
    tcase_add_test(tc, sockets_passed_in_are_served_instead_of_listen);
    tcase_add_test(tc, https_with_a_certificate_and_key);
    tcase_add_test(tc, a_get_whose_page_answers_later_waits_suspended_for_the_answer);
    tcase_add_test(tc,
                   a_get_waiting_when_the_server_closes_is_answered_503_and_its_late_answer_freed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int r = tkl_check_run(suite());
    curl_global_cleanup();
    return r;
}
