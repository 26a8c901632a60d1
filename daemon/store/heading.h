/*
 * The column headings of a plan: which field of an action each column
 * holds. A heading is compared by its key (lower case, punctuation read
 * as space, spaces folded) with store.columns first, then with the
 * headings councils use (see tickler.conf(5)).
 */
#ifndef TKL_HEADING_H
#define TKL_HEADING_H

#include <stdbool.h>
#include <stddef.h>

struct tkl_store_opts;

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

/* Column field for a heading, using opts->columns (opts may be NULL) then
 * built-in aliases; -1 when the heading is not one tickler uses. */
int tkl_field_for_heading(const struct tkl_store_opts *opts, const char *heading);

/* "id", "title", ... as store.columns names them; "?" for no field. */
const char *tkl_field_name(enum tkl_field f);

/*
 * The key of s into out (size bytes; no allocation, so matching cannot
 * fail): lower case, runs of anything but letters, digits and UTF-8 read
 * as one space, none at the ends. Returns false when s did not fit and
 * out holds its beginning only.
 */
bool tkl_heading_key(const char *s, char *out, size_t size);

#endif
