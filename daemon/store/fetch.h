/*
 * Fetching the https:// entries of store.files: into the daemon's cache
 * on the loop (through the shared transfers, every
 * store.fetch_interval_seconds), or at once (blocking) for `tickler` and
 * for a first start with no cached copy.
 *
 * Each fetch is conditional (If-None-Match and If-Modified-Since from the
 * last good answer; after a restart, If-Modified-Since from the cached
 * copy's time), TLS verified (store.fetch_ca_file for a private CA),
 * redirects followed to https only, at most store.fetch_max_kib, with a
 * bearer token read from store.fetch_token_file (again whenever the file
 * changes). A 200 whose body differs from the cached copy is read as a
 * plan first: only a plan the store's readers take replaces the copy, so
 * on any failure the last good copy stays. What a failure says names the
 * URL as scheme://host/path only, never its query or the token.
 */
#ifndef TKL_FETCH_H
#define TKL_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "../core/diag.h"
#include "../team/team.h"
#include "../transfer/transfer.h"
#include "store.h"

enum tkl_fetch_outcome {
    TKL_FETCH_CHANGED,   /* a new plan, saved as the cached copy */
    TKL_FETCH_UNCHANGED, /* 304, or the same body */
    TKL_FETCH_FAILED,    /* the cached copy stays */
};

struct tkl_fetch_result {
    enum tkl_fetch_outcome outcome;
    char why[256]; /* FAILED: what went wrong, without secrets */
};

/* How long the daemon's blocking fetches (of the plans with no copy yet, at
 * a start or a reload, on its loop) may take in all: well under systemd's
 * watchdog (60 s) and start timeout (90 s). */
#define TKL_FETCH_BLOCKING_BUDGET_MS 30000L

/*
 * Fetches every URL of opts now, blocking, into dir: all of them, or
 * (only_missing) those with no cached copy in dir yet, all within
 * budget_ms (0: each within the transfer's own timeouts). A failure is a
 * warning in diags naming the URL's place, which says when the store's
 * load reads the copy in fallback_dir (may be NULL) instead; without one,
 * that load reports there is none. Returns 0 or -ENOMEM.
 */
int tkl_fetch_now(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                  const char *dir, bool only_missing, const char *fallback_dir, long budget_ms,
                  struct tkl_diags *diags);

/* How many entries of opts are https:// URLs: plans to fetch. */
size_t tkl_fetch_count(const struct tkl_store_opts *opts);

/*
 * Where the URLs of opts are read from: the daemon's copies under
 * state_dir/plans (opts->cache_dir), and, when fresh_dir is set (tickler's
 * own private directory), copies fetched there now, every one, blocking;
 * else, with fetch_missing (the daemon, its check), those with no copy yet
 * are fetched into the cache within TKL_FETCH_BLOCKING_BUDGET_MS. Does nothing more when opts has
 * no URL. Returns 0 or -ENOMEM; failed fetches are warnings in diags.
 */
int tkl_fetch_prepare(struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                      const char *state_dir, const char *fresh_dir, bool fetch_missing,
                      struct tkl_diags *diags);

struct tkl_fetcher;

/* What the fetcher tells its owner, on the loop thread, after each fetch
 * of the URL shown as place. state_changed: the first result, a failure
 * that differs from the one before, or the first success after one; was:
 * then, what the failure before said (else NULL). */
struct tkl_fetcher_host {
    void (*fetched)(void *data, const char *place, const struct tkl_fetch_result *res,
                    bool state_changed, const char *was);
    void *data;
};

/*
 * Polls every URL of opts into opts->cache_dir: the first time at once,
 * then every opts->fetch.interval_s seconds. opts and teams are borrowed
 * until tkl_fetcher_close. *ret is NULL when opts has no URL. Returns 0 or
 * a negative errno (nothing left open).
 */
int tkl_fetcher_start(uv_loop_t *loop, struct tkl_transfers *transfers,
                      const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                      const struct tkl_fetcher_host *host, struct tkl_fetcher **ret);

/*
 * Gives each URL to polls that from polled too what from knew of it: the
 * validators of its last good answer and the failure it last reported, so
 * that a configuration reload neither reports a lasting failure again nor
 * fetches the whole plan. Call it before closing from. Either may be NULL.
 */
void tkl_fetcher_carry(const struct tkl_fetcher *from, struct tkl_fetcher *to);

/* Cancels what is in flight and closes the timer; the memory is freed by
 * its close callback, so the loop must run afterwards. Accepts NULL. */
void tkl_fetcher_close(struct tkl_fetcher *f);

#endif
