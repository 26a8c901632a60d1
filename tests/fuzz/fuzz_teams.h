/* The team directory the fuzzers match owners against: the sample
 * configuration's teams, built once. */
#ifndef FUZZ_TEAMS_H
#define FUZZ_TEAMS_H

#include <stdlib.h>
#include <string.h>

#include "team/team.h"

static inline void fuzz_team(struct tkl_team_dir *d, const char *id, const char *name,
                             const char *alias)
{
    struct tkl_team *v = realloc(d->teams, (d->n + 1) * sizeof(*v));
    if (!v)
        abort();
    d->teams = v;
    struct tkl_team *t = &v[d->n++];
    memset(t, 0, sizeof(*t));
    t->id = strdup(id);
    t->name = strdup(name);
    if (!t->id || !t->name || tkl_team_add_key(t, name) < 0 ||
        (alias && tkl_team_add_key(t, alias) < 0))
        abort();
}

static inline struct tkl_team_dir *fuzz_teams(void)
{
    static struct tkl_team_dir d;
    if (!d.n) {
        fuzz_team(&d, "pce", "Policy, Communities and Engagement", "PCE");
        fuzz_team(&d, "housing", "Housing", NULL);
        fuzz_team(&d, "revenues-benefits", "Revenues and Benefits", "Revs and Bens");
        fuzz_team(&d, "hr", "Human Resources", "HR");
        fuzz_team(&d, "learning-development", "Learning and Development", "L&D");
        fuzz_team(&d, "comms", "Communications and Events", "Comms");
        fuzz_team(&d, "edi-officers", "Equality, Diversity and Inclusion Officer Group",
                  "EDI Officer Group");
        d.fallback = strdup("edi-officers");
    }
    return &d;
}

#endif
