/*
 * Shared by the progress report's unit tests (test_report, test_word): the
 * store fixture, and officers' updates recorded for the store's actions.
 */
#ifndef TKL_REPORT_FIXTURE_H
#define TKL_REPORT_FIXTURE_H

#include <check.h>
#include <string.h>

#include <tickler/day.h>

#include "core/day.h"
#include "store_fixture.h"
#include "update/answer.h"

static inline int32_t day(int y, int m, int d)
{
    return tkl_day_from_civil(y, m, d);
}

/* 09:30 local time on y-m-d. */
static inline int64_t at(int y, int m, int d)
{
    return tkl_local_instant(day(y, m, d), 9 * 60 + 30);
}

static struct tkl_updates ups;

/* Records an update of kind k for action id of s by who at t, the plan as
 * it stands now (so that it holds). */
static inline struct tkl_update *record(const struct tkl_store *s, const char *id,
                                        enum tkl_update_kind k, const char *who, int64_t t,
                                        enum tkl_rag rag, const char *note)
{
    const struct tkl_action *a = tkl_store_find(s, id);
    static const struct tkl_action gone = {.deadline = {.day = TKL_NO_DAY}};
    if (!a)
        a = &gone; /* an action the plan no longer has */
    struct tkl_update u = {
        .id = (int64_t)ups.n + 1,
        .action_id = (char *)id,
        .recipient = (char *)who,
        .team_id = (char *)"hr",
        .kind = k,
        .at = t,
        .link_issued_at = t - 3600,
        .until_day = TKL_NO_DAY,
        .rag = rag,
        .note = (char *)note,
        .plan_deadline_day = a->deadline.day,
        .plan_deadline_text = a->deadline_text,
        .plan_status = a->status_text,
        .plan_owners = a->owners,
    };
    ck_assert_int_eq(tkl_updates_push(&ups, &u), 0);
    return &ups.v[ups.n - 1];
}

static inline void report_setup(void)
{
    setup();
    memset(&ups, 0, sizeof(ups));
}

static inline void report_teardown(void)
{
    tkl_updates_free(&ups);
    teardown();
}

#endif
