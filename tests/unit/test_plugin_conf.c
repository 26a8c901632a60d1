/* Tests for daemon/plugin/plugin_conf.c: the notifiers ( ... ) and
 * sources ( ... ) slices read into plugin instances, and their mistakes at
 * their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <string.h>

#include "plugin/plugin_conf.h"

START_TEST(notifiers_and_sources_are_read)
{
    struct conf_fixture f;
    conf_parse(&f, "notifiers = (\n"
                   "  { name = \"email\"; plugin = \"email\"; settings = { host = \"smtp\"; }; },\n"
                   "  { name = \"files\"; plugin = \"maildir\"; }\n"
                   ");\n"
                   "sources = (\n"
                   "  { name = \"diversity\"; plugin = \"calendar\"; team = \"comms\";\n"
                   "    settings = { files = [ \"d.ics\" ]; }; }\n"
                   ");\n");
    struct tkl_plugin_conf *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(
        tkl_plugin_conf_read(&f.x, conf_at(&f, "notifiers"), TKL_PLUGIN_NOTIFIER, &v, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].name, "email");
    ck_assert_str_eq(v[0].plugin, "email");
    ck_assert_uint_eq(v[0].line, 2);
    ck_assert_ptr_eq(v[0].settings, conf_at(&f, "notifiers.[0].settings"));
    ck_assert_ptr_null(v[0].team);
    ck_assert_str_eq(v[1].plugin, "maildir");
    ck_assert_ptr_null(v[1].settings);
    ck_assert_uint_eq(v[1].line, 3);
    tkl_plugin_conf_free(v, n);
    ck_assert_int_eq(tkl_plugin_conf_read(&f.x, conf_at(&f, "sources"), TKL_PLUGIN_SOURCE, &v, &n),
                     0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].name, "diversity");
    ck_assert_str_eq(v[0].plugin, "calendar");
    ck_assert_str_eq(v[0].team, "comms");
    ck_assert_uint_eq(v[0].line, 6);
    ck_assert_ptr_nonnull(v[0].settings);
    tkl_plugin_conf_free(v, n);
    ck_assert_uint_eq(f.diags.n, 0);
    /* no list: no instances */
    ck_assert_int_eq(tkl_plugin_conf_read(&f.x, NULL, TKL_PLUGIN_SOURCE, &v, &n), 0);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    conf_done(&f);
}
END_TEST

START_TEST(notifier_mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "notifiers = (\n"
                   "  { name = \"email\"; plugin = \"email\"; team = \"hr\"; },\n"
                   "  { plugin = \"email\"; },\n"
                   "  { name = \"sms\"; plugin = \"Text Magic\"; },\n"
                   "  \"webhook\",\n"
                   "  { name = \"email\"; plugin = \"maildir\"; }\n"
                   ");\n"
                   "other = { name = \"email\"; };\n");
    struct tkl_plugin_conf *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(
        tkl_plugin_conf_read(&f.x, conf_at(&f, "notifiers"), TKL_PLUGIN_NOTIFIER, &v, &n), -EINVAL);
    ck_assert(conf_error_at(&f, 2,
                            "unknown key \"team\" in a notifier (known keys: name, plugin, "
                            "settings)"));
    ck_assert(
        conf_error_at(&f, 3, "a notifier needs a name of lower-case letters, digits, - and _"));
    ck_assert(conf_error_at(&f, 4,
                            "notifier \"sms\" needs plugin = \"<name>\" (a file in the "
                            "plugin directory, without .so)"));
    ck_assert(
        conf_error_at(&f, 5, "each notifier is a group { name = \"...\"; plugin = \"...\"; }"));
    ck_assert(conf_error_at(&f, 6, "notifier name \"email\" is used twice"));
    ck_assert_uint_eq(f.diags.n_errors, 5);
    /* the first email, and the second though its name repeats */
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[1].plugin, "maildir");
    tkl_plugin_conf_free(v, n);
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_plugin_conf_read(&f.x, conf_at(&f, "other"), TKL_PLUGIN_NOTIFIER, &v, &n),
                     -EINVAL);
    ck_assert(
        conf_error_at(&f, 8, "notifiers must be a list of groups: ( { name = \"email\"; ... } )"));
    ck_assert_uint_eq(n, 0);
    conf_done(&f);
}
END_TEST

START_TEST(source_mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f,
               "sources = (\n"
               "  { name = \"diversity\"; plugin = \"calendar\"; },\n"
               "  { name = \"diversity\"; plugin = \"calendar\"; team = \"comms\"; },\n"
               "  { name = \"events\"; plugin = \"calendar\"; team = \"comms\"; colour = 1; },\n"
               "  { name = \"events\"; plugin = \"calendar\"; team = \"hr\"; }\n"
               ");\n"
               "other = [ \"x\" ];\n");
    struct tkl_plugin_conf *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_plugin_conf_read(&f.x, conf_at(&f, "sources"), TKL_PLUGIN_SOURCE, &v, &n),
                     -EINVAL);
    ck_assert(conf_error_at(&f, 2,
                            "source \"diversity\" needs team = \"<team id>\", the team "
                            "prompted for every item (the comms team)"));
    ck_assert(conf_error_at(&f, 4,
                            "unknown key \"colour\" in a source (known keys: name, plugin, "
                            "team, settings, prompt_days, prompt_days_long)"));
    ck_assert(conf_error_at(&f, 5, "source name \"events\" is used twice"));
    ck_assert_uint_eq(f.diags.n_errors, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[0].team, "comms");
    ck_assert_str_eq(v[2].team, "hr");
    tkl_plugin_conf_free(v, n);
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_plugin_conf_read(&f.x, conf_at(&f, "other"), TKL_PLUGIN_SOURCE, &v, &n),
                     -EINVAL);
    ck_assert(conf_error_at(&f, 7,
                            "sources must be a list of groups: ( { name = \"diversity\"; "
                            "plugin = \"calendar\"; team = \"comms\"; ... } )"));
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, notifiers_and_sources_are_read);
    tcase_add_test(tc, notifier_mistakes_are_named_at_their_lines);
    tcase_add_test(tc, source_mistakes_are_named_at_their_lines);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
