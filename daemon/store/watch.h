/*
 * Watching the store: each file is watched through its directory, so an
 * editor's save-by-rename is seen; bursts of events are debounced into one
 * callback.
 */
#ifndef TKL_WATCH_H
#define TKL_WATCH_H

#include <uv.h>

#include "store.h"

struct tkl_watch;

/*
 * Starts watching every path in opts but its URLs. On success *ret is set; on failure
 * (a negative errno, libuv's) nothing is left open and *ret is untouched.
 */
int tkl_watch_start(uv_loop_t *loop, const struct tkl_store_opts *opts, int debounce_ms,
                    void (*changed)(void *data), void *data, struct tkl_watch **ret);

/* Calls the callback again after delay_ms, unless a change of a file
 * restarts the quiet period first (then it runs once, after that). */
int tkl_watch_again(struct tkl_watch *w, int delay_ms);

/* Closes every handle. The memory is released by the last close callback,
 * so the loop must run afterwards. Accepts NULL. */
void tkl_watch_close(struct tkl_watch *w);

#endif
