/* Tests for daemon/report/report_conf.c: the report { ... } slice — the
 * council's defaults without it, request dates as MM-DD, the answer and
 * follow-up days, the status words and title, and each mistake at its
 * line. */
#include <check.h>

#include "alloc_fail.h"
#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_conf.h"

START_TEST(no_group_the_defaults)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_report_conf r;
    ck_assert_int_eq(tkl_report_conf_init(&r), 0);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "report"), &r), 0);
    ck_assert_uint_eq(r.n_request_updates, 0);
    ck_assert_int_eq(r.respond_within_days, 21);
    ck_assert_int_eq(r.follow_up_after_days, 14);
    ck_assert_str_eq(r.status_words[TKL_REPORT_COMPLETE], "Complete/on schedule to deliver");
    ck_assert_str_eq(r.status_words[TKL_REPORT_ONGOING], "Ongoing/remain included in action plan");
    ck_assert_str_eq(r.status_words[TKL_REPORT_INCOMPLETE], "Incomplete/cannot be carried forward");
    ck_assert_str_eq(r.title, "Equality action plan: progress report");
    ck_assert_uint_eq(r.line, 0);
    tkl_report_conf_free(&r);
    conf_done(&f);
}
END_TEST

START_TEST(everything_is_read)
{
    struct conf_fixture f;
    conf_parse(&f, "report = {\n"
                   "  request_updates = [ \"03-01\", \"09-01\", \"02-29\", \"12-31\" ];\n"
                   "  respond_within_days = 28;\n"
                   "  follow_up_after_days = 20;\n"
                   "  status_words = { complete = \"Done\"; incomplete = \"Dropped\"; };\n"
                   "  title = \"Équality plan: progress 2027\";\n"
                   "};\n");
    struct tkl_report_conf r;
    ck_assert_int_eq(tkl_report_conf_init(&r), 0);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "report"), &r), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_uint_eq(r.line, 1);
    ck_assert_uint_eq(r.n_request_updates, 4);
    ck_assert_int_eq(r.request_updates[0].month, 3);
    ck_assert_int_eq(r.request_updates[0].day, 1);
    ck_assert_int_eq(r.request_updates[1].month, 9);
    ck_assert_int_eq(r.request_updates[2].month, 2);
    ck_assert_int_eq(r.request_updates[2].day, 29);
    ck_assert_int_eq(r.request_updates[3].day, 31);
    ck_assert_int_eq(r.respond_within_days, 28);
    ck_assert_int_eq(r.follow_up_after_days, 20);
    ck_assert_str_eq(r.status_words[TKL_REPORT_COMPLETE], "Done");
    /* a word not given keeps the council's */
    ck_assert_str_eq(r.status_words[TKL_REPORT_ONGOING], "Ongoing/remain included in action plan");
    ck_assert_str_eq(r.status_words[TKL_REPORT_INCOMPLETE], "Dropped");
    ck_assert_str_eq(r.title, "Équality plan: progress 2027");
    tkl_report_conf_free(&r);
    conf_done(&f);
}
END_TEST

START_TEST(a_shorter_answer_time_brings_the_follow_up_forward)
{
    struct conf_fixture f;
    conf_parse(&f, "a = { respond_within_days = 9; };\n"
                   "b = { respond_within_days = 2; };\n"
                   "c = { request_updates = []; };\n");
    struct tkl_report_conf r;
    ck_assert_int_eq(tkl_report_conf_init(&r), 0);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "a"), &r), 0);
    ck_assert_int_eq(r.respond_within_days, 9);
    ck_assert_int_eq(r.follow_up_after_days, 6);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "b"), &r), 0);
    ck_assert_int_eq(r.follow_up_after_days, 1);
    /* an empty list: no requests */
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "c"), &r), 0);
    ck_assert_uint_eq(r.n_request_updates, 0);
    ck_assert_uint_eq(f.diags.n, 0);
    tkl_report_conf_free(&r);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_reported_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "report = {\n"
                   "  request_updates = [ \"03-01\", \"3-1\", \"02-30\", \"13-01\",\n"
                   "                      \"04-31\", \"00-10\", \"03-01\", \"03-01x\" ];\n"
                   "  respond_within_days = 10;\n"
                   "  follow_up_after_days = 10;\n"
                   "  status_words = { complete = \"\"; ongoing = \"Still\\nhere\";\n"
                   "                   dropped = \"x\"; };\n"
                   "  title = \"   \";\n"
                   "  colour = \"blue\";\n"
                   "};\n"
                   "days = { respond_within_days = 91; follow_up_after_days = 0; };\n"
                   "words = { status_words = \"Done\"; };\n"
                   "dates = { request_updates = \"03-01\"; };\n");
    struct tkl_report_conf r;
    ck_assert_int_eq(tkl_report_conf_init(&r), 0);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "report"), &r), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "\"3-1\" is not a day of the year as MM-DD"));
    ck_assert(conf_error_at(&f, 2, "\"02-30\" is not"));
    ck_assert(conf_error_at(&f, 2, "\"13-01\" is not"));
    ck_assert(conf_error_at(&f, 3, "\"04-31\" is not"));
    ck_assert(conf_error_at(&f, 3, "\"00-10\" is not"));
    ck_assert(conf_error_at(&f, 3, "\"03-01\" is given twice"));
    ck_assert(conf_error_at(&f, 3, "\"03-01x\" is not"));
    ck_assert(conf_error_at(&f, 5, "must be less than respond_within_days (10)"));
    ck_assert(conf_error_at(&f, 6, "report.status_words.complete must be text"));
    ck_assert(conf_error_at(&f, 6, "report.status_words.ongoing must be text"));
    ck_assert(conf_error_at(&f, 7, "unknown key \"dropped\""));
    ck_assert(conf_error_at(&f, 8, "report.title must be text"));
    ck_assert(conf_error_at(&f, 9, "unknown key \"colour\""));
    /* what was good is kept, what was not leaves the defaults */
    ck_assert_str_eq(r.title, "Equality action plan: progress report");
    ck_assert_int_eq(r.respond_within_days, 21);
    tkl_report_conf_free(&r);

    ck_assert_int_eq(tkl_report_conf_init(&r), 0);
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "days"), &r), -EINVAL);
    ck_assert(conf_error_at(&f, 11, "respond_within_days must be between 2 and 90"));
    ck_assert(conf_error_at(&f, 11, "follow_up_after_days must be between 1 and 89"));
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "words"), &r), -EINVAL);
    ck_assert(conf_error_at(&f, 12, "report.status_words must be a group"));
    ck_assert_int_eq(tkl_report_conf_read(&f.x, conf_at(&f, "dates"), &r), -EINVAL);
    ck_assert(conf_error_at(&f, 13, "request_updates must be a list of strings"));
    tkl_report_conf_free(&r);
    conf_done(&f);
}
END_TEST

START_TEST(allocation_failures_are_reported_as_such)
{
    struct conf_fixture f;
    int r = -ENOMEM;
    unsigned long failures = 0;
    for (unsigned long n = 1; r == -ENOMEM && n < 200; n++) {
        conf_parse(&f, "report = { request_updates = [ \"03-01\", \"09-01\" ];\n"
                       "  status_words = { ongoing = \"Going\"; }; title = \"T\"; };\n");
        struct tkl_report_conf c = {0};
        alloc_fail_nth(n);
        r = tkl_report_conf_init(&c);
        if (r == 0)
            r = tkl_report_conf_read(&f.x, conf_at(&f, "report"), &c);
        alloc_fail_nth(0);
        ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %lu: %d", n, r);
        failures += r == -ENOMEM;
        if (r == 0) {
            ck_assert_uint_eq(c.n_request_updates, 2);
            ck_assert_str_eq(c.status_words[TKL_REPORT_ONGOING], "Going");
            ck_assert_str_eq(c.title, "T");
        }
        tkl_report_conf_free(&c);
        conf_done(&f);
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_gt(failures, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report_conf");
    TCase *c = tcase_create("core");
    tcase_add_test(c, no_group_the_defaults);
    tcase_add_test(c, everything_is_read);
    tcase_add_test(c, a_shorter_answer_time_brings_the_follow_up_forward);
    tcase_add_test(c, mistakes_are_reported_at_their_lines);
    tcase_add_test(c, allocation_failures_are_reported_as_such);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
