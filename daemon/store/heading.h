/*
 * The column headings of a plan: which field of an action each column
 * holds. A heading is compared by its key (lower case, punctuation read
 * as space, spaces folded) with store.columns first, then with the
 * headings councils use (see tickler.conf(5)). What each plan file's
 * header row gave is kept as a column map, which `tickler check` shows.
 */
#ifndef TKL_HEADING_H
#define TKL_HEADING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
    TKL_FIELD_MEASURE, /* the measure of success: kept and shown, not read */
    TKL_FIELD_COUNT,
};

/* The title headings a diagnostic names when a file has no title column
 * (yet): the commonest of the built-in ones, as a list in a sentence. Every
 * such message says this one list. */
#define TKL_TITLE_HEADINGS "Actions, Action Title, Agreed Actions or Title"

/* Column field for a heading, using opts->columns (opts may be NULL) then
 * built-in aliases; -1 when the heading is not one tickler uses. */
int tkl_field_for_heading(const struct tkl_store_opts *opts, const char *heading);

/* "id", "title", ... as store.columns names them; "?" for no field. */
const char *tkl_field_name(enum tkl_field f);

/*
 * The key of s into out (size bytes; no allocation, so matching cannot
 * fail): lower case, runs of anything but letters, digits and UTF-8 (the
 * no-break spaces U+00A0, U+2007 and U+202F included) read as one space,
 * none at the ends. Returns false when s did not fit and
 * out holds its beginning only.
 */
bool tkl_heading_key(const char *s, char *out, size_t size);

/* The header row of one plan file: each column's heading and the field it
 * gave (-1 for none, or for a repeat of a field an earlier column gave). */
struct tkl_column_map {
    char *file;      /* as diagnostics name it */
    unsigned line;   /* of the header row */
    char **headings; /* as written, white space folded */
    int *fields;
    size_t n;
};

/*
 * The map of the n headings of a header row on line of file, fields[i]
 * the field heading i gave. Copies what it keeps. Returns 0 or -ENOMEM
 * (then *ret is untouched).
 */
int tkl_column_map_make(const char *file, unsigned line, char *const *headings, const int *fields,
                        size_t n, struct tkl_column_map *ret);

/*
 * One line for a person: `FILE:LINE: headings: title ← "Actions" (column
 * 4), ...; not read: "Budget" (column 9)`, in the columns' order.
 */
void tkl_column_map_print(const struct tkl_column_map *m, FILE *out);

/* Frees what m holds; accepts a zeroed map. */
void tkl_column_map_free(struct tkl_column_map *m);

#endif
