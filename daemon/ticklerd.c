/*
 * ticklerd: the reminder daemon.
 *
 * One libuv loop drives everything: the store watcher, the scheduler's one
 * timer, the outbox delivery timer, the notifier plugins and the signals.
 * The pipeline is store -> schedule -> route -> outbox -> notifier; see
 * docs/ARCHITECTURE.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "core/config.h"
#include "core/day.h"
#include "core/diag.h"
#include "core/log.h"
#include "outbox/outbox.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "route/route.h"
#include "schedule/scheduler.h"
#include "source/source.h"
#include "store/store.h"
#include "store/watch.h"
#include "transfer/transfer.h"

#ifndef TICKLER_VERSION
#define TICKLER_VERSION "0"
#endif
#ifndef TICKLER_DEFAULT_CONFIG
#define TICKLER_DEFAULT_CONFIG "/etc/tickler/tickler.conf"
#endif

#define DELIVER_BATCH 64
#define WAKEUP_FILE   "wakeup" /* in the state directory; see tickler retry */

struct options {
    const char *config;
    const char *state_dir;
    const char *log_level;
    const char *plugin_dir;
    const char *now_arg;
    bool foreground;
    bool check_config;
    bool oneshot;
};

struct notifier {
    struct tkl_plugin_instance *plugin;
    unsigned in_flight;
};

struct daemon;

struct delivery {
    struct daemon *d;
    struct notifier *n; /* NULL once its plugin was retired */
    struct tkl_stored_notice *s;
    struct delivery *next;
};

struct daemon {
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t sched_timer, deliver_timer, retire_timer;
    uv_timer_t watchdog_timer; /* WATCHDOG=1 at half of WatchdogSec= */
    uv_timer_t day_timer;      /* after local midnight: sources read again */
    bool watchdog_active;
    uv_fs_event_t wakeup; /* the state directory, for tickler retry */
    bool wakeup_active;
    struct tkl_host_services svc; /* what plugins are lent; owns the transfers */
    struct options opt;
    int64_t clock_offset;
    struct tkl_config *cfg;
    struct tkl_store *store;
    struct tkl_scheduler sched;
    struct tkl_watch *watch; /* NULL when not watching */
    struct tkl_outbox *outbox;
    char *state_dir;
    struct notifier *notifiers;
    size_t n_notifiers;
    struct notifier *retired; /* stopped plugins awaiting destroy */
    size_t n_retired;
    struct tkl_sources sources;
    struct tkl_sources *retired_sources; /* stopped by reloads, awaiting destroy */
    size_t n_retired_sources;
    struct delivery *in_flight;
    size_t n_in_flight;
    bool stopping;
    int exit_code;
};

static int64_t daemon_now(const struct daemon *d)
{
    return (int64_t)time(NULL) + d->clock_offset;
}

static int64_t daemon_now_ms(const struct daemon *d)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec + d->clock_offset) * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds from now until instant at (whole seconds), so that a timer
 * never fires before at. */
static uint64_t ms_until(const struct daemon *d, int64_t at)
{
    int64_t ms = at * 1000 - daemon_now_ms(d);
    return ms > 0 ? (uint64_t)ms : 0;
}

/* STATUS= for systemctl status: actions, pending notices, next reminder.
 * A no-op without NOTIFY_SOCKET, like every sd_notify(). */
static void notify_status(struct daemon *d, const char *extra)
{
    char next[32] = "none";
    struct tkl_outbox_stats st = {0};
    int64_t at = tkl_scheduler_next_at(&d->sched);
    if (at != INT64_MAX)
        tkl_format_instant(at, next);
    if (d->outbox)
        tkl_outbox_stats(d->outbox, 0, &st);
    sd_notifyf(0,
               "%sSTATUS=%zu actions, %zu observances, %zu reminders scheduled, next %s; %" PRId64
               " notices pending, %" PRId64 " failed",
               extra ? extra : "", d->store ? d->store->n - d->store->n_events : 0,
               d->store ? d->store->n_events : 0, d->sched.n, next, st.pending + st.retrying,
               st.failed);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

/* Pings systemd's watchdog from the loop at half of WatchdogSec=, so a
 * stuck loop is restarted. */
static void start_watchdog(struct daemon *d)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    uint64_t ms = usec / 2000 ? usec / 2000 : 1;
    if (uv_timer_init(&d->loop, &d->watchdog_timer) < 0)
        return;
    d->watchdog_active = true;
    sd_notify(0, "WATCHDOG=1");
    uv_timer_start(&d->watchdog_timer, on_watchdog, ms, ms);
    log_info("watchdog: pinging systemd every %" PRIu64 " ms", ms);
}

/* The plugin directory: --plugin-dir, else the configuration's. */
static const char *plugin_dir_of(const struct daemon *d, const struct tkl_config *c)
{
    return d->opt.plugin_dir ? d->opt.plugin_dir : c->plugin_dir;
}

/* Opens and inits every configured notifier. Returns 0 or a negative errno
 * with the problems in diags; on failure nothing is left open. */
static int open_notifiers(struct daemon *d, const struct tkl_config *c, struct notifier **ret,
                          size_t *ret_n, struct tkl_diags *diags)
{
    const char *plugin_dir = plugin_dir_of(d, c);
    struct notifier *v = calloc(c->n_notifiers + 1, sizeof(*v));
    size_t n = 0;
    int r = 0;
    if (!v)
        return -ENOMEM;
    d->svc.loop = &d->loop;
    d->svc.clock_offset = d->clock_offset;
    for (size_t i = 0; i < c->n_notifiers; i++) {
        struct tkl_plugin_instance *p = NULL;
        int rr =
            tkl_notifier_open(plugin_dir, c, &c->notifiers[i], &d->svc, d->state_dir, &p, diags);
        if (rr < 0) {
            if (rr == -ENOMEM || !r)
                r = rr;
            continue;
        }
        v[n++].plugin = p;
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            tkl_plugin_close(v[i].plugin);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static void kick_delivery(struct daemon *d);
static void arm_scheduler(struct daemon *d);

/* ---- delivery -------------------------------------------------------- */

static struct notifier *notifier_for(struct daemon *d, const char *channel)
{
    for (size_t i = 0; i < d->n_notifiers; i++)
        if (strcmp(d->notifiers[i].plugin->instance, channel) == 0)
            return &d->notifiers[i];
    return NULL;
}

static bool is_in_flight(struct daemon *d, uint64_t id)
{
    for (struct delivery *x = d->in_flight; x; x = x->next)
        if (x->s->notice.id == id)
            return true;
    return false;
}

static int64_t backoff(int first, int attempts, int32_t retry_after)
{
    /* first (30 s) doubling to an hour, with up to 25 % jitter */
    int64_t base = first;
    for (int i = 1; i < attempts && base < 3600; i++)
        base *= 2;
    if (base > 3600)
        base = 3600;
    base += rand() % (base / 4 + 1);
    return retry_after > base ? retry_after : base;
}

/*
 * Tells delivery.report_to that notice s failed for good: one notice per
 * recipient of that team, through the outbox like any other. A failed
 * report is not reported again.
 */
static void report_failure(struct daemon *d, const struct tkl_stored_notice *s, const char *reply,
                           int64_t now)
{
    const struct tkl_notice *failed = &s->notice;
    const struct tkl_team *admin = d->cfg->delivery.report_to
                                       ? tkl_team_find(&d->cfg->teams, d->cfg->delivery.report_to)
                                       : NULL;
    if (!admin)
        return;
    for (size_t i = 0; i < failed->n_entries; i++)
        if (s->entries[i].stage == TKL_STAGE_REPORT)
            return;
    char item[48], key[48], title[512];
    snprintf(item, sizeof(item), "notice-%" PRIu64, failed->id);
    snprintf(key, sizeof(key), "failure-%" PRIu64, failed->id);
    snprintf(title, sizeof(title),
             "A reminder for %s (%zu action%s) could not be delivered to %s by %s",
             failed->team_name ? failed->team_name : "a team", failed->n_entries,
             failed->n_entries == 1 ? "" : "s", failed->recipient, failed->channel);
    struct tkl_notice_entry e = {
        .size = sizeof(e),
        .item_id = item,
        .title = title,
        .owners = failed->team_name,
        .status = "failed",
        .progress = reply,
        .deadline_day = TKL_NO_DAY,
        .kind = TKL_DEADLINE_UNDATED,
        .stage = TKL_STAGE_REPORT,
    };
    const char *keys[] = {key};
    for (size_t i = 0; i < admin->n_recipients; i++) {
        struct tkl_notice n = {
            .size = sizeof(n),
            .channel = admin->recipients[i].channel,
            .recipient = admin->recipients[i].address,
            .team_id = admin->id,
            .team_name = admin->name,
            .due_at = now,
            .entries = &e,
            .n_entries = 1,
        };
        uint64_t id = 0;
        int r = tkl_outbox_put(d->outbox, &n, keys, now, &id);
        if (r < 0)
            log_error("cannot queue the failure report: %s; notice=%" PRIu64, strerror(-r),
                      failed->id);
        else if (id)
            log_info("queued failure report; notice=%" PRIu64 " failed=%" PRIu64
                     " channel=%s team=%s recipient=%s",
                     id, failed->id, n.channel, admin->id, n.recipient);
    }
}

/* Marks notice s failed with reply, logs it (why adds to the message) and
 * reports it to delivery.report_to. */
static void fail_for_good(struct daemon *d, const struct tkl_stored_notice *s, const char *reply,
                          const char *why, int64_t now)
{
    const struct tkl_notice *n = &s->notice;
    int r = tkl_outbox_mark_failed(d->outbox, n->id, now, reply);
    if (r < 0)
        log_error("cannot record the outcome of notice %" PRIu64 " in the outbox: %s", n->id,
                  strerror(-r));
    log_error("delivery failed for good%s: %s; notice=%" PRIu64 " channel=%s recipient=%s", why,
              reply, n->id, n->channel, n->recipient);
    report_failure(d, s, reply, now);
}

static void on_delivered(void *data, const struct tkl_delivery *res)
{
    struct delivery *x = data;
    struct daemon *d = x->d;
    const struct tkl_notice *n = &x->s->notice;
    int64_t now = daemon_now(d);
    const char *reply = res && res->reply ? res->reply : "";
    int r;

    for (struct delivery **p = &d->in_flight; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    d->n_in_flight--;
    if (x->n)
        x->n->in_flight--;

    int64_t max_age = (int64_t)d->cfg->delivery.max_age_hours * 3600;
    if (d->stopping && res && res->status == TKL_DELIVERY_TRANSIENT) {
        /* cut short by our own shutdown: stays pending, sent at next start */
        r = tkl_outbox_mark_retry(d->outbox, n->id, now, reply);
        log_notice("delivery interrupted by shutdown; kept in the outbox; notice=%" PRIu64
                   " channel=%s recipient=%s",
                   n->id, n->channel, n->recipient);
    } else if (res && res->status == TKL_DELIVERY_OK) {
        r = tkl_outbox_mark_delivered(d->outbox, n->id, now, reply);
        log_info("delivered notice: %zu action(s) to %s; notice=%" PRIu64
                 " channel=%s team=%s recipient=%s",
                 n->n_entries, n->recipient, n->id, n->channel, n->team_id ? n->team_id : "-",
                 n->recipient);
    } else if (res && res->status == TKL_DELIVERY_TRANSIENT && now - x->s->created_at < max_age) {
        /* rounded up, so the wait (a server's Retry-After) is never cut short */
        int64_t wait =
            backoff(d->cfg->delivery.retry_min_seconds, x->s->attempts + 1, res->retry_after);
        int64_t next = (daemon_now_ms(d) + wait * 1000 + 999) / 1000;
        r = tkl_outbox_mark_retry(d->outbox, n->id, next, reply);
        log_warning("delivery failed, will retry in %" PRId64 " s: %s; notice=%" PRIu64
                    " channel=%s recipient=%s",
                    next - now, reply, n->id, n->channel, n->recipient);
    } else {
        fail_for_good(
            d, x->s, reply,
            res && res->status == TKL_DELIVERY_TRANSIENT ? " (retried for the maximum age)" : "",
            now);
        r = 0; /* fail_for_good logged any outbox error */
    }
    if (r < 0)
        log_error("cannot record the outcome of notice %" PRIu64 " in the outbox: %s", n->id,
                  strerror(-r));
    tkl_stored_notice_free(x->s);
    free(x);
    if (d->n_in_flight == 0 && !d->stopping)
        notify_status(d, NULL);
    kick_delivery(d);
}

static void on_kick(uv_timer_t *t);

/* True when every notifier has delivery.concurrency notices in flight, so
 * no due notice could start now (with no notifiers, a due notice is failed
 * for good, so there is work to do). */
static bool notifiers_full(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_notifiers; i++)
        if (d->notifiers[i].in_flight < (unsigned)d->cfg->delivery.concurrency)
            return false;
    return d->n_notifiers > 0;
}

/* Starts deliveries of due outbox notices, within the per-notifier limit,
 * and arms the delivery timer for the next retry. */
static void deliver_due(struct daemon *d)
{
    uint64_t ids[DELIVER_BATCH];
    int64_t now = daemon_now(d);
    if (d->stopping)
        return;
    int n = tkl_outbox_due(d->outbox, now, ids, DELIVER_BATCH);
    if (n < 0) {
        log_error("cannot read the outbox: %s", strerror(-n));
        n = 0;
    }
    for (int i = 0; i < n && !notifiers_full(d); i++) {
        if (is_in_flight(d, ids[i]))
            continue;
        struct tkl_stored_notice *s = NULL;
        int r = tkl_outbox_get(d->outbox, ids[i], &s);
        if (r < 0) {
            log_error("cannot read notice %" PRIu64 " from the outbox: %s", ids[i], strerror(-r));
            continue;
        }
        struct notifier *nt = notifier_for(d, s->notice.channel);
        if (!nt) {
            fail_for_good(d, s, "no notifier with this name is configured",
                          " (fix the configuration, then tickler retry)", now);
            tkl_stored_notice_free(s);
            continue;
        }
        if (nt->in_flight >= (unsigned)d->cfg->delivery.concurrency) {
            tkl_stored_notice_free(s);
            continue;
        }
        struct delivery *x = calloc(1, sizeof(*x));
        if (!x) {
            tkl_stored_notice_free(s);
            log_error("out of memory starting a delivery");
            break;
        }
        x->d = d;
        x->n = nt;
        x->s = s;
        x->next = d->in_flight;
        d->in_flight = x;
        d->n_in_flight++;
        nt->in_flight++;
        if ((r = tkl_outbox_mark_sending(d->outbox, ids[i])) < 0)
            log_warning("cannot record the start of a delivery: %s; notice=%" PRIu64, strerror(-r),
                        ids[i]);
        r = nt->plugin->desc->deliver(nt->plugin->state, &s->notice, on_delivered, x);
        if (r < 0) {
            struct tkl_delivery res = {
                .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = strerror(-r)};
            on_delivered(x, &res);
            return; /* on_delivered kicked the next round */
        }
    }
    int64_t next = tkl_outbox_next_attempt(d->outbox);
    if (next != INT64_MAX && next > now) {
        uv_timer_start(&d->deliver_timer, on_kick, ms_until(d, next), 0);
    }
    if (d->opt.oneshot && d->n_in_flight == 0) {
        if (next != INT64_MAX && next <= now)
            return; /* more due right now: kick_delivery continues */
        struct tkl_outbox_stats st;
        if (next != INT64_MAX && tkl_outbox_stats(d->outbox, 0, &st) == 0)
            log_notice("--oneshot: %" PRId64 " notices wait for a retry; they stay in the "
                       "outbox for the next run",
                       st.pending + st.retrying);
        log_info("--oneshot: everything due has been handled; stopping");
        uv_kill(getpid(), SIGTERM);
    }
}

static void on_kick(uv_timer_t *t)
{
    deliver_due(t->data);
}

static void kick_delivery(struct daemon *d)
{
    if (!d->stopping)
        uv_timer_start(&d->deliver_timer, on_kick, 0, 0);
}

/* ---- schedule -------------------------------------------------------- */

/* Takes every due reminder, routes it into digests and commits them to the
 * outbox. Returns the number of notices committed. */
static size_t run_due(struct daemon *d)
{
    int64_t now = daemon_now(d);
    int32_t today = tkl_local_day(now);
    struct tkl_route_batch batch = {0};
    struct tkl_due due;
    size_t committed = 0;
    int64_t batch_at = INT64_MIN;

    while (tkl_scheduler_pop_due(&d->sched, d->cfg, d->store, now, &due) == 0) {
        size_t routed = 0;
        if (tkl_route_add(&batch, d->cfg, &due, today, &routed) < 0) {
            log_error("out of memory routing reminders; they will be retried");
            break;
        }
        if (batch_at < due.at)
            batch_at = due.at;
        if (!routed)
            log_warning("team has no recipients; reminder not sent: %s; action=%s team=%s "
                        "stage=%s",
                        due.action->title, due.action->id, d->cfg->teams.teams[due.team].id,
                        due.r.key);
    }
    if (tkl_route_sort(&batch) < 0)
        log_error("out of memory ordering digests; they are sent unordered");
    for (size_t i = 0; i < batch.n; i++) {
        struct tkl_notice n;
        const char *keys[batch.digests[i].n + 1];
        tkl_route_notice(&batch.digests[i], &n);
        n.due_at = batch_at;
        for (size_t k = 0; k < batch.digests[i].n; k++)
            keys[k] = batch.digests[i].stage_keys[k];
        uint64_t id = 0;
        int r = tkl_outbox_put(d->outbox, &n, keys, now, &id);
        if (r < 0) {
            log_error("cannot commit a notice to the outbox: %s; channel=%s recipient=%s",
                      strerror(-r), n.channel, n.recipient);
            continue;
        }
        if (id) {
            committed++;
            log_info("queued notice: %zu action(s); notice=%" PRIu64
                     " channel=%s team=%s recipient=%s",
                     n.n_entries, id, n.channel, n.team_id, n.recipient);
        }
    }
    tkl_route_batch_free(&batch);
    int r = tkl_outbox_set_meta(d->outbox, "last_run", now);
    if (r < 0)
        log_warning("cannot record the last run time: %s", strerror(-r));
    return committed;
}

static void on_sched_timer(uv_timer_t *t)
{
    struct daemon *d = t->data;
    if (run_due(d))
        kick_delivery(d);
    arm_scheduler(d);
    notify_status(d, NULL);
}

static void arm_scheduler(struct daemon *d)
{
    int64_t next = tkl_scheduler_next_at(&d->sched);
    if (next == INT64_MAX) {
        uv_timer_stop(&d->sched_timer);
        return;
    }
    uv_timer_start(&d->sched_timer, on_sched_timer, ms_until(d, next), 0);
}

/* ---- store reload ---------------------------------------------------- */

/* Loads the plan's store and adds the sources' observances around today.
 * Problems are logged. Returns 0 with *ret set, or a negative errno. */
static int load_plan(struct daemon *d, const struct tkl_config *c,
                     const struct tkl_sources *sources, struct tkl_store **ret, bool quiet_ok)
{
    struct tkl_diags diags = {0};
    struct tkl_store *st = NULL;
    int r = tkl_store_load(&c->store, &c->teams, &st, &diags);
    if (r == 0 && (r = tkl_sources_add_to_store(sources, tkl_local_day(daemon_now(d)), st,
                                                &c->teams, &diags)) < 0) {
        tkl_store_free(st);
        st = NULL;
        log_error("cannot read the observances of the sources: %s", strerror(-r));
    }
    if (r == 0)
        *ret = st;
    for (size_t i = 0; i < diags.n; i++) {
        char line[2048];
        tkl_diag_format(&diags.items[i], line, sizeof(line));
        tkl_log(diags.items[i].severity == TKL_SEV_ERROR ? TKL_LOG_ERR
                : quiet_ok                               ? TKL_LOG_INFO
                                                         : TKL_LOG_WARNING,
                "%s", line);
    }
    tkl_diags_free(&diags);
    return r;
}

static void on_store_changed(void *data)
{
    struct daemon *d = data;
    struct tkl_store *fresh = NULL;
    if (d->stopping)
        return;
    int r = load_plan(d, d->cfg, &d->sources, &fresh, false);
    if (r < 0) {
        log_error("the store could not be read (%s); keeping the last good store of %zu actions",
                  strerror(-r), d->store->n - d->store->n_events);
        return;
    }
    size_t changed = 0;
    r = tkl_scheduler_reload(&d->sched, d->cfg, d->store, fresh, daemon_now(d), &changed);
    if (r < 0) {
        log_error("out of memory rescheduling; keeping the last good store");
        tkl_store_free(fresh);
        return;
    }
    tkl_store_free(d->store);
    d->store = fresh;
    log_notice("store reloaded: %zu actions, %zu observances, %zu changed",
               fresh->n - fresh->n_events, fresh->n_events, changed);
    arm_scheduler(d);
    notify_status(d, NULL);
}

/* A source's items changed (a calendar file was edited). */
static void on_items_changed(void *data, const char *instance)
{
    struct daemon *d = data;
    log_notice("source \"%s\" changed; rescheduling", instance);
    on_store_changed(d);
}

static void arm_day_timer(struct daemon *d);

/* A new day: the window of observances read from the sources moves on. */
static void on_day(uv_timer_t *t)
{
    struct daemon *d = t->data;
    if (d->sources.n)
        on_store_changed(d);
    arm_day_timer(d);
}

static void arm_day_timer(struct daemon *d)
{
    int32_t today = tkl_local_day(daemon_now(d));
    uv_timer_start(&d->day_timer, on_day, ms_until(d, tkl_local_instant(today + 1, 1)), 0);
}

/* Watches the configured store files; on failure the daemon runs on and
 * reads edits on SIGHUP only. */
static void start_watch(struct daemon *d)
{
    if (tkl_watch_start(&d->loop, &d->cfg->store, d->cfg->debounce_ms, on_store_changed, d,
                        &d->watch) < 0)
        log_warning("cannot watch the store files; edits are read on SIGHUP only");
}

/* ---- wake-up by tickler retry ----------------------------------------- */

static void on_wakeup(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct daemon *d = h->data;
    (void)events;
    if (status == 0 && filename && strcmp(filename, WAKEUP_FILE) == 0) {
        log_info("woken by tickler retry; reading the outbox");
        kick_delivery(d);
    }
}

/* Watches the state directory for WAKEUP_FILE, which `tickler retry`
 * touches after re-queueing notices; without it, they go at the next
 * delivery round. */
static void start_wakeup(struct daemon *d)
{
    if (uv_fs_event_init(&d->loop, &d->wakeup) < 0)
        return;
    d->wakeup.data = d;
    if (uv_fs_event_start(&d->wakeup, on_wakeup, d->state_dir, 0) < 0) {
        uv_close((uv_handle_t *)&d->wakeup, NULL);
        log_warning("cannot watch %s; notices re-queued by tickler retry go at the next "
                    "delivery round or on SIGHUP",
                    d->state_dir);
        return;
    }
    d->wakeup_active = true;
}

/* ---- plugin retirement ----------------------------------------------- */

static void on_retire(uv_timer_t *t)
{
    struct daemon *d = t->data;
    for (size_t i = 0; i < d->n_retired_sources; i++)
        tkl_sources_close(&d->retired_sources[i]);
    free(d->retired_sources);
    d->retired_sources = NULL;
    d->n_retired_sources = 0;
    for (size_t i = 0; i < d->n_retired; i++)
        tkl_plugin_close(d->retired[i].plugin);
    free(d->retired);
    d->retired = NULL;
    d->n_retired = 0;
}

/* Stops every notifier; their destroy runs after the loop has run the
 * close callbacks of the handles stop() closed. */
static void retire_notifiers(struct daemon *d)
{
    for (size_t i = 0; i < d->n_notifiers; i++)
        d->notifiers[i].plugin->desc->stop(d->notifiers[i].plugin->state);
    for (struct delivery *x = d->in_flight; x; x = x->next)
        x->n = NULL;
    struct notifier *v = realloc(d->retired, (d->n_retired + d->n_notifiers + 1) * sizeof(*v));
    if (!v) {
        log_error("out of memory retiring notifiers; their memory is leaked");
    } else {
        memcpy(v + d->n_retired, d->notifiers, d->n_notifiers * sizeof(*v));
        d->retired = v;
        d->n_retired += d->n_notifiers;
    }
    free(d->notifiers);
    d->notifiers = NULL;
    d->n_notifiers = 0;
    uv_timer_start(&d->retire_timer, on_retire, 0, 0);
}

static int start_notifiers(struct daemon *d)
{
    for (size_t i = 0; i < d->n_notifiers; i++) {
        struct tkl_plugin_instance *p = d->notifiers[i].plugin;
        int r = p->desc->start ? p->desc->start(p->state) : 0;
        if (r < 0) {
            log_error("notifier \"%s\" did not start: %s", p->instance, strerror(-r));
            return r;
        }
        p->started = true;
    }
    return 0;
}

/* ---- signals --------------------------------------------------------- */

static void close_cb_nop(uv_handle_t *h)
{
    (void)h;
}

static void begin_shutdown(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    log_notice("stopping: %zu deliveries in flight are completed or left in the outbox",
               d->n_in_flight);
    /* plugins complete their pending deliveries (in flight ones end as
     * transient and stay pending in the outbox for the next start) */
    for (size_t i = 0; i < d->n_notifiers; i++)
        d->notifiers[i].plugin->desc->stop(d->notifiers[i].plugin->state);
    tkl_sources_stop(&d->sources);
    if (d->outbox)
        tkl_outbox_set_meta(d->outbox, "last_run", daemon_now(d));
    tkl_transfers_close(d->svc.transfers);
    d->svc.transfers = NULL;
    if (d->watchdog_active)
        uv_close((uv_handle_t *)&d->watchdog_timer, close_cb_nop);
    d->watchdog_active = false;
    if (d->wakeup_active)
        uv_close((uv_handle_t *)&d->wakeup, close_cb_nop);
    d->wakeup_active = false;
    tkl_watch_close(d->watch);
    d->watch = NULL;
    uv_close((uv_handle_t *)&d->sched_timer, close_cb_nop);
    uv_close((uv_handle_t *)&d->day_timer, close_cb_nop);
    uv_close((uv_handle_t *)&d->deliver_timer, close_cb_nop);
    uv_close((uv_handle_t *)&d->sig_term, close_cb_nop);
    uv_close((uv_handle_t *)&d->sig_int, close_cb_nop);
    uv_close((uv_handle_t *)&d->sig_hup, close_cb_nop);
}

static void reload_config(struct daemon *d)
{
    struct tkl_diags diags = {0};
    struct tkl_config *c = NULL;
    struct tkl_store *store = NULL;
    struct notifier *nv = NULL;
    struct tkl_sources sources = {0};
    size_t nn = 0;
    log_notice("reloading %s", d->opt.config);
    int r = tkl_config_load(d->opt.config, &c, &diags);
    if (r == 0)
        r = tkl_sources_open(plugin_dir_of(d, c), c, &d->svc, d->state_dir, &sources, &diags);
    if (r == 0)
        r = tkl_store_load(&c->store, &c->teams, &store, &diags);
    if (r == 0)
        r = tkl_sources_add_to_store(&sources, tkl_local_day(daemon_now(d)), store, &c->teams,
                                     &diags);
    if (r == 0)
        r = open_notifiers(d, c, &nv, &nn, &diags);
    for (size_t i = 0; i < diags.n; i++) {
        char line[2048];
        tkl_diag_format(&diags.items[i], line, sizeof(line));
        tkl_log(diags.items[i].severity == TKL_SEV_ERROR ? TKL_LOG_ERR : TKL_LOG_INFO, "%s", line);
    }
    tkl_diags_free(&diags);
    if (r < 0) {
        log_error("reload failed (%s); the previous configuration stays in force", strerror(-r));
        tkl_sources_close(&sources);
        tkl_store_free(store);
        tkl_config_free(c);
        /* the config loader set TZ for the rejected file; restore ours */
        tkl_tz_set(d->cfg->timezone);
        return;
    }
    struct tkl_scheduler sched = {0};
    int64_t now = daemon_now(d);
    if (tkl_scheduler_build(&sched, c, store, now, now) < 0) {
        log_error("out of memory rescheduling; the previous configuration stays in force");
        for (size_t i = 0; i < nn; i++)
            tkl_plugin_close(nv[i].plugin);
        free(nv);
        tkl_sources_close(&sources);
        tkl_store_free(store);
        tkl_config_free(c);
        tkl_tz_set(d->cfg->timezone);
        return;
    }
    retire_notifiers(d);
    tkl_sources_stop(&d->sources);
    struct tkl_sources *rs = realloc(d->retired_sources, (d->n_retired_sources + 1) * sizeof(*rs));
    if (!rs) {
        log_error("out of memory retiring sources; their memory is leaked");
    } else {
        rs[d->n_retired_sources++] = d->sources;
        d->retired_sources = rs;
    }
    d->sources = sources;
    d->notifiers = nv;
    d->n_notifiers = nn;
    tkl_watch_close(d->watch);
    d->watch = NULL;
    tkl_scheduler_free(&d->sched);
    d->sched = sched;
    tkl_store_free(d->store);
    d->store = store;
    tkl_config_free(d->cfg);
    d->cfg = c;
    if (!d->opt.log_level && c->log_level > 0)
        tkl_log_set_level(c->log_level);
    if (start_notifiers(d) < 0)
        log_error("a notifier failed to start after the reload; its notices wait in the outbox");
    if (tkl_sources_start(&d->sources) < 0)
        log_error("a source failed to start after the reload; its edits are read on SIGHUP");
    start_watch(d);
    /* store is set: tkl_store_load returned 0 */
    // NOLINTBEGIN(clang-analyzer-core.NullDereference)
    log_notice("configuration reloaded: %zu actions, %zu observances, %zu notifiers",
               store->n - store->n_events, store->n_events, nn);
    // NOLINTEND(clang-analyzer-core.NullDereference)
    arm_scheduler(d);
    kick_delivery(d);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP && !d->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%" PRIu64,
                   (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
        reload_config(d);
        notify_status(d, "READY=1\n");
    } else if (signum != SIGHUP)
        begin_shutdown(d);
}

/* ---- start-up -------------------------------------------------------- */

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
        case 'f':
            o->foreground = true;
            break;
        case 't':
            o->check_config = true;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'n':
            o->now_arg = optarg; /* parsed once the time zone is known */
            break;
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

static int check_config(struct daemon *d)
{
    struct tkl_diags diags = {0};
    struct tkl_config *c = NULL;
    struct tkl_store *store = NULL;
    struct notifier *nv = NULL;
    struct tkl_sources sources = {0};
    size_t nn = 0, events = 0;
    int r = tkl_config_load(d->opt.config, &c, &diags);
    if (r == 0) {
        d->state_dir = strdup(c->state_dir);
        /* a calendar file with problems is logged (file:line) by its source
         * and counted here: the daemon would run without its events */
        if (tkl_sources_open(plugin_dir_of(d, c), c, &d->svc, d->state_dir, &sources, &diags) < 0)
            r = -EINVAL;
        if (tkl_store_load(&c->store, &c->teams, &store, &diags) < 0)
            r = -EINVAL;
        else if (tkl_sources_add_to_store(&sources, tkl_local_day((int64_t)time(NULL)), store,
                                          &c->teams, &diags) < 0)
            r = -ENOMEM;
        if (open_notifiers(d, c, &nv, &nn, &diags) < 0)
            r = -EINVAL;
        for (size_t i = 0; i < nn; i++)
            tkl_plugin_close(nv[i].plugin);
        free(nv);
        tkl_sources_close(&sources);
        events = store ? store->n_events : 0;
    }
    tkl_diags_print(&diags, stderr);
    size_t errors = diags.n_errors + d->svc.n_errors;
    bool bad = r < 0 || errors || !store;
    size_t warnings = diags.n - diags.n_errors;
    if (!bad)
        printf("%s: configuration ok: %zu actions, %zu observances in the next %d days, %zu "
               "teams, %zu notifiers (%zu warnings)\n",
               d->opt.config, store->n - events, events, TKL_SOURCE_DAYS_AHEAD, c->teams.n,
               c->n_notifiers, warnings);
    else
        printf("%s: configuration has %zu errors\n", d->opt.config, errors ? errors : 1);
    tkl_diags_free(&diags);
    tkl_store_free(store);
    tkl_config_free(c);
    return bad ? 1 : 0;
}

static int ensure_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int daemon_run(struct daemon *d, const char *now_arg)
{
    struct tkl_diags diags = {0};
    int r = tkl_config_load(d->opt.config, &d->cfg, &diags);
    tkl_diags_print(&diags, stderr);
    tkl_diags_free(&diags);
    if (r < 0) {
        log_error("cannot start: the configuration %s has errors", d->opt.config);
        return 1;
    }
    if (!d->opt.log_level && d->cfg->log_level > 0)
        tkl_log_set_level(d->cfg->log_level);
    if (now_arg) {
        int64_t t;
        if (tkl_parse_datetime(now_arg, &t) < 0) {
            log_error("--now: \"%s\" is not YYYY-MM-DD[THH:MM[:SS]] or @EPOCH", now_arg);
            return 2;
        }
        d->clock_offset = t - (int64_t)time(NULL);
        char buf[32];
        log_notice("clock set to %s by --now", tkl_format_instant(t, buf));
    }
    const char *sd = d->opt.state_dir ? d->opt.state_dir : getenv("STATE_DIRECTORY");
    if (sd && strchr(sd, ':')) /* systemd lists several; the first is ours */
        d->state_dir = strndup(sd, (size_t)(strchr(sd, ':') - sd));
    else
        d->state_dir = strdup(sd ? sd : d->cfg->state_dir);
    if (!d->state_dir)
        return 1;
    if ((r = ensure_dir(d->state_dir)) < 0) {
        log_error("state directory %s: %s", d->state_dir, strerror(-r));
        return 1;
    }
    char *err = NULL;
    if ((r = tkl_outbox_open(d->state_dir, &d->outbox, &err)) < 0) {
        log_error("cannot open the outbox in %s: %s", d->state_dir, err ? err : strerror(-r));
        free(err);
        return 1;
    }
    /* d->state_dir is freed by main() when the daemon ends */
    struct tkl_diags pd = {0}; // NOLINT(clang-analyzer-unix.Malloc)
    d->svc.loop = &d->loop;
    d->svc.clock_offset = d->clock_offset;
    d->svc.items_changed = on_items_changed;
    d->svc.data = d;
    r = tkl_sources_open(plugin_dir_of(d, d->cfg), d->cfg, &d->svc, d->state_dir, &d->sources, &pd);
    tkl_diags_print(&pd, stderr);
    tkl_diags_free(&pd);
    if (r < 0) {
        log_error("cannot start: a source could not be loaded");
        return 1;
    }
    if (load_plan(d, d->cfg, &d->sources, &d->store, false) < 0) {
        log_error("cannot start: the store could not be read");
        return 1;
    }
    r = open_notifiers(d, d->cfg, &d->notifiers, &d->n_notifiers, &pd);
    tkl_diags_print(&pd, stderr);
    tkl_diags_free(&pd);
    if (r < 0) {
        log_error("cannot start: a notifier could not be loaded");
        return 1;
    }

    if (uv_loop_init(&d->loop) < 0)
        return 1;
    uv_timer_init(&d->loop, &d->sched_timer);
    uv_timer_init(&d->loop, &d->deliver_timer);
    uv_timer_init(&d->loop, &d->retire_timer);
    uv_timer_init(&d->loop, &d->day_timer);
    d->sched_timer.data = d->deliver_timer.data = d->retire_timer.data = d->day_timer.data = d;
    uv_signal_init(&d->loop, &d->sig_term);
    uv_signal_init(&d->loop, &d->sig_int);
    uv_signal_init(&d->loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);
    uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
    if ((r = tkl_transfers_new(&d->loop, &d->svc.transfers)) < 0) {
        log_error("cannot set up libcurl: %s", strerror(-r));
        d->exit_code = 1;
        begin_shutdown(d);
    } else {
        start_wakeup(d);
    }
    /* the plugins' host.loop points at d->loop, now initialised */
    if (start_notifiers(d) < 0) {
        d->exit_code = 1;
        begin_shutdown(d);
    }
    if (!d->stopping && tkl_sources_start(&d->sources) < 0)
        log_error("a source failed to start; its edits are read on SIGHUP");

    int64_t now = daemon_now(d);
    int64_t last_run;
    int64_t missed_after = now - (int64_t)d->cfg->policy.catch_up_days * 86400;
    if (tkl_outbox_get_meta(d->outbox, "last_run", &last_run) == 0 && last_run < now)
        missed_after = last_run;
    if (!d->stopping && tkl_scheduler_build(&d->sched, d->cfg, d->store, missed_after, now) < 0) {
        log_error("out of memory building the schedule");
        d->exit_code = 1;
        begin_shutdown(d);
    }
    int64_t in_flight = 0;
    struct tkl_outbox_stats st;
    if ((r = tkl_outbox_recover(d->outbox, now, &in_flight)) < 0)
        log_error("cannot read the outbox: %s", strerror(-r));
    else if (in_flight)
        log_warning("%" PRId64 " notices were in flight when ticklerd last stopped without "
                    "finishing them; they are sent again now",
                    in_flight);
    if (tkl_outbox_stats(d->outbox, 0, &st) == 0 && st.pending + st.retrying > in_flight)
        log_notice("%" PRId64 " notices wait in the outbox from before; they are sent when due",
                   st.pending + st.retrying - in_flight);
    if (!d->stopping) {
        start_watch(d);
        char buf[32];
        int64_t next = tkl_scheduler_next_at(&d->sched);
        size_t events = d->store->n_events;
        log_notice("ticklerd %s started: %zu actions, %zu observances, %zu reminders scheduled, "
                   "next %s",
                   TICKLER_VERSION, d->store->n - events, events, d->sched.n,
                   next == INT64_MAX ? "never" : tkl_format_instant(next, buf));
        arm_scheduler(d);
        arm_day_timer(d);
        kick_delivery(d);
        start_watchdog(d);
        /* config, stores and plugins are loaded and the timers armed */
        notify_status(d, "READY=1\n");
    }

    uv_run(&d->loop, UV_RUN_DEFAULT);
    /* everything is closed; destroy what stop() left */
    uv_close((uv_handle_t *)&d->retire_timer, NULL);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    on_retire(&d->retire_timer);
    tkl_sources_close(&d->sources);
    for (size_t i = 0; i < d->n_notifiers; i++)
        tkl_plugin_close(d->notifiers[i].plugin);
    free(d->notifiers);
    d->notifiers = NULL;
    d->n_notifiers = 0;
    r = uv_loop_close(&d->loop);
    if (r != 0) {
        log_error("libuv handles left open at exit: %s", uv_strerror(r));
        return 1;
    }
    log_notice("stopped");
    return d->exit_code;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    int r = parse_options(argc, argv, &d.opt);
    if (r >= 0)
        return r;
    if (d.opt.log_level)
        tkl_log_set_level(tkl_log_parse_level(d.opt.log_level));
    (void)setvbuf(stderr, NULL, _IOLBF, 0); /* unbuffered stays correct, only slower */
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "ticklerd: libcurl could not be initialised\n");
        return 1;
    }
    if (d.opt.check_config)
        r = check_config(&d);
    else
        r = daemon_run(&d, d.opt.now_arg);
    /* a pending in-flight delivery holds a stored notice; free them */
    while (d.in_flight) {
        struct delivery *x = d.in_flight;
        d.in_flight = x->next;
        tkl_stored_notice_free(x->s);
        free(x);
    }
    tkl_scheduler_free(&d.sched);
    tkl_store_free(d.store);
    tkl_outbox_close(d.outbox);
    tkl_config_free(d.cfg);
    free(d.state_dir);
    curl_global_cleanup();
    return r;
}
