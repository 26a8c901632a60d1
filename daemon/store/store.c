#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/mem.h"
#include "../core/text.h"
#include "docx.h"
#include "index.h"
#include "keep.h"
#include "ods.h"
#include "remote.h"
#include "row.h"
#include "xlsx.h"

/* Lets go of what s->actions points to. */
static void release_actions(struct tkl_store *s)
{
    if (s->actions_cold) {
        tkl_mem_unmap(s->actions, s->actions_cold);
        (void)close(s->actions_fd); /* with the mapping, the file goes */
    } else {
        free(s->actions);
    }
    s->actions = NULL;
    s->actions_cold = 0;
    s->actions_fd = -1;
}

/* Lets go of what s->hashes and s->row_hashes point to. */
static void release_hashes(struct tkl_store *s)
{
    if (s->hashes_cold) {
        tkl_mem_unmap(s->hashes, s->hashes_cold);
        (void)close(s->hashes_fd);
    } else {
        free(s->hashes);
        free(s->row_hashes);
    }
    s->hashes = s->row_hashes = NULL;
    s->hashes_cold = 0;
    s->hashes_fd = -1;
}

/* A block of size bytes of cold memory of a new file in dir (none when
 * dir is NULL), its descriptor in *fd; NULL when dir cannot hold it, why
 * in s->cold_error. */
static void *cold_new(struct tkl_store *s, const char *dir, size_t size, int *fd)
{
    *fd = -1;
    void *p = dir ? tkl_mem_cold_new(dir, size, fd) : NULL;
    if (dir && !p)
        s->cold_error = -errno;
    return p;
}

/* Room for n actions in s->actions (n >= s->n), keeping the s->n it
 * holds: cold memory in cold_dir (core/mem.h) where that can be had (a
 * cold block grown in place, or moved without a copy, and never cut),
 * else malloc's, of exactly n. Returns 0 or -ENOMEM (then s is as it
 * was). */
static int place_actions(struct tkl_store *s, size_t n, const char *cold_dir)
{
    const size_t size = n * sizeof(*s->actions);
    struct tkl_action *p;
    int fd = -1;
    if (s->actions_cold >= size) /* room enough already (an append that failed) */
        return 0;
    if (s->actions_cold) {
        if ((p = tkl_mem_cold_grow(s->actions_fd, s->actions, s->actions_cold, size))) {
            s->actions = p;
            s->actions_cold = size;
            return 0;
        }
        s->cold_error = -errno;
        if (!(p = malloc(size))) /* out of cold memory, into malloc's */
            return -ENOMEM;
    } else if (!(p = cold_new(s, cold_dir, size, &fd))) {
        if (!(p = realloc(s->actions, size))) /* as it was, grown or cut */
            return -ENOMEM;
        s->actions = p;
        return 0;
    }
    if (s->n)
        memcpy(p, s->actions, s->n * sizeof(*p));
    release_actions(s);
    s->actions = p;
    s->actions_cold = fd >= 0 ? size : 0;
    s->actions_fd = fd;
    return 0;
}

/* The same for the hashes and row hashes of n actions, in one block of
 * cold memory (room for n hashes, then the row hashes) or two of
 * malloc's. */
static int place_hashes(struct tkl_store *s, size_t n, const char *cold_dir)
{
    const size_t size = 2 * n * sizeof(*s->hashes);
    uint64_t *h = NULL, *rh = NULL;
    int fd = -1;
    if (s->hashes_cold >= size) /* room enough already, its row hashes where they are */
        return 0;
    if (s->hashes_cold) {
        if ((h = tkl_mem_cold_grow(s->hashes_fd, s->hashes, s->hashes_cold, size))) {
            /* the row hashes moved up past the room of the n hashes */
            memmove(h + n, h + s->hashes_cold / (2 * sizeof(*h)), s->n * sizeof(*h));
            s->hashes = h;
            s->row_hashes = h + n;
            s->hashes_cold = size;
            return 0;
        }
        s->cold_error = -errno; /* out of cold memory, into malloc's */
    } else if ((h = cold_new(s, cold_dir, size, &fd))) {
        rh = h + n;
    } else { /* as they were, grown or cut */
        if (!(h = realloc(s->hashes, n * sizeof(*h))))
            return -ENOMEM;
        s->hashes = h;
        if (!(rh = realloc(s->row_hashes, n * sizeof(*rh))))
            return -ENOMEM;
        s->row_hashes = rh;
        return 0;
    }
    if (!h) {
        h = malloc(n * sizeof(*h));
        rh = malloc(n * sizeof(*rh));
        if (!h || !rh) {
            free(h);
            free(rh);
            return -ENOMEM;
        }
    }
    if (s->n) {
        memcpy(h, s->hashes, s->n * sizeof(*h));
        memcpy(rh, s->row_hashes, s->n * sizeof(*rh));
    }
    release_hashes(s);
    s->hashes = h;
    s->row_hashes = rh;
    s->hashes_cold = fd >= 0 ? size : 0;
    s->hashes_fd = fd;
    return 0;
}

/*
 * Gives s room for n actions (n >= s->n), and for their hashes unless s
 * is unhashed, keeping the s->n it holds: cold memory in cold_dir where
 * that can be had (what is cold grows in its file), else malloc's, of
 * exactly n. Returns 0 or -ENOMEM (then s holds what it held).
 */
static int store_room(struct tkl_store *s, size_t n, const char *cold_dir)
{
    if (!n)
        return 0;
    if (n > SIZE_MAX / sizeof(*s->actions) || n > SIZE_MAX / (2 * sizeof(*s->hashes)))
        return -ENOMEM;
    int r = place_actions(s, n, cold_dir);
    if (r == 0 && !s->unhashed)
        r = place_hashes(s, n, cold_dir);
    return r;
}

/* A reading of plans by opts, with no row read yet: its arena in cold
 * memory when opts say so (a store read once is never). */
static struct tkl_rows rows_new(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                                struct tkl_diags *diags, const struct tkl_store *prev)
{
    struct tkl_rows R = {.opts = opts, .teams = teams, .diags = diags, .prev = prev};
    R.arena.cold_dir = opts && !opts->once ? opts->cold_dir : NULL;
    return R;
}

/* The store of the actions R read, which it takes. Returns 0 or -ENOMEM. */
static int store_finish(struct tkl_rows *R, struct tkl_store **ret_store)
{
    /* a warning that could not be recorded would be a row problem nobody
     * hears of: the load fails instead */
    if (R->diags->oom)
        return -ENOMEM;
    unsigned kept_loads = 0;
    size_t stale = 0;
    if (tkl_rows_settle(R, &kept_loads, &stale) < 0)
        return -ENOMEM;
    struct tkl_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->n = R->n_actions;
    s->hashes_fd = -1;
    s->cold_error = R->cold_error;
    tkl_rows_hand_actions(R, &s->actions, &s->actions_cold, &s->actions_fd);
    s->maps = R->maps;
    s->n_maps = R->n_maps;
    R->maps = NULL;
    R->n_maps = 0;
    s->arena = R->arena;
    memset(&R->arena, 0, sizeof(R->arena));
    s->unhashed = R->opts && R->opts->once;
    s->n_kept_loads = kept_loads;
    s->n_stale = stale;
    s->hashes = R->hashes;
    s->row_hashes = R->row_hashes;
    R->hashes = NULL;
    R->row_hashes = NULL;
    /* the arrays grew by doubling: what they hold is all they keep */
    int r = store_room(s, s->n, s->arena.cold_dir);
    if (r < 0) {
        tkl_store_free(s);
        return r;
    }
    s->n_events = R->n_events;
    s->n_unmatched = R->n_unmatched;
    r = tkl_store_index(s, R->id_hashes, R->diags);
    if (r == 0 && R->diags->oom)
        r = -ENOMEM;
    if (r < 0) {
        tkl_store_free(s);
        return r;
    }
    *ret_store = s;
    return 0;
}

int tkl_store_append(struct tkl_store *s, struct tkl_action *v, size_t n, struct tkl_diags *diags)
{
    if (!n)
        return 0;
    if (n > SIZE_MAX - s->n)
        return -ENOMEM;
    int r = store_room(s, s->n + n, s->arena.cold_dir);
    if (r < 0)
        return r;
    struct tkl_action *all = s->actions;
    size_t events = 0, unmatched = 0;
    for (size_t i = 0; i < n; i++) {
        struct tkl_action *a = &all[s->n + i];
        if (tkl_action_compact(a, &v[i], &s->arena) < 0)
            return -ENOMEM; /* what was copied stays in the arena, unused */
        if (s->hashes) {
            s->hashes[s->n + i] = tkl_action_hash(a);
            s->row_hashes[s->n + i] = 0; /* not read from a row */
        }
        events += a->deadline.kind == TKL_DEADLINE_EVENT;
        unmatched += tkl_action_rare(a)->n_unmatched;
    }
    s->n += n;
    r = tkl_store_index(s, NULL, diags);
    if (r < 0) {
        s->n -= n;
        return r;
    }
    s->n_events += events;
    s->n_unmatched += unmatched;
    for (size_t i = 0; i < n; i++)
        tkl_action_free(&v[i]);
    return 0;
}

void tkl_store_bytes(const struct tkl_store *store, size_t *ret_cold, size_t *ret_private)
{
    tkl_arena_bytes(&store->arena, ret_cold, ret_private);
    if (store->actions_cold)
        *ret_cold += store->actions_cold;
    else
        *ret_private += store->n * sizeof(*store->actions);
    if (store->hashes_cold)
        *ret_cold += store->hashes_cold;
    else if (store->hashes)
        *ret_private += 2 * store->n * sizeof(*store->hashes);
}

void tkl_store_free(struct tkl_store *store)
{
    if (!store)
        return;
    release_actions(store);
    release_hashes(store);
    free(store->index);
    for (size_t i = 0; i < store->n_maps; i++)
        tkl_column_map_free(&store->maps[i]);
    free(store->maps);
    tkl_arena_free(&store->arena);
    for (size_t i = 0; i < store->n_reads; i++)
        free(store->reads[i].path);
    free(store->reads);
    free(store);
}

int tkl_store_load_buffer(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                          const char *file, const char *data, size_t len,
                          struct tkl_store **ret_store, struct tkl_diags *diags)
{
    struct tkl_rows R = rows_new(opts, teams, diags, NULL);
    int r = tkl_rows_read(&R, file, data, len);
    if (r == 0)
        r = store_finish(&R, ret_store);
    tkl_rows_free(&R);
    return r;
}

/* fd open for reading the regular file at path into *ret_fd. Returns 0,
 * -ENODEV when it is not a regular file (a FIFO would block the loop for
 * ever, a device never end) or another negative errno. */
static int open_file(const char *path, int *ret_fd, struct stat *ret_st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : ENODEV;
    if (e) {
        close(fd);
        return -e;
    }
    *ret_fd = fd;
    *ret_st = st;
    return 0;
}

/* The content of the regular file at path, and fstat(2) of it into
 * *ret_st. Returns 0, -ENODEV (see open_file), -ENOMEM or another negative
 * errno. */
static int read_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st)
{
    int fd = -1, e;
    int r = open_file(path, &fd, ret_st);
    if (r < 0)
        return r;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        e = errno;
        close(fd);
        return -e;
    }
    struct tkl_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((r = tkl_buf_append(&b, chunk, n)) < 0)
            break;
    if (r == 0 && ferror(f))
        r = -EIO;
    (void)fclose(f); /* read only: the data were checked with ferror() */
    if (r < 0) {
        tkl_buf_free(&b);
        return r;
    }
    *ret_len = b.len;
    *ret = tkl_buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

/* The files a load reads: each path, and the place its problems are
 * named by (NULL: the path itself). */
struct plan_files {
    struct plan_file {
        char *path, *place;
        bool url;       /* the cached copy of a plan at a URL */
        bool read;      /* read whole from path, which was st then */
        bool unsettled; /* it looked caught while being saved (tkl_diags) */
        struct stat st;
        /* what the first read of it met (or finding it: a file gone), and
         * the problems it told, diags[diag_lo, diag_hi) of that read */
        int err;
        size_t diag_lo, diag_hi;
        char *copy;              /* the copy read instead (keep.h), or NULL */
        size_t copy_lo, copy_hi; /* the problems its copy's read told */
        size_t act_lo, act_hi;   /* its actions, of the last read's */
    } * v;
    size_t n;
};

/* Appends path and place, which it takes (also on failure). Returns 0 or
 * -ENOMEM. */
static int plan_files_push(struct plan_files *pf, char *path, char *place)
{
    struct plan_file *v = realloc(pf->v, (pf->n + 1) * sizeof(*v));
    if (!v) {
        free(path);
        free(place);
        return -ENOMEM;
    }
    pf->v = v;
    v[pf->n++] = (struct plan_file){.path = path, .place = place};
    return 0;
}

static void plan_files_free(struct plan_files *pf)
{
    for (size_t i = 0; i < pf->n; i++) {
        free(pf->v[i].path);
        free(pf->v[i].place);
        free(pf->v[i].copy);
    }
    free(pf->v);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct plan_file *)a)->path, ((const struct plan_file *)b)->path);
}

/* The readers of plan files, by the file name's ending (any case). A file
 * whose name has none of them is read as CSV. A reader of workbooks takes
 * a sheet's name after '#'. */
struct reader {
    const char *ext;
    tkl_plan_read_fn *read;
    bool sheets;
};

static const struct reader readers[] = {
    {".csv", tkl_rows_read, false},
    {".xlsx", tkl_xlsx_read, true},
    {".ods", tkl_ods_read, true},
    {".docx", tkl_docx_read, false},
};

/* The reader of the first l bytes of file, or NULL. */
static const struct reader *reader_for_n(const char *file, size_t l)
{
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
        size_t e = strlen(readers[i].ext);
        if (l > e && strncasecmp(file + l - e, readers[i].ext, e) == 0)
            return &readers[i];
    }
    return NULL;
}

/* The reader of a file's path (never with a sheet's name after it). */
static const struct reader *reader_for(const char *path)
{
    return reader_for_n(path, strlen(path));
}

size_t tkl_store_path_len(const char *entry)
{
    /* a URL's fragment is never sent: it names the sheet, whatever the
     * URL's path ends with (a SharePoint link's names no format) */
    if (tkl_remote_is_url(entry))
        return strcspn(entry, "#");
    for (const char *h = strchr(entry, '#'); h; h = strchr(h + 1, '#')) {
        const struct reader *rd = reader_for_n(entry, (size_t)(h - entry));
        if (rd && rd->sheets)
            return (size_t)(h - entry);
    }
    return strlen(entry);
}

bool tkl_store_is_plan(const char *name)
{
    /* "~$plan.xlsx" is the owner (lock) file Word and Excel keep beside a
     * document open for editing, not a plan */
    return strncmp(name, "~$", 2) != 0 && reader_for(name) != NULL;
}

const char *const *tkl_store_endings(void)
{
    static const char *endings[sizeof(readers) / sizeof(readers[0]) + 1];
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
        endings[i] = readers[i].ext;
    return endings;
}

/* A URL of store.files: its cached copy, fetched just now or by the
 * daemon, pushed with the place to name it by. */
static int expand_url(const struct tkl_store_opts *opts, const char *url, struct plan_files *pf,
                      struct tkl_diags *diags)
{
    int r = 0;
    char *place = tkl_remote_place(url), *path = NULL;
    if (!place)
        return -ENOMEM;
    const char *const *exts = tkl_store_endings();
    if (!(path = tkl_remote_cached(opts->fresh_dir, url, exts, &r)) && r == 0)
        path = tkl_remote_cached(opts->cache_dir, url, exts, &r);
    if (!path) {
        if (r == 0) {
            tkl_diag_add(diags, TKL_SEV_ERROR, place, 0, NULL,
                         "not fetched yet: no copy of this plan in %s",
                         opts->cache_dir ? opts->cache_dir : "the state directory");
            r = -ENOENT;
        }
        free(place);
        return r;
    }
    r = plan_files_push(pf, path, place);
    if (r == 0)
        pf->v[pf->n - 1].url = true;
    return r;
}

/* Lists the plan files of directory path (tkl_store_is_plan; not hidden
 * files), sorted. */
static int list_dir(const char *path, struct plan_files *pf, struct tkl_diags *diags)
{
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot list the store directory: %s",
                     strerror(e));
        return -e;
    }
    size_t first = pf->n;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d)) && r == 0) {
        if (de->d_name[0] == '.' || !tkl_store_is_plan(de->d_name))
            continue;
        char *full = NULL;
        if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
            r = -ENOMEM;
        else
            r = plan_files_push(pf, full, NULL);
    }
    closedir(d);
    if (r == 0 && pf->n == first)
        tkl_diag_add(diags, TKL_SEV_WARNING, path, 0, NULL, "no plan files in this directory");
    if (pf->n > first)
        qsort(pf->v + first, pf->n - first, sizeof(pf->v[0]), cmp_file);
    return r;
}

/* Whether the directory of the file at path is there. */
static bool dir_there(const char *path)
{
    char *dir = tkl_path_dir(path);
    struct stat st;
    bool there = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(dir);
    return there;
}

/* Expands a store.files entry: a URL is its cached copy; a file (with any
 * sheet named after it: the place it is read by) is itself; a directory
 * is its plan files. */
static int expand_path(const struct tkl_store_opts *opts, const char *entry, struct plan_files *pf,
                       struct tkl_diags *diags)
{
    if (tkl_remote_is_url(entry))
        return expand_url(opts, entry, pf, diags);
    size_t pl = tkl_store_path_len(entry);
    char *path = strndup(entry, pl);
    if (!path)
        return -ENOMEM;
    struct stat st;
    int r = 0;
    if (stat(path, &st) < 0) {
        r = -errno;
        size_t lo = diags->n;
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot read the store: %s",
                     strerror(-r));
        /* a file gone from its directory (moved, deleted) is read from
         * its copy when copies are kept and it has one: listed with what
         * finding it met. Not one whose directory is gone (a share not
         * mounted): the store's files could not be watched, and the start
         * is refused until it is back */
        if (opts->keep_dir && dir_there(path)) {
            char *place = entry[pl] ? strdup(entry) : NULL;
            if (entry[pl] && !place) {
                free(path);
                return -ENOMEM;
            }
            int e = plan_files_push(pf, path, place);
            if (e < 0)
                return e;
            struct plan_file *f = &pf->v[pf->n - 1];
            f->err = r;
            f->diag_lo = lo;
            f->diag_hi = diags->n;
            return r;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        char *place = entry[pl] ? strdup(entry) : NULL;
        if (entry[pl] && !place) {
            free(path);
            return -ENOMEM;
        }
        return plan_files_push(pf, path, place);
    } else if (entry[pl] == '#') {
        tkl_diag_add(diags, TKL_SEV_ERROR, entry, 0, NULL,
                     "is a directory; a sheet can be named only after a workbook's file name");
        r = -EINVAL;
    } else {
        r = list_dir(path, pf, diags);
    }
    free(path);
    return r;
}

int tkl_store_load(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                   struct tkl_store **ret_store, struct tkl_diags *diags)
{
    return tkl_store_reload(opts, teams, NULL, ret_store, diags);
}

/* Reports that the file named place cannot be read for the error r
 * (nothing for -ENOMEM, which is reported as a whole). */
static void cannot_read(struct tkl_diags *diags, const char *place, int r)
{
    if (r != -ENOMEM)
        tkl_diag_add(diags, TKL_SEV_ERROR, place, 0, NULL, "cannot read: %s",
                     r == -ENODEV ? "not a regular file (a directory, FIFO or device)"
                                  : strerror(-r));
}

/* Reads the CSV file at path, named place, 64 KiB at a time into R, and
 * fstat(2) of it into *ret_st. Returns 0, -EILSEQ when it is to be read
 * whole (tkl_rows_read_fd), -EINVAL (errors in R->diags), -ENOMEM, or the
 * error of open(2) or read(2), reported. */
static int read_csv(struct tkl_rows *R, const char *path, const char *place, struct stat *ret_st)
{
    int fd = -1;
    int r = open_file(path, &fd, ret_st);
    if (r == 0) {
        r = tkl_rows_read_fd(R, place, fd);
        close(fd);
    }
    if (r < 0 && r != -EILSEQ && r != -EINVAL)
        cannot_read(R->diags, place, r);
    return r;
}

/* Reads one plan file, from file (its path or its copy), named place,
 * into R; fstat(2) of what was read into *ret_st. Returns 0 or a negative
 * errno (reported). */
static int read_plan_file(struct tkl_rows *R, const char *file, const char *place,
                          const struct reader *rd, struct stat *ret_st)
{
    bool csv = !rd || rd->read == tkl_rows_read;
    int r = csv ? read_csv(R, file, place, ret_st) : -EILSEQ;
    if (r == -EILSEQ) {
        char *data = NULL;
        size_t len = 0;
        if ((r = read_file(file, &data, &len, ret_st)) == 0)
            r = (rd ? rd->read : tkl_rows_read)(R, place, data, len);
        else
            cannot_read(R->diags, place, r);
        free(data);
    }
    return r;
}

/* Whether v[0..n) holds id (v: FNV-1a slots of texts, a power of two). */
static bool id_slot(const char **v, size_t cap, const char *id, bool add)
{
    size_t i = (size_t)tkl_fnv1a(TKL_FNV_INIT, id, strlen(id)) & (cap - 1);
    for (; v[i]; i = (i + 1) & (cap - 1))
        if (!strcmp(v[i], id))
            return true;
    if (add)
        v[i] = id;
    return false;
}

/*
 * A read with copies: -EEXIST, said in diags, when an action read from a
 * copy has the id (as written: before ids are made distinct) of one read
 * from a file as it is: a row moved between the files while the first
 * could not be read, which the copy still holds, would be reminded of
 * twice under two ids. Else 0, or -ENOMEM.
 */
static int one_id_once(const struct plan_files *pf, const struct tkl_action *actions,
                       struct tkl_diags *diags)
{
    size_t n = 0;
    for (size_t i = 0; i < pf->n; i++)
        n += pf->v[i].copy ? pf->v[i].act_hi - pf->v[i].act_lo : 0;
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    const char **v = calloc(cap, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < pf->n; i++)
        for (size_t k = pf->v[i].act_lo; pf->v[i].copy && k < pf->v[i].act_hi; k++)
            (void)id_slot(v, cap, actions[k].id, true);
    int r = 0;
    for (size_t i = 0; !r && i < pf->n; i++)
        for (size_t k = pf->v[i].act_lo; !r && !pf->v[i].copy && k < pf->v[i].act_hi; k++)
            if (id_slot(v, cap, actions[k].id, false)) {
                tkl_diag_add(diags, TKL_SEV_ERROR, actions[k].file, actions[k].line, "id",
                             "\"%s\" is also in the plan as last read good of a file that "
                             "cannot be read now (moved from it?): that copy is not read in "
                             "its place, as the action would be reminded of twice",
                             actions[k].id);
                r = -EEXIST;
            }
    free(v);
    return r;
}

/* One read of the files of pf into a store: each from its copy when it
 * has one, else from its path, unless finding it failed (f->err with no
 * copy: told then). The first read (first) records in each file what it
 * met. expand_err is the first error of finding the files. Returns 0 or
 * the first error. */
static int read_files(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                      const struct tkl_store *prev, struct plan_files *pf, bool first,
                      int expand_err, struct tkl_store **ret_store, struct tkl_diags *diags)
{
    struct tkl_rows R = rows_new(opts, teams, diags, prev);
    int r = 0, first_err = expand_err;
    for (size_t i = 0; i < pf->n && r != -ENOMEM; i++) {
        struct plan_file *f = &pf->v[i];
        f->read = false;
        if (f->err && !f->copy)
            continue; /* gone: told when it was looked for */
        const char *place = f->place ? f->place : f->path;
        size_t lo = diags->n;
        struct stat st;
        bool unsettled = diags->unsettled;
        diags->unsettled = false;
        f->act_lo = R.n_actions;
        r = read_plan_file(&R, f->copy ? f->copy : f->path, place, reader_for(f->path), &st);
        f->act_hi = R.n_actions;
        f->unsettled = diags->unsettled;
        diags->unsettled = unsettled || f->unsettled;
        if (r == 0 && !f->copy) {
            f->read = true;
            f->st = st;
        }
        if (first) {
            f->err = r;
            f->diag_lo = lo;
            f->diag_hi = diags->n;
        } else if (f->copy) {
            f->copy_lo = lo;
            f->copy_hi = diags->n;
        }
        if (r < 0 && !first_err)
            first_err = r;
    }
    if (r == -ENOMEM)
        first_err = -ENOMEM;
    if (first_err == 0 && opts->n_paths == 0) {
        tkl_diag_add(diags, TKL_SEV_ERROR, NULL, 0, "store.files", "no store files configured");
        first_err = -EINVAL;
    }
    if (first_err == 0 && !first)
        first_err = one_id_once(pf, R.actions, diags);
    if (first_err == 0)
        first_err = store_finish(&R, ret_store);
    tkl_rows_free(&R);
    return first_err;
}

/* The ending of the reader of the file at path, as its copy has it. */
static const char *copy_ending(const char *path)
{
    const struct reader *rd = reader_for(path);
    return rd ? rd->ext : ".csv";
}

/* Whether pf->v[i] is a local file to copy as last read good: read good
 * from its path, whole (not caught while being saved), as was every other
 * entry of the same file (a workbook's sheets), and the first of them. */
static bool to_keep(const struct plan_files *pf, size_t i)
{
    const struct plan_file *f = &pf->v[i];
    if (!f->read || f->url || f->unsettled)
        return false;
    for (size_t j = 0; j < pf->n; j++) {
        const struct plan_file *g = &pf->v[j];
        if (j != i && !strcmp(g->path, f->path) && (j < i || !g->read || g->unsettled))
            return false;
    }
    return true;
}

/* Keeps in store the local files it read from their paths, as read, for
 * tkl_store_keep (to_keep). Returns 0 or -ENOMEM. */
static int note_reads(struct tkl_store *store, const struct plan_files *pf)
{
    size_t n = 0;
    for (size_t i = 0; i < pf->n; i++)
        n += to_keep(pf, i);
    if (!n)
        return 0;
    if (!(store->reads = calloc(n, sizeof(*store->reads))))
        return -ENOMEM;
    for (size_t i = 0; i < pf->n; i++) {
        const struct plan_file *f = &pf->v[i];
        if (!to_keep(pf, i))
            continue;
        struct tkl_store_read *x = &store->reads[store->n_reads];
        if (!(x->path = strdup(f->path)))
            return -ENOMEM;
        x->st = f->st;
        store->n_reads++;
    }
    return 0;
}

/* "2026-12-06 14:03", the local time of t, into buf[32]. */
static const char *local_time(time_t t, char buf[32])
{
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M", &tm))
        snprintf(buf, 32, "an unknown time");
    return buf;
}

/* The file of pf whose first read told diags[k], or NULL (finding the
 * files told it). */
static const struct plan_file *file_of(const struct plan_files *pf, size_t k)
{
    for (size_t i = 0; i < pf->n; i++)
        if (k >= pf->v[i].diag_lo && k < pf->v[i].diag_hi)
            return &pf->v[i];
    return NULL;
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool same_diag(const struct tkl_diag *a, const struct tkl_diag *b)
{
    return a->line == b->line && a->column == b->column && same_text(a->file, b->file) &&
           same_text(a->field, b->field) && same_text(a->message, b->message);
}

/*
 * The first read of pf failed (res, its problems in *first): when each
 * file that failed (or was gone) has a copy as last read good, the files
 * are read again, those from their copies, into *ret_store. Then diags
 * gets the first read's problems of those files as warnings, a warning
 * for each saying its copy is in force, and the second read's problems;
 * and 0 is returned. Otherwise res, with pf and diags as they were.
 */
static int read_copies(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                       const struct tkl_store *prev, struct plan_files *pf,
                       const struct tkl_diags *first, int res, struct tkl_store **ret_store,
                       struct tkl_diags *diags)
{
    size_t n = 0;
    bool all = true;
    for (size_t i = 0; i < pf->n && all; i++) {
        struct plan_file *f = &pf->v[i];
        struct stat st;
        if (!f->err)
            continue;
        if (f->url || f->err == -ENOMEM ||
            !(f->copy = tkl_keep_path(opts->keep_dir, f->path, copy_ending(f->path))) ||
            stat(f->copy, &st) < 0 || !S_ISREG(st.st_mode))
            all = false;
        n++;
    }
    struct tkl_diags second = {0};
    struct tkl_store *st = NULL;
    int r = all && n ? read_files(opts, teams, prev, pf, false, 0, &st, &second) : res;
    if (r < 0) {
        for (size_t i = 0; i < pf->n; i++) {
            free(pf->v[i].copy);
            pf->v[i].copy = NULL;
        }
        /* the first read's problems stand; and why its copies could not */
        for (size_t k = 0; r == -EEXIST && k < second.n; k++)
            if (second.items[k].field && !strcmp(second.items[k].field, "id") &&
                second.items[k].severity == TKL_SEV_ERROR)
                tkl_diag_add_at(diags, TKL_SEV_ERROR, second.items[k].file, second.items[k].line,
                                second.items[k].column, "id", "%s", second.items[k].message);
        tkl_diags_free(&second);
        return r == -ENOMEM ? r : res;
    }
    /* the first read's problems: of finding the files as they were, of
     * those read from copies as warnings; the second read tells the others */
    size_t demoted_lo = diags->n;
    for (size_t k = 0; k < first->n; k++) {
        const struct tkl_diag *g = &first->items[k];
        const struct plan_file *f = file_of(pf, k);
        if (f && !f->copy)
            continue;
        tkl_diag_add_at(diags, f ? TKL_SEV_WARNING : g->severity, g->file, g->line, g->column,
                        g->field, "%s", g->message);
    }
    size_t demoted_hi = diags->n;
    for (size_t i = 0; i < pf->n; i++) {
        const struct plan_file *f = &pf->v[i];
        if (!f->copy)
            continue;
        struct stat cs;
        char when[32];
        tkl_diag_add(diags, TKL_SEV_WARNING, f->place ? f->place : f->path, 0, NULL,
                     "cannot be read, so the file as last read good (saved %s) is in force "
                     "until it can be: mend the file, or take it out of store.files",
                     stat(f->copy, &cs) == 0 ? local_time(cs.st_mtim.tv_sec, when) : "before");
    }
    /* the second read's, but what the copy repeats of the file's own; a
     * copy's own says so, its line being the copy's, not the file's */
    for (size_t k = 0; k < second.n; k++) {
        const struct tkl_diag *g = &second.items[k];
        bool told = false, of_copy = false;
        for (size_t j = demoted_lo; !told && j < demoted_hi; j++)
            told = same_diag(&diags->items[j], g);
        for (size_t i = 0; !of_copy && i < pf->n; i++)
            of_copy = pf->v[i].copy && k >= pf->v[i].copy_lo && k < pf->v[i].copy_hi;
        if (!told)
            tkl_diag_add_at(diags, g->severity, g->file, g->line, g->column, g->field, "%s%s",
                            g->message,
                            of_copy ? " (in the file as last read good, in force)" : "");
    }
    if (second.oom)
        diags->oom = true;
    if (second.unsettled)
        diags->unsettled = true;
    tkl_diags_free(&second);
    st->n_from_copies = n;
    *ret_store = st;
    return 0;
}

int tkl_store_reload(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                     const struct tkl_store *prev, struct tkl_store **ret_store,
                     struct tkl_diags *diags)
{
    struct plan_files pf = {0};
    struct tkl_diags first = {0};
    struct tkl_store *st = NULL;
    int r = 0, expand_err = 0;
    bool each_gone_listed = true; /* each error of finding the files is a file gone, listed */
    for (size_t i = 0; i < opts->n_paths && r != -ENOMEM; i++) {
        size_t before = pf.n;
        r = expand_path(opts, opts->paths[i], &pf, &first);
        if (r < 0 && !expand_err)
            expand_err = r;
        if (r < 0 && (pf.n == before || !pf.v[pf.n - 1].err))
            each_gone_listed = false;
    }
    if (r != -ENOMEM)
        r = read_files(opts, teams, prev, &pf, true, expand_err, &st, &first);
    if (r < 0 && r != -ENOMEM && opts->keep_dir && each_gone_listed && !first.oom) {
        r = read_copies(opts, teams, prev, &pf, &first, r, &st, diags);
        if (r == 0)
            tkl_diags_free(&first);
    }
    tkl_diags_move(diags, &first); /* when read as it is (or not read) */
    if (r == 0 && opts->keep_dir && note_reads(st, &pf) < 0)
        r = -ENOMEM;
    if (r == 0)
        *ret_store = st;
    else
        tkl_store_free(st);
    plan_files_free(&pf);
    return r;
}

int tkl_store_keep(const struct tkl_store *store, const char *state_dir)
{
    int first = 0, kept = 0;
    for (size_t i = 0; i < store->n_reads; i++) {
        const struct tkl_store_read *x = &store->reads[i];
        char *copy = tkl_keep_path(state_dir, x->path, copy_ending(x->path));
        int r = copy ? tkl_keep_save(copy, x->path, &x->st) : -ENOMEM;
        free(copy);
        if (r < 0 && !first)
            first = r;
        kept += r == 0;
    }
    return first ? first : kept;
}

int tkl_store_check_plan(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                         const char *file, const char *place, const char *data, size_t len,
                         struct tkl_diags *diags)
{
    struct tkl_rows R = rows_new(opts, teams, diags, NULL);
    R.arena.cold_dir = NULL; /* checked, then freed */
    struct tkl_store *s = NULL;
    const struct reader *rd = reader_for(file);
    int r = (rd ? rd->read : tkl_rows_read)(&R, place, data, len);
    if (r == 0 && (r = store_finish(&R, &s)) == 0)
        tkl_store_free(s);
    tkl_rows_free(&R);
    return r;
}

int tkl_store_opts_cache_in(struct tkl_store_opts *opts, const char *state_dir)
{
    char *dir = NULL;
    if (asprintf(&dir, "%s/%s", state_dir, TKL_REMOTE_CACHE_SUBDIR) < 0)
        return -ENOMEM;
    free(opts->cache_dir);
    opts->cache_dir = dir;
    return 0;
}

int tkl_store_opts_use_file(struct tkl_store_opts *opts, const char *file)
{
    char **paths = calloc(2, sizeof(*paths));
    if (!paths || !(paths[0] = strdup(file))) {
        free(paths);
        return -ENOMEM;
    }
    for (size_t i = 0; i < opts->n_paths; i++)
        free(opts->paths[i]);
    free(opts->paths);
    opts->paths = paths;
    opts->n_paths = 1;
    return 0;
}

void tkl_store_opts_free(struct tkl_store_opts *opts)
{
    if (!opts)
        return;
    for (size_t i = 0; i < opts->n_paths; i++)
        free(opts->paths[i]);
    free(opts->paths);
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        free(opts->columns[f]);
    for (size_t i = 0; i < opts->n_status_rules; i++)
        free(opts->status_rules[i].text);
    free(opts->status_rules);
    free(opts->cache_dir);
    free(opts->fresh_dir);
    free(opts->fetch.token_file);
    free(opts->fetch.ca_file);
    free(opts->fetch.config_dir);
    memset(opts, 0, sizeof(*opts));
}
