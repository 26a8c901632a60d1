#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"

int tkl_sources_view(const struct tkl_plugin_set *set, const struct tkl_plugin_conf *sources,
                     struct tkl_sources *ret)
{
    struct tkl_sources s = {0};
    if (set->n_sources && !(s.v = calloc(set->n_sources, sizeof(*s.v))))
        return -ENOMEM;
    for (size_t i = 0; i < set->n_sources; i++)
        s.v[s.n++] = (struct tkl_source){set->sources[i], sources[i].team};
    *ret = s;
    return 0;
}

void tkl_sources_refresh(struct tkl_sources *s, const struct tkl_plugin_set *set)
{
    for (size_t i = 0; i < s->n && i < set->n_sources; i++)
        s->v[i].plugin = set->sources[i];
}

void tkl_sources_close(struct tkl_sources *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void event_free(struct tkl_event *e)
{
    free((char *)e->id);
    free((char *)e->title);
    free((char *)e->description);
    free((char *)e->category);
    free((char *)e->url);
    free((char *)e->file);
    for (size_t i = 0; i < e->n_teams; i++)
        free((char *)e->teams[i]);
    free((void *)e->teams);
}

void tkl_event_list_free(struct tkl_event_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        event_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

struct collect {
    struct tkl_event_list *l;
    const struct tkl_source *src;
};

static int dup_opt(const char *s, const char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    /* the ABI's texts are UTF-8; bytes that are not are read as
     * Windows-1252 as the store reads a plan's (each stray byte of a text
     * mostly UTF-8, else the whole), so that no feed, page or message
     * built from them holds invalid UTF-8 */
    size_t len = strlen(s);
    char *c = tkl_utf8_or_cp1252(s, len);
    if (!c)
        return -ENOMEM;
    *ret = c;
    return 0;
}

/* The emit callback: copies what the plugin gives. */
static int collect_item(void *data, const struct tkl_item *it)
{
    struct collect *x = data;
    struct tkl_event_list *l = x->l;
    if (!it || it->size < offsetof(struct tkl_item, url) || !it->id || it->start_day == TKL_NO_DAY)
        return -EINVAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct tkl_event *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    struct tkl_event *e = &l->v[l->n];
    memset(e, 0, sizeof(*e));
    e->source = x->src->plugin->instance;
    e->team = x->src->team;
    e->first_day = it->start_day;
    e->last_day = it->end_day >= it->start_day ? it->end_day : it->start_day;
    l->n++;
    const char *url = TKL_HAS_MEMBER(it, it->size, url) ? it->url : NULL;
    const char *file = TKL_HAS_MEMBER(it, it->size, line) ? it->file : NULL;
    e->line = file ? it->line : 0;
    if (dup_opt(it->id, &e->id) < 0 || dup_opt(it->title, &e->title) < 0 ||
        dup_opt(it->description, &e->description) < 0 || dup_opt(it->category, &e->category) < 0 ||
        dup_opt(url, &e->url) < 0 || dup_opt(file, &e->file) < 0)
        return -ENOMEM;
    if (it->n_teams) {
        const char **t = calloc(it->n_teams, sizeof(*t));
        if (!t)
            return -ENOMEM;
        e->teams = t;
        for (size_t i = 0; i < it->n_teams; i++, e->n_teams++) {
            if (!it->teams[i])
                return -EINVAL; /* the ABI promises n_teams strings */
            if (dup_opt(it->teams[i], &t[i]) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int by_day(const void *a, const void *b)
{
    const struct tkl_event *x = a, *y = b;
    if (x->first_day != y->first_day)
        return (x->first_day > y->first_day) - (x->first_day < y->first_day);
    int c = strcmp(x->title ? x->title : "", y->title ? y->title : "");
    return c ? c : strcmp(x->id, y->id);
}

int tkl_sources_events(const struct tkl_sources *s, int32_t from, int32_t to,
                       struct tkl_event_list *ret)
{
    struct tkl_event_list l = {0};
    for (size_t i = 0; i < s->n; i++) {
        struct tkl_plugin_instance *p = s->v[i].plugin;
        struct collect x = {.l = &l, .src = &s->v[i]};
        int r = p->desc->items(p->state, from, to, collect_item, &x);
        if (r < 0) {
            tkl_event_list_free(&l);
            return r;
        }
    }
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), by_day);
    *ret = l;
    return 0;
}

int tkl_sources_add_to_store(const struct tkl_sources *s, int32_t today, struct tkl_store *store,
                             const struct tkl_team_dir *teams, struct tkl_diags *diags)
{
    struct tkl_event_list l = {0};
    if (!s->n)
        return 0;
    int r = tkl_sources_events(s, today - TKL_SOURCE_DAYS_BACK, today + TKL_SOURCE_DAYS_AHEAD, &l);
    if (r == 0)
        r = tkl_observances_add(store, l.v, l.n, teams, diags);
    tkl_event_list_free(&l);
    return r;
}
