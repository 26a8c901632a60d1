/*
 * maildir: a notifier that writes each notice as an e-mail message into a
 * Maildir (tmp/ then rename into new/), for a local outbox a person can read
 * with any mail client (mutt -f DIR) or cat: the text and the HTML the
 * email notifier would send, as multipart/alternative. It is the default
 * notifier of the sample configuration and the reference for the plugin
 * ABI.
 *
 * settings = {
 *   path = "maildir";                 # relative to the state directory
 *   from = "tickler <tickler@localhost>";
 * };
 *
 * Files are written and fsync()ed synchronously (they are small and local);
 * completion is reported on the next loop iteration, as the ABI requires.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tickler/day.h>
#include <tickler/plugin.h>

#include "digest.h"
#include "lifecycle.h"

struct pending {
    uv_timer_t timer;
    struct maildir *m;
    tkl_deliver_done_fn done;
    void *done_data;
    int status;
    char reply[256];
    struct pending *next;
};

struct maildir {
    const struct tkl_host *host;
    char *path;
    char *from_name, *from_addr; /* the From: mailbox, from = "Name <addr>" */
    struct pending *pending;
    unsigned seq;
    bool stopped;
};

/*
 * The message of notice n into o: RFC 5322 headers, then a
 * multipart/alternative body of the text (8bit, its lines kept under 998
 * octets by dg_render) and the HTML (quoted-printable), as the email
 * notifier sends them. The boundary holds "=_", which quoted-printable
 * never writes, and is checked against the text.
 */
static void compose(struct dg_buf *o, const struct maildir *m, const struct tkl_notice *n,
                    int64_t now, const char *date, const char *host)
{
    struct dg_buf text = {0}, html = {0};
    char subject[512], msgid[320], boundary[96];
    const struct dg_render_opts ro = {.now = now};
    dg_render(&text, NULL, n, &ro, DG_TEXT, "\n");
    dg_render(&html, NULL, n, &ro, DG_HTML, "\n");
    unsigned k = 0;
    do
        snprintf(boundary, sizeof(boundary), "=_tickler-%llu-%lld-%u", (unsigned long long)n->id,
                 (long long)now, k++);
    while (text.data && strstr(text.data, boundary));
    dg_subject(n, subject, sizeof(subject));
    snprintf(msgid, sizeof(msgid), "<notice-%llu.%lld@%s>", (unsigned long long)n->id,
             (long long)n->due_at, host);
    dg_header(o, "Date", date, "\n");
    dg_puts(o, "From: ");
    dg_mailbox(o, m->from_name, m->from_addr, "\n");
    dg_puts(o, "\n");
    dg_puts(o, "To: ");
    dg_mailbox(o, n->team_name, n->recipient, "\n");
    dg_puts(o, "\n");
    dg_header(o, "Subject", subject, "\n");
    dg_header(o, "Message-ID", msgid, "\n");
    dg_header(o, "MIME-Version", "1.0", "\n");
    dg_printf(o, "Content-Type: multipart/alternative; boundary=\"%s\"\n", boundary);
    dg_printf(o, "X-Tickler-Notice: %llu\n\n", (unsigned long long)n->id);
    dg_printf(o,
              "--%s\nContent-Type: text/plain; charset=UTF-8\n"
              "Content-Transfer-Encoding: 8bit\n\n",
              boundary);
    if (text.data)
        dg_puts(o, text.data);
    dg_printf(o,
              "\n--%s\nContent-Type: text/html; charset=UTF-8\n"
              "Content-Transfer-Encoding: quoted-printable\n\n",
              boundary);
    if (html.data)
        dg_put_qp(o, html.data, "\n");
    dg_printf(o, "\n--%s--\n", boundary);
    o->oom |= text.oom || html.oom;
    free(text.data);
    free(html.data);
}

/* Opens m's new/ directory, to sync it after a rename into it: *ret_fd.
 * Returns 0 or a negative errno. */
static int open_new(const struct maildir *m, int *ret_fd)
{
    char dir[4096];
    int n = snprintf(dir, sizeof(dir), "%s/new", m->path);
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *ret_fd = fd;
    return 0;
}

static int write_message(struct maildir *m, const struct tkl_notice *n, char *reply, size_t size)
{
    struct dg_buf o = {0};
    char date[TKL_RFC5322_DATE_SIZE], name[256], tmp[4096], dst[4096];
    int64_t now = m->host->now(m->host);
    if (tkl_instant_rfc5322(now, date, sizeof(date)) < 0) {
        snprintf(reply, size, "the clock cannot be read as a date");
        return -EINVAL;
    }
    char host[128] = "localhost";
    gethostname(host, sizeof(host) - 1);
    compose(&o, m, n, now, date, host);
    if (o.oom) {
        free(o.data);
        snprintf(reply, size, "out of memory");
        return -ENOMEM;
    }
    snprintf(name, sizeof(name), "%lld.N%lluQ%u.%s", (long long)now, (unsigned long long)n->id,
             m->seq++, host);
    int r = 0, dir = -1;
    int lt = snprintf(tmp, sizeof(tmp), "%s/tmp/%s", m->path, name);
    int ld = snprintf(dst, sizeof(dst), "%s/new/%s", m->path, name);
    if (lt < 0 || ld < 0 || (size_t)lt >= sizeof(tmp) || (size_t)ld >= sizeof(dst)) {
        r = -ENAMETOOLONG;
        goto out;
    }
    /* new/ opened first: nothing is in it yet if that fails */
    if ((r = open_new(m, &dir)) < 0)
        goto out;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    size_t off = 0;
    while (off < o.len) {
        ssize_t w = write(fd, o.data + off, o.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, dst) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
    } else if (fsync(dir) < 0) {
        /* the rename not durable: the message is taken back and written
         * again later, unless the mail reader has it already */
        r = -errno;
        if (unlink(dst) < 0 && errno == ENOENT)
            r = 0;
    }
out:
    if (dir >= 0)
        close(dir);
    free(o.data);
    if (r < 0)
        snprintf(reply, size, "cannot write to the maildir %.200s: %s", m->path, strerror(-r));
    else
        snprintf(reply, size, "written to %.200s", dst);
    return r;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%s", path);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int md_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"path", "from", NULL};
    const char *path = "maildir", *from = "tickler <tickler@localhost>";
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\" (known: path, from)",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    if (conf) {
        config_setting_lookup_string(conf, "path", &path);
        config_setting_lookup_string(conf, "from", &from);
    }
    if (!*path) {
        host->log(host, TKL_LOG_ERR, "path must not be empty");
        return -EINVAL;
    }
    struct maildir *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->host = host;
    if (path[0] == '/')
        m->path = strdup(path);
    else if (asprintf(&m->path, "%s/%s", host->state_dir ? host->state_dir : ".", path) < 0)
        m->path = NULL;
    int r = m->path ? dg_split_mailbox(from, &m->from_name, &m->from_addr) : -ENOMEM;
    if (r < 0) {
        if (r == -EINVAL)
            host->log(host, TKL_LOG_ERR,
                      "from must be \"Name <address>\" or an address (got \"%s\")", from);
        free(m->path);
        free(m);
        return r;
    }
    *ret_state = m;
    return 0;
}

/* Creates m->path's tmp, new and cur. Returns 0 or a negative errno (logged). */
static int make_dirs(const struct maildir *m)
{
    static const char *const sub[] = {"tmp", "new", "cur"};
    char buf[4096];
    for (size_t i = 0; i < 3; i++) {
        int n = snprintf(buf, sizeof(buf), "%s/%s", m->path, sub[i]);
        int r = n < 0 || (size_t)n >= sizeof(buf) ? -ENAMETOOLONG : mkdir_p(buf);
        if (r < 0) {
            m->host->log(m->host, TKL_LOG_ERR, "cannot create %s: %s", buf, strerror(-r));
            return r;
        }
    }
    return 0;
}

static int md_start(void *state)
{
    return make_dirs(state);
}

static void on_pending_closed(uv_handle_t *h)
{
    free(h->data);
}

static void finish(struct pending *p)
{
    struct maildir *m = p->m;
    for (struct pending **q = &m->pending; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            break;
        }
    struct tkl_delivery res = {.size = sizeof(res),
                               .status = p->status == 0 ? TKL_DELIVERY_OK : TKL_DELIVERY_TRANSIENT,
                               .reply = p->reply};
    p->done(p->done_data, &res);
    lc_close(m->host, (uv_handle_t *)&p->timer, on_pending_closed);
}

static void on_timer(uv_timer_t *t)
{
    finish(t->data);
}

/*
 * The recipient only goes into the To: header, through dg_mailbox(), which
 * quotes or encodes whatever it is given, so every string is usable; an
 * empty one, or one with control characters, is refused all the same, as
 * surely a mistake.
 */
static int md_check_recipient(void *state, const char *recipient, char *why, size_t why_size)
{
    (void)state;
    const unsigned char *p = (const unsigned char *)recipient;
    while (*p && *p >= 0x20 && *p != 0x7f)
        p++;
    if (*recipient && !*p)
        return 0;
    if (why_size) {
        snprintf(why, why_size, "\"%.100s\" is %s", recipient,
                 *recipient ? "not usable: it holds control characters" : "empty");
        dg_header_safe(why);
    }
    return -EINVAL;
}

static int md_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct maildir *m = state;
    char why[256];
    if (m->stopped)
        return -ESHUTDOWN;
    if (md_check_recipient(m, n->recipient, why, sizeof(why)) < 0) {
        m->host->log(m->host, TKL_LOG_ERR, "%s", why);
        return -EINVAL;
    }
    struct pending *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int r = uv_timer_init(m->host->loop, &p->timer);
    if (r < 0) {
        free(p);
        return r;
    }
    p->timer.data = p;
    p->m = m;
    p->done = done;
    p->done_data = done_data;
    p->status = write_message(m, n, p->reply, sizeof(p->reply));
    p->next = m->pending;
    m->pending = p;
    uv_timer_start(&p->timer, on_timer, 0, 0);
    return 0;
}

/*
 * Takes over fresh's path and From line; deliveries already written
 * complete as they are. A new path gets its directories at once (a
 * failure is logged, and each delivery then fails, to be retried, naming
 * the path).
 */
static void md_reconfigure(void *state, void *fresh)
{
    struct maildir *m = state, *f = fresh;
    LC_SWAP(m->path, f->path);
    LC_SWAP(m->from_name, f->from_name);
    LC_SWAP(m->from_addr, f->from_addr);
    if (strcmp(m->path, f->path) != 0)
        (void)make_dirs(m);
}

static void md_stop(void *state)
{
    struct maildir *m = state;
    m->stopped = true;
    while (m->pending)
        finish(m->pending);
}

static void md_destroy(void *state)
{
    struct maildir *m = state;
    if (!m)
        return;
    free(m->path);
    free(m->from_name);
    free(m->from_addr);
    free(m);
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "maildir",
    .description = "writes notices as e-mail messages into a local Maildir",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = md_init,
    .start = md_start,
    .deliver = md_deliver,
    .stop = md_stop,
    .destroy = md_destroy,
    .check_recipient = md_check_recipient,
    .reconfigure = md_reconfigure,
};

TICKLER_PLUGIN_ENTRY(descriptor)
