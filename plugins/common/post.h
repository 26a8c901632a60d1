/*
 * HTTP(S) POSTs of JSON for notifier plugins, on the host's transfers:
 * named destinations whose URLs are secrets, and the answer classified the
 * way the delivery rules say (2xx delivered; 408, 429, 5xx, connection
 * errors and timeouts transient, honouring Retry-After; other answers
 * permanent). Replies name the destination's host, never its URL.
 */
#ifndef TKL_POST_H
#define TKL_POST_H

#include <stdbool.h>
#include <stddef.h>

#include <tickler/plugin.h>

struct hp_dest {
    char *name;
    char *url;    /* secret */
    char *host;   /* for logs and replies */
    char *secret; /* HMAC key (hmac_secret_file), or NULL */
    size_t order; /* its place in the configuration, from 0 */
    int line;     /* of its group in the configuration */
};

/*
 * The CA bundle a notifier's settings name (ca_file), for CURLOPT_CAINFO:
 * *ret gets NULL when given is NULL, else given as a path, relative to the
 * configuration file's directory when not absolute (as every path of the
 * configuration is; the daemon's working directory is / under systemd),
 * checked readable now so that a check of the configuration finds a
 * wrong one. Returns 0, -ENOMEM, or -EINVAL after logging why.
 */
int hp_ca_file(const struct tkl_host *h, const char *given, char **ret);

/*
 * Reads a list of destination groups { name; url_file; [hmac_secret_file;] }
 * (hmac only when allow_hmac), sorted by name (bytewise) for
 * hp_dest_find. Problems are logged with their line. Returns 0, -EINVAL
 * or -ENOMEM; on failure nothing is kept.
 */
int hp_dests_load(const struct tkl_host *h, const config_setting_t *list, bool allow_hmac,
                  struct hp_dest **ret, size_t *ret_n);
void hp_dests_free(struct hp_dest *d, size_t n);
/* The destination of d (n of them, sorted by name as hp_dests_load leaves
 * them) named name, found by binary search, or NULL. */
const struct hp_dest *hp_dest_find(const struct hp_dest *d, size_t n, const char *name);

/*
 * check_recipient() for plugins whose recipients name destinations: 0 when
 * name is one of d, else -EINVAL with why (size bytes, NUL-terminated)
 * naming the known destinations; never a URL, which is a secret.
 */
int hp_dest_check(const struct hp_dest *d, size_t n, const char *name, char *why, size_t size);

struct hp_post;

/*
 * Idle libcurl handles of one plugin instance, kept for its next posts: a
 * post takes one instead of making its own, and gives it back when done,
 * so a burst of posts does not make and free libcurl's per-transfer state
 * (its buffers) for each. A post sets every option any post sets but the
 * CA file, so a handle is not reset (curl_easy_reset costs a post about as
 * much as its JSON) unless it carries a CA file the post would not set.
 * Zeroed to start; used from the loop's thread only. Holds at most
 * HP_POOL_MAX (the handles of a burst beyond it are freed as they finish:
 * about the memory of HP_POOL_MAX posts stays with the instance, as it
 * would in glibc's heap); hp_pool_drain frees them, before the instance is
 * destroyed.
 */
#define HP_POOL_MAX 64
struct hp_pool {
    void *idle[HP_POOL_MAX];   /* CURL * */
    bool with_ca[HP_POOL_MAX]; /* its CURLOPT_CAINFO was set */
    size_t n;
};

void hp_pool_drain(struct hp_pool *pool);

/* Runs once per started post (never from inside hp_post_start). */
typedef void (*hp_done_fn)(void *data, const struct tkl_delivery *res);

struct hp_request {
    const struct hp_dest *dest;
    const char *body;           /* copied */
    const char *const *headers; /* extra header lines, NULL-terminated, or NULL */
    long timeout_s;
    const char *ca_file; /* or NULL */
    /* Texts the peer's answer must not repeat (the tokens of the notice's
     * links, dg_link_tokens), NULL-terminated, or NULL: an answer holding
     * one is never recorded, logged or shown. Copied. */
    char *const *keep_out;
    /* Where the post takes its handle from and gives it back to, or NULL
     * (a handle of its own). Outlives the post: the instance cancels its
     * posts before it drains and frees the pool. */
    struct hp_pool *pool;
};

/* Starts a POST; the request is only read during the call (the post keeps
 * copies of what it needs). Returns 0 (done() will run) or a negative
 * errno. */
int hp_post_start(const struct tkl_host *h, const struct hp_request *req, hp_done_fn done,
                  void *data, struct hp_post **ret);

/*
 * Whether a peer's answer repeats any part of url that can be its secret
 * (a path segment, a query value or the fragment: 8 bytes or more, or 4 or
 * more with a digit), written as in the URL or percent-encoded in either case, with '+'
 * for spaces, "\/" for slashes or HTML entities. A URL with a user or
 * password, or one that cannot be read, counts as repeated. Such an
 * answer is never recorded, logged or shown.
 */
bool hp_echoes_url(const char *answer, const char *url);

/* Whether host (of a URL) is this machine: localhost, 127.x.y.z or ::1. */
bool hp_loopback(const char *host);

/* Stops a post that has not completed; its done() never runs. */
void hp_post_cancel(const struct tkl_host *h, struct hp_post *p);

#endif
