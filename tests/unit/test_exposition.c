/* Tests for daemon/web/exposition.c on a real service (real files, a real
 * outbox, the real echo notifier and items source of tests/plugins): what
 * /metrics answers is read as a scraper reads it (tests/unit/prom_text.h)
 * and, where Debian's prometheus package is installed, accepted by
 * `promtool check metrics`; its counters match what the outbox holds
 * after the service delivered, and its gauges the plan, the observances
 * and a notice left waiting. uv_loop_close() returns 0 at the end. */
#include <check.h>

#include "check_run.h"
#include "prom_text.h"
#include "tmpdir.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/wait.h>

#include "core/day.h"
#include "web/web.h"

static char dir[256], conf[300], state[300];
static uv_loop_t loop;
static struct tkl_service s;

/* C complete, D undated, E overdue, F closed; A and B due on the day of
 * --now; observances on 2 July 2023 and 26 August 2023 (days 19540 and
 * 19595) */
#define PLAN                                                                                       \
    "Ref,Actions,Responsibility,Timeframe,Status\n"                                                \
    "A,Review the pay gap,HR,30/06/2023,\n"                                                        \
    "B,Accessible forms,ICT,30/06/2023,\n"                                                         \
    "C,Staff survey,HR,31/03/2023,Complete\n"                                                      \
    "D,Translate the leaflet,ICT,TBC,\n"                                                           \
    "E,Update the policy,HR,01/06/2023,\n"                                                         \
    "F,Old scheme,ICT,30/04/2023,Closed\n"

static void on_changed(struct tkl_service *x)
{
    (void)x;
}

static void on_finished(struct tkl_service *x)
{
    tkl_service_stop(x);
}

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "exposition");
    tkl_write_text(dir, "plan.csv", PLAN);
    tkl_write_text(
        dir, "tickler.conf",
        "daemon = { timezone = \"Europe/London\"; };\n"
        "store = { files = [ \"plan.csv\" ]; };\n"
        "schedule = { catch_up_days = 1; };\n"
        "delivery = { concurrency = 1; };\n"
        "notifiers = ( { name = \"chat\"; plugin = \"echo\"; } );\n"
        "sources = ( { name = \"local\"; plugin = \"items\"; team = \"hr\";\n"
        "  settings = { items = (\n"
        "    { id = \"pride\"; title = \"Pride Day\"; start = 19540; category = \"lgbt\"; },\n"
        "    { id = \"carers\"; title = \"Carers Week\"; start = 19595; end = 19601; } ); }; } );\n"
        "teams = (\n"
        "  { id = \"hr\"; name = \"HR\"; recipients = { chat = [ \"hr\" ]; }; },\n"
        "  { id = \"ict\"; name = \"ICT\"; recipients = { chat = [ \"ict\" ]; }; }\n"
        ");\n");
    snprintf(conf, sizeof(conf), "%s/tickler.conf", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    memset(&s, 0, sizeof(s));
    memset(&loop, 0, sizeof(loop));
    s.env = (struct tkl_runtime_env){.config_path = conf,
                                     .plugin_dir = TEST_PLUGIN_DIR,
                                     .state_dir = strdup(state),
                                     .svc = &s.svc,
                                     .now_arg = "2023-06-30T09:00:30"};
    ck_assert_ptr_nonnull(s.env.state_dir);
    s.svc.loop = &loop;
    s.changed = on_changed;
    s.finished = on_finished;
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* What GET /metrics answers now, checked as a scraper reads it; the
 * caller frees it. */
static char *scrape(void)
{
    struct tkl_request rq;
    ck_assert_int_eq(tkl_request_route("/metrics", &rq), 0);
    struct tkl_http_request req = {.req = &rq, .now = tkl_service_now(&s)};
    struct tkl_http_response resp = {0};
    ck_assert_int_eq(tkl_web_metrics(&s, &req, &resp), 0);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_ptr_nonnull(resp.cache);
    ck_assert_str_eq(resp.cache, "no-store");
    ck_assert_uint_eq(strlen(resp.body), resp.len);
    (void)prom_check(resp.body);
    return resp.body;
}

/* Runs `promtool check metrics` on text; fails when promtool (Debian:
 * prometheus) is not installed. */
static void promtool_accepts(const char *text)
{
    char cmd[9000];
    ck_assert_msg(system("command -v promtool > /dev/null 2>&1") == 0,
                  "promtool is not installed (Debian: prometheus; scripts/deps installs it)");
    const char *in = tkl_write_text(dir, "metrics.txt", text);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s/promtool.out' 2>&1", in, dir);
    int st = system(cmd);
    char out[400];
    snprintf(out, sizeof(out), "%s/promtool.out", dir);
    char *said = tkl_read_all(out, NULL);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "promtool check metrics refused /metrics: %s", said);
    free(said);
}

static double actions(const char *text, const char *state_)
{
    return prom_value(text, "tickler_actions", "state", state_, NULL);
}

static double outbox(const char *text, const char *state_)
{
    return prom_value(text, "tickler_outbox_notices", "state", state_, NULL);
}

START_TEST(a_real_service_after_its_deliveries)
{
    s.oneshot = true;
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    struct tkl_outbox_stats st;
    ck_assert_int_eq(tkl_outbox_stats(s.outbox, 0, &st), 0);
    ck_assert_int_ge(st.delivered, 2); /* HR and ICT at least */
    char *text = scrape();
    promtool_accepts(text);
    double delivered = (double)st.delivered;
    ck_assert_double_eq(prom_value(text, "tickler_notifications_total", "channel", "chat", NULL),
                        delivered);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_requests_total", "channel", "chat", NULL),
        delivered);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_requests_failed_total", "channel", "chat", NULL), 0);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_latency_seconds_count", "channel", "chat", NULL),
        delivered);
    ck_assert_double_eq(outbox(text, "delivered"), delivered);
    ck_assert_double_eq(outbox(text, "pending") + outbox(text, "retrying") +
                            outbox(text, "failed") + outbox(text, "withdrawn"),
                        0);
    ck_assert_double_eq(prom_value(text, "tickler_outbox_oldest_pending_age_seconds", NULL), 0);
    /* the plan's six actions, by standing; the observances apart */
    ck_assert_double_eq(actions(text, "complete"), 1);
    ck_assert_double_eq(actions(text, "closed"), 1);
    ck_assert_double_eq(actions(text, "overdue"), 1);
    ck_assert_double_eq(actions(text, "undated"), 1);
    ck_assert_double_eq(actions(text, "on-track") + actions(text, "due-soon"), 2);
    ck_assert_double_eq(prom_value(text, "tickler_observances", NULL), 2);
    /* the store in force was read at the start, by the clock --now set */
    double loaded = (double)(tkl_local_instant(19538, 9 * 60) + 30);
    double ts = prom_value(text, "tickler_store_last_reload_success_timestamp_seconds", NULL);
    ck_assert(ts >= loaded && ts <= loaded + 60);
    /* the build: one series at 1, the ABI versions this host loads */
    const char *b = strstr(text, "\ntickler_build_info{");
    ck_assert_ptr_nonnull(b);
    struct prom_sample sample;
    char line[256];
    ck_assert_int_eq(sscanf(b + 1, "%255[^\n]", line), 1);
    prom_parse(line, &sample);
    ck_assert_double_eq(sample.value, 1);
    ck_assert_str_eq(prom_label(&sample, "abi"), "3,2,1");
    ck_assert_ptr_nonnull(prom_label(&sample, "version"));
    ck_assert_str_ne(prom_label(&sample, "version"), "");
    /* the node: without state.node, its id is the host name */
    char host[256], want[400];
    ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
    snprintf(want, sizeof(want), "\ntickler_node_info{node=\"%s\",backend=\"sqlite\"} 1\n", host);
    ck_assert_ptr_nonnull(strstr(text, want));
    /* no recipient as a label */
    ck_assert_ptr_null(strstr(text, "\"hr\""));
    ck_assert_ptr_null(strstr(text, "\"ict\""));
    free(text);
    tkl_service_free(&s);
}
END_TEST

static void on_reload_timer(uv_timer_t *t)
{
    tkl_service_reload(&s); /* reads the plan again: a success */
    tkl_write_text(dir, "plan.csv", "Nothing,Here\n1,2\n");
    tkl_service_reload(&s); /* a file that is not a plan: a failure */
    char *text = scrape();
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "success", NULL),
                        1);
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "failure", NULL),
                        1);
    /* the last good plan stays in force, and so do its counts */
    ck_assert_double_eq(actions(text, "complete"), 1);
    promtool_accepts(text);
    free(text);
    uv_close((uv_handle_t *)t, NULL);
    tkl_service_stop(&s);
}

START_TEST(store_reloads_count_successes_and_failures)
{
    uv_timer_t t;
    ck_assert_int_eq(tkl_service_load(&s), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tkl_service_start(&s, &loop), 0);
    ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, on_reload_timer, 0, 0), 0);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_service_free(&s);
}
END_TEST

START_TEST(a_notice_left_waiting_shows_its_age)
{
    /* loaded, not started: nothing is delivered */
    ck_assert_int_eq(tkl_service_load(&s), 0);
    int64_t now = tkl_service_now(&s);
    struct tkl_notice_entry en = {.size = sizeof(en),
                                  .item_id = "A",
                                  .title = "Review the pay gap",
                                  .deadline_day = TKL_NO_DAY,
                                  .stage = TKL_STAGE_DUE};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "chat",
                           .recipient = "hr",
                           .due_at = now - 600,
                           .entries = &en,
                           .n_entries = 1};
    const char *keys[] = {"waiting"};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(s.outbox, &n, keys, now - 600, &id), 0);
    ck_assert_uint_gt(id, 0);
    char *text = scrape();
    ck_assert_double_eq(outbox(text, "pending"), 1);
    double age = prom_value(text, "tickler_outbox_oldest_pending_age_seconds", NULL);
    ck_assert(age >= 600 && age <= 660);
    promtool_accepts(text);
    free(text);
    tkl_service_free(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("exposition");
    TCase *tc = tcase_create("exposition");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_real_service_after_its_deliveries);
    tcase_add_test(tc, store_reloads_count_successes_and_failures);
    tcase_add_test(tc, a_notice_left_waiting_shows_its_age);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}
