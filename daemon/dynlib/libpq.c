#include "libpq.h"

TKL_LIBPQ_SYMBOLS(TKL_DYNSYM_DEFINE)

static const struct tkl_dynsym syms[] = {TKL_LIBPQ_SYMBOLS(TKL_DYNSYM_ENTRY)};

static struct tkl_dynlib lib = {
    .soname = TICKLER_LIBPQ_SONAME,
    .package = "libpq5",
    .purpose = "The PostgreSQL backend",
    .syms = syms,
    .n_syms = sizeof(syms) / sizeof(syms[0]),
};

int tkl_libpq_load(char *err, size_t size)
{
    return tkl_dynlib_load(&lib, err, size);
}
