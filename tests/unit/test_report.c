/* Tests for daemon/report/report.c: the progress report of a real plan
 * (loaded from CSV) and real updates. The order (objectives, then
 * commitments, as the plan first names them; observances left out), the
 * status of each action in the council's words and why (the plan first,
 * then officers' completions that hold and were not reopened, then the
 * period's latest note and the date), the Progress column (the period's notes oldest first, else
 * the plan's own progress marked as such, else "No update this period"),
 * the period and its name; each format written with hostile text in the
 * plan and the notes: the HTML escaped, printable on A4, without script
 * or style attribute; the CSV read back by an RFC 4180 reader with its
 * byte order mark, CRLF and formula guard; the Markdown with every pipe,
 * line break and markup character escaped; and the updates export as CSV
 * and as JSON (parsed with jansson). */
#include <check.h>

#include "alloc_fail.h"
#include "check_run.h"
#include "report_fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <tickler/day.h>

#include "core/day.h"
#include "report/report.h"
#include "update/answer.h"

#define HOSTILE_TITLE "<script>alert(1)</script> & \"quotes\" 'too'"
#define HOSTILE_NOTE  "=HYPERLINK(\"http://evil\",\"x\") | pipe\n## not a heading <img src=x>"

/* Objectives interleaved (People, Places, People again), a commitment
 * written twice with other line breaks, every status the report tells
 * apart. Today is 2 December 2026; the period is the calendar year 2026. */
static const char plan_csv[] =
    "Ref,Objective,Commitments,Actions,Responsibility,Timeframe,Status,Progress\n"
    "P1,People,We will train staff,Train managers,HR,March 2027,,\n"
    "P2,People,We will train staff,Train everyone,HR,March 2027,,Half done\n"
    "Q1,Places,We will fix buildings,Ramp at the town hall,HR,June 2026,,\n"
    "P3,People,\"We will  train\nstaff\",Train members,HR,Ongoing,,\n"
    "P4,People,We will listen,Staff survey,HR,Jan 2027,Withdrawn,\n"
    "P5,People,We will listen,Exit interviews,HR,Jan 2027,Complete,Done in 2025\n"
    "Q2,Places,We will fix buildings,\"" HOSTILE_TITLE "\",\"+HR, EDI Officer Group\",TBC,,\n"
    "Q3,Places,We will fix buildings,Hearing loops,HR,April 2027,In progress,\n";

static const struct tkl_report_row *row_of(const struct tkl_report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->rows[i].action->id, id))
            return &r->rows[i];
    ck_abort_msg("no row for %s", id);
    return NULL;
}

/* The report of s for 2026 with ups, on 2 December 2026, defaults. */
static void build_2026(const struct tkl_store *s, struct tkl_report *r)
{
    ck_assert_int_eq(
        tkl_report_build(s, &ups, NULL, day(2026, 1, 1), day(2027, 1, 1), day(2026, 12, 2), r), 0);
}

/* What r says in format f. */
static char *written(const struct tkl_report *r, enum tkl_report_format f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tkl_report_write(out, r, f), 0);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

START_TEST(test_rows_by_objective_then_commitment_in_plan_order)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    /* an observance a source added is not part of the plan */
    struct tkl_action ev = {.id = strdup("ev-pride"),
                            .file = strdup("pride.ics"),
                            .title = strdup("Pride month"),
                            .deadline_text = strdup("June 2026"),
                            .deadline = {.kind = TKL_DEADLINE_EVENT,
                                         .day = day(2026, 6, 1),
                                         .last_day = day(2026, 6, 30)}};
    ck_assert_int_eq(tkl_store_append(s, &ev, 1, &diags), 0);
    struct tkl_report r;
    build_2026(s, &r);
    static const char *const want[] = {"P1", "P2", "P3", "P4", "P5", "Q1", "Q2", "Q3"};
    ck_assert_uint_eq(r.n, 8);
    for (size_t i = 0; i < r.n; i++)
        ck_assert_str_eq(r.rows[i].action->id, want[i]);
    /* People opens, its first commitment holds P1, P2 and P3 (written
     * with other spaces), then "We will listen"; Places opens at Q1 */
    static const bool objective[] = {1, 0, 0, 0, 0, 1, 0, 0};
    static const bool commitment[] = {1, 0, 0, 1, 0, 1, 0, 0};
    for (size_t i = 0; i < r.n; i++) {
        ck_assert_int_eq(r.rows[i].opens_objective, objective[i]);
        ck_assert_int_eq(r.rows[i].opens_commitment, commitment[i]);
    }
    ck_assert_uint_eq(r.counts[0] + r.counts[1] + r.counts[2], 8);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The status and reason of action id in r. */
static void want_status(const struct tkl_report *r, const char *id, enum tkl_report_status st,
                        enum tkl_report_reason why)
{
    const struct tkl_report_row *row = row_of(r, id);
    ck_assert_msg(row->status == st && row->reason == why, "%s: status %d reason %d, want %d %d",
                  id, row->status, row->reason, st, why);
}

START_TEST(test_status_the_plan_first_then_officers_then_the_date)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    /* P1: green this year, due March 2027: on schedule */
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 1), TKL_RAG_RED, "slow");
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 9, 1), TKL_RAG_GREEN, "better");
    /* P2: green, then amber: the latest counts */
    record(s, "P2", TKL_UPDATE_PROGRESS, "b@x.org", at(2026, 2, 1), TKL_RAG_GREEN, "ok");
    record(s, "P2", TKL_UPDATE_PROGRESS, "b@x.org", at(2026, 10, 1), TKL_RAG_AMBER, "hmm");
    /* P3: ongoing, green: stays in the plan */
    record(s, "P3", TKL_UPDATE_PROGRESS, "c@x.org", at(2026, 5, 1), TKL_RAG_GREEN, "fine");
    /* P4: the plan withdrew it; a completion does not change that */
    record(s, "P4", TKL_UPDATE_COMPLETE, "d@x.org", at(2026, 5, 1), TKL_RAG_NONE, NULL);
    /* Q1: due June 2026, green note: overdue all the same */
    record(s, "Q1", TKL_UPDATE_PROGRESS, "e@x.org", at(2026, 4, 1), TKL_RAG_GREEN, "nearly");
    /* Q2: marked complete, and that holds */
    record(s, "Q2", TKL_UPDATE_COMPLETE, "f@x.org", at(2026, 11, 3), TKL_RAG_NONE, NULL);
    /* Q3: a completion the plan has overruled since (its status was
     * "Not started" then), and a green note of last year */
    struct tkl_update *old =
        record(s, "Q3", TKL_UPDATE_COMPLETE, "g@x.org", at(2026, 6, 1), TKL_RAG_NONE, NULL);
    free(old->plan_status);
    ck_assert_ptr_nonnull(old->plan_status = strdup("Not started"));
    record(s, "Q3", TKL_UPDATE_PROGRESS, "g@x.org", at(2025, 6, 1), TKL_RAG_GREEN, "last year");
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "P1", TKL_REPORT_COMPLETE, TKL_REASON_ON_SCHEDULE);
    want_status(&r, "P2", TKL_REPORT_ONGOING, TKL_REASON_AT_RISK);
    want_status(&r, "P3", TKL_REPORT_ONGOING, TKL_REASON_NO_END);
    want_status(&r, "P4", TKL_REPORT_INCOMPLETE, TKL_REASON_PLAN_CLOSED);
    want_status(&r, "P5", TKL_REPORT_COMPLETE, TKL_REASON_PLAN_COMPLETE);
    want_status(&r, "Q1", TKL_REPORT_ONGOING, TKL_REASON_OVERDUE);
    want_status(&r, "Q2", TKL_REPORT_COMPLETE, TKL_REASON_MARKED_COMPLETE);
    want_status(&r, "Q3", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    ck_assert_uint_eq(r.counts[TKL_REPORT_COMPLETE], 3);
    ck_assert_uint_eq(r.counts[TKL_REPORT_ONGOING], 4);
    ck_assert_uint_eq(r.counts[TKL_REPORT_INCOMPLETE], 1);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q2"), why, sizeof(why)),
                     "Marked complete by f@x.org on 3 Nov 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P1"), why, sizeof(why)),
                     "On schedule: green, due 31 Mar 2027.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q1"), why, sizeof(why)),
                     "Overdue: due 30 Jun 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P2"), why, sizeof(why)),
                     "Latest update Amber, 1 Oct 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P3"), why, sizeof(why)),
                     "Ongoing action; latest update Green, 1 May 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q3"), why, sizeof(why)),
                     "No progress update this period; the latest update: marked complete by "
                     "g@x.org on 1 Jun 2026 (the plan has changed since).");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P5"), why, sizeof(why)),
                     "The plan says \xe2\x80\x9c"
                     "Complete\xe2\x80\x9d.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P4"), why, sizeof(why)),
                     "The plan says \xe2\x80\x9cWithdrawn\xe2\x80\x9d.");
    /* the notes of the period, oldest first; last year's is not one */
    const struct tkl_report_row *p1 = row_of(&r, "P1"), *q3 = row_of(&r, "Q3");
    ck_assert_uint_eq(p1->n_notes, 2);
    ck_assert_str_eq(p1->notes[0]->note, "slow");
    ck_assert_str_eq(p1->notes[1]->note, "better");
    ck_assert_uint_eq(q3->n_notes, 1);
    ck_assert_int_eq(q3->notes[0]->kind, TKL_UPDATE_COMPLETE);
    ck_assert_ptr_null(q3->completion);
    tkl_report_free(&r);
    /* an ongoing action nobody answered says so; a status that ends a
     * sentence ends the why */
    tkl_updates_free(&ups);
    memset(&ups, 0, sizeof(ups));
    /* the store's texts are its arena's: this one is the test's */
    s->actions[tkl_store_find(s, "P5") - s->actions].status_text = (char *)"Complete.";
    build_2026(s, &r);
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P3"), why, sizeof(why)),
                     "Ongoing action; no update from officers this period.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P5"), why, sizeof(why)),
                     "The plan says \xe2\x80\x9c"
                     "Complete.\xe2\x80\x9d");
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* With no progress note in the period, the why names the latest update
 * the Progress column lists (a reopen, a resume, a snooze: an answer, if
 * not progress). */
START_TEST(test_the_why_without_a_progress_note_names_the_latest_update)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "P1", TKL_UPDATE_COMPLETE, "a@x.org", at(2026, 3, 1), TKL_RAG_NONE, NULL);
    record(s, "P1", TKL_UPDATE_REOPEN, "a@x.org", at(2026, 3, 15), TKL_RAG_NONE, "not signed off");
    record(s, "Q3", TKL_UPDATE_NOT_OURS, "b@x.org", at(2026, 4, 1), TKL_RAG_NONE, NULL);
    record(s, "Q3", TKL_UPDATE_RESUME, "b@x.org", at(2026, 4, 2), TKL_RAG_NONE, "ours after all");
    struct tkl_update *z =
        record(s, "P2", TKL_UPDATE_SNOOZE, "c@x.org", at(2026, 5, 1), TKL_RAG_NONE, "on leave");
    z->until_day = day(2026, 5, 29);
    /* a snooze's why is an officer's text like any note's */
    z = record(s, "Q1", TKL_UPDATE_SNOOZE, "d@x.org", at(2026, 5, 2), TKL_RAG_NONE, HOSTILE_NOTE);
    z->until_day = day(2026, 5, 30);
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "P1", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    want_status(&r, "Q3", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    want_status(&r, "P2", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P1"), why, sizeof(why)),
                     "No progress update this period; the latest update: reopened by a@x.org on "
                     "15 Mar 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q3"), why, sizeof(why)),
                     "No progress update this period; the latest update: resumed reminders by "
                     "b@x.org on 2 Apr 2026.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "P2"), why, sizeof(why)),
                     "No progress update this period; the latest update: snoozed reminders until "
                     "29 May 2026 by c@x.org on 1 May 2026.");
    ck_assert_uint_eq(row_of(&r, "P2")->n_notes, 1);
    char *m = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_ptr_nonnull(
        strstr(m, "| 1 May 2026: snoozed reminders until 29 May 2026 by c@x.org: on leave<br>"
                  "From the plan: Half done |"));
    ck_assert_ptr_nonnull(strstr(m, "| 2 May 2026: snoozed reminders until 30 May 2026 by d@x.org: "
                                    "=HYPERLINK(\"http://evil\",\"x\") \\| pipe<br>\\#\\# not a "
                                    "heading \\<img src=x\\>"));
    free(m);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_null(strstr(h, "<img"));
    ck_assert_ptr_nonnull(strstr(h, "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;) | pipe"
                                    "<br>## not a heading &lt;img src=x&gt;"));
    free(h);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The plan's own status is quoted whole when it closes an action, up to
 * 240 bytes; of a longer one, its start and its end, where the words that
 * decide it are. */
START_TEST(test_a_long_plan_status_keeps_its_start_and_end)
{
    static const char plan[] =
        "Ref,Objective,Commitments,Actions,Responsibility,Timeframe,Status\n"
        "L1,People,We will,Compassionate borough,HR,March 2024,\"Should the Compassion Borough "
        "Status project be taken forward by HoK in the future, it will be supported by the same "
        "team and the officers who ran it before, as agreed with the portfolio holder in the "
        "spring. Incomplete/cannot be carried forward\"\n"
        "L2,People,We will,Short,HR,March 2024,Withdrawn by cabinet\n";
    struct tkl_store *s = load(plan);
    ck_assert_ptr_nonnull(s);
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "L1", TKL_REPORT_INCOMPLETE, TKL_REASON_PLAN_CLOSED);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "L1"), why, sizeof(why)),
                     "The plan says \xe2\x80\x9cShould the Compassion Borough Status project be "
                     "taken forward by HoK in the future, it will be supported by the same "
                     "\xe2\x80\xa6 before, as agreed with the portfolio holder in the spring. "
                     "Incomplete/cannot be carried forward\xe2\x80\x9d.");
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "L2"), why, sizeof(why)),
                     "The plan says \xe2\x80\x9cWithdrawn by cabinet\xe2\x80\x9d.");
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_green_without_a_date_is_not_on_schedule)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    /* Q2's timeframe is TBC: a green note cannot put it on schedule; the
     * notes of the actions come interleaved, as officers send them */
    record(s, "Q2", TKL_UPDATE_PROGRESS, "f@x.org", at(2026, 3, 1), TKL_RAG_RED, "stuck");
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 2), TKL_RAG_GREEN, "p1 fine");
    record(s, "Q2", TKL_UPDATE_PROGRESS, "f@x.org", at(2026, 4, 1), TKL_RAG_GREEN, "moving");
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 4, 2), TKL_RAG_GREEN, "p1 still");
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "Q2", TKL_REPORT_ONGOING, TKL_REASON_NO_DATE);
    want_status(&r, "P1", TKL_REPORT_COMPLETE, TKL_REASON_ON_SCHEDULE);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q2"), why, sizeof(why)),
                     "Latest update Green, 1 Apr 2026, but the plan gives no date to hold it to.");
    const struct tkl_report_row *q2 = row_of(&r, "Q2"), *p1 = row_of(&r, "P1");
    ck_assert_uint_eq(q2->n_notes, 2);
    ck_assert_str_eq(q2->notes[0]->note, "stuck");
    ck_assert_str_eq(q2->notes[1]->note, "moving");
    ck_assert_uint_eq(p1->n_notes, 2);
    ck_assert_str_eq(p1->notes[1]->note, "p1 still");
    ck_assert_uint_eq(row_of(&r, "Q1")->n_notes, 0);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_status_is_as_at_the_end_of_the_period)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    /* in 2025, Q1 (due June 2026) was green and not overdue yet; it was
     * marked complete only in 2026 */
    record(s, "Q1", TKL_UPDATE_PROGRESS, "e@x.org", at(2025, 8, 1), TKL_RAG_GREEN, "on track");
    record(s, "Q1", TKL_UPDATE_COMPLETE, "e@x.org", at(2026, 8, 1), TKL_RAG_NONE, NULL);
    struct tkl_report r;
    ck_assert_int_eq(
        tkl_report_build(s, &ups, NULL, day(2025, 1, 1), day(2026, 1, 1), day(2026, 12, 2), &r), 0);
    ck_assert_int_eq(r.as_at, day(2025, 12, 31));
    want_status(&r, "Q1", TKL_REPORT_COMPLETE, TKL_REASON_ON_SCHEDULE);
    ck_assert_uint_eq(row_of(&r, "Q1")->n_notes, 1);
    /* a past period says its plan is today's, in every format */
    static const char past[] = "as at Wednesday 31 December 2025 (the plan as it stands on "
                               "Wednesday 2 December 2026)";
    static const enum tkl_report_format with_head[] = {TKL_REPORT_HTML, TKL_REPORT_MARKDOWN};
    for (size_t f = 0; f < 2; f++) {
        char *text = written(&r, with_head[f]);
        ck_assert_msg(strstr(text, past), "%s", text);
        free(text);
    }
    tkl_report_free(&r);
    build_2026(s, &r);
    ck_assert_int_eq(r.as_at, day(2026, 12, 2));
    char *text = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_ptr_nonnull(strstr(text, "as at Wednesday 2 December 2026. "));
    ck_assert_ptr_null(strstr(text, "the plan as it stands"));
    free(text);
    want_status(&r, "Q1", TKL_REPORT_COMPLETE, TKL_REASON_MARKED_COMPLETE);
    tkl_report_free(&r);
    /* without updates at all, only the plan speaks */
    ck_assert_int_eq(
        tkl_report_build(s, NULL, NULL, day(2026, 1, 1), day(2027, 1, 1), day(2026, 12, 2), &r), 0);
    want_status(&r, "Q1", TKL_REPORT_ONGOING, TKL_REASON_OVERDUE);
    want_status(&r, "P1", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* A completion reopened within the period is not complete: the reopen
 * shows among the notes where the completion does, with its why; marked
 * complete again, it is; a reopen after the period's end does not count
 * for that period. */
START_TEST(test_a_reopened_completion_is_not_complete)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "Q2", TKL_UPDATE_COMPLETE, "f@x.org", at(2026, 11, 3), TKL_RAG_NONE, NULL);
    record(s, "Q2", TKL_UPDATE_REOPEN, "g@x.org", at(2026, 11, 5), TKL_RAG_NONE,
           "<i>Not signed off</i>");
    record(s, "Q1", TKL_UPDATE_COMPLETE, "e@x.org", at(2026, 8, 1), TKL_RAG_NONE, NULL);
    record(s, "Q1", TKL_UPDATE_REOPEN, "e@x.org", at(2026, 9, 1), TKL_RAG_NONE, NULL);
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "Q2", TKL_REPORT_ONGOING, TKL_REASON_NO_UPDATE);
    want_status(&r, "Q1", TKL_REPORT_ONGOING, TKL_REASON_OVERDUE);
    const struct tkl_report_row *q2 = row_of(&r, "Q2");
    ck_assert_ptr_null(q2->completion);
    ck_assert_uint_eq(q2->n_notes, 2);
    ck_assert_int_eq(q2->notes[0]->kind, TKL_UPDATE_COMPLETE);
    ck_assert_int_eq(q2->notes[1]->kind, TKL_UPDATE_REOPEN);
    ck_assert_uint_eq(r.counts[TKL_REPORT_COMPLETE], 1); /* P5, as the plan says */
    char *h = written(&r, TKL_REPORT_HTML);
    const char *done = strstr(h, "Marked complete by <span class=\"who\">f@x.org</span>"),
               *back = strstr(h, "Reopened by <span class=\"who\">g@x.org</span><br><bdi>&lt;i&gt;"
                                 "Not signed off&lt;/i&gt;</bdi></li>");
    ck_assert_ptr_nonnull(done);
    ck_assert_ptr_nonnull(back);
    ck_assert(done < back);
    ck_assert_ptr_null(strstr(h, "<i>"));
    free(h);
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_ptr_nonnull(strstr(c, "3 Nov 2026: marked complete by f@x.org\n5 Nov 2026: "
                                    "reopened by g@x.org: <i>Not signed off</i>"));
    free(c);
    char *m = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_ptr_nonnull(strstr(m, "reopened by g@x.org"));
    free(m);
    tkl_report_free(&r);
    /* up to 15 August 2026, Q1's completion had not been reopened */
    ck_assert_int_eq(
        tkl_report_build(s, &ups, NULL, day(2026, 1, 1), day(2026, 8, 16), day(2026, 12, 2), &r),
        0);
    want_status(&r, "Q1", TKL_REPORT_COMPLETE, TKL_REASON_MARKED_COMPLETE);
    tkl_report_free(&r);
    /* marked complete again */
    record(s, "Q2", TKL_UPDATE_COMPLETE, "f@x.org", at(2026, 11, 20), TKL_RAG_NONE, NULL);
    build_2026(s, &r);
    want_status(&r, "Q2", TKL_REPORT_COMPLETE, TKL_REASON_MARKED_COMPLETE);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q2"), why, sizeof(why)),
                     "Marked complete by f@x.org on 20 Nov 2026.");
    ck_assert_uint_eq(row_of(&r, "Q2")->n_notes, 3);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* A team that says an action is not theirs: the report shows it among
 * the notes, with the team suggested and why, and says the action waits
 * for its owner to reassign it, not "no update"; once the plan names
 * other owners, it no longer holds. */
START_TEST(test_not_ours_is_reported_not_hidden)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    struct tkl_update *u = record(s, "Q3", TKL_UPDATE_NOT_OURS, "hr@x.org", at(2026, 10, 7),
                                  TKL_RAG_NONE, "Estates <b>run</b> the loops");
    free(u->suggested_team); /* the updates own their texts */
    ck_assert_ptr_nonnull(u->suggested_team = strdup("Estates & Facilities"));
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "Q3", TKL_REPORT_ONGOING, TKL_REASON_NOT_OURS);
    const struct tkl_report_row *q3 = row_of(&r, "Q3");
    ck_assert_uint_eq(q3->n_notes, 1);
    char why[TKL_REPORT_REASON_SIZE];
    ck_assert_str_eq(tkl_report_reason_text(q3, why, sizeof(why)),
                     "Said not ours by hr@x.org on 7 Oct 2026, suggesting Estates & Facilities; "
                     "for the plan's owner to reassign.");
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_ptr_nonnull(strstr(c, "7 Oct 2026: said not ours by hr@x.org, suggesting Estates & "
                                    "Facilities: Estates <b>run</b> the loops"));
    ck_assert_ptr_null(strstr(c, "Hearing loops,HR,April 2027,No update this period"));
    free(c);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(h,
                                 "Said not ours by <span class=\"who\">hr@x.org</span>, "
                                 "suggesting <bdi>Estates &amp; Facilities</bdi><br><bdi>Estates "
                                 "&lt;b&gt;run"));
    ck_assert_ptr_null(strstr(h, "<b>run"));
    free(h);
    tkl_report_free(&r);
    /* a team suggested with a right-to-left override (U+202E) left open:
     * isolated, the override closed, so ": " and the note keep their
     * place */
    free(u->suggested_team);
    ck_assert_ptr_nonnull(u->suggested_team = strdup("\xe2\x80\xae"
                                                     "Estates"));
    build_2026(s, &r);
    c = written(&r, TKL_REPORT_CSV);
    ck_assert_ptr_nonnull(strstr(c,
                                 "said not ours by hr@x.org, suggesting \xe2\x81\xa8\xe2\x80\xae"
                                 "Estates\xe2\x80\xac\xe2\x81\xa9: Estates <b>run</b> the loops"));
    free(c);
    tkl_report_free(&r);
    /* Q2 is owned by HR and the EDI Officer Group: HR's "not ours" alone
     * leaves it with EDI (listed, not the why); once EDI says so too, no
     * team has it */
    ck_assert_int_eq(tkl_store_find(s, "Q2")->n_teams, 2);
    record(s, "Q2", TKL_UPDATE_NOT_OURS, "hr@x.org", at(2026, 10, 8), TKL_RAG_NONE, NULL);
    build_2026(s, &r);
    ck_assert_int_eq(row_of(&r, "Q2")->reason, TKL_REASON_NO_UPDATE);
    ck_assert_uint_eq(row_of(&r, "Q2")->n_notes, 1);
    /* the why says what its notes show: one team's "not ours", no progress */
    ck_assert_str_eq(tkl_report_reason_text(row_of(&r, "Q2"), why, sizeof(why)),
                     "No progress update this period; said not ours by hr@x.org on 8 Oct 2026, "
                     "for one of its teams.");
    tkl_report_free(&r);
    struct tkl_update *edi =
        record(s, "Q2", TKL_UPDATE_NOT_OURS, "e@x.org", at(2026, 10, 9), TKL_RAG_NONE, NULL);
    free(edi->team_id);
    ck_assert_ptr_nonnull(edi->team_id = strdup("edi"));
    build_2026(s, &r);
    want_status(&r, "Q2", TKL_REPORT_ONGOING, TKL_REASON_NOT_OURS);
    ck_assert_str_eq(row_of(&r, "Q2")->not_ours->recipient, "e@x.org");
    tkl_report_free(&r);
    /* the plan names other owners since: the "not ours" no longer holds */
    u = &ups.v[0]; /* Q3's (records since may have moved the array) */
    ck_assert_str_eq(u->action_id, "Q3");
    free(u->plan_owners);
    ck_assert_ptr_nonnull(u->plan_owners = strdup("Estates"));
    build_2026(s, &r);
    ck_assert_int_ne(row_of(&r, "Q3")->reason, TKL_REASON_NOT_OURS);
    ck_assert_uint_eq(row_of(&r, "Q3")->n_notes, 1); /* still told, as said */
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* A "not ours" its team took back (a resume) is no longer the row's why:
 * both are among the notes; another team's resume takes back nothing; the
 * export says the "not ours", and a snooze resumed, no longer hold. */
START_TEST(test_a_not_ours_taken_back_is_not_the_why)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "Q3", TKL_UPDATE_NOT_OURS, "hr@x.org", at(2026, 10, 7), TKL_RAG_NONE, NULL);
    struct tkl_update *other =
        record(s, "Q3", TKL_UPDATE_RESUME, "e@x.org", at(2026, 10, 8), TKL_RAG_NONE, NULL);
    free(other->team_id);
    ck_assert_ptr_nonnull(other->team_id = strdup("edi"));
    struct tkl_report r;
    build_2026(s, &r);
    want_status(&r, "Q3", TKL_REPORT_ONGOING, TKL_REASON_NOT_OURS);
    tkl_report_free(&r);
    record(s, "Q3", TKL_UPDATE_RESUME, "hr@x.org", at(2026, 10, 9), TKL_RAG_NONE,
           "We run the <loops> after all");
    build_2026(s, &r);
    const struct tkl_report_row *q3 = row_of(&r, "Q3");
    ck_assert_int_ne(q3->reason, TKL_REASON_NOT_OURS);
    ck_assert_ptr_null(q3->not_ours);
    ck_assert_ptr_null(q3->partly_not_ours);
    ck_assert_uint_eq(q3->n_notes, 3);
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_ptr_nonnull(
        strstr(c, "9 Oct 2026: resumed reminders by hr@x.org: We run the <loops> after all"));
    free(c);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(h, "Resumed reminders by <span class=\"who\">hr@x.org</span>"));
    ck_assert_ptr_null(strstr(h, "<loops>"));
    free(h);
    tkl_report_free(&r);
    /* the export: the "not ours" and a snooze resumed hold no more */
    struct tkl_update *z =
        record(s, "P3", TKL_UPDATE_SNOOZE, "c@x.org", at(2026, 11, 20), TKL_RAG_NONE, NULL);
    z->until_day = day(2026, 12, 14);
    record(s, "P3", TKL_UPDATE_RESUME, "c@x.org", at(2026, 11, 21), TKL_RAG_NONE, NULL);
    json_t *arr = tkl_updates_json(&ups, s, NULL, NULL, 0, day(2026, 12, 2));
    ck_assert_ptr_nonnull(arr);
    static const bool holds[] = {false, true, true, false, true};
    ck_assert_uint_eq(json_array_size(arr), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(json_is_true(json_object_get(json_array_get(arr, i), "holds")) == holds[i],
                      "update %zu", i);
    json_decref(arr);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_period_defaults_and_names)
{
    int32_t from = 0, to = 0, today = day(2026, 12, 2);
    char buf[64];
    /* neither: the twelve months to today */
    ck_assert_int_eq(tkl_report_period(NULL, NULL, today, &from, &to), 0);
    ck_assert_int_eq(from, day(2025, 12, 3));
    ck_assert_int_eq(to, day(2026, 12, 3));
    ck_assert_str_eq(tkl_report_period_text(from, to, buf, sizeof(buf)),
                     "3 Dec 2025 to 2 Dec 2026");
    /* from only: the financial year */
    ck_assert_int_eq(tkl_report_period("2026-04-01", NULL, today, &from, &to), 0);
    ck_assert_int_eq(to, day(2027, 4, 1));
    ck_assert_str_eq(tkl_report_period_text(from, to, buf, sizeof(buf)),
                     "1 Apr 2026 to 31 Mar 2027");
    /* both, inclusive: a calendar year is named by its number */
    ck_assert_int_eq(tkl_report_period("2026-01-01", "2026-12-31", today, &from, &to), 0);
    ck_assert_str_eq(tkl_report_period_text(from, to, buf, sizeof(buf)), "2026");
    /* to only, from a leap day */
    ck_assert_int_eq(tkl_report_period(NULL, "2028-02-29", today, &from, &to), 0);
    ck_assert_int_eq(from, day(2027, 3, 1));
    /* from only, a leap day: to the day before its anniversary, 28 Feb */
    ck_assert_int_eq(tkl_report_period("2024-02-29", NULL, today, &from, &to), 0);
    ck_assert_int_eq(to, day(2025, 3, 1));
    ck_assert_str_eq(tkl_report_period_text(from, to, buf, sizeof(buf)),
                     "29 Feb 2024 to 28 Feb 2025");
    ck_assert_int_eq(tkl_report_period("2026-05-05", "2026-05-05", today, &from, &to), 0);
    ck_assert_str_eq(tkl_report_period_text(from, to, buf, sizeof(buf)), "5 May 2026");
    /* refused, nothing set */
    from = to = 7;
    ck_assert_int_eq(tkl_report_period("2026-13-01", NULL, today, &from, &to), -EINVAL);
    ck_assert_int_eq(tkl_report_period("2026-05-05", "2026-05-04", today, &from, &to), -EINVAL);
    ck_assert_int_eq(tkl_report_period("1900-01-01", "2026-05-04", today, &from, &to), -EINVAL);
    ck_assert_int_eq(tkl_report_period("yesterday", NULL, today, &from, &to), -EINVAL);
    ck_assert_int_eq(from, 7);
    ck_assert_int_eq(to, 7);
    enum tkl_report_format f = TKL_REPORT_HTML;
    ck_assert_int_eq(tkl_report_format_parse("md", &f), 0);
    ck_assert_int_eq(f, TKL_REPORT_MARKDOWN);
    ck_assert_int_eq(tkl_report_format_parse("csv", &f), 0);
    ck_assert_int_eq(f, TKL_REPORT_CSV);
    ck_assert_int_eq(tkl_report_format_parse("pdf", &f), -EINVAL);
    ck_assert_int_eq(f, TKL_REPORT_CSV);
    ck_assert_str_eq(tkl_report_format_type(TKL_REPORT_CSV), "text/csv; charset=utf-8");
}
END_TEST

/* The store and updates the format tests share: a hostile title and
 * owners (Q2) and a hostile note (P1, after a plain one). */
static struct tkl_store *hostile(void)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 1), TKL_RAG_AMBER, "first");
    record(s, "P1", TKL_UPDATE_PROGRESS, "<b>who</b>@x.org", at(2026, 9, 1), TKL_RAG_GREEN,
           HOSTILE_NOTE);
    record(s, "Q2", TKL_UPDATE_COMPLETE, "f@x.org", at(2026, 11, 3), TKL_RAG_NONE, NULL);
    return s;
}

/* hostile() and an update of an action the plan no longer has. */
static struct tkl_store *hostile_with_orphan(void)
{
    struct tkl_store *s = hostile();
    record(s, "GONE", TKL_UPDATE_PROGRESS, "g@x.org", at(2026, 4, 1), TKL_RAG_AMBER, "moved");
    return s;
}

START_TEST(test_html_escaped_printable_and_in_the_councils_layout)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    char *h = written(&r, TKL_REPORT_HTML);
    /* nothing from the plan or a note is markup */
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "<img"));
    ck_assert_ptr_null(strstr(h, "<b>"));
    ck_assert_ptr_null(strstr(h, "style=")); /* no style attribute */
    ck_assert_ptr_nonnull(
        strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;too&#39;"));
    ck_assert_ptr_nonnull(strstr(h, "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;) | pipe"
                                    "<br>## not a heading &lt;img src=x&gt;"));
    ck_assert_ptr_nonnull(strstr(h, "&lt;b&gt;who&lt;/b&gt;@x.org"));
    /* printable on A4, the header row repeated, rows kept whole */
    ck_assert_ptr_nonnull(strstr(h, "@page{size:A4"));
    ck_assert_ptr_nonnull(strstr(h, "thead{display:table-header-group}"));
    ck_assert_ptr_nonnull(strstr(h, "tr{break-inside:avoid"));
    /* the council's headings, the period, one table per objective */
    ck_assert_ptr_nonnull(strstr(h,
                                 "<th scope=\"col\">Agreed Actions</th><th scope=\"col\">"
                                 "Progress \xe2\x80\x93 2026</th><th scope=\"col\">Status</th>"));
    const char *people = strstr(h, "<h2>People</h2>"), *places = strstr(h, "<h2>Places</h2>");
    ck_assert_ptr_nonnull(people);
    ck_assert_ptr_nonnull(places);
    ck_assert(people < places);
    /* a commitment opens once, as its first action writes it */
    ck_assert_ptr_nonnull(strstr(h, "scope=\"rowgroup\">We will train staff</th>"));
    ck_assert_ptr_null(strstr(h, "We will  train"));
    /* the notes oldest first, with RAG and who; the plan's own progress
     * marked; none at all said */
    const char *first = strstr(h, "first"), *second = strstr(h, "=HYPERLINK");
    ck_assert_ptr_nonnull(first);
    ck_assert(first < second);
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"rag amber\">Amber</span>"));
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"from\">From the plan:</span> Half done"));
    ck_assert_ptr_nonnull(strstr(h, "No update this period"));
    ck_assert_ptr_nonnull(strstr(h, "Marked complete by <span class=\"who\">f@x.org</span>"));
    /* the summary: a count per status in the council's words */
    ck_assert_ptr_nonnull(strstr(h, "8 actions: <span class=\"s0\">3 Complete/on schedule to "
                                    "deliver</span>, <span class=\"s1\">4 Ongoing/remain "
                                    "included in action plan</span>, <span class=\"s2\">1 "
                                    "Incomplete/cannot be carried forward</span>."));
    ck_assert_ptr_nonnull(strstr(h, "as at Wednesday 2 December 2026"));
    free(h);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* Reads one RFC 4180 record at *p into cells (at most max), each a
 * malloc()ed string; moves *p past its CRLF. Returns the number of
 * cells. Fails the test on a bare LF or CR outside quotes. */
static size_t csv_record(const char **p, char **cells, size_t max)
{
    size_t n = 0;
    const char *s = *p;
    for (;;) {
        static char buf[1 << 18]; /* a cell a spreadsheet cannot hold fits */
        size_t len = 0;
        if (*s == '"') {
            for (s++; !(*s == '"' && s[1] != '"'); s++) {
                ck_assert_msg(*s, "unterminated quoted cell");
                if (*s == '"')
                    s++;
                ck_assert_uint_lt(len, sizeof(buf) - 1);
                buf[len++] = *s;
            }
            s++;
        } else {
            for (; *s && *s != ',' && *s != '\r'; s++) {
                ck_assert_msg(*s != '\n' && *s != '"', "bare LF or quote outside quotes");
                ck_assert_uint_lt(len, sizeof(buf) - 1);
                buf[len++] = *s;
            }
        }
        buf[len] = '\0';
        ck_assert_uint_lt(n, max);
        cells[n++] = strdup(buf);
        if (*s == ',') {
            s++;
            continue;
        }
        ck_assert_msg(s[0] == '\r' && s[1] == '\n', "a record ends with CRLF");
        *p = s + 2;
        return n;
    }
}

static void cells_free(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
}

START_TEST(test_csv_opens_in_excel_with_the_councils_columns)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_int_eq(strncmp(c, "\xef\xbb\xbf", 3), 0);
    const char *p = c + 3;
    char *cells[16];
    size_t n = csv_record(&p, cells, 16);
    static const char *const head[] = {"Ref",
                                       "Objective",
                                       "Commitment",
                                       "Agreed Actions",
                                       "Responsibility",
                                       "Timeframe",
                                       "Progress \xe2\x80\x93 2026",
                                       "Status",
                                       "Why"};
    ck_assert_uint_eq(n, 9);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(cells[i], head[i]);
    cells_free(cells, n);
    size_t rows = 0;
    while (*p) {
        n = csv_record(&p, cells, 16);
        ck_assert_uint_eq(n, 9);
        static const char *const words[] = {"Complete/on schedule to deliver",
                                            "Ongoing/remain included in action plan",
                                            "Incomplete/cannot be carried forward"};
        const struct tkl_report_row *row = &r.rows[rows++];
        char why[TKL_REPORT_REASON_SIZE];
        ck_assert_str_eq(cells[0], row->action->id); /* joins tickler updates --csv */
        ck_assert_str_eq(cells[2], row->action->commitment);
        ck_assert_str_eq(cells[8], tkl_report_reason_text(row, why, sizeof(why)));
        ck_assert_str_eq(cells[7], words[row->status]);
        if (!strcmp(row->action->id, "P1")) {
            ck_assert_str_eq(cells[1], "People");
            ck_assert_str_eq(cells[3], "Train managers");
            /* a line per note, oldest first; the formula in a note is
             * not at the start of the cell */
            ck_assert_str_eq(cells[6], "1 Mar 2026, Amber, a@x.org: first\n"
                                       "1 Sep 2026, Green, <b>who</b>@x.org: " HOSTILE_NOTE);
        }
        if (!strcmp(row->action->id, "Q2")) {
            ck_assert_str_eq(cells[3], HOSTILE_TITLE);             /* quotes read back whole */
            ck_assert_str_eq(cells[4], "'+HR, EDI Officer Group"); /* a formula, guarded */
            ck_assert_str_eq(cells[6], "3 Nov 2026: marked complete by f@x.org");
        }
        if (!strcmp(row->action->id, "P2")) { /* the why does not say there was nothing */
            ck_assert_str_eq(cells[6], "From the plan: Half done");
            ck_assert_str_eq(cells[8], "No update from officers this period; the progress is "
                                       "the plan's own.");
        }
        if (!strcmp(row->action->id, "P4"))
            ck_assert_str_eq(cells[6], "No update this period");
        cells_free(cells, n);
    }
    ck_assert_uint_eq(rows, r.n);
    free(c);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_csv_guards_every_formula_start)
{
    static const char csv[] = "Ref,Objective,Actions,Responsibility,Timeframe\n"
                              "A,=1+1,-2 people,@SUM(A1),TBC\n";
    struct tkl_store *s = load(csv);
    ck_assert_ptr_nonnull(s);
    record(s, "A", TKL_UPDATE_PROGRESS, "=cmd|' /C calc'!A0", at(2026, 2, 2), TKL_RAG_NONE, "x");
    struct tkl_report r;
    build_2026(s, &r);
    char *c = written(&r, TKL_REPORT_CSV);
    const char *p = c + 3;
    char *cells[16];
    size_t n = csv_record(&p, cells, 16);
    cells_free(cells, n);
    n = csv_record(&p, cells, 16);
    ck_assert_str_eq(cells[0], "A");
    ck_assert_str_eq(cells[1], "'=1+1");
    ck_assert_str_eq(cells[3], "'-2 people");
    ck_assert_str_eq(cells[4], "'@SUM(A1)");
    ck_assert_str_eq(cells[5], "TBC");
    ck_assert_str_eq(cells[6], "2 Feb 2026, =cmd|' /C calc'!A0: x");
    cells_free(cells, n);
    ck_assert_str_eq(p, "");
    free(c);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* A spreadsheet whose list separator is ";" (or a tab) splits there: a
 * cell holding one is quoted, so no formula starts inside it. */
START_TEST(test_csv_quotes_other_separators)
{
    static const char csv[] = "Ref,Objective,Actions,Responsibility,Timeframe\n"
                              "A,Fair pay,Review;=HYPERLINK(1),HR;@SUM(A1),TBC\n";
    struct tkl_store *s = load(csv);
    ck_assert_ptr_nonnull(s);
    struct tkl_report r;
    build_2026(s, &r);
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_ptr_nonnull(strstr(c, ",\"Review;=HYPERLINK(1)\","));
    ck_assert_ptr_nonnull(strstr(c, ",\"HR;@SUM(A1)\","));
    free(c);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The number of '|' in line not escaped by a backslash. */
static size_t bare_pipes(const char *line, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\\') {
            i++;
            continue;
        }
        n += line[i] == '|';
    }
    return n;
}

START_TEST(test_markdown_a_table_per_objective_text_escaped)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    char *m = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_int_eq(strncmp(m, "# Equality action plan: progress report\n", 40), 0);
    ck_assert_ptr_nonnull(strstr(m, "\n## People\n\n| Commitment | Agreed Actions | Progress "
                                    "\xe2\x80\x93 2026 | Status |\n| --- | --- | --- | --- |\n"));
    ck_assert_ptr_nonnull(strstr(m, "\n## Places\n"));
    size_t tables = 0, rows = 0;
    for (const char *line = m; *line;) {
        size_t len = strcspn(line, "\n");
        /* no line of the plan's or a note's text starts a line: a heading
         * only where an objective opens */
        if (!strncmp(line, "## ", 3))
            ck_assert_msg(!strncmp(line, "## People\n", 10) || !strncmp(line, "## Places\n", 10),
                          "stray heading %.*s", (int)len, line);
        if (!strncmp(line, "| --- ", 6))
            tables++;
        else if (line[0] == '|') {
            ck_assert_uint_eq(bare_pipes(line, len), 5); /* four cells, no more */
            rows++;
        }
        line += len + (line[len] == '\n');
    }
    ck_assert_uint_eq(tables, 2);
    ck_assert_uint_eq(rows, 2 + r.n); /* two header rows */
    /* every < is escaped, but for the line breaks the report writes */
    for (const char *lt = strchr(m, '<'); lt; lt = strchr(lt + 1, '<'))
        ck_assert_msg(lt[-1] == '\\' || !strncmp(lt, "<br>", 4), "bare <: %.20s", lt);
    ck_assert_ptr_nonnull(strstr(m, "\\<script\\>alert(1)\\</script\\> \\& \"quotes\""));
    ck_assert_ptr_nonnull(strstr(m, "=HYPERLINK(\"http://evil\",\"x\") \\| pipe<br>\\#\\# not a "
                                    "heading \\<img src=x\\>"));
    ck_assert_ptr_nonnull(strstr(m, "| **Complete/on schedule to deliver**<br>Marked complete by "
                                    "f@x.org on 3 Nov 2026. |"));
    free(m);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_the_councils_words_and_title_from_the_configuration)
{
    struct tkl_store *s = hostile();
    char done[] = "Done", going[] = "Carry on", dropped[] = "Dropped <x>",
         title[] = "Our <b>plan</b>";
    struct tkl_report_conf conf = {.status_words = {done, going, dropped}, .title = title};
    struct tkl_report r;
    ck_assert_int_eq(
        tkl_report_build(s, &ups, &conf, day(2026, 1, 1), day(2027, 1, 1), day(2026, 12, 2), &r),
        0);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(h, "<h1>Our &lt;b&gt;plan&lt;/b&gt;</h1>"));
    ck_assert_ptr_nonnull(strstr(h, "<strong>Dropped &lt;x&gt;</strong>"));
    ck_assert_ptr_null(strstr(h, "Ongoing/remain"));
    free(h);
    char *m = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_int_eq(strncmp(m, "# Our \\<b\\>plan\\</b\\>\n", 22), 0);
    free(m);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_a_write_error_is_told)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    FILE *full = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(full);
    ck_assert_int_eq(setvbuf(full, NULL, _IONBF, 0), 0);
    for (int f = TKL_REPORT_HTML; f <= TKL_REPORT_MARKDOWN; f++)
        ck_assert_int_eq(tkl_report_write(full, &r, (enum tkl_report_format)f), -EIO);
    ck_assert_int_eq(tkl_updates_csv(full, &ups, s, NULL, NULL, 0, day(2026, 12, 2)), -EIO);
    fclose(full);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_updates_export_csv_and_json)
{
    struct tkl_store *s = hostile();
    struct tkl_update *z =
        record(s, "P3", TKL_UPDATE_SNOOZE, "c@x.org", at(2026, 11, 20), TKL_RAG_NONE, NULL);
    z->until_day = day(2026, 12, 14);
    struct tkl_update *n = record(s, "Q3", TKL_UPDATE_NOT_OURS, "g@x.org", at(2026, 11, 21),
                                  TKL_RAG_NONE, "-1 not us");
    ck_assert_ptr_nonnull(n->suggested_team = strdup("@Facilities"));
    free(n->plan_owners); /* the plan has changed owners since */
    ck_assert_ptr_nonnull(n->plan_owners = strdup("Someone else"));
    record(s, "GONE", TKL_UPDATE_PROGRESS, "h@x.org", at(2026, 11, 22), TKL_RAG_RED, "x");
    record(s, "Q2", TKL_UPDATE_REOPEN, "f@x.org", at(2026, 11, 23), TKL_RAG_NONE, "=not done");
    /* CSV: since 3 November, five of them */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tkl_updates_csv(out, &ups, s, NULL, NULL,
                                     tkl_local_instant(day(2026, 11, 3), 0), day(2026, 12, 2)),
                     0);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_int_eq(strncmp(buf, "\xef\xbb\xbf", 3), 0);
    const char *p = buf + 3;
    char *cells[16];
    size_t k = csv_record(&p, cells, 16);
    ck_assert_uint_eq(k, 15);
    ck_assert_str_eq(cells[0], "Id");
    ck_assert_str_eq(cells[14], "Holds now");
    cells_free(cells, k);
    static const char *const kinds[] = {"complete", "snooze", "not-ours", "progress", "reopen"};
    for (size_t i = 0; i < 5; i++) {
        k = csv_record(&p, cells, 16);
        ck_assert_uint_eq(k, 15);
        ck_assert_str_eq(cells[5], kinds[i]);
        if (i == 0) { /* its plan unchanged, but reopened since */
            ck_assert_str_eq(cells[1], "Q2");
            ck_assert_str_eq(cells[14], "no");
        }
        if (i == 1) {
            ck_assert_str_eq(cells[1], "P3");
            ck_assert_str_eq(cells[2], "Train members");
            ck_assert_str_eq(cells[6], "2026-11-20T09:30:00+00:00");
            ck_assert_str_eq(cells[9], "2026-12-14");
            ck_assert_str_eq(cells[11], "Ongoing");
            ck_assert_str_eq(cells[14], "yes");
        }
        if (i == 2) {
            ck_assert_str_eq(cells[8], "'-1 not us");
            ck_assert_str_eq(cells[10], "'@Facilities");
            ck_assert_str_eq(cells[14], "no");
        }
        if (i == 3) {
            ck_assert_str_eq(cells[2], ""); /* the plan no longer has it */
            ck_assert_str_eq(cells[7], "red");
            ck_assert_str_eq(cells[14], "");
        }
        if (i == 4) {
            ck_assert_str_eq(cells[1], "Q2");
            ck_assert_str_eq(cells[7], "");
            ck_assert_str_eq(cells[8], "'=not done");
            ck_assert_str_eq(cells[14], "yes");
        }
        cells_free(cells, k);
    }
    ck_assert_str_eq(p, "");
    free(buf);
    /* JSON: all of them */
    json_t *arr = tkl_updates_json(&ups, s, NULL, NULL, 0, day(2026, 12, 2));
    ck_assert_ptr_nonnull(arr);
    ck_assert_uint_eq(json_array_size(arr), ups.n);
    json_t *first = json_array_get(arr, 1);
    ck_assert_str_eq(json_string_value(json_object_get(first, "who")), "<b>who</b>@x.org");
    ck_assert_str_eq(json_string_value(json_object_get(first, "note")), HOSTILE_NOTE);
    ck_assert_str_eq(json_string_value(json_object_get(first, "rag")), "green");
    ck_assert_str_eq(json_string_value(json_object_get(first, "action_title")), "Train managers");
    ck_assert(json_is_true(json_object_get(first, "holds")));
    json_t *plan = json_object_get(first, "plan");
    ck_assert_str_eq(json_string_value(json_object_get(plan, "deadline")), "2027-03-31");
    ck_assert_str_eq(json_string_value(json_object_get(plan, "deadline_text")), "March 2027");
    json_t *done = json_array_get(arr, ups.n - 5);
    ck_assert_str_eq(json_string_value(json_object_get(done, "kind")), "complete");
    ck_assert(json_is_false(json_object_get(done, "holds"))); /* reopened since */
    json_t *reopen = json_array_get(arr, ups.n - 1);
    ck_assert_str_eq(json_string_value(json_object_get(reopen, "kind")), "reopen");
    ck_assert_str_eq(json_string_value(json_object_get(reopen, "note")), "=not done");
    ck_assert(json_is_null(json_object_get(reopen, "until")));
    json_t *gone = json_array_get(arr, ups.n - 2);
    ck_assert(json_is_null(json_object_get(gone, "action_title")));
    ck_assert(json_is_null(json_object_get(gone, "holds")));
    json_t *snooze = json_array_get(arr, ups.n - 4);
    ck_assert_str_eq(json_string_value(json_object_get(snooze, "until")), "2026-12-14");
    ck_assert(json_is_null(json_object_get(snooze, "rag")));
    ck_assert(json_is_true(json_object_get(snooze, "holds")));
    json_decref(arr);
    /* on the snooze's day it holds no more */
    arr = tkl_updates_json(&ups, s, NULL, NULL, 0, day(2026, 12, 14));
    ck_assert_ptr_nonnull(arr);
    snooze = json_array_get(arr, ups.n - 4);
    ck_assert_str_eq(json_string_value(json_object_get(snooze, "kind")), "snooze");
    ck_assert(json_is_false(json_object_get(snooze, "holds")));
    json_decref(arr);
    tkl_store_free(s);
}
END_TEST

/* "Holds now" of each update of l as the JSON export gives it, by index. */
static bool export_holds(const struct tkl_store *s, size_t i, int32_t today)
{
    json_t *arr = tkl_updates_json(&ups, s, NULL, NULL, 0, today);
    ck_assert_ptr_nonnull(arr);
    json_t *h = json_object_get(json_array_get(arr, i), "holds");
    ck_assert(json_is_boolean(h));
    bool r = json_is_true(h);
    json_decref(arr);
    return r;
}

START_TEST(test_updates_export_ends_a_hold_only_by_its_own_actions_updates)
{
    struct tkl_store *s = hostile();
    size_t b = ups.n; /* the updates hostile() recorded come first */
    struct tkl_update *u =
        record(s, "P3", TKL_UPDATE_SNOOZE, "c@x.org", at(2026, 11, 20), TKL_RAG_NONE, NULL);
    u->until_day = day(2026, 12, 14);
    u = record(s, "Q3", TKL_UPDATE_SNOOZE, "g@x.org", at(2026, 11, 21), TKL_RAG_NONE, NULL);
    u->until_day = day(2026, 12, 20);
    record(s, "Q3", TKL_UPDATE_NOT_OURS, "g@x.org", at(2026, 11, 22), TKL_RAG_NONE, NULL);
    u = record(s, "Q3", TKL_UPDATE_NOT_OURS, "k@x.org", at(2026, 11, 23), TKL_RAG_NONE, NULL);
    free(u->team_id);
    ck_assert_ptr_nonnull(u->team_id = strdup("edi"));
    record(s, "P3", TKL_UPDATE_COMPLETE, "c@x.org", at(2026, 11, 24), TKL_RAG_NONE, NULL);
    record(s, "Q3", TKL_UPDATE_RESUME, "g@x.org", at(2026, 11, 25), TKL_RAG_NONE, NULL);
    record(s, "Q3", TKL_UPDATE_COMPLETE, "g@x.org", at(2026, 11, 26), TKL_RAG_NONE, NULL);
    record(s, "Q3", TKL_UPDATE_REOPEN, "g@x.org", at(2026, 11, 27), TKL_RAG_NONE, NULL);
    int32_t today = day(2026, 12, 2);
    ck_assert(export_holds(s, b + 0, today));  /* P3's snooze: Q3's updates are not its */
    ck_assert(!export_holds(s, b + 1, today)); /* Q3's snooze: ended by Q3's resume */
    ck_assert(!export_holds(s, b + 2, today)); /* hr's "not ours": hr resumed */
    ck_assert(export_holds(s, b + 3, today));  /* edi's "not ours": only hr resumed */
    ck_assert(export_holds(s, b + 4, today));  /* P3's completion: the reopen is Q3's */
    ck_assert(!export_holds(s, b + 6, today)); /* Q3's completion: reopened */
    ck_assert(!export_holds(s, b + 0, day(2026, 12, 14))); /* the snooze's day has come */
    tkl_store_free(s);
}
END_TEST

START_TEST(test_an_empty_plan)
{
    struct tkl_store *s = load("Ref,Actions,Timeframe\n");
    ck_assert_ptr_nonnull(s);
    struct tkl_report r;
    build_2026(s, &r);
    ck_assert_uint_eq(r.n, 0);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(h, "The plan has no actions."));
    ck_assert_ptr_nonnull(strstr(h, "</body>\n</html>\n"));
    free(h);
    char *c = written(&r, TKL_REPORT_CSV);
    ck_assert_str_eq(c, "\xef\xbb\xbfRef,Objective,Commitment,Agreed Actions,Responsibility,"
                        "Timeframe,Progress \xe2\x80\x93 2026,Status,Why\r\n");
    free(c);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* Builds the report of s (n > 0: with the nth allocation failing) into
 * *r. Returns what tkl_report_build did; *ret_failed is whether an
 * allocation failed. No assertion runs while the failure is armed (Check
 * allocates too). */
static int try_build(const struct tkl_store *s, unsigned long n, struct tkl_report *r,
                     bool *ret_failed)
{
    alloc_fail_nth(n);
    int err =
        tkl_report_build(s, &ups, NULL, day(2026, 1, 1), day(2027, 1, 1), day(2026, 12, 2), r);
    *ret_failed = n && alloc_count >= n;
    alloc_fail_nth(0);
    return err;
}

/* Writes r in f to a memory stream, the nth allocation failing. */
static int try_write(const struct tkl_report *r, enum tkl_report_format f, unsigned long n,
                     bool *ret_failed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    alloc_fail_nth(n);
    int err = tkl_report_write(out, r, f);
    *ret_failed = alloc_count >= n;
    alloc_fail_nth(0);
    ck_assert_int_eq(fclose(out), 0);
    free(buf);
    return err;
}

/* The period's updates of an action the plan no longer has (removed, or
 * renumbered) are listed at the end in every format, escaped, and counted
 * in the summary; one outside the period is not. */
START_TEST(test_updates_of_an_action_no_longer_in_the_plan_are_listed_at_the_end)
{
    struct tkl_store *s = hostile();
    record(s, "GONE<1>", TKL_UPDATE_PROGRESS, "h@x.org", at(2026, 2, 2), TKL_RAG_RED,
           "late <b>|</b>");
    record(s, "GONE<1>", TKL_UPDATE_COMPLETE, "h@x.org", at(2026, 6, 2), TKL_RAG_NONE, NULL);
    record(s, "GONE<1>", TKL_UPDATE_PROGRESS, "h@x.org", at(2025, 6, 2), TKL_RAG_GREEN, "old");
    record(s, "GONE2", TKL_UPDATE_SNOOZE, "h@x.org", at(2026, 6, 2), TKL_RAG_NONE, NULL);
    struct tkl_report r;
    build_2026(s, &r);
    ck_assert_uint_eq(r.n, 8);
    ck_assert_uint_eq(r.n_orphans, 2); /* by id */
    ck_assert_str_eq(r.orphans[0].action_id, "GONE2");
    ck_assert_uint_eq(r.orphans[0].n_notes, 1);
    ck_assert_str_eq(r.orphans[1].action_id, "GONE<1>");
    ck_assert_uint_eq(r.orphans[1].n_notes, 2);
    ck_assert_uint_eq(r.n_orphan_notes, 3);
    char *h = written(&r, TKL_REPORT_HTML);
    const char *end = strstr(h, "<h2>Updates for actions no longer in the plan</h2>");
    ck_assert_ptr_nonnull(end);
    ck_assert(end > strstr(h, "<h2>Places</h2>"));
    ck_assert_ptr_nonnull(strstr(end, "<td>GONE&lt;1&gt;</td>"));
    ck_assert_ptr_nonnull(strstr(end, "<span class=\"rag red\">Red</span> <span class=\"who\">"
                                      "h@x.org</span><br><bdi>late &lt;b&gt;|&lt;/b&gt;"));
    ck_assert_ptr_nonnull(strstr(end, "Marked complete by <span class=\"who\">h@x.org</span>"));
    ck_assert_ptr_null(strstr(end, "old"));
    ck_assert_ptr_nonnull(strstr(end, "<td>GONE2</td>"));
    ck_assert_ptr_nonnull(strstr(h, "<a href=\"#orphans\">3 updates for 2 actions no longer in "
                                    "the plan</a>, at the end."));
    free(h);
    char *m = written(&r, TKL_REPORT_MARKDOWN);
    ck_assert_ptr_nonnull(strstr(m, "\n## Updates for actions no longer in the plan\n"));
    ck_assert_ptr_nonnull(strstr(m, "| GONE\\<1\\> | 2 Feb 2026, Red, h@x.org: late \\<b\\>\\|"
                                    "\\</b\\><br>2 Jun 2026: marked complete by h@x.org |\n"));
    free(m);
    char *c = written(&r, TKL_REPORT_CSV);
    const char *p = c + 3;
    char *cells[12];
    size_t n = csv_record(&p, cells, 12), last = 0;
    cells_free(cells, n);
    while (*p) {
        n = csv_record(&p, cells, 12);
        ck_assert_uint_eq(n, 9);
        if (!*p) { /* the last record: the orphan */
            ck_assert_str_eq(cells[0], "GONE<1>");
            ck_assert_str_eq(cells[1], "Not in the plan");
            ck_assert_str_eq(cells[6], "2 Feb 2026, Red, h@x.org: late <b>|</b>\n"
                                       "2 Jun 2026: marked complete by h@x.org");
            last = 1;
        }
        cells_free(cells, n);
    }
    ck_assert_uint_eq(last, 1);
    free(c);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The UTF-16 units of s, as a spreadsheet counts a cell's characters. */
static size_t utf16_units(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n += *p >= 0xF0 ? 2 : 1;
    return n;
}

/* A cell longer than a spreadsheet holds (32,767 characters) is cut at a
 * character, and says so; the HTML has the whole text. */
START_TEST(test_a_csv_cell_too_long_for_a_spreadsheet_is_cut_and_says_so)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    /* 12,000 characters a note, each of 1, 2 and 4 bytes (the last two
     * UTF-16 units), in three notes: 48,000 units in all */
    static const char *const piece[] = {"x", "\xc3\xa9", "\xf0\x9f\x98\x80"};
    char *note[3];
    for (int k = 0; k < 3; k++) {
        size_t w = strlen(piece[k]);
        ck_assert_ptr_nonnull(note[k] = malloc(w * (k == 2 ? 6000 : 12000) + 1));
        for (size_t i = 0; i < (k == 2 ? 6000u : 12000u); i++)
            memcpy(note[k] + i * w, piece[k], w);
        note[k][w * (k == 2 ? 6000 : 12000)] = '\0';
        record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 1 + k), TKL_RAG_GREEN, note[k]);
    }
    struct tkl_report r;
    build_2026(s, &r);
    char *c = written(&r, TKL_REPORT_CSV);
    const char *p = c + 3;
    char *cells[12];
    size_t n = csv_record(&p, cells, 12);
    cells_free(cells, n);
    n = csv_record(&p, cells, 12); /* P1 */
    ck_assert_str_eq(cells[0], "P1");
    size_t units = utf16_units(cells[6]);
    ck_assert_uint_le(units, 32767);
    ck_assert_uint_gt(units, 32600);
    const char *tail = strstr(cells[6], " \xe2\x80\xa6 (cut: a spreadsheet cell holds no more");
    ck_assert_ptr_nonnull(tail);
    ck_assert_str_eq(tail + strlen(tail) - 5, "hole)");
    /* cut between characters: what precedes the mark is whole */
    ck_assert(tail[-1] == 'x' || !strncmp(tail - 2, "\xc3\xa9", 2) ||
              !strncmp(tail - 4, "\xf0\x9f\x98\x80", 4));
    cells_free(cells, n);
    free(c);
    char *h = written(&r, TKL_REPORT_HTML);
    for (int k = 0; k < 3; k++)
        ck_assert_ptr_nonnull(strstr(h, note[k]));
    free(h);
    for (int k = 0; k < 3; k++)
        free(note[k]);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* An objective written with other capitals is one objective; the parts of
 * a row's cells are apart when copied as text (a line break between). */
START_TEST(test_an_objective_in_other_capitals_is_one_and_cells_copy_apart)
{
    struct tkl_store *s = load("Ref,Objective,Actions,Responsibility,Timeframe,Status\n"
                               "A1,As a Community Leader,One,HR,March 2027,\n"
                               "B1,As an Employer,Two,HR,March 2027,\n"
                               "A2,as a community  LEADER,Three,HR,March 2027,\n");
    ck_assert_ptr_nonnull(s);
    struct tkl_report r;
    build_2026(s, &r);
    static const char *const want[] = {"A1", "A2", "B1"};
    ck_assert_uint_eq(r.n, 3);
    for (size_t i = 0; i < r.n; i++)
        ck_assert_str_eq(r.rows[i].action->id, want[i]);
    ck_assert(!r.rows[1].opens_objective);
    char *h = written(&r, TKL_REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(h, "<h2>As a Community Leader</h2>"));
    ck_assert_ptr_null(strstr(h, "LEADER"));
    ck_assert_ptr_nonnull(strstr(h, "One<br><span class=\"meta\">Responsibility: HR"));
    ck_assert_ptr_nonnull(strstr(h, "</strong><br><span class=\"why\">"));
    free(h);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The Status column's why of an action every owning team said
 * "not ours" of quotes the team an officer suggested; an override the
 * officer left open (RLO) is closed and isolated there too, as in the
 * Progress column's note head, so "; for the plan's owner to reassign."
 * keeps its order (HTML, CSV, Markdown and Word all print this text). */
START_TEST(the_why_of_a_not_ours_isolates_its_suggested_team)
{
    struct tkl_action a = {.id = "X", .title = "t", .owners = "HR", .status_text = ""};
    struct tkl_update u = {.action_id = "X",
                           .recipient = "hr@x.example",
                           .team_id = "hr",
                           .kind = TKL_UPDATE_NOT_OURS,
                           .at = 1780000000,
                           .suggested_team = "\xe2\x80\xae"
                                             "Estates"};
    struct tkl_report_row row = {.action = &a, .not_ours = &u, .reason = TKL_REASON_NOT_OURS};
    char why[TKL_REPORT_REASON_SIZE];
    const char *t = tkl_report_reason_text(&row, why, sizeof(why));
    ck_assert_msg(strstr(t, "\xe2\x80\xac\xe2\x81\xa9; for the plan") != NULL,
                  "the RLO is left open: %s", t);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    struct tkl_store *s = hostile_with_orphan();
    bool failed = true;
    unsigned long n;
    for (n = 1; failed; n++) {
        struct tkl_report r = {.n = 77};
        int err = try_build(s, n, &r, &failed);
        ck_assert_int_eq(err, failed ? -ENOMEM : 0); /* ASan tells whether anything leaked */
        ck_assert_uint_eq(r.n, failed ? 77 : 8);     /* untouched on failure */
        if (!failed)
            tkl_report_free(&r);
    }
    ck_assert_uint_gt(n, 3);
    struct tkl_report r;
    ck_assert_int_eq(try_build(s, 0, &r, &failed), 0);
    for (int f = TKL_REPORT_HTML; f <= TKL_REPORT_MARKDOWN; f++) {
        failed = true;
        for (n = 1; failed; n++) {
            int err = try_write(&r, (enum tkl_report_format)f, n, &failed);
            ck_assert_int_eq(err, failed ? -ENOMEM : 0);
        }
    }
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, report_setup, report_teardown);
    tcase_add_test(tc, test_rows_by_objective_then_commitment_in_plan_order);
    tcase_add_test(tc, test_status_the_plan_first_then_officers_then_the_date);
    tcase_add_test(tc, test_status_is_as_at_the_end_of_the_period);
    tcase_add_test(tc, test_the_why_without_a_progress_note_names_the_latest_update);
    tcase_add_test(tc, test_a_long_plan_status_keeps_its_start_and_end);
    tcase_add_test(tc, test_green_without_a_date_is_not_on_schedule);
    tcase_add_test(tc, test_a_reopened_completion_is_not_complete);
    tcase_add_test(tc, test_not_ours_is_reported_not_hidden);
    tcase_add_test(tc, test_a_not_ours_taken_back_is_not_the_why);
    tcase_add_test(tc, test_period_defaults_and_names);
    tcase_add_test(tc, test_html_escaped_printable_and_in_the_councils_layout);
    tcase_add_test(tc, test_csv_opens_in_excel_with_the_councils_columns);
    tcase_add_test(tc, test_csv_guards_every_formula_start);
    tcase_add_test(tc, test_csv_quotes_other_separators);
    tcase_add_test(tc, test_markdown_a_table_per_objective_text_escaped);
    tcase_add_test(tc, test_the_councils_words_and_title_from_the_configuration);
    tcase_add_test(tc, test_a_write_error_is_told);
    tcase_add_test(tc, test_updates_export_csv_and_json);
    tcase_add_test(tc, test_updates_export_ends_a_hold_only_by_its_own_actions_updates);
    tcase_add_test(tc, test_an_empty_plan);
    tcase_add_test(tc, test_updates_of_an_action_no_longer_in_the_plan_are_listed_at_the_end);
    tcase_add_test(tc, test_an_objective_in_other_capitals_is_one_and_cells_copy_apart);
    tcase_add_test(tc, test_a_csv_cell_too_long_for_a_spreadsheet_is_cut_and_says_so);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    tcase_add_test(tc, the_why_of_a_not_ours_isolates_its_suggested_team);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
