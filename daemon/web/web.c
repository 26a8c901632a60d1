#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const tkl_web_page pages[TKL_ROUTE_COUNT] = {
    [TKL_ROUTE_INDEX] = tkl_web_index,
    [TKL_ROUTE_CALENDAR_ICS] = tkl_web_calendar_ics,
    [TKL_ROUTE_CATEGORY_ICS] = tkl_web_calendar_ics,
    [TKL_ROUTE_CALENDAR_HTML] = tkl_web_calendar_html,
    [TKL_ROUTE_STATUS_HTML] = tkl_web_status,
    [TKL_ROUTE_STATUS_JSON] = tkl_web_status,
    [TKL_ROUTE_OUTBOX] = tkl_web_outbox,
    [TKL_ROUTE_METRICS] = tkl_web_metrics,
    [TKL_ROUTE_HEALTH] = tkl_web_health,
};

int tkl_web_handle(void *service, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    struct tkl_service *s = service;
    enum tkl_route route = req->req->route;
    if ((unsigned)route >= TKL_ROUTE_COUNT || !pages[route])
        return tkl_http_text(resp, 404, "Not found.");
    return pages[route](s, req, resp);
}

/* Why the daemon cannot do its work, or NULL: the loop turns (this runs on
 * it), the store is loaded, the outbox takes writes. */
static const char *unhealthy(struct tkl_service *s, char *buf, size_t len)
{
    if (s->stopping)
        return "stopping";
    if (!s->rt || !s->rt->store)
        return "no store loaded";
    if (!s->outbox)
        return "no outbox";
    int r = tkl_outbox_probe_write(s->outbox);
    if (r == -EBUSY)
        return "outbox locked by another process";
    if (r < 0) {
        snprintf(buf, len, "outbox not writable: %s", strerror(-r));
        return buf;
    }
    return NULL;
}

int tkl_web_health(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    (void)req;
    char buf[128];
    const char *why = unhealthy(s, buf, sizeof(buf));
    int r = tkl_http_text(resp, why ? 503 : 200, why ? why : "ok");
    resp->cache = "no-store";
    return r;
}
