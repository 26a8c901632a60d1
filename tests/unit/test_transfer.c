/* Tests for daemon/transfer/transfer.c: transfers on the shared curl multi
 * handle, driven by a real libuv loop, against a real HTTP/1.1 server on
 * 127.0.0.1 (a small one on a libuv TCP handle of the same loop, so that
 * the test sees what reached it). Each transfer that was added completes
 * exactly once, a cancelled one never, failures complete with curl's code,
 * and closing leaves no handle: uv_loop_close() returns 0 in every test. */
#include <check.h>

#include "check_run.h"
#include "loop_wait.h"
#include "refused_port.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "transfer/transfer.h"

/* ---- the server ------------------------------------------------------- */

struct conn {
    uv_tcp_t tcp;
    struct server *srv;
    char buf[16384];
    size_t len;
    struct conn *next;
};

struct server {
    uv_tcp_t listener;
    int port;
    int accepted; /* connections */
    int requests; /* complete requests read */
    int hanging;  /* requests to /hang, never answered */
    char method[16], path[128], body[4096];
    struct conn *conns;
};

static uv_loop_t loop;
static struct server srv;

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    for (struct conn **pp = &c->srv->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c);
}

static void conn_close(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

struct reply {
    uv_write_t req;
    struct conn *c;
    bool close_after;
    char text[];
};

static void on_written(uv_write_t *req, int status)
{
    struct reply *r = req->data;
    if (status == 0 && r->close_after)
        conn_close(r->c);
    free(r);
}

static void reply(struct conn *c, int status, const char *body, bool close_after)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                     status, status == 200 ? "OK" : "Error", strlen(body),
                     close_after ? "Connection: close\r\n" : "");
    ck_assert_int_gt(n, 0);
    size_t len = (size_t)n + strlen(body);
    struct reply *r = malloc(sizeof(*r) + len + 1);
    ck_assert_ptr_nonnull(r);
    r->req.data = r;
    r->c = c;
    r->close_after = close_after;
    snprintf(r->text, len + 1, "%s%s", head, body);
    uv_buf_t b = uv_buf_init(r->text, (unsigned)len);
    ck_assert_int_eq(uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_written), 0);
}

/* Serves one complete request at the start of c->buf; returns its length,
 * or 0 while it is incomplete. */
static size_t serve_one(struct conn *c)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4, body_len = 0;
    for (char *h = strchr(c->buf, '\n'); h && h < end; h = strchr(h + 1, '\n'))
        if (strncasecmp(h + 1, "Content-Length:", 15) == 0)
            body_len = strtoul(h + 16, NULL, 10);
    if (c->len < head + body_len)
        return 0;
    struct server *s = c->srv;
    ck_assert_int_eq(sscanf(c->buf, "%15s %127s", s->method, s->path), 2);
    ck_assert_uint_lt(body_len, sizeof(s->body));
    memcpy(s->body, c->buf + head, body_len);
    s->body[body_len] = '\0';
    s->requests++;
    if (strcmp(s->path, "/hello") == 0)
        reply(c, 200, "hello", false);
    else if (strcmp(s->path, "/echo") == 0)
        reply(c, 200, s->body, false);
    else if (strcmp(s->path, "/bye") == 0)
        reply(c, 200, "bye", true);
    else if (strcmp(s->path, "/hang") == 0)
        s->hanging++;
    else
        reply(c, 404, "no such page", false);
    return head + body_len;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - 1 - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = st->data;
    (void)b;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0'; /* requests are text: read them as strings */
    size_t used;
    while (!uv_is_closing((uv_handle_t *)&c->tcp) && (used = serve_one(c)) > 0) {
        memmove(c->buf, c->buf + used, c->len - used + 1);
        c->len -= used;
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    struct server *s = l->data;
    ck_assert_int_eq(status, 0);
    struct conn *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(uv_tcp_init(&loop, &c->tcp), 0);
    c->tcp.data = c;
    c->srv = s;
    c->next = s->conns;
    s->conns = c;
    ck_assert_int_eq(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    s->accepted++;
    ck_assert_int_eq(uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read), 0);
}

static void server_start(void)
{
    struct sockaddr_in a;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    memset(&srv, 0, sizeof(srv));
    ck_assert_int_eq(uv_ip4_addr("127.0.0.1", 0, &a), 0);
    ck_assert_int_eq(uv_tcp_init(&loop, &srv.listener), 0);
    srv.listener.data = &srv;
    ck_assert_int_eq(uv_tcp_bind(&srv.listener, (const struct sockaddr *)&a, 0), 0);
    ck_assert_int_eq(uv_listen((uv_stream_t *)&srv.listener, 16, on_connection), 0);
    ck_assert_int_eq(uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &len), 0);
    srv.port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void server_close(void)
{
    uv_close((uv_handle_t *)&srv.listener, NULL);
    for (struct conn *c = srv.conns; c; c = c->next)
        conn_close(c);
}

/* ---- the client side ---------------------------------------------------- */

struct xfer {
    CURL *easy;
    char body[4096];
    size_t len;
    int done;
    int code;
    char post[64];
    struct xfer *then;   /* started from done() */
    struct xfer *cancel; /* cancelled from done() */
    bool close;          /* done() closes the transfers */
    struct tkl_transfers *t;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
    struct xfer *x = data;
    size_t k = size * n;
    if (k >= sizeof(x->body) - x->len)
        return 0;
    memcpy(x->body + x->len, p, k);
    x->len += k;
    x->body[x->len] = '\0';
    return k;
}

static void on_done(void *data, int code)
{
    struct xfer *x = data;
    x->done++;
    x->code = code;
    if (x->then)
        ck_assert_int_eq(tkl_transfers_add(x->t, x->then->easy, on_done, x->then), 0);
    if (x->cancel)
        tkl_transfers_cancel(x->t, x->cancel->easy);
    if (x->close)
        tkl_transfers_close(x->t);
}

/* Configures x for port and path (a POST of body when body is not NULL). */
static void xfer_init(struct xfer *x, int port, const char *path, const char *body)
{
    char url[128];
    memset(x, 0, sizeof(*x));
    x->easy = curl_easy_init();
    ck_assert_ptr_nonnull(x->easy);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*"); /* whatever the environment says */
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    if (body) {
        snprintf(x->post, sizeof(x->post), "%s", body);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->post);
    }
}

static long status_of(const struct xfer *x)
{
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static bool server_hanging(void *arg)
{
    return srv.hanging >= *(int *)arg;
}

static struct tkl_transfers *t;

static void setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    server_start();
    t = NULL;
    ck_assert_int_eq(tkl_transfers_new(&loop, &t), 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
}

/* Closes the transfers and the server; the loop must have nothing left. */
static void finish(void)
{
    tkl_transfers_close(t);
    tkl_transfers_close(t); /* twice is harmless before the loop runs */
    server_close();
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}

START_TEST(a_get_completes_once_with_ok)
{
    struct xfer x;
    xfer_init(&x, srv.port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert_int_eq(x.done, 0); /* never from inside add */
    ck_assert_uint_eq(tkl_transfers_running(t), 1);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_OK);
    ck_assert_str_eq(x.body, "hello");
    ck_assert_int_eq(status_of(&x), 200);
    ck_assert_str_eq(srv.method, "GET");
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(x.done, 1);
    finish();
    curl_easy_cleanup(x.easy);
}
END_TEST

START_TEST(a_post_sends_its_body)
{
    struct xfer x;
    xfer_init(&x, srv.port, "/echo", "{\"text\":\"Train staff\"}");
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_OK);
    ck_assert_str_eq(srv.method, "POST");
    ck_assert_str_eq(srv.body, "{\"text\":\"Train staff\"}");
    ck_assert_str_eq(x.body, "{\"text\":\"Train staff\"}");
    /* an HTTP error is a completed transfer: the caller reads the status */
    struct xfer y;
    xfer_init(&y, srv.port, "/nothing-here", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, y.easy, on_done, &y), 0);
    ck_assert(tkl_run_until_count(&loop, &y.done, 1));
    ck_assert_int_eq(y.code, CURLE_OK);
    ck_assert_int_eq(status_of(&y), 404);
    finish();
    curl_easy_cleanup(x.easy);
    curl_easy_cleanup(y.easy);
}
END_TEST

START_TEST(connections_are_reused_and_transfers_run_together)
{
    struct xfer x[3];
    for (int i = 0; i < 3; i++) {
        xfer_init(&x[i], srv.port, "/hello", NULL);
        ck_assert_int_eq(tkl_transfers_add(t, x[i].easy, on_done, &x[i]), 0);
        ck_assert(tkl_run_until_count(&loop, &x[i].done, 1));
        ck_assert_int_eq(x[i].code, CURLE_OK);
    }
    ck_assert_int_eq(srv.requests, 3);
    ck_assert_int_eq(srv.accepted, 1); /* one connection, kept alive */
    /* several at once, each completing once */
    struct xfer y[6];
    for (int i = 0; i < 6; i++) {
        xfer_init(&y[i], srv.port, i % 2 ? "/hello" : "/echo", i % 2 ? NULL : "posted");
        ck_assert_int_eq(tkl_transfers_add(t, y[i].easy, on_done, &y[i]), 0);
    }
    ck_assert_uint_eq(tkl_transfers_running(t), 6);
    for (int i = 0; i < 6; i++)
        ck_assert(tkl_run_until_count(&loop, &y[i].done, 1));
    tkl_run_for(&loop, 100);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(y[i].done, 1);
        ck_assert_int_eq(y[i].code, CURLE_OK);
        ck_assert_str_eq(y[i].body, i % 2 ? "hello" : "posted");
    }
    ck_assert_int_eq(srv.requests, 9);
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    finish();
    for (int i = 0; i < 3; i++)
        curl_easy_cleanup(x[i].easy);
    for (int i = 0; i < 6; i++)
        curl_easy_cleanup(y[i].easy);
}
END_TEST

START_TEST(done_may_start_the_next_transfer)
{
    struct xfer x[3];
    for (int i = 0; i < 3; i++) {
        xfer_init(&x[i], srv.port, "/hello", NULL);
        x[i].t = t;
    }
    x[0].then = &x[1];
    x[1].then = &x[2];
    ck_assert_int_eq(tkl_transfers_add(t, x[0].easy, on_done, &x[0]), 0);
    ck_assert(tkl_run_until_count(&loop, &x[2].done, 1));
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(x[i].done, 1);
        ck_assert_int_eq(x[i].code, CURLE_OK);
    }
    finish();
    for (int i = 0; i < 3; i++)
        curl_easy_cleanup(x[i].easy);
}
END_TEST

START_TEST(a_cancelled_transfer_never_completes)
{
    /* cancelled once the request reached the server */
    struct xfer x;
    int one = 1;
    xfer_init(&x, srv.port, "/hang", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until(&loop, server_hanging, &one, 20000));
    tkl_transfers_cancel(t, x.easy);
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    /* cancelled before the loop ran at all */
    struct xfer y;
    xfer_init(&y, srv.port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, y.easy, on_done, &y), 0);
    tkl_transfers_cancel(t, y.easy);
    tkl_transfers_cancel(t, y.easy); /* no longer known: nothing happens */
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    tkl_run_for(&loop, 200);
    ck_assert_int_eq(x.done, 0);
    ck_assert_int_eq(y.done, 0);
    /* the easy handles can be used again, and the transfers go on */
    ck_assert_int_eq(tkl_transfers_add(t, y.easy, on_done, &y), 0);
    ck_assert(tkl_run_until_count(&loop, &y.done, 1));
    ck_assert_int_eq(y.code, CURLE_OK);
    ck_assert_str_eq(y.body, "hello");
    finish();
    ck_assert_int_eq(x.done, 0);
    curl_easy_cleanup(x.easy);
    curl_easy_cleanup(y.easy);
}
END_TEST

/* Two transfers whose done() each cancels the other: whichever is told
 * first, the other is never told, though it finished too (the transfer
 * thread may have handed both over before the loop thread told either). */
START_TEST(a_done_may_cancel_another_finished_transfer)
{
    for (int round = 0; round < 20; round++) {
        struct xfer x, y;
        xfer_init(&x, srv.port, "/hello", NULL);
        xfer_init(&y, srv.port, "/hello", NULL);
        x.t = y.t = t;
        x.cancel = &y;
        y.cancel = &x;
        int before = srv.requests;
        ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
        ck_assert_int_eq(tkl_transfers_add(t, y.easy, on_done, &y), 0);
        while (srv.requests < before + 2 && x.done + y.done == 0)
            uv_run(&loop, UV_RUN_ONCE);
        usleep(20000); /* both answers read by the transfer thread */
        tkl_run_for(&loop, 50);
        ck_assert_int_eq(x.done + y.done, 1);
        ck_assert_int_eq((x.done ? x.code : y.code), CURLE_OK);
        ck_assert_uint_eq(tkl_transfers_running(t), 0);
        curl_easy_cleanup(x.easy);
        curl_easy_cleanup(y.easy);
    }
    finish();
}
END_TEST

/* Flushes owner's finished transfers until x is told, without running the
 * loop; false if it is not told within 10 s. */
static bool flush_until_told(const void *owner, const struct xfer *x)
{
    for (int i = 0; i < 10000 && !x->done; i++) {
        tkl_transfers_flush(t, owner);
        if (!x->done)
            usleep(1000);
    }
    return x->done == 1;
}

/* A flush tells an owner's finished transfers on the caller's stack (a
 * notifier about to stop), and only that owner's: the loop, not running
 * meanwhile, tells nothing twice afterwards. The loop that runs the
 * server may itself tell a completion the transfer thread handed over
 * meanwhile (its async already due in that turn): such a round proves
 * nothing of a flush and is run again, up to 50 times. */
START_TEST(a_flush_tells_one_owners_finished_transfers)
{
    static const char owner_a = 'a', owner_b = 'b';
    struct xfer xa, xb;
    int round = 0;
    for (;; round++) {
        ck_assert_int_lt(round, 50);
        int before = srv.requests;
        xfer_init(&xa, srv.port, "/hello", NULL);
        xfer_init(&xb, srv.port, "/echo", "b");
        ck_assert_int_eq(tkl_transfers_add_owned(t, &owner_a, xa.easy, on_done, &xa), 0);
        ck_assert_int_eq(tkl_transfers_add_owned(t, &owner_b, xb.easy, on_done, &xb), 0);
        while (srv.requests < before + 2) /* the server, on this loop, answers both */
            uv_run(&loop, UV_RUN_ONCE);
        if (xa.done == 0 && xb.done == 0)
            break;
        /* told by the loop already: let this round end, then again */
        while (tkl_transfers_running(t) > 0)
            uv_run(&loop, UV_RUN_ONCE);
        curl_easy_cleanup(xa.easy);
        curl_easy_cleanup(xb.easy);
    }
    ck_assert(flush_until_told(&owner_a, &xa));
    ck_assert_int_eq(xa.code, CURLE_OK);
    ck_assert_str_eq(xa.body, "hello");
    ck_assert_int_eq(xb.done, 0);
    ck_assert_uint_eq(tkl_transfers_running(t), 1);
    ck_assert(flush_until_told(&owner_b, &xb));
    ck_assert_str_eq(xb.body, "b");
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(xa.done, 1);
    ck_assert_int_eq(xb.done, 1);
    tkl_transfers_flush(NULL, NULL);
    finish();
    curl_easy_cleanup(xa.easy);
    curl_easy_cleanup(xb.easy);
}
END_TEST

/* Many transfers waiting on the server, cancelled one by one while the
 * transfer thread runs: none is told, and the transfers go on. */
START_TEST(transfers_cancelled_while_running_are_never_told)
{
    enum { N = 24 };
    struct xfer h[N];
    int n = N;
    for (int i = 0; i < N; i++) {
        xfer_init(&h[i], srv.port, "/hang", NULL);
        ck_assert_int_eq(tkl_transfers_add(t, h[i].easy, on_done, &h[i]), 0);
    }
    ck_assert(tkl_run_until(&loop, server_hanging, &n, 20000));
    for (int i = 0; i < N; i++) {
        tkl_transfers_cancel(t, h[(i * 7) % N].easy);
        ck_assert_uint_eq(tkl_transfers_running(t), (unsigned)(N - 1 - i));
    }
    struct xfer x;
    xfer_init(&x, srv.port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_OK);
    tkl_run_for(&loop, 100);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(h[i].done, 0);
    finish();
    for (int i = 0; i < N; i++)
        curl_easy_cleanup(h[i].easy);
    curl_easy_cleanup(x.easy);
}
END_TEST

/* Transfers added and closed before the loop runs at all (the transfer
 * thread may have taken them or not): none is told, nothing is left. */
START_TEST(closing_right_after_adding_tells_nothing)
{
    struct xfer x[4];
    for (int i = 0; i < 4; i++) {
        xfer_init(&x[i], srv.port, i % 2 ? "/hello" : "/hang", NULL);
        ck_assert_int_eq(tkl_transfers_add(t, x[i].easy, on_done, &x[i]), 0);
    }
    if (_i) /* the second time, let the transfer thread start them */
        usleep(20000);
    finish();
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(x[i].done, 0);
        curl_easy_cleanup(x[i].easy);
    }
}
END_TEST

/* A done() that closes the transfers (a shutdown begun by an outcome):
 * what still runs is cancelled, and nothing is left open. */
START_TEST(closing_from_done_leaves_no_handle)
{
    struct xfer x, h;
    int one = 1;
    xfer_init(&h, srv.port, "/hang", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, h.easy, on_done, &h), 0);
    ck_assert(tkl_run_until(&loop, server_hanging, &one, 20000));
    xfer_init(&x, srv.port, "/hello", NULL);
    x.t = t;
    x.close = true;
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    t = NULL; /* closed by x's done(), and freed as the loop runs */
    finish();
    ck_assert_int_eq(h.done, 0);
    curl_easy_cleanup(x.easy);
    curl_easy_cleanup(h.easy);
}
END_TEST

START_TEST(a_refused_connection_completes_with_an_error)
{
    int fd, port = tkl_refused_port(&fd);
    struct xfer x;
    xfer_init(&x, port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_COULDNT_CONNECT);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(x.done, 1);
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    close(fd);
    finish();
    curl_easy_cleanup(x.easy);
}
END_TEST

START_TEST(a_timeout_completes_the_transfer)
{
    /* curl ends it from its timer, with no socket event: it must still be
     * read as finished */
    struct xfer x;
    xfer_init(&x, srv.port, "/hang", NULL);
    curl_easy_setopt(x.easy, CURLOPT_TIMEOUT_MS, 100L);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_OPERATION_TIMEDOUT);
    ck_assert_int_eq(srv.hanging, 1);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(x.done, 1);
    finish();
    curl_easy_cleanup(x.easy);
}
END_TEST

START_TEST(closing_with_transfers_in_flight_leaves_no_handle)
{
    /* a kept-alive idle connection, one the server closed, and two
     * transfers waiting on the server */
    struct xfer idle, bye, h[2];
    xfer_init(&idle, srv.port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, idle.easy, on_done, &idle), 0);
    ck_assert(tkl_run_until_count(&loop, &idle.done, 1));
    xfer_init(&bye, srv.port, "/bye", NULL);
    ck_assert_int_eq(tkl_transfers_add(t, bye.easy, on_done, &bye), 0);
    ck_assert(tkl_run_until_count(&loop, &bye.done, 1));
    ck_assert_int_eq(bye.code, CURLE_OK);
    int two = 2;
    for (int i = 0; i < 2; i++) {
        xfer_init(&h[i], srv.port, "/hang", NULL);
        ck_assert_int_eq(tkl_transfers_add(t, h[i].easy, on_done, &h[i]), 0);
    }
    ck_assert(tkl_run_until(&loop, server_hanging, &two, 20000));
    ck_assert_uint_eq(tkl_transfers_running(t), 2);
    finish(); /* uv_loop_close() == 0 */
    ck_assert_int_eq(h[0].done + h[1].done, 0);
    ck_assert_int_eq(idle.done + bye.done, 2);
    curl_easy_cleanup(idle.easy);
    curl_easy_cleanup(bye.easy);
    for (int i = 0; i < 2; i++)
        curl_easy_cleanup(h[i].easy);
}
END_TEST

START_TEST(a_refused_add_never_completes)
{
    struct xfer x, y;
    xfer_init(&x, srv.port, "/hello", NULL);
    xfer_init(&y, srv.port, "/hello", NULL);
    ck_assert_int_eq(tkl_transfers_add(NULL, x.easy, on_done, &x), -ESHUTDOWN);
    ck_assert_int_eq(tkl_transfers_add(t, NULL, on_done, &x), -EINVAL);
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, NULL, &x), -EINVAL);
    ck_assert_uint_eq(tkl_transfers_running(t), 0);
    ck_assert_uint_eq(tkl_transfers_running(NULL), 0);
    tkl_transfers_cancel(NULL, x.easy);
    /* an easy handle already running cannot be added again; the running
     * transfer is unharmed and completes once */
    ck_assert_int_eq(tkl_transfers_add(t, x.easy, on_done, &x), 0);
    ck_assert_int_lt(tkl_transfers_add(t, x.easy, on_done, &y), 0);
    ck_assert_uint_eq(tkl_transfers_running(t), 1);
    ck_assert(tkl_run_until_count(&loop, &x.done, 1));
    ck_assert_int_eq(x.code, CURLE_OK);
    ck_assert_str_eq(x.body, "hello");
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(x.done, 1);
    ck_assert_int_eq(y.done, 0);
    /* nothing is added once closing began */
    tkl_transfers_close(t);
    ck_assert_int_eq(tkl_transfers_add(t, y.easy, on_done, &y), -ESHUTDOWN);
    finish();
    ck_assert_int_eq(y.done, 0);
    curl_easy_cleanup(x.easy);
    curl_easy_cleanup(y.easy);
}
END_TEST

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return EXIT_FAILURE;
    Suite *s = suite_create("transfer");
    TCase *tc = tcase_create("transfer");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, a_get_completes_once_with_ok);
    tcase_add_test(tc, a_done_may_cancel_another_finished_transfer);
    tcase_add_test(tc, a_flush_tells_one_owners_finished_transfers);
    tcase_add_test(tc, transfers_cancelled_while_running_are_never_told);
    tcase_add_test(tc, closing_from_done_leaves_no_handle);
    tcase_add_loop_test(tc, closing_right_after_adding_tells_nothing, 0, 2);
    tcase_add_test(tc, a_post_sends_its_body);
    tcase_add_test(tc, connections_are_reused_and_transfers_run_together);
    tcase_add_test(tc, done_may_start_the_next_transfer);
    tcase_add_test(tc, a_cancelled_transfer_never_completes);
    tcase_add_test(tc, a_refused_connection_completes_with_an_error);
    tcase_add_test(tc, a_timeout_completes_the_transfer);
    tcase_add_test(tc, closing_with_transfers_in_flight_leaves_no_handle);
    tcase_add_test(tc, a_refused_add_never_completes);
    suite_add_tcase(s, tc);
    int r = tkl_check_run(s);
    curl_global_cleanup();
    return r;
}
