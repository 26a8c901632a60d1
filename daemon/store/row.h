/*
 * The rows of a plan as actions. The first record that names an action
 * column is the header (records before it are reported and skipped). Each
 * later row becomes an action, with a warning for each cell tickler cannot
 * read, or is reported as a heading when it holds no action. Merged cells
 * (a commitment over several actions) are filled down.
 */
#ifndef TKL_ROW_H
#define TKL_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct tkl_rows {
    const struct tkl_store_opts *opts;
    const struct tkl_team_dir *teams;
    struct tkl_diags *diags;
    struct tkl_action *actions; /* of every file read so far */
    size_t n_actions;
    size_t cap_actions;
    /* the file being read */
    const char *file;
    bool have_header;
    int column[TKL_FIELD_COUNT]; /* field index per field, or -1 */
    size_t n_columns;
    char *fill[TKL_FIELD_COUNT]; /* fill-down for merged cells */
    /* the record being read */
    char *const *cells;
    size_t n_cells;
    unsigned line;
};

/*
 * Reads the CSV text of one file, appending its rows to r->actions; set
 * opts, teams and diags first. Returns 0, -EINVAL (no header row, or not
 * CSV: errors in diags) or -ENOMEM; on failure r->actions may hold part
 * of the file, and the caller drops the load.
 */
int tkl_rows_read(struct tkl_rows *r, const char *file, const char *data, size_t len);

/* Frees the actions and what the reading holds; r can read again. */
void tkl_rows_free(struct tkl_rows *r);

#endif
