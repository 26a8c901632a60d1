/* Tests for daemon/token/token.c: signed links issued and checked — the
 * round trip, every altered or cut token refused, one action's token never
 * another's, expiry at its second, key rotation, short keys refused, keys
 * from files and systemd credentials, and allocation failures. */
#include <check.h>

#include "alloc_fail.h"
#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token/token.h"

#define T0  1796169600 /* 2026-12-02 */
#define DAY 86400

static const char *const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%+/ ";

/* A ring of one key id whose 32 secret bytes are all fill. */
static void ring_of(struct tkl_token_ring *ring, const char *id, unsigned char fill)
{
    unsigned char secret[32];
    memset(secret, fill, sizeof(secret));
    ck_assert_int_eq(tkl_token_ring_add(ring, id, secret, sizeof(secret)), 0);
}

static void issue(const struct tkl_token_ring *ring, const char *action, char *out)
{
    ck_assert_int_eq(tkl_token_issue(ring, action, "policy-team@example.gov.uk", T0, T0 + 45 * DAY,
                                     out, TKL_TOKEN_MAX + 1),
                     0);
}

START_TEST(a_token_verifies_with_what_it_was_issued_for)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x11);
    char tok[TKL_TOKEN_MAX + 1];
    const char *action = "equality-objective-2-publish-pay-gap-report-a1b2c3";
    const char *to = "equality.and.diversity.officers@council.example.gov.uk";
    ck_assert_int_eq(tkl_token_issue(&ring, action, to, T0, T0 + 45 * DAY, tok, sizeof(tok)), 0);
    /* short enough for a link in a message, and nothing to escape in a URL */
    ck_assert_uint_le(strlen(tok), 300);
    ck_assert_uint_eq(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        strlen(tok));
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0 + 10 * DAY, &t), 0);
    ck_assert_str_eq(t.key_id, "2026a");
    ck_assert_str_eq(t.action_id, action);
    ck_assert_str_eq(t.recipient, to);
    ck_assert_int_eq(t.issued_at, T0);
    ck_assert_int_eq(t.expires_at, T0 + 45 * DAY);
    /* the same inputs give the same token; another recipient another */
    char again[TKL_TOKEN_MAX + 1], other[TKL_TOKEN_MAX + 1];
    ck_assert_int_eq(tkl_token_issue(&ring, action, to, T0, T0 + 45 * DAY, again, sizeof(again)),
                     0);
    ck_assert_str_eq(again, tok);
    ck_assert_int_eq(tkl_token_issue(&ring, action, "someone@example.org", T0, T0 + 45 * DAY, other,
                                     sizeof(other)),
                     0);
    ck_assert_str_ne(other, tok);
    tkl_token_ring_free(&ring);
    ck_assert_uint_eq(ring.n, 0);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(every_changed_character_is_refused)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x22);
    char tok[TKL_TOKEN_MAX + 1], bad[TKL_TOKEN_MAX + 1];
    issue(&ring, "act-1", tok);
    size_t n = strlen(tok);
    struct tkl_token t;
    unsigned long tampered = 0;
    for (size_t i = 0; i < n; i++)
        for (const char *c = alphabet; *c; c++) {
            if (*c == tok[i])
                continue;
            memcpy(bad, tok, n + 1);
            bad[i] = *c;
            memset(&t, 0x5a, sizeof(t));
            int r = tkl_token_verify(&ring, bad, T0, &t);
            ck_assert_msg(r == -EINVAL || r == -EBADMSG || r == -ENOKEY, "position %zu as '%c': %d",
                          i, *c, r);
            ck_assert_uint_eq((unsigned char)t.action_id[0], 0x5a); /* untouched */
            tampered += r == -EBADMSG;
        }
    /* most changes reach the signature check and are named as tampering */
    ck_assert_uint_gt(tampered, n * 40);
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0, &t), 0);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(cut_or_lengthened_tokens_are_refused)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x33);
    char tok[TKL_TOKEN_MAX + 1], bad[TKL_TOKEN_MAX + 8];
    issue(&ring, "act-1", tok);
    size_t n = strlen(tok);
    struct tkl_token t;
    for (size_t len = 0; len < n; len++) {
        /* exactly len bytes on the heap: reading past them is caught */
        char *cut = malloc(len + 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, tok, len);
        cut[len] = '\0';
        int r = tkl_token_verify(&ring, cut, T0, &t);
        ck_assert_msg(r == -EINVAL || r == -EBADMSG, "cut at %zu: %d", len, r);
        free(cut);
    }
    snprintf(bad, sizeof(bad), "%sA", tok);
    ck_assert_int_lt(tkl_token_verify(&ring, bad, T0, &t), 0);
    snprintf(bad, sizeof(bad), "%sAAAA", tok);
    ck_assert_int_eq(tkl_token_verify(&ring, bad, T0, &t), -EINVAL);
    /* far too long: refused without decoding */
    char *huge = malloc(100001);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'A', 100000);
    huge[100000] = '\0';
    ck_assert_int_eq(tkl_token_verify(&ring, huge, T0, &t), -EINVAL);
    free(huge);
    ck_assert_int_eq(tkl_token_verify(&ring, "", T0, &t), -EINVAL);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(a_token_for_one_action_names_that_action_only)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x44);
    char a[TKL_TOKEN_MAX + 1], b[TKL_TOKEN_MAX + 1];
    issue(&ring, "action-a", a);
    issue(&ring, "action-b", b);
    ck_assert_str_ne(a, b);
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&ring, a, T0, &t), 0);
    /* a page for action-b given a's token: the caller's check refuses it */
    ck_assert_str_eq(t.action_id, "action-a");
    ck_assert_int_ne(strcmp(t.action_id, "action-b"), 0);
    /* a's signature on b's fields: tampered */
    char mixed[TKL_TOKEN_MAX + 1];
    size_t n = strlen(a);
    ck_assert_uint_eq(strlen(b), n);
    memcpy(mixed, b, n - 43); /* b's fields, a's last 43 characters (the MAC's 32 bytes) */
    memcpy(mixed + n - 43, a + n - 43, 44);
    ck_assert_int_eq(tkl_token_verify(&ring, mixed, T0, &t), -EBADMSG);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(a_token_expires_at_its_second)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x55);
    char tok[TKL_TOKEN_MAX + 1];
    issue(&ring, "act-1", tok);
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0 + 45 * DAY - 1, &t), 0);
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0 + 45 * DAY, &t), -ETIME);
    /* expired, its signature good: what it was for is told */
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0 + 400 * DAY, &t), -ETIME);
    ck_assert_str_eq(t.action_id, "act-1");
    ck_assert_int_eq(t.expires_at, T0 + 45 * DAY);
    /* an expired token that was also altered is named as altered, and
     * tells nothing */
    size_t n = strlen(tok);
    tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A'; /* in the signature */
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(tkl_token_verify(&ring, tok, T0 + 400 * DAY, &t), -EBADMSG);
    ck_assert_str_eq(t.action_id, "");
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(keys_rotate_and_a_retired_key_is_unknown)
{
    struct tkl_token_ring old = {0}, both = {0}, fresh = {0}, forged = {0};
    ring_of(&old, "2025a", 0x66);
    ring_of(&both, "2026a", 0x77); /* signs */
    ring_of(&both, "2025a", 0x66); /* still accepted */
    ring_of(&fresh, "2026a", 0x77);
    ring_of(&forged, "2025a", 0x99); /* the old id, another secret */
    char by_old[TKL_TOKEN_MAX + 1], by_new[TKL_TOKEN_MAX + 1];
    issue(&old, "act-1", by_old);
    issue(&both, "act-1", by_new);
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&both, by_old, T0, &t), 0);
    ck_assert_str_eq(t.key_id, "2025a");
    ck_assert_int_eq(tkl_token_verify(&both, by_new, T0, &t), 0);
    ck_assert_str_eq(t.key_id, "2026a");
    /* the old key retired: its tokens are unknown, the new ones still good */
    ck_assert_int_eq(tkl_token_verify(&fresh, by_old, T0, &t), -ENOKEY);
    ck_assert_int_eq(tkl_token_verify(&fresh, by_new, T0, &t), 0);
    ck_assert_int_eq(tkl_token_verify(&old, by_new, T0, &t), -ENOKEY);
    ck_assert_int_eq(tkl_token_verify(&forged, by_old, T0, &t), -EBADMSG);
    struct tkl_token_ring none = {0};
    ck_assert_int_eq(tkl_token_verify(&none, by_old, T0, &t), -ENOKEY);
    char out[TKL_TOKEN_MAX + 1];
    ck_assert_int_eq(tkl_token_issue(&none, "a", "b", T0, T0 + 1, out, sizeof(out)), -ENOKEY);
    tkl_token_ring_free(&old);
    tkl_token_ring_free(&both);
    tkl_token_ring_free(&fresh);
    tkl_token_ring_free(&forged);
}
END_TEST

START_TEST(short_keys_and_bad_ids_are_refused)
{
    struct tkl_token_ring ring = {0};
    unsigned char s[65] = {0};
    size_t len = 0;
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k", s, 31), -ERANGE);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k", s, 65), -ERANGE);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "", s, 32), -EINVAL);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "Upper", s, 32), -EINVAL);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "a-very-long-key-id", s, 32), -EINVAL);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k.1", s, 32), -EINVAL);
    ck_assert_uint_eq(ring.n, 0);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k-1", s, 64), 0);
    ck_assert_int_eq(tkl_token_ring_add(&ring, "k-1", s, 32), -EINVAL); /* twice */
    ck_assert_uint_eq(ring.n, 1);
    /* 31 bytes in hex; not hex; an odd digit count */
    ck_assert_int_eq(tkl_token_key_decode(
                         "00112233445566778899aabbccddeeff00112233445566778899aabbccddee", s, &len),
                     -ERANGE);
    ck_assert_int_eq(
        tkl_token_key_decode("zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", s,
                             &len),
        -EINVAL);
    ck_assert_int_eq(tkl_token_key_decode("0", s, &len), -EINVAL);
    ck_assert_int_eq(
        tkl_token_key_decode("00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", s,
                             &len),
        0);
    ck_assert_uint_eq(len, 32);
    ck_assert_uint_eq(s[10], 0xaa);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(issue_refuses_what_it_cannot_sign)
{
    struct tkl_token_ring ring = {0};
    ring_of(&ring, "2026a", 0x12);
    char out[TKL_TOKEN_MAX + 1], longid[TKL_TOKEN_ACTION_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    strcpy(out, "untouched");
    ck_assert_int_eq(tkl_token_issue(&ring, "", "a@b", T0, T0 + 1, out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(tkl_token_issue(&ring, "a", "", T0, T0 + 1, out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(tkl_token_issue(&ring, "a\n", "a@b", T0, T0 + 1, out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(tkl_token_issue(&ring, longid, "a@b", T0, T0 + 1, out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(tkl_token_issue(&ring, "a", "a@b", T0, T0, out, sizeof(out)), -EINVAL);
    ck_assert_int_eq(tkl_token_issue(&ring, "a", "a@b", T0, T0 + 1, out, 20), -ENOBUFS);
    ck_assert_str_eq(out, "untouched");
    /* the longest fields fit TKL_TOKEN_MAX */
    char rcpt[TKL_TOKEN_RECIPIENT_MAX + 1];
    memset(rcpt, 'r', sizeof(rcpt) - 1);
    rcpt[sizeof(rcpt) - 1] = '\0';
    longid[TKL_TOKEN_ACTION_MAX] = '\0';
    struct tkl_token_ring big = {0};
    ring_of(&big, "sixteen-chars-id", 0x13);
    ck_assert_int_eq(tkl_token_issue(&big, longid, rcpt, T0, T0 + 1, out, sizeof(out)), 0);
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&big, out, T0, &t), 0);
    ck_assert_str_eq(t.recipient, rcpt);
    tkl_token_ring_free(&big);
    tkl_token_ring_free(&ring);
}
END_TEST

START_TEST(each_refusal_has_its_own_words)
{
    const char *bad = tkl_token_strerror(-EINVAL), *tampered = tkl_token_strerror(-EBADMSG),
               *expired = tkl_token_strerror(-ETIME), *unknown = tkl_token_strerror(-ENOKEY);
    ck_assert_ptr_nonnull(strstr(expired, "expired"));
    ck_assert_ptr_nonnull(strstr(tampered, "altered"));
    ck_assert_ptr_nonnull(strstr(unknown, "no longer in use"));
    ck_assert_ptr_nonnull(strstr(bad, "damaged"));
    ck_assert_ptr_nonnull(tkl_token_strerror(-EIO));
    ck_assert_ptr_null(strchr(bad, '<'));
}
END_TEST

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char hex32[] = "8f3c0d5e2a41b7c9e06f1d2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e\n";

START_TEST(keys_are_read_from_files_and_credentials)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    write_file("link-key", hex32);
    write_file("short-key", "8f3c0d5e2a41b7c9\n");
    write_file("text-key", "correct horse battery staple correct horse battery staple\n");
    struct tkl_token_ring by_file = {0}, by_cred = {0};
    ck_assert_int_eq(tkl_token_ring_add_file(&by_file, "2026a", tmpdir, "link-key"), 0);
    ck_assert_int_eq(tkl_token_ring_add_file(&by_file, "k2", tmpdir, "short-key"), -ERANGE);
    ck_assert_int_eq(tkl_token_ring_add_file(&by_file, "k3", tmpdir, "text-key"), -EINVAL);
    ck_assert_int_eq(tkl_token_ring_add_file(&by_file, "k4", tmpdir, "missing"), -ENOENT);
    ck_assert_uint_eq(by_file.n, 1);
    unsetenv("CREDENTIALS_DIRECTORY");
    ck_assert_int_eq(tkl_token_ring_add_file(&by_cred, "2026a", NULL, "credential:link-key"),
                     -ENOENT);
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
    ck_assert_int_eq(tkl_token_ring_add_file(&by_cred, "2026a", NULL, "credential:link-key"), 0);
    unsetenv("CREDENTIALS_DIRECTORY");
    /* the same key either way */
    char tok[TKL_TOKEN_MAX + 1];
    issue(&by_file, "act-1", tok);
    struct tkl_token t;
    ck_assert_int_eq(tkl_token_verify(&by_cred, tok, T0, &t), 0);
    tkl_token_ring_free(&by_file);
    tkl_token_ring_free(&by_cred);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(allocation_failures_leave_the_ring_as_it_was)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    write_file("link-key", hex32);
    int r = -ENOMEM;
    unsigned long failures = 0;
    for (unsigned long n = 1; r == -ENOMEM && n < 100; n++) {
        struct tkl_token_ring ring = {0};
        ring_of(&ring, "old", 0x21);
        alloc_fail_nth(n);
        r = tkl_token_ring_add_file(&ring, "2026a", tmpdir, "link-key");
        alloc_fail_nth(0);
        ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %lu: %d", n, r);
        if (r == -ENOMEM) {
            failures++;
            ck_assert_uint_eq(ring.n, 1);
            ck_assert_str_eq(ring.keys[0].id, "old");
        } else {
            ck_assert_uint_eq(ring.n, 2);
        }
        tkl_token_ring_free(&ring);
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_gt(failures, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("token");
    TCase *c = tcase_create("core");
    tcase_add_test(c, a_token_verifies_with_what_it_was_issued_for);
    tcase_add_test(c, every_changed_character_is_refused);
    tcase_add_test(c, cut_or_lengthened_tokens_are_refused);
    tcase_add_test(c, a_token_for_one_action_names_that_action_only);
    tcase_add_test(c, a_token_expires_at_its_second);
    tcase_add_test(c, keys_rotate_and_a_retired_key_is_unknown);
    tcase_add_test(c, short_keys_and_bad_ids_are_refused);
    tcase_add_test(c, issue_refuses_what_it_cannot_sign);
    tcase_add_test(c, each_refusal_has_its_own_words);
    tcase_add_test(c, keys_are_read_from_files_and_credentials);
    tcase_add_test(c, allocation_failures_leave_the_ring_as_it_was);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}
