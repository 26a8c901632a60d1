/* libFuzzer: owner cells split into names and matched to teams
 * (daemon/team/team.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_teams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tkl_team_dir *teams = fuzz_teams();
    char *cell = strndup((const char *)data, size);
    if (!cell)
        return 0;
    char **names = NULL;
    size_t n = 0;
    if (tkl_owners_split(cell, &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            const struct tkl_team *t = NULL;
            if (!names[i][0])
                abort(); /* the contract: none empty */
            if (tkl_team_match(teams, names[i], &t) == 0 && t &&
                (t < teams->teams || t >= teams->teams + teams->n))
                abort();
            const struct tkl_team *list[8];
            size_t k = 0;
            tkl_team_match_list(teams, names[i], list, 8, &k);
            if (k > 8)
                abort();
            free(names[i]);
        }
        free(names);
    }
    free(cell);
    return 0;
}
