/* Tests for daemon/http/limit.c: a burst goes through and the next
 * request is told how long to wait; the bucket fills again with time;
 * keys are held apart; memory stays bounded, and a key being held back
 * stays held back however many other keys arrive. Times are given, not
 * read from a clock. */
#include <check.h>

#include "check_run.h"
#include <stdio.h>
#include <string.h>

#include "http/limit.h"

#define T0 1800000000

static int take(struct tkl_limiter *l, const char *key, int64_t now)
{
    return tkl_limiter_take(l, key, strlen(key), now);
}

START_TEST(a_burst_then_a_wait_then_one_per_interval)
{
    struct tkl_limiter l;
    tkl_limiter_init(&l, 10, 10, 16); /* 10 a minute: one every 6 seconds */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(take(&l, "token-a", T0), 0);
    ck_assert_int_eq(take(&l, "token-a", T0), 6);
    ck_assert_int_eq(take(&l, "token-a", T0 + 2), 4); /* refused takes nothing */
    ck_assert_int_eq(take(&l, "token-a", T0 + 6), 0);
    ck_assert_int_eq(take(&l, "token-a", T0 + 6), 6);
    /* a minute later the bucket is full again, no fuller */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(take(&l, "token-a", T0 + 600), 0);
    ck_assert_int_gt(take(&l, "token-a", T0 + 600), 0);
    /* a clock set back refills nothing, and is not a wait of its own */
    ck_assert_int_eq(take(&l, "token-a", T0), 6);
    tkl_limiter_free(&l);
}
END_TEST

START_TEST(keys_are_held_apart)
{
    struct tkl_limiter l;
    tkl_limiter_init(&l, 30, 2, 16);
    ck_assert_int_eq(take(&l, "192.0.2.1", T0), 0);
    ck_assert_int_eq(take(&l, "192.0.2.1", T0), 0);
    ck_assert_int_eq(take(&l, "192.0.2.1", T0), 2);
    ck_assert_int_eq(take(&l, "192.0.2.2", T0), 0);
    /* a key is its bytes: a prefix is another key */
    ck_assert_int_eq(tkl_limiter_take(&l, "192.0.2.1", 8, T0), 0);
    tkl_limiter_free(&l);
}
END_TEST

START_TEST(memory_is_bounded_and_the_held_back_stay_held_back)
{
    struct tkl_limiter l;
    char key[32];
    tkl_limiter_init(&l, 10, 3, 8);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(take(&l, "attacker", T0), 0);
    ck_assert_int_gt(take(&l, "attacker", T0), 0);
    /* a thousand other keys, each a request: at most 8 are kept */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "other-%d", i);
        ck_assert_int_eq(take(&l, key, T0 + 1), 0);
        ck_assert_uint_le(l.n, 8);
    }
    ck_assert_int_gt(take(&l, "attacker", T0 + 1), 0);
    /* with every key held back, the one nearest to full is forgotten */
    tkl_limiter_free(&l);
    tkl_limiter_init(&l, 10, 1, 2);
    ck_assert_int_eq(take(&l, "a", T0), 0);
    ck_assert_int_eq(take(&l, "b", T0 + 3), 0);
    ck_assert_int_eq(take(&l, "c", T0 + 3), 0); /* a had the fuller bucket: forgotten */
    ck_assert_int_eq(take(&l, "b", T0 + 3), 6);
    ck_assert_int_eq(take(&l, "c", T0 + 3), 6);
    tkl_limiter_free(&l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("limit");
    TCase *tc = tcase_create("limit");
    tcase_add_test(tc, a_burst_then_a_wait_then_one_per_interval);
    tcase_add_test(tc, keys_are_held_apart);
    tcase_add_test(tc, memory_is_bounded_and_the_held_back_stay_held_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
