/*
 * The service's metrics: counters the delivery engine, the store reloads
 * and the web server move as things happen, kept in one registry the
 * service owns, and written out in the Prometheus text format (version
 * 0.0.4) for /metrics. Gauges read at scrape time (the outbox, the
 * actions) are written by daemon/web/exposition.c with the helpers below.
 *
 * Names follow Alertmanager's (alertmanager_notifications_total and
 * friends become tickler_notifications_total...) so that its dashboards
 * carry over. Labels hold bounded values only: a channel is a configured
 * notifier instance name, a reason one of enum tkl_fail_reason, a path a
 * route name (tkl_route_name), a code an HTTP status. No recipient, no id.
 *
 * Every function accepts a NULL registry and then does nothing, so the
 * engine and the service need not check whether metrics are kept.
 * Everything runs on the loop thread.
 */
#ifndef TKL_METRICS_H
#define TKL_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../http/request.h"

/* Why a notification failed for good (the reason label). */
enum tkl_fail_reason {
    TKL_FAIL_PERMANENT,   /* "permanent": the peer refused it (SMTP 5xx, HTTP 4xx) */
    TKL_FAIL_EXPIRED,     /* "expired": transient failures until delivery.max_age_hours */
    TKL_FAIL_RECIPIENT,   /* "recipient": the notifier cannot use the recipient (-EINVAL) */
    TKL_FAIL_NO_NOTIFIER, /* "no_notifier": no notifier of the channel's name is configured */
    TKL_FAIL_COUNT
};

/* The reason's label value. */
const char *tkl_fail_reason_name(enum tkl_fail_reason r);

struct tkl_metrics;

/* A new registry, every counter at 0. Returns 0 or -ENOMEM. */
int tkl_metrics_new(struct tkl_metrics **ret);

/* Accepts NULL. */
void tkl_metrics_free(struct tkl_metrics *m);

/*
 * Makes channel's series exist (at 0) before anything happens on it; the
 * other channel functions add a channel they have not seen. A channel is
 * never removed: counters only grow while the process runs. Returns 0 or
 * -ENOMEM (then nothing is counted for it this time).
 */
int tkl_metrics_channel(struct tkl_metrics *m, const char *channel);

/* One attempt handed to channel's notifier: a request. Returns 0 or
 * -ENOMEM. */
int tkl_metrics_attempt(struct tkl_metrics *m, const char *channel);

/* The notifier reported the attempt, ok or not, latency_ns after it was
 * handed over: observed in the latency histogram, and counted as a
 * failed request unless ok. Returns 0 or -ENOMEM. */
int tkl_metrics_attempt_done(struct tkl_metrics *m, const char *channel, bool ok,
                             uint64_t latency_ns);

/* A notice delivered for good: one notification. Returns 0 or -ENOMEM. */
int tkl_metrics_delivered(struct tkl_metrics *m, const char *channel);

/* A notice was withdrawn, its actions completed before it was sent: not a
 * notification. Returns 0 or -ENOMEM. */
int tkl_metrics_withdrawn(struct tkl_metrics *m, const char *channel);

/* A notice failed for good: one notification, and one failed for reason.
 * Returns 0 or -ENOMEM (or -EINVAL for a reason out of range). */
int tkl_metrics_failed(struct tkl_metrics *m, const char *channel, enum tkl_fail_reason reason);

/* The store (the plan and the observances) was read again, well or not;
 * a success at instant now (seconds) sets the last success timestamp.
 * Whether it succeeded is the last reload's result until the next. */
void tkl_metrics_store_reload(struct tkl_metrics *m, bool ok, int64_t now);

/* The store in force reads n of its plan files from their copies as last
 * read good (store.h, keep_dir): the files themselves cannot be read. */
void tkl_metrics_store_from_copies(struct tkl_metrics *m, size_t n);

/* A fetch of a plan at a URL ended at instant now: ok (a new plan when
 * changed, else the same) or failed. */
void tkl_metrics_plan_fetch(struct tkl_metrics *m, bool ok, bool changed, int64_t now);

/* The store in force was read at instant now (the first load): the last
 * success timestamp, without counting a reload. */
void tkl_metrics_store_loaded(struct tkl_metrics *m, int64_t now);

/* The store in force holds cold bytes in files of the state directory and
 * private bytes in the daemon's own memory (tkl_store_bytes). */
void tkl_metrics_store_bytes(struct tkl_metrics *m, size_t cold, size_t private_bytes);

/* The web server answered a request of route with status code (route
 * TKL_ROUTE_COUNT: a path no route matched). Returns 0 or -ENOMEM. */
int tkl_metrics_http(struct tkl_metrics *m, enum tkl_route route, unsigned code);

/*
 * Writes every family of the registry to f in the text format: HELP and
 * TYPE first, then its samples, channels in the order they were first
 * seen. Returns 0, or -EIO when f reports an error (a memstream out of
 * memory).
 */
int tkl_metrics_render(const struct tkl_metrics *m, FILE *f);

/* ---- the text format, for gauges written elsewhere ------------------ */

/* Writes "# HELP name help\n# TYPE name type\n" (help escaped as HELP
 * text is: backslash and newline). */
void tkl_metrics_family(FILE *f, const char *name, const char *type, const char *help);

/* Writes v as a label value between its quotes: backslash, double quote
 * and newline escaped. */
void tkl_metrics_label_value(FILE *f, const char *v);

#endif
