/*
 * Text for plugins and host alike: UTF-8 characters, escaping for HTML,
 * and the words for a secret that cannot be read.
 *
 * Header-only, like <tickler/day.h>: static inline functions that add no
 * symbol to the plugin ABI and need no change of TICKLER_ABI_VERSION.
 */
#ifndef TICKLER_TEXT_H
#define TICKLER_TEXT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The well-formed UTF-8 character that starts s[0..len): its length, 1 to
 * 4, and its code point in *cp (when cp is not NULL; untouched when 0 is
 * returned); 0 when none does: len 0, a byte that starts no character, a
 * sequence cut short (by len, or by a byte that is no continuation, NUL
 * among them), an overlong form, a surrogate, a code point past U+10FFFF.
 * Reads s[0..min(len, 4)) at most. What the host and the bundled plugins
 * take for well-formed UTF-8.
 */
static inline size_t tkl_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t c, min;
    size_t n;
    if (!len)
        return 0;
    if (p[0] < 0x80) {
        if (cp)
            *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, min = 0x80, c = p[0] & 0x1fu;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, min = 0x800, c = p[0] & 0x0fu;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, min = 0x10000, c = p[0] & 0x07u;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[k] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    if (cp)
        *cp = c;
    return n;
}

/*
 * A new NUL-terminated copy of s[0..len) with each byte that starts no
 * well-formed UTF-8 character (tkl_utf8_decode) replaced by U+FFFD, the
 * characters around it kept; NULL when out of memory.
 */
static inline char *tkl_utf8_repaired(const char *s, size_t len)
{
    char *out = len < SIZE_MAX / 3 ? (char *)malloc(3 * len + 1) : NULL;
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = tkl_utf8_decode(s + i, len - i, NULL);
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD for the byte */
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

/*
 * What HTML text shows for byte c: "&amp;", "&lt;", "&gt;", "&quot;" or
 * "&#39;" for & < > " and ', a space for any other ASCII control character
 * (line breaks included) and DEL; NULL when c stands for itself (bytes of
 * UTF-8 sequences included). What it gives is safe in element content and
 * in quoted attribute values. A caller that keeps line breaks (as <br>)
 * handles them before asking.
 */
static inline const char *tkl_html_char(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return (unsigned char)c < 0x20 || c == 0x7f ? " " : NULL;
    }
}

/* Writes s to f escaped by tkl_html_char; NULL writes nothing. Returns 0,
 * or -EIO when f reports an error. */
static inline int tkl_html_fputs(const char *s, FILE *f)
{
    for (; s && *s; s++) {
        const char *e = tkl_html_char(*s);
        if ((e ? fputs(e, f) : putc(*s, f)) == EOF)
            return -EIO;
    }
    return 0;
}

/*
 * Why a secret could not be read, for "cannot read KEY FILE: <this>": the
 * negative errno of read_secret (and of the host's own secret files).
 */
static inline const char *tkl_secret_strerror(int r)
{
    switch (r) {
    case -ENODATA:
        return "the file is empty (it must hold the secret, on one line)";
    case -EBADMSG:
        return "the file holds more than the secret on one line (a second line, or a NUL byte)";
    case -EFBIG:
        return "the file is larger than 64 KiB, too large to be a secret";
    default:
        return strerror(-r);
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TICKLER_TEXT_H */
