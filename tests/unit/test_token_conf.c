/* Tests for daemon/token/token_conf.c: the links { ... } slice — no links
 * without it, keys and expiry read, mistakes at their lines, and the key
 * ring read from the files named, short keys refused at their entry. */
#include <check.h>

#include "alloc_fail.h"
#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token/token_conf.h"

START_TEST(no_group_no_links)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_links_conf l;
    tkl_links_conf_init(&l);
    ck_assert_int_eq(tkl_links_conf_read(&f.x, conf_at(&f, "links"), &l), 0);
    ck_assert(!l.enabled);
    ck_assert_uint_eq(l.n_keys, 0);
    ck_assert_int_eq(l.expiry_days, 45);
    tkl_links_conf_free(&l);
    conf_done(&f);
}
END_TEST

START_TEST(keys_and_expiry_are_read)
{
    struct conf_fixture f;
    conf_parse(&f, "links = {\n"
                   "  keys = ( { id = \"2026a\"; file = \"credential:tickler_link-key\"; },\n"
                   "           { id = \"2025b\"; file = \"keys/old-link-key\"; } );\n"
                   "  expiry_days = 30;\n"
                   "};\n");
    struct tkl_links_conf l;
    tkl_links_conf_init(&l);
    ck_assert_int_eq(tkl_links_conf_read(&f.x, conf_at(&f, "links"), &l), 0);
    ck_assert_uint_eq(f.diags.n, 0);
    ck_assert(l.enabled);
    ck_assert_uint_eq(l.n_keys, 2);
    ck_assert_str_eq(l.keys[0].id, "2026a");
    ck_assert_str_eq(l.keys[0].file, "credential:tickler_link-key");
    ck_assert_str_eq(l.keys[1].file, "/etc/tickler/keys/old-link-key");
    ck_assert_uint_eq(l.keys[1].line, 3);
    ck_assert_int_eq(l.expiry_days, 30);
    tkl_links_conf_free(&l);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_reported_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "links = {\n"
                   "  keys = ( { id = \"Key One\"; file = \"a\"; },\n"
                   "           { id = \"k2\"; },\n"
                   "           { id = \"k3\"; file = \"b\"; colour = 1; },\n"
                   "           { id = \"k4\"; file = \"c\"; },\n"
                   "           { id = \"k4\"; file = \"d\"; } );\n"
                   "  expiry_days = 400;\n"
                   "  secret = \"x\";\n"
                   "};\n"
                   "empty = { keys = (); };\n");
    struct tkl_links_conf l;
    tkl_links_conf_init(&l);
    ck_assert_int_eq(tkl_links_conf_read(&f.x, conf_at(&f, "links"), &l), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "not 1 to 16 of a-z"));
    ck_assert(conf_error_at(&f, 3, "needs file"));
    ck_assert(conf_error_at(&f, 4, "colour"));
    ck_assert(conf_error_at(&f, 6, "given twice"));
    ck_assert(conf_error_at(&f, 7, "expiry_days"));
    ck_assert(conf_error_at(&f, 8, "secret"));
    tkl_links_conf_free(&l);
    tkl_links_conf_init(&l);
    ck_assert_int_eq(tkl_links_conf_read(&f.x, conf_at(&f, "empty"), &l), -EINVAL);
    ck_assert(conf_error_at(&f, 10, "one key or more"));
    tkl_links_conf_free(&l);
    conf_done(&f);
}
END_TEST

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* A configuration naming keys in tmpdir. */
static void parse_keys(struct conf_fixture *f, struct tkl_links_conf *l)
{
    conf_parse(f, "links = {\n"
                  "  keys = ( { id = \"new\"; file = \"credential:link-key\"; },\n"
                  "           { id = \"old\"; file = \"old-key\"; } );\n"
                  "};\n");
    f->x.dir = tmpdir;
    tkl_links_conf_init(l);
    ck_assert_int_eq(tkl_links_conf_read(&f->x, conf_at(f, "links"), l), 0);
}

START_TEST(the_ring_is_read_from_the_keys_named)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token_conf.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    write_file("link-key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    write_file("old-key", "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n");
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
    struct conf_fixture f;
    struct tkl_links_conf l;
    parse_keys(&f, &l);
    struct tkl_token_ring ring = {0};
    ck_assert_int_eq(tkl_links_conf_ring(&l, "test.conf", &f.diags, &ring), 0);
    ck_assert_uint_eq(ring.n, 2);
    ck_assert_str_eq(ring.keys[0].id, "new");
    ck_assert_uint_eq(ring.keys[0].len, 32);
    ck_assert_uint_eq(ring.keys[1].secret[0], 0xff);
    tkl_token_ring_free(&ring);
    /* a short key is refused at its entry, saying how to make one */
    write_file("old-key", "ffeeddccbbaa9988\n");
    ring.n = 7; /* untouched on failure */
    ck_assert_int_eq(tkl_links_conf_ring(&l, "test.conf", &f.diags, &ring), -EINVAL);
    ck_assert_uint_eq(ring.n, 7);
    ck_assert(conf_error_at(&f, 3, "32 to 64 bytes"));
    ck_assert(conf_error_at(&f, 3, "openssl rand -hex 32"));
    /* nothing of a key reaches the problems */
    for (size_t i = 0; i < f.diags.n; i++)
        ck_assert_ptr_null(strstr(f.diags.items[i].message, "ffeedd"));
    unsetenv("CREDENTIALS_DIRECTORY");
    ck_assert_int_eq(tkl_links_conf_ring(&l, "test.conf", &f.diags, &(struct tkl_token_ring){0}),
                     -EINVAL);
    ck_assert(conf_error_at(&f, 2, "no such file or credential"));
    tkl_links_conf_free(&l);
    conf_done(&f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(allocation_failures_are_reported_as_such)
{
    struct conf_fixture f;
    int r = -ENOMEM;
    unsigned long failures = 0;
    for (unsigned long n = 1; r == -ENOMEM && n < 200; n++) {
        conf_parse(&f, "links = { keys = ( { id = \"a\"; file = \"k/a\"; },\n"
                       "  { id = \"b\"; file = \"credential:b\"; } ); };\n");
        struct tkl_links_conf l;
        tkl_links_conf_init(&l);
        alloc_fail_nth(n);
        r = tkl_links_conf_read(&f.x, conf_at(&f, "links"), &l);
        alloc_fail_nth(0);
        ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %lu: %d", n, r);
        failures += r == -ENOMEM;
        tkl_links_conf_free(&l);
        conf_done(&f);
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_gt(failures, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("token_conf");
    TCase *c = tcase_create("core");
    tcase_add_test(c, no_group_no_links);
    tcase_add_test(c, keys_and_expiry_are_read);
    tcase_add_test(c, mistakes_are_reported_at_their_lines);
    tcase_add_test(c, the_ring_is_read_from_the_keys_named);
    tcase_add_test(c, allocation_failures_are_reported_as_such);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
