/* Tests for daemon/core/wallclock.c: a watch on the wall clock fires at
 * the instant armed, once, not when disarmed, and tells when the clock
 * was set. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/wallclock.h"

static uv_loop_t loop;
static struct tkl_wallclock w;
static uv_timer_t guard;
static int fired;
static bool told_set, guard_fired;
static int64_t fired_at;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_fire(struct tkl_wallclock *wc, bool clock_set)
{
    ck_assert_ptr_eq(wc, &w);
    fired++;
    told_set = clock_set;
    fired_at = wall_ms();
    uv_stop(&loop);
}

static void on_guard(uv_timer_t *t)
{
    (void)t;
    guard_fired = true;
    uv_stop(&loop);
}

static void setup(void)
{
    fired = 0;
    told_set = guard_fired = false;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_wallclock_init(&loop, &w, on_fire), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &guard), 0);
}

static void teardown(void)
{
    tkl_wallclock_close(&w, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0); /* every handle closed */
}

/* Runs the loop until the watch fires or the guard does, ms from now. */
static void run_until(uint64_t ms)
{
    ck_assert_int_eq(uv_timer_start(&guard, on_guard, ms, 0), 0);
    (void)uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_timer_stop(&guard);
}

START_TEST(it_fires_at_the_instant_armed_and_once)
{
    int64_t at = wall_ms() + 200;
    ck_assert_int_eq(tkl_wallclock_arm(&w, at), 0);
    run_until(30000);
    ck_assert_int_eq(fired, 1);
    ck_assert(!told_set);
    ck_assert_int_ge(fired_at, at);
    /* fired, it is disarmed: nothing more comes */
    run_until(300);
    ck_assert(guard_fired);
    ck_assert_int_eq(fired, 1);
}
END_TEST

START_TEST(a_new_instant_replaces_the_one_armed)
{
    int64_t at = wall_ms() + 100;
    ck_assert_int_eq(tkl_wallclock_arm(&w, at + 3600 * 1000), 0);
    ck_assert_int_eq(tkl_wallclock_arm(&w, at), 0);
    run_until(30000);
    ck_assert(!guard_fired);
    ck_assert_int_eq(fired, 1);
    ck_assert_int_ge(fired_at, at);
    /* and a later one, the earlier disarmed */
    ck_assert_int_eq(tkl_wallclock_arm(&w, wall_ms() + 100), 0);
    ck_assert_int_eq(tkl_wallclock_arm(&w, wall_ms() + 3600 * 1000), 0);
    run_until(500);
    ck_assert(guard_fired);
    ck_assert_int_eq(fired, 1);
}
END_TEST

START_TEST(disarmed_it_does_not_fire)
{
    ck_assert_int_eq(tkl_wallclock_arm(&w, wall_ms() + 50), 0);
    ck_assert_int_eq(tkl_wallclock_arm(&w, INT64_MAX), 0);
    run_until(400);
    ck_assert(guard_fired);
    ck_assert_int_eq(fired, 0);
}
END_TEST

START_TEST(an_instant_gone_by_fires_at_once)
{
    ck_assert_int_eq(tkl_wallclock_arm(&w, wall_ms() - 86400 * 1000), 0);
    run_until(30000);
    ck_assert_int_eq(fired, 1);
    ck_assert(!told_set);
    ck_assert_int_eq(tkl_wallclock_arm(&w, 0), 0); /* the epoch itself: gone by too */
    run_until(30000);
    ck_assert_int_eq(fired, 2);
}
END_TEST

/* Sets the wall clock to what it reads (back by the microseconds between
 * the two calls): a set all the same. */
static void on_set_clock(uv_timer_t *t)
{
    struct timespec ts;
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
    if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
        ck_assert_int_eq(errno, EPERM);
        fprintf(stderr, "test_wallclock: cannot set the clock here (EPERM): the set is not "
                        "tested\n");
        fired = -1;
        uv_stop(t->loop);
    }
}

START_TEST(a_clock_set_is_told)
{
    static uv_timer_t set; /* closed by the loop after the test returns */
    ck_assert_int_eq(tkl_wallclock_arm(&w, wall_ms() + 3600 * 1000), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &set), 0);
    ck_assert_int_eq(uv_timer_start(&set, on_set_clock, 20, 0), 0);
    run_until(30000);
    uv_close((uv_handle_t *)&set, NULL);
    if (fired == -1)
        return;
    ck_assert(!guard_fired);
    ck_assert_int_eq(fired, 1);
    ck_assert(told_set);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wallclock");
    TCase *tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, it_fires_at_the_instant_armed_and_once);
    tcase_add_test(tc, a_new_instant_replaces_the_one_armed);
    tcase_add_test(tc, disarmed_it_does_not_fire);
    tcase_add_test(tc, an_instant_gone_by_fires_at_once);
    tcase_add_test(tc, a_clock_set_is_told);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
