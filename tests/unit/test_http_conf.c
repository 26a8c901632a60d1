/* Tests for daemon/http/http_conf.c: the http { ... } slice — no web face
 * without it, the defaults of an empty group, every key read, and the
 * mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <string.h>

#include "http/http_conf.h"

START_TEST(no_group_no_web_face_and_an_empty_group_the_defaults)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\nhttp = {};\n");
    struct tkl_http_conf h;
    tkl_http_conf_init(&h);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "nothing"), &h), 0);
    ck_assert_uint_eq(h.n_listen, 0);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &h), 0);
    ck_assert_uint_eq(h.n_listen, 1);
    ck_assert_str_eq(h.listen[0], "127.0.0.1:8470");
    ck_assert_str_eq(h.public_url, "http://127.0.0.1:8470/");
    ck_assert_uint_eq(h.public_url_line, 0); /* the default */
    ck_assert_int_eq(h.max_connections, 256);
    ck_assert_int_eq(h.max_per_ip, 64);
    ck_assert_int_eq(h.max_request_bytes, 16384);
    ck_assert_int_eq(h.timeout_seconds, 30);
    ck_assert_ptr_null(h.tls_certificate);
    tkl_http_conf_free(&h);
    conf_done(&f);
}
END_TEST

START_TEST(every_key_is_read)
{
    struct conf_fixture f;
    conf_parse(&f, "http = { listen = [ \"*:8470\", \"[::1]:8471\", \"localhost:80\" ];\n"
                   "  public_url = \"https://tickler.example.gov.uk/plans\";\n"
                   "  max_connections = 200; max_connections_per_ip = 4;\n"
                   "  max_request_bytes = 8192; timeout_seconds = 10;\n"
                   "  tls_certificate = \"tls/cert.pem\"; tls_key = \"credential:tls-key\";\n"
                   "  trusted_proxies = [ \"127.0.0.1\", \"::1\" ]; };\n");
    f.x.dir = "/etc/tickler";
    struct tkl_http_conf h;
    tkl_http_conf_init(&h);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &h), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert_uint_eq(h.n_listen, 3);
    ck_assert_str_eq(h.listen[1], "[::1]:8471");
    ck_assert_uint_eq(h.listen_lines[2], 1);
    ck_assert_str_eq(h.public_url, "https://tickler.example.gov.uk/plans/");
    ck_assert_uint_eq(h.public_url_line, 2);
    ck_assert_int_eq(h.max_connections, 200);
    ck_assert_int_eq(h.max_per_ip, 4);
    ck_assert_int_eq(h.max_request_bytes, 8192);
    ck_assert_int_eq(h.timeout_seconds, 10);
    ck_assert_str_eq(h.tls_certificate, "/etc/tickler/tls/cert.pem");
    ck_assert_str_eq(h.tls_key, "credential:tls-key");
    ck_assert_uint_eq(h.n_trusted_proxies, 2);
    ck_assert_str_eq(h.trusted_proxies[1], "::1");
    struct tkl_http_conf same;
    tkl_http_conf_init(&same);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &same), 0);
    ck_assert(tkl_http_conf_same_server(&h, &same));
    same.n_trusted_proxies = 1;
    ck_assert(!tkl_http_conf_same_server(&h, &same));
    same.n_trusted_proxies = 2;
    same.timeout_seconds = 11;
    ck_assert(!tkl_http_conf_same_server(&h, &same));
    tkl_http_conf_free(&same);
    tkl_http_conf_free(&h);
    conf_done(&f);
}
END_TEST

START_TEST(listen_entries_split_into_host_and_port)
{
    char host[64];
    unsigned port = 0;
    ck_assert_int_eq(tkl_http_listen_split("[2001:db8::1]:443", host, &port), 0);
    ck_assert_str_eq(host, "2001:db8::1");
    ck_assert_uint_eq(port, 443);
    ck_assert_int_eq(tkl_http_listen_split("*:8470", host, &port), 0);
    /* the default public_url of "*" is this machine's */
    struct conf_fixture f;
    conf_parse(&f, "http = { listen = [ \"*:9000\" ]; };\n");
    struct tkl_http_conf h;
    tkl_http_conf_init(&h);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &h), 0);
    ck_assert_str_eq(h.public_url, "http://localhost:9000/");
    tkl_http_conf_free(&h);
    conf_done(&f);
    ck_assert_str_eq(host, "");
    static const char *const bad[] = {
        "8470",          "127.0.0.1", "127.0.0.1:0",  "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:80x", "::1:80",    "[::1:80",      "[127.0.0.1]:80",  "example.org:80",
        ":80",           "[]:80",     "127.0.0.1: 80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(tkl_http_listen_split(bad[i], host, &port) == -EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(a_url_only_this_machine_reaches_is_told)
{
    static const char *const local[] = {
        "http://localhost:8470/", "https://LOCALHOST./", "http://app.localhost/",
        "http://127.0.0.1:8470/", "http://127.8.9.1/x/", "http://0.0.0.0:8470/",
        "http://[::1]:8470/",     "http://[::]:8470/",   "http://[::ffff:127.0.0.1]/",
        "http://user@localhost/", "http://:8470/",       "nothing"};
    static const char *const reached[] = {
        "https://tickler.example.gov.uk/", "http://192.0.2.10:8470/", "http://[2001:db8::1]:80/",
        "https://localhost.example.org/",  "http://10.0.0.1/",        "https://mylocalhost/",
        "http://127.0.0.1.example.org/"};
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
        ck_assert_msg(tkl_http_url_local(local[i]), "%s", local[i]);
    for (size_t i = 0; i < sizeof(reached) / sizeof(reached[0]); i++)
        ck_assert_msg(!tkl_http_url_local(reached[i]), "%s", reached[i]);
}
END_TEST

START_TEST(a_reload_keeps_the_server_in_force)
{
    struct conf_fixture f;
    conf_parse(&f, "bound = { listen = [ \"127.0.0.1:8470\" ]; timeout_seconds = 10;\n"
                   "          trusted_proxies = [ \"::1\" ]; };\n"
                   "moved = { listen = [ \"*:9000\", \"[::1]:9001\" ]; timeout_seconds = 20; };\n"
                   "named = { listen = [ \"*:9000\" ];\n"
                   "          public_url = \"https://tickler.example.gov.uk/\"; };\n");
    struct tkl_http_conf bound, fresh;
    tkl_http_conf_init(&bound);
    tkl_http_conf_init(&fresh);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "bound"), &bound), 0);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "moved"), &fresh), 0);
    ck_assert(!tkl_http_conf_same_server(&bound, &fresh));
    /* fresh takes what is bound, and its default public_url follows */
    ck_assert_int_eq(tkl_http_conf_keep_server(&fresh, &bound), 0);
    ck_assert_uint_eq(fresh.n_listen, 1);
    ck_assert_str_eq(fresh.listen[0], "127.0.0.1:8470");
    ck_assert_uint_eq(fresh.listen_lines[0], 1);
    ck_assert_int_eq(fresh.timeout_seconds, 10);
    ck_assert_uint_eq(fresh.n_trusted_proxies, 1);
    ck_assert_str_eq(fresh.public_url, "http://127.0.0.1:8470/");
    ck_assert_uint_eq(bound.n_listen, 2);
    ck_assert_str_eq(bound.listen[1], "[::1]:9001");
    ck_assert_int_eq(bound.timeout_seconds, 20);
    ck_assert_uint_eq(bound.n_trusted_proxies, 0);
    tkl_http_conf_free(&bound);
    /* the next reload compares with what is bound: the same server */
    tkl_http_conf_init(&bound);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "bound"), &bound), 0);
    ck_assert(tkl_http_conf_same_server(&bound, &fresh));
    tkl_http_conf_free(&bound);
    /* a public_url set in the file is kept */
    tkl_http_conf_init(&bound);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "named"), &bound), 0);
    ck_assert_int_eq(tkl_http_conf_keep_server(&bound, &fresh), 0);
    ck_assert_str_eq(bound.listen[0], "127.0.0.1:8470");
    ck_assert_str_eq(bound.public_url, "https://tickler.example.gov.uk/");
    ck_assert_str_eq(fresh.public_url, "http://127.0.0.1:8470/");
    ck_assert_str_eq(fresh.listen[0], "*:9000");
    tkl_http_conf_free(&bound);
    tkl_http_conf_free(&fresh);
    ck_assert_uint_eq(f.diags.n, 0);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "http = {\n"
                   "  listen = [ \"127.0.0.1:8470\",\n"
                   "             \"example.org:80\" ];\n"
                   "  public_url = \"ftp://x/\";\n"
                   "  timeout_seconds = 0;\n"
                   "  tls_key = \"key.pem\";\n"
                   "  port = 80;\n"
                   "  trusted_proxies = [ \"10.0.0.0/8\" ];\n"
                   "  max_connections = 0;\n"
                   "  max_request_bytes = 100;\n"
                   "};\n");
    struct tkl_http_conf h;
    tkl_http_conf_init(&h);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &h), -EINVAL);
    ck_assert(conf_error_at(&f, 3, "http.listen: \"example.org:80\" is not an address and port"));
    ck_assert(conf_error_at(&f, 4, "http.public_url: \"ftp://x/\" is not an http:// or https://"));
    /* every bad number of the group, each at its line */
    ck_assert(conf_error_at(&f, 5, "timeout_seconds must be between 1 and 3600 (got 0)"));
    ck_assert(conf_error_at(&f, 9, "max_connections must be between 1 and 10000 (got 0)"));
    ck_assert(
        conf_error_at(&f, 10, "max_request_bytes must be between 4096 and 1048576 (got 100)"));
    ck_assert(conf_error_at(&f, 1, "tls_certificate and tls_key go together"));
    ck_assert(conf_error_at(&f, 7, "port"));
    ck_assert(
        conf_error_at(&f, 8, "http.trusted_proxies: \"10.0.0.0/8\" is not a numeric address"));
    tkl_http_conf_free(&h);
    conf_done(&f);
    conf_parse(&f, "http = { public_url = \"https://x/?a=1\"; listen = \"127.0.0.1:1\"; };\n");
    tkl_http_conf_init(&h);
    ck_assert_int_eq(tkl_http_conf_read(&f.x, conf_at(&f, "http"), &h), -EINVAL);
    ck_assert(conf_error_at(&f, 1, "is not an http:// or https:// address without query"));
    ck_assert(conf_error_at(&f, 1, "http.listen must be a list of strings"));
    tkl_http_conf_free(&h);
    conf_done(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http_conf");
    TCase *tc = tcase_create("http_conf");
    tcase_add_test(tc, no_group_no_web_face_and_an_empty_group_the_defaults);
    tcase_add_test(tc, every_key_is_read);
    tcase_add_test(tc, listen_entries_split_into_host_and_port);
    tcase_add_test(tc, a_url_only_this_machine_reaches_is_told);
    tcase_add_test(tc, a_reload_keeps_the_server_in_force);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
