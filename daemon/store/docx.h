/*
 * Plans published as a Word table (.docx): the tables of word/document.xml,
 * read with libxml2's streaming reader through archive.h.
 *
 * Each table with a heading row (the headings row.c knows) is read; other
 * tables are reported. A row's cells are laid on the table's grid: a cell
 * spanning columns (w:gridSpan) gives its text to the first and blanks to
 * the others, and a vertically merged continuation (w:vMerge) is blank, as
 * a CSV export gives them. A row with one non-empty cell (one cell spanning
 * the table, or "As a Community Leader" alone in its row) is an objective
 * row: its text is carried as the objective of the rows below, into later
 * tables too until one names its own. A one-cell row reading "Objective"
 * (a label) and the row below it (its description) are reported, not read.
 *
 * A row whose Actions cell holds several paragraphs or list items becomes
 * one action per item, aligned with the other cells by tkl_docx_split,
 * with a warning naming the place ("plan.docx: table 2, row 5") where the
 * alignment is ambiguous. Places name the table and row, both counted from
 * 1; the actions' line is 0.
 */
#ifndef TKL_DOCX_H
#define TKL_DOCX_H

#include <stdbool.h>
#include <stddef.h>

#include "row.h"

/* A document may lay out at most this many grid cells in all, and a row at
 * most TKL_DOCX_MAX_COLUMNS columns; larger ones are refused. */
#define TKL_DOCX_MAX_CELLS   (1u << 20)
#define TKL_DOCX_MAX_COLUMNS 256u
/* The cells of a document may hold at most this many non-empty
 * paragraphs in all; a larger one is refused. */
#define TKL_DOCX_MAX_PARAS (1u << 17)
/* The text of the records a document gives may total at most this many
 * bytes: a long cell repeated on each action split from its row counts
 * once per action. */
#define TKL_DOCX_MAX_TEXT (16u << 20)

/* One paragraph of a cell; list is true for a list item (w:numPr, or a
 * paragraph style whose name begins with "List"). */
struct tkl_docx_para {
    char *text;
    bool list;
};

/* The non-empty paragraphs of one cell, in order. */
struct tkl_docx_cell {
    struct tkl_docx_para *paras;
    size_t n;
};

/* The records a row gives: text[i * n_cells + c] is cell c of record i. */
struct tkl_docx_split {
    char **text;
    size_t n_records;
    size_t n_cells;
    size_t *ambiguous; /* the columns given whole for want of alignment */
    size_t n_ambiguous;
};

/*
 * Splits a row of n cells into one record per paragraph of cell title (one
 * record when it has none). A cell whose align[c] is true (the owners,
 * deadline, status, progress and id columns) gives its paragraph i to
 * record i when it has as many paragraphs as the title cell, its one
 * paragraph to every record, and otherwise, when the title cell has
 * several, its whole text to every record, its column listed in
 * ret->ambiguous. Any other cell gives its whole text to every record: its
 * paragraphs joined by line breaks, list items marked "• " when there are
 * several. Returns 0 or -ENOMEM (*ret untouched).
 */
int tkl_docx_split(const struct tkl_docx_cell *cells, size_t n, size_t title, const bool *align,
                   struct tkl_docx_split *ret);

/* Accepts a zeroed split. */
void tkl_docx_split_free(struct tkl_docx_split *s);

/* The .docx reader of store.c (tkl_plan_read_fn): -EINVAL, with an error
 * in diags, when the file is not a readable .docx, exceeds a limit, or has
 * no table with a heading row. */
int tkl_docx_read(struct tkl_rows *r, const char *file, const char *data, size_t len);

#endif
