/* Tests for daemon/store/heading.c: which column holds which field. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

static int field(const char *heading)
{
    return tkl_field_for_heading(&opts, heading);
}

START_TEST(headings_councils_use)
{
    ck_assert_int_eq(field("Actions"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Action Title"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Agreed actions"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Ref"), TKL_FIELD_ID);
    ck_assert_int_eq(field("Action ID"), TKL_FIELD_ID);
    ck_assert_int_eq(field("Commitments"), TKL_FIELD_COMMITMENT);
    ck_assert_int_eq(field("Theme"), TKL_FIELD_OBJECTIVE);
    ck_assert_int_eq(field("Responsibility"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Responsible Service"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Lead officer"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Timeframe"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("Timescales"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("By when"), TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("RAG Status"), TKL_FIELD_STATUS);
    ck_assert_int_eq(field("Latest update"), TKL_FIELD_PROGRESS);
}
END_TEST

/* Each title heading that diagnostics list is one ("A, B or C"; a
 * heading's key reads the spaces around it as none). */
START_TEST(the_title_headings_diagnostics_list_are_title_headings)
{
    char list[] = TKL_TITLE_HEADINGS;
    char * or = strstr(list, " or ");
    ck_assert_ptr_nonnull(or);
    memcpy(or, ",   ", 4);
    size_t n = 0;
    char *save = NULL;
    for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save), n++)
        ck_assert_msg(tkl_field_for_heading(NULL, h) == TKL_FIELD_TITLE, "\"%s\"", h);
    ck_assert_uint_eq(n, 4);
}
END_TEST

START_TEST(headings_by_meaning)
{
    static const struct {
        const char *heading;
        int field;
    } cases[] = {
        {"Responsible officer", TKL_FIELD_OWNERS},
        {"Lead Officer(s)", TKL_FIELD_OWNERS},
        {"Lead", TKL_FIELD_OWNERS},
        {"Owner(s)", TKL_FIELD_OWNERS},
        {"Lead service", TKL_FIELD_OWNERS},
        {"To be delivered by", TKL_FIELD_OWNERS},
        {"By when?", TKL_FIELD_DEADLINE},
        {"Target date", TKL_FIELD_DEADLINE},
        {"Completion date:", TKL_FIELD_DEADLINE},
        {"Timescale for delivery", TKL_FIELD_DEADLINE},
        {"Timescale(s)", TKL_FIELD_DEADLINE},
        {"Aim", TKL_FIELD_OBJECTIVE},
        {"Objective", TKL_FIELD_OBJECTIVE},
        {"Aim / Objective", TKL_FIELD_OBJECTIVE},
        {"Equality objective", TKL_FIELD_OBJECTIVE},
        {"What we will do", TKL_FIELD_TITLE},
        {"Key actions", TKL_FIELD_TITLE},
        {"Measure of success", TKL_FIELD_MEASURE},
        {"Measures of Success:", TKL_FIELD_MEASURE},
        {"Success criteria", TKL_FIELD_MEASURE},
        {"Expected outcome", TKL_FIELD_MEASURE},
        {"KPI", TKL_FIELD_MEASURE},
        {"RAG", TKL_FIELD_STATUS},
        {"Comments", TKL_FIELD_PROGRESS},
        {"Ref.", TKL_FIELD_ID},
        {"No.", TKL_FIELD_ID},
        /* too vague to guess: a priority may be High, a target a number */
        {"Priority", -1},
        {"Target", -1},
        {"Service", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(field(cases[i].heading) == cases[i].field, "\"%s\" gave %d, not %d",
                      cases[i].heading, field(cases[i].heading), cases[i].field);
}
END_TEST

START_TEST(a_configured_measure_heading)
{
    opts.columns[TKL_FIELD_MEASURE] = strdup("How will we know?");
    ck_assert_int_eq(field("How will we know"), TKL_FIELD_MEASURE);
    ck_assert_int_eq(field("Measure of success"), -1);
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_MEASURE), "measure");
}
END_TEST

START_TEST(column_maps_copy_and_print)
{
    char *headings[] = {"Ref", "Actions\n(what)", "", "Budget"};
    int fields[] = {TKL_FIELD_ID, TKL_FIELD_TITLE, -1, -1};
    struct tkl_column_map m;
    ck_assert_int_eq(tkl_column_map_make("p.csv", 3, headings, fields, 4, &m), 0);
    headings[0] = "changed"; /* the map holds copies */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    tkl_column_map_print(&m, f);
    ck_assert_int_eq(fclose(f), 0);
    /* line breaks folded; an empty heading is no column worth naming */
    ck_assert_str_eq(text, "p.csv:3: headings: id \u2190 \"Ref\" (column 1), title \u2190 "
                           "\"Actions (what)\" (column 2); not read: \"Budget\" (column 4)\n");
    free(text);
    tkl_column_map_free(&m);
    tkl_column_map_free(&m); /* a freed map is zeroed */
    /* a Word table's row has no line: none is printed */
    ck_assert_int_eq(tkl_column_map_make("p.docx: table 2, row 1", 0, headings, fields, 2, &m), 0);
    f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    tkl_column_map_print(&m, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_str_eq(text, "p.docx: table 2, row 1: headings: id \u2190 \"changed\" (column 1), "
                           "title \u2190 \"Actions (what)\" (column 2)\n");
    free(text);
    tkl_column_map_free(&m);
}
END_TEST

START_TEST(case_punctuation_and_spacing_do_not_matter)
{
    ck_assert_int_eq(field("RESPONSIBLE SERVICE"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("  action-title "), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Responsible\nservice"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Due date:"), TKL_FIELD_DEADLINE);
    /* no-break spaces, as in a heading pasted from Word */
    ck_assert_int_eq(field("Action\xc2\xa0Title"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Responsible\xe2\x80\xafService\xc2\xa0"), TKL_FIELD_OWNERS);
    ck_assert_int_eq(field("Due\xe2\x80\x87"
                           "date"),
                     TKL_FIELD_DEADLINE);
    ck_assert_int_eq(field("Target  Date (dd/mm/yyyy)"), -1); /* more words: not the heading */
}
END_TEST

START_TEST(only_progress_may_run_on)
{
    ck_assert_int_eq(field("Progress - 2022"), TKL_FIELD_PROGRESS);
    ck_assert_int_eq(field("Progress update Q3"), TKL_FIELD_PROGRESS);
    ck_assert_int_eq(field("Progressive"), -1);
    ck_assert_int_eq(field("Status 2022"), -1);
}
END_TEST

START_TEST(headings_tickler_does_not_use)
{
    ck_assert_int_eq(field("Notes"), -1);
    ck_assert_int_eq(field("Budget"), -1);
    ck_assert_int_eq(field(""), -1);
    char long_heading[600];
    memset(long_heading, 'a', sizeof(long_heading) - 1);
    long_heading[sizeof(long_heading) - 1] = '\0';
    ck_assert_int_eq(field(long_heading), -1);
}
END_TEST

START_TEST(a_configured_heading_replaces_the_built_in_ones)
{
    opts.columns[TKL_FIELD_TITLE] = strdup("What we will do");
    ck_assert_int_eq(field("What we will do"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("WHAT WE WILL DO?"), TKL_FIELD_TITLE);
    ck_assert_int_eq(field("Actions"), -1);
    ck_assert_int_eq(field("Responsibility"), TKL_FIELD_OWNERS); /* other fields as before */
    ck_assert_int_eq(tkl_field_for_heading(NULL, "Actions"), TKL_FIELD_TITLE);
}
END_TEST

START_TEST(field_names_as_the_configuration_spells_them)
{
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_OWNERS), "owners");
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_DEADLINE), "deadline");
    ck_assert_str_eq(tkl_field_name(TKL_FIELD_COUNT), "?");
}
END_TEST

START_TEST(heading_keys)
{
    char key[16];
    ck_assert(tkl_heading_key("  Due -- DATE: ", key, sizeof(key)));
    ck_assert_str_eq(key, "due date");
    ck_assert(tkl_heading_key("Caf\xc3\xa9 2", key, sizeof(key)));
    ck_assert_str_eq(key, "caf\xc3\xa9 2");
    ck_assert(tkl_heading_key("\xc2\xa0"
                              "Due\xc2\xa0\xc2\xa0"
                              "date\xe2\x80\xaf",
                              key, sizeof(key)));
    ck_assert_str_eq(key, "due date");
    ck_assert(!tkl_heading_key("a heading that does not fit", key, sizeof(key)));
    ck_assert_uint_lt(strlen(key), sizeof(key));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("heading");
    TCase *tc = tcase_create("columns");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, headings_councils_use);
    tcase_add_test(tc, the_title_headings_diagnostics_list_are_title_headings);
    tcase_add_test(tc, case_punctuation_and_spacing_do_not_matter);
    tcase_add_test(tc, only_progress_may_run_on);
    tcase_add_test(tc, headings_tickler_does_not_use);
    tcase_add_test(tc, a_configured_heading_replaces_the_built_in_ones);
    tcase_add_test(tc, field_names_as_the_configuration_spells_them);
    tcase_add_test(tc, heading_keys);
    tcase_add_test(tc, headings_by_meaning);
    tcase_add_test(tc, a_configured_measure_heading);
    tcase_add_test(tc, column_maps_copy_and_print);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
