#include "delivery.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/day.h"
#include "../core/log.h"
#include "../core/text.h"
#include "../metrics/metrics.h"

#define CLAIM_MAX     64  /* notices read from the outbox per channel and round */
#define UNSERVED_WAIT 300 /* seconds a notice no notifier here serves waits at a time */

/* OUT_RELEASE: claimed (marked sending) but never handed to its notifier;
 * OUT_WITHDRAWN: claimed, completed meanwhile, never to be handed out;
 * OUT_WAIT: claimed, no notifier here serves its channel, looked at
 * again later (no attempt counted) */
enum outcome { OUT_DELIVERED, OUT_RETRY, OUT_FAILED, OUT_RELEASE, OUT_WITHDRAWN, OUT_WAIT };

/* One notice handed to a notifier, then, if the outbox refused its
 * outcome, that outcome until it is recorded. */
struct tkl_flight {
    struct tkl_deliverer *e;
    struct tkl_plugin_instance *plugin; /* NULL once reported */
    struct tkl_stored_notice *s;
    enum outcome out;
    int64_t at; /* delivered or failed: when; retry: the next attempt */
    char *reply;
    uint64_t handed_ns;              /* uv_hrtime() when handed to the notifier */
    bool unusable;                   /* deliver() refused the recipient (-EINVAL) */
    bool was_kept;                   /* its outcome was refused once, then written again */
    enum tkl_fail_reason reason;     /* failed: why */
    char **links;                    /* per entry of the notice, its link or NULL; NULL: none */
    struct tkl_notice_entry *linked; /* claimed: the entries with the links, for deliver() */
    struct tkl_flight *next;
};

/* A channel no notifier serves: its notices seen waiting since the
 * configuration was set (more: a claim of it came back full, so there may
 * be more), and whether that was warned of. */
struct tkl_unserved {
    struct tkl_unserved *next;
    size_t seen;
    bool more, warned;
    char channel[];
};

static int64_t now_s(const struct tkl_deliverer *e)
{
    return e->host.now_ms(e->host.data) / 1000;
}

static struct tkl_plugin_instance *notifier_for(const struct tkl_deliverer *e, const char *channel);
static void ask_round(struct tkl_deliverer *e);

/* A channel whose notifier was renamed or removed (gone), or came back,
 * its notices waiting for a retry made due at once: the former's to be
 * warned of by the round that claims them, the latter's to be sent. */
struct comeback {
    struct tkl_deliverer *e;
    bool gone;
    char channel[];
};

static void on_came_back(void *data, int r, int64_t n)
{
    struct comeback *c = data;
    if (r == -ECANCELED || r == -ESHUTDOWN)
        log_debug("notifier %s: its notices waiting for a retry are left to their next attempt",
                  c->channel);
    else if (r < 0)
        log_error("notifier %s is %s, but its notices waiting for a retry could not be made due "
                  "(%s); each is looked at at its next attempt",
                  c->channel, c->gone ? "no longer configured" : "configured again", strerror(-r));
    else if (n > 0 && !c->gone)
        log_notice("notifier %s is configured again: the %" PRId64 " notice%s that waited for it "
                   "%s due now",
                   c->channel, n, tkl_plural((size_t)n), n == 1 ? "is" : "are");
    if (r == 0 && n > 0)
        ask_round(c->e);
    free(c);
}

/* Whether name is one of the n of v. */
static bool named_in(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return true;
    return false;
}

static void hasten_but_waits(struct tkl_deliverer *e, const char *channel, int64_t now,
                             tkl_state_value_cb cb, void *data);

/*
 * Makes the notices of channel waiting for a retry due now (gone: its
 * notifier left the configuration; else it came into it), but for those
 * a server asked to wait (Retry-After). On a state shared by nodes, the
 * notices of every node for that name.
 */
static void hasten_renamed(struct tkl_deliverer *e, const char *channel, bool gone)
{
    int64_t now = now_s(e);
    if (now < e->waits_lost_until)
        return; /* each goes at its next attempt */
    size_t len = strlen(channel) + 1;
    struct comeback *c = malloc(sizeof(*c) + len);
    if (!c)
        return;
    c->e = e;
    c->gone = gone;
    memcpy(c->channel, channel, len);
    hasten_but_waits(e, channel, now, on_came_back, c);
}

/* Forgets the channels no notifier served, and which were warned of. */
static void unserved_free(struct tkl_deliverer *e)
{
    while (e->unserved) {
        struct tkl_unserved *u = e->unserved;
        e->unserved = u->next;
        free(u);
    }
}

static void names_free(struct tkl_deliverer *e)
{
    tkl_strv_free(e->names, e->n_names);
    e->names = NULL;
    e->n_names = 0;
}

/* Compares the notifiers now set with those of the configuration before
 * (a reload): the notices waiting for a retry of each notifier that left
 * it, and of each that came into it, are made due now, so that the round
 * warns of the former's (they wait for a notifier of their name) and the
 * latter's go at once. Then keeps the names now set, and forgets which
 * channels were warned of, so that a reload warns again. */
static void notifiers_changed(struct tkl_deliverer *e)
{
    char **now = calloc(e->n_notifiers ? e->n_notifiers : 1, sizeof(*now));
    size_t n = 0;
    for (; now && n < e->n_notifiers; n++)
        if (!(now[n] = strdup(e->notifiers[n]->instance)))
            break;
    bool complete = now && n == e->n_notifiers;
    if (e->state && e->names && complete) {
        for (size_t i = 0; i < e->n_names; i++)
            if (!named_in(now, n, e->names[i]))
                hasten_renamed(e, e->names[i], true);
        for (size_t i = 0; i < n; i++)
            if (!named_in(e->names, e->n_names, now[i]))
                hasten_renamed(e, now[i], false);
    }
    names_free(e);
    if (complete) {
        e->names = now;
        e->n_names = n;
    } else { /* out of memory: no comparison at the next reload */
        tkl_strv_free(now, n);
    }
    unserved_free(e);
}

void tkl_delivery_set(struct tkl_deliverer *e, const struct tkl_delivery_conf *conf,
                      const struct tkl_team_dir *teams,
                      struct tkl_plugin_instance *const *notifiers, size_t n_notifiers)
{
    e->conf = conf;
    e->teams = teams;
    e->notifiers = notifiers;
    e->n_notifiers = n_notifiers;
    for (size_t i = 0; i < n_notifiers; i++)
        (void)tkl_metrics_channel(e->metrics, notifiers[i]->instance); /* a lost series only */
    notifiers_changed(e);
}

void tkl_delivery_set_links(struct tkl_deliverer *e, const struct tkl_token_ring *ring,
                            const char *public_url, int expiry_days)
{
    e->links = ring;
    e->link_base = public_url;
    e->link_days = expiry_days;
}

void tkl_delivery_set_calendar(struct tkl_deliverer *e, const char *title)
{
    e->calendar_title = title;
}

int64_t tkl_delivery_backoff(int first, int attempts, int32_t retry_after)
{
    int64_t base = first;
    for (int i = 1; i < attempts && base < 3600; i++)
        base *= 2;
    if (base > 3600)
        base = 3600;
    base += rand() % (base / 4 + 1);
    return retry_after > base ? retry_after : base;
}

static struct tkl_plugin_instance *notifier_for(const struct tkl_deliverer *e, const char *channel)
{
    for (size_t i = 0; i < e->n_notifiers; i++)
        if (strcmp(e->notifiers[i]->instance, channel) == 0)
            return e->notifiers[i];
    return NULL;
}

/* Deliveries of channel in flight or about to be: what occupies its
 * notifier. */
static unsigned busy_on(const struct tkl_deliverer *e, const char *channel)
{
    const struct tkl_flight *lists[] = {e->flights, e->ready};
    unsigned n = 0;
    for (size_t i = 0; i < 2; i++)
        for (const struct tkl_flight *x = lists[i]; x; x = x->next)
            n += strcmp(x->s->notice.channel, channel) == 0;
    return n;
}

/* Whether notice id is in flight, about to be, or has an outcome kept to
 * record. (One whose outcome waits in the open group may be claimed: its
 * row says what the outcome says, and were the group undone, the claim
 * would be undone with it.) */
static bool claimed(const struct tkl_deliverer *e, uint64_t id)
{
    const struct tkl_flight *lists[] = {e->flights, e->unrecorded, e->ready};
    for (size_t i = 0; i < 3; i++)
        for (const struct tkl_flight *x = lists[i]; x; x = x->next)
            if (x->s->notice.id == id)
                return true;
    return false;
}

/* Wipes and frees the n links of v (NULL entries allowed); accepts NULL. */
static void links_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (v[i]) {
            explicit_bzero(v[i], strlen(v[i]));
            free(v[i]);
        }
    free(v);
}

static void flight_free(struct tkl_flight *x)
{
    links_free(x->links, x->s->notice.n_entries);
    free(x->linked);
    tkl_stored_notice_free(x->s);
    free(x->reply);
    free(x);
}

/* Whether reply repeats the token of one of x's links. */
static bool repeats_link(const struct tkl_flight *x, const char *reply)
{
    for (size_t i = 0; x->links && i < x->s->notice.n_entries; i++)
        if (x->links[i] && strstr(reply, strrchr(x->links[i], '/') + 1))
            return true;
    return false;
}

/* Whether notice s tells delivery.report_to something itself (a failure
 * report, an answer, a summary): its own failure is not reported. */
static bool is_report(const struct tkl_stored_notice *s)
{
    for (size_t i = 0; i < s->notice.n_entries; i++)
        if (s->entries[i].stage == TKL_STAGE_REPORT)
            return true;
    return false;
}

static void sweep_soon(struct tkl_deliverer *e);

/* x's outcome is durable: a failure to be reported asks for a sweep, a
 * withdrawal is counted, and the outcome is logged when it was kept from
 * before; x freed. */
static void durable(struct tkl_deliverer *e, struct tkl_flight *x)
{
    if (x->out == OUT_FAILED && !is_report(x->s))
        sweep_soon(e);
    if (x->out == OUT_WITHDRAWN)
        (void)tkl_metrics_withdrawn(e->metrics, x->s->notice.channel);
    if (x->was_kept)
        log_notice("recorded the outcome of notice %" PRIu64 " kept from before", x->s->notice.id);
    flight_free(x);
}

/* ---- the sweep: failures reported together -------------------------- */

#define SWEEP_MAX     2000 /* failures one report takes; a sweep right after takes the rest */
#define REPORT_GROUPS 20   /* lines (groups) a report lists; the rest are counted in one */

/* delivery.report_to's team, or NULL. */
static const struct tkl_team *report_team(const struct tkl_deliverer *e)
{
    return e->conf && e->conf->report_to ? tkl_team_find(e->teams, e->conf->report_to) : NULL;
}

/* Asks the host for a sweep in delivery.report_every_seconds: there are
 * failures to report (or a sweep to try again). Nothing without a team to
 * tell, nor once stopping (the next start sweeps). */
static void sweep_soon(struct tkl_deliverer *e)
{
    if (report_team(e) && e->host.sweep_in && !e->stopping)
        e->host.sweep_in(e->host.data, e->conf->report_every_seconds);
}

/* One group of a report: the failures of one channel and team. */
struct failure_group {
    const struct tkl_failure **v; /* into the sweep's sorted array */
    size_t n;
    size_t actions;
    size_t recipients;              /* distinct */
    const struct tkl_failure *last; /* the latest to fail */
};

static int cmp_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Failures by channel, team, recipient, id. */
static int by_group(const void *pa, const void *pb)
{
    const struct tkl_failure *a = *(const struct tkl_failure *const *)pa;
    const struct tkl_failure *b = *(const struct tkl_failure *const *)pb;
    int c = strcmp(a->channel, b->channel);
    if (!c)
        c = cmp_text(a->team_id, b->team_id);
    if (!c)
        c = cmp_text(a->team_name, b->team_name);
    if (!c)
        c = strcmp(a->recipient, b->recipient);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

static int by_id(const void *pa, const void *pb)
{
    const struct tkl_failure *a = *(const struct tkl_failure *const *)pa;
    const struct tkl_failure *b = *(const struct tkl_failure *const *)pb;
    return (a->id > b->id) - (a->id < b->id);
}

/* Groups by size, largest first; then as by_group. */
static int by_size(const void *pa, const void *pb)
{
    const struct failure_group *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n < b->n ? 1 : -1;
    return by_group(&a->v[0], &b->v[0]);
}

/* What a report is made of, freed with report_free. */
struct report {
    struct tkl_notice_entry *entries;
    size_t n_entries;
    char **texts; /* what the entries point at */
    size_t n_texts;
    char *intro;
    const char **keys;
    char (*key_buf)[TKL_FAILURE_KEY_MAX];
    size_t n_keys;
};

static void report_free(struct report *rp)
{
    for (size_t i = 0; i < rp->n_texts; i++)
        free(rp->texts[i]);
    free(rp->texts);
    free(rp->entries);
    free(rp->intro);
    free(rp->keys);
    free(rp->key_buf);
    *rp = (struct report){0};
}

/* A text of rp's, printf-made; NULL when out of memory. */
__attribute__((format(printf, 2, 3))) static const char *report_text(struct report *rp,
                                                                     const char *fmt, ...)
{
    char *t = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (r < 0)
        return NULL;
    rp->texts[rp->n_texts++] = t;
    return t;
}

/* The entry of group g: one failure as a report of it alone says it
 * (its notice, team, recipient and reply), or how many of the channel's
 * notices to the team failed, to how many recipients, with the reply the
 * latest of them got. Its title is a whole sentence, the reply apart (the
 * entry's progress): a report of one entry is titled by it. Returns 0 or
 * -ENOMEM. */
static int group_entry(struct report *rp, const struct failure_group *g,
                       struct tkl_notice_entry *en)
{
    const struct tkl_failure *f = g->last;
    const char *team = f->team_name ? f->team_name : "a team";
    const char *item, *title;
    if (g->n == 1) {
        item = report_text(rp, "notice-%" PRIu64, f->id);
        title =
            report_text(rp, "A reminder for %s (%zu action%s) could not be delivered to %s by %s",
                        team, f->n_entries, tkl_plural(f->n_entries), f->recipient, f->channel);
    } else {
        /* the ids of the first three, and how many more */
        char ids[96];
        size_t len = 0;
        for (size_t i = 0; i < g->n && i < 3; i++)
            len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%" PRIu64, i ? ", " : "",
                                    g->v[i]->id);
        if (g->n > 3)
            snprintf(ids + len, sizeof(ids) - len, " and %zu more", g->n - 3);
        item = report_text(rp, "notices %s", ids);
        if (g->recipients == 1)
            title = report_text(rp,
                                "%zu notices for %s (%zu actions) could not be delivered to %s by "
                                "%s",
                                g->n, team, g->actions, f->recipient, f->channel);
        else
            title = report_text(rp,
                                "%zu notices for %s (%zu actions) could not be delivered to %zu "
                                "recipients by %s",
                                g->n, team, g->actions, g->recipients, f->channel);
    }
    if (!item || !title)
        return -ENOMEM;
    *en = (struct tkl_notice_entry){
        .size = sizeof(*en),
        .item_id = item,
        .title = title,
        .owners = f->team_name,
        .status = "failed",
        .progress = f->last_error ? f->last_error : "",
        .deadline_day = TKL_NO_DAY,
        .kind = TKL_DEADLINE_UNDATED,
        .stage = TKL_STAGE_REPORT,
    };
    return 0;
}

/*
 * The report of the n failures of v: one entry per channel and team
 * (largest first, at most REPORT_GROUPS, the rest counted in the last),
 * an intro that counts them (none for one failure: its report is the one
 * a failure alone has always made), and their report keys. Returns 0 or
 * -ENOMEM (then nothing is kept).
 */
static int report_make(const struct tkl_failure *v, size_t n, struct report *rp)
{
    *rp = (struct report){0};
    // NOLINTNEXTLINE(bugprone-sizeof-expression): pointers
    const struct tkl_failure **sorted = calloc(n, sizeof(*sorted));
    struct failure_group *groups = calloc(n, sizeof(*groups));
    size_t n_groups = 0;
    int r = -ENOMEM;
    rp->keys = calloc(n, sizeof(*rp->keys));
    rp->key_buf = calloc(n, sizeof(*rp->key_buf));
    rp->entries = calloc(REPORT_GROUPS, sizeof(*rp->entries));
    rp->texts = calloc(2 * REPORT_GROUPS + 2, sizeof(*rp->texts));
    if (!sorted || !groups || !rp->keys || !rp->key_buf || !rp->entries || !rp->texts)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &v[i];
        rp->keys[i] = tkl_failure_key(v[i].id, v[i].created_at, rp->key_buf[i]);
    }
    rp->n_keys = n;
    qsort(sorted, n, sizeof(*sorted), by_group); // NOLINT(bugprone-sizeof-expression): pointers
    for (size_t i = 0; i < n; i++) {
        const struct tkl_failure *f = sorted[i];
        struct failure_group *g = n_groups ? &groups[n_groups - 1] : NULL;
        if (!g || strcmp(f->channel, g->v[0]->channel) != 0 ||
            cmp_text(f->team_id, g->v[0]->team_id) != 0 ||
            cmp_text(f->team_name, g->v[0]->team_name) != 0) {
            g = &groups[n_groups++];
            g->v = &sorted[i];
        }
        g->recipients += g->n == 0 || strcmp(f->recipient, g->v[g->n - 1]->recipient) != 0;
        g->n++;
        g->actions += f->n_entries;
        if (!g->last || f->finished_at > g->last->finished_at ||
            (f->finished_at == g->last->finished_at && f->id > g->last->id))
            g->last = f;
    }
    for (size_t i = 0; i < n_groups; i++) /* its recipients counted: listed by id */
        // NOLINTNEXTLINE(bugprone-sizeof-expression): pointers
        qsort(groups[i].v, groups[i].n, sizeof(*groups[i].v), by_id);
    qsort(groups, n_groups, sizeof(*groups), by_size);
    size_t shown = n_groups <= REPORT_GROUPS ? n_groups : REPORT_GROUPS - 1, rest = 0;
    for (size_t i = 0; i < shown; i++)
        if (group_entry(rp, &groups[i], &rp->entries[rp->n_entries++]) < 0)
            goto out;
    for (size_t i = shown; i < n_groups; i++)
        rest += groups[i].n;
    if (rest) {
        const char *title = report_text(rp,
                                        "and %zu more notices to %zu more teams or channels: "
                                        "tickler outbox --failed lists every one",
                                        rest, n_groups - shown);
        if (!title)
            goto out;
        rp->entries[rp->n_entries++] = (struct tkl_notice_entry){
            .size = sizeof(struct tkl_notice_entry),
            .item_id = "notices",
            .title = title,
            .status = "failed",
            .deadline_day = TKL_NO_DAY,
            .kind = TKL_DEADLINE_UNDATED,
            .stage = TKL_STAGE_REPORT,
        };
    }
    if (n > 1 && asprintf(&rp->intro,
                          "%zu notices could not be delivered; %s. tickler outbox --failed "
                          "lists them, tickler retry --failed sends them again.",
                          n,
                          n_groups > 1 ? "below by channel and team, each with the latest reply"
                                       : "the latest reply is below") < 0) {
        rp->intro = NULL;
        goto out;
    }
    r = 0;
out:
    free(sorted);
    free(groups);
    if (r < 0)
        report_free(rp);
    return r;
}

static void sweep_end(struct tkl_deliverer *e);

/* A report's put: queued (logged; its delivery asked for), or another
 * node's (or an earlier sweep's) report of some of its failures was
 * logged first (read again at once), or refused (tried again later). */
static void on_report_put(void *data, int r, uint64_t id)
{
    struct tkl_deliverer *e = data;
    const struct tkl_team *admin = report_team(e);
    if (r == -EEXIST) {
        log_info("some failures were reported meanwhile (by another node); the rest are read "
                 "again");
        e->sweep_again = true;
    } else if (r < 0) {
        if (!e->stopping)
            log_error("cannot queue the report of %zu failed notice%s to delivery.report_to: "
                      "%s; tried again in %d s",
                      e->sweep_n, tkl_plural(e->sweep_n), strerror(-r),
                      e->conf->report_every_seconds);
        sweep_soon(e);
    } else {
        log_notice("queued a report of %zu failed notice%s to delivery.report_to (%s, %zu "
                   "recipient%s); notice=%" PRIu64,
                   e->sweep_n, tkl_plural(e->sweep_n), e->conf->report_to,
                   admin ? admin->n_recipients : 0, tkl_plural(admin ? admin->n_recipients : 0),
                   id);
        e->sweep_again |= e->sweep_n == SWEEP_MAX; /* there may be more */
        if (!e->stopping)
            ask_round(e);
    }
    sweep_end(e);
}

/* Queues one report of the failures of l to each recipient of admin,
 * with their report keys (on_report_put). Returns 0 or a negative
 * errno. */
static int queue_report(struct tkl_deliverer *e, const struct tkl_team *admin,
                        const struct tkl_failures *l)
{
    struct report rp;
    int r = report_make(l->v, l->n, &rp);
    if (r < 0)
        return r;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): pointers
    const struct tkl_notice **reports = calloc(admin->n_recipients, sizeof(*reports));
    struct tkl_notice *notices = calloc(admin->n_recipients, sizeof(*notices));
    r = reports && notices ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < admin->n_recipients; i++) {
        notices[i] = (struct tkl_notice){
            .size = sizeof(notices[i]),
            .channel = admin->recipients[i].channel,
            .recipient = admin->recipients[i].address,
            .team_id = admin->id,
            .team_name = admin->name,
            .due_at = now_s(e),
            .entries = rp.entries,
            .n_entries = rp.n_entries,
            .intro = rp.intro,
        };
        reports[i] = &notices[i];
    }
    if (r == 0) {
        e->sweep_n = l->n;
        r = tkl_state_put_report(e->state, reports, admin->n_recipients, rp.keys, rp.n_keys,
                                 now_s(e), on_report_put, e);
    }
    free(notices);
    free(reports);
    report_free(&rp);
    return r;
}

/* The failures not reported yet: none (the sweep ends), or their report
 * queued. */
static void on_unreported(void *data, int r, struct tkl_failures *l)
{
    struct tkl_deliverer *e = data;
    const struct tkl_team *admin = report_team(e);
    if (r == 0 && (!l->n || !admin || !admin->n_recipients || e->stopping)) {
        sweep_end(e);
        return;
    }
    if (r == 0 && (r = queue_report(e, admin, l)) == 0)
        return;
    if (r != -ECANCELED && r != -ESHUTDOWN && !e->stopping)
        log_error("cannot report the failed notices to delivery.report_to: %s; tried again in "
                  "%d s",
                  strerror(-r), e->conf->report_every_seconds);
    sweep_soon(e);
    sweep_end(e);
}

/* The sweep is over; one asked for meanwhile starts, else a round is
 * asked for (its end tells the host, which waits for the sweep to end:
 * --oneshot). */
static void sweep_end(struct tkl_deliverer *e)
{
    e->sweeping = false;
    if (e->sweep_again) {
        e->sweep_again = false;
        (void)tkl_delivery_sweep(e);
    }
    if (!e->sweeping && !e->stopping)
        ask_round(e);
}

int tkl_delivery_sweep(struct tkl_deliverer *e)
{
    const struct tkl_team *admin = report_team(e);
    if (!e->state || !admin || !admin->n_recipients || e->stopping)
        return 0;
    if (e->sweeping) {
        e->sweep_again = true;
        return 0;
    }
    struct tkl_report_to *to = calloc(admin->n_recipients, sizeof(*to));
    int r = to ? 0 : -ENOMEM;
    for (size_t i = 0; to && i < admin->n_recipients; i++)
        to[i] = (struct tkl_report_to){admin->recipients[i].channel, admin->recipients[i].address};
    if (r == 0)
        r = tkl_state_unreported(e->state, to, admin->n_recipients, SWEEP_MAX, on_unreported, e);
    free(to);
    if (r < 0) {
        log_error("cannot read the failed notices to report to delivery.report_to: %s; tried "
                  "again in %d s",
                  strerror(-r), e->conf->report_every_seconds);
        sweep_soon(e);
        return r;
    }
    e->sweeping = true;
    return 0;
}

/* Asks the host for a round. While one runs, it is asked once that round
 * has ended (on_next): the host arms its timer at the instant round_done
 * gives, read before this request's work was made, which must not replace
 * the request. */
static void ask_round(struct tkl_deliverer *e)
{
    if (e->in_round)
        e->round_again = true;
    else
        e->host.kick(e->host.data);
}

/* Takes x out of list *p. */
static void unlink_flight(struct tkl_flight **p, const struct tkl_flight *x)
{
    for (; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            return;
        }
}

/* Keeps x to record its outcome again at the next round. */
static void keep(struct tkl_deliverer *e, struct tkl_flight *x)
{
    x->next = e->unrecorded;
    e->unrecorded = x;
}

/* The completion of x's outcome: durable (x freed), another node's now
 * (nothing recorded here), or its group undone (kept, recorded again). */
static void on_recorded(void *data, int r)
{
    struct tkl_flight *x = data;
    struct tkl_deliverer *e = x->e;
    unlink_flight(&e->written, x);
    x->next = NULL;
    if (r == 0) {
        e->record_failures = 0;
        durable(e, x);
    } else if (r == TKL_STATE_NOT_OURS) {
        log_notice("another node took notice %" PRIu64 " over; this node's outcome of it is "
                   "not recorded",
                   x->s->notice.id);
        flight_free(x);
    } else {
        /* once per refused group; while the state stays down, at the 1st,
         * 2nd, 4th... refusal in a row */
        unsigned n = e->unrecorded ? 0 : ++e->record_failures;
        if (n && (n & (n - 1)) == 0)
            log_error("the outbox could not commit (%s); the outcomes it held are kept and "
                      "recorded again at the next round",
                      strerror(-r));
        keep(e, x);
        ask_round(e);
    }
}

/* Writes x's outcome into the open group; x waits in written for its
 * completion. Returns 0 or a negative errno (x untouched). */
static int record(struct tkl_deliverer *e, struct tkl_flight *x)
{
    static const enum tkl_state_outcome what[] = {
        [OUT_DELIVERED] = TKL_STATE_DELIVERED, [OUT_RETRY] = TKL_STATE_RETRY,
        [OUT_FAILED] = TKL_STATE_FAILED,       [OUT_RELEASE] = TKL_STATE_RELEASE,
        [OUT_WITHDRAWN] = TKL_STATE_WITHDRAWN, [OUT_WAIT] = TKL_STATE_WAIT,
    };
    const char *reply = x->reply ? x->reply : "";
    int r = tkl_state_outcome(e->state, x->s->notice.id, what[x->out], x->at, reply, e->lease.node,
                              on_recorded, x);
    if (r < 0)
        return r;
    x->next = e->written;
    e->written = x;
    return 0;
}

/* Records x's outcome, or keeps x to record it at the next round.
 * Returns 0 or the state's negative errno (x kept). */
static int settle(struct tkl_deliverer *e, struct tkl_flight *x)
{
    int r = record(e, x);
    if (r == 0)
        return 0;
    log_error("cannot record the outcome of notice %" PRIu64 " in the outbox: %s; it is kept "
              "and recorded again at the next round",
              x->s->notice.id, strerror(-r));
    keep(e, x);
    return r;
}

/* Records the outcomes kept from before (into the open group), stopping
 * at the first refusal: each refusal can hold the loop for the busy
 * timeout. */
static void settle_kept(struct tkl_deliverer *e)
{
    struct tkl_flight *x = e->unrecorded, *kept = NULL;
    e->unrecorded = NULL;
    int r = 0;
    while (x) {
        struct tkl_flight *next = x->next;
        if (r == 0 && (r = record(e, x)) == 0) {
            x->was_kept = true;
        } else {
            x->next = kept;
            kept = x;
        }
        x = next;
    }
    while (kept) {
        struct tkl_flight *next = kept->next;
        keep(e, kept);
        kept = next;
    }
}

size_t tkl_delivery_settle(struct tkl_deliverer *e)
{
    if (!e->state)
        return 0; /* never started */
    settle_kept(e);
    (void)tkl_state_commit(e->state); /* a failure puts the outcomes back in unrecorded */
    size_t kept = 0;
    for (const struct tkl_flight *x = e->unrecorded; x; x = x->next)
        kept++;
    return kept;
}

static void fail_for_good(struct tkl_flight *x, enum tkl_fail_reason reason, const char *reply,
                          const char *why, int64_t now)
{
    const struct tkl_notice *n = &x->s->notice;
    log_error("delivery failed for good%s: %s; notice=%" PRIu64 " channel=%s recipient=%s", why,
              reply, n->id, n->channel, n->recipient);
    x->out = OUT_FAILED;
    x->reason = reason;
    x->at = now;
}

/* Counts x's outcome, when final, as one notification. */
static void count_outcome(const struct tkl_deliverer *e, const struct tkl_flight *x)
{
    const char *channel = x->s->notice.channel;
    if (x->out == OUT_DELIVERED)
        (void)tkl_metrics_delivered(e->metrics, channel);
    else if (x->out == OUT_FAILED)
        (void)tkl_metrics_failed(e->metrics, channel, x->reason);
}

static bool quiet_retry(struct tkl_deliverer *e, const struct tkl_flight *x);

/* Decides the outcome of a delivery the notifier reported as res. */
static void judge(struct tkl_deliverer *e, struct tkl_flight *x, const struct tkl_delivery *res,
                  bool cut)
{
    const struct tkl_notice *n = &x->s->notice;
    int64_t now_ms = e->host.now_ms(e->host.data), now = now_ms / 1000;
    int64_t max_age = (int64_t)e->conf->max_age_hours * 3600;
    enum tkl_delivery_status st = res ? res->status : TKL_DELIVERY_TRANSIENT;
    if (cut && st == TKL_DELIVERY_TRANSIENT) {
        /* cut short by its notifier's stop() (our own shutdown, or a
         * reload that replaced the notifier) once its drain ran out: stays
         * pending, due at once (at the next start) */
        x->out = OUT_RETRY;
        x->at = now;
        log_notice("delivery interrupted by %s; kept in the outbox; notice=%" PRIu64
                   " channel=%s recipient=%s",
                   e->stopping ? "shutdown" : "a reload", n->id, n->channel, n->recipient);
    } else if (st == TKL_DELIVERY_OK) {
        x->out = OUT_DELIVERED;
        x->at = now;
        char items[72];
        log_info("delivered notice: %s to %s; notice=%" PRIu64 " channel=%s team=%s recipient=%s",
                 tkl_notice_items(n, items), n->recipient, n->id, n->channel,
                 n->team_id ? n->team_id : "-", n->recipient);
    } else if (st == TKL_DELIVERY_TRANSIENT && now - x->s->created_at < max_age) {
        int64_t wait = tkl_delivery_backoff(e->conf->retry_min_seconds, x->s->attempts + 1,
                                            res ? res->retry_after : 0);
        /* rounded up, so the wait (a server's Retry-After) is never cut short */
        x->out = OUT_RETRY;
        x->at = (now_ms + wait * 1000 + 999) / 1000;
        if (e->stopping) { /* no retry in this run: say who sends it, from when */
            char from[32];
            log_warning("delivery failed while stopping (kept in the %s, retried from %s %s): "
                        "%s; notice=%" PRIu64 " channel=%s recipient=%s",
                        e->shared ? "shared outbox" : "outbox", tkl_format_instant(x->at, from),
                        e->shared ? "by a node that runs" : "at the next start",
                        x->reply ? x->reply : "", n->id, n->channel, n->recipient);
        } else /* once the channel is down (said once), at debug level until it delivers */
            tkl_log(quiet_retry(e, x) ? TKL_LOG_DEBUG : TKL_LOG_WARNING,
                    "delivery failed, will retry in %" PRId64 " s: %s; notice=%" PRIu64
                    " channel=%s recipient=%s",
                    x->at - now, x->reply ? x->reply : "", n->id, n->channel, n->recipient);
    } else if (st == TKL_DELIVERY_TRANSIENT) {
        fail_for_good(x, TKL_FAIL_EXPIRED, x->reply ? x->reply : "",
                      " (retried for the maximum age)", now);
    } else {
        fail_for_good(x, x->unusable ? TKL_FAIL_RECIPIENT : TKL_FAIL_PERMANENT,
                      x->reply ? x->reply : "", "", now);
    }
}

/* The most often a channel's notices are hastened: the longest backoff,
 * so that a destination down while others of its channel deliver (one
 * webhook of several, one mail domain greylisting) is tried no more often
 * than its backoff would have it. */
#define HASTEN_EVERY 3600

/* The least seconds between two lines that sum up the retries of a
 * channel down: one a burst of failures, a burst starting in less than
 * this after the last line joining the next line. */
#define SUMMARY_EVERY 60

struct tkl_channel_streak {
    struct tkl_channel_streak *next;
    unsigned failed;     /* transient failures in a row */
    unsigned quiet;      /* of them, retries logged at debug level (the channel down) */
    int64_t hastened_at; /* the last hastening asked, or 0 */
    /* the quiet retries not summed up yet: how many, the earliest next
     * attempt among them and the last one's reply (cut to fit); and when
     * the last summary was logged, or 0 */
    unsigned unsaid;
    int64_t unsaid_from;
    int64_t said_at;
    char unsaid_reply[160];
    char channel[];
};

/* The streak of channel; made (none failed yet) when make and it has none
 * (NULL when that fails: the channel goes untracked). */
static struct tkl_channel_streak *streak_of(struct tkl_deliverer *e, const char *channel, bool make)
{
    struct tkl_channel_streak *s = e->streaks;
    while (s && strcmp(s->channel, channel) != 0)
        s = s->next;
    if (s || !make)
        return s;
    size_t len = strlen(channel) + 1;
    if (!(s = calloc(1, sizeof(*s) + len)))
        return NULL;
    memcpy(s->channel, channel, len);
    s->next = e->streaks;
    e->streaks = s;
    return s;
}

/* Whether transient failure x (its next attempt and reply set), about to
 * be counted, is logged at debug level: its channel is down already
 * (TKL_DELIVERY_DOWN_AFTER failures in a row, said once), so each further
 * retry would only repeat that; counted, summed up once its burst is over
 * (say_unsaid) and said when it delivers again. */
static bool quiet_retry(struct tkl_deliverer *e, const struct tkl_flight *x)
{
    struct tkl_channel_streak *s = streak_of(e, x->s->notice.channel, false);
    if (!s || s->failed < TKL_DELIVERY_DOWN_AFTER)
        return false;
    s->quiet++;
    if (!s->unsaid++ || x->at < s->unsaid_from)
        s->unsaid_from = x->at;
    const char *reply = x->reply ? x->reply : "";
    snprintf(s->unsaid_reply, sizeof(s->unsaid_reply), "%.*s",
             (int)tkl_utf8_prefix(reply, sizeof(s->unsaid_reply) - 1), reply);
    return true;
}

/* Sums up s's quiet retries not said yet in one line: failed deliveries
 * (attempts, as the line that it delivers again counts them), a notice
 * retried twice counting twice; when stopping, who retries them (shared:
 * the state is shared by nodes). */
static void say_streak(struct tkl_channel_streak *s, int64_t now, bool stopping, bool shared)
{
    char from[32];
    log_warning("notifier %s is still down: %u more deliver%s failed (the last: %s), %s %s%s",
                s->channel, s->unsaid, s->unsaid == 1 ? "y" : "ies", s->unsaid_reply,
                !stopping ? "retrying from"
                : shared  ? "kept in the shared outbox, retried from"
                          : "kept in the outbox, retried from",
                tkl_format_instant(s->unsaid_from, from),
                !stopping ? ""
                : shared  ? " by a node that runs"
                          : " once ticklerd runs again");
    s->unsaid = 0;
    s->said_at = now;
}

/* Sums up, a line each, the quiet retries of every channel down whose
 * burst of deliveries is over (none in flight), at most once in
 * SUMMARY_EVERY a channel; those of a burst sooner join the next line. */
static void say_unsaid(struct tkl_deliverer *e, int64_t now)
{
    for (struct tkl_channel_streak *s = e->streaks; s; s = s->next)
        if (s->unsaid && !busy_on(e, s->channel) &&
            (!s->said_at || now - s->said_at >= SUMMARY_EVERY))
            say_streak(s, now, false, e->shared);
}

/* A hastening asked when a channel delivered again. */
struct hastening {
    struct tkl_deliverer *e;
    unsigned failed;
    unsigned quiet; /* retries logged at debug level meanwhile */
    char channel[];
};

static void on_hastened(void *data, int r, int64_t n)
{
    struct hastening *h = data;
    if (r == -ECANCELED || r == -ESHUTDOWN) /* the state closing: nothing lost */
        log_debug("notifier %s: hastening its notices cut short by the stop", h->channel);
    else if (r < 0)
        log_error("notifier %s delivers again, but its notices waiting for a retry could not be "
                  "made due (%s); each goes at its own next attempt",
                  h->channel, strerror(-r));
    else if (n > 0)
        log_notice("notifier %s delivers again, after %u failed deliveries in a row; the %" PRId64
                   " notice%s waiting for a retry %s due now (%u retr%s logged at debug level "
                   "while it was down)",
                   h->channel, h->failed, n, tkl_plural((size_t)n), n == 1 ? "is" : "are", h->quiet,
                   h->quiet == 1 ? "y" : "ies");
    else
        log_notice("notifier %s delivers again, after %u failed deliveries in a row (%u retr%s "
                   "logged at debug level while it was down)",
                   h->channel, h->failed, h->quiet, h->quiet == 1 ? "y" : "ies");
    if (r == 0 && n > 0)
        ask_round(h->e);
    free(h);
}

/* Keeps, until its next attempt, that a server asked notice id to wait
 * (Retry-After), and forgets the waits that are over at now. */
static void keep_wait(struct tkl_deliverer *e, uint64_t id, int64_t until, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_waits; i++)
        if (e->waits[i].until > now && e->waits[i].id != id)
            e->waits[n++] = e->waits[i];
    e->n_waits = n;
    if (!id)
        return;
    struct tkl_server_wait *v = realloc(e->waits, (n + 1) * sizeof(*v));
    if (!v) { /* unkept: no hastening while it may wait */
        if (until > e->waits_lost_until)
            e->waits_lost_until = until;
        return;
    }
    e->waits = v;
    e->waits[e->n_waits++] = (struct tkl_server_wait){id, until};
}

/* Makes the notices of channel waiting for a retry due at now
 * (tkl_state_hasten), but those a server asked to wait (Retry-After)
 * that still wait; cb is told, with its error when it cannot be asked. */
static void hasten_but_waits(struct tkl_deliverer *e, const char *channel, int64_t now,
                             tkl_state_value_cb cb, void *data)
{
    keep_wait(e, 0, 0, now);
    uint64_t *keep = e->n_waits ? calloc(e->n_waits, sizeof(*keep)) : NULL;
    int r = e->n_waits && !keep ? -ENOMEM : 0;
    for (size_t i = 0; keep && i < e->n_waits; i++)
        keep[i] = e->waits[i].id;
    if (r == 0)
        r = tkl_state_hasten(e->state, channel, now, keep, e->n_waits, cb, data);
    free(keep);
    if (r < 0)
        cb(data, r, 0);
}

/* Counts x's outcome in its channel's streak: the first delivery after
 * TKL_DELIVERY_DOWN_AFTER transient failures in a row (its server was
 * down, and answers again) makes the channel's notices waiting for a
 * retry due now, rather than each at the end of its backoff, at most once
 * in HASTEN_EVERY; but not one a server asked to wait (Retry-After: a
 * rate limit, which is no outage either, so not counted; kept by this
 * process alone). */
static void count_streak(struct tkl_deliverer *e, const struct tkl_flight *x,
                         const struct tkl_delivery *res, int64_t now)
{
    const char *channel = x->s->notice.channel;
    if (x->out == OUT_RETRY && res && res->retry_after > 0) {
        keep_wait(e, x->s->notice.id, x->at, now);
        return;
    }
    struct tkl_channel_streak *s = streak_of(e, channel, x->out == OUT_RETRY);
    if (!s)
        return;
    if (x->out == OUT_RETRY) {
        if (++s->failed == TKL_DELIVERY_DOWN_AFTER)
            log_warning("notifier %s: %u deliveries in a row failed, the last: %s; its notices "
                        "are retried with backoff, and made due at once when it delivers again; "
                        "until then their retries are logged at debug level, and summed up once "
                        "a burst of them is over (at most a line a minute)",
                        channel, s->failed, x->reply ? x->reply : "");
        return;
    }
    if (x->out != OUT_DELIVERED)
        return;
    unsigned failed = s->failed, quiet = s->quiet;
    s->failed = s->quiet = s->unsaid = 0; /* the line that it delivers again counts them */
    s->said_at = 0;
    if (failed < TKL_DELIVERY_DOWN_AFTER)
        return;
    if (now < e->waits_lost_until || (s->hastened_at && now - s->hastened_at < HASTEN_EVERY)) {
        log_notice("notifier %s delivers again, after %u failed deliveries in a row (%u "
                   "retr%s logged at debug level while it was down); its notices waiting for a "
                   "retry go at their next attempt (hastened less than an hour ago)",
                   channel, failed, quiet, quiet == 1 ? "y" : "ies");
        return;
    }
    s->hastened_at = now;
    size_t len = strlen(channel) + 1;
    struct hastening *h = malloc(sizeof(*h) + len);
    if (!h)
        return; /* each goes at its own next attempt */
    h->e = e;
    h->failed = failed;
    h->quiet = quiet;
    memcpy(h->channel, channel, len);
    hasten_but_waits(e, channel, now, on_hastened, h);
}

static void on_done(void *data, const struct tkl_delivery *res)
{
    struct tkl_flight *x = data;
    struct tkl_deliverer *e = x->e;
    for (struct tkl_flight **p = &e->flights; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    e->n_flights--;
    /* a delivery that ended by itself while its notifier drained is
     * judged as any other; one its stop() ended was cut short */
    bool cut = x->plugin && x->plugin->stopped;
    x->plugin = NULL;
    x->next = NULL;
    if (res && res->reply && repeats_link(x, res->reply))
        x->reply = strdup("the reply repeated a link of the notice, so it was not kept");
    else
        /* as the outbox keeps it, tickler status and outbox, the operator's
         * page and the failure reports read it, and the journal logs it */
        x->reply = tkl_text_reply_line(res && res->reply ? res->reply : "", TKL_REPLY_MAX);
    links_free(x->links, x->s->notice.n_entries); /* not needed after the delivery */
    x->links = NULL;
    (void)tkl_metrics_attempt_done(e->metrics, x->s->notice.channel,
                                   res && res->status == TKL_DELIVERY_OK,
                                   uv_hrtime() - x->handed_ns);
    judge(e, x, res, cut);
    count_outcome(e, x);
    if (!cut)
        count_streak(e, x, res, now_s(e));
    (void)settle(e, x); /* a refusal is logged and kept */
    ask_round(e);
    if (e->host.ended)
        e->host.ended(e->host.data);
}

/* A release told: only a refusal is logged. */
static void on_lost_released(void *data, int r)
{
    (void)data;
    if (r < 0)
        log_error("cannot clear the mark of a notice claimed: %s; it is sent at the next start",
                  strerror(-r));
}

/* Clears the `sending` mark of claimed notice s, for which nothing could
 * be made (out of memory), and frees s: it is due again at the next round,
 * or at the next start when not even the release can be queued. */
static void release_lost(struct tkl_deliverer *e, struct tkl_stored_notice *s)
{
    if (tkl_state_outcome(e->state, s->notice.id, TKL_STATE_RELEASE, 0, "", e->lease.node,
                          on_lost_released, NULL) < 0)
        log_error("out of memory; notice=%" PRIu64 " is sent at the next start", s->notice.id);
    else
        ask_round(e);
    tkl_stored_notice_free(s);
}

/* Counts a notice of channel, which no notifier serves, for the warning
 * at the round's end (untracked when out of memory); more: the claim that
 * read it may have left others. */
static void unserved_seen(struct tkl_deliverer *e, const char *channel, bool more)
{
    struct tkl_unserved *u = e->unserved;
    while (u && strcmp(u->channel, channel) != 0)
        u = u->next;
    if (!u) {
        size_t len = strlen(channel) + 1;
        if (!(u = calloc(1, sizeof(*u) + len)))
            return;
        memcpy(u->channel, channel, len);
        u->next = e->unserved;
        e->unserved = u;
    }
    u->seen++;
    u->more |= more;
}

/* Warns, once a channel and configuration, of the notices waiting for a
 * notifier no configuration here has. */
static void warn_unserved(struct tkl_deliverer *e)
{
    for (struct tkl_unserved *u = e->unserved; u; u = u->next) {
        if (u->warned || !u->seen || notifier_for(e, u->channel))
            continue;
        u->warned = true;
        if (e->shared)
            log_warning(
                "no notifier %s on this node (renamed or removed?): %s%zu notice%s queued for "
                "it %s left in the shared outbox for a node that has one (looked at again every "
                "%d s; failed and reported once older than delivery.max_age_hours, %d h)",
                u->channel, u->more ? "at least " : "", u->seen, tkl_plural(u->seen),
                u->seen == 1 && !u->more ? "is" : "are", UNSERVED_WAIT, e->conf->max_age_hours);
        else
            log_warning("no notifier %s is configured (renamed or removed?): %s%zu notice%s "
                        "queued for it %s kept in the outbox, waiting for a notifier of that "
                        "name (looked at again every %d s; configure it again and reload to send "
                        "them at once; failed and reported once older than "
                        "delivery.max_age_hours, %d h, then tickler retry --failed queues them "
                        "again)",
                        u->channel, u->more ? "at least " : "", u->seen, tkl_plural(u->seen),
                        u->seen == 1 && !u->more ? "is" : "are", UNSERVED_WAIT,
                        e->conf->max_age_hours);
    }
}

/* Settles notice s, which no notifier here serves: within max_age_hours
 * put back for UNSERVED_WAIT seconds, for a notifier of its name to come
 * back with a reload (or, on a shared state, for a node that serves it);
 * older, failed for good (more: as unserved_seen). Returns 0, or the negative errno of an outbox
 * that refused the outcome (kept to record later). */
static int settle_unserved(struct tkl_deliverer *e, struct tkl_stored_notice *s, int64_t now,
                           bool more)
{
    struct tkl_flight *x = calloc(1, sizeof(*x));
    if (!x) {
        log_error("out of memory settling notice %" PRIu64 "; it stays in the outbox",
                  s->notice.id);
        release_lost(e, s);
        return 0;
    }
    x->e = e;
    x->s = s;
    const struct tkl_notice *n = &s->notice;
    if (now - s->created_at < (int64_t)e->conf->max_age_hours * 3600) {
        x->reply = strdup(e->shared ? "no notifier of this name on this node; left for a node "
                                      "that has one"
                                    : "no notifier of this name is configured; kept in the outbox "
                                      "for one");
        x->out = OUT_WAIT;
        x->at = now + UNSERVED_WAIT;
        unserved_seen(e, n->channel, more);
        log_debug("no notifier %s here; notice=%" PRIu64 " recipient=%s waits in the outbox "
                  "(looked at again in %d s)",
                  n->channel, n->id, n->recipient, UNSERVED_WAIT);
        return settle(e, x);
    }
    x->reply = strdup("no notifier with this name is configured");
    fail_for_good(x, TKL_FAIL_NO_NOTIFIER, "no notifier with this name is configured",
                  " (waited for one for delivery.max_age_hours; configure it, then tickler retry)",
                  now);
    count_outcome(e, x);
    return settle(e, x);
}

/*
 * Withdraws claimed notice s when the host says its actions were completed
 * whole since it was queued (tkl_delivery_host.completed): its outcome,
 * withdrawn, is written and s is taken. Returns whether it was; when the
 * host cannot tell (out of memory), s is sent as it is.
 */
static bool withdraw(struct tkl_deliverer *e, struct tkl_stored_notice *s, int64_t now)
{
    char *why = NULL;
    if (!e->host.completed || e->host.completed(e->host.data, &s->notice, &why) <= 0)
        return false;
    struct tkl_flight *x = calloc(1, sizeof(*x));
    if (!x) {
        free(why);
        return false;
    }
    *x = (struct tkl_flight){.e = e, .s = s, .out = OUT_WITHDRAWN, .at = now, .reply = why};
    const struct tkl_notice *n = &s->notice;
    /* the reason names plan ids: last, so they cannot pass for the fields */
    log_info("withdrew notice; notice=%" PRIu64 " channel=%s team=%s recipient=%s: %s", n->id,
             n->channel, n->team_id ? n->team_id : "-", n->recipient, why);
    (void)settle(e, x); /* a refusal is logged and kept */
    return true;
}

/* Whether entry en gets a link: a plan action reminded of or asked about,
 * or one another of its owning teams answered for (never an answer told
 * to the report route). */
static bool wants_link(const struct tkl_notice_entry *en)
{
    if (en->kind == TKL_DEADLINE_EVENT || !en->item_id || tkl_entry_is_request_line(en))
        return false;
    switch (en->stage) {
    case TKL_STAGE_LEAD:
    case TKL_STAGE_DUE:
    case TKL_STAGE_OVERDUE:
    case TKL_STAGE_CHECKIN:
    case TKL_STAGE_REQUEST:
    case TKL_STAGE_JOINT: /* another owning team's update: the page to undo it */
        return true;
    default:
        return false;
    }
}

/*
 * The links of notice n issued at now: *ret gets an array of one link (or
 * NULL) per entry, or NULL when no entry gets one. An entry whose action id
 * or recipient cannot be signed (too long, a control character) gets none,
 * and the log says which entry (not its text). Returns 0 or -ENOMEM (then
 * nothing is made).
 */
static int make_links(const struct tkl_deliverer *e, const struct tkl_notice *n, int64_t now,
                      char ***ret)
{
    char token[TKL_TOKEN_MAX + 1];
    *ret = NULL;
    if (!e->links || !e->links->n || !e->link_base || !n->n_entries)
        return 0;
    char **v = calloc(n->n_entries, sizeof(*v));
    if (!v)
        return -ENOMEM;
    bool any = false;
    for (size_t i = 0; i < n->n_entries; i++) {
        if (!wants_link(&n->entries[i]))
            continue;
        int r = tkl_token_issue(e->links, n->entries[i].item_id, n->recipient, now,
                                now + (int64_t)e->link_days * 86400, token, sizeof(token));
        if (r < 0) {
            log_warning("notice %" PRIu64 ": entry %zu gets no link (%s)", n->id, i + 1,
                        r == -EINVAL ? "its action id or the recipient cannot be signed"
                                     : strerror(-r));
            continue;
        }
        r = asprintf(&v[i], "%sa/%s", e->link_base, token);
        explicit_bzero(token, sizeof(token));
        if (r < 0) {
            v[i] = NULL;
            links_free(v, n->n_entries);
            return -ENOMEM;
        }
        any = true;
    }
    if (!any) {
        free(v);
        v = NULL;
    }
    *ret = v;
    return 0;
}

/* A copy of x's notice's entries with x's links in them, for one
 * deliver() call; NULL when out of memory. */
static struct tkl_notice_entry *linked_entries(const struct tkl_flight *x)
{
    const struct tkl_notice *n = &x->s->notice;
    struct tkl_notice_entry *v = calloc(n->n_entries, sizeof(*v));
    for (size_t i = 0; v && i < n->n_entries; i++) {
        v[i] = n->entries[i];
        v[i].link = x->links[i];
    }
    return v;
}

/* Puts the claimed flights of list aside, to have their `sending` marks
 * cleared at the next round (at once while stopping): they were never
 * handed out. */
static void release_all(struct tkl_deliverer *e, struct tkl_flight *list)
{
    while (list) {
        struct tkl_flight *x = list;
        list = x->next;
        x->out = OUT_RELEASE;
        x->plugin = NULL;
        x->next = e->unrecorded;
        e->unrecorded = x;
    }
    /* no round comes once stopping: recorded now, so a backend that waits
     * for the notices it leased (PostgreSQL's drain) is not kept waiting */
    if (e->stopping)
        settle_kept(e);
}

/*
 * The flight of claimed notice s to plugin, its links made: *ret. Out of
 * memory, s is released instead (its `sending` mark cleared at the next
 * round, or at the next start when not even that can be kept) and *ret
 * is NULL.
 */
static void flight_new(struct tkl_deliverer *e, struct tkl_plugin_instance *plugin,
                       struct tkl_stored_notice *s, struct tkl_flight **ret)
{
    struct tkl_flight *x = calloc(1, sizeof(*x));
    *ret = NULL;
    if (x)
        *x = (struct tkl_flight){.e = e, .s = s, .plugin = plugin};
    if (x && make_links(e, &s->notice, now_s(e), &x->links) == 0 &&
        (!x->links || (x->linked = linked_entries(x)))) {
        *ret = x;
        return;
    }
    log_error("out of memory starting a delivery; notice=%" PRIu64 " stays in the outbox",
              s->notice.id);
    if (x) {
        links_free(x->links, s->notice.n_entries);
        x->links = NULL;
        release_all(e, x);
        return;
    }
    release_lost(e, s);
}

/* Hands claimed flight x, whose notice and mark are durable, to its
 * notifier. */
static void hand(struct tkl_deliverer *e, struct tkl_flight *x)
{
    struct tkl_plugin_instance *plugin = x->plugin;
    struct tkl_notice n = x->s->notice;
    x->next = e->flights;
    e->flights = x;
    e->n_flights++;
    (void)tkl_metrics_attempt(e->metrics, n.channel);
    x->handed_ns = uv_hrtime(); /* monotonic: --now and clock steps do not skew latency */
    n.calendar_title = e->calendar_title;
    if (x->linked)
        n.entries = x->linked; /* the links live for the call only */
    char *intro = NULL;        /* so does the intro made for it */
    if (!n.intro && e->host.intro && e->host.intro(e->host.data, &n, &intro) == 0 && intro)
        n.intro = intro;
    int r = plugin->desc->deliver(plugin->state, &n, on_done, x);
    free(intro);
    free(x->linked);
    x->linked = NULL;
    if (r == -EINVAL) {
        x->unusable = true;
        struct tkl_delivery res = {.size = sizeof(res),
                                   .status = TKL_DELIVERY_PERMANENT,
                                   .reply = "the notifier cannot deliver to this recipient"};
        on_done(x, &res);
    } else if (r < 0) {
        struct tkl_delivery res = {
            .size = sizeof(res),
            .status = TKL_DELIVERY_TRANSIENT,
            .reply = r == -EKEYREJECTED ? "not tried: the notifier's server refused its login "
                                          "lately; its deliveries are held back (see the log)"
                                        : strerror(-r)};
        on_done(x, &res);
    }
}

/* Whether plugin can be handed a delivery now. */
static bool running(const struct tkl_plugin_instance *plugin)
{
    return plugin && plugin->started && !plugin->stopped;
}

static void on_ready_synced(void *data, int r);

/*
 * Hands out the flights of e->ready in order, each only while no write
 * waits in the open group (the outcome a refused deliver() wrote, say):
 * then the rest wait for a barrier's completion (on_ready_synced). A
 * flight whose notifier stopped meanwhile, or all of them once the engine
 * stops, is released; so is one whose lease the state no longer knows to
 * hold with margin (tkl_state_lease_fresh).
 */
static void hand_ready(struct tkl_deliverer *e)
{
    while (e->ready && !e->ready_waiting) {
        struct tkl_flight *x = e->ready;
        struct tkl_plugin_instance *plugin = notifier_for(e, x->s->notice.channel);
        if (e->stopping || !running(plugin)) {
            e->ready = x->next;
            x->next = NULL;
            release_all(e, x);
            continue;
        }
        if (tkl_state_busy(e->state)) {
            int r = tkl_state_sync(e->state, on_ready_synced, e);
            if (r == 0) {
                e->ready_waiting = true;
                return;
            }
            log_error("the outbox could not commit (%s); notices claimed are not handed out",
                      strerror(-r));
            release_all(e, e->ready);
            e->ready = NULL;
            return;
        }
        e->ready = x->next;
        if (!tkl_state_lease_fresh(e->state, x->s->notice.id)) {
            log_warning("the lease of notice %" PRIu64 " was not confirmed within half a lease; "
                        "it is released, not handed out (another node may hold it)",
                        x->s->notice.id);
            x->next = NULL;
            release_all(e, x);
            ask_round(e);
            continue;
        }
        x->plugin = plugin;
        hand(e, x);
        e->round_started++;
    }
}

static void on_ready_synced(void *data, int r)
{
    struct tkl_deliverer *e = data;
    e->ready_waiting = false;
    if (r < 0) {
        log_error("the outbox could not commit (%s); notices claimed are not handed out",
                  strerror(-r));
        release_all(e, e->ready);
        e->ready = NULL;
        ask_round(e);
        return;
    }
    hand_ready(e);
}

/* The round's end: told to the host, and the round asked for meanwhile
 * started. */
static void on_next(void *data, int r, int64_t next)
{
    struct tkl_deliverer *e = data;
    e->in_round = false;
    e->host.round_done(e->host.data, e->round_r ? e->round_r : (r < 0 ? r : 0), e->round_started,
                       r == 0 ? next : INT64_MAX);
    if (e->round_again) {
        e->round_again = false;
        e->host.kick(e->host.data);
    }
}

/* Ends the round once its claims were told: reads when the next notice
 * falls due. Called from a completion only. */
static void round_end(struct tkl_deliverer *e)
{
    warn_unserved(e);
    say_unsaid(e, now_s(e));
    int r = tkl_state_next_attempt(e->state, on_next, e);
    if (r < 0) {
        e->round_r = e->round_r ? e->round_r : r;
        on_next(e, r, INT64_MAX);
    }
}

/* A claim's completion: its notices are durably marked; each is handed
 * out (hand_ready), settled when no notifier serves its channel (settle_unserved),
 * withdrawn when its actions were completed meanwhile (withdraw), or
 * released when its notifier stopped meanwhile. */
static void on_claimed(void *data, int r, struct tkl_stored_notice **v, size_t n)
{
    struct tkl_deliverer *e = data;
    struct tkl_flight **tail = &e->ready;
    int64_t now = now_s(e);
    while (*tail)
        tail = &(*tail)->next;
    if (r < 0) {
        log_error("the outbox could not commit (%s); the notices claimed are not handed out",
                  strerror(-r));
        e->round_r = e->round_r ? e->round_r : r;
    }
    for (size_t i = 0; i < n; i++) {
        struct tkl_stored_notice *s = v[i];
        struct tkl_plugin_instance *plugin = notifier_for(e, s->notice.channel);
        struct tkl_flight *x = NULL;
        if (claimed(e, s->notice.id)) {
            tkl_stored_notice_free(s);
        } else if (withdraw(e, s, now)) {
            continue;
        } else if (!plugin) {
            /* a full claim may have left more */
            (void)settle_unserved(e, s, now, n == CLAIM_MAX); /* a refusal is logged and kept */
        } else if (flight_new(e, plugin, s, &x), x) {
            *tail = x;
            tail = &x->next;
        }
    }
    free(v);
    hand_ready(e);
    if (--e->round_claims == 0)
        round_end(e);
}

/* Claims the due notices of one channel, as far as it has room (none for
 * a notifier that is not running; as many as a claim takes for a channel
 * no notifier serves: settle_unserved). Returns 1 when a claim was
 * queued, 0 when none was needed, or the state's negative errno. */
static int claim_channel(struct tkl_deliverer *e, const char *channel, int64_t now)
{
    struct tkl_plugin_instance *plugin = notifier_for(e, channel);
    unsigned busy = busy_on(e, channel);
    size_t room = CLAIM_MAX;
    if (plugin && !running(plugin))
        return 0;
    if (plugin) {
        unsigned limit = (unsigned)tkl_delivery_conf_limit(e->conf, channel);
        room = busy < limit ? limit - busy : 0;
    }
    if (!room)
        return 0;
    int r = tkl_state_claim(e->state, channel, now, room, &e->lease, on_claimed, e);
    if (r < 0) {
        log_error("cannot read the notices of channel %s from the outbox: %s", channel,
                  strerror(-r));
        return r;
    }
    return 1;
}

/* The channels with notices due: those no notifier serves are claimed
 * (their notices settled by settle_unserved); a served channel was claimed by the round
 * itself. */
static void on_channels(void *data, int r, char **v, size_t n)
{
    struct tkl_deliverer *e = data;
    int64_t now = now_s(e);
    if (r < 0)
        e->round_r = e->round_r ? e->round_r : r;
    for (size_t i = 0; i < n; i++) {
        /* after an error the round ends: each error can hold the loop for
         * the busy timeout, and the caller tries again soon */
        if (e->round_r == 0 && !e->stopping && !notifier_for(e, v[i])) {
            int c = claim_channel(e, v[i], now);
            if (c < 0)
                e->round_r = c;
            else
                e->round_claims += (size_t)c;
        }
        free(v[i]);
    }
    free(v);
    if (--e->round_claims == 0)
        round_end(e);
}

/*
 * Queues the round's reads: a claim for each running notifier's channel
 * with room, at once, so that the claims join the open group with the
 * outcomes reported since the last commit (one commit a round), and the
 * channels with notices due, for those no notifier serves. Returns how
 * many were queued (each told once), or a negative errno when nothing
 * could be queued. After a refusal some may be queued: then e->round_r
 * holds it and the round ends with it.
 */
static int queue_round_reads(struct tkl_deliverer *e, int64_t now)
{
    int r = 0;
    size_t queued = 0;
    for (size_t i = 0; i < e->n_notifiers && r == 0; i++) {
        int c = claim_channel(e, e->notifiers[i]->instance, now);
        if (c < 0)
            r = c;
        else
            queued += (size_t)c;
    }
    if (r == 0 && (r = tkl_state_due_channels(e->state, now, on_channels, e)) == 0)
        queued++;
    else if (r < 0 && !queued)
        return r;
    if (r < 0)
        e->round_r = r;
    return (int)queued;
}

int tkl_delivery_round(struct tkl_deliverer *e)
{
    if (e->in_round) {
        e->round_again = true;
        return 0;
    }
    settle_kept(e);
    e->round_r = e->round_started = 0;
    e->round_claims = 0;
    int r =
        e->stopping ? tkl_state_next_attempt(e->state, on_next, e) : queue_round_reads(e, now_s(e));
    if (r < 0) {
        log_error("cannot read the outbox: %s", strerror(-r));
        return r;
    }
    e->round_claims = (size_t)r;
    e->in_round = true;
    return 0;
}

unsigned tkl_delivery_in_flight(const struct tkl_deliverer *e,
                                const struct tkl_plugin_instance *plugin)
{
    unsigned n = 0;
    for (const struct tkl_flight *x = e->flights; x; x = x->next)
        n += !plugin || x->plugin == plugin;
    return n;
}

bool tkl_delivery_idle(const struct tkl_deliverer *e)
{
    return !e->flights && !e->unrecorded && !e->written && !e->ready;
}

void tkl_delivery_stop(struct tkl_deliverer *e)
{
    if (e->stopping)
        return;
    e->stopping = true;
    /* no retry is quiet from now on (each failure while stopping is a
     * warning of its own): what is left unsaid is said now, whatever the
     * burst and the minute */
    for (struct tkl_channel_streak *s = e->streaks; s; s = s->next)
        if (s->unsaid)
            say_streak(s, now_s(e), true, e->shared);
}

void tkl_delivery_free(struct tkl_deliverer *e)
{
    struct tkl_flight *lists[] = {e->flights, e->unrecorded, e->written, e->ready};
    for (size_t i = 0; i < 4; i++)
        while (lists[i]) {
            struct tkl_flight *x = lists[i];
            lists[i] = x->next;
            flight_free(x);
        }
    e->flights = e->unrecorded = e->written = e->ready = NULL;
    e->n_flights = 0;
    while (e->streaks) {
        struct tkl_channel_streak *s = e->streaks;
        e->streaks = s->next;
        free(s);
    }
    unserved_free(e);
    names_free(e);
    free(e->waits);
    e->waits = NULL;
    e->n_waits = 0;
}
