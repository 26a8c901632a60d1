#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <tickler/text.h>

#include "../core/day.h"
#include "../core/dirlock.h"
#include "../core/mem.h"
#include "../core/log.h"
#include "../core/text.h"
#include "../delivery/queue.h"
#include "../outbox/dump.h"
#include "../outbox/updates.h"
#include "../report/request_updates.h"
#include "../route/route.h"
#include "../transfer/transfer.h"

#define WAKEUP_FILE         "wakeup" /* in the state directory; see tickler retry */
#define LEASE_NODE          "local"  /* one node on SQLite: its leases are the `sending` marks */
#define QUEUE_BACKOFF_MAX   300      /* seconds between tries of a refused queue round */
#define SETTLE_RETRY_MS     5000     /* outcomes the outbox refused are recorded again */
#define OUTBOX_BUSY_MS      250      /* the loop waits at most this for another writer */
#define START_BACKOFF_MAX   300      /* seconds between tries to start a plugin that failed */
#define ONESHOT_REFUSALS    6        /* --oneshot gives up after this many refused rounds */
#define ONESHOT_PG_ATTEMPTS 6 /* --oneshot: failed connections to PostgreSQL before it gives up */
#define UNSETTLED_READS     3 /* reads of a plan that looks mid-save before it is used */

/* meta: the time of an update request the outbox refused (INT64_MAX: none) */
#define REQUESTS_PENDING "requests_pending"

int64_t tkl_service_now(const struct tkl_service *s)
{
    return tkl_runtime_now(&s->env);
}

const char *tkl_service_next_text(const struct tkl_service *s, char buf[64])
{
    int64_t next = s->rt ? tkl_scheduler_next_at(&s->rt->sched) : INT64_MAX;
    char at[32];
    if (next == INT64_MAX)
        snprintf(buf, 64, "never");
    else
        snprintf(buf, 64, "%s%s", tkl_format_instant(next, at),
                 next <= tkl_service_now(s) ? " (due now)" : "");
    return buf;
}

int64_t tkl_service_catch_up_at(const struct tkl_service *s)
{
    return s->hours_pending ? tkl_catch_up_at(&s->rt->cfg->schedule.policy, tkl_service_now(s))
                            : INT64_MAX;
}

static int64_t now_ms(void *data)
{
    const struct tkl_service *s = data;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec + s->env.clock_offset) * 1000 + ts.tv_nsec / 1000000;
}

/* The loop time t is armed to fire at. */
static uint64_t due_of(const struct tkl_service *s, const uv_timer_t *t)
{
    return uv_now(s->loop) + uv_timer_get_due_in(t);
}

/* Whether e's timer is still armed as arm_at armed it (not stopped,
 * fired, or started again for another time). */
static bool still_armed(const struct tkl_service *s, const struct tkl_service_timed *e)
{
    return uv_is_active((const uv_handle_t *)e->timer) && due_of(s, e->timer) == e->due;
}

/* Says that the wall clock cannot be watched (r: why). */
static void no_wall_clock(int r)
{
    log_warning("cannot watch the wall clock (%s); a timer may fire late after the machine "
                "sleeps or its clock is set",
                strerror(-r));
}

/* Arms the watch on the wall clock for the earliest instant a timer is
 * still armed for. */
static void watch_wall_clock(struct tkl_service *s)
{
    int64_t at = INT64_MAX;
    if (!s->wallclock_open)
        return;
    for (size_t i = 0; i < s->n_timed; i++)
        if (still_armed(s, &s->timed[i]) && s->timed[i].at < at)
            at = s->timed[i].at;
    int r = tkl_wallclock_arm(&s->wallclock,
                              at == INT64_MAX ? INT64_MAX : (at - s->env.clock_offset) * 1000);
    if (r < 0) {
        no_wall_clock(r);
        tkl_wallclock_close(&s->wallclock, NULL);
        s->wallclock_open = false;
    }
}

/* Starts t to fire at instant at (seconds) by the wall clock as it reads
 * now: the loop's time brought up to date first, the delay rounded up. */
static void start_at(struct tkl_service *s, uv_timer_t *t, uv_timer_cb cb, int64_t at)
{
    uv_update_time(s->loop);
    int64_t ms = at * 1000 - now_ms(s);
    (void)uv_timer_start(t, cb, ms > 0 ? (uint64_t)ms + 1 : 0, 0);
}

/* Arms t to fire at instant at (seconds): never before at by the clock it
 * was armed with, and put right by the watch on the wall clock should
 * the machine sleep or the clock be set before then. */
static void arm_at(struct tkl_service *s, uv_timer_t *t, uv_timer_cb cb, int64_t at)
{
    start_at(s, t, cb, at);
    size_t i = 0;
    while (i < s->n_timed && s->timed[i].timer != t)
        i++;
    if (i == s->n_timed) {
        if (i == sizeof(s->timed) / sizeof(s->timed[0]))
            return; /* every timer armed so has its slot (service.h): not reached */
        s->n_timed++;
    }
    s->timed[i] = (struct tkl_service_timed){.timer = t, .cb = cb, .at = at, .due = due_of(s, t)};
    watch_wall_clock(s);
}

/* The wall clock reached the earliest instant a timer is armed for, or
 * was set: each timer whose instant has come fires now, and, when the
 * clock was set, the others are armed again by it. Only a timer still
 * armed as arm_at armed it is touched. */
static void on_wall_clock(struct tkl_wallclock *w, bool clock_set)
{
    struct tkl_service *s = w->data;
    bool moved = clock_set;
    uv_update_time(s->loop);
    int64_t now = now_ms(s);
    for (size_t i = 0; i < s->n_timed; i++) {
        struct tkl_service_timed *e = &s->timed[i];
        if (!still_armed(s, e))
            continue;
        if (e->at * 1000 <= now) {
            /* the monotonic clock is behind: the machine slept */
            if (uv_timer_get_due_in(e->timer) > 1000)
                moved = true;
            (void)uv_timer_start(e->timer, e->cb, 0, 0);
        } else if (clock_set) {
            start_at(s, e->timer, e->cb, e->at);
        } else {
            continue;
        }
        e->due = due_of(s, e->timer);
    }
    if (moved)
        log_notice("the wall clock moved on its own (the machine slept, or the clock was set): "
                   "the timers follow it");
    watch_wall_clock(s);
}

/* Logs the problems of a load: errors as errors, the rest as warnings. */
static void log_diags(struct tkl_diags *diags)
{
    for (size_t i = 0; i < diags->n; i++) {
        char line[2048];
        tkl_diag_format(&diags->items[i], line, sizeof(line));
        tkl_log(diags->items[i].severity == TKL_SEV_ERROR ? TKL_LOG_ERR : TKL_LOG_WARNING, "%s",
                line);
    }
    tkl_diags_free(diags);
}

/* ---- delivery -------------------------------------------------------- */

static void on_deliver_timer(uv_timer_t *t);

/* The level of the log line of a failed commit or round: error at the
 * 1st, 2nd, 4th, 8th... failure in a row, debug between, so a state that
 * stays down (a database away) costs a few lines, not one per retry. */
static int failure_level(struct tkl_service *s)
{
    unsigned n = ++s->state_failures;
    return (n & (n - 1)) == 0 ? TKL_LOG_ERR : TKL_LOG_DEBUG;
}

static void finish_stop(struct tkl_service *s);
static void on_stop_drain(uv_timer_t *t);

/* A delivery's outcome was reported: a drain may be over (checked from a
 * timer, never inside the notifier's completion). */
static void delivery_ended(void *data)
{
    struct tkl_service *s = data;
    tkl_host_drain_check(&s->svc);
    if (s->draining)
        (void)uv_timer_start(&s->drain_timer, on_stop_drain, 0, 0);
}

/* Whether claimed notice n was completed whole since it was queued, by
 * the answers in force (tkl_delivery_host.completed). Answers whose last
 * read failed withdraw nothing (a reopen may be missing from them); the
 * answers of the last read do (PostgreSQL: a reopen another node recorded
 * a moment ago may not have reached them yet: tickler retry sends it). */
static int notice_completed(void *data, const struct tkl_notice *n, char **ret_why)
{
    const struct tkl_service *s = data;
    *ret_why = NULL;
    if (s->answers_stale)
        return 0;
    return tkl_queue_completed(&s->answers, n, ret_why);
}

/* What a claimed notice's copies are, by the plan in force
 * (tkl_delivery_host.intro). */
static int notice_intro(void *data, const struct tkl_notice *n, char **ret)
{
    const struct tkl_service *s = data;
    *ret = NULL;
    if (!s->rt || !s->rt->cfg)
        return 0;
    return tkl_route_copies_intro(n, s->rt->store, &s->answers, tkl_local_day(tkl_service_now(s)),
                                  &s->rt->cfg->teams, ret);
}

static void kick(void *data)
{
    struct tkl_service *s = data;
    if (!s->stopping)
        (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, 0, 0);
}

/* Before the loop waits for events: the state's open group (outcomes
 * the notifiers reported, anything else written since the last commit) is
 * made durable and the completions waiting for it told, so no transaction
 * stays open while the loop sleeps. A refused commit tells the outcomes'
 * completions (kept to record again) and tries again. */
static void on_prepare(uv_prepare_t *h)
{
    struct tkl_service *s = h->data;
    if (!s->state || !tkl_state_busy(s->state))
        return;
    int r = tkl_state_commit(s->state);
    if (r < 0 && !s->stopping) {
        char why[TKL_STATE_FAILURE_MAX];
        tkl_log(failure_level(s), "cannot commit to the outbox: %s; trying again in %d s",
                tkl_state_failure(s->state, r, why, sizeof(why)), SETTLE_RETRY_MS / 1000);
        (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, SETTLE_RETRY_MS, 0);
    }
}

/* Told of each group's end after the state: the crash test's stop. */
static void on_synced(void *data, int r)
{
    struct tkl_service *s = data;
    if (r == 0 && s->stop_after && tkl_outbox_syncs(s->outbox) == s->stop_base + s->stop_after) {
        log_notice("stopped for the test just after group commit %lu", s->stop_after);
        (void)raise(SIGSTOP);
    }
}

static void on_commit(void *data, unsigned long n)
{
    struct tkl_service *s = data;
    if (s->stop_before && n == s->stop_base + s->stop_before) {
        log_notice("stopped for the test just before group commit %lu", s->stop_before);
        (void)raise(SIGSTOP);
    }
}

/*
 * TICKLER_TEST_STOP_AT_COMMIT=before:N or after:N (N from 1): the daemon
 * stops itself (SIGSTOP) just before the Nth group commit of its loop
 * (counted from the start, after the recovery's at load), every write of
 * the group made and none durable, or just after it, so that a test kills
 * it at that point and no other. Unset: nothing; malformed: a warning.
 */
static void read_stop_point(struct tkl_service *s)
{
    const char *v = getenv("TICKLER_TEST_STOP_AT_COMMIT"), *num = NULL;
    bool before = false;
    char *end = NULL;
    if (!v)
        return;
    if (strncmp(v, "before:", 7) == 0)
        num = v + 7, before = true;
    else if (strncmp(v, "after:", 6) == 0)
        num = v + 6;
    errno = 0;
    unsigned long n = num && *num >= '0' && *num <= '9' ? strtoul(num, &end, 10) : 0;
    if (n == 0 || errno || *end) {
        log_warning("TICKLER_TEST_STOP_AT_COMMIT: expected before:N or after:N (N >= 1); "
                    "ignored");
        return;
    }
    s->stop_base = tkl_outbox_syncs(s->outbox);
    if (before)
        s->stop_before = n;
    else
        s->stop_after = n;
    tkl_outbox_on_commit(s->outbox, on_commit, s);
}

/* --oneshot on PostgreSQL: what the shared outbox holds still to send,
 * then the stop. */
static void on_oneshot_view(void *data, int r, struct tkl_state_view *v)
{
    struct tkl_service *s = data;
    if (r == 0)
        log_notice("--oneshot: %" PRId64 " notices wait for a retry; they stay in the outbox for "
                   "the next run",
                   v->st.pending + v->st.retrying);
    else if (r < 0 && r != -ECANCELED)
        log_warning("--oneshot: cannot count the notices waiting for a retry: %s", strerror(-r));
    tkl_state_view_free(v);
    if (r == -ECANCELED || s->stopping)
        return; /* the service is going already */
    log_info("--oneshot: everything due has been handled; stopping");
    s->finished(s);
}

/* The sweeps a --oneshot run makes at most after its work: one, and a
 * second or third only when one was refused or found more. */
#define ONESHOT_SWEEPS 3

/* --oneshot: stops once nothing is in flight, nothing more is due, every
 * due reminder is in the outbox and the failures it recorded are reported
 * (queued, and delivered in the run). */
static void oneshot_check(struct tkl_service *s, int started, int64_t next)
{
    if (!s->oneshot || started != 0 || !tkl_delivery_idle(&s->deliverer) || s->queue_backoff ||
        s->request_backoff || s->requests_run || s->requests_waiting || s->recover_pending ||
        s->last_run_pending || s->round_pending || s->reports_pending ||
        tkl_scheduler_next_at(&s->rt->sched) <= tkl_service_now(s) ||
        (next != INT64_MAX && next <= tkl_service_now(s)))
        return;
    if (s->oneshot_counting || s->deliverer.sweeping)
        return; /* the sweep's end asks a round, whose end comes back here */
    if (s->oneshot_sweep && s->oneshot_sweeps < ONESHOT_SWEEPS) {
        /* the run's failures, reported together before it ends */
        s->oneshot_sweep = false;
        s->oneshot_sweeps++;
        if (tkl_delivery_sweep(&s->deliverer) == 0 && s->deliverer.sweeping)
            return;
    }
    if (next != INT64_MAX && s->node &&
        tkl_state_view(s->state, 0, tkl_service_now(s), 0, on_oneshot_view, s) == 0) {
        s->oneshot_counting = true;
        return;
    }
    struct tkl_outbox_stats st;
    if (next != INT64_MAX && !s->node && tkl_outbox_stats(s->outbox, 0, &st) == 0)
        log_notice("--oneshot: %" PRId64 " notices wait for a retry; they stay in the outbox for "
                   "the next run",
                   st.pending + st.retrying);
    log_info("--oneshot: everything due has been handled; stopping");
    s->finished(s);
}

/* The recovery's completion: notices a crashed run left marked as being
 * sent are due again, and rounds may run; or it is tried again. */
static void on_recovered(void *data, int r, int64_t in_flight)
{
    struct tkl_service *s = data;
    s->recovering = false;
    if (r < 0) {
        log_error("cannot read the outbox: %s; trying again in %d s", strerror(-r),
                  SETTLE_RETRY_MS / 1000);
        if (!s->stopping && s->handles_open)
            (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, SETTLE_RETRY_MS, 0);
        return;
    }
    s->recover_pending = false;
    s->recovered = in_flight;
    if (in_flight)
        log_warning("%" PRId64 " notices were in flight when ticklerd last stopped without "
                    "finishing them; they are sent again now",
                    in_flight);
    if (s->handles_open)
        kick(s);
}

static void ask_last_run(struct tkl_service *s);

/*
 * What must be done before a delivery round, and is tried again before
 * every round until done: the recovery of notices a crashed run left
 * marked as being sent, and the start of plugins that failed to start.
 * Returns 0 when rounds may run, 1 while the recovery is queued (its
 * completion kicks a round), or a negative errno (tried again later).
 */
static int prepare_round(struct tkl_service *s)
{
    const char *failed = NULL;
    ask_last_run(s); /* PostgreSQL: until the schedule is built */
    if (s->recovering)
        return 1; /* its completion kicks a round */
    if (s->recover_pending) {
        int r = tkl_state_recover(s->state, s->deliverer.lease.node, tkl_service_now(s),
                                  on_recovered, s);
        if (r < 0) {
            log_error("cannot read the outbox: %s; trying again in %d s", strerror(-r),
                      SETTLE_RETRY_MS / 1000);
            return r;
        }
        s->recovering = true;
        return 1;
    }
    if (!tkl_plugin_set_started(&s->rt->plugins) && tkl_service_now(s) >= s->start_retry_at) {
        int r = tkl_plugin_set_start(&s->rt->plugins, &failed);
        if (r < 0) {
            /* a pause that grows to START_BACKOFF_MAX; logged at the first */
            s->start_backoff = s->start_backoff ? s->start_backoff * 2 : SETTLE_RETRY_MS / 1000;
            if (s->start_backoff > START_BACKOFF_MAX)
                s->start_backoff = START_BACKOFF_MAX;
            s->start_retry_at = tkl_service_now(s) + s->start_backoff;
            tkl_log(s->start_failures++ ? TKL_LOG_DEBUG : TKL_LOG_ERR,
                    "plugin \"%s\" did not start: %s; its notices wait in the outbox and it is "
                    "tried again, next in %d s",
                    failed, strerror(-r), s->start_backoff);
        } else {
            if (s->start_failures)
                log_notice("every plugin has started");
            s->start_backoff = s->start_failures = 0;
        }
    }
    return 0;
}

static void on_deliver_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    if (s->stopping)
        return;
    int r = prepare_round(s);
    if (r == 0 && (r = tkl_delivery_round(&s->deliverer)) < 0)
        log_error("the outbox refused a delivery round: %s; it is tried again in %d s",
                  strerror(-r), SETTLE_RETRY_MS / 1000);
    if (r < 0)
        (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, SETTLE_RETRY_MS, 0);
}

static void on_sweep_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    if (!s->stopping)
        (void)tkl_delivery_sweep(&s->deliverer); /* a refusal asks again */
}

/* A failure to report was recorded (tkl_delivery_host.sweep_in): the
 * sweep in seconds, unless armed sooner; for --oneshot, once its work is
 * done (oneshot_check), so that the run's failures make one report. */
static void sweep_in(void *data, int seconds)
{
    struct tkl_service *s = data;
    uint64_t ms = (uint64_t)seconds * 1000;
    if (s->stopping || !s->handles_open)
        return;
    if (s->oneshot) {
        s->oneshot_sweep = true;
        return;
    }
    if (uv_is_active((uv_handle_t *)&s->sweep_timer) && uv_timer_get_due_in(&s->sweep_timer) <= ms)
        return;
    (void)uv_timer_start(&s->sweep_timer, on_sweep_timer, ms, 0);
}

/* A delivery round's end (tkl_delivery_host.round_done). */
static void round_done(void *data, int r, int started, int64_t next)
{
    struct tkl_service *s = data;
    int64_t now = tkl_service_now(s);
    if (s->stopping)
        return;
    if (r < 0) {
        tkl_log(failure_level(s),
                "the outbox cut a delivery round short: %s; the rest is tried again in %d s",
                strerror(-r), SETTLE_RETRY_MS / 1000);
    } else if (s->state_failures) {
        log_notice("the outbox takes delivery rounds again after %u failures in a row",
                   s->state_failures);
        s->state_failures = 0;
    }
    if (r < 0 || s->deliverer.unrecorded)
        (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, SETTLE_RETRY_MS, 0);
    else if (!tkl_plugin_set_started(&s->rt->plugins))
        arm_at(s, &s->deliver_timer, on_deliver_timer, s->start_retry_at);
    else if (next != INT64_MAX && next > now)
        arm_at(s, &s->deliver_timer, on_deliver_timer, next);
    else if (next != INT64_MAX) /* due now but not claimed: queued as the round ran */
        arm_at(s, &s->deliver_timer, on_deliver_timer, now + 1);
    if (tkl_delivery_idle(&s->deliverer))
        s->changed(s);
    oneshot_check(s, r < 0 ? r : started, next);
}

/* ---- schedule -------------------------------------------------------- */

static void on_store_changed(void *data);

static void on_sched_timer(uv_timer_t *t);
static void arm_hours(struct tkl_service *s);

static void arm_scheduler(struct tkl_service *s)
{
    int64_t next = tkl_scheduler_next_at(&s->rt->sched);
    /* waiting: armed when the round has run, or when the shared last run
     * is read and the schedule built (a store read meanwhile may have
     * scheduled actions, whose round could not run: armed, the timer
     * would fire at once, again and again, and the loop never wait) */
    if (next == INT64_MAX || s->round_waiting || s->last_run_pending || s->hours_pending) {
        (void)uv_timer_stop(&s->sched_timer);
        return;
    }
    if (s->queue_backoff && next < tkl_service_now(s) + s->queue_backoff)
        next = tkl_service_now(s) + s->queue_backoff;
    arm_at(s, &s->sched_timer, on_sched_timer, next);
}

/* Schedules the end of each snooze that holds, from not_before on (see
 * tkl_queue_snoozes: replanned when the schedule was built or reloaded
 * since the last time, as that may have moved the reminder an end that
 * has come let go alone; not otherwise, where it would only bring back
 * what the end sent); the caller arms the scheduler's timer. */
static void follow_snoozes(struct tkl_service *s, int64_t not_before)
{
    const struct tkl_config *c = s->rt->cfg;
    bool replanned = s->replanned;
    s->replanned = false;
    if (tkl_queue_snoozes(&s->rt->sched, &c->schedule, &c->teams, s->rt->store, &s->answers, NULL,
                          not_before, replanned) < 0)
        log_error("out of memory scheduling the ends of snoozes; a snoozed action is reminded "
                  "at its next reminder after the snooze");
}

static void tell_untold(struct tkl_service *s);

/* Puts in force the answers of updates (taken, as tkl_answers_build
 * takes them) against the store in force, schedules the ends of their
 * snoozes and tells the "not ours" not told yet (tell_untold). Returns 0
 * or -ENOMEM (the answers of before stay). */
static int put_answers(struct tkl_service *s, struct tkl_updates *u)
{
    struct tkl_answers fresh;
    int r = tkl_answers_build(&fresh, u, s->rt->store, &s->rt->cfg->schedule, &s->rt->cfg->teams);
    if (r < 0)
        return r;
    tkl_answers_free(&s->answers);
    s->answers = fresh;
    int64_t now = tkl_service_now(s);
    follow_snoozes(s, s->snoozes_from < now ? s->snoozes_from : now);
    s->snoozes_from = INT64_MAX;
    tell_untold(s);
    return 0;
}

/* The answers built again from the updates they hold, and extra (NULL:
 * none) after them: a store put in force, an update recorded here.
 * Returns 0 or -ENOMEM (the answers of before stay). */
static int rebuild_answers_held(struct tkl_service *s, const struct tkl_update *extra)
{
    struct tkl_updates u = {0};
    int r = 0;
    for (size_t i = 0; r == 0 && i < s->answers.updates.n; i++)
        r = tkl_updates_push(&u, &s->answers.updates.v[i]);
    if (r == 0 && extra)
        r = tkl_updates_push(&u, extra);
    if (r == 0)
        return put_answers(s, &u);
    tkl_updates_free(&u);
    return r;
}

static int read_answers(struct tkl_service *s, bool all);

/* Builds s->answers again from every update recorded, against the store
 * in force, and schedules the ends of their snoozes. Returns 0, or a
 * negative errno (then the answers of before stay and s->answers_stale is
 * set). PostgreSQL: the answers held are built again against the store,
 * and, when they were never read, a read is asked (-EAGAIN until then). */
static int rebuild_answers(struct tkl_service *s)
{
    struct tkl_updates u = {0};
    int64_t version = 0;
    int r;
    if (s->node) {
        if ((r = rebuild_answers_held(s, NULL)) < 0)
            log_error("out of memory building the officers' answers against the new plan");
        if (s->answers_stale && s->state)
            (void)read_answers(s, true);
        return s->answers_stale ? -EAGAIN : r;
    }
    r = tkl_outbox_updates_version(s->outbox, &version);
    if (r == 0)
        r = tkl_outbox_updates(s->outbox, NULL, 0, INT64_MAX, &u);
    if (r == 0)
        r = put_answers(s, &u);
    if (r < 0) {
        log_error("officers' updates could not be read (%s); no reminder is queued until they are",
                  strerror(-r));
        s->answers_stale = true;
        return r;
    }
    s->updates_version = version;
    s->answers_stale = false;
    return 0;
}

/* Builds the answers again when they could not be read or another process
 * recorded an update. Returns 0 when s->answers are those of every update
 * recorded, or a negative errno. PostgreSQL: whether they were read (a
 * queue round checks them first, read_answers). */
static int refresh_answers(struct tkl_service *s)
{
    int64_t version = 0;
    if (s->node)
        return s->answers_stale ? -EAGAIN : 0;
    if (!s->answers_stale && tkl_outbox_updates_version(s->outbox, &version) == 0 &&
        version == s->updates_version)
        return 0;
    return rebuild_answers(s);
}

/* ---- officers' updates shared (PostgreSQL) ---------------------------- */

/* One read of the shared updates: the version alone (a check), or the
 * version and every update; pending: the completions still to come. */
struct answers_read {
    struct tkl_service *s;
    bool all;
    int pending, r;
    int64_t version;
    struct tkl_updates u;
};

static void queue_round_now(struct tkl_service *s, int r);
static void requests_now(struct tkl_service *s, int r);
static void on_tell_timer(uv_timer_t *t);

/* The read came to r (0: s->answers are those of every update recorded):
 * a read asked meanwhile goes next, else the round waiting runs. */
static void answers_read_done(struct tkl_service *s, int r)
{
    s->answers_reading = false;
    if (r < 0 && r != -ECANCELED)
        log_error("officers' updates could not be read (%s); keeping the last answers read, and "
                  "no reminder is queued until they are",
                  strerror(-r));
    if (r < 0)
        s->answers_stale = true;
    if (s->stopping || !s->handles_open) {
        s->round_waiting = s->round_pending = s->requests_waiting = false;
        return;
    }
    if (s->answers_again) {
        bool all = s->answers_again_all;
        s->answers_again = s->answers_again_all = false;
        if (read_answers(s, all) == 0)
            return;
    }
    if (s->round_waiting) {
        s->round_waiting = s->round_pending = false;
        queue_round_now(s, r);
        arm_scheduler(s);
        if (s->oneshot)
            kick(s);
    }
    if (s->requests_waiting) {
        s->requests_waiting = false;
        requests_now(s, r);
    }
    if (s->tell_after_read) { /* on_tell_timer's */
        s->tell_after_read = false;
        if (r == 0)
            tell_untold(s);
        else if (!s->tell_waiting)
            (void)uv_timer_start(&s->tell_timer, on_tell_timer, UINT64_C(60000), 0);
    }
}

static void answers_read_end(struct answers_read *rd)
{
    struct tkl_service *s = rd->s;
    int r = rd->r;
    bool changed = r == 0 && (s->answers_stale || rd->version != s->updates_version);
    if (changed && rd->all && (r = put_answers(s, &rd->u)) == 0) {
        s->updates_version = rd->version;
        s->answers_stale = false;
        log_debug("officers' updates read: %zu", s->answers.updates.n);
        if (s->handles_open && !s->stopping && !s->round_waiting)
            arm_scheduler(s); /* a snooze's end may have come forward */
        if (s->changed)
            s->changed(s);
    }
    bool all = rd->all;
    tkl_updates_free(&rd->u);
    free(rd);
    s->answers_reading = false;
    if (changed && !all && (r = read_answers(s, true)) == 0)
        return; /* the version moved on: every update is read */
    answers_read_done(s, r);
}

static void on_answers_version(void *data, int r, int64_t value)
{
    struct answers_read *rd = data;
    if (r < 0 && rd->r == 0)
        rd->r = r;
    rd->version = value;
    if (--rd->pending == 0)
        answers_read_end(rd);
}

static void on_answers_updates(void *data, int r, struct tkl_updates *u)
{
    struct answers_read *rd = data;
    if (r < 0 && rd->r == 0)
        rd->r = r;
    rd->u = *u;
    *u = (struct tkl_updates){0};
    if (--rd->pending == 0)
        answers_read_end(rd);
}

/* Reads the shared updates through the state: the version (all false: a
 * check, every update read only when it moved on) or every update. One
 * read at a time: asked while one is in flight, it follows it. Returns 0
 * (answers_read_done is told) or a negative errno (nothing asked). */
static int read_answers(struct tkl_service *s, bool all)
{
    if (s->answers_reading) {
        s->answers_again = true;
        s->answers_again_all |= all;
        return 0;
    }
    if (!s->state)
        return -EAGAIN;
    struct answers_read *rd = calloc(1, sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    *rd = (struct answers_read){.s = s, .all = all, .pending = 1};
    int r = tkl_state_updates_version(s->state, on_answers_version, rd);
    if (r < 0) {
        free(rd);
        return r;
    }
    s->answers_reading = true;
    if (all) {
        if ((r = tkl_state_updates(s->state, NULL, 0, INT64_MAX, on_answers_updates, rd)) == 0)
            rd->pending++;
        else
            rd->r = r;
    }
    (void)tkl_state_commit(s->state);
    return 0;
}

/* Another node recorded an update: every update is read again. */
static void on_state_updated(void *data)
{
    struct tkl_service *s = data;
    if (s->handles_open && !s->stopping && read_answers(s, true) < 0)
        log_error("cannot read the officers' updates another node recorded; the next queue round "
                  "reads them");
}

/* last_run's completion: only a refusal is told. */
static void on_last_run(void *data, int r)
{
    (void)data;
    if (r < 0)
        log_warning("cannot record the last run time: %s", strerror(-r));
}

/* What a queue round came to. A refused round is put back and tried
 * again after a growing pause; last_run only moves on when the round is
 * in the outbox, so a restart still catches up on it. */
static void queue_round_done(struct tkl_service *s, int r, const struct tkl_queue_result *res,
                             int64_t now)
{
    if (r == -ECANCELED && s->stopping) { /* stopping part-way (tkl_service_stop) */
        log_notice("stopping with %zu notices of a queue round in the outbox; the round's "
                   "reminders (%zu) stay scheduled, and the next start queues the rest",
                   res->committed, res->restored);
        return;
    }
    if (r < 0) {
        s->queue_backoff = s->queue_backoff ? s->queue_backoff * 2 : 1;
        if (s->queue_backoff > QUEUE_BACKOFF_MAX)
            s->queue_backoff = QUEUE_BACKOFF_MAX;
        log_error("the outbox refused a round of %zu reminders (%s); they stay scheduled and "
                  "are tried again in %d s",
                  res->restored, strerror(-r), s->queue_backoff);
        if (res->committed)
            kick(s);
        if (s->oneshot && ++s->refusals >= ONESHOT_REFUSALS) {
            log_error("--oneshot: the outbox refused %d rounds; stopping with those reminders "
                      "unsent (the next run catches up on them)",
                      s->refusals);
            s->failed = true;
            s->finished(s);
        }
        return;
    }
    s->queue_backoff = 0;
    if (res->held)
        log_debug("%zu reminders held back by officers' updates", res->held);
    if ((r = tkl_state_set_meta(s->state, "last_run", now, on_last_run, NULL)) < 0)
        on_last_run(NULL, r);
    else if (now > s->last_run_known)
        s->last_run_known = now;
    if (res->committed)
        kick(s);
    if (s->store_change_pending) {
        s->store_change_pending = false;
        on_store_changed(s);
    }
}

/* A round's completion: its notices are durable, or it was put back. */
static void on_round(void *data, int r, const struct tkl_queue_result *res)
{
    struct tkl_service *s = data;
    s->round_pending = false;
    queue_round_done(s, r, res, s->round_at);
    if (s->stopping || !s->handles_open)
        return;
    if (s->reload_pending) {
        s->reload_pending = false;
        tkl_service_reload(s); /* arms the scheduler for the new schedule */
        return;
    }
    arm_scheduler(s);
    if (s->oneshot)
        kick(s); /* the delivery round decides whether --oneshot is done */
}

static void on_round_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    struct tkl_queue_round *rd = s->round_part;
    s->round_part = NULL;
    if (rd)
        tkl_queue_more(rd); /* the open group: on_prepare commits it */
}

/* A part of the round is durable: the delivery round kicked claims it,
 * then the next part is put (kick's timer runs first: both are due at the
 * same instant and libuv runs them in the order they were started), so the
 * claims and the next part's puts share the next commit (on_prepare). */
static void on_round_part(void *data, struct tkl_queue_round *rd)
{
    struct tkl_service *s = data;
    if (s->stopping || !s->handles_open) { /* told by the stop's commit, or after */
        tkl_queue_abandon(rd);
        return;
    }
    s->round_part = rd;
    kick(s);
    (void)uv_timer_start(&s->round_timer, on_round_timer, 0, 0);
}

/* A queue round, its answers refreshed (r: how that went). */
static void queue_round_now(struct tkl_service *s, int r)
{
    static const struct tkl_queue_parts parts = {on_round_part, TKL_QUEUE_PART};
    struct tkl_queue_result res = {0};
    int64_t now = tkl_service_now(s);
    const struct tkl_config *c = s->rt->cfg;
    if (r == 0)
        tell_untold(s); /* its reads join the round's group */
    if (r == 0)
        r = tkl_queue_due(&s->rt->sched, &c->schedule, &c->teams, s->rt->store, &s->answers,
                          s->state, now, on_round, &parts, s, &res);
    if (r < 0) {
        queue_round_done(s, r, &res, now);
        return;
    }
    s->round_pending = true;
    s->round_at = now;
    (void)tkl_state_commit(s->state); /* an undone group is told to on_round */
}

/* One queue round: due reminders into the state's open group, which the
 * round ends at once (one transaction for the round and whatever else the
 * loop turn wrote); on_round is told when it is durable or undone. A round
 * waits for the officers' updates to be read, so that none is overlooked,
 * and for the round before it to be told. PostgreSQL: the shared updates'
 * version is checked first (read_answers), the round waiting for it. */
static void queue_round(struct tkl_service *s)
{
    if (s->round_pending || s->last_run_pending || s->hours_pending)
        return;
    if (s->node && read_answers(s, s->answers_stale) == 0) {
        s->round_pending = s->round_waiting = true;
        return;
    }
    queue_round_now(s, refresh_answers(s));
}

static void on_sched_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    /* a round is in flight (on PostgreSQL it may wait for the connection):
     * its completion arms the timer again; arming it now for what is
     * already due would fire it at once, again and again */
    if (s->round_pending)
        return;
    int64_t next = tkl_scheduler_next_at(&s->rt->sched);
    /* early (the wall clock went back): wait for the instant itself */
    if (!s->queue_backoff && next > tkl_service_now(s)) {
        arm_scheduler(s);
        return;
    }
    queue_round(s);
    arm_scheduler(s);
    s->changed(s);
    if (s->oneshot)
        kick(s); /* the delivery round decides whether --oneshot is done */
}

/* ---- update requests ------------------------------------------------- */

static void on_request_timer(uv_timer_t *t);

/* What a run of the update requests reads, as in force now. */
static struct tkl_requests_ctx requests_ctx(const struct tkl_service *s)
{
    const struct tkl_runtime *rt = s->rt;
    const struct tkl_config *c = rt->cfg;
    return (struct tkl_requests_ctx){.report = &c->report,
                                     .policy = &c->schedule.policy,
                                     .teams = &c->teams,
                                     .report_to = c->delivery.report_to,
                                     .store = rt->store,
                                     .answers = &s->answers,
                                     .links = rt->links.n && c->http.public_url,
                                     .outbox = s->node ? NULL : s->outbox};
}

/* What a run of the update requests came to (r: 0, or why a phase is
 * not done): the timer armed for the next phase, or a refused run tried
 * again after a growing pause. */
static void requests_ran(struct tkl_service *s, int r, const struct tkl_requests_result *res)
{
    if (res->unrouted)
        log_warning("update requests: %zu teams own active actions but have no recipients; they "
                    "were not asked",
                    res->unrouted);
    if (s->stopping || !s->handles_open)
        return;
    if (res->committed)
        kick(s);
    if (r < 0) {
        s->request_backoff = s->request_backoff ? s->request_backoff * 2 : 1;
        if (s->request_backoff > QUEUE_BACKOFF_MAX)
            s->request_backoff = QUEUE_BACKOFF_MAX;
        s->requests_pending_at = res->failed_at;
        log_error("the outbox refused an update request (%s); it is tried again in %d s",
                  strerror(-r), s->request_backoff);
        (void)uv_timer_start(&s->request_timer, on_request_timer,
                             (uint64_t)s->request_backoff * 1000, 0);
        return;
    }
    if (res->phases)
        log_notice("update requests: %zu sent (request, follow-up or summary), %zu notices queued",
                   res->phases, res->committed);
    s->request_backoff = 0;
    s->requests_pending_at = INT64_MAX;
    if (s->requests_pending_kept &&
        tkl_outbox_set_meta(s->outbox, REQUESTS_PENDING, INT64_MAX) == 0)
        s->requests_pending_kept = false;
    if (res->next_at == INT64_MAX)
        (void)uv_timer_stop(&s->request_timer);
    else
        arm_at(s, &s->request_timer, on_request_timer, res->next_at);
}

struct tkl_requests_flight;

/* What a completion of a run is told about: a mark read, or a phase. */
struct flight_item {
    struct tkl_requests_flight *f;
    size_t i;
};

/* A phase as decided. */
struct flight_phase {
    char key[TKL_REQUEST_KEY_SIZE];
    int64_t at; /* its send instant */
    int r;      /* its first refusal */
};

/*
 * A run of the update requests through a state shared by nodes
 * (PostgreSQL), in three steps, each a group of the state's: the marks of
 * the phases it may run are read; the run is decided from them and the
 * officers' updates the service holds, and its notices put (the
 * notification log lets one node create each); once every put of a phase
 * is durable, its mark is set. A phase with a put refused or undone is
 * not marked (nor any after it), and is tried again after the pause;
 * the notices of it that did commit are not put twice then. The mark
 * follows the puts rather than riding in their group because a long
 * group is sent as several transactions, one undone without the others.
 */
struct tkl_requests_flight {
    struct tkl_service *s;
    int64_t from, now;
    struct tkl_request_marks marks;
    struct flight_item *items;   /* one per mark, and one more */
    struct flight_phase *phases; /* as decided; the one after the last is being decided */
    size_t n_phases;
    size_t pending; /* completions to come, and one while a step queues */
    int r;          /* a read refused, or the decision's refusal */
    enum { FLIGHT_READ, FLIGHT_PUT, FLIGHT_MARK } step;
    struct tkl_requests_result res;
};

static void run_requests(struct tkl_service *s);
static void flight_release(struct tkl_requests_flight *f);

/* Frees f (NULL accepted), which is no longer in flight. */
static void flight_free(struct tkl_requests_flight *f)
{
    if (!f)
        return;
    if (f->s->requests_run == f)
        f->s->requests_run = NULL;
    tkl_request_marks_free(&f->marks);
    free(f->items);
    free(f->phases);
    free(f);
}

/* The run came to r: told as a run on SQLite is, and one asked meanwhile
 * follows. */
static void flight_end(struct tkl_requests_flight *f, int r)
{
    struct tkl_service *s = f->s;
    struct tkl_requests_result res = f->res;
    flight_free(f);
    requests_ran(s, r, &res);
    if (s->stopping || !s->handles_open)
        return;
    if (s->requests_again) {
        s->requests_again = false;
        run_requests(s);
    }
    if (s->oneshot)
        kick(s); /* the delivery round decides whether --oneshot is done */
}

static void on_flight_mark(void *data, int r, int64_t value)
{
    struct flight_item *it = data;
    struct tkl_requests_flight *f = it->f;
    struct tkl_request_mark *m = &f->marks.v[it->i];
    if (r < 0 && r != -ENOENT && f->r == 0)
        f->r = r;
    m->done = r == 0;
    m->at = value;
    flight_release(f);
}

static void on_flight_put(void *data, int r, uint64_t id)
{
    struct flight_item *it = data;
    struct tkl_requests_flight *f = it->f;
    if (r < 0 && f->phases[it->i].r == 0)
        f->phases[it->i].r = r;
    f->res.committed += r == 0 && id;
    flight_release(f);
}

static void on_flight_marked(void *data, int r)
{
    struct flight_item *it = data;
    struct tkl_requests_flight *f = it->f;
    if (r < 0 && f->phases[it->i].r == 0)
        f->phases[it->i].r = r;
    flight_release(f);
}

/* The sink of the decision: each notice into the state's open group. */
static int flight_put(void *data, const struct tkl_notice *n, const char *const *stage_keys)
{
    struct tkl_requests_flight *f = data;
    struct flight_item *it = &f->items[f->n_phases];
    *it = (struct flight_item){f, f->n_phases};
    int r = tkl_state_put(f->s->state, n, stage_keys, f->now, on_flight_put, it);
    f->pending += r == 0;
    return r;
}

static int flight_done(void *data, const char *key, int64_t at)
{
    struct tkl_requests_flight *f = data;
    struct flight_phase *p = &f->phases[f->n_phases++];
    snprintf(p->key, sizeof(p->key), "%s", key);
    p->at = at;
    return 0;
}

/* The marks are read: the run is decided and its notices put. */
static void flight_decide(struct tkl_requests_flight *f)
{
    struct tkl_service *s = f->s;
    const struct tkl_requests_ctx ctx = requests_ctx(s);
    const struct tkl_requests_sink sink = {flight_put, flight_done, f};
    f->step = FLIGHT_PUT;
    f->pending = 1;
    int r =
        tkl_requests_decide(&ctx, f->from, f->now, &f->marks, &s->answers.updates, &sink, &f->res);
    if (r < 0) /* the phases before it are marked */
        f->r = r;
    f->res.phases = 0; /* counted once marked */
    /* an undone group is told to the puts */
    (void)tkl_state_commit(s->state);
    flight_release(f);
}

/* Every put is told: the phases whose notices are all durable are
 * marked, in order, up to the first that is not. */
static void flight_mark(struct tkl_requests_flight *f)
{
    struct tkl_service *s = f->s;
    f->step = FLIGHT_MARK;
    f->pending = 1;
    for (size_t k = 0; k < f->n_phases; k++) {
        struct flight_phase *p = &f->phases[k];
        if (p->r == 0)
            p->r = tkl_state_set_meta(s->state, p->key, f->now, on_flight_marked, &f->items[k]);
        if (p->r < 0) {
            f->n_phases = k + 1; /* those after it wait for it */
            break;
        }
        f->items[k] = (struct flight_item){f, k};
        f->pending++;
    }
    (void)tkl_state_commit(s->state);
    flight_release(f);
}

/* The marks are written: what the run came to. */
static void flight_marked(struct tkl_requests_flight *f)
{
    int r = 0;
    for (size_t k = 0; k < f->n_phases; k++) {
        if (f->phases[k].r < 0) {
            r = f->phases[k].r;
            f->res.failed_at = f->phases[k].at;
            break;
        }
        f->res.phases++;
    }
    if (r == 0 && f->r < 0)
        r = f->r; /* res.failed_at is the decision's */
    flight_end(f, r);
}

/* A completion came: once none is to come, the next step. */
static void flight_release(struct tkl_requests_flight *f)
{
    struct tkl_service *s = f->s;
    if (--f->pending)
        return;
    if (f->step == FLIGHT_READ && f->r < 0) {
        f->res.failed_at = f->marks.first_at;
        flight_end(f, f->r);
    } else if (f->step == FLIGHT_READ && (s->stopping || !s->handles_open)) {
        flight_free(f); /* nothing decided: the next start catches up from it */
    } else if (f->step == FLIGHT_READ && s->requests_again) {
        s->requests_again = false; /* asked again meanwhile (a reload): from the start */
        flight_free(f);
        run_requests(s);
    } else if (f->step == FLIGHT_READ) {
        flight_decide(f);
    } else if (f->step == FLIGHT_PUT) {
        flight_mark(f);
    } else {
        flight_marked(f);
    }
}

/* Starts a run through the shared state at now, the officers' updates
 * read (r: 0, or why they are not). */
static void requests_now(struct tkl_service *s, int r)
{
    const struct tkl_requests_ctx ctx = requests_ctx(s);
    struct tkl_requests_result res = {
        .next_at = tkl_requests_next_at(ctx.report, ctx.policy, tkl_service_now(s)),
        .failed_at = INT64_MAX};
    if (r < 0) /* the answers unread: caught up from here, even after a stop */
        res.failed_at = s->requests_from;
    struct tkl_requests_flight *f = r == 0 ? calloc(1, sizeof(*f)) : NULL;
    if (r == 0 && !f) {
        r = -ENOMEM;
        res.failed_at = s->requests_from;
    }
    if (r == 0) {
        *f = (struct tkl_requests_flight){.s = s,
                                          .from = s->requests_from,
                                          .now = tkl_service_now(s),
                                          .res = res,
                                          .step = FLIGHT_READ,
                                          .pending = 1};
        r = tkl_requests_marks(&ctx, f->from, f->now, &f->marks);
        if (r < 0)
            res.failed_at = f->from;
    }
    if (r == 0 && !f->marks.n) { /* nothing may run: nothing to read */
        flight_free(f);
        requests_ran(s, 0, &res);
        return;
    }
    if (r == 0 && (!(f->items = calloc(f->marks.n + 1, sizeof(*f->items))) ||
                   !(f->phases = calloc(f->marks.n + 1, sizeof(*f->phases))))) {
        r = -ENOMEM;
        res.failed_at = f->marks.first_at;
    }
    if (r < 0) {
        flight_free(f);
        requests_ran(s, r, &res);
        return;
    }
    s->requests_run = f;
    for (size_t i = 0; i < f->marks.n; i++) {
        f->items[i] = (struct flight_item){f, i};
        int rr = tkl_state_get_meta(s->state, f->marks.v[i].key, on_flight_mark, &f->items[i]);
        if (rr < 0) {
            f->r = rr;
            break;
        }
        f->pending++;
    }
    (void)tkl_state_commit(s->state); /* an undone group is told to the reads */
    flight_release(f);
}

/* Runs the phases of the update requests that are due (the request, its
 * follow-up, the summary) and arms the timer for the next one; a run the
 * outbox refused is tried again after a growing pause. Like a queue
 * round, a run waits for every officer's update to be read. PostgreSQL:
 * through the state (requests_now), once the shared last_run is read (the
 * catch-up point), the shared updates' version checked first; asked while
 * one is in flight, another follows it. */
static void run_requests(struct tkl_service *s)
{
    if (s->stopping)
        return;
    if (!s->rt->cfg->report.n_request_updates || s->hours_pending) {
        (void)uv_timer_stop(&s->request_timer); /* the hours' build runs them */
        return;
    }
    if (s->node) {
        if (s->requests_run)
            s->requests_again = true;
        else if (s->requests_waiting || s->last_run_pending)
            return; /* answers_read_done or on_shared_last_run runs it */
        else if (read_answers(s, s->answers_stale) == 0)
            s->requests_waiting = true;
        else
            requests_now(s, refresh_answers(s));
        return;
    }
    const struct tkl_requests_ctx ctx = requests_ctx(s);
    struct tkl_requests_result res = {.failed_at = INT64_MAX};
    int r = refresh_answers(s);
    if (r == 0)
        r = tkl_requests_run(&ctx, s->requests_from, tkl_service_now(s), &res);
    else /* the answers unread: caught up from here, even after a stop */
        res.failed_at = s->requests_from;
    requests_ran(s, r, &res);
}

/* Also when it fires early (the wall clock went back): the run finds
 * nothing due and arms the timer again. */
static void on_request_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    run_requests(s);
    s->changed(s);
    if (s->oneshot)
        kick(s);
}

/* ---- store and day --------------------------------------------------- */

static void start_watch(struct tkl_service *s);

/* How long a plan that looked mid-save waits to be read again: twice the
 * debounce, at least 1 s. */
static int unsettled_delay(const struct tkl_service *s)
{
    int again = 2 * s->rt->cfg->debounce_ms;
    return again < 1000 ? 1000 : again;
}

/* A plan that looked mid-save was put in force (by the start or a
 * configuration reload, which have no last good store to keep): read it
 * again soon, as a held read is. */
static void reread_soon(struct tkl_service *s)
{
    s->store_watch_fired = false;
    s->unsettled_reads = 0;
    s->unsettled_in_force = true;
    if (s->watch && tkl_watch_again(s->watch, unsettled_delay(s)) == 0) {
        s->unsettled_reads = 1;
        log_warning("the plan ends inside a row, as if it was read while being saved: reading it "
                    "again in %d ms",
                    unsettled_delay(s));
    }
}

/* The name of the file system dir is on, into buf. */
static const char *fs_name(const char *dir, char *buf, size_t len)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } known[] = {{TMPFS_MAGIC, "tmpfs (in memory)"},
                 {RAMFS_MAGIC, "ramfs (in memory)"},
                 {BTRFS_SUPER_MAGIC, "btrfs"},
                 {OVERLAYFS_SUPER_MAGIC, "overlayfs (a container's own file system)"},
                 {NFS_SUPER_MAGIC, "NFS"},
                 {FUSE_SUPER_MAGIC, "a FUSE file system"},
                 {F2FS_SUPER_MAGIC, "F2FS"},
                 {0x2fc12fc1UL, "ZFS"}};
    struct statfs fs;
    if (statfs(dir, &fs) < 0)
        return "a file system it cannot name";
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if ((unsigned long)fs.f_type == known[i].magic)
            return known[i].name;
    snprintf(buf, len, "a file system of type 0x%lx", (unsigned long)fs.f_type);
    return buf;
}

/* Gives the metrics the bytes of the plan in force, and says, when it
 * changes, whether the plan is kept in files of the state directory (cold
 * memory, core/mem.h) or in private memory, and why: at info when nothing
 * is to be done (it is in files; the setting or the state directory's file
 * system keeps it out), else at notice. */
static void tell_store_memory(struct tkl_service *s)
{
    const struct tkl_store *st = s->rt->store;
    const char *dir = s->rt->cfg->store.cold_dir;
    size_t cold_bytes, private_bytes;
    tkl_store_bytes(st, &cold_bytes, &private_bytes);
    tkl_metrics_store_bytes(s->metrics, cold_bytes, private_bytes);
    if (!st->n || (!dir && !s->rt->cfg->plan_private))
        return; /* no state directory: opening the outbox says why */
    bool cold = st->actions_cold != 0;
    if (s->store_memory_told && cold == s->store_cold)
        return;
    s->store_memory_told = true;
    s->store_cold = cold;
    if (cold) {
        log_info("the plan is kept in unnamed files of %s (%zu MiB), which the kernel can write "
                 "back and drop when memory is short (ticklerd(8), FILES)",
                 dir, (cold_bytes + (1u << 20) - 1) >> 20);
        return;
    }
    if (!dir) {
        log_info("the plan is kept in private memory (daemon.plan_memory = \"private\")");
        return;
    }
    char buf[64];
    switch (st->cold_error) {
    case -EMEDIUMTYPE: /* tkl_mem_cold_open: the file system's kind */
        log_info("the plan is kept in private memory: %s is on %s, and only ext4 and XFS keep "
                 "it in files (ticklerd(8), FILES)",
                 dir, fs_name(dir, buf, sizeof(buf)));
        break;
    case -EOPNOTSUPP: /* fallocate: ext2 and ext3, whose files cannot reserve room */
        log_info("the plan is kept in private memory: the file system of %s cannot reserve "
                 "room for files (ext2 or ext3?), and only ext4 and XFS keep it in files "
                 "(ticklerd(8), FILES)",
                 dir);
        break;
    case -ENOSPC:
        log_notice("the plan is kept in private memory: the disk of %s has not the room for its "
                   "files beside the tenth of it (at most 1 GiB) kept free for the outbox",
                   dir);
        break;
    default:
        log_notice("the plan is kept in private memory: %s cannot hold its files: %s", dir,
                   strerror(st->cold_error ? -st->cold_error : EIO));
    }
}

/* Copies the plan files the store in force read from their paths, as
 * last read good (store.h: what a later start or reload reads when a file
 * cannot be read), and gives the metrics how many are read from copies. A
 * failure to copy is logged when its error changes, and each recovery. */
static void keep_plans(struct tkl_service *s)
{
    const struct tkl_store *st = s->rt->store;
    tkl_metrics_store_from_copies(s->metrics, st->n_from_copies);
    if (st->n_from_copies == 1)
        log_error("a plan file cannot be read (see the warnings above): the file as last read "
                  "good is in force until it is mended");
    else if (st->n_from_copies)
        log_error("%zu of the plan's files or sheets cannot be read (see the warnings above): "
                  "the files as last read good are in force until they are mended",
                  st->n_from_copies);
    if (!s->rt->cfg->store.keep_dir)
        return;
    int r = tkl_store_keep(st, s->rt->cfg->store.keep_dir);
    if (r < 0 && r != s->keep_error)
        log_warning("cannot keep a copy of the plan's files in %s/plans: %s; a later start or "
                    "reload cannot fall back on them if they cannot be read",
                    s->rt->cfg->store.keep_dir, strerror(-r));
    else if (r > 0 && s->keep_error)
        log_notice("the copies of the plan's files are kept again in %s/plans",
                   s->rt->cfg->store.keep_dir);
    if (r != 0) /* 0: no file to copy (none read from its path, or whole) */
        s->keep_error = r < 0 ? r : 0;
}

/* Whether a read of the plan now, after a file changed, can be held back
 * (hold_unsettled): it is read with tkl_store_opts.may_hold. */
static bool may_hold(const struct tkl_service *s)
{
    return s->watch && s->unsettled_reads + 1 < UNSETTLED_READS;
}

/* A plan read whole that looked caught while it was being saved (a CSV
 * that ends inside a row, short of fields or inside a quoted field:
 * unsettled, tkl_diags), or emptied (no action left where the store in
 * force has some: a file saved empty, or read between its truncation and
 * its writing): the last good store stays and the plan is read again
 * later, up to UNSETTLED_READS reads in a row, then put in force as it is
 * (a file that really ends so, or a plan really emptied; a quoted field
 * that is still open is then a quote never closed, which the store
 * refuses). Returns whether this read is held back. */
static bool hold_unsettled(struct tkl_service *s, bool unsettled, bool emptied)
{
    if (!unsettled && !emptied) {
        s->unsettled_reads = 0;
        return false;
    }
    const size_t held = s->rt->store->n - s->rt->store->n_events;
    const char *what = unsettled ? "ends inside a row, as if it was read while being saved"
                                 : "has no action left, as if it was read while being saved";
    int again = unsettled_delay(s);
    if (may_hold(s) && tkl_watch_again(s->watch, again) == 0) {
        s->unsettled_reads++;
        if (s->unsettled_in_force)
            log_warning("the plan still %s: keeping the store in force (%zu actions, read so at "
                        "the start or configuration reload) and reading it again in %d ms",
                        what, held, again);
        else
            log_warning("the plan %s: keeping the last good store of %zu actions and reading it "
                        "again in %d ms",
                        what, held, again);
        return true;
    }
    if (s->unsettled_reads > 0)
        log_warning("the plan still %s after %u reads: putting it in force as it is",
                    unsettled ? "ends inside a row" : "has no action", s->unsettled_reads + 1);
    s->unsettled_reads = 0;
    return false;
}

static void on_store_changed(void *data)
{
    struct tkl_service *s = data;
    struct tkl_diags diags = {0};
    struct tkl_store *fresh = NULL;
    size_t changed = 0;
    if (s->stopping)
        return;
    if (s->queue_backoff || s->round_pending) {
        /* the reminders of the refused or pending round were computed from this store:
         * they go in first, so a changed action cannot lose its reminder */
        log_notice("the store changed; it is read once the outbox takes the pending round");
        s->store_change_pending = true;
        return;
    }
    /* only a read after a file changed, or while a held one waits, is
     * held: a file being saved is read again when its writer is done (one
     * that ends inside a quoted field too, refused only when not held) */
    bool from_watch = s->store_watch_fired || s->unsettled_reads > 0;
    s->store_watch_fired = false;
    int r = tkl_runtime_read_store(s->rt, tkl_service_now(s), from_watch && may_hold(s), &fresh,
                                   &diags);
    bool unsettled = diags.unsettled && from_watch;
    bool emptied = r == 0 && from_watch && fresh->n == fresh->n_events &&
                   s->rt->store->n > s->rt->store->n_events;
    log_diags(&diags);
    if (r == 0 && hold_unsettled(s, unsettled, emptied)) {
        tkl_store_free(fresh);
        return;
    }
    if (r < 0) {
        s->unsettled_reads = 0;
        /* -EINVAL: what was wrong is logged above, at its file and line */
        log_error("the store could not be read (%s); keeping the last good store of %zu actions",
                  r == -EINVAL ? "see the errors above" : strerror(-r),
                  s->rt->store->n - s->rt->store->n_events);
        tkl_metrics_store_reload(s->metrics, false, tkl_service_now(s));
        return;
    }
    r = tkl_scheduler_reload(&s->rt->sched, &s->rt->cfg->schedule, &s->rt->cfg->teams, s->rt->store,
                             fresh, tkl_service_now(s), &changed);
    if (r < 0) {
        log_error("out of memory rescheduling; keeping the last good store");
        tkl_store_free(fresh);
        tkl_metrics_store_reload(s->metrics, false, tkl_service_now(s));
        return;
    }
    s->replanned = true;
    tkl_store_free(s->rt->store);
    s->rt->store = fresh;
    tell_store_memory(s);
    keep_plans(s);
    s->unsettled_in_force = false; /* whole, or taken as it really ends */
    s->store_generation++;
    (void)rebuild_answers(s); /* the plan may now overrule some */
    tkl_metrics_store_reload(s->metrics, true, tkl_service_now(s));
    log_notice("store reloaded: %zu actions, %zu observances, %zu changed",
               fresh->n - fresh->n_events, fresh->n_events, changed);
    arm_scheduler(s);
    s->changed(s);
}

/* The watch's callback: a store file changed (or a held read is due). */
static void on_store_file_changed(void *data)
{
    struct tkl_service *s = data;
    s->store_watch_fired = true;
    on_store_changed(s);
}

static void on_items_changed(void *data, const char *instance)
{
    struct tkl_service *s = data;
    s->sources_generation++;
    log_notice("source \"%s\" changed; rescheduling", instance);
    on_store_changed(data);
}

static void on_day(uv_timer_t *t);

static void arm_day_timer(struct tkl_service *s)
{
    int32_t today = tkl_local_day(tkl_service_now(s));
    arm_at(s, &s->day_timer, on_day, tkl_local_instant(today + 1, 1));
}

/* A new day: the window of observances read from the sources moves on. */
static void on_day(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    if (s->rt->sources.n)
        on_store_changed(s);
    arm_day_timer(s);
}

/* A plan at a URL was fetched: a failure is logged when it differs from
 * the one before, the recovery once, and a new plan is read as an edited
 * file is. */
static void on_plan_fetched(void *data, const char *place, const struct tkl_fetch_result *res,
                            bool state_changed, const char *was)
{
    struct tkl_service *s = data;
    bool ok = res->outcome != TKL_FETCH_FAILED;
    tkl_metrics_plan_fetch(s->metrics, ok, res->outcome == TKL_FETCH_CHANGED, tkl_service_now(s));
    if (!ok) {
        if (state_changed)
            log_error("plan %s: cannot fetch: %s; the last good copy keeps serving (this is "
                      "logged again only when it changes)",
                      place, res->why);
        return;
    }
    if (state_changed && was)
        log_notice("plan %s: fetched again (the failure was: %s)", place, was);
    if (res->outcome == TKL_FETCH_CHANGED) {
        log_notice("plan %s changed; reading it", place);
        on_store_changed(s);
    } else {
        log_debug("plan %s unchanged", place);
    }
}

/* Watches the store files and polls the plans at URLs; on failure edits
 * are read on SIGHUP only. */
static void start_watch(struct tkl_service *s)
{
    const struct tkl_config *c = s->rt->cfg;
    const struct tkl_fetcher_host host = {on_plan_fetched, s};
    if (tkl_watch_start(s->loop, &c->store, c->debounce_ms, on_store_file_changed, s, &s->watch) <
        0)
        log_warning("cannot watch the store files; edits are read on SIGHUP only");
    if (tkl_fetcher_start(s->loop, s->svc.transfers, &c->store, &c->teams, &host, &s->fetcher) < 0)
        log_error("cannot poll the plans at URLs; they are fetched again on SIGHUP only");
}

/* Stops what start_watch started. */
static void stop_watch(struct tkl_service *s)
{
    tkl_watch_close(s->watch);
    s->watch = NULL;
    tkl_fetcher_close(s->fetcher);
    s->fetcher = NULL;
}

static void on_wakeup(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    if (status == 0 && filename && strcmp(filename, WAKEUP_FILE) == 0) {
        log_info("woken by tickler retry; reading the outbox");
        kick(h->data);
    }
}

/* Watches the state directory for WAKEUP_FILE, which `tickler retry`
 * touches after re-queueing notices. */
static void start_wakeup(struct tkl_service *s)
{
    if (uv_fs_event_init(s->loop, &s->wakeup) < 0)
        return;
    s->wakeup.data = s;
    if (uv_fs_event_start(&s->wakeup, on_wakeup, s->env.state_dir, 0) < 0) {
        uv_close((uv_handle_t *)&s->wakeup, NULL);
        log_warning("cannot watch %s; notices re-queued by tickler retry go at the next "
                    "delivery round or on SIGHUP",
                    s->env.state_dir);
        return;
    }
    s->wakeup_active = true;
}

/* ---- load, start, reload, stop --------------------------------------- */

static int ensure_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void apply_log_level(const struct tkl_service *s)
{
    if (!s->log_level_override && s->rt->cfg->log_level > 0)
        tkl_log_set_level(s->rt->cfg->log_level);
}

/* Opens the outbox and reports what a previous run left in it. */
static int open_outbox(struct tkl_service *s)
{
    char *err = NULL;
    int64_t in_flight = 0;
    struct tkl_outbox_stats st;
    int r = ensure_dir(s->env.state_dir);
    if (r < 0) {
        log_error("state directory %s: %s", s->env.state_dir, strerror(-r));
        return r;
    }
    pid_t holder;
    if ((r = tkl_dirlock_take(s->env.state_dir, &s->dirlock_fd, &holder)) == -EBUSY) {
        log_error("another ticklerd (pid %ld) is running on the state directory %s: two would "
                  "send each other's notices again; stop it, or give this one a state directory "
                  "of its own",
                  (long)holder, s->env.state_dir);
        return r;
    } else if (r < 0) {
        log_error("cannot lock the state directory %s (%s/%s): %s", s->env.state_dir,
                  s->env.state_dir, TKL_DIRLOCK_FILE, strerror(-r));
        return r;
    }
    s->dirlock_held = true;
    if ((r = tkl_outbox_open(s->env.state_dir, &s->outbox, &err)) < 0) {
        log_error("cannot open the outbox in %s: %s", s->env.state_dir, err ? err : strerror(-r));
        free(err);
        return r;
    }
    tkl_outbox_set_busy_timeout(s->outbox, OUTBOX_BUSY_MS);
    s->recover_pending = true; /* until it succeeds, no round runs (prepare_round tries it again) */
    if (s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL)
        return 0; /* the state is made on the loop (start_pg_state); recovery at the first round */
    int64_t moved = 0;
    if (tkl_outbox_get_meta(s->outbox, TKL_OUTBOX_MOVED_AT, &moved) == 0) {
        char at[32];
        log_error("the state in %s/tickler.db was moved to PostgreSQL by tickler migrate at %s: "
                  "set state.backend = \"postgresql\" (sending from it again would repeat what "
                  "was sent since)",
                  s->env.state_dir, tkl_format_instant(moved, at));
        return -EALREADY;
    }
    /* from here every write joins the loop turn's group (outbox.h) */
    if ((r = tkl_state_sqlite_new(s->outbox, on_synced, s, &s->state)) < 0) {
        log_error("cannot start: out of memory");
        return r;
    }
    if ((r = tkl_state_recover(s->state, LEASE_NODE, tkl_service_now(s), on_recovered, s)) == 0) {
        s->recovering = true;
        (void)tkl_state_commit(s->state); /* tells on_recovered */
    } else {
        log_error("cannot read the outbox: %s", strerror(-r));
    }
    if (!s->recover_pending)
        in_flight = s->recovered;
    int64_t waiting = 0;
    if (tkl_outbox_stats(s->outbox, 0, &st) == 0 &&
        (waiting = st.pending + st.retrying - in_flight) > 0)
        log_notice("%" PRId64 " notice%s wait%s in the outbox from before; %s sent when due",
                   waiting, tkl_plural((size_t)waiting), waiting == 1 ? "s" : "",
                   waiting == 1 ? "it is" : "they are");
    return 0;
}

/* Where rt's schedule catches up from, given the state's last_run (r:
 * 0, -ENOENT when absent, else why it could not be read): the last round
 * the state took, else catch_up_days back from s's start. Reminders a
 * refused round put back are after it; the notification log drops what
 * was queued since. */
static int64_t catch_up_from_value(const struct tkl_service *s, const struct tkl_runtime *rt, int r,
                                   int64_t last_run, int64_t now)
{
    if (r == 0)
        return last_run < now ? last_run : now;
    if (r == -ENOENT) { /* a first start: from when it began */
        /* now is whole seconds of a clock whose fraction is not the
         * monotonic one's: a second more, so that a reminder due in the
         * second the load began is after the point */
        int64_t ms = (int64_t)((uv_hrtime() - s->started_ns) / 1000000);
        int64_t start = now - (ms + 999) / 1000 - 1;
        return start - (int64_t)rt->cfg->schedule.policy.catch_up_days * 86400;
    }
    log_warning("cannot read the last run time: %s; nothing before now is caught up", strerror(-r));
    return now;
}

/* Where rt's schedule catches up from: SQLite's last_run read now, or
 * the shared one PostgreSQL's state told (last_run_known). */
static int64_t catch_up_from(struct tkl_service *s, const struct tkl_runtime *rt, int64_t now)
{
    int64_t last_run = s->last_run_known;
    int r = 0;
    if (!s->node) /* the state running is SQLite's, whatever a reload asked */
        r = tkl_outbox_get_meta(s->outbox, "last_run", &last_run);
    else if (last_run == INT64_MIN)
        r = -ENOENT;
    return catch_up_from_value(s, rt, r, last_run, now);
}

/*
 * Whether the schedule just built, catching up from from, waits for the
 * sending hours: a start (not --oneshot) outside them (tkl_catch_up_now)
 * with a reminder or an update request missed while stopped due now,
 * unless waiting would lose some of it (a comms prompt whose observance
 * is over by then, an update request whose time is): then all of it goes
 * now, as it would have in the hours. Says which in the log; when it
 * waits, s->hours_from keeps from.
 */
static bool catch_up_waits(struct tkl_service *s, int64_t from, int64_t now)
{
    const struct tkl_config *c = s->rt->cfg;
    const struct tkl_policy *p = &c->schedule.policy;
    if (s->oneshot || tkl_catch_up_now(p, now))
        return false;
    bool requests = c->report.n_request_updates != 0;
    if (tkl_scheduler_next_at(&s->rt->sched) > now &&
        (!requests || tkl_requests_next_at(&c->report, p, s->requests_from - 1) > now))
        return false;
    int64_t at = tkl_catch_up_at(p, now);
    char since[32], when[32];
    (void)tkl_format_instant(from, since);
    (void)tkl_format_instant(at, when);
    if (tkl_scheduler_prompt_over_by(&s->rt->sched, s->rt->store, now, tkl_local_day(now),
                                     tkl_local_day(at)) ||
        (requests && tkl_requests_over_by(&c->report, p, s->requests_from, now, at))) {
        log_notice("outside the sending hours (schedule.catch_up_until), but what was missed "
                   "while stopped, since %s, holds a comms prompt or an update request whose "
                   "time would be over by the next send time, %s: it all goes now",
                   since, when);
        return false;
    }
    log_notice("outside the sending hours (schedule.catch_up_until): what was missed while "
               "stopped, since %s, waits for the next send time, %s, and is decided then",
               since, when);
    s->hours_from = from;
    return true;
}

/* The deliveries instance p has in flight, for its drain when retired. */
static unsigned in_flight(void *data, const struct tkl_plugin_instance *p)
{
    struct tkl_service *s = data;
    return tkl_delivery_in_flight(&s->deliverer, p);
}

int tkl_service_load(struct tkl_service *s)
{
    struct tkl_diags diags = {0};
    s->started_ns = uv_hrtime();
    s->env.svc = &s->svc;
    s->svc.keep = true; /* the daemon's notifiers keep what outlives a restart */
    s->svc.items_changed = on_items_changed;
    s->svc.in_flight = in_flight;
    s->svc.data = s;
    int r = tkl_metrics_new(&s->metrics);
    if (r < 0) {
        log_error("cannot start: out of memory");
        return r;
    }
    r = tkl_runtime_load(&s->env, &s->rt, &diags);
    size_t n_errors = diags.n_errors;
    s->unsettled_reads = diags.unsettled; /* read again once watched (tkl_service_start) */
    log_diags(&diags);
    if (r < 0) {
        /* the errors may be the plan's, a team directory's or a
         * calendar's as well as the configuration's own */
        if (n_errors)
            log_error("cannot start: %zu error%s above, in %s or the files it names", n_errors,
                      tkl_plural(n_errors), s->env.config_path);
        else
            log_error("cannot start: %s", strerror(-r));
        return r;
    }
    tkl_metrics_store_loaded(s->metrics, tkl_service_now(s));
    s->svc.clock_offset = s->env.clock_offset;
    if (s->env.clock_offset) {
        char buf[32];
        log_notice("clock set to %s by --now", tkl_format_instant(tkl_service_now(s), buf));
    }
    apply_log_level(s);
    if ((r = open_outbox(s)) < 0)
        return r;
    s->last_run_known = INT64_MIN;
    s->snoozes_from = INT64_MAX;
    s->hours_from = INT64_MAX;
    /* PostgreSQL: the schedule is built once the shared last_run is read */
    s->last_run_pending = s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL;
    int64_t now = tkl_service_now(s), pending = INT64_MAX;
    int64_t from = s->last_run_pending ? now : catch_up_from(s, s->rt, now);
    /* an update request the outbox refused before the last stop */
    s->requests_pending_kept =
        tkl_outbox_get_meta(s->outbox, REQUESTS_PENDING, &pending) == 0 && pending != INT64_MAX;
    s->requests_from = pending < from ? pending : from;
    s->requests_pending_at = s->requests_pending_kept ? pending : INT64_MAX;
    if (!s->last_run_pending && (r = tkl_runtime_schedule(s->rt, from, now)) < 0) {
        log_error("out of memory building the schedule");
        return r;
    }
    s->replanned = !s->last_run_pending;
    /* else the first queue round reads them */
    if (s->last_run_pending) /* PostgreSQL: the shared updates are read once the state is ready */
        s->answers_stale = true;
    else { /* the ends from the schedule's catch-up point: a snooze that ended while stopped too */
        s->snoozes_from = from;
        (void)rebuild_answers(s);
    }
    if (!s->last_run_pending)
        s->hours_pending = catch_up_waits(s, from, now);
    tell_store_memory(s);
    keep_plans(s);
    return 0;
}

static void set_deliverer(struct tkl_service *s)
{
    const struct tkl_runtime *rt = s->rt;
    tkl_delivery_set(&s->deliverer, &rt->cfg->delivery, &rt->cfg->teams, rt->plugins.notifiers,
                     rt->plugins.n_notifiers);
    tkl_delivery_set_links(&s->deliverer, &rt->links, rt->cfg->http.public_url,
                           rt->cfg->links.expiry_days);
    tkl_delivery_set_calendar(&s->deliverer, rt->cfg->calendar_title);
    s->svc.drain_ms = (uint64_t)rt->cfg->delivery.drain_seconds * 1000;
}

static int64_t http_now(void *data)
{
    return tkl_service_now(data);
}

/* Every answer the web face sent, for tickler_http_requests_total. */
static void http_answered(void *data, enum tkl_route route, unsigned code)
{
    struct tkl_service *s = data;
    (void)tkl_metrics_http(s->metrics, route, code); /* out of memory: one count lost */
}

/* The web face, unless --oneshot, or no http group and no socket passed. */
static int start_http(struct tkl_service *s)
{
    const struct tkl_http_conf *hc = &s->rt->cfg->http;
    char err[256];
    if (s->oneshot || !s->http_page)
        return 0;
    if (!s->n_listen_fds && !hc->n_listen) {
        /* said, so that a socket unit stopped with the service (and not
         * started again with it) is seen */
        tkl_log(s->rt->cfg->links.enabled ? TKL_LOG_WARNING : TKL_LOG_NOTICE,
                "no web face: the configuration has no http group and systemd passed no "
                "sockets (is ticklerd.socket started?)%s",
                s->rt->cfg->links.enabled ? "; the links the notices carry will not open" : "");
        return 0;
    }
    struct tkl_http_server_host host = {
        .handle = s->http_page, .answered = http_answered, .now = http_now, .data = s};
    int r = tkl_http_server_start(s->loop, hc, s->listen_fds, s->n_listen_fds, &host, &s->http, err,
                                  sizeof(err));
    if (r < 0) {
        log_error("web face: %s", err);
        return r;
    }
    log_notice("web face on %s%s%s%s", tkl_http_server_addresses(s->http),
               s->n_listen_fds ? " (sockets from systemd)" : "",
               hc->public_url ? ", reached at " : "", hc->public_url ? hc->public_url : "");
    return 0;
}

/* The schedule still waits for the shared last_run: the delivery timer's
 * round (prepare_round) asks again within SETTLE_RETRY_MS, or sooner if
 * the timer is due sooner. The first failure in a row is a warning. */
static void last_run_retry(struct tkl_service *s, const char *what, int r)
{
    tkl_log(s->last_run_failures++ ? TKL_LOG_DEBUG : TKL_LOG_WARNING,
            "%s: %s; the schedule waits for the last run time from PostgreSQL, asked again "
            "in %d s",
            what, strerror(-r), SETTLE_RETRY_MS / 1000);
    if (!uv_is_active((uv_handle_t *)&s->deliver_timer) ||
        uv_timer_get_due_in(&s->deliver_timer) > SETTLE_RETRY_MS)
        (void)uv_timer_start(&s->deliver_timer, on_deliver_timer, SETTLE_RETRY_MS, 0);
}

/* The shared last_run (r == 0), absent (-ENOENT), or not read (asked
 * again: last_run_retry): the schedule is built from it, and queue rounds
 * run from then on. */
static void on_shared_last_run(void *data, int r, int64_t value)
{
    struct tkl_service *s = data;
    s->last_run_asking = false;
    if (!s->last_run_pending || !s->handles_open || s->stopping)
        return;
    if (r < 0 && r != -ENOENT) {
        last_run_retry(s, "cannot read the last run time from PostgreSQL", r);
        return;
    }
    if (r == 0 && value > s->last_run_known)
        s->last_run_known = value;
    int64_t now = tkl_service_now(s), from = catch_up_from_value(s, s->rt, r, value, now);
    if (s->hours_from < from) /* a first start's catch-up point, kept by the wait */
        from = s->hours_from;
    if (tkl_runtime_schedule(s->rt, from, now) < 0) {
        last_run_retry(s, "cannot build the schedule", -ENOMEM);
        return;
    }
    s->replanned = true;
    s->last_run_pending = false;
    s->last_run_failures = 0;
    if (from < s->requests_from) /* the update requests catch up from it too */
        s->requests_from = from;
    if (!s->answers_stale)
        follow_snoozes(s, from); /* a snooze that ended while stopped too */
    else
        s->snoozes_from = from; /* so too once the answers are read */
    if ((s->hours_pending = catch_up_waits(s, from, now))) {
        arm_hours(s);
        if (s->changed)
            s->changed(s);
        return;
    }
    s->hours_from = INT64_MAX;
    char buf[64];
    log_notice("schedule built from the shared last run: %zu reminders scheduled, next %s",
               s->rt->sched.n, tkl_service_next_text(s, buf));
    arm_scheduler(s);
    run_requests(s);
    if (s->changed)
        s->changed(s);
    if (s->oneshot)
        kick(s); /* the delivery round decides whether --oneshot is done */
}

/* Asks the state for the shared last_run, unless asked already. */
static void ask_last_run(struct tkl_service *s)
{
    if (!s->last_run_pending || s->last_run_asking)
        return;
    int r = tkl_state_get_meta(s->state, "last_run", on_shared_last_run, s);
    if (r < 0) {
        last_run_retry(s, "cannot ask PostgreSQL for the last run time", r);
        return;
    }
    s->last_run_asking = true;
    (void)tkl_state_commit(s->state);
}

static void on_hours_timer(uv_timer_t *t);

/* Arms hours_timer for the next send time while the catch-up waits for
 * it, at most an hour ahead: libuv's timers run on the monotonic clock,
 * which stops while the machine sleeps. */
static void arm_hours(struct tkl_service *s)
{
    if (!s->handles_open)
        return;
    if (!s->hours_pending) {
        (void)uv_timer_stop(&s->hours_timer);
        return;
    }
    const struct tkl_policy *p = &s->rt->cfg->schedule.policy;
    int64_t now = tkl_service_now(s);
    int64_t at = tkl_catch_up_now(p, now) ? now : tkl_catch_up_at(p, now);
    arm_at(s, &s->hours_timer, on_hours_timer, at - now > 3600 ? now + 3600 : at);
}

/* The sending hours have come: the schedule is built again from the last
 * run, so that what was missed is decided now, on the plan and the
 * officers' updates in force (PostgreSQL: the shared last run read again
 * first, on_shared_last_run building it). */
static void on_hours_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    int64_t now = tkl_service_now(s);
    if (!s->hours_pending || s->stopping)
        return;
    if (!tkl_catch_up_now(&s->rt->cfg->schedule.policy, now)) {
        arm_hours(s); /* not yet, or the hours passed while the machine slept */
        return;
    }
    s->hours_pending = false;
    if (s->node) {
        log_notice("the sending hours have begun: the schedule is built once PostgreSQL gives "
                   "the last run time");
        s->last_run_pending = true;
        ask_last_run(s);
        if (s->changed)
            s->changed(s);
        return;
    }
    int64_t from = catch_up_from(s, s->rt, now);
    if (s->hours_from < from) /* a first start's catch-up point, kept by the wait */
        from = s->hours_from;
    if (tkl_runtime_schedule(s->rt, from, now) < 0) {
        log_error("out of memory building the schedule; tried again in a minute");
        s->hours_pending = true;
        arm_at(s, &s->hours_timer, on_hours_timer, now + 60);
        return;
    }
    s->replanned = true;
    s->hours_from = INT64_MAX;
    if (from < s->snoozes_from) /* a snooze that ended while stopped too */
        s->snoozes_from = from;
    (void)rebuild_answers(s);
    char buf[64];
    log_notice("the sending hours have begun: %zu reminder%s scheduled, next %s", s->rt->sched.n,
               tkl_plural(s->rt->sched.n), tkl_service_next_text(s, buf));
    arm_scheduler(s);
    run_requests(s);
    if (s->changed)
        s->changed(s);
}

/* The PostgreSQL state is ready (r == 0) or cannot be set up for good. */
static void on_pg_ready(void *data, int r)
{
    struct tkl_service *s = data;
    if (r < 0) {
        log_error("cannot use the PostgreSQL state: %s; stopping", strerror(-r));
        s->failed = true;
        if (s->finished)
            s->finished(s); /* ticklerd: shuts down, the exit code says it failed */
        else
            tkl_service_stop(s);
        return;
    }
    s->state_ready = true;
    if (s->handles_open) {
        ask_last_run(s);
        if (read_answers(s, true) < 0)
            log_error("cannot read the officers' updates; the first queue round reads them");
        kick(s);
    }
    if (s->http_page)
        tkl_outbox_view_refresh(s, tkl_service_now(s)); /* the first scrape has the outbox */
}

/* A reconnection, or notices another node queued: the shared updates are
 * checked too (an update recorded while the connection was away). */
static void on_state_wake(void *data)
{
    struct tkl_service *s = data;
    if (s->handles_open && !s->stopping) {
        ask_last_run(s);
        (void)read_answers(s, false); /* failing, the next queue round reads them */
        kick(s);
    }
}

/* state.backend = "postgresql": the state on the loop, this node's lease. */
static int start_pg_state(struct tkl_service *s, uv_loop_t *loop)
{
    const struct tkl_state_conf *c = &s->rt->cfg->state;
    struct tkl_state_pg_options o = {.conninfo_file = c->conninfo_file,
                                     .node = c->node,
                                     .lease_seconds = c->lease_seconds,
                                     .on_ready = on_pg_ready,
                                     /* a run that ends does not wait for ever */
                                     .unreachable_after = s->oneshot ? ONESHOT_PG_ATTEMPTS : 0,
                                     .data = s};
    if (!(s->node = strdup(c->node)))
        return -ENOMEM;
    int r = tkl_state_pg_new(loop, &o, &s->state);
    if (r < 0) {
        log_error("cannot use the PostgreSQL state (%s): %s", c->conninfo_file,
                  tkl_secret_strerror(r));
        return r;
    }
    tkl_state_on_wake(s->state, on_state_wake, s);
    tkl_state_on_updated(s->state, on_state_updated, s);
    s->deliverer.lease = (struct tkl_state_lease){s->node, c->lease_seconds};
    s->deliverer.shared = true;
    log_notice("state on PostgreSQL as node %s (lease %d s)", c->node, c->lease_seconds);
    return 0;
}

int tkl_service_start(struct tkl_service *s, uv_loop_t *loop)
{
    const char *failed = NULL;
    int r;
    s->loop = s->svc.loop = loop;
    uv_timer_t *timers[] = {&s->sched_timer,   &s->deliver_timer, &s->day_timer,
                            &s->request_timer, &s->tell_timer,    &s->round_timer,
                            &s->drain_timer,   &s->hours_timer,   &s->sweep_timer};
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
        (void)uv_timer_init(loop, timers[i]); /* cannot fail */
        timers[i]->data = s;
    }
    s->n_timed = 0;
    if ((r = tkl_wallclock_init(loop, &s->wallclock, on_wall_clock)) < 0) {
        no_wall_clock(r);
    } else {
        s->wallclock.data = s;
        uv_unref((uv_handle_t *)&s->wallclock.poll); /* the timers keep the loop alive */
        s->wallclock_open = true;
    }
    (void)uv_prepare_init(loop, &s->commit); /* cannot fail */
    s->commit.data = s;
    (void)uv_prepare_start(&s->commit, on_prepare);
    uv_unref((uv_handle_t *)&s->commit); /* it never keeps the loop alive nor wakes it */
    s->handles_open = true;
    read_stop_point(s);
    s->deliverer.lease = (struct tkl_state_lease){LEASE_NODE, s->rt->cfg->state.lease_seconds};
    if (s->rt->cfg->state.backend == TKL_STATE_POSTGRESQL && (r = start_pg_state(s, loop)) < 0)
        return r;
    s->deliverer.state = s->state;
    s->deliverer.host = (struct tkl_delivery_host){
        now_ms, kick, round_done, s, delivery_ended, notice_completed, notice_intro, sweep_in};
    s->deliverer.metrics = s->metrics;
    set_deliverer(s);
    (void)tkl_delivery_sweep(&s->deliverer); /* the failures a last run left unreported */
    if ((r = tkl_host_services_start(&s->svc)) < 0 ||
        (r = tkl_transfers_new(loop, &s->svc.transfers)) < 0) {
        log_error("cannot set up libcurl: %s", strerror(-r));
        return r;
    }
    if ((r = tkl_plugin_set_start(&s->rt->plugins, &failed)) < 0) {
        log_error("plugin \"%s\" did not start: %s", failed, strerror(-r));
        return r;
    }
    if ((r = start_http(s)) < 0)
        return r;
    start_wakeup(s);
    start_watch(s);
    if (s->unsettled_reads)
        reread_soon(s);
    arm_scheduler(s);
    arm_hours(s);
    arm_day_timer(s);
    run_requests(s);
    s->tell_waiting = false; /* what the load could not tell is tried again */
    tell_untold(s);
    kick(s);
    return 0;
}

/* Whether the state groups a and b differ (a restart applies the new). */
static bool state_changed(const struct tkl_state_conf *a, const struct tkl_state_conf *b)
{
    return a->backend != b->backend || a->lease_seconds != b->lease_seconds ||
           strcmp(a->node ? a->node : "", b->node ? b->node : "") != 0 ||
           strcmp(a->conninfo_file ? a->conninfo_file : "",
                  b->conninfo_file ? b->conninfo_file : "") != 0;
}

/* Puts runtime fresh in force in place of the running one. */
static void swap_in(struct tkl_service *s, struct tkl_runtime *fresh)
{
    if (state_changed(&s->rt->cfg->state, &fresh->cfg->state))
        log_warning("the state group changed; it takes effect at the next start");
    size_t kept = tkl_plugin_set_carry(&s->rt->plugins, &fresh->plugins);
    s->sources_generation++;
    s->store_generation++;
    tkl_sources_refresh(&fresh->sources, &fresh->plugins);
    /* the new schedule holds what a refused round put back (it catches up
     * from the last committed round) and the store was just read */
    s->queue_backoff = 0;
    s->store_change_pending = false;
    s->start_backoff = s->start_failures = 0; /* new instances start at the next round */
    s->start_retry_at = 0;
    bool start_face = !s->http;
    /* the instances it retires drain as the new configuration says */
    s->svc.drain_ms = (uint64_t)fresh->cfg->delivery.drain_seconds * 1000;
    tkl_plugin_set_retire(&s->rt->plugins, &s->svc);
    /* the old fetcher (which reads the old runtime's settings) is closed
     * once the new one has what it knew */
    struct tkl_fetcher *was = s->fetcher;
    struct tkl_runtime *old = s->rt;
    s->fetcher = NULL;
    stop_watch(s);
    s->rt = fresh;
    s->replanned = !s->last_run_pending; /* its schedule built afresh */
    tell_store_memory(s);
    keep_plans(s);
    (void)rebuild_answers(s);
    set_deliverer(s);
    /* report_to set, mended or given recipients: what waits is reported */
    (void)tkl_delivery_sweep(&s->deliverer);
    apply_log_level(s);
    start_watch(s);
    tkl_fetcher_carry(was, s->fetcher);
    tkl_fetcher_close(was);
    tkl_runtime_free(old);
    if (start_face) /* a web face configured by this reload starts now */
        (void)start_http(s);
    log_notice("configuration reloaded: %zu actions, %zu observances, %zu notifier%s and %zu "
               "source%s (%zu of these plugins kept running)",
               fresh->store->n - fresh->store->n_events, fresh->store->n_events,
               fresh->plugins.n_notifiers, tkl_plural(fresh->plugins.n_notifiers),
               fresh->plugins.n_sources, tkl_plural(fresh->plugins.n_sources), kept);
}

void tkl_service_reload(struct tkl_service *s)
{
    struct tkl_diags diags = {0};
    struct tkl_runtime *fresh = NULL;
    if (s->stopping)
        return;
    /* a round in flight (on PostgreSQL, until the database answers) routes
     * its notices with the runtime in force: the new one waits for it */
    if (s->round_pending) {
        log_notice("reloading once the pending queue round is in the outbox");
        s->reload_pending = true;
        return;
    }
    /* the load can take seconds (a plan at a URL up to 30 s): the open
     * group commits first, so its write lock does not keep `tickler
     * retry` and the web face's writes waiting meanwhile (a refusal
     * undoes the group: its listener keeps the outcomes to record again) */
    if (s->state && tkl_state_commit(s->state) < 0)
        log_error("cannot commit to the outbox before reloading");
    log_notice("reloading %s", s->env.config_path);
    int64_t now = tkl_service_now(s), from = now;
    unsigned logged = s->svc.n_errors; /* errors plugins log while configured */
    int r = tkl_runtime_load(&s->env, &fresh, &diags);
    bool unsettled = diags.unsettled;
    size_t errors = diags.n_errors + (s->svc.n_errors - logged);
    log_diags(&diags);
    if (r == 0)
        from = catch_up_from(s, fresh, now);
    if (s->hours_pending && s->hours_from < from) /* a first start's, kept by the wait */
        from = s->hours_from;
    /* PostgreSQL before the shared last_run is read: built once it is */
    if (r == 0 && !s->last_run_pending && (r = tkl_runtime_schedule(fresh, from, now)) < 0)
        tkl_runtime_free(fresh);
    /* the web face in force serves what it was started with until a
     * restart: the new configuration takes those settings (and the
     * public_url derived from its listen), so that links and the origin a
     * POST is checked against name the server that answers; its
     * configuration is then always what is bound */
    if (r == 0 && s->http && !tkl_http_conf_same_server(&s->rt->cfg->http, &fresh->cfg->http)) {
        log_warning("http: changes to listen, the limits or TLS take effect at the next restart");
        if ((r = tkl_http_conf_keep_server(&fresh->cfg->http, &s->rt->cfg->http)) < 0)
            tkl_runtime_free(fresh);
    }
    tkl_metrics_store_reload(s->metrics, r == 0, now); /* the store is read again too */
    if (r < 0) {
        /* the errors logged above say why; an errno would only repeat
         * "Invalid argument" after them */
        if (errors && r == -EINVAL)
            log_error("reload refused: %zu error%s above, in %s or the files it names; the "
                      "previous configuration stays in force",
                      errors, tkl_plural(errors), s->env.config_path);
        else
            log_error("reload failed (%s); the previous configuration stays in force",
                      strerror(-r));
        if (tkl_tz_set(s->rt->cfg->timezone) < 0)
            log_error("cannot set the time zone back to %s", s->rt->cfg->timezone);
        return;
    }
    if (!s->last_run_pending && from < s->snoozes_from) /* built from there */
        s->snoozes_from = from;
    swap_in(s, fresh);
    /* a plan that looked mid-save is in force with the configuration (the
     * last good store goes with the last configuration) */
    s->unsettled_reads = 0;
    s->unsettled_in_force = false;
    s->store_watch_fired = false;
    if (unsettled)
        reread_soon(s);
    /* the dates may have changed; a refused run is tried again now, from
     * its phase's time even when a queue round has run since */
    s->requests_from = from < s->requests_pending_at ? from : s->requests_pending_at;
    /* waiting for the sending hours: decided again on what is in force
     * (the schedule just built catches up from the same point) */
    if (s->hours_pending && !(s->hours_pending = catch_up_waits(s, from, now))) {
        s->hours_from = INT64_MAX;
        if (from < s->snoozes_from)
            s->snoozes_from = from;
        (void)rebuild_answers(s);
    }
    arm_scheduler(s);
    arm_hours(s); /* the hours may have changed */
    s->request_backoff = 0;
    run_requests(s);
    kick(s);
}

/* last_run's completion at the stop: only a refusal is told. */
static void on_stop_meta(void *data, int r)
{
    (void)data;
    if (r < 0)
        log_warning("cannot record the last run time; the next start catches up from before");
}

/* The stop's drain: ends once no delivery is in flight, or at its end. */
static void on_stop_drain(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    uint64_t now = uv_now(s->loop);
    if (!s->draining)
        return;
    if (tkl_delivery_in_flight(&s->deliverer, NULL) && now < s->drain_until) {
        (void)uv_timer_start(&s->drain_timer, on_stop_drain, s->drain_until - now, 0);
        return;
    }
    finish_stop(s);
}

void tkl_service_stop(struct tkl_service *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    /* a round not in yet (parts of it not put, or its completion still to
     * come from the database): last_run stays before it, so the next start
     * catches up on it even if its reminders cannot be put back, and the
     * log keeps what of it is in from being queued twice */
    s->stop_round_pending = s->round_pending;
    s->stop_round_at = s->round_at;
    /* a round part-way: the reminders of the parts not put go back to the
     * schedule */
    if (s->round_part) {
        struct tkl_queue_round *rd = s->round_part;
        s->round_part = NULL;
        tkl_queue_abandon(rd);
    }
    tkl_delivery_stop(&s->deliverer);
    /* nothing new is handed out; what is in flight (with the notifiers a
     * reload retired) finishes and is recorded as usual, for at most
     * delivery.drain_seconds, before the notifiers stop */
    unsigned n = tkl_delivery_in_flight(&s->deliverer, NULL);
    int drain = s->rt ? s->rt->cfg->delivery.drain_seconds : 0;
    if (s->handles_open && drain > 0 && (n || tkl_host_draining(&s->svc))) {
        log_notice("stopping: waiting at most %d s for %u deliveries in flight", drain, n);
        s->draining = true;
        uv_update_time(s->loop);
        s->drain_until = uv_now(s->loop) + (uint64_t)drain * 1000;
        (void)uv_timer_start(&s->drain_timer, on_stop_drain, 0, 0);
        return;
    }
    finish_stop(s);
}

/* The stop's end, once the deliveries in flight finished or the drain ran
 * out: the notifiers stop (cutting short what is left, recorded due at
 * once: sent again at the next start, or on a shared state by any node
 * that runs), last_run is recorded, the state drained and every handle
 * closed. */
static void finish_stop(struct tkl_service *s)
{
    bool round_pending = s->stop_round_pending;
    int64_t round_at = s->stop_round_at;
    unsigned n = tkl_delivery_in_flight(&s->deliverer, NULL);
    s->draining = false;
    if (n)
        log_notice("stopping: %u deliveries still in flight are cut short and left in the %s", n,
                   s->deliverer.shared
                       ? "shared outbox, due at once for a node that runs (this one at its next "
                         "start)"
                       : "outbox for the next start");
    tkl_host_drain_end(&s->svc);
    if (s->rt)
        tkl_plugin_set_stop(&s->rt->plugins);
    /* not past a reminder still waiting in the schedule (its timer not yet
     * fired, or its round refused): the next start catches up on it */
    int64_t last_run = tkl_service_now(s), stored;
    if (s->rt && tkl_scheduler_next_at(&s->rt->sched) <= last_run)
        last_run = tkl_scheduler_next_at(&s->rt->sched) - 1;
    /* an update request the outbox refused, or one in flight (PostgreSQL),
     * is caught up on at the next start unless it is marked done by then */
    if (s->requests_run && s->requests_run->marks.first_at < s->requests_pending_at)
        s->requests_pending_at = s->requests_run->marks.first_at;
    if (s->requests_pending_at <= last_run)
        last_run = s->requests_pending_at - 1;
    if (round_pending && round_at <= last_run)
        last_run = round_at - 1;
    stored = s->last_run_known; /* PostgreSQL: the shared value read or written */
    if (s->rt && !s->node &&
        (!s->outbox || tkl_outbox_get_meta(s->outbox, "last_run", &stored) < 0))
        stored = INT64_MIN;
    /* waiting for the sending hours (or, on PostgreSQL, for the shared
     * value read again at them): what was missed still waits; only a first
     * start's catch-up point is written, so that the next start catches up
     * from it too (a value known to be stored stays as it is) */
    bool waits = s->hours_from != INT64_MAX;
    if (waits && s->hours_from < last_run)
        last_run = s->hours_from;
    if (stored > last_run)
        last_run = stored; /* never backwards */
    /* PostgreSQL: nothing was scheduled before the shared value was read */
    if (s->state && (waits ? stored == INT64_MIN : !s->last_run_pending) &&
        tkl_state_set_meta(s->state, "last_run", last_run, on_stop_meta, NULL) < 0)
        on_stop_meta(NULL, -EIO);
    /* last_run does not go back for it when a queue round ran since */
    if (s->outbox && s->requests_pending_at != INT64_MAX &&
        tkl_outbox_set_meta(s->outbox, REQUESTS_PENDING, s->requests_pending_at) < 0)
        log_warning("cannot record the update request the outbox refused; the next start may "
                    "pass over it");
    if (s->state && tkl_state_commit(s->state) < 0)
        log_warning("cannot commit to the outbox while stopping; the next start catches up");
    tkl_state_drain(s->state); /* PostgreSQL: its connection goes once answered */
    tkl_http_server_close(s->http);
    s->http = NULL;
    stop_watch(s); /* its transfers first */
    tkl_transfers_close(s->svc.transfers);
    s->svc.transfers = NULL;
    tkl_host_services_stop(&s->svc);
    if (s->wakeup_active)
        uv_close((uv_handle_t *)&s->wakeup, NULL);
    s->wakeup_active = false;
    if (s->handles_open) {
        uv_close((uv_handle_t *)&s->commit, NULL);
        uv_close((uv_handle_t *)&s->sched_timer, NULL);
        uv_close((uv_handle_t *)&s->deliver_timer, NULL);
        uv_close((uv_handle_t *)&s->day_timer, NULL);
        uv_close((uv_handle_t *)&s->request_timer, NULL);
        uv_close((uv_handle_t *)&s->tell_timer, NULL);
        uv_close((uv_handle_t *)&s->round_timer, NULL);
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        uv_close((uv_handle_t *)&s->hours_timer, NULL);
        uv_close((uv_handle_t *)&s->sweep_timer, NULL);
    }
    if (s->wallclock_open)
        tkl_wallclock_close(&s->wallclock, NULL);
    s->wallclock_open = false;
    s->handles_open = false;
    if (s->stopped)
        s->stopped(s);
}

void tkl_service_stop_now(struct tkl_service *s)
{
    if (s->draining)
        finish_stop(s);
}

/* ---- "not ours" reports --------------------------------------------- */

/* meta "reported:<update id>": that update's report was made, written once
 * its notices are durable (the log's keys name each recipient, this names
 * the update: a report_to changed since does not tell it again) */
#define REPORTED_META "reported:"
/* meta "joint-told:<update id>": that update of a joint action was told
 * to its other owning teams (tkl_queue_joint), as REPORTED_META */
#define JOINT_META "joint-told:"
/* a "not ours" (or a joint action's update) not told yet (stopped,
 * refused) is told this long after it was recorded, no longer: a
 * report_to set later, or the first start of this version, does not tell
 * every old one */
#define NOT_OURS_TELL_DAYS 7

/* The key of update id in s->told: itself for its report to report_to,
 * its negation for its notices to a joint action's other owning teams
 * (an update's id is positive; a resume can be both). */
static int64_t told_key(int64_t id, bool joint)
{
    return joint ? -id : id;
}

/* Where id is in s->told, or would go. */
static size_t told_at(const struct tkl_service *s, int64_t id)
{
    size_t lo = 0, hi = s->n_told;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->told[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_told(const struct tkl_service *s, int64_t id)
{
    size_t i = told_at(s, id);
    return i < s->n_told && s->told[i] == id;
}

/* Adds id to s->told. Returns 0 or -ENOMEM. */
static int told_add(struct tkl_service *s, int64_t id)
{
    size_t i = told_at(s, id);
    if (i < s->n_told && s->told[i] == id)
        return 0;
    if (s->n_told == s->cap_told) {
        size_t cap = s->cap_told ? 2 * s->cap_told : 16;
        int64_t *v = reallocarray(s->told, cap, sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->told = v;
        s->cap_told = cap;
    }
    memmove(s->told + i + 1, s->told + i, (s->n_told - i) * sizeof(*s->told));
    s->told[i] = id;
    s->n_told++;
    return 0;
}

static void told_remove(struct tkl_service *s, int64_t id)
{
    size_t i = told_at(s, id);
    if (i < s->n_told && s->told[i] == id) {
        memmove(s->told + i, s->told + i + 1, (s->n_told - i - 1) * sizeof(*s->told));
        s->n_told--;
    }
}

/* Whether update i of answers is told to delivery.report_to: a "not
 * ours", or a resume that took back its team's "not ours" (the team's
 * latest "not ours" or resume before it is a "not ours" that held, against
 * the action as store has it). */
static bool told_of(const struct tkl_answers *answers, size_t i, const struct tkl_store *store)
{
    const struct tkl_update *u = &answers->updates.v[i], *before = NULL;
    if (u->kind == TKL_UPDATE_NOT_OURS)
        return true;
    if (u->kind != TKL_UPDATE_RESUME || !u->team_id)
        return false;
    for (size_t j = 0; j < answers->updates.n; j++) {
        const struct tkl_update *x = &answers->updates.v[j];
        if ((x->kind == TKL_UPDATE_NOT_OURS || x->kind == TKL_UPDATE_RESUME) && x->id < u->id &&
            (!before || x->id > before->id) && x->team_id && !strcmp(x->team_id, u->team_id) &&
            !strcmp(x->action_id, u->action_id))
            before = x;
    }
    const struct tkl_action *a = before ? tkl_store_find(store, u->action_id) : NULL;
    return a && before->kind == TKL_UPDATE_NOT_OURS && tkl_update_holds(before, a);
}

/* The latest update of answers before u of u's action whose kind is k1
 * or k2, or NULL. */
static const struct tkl_update *latest_before(const struct tkl_answers *answers,
                                              const struct tkl_update *u, enum tkl_update_kind k1,
                                              enum tkl_update_kind k2)
{
    const struct tkl_update *before = NULL;
    for (size_t j = 0; j < answers->updates.n; j++) {
        const struct tkl_update *x = &answers->updates.v[j];
        if ((x->kind == k1 || x->kind == k2) && x->id < u->id && (!before || x->id > before->id) &&
            !strcmp(x->action_id, u->action_id))
            before = x;
    }
    return before;
}

/* Whether resume u of answers ended a snooze of action a, by the
 * configuration c, as the answers end one (tkl_answers_build): of each
 * kind of snooze (the owners', and the one through a link of no owning
 * team's or the escalation team's: tkl_update_by_owners), the latest
 * recorded before u since the resume before it, if it holds and its last
 * day is not over by u's day. */
static bool resume_ended_snooze(const struct tkl_answers *answers, const struct tkl_update *u,
                                const struct tkl_action *a, const struct tkl_config *c)
{
    const struct tkl_update *resumed =
        latest_before(answers, u, TKL_UPDATE_RESUME, TKL_UPDATE_RESUME);
    const struct tkl_update *last[2] = {NULL, NULL}; /* the owners', the other */
    for (size_t j = 0; j < answers->updates.n; j++) {
        const struct tkl_update *x = &answers->updates.v[j];
        if (x->kind != TKL_UPDATE_SNOOZE || x->id >= u->id || (resumed && x->id < resumed->id) ||
            strcmp(x->action_id, u->action_id) != 0)
            continue;
        size_t k = tkl_update_by_owners(x, a, &c->schedule, &c->teams) ? 0 : 1;
        if (!last[k] || x->id > last[k]->id)
            last[k] = x;
    }
    for (size_t k = 0; k < 2; k++)
        if (last[k] && tkl_update_holds(last[k], a) && last[k]->until_day > tkl_local_day(u->at))
            return true;
    return false;
}

/* Whether update u of answers is told to its action's other owning teams
 * (tkl_queue_joint), on day today, by the configuration c: the action
 * (*a, from c's store) has more than one owning team, and u is a
 * completion that holds, a snooze that holds and has not ended, a reopen
 * of a completion, or a resume that ended a snooze
 * (resume_ended_snooze). */
static bool joint_of(const struct tkl_answers *answers, const struct tkl_update *u,
                     const struct tkl_store *store, const struct tkl_config *c, int32_t today,
                     const struct tkl_action **a)
{
    const struct tkl_update *before;
    *a = tkl_store_find(store, u->action_id);
    if (!*a || (*a)->n_teams < 2)
        return false;
    switch (u->kind) {
    case TKL_UPDATE_COMPLETE:
        return tkl_update_holds(u, *a);
    case TKL_UPDATE_SNOOZE:
        return u->until_day > today && tkl_update_holds(u, *a);
    case TKL_UPDATE_REOPEN:
        before = latest_before(answers, u, TKL_UPDATE_COMPLETE, TKL_UPDATE_REOPEN);
        return before && before->kind == TKL_UPDATE_COMPLETE;
    case TKL_UPDATE_RESUME:
        return resume_ended_snooze(answers, u, *a, c);
    default:
        return false;
    }
}

/* Whether x is an update of u's action by u's teller: u's owning team,
 * or, through a link of no owning team's, u's address. */
static bool same_teller(const struct tkl_update *x, const struct tkl_update *u)
{
    if (strcmp(x->action_id, u->action_id) != 0)
        return false;
    if (x->team_id || u->team_id)
        return x->team_id && u->team_id && !strcmp(x->team_id, u->team_id);
    return !strcasecmp(x->recipient, u->recipient);
}

/* The pair of kinds that undo each other that k is of: a completion and a
 * reopen (1), a snooze and a resume (2); 0 for any other kind. */
static int settle_pair(enum tkl_update_kind k)
{
    if (k == TKL_UPDATE_COMPLETE || k == TKL_UPDATE_REOPEN)
        return 1;
    return k == TKL_UPDATE_SNOOZE || k == TKL_UPDATE_RESUME ? 2 : 0;
}

/* Whether an update of answers by u's teller of u's pair of kinds comes
 * next after u less than settle seconds after it; never for an update of
 * no pair (a progress note, a "not ours": each says something of its
 * own). */
static bool superseded(const struct tkl_answers *answers, const struct tkl_update *u,
                       int64_t settle)
{
    const struct tkl_update *next = NULL;
    if (!settle_pair(u->kind))
        return false;
    for (size_t j = 0; j < answers->updates.n; j++) {
        const struct tkl_update *x = &answers->updates.v[j];
        if (settle_pair(x->kind) == settle_pair(u->kind) && x->id > u->id &&
            (!next || x->id < next->id) && same_teller(x, u))
            next = x;
    }
    return next && next->at - u->at < settle;
}

enum joint_settle { JOINT_TELL, JOINT_WAIT, JOINT_NEVER };

/* Whether joint update u of answers is told at now, delivery's
 * joint_settle_seconds settle after it was recorded: never when its
 * teller's next update of its pair came less than settle after it (it
 * superseded u: of a quick run, complete, reopen, complete, only the last
 * is told); not yet while u is younger than settle (JOINT_WAIT, *at then
 * the instant it settles); else it is told. It follows from the updates
 * alone, so every node, and a restart, decides the same; a successor that
 * reaches the state after u was told only makes it told as well. */
static enum joint_settle joint_settled(const struct tkl_answers *answers,
                                       const struct tkl_update *u, int64_t settle, int64_t now,
                                       int64_t *at)
{
    if (settle <= 0)
        return JOINT_TELL;
    if (superseded(answers, u, settle))
        return JOINT_NEVER;
    if (u->at > now - settle) {
        *at = u->at + settle;
        return JOINT_WAIT;
    }
    return JOINT_TELL;
}

int tkl_service_joint_when(const struct tkl_service *s, const struct tkl_update *u, int64_t *at)
{
    const struct tkl_config *c = s->rt->cfg;
    const struct tkl_action *a;
    int64_t settle = c->delivery.joint_settle_seconds, wait;
    int64_t when = u->at + (settle > 0 ? settle : 0);
    if (!joint_of(&s->answers, u, s->rt->store, c, tkl_local_day(when), &a) ||
        joint_settled(&s->answers, u, settle, when, &wait) == JOINT_NEVER)
        return -ENOENT;
    *at = when;
    return 0;
}

/* Why nobody can be told of "not ours" u, or NULL: *to and *a are then
 * delivery.report_to's team and u's action. */
static const char *nobody_told(const struct tkl_service *s, const struct tkl_update *u,
                               const struct tkl_team **to, const struct tkl_action **a)
{
    *a = tkl_store_find(s->rt->store, u->action_id);
    const char *why = tkl_config_report_team(s->rt->cfg, to);
    return *a ? why : "the action is not in the plan";
}

/* The report of update id could not be made (r): to report_to, or to a
 * joint action's other owning teams (joint). It and the others of the pass
 * wait (tell_waiting) to be tried again after a growing pause
 * (tell_backoff); --oneshot and a stop leave them to the next start. One
 * line a failing pass, at the 1st, 2nd, 4th... in a row, debug between. */
static void tell_again(struct tkl_service *s, int64_t id, bool joint, int r)
{
    told_remove(s, told_key(id, joint));
    if (s->stopping || s->tell_waiting)
        return; /* the next start, or the pass waiting, tells it */
    s->tell_waiting = true;
    unsigned n = ++s->tell_failures;
    tkl_log((n & (n - 1)) == 0 ? TKL_LOG_ERR : TKL_LOG_DEBUG,
            "cannot tell %s of update %" PRId64 ": %s; %s",
            joint ? "the joint action's other owning teams"
                  : "delivery.report_to of the \"not ours\"",
            id, strerror(-r), s->oneshot ? "the next run tells it" : "it is tried again");
    if (!s->handles_open || s->oneshot)
        return; /* tkl_service_start tries again */
    s->tell_backoff = s->tell_backoff ? 2 * s->tell_backoff : 1;
    if (s->tell_backoff > QUEUE_BACKOFF_MAX)
        s->tell_backoff = QUEUE_BACKOFF_MAX;
    (void)uv_timer_start(&s->tell_timer, on_tell_timer, (uint64_t)s->tell_backoff * 1000, 0);
}

/* A report on its way: its meta read, then its notices put. */
struct telling {
    struct tkl_service *s;
    int64_t id;
    bool joint; /* to the action's other owning teams, else to report_to */
};

/* The meta key that says update id's report (joint: to the other owning
 * teams) was made. */
static void told_meta(int64_t id, bool joint, char *buf, size_t size)
{
    snprintf(buf, size, "%s%" PRId64, joint ? JOINT_META : REPORTED_META, id);
}

static void on_reported_set(void *data, int r)
{
    (void)data;
    if (r < 0) /* the next start puts its notices again; the log drops them */
        log_debug("cannot record a report of an update as made: %s", strerror(-r));
}

/* A report's notices are durable (each logged as queued, or dropped as
 * put before for its recipient), and its meta is written; or some were
 * undone, and it is tried again. */
static void on_told(void *data, int r, const struct tkl_queue_result *res)
{
    struct telling *t = data;
    struct tkl_service *s = t->s;
    char key[48];
    s->reports_pending--;
    if (r < 0) {
        tell_again(s, t->id, t->joint, r);
    } else {
        s->tell_failures = 0;
        s->tell_backoff = 0;
        told_meta(t->id, t->joint, key, sizeof(key));
        if (tkl_state_set_meta(s->state, key, tkl_service_now(s), on_reported_set, NULL) < 0)
            on_reported_set(NULL, -EIO);
    }
    free(t);
    /* not started: the delivery timer, once started, finds them; --oneshot:
     * the delivery round decides whether it is done */
    if ((res->committed || s->oneshot) && s->handles_open)
        kick(s);
}

/* The update of answers with id, or NULL. */
static const struct tkl_update *answers_update(const struct tkl_answers *answers, int64_t id)
{
    for (size_t i = 0; i < answers->updates.n; i++)
        if (answers->updates.v[i].id == id)
            return &answers->updates.v[i];
    return NULL;
}

/* Puts the notices of t's report of update u, when they are still to be
 * told (the answers or the configuration may have changed meanwhile).
 * Returns 0 (on_told is told), 1 (nothing to tell) or a negative errno. */
static int put_told(struct tkl_service *s, struct telling *t, const struct tkl_update *u)
{
    const struct tkl_team *to = NULL;
    const struct tkl_action *a = NULL;
    const struct tkl_config *c = s->rt->cfg;
    int64_t now = tkl_service_now(s);
    if (!u)
        return 1;
    if (t->joint) {
        int64_t at = 0;
        if (!joint_of(&s->answers, u, s->rt->store, c, tkl_local_day(now), &a) ||
            joint_settled(&s->answers, u, c->delivery.joint_settle_seconds, now, &at) != JOINT_TELL)
            return 1;
        return tkl_queue_joint(s->state, &c->teams, &c->schedule, a,
                               tkl_answers_find(&s->answers, a->id), u, now, on_told, t);
    }
    if (nobody_told(s, u, &to, &a) || !tkl_update_holds(u, a))
        return 1;
    return tkl_queue_not_ours(s->state, &c->teams, &c->schedule, to, a,
                              tkl_answers_find(&s->answers, a->id), u, now, on_told, t);
}

/* The meta read of a report: present, it was made before and stays told;
 * absent, its notices are put (unless a refusal this pass holds the rest
 * back, or the answers or the configuration changed meanwhile). */
static void on_reported(void *data, int r, int64_t value)
{
    struct telling *t = data;
    struct tkl_service *s = t->s;
    (void)value;
    s->reports_pending--;
    if (r == -ENOENT && (s->stopping || s->tell_waiting)) {
        told_remove(s, told_key(t->id, t->joint)); /* with the others, later */
    } else if (r == -ENOENT) {
        r = put_told(s, t, answers_update(&s->answers, t->id));
        if (r == 0) {
            s->reports_pending++;
            return; /* on_told is told, also of an undone group */
        }
        if (r > 0)
            told_remove(s, told_key(t->id, t->joint));
        else
            tell_again(s, t->id, t->joint, r);
    } else if (r < 0) {
        tell_again(s, t->id, t->joint, r);
    }
    free(t);
    if (s->oneshot && s->handles_open)
        kick(s); /* the delivery round decides whether --oneshot is done */
}

/* Asks for the meta of update id's report (joint: to the other owning
 * teams), in the state's open group; on_reported puts its notices when
 * it is absent. Returns 0, or a negative errno after tell_again. */
static int ask_told(struct tkl_service *s, int64_t id, bool joint)
{
    char key[48];
    struct telling *t = malloc(sizeof(*t));
    int r = -ENOMEM;
    if (t && (r = told_add(s, told_key(id, joint))) == 0) {
        *t = (struct telling){s, id, joint};
        told_meta(id, joint, key, sizeof(key));
        r = tkl_state_get_meta(s->state, key, on_reported, t);
    }
    if (r != 0) { /* t is on_reported's only once the read is asked */
        free(t);
        r = r < 0 ? r : -EIO;
        tell_again(s, id, joint, r);
        return r;
    }
    s->reports_pending++;
    return 0;
}

/*
 * Tells delivery.report_to of every "not ours" update of s->answers, and
 * of every resume that took one back (told_of), that still holds, and a
 * joint action's other owning teams of every update joint_of names that
 * has settled and was not superseded (joint_settled: tell_timer is armed
 * for the first to settle), that was recorded in the last
 * NOT_OURS_TELL_DAYS and that this process has not told (s->told): its
 * meta ("reported:<id>", "joint-told:<id>") is read in the state's open
 * group, and when it is absent its notices are put (on_reported), so an
 * update is told once, whichever process or node recorded it, and also
 * when one stopped or lost its database between the update's commit and
 * its report. Nothing for an update nobody can be told of (warned when it
 * is recorded), nor while a refusal waits for the
 * timer. The group is ended by the loop's next commit (at once when the
 * loop is not running).
 */
static void tell_untold(struct tkl_service *s)
{
    const struct tkl_team *to;
    const struct tkl_action *a;
    size_t asked = 0;
    if (!s->rt || !s->state || s->stopping || s->tell_waiting)
        return;
    int64_t now = tkl_service_now(s), since = now - (int64_t)NOT_OURS_TELL_DAYS * 86400;
    int64_t settle = s->rt->cfg->delivery.joint_settle_seconds, settles = INT64_MAX, at;
    int32_t today = tkl_local_day(now);
    for (size_t i = 0; i < s->answers.updates.n; i++) {
        const struct tkl_update *u = &s->answers.updates.v[i];
        if (u->at < since)
            continue;
        if (!is_told(s, told_key(u->id, false)) && told_of(&s->answers, i, s->rt->store) &&
            !nobody_told(s, u, &to, &a) && tkl_update_holds(u, a)) {
            if (ask_told(s, u->id, false) < 0)
                break; /* the rest with it, later */
            asked++;
        }
        if (!is_told(s, told_key(u->id, true)) &&
            joint_of(&s->answers, u, s->rt->store, s->rt->cfg, today, &a)) {
            enum joint_settle j = joint_settled(&s->answers, u, settle, now, &at);
            if (j == JOINT_WAIT && at < settles)
                settles = at;
            if (j != JOINT_TELL)
                continue;
            if (ask_told(s, u->id, true) < 0)
                break;
            asked++;
        }
    }
    if (asked && !s->handles_open)
        (void)tkl_state_commit(s->state);
    /* the first joint update to settle is told then (--oneshot: by the
     * next run); a refusal's pause comes first */
    if (settles != INT64_MAX && s->handles_open && !s->oneshot && !s->tell_waiting)
        (void)uv_timer_start(&s->tell_timer, on_tell_timer, (uint64_t)(settles - now) * 1000 + 500,
                             0);
}

static void on_tell_timer(uv_timer_t *t)
{
    struct tkl_service *s = t->data;
    s->tell_waiting = false;
    /* PostgreSQL: with the updates other nodes recorded meanwhile, one of
     * which may supersede an update settling now (answers_read_done) */
    if (s->node && !s->stopping) {
        s->tell_after_read = true;
        if (read_answers(s, false) == 0)
            return;
        s->tell_after_read = false;
    }
    tell_untold(s);
}

/* An update being recorded: a copy, and who is told. */
struct recording {
    struct tkl_service *s;
    struct tkl_update u;
    tkl_service_recorded_cb cb;
    void *data;
};

static void on_recorded(void *data, int r, int64_t id, bool is_new)
{
    struct recording *rec = data;
    struct tkl_service *s = rec->s;
    const struct tkl_update *u = &rec->u;
    if (r == 0 && is_new) {
        log_notice("update %" PRId64 " recorded: %s for action %s by %s", id,
                   tkl_update_kind_name(u->kind), u->action_id, u->recipient);
        rec->u.id = id;
        /* the state's version moved on: the next queue round reads them all */
        if (s->rt && rebuild_answers_held(s, u) < 0)
            log_error("out of memory building the officers' answers; the next queue round "
                      "reads them again");
        if (s->handles_open && !s->stopping)
            arm_scheduler(s); /* a snooze's end may have come forward */
        if (s->changed)
            s->changed(s);
        /* a "not ours" is told from the answers just rebuilt (put_answers),
         * by the service again until it is queued, so the update is
         * answered as recorded whatever becomes of its report */
        const struct tkl_team *to;
        const struct tkl_action *a;
        const char *why = NULL;
        if (u->kind == TKL_UPDATE_NOT_OURS && s->rt && (why = nobody_told(s, u, &to, &a)))
            log_warning("update %" PRId64 ": %s says action %s is not %s's; %s, so nobody is "
                        "told (unless that changes within %d days)",
                        id, u->recipient, u->action_id, u->team_id ? u->team_id : "their team", why,
                        NOT_OURS_TELL_DAYS);
    }
    /* undone: a read of the updates made in its group (this connection's,
     * or the same PostgreSQL transaction) may have seen it, and a later
     * update can take its id, so the version alone would not tell; the
     * next queue round reads them all again */
    if (r < 0)
        s->answers_stale = true;
    if (rec->cb)
        rec->cb(rec->data, r, is_new);
    tkl_update_free(&rec->u);
    free(rec);
}

int tkl_service_record_update(struct tkl_service *s, const struct tkl_update *u,
                              tkl_service_recorded_cb cb, void *data)
{
    int r = tkl_update_check(u);
    if (r < 0)
        return r;
    if (!s->state)
        return -EAGAIN;
    struct recording *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return -ENOMEM;
    *rec = (struct recording){.s = s, .cb = cb, .data = data};
    if ((r = tkl_update_copy(u, &rec->u)) < 0) {
        free(rec);
        return r;
    }
    /* durable before cb (the page) says it is recorded */
    if ((r = tkl_state_add_update(s->state, &rec->u, on_recorded, rec)) < 0) {
        tkl_update_free(&rec->u);
        free(rec);
    }
    return r;
}

void tkl_service_free(struct tkl_service *s)
{
    size_t kept = s->outbox ? tkl_delivery_settle(&s->deliverer) : 0;
    if (kept)
        log_error("%zu delivery outcomes could not be recorded in the outbox; those notices are "
                  "sent again at the next start",
                  kept);
    tkl_state_close(s->state); /* tells what is left, before the engine goes */
    s->state = NULL;
    free(s->node);
    s->node = NULL;
    if (s->outbox)
        tkl_outbox_on_commit(s->outbox, NULL, NULL);
    tkl_delivery_free(&s->deliverer);
    tkl_runtime_free(s->rt);
    s->rt = NULL;
    tkl_answers_free(&s->answers);
    free(s->told);
    s->told = NULL;
    s->n_told = s->cap_told = 0;
    tkl_host_services_free(&s->svc);
    tkl_outbox_close(s->outbox);
    s->outbox = NULL;
    if (s->dirlock_held) /* after the outbox: no write follows */
        close(s->dirlock_fd);
    s->dirlock_held = false;
    free(s->env.state_dir);
    s->env.state_dir = NULL;
    tkl_feed_cache_free(&s->feeds);
    tkl_page_cache_free(&s->pages);
    tkl_act_limits_free(&s->act_limits);
    tkl_outbox_view_free(&s->outbox_view);
    tkl_metrics_free(s->metrics);
    s->metrics = NULL;
}
