/*
 * The store's id index: an open-addressing table of action indexes, so
 * that tkl_store_find is one hash and a short probe.
 */
#ifndef TKL_INDEX_H
#define TKL_INDEX_H

#include "store.h"

/*
 * (Re)builds s->index over s->actions. An id that repeats an earlier one
 * (two identical rows) becomes the first free "<id>-<n>", with a warning
 * in diags naming the first, so that each action keeps a distinct, stable
 * id. Returns 0 or -ENOMEM (then s->index is unchanged, though ids may
 * have been renamed).
 */
int tkl_store_index(struct tkl_store *s, struct tkl_diags *diags);

#endif
