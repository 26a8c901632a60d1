/*
 * The progress report as a Word document (.docx: Office Open XML, which
 * Word, LibreOffice and the web's office suites open), for the plan's owner
 * to edit into the council's own report: the same content as the HTML, in
 * the council's layout, one table an objective ("Agreed Actions | Progress
 * – <period> | Status"), its header row repeated on every page, A4.
 */
#ifndef TKL_REPORT_WORD_H
#define TKL_REPORT_WORD_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* The media type of a .docx. */
#define TKL_WORD_TYPE "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

/* Loads libzip and libxml2, which the writer calls, unless loaded: 0, or a
 * negative errno with a message naming the library and its package in err
 * (size bytes). */
int tkl_report_word_load(char *err, size_t size);

/*
 * Writes r to out as a .docx. The text of the plan and of officers is
 * written as text, whatever it holds: escaped by libxml2, line breaks and
 * tabs as Word's, other characters XML cannot hold (controls, bytes that
 * are not UTF-8) as a space or U+FFFD. The same report on the same day
 * gives the same bytes (each part dated the report's as-at day). Returns 0,
 * -ENOMEM, -EIO (out reported an error) or tkl_report_word_load's error.
 */
int tkl_report_word_write(FILE *out, const struct tkl_report *r);

#endif
