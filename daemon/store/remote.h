/*
 * Plans at a URL: the parts of fetching an https:// entry of store.files
 * that need no network. What may be shown of a URL (scheme://host/path:
 * never its query, which carries SharePoint's secrets, nor its userinfo),
 * the plan's format from the URL, Content-Disposition or Content-Type,
 * and the cached copy in the state directory, written atomically and
 * named so that the store's readers pick it by its ending.
 */
#ifndef TKL_REMOTE_H
#define TKL_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Directory of the cached copies under the state directory. */
#define TKL_REMOTE_CACHE_SUBDIR "plans"

/* True when path is a URL (it names a scheme: "xxx://"). */
bool tkl_remote_is_url(const char *path);

/*
 * Checks a URL of store.files: https only, with a host. Returns 0, or
 * -EINVAL with why (no secret in it) in err[0..size).
 */
int tkl_remote_check_url(const char *url, char *err, size_t size);

/*
 * What may be shown of url: scheme://host[:port], the path's file name
 * ("/…/plan.xlsx", or "/…" when its last segment is none: the path of a
 * shared link is its key), then "#fragment" when it has one (a sheet's
 * name). Userinfo, query and the rest of the path never. Returns a
 * new string, "(a URL tickler cannot read)" for one curl refuses, "(a URL:
 * libcurl cannot be loaded to read it)" when libcurl cannot be loaded
 * (tkl_remote_check_url says why), or NULL (out of memory).
 */
char *tkl_remote_place(const char *url);

/*
 * The plan's format as a file name ending (".csv", ".xlsx", ".ods",
 * ".docx"): from the URL's path when it ends in one, else the file name
 * of content_disposition, else content_type (each may be NULL). Returns a
 * static string, or NULL when none tells.
 */
const char *tkl_remote_format(const char *url, const char *content_disposition,
                              const char *content_type);

/* Creates dir (0700) unless it exists, and its parent (the state
 * directory, on a first start) likewise; dir is changed while it runs and
 * given back as it was. Returns 0 or a negative errno. */
int tkl_remote_ensure_dir(char *dir);

/* Writes len bytes of data to fd, again after an interrupted or short
 * write. Returns 0 or a negative errno (the write's own: ENOSPC,
 * EFBIG). */
int tkl_remote_write_all(int fd, const char *data, size_t len);

/* Flushes the directory path is in, so that a rename in it lasts.
 * Returns 0 or a negative errno. */
int tkl_remote_sync_dir(const char *path);

/*
 * The cached copy's path without its ending: dir/<hex of SHA-256 of the
 * URL>. The URL itself (secrets and all) never appears in a file name.
 * Returns a new string or NULL (out of memory).
 */
char *tkl_remote_cache_stem(const char *dir, const char *url);

/*
 * Writes data as the cached copy stem + ext atomically (a temporary file
 * written, flushed and renamed over it, the directory flushed), with
 * modification time mtime when it is not 0, and removes copies of stem
 * with another of the endings in exts (a NULL-terminated list). Creates
 * dir when absent (mode 0700). Returns 0 or a negative errno.
 */
int tkl_remote_save(const char *stem, const char *ext, const char *const *exts, const char *data,
                    size_t len, int64_t mtime);

/*
 * The cached copy of url in dir: stem + the first of exts (a
 * NULL-terminated list of endings) that is a regular file. Returns a new
 * string, or NULL when there is none (dir NULL too) or on -ENOMEM (then
 * *err is set to it).
 */
char *tkl_remote_cached(const char *dir, const char *url, const char *const *exts, int *err);

/* Whether the file at path holds exactly data[0..len). */
bool tkl_remote_same(const char *path, const char *data, size_t len);

#endif
