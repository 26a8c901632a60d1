/* Tests for daemon/store/csv.c: CSV text as spreadsheets save it, into records. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/csv.h"
#include "store_fixture.h"

/* The records read: fields joined with "|", and each one's first line. */
static char records[8][128];
static unsigned lines[8];
static size_t n_records;
static int fail_at; /* the callback fails the record with this number (1-based) */

static int record(void *ctx, char *const *fields, size_t n, unsigned line)
{
    (void)ctx;
    if (++n_records == (size_t)fail_at)
        return -ENOMEM;
    ck_assert_uint_le(n_records, 8);
    char *r = records[n_records - 1];
    r[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(r, "|");
        strncat(r, fields[i], 60);
    }
    lines[n_records - 1] = line;
    return 0;
}

static int read_text(const char *text, size_t len)
{
    n_records = 0;
    return tkl_csv_read("plan.csv", text, len, record, NULL, &diags);
}

static int read_csv(const char *text)
{
    return read_text(text, strlen(text));
}

START_TEST(bom_crlf_and_quoted_line_breaks)
{
    ck_assert_int_eq(read_csv("\xef\xbb\xbf"
                              "Actions,Responsibility\r\n"
                              "\"Train staff, \"\"all\"\" of them\r\non two lines\",HR\r\n"
                              "Second,HR\r\n"),
                     0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[0], "Actions|Responsibility");
    ck_assert_str_eq(records[1], "Train staff, \"all\" of them\r\non two lines|HR");
    ck_assert_str_eq(records[2], "Second|HR");
    ck_assert_uint_eq(lines[0], 1);
    ck_assert_uint_eq(lines[1], 2);
    ck_assert_uint_eq(lines[2], 4); /* the quoted break took line 3 */
    ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(blank_records_are_skipped)
{
    ck_assert_int_eq(read_csv("Actions\n\n , \n,,\n\r\nOne\n\n"), 0);
    ck_assert_uint_eq(n_records, 2);
    ck_assert_str_eq(records[1], "One");
    ck_assert_uint_eq(lines[1], 6);
}
END_TEST

START_TEST(the_last_record_needs_no_line_break)
{
    ck_assert_int_eq(read_csv("a,b\nc,\"d\""), 0);
    ck_assert_uint_eq(n_records, 2);
    ck_assert_str_eq(records[1], "c|d");
    ck_assert_uint_eq(lines[1], 2);
}
END_TEST

START_TEST(nul_bytes_are_an_error)
{
    ck_assert_int_eq(read_text("Actions\0\nOne\n", 13), -EINVAL);
    ck_assert_uint_eq(n_records, 0);
    ck_assert(tkl_diags_has_errors(&diags));
    ck_assert(has_diag(0, "contains NUL bytes"));
}
END_TEST

START_TEST(windows_1252_is_converted_and_reported)
{
    /* 0x92 is a right single quote, 0xA3 a pound sign */
    ck_assert_int_eq(read_csv("Actions\nOne\nMaidstone\x92s \xa3"
                              "5 fund\n"),
                     0);
    ck_assert_str_eq(records[2], "Maidstone\xe2\x80\x99s \xc2\xa3"
                                 "5 fund");
    ck_assert(has_diag(3, "not valid UTF-8; the file was read as Windows-1252"));
    ck_assert(!tkl_diags_has_errors(&diags));
}
END_TEST

START_TEST(unclosed_quote_is_an_error_with_its_line)
{
    ck_assert_int_eq(read_csv("Actions,Responsibility\nOne,HR\n\"Two,HR\nThree,HR\n"), -EINVAL);
    ck_assert_uint_eq(n_records, 2); /* the records before it were read */
    ck_assert(has_diag(3, "a quoted field is never closed (a missing \")"));
}
END_TEST

START_TEST(a_callback_error_ends_the_reading)
{
    fail_at = 2;
    ck_assert_int_eq(read_csv("a\nb\nc\n"), -ENOMEM);
    fail_at = 0;
    ck_assert_uint_eq(n_records, 2);
    ck_assert_uint_eq(diags.n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("records");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bom_crlf_and_quoted_line_breaks);
    tcase_add_test(tc, blank_records_are_skipped);
    tcase_add_test(tc, the_last_record_needs_no_line_break);
    tcase_add_test(tc, nul_bytes_are_an_error);
    tcase_add_test(tc, windows_1252_is_converted_and_reported);
    tcase_add_test(tc, unclosed_quote_is_an_error_with_its_line);
    tcase_add_test(tc, a_callback_error_ends_the_reading);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
