/* Tests for daemon/plugin/loader.c with real plugins built by the suite:
 * a notifier loads and delivers through the ABI on a real loop; a plugin
 * built for another ABI version, and a file that is no plugin, are refused
 * with the file named. */
#include <check.h>

#include "check_run.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "plugin/loader.h"

static int delivered;
static char reply[64];

static void on_done(void *data, const struct tkl_delivery *res)
{
    (void)data;
    delivered++;
    ck_assert_int_eq(res->status, TKL_DELIVERY_OK);
    strncpy(reply, res->reply, sizeof(reply) - 1);
}

static void host_log(const struct tkl_host *h, int level, const char *fmt, ...)
{
    (void)h;
    (void)level;
    (void)fmt;
}

START_TEST(loads_and_delivers)
{
    struct tkl_diags d = {0};
    struct tkl_plugin_instance *p = NULL;
    uv_loop_t loop;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "echo", &p, &d), 0);
    ck_assert_str_eq(p->desc->name, "echo");
    p->host.loop = &loop;
    p->host.log = host_log;
    ck_assert_int_eq(tkl_plugin_init(p, "chat", NULL), 0);
    ck_assert_str_eq(p->host.instance, "chat");
    ck_assert_int_eq(p->desc->start(p->state), 0);
    struct tkl_notice_entry e = {.size = sizeof(e), .item_id = "a1", .title = "Train staff"};
    struct tkl_notice n = {.size = sizeof(n),
                           .id = 7,
                           .channel = "chat",
                           .recipient = "hr",
                           .entries = &e,
                           .n_entries = 1};
    delivered = 0;
    ck_assert_int_eq(p->desc->deliver(p->state, &n, on_done, NULL), 0);
    ck_assert_int_eq(delivered, 0); /* never from inside deliver() */
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(delivered, 1); /* exactly once */
    ck_assert_str_eq(reply, "echoed");
    const char *(*last)(void *);
    *(void **)&last = dlsym(p->dl, "echo_last_title");
    ck_assert_str_eq(last(p->state), "Train staff");
    p->desc->stop(p->state);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_plugin_close(p);
    tkl_diags_free(&d);
}
END_TEST

/* A notifier's refusal of a recipient comes back as one clean line: the
 * plugin's words (here quoting the recipient, escapes and a right-to-left
 * override in it) without controls or bidi overrides; an accepted one is
 * 0 and no words. */
START_TEST(a_refusal_is_said_on_one_clean_line)
{
    struct tkl_diags d = {0};
    struct tkl_plugin_instance *p = NULL;
    uv_loop_t loop;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "echo", &p, &d), 0);
    p->host.loop = &loop;
    p->host.log = host_log;
    ck_assert_int_eq(tkl_plugin_init(p, "chat", NULL), 0);
    char *why = (char *)"unset";
    ck_assert_int_eq(tkl_plugin_check_recipient(p, "hr", &why), 0);
    ck_assert_ptr_null(why);
    ck_assert_int_eq(tkl_plugin_check_recipient(p,
                                                "bad\x1b[2J\r\n\xe2\x80\xae"
                                                "evil",
                                                &why),
                     -EINVAL);
    ck_assert_str_eq(why, "\"bad [2J evil\" starts with \"bad\"");
    free(why);
    tkl_plugin_close(p);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(wrong_abi_is_refused_naming_the_file)
{
    struct tkl_diags d = {0};
    struct tkl_plugin_instance *p = NULL;
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "echo_abi99", &p, &d), -ELIBBAD);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.items[0].file, "echo_abi99.so"));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "ABI 99"));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "not binary compatible"));
    tkl_diags_free(&d);
}
END_TEST

START_TEST(missing_and_bogus_files_are_refused)
{
    struct tkl_diags d = {0};
    struct tkl_plugin_instance *p = NULL;
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "nosuch", &p, &d), -ENOENT);
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "notaplugin", &p, &d), -ELIBBAD);
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, "../etc/passwd", &p, &d), -EINVAL);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_ptr_nonnull(strstr(d.items[1].message, "no tickler_plugin_entry symbol"));
    tkl_diags_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, loads_and_delivers);
    tcase_add_test(tc, a_refusal_is_said_on_one_clean_line);
    tcase_add_test(tc, wrong_abi_is_refused_naming_the_file);
    tcase_add_test(tc, missing_and_bogus_files_are_refused);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
