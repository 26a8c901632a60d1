/* A real test source: emits the items its settings list, those with a day
 * in the range asked for.
 *
 * settings = {
 *   items = ( { id = "a"; title = "A"; start = 20605; end = 20606;
 *               category = "age"; description = "..."; url = "...";
 *               teams = [ "hr" ]; } );
 *   fail_after = 1;   # return -EIO once this many items were emitted
 * };
 *
 * An item with no_id = true is emitted with id NULL (which the host must
 * refuse), one with short = true with the size of an item that predates
 * the url member. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/plugin.h>

struct items {
    const struct tkl_host *host;
    int fail_after; /* -1: never */
    size_t n;
    struct item {
        char *id, *title, *description, *category, *url;
        int start, end;
        char **teams;
        size_t n_teams;
        bool no_id, short_size, old_size;
    } * v;
};

static char *dup_member(const config_setting_t *g, const char *name)
{
    const char *s = NULL;
    return config_setting_lookup_string(g, name, &s) ? strdup(s) : NULL;
}

static void items_destroy(void *state)
{
    struct items *x = state;
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct item *it = &x->v[i];
        free(it->id);
        free(it->title);
        free(it->description);
        free(it->category);
        free(it->url);
        for (size_t k = 0; k < it->n_teams; k++)
            free(it->teams[k]);
        free(it->teams);
    }
    free(x->v);
    free(x);
}

static int items_init(const struct tkl_host *host, const config_setting_t *conf, void **ret)
{
    static const char *const keys[] = {"items", "fail_after", NULL};
    if (tkl_config_unknown_member(conf, keys))
        return -EINVAL;
    struct items *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->host = host;
    x->fail_after = -1;
    config_setting_lookup_int(conf, "fail_after", &x->fail_after);
    config_setting_t *list = conf ? config_setting_get_member(conf, "items") : NULL;
    int n = list ? config_setting_length(list) : 0;
    if (n && !(x->v = calloc((size_t)n, sizeof(*x->v)))) {
        free(x);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++, x->n++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct item *it = &x->v[i];
        int flag = 0;
        it->id = dup_member(g, "id");
        it->title = dup_member(g, "title");
        it->description = dup_member(g, "description");
        it->category = dup_member(g, "category");
        it->url = dup_member(g, "url");
        config_setting_lookup_int(g, "start", &it->start);
        it->end = it->start;
        config_setting_lookup_int(g, "end", &it->end);
        it->no_id = config_setting_lookup_bool(g, "no_id", &flag) && flag;
        it->short_size = config_setting_lookup_bool(g, "short", &flag) && flag;
        it->old_size = config_setting_lookup_bool(g, "old", &flag) && flag;
        const config_setting_t *teams = config_setting_get_member(g, "teams");
        int nt = teams ? config_setting_length(teams) : 0;
        if (nt && !(it->teams = calloc((size_t)nt, sizeof(char *)))) {
            items_destroy(x);
            return -ENOMEM;
        }
        for (int k = 0; k < nt; k++)
            it->teams[it->n_teams++] = strdup(config_setting_get_string_elem(teams, k));
    }
    *ret = x;
    return 0;
}

static int items_items(void *state, int32_t from_day, int32_t to_day, tkl_item_fn emit,
                       void *emit_data)
{
    struct items *x = state;
    int emitted = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct item *it = &x->v[i];
        if (it->end < from_day || it->start > to_day)
            continue;
        if (x->fail_after >= 0 && emitted == x->fail_after)
            return -EIO;
        struct tkl_item out = {
            .size = it->short_size ? offsetof(struct tkl_item, url) : sizeof(out),
            .id = it->no_id ? NULL : it->id,
            .title = it->title,
            .description = it->description,
            .category = it->category,
            .start_day = it->start,
            .end_day = it->end,
            .teams = (const char *const *)it->teams,
            .n_teams = it->n_teams,
            .url = it->url,
        };
        if (it->old_size) {
            /* as a plugin built before file and line: its size ends after
             * the reserved pointers that followed url, which it may leave
             * holding anything; what lies past its size is not its own */
            size_t junk = offsetof(struct tkl_item, url) + sizeof(out.url);
            size_t old = junk + 3 * sizeof(void *);
            out.file = "past-its-size.ics";
            out.line = 99;
            memset((char *)&out + junk, 0x5a, old - junk);
            out.size = (uint32_t)old;
        }
        int r = emit(emit_data, &out);
        if (r < 0)
            return r;
        emitted++;
    }
    return 0;
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "items",
    .description = "test source",
    .kind = TKL_PLUGIN_SOURCE,
    .init = items_init,
    .items = items_items,
    .destroy = items_destroy,
};

TICKLER_PLUGIN_ENTRY(descriptor)
