/*
 * calendar: a source plugin that reads observances from iCalendar files
 * (RFC 5545, read with libical) and gives the host one item per occurrence.
 *
 * settings = {
 *   files = [ "calendars/uk-diversity.ics", "calendars/local.ics" ];
 * };
 *
 * Paths are relative to the configuration's directory; a directory stands
 * for every *.ics file in it. Each event gives: SUMMARY (title), DTSTART
 * (a date), DTEND or DURATION (multi-day observances), RRULE, RDATE and
 * EXDATE, CATEGORIES (the first value is the protected characteristic),
 * DESCRIPTION (suggested comms and resources), URL, and X-TICKLER-TEAMS, a
 * comma-separated list of teams to prompt besides the source's own team.
 *
 * A file with any problem is refused whole and each problem logged as
 * file:line: reason; the other files load. When a file changes while the
 * daemon runs it is read again; if the new text has problems its last good
 * reading stays in use. Item ids are "UID/YYYY-MM-DD" (the first day).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>
#include <tickler/day.h>
#include <tickler/plugin.h>

#include "ics.h"
#include "lifecycle.h"

#define RELOAD_DELAY_MS 300 /* editors write a file in several steps */

struct cal_file {
    char *path;
    struct ics_file *ics; /* last good reading, or NULL */
};

/* One watched directory; freed by its handle's close callback. */
struct cal_watch {
    uv_fs_event_t h;
    struct calendar *cal;
    char *dir;
    struct cal_watch *next;
};

struct calendar {
    const struct tkl_host *host;
    char **specs; /* configured paths, absolute */
    size_t n_specs;
    struct cal_file *files;
    size_t n_files;
    struct cal_watch *watches; /* a list, empty until start() and after stop() */
    uv_timer_t reload_timer;
    bool timer_open;
};

struct problem_ctx {
    const struct tkl_host *host;
    const char *path;
    unsigned n;
};

static void on_problem(void *data, unsigned line, const char *msg)
{
    struct problem_ctx *p = data;
    p->n++;
    if (line)
        p->host->log(p->host, TKL_LOG_ERR, "%s:%u: %s", p->path, line, msg);
    else
        p->host->log(p->host, TKL_LOG_ERR, "%s: %s", p->path, msg);
}

/* Whether a table of f of the same SUMMARY as e ends after end: one
 * observance kept as several tables (Ramadan's months of 29 days and of
 * 30) is warned of by its last. */
static bool ends_later(const struct cal_file *f, const struct ics_event *e, int32_t end)
{
    for (size_t i = 0; e->summary && i < f->ics->n; i++) {
        const struct ics_event *o = &f->ics->events[i];
        int32_t other;
        if (o != e && o->summary && !strcmp(o->summary, e->summary) && ics_table_end(o, &other) &&
            other > end)
            return true;
    }
    return false;
}

/* Warns of each date table in f that ends within two years of today, so
 * that an observance never goes quiet unnoticed: a table of lunar dates
 * has to be extended by hand. */
static void warn_table_ends(const struct calendar *cal, const struct cal_file *f)
{
    int y, m, d;
    int32_t today = tkl_local_day(cal->host->now(cal->host));
    tkl_day_to_civil(today, &y, &m, &d);
    /* 29 February two years on is 1 March */
    int32_t horizon = tkl_day_from_civil(y + 2, m, 1) + d - 1;
    for (size_t i = 0; i < f->ics->n; i++) {
        const struct ics_event *e = &f->ics->events[i];
        int32_t end;
        char day[16];
        if (!ics_table_end(e, &end) || end >= horizon || ends_later(f, e, end))
            continue;
        tkl_day_iso(end, day, sizeof(day));
        const char *name = e->summary ? e->summary : e->uid;
        if (end < today)
            cal->host->log(cal->host, TKL_LOG_WARNING,
                           "%s:%u: \"%s\" (%s): its dates (RDATE) ended on %s; it is no "
                           "longer prompted until the dates after it are added",
                           f->path, e->line, name, e->uid, day);
        else
            cal->host->log(cal->host, TKL_LOG_WARNING,
                           "%s:%u: \"%s\" (%s): its dates (RDATE) end on %s, within two years "
                           "of today; add the dates after it or it will no longer be prompted",
                           f->path, e->line, name, e->uid, day);
    }
}

/* Warns, once a reading of f, of what its events say that observances do
 * not keep: a line for each kind, counting the events and naming the
 * first. */
static void warn_dropped(const struct calendar *cal, const struct cal_file *f)
{
    static const struct {
        unsigned bit;
        const char *what, *why;
    } kinds[] = {
        {ICS_DROPPED_TIME, "a time of day",
         "observances are prompted and published by the day, so the feeds show them as "
         "all-day events"},
        {ICS_DROPPED_CATEGORIES, "more than one category",
         "only the first is kept: an observance has one category, which names its calendar "
         "feed"},
        {ICS_DROPPED_LOCATION, "a LOCATION", "tickler neither prompts nor publishes it"},
    };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const struct ics_event *first = NULL;
        size_t n = 0;
        for (size_t i = 0; i < f->ics->n; i++)
            if (f->ics->events[i].dropped & kinds[k].bit) {
                first = first ? first : &f->ics->events[i];
                n++;
            }
        if (first)
            cal->host->log(cal->host, TKL_LOG_WARNING,
                           "%s:%u: %zu event%s with %s (the first here, \"%s\"): %s", f->path,
                           first->line, n, n == 1 ? "" : "s", kinds[k].what,
                           first->summary ? first->summary : first->uid, kinds[k].why);
    }
}

/* Reads f again; on problems keeps its last good reading. Returns 0,
 * -EINVAL (problems logged) or -ENOMEM. */
static int read_file(struct calendar *cal, struct cal_file *f)
{
    struct problem_ctx pc = {.host = cal->host, .path = f->path};
    struct ics_file *fresh = NULL;
    int r = ics_load(f->path, on_problem, &pc, &fresh);
    if (r == -ENOMEM) {
        cal->host->log(cal->host, TKL_LOG_ERR, "%s: out of memory reading the calendar", f->path);
        return r;
    }
    if (r < 0) {
        /* what follows from the errors on_problem logged, each counted by
         * the host: a warning, so that the file's problems count once (an
         * error when none was logged, so that a refusal always counts) */
        cal->host->log(cal->host, pc.n ? TKL_LOG_WARNING : TKL_LOG_ERR,
                       "%s: calendar refused (%u problem%s); %s", f->path, pc.n,
                       pc.n == 1 ? "" : "s",
                       f->ics ? "its last good version stays in use" : "its events are not loaded");
        return -EINVAL;
    }
    ics_file_free(f->ics);
    f->ics = fresh;
    cal->host->log(cal->host, TKL_LOG_INFO, "%s: %zu events", f->path, fresh->n);
    warn_table_ends(cal, f);
    warn_dropped(cal, f);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(struct calendar *cal, const char *path)
{
    for (size_t i = 0; i < cal->n_files; i++)
        if (strcmp(cal->files[i].path, path) == 0)
            return 0;
    struct cal_file *v = realloc(cal->files, (cal->n_files + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    cal->files = v;
    if (!(v[cal->n_files].path = strdup(path)))
        return -ENOMEM;
    v[cal->n_files++].ics = NULL;
    return 0;
}

/* Expands spec (a file, or a directory of *.ics) into cal->files. */
static int add_spec(struct calendar *cal, const char *spec)
{
    DIR *d = opendir(spec);
    if (!d) /* a file, or a path whose problem the reading will name */
        return add_file(cal, spec);
    char **names = NULL;
    size_t n = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".ics") != 0)
            continue;
        char **v = realloc(names, (n + 1) * sizeof(*v));
        if (!v) {
            r = -ENOMEM;
            break;
        }
        names = v;
        if (asprintf(&names[n], "%s/%s", spec, de->d_name) < 0) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r == 0) {
        if (n)
            qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n && r == 0; i++)
            r = add_file(cal, names[i]);
        if (n == 0)
            cal->host->log(cal->host, TKL_LOG_WARNING, "%s: the directory holds no .ics files",
                           spec);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

static void cal_destroy(void *state)
{
    struct calendar *cal = state;
    if (!cal)
        return;
    for (size_t i = 0; i < cal->n_specs; i++)
        free(cal->specs[i]);
    free(cal->specs);
    for (size_t i = 0; i < cal->n_files; i++) {
        free(cal->files[i].path);
        ics_file_free(cal->files[i].ics);
    }
    free(cal->files);
    free(cal); /* the watches were freed as their handles closed (cal_stop) */
}

/*
 * libical keeps caches in its globals (time zones, temporary strings) for
 * the life of the process. When the host unloads this plugin, libical
 * would be unloaded with it and those caches lost (leaked); so libical is
 * marked never to be unloaded, once. The host no longer unloads a plugin
 * whose instance a reload keeps (it calls cal_reconfigure() instead), but
 * it still does for an instance a reload removes, and a host of ABI 1
 * does at every reload: so the pin stays.
 */
static void pin_libical(const struct tkl_host *host)
{
    static bool pinned;
    Dl_info info;
    if (pinned)
        return;
    if (dladdr((void *)icalparser_parse_string, &info) && info.dli_fname &&
        dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE))
        pinned = true;
    else
        host->log(host, TKL_LOG_DEBUG, "libical could not be pinned in memory: %s", dlerror());
}

static int cal_init(const struct tkl_host *host, const config_setting_t *conf, void **ret_state)
{
    static const char *const keys[] = {"files", NULL};
    config_setting_t *bad = tkl_config_unknown_member(conf, keys);
    if (bad) {
        host->log(host, TKL_LOG_ERR, "line %d: unknown setting \"%s\" (known: files)",
                  config_setting_source_line(bad), config_setting_name(bad));
        return -EINVAL;
    }
    config_setting_t *files = conf ? config_setting_get_member(conf, "files") : NULL;
    if (!files || !config_setting_is_array(files) || config_setting_length(files) == 0) {
        host->log(host, TKL_LOG_ERR,
                  "line %d: files must be a list of .ics files or directories, e.g. "
                  "files = [ \"calendars/uk-diversity.ics\" ];",
                  files  ? config_setting_source_line(files)
                  : conf ? config_setting_source_line(conf)
                         : 0);
        return -EINVAL;
    }
    pin_libical(host);
    struct calendar *cal = calloc(1, sizeof(*cal));
    if (!cal)
        return -ENOMEM;
    cal->host = host;
    int r = 0;
    int n = config_setting_length(files);
    if (!(cal->specs = calloc((size_t)n, sizeof(*cal->specs)))) {
        r = -ENOMEM;
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        const char *s = config_setting_get_string_elem(files, i);
        if (!s || !*s) {
            host->log(host, TKL_LOG_ERR, "line %d: files[%d] must be a non-empty string",
                      config_setting_source_line(files), i);
            r = -EINVAL;
            goto fail;
        }
        int w = s[0] == '/' ? asprintf(&cal->specs[i], "%s", s)
                            : asprintf(&cal->specs[i], "%s/%s",
                                       host->config_dir ? host->config_dir : ".", s);
        if (w < 0) {
            cal->specs[i] = NULL;
            r = -ENOMEM;
            goto fail;
        }
        cal->n_specs++;
        if ((r = add_spec(cal, cal->specs[i])) < 0)
            goto fail;
    }
    /* a refused file is logged; the others load and the source works */
    for (size_t i = 0; i < cal->n_files; i++)
        if (read_file(cal, &cal->files[i]) == -ENOMEM) {
            r = -ENOMEM;
            goto fail;
        }
    *ret_state = cal;
    return 0;
fail:
    cal_destroy(cal);
    return r;
}

/* ---- watching -------------------------------------------------------- */

static void on_reload(uv_timer_t *t)
{
    struct calendar *cal = t->data;
    bool changed = false;
    for (size_t i = 0; i < cal->n_files; i++)
        changed |= read_file(cal, &cal->files[i]) == 0;
    if (changed)
        cal->host->items_changed(cal->host);
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    struct cal_watch *w = h->data;
    struct calendar *cal = w->cal;
    (void)events;
    if (status < 0 || !name)
        return;
    size_t dl = strlen(w->dir);
    for (size_t i = 0; i < cal->n_files; i++) {
        const char *p = cal->files[i].path;
        if (strncmp(p, w->dir, dl) == 0 && p[dl] == '/' && strcmp(p + dl + 1, name) == 0) {
            uv_timer_start(&cal->reload_timer, on_reload, RELOAD_DELAY_MS, 0);
            return;
        }
    }
}

static void on_watch_closed(uv_handle_t *h)
{
    struct cal_watch *w = h->data;
    free(w->dir);
    free(w);
}

/* Watches the directory of path, once per directory. Returns 0 or -ENOMEM;
 * a directory that cannot be watched is logged and left unwatched. */
static int add_watch(struct calendar *cal, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -ENOMEM;
    if (!*dir) {
        free(dir);
        if (!(dir = strdup("/")))
            return -ENOMEM;
    }
    for (const struct cal_watch *w = cal->watches; w; w = w->next)
        if (strcmp(w->dir, dir) == 0) {
            free(dir);
            return 0;
        }
    struct cal_watch *w = calloc(1, sizeof(*w));
    if (!w) {
        free(dir);
        return -ENOMEM;
    }
    w->cal = cal;
    w->dir = dir;
    if (uv_fs_event_init(cal->host->loop, &w->h) < 0) { /* no handle: nothing to close */
        free(dir);
        free(w);
        return 0;
    }
    w->h.data = w;
    w->next = cal->watches;
    cal->watches = w;
    int r = uv_fs_event_start(&w->h, on_fs_event, w->dir, 0);
    if (r < 0)
        cal->host->log(cal->host, TKL_LOG_WARNING,
                       "cannot watch %s (%s); calendar edits there are read on reload", w->dir,
                       uv_strerror(r));
    return 0;
}

/* Watches the directory of every file. Returns 0 or -ENOMEM. */
static int watch_files(struct calendar *cal)
{
    for (size_t i = 0; i < cal->n_files; i++) {
        int r = add_watch(cal, cal->files[i].path);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Closes every watch; each is freed when its handle has closed. */
static void unwatch(struct calendar *cal)
{
    while (cal->watches) {
        struct cal_watch *w = cal->watches;
        cal->watches = w->next;
        lc_close(cal->host, (uv_handle_t *)&w->h, on_watch_closed);
    }
}

static void cal_stop(void *state);

static int cal_start(void *state)
{
    struct calendar *cal = state;
    int r = uv_timer_init(cal->host->loop, &cal->reload_timer);
    if (r < 0)
        return r;
    cal->reload_timer.data = cal;
    cal->timer_open = true;
    if ((r = watch_files(cal)) < 0)
        cal_stop(cal); /* undone: the host may call start() again */
    return r;
}

static void cal_stop(void *state)
{
    struct calendar *cal = state;
    unwatch(cal);
    if (cal->timer_open)
        lc_close(cal->host, (uv_handle_t *)&cal->reload_timer, NULL);
    cal->timer_open = false;
}

/* ---- reload ---------------------------------------------------------- */

/* The file of cal read from path, or NULL. */
static struct cal_file *file_named(const struct calendar *cal, const char *path)
{
    for (size_t i = 0; i < cal->n_files; i++)
        if (strcmp(cal->files[i].path, path) == 0)
            return &cal->files[i];
    return NULL;
}

/* Whether a and b read the same files. */
static bool same_files(const struct calendar *a, const struct calendar *b)
{
    if (a->n_files != b->n_files)
        return false;
    for (size_t i = 0; i < a->n_files; i++)
        if (strcmp(a->files[i].path, b->files[i].path) != 0)
            return false;
    return true;
}

/*
 * Takes over fresh's files and their readings (its init() has just read
 * them); a file whose new reading was refused keeps its last good one.
 * libical stays loaded. When the list of files changed, the watches
 * follow it (without memory, edits are read on the next reload).
 */
static void cal_reconfigure(void *state, void *fresh)
{
    struct calendar *cal = state, *f = fresh;
    for (size_t i = 0; i < f->n_files; i++) {
        struct cal_file *old = file_named(cal, f->files[i].path);
        if (!f->files[i].ics && old && old->ics) {
            LC_SWAP(f->files[i].ics, old->ics);
            cal->host->log(cal->host, TKL_LOG_WARNING, "%s: its last good version stays in use",
                           f->files[i].path);
        }
    }
    bool same = same_files(cal, f);
    LC_SWAP(cal->specs, f->specs);
    LC_SWAP(cal->n_specs, f->n_specs);
    LC_SWAP(cal->files, f->files);
    LC_SWAP(cal->n_files, f->n_files);
    if (!same && cal->timer_open) {
        unwatch(cal);
        if (watch_files(cal) < 0)
            cal->host->log(cal->host, TKL_LOG_WARNING,
                           "out of memory watching the calendars; edits are read on reload");
    }
}

/* ---- items ----------------------------------------------------------- */

struct emit_ctx {
    const char *path; /* of the file that holds e */
    const struct ics_event *e;
    tkl_item_fn emit;
    void *emit_data;
};

static int emit_one(void *data, int32_t start, int32_t last)
{
    struct emit_ctx *x = data;
    const struct ics_event *e = x->e;
    char id[512];
    int y, m, d;
    tkl_day_to_civil(start, &y, &m, &d);
    /* at most 480 bytes of the UID, cut at a character, not inside one */
    size_t cut = strnlen(e->uid, 481);
    if (cut > 480)
        for (cut = 480; cut > 0 && ((unsigned char)e->uid[cut] & 0xc0) == 0x80;)
            cut--;
    snprintf(id, sizeof(id), "%.*s/%04d-%02d-%02d", (int)cut, e->uid, y, m, d);
    struct tkl_item it = {
        .size = sizeof(it),
        .id = id,
        .title = e->summary,
        .description = e->description,
        .category = e->category,
        .start_day = start,
        .end_day = last,
        .teams = (const char *const *)e->teams,
        .n_teams = e->n_teams,
        .url = e->url,
        .file = x->path,
        .line = e->line,
    };
    return x->emit(x->emit_data, &it);
}

static int cal_items(void *state, int32_t from_day, int32_t to_day, tkl_item_fn emit,
                     void *emit_data)
{
    struct calendar *cal = state;
    for (size_t i = 0; i < cal->n_files; i++) {
        const struct ics_file *f = cal->files[i].ics;
        for (size_t k = 0; f && k < f->n; k++) {
            struct emit_ctx x = {.path = cal->files[i].path,
                                 .e = &f->events[k],
                                 .emit = emit,
                                 .emit_data = emit_data};
            int r = ics_occurrences(&f->events[k], from_day, to_day, emit_one, &x);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static const struct tkl_plugin descriptor = {
    .abi_version = TICKLER_ABI_VERSION,
    .size = sizeof(struct tkl_plugin),
    .name = "calendar",
    .description = "observances from iCalendar files (RRULE, RDATE, EXDATE; all-day and "
                   "multi-day events)",
    .kind = TKL_PLUGIN_SOURCE,
    .init = cal_init,
    .start = cal_start,
    .items = cal_items,
    .stop = cal_stop,
    .destroy = cal_destroy,
    .reconfigure = cal_reconfigure,
};

TICKLER_PLUGIN_ENTRY(descriptor)
