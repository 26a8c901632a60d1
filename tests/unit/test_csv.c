/* Tests for daemon/store/csv.c: CSV text as spreadsheets save it, into records. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/csv.h"
#include "store_fixture.h"

/* The records read: fields joined with "|", and each one's first line. */
static char records[8][128];
static unsigned lines[8];
static size_t n_records;
static int fail_at;   /* the callback fails the record with this number (1-based) */
static bool may_hold; /* tkl_csv_read's */

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
    return tkl_csv_read("plan.csv", text, len, may_hold, record, NULL, &diags);
}

static int read_csv(const char *text)
{
    return read_text(text, strlen(text));
}

/* read_text's records of text read from a file, 64 KiB at a time. */
static int read_fd(const char *text, size_t len)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fflush(f), 0);
    rewind(f);
    n_records = 0;
    int r = tkl_csv_read_fd("plan.csv", fileno(f), may_hold, record, NULL, &diags);
    fclose(f);
    return r;
}

/* A plan whose "é" (two bytes) starts on the last byte of the first 64 KiB
 * read, with a quoted line break after it; bad replaces the "é". */
static char *long_plan(const char *bad)
{
    static const char head[] = "\xef\xbb\xbf"
                               "Actions,Responsibility\n";
    size_t filler = 65535 - (sizeof(head) - 1) - 1;
    char *text = malloc(70000);
    ck_assert_ptr_nonnull(text);
    strcpy(text, head);
    memset(text + sizeof(head) - 1, 'x', filler);
    strcpy(text + sizeof(head) - 1 + filler, "\n");
    ck_assert_uint_eq(strlen(text), 65535);
    strcat(text, bad ? bad : "\xc3\xa9");
    strcat(text, " train,\"HR\non two\"\nLast,HR\n");
    return text;
}

START_TEST(a_file_is_read_in_blocks_with_its_lines)
{
    char *text = long_plan(NULL);
    ck_assert_int_eq(read_fd(text, strlen(text)), 0);
    ck_assert_uint_eq(n_records, 4);
    ck_assert_str_eq(records[0], "Actions|Responsibility");
    ck_assert_str_eq(records[2], "\xc3\xa9 train|HR\non two");
    ck_assert_str_eq(records[3], "Last|HR");
    ck_assert_uint_eq(lines[0], 1);
    ck_assert_uint_eq(lines[1], 2);
    ck_assert_uint_eq(lines[2], 3);
    ck_assert_uint_eq(lines[3], 5);
    free(text);
}
END_TEST

/* A file with no byte order mark whose text is mostly not UTF-8 (its one
 * byte that is not, 0xE9, past the first 64 KiB) is left for a reading of
 * the whole file as Windows-1252. */
START_TEST(a_file_not_utf8_is_left_to_be_read_whole)
{
    char *text = long_plan("\xe9");
    ck_assert_int_eq(read_fd(text + 3, strlen(text + 3)), -EILSEQ);
    ck_assert_int_eq(read_fd("Actions\nA\0B\n", 12), -EILSEQ);
    ck_assert_int_eq(read_fd("Actions\nTrain \xc3", 15), -EILSEQ); /* cut at the end */
    ck_assert_uint_eq(diags.n, 0); /* the whole reading reports it */
    free(text);
}
END_TEST

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

/* The old Macintosh's CSV ends its lines with "\r" alone: each is a line
 * of its own, as a quoted one inside a field is. A "\r\n" that a 64 KiB
 * block cuts between its two bytes is still one line. */
START_TEST(lines_ended_by_a_carriage_return_alone)
{
    ck_assert_int_eq(read_csv("Actions,Responsibility\r\"Train\ron two\",HR\rSecond,HR\r"), 0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[1], "Train\ron two|HR");
    ck_assert_str_eq(records[2], "Second|HR");
    ck_assert_uint_eq(lines[0], 1);
    ck_assert_uint_eq(lines[1], 2);
    ck_assert_uint_eq(lines[2], 4);
    /* "\r" the last byte of the first block, "\n" the first of the next */
    static const char head[] = "Actions,Responsibility\n";
    char *text = malloc(70000);
    ck_assert_ptr_nonnull(text);
    strcpy(text, head);
    memset(text + sizeof(head) - 1, 'x', 65535 - (sizeof(head) - 1));
    strcpy(text + 65535, "\r\nSecond,HR\r\n");
    ck_assert_int_eq(read_fd(text, strlen(text)), 0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[2], "Second|HR");
    ck_assert_uint_eq(lines[1], 2);
    ck_assert_uint_eq(lines[2], 3);
    free(text);
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

/* A file that ends inside a row, short of fields (read while it was being
 * saved): the row is read, with a warning at its line; a whole last row
 * without a line break, or a short row followed by one, is no warning. */
START_TEST(a_file_cut_inside_a_row_is_warned_of)
{
    static const char cut[] = "Ref,Actions,Responsibility,Timeframe\nA1,One,HR,May 2027\nA2,Tw";
    ck_assert_int_eq(read_csv(cut), 0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[2], "A2|Tw");
    ck_assert(has_diag(3, "the file ends inside this row (fewer fields than the 4 of the row"));
    ck_assert(!tkl_diags_has_errors(&diags));
    ck_assert(diags.unsettled); /* ticklerd reads it again before it uses it */
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    ck_assert_int_eq(read_fd(cut, strlen(cut)), 0);
    ck_assert(has_diag(3, "the file ends inside this row"));
    ck_assert(diags.unsettled);
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    ck_assert_int_eq(read_csv("Ref,Actions,Responsibility\nA1,One,HR\nA2,Two,HR"), 0);
    ck_assert_int_eq(read_csv("Ref,Actions,Responsibility\nA1,One\nA2,Two,HR\n"), 0);
    /* a stray cell on an earlier row is not the measure of the last */
    ck_assert_int_eq(read_csv("Ref,Actions,Responsibility\nA1,One,HR,x\nA2,Two,HR\nA3,Three,HR"),
                     0);
    ck_assert_uint_eq(diags.n, 0);
    ck_assert(!diags.unsettled);
}
END_TEST

/* A file that ends inside a quoted field (a cell of several lines, read
 * while it was being saved), read by a caller that reads it again before
 * it uses it (may_hold): the row is read as far as it goes, with a
 * warning at its line, even with all its fields; read by another, it is a
 * quote never closed. A quote closed at the very end is a whole row. */
START_TEST(a_file_cut_inside_a_quoted_field_is_warned_of_when_held)
{
    static const char cut[] = "Ref,Actions,Responsibility,Timeframe\nA1,One,HR,May 2027\n"
                              "A2,\"Say \"\"two\"\",\nthen";
    may_hold = true;
    ck_assert_int_eq(read_csv(cut), 0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[2], "A2|Say \"two\",\nthen");
    ck_assert_uint_eq(lines[2], 3);
    ck_assert(has_diag(3, "the file ends inside a quoted field of this row (no closing \" after "
                          "it): was it read while being saved?"));
    ck_assert(!has_diag(3, "the file ends inside this row"));
    ck_assert(!tkl_diags_has_errors(&diags));
    ck_assert(diags.unsettled);
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    ck_assert_int_eq(read_fd(cut, strlen(cut)), 0);
    ck_assert_uint_eq(n_records, 3);
    ck_assert_str_eq(records[2], "A2|Say \"two\",\nthen");
    ck_assert(has_diag(3, "the file ends inside a quoted field of this row"));
    ck_assert(diags.unsettled);
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    /* its last field cut: no fewer fields than the row before */
    ck_assert_int_eq(read_csv("Ref,Actions,Responsibility,Timeframe\nA1,One,HR,May 2027\n"
                              "A2,Two,HR,\"May 20"),
                     0);
    ck_assert_str_eq(records[2], "A2|Two|HR|May 20");
    ck_assert(has_diag(3, "the file ends inside a quoted field of this row"));
    ck_assert(diags.unsettled);
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    ck_assert_int_eq(read_csv("Ref,Actions\nA1,\"One\nand two\""), 0);
    ck_assert_str_eq(records[1], "A1|One\nand two");
    ck_assert_uint_eq(diags.n, 0);
    ck_assert(!diags.unsettled);
    may_hold = false;
    ck_assert_int_eq(read_csv(cut), -EINVAL);
    ck_assert_uint_eq(n_records, 2);
    ck_assert(has_diag(3, "a quoted field is never closed (a missing \")"));
    ck_assert(!diags.unsettled);
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

/* A plan saved as UTF-8, byte order mark and all, with one stray
 * Windows-1252 byte: every UTF-8 character is kept as it is, the stray
 * byte alone is read as Windows-1252, and the warning names its line and
 * says what it was read as; read whole or from a file, the same. */
START_TEST(a_stray_byte_in_utf8_alone_is_read_as_windows_1252)
{
    static const char plan[] = "\xef\xbb\xbfRef,Actions,Responsibility,Timeframe,Status\n"
                               "A1,caf\xc3\xa9 \xe2\x80\x93 ok,Housing,March 2027,\n"
                               "A2,Let\x92s,Housing,April 2027,\n";
    for (int fd = 0; fd < 2; fd++) {
        ck_assert_int_eq(fd ? read_fd(plan, strlen(plan)) : read_csv(plan), 0);
        ck_assert_uint_eq(n_records, 3);
        ck_assert_str_eq(records[1], "A1|caf\xc3\xa9 \xe2\x80\x93 ok|Housing|March 2027|");
        ck_assert_str_eq(records[2], "A2|Let\xe2\x80\x99s|Housing|April 2027|");
        ck_assert_uint_eq(lines[2], 3);
        ck_assert_uint_eq(diags.n, 1);
        ck_assert(has_diag(3, "not valid UTF-8: byte 0x92 \"\xe2\x80\x99\" read as "
                              "Windows-1252; the rest of the file is UTF-8 and read as such"));
        ck_assert(!tkl_diags_has_errors(&diags));
        tkl_diags_free(&diags);
        diags = (struct tkl_diags){0};
    }
    /* no byte order mark, but more UTF-8 characters than stray bytes; a
     * line's bytes listed in one warning, the undefined ones as U+FFFD */
    static const char mostly[] = "Actions,Responsibility\n"
                                 "Caf\xc3\xa9 \xe2\x80\x93 \xc3\xbc \xc3\xa4,HR\n" /* 4 to 3 */
                                 "\x93Quoted\x94 \x81,HR\n";
    ck_assert_int_eq(read_csv(mostly), 0);
    ck_assert_str_eq(records[1], "Caf\xc3\xa9 \xe2\x80\x93 \xc3\xbc \xc3\xa4|HR");
    ck_assert_str_eq(records[2], "\xe2\x80\x9cQuoted\xe2\x80\x9d \xef\xbf\xbd|HR");
    ck_assert(has_diag(3, "not valid UTF-8: bytes 0x93 \"\xe2\x80\x9c\", 0x94 "
                          "\"\xe2\x80\x9d\", 0x81 \"\xef\xbf\xbd\" (undefined) read as "
                          "Windows-1252"));
    ck_assert_uint_eq(diags.n, 1);
}
END_TEST

/* Stray bytes on many lines: each of the first five lines warned of, the
 * rest in one warning at the first of them. */
START_TEST(stray_bytes_on_many_lines_are_warned_of_a_few_then_counted)
{
    ck_assert_int_eq(read_csv("\xef\xbb\xbf"
                              "Actions\nA\x92\nB\x92\nC\x92\nD\x92\nE\x92\nF\x92\nG\x92\n"),
                     0);
    ck_assert_uint_eq(n_records, 8);
    ck_assert_str_eq(records[7], "G\xe2\x80\x99");
    for (unsigned line = 2; line <= 6; line++)
        ck_assert(has_diag(line, "not valid UTF-8: byte 0x92"));
    ck_assert(has_diag(7, "not valid UTF-8: this line and 1 more, to line 8, hold bytes read as "
                          "Windows-1252, as the 5 lines named before do"));
    ck_assert_uint_eq(diags.n, 6);
}
END_TEST

/* A stray byte past the first 64 KiB of a file read from its descriptor,
 * after blocks handed on as UTF-8: read as it is read in the first block
 * or in the text read whole, with a byte order mark or without one. */
START_TEST(a_stray_byte_past_the_first_block_is_read_as_in_the_first)
{
    char *text = long_plan("\xe9"); /* starting on the first block's last byte */
    ck_assert_int_eq(read_fd(text, strlen(text)), 0);
    ck_assert_uint_eq(n_records, 4);
    ck_assert_str_eq(records[2], "\xc3\xa9 train|HR\non two");
    ck_assert_str_eq(records[3], "Last|HR");
    ck_assert_uint_eq(lines[2], 3);
    ck_assert_uint_eq(lines[3], 5);
    ck_assert_uint_eq(diags.n, 1);
    ck_assert(has_diag(3, "not valid UTF-8: byte 0xE9 \"\xc3\xa9\" read as Windows-1252"));
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    ck_assert_int_eq(read_csv(text), 0);
    ck_assert_str_eq(records[2], "\xc3\xa9 train|HR\non two");
    ck_assert(has_diag(3, "not valid UTF-8: byte 0xE9"));
    ck_assert_uint_eq(diags.n, 1);
    tkl_diags_free(&diags);
    diags = (struct tkl_diags){0};
    free(text);
    /* no byte order mark: the UTF-8 of the first block makes the file
     * mostly UTF-8, which the stray byte in the second cannot undo */
    text = malloc(70100);
    ck_assert_ptr_nonnull(text);
    strcpy(text, "Actions,Responsibility\nCaf\xc3\xa9 \xe2\x80\x93 open,HR\nLong ");
    size_t at = strlen(text);
    memset(text + at, 'x', 70000);
    strcpy(text + at + 70000, ",HR\nLet\x92s go,HR\n");
    ck_assert_int_eq(read_fd(text, strlen(text)), 0);
    ck_assert_uint_eq(n_records, 4);
    ck_assert_str_eq(records[1], "Caf\xc3\xa9 \xe2\x80\x93 open|HR");
    ck_assert_str_eq(records[3], "Let\xe2\x80\x99s go|HR");
    ck_assert_uint_eq(lines[3], 4);
    ck_assert_uint_eq(diags.n, 1);
    ck_assert(has_diag(4, "not valid UTF-8: byte 0x92"));
    free(text);
}
END_TEST

/* A stray byte on the second line of a quoted cell of several lines: the
 * warning names the line the byte is on, the record keeps its first line
 * and the line breaks inside the cell. */
START_TEST(a_stray_byte_inside_a_quoted_cell_of_several_lines)
{
    static const char plan[] = "\xef\xbb\xbfRef,Actions,Responsibility\r\n"
                               "A1,\"Caf\xc3\xa9 first\r\nLet\x92s second\",HR\r\n"
                               "A2,Next,HR\r\n";
    for (int fd = 0; fd < 2; fd++) {
        ck_assert_int_eq(fd ? read_fd(plan, strlen(plan)) : read_csv(plan), 0);
        ck_assert_uint_eq(n_records, 3);
        ck_assert_str_eq(records[1], "A1|Caf\xc3\xa9 first\r\nLet\xe2\x80\x99s second|HR");
        ck_assert_str_eq(records[2], "A2|Next|HR");
        ck_assert_uint_eq(lines[1], 2);
        ck_assert_uint_eq(lines[2], 4);
        ck_assert_uint_eq(diags.n, 1);
        ck_assert(has_diag(3, "not valid UTF-8: byte 0x92"));
        tkl_diags_free(&diags);
        diags = (struct tkl_diags){0};
    }
}
END_TEST

/* A Windows-1252 export, mostly not UTF-8, is read whole as Windows-1252,
 * even where two of its bytes side by side form a UTF-8 character
 * ("\xc9\x94", U+0254): from a file, it is left for that reading. */
START_TEST(a_windows_1252_file_is_read_whole_as_windows_1252)
{
    static const char plan[] =
        "Actions,Responsibility\n\x93JOS\xc9\x94 fund,HR\nMaidstone\x92s,HR\n";
    ck_assert_int_eq(read_fd(plan, strlen(plan)), -EILSEQ);
    ck_assert_uint_eq(diags.n, 0);
    ck_assert_int_eq(read_csv(plan), 0);
    ck_assert_str_eq(records[1], "\xe2\x80\x9cJOS\xc3\x89\xe2\x80\x9d fund|HR");
    ck_assert_str_eq(records[2], "Maidstone\xe2\x80\x99s|HR");
    ck_assert_uint_eq(diags.n, 1);
    ck_assert(has_diag(2, "not valid UTF-8; the file was read as Windows-1252"));
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
    tcase_add_test(tc, lines_ended_by_a_carriage_return_alone);
    tcase_add_test(tc, blank_records_are_skipped);
    tcase_add_test(tc, the_last_record_needs_no_line_break);
    tcase_add_test(tc, a_file_cut_inside_a_row_is_warned_of);
    tcase_add_test(tc, a_file_cut_inside_a_quoted_field_is_warned_of_when_held);
    tcase_add_test(tc, a_file_is_read_in_blocks_with_its_lines);
    tcase_add_test(tc, a_file_not_utf8_is_left_to_be_read_whole);
    tcase_add_test(tc, nul_bytes_are_an_error);
    tcase_add_test(tc, windows_1252_is_converted_and_reported);
    tcase_add_test(tc, a_stray_byte_in_utf8_alone_is_read_as_windows_1252);
    tcase_add_test(tc, stray_bytes_on_many_lines_are_warned_of_a_few_then_counted);
    tcase_add_test(tc, a_stray_byte_past_the_first_block_is_read_as_in_the_first);
    tcase_add_test(tc, a_stray_byte_inside_a_quoted_cell_of_several_lines);
    tcase_add_test(tc, a_windows_1252_file_is_read_whole_as_windows_1252);
    tcase_add_test(tc, unclosed_quote_is_an_error_with_its_line);
    tcase_add_test(tc, a_callback_error_ends_the_reading);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
