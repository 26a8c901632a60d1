#include "host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/secret.h"

static void host_log(const struct tkl_host *host, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void host_log(const struct tkl_host *host, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (level <= TKL_LOG_ERR && host->host_data)
        ((struct tkl_host_services *)host->host_data)->n_errors++;
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

int tkl_notifier_open(const char *plugin_dir, const struct tkl_config *c,
                      const struct tkl_notifier_conf *nc, struct tkl_host_services *svc,
                      const char *state_dir, struct tkl_plugin_instance **ret,
                      struct tkl_diags *diags)
{
    struct tkl_plugin_instance *p = NULL;
    int r = tkl_plugin_open(plugin_dir, nc->plugin, &p, diags);
    if (r < 0)
        return r;
    if (p->desc->kind != TKL_PLUGIN_NOTIFIER) {
        tkl_diag_add(diags, TKL_SEV_ERROR, c->path, nc->line, "plugin",
                     "plugin \"%s\" is not a notifier", nc->plugin);
        r = -EINVAL;
        goto fail;
    }
    tkl_host_fill(p, svc, c->dir, state_dir);
    if ((r = tkl_plugin_init(p, nc->name, nc->settings)) < 0) {
        tkl_diag_add(diags, TKL_SEV_ERROR, c->path, nc->line, "settings",
                     "notifier \"%s\" (plugin %s) rejected its settings: %s", nc->name, nc->plugin,
                     strerror(-r));
        goto fail;
    }
    *ret = p;
    return 0;
fail:
    tkl_plugin_close(p);
    return r;
}
