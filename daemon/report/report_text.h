/*
 * The words every writer of the progress report shares (report.c, and the
 * Word document's word.c), so that its formats say the same thing.
 */
#ifndef TKL_REPORT_TEXT_H
#define TKL_REPORT_TEXT_H

#include <stdbool.h>

#include "../core/day.h"
#include "../core/text.h"
#include "report.h"

#define EN_DASH "\xe2\x80\x93"
#define MID_DOT "\xc2\xb7"

#define ORPHANS_HEADING "Updates for actions no longer in the plan"
#define ORPHANS_TEXT                                                                               \
    "Officers recorded these in the period for actions the plan no longer has (removed, or "       \
    "given a new reference): carry them over to the action they belong to."

/* The report's title: report.title, or the default. */
const char *tkl_report_title(const struct tkl_report *r);

/* The size of a buffer that holds any tkl_report_as_at whole. */
#define TKL_REPORT_AS_AT_SIZE (2 * TKL_DAY_LONG_SIZE + 48)

/* "as at Tuesday 31 March 2026", and, for a period that ended before the
 * day the report was made, " (the plan as it stands on Monday 7 December
 * 2026)": the plan's deadlines, statuses and owners are read as they are
 * now written, not as they were then. Returns buf. */
char *tkl_report_as_at(const struct tkl_report *r, char *buf, size_t size);

/* The words the council uses for status s (report.status_words). */
const char *tkl_report_status_words(const struct tkl_report *r, enum tkl_report_status s);

/* s after its leading white space; its end is not trimmed. */
const char *tkl_report_trim(const char *s);

/* "Red", "Amber", "Green"; "" for none. */
const char *tkl_report_rag_label(enum tkl_rag r);

/* Appends the head of one note of the Progress column to b, as plain text:
 * "3 Dec 2026, Green, a@x.org", "3 Dec 2026: marked complete by a@x.org",
 * "3 Dec 2026: said not ours by a@x.org, suggesting Team" (and " (the plan
 * has changed since)" when it no longer holds for action a; NULL: an
 * action the plan no longer has). Its note follows it. Returns 0 or
 * -ENOMEM. */
int tkl_report_note_head(struct tkl_buf *b, const struct tkl_update *u, const struct tkl_action *a);

/* Whether row's notes say how the work goes (a progress note or a
 * completion): else the plan's own progress is shown after them (a
 * snooze, a reopen or a "not ours" alone says nothing of it). */
bool tkl_report_notes_tell_progress(const struct tkl_report_row *row);

#endif
