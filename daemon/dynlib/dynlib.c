#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* dlsym returns an object pointer; POSIX guarantees a function pointer
 * survives the round trip, which this relies on. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers are not data sized");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void clear_all(const struct tkl_dynlib *lib)
{
    void *none = NULL;
    for (size_t i = 0; i < lib->n_syms; i++)
        memcpy(lib->syms[i].slot, &none, sizeof(none));
}

static int open_locked(struct tkl_dynlib *lib, char *err, size_t size)
{
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        (void)snprintf(err, size, "%s needs %s (Debian package %s), which cannot be loaded: %s",
                       lib->purpose, lib->soname, lib->package, e ? e : "unknown dlopen error");
        return -ELIBACC;
    }
    for (size_t i = 0; i < lib->n_syms; i++) {
        (void)dlerror();
        void *v = dlsym(h, lib->syms[i].name);
        if (!v) {
            (void)snprintf(err, size,
                           "%s needs %s (Debian package %s) with %s(), which the one installed "
                           "lacks: too old?",
                           lib->purpose, lib->soname, lib->package, lib->syms[i].name);
            clear_all(lib);
            (void)dlclose(h);
            return -ELIBBAD;
        }
        memcpy(lib->syms[i].slot, &v, sizeof(v));
    }
    if (lib->init) {
        int r = lib->init(err, size);
        if (r < 0) {
            clear_all(lib);
            (void)dlclose(h);
            return r;
        }
    }
    lib->handle = h;
    __atomic_store_n(&lib->loaded, true, __ATOMIC_RELEASE);
    return 0;
}

int tkl_dynlib_load(struct tkl_dynlib *lib, char *err, size_t size)
{
    if (__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE))
        return 0;
    int r = pthread_mutex_lock(&lock);
    if (r != 0) {
        (void)snprintf(err, size, "%s: cannot load %s: %s", lib->purpose, lib->soname, strerror(r));
        return -r;
    }
    r = lib->loaded ? 0 : open_locked(lib, err, size);
    (void)pthread_mutex_unlock(&lock);
    return r;
}

bool tkl_dynlib_loaded(struct tkl_dynlib *lib)
{
    return __atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE);
}
