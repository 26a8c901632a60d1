/* libFuzzer: CSV store rows through the loader (daemon/store/store.c: csv.c,
 * row.c, index.c), with the sample configuration's teams and the built-in
 * column names. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_teams.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tkl_team_dir *teams = fuzz_teams();
    struct tkl_store_opts opts = {0};
    struct tkl_store *st = NULL;
    struct tkl_diags diags = {0};
    if (tkl_store_load_buffer(&opts, teams, "fuzz.csv", (const char *)data, size, &st, &diags) ==
        0) {
        /* every action is findable by its id, and has what the schedule reads */
        for (size_t i = 0; i < st->n; i++) {
            if (tkl_store_find(st, st->actions[i].id) != &st->actions[i])
                abort();
            if (!st->actions[i].title || !st->actions[i].file)
                abort();
        }
        tkl_store_free(st);
    }
    tkl_diags_free(&diags);
    return 0;
}
