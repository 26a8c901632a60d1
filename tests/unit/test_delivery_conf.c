/* Tests for daemon/delivery/delivery_conf.c: the delivery { ... } slice
 * read over its defaults, and its mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>

#include "delivery/delivery_conf.h"

START_TEST(defaults_without_a_group)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_delivery_conf d;
    tkl_delivery_conf_init(&d);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "delivery"), &d), 0);
    ck_assert_int_eq(d.max_age_hours, 48);
    ck_assert_int_eq(d.concurrency, 64);
    ck_assert_int_eq(d.retry_min_seconds, 30);
    ck_assert_ptr_null(d.report_to);
    ck_assert_int_eq(d.report_every_seconds, 300);
    ck_assert_int_eq(d.joint_settle_seconds, 600);
    ck_assert_int_eq(tkl_delivery_conf_limit(&d, "mail"), 64);
    tkl_delivery_conf_free(&d);
    conf_done(&f);
}
END_TEST

START_TEST(a_delivery_group_is_read)
{
    struct conf_fixture f;
    conf_parse(&f, "delivery = { max_age_hours = 12; concurrency = 2; retry_min_seconds = 5;\n"
                   "             report_to = \"admin\"; connections = { mail = 3; };\n"
                   "             report_every_seconds = 60; joint_settle_seconds = 0; };\n");
    struct tkl_delivery_conf d;
    tkl_delivery_conf_init(&d);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "delivery"), &d), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_int_eq(d.max_age_hours, 12);
    ck_assert_int_eq(d.concurrency, 2);
    ck_assert_int_eq(d.retry_min_seconds, 5);
    /* kept as written: whether a team has this id is the caller's check */
    ck_assert_str_eq(d.report_to, "admin");
    ck_assert_int_eq(d.report_every_seconds, 60);
    ck_assert_int_eq(d.joint_settle_seconds, 0); /* told at once */
    /* a notifier's own limit; the others take concurrency */
    ck_assert_int_eq(tkl_delivery_conf_limit(&d, "mail"), 3);
    ck_assert_int_eq(tkl_delivery_conf_limit(&d, "teams"), 2);
    tkl_delivery_conf_free(&d);
    ck_assert_ptr_null(d.report_to);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "delivery = {\n"
                   "  max_age_hours = 0;\n"
                   "  retry_min_seconds = 3601;\n"
                   "  report_to = 1;\n"
                   "  retries = 3;\n"
                   "  report_every_seconds = 0;\n"
                   "};\n"
                   "other = { concurrency = 300; retry_min_seconds = \"5\"; };\n");
    struct tkl_delivery_conf d;
    tkl_delivery_conf_init(&d);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "delivery"), &d), -EINVAL);
    /* two bad numbers in the group: each is named at its line */
    ck_assert(conf_error_at(&f, 2, "max_age_hours must be between 1 and 8760 (got 0)"));
    ck_assert(conf_error_at(&f, 3, "retry_min_seconds must be between 1 and 3600 (got 3601)"));
    ck_assert(conf_error_at(&f, 4, "report_to must be a string in double quotes"));
    ck_assert(conf_error_at(&f, 5, "unknown key \"retries\" in delivery"));
    ck_assert(conf_error_at(&f, 6, "report_every_seconds must be between 1 and 86400 (got 0)"));
    ck_assert_uint_eq(f.diags.n_errors, 5);
    ck_assert_int_eq(d.max_age_hours, 48);
    ck_assert_int_eq(d.retry_min_seconds, 30);
    ck_assert_ptr_null(d.report_to);
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "other"), &d), -EINVAL);
    ck_assert(conf_error_at(&f, 8, "concurrency must be between 1 and 256 (got 300)"));
    ck_assert(conf_error_at(&f, 8, "retry_min_seconds must be a whole number"));
    ck_assert_int_eq(d.concurrency, 64);
    tkl_delivery_conf_free(&d);
    conf_done(&f);
}
END_TEST

START_TEST(a_bad_connections_group_is_named)
{
    struct conf_fixture f;
    conf_parse(&f, "delivery = { connections = { mail = 0; teams = 2; }; };\n"
                   "other = { connections = 3; };\n");
    struct tkl_delivery_conf d;
    tkl_delivery_conf_init(&d);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "delivery"), &d), -EINVAL);
    ck_assert(conf_error_at(&f, 1, "mail must be between 1 and 256 (got 0)"));
    ck_assert_int_eq(tkl_delivery_conf_limit(&d, "teams"), 2); /* what was good is kept */
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_delivery_conf_read(&f.x, conf_at(&f, "other"), &d), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "delivery.connections: expected a group of notifier = count"));
    tkl_delivery_conf_free(&d);
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delivery_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, defaults_without_a_group);
    tcase_add_test(tc, a_delivery_group_is_read);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    tcase_add_test(tc, a_bad_connections_group_is_named);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
