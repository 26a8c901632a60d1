/* Tests for daemon/store/store_conf.c: the store { ... } slice of the
 * configuration read into store options, and its mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <string.h>

#include "store/store_conf.h"

START_TEST(a_store_group_is_read)
{
    struct conf_fixture f;
    conf_parse(&f,
               "store = {\n"
               "  files = [ \"plan.csv\", \"/srv/plans\" ];\n"
               "  columns = { id = \"Ref\"; deadline = \"Due by\"; };\n"
               "  status = { complete = [ \"Done\", \"Achieved\" ]; closed = [ \"Dropped\" ]; };\n"
               "  debounce_ms = 250;\n"
               "};\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_uint_eq(o.n_paths, 2);
    ck_assert_str_eq(o.paths[0], "/etc/tickler/plan.csv");
    ck_assert_str_eq(o.paths[1], "/srv/plans");
    ck_assert_str_eq(o.columns[TKL_FIELD_ID], "Ref");
    ck_assert_str_eq(o.columns[TKL_FIELD_DEADLINE], "Due by");
    ck_assert_ptr_null(o.columns[TKL_FIELD_TITLE]);
    ck_assert_uint_eq(o.n_status_rules, 3);
    ck_assert_str_eq(o.status_rules[0].text, "Done");
    ck_assert_int_eq(o.status_rules[1].status, TKL_STATUS_COMPLETE);
    ck_assert_str_eq(o.status_rules[2].text, "Dropped");
    ck_assert_int_eq(o.status_rules[2].status, TKL_STATUS_CLOSED);
    bool known = false;
    ck_assert_int_eq(tkl_status_parse(&o, "achieved", &known), TKL_STATUS_COMPLETE);
    ck_assert(known);
    ck_assert_int_eq(debounce, 250);
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

START_TEST(debounce_keeps_its_default)
{
    struct conf_fixture f;
    conf_parse(&f, "store = { files = [ \"a.csv\" ]; };\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), 0);
    ck_assert_int_eq(debounce, 500);
    ck_assert_uint_eq(o.n_status_rules, 0);
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

START_TEST(a_url_and_how_it_is_fetched)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {\n"
                   "  files = [ \"https://council.sharepoint.com/:x:/s/p/EaBc?download=1\", "
                   "\"plan.csv\" ];\n"
                   "  fetch_interval_seconds = 60;\n"
                   "  fetch_token_file = \"credential:plan-token\";\n"
                   "  fetch_ca_file = \"ca.pem\";\n"
                   "  fetch_max_kib = 512;\n"
                   "};\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_str_eq(o.paths[0], "https://council.sharepoint.com/:x:/s/p/EaBc?download=1");
    ck_assert_str_eq(o.paths[1], "/etc/tickler/plan.csv");
    ck_assert_int_eq(o.fetch.interval_s, 60);
    ck_assert_str_eq(o.fetch.token_file, "credential:plan-token");
    ck_assert_str_eq(o.fetch.ca_file, "/etc/tickler/ca.pem");
    ck_assert_int_eq(o.fetch.max_bytes, 512 * 1024);
    ck_assert_str_eq(o.fetch.config_dir, "/etc/tickler");
    tkl_store_opts_free(&o);
    conf_done(&f);

    /* the defaults */
    conf_parse(&f, "store = { files = [ \"https://example.org/plan.csv\" ]; };\n");
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), 0);
    ck_assert_int_eq(o.fetch.interval_s, TKL_FETCH_INTERVAL_DEFAULT);
    ck_assert_int_eq(o.fetch.max_bytes, TKL_FETCH_MAX_BYTES_DEFAULT);
    ck_assert_ptr_null(o.fetch.token_file);
    ck_assert_ptr_null(o.fetch.ca_file);
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

START_TEST(plain_http_is_refused_without_its_secrets)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {\n"
                   "  files = [ \"plan.csv\",\n"
                   "            \"http://me:pw@intranet/plan.csv?sig=s3cr3t\" ];\n"
                   "  fetch_interval_seconds = 0;\n"
                   "  fetch_max_kib = 0;\n"
                   "};\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), -EINVAL);
    ck_assert(conf_error_at(&f, 3, "store.files: http://intranet/plan.csv: http:// is refused"));
    /* both bad numbers, each at its line */
    ck_assert(conf_error_at(&f, 4, "fetch_interval_seconds"));
    ck_assert(conf_error_at(&f, 5, "fetch_max_kib must be between 1 and 1048576 (got 0)"));
    for (size_t i = 0; i < f.diags.n; i++) {
        ck_assert_ptr_null(strstr(f.diags.items[i].message, "s3cr3t"));
        ck_assert_ptr_null(strstr(f.diags.items[i].message, "pw"));
    }
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

START_TEST(no_store_is_an_error)
{
    struct conf_fixture f;
    conf_parse(&f, "schedule = {};\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), -EINVAL);
    ck_assert(conf_error_at(&f, 0, "no store { files = [ ... ]; } section"));
    ck_assert_str_eq(f.diags.items[0].field, "store");
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {\n"
                   "  files = [ ];\n"
                   "  columns = { owner = \"Lead\"; };\n"
                   "  status = { done = [ \"x\" ]; };\n"
                   "  debounce_ms = 90000;\n"
                   "  colour = \"red\";\n"
                   "};\n"
                   "other = { status = { complete = \"Done\"; }; };\n"
                   "none = { debounce_ms = 1; };\n");
    struct tkl_store_opts o = {0};
    int debounce = 500;
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "store"), &o, &debounce), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "store.files is empty"));
    ck_assert(conf_error_at(&f, 3, "unknown key \"owner\" in store.columns"));
    ck_assert(conf_error_at(&f, 4, "unknown key \"done\" in store.status"));
    ck_assert(conf_error_at(&f, 5, "debounce_ms must be between 0 and 60000 (got 90000)"));
    ck_assert(conf_error_at(&f, 6, "unknown key \"colour\" in store"));
    ck_assert_uint_eq(f.diags.n_errors, 5);
    ck_assert_int_eq(debounce, 500);
    tkl_store_opts_free(&o);
    tkl_diags_free(&f.diags);
    /* a status list that is not a list; no files at all */
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "other"), &o, &debounce), -EINVAL);
    ck_assert(conf_error_at(&f, 8, "store.files is missing"));
    ck_assert(conf_error_at(&f, 8, "a status list must be a list of strings"));
    tkl_store_opts_free(&o);
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_store_conf_read(&f.x, conf_at(&f, "none"), &o, &debounce), -EINVAL);
    ck_assert(conf_error_at(&f, 9, "store.files is missing"));
    ck_assert_int_eq(debounce, 1);
    tkl_store_opts_free(&o);
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, a_store_group_is_read);
    tcase_add_test(tc, debounce_keeps_its_default);
    tcase_add_test(tc, a_url_and_how_it_is_fetched);
    tcase_add_test(tc, plain_http_is_refused_without_its_secrets);
    tcase_add_test(tc, no_store_is_an_error);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
