#include "transfer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <curl/curl.h>
#include "core/log.h"
#include "dynlib/libcurl.h"

/* Connections kept open in the multi handle's cache, idle, for reuse: the
 * most deliveries one notifier may have in flight (delivery.concurrency's
 * bound). libcurl's own default is four per transfer added at the time, so
 * as a burst drains to its last few transfers it would close the
 * connections the next burst could reuse. */
#define MAX_IDLE_CONNECTIONS 256L

struct job {
    CURL *easy;
    tkl_transfer_done_fn done;
    void *data;
    struct job *prev, *next;
};

struct tkl_transfers {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct job *jobs;
    struct sock *socks; /* polls not yet closing */
    unsigned running;
    unsigned open_handles; /* the timer and the polls not yet closed */
    bool closing;
    bool in_timer; /* on_timer is running curl's timeout */
};

/* One per socket curl watches; freed in its close callback. */
struct sock {
    uv_poll_t poll;
    struct tkl_transfers *t;
    curl_socket_t fd;
    struct sock *prev, *next;
};

static void on_handle_closed(uv_handle_t *h);

static void close_sock(struct tkl_transfers *t, struct sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void maybe_free(struct tkl_transfers *t)
{
    if (t->closing && t->open_handles == 0)
        free(t);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct tkl_transfers *t;
    if (h->type == UV_POLL) {
        struct sock *s = h->data;
        t = s->t;
        free(s);
    } else {
        t = h->data;
    }
    t->open_handles--;
    maybe_free(t);
}

static void unlink_job(struct tkl_transfers *t, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        t->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    t->running--;
}

/* Completes every finished transfer. */
static void read_finished(struct tkl_transfers *t)
{
    CURLMsg *m;
    int left;
    while ((m = sym_curl_multi_info_read(t->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result;
        struct job *j = NULL;
        if (sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j) != CURLE_OK || !j)
            continue;
        sym_curl_multi_remove_handle(t->multi, easy);
        unlink_job(t, j);
        tkl_transfer_done_fn done = j->done;
        void *data = j->data;
        free(j);
        done(data, (int)code);
    }
}

static void on_timer(uv_timer_t *timer)
{
    struct tkl_transfers *t = timer->data;
    int running;
    t->in_timer = true;
    sym_curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    t->in_timer = false;
    read_finished(t);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    struct tkl_transfers *t = s->t;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    sym_curl_multi_socket_action(t->multi, s->fd, flags, &running);
    read_finished(t);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct tkl_transfers *t = userp;
    struct sock *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            close_sock(t, s);
            if (t->multi)
                sym_curl_multi_assign(t->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        if (uv_poll_init_socket(t->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->t = t;
        s->fd = fd;
        s->poll.data = s;
        s->next = t->socks;
        if (t->socks)
            t->socks->prev = s;
        t->socks = s;
        t->open_handles++;
        sym_curl_multi_assign(t->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) < 0 ? -1 : 0;
}

static int on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    struct tkl_transfers *t = userp;
    (void)multi;
    if (timeout_ms < 0) {
        uv_timer_stop(&t->timer);
        return 0;
    }
    /* 0 means "now": run it from the loop, never re-entering curl, with a
     * 0 ms timer, which runs without the loop waiting in poll (transfers
     * added by a delivery round start in the same or the next turn).
     * Asked from inside on_timer, 1 ms: libuv may run a 0 ms timer started
     * there again in the same timer phase, for as long as curl asks. */
    uint64_t ms = timeout_ms ? (uint64_t)timeout_ms : t->in_timer ? 1 : 0;
    return uv_timer_start(&t->timer, on_timer, ms, 0) < 0 ? -1 : 0;
}

int tkl_transfers_new(uv_loop_t *loop, struct tkl_transfers **ret)
{
    char err[512];
    int r = tkl_libcurl_load(err, sizeof(err));
    if (r < 0) {
        log_error("%s", err);
        return r;
    }
    struct tkl_transfers *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->loop = loop;
    if (!(t->multi = sym_curl_multi_init())) {
        free(t);
        return -ENOMEM;
    }
    if (uv_timer_init(loop, &t->timer) < 0) {
        sym_curl_multi_cleanup(t->multi);
        free(t);
        return -EIO;
    }
    t->timer.data = t;
    t->open_handles = 1;
    if (sym_curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_timeout) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, MAX_IDLE_CONNECTIONS) != CURLM_OK) {
        tkl_transfers_close(t);
        return -EINVAL;
    }
    *ret = t;
    return 0;
}

int tkl_transfers_add(struct tkl_transfers *t, void *easy, tkl_transfer_done_fn done, void *data)
{
    if (!easy || !done)
        return -EINVAL;
    if (!t || t->closing)
        return -ESHUTDOWN;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    *j = (struct job){.easy = easy, .done = done, .data = data, .next = t->jobs};
    /* added before CURLOPT_PRIVATE is set: a handle curl refuses (one
     * already running) keeps pointing at its own job */
    CURLMcode mc = sym_curl_multi_add_handle(t->multi, easy);
    if (mc != CURLM_OK) {
        free(j);
        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
    }
    if (sym_curl_easy_setopt(easy, CURLOPT_PRIVATE, j) != CURLE_OK) {
        sym_curl_multi_remove_handle(t->multi, easy);
        free(j);
        return -EINVAL;
    }
    if (t->jobs)
        t->jobs->prev = j;
    t->jobs = j;
    t->running++;
    return 0;
}

void tkl_transfers_cancel(struct tkl_transfers *t, void *easy)
{
    for (struct job *j = t ? t->jobs : NULL; j; j = j->next)
        if (j->easy == easy) {
            sym_curl_multi_remove_handle(t->multi, easy);
            unlink_job(t, j);
            free(j);
            return;
        }
}

unsigned tkl_transfers_running(const struct tkl_transfers *t)
{
    return t ? t->running : 0;
}

void tkl_transfers_close(struct tkl_transfers *t)
{
    if (!t || t->closing)
        return;
    /* the head of the list has no prev, so each cancel moves t->jobs on */
    while (t->jobs)
        tkl_transfers_cancel(t, t->jobs->easy); // NOLINT(clang-analyzer-unix.Malloc)
    t->closing = true;
    /* cleanup first (curl reports CURL_POLL_REMOVE for the sockets of its
     * connection cache), then whatever polls are left, then the timer */
    sym_curl_multi_cleanup(t->multi);
    t->multi = NULL;
    while (t->socks) /* curl left some sockets without CURL_POLL_REMOVE */
        close_sock(t, t->socks);
    uv_close((uv_handle_t *)&t->timer, on_handle_closed);
}
