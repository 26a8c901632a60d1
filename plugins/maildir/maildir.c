/*
 * maildir: a notifier that writes each notice as an e-mail message into a
 * Maildir (tmp/ then rename into new/), for a local outbox a person can read
 * with any mail client (mutt -f DIR) or cat. It is the default notifier of
 * the sample configuration and the reference for the plugin ABI.
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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tickler/plugin.h>

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
    char *from;
    struct pending *pending;
    unsigned seq;
    bool stopped;
};

struct out {
    char *data;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *p = realloc(o->data, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void printf_(struct out *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Header text: control characters (CR, LF, NUL, TAB...) become spaces, so
 * nothing from the plan can start a new header line. */
static void header_safe(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 2047 "B" encoding in words of at most 75 characters, split only at
 * UTF-8 character boundaries, folded with CRLF+space between words. */
static void encoded_words(struct out *o, const char *s)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(s), pos = 0;
    bool first = true;
    while (pos < len) {
        /* 45 input bytes -> 60 encoded characters + 12 of wrapper */
        size_t n = len - pos < 45 ? len - pos : 45;
        while (n > 0 && pos + n < len && ((unsigned char)s[pos + n] & 0xc0) == 0x80)
            n--;
        if (!first)
            puts_(o, "\n ");
        first = false;
        puts_(o, "=?UTF-8?B?");
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned char)s[pos + i] << 16;
            if (i + 1 < n)
                v |= (unsigned char)s[pos + i + 1] << 8;
            if (i + 2 < n)
                v |= (unsigned char)s[pos + i + 2];
            char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
                         i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
            put(o, q, 4);
        }
        puts_(o, "?=");
        pos += n;
    }
}

static void header(struct out *o, const char *name, const char *value)
{
    char *v = strdup(value ? value : "");
    if (!v) {
        o->oom = true;
        return;
    }
    header_safe(v);
    puts_(o, name);
    puts_(o, ": ");
    if (is_ascii(v) && strlen(v) < 900 && !strstr(v, "=?"))
        puts_(o, v);
    else
        encoded_words(o, v);
    puts_(o, "\n");
    free(v);
}

/* Writes prefix then text word-wrapped at 76 columns, continuation lines
 * indented to line up under the text; line breaks in the text are kept. */
static void wrapped(struct out *o, const char *prefix, const char *text)
{
    const char *p = text;
    char indent[64];
    size_t plen = strlen(prefix);
    /* continuation indent: as many spaces as the prefix is wide (in
     * characters, not bytes) */
    size_t w0 = 0;
    for (const char *q = prefix; *q; q++)
        w0 += ((unsigned char)*q & 0xc0) != 0x80;
    if (w0 > sizeof(indent) - 1)
        w0 = sizeof(indent) - 1;
    memset(indent, ' ', w0);
    indent[w0] = '\0';
    size_t col = plen;
    puts_(o, prefix);
    while (*p) {
        if (*p == '\n') {
            puts_(o, "\n");
            puts_(o, indent);
            col = strlen(indent);
            p++;
            continue;
        }
        size_t w = strcspn(p, " \n");
        if (col > strlen(indent) && col + w > 76 && col > plen) {
            puts_(o, "\n");
            puts_(o, indent);
            col = strlen(indent);
        }
        /* very long words are cut so no line exceeds 998 octets */
        while (w > 900) {
            put(o, p, 900);
            puts_(o, "\n");
            puts_(o, indent);
            p += 900;
            w -= 900;
        }
        put(o, p, w);
        col += w;
        p += w;
        if (*p == ' ') {
            puts_(o, " ");
            col++;
            p++;
        }
    }
    puts_(o, "\n");
}

static void format_day(int32_t day, char *buf, size_t size)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    if (day == TKL_NO_DAY || !gmtime_r(&t, &tm)) {
        snprintf(buf, size, "no date");
        return;
    }
    strftime(buf, size, "%A %-d %B %Y", &tm);
}

static void when(const struct tkl_notice_entry *e, char *buf, size_t size)
{
    int d = e->days_left;
    if (e->deadline_day == TKL_NO_DAY)
        snprintf(buf, size, "no deadline: this is a check-in");
    else if (d < 0)
        snprintf(buf, size, "%d day%s overdue", -d, d == -1 ? "" : "s");
    else if (d == 0)
        snprintf(buf, size, "due today");
    else
        snprintf(buf, size, "%d day%s left", d, d == 1 ? "" : "s");
}

static int group_of(const struct tkl_notice_entry *e)
{
    if (e->stage == TKL_STAGE_REPORT)
        return 4;
    if (e->deadline_day == TKL_NO_DAY)
        return 3;
    if (e->days_left < 0)
        return 0;
    if (e->days_left <= 7)
        return 1;
    return 2;
}

static void body(struct out *o, const struct tkl_notice *n)
{
    static const char *const titles[] = {"OVERDUE", "DUE THIS WEEK", "COMING UP",
                                         "CHECK-INS (no deadline)", "DELIVERY FAILURES"};
    static const int order[] = {4, 0, 1, 2, 3};
    printf_(o, "Hello %s,\n\n", n->team_name ? n->team_name : n->recipient);
    wrapped(o, "", n->n_entries == 1
                       ? "This action in your action plan needs your attention."
                       : "These actions in your action plan need your attention.");
    for (int gi = 0; gi < 5; gi++) {
        int g = order[gi];
        bool any = false;
        for (size_t i = 0; i < n->n_entries; i++) {
            const struct tkl_notice_entry *e = &n->entries[i];
            if (group_of(e) != g)
                continue;
            if (!any) {
                printf_(o, "\n%s\n", titles[g]);
                any = true;
            }
            if (g == 4) {
                puts_(o, "\n");
                wrapped(o, "  * ", e->title);
                if (e->progress)
                    wrapped(o, "    Reply: ", e->progress);
                printf_(o, "    See: tickler outbox --failed; tickler retry %s\n",
                        e->item_id + strcspn(e->item_id, "0123456789"));
                continue;
            }
            char day[64], w[64];
            format_day(e->deadline_day, day, sizeof(day));
            when(e, w, sizeof(w));
            puts_(o, "\n");
            wrapped(o, "  * ", e->title);
            if (e->deadline_day != TKL_NO_DAY)
                printf_(o, "    Deadline: %s (%s), %s%s\n",
                        e->deadline_text && *e->deadline_text ? e->deadline_text : "-", day, w,
                        e->late ? " [sent late]" : "");
            else
                printf_(o, "    Timeframe: %s, %s\n",
                        e->deadline_text && *e->deadline_text ? e->deadline_text : "not set", w);
            if (e->status && *e->status)
                wrapped(o, "    Status: ", e->status);
            if (e->owners && *e->owners)
                wrapped(o, "    Responsibility: ", e->owners);
            if (e->commitment)
                wrapped(o, "    Commitment: ", e->commitment);
            if (e->progress)
                wrapped(o, "    Latest progress: ", e->progress);
            printf_(o, "    Action id: %s\n", e->item_id);
        }
    }
    puts_(o, "\n-- \n");
    wrapped(o, "", "You receive this because you are listed for this team in tickler's team "
                   "directory. To change who is reminded, contact the action plan's owner.");
}

static int write_message(struct maildir *m, const struct tkl_notice *n, char *reply, size_t size)
{
    struct out o = {0};
    char date[64], subject[512], msgid[320], name[256], tmp[4096], dst[4096];
    time_t now = (time_t)m->host->now(m->host);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    size_t overdue = 0;
    for (size_t i = 0; i < n->n_entries; i++)
        overdue += n->entries[i].deadline_day != TKL_NO_DAY && n->entries[i].days_left < 0;
    if (n->n_entries == 1 && n->entries[0].stage == TKL_STAGE_REPORT) {
        snprintf(subject, sizeof(subject), "Delivery failure: %.200s", n->entries[0].title);
    } else if (n->n_entries == 1) {
        char w[64];
        when(&n->entries[0], w, sizeof(w));
        snprintf(subject, sizeof(subject), "Reminder (%s): %.160s", w, n->entries[0].title);
    } else {
        snprintf(subject, sizeof(subject), "Reminder: %zu actions for %s%s", n->n_entries,
                 n->team_name ? n->team_name : n->recipient,
                 overdue ? " (some overdue)" : "");
    }
    char host[128] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(msgid, sizeof(msgid), "<notice-%llu.%lld@%s>", (unsigned long long)n->id,
             (long long)n->due_at, host);
    header(&o, "Date", date);
    header(&o, "From", m->from);
    header(&o, "To", n->recipient);
    header(&o, "Subject", subject);
    header(&o, "Message-ID", msgid);
    header(&o, "MIME-Version", "1.0");
    header(&o, "Content-Type", "text/plain; charset=UTF-8");
    header(&o, "Content-Transfer-Encoding", "8bit");
    printf_(&o, "X-Tickler-Notice: %llu\n", (unsigned long long)n->id);
    puts_(&o, "\n");
    body(&o, n);
    if (o.oom) {
        free(o.data);
        snprintf(reply, size, "out of memory");
        return -ENOMEM;
    }
    snprintf(name, sizeof(name), "%lld.N%lluQ%u.%s", (long long)now, (unsigned long long)n->id,
             m->seq++, host);
    snprintf(tmp, sizeof(tmp), "%s/tmp/%s", m->path, name);
    snprintf(dst, sizeof(dst), "%s/new/%s", m->path, name);
    int r = 0;
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
    if (r < 0)
        unlink(tmp);
out:
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
    snprintf(buf, sizeof(buf), "%s", path);
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
    m->from = strdup(from);
    if (!m->path || !m->from) {
        free(m->path);
        free(m->from);
        free(m);
        return -ENOMEM;
    }
    *ret_state = m;
    return 0;
}

static int md_start(void *state)
{
    struct maildir *m = state;
    static const char *const sub[] = {"tmp", "new", "cur"};
    char buf[4096];
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "%s/%s", m->path, sub[i]);
        int r = mkdir_p(buf);
        if (r < 0) {
            m->host->log(m->host, TKL_LOG_ERR, "cannot create %s: %s", buf, strerror(-r));
            return r;
        }
    }
    return 0;
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
    uv_close((uv_handle_t *)&p->timer, on_pending_closed);
}

static void on_timer(uv_timer_t *t)
{
    finish(t->data);
}

static int md_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct maildir *m = state;
    if (m->stopped)
        return -ESHUTDOWN;
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
    free(m->from);
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
};

__attribute__((visibility("default"))) const struct tkl_plugin *
tickler_plugin_entry(const uint32_t *host_versions, size_t n_versions)
{
    for (size_t i = 0; i < n_versions; i++)
        if (host_versions[i] == TICKLER_ABI_VERSION)
            return &descriptor;
    return NULL;
}
