/*
 * The store's id index: an open-addressing table of action indexes, so
 * that tkl_store_find is one hash and a short probe.
 */
#ifndef TKL_INDEX_H
#define TKL_INDEX_H

#include <stdint.h>

#include "store.h"

/* The hash an action's id is indexed by. */
uint32_t tkl_store_id_hash(const char *id);

/*
 * (Re)builds s->index over s->actions. hashes, when not NULL, holds
 * tkl_store_id_hash of each action's id (taken as the actions were read,
 * so that the build need not read every action again); else the build
 * takes them. An id that repeats an earlier one (two identical rows)
 * becomes the first free "<id>-<n>", with a warning in diags naming the
 * first, so that each action keeps a distinct, stable id; its hash
 * (tkl_action_hash) is then taken again, unless s is unhashed. Returns 0
 * or -ENOMEM (then s->index is unchanged, though ids may have been
 * renamed).
 */
int tkl_store_index(struct tkl_store *s, const uint32_t *hashes, struct tkl_diags *diags);

#endif
