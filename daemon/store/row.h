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
#include <stdint.h>

#include "../core/mem.h"
#include "arena.h"
#include "store.h"

/* An action's owners cell may name at most this many owners; the names
 * after them are not read, with a warning (a cell of thousands of names
 * would otherwise cost a warning each, on every action it is given to). */
#define TKL_ROW_MAX_OWNERS 64u

/* Up to this many records before a file's header row (a title block of a
 * few lines above the table, a note) are warned about one by one. When
 * more come before it, as every row does when the header row's action
 * heading is mistyped, they are one warning that names the first, the
 * last and how many: a plan of 100,000 rows is not 100,000 lines on each
 * load. */
#define TKL_ROWS_MAX_PREAMBLE_WARNINGS 5u

struct tkl_rows {
    const struct tkl_store_opts *opts;
    const struct tkl_team_dir *teams;
    struct tkl_diags *diags;
    struct tkl_action *actions; /* of every file read so far, their texts in arena */
    size_t n_actions;
    size_t cap_actions;
    /* actions is cold memory (core/mem.h), the first cap_actions of the
     * cold file actions_fd mapped, not malloc's: where arena's cold_dir is
     * set and the block is large */
    bool actions_cold;
    int actions_fd;
    int cold_error; /* why cold memory failed last (store.h), or 0 */
    /* the pages of actions past n_actions being mapped ahead of the
     * pushes (core/mem.h); ended before actions is reallocated, freed or
     * handed to the store, and before the struct is copied */
    struct tkl_mem_ahead ahead;
    /* tkl_store_id_hash of each action's id, taken while the row is at
     * hand, for the index (index.c) */
    uint32_t *id_hashes;
    /* the store's hashes and row_hashes of the actions (store.h), or NULL
     * when the store is read once */
    uint64_t *hashes;
    uint64_t *row_hashes;
    size_t n_events;    /* of the actions, those of kind event */
    size_t n_unmatched; /* owner names that matched no team, over the actions */
    struct tkl_arena arena;
    /* the store in force, whose actions a row identical to one of its rows
     * takes as they were read (tkl_store_reload), or NULL */
    const struct tkl_store *prev;
    uint32_t *reuse; /* prev's actions by row_hash: index + 1, 0 for none;
                        built when first needed (row.c, reusable) */
    size_t reuse_cap;
    size_t next_prev; /* the index in prev after the last action taken again */
    /* the actions taken from prev as they were, their texts still prev's
     * until tkl_rows_settle: at, their index in actions, and was, in prev */
    struct tkl_row_again {
        uint32_t at, was;
    } * again;
    size_t n_again;
    size_t cap_again;
    size_t n_dropped; /* actions read and dropped (a file read again whole) */
    uint64_t seed;    /* of every row's hash: the teams, columns and statuses read by */
    /* what a cell's text (interned in arena) was read as earlier in this
     * load, each part set only when read with no warning: the teams of an
     * owners cell (in arena), a deadline (with no note), a status. The
     * text of slot i is memo_of[i] */
    const char **memo_of;
    struct tkl_cell_memo {
        char **teams;
        size_t n_teams;
        struct tkl_deadline deadline;
        enum tkl_status status;
        bool has_teams, has_deadline, has_status, status_known;
    } * memo;
    size_t n_memo;
    size_t cap_memo;             /* a power of two, or 0 */
    struct tkl_column_map *maps; /* the header row of each file read so far */
    size_t n_maps;
    /* the file being read */
    const char *file;
    const char *file_text; /* the text of file last interned in arena, or NULL */
    bool cells_named;      /* a spreadsheet: places name the cell ("!D12") */
    bool have_header;
    int column[TKL_FIELD_COUNT]; /* field index per field, or -1 */
    size_t n_columns;
    const char *title_heading; /* the header's, in maps (as written, folded) */
    size_t title_heading_len;
    char *fill[TKL_FIELD_COUNT]; /* fill-down for merged cells */
    /* the records before the header row: how many, the numbers of the
     * first and the last, and the index in diags of the warning of each
     * of the first TKL_ROWS_MAX_PREAMBLE_WARNINGS (SIZE_MAX for one not
     * recorded); past those, preamble_said[0] is the one warning of all.
     * diags is not cut back while a file is read (tkl_rows_read_fd cuts
     * it back and reads the file again from tkl_rows_begin) */
    size_t n_preamble;
    unsigned preamble_first, preamble_last;
    size_t preamble_said[TKL_ROWS_MAX_PREAMBLE_WARNINGS];
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

/*
 * The same for the CSV text read from fd, 64 KiB at a time. Returns
 * -EILSEQ, with r as it was before, when the text is to be read whole as
 * Windows-1252 (tkl_csv_read_fd) or holds NUL bytes: the caller then
 * reads it whole with tkl_rows_read.
 */
int tkl_rows_read_fd(struct tkl_rows *r, const char *file, int fd);

/* What a reader of one plan format is: tkl_rows_read for CSV. */
typedef int tkl_plan_read_fn(struct tkl_rows *r, const char *file, const char *data, size_t len);

/*
 * The same, record by record, for readers of other formats (sheet.c,
 * docx.c): begin names the file (borrowed until end; a place such as
 * "plan.xlsx:Actions" may stand for it), each record is given with the
 * number warnings name it by, and end reports a file with no header row
 * (-EINVAL, an error in diags). tkl_rows_record returns 0 or -ENOMEM.
 */
void tkl_rows_begin(struct tkl_rows *r, const char *file);

/* tkl_rows_begin for a sheet of a spreadsheet: file names the sheet
 * ("plan.xlsx:Actions"), each record's number is its row, its cells are
 * the row's columns from A, and warnings name the cell of the field they
 * concern ("plan.xlsx:Actions!D12"). */
void tkl_rows_begin_sheet(struct tkl_rows *r, const char *file);
int tkl_rows_record(struct tkl_rows *r, char *const *cells, size_t n, unsigned line);
int tkl_rows_end(struct tkl_rows *r);

/* Sets the text field f (commitment or objective) carries down to the rows
 * below until a cell of its own replaces it, as for a row that spans the
 * table ("As a Community Leader"); a new objective ends the commitment
 * carried down. Returns 0 or -ENOMEM. */
int tkl_rows_carry(struct tkl_rows *r, enum tkl_field f, const char *text);

/* The most loads whose texts a store keeps (tkl_rows_settle): each
 * reload that keeps the last one's adds one, and the load after the last
 * copies every text again. */
#define TKL_ROWS_MAX_KEPT_LOADS 8u

/*
 * Ends a reading: the actions taken from r->prev as they were
 * (take_again) keep their texts in prev's arena, which r->arena then
 * keeps (tkl_arena_keep), while the actions whose texts are kept and read
 * by none (prev's not taken again, those prev counted, those r dropped)
 * stay at most an eighth as many as r's, over at most
 * TKL_ROWS_MAX_KEPT_LOADS loads. Otherwise their texts are copied into
 * r->arena, as a full load holds them. *ret_kept_loads and *ret_stale
 * are the store's n_kept_loads and n_stale. Returns 0 or -ENOMEM.
 */
int tkl_rows_settle(struct tkl_rows *r, unsigned *ret_kept_loads, size_t *ret_stale);

/*
 * Hands R's actions over, leaving R none: their block into *ret (NULL when
 * R has no action), and into *ret_cold its bytes and into *ret_fd its cold
 * file when it is cold memory (cut to exactly R's actions, the file's room
 * past them given back), or 0 when it is malloc's (room for
 * R->cap_actions).
 */
void tkl_rows_hand_actions(struct tkl_rows *R, struct tkl_action **ret, size_t *ret_cold,
                           int *ret_fd);

/* Frees the actions, the column maps and what the reading holds; r can
 * read again. */
void tkl_rows_free(struct tkl_rows *r);

#endif
