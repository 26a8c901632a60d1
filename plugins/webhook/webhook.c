/*
 * webhook: posts each notice as a JSON document to an HTTP(S) endpoint,
 * for ticketing systems, chat tools and anything else that takes a POST.
 *
 * The body is version 1 of the documented schema "tickler.notice/1" (see
 * docs/webhook.md), written straight into one buffer. With a shared secret, the header
 * X-Tickler-Signature carries "sha256=" and the hex HMAC-SHA256 of the
 * exact body bytes. X-Tickler-Notice carries the notice id, stable across
 * retries, so that a receiver can drop a repeat.
 *
 * Destinations are named in the config; their URLs are secrets (they often
 * carry a token) read from a file or a systemd credential, and only the
 * name and host are ever logged or returned as a reply. The entries' links
 * are the recipient's secrets too: in the body only, never logged, and an
 * answer that repeats one is not kept.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tickler/day.h>
#include <tickler/plugin.h>

#include "digest.h"
#include "lifecycle.h"
#include "post.h"

struct webhook;

struct post {
    struct webhook *w;
    struct hp_post *http;
    tkl_deliver_done_fn done;
    void *done_data;
    struct post *next;
};

struct webhook {
    const struct tkl_host *host;
    struct hp_dest *dests;
    size_t n_dests;
    long timeout_s;
    char *ca_file;
    struct post *posts;
    struct hp_pool pool; /* libcurl handles of finished posts, for the next */
    bool stopped;
};

static void wh_destroy(void *state)
{
    struct webhook *w = state;
    if (!w)
        return;
    hp_dests_free(w->dests, w->n_dests);
    hp_pool_drain(&w->pool);
    free(w->ca_file);
    free(w);
}

static int wh_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"destinations", "timeout_seconds", "ca_file", NULL};
    if (!TKL_HAS_MEMBER(host, host->size, read_secret) || !host->read_secret ||
        !host->transfer_start)
        return -ENOTSUP;
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR,
                  "line %d: unknown setting \"%s\" (known: destinations, "
                  "timeout_seconds, ca_file)",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    const config_setting_t *list = conf ? config_setting_get_member(conf, "destinations") : NULL;
    struct webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->host = host;
    w->timeout_s = 30;
    int r = 0, t;
    const char *ca = NULL;
    if (config_setting_lookup_int(conf, "timeout_seconds", &t)) {
        if (t < 1 || t > 600) {
            host->log(host, TKL_LOG_ERR, "timeout_seconds must be between 1 and 600");
            r = -EINVAL;
            goto fail;
        }
        w->timeout_s = t;
    }
    (void)config_setting_lookup_string(conf, "ca_file", &ca);
    if ((r = hp_ca_file(host, ca, &w->ca_file)) < 0)
        goto fail;
    if ((r = hp_dests_load(host, list, true, &w->dests, &w->n_dests)) < 0)
        goto fail;
    *ret_state = w;
    return 0;
fail:
    wh_destroy(w);
    return r;
}

static int wh_start(void *state)
{
    (void)state;
    return 0;
}

/* ,"key": (key plain ASCII) */
static void put_key(struct dg_buf *b, const char *key)
{
    dg_put(b, ",\"", 2);
    dg_puts(b, key);
    dg_put(b, "\":", 2);
}

/* ,"key": and the JSON of s (null for NULL). */
static void put_str(struct dg_buf *b, const char *key, const char *s)
{
    put_key(b, key);
    dg_put_json_string(b, s);
}

static void put_day(struct dg_buf *b, const char *key, int32_t day)
{
    char buf[TKL_DAY_ISO_SIZE];
    put_key(b, key);
    if (tkl_day_iso(day, buf, sizeof(buf)) < 0) {
        dg_puts(b, "null");
        return;
    }
    dg_puts(b, "\"");
    dg_puts(b, buf);
    dg_puts(b, "\"");
}

/* Whether n holds an observance of the diversity calendar (a prompt or
 * the look-ahead): its body then names the calendar. */
static bool holds_observance(const struct tkl_notice *n)
{
    for (size_t i = 0; i < n->n_entries; i++)
        if (n->entries[i].kind == TKL_DEADLINE_EVENT)
            return true;
    return false;
}

/*
 * The body: schema tickler.notice/1, compact, in ASCII (as jansson's
 * JSON_COMPACT | JSON_ENSURE_ASCII writes it, member order as documented).
 * Text that is not UTF-8 (a notice queued from an older plan reader) is
 * sent with U+FFFD for each bad byte. Returns a new string, or NULL for
 * want of memory.
 */
static char *notice_json(const struct tkl_notice *n)
{
    struct dg_buf b = {0};
    char at[TKL_INSTANT_ISO_SIZE];
    dg_puts(&b, "{\"schema\":\"tickler.notice/1\",\"id\":");
    dg_put_int(&b, (long long)n->id);
    put_str(&b, "channel", n->channel);
    put_str(&b, "recipient", n->recipient);
    dg_puts(&b, ",\"team\":{\"id\":");
    dg_put_json_string(&b, n->team_id);
    put_str(&b, "name", n->team_name);
    dg_puts(&b, "},\"due_at\":");
    if (tkl_instant_iso(n->due_at, at, sizeof(at)) < 0) {
        dg_puts(&b, "null");
    } else {
        dg_puts(&b, "\"");
        dg_puts(&b, at);
        dg_puts(&b, "\"");
    }
    put_str(&b, "intro", n->intro);
    put_str(&b, "calendar", holds_observance(n) ? dg_calendar_title(n) : NULL);
    dg_puts(&b, ",\"entries\":[");
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        dg_puts(&b, i ? ",{\"item_id\":" : "{\"item_id\":");
        dg_put_json_string(&b, e->item_id);
        put_str(&b, "title", e->title);
        put_str(&b, "commitment", e->commitment);
        put_str(&b, "owners", e->owners);
        put_str(&b, "deadline_text", e->deadline_text);
        put_day(&b, "deadline", e->deadline_day);
        put_str(&b, "kind", tkl_deadline_kind_name(e->kind));
        put_str(&b, "stage", tkl_stage_name(e->stage));
        if (e->deadline_day == TKL_NO_DAY) {
            dg_puts(&b, ",\"days_left\":null");
        } else {
            dg_puts(&b, ",\"days_left\":");
            dg_put_int(&b, (long long)e->days_left);
        }
        dg_puts(&b, e->late ? ",\"late\":true" : ",\"late\":false");
        put_str(&b, "status", e->status);
        put_str(&b, "progress", e->progress);
        put_str(&b, "category", e->category);
        put_str(&b, "url", e->url);
        put_str(&b, "answer", e->answer);
        put_str(&b, "link", e->link && *e->link ? e->link : NULL);
        dg_puts(&b, "}");
    }
    dg_puts(&b, "]}");
    if (b.oom) {
        dg_secret_free(b.data); /* it may hold the recipient's links */
        return NULL;
    }
    return b.data;
}

/* "sha256=<hex>" of the body under key, into buf (72 bytes). */
static int sign(const char *key, const char *body, char *buf, size_t size)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body), mac,
              &len))
        return -EIO;
    int k = snprintf(buf, size, "X-Tickler-Signature: sha256=");
    for (unsigned i = 0; i < len && (size_t)k + 2 < size; i++)
        k += snprintf(buf + k, size - (size_t)k, "%02x", mac[i]);
    return 0;
}

static void unlink_post(struct post *p)
{
    for (struct post **q = &p->w->posts; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

static void on_posted(void *data, const struct tkl_delivery *res)
{
    struct post *p = data;
    unlink_post(p);
    tkl_deliver_done_fn done = p->done;
    void *done_data = p->done_data;
    free(p);
    done(done_data, res);
}

static int wh_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct webhook *w = state;
    if (w->stopped)
        return -ESHUTDOWN;
    const struct hp_dest *d = hp_dest_find(w->dests, w->n_dests, n->recipient);
    if (!d) {
        char why[512];
        hp_dest_check(w->dests, w->n_dests, n->recipient, why, sizeof(why));
        w->host->log(w->host, TKL_LOG_ERR, "%s", why);
        return -EINVAL;
    }
    char idh[64], sig[128];
    const char *headers[3] = {idh, NULL, NULL};
    snprintf(idh, sizeof(idh), "X-Tickler-Notice: %llu", (unsigned long long)n->id);
    char *body = notice_json(n), **tokens = NULL;
    struct post *p = calloc(1, sizeof(*p));
    int r = -ENOMEM;
    if (!body || !p || dg_link_tokens(n, &tokens) < 0)
        goto fail;
    if (d->secret) {
        if ((r = sign(d->secret, body, sig, sizeof(sig))) < 0)
            goto fail;
        headers[1] = sig;
    }
    *p = (struct post){.w = w, .done = done, .done_data = done_data};
    struct hp_request req = {.dest = d,
                             .body = body,
                             .headers = headers,
                             .timeout_s = w->timeout_s,
                             .ca_file = w->ca_file,
                             .keep_out = tokens,
                             .pool = &w->pool};
    if ((r = hp_post_start(w->host, &req, on_posted, p, &p->http)) < 0)
        goto fail;
    dg_secret_free(body); /* it holds the recipient's links */
    dg_secrets_free(tokens);
    p->next = w->posts;
    w->posts = p;
    return 0;
fail:
    dg_secret_free(body);
    dg_secrets_free(tokens);
    free(p);
    return lc_transient(r);
}

/* A recipient names one of the configured destinations. */
static int wh_check_recipient(void *state, const char *recipient, char *why, size_t why_size)
{
    const struct webhook *w = state;
    return hp_dest_check(w->dests, w->n_dests, recipient, why, why_size);
}

/*
 * Takes over fresh's destinations, timeout and CA file. Posts in flight
 * keep what they were started with (libcurl copied the URL and CA file;
 * the post copied the destination's name and host).
 */
static void wh_reconfigure(void *state, void *fresh)
{
    struct webhook *w = state, *f = fresh;
    LC_SWAP(w->dests, f->dests);
    LC_SWAP(w->n_dests, f->n_dests);
    LC_SWAP(w->timeout_s, f->timeout_s);
    LC_SWAP(w->ca_file, f->ca_file);
}

static void wh_stop(void *state)
{
    struct webhook *w = state;
    w->stopped = true;
    while (w->posts) {
        struct post *p = w->posts;
        w->posts = p->next;
        hp_post_cancel(w->host, p->http);
        struct tkl_delivery res = {
            .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = "shutting down"};
        tkl_deliver_done_fn done = p->done;
        void *done_data = p->done_data;
        free(p);
        done(done_data, &res);
    }
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "webhook",
    .description = "posts notices as signed JSON to HTTP(S) endpoints",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = wh_init,
    .start = wh_start,
    .deliver = wh_deliver,
    .stop = wh_stop,
    .destroy = wh_destroy,
    .check_recipient = wh_check_recipient,
    .reconfigure = wh_reconfigure,
};

TICKLER_PLUGIN_ENTRY(descriptor)
