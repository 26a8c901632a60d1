/*
 * Text helpers shared by the store, the schedule and the notifiers:
 * a growable buffer, UTF-8 validation and Windows-1252 conversion, and
 * whitespace clean-up.
 */
#ifndef TKL_TEXT_H
#define TKL_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tickler/text.h> /* tkl_utf8_decode, tkl_utf8_repaired */

struct tkl_buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
};

/* Each returns 0 or -ENOMEM; on failure the buffer keeps its old content. */
int tkl_buf_append(struct tkl_buf *b, const void *data, size_t len);
int tkl_buf_puts(struct tkl_buf *b, const char *s);
int tkl_buf_putc(struct tkl_buf *b, char c);
int tkl_buf_printf(struct tkl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tkl_buf_reset(struct tkl_buf *b);
void tkl_buf_free(struct tkl_buf *b);
/* Hands the content to the caller (never NULL on success: "" when empty).
 * Returns NULL on allocation failure. The buffer is left empty. */
char *tkl_buf_steal(struct tkl_buf *b);

/* True when s[0..len) is well-formed UTF-8 (tkl_utf8_decode of
 * <tickler/text.h> takes each of its characters). */
bool tkl_utf8_valid(const char *s, size_t len);

/* Whether s[0..len) holds more well-formed characters of more than one
 * byte than bytes that start none: text meant as UTF-8 with a stray byte
 * or a character cut, where Windows-1252 text (whose letter and
 * punctuation side by side may form one such character) has more stray
 * bytes. */
bool tkl_utf8_mostly(const char *s, size_t len);

/* Adds to *chars the well-formed characters of more than one byte of
 * s[0..len), and to *stray its bytes that start none: the counts
 * tkl_utf8_mostly compares. Text read in pieces, none of which ends
 * inside a character, sums to the counts of the whole. */
void tkl_utf8_tally(const char *s, size_t len, size_t *chars, size_t *stray);

/*
 * Converts Windows-1252 bytes to a new NUL-terminated UTF-8 string.
 * Returns NULL on allocation failure.
 */
char *tkl_cp1252_to_utf8(const char *s, size_t len);

/* Writes the Windows-1252 byte c as UTF-8 into out: U+FFFD for the five
 * bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
 * Returns its length, 1 to 3. */
size_t tkl_cp1252_char(unsigned char c, char out[3]);

/* Appends s[0..len) to b as UTF-8: each well-formed UTF-8 character as it
 * is, each byte that starts none read as Windows-1252 (tkl_cp1252_char).
 * Returns 0 or -ENOMEM (b as it was). */
int tkl_buf_append_mended(struct tkl_buf *b, const char *s, size_t len);

/* s[0..len) read as a plan's text is: as it is when it is UTF-8; when
 * most of it is (tkl_utf8_mostly), each byte that starts no UTF-8
 * character read as Windows-1252, the characters around it kept
 * (tkl_buf_append_mended); else the whole read as Windows-1252. A new
 * string, or NULL when out of memory. */
char *tkl_utf8_or_cp1252(const char *s, size_t len);

/*
 * A copy of s with leading and trailing white space removed, runs of white
 * space (including line breaks and NBSP) folded to one space when fold is
 * true. Returns NULL on allocation failure.
 */
char *tkl_text_clean(const char *s, bool fold);

/* Makes s[0..len) safe to print on a terminal, in place: control
 * characters (ESC, which starts a terminal's escape sequences, among
 * them), DEL and the C1 controls U+0080 to U+009F (CSI, OSC: two bytes,
 * two spaces) become spaces; so do line breaks and tabs when one_line. */
void tkl_text_printable(char *s, size_t len, bool one_line);

/* Whether s (NULL: none) says nothing: it holds only white space and
 * characters that show as none (ASCII white space, NEL, NO-BREAK SPACE,
 * SOFT HYPHEN, COMBINING GRAPHEME JOINER, the Unicode spaces U+1680,
 * U+2000 to U+200A, U+202F, U+205F, U+3000, LINE and PARAGRAPH
 * SEPARATOR, the zero widths and marks U+200B to U+200F, the embeddings
 * U+202A to U+202E, WORD JOINER and the invisible operators and
 * isolates U+2060 to U+206F, the fillers U+115F, U+1160, U+3164,
 * U+FFA0 and BRAILLE PATTERN BLANK U+2800, ARABIC LETTER MARK, the
 * Mongolian selectors and vowel separator U+180B to U+180F, the variation
 * selectors U+FE00 to U+FE0F and U+E0100 to U+E01EF, the tags U+E0000
 * to U+E007F, ZERO WIDTH NO-BREAK SPACE U+FEFF). */
bool tkl_text_blank(const char *s);

/* Writes s to f on one line: each run of line breaks (CR, LF, and NEL,
 * LINE SEPARATOR and PARAGRAPH SEPARATOR, U+0085, U+2028, U+2029, which a
 * mail client, a card or an editor may show as one) as one space, so that
 * text an officer wrote, quoted in a notice, cannot pass for a line of the
 * notice's own. */
void tkl_text_fput_line(FILE *f, const char *s);

/* Writes s, text an officer wrote, to f as tkl_text_fput_line does,
 * isolated from the text around it: when s holds any character that is
 * not ASCII (a right-to-left letter, a bidi control), inside FIRST STRONG
 * ISOLATE (U+2068) and POP DIRECTIONAL ISOLATE (U+2069), a PDI of s that
 * closes no isolate s opened left out (it would end the quote's), and
 * the embeddings, overrides (U+202A to U+202E) and isolates (U+2066 to
 * U+2068) s leaves open closed before the last PDI: PDFs (U+202C) for a
 * reader that knows no isolates, then PDIs (Unicode Bidirectional
 * Algorithm, UAX #9). Its other marks are kept, balanced or not: an
 * Arabic or Hebrew note may need them, and they cannot reorder the
 * notice's own text after it. ASCII cannot reorder the text around it
 * and is written as it is. */
void tkl_text_fput_quote(FILE *f, const char *s);

/* What tkl_text_fput_quote writes of s, a new string, or NULL (out of
 * memory). */
char *tkl_text_quote(const char *s);

/* s as the inside of a libconfig (or C) string literal, for a message
 * that quotes a value of the configuration on one line and shows what it
 * holds: backslash and double quote escaped (\\, \"), LF, CR and TAB as
 * \n, \r, \t; each byte of the other C0 controls, of DEL, of the C1
 * controls (U+0080 to U+009F), of LINE and PARAGRAPH SEPARATOR, of the
 * bidi embeddings, overrides and isolates (U+202A to U+202E, U+2066 to
 * U+2069), and each byte that starts no UTF-8 character, as \xNN; other
 * characters as they are. A new string, or NULL (out of memory). */
char *tkl_text_escape(const char *s);

/* Writes byte c as the four characters \xNN (small hex digits), as
 * tkl_text_escape and the log write a byte that is not text. */
void tkl_byte_escape(unsigned char c, char out[4]);

/* Writes s (NULL: nothing) to f for HTML element content: escaped
 * (tkl_html_char), each line break (CRLF, CR or LF) as <br>. */
void tkl_html_fput_lines(FILE *f, const char *s);

/* Writes s (NULL: nothing), text an officer wrote, to f for HTML element
 * content: inside <bdi>, which isolates it from the page's text around
 * it, escaped (tkl_html_char), each line break (CRLF, CR or LF) as <br>;
 * as a line break ends a paragraph for the page's bidi, each line is
 * closed as tkl_text_fput_quote closes the whole (its stray PDIs left
 * out, what it leaves open closed at its end). */
void tkl_html_fput_quote(FILE *f, const char *s);

/*
 * Text from elsewhere (a notifier's reply, whatever a plugin or the server
 * behind it sent) as one line of printable UTF-8 that a journal line can
 * quote and keep its fields after: valid UTF-8 is kept; in text that is
 * not, a stray byte is U+FFFD where most of its other characters are
 * UTF-8 (tkl_utf8_mostly), and the whole is read as Windows-1252 where
 * they are not; each run of line breaks is one space (tkl_text_fput_line),
 * the other controls spaces (tkl_text_printable); the embeddings,
 * overrides and isolates (U+202A to U+202E, U+2066 to U+2069) are left
 * out, so that none reorders what follows the text; at most max bytes:
 * longer text is cut at a character and "..." put after it (when max is
 * at least 4). A new string, or NULL when out of memory.
 */
char *tkl_text_reply_line(const char *s, size_t max);

/* The most bytes of a notifier's reply the host keeps, logs and prints
 * (tkl_text_reply_line's max): a journal line that quotes it keeps the
 * fields after it. */
#define TKL_REPLY_MAX 1024

/* The length of the longest prefix of s (NUL-terminated) of at most max
 * bytes that ends at a UTF-8 character boundary. */
size_t tkl_utf8_prefix(const char *s, size_t max);

/* The directory of the file at path: what precedes its last '/', "/" for
 * "/name", "." for a name alone. A new string, or NULL (out of memory). */
char *tkl_path_dir(const char *path);

/* How many UTF-8 characters text[0..len) holds (its bytes that start one). */
size_t tkl_utf8_chars(const char *text, size_t len);

/* strdup that accepts NULL (returns NULL) */
char *tkl_strdup0(const char *s);

/* 64-bit FNV-1a over len bytes, chained from h (start with TKL_FNV_INIT). */
#define TKL_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t tkl_fnv1a(uint64_t h, const void *data, size_t len);

/* "s" after a count of n that is not 1 ("1 action", "2 actions"), else "". */
static inline const char *tkl_plural(size_t n)
{
    return n == 1 ? "" : "s";
}

#endif
