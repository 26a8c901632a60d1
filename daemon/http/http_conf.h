/*
 * The web face's slice of the configuration, http { ... }: where ticklerd
 * listens, the address people reach it at, the limits that keep one client
 * from holding the others up, and HTTPS.
 */
#ifndef TKL_HTTP_CONF_H
#define TKL_HTTP_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "../core/confread.h"

struct tkl_http_conf {
    char **listen; /* "127.0.0.1:8470", "[::1]:8470", "*:8470"; none: no web face */
    size_t n_listen;
    unsigned *listen_lines;   /* the configuration line of each */
    char *public_url;         /* ends in '/'; default "http://<first listen>/" */
    unsigned public_url_line; /* of public_url in the file; 0: the default */
    int max_connections;      /* per listening address */
    int max_per_ip;
    int max_request_bytes; /* memory for one request's headers */
    int timeout_seconds;   /* an idle or stalled connection is closed */
    char *tls_certificate; /* PEM files (path or credential:NAME), both or neither */
    char *tls_key;
    /* proxies (numeric addresses) whose X-Forwarded-For names the client,
     * for the limits per client address; none by default */
    char **trusted_proxies;
    size_t n_trusted_proxies;
    unsigned line; /* of the group, for problems found later */
};

/* The defaults of a configuration without an http group: no web face. The
 * limits: 256 connections, 64 per client address, 16 KiB, 30 seconds. */
void tkl_http_conf_init(struct tkl_http_conf *h);

/*
 * Reads the http group g (NULL: none, the defaults stay: no web face) over
 * *h; a group without listen listens on 127.0.0.1:8470. Each
 * listen entry is checked (a numeric IPv4 or bracketed IPv6 address,
 * "localhost" or "*", and a port 1-65535); public_url must be an http or
 * https URL without query or fragment. Paths are resolved relative to the
 * configuration's directory. Returns 0, -EINVAL (problems in x->diags) or
 * -ENOMEM. Whatever it returns, h holds what was read.
 */
int tkl_http_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                       struct tkl_http_conf *h);

/*
 * Splits a listen entry into host ("" for "*") and port. Returns 0 or
 * -EINVAL. host must hold 64 bytes.
 */
int tkl_http_listen_split(const char *entry, char host[64], unsigned *ret_port);

/* Whether a and b would start the same server (listen, limits, TLS,
 * trusted proxies). */
int tkl_http_conf_same_server(const struct tkl_http_conf *a, const struct tkl_http_conf *b);

/*
 * Whether url (an http or https URL) names a host only this machine
 * reaches: localhost (and names under .localhost), a loopback address, a
 * wildcard address (0.0.0.0, ::) or no host.
 */
bool tkl_http_url_local(const char *url);

/*
 * For a reload while the server started with bound keeps running: fresh
 * takes bound's listen, limits, TLS and trusted proxies (what the server
 * serves until a restart) and bound takes fresh's, for the caller to free
 * with the old configuration. A public_url fresh does not set is derived
 * again from the listen address kept. Returns 0, or -ENOMEM with both
 * untouched.
 */
int tkl_http_conf_keep_server(struct tkl_http_conf *fresh, struct tkl_http_conf *bound);

void tkl_http_conf_free(struct tkl_http_conf *h);

#endif
