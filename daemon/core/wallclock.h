/*
 * A watch on the wall clock for a libuv loop. libuv's timers run on the
 * monotonic clock, which stands still while the machine sleeps (suspend,
 * hibernation) and does not follow the wall clock when it is set (by
 * hand, or by NTP stepping it): a timer armed for 09:00 fires late by the
 * time slept, or early or late by the step. This watch is a timerfd on
 * CLOCK_REALTIME, armed for an absolute instant: the kernel fires it at
 * that wall-clock time whatever happened in between, and tells when the
 * clock was set (TFD_TIMER_CANCEL_ON_SET). The daemon keeps its timers as
 * they are and uses the watch to put them right.
 */
#ifndef TKL_CORE_WALLCLOCK_H
#define TKL_CORE_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct tkl_wallclock;

/* The instant armed has come (clock_set false), or the wall clock was set
 * since the watch was armed (clock_set true: the instant may not have
 * come). The watch is disarmed either way. */
typedef void (*tkl_wallclock_cb)(struct tkl_wallclock *w, bool clock_set);

struct tkl_wallclock {
    uv_poll_t poll;
    int fd;
    tkl_wallclock_cb cb;
    void *data;
};

/* Opens w on loop, disarmed. Returns 0 or a negative errno. */
int tkl_wallclock_init(uv_loop_t *loop, struct tkl_wallclock *w, tkl_wallclock_cb cb);

/* Arms w for the wall-clock instant at_ms (milliseconds since the epoch,
 * CLOCK_REALTIME), replacing what it was armed for; an instant already
 * passed fires at once. INT64_MAX disarms it. Returns 0 or a negative
 * errno. */
int tkl_wallclock_arm(struct tkl_wallclock *w, int64_t at_ms);

/* Closes w; close_cb (or NULL) is told when its handle is closed. */
void tkl_wallclock_close(struct tkl_wallclock *w, uv_close_cb close_cb);

#endif
