/* Tests for daemon/store/sheet.c: what the workbook readers share. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/sheet.h"
#include "store_fixture.h"

#include <tickler/day.h>

START_TEST(cell_references)
{
    uint64_t col, row;
    ck_assert_int_eq(tkl_sheet_ref("A1", &col, &row), 0);
    ck_assert_uint_eq(col, 1);
    ck_assert_uint_eq(row, 1);
    ck_assert_int_eq(tkl_sheet_ref("d12", &col, &row), 0);
    ck_assert_uint_eq(col, 4);
    ck_assert_uint_eq(row, 12);
    ck_assert_int_eq(tkl_sheet_ref("XFD1048576", &col, &row), 0);
    ck_assert_uint_eq(col, 16384);
    ck_assert_uint_eq(row, 1048576);
    ck_assert_int_eq(tkl_sheet_ref("AA", &col, &row), 0);
    ck_assert_uint_eq(col, 27);
    ck_assert_uint_eq(row, 0);
    /* past the limits: one past, for the reader to report */
    ck_assert_int_eq(tkl_sheet_ref("ZZZZZZZZZZZZZZZZZZZZ99999999999999999999999", &col, &row), 0);
    ck_assert_uint_eq(col, 16385);
    ck_assert_uint_eq(row, 1048577);
    ck_assert_int_eq(tkl_sheet_ref("", &col, &row), -EINVAL);
    ck_assert_int_eq(tkl_sheet_ref("12", &col, &row), -EINVAL);
    ck_assert_int_eq(tkl_sheet_ref("A0", &col, &row), -EINVAL);
    ck_assert_int_eq(tkl_sheet_ref("A1:B2", &col, &row), -EINVAL);
    ck_assert_int_eq(tkl_sheet_ref("$A$1", &col, &row), -EINVAL);
}
END_TEST

static int32_t day_of(double serial, bool date1904)
{
    int32_t d = TKL_NO_DAY;
    ck_assert_int_eq(tkl_sheet_serial_day(serial, date1904, &d), 0);
    return d;
}

START_TEST(serial_dates)
{
    ck_assert_int_eq(day_of(1, false), tkl_day_from_civil(1900, 1, 1));
    ck_assert_int_eq(day_of(59, false), tkl_day_from_civil(1900, 2, 28));
    int32_t d;
    ck_assert_int_eq(tkl_sheet_serial_day(60, false, &d), -ERANGE); /* 29 February 1900 */
    ck_assert_int_eq(day_of(61, false), tkl_day_from_civil(1900, 3, 1));
    ck_assert_int_eq(day_of(25569, false), 0); /* 1970-01-01 */
    ck_assert_int_eq(day_of(45046, false), tkl_day_from_civil(2023, 4, 30));
    ck_assert_int_eq(day_of(45046.99, false), tkl_day_from_civil(2023, 4, 30));
    ck_assert_int_eq(day_of(2958465, false), tkl_day_from_civil(9999, 12, 31));
    ck_assert_int_eq(tkl_sheet_serial_day(2958466, false, &d), -ERANGE);
    ck_assert_int_eq(tkl_sheet_serial_day(0.5, false, &d), -ERANGE);
    ck_assert_int_eq(tkl_sheet_serial_day(-1, false, &d), -ERANGE);
    ck_assert_int_eq(day_of(0, true), tkl_day_from_civil(1904, 1, 1));
    ck_assert_int_eq(day_of(43584, true), tkl_day_from_civil(2023, 4, 30));
    ck_assert_int_eq(tkl_sheet_serial_day(INFINITY, true, &d), -ERANGE);

    char buf[32];
    ck_assert_str_eq(tkl_sheet_date_text("45046", false, TKL_SHEET_DATE_DAY, buf, sizeof(buf)),
                     "2023-04-30");
    ck_assert_str_eq(tkl_sheet_date_text("60", false, TKL_SHEET_DATE_DAY, buf, sizeof(buf)), "60");
    ck_assert_str_eq(tkl_sheet_date_text("4.5046E4", false, TKL_SHEET_DATE_DAY, buf, sizeof(buf)),
                     "2023-04-30");
    ck_assert_str_eq(tkl_sheet_date_text("soon", false, TKL_SHEET_DATE_DAY, buf, sizeof(buf)),
                     "soon");
    ck_assert_str_eq(tkl_sheet_date_text("1e300", false, TKL_SHEET_DATE_DAY, buf, sizeof(buf)),
                     "1e300");
}
END_TEST

START_TEST(date_formats)
{
    char buf[32];
    static const char *const dates[] = {
        "dd/mm/yyyy",       "d-mmm-yy", "mmm yyyy",     "mmmm", "[$-809]dd mmmm yyyy;@",
        "yyyy-mm-dd hh:mm", "DD/MM/YY", "\"Due \"d mmm"};
    static const char *const others[] = {"General",  "0.00",      "#,##0",     "h:mm",
                                         "mm:ss",    "[h]:mm:ss", "\"day\" 0", "\\d0",
                                         "[Red]0.0", "0%",        "@",         ""};
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
        ck_assert_msg(tkl_sheet_format_is_date(dates[i]), "%s", dates[i]);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        ck_assert_msg(!tkl_sheet_format_is_date(others[i]), "%s", others[i]);

    /* what a date format shows, to its smallest part */
    static const struct {
        const char *code;
        enum tkl_sheet_date date;
    } parts[] = {
        {"dd/mm/yyyy", TKL_SHEET_DATE_DAY},
        {"dddd mmmm yyyy", TKL_SHEET_DATE_DAY}, /* a weekday's name: a day's */
        {"yyyy-mm-dd hh:mm", TKL_SHEET_DATE_DAY},
        {"mmm-yy", TKL_SHEET_DATE_MONTH},
        {"mmmm yyyy", TKL_SHEET_DATE_MONTH},
        {"[$-809]mmmm\\ yyyy;@", TKL_SHEET_DATE_MONTH},
        {"\"day \"mmm yy", TKL_SHEET_DATE_MONTH}, /* quoted: no day */
        {"\\d mmm yy", TKL_SHEET_DATE_MONTH},     /* escaped: no day */
        {"_d* mmm yy", TKL_SHEET_DATE_MONTH},     /* padding: no day */
        {"mmmm", TKL_SHEET_DATE_MONTH},
        {"mmm yy h:mm", TKL_SHEET_DATE_MONTH},
        {"yyyy", TKL_SHEET_DATE_YEAR},
        {"yy h:mm", TKL_SHEET_DATE_YEAR}, /* the m of h:mm is minutes */
        {"[h]:mm", TKL_SHEET_NO_DATE},
        {"mm:ss", TKL_SHEET_NO_DATE},
        {"General", TKL_SHEET_NO_DATE},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        ck_assert_msg(tkl_sheet_format_date(parts[i].code) == parts[i].date, "%s", parts[i].code);
    ck_assert_str_eq(tkl_sheet_date_text("45352", false, TKL_SHEET_DATE_MONTH, buf, sizeof(buf)),
                     "March 2024");
    ck_assert_str_eq(tkl_sheet_date_text("45352", false, TKL_SHEET_DATE_YEAR, buf, sizeof(buf)),
                     "2024");
}
END_TEST

static struct tkl_rows rows;
static struct tkl_sheet sheet;

static void sheet_setup(void)
{
    setup();
    rows = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
    tkl_sheet_begin(&sheet, &rows, "plan.xlsx:Actions");
}

static void sheet_teardown(void)
{
    tkl_sheet_free(&sheet);
    tkl_rows_free(&rows);
    teardown();
}

static int cell(uint64_t col, const char *text)
{
    return tkl_sheet_cell(&sheet, col, text, strlen(text), 1);
}

START_TEST(rows_are_handed_over_with_their_places)
{
    ck_assert_int_eq(cell(2, "Actions"), 0);
    ck_assert_int_eq(cell(3, "Timeframe"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 3), 0); /* blank rows 2 to 4 */
    ck_assert_int_eq(cell(3, "soon"), 0);
    ck_assert_int_eq(cell(2, "Train"), 0);
    ck_assert_int_eq(cell(1, "  \n"), 0); /* white space is blank */
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 2), 0);
    ck_assert_int_eq(tkl_sheet_end(&sheet), 0);
    ck_assert_uint_eq(rows.n_actions, 2);
    ck_assert_uint_eq(rows.actions[0].line, 5);
    ck_assert_uint_eq(rows.actions[1].line, 6);
    ck_assert_str_eq(rows.actions[1].title, "Train");
    bool found = false;
    for (size_t i = 0; i < diags.n; i++)
        if (diags.items[i].line == 5 && diags.items[i].column == 3 &&
            strstr(diags.items[i].message, "\"soon\"")) {
            char line[2048];
            tkl_diag_format(&diags.items[i], line, sizeof(line));
            ck_assert_ptr_nonnull(strstr(line, "plan.xlsx:Actions!C5: warning: [deadline]"));
            found = true;
        }
    ck_assert(found);
}
END_TEST

START_TEST(limits)
{
    char *text = malloc(TKL_SHEET_CELL_CHARS_MAX * 2 + 2);
    ck_assert_ptr_nonnull(text);
    /* 32,767 characters of two bytes each fit; one more does not */
    for (size_t i = 0; i < TKL_SHEET_CELL_CHARS_MAX; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 1, text, TKL_SHEET_CELL_CHARS_MAX * 2, 1), 0);
    text[TKL_SHEET_CELL_CHARS_MAX * 2] = 'x';
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 2, text, TKL_SHEET_CELL_CHARS_MAX * 2 + 1, 1), -EFBIG);
    free(text);
    ck_assert(has_diag(1, "a cell of 32768 characters; a cell holds at most 32,767"));
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 16384, "x", 1, 1), 0);
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 16384, "x", 1, 2), -EFBIG);
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 1, "x", 1, UINT64_MAX), -EFBIG);
    ck_assert(has_diag(1, "a value in column 16385; a sheet has at most 16,384 columns"));
    ck_assert_int_eq(tkl_sheet_cell(&sheet, 1, "", 0, UINT64_MAX), 0); /* blank: free */
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, UINT64_MAX), -EFBIG);
    ck_assert(has_diag(1, "a sheet has at most 1,048,576 rows"));
}
END_TEST

/* A row read once and handed over many times is bounded by what it hands
 * over: its cells up to the last with a value, and its text. */
START_TEST(what_repeated_rows_hand_over_is_bounded)
{
    ck_assert_int_eq(cell(1, "Actions"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    /* one value in column XFD: 16,384 cells handed over a row */
    ck_assert_int_eq(cell(16384, "x"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1024), -EFBIG);
    ck_assert(has_diag(2, "more than 16,777,216 cells counting the blank ones before each "
                          "row's last value"));
    tkl_sheet_free(&sheet);
    tkl_diags_free(&diags);
    tkl_rows_free(&rows);
    rows = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
    tkl_sheet_begin(&sheet, &rows, "plan.xlsx:Actions");
    ck_assert_int_eq(cell(1, "Actions"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    /* a long cell on 2,000 rows: 64 MiB of text from 32 KiB */
    char *text = malloc(TKL_SHEET_CELL_CHARS_MAX + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, 'y', TKL_SHEET_CELL_CHARS_MAX);
    text[TKL_SHEET_CELL_CHARS_MAX] = '\0';
    ck_assert_int_eq(cell(1, text), 0);
    free(text);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 2000), -EFBIG);
    ck_assert(has_diag(2, "more than 32 MiB of text in its cells"));
    ck_assert_uint_eq(rows.n_actions, 0);
}
END_TEST

/* A sheet's header row mistyped, its rows repeated as an .ods gives
 * them: one warning for the rows before any header row, named by the
 * sheet and the first row, as for a CSV. */
START_TEST(rows_before_the_header_are_one_warning_past_a_few)
{
    ck_assert_int_eq(cell(1, "Ref"), 0);
    ck_assert_int_eq(cell(2, "Actoins"), 0);
    ck_assert_int_eq(cell(3, "Responsibility"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(cell(2, "Train staff"), 0);
    ck_assert_int_eq(cell(3, "HR"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 50000), 0);
    ck_assert_int_eq(tkl_sheet_end(&sheet), -EINVAL);
    ck_assert_uint_eq(diags.n, 2);
    char line[2048];
    tkl_diag_format(&diags.items[0], line, sizeof(line));
    ck_assert_str_eq(line, "plan.xlsx:Actions:1: warning: rows 1 to 50001 (50001 rows) come "
                           "before any header row (no column named Actions, Action Title, Agreed "
                           "Actions or Title yet); not read as actions");
    ck_assert(has_diag(0, "no header row with an action column"));
}
END_TEST

/* The plan's header: Ref (A), Actions (B), Responsibility (C),
 * Timeframe (D). */
static void header(void)
{
    ck_assert_int_eq(cell(1, "Ref"), 0);
    ck_assert_int_eq(cell(2, "Actions"), 0);
    ck_assert_int_eq(cell(3, "Responsibility"), 0);
    ck_assert_int_eq(cell(4, "Timeframe"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
}

/* A merge listed many times, or two from one top cell, is one fill in
 * force: its text is copied once. */
START_TEST(a_merge_listed_again_is_one_fill)
{
    header();
    for (int i = 0; i < 3000; i++) {
        ck_assert_int_eq(tkl_sheet_merge(&sheet, 4, 2, 3), 0);
        ck_assert_int_eq(tkl_sheet_merge(&sheet, 3, 2, 3), 0);
        ck_assert_int_eq(tkl_sheet_merge(&sheet, 4, 2, 4), 0);
    }
    char *big = malloc(32001);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', 32000);
    big[32000] = '\0';
    ck_assert_int_eq(cell(1, "R1"), 0);
    ck_assert_int_eq(cell(2, "Do a"), 0);
    ck_assert_int_eq(cell(3, "HR"), 0);
    ck_assert_int_eq(cell(4, big), 0);
    free(big);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_uint_eq(sheet.n_fills, 2);
    ck_assert_uint_le(sheet.text_bytes, 2 * 32000 + 100);
    ck_assert_int_eq(cell(1, "R2"), 0);
    ck_assert_int_eq(cell(2, "Do b"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(cell(2, "Do c"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(tkl_sheet_end(&sheet), 0);
    ck_assert_uint_eq(rows.n_actions, 3);
    ck_assert_uint_eq(strlen(rows.actions[1].deadline_text), 32000);
    ck_assert_uint_eq(strlen(rows.actions[2].deadline_text), 32000); /* D2:D4 extends it */
    ck_assert_str_eq(rows.actions[1].owners, "HR");
    ck_assert_str_eq(rows.actions[2].owners, ""); /* C2:C3 ends above row 4 */
}
END_TEST

/* Each fill's copy of its text counts towards the sheet's 32 MiB of text
 * when the merge is put in force. */
START_TEST(fills_count_towards_the_text_limit)
{
    header();
    char *text = malloc(32768);
    ck_assert_ptr_nonnull(text);
    memset(text, 'y', 32767);
    text[32767] = '\0';
    for (uint64_t c = 5; c < 1005; c++) {
        ck_assert_int_eq(tkl_sheet_merge(&sheet, c, 2, 1000), 0);
        ck_assert_int_eq(cell(c, text), 0);
    }
    free(text);
    ck_assert_int_eq(cell(2, "Do a"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), -EFBIG);
    ck_assert(has_diag(2, "more than 32 MiB of text in its cells"));
}
END_TEST

/* A row under merges that holds nothing of its own is not handed over,
 * but its cells count as handed: repeated, it costs what it would if it
 * were handed. */
START_TEST(rows_under_merges_count_though_not_handed)
{
    header();
    ck_assert_int_eq(tkl_sheet_merge(&sheet, 3, 2, 1000), 0);
    ck_assert_int_eq(cell(2, "Do a"), 0);
    ck_assert_int_eq(cell(3, "HR"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    uint64_t handed = sheet.handed;
    ck_assert_int_eq(cell(3, "covered"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 100), 0);
    ck_assert_uint_eq(sheet.handed, handed + 3 * 100);
    ck_assert_uint_eq(rows.n_actions, 1);
    tkl_sheet_free(&sheet);
    tkl_diags_free(&diags);
    tkl_rows_free(&rows);
    rows = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
    tkl_sheet_begin(&sheet, &rows, "plan.xlsx:Actions");
    header();
    /* a merge down column XFD, and a row with a value only there repeated
     * 1,100 times: 18 million cells visited */
    ck_assert_int_eq(tkl_sheet_merge(&sheet, 16384, 2, 1048576), 0);
    ck_assert_int_eq(cell(2, "Do a"), 0);
    ck_assert_int_eq(cell(16384, "x"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(cell(16384, "y"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1100), -EFBIG);
    ck_assert(has_diag(3, "more than 16,777,216 cells counting the blank ones"));
}
END_TEST

/* A merged id (Ref) is the top row's alone: the rows below keep the ids
 * their texts give them, as with no merge. Every other column is filled. */
START_TEST(a_merged_id_is_not_filled)
{
    header();
    ck_assert_int_eq(tkl_sheet_merge(&sheet, 1, 2, 4), 0);
    ck_assert_int_eq(tkl_sheet_merge(&sheet, 2, 2, 3), 0);
    ck_assert_int_eq(cell(1, "EAP-01"), 0);
    ck_assert_int_eq(cell(2, "Do a"), 0);
    ck_assert_int_eq(cell(3, "HR"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(cell(3, "IT"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(cell(2, "Do c"), 0);
    ck_assert_int_eq(tkl_sheet_row_end(&sheet, 1), 0);
    ck_assert_int_eq(tkl_sheet_end(&sheet), 0);
    ck_assert_uint_eq(rows.n_actions, 3);
    ck_assert_str_eq(rows.actions[0].id, "EAP-01");
    ck_assert_str_eq(rows.actions[1].title, "Do a"); /* a merged title is filled */
    ck_assert(rows.actions[1].id_derived);
    ck_assert(rows.actions[2].id_derived);
    for (size_t i = 0; i < diags.n; i++)
        ck_assert_ptr_null(strstr(diags.items[i].message, "same id"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sheet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cell_references);
    tcase_add_test(tc, serial_dates);
    tcase_add_test(tc, date_formats);
    suite_add_tcase(s, tc);
    TCase *rc = tcase_create("rows");
    tcase_add_checked_fixture(rc, sheet_setup, sheet_teardown);
    tcase_add_test(rc, rows_are_handed_over_with_their_places);
    tcase_add_test(rc, limits);
    tcase_add_test(rc, what_repeated_rows_hand_over_is_bounded);
    tcase_add_test(rc, rows_before_the_header_are_one_warning_past_a_few);
    tcase_add_test(rc, a_merge_listed_again_is_one_fill);
    tcase_add_test(rc, fills_count_towards_the_text_limit);
    tcase_add_test(rc, rows_under_merges_count_though_not_handed);
    tcase_add_test(rc, a_merged_id_is_not_filled);
    suite_add_tcase(s, rc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
