#include "index.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../core/text.h"

/* an empty slot; a store holds fewer actions than this */
#define NO_SLOT UINT32_MAX

static uint64_t id_hash(const char *id)
{
    return tkl_fnv1a(TKL_FNV_INIT, id, strlen(id));
}

/* The slot of id in table (cap > 0 slots, a power of two, of indexes
 * into actions): the one holding the action of id, else the empty slot
 * that ends its chain, where it goes. */
static size_t slot_probe(const uint32_t *table, size_t cap, const struct tkl_action *actions,
                         const char *id)
{
    size_t mask = cap - 1;
    for (size_t i = (size_t)id_hash(id) & mask;; i = (i + 1) & mask)
        if (table[i] == NO_SLOT || strcmp(actions[table[i]].id, id) == 0)
            return i;
}

/* The action of id in table (cap slots, as slot_probe's, or none), or
 * NO_SLOT. */
static size_t slot_lookup(const uint32_t *table, size_t cap, const struct tkl_action *actions,
                          const char *id)
{
    return cap ? table[slot_probe(table, cap, actions, id)] : NO_SLOT;
}

/* Renames the id of actions[k], which table already holds for
 * actions[dup], to the first free "<id>-<n>", with a warning. next[j] is the first n not yet tried
 * for the id of actions[j] (0: 2), so that many rows repeating one id are
 * renamed in linear time. Returns 0 or -ENOMEM. */
static int distinct_id(const uint32_t *table, size_t cap, struct tkl_store *s, size_t k, size_t dup,
                       unsigned *next, struct tkl_diags *diags)
{
    struct tkl_action *actions = s->actions;
    struct tkl_action *a = &actions[k];
    for (unsigned n = next[dup] ? next[dup] : 2;; n++) {
        const struct tkl_action *first = &actions[dup];
        char *id = NULL;
        if (asprintf(&id, "%s-%u", first->id, n) < 0)
            return -ENOMEM;
        if (slot_lookup(table, cap, actions, id) != NO_SLOT) {
            free(id);
            continue;
        }
        char line[16] = ""; /* none for a place without one (a Word table's row) */
        if (first->line)
            snprintf(line, sizeof(line), ":%u", first->line);
        tkl_diag_add(diags, TKL_SEV_WARNING, a->file, a->line, "id",
                     "same id as %s%s (%s); this row is %s", first->file, line, first->id, id);
        char *kept = tkl_arena_strdup0(&s->arena, id);
        free(id);
        if (!kept)
            return -ENOMEM;
        a->id = kept;
        /* the next load reads the row again: its id as written repeats */
        a->row_hash = 0;
        a->hash = 0;
        next[dup] = n + 1;
        return 0;
    }
}

int tkl_store_index(struct tkl_store *s, struct tkl_diags *diags)
{
    if (s->n >= NO_SLOT)
        return -ENOMEM; /* slots are 32 bits */
    size_t cap = 16;
    while (cap < s->n * 2 + 1)
        cap *= 2;
    uint32_t *table = malloc(cap * sizeof(*table));
    unsigned *next = calloc(s->n ? s->n : 1, sizeof(*next));
    if (!table || !next) {
        free(table);
        free(next);
        return -ENOMEM;
    }
    tkl_mem_prefault(table, cap * sizeof(*table));
    for (size_t i = 0; i < cap; i++)
        table[i] = NO_SLOT;
    for (size_t k = 0; k < s->n; k++) {
        size_t i = slot_probe(table, cap, s->actions, s->actions[k].id);
        if (table[i] != NO_SLOT) {
            int r = distinct_id(table, cap, s, k, table[i], next, diags);
            if (r < 0) {
                free(table);
                free(next);
                return r;
            }
            /* a free id: the empty slot ending its chain */
            i = slot_probe(table, cap, s->actions, s->actions[k].id);
        }
        table[i] = (uint32_t)k;
    }
    free(next);
    free(s->index);
    s->index = table;
    s->index_cap = cap;
    return 0;
}

const struct tkl_action *tkl_store_find(const struct tkl_store *store, const char *id)
{
    size_t i = slot_lookup(store->index, store->index_cap, store->actions, id);
    return i == NO_SLOT ? NULL : &store->actions[i];
}

const struct tkl_action *tkl_store_counterpart(const struct tkl_store *store,
                                               const struct tkl_store *from, size_t k)
{
    const char *id = from->actions[k].id;
    if (k < store->n && strcmp(store->actions[k].id, id) == 0)
        return &store->actions[k];
    return tkl_store_find(store, id);
}
