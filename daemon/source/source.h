/*
 * Sources: the configured source plugins (calendars), and their items
 * turned into observances that the scheduler prompts like actions.
 */
#ifndef TKL_SOURCE_H
#define TKL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../plugin/host.h"
#include "../plugin/loader.h"
#include "../plugin/set.h"
#include "../store/store.h"
#include "observance.h"

/* Days of items read around today: a week back (catch-up) and over a year
 * ahead (the longest prompt is well inside it). */
#define TKL_SOURCE_DAYS_BACK  7
#define TKL_SOURCE_DAYS_AHEAD 400

struct tkl_source {
    struct tkl_plugin_instance *plugin; /* host.instance is the source name */
    const char *team;                   /* team id prompted for every item */
};

/* The sources of a plugin set, with their teams: a view that borrows both
 * the instances and the configuration. */
struct tkl_sources {
    struct tkl_source *v;
    size_t n;
};

/* Views the sources of set, where sources[i] configured set->sources[i].
 * Returns 0 or -ENOMEM. */
int tkl_sources_view(const struct tkl_plugin_set *set, const struct tkl_plugin_conf *sources,
                     struct tkl_sources *ret);

/* Points the view at the instances of set again, as tkl_plugin_set_carry()
 * replaced some of them. Needs no memory. */
void tkl_sources_refresh(struct tkl_sources *s, const struct tkl_plugin_set *set);

/* Frees the view (not the instances). Accepts an empty view. */
void tkl_sources_close(struct tkl_sources *s);

/* Items of every source, as events; strings are owned by the list. */
struct tkl_event_list {
    struct tkl_event *v;
    size_t n, cap;
};

/*
 * Collects the items of every source with an occurrence in [from, to],
 * ordered by first day, then title. Returns 0 or a negative errno (then
 * *ret is empty).
 */
int tkl_sources_events(const struct tkl_sources *s, int32_t from, int32_t to,
                       struct tkl_event_list *ret);

void tkl_event_list_free(struct tkl_event_list *l);

/*
 * Adds the observances of [today - TKL_SOURCE_DAYS_BACK, today +
 * TKL_SOURCE_DAYS_AHEAD] to store. Returns 0 or a negative errno (then
 * store is unchanged).
 */
int tkl_sources_add_to_store(const struct tkl_sources *s, int32_t today, struct tkl_store *store,
                             const struct tkl_team_dir *teams, struct tkl_diags *diags);

#endif
