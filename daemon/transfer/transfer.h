/*
 * Transfers: one libcurl multi handle driven by the daemon's libuv loop,
 * shared by every notifier so that connections are reused and nothing
 * blocks the loop.
 *
 * Sockets map to uv_poll_t handles (CURLMOPT_SOCKETFUNCTION), curl's one
 * timeout to a uv_timer_t (CURLMOPT_TIMERFUNCTION). Finished transfers are
 * read after every curl_multi_socket_action(), timeouts included, so a
 * transfer that ends by timing out completes too.
 */
#ifndef TKL_TRANSFER_H
#define TKL_TRANSFER_H

#include <uv.h>

struct tkl_transfers;

/* Runs once per transfer that was added and not cancelled, on the loop
 * thread, after the easy handle was removed from the multi handle. */
typedef void (*tkl_transfer_done_fn)(void *data, int curl_code);

/* Returns 0 or a negative errno. */
int tkl_transfers_new(uv_loop_t *loop, struct tkl_transfers **ret);

/*
 * Starts a transfer on an easy handle the caller configured and owns.
 * Returns 0 (done() will run exactly once, never from inside this call),
 * or a negative errno (done() never runs): -ESHUTDOWN once the transfers
 * are closing (or there are none), -EINVAL for a missing argument.
 */
int tkl_transfers_add(struct tkl_transfers *t, void *easy, tkl_transfer_done_fn done, void *data);

/* Stops a transfer that has not completed; its done() never runs. */
void tkl_transfers_cancel(struct tkl_transfers *t, void *easy);

/* Number of transfers running. */
unsigned tkl_transfers_running(const struct tkl_transfers *t);

/*
 * Cancels what runs, cleans up the multi handle and closes every handle;
 * the memory is freed by the last close callback, so the caller runs the
 * loop afterwards. Accepts NULL.
 */
void tkl_transfers_close(struct tkl_transfers *t);

#endif
