#include "host.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/diag.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/text.h"

/* Logs msg of instance at level; an error is counted in svc (NULL: none). */
static void log_line(struct tkl_host_services *svc, const char *instance, int level,
                     const char *msg)
{
    if (level <= TKL_LOG_ERR && svc) {
        svc->n_errors++;
        size_t n = tkl_utf8_prefix(msg, sizeof(svc->last_error) - 1);
        memcpy(svc->last_error, msg, n);
        svc->last_error[n] = '\0';
    }
    tkl_log(level, "%s: %s", instance ? instance : "plugin", msg);
}

static void host_log(const struct tkl_host *host, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(const struct tkl_host *host, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct tkl_host_services *svc = host->host_data;
    if (svc && svc->init_holding) {
        struct tkl_held_line *v = realloc(svc->init_lines, (svc->n_init_lines + 1) * sizeof(*v));
        if (v) {
            svc->init_lines = v;
            if ((v[svc->n_init_lines].msg = strdup(msg))) {
                v[svc->n_init_lines++].level = level;
                return;
            }
        }
    }
    log_line(svc, host->instance, level, msg);
}

void tkl_host_init_begin(struct tkl_host_services *svc)
{
    svc->init_holding = true;
}

void tkl_host_init_end(struct tkl_host_services *svc, const char *instance, int r,
                       struct tkl_diags *diags, const char *file, unsigned line, const char *what)
{
    bool said = false;
    svc->init_holding = false;
    for (size_t i = 0; i < svc->n_init_lines; i++)
        said |= svc->init_lines[i].level <= TKL_LOG_ERR;
    if (r < 0 && !said)
        tkl_diag_add(diags, TKL_SEV_ERROR, file, line, "settings", "%s: %s", what, strerror(-r));
    for (size_t i = 0; i < svc->n_init_lines; i++) {
        const struct tkl_held_line *h = &svc->init_lines[i];
        if (r < 0 && h->level <= TKL_LOG_ERR)
            tkl_diag_add(diags, TKL_SEV_ERROR, file, line, "settings", "%s: %s", what, h->msg);
        else
            log_line(svc, instance, h->level, h->msg);
        free(h->msg);
    }
    free(svc->init_lines);
    svc->init_lines = NULL;
    svc->n_init_lines = 0;
}

static int64_t host_now(const struct tkl_host *host)
{
    const struct tkl_host_services *svc = host->host_data;
    return (int64_t)time(NULL) + svc->clock_offset;
}

static void host_items_changed(const struct tkl_host *host)
{
    const struct tkl_host_services *svc = host->host_data;
    if (svc->items_changed)
        svc->items_changed(svc->data, host->instance);
}

/* The instance whose host is host (every host is one instance's own). */
static struct tkl_plugin_instance *instance_of(const struct tkl_host *host)
{
    return (struct tkl_plugin_instance *)((char *)host -
                                          offsetof(struct tkl_plugin_instance, host));
}

static int host_transfer_start(const struct tkl_host *host, void *easy,
                               void (*done)(void *data, int curl_code), void *data)
{
    const struct tkl_host_services *svc = host->host_data;
    struct tkl_plugin_instance *p = instance_of(host);
    if (host->version < 3) {
        /* its handle's callbacks were written for the loop thread */
        if (!p->told_abi)
            host_log(host, TKL_LOG_ERR,
                     "plugin %s is built for tickler ABI %u: its transfers are refused, as their "
                     "libcurl callbacks now run on the transfer thread (ABI 3); rebuild the plugin",
                     p->path ? p->path : "", host->version);
        p->told_abi = true;
        return -ENOTSUP;
    }
    /* none lent (a check), shutting down, or the instance stopping: after
     * tkl_transfers_settle none of its transfers may run */
    if (!svc->transfers || p->settling || p->stopped)
        return -ESHUTDOWN;
    /* each instance's on a thread of its own: libcurl's SMTP blocks its
     * thread while it waits for the answer to the end of a message (up to
     * the transfer's timeout), which must hold no other notifier's
     * transfers */
    if (!p->transfers) {
        char name[64]; /* "tkl-" and the instance; top -H shows 15 bytes of it */
        snprintf(name, sizeof(name), "tkl-%s", p->instance ? p->instance : "plugin");
        int r = tkl_transfers_new_named(svc->loop, name, &p->transfers);
        if (r < 0)
            return r;
    }
    return tkl_transfers_add_owned(p->transfers, host, easy, done, data);
}

void tkl_host_flush_transfers(struct tkl_plugin_instance *p)
{
    if (p)
        tkl_transfers_flush(p->transfers, &p->host);
}

/* Closes p's transfers, which its stop() left with none running (or which
 * it never started): their thread stops; their memory goes once the loop
 * runs the close callback. */
static void close_transfers(struct tkl_plugin_instance *p)
{
    tkl_transfers_close(p->transfers);
    p->transfers = NULL;
}

void tkl_host_stop_instance(struct tkl_plugin_instance *p)
{
    if (!p)
        return;
    if (!p->started || p->stopped) {
        close_transfers(p);
        return;
    }
    /* transfers are refused from here on; those that ended by themselves
     * are told as they ended (judged as any other outcome), and only those
     * stop() ends below see that their notifier stopped (cut short) */
    p->settling = true;
    tkl_transfers_settle(p->transfers, &p->host);
    p->stopped = true;
    if (p->desc->stop)
        p->desc->stop(p->state);
    close_transfers(p);
}

static void host_transfer_cancel(const struct tkl_host *host, void *easy)
{
    tkl_transfers_cancel(instance_of(host)->transfers, easy);
}

static void host_close(const struct tkl_host *host, uv_handle_t *handle, uv_close_cb cb);

static int host_read_secret(const struct tkl_host *host, const char *spec, char **ret)
{
    return tkl_secret_read(host->config_dir, spec, ret);
}

int tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                  const char *config_dir, const char *state_dir)
{
    p->host.loop = svc->loop;
    free(p->config_dir);
    p->config_dir = NULL;
    if (config_dir && !(p->config_dir = strdup(config_dir)))
        return -ENOMEM;
    p->host.config_dir = p->config_dir;
    p->host.state_dir = state_dir;
    p->host.keep_dir = svc->keep ? state_dir : NULL;
    p->host.log = host_log;
    p->host.now = host_now;
    p->host.items_changed = host_items_changed;
    p->host.host_data = svc;
    p->host.transfer_start = host_transfer_start;
    p->host.transfer_cancel = host_transfer_cancel;
    p->host.read_secret = host_read_secret;
    p->host.close = host_close;
    return 0;
}

/* A handle a plugin closed through host.close, until its callback runs. */
struct tkl_closing {
    uv_handle_t *handle;
    uv_close_cb cb;
    struct tkl_plugin_instance *p;
    struct tkl_closing *next;
};

static void reap(struct tkl_host_services *svc)
{
    for (struct tkl_plugin_instance **pp = &svc->retired; *pp;) {
        struct tkl_plugin_instance *p = *pp;
        if (p->closing || p->untracked) {
            pp = &p->next_retired;
            continue;
        }
        *pp = p->next_retired;
        tkl_plugin_close(p);
    }
}

static void on_reaper(uv_timer_t *t)
{
    reap(t->data);
}

/*
 * The reaper's first firing. It may come before the close callbacks of the
 * handles an instance closed in stop(): in the same pass over the timers
 * as a timer callback that retired it (libuv runs a timer started at 0
 * from a timer callback in that pass), or first thing in the loop's turn
 * when it was retired outside the loop. A timer started from here at 1 ms
 * fires in a later turn, after those close callbacks.
 */
static void on_reaper_armed(uv_timer_t *t)
{
    (void)uv_timer_start(t, on_reaper, 1, 0);
}

static void on_host_closed(uv_handle_t *h)
{
    struct tkl_host_services *svc = h->loop->data;
    struct tkl_closing *c = NULL;
    for (struct tkl_closing **pp = &svc->closing; *pp; pp = &(*pp)->next)
        if ((*pp)->handle == h) {
            c = *pp;
            *pp = c->next;
            break;
        }
    if (!c)
        return;
    if (c->cb)
        c->cb(h);
    struct tkl_plugin_instance *p = c->p;
    free(c);
    p->closing--;
    /* only this instance, and only of ABI 2: an ABI 1 instance closes its
     * handles itself, so its callbacks may still be queued behind this one
     * (libuv runs them last in, first out); the reaper takes it a turn later */
    if (!p->retired || p->closing || p->untracked || p->desc->abi_version < 2)
        return;
    for (struct tkl_plugin_instance **pp = &svc->retired; *pp; pp = &(*pp)->next_retired)
        if (*pp == p) {
            *pp = p->next_retired;
            tkl_plugin_close(p);
            return;
        }
}

static void host_close(const struct tkl_host *host, uv_handle_t *handle, uv_close_cb cb)
{
    struct tkl_host_services *svc = host->host_data;
    struct tkl_plugin_instance *p = instance_of(host);
    struct tkl_closing *c = calloc(1, sizeof(*c));
    if (!c || handle->loop->data != svc) {
        /* cannot be followed: the instance lives until exit */
        free(c);
        p->untracked = true;
        uv_close(handle, cb);
        return;
    }
    *c = (struct tkl_closing){handle, cb, p, svc->closing};
    svc->closing = c;
    p->closing++;
    uv_close(handle, on_host_closed);
}

static void drain_pass(struct tkl_host_services *svc, bool all);

static void on_drain(uv_timer_t *t)
{
    drain_pass(t->data, false);
}

int tkl_host_services_start(struct tkl_host_services *svc)
{
    int r = uv_timer_init(svc->loop, &svc->reaper);
    if (r < 0)
        return r;
    if ((r = uv_timer_init(svc->loop, &svc->drain_timer)) < 0) {
        uv_close((uv_handle_t *)&svc->reaper, NULL);
        return r;
    }
    svc->loop->data = svc;
    svc->reaper.data = svc;
    svc->drain_timer.data = svc;
    svc->reaper_active = true;
    return 0;
}

void tkl_host_services_stop(struct tkl_host_services *svc)
{
    if (svc->reaper_active) {
        uv_close((uv_handle_t *)&svc->reaper, NULL);
        uv_close((uv_handle_t *)&svc->drain_timer, NULL);
    }
    svc->reaper_active = false;
}

/* Stops p (if it started) and puts it with the retired, to be destroyed
 * once its handles closed. */
static void put_away(struct tkl_host_services *svc, struct tkl_plugin_instance *p)
{
    tkl_host_stop_instance(p);
    p->stopped = true; /* one that never started is never started now */
    p->next_retired = svc->retired;
    svc->retired = p;
    /* after the loop's next turn: the close callbacks of an ABI 1 plugin's
     * handles closed in stop() have run by then */
    if (svc->reaper_active)
        (void)uv_timer_start(&svc->reaper, on_reaper_armed, 0, 0);
}

static unsigned in_flight(const struct tkl_host_services *svc, const struct tkl_plugin_instance *p)
{
    return svc->in_flight ? svc->in_flight(svc->data, p) : 0;
}

/* Stops the draining instances with nothing left in flight or past their
 * drain (every one, with all), and arms the drain timer for the next
 * deadline of those left. */
static void drain_pass(struct tkl_host_services *svc, bool all)
{
    uint64_t now = uv_now(svc->loop), next = UINT64_MAX;
    for (struct tkl_plugin_instance **pp = &svc->draining; *pp;) {
        struct tkl_plugin_instance *p = *pp;
        unsigned n = in_flight(svc, p);
        if (!all && n && now < p->drain_until) {
            if (p->drain_until < next)
                next = p->drain_until;
            pp = &p->next_retired;
            continue;
        }
        *pp = p->next_retired;
        p->draining = false;
        if (n)
            tkl_log(TKL_LOG_NOTICE,
                    "%s: %u deliveries still in flight at the end of its drain are cut short "
                    "and kept in the outbox",
                    p->instance, n);
        put_away(svc, p);
    }
    if (next != UINT64_MAX && svc->reaper_active)
        (void)uv_timer_start(&svc->drain_timer, on_drain, next - now, 0);
}

void tkl_host_retire(struct tkl_host_services *svc, struct tkl_plugin_instance *p)
{
    if (!p)
        return;
    p->retired = true;
    unsigned n = p->started && !p->stopped ? in_flight(svc, p) : 0;
    if (n && svc->drain_ms && svc->reaper_active) {
        p->draining = true;
        uv_update_time(svc->loop); /* a reload's load may have blocked the loop */
        p->drain_until = uv_now(svc->loop) + svc->drain_ms;
        p->next_retired = svc->draining;
        svc->draining = p;
        tkl_log(TKL_LOG_INFO, "%s: retired; its %u deliveries in flight finish first", p->instance,
                n);
        tkl_host_drain_check(svc); /* the timer armed for the first deadline */
        return;
    }
    put_away(svc, p);
}

void tkl_host_drain_check(struct tkl_host_services *svc)
{
    if (svc->draining && svc->reaper_active)
        (void)uv_timer_start(&svc->drain_timer, on_drain, 0, 0);
}

void tkl_host_drain_end(struct tkl_host_services *svc)
{
    drain_pass(svc, true);
}

bool tkl_host_draining(const struct tkl_host_services *svc)
{
    return svc->draining != NULL;
}

void tkl_host_services_free(struct tkl_host_services *svc)
{
    while (svc->draining) { /* none after tkl_host_drain_end */
        struct tkl_plugin_instance *p = svc->draining;
        svc->draining = p->next_retired;
        tkl_plugin_close(p);
    }
    while (svc->retired) {
        struct tkl_plugin_instance *p = svc->retired;
        svc->retired = p->next_retired;
        tkl_plugin_close(p);
    }
    while (svc->closing) {
        struct tkl_closing *c = svc->closing;
        svc->closing = c->next;
        free(c);
    }
}
