/* Tests for daemon/store/xlsx.c: Excel workbooks as plans. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>

#include "alloc_fail.h"
#include "store/xlsx.h"
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

#define WORKBOOK(pr)                                                                               \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "               \
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">" pr          \
    "<sheets><sheet name=\"Cover\" sheetId=\"1\" r:id=\"rId1\"/>"                                  \
    "<sheet name=\"Actions &amp; more\" sheetId=\"2\" r:id=\"rId2\"/></sheets></workbook>"

static const char rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/cover.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"/xl/worksheets/plan.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId4\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/styles\" Target=\"styles.xml\"/></Relationships>";

/* Cell formats 5 to 9 show months and years without a day: built-in 17
 * ("mmm-yy", Excel's for a typed "March 2024"), "mmmm yyyy", "yyyy", and
 * two that do show a day: a weekday's name, a 'd' of quoted text. */
static const char styles[] =
    "<styleSheet><numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"[h]:mm &quot;days&quot;\"/>"
    "<numFmt numFmtId=\"166\" formatCode=\"[$-809]mmmm\\ yyyy;@\"/>"
    "<numFmt numFmtId=\"167\" formatCode=\"yyyy\"/>"
    "<numFmt numFmtId=\"168\" formatCode=\"dddd mmm yyyy\"/>"
    "<numFmt numFmtId=\"169\" formatCode=\"&quot;due&quot; mmm yy\"/>"
    "<numFmt numFmtId=\"170\" formatCode=\"yyyy\"/><numFmt numFmtId=\"163\" formatCode=\"0.0\"/>"
    "<numFmt numFmtId=\"170\" formatCode=\"mmm yy\"/></numFmts>"
    "<cellStyleXfs><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"5\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/>"
    "<xf numFmtId=\"165\"/><xf numFmtId=\"2\"/><xf numFmtId=\"17\"/><xf numFmtId=\"166\"/>"
    "<xf numFmtId=\"167\"/><xf numFmtId=\"168\"/><xf numFmtId=\"169\"/><xf numFmtId=\"170\"/>"
    "<xf numFmtId=\"163\"/></cellXfs>"
    "</styleSheet>";

static const char strings[] =
    "<sst><si><t>Actions</t></si><si><t>Responsibility</t></si><si><t>Timeframe</t></si>"
    "<si><t>Commitments</t></si>"
    "<si><r><rPr><b/></rPr><t>Train </t></r><r><t xml:space=\"preserve\">staff &lt;all&gt;"
    "</t></r><rPh><t>PHONETIC</t></rPh></si>"
    "<si><t>HR</t></si><si><t>line_x000D_\nbreak _x005F_x0041_</t></si><si/></sst>";

static const char cover[] = "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is>"
                            "<t>Cover</t></is></c></row></sheetData></worksheet>";

/* The workbook with plan as the sheet "Actions & more" and workbookPr pr. */
static int read_book(const char *file, const char *pr, const char *plan)
{
    char workbook[1024];
    snprintf(workbook, sizeof(workbook), WORKBOOK("%s"), pr);
    struct zip_member m[] = {
        {"xl/workbook.xml", workbook},      {"xl/_rels/workbook.xml.rels", rels},
        {"xl/styles.xml", styles},          {"xl/sharedStrings.xml", strings},
        {"xl/worksheets/cover.xml", cover}, {"xl/worksheets/plan.xml", plan},
    };
    char *data;
    size_t len;
    zip_build(m, sizeof(m) / sizeof(m[0]), &data, &len);
    int r = tkl_xlsx_read(&rows, file, data, len);
    free(data);
    return r;
}

#define HEAD                                                                                       \
    "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>3</v></c><c r=\"B1\" "              \
    "t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c><c t=\"s\"><v>2</v></c></row>"

static const struct tkl_action *nth(size_t i)
{
    ck_assert_uint_gt(rows.n_actions, i);
    return &rows.actions[i];
}

/* A diagnostic at place file!column line whose message contains text. */
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
        read_book("plan.xlsx#actions & MORE", "",
                  HEAD "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>6</v></c><c r=\"B2\" t=\"s\"><v>4</v>"
                       "</c><c r=\"C2\" t=\"s\"><v>5</v></c><c r=\"D2\" s=\"1\"><v>45046</v></c>"
                       "</row>"
                       "<row r=\"4\"><c r=\"B4\" t=\"inlineStr\"><is><r><t>In</t></r><r><t>line"
                       "</t></r></is></c><c r=\"C4\" t=\"b\"><v>1</v></c><c r=\"D4\" s=\"2\">"
                       "<v>45107.75</v></c></row>"
                       "<row><c r=\"B5\" t=\"str\"><f>A1</f><v>=formula result</v></c>"
                       "<c r=\"C5\"><v>0.10000000000000001</v></c><c r=\"D5\" s=\"3\"><v>45046"
                       "</v></c></row>"
                       "<row r=\"12\"><c r=\"B12\" t=\"e\"><v>#N/A</v></c><c r=\"D12\" t=\"d\">"
                       "<v>2024-03-31T00:00:00</v></c></row></sheetData>"
                       "<mergeCells><mergeCell ref=\"A2:A4\"/></mergeCells></worksheet>"),
        0);
    ck_assert_uint_eq(rows.n_actions, 4);
    ck_assert_str_eq(nth(0)->file, "plan.xlsx:Actions & more");
    ck_assert_uint_eq(nth(0)->line, 2);
    ck_assert_str_eq(nth(0)->title, "Train staff <all>"); /* runs, not the phonetic one */
    ck_assert_str_eq(nth(0)->commitment, "line\nbreak _x0041_");
    ck_assert_str_eq(nth(0)->owners, "HR");
    ck_assert_str_eq(nth(0)->deadline_text, "2023-04-30"); /* built-in 14 */
    ck_assert_str_eq(nth(1)->title, "Inline");
    ck_assert_str_eq(nth(1)->commitment, "line\nbreak _x0041_"); /* merged: filled down */
    ck_assert_str_eq(nth(1)->owners, "TRUE");
    ck_assert_str_eq(nth(1)->deadline_text, "2023-06-30"); /* dd/mm/yyyy, its time dropped */
    ck_assert_uint_eq(nth(2)->line, 5);
    ck_assert_str_eq(nth(2)->title, "=formula result");
    ck_assert_str_eq(nth(2)->owners, "0.1");
    ck_assert_str_eq(nth(2)->deadline_text, "45046"); /* [h]:mm is no date */
    ck_assert_uint_eq(nth(3)->line, 12);
    ck_assert_str_eq(nth(3)->title, "#N/A");
    ck_assert_str_eq(nth(3)->deadline_text, "2024-03-31");
    /* warnings name the cell of the field */
    ck_assert(has_place("plan.xlsx:Actions & more", 3, 4, "\"TRUE\" matches no team"));
}
END_TEST

/* Escapes are UTF-16 code units: a pair is one character, a lone half
 * (which UTF-8 cannot hold, and JSON and Teams would refuse) U+FFFD. */
START_TEST(escaped_surrogates_give_valid_utf8)
{
    ck_assert_int_eq(
        read_book("plan.xlsx#actions & more", "",
                  HEAD "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Smile _xD83D__xDE00_ "
                       "lone _xD800_ low _xDC00_ end _xD83D_</t></is></c><c r=\"B2\" "
                       "t=\"inlineStr\"><is><t>Train</t></is></c></row></sheetData></worksheet>"),
        0);
    ck_assert_uint_eq(rows.n_actions, 1);
    ck_assert_str_eq(nth(0)->commitment, "Smile \xF0\x9F\x98\x80 lone \xEF\xBF\xBD low "
                                         "\xEF\xBF\xBD end \xEF\xBF\xBD");
}
END_TEST

/* Three actions whose Timeframe (D) and Responsibility (C) are merged
 * down: every row is due when the merge says and owned by its team, as
 * Excel shows it. The merges follow the rows in the part. */
START_TEST(merged_cells_give_every_row_they_cover_their_value)
{
    ck_assert_int_eq(
        read_book("plan.xlsx#Actions & more", "",
                  HEAD "<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>A1</t></is></c>"
                       "<c r=\"C2\" t=\"s\"><v>5</v></c><c r=\"D2\" s=\"1\"><v>45016</v></c></row>"
                       "<row r=\"3\"><c r=\"B3\" t=\"inlineStr\"><is><t>A2</t></is></c>"
                       "<c r=\"C3\"/><c r=\"D3\" s=\"1\"/></row>"
                       "<row r=\"4\"><c r=\"B4\" t=\"inlineStr\"><is><t>A3</t></is></c></row>"
                       /* a section heading across the table stays one cell */
                       "<row r=\"5\"><c r=\"A5\" t=\"inlineStr\"><is><t>Section two</t></is>"
                       "</c></row>"
                       /* E6:F8 is two columns wide: only its own column, E, is
                        * filled; D6:E8's value goes to D7 and D8, not to E */
                       "<row r=\"6\"><c r=\"B6\" t=\"inlineStr\"><is><t>B1</t></is></c>"
                       "<c r=\"C6\" t=\"inlineStr\"><is><t>EDI Officer Group</t></is></c>"
                       "<c r=\"D6\" t=\"inlineStr\"><is><t>June 2024</t></is></c></row>"
                       "<row r=\"7\"><c r=\"B7\" t=\"inlineStr\"><is><t>B2</t></is></c>"
                       /* a covered cell that still holds text: hidden, as in Excel */
                       "<c r=\"D7\" t=\"inlineStr\"><is><t>stale</t></is></c></row>"
                       "<row r=\"8\"><c r=\"B8\" t=\"inlineStr\"><is><t>B3</t></is></c>"
                       "</row>"
                       /* rows the merge covers with nothing of their own: no actions */
                       "</sheetData><mergeCells count=\"5\"><mergeCell ref=\"D2:D4\"/>"
                       "<mergeCell ref=\"C2:C4\"/><mergeCell ref=\"A5:D5\"/>"
                       "<mergeCell ref=\"D6:E12\"/><mergeCell ref=\"C6:C8\"/>"
                       "<mergeCell ref=\"A1:A3\"/><mergeCell ref=\"bad\"/></mergeCells>"
                       "</worksheet>"),
        0);
    ck_assert_uint_eq(rows.n_actions, 6);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(nth(i)->line, i + 2);
        ck_assert_str_eq(nth(i)->deadline_text, "2023-03-31");
        ck_assert_int_eq(nth(i)->deadline.day, tkl_day_from_civil(2023, 3, 31));
        ck_assert_str_eq(nth(i)->owners, "HR");
        ck_assert_uint_eq(nth(i)->n_teams, 1);
        ck_assert_str_eq(nth(i)->teams[0], "hr");
        /* the heading merged over A1:A3 is not a commitment of A1 and A2 */
        ck_assert_str_eq(nth(i)->commitment, "");
    }
    for (size_t i = 3; i < 6; i++) {
        ck_assert_str_eq(nth(i)->commitment, "Section two");
        ck_assert_str_eq(nth(i)->deadline_text, "June 2024");
        ck_assert_int_eq(nth(i)->deadline.day, tkl_day_from_civil(2024, 6, 30));
        ck_assert_str_eq(nth(i)->teams[0], "edi");
    }
    ck_assert_uint_eq(nth(5)->line, 8);
    ck_assert(!has_diag(0, "undated"));
    ck_assert(!has_diag(0, "fallback"));
}
END_TEST

/* A month typed into Excel ("March 2024") is the serial of its 1st shown
 * as a month: read as the month's last day, as the text "March 2024" is. */
START_TEST(a_date_shown_without_a_day_is_its_months_last_day)
{
    ck_assert_int_eq(read_book("plan.xlsx#Actions & more", "",
                               HEAD
                               "<row r=\"2\"><c r=\"B2\" t=\"s\"><v>4</v></c><c r=\"D2\" s=\"5\">"
                               "<v>45352</v></c></row>"
                               "<row r=\"3\"><c r=\"B3\" t=\"s\"><v>4</v></c><c r=\"D3\" s=\"6\">"
                               "<v>45323</v></c></row>"
                               "<row r=\"4\"><c r=\"B4\" t=\"s\"><v>4</v></c><c r=\"D4\" s=\"7\">"
                               "<v>45352</v></c></row>"
                               "<row r=\"5\"><c r=\"B5\" t=\"s\"><v>4</v></c><c r=\"D5\" s=\"8\">"
                               "<v>45352</v></c></row>"
                               "<row r=\"6\"><c r=\"B6\" t=\"s\"><v>4</v></c><c r=\"D6\" s=\"9\">"
                               "<v>45352.5</v></c></row>"
                               "<row r=\"7\"><c r=\"B7\" t=\"s\"><v>4</v></c><c r=\"D7\" s=\"1\">"
                               "<v>45352</v></c></row></sheetData></worksheet>"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 6);
    ck_assert_str_eq(nth(0)->deadline_text, "March 2024"); /* built-in 17, mmm-yy */
    ck_assert_int_eq(nth(0)->deadline.day, tkl_day_from_civil(2024, 3, 31));
    ck_assert_str_eq(nth(1)->deadline_text, "February 2024"); /* mmmm\ yyyy: a leap year */
    ck_assert_int_eq(nth(1)->deadline.day, tkl_day_from_civil(2024, 2, 29));
    ck_assert_str_eq(nth(2)->deadline_text, "2024"); /* yyyy */
    ck_assert_int_eq(nth(2)->deadline.day, tkl_day_from_civil(2024, 12, 31));
    ck_assert_str_eq(nth(3)->deadline_text, "2024-03-01"); /* a weekday is a day's */
    ck_assert_str_eq(nth(4)->deadline_text, "March 2024"); /* "due" is no day */
    ck_assert_str_eq(nth(5)->deadline_text, "2024-03-01"); /* m/d/yyyy */
    ck_assert_int_eq(nth(5)->deadline.day, tkl_day_from_civil(2024, 3, 1));
}
END_TEST

/* A date written as ISO 8601 (t="d") is shown as its format shows it, as
 * a serial date is: a month with no day is the month's last day. A number
 * format given twice is the last given. */
START_TEST(an_iso_date_is_shown_as_its_format_shows_it)
{
    ck_assert_int_eq(read_book("plan.xlsx#Actions & more", "",
                               HEAD
                               "<row r=\"2\"><c r=\"B2\" t=\"s\"><v>4</v></c><c r=\"D2\" s=\"5\" "
                               "t=\"d\"><v>2024-03-01T00:00:00</v></c></row>"
                               "<row r=\"3\"><c r=\"B3\" t=\"s\"><v>4</v></c><c r=\"D3\" s=\"7\" "
                               "t=\"d\"><v>2024-03-01</v></c></row>"
                               "<row r=\"4\"><c r=\"B4\" t=\"s\"><v>4</v></c><c r=\"D4\" s=\"1\" "
                               "t=\"d\"><v>2024-03-01T12:00:00</v></c></row>"
                               "<row r=\"5\"><c r=\"B5\" t=\"s\"><v>4</v></c><c r=\"D5\" s=\"5\" "
                               "t=\"d\"><v>2024-02-30</v></c></row>"
                               "<row r=\"6\"><c r=\"B6\" t=\"s\"><v>4</v></c><c r=\"D6\" s=\"10\">"
                               "<v>45352</v></c><c r=\"E6\" s=\"11\"><v>45352</v></c></row>"
                               "</sheetData></worksheet>"),
                     0);
    ck_assert_uint_eq(rows.n_actions, 5);
    ck_assert_str_eq(nth(0)->deadline_text, "March 2024"); /* built-in 17, mmm-yy */
    ck_assert_int_eq(nth(0)->deadline.day, tkl_day_from_civil(2024, 3, 31));
    ck_assert_str_eq(nth(1)->deadline_text, "2024"); /* yyyy */
    ck_assert_str_eq(nth(2)->deadline_text, "2024-03-01");
    ck_assert_str_eq(nth(3)->deadline_text, "2024-02-30"); /* no date: as written */
    ck_assert_str_eq(nth(4)->deadline_text, "March 2024"); /* 170 given again as mmm yy */
}
END_TEST

START_TEST(the_1904_date_system)
{
    ck_assert_int_eq(read_book("plan.xlsx#Actions & more", "<workbookPr date1904=\"1\"/>",
                               HEAD "<row r=\"2\"><c r=\"B2\" t=\"s\"><v>4</v></c><c r=\"D2\" "
                                    "s=\"1\"><v>43584</v></c></row></sheetData></worksheet>"),
                     0);
    ck_assert_str_eq(nth(0)->deadline_text, "2023-04-30");
}
END_TEST

START_TEST(the_first_sheet_unless_one_is_named)
{
    ck_assert_int_eq(read_book("plan.xlsx", "", HEAD "</sheetData></worksheet>"), -EINVAL);
    ck_assert(has_place("plan.xlsx:Cover", 0, 0, "no header row"));
    ck_assert_int_eq(read_book("plan.xlsx#Plan", "", HEAD "</sheetData></worksheet>"), -EINVAL);
    ck_assert(has_place("plan.xlsx", 0, 0,
                        "no sheet named \"Plan\"; the workbook's sheets are \"Cover\", "
                        "\"Actions & more\""));
    /* a plan at a URL whose path names no format: its fragment still
     * names the sheet, never the first one silently read instead */
    ck_assert_int_eq(
        read_book("https://h.example/:x:/r/Doc#Plan", "", HEAD "</sheetData></worksheet>"),
        -EINVAL);
    ck_assert(has_place("https://h.example/:x:/r/Doc", 0, 0, "no sheet named \"Plan\""));
}
END_TEST

START_TEST(bad_cells_are_refused_with_their_place)
{
    const char *file = "plan.xlsx#Actions & more", *place = "plan.xlsx:Actions & more";
    ck_assert_int_eq(read_book(file, "",
                               HEAD "<row r=\"7\"><c r=\"B7\" t=\"s\"><v>99</v></c></row>"
                                    "</sheetData></worksheet>"),
                     -EINVAL);
    ck_assert(
        has_place(place, 2, 7, "shared string \"99\" does not exist (the workbook shares 8)"));
    ck_assert_int_eq(read_book(file, "",
                               HEAD "<row r=\"8\"><c r=\"XFE8\"><v>1</v></c></row>"
                                    "</sheetData></worksheet>"),
                     -EFBIG);
    ck_assert(has_place(place, 0, 8, "a value in column 16385; a sheet has at most 16,384"));
    ck_assert_int_eq(
        read_book(file, "", HEAD "<row><c r=\"8B\"><v>1</v></c></row></sheetData></worksheet>"),
        -EINVAL);
    ck_assert(has_place(place, 0, 2, "\"8B\" is not a cell reference"));
    ck_assert_int_eq(read_book(file, "", HEAD "<row><c></sheetData>"), -EINVAL);
    ck_assert(has_diag(0, "not well-formed XML"));
    /* an entity's text would vanish from its cell: refused, not read blank */
    ck_assert_int_eq(read_book(file, "",
                               "<!DOCTYPE worksheet [<!ENTITY due \"March 2024\">]>" HEAD
                               "<row r=\"2\"><c t=\"inlineStr\"><is><t>Do &due;</t></is></c>"
                               "</row></sheetData></worksheet>"),
                     -EINVAL);
    ck_assert(has_diag(0, "xl/worksheets/plan.xml has a document type declaration (<!DOCTYPE "
                          "...>), which office programs never write"));
}
END_TEST

START_TEST(not_a_workbook)
{
    ck_assert_int_eq(tkl_xlsx_read(&rows, "plan.xlsx", "Actions,Owner\n", 14), -EINVAL);
    ck_assert(has_diag(0, "not a readable ZIP archive"));
    struct zip_member m[] = {{"content.xml", "<x/>"}};
    char *data;
    size_t len;
    zip_build(m, 1, &data, &len);
    ck_assert_int_eq(tkl_xlsx_read(&rows, "plan.xlsx", data, len), -EINVAL);
    free(data);
    ck_assert(has_diag(0, "this part is missing: not an Excel workbook"));
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    char workbook[1024];
    snprintf(workbook, sizeof(workbook), WORKBOOK("%s"), "<workbookPr date1904=\"0\"/>");
    static const char plan[] =
        HEAD "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>6</v></c><c r=\"B2\" t=\"s\"><v>4</v></c>"
             "<c r=\"C2\" t=\"s\"><v>5</v></c><c r=\"D2\" s=\"2\"><v>45046</v></c></row>"
             "<row r=\"3\"><c r=\"B3\" t=\"inlineStr\"><is><t>Two</t></is></c><c r=\"C3\" "
             "t=\"s\"><v>5</v></c><c r=\"D3\"><v>2024</v></c></row>"
             "<row r=\"4\"><c r=\"B4\" t=\"inlineStr\"><is><t>Three</t></is></c></row>"
             "</sheetData><mergeCells><mergeCell ref=\"D3:D4\"/><mergeCell ref=\"C3:C5\"/>"
             "</mergeCells></worksheet>";
    struct zip_member m[] = {
        {"_rels/.rels", "<Relationships><Relationship Id=\"r\" Type=\"http://schemas."
                        "openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
                        "Target=\"xl/workbook.xml\"/></Relationships>"},
        {"xl/workbook.xml", workbook},
        {"xl/_rels/workbook.xml.rels", rels},
        {"xl/styles.xml", styles},
        {"xl/sharedStrings.xml", strings},
        {"xl/worksheets/plan.xml", plan},
    };
    char *data;
    size_t len;
    zip_build(m, sizeof(m) / sizeof(m[0]), &data, &len);
    struct tkl_rows proto = {.opts = &opts, .teams = &dir, .diags = &diags}, R;
    unsigned long n =
        read_every_alloc_failure(tkl_xlsx_read, "plan.xlsx#Actions & more", data, len, &proto, &R);
    ck_assert_uint_eq(R.n_actions, 3);
    ck_assert_str_eq(R.actions[0].deadline_text, "2023-04-30");
    ck_assert_str_eq(R.actions[2].deadline_text, "2024");
    ck_assert_str_eq(R.actions[2].owners, "HR");
    tkl_rows_free(&R);
    free(data);
    ck_assert_uint_gt(n, 50);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xlsx");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, rows_setup, rows_teardown);
    tcase_add_test(tc, cells_as_a_csv_export_gives_them);
    tcase_add_test(tc, escaped_surrogates_give_valid_utf8);
    tcase_add_test(tc, merged_cells_give_every_row_they_cover_their_value);
    tcase_add_test(tc, a_date_shown_without_a_day_is_its_months_last_day);
    tcase_add_test(tc, an_iso_date_is_shown_as_its_format_shows_it);
    tcase_add_test(tc, the_1904_date_system);
    tcase_add_test(tc, the_first_sheet_unless_one_is_named);
    tcase_add_test(tc, bad_cells_are_refused_with_their_place);
    tcase_add_test(tc, not_a_workbook);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
