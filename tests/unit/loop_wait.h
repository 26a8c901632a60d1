/* Shared by the unit tests that run a real libuv loop: waiting for an
 * event without depending on the machine's speed. A guard timer only
 * ends a wait that would otherwise hang; no test measures a duration. */
#ifndef TKL_LOOP_WAIT_H
#define TKL_LOOP_WAIT_H

#include <check.h>
#include <stdbool.h>
#include <uv.h>

static inline void tkl_wait_set_flag(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static inline void tkl_wait_closed(uv_handle_t *h)
{
    *(bool *)h->data = true;
}

/* Runs loop until cond(arg) holds or timeout_ms have passed; returns
 * whether it holds. The loop is left as it was found (the guard closed). */
static inline bool tkl_run_until(uv_loop_t *loop, bool (*cond)(void *arg), void *arg,
                                 unsigned timeout_ms)
{
    uv_timer_t guard;
    bool expired = false, closed = false;
    ck_assert_int_eq(uv_timer_init(loop, &guard), 0);
    guard.data = &expired;
    uv_update_time(loop);
    ck_assert_int_eq(uv_timer_start(&guard, tkl_wait_set_flag, timeout_ms, 0), 0);
    while (!cond(arg) && !expired)
        uv_run(loop, UV_RUN_ONCE);
    bool held = cond(arg);
    guard.data = &closed;
    uv_close((uv_handle_t *)&guard, tkl_wait_closed);
    while (!closed)
        uv_run(loop, UV_RUN_NOWAIT);
    return held;
}

static inline bool tkl_wait_never(void *arg)
{
    (void)arg;
    return false;
}

/* Runs loop for ms milliseconds: to let something that should not happen
 * show itself. */
static inline void tkl_run_for(uv_loop_t *loop, unsigned ms)
{
    (void)tkl_run_until(loop, tkl_wait_never, NULL, ms);
}

/* A count to reach, for tkl_count_reached. */
struct tkl_count_goal {
    const int *count;
    int goal;
};

static inline bool tkl_count_reached(void *arg)
{
    const struct tkl_count_goal *g = arg;
    return *g->count >= g->goal;
}

/* Runs loop until *count >= goal (a guard of 20 s); returns whether it did. */
static inline bool tkl_run_until_count(uv_loop_t *loop, const int *count, int goal)
{
    struct tkl_count_goal g = {count, goal};
    return tkl_run_until(loop, tkl_count_reached, &g, 20000);
}

/* Lets the close callbacks pending run (a few turns of the loop, without
 * waiting) and returns uv_loop_close(): 0 when no handle was left open. */
static inline int tkl_loop_finish(uv_loop_t *loop)
{
    for (int i = 0; i < 16 && uv_loop_alive(loop); i++)
        uv_run(loop, UV_RUN_NOWAIT);
    return uv_loop_close(loop);
}

#endif
