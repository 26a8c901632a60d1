#include "token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/secret.h"

#define MAC_LEN 32
/* the payload's longest: version, three length-prefixed fields, two times */
#define PAYLOAD_MAX                                                                                \
    (1 + 1 + TKL_TOKEN_KEY_ID_MAX + 1 + TKL_TOKEN_ACTION_MAX + 1 + TKL_TOKEN_RECIPIENT_MAX + 16)
#define RAW_MAX (PAYLOAD_MAX + MAC_LEN)

static const char domain[] = "tickler-link"; /* signed with its NUL */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int tkl_token_key_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > TKL_TOKEN_KEY_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return 0;
    return 1;
}

static const struct tkl_token_key *find_key(const struct tkl_token_ring *ring, const char *id,
                                            size_t n)
{
    for (size_t i = 0; i < ring->n; i++)
        if (strlen(ring->keys[i].id) == n && !memcmp(ring->keys[i].id, id, n))
            return &ring->keys[i];
    return NULL;
}

int tkl_token_ring_add(struct tkl_token_ring *ring, const char *id, const unsigned char *secret,
                       size_t len)
{
    if (!tkl_token_key_id_valid(id) || find_key(ring, id, strlen(id)))
        return -EINVAL;
    if (len < TKL_TOKEN_SECRET_MIN || len > TKL_TOKEN_SECRET_MAX)
        return -ERANGE;
    /* a fresh array, so no copy of a secret is left behind by realloc */
    struct tkl_token_key *k = calloc(ring->n + 1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    if (ring->n)
        memcpy(k, ring->keys, ring->n * sizeof(*k));
    struct tkl_token_key *nk = &k[ring->n];
    memcpy(nk->id, id, strlen(id) + 1);
    memcpy(nk->secret, secret, len);
    nk->len = len;
    if (ring->keys) {
        OPENSSL_cleanse(ring->keys, ring->n * sizeof(*ring->keys));
        free(ring->keys);
    }
    ring->keys = k;
    ring->n++;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tkl_token_key_decode(const char *text, unsigned char *secret, size_t *ret_len)
{
    size_t n = strlen(text);
    if (n % 2)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (hexval(text[i]) < 0)
            return -EINVAL;
    if (n / 2 < TKL_TOKEN_SECRET_MIN || n / 2 > TKL_TOKEN_SECRET_MAX)
        return -ERANGE;
    for (size_t i = 0; i < n / 2; i++)
        secret[i] =
            (unsigned char)((unsigned)hexval(text[2 * i]) << 4 | (unsigned)hexval(text[2 * i + 1]));
    *ret_len = n / 2;
    return 0;
}

int tkl_token_ring_add_file(struct tkl_token_ring *ring, const char *id, const char *base_dir,
                            const char *spec)
{
    char *text = NULL;
    unsigned char secret[TKL_TOKEN_SECRET_MAX];
    size_t len = 0;
    int r = tkl_secret_read(base_dir, spec, &text);
    if (r < 0)
        return r;
    r = tkl_token_key_decode(text, secret, &len);
    tkl_secret_free(text);
    if (r == 0)
        r = tkl_token_ring_add(ring, id, secret, len);
    OPENSSL_cleanse(secret, sizeof(secret));
    return r;
}

void tkl_token_ring_free(struct tkl_token_ring *ring)
{
    if (ring->keys) {
        OPENSSL_cleanse(ring->keys, ring->n * sizeof(*ring->keys));
        free(ring->keys);
    }
    ring->keys = NULL;
    ring->n = 0;
}

/* HMAC-SHA256 under k over the domain and payload[0..n). Returns 0 or
 * -EIO (OpenSSL failed). */
static int sign(const struct tkl_token_key *k, const unsigned char *payload, size_t n,
                unsigned char mac[MAC_LEN])
{
    unsigned char buf[sizeof(domain) + PAYLOAD_MAX];
    unsigned int len = 0;
    memcpy(buf, domain, sizeof(domain));
    memcpy(buf + sizeof(domain), payload, n);
    if (!HMAC(EVP_sha256(), k->secret, (int)k->len, buf, sizeof(domain) + n, mac, &len) ||
        len != MAC_LEN)
        return -EIO;
    return 0;
}

static void put_u64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (unsigned char)(u & 0xff);
}

static int64_t get_u64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* Whether s is 1..max bytes with no control character. */
static bool field_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static size_t put_field(unsigned char *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (unsigned char)n;
    for (size_t i = 0; i < n; i++) /* bytes, no NUL: the length says where it ends */
        p[1 + i] = (unsigned char)s[i];
    return n + 1;
}

/* base64url of raw[0..n) without padding into out (room for 4n/3 + 2). */
static size_t encode(const unsigned char *raw, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        out[o++] = b64[raw[i] >> 2];
        out[o++] = b64[(raw[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)raw[i] << 8 | raw[i + 1];
        out[o++] = b64[v >> 10 & 63];
        out[o++] = b64[v >> 4 & 63];
        out[o++] = b64[(v & 15) << 2];
    }
    out[o] = '\0';
    return o;
}

int tkl_token_issue(const struct tkl_token_ring *ring, const char *action_id, const char *recipient,
                    int64_t issued_at, int64_t expires_at, char *out, size_t outlen)
{
    unsigned char raw[RAW_MAX];
    char text[TKL_TOKEN_MAX + 1];
    size_t n = 0;
    if (!ring->n)
        return -ENOKEY;
    if (!field_ok(action_id, TKL_TOKEN_ACTION_MAX) ||
        !field_ok(recipient, TKL_TOKEN_RECIPIENT_MAX) || expires_at <= issued_at)
        return -EINVAL;
    const struct tkl_token_key *k = &ring->keys[0];
    raw[n++] = TKL_TOKEN_VERSION;
    n += put_field(raw + n, k->id);
    n += put_field(raw + n, action_id);
    n += put_field(raw + n, recipient);
    put_u64(raw + n, issued_at);
    put_u64(raw + n + 8, expires_at);
    n += 16;
    int r = sign(k, raw, n, raw + n);
    if (r < 0)
        return r;
    size_t len = encode(raw, n + MAC_LEN, text);
    if (len + 1 > outlen)
        return -ENOBUFS;
    memcpy(out, text, len + 1);
    return 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes canonical base64url of n characters into raw (room for RAW_MAX).
 * Non-zero unused bits of the last character are refused, so each byte
 * string has exactly one spelling. Returns the bytes or -EINVAL. */
static long decode(const char *s, size_t n, unsigned char *raw)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (n % 4 == 1 || n * 3 / 4 > RAW_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1))
        return -EINVAL;
    return (long)o;
}

/* Reads one length-prefixed field of raw[*at..n) into dst (room for max
 * + 1): 1..max bytes, no NUL. Returns 0 or -EINVAL. */
static int get_field(const unsigned char *raw, size_t n, size_t *at, char *dst, size_t max)
{
    if (*at >= n)
        return -EINVAL;
    size_t len = raw[*at];
    if (len == 0 || len > max || n - *at - 1 < len || memchr(raw + *at + 1, 0, len))
        return -EINVAL;
    memcpy(dst, raw + *at + 1, len);
    dst[len] = '\0';
    *at += 1 + len;
    return 0;
}

int tkl_token_verify(const struct tkl_token_ring *ring, const char *token, int64_t now,
                     struct tkl_token *ret)
{
    unsigned char raw[RAW_MAX], mac[MAC_LEN];
    struct tkl_token t;
    size_t n = strnlen(token, TKL_TOKEN_MAX + 1), at = 1;
    if (n > TKL_TOKEN_MAX)
        return -EINVAL;
    long got = decode(token, n, raw);
    if (got < 0)
        return -EINVAL;
    n = (size_t)got;
    if (n < 1 + MAC_LEN || raw[0] != TKL_TOKEN_VERSION)
        return -EINVAL;
    n -= MAC_LEN; /* the payload */
    if (get_field(raw, n, &at, t.key_id, TKL_TOKEN_KEY_ID_MAX) < 0 ||
        get_field(raw, n, &at, t.action_id, TKL_TOKEN_ACTION_MAX) < 0 ||
        get_field(raw, n, &at, t.recipient, TKL_TOKEN_RECIPIENT_MAX) < 0 || n - at != 16)
        return -EINVAL;
    t.issued_at = get_u64(raw + at);
    t.expires_at = get_u64(raw + at + 8);
    const struct tkl_token_key *k = find_key(ring, t.key_id, strlen(t.key_id));
    if (!k)
        return -ENOKEY;
    int r = sign(k, raw, n, mac);
    if (r < 0)
        return r;
    if (CRYPTO_memcmp(mac, raw + n, MAC_LEN) != 0)
        return -EBADMSG;
    *ret = t;
    return now >= t.expires_at ? -ETIME : 0;
}

const char *tkl_token_strerror(int err)
{
    switch (err) {
    case 0:
        return "This link is valid.";
    case -EINVAL:
        return "This link is incomplete or damaged. Open it again from the message, or copy "
               "the whole address.";
    case -EBADMSG:
        return "This link has been altered and cannot be trusted. Open it again from the "
               "message.";
    case -ETIME:
        return "This link has expired. Use the link in a later reminder about this action, "
               "if you have one; if not, ask the action plan's owner to record the update.";
    case -ENOKEY:
        return "This link was signed with a key that is no longer in use. Use the link in a "
               "later reminder about this action, if you have one; if not, ask the action "
               "plan's owner to record the update.";
    default:
        return "This link cannot be checked just now. Try again later.";
    }
}
