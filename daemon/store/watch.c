#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/text.h"
#include "remote.h"

struct tkl_watch {
    uv_loop_t *loop;
    struct tkl_watch_dir **dirs;
    size_t n_dirs;
    uv_timer_t debounce;
    unsigned open_handles; /* freed when the last one has closed */
    int debounce_ms;
    void (*changed)(void *data);
    void *data;
};

struct tkl_watch_dir {
    uv_fs_event_t handle;
    struct tkl_watch *w;
    char *name; /* file name to react to, or NULL for any plan file */
};

static void on_debounce(uv_timer_t *t)
{
    struct tkl_watch *w = t->data;
    w->changed(w->data);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct tkl_watch_dir *d = h->data;
    (void)events;
    if (status < 0 || !filename)
        return;
    if (d->name ? strcmp(filename, d->name) != 0 : !tkl_store_is_plan(filename))
        return;
    /* (re)start the quiet period: the reload runs once the writes stop */
    uv_timer_start(&d->w->debounce, on_debounce, (uint64_t)d->w->debounce_ms, 0);
}

int tkl_watch_again(struct tkl_watch *w, int delay_ms)
{
    return uv_timer_start(&w->debounce, on_debounce, (uint64_t)delay_ms, 0);
}

static void release(struct tkl_watch *w)
{
    if (--w->open_handles == 0) {
        free(w->dirs);
        free(w);
    }
}

static void on_dir_closed(uv_handle_t *h)
{
    struct tkl_watch_dir *d = h->data;
    struct tkl_watch *w = d->w;
    free(d->name);
    free(d);
    release(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    release(h->data);
}

/* Watches the file of store.files entry path (without a sheet's name
 * after it), or the directory it names. */
static int watch_path(struct tkl_watch *w, const char *path)
{
    struct stat st;
    char *dir = NULL, *name = NULL;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        dir = strdup(path);
    } else {
        const char *slash = strrchr(path, '/');
        dir = tkl_path_dir(path);
        name = strdup(slash ? slash + 1 : path);
        if (!name) {
            free(dir);
            return -ENOMEM;
        }
    }
    if (!dir) {
        free(name);
        return -ENOMEM;
    }
    struct tkl_watch_dir **dirs =
        realloc(w->dirs, (w->n_dirs + 1) * sizeof(struct tkl_watch_dir *));
    struct tkl_watch_dir *d = calloc(1, sizeof(*d));
    if (dirs)
        w->dirs = dirs;
    if (!dirs || !d) {
        free(d);
        free(dir);
        free(name);
        return -ENOMEM;
    }
    int r = uv_fs_event_init(w->loop, &d->handle);
    if (r < 0) {
        free(d);
        free(dir);
        free(name);
        return r;
    }
    d->handle.data = d;
    d->w = w;
    d->name = name;
    w->dirs[w->n_dirs++] = d;
    w->open_handles++;
    r = uv_fs_event_start(&d->handle, on_event, dir, 0);
    free(dir);
    return r;
}

static int watch_one(struct tkl_watch *w, const char *entry)
{
    char *path = strndup(entry, tkl_store_path_len(entry));
    if (!path)
        return -ENOMEM;
    int r = watch_path(w, path);
    free(path);
    return r;
}

int tkl_watch_start(uv_loop_t *loop, const struct tkl_store_opts *opts, int debounce_ms,
                    void (*changed)(void *data), void *data, struct tkl_watch **ret)
{
    struct tkl_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    w->debounce_ms = debounce_ms;
    w->changed = changed;
    w->data = data;
    int r = uv_timer_init(loop, &w->debounce);
    if (r < 0) {
        free(w);
        return r;
    }
    w->open_handles = 1;
    w->debounce.data = w;
    for (size_t i = 0; i < opts->n_paths && r == 0; i++)
        if (!tkl_remote_is_url(opts->paths[i])) /* fetch.c polls those */
            r = watch_one(w, opts->paths[i]);
    if (r < 0) {
        tkl_watch_close(w);
        return r;
    }
    *ret = w;
    return 0;
}

void tkl_watch_close(struct tkl_watch *w)
{
    if (!w)
        return;
    uv_timer_stop(&w->debounce);
    for (size_t i = 0; i < w->n_dirs; i++)
        uv_close((uv_handle_t *)&w->dirs[i]->handle, on_dir_closed);
    uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
}
