/*
 * One action of the store: a row of the plan (or an observance a source
 * added), its texts as written, what tickler read from them, and the
 * warnings about them.
 *
 * An action being built owns its texts and lists (malloc'd; freed with
 * tkl_action_free). An action in a store, or in the rows of a load, points
 * into that load's arena instead (tkl_action_compact), or into the arena
 * of an earlier load that one keeps (a reload's unchanged rows): it owns
 * nothing, is never passed to tkl_action_free, and lives as long as its
 * store.
 */
#ifndef TKL_ACTION_H
#define TKL_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "arena.h"
#include "deadline.h"
#include "status.h"

/* The parts of an action most rows do not have: the names that matched
 * no team and the warnings (a row read with no problem has neither), and
 * an observance's category and url. Held out of line so that an action
 * without them costs one pointer. */
struct tkl_action_rare {
    char **unmatched; /* owner names that matched no team */
    char **warnings;
    uint32_t n_unmatched;
    uint32_t n_warnings;
    char *category; /* observances: protected characteristic, or NULL */
    char *url;      /* observances: resources, or NULL */
};

/* The most teams an action has (n_teams is 16 bits): more than a plan's
 * 64 owners matching 32 teams each, or a team directory's every team. */
#define TKL_ACTION_MAX_TEAMS UINT16_MAX

/* Fields are ordered to leave no padding between them (128 bytes). What
 * only a reload compares (the action's hash and its row's) is kept by the
 * store beside its actions (store.h), not here. */
struct tkl_action {
    char *id;
    char *file;
    char *title;
    char *commitment;
    char *objective;
    char *owners; /* the Responsibility cell as written */
    char *deadline_text;
    char *status_text;
    char *progress;
    char *measure; /* the Measure of success cell: shown, not read */
    struct tkl_deadline deadline;
    char **teams;                 /* resolved team ids, fallback included */
    struct tkl_action_rare *rare; /* or NULL: none of them (tkl_action_rare) */
    unsigned line : 31;
    unsigned id_derived : 1; /* id made by tkl_action_derive_id, not a cell's */
    uint16_t n_teams;
    uint8_t status; /* enum tkl_status */
};

/* The rare parts of an action that has none: all empty. */
extern const struct tkl_action_rare tkl_action_rare_none;

/* a's rare parts: a->rare, or tkl_action_rare_none (never NULL). */
static inline const struct tkl_action_rare *tkl_action_rare(const struct tkl_action *a)
{
    return a->rare ? a->rare : &tkl_action_rare_none;
}

/* a->rare of an action being built, made (empty) when a has none yet;
 * NULL on allocation failure. */
struct tkl_action_rare *tkl_action_rare_make(struct tkl_action *a);

bool tkl_action_active(const struct tkl_action *a);

/* Frees what a holds (not a itself); a zeroed action is fine. */
void tkl_action_free(struct tkl_action *a);

/*
 * Copies src into *dst with every text and list in arena (texts that
 * repeat from row to row kept once); src is left as it was, and may be
 * dst. Returns 0 or -ENOMEM (then *dst is untouched; arena may hold part
 * of the copy).
 */
int tkl_action_compact(struct tkl_action *dst, const struct tkl_action *src,
                       struct tkl_arena *arena);

/* Adds a copy of team id to a->teams unless it is there already.
 * Returns 0, -ENOMEM, or -EOVERFLOW when a has TKL_ACTION_MAX_TEAMS. */
int tkl_action_add_team(struct tkl_action *a, const char *id);

/* Adds a copy of name to a's unmatched names. Returns 0 or -ENOMEM. */
int tkl_action_add_unmatched(struct tkl_action *a, const char *name);

/*
 * A warning about a: in diags at a->file:a->line, and in a's warnings as
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

/* Whether tkl_text_clean(s, fold) would give s itself (most cells of a
 * plan): no copy is needed. */
bool tkl_action_text_is_clean(const char *s, bool fold);

/* A hash over the id, the texts, the teams and what the status and
 * deadline were read as (not line, and not file but an observance's, its
 * source): equal hashes mean an unchanged action. Compared in memory only (it may change
 * between versions). */
uint64_t tkl_action_hash(const struct tkl_action *a);

/*
 * Appends s to the list *v of *n strings; the list owns s from then on
 * (it is freed on failure, and NULL fails, so a strdup() can be passed).
 * Returns 0 or -ENOMEM.
 */
int tkl_strv_push(char ***v, size_t *n, char *s);

#endif
