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

/*
 * A slot holds an action's index in its low bits and, in the bits a store
 * of that size leaves spare, a tag: the id hash's own bits there (its low
 * bits choose the slot). A probe compares tags first, so that an id is
 * compared (its action and text read from memory) only where the tags
 * agree. bits is the width of the index: the smallest with 2^bits > n, so
 * that no slot holding an action is NO_SLOT.
 */
struct probe {
    const uint32_t *table;
    size_t cap; /* > 0, a power of two */
    unsigned bits;
    const struct tkl_action *actions;
};

static unsigned index_bits(size_t n)
{
    unsigned bits = 1;
    while (bits < 32 && ((size_t)1 << bits) <= n)
        bits++;
    return bits;
}

uint32_t tkl_store_id_hash(const char *id)
{
    uint64_t h = tkl_fnv1a(TKL_FNV_INIT, id, strlen(id));
    return (uint32_t)(h ^ (h >> 32));
}

/* The tag of hash h: its bits above the index's (none when bits is 32). */
static uint32_t slot_tag(uint32_t h, unsigned bits)
{
    return bits >= 32 ? 0 : h >> bits << bits;
}

static uint32_t slot_action(uint32_t slot, unsigned bits)
{
    return bits >= 32 ? slot : slot & (((uint32_t)1 << bits) - 1);
}

/* The slot of id (hash h) in p's table: the one holding the action of
 * id, else the empty slot that ends its chain, where it goes. id NULL
 * stands for the id of p->actions[k], read only where a tag agrees, so
 * that a build placing the actions in turn need not read each again. */
static size_t slot_probe(const struct probe *p, uint32_t h, const char *id, size_t k)
{
    size_t mask = p->cap - 1;
    uint32_t tag = slot_tag(h, p->bits);
    uint32_t tag_mask = slot_tag(UINT32_MAX, p->bits);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t v = p->table[i];
        if (v == NO_SLOT)
            return i;
        if ((v & tag_mask) != tag)
            continue;
        if (!id)
            id = p->actions[k].id;
        if (strcmp(p->actions[slot_action(v, p->bits)].id, id) == 0)
            return i;
    }
}

/* The index of the action of id in p's table (or none), or NO_SLOT. */
static size_t slot_lookup(const struct probe *p, const char *id)
{
    if (!p->cap)
        return NO_SLOT;
    uint32_t v = p->table[slot_probe(p, tkl_store_id_hash(id), id, 0)];
    return v == NO_SLOT ? NO_SLOT : slot_action(v, p->bits);
}

/* Renames the id of actions[k], which p's table already holds for
 * actions[dup], to the first free "<id>-<n>", with a warning. next[j] is
 * the first n not yet tried for the id of actions[j] (0: 2), so that many
 * rows repeating one id are renamed in linear time. Returns 0 or -ENOMEM. */
static int distinct_id(const struct probe *p, struct tkl_store *s, size_t k, size_t dup,
                       unsigned *next, struct tkl_diags *diags)
{
    struct tkl_action *a = &s->actions[k];
    const struct tkl_action *first = &s->actions[dup];
    for (unsigned n = next[dup] ? next[dup] : 2;; n++) {
        char *id = NULL;
        if (asprintf(&id, "%s-%u", first->id, n) < 0)
            return -ENOMEM;
        if (slot_lookup(p, id) != NO_SLOT) {
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
        if (s->hashes) {
            s->row_hashes[k] = 0;
            s->hashes[k] = tkl_action_hash(a);
        }
        next[dup] = n + 1;
        return 0;
    }
}

int tkl_store_index(struct tkl_store *s, const uint32_t *hashes, struct tkl_diags *diags)
{
    if (s->n >= NO_SLOT)
        return -ENOMEM; /* slots are 32 bits */
    size_t cap = 16;
    while (cap < s->n * 2 + 1)
        cap *= 2;
    uint32_t *table = malloc(cap * sizeof(*table));
    unsigned *next = calloc(s->n ? s->n : 1, sizeof(*next));
    uint32_t *taken = hashes ? NULL : malloc((s->n ? s->n : 1) * sizeof(*taken));
    if (!table || !next || (!hashes && !taken)) {
        free(table);
        free(next);
        free(taken);
        return -ENOMEM;
    }
    if (taken) {
        for (size_t k = 0; k < s->n; k++)
            taken[k] = tkl_store_id_hash(s->actions[k].id);
        hashes = taken;
    }
    tkl_mem_prefault(table, cap * sizeof(*table));
    for (size_t i = 0; i < cap; i++)
        table[i] = NO_SLOT;
    struct probe p = {.table = table, .cap = cap, .bits = index_bits(s->n), .actions = s->actions};
    int r = 0;
    /* every id as written first, then the repeats renamed: a new name
     * never takes an id a later row writes ("X", "X", "X-2": the second
     * is X-3) */
    struct repeat {
        size_t k, first;
    } *repeats = NULL;
    size_t n_repeats = 0, cap_repeats = 0;
    for (size_t k = 0; k < s->n && r == 0; k++) {
        /* a large store's slots are read in random order, each a miss of
         * the cache: the slot of an action a little ahead is fetched
         * while this one is placed */
        enum { AHEAD = 16 };
        if (k + AHEAD < s->n)
            __builtin_prefetch(&table[hashes[k + AHEAD] & (cap - 1)]);
        uint32_t h = hashes[k];
        size_t i = slot_probe(&p, h, NULL, k);
        if (table[i] == NO_SLOT) {
            table[i] = slot_tag(h, p.bits) | (uint32_t)k;
            continue;
        }
        if (n_repeats == cap_repeats) {
            size_t c = cap_repeats ? cap_repeats * 2 : 16;
            struct repeat *v = realloc(repeats, c * sizeof(*v));
            if (!v) {
                r = -ENOMEM;
                break;
            }
            repeats = v;
            cap_repeats = c;
        }
        repeats[n_repeats++] = (struct repeat){k, slot_action(table[i], p.bits)};
    }
    for (size_t j = 0; j < n_repeats && r == 0; j++) {
        size_t k = repeats[j].k;
        if ((r = distinct_id(&p, s, k, repeats[j].first, next, diags)) < 0)
            break;
        /* a free id: the empty slot ending its chain */
        uint32_t h = tkl_store_id_hash(s->actions[k].id);
        table[slot_probe(&p, h, NULL, k)] = slot_tag(h, p.bits) | (uint32_t)k;
    }
    free(repeats);
    free(next);
    free(taken);
    if (r < 0) {
        free(table);
        return r;
    }
    free(s->index);
    s->index = table;
    s->index_cap = cap;
    s->index_bits = p.bits;
    return 0;
}

const struct tkl_action *tkl_store_find(const struct tkl_store *store, const char *id)
{
    struct probe p = {.table = store->index,
                      .cap = store->index_cap,
                      .bits = store->index_bits,
                      .actions = store->actions};
    size_t i = slot_lookup(&p, id);
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
