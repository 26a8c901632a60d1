#include "http_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void tkl_http_conf_init(struct tkl_http_conf *h)
{
    *h = (struct tkl_http_conf){.max_connections = 256,
                                .max_per_ip = 64,
                                .max_request_bytes = 16384,
                                .timeout_seconds = 30};
}

/* listen's default, for a group that does not name it. */
static int default_listen(struct tkl_http_conf *h, unsigned line)
{
    h->listen = calloc(2, sizeof(*h->listen));
    h->listen_lines = calloc(1, sizeof(*h->listen_lines));
    if (!h->listen || !h->listen_lines || !(h->listen[0] = strdup("127.0.0.1:8470"))) {
        tkl_http_conf_free(h);
        return -ENOMEM;
    }
    h->listen_lines[0] = line;
    h->n_listen = 1;
    return 0;
}

int tkl_http_listen_split(const char *entry, char host[64], unsigned *ret_port)
{
    const char *colon = strrchr(entry, ':'), *h = entry;
    size_t hlen;
    if (!colon)
        return -EINVAL;
    hlen = (size_t)(colon - entry);
    if (entry[0] == '[') {
        if (hlen < 3 || entry[hlen - 1] != ']')
            return -EINVAL;
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= 64)
        return -EINVAL;
    char buf[64], *end;
    memcpy(buf, h, hlen);
    buf[hlen] = '\0';
    unsigned char addr[16];
    bool v6 = entry[0] == '[';
    if (!(v6 ? inet_pton(AF_INET6, buf, addr) == 1
             : (!strcmp(buf, "*") || !strcmp(buf, "localhost") ||
                inet_pton(AF_INET, buf, addr) == 1)))
        return -EINVAL;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    unsigned long port = strtoul(p, &end, 10);
    if (errno || *end || port == 0 || port > 65535)
        return -EINVAL;
    snprintf(host, 64, "%s", strcmp(buf, "*") != 0 ? buf : "");
    *ret_port = (unsigned)port;
    return 0;
}

static int read_listen(const struct tkl_confread *x, const config_setting_t *g,
                       struct tkl_http_conf *h)
{
    const config_setting_t *l = config_setting_get_member(g, "listen");
    char **v = NULL;
    size_t n = 0;
    if (!l)
        return default_listen(h, config_setting_source_line(g));
    int r = tkl_conf_get_strings(x, l, "http.listen", &v, &n);
    if (r < 0)
        return r;
    unsigned *lines = calloc(n ? n : 1, sizeof(*lines));
    if (!lines) {
        tkl_strv_free(v, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char host[64];
        unsigned port;
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        lines[i] = config_setting_source_line(e ? e : l);
        if (tkl_http_listen_split(v[i], host, &port) < 0) {
            tkl_conf_err_at(x, e ? e : l,
                            "http.listen: \"%s\" is not an address and port (\"127.0.0.1:8470\", "
                            "\"[::1]:8470\", \"*:8470\")",
                            v[i]);
            r = -EINVAL;
        }
    }
    tkl_strv_free(h->listen, h->n_listen);
    free(h->listen_lines);
    h->listen = v;
    h->n_listen = n;
    h->listen_lines = lines;
    return r;
}

/* public_url: an http(s) URL with a host, no query or fragment, kept with
 * a trailing '/'. */
static int read_public_url(const struct tkl_confread *x, const config_setting_t *g,
                           struct tkl_http_conf *h)
{
    const char *s;
    int r = tkl_conf_get_string(x, g, "public_url", &s);
    if (r <= 0)
        return r;
    const char *rest = !strncmp(s, "https://", 8)  ? s + 8
                       : !strncmp(s, "http://", 7) ? s + 7
                                                   : NULL;
    if (!rest || !*rest || *rest == '/' || strpbrk(s, "?#\"'<> \t\r\n\\")) {
        tkl_conf_err_at(x, config_setting_get_member(g, "public_url"),
                        "http.public_url: \"%s\" is not an http:// or https:// address without "
                        "query (\"https://tickler.example.gov.uk/\")",
                        s);
        return -EINVAL;
    }
    size_t n = strlen(s);
    free(h->public_url);
    if (asprintf(&h->public_url, "%s%s", s, s[n - 1] == '/' ? "" : "/") < 0) {
        h->public_url = NULL;
        return -ENOMEM;
    }
    h->public_url_line =
        (unsigned)config_setting_source_line(config_setting_get_member(g, "public_url"));
    return 0;
}

/* public_url's default for listen address l ("*" as localhost), which
 * only suits people on this machine. Returns it, or NULL on ENOMEM. */
static char *default_public_url(const char *l)
{
    char *url;
    bool any = !strncmp(l, "*:", 2);
    if (asprintf(&url, "http://%s%s/", any ? "localhost" : "", any ? l + 1 : l) < 0)
        return NULL;
    return url;
}

static int read_path(const struct tkl_confread *x, const config_setting_t *g, const char *key,
                     char **dst)
{
    const char *s;
    int r = tkl_conf_get_string(x, g, key, &s);
    if (r <= 0)
        return r;
    free(*dst);
    if (!strncmp(s, "credential:", 11))
        *dst = strdup(s);
    else
        *dst = tkl_conf_path(x, s);
    return *dst ? 0 : -ENOMEM;
}

/* trusted_proxies: numeric IPv4 or IPv6 addresses. */
static int read_proxies(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_http_conf *h)
{
    const config_setting_t *l = config_setting_get_member(g, "trusted_proxies");
    char **v = NULL;
    size_t n = 0;
    if (!l)
        return 0;
    int r = tkl_conf_get_strings(x, l, "http.trusted_proxies", &v, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        unsigned char addr[16];
        if (inet_pton(AF_INET, v[i], addr) != 1 && inet_pton(AF_INET6, v[i], addr) != 1) {
            const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
            tkl_conf_err_at(x, e ? e : l,
                            "http.trusted_proxies: \"%s\" is not a numeric address "
                            "(\"127.0.0.1\", \"::1\")",
                            v[i]);
            r = -EINVAL;
        }
    }
    tkl_strv_free(h->trusted_proxies, h->n_trusted_proxies);
    h->trusted_proxies = v;
    h->n_trusted_proxies = n;
    return r;
}

static bool merge(int *r, int rr)
{
    if (rr < 0 && *r != -ENOMEM)
        *r = rr;
    return rr == -ENOMEM;
}

int tkl_http_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                       struct tkl_http_conf *h)
{
    static const char *const keys[] = {"listen",
                                       "public_url",
                                       "max_connections",
                                       "max_connections_per_ip",
                                       "max_request_bytes",
                                       "timeout_seconds",
                                       "tls_certificate",
                                       "tls_key",
                                       "trusted_proxies",
                                       NULL};
    int r = 0;
    if (!g)
        return 0;
    h->line = config_setting_source_line(g);
    if (!tkl_conf_check_keys(x, g, "http", keys))
        r = -EINVAL;
    if (merge(&r, read_listen(x, g, h)) || merge(&r, read_public_url(x, g, h)) ||
        merge(&r, read_path(x, g, "tls_certificate", &h->tls_certificate)) ||
        merge(&r, read_path(x, g, "tls_key", &h->tls_key)) || merge(&r, read_proxies(x, g, h)))
        return -ENOMEM;
    if (!h->public_url && h->n_listen && !(h->public_url = default_public_url(h->listen[0])))
        return -ENOMEM;
    /* each key on its own, so that every bad value is reported */
    if (tkl_conf_get_int(x, g, "max_connections", 1, 10000, &h->max_connections) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "max_connections_per_ip", 1, 10000, &h->max_per_ip) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "max_request_bytes", 4096, 1 << 20, &h->max_request_bytes) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "timeout_seconds", 1, 3600, &h->timeout_seconds) < 0)
        r = -EINVAL;
    if (!h->tls_certificate != !h->tls_key) {
        tkl_conf_err_at(x, g,
                        "http: tls_certificate and tls_key go together (give both or neither)");
        r = -EINVAL;
    }
    return r;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int tkl_http_conf_same_server(const struct tkl_http_conf *a, const struct tkl_http_conf *b)
{
    if (a->n_listen != b->n_listen || a->max_connections != b->max_connections ||
        a->max_per_ip != b->max_per_ip || a->max_request_bytes != b->max_request_bytes ||
        a->timeout_seconds != b->timeout_seconds ||
        !same_str(a->tls_certificate, b->tls_certificate) || !same_str(a->tls_key, b->tls_key))
        return 0;
    for (size_t i = 0; i < a->n_listen; i++)
        if (strcmp(a->listen[i], b->listen[i]) != 0)
            return 0;
    if (a->n_trusted_proxies != b->n_trusted_proxies)
        return 0;
    for (size_t i = 0; i < a->n_trusted_proxies; i++)
        if (strcmp(a->trusted_proxies[i], b->trusted_proxies[i]) != 0)
            return 0;
    return 1;
}

bool tkl_http_url_local(const char *url)
{
    const char *host = strstr(url, "://"), *end;
    char buf[256];
    unsigned char addr[16];
    if (!host)
        return true;
    host += 3;
    end = host + strcspn(host, "/");
    for (const char *at = host; at < end; at++) /* userinfo@ */
        if (*at == '@')
            host = at + 1;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close)
            return true;
        host++;
        end = close;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        if (colon)
            end = colon;
    }
    size_t n = (size_t)(end - host);
    if (n == 0 || n >= sizeof(buf))
        return n == 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (buf[n - 1] == '.') /* "localhost." */
        buf[--n] = '\0';
    if (!strcasecmp(buf, "localhost") || (n > 10 && !strcasecmp(buf + n - 10, ".localhost")))
        return true;
    if (inet_pton(AF_INET, buf, addr) == 1)
        return addr[0] == 127 || !memcmp(addr, "\0\0\0\0", 4);
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        static const unsigned char any[16], loop[16] = {[15] = 1};
        static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
        return !memcmp(addr, any, 16) || !memcmp(addr, loop, 16) ||
               (!memcmp(addr, mapped, 12) && (addr[12] == 127 || !memcmp(addr + 12, any, 4)));
    }
    return false;
}

int tkl_http_conf_keep_server(struct tkl_http_conf *fresh, struct tkl_http_conf *bound)
{
    char *url = NULL;
    if (!fresh->public_url_line && bound->n_listen && !(url = default_public_url(bound->listen[0])))
        return -ENOMEM;
    struct tkl_http_conf t = *fresh;
    fresh->listen = bound->listen;
    fresh->n_listen = bound->n_listen;
    fresh->listen_lines = bound->listen_lines;
    fresh->max_connections = bound->max_connections;
    fresh->max_per_ip = bound->max_per_ip;
    fresh->max_request_bytes = bound->max_request_bytes;
    fresh->timeout_seconds = bound->timeout_seconds;
    fresh->tls_certificate = bound->tls_certificate;
    fresh->tls_key = bound->tls_key;
    fresh->trusted_proxies = bound->trusted_proxies;
    fresh->n_trusted_proxies = bound->n_trusted_proxies;
    bound->listen = t.listen;
    bound->n_listen = t.n_listen;
    bound->listen_lines = t.listen_lines;
    bound->max_connections = t.max_connections;
    bound->max_per_ip = t.max_per_ip;
    bound->max_request_bytes = t.max_request_bytes;
    bound->timeout_seconds = t.timeout_seconds;
    bound->tls_certificate = t.tls_certificate;
    bound->tls_key = t.tls_key;
    bound->trusted_proxies = t.trusted_proxies;
    bound->n_trusted_proxies = t.n_trusted_proxies;
    if (!fresh->public_url_line) {
        free(fresh->public_url);
        fresh->public_url = url; /* NULL when nothing is bound by address */
    }
    return 0;
}

void tkl_http_conf_free(struct tkl_http_conf *h)
{
    tkl_strv_free(h->listen, h->n_listen);
    free(h->listen_lines);
    free(h->public_url);
    free(h->tls_certificate);
    free(h->tls_key);
    tkl_strv_free(h->trusted_proxies, h->n_trusted_proxies);
    h->trusted_proxies = NULL;
    h->n_trusted_proxies = 0;
    h->listen = NULL;
    h->n_listen = 0;
    h->listen_lines = NULL;
    h->public_url = NULL;
    h->public_url_line = 0;
    h->tls_certificate = h->tls_key = NULL;
}
