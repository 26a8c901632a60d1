/*
 * The state directory's lock: one ticklerd a state directory. Two daemons
 * on one outbox would each take the other's notices in flight for lost
 * and send them again. The lock is flock(2) on TKL_DIRLOCK_FILE in the
 * directory, held by an open descriptor: it goes with the process, however
 * the process ends, and a daemon killed leaves nothing to clean up. The
 * file holds the holder's pid, for the message of the one refused.
 */
#ifndef TKL_CORE_DIRLOCK_H
#define TKL_CORE_DIRLOCK_H

#include <sys/types.h>

#define TKL_DIRLOCK_FILE "ticklerd.lock"

/*
 * Takes the lock of dir for this process and writes its pid into the
 * file: 0 and the descriptor holding it in *ret_fd (closing it lets go).
 * -EBUSY when another process holds it (still after a second: a look of
 * tkl_dirlock_holder holds it a moment), its pid in *ret_holder (0 when
 * it could not be read); another negative errno when the file cannot be
 * opened or locked.
 */
int tkl_dirlock_take(const char *dir, int *ret_fd, pid_t *ret_holder);

/*
 * Whether a process holds the lock of dir (a ticklerd runs on it), read
 * only: 1 with its pid in *ret_holder (0 when it could not be read), 0 when
 * none does or there is no lock file, or a negative errno when the file
 * cannot be opened or tried. Creates nothing; holds nothing on return.
 */
int tkl_dirlock_holder(const char *dir, pid_t *ret_holder);

#endif
