/*
 * One action of the store: a row of the plan (or an observance a source
 * added), its texts as written, what tickler read from them, and the
 * warnings about them.
 */
#ifndef TKL_ACTION_H
#define TKL_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "deadline.h"
#include "status.h"

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
    char *measure; /* the Measure of success cell: shown, not read */
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
    uint64_t hash;  /* tkl_action_hash(), set by the store */
};

bool tkl_action_active(const struct tkl_action *a);

/* Frees what a holds (not a itself); a zeroed action is fine. */
void tkl_action_free(struct tkl_action *a);

/* Adds a copy of team id to a->teams unless it is there already.
 * Returns 0 or -ENOMEM. */
int tkl_action_add_team(struct tkl_action *a, const char *id);

/* Adds a copy of name to a->unmatched. Returns 0 or -ENOMEM. */
int tkl_action_add_unmatched(struct tkl_action *a, const char *name);

/*
 * A warning about a: in diags at a->file:a->line, and in a->warnings as
 * "field: message" (the message alone when field is NULL). Returns 0 or
 * -ENOMEM.
 */
int tkl_action_warn(struct tkl_action *a, struct tkl_diags *diags, const char *field,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same for an action read from a spreadsheet: the warning in diags
 * names the cell of column (1 for A; 0 for the row alone). */
int tkl_action_warn_at(struct tkl_action *a, struct tkl_diags *diags, unsigned column,
                       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Sets a->id (NULL before) from the text that names the action, its title
 * and commitment with white space folded, so that editing a deadline,
 * owner or status keeps it: "a" and 11 hex digits. Returns 0 or -ENOMEM.
 */
int tkl_action_derive_id(struct tkl_action *a);

/* A hash over the id, the texts and the teams (not file and line): equal
 * hashes mean an unchanged action. */
uint64_t tkl_action_hash(const struct tkl_action *a);

/*
 * Appends s to the list *v of *n strings; the list owns s from then on
 * (it is freed on failure, and NULL fails, so a strdup() can be passed).
 * Returns 0 or -ENOMEM.
 */
int tkl_strv_push(char ***v, size_t *n, char *s);

#endif
