/* Tests for daemon/core/log.c: what reaches stderr (read back through a
 * pipe, capture.h), with the sd-daemon "<N>" prefix journald reads the
 * level from, one line per record, filtered by the configured level. */
#include <check.h>

#include "capture.h"
#include "check_run.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

START_TEST(levels_are_parsed_by_name_or_number)
{
    ck_assert_int_eq(tkl_log_parse_level("err"), TKL_LOG_ERR);
    ck_assert_int_eq(tkl_log_parse_level("error"), TKL_LOG_ERR);
    ck_assert_int_eq(tkl_log_parse_level("WARNING"), TKL_LOG_WARNING);
    ck_assert_int_eq(tkl_log_parse_level("warn"), TKL_LOG_WARNING);
    ck_assert_int_eq(tkl_log_parse_level("Notice"), TKL_LOG_NOTICE);
    ck_assert_int_eq(tkl_log_parse_level("info"), TKL_LOG_INFO);
    ck_assert_int_eq(tkl_log_parse_level("debug"), TKL_LOG_DEBUG);
    ck_assert_int_eq(tkl_log_parse_level("3"), 3);
    ck_assert_int_eq(tkl_log_parse_level("7"), 7);
    const char *bad[] = {"8", "2", "37", "", "verbose", "info ", "errors"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(tkl_log_parse_level(bad[i]), -EINVAL);
    ck_assert_int_eq(tkl_log_parse_level(NULL), -EINVAL);
}
END_TEST

START_TEST(each_record_is_one_prefixed_line)
{
    ck_assert_int_eq(tkl_log_get_level(), TKL_LOG_INFO); /* the default */
    tkl_capture_begin();
    log_error("cannot open %s: %s", "/var/lib/tickler/tickler.db", "Permission denied");
    log_warning("store reloaded with %d warnings", 2);
    log_notice("configuration reloaded");
    log_info("delivered notice id=%d channel=%s recipient=%s", 42, "email", "hr@example.org");
    char *text = tkl_capture_end();
    ck_assert_str_eq(text, "<3>cannot open /var/lib/tickler/tickler.db: Permission denied\n"
                           "<4>store reloaded with 2 warnings\n"
                           "<5>configuration reloaded\n"
                           "<6>delivered notice id=42 channel=email recipient=hr@example.org\n");
    free(text);
}
END_TEST

START_TEST(records_above_the_level_are_dropped)
{
    tkl_log_set_level(TKL_LOG_WARNING);
    ck_assert_int_eq(tkl_log_get_level(), TKL_LOG_WARNING);
    tkl_capture_begin();
    log_debug("debug %d", 1);
    log_info("info %d", 1);
    log_notice("notice %d", 1);
    log_warning("warning %d", 1);
    log_error("error %d", 1);
    tkl_log_set_level(TKL_LOG_DEBUG);
    log_debug("debug %d", 2);
    tkl_log_set_level(TKL_LOG_ERR);
    log_warning("warning %d", 2);
    log_error("error %d", 2);
    tkl_log(TKL_LOG_ERR - 1, "crit %d", 1); /* more severe than err: kept */
    char *text = tkl_capture_end();
    ck_assert_str_eq(text, "<4>warning 1\n<3>error 1\n<7>debug 2\n<3>error 2\n<2>crit 1\n");
    free(text);
}
END_TEST

START_TEST(line_breaks_inside_a_record_become_spaces)
{
    /* a reply from a peer, a file name: whatever is logged stays one line,
     * so a reader cannot forge a record of another level */
    tkl_capture_begin();
    log_warning("smtp said: %s", "451 try later\r\n<3>fake record\nend");
    log_info("%s", "tail key=value\n");
    char *text = tkl_capture_end();
    ck_assert_str_eq(text, "<4>smtp said: 451 try later  <3>fake record end\n"
                           "<6>tail key=value \n");
    free(text);
}
END_TEST

START_TEST(a_long_record_is_cut_but_still_one_line)
{
    char *big = malloc(10000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    tkl_capture_begin();
    log_info("%s key=value", big);
    log_info("after");
    char *text = tkl_capture_end();
    char *nl = strchr(text, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_int_eq(strncmp(text, "<6>xxx", 6), 0);
    ck_assert_uint_eq((size_t)(nl - text), 3 + 4095); /* the prefix and the kept text */
    ck_assert_str_eq(nl + 1, "<6>after\n");
    free(text);
    free(big);
}
END_TEST

START_TEST(a_record_shows_as_text_in_the_journal)
{
    /* journalctl shows a record holding a control character or a byte
     * that is not UTF-8 as "[N blob data]": a server's reply in Latin-1,
     * a plugin's line quoting a plan's cell, a file name. Controls become
     * spaces (a terminal's ESC and CSI among them), such bytes \xNN, and
     * the UTF-8 around them is kept. */
    tkl_capture_begin();
    log_warning("%s: smtp said: %s", "email",
                "550 \x1b[31mno\x1b[0m \xc2\x9b"
                "2J caf\xe9 \xc3 \xf0\x9f\x93\x85 r\xc3\xa9sum\xc3\xa9\x7f");
    log_info("plan %s", "/srv/plans/\xe9quality.csv");
    char *text = tkl_capture_end();
    ck_assert_str_eq(text, "<4>email: smtp said: 550  [31mno [0m   2J caf\\xe9 \\xc3 "
                           "\xf0\x9f\x93\x85 r\xc3\xa9sum\xc3\xa9 \n"
                           "<6>plan /srv/plans/\\xe9quality.csv\n");
    free(text);
}
END_TEST

START_TEST(a_record_cut_inside_a_character_keeps_none_of_it)
{
    char big[5000];
    memset(big, 'x', 4093);
    strcpy(big + 4093, "\xe2\x82\xac and more"); /* EURO SIGN across the cut */
    tkl_capture_begin();
    log_info("%s", big);
    char *text = tkl_capture_end();
    ck_assert_uint_eq(strlen(text), 3 + 4093 + 1);
    ck_assert_int_eq(strncmp(text, "<6>xxx", 6), 0);
    ck_assert_int_eq(text[3 + 4093], '\n');
    free(text);

    /* a line of escapes fills the record and stops before an escape
     * would be cut */
    memset(big, '\xff', 4095);
    big[4095] = '\0';
    tkl_capture_begin();
    log_info("%s", big);
    text = tkl_capture_end();
    ck_assert_uint_eq(strlen(text), 3 + 4092 + 1); /* 1,023 escapes of 4 */
    ck_assert_int_eq(strncmp(text, "<6>\\xff\\xff", 11), 0);
    ck_assert_int_eq(text[3 + 4092], '\n');
    free(text);
}
END_TEST

static void via_va_list(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void via_va_list(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tkl_logv(level, fmt, ap);
    va_end(ap);
}

START_TEST(logv_takes_a_va_list)
{
    tkl_capture_begin();
    via_va_list(TKL_LOG_NOTICE, "%s=%d %s=%s", "kept", 3, "channel", "teams");
    via_va_list(TKL_LOG_DEBUG, "%s", "dropped at info");
    char *text = tkl_capture_end();
    ck_assert_str_eq(text, "<5>kept=3 channel=teams\n");
    free(text);
}
END_TEST

/* The level is process-wide: each test leaves the default behind, also
 * when Check does not fork (CK_FORK=no). */
static void default_level(void)
{
    tkl_log_set_level(TKL_LOG_INFO);
}

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, NULL, default_level);
    tcase_add_test(tc, levels_are_parsed_by_name_or_number);
    tcase_add_test(tc, each_record_is_one_prefixed_line);
    tcase_add_test(tc, records_above_the_level_are_dropped);
    tcase_add_test(tc, line_breaks_inside_a_record_become_spaces);
    tcase_add_test(tc, a_long_record_is_cut_but_still_one_line);
    tcase_add_test(tc, a_record_shows_as_text_in_the_journal);
    tcase_add_test(tc, a_record_cut_inside_a_character_keeps_none_of_it);
    tcase_add_test(tc, logv_takes_a_va_list);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
