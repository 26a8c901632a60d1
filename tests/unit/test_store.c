/* Tests for daemon/store/store.c: CSV as spreadsheets export it. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "core/day.h"
#include "store_fixture.h"

START_TEST(bom_crlf_quoted_line_breaks)
{
    const char *csv = "\xef\xbb\xbf"
                      "Actions,Responsibility,Timeframe,Status\r\n"
                      "\"Train staff, \"\"all\"\" of them\r\non two lines\",HR,April 2023,\r\n"
                      "Second action,HR,Ongoing,Complete\r\n"
                      "\r\n\r\n";
    struct tkl_store *s = load(csv);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->actions[0].title, "Train staff, \"all\" of them\non two lines");
    ck_assert_uint_eq(s->actions[0].line, 2);
    ck_assert_uint_eq(s->actions[1].line, 4); /* the quoted break took line 3 */
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 4, 30));
    ck_assert_str_eq(s->actions[0].teams[0], "hr");
    ck_assert_int_eq(s->actions[1].status, TKL_STATUS_COMPLETE);
    ck_assert(!tkl_action_active(&s->actions[1]));
    tkl_store_free(s);
}
END_TEST

START_TEST(missing_column_and_too_many_fields)
{
    struct tkl_store *s = load("Actions,Responsibility\nOne,HR\nTwo,HR,surprise\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2); /* the long row is kept */
    ck_assert(has_diag(1, "no column for deadline"));
    ck_assert(has_diag(3, "3 fields but the header has 2"));
    ck_assert_int_eq(s->actions[1].deadline.kind, TKL_DEADLINE_UNDATED);
    tkl_store_free(s);
}
END_TEST

START_TEST(no_action_column_is_an_error)
{
    ck_assert_ptr_null(load("Name,Owner\nx,HR\n"));
    ck_assert(tkl_diags_has_errors(&diags));
}
END_TEST

START_TEST(unclosed_quote_is_an_error_with_its_line)
{
    ck_assert_ptr_null(load("Actions,Responsibility\nOne,HR\n\"Two,HR\nThree,HR\n"));
    ck_assert(has_diag(3, "never closed"));
}
END_TEST

START_TEST(windows_1252_is_converted_and_reported)
{
    /* 0x92 is a right single quote, 0xA3 a pound sign */
    struct tkl_store *s = load("Actions,Responsibility\nMaidstone\x92s \xa3"
                               "5 fund,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[0].title, "Maidstone\xe2\x80\x99s \xc2\xa3"
                                          "5 fund");
    ck_assert(has_diag(2, "not valid UTF-8"));
    tkl_store_free(s);
}
END_TEST

START_TEST(bad_deadline_and_unknown_owner_are_kept)
{
    struct tkl_store *s =
        load("Actions,Responsibility,Timeframe\nOne,Planning,31/02/2023\nTwo,,Soonish\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_int_eq(s->actions[0].deadline.kind, TKL_DEADLINE_UNDATED);
    ck_assert(has_diag(2, "no such date"));
    ck_assert(has_diag(2, "\"Planning\" matches no team"));
    ck_assert_str_eq(s->actions[0].teams[0], "edi"); /* the fallback */
    ck_assert_str_eq(s->actions[0].unmatched[0], "Planning");
    ck_assert(has_diag(3, "\"Soonish\""));
    ck_assert(has_diag(3, "no owner"));
    ck_assert_uint_gt(s->actions[1].n_warnings, 0);
    tkl_store_free(s);
}
END_TEST

START_TEST(merged_commitment_cells_fill_down)
{
    struct tkl_store *s = load("Commitments,Actions,Responsibility\n"
                               "We will train,First,HR\n,Second,HR\nWe will listen,Third,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[1].commitment, "We will train");
    ck_assert_str_eq(s->actions[2].commitment, "We will listen");
    tkl_store_free(s);
}
END_TEST

START_TEST(preamble_rows_and_heading_rows_are_reported)
{
    struct tkl_store *s = load("Equality Action Plan 2022-2025,,\n"
                               "Commitments,Actions,Responsibility\n"
                               "As an Employer,,\n"
                               ",Train,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 1);
    ck_assert(has_diag(1, "before the header row"));
    ck_assert(has_diag(3, "read as a heading"));
    tkl_store_free(s);
}
END_TEST

START_TEST(derived_ids_are_stable_and_distinct)
{
    struct tkl_store *a = load("Actions,Responsibility,Timeframe\nOne,HR,April 2023\nTwo,HR,\n"
                               "Two,HR,\n");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_ne(a->actions[1].id, a->actions[2].id); /* duplicates renamed */
    /* editing one row's deadline keeps every id; only that row's hash moves */
    struct tkl_store *b = load("Actions,Responsibility,Timeframe\nOne,HR,May 2023\nTwo,HR,\n"
                               "Two,HR,\n");
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(a->actions[i].id, b->actions[i].id);
    ck_assert_uint_ne(a->actions[0].hash, b->actions[0].hash);
    ck_assert_uint_eq(a->actions[1].hash, b->actions[1].hash);
    ck_assert_ptr_eq(tkl_store_find(b, a->actions[2].id), &b->actions[2]);
    tkl_store_free(a);
    tkl_store_free(b);
}
END_TEST

START_TEST(columns_by_alias_and_config)
{
    opts.columns[TKL_FIELD_TITLE] = strdup("What we will do");
    struct tkl_store *s = load("RESPONSIBLE SERVICE,What we will do,Timescale,Progress - 2022\n"
                               "HR,Act,Q1 2023/24,Going well\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[0].title, "Act");
    ck_assert_str_eq(s->actions[0].progress, "Going well");
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 6, 30));
    tkl_store_free(s);
}
END_TEST

START_TEST(status_wording_from_the_plans)
{
    bool known;
    ck_assert_int_eq(tkl_status_parse(&opts, "Complete/on schedule to deliver", &known),
                     TKL_STATUS_COMPLETE);
    ck_assert_int_eq(tkl_status_parse(&opts, "Incomplete/cannot be carried forward", &known),
                     TKL_STATUS_CLOSED);
    ck_assert_int_eq(tkl_status_parse(&opts, "Ongoing/remain included in action plan", &known),
                     TKL_STATUS_ACTIVE);
    ck_assert(known);
    ck_assert_int_eq(tkl_status_parse(&opts, "NEW", &known), TKL_STATUS_ACTIVE);
    ck_assert_int_eq(tkl_status_parse(&opts, "Parked by cabinet", &known), TKL_STATUS_ACTIVE);
    ck_assert(!known);
    opts.status_rules = calloc(1, sizeof(*opts.status_rules));
    opts.status_rules[0] =
        (struct tkl_status_rule){strdup("parked by  CABINET"), TKL_STATUS_CLOSED};
    opts.n_status_rules = 1;
    ck_assert_int_eq(tkl_status_parse(&opts, "Parked by cabinet", &known), TKL_STATUS_CLOSED);
    ck_assert(known);
}
END_TEST

START_TEST(sample_plan_loads_every_row)
{
    opts.paths = calloc(1, sizeof(char *));
    opts.paths[0] = strdup(TICKLER_SOURCE_DIR "/etc/sample-plan.csv");
    opts.n_paths = 1;
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_eq(s->n, 39);
    const struct tkl_action *a = tkl_store_find(s, "EAP22-15");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->deadline.note, "ongoing release");
    tkl_store_free(s);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    /* the sample plan loaded failing the 1st, 2nd, ... allocation: each
     * run returns -ENOMEM (nothing kept, nothing leaked: LeakSanitizer
     * checks at exit) until one fails nothing */
    FILE *f = fopen(TICKLER_SOURCE_DIR "/etc/sample-plan.csv", "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    unsigned long n;
    for (n = 1;; n++) {
        struct tkl_store *st = NULL;
        struct tkl_diags d = {0};
        alloc_fail_nth(n);
        int r = tkl_store_load_buffer(&opts, &dir, "plan.csv", buf, len, &st, &d);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        tkl_diags_free(&d);
        if (r == 0) {
            ck_assert_ptr_nonnull(st);
            ck_assert_uint_eq(st->n, 39);
            tkl_store_free(st);
            ck_assert_uint_lt(used, n); /* it did not need the failed one */
            break;
        }
        ck_assert_int_eq(r, -ENOMEM);
        ck_assert_ptr_null(st);
    }
    ck_assert_uint_gt(n, 100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bom_crlf_quoted_line_breaks);
    tcase_add_test(tc, missing_column_and_too_many_fields);
    tcase_add_test(tc, no_action_column_is_an_error);
    tcase_add_test(tc, unclosed_quote_is_an_error_with_its_line);
    tcase_add_test(tc, windows_1252_is_converted_and_reported);
    tcase_add_test(tc, bad_deadline_and_unknown_owner_are_kept);
    tcase_add_test(tc, merged_commitment_cells_fill_down);
    tcase_add_test(tc, preamble_rows_and_heading_rows_are_reported);
    tcase_add_test(tc, derived_ids_are_stable_and_distinct);
    tcase_add_test(tc, columns_by_alias_and_config);
    tcase_add_test(tc, status_wording_from_the_plans);
    tcase_add_test(tc, sample_plan_loads_every_row);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
