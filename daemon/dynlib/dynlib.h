#ifndef TICKLER_DYNLIB_DYNLIB_H
#define TICKLER_DYNLIB_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Libraries opened when first needed. libcurl, libpq, libxml2 and libzip
 * bring some forty shared libraries with them (Kerberos, LDAP, GnuTLS, ICU);
 * linking them would make every command pay for loading those, about 11 ms
 * of a `tickler upcoming` that reads a CSV file and needs none of them. So
 * the code that uses one calls it through function pointers named
 * sym_<function>, filled all at once by the library's load function when a
 * link, PostgreSQL or a spreadsheet is first met (systemd's dlopen pattern).
 *
 * Each library's header (libcurl.h, libpq.h, libxml.h, libzip.h) lists its
 * functions once, as an X macro, and declares the pointers with
 * TKL_DYNSYM_DECLARE; its source defines them and their table.
 */

#define TKL_DYNSYM_DECLARE(f) extern __typeof__(f) *sym_##f;
#define TKL_DYNSYM_DEFINE(f)  __typeof__(f) *sym_##f;
#define TKL_DYNSYM_ENTRY(f)   {#f, (void *)&sym_##f},

/* One symbol: its name in the library and the address of the pointer
 * (sym_<name>) that receives it. */
struct tkl_dynsym {
    const char *name;
    void *slot;
};

struct tkl_dynlib {
    const char *soname;  /* what dlopen is given: "libpq.so.5" */
    const char *package; /* the Debian package that installs it, for the message */
    const char *purpose; /* what needs it, for the message: "The PostgreSQL backend" */
    const struct tkl_dynsym *syms;
    size_t n_syms;
    /* run once after every symbol is found, under the loader's lock (so it
     * must not load another library); 0 or a negative errno, with a message
     * in err. May be NULL. */
    int (*init)(char *err, size_t size);
    /* kept by tkl_dynlib_load */
    void *handle;
    bool loaded;
};

/*
 * Opens lib and fills every pointer in its table, unless an earlier call
 * did. Returns 0; or -ELIBACC (the library cannot be opened), -ELIBBAD (it
 * lacks a function: too old) or the init function's error, with the
 * pointers left NULL and a message naming the library, its package and
 * what needed it in err (size bytes). A later call tries again. Safe to
 * call from any thread; cheap once loaded. The library stays loaded until
 * the process ends.
 */
int tkl_dynlib_load(struct tkl_dynlib *lib, char *err, size_t size);

/* Whether lib was loaded by tkl_dynlib_load. */
bool tkl_dynlib_loaded(struct tkl_dynlib *lib);

#endif
