/*
 * The running service: the runtime in force, the outbox, the delivery
 * engine and the loop's handles that drive them — the scheduler's timer,
 * the delivery timer, the day timer (the window of observances moves on),
 * the update requests' timer, the store watch and the wake-up file
 * `tickler retry` touches.
 *
 * Timers are armed from the wall clock (which --now offsets) after
 * updating the loop's time, and a timer that fires before its instant
 * (the clock was set back) is armed again instead of running a round.
 */
#ifndef TKL_SERVICE_H
#define TKL_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "../core/wallclock.h"
#include "../delivery/delivery.h"
#include "../http/server.h"
#include "../metrics/metrics.h"
#include "../outbox/outbox.h"
#include "../plugin/host.h"
#include "../runtime/runtime.h"
#include "../store/fetch.h"
#include "../store/watch.h"
#include "../update/answer.h"

struct tkl_feed_cache;  /* web/feeds.c: what the calendar feeds served */
struct tkl_page_cache;  /* web/web.c: the status pages last made */
struct tkl_act_limits;  /* web/act.c: the rate limits of the links' page */
struct tkl_outbox_view; /* web/operator.c: the shared outbox as last read */

/* service.c: a run of the update requests through a state on PostgreSQL */
struct tkl_requests_flight;
/* delivery/queue.h: a queue round in flight */
struct tkl_queue_round;

struct tkl_service {
    uv_loop_t *loop;
    struct tkl_runtime_env env;
    struct tkl_host_services svc; /* what plugins are lent; owns the transfers */
    struct tkl_runtime *rt;       /* in force */
    struct tkl_outbox *outbox;    /* the web pages, the queue and the updates read and write it */
    struct tkl_state *state;      /* the outbox as the delivery path sees it (state/state.h) */
    char *node;                   /* state.node with the PostgreSQL backend; NULL on SQLite */
    struct tkl_deliverer deliverer;
    uv_timer_t sched_timer, deliver_timer, day_timer;
    /* the timers armed for an instant (arm_at), put right by the watch on
     * the wall clock when the machine slept or the clock was set */
    struct tkl_wallclock wallclock;
    bool wallclock_open;
    struct tkl_service_timed {
        uv_timer_t *timer;
        uv_timer_cb cb;
        int64_t at;   /* seconds, on the service's clock */
        uint64_t due; /* the loop time it was armed for: the same arming while equal */
    } timed[8];
    size_t n_timed;
    uv_timer_t drain_timer;  /* a stop waits for the deliveries in flight */
    uv_timer_t sweep_timer;  /* armed while failures wait to be reported */
    uint64_t drain_until;    /* draining: uv_now() when the wait ends */
    bool draining;           /* stopping: the deliveries in flight finish first */
    bool stop_round_pending; /* stopping: a queue round was not in at the stop */
    int64_t stop_round_at;   /* its instant */
    uv_prepare_t commit;     /* commits the state's open group before the loop waits */
    unsigned long stop_before, stop_after; /* TICKLER_TEST_STOP_AT_COMMIT; 0: none */
    unsigned long stop_base;               /* group commits before the loop's first */
    uv_fs_event_t wakeup;                  /* the state directory, for tickler retry */
    bool handles_open, wakeup_active;
    struct tkl_watch *watch;     /* NULL when not watching */
    struct tkl_fetcher *fetcher; /* the plans at URLs; NULL when none */
    int64_t clock_offset;        /* seconds added to the wall clock (--now) */
    int queue_backoff;           /* seconds before a failed queue round is tried again */
    unsigned state_failures;     /* failed commits and rounds in a row (logged 1st, 2nd, 4th...) */
    bool round_pending;          /* a queue round's puts wait for their completions */
    /* a round put a part at a time: the one whose next part waits for
     * round_timer (NULL: none), so deliveries claim what is durable first */
    struct tkl_queue_round *round_part;
    uv_timer_t round_timer;
    bool reload_pending;    /* a reload waits for that round (it holds the runtime) */
    int64_t round_at;       /* its instant (last_run once it is durable) */
    size_t reports_pending; /* "not ours" reports' reads and puts waiting for completions */
    /* --oneshot: a failure asked for a sweep, made once the run's work is
     * done (oneshot_check), so that its failures make one report; and how
     * many sweeps the run made (a refused one is tried a few times) */
    bool oneshot_sweep;
    int oneshot_sweeps;
    /* the "not ours" updates this process told delivery.report_to, found
     * told, or is telling (their ids, ascending): any other that holds is
     * told when the updates are read, at a queue round, and on tell_timer,
     * armed after a refusal (tell_waiting until it fires; tell_backoff
     * seconds, doubling; tell_failures in a row), or for the first joint
     * update to settle (delivery.joint_settle_seconds; on PostgreSQL the
     * shared updates are read first, tell_after_read) */
    int64_t *told;
    size_t n_told, cap_told;
    uv_timer_t tell_timer;
    bool tell_waiting;
    bool tell_after_read;
    int tell_backoff;
    unsigned tell_failures;
    int log_level_override; /* --log-level given: the configuration's is ignored */
    bool oneshot;           /* stop once everything due is handled */
    bool recover_pending;   /* the outbox's crash recovery has not run yet */
    /* PostgreSQL: last_run is the shared meta's, read once the state is
     * ready; until then no schedule is built and no queue round runs.
     * last_run_known: the value read or written since (INT64_MIN: none) */
    bool last_run_pending, last_run_asking;
    /* started outside the sending hours with reminders missed while
     * stopped (tkl_catch_up_now): no queue round or update request runs
     * until hours_timer, at the next send time, builds the schedule again
     * from hours_from (PostgreSQL: reads the shared last_run again first);
     * a stop meanwhile writes last_run only where none is stored */
    bool hours_pending;
    uv_timer_t hours_timer;
    int64_t hours_from;         /* the catch-up point of the start it waits for (a
                                 * first start's: catch_up_days before it), or INT64_MAX */
    unsigned last_run_failures; /* reads of it failed in a row */
    int64_t last_run_known;
    /* uv_hrtime() when tkl_service_load began (monotonic: --now and the
     * wall clock's steps do not move it): a first start (no last run)
     * catches up catch_up_days back from then, so that a reminder that
     * falls due while the start loads the plan (a link fetched, the state
     * opened) is not taken for one before the start */
    uint64_t started_ns;
    bool recovering;           /* it is queued, its completion not told */
    int64_t recovered;         /* notices it made due again */
    bool store_change_pending; /* read once the refused queue round is in */
    int dirlock_fd;            /* holds the state directory's lock, when dirlock_held */
    bool dirlock_held;
    unsigned unsettled_reads; /* reads in a row of a plan that looked mid-save */
    bool unsettled_in_force;  /* the store in force is one such, put in force by the
                               * start or a configuration reload */
    bool store_watch_fired;   /* a store file changed: the next read may be held */
    /* what was last said of where the plan in force is held (cold memory
     * or private), once said */
    int keep_error; /* the last copy of the plan's files failed so (keep_plans), or 0 */
    bool store_memory_told;
    bool store_cold;
    int refusals;                 /* queue rounds refused (--oneshot gives up) */
    int64_t start_retry_at;       /* when plugins that failed to start are tried again */
    int start_backoff;            /* seconds */
    int start_failures;           /* tries since the last success */
    bool failed;                  /* --oneshot could not do everything: exit non-zero */
    struct tkl_http_server *http; /* the web face, or NULL */
    /* ticklerd's: the pages (NULL: no web face), and the listening sockets
     * systemd passed (socket activation), which replace http.listen */
    int (*http_page)(void *service, const struct tkl_http_request *req,
                     struct tkl_http_response *resp);
    const int *listen_fds;
    size_t n_listen_fds;
    bool stopping;
    /* what /metrics counts; from tkl_service_load */
    struct tkl_metrics *metrics;
    /* ticklerd's: the counts changed (STATUS=); --oneshot has finished */
    void (*changed)(struct tkl_service *s);
    void (*finished)(struct tkl_service *s);
    /* ticklerd's (may be NULL): the stop's drain is over and the service's
     * handles are closing; the caller closes its own (signals, watchdog) */
    void (*stopped)(struct tkl_service *s);
    void *data;
    struct tkl_feed_cache *feeds; /* NULL until a calendar feed is served */
    uint64_t sources_generation;  /* moves on when the sources' items or the runtime change */
    uint64_t store_generation;    /* moves on whenever another store is put in force */
    struct tkl_page_cache *pages; /* NULL until a status page is served */
    /* what officers' updates say, against the store in force: built at
     * load, again with every store put in force and every update recorded */
    struct tkl_answers answers;
    int64_t updates_version; /* the state's updates version when answers was read */
    bool answers_stale;      /* the updates could not be read: no queue round runs */
    bool replanned;          /* the schedule was built or reloaded since the ends of
                              * snoozes were last followed (follow_snoozes) */
    /* PostgreSQL: the updates are read through the state, asynchronously:
     * a read is in flight (answers_reading), another asked meanwhile
     * (answers_again: a check of the version, or answers_again_all: all),
     * and a queue round waits for the check it asked (round_waiting, with
     * round_pending) */
    bool answers_reading, answers_again, answers_again_all, round_waiting;
    /* the schedule was built from this catch-up point before the answers
     * were read: their first reading follows snoozes from it (else INT64_MAX) */
    int64_t snoozes_from;
    /* PostgreSQL: the state was set up (its schema made); until then what
     * is queued on it waits for the database, however long it is away */
    bool state_ready;
    /* update requests (report/request_updates.h): one timer armed for the next
     * phase; phases before requests_from are not caught up; a refused run
     * is tried again after request_backoff seconds, and requests_pending_at
     * (else INT64_MAX), its phase's time, stays caught up from: across a
     * reload, and across a restart through the outbox's meta
     * "requests_pending" (requests_pending_kept: that meta holds a time) */
    uv_timer_t request_timer;
    int64_t requests_from;
    int request_backoff;
    int64_t requests_pending_at;
    bool requests_pending_kept;
    /* PostgreSQL: a run goes through the state asynchronously: in flight
     * (requests_run, until its last completion), asked again meanwhile
     * (requests_again: it follows), or waiting for the shared updates'
     * version to be checked (requests_waiting) */
    struct tkl_requests_flight *requests_run;
    bool requests_again, requests_waiting;
    /* web/act.c's rate limits; NULL until a link's page is asked */
    struct tkl_act_limits *act_limits;
    /* PostgreSQL: the shared outbox as the outbox page and /metrics show
     * it; NULL until asked */
    struct tkl_outbox_view *outbox_view;
    bool oneshot_counting; /* --oneshot asks the state what waits, then stops */
};

/* The wall clock, with --now's offset. */
int64_t tkl_service_now(const struct tkl_service *s);

/* The next reminder's send time as the log and STATUS= say it, into buf:
 * "2027-03-01T09:00:00+00:00", with " (due now)" when it has come (a
 * reminder missed while stopped, sent at once), or "never". Returns buf. */
const char *tkl_service_next_text(const struct tkl_service *s, char buf[64]);

/* While what a start missed waits for the sending hours (hours_pending),
 * the send time it waits for; else INT64_MAX. */
int64_t tkl_service_catch_up_at(const struct tkl_service *s);

/*
 * Loads the configuration at s->env.config_path into a runtime, opens the
 * outbox in the state directory and builds the schedule, catching up on
 * what was missed since the last run. Problems are logged. Returns 0 or a
 * negative errno (then the daemon cannot start).
 */
int tkl_service_load(struct tkl_service *s);

/* Starts the handles, the plugins, the timers and the first rounds on
 * loop. Returns 0 or a negative errno (then call tkl_service_stop). */
int tkl_service_start(struct tkl_service *s, uv_loop_t *loop);

/* SIGHUP: loads the configuration again and, when it is good, puts it in
 * force; otherwise the previous one stays, and the problems are logged. */
void tkl_service_reload(struct tkl_service *s);

/*
 * Begins shutdown: no delivery is handed out from now on; the deliveries
 * in flight (those of instances a reload retired too) finish and their
 * outcomes are recorded, for at most delivery.drain_seconds, from the
 * loop; then the notifiers stop (what is still in flight is cut short and
 * stays due in the outbox), the state is committed and drained and every
 * handle is closed, after which the loop ends. Without deliveries in
 * flight (or with drain_seconds 0) all of it happens inside this call.
 * The caller keeps running the loop until it ends.
 */
void tkl_service_stop(struct tkl_service *s);

/* Ends a stop's drain now (a second SIGTERM): what is still in flight is
 * cut short and stays due in the outbox. Nothing when no drain waits. */
void tkl_service_stop_now(struct tkl_service *s);

/* r: 0 recorded (is_new false: the same update was recorded already,
 * nothing changed), or a negative errno: -EBUSY or -EAGAIN (the database
 * is busy or away: try again), or another. */
typedef void (*tkl_service_recorded_cb)(void *data, int r, bool is_new);

/*
 * Records an officer's update (the POST of a link's page) through the
 * state (tkl_state_add_update, committed before the loop waits); once it
 * is durable the answers are built again with it and the action's
 * reminders follow them (a snooze's end is scheduled and the timer armed
 * for it); a "not ours" is told to delivery.report_to, once (when that
 * notice cannot be queued, the service tries again by itself: cb is told
 * the update is recorded all the same). Then cb (NULL: nobody)
 * is told, exactly once, later, on the loop thread. u is copied. Returns
 * 0, or a negative errno and cb is never told: -EINVAL or -EMSGSIZE
 * (tkl_update_check refused it), -EAGAIN (the service is not started),
 * or the state's.
 */
int tkl_service_record_update(struct tkl_service *s, const struct tkl_update *u,
                              tkl_service_recorded_cb cb, void *data);

/*
 * When the other owning teams of u's action hear of update u (one of s's
 * answers) as a joint action's update, by the updates s holds now: 0 and
 * *at, the instant u has stood for delivery.joint_settle_seconds (past or
 * to come; the pass that tells it runs then, or at the next start after
 * it, and tells a snooze only while it is not over: one that settles in
 * the last seconds of its last day may not be told), or -ENOENT when
 * they are not told: u is of a kind not told, or its action has one team,
 * or the plan no longer says what u was recorded against, or u's snooze
 * is over by then, or its teller's next update of its pair came before
 * then (it superseded u).
 */
int tkl_service_joint_when(const struct tkl_service *s, const struct tkl_update *u, int64_t *at);

/* Frees everything (after the loop has ended). */
void tkl_service_free(struct tkl_service *s);

/* Frees what the calendar feeds keep (web/feeds.c) and sets *c to NULL.
 * Accepts a NULL *c. */
void tkl_feed_cache_free(struct tkl_feed_cache **c);

/* Frees the status pages kept (web/web.c) and sets *c to NULL. Accepts a
 * NULL *c. */
void tkl_page_cache_free(struct tkl_page_cache **c);

/* Frees the links' page's rate limits (web/act.c) and sets *l to NULL.
 * Accepts a NULL *l. */
void tkl_act_limits_free(struct tkl_act_limits **l);

/* PostgreSQL: queues a read of the shared outbox for the outbox page and
 * /metrics (web/operator.c), unless one is in flight; nothing on SQLite. */
void tkl_outbox_view_refresh(struct tkl_service *s, int64_t now);

/* Frees the shared outbox as last read and sets *c to NULL. Accepts a
 * NULL *c. */
void tkl_outbox_view_free(struct tkl_outbox_view **c);

#endif
