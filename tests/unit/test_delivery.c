/* Tests for daemon/delivery/delivery.c: each channel claims only as far as
 * it has room, so a channel whose server hangs holds up no other; outcomes
 * the outbox refuses are kept and recorded once; -EINVAL fails for good,
 * and so do channels no notifier serves once max_age_hours old (before,
 * they wait for one), their failures reported together by a
 * sweep (one report, grouped by channel and team; a failure once); and
 * with any allocation
 * failing (ours or SQLite's) every notice is still delivered exactly once.
 * The counters /metrics shows move as each notice and attempt ends.
 * Each plan action in a notice gets a signed link for its recipient while
 * it is handed out, never written to the outbox nor kept in a reply.
 *
 * The notifiers are real instances of a notifier written here, on a real
 * loop: "fast" completes every delivery on the loop's next turn, "slow"
 * never completes one until it is stopped, as a hung server would. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "core/text.h"
#include "capture.h"
#include "outbox_fixture.h"
#include "prom_text.h"
#include "config/config.h"
#include "delivery/delivery.h"
#include "metrics/metrics.h"

#define MAX_ID 4096

struct pending {
    tkl_deliver_done_fn done;
    void *data;
};

struct fake {
    uv_timer_t timer;
    bool hang;
    struct pending q[MAX_ID];
    size_t n_q;
    unsigned delivered[MAX_ID];         /* per notice id: times handed to the notifier */
    char links[4][TKL_TOKEN_MAX + 256]; /* the last notice's links ("" for none) */
    size_t n_links;
    bool check_durable; /* ask another connection about each notice handed */
    unsigned undurable; /* notices handed while not durably marked as being sent */
};

static uv_loop_t loop;
static struct tkl_config *cfg;
static struct tkl_diags diags;
static struct fake fast, slow;
static struct tkl_plugin_instance fast_i, slow_i;
static struct tkl_outbox *o;
static struct tkl_state *durable_state;
static char dir[256];

/* Whether another process sees notice id marked as being sent: durable. */
static bool durably_sending(uint64_t id)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool yes = false;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT sending FROM notices WHERE id = ?", -1, &st, NULL) ==
            SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return yes;
}
static struct tkl_deliverer e;
static struct tkl_metrics *metrics;
static struct tkl_token_ring ring;
static int64_t clock_ms = 1700000000000;
static bool kicked;

static void complete_all(struct fake *f, enum tkl_delivery_status st, const char *reply)
{
    struct pending q[MAX_ID];
    size_t n = f->n_q;
    memcpy(q, f->q, n * sizeof(*q));
    f->n_q = 0;
    for (size_t i = 0; i < n; i++) {
        struct tkl_delivery res = {.size = sizeof(res), .status = st, .reply = reply};
        q[i].done(q[i].data, &res);
    }
}

static void on_timer(uv_timer_t *t)
{
    complete_all(t->data, TKL_DELIVERY_OK, "250 ok");
}

static int fake_deliver(void *state, const struct tkl_notice *n, tkl_deliver_done_fn done,
                        void *data)
{
    struct fake *f = state;
    /* no ck_assert here: check allocates, and this runs while
     * allocations are made to fail */
    if (n->id >= MAX_ID || f->n_q == MAX_ID)
        return -ERANGE;
    if (!strncmp(n->recipient, "bad", 3))
        return -EINVAL;
    if (!strncmp(n->recipient, "down", 4))
        return -EIO; /* a transient failure, told at once */
    if (f->check_durable && !durably_sending(n->id))
        f->undurable++;
    f->q[f->n_q++] = (struct pending){done, data};
    f->n_links = n->n_entries < 4 ? n->n_entries : 4;
    for (size_t i = 0; i < f->n_links; i++)
        snprintf(f->links[i], sizeof(f->links[i]), "%s",
                 n->entries[i].link ? n->entries[i].link : "");
    if (f->hang)
        return 0;
    f->delivered[n->id]++;
    return uv_timer_start(&f->timer, on_timer, 0, 0);
}

static void fake_stop(void *state)
{
    complete_all(state, TKL_DELIVERY_TRANSIENT, "shutting down");
}

static const struct tkl_plugin fake_desc = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "fake",
    .kind = TKL_PLUGIN_NOTIFIER,
    .deliver = fake_deliver,
    .stop = fake_stop,
};

static int64_t now_ms(void *data)
{
    (void)data;
    return clock_ms;
}

/* Whether the engine asked for a round since the last round_done. */
static bool kicked_since_done;

static void kick(void *data)
{
    (void)data;
    kicked = true;
    kicked_since_done = true;
}

/* The seconds of the last sweep asked for (tkl_delivery_host.sweep_in),
 * or -1 since reset. */
static int sweep_asked = -1;

static void sweep_in(void *data, int seconds)
{
    (void)data;
    sweep_asked = seconds;
}

/* What the last round came to (tkl_delivery_host.round_done): deliveries
 * started or its negative errno; -EINPROGRESS until told. */
static int round_result;
static int64_t round_next; /* the instant it told */

static void round_done(void *data, int r, int started, int64_t next)
{
    (void)data;
    round_result = r < 0 ? r : started;
    round_next = next;
    kicked_since_done = false;
}

/* One delivery round and the commit the daemon makes before its loop
 * waits, which tells the round's completions: the deliveries the round
 * started, or the negative errno that cut it short. */
static int run_round(void)
{
    round_result = -EINPROGRESS;
    int r = tkl_delivery_round(&e);
    if (r < 0)
        return r;
    (void)tkl_state_commit(durable_state);
    return round_result;
}

/* One turn of the daemon's loop: the notifiers' completions, then the
 * sync the daemon makes before its loop waits again. */
static void turn(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    (void)tkl_state_commit(durable_state);
}

static void setup(void)
{
    tkl_sqlite_alloc_fail_install();
    tkl_disk_full_install();
    tkl_disk_full = 0;
    memset(&diags, 0, sizeof(diags));
    ck_assert_int_eq(tkl_config_load(TICKLER_SOURCE_DIR "/etc/tickler.conf", &cfg, &diags), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    memset(&fast, 0, sizeof(fast));
    memset(&slow, 0, sizeof(slow));
    slow.hang = true;
    struct fake *f[] = {&fast, &slow};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(uv_timer_init(&loop, &f[i]->timer), 0);
        f[i]->timer.data = f[i];
    }
    fast_i = (struct tkl_plugin_instance){
        .desc = &fake_desc, .instance = "fast", .state = &fast, .started = true};
    slow_i = (struct tkl_plugin_instance){
        .desc = &fake_desc, .instance = "slow", .state = &slow, .started = true};
    tkl_outbox_dir(dir, sizeof(dir), "delivery");
    ck_assert_int_eq(tkl_outbox_open(dir, &o, NULL), 0);
    tkl_outbox_set_busy_timeout(o, 10);
    static struct tkl_plugin_instance *const notifiers[] = {&fast_i, &slow_i};
    memset(&e, 0, sizeof(e));
    ck_assert_int_eq(tkl_state_sqlite_new(o, NULL, NULL, &durable_state),
                     0); /* as the daemon runs it */
    e.state = durable_state;
    e.lease = (struct tkl_state_lease){"local", 300};
    e.host = (struct tkl_delivery_host){
        .now_ms = now_ms, .kick = kick, .round_done = round_done, .sweep_in = sweep_in};
    sweep_asked = -1;
    ck_assert_int_eq(tkl_metrics_new(&metrics), 0);
    e.metrics = metrics;
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, notifiers, 2);
}

static void teardown(void)
{
    tkl_delivery_stop(&e);
    fake_stop(&fast);
    fake_stop(&slow);
    ck_assert_int_eq(tkl_state_commit(durable_state), 0);
    ck_assert(tkl_delivery_idle(&e));
    tkl_state_close(durable_state);
    durable_state = NULL;
    tkl_delivery_free(&e);
    uv_close((uv_handle_t *)&fast.timer, NULL);
    uv_close((uv_handle_t *)&slow.timer, NULL);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    tkl_outbox_close(o);
    tkl_outbox_dir_remove(dir);
    tkl_config_free(cfg);
    tkl_diags_free(&diags);
    tkl_metrics_free(metrics);
    tkl_token_ring_free(&ring);
}

/* Queues a one-entry notice to recipient on channel at queued_at
 * (seconds), due now; returns its id. */
static uint64_t put_at(const char *channel, const char *recipient, int64_t queued_at)
{
    static unsigned seq;
    char item[32], key[32];
    snprintf(item, sizeof(item), "A%u", ++seq);
    snprintf(key, sizeof(key), "due-%u", seq);
    struct tkl_notice_entry en = {.size = sizeof(en),
                                  .item_id = item,
                                  .title = "Review the pay gap",
                                  .deadline_day = TKL_NO_DAY,
                                  .stage = TKL_STAGE_DUE};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = channel,
                           .recipient = recipient,
                           .team_id = "hr",
                           .team_name = "Human Resources",
                           .due_at = clock_ms / 1000,
                           .entries = &en,
                           .n_entries = 1};
    const char *keys[] = {key};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, queued_at, &id), 0);
    ck_assert_int_eq(tkl_outbox_sync(o), 0); /* as the queue's round does */
    ck_assert_uint_gt(id, 0);
    return id;
}

/* As put_at, queued now. */
static uint64_t put(const char *channel, const char *recipient)
{
    return put_at(channel, recipient, clock_ms / 1000);
}

/* Queues a notice longer ago than delivery.max_age_hours: one no notifier
 * serves fails for good at once. */
static uint64_t put_aged(const char *channel, const char *recipient)
{
    return put_at(channel, recipient,
                  clock_ms / 1000 - (int64_t)cfg->delivery.max_age_hours * 3600 - 1);
}

/* Runs rounds and loop turns while anything is left to do (bounded). */
static void drive(void)
{
    for (int i = 0; i < 10000; i++) {
        kicked = false;
        (void)run_round();
        turn();
        if (!kicked && !e.unrecorded && (e.n_flights == 0 || e.n_flights == slow.n_q))
            return;
    }
    ck_abort_msg("delivery did not settle");
}

/* A sweep, as the host's timer runs it, and the commits that tell its
 * read and its report (and a sweep it asks for at once after). */
static void sweep(void)
{
    ck_assert_int_eq(tkl_delivery_sweep(&e), 0);
    for (int i = 0; i < 10 && e.sweeping; i++)
        (void)tkl_state_commit(durable_state);
    ck_assert(!e.sweeping);
}

/* Empties the outbox, and what the notifier counted. */
static void empty(void)
{
    tkl_outbox_empty(dir);
    memset(fast.delivered, 0, sizeof(fast.delivered));
}

static int64_t count(const char *where)
{
    char path[300], sql[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notices WHERE %s", where);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The registry as /metrics shows it, checked as a scraper reads it; the
 * caller frees it. */
static char *scrape(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tkl_metrics_render(metrics, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    (void)prom_check(text);
    return text;
}

static double counter(const char *text, const char *name, const char *channel)
{
    return prom_value(text, name, "channel", channel, NULL);
}

static double failed(const char *text, const char *channel, const char *reason)
{
    return prom_value(text, "tickler_notifications_failed_total", "channel", channel, "reason",
                      reason, NULL);
}

/* Signs links with a key of 32 bytes of 7 at https://tickler.example/eap/. */
static void use_links(void)
{
    unsigned char secret[32];
    memset(secret, 7, sizeof(secret));
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k1", secret, sizeof(secret)), 0);
    tkl_delivery_set_links(&e, &ring, "https://tickler.example/eap/", 45);
}

/* Queues a notice to recipient on channel of an overdue action, an
 * observance, a failure report and an update request; returns its id. */
static uint64_t put_mixed(const char *channel, const char *recipient)
{
    static unsigned seq;
    char keys_[4][32];
    const char *keys[4];
    for (int i = 0; i < 4; i++) {
        snprintf(keys_[i], sizeof(keys_[i]), "mixed-%u-%d", ++seq, i);
        keys[i] = keys_[i];
    }
    struct tkl_notice_entry en[4] = {
        {.size = sizeof(en[0]),
         .item_id = "eap-2023-hr-7",
         .title = "Review the pay gap",
         .deadline_day = 19000,
         .kind = TKL_DEADLINE_DATE,
         .stage = TKL_STAGE_OVERDUE,
         .days_left = -3},
        {.size = sizeof(en[0]),
         .item_id = "cal-pride-2023",
         .title = "Pride month",
         .deadline_day = 19500,
         .kind = TKL_DEADLINE_EVENT,
         .stage = TKL_STAGE_PROMPT},
        {.size = sizeof(en[0]),
         .item_id = "notice-9",
         .title = "A reminder could not be delivered",
         .deadline_day = TKL_NO_DAY,
         .kind = TKL_DEADLINE_UNDATED,
         .stage = TKL_STAGE_REPORT},
        {.size = sizeof(en[0]),
         .item_id = "eap-2023-hr-8",
         .title = "Publish the gender pay gap",
         .deadline_day = TKL_NO_DAY,
         .kind = TKL_DEADLINE_ONGOING,
         .stage = TKL_STAGE_REQUEST},
    };
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = channel,
                           .recipient = recipient,
                           .team_id = "hr",
                           .team_name = "Human Resources",
                           .due_at = clock_ms / 1000,
                           .entries = en,
                           .n_entries = 4};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, clock_ms / 1000, &id), 0);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    ck_assert_uint_gt(id, 0);
    return id;
}

/* Whether the bytes of the outbox's files hold s. */
static bool outbox_holds(const char *s)
{
    const char *files[] = {"tickler.db", "tickler.db-wal"};
    bool found = false;
    for (size_t i = 0; i < 2 && !found; i++) {
        char path[300], *data = NULL;
        size_t len = 0, n;
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        FILE *m = open_memstream(&data, &len);
        ck_assert_ptr_nonnull(m);
        char chunk[4096];
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            ck_assert_uint_eq(fwrite(chunk, 1, n, m), n);
        fclose(f);
        ck_assert_int_eq(fclose(m), 0);
        found = memmem(data, len, s, strlen(s)) != NULL;
        free(data);
    }
    return found;
}

/* The token of link (after "https://tickler.example/eap/a/"), checked. */
static const char *token_of(const char *link)
{
    const char *base = "https://tickler.example/eap/a/";
    ck_assert_msg(!strncmp(link, base, strlen(base)), "%s", link);
    return link + strlen(base);
}

START_TEST(each_plan_action_gets_a_link_for_its_recipient)
{
    use_links();
    put_mixed("fast", "hr@example.org");
    drive();
    ck_assert_int_eq(count("state = 1"), 1);
    ck_assert_uint_eq(fast.n_links, 4);
    /* the overdue action and the update request, signed for hr@example.org,
     * issued now, lasting 45 days */
    const char *want[] = {"eap-2023-hr-7", NULL, NULL, "eap-2023-hr-8"};
    for (size_t i = 0; i < 4; i++) {
        if (!want[i]) { /* an observance, a failure report: no link */
            ck_assert_str_eq(fast.links[i], "");
            continue;
        }
        struct tkl_token t;
        ck_assert_int_eq(tkl_token_verify(&ring, token_of(fast.links[i]), clock_ms / 1000, &t), 0);
        ck_assert_str_eq(t.action_id, want[i]);
        ck_assert_str_eq(t.recipient, "hr@example.org");
        ck_assert_int_eq(t.issued_at, clock_ms / 1000);
        ck_assert_int_eq(t.expires_at, clock_ms / 1000 + 45 * 86400);
        /* made for the delivery only: the outbox never holds it */
        ck_assert(!outbox_holds(token_of(fast.links[i])));
    }
    ck_assert_str_ne(fast.links[0], fast.links[3]);
}
END_TEST

/* An answer told to the report route gets no link; another owning
 * team's update told to a team of a joint action gets the recipient's own
 * link for the action. */
START_TEST(a_joint_actions_update_gets_a_link_an_answer_none)
{
    use_links();
    const char *keys[] = {"answer-7", "joint-7"};
    struct tkl_notice_entry en[2] = {
        {.size = sizeof(en[0]),
         .item_id = "eap-2023-hr-7",
         .title = "Review the pay gap",
         .deadline_day = 19000,
         .kind = TKL_DEADLINE_DATE,
         .stage = TKL_STAGE_ANSWER,
         .answer = "Not ours"},
        {.size = sizeof(en[0]),
         .item_id = "eap-2023-hr-7",
         .title = "Review the pay gap",
         .deadline_day = 19000,
         .kind = TKL_DEADLINE_DATE,
         .stage = TKL_STAGE_JOINT,
         .answer = "Marked complete by ICT"},
    };
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "fast",
                           .recipient = "hr@example.org",
                           .team_id = "hr",
                           .team_name = "Human Resources",
                           .due_at = clock_ms / 1000,
                           .entries = en,
                           .n_entries = 2};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(o, &n, keys, clock_ms / 1000, &id), 0);
    ck_assert_int_eq(tkl_outbox_sync(o), 0);
    drive();
    ck_assert_int_eq(count("state = 1"), 1);
    ck_assert_uint_eq(fast.n_links, 2);
    ck_assert_str_eq(fast.links[0], "");
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&ring, token_of(fast.links[1]), clock_ms / 1000, &t), 0);
    ck_assert_str_eq(t.action_id, "eap-2023-hr-7");
    ck_assert_str_eq(t.recipient, "hr@example.org");
}
END_TEST

START_TEST(no_links_without_a_key_or_a_public_url)
{
    put_mixed("fast", "hr@example.org");
    drive();
    ck_assert_uint_eq(fast.n_links, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(fast.links[i], "");
    /* a key but no web face (no http group): no address to link to */
    use_links();
    tkl_delivery_set_links(&e, &ring, NULL, 45);
    put_mixed("fast", "hr@example.org");
    drive();
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(fast.links[i], "");
    /* an empty ring */
    struct tkl_token_ring empty_ring = {0};
    tkl_delivery_set_links(&e, &empty_ring, "https://tickler.example/eap/", 45);
    put_mixed("fast", "hr@example.org");
    drive();
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(fast.links[i], "");
    ck_assert_int_eq(count("state = 1"), 3);
}
END_TEST

START_TEST(a_reply_that_repeats_a_link_is_not_kept)
{
    use_links();
    put_mixed("slow", "team1");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    char reply[TKL_TOKEN_MAX + 300], token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%.*s", (int)TKL_TOKEN_MAX, token_of(slow.links[0]));
    /* a peer that echoes what it was sent, "/" escaped as JSON may */
    snprintf(reply, sizeof(reply), "HTTP 400: {\"link\":\"https:\\/\\/tickler.example\\/a\\/%s\"}",
             token);
    complete_all(&slow, TKL_DELIVERY_PERMANENT, reply);
    drive();
    ck_assert_int_eq(count("state = 2 AND channel = 'slow' AND last_error LIKE "
                           "'%repeated a link of the notice%'"),
                     1);
    ck_assert(!outbox_holds(token));
}
END_TEST

START_TEST(every_allocation_failure_with_links_delivers_each_notice_once)
{
    use_links();
    uint64_t ids[3];
    unsigned long i;
    for (i = 1;; i++) {
        empty();
        for (int k = 0; k < 3; k++)
            ids[k] = put_mixed("fast", "hr@example.org");
        alloc_fail_nth(i);
        (void)run_round();
        turn();
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        drive();
        ck_assert(tkl_delivery_idle(&e));
        for (int k = 0; k < 3; k++)
            ck_assert_uint_eq(fast.delivered[ids[k]], 1);
        ck_assert_int_eq(count("state != 1"), 0);
        ck_assert(strncmp(fast.links[0], "https://tickler.example/eap/a/", 30) == 0);
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 20);
}
END_TEST

START_TEST(a_hung_channel_holds_up_no_other)
{
    char to[64];
    uint64_t first = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(to, sizeof(to), "team%d", i);
        uint64_t id = put("slow", to);
        first = first ? first : id;
    }
    for (int i = 0; i < 200; i++) {
        snprintf(to, sizeof(to), "officer%d@example.org", i);
        put("fast", to);
    }
    drive();
    /* the older 100 on the hung channel: only as many as it has room for */
    ck_assert_uint_eq(slow.n_q, (unsigned)cfg->delivery.concurrency);
    ck_assert_int_eq(count("channel = 'slow' AND sending = 1"), cfg->delivery.concurrency);
    ck_assert_int_eq(count("channel = 'fast' AND state = 1"), 200);
    for (uint64_t id = first + 100; id < first + 300; id++)
        ck_assert_uint_eq(fast.delivered[id], 1);
}
END_TEST

START_TEST(a_refused_outcome_is_kept_and_recorded_once)
{
    char path[300];
    uint64_t ids[3];
    ck_assert_int_ge(cfg->delivery.concurrency, 3);
    for (int i = 0; i < 3; i++)
        ids[i] = put("fast", "hr@example.org");
    ck_assert_int_eq(run_round(), 3);
    /* another process holds the database when the notifier reports */
    sqlite3 *other = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    turn();
    ck_assert_ptr_nonnull(e.unrecorded);
    ck_assert_uint_eq(e.n_flights, 0);
    /* rounds meanwhile hand nothing out again */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(run_round(), 0);
        turn();
    }
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_uint_eq(tkl_delivery_settle(&e), 0);
    ck_assert(tkl_delivery_idle(&e));
    ck_assert_int_eq(count("state = 1 AND sending = 0"), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 1);
}
END_TEST

START_TEST(unusable_recipients_and_unserved_channels_fail_for_good_with_a_report)
{
    put("fast", "bad-address");
    put_aged("gone", "hr@example.org");
    drive();
    ck_assert_int_eq(count("state = 2 AND channel IN ('fast', 'gone')"), 2);
    /* not reported one by one: a sweep is asked for, report_every_seconds on */
    ck_assert_int_eq(count("channel = 'email'"), 0);
    ck_assert_int_eq(sweep_asked, cfg->delivery.report_every_seconds);
    /* both in one report to delivery.report_to (edi-officers, by email),
     * one line each (two channels); it waits, as no notifier here serves
     * "email", then fails too, and a report is not reported: no sweep
     * asked */
    sweep();
    ck_assert_int_eq(count("channel = 'email' AND recipient = 'edi.officers@maidstone.example'"),
                     1);
    sweep_asked = -1;
    drive();
    ck_assert_int_eq(count("channel = 'email' AND state = 0"), 1);
    clock_ms += (int64_t)cfg->delivery.max_age_hours * 3600 * 1000;
    drive();
    ck_assert_int_eq(count("channel = 'email' AND state = 2"), 1);
    ck_assert_int_eq(sweep_asked, -1);
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1);
    ck_assert_uint_eq(fast.n_q + slow.n_q, 0);
}
END_TEST

START_TEST(a_notifier_that_is_not_running_is_handed_nothing)
{
    /* one whose start() failed (after a reload), or stopped */
    fast_i.started = false;
    uint64_t a = put("fast", "hr@example.org"), b = put("fast", "ict@example.org");
    drive();
    ck_assert_uint_eq(fast.delivered[a] + fast.delivered[b], 0);
    ck_assert_int_eq(count("state = 0 AND sending = 0"), 2); /* waiting, not failed */
    fast_i.started = true;
    drive();
    ck_assert_uint_eq(fast.delivered[a], 1);
    ck_assert_uint_eq(fast.delivered[b], 1);
    ck_assert_int_eq(count("state = 1"), 2);
}
END_TEST

START_TEST(a_delivery_cut_short_by_a_reload_is_due_again_at_once)
{
    /* the host marks a retired instance before its stop() completes what
     * it holds: not a failed attempt, no backoff */
    put("slow", "team1");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    slow_i.retired = slow_i.stopped = true;
    fake_stop(&slow);
    ck_assert_int_eq(tkl_state_commit(durable_state), 0);
    char where[128];
    snprintf(where, sizeof(where), "state = 0 AND sending = 0 AND next_attempt <= %lld",
             (long long)(clock_ms / 1000));
    ck_assert_int_eq(count(where), 1);
    slow_i.retired = slow_i.stopped = false;
}
END_TEST

/* A stop drains: the engine hands nothing more out, and what is in flight
 * is judged as always (a delivery the server took is delivered, a failure
 * of its own backs off); only one its notifier's stop() cut short is due
 * again at once. */
START_TEST(deliveries_that_end_while_stopping_are_judged_as_always)
{
    put("slow", "team1");
    put("slow", "team2");
    drive();
    ck_assert_uint_eq(slow.n_q, 2);
    tkl_delivery_stop(&e);
    ck_assert_uint_eq(tkl_delivery_in_flight(&e, NULL), 2);
    ck_assert_uint_eq(tkl_delivery_in_flight(&e, &slow_i), 2);
    ck_assert_uint_eq(tkl_delivery_in_flight(&e, &fast_i), 0);
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "421 try later");
    ck_assert_uint_eq(tkl_delivery_in_flight(&e, NULL), 0);
    ck_assert_int_eq(tkl_state_commit(durable_state), 0);
    char where[160];
    snprintf(where, sizeof(where), "state = 0 AND sending = 0 AND next_attempt > %lld",
             (long long)(clock_ms / 1000));
    ck_assert_int_eq(count(where), 2); /* backed off, not due at once */
}
END_TEST

START_TEST(no_delivery_starts_before_its_notice_is_durably_claimed)
{
    fast.check_durable = true;
    uint64_t ids[40];
    for (int i = 0; i < 40; i++)
        ids[i] = put("fast", "hr@example.org");
    unsigned long before = tkl_outbox_syncs(o);
    drive();
    fast.check_durable = false;
    ck_assert_uint_eq(fast.undurable, 0);
    for (int i = 0; i < 40; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 1);
    ck_assert_int_eq(count("state = 1 AND sending = 0"), 40);
    /* grouped: far fewer commits than the 80 writes (40 marks, 40 outcomes) */
    ck_assert_uint_lt(tkl_outbox_syncs(o) - before, 40);
}
END_TEST

/* A claim answered once the engine stops hands nothing out, and its
 * notices are released at once: no round comes to record that, and a
 * backend's drain (PostgreSQL's) waits for the notices it leased. */
START_TEST(a_claim_answered_after_the_stop_is_released_at_once)
{
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = put("fast", "hr@example.org");
    round_result = -EINPROGRESS;
    ck_assert_int_eq(tkl_delivery_round(&e), 0);
    tkl_delivery_stop(&e);                                /* before the claim's answer */
    ck_assert_int_eq(tkl_state_commit(durable_state), 0); /* the claim told, releases written */
    ck_assert_int_eq(count("sending = 1"), 0);
    ck_assert(tkl_delivery_idle(&e));
    ck_assert_int_eq(count("sending = 0"), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 0);
}
END_TEST

START_TEST(a_full_disk_at_the_commit_hands_nothing_out_and_keeps_the_notices)
{
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = put("fast", "hr@example.org");
    tkl_disk_full = 1;
    ck_assert_int_eq(run_round(), -ENOSPC);
    turn();
    ck_assert_int_eq(run_round(), -ENOSPC);
    tkl_disk_full = 0;
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 0);
    ck_assert_uint_eq(e.n_flights, 0);
    ck_assert_int_eq(count("state = 0 AND sending = 0"), 3);
    /* once the disk has room, each is delivered once */
    drive();
    ck_assert(tkl_delivery_idle(&e));
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 1);
    ck_assert_int_eq(count("state = 1 AND sending = 0"), 3);
}
END_TEST

START_TEST(a_full_disk_at_the_outcomes_commit_keeps_and_records_them_again)
{
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = put("fast", "hr@example.org");
    ck_assert_int_eq(run_round(), 3);
    uv_run(&loop, UV_RUN_NOWAIT); /* the three report; their outcomes wait in the group */
    ck_assert(tkl_outbox_dirty(o));
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_state_commit(durable_state), -ENOSPC);
    tkl_disk_full = 0;
    ck_assert_ptr_nonnull(e.unrecorded); /* kept, not lost */
    ck_assert_int_eq(count("sending = 1"), 3);
    drive();
    ck_assert(tkl_delivery_idle(&e));
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fast.delivered[ids[i]], 1); /* and not sent again */
    ck_assert_int_eq(count("state = 1 AND sending = 0"), 3);
}
END_TEST

START_TEST(an_outcome_kept_is_logged_as_recorded_only_once_durable)
{
    uint64_t id = put("fast", "hr@example.org");
    ck_assert_int_eq(run_round(), 1);
    uv_run(&loop, UV_RUN_NOWAIT); /* it reports; its outcome waits in the group */
    ck_assert(tkl_outbox_dirty(o));
    tkl_disk_full = 1;
    ck_assert_int_eq(tkl_state_commit(durable_state), -ENOSPC);
    ck_assert_ptr_nonnull(e.unrecorded);
    /* the next round writes the kept outcome again, and its commit fails
     * again: the log does not say it was recorded */
    tkl_capture_begin();
    ck_assert_int_lt(run_round(), 0);
    char *log = tkl_capture_end();
    tkl_disk_full = 0;
    ck_assert_ptr_null(strstr(log, "recorded the outcome"));
    free(log);
    ck_assert_ptr_nonnull(e.unrecorded);
    tkl_capture_begin();
    ck_assert_int_eq(run_round(), 0);
    log = tkl_capture_end();
    ck_assert_ptr_nonnull(strstr(log, "recorded the outcome of notice 1 kept from before"));
    free(log);
    ck_assert(tkl_delivery_idle(&e));
    ck_assert_uint_eq(fast.delivered[id], 1);
    ck_assert_int_eq(count("state = 1 AND sending = 0"), 1);
}
END_TEST

START_TEST(a_failure_report_is_logged_as_queued_only_once_durable)
{
    put("fast", "bad-address");
    drive();
    ck_assert_int_eq(count("channel = 'fast' AND state = 2"), 1);
    /* the commit of the sweep's report fails: nothing said, nothing kept */
    tkl_disk_full = 1;
    tkl_capture_begin();
    sweep();
    tkl_disk_full = 0;
    char *log = tkl_capture_end();
    ck_assert_ptr_null(strstr(log, "queued a report"));
    ck_assert_ptr_nonnull(strstr(log, "cannot queue the report of 1 failed notice"));
    free(log);
    ck_assert_int_eq(count("channel = 'email'"), 0);
    ck_assert_int_eq(sweep_asked, cfg->delivery.report_every_seconds); /* tried again */
    /* the next sweep reports it, once */
    tkl_capture_begin();
    sweep();
    sweep();
    log = tkl_capture_end();
    char *at = strstr(log, "queued a report of 1 failed notice to delivery.report_to "
                           "(edi-officers, 1 recipient); notice=2");
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_null(strstr(at + 1, "queued a report"));
    free(log);
    ck_assert_int_eq(count("channel = 'email' AND recipient = 'edi.officers@maidstone.example'"),
                     1);
    ck_assert_int_eq(count("channel = 'fast' AND state = 2"), 1);
}
END_TEST

/* The entries of the latest report to delivery.report_to (by email), as
 * "item|title|progress" lines; the caller frees them. */
static char *last_report(void)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT item_id, title, coalesce(progress, '') FROM "
                                        "entries WHERE notice_id = (SELECT max(id) FROM notices "
                                        "WHERE channel = 'email') ORDER BY idx",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s|%s|%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

/* The intro of the latest report to delivery.report_to, or "" (none); the
 * caller frees it. */
static char *last_intro(void)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(intro, '') FROM notices WHERE id = "
                                        "(SELECT max(id) FROM notices WHERE channel = 'email')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    char *intro = strdup((const char *)sqlite3_column_text(st, 0));
    ck_assert_ptr_nonnull(intro);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return intro;
}

START_TEST(many_failures_make_one_report_grouped_by_channel_and_team)
{
    /* an outage: 40 notices of one channel, to 8 recipients, fail for
     * good, and 2 of another */
    for (int i = 0; i < 40; i++) {
        char to[32];
        snprintf(to, sizeof(to), "r%d@example.org", i % 8);
        put_aged("gone", to);
    }
    put_aged("lost", "ict@example.org");
    put_aged("lost", "ict@example.org");
    drive();
    ck_assert_int_eq(count("state = 2"), 42);
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1); /* one report, not 42 */
    char *lines = last_report();
    /* the larger group first: how many, to how many, and the latest reply */
    ck_assert_str_eq(lines, "notices 1, 2, 3 and 37 more|40 notices for Human Resources (40 "
                            "actions) could not be delivered to 8 recipients by gone|no notifier "
                            "with this name is configured\n"
                            "notices 41, 42|2 notices for Human Resources (2 actions) could not "
                            "be delivered to ict@example.org by lost|no notifier with this name "
                            "is configured\n");
    free(lines);
    char *intro = last_intro();
    ck_assert_str_eq(intro, "42 notices could not be delivered; below by channel and team, each "
                            "with the latest reply. tickler outbox --failed lists them, tickler "
                            "retry --failed sends them again.");
    free(intro);
    /* a sweep after it finds nothing new */
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1);
}
END_TEST

/* Several failures of one channel and team: one entry, its title a whole
 * sentence (a report of one entry takes its subject from it), the latest
 * reply apart, and an intro that counts them without "each" group. */
START_TEST(one_groups_report_reads_as_a_sentence_with_the_reply_apart)
{
    put_aged("lost", "ict@example.org");
    put_aged("lost", "ict@example.org");
    put_aged("lost", "hr@example.org");
    drive();
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1);
    char *lines = last_report(), *intro = last_intro();
    ck_assert_str_eq(lines, "notices 1, 2, 3|3 notices for Human Resources (3 actions) could not "
                            "be delivered to 2 recipients by lost|no notifier with this name is "
                            "configured\n");
    ck_assert_str_eq(intro, "3 notices could not be delivered; the latest reply is below. tickler "
                            "outbox --failed lists them, tickler retry --failed sends them again.");
    free(lines);
    free(intro);
}
END_TEST

START_TEST(a_report_lists_the_largest_groups_and_counts_the_rest)
{
    char channel[32];
    for (int i = 0; i < 25; i++) {
        snprintf(channel, sizeof(channel), "gone%02d", i);
        for (int k = 0; k < (i < 5 ? 3 : 1); k++)
            put_aged(channel, "hr@example.org");
    }
    drive();
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1);
    char *lines = last_report();
    size_t n = 0;
    for (const char *p = lines; (p = strchr(p, '\n')); p++)
        n++;
    ck_assert_uint_eq(n, 20); /* 19 groups, and a line for the rest */
    ck_assert_ptr_nonnull(strstr(lines, "notices 1, 2, 3|3 notices for Human Resources"));
    ck_assert_ptr_nonnull(strstr(lines, "\nnotices|and 6 more notices to 6 more teams or "
                                        "channels: tickler outbox --failed lists every one|\n"));
    free(lines);
}
END_TEST

START_TEST(a_failure_after_tickler_retry_is_reported_again)
{
    uint64_t id = put_aged("gone", "hr@example.org");
    drive();
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 1);
    /* tickler retry: queued again as a new notice, and it fails again */
    int64_t n = 0;
    clock_ms += 60000;
    ck_assert_int_eq(tkl_outbox_requeue(o, id, clock_ms / 1000, &n), 0);
    ck_assert_int_eq(n, 1);
    drive();
    /* queued again, it waits for its notifier as a new one, then fails */
    ck_assert_int_eq(count("channel = 'gone' AND state = 0"), 1);
    clock_ms += (int64_t)cfg->delivery.max_age_hours * 3600 * 1000;
    drive();
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 2);
    char *lines = last_report();
    ck_assert_str_eq(lines, "notice-1|A reminder for Human Resources (1 action) could not be "
                            "delivered to hr@example.org by gone|no notifier with this name is "
                            "configured\n");
    free(lines);
}
END_TEST

START_TEST(a_failure_asks_for_a_sweep_and_an_idle_engine_asks_for_none)
{
    put("fast", "hr@example.org");
    drive();
    ck_assert_int_eq(sweep_asked, -1); /* delivered: nothing to report */
    sweep();                           /* nothing to report: no report, no sweep asked */
    ck_assert_int_eq(count("channel = 'email'"), 0);
    ck_assert_int_eq(sweep_asked, -1);
    put("slow", "team1");
    drive();
    complete_all(&slow, TKL_DELIVERY_PERMANENT, "550 no such user");
    drive();
    ck_assert_int_eq(sweep_asked, cfg->delivery.report_every_seconds);
}
END_TEST

START_TEST(every_allocation_failure_delivers_each_notice_once)
{
    uint64_t ids[4];
    unsigned long i;
    for (i = 1;; i++) {
        empty();
        for (int k = 0; k < 4; k++)
            ids[k] = put("fast", "hr@example.org");
        alloc_fail_nth(i);
        (void)run_round();
        turn();
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        drive();
        ck_assert(tkl_delivery_idle(&e));
        for (int k = 0; k < 4; k++)
            ck_assert_uint_eq(fast.delivered[ids[k]], 1);
        ck_assert_int_eq(count("state != 1"), 0);
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 20);
}
END_TEST

START_TEST(every_allocation_failure_fails_an_unserved_notice_for_good_once)
{
    unsigned long i;
    for (i = 1;; i++) {
        empty();
        put_aged("gone", "hr@example.org");
        alloc_fail_nth(i);
        (void)run_round();
        turn();
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        drive();
        ck_assert(tkl_delivery_idle(&e));
        /* failed for good, not left marked as being sent until a restart */
        ck_assert_int_eq(count("channel = 'gone' AND state = 2 AND sending = 0"), 1);
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 10);
}
END_TEST

START_TEST(each_delivery_counts_one_notification_and_one_request)
{
    for (int i = 0; i < 5; i++)
        put("fast", "hr@example.org");
    char *text = scrape();
    /* the configured channels are shown before anything happens on them */
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "fast"), 0);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "slow"), 0);
    free(text);
    drive();
    text = scrape();
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "fast"), 5);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "fast"), 5);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_failed_total", "fast"), 0);
    ck_assert_double_eq(counter(text, "tickler_notification_latency_seconds_count", "fast"), 5);
    ck_assert_double_eq(prom_value(text, "tickler_notification_latency_seconds_bucket", "channel",
                                   "fast", "le", "+Inf", NULL),
                        5);
    const char *reasons[] = {"permanent", "expired", "recipient", "no_notifier"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_double_eq(failed(text, "fast", reasons[i]), 0);
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "slow"), 0);
    free(text);
}
END_TEST

START_TEST(notices_that_fail_for_good_are_counted_by_reason)
{
    put("fast", "bad-address"); /* deliver() refuses the recipient */
    put_aged("gone", "hr@example.org");
    put("slow", "team1");
    drive();
    complete_all(&slow, TKL_DELIVERY_PERMANENT, "550 no such user");
    drive();
    char *text = scrape();
    ck_assert_double_eq(failed(text, "fast", "recipient"), 1);
    ck_assert_double_eq(failed(text, "fast", "permanent"), 0);
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "fast"), 1);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "fast"), 1);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_failed_total", "fast"), 1);
    /* no notifier serves "gone": never handed to one, so no request */
    ck_assert_double_eq(failed(text, "gone", "no_notifier"), 1);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "gone"), 0);
    ck_assert_double_eq(failed(text, "slow", "permanent"), 1);
    /* their one report to delivery.report_to, by email, which nothing
     * serves, once a sweep made it */
    ck_assert_double_eq(failed(text, "email", "no_notifier"), -1);
    free(text);
    sweep();
    drive();
    clock_ms += (int64_t)cfg->delivery.max_age_hours * 3600 * 1000; /* it waits that long */
    drive();
    text = scrape();
    ck_assert_double_eq(failed(text, "email", "no_notifier"), 1);
    ck_assert(strstr(text, "bad-address") == NULL && strstr(text, "hr@example.org") == NULL);
    free(text);
}
END_TEST

START_TEST(a_transient_failure_then_success_is_two_requests_and_one_notification)
{
    put("slow", "team1");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "451 try again later");
    clock_ms += 2 * 3600 * 1000; /* past the backoff, within max_age_hours */
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_int_eq(count("state = 1"), 1);
    char *text = scrape();
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "slow"), 2);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_failed_total", "slow"), 1);
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "slow"), 1);
    ck_assert_double_eq(counter(text, "tickler_notification_latency_seconds_count", "slow"), 2);
    ck_assert_double_eq(failed(text, "slow", "expired"), 0);
    free(text);
}
END_TEST

/* Fails every delivery slow holds, transiently, then runs the engine. */
static void fail_slow(void)
{
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "421 the server is down");
    drive();
}

/* Its server answers again: the first delivery on a channel after
 * TKL_DELIVERY_DOWN_AFTER transient failures in a row makes its notices
 * waiting for a retry due at once (the clock does not move here), their
 * attempts kept; after fewer in a row, each waits for its own backoff. */
START_TEST(a_channel_that_delivers_again_after_failures_in_a_row_retries_its_notices_at_once)
{
    /* two failures, then a delivery: nothing is hastened */
    put("slow", "team1");
    put("slow", "team2");
    drive();
    ck_assert_uint_eq(slow.n_q, 2);
    fail_slow();
    put("slow", "team3");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_uint_eq(slow.n_q, 0);
    ck_assert_int_eq(count("state = 0 AND attempts = 1"), 2);
    /* three in a row (the server down), then a delivery */
    for (int i = 0; i < TKL_DELIVERY_DOWN_AFTER; i++) {
        put("slow", "team4");
        drive();
        ck_assert_uint_eq(slow.n_q, 1);
        fail_slow();
    }
    ck_assert_int_eq(count("state = 0 AND attempts = 1 AND next_attempt > 1700000000"), 5);
    put("slow", "team5");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_uint_eq(slow.n_q, 5); /* every one waiting, handed out again at once */
    ck_assert_int_eq(count("state = 0 AND attempts = 1 AND sending = 1"), 5);
    ck_assert_int_eq(count("state = 1"), 2);
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_int_eq(count("state = 1"), 7);
    /* down again within the hour (one destination of several, say): its
     * notices wait for their backoff, not hastened at every delivery */
    for (int i = 0; i < TKL_DELIVERY_DOWN_AFTER; i++) {
        put("slow", "team6");
        drive();
        fail_slow();
    }
    put("slow", "team7");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_uint_eq(slow.n_q, 0);
    ck_assert_int_eq(count("state = 0 AND attempts = 1"), 3);
}
END_TEST

/* Occurrences of needle in hay. */
static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* A server down: the first failures, and the line that says it is down,
 * are warnings; the retries after it are logged at debug level, counted
 * in the line that says it delivers again. */
START_TEST(retries_on_a_channel_down_are_logged_at_debug_level_until_it_delivers)
{
    tkl_capture_begin();
    for (int i = 0; i < TKL_DELIVERY_DOWN_AFTER + 2; i++) {
        put("slow", "team1");
        drive();
        fail_slow();
    }
    put("slow", "team2");
    drive();
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    char *log = tkl_capture_end();
    ck_assert_uint_eq(occurrences(log, "<4>delivery failed, will retry"), TKL_DELIVERY_DOWN_AFTER);
    ck_assert_uint_eq(occurrences(log, "<4>notifier slow: 3 deliveries in a row failed"), 1);
    ck_assert_ptr_nonnull(strstr(log, "notifier slow delivers again, after 5 failed deliveries in "
                                      "a row; the 5 notices waiting for a retry are due now (2 "
                                      "retries logged at debug level while it was down)"));
    free(log);
}
END_TEST

/* The log of a burst after_s seconds on: the notices of channel slow due
 * then handed out, and every one failing for now. */
static char *burst_log(int64_t after_s)
{
    clock_ms += after_s * 1000;
    tkl_capture_begin();
    drive();
    fail_slow(); /* the round after them finds the burst over */
    return tkl_capture_end();
}

/* A large round to a server down: a warning for each of the first
 * failures and the line that says it is down, then one line that sums up
 * the rest once the burst is over, not one a notice; the next burst less
 * than a minute later joins the next line; those that fail for good are
 * still said one by one. */
START_TEST(a_large_round_to_a_channel_down_is_summed_up_in_one_line)
{
    for (int i = 0; i < 40; i++)
        put("slow", "team1");
    char *log = burst_log(0);
    ck_assert_uint_eq(occurrences(log, "<4>delivery failed, will retry"), TKL_DELIVERY_DOWN_AFTER);
    ck_assert_uint_eq(occurrences(log, "notifier slow: 3 deliveries in a row failed"), 1);
    ck_assert_ptr_nonnull(strstr(log, "<4>notifier slow is still down: 37 more deliveries failed "
                                      "(the last: 421 the server is down), retrying from "));
    ck_assert_uint_eq(occurrences(log, "<4>"), 5); /* no other warning */
    free(log);
    /* their retries 40 s later (a 30 s backoff and its jitter), less than
     * a minute after the line: not said yet */
    log = burst_log(40);
    ck_assert_uint_eq(occurrences(log, "<4>"), 0);
    free(log);
    /* the next, 80 s later (60 s and its jitter): one line for both, which
     * counts the deliveries that failed, each of the 40 notices twice */
    log = burst_log(80);
    ck_assert_uint_eq(occurrences(log, "<4>"), 1);
    ck_assert_ptr_nonnull(strstr(log, "<4>notifier slow is still down: 80 more deliveries failed"));
    free(log);
    /* past the maximum age: each failure for good on its own line */
    log = burst_log((int64_t)cfg->delivery.max_age_hours * 3600);
    ck_assert_uint_eq(occurrences(log, "<3>delivery failed for good"), 40);
    ck_assert_uint_eq(occurrences(log, "<4>"), 0);
    free(log);
}
END_TEST

/* The summary of a channel down quotes the last reply cut to fit on a
 * character's boundary: the journal gets valid UTF-8 however long the
 * reply and whatever its characters. */
START_TEST(the_summary_of_a_channel_down_cuts_a_long_reply_between_characters)
{
    char reply[400] = "421 ";
    for (int i = 0; i < 150; i++)
        strcat(reply, "\xc3\xa9"); /* é, 2 bytes: the 160-byte cut falls inside one */
    for (int i = 0; i < 40; i++)
        put("slow", "team1");
    tkl_capture_begin();
    drive();
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, reply);
    drive();
    char *log = tkl_capture_end();
    const char *line = strstr(log, "<4>notifier slow is still down: 37 more deliveries failed");
    ck_assert_ptr_nonnull(line);
    const char *end = strchr(line, '\n');
    ck_assert_ptr_nonnull(end);
    ck_assert(tkl_utf8_valid(line, (size_t)(end - line)));
    /* "421 " and 77 of them: the most that fits in 159 bytes */
    char quoted[200] = "(the last: 421 ";
    for (int i = 0; i < 77; i++)
        strcat(quoted, "\xc3\xa9");
    strcat(quoted, "), retrying from ");
    ck_assert_ptr_nonnull(strstr(line, quoted));
    free(log);
}
END_TEST

/* Forty notices to channel slow, down: their first burst fails, summed
 * up in a line. */
static void burst_summed_up(void)
{
    for (int i = 0; i < 40; i++)
        put("slow", "team1");
    char *log = burst_log(0);
    ck_assert_uint_eq(occurrences(log, "is still down"), 1);
    free(log);
}

/* The log of the engine's stop (asked twice) and the rounds after it. */
static char *stop_log(void)
{
    tkl_capture_begin();
    tkl_delivery_stop(&e);
    drive();
    tkl_delivery_stop(&e);
    return tkl_capture_end();
}

/* A summary still owed when the engine stops (a burst less than a minute
 * after the last line) is said at the stop, once, saying the notices wait
 * in the outbox for the next run. */
START_TEST(a_summary_owed_at_the_stop_is_said_once)
{
    burst_summed_up();
    char *log = burst_log(40); /* less than a minute after the line: owed */
    ck_assert_uint_eq(occurrences(log, "is still down"), 0);
    free(log);
    char *stop = stop_log();
    ck_assert_uint_eq(occurrences(stop, "is still down"), 1);
    ck_assert_ptr_nonnull(strstr(stop, "<4>notifier slow is still down: 40 more deliveries failed "
                                       "(the last: 421 the server is down), kept in the outbox, "
                                       "retried from "));
    ck_assert_ptr_nonnull(strstr(stop, " once ticklerd runs again\n"));
    free(stop);
}
END_TEST

/* A stop with nothing owed says nothing of the channel. */
START_TEST(a_stop_with_no_summary_owed_says_none)
{
    burst_summed_up();
    char *stop = stop_log();
    ck_assert_uint_eq(occurrences(stop, "is still down"), 0);
    free(stop);
}
END_TEST

/* What the host says of each notice claimed (tkl_delivery_host.completed),
 * and how many it was asked about. */
static int completed_says;
static unsigned completed_asked;

static int host_completed(void *data, const struct tkl_notice *n, char **ret_why)
{
    (void)data;
    (void)n;
    completed_asked++;
    *ret_why = NULL;
    if (completed_says != 1)
        return completed_says;
    return (*ret_why = strdup("not sent: every action in it was marked complete")) ? 1 : -ENOMEM;
}

/* The reply (last_error) recorded for notice id. */
static char *reply_of(uint64_t id)
{
    char path[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    snprintf(path, sizeof(path), "%s/tickler.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "SELECT last_error FROM notices WHERE id = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* A notifier's reply, whatever a plugin or its server sent (a terminal's
 * escapes, line breaks, C1 controls, bytes that are not UTF-8), is kept and
 * logged as one line of printable UTF-8: ESC and C1 controls as spaces, a
 * run of line breaks as one space, bidi embeddings, overrides and isolates
 * (which would reorder the log line's fields after it) left out; in a reply that is not UTF-8, a
 * stray byte U+FFFD where most of its other characters are UTF-8, the whole read as Windows-1252
 * where they are not. */
START_TEST(a_reply_is_kept_and_logged_as_one_line_of_printable_utf8)
{
    tkl_capture_begin();
    uint64_t refused = put("slow", "team1");
    drive();
    complete_all(&slow, TKL_DELIVERY_PERMANENT,
                 "550 \x1b[31mrefused\x1b[0m\r\nsee \xc2\x9b"
                 "2J \xe2\x80\xaethere\xe2\x81\xa6");
    drive();
    uint64_t busy = put("slow", "team2");
    drive();
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "451 caf\xe9 \xff busy");
    drive();
    uint64_t stray = put("slow", "team3");
    drive();
    complete_all(&slow, TKL_DELIVERY_PERMANENT,
                 "550 Empf\xc3\xa4nger \xfc unbekannt \xe2\x80\x93 sp\xc3\xa4ter");
    drive();
    /* a reply longer than a journal line: the line keeps its fields */
    char huge[4 + 2 * 2100 + 1] = "550 ";
    for (int i = 0; i < 2100; i++)
        memcpy(huge + 4 + 2 * i, "\xc3\xa9", 3);
    uint64_t longest = put("slow", "team4");
    drive();
    complete_all(&slow, TKL_DELIVERY_PERMANENT, huge);
    drive();
    char *log = tkl_capture_end();
    char *reply = reply_of(refused);
    ck_assert_str_eq(reply, "550  [31mrefused [0m see   2J there");
    free(reply);
    reply = reply_of(busy);
    ck_assert_str_eq(reply, "451 caf\xc3\xa9 \xc3\xbf busy");
    free(reply);
    reply = reply_of(stray); /* the a-umlaut kept, not read as two letters */
    ck_assert_str_eq(reply, "550 Empf\xc3\xa4nger \xef\xbf\xbd unbekannt \xe2\x80\x93 "
                            "sp\xc3\xa4ter");
    free(reply);
    reply = reply_of(longest); /* cut at a character, its end said */
    ck_assert_uint_eq(strlen(reply), 1023);
    ck_assert(tkl_utf8_valid(reply, strlen(reply)));
    ck_assert_str_eq(reply + strlen(reply) - 5, "\xc3\xa9...");
    free(reply);
    ck_assert(tkl_utf8_valid(log, strlen(log)));
    ck_assert_ptr_null(strchr(log, '\x1b'));
    ck_assert_ptr_null(strchr(log, '\r'));
    ck_assert_ptr_null(strstr(log, "\xc2\x9b"));
    ck_assert_ptr_null(strstr(log, "\xe2\x80\xae"));
    ck_assert_ptr_null(strstr(log, "\xe2\x81\xa6"));
    ck_assert_ptr_nonnull(strstr(log, "<3>delivery failed for good: 550  [31mrefused [0m see   "
                                      "2J there; notice="));
    ck_assert_ptr_nonnull(strstr(log, "<4>delivery failed, will retry in "));
    ck_assert_ptr_nonnull(strstr(log, " s: 451 caf\xc3\xa9 \xc3\xbf busy; notice="));
    ck_assert_ptr_nonnull(strstr(log, "\xc3\xa9...; notice="));
    free(log);
}
END_TEST

/* A notice retrying after a failure whose action an officer then marks
 * complete is withdrawn at its next attempt: never handed out again, its
 * outcome withdrawn and durable, counted as withdrawn, not as a
 * notification. Others go as ever, and so does every notice when the host
 * cannot tell (out of memory). */
START_TEST(a_notice_completed_while_it_waits_to_be_retried_is_withdrawn_not_sent)
{
    e.host.completed = host_completed;
    completed_says = 0;
    completed_asked = 0;
    uint64_t id = put("slow", "team1");
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "451 try again later");
    drive();
    ck_assert_int_eq(count("state = 0 AND attempts = 1"), 1);
    /* the officer answers; the retry falls due */
    completed_says = 1;
    clock_ms += 2 * 3600 * 1000;
    unsigned asked = completed_asked;
    drive();
    ck_assert_uint_eq(completed_asked, asked + 1);
    ck_assert_uint_eq(slow.n_q, 0); /* not handed out */
    ck_assert_int_eq(count("state = 3 AND attempts = 1 AND sending = 0"), 1);
    char *reply = reply_of(id);
    ck_assert_str_eq(reply, "not sent: every action in it was marked complete");
    free(reply);
    char *text = scrape();
    ck_assert_double_eq(counter(text, "tickler_notifications_withdrawn_total", "slow"), 1);
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "slow"), 0);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_total", "slow"), 1);
    free(text);
    /* nothing is left to do, and a later round does not send it */
    clock_ms += 24 * 3600 * 1000;
    drive();
    ck_assert_uint_eq(slow.n_q, 0);
    ck_assert_int_eq(count("state = 3"), 1);

    /* a notice not completed goes; so does one the host cannot judge */
    completed_says = 0;
    uint64_t other = put("fast", "team1");
    drive();
    completed_says = -ENOMEM;
    uint64_t unsure = put("fast", "team1");
    drive();
    ck_assert_uint_eq(fast.delivered[other], 1);
    ck_assert_uint_eq(fast.delivered[unsure], 1);
    ck_assert_int_eq(count("state = 1"), 2);
}
END_TEST

START_TEST(a_notice_retried_for_the_maximum_age_fails_as_expired)
{
    put("slow", "team1");
    drive();
    clock_ms += ((int64_t)cfg->delivery.max_age_hours * 3600 + 1) * 1000;
    complete_all(&slow, TKL_DELIVERY_TRANSIENT, "421 busy");
    drive();
    char *text = scrape();
    ck_assert_double_eq(failed(text, "slow", "expired"), 1);
    ck_assert_double_eq(counter(text, "tickler_notifications_total", "slow"), 1);
    ck_assert_double_eq(counter(text, "tickler_notification_requests_failed_total", "slow"), 1);
    free(text);
}
END_TEST

/* A notifier renamed by a reload: the notices queued for its old name
 * wait in the outbox, not failed nor reported, warned of once with their
 * number, their looks counted as no attempt; renamed back, they are sent
 * at once. */
START_TEST(notices_of_a_renamed_notifier_wait_and_go_when_it_is_back)
{
    uint64_t a = put("fast", "hr@example.org"), b = put("fast", "ict@example.org");
    static struct tkl_plugin_instance *const renamed[] = {&slow_i};
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, renamed, 1);
    tkl_capture_begin();
    drive();
    clock_ms += 300 * 1000; /* looked at again: not warned of again */
    drive();
    char *log = tkl_capture_end();
    ck_assert_uint_eq(occurrences(log, "no notifier fast is configured"), 1);
    ck_assert_ptr_nonnull(strstr(log, "no notifier fast is configured (renamed or removed?): 2 "
                                      "notices queued for it are kept in the outbox, waiting "
                                      "for a notifier of that name"));
    ck_assert_ptr_null(strstr(log, "failed for good"));
    free(log);
    ck_assert_int_eq(count("channel = 'fast' AND state = 0 AND sending = 0"), 2);
    ck_assert_int_eq(count("last_error = 'no notifier of this name is configured; kept in the "
                           "outbox for one'"),
                     2);
    sweep();
    ck_assert_int_eq(count("channel = 'email'"), 0); /* nothing to report */
    char *text = scrape();
    ck_assert(failed(text, "fast", "no_notifier") <= 0);
    free(text);
    /* a reload with it still missing warns again */
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, renamed, 1);
    clock_ms += 300 * 1000;
    tkl_capture_begin();
    drive();
    log = tkl_capture_end();
    ck_assert_uint_eq(occurrences(log, "no notifier fast is configured"), 1);
    free(log);
    /* three looks, no delivery tried: no attempt counted past the one
     * that makes them tried before */
    ck_assert_int_eq(count("channel = 'fast' AND attempts = 1"), 2);
    /* renamed back: sent at once, not at their next look */
    static struct tkl_plugin_instance *const back[] = {&fast_i, &slow_i};
    clock_ms += 10 * 1000;
    tkl_capture_begin();
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, back, 2);
    drive();
    log = tkl_capture_end();
    ck_assert_ptr_nonnull(strstr(log, "notifier fast is configured again: the 2 notices that "
                                      "waited for it are due now"));
    free(log);
    ck_assert_uint_eq(fast.delivered[a], 1);
    ck_assert_uint_eq(fast.delivered[b], 1);
    ck_assert_int_eq(count("channel = 'fast' AND state = 1"), 2);
}
END_TEST

/* A notice whose server asked it to wait an hour (Retry-After) is not
 * hastened by a reload that takes its notifier away and brings it back:
 * it goes at the end of its wait, not at once. */
START_TEST(a_reload_does_not_hasten_a_notice_a_server_asked_to_wait)
{
    put("slow", "hr@example.org"); /* slow holds what it is handed */
    drive();
    ck_assert_uint_eq(slow.n_q, 1);
    struct pending q = slow.q[0];
    slow.n_q = 0;
    struct tkl_delivery res = {.size = sizeof(res),
                               .status = TKL_DELIVERY_TRANSIENT,
                               .reply = "429 too many requests",
                               .retry_after = 3600};
    q.done(q.data, &res);
    drive();
    static struct tkl_plugin_instance *const renamed[] = {&fast_i};
    static struct tkl_plugin_instance *const back[] = {&fast_i, &slow_i};
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, renamed, 1);
    drive();
    clock_ms += 10 * 1000;
    tkl_delivery_set(&e, &cfg->delivery, &cfg->teams, back, 2);
    drive();
    ck_assert_uint_eq(slow.n_q, 0); /* not handed again */
    ck_assert_int_eq(count("state = 0 AND sending = 0"), 1);
    clock_ms += 3600 * 1000;
    drive();
    ck_assert_uint_eq(slow.n_q, 1); /* at the end of its wait */
    complete_all(&slow, TKL_DELIVERY_OK, "250 ok");
    drive();
    ck_assert_int_eq(count("state = 1"), 1);
}
END_TEST

/* A state shared by nodes: a channel no notifier here serves waits in
 * the outbox for a node that has one, not failed, until the maximum age. */
START_TEST(a_shared_notice_no_notifier_here_serves_waits_for_another_node_then_fails)
{
    e.shared = true;
    put("gone", "hr@example.org");
    drive();
    int64_t now = clock_ms / 1000;
    char where[128];
    snprintf(where, sizeof(where), "state = 0 AND attempts = 1 AND next_attempt = %" PRId64,
             now + 300);
    ck_assert_int_eq(count(where), 1);
    /* not looked at again before its time */
    clock_ms += 299 * 1000;
    drive();
    ck_assert_int_eq(count(where), 1);
    /* still within the maximum age: left again, the look counting no
     * attempt */
    clock_ms += 1000;
    drive();
    snprintf(where, sizeof(where), "state = 0 AND attempts = 1 AND next_attempt = %" PRId64,
             now + 600);
    ck_assert_int_eq(count(where), 1);
    char *text = scrape();
    ck_assert(failed(text, "gone", "no_notifier") <= 0); /* none counted */
    free(text);
    /* older than the maximum age: failed for good */
    clock_ms += (int64_t)cfg->delivery.max_age_hours * 3600 * 1000;
    drive();
    ck_assert_int_eq(count("state = 2"), 1);
    text = scrape();
    ck_assert_double_eq(failed(text, "gone", "no_notifier"), 1);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delivery");
    TCase *tc = tcase_create("delivery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_hung_channel_holds_up_no_other);
    tcase_add_test(tc, a_claim_answered_after_the_stop_is_released_at_once);
    tcase_add_test(tc, a_refused_outcome_is_kept_and_recorded_once);
    tcase_add_test(tc, unusable_recipients_and_unserved_channels_fail_for_good_with_a_report);
    tcase_add_test(tc, a_notifier_that_is_not_running_is_handed_nothing);
    tcase_add_test(tc, a_delivery_cut_short_by_a_reload_is_due_again_at_once);
    tcase_add_test(tc, deliveries_that_end_while_stopping_are_judged_as_always);
    tcase_add_test(tc, every_allocation_failure_delivers_each_notice_once);
    tcase_add_test(tc, every_allocation_failure_fails_an_unserved_notice_for_good_once);
    tcase_add_test(tc, each_delivery_counts_one_notification_and_one_request);
    tcase_add_test(tc, notices_that_fail_for_good_are_counted_by_reason);
    tcase_add_test(tc, a_transient_failure_then_success_is_two_requests_and_one_notification);
    tcase_add_test(
        tc, a_channel_that_delivers_again_after_failures_in_a_row_retries_its_notices_at_once);
    tcase_add_test(tc, a_notice_retried_for_the_maximum_age_fails_as_expired);
    tcase_add_test(tc, a_notice_completed_while_it_waits_to_be_retried_is_withdrawn_not_sent);
    tcase_add_test(tc, a_shared_notice_no_notifier_here_serves_waits_for_another_node_then_fails);
    tcase_add_test(tc, notices_of_a_renamed_notifier_wait_and_go_when_it_is_back);
    tcase_add_test(tc, a_reload_does_not_hasten_a_notice_a_server_asked_to_wait);
    tcase_add_test(tc, a_large_round_to_a_channel_down_is_summed_up_in_one_line);
    tcase_add_test(tc, the_summary_of_a_channel_down_cuts_a_long_reply_between_characters);
    tcase_add_test(tc, a_summary_owed_at_the_stop_is_said_once);
    tcase_add_test(tc, a_stop_with_no_summary_owed_says_none);
    tcase_add_test(tc, each_plan_action_gets_a_link_for_its_recipient);
    tcase_add_test(tc, a_joint_actions_update_gets_a_link_an_answer_none);
    tcase_add_test(tc, no_links_without_a_key_or_a_public_url);
    tcase_add_test(tc, a_reply_that_repeats_a_link_is_not_kept);
    tcase_add_test(tc, a_reply_is_kept_and_logged_as_one_line_of_printable_utf8);
    tcase_add_test(tc, every_allocation_failure_with_links_delivers_each_notice_once);
    tcase_add_test(tc, no_delivery_starts_before_its_notice_is_durably_claimed);
    tcase_add_test(tc, a_full_disk_at_the_commit_hands_nothing_out_and_keeps_the_notices);
    tcase_add_test(tc, a_full_disk_at_the_outcomes_commit_keeps_and_records_them_again);
    tcase_add_test(tc, an_outcome_kept_is_logged_as_recorded_only_once_durable);
    tcase_add_test(tc, a_failure_report_is_logged_as_queued_only_once_durable);
    tcase_add_test(tc, many_failures_make_one_report_grouped_by_channel_and_team);
    tcase_add_test(tc, one_groups_report_reads_as_a_sentence_with_the_reply_apart);
    tcase_add_test(tc, a_report_lists_the_largest_groups_and_counts_the_rest);
    tcase_add_test(tc, a_failure_after_tickler_retry_is_reported_again);
    tcase_add_test(tc, a_failure_asks_for_a_sweep_and_an_idle_engine_asks_for_none);
    tcase_add_test(tc, retries_on_a_channel_down_are_logged_at_debug_level_until_it_delivers);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
