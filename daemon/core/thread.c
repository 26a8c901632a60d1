#include "thread.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>

int tkl_thread_start(pthread_t *ret, const char *name, size_t stack_size, void *(*fn)(void *),
                     void *arg)
{
    pthread_attr_t attr;
    int e = pthread_attr_init(&attr);
    if (e)
        return -e;
    long least = PTHREAD_STACK_MIN; /* a call to sysconf in glibc since 2.34 */
    if (stack_size && least > 0 && stack_size < (size_t)least)
        stack_size = (size_t)least;
    if (stack_size && (e = pthread_attr_setstacksize(&attr, stack_size))) {
        (void)pthread_attr_destroy(&attr);
        return -e;
    }
    sigset_t all, old;
    sigfillset(&all);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
    for (size_t i = 0; i < sizeof(faults) / sizeof(*faults); i++)
        sigdelset(&all, faults[i]);
    /* the new thread inherits the mask it is created under */
    if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
        e = pthread_create(ret, &attr, fn, arg);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL); /* a mask it took a moment ago */
    }
    (void)pthread_attr_destroy(&attr);
    if (e)
        return -e;
    /* a name for people only: cut to what the kernel keeps, never a failure */
    char comm[16];
    snprintf(comm, sizeof(comm), "%s", name);
    (void)pthread_setname_np(*ret, comm);
    return 0;
}
