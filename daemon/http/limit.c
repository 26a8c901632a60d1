#include "limit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

/* What one request takes from a bucket. */
#define UNIT 60

void tkl_limiter_init(struct tkl_limiter *l, unsigned per_minute, unsigned burst, size_t cap)
{
    *l = (struct tkl_limiter){.per_minute = per_minute ? per_minute : 1,
                              .burst = burst ? burst : 1,
                              .cap = cap ? cap : 1};
}

/* e's level at now: what it had, refilled since, up to a full bucket. */
static int64_t level_at(const struct tkl_limiter *l, const struct tkl_limit_entry *e, int64_t now)
{
    int64_t full = (int64_t)l->burst * UNIT;
    int64_t since = now > e->at ? now - e->at : 0; /* a clock set back refills nothing */
    if (since > full) /* at least a refill of one per second: full by then */
        return full;
    int64_t level = e->level + since * (int64_t)l->per_minute;
    return level < full ? level : full;
}

/* The entry of hash h, or NULL. */
static struct tkl_limit_entry *find(struct tkl_limiter *l, const unsigned char *h)
{
    for (size_t i = 0; i < l->n; i++)
        if (!memcmp(l->v[i].key, h, sizeof(l->v[i].key)))
            return &l->v[i];
    return NULL;
}

/* A slot for a new key: a free one, or the one whose bucket is fullest. */
static struct tkl_limit_entry *slot(struct tkl_limiter *l, int64_t now)
{
    if (l->n < l->cap)
        return &l->v[l->n++];
    struct tkl_limit_entry *best = &l->v[0];
    int64_t best_level = level_at(l, best, now);
    for (size_t i = 1; i < l->n; i++) {
        int64_t level = level_at(l, &l->v[i], now);
        if (level > best_level) {
            best = &l->v[i];
            best_level = level;
        }
    }
    return best;
}

int tkl_limiter_take(struct tkl_limiter *l, const void *key, size_t len, int64_t now)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    if (!l->v && !(l->v = calloc(l->cap, sizeof(*l->v))))
        return -ENOMEM;
    SHA256(key, len, digest);
    struct tkl_limit_entry *e = find(l, digest);
    if (!e) {
        e = slot(l, now);
        memcpy(e->key, digest, sizeof(e->key));
        e->level = (int64_t)l->burst * UNIT;
        e->at = now;
    }
    e->level = level_at(l, e, now);
    e->at = now > e->at ? now : e->at;
    if (e->level >= UNIT) {
        e->level -= UNIT;
        return 0;
    }
    int64_t missing = UNIT - e->level, rate = (int64_t)l->per_minute;
    return (int)((missing + rate - 1) / rate);
}

void tkl_limiter_free(struct tkl_limiter *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
