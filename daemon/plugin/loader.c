#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/text.h"
#include "../transfer/transfer.h"

const uint32_t tkl_host_abi_versions[] = {TICKLER_ABI_VERSION, 2, 1};
const size_t tkl_host_abi_versions_n = sizeof(tkl_host_abi_versions) / sizeof(uint32_t);

/* Size of the descriptor each ABI version introduced. */
static size_t descriptor_size(uint32_t version)
{
    switch (version) {
    case 1:
    case 2: /* version 2 took two reserved pointers: the size is the same */
    case 3: /* version 3 changed where transfers' callbacks run, no member */
        return sizeof(struct tkl_plugin);
    default:
        return 0;
    }
}

/* Loads the shared object at path with RTLD_NOW | RTLD_LOCAL. Returns 0 and
 * the handle in *ret_dl, or a negative errno after a diagnostic. */
static int load_library(const char *path, const char *name, void **ret_dl, struct tkl_diags *diags)
{
    if (access(path, R_OK) < 0) {
        int r = -errno;
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot load plugin \"%s\": %s", name,
                     strerror(-r));
        return r;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot load plugin: %s",
                     e ? e : "unknown dlopen error");
        return -ELIBBAD;
    }
    *ret_dl = dl;
    return 0;
}

/* Calls the entry symbol of dl with the versions this host offers. Returns 0
 * and the descriptor (NULL when the plugin offers none) in *ret_desc, or
 * -ELIBBAD after a diagnostic when there is no entry symbol. */
static int call_entry(void *dl, const char *path, const struct tkl_plugin **ret_desc,
                      struct tkl_diags *diags)
{
    dlerror();
    tkl_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, TICKLER_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        const char *e = dlerror();
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "not a tickler plugin: no %s symbol (%s)",
                     TICKLER_PLUGIN_ENTRY_SYMBOL, e ? e : "not found");
        return -ELIBBAD;
    }
    *ret_desc = entry(tkl_host_abi_versions, tkl_host_abi_versions_n);
    return 0;
}

/* Returns 0 when desc speaks one of the ABI versions this host offers, or
 * -ELIBBAD after a diagnostic (also when there is no descriptor). */
static int check_abi(const struct tkl_plugin *desc, const char *path, struct tkl_diags *diags)
{
    bool supported = false;
    for (size_t i = 0; desc && i < tkl_host_abi_versions_n; i++)
        supported |= desc->abi_version == tkl_host_abi_versions[i];
    if (desc && supported)
        return 0;
    if (desc)
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL,
                     "plugin built for tickler ABI %u, this ticklerd supports ABI %u, 2 and 1: "
                     "not binary compatible; rebuild the plugin",
                     desc->abi_version, TICKLER_ABI_VERSION);
    else
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL,
                     "plugin supports none of this ticklerd's ABI versions (%u, 2 and 1): "
                     "not binary compatible; rebuild the plugin",
                     TICKLER_ABI_VERSION);
    return -ELIBBAD;
}

/* Returns 0 when desc is as large as its ABI version says, has a name and a
 * known kind, and has the callbacks that kind needs; or -ELIBBAD after a
 * diagnostic. */
static int check_complete(const struct tkl_plugin *desc, const char *path, struct tkl_diags *diags)
{
    if (desc->size < descriptor_size(desc->abi_version) || !desc->name || !desc->init ||
        !desc->destroy || (desc->kind == TKL_PLUGIN_NOTIFIER && (!desc->deliver || !desc->stop)) ||
        (desc->kind == TKL_PLUGIN_SOURCE && !desc->items) ||
        (desc->kind != TKL_PLUGIN_NOTIFIER && desc->kind != TKL_PLUGIN_SOURCE)) {
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL,
                     "plugin descriptor is incomplete (size %u, kind %d): not binary compatible",
                     desc->size, (int)desc->kind);
        return -ELIBBAD;
    }
    return 0;
}

int tkl_plugin_open(const char *dir, const char *name, struct tkl_plugin_instance **ret,
                    struct tkl_diags *diags)
{
    char *path = NULL;
    struct tkl_plugin_instance *p = NULL;
    const struct tkl_plugin *desc = NULL;
    void *dl = NULL;
    int r;

    if (strchr(name, '/') || strstr(name, "..")) {
        tkl_diag_add(diags, TKL_SEV_ERROR, NULL, 0, "plugin",
                     "plugin name \"%s\" must be a bare name", name);
        return -EINVAL;
    }
    if (asprintf(&path, "%s/%s.so", dir, name) < 0)
        return -ENOMEM;
    if ((r = load_library(path, name, &dl, diags)) < 0)
        goto fail;
    if ((r = call_entry(dl, path, &desc, diags)) < 0)
        goto fail;
    if ((r = check_abi(desc, path, diags)) < 0)
        goto fail;
    if ((r = check_complete(desc, path, diags)) < 0)
        goto fail;
    p = calloc(1, sizeof(*p));
    if (!p) {
        r = -ENOMEM;
        goto fail;
    }
    p->dl = dl;
    p->desc = desc;
    p->path = path;
    p->host.version = desc->abi_version;
    p->host.size = sizeof(p->host);
    *ret = p;
    return 0;
fail:
    if (dl)
        dlclose(dl);
    free(path);
    return r;
}

int tkl_plugin_init(struct tkl_plugin_instance *p, const char *instance,
                    const config_setting_t *settings)
{
    if (!(p->instance = strdup(instance)))
        return -ENOMEM;
    p->host.instance = p->instance;
    void *state = NULL;
    int r = p->desc->init(&p->host, settings, &state);
    if (r < 0)
        return r;
    p->state = state;
    return 0;
}

void tkl_plugin_close(struct tkl_plugin_instance *p)
{
    if (!p)
        return;
    /* any transfer still running let go first, so destroy() may free its
     * handle; the transfers' memory goes once the loop runs */
    tkl_transfers_close(p->transfers);
    p->transfers = NULL;
    if (p->state)
        p->desc->destroy(p->state);
    if (p->dl)
        dlclose(p->dl);
    free(p->instance);
    free(p->config_dir);
    free(p->path);
    free(p);
}

/* What a refusal's reason may hold: the plugin's buffer. */
#define WHY_SIZE 512

int tkl_plugin_check_recipient(const struct tkl_plugin_instance *p, const char *address,
                               char **ret_why)
{
    int (*check)(void *, const char *, char *, size_t) = TKL_PLUGIN_V2(p, check_recipient);
    char why[WHY_SIZE] = "";
    *ret_why = NULL;
    int r = check ? check(p->state, address, why, sizeof(why)) : 0;
    if (r >= 0)
        return 0;
    why[sizeof(why) - 1] = '\0'; /* a plugin that filled the buffer whole */
    char *line = tkl_text_reply_line(why, sizeof(why) - 1);
    if (line && tkl_text_blank(line)) {
        free(line);
        line = strdup("refused by the notifier");
    }
    *ret_why = line;
    return r;
}
