/* Tests for daemon/store/docx.c: the splitting and alignment of a Word
 * table row's cells (no archive needed), and small .docx archives built
 * here with libzip, read into actions. */
#include <check.h>

#include "check_run.h"
#include <tickler/day.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "alloc_fail.h"
#include "core/text.h"
#include "store/docx.h"
#include "store_fixture.h"
#include "zip_fixture.h"

/* ---- tkl_docx_split ---- */

#define PARAS(...) ((struct tkl_docx_para[]){__VA_ARGS__})
#define CELL(...)                                                                                  \
    {                                                                                              \
        PARAS(__VA_ARGS__), sizeof(PARAS(__VA_ARGS__)) / sizeof(struct tkl_docx_para)              \
    }
#define ITEM(t)                                                                                    \
    {                                                                                              \
        (char *)(t), false                                                                         \
    }
#define LIST(t)                                                                                    \
    {                                                                                              \
        (char *)(t), true                                                                          \
    }
static const struct tkl_docx_cell EMPTY = {NULL, 0};

static const char *at(const struct tkl_docx_split *s, size_t record, size_t cell)
{
    ck_assert_uint_lt(record, s->n_records);
    ck_assert_uint_lt(cell, s->n_cells);
    return s->text[record * s->n_cells + cell];
}

START_TEST(split_equal_counts_align_one_to_one)
{
    /* Commitment | Actions | Responsibility | Timeframe, as in the 2022 plan */
    struct tkl_docx_cell row[] = {
        CELL(ITEM("We will work with partners")),
        CELL(LIST("Create join up"), LIST("No wrong door"), LIST("Digital training")),
        CELL(ITEM("Housing"), ITEM("All teams"), ITEM("Housing\nCommunities")),
        CELL(ITEM("April 2023"), ITEM("March 2023"), ITEM("Review Jan 2023")),
    };
    bool align[] = {false, false, true, true};
    struct tkl_docx_split s;
    ck_assert_int_eq(tkl_docx_split(row, 4, 1, align, &s), 0);
    ck_assert_uint_eq(s.n_records, 3);
    ck_assert_uint_eq(s.n_ambiguous, 0);
    ck_assert_str_eq(at(&s, 0, 1), "Create join up");
    ck_assert_str_eq(at(&s, 2, 1), "Digital training");
    ck_assert_str_eq(at(&s, 1, 2), "All teams");
    ck_assert_str_eq(at(&s, 2, 2), "Housing\nCommunities");
    ck_assert_str_eq(at(&s, 2, 3), "Review Jan 2023");
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(at(&s, i, 0), "We will work with partners");
    tkl_docx_split_free(&s);
}
END_TEST

START_TEST(split_one_item_applies_to_every_action)
{
    struct tkl_docx_cell row[] = {
        CELL(ITEM("Train staff"), ITEM("Survey staff")),
        CELL(LIST("HR")),
        EMPTY,
    };
    bool align[] = {false, true, true};
    struct tkl_docx_split s;
    ck_assert_int_eq(tkl_docx_split(row, 3, 0, align, &s), 0);
    ck_assert_uint_eq(s.n_records, 2);
    ck_assert_uint_eq(s.n_ambiguous, 0);
    ck_assert_str_eq(at(&s, 0, 1), "HR");
    ck_assert_str_eq(at(&s, 1, 1), "HR");
    ck_assert_str_eq(at(&s, 1, 2), "");
    tkl_docx_split_free(&s);
}
END_TEST

START_TEST(split_ambiguous_columns_are_listed_and_given_whole)
{
    struct tkl_docx_cell row[] = {
        CELL(ITEM("A"), ITEM("B"), ITEM("C")),
        CELL(ITEM("HR"), LIST("Housing")),
        CELL(ITEM("Jan"), ITEM("Feb"), ITEM("Mar"), ITEM("Apr")),
    };
    bool align[] = {false, true, true};
    struct tkl_docx_split s;
    ck_assert_int_eq(tkl_docx_split(row, 3, 0, align, &s), 0);
    ck_assert_uint_eq(s.n_records, 3);
    ck_assert_uint_eq(s.n_ambiguous, 2);
    ck_assert_uint_eq(s.ambiguous[0], 1);
    ck_assert_uint_eq(s.ambiguous[1], 2);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(at(&s, i, 1), "HR\n\xe2\x80\xa2 Housing");
        ck_assert_str_eq(at(&s, i, 2), "Jan\nFeb\nMar\nApr");
    }
    tkl_docx_split_free(&s);
}
END_TEST

START_TEST(split_unaligned_cells_are_whole_with_list_marks)
{
    struct tkl_docx_cell row[] = {
        CELL(ITEM("We will work with partners to:"), LIST("Identify"), LIST("Increase")),
        CELL(ITEM("One"), ITEM("Two")),
        CELL(ITEM("x"), ITEM("y")),
    };
    struct tkl_docx_split s;
    /* no align array: only the action column splits */
    ck_assert_int_eq(tkl_docx_split(row, 3, 1, NULL, &s), 0);
    ck_assert_uint_eq(s.n_records, 2);
    ck_assert_uint_eq(s.n_ambiguous, 0);
    ck_assert_str_eq(
        at(&s, 1, 0),
        "We will work with partners to:\n\xe2\x80\xa2 Identify\n\xe2\x80\xa2 Increase");
    ck_assert_str_eq(at(&s, 0, 2), "x\ny");
    tkl_docx_split_free(&s);
}
END_TEST

START_TEST(split_one_action_takes_whole_cells)
{
    struct tkl_docx_cell row[] = {
        CELL(LIST("Use neutral spaces")),
        CELL(ITEM("EDI Officer Group"), ITEM("All Services")),
    };
    bool align[] = {false, true};
    struct tkl_docx_split s;
    ck_assert_int_eq(tkl_docx_split(row, 2, 0, align, &s), 0);
    ck_assert_uint_eq(s.n_records, 1);
    ck_assert_uint_eq(s.n_ambiguous, 0);
    ck_assert_str_eq(at(&s, 0, 0), "Use neutral spaces");
    ck_assert_str_eq(at(&s, 0, 1), "EDI Officer Group\nAll Services");
    tkl_docx_split_free(&s);

    /* an empty action cell (or a title column past the row) is one record */
    ck_assert_int_eq(tkl_docx_split(row, 2, 5, align, &s), 0);
    ck_assert_uint_eq(s.n_records, 1);
    tkl_docx_split_free(&s);
}
END_TEST

/* ---- tkl_docx_read on archives built here ---- */

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define DOC_OPEN                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"" W_NS "\" "                  \
    "xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\"><w:body>"
#define DOC_CLOSE  "</w:body></w:document>"
#define DOC(body)  DOC_OPEN body DOC_CLOSE
#define RUN(t)     "<w:r><w:t>" t "</w:t></w:r>"
#define P(t)       "<w:p>" RUN(t) "</w:p>"
#define LI(t)      "<w:p><w:pPr><w:numPr><w:numId w:val=\"1\"/></w:numPr></w:pPr>" RUN(t) "</w:p>"
#define TC(x)      "<w:tc>" x "</w:tc>"
#define TR(x)      "<w:tr>" x "</w:tr>"
#define TBL(x)     "<w:tbl>" x "</w:tbl>"
#define SPAN(n, x) "<w:tc><w:tcPr><w:gridSpan w:val=\"" #n "\"/></w:tcPr>" x "</w:tc>"
#define HEAD       TR(TC(P("Commitments")) TC(P("Actions")) TC(P("Responsibility")) TC(P("Timeframe")))

static struct tkl_rows R;
static char *archive;
static size_t archive_len;

/* The bytes of a ZIP archive holding member name with text. */
static void make_zip(const char *name, const char *text)
{
    const struct zip_member m[] = {{name, text}};
    free(archive);
    zip_build(m, 1, &archive, &archive_len);
}

static int read_doc(const char *xml)
{
    make_zip("word/document.xml", xml);
    tkl_rows_free(&R);
    R = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
    return tkl_docx_read(&R, "plan.docx", archive, archive_len);
}

/* A diagnostic at place (the file field) whose message contains text. */
static bool diag_at(const char *place, const char *text)
{
    for (size_t i = 0; i < diags.n; i++)
        if (diags.items[i].file && strcmp(diags.items[i].file, place) == 0 &&
            strstr(diags.items[i].message, text))
            return true;
    return false;
}

static void rows_teardown(void)
{
    tkl_rows_free(&R);
    memset(&R, 0, sizeof(R));
    free(archive);
    archive = NULL;
    teardown();
}

START_TEST(read_spans_merges_and_objective_rows)
{
    ck_assert_int_eq(
        read_doc(DOC(P("Title outside any table") TBL(
            TR(SPAN(4, P("As a Community Leader"))) HEAD TR(
                "<w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>" P(
                    "We will listen") "</w:tc>" TC(LI("Survey residents") LI("Hold forums"))
                    TC(P("HR") P("EDI Officer Group")) TC(P("April 2023") P("May 2023")))
                TR("<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>" TC(P("Report back"))
                       TC(P("HR")) TC(P("June 2023"))) TR(TC(P("As an Employer")) TC("<w:p/>")
                                                              TC("<w:p/>") TC("<w:p/>"))
                    TR(TC(P("We will train")) TC(P("Train staff")) TC(P("HR")) TC(P("Ongoing")))))),
        0);
    ck_assert_uint_eq(R.n_actions, 4);
    const struct tkl_action *a = R.actions;
    ck_assert_str_eq(a[0].title, "Survey residents");
    ck_assert_str_eq(a[0].owners, "HR");
    ck_assert_str_eq(a[1].title, "Hold forums");
    ck_assert_str_eq(a[1].owners, "EDI Officer Group");
    ck_assert_str_eq(a[1].deadline_text, "May 2023");
    ck_assert_str_eq(a[1].objective, "As a Community Leader");
    ck_assert_str_eq(a[1].file, "plan.docx: table 1, row 3, item 2");
    ck_assert_uint_eq(a[1].line, 0);
    /* the merged continuation holds the merge's text, as Word shows it */
    ck_assert_str_eq(a[2].commitment, "We will listen");
    ck_assert_str_eq(a[2].file, "plan.docx: table 1, row 4");
    /* one non-empty cell, not in the action column: a new objective */
    ck_assert_str_eq(a[3].objective, "As an Employer");
    ck_assert_str_eq(a[3].commitment, "We will train");
    ck_assert(!diag_at("plan.docx: table 1, row 5", "heading"));
}
END_TEST

/* A plan in sections, each under the heading row again: the rows are its
 * actions, the heading rows none, and nothing to warn of (as in a CSV)
 * but that the plan has no Status column. */
START_TEST(read_a_heading_row_repeated_for_a_section_is_no_action)
{
    ck_assert_int_eq(
        read_doc(DOC(TBL(HEAD TR(TC(P("We will listen")) TC(P("Survey residents")) TC(P("HR")) TC(
            P("April 2023"))) HEAD TR(TC(P("We will train")) TC(P("Train staff")) TC(P("HR"))
                                          TC(P("Ongoing")))))),
        0);
    ck_assert_uint_eq(R.n_actions, 2);
    ck_assert_str_eq(R.actions[0].title, "Survey residents");
    ck_assert_str_eq(R.actions[1].title, "Train staff");
    ck_assert_str_eq(R.actions[1].commitment, "We will train");
    for (size_t i = 0; i < diags.n; i++) /* the plan has no Status column: that alone */
        ck_assert_msg(strstr(diags.items[i].message, "no column for status"), "%s: %s",
                      diags.items[i].file, diags.items[i].message);
}
END_TEST

#define RESTART(x) "<w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>" x "</w:tc>"
#define CONTINUE   "<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"

/* Three actions whose Responsibility and Timeframe are merged down: each
 * is due when the merge says and owned by its team, as Word shows them. */
START_TEST(read_merged_cells_give_every_row_they_cover_their_value)
{
    ck_assert_int_eq(read_doc(DOC(TBL(HEAD TR(TC(P("We will")) TC(P("A1")) RESTART(P("HR")) RESTART(
                         P("31/03/2023"))) TR(TC("<w:p/>") TC(P("A2")) CONTINUE CONTINUE)
                                          TR(TC("<w:p/>") TC(P("A3")) CONTINUE CONTINUE)
                                      /* a row the merge covers with nothing of its own: blank */
                                      TR(TC("<w:p/>") TC("<w:p/>") CONTINUE CONTINUE)
                                      /* an objective across the table ends the merge */
                                      TR(SPAN(4, P("As an Employer"))) TR(TC(P("We")) TC(
                                          P("B1")) TC(P("HR")) "<w:tc><w:tcPr><w:vMerge/></w:tcPr>"
                                                               "<w:p/></w:tc>")))),
                     0);
    ck_assert_uint_eq(R.n_actions, 4);
    const struct tkl_action *a = R.actions;
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(a[i].deadline_text, "31/03/2023");
        ck_assert_int_eq(a[i].deadline.day, tkl_day_from_civil(2023, 3, 31));
        ck_assert_str_eq(a[i].owners, "HR");
        ck_assert_uint_eq(a[i].n_teams, 1);
        ck_assert_str_eq(a[i].teams[0], "hr");
    }
    ck_assert_str_eq(a[2].file, "plan.docx: table 1, row 4");
    ck_assert_str_eq(a[3].title, "B1");
    ck_assert_str_eq(a[3].deadline_text, "");
    ck_assert(!diag_at("plan.docx: table 1, row 5", "heading"));
}
END_TEST

#define REF_HEAD TR(TC(P("Ref")) TC(P("Actions")) TC(P("Responsibility")) TC(P("Timeframe")))

/* A merge begun in a table's last row ends with the table: a
 * continuation in the next table's heading row takes nothing from it,
 * nor do the rows below. */
START_TEST(read_a_merge_ends_with_its_table)
{
    ck_assert_int_eq(
        read_doc(DOC(
            TBL(REF_HEAD TR(TC(P("R1")) TC(P("Do a")) TC(P("HR")) RESTART(P("March 2025"))))
                P("between") TBL(TR(TC(P("Ref")) TC(P("Actions")) TC(P("Responsibility")) CONTINUE)
                                     TR(TC(P("R2")) TC(P("Do b")) TC(P("HR")) CONTINUE)))),
        0);
    ck_assert_uint_eq(R.n_actions, 2);
    ck_assert_str_eq(R.actions[0].deadline_text, "March 2025");
    ck_assert_str_eq(R.actions[1].id, "R2");
    ck_assert_str_eq(R.actions[1].deadline_text, "");
    /* the heading's continuation has no merge above it in its table */
    ck_assert_uint_eq(R.n_maps, 2);
    ck_assert_uint_eq(R.maps[1].n, 4);
    ck_assert_str_eq(R.maps[1].headings[3], "");
}
END_TEST

/* A merged Ref is the first row's id alone; the rows below keep the ids
 * their texts give them. */
START_TEST(read_a_merged_id_is_not_filled)
{
    ck_assert_int_eq(read_doc(DOC(TBL(REF_HEAD TR(RESTART(P("EAP-01")) TC(P("Do a")) TC(P("HR")) TC(
                         P("2025"))) TR(CONTINUE TC(P("Do b")) TC(P("HR")) TC(P("2025")))
                                          TR(CONTINUE TC(P("Do c")) TC(P("HR")) TC(P("2025")))))),
                     0);
    ck_assert_uint_eq(R.n_actions, 3);
    ck_assert_str_eq(R.actions[0].id, "EAP-01");
    ck_assert(R.actions[1].id_derived);
    ck_assert(R.actions[2].id_derived);
    for (size_t i = 0; i < diags.n; i++)
        ck_assert_ptr_null(strstr(diags.items[i].message, "same id"));
}
END_TEST

START_TEST(read_runs_fields_hyperlinks_and_skipped_parts)
{
    ck_assert_int_eq(read_doc(DOC(TBL(TR(TC(P("Actions")) TC(P("Owner"))) TR(
                         TC("<w:p><w:r><w:t xml:space=\"preserve\">Tab </w:t><w:tab/>"
                            "<w:t>and</w:t><w:br/><w:t>break</w:t></w:r>"
                            "<w:hyperlink><w:r><w:t> link</w:t></w:r></w:hyperlink>"
                            "<w:fldSimple w:instr=\"PAGE\"><w:r><w:t> 7</w:t></w:r></w:fldSimple>"
                            "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
                            "<w:r><w:instrText>HYPERLINK \"x\"</w:instrText></w:r>"
                            "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
                            "<w:r><w:t> shown</w:t></w:r>"
                            "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
                            "<w:del><w:r><w:delText>deleted</w:delText></w:r></w:del>"
                            "<w:ins><w:r><w:t> &amp; inserted</w:t></w:r></w:ins>"
                            "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\">"
                            "<w:drawing><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r>"
                            "</w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback>"
                            "<w:pict><w:r><w:t>box</w:t></w:r></w:pict></mc:Fallback>"
                            "</mc:AlternateContent></w:r></w:p>") TC(P("HR")))))),
                     0);
    ck_assert_uint_eq(R.n_actions, 1);
    ck_assert_str_eq(R.actions[0].title,
                     "Tab  and\nbreak link 7 shown & inserted"); /* row.c: tab as space */
}
END_TEST

START_TEST(read_nested_table_is_warned_and_read_as_paragraphs)
{
    ck_assert_int_eq(read_doc(DOC(TBL(TR(TC(P("Actions")) TC(P("Owner"))) TR(TC(
                         P("Outer") TBL(TR(TC(P("Inner one")) TC(P("Inner two"))))) TC(P("HR")))))),
                     0);
    ck_assert_uint_eq(R.n_actions, 3);
    ck_assert_str_eq(R.actions[0].title, "Outer");
    ck_assert_str_eq(R.actions[2].title, "Inner two");
    ck_assert_str_eq(R.actions[2].owners, "HR");
    ck_assert(diag_at("plan.docx: table 1, row 2", "a table inside a cell"));
}
END_TEST

START_TEST(read_tables_without_heading_are_reported)
{
    ck_assert_int_eq(read_doc(DOC(TBL(TR(TC(P("Name")) TC(P("Room")))) TBL(TR(
                         TC(P("Actions")) TC(P("Owner"))) TR(TC(P("Train staff")) TC(P("HR")))))),
                     0);
    ck_assert_uint_eq(R.n_actions, 1);
    ck_assert(diag_at("plan.docx: table 1", "no heading row"));
    ck_assert_str_eq(R.actions[0].file, "plan.docx: table 2, row 2");
}
END_TEST

/* Rows of several cells above the heading row are each warned of, a few
 * of them; more are one warning at the first's place, counted, as the
 * rows of a CSV. */
#define NOTE TR(TC(P("Draft")) TC(P("v2")))
START_TEST(read_rows_above_the_heading_row_are_one_warning_past_a_few)
{
    ck_assert_int_eq(read_doc(DOC(TBL(NOTE NOTE HEAD TR(TC(P("We will train")) TC(P("Train staff"))
                                                            TC(P("HR")) TC(P("Ongoing")))))),
                     0);
    ck_assert(diag_at("plan.docx: table 1, row 1", "before the header row (no column named"));
    ck_assert(diag_at("plan.docx: table 1, row 2", "before the header row (no column named"));
    ck_assert_int_eq(read_doc(DOC(TBL(NOTE NOTE NOTE NOTE NOTE NOTE HEAD TR(TC(
                         P("We will train")) TC(P("Train staff")) TC(P("HR")) TC(P("Ongoing")))))),
                     0);
    ck_assert_uint_eq(R.n_actions, 1);
    size_t before = 0;
    for (size_t i = 0; i < diags.n; i++)
        before += strstr(diags.items[i].message, "before") != NULL;
    ck_assert_uint_eq(before, 3); /* 2 of the first document, 1 of this */
    ck_assert(diag_at("plan.docx: table 1, row 1",
                      "this row and the 5 after it come before any header row (no column named "
                      "Actions, Action Title, Agreed Actions or Title yet); not read as actions"));
}
END_TEST

START_TEST(read_refuses_what_is_not_a_word_plan)
{
    R = (struct tkl_rows){.opts = &opts, .teams = &dir, .diags = &diags};
    ck_assert_int_eq(tkl_docx_read(&R, "plan.docx", "Actions,Owner\n", 14), -EINVAL);
    ck_assert(diag_at("plan.docx", "not a readable ZIP archive"));

    make_zip("xl/workbook.xml", "<workbook/>");
    ck_assert_int_eq(tkl_docx_read(&R, "plan.docx", archive, archive_len), -EINVAL);
    ck_assert(diag_at("plan.docx", "no word/document.xml"));

    ck_assert_int_eq(read_doc(DOC(P("Minutes") TBL(TR(TC(P("Name")))))), -EINVAL);
    ck_assert(diag_at("plan.docx", "1 tables, none with a heading row"));

    ck_assert_int_eq(read_doc(DOC(TBL(TR(TC(P("Actions")))) "<w:p>")), -EINVAL);
    ck_assert(diag_at("plan.docx", "not well-formed XML"));

    ck_assert_int_eq(read_doc(DOC(TBL(TR(SPAN(100000, P("Actions")))))), -EINVAL);
    ck_assert(diag_at("plan.docx", "100000 columns, more than the 256 a plan may have; refused"));

    ck_assert_int_eq(
        read_doc(
            DOC(TBL(TR("<w:trPr><w:gridBefore w:val=\"200\"/></w:trPr>" SPAN(100, P("Actions")))))),
        -EINVAL);
    ck_assert(diag_at("plan.docx", "table 1, row 1: 300 columns, more than the 256"));
    ck_assert_uint_eq(R.n_actions, 0);
}
END_TEST

/* Text in a vertically merged continuation (Word shows only the first
 * cell's) is not read, and said so. */
START_TEST(read_text_under_a_vertical_merge_is_warned)
{
    ck_assert_int_eq(
        read_doc(DOC(TBL(HEAD TR(TC(P("We")) TC(P("Act one")) "<w:tc><w:tcPr><w:vMerge "
                                                              "w:val=\"restart\"/></w:tcPr>" P(
                                                                  "HR") "</w:tc>" TC(P("2024")))
                             TR(TC(P("We")) TC(P("Act two")) "<w:tc><w:tcPr><w:vMerge/></w:tcPr>" P(
                                 "Finance") "</w:tc>" TC(P("2025")))))),
        0);
    ck_assert_uint_eq(R.n_actions, 2);
    ck_assert(diag_at("plan.docx: table 1, row 3",
                      "column 3 continues the merged cell above but holds \"Finance\""));
}
END_TEST

/* A DTD's entities are not substituted (nor an external one loaded):
 * their text would vanish from the cells, so a document declaring one is
 * refused, billion laughs and all. */
START_TEST(read_refuses_a_document_type_declaration)
{
    static const char *const dtds[][2] = {
        {"<!DOCTYPE w:document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>", "&x;"},
        {"<!DOCTYPE w:document [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
         "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>",
         "&c;"},
        {"<!DOCTYPE w:document SYSTEM \"http://127.0.0.1:1/plan.dtd\">", ""},
    };
    for (size_t i = 0; i < sizeof(dtds) / sizeof(dtds[0]); i++) {
        char *xml = NULL;
        ck_assert_int_ge(asprintf(&xml,
                                  "<?xml version=\"1.0\"?>%s<w:document xmlns:w=\"" W_NS
                                  "\"><w:body>" TBL(HEAD TR(TC(P("We")) TC(P("Act %s now")) TC(
                                      P("HR")) TC(P("2024")))) DOC_CLOSE,
                                  dtds[i][0], dtds[i][1]),
                         0);
        tkl_diags_free(&diags);
        ck_assert_int_eq(read_doc(xml), -EINVAL);
        free(xml);
        ck_assert_msg(diag_at("plan.docx", "has a document type declaration (<!DOCTYPE ...>)"),
                      "DTD %zu", i);
        ck_assert_uint_eq(R.n_actions, 0);
    }
}
END_TEST

START_TEST(read_refuses_a_row_repeating_too_much_text)
{
    /* a 1 MiB commitment beside 300 actions: 300 MiB once split */
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, DOC_OPEN "<w:tbl>" TR(TC(P("Commitments")) TC(
                                          P("Actions"))) "<w:tr><w:tc><w:p><w:r><w:t>"),
                     0);
    for (size_t i = 0; i < (1u << 20) / 64; i++)
        ck_assert_int_eq(tkl_buf_puts(&b, "We will do something about it and say so in public. "
                                          "Always.    "),
                         0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:t></w:r></w:p></w:tc><w:tc>"), 0);
    for (size_t i = 0; i < 300; i++)
        ck_assert_int_eq(tkl_buf_puts(&b, P("Act")), 0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:tc></w:tr></w:tbl>" DOC_CLOSE), 0);
    ck_assert_int_eq(read_doc(b.data), -EINVAL);
    tkl_buf_free(&b);
    ck_assert(diag_at("plan.docx", "table 1, row 2: its actions would hold more than 16 MiB"));
    ck_assert_uint_eq(R.n_actions, 0);
}
END_TEST

START_TEST(read_refuses_a_cell_of_many_items_given_to_many_actions)
{
    /* a commitment of 20,000 one-letter items beside 500 actions: a file
     * of a few KiB giving 20 MB of text (200 MB took 8 s and 400 MB) */
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, DOC_OPEN "<w:tbl>" TR(TC(P("Commitments"))
                                                                TC(P("Actions"))) "<w:tr><w:tc>"),
                     0);
    for (size_t i = 0; i < 20000; i++)
        ck_assert_int_eq(tkl_buf_puts(&b, P("x")), 0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:tc><w:tc>"), 0);
    for (size_t i = 0; i < 500; i++)
        ck_assert_int_eq(tkl_buf_printf(&b, P("Act %zu"), i), 0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:tc></w:tr></w:tbl>" DOC_CLOSE), 0);
    ck_assert_int_eq(read_doc(b.data), -EINVAL);
    tkl_buf_free(&b);
    ck_assert(diag_at("plan.docx", "table 1, row 2: its actions would hold more than 16 MiB"));
    ck_assert_uint_eq(R.n_actions, 0);
}
END_TEST

START_TEST(read_refuses_more_cells_than_a_plan_has)
{
    /* 4200 rows of 251 columns (skipped or spanned): past 1,048,576 */
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, DOC_OPEN "<w:tbl>" TR(TC(P("Actions")))), 0);
    for (size_t i = 0; i < 4200; i++)
        ck_assert_int_eq(tkl_buf_puts(&b, TR("<w:trPr><w:gridBefore w:val=\"200\"/></w:trPr>" SPAN(
                                              50, "<w:p/>") "<w:tc/>")),
                         0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:tbl>" DOC_CLOSE), 0);
    ck_assert_int_eq(read_doc(b.data), -EINVAL);
    tkl_buf_free(&b);
    ck_assert(diag_at("plan.docx", "tables of more than 1048576 cells; refused as too large"));
    ck_assert_uint_eq(R.n_actions, 0);
}
END_TEST

START_TEST(read_refuses_more_paragraphs_than_a_plan_has)
{
    /* one cell of a paragraph more than the limit: the file is a few
     * hundred KiB once compressed, and its names were once a warning each */
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, DOC_OPEN "<w:tbl>" TR(TC(P("Actions")) TC(
                                          P("Lead"))) "<w:tr>" TC(P("Act")) "<w:tc>"),
                     0);
    for (size_t i = 0; i <= TKL_DOCX_MAX_PARAS; i++)
        ck_assert_int_eq(tkl_buf_printf(&b, P("x %zu"), i), 0);
    ck_assert_int_eq(tkl_buf_puts(&b, "</w:tc></w:tr></w:tbl>" DOC_CLOSE), 0);
    ck_assert_int_eq(read_doc(b.data), -EINVAL);
    tkl_buf_free(&b);
    ck_assert(diag_at("plan.docx", "tables of more than 131072 paragraphs; refused as too large"));
    ck_assert_uint_eq(R.n_actions, 0);
}
END_TEST

START_TEST(read_allocation_failures_are_enomem)
{
    const char *xml =
        DOC(TBL(TR(SPAN(2, P("As an Employer"))) TR(TC(P("Owner")) TC(P("Actions")))
                    TR(TC(P("HR")) TC(LI("Train staff") LI("Survey staff")))
                        TR(TC(P("Objective")) "<w:tc/>") TR(SPAN(2, P("Described")))));
    make_zip("word/document.xml", xml);
    struct tkl_diags d = {0};
    struct tkl_rows proto = {.opts = &opts, .teams = &dir, .diags = &d}, r;
    read_every_alloc_failure(tkl_docx_read, "plan.docx", archive, archive_len, &proto, &r);
    ck_assert_uint_eq(r.n_actions, 2);
    tkl_rows_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docx");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, split_equal_counts_align_one_to_one);
    tcase_add_test(tc, split_one_item_applies_to_every_action);
    tcase_add_test(tc, split_ambiguous_columns_are_listed_and_given_whole);
    tcase_add_test(tc, split_unaligned_cells_are_whole_with_list_marks);
    tcase_add_test(tc, split_one_action_takes_whole_cells);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_checked_fixture(tc, setup, rows_teardown);
    tcase_add_test(tc, read_spans_merges_and_objective_rows);
    tcase_add_test(tc, read_a_heading_row_repeated_for_a_section_is_no_action);
    tcase_add_test(tc, read_merged_cells_give_every_row_they_cover_their_value);
    tcase_add_test(tc, read_a_merge_ends_with_its_table);
    tcase_add_test(tc, read_a_merged_id_is_not_filled);
    tcase_add_test(tc, read_runs_fields_hyperlinks_and_skipped_parts);
    tcase_add_test(tc, read_nested_table_is_warned_and_read_as_paragraphs);
    tcase_add_test(tc, read_tables_without_heading_are_reported);
    tcase_add_test(tc, read_rows_above_the_heading_row_are_one_warning_past_a_few);
    tcase_add_test(tc, read_refuses_what_is_not_a_word_plan);
    tcase_add_test(tc, read_text_under_a_vertical_merge_is_warned);
    tcase_add_test(tc, read_refuses_a_document_type_declaration);
    tcase_add_test(tc, read_refuses_a_row_repeating_too_much_text);
    tcase_add_test(tc, read_refuses_a_cell_of_many_items_given_to_many_actions);
    tcase_add_test(tc, read_refuses_more_cells_than_a_plan_has);
    tcase_add_test(tc, read_refuses_more_paragraphs_than_a_plan_has);
    tcase_add_test(tc, read_allocation_failures_are_enomem);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
