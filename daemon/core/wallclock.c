/* A watch on the wall clock for a libuv loop: a timerfd (see wallclock.h). */
#include "wallclock.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct tkl_wallclock *w = p->data;
    uint64_t expirations;
    bool clock_set = false;
    (void)events;
    if (status < 0) { /* cannot be polled: quiet until armed again (the timers still fire) */
        (void)uv_poll_stop(&w->poll);
        return;
    }
    if (read(w->fd, &expirations, sizeof(expirations)) < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return; /* not yet, or disarmed meanwhile */
        clock_set = errno == ECANCELED;
        if (!clock_set)
            return;
    }
    (void)uv_poll_stop(&w->poll);
    w->cb(w, clock_set);
}

int tkl_wallclock_init(uv_loop_t *loop, struct tkl_wallclock *w, tkl_wallclock_cb cb)
{
    w->cb = cb;
    w->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->fd < 0)
        return -errno;
    int r = uv_poll_init(loop, &w->poll, w->fd);
    if (r < 0) {
        (void)close(w->fd);
        w->fd = -1;
        return r;
    }
    w->poll.data = w;
    return 0;
}

int tkl_wallclock_arm(struct tkl_wallclock *w, int64_t at_ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (at_ms != INT64_MAX) {
        if (at_ms < 1) /* zero disarms: the epoch's first moment stands for the past */
            at_ms = 1;
        its.it_value.tv_sec = (time_t)(at_ms / 1000);
        its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000L;
    }
    if (timerfd_settime(w->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
        return -errno;
    if (at_ms == INT64_MAX)
        return uv_poll_stop(&w->poll);
    return uv_poll_start(&w->poll, UV_READABLE, on_readable);
}

void tkl_wallclock_close(struct tkl_wallclock *w, uv_close_cb close_cb)
{
    uv_close((uv_handle_t *)&w->poll, close_cb);
    (void)close(w->fd); /* no longer polled once uv_close has returned */
    w->fd = -1;
}
