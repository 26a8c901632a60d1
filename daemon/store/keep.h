/*
 * Copies of local plan files as last read good, kept in the daemon's state
 * directory (beside the cached copies of plans at URLs, remote.h): what a
 * start or a reload reads instead of a plan file that cannot be read (half
 * edited, saved broken, gone with an unmounted share), so that the
 * reminders go on from the plan as it last stood. A copy is named by a
 * hash of the file's path (never the path itself) with the file's ending,
 * so that the store's readers read it as they read the file.
 */
#ifndef TKL_STORE_KEEP_H
#define TKL_STORE_KEEP_H

#include <sys/stat.h>

/* The copy of the plan file at path, read by the reader of ending ext
 * (".csv", ".xlsx"...): state_dir/plans/<hex of SHA-256 of "file:" and
 * the path, its directory resolved (realpath(3), when it is there)><ext>,
 * so that the daemon and a check run by hand from another directory name
 * the same copy. Returns a new string or NULL (out of memory). */
char *tkl_keep_path(const char *state_dir, const char *path, const char *ext);

/*
 * Makes copy (a tkl_keep_path) a copy of the file at path as it was read,
 * as_read being fstat(2) of the descriptor it was read from: nothing is
 * written when copy is of that file already (its size and modification
 * time), nor when the file has changed since (another read follows). The
 * copy is written to copy.tmp in its directory (made, mode 0700,
 * when absent), mode 0600, with the file's modification time, and renamed
 * over the old one, so a copy is whole or absent; it is not flushed to
 * disk (after a power cut the copy may be the one before, or empty:
 * then it fails to read, as the file did). Returns 0 (made, or of the file
 * already), 1 (the file changed since it was read: nothing written), or a
 * negative errno.
 */
int tkl_keep_save(const char *copy, const char *path, const struct stat *as_read);

#endif
