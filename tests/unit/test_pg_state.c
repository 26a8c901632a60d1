/* daemon/state/pg_state.c against a real PostgreSQL 15 (the ctest
 * fixture): two states on one database as two nodes would be. A notice put
 * by both is stored once; claims are disjoint; the next attempt waits for
 * another node's live lease and leaves out the node's own, and a channel
 * is due only with a notice due and not under a live lease; an expired
 * lease is taken over and the first node's outcome is then not its;
 * recovery touches only the node's own leases, and a renewal only what
 * the node holds; a claim answered too late is released, not handed out;
 * a lost connection tells the group r < 0 and the work done again after
 * the reconnection is stored once; a claim committed while the
 * connection is made again keeps its lease past the release of strays; a
 * notice claimed again while held is held once; closing tells what is
 * pending; the notices of an item (its history, and every item's latest)
 * read by one node show what the other sent; health says whether the
 * connection is up and the last transaction committed. Every
 * completion runs once, never inside a state call. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "capture.h"
#include "check_run.h"
#include "loop_wait.h"
#include "pg_fixture.h"
#include "state/pg.h"
#include "state/pg_schema.h"
#include "state/state.h"
#include "state_told.h"
#include "state_updates.h"
#include "tmpdir.h"

#define LEASE 60

/* tickler's own realloc calls (linked with -Wl,--wrap=realloc): all fail
 * while fail_realloc is set. */
static bool fail_realloc;
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
    return fail_realloc ? NULL : __real_realloc(p, n);
}

static char dir[256];
static const char *conninfo;
static uv_loop_t loop;

struct node {
    struct tkl_state *st;
    const char *id;
    int ready, ready_r, woken, updated, indexed, index_r;
};

static struct node a = {.id = "node-a"}, b = {.id = "node-b"};

static void on_ready(void *data, int r)
{
    struct node *n = data;
    n->ready++;
    n->ready_r = r;
}

static void on_index(void *data, int r)
{
    struct node *n = data;
    n->indexed++;
    n->index_r = r;
}

static void on_woken(void *data)
{
    ((struct node *)data)->woken++;
}

static void on_updated(void *data)
{
    ((struct node *)data)->updated++;
}

static void start(struct node *n)
{
    struct tkl_state_pg_options o = {.conninfo_file = conninfo,
                                     .node = n->id,
                                     .lease_seconds = LEASE,
                                     .on_ready = on_ready,
                                     .on_index = on_index,
                                     .data = n};
    n->ready = n->woken = n->updated = n->indexed = 0;
    ck_assert_int_eq(tkl_state_pg_new(&loop, &o, &n->st), 0);
    ck_assert_str_eq(tkl_state_backend(n->st), "postgresql");
    tkl_state_on_wake(n->st, on_woken, n);
    tkl_state_on_updated(n->st, on_updated, n);
    ck_assert(tkl_run_until_count(&loop, &n->ready, 1));
    ck_assert_int_eq(n->ready_r, 0);
}

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "pg-state");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    conninfo = tkl_pg_fixture_db(dir, "t_state");
    start(&a);
    start(&b);
}

static void teardown(void)
{
    tkl_state_close(a.st);
    tkl_state_close(b.st);
    a.st = b.st = NULL;
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    tkl_rmtree(dir);
}

static const struct tkl_notice_entry entry = {.size = sizeof(struct tkl_notice_entry),
                                              .item_id = "A1",
                                              .title = "Review the register",
                                              .owners = "Head of HR",
                                              .deadline_day = 19477,
                                              .kind = TKL_DEADLINE_DATE,
                                              .stage = TKL_STAGE_DUE,
                                              .days_left = -2};
static const char *const keys[] = {"due"};

static struct tkl_notice notice(const char *recipient)
{
    return (struct tkl_notice){.size = sizeof(struct tkl_notice),
                               .channel = "email",
                               .recipient = recipient,
                               .team_id = "hr",
                               .team_name = "Human Resources",
                               .thread_key = "A1",
                               .due_at = 1000,
                               .entries = &entry,
                               .n_entries = 1};
}

/* Puts x through node n, told in t. */
static void put_notice(struct node *n, const struct tkl_notice *x, struct told *t)
{
    inside = true;
    ck_assert_int_eq(tkl_state_put(n->st, x, keys, 1000, on_put, t), 0);
    inside = false;
}

static void put(struct node *n, const char *recipient, struct told *t)
{
    struct tkl_notice x = notice(recipient);
    put_notice(n, &x, t);
}

static void claim(struct node *n, int64_t now, size_t max, struct told *t)
{
    struct tkl_state_lease l = {n->id, LEASE};
    inside = true;
    ck_assert_int_eq(tkl_state_claim(n->st, "email", now, max, &l, on_claim, t), 0);
    inside = false;
}

static void outcome(struct node *n, uint64_t id, enum tkl_state_outcome what, struct told *t)
{
    inside = true;
    ck_assert_int_eq(tkl_state_outcome(n->st, id, what, 2000, "250 OK", n->id, on_done, t), 0);
    inside = false;
}

static void commit(struct node *n)
{
    inside = true;
    ck_assert_int_eq(tkl_state_commit(n->st), 0);
    inside = false;
}

static void wait_told(struct told *t)
{
    ck_assert(tkl_run_until_count(&loop, &t->calls, 1));
    ck_assert_int_eq(t->calls, 1);
}

/* Puts n notices (to r0@x ... ) through node a; each stored. */
static void put_many(int n)
{
    struct told t[16] = {0};
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++) {
        char rcpt[32];
        snprintf(rcpt, sizeof(rcpt), "r%d@x", i);
        put(&a, rcpt, &t[i]);
    }
    commit(&a);
    ck_assert(tkl_run_until_count(&loop, &t[n - 1].calls, 1));
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(t[i].r, 0);
        ck_assert_uint_ne(t[i].id, 0);
    }
}

static long long db_value(const char *sql)
{
    PGconn *c = tkl_pg_fixture_connect("t_state");
    long long v = tkl_pg_fixture_value(c, sql);
    PQfinish(c);
    return v;
}

/* Whether a session waits for an advisory lock. */
static bool pg_waiting_on_lock(void *arg)
{
    (void)arg;
    return db_value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") >
           0;
}

START_TEST(a_notice_put_by_two_nodes_is_stored_once_and_wakes_the_other)
{
    struct told ta = {0}, tb = {0};
    put(&a, "hr@x", &ta);
    put(&b, "hr@x", &tb);
    ck_assert_int_eq(ta.calls + tb.calls, 0);
    commit(&a);
    commit(&b);
    wait_told(&ta);
    wait_told(&tb);
    ck_assert_int_eq(ta.r, 0);
    ck_assert_int_eq(tb.r, 0);
    ck_assert_msg((ta.id != 0) != (tb.id != 0), "one id: %llu %llu", (unsigned long long)ta.id,
                  (unsigned long long)tb.id);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM log"), 1);
    /* each node's put notified; each is woken by the other's only */
    ck_assert(tkl_run_until_count(&loop, &b.woken, 1));
    ck_assert(tkl_run_until_count(&loop, &a.woken, 1));
    tkl_run_for(&loop, 200);
    ck_assert_int_eq(a.woken, 1);
    ck_assert_int_eq(b.woken, 1);
}
END_TEST

START_TEST(a_claimed_notice_is_read_whole_and_its_outcome_recorded)
{
    struct told p = {0}, c = {0}, o = {0}, next = {0};
    put(&a, "hr@x", &p);
    commit(&a);
    wait_told(&p);
    claim(&b, 1000, 10, &c);
    commit(&b);
    wait_told(&c);
    ck_assert_int_eq(c.r, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(c.ids[0], p.id);
    ck_assert_str_eq(c.first_title, "Review the register");
    ck_assert_str_eq(c.first_owners, "Head of HR");
    ck_assert_str_eq(c.first_thread, "A1");
    ck_assert_int_eq(db_value("SELECT count(*) FROM nodes WHERE id = 'node-b'"), 1);
    outcome(&b, p.id, TKL_STATE_DELIVERED, &o);
    inside = true;
    ck_assert_int_eq(tkl_state_next_attempt(b.st, on_value, &next), 0);
    inside = false;
    commit(&b);
    wait_told(&o);
    wait_told(&next);
    ck_assert_int_eq(o.r, 0);
    ck_assert_int_eq(next.value, INT64_MAX);
    ck_assert_int_eq(db_value("SELECT state FROM notices"), 1);
}
END_TEST

/* A notice completed whole after it was queued is withdrawn by the node
 * that claimed it: final, no attempt counted, its lease ended; a node
 * that does not hold a notice's lease records nothing of it. */
START_TEST(a_withdrawn_notice_is_final_without_an_attempt)
{
    struct told p = {0}, q = {0}, c = {0}, o = {0}, late = {0}, again = {0};
    put(&a, "hr@x", &p);
    put(&a, "ict@x", &q);
    commit(&a);
    wait_told(&p);
    wait_told(&q);
    claim(&b, 1000, 10, &c);
    commit(&b);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 2);
    outcome(&b, p.id, TKL_STATE_WITHDRAWN, &o);
    outcome(&a, q.id, TKL_STATE_WITHDRAWN, &late); /* b holds its lease */
    commit(&b);
    commit(&a);
    wait_told(&o);
    wait_told(&late);
    ck_assert_int_eq(o.r, 0);
    ck_assert_int_eq(late.r, TKL_STATE_NOT_OURS);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM notices WHERE id = %" PRIu64 " AND state = 3 AND attempts = 0"
             " AND finished_at = 2000 AND last_error = '250 OK' AND lease_node IS NULL",
             p.id);
    ck_assert_int_eq(db_value(sql), 1);
    snprintf(sql, sizeof(sql), "SELECT state FROM notices WHERE id = %" PRIu64, q.id);
    ck_assert_int_eq(db_value(sql), 0);
    /* once b's leases run out, only the other notice is claimed again */
    claim(&a, 1000 + LEASE, 10, &again);
    commit(&a);
    wait_told(&again);
    ck_assert_uint_eq(again.n, 1);
    ck_assert_uint_eq(again.ids[0], q.id);
}
END_TEST

START_TEST(two_nodes_claim_disjoint_notices)
{
    struct told ca = {0}, cb = {0};
    put_many(10);
    claim(&a, 1000, 6, &ca);
    claim(&b, 1000, 6, &cb);
    commit(&a);
    commit(&b);
    wait_told(&ca);
    wait_told(&cb);
    ck_assert_int_eq(ca.r, 0);
    ck_assert_int_eq(cb.r, 0);
    ck_assert_uint_eq(ca.n + cb.n, 10);
    for (size_t i = 0; i < ca.n; i++)
        for (size_t j = 0; j < cb.n; j++)
            ck_assert_uint_ne(ca.ids[i], cb.ids[j]);
}
END_TEST

START_TEST(an_expired_lease_is_taken_over_and_the_first_outcome_is_not_ours)
{
    struct told p = {0}, ca = {0}, cb = {0}, early = {0}, oa = {0}, ob = {0};
    put(&a, "hr@x", &p);
    commit(&a);
    wait_told(&p);
    claim(&a, 1000, 10, &ca);
    commit(&a);
    wait_told(&ca);
    ck_assert_uint_eq(ca.n, 1);
    claim(&b, 1000 + LEASE - 1, 10, &early); /* a's lease still runs */
    commit(&b);
    wait_told(&early);
    ck_assert_uint_eq(early.n, 0);
    claim(&b, 1000 + LEASE, 10, &cb); /* it has run out */
    commit(&b);
    wait_told(&cb);
    ck_assert_uint_eq(cb.n, 1);
    ck_assert_uint_eq(cb.ids[0], p.id);
    outcome(&a, p.id, TKL_STATE_DELIVERED, &oa);
    commit(&a);
    wait_told(&oa);
    ck_assert_int_eq(oa.r, TKL_STATE_NOT_OURS);
    outcome(&b, p.id, TKL_STATE_RETRY, &ob);
    commit(&b);
    wait_told(&ob);
    ck_assert_int_eq(ob.r, 0);
    ck_assert_int_eq(db_value("SELECT attempts FROM notices"), 1);
    ck_assert_int_eq(db_value("SELECT state FROM notices"), 0);
}
END_TEST

/* A notice no notifier serves on the node is put back for a later look:
 * the lease ends, the look counts no attempt, but its attempts are made
 * at least one (tried before), and another node's look leaves them so;
 * only the node holding the lease records it. */
START_TEST(a_look_at_a_notice_no_notifier_serves_counts_no_attempt)
{
    struct told p = {0}, c1 = {0}, w1 = {0}, c2 = {0}, w2 = {0}, late = {0};
    put(&a, "hr@x", &p);
    commit(&a);
    wait_told(&p);
    claim(&a, 1000, 10, &c1);
    commit(&a);
    wait_told(&c1);
    ck_assert_uint_eq(c1.n, 1);
    outcome(&a, p.id, TKL_STATE_WAIT, &w1); /* next look at 2000 */
    commit(&a);
    wait_told(&w1);
    ck_assert_int_eq(w1.r, 0);
    ck_assert_int_eq(db_value("SELECT attempts FROM notices"), 1);
    ck_assert_int_eq(db_value("SELECT next_attempt FROM notices"), 2000);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node IS NULL"), 1);
    claim(&b, 2000, 10, &c2);
    commit(&b);
    wait_told(&c2);
    ck_assert_uint_eq(c2.n, 1);
    outcome(&a, p.id, TKL_STATE_WAIT, &late); /* b holds it now */
    commit(&a);
    wait_told(&late);
    ck_assert_int_eq(late.r, TKL_STATE_NOT_OURS);
    outcome(&b, p.id, TKL_STATE_WAIT, &w2);
    commit(&b);
    wait_told(&w2);
    ck_assert_int_eq(w2.r, 0);
    ck_assert_int_eq(db_value("SELECT attempts FROM notices"), 1);
    ck_assert_int_eq(db_value("SELECT state FROM notices"), 0);
}
END_TEST

START_TEST(a_renewal_extends_only_the_leases_of_notices_in_flight_here)
{
    /* a lease this node holds without knowing it (a claim committed whose
     * answer the lost connection took) runs out, so another claim takes
     * its notice: renewals extend only what the node holds */
    struct told c = {0}, rn = {0};
    put_many(2);
    claim(&a, 1000, 1, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 1);
    PGconn *db = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(db, "UPDATE notices SET lease_node = 'node-a', lease_until = "
                                    "1000 + 60 WHERE lease_node IS NULL"));
    PQfinish(db);
    struct tkl_state_lease l = {a.id, LEASE};
    inside = true;
    ck_assert_int_eq(tkl_state_renew(a.st, c.ids, 1, &l, 1050, on_done, &rn), 0);
    inside = false;
    commit(&a);
    wait_told(&rn);
    ck_assert_int_eq(rn.r, 0);
    char q[128];
    snprintf(q, sizeof(q), "SELECT lease_until FROM notices WHERE id = %llu",
             (unsigned long long)c.ids[0]);
    ck_assert_int_eq(db_value(q), 1050 + LEASE);
    snprintf(q, sizeof(q), "SELECT lease_until FROM notices WHERE id <> %llu",
             (unsigned long long)c.ids[0]);
    ck_assert_int_eq(db_value(q), 1000 + 60);
}
END_TEST

/* A channel that delivers again: its notices waiting for a retry are made
 * due now, their attempts kept; one a server asked to wait, one leased
 * (in flight) and another channel's are not touched. */
START_TEST(hastening_makes_due_only_the_channel_s_notices_waiting_for_a_retry)
{
    struct told c = {0}, r1 = {0}, r2 = {0}, h = {0}, none = {0};
    put_many(3);
    claim(&a, 1000, 3, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 3);
    outcome(&a, c.ids[0], TKL_STATE_RETRY, &r1); /* next attempt 2000 */
    outcome(&a, c.ids[1], TKL_STATE_RETRY, &r2);
    commit(&a);
    wait_told(&r1);
    wait_told(&r2);
    inside = true;
    ck_assert_int_eq(tkl_state_hasten(a.st, "email", 1500, &c.ids[1], 1, on_value, &h), 0);
    ck_assert_int_eq(tkl_state_hasten(a.st, "teams", 1500, NULL, 0, on_value, &none), 0);
    inside = false;
    commit(&a);
    wait_told(&h);
    wait_told(&none);
    ck_assert_int_eq(h.r, 0);
    ck_assert_int_eq(h.value, 1); /* not the one a server asked to wait */
    ck_assert_int_eq(none.value, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE next_attempt = 1500 AND "
                              "attempts = 1 AND lease_node IS NULL"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node = 'node-a'"), 1);
}
END_TEST

/* The report of failures ids[0..n) to admin@example.org through node n,
 * told in t: one entry, the failures' report keys (created at 1000). */
static void put_report(struct node *n, const uint64_t *ids, size_t k, struct told *t)
{
    static const struct tkl_notice_entry report = {.size = sizeof(struct tkl_notice_entry),
                                                   .item_id = "notices",
                                                   .title = "2 notices could not be delivered",
                                                   .status = "failed",
                                                   .deadline_day = TKL_NO_DAY,
                                                   .kind = TKL_DEADLINE_UNDATED,
                                                   .stage = TKL_STAGE_REPORT};
    char buf[8][TKL_FAILURE_KEY_MAX];
    const char *v[8];
    for (size_t i = 0; i < k && i < 8; i++)
        v[i] = tkl_failure_key(ids[i], 1000, buf[i]);
    struct tkl_notice r = notice("admin@example.org"), r2 = notice("boss@example.org");
    r.entries = r2.entries = &report;
    r.thread_key = r2.thread_key = NULL;
    r.intro = r2.intro = "2 notices could not be delivered; below";
    const struct tkl_notice *reports[] = {&r, &r2};
    inside = true;
    ck_assert_int_eq(tkl_state_put_report(n->st, reports, 2, v, k, 1500, on_put, t), 0);
    inside = false;
}

/* Two nodes sweep at once: each reads the same failures not reported
 * (not a report's own failure, nor one an earlier version reported to a
 * recipient asked about), each queues its report with their keys; the
 * node that commits second finds them logged and writes nothing
 * (-EEXIST), without undoing the rest of its group. Then no failure is
 * left to report, and exactly one report (to each recipient) is stored. */
START_TEST(two_nodes_sweeping_at_once_report_each_failure_once)
{
    struct told c = {0}, f[3] = {{0}}, ua = {0}, ub = {0}, ra = {0}, rb = {0}, other = {0};
    struct told after = {0};
    put_many(4);
    claim(&a, 1000, 4, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 4);
    for (int i = 0; i < 3; i++)
        outcome(&a, c.ids[i], TKL_STATE_FAILED, &f[i]);
    commit(&a);
    for (int i = 0; i < 3; i++)
        wait_told(&f[i]);
    /* the third was reported by an earlier version, to admin by email */
    char q[512], item[32], stage[TKL_FAILURE_KEY_MAX];
    snprintf(item, sizeof(item), "notice-%" PRIu64, c.ids[2]);
    char *old = tkl_log_key(item, TKL_NO_DAY, tkl_failure_key(c.ids[2], 1000, stage), "email",
                            "admin@example.org");
    ck_assert_ptr_nonnull(old);
    snprintf(q, sizeof(q),
             "INSERT INTO log(key, notice_id, created_at) VALUES ('%s', 99, 1000) RETURNING 1",
             old);
    free(old);
    ck_assert_int_eq(db_value(q), 1);
    const struct tkl_report_to to[] = {{"email", "admin@example.org"}};
    inside = true;
    ck_assert_int_eq(tkl_state_unreported(a.st, to, 1, 10, on_failures, &ua), 0);
    ck_assert_int_eq(tkl_state_unreported(b.st, to, 1, 10, on_failures, &ub), 0);
    inside = false;
    commit(&a);
    commit(&b);
    wait_told(&ua);
    wait_told(&ub);
    ck_assert_int_eq(ua.r, 0);
    ck_assert_uint_eq(ua.n, 2);
    ck_assert_uint_eq(ub.n, 2);
    ck_assert_uint_eq(ua.ids[0], c.ids[0]);
    ck_assert_uint_eq(ua.ids[1], c.ids[1]);
    ck_assert_int_eq(ua.value, 1000);
    ck_assert_str_eq(ua.first_title, "250 OK");
    put_report(&a, ua.ids, ua.n, &ra);
    commit(&a);
    wait_told(&ra);
    ck_assert_int_eq(ra.r, 0);
    ck_assert_uint_ne(ra.id, 0);
    put(&b, "other@example.org", &other);
    put_report(&b, ub.ids, ub.n, &rb);
    commit(&b);
    wait_told(&other);
    wait_told(&rb);
    ck_assert_int_eq(rb.r, -EEXIST);
    ck_assert_int_eq(other.r, 0);
    ck_assert_uint_ne(other.id, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE recipient IN "
                              "('admin@example.org', 'boss@example.org')"),
                     2);
    ck_assert_int_eq(db_value("SELECT count(*) FROM entries e JOIN notices n ON n.id = "
                              "e.notice_id WHERE n.recipient = 'boss@example.org' AND e.stage = 6 "
                              "AND n.intro LIKE '2 notices%'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM log WHERE key LIKE 'failure-%'"), 2);
    inside = true;
    ck_assert_int_eq(tkl_state_unreported(b.st, to, 1, 10, on_failures, &after), 0);
    inside = false;
    commit(&b);
    wait_told(&after);
    ck_assert_int_eq(after.r, 0);
    ck_assert_uint_eq(after.n, 0);
}
END_TEST

START_TEST(recovery_makes_due_only_the_node_s_own_leases)
{
    struct told ca = {0}, cb = {0}, rec = {0};
    put_many(2);
    claim(&a, 1000, 1, &ca);
    claim(&b, 1000, 1, &cb);
    commit(&a);
    commit(&b);
    wait_told(&ca);
    wait_told(&cb);
    ck_assert_uint_eq(ca.n, 1);
    ck_assert_uint_eq(cb.n, 1);
    inside = true;
    ck_assert_int_eq(tkl_state_recover(a.st, a.id, 1500, on_value, &rec), 0);
    inside = false;
    commit(&a);
    wait_told(&rec);
    ck_assert_int_eq(rec.r, 0);
    ck_assert_int_eq(rec.value, 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node IS NULL AND "
                              "next_attempt = 1500"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node = 'node-b'"), 1);
}
END_TEST

START_TEST(a_claim_answered_after_half_its_lease_is_released_not_handed_out)
{
    struct told p = {0}, c = {0};
    struct node s = {.id = "node-s"};
    struct tkl_state_pg_options o = {.conninfo_file = conninfo,
                                     .node = s.id,
                                     .lease_seconds = 2,
                                     .on_ready = on_ready,
                                     .data = &s};
    ck_assert_int_eq(tkl_state_pg_new(&loop, &o, &s.st), 0);
    ck_assert(tkl_run_until_count(&loop, &s.ready, 1));
    put(&a, "hr@x", &p);
    commit(&a);
    wait_told(&p);
    /* the database holds the claim back 1.5 s of its 2 s lease */
    PGconn *lock = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(lock, "BEGIN; LOCK TABLE notices IN EXCLUSIVE MODE"));
    struct tkl_state_lease l = {s.id, 2};
    ck_assert_int_eq(tkl_state_claim(s.st, "email", 1000, 10, &l, on_claim, &c), 0);
    ck_assert_int_eq(tkl_state_commit(s.st), 0);
    tkl_run_for(&loop, 1500);
    ck_assert_int_eq(c.calls, 0);
    PQclear(tkl_pg_fixture_exec(lock, "COMMIT"));
    PQfinish(lock);
    wait_told(&c);
    ck_assert_int_eq(c.r, 0);
    ck_assert_uint_eq(c.n, 0);
    /* the release follows at the next commit (the loop's) */
    tkl_run_for(&loop, 300);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node IS NULL"), 1);
    tkl_state_close(s.st);
}
END_TEST

/* A monotonic clock the test moves. */
static uint64_t fake_ns = 5000000000u;

static uint64_t fake_clock(void)
{
    return fake_ns;
}

START_TEST(a_lease_is_fresh_only_within_half_a_lease_of_its_confirmation)
{
    /* a node stopped between a claim's answer and the hand-out (or between
     * renewals) may have lost its lease: the state says so, by its
     * monotonic clock, and a renewal that extended the lease says it
     * holds again; one another node took over stays stale */
    struct told c = {0}, rn = {0};
    struct node s = {.id = "node-c"};
    struct tkl_state_pg_options o = {.conninfo_file = conninfo,
                                     .node = s.id,
                                     .lease_seconds = LEASE,
                                     .on_ready = on_ready,
                                     .data = &s,
                                     .clock_ns = fake_clock};
    ck_assert_int_eq(tkl_state_pg_new(&loop, &o, &s.st), 0);
    ck_assert(tkl_run_until_count(&loop, &s.ready, 1));
    put_many(2);
    claim(&s, 1000, 2, &c);
    commit(&s);
    wait_told(&c);
    ck_assert_int_eq(c.r, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert(tkl_state_lease_fresh(s.st, c.ids[0]));
    ck_assert(tkl_state_lease_fresh(s.st, c.ids[1]));
    ck_assert(!tkl_state_lease_fresh(s.st, c.ids[1] + 1000)); /* not claimed here */
    ck_assert(!tkl_state_lease_fresh(a.st, c.ids[0]));        /* not by node a */
    fake_ns += (LEASE / 2 - 1) * 1000000000ull;
    ck_assert(tkl_state_lease_fresh(s.st, c.ids[0]));
    fake_ns += 1000000000ull; /* half the lease since the claim was asked */
    ck_assert(!tkl_state_lease_fresh(s.st, c.ids[0]));
    ck_assert(!tkl_state_lease_fresh(s.st, c.ids[1]));
    char q[128];
    snprintf(q, sizeof(q), "UPDATE notices SET lease_node = 'node-b' WHERE id = %llu",
             (unsigned long long)c.ids[1]);
    PGconn *db = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(db, q));
    PQfinish(db);
    struct tkl_state_lease l = {s.id, LEASE};
    inside = true;
    ck_assert_int_eq(tkl_state_renew(s.st, c.ids, 2, &l, 1030, on_done, &rn), 0);
    inside = false;
    commit(&s);
    wait_told(&rn);
    ck_assert_int_eq(rn.r, 0);
    ck_assert(tkl_state_lease_fresh(s.st, c.ids[0]));
    ck_assert(!tkl_state_lease_fresh(s.st, c.ids[1]));
    /* its outcome recorded, the notice is no longer this node's to hand out */
    struct told out = {0};
    outcome(&s, c.ids[0], TKL_STATE_DELIVERED, &out);
    commit(&s);
    wait_told(&out);
    ck_assert_int_eq(out.r, 0);
    ck_assert(!tkl_state_lease_fresh(s.st, c.ids[0]));
    tkl_state_close(s.st);
}
END_TEST

START_TEST(a_connection_lost_mid_group_tells_r_below_0_and_the_retry_stores_once)
{
    struct told p1 = {0}, p2 = {0}, again = {0};
    PGconn *lock = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(lock, "BEGIN; LOCK TABLE log IN EXCLUSIVE MODE"));
    put(&a, "hr@x", &p1);
    put(&a, "it@x", &p2);
    commit(&a);
    tkl_run_for(&loop, 300);
    ck_assert_int_eq(p1.calls, 0);
    PQclear(tkl_pg_fixture_exec(lock, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                      " WHERE datname = current_database()"
                                      " AND pid <> pg_backend_pid()"));
    PQclear(tkl_pg_fixture_exec(lock, "COMMIT"));
    PQfinish(lock);
    wait_told(&p1);
    wait_told(&p2);
    ck_assert_int_lt(p1.r, 0);
    ck_assert_int_lt(p2.r, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices"), 0);
    /* the reconnection wakes the node; the work done again is stored */
    int woken = a.woken;
    ck_assert(tkl_run_until_count(&loop, &a.woken, woken + 1));
    put(&a, "hr@x", &again);
    commit(&a);
    wait_told(&again);
    ck_assert_int_eq(again.r, 0);
    ck_assert_uint_ne(again.id, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices"), 1);
}
END_TEST

/* Whether the notice leased to node-a without node-a holding it was
 * released. */
static bool stray_released(void *arg)
{
    (void)arg;
    return db_value("SELECT count(*) FROM notices WHERE lease_node = 'node-a'") == 1;
}

START_TEST(a_reconnection_releases_the_leases_of_claims_whose_answer_was_lost)
{
    /* node a holds one claim; a second notice is leased to it by a claim
     * that committed but whose answer the lost connection took (made here
     * by hand); a third is another node's */
    struct told c = {0}, out = {0};
    put_many(3);
    claim(&a, 1000, 1, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 1);
    char q[256];
    snprintf(q, sizeof(q),
             "UPDATE notices SET lease_node = CASE WHEN id = (SELECT min(id) FROM notices WHERE "
             "lease_node IS NULL) THEN 'node-a' ELSE 'node-z' END, lease_until = 1000 + 60 WHERE "
             "lease_node IS NULL");
    PGconn *db = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(db, q));
    ck_assert_int_eq(tkl_pg_fixture_value(db, "SELECT count(*) FROM notices WHERE lease_node = "
                                              "'node-a'"),
                     2);
    PQclear(tkl_pg_fixture_exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                    " WHERE datname = current_database()"
                                    " AND pid <> pg_backend_pid()"));
    PQfinish(db);
    int woken = a.woken;
    ck_assert(tkl_run_until_count(&loop, &a.woken, woken + 1));
    ck_assert(tkl_run_until(&loop, stray_released, NULL, 5000));
    /* the one it holds is still its own; another node's is untouched; the
     * stray is due again at once, no attempt counted */
    snprintf(q, sizeof(q), "SELECT count(*) FROM notices WHERE id = %llu AND lease_node = 'node-a'",
             (unsigned long long)c.ids[0]);
    ck_assert_int_eq(db_value(q), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node = 'node-z'"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node IS NULL AND "
                              "attempts = 0 AND next_attempt <= 1000"),
                     1);
    outcome(&a, c.ids[0], TKL_STATE_DELIVERED, &out);
    commit(&a);
    wait_told(&out);
    ck_assert_int_eq(out.r, 0);
}
END_TEST

/* Queues a claim of one notice of node a and commits: 0 when it went
 * into the connection's queue, else what it was told at once. */
static int claim_now(struct told *c)
{
    struct tkl_state_lease l = {a.id, LEASE};
    *c = (struct told){0};
    ck_assert_int_eq(tkl_state_claim(a.st, "email", 1000, 1, &l, on_claim, c), 0);
    (void)tkl_state_commit(a.st); /* a lost connection tells the group at once */
    return c->calls ? c->r : 0;
}

START_TEST(a_claim_sent_while_the_connection_is_made_again_keeps_its_lease)
{
    /* the connection goes; a claim committed while it is being made again
     * (not yet up) is answered, and the notice it leased is handed out:
     * the node must still hold its lease, or another node sends it too */
    struct told probe, c;
    put_many(2);
    PGconn *db = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                    " WHERE datname = current_database()"
                                    " AND pid <> pg_backend_pid()"));
    PQfinish(db);
    /* until the loss is seen (a group refused at once: -ENOTCONN) */
    int tries = 0;
    for (;; tries++) {
        ck_assert_int_lt(tries, 100);
        probe = (struct told){0};
        ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &probe), 0);
        (void)tkl_state_commit(a.st);
        if (probe.calls && probe.r == -ENOTCONN)
            break;
        ck_assert(tkl_run_until_count(&loop, &probe.calls, 1));
    }
    /* then until a claim is taken into the queue of the connection being
     * made (not refused at once) */
    for (tries = 0; claim_now(&c) == -ENOTCONN; tries++) {
        ck_assert_int_lt(tries, 10000);
        uv_run(&loop, UV_RUN_ONCE);
    }
    wait_told(&c);
    ck_assert_int_eq(c.r, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert(tkl_state_lease_fresh(a.st, c.ids[0]));
    tkl_run_for(&loop, 500); /* whatever the reconnection queued is committed */
    char q[160];
    snprintf(q, sizeof(q), "SELECT count(*) FROM notices WHERE id = %llu AND lease_node = 'node-a'",
             (unsigned long long)c.ids[0]);
    ck_assert_int_eq(db_value(q), 1);
    /* so another node cannot claim it */
    struct told other = {0};
    claim(&b, 1000, 2, &other);
    commit(&b);
    wait_told(&other);
    ck_assert_int_eq(other.r, 0);
    for (size_t i = 0; i < other.n; i++)
        ck_assert_uint_ne(other.ids[i], c.ids[0]);
}
END_TEST

START_TEST(a_notice_claimed_again_while_held_is_held_once)
{
    /* the node's own lease on a notice in flight ran out (the database
     * was away longer than a lease) and its next claim takes the notice
     * again: once the outcome is recorded nothing is held, so no renewal
     * runs on and a drain does not wait */
    struct told c1 = {0}, c2 = {0}, out = {0};
    put_many(1);
    claim(&a, 1000, 1, &c1);
    commit(&a);
    wait_told(&c1);
    ck_assert_uint_eq(c1.n, 1);
    ck_assert_int_eq(db_value("WITH u AS (UPDATE notices SET lease_until = 1000 RETURNING 1)"
                              " SELECT count(*) FROM u"),
                     1);
    claim(&a, 1000, 1, &c2);
    commit(&a);
    wait_told(&c2);
    ck_assert_uint_eq(c2.n, 1);
    ck_assert_uint_eq(c2.ids[0], c1.ids[0]);
    outcome(&a, c1.ids[0], TKL_STATE_DELIVERED, &out);
    commit(&a);
    wait_told(&out);
    ck_assert_int_eq(out.r, 0);
    ck_assert(!tkl_state_lease_fresh(a.st, c1.ids[0]));
    tkl_state_drain(a.st);
    tkl_run_for(&loop, 500);
    struct told late = {0};
    ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &late), -ESHUTDOWN);
}
END_TEST

START_TEST(a_claim_whose_notices_cannot_be_held_releases_them)
{
    /* out of memory tracking the notices in flight (so renewing their
     * leases): none is handed out, the claim says -ENOMEM and the leases
     * go at once, so another round takes them */
    struct told c = {0}, again = {0};
    put_many(2);
    claim(&a, 1000, 2, &c);
    fail_realloc = true;
    commit(&a);
    wait_told(&c);
    fail_realloc = false;
    ck_assert_int_eq(c.r, -ENOMEM);
    ck_assert_uint_eq(c.n, 0);
    tkl_run_for(&loop, 300); /* the releases go with the loop's next commit */
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE lease_node IS NULL AND "
                              "attempts = 0"),
                     2);
    claim(&b, 1000, 2, &again);
    commit(&b);
    wait_told(&again);
    ck_assert_int_eq(again.r, 0);
    ck_assert_uint_eq(again.n, 2);
}
END_TEST

START_TEST(a_drain_waits_for_the_outcome_of_a_notice_in_flight)
{
    /* a notifier may report after the stop's last group (a reloaded-away
     * instance stopped last): its outcome is still recorded, as SQLite
     * records it, and then the connection goes */
    struct told c = {0}, out = {0};
    put_many(1);
    claim(&a, 1000, 1, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 1);
    tkl_state_drain(a.st);
    tkl_run_for(&loop, 200);
    inside = true;
    ck_assert_int_eq(
        tkl_state_outcome(a.st, c.ids[0], TKL_STATE_DELIVERED, 2000, "250 OK", a.id, on_done, &out),
        0);
    inside = false;
    commit(&a);
    wait_told(&out);
    ck_assert_int_eq(out.r, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices WHERE state = 1"), 1);
    /* nothing left to wait for: the connection went, so work is refused */
    tkl_run_for(&loop, 100);
    struct told late = {0};
    ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &late), -ESHUTDOWN);
}
END_TEST

START_TEST(closing_tells_every_pending_completion_once)
{
    struct told sent = {0}, open = {0}, meta = {0};
    put(&a, "hr@x", &sent);
    commit(&a); /* in flight */
    inside = true;
    ck_assert_int_eq(tkl_state_set_meta(a.st, "last_run", 5, on_done, &open), 0);
    ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &meta), 0);
    inside = false;
    tkl_state_close(a.st);
    a.st = NULL;
    ck_assert_int_eq(sent.calls, 1);
    ck_assert_int_eq(sent.r, -ECANCELED);
    ck_assert_int_eq(open.calls, 1);
    ck_assert_int_eq(open.r, -ECANCELED);
    ck_assert_int_eq(meta.calls, 1);
    tkl_run_for(&loop, 100);
    ck_assert_int_eq(sent.calls, 1);
    ck_assert_int_eq(open.calls, 1);
}
END_TEST

START_TEST(drained_while_the_database_cannot_be_reached_it_tells_what_waits_and_lets_go)
{
    /* a stop while the database is down: the group waiting for it is told
     * r < 0 and the connection let go, so the loop (and ticklerd) ends */
    struct told meta = {0};
    struct node s = {.id = "node-s"};
    char path[300];
    snprintf(path, sizeof(path), "%s/down.conninfo", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("host=127.0.0.1 port=1 dbname=x user=x\n", f);
    fclose(f);
    struct tkl_state_pg_options o = {.conninfo_file = path,
                                     .node = s.id,
                                     .lease_seconds = LEASE,
                                     .on_ready = on_ready,
                                     .data = &s};
    ck_assert_int_eq(tkl_state_pg_new(&loop, &o, &s.st), 0);
    inside = true;
    ck_assert_int_eq(tkl_state_set_meta(s.st, "last_run", 5, on_done, &meta), 0);
    inside = false;
    ck_assert_int_eq(tkl_state_commit(s.st), 0);
    tkl_run_for(&loop, 300);
    tkl_state_drain(s.st);
    ck_assert(tkl_run_until_count(&loop, &meta.calls, 1));
    ck_assert_int_lt(meta.r, 0);
    ck_assert_int_eq(s.ready, 0); /* a stop is no failure of the schema */
    tkl_state_close(s.st);
    ck_assert_int_eq(meta.calls, 1);
}
END_TEST

START_TEST(meta_round_trips_and_absent_is_enoent)
{
    struct told set = {0}, got = {0}, none = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &none), 0);
    ck_assert_int_eq(tkl_state_set_meta(a.st, "last_run", 12345, on_done, &set), 0);
    ck_assert_int_eq(tkl_state_get_meta(a.st, "last_run", on_value, &got), 0);
    inside = false;
    commit(&a);
    wait_told(&got);
    ck_assert_int_eq(none.r, -ENOENT);
    ck_assert_int_eq(set.r, 0);
    ck_assert_int_eq(got.r, 0);
    ck_assert_int_eq(got.value, 12345);
}
END_TEST

START_TEST(a_group_of_more_statements_than_a_transaction_takes_is_committed_in_parts)
{
    enum { N = 150 };
    static struct told t[N];
    memset(t, 0, sizeof(t));
    for (int i = 0; i < N; i++) {
        char rcpt[32];
        snprintf(rcpt, sizeof(rcpt), "r%d@x", i);
        put(&a, rcpt, &t[i]);
    }
    commit(&a);
    ck_assert(tkl_run_until_count(&loop, &t[N - 1].calls, 1));
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(t[i].calls, 1);
        ck_assert_int_eq(t[i].r, 0);
    }
    ck_assert_int_eq(db_value("SELECT count(*) FROM notices"), N);
}
END_TEST

/* What a read of the due channels was told: its channels, joined by
 * commas. */
struct channels {
    int calls, r;
    char list[64];
};

static void on_channel_list(void *data, int r, char **v, size_t n)
{
    struct channels *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(t->list);
        snprintf(t->list + len, sizeof(t->list) - len, "%s%s", i ? "," : "", v[i]);
        free(v[i]);
    }
    free(v);
}

static const char *due_channels(struct node *n, int64_t now, struct channels *t)
{
    *t = (struct channels){0};
    inside = true;
    ck_assert_int_eq(tkl_state_due_channels(n->st, now, on_channel_list, t), 0);
    inside = false;
    commit(n);
    ck_assert(tkl_run_until_count(&loop, &t->calls, 1));
    ck_assert_int_eq(t->r, 0);
    return t->list;
}

static int64_t next_attempt(struct node *n)
{
    struct told t = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_next_attempt(n->st, on_value, &t), 0);
    inside = false;
    commit(n);
    wait_told(&t);
    ck_assert_int_eq(t.r, 0);
    return t.value;
}

START_TEST(the_next_attempt_and_the_due_channels_wait_for_live_leases)
{
    struct told c = {0};
    struct channels ch;
    put_many(3);
    claim(&a, 1000, 1, &c);
    commit(&a);
    wait_told(&c);
    ck_assert_uint_eq(c.n, 1);
    /* node a's lease ends at 2000; the two others wait on two channels */
    ck_assert_int_eq(db_value("WITH u AS (UPDATE notices SET lease_until = 2000"
                              " WHERE lease_node = 'node-a' RETURNING 1) SELECT count(*) FROM u"),
                     1);
    ck_assert_int_eq(db_value("WITH u AS (UPDATE notices SET next_attempt = 2500 WHERE id ="
                              " (SELECT min(id) FROM notices WHERE lease_node IS NULL)"
                              " RETURNING 1) SELECT count(*) FROM u"),
                     1);
    ck_assert_int_eq(db_value("WITH u AS (UPDATE notices SET next_attempt = 2200,"
                              " channel = 'hook' WHERE id = (SELECT max(id) FROM notices"
                              " WHERE lease_node IS NULL) RETURNING 1) SELECT count(*) FROM u"),
                     1);
    /* another node's lease counts from its end; the node's own, not at all */
    ck_assert_int_eq(next_attempt(&b), 2000);
    ck_assert_int_eq(next_attempt(&a), 2200);
    ck_assert_str_eq(due_channels(&b, 1900, &ch), "");
    ck_assert_str_eq(due_channels(&b, 2100, &ch), "email");
    ck_assert_str_eq(due_channels(&b, 2300, &ch), "email,hook");
}
END_TEST

/* PostgreSQL: committed, then the loop runs until the answer. */
static void settle_on_loop(struct tkl_state *st, int *calls)
{
    ck_assert_int_eq(tkl_state_commit(st), 0);
    ck_assert(tkl_run_until_count(&loop, calls, 1));
}

START_TEST(officers_updates_added_by_one_node_are_read_by_the_other_which_is_told)
{
    updates_contract(a.st, b.st, settle_on_loop);
    updates_reopen_contract(a.st, b.st, settle_on_loop);
    updates_resume_contract(a.st, b.st, settle_on_loop);
    updates_colleague_contract(a.st, b.st, settle_on_loop);
    updates_long_texts_contract(a.st, b.st, settle_on_loop);
    /* b heard of a's updates (NOTIFY); a did not hear of its own */
    ck_assert(tkl_run_until_count(&loop, &b.updated, 1));
    ck_assert_int_eq(a.updated, 0);
    /* both nodes adding the same update: one row */
    struct tkl_update u = updates_sample(TKL_UPDATE_COMPLETE);
    u.recipient = "ict@x";
    struct update_told x = {0}, y = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_add_update(a.st, &u, on_update_added, &x), 0);
    ck_assert_int_eq(tkl_state_add_update(b.st, &u, on_update_added, &y), 0);
    ck_assert_int_eq(tkl_state_commit(a.st), 0);
    ck_assert_int_eq(tkl_state_commit(b.st), 0);
    inside = false;
    ck_assert(tkl_run_until_count(&loop, &x.calls, 1));
    ck_assert(tkl_run_until_count(&loop, &y.calls, 1));
    /* whichever commits second may find the first not yet in its snapshot:
     * -EAGAIN, and asked again finds it; the first is never told so */
    ck_assert(x.r != -EAGAIN || y.r != -EAGAIN);
    if (x.r == -EAGAIN)
        x = updates_add(a.st, &u, settle_on_loop);
    if (y.r == -EAGAIN)
        y = updates_add(b.st, &u, settle_on_loop);
    ck_assert_int_eq(x.r, 0);
    ck_assert_int_eq(y.r, 0);
    ck_assert_int_eq(x.id, y.id);
    ck_assert(x.is_new != y.is_new);
}
END_TEST

/* Another node recording amber through a link, its transaction open
 * (holding the link's lock, its row inserted, not committed), while a
 * records red through the same link: a waits for the lock, so red follows
 * amber, and red pressed again is found, not recorded a second time. */
START_TEST(updates_through_one_link_from_two_nodes_follow_each_other)
{
    struct tkl_update green = updates_sample(TKL_UPDATE_PROGRESS);
    green.rag = TKL_RAG_GREEN;
    struct update_told g = updates_add(a.st, &green, settle_on_loop);
    ck_assert_int_eq(g.r, 0);
    PGconn *c = tkl_pg_fixture_connect("t_state");
    char sql[512];
    PQclear(tkl_pg_fixture_exec(c, "BEGIN"));
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(" TKL_PG_UPDATE_LOCK_CLASS ", %d)",
             (int)tkl_pg_update_lock(green.action_id));
    PQclear(tkl_pg_fixture_exec(c, sql));
    snprintf(sql, sizeof(sql),
             "INSERT INTO updates(action_id, recipient, team_id, kind, at, link_issued_at, rag,"
             " note, plan_deadline_day, plan_deadline_text, plan_status, plan_owners, after_id)"
             " VALUES ('A1', 'hr@x', 'hr', 3, 1001, 900, 2, 'amber', 19477, '29/04/2023',"
             " 'In progress', 'HR', %lld)",
             (long long)g.id);
    PQclear(tkl_pg_fixture_exec(c, sql));
    struct tkl_update red = green;
    red.rag = TKL_RAG_RED;
    red.at = 1002;
    struct update_told x = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_add_update(a.st, &red, on_update_added, &x), 0);
    ck_assert_int_eq(tkl_state_commit(a.st), 0);
    inside = false;
    /* a's transaction waits for the lock until the other commits */
    ck_assert(tkl_run_until(&loop, pg_waiting_on_lock, NULL, 20000));
    ck_assert_int_eq(x.calls, 0);
    PQclear(tkl_pg_fixture_exec(c, "COMMIT"));
    PQfinish(c);
    ck_assert(tkl_run_until_count(&loop, &x.calls, 1));
    ck_assert_int_eq(x.r, 0);
    ck_assert(x.is_new);
    ck_assert_int_eq(db_value("SELECT after_id FROM updates WHERE rag = 1"),
                     db_value("SELECT id FROM updates WHERE rag = 2"));
    /* pressed again: found */
    struct update_told y = updates_add(a.st, &red, settle_on_loop);
    ck_assert_int_eq(y.r, 0);
    ck_assert(!y.is_new);
    ck_assert_int_eq(y.id, x.id);
    ck_assert_int_eq(db_value("SELECT count(*) FROM updates"), 3);
    /* a holder that never lets go (a node stalled inside its
     * transaction): the wait ends, the group undone, to be asked again */
    c = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(c, "BEGIN"));
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(" TKL_PG_UPDATE_LOCK_CLASS ", %d)",
             (int)tkl_pg_update_lock(green.action_id));
    PQclear(tkl_pg_fixture_exec(c, sql));
    struct tkl_update amber = green;
    amber.rag = TKL_RAG_AMBER;
    amber.at = 1003;
    struct update_told z = updates_add(a.st, &amber, settle_on_loop);
    ck_assert_int_eq(z.r, -EAGAIN);
    PQclear(tkl_pg_fixture_exec(c, "ROLLBACK"));
    PQfinish(c);
    z = updates_add(a.st, &amber, settle_on_loop);
    ck_assert_int_eq(z.r, 0);
    ck_assert(z.is_new);
}
END_TEST

struct viewed {
    int calls, r;
    struct tkl_state_view *v;
};

static void on_view(void *data, int r, struct tkl_state_view *v)
{
    struct viewed *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    tkl_state_view_free(t->v);
    t->v = v;
}

/* The view node n reads at now (the numbers from day 0). */
static const struct tkl_state_view *view(struct node *n, int64_t now, struct viewed *t)
{
    int calls = t->calls;
    inside = true;
    ck_assert_int_eq(tkl_state_view(n->st, 0, now, 10, on_view, t), 0);
    inside = false;
    commit(n);
    ck_assert(tkl_run_until_count(&loop, &t->calls, calls + 1));
    ck_assert_int_eq(t->r, 0);
    return t->v;
}

START_TEST(the_view_shows_the_numbers_and_the_notices_not_delivered_with_live_leases)
{
    struct told ca = {0}, cb = {0}, o = {0};
    struct viewed t = {0};
    put_many(3);
    claim(&a, 1000, 1, &ca);
    commit(&a);
    wait_told(&ca);
    outcome(&a, ca.ids[0], TKL_STATE_FAILED, &o);
    commit(&a);
    wait_told(&o);
    claim(&b, 1000, 1, &cb); /* leased to node-b until 1000 + LEASE */
    commit(&b);
    wait_told(&cb);
    const struct tkl_state_view *v = view(&a, 1010, &t);
    ck_assert_int_eq(v->st.pending, 2);
    ck_assert_int_eq(v->st.retrying, 0);
    ck_assert_int_eq(v->st.failed, 1);
    ck_assert_int_eq(v->st.delivered, 0);
    ck_assert_int_eq(v->st.oldest_pending, 1000);
    ck_assert_uint_eq(v->rows.n, 3);
    /* failed first, then pending, newest first */
    ck_assert_uint_eq(v->rows.v[0].id, ca.ids[0]);
    ck_assert_int_eq(v->rows.v[0].state, TKL_NOTICE_FAILED);
    ck_assert_str_eq(v->rows.v[0].last_reply, "250 OK");
    ck_assert_uint_gt(v->rows.v[1].id, cb.ids[0]);
    ck_assert_ptr_null(v->rows.v[1].lease_node);
    ck_assert_uint_eq(v->rows.v[2].id, cb.ids[0]);
    ck_assert_str_eq(v->rows.v[2].lease_node, "node-b");
    ck_assert_int_eq(v->rows.v[2].lease_until, 1000 + LEASE);
    ck_assert(v->rows.v[2].sending);
    ck_assert_uint_eq(v->rows.v[2].n_entries, 1);
    ck_assert_str_eq(v->rows.v[2].team_name, "Human Resources");
    /* once the lease has expired, the notice is nobody's */
    v = view(&b, 1000 + LEASE, &t);
    ck_assert_ptr_null(v->rows.v[2].lease_node);
    ck_assert(!v->rows.v[2].sending);
    tkl_state_view_free(t.v);
}
END_TEST

struct listed {
    int calls, r;
    struct tkl_item_notices l;
};

static void on_notices(void *data, int r, struct tkl_item_notices *l)
{
    struct listed *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    if (r != 0)
        ck_assert_uint_eq(l->n, 0);
    tkl_item_notices_free(&t->l);
    t->l = *l; /* taken */
    *l = (struct tkl_item_notices){0};
}

/* The notices of item (NULL: every item's latest) node n reads at now. */
static const struct tkl_item_notices *item_notices(struct node *n, const char *item, size_t max,
                                                   int64_t now, struct listed *t)
{
    int calls = t->calls;
    inside = true;
    ck_assert_int_eq(tkl_state_item_notices(n->st, item, max, now, on_notices, t), 0);
    inside = false;
    commit(n);
    ck_assert(tkl_run_until_count(&loop, &t->calls, calls + 1));
    ck_assert_int_eq(t->r, 0);
    return &t->l;
}

START_TEST(an_item_s_notices_read_by_one_node_show_what_the_other_sent)
{
    struct told cb = {0}, ca = {0}, o = {0};
    struct listed t = {0};
    put_many(3);
    claim(&b, 1000, 1, &cb); /* node-b delivers the oldest */
    commit(&b);
    wait_told(&cb);
    outcome(&b, cb.ids[0], TKL_STATE_DELIVERED, &o);
    commit(&b);
    wait_told(&o);
    ck_assert_int_eq(o.r, 0);
    claim(&a, 1000, 1, &ca); /* node-a has the next in flight */
    commit(&a);
    wait_told(&ca);

    const struct tkl_item_notices *l = item_notices(&a, "A1", 50, 1010, &t);
    ck_assert_uint_eq(l->n, 3);
    ck_assert_uint_gt(l->v[0].notice_id, ca.ids[0]); /* newest first */
    ck_assert_int_eq(l->v[0].state, TKL_NOTICE_PENDING);
    ck_assert(!l->v[0].sending);
    ck_assert_uint_eq(l->v[1].notice_id, ca.ids[0]);
    ck_assert(l->v[1].sending);
    ck_assert_uint_eq(l->v[2].notice_id, cb.ids[0]);
    ck_assert_int_eq(l->v[2].state, TKL_NOTICE_DELIVERED);
    ck_assert_int_eq(l->v[2].attempts, 1);
    ck_assert_int_eq(l->v[2].finished_at, 2000);
    ck_assert_int_eq(l->v[2].created_at, 1000);
    ck_assert_str_eq(l->v[2].item_id, "A1");
    ck_assert_str_eq(l->v[2].stage_key, "due");
    ck_assert_str_eq(l->v[2].channel, "email");
    ck_assert_str_eq(l->v[2].recipient, "r0@x");
    ck_assert_str_eq(l->v[2].team_name, "Human Resources");
    /* at most max; a lease expired is no longer sending */
    l = item_notices(&a, "A1", 2, 1000 + LEASE, &t);
    ck_assert_uint_eq(l->n, 2);
    ck_assert(!l->v[1].sending);
    l = item_notices(&b, "B9", 50, 1010, &t);
    ck_assert_uint_eq(l->n, 0);
    /* an officer's answer about A1, told to the report route: not its
     * last reminder */
    struct tkl_notice_entry said = entry;
    said.stage = TKL_STAGE_ANSWER;
    struct tkl_notice x = notice("admin@x");
    x.entries = &said;
    struct told tp = {0};
    put_notice(&b, &x, &tp);
    commit(&b);
    ck_assert(tkl_run_until_count(&loop, &tp.calls, 1));
    ck_assert_int_eq(tp.r, 0);
    ck_assert_uint_gt(tp.id, 0);
    /* nor another owning team's update, told to a team of a joint action */
    struct tkl_notice_entry told = entry;
    told.stage = TKL_STAGE_JOINT;
    struct tkl_notice y = notice("other@x");
    y.entries = &told;
    struct told tj = {0};
    put_notice(&b, &y, &tj);
    commit(&b);
    ck_assert(tkl_run_until_count(&loop, &tj.calls, 1));
    ck_assert_int_eq(tj.r, 0);
    ck_assert_uint_gt(tj.id, tp.id);
    l = item_notices(&a, "A1", 50, 1010, &t);
    ck_assert_uint_eq(l->n, 3);
    /* every item's latest notice */
    l = item_notices(&b, NULL, 0, 1010, &t);
    ck_assert_uint_eq(l->n, 1);
    ck_assert_str_eq(l->v[0].item_id, "A1");
    ck_assert_uint_gt(l->v[0].notice_id, ca.ids[0]);
    ck_assert_uint_lt(l->v[0].notice_id, tp.id);
    ck_assert_str_ne(l->v[0].recipient, "admin@x");
    ck_assert_str_ne(l->v[0].recipient, "other@x");
    ck_assert_ptr_eq(tkl_item_notices_find(l, "A1"), &l->v[0]);
    tkl_item_notices_free(&t.l);
}
END_TEST

/* An action whose id is longer than an index entry holds (PostgreSQL's
 * btree takes 2,704 bytes; its log key holds the id too): its notice is
 * put once, claimed whole and listed with the action. */
START_TEST(an_action_with_an_id_longer_than_an_index_entry_is_reminded_once)
{
    static char id[3001];
    updates_random_text(id, sizeof(id), 21);
    struct tkl_notice_entry e = entry;
    e.item_id = id;
    struct tkl_notice x = notice("r@x");
    x.entries = &e;
    x.thread_key = id;
    struct told p = {0}, again = {0}, c = {0};
    struct listed t = {0};
    put_notice(&a, &x, &p);
    commit(&a);
    wait_told(&p);
    ck_assert_int_eq(p.r, 0);
    ck_assert_uint_ne(p.id, 0);
    put_notice(&b, &x, &again); /* the same reminder by the other node: logged already */
    commit(&b);
    wait_told(&again);
    ck_assert_int_eq(again.r, 0);
    ck_assert_uint_eq(again.id, 0);
    claim(&b, 1000, 10, &c);
    commit(&b);
    wait_told(&c);
    ck_assert_int_eq(c.r, 0);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(c.ids[0], p.id);
    const struct tkl_item_notices *l = item_notices(&a, id, 50, 1010, &t);
    ck_assert_uint_eq(l->n, 1);
    ck_assert_str_eq(l->v[0].item_id, id);
    ck_assert_uint_eq(l->v[0].notice_id, p.id);
    tkl_item_notices_free(&t.l);
}
END_TEST

START_TEST(health_is_the_connection_and_the_last_transaction)
{
    struct node c = {.id = "node-c"};
    struct tkl_state_pg_options o = {.conninfo_file = conninfo,
                                     .node = c.id,
                                     .lease_seconds = LEASE,
                                     .on_ready = on_ready,
                                     .data = &c};
    ck_assert_int_eq(tkl_state_health(a.st), 0);
    ck_assert_int_eq(tkl_state_pg_new(&loop, &o, &c.st), 0);
    ck_assert_int_eq(tkl_state_health(c.st), -ENOTCONN); /* still connecting */
    ck_assert(tkl_run_until_count(&loop, &c.ready, 1));
    ck_assert_int_eq(tkl_state_health(c.st), 0);
    tkl_state_close(c.st);
}
END_TEST

static void db_exec(const char *sql)
{
    PGconn *c = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(c, sql));
    PQfinish(c);
}

/* The failure sweep's index as the database has it: its oid, 0 when
 * there is none or it is invalid. */
static long long sweep_index(void)
{
    return db_value("SELECT coalesce((SELECT indexrelid::bigint FROM pg_index WHERE indexrelid ="
                    " to_regclass('notices_failed') AND indisvalid), 0)");
}

static bool plan_read(void *arg)
{
    return *(const char *)arg != '\0';
}

static void on_explained(void *data, int r, const PGresult *const *results, size_t n)
{
    char *plan = data;
    ck_assert_int_eq(r, 0);
    for (int i = 0; i < PQntuples(results[n - 1]); i++) {
        size_t len = strlen(plan);
        snprintf(plan + len, 4096 - len, "%s\n", PQgetvalue(results[n - 1], i, 0));
    }
}

static void on_up(void *data, bool connected)
{
    *(int *)data += connected;
}

/* The plan of the sweep's own prepared statement, sequential scans
 * discouraged as on a table of many notices, into plan (4096 bytes). */
static void sweep_plan(char *plan)
{
    int up = 0;
    struct tkl_pg *pg = NULL;
    struct tkl_pg_options o = {.conninfo_file = conninfo, .on_state = on_up, .data = &up};
    ck_assert_int_eq(tkl_pg_new(&loop, &o, &pg), 0);
    ck_assert_int_eq(tkl_pg_schema_prepare(pg), 0);
    ck_assert(tkl_run_until_count(&loop, &up, 1));
    struct tkl_pg_stmt txn[] = {{.sql = "SET LOCAL enable_seqscan = off"},
                                {.sql = "EXPLAIN EXECUTE " TKL_PG_UNREPORTED "(6, 100, '[]')"}};
    *plan = '\0';
    ck_assert_int_eq(tkl_pg_transaction(pg, txn, 2, on_explained, plan), 0);
    ck_assert(tkl_run_until(&loop, plan_read, plan, 10000));
    tkl_pg_close(pg);
}

/* Each node sees to the failure sweep's index once open, outside its
 * migrations: built valid, the sweep's statement reads it, and a node
 * opened on a database that has it changes nothing. */
START_TEST(the_failure_sweep_s_index_is_built_once_and_read_by_the_sweep)
{
    ck_assert(tkl_run_until_count(&loop, &a.indexed, 1));
    ck_assert(tkl_run_until_count(&loop, &b.indexed, 1));
    long long oid = sweep_index();
    ck_assert_int_ne(oid, 0);
    ck_assert_int_eq(db_value("SELECT max(version) FROM tickler_schema_version"),
                     TKL_PG_SCHEMA_VERSION);
    char plan[4096];
    sweep_plan(plan);
    ck_assert_msg(strstr(plan, " using notices_failed on notices n"), "%s", plan);
    struct node c = {.id = "node-c"};
    start(&c);
    ck_assert(tkl_run_until_count(&loop, &c.indexed, 1));
    ck_assert_int_eq(c.index_r, 0);
    ck_assert_int_eq(sweep_index(), oid);
    tkl_state_close(c.st);
}
END_TEST

/* An invalid index of its name (a concurrent build interrupted) is
 * dropped and built again. */
START_TEST(an_invalid_index_of_its_name_is_built_again)
{
    ck_assert(tkl_run_until_count(&loop, &a.indexed, 1));
    ck_assert(tkl_run_until_count(&loop, &b.indexed, 1));
    long long oid = sweep_index();
    ck_assert_int_ne(oid, 0);
    db_exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid ="
            " to_regclass('notices_failed')");
    ck_assert_int_eq(sweep_index(), 0);
    struct node c = {.id = "node-c"};
    start(&c);
    ck_assert(tkl_run_until_count(&loop, &c.indexed, 1));
    ck_assert_int_eq(c.index_r, 0);
    ck_assert_int_ne(sweep_index(), 0);
    ck_assert_int_ne(sweep_index(), oid);
    tkl_state_close(c.st);
}
END_TEST

/* A lock another session holds on the notices stops the build after the
 * short lock_timeout: the node opens and works meanwhile, and warns that
 * the sweep reads without the index. */
START_TEST(a_lock_held_elsewhere_leaves_the_index_for_later_with_a_warning)
{
    ck_assert(tkl_run_until_count(&loop, &a.indexed, 1));
    ck_assert(tkl_run_until_count(&loop, &b.indexed, 1));
    db_exec("DROP INDEX notices_failed");
    PGconn *locker = tkl_pg_fixture_connect("t_state");
    PQclear(
        tkl_pg_fixture_exec(locker, "BEGIN; LOCK TABLE notices IN SHARE UPDATE EXCLUSIVE MODE"));
    struct node c = {.id = "node-c"};
    tkl_capture_begin();
    start(&c);
    struct told t = {0};
    put(&c, "locked@x", &t);
    commit(&c);
    wait_told(&t);
    bool written_first = c.indexed == 0; /* the node's writes did not wait for the index */
    ck_assert(tkl_run_until_count(&loop, &c.indexed, 1));
    char *log = tkl_capture_end();
    ck_assert(written_first);
    ck_assert_int_eq(t.r, 0);
    ck_assert_int_lt(c.index_r, 0);
    ck_assert_msg(strstr(log, "cannot build the failure sweep's index notices_failed now: "
                              "canceling statement due to lock timeout; the sweep reads the "
                              "failed notices without it"),
                  "%s", log);
    /* its connection's lines tell it from the node's */
    ck_assert_msg(strstr(log, " (building the failure sweep's index): connected"), "%s", log);
    free(log);
    PQclear(tkl_pg_fixture_exec(locker, "ROLLBACK"));
    PQfinish(locker);
    ck_assert_int_eq(sweep_index(), 0);
    tkl_state_close(c.st);
}
END_TEST

/* Whether a session waits for a lock of the notices table. */
static bool notices_lock_awaited(void *arg)
{
    (void)arg;
    return db_value("SELECT count(*) FROM pg_locks WHERE relation = 'notices'::regclass AND NOT"
                    " granted") > 0;
}

/* An index of its name that another session made while the node waited
 * to build it (the build that ran meanwhile interrupted: invalid) is not
 * said to be built, which CREATE INDEX ... IF NOT EXISTS, skipping it,
 * would have the node believe: the node warns. */
START_TEST(an_invalid_index_made_meanwhile_is_not_said_built)
{
    ck_assert(tkl_run_until_count(&loop, &a.indexed, 1));
    ck_assert(tkl_run_until_count(&loop, &b.indexed, 1));
    db_exec("DROP INDEX notices_failed");
    PGconn *other = tkl_pg_fixture_connect("t_state");
    PQclear(tkl_pg_fixture_exec(other, "BEGIN; LOCK TABLE notices IN SHARE UPDATE EXCLUSIVE MODE"));
    struct node c = {.id = "node-c"};
    tkl_capture_begin();
    start(&c);
    /* the node found none and waits to build it; the other session makes
     * it, left invalid, within the node's lock_timeout */
    ck_assert(tkl_run_until(&loop, notices_lock_awaited, NULL, 10000));
    PQclear(tkl_pg_fixture_exec(other, "CREATE INDEX notices_failed ON notices(id)"));
    PQclear(tkl_pg_fixture_exec(other, "UPDATE pg_index SET indisvalid = false WHERE indexrelid ="
                                       " 'notices_failed'::regclass"));
    PQclear(tkl_pg_fixture_exec(other, "COMMIT"));
    PQfinish(other);
    ck_assert(tkl_run_until_count(&loop, &c.indexed, 1));
    char *log = tkl_capture_end();
    ck_assert_int_lt(c.index_r, 0);
    ck_assert_msg(!strstr(log, "notices_failed is built"), "%s", log);
    ck_assert_msg(strstr(log, "cannot build the failure sweep's index notices_failed now: "), "%s",
                  log);
    free(log);
    ck_assert_int_eq(sweep_index(), 0);
    tkl_state_close(c.st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_state");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_notice_put_by_two_nodes_is_stored_once_and_wakes_the_other);
    tcase_add_test(tc, a_claimed_notice_is_read_whole_and_its_outcome_recorded);
    tcase_add_test(tc, a_withdrawn_notice_is_final_without_an_attempt);
    tcase_add_test(tc, two_nodes_claim_disjoint_notices);
    tcase_add_test(tc, the_next_attempt_and_the_due_channels_wait_for_live_leases);
    tcase_add_test(tc, an_expired_lease_is_taken_over_and_the_first_outcome_is_not_ours);
    tcase_add_test(tc, a_look_at_a_notice_no_notifier_serves_counts_no_attempt);
    tcase_add_test(tc, a_renewal_extends_only_the_leases_of_notices_in_flight_here);
    tcase_add_test(tc, recovery_makes_due_only_the_node_s_own_leases);
    tcase_add_test(tc, hastening_makes_due_only_the_channel_s_notices_waiting_for_a_retry);
    tcase_add_test(tc, two_nodes_sweeping_at_once_report_each_failure_once);
    tcase_add_test(tc, a_claim_answered_after_half_its_lease_is_released_not_handed_out);
    tcase_add_test(tc, a_lease_is_fresh_only_within_half_a_lease_of_its_confirmation);
    tcase_add_test(tc, a_connection_lost_mid_group_tells_r_below_0_and_the_retry_stores_once);
    tcase_add_test(tc, a_reconnection_releases_the_leases_of_claims_whose_answer_was_lost);
    tcase_add_test(tc, a_claim_sent_while_the_connection_is_made_again_keeps_its_lease);
    tcase_add_test(tc, a_notice_claimed_again_while_held_is_held_once);
    tcase_add_test(tc, a_claim_whose_notices_cannot_be_held_releases_them);
    tcase_add_test(tc, a_drain_waits_for_the_outcome_of_a_notice_in_flight);
    tcase_add_test(tc, closing_tells_every_pending_completion_once);
    tcase_add_test(tc,
                   drained_while_the_database_cannot_be_reached_it_tells_what_waits_and_lets_go);
    tcase_add_test(tc, meta_round_trips_and_absent_is_enoent);
    tcase_add_test(tc, a_group_of_more_statements_than_a_transaction_takes_is_committed_in_parts);
    tcase_add_test(tc, officers_updates_added_by_one_node_are_read_by_the_other_which_is_told);
    tcase_add_test(tc, updates_through_one_link_from_two_nodes_follow_each_other);
    tcase_add_test(tc, the_view_shows_the_numbers_and_the_notices_not_delivered_with_live_leases);
    tcase_add_test(tc, an_item_s_notices_read_by_one_node_show_what_the_other_sent);
    tcase_add_test(tc, an_action_with_an_id_longer_than_an_index_entry_is_reminded_once);
    tcase_add_test(tc, health_is_the_connection_and_the_last_transaction);
    tcase_add_test(tc, the_failure_sweep_s_index_is_built_once_and_read_by_the_sweep);
    tcase_add_test(tc, an_invalid_index_of_its_name_is_built_again);
    tcase_add_test(tc, a_lock_held_elsewhere_leaves_the_index_for_later_with_a_warning);
    tcase_add_test(tc, an_invalid_index_made_meanwhile_is_not_said_built);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}
