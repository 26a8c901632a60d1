/*
 * email: sends each notice as an e-mail through an SMTP server with
 * libcurl, on the host's shared multi handle (connections are reused).
 *
 * Transport security: smtp:// requires STARTTLS (CURLUSESSL_ALL: if the
 * server does not offer it, nothing is sent); smtps:// is TLS from the
 * first byte. Certificates and host names are always verified. tls =
 * "none" is accepted only for a relay on the loopback interface.
 *
 * Authentication: a user name with a password, or an OAuth 2 bearer token
 * (XOAUTH2, for Microsoft 365 and Gmail), each read from a file or a
 * systemd credential; the token file is read again whenever it changes.
 *
 * Messages: RFC 5322 with one Date, From, To, Subject and Message-ID;
 * a multipart/mixed holding one multipart/alternative of a text and an
 * HTML part, both UTF-8 and quoted-printable; subjects and names as RFC
 * 2047 encoded words. Notices about one action carry References to a
 * per-action id so that mail clients thread its ladder. Nothing from the
 * plan can add a header.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include <tickler/day.h>
#include <tickler/plugin.h>
#include <tickler/text.h>

#include "digest.h"
#include "post.h"
#include "lifecycle.h"

/* The largest template file read (a template is a page of text). */
#define TEMPLATE_MAX (1u << 20)

struct email;

struct message {
    struct email *m;
    CURL *easy;
    struct curl_slist *rcpt;
    char *msg; /* the whole message, as sent (libcurl adds the dot-stuffing) */
    size_t msg_len, msg_sent;
    char server[256]; /* m->server when it started: a reload may change it */
    char errbuf[CURL_ERROR_SIZE];
    char ok_reply[256];   /* the server's last 2xx response line */
    char fail_reply[256]; /* its last 4xx or 5xx response line */
    tkl_deliver_done_fn done;
    void *done_data;
    struct message *next;
};

/* Seconds deliveries are held back after the server refused tickler's
 * login (struct email's login_refused_at). */
#define LOGIN_HOLD_S 3600

/* What says a file changed: a rename over it, a write or a chmod. */
struct file_stamp {
    ino_t ino;
    struct timespec mtime, ctime;
};

struct email {
    const struct tkl_host *host;
    char *url;
    char *server; /* host name, for replies and logs */
    long use_ssl; /* CURLUSESSL_ALL or CURLUSESSL_NONE */
    char *ca_file;
    char *username;
    char *password;                             /* secret */
    char *token_file;                           /* XOAUTH2 bearer token file, or NULL */
    char *token;                                /* secret; re-read when the file changes */
    struct file_stamp token_read, token_failed; /* the file as last read, and as last refused */
    bool token_failed_set;
    /* when the server last refused tickler's login (0: not since the
     * settings or the token were read): deliveries are held back
     * LOGIN_HOLD_S after it, not tried, so that a wrong password does not
     * cost a failed login per notice and retry (an account lockout); a
     * reload, or a token file that changed and was read, ends the hold */
    int64_t login_refused_at;
    char *from; /* as configured: "Name <addr>" or "addr" */
    char *from_name;
    char *from_addr;
    char *reply_to;
    char *footer;
    char *plan_url;
    char *msgid_domain;
    char *tmpl[3]; /* subject, text and HTML templates (NULL: built in) */
    long timeout_s;
    struct message *messages;
    bool stopped;
};

static void em_destroy(void *state)
{
    struct email *m = state;
    if (!m)
        return;
    free(m->url);
    free(m->server);
    free(m->ca_file);
    free(m->username);
    dg_secret_free(m->password);
    free(m->token_file);
    dg_secret_free(m->token);
    free(m->from);
    free(m->from_name);
    free(m->from_addr);
    free(m->reply_to);
    free(m->footer);
    free(m->plan_url);
    free(m->msgid_domain);
    for (int i = 0; i < 3; i++)
        free(m->tmpl[i]);
    free(m);
}

static bool valid_address(const char *a)
{
    return !dg_address_problem(a);
}

/* Splits "Name <addr>" or "addr" into its parts. */
static int parse_from(struct email *m, const char *from)
{
    int r = dg_split_mailbox(from, &m->from_name, &m->from_addr);
    if (r < 0)
        return r;
    const char *at = strchr(m->from_addr, '@');
    return (m->msgid_domain = strdup(at + 1)) ? 0 : -ENOMEM;
}

static int parse_url(struct email *m, const char *url, bool tls_none)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int r = -EINVAL;
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)
        goto out;
    if (tls_none && (strcmp(scheme, "smtp") != 0 || !hp_loopback(host)))
        goto out;
    m->use_ssl = tls_none ? CURLUSESSL_NONE : CURLUSESSL_ALL;
    r = (m->server = strdup(host)) && (m->url = strdup(url)) ? 0 : -ENOMEM;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return r;
}

/* Reads the bearer token again if its file changed. Returns 0 or a
 * negative errno (the last good token stays). */
static bool same_stamp(const struct file_stamp *a, const struct file_stamp *b)
{
    return a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Reads the token file again when it changed since it was last read (its
 * inode, mtime or ctime: a rename over it, a write, a chmod), keeping the
 * token in force when the new one cannot be read: said once per state of
 * the file, and tried again at the next message, so that a fixed
 * permission is taken up. Returns 0, or a negative errno while no token
 * was ever read. */
static int refresh_token(struct email *m)
{
    struct stat st;
    struct file_stamp now = {0};
    if (!m->token_file)
        return 0;
    const char *spec = m->token_file;
    char *path = NULL;
    int r = 0;
    if (strncmp(spec, "credential:", 11) != 0) {
        if (spec[0] != '/' && asprintf(&path, "%s/%s", m->host->config_dir, spec) < 0)
            return -ENOMEM;
        if (stat(path ? path : spec, &st) < 0)
            r = -errno;
        else
            now = (struct file_stamp){st.st_ino, st.st_mtim, st.st_ctim};
        free(path);
        if (r == 0 && m->token && same_stamp(&now, &m->token_read))
            return 0;
    } else if (m->token) {
        return 0; /* credentials do not change while the service runs */
    }
    char *t = NULL;
    if (r == 0)
        r = m->host->read_secret(m->host, spec, &t);
    if (r < 0) {
        if (m->token && (!m->token_failed_set || !same_stamp(&now, &m->token_failed)))
            m->host->log(m->host, TKL_LOG_ERR,
                         "cannot read oauth2_token_file %s again: %s; the token read before is "
                         "used until it can be",
                         spec, tkl_secret_strerror(r));
        m->token_failed = now;
        m->token_failed_set = true;
        return m->token ? 0 : r;
    }
    dg_secret_free(m->token);
    m->token = t;
    m->token_read = now;
    m->token_failed_set = false;
    m->login_refused_at = 0; /* a new token may be let in: the hold ends */
    return 0;
}

/* Reads and checks a template file (relative to the config directory). */
static int load_template(struct email *m, const char *key, const char *file, char **ret)
{
    char *path = NULL, err[300];
    if (file[0] == '/' ? !(path = strdup(file))
                       : asprintf(&path, "%s/%s", m->host->config_dir, file) < 0)
        return -ENOMEM;
    FILE *f = fopen(path, "re");
    if (!f) {
        int r = -errno;
        m->host->log(m->host, TKL_LOG_ERR, "%s: cannot read %s: %s", key, path, strerror(-r));
        free(path);
        return -EINVAL;
    }
    struct dg_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= TEMPLATE_MAX)
        dg_put(&b, chunk, n);
    bool bad = ferror(f);
    (void)fclose(f);
    if (b.oom) {
        free(b.data);
        free(path);
        return -ENOMEM;
    }
    if (b.len > TEMPLATE_MAX) {
        m->host->log(m->host, TKL_LOG_ERR, "%s: %s is larger than %u KiB", key, path,
                     TEMPLATE_MAX >> 10);
        free(b.data);
        free(path);
        return -EINVAL;
    }
    if (bad || !b.data || strlen(b.data) != b.len) {
        m->host->log(m->host, TKL_LOG_ERR, "%s: %s is empty, unreadable or binary", key, path);
        free(b.data);
        free(path);
        return -EINVAL;
    }
    unsigned line = 0;
    if (dg_template_check(b.data, &line, err, sizeof(err)) < 0) {
        m->host->log(m->host, TKL_LOG_ERR, "%s:%u: %s", path, line, err);
        free(b.data);
        free(path);
        return -EINVAL;
    }
    free(path);
    *ret = b.data;
    return 0;
}

static int em_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"url",
                                       "tls",
                                       "ca_file",
                                       "username",
                                       "password_file",
                                       "oauth2_token_file",
                                       "from",
                                       "reply_to",
                                       "footer",
                                       "plan_url",
                                       "timeout_seconds",
                                       "subject_template",
                                       "text_template",
                                       "html_template",
                                       NULL};
    const char *url = NULL, *tls = "required", *ca = NULL, *user = NULL, *pw = NULL, *tok = NULL,
               *from = NULL, *reply_to = NULL, *footer = NULL, *plan_url = NULL;
    int t, r;
    if (!TKL_HAS_MEMBER(host, host->size, read_secret) || !host->read_secret ||
        !host->transfer_start)
        return -ENOTSUP;
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\"",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    if (!conf || !config_setting_lookup_string(conf, "url", &url) ||
        !config_setting_lookup_string(conf, "from", &from)) {
        host->log(host, TKL_LOG_ERR,
                  "settings need url (smtp://host:587 or smtps://host:465) "
                  "and from");
        return -EINVAL;
    }
    config_setting_lookup_string(conf, "tls", &tls);
    config_setting_lookup_string(conf, "ca_file", &ca);
    config_setting_lookup_string(conf, "username", &user);
    config_setting_lookup_string(conf, "password_file", &pw);
    config_setting_lookup_string(conf, "oauth2_token_file", &tok);
    config_setting_lookup_string(conf, "reply_to", &reply_to);
    config_setting_lookup_string(conf, "footer", &footer);
    config_setting_lookup_string(conf, "plan_url", &plan_url);
    struct email *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->host = host;
    m->timeout_s = 60;
    if (strcmp(tls, "required") != 0 && strcmp(tls, "none") != 0) {
        host->log(host, TKL_LOG_ERR,
                  "tls is \"required\" (the default) or \"none\" (only for a "
                  "relay on localhost)");
        r = -EINVAL;
        goto fail;
    }
    if ((r = parse_url(m, url, !strcmp(tls, "none"))) < 0) {
        host->log(host, TKL_LOG_ERR,
                  "url must be smtp://HOST[:PORT] (STARTTLS) or "
                  "smtps://HOST[:PORT]; tls = \"none\" only with "
                  "smtp://localhost or 127.0.0.1");
        goto fail;
    }
    if ((r = parse_from(m, from)) < 0) {
        host->log(host, TKL_LOG_ERR, "from must be \"Name <address>\" or an address (got \"%s\")",
                  from);
        goto fail;
    }
    if (reply_to && !valid_address(reply_to)) {
        host->log(host, TKL_LOG_ERR, "reply_to must be one plain address");
        r = -EINVAL;
        goto fail;
    }
    if (config_setting_lookup_int(conf, "timeout_seconds", &t)) {
        if (t < 5 || t > 600) {
            host->log(host, TKL_LOG_ERR, "timeout_seconds must be between 5 and 600");
            r = -EINVAL;
            goto fail;
        }
        m->timeout_s = t;
    }
    if (plan_url && !dg_web_url_ok(plan_url)) {
        host->log(host, TKL_LOG_ERR,
                  "plan_url must be an http:// or https:// URL with a host and no spaces");
        r = -EINVAL;
        goto fail;
    }
    if ((pw || tok) && !user) {
        host->log(host, TKL_LOG_ERR, "password_file and oauth2_token_file need a username");
        r = -EINVAL;
        goto fail;
    }
    if (pw && tok) {
        host->log(host, TKL_LOG_ERR, "give password_file or oauth2_token_file, not both");
        r = -EINVAL;
        goto fail;
    }
    if ((r = hp_ca_file(host, ca, &m->ca_file)) < 0)
        goto fail;
    r = -ENOMEM;
    if ((user && !(m->username = strdup(user))) || !(m->from = strdup(from)) ||
        (reply_to && !(m->reply_to = strdup(reply_to))) ||
        (footer && !(m->footer = strdup(footer))) ||
        (plan_url && !(m->plan_url = strdup(plan_url))) || (tok && !(m->token_file = strdup(tok))))
        goto fail;
    if (pw && (r = host->read_secret(host, pw, &m->password)) < 0) {
        host->log(host, TKL_LOG_ERR, "cannot read password_file %s: %s", pw,
                  tkl_secret_strerror(r));
        r = r == -ENOMEM ? r : -EINVAL;
        goto fail;
    }
    static const char *const tkeys[] = {"subject_template", "text_template", "html_template"};
    for (int i = 0; i < 3; i++) {
        const char *file = NULL;
        if (config_setting_lookup_string(conf, tkeys[i], &file) &&
            (r = load_template(m, tkeys[i], file, &m->tmpl[i])) < 0)
            goto fail;
    }
    if ((r = refresh_token(m)) < 0) {
        host->log(host, TKL_LOG_ERR, "cannot read oauth2_token_file %s: %s", tok,
                  tkl_secret_strerror(r));
        r = r == -ENOMEM ? r : -EINVAL;
        goto fail;
    }
    *ret_state = m;
    return 0;
fail:
    em_destroy(m);
    return r;
}

static int em_start(void *state)
{
    (void)state;
    return 0;
}

static void message_free(struct message *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->rcpt);
    free(x->msg);
    free(x);
}

static void unlink_message(struct message *x)
{
    for (struct message **q = &x->m->messages; *q; q = &(*q)->next)
        if (*q == x) {
            *q = x->next;
            return;
        }
}

/* Keeps the server's last response line (never what we send: that holds
 * the credentials). */
static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
    struct message *x = userp;
    (void)e;
    if (type == CURLINFO_HEADER_IN)
        dg_reply_capture(data, size, x->ok_reply, x->fail_reply, sizeof(x->ok_reply));
    return 0;
}

static void on_done(void *data, int code)
{
    struct message *x = data;
    char reply[1024]; /* room for the server name and its longest reply line */
    long smtp = 0;
    struct tkl_delivery res = {.size = sizeof(res), .reply = reply};
    unlink_message(x);
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &smtp);
    dg_printable(x->errbuf);
    if (code == CURLE_OK) {
        res.status = TKL_DELIVERY_OK;
        snprintf(reply, sizeof(reply), "%s: %s", x->server,
                 x->ok_reply[0] ? x->ok_reply : "accepted");
    } else {
        const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror((CURLcode)code);
        /* a refused login (535, or 534, 538 of the AUTH extension) is the
         * relay's answer to tickler's credentials, not to the message: kept
         * and tried again after the hold, as Postfix defers on a SASL
         * failure (a 530, "authentication required" or "STARTTLS first",
         * is a setting no retry mends: a failure, as any other 5xx) */
        bool login = code == CURLE_LOGIN_DENIED || smtp == 534 || smtp == 535 || smtp == 538;
        if (!login &&
            (smtp >= 500 || code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL))
            res.status = TKL_DELIVERY_PERMANENT;
        else
            res.status = TKL_DELIVERY_TRANSIENT;
        if (code == CURLE_USE_SSL_FAILED)
            detail = "the server does not offer STARTTLS, which is required; nothing was sent";
        if (login)
            x->m->login_refused_at = x->m->host->now(x->m->host);
        if (login && smtp && x->fail_reply[0])
            snprintf(reply, sizeof(reply),
                     "%s refused tickler's login, SMTP %ld: %s (check the username and "
                     "password_file or oauth2_token_file, then reload; kept, and no login is "
                     "tried for an hour or until the reload)",
                     x->server, smtp, x->fail_reply);
        else if (login)
            snprintf(reply, sizeof(reply),
                     "%s refused tickler's login: %.400s (check the username, the "
                     "password_file or oauth2_token_file, and that the server offers that "
                     "login, then reload; kept, and no login is tried for an hour or until the "
                     "reload)",
                     x->server, detail);
        else if (smtp && x->fail_reply[0])
            snprintf(reply, sizeof(reply), "%s answered SMTP %ld: %s", x->server, smtp,
                     x->fail_reply);
        else if (smtp >= 400)
            snprintf(reply, sizeof(reply), "%s answered SMTP %ld: %.400s", x->server, smtp, detail);
        else
            snprintf(reply, sizeof(reply), "%s: %.400s", x->server, detail);
    }
    tkl_deliver_done_fn done = x->done;
    void *done_data = x->done_data;
    message_free(x);
    done(done_data, &res);
}

/* A Message-ID word from s: letters, digits, '.', '-' only. */
static void id_word(const char *s, char *buf, size_t size)
{
    size_t k = 0;
    for (; *s && k + 1 < size; s++) {
        unsigned char c = (unsigned char)*s;
        buf[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '-'
                       ? (char)c
                       : '-';
    }
    buf[k] = '\0';
}

/* libcurl's upload: the next part of x's message. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *userp)
{
    struct message *x = userp;
    size_t n = x->msg_len - x->msg_sent;
    if (n > size * nitems)
        n = size * nitems;
    memcpy(buf, x->msg + x->msg_sent, n);
    x->msg_sent += n;
    return n;
}

/*
 * The message of notice n, whole, into x->msg: the headers, then a
 * multipart/mixed body holding one multipart/alternative of the text and
 * the HTML, both quoted-printable, every line ending in CRLF. Written here
 * rather than through curl_mime, whose encoder reads a few bytes a
 * callback and whose boundaries each cost a draw of random bytes: the
 * boundaries hold "=_", which quoted-printable never writes, so no part
 * can hold them.
 */
static int build(struct email *m, struct message *x, const struct tkl_notice *n)
{
    struct dg_buf o = {0}, text = {0}, html = {0};
    char date[TKL_RFC5322_DATE_SIZE], subject[512], word[200];
    int64_t now = m->host->now(m->host);
    unsigned long long id = (unsigned long long)n->id;
    if (tkl_instant_rfc5322(now, date, sizeof(date)) < 0)
        return -EINVAL;
    struct dg_render_opts ro = {.footer = m->footer, .plan_url = m->plan_url, .now = now};
    struct dg_buf sb = {0};
    dg_render(&sb, m->tmpl[DG_SUBJECT], n, &ro, DG_SUBJECT, " ");
    if (sb.oom)
        return -ENOMEM;
    snprintf(subject, sizeof(subject), "%s", sb.data ? sb.data : "");
    free(sb.data);

    dg_header(&o, "Date", date, "\r\n");
    dg_puts(&o, "From: ");
    dg_mailbox(&o, m->from_name, m->from_addr, "\r\n");
    dg_puts(&o, "\r\nTo: ");
    dg_mailbox(&o, n->team_name, n->recipient, "\r\n");
    dg_puts(&o, "\r\n");
    if (m->reply_to)
        dg_header(&o, "Reply-To", m->reply_to, "\r\n");
    dg_header(&o, "Subject", subject, "\r\n");
    dg_printf(&o, "Message-ID: <notice-%llu.%lld@%s>\r\n", id, (long long)n->due_at,
              m->msgid_domain);
    if (n->thread_key) {
        id_word(n->thread_key, word, sizeof(word));
        dg_printf(&o, "In-Reply-To: <action-%s@%s>\r\n", word, m->msgid_domain);
        dg_printf(&o, "References: <action-%s@%s>\r\n", word, m->msgid_domain);
    }
    dg_printf(&o, "X-Tickler-Notice: %llu\r\n", id);
    dg_puts(&o, "Auto-Submitted: auto-generated\r\n");
    dg_printf(&o,
              "MIME-Version: 1.0\r\n"
              "Content-Type: multipart/mixed; boundary=\"=_tickler-mixed-%llu\"\r\n\r\n"
              "--=_tickler-mixed-%llu\r\n"
              "Content-Type: multipart/alternative; boundary=\"=_tickler-alt-%llu\"\r\n\r\n",
              id, id, id);

    dg_render(&text, m->tmpl[DG_TEXT], n, &ro, DG_TEXT, "\n");
    dg_render(&html, m->tmpl[DG_HTML], n, &ro, DG_HTML, "\n");
    static const char part[] = "--=_tickler-alt-%llu\r\n"
                               "Content-Type: text/%s; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    dg_printf(&o, part, id, "plain");
    dg_put_qp(&o, text.data ? text.data : "", "\r\n");
    dg_puts(&o, "\r\n");
    dg_printf(&o, part, id, "html");
    dg_put_qp(&o, html.data ? html.data : "", "\r\n");
    dg_printf(&o, "\r\n--=_tickler-alt-%llu--\r\n\r\n--=_tickler-mixed-%llu--\r\n", id, id);
    bool oom = o.oom || text.oom || html.oom;
    free(text.data);
    free(html.data);
    if (oom) {
        free(o.data);
        return -ENOMEM;
    }
    x->msg = o.data;
    x->msg_len = o.len;
    return 0;
}

/* A recipient is one mailbox address (see dg_address_problem()). */
static int em_check_recipient(void *state, const char *recipient, char *why, size_t why_size)
{
    (void)state;
    const char *problem = dg_address_problem(recipient);
    if (!problem)
        return 0;
    if (why_size) {
        snprintf(why, why_size, "\"%.100s\" is not an email address (%s)", recipient, problem);
        dg_header_safe(why);
    }
    return -EINVAL;
}

static int em_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct email *m = state;
    char why[256];
    if (m->stopped)
        return -ESHUTDOWN;
    if (em_check_recipient(m, n->recipient, why, sizeof(why)) < 0) {
        m->host->log(m->host, TKL_LOG_ERR, "%s", why);
        return -EINVAL;
    }
    int r = refresh_token(m);
    if (r < 0) {
        m->host->log(m->host, TKL_LOG_ERR, "cannot read the OAuth token: %s",
                     tkl_secret_strerror(r));
        return lc_transient(r);
    }
    /* the server refused the login within the hold (and no new token was
     * read since): not tried again yet */
    if (m->login_refused_at && m->host->now(m->host) < m->login_refused_at + LOGIN_HOLD_S)
        return -EKEYREJECTED;
    struct message *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->m = m;
    snprintf(x->server, sizeof(x->server), "%s", m->server);
    x->done = done;
    x->done_data = done_data;
    r = -ENOMEM;
    if (!(x->easy = curl_easy_init()))
        goto fail;
    if ((r = build(m, x, n)) < 0)
        goto fail;
    r = -ENOMEM;
    if (!(x->rcpt = curl_slist_append(NULL, n->recipient)))
        goto fail;
    char mail_from[300];
    snprintf(mail_from, sizeof(mail_from), "<%s>", m->from_addr);
    CURL *e = x->easy;
    CURLcode c = CURLE_OK;
    c |= curl_easy_setopt(e, CURLOPT_URL, m->url);
    c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    c |= curl_easy_setopt(e, CURLOPT_USE_SSL, m->use_ssl);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (m->ca_file)
        c |= curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file);
    if (m->username)
        c |= curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
    if (m->password)
        c |= curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
    if (m->token) {
        c |= curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, m->token);
        c |= curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    }
    c |= curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
    c |= curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
    c |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    c |= curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    c |= curl_easy_setopt(e, CURLOPT_READDATA, x);
    c |= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->msg_len);
    c |= curl_easy_setopt(e, CURLOPT_TIMEOUT, m->timeout_s);
    c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
    c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    c |= curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    c |= curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
    c |= curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    if (c != CURLE_OK) {
        r = -EIO; /* libcurl lacks a feature or memory; not the notice's fault */
        goto fail;
    }
    if ((r = m->host->transfer_start(m->host, e, on_done, x)) < 0)
        goto fail;
    x->next = m->messages;
    m->messages = x;
    return 0;
fail:
    message_free(x);
    return lc_transient(r); /* build() fails for memory or the clock, never the notice */
}

static void em_stop(void *state)
{
    struct email *m = state;
    m->stopped = true;
    while (m->messages) {
        struct message *x = m->messages;
        m->messages = x->next;
        m->host->transfer_cancel(m->host, x->easy);
        struct tkl_delivery res = {
            .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = "shutting down"};
        tkl_deliver_done_fn done = x->done;
        void *done_data = x->done_data;
        message_free(x);
        done(done_data, &res);
    }
}

/*
 * Takes over every setting of fresh, secrets included (init() read them
 * again); messages in flight keep what libcurl copied when they started,
 * and the host's connections stay open.
 */
static void em_reconfigure(void *state, void *fresh)
{
    struct email *m = state, *f = fresh;
    struct email old = *m;
    *m = *f;
    *f = old; /* the old settings, freed with fresh */
    /* what runs stays with the running instance */
    LC_SWAP(m->host, f->host);
    LC_SWAP(m->messages, f->messages);
    LC_SWAP(m->stopped, f->stopped);
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "email",
    .description = "sends notices as e-mail over SMTP with STARTTLS or TLS",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = em_init,
    .start = em_start,
    .deliver = em_deliver,
    .stop = em_stop,
    .destroy = em_destroy,
    .check_recipient = em_check_recipient,
    .reconfigure = em_reconfigure,
};

TICKLER_PLUGIN_ENTRY(descriptor)
