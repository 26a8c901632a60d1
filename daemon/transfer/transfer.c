#include "transfer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include "core/log.h"
#include "core/thread.h"
#include "dynlib/libcurl.h"

/* Connections kept open in the multi handle's cache, idle, for reuse: the
 * most deliveries one notifier may have in flight (delivery.concurrency's
 * bound). libcurl's own default is four per transfer added at the time, so
 * as a burst drains to its last few transfers it would close the
 * connections the next burst could reuse. */
#define MAX_IDLE_CONNECTIONS 256L

/*
 * Threads: the caller's loop thread (add, cancel, running, close and every
 * done()) and the transfer thread, which alone touches the multi handle,
 * its loop and the handles on it. They share the queues below under
 * t->lock. A job moves QUEUED (in t->adds) -> RUNNING (on the transfer
 * thread's list) -> DONE (in t->finished) and is freed on the loop thread,
 * after its done() was called or when it is cancelled.
 */
enum job_state { QUEUED, RUNNING, DONE, REMOVED };

struct job {
    CURL *easy;
    const void *owner; /* tkl_transfers_flush's filter */
    tkl_transfer_done_fn done;
    void *data;
    struct job *prev, *next;   /* the loop thread's list of live jobs */
    struct job *qnext;         /* t->adds or t->finished, under t->lock */
    struct job *rprev, *rnext; /* the transfer thread's running list */
    enum job_state state;      /* under t->lock */
    bool cancel;               /* under t->lock: remove it from the multi */
    int code;                  /* CURLcode, once DONE */
};

struct queue {
    struct job *head, *tail;
};

struct tkl_transfers {
    /* the loop thread's */
    uv_loop_t *loop;
    uv_async_t done_async; /* t->finished has jobs */
    struct job *jobs;      /* added, not yet told or cancelled */
    unsigned running;
    bool closing;
    pthread_t thread;

    /* the transfer thread's */
    uv_loop_t tloop;
    uv_async_t work_async; /* t->adds, a cancel or the stop waits */
    uv_timer_t timer;
    CURLM *multi;
    struct job *active; /* running in the multi handle */
    struct sock *socks; /* polls not yet closing */
    bool in_timer;      /* on_timer is running curl's timeout */

    /* shared, under lock */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a job left RUNNING */
    struct queue adds, finished;
    bool stop;
    struct fdrec *fds; /* the sockets curl opened and has not closed */
    size_t n_fds, cap_fds;
};

/*
 * A socket libcurl opened (open_socket) and has not closed (close_socket),
 * under t->lock: it is closed only under the lock, so that the loop
 * thread may shut one down (shut_smtp) with no risk of meeting its number
 * used again by another descriptor. libcurl's SMTP waits, blocking the
 * transfer thread, for the answer to the end of a message and to QUIT,
 * for as long as the transfer's timeout; a server that stopped answering
 * would hold a stop, a reload that retires the notifier, or a cancel that
 * long. Shutting the socket down ends that wait at once.
 */
struct fdrec {
    curl_socket_t fd;
    CURL *easy; /* the transfer curl last watched it for; compared, never used */
    bool smtp;  /* that transfer's scheme is smtp or smtps */
};

/* The record of fd, or NULL. Called with t->lock held. */
static struct fdrec *fd_find(struct tkl_transfers *t, curl_socket_t fd)
{
    for (size_t i = 0; i < t->n_fds; i++)
        if (t->fds[i].fd == fd)
            return &t->fds[i];
    return NULL;
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct tkl_transfers *t = clientp;
    (void)purpose;
    curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0)
        return CURL_SOCKET_BAD;
    pthread_mutex_lock(&t->lock);
    if (t->n_fds == t->cap_fds) {
        size_t cap = t->cap_fds ? 2 * t->cap_fds : 16;
        struct fdrec *v = realloc(t->fds, cap * sizeof(*v));
        if (!v) {
            pthread_mutex_unlock(&t->lock);
            close(fd);
            return CURL_SOCKET_BAD;
        }
        t->fds = v;
        t->cap_fds = cap;
    }
    t->fds[t->n_fds++] = (struct fdrec){.fd = fd};
    pthread_mutex_unlock(&t->lock);
    return fd;
}

static int close_socket(void *clientp, curl_socket_t fd)
{
    struct tkl_transfers *t = clientp;
    pthread_mutex_lock(&t->lock);
    struct fdrec *rec = fd_find(t, fd);
    if (rec)
        *rec = t->fds[--t->n_fds];
    int r = close(fd);
    pthread_mutex_unlock(&t->lock);
    return r;
}

/* Notes that curl watches fd for easy's transfer (the transfer thread). */
static void fd_watched(struct tkl_transfers *t, curl_socket_t fd, CURL *easy)
{
    /* the URL asked for (the scheme of the connection is not known while
     * it is made) */
    const char *url = NULL;
    bool smtp = sym_curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url &&
                strncasecmp(url, "smtp", 4) == 0;
    pthread_mutex_lock(&t->lock);
    struct fdrec *rec = fd_find(t, fd);
    if (rec) {
        rec->easy = easy;
        rec->smtp = smtp;
    }
    pthread_mutex_unlock(&t->lock);
}

/* Shuts down the SMTP sockets of the jobs marked cancel and not yet
 * removed (every SMTP socket when all), which ends libcurl's wait on them
 * (struct fdrec). Sockets of other schemes are left alone: an HTTP/2
 * connection may carry other transfers. The loop thread, with t->lock
 * held. */
static void shut_smtp(struct tkl_transfers *t, bool all)
{
    for (size_t i = 0; i < t->n_fds; i++) {
        bool shut = t->fds[i].smtp && all;
        for (const struct job *j = t->jobs; !shut && t->fds[i].smtp && j; j = j->next)
            shut = j->cancel && j->state == RUNNING && j->easy == t->fds[i].easy;
        if (shut)
            (void)shutdown(t->fds[i].fd, SHUT_RDWR);
    }
}

/* One per socket curl watches, on the transfer thread's loop; freed in its
 * close callback. */
struct sock {
    uv_poll_t poll;
    struct tkl_transfers *t;
    curl_socket_t fd;
    CURL *easy; /* the transfer curl last watched it for */
    struct sock *prev, *next;
};

static void queue_push(struct queue *q, struct job *j)
{
    j->qnext = NULL;
    if (q->tail)
        q->tail->qnext = j;
    else
        q->head = j;
    q->tail = j;
}

static struct job *queue_pop(struct queue *q)
{
    struct job *j = q->head;
    if (j && !(q->head = j->qnext))
        q->tail = NULL;
    return j;
}

static void queue_unlink(struct queue *q, struct job *j)
{
    struct job *prev = NULL;
    for (struct job *k = q->head; k; prev = k, k = k->qnext)
        if (k == j) {
            if (prev)
                prev->qnext = j->qnext;
            else
                q->head = j->qnext;
            if (q->tail == j)
                q->tail = prev;
            return;
        }
}

/* ---- the transfer thread ---------------------------------------------- */

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void close_sock(struct tkl_transfers *t, struct sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void active_unlink(struct tkl_transfers *t, struct job *j)
{
    if (j->rprev)
        j->rprev->rnext = j->rnext;
    else
        t->active = j->rnext;
    if (j->rnext)
        j->rnext->rprev = j->rprev;
    j->rprev = j->rnext = NULL;
}

/* Hands the finished transfers to the loop thread. */
static void read_finished(struct tkl_transfers *t)
{
    CURLMsg *m;
    int left;
    bool any = false;
    while ((m = sym_curl_multi_info_read(t->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result;
        struct job *j = NULL;
        if (sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j) != CURLE_OK || !j)
            continue;
        sym_curl_multi_remove_handle(t->multi, easy);
        active_unlink(t, j);
        pthread_mutex_lock(&t->lock);
        j->state = DONE;
        j->code = (int)code;
        queue_push(&t->finished, j);
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
        any = true;
    }
    if (any)
        uv_async_send(&t->done_async);
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
        if (uv_poll_init_socket(&t->tloop, &s->poll, fd) < 0) {
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
        sym_curl_multi_assign(t->multi, fd, s);
    }
    if (s->easy != easy) {
        s->easy = easy;
        fd_watched(t, fd, easy);
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
     * 0 ms timer, which runs without the loop waiting in poll. Asked from
     * inside on_timer, 1 ms: libuv may run a 0 ms timer started there
     * again in the same timer phase, for as long as curl asks. */
    uint64_t ms = timeout_ms ? (uint64_t)timeout_ms : t->in_timer ? 1 : 0;
    return uv_timer_start(&t->timer, on_timer, ms, 0) < 0 ? -1 : 0;
}

/* Ends the transfer thread's loop: the multi handle cleaned up first (curl
 * reports CURL_POLL_REMOVE for the sockets of its connection cache), then
 * whatever polls are left, the timer and the async handle. */
static void shut_down(struct tkl_transfers *t)
{
    while (t->active) { /* none: the loop thread cancelled them first */
        struct job *j = t->active;
        sym_curl_multi_remove_handle(t->multi, j->easy);
        active_unlink(t, j);
    }
    sym_curl_multi_cleanup(t->multi);
    t->multi = NULL;
    while (t->socks) /* curl left some sockets without CURL_POLL_REMOVE */
        close_sock(t, t->socks);
    uv_close((uv_handle_t *)&t->timer, NULL);
    uv_close((uv_handle_t *)&t->work_async, NULL);
}

/* What the loop thread asked: cancels first (a cancelled job's easy handle
 * goes back to its owner), then the new transfers, then the stop. */
static void on_work(uv_async_t *a)
{
    struct tkl_transfers *t = a->data;
    struct queue adds = {0}, refused = {0}, cut = {0};
    bool stop;
    pthread_mutex_lock(&t->lock);
    for (struct job *j = t->active, *next; j; j = next) {
        next = j->rnext;
        if (j->cancel) {
            active_unlink(t, j);
            queue_push(&cut, j); /* RUNNING, in no queue: its owner waits */
        }
    }
    /* removed without the lock, which curl's close of a socket takes
     * (close_socket); its SMTP sockets were shut down (shut_smtp) */
    if (cut.head) {
        pthread_mutex_unlock(&t->lock);
        for (struct job *j = cut.head; j; j = j->qnext)
            sym_curl_multi_remove_handle(t->multi, j->easy);
        pthread_mutex_lock(&t->lock);
        for (struct job *j; (j = queue_pop(&cut));)
            j->state = REMOVED;
    }
    /* a job cancelled while queued is its owner's again once REMOVED, and
     * is never touched here after the lock is let go */
    for (struct job *j; (j = queue_pop(&t->adds));) {
        j->state = j->cancel ? REMOVED : RUNNING;
        if (!j->cancel)
            queue_push(&adds, j);
    }
    stop = t->stop;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);

    for (struct job *j = adds.head, *next; j; j = next) {
        next = j->qnext;
        if (sym_curl_multi_add_handle(t->multi, j->easy) != CURLM_OK) {
            /* told as a failure to start, which every caller retries */
            j->code = CURLE_FAILED_INIT;
            queue_push(&refused, j);
            continue;
        }
        j->rprev = NULL;
        j->rnext = t->active;
        if (t->active)
            t->active->rprev = j;
        t->active = j;
    }
    if (refused.head) {
        pthread_mutex_lock(&t->lock);
        for (struct job *j; (j = queue_pop(&refused));) {
            j->state = DONE;
            queue_push(&t->finished, j);
        }
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
        uv_async_send(&t->done_async);
    }
    if (stop)
        shut_down(t);
}

static void *transfer_thread(void *arg)
{
    struct tkl_transfers *t = arg;
    uv_run(&t->tloop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---- the loop thread -------------------------------------------------- */

static void jobs_unlink(struct tkl_transfers *t, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        t->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (--t->running == 0)
        uv_unref((uv_handle_t *)&t->done_async);
}

/* Takes the first finished job of owner (any, for NULL) off t->finished,
 * or returns NULL. */
static struct job *take_finished(struct tkl_transfers *t, const void *owner)
{
    pthread_mutex_lock(&t->lock);
    struct job *j = t->finished.head;
    while (j && owner && j->owner != owner)
        j = j->qnext;
    if (j)
        queue_unlink(&t->finished, j);
    pthread_mutex_unlock(&t->lock);
    return j;
}

/* Tells each finished transfer of owner (every one, for NULL), one at a
 * time: a done() may cancel another finished one, which then must still
 * be in t->finished to be found. */
static void tell_finished(struct tkl_transfers *t, const void *owner)
{
    for (struct job *j; (j = take_finished(t, owner));) {
        jobs_unlink(t, j);
        tkl_transfer_done_fn done = j->done;
        void *data = j->data;
        int code = j->code;
        free(j);
        done(data, code);
    }
}

static void on_done_ready(uv_async_t *a)
{
    tell_finished(a->data, NULL);
}

static void on_closed(uv_handle_t *h)
{
    struct tkl_transfers *t = h->data;
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
    for (size_t i = 0; i < t->n_fds; i++) /* none: curl closed them at its cleanup */
        close(t->fds[i].fd);
    free(t->fds);
    free(t);
}

/* Takes the live jobs from first up to (not including) end, marked
 * cancel, out of the transfer thread's hands: waits until none is
 * RUNNING, then unlinks each from the queue it is in. The caller frees
 * them. Called with t->lock held. */
static void cancel_locked(struct tkl_transfers *t, struct job *first, const struct job *end)
{
    shut_smtp(t, false);
    for (;;) {
        bool waiting = false;
        for (struct job *j = first; j != end; j = j->next)
            waiting |= j->state == RUNNING;
        if (!waiting)
            break;
        uv_async_send(&t->work_async);
        pthread_cond_wait(&t->changed, &t->lock);
    }
    for (struct job *j = first; j != end; j = j->next) {
        if (j->state == QUEUED)
            queue_unlink(&t->adds, j);
        else if (j->state == DONE)
            queue_unlink(&t->finished, j);
    }
}

/* Closes the transfer thread's handles and loop, when no thread runs it. */
static void tloop_close(struct tkl_transfers *t)
{
    if (t->timer.loop)
        uv_close((uv_handle_t *)&t->timer, NULL);
    if (t->work_async.loop)
        uv_close((uv_handle_t *)&t->work_async, NULL);
    uv_run(&t->tloop, UV_RUN_DEFAULT);
    uv_loop_close(&t->tloop);
}

/* Stops the transfer thread (it cleans up the multi handle and closes its
 * loop's handles), waits for it and closes its loop. Returns what
 * uv_loop_close returns. */
static int stop_thread(struct tkl_transfers *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    shut_smtp(t, true); /* libcurl's QUIT to each server would wait on it */
    /* sent before the lock is let go: the thread, which closes work_async
     * once it sees stop, cannot have closed it yet */
    uv_async_send(&t->work_async);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    return uv_loop_close(&t->tloop);
}

int tkl_transfers_new(uv_loop_t *loop, struct tkl_transfers **ret)
{
    return tkl_transfers_new_named(loop, "tkl-transfer", ret);
}

int tkl_transfers_new_named(uv_loop_t *loop, const char *name, struct tkl_transfers **ret)
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
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return -ENOMEM;
    }
    if (pthread_cond_init(&t->changed, NULL) != 0) {
        r = -ENOMEM;
        goto fail_lock;
    }
    if (uv_loop_init(&t->tloop) < 0) {
        r = -ENOMEM;
        goto fail_cond;
    }
    r = -ENOMEM;
    if (uv_timer_init(&t->tloop, &t->timer) < 0 ||
        uv_async_init(&t->tloop, &t->work_async, on_work) < 0)
        goto fail_tloop;
    t->timer.data = t->work_async.data = t;
    if (!(t->multi = sym_curl_multi_init()))
        goto fail_tloop;
    if (sym_curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_timeout) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t) != CURLM_OK ||
        sym_curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, MAX_IDLE_CONNECTIONS) != CURLM_OK) {
        r = -EINVAL;
        goto fail_multi;
    }
    /* the transfer thread takes no signal: they stay the loop thread's */
    if ((r = tkl_thread_start(&t->thread, name ? name : "tkl-transfer", 0, transfer_thread, t)) < 0)
        goto fail_multi;
    if (uv_async_init(loop, &t->done_async, on_done_ready) < 0) {
        (void)stop_thread(t);
        r = -ENOMEM;
        goto fail_cond;
    }
    t->done_async.data = t;
    uv_unref((uv_handle_t *)&t->done_async); /* nothing running */
    *ret = t;
    return 0;

fail_multi:
    sym_curl_multi_cleanup(t->multi);
fail_tloop:
    tloop_close(t);
fail_cond:
    pthread_cond_destroy(&t->changed);
fail_lock:
    pthread_mutex_destroy(&t->lock);
    free(t);
    return r;
}

int tkl_transfers_add_owned(struct tkl_transfers *t, const void *owner, void *easy,
                            tkl_transfer_done_fn done, void *data)
{
    if (!easy || !done)
        return -EINVAL;
    if (!t || t->closing)
        return -ESHUTDOWN;
    for (struct job *k = t->jobs; k; k = k->next)
        if (k->easy == easy) /* running already: curl would refuse it */
            return -EINVAL;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    *j = (struct job){
        .easy = easy, .owner = owner, .done = done, .data = data, .next = t->jobs, .state = QUEUED};
    /* no signals from libcurl on the transfer thread, whose are blocked */
    if (sym_curl_easy_setopt(easy, CURLOPT_PRIVATE, j) != CURLE_OK ||
        sym_curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        sym_curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket) != CURLE_OK ||
        sym_curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t) != CURLE_OK ||
        sym_curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket) != CURLE_OK ||
        sym_curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, t) != CURLE_OK) {
        free(j);
        return -EINVAL;
    }
    if (t->jobs)
        t->jobs->prev = j;
    t->jobs = j;
    if (t->running++ == 0)
        uv_ref((uv_handle_t *)&t->done_async);
    pthread_mutex_lock(&t->lock);
    queue_push(&t->adds, j);
    pthread_mutex_unlock(&t->lock);
    uv_async_send(&t->work_async);
    return 0;
}

int tkl_transfers_add(struct tkl_transfers *t, void *easy, tkl_transfer_done_fn done, void *data)
{
    return tkl_transfers_add_owned(t, NULL, easy, done, data);
}

void tkl_transfers_flush(struct tkl_transfers *t, const void *owner)
{
    if (t && !t->closing)
        tell_finished(t, owner);
}

void tkl_transfers_settle(struct tkl_transfers *t, const void *owner)
{
    if (!t || t->closing)
        return;
    pthread_mutex_lock(&t->lock);
    /* a job marked cancel is never started (on_work) and leaves RUNNING
     * only as REMOVED or DONE */
    for (struct job *j = t->jobs; j; j = j->next)
        if (j->owner == owner && (j->state == QUEUED || j->state == RUNNING))
            j->cancel = true;
    shut_smtp(t, false);
    for (;;) {
        bool waiting = false;
        for (const struct job *j = t->jobs; j; j = j->next)
            waiting |= j->owner == owner && j->state == RUNNING;
        if (!waiting)
            break;
        uv_async_send(&t->work_async);
        pthread_cond_wait(&t->changed, &t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    tell_finished(t, owner);
}

void tkl_transfers_cancel(struct tkl_transfers *t, void *easy)
{
    for (struct job *j = t ? t->jobs : NULL; j; j = j->next)
        if (j->easy == easy) {
            pthread_mutex_lock(&t->lock);
            j->cancel = true;
            cancel_locked(t, j, j->next);
            pthread_mutex_unlock(&t->lock);
            jobs_unlink(t, j);
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
    t->closing = true;
    /* every live job cancelled in one wait */
    pthread_mutex_lock(&t->lock);
    for (struct job *j = t->jobs; j; j = j->next)
        j->cancel = true;
    cancel_locked(t, t->jobs, NULL);
    pthread_mutex_unlock(&t->lock);
    for (struct job *j = t->jobs, *next; j; j = next) {
        next = j->next;
        free(j);
    }
    t->jobs = NULL;
    if (t->running) {
        t->running = 0;
        uv_unref((uv_handle_t *)&t->done_async);
    }
    if (stop_thread(t) != 0)
        log_error("transfers: the transfer thread's loop kept a handle open");
    uv_close((uv_handle_t *)&t->done_async, on_closed);
}
