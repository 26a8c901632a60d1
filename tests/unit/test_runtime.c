/* Tests for daemon/runtime/runtime.c with real files and the real echo
 * notifier (tests/plugins/echo.c): a configuration put in force whole (its
 * zone, --now read in it, plugins, store, schedule), and one that fails at
 * any step leaves nothing open and the process time zone as it was. */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/day.h"
#include "runtime/runtime.h"

static char dir[256];
static struct tkl_host_services svc;
static struct tkl_runtime_env env;

#define PLAN                                                                                       \
    "Ref,Actions,Responsibility,Timeframe,Status\n"                                                \
    "A,Review the pay gap,HR,30/06/2023,\n"                                                        \
    "B,Accessible forms,ICT,Ongoing,\n"

/* Writes the configuration, in zone, with the ICT recipient rb. */
static void write_conf(const char *zone, const char *rb)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "daemon = { timezone = \"%s\"; };\n"
             "store = { files = [ \"plan.csv\" ]; };\n"
             "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
             "teams = (\n"
             "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; },\n"
             "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"%s\" ]; }; }\n"
             ");\n",
             zone, rb);
    tkl_write_text(dir, "tickler.conf", text);
}

static void setup(void)
{
    static char conf[300];
    tkl_tmpdir(dir, sizeof(dir), "runtime");
    tkl_write_text(dir, "plan.csv", PLAN);
    snprintf(conf, sizeof(conf), "%s/tickler.conf", dir);
    memset(&svc, 0, sizeof(svc));
    env = (struct tkl_runtime_env){
        .config_path = conf, .plugin_dir = TEST_PLUGIN_DIR, .svc = &svc, .state_dir = NULL};
    ck_assert_int_eq(setenv("TZ", "Europe/London", 1), 0);
}

static void teardown(void)
{
    free(env.state_dir);
    env.state_dir = NULL;
    tkl_rmtree(dir);
}

START_TEST(a_configuration_is_put_in_force_whole)
{
    struct tkl_diags d = {0};
    struct tkl_runtime *rt = NULL;
    write_conf("America/New_York", "ict");
    env.now_arg = "2023-06-30T09:00";
    ck_assert_int_eq(tkl_runtime_load(&env, &rt, &d), 0);
    ck_assert_str_eq(getenv("TZ"), "America/New_York");
    /* --now read in the configuration's zone, once */
    ck_assert_ptr_null(env.now_arg);
    ck_assert_int_eq(tkl_runtime_now(&env) / 60,
                     tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 9 * 60) / 60);
    ck_assert_str_eq(env.state_dir, rt->cfg->state_dir); /* from the configuration */
    ck_assert_uint_eq(rt->plugins.n_notifiers, 1);
    ck_assert_str_eq(rt->plugins.notifiers[0]->instance, "chat");
    ck_assert(!rt->plugins.notifiers[0]->started);
    ck_assert_uint_eq(rt->store->n, 2);
    ck_assert_uint_eq(rt->sched.n, 0);
    int64_t now = tkl_runtime_now(&env);
    ck_assert_int_eq(tkl_runtime_schedule(rt, now - 86400, now), 0);
    ck_assert_uint_eq(rt->sched.n, 2);                        /* one entry per (action, team) */
    ck_assert_int_le(tkl_scheduler_next_at(&rt->sched), now); /* A is due today */
    struct tkl_store *again = NULL;
    ck_assert_int_eq(tkl_runtime_read_store(rt, now, false, &again, &d), 0);
    ck_assert_uint_eq(again->n, 2);
    tkl_store_free(again);
    tkl_runtime_free(rt);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(a_failed_load_leaves_nothing_and_the_zone_as_it_was)
{
    struct tkl_diags d = {0};
    struct tkl_runtime *rt = NULL;
    /* accepted as a file, refused by a step: the recipient check */
    write_conf("America/New_York", "bad-ict");
    ck_assert_int_eq(tkl_runtime_load(&env, &rt, &d), -EINVAL);
    ck_assert_ptr_null(rt);
    ck_assert_str_eq(getenv("TZ"), "Europe/London");
    ck_assert_uint_eq(d.n_errors, 1);
    ck_assert_str_eq(d.items[0].field, "recipients");
    ck_assert_uint_eq(d.items[0].line, 6);
    tkl_diags_free(&d);
    memset(&d, 0, sizeof(d));
    /* a store that cannot be read */
    write_conf("America/New_York", "ict");
    ck_assert_int_eq(remove(tkl_write_text(dir, "plan.csv", PLAN)), 0);
    ck_assert_int_lt(tkl_runtime_load(&env, &rt, &d), 0);
    ck_assert_ptr_null(rt);
    ck_assert_str_eq(getenv("TZ"), "Europe/London");
    tkl_diags_free(&d);
    memset(&d, 0, sizeof(d));
    /* a zone the system does not have: refused with the configuration */
    tkl_write_text(dir, "plan.csv", PLAN);
    write_conf("Mars/Olympus_Mons", "ict");
    ck_assert_int_eq(tkl_runtime_load(&env, &rt, &d), -EINVAL);
    ck_assert_str_eq(getenv("TZ"), "Europe/London");
    tkl_diags_free(&d);
}
END_TEST

START_TEST(the_store_file_given_replaces_the_configured_ones)
{
    struct tkl_diags d = {0};
    struct tkl_runtime *rt = NULL;
    write_conf("Europe/London", "ict");
    const char *other = tkl_write_text(dir, "other.csv",
                                       "Ref,Actions,Responsibility,Timeframe,Status\n"
                                       "Z,Only this,HR,Ongoing,\n");
    char path[4096];
    snprintf(path, sizeof(path), "%s", other);
    env.store_file = path;
    ck_assert_int_eq(tkl_runtime_load(&env, &rt, &d), 0);
    ck_assert_uint_eq(rt->store->n, 1);
    ck_assert_str_eq(rt->store->actions[0].id, "Z");
    tkl_runtime_free(rt);
    tkl_diags_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_configuration_is_put_in_force_whole);
    tcase_add_test(tc, a_failed_load_leaves_nothing_and_the_zone_as_it_was);
    tcase_add_test(tc, the_store_file_given_replaces_the_configured_ones);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
