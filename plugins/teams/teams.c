/*
 * teams: posts each notice to a Microsoft Teams channel through a Workflows
 * (Power Automate) webhook, as an Adaptive Card (version 1.4) in the
 * message envelope Workflows expects. Cards are built with jansson.
 *
 * Text from the plan goes into TextRuns of RichTextBlocks, which Teams does
 * not read as Markdown, so a title cannot turn into a link or a heading.
 * Any 2xx answer is success (Workflows answers 202 Accepted). A card is
 * measured before it is sent: above max_card_bytes (default 28,000, under
 * the Teams limit of about 28 KB) the last actions are left out and the
 * card says "and N more". Each webhook gets at most max_posts_per_second
 * posts (default 4), and a 429 with Retry-After holds that webhook back.
 *
 * Webhook URLs carry a signature and are secrets: read from files or
 * systemd credentials, named in the config by a short name, and only the
 * name and host are ever logged.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <tickler/plugin.h>

#include "digest.h"
#include "post.h"

#define CARD_MAX_DEFAULT 28000

struct teams;

struct post {
    struct teams *t;
    size_t dest;       /* index in t->dests */
    char *body;        /* the envelope, until it is started */
    struct hp_post *http;
    tkl_deliver_done_fn done;
    void *done_data;
    struct post *next; /* in t->queue (waiting) or t->running */
};

struct teams {
    const struct tkl_host *host;
    struct hp_dest *dests;
    size_t n_dests;
    size_t *slot;         /* per destination: the first one with the same URL */
    uint64_t *not_before; /* per slot: uv_now() ms of the next allowed post */
    long timeout_s;
    char *ca_file;
    char *plan_url;
    size_t card_max;
    uint64_t interval_ms;
    struct post *queue, *running;
    uv_timer_t timer;
    bool timer_open;
    bool stopped;
};

static void on_timer_closed(uv_handle_t *h)
{
    struct teams *t = h->data;
    t->timer_open = false;
}

static void tm_destroy(void *state)
{
    struct teams *t = state;
    if (!t)
        return;
    hp_dests_free(t->dests, t->n_dests);
    free(t->not_before);
    free(t->slot);
    free(t->ca_file);
    free(t->plan_url);
    free(t);
}

static int tm_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"destinations", "timeout_seconds",      "ca_file",
                                       "plan_url",     "max_posts_per_second", "max_card_bytes",
                                       NULL};
    if (!TKL_HAS_MEMBER(host, host->size, read_secret) || !host->read_secret ||
        !host->transfer_start)
        return -ENOTSUP;
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\"",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    struct teams *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->host = host;
    t->timeout_s = 30;
    t->card_max = CARD_MAX_DEFAULT;
    t->interval_ms = 250;
    int r, v;
    const char *s;
    if (conf && config_setting_lookup_int(conf, "timeout_seconds", &v)) {
        if (v < 1 || v > 600) {
            host->log(host, TKL_LOG_ERR, "timeout_seconds must be between 1 and 600");
            r = -EINVAL;
            goto fail;
        }
        t->timeout_s = v;
    }
    if (conf && config_setting_lookup_int(conf, "max_posts_per_second", &v)) {
        if (v < 1 || v > 100) {
            host->log(host, TKL_LOG_ERR, "max_posts_per_second must be between 1 and 100");
            r = -EINVAL;
            goto fail;
        }
        t->interval_ms = (uint64_t)(1000 / v);
    }
    if (conf && config_setting_lookup_int(conf, "max_card_bytes", &v)) {
        if (v < 4000 || v > 28000) {
            host->log(host, TKL_LOG_ERR, "max_card_bytes must be between 4000 and 28000");
            r = -EINVAL;
            goto fail;
        }
        t->card_max = (size_t)v;
    }
    r = -ENOMEM;
    if (conf && config_setting_lookup_string(conf, "ca_file", &s) && !(t->ca_file = strdup(s)))
        goto fail;
    if (conf && config_setting_lookup_string(conf, "plan_url", &s)) {
        if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) {
            host->log(host, TKL_LOG_ERR, "plan_url must be an http:// or https:// URL");
            r = -EINVAL;
            goto fail;
        }
        if (!(t->plan_url = strdup(s)))
            goto fail;
    }
    if ((r = hp_dests_load(host, conf ? config_setting_get_member(conf, "destinations") : NULL,
                           false, &t->dests, &t->n_dests)) < 0)
        goto fail;
    if (!(t->not_before = calloc(t->n_dests, sizeof(*t->not_before))) ||
        !(t->slot = calloc(t->n_dests, sizeof(*t->slot)))) {
        r = -ENOMEM;
        goto fail;
    }
    /* the rate budget is per webhook: names for one URL share it */
    for (size_t i = 0; i < t->n_dests; i++) {
        t->slot[i] = i;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->dests[k].url, t->dests[i].url)) {
                t->slot[i] = t->slot[k];
                break;
            }
    }
    *ret_state = t;
    return 0;
fail:
    tm_destroy(t);
    return r;
}

static int tm_start(void *state)
{
    struct teams *t = state;
    int r = uv_timer_init(t->host->loop, &t->timer);
    if (r < 0)
        return r;
    t->timer.data = t;
    t->timer_open = true;
    return 0;
}

/* ---- the card ----------------------------------------------------------- */

/* A RichTextBlock of runs: label (bold) and text (plain, never Markdown).
 * Returns NULL on ENOMEM (json_array_append_new then fails harmlessly). */
static json_t *rich(const char *label, const char *text, const char *color, bool bold_text)
{
    json_t *runs = json_array(), *run = json_object();
    if (!runs || !run)
        goto fail;
    if (label && json_array_append_new(runs, json_pack("{s:s, s:s, s:s}", "type", "TextRun",
                                                       "text", label, "weight", "Bolder")) < 0)
        goto fail;
    if (json_object_set_new(run, "type", json_string("TextRun")) < 0 ||
        json_object_set_new(run, "text", json_string(text ? text : "")) < 0 ||
        (color && json_object_set_new(run, "color", json_string(color)) < 0) ||
        (bold_text && json_object_set_new(run, "weight", json_string("Bolder")) < 0))
        goto fail;
    if (json_array_append_new(runs, run) < 0) {
        run = NULL;
        goto fail;
    }
    return json_pack("{s:s, s:o}", "type", "RichTextBlock", "inlines", runs);
fail:
    json_decref(run);
    json_decref(runs);
    return NULL;
}

static const char *group_style(enum dg_group g)
{
    switch (g) {
    case DG_FAILURES:
    case DG_OVERDUE:
        return "attention";
    case DG_THIS_WEEK:
        return "warning";
    case DG_COMING_UP:
        return "default";
    default:
        return "emphasis";
    }
}

static const char *group_color(enum dg_group g)
{
    return g <= DG_OVERDUE ? "Attention" : g == DG_THIS_WEEK ? "Warning" : "Default";
}

static json_t *entry_container(const struct tkl_notice_entry *e, enum dg_group g)
{
    json_t *items = json_array();
    json_array_append_new(items, rich(NULL, e->title ? e->title : "(no title)", NULL, true));
    if (g == DG_FAILURES) {
        if (e->progress)
            json_array_append_new(items, rich("Reply: ", e->progress, NULL, false));
    } else {
        char day[64], w[64], line[512];
        dg_format_day(e->deadline_day, day, sizeof(day));
        dg_when(e, w, sizeof(w));
        const char *dt = e->deadline_text && *e->deadline_text ? e->deadline_text : NULL;
        if (e->deadline_day != TKL_NO_DAY)
            snprintf(line, sizeof(line), "%.200s (%s)", dt ? dt : "-", day);
        else
            snprintf(line, sizeof(line), "%.200s", dt ? dt : "not set");
        json_array_append_new(
            items, rich(e->deadline_day != TKL_NO_DAY ? "Deadline: " : "Timeframe: ", line, NULL,
                        false));
        snprintf(line, sizeof(line), "%s%s", w, e->late ? " (sent late)" : "");
        json_array_append_new(items, rich("When: ", line, group_color(g), g <= DG_THIS_WEEK));
        if (e->status && *e->status)
            json_array_append_new(items, rich("Status: ", e->status, NULL, false));
        if (e->owners && *e->owners)
            json_array_append_new(items, rich("Responsibility: ", e->owners, NULL, false));
        if (e->progress)
            json_array_append_new(items, rich("Latest progress: ", e->progress, NULL, false));
    }
    json_array_append_new(items, rich("Id: ", e->item_id, NULL, false));
    return json_pack("{s:s, s:s, s:s, s:o}", "type", "Container", "style", group_style(g),
                     "spacing", "Medium", "items", items);
}

/* The envelope with a card of the first `take` entries (in group order)
 * and, when some are left out, "and N more". */
static json_t *envelope(const struct teams *t, const struct tkl_notice *n, size_t take)
{
    char title[512], more[160];
    dg_subject(n, title, sizeof(title));
    json_t *body = json_array();
    /* the title holds plan text: a RichTextBlock, not Markdown */
    json_array_append_new(body, rich(NULL, title, NULL, true));
    json_array_append_new(body, rich(NULL, n->n_entries == 1 ? "This item needs your attention."
                                                              : "These items need your attention.",
                                     NULL, false));
    size_t shown = 0;
    for (int g = 0; g < DG_GROUPS && shown < take; g++) {
        bool any = false;
        for (size_t i = 0; i < n->n_entries && shown < take; i++) {
            const struct tkl_notice_entry *e = &n->entries[i];
            if (dg_group_of(e) != (enum dg_group)g)
                continue;
            if (!any) {
                json_t *h = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "type", "TextBlock",
                                      "text", dg_group_title((enum dg_group)g), "weight",
                                      "Bolder", "color", group_color((enum dg_group)g), "spacing",
                                      "Large", "wrap", 1);
                json_array_append_new(body, h);
                any = true;
            }
            json_array_append_new(body, entry_container(e, (enum dg_group)g));
            shown++;
        }
    }
    if (shown < n->n_entries) {
        snprintf(more, sizeof(more), "and %zu more action%s: see the action plan.",
                 n->n_entries - shown, n->n_entries - shown == 1 ? "" : "s");
        json_array_append_new(body, rich(NULL, more, NULL, true));
    }
    json_t *card = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "$schema",
                             "http://adaptivecards.io/schemas/adaptive-card.json", "type",
                             "AdaptiveCard", "version", "1.4", "msteams", "width", "Full", "body",
                             body);
    if (card && t->plan_url)
        json_object_set_new(card, "actions",
                            json_pack("[{s:s, s:s, s:s}]", "type", "Action.OpenUrl", "title",
                                      "Open the action plan", "url", t->plan_url));
    return json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments",
                     "contentType", "application/vnd.microsoft.card.adaptive", "contentUrl",
                     "content", card);
}

/* The envelope as compact JSON of at most card_max bytes: as many entries
 * as fit. Returns a new string or NULL. */
static char *envelope_text(const struct teams *t, const struct tkl_notice *n)
{
    /* entries in the order the card shows them, so "take" cuts the tail */
    size_t lo = 0, hi = n->n_entries;
    char *best = NULL;
    while (lo <= hi) { /* the most entries that fit, by bisection */
        size_t mid = lo + (hi - lo) / 2;
        json_t *env = envelope(t, n, mid);
        char *s = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        if (!s) {
            free(best);
            return NULL;
        }
        if (strlen(s) <= t->card_max) {
            free(best);
            best = s;
            lo = mid + 1;
        } else {
            free(s);
            if (mid == 0)
                break;
            hi = mid - 1;
        }
    }
    return best;
}

/* ---- posting, within the rate budget ------------------------------------ */

static void pump(struct teams *t);

static void unlink_from(struct post **list, struct post *p)
{
    for (struct post **q = list; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

static void finish(struct post *p, const struct tkl_delivery *res)
{
    tkl_deliver_done_fn done = p->done;
    void *done_data = p->done_data;
    free(p->body);
    free(p);
    done(done_data, res);
}

static void on_posted(void *data, const struct tkl_delivery *res)
{
    struct post *p = data;
    struct teams *t = p->t;
    unlink_from(&t->running, p);
    if (res->status == TKL_DELIVERY_TRANSIENT && res->retry_after > 0) {
        uint64_t until = uv_now(t->host->loop) + (uint64_t)res->retry_after * 1000;
        size_t slot = t->slot[p->dest];
        if (until > t->not_before[slot])
            t->not_before[slot] = until; /* the webhook asked us to wait */
    }
    finish(p, res);
    pump(t);
}

static void on_timer(uv_timer_t *timer)
{
    pump(timer->data);
}

/* Starts every queued post whose webhook may take one now, oldest first,
 * and arms the timer for the next. */
static void pump(struct teams *t)
{
    uint64_t now = uv_now(t->host->loop), next = UINT64_MAX;
    struct post **q = &t->queue;
    while (*q && !t->stopped) {
        struct post *p = *q;
        size_t slot = t->slot[p->dest];
        if (t->not_before[slot] > now) {
            if (t->not_before[slot] < next)
                next = t->not_before[slot];
            q = &p->next;
            continue;
        }
        *q = p->next;
        t->not_before[slot] = now + t->interval_ms;
        struct hp_request req = {.dest = &t->dests[p->dest], .body = p->body,
                                 .timeout_s = t->timeout_s, .ca_file = t->ca_file};
        int r = hp_post_start(t->host, &req, on_posted, p, &p->http);
        if (r < 0) {
            char reply[128];
            snprintf(reply, sizeof(reply), "cannot start the post: %s", strerror(-r));
            struct tkl_delivery res = {.size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT,
                                       .reply = reply};
            finish(p, &res);
            continue;
        }
        free(p->body);
        p->body = NULL;
        p->next = t->running;
        t->running = p;
    }
    if (next != UINT64_MAX && t->timer_open)
        uv_timer_start(&t->timer, on_timer, next - now, 0);
}

static int tm_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct teams *t = state;
    if (t->stopped || !t->timer_open)
        return -ESHUTDOWN;
    const struct hp_dest *d = hp_dest_find(t->dests, t->n_dests, n->recipient);
    if (!d) {
        t->host->log(t->host, TKL_LOG_ERR, "no webhook named \"%s\" in the settings",
                     n->recipient);
        return -ENOENT;
    }
    struct post *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    *p = (struct post){.t = t, .dest = (size_t)(d - t->dests), .done = done,
                       .done_data = done_data};
    if (!(p->body = envelope_text(t, n))) {
        free(p);
        return -ENOMEM;
    }
    /* queued at the tail; started from the loop, never inside deliver() */
    struct post **q = &t->queue;
    while (*q)
        q = &(*q)->next;
    *q = p;
    uv_timer_start(&t->timer, on_timer, 0, 0);
    return 0;
}

static void tm_stop(void *state)
{
    struct teams *t = state;
    struct tkl_delivery res = {.size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT,
                               .reply = "shutting down"};
    t->stopped = true;
    while (t->running) {
        struct post *p = t->running;
        t->running = p->next;
        hp_post_cancel(t->host, p->http);
        finish(p, &res);
    }
    while (t->queue) {
        struct post *p = t->queue;
        t->queue = p->next;
        finish(p, &res);
    }
    if (t->timer_open && !uv_is_closing((uv_handle_t *)&t->timer))
        uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "teams",
    .description = "posts notices to Microsoft Teams channels as Adaptive Cards (Workflows)",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = tm_init,
    .start = tm_start,
    .deliver = tm_deliver,
    .stop = tm_stop,
    .destroy = tm_destroy,
};

__attribute__((visibility("default"))) const struct tkl_plugin *
tickler_plugin_entry(const uint32_t *host_versions, size_t n_versions)
{
    for (size_t i = 0; i < n_versions; i++)
        if (host_versions[i] == TICKLER_ABI_VERSION)
            return &descriptor;
    return NULL;
}
