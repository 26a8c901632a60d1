/*
 * Transfers: a libcurl multi handle (ticklerd makes one for each notifier
 * instance and one for the fetches), so that connections are reused,
 * driven on a thread of its own so that libcurl's work and its sockets'
 * system calls run beside the loop's (the outbox, the web face) instead of
 * in turn with them, and so that libcurl blocking that thread (SMTP waits
 * for the answer to the end of a message) holds up no other multi handle.
 *
 * The transfer thread runs a libuv loop of its own: sockets map to
 * uv_poll_t handles (CURLMOPT_SOCKETFUNCTION), curl's one timeout to a
 * uv_timer_t (CURLMOPT_TIMERFUNCTION); finished transfers are read after
 * every curl_multi_socket_action(), timeouts included. The caller's loop
 * thread hands transfers over and takes completions back through two
 * uv_async_t and a locked queue each way; done() always runs on the
 * caller's loop. While nothing runs, neither thread wakes. Every function
 * here is called from the caller's loop thread only.
 */
#ifndef TKL_TRANSFER_H
#define TKL_TRANSFER_H

#include <uv.h>

struct tkl_transfers;

/* Runs once per transfer that was added and not cancelled, on the loop
 * thread, after the easy handle was removed from the multi handle. */
typedef void (*tkl_transfer_done_fn)(void *data, int curl_code);

/* Returns 0 or a negative errno. The thread is named "tkl-transfer". */
int tkl_transfers_new(uv_loop_t *loop, struct tkl_transfers **ret);

/* The same, the thread named name (tkl_thread_start: cut to 15 bytes). */
int tkl_transfers_new_named(uv_loop_t *loop, const char *name, struct tkl_transfers **ret);

/*
 * Starts a transfer on an easy handle the caller configured and owns (its
 * CURLOPT_PRIVATE is the host's; CURLOPT_NOSIGNAL is set). Returns 0
 * (done() will run exactly once, never from inside this call, with
 * CURLE_FAILED_INIT if libcurl refused to start it),
 * or a negative errno (done() never runs): -ESHUTDOWN once the transfers
 * are closing (or there are none), -EINVAL for a missing argument.
 */
int tkl_transfers_add(struct tkl_transfers *t, void *easy, tkl_transfer_done_fn done, void *data);

/* tkl_transfers_add for an owner (a plugin instance's host), whose
 * finished transfers tkl_transfers_flush can tell ahead of the loop. */
int tkl_transfers_add_owned(struct tkl_transfers *t, const void *owner, void *easy,
                            tkl_transfer_done_fn done, void *data);

/*
 * Tells now, on the caller's stack, each transfer of owner (every one, for
 * NULL) that has finished on the transfer thread and was not yet told.
 */
void tkl_transfers_flush(struct tkl_transfers *t, const void *owner);

/*
 * Takes every transfer of owner out of the transfer thread's hands, then
 * tells those that had finished (tkl_transfers_flush): a transfer still
 * queued or running is removed from the multi handle and stays the
 * owner's until it cancels it (its done() never runs); one that finished
 * first is told, done() running once. Called before a notifier's stop(),
 * which cancels what it still has: from this call on no transfer of owner
 * can finish, so no outcome a server already gave (a POST it took) is
 * cancelled and sent again. The owner must start no transfer afterwards
 * (the host refuses those of a stopped instance).
 */
void tkl_transfers_settle(struct tkl_transfers *t, const void *owner);

/*
 * Stops a transfer whose done() has not run; its done() never runs. Waits
 * for the transfer thread to let go of easy, so the caller may free it on
 * return. A transfer that finished on the transfer thread but was not yet
 * told is dropped like a running one, as the caller asked not to be told:
 * for a stopping notifier that cannot happen, as tkl_transfers_settle
 * told every finished transfer of it and left none running to finish.
 */
void tkl_transfers_cancel(struct tkl_transfers *t, void *easy);

/* Number of transfers added whose done() has not run nor been cancelled. */
unsigned tkl_transfers_running(const struct tkl_transfers *t);

/*
 * Cancels what runs, stops the transfer thread (which cleans up the multi
 * handle and closes its loop's handles) and waits for it; the memory is
 * freed by the close callback of the handle on the caller's loop, so the
 * caller runs the loop afterwards. Accepts NULL.
 */
void tkl_transfers_close(struct tkl_transfers *t);

#endif
