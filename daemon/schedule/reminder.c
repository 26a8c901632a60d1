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
    p->rules.overdue_weekly_for = 4;
    p->rules.escalate_after_weeks = 4;
    p->checkin_months = 1u << 0 | 1u << 3 | 1u << 6 | 1u << 9;
    p->catch_up_days = 7;
    p->catch_up_until = 17 * 60;
    p->holidays.region = TKL_REGION_ENGLAND_WALES;
    p->prompts.one_day = (struct tkl_ladder){.lead = {14, 2}, .n = 2};
    p->prompts.longer = (struct tkl_ladder){.lead = {42, 14}, .n = 2};
    p->lookahead_months = 2;
}

bool tkl_catch_up_now(const struct tkl_policy *p, int64_t t)
{
    int32_t day = tkl_local_day(t);
    if (p->catch_up_until < 0 || day == TKL_NO_DAY)
        return true;
    if (!tkl_is_working_day(&p->holidays, day) || t < tkl_local_instant(day, p->send_minute))
        return false;
    /* a default of 17:00 under a later send time: the day's end */
    int until = p->catch_up_until > p->send_minute ? p->catch_up_until : 24 * 60;
    return t < (until >= 24 * 60 ? tkl_local_instant(day + 1, 0) : tkl_local_instant(day, until));
}

int64_t tkl_catch_up_at(const struct tkl_policy *p, int64_t t)
{
    int32_t day = tkl_local_day(t);
    if (day == TKL_NO_DAY)
        return INT64_MAX;
    if (tkl_is_working_day(&p->holidays, day) && t <= tkl_local_instant(day, p->send_minute))
        return tkl_local_instant(day, p->send_minute);
    return tkl_local_instant(tkl_working_day_on_or_after(&p->holidays, day + 1), p->send_minute);
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

/* Writes v in decimal at p, zero-padded to width digits; returns the end. */
static char *put_uint(char *p, unsigned long long v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_int(char *p, long long v)
{
    if (v < 0) {
        *p++ = '-';
        return put_uint(p, 0ULL - (unsigned long long)v, 0);
    }
    return put_uint(p, (unsigned long long)v, 0);
}

/* Writes "<prefix>YYYY-MM" for r->month into r->key. */
static void month_key(struct tkl_reminder *r, const char *prefix)
{
    int32_t yy = r->month >= 0 ? r->month / 12 : -((11 - r->month) / 12);
    int mm = (int)(r->month - yy * 12) + 1;
    if (yy < 0 || yy > 9999) {
        snprintf(r->key, sizeof(r->key), "%s%04d-%02d", prefix, (int)yy, mm);
        return;
    }
    char *p = stpcpy(r->key, prefix);
    p = put_uint(p, (unsigned)yy, 4);
    *p++ = '-';
    p = put_uint(p, (unsigned)mm, 2);
    *p = '\0';
}

/* Writes r->key from the rest of r: "lead-28", "due", "after-2",
 * "overdue-3", "overdue-m2", "checkin-2023-04", "prompt-14",
 * "lookahead-2023-05". */
static void write_key(struct tkl_reminder *r)
{
    const char *prefix = "";
    char *p;
    switch (r->stage) {
    case TKL_STAGE_CHECKIN:
        month_key(r, "checkin-");
        return;
    case TKL_STAGE_LOOKAHEAD:
        month_key(r, "lookahead-");
        return;
    case TKL_STAGE_LEAD:
        prefix = "lead-";
        break;
    case TKL_STAGE_DUE:
        if (r->n == 0) {
            strcpy(r->key, "due");
            return;
        }
        prefix = "after-";
        break;
    case TKL_STAGE_OVERDUE:
        prefix = r->monthly ? "overdue-m" : "overdue-";
        break;
    case TKL_STAGE_PROMPT:
        prefix = "prompt-";
        break;
    default:
        r->key[0] = '\0';
        return;
    }
    p = stpcpy(r->key, prefix);
    p = put_int(p, r->stage == TKL_STAGE_DUE ? -(long long)r->n : r->n);
    *p = '\0';
}

void tkl_reminder_pack(const struct tkl_reminder *r, struct tkl_reminder_packed *ret)
{
    bool month = r->stage == TKL_STAGE_CHECKIN || r->stage == TKL_STAGE_LOOKAHEAD;
    *ret = (struct tkl_reminder_packed){
        .day = r->day,
        .n = month ? r->month : r->n,
        .stage = (uint8_t)r->stage,
        .flags = (uint8_t)((r->escalate ? 1 : 0) | (r->monthly ? 2 : 0)),
    };
}

void tkl_reminder_unpack(const struct tkl_reminder_packed *p, struct tkl_reminder *ret)
{
    bool month = p->stage == TKL_STAGE_CHECKIN || p->stage == TKL_STAGE_LOOKAHEAD;
    *ret = (struct tkl_reminder){
        .day = p->day,
        .stage = (enum tkl_stage)p->stage,
        .n = month ? 0 : p->n,
        .escalate = p->flags & 1,
        .monthly = p->flags & 2,
        .month = month ? p->n : 0,
    };
    write_key(ret);
}

static int next_checkin(const struct tkl_policy *p, int32_t from_day, bool keyed,
                        struct tkl_reminder *ret)
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
        *ret = (struct tkl_reminder){
            .day = day, .stage = TKL_STAGE_CHECKIN, .month = yy * 12 + mm - 1};
        if (keyed)
            write_key(ret);
        return 0;
    }
    return -ENOENT;
}

/*
 * The overdue nags of one deadline, numbered i = 1, 2, ...: nags 1 to
 * n_weekly are weekly, nag n_weekly + j (j >= 1) is the monthly one
 * first_month + j - 1 months after the deadline; nag 0 stands for the
 * deadline itself.
 *
 * Monthly means calendar months on the deadline's day of the month rather
 * than every four weeks: an officer reads "the 15th of each month" as
 * monthly and can tie it to the deadline, and a year then holds 12 nags,
 * not 13.
 */
struct nags {
    int32_t deadline;
    int every;
    int64_t n_weekly;
    int64_t first_month;
    int y, m, d; /* the deadline's date */
};

/* Due day of the nag `months` months after the deadline: the deadline's
 * day of the month, clamped to that month's length. */
static int32_t month_due(const struct nags *g, int64_t months)
{
    int64_t mi = (int64_t)g->m - 1 + months;
    int yy = g->y + (int)(mi / 12), mm = (int)(mi % 12) + 1;
    int len = tkl_days_in_month(yy, mm);
    return tkl_day_from_civil(yy, mm, g->d < len ? g->d : len);
}

static void nags_init(struct nags *g, const struct tkl_rules *rules, int32_t deadline)
{
    int64_t weekly_days = (int64_t)rules->overdue_weekly_for * 7;
    g->deadline = deadline;
    g->every = rules->overdue_every_days;
    g->n_weekly = weekly_days / g->every;
    tkl_day_to_civil(deadline, &g->y, &g->m, &g->d);
    /* months are at most 31 days, so none before this one can qualify */
    g->first_month = (weekly_days + 7) / 31 > 1 ? (weekly_days + 7) / 31 : 1;
    while (month_due(g, g->first_month) < deadline + weekly_days + 7)
        g->first_month++;
}

/* Due day of nag i (i >= 0). */
static int32_t nag_due(const struct nags *g, int64_t i)
{
    if (i <= g->n_weekly)
        return (int32_t)(g->deadline + i * g->every);
    return month_due(g, g->first_month + (i - g->n_weekly - 1));
}

/* Send day of nag i (i >= 1): the working day on or before its due day,
 * but always after the deadline; never decreasing in i. */
static int32_t nag_day(const struct tkl_policy *p, const struct nags *g, int64_t i)
{
    int32_t day = tkl_working_day_on_or_before(&p->holidays, nag_due(g, i));
    if (day <= g->deadline)
        day = tkl_working_day_on_or_after(&p->holidays, g->deadline + 1);
    return day;
}

/* A nag i0 whose send day is before from_day, as late as is cheap to find
 * (0, the deadline, when from_day is on or before the first nag's earliest
 * send day). Nag days never decrease, so no nag before i0 is due either. */
static int64_t nag_before(const struct tkl_policy *p, const struct nags *g, int32_t from_day)
{
    if (from_day <= tkl_working_day_on_or_after(&p->holidays, g->deadline + 1))
        return 0;
    /* a due day before from_day gives a send day before it */
    if ((int64_t)from_day - g->deadline <= g->n_weekly * g->every)
        return ((int64_t)from_day - g->deadline - 1) / g->every;
    int fy, fm, fd;
    tkl_day_to_civil(from_day, &fy, &fm, &fd);
    /* the nag a month before from_day's month is due before from_day */
    int64_t months = ((int64_t)fy - g->y) * 12 + (fm - g->m) - 1;
    if (months < g->first_month)
        return g->n_weekly;
    return g->n_weekly + 1 + (months - g->first_month);
}

/* The first overdue nag whose send day is on or after from_day. */
static void next_nag(const struct tkl_policy *p, const struct tkl_rules *rules, int32_t deadline,
                     int32_t from_day, bool keyed, struct tkl_reminder *ret)
{
    struct nags g;
    nags_init(&g, rules, deadline);
    int64_t i = nag_before(p, &g, from_day);
    int32_t last = i > 0 ? nag_day(p, &g, i) : deadline;
    for (i++;; i++) {
        int32_t day = nag_day(p, &g, i);
        if (day <= last || day < from_day) { /* a repeat, or not yet */
            last = day > last ? day : last;
            continue;
        }
        bool monthly = i > g.n_weekly;
        int64_t n = monthly ? g.first_month + (i - g.n_weekly - 1) : i;
        *ret = (struct tkl_reminder){
            .day = day,
            .stage = TKL_STAGE_OVERDUE,
            .n = (int)n,
            .escalate =
                rules->escalate_after_weeks > 0 &&
                (int64_t)nag_due(&g, i) - deadline >= (int64_t)rules->escalate_after_weeks * 7,
            .monthly = monthly,
        };
        if (keyed)
            write_key(ret);
        return;
    }
}

/* tkl_next_reminder, its key written only when keyed. */
static int next_reminder(const struct tkl_policy *p, const struct tkl_rules *rules,
                         enum tkl_deadline_kind kind, int32_t deadline, int32_t from_day,
                         bool keyed, struct tkl_reminder *ret)
{
    if (kind == TKL_DEADLINE_ONGOING || kind == TKL_DEADLINE_UNDATED || deadline == TKL_NO_DAY)
        return next_checkin(p, from_day, keyed, ret);
    if (!rules)
        rules = &p->rules;
    const struct tkl_ladder *ladder = kind == TKL_DEADLINE_REVIEW ? &rules->review : &rules->ladder;

    /* ladder stages, earliest first; a stage whose day equals the next
     * stage's day gives way to it */
    for (size_t i = 0; i < ladder->n; i++) {
        int lead = ladder->lead[i];
        /* its day is on or before deadline - lead: before from_day */
        if ((int64_t)deadline - lead < from_day)
            continue;
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
        if (keyed)
            write_key(ret);
        return 0;
    }
    if (rules->overdue_every_days <= 0)
        return -ENOENT;
    next_nag(p, rules, deadline, from_day, keyed, ret);
    return 0;
}

int tkl_next_reminder(const struct tkl_policy *p, const struct tkl_rules *rules,
                      enum tkl_deadline_kind kind, int32_t deadline, int32_t from_day,
                      struct tkl_reminder *ret)
{
    return next_reminder(p, rules, kind, deadline, from_day, true, ret);
}

int tkl_next_reminder_unkeyed(const struct tkl_policy *p, const struct tkl_rules *rules,
                              enum tkl_deadline_kind kind, int32_t deadline, int32_t from_day,
                              struct tkl_reminder *ret)
{
    return next_reminder(p, rules, kind, deadline, from_day, false, ret);
}

int tkl_next_prompt(const struct tkl_policy *p, const struct tkl_prompts *prompts,
                    int32_t first_day, int32_t last_day, int32_t from_day, struct tkl_reminder *ret)
{
    const struct tkl_prompts *own = prompts ? prompts : &p->prompts;
    const struct tkl_ladder *l = last_day > first_day ? &own->longer : &own->one_day;
    struct tkl_reminder best = {.day = INT32_MAX};
    /* prompts: the working day on or before first_day - lead */
    for (size_t i = 0; i < l->n; i++) {
        int32_t day = tkl_working_day_on_or_before(&p->holidays, first_day - l->lead[i]);
        if (day < from_day || day > best.day)
            continue;
        if (day == best.day && best.stage == TKL_STAGE_PROMPT && best.n <= l->lead[i])
            continue;
        best = (struct tkl_reminder){.day = day, .stage = TKL_STAGE_PROMPT, .n = l->lead[i]};
        write_key(&best);
    }
    /* look-aheads: the first working day of each month whose look-ahead
     * lists it, while it has not ended: the lookahead_months months ending
     * with the month of first_day (it is coming up), then each month to
     * that of last_day (it is under way); the first on or after from_day */
    if (p->lookahead_months > 0) {
        int y, m, d;
        tkl_day_to_civil(first_day, &y, &m, &d);
        int month = y * 12 + m - 1 - (p->lookahead_months - 1);
        tkl_day_to_civil(last_day, &y, &m, &d);
        for (int end = y * 12 + m - 1; month <= end; month++) {
            int32_t day = tkl_working_day_on_or_after(
                &p->holidays, tkl_day_from_civil(month / 12, month % 12 + 1, 1));
            if (day < from_day || day > last_day)
                continue;
            if (day < best.day) {
                best =
                    (struct tkl_reminder){.day = day, .stage = TKL_STAGE_LOOKAHEAD, .month = month};
                write_key(&best);
            }
            break;
        }
    }
    if (best.day == INT32_MAX)
        return -ENOENT;
    *ret = best;
    return 0;
}
