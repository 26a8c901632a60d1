#include "delivery_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tkl_delivery_conf_init(struct tkl_delivery_conf *d)
{
    *d = (struct tkl_delivery_conf){.max_age_hours = 48, .concurrency = 4, .retry_min_seconds = 30};
}

int tkl_delivery_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_delivery_conf *d)
{
    static const char *const keys[] = {"max_age_hours", "concurrency", "retry_min_seconds",
                                       "report_to", NULL};
    const char *s;
    int r = 0;
    if (!g)
        return 0;
    if (!tkl_conf_check_keys(x, g, "delivery", keys))
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "max_age_hours", 1, 24 * 365, &d->max_age_hours) < 0 ||
        tkl_conf_get_int(x, g, "concurrency", 1, 256, &d->concurrency) < 0 ||
        tkl_conf_get_int(x, g, "retry_min_seconds", 1, 3600, &d->retry_min_seconds) < 0)
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "report_to", &s) > 0) {
        free(d->report_to);
        if (!(d->report_to = strdup(s)))
            return -ENOMEM;
    }
    return r;
}

void tkl_delivery_conf_free(struct tkl_delivery_conf *d)
{
    free(d->report_to);
    d->report_to = NULL;
}
