/*
 * The services the host lends each plugin instance (struct tkl_host): the
 * loop, logging, the clock, transfers (a curl multi handle and thread of
 * each instance's own, lent only when svc->transfers is set), and
 * secret reading. ticklerd and `tickler send-test` share them.
 */
#ifndef TKL_HOST_H
#define TKL_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "../core/diag.h"
#include "../transfer/transfer.h"
#include "loader.h"

struct tkl_closing;

struct tkl_diags;

struct tkl_host_services {
    uv_loop_t *loop;
    /* NULL: transfers are refused; else each instance gets transfers of
     * its own (host.c), and these are the fetches' */
    struct tkl_transfers *transfers;
    bool keep;            /* the daemon: host.keep_dir is the state directory (else NULL) */
    int64_t clock_offset; /* seconds added to time(NULL) */
    void (*items_changed)(void *data, const char *instance);
    void *data;
    unsigned n_errors;    /* lines plugins logged at TKL_LOG_ERR */
    char last_error[512]; /* the last of them, cut to fit */
    /* the lines an instance logs while it reads its settings, in order,
     * held (tkl_host_init_begin, tkl_host_init_end) */
    bool init_holding;
    struct tkl_held_line {
        int level;
        char *msg;
    } * init_lines;
    size_t n_init_lines;
    /* retirement (tkl_host_retire) */
    struct tkl_closing *closing;         /* handles closing through host.close */
    struct tkl_plugin_instance *retired; /* stopped, awaiting destroy */
    uv_timer_t reaper;
    bool reaper_active;
    /* draining: the deliveries in flight of an instance retired (its
     * owner's count; NULL: none are), and how long they may take */
    unsigned (*in_flight)(void *data, const struct tkl_plugin_instance *p);
    uint64_t drain_ms;                    /* 0: an instance retired stops at once */
    struct tkl_plugin_instance *draining; /* retired, deliveries still in flight */
    uv_timer_t drain_timer;
};

/* From here until tkl_host_init_end, the lines an instance logs are held,
 * in order (one that cannot be, out of memory, is logged). */
void tkl_host_init_begin(struct tkl_host_services *svc);

/*
 * Ends the hold of tkl_host_init_begin, for the instance named instance
 * whose init came to r: when r < 0 each error held (TKL_LOG_ERR) is an
 * error in diags at file:line, "what: line" (the reason the instance
 * refused its settings, said once, not also logged; none held: "what:
 * strerror(-r)"), and the other lines are logged now, so they come before
 * those errors, which the caller prints with diags; when it started, each
 * line is logged as it would have been, in the order logged, so that a
 * line that follows from an error (a calendar's "refused") comes after it.
 */
void tkl_host_init_end(struct tkl_host_services *svc, const char *instance, int r,
                       struct tkl_diags *diags, const char *file, unsigned line, const char *what);

/* Starts the retirement and drain timers on svc->loop, and takes svc->loop->data
 * (host.close finds svc through it). Returns 0 or a negative errno. */
int tkl_host_services_start(struct tkl_host_services *svc);

/* Tells p the transfers it started that the transfer thread finished and
 * the loop has not told yet (tkl_transfers_flush). */
void tkl_host_flush_transfers(struct tkl_plugin_instance *p);

/*
 * Stops p if it started and is not stopped: marks it stopped (from then on
 * its transfer_start() is refused and the deliveries it ends are known to
 * be cut short), takes its transfers from the transfer thread telling
 * those that finished (tkl_transfers_settle), then calls its stop(), which
 * cancels what is left. So a transfer that ended is told once as it
 * ended, never cancelled.
 */
void tkl_host_stop_instance(struct tkl_plugin_instance *p);

/* Closes the retirement and drain timers (the loop then runs their close
 * callbacks); call tkl_host_drain_end first. */
void tkl_host_services_stop(struct tkl_host_services *svc);

/*
 * Takes an instance out of service. One that started and still has
 * deliveries in flight (svc->in_flight) drains first: it gets no new
 * delivery (its owner hands them to others) while those in flight end as
 * they end, for at most svc->drain_ms; then, or once none is left
 * (tkl_host_drain_check), it is stopped (tkl_host_stop_instance), stop()
 * cutting short what is left. A stopped instance is destroyed once every
 * handle it closed through host.close has run its close callback (a
 * plugin of ABI 1: after the loop's next turn), or at
 * tkl_host_services_free at the latest. Never blocks the loop.
 */
void tkl_host_retire(struct tkl_host_services *svc, struct tkl_plugin_instance *p);

/* A delivery ended: the draining instances with none left in flight are
 * stopped from a later loop turn (never inside this call). */
void tkl_host_drain_check(struct tkl_host_services *svc);

/* Stops every draining instance now, whatever it has in flight (the end
 * of a stop's drain). */
void tkl_host_drain_end(struct tkl_host_services *svc);

/* Whether an instance retired still drains. */
bool tkl_host_draining(const struct tkl_host_services *svc);

/* Destroys every retired instance (after the loop has ended). */
void tkl_host_services_free(struct tkl_host_services *svc);

/* Points p->host at svc (which must outlive the instance), a copy of
 * config_dir that p keeps (a retired instance drains after its
 * configuration is freed) and state_dir (which must outlive it). Returns
 * 0 or -ENOMEM. */
int tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                  const char *config_dir, const char *state_dir);

#endif
