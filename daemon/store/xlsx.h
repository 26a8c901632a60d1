/*
 * Excel workbooks (.xlsx, Office Open XML) as plans: the first sheet, or
 * the one named after '#' ("plan.xlsx#Actions"), read with libzip and
 * libxml2's streaming reader (archive.h) into rows (sheet.h, row.h).
 *
 * A cell gives the text a CSV export of it gives: shared strings (rich
 * text runs joined, phonetic runs left out) and inline strings, numbers,
 * TRUE or FALSE, error values as written; a number whose format shows a
 * date (built-in formats 14 to 22 and 45 to 47, or a custom format with a
 * day, month or year: styles.xml's cellXfs) becomes the date it stands for
 * as "2023-04-30", in the workbook's date system (1900, with its phantom
 * 29 February, or 1904). A merged range gives its value in its top-left
 * cell and blanks after, so row.c fills it down as it does a CSV export.
 * Warnings name cells: "plan.xlsx:Actions!D12".
 */
#ifndef TKL_XLSX_H
#define TKL_XLSX_H

#include <stddef.h>

#include "row.h"

/* Strings a workbook may share (sharedStrings.xml) at most. */
#define TKL_XLSX_STRINGS_MAX 4194304u

/*
 * Reads the workbook of len bytes at data, the content of the file that
 * store.files entry file names, appending the sheet's actions to r
 * (tkl_plan_read_fn). Returns 0, -EINVAL (not an Excel workbook, no such
 * sheet, no header row: errors in diags), -EFBIG (past a limit of
 * archive.h or sheet.h: in diags) or -ENOMEM.
 */
int tkl_xlsx_read(struct tkl_rows *r, const char *file, const char *data, size_t len);

#endif
