/* Tests for daemon/schedule/scheduler.c: building, popping due reminders,
 * catch-up, and reloads that touch only what changed. */
#include <check.h>

#include "check_run.h"
#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/day.h"
#include "schedule/scheduler.h"

static struct tkl_config *cfg;
static struct tkl_diags diags;

static void setup(void)
{
    memset(&diags, 0, sizeof(diags));
    ck_assert_int_eq(tkl_config_load(TICKLER_SOURCE_DIR "/etc/tickler.conf", &cfg, &diags), 0);
}

static void teardown(void)
{
    tkl_config_free(cfg);
    tkl_diags_free(&diags);
}

static struct tkl_store *load(const char *csv)
{
    struct tkl_store *s = NULL;
    ck_assert_int_eq(
        tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", csv, strlen(csv), &s, &diags),
        0);
    return s;
}

static int64_t at(int y, int m, int d, int hh)
{
    return tkl_local_instant(tkl_day_from_civil(y, m, d), hh * 60);
}

/* The (action id, instant) of every entry, to compare schedules. */
static int64_t entry_at(const struct tkl_scheduler *s, const struct tkl_store *st, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(st->actions[s->heap[i].action].id, id))
            return s->heap[i].at;
    return -1;
}

#define PLAN "Ref,Actions,Responsibility,Timeframe,Status\n"

START_TEST(pops_in_order_with_the_next_stage_after)
{
    struct tkl_store *st =
        load(PLAN "A,One,HR,30/06/2023,\nB,Two,HR,Ongoing,\nC,Three,HR,May 2023,Complete\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 5, 1, 8);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    ck_assert_uint_eq(s.n, 2); /* the complete action is not scheduled */
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2023, 6, 2, 9)); /* A: 28 days before */
    struct tkl_due due;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 2, 8), &due),
                     -ENOENT);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 2, 9), &due), 0);
    ck_assert_str_eq(due.action->id, "A");
    ck_assert_str_eq(due.r.key, "lead-28");
    ck_assert(!due.late);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 16, 9)); /* next: 14 days before */
    ck_assert_int_eq(entry_at(&s, st, "B"), at(2023, 7, 3, 9));  /* July check-in */
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

START_TEST(catch_up_sends_only_the_latest_missed_once)
{
    /* stopped from 1 June to 20 June: 28- and 14-day stages were missed;
     * only the 14-day one is due at start, marked late */
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, at(2023, 6, 1, 12),
                                         at(2023, 6, 20, 12)),
                     0);
    struct tkl_due due;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 20, 12), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-14");
    ck_assert(due.late);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 20, 12), &due),
                     -ENOENT);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2023, 6, 23, 9));
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

START_TEST(reload_reschedules_only_the_changed_action)
{
    struct tkl_store *a =
        load(PLAN "A,One,HR,30/06/2023,\nB,Two,HR,31/07/2023,\nC,Three,HR,Ongoing,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 5, 1, 8);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, a, now, now), 0);
    /* B's deadline moves; C is removed; D is new */
    struct tkl_store *b = load(PLAN "A,One,HR,30/06/2023,\nB,Two,HR,31/08/2023,\nD,Four,HR,TBC,\n");
    size_t changed = 0;
    ck_assert_int_eq(tkl_scheduler_reload(&s, &cfg->schedule, &cfg->teams, a, b, now, &changed), 0);
    ck_assert_uint_eq(changed, 3);
    ck_assert_int_eq(entry_at(&s, b, "A"), at(2023, 6, 2, 9));
    ck_assert_int_eq(entry_at(&s, b, "B"), at(2023, 8, 3, 9)); /* 28 days before 31 Aug */
    ck_assert_int_eq(entry_at(&s, b, "C"), -1);
    ck_assert_int_eq(entry_at(&s, b, "D"), at(2023, 7, 3, 9));
    /* a kept entry is kept as it was, even after it advanced */
    struct tkl_due due;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, b, at(2023, 6, 2, 9), &due), 0);
    struct tkl_store *c =
        load(PLAN "A,One,HR,30/06/2023,\nB,Two,HR,31/08/2023,Complete\nD,Four,HR,TBC,\n");
    ck_assert_int_eq(
        tkl_scheduler_reload(&s, &cfg->schedule, &cfg->teams, b, c, at(2023, 6, 3, 9), &changed),
        0);
    ck_assert_uint_eq(changed, 1);
    ck_assert_int_eq(entry_at(&s, c, "A"), at(2023, 6, 16, 9));
    ck_assert_int_eq(entry_at(&s, c, "B"), -1); /* complete: no more reminders */
    tkl_scheduler_free(&s);
    tkl_store_free(a);
    tkl_store_free(b);
    tkl_store_free(c);
}
END_TEST

START_TEST(a_reminder_due_exactly_now_is_due_without_catch_up)
{
    /* started (or rebuilt) at the send time itself with nothing to catch
     * up: the deadline-day reminder is due now, not missed */
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 6, 30, 9);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), now);
    struct tkl_due due;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now, &due), 0);
    ck_assert_str_eq(due.r.key, "due");
    ck_assert(!due.late);
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("heap");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pops_in_order_with_the_next_stage_after);
    tcase_add_test(tc, catch_up_sends_only_the_latest_missed_once);
    tcase_add_test(tc, reload_reschedules_only_the_changed_action);
    tcase_add_test(tc, a_reminder_due_exactly_now_is_due_without_catch_up);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
