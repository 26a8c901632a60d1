/* Tests for daemon/schedule/scheduler.c: building, popping due reminders,
 * catch-up, and reloads that touch only what changed. */
#include <check.h>

#include "check_run.h"
#include <errno.h>

#include <stdio.h>
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
static int64_t entry_at(struct tkl_scheduler *s, const struct tkl_store *st, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(st->actions[s->heap[i].action].id, id))
            return tkl_scheduler_entry_at(s, &s->heap[i]);
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

/* Whether a due prompt is for an observance over by a later day: what a
 * start outside the sending hours would lose by waiting. */
START_TEST(a_due_prompt_over_by_a_later_day_is_known)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    /* one day, Thursday 10 December 2026: prompts on 26 November and 8 December */
    int32_t day = tkl_day_from_civil(2026, 12, 10);
    st->actions[0].deadline =
        (struct tkl_deadline){.kind = TKL_DEADLINE_EVENT, .day = day, .last_day = day};
    struct tkl_scheduler s = {0};
    /* stopped since Monday 7th, started on the evening of the day itself */
    int64_t now = at(2026, 12, 10, 20);
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, at(2026, 12, 7, 12), now), 0);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2026, 12, 8, 9));
    ck_assert(tkl_scheduler_prompt_over_by(&s, st, now, day, day + 1));      /* over on Friday */
    ck_assert(!tkl_scheduler_prompt_over_by(&s, st, now, day, day));         /* not on the day */
    ck_assert(!tkl_scheduler_prompt_over_by(&s, st, now, day + 1, day + 4)); /* over already */
    ck_assert(
        !tkl_scheduler_prompt_over_by(&s, st, at(2026, 12, 8, 8), day, day + 1)); /* not due */
    /* a reminder of an action is no prompt */
    st->actions[0].deadline.kind = TKL_DEADLINE_DATE;
    ck_assert(!tkl_scheduler_prompt_over_by(&s, st, now, day, day + 1));
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

START_TEST(a_reminder_due_exactly_now_stands_for_a_missed_one)
{
    /* a first start at the send time of Tuesday 30 May 2023 (after the
     * Spring bank holiday), catching up from 20 May: the lead-7 of
     * Wednesday 24 May was missed, and the lead-1 is due at this very
     * instant; only the lead-1 goes, on time, as it would have */
    struct tkl_store *st = load(PLAN "D,Accessible forms,ICT,31/05/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 5, 30, 9);
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, at(2023, 5, 20, 8), now), 0);
    struct tkl_due due;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now, &due), 0);
    ck_assert_str_eq(due.r.key, "lead-1");
    ck_assert(!due.late);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now, &due), -ENOENT);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2023, 5, 31, 9));
    tkl_scheduler_free(&s);
    /* a second later, the lead-1 is the latest missed: the same */
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, at(2023, 5, 20, 8), now + 1), 0);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now + 1, &due), 0);
    ck_assert_str_eq(due.r.key, "lead-1");
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now + 1, &due), -ENOENT);
    tkl_scheduler_free(&s);
    /* a second before, the lead-7 is caught up, late, and the lead-1 comes
     * at its time */
    ck_assert_int_eq(
        tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, at(2023, 5, 20, 8), now - 1), 0);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, now - 1, &due), 0);
    ck_assert_str_eq(due.r.key, "lead-7");
    ck_assert(due.late);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), now);
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

static size_t team_index(const char *id)
{
    for (size_t i = 0; i < cfg->teams.n; i++)
        if (!strcmp(cfg->teams.teams[i].id, id))
            return i;
    ck_abort_msg("no team %s", id);
    return 0;
}

/* Gives team id a weekly digest on weekday wd (0 = Monday). */
static void weekly(const char *id, int wd)
{
    struct tkl_rules *r = &cfg->schedule.team_rules[team_index(id)];
    r->weekly = true;
    r->weekday = wd;
}

/* Pops every reminder due by until, each at its time, into
 * "key@YYYY-MM-DD " text. */
static void pop_all(struct tkl_scheduler *s, const struct tkl_store *st, int64_t until, char *out,
                    size_t size)
{
    struct tkl_due due;
    size_t n = 0;
    out[0] = '\0';
    while (tkl_scheduler_next_at(s) <= until &&
           tkl_scheduler_pop_due(s, &cfg->schedule, st, tkl_scheduler_next_at(s), &due) == 0) {
        char day[11];
        ck_assert(!due.late);
        ck_assert_int_eq(due.at, tkl_local_instant(due.r.day, cfg->schedule.policy.send_minute));
        n += (size_t)snprintf(out + n, size - n, "%s@%s ", due.r.key,
                              tkl_day_format(due.r.day, day));
        ck_assert_uint_lt(n, size);
    }
}

/* The prompts of an observance whose day(s) are first to last, of the
 * source named source, popped from a schedule built on 1 April 2027. */
static void prompts_of(struct tkl_store *st, const char *source, int32_t first, int32_t last,
                       char *got, size_t size)
{
    struct tkl_action *a = &st->actions[0];
    char *file = a->file;
    a->deadline = (struct tkl_deadline){.kind = TKL_DEADLINE_EVENT, .day = first, .last_day = last};
    a->file = (char *)source; /* an observance's file is its source's name */
    struct tkl_scheduler s = {0};
    int64_t now = at(2027, 4, 1, 8);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    pop_all(&s, st, at(2027, 7, 1, 0), got, size);
    tkl_scheduler_free(&s);
    a->file = file;
}

/* A source with its own prompt_days (the council's awards, six weeks'
 * notice) prompts its observances by them; another source's keep the
 * schedule's. */
START_TEST(a_source_s_own_prompt_days_prompt_its_observances)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_source_prompts own = {
        .source = "awards",
        .prompts = {.one_day = {.lead = {42, 14}, .n = 2}, .longer = {.lead = {56}, .n = 1}}};
    cfg->schedule.source_prompts = &own;
    cfg->schedule.n_source_prompts = 1;
    cfg->schedule.policy.lookahead_months = 0; /* the prompts alone */
    int32_t thursday = tkl_day_from_civil(2027, 6, 10);
    char got[512];
    prompts_of(st, "awards", thursday, thursday, got, sizeof(got));
    ck_assert_str_eq(got, "prompt-42@2027-04-29 prompt-14@2027-05-27 ");
    /* a week: its own longer ladder, 56 days before Monday 7 June */
    prompts_of(st, "awards", thursday - 3, thursday + 3, got, sizeof(got));
    ck_assert_str_eq(got, "prompt-56@2027-04-12 ");
    /* the shipped calendar's source: the schedule's [ 14, 2 ] */
    prompts_of(st, "diversity", thursday, thursday, got, sizeof(got));
    ck_assert_str_eq(got, "prompt-14@2027-05-27 prompt-2@2027-06-08 ");
    cfg->schedule.source_prompts = NULL;
    cfg->schedule.n_source_prompts = 0;
    tkl_store_free(st);
}
END_TEST

/* A store of the plan and one observance, first of July 2027, of the
 * source named source. */
static struct tkl_store *with_observance(const char *source)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    int32_t day = tkl_day_from_civil(2027, 7, 1);
    /* taken by the store */
    struct tkl_action ev = {.id = strdup("ev-awards"),
                            .file = strdup(source),
                            .title = strdup("Staff awards"),
                            .deadline_text = strdup("1 July 2027"),
                            .deadline = {.kind = TKL_DEADLINE_EVENT, .day = day, .last_day = day}};
    ck_assert(ev.id && ev.file && ev.title && ev.deadline_text);
    ck_assert_int_eq(tkl_action_add_team(&ev, "hr"), 0);
    struct tkl_diags d = {0};
    ck_assert_int_eq(tkl_store_append(st, &ev, 1, &d), 0);
    tkl_diags_free(&d);
    return st;
}

/* An observance that moves to a source with prompt_days of its own (its
 * file moved to that source's directory), all else as it was, is
 * prompted by that source's after a store reload, as a new schedule
 * would. */
START_TEST(a_store_reload_prompts_an_observance_by_its_new_source)
{
    struct tkl_store *a = with_observance("diversity"), *b = with_observance("awards");
    struct tkl_source_prompts own = {.source = "awards",
                                     .prompts = {.one_day = {.lead = {42}, .n = 1}}};
    cfg->schedule.source_prompts = &own;
    cfg->schedule.n_source_prompts = 1;
    cfg->schedule.policy.lookahead_months = 0;
    struct tkl_scheduler s = {0}, fresh = {0};
    int64_t now = at(2027, 4, 1, 8);
    size_t changed = 0;
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, a, now, now), 0);
    ck_assert_int_eq(entry_at(&s, a, "ev-awards"), at(2027, 6, 17, 9)); /* 14 days */
    ck_assert_int_eq(tkl_scheduler_reload(&s, &cfg->schedule, &cfg->teams, a, b, now, &changed), 0);
    ck_assert_uint_eq(changed, 1);
    ck_assert_int_eq(tkl_scheduler_build(&fresh, &cfg->schedule, &cfg->teams, b, now, now), 0);
    ck_assert_int_eq(entry_at(&fresh, b, "ev-awards"), at(2027, 5, 20, 9)); /* 42 days */
    ck_assert_int_eq(entry_at(&s, b, "ev-awards"), entry_at(&fresh, b, "ev-awards"));
    tkl_scheduler_free(&fresh);
    tkl_scheduler_free(&s);
    cfg->schedule.source_prompts = NULL;
    cfg->schedule.n_source_prompts = 0;
    tkl_store_free(a);
    tkl_store_free(b);
}
END_TEST

START_TEST(a_weekly_team_gets_its_reminders_on_its_digest_day)
{
    /* deadline Friday 30 June 2023, digest on Mondays: the stages before
     * the deadline go on the Monday before them (29 May is a bank
     * holiday: Tuesday), the nags on the Monday after; lead-1 and due
     * share 26 June and the due one goes */
    weekly("hr", 0);
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 5, 1, 8);
    char got[1024];
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    pop_all(&s, st, at(2023, 10, 3, 0), got, sizeof(got));
    ck_assert_str_eq(got, "lead-28@2023-05-30 lead-14@2023-06-12 lead-7@2023-06-19 due@2023-06-26 "
                          "overdue-1@2023-07-10 overdue-2@2023-07-17 overdue-3@2023-07-24 "
                          "overdue-4@2023-07-31 overdue-m2@2023-09-04 overdue-m3@2023-10-02 ");
    tkl_scheduler_free(&s);
    /* the team of another rule is as it was */
    struct tkl_store *other = load(PLAN "A,One,Housing,30/06/2023,\n");
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, other, now, now), 0);
    pop_all(&s, other, at(2023, 7, 1, 0), got, sizeof(got));
    ck_assert_str_eq(got, "lead-28@2023-06-02 lead-14@2023-06-16 lead-7@2023-06-23 "
                          "lead-1@2023-06-29 due@2023-06-30 ");
    tkl_scheduler_free(&s);
    tkl_store_free(st);
    tkl_store_free(other);
}
END_TEST

START_TEST(a_weekly_reminder_whose_digest_day_has_passed_goes_before_the_deadline)
{
    /* added on Tuesday 27 June at 10:00, due on Friday 30 June, digest on
     * Mondays: its Monday has passed, so it goes on Wednesday, not on the
     * Monday after the deadline; the nags follow on Mondays */
    weekly("hr", 0);
    struct tkl_store *a = load(PLAN "B,Two,HR,31/12/2023,\n");
    struct tkl_store *b = load(PLAN "B,Two,HR,31/12/2023,\nA,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 6, 27, 10);
    char got[512];
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, a, now, now), 0);
    ck_assert_int_eq(tkl_scheduler_reload(&s, &cfg->schedule, &cfg->teams, a, b, now, NULL), 0);
    ck_assert_int_eq(entry_at(&s, b, "A"), at(2023, 6, 28, 9));
    pop_all(&s, b, at(2023, 7, 18, 0), got, sizeof(got));
    ck_assert_str_eq(got, "due@2023-06-28 overdue-1@2023-07-10 overdue-2@2023-07-17 ");
    tkl_scheduler_free(&s);
    tkl_store_free(a);
    tkl_store_free(b);
}
END_TEST

START_TEST(a_reminder_of_today_whose_time_had_passed_goes_at_the_next_send_time)
{
    /* added on Tuesday 2 May 2023 at 10:00, due on Tuesday 9 May: its
     * lead-7 was today at 09:00, before it was in the plan, so it goes on
     * Wednesday at 09:00, then lead-1 (on Friday 5 May: Monday 8 May was
     * a bank holiday) and due as the plan says */
    struct tkl_store *a = load(PLAN "Z,Other,HR,31/12/2023,\n");
    struct tkl_store *b =
        load(PLAN "Z,Other,HR,31/12/2023,\nA,One,HR,09/05/2023,\nB,Two,HR,03/05/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 5, 2, 10);
    char got[512];
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, a, now, now), 0);
    ck_assert_int_eq(tkl_scheduler_reload(&s, &cfg->schedule, &cfg->teams, a, b, now, NULL), 0);
    ck_assert_int_eq(entry_at(&s, b, "A"), at(2023, 5, 3, 9));
    /* B, due on Wednesday 3 May: its lead-1 of today would go on the day
     * its due reminder goes anyway, which stands for both */
    ck_assert_int_eq(entry_at(&s, b, "B"), at(2023, 5, 3, 9));
    pop_all(&s, b, at(2023, 5, 10, 0), got, sizeof(got));
    ck_assert_str_eq(got, "lead-7@2023-05-03 due@2023-05-03 lead-1@2023-05-05 due@2023-05-09 ");
    tkl_scheduler_free(&s);
    /* a first schedule made on Friday 16 June at 10:00 (nothing to catch
     * up), due Friday 23 June: lead-7 goes on Monday 19 June */
    struct tkl_store *c = load(PLAN "C,Three,HR,23/06/2023,\n");
    now = at(2023, 6, 16, 10);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, c, now, now), 0);
    pop_all(&s, c, at(2023, 6, 24, 0), got, sizeof(got));
    ck_assert_str_eq(got, "lead-7@2023-06-19 lead-1@2023-06-22 due@2023-06-23 ");
    tkl_scheduler_free(&s);
    /* made before today's send time: today's reminder is simply next */
    now = at(2023, 6, 16, 8);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, c, now, now), 0);
    ck_assert_int_eq(tkl_scheduler_next_at(&s), at(2023, 6, 16, 9));
    tkl_scheduler_free(&s);
    tkl_store_free(a);
    tkl_store_free(b);
    tkl_store_free(c);
}
END_TEST

START_TEST(a_snooze_ends_with_a_reminder)
{
    /* snoozed on 1 June until Tuesday 20 June: lead-28 (2 June) and
     * lead-14 (16 June) are held back; the next, lead-7 on 23 June, is
     * after the end, so lead-14 goes on the 20th instead */
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    struct tkl_due due;
    int64_t now = at(2023, 6, 1, 12);
    int32_t from = tkl_day_from_civil(2023, 6, 1), until = tkl_day_from_civil(2023, 6, 20);
    size_t hr = team_index("hr");
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 2, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-28");
    /* the next (lead-14) is before the end: it stays, to be held in turn */
    ck_assert_int_eq(
        tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr, from, until, now, false), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 16, 9));
    struct tkl_due held;
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 16, 9), &held), 0);
    ck_assert_str_eq(held.r.key, "lead-14");
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    ck_assert_int_eq(
        tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr, from, until, now, false), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 20, 9));
    /* a round that is put back undoes it */
    ck_assert_int_eq(tkl_scheduler_restore(&s, st, &held, 1), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 16, 9));
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, &cfg->schedule, st, at(2023, 6, 16, 9), &held), 0);
    ck_assert_int_eq(
        tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr, from, until, now, false), 0);
    /* at the end: lead-14, not late, then the ladder goes on */
    char got[256];
    pop_all(&s, st, at(2023, 6, 30, 9), got, sizeof(got));
    ck_assert_str_eq(got, "lead-14@2023-06-20 lead-7@2023-06-23 lead-1@2023-06-29 due@2023-06-30 ");
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

/* A snooze that ends the working day before the plan's own next reminder
 * lets that one go alone: the one it held back would come the working day
 * before it. So does a resume. */
START_TEST(a_hold_ending_just_before_the_next_reminder_lets_it_go_alone)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    struct tkl_due due;
    int64_t now = at(2023, 6, 1, 12);
    int32_t from = tkl_day_from_civil(2023, 6, 1);
    size_t hr = team_index("hr");
    const struct tkl_schedule_conf *sc = &cfg->schedule;
    ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, now, now), 0);
    for (int i = 0; i < 2; i++) /* lead-28, lead-14: held */
        ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 16, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-14");
    /* until Thursday 22 June: lead-7 is on Friday 23rd, the day after */
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from,
                                              tkl_day_from_civil(2023, 6, 22), now, false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    /* a resume on Wednesday 21st after its send time: back on the 22nd too */
    bool held = true;
    int64_t resumed = at(2023, 6, 21, 15);
    ck_assert_int_eq(tkl_scheduler_resume_preview(&s, sc, st, 0, hr, now, resumed, &held),
                     at(2023, 6, 23, 9));
    ck_assert(!held);
    ck_assert_int_eq(tkl_scheduler_resume(&s, sc, st, 0, hr, now, resumed, now, false), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    char got[256];
    pop_all(&s, st, at(2023, 6, 30, 9), got, sizeof(got));
    ck_assert_str_eq(got, "lead-7@2023-06-23 lead-1@2023-06-29 due@2023-06-30 ");
    tkl_scheduler_free(&s);
    tkl_store_free(st);
    /* due Monday 3 July: a snooze until Friday 23 June, lead-7 on Monday
     * 26th, the next working day: it goes alone too */
    st = load(PLAN "A,One,HR,03/07/2023,\n");
    ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, now, now), 0);
    for (int i = 0; i < 2; i++) /* lead-28, lead-14 (19 June): held */
        ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 19, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-14");
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from,
                                              tkl_day_from_civil(2023, 6, 23), now, false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 26, 9));
    /* until Thursday 22nd: Friday comes between, so lead-14 goes then */
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from,
                                              tkl_day_from_civil(2023, 6, 22), now, false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 22, 9));
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

/* A snooze until Thursday 22 June let lead-7, the plan's own on Friday
 * 23rd, go alone; the plan is reloaded on the 22nd after its send time
 * with a later deadline, 14 July, and the 23rd's lead-7 is gone. A
 * daemon's reload (replanned) brings the new plan's last held reminder,
 * lead-28 of 16 June, on the 23rd, the next working day; a preview does
 * not, and a reload after the 23rd's send time leaves the plan's own. */
START_TEST(a_reload_after_a_hold_ends_gives_back_what_the_plan_no_longer_sends)
{
    const struct tkl_schedule_conf *sc = &cfg->schedule;
    size_t hr = team_index("hr");
    int32_t from = tkl_day_from_civil(2023, 6, 1), until = tkl_day_from_civil(2023, 6, 22);
    const int64_t reloads[] = {at(2023, 6, 22, 12), at(2023, 6, 22, 12), at(2023, 6, 23, 10)};
    const bool replanned[] = {true, false, true};
    const char *want[] = {
        "lead-28@2023-06-23 lead-14@2023-06-30 lead-7@2023-07-07 ",
        "lead-14@2023-06-30 lead-7@2023-07-07 ",
        "lead-14@2023-06-30 lead-7@2023-07-07 ",
    };
    for (size_t k = 0; k < 3; k++) {
        struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
        struct tkl_store *later = load(PLAN "A,One,HR,14/07/2023,\n");
        struct tkl_scheduler s = {0};
        struct tkl_due due;
        int64_t now = at(2023, 6, 1, 12);
        char got[256];
        ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, now, now), 0);
        for (int i = 0; i < 2; i++) /* lead-28, lead-14: held */
            ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 16, 9), &due), 0);
        ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from, until, INT64_MIN, false),
                         0);
        ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
        ck_assert_int_eq(tkl_scheduler_reload(&s, sc, &cfg->teams, st, later, reloads[k], NULL), 0);
        ck_assert_int_eq(
            tkl_scheduler_snooze_end(&s, sc, later, 0, hr, from, until, reloads[k], replanned[k]),
            0);
        pop_all(&s, later, at(2023, 7, 7, 9), got, sizeof(got));
        ck_assert_str_eq(got, want[k]);
        tkl_scheduler_free(&s);
        tkl_store_free(st);
        tkl_store_free(later);
    }
}
END_TEST

/* A snooze until Friday 23 June, the day of the plan's own lead-7: that
 * one goes alone at the end, and lead-14, held on the 16th, is not sent.
 * A start, a reload or an update recorded that afternoon (replanned)
 * finds the plan unchanged, its own reminder of the end day gone: the
 * held lead-14 does not come on Monday 26th, after lead-7, as a second
 * reminder the officer was never due. */
START_TEST(a_replan_after_an_end_that_let_the_plans_own_go_sends_nothing_more)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    struct tkl_due due;
    const struct tkl_schedule_conf *sc = &cfg->schedule;
    size_t hr = team_index("hr");
    int32_t from = tkl_day_from_civil(2023, 6, 1), until = tkl_day_from_civil(2023, 6, 23);
    int64_t now = at(2023, 6, 1, 12), later = at(2023, 6, 23, 12);
    char got[256];
    ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, now, now), 0);
    for (int i = 0; i < 2; i++) /* lead-28, lead-14: held */
        ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 16, 9), &due), 0);
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from, until, INT64_MIN, false), 0);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 23, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-7");
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, sc, st, 0, hr, from, until, later, true), 0);
    ck_assert_int_eq(tkl_scheduler_resume(&s, sc, st, 0, hr, now, at(2023, 6, 22, 15), later, true),
                     0);
    pop_all(&s, st, at(2023, 6, 30, 9), got, sizeof(got));
    ck_assert_str_eq(got, "lead-1@2023-06-29 due@2023-06-30 ");
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

START_TEST(a_snooze_that_held_nothing_back_changes_nothing)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    int64_t now = at(2023, 6, 3, 12);
    size_t hr = team_index("hr");
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    /* 5 to 12 June holds no reminder: lead-14 on the 16th stays */
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr,
                                              tkl_day_from_civil(2023, 6, 5),
                                              tkl_day_from_civil(2023, 6, 12), now, false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 16, 9));
    ck_assert_uint_eq(s.n, 1);
    /* an end before the schedule's start is not brought back */
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr,
                                              tkl_day_from_civil(2023, 5, 1),
                                              tkl_day_from_civil(2023, 6, 2), now, false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 16, 9));
    /* a snooze past the last reminder gives the entry back at its end */
    struct tkl_store *end = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_due due;
    cfg->schedule.team_rules[hr].overdue_every_days = 0; /* no nags */
    tkl_scheduler_free(&s);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, end, now, now), 0);
    while (tkl_scheduler_pop_due(&s, &cfg->schedule, end, at(2023, 6, 30, 9), &due) == 0)
        ;
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, &cfg->schedule, end, 0, hr,
                                              tkl_day_from_civil(2023, 6, 26),
                                              tkl_day_from_civil(2023, 7, 8), now, false),
                     0);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(entry_at(&s, end, "A"), at(2023, 7, 10, 9)); /* 8 July is a Saturday */
    tkl_scheduler_free(&s);
    tkl_store_free(st);
    tkl_store_free(end);
}
END_TEST

/* A resume lets its held reminders go at the next send time after it (a
 * working day's), unless the next reminder is due by then. */
START_TEST(a_resume_sends_the_last_held_reminder_at_the_next_send_time)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,\n");
    struct tkl_scheduler s = {0};
    struct tkl_due due;
    size_t hr = team_index("hr");
    const struct tkl_schedule_conf *sc = &cfg->schedule;
    /* Friday 16 June 2023: before, at and after 09:00; then the weekend */
    ck_assert_int_eq(tkl_scheduler_resume_at(sc, at(2023, 6, 16, 8)), at(2023, 6, 16, 9));
    ck_assert_int_eq(tkl_scheduler_resume_at(sc, at(2023, 6, 16, 9)), at(2023, 6, 19, 9));
    ck_assert_int_eq(tkl_scheduler_resume_at(sc, at(2023, 6, 16, 15)), at(2023, 6, 19, 9));
    ck_assert_int_eq(tkl_scheduler_resume_at(sc, at(2023, 6, 17, 10)), at(2023, 6, 19, 9));
    /* held from 1 June: lead-28 (2 June) and lead-14 (16 June) taken, not
     * sent; resumed on the 16th at 15:00, lead-14 goes on Monday 19th
     * rather than waiting for lead-7 (23 June) */
    int64_t built = at(2023, 6, 1, 12), resumed = at(2023, 6, 16, 15);
    int64_t from = at(2023, 6, 1, 12); /* the snooze, after that day's send time */
    ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, built, built), 0);
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 16, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-28");
    ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 16, 9), &due), 0);
    ck_assert_str_eq(due.r.key, "lead-14");
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    /* a schedule built after the resume's send time is left as it is */
    ck_assert_int_eq(
        tkl_scheduler_resume(&s, sc, st, 0, hr, from, resumed, at(2023, 6, 19, 9), false), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    bool held = false;
    ck_assert_int_eq(tkl_scheduler_resume_preview(&s, sc, st, 0, hr, from, resumed, &held),
                     at(2023, 6, 19, 9));
    ck_assert(held);
    ck_assert_int_eq(tkl_scheduler_due_of(&s, 0, hr), at(2023, 6, 23, 9)); /* unchanged */
    /* a hold from after lead-14 was sent (16 June, 10:00) held nothing:
     * lead-7 comes as planned */
    ck_assert_int_eq(
        tkl_scheduler_resume_preview(&s, sc, st, 0, hr, at(2023, 6, 16, 10), resumed, &held),
        at(2023, 6, 23, 9));
    ck_assert(!held);
    ck_assert_int_eq(tkl_scheduler_resume(&s, sc, st, 0, hr, from, resumed, resumed, false), 0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 19, 9));
    ck_assert_int_eq(tkl_scheduler_due_of(&s, 0, hr), at(2023, 6, 19, 9));
    ck_assert_int_eq(tkl_scheduler_due_of(&s, 0, hr + 1), INT64_MAX);
    /* again: nothing more */
    ck_assert_int_eq(tkl_scheduler_resume(&s, sc, st, 0, hr, from, resumed, resumed, false), 0);
    ck_assert_uint_eq(s.n, 1);
    char got[256];
    pop_all(&s, st, at(2023, 6, 30, 9), got, sizeof(got));
    ck_assert_str_eq(got, "lead-14@2023-06-19 lead-7@2023-06-23 lead-1@2023-06-29 due@2023-06-30 ");
    tkl_scheduler_free(&s);
    /* resumed on Thursday 22 June at 10:00: lead-7 is due on the 23rd, the
     * next send time, anyway */
    ck_assert_int_eq(tkl_scheduler_build(&s, sc, &cfg->teams, st, built, built), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(tkl_scheduler_pop_due(&s, sc, st, at(2023, 6, 22, 10), &due), 0);
    ck_assert_int_eq(tkl_scheduler_resume(&s, sc, st, 0, hr, from, at(2023, 6, 22, 10),
                                          at(2023, 6, 22, 10), false),
                     0);
    ck_assert_int_eq(entry_at(&s, st, "A"), at(2023, 6, 23, 9));
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

/* An action the plan marks complete is scheduled nothing, and a snooze's
 * end or a resume brings nothing back for it. */
START_TEST(a_completed_action_gets_nothing_back)
{
    struct tkl_store *st = load(PLAN "A,One,HR,30/06/2023,Complete\n");
    struct tkl_scheduler s = {0};
    bool held = true;
    size_t hr = team_index("hr");
    int64_t now = at(2023, 6, 20, 15);
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, now, now), 0);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(tkl_scheduler_snooze_end(&s, &cfg->schedule, st, 0, hr,
                                              tkl_day_from_civil(2023, 6, 1),
                                              tkl_day_from_civil(2023, 6, 21), now, false),
                     0);
    ck_assert_int_eq(
        tkl_scheduler_resume(&s, &cfg->schedule, st, 0, hr, at(2023, 6, 1, 10), now, now, false),
        0);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(
        tkl_scheduler_resume_preview(&s, &cfg->schedule, st, 0, hr, at(2023, 6, 1, 10), now, &held),
        INT64_MAX);
    ck_assert(!held);
    tkl_scheduler_free(&s);
    tkl_store_free(st);
}
END_TEST

/* A reminder as popped: when, whose and which. */
struct popped {
    int64_t at;
    size_t action, team;
    char key[32];
};

static int popped_cmp(const void *a, const void *b)
{
    const struct popped *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->action != y->action)
        return x->action < y->action ? -1 : 1;
    return (x->team > y->team) - (x->team < y->team);
}

/* Pops every reminder of s due by until into v (growing it); returns how
 * many. */
static size_t pop_into(struct tkl_scheduler *s, const struct tkl_store *st, int64_t until,
                       struct popped **v, size_t n, size_t *cap)
{
    struct tkl_due due;
    while (tkl_scheduler_pop_due(s, &cfg->schedule, st, until, &due) == 0) {
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *v = realloc(*v, *cap * sizeof(**v));
            ck_assert_ptr_nonnull(*v);
        }
        struct popped *p = &(*v)[n++];
        *p = (struct popped){
            .at = due.at, .action = (size_t)(due.action - st->actions), .team = due.team};
        snprintf(p->key, sizeof(p->key), "%s", due.r.key);
    }
    return n;
}

/* The heap takes a year of reminders of a generated plan in the order of
 * the straightforward way: every (action, team)'s reminders listed one
 * cursor at a time, then all sorted by instant, action and team (ties on a
 * day are many: hundreds of actions, a few dozen days). */
START_TEST(the_heap_gives_what_sorting_every_reminder_gives)
{
    static const char *const owners[] = {"HR", "ICT", "Housing", "Comms", "HR, ICT", "Museums"};
    static const char *const kinds[] = {"", "", "", "Ongoing", "Review", "May 2024"};
    size_t size = 64 * 1024, len = 0;
    char *csv = malloc(size);
    ck_assert_ptr_nonnull(csv);
    len += (size_t)snprintf(csv, size, PLAN);
    uint32_t x = 12345;
    for (int i = 0; i < 600; i++) {
        x = x * 1103515245u + 12345u;
        int32_t d = tkl_day_from_civil(2023, 1, 1) + (int32_t)(x >> 8) % 500;
        int y, m, dd;
        tkl_day_to_civil(d, &y, &m, &dd);
        const char *kind = kinds[(x >> 4) % 6];
        char when[32];
        if (!strcmp(kind, "Review"))
            snprintf(when, sizeof(when), "Review %02d/%02d/%04d", dd, m, y);
        else if (*kind)
            snprintf(when, sizeof(when), "%s", kind);
        else
            snprintf(when, sizeof(when), "%02d/%02d/%04d", dd, m, y);
        len += (size_t)snprintf(csv + len, size - len, "A%d,Action %d,\"%s\",%s,%s\n", i, i,
                                owners[i % 6], when, i % 17 == 0 ? "Complete" : "");
        ck_assert_uint_lt(len, size);
    }
    weekly("ict", 2);
    struct tkl_store *st = load(csv);
    free(csv);
    int64_t lo = at(2023, 3, 1, 0), hi = at(2024, 3, 1, 0);
    struct tkl_scheduler s = {0};
    ck_assert_int_eq(tkl_scheduler_build(&s, &cfg->schedule, &cfg->teams, st, lo, lo), 0);
    ck_assert_uint_gt(s.n, 500);

    /* the reference: each entry's cursor alone, to the end, then sorted */
    struct popped *want = NULL, *got = NULL;
    size_t n_want = 0, cap_want = 0, n_got = 0, cap_got = 0;
    for (size_t i = 0; i < s.n; i++) {
        struct tkl_scheduler one = {.send_minute = s.send_minute};
        one.heap = malloc(sizeof(*one.heap));
        ck_assert_ptr_nonnull(one.heap);
        one.heap[0] = s.heap[i];
        one.n = one.cap = 1;
        n_want = pop_into(&one, st, hi, &want, n_want, &cap_want);
        tkl_scheduler_free(&one);
    }
    qsort(want, n_want, sizeof(*want), popped_cmp);

    n_got = pop_into(&s, st, hi, &got, 0, &cap_got);
    ck_assert_uint_gt(n_got, 2000);
    ck_assert_uint_eq(n_got, n_want);
    for (size_t i = 0; i < n_got; i++) {
        ck_assert_msg(popped_cmp(&got[i], &want[i]) == 0 && !strcmp(got[i].key, want[i].key),
                      "reminder %zu: %s of %s, want %s of %s", i, got[i].key,
                      st->actions[got[i].action].id, want[i].key, st->actions[want[i].action].id);
    }
    free(want);
    free(got);
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
    tcase_add_test(tc, a_due_prompt_over_by_a_later_day_is_known);
    tcase_add_test(tc, a_source_s_own_prompt_days_prompt_its_observances);
    tcase_add_test(tc, a_store_reload_prompts_an_observance_by_its_new_source);
    tcase_add_test(tc, reload_reschedules_only_the_changed_action);
    tcase_add_test(tc, a_reminder_due_exactly_now_is_due_without_catch_up);
    tcase_add_test(tc, a_reminder_due_exactly_now_stands_for_a_missed_one);
    tcase_add_test(tc, a_weekly_team_gets_its_reminders_on_its_digest_day);
    tcase_add_test(tc, a_weekly_reminder_whose_digest_day_has_passed_goes_before_the_deadline);
    tcase_add_test(tc, a_reminder_of_today_whose_time_had_passed_goes_at_the_next_send_time);
    tcase_add_test(tc, a_snooze_ends_with_a_reminder);
    tcase_add_test(tc, a_hold_ending_just_before_the_next_reminder_lets_it_go_alone);
    tcase_add_test(tc, a_resume_sends_the_last_held_reminder_at_the_next_send_time);
    tcase_add_test(tc, a_completed_action_gets_nothing_back);
    tcase_add_test(tc, a_snooze_that_held_nothing_back_changes_nothing);
    tcase_add_test(tc, a_reload_after_a_hold_ends_gives_back_what_the_plan_no_longer_sends);
    tcase_add_test(tc, a_replan_after_an_end_that_let_the_plans_own_go_sends_nothing_more);
    tcase_add_test(tc, the_heap_gives_what_sorting_every_reminder_gives);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
