/*
 * The action store: one or more plan files (CSV exported from a council's
 * spreadsheet, or the .xlsx or .ods workbook itself) read into actions.
 *
 * Loading never drops a row silently. Every row that holds text becomes an
 * action or a warning naming its file and line; text tickler cannot read
 * (a deadline, a status, an owner) is kept as written, with a warning.
 * A file that cannot be read at all (no header with an action column, bad
 * quoting at the end, an I/O error) fails the whole load with an error, so
 * that the caller keeps its last good store.
 *
 * The steps of a load, one file each: csv.c reads the text into records,
 * row.c turns records into actions (heading.c names the columns,
 * deadline.c and status.c read the cells, action.c holds one action),
 * index.c makes ids distinct and findable; this file (store.c) ties them
 * together and owns the result.
 */
#ifndef TKL_STORE_H
#define TKL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../core/diag.h"
#include "../team/team.h"
#include "action.h"
#include "deadline.h"
#include "heading.h"
#include "status.h"

/* How the https:// entries of store.files are fetched (fetch.h). */
struct tkl_fetch_opts {
    int interval_s;   /* between polls */
    char *token_file; /* bearer token: a file or "credential:NAME", or NULL */
    char *ca_file;    /* CA certificates to verify the servers by, or NULL: the system's */
    long max_bytes;   /* a larger plan is refused */
    char *config_dir; /* a relative token_file is read from here */
};

#define TKL_FETCH_INTERVAL_DEFAULT  300
#define TKL_FETCH_MAX_BYTES_DEFAULT (20L << 20)

struct tkl_store_opts {
    char **paths; /* plan files ("plan.xlsx#Sheet" for a named sheet), directories of them,
                     or https:// URLs */
    size_t n_paths;
    /* a URL is read from its cached copy (remote.h), looked for in
     * fresh_dir (copies tickler fetched just now), then in cache_dir (the
     * daemon's, under its state directory); either may be NULL */
    char *cache_dir;
    char *fresh_dir;
    struct tkl_fetch_opts fetch;
    char *columns[TKL_FIELD_COUNT]; /* heading per field, or NULL */
    struct tkl_status_rule *status_rules;
    size_t n_status_rules;
    /* the store is read once and never reloaded (tickler's commands): the
     * hashes only a reload compares (an action's and its row's) are not
     * kept (the store is unhashed) */
    bool once;
    /* the daemon's state directory, where a store keeps its actions, their
     * hashes and their texts in cold memory (core/mem.h), or NULL: all in
     * private memory. Not owned: it outlives every store loaded with it. */
    const char *cold_dir;
    /* the daemon's state directory, whose plans/ holds a copy of each
     * local plan file as last read good (keep.h; tkl_store_keep writes
     * them), or NULL: none. When a load fails and every file that failed,
     * or is gone, has its copy, the files are read again with those from
     * their copies: the load succeeds, telling the failures as warnings,
     * and one for each such file. Not owned. */
    const char *keep_dir;
    /* the caller puts no store read so in force when it looks caught
     * while a file was being saved (tkl_diags.unsettled), but reads the
     * files again later: a CSV that ends inside a quoted field is then
     * read as one such (tkl_csv_read's may_hold), not refused as a quote
     * never closed */
    bool may_hold;
};

/* A local plan file a load read from its path, and fstat(2) of it then. */
struct tkl_store_read {
    char *path;
    struct stat st;
};

struct tkl_store {
    struct tkl_action *actions; /* their texts in arena (or the arenas it keeps) */
    size_t n;
    size_t n_events;    /* of the n, actions of kind event (observances) */
    size_t n_unmatched; /* owner names that matched no team, over the n */
    uint32_t *index;    /* open-addressing table of action indexes by id (index.c) */
    size_t index_cap;
    unsigned index_bits;         /* the width of an action's index in a slot */
    struct tkl_column_map *maps; /* the header row of each plan file, in order */
    size_t n_maps;
    struct tkl_arena arena;
    /* by action index: tkl_action_hash of each action (what a reload
     * compares), and the hash of the row it was read from when the next
     * load may take it for an identical row without reading it again (row.c),
     * else 0; both NULL when the store is unhashed */
    uint64_t *hashes;
    uint64_t *row_hashes;
    bool unhashed; /* read with opts once: no action has a hash */
    /* the bytes of the block of cold memory (core/mem.h) actions is, the
     * first of the cold file actions_fd, or 0: malloc's (and no file) */
    size_t actions_cold;
    int actions_fd;
    /* the same for hashes, row_hashes in the same block after room for
     * hashes_cold / 16 hashes */
    size_t hashes_cold;
    int hashes_fd;
    /* why the last try for cold memory failed (a negative errno:
     * tkl_mem_cold_open's or tkl_mem_cold_grow's), or 0 */
    int cold_error;
    /* the loads before it whose arenas arena keeps (tkl_arena_keep): the
     * actions a reload took as they were keep their texts there; and of
     * how many actions arena and those it keeps hold texts that no action
     * of this store reads (row.c, tkl_rows_settle) */
    unsigned n_kept_loads;
    size_t n_stale;
    /* with opts keep_dir: the local plan files read from their paths, as
     * read (what tkl_store_keep copies), and how many entries of
     * store.files were read from their copies instead */
    struct tkl_store_read *reads;
    size_t n_reads;
    size_t n_from_copies;
};

/*
 * Makes the copies of the plan files store read from their paths, as last
 * read good, in state_dir/plans (keep.h): each file read good and whole
 * (not one that looked caught while being saved, nor a workbook one of
 * whose sheets named in store.files could not be read) whose copy is of
 * an older file and that has not changed since it was read. Returns how
 * many files' copies are now of them (0 or more), or the first negative
 * errno met (the other files are copied still).
 */
int tkl_store_keep(const struct tkl_store *store, const char *state_dir);

/* The bytes store holds its actions, their hashes and their texts in (its
 * index and column maps aside): in cold memory into *ret_cold (files of
 * the state directory, core/mem.h), else into *ret_private. */
void tkl_store_bytes(const struct tkl_store *store, size_t *ret_cold, size_t *ret_private);

/* The hash of store->actions[k] (tkl_action_hash), or 0 when the store is
 * unhashed. */
static inline uint64_t tkl_store_hash(const struct tkl_store *store, size_t k)
{
    return store->hashes ? store->hashes[k] : 0;
}

/*
 * Loads every configured file. On success *ret_store holds the actions and
 * diags holds the warnings. On failure diags holds the errors, *ret_store
 * is untouched, and the return is -ENOMEM or the first error met (paths
 * are looked at before files are read): the errno of a path or file that
 * cannot be read, or -EINVAL for a file that is not a plan or when no
 * files are configured.
 */
int tkl_store_load(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                   struct tkl_store **ret_store, struct tkl_diags *diags);

/*
 * tkl_store_load, reading again only the rows that changed since prev (the
 * store in force, or NULL): a row identical to one of prev's, under the
 * same teams, columns and status rules, with the same texts carried down
 * to it, and that had no warning, takes prev's action as read then (its
 * deadline, status and teams) at its new line. The result is the store a
 * full load gives. prev is only read, and may be freed once this returns.
 */
int tkl_store_reload(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                     const struct tkl_store *prev, struct tkl_store **ret_store,
                     struct tkl_diags *diags);

/* Reads one CSV buffer (used by tests and fuzzers); file names the source. */
int tkl_store_load_buffer(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                          const char *file, const char *data, size_t len,
                          struct tkl_store **ret_store, struct tkl_diags *diags);

/*
 * Appends n actions to store. On success the store has taken what they
 * held (copied into its arena and freed: the caller frees only the array
 * v); an id that repeats one before it is
 * renamed as the loader renames it, with a warning in diags. Returns 0 or
 * -ENOMEM: then the store is unchanged and the actions stay the caller's.
 */
int tkl_store_append(struct tkl_store *store, struct tkl_action *v, size_t n,
                     struct tkl_diags *diags);

void tkl_store_free(struct tkl_store *store);

/* The action with this id, or NULL (index.c). */
const struct tkl_action *tkl_store_find(const struct tkl_store *store, const char *id);

/* The action of store with the id of from->actions[k] (k < from->n), or
 * NULL: the one at the same place when its id is the same (ids are
 * distinct in a store, and a reload that changes a few rows leaves the
 * others in their places), else found by id. */
const struct tkl_action *tkl_store_counterpart(const struct tkl_store *store,
                                               const struct tkl_store *from, size_t k);

/*
 * Reads one plan held in data[0..len) with the reader file's ending names,
 * its problems named after place, and drops the result: whether it is a
 * plan (0), or -EINVAL (errors in diags) or -ENOMEM.
 */
int tkl_store_check_plan(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                         const char *file, const char *place, const char *data, size_t len,
                         struct tkl_diags *diags);

/* The file name endings the store has a reader for, NULL-terminated. */
const char *const *tkl_store_endings(void);

/* Sets opts->cache_dir to state_dir/plans. Returns 0 or -ENOMEM (then
 * opts is unchanged). */
int tkl_store_opts_cache_in(struct tkl_store_opts *opts, const char *state_dir);

/* Reads file (a CSV file or a directory) instead of the configured ones
 * (tickler --store). Returns 0 or -ENOMEM (then opts is unchanged). */
int tkl_store_opts_use_file(struct tkl_store_opts *opts, const char *file);

void tkl_store_opts_free(struct tkl_store_opts *opts);

/*
 * The length of the file's path at the start of a store.files entry. An
 * entry names a sheet after the first '#' that follows a spreadsheet's
 * ending ("plan.xlsx#Sheet name", "plan.ods#Actions"), and a URL (or the
 * place it is shown as) after its first '#', whatever its path ends with:
 * its fragment, which is never sent. Any other entry is a path whole. The path is what is opened,
 * read and watched.
 */
size_t tkl_store_path_len(const char *entry);

/* Whether a file name has the ending of a plan format tickler reads (.csv,
 * .xlsx, .ods, any case) and is no Office owner file ("~$plan.xlsx"): a
 * directory's plan files. */
bool tkl_store_is_plan(const char *name);

#endif
