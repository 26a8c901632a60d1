/*
 * Watching the store: each file is watched through its directory, so an
 * editor's save-by-rename is seen; bursts of events are debounced into one
 * callback.
 */
#ifndef TKL_WATCH_H
#define TKL_WATCH_H

#include <uv.h>

#include "store.h"

struct tkl_watch_dir;

struct tkl_watch {
    uv_loop_t *loop;
    struct tkl_watch_dir **dirs;
    size_t n_dirs;
    uv_timer_t debounce;
    bool timer_open;
    int debounce_ms;
    void (*changed)(void *data);
    void *data;
};

/* Starts watching every path in opts. Returns 0 or a negative errno
 * (libuv's), having watched what it could; tkl_watch_close() is due
 * either way. */
int tkl_watch_start(struct tkl_watch *w, uv_loop_t *loop, const struct tkl_store_opts *opts,
                    int debounce_ms, void (*changed)(void *data), void *data);

/* Closes every handle; memory is released in the close callbacks, so the
 * loop must run afterwards. w itself must stay valid until it has. */
void tkl_watch_close(struct tkl_watch *w);

#endif
