/* A real test notifier: remembers the notices it is given and completes
 * each on the next loop iteration; refuses recipients that start with
 * "bad"; completes with the reply its setting "reply" gives ("echoed" without
 * it), as a server's own words; counts its reconfigure() calls. Built with -DECHO_ABI=N to produce
 * a plugin for another ABI version: 99, which the host must refuse; 2, whose transfers the host
 * refuses; or 1, which closes its handle itself (ABI 1 has no host.close). Its close callback and
 * destroy() log "timer closed" and "destroyed" at debug level, and the callback writes to the
 * state: a host that destroys an instance before its close callbacks ran is caught. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/plugin.h>

#ifndef ECHO_ABI
#define ECHO_ABI TICKLER_ABI_VERSION
#endif

struct echo {
    const struct tkl_host *host;
    uv_timer_t timer;
    tkl_deliver_done_fn done;
    void *done_data;
    bool busy, started, closing, closed;
    unsigned reconfigures;
    char last_title[256];
    char reply[512];
};

static int echo_init(const struct tkl_host *host, const config_setting_t *conf, void **ret)
{
    static const char *const keys[] = {"fail", "reply", NULL};
    if (tkl_config_unknown_member(conf, keys))
        return -EINVAL;
    struct echo *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->host = host;
    const char *reply = "echoed";
    if (conf)
        (void)config_setting_lookup_string(conf, "reply", &reply);
    snprintf(e->reply, sizeof(e->reply), "%s", reply);
    *ret = e;
    return 0;
}

static int echo_start(void *state)
{
    struct echo *e = state;
    int r = uv_timer_init(e->host->loop, &e->timer);
    e->timer.data = e;
    e->started = r == 0;
    return r;
}

static void on_timer(uv_timer_t *t)
{
    struct echo *e = t->data;
    struct tkl_delivery res = {.size = sizeof(res), .status = TKL_DELIVERY_OK, .reply = e->reply};
    e->busy = false;
    e->done(e->done_data, &res);
}

/* Every recipient but those starting with "bad". */
static int echo_check_recipient(void *state, const char *recipient, char *why, size_t why_size)
{
    (void)state;
    if (strncmp(recipient, "bad", 3) != 0)
        return 0;
    if (why_size)
        snprintf(why, why_size, "\"%.100s\" starts with \"bad\"", recipient);
    return -EINVAL;
}

static int echo_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                        void *done_data)
{
    struct echo *e = state;
    if (e->closing)
        return -ESHUTDOWN;
    if (echo_check_recipient(e, n->recipient, NULL, 0) < 0)
        return -EINVAL;
    if (e->busy)
        return -EBUSY;
    e->busy = true;
    e->done = done;
    e->done_data = done_data;
    strncpy(e->last_title, n->n_entries ? n->entries[0].title : "", sizeof(e->last_title) - 1);
    return uv_timer_start(&e->timer, on_timer, 0, 0);
}

static void on_closed(uv_handle_t *h)
{
    struct echo *e = h->data;
    e->closed = true;
    e->host->log(e->host, TKL_LOG_DEBUG, "timer closed");
}

static void echo_stop(void *state)
{
    struct echo *e = state;
    if (e->busy) {
        struct tkl_delivery res = {
            .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = "shutting down"};
        e->busy = false;
        e->done(e->done_data, &res);
    }
    if (!e->started || e->closing)
        return;
    e->closing = true;
#if ECHO_ABI >= 2
    if (TKL_HAS_MEMBER(e->host, e->host->size, close) && e->host->close) {
        e->host->close(e->host, (uv_handle_t *)&e->timer, on_closed);
        return;
    }
#endif
    uv_close((uv_handle_t *)&e->timer, on_closed);
}

/* echo has no settings to take over; it counts the calls, for the tests. */
static void echo_reconfigure(void *state, void *fresh)
{
    (void)fresh;
    ((struct echo *)state)->reconfigures++;
}

static void echo_destroy(void *state)
{
    struct echo *e = state;
    if (e)
        e->host->log(e->host, TKL_LOG_DEBUG, "destroyed");
    free(e);
}

static const struct tkl_plugin descriptor = {
    .abi_version = ECHO_ABI,
    .size = sizeof(struct tkl_plugin),
    .name = "echo",
    .description = "test notifier",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = echo_init,
    .start = echo_start,
    .deliver = echo_deliver,
    .stop = echo_stop,
    .destroy = echo_destroy,
    .check_recipient = echo_check_recipient,
    .reconfigure = echo_reconfigure,
};

/* Offered versions are ignored on purpose: the host must check. */
__attribute__((visibility("default"))) const struct tkl_plugin *
tickler_plugin_entry(const uint32_t *host_versions, size_t n_versions)
{
    (void)host_versions;
    (void)n_versions;
    return &descriptor;
}

/* For the test: the title of the last notice delivered. */
__attribute__((visibility("default"))) const char *echo_last_title(void *state);
const char *echo_last_title(void *state)
{
    return ((struct echo *)state)->last_title;
}

/* For the test: how many times reconfigure() was called on this state. */
__attribute__((visibility("default"))) unsigned echo_reconfigures(void *state);
unsigned echo_reconfigures(void *state)
{
    return ((struct echo *)state)->reconfigures;
}
