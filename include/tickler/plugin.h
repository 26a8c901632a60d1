/*
 * tickler plugin ABI.
 *
 * This header, with <tickler/notice.h> and the helpers <tickler/day.h>
 * (civil days, local time, date formats) and <tickler/text.h> (HTML
 * escaping), is all a plugin compiles against. The helpers are header-only:
 * static inline functions built into the plugin, the same ones the host
 * uses, so a plugin has no reason to copy host code. They add no symbol
 * and no structure member, so they leave TICKLER_ABI_VERSION unchanged and
 * a plugin that uses them loads in any host of its ABI version.
 *
 * Loading. The host dlopen()s every plugin with RTLD_NOW | RTLD_LOCAL from
 * the configured plugin directory only, looks up the single exported symbol
 * TICKLER_PLUGIN_ENTRY_SYMBOL and calls it with the list of ABI versions it
 * supports (newest first). The entry function returns a pointer to a const
 * descriptor whose abi_version is one of those versions, or NULL when it
 * supports none of them. The host refuses a plugin whose descriptor names a
 * version it does not support, or whose size is smaller than the descriptor
 * of that version, and says so naming the file: "not binary compatible".
 *
 * Growth. Structures handed across the ABI carry their own size as their
 * first or second member and reserved pointers. Members are only ever
 * appended, or, in a structure the host fills, take a reserved pointer
 * (which the host zeroes, so one that predates the member leaves it NULL);
 * a structure a plugin fills (struct tkl_item) may hold anything in its
 * reserved pointers, which are never read, and grows after them. A reader
 * looks at an appended member only when the size it was given covers it
 * (TKL_HAS_MEMBER).
 *
 * Threading. Every callback, in both directions, runs on the host's single
 * libuv loop thread, with one exception: the callbacks a plugin sets on a
 * libcurl handle it lends to transfer_start (CURLOPT_WRITEFUNCTION,
 * READFUNCTION, DEBUGFUNCTION and the like) run on the host's transfer
 * thread, and may touch only that transfer's own data, never the host. A
 * plugin that starts threads of its own must hand results back through a
 * uv_async_t and never call the host from another thread.
 *
 * Ownership. The host owns everything it passes in: configuration settings,
 * notices, strings. They are valid only during the call unless documented
 * otherwise; a plugin copies what it keeps. In particular the
 * config_setting_t given to init() is freed by a configuration reload.
 * State a plugin returns from init() belongs to the plugin and is released
 * only by its destroy() callback.
 *
 * Errors. Every callback that returns int returns 0 on success or a negative
 * errno value.
 *
 * Time zone. The host sets the process time zone (TZ, then tzset()) to the
 * configuration's daemon.timezone once it has accepted the configuration
 * file, before it calls init() of any plugin instance that configuration
 * names; a reload that fails later puts the previous zone back, and one it
 * accepts moves instances kept from the previous configuration to the new
 * zone too. So from init() on, local time is the configured zone. Plugins
 * take local time through
 * <tickler/day.h> (tkl_local_day, tkl_instant_rfc5322, ...) or
 * localtime_r(), and never change the zone themselves (no setenv("TZ")):
 * the process, the host's schedule and every other plugin share it.
 */
#ifndef TICKLER_PLUGIN_H
#define TICKLER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <uv.h>

#include <tickler/notice.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The ABI version this header describes. Version 2 added, at the end of
 * struct tkl_plugin, check_recipient() and reconfigure(), and at the end of
 * struct tkl_host, close(); a version 1 plugin still loads and is never
 * handed them. Version 3 added no member: from it, the callbacks a plugin
 * sets on a handle it lends to transfer_start() run on the host's transfer
 * thread (see Threading), where before every callback ran on the loop
 * thread. A plugin of version 1 or 2 still loads, but its transfer_start()
 * fails with -ENOTSUP (the host logs why, once an instance): its callbacks
 * may touch the host or the plugin's own state, which the loop thread uses
 * meanwhile.
 */
#define TICKLER_ABI_VERSION 3

/* The one symbol a plugin exports; see tkl_plugin_entry_fn. */
#define TICKLER_PLUGIN_ENTRY_SYMBOL "tickler_plugin_entry"

/* True when a structure of the given size holds member m. */
#define TKL_HAS_MEMBER(ptr, size, m)                                                               \
    ((size_t)(size) >= offsetof(__typeof__(*(ptr)), m) + sizeof((ptr)->m))

enum tkl_plugin_kind {
    TKL_PLUGIN_SOURCE = 1,   /* produces dated items (calendar observances) */
    TKL_PLUGIN_NOTIFIER = 2, /* delivers notices (email, Teams, files) */
};

/* Log levels; the numbers are syslog's, as sd-daemon(3) prefixes use. */
enum tkl_log_level {
    TKL_LOG_ERR = 3,
    TKL_LOG_WARNING = 4,
    TKL_LOG_NOTICE = 5,
    TKL_LOG_INFO = 6,
    TKL_LOG_DEBUG = 7,
};

/*
 * What the host offers one plugin instance. Valid from init() until
 * destroy() returns. Secrets must never be passed to log().
 */
struct tkl_host {
    uint32_t version;       /* ABI version agreed with this plugin */
    uint32_t size;          /* sizeof(struct tkl_host) in the host */
    uv_loop_t *loop;        /* the host's loop; plugins add handles to it */
    const char *instance;   /* instance name from the config ("email") */
    const char *config_dir; /* directory of the config file, for paths */
    const char *state_dir;  /* writable state directory */
    /* Log one line; the host adds the instance name. */
    void (*log)(const struct tkl_host *host, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* The host's clock, seconds since the epoch (honours --now). */
    int64_t (*now)(const struct tkl_host *host);
    /* Sources: tell the host the items changed and should be re-read. */
    void (*items_changed)(const struct tkl_host *host);
    void *host_data; /* the host's own; plugins must not touch it */

    /*
     * Transfers on a libcurl multi handle of the instance's own, which a
     * transfer thread of its own drives (connections are reused across
     * its messages; a server that holds libcurl's thread holds no other
     * instance's transfers). easy is a CURL * the plugin configured and keeps owning;
     * from this call until done() runs or transfer_cancel() returns, the
     * transfer thread uses it and the plugin must not touch it (its
     * callbacks run there: see Threading). Returns 0, after which done()
     * runs exactly once on the loop thread (never inside this call) with
     * the CURLcode of the transfer (CURLE_FAILED_INIT if libcurl would not
     * start it); or a negative errno, after which done() never runs. The host keeps its own record
     * of the transfer in the handle's CURLOPT_PRIVATE: a plugin must not set CURLOPT_PRIVATE on a
     * handle it passes here, nor read CURLINFO_PRIVATE from it; state of its own goes in data.
     */
    int (*transfer_start)(const struct tkl_host *host, void *easy,
                          void (*done)(void *data, int curl_code), void *data);
    /* Stops a started transfer that has not completed; done() never runs.
     * On return the transfer thread has let go of easy. */
    void (*transfer_cancel)(const struct tkl_host *host, void *easy);
    /*
     * Reads a secret: spec is a file path (relative to config_dir) or
     * "credential:NAME", a systemd credential ($CREDENTIALS_DIRECTORY/NAME,
     * see LoadCredential=). One trailing line break is removed. On success
     * *ret is a new string the caller frees (and should wipe); returns 0
     * or a negative errno (-ENODATA: the file is empty; -EBADMSG: it holds
     * a line break inside the secret, or a NUL byte; tkl_secret_strerror
     * of <tickler/text.h> says each). The secret's content is never logged.
     */
    int (*read_secret)(const struct tkl_host *host, const char *spec, char **ret);

    /* ABI 2 */

    /*
     * Closes a handle of the plugin's, like uv_close(handle, cb) (cb may be
     * NULL). A plugin closes every handle through it: the host destroys a
     * stopped instance only once every close callback has run, which is
     * how a reload can retire one instance while the loop goes on.
     */
    void (*close)(const struct tkl_host *host, uv_handle_t *handle, uv_close_cb cb);
    /*
     * Where a notifier may keep what must outlive a restart of the daemon
     * (the state directory), or NULL: a one-off run (tickler send-test),
     * whose instance must not touch what the daemon's keeps. It took a
     * reserved pointer: a host built before it leaves it NULL.
     */
    const char *keep_dir;
    void *reserved[3];
};

/*
 * Sources emit items through this callback, which copies what it keeps.
 * Returns 0, or a negative errno to stop the enumeration.
 */
typedef int (*tkl_item_fn)(void *emit_data, const struct tkl_item *item);

/*
 * Called exactly once for every deliver() that returned 0, later, on the
 * loop thread, never from inside deliver() itself.
 */
typedef void (*tkl_deliver_done_fn)(void *done_data, const struct tkl_delivery *result);

struct tkl_plugin {
    uint32_t abi_version; /* one of the versions the host offered */
    uint32_t size;        /* sizeof(struct tkl_plugin) as built */
    const char *name;     /* short name, as in the config's plugin = "..." */
    const char *description;
    enum tkl_plugin_kind kind;

    /*
     * Validate conf (the instance's own settings group, possibly NULL) and
     * build the instance state. Must not start I/O: `ticklerd --check-config`
     * calls init() and destroy() only. Problems are logged through host with
     * the setting's line and make init() return -EINVAL.
     * On success *ret_state is set; on failure it is left untouched.
     */
    int (*init)(const struct tkl_host *host, const config_setting_t *conf, void **ret_state);

    /*
     * Start I/O (open connections lazily, arm timers, watch files). On
     * failure it undoes what it did (closes what it opened): the instance
     * stays not started, gets no deliver() and no stop(), and start() may
     * be called again later.
     */
    int (*start)(void *state);

    /*
     * Notifiers: send one notice asynchronously. Returns 0 when the notice
     * was accepted, in which case done() will run exactly once later; or a
     * negative errno, in which case done() never runs for this call:
     * -EINVAL means this instance can never deliver the notice (a
     * recipient it cannot use) and the host fails it for good at once;
     * -EKEYREJECTED that the notifier holds its deliveries back, not
     * tried, as its server refused its credentials (its log says so);
     * any other error is transient and the host retries. A notice that
     * fails for good later is reported with TKL_DELIVERY_PERMANENT.
     * The notice is only valid during the call.
     */
    int (*deliver)(void *state, const struct tkl_notice *notice, tkl_deliver_done_fn done,
                   void *done_data);

    /*
     * Sources: emit every item that has an occurrence in [from_day, to_day]
     * (days since 1970-01-01). Synchronous. Returns 0 or a negative errno
     * (including the first error returned by emit).
     */
    int (*items)(void *state, int32_t from_day, int32_t to_day, tkl_item_fn emit, void *emit_data);

    /*
     * Begin shutting down: complete every pending delivery (as delivered, or
     * as TKL_DELIVERY_TRANSIENT "shutting down") and close every handle.
     * The host then runs the loop until all close callbacks have fired.
     * The host calls it (at a stop, or when a reload retires the instance)
     * only once the deliveries in flight have completed or its drain
     * (delivery.drain_seconds) ran out, so a delivery it completes as
     * transient is one cut short, which the host sends again. Before it,
     * the host has told done() of every transfer of the instance that
     * finished and refuses new ones (transfer_start: -ESHUTDOWN), so each
     * transfer_cancel() here stops one that did not finish.
     */
    void (*stop)(void *state);

    /* Free the state. Accepts NULL. No handle may still be open. */
    void (*destroy)(void *state);

    /* ABI 2; each may be NULL. */

    /*
     * Notifiers: whether recipient (an address or destination name from a
     * team's recipients for this channel) is one this instance can deliver
     * to. Called on an init()ed instance, started or not, by every check of
     * the configuration (tickler check, ticklerd --check-config, start and
     * reload), so an unusable recipient is a file:line error before anything
     * is sent. Returns 0, or -EINVAL with a reason for a person in why
     * (at most why_size bytes, NUL-terminated; no secrets).
     */
    int (*check_recipient)(void *state, const char *recipient, char *why, size_t why_size);

    /*
     * On a reload, for an instance whose name and plugin stay the same:
     * takes over the settings of fresh, an instance of the same plugin that
     * init() has just built from the new settings and that was never
     * started, while state keeps what it holds at run time (deliveries in
     * flight, connections, rate budgets, work already accepted, watches).
     * Cannot fail: whatever can fail belongs in init(). The host destroys
     * fresh afterwards, so state may swap settings with it; each keeps its
     * own host pointer (fresh's goes with fresh). Without it, an
     * instance whose settings did not change is kept as it is and one whose
     * settings changed is stopped and replaced by fresh.
     */
    void (*reconfigure)(void *state, void *fresh);

    void *reserved[6];
};

/*
 * The exported entry point. host_versions lists the ABI versions the host
 * supports, newest first. Returns the plugin's descriptor (static storage),
 * or NULL when the plugin speaks none of those versions.
 */
typedef const struct tkl_plugin *(*tkl_plugin_entry_fn)(const uint32_t *host_versions,
                                                        size_t n_versions);

/* Every plugin defines this, exported, as its one public symbol. */
const struct tkl_plugin *tickler_plugin_entry(const uint32_t *host_versions, size_t n_versions);

/*
 * Defines tickler_plugin_entry() for a plugin built against this header:
 * it returns &desc when the host offers TICKLER_ABI_VERSION, else NULL.
 */
#define TICKLER_PLUGIN_ENTRY(desc)                                                                 \
    __attribute__((visibility("default"))) const struct tkl_plugin *tickler_plugin_entry(          \
        const uint32_t *host_versions, size_t n_versions)                                          \
    {                                                                                              \
        for (size_t i_ = 0; i_ < n_versions; i_++)                                                 \
            if (host_versions[i_] == TICKLER_ABI_VERSION)                                          \
                return &(desc);                                                                    \
        return NULL;                                                                               \
    }

/*
 * Helper for plugins and host alike: the first member of group whose name is
 * not in the NULL-terminated list allowed, or NULL when all are known.
 */
static inline config_setting_t *tkl_config_unknown_member(const config_setting_t *group,
                                                          const char *const *allowed)
{
    if (!group)
        return NULL;
    for (int i = 0; i < config_setting_length(group); i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int found = 0;
        for (const char *const *a = allowed; name && *a; a++)
            if (__builtin_strcmp(*a, name) == 0) {
                found = 1;
                break;
            }
        if (!found)
            return s;
    }
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* TICKLER_PLUGIN_H */
