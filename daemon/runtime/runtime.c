#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../core/day.h"
#include "../core/secret.h"
#include "../store/fetch.h"
#include "../token/token_conf.h"

int tkl_runtime_read_store(const struct tkl_runtime *rt, int64_t now, bool may_hold,
                           struct tkl_store **ret, struct tkl_diags *diags)
{
    struct tkl_store *st = NULL;
    const struct tkl_config *c = rt->cfg;
    struct tkl_store_opts opts = c->store;
    opts.may_hold = may_hold;
    int r = tkl_store_reload(&opts, &c->teams, rt->store, &st, diags);
    if (r < 0)
        return r;
    r = tkl_sources_add_to_store(&rt->sources, tkl_local_day(now), st, &c->teams, diags);
    if (r < 0) {
        tkl_store_free(st);
        return r;
    }
    *ret = st;
    return 0;
}

int64_t tkl_runtime_now(const struct tkl_runtime_env *env)
{
    return (int64_t)time(NULL) + env->clock_offset;
}

/* Reads --now in the configuration's zone, once. */
static int read_now_arg(struct tkl_runtime_env *env, struct tkl_diags *diags)
{
    int64_t t;
    if (!env->now_arg)
        return 0;
    if (tkl_parse_datetime(env->now_arg, &t) < 0) {
        tkl_diag_add(diags, TKL_SEV_ERROR, NULL, 0, "--now",
                     "\"%s\" is not YYYY-MM-DD[THH:MM[:SS]] or @EPOCH", env->now_arg);
        return -EINVAL;
    }
    env->clock_offset = t - (int64_t)time(NULL);
    env->now_arg = NULL;
    return 0;
}

/* The steps after the configuration; on failure rt keeps what it built. */
static int load_rest(struct tkl_runtime_env *env, struct tkl_runtime *rt, struct tkl_diags *diags)
{
    struct tkl_config *c = rt->cfg;
    int64_t now = tkl_runtime_now(env);
    const char *plugin_dir = env->plugin_dir ? env->plugin_dir : c->plugin_dir;
    int r;
    if (env->store_file && (r = tkl_store_opts_use_file(&c->store, env->store_file)) < 0)
        return r;
    c->store.once = env->read_once;
    if (!env->state_dir && !(env->state_dir = strdup(c->state_dir)))
        return -ENOMEM;
    c->store.cold_dir = env->cold_store && !c->plan_private ? env->state_dir : NULL;
    c->store.keep_dir = env->keep_plans ? env->state_dir : NULL;
    /* made now for the store's cold memory (the first start's); when it
     * cannot be, the store is in private memory, and the daemon says why
     * when it opens its outbox there */
    if (c->store.cold_dir && mkdir(env->state_dir, 0700) < 0 && errno != EEXIST)
        c->store.cold_dir = NULL;
    if (tkl_fetch_prepare(&c->store, &c->teams, env->state_dir, env->fresh_dir, !env->own_fetch,
                          diags) < 0)
        return -ENOMEM;
    /* every step reports its problems: one check finds them all */
    int rp = tkl_plugin_set_open(plugin_dir, &c->plugins, TKL_PLUGIN_NOTIFIER | TKL_PLUGIN_SOURCE,
                                 env->svc, env->state_dir, &rt->plugins, diags);
    if ((r = tkl_sources_view(&rt->plugins, c->sources, &rt->sources)) < 0)
        return r;
    int rs = tkl_runtime_read_store(rt, now, false, &rt->store, diags);
    int rl =
        c->links.enabled ? tkl_links_conf_ring(&c->links, env->config_path, diags, &rt->links) : 0;
    if (rp == -ENOMEM || rs == -ENOMEM || rl == -ENOMEM)
        return -ENOMEM;
    return rp < 0 ? rp : rs < 0 ? rs : rl;
}

int tkl_runtime_load(struct tkl_runtime_env *env, struct tkl_runtime **ret, struct tkl_diags *diags)
{
    struct tkl_runtime *rt = calloc(1, sizeof(*rt));
    const char *tz = getenv("TZ");
    char *prev_tz = tz ? strdup(tz) : NULL;
    int r;
    if (!rt || (tz && !prev_tz)) {
        r = -ENOMEM;
        goto fail;
    }
    tkl_secret_set_diags(diags);
    if ((r = tkl_config_load(env->config_path, &rt->cfg, diags)) < 0)
        goto fail;
    /* the secrets read after the load, or only now and then */
    const struct tkl_config *c = rt->cfg;
    if (tkl_fetch_count(&c->store)) /* the token goes with the fetches */
        tkl_secret_check(c->store.fetch.config_dir, c->store.fetch.token_file);
    tkl_secret_check(NULL, c->http.tls_key);
    if (c->state.backend == TKL_STATE_POSTGRESQL)
        tkl_secret_check(NULL, c->state.conninfo_file);
    if ((r = tkl_tz_set(rt->cfg->timezone)) < 0)
        goto fail;
    if ((r = read_now_arg(env, diags)) < 0 || (r = load_rest(env, rt, diags)) < 0)
        goto fail_tz;
    tkl_secret_set_diags(NULL);
    free(prev_tz);
    *ret = rt;
    return 0;
fail_tz:
    if ((prev_tz ? setenv("TZ", prev_tz, 1) : unsetenv("TZ")) == 0)
        tzset();
fail:
    tkl_secret_set_diags(NULL);
    free(prev_tz);
    tkl_runtime_free(rt);
    return r;
}

int tkl_runtime_schedule(struct tkl_runtime *rt, int64_t missed_after, int64_t now)
{
    return tkl_scheduler_build(&rt->sched, &rt->cfg->schedule, &rt->cfg->teams, rt->store,
                               missed_after, now);
}

void tkl_runtime_free(struct tkl_runtime *rt)
{
    if (!rt)
        return;
    tkl_scheduler_free(&rt->sched);
    tkl_token_ring_free(&rt->links);
    tkl_store_free(rt->store);
    tkl_sources_close(&rt->sources);
    tkl_plugin_set_close(&rt->plugins);
    tkl_config_free(rt->cfg);
    free(rt);
}
