#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/*
 * Latency buckets, upper bounds in seconds. A maildir write takes
 * milliseconds (5 ms to 100 ms); a webhook or Teams post takes 50 ms to a
 * few seconds; an SMTP submission with STARTTLS and authentication takes
 * 0.25 s to 5 s, more for a slow or greylisting server. The transfer
 * timeouts are 30 s (webhook, teams) and 60 s (email) by default, so the
 * 30 and 60 buckets show attempts that ran into them; the Teams rate
 * budget can hold a card for minutes, hence 120 and 300.
 */
static const struct {
    uint64_t ns;
    const char *le;
} buckets[] = {
    {5000000ULL, "0.005"},    {10000000ULL, "0.01"},  {25000000ULL, "0.025"},
    {50000000ULL, "0.05"},    {100000000ULL, "0.1"},  {250000000ULL, "0.25"},
    {500000000ULL, "0.5"},    {1000000000ULL, "1"},   {2500000000ULL, "2.5"},
    {5000000000ULL, "5"},     {10000000000ULL, "10"}, {20000000000ULL, "20"},
    {30000000000ULL, "30"},   {60000000000ULL, "60"}, {120000000000ULL, "120"},
    {300000000000ULL, "300"},
};

#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))
#define NS_PER_S  UINT64_C(1000000000)

static const char *const reason_names[TKL_FAIL_COUNT] = {
    [TKL_FAIL_PERMANENT] = "permanent",
    [TKL_FAIL_EXPIRED] = "expired",
    [TKL_FAIL_RECIPIENT] = "recipient",
    [TKL_FAIL_NO_NOTIFIER] = "no_notifier",
};

struct channel {
    char *name;
    uint64_t notifications, failed[TKL_FAIL_COUNT], withdrawn;
    uint64_t requests, requests_failed;
    uint64_t in_bucket[N_BUCKETS]; /* observations in (previous bound, bound]: not cumulative */
    uint64_t observed, sum_ns;
};

struct http_count {
    enum tkl_route route;
    unsigned code;
    uint64_t n;
};

struct tkl_metrics {
    struct channel *ch;
    size_t n_ch, cap_ch;
    uint64_t reloads_ok, reloads_failed;
    int64_t last_reload_ok;             /* seconds; 0 before the first load */
    bool last_reload_failed;            /* the latest read of the store (or reload) failed */
    uint64_t from_copies;               /* plan files of the store in force read from copies */
    uint64_t store_cold, store_private; /* bytes of the store in force */
    uint64_t fetches[3];                /* plans at URLs: changed, unchanged, failed */
    int64_t last_fetch_ok;              /* seconds; 0 before the first good fetch */
    struct http_count *http;            /* sorted by route, then code */
    size_t n_http, cap_http;
};

const char *tkl_fail_reason_name(enum tkl_fail_reason r)
{
    return (unsigned)r < TKL_FAIL_COUNT ? reason_names[r] : "other";
}

int tkl_metrics_new(struct tkl_metrics **ret)
{
    struct tkl_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    *ret = m;
    return 0;
}

void tkl_metrics_free(struct tkl_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_ch; i++)
        free(m->ch[i].name);
    free(m->ch);
    free(m->http);
    free(m);
}

/* channel's entry, added when new; NULL when out of memory. */
static struct channel *channel_of(struct tkl_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n_ch; i++)
        if (strcmp(m->ch[i].name, name) == 0)
            return &m->ch[i];
    if (m->n_ch == m->cap_ch) {
        size_t cap = m->cap_ch ? m->cap_ch * 2 : 4;
        struct channel *v = realloc(m->ch, cap * sizeof(*v));
        if (!v)
            return NULL;
        m->ch = v;
        m->cap_ch = cap;
    }
    struct channel *c = &m->ch[m->n_ch];
    memset(c, 0, sizeof(*c));
    if (!(c->name = strdup(name)))
        return NULL;
    m->n_ch++;
    return c;
}

int tkl_metrics_channel(struct tkl_metrics *m, const char *channel)
{
    if (!m)
        return 0;
    return channel_of(m, channel) ? 0 : -ENOMEM;
}

int tkl_metrics_attempt(struct tkl_metrics *m, const char *channel)
{
    if (!m)
        return 0;
    struct channel *c = channel_of(m, channel);
    if (!c)
        return -ENOMEM;
    c->requests++;
    return 0;
}

int tkl_metrics_attempt_done(struct tkl_metrics *m, const char *channel, bool ok,
                             uint64_t latency_ns)
{
    if (!m)
        return 0;
    struct channel *c = channel_of(m, channel);
    if (!c)
        return -ENOMEM;
    c->requests_failed += !ok;
    c->observed++;
    c->sum_ns += latency_ns;
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (latency_ns <= buckets[i].ns) {
            c->in_bucket[i]++;
            break;
        }
    return 0;
}

int tkl_metrics_delivered(struct tkl_metrics *m, const char *channel)
{
    if (!m)
        return 0;
    struct channel *c = channel_of(m, channel);
    if (!c)
        return -ENOMEM;
    c->notifications++;
    return 0;
}

int tkl_metrics_withdrawn(struct tkl_metrics *m, const char *channel)
{
    if (!m)
        return 0;
    struct channel *c = channel_of(m, channel);
    if (!c)
        return -ENOMEM;
    c->withdrawn++;
    return 0;
}

int tkl_metrics_failed(struct tkl_metrics *m, const char *channel, enum tkl_fail_reason reason)
{
    if (!m)
        return 0;
    if ((unsigned)reason >= TKL_FAIL_COUNT)
        return -EINVAL;
    struct channel *c = channel_of(m, channel);
    if (!c)
        return -ENOMEM;
    c->notifications++;
    c->failed[reason]++;
    return 0;
}

void tkl_metrics_store_reload(struct tkl_metrics *m, bool ok, int64_t now)
{
    if (!m)
        return;
    if (ok) {
        m->reloads_ok++;
        m->last_reload_ok = now;
    } else
        m->reloads_failed++;
    m->last_reload_failed = !ok;
}

void tkl_metrics_store_from_copies(struct tkl_metrics *m, size_t n)
{
    if (m)
        m->from_copies = n;
}

void tkl_metrics_plan_fetch(struct tkl_metrics *m, bool ok, bool changed, int64_t now)
{
    if (!m)
        return;
    m->fetches[!ok ? 2 : changed ? 0 : 1]++;
    if (ok)
        m->last_fetch_ok = now;
}

void tkl_metrics_store_loaded(struct tkl_metrics *m, int64_t now)
{
    if (m)
        m->last_reload_ok = now;
}

void tkl_metrics_store_bytes(struct tkl_metrics *m, size_t cold, size_t private_bytes)
{
    if (!m)
        return;
    m->store_cold = cold;
    m->store_private = private_bytes;
}

int tkl_metrics_http(struct tkl_metrics *m, enum tkl_route route, unsigned code)
{
    if (!m)
        return 0;
    if ((unsigned)route > TKL_ROUTE_COUNT)
        route = TKL_ROUTE_COUNT;
    size_t i = 0;
    while (i < m->n_http &&
           (m->http[i].route < route || (m->http[i].route == route && m->http[i].code < code)))
        i++;
    if (i < m->n_http && m->http[i].route == route && m->http[i].code == code) {
        m->http[i].n++;
        return 0;
    }
    if (m->n_http == m->cap_http) {
        size_t cap = m->cap_http ? m->cap_http * 2 : 16;
        struct http_count *v = realloc(m->http, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        m->http = v;
        m->cap_http = cap;
    }
    memmove(&m->http[i + 1], &m->http[i], (m->n_http - i) * sizeof(*m->http));
    m->http[i] = (struct http_count){route, code, 1};
    m->n_http++;
    return 0;
}

/* ---- the text format ------------------------------------------------- */

void tkl_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void tkl_metrics_label_value(FILE *f, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '"')
            fputs("\\\"", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
}

/* name{channel="..."<more>} value, for one channel. */
static void channel_sample(FILE *f, const char *name, const struct channel *c, const char *more,
                           uint64_t value)
{
    fprintf(f, "%s{channel=\"", name);
    tkl_metrics_label_value(f, c->name);
    fprintf(f, "\"%s} %" PRIu64 "\n", more, value);
}

static uint64_t notifications(const struct channel *c)
{
    return c->notifications;
}

static uint64_t withdrawn(const struct channel *c)
{
    return c->withdrawn;
}

static uint64_t requests(const struct channel *c)
{
    return c->requests;
}

static uint64_t requests_failed(const struct channel *c)
{
    return c->requests_failed;
}

/* A per-channel counter family; get reads the counter of a channel. */
static void channel_counter(FILE *f, const struct tkl_metrics *m, const char *name,
                            const char *help, uint64_t (*get)(const struct channel *))
{
    tkl_metrics_family(f, name, "counter", help);
    for (size_t i = 0; i < m->n_ch; i++)
        channel_sample(f, name, &m->ch[i], "", get(&m->ch[i]));
}

static void render_failed(FILE *f, const struct tkl_metrics *m)
{
    static const char name[] = "tickler_notifications_failed_total";
    char more[48];
    tkl_metrics_family(f, name, "counter",
                       "Notifications that failed for good, by channel and reason.");
    for (size_t i = 0; i < m->n_ch; i++)
        for (size_t r = 0; r < TKL_FAIL_COUNT; r++) {
            snprintf(more, sizeof(more), ",reason=\"%s\"", reason_names[r]);
            channel_sample(f, name, &m->ch[i], more, m->ch[i].failed[r]);
        }
}

static void render_latency(FILE *f, const struct tkl_metrics *m)
{
    static const char name[] = "tickler_notification_latency_seconds";
    char more[32];
    tkl_metrics_family(f, name, "histogram",
                       "Time from handing a notice to its notifier until the notifier reported, "
                       "per attempt.");
    for (size_t i = 0; i < m->n_ch; i++) {
        const struct channel *c = &m->ch[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += c->in_bucket[b];
            snprintf(more, sizeof(more), ",le=\"%s\"", buckets[b].le);
            channel_sample(f, "tickler_notification_latency_seconds_bucket", c, more, cum);
        }
        channel_sample(f, "tickler_notification_latency_seconds_bucket", c, ",le=\"+Inf\"",
                       c->observed);
        fprintf(f, "%s_sum{channel=\"", name);
        tkl_metrics_label_value(f, c->name);
        fprintf(f, "\"} %" PRIu64 ".%09" PRIu64 "\n", c->sum_ns / NS_PER_S, c->sum_ns % NS_PER_S);
        channel_sample(f, "tickler_notification_latency_seconds_count", c, "", c->observed);
    }
}

static void render_store(FILE *f, const struct tkl_metrics *m)
{
    tkl_metrics_family(f, "tickler_store_reloads_total", "counter",
                       "Reads of the store (plan files and observances) after the first, by "
                       "result.");
    fprintf(f, "tickler_store_reloads_total{result=\"success\"} %" PRIu64 "\n", m->reloads_ok);
    fprintf(f, "tickler_store_reloads_total{result=\"failure\"} %" PRIu64 "\n", m->reloads_failed);
    tkl_metrics_family(f, "tickler_store_last_reload_success_timestamp_seconds", "gauge",
                       "When the store in force was read, in seconds since the epoch.");
    fprintf(f, "tickler_store_last_reload_success_timestamp_seconds %" PRId64 "\n",
            m->last_reload_ok);
    tkl_metrics_family(f, "tickler_store_last_reload_successful", "gauge",
                       "Whether the latest read of the store (or configuration reload) "
                       "succeeded: 1, or 0 while the last good store stays in force.");
    fprintf(f, "tickler_store_last_reload_successful %d\n", m->last_reload_failed ? 0 : 1);
    tkl_metrics_family(f, "tickler_store_files_from_copy", "gauge",
                       "Plan files of the store in force that could not be read, so their "
                       "copies as last read good are read instead.");
    fprintf(f, "tickler_store_files_from_copy %" PRIu64 "\n", m->from_copies);
    tkl_metrics_family(f, "tickler_store_bytes", "gauge",
                       "Bytes of the store in force (actions, hashes, texts), by where they are "
                       "held: in files of the state directory, which the kernel can drop, or in "
                       "private memory.");
    fprintf(f, "tickler_store_bytes{held_in=\"files\"} %" PRIu64 "\n", m->store_cold);
    fprintf(f, "tickler_store_bytes{held_in=\"private\"} %" PRIu64 "\n", m->store_private);
    static const char *const results[3] = {"changed", "unchanged", "failure"};
    tkl_metrics_family(f, "tickler_plan_fetches_total", "counter",
                       "Fetches of the plans at https:// URLs, by result.");
    for (int i = 0; i < 3; i++)
        fprintf(f, "tickler_plan_fetches_total{result=\"%s\"} %" PRIu64 "\n", results[i],
                m->fetches[i]);
    tkl_metrics_family(f, "tickler_plan_fetch_last_success_timestamp_seconds", "gauge",
                       "When a plan at a URL was last fetched well (changed or not), in seconds "
                       "since the epoch; 0 before.");
    fprintf(f, "tickler_plan_fetch_last_success_timestamp_seconds %" PRId64 "\n", m->last_fetch_ok);
}

static void render_http(FILE *f, const struct tkl_metrics *m)
{
    tkl_metrics_family(f, "tickler_http_requests_total", "counter",
                       "Requests the web face answered, by route and status code.");
    for (size_t i = 0; i < m->n_http; i++) {
        fputs("tickler_http_requests_total{path=\"", f);
        tkl_metrics_label_value(f, tkl_route_name(m->http[i].route));
        fprintf(f, "\",code=\"%u\"} %" PRIu64 "\n", m->http[i].code, m->http[i].n);
    }
}

int tkl_metrics_render(const struct tkl_metrics *m, FILE *f)
{
    static const struct tkl_metrics none; /* NULL: every family, no channel */
    if (!m)
        m = &none;
    channel_counter(f, m, "tickler_notifications_total",
                    "Notifications (notices) finished: delivered or failed for good.",
                    notifications);
    render_failed(f, m);
    channel_counter(f, m, "tickler_notifications_withdrawn_total",
                    "Notices withdrawn, not sent: every action in them was marked complete "
                    "after they were queued.",
                    withdrawn);
    channel_counter(f, m, "tickler_notification_requests_total",
                    "Attempts handed to a notifier, retries included.", requests);
    channel_counter(f, m, "tickler_notification_requests_failed_total",
                    "Attempts that did not deliver, transient failures included.", requests_failed);
    render_latency(f, m);
    render_store(f, m);
    render_http(f, m);
    return ferror(f) ? -EIO : 0;
}
