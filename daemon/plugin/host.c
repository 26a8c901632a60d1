#include "host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "../core/log.h"
#include "../core/secret.h"

static void host_log(const struct tkl_host *host, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tkl_log(level, "%s: %s", host->instance ? host->instance : "plugin", msg);
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

static int host_transfer_start(const struct tkl_host *host, void *easy,
                               void (*done)(void *data, int curl_code), void *data)
{
    const struct tkl_host_services *svc = host->host_data;
    if (!svc->transfers)
        return -ENOTCONN;
    return tkl_transfers_add(svc->transfers, easy, done, data);
}

static void host_transfer_cancel(const struct tkl_host *host, void *easy)
{
    const struct tkl_host_services *svc = host->host_data;
    tkl_transfers_cancel(svc->transfers, easy);
}

static int host_read_secret(const struct tkl_host *host, const char *spec, char **ret)
{
    return tkl_secret_read(host->config_dir, spec, ret);
}

void tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                   const char *config_dir, const char *state_dir)
{
    p->host.loop = svc->loop;
    p->host.config_dir = config_dir;
    p->host.state_dir = state_dir;
    p->host.log = host_log;
    p->host.now = host_now;
    p->host.items_changed = host_items_changed;
    p->host.host_data = svc;
    p->host.transfer_start = host_transfer_start;
    p->host.transfer_cancel = host_transfer_cancel;
    p->host.read_secret = host_read_secret;
}
