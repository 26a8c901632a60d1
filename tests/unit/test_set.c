/* Tests for daemon/plugin/set.c with the real test plugins (tests/plugins/
 * echo.c, built for ABI 3 and ABI 1) configured by real files: a recipient
 * a notifier cannot use is a file:line error and nothing stays open; a
 * reload keeps the running instances whose name and plugin stay (through
 * reconfigure(), or, for a plugin without it, only when the settings did
 * not change), and the instances it replaces are retired and destroyed
 * after their close callbacks. uv_loop_close() returns 0 in every test. */
#include <check.h>

#include "check_run.h"
#include "loop_wait.h"
#include "tmpdir.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "plugin/set.h"

static char dir[256];
static uv_loop_t loop;
static struct tkl_host_services svc;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "set");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    memset(&svc, 0, sizeof(svc));
    svc.loop = &loop;
    ck_assert_int_eq(tkl_host_services_start(&svc), 0);
}

static void teardown(void)
{
    tkl_host_services_stop(&svc);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_host_services_free(&svc);
    tkl_rmtree(dir);
}

/* A configuration with notifiers a (plugin pa, settings sa) and b (echo),
 * and two teams, whose b recipient is rb. */
static struct tkl_config *conf(const char *pa, const char *sa, const char *rb,
                               struct tkl_diags *diags)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "store = { files = [ \"plan.csv\" ]; };\n"
             "notifiers = (\n"
             "  { name = \"a\"; plugin = \"%s\"; settings = { %s }; },\n"
             "  { name = \"b\"; plugin = \"echo\"; }\n"
             ");\n"
             "teams = (\n"
             "  { id = \"hr\"; name = \"HR\"; recipients = { a = [ \"hr@example.org\" ]; }; },\n"
             "  { id = \"ict\"; name = \"ICT\";\n"
             "    recipients = { b = [ \"%s\" ]; }; }\n"
             ");\n",
             pa, sa, rb);
    const char *path = tkl_write_file(dir, "tickler.conf", text, strlen(text));
    struct tkl_config *c = NULL;
    ck_assert_int_eq(tkl_config_load(path, &c, diags), 0);
    return c;
}

static unsigned reconfigures(struct tkl_plugin_instance *p)
{
    unsigned (*count)(void *) = NULL;
    *(void **)&count = dlsym(p->dl, "echo_reconfigures");
    ck_assert_ptr_nonnull(count);
    return count(p->state);
}

static bool none_retired(void *arg)
{
    (void)arg;
    return svc.retired == NULL;
}

START_TEST(an_unusable_recipient_is_named_with_its_line)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = conf("echo", "", "bad-team", &d);
    struct tkl_plugin_set s = {0};
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s, &d),
        -EINVAL);
    ck_assert_ptr_null(s.notifiers); /* nothing left open */
    ck_assert_uint_eq(d.n_errors, 1);
    char line[1024];
    tkl_diag_format(&d.items[0], line, sizeof(line));
    char want[1024];
    snprintf(want, sizeof(want),
             "%s:9: error: [recipients] team \"ict\": b cannot deliver to \"bad-team\": "
             "\"bad-team\" starts with \"bad\"",
             c->path);
    ck_assert_str_eq(line, want);
    tkl_diags_free(&d);
    tkl_config_free(c);
}
END_TEST

/* A plugin that is not in the plugin directory (a typo) is an error at its
 * line of the configuration, naming the plugins there. */
START_TEST(a_plugin_not_installed_is_named_at_its_line)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = conf("ecoh", "", "ict@example.org", &d);
    struct tkl_plugin_set s = {0};
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s, &d),
        -ENOENT);
    ck_assert_ptr_null(s.notifiers);
    ck_assert_uint_eq(d.n_errors, 1);
    char line[1024], want[1024];
    tkl_diag_format(&d.items[0], line, sizeof(line));
    snprintf(want, sizeof(want), "%s:3: error: [plugin] no plugin \"ecoh\" in %s (there: ", c->path,
             TEST_PLUGIN_DIR);
    ck_assert_msg(!strncmp(line, want, strlen(want)), "%s", line);
    ck_assert_ptr_nonnull(strstr(line, "echo"));
    tkl_diags_free(&d);
    tkl_config_free(c);
}
END_TEST

START_TEST(a_reload_keeps_what_stays_and_retires_the_rest)
{
    struct tkl_diags d = {0};
    const char *failed = NULL;
    struct tkl_config *c1 = conf("echo_abi1", "fail = 0;", "ict@example.org", &d);
    struct tkl_plugin_set s1 = {0}, s2 = {0}, s3 = {0};
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c1->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s1, &d),
        0);
    ck_assert_int_eq(tkl_plugin_set_start(&s1, &failed), 0);
    struct tkl_plugin_instance *a = s1.notifiers[0], *b = s1.notifiers[1];

    /* the same settings: both kept; echo (ABI 3) is reconfigured, the ABI 1
     * build is kept as it is */
    struct tkl_config *c2 = conf("echo_abi1", "fail = 0;", "ict@example.org", &d);
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c2->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s2, &d),
        0);
    ck_assert_uint_eq(tkl_plugin_set_carry(&s1, &s2), 2);
    ck_assert_ptr_eq(s2.notifiers[0], a);
    ck_assert_ptr_eq(s2.notifiers[1], b);
    ck_assert_uint_eq(reconfigures(b), 1);
    ck_assert_ptr_eq(a->settings, c2->notifiers[0].settings); /* the new configuration's */
    ck_assert_str_eq(a->host.config_dir, c2->dir);
    tkl_plugin_set_retire(&s1, &svc); /* nothing left in it */
    ck_assert_ptr_null(svc.retired);
    tkl_config_free(c1);

    /* changed settings: the ABI 1 plugin cannot take them and is replaced;
     * echo takes them over in place */
    struct tkl_config *c3 = conf("echo_abi1", "fail = 1;", "ict@example.org", &d);
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c3->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s3, &d),
        0);
    ck_assert_uint_eq(tkl_plugin_set_carry(&s2, &s3), 1);
    ck_assert_ptr_ne(s3.notifiers[0], a);
    ck_assert_ptr_eq(s3.notifiers[1], b);
    ck_assert_uint_eq(reconfigures(b), 2);
    ck_assert(!s3.notifiers[0]->started);
    tkl_plugin_set_retire(&s2, &svc); /* a: stopped, destroyed once closed */
    ck_assert_ptr_eq(svc.retired, a);
    ck_assert(tkl_run_until(&loop, none_retired, NULL, 20000));
    ck_assert_int_eq(tkl_plugin_set_start(&s3, &failed), 0);
    ck_assert(s3.notifiers[0]->started);
    tkl_config_free(c2);

    /* shutdown: stopped, then destroyed after the loop ran out */
    tkl_plugin_set_stop(&s3);
    ck_assert(s3.notifiers[0]->stopped && s3.notifiers[1]->stopped);
    tkl_host_services_stop(&svc);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    tkl_plugin_set_close(&s3);
    tkl_config_free(c3);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(a_set_that_never_started_is_retired_without_stop)
{
    struct tkl_diags d = {0};
    struct tkl_config *c = conf("echo", "", "ict@example.org", &d);
    struct tkl_plugin_set s = {0};
    ck_assert_int_eq(
        tkl_plugin_set_open(TEST_PLUGIN_DIR, &c->plugins, TKL_PLUGIN_NOTIFIER, &svc, dir, &s, &d),
        0);
    struct tkl_plugin_instance *a = s.notifiers[0];
    ck_assert(!a->started);
    tkl_plugin_set_retire(&s, &svc);
    ck_assert(svc.retired == a || svc.retired->next_retired == a);
    ck_assert(tkl_run_until(&loop, none_retired, NULL, 20000));
    tkl_config_free(c);
    tkl_diags_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("set");
    TCase *tc = tcase_create("set");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, an_unusable_recipient_is_named_with_its_line);
    tcase_add_test(tc, a_plugin_not_installed_is_named_at_its_line);
    tcase_add_test(tc, a_reload_keeps_what_stays_and_retires_the_rest);
    tcase_add_test(tc, a_set_that_never_started_is_retired_without_stop);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
