#ifndef TICKLER_DYNLIB_LIBZIP_H
#define TICKLER_DYNLIB_LIBZIP_H

#include <zip.h>

#include "dynlib/dynlib.h"

/* The functions of libzip the spreadsheet and Word readers call (store/archive.c). */
#define TKL_LIBZIP_SYMBOLS(X)                                                                      \
    X(zip_discard)                                                                                 \
    X(zip_error_code_zip)                                                                          \
    X(zip_error_fini)                                                                              \
    X(zip_error_init)                                                                              \
    X(zip_error_strerror)                                                                          \
    X(zip_fclose)                                                                                  \
    X(zip_file_strerror)                                                                           \
    X(zip_fopen_index)                                                                             \
    X(zip_fread)                                                                                   \
    X(zip_get_error)                                                                               \
    X(zip_name_locate)                                                                             \
    X(zip_open_from_source)                                                                        \
    X(zip_source_buffer_create)                                                                    \
    X(zip_source_free)                                                                             \
    X(zip_stat_index)

TKL_LIBZIP_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libzip (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libzip_load(char *err, size_t size);

#endif
