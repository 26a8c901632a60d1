/*
 * The store's slice of the configuration, store { ... }: the plan's files
 * and directories, column headings, status words, and how long the file
 * watch waits for a burst of changes to end.
 */
#ifndef TKL_STORE_CONF_H
#define TKL_STORE_CONF_H

#include <libconfig.h>

#include "../core/confread.h"
#include "store.h"

/*
 * Reads the store group g over *opts (zeroed by the caller) and
 * *debounce_ms (left as it is when the key is absent): files resolved
 * relative to x->dir, column headings, status words. A missing group is an
 * error: tickler needs a plan. Returns 0, -EINVAL (problems in x->diags)
 * or -ENOMEM. Whatever it returns, opts holds what was read, for the
 * caller to free with tkl_store_opts_free.
 */
int tkl_store_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_store_opts *opts, int *debounce_ms);

#endif
