/*
 * OpenDocument spreadsheets (.ods, LibreOffice) as plans: the first table,
 * or the one named after '#' ("plan.ods#Actions"), read from content.xml
 * with libzip and libxml2's streaming reader (archive.h) into rows
 * (sheet.h, row.h).
 *
 * A cell gives the text a CSV export of it gives: its paragraphs joined
 * with line breaks (text:s, text:tab and text:line-break as the spaces,
 * tab and break they stand for; comments left out), a date cell
 * (office:value-type="date") as "2023-04-30" from office:date-value, and a
 * cell with a value but no paragraph its value. A covered cell (under a
 * merged range) is blank, so row.c fills the merged value down.
 * number-columns-repeated and number-rows-repeated are expanded within the
 * limits of sheet.h; blank repeats, such as the million blank rows that
 * end many files, cost nothing. Warnings name cells: "plan.ods:Actions!D12".
 */
#ifndef TKL_ODS_H
#define TKL_ODS_H

#include <stddef.h>

#include "row.h"

/*
 * Reads the spreadsheet of len bytes at data, the content of the file
 * that store.files entry file names, appending the table's actions to r
 * (tkl_plan_read_fn). Returns 0, -EINVAL (not an OpenDocument
 * spreadsheet, no such table, no header row: errors in diags), -EFBIG
 * (past a limit of archive.h or sheet.h: in diags) or -ENOMEM.
 */
int tkl_ods_read(struct tkl_rows *r, const char *file, const char *data, size_t len);

#endif
