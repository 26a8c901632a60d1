/* Tests for daemon/state/state_conf.c: the state { ... } slice read over
 * its defaults, and its mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <unistd.h>

#include "state/state_conf.h"

START_TEST(defaults_without_a_group)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_state_conf s;
    tkl_state_conf_init(&s);
    ck_assert_int_eq(tkl_state_conf_read(&f.x, conf_at(&f, "state"), &s), 0);
    ck_assert_int_eq(s.backend, TKL_STATE_SQLITE);
    ck_assert_int_eq(s.lease_seconds, 300);
    ck_assert_ptr_null(s.conninfo_file);
    tkl_state_conf_free(&s);
    conf_done(&f);
}
END_TEST

START_TEST(a_postgresql_group_is_read)
{
    struct conf_fixture f;
    conf_parse(&f, "state = { backend = \"postgresql\"; conninfo_file = \"pg.conninfo\";\n"
                   "          node = \"vm-1.council\"; lease_seconds = 60; };\n"
                   "cred = { backend = \"postgresql\"; conninfo_file = \"credential:pg\"; };\n");
    struct tkl_state_conf s;
    tkl_state_conf_init(&s);
    ck_assert_int_eq(tkl_state_conf_read(&f.x, conf_at(&f, "state"), &s), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_int_eq(s.backend, TKL_STATE_POSTGRESQL);
    ck_assert_str_eq(s.conninfo_file, "/etc/tickler/pg.conninfo"); /* beside the file */
    ck_assert_str_eq(s.node, "vm-1.council");
    ck_assert_int_eq(s.lease_seconds, 60);
    tkl_state_conf_free(&s);
    /* a systemd credential is kept as named; the node is the host's name */
    tkl_state_conf_init(&s);
    ck_assert_int_eq(tkl_state_conf_read(&f.x, conf_at(&f, "cred"), &s), 0);
    ck_assert_str_eq(s.conninfo_file, "credential:pg");
    char host[256];
    ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
    ck_assert_str_eq(s.node, host);
    tkl_state_conf_free(&s);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "state = {\n"
                   "  backend = \"mysql\";\n"
                   "  lease_seconds = 5;\n"
                   "  node = \"two words\";\n"
                   "  nodes = 2;\n"
                   "};\n"
                   "other = { backend = \"postgresql\";\n"
                   "  conninfo_file = 3; };\n");
    struct tkl_state_conf s;
    tkl_state_conf_init(&s);
    ck_assert_int_eq(tkl_state_conf_read(&f.x, conf_at(&f, "state"), &s), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "backend must be \"sqlite\" or \"postgresql\" (got \"mysql\")"));
    ck_assert(conf_error_at(&f, 3, "lease_seconds must be between 10 and 86400 (got 5)"));
    ck_assert(conf_error_at(&f, 4, "node must be 1 to 63 characters without spaces"));
    ck_assert(conf_error_at(&f, 5, "unknown key \"nodes\" in state"));
    ck_assert_int_eq(s.lease_seconds, 300);
    tkl_state_conf_free(&s);
    tkl_diags_free(&f.diags);
    tkl_state_conf_init(&s);
    ck_assert_int_eq(tkl_state_conf_read(&f.x, conf_at(&f, "other"), &s), -EINVAL);
    ck_assert(conf_error_at(&f, 8, "conninfo_file must be a string"));
    ck_assert(conf_error_at(&f, 7, "backend \"postgresql\" needs conninfo_file"));
    tkl_state_conf_free(&s);
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, defaults_without_a_group);
    tcase_add_test(tc, a_postgresql_group_is_read);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
