#include "reminder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"

void tkl_policy_default(struct tkl_policy *p)
{
    static const int lead[] = {28, 14, 7, 1, 0};
    memset(p, 0, sizeof(*p));
    p->send_minute = 9 * 60;
    p->rules.ladder.n = sizeof(lead) / sizeof(lead[0]);
    memcpy(p->rules.ladder.lead, lead, sizeof(lead));
    p->rules.review = p->rules.ladder;
    p->rules.overdue_every_days = 7;
    p->rules.escalate_after_weeks = 4;
    p->checkin_months = 1u << 0 | 1u << 3 | 1u << 6 | 1u << 9;
    p->catch_up_days = 7;
    p->holidays.region = TKL_REGION_ENGLAND_WALES;
    p->prompt_day = (struct tkl_ladder){.lead = {14, 2}, .n = 2};
    p->prompt_long = (struct tkl_ladder){.lead = {42, 14}, .n = 2};
    p->lookahead_months = 2;
}

static int cmp_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

void tkl_ladder_normalise(struct tkl_ladder *l)
{
    qsort(l->lead, l->n, sizeof(int), cmp_desc);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (k == 0 || l->lead[k - 1] != l->lead[i])
            l->lead[k++] = l->lead[i];
    l->n = k;
}

static int next_checkin(const struct tkl_policy *p, int32_t from_day, struct tkl_reminder *ret)
{
    if (!p->checkin_months)
        return -ENOENT;
    int y, m, d;
    tkl_day_to_civil(from_day, &y, &m, &d);
    /* this month's check-in may still be ahead; look 13 months on */
    for (int i = 0; i <= 13; i++) {
        int mm = (m - 1 + i) % 12 + 1, yy = y + (m - 1 + i) / 12;
        if (!(p->checkin_months & (1u << (mm - 1))))
            continue;
        int32_t day = tkl_working_day_on_or_after(&p->holidays, tkl_day_from_civil(yy, mm, 1));
        if (day < from_day)
            continue;
        *ret = (struct tkl_reminder){.day = day, .stage = TKL_STAGE_CHECKIN};
        snprintf(ret->key, sizeof(ret->key), "checkin-%04d-%02d", yy, mm);
        return 0;
    }
    return -ENOENT;
}

/* Send day of overdue nag k (k >= 1): the working day on or before
 * deadline + k * every, but always after the deadline. */
static int32_t nag_day(const struct tkl_policy *p, int every, int32_t deadline, int k)
{
    int32_t day = tkl_working_day_on_or_before(&p->holidays, deadline + k * every);
    if (day <= deadline)
        day = tkl_working_day_on_or_after(&p->holidays, deadline + 1);
    return day;
}

int tkl_next_reminder(const struct tkl_policy *p, const struct tkl_rules *rules,
                      enum tkl_deadline_kind kind, int32_t deadline, int32_t from_day,
                      struct tkl_reminder *ret)
{
    if (kind == TKL_DEADLINE_ONGOING || kind == TKL_DEADLINE_UNDATED || deadline == TKL_NO_DAY)
        return next_checkin(p, from_day, ret);
    if (!rules)
        rules = &p->rules;
    const struct tkl_ladder *ladder = kind == TKL_DEADLINE_REVIEW ? &rules->review : &rules->ladder;

    /* ladder stages, earliest first; a stage whose day equals the next
     * stage's day gives way to it */
    for (size_t i = 0; i < ladder->n; i++) {
        int lead = ladder->lead[i];
        int32_t day = tkl_working_day_on_or_before(&p->holidays, deadline - lead);
        if (i + 1 < ladder->n &&
            tkl_working_day_on_or_before(&p->holidays, deadline - ladder->lead[i + 1]) == day)
            continue;
        if (day < from_day)
            continue;
        *ret = (struct tkl_reminder){
            .day = day,
            .stage = lead > 0 ? TKL_STAGE_LEAD : TKL_STAGE_DUE,
            .n = lead,
        };
        if (lead > 0)
            snprintf(ret->key, sizeof(ret->key), "lead-%d", lead);
        else if (lead == 0)
            snprintf(ret->key, sizeof(ret->key), "due");
        else
            snprintf(ret->key, sizeof(ret->key), "after-%d", -lead);
        return 0;
    }
    if (rules->overdue_every_days <= 0)
        return -ENOENT;
    /* nags: the first k whose day is on or after from_day; a nag day can
     * move back by at most a few days, so start a step early */
    int every = rules->overdue_every_days;
    int k = from_day > deadline ? (int)((from_day - deadline) / every) : 1;
    if (k < 1)
        k = 1;
    if (k > 1)
        k--;
    int32_t last_before = k > 1 ? nag_day(p, every, deadline, k - 1) : deadline;
    for (;; k++) {
        int32_t day = nag_day(p, every, deadline, k);
        if (day <= last_before) /* two nags on one day: skip the repeat */
            continue;
        last_before = day;
        if (day < from_day)
            continue;
        *ret = (struct tkl_reminder){
            .day = day,
            .stage = TKL_STAGE_OVERDUE,
            .n = k,
            .escalate = rules->escalate_after_weeks > 0 &&
                        (int64_t)k * every >= (int64_t)rules->escalate_after_weeks * 7,
        };
        snprintf(ret->key, sizeof(ret->key), "overdue-%d", k);
        return 0;
    }
}

int tkl_next_prompt(const struct tkl_policy *p, int32_t first_day, int32_t last_day,
                    int32_t from_day, struct tkl_reminder *ret)
{
    const struct tkl_ladder *l = last_day > first_day ? &p->prompt_long : &p->prompt_day;
    struct tkl_reminder best = {.day = INT32_MAX};
    /* prompts: the working day on or before first_day - lead */
    for (size_t i = 0; i < l->n; i++) {
        int32_t day = tkl_working_day_on_or_before(&p->holidays, first_day - l->lead[i]);
        if (day < from_day || day > best.day)
            continue;
        if (day == best.day && best.stage == TKL_STAGE_PROMPT && best.n <= l->lead[i])
            continue;
        best = (struct tkl_reminder){.day = day, .stage = TKL_STAGE_PROMPT, .n = l->lead[i]};
        snprintf(best.key, sizeof(best.key), "prompt-%d", l->lead[i]);
    }
    /* look-aheads: the first working day of each of the lookahead_months
     * months ending with the month of first_day, while it has not ended */
    int y, m, d;
    tkl_day_to_civil(first_day, &y, &m, &d);
    for (int k = p->lookahead_months - 1; k >= 0; k--) {
        int mm = m - k, yy = y;
        while (mm < 1) {
            mm += 12;
            yy--;
        }
        int32_t day = tkl_working_day_on_or_after(&p->holidays, tkl_day_from_civil(yy, mm, 1));
        if (day < from_day || day > last_day || day >= best.day)
            continue;
        best = (struct tkl_reminder){.day = day, .stage = TKL_STAGE_LOOKAHEAD};
        snprintf(best.key, sizeof(best.key), "lookahead-%04d-%02d", yy, mm);
    }
    if (best.day == INT32_MAX)
        return -ENOENT;
    *ret = best;
    return 0;
}
