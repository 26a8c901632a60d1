/*
 * The action store: one or more CSV files exported from a council's
 * spreadsheet, read into actions.
 *
 * Loading never drops a row silently. Every row that holds text becomes an
 * action or a warning naming its file and line; text tickler cannot read
 * (a deadline, a status, an owner) is kept as written, with a warning.
 * A file that cannot be read at all (no header with an action column, bad
 * quoting at the end, an I/O error) fails the whole load with an error, so
 * that the caller keeps its last good store.
 */
#ifndef TKL_STORE_H
#define TKL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "deadline.h"
#include "../team/team.h"

enum tkl_field {
    TKL_FIELD_ID,
    TKL_FIELD_TITLE,
    TKL_FIELD_COMMITMENT,
    TKL_FIELD_OBJECTIVE,
    TKL_FIELD_OWNERS,
    TKL_FIELD_DEADLINE,
    TKL_FIELD_STATUS,
    TKL_FIELD_PROGRESS,
    TKL_FIELD_COUNT,
};

enum tkl_status {
    TKL_STATUS_ACTIVE = 0,
    TKL_STATUS_COMPLETE = 1,
    TKL_STATUS_CLOSED = 2,
};

struct tkl_status_rule {
    char *text; /* status text, compared case- and space-insensitively */
    enum tkl_status status;
};

struct tkl_store_opts {
    char **paths; /* CSV files or directories of *.csv files */
    size_t n_paths;
    char *columns[TKL_FIELD_COUNT]; /* heading per field, or NULL */
    struct tkl_status_rule *status_rules;
    size_t n_status_rules;
};

struct tkl_action {
    char *id;
    char *file;
    unsigned line;
    char *title;
    char *commitment;
    char *objective;
    char *owners; /* the Responsibility cell as written */
    char *deadline_text;
    char *status_text;
    char *progress;
    struct tkl_deadline deadline;
    enum tkl_status status;
    char **teams; /* resolved team ids, fallback included */
    size_t n_teams;
    char **unmatched; /* owner names that matched no team */
    size_t n_unmatched;
    char **warnings;
    size_t n_warnings;
    char *category; /* observances: protected characteristic, or NULL */
    char *url;      /* observances: resources, or NULL */
    uint64_t hash;  /* over everything above but file and line */
};

struct tkl_store {
    struct tkl_action *actions;
    size_t n;
    size_t n_events; /* of the n, actions of kind event (observances) */
    size_t *index;   /* open-addressing table of action indexes by id */
    size_t index_cap;
};

/*
 * Loads every configured file. On success *ret_store holds the actions and
 * diags holds the warnings. On failure (-EINVAL: a file could not be read;
 * -ENOMEM) diags holds the errors and *ret_store is untouched.
 */
int tkl_store_load(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                   struct tkl_store **ret_store, struct tkl_diags *diags);

/* Reads one CSV buffer (used by tests and fuzzers); file names the source. */
int tkl_store_load_buffer(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                          const char *file, const char *data, size_t len,
                          struct tkl_store **ret_store, struct tkl_diags *diags);

/*
 * Appends n actions to store. On success the store owns what they hold
 * (the caller frees only the array v); an id that repeats one before it is
 * renamed as the loader renames it, with a warning in diags. Returns 0 or
 * -ENOMEM: then the store is unchanged and the actions stay the caller's.
 */
int tkl_store_append(struct tkl_store *store, struct tkl_action *v, size_t n,
                     struct tkl_diags *diags);

void tkl_store_free(struct tkl_store *store);

/* The action with this id, or NULL. */
const struct tkl_action *tkl_store_find(const struct tkl_store *store, const char *id);

bool tkl_action_active(const struct tkl_action *a);

/* Frees what a holds (not a itself); a zeroed action is fine. */
void tkl_action_free(struct tkl_action *a);

/* Adds a copy of team id to a->teams unless it is there already.
 * Returns 0 or -ENOMEM. */
int tkl_action_add_team(struct tkl_action *a, const char *id);

/* Adds a copy of name to a->unmatched. Returns 0 or -ENOMEM. */
int tkl_action_add_unmatched(struct tkl_action *a, const char *name);

/* "active", "complete" or "closed". */
const char *tkl_status_name(enum tkl_status s);

/*
 * Reads a status text with the configured rules first, then the built-in
 * wording (see tickler.conf(5)). *ret_known is false when neither knew the
 * text (then the action is treated as active).
 */
enum tkl_status tkl_status_parse(const struct tkl_store_opts *opts, const char *text,
                                 bool *ret_known);

/* Column field for a heading, using opts->columns then built-in aliases;
 * -1 when the heading is not one tickler uses. */
int tkl_field_for_heading(const struct tkl_store_opts *opts, const char *heading);

const char *tkl_field_name(enum tkl_field f);

void tkl_store_opts_free(struct tkl_store_opts *opts);

#endif
