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
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tickler/plugin.h>

#define REPLY_MAX 300
#define BODY_KEEP 200 /* bytes of a peer's reply kept for the outbox record */

struct dest {
    char *name;
    char *url;    /* secret */
    char *host;   /* for logs */
    char *secret; /* HMAC key, or NULL */
};

struct webhook;

struct post {
    struct webhook *w;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char reply_body[BODY_KEEP + 1];
    size_t reply_len;
    const struct dest *dest;
    tkl_deliver_done_fn done;
    void *done_data;
    struct post *next;
};

struct webhook {
    const struct tkl_host *host;
    struct dest *dests;
    size_t n_dests;
    long timeout_s;
    char *ca_file;
    struct post *posts;
    bool stopped;
};

static void dest_free(struct dest *d)
{
    free(d->name);
    if (d->url) {
        explicit_bzero(d->url, strlen(d->url));
        free(d->url);
    }
    free(d->host);
    if (d->secret) {
        explicit_bzero(d->secret, strlen(d->secret));
        free(d->secret);
    }
}

static void wh_destroy(void *state)
{
    struct webhook *w = state;
    if (!w)
        return;
    for (size_t i = 0; i < w->n_dests; i++)
        dest_free(&w->dests[i]);
    free(w->dests);
    free(w->ca_file);
    free(w);
}

/* The host part of url, for logs; NULL when url does not parse as an
 * http(s) URL. */
static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL, *copy = NULL;
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        (!strcmp(scheme, "https") || !strcmp(scheme, "http")))
        copy = strdup(host);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return copy;
}

static int load_dest(struct webhook *w, const config_setting_t *g, struct dest *d)
{
    static const char *const keys[] = {"name", "url_file", "hmac_secret_file", NULL};
    const struct tkl_host *h = w->host;
    const char *name = NULL, *url_file = NULL, *secret_file = NULL;
    int line = config_setting_source_line(g), r;
    config_setting_t *bad = tkl_config_unknown_member(g, keys);
    if (bad) {
        h->log(h, TKL_LOG_ERR, "line %d: unknown destination setting \"%s\" (known: name, "
                               "url_file, hmac_secret_file)",
               config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    if (!config_setting_lookup_string(g, "name", &name) || !*name ||
        !config_setting_lookup_string(g, "url_file", &url_file)) {
        h->log(h, TKL_LOG_ERR, "line %d: a destination needs name and url_file (a file or "
                               "\"credential:NAME\" holding the URL)",
               line);
        return -EINVAL;
    }
    config_setting_lookup_string(g, "hmac_secret_file", &secret_file);
    if (!(d->name = strdup(name)))
        return -ENOMEM;
    if ((r = h->read_secret(h, url_file, &d->url)) < 0) {
        h->log(h, TKL_LOG_ERR, "line %d: destination \"%s\": cannot read url_file %s: %s", line,
               name, url_file, strerror(-r));
        return r == -ENOMEM ? r : -EINVAL;
    }
    if (!(d->host = url_host(d->url))) {
        h->log(h, TKL_LOG_ERR, "line %d: destination \"%s\": %s does not hold an http:// or "
                               "https:// URL",
               line, name, url_file);
        return -EINVAL;
    }
    if (secret_file && (r = h->read_secret(h, secret_file, &d->secret)) < 0) {
        h->log(h, TKL_LOG_ERR, "line %d: destination \"%s\": cannot read hmac_secret_file %s: %s",
               line, name, secret_file, strerror(-r));
        return r == -ENOMEM ? r : -EINVAL;
    }
    return 0;
}

static int wh_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"destinations", "timeout_seconds", "ca_file", NULL};
    if (!TKL_HAS_MEMBER(host, host->size, read_secret) || !host->read_secret ||
        !host->transfer_start)
        return -ENOTSUP;
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\" (known: destinations, "
                                     "timeout_seconds, ca_file)",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    const config_setting_t *list = conf ? config_setting_get_member(conf, "destinations") : NULL;
    if (!list || !config_setting_is_list(list) || config_setting_length(list) == 0) {
        host->log(host, TKL_LOG_ERR, "settings need destinations = ( { name = \"...\"; url_file = "
                                     "\"...\"; }, ... )");
        return -EINVAL;
    }
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
    size_t n = (size_t)config_setting_length(list);
    if (!(w->dests = calloc(n, sizeof(*w->dests)))) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        w->n_dests++;
        int rr = load_dest(w, config_setting_get_elem(list, (unsigned)i), &w->dests[i]);
        if (rr == -ENOMEM) {
            r = rr;
            goto fail;
        }
        if (rr < 0)
            r = rr;
    }
    if (r < 0)
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

static const struct dest *find_dest(const struct webhook *w, const char *name)
{
    for (size_t i = 0; i < w->n_dests; i++)
        if (!strcmp(w->dests[i].name, name))
            return &w->dests[i];
    return NULL;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *day_json(int32_t day)
{
    if (day == TKL_NO_DAY)
        return json_null();
    time_t t = (time_t)day * 86400;
    struct tm tm;
    char buf[16];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d", &tm))
        return json_null();
    return json_string(buf);
}

static json_t *instant_json(int64_t at)
{
    time_t t = (time_t)at;
    struct tm tm;
    char buf[40];
    if (!localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm))
        return json_null();
    /* +0100 -> +01:00, as ISO 8601 extended format wants */
    size_t n = strlen(buf);
    memmove(buf + n - 1, buf + n - 2, 3);
    buf[n - 2] = ':';
    return json_string(buf);
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
        bad |= json_object_set_new(x, "days_left", e->deadline_day == TKL_NO_DAY
                                                       ? json_null()
                                                       : json_integer(e->days_left));
        bad |= json_object_set_new(x, "late", json_boolean(e->late));
        bad |= json_object_set_new(x, "status", jstr(e->status));
        bad |= json_object_set_new(x, "progress", jstr(e->progress));
    }
    bad |= json_object_set_new(root, "schema", json_string("tickler.notice/1"));
    bad |= json_object_set_new(root, "id", json_integer((json_int_t)n->id));
    bad |= json_object_set_new(root, "channel", jstr(n->channel));
    bad |= json_object_set_new(root, "recipient", jstr(n->recipient));
    bad |= json_object_set_new(root, "team", team);
    team = NULL;
    bad |= json_object_set_new(root, "due_at", instant_json(n->due_at));
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

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct post *p = userp;
    size_t n = size * nmemb, room = BODY_KEEP - p->reply_len;
    size_t take = n < room ? n : room;
    memcpy(p->reply_body + p->reply_len, data, take);
    p->reply_len += take;
    p->reply_body[p->reply_len] = '\0';
    return n;
}

static void post_free(struct post *p)
{
    if (p->easy)
        curl_easy_cleanup(p->easy);
    curl_slist_free_all(p->headers);
    free(p->body);
    free(p);
}

static void unlink_post(struct post *p)
{
    for (struct post **q = &p->w->posts; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

/* Printable ASCII only, so a peer's reply cannot break a log line. */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = ' ';
}

static bool transient_curl(CURLcode c)
{
    switch (c) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
        return false;
    default:
        return true; /* connection, DNS, TLS and timeouts can all heal */
    }
}

static void on_done(void *data, int code)
{
    struct post *p = data;
    struct webhook *w = p->w;
    char reply[REPLY_MAX];
    struct tkl_delivery res = {.size = sizeof(res), .reply = reply};
    long status = 0;
    curl_off_t retry_after = 0;
    unlink_post(p);
    if (code != CURLE_OK) {
        res.status = transient_curl((CURLcode)code) ? TKL_DELIVERY_TRANSIENT
                                                     : TKL_DELIVERY_PERMANENT;
        snprintf(reply, sizeof(reply), "%s: %s", p->dest->host,
                 curl_easy_strerror((CURLcode)code));
    } else {
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(p->easy, CURLINFO_RETRY_AFTER, &retry_after);
        clean(p->reply_body);
        snprintf(reply, sizeof(reply), "HTTP %ld from %s%s%.200s", status, p->dest->host,
                 p->reply_len ? ": " : "", p->reply_body);
        if (status >= 200 && status < 300)
            res.status = TKL_DELIVERY_OK;
        else if (status == 408 || status == 429 || status >= 500)
            res.status = TKL_DELIVERY_TRANSIENT;
        else
            res.status = TKL_DELIVERY_PERMANENT;
        if (retry_after > 0)
            res.retry_after = retry_after > 86400 ? 86400 : (int32_t)retry_after;
    }
    if (res.status != TKL_DELIVERY_OK)
        w->host->log(w->host, TKL_LOG_DEBUG, "destination %s: %s", p->dest->name, reply);
    tkl_deliver_done_fn done = p->done;
    void *done_data = p->done_data;
    post_free(p);
    done(done_data, &res);
}

static int wh_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct webhook *w = state;
    if (w->stopped)
        return -ESHUTDOWN;
    const struct dest *d = find_dest(w, n->recipient);
    if (!d) {
        w->host->log(w->host, TKL_LOG_ERR, "no destination named \"%s\" in the settings",
                     n->recipient);
        return -ENOENT;
    }
    struct post *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->w = w;
    p->dest = d;
    p->done = done;
    p->done_data = done_data;
    char idh[64], sig[128];
    snprintf(idh, sizeof(idh), "X-Tickler-Notice: %llu", (unsigned long long)n->id);
    int r = -ENOMEM;
    struct curl_slist *h;
    if (!(p->body = notice_json(n)) || !(p->easy = curl_easy_init()))
        goto fail;
    if (!(h = curl_slist_append(NULL, "Content-Type: application/json")))
        goto fail;
    p->headers = h;
    if (!(h = curl_slist_append(p->headers, idh)))
        goto fail;
    if (d->secret) {
        if ((r = sign(d->secret, p->body, sig, sizeof(sig))) < 0)
            goto fail;
        r = -ENOMEM;
        if (!(h = curl_slist_append(p->headers, sig)))
            goto fail;
    }
    CURL *e = p->easy;
    CURLcode c = CURLE_OK;
    c |= curl_easy_setopt(e, CURLOPT_URL, d->url);
    c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    c |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
    c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    c |= curl_easy_setopt(e, CURLOPT_TIMEOUT, w->timeout_s);
    c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, w->timeout_s < 10 ? w->timeout_s : 10L);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c |= curl_easy_setopt(e, CURLOPT_USERAGENT, "tickler-webhook/1");
    c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    if (w->ca_file)
        c |= curl_easy_setopt(e, CURLOPT_CAINFO, w->ca_file);
    if (c != CURLE_OK) {
        r = -EINVAL;
        goto fail;
    }
    if ((r = w->host->transfer_start(w->host, e, on_done, p)) < 0)
        goto fail;
    p->next = w->posts;
    w->posts = p;
    return 0;
fail:
    post_free(p);
    return r;
}

static void wh_stop(void *state)
{
    struct webhook *w = state;
    w->stopped = true;
    while (w->posts) {
        struct post *p = w->posts;
        w->posts = p->next;
        w->host->transfer_cancel(w->host, p->easy);
        struct tkl_delivery res = {.size = sizeof(res),
                                   .status = TKL_DELIVERY_TRANSIENT,
                                   .reply = "shutting down"};
        tkl_deliver_done_fn done = p->done;
        void *done_data = p->done_data;
        post_free(p);
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
};

__attribute__((visibility("default"))) const struct tkl_plugin *
tickler_plugin_entry(const uint32_t *host_versions, size_t n_versions)
{
    for (size_t i = 0; i < n_versions; i++)
        if (host_versions[i] == TICKLER_ABI_VERSION)
            return &descriptor;
    return NULL;
}
