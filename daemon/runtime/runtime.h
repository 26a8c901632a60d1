/*
 * The runtime: everything one configuration puts in force — the
 * configuration, its plugin instances, the store with the sources'
 * observances, and the schedule — built in one place (tkl_runtime_load)
 * and freed in one place (tkl_runtime_free). A reload builds a new runtime
 * beside the old one, carries the running plugin instances over, swaps and
 * frees the old one: one clean-up path, whatever step failed.
 *
 * The same load is the one check of a configuration, used by `tickler
 * check` and `ticklerd --check-config`: it refuses what the daemon would
 * refuse, with every problem as file:line.
 */
#ifndef TKL_RUNTIME_H
#define TKL_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "../config/config.h"
#include "../core/diag.h"
#include "../plugin/host.h"
#include "../plugin/set.h"
#include "../schedule/scheduler.h"
#include "../source/source.h"
#include "../store/store.h"
#include "../token/token.h"

/* What stays the same across reloads. */
struct tkl_runtime_env {
    const char *config_path;
    const char *plugin_dir; /* NULL: the configuration's */
    const char *store_file; /* NULL: the configuration's store.files */
    char *state_dir;        /* NULL until the first load sets it from the configuration */
    /* tickler's: plans at URLs fetched into fresh_dir now, and never into
     * the daemon's copies (fetch.h) */
    bool own_fetch;
    const char *fresh_dir;
    bool read_once; /* tickler's: the store is never reloaded (store opts once) */
    /* the daemon's: the store kept in cold memory in state_dir (store opts
     * cold_dir) */
    bool cold_store;
    /* ticklerd's (its start, reloads and --check-config): a plan file that
     * cannot be read is read from its copy as last read good in state_dir
     * (store opts keep_dir); the daemon writes the copies */
    bool keep_plans;
    struct tkl_host_services *svc;
    const char *now_arg;  /* --now, read in the first configuration's zone, then NULL */
    int64_t clock_offset; /* seconds added to the wall clock, from --now */
};

/* The wall clock with env's offset. */
int64_t tkl_runtime_now(const struct tkl_runtime_env *env);

struct tkl_runtime {
    struct tkl_config *cfg;
    struct tkl_plugin_set plugins; /* opened; started by the daemon */
    struct tkl_sources sources;    /* the source instances of plugins */
    struct tkl_store *store;       /* the plan, and observances around today */
    struct tkl_scheduler sched;    /* empty until tkl_runtime_schedule */
    struct tkl_token_ring links;   /* the links group's keys; empty: no links */
};

/*
 * Reads the configuration at env->config_path, sets the process time zone
 * to its daemon.timezone once it is accepted (and reads env->now_arg in
 * it), opens and checks its plugins (every team recipient asked of its
 * notifier), reads the store and the observances of the days around
 * today. Problems go to diags. Returns 0 with *ret set, or a negative
 * errno; then nothing is left open and the time zone is as it was.
 */
int tkl_runtime_load(struct tkl_runtime_env *env, struct tkl_runtime **ret,
                     struct tkl_diags *diags);

/* Reads rt's store files and the observances again into *ret (rt is not
 * changed; the rows unchanged since rt->store are not read again:
 * tkl_store_reload), with may_hold as tkl_store_opts has it. Returns 0 or
 * a negative errno; problems in diags. */
int tkl_runtime_read_store(const struct tkl_runtime *rt, int64_t now, bool may_hold,
                           struct tkl_store **ret, struct tkl_diags *diags);

/* Builds the schedule (see tkl_scheduler_build). Returns 0 or -ENOMEM. */
int tkl_runtime_schedule(struct tkl_runtime *rt, int64_t missed_after, int64_t now);

/*
 * Frees rt. Its plugin instances are destroyed at once, so they must never
 * have started, or the loop must have ended; a running daemon retires them
 * through tkl_plugin_set_retire first. Accepts NULL.
 */
void tkl_runtime_free(struct tkl_runtime *rt);

#endif
