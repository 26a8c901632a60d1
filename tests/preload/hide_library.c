/* An LD_PRELOAD shim for the integration tests: dlopen fails, as for a
 * library that is not installed, for each file name that begins with one
 * of the comma-separated names in TICKLER_TEST_HIDE ("libpq.so,libzip.so"),
 * and dlerror says so once. Every other call goes to the C library. It
 * tests what tickler says when a library it opens when first needed
 * (daemon/dynlib/) is missing, at the places that need it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char message[256];
static __thread bool pending;

static bool hidden(const char *file)
{
    const char *list = getenv("TICKLER_TEST_HIDE");
    if (!file || !list)
        return false;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n && strncmp(base, p, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

void *dlopen(const char *file, int mode)
{
    static void *(*real)(const char *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "dlopen");
    if (hidden(file)) {
        (void)snprintf(message, sizeof(message),
                       "%s: cannot open shared object file: No such file or directory "
                       "(hidden by the test)",
                       file);
        pending = true;
        return NULL;
    }
    return real ? real(file, mode) : NULL;
}

char *dlerror(void)
{
    static char *(*real)(void);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "dlerror");
    if (pending) {
        pending = false;
        return message;
    }
    return real ? real() : NULL;
}
