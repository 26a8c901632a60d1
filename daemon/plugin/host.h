/*
 * The services the host lends each plugin instance (struct tkl_host): the
 * loop, logging, the clock, transfers on the shared curl multi handle, and
 * secret reading. ticklerd and `tickler send-test` share them.
 */
#ifndef TKL_HOST_H
#define TKL_HOST_H

#include <stdint.h>

#include <uv.h>

#include "../core/diag.h"
#include "../transfer/transfer.h"
#include "loader.h"

struct tkl_closing;

struct tkl_host_services {
    uv_loop_t *loop;
    struct tkl_transfers *transfers; /* NULL: transfers are refused */
    int64_t clock_offset;            /* seconds added to time(NULL) */
    void (*items_changed)(void *data, const char *instance);
    void *data;
    unsigned n_errors;    /* lines plugins logged at TKL_LOG_ERR */
    char last_error[512]; /* the last of them, cut to fit */
    /* retirement (tkl_host_retire) */
    struct tkl_closing *closing;         /* handles closing through host.close */
    struct tkl_plugin_instance *retired; /* stopped, awaiting destroy */
    uv_timer_t reaper;
    bool reaper_active;
};

/* Starts the retirement timer on svc->loop, and takes svc->loop->data
 * (host.close finds svc through it). Returns 0 or a negative errno. */
int tkl_host_services_start(struct tkl_host_services *svc);

/* Tells p the transfers it started that the transfer thread finished and
 * the loop has not told yet (tkl_transfers_flush), before p stops: its
 * stop() cancels what it still has in flight, and a delivery the server
 * took must be told as done, not cancelled and sent again. */
void tkl_host_flush_transfers(struct tkl_plugin_instance *p);

/* Closes the retirement timer (the loop then runs its close callback). */
void tkl_host_services_stop(struct tkl_host_services *svc);

/*
 * Takes an instance out of service: stops it if it started, then destroys
 * it once every handle it closed through host.close has run its close
 * callback (a plugin of ABI 1: after the loop's next turn), or at
 * tkl_host_services_free at the latest.
 */
void tkl_host_retire(struct tkl_host_services *svc, struct tkl_plugin_instance *p);

/* Destroys every retired instance (after the loop has ended). */
void tkl_host_services_free(struct tkl_host_services *svc);

/* Points p->host at svc (which must outlive the instance) and the given
 * directories (which must outlive it too). */
void tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                   const char *config_dir, const char *state_dir);

#endif
