#include "set.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one configured instance is: its names, settings and place. */
struct wanted {
    const char *name;   /* instance name */
    const char *plugin; /* plugin file stem */
    const config_setting_t *settings;
    unsigned line;
    enum tkl_plugin_kind kind;
    unsigned plugin_line; /* of its plugin key */
};

static const char *kind_name(enum tkl_plugin_kind k)
{
    return k == TKL_PLUGIN_SOURCE ? "source" : "notifier";
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The plugins of dir (the stems of its *.so files), sorted, ", " between,
 * into buf (cut to fit; "none" when there are none). */
static void plugins_in(const char *dir, char *buf, size_t size)
{
    char *names[64];
    size_t n = 0, len = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && n < sizeof(names) / sizeof(names[0]) && (e = readdir(d))) {
        size_t k = strlen(e->d_name);
        if (k > 3 && !strcmp(e->d_name + k - 3, ".so") && (names[n] = strndup(e->d_name, k - 3)))
            n++;
    }
    if (d)
        (void)closedir(d); /* read only */
    qsort(names, n, sizeof(names[0]), by_text);
    snprintf(buf, size, "%s", n ? "" : "none");
    for (size_t i = 0; i < n; i++) {
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
}

/* Whether the plugin w names (a bare name: plugin_conf.c) is a file of
 * plugin_dir; when not, an error at its line of the configuration says
 * so, with the plugins there. */
static bool plugin_there(const char *plugin_dir, const struct tkl_plugin_set_conf *c,
                         const struct wanted *w, struct tkl_diags *diags)
{
    char *path = NULL, known[512];
    if (asprintf(&path, "%s/%s.so", plugin_dir, w->plugin) < 0)
        return true; /* the loader says it is out of memory */
    bool there = access(path, F_OK) == 0 || errno != ENOENT;
    free(path);
    if (!there) {
        plugins_in(plugin_dir, known, sizeof(known));
        tkl_diag_add(diags, TKL_SEV_ERROR, c->path, w->plugin_line ? w->plugin_line : w->line,
                     "plugin", "no plugin \"%s\" in %s (there: %s)", w->plugin, plugin_dir, known);
    }
    return there;
}

/* Opens, checks and inits one instance. Returns 0 with *ret set, or a
 * negative errno (problems in diags; nothing open). */
static int open_one(const char *plugin_dir, const struct tkl_plugin_set_conf *c,
                    const struct wanted *w, struct tkl_host_services *svc, const char *state_dir,
                    struct tkl_plugin_instance **ret, struct tkl_diags *diags)
{
    struct tkl_plugin_instance *p = NULL;
    if (!plugin_there(plugin_dir, c, w, diags))
        return -ENOENT;
    int r = tkl_plugin_open(plugin_dir, w->plugin, &p, diags);
    if (r < 0)
        return r;
    if (p->desc->kind != w->kind) {
        tkl_diag_add(diags, TKL_SEV_ERROR, c->path, w->line, "plugin", "plugin \"%s\" is not a %s",
                     w->plugin, kind_name(w->kind));
        r = -EINVAL;
        goto fail;
    }
    if ((r = tkl_host_fill(p, svc, c->dir, state_dir)) < 0)
        goto fail;
    char what[512];
    (void)snprintf(what, sizeof(what), "%s \"%s\" (plugin %s) rejected its settings",
                   kind_name(w->kind), w->name, w->plugin);
    /* the reasons the plugin logs, when it refuses its settings: errors
     * here at its line, said once */
    tkl_host_init_begin(svc);
    r = tkl_plugin_init(p, w->name, w->settings);
    tkl_host_init_end(svc, p->host.instance, r, diags, c->path, w->line, what);
    if (r < 0)
        goto fail;
    p->settings = w->settings;
    p->line = w->line;
    *ret = p;
    return 0;
fail:
    tkl_plugin_close(p);
    return r;
}

int tkl_notifier_open(const char *plugin_dir, const struct tkl_plugin_set_conf *c,
                      const struct tkl_plugin_conf *nc, struct tkl_host_services *svc,
                      const char *state_dir, struct tkl_plugin_instance **ret,
                      struct tkl_diags *diags)
{
    struct wanted w = {nc->name, nc->plugin,          nc->settings,
                       nc->line, TKL_PLUGIN_NOTIFIER, nc->plugin_line};
    return open_one(plugin_dir, c, &w, svc, state_dir, ret, diags);
}

/* Asks notifier p about every team recipient on its channel. Returns 0 or
 * -EINVAL (each refusal in diags at the recipients' line). */
static int check_recipients(const struct tkl_plugin_set_conf *c, struct tkl_plugin_instance *p,
                            struct tkl_diags *diags)
{
    int r = 0;
    for (size_t t = 0; t < c->teams->n; t++)
        for (size_t i = 0; i < c->teams->teams[t].n_recipients; i++) {
            const struct tkl_recipient *rc = &c->teams->teams[t].recipients[i];
            char *why = NULL;
            if (strcmp(rc->channel, p->instance) != 0 ||
                tkl_plugin_check_recipient(p, rc->address, &why) == 0)
                continue;
            tkl_diag_add(diags, TKL_SEV_ERROR, c->path, rc->line, "recipients",
                         "team \"%s\": %s cannot deliver to \"%s\": %s", c->teams->teams[t].id,
                         p->instance, rc->address,
                         why ? why : "(its reason cannot be shown: out of memory)");
            free(why);
            r = -EINVAL;
        }
    return r;
}

/* Opens the n instances of w into a new array *ret. Returns 0 or the
 * worst error (-ENOMEM before -EINVAL); on failure nothing is left open. */
static int open_all(const char *plugin_dir, const struct tkl_plugin_set_conf *c,
                    const struct wanted *w, size_t n, struct tkl_host_services *svc,
                    const char *state_dir, struct tkl_plugin_instance ***ret,
                    struct tkl_diags *diags)
{
    struct tkl_plugin_instance **v = calloc(n + 1, sizeof(struct tkl_plugin_instance *));
    int r = 0;
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rr = open_one(plugin_dir, c, &w[i], svc, state_dir, &v[i], diags);
        if (rr == 0 && w[i].kind == TKL_PLUGIN_NOTIFIER)
            rr = check_recipients(c, v[i], diags);
        if (rr < 0 && (rr == -ENOMEM || !r))
            r = rr;
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            tkl_plugin_close(v[i]);
        free(v);
        return r;
    }
    *ret = v;
    return 0;
}

int tkl_plugin_set_open(const char *plugin_dir, const struct tkl_plugin_set_conf *c, unsigned kinds,
                        struct tkl_host_services *svc, const char *state_dir,
                        struct tkl_plugin_set *ret, struct tkl_diags *diags)
{
    struct tkl_plugin_set s = {0};
    size_t n_notifiers = kinds & TKL_PLUGIN_NOTIFIER ? c->n_notifiers : 0;
    size_t n_sources = kinds & TKL_PLUGIN_SOURCE ? c->n_sources : 0;
    struct wanted *w = calloc(c->n_notifiers + c->n_sources + 1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_notifiers; i++) {
        const struct tkl_plugin_conf *nc = &c->notifiers[i];
        w[i] = (struct wanted){nc->name, nc->plugin,          nc->settings,
                               nc->line, TKL_PLUGIN_NOTIFIER, nc->plugin_line};
    }
    for (size_t i = 0; i < c->n_sources; i++) {
        const struct tkl_plugin_conf *sc = &c->sources[i];
        w[c->n_notifiers + i] = (struct wanted){sc->name, sc->plugin,        sc->settings,
                                                sc->line, TKL_PLUGIN_SOURCE, sc->plugin_line};
    }
    int r = open_all(plugin_dir, c, w, n_notifiers, svc, state_dir, &s.notifiers, diags);
    int rs =
        open_all(plugin_dir, c, w + c->n_notifiers, n_sources, svc, state_dir, &s.sources, diags);
    free(w);
    s.n_notifiers = r == 0 ? n_notifiers : 0;
    s.n_sources = rs == 0 ? n_sources : 0;
    if (r < 0 || rs < 0) {
        tkl_plugin_set_close(&s);
        return r == -ENOMEM || rs == -ENOMEM ? -ENOMEM : r < 0 ? r : rs;
    }
    *ret = s;
    return 0;
}

/* Whether two libconfig settings hold the same names, types and values. */
static bool same_setting(const config_setting_t *a, const config_setting_t *b)
{
    if (!a || !b)
        return a == b;
    int type = config_setting_type(a);
    const char *na = config_setting_name(a), *nb = config_setting_name(b);
    if (type != config_setting_type(b) || (!na) != (!nb) || (na && strcmp(na, nb) != 0))
        return false;
    switch (type) {
    case CONFIG_TYPE_INT:
        return config_setting_get_int(a) == config_setting_get_int(b);
    case CONFIG_TYPE_INT64:
        return config_setting_get_int64(a) == config_setting_get_int64(b);
    case CONFIG_TYPE_FLOAT:
        return config_setting_get_float(a) == config_setting_get_float(b);
    case CONFIG_TYPE_BOOL:
        return config_setting_get_bool(a) == config_setting_get_bool(b);
    case CONFIG_TYPE_STRING:
        return strcmp(config_setting_get_string(a), config_setting_get_string(b)) == 0;
    default: /* group, array, list */
        if (config_setting_length(a) != config_setting_length(b))
            return false;
        for (int i = 0; i < config_setting_length(a); i++)
            if (!same_setting(config_setting_get_elem(a, (unsigned)i),
                              config_setting_get_elem(b, (unsigned)i)))
                return false;
        return true;
    }
}

/* Keeps old instance o in place of fresh instance *f when it can. */
static bool carry_one(struct tkl_plugin_instance **o, struct tkl_plugin_instance **f)
{
    struct tkl_plugin_instance *old = *o, *fresh = *f;
    if (!old || !old->started || old->stopped || strcmp(old->instance, fresh->instance) != 0 ||
        strcmp(old->path, fresh->path) != 0)
        return false;
    void (*reconfigure)(void *, void *) = TKL_PLUGIN_V2(old, reconfigure);
    if (reconfigure)
        reconfigure(old->state, fresh->state);
    else if (!same_setting(old->settings, fresh->settings))
        return false;
    old->settings = fresh->settings;
    old->line = fresh->line;
    /* the new configuration's directory, which fresh's copy holds */
    char *dir = old->config_dir;
    old->config_dir = fresh->config_dir;
    old->host.config_dir = old->config_dir;
    fresh->config_dir = dir;
    tkl_plugin_close(fresh);
    *f = old;
    *o = NULL;
    return true;
}

static size_t carry_list(struct tkl_plugin_instance **old, size_t n_old,
                         struct tkl_plugin_instance **fresh, size_t n_fresh)
{
    size_t kept = 0;
    for (size_t i = 0; i < n_fresh; i++)
        for (size_t j = 0; j < n_old; j++)
            if (carry_one(&old[j], &fresh[i])) {
                kept++;
                break;
            }
    return kept;
}

size_t tkl_plugin_set_carry(struct tkl_plugin_set *old, struct tkl_plugin_set *fresh)
{
    return carry_list(old->notifiers, old->n_notifiers, fresh->notifiers, fresh->n_notifiers) +
           carry_list(old->sources, old->n_sources, fresh->sources, fresh->n_sources);
}

/* Starts every instance of v not started yet, each whatever the others
 * do. Returns 0 or the first error (*ret_failed names its instance). */
static int start_list(struct tkl_plugin_instance **v, size_t n, const char **ret_failed)
{
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        struct tkl_plugin_instance *p = v[i];
        if (p->started)
            continue;
        int r = p->desc->start ? p->desc->start(p->state) : 0;
        if (r < 0 && !first) {
            *ret_failed = p->instance;
            first = r;
        }
        p->started = r == 0;
    }
    return first;
}

int tkl_plugin_set_start(struct tkl_plugin_set *s, const char **ret_failed)
{
    int r = start_list(s->notifiers, s->n_notifiers, ret_failed);
    int rs = start_list(s->sources, s->n_sources, ret_failed);
    return r < 0 ? r : rs;
}

bool tkl_plugin_set_started(const struct tkl_plugin_set *s)
{
    for (size_t i = 0; i < s->n_notifiers; i++)
        if (!s->notifiers[i]->started)
            return false;
    for (size_t i = 0; i < s->n_sources; i++)
        if (!s->sources[i]->started)
            return false;
    return true;
}

static void stop_list(struct tkl_plugin_instance **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tkl_plugin_instance *p = v[i];
        tkl_host_stop_instance(p);
    }
}

void tkl_plugin_set_stop(struct tkl_plugin_set *s)
{
    stop_list(s->notifiers, s->n_notifiers);
    stop_list(s->sources, s->n_sources);
}

void tkl_plugin_set_retire(struct tkl_plugin_set *s, struct tkl_host_services *svc)
{
    for (size_t i = 0; i < s->n_notifiers; i++)
        tkl_host_retire(svc, s->notifiers[i]);
    for (size_t i = 0; i < s->n_sources; i++)
        tkl_host_retire(svc, s->sources[i]);
    free(s->notifiers);
    free(s->sources);
    memset(s, 0, sizeof(*s));
}

void tkl_plugin_set_close(struct tkl_plugin_set *s)
{
    for (size_t i = 0; i < s->n_notifiers; i++)
        tkl_plugin_close(s->notifiers[i]);
    for (size_t i = 0; i < s->n_sources; i++)
        tkl_plugin_close(s->sources[i]);
    free(s->notifiers);
    free(s->sources);
    memset(s, 0, sizeof(*s));
}
