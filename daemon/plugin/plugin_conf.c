#include "plugin_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const notifier_keys[] = {"name", "plugin", "settings", NULL};
/* prompt_days and prompt_days_long are the schedule's to read
 * (tkl_schedule_conf_sources) */
static const char *const source_keys[] = {"name",        "plugin",           "team", "settings",
                                          "prompt_days", "prompt_days_long", NULL};

/* The words of one kind's list and problems. */
struct kind_words {
    const char *not_a_list; /* the message for a list that is not one */
    const char *item;       /* "notifier" */
    const char *where;      /* "a notifier" */
    const char *const *keys;
};

static const struct kind_words notifier_words = {
    "notifiers must be a list of groups: ( { name = \"email\"; ... } )", "notifier", "a notifier",
    notifier_keys};
static const struct kind_words source_words = {
    "sources must be a list of groups: ( { name = \"diversity\"; plugin = \"calendar\"; team = "
    "\"comms\"; ... } )",
    "source", "a source", source_keys};

/* The entry g, appended to v[*n] unless its name, plugin or team is
 * missing. Returns 0, -EINVAL or -ENOMEM. */
static int read_one(const struct tkl_confread *x, const config_setting_t *g,
                    enum tkl_plugin_kind kind, struct tkl_plugin_conf *v, size_t *n)
{
    const struct kind_words *w = kind == TKL_PLUGIN_SOURCE ? &source_words : &notifier_words;
    const char *name, *plugin, *team = NULL;
    int r = 0;
    if (!config_setting_is_group(g)) {
        tkl_conf_err_at(x, g, "each %s is a group { name = \"...\"; plugin = \"...\"; }", w->item);
        return -EINVAL;
    }
    if (!tkl_conf_check_keys(x, g, w->where, w->keys))
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "name", &name) <= 0 || !tkl_conf_valid_id(name)) {
        tkl_conf_err_at(x, g, "%s needs a name of lower-case letters, digits, - and _", w->where);
        return -EINVAL;
    }
    if (tkl_conf_get_string(x, g, "plugin", &plugin) <= 0 || !tkl_conf_valid_id(plugin)) {
        tkl_conf_err_at(x, g,
                        "%s \"%s\" needs plugin = \"<name>\" (a file in the plugin directory, "
                        "without .so)",
                        w->item, name);
        return -EINVAL;
    }
    if (kind == TKL_PLUGIN_SOURCE && tkl_conf_get_string(x, g, "team", &team) <= 0) {
        tkl_conf_err_at(x, g,
                        "source \"%s\" needs team = \"<team id>\", the team prompted for every "
                        "item (the comms team)",
                        name);
        return -EINVAL;
    }
    for (size_t k = 0; k < *n; k++)
        /* every instance counted has a name: the read returns at a failed strdup */
        // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
        if (strcmp(v[k].name, name) == 0) {
            tkl_conf_err_at(x, g, "%s name \"%s\" is used twice", w->item, name);
            r = -EINVAL;
        }
    struct tkl_plugin_conf *pc = &v[(*n)++];
    pc->line = (unsigned)config_setting_source_line(g);
    pc->plugin_line = (unsigned)config_setting_source_line(config_setting_get_member(g, "plugin"));
    pc->settings = config_setting_get_member(g, "settings");
    if (!(pc->name = strdup(name)) || !(pc->plugin = strdup(plugin)) ||
        (team && !(pc->team = strdup(team))))
        return -ENOMEM;
    return r;
}

int tkl_plugin_conf_read(const struct tkl_confread *x, const config_setting_t *list,
                         enum tkl_plugin_kind kind, struct tkl_plugin_conf **instances,
                         size_t *n_instances)
{
    const struct kind_words *w = kind == TKL_PLUGIN_SOURCE ? &source_words : &notifier_words;
    int r = 0;
    *instances = NULL;
    *n_instances = 0;
    if (!list)
        return 0;
    if (!config_setting_is_list(list)) {
        tkl_conf_err_at(x, list, "%s", w->not_a_list);
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    struct tkl_plugin_conf *v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    *instances = v;
    for (size_t i = 0; i < n; i++) {
        int rr = read_one(x, config_setting_get_elem(list, (unsigned)i), kind, v, n_instances);
        if (rr == -ENOMEM)
            return rr;
        if (rr < 0)
            r = rr;
    }
    return r;
}

void tkl_plugin_conf_free(struct tkl_plugin_conf *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].plugin);
        free(v[i].team);
    }
    free(v);
}
