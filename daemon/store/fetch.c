#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "../core/log.h"
#include "../core/secret.h"
#include "../core/text.h"
#include "remote.h"
#include "dynlib/libcurl.h"

#define CONNECT_TIMEOUT_S 20L
#define TIMEOUT_S         120L
#define MAX_REDIRECTS     5L
#define ETAG_MAX          512

/* What says a file changed: a rename over it, a write or a chmod. */
struct file_stamp {
    ino_t ino;
    struct timespec mtime, ctime;
};

/* The bearer token, read again whenever its file changes. */
struct token {
    const char *spec, *config_dir; /* borrowed from the options; spec NULL: none */
    char *value;
    struct file_stamp read, failed; /* the file as last read, and as last refused */
    bool failed_set;
};

/* One URL: its transfer, and what its last good answer said. */
struct one {
    const char *url; /* borrowed from the options */
    char *request;   /* url without its fragment: what is asked for */
    char *place;     /* what may be shown of it */
    CURL *easy;
    struct curl_slist *headers;
    struct tkl_buf body;
    long max_bytes;
    bool too_large, in_flight, reported;
    char errbuf[CURL_ERROR_SIZE];
    char *etag;    /* of the last good answer, or NULL */
    int64_t mtime; /* Last-Modified of the cached copy, 0: unknown */
    char *failure; /* what the last fetch's failure said, NULL: it was good */
    struct tkl_fetcher *f;
};

struct tkl_fetcher {
    uv_timer_t timer;
    struct tkl_transfers *transfers;
    const struct tkl_store_opts *opts;
    const struct tkl_team_dir *teams;
    struct tkl_fetcher_host host;
    struct token token;
    struct one *v;
    size_t n;
};

static bool same_stamp(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Reads the token again when its file changed since it was last read (its
 * inode, mtime or ctime: a credential once). A token read before stays
 * when the new one cannot be read: said once per state of the file, and
 * tried again at the next fetch, so that a fixed permission is taken up.
 * Returns 0, or a negative errno while no token was ever read. */
static int token_refresh(struct token *t)
{
    struct stat st;
    struct file_stamp now = {0};
    int r = 0;
    if (!t->spec)
        return 0;
    if (strncmp(t->spec, "credential:", 11) != 0) {
        char *path = NULL;
        if (t->spec[0] != '/' && asprintf(&path, "%s/%s", t->config_dir, t->spec) < 0)
            return -ENOMEM;
        if (stat(path ? path : t->spec, &st) < 0)
            r = -errno;
        else
            now = (struct file_stamp){st.st_ino, st.st_mtim, st.st_ctim};
        free(path);
        if (r == 0 && t->value && same_stamp(&now, &t->read))
            return 0;
    } else if (t->value) {
        return 0; /* credentials do not change while the service runs */
    }
    char *v = NULL;
    if (r == 0)
        r = tkl_secret_read(t->config_dir, t->spec, &v);
    if (r < 0) {
        if (t->value && (!t->failed_set || !same_stamp(&now, &t->failed)))
            log_error("cannot read store.fetch_token_file %s again: %s; the token read before "
                      "is used until it can be",
                      t->spec, tkl_secret_strerror(r));
        t->failed = now;
        t->failed_set = true;
        return t->value ? 0 : r;
    }
    tkl_secret_free(t->value);
    t->value = v;
    t->read = now;
    t->failed_set = false;
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    struct one *o = data;
    size_t n = size * nmemb;
    if (o->body.len + n > (size_t)o->max_bytes) {
        o->too_large = true;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    return tkl_buf_append(&o->body, ptr, n) == 0 ? n : 0;
}

/* Makes o's easy handle ready for one conditional GET. Returns 0,
 * -ENOMEM or -EINVAL (curl refused an option). */
static int setup(struct one *o, const struct tkl_fetch_opts *fo, const char *token)
{
    if (!o->easy && !(o->easy = sym_curl_easy_init()))
        return -ENOMEM;
    CURL *e = o->easy;
    sym_curl_easy_reset(e);
    sym_curl_slist_free_all(o->headers);
    o->headers = NULL;
    tkl_buf_reset(&o->body);
    o->too_large = false;
    o->errbuf[0] = '\0';
    o->max_bytes = fo->max_bytes > 0 ? fo->max_bytes : TKL_FETCH_MAX_BYTES_DEFAULT;
    if (o->etag) {
        char *h = NULL;
        struct curl_slist *l;
        if (asprintf(&h, "If-None-Match: %s", o->etag) < 0)
            return -ENOMEM;
        l = sym_curl_slist_append(NULL, h);
        free(h);
        if (!(o->headers = l))
            return -ENOMEM;
    }
    CURLcode c = sym_curl_easy_setopt(e, CURLOPT_URL, o->request);
    c |= sym_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    c |= sym_curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    c |= sym_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    c |= sym_curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    c |= sym_curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    c |= sym_curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (fo->ca_file)
        c |= sym_curl_easy_setopt(e, CURLOPT_CAINFO, fo->ca_file);
    if (token) {
        c |= sym_curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        c |= sym_curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, token);
    }
    if (o->mtime > 0) {
        c |= sym_curl_easy_setopt(e, CURLOPT_TIMECONDITION, (long)CURL_TIMECOND_IFMODSINCE);
        c |= sym_curl_easy_setopt(e, CURLOPT_TIMEVALUE_LARGE, (curl_off_t)o->mtime);
    }
    c |= sym_curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->headers);
    c |= sym_curl_easy_setopt(e, CURLOPT_FILETIME, 1L);
    c |= sym_curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    c |= sym_curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    c |= sym_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    c |= sym_curl_easy_setopt(e, CURLOPT_WRITEDATA, o);
    c |= sym_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    c |= sym_curl_easy_setopt(e, CURLOPT_TIMEOUT, TIMEOUT_S);
    c |= sym_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c |= sym_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, o->errbuf);
    c |= sym_curl_easy_setopt(e, CURLOPT_USERAGENT, "tickler");
    return c == CURLE_OK ? 0 : -EINVAL;
}

/* Why transfer code failed, in res->why. Only curl's own words for the
 * code, and the error buffer for TLS (it names the certificate problem,
 * never the URL): text that stays the same from one poll to the next. */
static void transfer_failure(const struct one *o, CURLcode code, struct tkl_fetch_result *res)
{
    char *w = res->why;
    size_t n = sizeof(res->why);
    res->outcome = TKL_FETCH_FAILED;
    if (o->too_large || code == CURLE_FILESIZE_EXCEEDED)
        (void)snprintf(w, n, "larger than store.fetch_max_kib (%ld KiB)", o->max_bytes >> 10);
    else if (code == CURLE_COULDNT_RESOLVE_HOST)
        (void)snprintf(w, n, "DNS: cannot resolve the host");
    else if (code == CURLE_UNSUPPORTED_PROTOCOL)
        (void)snprintf(w, n, "redirected to a URL that is not https (refused)");
    else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR ||
             code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CERTPROBLEM)
        (void)snprintf(w, n, "TLS: %.200s",
                       o->errbuf[0] ? o->errbuf : sym_curl_easy_strerror(code));
    else
        (void)snprintf(w, n, "%s", sym_curl_easy_strerror(code));
}

/* A header of the last answer, or NULL. */
static const char *header(CURL *e, const char *name)
{
    struct curl_header *h = NULL;
    return sym_curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK ? h->value : NULL;
}

/* Keeps the validators of a good answer for the next fetch. */
static void keep_validators(struct one *o)
{
    const char *etag = header(o->easy, "ETag");
    curl_off_t t = -1;
    if (etag && strlen(etag) <= ETAG_MAX && !strpbrk(etag, "\r\n")) {
        char *copy = strdup(etag);
        if (copy) { /* else the next fetch is a full one */
            free(o->etag);
            o->etag = copy;
        }
    }
    if (sym_curl_easy_getinfo(o->easy, CURLINFO_FILETIME_T, &t) == CURLE_OK && t > 0)
        o->mtime = (int64_t)t;
}

/* A 200's body: unchanged when the cached copy in dir holds it, else read
 * as a plan and, when it is one, saved in dir. Fills res. */
static void take_body(struct one *o, const char *dir, const struct tkl_store_opts *opts,
                      const struct tkl_team_dir *teams, struct tkl_fetch_result *res)
{
    const char *const *exts = tkl_store_endings();
    const char *ct = NULL, *cd = header(o->easy, "Content-Disposition");
    int err = 0;
    (void)sym_curl_easy_getinfo(o->easy, CURLINFO_CONTENT_TYPE, &ct);
    const char *ext = tkl_remote_format(o->url, cd, ct);
    res->outcome = TKL_FETCH_FAILED;
    if (!ext) {
        (void)snprintf(res->why, sizeof(res->why),
                       "cannot tell the plan's format: neither the URL's path, the "
                       "Content-Disposition nor the Content-Type names .csv, .xlsx, .ods or .docx");
        return;
    }
    bool known = false;
    for (size_t i = 0; exts[i]; i++)
        known = known || strcmp(exts[i], ext) == 0;
    if (!known) {
        (void)snprintf(res->why, sizeof(res->why), "this build reads no %s plans", ext);
        return;
    }
    char *stem = tkl_remote_cache_stem(dir, o->url),
         *cached = tkl_remote_cached(dir, o->url, exts, &err);
    char *file = NULL;
    if (!stem || err || asprintf(&file, "%s%s", stem, ext) < 0) {
        (void)snprintf(res->why, sizeof(res->why), "out of memory");
        file = NULL;
    } else if (cached && strcmp(cached, file) == 0 &&
               tkl_remote_same(cached, o->body.data ? o->body.data : "", o->body.len)) {
        res->outcome = TKL_FETCH_UNCHANGED;
        keep_validators(o);
    } else {
        struct tkl_diags d = {0};
        int r = tkl_store_check_plan(opts, teams, file, o->place, o->body.data ? o->body.data : "",
                                     o->body.len, &d);
        char first[200] = "";
        for (size_t i = 0; r < 0 && i < d.n && !first[0]; i++)
            if (d.items[i].severity == TKL_SEV_ERROR)
                tkl_diag_format(&d.items[i], first, sizeof(first));
        tkl_diags_free(&d);
        curl_off_t t = -1;
        (void)sym_curl_easy_getinfo(o->easy, CURLINFO_FILETIME_T, &t);
        if (r < 0)
            (void)snprintf(res->why, sizeof(res->why), "not a plan (%s)",
                           first[0] ? first : strerror(-r));
        else if ((r = tkl_remote_save(stem, ext, exts, o->body.data ? o->body.data : "",
                                      o->body.len, t > 0 ? (int64_t)t : 0)) < 0)
            (void)snprintf(res->why, sizeof(res->why), "cannot save it in %s: %s", dir,
                           strerror(-r));
        else {
            res->outcome = TKL_FETCH_CHANGED;
            keep_validators(o);
        }
    }
    free(stem);
    free(cached);
    free(file);
}

/* What the transfer of o that ended with code brought, in res. */
static void finish(struct one *o, CURLcode code, const char *dir, const struct tkl_store_opts *opts,
                   const struct tkl_team_dir *teams, struct tkl_fetch_result *res)
{
    long status = 0, unmet = 0;
    res->why[0] = '\0';
    if (code != CURLE_OK) {
        transfer_failure(o, code, res);
        return;
    }
    (void)sym_curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)sym_curl_easy_getinfo(o->easy, CURLINFO_CONDITION_UNMET, &unmet);
    if (status == 304 || unmet) {
        res->outcome = TKL_FETCH_UNCHANGED;
        keep_validators(o);
    } else if (status == 200) {
        take_body(o, dir, opts, teams, res);
    } else {
        res->outcome = TKL_FETCH_FAILED;
        (void)snprintf(res->why, sizeof(res->why), "HTTP %ld", status);
    }
}

static void one_free(struct one *o)
{
    if (o->easy)
        sym_curl_easy_cleanup(o->easy);
    if (o->headers)
        sym_curl_slist_free_all(o->headers);
    tkl_buf_free(&o->body);
    free(o->place);
    free(o->request);
    free(o->etag);
    free(o->failure);
}

/* o for url, with the time of its cached copy in dir (if any). Returns 0
 * or -ENOMEM. */
static int one_init(struct one *o, const char *url, const char *dir)
{
    struct stat st;
    int err = 0;
    *o = (struct one){.url = url};
    if (!(o->place = tkl_remote_place(url)) || !(o->request = strndup(url, strcspn(url, "#"))))
        return -ENOMEM;
    char *cached = tkl_remote_cached(dir, url, tkl_store_endings(), &err);
    if (cached && stat(cached, &st) == 0)
        o->mtime = (int64_t)st.st_mtim.tv_sec;
    free(cached);
    return err;
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail with this clock */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets up o with the token and runs it to its end, blocking, within
 * left_ms when it is not 0. */
static void fetch_blocking(struct one *o, struct token *tok, const char *dir,
                           const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                           long left_ms, struct tkl_fetch_result *res)
{
    int r = token_refresh(tok);
    if (r < 0) {
        res->outcome = TKL_FETCH_FAILED;
        (void)snprintf(res->why, sizeof(res->why), "cannot read store.fetch_token_file: %s",
                       tkl_secret_strerror(r));
        return;
    }
    if (tkl_libcurl_load(res->why, sizeof(res->why)) < 0) {
        res->outcome = TKL_FETCH_FAILED;
        return;
    }
    if ((r = setup(o, &opts->fetch, tok->value)) < 0 ||
        (left_ms > 0 && (sym_curl_easy_setopt(o->easy, CURLOPT_TIMEOUT_MS, left_ms) != CURLE_OK ||
                         sym_curl_easy_setopt(o->easy, CURLOPT_CONNECTTIMEOUT_MS,
                                              left_ms < CONNECT_TIMEOUT_S * 1000
                                                  ? left_ms
                                                  : CONNECT_TIMEOUT_S * 1000) != CURLE_OK))) {
        res->outcome = TKL_FETCH_FAILED;
        (void)snprintf(res->why, sizeof(res->why), "cannot set up the transfer: %s",
                       strerror(r < 0 ? -r : EINVAL));
        return;
    }
    CURLcode code = sym_curl_easy_perform(o->easy);
    if (left_ms > 0 && code == CURLE_OPERATION_TIMEDOUT) {
        res->outcome = TKL_FETCH_FAILED;
        (void)snprintf(res->why, sizeof(res->why),
                       "no answer within the %ld s the daemon may wait for its plans",
                       TKL_FETCH_BLOCKING_BUDGET_MS / 1000);
        return;
    }
    finish(o, code, dir, opts, teams, res);
}

/* Says in diags that url (shown as place) could not be fetched (why), and
 * whether the copy in fallback_dir is read instead. */
static void fetch_failed(const char *url, const char *place, const char *why,
                         const char *fallback_dir, struct tkl_diags *diags)
{
    int err = 0;
    struct stat st;
    char when[32] = "";
    char *copy = tkl_remote_cached(fallback_dir, url, tkl_store_endings(), &err);
    if (copy && stat(copy, &st) == 0) {
        struct tm tm;
        time_t t = st.st_mtim.tv_sec;
        if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm))
            (void)snprintf(when, sizeof(when), "an unknown time");
    }
    free(copy);
    if (when[0])
        tkl_diag_add(diags, TKL_SEV_WARNING, place, 0, NULL,
                     "cannot fetch: %s; reading the daemon's copy instead (last changed %s)", why,
                     when);
    else
        tkl_diag_add(diags, TKL_SEV_WARNING, place, 0, NULL, "cannot fetch: %s", why);
}

int tkl_fetch_now(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                  const char *dir, bool only_missing, const char *fallback_dir, long budget_ms,
                  struct tkl_diags *diags)
{
    struct token tok = {.spec = opts->fetch.token_file, .config_dir = opts->fetch.config_dir};
    int r = 0;
    int64_t end = budget_ms > 0 ? now_ms() + budget_ms : 0;
    for (size_t i = 0; i < opts->n_paths && r == 0; i++) {
        const char *url = opts->paths[i];
        struct one o;
        struct tkl_fetch_result res;
        int err = 0;
        if (!tkl_remote_is_url(url))
            continue;
        char *cached = tkl_remote_cached(dir, url, tkl_store_endings(), &err);
        bool have = cached != NULL;
        free(cached);
        if (err || (r = one_init(&o, url, dir)) < 0) {
            if (!err)
                one_free(&o);
            r = -ENOMEM;
            break;
        }
        if (tkl_remote_check_url(url, res.why, sizeof(res.why)) < 0) {
            tkl_diag_add(diags, TKL_SEV_WARNING, o.place, 0, NULL, "cannot fetch: %s", res.why);
        } else if (!(only_missing && have)) {
            int64_t left = end ? end - now_ms() : 0;
            o.mtime = 0; /* a copy, not a check: the whole plan */
            if (end && left <= 0) {
                res.outcome = TKL_FETCH_FAILED;
                (void)snprintf(res.why, sizeof(res.why),
                               "not tried: the %ld s the daemon may wait for its plans ran out",
                               TKL_FETCH_BLOCKING_BUDGET_MS / 1000);
            } else {
                fetch_blocking(&o, &tok, dir, opts, teams, (long)left, &res);
            }
            if (res.outcome == TKL_FETCH_FAILED)
                fetch_failed(url, o.place, res.why, fallback_dir, diags);
        }
        one_free(&o);
    }
    tkl_secret_free(tok.value);
    return r;
}

size_t tkl_fetch_count(const struct tkl_store_opts *opts)
{
    size_t n = 0;
    for (size_t i = 0; i < opts->n_paths; i++)
        n += tkl_remote_is_url(opts->paths[i]);
    return n;
}

int tkl_fetch_prepare(struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                      const char *state_dir, const char *fresh_dir, bool fetch_missing,
                      struct tkl_diags *diags)
{
    if (!tkl_fetch_count(opts))
        return 0;
    if (tkl_store_opts_cache_in(opts, state_dir) < 0)
        return -ENOMEM;
    if (!fresh_dir)
        return fetch_missing ? tkl_fetch_now(opts, teams, opts->cache_dir, true, NULL,
                                             TKL_FETCH_BLOCKING_BUDGET_MS, diags)
                             : 0;
    char *copy = strdup(fresh_dir);
    if (!copy)
        return -ENOMEM;
    free(opts->fresh_dir);
    opts->fresh_dir = copy;
    return tkl_fetch_now(opts, teams, fresh_dir, false, opts->cache_dir, 0, diags);
}

/* ---- on the loop ----------------------------------------------------- */

/* Tells the host what o's fetch brought, and keeps its state. */
static void report(struct one *o, const struct tkl_fetch_result *res)
{
    struct tkl_fetcher *f = o->f;
    bool failed = res->outcome == TKL_FETCH_FAILED;
    bool state_changed = !o->reported || (failed ? !o->failure || strcmp(o->failure, res->why) != 0
                                                 : o->failure != NULL);
    char *was = o->failure;
    o->failure = failed ? strdup(res->why) : NULL;
    o->reported = true;
    f->host.fetched(f->host.data, o->place, res, state_changed, state_changed ? was : NULL);
    free(was);
}

static void on_done(void *data, int curl_code)
{
    struct one *o = data;
    struct tkl_fetcher *f = o->f;
    struct tkl_fetch_result res;
    o->in_flight = false;
    finish(o, (CURLcode)curl_code, f->opts->cache_dir, f->opts, f->teams, &res);
    tkl_buf_free(&o->body);
    report(o, &res);
}

static void on_poll(uv_timer_t *t)
{
    struct tkl_fetcher *f = t->data;
    int tr = token_refresh(&f->token);
    for (size_t i = 0; i < f->n; i++) {
        struct one *o = &f->v[i];
        struct tkl_fetch_result res = {.outcome = TKL_FETCH_FAILED};
        int r = tr;
        if (o->in_flight)
            continue; /* a slow server: one transfer at a time */
        if (r < 0)
            (void)snprintf(res.why, sizeof(res.why), "cannot read store.fetch_token_file: %s",
                           tkl_secret_strerror(r));
        else if ((r = setup(o, &f->opts->fetch, f->token.value)) < 0 ||
                 (r = tkl_transfers_add(f->transfers, o->easy, on_done, o)) < 0)
            (void)snprintf(res.why, sizeof(res.why), "cannot start the transfer: %s", strerror(-r));
        if (r < 0)
            report(o, &res);
        else
            o->in_flight = true;
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct tkl_fetcher *f = h->data;
    for (size_t i = 0; i < f->n; i++)
        one_free(&f->v[i]);
    free(f->v);
    tkl_secret_free(f->token.value);
    free(f);
}

int tkl_fetcher_start(uv_loop_t *loop, struct tkl_transfers *transfers,
                      const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                      const struct tkl_fetcher_host *host, struct tkl_fetcher **ret)
{
    size_t n = tkl_fetch_count(opts);
    *ret = NULL;
    if (!n)
        return 0;
    if (!opts->cache_dir)
        return -EINVAL;
    struct tkl_fetcher *f = calloc(1, sizeof(*f));
    if (!f || !(f->v = calloc(n, sizeof(*f->v)))) {
        free(f);
        return -ENOMEM;
    }
    *f = (struct tkl_fetcher){
        .transfers = transfers,
        .opts = opts,
        .teams = teams,
        .host = *host,
        .v = f->v,
        .token = {.spec = opts->fetch.token_file, .config_dir = opts->fetch.config_dir}};
    int r = 0;
    for (size_t i = 0; i < opts->n_paths && r == 0; i++)
        if (tkl_remote_is_url(opts->paths[i])) {
            r = one_init(&f->v[f->n], opts->paths[i], opts->cache_dir);
            f->v[f->n++].f = f;
        }
    if (r == 0)
        r = uv_timer_init(loop, &f->timer);
    if (r < 0) {
        for (size_t i = 0; i < f->n; i++)
            one_free(&f->v[i]);
        free(f->v);
        free(f);
        return r;
    }
    f->timer.data = f;
    int every = opts->fetch.interval_s > 0 ? opts->fetch.interval_s : TKL_FETCH_INTERVAL_DEFAULT;
    (void)uv_timer_start(&f->timer, on_poll, 0, (uint64_t)every * 1000); /* cannot fail */
    *ret = f;
    return 0;
}

/* Copies what old knew into o (out of memory: o starts afresh). */
static void carry_one(const struct one *old, struct one *o)
{
    char *etag = old->etag ? strdup(old->etag) : NULL;
    char *failure = old->failure ? strdup(old->failure) : NULL;
    if ((old->etag && !etag) || (old->failure && !failure)) {
        free(etag);
        free(failure);
        return;
    }
    free(o->etag);
    free(o->failure);
    o->etag = etag;
    o->failure = failure;
    o->reported = old->reported;
    if (old->mtime > o->mtime)
        o->mtime = old->mtime;
}

void tkl_fetcher_carry(const struct tkl_fetcher *from, struct tkl_fetcher *to)
{
    for (size_t i = 0; from && to && i < to->n; i++)
        for (size_t k = 0; k < from->n; k++)
            if (strcmp(from->v[k].url, to->v[i].url) == 0) {
                carry_one(&from->v[k], &to->v[i]);
                break;
            }
}

void tkl_fetcher_close(struct tkl_fetcher *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].in_flight) {
            tkl_transfers_cancel(f->transfers, f->v[i].easy);
            f->v[i].in_flight = false;
        }
    (void)uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
