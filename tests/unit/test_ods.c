/* Tests for daemon/store/ods.c: OpenDocument spreadsheets as plans. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    struct zip_member m[] = {
        {"content.xml",
         DOC(NOTES "<table:table table:name=\"Plan\">" HEAD "<table:table-row>" S("We will")
                 S("Train<text:s text:c=\"2\"/>staff")
                     S("HR") "<table:table-cell office:value-type=\"date\" "
                             "office:date-value=\"2023-04-30\"/>"
                             "</table:table-row><table:table-row table:number-rows-repeated=\"2\">"
                             "<table:table-cell/>" S("Again") "</table:table-row></table:table>")}};
    char *data;
    size_t len;
    zip_build(m, 1, &data, &len);
    struct tkl_rows proto = {.opts = &opts, .teams = &dir, .diags = &diags}, R;
    unsigned long n =
        read_every_alloc_failure(tkl_ods_read, "plan.ods#Plan", data, len, &proto, &R);
    ck_assert_uint_eq(R.n_actions, 3);
    ck_assert_str_eq(R.actions[0].title, "Train  staff");
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
