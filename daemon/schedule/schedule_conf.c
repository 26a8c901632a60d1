#include "schedule_conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"
#include "holidays.h"

/* A ladder: a list of lead days. Returns 0 or -EINVAL (*ret untouched). */
static int get_ladder(const struct tkl_confread *x, const config_setting_t *s,
                      struct tkl_ladder *ret)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        tkl_conf_err_at(x, s,
                        "a ladder is a list of days before the deadline: [ 28, 14, 7, 1, 0 ]");
        return -EINVAL;
    }
    int n = config_setting_length(s);
    if (n < 1 || n > TKL_MAX_LADDER) {
        tkl_conf_err_at(x, s, "a ladder holds 1 to %d lead times (got %d)", TKL_MAX_LADDER, n);
        return -EINVAL;
    }
    struct tkl_ladder l = {.n = (size_t)n};
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 0 ||
            config_setting_get_int(e) > 366) {
            tkl_conf_err_at(x, e, "lead times are whole numbers of days from 0 to 366");
            return -EINVAL;
        }
        l.lead[i] = config_setting_get_int(e);
    }
    tkl_ladder_normalise(&l);
    *ret = l;
    return 0;
}

/* The ladder member key of g, when there is one. Returns 0 or -EINVAL. */
static int get_ladder_member(const struct tkl_confread *x, const config_setting_t *g,
                             const char *key, struct tkl_ladder *ret)
{
    const config_setting_t *l = config_setting_get_member(g, key);
    return l ? get_ladder(x, l, ret) : 0;
}

/* A list of YYYY-MM-DD days. Returns 0 with *ret (n + 1 days, the caller
 * frees it) and *ret_n set, -EINVAL or -ENOMEM; on failure both are
 * untouched. */
static int get_days(const struct tkl_confread *x, const config_setting_t *s, int32_t **ret,
                    size_t *ret_n)
{
    char **v = NULL;
    size_t n = 0;
    int r = tkl_conf_get_strings(x, s, "a holiday list", &v, &n);
    if (r < 0)
        return r;
    int32_t *days = calloc(n + 1, sizeof(*days));
    if (!days) {
        tkl_strv_free(v, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n && r == 0; i++)
        if (tkl_day_parse_iso(v[i], &days[i]) < 0) {
            tkl_conf_err_at(x, s, "\"%s\" is not a date in the form YYYY-MM-DD", v[i]);
            r = -EINVAL;
        }
    tkl_strv_free(v, n);
    if (r < 0) {
        free(days);
        return r;
    }
    *ret = days;
    *ret_n = n;
    return 0;
}

/* Reads the rule keys present in g (the schedule or a team) over *rules.
 * Returns 0 or -EINVAL. */
static int get_rules(const struct tkl_confread *x, const config_setting_t *g,
                     struct tkl_rules *rules)
{
    int r = 0;
    if (get_ladder_member(x, g, "ladder", &rules->ladder) < 0)
        r = -EINVAL;
    if (get_ladder_member(x, g, "review_ladder", &rules->review) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "overdue_every_days", 0, 365, &rules->overdue_every_days) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "overdue_weekly_for", 0, 520, &rules->overdue_weekly_for) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "escalate_after_weeks", 0, 520, &rules->escalate_after_weeks) < 0)
        r = -EINVAL;
    return r;
}

/* checkin_months: a list of month numbers, as a mask. Returns 0 or -EINVAL. */
static int get_months(const struct tkl_confread *x, const config_setting_t *l, unsigned *ret)
{
    unsigned mask = 0;
    bool ok = config_setting_is_array(l) || config_setting_is_list(l);
    for (int i = 0; ok && i < config_setting_length(l); i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        int m = config_setting_get_int(e);
        ok = config_setting_type(e) == CONFIG_TYPE_INT && m >= 1 && m <= 12;
        mask |= ok ? 1u << (m - 1) : 0;
    }
    *ret = mask;
    if (ok)
        return 0;
    tkl_conf_err_at(x, l, "checkin_months must list month numbers 1 to 12: [ 1, 4, 7, 10 ]");
    return -EINVAL;
}

/* schedule.holidays over *h. Returns 0, -EINVAL or -ENOMEM. */
static int get_holidays(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_holidays *h)
{
    static const char *const hol_keys[] = {"region", "add", "remove", NULL};
    const config_setting_t *l;
    const char *s;
    int r = 0, rr;
    if (!tkl_conf_check_keys(x, g, "schedule.holidays", hol_keys))
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "region", &s) > 0) {
        int reg = tkl_region_parse(s);
        if (reg < 0) {
            tkl_conf_err_at(x, config_setting_get_member(g, "region"),
                            "region must be \"england-and-wales\", \"scotland\", "
                            "\"northern-ireland\" or \"none\" (got \"%s\")",
                            s);
            r = -EINVAL;
        } else {
            h->region = (enum tkl_region)reg;
        }
    }
    if ((l = config_setting_get_member(g, "add")) && (rr = get_days(x, l, &h->add, &h->n_add)) < 0)
        r = rr;
    if ((l = config_setting_get_member(g, "remove")) &&
        (rr = get_days(x, l, &h->remove, &h->n_remove)) < 0)
        r = rr;
    return r;
}

/* catch_up_until over p->catch_up_until: "HH:MM" after the send time (read
 * first), "24:00", or "any time". Returns 0 or -EINVAL. */
static int get_catch_up_until(const struct tkl_confread *x, const config_setting_t *g,
                              struct tkl_policy *p)
{
    const char *s;
    int minute;
    int r = tkl_conf_get_string(x, g, "catch_up_until", &s);
    if (r <= 0)
        return r; /* absent, or not a string (said) */
    if (strcmp(s, "any time") == 0)
        minute = -1;
    else if (strcmp(s, "24:00") == 0)
        minute = 24 * 60;
    else if (tkl_parse_hhmm(s, &minute) < 0 || minute <= p->send_minute) {
        int h = p->send_minute / 60, m = p->send_minute % 60;
        tkl_conf_err_at(x, config_setting_get_member(g, "catch_up_until"),
                        "catch_up_until must be HH:MM after send_time (%02d:%02d), \"24:00\" or "
                        "\"any time\" (got \"%s\")",
                        h, m, s);
        return -EINVAL;
    }
    p->catch_up_until = minute;
    return 0;
}

/* The prompt keys of g (the schedule or a source), prompt_days and
 * prompt_days_long, over *prompts. Returns 0 or -EINVAL. */
static int get_prompt_ladders(const struct tkl_confread *x, const config_setting_t *g,
                              struct tkl_prompts *prompts)
{
    int r = 0;
    if (get_ladder_member(x, g, "prompt_days", &prompts->one_day) < 0)
        r = -EINVAL;
    if (get_ladder_member(x, g, "prompt_days_long", &prompts->longer) < 0)
        r = -EINVAL;
    return r;
}

/* The policy's catch-up and prompt keys over *p. Returns 0 or -EINVAL. */
static int get_prompts(const struct tkl_confread *x, const config_setting_t *g,
                       struct tkl_policy *p)
{
    int r = 0;
    if (tkl_conf_get_int(x, g, "catch_up_days", 0, 365, &p->catch_up_days) < 0)
        r = -EINVAL;
    if (get_prompt_ladders(x, g, &p->prompts) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "lookahead_months", 0, 12, &p->lookahead_months) < 0)
        r = -EINVAL;
    return r;
}

void tkl_schedule_conf_init(struct tkl_schedule_conf *sc)
{
    *sc = (struct tkl_schedule_conf){0};
    tkl_policy_default(&sc->policy);
    /* without its bitset, the working-day tests compute the same answers */
    (void)tkl_holidays_index(&sc->policy.holidays);
}

int tkl_schedule_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_schedule_conf *sc)
{
    static const char *const keys[] = {"send_time",
                                       "ladder",
                                       "review_ladder",
                                       "overdue_every_days",
                                       "overdue_weekly_for",
                                       "escalate_after_weeks",
                                       "escalate_to",
                                       "checkin_months",
                                       "catch_up_days",
                                       "holidays",
                                       "prompt_days",
                                       "prompt_days_long",
                                       "lookahead_months",
                                       "catch_up_until",
                                       NULL};
    struct tkl_policy *p = &sc->policy;
    const config_setting_t *l;
    const char *s;
    int r = 0, rr;
    if (!g)
        return 0;
    if (!tkl_conf_check_keys(x, g, "schedule", keys))
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "send_time", &s) > 0 && tkl_parse_hhmm(s, &p->send_minute) < 0) {
        tkl_conf_err_at(x, config_setting_get_member(g, "send_time"),
                        "send_time must be HH:MM in 24-hour local time (got \"%s\")", s);
        r = -EINVAL;
    }
    if (get_catch_up_until(x, g, p) < 0)
        r = -EINVAL;
    bool review_set = config_setting_get_member(g, "review_ladder") != NULL;
    if (get_rules(x, g, &p->rules) < 0)
        r = -EINVAL;
    if (!review_set)
        p->rules.review = p->rules.ladder;
    if (get_prompts(x, g, p) < 0)
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "escalate_to", &s) > 0) {
        free(sc->escalate_to);
        if (!(sc->escalate_to = strdup(s)))
            return -ENOMEM;
    }
    if ((l = config_setting_get_member(g, "checkin_months")) &&
        get_months(x, l, &p->checkin_months) < 0)
        r = -EINVAL;
    if ((l = config_setting_get_member(g, "holidays")) &&
        (rr = get_holidays(x, l, &p->holidays)) < 0)
        r = rr;
    if (l && tkl_holidays_index(&p->holidays) < 0)
        return -ENOMEM;
    return r;
}

int tkl_schedule_conf_teams(const struct tkl_confread *x, const config_setting_t *list,
                            const struct tkl_team_dir *teams, struct tkl_schedule_conf *sc)
{
    int r = 0;
    if (!teams->n)
        return 0;
    struct tkl_rules *v = calloc(teams->n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    free(sc->team_rules);
    sc->team_rules = v;
    sc->n_team_rules = teams->n;
    for (size_t i = 0; i < teams->n; i++) {
        v[i] = sc->policy.rules;
        v[i].weekly = teams->teams[i].weekly;
        v[i].weekday = teams->teams[i].weekday;
    }
    /* the directory holds the entries it took in list order, each the
     * first with its id: the next team's entry is the next with its id */
    size_t next = 0;
    for (int i = 0; list && next < teams->n && i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const config_setting_t *id =
            config_setting_is_group(g) ? config_setting_get_member(g, "id") : NULL;
        const char *s = id ? config_setting_get_string(id) : NULL;
        if (!s || strcmp(s, teams->teams[next].id) != 0)
            continue;
        if (get_rules(x, g, &v[next]) < 0)
            r = -EINVAL;
        next++;
    }
    return r;
}

int tkl_schedule_conf_sources(const struct tkl_confread *x, const config_setting_t *list,
                              struct tkl_schedule_conf *sc)
{
    int r = 0, n = list && config_setting_is_list(list) ? config_setting_length(list) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const config_setting_t *name =
            config_setting_is_group(g) ? config_setting_get_member(g, "name") : NULL;
        const char *s = name ? config_setting_get_string(name) : NULL;
        if (!s || (!config_setting_get_member(g, "prompt_days") &&
                   !config_setting_get_member(g, "prompt_days_long")))
            continue;
        struct tkl_source_prompts *v =
            realloc(sc->source_prompts, (sc->n_source_prompts + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        sc->source_prompts = v;
        struct tkl_source_prompts *sp = &v[sc->n_source_prompts];
        *sp = (struct tkl_source_prompts){.prompts = sc->policy.prompts};
        if (!(sp->source = strdup(s)))
            return -ENOMEM;
        sc->n_source_prompts++;
        if (get_prompt_ladders(x, g, &sp->prompts) < 0)
            r = -EINVAL;
    }
    return r;
}

const struct tkl_prompts *tkl_schedule_prompts(const struct tkl_schedule_conf *sc,
                                               const char *source)
{
    for (size_t i = 0; source && i < sc->n_source_prompts; i++)
        if (!strcmp(sc->source_prompts[i].source, source))
            return &sc->source_prompts[i].prompts;
    return &sc->policy.prompts;
}

const struct tkl_rules *tkl_schedule_team_rules(const struct tkl_schedule_conf *sc, size_t team)
{
    if (team < sc->n_team_rules)
        return &sc->team_rules[team];
    return &sc->policy.rules;
}

void tkl_schedule_conf_free(struct tkl_schedule_conf *sc)
{
    tkl_holidays_free(&sc->policy.holidays);
    free(sc->escalate_to);
    free(sc->team_rules);
    for (size_t i = 0; i < sc->n_source_prompts; i++)
        free(sc->source_prompts[i].source);
    free(sc->source_prompts);
    *sc = (struct tkl_schedule_conf){0};
}
