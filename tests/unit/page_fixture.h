/*
 * Shared by the tests of the web pages (test_overview, test_operator): a
 * real service loaded from a configuration in a fresh directory, with the
 * echo notifier, the webhook notifier of this build (its URL a secret in a
 * file, pointing at a port where nothing listens), the test source with
 * one observance and a plan whose text needs escaping; the service can be
 * run once (--oneshot) so that its outbox holds what it sent; and a page
 * asked as the server asks it.
 *
 * The clock is Friday 30 June 2023 09:00:30. The plan, in its order:
 *   H  undated   no objective, no team ("Nobody we know"; no fallback
 *                team), TBC
 *   A  due-soon  HR, due today (its "due" reminder goes to hr by chat)
 *   B  due-soon  ICT, due in 28 days (its "lead-28" reminder goes to ops
 *                by hooks, whose server refuses: retrying)
 *   C  on-track  HR and ICT, 62 days ahead; its title, objective and
 *                progress hold markup, quotes and ampersands
 *   D  overdue   HR, 31 May 2023, "Delayed"
 *   E  complete  HR
 *   F  closed    ICT, "Cancelled"
 *   G  undated   ICT, "Ongoing"
 * and the observance "pride" of the test source (10 July 2023), which is
 * not part of the plan.
 */
#ifndef TKL_PAGE_FIXTURE_H
#define TKL_PAGE_FIXTURE_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"

#include "core/day.h"

#include "http/request.h"
#include "web/web.h"

/* What the webhook's URL holds: no page may show it. */
#define PAGE_SECRET "s3cr3t-t0ken-4d1b"

#define PAGE_TRICKY_TITLE "<script>alert(1)</script> & \"quotes\""
#define PAGE_OBJECTIVE    "People & <b>culture</b>"

static const char page_plan[] =
    "Ref,Objective,Actions,Responsibility,Timeframe,Status,Progress\n"
    "H,,Orphan,Nobody we know,TBC,,\n"
    "A," PAGE_OBJECTIVE ",Review the pay gap,HR,30/06/2023,In progress,Data collected\n"
    "B,Services,Accessible forms,ICT,28/07/2023,,\n"
    "C," PAGE_OBJECTIVE ",\"<script>alert(1)</script> & \"\"quotes\"\"\",HR / ICT,31/08/2023,,"
    "\"Line one\nLine <two> & 'three'\"\n"
    "D,Services,Late report,HR,31/05/2023,Delayed,\n"
    "E,Services,Finished thing,HR,April 2023,Complete,\n"
    "F,Services,Dropped thing,ICT,April 2023,Cancelled,\n"
    "G," PAGE_OBJECTIVE ",Culture change,ICT,Ongoing,,\n";

static char page_dir[256];
/* More of the configuration (groups such as links and http), written after
 * the rest by page_setup; NULL for none. */
static const char *page_conf_extra;
/* More items of the test source (", { id = ...; }" each), after "pride";
 * NULL for none. */
static const char *page_items_extra;
static uv_loop_t page_loop;
static struct tkl_service page_s;
static int page_finished;

static void page_on_finished(struct tkl_service *s)
{
    page_finished++;
    tkl_service_stop(s);
}

static void page_on_changed(struct tkl_service *s)
{
    (void)s;
}

/* Writes the configuration, the plan, the secret and the plugin directory
 * into a fresh directory for test name, and readies the service. */
static inline void page_setup(const char *name)
{
    char path[600], conf[4096];
    tkl_tmpdir(page_dir, sizeof(page_dir), name);
    snprintf(path, sizeof(path), "%s/plugins", page_dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    const char *links[][2] = {{TEST_PLUGIN_DIR "/echo.so", "echo.so"},
                              {TEST_PLUGIN_DIR "/items.so", "items.so"},
                              {TICKLER_BUILD_PLUGIN_DIR "/webhook.so", "webhook.so"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/plugins/%s", page_dir, links[i][1]);
        ck_assert_int_eq(symlink(links[i][0], path), 0);
    }
    tkl_write_text(page_dir, "plan.csv", page_plan);
    ck_assert_int_eq(
        chmod(tkl_write_text(page_dir, "hook.url", "http://127.0.0.1:1/hooks/" PAGE_SECRET "\n"),
              0600),
        0);
    snprintf(conf, sizeof(conf),
             "daemon = { timezone = \"Europe/London\"; };\n"
             "store = { files = [ \"plan.csv\" ]; };\n"
             "schedule = { catch_up_days = 1; };\n"
             "delivery = { concurrency = 1; };\n"
             "notifiers = (\n"
             "  { name = \"chat\"; plugin = \"echo\"; },\n"
             "  { name = \"hooks\"; plugin = \"webhook\"; settings = { timeout_seconds = 5;\n"
             "    destinations = ( { name = \"ops\"; url_file = \"hook.url\"; } ); }; }\n"
             ");\n"
             "teams = (\n"
             "  { id = \"hr\"; name = \"Human Resources\"; aliases = [ \"HR\" ];\n"
             "    recipients = { chat = [ \"hr\" ]; }; },\n"
             "  { id = \"ict\"; name = \"ICT & Digital\"; aliases = [ \"ICT\" ];\n"
             "    recipients = { hooks = [ \"ops\" ]; }; }\n"
             ");\n"
             "sources = ( { name = \"local\"; plugin = \"items\"; team = \"hr\";\n"
             "  settings = { items = ( { id = \"pride\"; title = \"Pride Month\"; start = %d; "
             "end = %d; category = \"sexual-orientation\"; }%s ); }; } );\n",
             tkl_day_from_civil(2023, 7, 10), tkl_day_from_civil(2023, 7, 10),
             page_items_extra ? page_items_extra : "");
    if (page_conf_extra)
        snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf), "%s", page_conf_extra);
    tkl_write_text(page_dir, "tickler.conf", conf);
    static char conf_path[600], state[600], plugins[600];
    snprintf(conf_path, sizeof(conf_path), "%s/tickler.conf", page_dir);
    snprintf(state, sizeof(state), "%s/state", page_dir);
    snprintf(plugins, sizeof(plugins), "%s/plugins", page_dir);
    memset(&page_s, 0, sizeof(page_s));
    memset(&page_loop, 0, sizeof(page_loop));
    ck_assert_int_eq(uv_loop_init(&page_loop), 0);
    page_s.env = (struct tkl_runtime_env){.config_path = conf_path,
                                          .plugin_dir = plugins,
                                          .state_dir = strdup(state),
                                          .svc = &page_s.svc,
                                          .now_arg = "2023-06-30T09:00:30"};
    ck_assert_ptr_nonnull(page_s.env.state_dir);
    page_s.svc.loop = &page_loop;
    page_s.changed = page_on_changed;
    page_s.finished = page_on_finished;
    page_finished = 0;
}

/* Loads the service (nothing sent yet). */
static inline void page_load(void)
{
    ck_assert_int_eq(tkl_service_load(&page_s), 0);
}

/* Loads the service and runs it once: what is due is sent (A's reminder
 * delivered, B's refused and waiting for a retry), then it stops. */
static inline void page_run_once(void)
{
    page_load();
    page_s.oneshot = true;
    ck_assert_int_eq(tkl_service_start(&page_s, &page_loop), 0);
    ck_assert_int_eq(uv_run(&page_loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(page_finished, 1);
}

static inline void page_teardown(void)
{
    tkl_service_free(&page_s);
    ck_assert_int_eq(uv_run(&page_loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&page_loop), 0);
    tkl_rmtree(page_dir);
}

/*
 * Asks page for path with the query given as key, value pairs ending with
 * NULL, as the server would: the path routed, the query checked, at
 * 09:00:30 on the day of --now. The page
 * must answer (return 0); *resp holds the answer, its body NUL-terminated
 * for the tests' string searches.
 */
static inline void page_get(tkl_web_page page, struct tkl_http_response *resp, const char *path,
                            ...)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    va_list ap;
    va_start(ap, path);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        ck_assert_int_eq(tkl_request_add_query(&r, k, v), 0);
    }
    va_end(ap);
    /* the instant --now names, whatever the time the test has taken */
    int64_t now = tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 9 * 60) + 30;
    struct tkl_http_request req = {.req = &r, .now = now};
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    ck_assert_int_eq(page(&page_s, &req, resp), 0);
    ck_assert_ptr_nonnull(resp->body);
    char *b = realloc(resp->body, resp->len + 1);
    ck_assert_ptr_nonnull(b);
    b[resp->len] = '\0';
    resp->body = b;
}

/* Whether text occurs in s. */
static inline int page_has(const char *s, const char *text)
{
    return strstr(s, text) != NULL;
}

#endif
