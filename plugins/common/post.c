#include "post.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <tickler/text.h>

#include "digest.h"

#define BODY_KEEP 200  /* bytes of a peer's answer kept for the outbox record */
#define BODY_SCAN 4096 /* bytes of it searched for the destination's secret address */

struct hp_post {
    const struct tkl_host *host;
    char *dest_name, *dest_host; /* copies: a reload may free the destination */
    CURL *easy;
    struct hp_pool *pool; /* or NULL */
    struct curl_slist *headers;
    char *body;
    char **keep_out; /* copies of hp_request.keep_out, or NULL */
    bool with_ca;    /* CURLOPT_CAINFO set */
    hp_done_fn done;
    void *data;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's words for a failure (CURLOPT_ERRORBUFFER) */
    size_t answer_len;
    char answer[BODY_SCAN + 1]; /* last: not zeroed past answer_len */
};

void hp_dests_free(struct hp_dest *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++) {
        free(d[i].name);
        dg_secret_free(d[i].url);
        free(d[i].host);
        dg_secret_free(d[i].secret);
    }
    free(d);
}

const struct hp_dest *hp_dest_find(const struct hp_dest *d, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d[mid].name, name);
        if (c == 0)
            return &d[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct hp_dest *)a)->name, ((const struct hp_dest *)b)->name);
}

static int by_name_then_order(const void *a, const void *b)
{
    int c = by_name(a, b);
    size_t x = ((const struct hp_dest *)a)->order, y = ((const struct hp_dest *)b)->order;
    return c ? c : x < y ? -1 : x > y;
}

int hp_dest_check(const struct hp_dest *d, size_t n, const char *name, char *why, size_t size)
{
    if (hp_dest_find(d, n, name))
        return 0;
    struct dg_buf b = {0};
    /* the names as the configuration lists them: at[k] is the kth's place */
    size_t *at = malloc((n ? n : 1) * sizeof(*at));
    for (size_t i = 0; at && i < n; i++)
        at[d[i].order] = i;
    dg_printf(&b, "\"%.100s\" is not one of this instance's destinations (known:", name);
    for (size_t k = 0; at && k < n; k++)
        dg_printf(&b, "%s \"%s\"", k ? "," : "", d[at[k]].name);
    dg_puts(&b, ")");
    if (size) {
        snprintf(why, size, "%s", b.oom || !b.data || !at ? "no destination by that name" : b.data);
        dg_header_safe(why); /* the name as configured may hold control characters */
    }
    free(at);
    free(b.data);
    return -EINVAL;
}

/* The host of an http(s) URL, or NULL. */
bool hp_loopback(const char *host)
{
    return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
           !strcmp(host, "[::1]");
}

static char *url_host(const char *url, bool *ret_plain)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL, *copy = NULL;
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        (!strcmp(scheme, "https") || !strcmp(scheme, "http"))) {
        copy = strdup(host);
        *ret_plain = !strcmp(scheme, "http");
    }
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return copy;
}

/* Logs that destination name's secret key (at line) could not be read
 * from spec (r: why): a relative path is named as written and as the
 * file read, beside the configuration. */
static void secret_unread(const struct tkl_host *h, int line, const char *name, const char *key,
                          const char *spec, int r)
{
    char where[1024];
    if (spec[0] != '/' && strncmp(spec, "credential:", 11) != 0)
        snprintf(where, sizeof(where), "%s (%s/%s)", spec, h->config_dir ? h->config_dir : ".",
                 spec);
    else
        snprintf(where, sizeof(where), "%s", spec);
    h->log(h, TKL_LOG_ERR, "line %d: destination \"%s\": cannot read %s %s: %s", line, name, key,
           where, tkl_secret_strerror(r));
}

static int load_one(const struct tkl_host *h, const config_setting_t *g, bool allow_hmac,
                    struct hp_dest *d)
{
    static const char *const keys_hmac[] = {"name", "url_file", "hmac_secret_file", NULL};
    static const char *const keys[] = {"name", "url_file", NULL};
    const char *name = NULL, *url_file = NULL, *secret_file = NULL;
    int line = config_setting_source_line(g), r;
    config_setting_t *bad = tkl_config_unknown_member(g, allow_hmac ? keys_hmac : keys);
    if (bad) {
        h->log(h, TKL_LOG_ERR,
               "line %d: unknown destination setting \"%s\" (known: name, "
               "url_file%s)",
               config_setting_source_line(bad), config_setting_name(bad),
               allow_hmac ? ", hmac_secret_file" : "");
        return -EINVAL;
    }
    if (!config_setting_lookup_string(g, "name", &name) || !*name ||
        !config_setting_lookup_string(g, "url_file", &url_file)) {
        h->log(h, TKL_LOG_ERR,
               "line %d: a destination needs name and url_file (a file or "
               "\"credential:NAME\" holding the URL)",
               line);
        return -EINVAL;
    }
    if (allow_hmac)
        config_setting_lookup_string(g, "hmac_secret_file", &secret_file);
    if (!(d->name = strdup(name)))
        return -ENOMEM;
    if ((r = h->read_secret(h, url_file, &d->url)) < 0) {
        secret_unread(h, line, name, "url_file", url_file, r);
        return r == -ENOMEM ? r : -EINVAL;
    }
    bool plain = false;
    if (!(d->host = url_host(d->url, &plain))) {
        h->log(h, TKL_LOG_ERR,
               "line %d: destination \"%s\": %s does not hold an http:// or "
               "https:// URL",
               line, name, url_file);
        return -EINVAL;
    }
    if (plain && !hp_loopback(d->host)) { /* the host is not secret; the URL is */
        h->log(h, TKL_LOG_ERR,
               "line %d: destination \"%s\": %s holds an http:// URL to %s: its secret address "
               "and the officers' data would cross the network unencrypted; use https:// "
               "(http:// only to this machine)",
               line, name, url_file, d->host);
        return -EINVAL;
    }
    if (secret_file && (r = h->read_secret(h, secret_file, &d->secret)) < 0) {
        secret_unread(h, line, name, "hmac_secret_file", secret_file, r);
        return r == -ENOMEM ? r : -EINVAL;
    }
    return 0;
}

int hp_dests_load(const struct tkl_host *h, const config_setting_t *list, bool allow_hmac,
                  struct hp_dest **ret, size_t *ret_n)
{
    if (!list || !config_setting_is_list(list) || config_setting_length(list) == 0) {
        h->log(h, TKL_LOG_ERR,
               "settings need destinations = ( { name = \"...\"; url_file = "
               "\"...\"; }, ... )");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    struct hp_dest *d = calloc(n, sizeof(*d));
    int r = 0;
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        int rr = load_one(h, g, allow_hmac, &d[i]);
        d[i].order = i;
        d[i].line = config_setting_source_line(g);
        if (rr < 0 && r != -ENOMEM)
            r = rr;
    }
    if (r == 0) {
        /* sorted by name, stable for equal names: a repeat follows the first */
        qsort(d, n, sizeof(*d), by_name_then_order);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(d[i - 1].name, d[i].name)) {
                h->log(h, TKL_LOG_ERR, "line %d: destination \"%s\" is named twice", d[i].line,
                       d[i].name);
                r = -EINVAL;
            }
    }
    if (r < 0) {
        hp_dests_free(d, n);
        return r;
    }
    *ret = d;
    *ret_n = n;
    return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct hp_post *p = userp;
    size_t n = size * nmemb, room = BODY_SCAN - p->answer_len;
    size_t take = n < room ? n : room;
    memcpy(p->answer + p->answer_len, data, take);
    p->answer_len += take;
    p->answer[p->answer_len] = '\0';
    return n;
}

void hp_pool_drain(struct hp_pool *pool)
{
    while (pool->n)
        curl_easy_cleanup(pool->idle[--pool->n]);
}

/* A handle for a post that sets a CA file or not (with_ca): an idle one
 * of pool, reset when it carries a CA file the post would not set, or a
 * new one; NULL when none can be made. */
static CURL *pool_take(struct hp_pool *pool, bool with_ca)
{
    if (!pool || !pool->n)
        return curl_easy_init();
    CURL *e = pool->idle[--pool->n];
    if (pool->with_ca[pool->n] && !with_ca)
        curl_easy_reset(e);
    return e;
}

/* Gives e, whose transfer is over, back to pool, or frees it when pool is
 * NULL or full. */
static void pool_give(struct hp_pool *pool, CURL *e, bool with_ca)
{
    /* the post's error buffer goes with it */
    (void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    if (pool && pool->n < HP_POOL_MAX) {
        pool->with_ca[pool->n] = with_ca;
        pool->idle[pool->n++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

static void post_free(struct hp_post *p)
{
    if (p->easy)
        curl_easy_cleanup(p->easy);
    free(p->dest_name);
    free(p->dest_host);
    curl_slist_free_all(p->headers);
    dg_secret_free(p->body); /* it may hold the recipient's links */
    dg_secrets_free(p->keep_out);
    explicit_bzero(p->answer, p->answer_len + 1); /* nothing past it was written */
    free(p);
}

/* Copies the NULL-terminated list v into *ret (NULL for NULL). Returns 0 or
 * -ENOMEM. */
static int copy_keep_out(char *const *v, char ***ret)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    if (!n)
        return 0;
    char **c = calloc(n + 1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i]))) {
            dg_secrets_free(c);
            return -ENOMEM;
        }
    *ret = c;
    return 0;
}

static bool transient_curl(CURLcode c)
{
    switch (c) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return false;
    default:
        /* connection, DNS, TLS and timeouts can all heal, and so can a
         * lack of memory: it is the daemon's, not the notice's */
        return true;
    }
}

/* The value of hex digit c, or -1. */
static int hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The character an HTML entity at s stands for (*ret_len its length), or
 * -1: the named ones a URL's text can be escaped with, and numeric ones
 * below 128. */
static int entity(const char *s, size_t *ret_len)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (!strncmp(s, named[i].name, strlen(named[i].name))) {
            *ret_len = strlen(named[i].name);
            return named[i].c;
        }
    if (strncmp(s, "&#", 2) != 0)
        return -1;
    bool hex = s[2] == 'x' || s[2] == 'X';
    size_t i = hex ? 3 : 2;
    int v = 0, d;
    for (;
         i < 8 && (d = hex ? hex_value(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1)) >= 0;
         i++)
        v = v * (hex ? 16 : 10) + d;
    if (s[i] != ';' || i == (hex ? 3u : 2u) || v <= 0 || v >= 128)
        return -1;
    *ret_len = i + 1;
    return v;
}

/*
 * Writes s in the form its echoes are compared in: ASCII lower-cased, %XX
 * decoded (either case), "\/" as "/", the HTML entities of entity(), and
 * '+' as a space when plus_space. out holds at least strlen(s) + 1 bytes.
 */
static void normalise(const char *s, bool plus_space, char *out)
{
    size_t o = 0, len;
    int c;
    while (*s) {
        if (s[0] == '%' && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0) {
            c = hex_value(s[1]) * 16 + hex_value(s[2]);
            s += 3;
        } else if (s[0] == '\\' && s[1] == '/') {
            c = '/';
            s += 2;
        } else if (s[0] == '&' && (c = entity(s, &len)) >= 0) {
            s += len;
        } else {
            c = *s == '+' && plus_space ? ' ' : (unsigned char)*s;
            s++;
        }
        if (c == 0)
            c = ' '; /* "%00" must not end the text */
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[o] = '\0';
}

/* Whether a piece of a URL can be a secret: 8 bytes or more, or 4 or more
 * with a digit ("invoke" and "api" are words; "T0001" and "a1b2c3d4e5"
 * are not). */
static bool secret_like(const char *p, size_t n)
{
    if (n >= 8)
        return true;
    for (size_t i = 0; n >= 4 && i < n; i++)
        if (p[i] >= '0' && p[i] <= '9')
            return true;
    return false;
}

/* Whether answer (normalised) holds a piece of part (normalised) that can
 * be a secret: part cut at the bytes of cuts; of a query, the value of
 * each name=value. */
static bool holds_piece(const char *answer, const char *part, const char *cuts, bool query)
{
    for (const char *p = part; *p;) {
        size_t w = strcspn(p, cuts);
        const char *v = p;
        size_t n = w;
        if (query) { /* name=value: the value */
            const char *eq = memchr(p, '=', w);
            v = eq ? eq + 1 : p;
            n = w - (size_t)(v - p);
        }
        if (secret_like(v, n) && memmem(answer, strlen(answer), v, n))
            return true;
        p += w;
        p += *p != '\0';
    }
    return false;
}

/*
 * Whether the peer's answer repeats any part of url that can be its
 * secret: a path segment, a query value or the fragment that is 8 bytes or
 * more, or 4 or more with a digit, compared in the normalised form,
 * wherever it occurs in the whole of what was kept of the answer. A URL with a user or password
 * counts as repeated (the Authorization header can be echoed in base64),
 * and so does one that cannot be read. Returns true when the answer must
 * not be kept.
 */
bool hp_echoes_url(const char *answer, const char *url)
{
    static const CURLUPart parts[] = {CURLUPART_PATH, CURLUPART_QUERY, CURLUPART_FRAGMENT};
    CURLU *u = url ? curl_url() : NULL;
    size_t alen = strlen(answer) + 1;
    char *user = NULL, *password = NULL, *norm = malloc(2 * alen);
    bool echoed = !u || !norm || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
                  curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                  curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
    /* '+' is a space in a query and a plus anywhere else: both readings of
     * the answer against both of each part */
    if (!echoed) {
        normalise(answer, false, norm);
        normalise(answer, true, norm + alen);
    }
    for (size_t i = 0; !echoed && i < sizeof(parts) / sizeof(parts[0]); i++) {
        char *part = NULL, *np;
        if (curl_url_get(u, parts[i], &part, 0) != CURLUE_OK || !part)
            continue;
        size_t plen = strlen(part) + 1;
        if (!(np = malloc(2 * plen)))
            echoed = true;
        else {
            normalise(part, false, np);
            normalise(part, true, np + plen);
            for (size_t k = 0; k < 4 && !echoed; k++)
                echoed = holds_piece(norm + (k & 1) * alen, np + (k >> 1) * plen,
                                     parts[i] == CURLUPART_PATH ? "/" : "&",
                                     parts[i] == CURLUPART_QUERY);
        }
        free(np);
        curl_free(part);
    }
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    free(norm);
    return echoed;
}

static void on_done(void *data, int code)
{
    struct hp_post *p = data;
    char reply[300];
    struct tkl_delivery res = {.size = sizeof(res), .reply = reply};
    long status = 0;
    curl_off_t retry_after = 0;
    if (code != CURLE_OK) {
        res.status =
            transient_curl((CURLcode)code) ? TKL_DELIVERY_TRANSIENT : TKL_DELIVERY_PERMANENT;
        /* libcurl's own words say why (the certificate's fault, the
         * address refused), unless they repeat the secret address */
        char *url = NULL;
        curl_easy_getinfo(p->easy, CURLINFO_EFFECTIVE_URL, &url);
        p->errbuf[sizeof(p->errbuf) - 1] = '\0';
        dg_printable(p->errbuf);
        bool own = p->errbuf[0] && !hp_echoes_url(p->errbuf, url);
        snprintf(reply, sizeof(reply), "%s: %s", p->dest_host,
                 own ? p->errbuf : curl_easy_strerror((CURLcode)code));
    } else {
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(p->easy, CURLINFO_RETRY_AFTER, &retry_after);
        char *url = NULL;
        curl_easy_getinfo(p->easy, CURLINFO_EFFECTIVE_URL, &url);
        if (p->answer_len && hp_echoes_url(p->answer, url)) {
            snprintf(reply, sizeof(reply),
                     "HTTP %ld from %s (its answer repeats the destination's secret address; "
                     "not kept)",
                     status, p->dest_host);
        } else if (p->answer_len && dg_holds_token(p->answer, p->keep_out)) {
            snprintf(reply, sizeof(reply),
                     "HTTP %ld from %s (its answer repeats a link of the notice; not kept)", status,
                     p->dest_host);
        } else {
            dg_printable(p->answer);
            snprintf(reply, sizeof(reply), "HTTP %ld from %s%s%.*s", status, p->dest_host,
                     p->answer_len ? ": " : "", BODY_KEEP, p->answer);
        }
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
        p->host->log(p->host, TKL_LOG_DEBUG, "destination %s: %s", p->dest_name, reply);
    hp_done_fn done = p->done;
    void *done_data = p->data;
    pool_give(p->pool, p->easy, p->with_ca); /* its transfer is over: the host let go of it */
    p->easy = NULL;
    post_free(p);
    done(done_data, &res);
}

int hp_post_start(const struct tkl_host *h, const struct hp_request *req, hp_done_fn done,
                  void *data, struct hp_post **ret)
{
    /* not zeroed whole: answer is BODY_SCAN bytes, kept NUL-terminated at
     * answer_len */
    struct hp_post *p = malloc(sizeof(*p));
    struct curl_slist *l;
    int r = -ENOMEM;
    if (!p)
        return -ENOMEM;
    memset(p, 0, offsetof(struct hp_post, answer));
    p->answer[0] = '\0';
    p->host = h;
    p->done = done;
    p->data = data;
    p->pool = req->pool;
    if (!(p->dest_name = strdup(req->dest->name)) || !(p->dest_host = strdup(req->dest->host)) ||
        !(p->body = strdup(req->body)) || copy_keep_out(req->keep_out, &p->keep_out) < 0 ||
        !(p->easy = pool_take(p->pool, req->ca_file != NULL)))
        goto fail;
    if (!(l = curl_slist_append(NULL, "Content-Type: application/json")))
        goto fail;
    p->headers = l;
    /* no "Expect: 100-continue" before a larger body: a small JSON body is
     * sent at once, not after an extra round trip to the server */
    if (!(l = curl_slist_append(p->headers, "Expect:")))
        goto fail;
    p->headers = l;
    for (const char *const *x = req->headers; x && *x; x++) {
        if (!(l = curl_slist_append(p->headers, *x)))
            goto fail;
        p->headers = l;
    }
    CURL *e = p->easy;
    CURLcode c = CURLE_OK;
    c |= curl_easy_setopt(e, CURLOPT_URL, req->dest->url);
    c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    c |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
    c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    c |= curl_easy_setopt(e, CURLOPT_TIMEOUT, req->timeout_s);
    c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, req->timeout_s < 10 ? req->timeout_s : 10L);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c |= curl_easy_setopt(e, CURLOPT_USERAGENT, "tickler/1");
    c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    p->errbuf[0] = '\0';
    c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
    if (req->ca_file) {
        c |= curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
        p->with_ca = true;
    }
    if (c != CURLE_OK) {
        r = -EIO; /* libcurl lacks a feature or memory; not the notice's fault */
        goto fail;
    }
    if ((r = h->transfer_start(h, e, on_done, p)) < 0)
        goto fail;
    if (ret)
        *ret = p;
    return 0;
fail:
    post_free(p);
    return r;
}

void hp_post_cancel(const struct tkl_host *h, struct hp_post *p)
{
    h->transfer_cancel(h, p->easy);
    post_free(p);
}

int hp_ca_file(const struct tkl_host *h, const char *given, char **ret)
{
    *ret = NULL;
    if (!given)
        return 0;
    char *path = NULL;
    if (given[0] == '/' ? !(path = strdup(given))
                        : asprintf(&path, "%s/%s", h->config_dir ? h->config_dir : ".", given) < 0)
        return -ENOMEM;
    if (access(path, R_OK) < 0) {
        h->log(h, TKL_LOG_ERR, "ca_file %s cannot be read: %s", path, strerror(errno));
        free(path);
        return -EINVAL;
    }
    *ret = path;
    return 0;
}
