/*
 * ticklerd: the reminder daemon.
 *
 * This file holds what makes it a daemon: options, signals (TERM and INT
 * stop, HUP reloads) and the systemd protocol (READY, RELOADING, STOPPING,
 * STATUS, WATCHDOG). What it runs is the service (service/service.c); see
 * docs/ARCHITECTURE.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "core/text.h"
#include "core/day.h"
#include "dynlib/libcurl.h"
#include "outbox/outbox.h"
#include "core/diag.h"
#include "core/log.h"
#include "core/secret.h"
#include "runtime/runtime.h"
#include "service/service.h"
#include "source/source.h"
#include "web/web.h"

#ifndef TICKLER_VERSION
#define TICKLER_VERSION "0"
#endif
#ifndef TICKLER_DEFAULT_CONFIG
#define TICKLER_DEFAULT_CONFIG "/etc/tickler/tickler.conf"
#endif

struct options {
    const char *config;
    const char *state_dir;
    const char *log_level;
    const char *plugin_dir;
    const char *now_arg;
    bool check_config;
    bool oneshot;
};

struct daemon {
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t watchdog_timer; /* WATCHDOG=1 at a quarter of WatchdogSec= */
    bool watchdog_active, signals_open;
    struct tkl_service service;
    struct options opt;
    int exit_code;
    int listen_fds[16]; /* sockets systemd passed (ticklerd.socket) */
};

/* STATUS= for systemctl status: actions, pending notices, next reminder.
 * A no-op without NOTIFY_SOCKET, like every sd_notify(). */
static void notify_status(struct daemon *d, const char *extra)
{
    const struct tkl_service *s = &d->service;
    char next[64];
    struct tkl_outbox_stats st = {0};
    const struct tkl_store *store = s->rt ? s->rt->store : NULL;
    (void)tkl_service_next_text(s, next);
    if (s->outbox && tkl_outbox_stats(s->outbox, 0, &st) < 0)
        memset(&st, 0, sizeof(st));
    if (s->last_run_pending) { /* PostgreSQL: the schedule waits for the shared last run */
        sd_notifyf(0,
                   "%sSTATUS=%zu actions, %zu observances, the schedule waits for the last run "
                   "time from PostgreSQL",
                   extra ? extra : "", store ? store->n - store->n_events : 0,
                   store ? store->n_events : 0);
        return;
    }
    int64_t waits = tkl_service_catch_up_at(s);
    if (waits != INT64_MAX) {
        char when[32];
        sd_notifyf(0,
                   "%sSTATUS=%zu actions, %zu observances; what was missed while stopped waits "
                   "for the sending hours, %s; %" PRId64 " notices pending, %" PRId64 " failed",
                   extra ? extra : "", store ? store->n - store->n_events : 0,
                   store ? store->n_events : 0, tkl_format_instant(waits, when),
                   st.pending + st.retrying, st.failed);
        return;
    }
    sd_notifyf(0,
               "%sSTATUS=%zu actions, %zu observances, %zu reminders scheduled, next %s; %" PRId64
               " notices pending, %" PRId64 " failed",
               extra ? extra : "", store ? store->n - store->n_events : 0,
               store ? store->n_events : 0, s->rt ? s->rt->sched.n : 0, next,
               st.pending + st.retrying, st.failed);
}

static void on_changed(struct tkl_service *s)
{
    struct daemon *d = s->data;
    if (!s->stopping)
        notify_status(d, NULL);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

/* Pings systemd's watchdog from the loop at a quarter of WatchdogSec=, so
 * a stuck loop is restarted, and on_signal pings as a reload starts: the
 * reload's load blocks the loop (a plan at a URL for at most 30 s), which
 * stays within the shipped WatchdogSec=60s. */
static void start_watchdog(struct daemon *d)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    uint64_t ms = usec / 4000 ? usec / 4000 : 1;
    if (uv_timer_init(&d->loop, &d->watchdog_timer) < 0)
        return;
    d->watchdog_active = true;
    sd_notify(0, "WATCHDOG=1");
    (void)uv_timer_start(&d->watchdog_timer, on_watchdog, ms, ms);
    log_info("watchdog: pinging systemd every %" PRIu64 " ms", ms);
}

/* The service's stop is over (at once, or after its drain): the signals
 * and the watchdog go, so that the loop can end. Until then a SIGHUP is
 * ignored and a second SIGTERM ends the drain. */
static void on_stopped(struct tkl_service *s)
{
    struct daemon *d = s->data;
    if (d->watchdog_active)
        uv_close((uv_handle_t *)&d->watchdog_timer, NULL);
    d->watchdog_active = false;
    if (d->signals_open) {
        uv_close((uv_handle_t *)&d->sig_term, NULL);
        uv_close((uv_handle_t *)&d->sig_int, NULL);
        uv_close((uv_handle_t *)&d->sig_hup, NULL);
    }
    d->signals_open = false;
}

static void begin_shutdown(struct daemon *d)
{
    if (d->service.stopping)
        return;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    tkl_service_stop(&d->service);
}

static void on_finished(struct tkl_service *s)
{
    begin_shutdown(s->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum != SIGHUP && d->service.stopping) {
        /* said only while the stop waits for the deliveries in flight:
         * later, nothing is left to cut short */
        if (d->service.draining)
            log_notice("stopping now: the deliveries still in flight are cut short and left in "
                       "the %s",
                       d->service.deliverer.shared
                           ? "shared outbox, due at once for a node that runs (this one at its "
                             "next start)"
                           : "outbox for the next start");
        tkl_service_stop_now(&d->service);
        return;
    }
    if (signum != SIGHUP) {
        begin_shutdown(d);
        return;
    }
    if (d->service.stopping) {
        log_notice("stopping: the configuration is not reloaded");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* the load blocks the loop (a plan at a URL up to 30 s): the watchdog's
     * interval starts again here */
    sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%" PRIu64 "%s",
               (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000,
               d->watchdog_active ? "\nWATCHDOG=1" : "");
    tkl_service_reload(&d->service);
    notify_status(d, "READY=1\n");
}

/* ---- options --------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ticklerd [OPTION]...\n"
            "Send reminders for the actions of an action plan.\n\n"
            "  -c, --config FILE      configuration file (default %s)\n"
            "  -f, --foreground       run in the foreground (the default; for systemd)\n"
            "  -t, --check-config     check the configuration, stores and plugins, print\n"
            "                         every problem as file:line: message and exit\n"
            "  -s, --state-dir DIR    state directory (default: $STATE_DIRECTORY, then\n"
            "                         daemon.state_directory)\n"
            "  -n, --now DATETIME     run as if the clock started at DATETIME\n"
            "                         (YYYY-MM-DD[THH:MM[:SS]] local time, or @EPOCH)\n"
            "      --oneshot          send what is due (and caught up), then exit\n"
            "  -p, --plugin-dir DIR   load plugins from DIR (default: daemon.plugin_directory)\n"
            "  -l, --log-level LEVEL  err, warning, notice, info or debug\n"
            "  -V, --version          print the version and exit\n"
            "  -h, --help             print this help and exit\n",
            TICKLER_DEFAULT_CONFIG);
}

/* Reads the options into o. Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"check-config", no_argument, NULL, 't'},
        {"state-dir", required_argument, NULL, 's'},
        {"now", required_argument, NULL, 'n'},
        {"oneshot", no_argument, NULL, 'o'},
        {"plugin-dir", required_argument, NULL, 'p'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    o->config = TICKLER_DEFAULT_CONFIG;
    while ((c = getopt_long(argc, argv, "c:fts:n:p:l:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'f': /* always in the foreground */
            break;
        case 't':
            o->check_config = true;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'n': { /* checked here, read again in the configuration's time zone */
            int64_t t;
            if (tkl_parse_datetime(optarg, &t) < 0) {
                fprintf(stderr, "ticklerd: --now \"%s\" is not YYYY-MM-DD[THH:MM[:SS]] or @EPOCH\n",
                        optarg);
                return 2;
            }
            o->now_arg = optarg;
            break;
        }
        case 'o':
            o->oneshot = true;
            break;
        case 'p':
            o->plugin_dir = optarg;
            break;
        case 'l':
            if (tkl_log_parse_level(optarg) < 0) {
                fprintf(stderr, "ticklerd: unknown log level \"%s\"\n", optarg);
                return 2;
            }
            o->log_level = optarg;
            break;
        case 'V':
            printf("ticklerd %s (plugin ABI %d)\n", TICKLER_VERSION, TICKLER_ABI_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ticklerd: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* ---- running --------------------------------------------------------- */

/* Whether stderr is the journal's stream: $JOURNAL_STREAM names its
 * device and inode (systemd.exec(5)), and is inherited by what the
 * service starts, so it is compared with stderr itself. */
static bool stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    char *end = NULL;
    struct stat st;
    if (!v || fstat(STDERR_FILENO, &st) != 0)
        return false;
    errno = 0;
    unsigned long long dev = strtoull(v, &end, 10);
    if (errno || end == v || *end != ':')
        return false;
    const char *i = end + 1;
    unsigned long long ino = strtoull(i, &end, 10);
    return !errno && end != i && !*end && (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

/* --check-config on SQLite: the notices the state directory's outbox
 * holds for a channel no notifier of cfg serves (a notifier renamed or
 * removed), a warning each on stderr. Nothing when the outbox cannot be
 * read (none yet, or not ours to read). Returns how many channels. */
static size_t warn_unserved(const struct tkl_config *cfg, const char *dir)
{
    struct tkl_outbox *o = NULL;
    struct tkl_channel_waiting *v = NULL;
    size_t n = 0, unserved = 0;
    if (cfg->state.backend != TKL_STATE_SQLITE || !dir ||
        tkl_outbox_open_readonly(dir, &o, NULL) < 0)
        return 0;
    if (tkl_outbox_waiting_channels(o, &v, &n) < 0)
        n = 0;
    tkl_outbox_close(o);
    for (size_t i = 0; i < n; i++) {
        if (tkl_config_notifier(cfg, v[i].channel))
            continue;
        unserved++;
        const char *them = v[i].n == 1 ? "it" : "them";
        fprintf(stderr,
                "warning: %s/tickler.db: %" PRId64 " notice%s queued for notifier %s, which "
                "this configuration does not have (renamed or removed?): ticklerd keeps %s "
                "until %d hour%s old, then fails and reports %s; name a notifier %s again to "
                "send %s\n",
                dir, v[i].n, tkl_plural((size_t)v[i].n), v[i].channel, them,
                cfg->delivery.max_age_hours, tkl_plural((size_t)cfg->delivery.max_age_hours), them,
                v[i].channel, them);
    }
    tkl_channel_waiting_free(v, n);
    return unserved;
}

/* --check-config: the runtime's one check; every problem as file:line.
 * Fails for what stops ticklerd starting (or taking a reload): the
 * errors among the diagnostics. What a plugin logged as an error beside
 * them (a calendar file it could not read: ticklerd starts without it) is
 * counted apart, so the check and the start agree. */
static int check_config(struct daemon *d)
{
    struct tkl_diags diags = {0};
    struct tkl_runtime *rt = NULL;
    bool journal = stderr_is_journal();
    /* what plugins log as they load (a calendar's count of events, its
     * warnings) the daemon logs again as it loads: under the unit, only the
     * errors, which it counts apart */
    if (journal && !d->opt.log_level)
        tkl_log_set_level(TKL_LOG_ERR);
    int r = tkl_runtime_load(&d->service.env, &rt, &diags);
    size_t errors = diags.n_errors, logged = d->service.svc.n_errors;
    bool passed = r == 0 && !errors;
    /* under the unit (ExecStartPre, ExecReload) the journal reads stderr:
     * each line at its priority, so journalctl -p err shows the errors. A
     * check that passes there is followed by the start or the reload it
     * vets, which logs the same warnings: they are left to it, so that
     * the journal has each once; a check that fails is all there is */
    if (journal && !passed)
        tkl_diags_print_journal(&diags, stderr);
    else if (!journal)
        tkl_diags_print(&diags, stderr);
    char also[96] = "";
    if (logged)
        snprintf(also, sizeof(also), "; %zu error%s logged above, which ticklerd starts with",
                 logged, tkl_plural(logged));
    size_t warnings = diags.n - diags.n_errors;
    /* the reload the unit's check vets warns of them in the journal */
    if (passed && !journal)
        warnings += warn_unserved(rt->cfg, d->service.env.state_dir);
    if (passed) {
        size_t actions = rt->store->n - rt->store->n_events;
        printf("%s: configuration ok: %zu action%s, %zu observance%s in the next %d days, %zu "
               "team%s, %zu notifier%s (%zu warning%s%s%s)\n",
               d->opt.config, actions, tkl_plural(actions), rt->store->n_events,
               tkl_plural(rt->store->n_events), TKL_SOURCE_DAYS_AHEAD, rt->cfg->teams.n,
               tkl_plural(rt->cfg->teams.n), rt->cfg->n_notifiers, tkl_plural(rt->cfg->n_notifiers),
               warnings, tkl_plural(warnings),
               journal && warnings ? ", which ticklerd logs as it loads the configuration" : "",
               also);
    } else {
        printf("%s: configuration has %zu error%s\n", d->opt.config, errors ? errors : 1,
               errors > 1 ? "s" : "");
    }
    tkl_diags_free(&diags);
    tkl_runtime_free(rt);
    return passed ? 0 : 1;
}

static void init_signals(struct daemon *d)
{
    uv_signal_t *sigs[] = {&d->sig_term, &d->sig_int, &d->sig_hup};
    const int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        (void)uv_signal_init(&d->loop, sigs[i]); /* cannot fail on Linux */
        sigs[i]->data = d;
        if (uv_signal_start(sigs[i], on_signal, nums[i]) < 0)
            log_error("cannot handle signal %d", nums[i]);
    }
    d->signals_open = true;
}

/* The listening sockets of socket activation (ticklerd.socket), for the
 * web face. Returns 0 or -EINVAL when what systemd passed is not that. */
static int take_sockets(struct daemon *d)
{
    int n = sd_listen_fds(1);
    if (n < 0) {
        log_error("cannot read the sockets systemd passed: %s", strerror(-n));
        return -EINVAL;
    }
    if ((size_t)n > sizeof(d->listen_fds) / sizeof(d->listen_fds[0])) {
        log_error("systemd passed %d sockets; ticklerd serves at most 16", n);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            log_error("socket %d that systemd passed is not a listening stream socket "
                      "(ticklerd.socket takes ListenStream= only)",
                      i + 1);
            return -EINVAL;
        }
        d->listen_fds[i] = fd;
    }
    d->service.listen_fds = d->listen_fds;
    d->service.n_listen_fds = (size_t)n;
    return 0;
}

static int daemon_run(struct daemon *d)
{
    struct tkl_service *s = &d->service;
    if (take_sockets(d) < 0)
        return 1;
    s->http_page = tkl_web_handle;
    int r = tkl_service_load(s);
    if (r < 0)
        return 1;
    if ((r = uv_loop_init(&d->loop)) < 0) {
        log_error("cannot set up the event loop: %s", uv_strerror(r));
        return 1;
    }
    init_signals(d);
    if (tkl_service_start(s, &d->loop) < 0) {
        d->exit_code = 1;
        begin_shutdown(d);
    } else {
        char buf[64];
        if (s->last_run_pending)
            log_notice("ticklerd %s started: %zu actions, %zu observances; the schedule is built "
                       "once PostgreSQL gives the last run time",
                       TICKLER_VERSION, s->rt->store->n - s->rt->store->n_events,
                       s->rt->store->n_events);
        else if (tkl_service_catch_up_at(s) != INT64_MAX)
            log_notice("ticklerd %s started: %zu actions, %zu observances; the schedule is built "
                       "at the next send time, %s, what was missed while stopped with it",
                       TICKLER_VERSION, s->rt->store->n - s->rt->store->n_events,
                       s->rt->store->n_events, tkl_format_instant(tkl_service_catch_up_at(s), buf));
        else
            log_notice("ticklerd %s started: %zu actions, %zu observances, %zu reminders "
                       "scheduled, next %s",
                       TICKLER_VERSION, s->rt->store->n - s->rt->store->n_events,
                       s->rt->store->n_events, s->rt->sched.n, tkl_service_next_text(s, buf));
        start_watchdog(d);
        /* config, stores and plugins are loaded and the timers armed */
        notify_status(d, "READY=1\n");
    }
    (void)uv_run(&d->loop, UV_RUN_DEFAULT);
    /* every handle is closed and every close callback has run */
    if ((r = uv_loop_close(&d->loop)) != 0) {
        log_error("libuv handles left open at exit: %s", uv_strerror(r));
        return 1;
    }
    for (size_t i = 0; i < s->n_listen_fds; i++)
        close(d->listen_fds[i]);
    log_notice("stopped");
    return d->exit_code ? d->exit_code : s->failed ? 1 : 0;
}

/* The state directory given on the command line or by systemd, if any. */
static char *state_dir_of(const struct options *o)
{
    const char *sd = o->state_dir ? o->state_dir : getenv("STATE_DIRECTORY");
    if (!sd)
        return NULL;
    const char *colon = strchr(sd, ':'); /* systemd lists several; the first is ours */
    return colon ? strndup(sd, (size_t)(colon - sd)) : strdup(sd);
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    if (tkl_std_streams_open() < 0)
        return 1;
    int r = parse_options(argc, argv, &d.opt);
    if (r >= 0)
        return r;
    tkl_secret_set_credentials_fallback(TICKLER_CREDENTIALS_DIR);
    if (d.opt.log_level)
        tkl_log_set_level(tkl_log_parse_level(d.opt.log_level));
    (void)setvbuf(stderr, NULL, _IOLBF, 0); /* unbuffered stays correct, only slower */
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
#ifdef __GLIBC__
    /* a large block (a load's arrays) mapped on its own and given back to
     * the system when freed: glibc would otherwise raise this threshold to
     * the size of the first such block freed, and keep each reload's
     * arrays in its heap, resident, once the load is over. Advice: on
     * failure malloc keeps its own threshold; one the administrator set
     * (glibc's environment) is left as it is */
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (!getenv("MALLOC_MMAP_THRESHOLD_") && !(tunables && strstr(tunables, "mmap_threshold")))
        (void)mallopt(M_MMAP_THRESHOLD, 128 << 10);
#endif
    /* the daemon's transfers, notifiers and web face all use libcurl: it
     * is loaded and initialised before any other thread starts */
    char err[512];
    if (tkl_libcurl_load(err, sizeof(err)) < 0) {
        fprintf(stderr, "ticklerd: %s\n", err);
        return 1;
    }
    d.service.env = (struct tkl_runtime_env){
        .config_path = d.opt.config,
        .plugin_dir = d.opt.plugin_dir,
        .state_dir = state_dir_of(&d.opt),
        .now_arg = d.opt.now_arg,
        .cold_store = !d.opt.check_config,
        .keep_plans = true,
        .read_once = d.opt.check_config, /* no hashes a reload would compare */
    };
    if ((d.opt.state_dir || getenv("STATE_DIRECTORY")) && !d.service.env.state_dir) {
        fprintf(stderr, "ticklerd: out of memory\n");
        tkl_libcurl_cleanup();
        return 1;
    }
    d.service.env.svc = &d.service.svc;
    d.service.svc.loop = &d.loop; /* plugins keep it; initialised before they start */
    d.service.oneshot = d.opt.oneshot;
    d.service.log_level_override = d.opt.log_level != NULL;
    d.service.changed = on_changed;
    d.service.finished = on_finished;
    d.service.stopped = on_stopped;
    d.service.data = &d;
    r = d.opt.check_config ? check_config(&d) : daemon_run(&d);
    tkl_service_free(&d.service);
    tkl_libcurl_cleanup();
    return r;
}
