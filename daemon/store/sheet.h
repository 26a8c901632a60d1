/*
 * What the readers of workbooks (xlsx.c, ods.c) share: a sheet's rows
 * built cell by cell and handed to row.c as records, cell places ("D12"),
 * serial dates, and the limits that keep a hostile file from exhausting
 * the daemon.
 *
 * Limits: a value may stand at most in row 1,048,576 and column 16,384
 * (XFD), Excel's own sheet size (LibreOffice's since 7.4); a sheet may
 * hold at most 200,000 cells with a value (a repeated cell of an .ods file
 * counts once per repeat; a plan of 10,000 actions in 20 columns fits), so
 * that a small file cannot make millions of actions, and a cell at most
 * 32,767 characters (Excel's limit). Blank cells and rows cost nothing
 * however far they repeat. What is handed to row.c is bounded too, since a
 * repeated row or a shared string is read once and handed over many times:
 * at most 32 MiB of cell text in all, and at most 16,777,216 cells counting
 * the blank ones before each row's last value (a value in column XFD on
 * 200,000 rows would make 3 billion).
 *
 * Merged cells are read as a person sees them. A merge over several rows
 * gives the value of its top-left cell to each row below it that it
 * covers, in the top-left cell's column only: a range several columns
 * wide is one cell under the first of its headings, and copying its value
 * across would give, say, a Timeframe's text to the Responsibility column
 * beside it; a merge of one row (a section heading across the table) stays
 * one cell. A row the merge covers but that holds no value of its own
 * stays blank (a merge running past the plan's last row makes no
 * actions), and a merge whose top-left cell is in or above the header row
 * (a heading of two rows) gives nothing. A merge in the id column (Ref)
 * gives nothing either: an id is its own row's, so the rows below keep the
 * ids their texts give them, as without the merge, and keep them when a
 * row is inserted; every other column is filled, the action text too (a
 * merged action with a row per team and deadline is an action for each).
 * A column has one merge in force at a time: one listed again, or from the
 * same top cell, extends it, and one from another top cell replaces it.
 * At most TKL_SHEET_CELLS_MAX merges are kept; a merge's copy of its value
 * counts once towards the text handed over, a filled cell as a cell with a
 * value and its text towards the text handed over, and a row under merges
 * with no value of its own, not handed over, still counts its cells
 * towards the cells handed over.
 */
#ifndef TKL_SHEET_H
#define TKL_SHEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/text.h"
#include "archive.h"
#include "row.h"

#define TKL_SHEET_ROWS_MAX       1048576u
#define TKL_SHEET_COLUMNS_MAX    16384u
#define TKL_SHEET_CELLS_MAX      200000u
#define TKL_SHEET_CELL_CHARS_MAX 32767u
#define TKL_SHEET_TEXT_MAX       (32u << 20)
#define TKL_SHEET_SPAN_MAX       16777216u

/* A merge over rows top to last, its value in column col (from 1). */
struct tkl_sheet_merge {
    uint64_t top, last;
    size_t col;
};

/* A merge in force in one column: the rows below top to last take text
 * (len bytes with its NUL); last 0 when none is. */
struct tkl_sheet_fill {
    uint64_t top, last;
    char *text;
    size_t len;
};

/* One sheet being read into rows. */
struct tkl_sheet {
    struct tkl_rows *rows;
    const char *place;              /* "plan.xlsx:Actions", borrowed */
    struct tkl_buf text;            /* the row's cell texts, each NUL-terminated */
    size_t *at;                     /* per column from A: offset + 1 into text, 0 blank */
    size_t cap;                     /* entries of at */
    size_t n;                       /* columns up to the last with a value */
    char **record;                  /* the row as handed to tkl_rows_record */
    uint64_t row;                   /* of the row being read, from 1 */
    size_t cells;                   /* cells with a value so far */
    uint64_t handed;                /* cells handed to row.c, blank ones included */
    uint64_t text_bytes;            /* bytes of cell text handed to row.c */
    struct tkl_sheet_merge *merges; /* tkl_sheet_merge, in order of top from next_merge */
    size_t n_merges, cap_merges, next_merge;
    bool merges_unsorted;
    struct tkl_sheet_fill *fills; /* per column from A, cap_fills of them */
    size_t cap_fills;
    uint32_t *active; /* the columns (from 1) whose fill is in force, n_fills */
    size_t n_fills;
    size_t fill_width; /* the rightmost column in active, 0 when none */
};

/*
 * Begins reading the sheet place names into rows (tkl_rows_begin_sheet).
 * tkl_sheet_end ends it and frees what s holds.
 */
void tkl_sheet_begin(struct tkl_sheet *s, struct tkl_rows *rows, const char *place);

/*
 * Sets the text of len bytes (not NUL-terminated) of the cell in column
 * col (1 for A) of the current row, and of the repeat - 1 columns after it.
 * Text of white space only is blank. Returns 0, -EFBIG past a limit (an
 * error in the rows' diags naming the cell, what was found and what is
 * allowed) or -ENOMEM.
 */
int tkl_sheet_cell(struct tkl_sheet *s, uint64_t col, const char *text, size_t len,
                   uint64_t repeat);

/*
 * Ends the current row (row s->row) and the repeat - 1 rows after it that
 * repeat it: a row with a value is handed to row.c once per row, a blank
 * one is skipped. The next row is s->row + repeat unless the reader sets
 * s->row. Returns 0, -EFBIG past a limit (in diags) or -ENOMEM.
 */
int tkl_sheet_row_end(struct tkl_sheet *s, uint64_t repeat);

/*
 * Records that the cells of column col from row top to row last are merged
 * with the rows of the columns to their right (a merge's left column:
 * col, top is its top-left cell), as the sheet.h head describes. Merges
 * may be given in any order before their top row ends, or while it is
 * read. A merge of one row, or beyond the sheet's limits, is ignored.
 * Returns 0, -EFBIG past TKL_SHEET_CELLS_MAX merges (an error in diags)
 * or -ENOMEM.
 */
int tkl_sheet_merge(struct tkl_sheet *s, uint64_t col, uint64_t top, uint64_t last);

/* Ends the sheet: -EINVAL when it has no header row (tkl_rows_end). */
int tkl_sheet_end(struct tkl_sheet *s);

/* Frees what s holds; for a reading that stops before tkl_sheet_end. */
void tkl_sheet_free(struct tkl_sheet *s);

/*
 * Reads a cell reference such as "D12" (column letters, then a row) into
 * *ret_col (1 for A) and *ret_row; "D" alone (a column) gives *ret_row 0.
 * A column past XFD or a row past TKL_SHEET_ROWS_MAX comes out as one
 * past the limit, for tkl_sheet_cell to report. Returns 0 or -EINVAL when
 * ref is no reference.
 */
int tkl_sheet_ref(const char *ref, uint64_t *ret_col, uint64_t *ret_row);

/*
 * A spreadsheet serial date as the day it stands for (days since
 * 1970-01-01; the fraction, a time of day, dropped). In the 1900 date
 * system 1 is 1900-01-01 and 60 is the 29 February 1900 that Lotus 1-2-3
 * invented and Excel kept; in the 1904 system 0 is 1904-01-01. Returns 0,
 * or -ERANGE for serial 60 of the 1900 system, for values before the
 * system's first day and past 9999-12-31, and for what is not a number.
 */
int tkl_sheet_serial_day(double serial, bool date1904, int32_t *ret_day);

/* The smallest part of a date a cell's format shows. */
enum tkl_sheet_date {
    TKL_SHEET_NO_DATE,    /* no date: the number is read as a number */
    TKL_SHEET_DATE_DAY,   /* a day ("dd/mm/yyyy"; a time alone too) */
    TKL_SHEET_DATE_MONTH, /* a month, no day ("mmm-yy", "mmmm yyyy") */
    TKL_SHEET_DATE_YEAR,  /* a year alone ("yyyy") */
};

/*
 * The text a date cell of the day day gives, shown to part (what the
 * deadline parser reads): "2023-04-30" for a day, "March 2024" for a
 * month and "2024" for a year, which deadline.c reads as the month's and
 * the year's last day, as it reads them typed as text. Into buf of size
 * bytes (at least 16); returns buf, or NULL when day is out of range.
 */
const char *tkl_sheet_day_text(int32_t day, enum tkl_sheet_date part, char *buf, size_t size);

/*
 * The text a serial date cell gives, shown to part (tkl_sheet_day_text),
 * or the number as written when it is no date; into buf of size bytes.
 * Returns buf.
 */
const char *tkl_sheet_date_text(const char *number, bool date1904, enum tkl_sheet_date part,
                                char *buf, size_t size);

/*
 * What a number format code shows of a date. It shows a date when it has
 * a day, month or year part ("dd/mm/yyyy", "mmm yy", "[$-809]d mmmm
 * yyyy"), outside its quoted text, brackets ([$-809], [Red], an elapsed
 * [h]) and escaped or padding characters ("\d", "_d", "*d"); an "m"
 * after "h" or before "s" is minutes, not a month, and a code with hours
 * or seconds shows a month only beside a day or year. Any run of "d"
 * shows a day: "d" and "dd" its number, "ddd" and "dddd" its weekday's
 * name, which only a date with a day has. Without a day it shows a month
 * when it has one, else a year. Every section (between ';') is read: a
 * day in any of them is a day.
 */
enum tkl_sheet_date tkl_sheet_format_date(const char *code);

/* Whether code shows a date: tkl_sheet_format_date is not
 * TKL_SHEET_NO_DATE. */
bool tkl_sheet_format_is_date(const char *code);

/*
 * Walks the XML of archive member part, calling fn for each node with its
 * type (XML_READER_TYPE_*) and local name (any namespace); an empty
 * element is given as an element and then as its end. Stops at the first
 * non-zero return of fn and returns it (a positive one: fn has read all
 * it needs); otherwise 0, -ENOENT when there is
 * no such part (nothing in diags), or the archive's error for XML that is
 * not well-formed or expands past a limit (-EINVAL, -EFBIG: in diags).
 */
typedef int tkl_xml_node_fn(void *ctx, xmlTextReaderPtr x, int type, const char *name);
int tkl_sheet_xml_walk(struct tkl_zip *z, const char *part, tkl_xml_node_fn *fn, void *ctx,
                       struct tkl_diags *diags);

/* The attribute of the current element whose local name is local (in any
 * namespace; namespace declarations are not attributes), copied into *ret
 * for the caller to free. Returns 0, -ENOENT or -ENOMEM. */
int tkl_xml_attr(xmlTextReaderPtr x, const char *local, char **ret);

/* Appends the text of a text node (text, CDATA or white space) to b;
 * other nodes append nothing. Returns 0 or -ENOMEM. */
int tkl_xml_text(xmlTextReaderPtr x, int type, struct tkl_buf *b);

#endif
