/* libFuzzer: the signed-link token parser (daemon/token/token.c). Input: a
 * token as it comes in a URL. The ring is fixed: key "fuzz-a" (32 bytes of
 * 0x5a) signs, "fuzz-b" (32 bytes of 0xb5) is still accepted. What must
 * hold: verify never reads past the input or crashes, returns 0 or one of
 * its four refusals, and accepts only what issuing with the same key and
 * fields writes byte for byte, i.e. a token this ring issued. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/token.h"

#define NOW 1796169600 /* 2026-12-02 */

static struct tkl_token_ring ring, only_a, only_b;

static void add(struct tkl_token_ring *r, const char *id, unsigned char fill)
{
    unsigned char secret[32];
    memset(secret, fill, sizeof(secret));
    if (tkl_token_ring_add(r, id, secret, sizeof(secret)) < 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    add(&ring, "fuzz-a", 0x5a);
    add(&ring, "fuzz-b", 0xb5);
    add(&only_a, "fuzz-a", 0x5a);
    add(&only_b, "fuzz-b", 0xb5);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct tkl_token t;
    int r = tkl_token_verify(&ring, s, NOW, &t);
    if (r == 0) {
        char again[TKL_TOKEN_MAX + 1];
        const struct tkl_token_ring *by = !strcmp(t.key_id, "fuzz-a") ? &only_a : &only_b;
        if (tkl_token_issue(by, t.action_id, t.recipient, t.issued_at, t.expires_at, again,
                            sizeof(again)) < 0 ||
            strcmp(again, s) != 0 || NOW >= t.expires_at)
            abort();
    } else if (r != -EINVAL && r != -EBADMSG && r != -ETIME && r != -ENOKEY) {
        abort();
    }
    free(s);
    return 0;
}
