/*
 * The daemon's threads besides the loop's (the transfer thread, the
 * prefault thread of a large load): started alike, so that every signal
 * the process handles stays the loop thread's.
 */
#ifndef TICKLER_CORE_THREAD_H
#define TICKLER_CORE_THREAD_H

#include <pthread.h>
#include <stddef.h>

/*
 * Starts fn(arg) on a new thread named name (cut to 15 bytes, as top -H
 * and /proc/PID/task/TID/comm show it) that takes no signal but its own
 * faults (SIGSEGV, SIGBUS, ...: a blocked fault would end the process
 * without its handlers, the sanitizers' or a core dump's, running), with a
 * stack of stack_size bytes (0: the default). The calling thread's signal
 * mask is as it was on return. Returns 0 and the thread in *ret, or a
 * negative errno (then no thread runs).
 */
int tkl_thread_start(pthread_t *ret, const char *name, size_t stack_size, void *(*fn)(void *),
                     void *arg);

#endif
