/* Tests for daemon/store/ods.c: OpenDocument spreadsheets as plans. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>

#include "alloc_fail.h"
#include "core/text.h"
#include "store/ods.h"
#include "store_fixture.h"
#include "zip_fixture.h"

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

#define DOC(tables)                                                                                \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<office:document-content "                                                                    \
    "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "                           \
    "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "                             \
    "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\">"                               \
    "<office:body><office:spreadsheet>" tables "</office:spreadsheet></office:body>"               \
    "</office:document-content>"

#define S(t)                                                                                       \
    "<table:table-cell office:value-type=\"string\"><text:p>" t "</text:p></table:table-cell>"
#define HEAD                                                                                       \
    "<table:table-row>" S("Commitments") S("Actions") S("Responsibility")                          \
        S("Timeframe") "</table:table-row>"
#define NOTES                                                                                      \
    "<table:table table:name=\"Notes\"><table:table-row>" S(                                       \
        "Read me") "</table:table-row></table:table>"

static int read_doc(const char *file, const char *content)
{
    struct zip_member m[] = {{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
                             {"content.xml", content}};
    char *data;
    size_t len;
    zip_build(m, 2, &data, &len);
    int r = tkl_ods_read(&rows, file, data, len);
    free(data);
    return r;
}

static const struct tkl_action *nth(size_t i)
{
    ck_assert_uint_gt(rows.n_actions, i);
    return &rows.actions[i];
}

static bool has_place(const char *file, unsigned column, unsigned line, const char *text)
{
    for (size_t i = 0; i < diags.n; i++) {
        const struct tkl_diag *g = &diags.items[i];
        if (g->file && !strcmp(g->file, file) && g->column == column && g->line == line &&
            strstr(g->message, text))
            return true;
    }
    return false;
}

START_TEST(cells_as_a_csv_export_gives_them)
{
    ck_assert_int_eq(
        read_doc(
            "plan.ods#plan",
            DOC(NOTES
                "<table:table table:name=\"Plan\">" HEAD
                "<table:table-row><table:table-cell table:number-rows-spanned=\"2\" "
                "office:value-type=\"string\"><text:p>We will</text:p><text:p>and "
                "more</text:p></table:table-cell>"
                "<table:table-cell><office:annotation><text:p>a comment</text:p>"
                "</office:annotation><text:p>Train<text:s text:c=\"3\"/>all<text:tab/>"
                "<text:span>staff</text:span><text:line-break/>now &amp; &lt;then&gt;"
                "</text:p></table:table-cell>"
                "<table:table-cell office:value-type=\"float\" office:value=\"7\"/>"
                "<table:table-cell office:value-type=\"date\" "
                "office:date-value=\"2023-04-30T12:00:00\"><text:p>Apr 2023</text:p>"
                "</table:table-cell><table:table-cell table:number-columns-repeated=\"16380\"/>"
                "</table:table-row>"
                "<table:table-row><table:covered-table-cell/>" S(
                    "Second") "<table:table-cell office:value-type=\"boolean\" "
                              "office:boolean-value=\"true\"/></table:table-row>"
                              "<table:table-row table:number-rows-repeated=\"1000\"/>"
                              "<table:table-row table:number-rows-repeated=\"2\">"
                              "<table:table-cell table:number-columns-repeated=\"1\"/>" S(
                                  "Twice") "</table:table-row>"
                                           "<table:table-row "
                                           "table:number-rows-repeated=\"1048000\">"
                                           "<table:table-cell "
                                           "table:number-columns-repeated=\"16384\"/>"
                                           "</table:table-row></table:table>")),
        0);
    ck_assert_uint_eq(rows.n_actions, 4);
    ck_assert_str_eq(nth(0)->file, "plan.ods:Plan");
    ck_assert_uint_eq(nth(0)->line, 2);
    ck_assert_str_eq(nth(0)->commitment, "We will\nand more");
    ck_assert_str_eq(nth(0)->title, "Train   all staff\nnow & <then>");
    ck_assert_str_eq(nth(0)->owners, "7");
    ck_assert_str_eq(nth(0)->deadline_text, "2023-04-30");
    ck_assert_str_eq(nth(1)->title, "Second");
    ck_assert_str_eq(nth(1)->commitment, "We will\nand more"); /* covered: filled down */
    ck_assert_str_eq(nth(1)->owners, "TRUE");
    ck_assert_uint_eq(nth(2)->line, 1004);
    ck_assert_uint_eq(nth(3)->line, 1005);
    ck_assert_str_eq(nth(3)->title, "Twice");
    ck_assert(has_place("plan.ods:Plan", 3, 2, "\"7\" matches no team"));
}
END_TEST

#define NS                                                                                         \
    "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "                           \
    "xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" "                             \
    "xmlns:number=\"urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0\" "                        \
    "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "                             \
    "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""

/* The document with automatic styles before its tables. */
#define STYLED_DOC(styles, tables)                                                                 \
    "<office:document-content " NS "><office:automatic-styles>" styles                             \
    "</office:automatic-styles><office:body><office:spreadsheet>" tables                           \
    "</office:spreadsheet></office:body></office:document-content>"

/* styles.xml: a date style of month and year (LibreOffice's for a typed
 * "March 2024"), one of a day, and a common cell style showing the first,
 * which a cell style of content.xml inherits. */
static const char common_styles[] =
    "<office:document-styles " NS "><office:styles>"
    "<number:date-style style:name=\"N37\"><number:month number:style=\"long\" "
    "number:textual=\"true\"/><number:text> </number:text><number:year "
    "number:style=\"long\"/></number:date-style>"
    "<number:date-style style:name=\"N36\"><number:day/><number:text>/</number:text>"
    "<number:month/><number:text>/</number:text><number:year/></number:date-style>"
    "<style:style style:name=\"Month\" style:family=\"table-cell\" "
    "style:data-style-name=\"N37\"/></office:styles></office:document-styles>";

static int read_styled(const char *content)
{
    struct zip_member m[] = {{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
                             {"styles.xml", common_styles},
                             {"content.xml", content}};
    char *data;
    size_t len;
    zip_build(m, 3, &data, &len);
    int r = tkl_ods_read(&rows, "plan.ods", data, len);
    free(data);
    return r;
}

#define DATE(style, v)                                                                             \
    "<table:table-cell " style " office:value-type=\"date\" office:date-value=\"" v "\">"          \
    "<text:p>shown</text:p></table:table-cell>"
#define BLANK   "<table:table-cell/>"
#define COVERED "<table:covered-table-cell/>"

/* Three actions whose Timeframe (D) and Responsibility (C) are merged
 * down: every row is due when the merge says and owned by its team, as
 * LibreOffice shows it. */
START_TEST(merged_cells_give_every_row_they_cover_their_value)
{
    ck_assert_int_eq(
        read_styled(STYLED_DOC(
            "<number:year-style style:name=\"N9\"><number:year/></number:year-style>",
            "<table:table table:name=\"Plan\">" HEAD
            "<table:table-row>" BLANK S("A1") "<table:table-cell table:number-rows-spanned=\"3\" "
                                              "office:value-type=\"string\">"
                                              "<text:p>HR</text:p></table:table-cell>"
                                              "<table:table-cell table:number-rows-spanned=\"3\" "
                                              "office:value-type=\"date\" "
                                              "office:date-value=\"2023-03-31\"><text:p>31/03/"
                                              "2023</text:p></table:table-cell>"
                                              "</table:table-row>"
                                              "<table:table-row>" BLANK S("A2") COVERED COVERED
            "</table:table-row>"
            "<table:table-row>" BLANK S("A3") COVERED
            "<table:covered-table-cell "
            "office:value-type=\"string\"><text:p>hidden</text:p></table:covered-table-cell>"
            "</table:table-row>"
            /* a heading across the table stays one cell */
            "<table:table-row><table:table-cell table:number-columns-spanned=\"4\" "
            "office:value-type=\"string\"><text:p>Section two</text:p></table:table-cell>" COVERED
                COVERED COVERED "</table:table-row>"
            /* two columns wide and three rows deep: only its own column */
            "<table:table-row>" BLANK S(
                "B1") "<table:table-cell table:number-rows-spanned=\"3\" "
                      "table:number-columns-spanned=\"2\" office:value-type=\"string\">"
                      "<text:p>EDI Officer Group</text:p></table:table-cell>" COVERED
                      "</table:table-row>"
                      "<table:table-row table:number-rows-repeated=\"2\">" BLANK S("B2")
                          COVERED COVERED "</table:table-row></table:table>")),
        0);
    ck_assert_uint_eq(rows.n_actions, 6);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(nth(i)->line, i + 2);
        ck_assert_str_eq(nth(i)->deadline_text, "2023-03-31");
        ck_assert_str_eq(nth(i)->owners, "HR");
        ck_assert_str_eq(nth(i)->teams[0], "hr");
    }
    for (size_t i = 3; i < 6; i++) {
        ck_assert_str_eq(nth(i)->commitment, "Section two");
        ck_assert_str_eq(nth(i)->owners, "EDI Officer Group");
        ck_assert_str_eq(nth(i)->deadline_text, "");
    }
    ck_assert_uint_eq(nth(5)->line, 8);
}
END_TEST

/* Styles found by name: the first of a name (styles.xml before
 * content.xml's), a parent chain that loops ends as a day, each column
 * range its own default style, and a style named again gives what it gave
 * the first time. */
// clang-format off
static const char styles_by_name[] = STYLED_DOC(
    "<number:date-style style:name=\"N37\"><number:day/><number:month/></number:date-style>"
    "<style:style style:name=\"c1\" style:family=\"table-cell\" style:parent-style-name=\"c2\"/>"
    "<style:style style:name=\"c2\" style:family=\"table-cell\" style:parent-style-name=\"c1\"/>"
    "<style:style style:name=\"ce1\" style:family=\"table-cell\" "
    "style:parent-style-name=\"Month\"/>"
    "<style:style style:name=\"ce2\" style:family=\"table-cell\" "
    "style:data-style-name=\"N36\"/>",
    "<table:table table:name=\"Plan\"><table:table-column/>"
    "<table:table-column table:number-columns-repeated=\"2\" "
    "table:default-cell-style-name=\"ce2\"/><table:table-column "
    "table:default-cell-style-name=\"ce1\"/>"
    "<table:table-column table:number-columns-repeated=\"4\"/>" HEAD
    "<table:table-row>" BLANK S("One") BLANK DATE("table:style-name=\"Month\"", "2024-03-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Two") BLANK DATE("table:style-name=\"c1\"", "2024-03-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Three") BLANK DATE("", "2024-04-01") "</table:table-row>"
    "<table:table-row>" BLANK S("Four") BLANK DATE("table:style-name=\"Month\"", "2024-05-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Five") DATE("", "2024-06-01") S("x") "</table:table-row>"
    "</table:table>");
// clang-format on

START_TEST(styles_are_found_by_name)
{
    ck_assert_int_eq(read_styled(styles_by_name), 0);
    ck_assert_uint_eq(rows.n_actions, 5);
    ck_assert_str_eq(nth(0)->deadline_text, "March 2024"); /* styles.xml's N37 */
    ck_assert_str_eq(nth(1)->deadline_text, "2024-03-01"); /* a loop of parents */
    ck_assert_str_eq(nth(2)->deadline_text, "April 2024"); /* column D's ce1 */
    ck_assert_str_eq(nth(3)->deadline_text, "May 2024");
    ck_assert_str_eq(nth(4)->owners, "2024-06-01"); /* column C's ce2: a day */
}
END_TEST

/* A month typed into LibreOffice ("March 2024") is the date of its 1st
 * shown with a style of month and year; the column's default style counts,
 * a style of a year alone shows no day either, and a style of no such name
 * leaves the day. */
// clang-format off
static const char month_styles[] = STYLED_DOC(
    "<style:style style:name=\"ce1\" style:family=\"table-cell\" "
    "style:parent-style-name=\"Month\"/>"
    "<style:style style:name=\"ce2\" style:family=\"table-cell\" "
    "style:data-style-name=\"N36\"/>"
    "<number:date-style style:name=\"N9\"><number:year/></number:date-style>"
    "<style:style style:name=\"ce3\" style:family=\"table-cell\" "
    "style:data-style-name=\"N9\"/>",
    "<table:table table:name=\"Plan\"><table:table-column "
    "table:number-columns-repeated=\"3\"/><table:table-column "
    "table:default-cell-style-name=\"ce1\"/>" HEAD
    "<table:table-row>" BLANK S("One") BLANK DATE("table:style-name=\"ce1\"", "2024-03-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Two") BLANK DATE("", "2024-02-01") "</table:table-row>"
    "<table:table-row>" BLANK S("Three") BLANK DATE("table:style-name=\"ce2\"", "2024-03-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Four") BLANK DATE("table:style-name=\"ce3\"", "2024-03-01")
    "</table:table-row>"
    "<table:table-row>" BLANK S("Five") BLANK
    DATE("table:style-name=\"none\"", "2024-03-01T10:00:00") "</table:table-row>"
    "</table:table>");
// clang-format on

START_TEST(a_date_shown_without_a_day_is_its_months_last_day)
{
    ck_assert_int_eq(read_styled(month_styles), 0);
    ck_assert_uint_eq(rows.n_actions, 5);
    ck_assert_str_eq(nth(0)->deadline_text, "March 2024");
    ck_assert_int_eq(nth(0)->deadline.day, tkl_day_from_civil(2024, 3, 31));
    ck_assert_str_eq(nth(1)->deadline_text, "February 2024"); /* the column's style */
    ck_assert_int_eq(nth(1)->deadline.day, tkl_day_from_civil(2024, 2, 29));
    ck_assert_str_eq(nth(2)->deadline_text, "2024-03-01");
    ck_assert_str_eq(nth(3)->deadline_text, "2024");
    ck_assert_str_eq(nth(4)->deadline_text, "2024-03-01"); /* no such style: the day */
}
END_TEST

START_TEST(the_first_table_unless_one_is_named)
{
    ck_assert_int_eq(
        read_doc("plan.ods", DOC(NOTES "<table:table table:name=\"Plan\">" HEAD "</table:table>")),
        -EINVAL);
    ck_assert(has_place("plan.ods:Notes", 0, 0, "no header row"));
    ck_assert_int_eq(read_doc("plan.ods#Actions",
                              DOC(NOTES "<table:table table:name=\"Plan\">" HEAD "</table:table>")),
                     -EINVAL);
    ck_assert(has_place("plan.ods", 0, 0,
                        "no sheet named \"Actions\"; the spreadsheet's sheets are \"Notes\", "
                        "\"Plan\""));
}
END_TEST

START_TEST(repeats_past_the_limits_are_refused)
{
    ck_assert_int_eq(read_doc("plan.ods", DOC("<table:table table:name=\"Plan\">" HEAD
                                              "<table:table-row table:number-rows-repeated="
                                              "\"1048575\"/><table:table-row "
                                              "table:number-rows-repeated=\"2\">" S(
                                                  "x") "</table:table-row></table:table>")),
                     -EFBIG);
    ck_assert(has_diag(1048577, "a value in row 1048577; a sheet has at most 1,048,576 rows"));
    ck_assert_int_eq(
        read_doc("plan.ods", DOC("<table:table table:name=\"Plan\">" HEAD "<table:table-row>"
                                 "<table:table-cell table:number-columns-repeated="
                                 "\"16383\"/>" S("x") S("y") "</table:table-row></table:table>")),
        -EFBIG);
    ck_assert(has_place("plan.ods:Plan", 0, 2, "a value in column 16385"));
    ck_assert_int_eq(read_doc("plan.ods", DOC("<table:table table:name=\"Plan\">" HEAD
                                              "<table:table-row table:number-rows-repeated="
                                              "\"1000\"><table:table-cell office:value-type="
                                              "\"string\" table:number-columns-repeated=\"1001\">"
                                              "<text:p>x</text:p></table:table-cell>"
                                              "</table:table-row></table:table>")),
                     -EFBIG);
    ck_assert(has_place("plan.ods:Plan", 0, 2,
                        "more than 200,000 cells with a value; a plan's sheet may hold at most "
                        "200,000 (a row repeated 1000 times)"));
    /* runs of spaces: 40,000 of 32,767 would be 1.3 GB */
    struct tkl_buf doc = {0};
    ck_assert_int_eq(tkl_buf_puts(&doc, DOC("<table:table table:name=\"Plan\">" HEAD
                                            "<table:table-row><table:table-cell><text:p>")),
                     0);
    doc.len -= strlen("</office:spreadsheet></office:body></office:document-content>");
    for (int i = 0; i < 40000; i++)
        ck_assert_int_eq(tkl_buf_puts(&doc, "<text:s text:c=\"32767\"/>"), 0);
    ck_assert_int_eq(tkl_buf_puts(&doc, "x</text:p></table:table-cell></table:table-row>"
                                        "</table:table></office:spreadsheet></office:body>"
                                        "</office:document-content>"),
                     0);
    ck_assert_int_eq(read_doc("plan.ods", doc.data), -EFBIG);
    tkl_buf_free(&doc);
    ck_assert(has_place("plan.ods:Plan", 1, 2, "a cell holds at most 32,767"));
}
END_TEST

START_TEST(not_a_spreadsheet)
{
    struct zip_member m[] = {{"word/document.xml", "<x/>"}};
    char *data;
    size_t len;
    zip_build(m, 1, &data, &len);
    ck_assert_int_eq(tkl_ods_read(&rows, "plan.ods", data, len), -EINVAL);
    free(data);
    ck_assert(has_diag(0, "not an OpenDocument spreadsheet"));
    ck_assert_int_eq(read_doc("plan.ods", DOC("<table:table table:name=\"Plan\">" HEAD)), -EINVAL);
    ck_assert(has_diag(0, "not well-formed XML"));
    /* an entity's text would vanish from its cell: refused, not read blank */
    const char *doc = DOC("<table:table table:name=\"Plan\">" HEAD
                          "<table:table-row>" S("&due;") "</table:table-row></table:table>");
    const char *body = strstr(doc, "?>") + 2;
    char typed[2048];
    snprintf(typed, sizeof(typed),
             "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY due "
             "\"March 2024\">]>%s",
             body);
    ck_assert_int_eq(read_doc("plan.ods", typed), -EINVAL);
    ck_assert(has_diag(0, "content.xml has a document type declaration"));
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    struct zip_member m[] = {
        {"content.xml",
         DOC(NOTES
             "<table:table table:name=\"Plan\">" HEAD
             "<table:table-row>" S("We will") S("Train<text:s text:c=\"2\"/>staff") S(
                 "HR") "<table:table-cell office:value-type=\"date\" "
                       "office:date-value=\"2023-04-30\"/>"
                       "</table:table-row><table:table-row table:number-rows-repeated=\"2\">"
                       "<table:table-cell/>" S(
                           "Again") "<table:table-cell "
                                    "table:number-rows-spanned=\"2\" office:value-type=\"string\">"
                                    "<text:p>HR</text:p></table:table-cell></table:table-row>"
                                    "</table:table>")},
        {"styles.xml", common_styles}};
    char *data;
    size_t len;
    zip_build(m, 2, &data, &len);
    struct tkl_rows proto = {.opts = &opts, .teams = &dir, .diags = &diags}, R;
    unsigned long n =
        read_every_alloc_failure(tkl_ods_read, "plan.ods#Plan", data, len, &proto, &R);
    ck_assert_uint_eq(R.n_actions, 3);
    ck_assert_str_eq(R.actions[0].title, "Train  staff");
    ck_assert_str_eq(R.actions[2].owners, "HR");
    tkl_rows_free(&R);
    free(data);
    ck_assert_uint_gt(n, 50);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ods");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, rows_setup, rows_teardown);
    tcase_add_test(tc, cells_as_a_csv_export_gives_them);
    tcase_add_test(tc, merged_cells_give_every_row_they_cover_their_value);
    tcase_add_test(tc, a_date_shown_without_a_day_is_its_months_last_day);
    tcase_add_test(tc, styles_are_found_by_name);
    tcase_add_test(tc, the_first_table_unless_one_is_named);
    tcase_add_test(tc, repeats_past_the_limits_are_refused);
    tcase_add_test(tc, not_a_spreadsheet);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
