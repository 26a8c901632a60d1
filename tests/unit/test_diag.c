/* Tests for daemon/core/diag.c: what `tickler check` prints for each
 * problem (file:line: severity: [field] message; file!D12 for a sheet's
 * cell), the error count, a list
 * that grows to thousands of problems, moving lists, and an allocation
 * failure that is recorded as "out of memory" instead of lost. */
#include <check.h>
#include <stdbool.h>

#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "core/diag.h"

static const char *formatted(const struct tkl_diag *g)
{
    static char buf[2048];
    tkl_diag_format(g, buf, sizeof(buf));
    return buf;
}

/* What tkl_diags_print writes, as one string the caller frees. */
static char *printed_as(const struct tkl_diags *d, bool journal)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    if (journal)
        tkl_diags_print_journal(d, f);
    else
        tkl_diags_print(d, f);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

static char *printed(const struct tkl_diags *d)
{
    return printed_as(d, false);
}

START_TEST(file_line_field_and_severity_are_formatted)
{
    struct tkl_diags d = {0};
    tkl_diag_add(&d, TKL_SEV_ERROR, "plan.csv", 12, "Deadline", "cannot read \"%s\"", "Spring-ish");
    tkl_diag_add(&d, TKL_SEV_WARNING, "plan.csv", 0, NULL, "no rows");
    tkl_diag_add(&d, TKL_SEV_WARNING, NULL, 7, "timezone", "%d zones", 2);
    tkl_diag_add(&d, TKL_SEV_ERROR, NULL, 0, NULL, "out of %s", "luck");
    ck_assert_uint_eq(d.n, 4);
    ck_assert_str_eq(formatted(&d.items[0]),
                     "plan.csv:12: error: [Deadline] cannot read \"Spring-ish\"");
    /* no line: the file alone; no file: no place at all (a line without a
     * file means nothing to a reader) */
    ck_assert_str_eq(formatted(&d.items[1]), "plan.csv: warning: no rows");
    ck_assert_str_eq(formatted(&d.items[2]), "warning: [timezone] 2 zones");
    ck_assert_str_eq(formatted(&d.items[3]), "error: out of luck");
    ck_assert_ptr_null(d.items[3].file);
    ck_assert_ptr_null(d.items[3].field);
    ck_assert_uint_eq(d.items[0].line, 12);
    ck_assert_str_eq(d.items[0].field, "Deadline");
    char *text = printed(&d);
    ck_assert_str_eq(text, "plan.csv:12: error: [Deadline] cannot read \"Spring-ish\"\n"
                           "plan.csv: warning: no rows\n"
                           "warning: [timezone] 2 zones\n"
                           "error: out of luck\n");
    free(text);
    /* for the journal: each line at its priority */
    text = printed_as(&d, true);
    ck_assert_str_eq(text, "<3>plan.csv:12: error: [Deadline] cannot read \"Spring-ish\"\n"
                           "<4>plan.csv: warning: no rows\n"
                           "<4>warning: [timezone] 2 zones\n"
                           "<3>error: out of luck\n");
    free(text);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(a_cell_of_a_sheet_is_named_by_its_column_and_row)
{
    struct tkl_diags d = {0}, moved = {0};
    tkl_diag_add_at(&d, TKL_SEV_WARNING, "plan.xlsx:Actions 2025", 12, 4, "deadline", "soon");
    tkl_diag_add_at(&d, TKL_SEV_ERROR, "plan.ods:Plan", 3, 16384, NULL, "far");
    tkl_diag_add_at(&d, TKL_SEV_ERROR, "plan.ods:Plan", 7, 0, NULL, "a row");
    ck_assert_str_eq(formatted(&d.items[0]),
                     "plan.xlsx:Actions 2025!D12: warning: [deadline] soon");
    ck_assert_str_eq(formatted(&d.items[1]), "plan.ods:Plan!XFD3: error: far");
    ck_assert_str_eq(formatted(&d.items[2]), "plan.ods:Plan:7: error: a row");
    tkl_diags_move(&moved, &d);
    ck_assert_uint_eq(moved.items[1].column, 16384);
    ck_assert_str_eq(formatted(&moved.items[0]),
                     "plan.xlsx:Actions 2025!D12: warning: [deadline] soon");
    tkl_diags_free(&moved);
}
END_TEST

START_TEST(column_letters)
{
    char b[8];
    ck_assert_str_eq(tkl_column_letters(1, b), "A");
    ck_assert_str_eq(tkl_column_letters(26, b), "Z");
    ck_assert_str_eq(tkl_column_letters(27, b), "AA");
    ck_assert_str_eq(tkl_column_letters(702, b), "ZZ");
    ck_assert_str_eq(tkl_column_letters(703, b), "AAA");
    ck_assert_str_eq(tkl_column_letters(16384, b), "XFD");
    ck_assert_str_eq(tkl_column_letters(0, b), "");
    ck_assert_str_eq(tkl_column_letters(4294967295u, b), "MWLQKWU"); /* 7 letters fit */
}
END_TEST

START_TEST(the_caller_strings_are_copied)
{
    struct tkl_diags d = {0};
    char file[] = "a.csv", field[] = "Status", arg[] = "Done-ish";
    tkl_diag_add(&d, TKL_SEV_WARNING, file, 3, field, "unknown status \"%s\"", arg);
    memset(file, 'x', sizeof(file) - 1);
    memset(field, 'x', sizeof(field) - 1);
    memset(arg, 'x', sizeof(arg) - 1);
    ck_assert_str_eq(formatted(&d.items[0]), "a.csv:3: warning: [Status] unknown status "
                                             "\"Done-ish\"");
    tkl_diags_free(&d);
}
END_TEST

START_TEST(errors_are_counted_warnings_are_not)
{
    struct tkl_diags d = {0};
    ck_assert(!tkl_diags_has_errors(&d));
    tkl_diag_add(&d, TKL_SEV_WARNING, "a.csv", 1, NULL, "w1");
    tkl_diag_add(&d, TKL_SEV_WARNING, "a.csv", 2, NULL, "w2");
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.n_errors, 0);
    ck_assert(!tkl_diags_has_errors(&d));
    tkl_diag_add(&d, TKL_SEV_ERROR, "a.csv", 3, NULL, "e1");
    ck_assert_uint_eq(d.n, 3);
    ck_assert_uint_eq(d.n_errors, 1);
    ck_assert(tkl_diags_has_errors(&d));
    tkl_diags_free(&d);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(d.n_errors, 0);
    ck_assert_ptr_null(d.items);
    ck_assert(!tkl_diags_has_errors(&d));
    tkl_diags_free(&d); /* twice is harmless: the list is empty */
}
END_TEST

START_TEST(thousands_of_problems_are_all_kept)
{
    struct tkl_diags d = {0};
    for (unsigned i = 1; i <= 5000; i++)
        tkl_diag_add(&d, i % 3 ? TKL_SEV_WARNING : TKL_SEV_ERROR, "big.csv", i, NULL, "row %u", i);
    ck_assert(!d.oom);
    ck_assert_uint_eq(d.n, 5000);
    ck_assert_uint_eq(d.n_errors, 5000 / 3);
    ck_assert_uint_ge(d.cap, d.n);
    for (unsigned i = 1; i <= 5000; i++) {
        char want[64];
        snprintf(want, sizeof(want), "big.csv:%u: %s: row %u", i, i % 3 ? "warning" : "error", i);
        ck_assert_str_eq(formatted(&d.items[i - 1]), want);
    }
    tkl_diags_free(&d);
}
END_TEST

START_TEST(long_text_is_cut_not_overrun)
{
    struct tkl_diags d = {0};
    char *huge = malloc(5000);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'm', 4999);
    huge[4999] = '\0';
    tkl_diag_add(&d, TKL_SEV_ERROR, huge, 1, huge, "%s", huge);
    ck_assert_uint_eq(d.n, 1);
    /* the message is kept up to its limit, the file and field whole */
    ck_assert_uint_eq(strlen(d.items[0].message), 1023);
    ck_assert_str_eq(d.items[0].file, huge);
    ck_assert_str_eq(d.items[0].field, huge);
    char small[32];
    tkl_diag_format(&d.items[0], small, sizeof(small));
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    char *text = printed(&d);
    ck_assert_ptr_nonnull(strchr(text, '\n'));
    free(text);
    free(huge);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(move_appends_and_empties_the_source)
{
    struct tkl_diags dst = {0}, src = {0};
    tkl_diag_add(&dst, TKL_SEV_WARNING, "conf", 1, NULL, "first");
    tkl_diag_add(&src, TKL_SEV_ERROR, "plan.csv", 9, "Owner", "second");
    tkl_diag_add(&src, TKL_SEV_WARNING, NULL, 0, NULL, "third");
    tkl_diags_move(&dst, &src);
    ck_assert_uint_eq(src.n, 0);
    ck_assert_ptr_null(src.items);
    ck_assert_uint_eq(dst.n, 3);
    ck_assert_uint_eq(dst.n_errors, 1);
    ck_assert_str_eq(formatted(&dst.items[1]), "plan.csv:9: error: [Owner] second");
    ck_assert_str_eq(formatted(&dst.items[2]), "warning: third");
    /* a message holding a % is moved as text, not as a format */
    tkl_diag_add(&src, TKL_SEV_WARNING, NULL, 0, NULL, "100%% done %s", "%s%n");
    src.oom = true;
    tkl_diags_move(&dst, &src);
    ck_assert_str_eq(dst.items[3].message, "100% done %s%n");
    ck_assert(dst.oom); /* a problem the source lost is still an error */
    ck_assert(tkl_diags_has_errors(&dst));
    ck_assert(!dst.unsettled);
    src.unsettled = true; /* a plan that looked mid-save still does */
    tkl_diags_move(&dst, &src);
    ck_assert(dst.unsettled);
    ck_assert(!src.unsettled);
    tkl_diags_free(&dst);
}
END_TEST

START_TEST(reword_and_remove_keep_the_others_in_order)
{
    struct tkl_diags d = {0};
    tkl_diag_add(&d, TKL_SEV_WARNING, "plan.csv", 1, NULL, "first");
    tkl_diag_add(&d, TKL_SEV_ERROR, "plan.csv", 2, "title", "second");
    tkl_diag_add(&d, TKL_SEV_WARNING, "plan.csv", 3, NULL, "third");
    tkl_diag_reword(&d, 0, "rows %u to %u", 1u, 3u);
    ck_assert_str_eq(formatted(&d.items[0]), "plan.csv:1: warning: rows 1 to 3");
    tkl_diags_remove(&d, 1);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.n_errors, 0);
    ck_assert_str_eq(formatted(&d.items[1]), "plan.csv:3: warning: third");
    tkl_diags_remove(&d, 1);
    ck_assert_uint_eq(d.n, 1);
    /* a reword that cannot be kept leaves the message and says so */
    alloc_fail_nth(1);
    tkl_diag_reword(&d, 0, "lost");
    alloc_fail_nth(0);
    ck_assert(d.oom);
    ck_assert_str_eq(d.items[0].message, "rows 1 to 3");
    tkl_diags_free(&d);
}
END_TEST

START_TEST(an_allocation_failure_is_recorded_as_out_of_memory)
{
    /* each of the allocations of an add failing in turn: the list keeps
     * what it had, nothing leaks (LeakSanitizer), and oom says a problem
     * was lost, which counts as an error */
    unsigned long i;
    for (i = 1;; i++) {
        struct tkl_diags d = {0};
        tkl_diag_add(&d, TKL_SEV_WARNING, "a.csv", 1, NULL, "kept");
        alloc_fail_nth(i);
        tkl_diag_add(&d, TKL_SEV_WARNING, "b.csv", 2, "Status", "lost?");
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        if (!d.oom) {
            ck_assert_uint_lt(used, i);
            ck_assert_uint_eq(d.n, 2);
            tkl_diags_free(&d);
            break;
        }
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(formatted(&d.items[0]), "a.csv:1: warning: kept");
        ck_assert(tkl_diags_has_errors(&d));
        char *text = printed(&d);
        ck_assert_str_eq(text, "a.csv:1: warning: kept\n"
                               "error: out of memory while recording problems\n");
        free(text);
        tkl_diags_free(&d);
    }
    ck_assert_uint_ge(i, 4); /* file, field and message copies were each failed */
    /* growing the array fails: the 17th item */
    struct tkl_diags d = {0};
    for (unsigned k = 0; k < 16; k++)
        tkl_diag_add(&d, TKL_SEV_WARNING, NULL, 0, NULL, "%u", k);
    alloc_fail_nth(1);
    tkl_diag_add(&d, TKL_SEV_ERROR, NULL, 0, NULL, "seventeenth");
    alloc_fail_nth(0);
    ck_assert(d.oom);
    ck_assert_uint_eq(d.n, 16);
    ck_assert_uint_eq(d.n_errors, 0);
    tkl_diags_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diag");
    TCase *tc = tcase_create("diag");
    tcase_add_test(tc, file_line_field_and_severity_are_formatted);
    tcase_add_test(tc, a_cell_of_a_sheet_is_named_by_its_column_and_row);
    tcase_add_test(tc, column_letters);
    tcase_add_test(tc, the_caller_strings_are_copied);
    tcase_add_test(tc, errors_are_counted_warnings_are_not);
    tcase_add_test(tc, thousands_of_problems_are_all_kept);
    tcase_add_test(tc, long_text_is_cut_not_overrun);
    tcase_add_test(tc, move_appends_and_empties_the_source);
    tcase_add_test(tc, reword_and_remove_keep_the_others_in_order);
    tcase_add_test(tc, an_allocation_failure_is_recorded_as_out_of_memory);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
