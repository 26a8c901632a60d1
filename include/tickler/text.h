/*
 * Text for plugins and host alike: escaping for HTML, and the words for a
 * secret that cannot be read.
 *
 * Header-only, like <tickler/day.h>: static inline functions that add no
 * symbol to the plugin ABI and need no change of TICKLER_ABI_VERSION.
 */
#ifndef TICKLER_TEXT_H
#define TICKLER_TEXT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

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
