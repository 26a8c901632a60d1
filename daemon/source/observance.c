#include "observance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"

char *tkl_day_range_format(int32_t first, int32_t last, char *buf, size_t size)
{
    int y1, m1, d1, y2, m2, d2;
    tkl_day_to_civil(first, &y1, &m1, &d1);
    tkl_day_to_civil(last, &y2, &m2, &d2);
    const char *mon1 = tkl_month_name(m1), *mon2 = tkl_month_name(m2);
    if (last <= first)
        snprintf(buf, size, "%d %s %d", d1, mon1, y1);
    else if (y1 == y2 && m1 == m2)
        snprintf(buf, size, "%d\u2013%d %s %d", d1, d2, mon1, y1);
    else if (y1 == y2)
        snprintf(buf, size, "%d %s \u2013 %d %s %d", d1, mon1, d2, mon2, y1);
    else
        snprintf(buf, size, "%d %s %d \u2013 %d %s %d", d1, mon1, y1, d2, mon2, y2);
    return buf;
}

/* The source's team, then each team e names; a name that matches no team
 * is kept in a->unmatched with a warning. Returns 0 or -ENOMEM. */
static int event_teams(struct tkl_action *a, const struct tkl_event *e,
                       const struct tkl_team_dir *teams, struct tkl_diags *diags)
{
    int r = tkl_action_add_team(a, e->team);
    for (size_t i = 0; r == 0 && i < e->n_teams; i++) {
        const struct tkl_team *t = tkl_team_find(teams, e->teams[i]);
        if (!t && (r = tkl_team_match(teams, e->teams[i], &t)) < 0)
            break;
        if (t) {
            r = tkl_action_add_team(a, t->id);
            continue;
        }
        if ((r = tkl_action_add_unmatched(a, e->teams[i])) < 0)
            break;
        tkl_diag_add(diags, TKL_SEV_WARNING, e->file ? e->file : e->source, e->file ? e->line : 0,
                     "X-TICKLER-TEAMS",
                     "%s (%s): \"%s\" is not a team in the team directory; the prompt goes to "
                     "the other teams",
                     e->title ? e->title : e->id, e->id, e->teams[i]);
    }
    return r;
}

/* a->owners: the names of a's teams, as a Responsibility cell would read.
 * Returns 0 or -ENOMEM. */
static int owners_text(struct tkl_action *a, const struct tkl_team_dir *teams)
{
    size_t len = 1;
    for (size_t i = 0; i < a->n_teams; i++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[i]);
        len += strlen(t && t->name ? t->name : a->teams[i]) + 2;
    }
    if (!(a->owners = malloc(len)))
        return -ENOMEM;
    char *p = a->owners;
    for (size_t i = 0; i < a->n_teams; i++) {
        const struct tkl_team *t = tkl_team_find(teams, a->teams[i]);
        const char *name = t && t->name ? t->name : a->teams[i];
        if (i)
            p = stpcpy(p, ", ");
        p = stpcpy(p, name);
    }
    *p = '\0';
    return 0;
}

/* Fills a from e; returns 0 or -ENOMEM (a then holds what was made). */
static int event_action(struct tkl_action *a, const struct tkl_event *e,
                        const struct tkl_team_dir *teams, struct tkl_diags *diags)
{
    char when[128];
    tkl_day_range_format(e->first_day, e->last_day, when, sizeof(when));
    a->deadline = (struct tkl_deadline){
        .kind = TKL_DEADLINE_EVENT, .day = e->first_day, .last_day = e->last_day};
    a->status = TKL_STATUS_ACTIVE;
    if (!(a->id = strdup(e->id)) || !(a->file = strdup(e->source)) ||
        !(a->title = strdup(e->title ? e->title : e->id)) || !(a->deadline_text = strdup(when)))
        return -ENOMEM;
    /* empty texts stay NULL, as the plan's empty cells do */
    if (e->description && *e->description && !(a->commitment = strdup(e->description)))
        return -ENOMEM;
    bool category = e->category && *e->category, url = e->url && *e->url;
    struct tkl_action_rare *x = category || url ? tkl_action_rare_make(a) : NULL;
    if ((category || url) && !x)
        return -ENOMEM;
    if ((category && !(x->category = strdup(e->category))) || (url && !(x->url = strdup(e->url))))
        return -ENOMEM;
    int r = event_teams(a, e, teams, diags);
    return r < 0 ? r : owners_text(a, teams);
}

int tkl_observances_add(struct tkl_store *store, const struct tkl_event *ev, size_t n,
                        const struct tkl_team_dir *teams, struct tkl_diags *diags)
{
    if (!n)
        return 0;
    struct tkl_action *v = calloc(n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = event_action(&v[i], &ev[i], teams, diags);
    if (r == 0)
        r = tkl_store_append(store, v, n, diags);
    if (r < 0)
        for (size_t i = 0; i < n; i++)
            tkl_action_free(&v[i]);
    free(v);
    return r;
}
