/*
 * Signed links: the token a notice puts after public_url so that the
 * person it was sent to can act on one action from the message.
 *
 * A token is base64url without padding (RFC 4648 section 5: A-Z a-z 0-9
 * - _, nothing to escape in a URL, no '.' or '=') of
 *
 *   version (1 byte, 1)
 *   key id length (1 byte), key id
 *   action id length (1 byte), action id
 *   recipient length (1 byte), recipient
 *   issued_at, expires_at (8 bytes each, big-endian, seconds since the epoch)
 *   HMAC-SHA256 (32 bytes) under the key named, over "tickler-link\0" and
 *   every byte above
 *
 * Every field is length-prefixed, so no two different tuples sign the same
 * bytes. The recipient is carried in clear (base64 is no secrecy): the
 * verifier must name who a link was issued to (updates record "who"), the
 * link only ever goes to that address, and anyone who holds the message
 * holds the address already; a hash of it would need the verifier to guess
 * among the recipients of the day the notice was sent, which a reload can
 * change. For an action id of 40 bytes and an address of 60 the token is
 * 210 characters (with a key id of 5).
 *
 * Keys rotate through the key ring: the first key signs, the others only
 * verify; a retired key is removed from the ring and its tokens are then
 * "unknown key". Nothing here logs; a token or key never reaches a log.
 */
#ifndef TKL_TOKEN_H
#define TKL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TKL_TOKEN_VERSION       1
#define TKL_TOKEN_KEY_ID_MAX    16  /* [a-z0-9-]{1,16} */
#define TKL_TOKEN_ACTION_MAX    128 /* bytes of an action id */
#define TKL_TOKEN_RECIPIENT_MAX 254 /* bytes of an address (RFC 5321's path limit) */
#define TKL_TOKEN_SECRET_MIN    32  /* bytes of a key */
#define TKL_TOKEN_SECRET_MAX    64
/* The longest token tkl_token_issue writes, without its NUL; a longer
 * input is malformed without being decoded. */
#define TKL_TOKEN_MAX 600

struct tkl_token_key {
    char id[TKL_TOKEN_KEY_ID_MAX + 1];
    unsigned char secret[TKL_TOKEN_SECRET_MAX];
    size_t len;
};

/* The keys in force: keys[0] signs, every key verifies. Zero-initialise. */
struct tkl_token_ring {
    struct tkl_token_key *keys;
    size_t n;
};

/* What a valid token says. Strings are NUL-terminated. */
struct tkl_token {
    char key_id[TKL_TOKEN_KEY_ID_MAX + 1];
    char action_id[TKL_TOKEN_ACTION_MAX + 1];
    char recipient[TKL_TOKEN_RECIPIENT_MAX + 1];
    int64_t issued_at;
    int64_t expires_at;
};

/* Whether id is a key id: 1 to 16 of a-z, 0-9 and -. */
int tkl_token_key_id_valid(const char *id);

/*
 * Appends a key (a copy of secret) to ring; the first key added signs.
 * Returns 0, -EINVAL (id not a key id, or already in the ring), -ERANGE
 * (secret shorter than TKL_TOKEN_SECRET_MIN or longer than
 * TKL_TOKEN_SECRET_MAX bytes) or -ENOMEM.
 */
int tkl_token_ring_add(struct tkl_token_ring *ring, const char *id, const unsigned char *secret,
                       size_t len);

/*
 * Decodes a key file's text: hexadecimal digits (either case, as
 * `openssl rand -hex 32` writes them), nothing else. Returns 0 with the
 * bytes in secret[TKL_TOKEN_SECRET_MAX] and *ret_len, -EINVAL (not
 * hexadecimal, or an odd number of digits) or -ERANGE (fewer than 32 or
 * more than 64 bytes).
 */
int tkl_token_key_decode(const char *text, unsigned char *secret, size_t *ret_len);

/*
 * Adds the key id read with tkl_secret_read(base_dir, spec) (a file, or
 * "credential:NAME") and decoded by tkl_token_key_decode. Returns 0, the
 * errors of tkl_secret_read (-ENOENT, -EACCES, -EFBIG, ...), those of
 * tkl_token_key_decode, or those of tkl_token_ring_add. The text read is
 * wiped before it is freed.
 */
int tkl_token_ring_add_file(struct tkl_token_ring *ring, const char *id, const char *base_dir,
                            const char *spec);

/* Wipes every secret and frees the ring's memory; the ring is empty after.
 * Accepts an empty ring. */
void tkl_token_ring_free(struct tkl_token_ring *ring);

/*
 * Writes the token for (action_id, recipient, issued_at, expires_at),
 * signed with the ring's first key, into out (NUL-terminated). Returns 0,
 * -ENOKEY (empty ring), -EINVAL (an empty or too long id or recipient, one
 * holding a control character, or expires_at not after issued_at) or
 * -ENOBUFS (outlen too small: TKL_TOKEN_MAX + 1 always suffices); out is
 * untouched on failure.
 */
int tkl_token_issue(const struct tkl_token_ring *ring, const char *action_id, const char *recipient,
                    int64_t issued_at, int64_t expires_at, char *out, size_t outlen);

/*
 * Checks token (a NUL-terminated string, read no further than its NUL and
 * never past TKL_TOKEN_MAX + 1 bytes) at time now. In this order: -EINVAL
 * malformed (not canonical base64url, wrong version, bad framing or
 * lengths, trailing bytes), -ENOKEY a key id not in the ring, -EBADMSG a
 * signature that does not match (tampered), -ETIME expired (now >=
 * expires_at). The signature is compared in constant time. Returns 0 with
 * *ret filled, or -ETIME with *ret filled too (the signature matched, so
 * a page may say which action the link was for and when it expired, but
 * nothing may be done through it); on any other failure *ret is
 * untouched. The caller still checks that ret->action_id is the action
 * the link is used for.
 */
int tkl_token_verify(const struct tkl_token_ring *ring, const char *token, int64_t now,
                     struct tkl_token *ret);

/* What a page says of a result of tkl_token_verify (0 included): plain
 * text, no markup, never NULL. */
const char *tkl_token_strerror(int err);

#endif
