/*
 * /metrics: the service's registry (daemon/metrics/metrics.c) and the
 * gauges read at scrape time — the outbox's notices by state and the age
 * of its oldest pending one, the plan's actions by standing, the
 * observances, the build — in the Prometheus text format, version 0.0.4.
 * See docs/metrics.md for every family.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../metrics/metrics.h"
#include "../plugin/loader.h"
#include "../schedule/standing.h"
#include "../state/state.h"
#include "web.h"

#include <tickler/day.h>

#ifndef TICKLER_VERSION
#define TICKLER_VERSION "unknown"
#endif

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* tickler_actions{state} and tickler_observances, from the runtime in
 * force: each plan action's standing as /status gives it. */
static void render_store(FILE *f, const struct tkl_service *s, int64_t now)
{
    const struct tkl_runtime *rt = s->rt;
    const struct tkl_store *store = rt->store;
    uint64_t by[TKL_STANDING_COUNT] = {0};
    int32_t today = tkl_local_day(now);
    size_t events = 0;
    for (size_t i = 0; i < store->n; i++) {
        const struct tkl_action *a = &store->actions[i];
        if (!tkl_action_in_plan(a)) {
            events++;
            continue;
        }
        enum tkl_standing st = tkl_action_standing_answered(&rt->cfg->schedule, &rt->cfg->teams,
                                                            &s->answers, a, today, NULL);
        if (st < TKL_STANDING_COUNT)
            by[st]++;
    }
    tkl_metrics_family(f, "tickler_actions", "gauge", "Actions of the plan, by standing.");
    for (int k = 0; k < TKL_STANDING_COUNT; k++)
        fprintf(f, "tickler_actions{state=\"%s\"} %" PRIu64 "\n",
                tkl_standing_name((enum tkl_standing)k), by[k]);
    tkl_metrics_family(f, "tickler_observances", "gauge",
                       "Observances the sources add to the store (days around today).");
    fprintf(f, "tickler_observances %zu\n", events);
}

/* tickler_outbox_notices{state} and the oldest pending notice's age, of
 * the numbers st at now. */
static void render_outbox_stats(FILE *f, const struct tkl_outbox_stats *st, int64_t now)
{
    tkl_metrics_family(f, "tickler_outbox_notices", "gauge",
                       "Notices in the outbox, by state (PostgreSQL: the outbox every node "
                       "shares, the same on every node).");
    fprintf(f, "tickler_outbox_notices{state=\"pending\"} %" PRId64 "\n", st->pending);
    fprintf(f, "tickler_outbox_notices{state=\"retrying\"} %" PRId64 "\n", st->retrying);
    fprintf(f, "tickler_outbox_notices{state=\"failed\"} %" PRId64 "\n", st->failed);
    fprintf(f, "tickler_outbox_notices{state=\"delivered\"} %" PRId64 "\n", st->delivered);
    fprintf(f, "tickler_outbox_notices{state=\"withdrawn\"} %" PRId64 "\n", st->withdrawn);
    int64_t age =
        st->oldest_pending == INT64_MAX || st->oldest_pending > now ? 0 : now - st->oldest_pending;
    tkl_metrics_family(f, "tickler_outbox_oldest_pending_age_seconds", "gauge",
                       "Age of the oldest notice not yet delivered nor failed; 0 when none "
                       "(PostgreSQL: of the outbox every node shares).");
    fprintf(f, "tickler_outbox_oldest_pending_age_seconds %" PRId64 "\n", age);
}

/* The outbox's gauges: this node's outbox, or on PostgreSQL the shared
 * one as last read (web/operator.c; its age is counted at that read).
 * Left out when the outbox cannot be read now (SQLite: locked by another
 * writer; PostgreSQL: not read yet), so that the registry's counters are
 * still scraped. */
static void render_outbox(FILE *f, struct tkl_service *s, int64_t now)
{
    struct tkl_outbox_stats st;
    if (s->node) { /* the backend in force: a reload changes it only at the next start */
        int64_t at = 0;
        const struct tkl_state_view *v = tkl_web_outbox_view(s, now, &at);
        if (v)
            render_outbox_stats(f, &v->st, at);
        return;
    }
    if (s->outbox && tkl_outbox_stats(s->outbox, 0, &st) == 0)
        render_outbox_stats(f, &st, now);
}

/* tickler_node_info{node, backend}: which node this is, so that the
 * scrapes of several nodes on one database are told apart (their
 * counters are each node's own). */
static void render_node(FILE *f, const struct tkl_service *s)
{
    const struct tkl_state_conf *c = &s->rt->cfg->state;
    /* the node and backend in force (s->node: PostgreSQL), which a reload
     * changes only at the next start */
    const char *node = s->node ? s->node : c->node;
    tkl_metrics_family(f, "tickler_node_info", "gauge",
                       "Always 1: this node's id and the backend of its state; the counters are "
                       "this node's own.");
    fputs("tickler_node_info{node=\"", f);
    char host[256] = "local";
    if (!node && (gethostname(host, sizeof(host)) < 0 || !*host))
        snprintf(host, sizeof(host), "local");
    host[sizeof(host) - 1] = '\0';
    tkl_metrics_label_value(f, node ? node : host);
    fprintf(f, "\",backend=\"%s\"} 1\n", s->node ? "postgresql" : "sqlite");
}

static void render_build(FILE *f)
{
    tkl_metrics_family(f, "tickler_build_info", "gauge",
                       "Always 1: the version of ticklerd and the plugin ABI versions it loads.");
    fputs("tickler_build_info{version=\"", f);
    tkl_metrics_label_value(f, TICKLER_VERSION);
    fputs("\",abi=\"", f);
    for (size_t i = 0; i < tkl_host_abi_versions_n; i++)
        fprintf(f, "%s%" PRIu32, i ? "," : "", tkl_host_abi_versions[i]);
    fputs("\"} 1\n", f);
}

int tkl_web_metrics(struct tkl_service *s, const struct tkl_http_request *req,
                    struct tkl_http_response *resp)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    int r = tkl_metrics_render(s->metrics, f);
    render_outbox(f, s, req->now);
    if (s->rt && s->rt->store)
        render_store(f, s, req->now);
    if (s->rt)
        render_node(f, s);
    render_build(f);
    if (ferror(f))
        r = -ENOMEM;
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(body);
        return r;
    }
    tkl_http_take(resp, CONTENT_TYPE, body, len);
    resp->status = 200;
    resp->cache = "no-store";
    return 0;
}
