/*
 * teams: posts each notice to a Microsoft Teams channel through a Workflows
 * (Power Automate) webhook, as an Adaptive Card (version 1.4) in the
 * message envelope Workflows expects. Cards are built with jansson.
 *
 * Text from the plan, and the group headings (the look-ahead's names the
 * calendar as the configuration titles it), go into TextRuns of
 * RichTextBlocks, which Teams does not read as Markdown, so a title cannot
 * turn into a link or a heading.
 * Any 2xx answer is success (Workflows answers 202 Accepted). Cards are
 * measured before they are sent: a digest whose card would pass
 * max_card_bytes (default 28,000, under the Teams limit of about 28 KB) is
 * split into several cards, "part 1 of 3" and so on, each under the limit.
 * The parts of one notice that were accepted are remembered, so a retry
 * sends only the rest. In the daemon (host.keep_dir) the memory also
 * outlives a restart: <keep_dir>/teams-<instance>.parts, written whole
 * (synced, renamed into place) when an attempt ends with parts accepted
 * and others to retry, and when such a notice ends. Each line holds a
 * fingerprint of the notice and its cut (send time, recipient, team,
 * webhook, each part's entries); a retry whose fingerprint differs
 * (another build, other settings, an outbox id used again) posts every
 * part: a part twice rather than one never. Each webhook gets at most
 * max_posts_per_second posts (default 4), and a 429 with Retry-After
 * holds that webhook back.
 *
 * Webhook URLs carry a signature and are secrets: read from files or
 * systemd credentials, named in the config by a short name, and only the
 * name and host are ever logged. Each action with a link (a secret of the
 * channel's) gets an Action.OpenUrl button, the one action a Workflows
 * card can carry without a bot; an answer that repeats a link is not kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <tickler/plugin.h>
#include <tickler/text.h>

#include "digest.h"
#include "lifecycle.h"
#include "post.h"

#define CARD_MAX_DEFAULT 28000

#define TEXT_MAX     2000                  /* characters of one text from the plan on a card */
#define REMEMBER_MAX 256                   /* notices whose accepted parts are remembered */
#define KEEP_SECONDS ((int64_t)30 * 86400) /* how long the parts file keeps a notice's parts */
#define NO_DEST      SIZE_MAX              /* a post whose destination a reload removed */

struct teams;

/*
 * How notices are cut into cards (the settings that decide where a cut
 * falls). A notice with parts accepted keeps the layout it was first cut
 * with, so that a reload with a new max_card_bytes or plan_url cannot cut
 * it differently and send its accepted entries again.
 */
struct layout {
    size_t card_max;
    char *plan_url;
    unsigned refs;
};

/* One deliver(): the cards of one notice, and how they went. */
struct job {
    struct teams *t;
    struct layout *layout; /* a reference */
    uint64_t notice;
    uint64_t print; /* the fingerprint of the notice's cut (envelopes) */
    size_t parts, pending;
    enum tkl_delivery_status worst;
    int32_t retry_after;
    char reply[300];
    char **tokens; /* of the notice's links, which answers must not repeat, or NULL */
    tkl_deliver_done_fn done;
    void *done_data;
};

struct post {
    struct job *job;
    size_t part; /* 0-based */
    size_t dest; /* index in t->dests */
    char *body;  /* the envelope, until it is started */
    struct hp_post *http;
    struct post *next; /* in t->queue (waiting) or t->running */
};

/* Parts of a notice a webhook accepted while others failed. */
struct sent {
    uint64_t notice;
    uint64_t parts;        /* bit i: part i accepted (parts beyond 64 are resent) */
    struct layout *layout; /* a reference: the cut those parts come from */
    uint64_t print;        /* the fingerprint of that cut */
    int64_t at;            /* when a part was last accepted (host->now) */
    bool kept;             /* in the parts file */
};

struct teams {
    const struct tkl_host *host;
    struct hp_dest *dests;
    size_t n_dests;
    size_t *slot;         /* per destination: the first one with the same URL */
    uint64_t *not_before; /* per slot: uv_now() ms of the next allowed post */
    long timeout_s;
    char *ca_file;
    struct layout *layout; /* for notices cut from now on */
    uint64_t interval_ms;
    struct post *queue, *running;
    struct post *done_early; /* notices whose every part went before */
    struct hp_pool pool;     /* libcurl handles of finished posts, for the next */
    struct sent sent[REMEMBER_MAX];
    size_t n_sent;
    char *parts_file;  /* where sent is kept across restarts, or NULL */
    char *parts_new;   /* parts_file.new, where it is written before the rename */
    bool parts_warned; /* a failure to write it was logged */
    bool parts_dirty;  /* sent changed since the file was last written */
    uv_timer_t timer;
    bool timer_open;
    bool stopped;
};

static void on_timer_closed(uv_handle_t *h)
{
    struct teams *t = h->data;
    t->timer_open = false;
}

static struct layout *layout_ref(struct layout *l)
{
    l->refs++;
    return l;
}

/* Drops a reference; the last one frees the layout. Accepts NULL. */
static void layout_unref(struct layout *l)
{
    if (l && --l->refs == 0) {
        free(l->plan_url);
        free(l);
    }
}

static void tm_destroy(void *state)
{
    struct teams *t = state;
    if (!t)
        return;
    hp_dests_free(t->dests, t->n_dests);
    hp_pool_drain(&t->pool);
    free(t->not_before);
    free(t->slot);
    free(t->ca_file);
    free(t->parts_file);
    free(t->parts_new);
    for (size_t i = 0; i < t->n_sent; i++)
        layout_unref(t->sent[i].layout);
    layout_unref(t->layout);
    free(t);
}

/* The rate budget is per webhook: names for one URL share its slot. */
static void share_budgets(struct teams *t)
{
    for (size_t i = 0; i < t->n_dests; i++) {
        t->slot[i] = i;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->dests[k].url, t->dests[i].url)) {
                t->slot[i] = t->slot[k];
                break;
            }
    }
}

/* Whether s can name a file of the state directory: letters, digits,
 * '_', '-' and '.', not first. */
static bool file_name_ok(const char *s)
{
    if (!*s || *s == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static int tm_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {
        "destinations",         "timeout_seconds", "ca_file", "plan_url",
        "max_posts_per_second", "max_card_bytes",  NULL};
    if (!TKL_HAS_MEMBER(host, host->size, read_secret) || !host->read_secret ||
        !host->transfer_start)
        return -ENOTSUP;
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\"",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    struct teams *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    if (!(t->layout = calloc(1, sizeof(*t->layout)))) {
        free(t);
        return -ENOMEM;
    }
    t->host = host;
    t->timeout_s = 30;
    *t->layout = (struct layout){.card_max = CARD_MAX_DEFAULT, .refs = 1};
    t->interval_ms = 250;
    int r, v;
    const char *s;
    if (conf && config_setting_lookup_int(conf, "timeout_seconds", &v)) {
        if (v < 1 || v > 600) {
            host->log(host, TKL_LOG_ERR, "timeout_seconds must be between 1 and 600");
            r = -EINVAL;
            goto fail;
        }
        t->timeout_s = v;
    }
    if (conf && config_setting_lookup_int(conf, "max_posts_per_second", &v)) {
        if (v < 1 || v > 100) {
            host->log(host, TKL_LOG_ERR, "max_posts_per_second must be between 1 and 100");
            r = -EINVAL;
            goto fail;
        }
        t->interval_ms = (uint64_t)(1000 / v);
    }
    if (conf && config_setting_lookup_int(conf, "max_card_bytes", &v)) {
        if (v < 4000 || v > 28000) {
            host->log(host, TKL_LOG_ERR, "max_card_bytes must be between 4000 and 28000");
            r = -EINVAL;
            goto fail;
        }
        t->layout->card_max = (size_t)v;
    }
    s = NULL;
    if (conf)
        (void)config_setting_lookup_string(conf, "ca_file", &s);
    if ((r = hp_ca_file(host, s, &t->ca_file)) < 0)
        goto fail;
    r = -ENOMEM;
    if (conf && config_setting_lookup_string(conf, "plan_url", &s)) {
        if (!dg_web_url_ok(s)) {
            host->log(host, TKL_LOG_ERR,
                      "plan_url must be an http:// or https:// URL with a host and no spaces");
            r = -EINVAL;
            goto fail;
        }
        if (!(t->layout->plan_url = strdup(s)))
            goto fail;
    }
    if ((r = hp_dests_load(host, conf ? config_setting_get_member(conf, "destinations") : NULL,
                           false, &t->dests, &t->n_dests)) < 0)
        goto fail;
    if (!(t->not_before = calloc(t->n_dests, sizeof(*t->not_before))) ||
        !(t->slot = calloc(t->n_dests, sizeof(*t->slot)))) {
        r = -ENOMEM;
        goto fail;
    }
    share_budgets(t);
    const char *keep = host->keep_dir; /* NULL from a host before it: reserved, zero */
    if (keep && host->instance && file_name_ok(host->instance)) {
        size_t len = strlen(keep) + strlen(host->instance) + sizeof("/teams-.parts.new");
        if (!(t->parts_file = malloc(len)) || !(t->parts_new = malloc(len))) {
            r = -ENOMEM;
            goto fail;
        }
        snprintf(t->parts_file, len, "%s/teams-%s.parts", keep, host->instance);
        snprintf(t->parts_new, len, "%s.new", t->parts_file);
    }
    *ret_state = t;
    return 0;
fail:
    tm_destroy(t);
    return r;
}

static void load_parts(struct teams *t);

static int tm_start(void *state)
{
    struct teams *t = state;
    int r = uv_timer_init(t->host->loop, &t->timer);
    if (r < 0)
        return r;
    t->timer.data = t;
    t->timer_open = true;
    load_parts(t);
    return 0;
}

/* ---- the card ----------------------------------------------------------- */

/* A RichTextBlock of runs: label (bold) and text (plain, never Markdown).
 * Text that is not UTF-8 is shown with U+FFFD. Returns NULL on ENOMEM. */
static json_t *rich(const char *label, const char *text, const char *color, bool bold_text)
{
    json_t *runs = json_array(), *run = json_object();
    if (!runs || !run)
        goto fail;
    if (label && json_array_append_new(runs, json_pack("{s:s, s:s, s:s}", "type", "TextRun", "text",
                                                       label, "weight", "Bolder")) < 0)
        goto fail;
    char *cut = NULL;
    if (text && strlen(text) > TEXT_MAX) {
        /* a very long text is cut at a character boundary, marked "…" */
        size_t n = TEXT_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
        if (!(cut = malloc(n + 4)))
            goto fail;
        memcpy(cut, text, n);
        memcpy(cut + n, "\xe2\x80\xa6", 4);
        text = cut;
    }
    json_t *tx = json_string(text ? text : "");
    if (!tx && text) { /* not UTF-8 (a notice queued before the store checked it) */
        char *fixed = tkl_utf8_repaired(text, strlen(text));
        tx = fixed ? json_string(fixed) : NULL;
        free(fixed);
    }
    free(cut);
    if (json_object_set_new(run, "type", json_string("TextRun")) < 0 ||
        json_object_set_new(run, "text", tx) < 0 ||
        (color && json_object_set_new(run, "color", json_string(color)) < 0) ||
        (bold_text && json_object_set_new(run, "weight", json_string("Bolder")) < 0))
        goto fail;
    if (json_array_append_new(runs, run) < 0) {
        run = NULL;
        goto fail;
    }
    return json_pack("{s:s, s:o}", "type", "RichTextBlock", "inlines", runs);
fail:
    json_decref(run);
    json_decref(runs);
    return NULL;
}

static const char *group_style(enum dg_group g)
{
    switch (g) {
    case DG_FAILURES:
    case DG_OVERDUE:
        return "attention";
    case DG_THIS_WEEK:
        return "warning";
    case DG_COMING_UP:
    case DG_PROMPTS:
    case DG_LOOKAHEAD:
        return "default";
    default:
        return "emphasis";
    }
}

static const char *group_color(enum dg_group g)
{
    return g <= DG_OVERDUE ? "Attention" : g == DG_THIS_WEEK ? "Warning" : "Default";
}

/* Appends v to arr; a NULL v (out of memory) or a failed append sets *bad,
 * so that the caller gives up the card rather than send it short. */
static void add(json_t *arr, bool *bad, json_t *v)
{
    if (!v || json_array_append_new(arr, v) < 0)
        *bad = true;
}

/* The lines of entry e (of group g) under its title: what it is, and its
 * id. */
static void entry_details(json_t *items, bool *bad, const struct tkl_notice_entry *e,
                          enum dg_group g)
{
    if (g == DG_FAILURES) {
        if (e->progress) {
            char label[32];
            snprintf(label, sizeof(label), "%s: ", dg_reply_label(e));
            add(items, bad, rich(label, e->progress, NULL, false));
        }
    } else if (e->kind == TKL_DEADLINE_EVENT) {
        char line[512];
        dg_deadline(e, true, line, sizeof(line));
        add(items, bad, rich("When: ", line, NULL, false));
        if (e->category)
            add(items, bad, rich("Category: ", e->category, NULL, false));
        if (e->commitment)
            add(items, bad, rich("Suggested comms: ", e->commitment, NULL, false));
        if (e->owners && *e->owners)
            add(items, bad, rich("Teams prompted: ", e->owners, NULL, false));
        if (e->url && *e->url && !dg_web_url_ok(e->url)) /* a web address is a button */
            add(items, bad, rich("Resources: ", e->url, NULL, false));
    } else {
        char w[64], line[512];
        dg_when(e, w, sizeof(w));
        dg_deadline(e, false, line, sizeof(line));
        add(items, bad,
            rich(e->deadline_day != TKL_NO_DAY ? "Deadline: " : "Timeframe: ", line, NULL, false));
        snprintf(line, sizeof(line), "%s%s", w, dg_late(e));
        add(items, bad, rich("When: ", line, group_color(g), g <= DG_THIS_WEEK));
        if (e->status && *e->status)
            add(items, bad, rich("Status: ", e->status, NULL, false));
        if (e->owners && *e->owners)
            add(items, bad, rich("Responsibility: ", e->owners, NULL, false));
        if (e->progress)
            add(items, bad, rich("Latest progress: ", e->progress, NULL, false));
        if (e->answer) {
            char label[32];
            snprintf(label, sizeof(label), "%s: ", dg_answer_label(e));
            add(items, bad, rich(label, e->answer, NULL, false));
        }
    }
    add(items, bad, rich("Id: ", e->item_id, NULL, false));
}

static json_t *entry_container(const struct tkl_notice_entry *e, enum dg_group g)
{
    json_t *items = json_array();
    bool bad = !items;
    add(items, &bad, rich(NULL, e->title ? e->title : "(no title)", NULL, true));
    if (!tkl_entry_is_request_line(e)) /* a request's own line: its title says it all */
        entry_details(items, &bad, e, g);
    if (g != DG_FAILURES && e->kind != TKL_DEADLINE_EVENT && e->link && *e->link)
        add(items, &bad,
            json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "type", "ActionSet", "actions", "type",
                      "Action.OpenUrl", "title", dg_link_label, "url", e->link));
    /* an observance's resources, when they are a web address */
    if (e->kind == TKL_DEADLINE_EVENT && e->url && dg_web_url_ok(e->url))
        add(items, &bad,
            json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "type", "ActionSet", "actions", "type",
                      "Action.OpenUrl", "title", "Resources", "url", e->url));
    if (bad) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "type", "Container", "style", group_style(g),
                     "spacing", "Medium", "items", items);
}

/* The entries of n in the order cards show them: by group, then as given. */
static size_t *display_order(const struct tkl_notice *n)
{
    size_t *v = malloc((n->n_entries + 1) * sizeof(*v)), k = 0;
    for (int g = 0; v && g < DG_GROUPS; g++)
        for (size_t i = 0; i < n->n_entries; i++)
            if (dg_group_of(&n->entries[i]) == (enum dg_group)g)
                v[k++] = i;
    return v;
}

/* The envelope of a card with entries order[from..to) of n, titled as part
 * `part` of `parts` when there are several. */
static json_t *envelope(const struct layout *lay, const struct tkl_notice *n, const size_t *order,
                        size_t from, size_t to, size_t part, size_t parts)
{
    char subject[512], title[600];
    dg_subject(n, subject, sizeof(subject));
    if (parts > 1)
        snprintf(title, sizeof(title), "%s (part %zu of %zu)", subject, part + 1, parts);
    else
        snprintf(title, sizeof(title), "%s", subject);
    json_t *body = json_array();
    bool bad = !body;
    /* the title holds plan text: a RichTextBlock, not Markdown */
    add(body, &bad, rich(NULL, title, NULL, true));
    add(body, &bad, rich(NULL, dg_intro(n), NULL, false));
    int last = -1;
    bool links = false;
    for (size_t k = from; k < to; k++) {
        const struct tkl_notice_entry *e = &n->entries[order[k]];
        enum dg_group g = dg_group_of(e);
        if ((int)g != last) {
            char heading[DG_HEADING_SIZE];
            json_t *h =
                rich(NULL, dg_group_heading(n, g, heading, sizeof(heading)), group_color(g), true);
            if (h && json_object_set_new(h, "spacing", json_string("Large")) < 0) {
                json_decref(h);
                h = NULL;
            }
            add(body, &bad, h);
            last = (int)g;
        }
        add(body, &bad, entry_container(e, g));
        links |= e->link && *e->link;
    }
    if (links)
        add(body, &bad,
            json_pack("{s:s, s:s, s:s, s:b, s:b}", "type", "TextBlock", "text", dg_links_note,
                      "size", "Small", "isSubtle", 1, "wrap", 1));
    if (bad) {
        json_decref(body);
        return NULL;
    }
    json_t *card =
        json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "$schema",
                  "http://adaptivecards.io/schemas/adaptive-card.json", "type", "AdaptiveCard",
                  "version", "1.4", "msteams", "width", "Full", "body", body);
    if (card && lay->plan_url &&
        json_object_set_new(card, "actions",
                            json_pack("[{s:s, s:s, s:s}]", "type", "Action.OpenUrl", "title",
                                      "Open the action plan", "url", lay->plan_url)) < 0) {
        json_decref(card);
        return NULL;
    }
    if (!card)
        return NULL;
    return json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments", "contentType",
                     "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

static char *dump(json_t *env)
{
    char *s = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    return s;
}

/* FNV-1a, 64 bits, of n bytes of p onto h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

#define FNV_START UINT64_C(0xcbf29ce484222325)

/* h with string s (NULL as empty) and its end added. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* The fingerprint of a cut of notice n: the notice (its send time,
 * recipient and team) and each part's entries (action, stage, deadline),
 * part by part. Never 0. */
static uint64_t cut_print(const struct tkl_notice *n, const size_t *order, const size_t *cut,
                          size_t parts)
{
    uint64_t h = fnv(FNV_START, &n->due_at, sizeof(n->due_at));
    h = fnv_str(fnv_str(h, n->recipient), n->team_id);
    for (size_t i = 0; i < parts; i++) {
        for (size_t k = cut[i]; k < cut[i + 1]; k++) {
            const struct tkl_notice_entry *e = &n->entries[order[k]];
            h = fnv_str(h, e->item_id);
            h = fnv(h, &e->stage, sizeof(e->stage));
            h = fnv(h, &e->deadline_day, sizeof(e->deadline_day));
        }
        h = fnv(h, "\xff", 1);
    }
    return h ? h : 1;
}

/*
 * The cards of notice n as compact JSON, each at most lay->card_max bytes:
 * as many entries per card as fit, in display order. Returns the number of
 * parts (at least 1) with *ret a new array of new strings and *ret_print
 * the cut's fingerprint (cut_print), or -ENOMEM.
 */
static int envelopes(const struct layout *lay, const struct tkl_notice *n, char ***ret,
                     uint64_t *ret_print)
{
    size_t *order = display_order(n), *cut = NULL, parts = 0;
    char **out = NULL;
    int r = -ENOMEM;
    if (!order || !(cut = calloc(n->n_entries + 2, sizeof(*cut))))
        goto out;
    /* greedy split, measured with the widest part label that could occur */
    size_t from = 0;
    do {
        size_t to = from + 1;
        while (to < n->n_entries) {
            char *s = dump(envelope(lay, n, order, from, to + 1, 98, 99));
            if (!s)
                goto out;
            bool fits = strlen(s) <= lay->card_max;
            dg_secret_free(s);
            if (!fits)
                break;
            to++;
        }
        if (n->n_entries == 0)
            to = 0;
        cut[parts++] = from;
        from = to;
    } while (from < n->n_entries);
    cut[parts] = n->n_entries;
    if (!(out = calloc(parts + 1, sizeof(*out))))
        goto out;
    for (size_t i = 0; i < parts; i++)
        if (!(out[i] = dump(envelope(lay, n, order, cut[i], cut[i + 1], i, parts))))
            goto out;
    *ret = out;
    *ret_print = cut_print(n, order, cut, parts);
    out = NULL;
    r = (int)parts;
out:
    for (size_t i = 0; out && out[i]; i++)
        dg_secret_free(out[i]);
    free(out);
    free(cut);
    free(order);
    return r;
}

/* What is remembered of notice id's parts accepted earlier, or NULL. */
static const struct sent *sent_find(const struct teams *t, uint64_t id)
{
    for (size_t i = 0; i < t->n_sent; i++)
        if (t->sent[i].notice == id)
            return &t->sent[i];
    return NULL;
}

/* Remembers notice id's accepted parts (not 0), cut with layout lay, a
 * part accepted at at; when full, the memory whose last part was accepted
 * longest ago makes room. Returns what is remembered. */
static struct sent *remember(struct teams *t, uint64_t id, uint64_t parts, struct layout *lay,
                             uint64_t print, int64_t at)
{
    for (size_t i = 0; i < t->n_sent; i++)
        if (t->sent[i].notice == id) {
            t->parts_dirty |= t->sent[i].parts != parts;
            t->sent[i].parts = parts;
            t->sent[i].at = at;
            return &t->sent[i];
        }
    struct sent s = {
        .notice = id, .parts = parts, .layout = layout_ref(lay), .print = print, .at = at};
    t->parts_dirty = true;
    if (t->n_sent < REMEMBER_MAX) {
        t->sent[t->n_sent] = s;
        return &t->sent[t->n_sent++];
    }
    size_t i = 0; /* the one whose part was accepted longest ago */
    for (size_t k = 1; k < t->n_sent; k++)
        if (t->sent[k].at < t->sent[i].at)
            i = k;
    layout_unref(t->sent[i].layout);
    t->sent[i] = s;
    return &t->sent[i];
}

/* Forgets notice id's accepted parts; returns whether they were in the
 * parts file. */
static bool forget(struct teams *t, uint64_t id)
{
    for (size_t i = 0; i < t->n_sent; i++)
        if (t->sent[i].notice == id) {
            bool kept = t->sent[i].kept;
            t->parts_dirty |= kept;
            layout_unref(t->sent[i].layout);
            t->sent[i] = t->sent[--t->n_sent];
            return kept;
        }
    return false;
}

/* Logs a failure to keep the parts file (once until it works again). */
static void parts_warn(struct teams *t, int r)
{
    if (r == 0) {
        t->parts_warned = false;
    } else if (!t->parts_warned) {
        t->parts_warned = true;
        t->host->log(t->host, TKL_LOG_WARNING,
                     "cannot keep the parts of split cards accepted in %s (%s): after a restart "
                     "they would be posted again",
                     t->parts_file, strerror(-r));
    }
}

/* Syncs the directory of the parts file, so that its rename is durable. */
static int sync_dir(const struct teams *t)
{
    int fd = open(t->host->keep_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* The fingerprint of a plan URL (the URL may be a shared link's key: only
 * this is written), or 0 for none. */
static uint64_t url_print(const char *url)
{
    return url ? fnv(FNV_START, url, strlen(url)) | 1 : 0;
}

/* Orders remembered notices by when a part was last accepted. */
static int by_age(const void *a, const void *b)
{
    const struct sent *x = a, *y = b;
    return (x->at > y->at) - (x->at < y->at);
}

/* Writes the lines of v (n, oldest first) to a new file at tmp, synced.
 * Returns 0 or a negative errno (tmp may be left). */
static int write_parts(const char *tmp, const struct sent *v, size_t n)
{
    (void)unlink(tmp); /* a leftover, or something planted there */
    errno = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int r = -errno;
        close(fd);
        return r;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%" PRIu64 " %" PRIx64 " %zu %" PRIx64 " %" PRIx64 " %" PRId64 "\n", v[i].notice,
                v[i].parts, v[i].layout->card_max, url_print(v[i].layout->plan_url), v[i].print,
                v[i].at);
    int r = fflush(f) != 0 || ferror(f) ? -(errno ? errno : EIO) : 0;
    if (r == 0 && fsync(fileno(f)) < 0)
        r = -errno;
    if (fclose(f) != 0 && r == 0)
        r = -errno;
    return r;
}

/* Writes what is remembered to the parts file, whole: a new file synced,
 * then renamed over the old one (which goes once nothing is remembered). */
static void save_parts(struct teams *t)
{
    if (!t->parts_file || !t->parts_dirty)
        return;
    int r = 0;
    if (t->n_sent == 0) {
        r = unlink(t->parts_file) < 0 && errno != ENOENT ? -errno : 0;
        t->parts_dirty = r < 0;
        parts_warn(t, r < 0 ? r : sync_dir(t));
        return;
    }
    struct sent *v = malloc(t->n_sent * sizeof(*v)); /* copies: no reference taken */
    if (!v) {
        parts_warn(t, -ENOMEM);
        return;
    }
    memcpy(v, t->sent, t->n_sent * sizeof(*v));
    qsort(v, t->n_sent, sizeof(*v), by_age);
    r = write_parts(t->parts_new, v, t->n_sent);
    if (r == 0 && rename(t->parts_new, t->parts_file) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(t->parts_new);
    for (size_t i = 0; r == 0 && i < t->n_sent; i++)
        t->sent[i].kept = true; /* in the file, if not yet durably */
    t->parts_dirty = r < 0;
    if (r == 0)
        r = sync_dir(t);
    free(v);
    parts_warn(t, r);
}

/* The number in base at *p, followed by one space or, when last, the line's
 * end (*p then points past it); false when there is none. */
static bool field(char **p, int base, bool last, unsigned long long *ret)
{
    char *end = NULL;
    if (!((**p >= '0' && **p <= '9') || (**p >= 'a' && **p <= 'f')))
        return false;
    errno = 0;
    *ret = strtoull(*p, &end, base);
    if (errno || end == *p || *end != (last ? '\n' : ' '))
        return false;
    *p = end + 1;
    return true;
}

/* Reads one line of the parts file into memory: kept when it was cut with
 * the layout in force, within KEEP_SECONDS of now. Returns 1 (kept), 0
 * (left out: cut otherwise, or old) or -EINVAL (not such a line). */
static int load_line(struct teams *t, char *line, int64_t now)
{
    unsigned long long id, parts, card_max, url, print, at;
    char *p = line;
    if (!field(&p, 10, false, &id) || !field(&p, 16, false, &parts) ||
        !field(&p, 10, false, &card_max) || !field(&p, 16, false, &url) ||
        !field(&p, 16, false, &print) || !field(&p, 10, true, &at) || *p || !id || !parts || !print)
        return -EINVAL;
    const struct layout *cur = t->layout;
    if (card_max != cur->card_max || url != url_print(cur->plan_url) ||
        (int64_t)at < now - KEEP_SECONDS)
        return 0;
    remember(t, (uint64_t)id, (uint64_t)parts, t->layout, (uint64_t)print, (int64_t)at)->kept =
        true;
    return 1;
}

/* Reads the parts file, if any, into memory. A line that is not one it
 * writes is logged and left out, and so, counted in one line, are those
 * cut with other settings or older than KEEP_SECONDS: those notices' parts
 * would all be posted again; the file is then written again without
 * them. */
static void load_parts(struct teams *t)
{
    if (!t->parts_file)
        return;
    (void)unlink(t->parts_new); /* a save a crash cut short */
    int fd = open(t->parts_file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
        errno = EINVAL; /* not a file this plugin wrote */
    }
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (errno != ENOENT)
            t->host->log(t->host, TKL_LOG_WARNING,
                         "cannot read %s (%s): parts of split cards accepted before the "
                         "restart may be posted again",
                         t->parts_file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned no = 0, left_out = 0, other = 0;
    int64_t now = t->host->now(t->host);
    while (getline(&line, &cap, f) >= 0 && t->n_sent < REMEMBER_MAX) {
        no++;
        int r = load_line(t, line, now);
        left_out += r != 1;
        other += r == 0;
        if (r == -EINVAL)
            t->host->log(t->host, TKL_LOG_WARNING,
                         "%s line %u: expected a notice id, the parts accepted, the card's byte "
                         "limit, the plan URL's and the cut's fingerprints and a time; line left "
                         "out, so that notice's parts may be posted again",
                         t->parts_file, no);
    }
    if (ferror(f))
        t->host->log(t->host, TKL_LOG_WARNING,
                     "cannot read %s past line %u (%s): parts of split cards accepted before "
                     "the restart may be posted again",
                     t->parts_file, no, strerror(errno));
    free(line);
    (void)fclose(f);
    if (other)
        t->host->log(t->host, TKL_LOG_NOTICE,
                     "%s: %u notice(s) cut with other card settings or kept for over 30 days are "
                     "left out; their parts are all posted at their next attempt",
                     t->parts_file, other);
    t->parts_dirty = left_out > 0;
    save_parts(t); /* without what was left out */
}

/* ---- posting, within the rate budget ------------------------------------ */

static void pump(struct teams *t);

static void unlink_from(struct post **list, struct post *p)
{
    for (struct post **q = list; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

/* Rank of a status: the worst outcome of the parts is the notice's. */
static int rank(enum tkl_delivery_status s)
{
    return s == TKL_DELIVERY_PERMANENT ? 2 : s == TKL_DELIVERY_TRANSIENT ? 1 : 0;
}

/* Records one part's outcome; the last part completes the notice. */
static void finish(struct post *p, const struct tkl_delivery *res)
{
    struct job *j = p->job;
    struct teams *t = j->t;
    if (res->status == TKL_DELIVERY_OK && p->part < 64 && j->parts > 1) {
        const struct sent *s = sent_find(t, j->notice);
        remember(t, j->notice, (s ? s->parts : 0) | (uint64_t)1 << p->part, j->layout, j->print,
                 t->host->now(t->host));
    }
    /* the reply kept is the first of the worst outcome */
    if (!j->reply[0] || rank(res->status) > rank(j->worst))
        snprintf(j->reply, sizeof(j->reply), "%s%s", res->reply ? res->reply : "",
                 j->parts > 1 && res->status != TKL_DELIVERY_OK ? " (one part of the card)" : "");
    if (rank(res->status) > rank(j->worst))
        j->worst = res->status;
    if (res->retry_after > j->retry_after)
        j->retry_after = res->retry_after;
    dg_secret_free(p->body); /* it may hold the recipient's links */
    free(p);
    if (--j->pending > 0)
        return;
    /* delivered whole, the memory goes; failed, for now or for good, with
     * parts accepted, it is kept across a restart: the next attempt, or a
     * tickler retry after a failure for good, posts only the others */
    if (j->worst == TKL_DELIVERY_OK) {
        if (forget(t, j->notice))
            save_parts(t);
    } else if (sent_find(t, j->notice)) {
        save_parts(t);
    }
    char reply[sizeof(j->reply)];
    memcpy(reply, j->reply, sizeof(reply));
    struct tkl_delivery out = {
        .size = sizeof(out), .status = j->worst, .reply = reply, .retry_after = j->retry_after};
    tkl_deliver_done_fn done = j->done;
    void *done_data = j->done_data;
    layout_unref(j->layout);
    dg_secrets_free(j->tokens);
    free(j);
    done(done_data, &out);
}

static void on_posted(void *data, const struct tkl_delivery *res)
{
    struct post *p = data;
    struct teams *t = p->job->t;
    unlink_from(&t->running, p);
    if (res->status == TKL_DELIVERY_TRANSIENT && res->retry_after > 0 && p->dest != NO_DEST) {
        uint64_t until = uv_now(t->host->loop) + (uint64_t)res->retry_after * 1000;
        size_t slot = t->slot[p->dest];
        if (until > t->not_before[slot])
            t->not_before[slot] = until; /* the webhook asked us to wait */
    }
    finish(p, res);
    pump(t);
}

static void on_timer(uv_timer_t *timer)
{
    pump(timer->data);
}

/* Starts every queued post whose webhook may take one now, oldest first,
 * and arms the timer for the next. */
static void pump(struct teams *t)
{
    uint64_t now = uv_now(t->host->loop), next = UINT64_MAX;
    while (t->done_early) {
        struct post *p = t->done_early;
        t->done_early = p->next;
        struct tkl_delivery ok = {.size = sizeof(ok),
                                  .status = TKL_DELIVERY_OK,
                                  .reply = "every part was accepted before"};
        finish(p, &ok);
    }
    struct post **q = &t->queue;
    while (*q && !t->stopped) {
        struct post *p = *q;
        if (p->dest == NO_DEST) {
            struct tkl_delivery gone = {.size = sizeof(gone),
                                        .status = TKL_DELIVERY_PERMANENT,
                                        .reply = "its destination was removed from the settings"};
            *q = p->next;
            finish(p, &gone);
            continue;
        }
        size_t slot = t->slot[p->dest];
        if (t->not_before[slot] > now) {
            if (t->not_before[slot] < next)
                next = t->not_before[slot];
            q = &p->next;
            continue;
        }
        *q = p->next;
        t->not_before[slot] = now + t->interval_ms;
        struct hp_request req = {.dest = &t->dests[p->dest],
                                 .body = p->body,
                                 .timeout_s = t->timeout_s,
                                 .ca_file = t->ca_file,
                                 .keep_out = p->job->tokens,
                                 .pool = &t->pool};
        char part[64];
        const char *headers[] = {part, NULL};
        snprintf(part, sizeof(part), "X-Tickler-Notice: %llu/%zu",
                 (unsigned long long)p->job->notice, p->part + 1);
        req.headers = headers;
        int r = hp_post_start(t->host, &req, on_posted, p, &p->http);
        if (r < 0) {
            char reply[128];
            snprintf(reply, sizeof(reply), "cannot start the post: %s", strerror(-r));
            struct tkl_delivery res = {
                .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = reply};
            finish(p, &res);
            continue;
        }
        dg_secret_free(p->body);
        p->body = NULL;
        p->next = t->running;
        t->running = p;
    }
    if (next != UINT64_MAX && t->timer_open)
        uv_timer_start(&t->timer, on_timer, next - now, 0);
}

/* Queues job j, whose every part was accepted before, to be reported as
 * delivered from the loop. Returns 0 or -ENOMEM. */
static int queue_done_early(struct teams *t, struct job *j)
{
    struct post *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    *p = (struct post){.job = j, .part = 64, .dest = NO_DEST}; /* posts nothing */
    j->pending = 1;
    p->next = t->done_early;
    t->done_early = p;
    uv_timer_start(&t->timer, on_timer, 0, 0);
    return 0;
}

/* Frees a list of posts that were never started. */
static void free_posts(struct post *p)
{
    while (p) {
        struct post *x = p;
        p = x->next;
        dg_secret_free(x->body);
        free(x);
    }
}

/* Wipes and frees bodies[from..parts) and the array. */
static void free_bodies(char **bodies, int from, int parts)
{
    for (int i = from; i < parts; i++)
        dg_secret_free(bodies[i]);
    free(bodies);
}

static int tm_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                      void *done_data)
{
    struct teams *t = state;
    if (t->stopped || !t->timer_open)
        return -ESHUTDOWN;
    const struct hp_dest *d = hp_dest_find(t->dests, t->n_dests, n->recipient);
    if (!d) {
        char why[512];
        hp_dest_check(t->dests, t->n_dests, n->recipient, why, sizeof(why));
        t->host->log(t->host, TKL_LOG_ERR, "%s", why);
        return -EINVAL;
    }
    /* a notice with parts accepted by an earlier attempt is cut as it was
     * then, and those parts are not sent again, unless the cut is not the
     * same (a memory from the parts file: another build, an outbox id used
     * again): then every part goes */
    const struct sent *s = sent_find(t, n->id);
    struct layout *lay = s ? s->layout : t->layout;
    uint64_t already = s ? s->parts : 0, print = 0;
    char **bodies = NULL;
    int parts = envelopes(lay, n, &bodies, &print);
    if (parts < 0)
        return parts;
    print = fnv_str(print, d->url) | 1; /* the webhook too: another channel gets every part */
    if (s && s->print != print) {
        t->host->log(t->host, TKL_LOG_NOTICE,
                     "notice %" PRIu64 " is not cut as it was when parts of it were accepted; "
                     "every part is posted",
                     n->id);
        free_bodies(bodies, 0, parts);
        already = 0;
        lay = t->layout; /* s and its layout go with it */
        if (forget(t, n->id))
            save_parts(t);
        if ((parts = envelopes(lay, n, &bodies, &print)) < 0)
            return parts;
        print = fnv_str(print, d->url) | 1;
    }
    struct job *j = calloc(1, sizeof(*j));
    char **tokens = NULL;
    if (!j || dg_link_tokens(n, &tokens) < 0) {
        free(j);
        free_bodies(bodies, 0, parts);
        return -ENOMEM;
    }
    *j = (struct job){.t = t,
                      .notice = n->id,
                      .print = print,
                      .parts = (size_t)parts,
                      .tokens = tokens,
                      .done = done,
                      .done_data = done_data};
    struct post *first = NULL, **tail = &first;
    for (int i = 0; i < parts; i++) {
        if (i < 64 && (already & (uint64_t)1 << i)) {
            dg_secret_free(bodies[i]);
            continue;
        }
        struct post *p = calloc(1, sizeof(*p));
        if (!p) {
            free_posts(first);
            free_bodies(bodies, i, parts);
            dg_secrets_free(j->tokens);
            free(j);
            return -ENOMEM;
        }
        *p = (struct post){
            .job = j, .part = (size_t)i, .dest = (size_t)(d - t->dests), .body = bodies[i]};
        *tail = p;
        tail = &p->next;
        j->pending++;
    }
    free(bodies);
    j->layout = layout_ref(lay);
    if (j->pending == 0) { /* every part went before; report success later */
        if (queue_done_early(t, j) < 0) {
            layout_unref(j->layout);
            dg_secrets_free(j->tokens);
            free(j);
            return -ENOMEM;
        }
        return 0;
    }
    /* queued at the tail; started from the loop, never inside deliver() */
    struct post **q = &t->queue;
    while (*q)
        q = &(*q)->next;
    *q = first;
    uv_timer_start(&t->timer, on_timer, 0, 0);
    return 0;
}

/* A recipient names one of the configured webhooks. */
static int tm_check_recipient(void *state, const char *recipient, char *why, size_t why_size)
{
    const struct teams *t = state;
    return hp_dest_check(t->dests, t->n_dests, recipient, why, why_size);
}

/* The index in f's destinations of the one named as t's destination i, or
 * NO_DEST. */
static size_t dest_in(const struct teams *f, const struct teams *t, size_t i)
{
    const struct hp_dest *d =
        i == NO_DEST ? NULL : hp_dest_find(f->dests, f->n_dests, t->dests[i].name);
    return d ? (size_t)(d - f->dests) : NO_DEST;
}

/*
 * Takes over fresh's webhooks, timeout, CA file, rate and layout, while
 * what runs stays: the rate budget (per webhook URL: a URL both lists hold
 * keeps its next allowed post), the parts accepted (each remembered notice
 * keeps the layout it was cut with), and the posts queued and running
 * (moved to the webhook of the same name; a queued post whose name is gone
 * fails for good, from the loop).
 */
static void tm_reconfigure(void *state, void *fresh)
{
    struct teams *t = state, *f = fresh;
    for (size_t i = 0; i < f->n_dests; i++)
        for (size_t k = 0; k < t->n_dests; k++)
            if (!strcmp(f->dests[i].url, t->dests[k].url)) {
                uint64_t *nb = &f->not_before[f->slot[i]], old = t->not_before[t->slot[k]];
                *nb = old > *nb ? old : *nb;
                break;
            }
    for (struct post *p = t->queue; p; p = p->next)
        p->dest = dest_in(f, t, p->dest);
    for (struct post *p = t->running; p; p = p->next)
        p->dest = dest_in(f, t, p->dest);
    LC_SWAP(t->dests, f->dests);
    LC_SWAP(t->n_dests, f->n_dests);
    LC_SWAP(t->slot, f->slot);
    LC_SWAP(t->not_before, f->not_before);
    LC_SWAP(t->timeout_s, f->timeout_s);
    LC_SWAP(t->ca_file, f->ca_file);
    LC_SWAP(t->layout, f->layout);
    LC_SWAP(t->interval_ms, f->interval_ms);
    if (t->queue && t->timer_open)
        uv_timer_start(&t->timer, on_timer, 0, 0);
}

static void tm_stop(void *state)
{
    struct teams *t = state;
    struct tkl_delivery res = {
        .size = sizeof(res), .status = TKL_DELIVERY_TRANSIENT, .reply = "shutting down"};
    t->stopped = true;
    while (t->running) {
        struct post *p = t->running;
        t->running = p->next;
        hp_post_cancel(t->host, p->http);
        finish(p, &res);
    }
    while (t->queue) {
        struct post *p = t->queue;
        t->queue = p->next;
        finish(p, &res);
    }
    while (t->done_early) {
        struct post *p = t->done_early;
        t->done_early = p->next;
        struct tkl_delivery ok = {.size = sizeof(ok),
                                  .status = TKL_DELIVERY_OK,
                                  .reply = "every part was accepted before"};
        finish(p, &ok);
    }
    if (t->timer_open && !uv_is_closing((uv_handle_t *)&t->timer))
        lc_close(t->host, (uv_handle_t *)&t->timer, on_timer_closed);
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "teams",
    .description = "posts notices to Microsoft Teams channels as Adaptive Cards (Workflows)",
    .kind = TKL_PLUGIN_NOTIFIER,
    .init = tm_init,
    .start = tm_start,
    .deliver = tm_deliver,
    .stop = tm_stop,
    .destroy = tm_destroy,
    .check_recipient = tm_check_recipient,
    .reconfigure = tm_reconfigure,
};

TICKLER_PLUGIN_ENTRY(descriptor)
