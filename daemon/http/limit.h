/*
 * Rate limits: a token bucket per key (a client's address, a link), in
 * bounded memory. Each key may make `burst` requests at once and one more
 * every 60 / per_minute seconds after. Keys are kept as a hash (SHA-256,
 * truncated), never as given, so a limiter holds no token or address.
 *
 * At most cap keys are kept. A key not kept has a full bucket; when room
 * is needed the key whose bucket is fullest is forgotten, which loses the
 * least: a client that is being held back stays held back however many
 * other keys arrive.
 */
#ifndef TKL_LIMIT_H
#define TKL_LIMIT_H

#include <stddef.h>
#include <stdint.h>

struct tkl_limit_entry {
    unsigned char key[16]; /* of the key given */
    int64_t at;            /* when level was brought up to date */
    int64_t level;         /* what is left: 60 per request */
};

struct tkl_limiter {
    unsigned per_minute; /* the refill, in requests per minute */
    unsigned burst;      /* the bucket, in requests */
    size_t cap;          /* keys kept at most */
    struct tkl_limit_entry *v;
    size_t n;
};

/* Readies l (nothing is allocated until the first take). per_minute,
 * burst and cap must be at least 1. */
void tkl_limiter_init(struct tkl_limiter *l, unsigned per_minute, unsigned burst, size_t cap);

/*
 * Takes one request of key (len bytes) at now (seconds). Returns 0 when
 * it may go ahead, or the seconds until it may (at least 1), taking
 * nothing then; -ENOMEM when the limiter cannot be set up (the request
 * should not go ahead).
 */
int tkl_limiter_take(struct tkl_limiter *l, const void *key, size_t len, int64_t now);

/* Frees what l holds; it is empty after (its settings kept). */
void tkl_limiter_free(struct tkl_limiter *l);

#endif
