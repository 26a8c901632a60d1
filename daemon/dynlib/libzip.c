#include "libzip.h"

TKL_LIBZIP_SYMBOLS(TKL_DYNSYM_DEFINE)

static const struct tkl_dynsym syms[] = {TKL_LIBZIP_SYMBOLS(TKL_DYNSYM_ENTRY)};

static struct tkl_dynlib lib = {
    .soname = TICKLER_LIBZIP_SONAME,
    .package = "libzip4",
    .purpose = "Reading spreadsheets and Word documents or writing a Word report",
    .syms = syms,
    .n_syms = sizeof(syms) / sizeof(syms[0]),
};

int tkl_libzip_load(char *err, size_t size)
{
    return tkl_dynlib_load(&lib, err, size);
}
