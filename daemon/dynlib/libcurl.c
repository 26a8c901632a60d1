#include "libcurl.h"

#include <errno.h>
#include <stdio.h>

TKL_LIBCURL_SYMBOLS(TKL_DYNSYM_DEFINE)

static const struct tkl_dynsym syms[] = {TKL_LIBCURL_SYMBOLS(TKL_DYNSYM_ENTRY)};

static int init(char *err, size_t size)
{
    CURLcode c = sym_curl_global_init(CURL_GLOBAL_DEFAULT);
    if (c != CURLE_OK) {
        (void)snprintf(err, size, "libcurl could not be initialised: %s",
                       sym_curl_easy_strerror(c));
        return -EIO;
    }
    return 0;
}

static struct tkl_dynlib lib = {
    .soname = TICKLER_LIBCURL_SONAME,
    .package = "libcurl4",
    .purpose = "Network transfers (links, notifiers, the web face)",
    .syms = syms,
    .n_syms = sizeof(syms) / sizeof(syms[0]),
    .init = init,
};

int tkl_libcurl_load(char *err, size_t size)
{
    return tkl_dynlib_load(&lib, err, size);
}

void tkl_libcurl_cleanup(void)
{
    if (tkl_dynlib_loaded(&lib))
        sym_curl_global_cleanup();
}
