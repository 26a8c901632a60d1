#include "arena.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

struct tkl_arena_chunk {
    struct tkl_arena_chunk *next;
    size_t size;   /* of data */
    unsigned refs; /* the arena that made it, and those that keep it */
    bool mapped;   /* mapped on its own (chunk_new), not malloc'd */
    bool cold;     /* and that in cold memory (tkl_mem_map_cold) */
    alignas(max_align_t) char data[];
};

/* Chunks double from 64 KiB to 4 MiB: a small plan stays small, a large
 * one costs a few hundred allocations; the pages of a chunk not yet
 * reached are not touched, so not resident. */
#define CHUNK_MIN ((size_t)64 << 10)
#define CHUNK_MAX ((size_t)4 << 20)

/* Once an arena holds HUGE_AFTER bytes, its further chunks are mapped on
 * their own in huge pages (tkl_mem_map_huge): a large load then takes a
 * page fault every 2 MiB of text instead of every 4 KiB. What that can
 * leave resident and unused is the unwritten part of the last chunk's two
 * huge pages (objects are put from a chunk's start, texts from its end):
 * under 4 MiB, against the 8 MiB or more the arena holds. A smaller plan
 * (under about 200,000 rows) is left as it was. */
#define HUGE_AFTER (2 * CHUNK_MAX)

/* A chunk of room bytes of data (sizeof header + room bytes in all), or
 * NULL on allocation failure. */
static struct tkl_arena_chunk *chunk_new(const struct tkl_arena *a, size_t room)
{
    size_t size = sizeof(struct tkl_arena_chunk) + room;
    struct tkl_arena_chunk *c;
    if ((c = tkl_mem_map_cold(a->cold_dir, size))) {
        c->mapped = c->cold = true;
        return c;
    }
    if (a->held < HUGE_AFTER || size % TKL_MEM_HUGE_PAGE) {
        if ((c = malloc(size))) {
            c->mapped = false;
            c->cold = false;
        }
        return c;
    }
    if ((c = tkl_mem_map_huge(size))) {
        c->mapped = true;
        c->cold = false;
    }
    return c;
}

/* Lets go of c: it is freed when no arena holds it any more. */
static void chunk_free(struct tkl_arena_chunk *c)
{
    if (--c->refs)
        return;
    if (c->mapped)
        tkl_mem_unmap(c, sizeof(*c) + c->size); /* all of it, as mapped */
    else
        free(c);
}

static char empty_text[1];

void *tkl_arena_alloc(struct tkl_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size > a->left) {
        /* sizes count the header, so a largest chunk is CHUNK_MAX whole */
        size_t want = a->chunks ? (sizeof(*a->chunks) + a->chunks->size) * 2 : CHUNK_MIN;
        if (want > CHUNK_MAX)
            want = CHUNK_MAX;
        want -= sizeof(*a->chunks);
        if (want < size)
            want = size;
        struct tkl_arena_chunk *c = chunk_new(a, want);
        if (!c)
            return NULL;
        c->size = want;
        c->refs = 1;
        a->held += sizeof(*c) + want;
        c->next = a->chunks;
        a->chunks = c;
        a->at = c->data;
        a->left = want;
    }
    void *p = a->at;
    a->at += size;
    a->left -= size;
    return p;
}

char *tkl_arena_strndup(struct tkl_arena *a, const char *s, size_t len)
{
    if (!len)
        return empty_text;
    /* texts need no alignment: they are taken from the end of the free
     * space, objects from its start */
    char *p;
    if (len + 1 <= a->left) {
        a->left -= len + 1;
        p = a->at + a->left;
    } else if (!(p = tkl_arena_alloc(a, len + 1))) {
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *tkl_arena_strdup0(struct tkl_arena *a, const char *s)
{
    return s ? tkl_arena_strndup(a, s, strlen(s)) : NULL;
}

uint64_t tkl_arena_hash(uint64_t h, const void *s, size_t len)
{
    const unsigned char *p = s;
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    uint64_t w = (uint64_t)len << 56;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ w) * k;
    return h ^ (h >> 32);
}

/* Grows the set of interned texts to twice its size. Returns 0 or -1. */
static int intern_grow(struct tkl_arena *a)
{
    size_t cap = a->cap_interned ? a->cap_interned * 2 : 256;
    char **t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (size_t i = 0; i < a->cap_interned; i++) {
        char *s = a->interned[i];
        if (!s)
            continue;
        size_t k = (size_t)tkl_arena_hash(0, s, strlen(s)) & (cap - 1);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = s;
    }
    free(a->interned);
    a->interned = t;
    a->cap_interned = cap;
    return 0;
}

/* The slot of a->recent for the text at s. */
static const char **recent_slot(struct tkl_arena *a, const char *s)
{
    uintptr_t k = (uintptr_t)s;
    return &a->recent[(k ^ k >> 6 ^ k >> 12) % (sizeof(a->recent) / sizeof(a->recent[0]))];
}

/* Notes that s is an interned text of a; returns it. */
static char *recently(struct tkl_arena *a, char *s)
{
    *recent_slot(a, s) = s;
    return s;
}

char *tkl_arena_intern(struct tkl_arena *a, const char *s)
{
    if (!s)
        return NULL;
    /* a text in recent is one of a's interned texts: never written to,
     * and kept as long as a */
    if (*recent_slot(a, s) == s)
        return (char *)s;
    size_t len = strlen(s);
    if (!len)
        return empty_text;
    if ((a->n_interned + 1) * 2 > a->cap_interned && intern_grow(a) < 0)
        return NULL;
    size_t mask = a->cap_interned - 1;
    size_t k = (size_t)tkl_arena_hash(0, s, len) & mask;
    for (; a->interned[k]; k = (k + 1) & mask)
        if (strcmp(a->interned[k], s) == 0)
            return recently(a, a->interned[k]);
    char *p = tkl_arena_strndup(a, s, len);
    if (!p)
        return NULL;
    a->interned[k] = p;
    a->n_interned++;
    return recently(a, p);
}

int tkl_arena_keep(struct tkl_arena *a, const struct tkl_arena *from)
{
    size_t n = from->n_kept;
    for (const struct tkl_arena_chunk *c = from->chunks; c; c = c->next)
        n++;
    if (!n)
        return 0;
    const size_t each = sizeof(struct tkl_arena_chunk *);
    if (n > SIZE_MAX / each - a->n_kept)
        return -ENOMEM;
    struct tkl_arena_chunk **v = realloc(a->kept, (a->n_kept + n) * each);
    if (!v)
        return -ENOMEM;
    a->kept = v;
    for (struct tkl_arena_chunk *c = from->chunks; c; c = c->next)
        v[a->n_kept++] = c;
    for (size_t i = 0; i < from->n_kept; i++)
        v[a->n_kept++] = from->kept[i];
    for (size_t i = a->n_kept - n; i < a->n_kept; i++)
        v[i]->refs++;
    return 0;
}

void tkl_arena_bytes(const struct tkl_arena *a, size_t *ret_cold, size_t *ret_private)
{
    size_t bytes[2] = {0, 0};
    for (const struct tkl_arena_chunk *c = a->chunks; c; c = c->next)
        bytes[c->cold] += sizeof(*c) + c->size;
    for (size_t i = 0; i < a->n_kept; i++)
        bytes[a->kept[i]->cold] += sizeof(*a->kept[i]) + a->kept[i]->size;
    *ret_private = bytes[0];
    *ret_cold = bytes[1];
}

void tkl_arena_free(struct tkl_arena *a)
{
    while (a->chunks) {
        struct tkl_arena_chunk *next = a->chunks->next;
        chunk_free(a->chunks);
        a->chunks = next;
    }
    for (size_t i = 0; i < a->n_kept; i++)
        chunk_free(a->kept[i]);
    free(a->kept);
    free(a->interned);
    const char *cold_dir = a->cold_dir;
    memset(a, 0, sizeof(*a));
    a->cold_dir = cold_dir;
}
