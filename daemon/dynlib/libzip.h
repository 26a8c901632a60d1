#ifndef TICKLER_DYNLIB_LIBZIP_H
#define TICKLER_DYNLIB_LIBZIP_H

#include <zip.h>

#include "dynlib/dynlib.h"

/* The functions of libzip the spreadsheet and Word readers call
 * (store/archive.c), and the progress report's Word writer
 * (report/word.c). */
#define TKL_LIBZIP_SYMBOLS(X)                                                                      \
    X(zip_close)                                                                                   \
    X(zip_discard)                                                                                 \
    X(zip_error_code_zip)                                                                          \
    X(zip_error_fini)                                                                              \
    X(zip_error_init)                                                                              \
    X(zip_error_strerror)                                                                          \
    X(zip_fclose)                                                                                  \
    X(zip_file_add)                                                                                \
    X(zip_file_set_mtime)                                                                          \
    X(zip_file_strerror)                                                                           \
    X(zip_fopen_index)                                                                             \
    X(zip_fread)                                                                                   \
    X(zip_get_error)                                                                               \
    X(zip_name_locate)                                                                             \
    X(zip_open_from_source)                                                                        \
    X(zip_source_buffer)                                                                           \
    X(zip_source_buffer_create)                                                                    \
    X(zip_source_close)                                                                            \
    X(zip_source_free)                                                                             \
    X(zip_source_keep)                                                                             \
    X(zip_source_open)                                                                             \
    X(zip_source_read)                                                                             \
    X(zip_source_stat)                                                                             \
    X(zip_stat_index)                                                                              \
    X(zip_stat_init)                                                                               \
    X(zip_strerror)

TKL_LIBZIP_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libzip (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libzip_load(char *err, size_t size);

#endif
