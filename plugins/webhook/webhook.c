/*
 * webhook: posts each notice as a JSON document to an HTTP(S) endpoint,
 * for ticketing systems, chat tools and anything else that takes a POST.
 *
 * The body is version 1 of the documented schema "tickler.notice/1" (see
 * docs/webhook.md), built with jansson. With a shared secret, the header
 * X-Tickler-Signature carries "sha256=" and the hex HMAC-SHA256 of the
 * exact body bytes. X-Tickler-Notice carries the notice id, stable across
 * retries, so that a receiver can drop a repeat.
 *
 * Destinations are named in the config; their URLs are secrets (they often
 * carry a token) read from a file or a systemd credential, and only the
 * name and host are ever logged or returned as a reply.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tickler/day.h>
#include <tickler/plugin.h>

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
    bool stopped;
};

static void wh_destroy(void *state)
{
    struct webhook *w = state;
    if (!w)
        return;
    hp_dests_free(w->dests, w->n_dests);
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
    if (config_setting_lookup_string(conf, "ca_file", &ca) && !(w->ca_file = strdup(ca))) {
        r = -ENOMEM;
        goto fail;
    }
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

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *day_json(int32_t day)
{
    char buf[TKL_DAY_ISO_SIZE];
    return tkl_day_iso(day, buf, sizeof(buf)) < 0 ? json_null() : json_string(buf);
}

static json_t *instant_json(int64_t at)
{
    char buf[TKL_INSTANT_ISO_SIZE];
    return tkl_instant_iso(at, buf, sizeof(buf)) < 0 ? json_null() : json_string(buf);
}

/* The body: schema tickler.notice/1. Returns a new string or NULL. */
static char *notice_json(const struct tkl_notice *n)
{
    json_t *root = json_object(), *team = json_object(), *entries = json_array();
    char *out = NULL;
    if (!root || !team || !entries)
        goto out;
    int bad = 0;
    bad |= json_object_set_new(team, "id", jstr(n->team_id));
    bad |= json_object_set_new(team, "name", jstr(n->team_name));
    for (size_t i = 0; i < n->n_entries; i++) {
        const struct tkl_notice_entry *e = &n->entries[i];
        json_t *x = json_object();
        if (!x || json_array_append_new(entries, x) < 0) {
            bad = 1;
            break;
        }
        bad |= json_object_set_new(x, "item_id", jstr(e->item_id));
        bad |= json_object_set_new(x, "title", jstr(e->title));
        bad |= json_object_set_new(x, "commitment", jstr(e->commitment));
        bad |= json_object_set_new(x, "owners", jstr(e->owners));
        bad |= json_object_set_new(x, "deadline_text", jstr(e->deadline_text));
        bad |= json_object_set_new(x, "deadline", day_json(e->deadline_day));
        bad |= json_object_set_new(x, "kind", json_string(tkl_deadline_kind_name(e->kind)));
        bad |= json_object_set_new(x, "stage", json_string(tkl_stage_name(e->stage)));
        bad |= json_object_set_new(x, "days_left",
                                   e->deadline_day == TKL_NO_DAY ? json_null()
                                                                 : json_integer(e->days_left));
        bad |= json_object_set_new(x, "late", json_boolean(e->late));
        bad |= json_object_set_new(x, "status", jstr(e->status));
        bad |= json_object_set_new(x, "progress", jstr(e->progress));
        bad |= json_object_set_new(x, "category", jstr(e->category));
        bad |= json_object_set_new(x, "url", jstr(e->url));
    }
    bad |= json_object_set_new(root, "schema", json_string("tickler.notice/1"));
    bad |= json_object_set_new(root, "id", json_integer((json_int_t)n->id));
    bad |= json_object_set_new(root, "channel", jstr(n->channel));
    bad |= json_object_set_new(root, "recipient", jstr(n->recipient));
    bad |= json_object_set_new(root, "team", team);
    team = NULL;
    bad |= json_object_set_new(root, "due_at", instant_json(n->due_at));
    bad |= json_object_set_new(root, "intro", jstr(n->intro));
    bad |= json_object_set_new(root, "entries", entries);
    entries = NULL;
    if (!bad)
        out = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
out:
    json_decref(team);
    json_decref(entries);
    json_decref(root);
    return out;
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
    char *body = notice_json(n);
    struct post *p = calloc(1, sizeof(*p));
    int r = -ENOMEM;
    if (!body || !p)
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
                             .ca_file = w->ca_file};
    if ((r = hp_post_start(w->host, &req, on_posted, p, &p->http)) < 0)
        goto fail;
    free(body);
    p->next = w->posts;
    w->posts = p;
    return 0;
fail:
    free(body);
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
