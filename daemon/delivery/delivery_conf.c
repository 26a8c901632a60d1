#include "delivery_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tkl_delivery_conf_init(struct tkl_delivery_conf *d)
{
    *d = (struct tkl_delivery_conf){.max_age_hours = 48,
                                    .concurrency = 64,
                                    .retry_min_seconds = 30,
                                    .drain_seconds = TKL_DRAIN_SECONDS,
                                    .report_every_seconds = 300,
                                    .joint_settle_seconds = TKL_JOINT_SETTLE_SECONDS};
}

/* Reads delivery.connections, a group of notifier = count (NULL: none).
 * Returns 0, -EINVAL (problems in x->diags) or -ENOMEM. */
static int read_limits(const struct tkl_confread *x, const config_setting_t *g,
                       struct tkl_delivery_conf *d)
{
    if (!g)
        return 0;
    if (!config_setting_is_group(g)) {
        tkl_conf_err_at(x, g,
                        "delivery.connections: expected a group of notifier = count, "
                        "e.g. connections = { mail = 3; }");
        return -EINVAL;
    }
    int r = 0, n = config_setting_length(g);
    free(d->limits);
    d->n_limits = 0;
    if (!(d->limits = calloc((size_t)n + 1, sizeof(*d->limits))))
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
        int v = 0;
        if (tkl_conf_get_int(x, g, config_setting_name(e), 1, 256, &v) < 0) {
            r = -EINVAL;
            continue;
        }
        struct tkl_channel_limit *l = &d->limits[d->n_limits];
        if (!(l->channel = strdup(config_setting_name(e))))
            return -ENOMEM;
        l->n = v;
        l->line = (unsigned)config_setting_source_line(e);
        d->n_limits++;
    }
    return r;
}

int tkl_delivery_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_delivery_conf *d)
{
    static const char *const keys[] = {
        "max_age_hours", "concurrency",          "retry_min_seconds",    "report_to", "connections",
        "drain_seconds", "report_every_seconds", "joint_settle_seconds", NULL};
    const char *s;
    int r = 0;
    if (!g)
        return 0;
    if (!tkl_conf_check_keys(x, g, "delivery", keys))
        r = -EINVAL;
    /* each key on its own, so that every bad value is reported */
    if (tkl_conf_get_int(x, g, "max_age_hours", 1, 24 * 365, &d->max_age_hours) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "concurrency", 1, 256, &d->concurrency) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "retry_min_seconds", 1, 3600, &d->retry_min_seconds) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "drain_seconds", 0, 600, &d->drain_seconds) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "report_every_seconds", 1, 86400, &d->report_every_seconds) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "joint_settle_seconds", 0, 86400, &d->joint_settle_seconds) < 0)
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "report_to", &s) > 0) {
        free(d->report_to);
        if (!(d->report_to = strdup(s)))
            return -ENOMEM;
    }
    int rr = read_limits(x, config_setting_get_member(g, "connections"), d);
    return rr == -ENOMEM ? rr : rr < 0 ? rr : r;
}

int tkl_delivery_conf_limit(const struct tkl_delivery_conf *d, const char *channel)
{
    for (size_t i = 0; i < d->n_limits; i++)
        if (strcmp(d->limits[i].channel, channel) == 0)
            return d->limits[i].n;
    return d->concurrency;
}

void tkl_delivery_conf_free(struct tkl_delivery_conf *d)
{
    free(d->report_to);
    d->report_to = NULL;
    for (size_t i = 0; i < d->n_limits; i++)
        free(d->limits[i].channel);
    free(d->limits);
    d->limits = NULL;
    d->n_limits = 0;
}
