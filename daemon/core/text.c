#include "text.h"

#include <tickler/text.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(struct tkl_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int tkl_buf_append(struct tkl_buf *b, const void *data, size_t len)
{
    int r = buf_reserve(b, len);
    if (r < 0)
        return r;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int tkl_buf_puts(struct tkl_buf *b, const char *s)
{
    return tkl_buf_append(b, s, strlen(s));
}

int tkl_buf_putc(struct tkl_buf *b, char c)
{
    return tkl_buf_append(b, &c, 1);
}

int tkl_buf_printf(struct tkl_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    int r = buf_reserve(b, (size_t)n);
    if (r < 0) {
        va_end(ap2);
        return r;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

void tkl_buf_reset(struct tkl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void tkl_buf_free(struct tkl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *tkl_buf_steal(struct tkl_buf *b)
{
    char *p = b->data;
    if (!p)
        p = strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

bool tkl_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            /* ASCII, most of a plan's text, eight bytes at a time */
            uint64_t w;
            while (i + 8 <= len && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull)))
                i += 8;
            continue;
        }
        size_t n = tkl_utf8_decode(str + i, len - i, NULL);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

void tkl_utf8_tally(const char *s, size_t len, size_t *chars, size_t *stray)
{
    for (size_t i = 0; i < len;) {
        size_t n = tkl_utf8_decode(s + i, len - i, NULL);
        *chars += n > 1;
        *stray += !n;
        i += n ? n : 1;
    }
}

bool tkl_utf8_mostly(const char *s, size_t len)
{
    size_t chars = 0, stray = 0;
    tkl_utf8_tally(s, len, &chars, &stray);
    return chars > stray;
}

/* Windows-1252 0x80..0x9f; 0 marks the five undefined bytes, kept as U+FFFD. */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

size_t tkl_cp1252_char(unsigned char c, char out[3])
{
    unsigned cp = c;
    if (cp >= 0x80 && cp < 0xa0)
        cp = cp1252_high[cp - 0x80] ? cp1252_high[cp - 0x80] : 0xfffd;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

char *tkl_cp1252_to_utf8(const char *str, size_t len)
{
    struct tkl_buf b = {0};
    for (size_t i = 0; i < len; i++) {
        char out[3];
        if (tkl_buf_append(&b, out, tkl_cp1252_char((unsigned char)str[i], out)) < 0) {
            tkl_buf_free(&b);
            return NULL;
        }
    }
    return tkl_buf_steal(&b);
}

int tkl_buf_append_mended(struct tkl_buf *b, const char *s, size_t len)
{
    size_t was = b->len, run = 0; /* s[run..i): UTF-8 not yet appended */
    for (size_t i = 0; i < len;) {
        size_t n = tkl_utf8_decode(s + i, len - i, NULL);
        if (n) {
            i += n;
            continue;
        }
        char out[3];
        size_t k = tkl_cp1252_char((unsigned char)s[i], out);
        if (tkl_buf_append(b, s + run, i - run) < 0 || tkl_buf_append(b, out, k) < 0)
            goto fail;
        run = ++i;
    }
    if (tkl_buf_append(b, s + run, len - run) == 0)
        return 0;
fail:
    b->len = was;
    if (b->data)
        b->data[was] = '\0';
    return -ENOMEM;
}

char *tkl_utf8_or_cp1252(const char *s, size_t len)
{
    if (tkl_utf8_valid(s, len))
        return strndup(s, len);
    if (!tkl_utf8_mostly(s, len))
        return tkl_cp1252_to_utf8(s, len);
    struct tkl_buf b = {0};
    if (tkl_buf_append_mended(&b, s, len) < 0)
        return NULL;
    return tkl_buf_steal(&b);
}

/* Length of a white-space sequence at s: ASCII space, tab, CR, LF, VT, FF,
 * and U+00A0 (NBSP, C2 A0) which spreadsheets love. */
static size_t space_len(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
        return 1;
    if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
        return 2;
    return 0;
}

/* Whether s[0..len) holds no byte below 0x20, no DEL and no 0xC2 (the
 * lead byte of U+0080 to U+00BF): then nothing in it is a control. Eight
 * bytes at a time: tickler upcoming asks it of millions of titles. */
static bool surely_printable(const char *s, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x, d, c;
        memcpy(&x, s + i, 8);
        d = x ^ (ones * 0x7f);
        c = x ^ (ones * 0xc2);
        /* any byte below 0x20; any byte equal to 0x7f; to 0xc2 */
        if ((((x - ones * 0x20) & ~x) | ((d - ones) & ~d) | ((c - ones) & ~c)) & highs)
            return false;
    }
    for (; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20 || b == 0x7f || b == 0xc2)
            return false;
    }
    return true;
}

void tkl_text_printable(char *s, size_t len, bool one_line)
{
    if (surely_printable(s, len))
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && (one_line || (c != '\n' && c != '\t'))) || c == 0x7f) {
            s[i] = ' ';
        } else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9f) { /* U+0080 to U+009F: CSI, OSC... */
            s[i] = s[i + 1] = ' ';
            i++;
        }
    }
}

size_t tkl_utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

size_t tkl_utf8_chars(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)text[i] & 0xc0) != 0x80;
    return n;
}

char *tkl_text_clean(const char *s, bool fold)
{
    if (!s)
        return strdup("");
    size_t n;
    while ((n = space_len(s)) > 0)
        s += n;
    /* the copy is never longer than s: white space only shrinks */
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    bool pending_space = false;
    while (*s) {
        /* most bytes are no white space: past ' ', and no NBSP's lead */
        unsigned char ch = (unsigned char)*s;
        n = ch > ' ' && ch != 0xc2 ? 0 : space_len(s);
        if (n) {
            if (fold) {
                pending_space = true;
            } else {
                /* keep line breaks, normalise CRLF and CR to LF */
                if (*s == '\r' && s[1] == '\n')
                    n = 2;
                *o++ = (*s == '\r' || *s == '\n') ? '\n' : ' ';
            }
            s += n;
            continue;
        }
        if (pending_space) {
            *o++ = ' ';
            pending_space = false;
        }
        *o++ = *s++;
    }
    /* trim trailing white space left by the unfolded copy */
    while (!fold && o > out && (o[-1] == ' ' || o[-1] == '\n'))
        o--;
    *o = '\0';
    return out;
}

char *tkl_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

uint64_t tkl_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

char *tkl_path_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The length of the character at s when it shows as no text (see
 * tkl_text_blank), or 0. */
static size_t blank_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0 || p[1] == 0xad)) /* NEL, NBSP, SHY */
        return 2;
    if ((p[0] == 0xcd && p[1] == 0x8f) || /* U+034F COMBINING GRAPHEME JOINER */
        (p[0] == 0xd8 && p[1] == 0x9c))   /* U+061C ARABIC LETTER MARK */
        return 2;
    if (p[0] == 0xf3 && p[1] == 0xa0 &&
        (p[2] == 0x80 || p[2] == 0x81 || (p[2] >= 0x84 && p[2] <= 0x87)) && p[3] >= 0x80 &&
        p[3] <= 0xbf)
        return 4; /* the tags U+E0000..E007F, the variation selectors U+E0100..E01EF */
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||                   /* U+1680 */
        (p[0] == 0xe1 && p[1] == 0x85 && (p[2] == 0x9f || p[2] == 0xa0)) || /* U+115F, 1160 */
        (p[0] == 0xe1 && p[1] == 0xa0 && p[2] >= 0x8b && p[2] <= 0x8f))     /* U+180B..180F */
        return 3;
    if (p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xaf)))
        return 3; /* U+2000..200F (spaces, zero widths, marks), 2028..202F (breaks, embeddings) */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0x9f && p[2] <= 0xaf && p[2] != 0xa5)
        return 3; /* U+205F..206F but 2065: space, joiners, invisible operators, isolates */
    if ((p[0] == 0xe2 && p[1] == 0xa0 && p[2] == 0x80) ||                 /* U+2800 */
        (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||                 /* U+3000 */
        (p[0] == 0xe3 && p[1] == 0x85 && p[2] == 0xa4) ||                 /* U+3164 */
        (p[0] == 0xef && p[1] == 0xb8 && p[2] >= 0x80 && p[2] <= 0x8f) || /* U+FE00..FE0F */
        (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) ||                 /* U+FEFF */
        (p[0] == 0xef && p[1] == 0xbe && p[2] == 0xa0))                   /* U+FFA0 */
        return 3;
    return 0;
}

bool tkl_text_blank(const char *s)
{
    size_t n;
    while (s && (n = blank_len(s)))
        s += n;
    return !s || !*s;
}

/* The length of the line break at s (tkl_text_fput_line's), or 0. */
static size_t line_break(const char *s)
{
    if (*s == '\r' || *s == '\n')
        return 1;
    if (!strncmp(s, "\xc2\x85", 2))
        return 2;
    if (!strncmp(s, "\xe2\x80\xa8", 3) || !strncmp(s, "\xe2\x80\xa9", 3))
        return 3;
    return 0;
}

void tkl_text_fput_line(FILE *f, const char *s)
{
    while (*s) {
        size_t n = 0, k;
        while (s[n] && !line_break(s + n))
            n++;
        (void)fwrite(s, 1, n, f);
        s += n;
        if (!*s)
            break;
        fputc(' ', f);
        while ((k = line_break(s)))
            s += k;
    }
}

#define PDF "\xe2\x80\xac" /* U+202C POP DIRECTIONAL FORMATTING */
#define FSI "\xe2\x81\xa8" /* U+2068 FIRST STRONG ISOLATE */
#define PDI "\xe2\x81\xa9" /* U+2069 POP DIRECTIONAL ISOLATE */

/* The code point of the bidi control at s, an embedding, an override or
 * a PDF (U+202A to U+202E), an isolate or a PDI (U+2066 to U+2069), or
 * 0. */
static unsigned bidi_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] != 0xe2 || (p[1] != 0x80 && p[1] != 0x81) || !p[2])
        return 0;
    unsigned cp = 0x2000u | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ? cp : 0;
}

/* Writes s[0..n) to f, each byte through tkl_html_char when html, else
 * each run of line breaks as one space (tkl_text_fput_line), with every
 * PDI that closes no isolate opened before it in s[0..n) left out (it
 * would close the isolate s is quoted in: UAX #9 BD9), then the PDFs and
 * PDIs that close what s[0..n) leaves open: embeddings as a reader
 * without isolates counts them (each PDF closes the latest; a PDF too
 * many does nothing inside an isolate), isolates as UAX #9 does (each
 * PDI closes the latest, the embeddings inside it too). */
static void put_closed(FILE *f, const char *s, size_t n, bool html)
{
    size_t emb = 0, iso = 0, k;
    for (size_t i = 0; i < n; i++) {
        if (!html && (k = line_break(s + i))) {
            fputc(' ', f);
            while (i + k < n && line_break(s + i + k))
                k += line_break(s + i + k);
            i += k - 1;
            continue;
        }
        unsigned cp = i + 2 < n ? bidi_control(s + i) : 0;
        if (cp == 0x2069 && !iso) {
            i += 2;
            continue;
        }
        if (cp == 0x202c)
            emb -= emb > 0;
        else if (cp == 0x2069)
            iso--;
        else if (cp >= 0x2066)
            iso++;
        else if (cp)
            emb++;
        const char *e = html ? tkl_html_char(s[i]) : NULL;
        if (e)
            fputs(e, f);
        else
            fputc(s[i], f);
    }
    for (; emb; emb--)
        fputs(PDF, f);
    for (; iso; iso--)
        fputs(PDI, f);
}

char *tkl_text_reply_line(const char *s, size_t max)
{
    size_t len = strlen(s);
    char *text = tkl_utf8_valid(s, len)    ? strdup(s)
                 : tkl_utf8_mostly(s, len) ? tkl_utf8_repaired(s, len)
                                           : tkl_cp1252_to_utf8(s, len);
    char *line = NULL;
    size_t n = 0;
    FILE *f = text ? open_memstream(&line, &n) : NULL;
    if (!f) {
        free(text);
        return NULL;
    }
    tkl_text_fput_line(f, text);
    free(text);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(line);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n && bidi_control(line + i)) {
            i += 2;
            continue;
        }
        line[o++] = line[i];
    }
    line[o] = '\0';
    tkl_text_printable(line, o, true);
    if (o > max && max >= 4)
        memcpy(line + tkl_utf8_prefix(line, max - 3), "...", 4);
    else if (o > max)
        line[tkl_utf8_prefix(line, max)] = '\0';
    return line;
}

void tkl_text_fput_quote(FILE *f, const char *s)
{
    bool ascii = true;
    for (const char *p = s; *p && ascii; p++)
        ascii = (unsigned char)*p < 0x80;
    if (ascii) {
        tkl_text_fput_line(f, s);
        return;
    }
    fputs(FSI, f);
    put_closed(f, s, strlen(s), false);
    fputs(PDI, f);
}

char *tkl_text_quote(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    tkl_text_fput_quote(f, s);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

/* Whether tkl_text_escape writes the character cp as its bytes' \xNN. */
static bool escaped_char(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void tkl_byte_escape(unsigned char c, char out[4])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
}

/* Appends each byte of s[0..n) to b as \xNN. Returns 0 or -ENOMEM. */
static int put_hex(struct tkl_buf *b, const char *s, size_t n)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        char x[4];
        tkl_byte_escape((unsigned char)s[i], x);
        r = tkl_buf_append(b, x, sizeof(x));
    }
    return r;
}

char *tkl_text_escape(const char *s)
{
    struct tkl_buf b = {0};
    size_t len = strlen(s);
    int r = 0;
    for (size_t i = 0, k; r == 0 && i < len; i += k ? k : 1) {
        uint32_t cp = 0;
        k = tkl_utf8_decode(s + i, len - i, &cp);
        const char *named = !k           ? NULL
                            : cp == '\\' ? "\\\\"
                            : cp == '"'  ? "\\\""
                            : cp == '\n' ? "\\n"
                            : cp == '\r' ? "\\r"
                            : cp == '\t' ? "\\t"
                                         : NULL;
        if (named)
            r = tkl_buf_puts(&b, named);
        else if (!k || escaped_char(cp))
            r = put_hex(&b, s + i, k ? k : 1);
        else
            r = tkl_buf_append(&b, s + i, k);
    }
    if (r < 0) {
        tkl_buf_free(&b);
        return NULL;
    }
    return tkl_buf_steal(&b);
}

void tkl_html_fput_lines(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        const char *e = *p == '\n' || *p == '\r' ? "<br>" : tkl_html_char(*p);
        if (e)
            fputs(e, f);
        else
            fputc(*p, f);
    }
}

void tkl_html_fput_quote(FILE *f, const char *s)
{
    /* a line break ends a paragraph for the page's bidi: each line's
     * marks are closed on it */
    fputs("<bdi>", f);
    for (const char *p = s ? s : ""; *p;) {
        size_t n = strcspn(p, "\r\n");
        put_closed(f, p, n, true);
        p += n;
        if (*p) {
            fputs("<br>", f);
            p += p[0] == '\r' && p[1] == '\n' ? 2 : 1;
        }
    }
    fputs("</bdi>", f);
}
