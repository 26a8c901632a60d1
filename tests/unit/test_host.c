/* Tests for daemon/plugin/host.c with the real test plugins built by the
 * suite (tests/plugins/echo.c, for ABI 3, 2 and 1) on a real loop: what
 * the host lends an instance (secrets, the clock, the log, transfers,
 * items_changed), and retirement: a retired instance is destroyed only
 * after the close callbacks of its handles ran, wherever the retirement
 * happens. uv_loop_close() returns 0 at the end of every test. */
#include <check.h>

#include "capture.h"
#include "check_run.h"
#include "loop_wait.h"
#include "refused_port.h"
#include "tmpdir.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dirent.h>

#include "core/log.h"
#include "plugin/host.h"

static char dir[256];

/* What the instances logged, in order (the plugin logs "timer closed" from
 * its close callback and "destroyed" from destroy()). */
static char events[16][64];
static int n_events;
static uv_loop_t loop;
static struct tkl_host_services svc;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "host");
    n_events = 0;
    loop.data = NULL;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    memset(&svc, 0, sizeof(svc));
    svc.loop = &loop;
    ck_assert_int_eq(tkl_host_services_start(&svc), 0);
    ck_assert_ptr_eq(loop.data, &svc);
}

/* Stops the services, runs the loop out, frees what is left; the loop
 * must close. */
static void finish(void)
{
    tkl_host_services_stop(&svc);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    tkl_host_services_free(&svc);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* An instance of a test plugin served by svc, init()ed as "chat". */
static struct tkl_plugin_instance *open_instance(const char *plugin)
{
    struct tkl_diags d = {0};
    struct tkl_plugin_instance *p = NULL;
    ck_assert_int_eq(tkl_plugin_open(TEST_PLUGIN_DIR, plugin, &p, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(tkl_host_fill(p, &svc, dir, dir), 0);
    ck_assert_int_eq(tkl_plugin_init(p, "chat", NULL), 0);
    return p;
}

static void start(struct tkl_plugin_instance *p)
{
    ck_assert_int_eq(p->desc->start(p->state), 0);
    p->started = true; /* as the plugin set records it */
}

/* ---- what the host lends ------------------------------------------------ */

START_TEST(secrets_are_read_relative_to_the_config_directory)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    const struct tkl_host *h = &p->host;
    tkl_write_text(dir, "token", "xoxb-123\n");
    char creds[300];
    snprintf(creds, sizeof(creds), "%s/creds", dir);
    ck_assert_int_eq(mkdir(creds, 0700), 0);
    tkl_write_text(dir, "creds/hook", "https://example.org/hook?sig=1\n");
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
    char *s = NULL;
    tkl_capture_begin();
    ck_assert_int_eq(h->read_secret(h, "token", &s), 0);
    ck_assert_str_eq(s, "xoxb-123");
    free(s);
    ck_assert_int_eq(h->read_secret(h, "credential:hook", &s), 0);
    ck_assert_str_eq(s, "https://example.org/hook?sig=1");
    free(s);
    s = NULL;
    ck_assert_int_eq(h->read_secret(h, "missing", &s), -ENOENT);
    ck_assert_ptr_null(s);
    char *logged = tkl_capture_end();
    ck_assert_str_eq(logged, ""); /* the host logs no secret, nor its path */
    free(logged);
    tkl_plugin_close(p);
    finish();
}
END_TEST

/* Only the daemon's instances are given a place to keep what outlives a
 * restart: a one-off run's (tickler send-test) must not touch it. */
START_TEST(only_the_daemon_lends_a_keep_directory)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    ck_assert_str_eq(p->host.state_dir, dir);
    ck_assert_ptr_null(p->host.keep_dir);
    tkl_plugin_close(p);
    svc.keep = true;
    p = open_instance("echo");
    ck_assert_str_eq(p->host.keep_dir, dir);
    tkl_plugin_close(p);
    svc.keep = false;
    finish();
}
END_TEST

START_TEST(the_clock_honours_the_offset)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    const struct tkl_host *h = &p->host;
    const int64_t offsets[] = {0, 30 * 86400, -400 * 86400};
    for (size_t i = 0; i < 3; i++) {
        svc.clock_offset = offsets[i];
        int64_t before = (int64_t)time(NULL);
        int64_t now = h->now(h);
        int64_t after = (int64_t)time(NULL);
        ck_assert_int_ge(now, before + offsets[i]);
        ck_assert_int_le(now, after + offsets[i]);
    }
    tkl_plugin_close(p);
    finish();
}
END_TEST

START_TEST(the_log_names_the_instance_and_counts_errors)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    const struct tkl_host *h = &p->host;
    tkl_capture_begin();
    h->log(h, TKL_LOG_ERR, "cannot connect to %s:%d", "smtp.example.org", 587);
    h->log(h, TKL_LOG_WARNING, "slow reply");
    h->log(h, TKL_LOG_INFO, "sent id=%d", 7);
    h->log(h, TKL_LOG_DEBUG, "not shown at info");
    h->log(h, TKL_LOG_ERR, "refused\nby peer");
    char *logged = tkl_capture_end();
    ck_assert_str_eq(logged, "<3>chat: cannot connect to smtp.example.org:587\n"
                             "<4>chat: slow reply\n"
                             "<6>chat: sent id=7\n"
                             "<3>chat: refused by peer\n");
    free(logged);
    ck_assert_uint_eq(svc.n_errors, 2); /* errors only */
    tkl_plugin_close(p);
    finish();
}
END_TEST

/* What an instance logs while it reads its settings is held, then logged
 * in its order, so a line that follows from an error (a calendar's
 * "refused", a warning) comes after it; settings refused make the errors
 * diagnostics and log the rest. */
START_TEST(lines_logged_while_reading_settings_keep_their_order)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    const struct tkl_host *h = &p->host;
    struct tkl_diags d = {0};
    tkl_capture_begin();
    tkl_host_init_begin(&svc);
    h->log(h, TKL_LOG_INFO, "a.ics: 3 events");
    h->log(h, TKL_LOG_ERR, "b.ics:4: DTSTART: bad");
    h->log(h, TKL_LOG_WARNING, "b.ics: calendar refused (1 problem)");
    tkl_host_init_end(&svc, "chat", 0, &d, "t.conf", 9, "rejected");
    ck_assert_uint_eq(d.n, 0);
    tkl_host_init_begin(&svc);
    h->log(h, TKL_LOG_ERR, "line 3: unknown setting");
    h->log(h, TKL_LOG_WARNING, "ignored");
    tkl_host_init_end(&svc, "chat", -EINVAL, &d, "t.conf", 9, "rejected");
    char *logged = tkl_capture_end();
    ck_assert_str_eq(logged, "<6>chat: a.ics: 3 events\n"
                             "<3>chat: b.ics:4: DTSTART: bad\n"
                             "<4>chat: b.ics: calendar refused (1 problem)\n"
                             "<4>chat: ignored\n");
    free(logged);
    ck_assert_uint_eq(svc.n_errors, 1); /* the error logged; the other is a diagnostic */
    ck_assert_uint_eq(d.n, 1);
    ck_assert_uint_eq(d.n_errors, 1);
    ck_assert_uint_eq(d.items[0].line, 9);
    ck_assert_str_eq(d.items[0].message, "rejected: line 3: unknown setting");
    tkl_diags_free(&d);
    tkl_plugin_close(p);
    finish();
}
END_TEST

static int changes;
static char changed_instance[32];
static void *changed_data;

static void on_items_changed(void *data, const char *instance)
{
    changes++;
    changed_data = data;
    snprintf(changed_instance, sizeof(changed_instance), "%s", instance);
}

START_TEST(items_changed_reaches_the_service)
{
    struct tkl_plugin_instance *p = open_instance("echo");
    const struct tkl_host *h = &p->host;
    h->items_changed(h); /* nobody listens: nothing happens */
    svc.items_changed = on_items_changed;
    svc.data = &changes;
    h->items_changed(h);
    ck_assert_int_eq(changes, 1);
    ck_assert_ptr_eq(changed_data, &changes);
    ck_assert_str_eq(changed_instance, "chat");
    tkl_plugin_close(p);
    finish();
}
END_TEST

/* An easy handle for http://127.0.0.1:port/, whatever the environment's
 * proxy: a port from tkl_refused_port, so the connection is refused. */
static CURL *refused_easy(int port)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    return e;
}

static int transfers_done, transfer_code;

static void on_transfer_done(void *data, int code)
{
    ck_assert_ptr_eq(data, &transfers_done);
    transfers_done++;
    transfer_code = code;
}

/* How many threads of this process are named comm ("name\n", as
 * /proc/self/task/TID/comm holds it). */
static int threads_named(const char *comm)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], text[32] = {0};
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(text, sizeof(text), f) && strcmp(text, comm) == 0)
            n++;
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* Each instance's transfers run on a multi handle and thread of its own,
 * made at its first transfer (a server that blocks libcurl's thread holds
 * up no other instance), and closed with the instance. */
START_TEST(each_instance_has_transfers_of_its_own)
{
    struct tkl_plugin_instance *p = open_instance("echo"), *q = open_instance("echo");
    const struct tkl_host *h = &p->host;
    int fd, port = tkl_refused_port(&fd);
    CURL *easy = refused_easy(port), *other = refused_easy(port);
    /* without transfers (tickler check): refused, done never runs */
    ck_assert_int_eq(h->transfer_start(h, easy, on_transfer_done, &transfers_done), -ESHUTDOWN);
    ck_assert_int_eq(tkl_transfers_new(&loop, &svc.transfers), 0);
    ck_assert_ptr_null(p->transfers);
    ck_assert_int_eq(h->transfer_start(h, easy, on_transfer_done, &transfers_done), 0);
    ck_assert_ptr_nonnull(p->transfers);
    ck_assert_ptr_ne(p->transfers, svc.transfers);
    struct tkl_transfers *first = p->transfers;
    ck_assert_int_eq(h->transfer_start(h, other, on_transfer_done, &transfers_done), 0);
    ck_assert_ptr_eq(p->transfers, first);            /* made once */
    ck_assert_int_eq(threads_named("tkl-chat\n"), 1); /* top -H names the instance */
    ck_assert_uint_eq(tkl_transfers_running(p->transfers), 2);
    ck_assert_ptr_null(q->transfers); /* none started: none made */
    h->transfer_cancel(h, other);
    ck_assert_uint_eq(tkl_transfers_running(p->transfers), 1);
    ck_assert_int_eq(transfers_done, 0);
    ck_assert(tkl_run_until_count(&loop, &transfers_done, 1));
    ck_assert_int_eq(transfer_code, CURLE_COULDNT_CONNECT);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(transfers_done, 1); /* the cancelled one never */
    tkl_transfers_close(svc.transfers);
    svc.transfers = NULL;
    close(fd);
    curl_easy_cleanup(easy);
    curl_easy_cleanup(other);
    tkl_plugin_close(p); /* and its transfers */
    tkl_plugin_close(q);
    finish();
}
END_TEST

static void on_counted(void *data, int code)
{
    ck_assert_int_eq(code, CURLE_COULDNT_CONNECT);
    (*(int *)data)++;
}

/* Flushes p's finished transfers until *n is 1, without running the loop;
 * false after 10 s. */
static bool flush_until(struct tkl_plugin_instance *p, const int *n)
{
    for (int i = 0; i < 10000 && *n == 0; i++) {
        tkl_host_flush_transfers(p);
        if (*n == 0)
            usleep(1000);
    }
    return *n == 1;
}

/* An instance about to stop is told the transfers it started that the
 * transfer thread finished (tkl_host_flush_transfers, which stop and
 * retirement call first), and only its own. */
START_TEST(an_instance_is_told_its_finished_transfers_before_it_stops)
{
    struct tkl_plugin_instance *p = open_instance("echo"), *q = open_instance("echo");
    int fd, port = tkl_refused_port(&fd);
    CURL *ep = refused_easy(port), *eq = refused_easy(port);
    int np = 0, nq = 0;
    ck_assert_int_eq(tkl_transfers_new(&loop, &svc.transfers), 0);
    ck_assert_int_eq(p->host.transfer_start(&p->host, ep, on_counted, &np), 0);
    ck_assert_int_eq(q->host.transfer_start(&q->host, eq, on_counted, &nq), 0);
    ck_assert(flush_until(p, &np));
    ck_assert_int_eq(nq, 0);
    ck_assert_uint_eq(tkl_transfers_running(p->transfers), 0);
    ck_assert_uint_eq(tkl_transfers_running(q->transfers), 1);
    ck_assert_ptr_ne(p->transfers, q->transfers);
    ck_assert(flush_until(q, &nq));
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(np + nq, 2); /* each told once */
    tkl_host_flush_transfers(NULL);
    tkl_transfers_close(svc.transfers);
    svc.transfers = NULL;
    close(fd);
    curl_easy_cleanup(ep);
    curl_easy_cleanup(eq);
    tkl_plugin_close(p);
    tkl_plugin_close(q);
    finish();
}
END_TEST

/* A plugin built before ABI 3 set its handles' callbacks for the loop
 * thread: its transfers are refused, and the host says why once an
 * instance, naming the file; done never runs. */
START_TEST(transfers_of_a_plugin_built_before_abi3_are_refused)
{
    static const char *const plugins[] = {"echo_abi2", "echo_abi1"};
    int fd, port = tkl_refused_port(&fd);
    ck_assert_int_eq(tkl_transfers_new(&loop, &svc.transfers), 0);
    transfers_done = 0;
    for (int i = 0; i < 2; i++) {
        struct tkl_plugin_instance *p = open_instance(plugins[i]);
        const struct tkl_host *h = &p->host;
        CURL *easy = refused_easy(port);
        tkl_capture_begin();
        ck_assert_int_eq(h->transfer_start(h, easy, on_transfer_done, &transfers_done), -ENOTSUP);
        ck_assert_int_eq(h->transfer_start(h, easy, on_transfer_done, &transfers_done), -ENOTSUP);
        char *logged = tkl_capture_end();
        char want[512];
        snprintf(want, sizeof(want),
                 "<3>chat: plugin %s/%s.so is built for tickler ABI %d: its transfers are "
                 "refused, as their libcurl callbacks now run on the transfer thread (ABI 3); "
                 "rebuild the plugin\n",
                 TEST_PLUGIN_DIR, plugins[i], 2 - i);
        ck_assert_str_eq(logged, want); /* once */
        free(logged);
        ck_assert_ptr_null(p->transfers); /* none made */
        curl_easy_cleanup(easy);
        tkl_plugin_close(p);
    }
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(transfers_done, 0);
    tkl_transfers_close(svc.transfers);
    svc.transfers = NULL;
    close(fd);
    finish();
}
END_TEST

/* ---- retirement ----------------------------------------------------------- */

static void record(const struct tkl_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void record(const struct tkl_host *h, int level, const char *fmt, ...)
{
    (void)h;
    (void)level;
    ck_assert_int_lt(n_events, 16);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(events[n_events++], sizeof(events[0]), fmt, ap);
    va_end(ap);
}

static int event_at(const char *what)
{
    for (int i = 0; i < n_events; i++)
        if (strcmp(events[i], what) == 0)
            return i;
    return -1;
}

/* Whether *(int *)arg instances were destroyed and none awaits it. */
static bool all_destroyed(void *arg)
{
    int destroyed = 0;
    for (int i = 0; i < n_events; i++)
        destroyed += strcmp(events[i], "destroyed") == 0;
    return destroyed >= *(int *)arg && svc.retired == NULL;
}

/* An instance of plugin, started, logging into events[]. */
static struct tkl_plugin_instance *started(const char *plugin)
{
    struct tkl_plugin_instance *p = open_instance(plugin);
    p->host.log = record;
    start(p);
    return p;
}

struct retirement {
    uv_timer_t timer;
    struct tkl_plugin_instance *p;
};

static void on_retire(uv_timer_t *t)
{
    struct retirement *r = t->data;
    tkl_host_retire(&svc, r->p);
    uv_close((uv_handle_t *)t, NULL);
}

/* Retires p from a timer callback, as a reload armed by a timer would. */
static void retire_from_a_timer(struct retirement *r, struct tkl_plugin_instance *p)
{
    r->p = p;
    ck_assert_int_eq(uv_timer_init(&loop, &r->timer), 0);
    r->timer.data = r;
    ck_assert_int_eq(uv_timer_start(&r->timer, on_retire, 0, 0), 0);
}

static void assert_closed_then_destroyed(void)
{
    int one = 1;
    ck_assert(tkl_run_until(&loop, all_destroyed, &one, 20000));
    ck_assert_ptr_null(svc.closing);
    int closed = event_at("timer closed"), destroyed = event_at("destroyed");
    ck_assert_int_ge(closed, 0);
    ck_assert_int_gt(destroyed, closed);
}

START_TEST(retired_outside_the_loop_abi3)
{
    struct tkl_plugin_instance *p = started("echo");
    ck_assert_uint_eq(p->desc->abi_version, 3);
    tkl_host_retire(&svc, p);
    ck_assert(p->stopped);
    ck_assert_uint_eq(p->closing, 1); /* its timer, closed through host.close */
    ck_assert_int_eq(event_at("destroyed"), -1);
    assert_closed_then_destroyed();
    finish();
}
END_TEST

START_TEST(retired_outside_the_loop_abi1)
{
    struct tkl_plugin_instance *p = started("echo_abi1");
    ck_assert_uint_eq(p->desc->abi_version, 1);
    tkl_host_retire(&svc, p);
    ck_assert_uint_eq(p->closing, 0); /* closed by the plugin itself */
    ck_assert_int_eq(event_at("destroyed"), -1);
    assert_closed_then_destroyed();
    finish();
}
END_TEST

START_TEST(retired_from_a_timer_abi3)
{
    struct retirement r;
    retire_from_a_timer(&r, started("echo"));
    assert_closed_then_destroyed();
    finish();
}
END_TEST

START_TEST(retired_from_a_timer_abi1)
{
    /* the host's reaper must not run in the same pass over the timers as
     * the retirement: the plugin's close callbacks run after that pass */
    struct retirement r;
    retire_from_a_timer(&r, started("echo_abi1"));
    assert_closed_then_destroyed();
    finish();
}
END_TEST

static int delivered;
static enum tkl_delivery_status delivered_status;

/* Hands p notice 1, one action for hr on chat; done is told its end. */
static int deliver_one(struct tkl_plugin_instance *p, tkl_deliver_done_fn done)
{
    struct tkl_notice_entry e = {.size = sizeof(e), .item_id = "a1", .title = "Train staff"};
    struct tkl_notice n = {.size = sizeof(n),
                           .id = 1,
                           .channel = "chat",
                           .recipient = "hr",
                           .entries = &e,
                           .n_entries = 1};
    return p->desc->deliver(p->state, &n, done, NULL);
}

static void on_delivered(void *data, const struct tkl_delivery *res)
{
    (void)data;
    delivered++;
    delivered_status = res->status;
}

START_TEST(a_delivery_in_flight_completes_before_retirement)
{
    struct tkl_plugin_instance *p = started("echo");
    ck_assert_int_eq(deliver_one(p, on_delivered), 0);
    tkl_host_retire(&svc, p);
    ck_assert_int_eq(delivered, 1); /* completed by stop(), once */
    ck_assert_int_eq(delivered_status, TKL_DELIVERY_TRANSIENT);
    assert_closed_then_destroyed();
    ck_assert_int_eq(delivered, 1);
    finish();
}
END_TEST

/* The deliveries svc->in_flight reports for every instance. */
static unsigned pending;

static unsigned count_pending(void *data, const struct tkl_plugin_instance *p)
{
    (void)data;
    (void)p;
    return pending;
}

/* A delivery's completion as the service takes it: no longer in flight,
 * and the host asked whether a drain is over. */
static void on_delivered_drained(void *data, const struct tkl_delivery *res)
{
    on_delivered(data, res);
    pending = 0;
    tkl_host_drain_check(&svc);
}

/* Retired with a delivery in flight, an instance is not stopped at once:
 * the delivery completes as it would have (delivered, not cut short), and
 * only then is the instance stopped and destroyed. */
START_TEST(a_retired_instance_drains_its_deliveries_before_it_stops)
{
    struct tkl_plugin_instance *p = started("echo");
    svc.in_flight = count_pending;
    svc.drain_ms = 10000;
    delivered = 0;
    ck_assert_int_eq(deliver_one(p, on_delivered_drained), 0);
    pending = 1;
    tkl_host_retire(&svc, p);
    ck_assert(p->draining);
    ck_assert(!p->stopped);
    ck_assert(tkl_host_draining(&svc));
    ck_assert_int_eq(delivered, 0);
    assert_closed_then_destroyed();
    ck_assert_int_eq(delivered, 1);
    ck_assert_int_eq(delivered_status, TKL_DELIVERY_OK);
    ck_assert(!tkl_host_draining(&svc));
    finish();
}
END_TEST

/* A drain that runs out stops the instance, whose stop() cuts short what
 * is left. */
START_TEST(a_drain_that_runs_out_stops_the_instance)
{
    struct tkl_plugin_instance *p = started("echo");
    svc.in_flight = count_pending;
    svc.drain_ms = 50;
    pending = 1; /* never ends */
    tkl_host_retire(&svc, p);
    ck_assert(p->draining);
    assert_closed_then_destroyed();
    ck_assert(!tkl_host_draining(&svc));
    pending = 0;
    finish();
}
END_TEST

/* An easy handle for a server that takes the connection and never
 * answers (a socket that listens and never accepts). */
static CURL *silent_easy(int *ret_fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, len), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *ret_fd = fd;
    return refused_easy(ntohs(a.sin_port));
}

/* Stopping an instance tells the transfers of it that finished (once),
 * takes those still running from the transfer thread (never told; its
 * stop() cancels them) and refuses new ones: none can finish between the
 * last told and the cancel. */
/* The instance being stopped, and whether it was marked stopped when a
 * transfer of its that ended by itself was told (it must not be: such an
 * outcome is judged as any other, not as one stop() cut short). */
static struct tkl_plugin_instance *stopping;
static bool told_stopped;

static void on_counted_while_stopping(void *data, int code)
{
    told_stopped = stopping->stopped;
    on_counted(data, code);
}

START_TEST(a_stopping_instance_loses_no_finished_transfer)
{
    struct tkl_plugin_instance *p = started("echo");
    const struct tkl_host *h = &p->host;
    int fd, sfd, port = tkl_refused_port(&fd);
    CURL *ep = refused_easy(port), *eh = silent_easy(&sfd), *en = refused_easy(port);
    int np = 0, nh = 0;
    stopping = p;
    told_stopped = true;
    ck_assert_int_eq(tkl_transfers_new(&loop, &svc.transfers), 0);
    ck_assert_int_eq(h->transfer_start(h, ep, on_counted_while_stopping, &np), 0);
    ck_assert_int_eq(h->transfer_start(h, eh, on_counted, &nh), 0);
    usleep(300 * 1000); /* the refused one finishes on the transfer thread */
    tkl_host_stop_instance(p);
    ck_assert(p->stopped);
    ck_assert_int_eq(np, 1);  /* told as it ended, not cancelled */
    ck_assert(!told_stopped); /* and as ended by itself */
    ck_assert_int_eq(nh, 0);
    ck_assert_int_eq(h->transfer_start(h, en, on_counted, &np), -ESHUTDOWN);
    ck_assert_ptr_null(p->transfers); /* closed once stop() returned */
    h->transfer_cancel(h, eh);        /* let go already: nothing to do */
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(np + nh, 1);
    tkl_transfers_close(svc.transfers);
    svc.transfers = NULL;
    close(fd);
    close(sfd);
    curl_easy_cleanup(ep);
    curl_easy_cleanup(eh);
    curl_easy_cleanup(en);
    tkl_host_retire(&svc, p);
    assert_closed_then_destroyed();
    finish();
}
END_TEST

START_TEST(abi1_retired_before_abi3_is_destroyed_after_its_own_close)
{
    /* libuv runs close callbacks last in, first out: the ABI 3 instance's
     * runs first and must not take the ABI 1 one, whose callback is still
     * queued, with it */
    struct tkl_plugin_instance *a = started("echo_abi1"), *b = started("echo");
    tkl_host_retire(&svc, a);
    tkl_host_retire(&svc, b);
    int two = 2;
    ck_assert(tkl_run_until(&loop, all_destroyed, &two, 20000));
    int closed = 0, destroyed = 0;
    for (int i = 0; i < n_events; i++) {
        ck_assert(strcmp(events[i], "timer closed") != 0 || destroyed < 2);
        closed += strcmp(events[i], "timer closed") == 0;
        destroyed += strcmp(events[i], "destroyed") == 0;
    }
    ck_assert_int_eq(closed, 2);
    ck_assert_int_eq(destroyed, 2);
    finish();
}
END_TEST

START_TEST(several_instances_and_one_never_started)
{
    struct tkl_plugin_instance *a = started("echo"), *b = started("echo_abi1");
    struct tkl_plugin_instance *idle = open_instance("echo");
    idle->host.log = record;
    tkl_host_retire(&svc, a);
    tkl_host_retire(&svc, idle); /* never started: never stopped, just destroyed */
    tkl_host_retire(&svc, b);
    tkl_host_retire(&svc, NULL);
    ck_assert(!idle->started);
    int three = 3;
    ck_assert(tkl_run_until(&loop, all_destroyed, &three, 20000));
    int closed = 0, destroyed = 0;
    for (int i = 0; i < n_events; i++) {
        closed += strcmp(events[i], "timer closed") == 0;
        destroyed += strcmp(events[i], "destroyed") == 0;
    }
    ck_assert_int_eq(closed, 2);
    ck_assert_int_eq(destroyed, 3);
    ck_assert_str_eq(events[n_events - 1], "destroyed");
    finish();
}
END_TEST

START_TEST(a_close_the_host_cannot_follow_waits_for_the_end)
{
    /* a handle on a loop the services do not own: the host cannot see its
     * close callback, so the instance lives until tkl_host_services_free */
    uv_loop_t other = {.data = NULL};
    ck_assert_int_eq(uv_loop_init(&other), 0);
    struct tkl_plugin_instance *p = open_instance("echo");
    p->host.log = record;
    p->host.loop = &other;
    start(p);
    tkl_host_retire(&svc, p);
    ck_assert(p->untracked);
    ck_assert_int_eq(tkl_loop_finish(&other), 0); /* its close callback ran there */
    ck_assert_int_ge(event_at("timer closed"), 0);
    tkl_run_for(&loop, 100);
    ck_assert_ptr_eq(svc.retired, p); /* still waiting */
    ck_assert_int_eq(event_at("destroyed"), -1);
    finish(); /* tkl_host_services_free destroys it */
    ck_assert_ptr_null(svc.retired);
    ck_assert_int_ge(event_at("destroyed"), 0);
}
END_TEST

START_TEST(retired_after_the_services_stopped)
{
    /* at shutdown: no reaper any more; destroyed by tkl_host_services_free
     * once the loop has ended */
    struct tkl_plugin_instance *p = started("echo_abi1");
    tkl_host_services_stop(&svc);
    tkl_host_retire(&svc, p);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    ck_assert_int_ge(event_at("timer closed"), 0);
    ck_assert_int_eq(event_at("destroyed"), -1);
    tkl_host_services_free(&svc);
    ck_assert_int_ge(event_at("destroyed"), 0);
    ck_assert_ptr_null(svc.retired);
}
END_TEST

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return EXIT_FAILURE;
    Suite *s = suite_create("host");
    TCase *lend = tcase_create("services");
    tcase_add_checked_fixture(lend, setup, teardown);
    tcase_add_test(lend, secrets_are_read_relative_to_the_config_directory);
    tcase_add_test(lend, the_clock_honours_the_offset);
    tcase_add_test(lend, only_the_daemon_lends_a_keep_directory);
    tcase_add_test(lend, the_log_names_the_instance_and_counts_errors);
    tcase_add_test(lend, lines_logged_while_reading_settings_keep_their_order);
    tcase_add_test(lend, items_changed_reaches_the_service);
    tcase_add_test(lend, each_instance_has_transfers_of_its_own);
    tcase_add_test(lend, an_instance_is_told_its_finished_transfers_before_it_stops);
    tcase_add_test(lend, transfers_of_a_plugin_built_before_abi3_are_refused);
    suite_add_tcase(s, lend);
    TCase *retire = tcase_create("retire");
    tcase_add_checked_fixture(retire, setup, teardown);
    tcase_add_test(retire, retired_outside_the_loop_abi3);
    tcase_add_test(retire, retired_outside_the_loop_abi1);
    tcase_add_test(retire, retired_from_a_timer_abi3);
    tcase_add_test(retire, retired_from_a_timer_abi1);
    tcase_add_test(retire, abi1_retired_before_abi3_is_destroyed_after_its_own_close);
    tcase_add_test(retire, a_delivery_in_flight_completes_before_retirement);
    tcase_add_test(retire, a_retired_instance_drains_its_deliveries_before_it_stops);
    tcase_add_test(retire, a_drain_that_runs_out_stops_the_instance);
    tcase_add_test(retire, a_stopping_instance_loses_no_finished_transfer);
    tcase_add_test(retire, several_instances_and_one_never_started);
    tcase_add_test(retire, a_close_the_host_cannot_follow_waits_for_the_end);
    tcase_add_test(retire, retired_after_the_services_stopped);
    suite_add_tcase(s, retire);
    int r = tkl_check_run(s);
    curl_global_cleanup();
    return r;
}
