/*
 * The memory of one load's actions: their texts copied into a few large
 * chunks instead of one allocation each, and the texts that repeat from
 * row to row (file names, owners, statuses, deadlines, teams) kept once.
 * Nothing in an arena is freed on its own: tkl_arena_free frees it all,
 * but for the chunks another arena keeps (tkl_arena_keep), freed with the
 * last arena that holds them. A pointer an arena gave stays valid until
 * then (chunks never move). An arena given a cold_dir takes its chunks
 * from cold memory there (core/mem.h) where it can, else from malloc.
 */
#ifndef TKL_ARENA_H
#define TKL_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct tkl_arena {
    struct tkl_arena_chunk *chunks; /* newest first */
    char *at;                       /* free space of the newest chunk */
    size_t left;
    size_t held;     /* bytes of all chunks, headers included */
    char **interned; /* open-addressing set of interned texts, or NULL */
    size_t n_interned;
    size_t cap_interned; /* a power of two, or 0 */
    /* texts tkl_arena_intern gave lately, by their address: interning one
     * of them again (a text that repeats from row to row, handed on)
     * costs no hash */
    const char *recent[64];
    /* chunks of other arenas this one keeps alive (tkl_arena_keep) */
    struct tkl_arena_chunk **kept;
    size_t n_kept;
    /* where the chunks are cold memory (tkl_mem_map_cold), or NULL: the
     * owner's text, which outlives the arena's allocations; kept by
     * tkl_arena_free */
    const char *cold_dir;
};

/* size bytes aligned for any object, or NULL on allocation failure. */
void *tkl_arena_alloc(struct tkl_arena *a, size_t size);

/* A NUL-terminated copy of s[0..len), or NULL on allocation failure. The
 * empty text is one static "" (never written to). */
char *tkl_arena_strndup(struct tkl_arena *a, const char *s, size_t len);

/* The same for a NUL-terminated s; NULL gives NULL (not a failure). */
char *tkl_arena_strdup0(struct tkl_arena *a, const char *s);

/* The one copy of s kept in a: the same pointer for equal texts (s
 * itself when it is that copy). Returns NULL on allocation failure; NULL
 * gives NULL. */
char *tkl_arena_intern(struct tkl_arena *a, const char *s);

/* A hash of s[0..len), chained from h, eight bytes at a time: for tables
 * held in memory (it is not kept anywhere, and may change). */
uint64_t tkl_arena_hash(uint64_t h, const void *s, size_t len);

/*
 * Keeps every pointer from gave, and every pointer the arenas from keeps
 * gave, valid for as long as a: what a's owner copies from from's objects
 * without copying their texts. Chunks are counted, not copied; those from
 * makes later are not kept. Interned texts are each arena's own: a text
 * of from interned in a is copied. The arenas that keep one another's
 * chunks are freed on one thread (the counts are not atomic). Returns 0
 * or -ENOMEM (then a keeps what it kept before).
 */
int tkl_arena_keep(struct tkl_arena *a, const struct tkl_arena *from);

/* The bytes of the chunks a holds, its own and those it keeps: in cold
 * memory into *ret_cold, else into *ret_private. */
void tkl_arena_bytes(const struct tkl_arena *a, size_t *ret_cold, size_t *ret_private);

/* Frees all a holds (a chunk another arena keeps is freed with the last
 * arena that holds it); a is then empty, with its cold_dir, and can be
 * used again. */
void tkl_arena_free(struct tkl_arena *a);

#endif
