/*
 * Shared by the store's unit tests: a two-team directory (hr, the
 * fallback edi), empty store options, the diagnostics of the test, and
 * a helper to load a CSV text as the file "plan.csv".
 */
#ifndef TKL_STORE_FIXTURE_H
#define TKL_STORE_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static struct tkl_team_dir dir;
static struct tkl_store_opts opts;
static struct tkl_diags diags;

static inline void setup(void)
{
    memset(&dir, 0, sizeof(dir));
    memset(&opts, 0, sizeof(opts));
    memset(&diags, 0, sizeof(diags));
    dir.teams = calloc(2, sizeof(*dir.teams));
    dir.teams[0].id = strdup("hr");
    dir.teams[0].name = strdup("Human Resources");
    ck_assert_int_eq(tkl_team_add_key(&dir.teams[0], "Human Resources"), 0);
    ck_assert_int_eq(tkl_team_add_key(&dir.teams[0], "HR"), 0);
    dir.teams[1].id = strdup("edi");
    dir.teams[1].name = strdup("EDI Officer Group");
    ck_assert_int_eq(tkl_team_add_key(&dir.teams[1], "EDI Officer Group"), 0);
    dir.n = 2;
    dir.fallback = strdup("edi");
}

static inline void teardown(void)
{
    tkl_team_dir_free(&dir);
    tkl_store_opts_free(&opts);
    tkl_diags_free(&diags);
}

/* The store of csv, or NULL when the load failed. */
static inline struct tkl_store *load(const char *csv)
{
    struct tkl_store *s = NULL;
    int r = tkl_store_load_buffer(&opts, &dir, "plan.csv", csv, strlen(csv), &s, &diags);
    if (r < 0)
        return NULL;
    return s;
}

/* A diagnostic on line `line` whose message contains `text`. */
static inline bool has_diag(unsigned line, const char *text)
{
    for (size_t i = 0; i < diags.n; i++)
        if (diags.items[i].line == line && strstr(diags.items[i].message, text))
            return true;
    return false;
}

#endif
