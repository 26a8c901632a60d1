/*
 * A plugin instance's life on the host's loop: closing its handles, taking
 * over new settings on a reload, and what deliver() may return. Header
 * only, so that every plugin can use it, including those that link nothing
 * else from plugins/common.
 */
#ifndef TKL_LIFECYCLE_H
#define TKL_LIFECYCLE_H

#include <errno.h>

#include <tickler/plugin.h>

/*
 * Closes one of the plugin's handles like uv_close(handle, cb) (cb may be
 * NULL): through host->close() when the host offers it (ABI 2), so that the
 * host knows when the instance's last close callback has run; with
 * uv_close() for a host that does not.
 */
static inline void lc_close(const struct tkl_host *host, uv_handle_t *handle, uv_close_cb cb)
{
    if (host->version >= 2 && TKL_HAS_MEMBER(host, host->size, close) && host->close)
        host->close(host, handle, cb);
    else
        uv_close(handle, cb);
}

/*
 * What deliver() returns for an error that is not about the recipient:
 * -EINVAL tells the host the notice can never be delivered (and fails it
 * for good), so an -EINVAL from elsewhere (libcurl, the host's transfers)
 * becomes -EIO, which the host retries. Other values pass unchanged.
 */
static inline int lc_transient(int r)
{
    return r == -EINVAL ? -EIO : r;
}

/* Exchanges two lvalues of one type; reconfigure() swaps settings with it. */
#define LC_SWAP(a, b)                                                                              \
    do {                                                                                           \
        __typeof__(a) lc_swap_ = (a);                                                              \
        (a) = (b);                                                                                 \
        (b) = lc_swap_;                                                                            \
    } while (0)

#endif
