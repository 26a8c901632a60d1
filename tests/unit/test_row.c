/* Tests for daemon/store/row.c: the rows of a plan as actions. */
#include <check.h>

#include "check_run.h"
#include "cpus.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "core/text.h"
#include "store/row.h"
#include "store_fixture.h"

static struct tkl_rows rows;

static void rows_setup(void)
{
    setup();
    rows = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
}

static void rows_teardown(void)
{
    tkl_rows_free(&rows);
    teardown();
}

static int read_rows(const char *file, const char *csv)
{
    return tkl_rows_read(&rows, file, csv, strlen(csv));
}

/* The nth action read (0-based), which must exist. */
static const struct tkl_action *nth(size_t i)
{
    ck_assert_uint_gt(rows.n_actions, i);
    return &rows.actions[i];
}

START_TEST(the_header_is_the_first_row_naming_an_action_column)
{
    ck_assert_int_eq(read_rows("plan.csv", "Equality Action Plan 2022-2025,,\n"
                                           "Commitments,Actions,Responsibility\n"
                                           "As an Employer,,\n"
                                           ",Train,HR\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 1);
    ck_assert_str_eq(nth(0)->title, "Train");
    ck_assert_str_eq(nth(0)->commitment, "As an Employer"); /* filled down */
    ck_assert_uint_eq(nth(0)->line, 4);
    ck_assert(has_diag(1, "before the header row"));
    ck_assert(has_diag(3, "read as a heading"));
}
END_TEST

/* A plan in sections, each under its own header row (the seeds' layout):
 * a repeated header is no action, its columns read the rows below it
 * (here a section that orders them otherwise), and what was carried down
 * ends with its section. */
START_TEST(a_header_row_again_reads_the_rows_below_by_its_columns)
{
    ck_assert_int_eq(read_rows("plan.csv", "Commitments,Actions,Responsibility,Timeframe\n"
                                           "We will train,First,HR,April 2023\n"
                                           "Commitments,Actions,Responsibility,Timeframe\n"
                                           ",Second,HR,May 2023\n"
                                           "Commitments , Actions,Timescale,Responsibility\n"
                                           "We will listen,Third,June 2023,Policy\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 3);
    ck_assert_str_eq(nth(0)->title, "First");
    ck_assert_str_eq(nth(1)->title, "Second");
    ck_assert_str_eq(nth(1)->commitment, ""); /* the section above ended */
    ck_assert_str_eq(nth(1)->owners, "HR");
    ck_assert_str_eq(nth(2)->title, "Third");
    ck_assert_str_eq(nth(2)->owners, "Policy");
    ck_assert_str_eq(nth(2)->deadline_text, "June 2023");
    ck_assert_int_eq(nth(2)->deadline.day, tkl_day_from_civil(2023, 6, 30));
    ck_assert(has_diag(3, "the header row again; not read as an action"));
    ck_assert(has_diag(5, "the header row again; not read as an action"));
    ck_assert_uint_eq(rows.n_maps, 3);
    /* a row that merely holds the word elsewhere is an action */
    ck_assert_int_eq(read_rows("b.csv", "Actions,Responsibility\nReview the Actions page,HR\n"), 0);
    ck_assert_str_eq(nth(3)->title, "Review the Actions page");
}
END_TEST

START_TEST(missing_and_repeated_columns_are_warned)
{
    ck_assert_int_eq(read_rows("plan.csv", "Actions,Status,Status\nOne,Complete,Closed\n"), 0);
    ck_assert(has_diag(1, "column 3 (\"Status\") repeats the status column 2; the first is used"));
    ck_assert(has_diag(1, "no column for owners"));
    ck_assert(has_diag(1, "no column for deadline"));
    ck_assert(!has_diag(1, "no column for status"));
    ck_assert_int_eq(nth(0)->status, TKL_STATUS_COMPLETE);
    ck_assert_int_eq(nth(0)->deadline.kind, TKL_DEADLINE_UNDATED);
}
END_TEST

START_TEST(no_action_column_is_an_error)
{
    ck_assert_int_eq(read_rows("plan.csv", "Name,Owner\nx,HR\n"), -EINVAL);
    ck_assert(tkl_diags_has_errors(&diags));
    ck_assert(has_diag(0, "no header row with an action column"));
    ck_assert(has_diag(1, "before the header row"));
}
END_TEST

/* The warnings whose message contains text. */
static size_t diags_with(const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < diags.n; i++)
        n += strstr(diags.items[i].message, text) != NULL;
    return n;
}

#define BEFORE_ONE                                                                                 \
    "before the header row (no column named Actions, Action Title, Agreed Actions or Title "       \
    "yet); not read as an action"

/* A title block of a few lines above the table: a warning for each line,
 * up to TKL_ROWS_MAX_PREAMBLE_WARNINGS of them. */
START_TEST(a_few_rows_before_the_header_are_warned_one_by_one)
{
    ck_assert_uint_eq(TKL_ROWS_MAX_PREAMBLE_WARNINGS, 5);
    ck_assert_int_eq(read_rows("plan.csv",
                               "Equality Action Plan,,\n"
                               "2023 to 2027,,\n"
                               "Draft for consultation,,\n"
                               "\n"
                               "Owner: EDI Officer Group,,\n"
                               "Responsibility,Lead Officer,\n" /* no title: no header */
                               "Commitments,Actions,Responsibility\n"
                               ",Train,HR\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 1);
    ck_assert_uint_eq(diags_with("before"), 5);
    for (unsigned line = 1; line <= 6; line++)
        ck_assert(line == 4 || has_diag(line, BEFORE_ONE));
    /* the repeated owners column of a row that is no header is not warned */
    ck_assert_uint_eq(diags_with("repeats"), 0);
    ck_assert_str_eq(diags.items[0].message, BEFORE_ONE);
}
END_TEST

/* A header row mistyped: every row comes before a header row, and is one
 * warning naming the first row, the last and how many, in place of the
 * first's; then the error of the file. */
START_TEST(many_rows_before_the_header_are_one_warning)
{
    size_t cap = 303 * 64;
    char *csv = malloc(cap);
    ck_assert_ptr_nonnull(csv);
    int len = snprintf(csv, cap, "Ref,Actoins,Responsibility,Timeframe\n");
    for (int i = 2; i <= 302; i++)
        len += snprintf(csv + len, cap - (size_t)len, "R%d,Train staff %d,HR,April 2023\n", i, i);
    ck_assert_int_eq(read_rows("plan.csv", csv), -EINVAL);
    free(csv);
    ck_assert_uint_eq(rows.n_actions, 0);
    ck_assert_uint_eq(diags.n, 2);
    ck_assert_uint_eq(diags.items[0].severity, TKL_SEV_WARNING);
    ck_assert_uint_eq(diags.items[0].line, 1);
    ck_assert_str_eq(diags.items[0].file, "plan.csv");
    ck_assert_str_eq(diags.items[0].message,
                     "rows 1 to 302 (302 rows) come before any header row (no column named "
                     "Actions, Action Title, Agreed Actions or Title yet); not read as actions");
    ck_assert_uint_eq(diags.items[1].severity, TKL_SEV_ERROR);
    ck_assert_str_eq(diags.items[1].message,
                     "no header row with an action column (Actions, Action Title, Agreed "
                     "Actions or Title; or set store.columns.title)");
}
END_TEST

/* One past the few: one warning, which counts the records (a blank line
 * is none), and the header row found after them reads the rows below it,
 * its own warnings after that one. */
START_TEST(one_row_past_the_few_before_the_header_is_one_warning)
{
    ck_assert_int_eq(read_rows("plan.csv", "Plan,,\n"
                                           "\n"
                                           "Note 1,,\n"
                                           "Note 2,,\n"
                                           "Note 3,,\n"
                                           "Note 4,,\n"
                                           "\"Note\n5\",,\n"
                                           "Commitments,Actions,Responsibility\n"
                                           ",Train,HR\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 1);
    ck_assert_str_eq(nth(0)->title, "Train");
    ck_assert_uint_eq(diags_with("before"), 1);
    ck_assert_uint_eq(diags.items[0].line, 1);
    ck_assert_str_eq(diags.items[0].message,
                     "rows 1 to 7 (6 rows) come before any header row (no column named Actions, "
                     "Action Title, Agreed Actions or Title yet); not read as actions");
    ck_assert(has_diag(9, "no column for deadline"));
    ck_assert_uint_eq(diags.items[1].line, 9);
    /* the next file counts its own */
    ck_assert_int_eq(read_rows("b.csv", "Plan,\nActions,Responsibility\nListen,HR\n"), 0);
    ck_assert_uint_eq(diags_with("before"), 2);
    ck_assert(has_diag(1, BEFORE_ONE));
}
END_TEST

START_TEST(too_many_fields_are_warned_and_the_row_kept)
{
    ck_assert_int_eq(read_rows("plan.csv", "Actions,Responsibility\nOne,HR\nTwo,HR,surprise\n"
                                           "Three,HR,  \n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 3);
    ck_assert(has_diag(3, "3 fields but the header has 2"));
    ck_assert(!has_diag(4, "fields but the header has")); /* only blanks after it */
}
END_TEST

START_TEST(merged_cells_fill_down_within_a_file)
{
    ck_assert_int_eq(read_rows("a.csv", "Objective,Commitments,Actions,Responsibility\n"
                                        "Employer,We will train,First,HR\n"
                                        ",,Second,HR\n"
                                        ",We will listen,Third,HR\n"),
                     0);
    ck_assert_str_eq(nth(1)->commitment, "We will train");
    ck_assert_str_eq(nth(2)->commitment, "We will listen");
    ck_assert_str_eq(nth(2)->objective, "Employer");
    ck_assert_int_eq(read_rows("b.csv", "Commitments,Actions,Responsibility\n,Fourth,HR\n"), 0);
    ck_assert_str_eq(nth(3)->commitment, "");
    ck_assert_str_eq(nth(3)->file, "b.csv");
}
END_TEST

/* A commitment belongs to its objective: a row that starts another
 * objective ends the one carried down, whether its own commitment cell is
 * blank or not; the same objective again (as written, or as cleaned)
 * does not. */
START_TEST(a_new_objective_ends_the_commitment_carried_down)
{
    ck_assert_int_eq(read_rows("a.csv", "Objective,Commitments,Actions,Responsibility\n"
                                        "Employer,We will train,First,HR\n"
                                        ",,Second,HR\n"
                                        "Employer,,Third,HR\n"
                                        "  Employer ,,Fourth,HR\n"
                                        "Service provider,,Fifth,HR\n"
                                        ",,Sixth,HR\n"
                                        ",We will publish,Seventh,HR\n"
                                        "Leader,We will lead,Eighth,HR\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 8);
    ck_assert_str_eq(nth(1)->commitment, "We will train");
    ck_assert_str_eq(nth(2)->commitment, "We will train"); /* the same objective */
    ck_assert_str_eq(nth(3)->commitment, "We will train"); /* as cleaned, the same */
    ck_assert_str_eq(nth(4)->objective, "Service provider");
    ck_assert_str_eq(nth(4)->commitment, "");
    ck_assert_str_eq(nth(5)->commitment, "");
    ck_assert_str_eq(nth(5)->objective, "Service provider");
    ck_assert_str_eq(nth(6)->commitment, "We will publish");
    ck_assert_str_eq(nth(7)->commitment, "We will lead");
    ck_assert_str_eq(nth(7)->objective, "Leader");
    /* an objective carried as a row spanning the table (a Word plan's) too */
    tkl_rows_begin(&rows, "b.docx");
    ck_assert_int_eq(
        tkl_rows_record(&rows, (char *[]){"Commitments", "Actions", "Responsibility"}, 3, 1), 0);
    ck_assert_int_eq(tkl_rows_carry(&rows, TKL_FIELD_OBJECTIVE, "Employer"), 0);
    ck_assert_int_eq(tkl_rows_record(&rows, (char *[]){"We will train", "Ninth", "HR"}, 3, 3), 0);
    ck_assert_int_eq(tkl_rows_carry(&rows, TKL_FIELD_OBJECTIVE, "Employer"), 0);
    ck_assert_int_eq(tkl_rows_record(&rows, (char *[]){"", "Tenth", "HR"}, 3, 4), 0);
    ck_assert_int_eq(tkl_rows_carry(&rows, TKL_FIELD_OBJECTIVE, "Community leader"), 0);
    ck_assert_int_eq(tkl_rows_record(&rows, (char *[]){"", "Eleventh", "HR"}, 3, 6), 0);
    ck_assert_int_eq(tkl_rows_end(&rows), 0);
    ck_assert_str_eq(nth(9)->commitment, "We will train");
    ck_assert_str_eq(nth(10)->commitment, "");
    ck_assert_str_eq(nth(10)->objective, "Community leader");
}
END_TEST

START_TEST(an_empty_title_takes_the_commitment)
{
    ck_assert_int_eq(read_rows("plan.csv", "Commitments,Actions,Responsibility\n"
                                           "We will listen,,HR\n"),
                     0);
    ck_assert_str_eq(nth(0)->title, "We will listen");
    ck_assert(has_diag(2, "empty; the commitment is used as the title"));
    ck_assert_str_eq(tkl_action_rare(nth(0))->warnings[0],
                     "title: empty; the commitment is used as the title");
}
END_TEST

START_TEST(unreadable_cells_are_kept_with_a_warning)
{
    ck_assert_int_eq(read_rows("plan.csv", "Actions,Responsibility,Timeframe,Status\n"
                                           "One,Planning,31/02/2023,Parked\n"
                                           "Two,,Soonish,\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 2);
    const struct tkl_action *a = nth(0);
    ck_assert_int_eq(a->deadline.kind, TKL_DEADLINE_UNDATED);
    ck_assert_str_eq(a->deadline_text, "31/02/2023");
    ck_assert(has_diag(2, "\"31/02/2023\": no such date; the action is kept as undated"));
    ck_assert(has_diag(2, "\"Parked\" is not a status tickler knows; treated as active"));
    ck_assert(has_diag(2, "\"Planning\" matches no team in the directory; sent to the fallback"));
    ck_assert_str_eq(a->teams[0], "edi"); /* the fallback */
    ck_assert_str_eq(tkl_action_rare(a)->unmatched[0], "Planning");
    ck_assert_uint_eq(tkl_action_rare(a)->n_warnings, 3);
    ck_assert(has_diag(3, "\"Soonish\""));
    ck_assert(has_diag(3, "no owner; sent to the fallback team"));
    ck_assert_str_eq(nth(1)->teams[0], "edi");
}
END_TEST

/* A deadline or status text that repeats is read the same on every row,
 * and each row that cannot be read is warned about, not only the first. */
START_TEST(repeated_texts_are_read_and_warned_on_every_row)
{
    ck_assert_int_eq(read_rows("plan.csv", "Actions,Responsibility,Timeframe,Status\n"
                                           "One,EDI Officer Group,30/06/2024,Parked\n"
                                           "Two,EDI Officer Group,30/06/2024,Parked\n"
                                           "Three,EDI Officer Group, Soonish ,Complete\n"
                                           "Four,EDI Officer Group,Soonish,Complete\n"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 4);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(nth(i)->deadline.kind, TKL_DEADLINE_DATE);
        ck_assert_int_eq(nth(i)->deadline.day, nth(0)->deadline.day);
        ck_assert_uint_eq(tkl_action_rare(nth(i))->n_warnings, 1);
        ck_assert(has_diag((unsigned)i + 2, "\"Parked\" is not a status tickler knows"));
    }
    for (int i = 2; i < 4; i++) {
        ck_assert_int_eq(nth(i)->deadline.kind, TKL_DEADLINE_UNDATED);
        ck_assert_str_eq(nth(i)->deadline_text, "Soonish");
        ck_assert_int_eq(nth(i)->status, TKL_STATUS_COMPLETE);
        ck_assert(has_diag((unsigned)i + 2, "\"Soonish\""));
    }
}
END_TEST

/* An owners cell of 1000 names (a Word cell of 1000 paragraphs given to
 * each action split from its row) is read up to TKL_ROW_MAX_OWNERS names,
 * with one warning saying so, not a warning for each. */
START_TEST(an_owners_cell_past_the_limit_is_warned_once)
{
    struct tkl_buf csv = {0};
    ck_assert_int_eq(tkl_buf_puts(&csv, "Actions,Responsibility\nOne,HR"), 0);
    for (int i = 1; i < 1000; i++)
        ck_assert_int_eq(tkl_buf_printf(&csv, "/Team %d", i), 0);
    ck_assert_int_eq(tkl_buf_puts(&csv, "\n"), 0);
    ck_assert_int_eq(read_rows("plan.csv", csv.data), 0);
    tkl_buf_free(&csv);
    ck_assert_uint_eq(rows.n_actions, 1);
    const struct tkl_action *a = nth(0);
    ck_assert(has_diag(2, "1000 names, more than the 64 an action may have; those after "
                          "\"Team 63\" are not read"));
    ck_assert(has_diag(2, "\"Team 63\" matches no team"));
    ck_assert(!has_diag(2, "\"Team 64\""));
    ck_assert_str_eq(a->teams[0], "hr");
    ck_assert_uint_eq(tkl_action_rare(a)->n_unmatched, 63);
    ck_assert_uint_eq(tkl_action_rare(a)->n_warnings, 64);
}
END_TEST

START_TEST(cells_are_read_into_fields)
{
    ck_assert_int_eq(read_rows("plan.csv", "Ref,Actions,Responsibility,Timeframe,Status,Progress\n"
                                           " EAP-7 , Train  staff ,HR / EDI Officer Group,"
                                           "\"April\n 2023\",Complete,Going well\n"),
                     0);
    const struct tkl_action *a = nth(0);
    ck_assert_str_eq(a->id, "EAP-7");
    ck_assert_str_eq(a->title, "Train  staff"); /* trimmed; inner spaces kept */
    ck_assert_str_eq(a->deadline_text, "April 2023");
    ck_assert_int_eq(a->deadline.day, tkl_day_from_civil(2023, 4, 30));
    ck_assert_int_eq(a->status, TKL_STATUS_COMPLETE);
    ck_assert_str_eq(a->progress, "Going well");
    ck_assert_uint_eq(a->n_teams, 2);
    ck_assert_str_eq(a->teams[0], "hr");
    ck_assert_str_eq(a->teams[1], "edi");
    ck_assert_uint_eq(tkl_action_rare(a)->n_warnings, 0);
    ck_assert_ptr_null(a->rare); /* a row read with no problem holds no rare parts */
}
END_TEST

START_TEST(without_an_id_column_the_id_is_derived)
{
    ck_assert_int_eq(read_rows("plan.csv", "Commitments,Actions,Responsibility,Timeframe\n"
                                           "We will train,Train staff,HR,April 2023\n"),
                     0);
    struct tkl_action b = {.title = strdup("Train staff"), .commitment = strdup("We will train")};
    ck_assert_int_eq(tkl_action_derive_id(&b), 0);
    ck_assert_str_eq(nth(0)->id, b.id);
    tkl_action_free(&b);
}
END_TEST

START_TEST(headings_by_meaning_and_the_column_map)
{
    ck_assert_int_eq(read_rows("a.csv",
                               "Intro,,,,,,\n"
                               "Aim:,What we will do,Responsible Officer,Lead officer,TARGET DATE,"
                               "Measure of success,Budget\n"
                               "Fair pay,Publish the pay gap,HR,EDI Officer Group,March 2027,"
                               "Gap published,5k\n"),
                     0);
    const struct tkl_action *a = nth(0);
    ck_assert_str_eq(a->objective, "Fair pay");
    ck_assert_str_eq(a->title, "Publish the pay gap");
    ck_assert_str_eq(a->owners, "HR"); /* the first owners column */
    ck_assert_int_eq(a->deadline.day, tkl_day_from_civil(2027, 3, 31));
    ck_assert_str_eq(a->measure, "Gap published");
    ck_assert(has_diag(2, "column 4 (\"Lead officer\") repeats the owners column 3"));
    ck_assert(has_diag(2, "no column for status"));
    /* the header row's map, for tickler check */
    ck_assert_uint_eq(rows.n_maps, 1);
    const struct tkl_column_map *m = &rows.maps[0];
    ck_assert_str_eq(m->file, "a.csv");
    ck_assert_uint_eq(m->line, 2);
    ck_assert_uint_eq(m->n, 7);
    const int want[] = {TKL_FIELD_OBJECTIVE,
                        TKL_FIELD_TITLE,
                        TKL_FIELD_OWNERS,
                        -1,
                        TKL_FIELD_DEADLINE,
                        TKL_FIELD_MEASURE,
                        -1};
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(m->fields[i], want[i]);
    ck_assert_str_eq(m->headings[0], "Aim:");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    tkl_column_map_print(m, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_str_eq(text, "a.csv:2: headings: objective \u2190 \"Aim:\" (column 1), title \u2190 "
                           "\"What we will do\" (column 2), owners \u2190 \"Responsible Officer\" "
                           "(column 3), deadline \u2190 \"TARGET DATE\" (column 5), measure \u2190 "
                           "\"Measure of success\" (column 6); not read: \"Lead officer\" (column "
                           "4), \"Budget\" (column 7)\n");
    free(text);
}
END_TEST

START_TEST(each_file_keeps_its_own_map)
{
    ck_assert_int_eq(read_rows("a.csv", "Actions,Owner(s)\nOne,HR\n"), 0);
    ck_assert_int_eq(read_rows("b.csv", "Ref,Title,By when\nX1,Two,April 2027\n"), 0);
    ck_assert_uint_eq(rows.n_actions, 2);
    ck_assert_uint_eq(rows.n_maps, 2);
    ck_assert_str_eq(rows.maps[0].file, "a.csv");
    ck_assert_int_eq(rows.maps[0].fields[1], TKL_FIELD_OWNERS);
    ck_assert_str_eq(rows.maps[1].file, "b.csv");
    ck_assert_int_eq(rows.maps[1].fields[2], TKL_FIELD_DEADLINE);
    ck_assert_ptr_null(nth(1)->measure[0] ? nth(1)->measure : NULL); /* no column: empty */
}
END_TEST

/* A plan large enough that its actions' block (16,384 actions of 128
 * bytes after the last doubling) is mapped on a thread of its own while
 * the rows are read; the actions are read all the same, and freeing the
 * rows joins the thread. */
START_TEST(a_large_plan_maps_its_actions_ahead_and_reads_every_row)
{
    enum { N = 10000 };
    struct tkl_buf csv = {0};
    ck_assert_int_eq(tkl_buf_puts(&csv, "Ref,Actions,Responsibility,Timeframe\n"), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(tkl_buf_printf(&csv, "R%d,Action %d,HR,%02d/03/2027\n", i, i, i % 28 + 1),
                         0);
    ck_assert_int_eq(tkl_rows_read(&rows, "plan.csv", csv.data, csv.len), 0);
    tkl_buf_free(&csv);
    ck_assert_uint_eq(rows.n_actions, N);
    if (tkl_test_several_cpus())
        ck_assert(rows.ahead.running);
    for (int i = 0; i < N; i += 997) {
        char want[32];
        snprintf(want, sizeof(want), "Action %d", i);
        ck_assert_str_eq(nth((size_t)i)->title, want);
        ck_assert_int_eq(nth((size_t)i)->deadline.day, tkl_day_from_civil(2027, 3, i % 28 + 1));
    }
    tkl_rows_free(&rows);
    ck_assert(!rows.ahead.running);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("row");
    TCase *tc = tcase_create("rows");
    tcase_add_checked_fixture(tc, rows_setup, rows_teardown);
    tcase_add_test(tc, the_header_is_the_first_row_naming_an_action_column);
    tcase_add_test(tc, a_header_row_again_reads_the_rows_below_by_its_columns);
    tcase_add_test(tc, missing_and_repeated_columns_are_warned);
    tcase_add_test(tc, no_action_column_is_an_error);
    tcase_add_test(tc, a_few_rows_before_the_header_are_warned_one_by_one);
    tcase_add_test(tc, many_rows_before_the_header_are_one_warning);
    tcase_add_test(tc, one_row_past_the_few_before_the_header_is_one_warning);
    tcase_add_test(tc, too_many_fields_are_warned_and_the_row_kept);
    tcase_add_test(tc, merged_cells_fill_down_within_a_file);
    tcase_add_test(tc, a_new_objective_ends_the_commitment_carried_down);
    tcase_add_test(tc, an_empty_title_takes_the_commitment);
    tcase_add_test(tc, unreadable_cells_are_kept_with_a_warning);
    tcase_add_test(tc, repeated_texts_are_read_and_warned_on_every_row);
    tcase_add_test(tc, an_owners_cell_past_the_limit_is_warned_once);
    tcase_add_test(tc, cells_are_read_into_fields);
    tcase_add_test(tc, without_an_id_column_the_id_is_derived);
    tcase_add_test(tc, headings_by_meaning_and_the_column_map);
    tcase_add_test(tc, each_file_keeps_its_own_map);
    tcase_add_test(tc, a_large_plan_maps_its_actions_ahead_and_reads_every_row);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
