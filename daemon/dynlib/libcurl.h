#ifndef TICKLER_DYNLIB_LIBCURL_H
#define TICKLER_DYNLIB_LIBCURL_H

#include <curl/curl.h>

#include "dynlib/dynlib.h"

/* The functions of libcurl the daemon's transfers, the link fetcher and
 * the web face call. Loading also initialises it (curl_global_init). */
#define TKL_LIBCURL_SYMBOLS(X)                                                                     \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_header)                                                                            \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_free)                                                                                   \
    X(curl_getdate)                                                                                \
    X(curl_global_cleanup)                                                                         \
    X(curl_global_init)                                                                            \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_assign)                                                                           \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_init)                                                                             \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_setopt)                                                                           \
    X(curl_multi_socket_action)                                                                    \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_url)                                                                                    \
    X(curl_url_cleanup)                                                                            \
    X(curl_url_get)                                                                                \
    X(curl_url_set)

TKL_LIBCURL_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libcurl and initialises it (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libcurl_load(char *err, size_t size);

/* curl_global_cleanup, if tkl_libcurl_load loaded libcurl: at the end of
 * main, once nothing uses curl any more. */
void tkl_libcurl_cleanup(void);

#endif
