#include "csv.h"

#include <csv.h> /* libcsv */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/text.h"

/* The lines holding bytes read as Windows-1252 in a file mostly UTF-8
 * that are warned of one by one; those after them are counted in one
 * warning. */
#define MAX_MENDED_LINES 5u
/* The bytes of a line that its warning lists. */
#define MAX_MENDED_BYTES 4u

struct reader {
    const char *file;
    struct tkl_diags *diags;
    tkl_csv_record_fn *fn;
    void *ctx;
    struct tkl_buf text; /* the record's fields, each NUL-terminated */
    size_t *at;          /* offset of each field in text */
    char **cells;        /* the fields, set when the record ends */
    size_t n;
    size_t cap;
    unsigned line;        /* physical line being fed */
    unsigned record_line; /* first line of the current record */
    bool record_started;
    bool after_cr;      /* the text fed last ended with "\r" */
    size_t prev_fields; /* the fields of the record before the last one read */
    bool last_short;    /* the last record read had fewer */
    bool may_hold;      /* tkl_csv_read's */
    int err;            /* first error, negative errno */
    /* In a text mostly UTF-8, or with a byte order mark, each byte that
     * starts no UTF-8 character is read as Windows-1252 (mend), each line
     * holding one warned of: */
    bool mend;
    struct tkl_buf mended; /* a line's text so read */
    unsigned mended_lines; /* the lines holding such bytes so far */
    unsigned mended_line;  /* the last of them */
    unsigned mended_first; /* the first past MAX_MENDED_LINES, 0 when none */
    size_t mended_diag;    /* the last's warning in diags (SIZE_MAX: none) */
    unsigned mended_bytes; /* the bytes the last holds */
    char mended_said[128]; /* and the first MAX_MENDED_BYTES of them */
};

static void cells_clear(struct reader *R)
{
    R->n = 0;
    R->text.len = 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
    struct reader *R = ctx;
    if (R->err)
        return;
    R->record_started = true;
    if (R->n == R->cap) {
        size_t cap = R->cap ? R->cap * 2 : 16;
        size_t *at = realloc(R->at, cap * sizeof(*at));
        if (at)
            R->at = at;
        char **cells = at ? realloc(R->cells, cap * sizeof(*cells)) : NULL;
        if (!cells) {
            R->err = -ENOMEM;
            return;
        }
        R->cells = cells;
        R->cap = cap;
    }
    /* one buffer for the record's fields, not an allocation each; the
     * buffer puts a NUL after what is appended, kept as the field's end */
    size_t start = R->text.len;
    if (tkl_buf_append(&R->text, data, data ? len : 0) < 0) {
        R->err = -ENOMEM;
        return;
    }
    R->text.len++;
    R->at[R->n++] = start;
}

static bool record_blank(const struct reader *R)
{
    for (size_t i = 0; i < R->n; i++)
        for (const char *p = R->cells[i]; *p; p++)
            if (!isspace((unsigned char)*p))
                return false;
    return true;
}

static void on_record(int term, void *ctx)
{
    (void)term;
    struct reader *R = ctx;
    if (R->err) {
        cells_clear(R);
        return;
    }
    R->record_started = false;
    for (size_t i = 0; i < R->n; i++)
        R->cells[i] = R->text.data + R->at[i];
    if (!record_blank(R)) {
        R->last_short = R->n < R->prev_fields;
        R->prev_fields = R->n;
        int r = R->fn(R->ctx, R->cells, R->n, R->record_line);
        if (r < 0)
            R->err = r;
    }
    cells_clear(R);
}

/* Index of the first line holding bytes that are not UTF-8. */
static unsigned first_bad_line(const char *data, size_t len)
{
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || data[i] == '\n') {
            if (!tkl_utf8_valid(data + start, i - start))
                return line;
            line++;
            start = i + 1;
        }
    }
    return 0;
}

static bool has_bom(const char *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
}

/* The text of *data: past a byte order mark; when it is not UTF-8,
 * either to be mended line by line (*ret_mend: it has a byte order mark
 * or is mostly UTF-8), or converted whole from Windows-1252 into
 * *ret_converted (for the caller to free). Returns 0, -EINVAL (NUL bytes)
 * or -ENOMEM. */
static int text_of(const char *file, const char **data, size_t *len, bool *ret_mend,
                   char **ret_converted, struct tkl_diags *diags)
{
    bool bom = has_bom(*data, *len);
    if (bom) {
        *data += 3;
        *len -= 3;
    }
    if (*len && memchr(*data, '\0', *len)) {
        tkl_diag_add(diags, TKL_SEV_ERROR, file, 0, NULL,
                     "contains NUL bytes: not a CSV text file (saved as .xlsx or UTF-16?)");
        return -EINVAL;
    }
    if (tkl_utf8_valid(*data, *len))
        return 0;
    if (bom || tkl_utf8_mostly(*data, *len)) {
        *ret_mend = true;
        return 0;
    }
    unsigned bad = first_bad_line(*data, *len);
    char *converted = tkl_cp1252_to_utf8(*data, *len);
    if (!converted)
        return -ENOMEM;
    tkl_diag_add(diags, TKL_SEV_WARNING, file, bad, NULL,
                 "not valid UTF-8; the file was read as Windows-1252 (save it as \"CSV "
                 "UTF-8\" to avoid this)");
    *data = converted;
    *len = strlen(converted);
    *ret_converted = converted;
    return 0;
}

/* Lists in R->mended_said the bytes of s[0..len) that start no UTF-8
 * character, as each was read, counting them in R->mended_bytes. */
static void list_mended(struct reader *R, const char *s, size_t len)
{
    size_t at = strlen(R->mended_said);
    for (size_t i = 0; i < len;) {
        size_t n = tkl_utf8_decode(s + i, len - i, NULL);
        if (n) {
            i += n;
            continue;
        }
        unsigned char c = (unsigned char)s[i++];
        if (R->mended_bytes++ >= MAX_MENDED_BYTES)
            continue;
        char out[4];
        out[tkl_cp1252_char(c, out)] = '\0';
        bool undefined = !strcmp(out, "\xef\xbf\xbd");
        int w = snprintf(R->mended_said + at, sizeof(R->mended_said) - at, "%s0x%02X \"%s\"%s",
                         at ? ", " : "", c, out, undefined ? " (undefined)" : "");
        if (w > 0)
            at += (size_t)w < sizeof(R->mended_said) - at ? (size_t)w : 0;
    }
}

/* Reads s[0..len), a piece of line R->line that is not UTF-8, into
 * R->mended, each byte that starts no UTF-8 character as Windows-1252,
 * and warns of the line: one warning a line, listing the bytes of all
 * its pieces, for the first MAX_MENDED_LINES such lines; the lines after
 * them are counted (mended_said). Returns 0, or -ENOMEM in R->err. */
static int mend_piece(struct reader *R, const char *s, size_t len)
{
    tkl_buf_reset(&R->mended);
    if (tkl_buf_append_mended(&R->mended, s, len) < 0)
        return R->err = -ENOMEM;
    if (R->mended_line != R->line) {
        R->mended_line = R->line;
        R->mended_bytes = 0;
        R->mended_said[0] = '\0';
        R->mended_diag = SIZE_MAX;
        if (++R->mended_lines == MAX_MENDED_LINES + 1)
            R->mended_first = R->line;
    }
    if (R->mended_lines > MAX_MENDED_LINES)
        return 0;
    list_mended(R, s, len);
    char more[48] = "";
    if (R->mended_bytes > MAX_MENDED_BYTES)
        snprintf(more, sizeof(more), " and %u more", R->mended_bytes - MAX_MENDED_BYTES);
    static const char fmt[] = "not valid UTF-8: %s %s%s read as Windows-1252; the rest of the "
                              "file is UTF-8 and read as such (retype %s to avoid this)";
    const char *what = R->mended_bytes > 1 ? "bytes" : "byte";
    const char *them = R->mended_bytes > 1 ? "those characters" : "that character";
    if (R->mended_diag < R->diags->n) {
        tkl_diag_reword(R->diags, R->mended_diag, fmt, what, R->mended_said, more, them);
        return 0;
    }
    size_t n = R->diags->n;
    tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->line, NULL, fmt, what, R->mended_said, more,
                 them);
    R->mended_diag = R->diags->n > n ? n : SIZE_MAX;
    return 0;
}

/* Warns of the lines holding bytes read as Windows-1252 past the first
 * MAX_MENDED_LINES, at the first of them, all in one. */
static void say_mended_lines(struct reader *R)
{
    if (!R->mended_first)
        return;
    unsigned more = R->mended_lines - MAX_MENDED_LINES - 1;
    char these[64] = "this line too holds";
    if (more)
        snprintf(these, sizeof(these), "this line and %u more, to line %u, hold", more,
                 R->mended_line);
    tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->mended_first, NULL,
                 "not valid UTF-8: %s bytes read as Windows-1252, as the %u lines named before "
                 "do; the rest of the file is UTF-8 and read as such",
                 these, MAX_MENDED_LINES);
}

/* Feeds data to p a line at a time, so that each record knows the line it
 * starts on (R->line is the line data starts on, and is moved past the
 * lines fed); with mend, data is not UTF-8 and each line that is not is
 * mended (mend_piece). The first error is left in R->err. */
static void feed(struct reader *R, struct csv_parser *p, const char *data, size_t len, bool mend)
{
    size_t pos = 0;
    while (pos < len && !R->err) {
        /* a line ends at "\n", "\r\n", or "\r" alone (the old Macintosh's
         * CSV); the "\n" of a "\r\n" the block cut ends no line of its own */
        const char *at = data + pos, *end = data + len, *eol = NULL;
        size_t chunk = 1; /* a "\n" after a "\r" fed last: no line of its own */
        if (!R->after_cr || *at != '\n') {
            const char *nl = memchr(at, '\n', len - pos);
            const char *cr = memchr(at, '\r', (size_t)((nl ? nl : end) - at));
            eol = cr && (cr + 1 == end || cr[1] != '\n') ? cr : nl;
            chunk = eol ? (size_t)(eol - at) + 1 : len - pos;
        }
        R->after_cr = eol && *eol == '\r';
        /* A record starts on the first line fed while libcsv is between
         * records; a quoted field can carry it over several lines. */
        if (p->pstate == 0 && !R->record_started)
            R->record_line = R->line;
        const char *text = data + pos;
        size_t n = chunk;
        if (mend && !tkl_utf8_valid(text, n)) {
            if (mend_piece(R, text, n) < 0)
                return;
            text = R->mended.data;
            n = R->mended.len;
        }
        if (csv_parse(p, text, n, on_field, on_record, R) != n) {
            if (!R->err)
                R->err = csv_error(p) == CSV_ENOMEM ? -ENOMEM : -EINVAL;
            return;
        }
        pos += chunk;
        if (eol)
            R->line++;
    }
}

/* Ends the text fed to p; the first error is left in R->err. A text that
 * ends inside a row short of fields, or (with R->may_hold) inside a quoted
 * field, gives that row as far as it goes, with a warning and
 * diags->unsettled; without R->may_hold, a quoted field never closed is an
 * error. */
static void finish(struct reader *R, struct csv_parser *p)
{
    if (R->err)
        return;
    unsigned open_line = R->record_line;
    bool unended = p->pstate != 0; /* a row with no line break after it */
    size_t before = R->prev_fields;
    R->last_short = false;
    /* libcsv reports an unclosed quote at the end only in strict mode, and
     * then leaves p as it was: read again without it, the field is taken
     * as far as the text goes */
    csv_set_opts(p, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI);
    bool open_quote = csv_fini(p, on_field, on_record, R) != 0;
    if (open_quote && R->may_hold) {
        csv_set_opts(p, CSV_APPEND_NULL);
        (void)csv_fini(p, on_field, on_record, R); /* 0 when not strict */
    }
    if (R->err)
        return;
    if (open_quote && !R->may_hold) {
        tkl_diag_add(R->diags, TKL_SEV_ERROR, R->file, open_line, NULL,
                     "a quoted field is never closed (a missing \")");
        R->err = -EINVAL;
    } else if (open_quote) {
        /* the file ends inside a multi-line cell, say: perhaps read while
         * it was written */
        tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, open_line, NULL,
                     "the file ends inside a quoted field of this row (no closing \" after it): "
                     "was it read while being saved? The field is read as far as the file goes");
        R->diags->unsettled = true;
    } else if (unended && R->last_short) {
        /* the file ends inside a row: perhaps read while it was written */
        tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, open_line, NULL,
                     "the file ends inside this row (fewer fields than the %zu of the row before "
                     "it, and no line break after it): was it read while being saved? Its "
                     "missing fields are read as empty",
                     before);
        R->diags->unsettled = true;
    }
}

enum { BLOCK = 65536 };

/* How many bytes at the end of data[0..len) start a UTF-8 character that
 * may end past it: they are read with the block after it. */
static size_t cut_tail(const char *data, size_t len)
{
    for (size_t k = 1; k <= 3 && k <= len; k++) {
        unsigned char c = (unsigned char)data[len - k];
        if (c < 0x80 || c >= 0xc0) {
            size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            return need > k ? k : 0;
        }
    }
    return 0;
}

/* Whether the text of fd, all of it, is mostly UTF-8 (tkl_utf8_mostly),
 * read 64 KiB at a time with pread(2), which leaves fd's offset as it
 * is. Returns 1, 0, or a negative errno (fd cannot be read so: a pipe). */
static int fd_mostly_utf8(int fd)
{
    char *buf = malloc(BLOCK + 4);
    if (!buf)
        return -ENOMEM;
    size_t chars = 0, stray = 0, carry = 0;
    off_t at = 0;
    int r;
    for (;;) {
        ssize_t got = pread(fd, buf + carry, BLOCK, at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = -errno;
            break;
        }
        size_t len = carry + (size_t)got;
        size_t keep = got ? cut_tail(buf, len) : 0;
        tkl_utf8_tally(buf, len - keep, &chars, &stray);
        if (!got) {
            r = chars > stray;
            break;
        }
        at += got;
        memmove(buf, buf + len - keep, keep);
        carry = keep;
    }
    free(buf);
    return r;
}

/* Reads p's records from fd, 64 KiB at a time, into R->err: -EILSEQ when
 * the text holds NUL bytes, or is not UTF-8 and, with no byte order mark,
 * mostly not (fd_mostly_utf8). A text mostly UTF-8 is mended from the
 * first block that is not UTF-8 on: the blocks before it read as they
 * would be mended. */
static void feed_fd(struct reader *R, struct csv_parser *p, int fd)
{
    char *buf = malloc(BLOCK + 4);
    if (!buf) {
        R->err = -ENOMEM;
        return;
    }
    size_t carry = 0; /* bytes of a UTF-8 character cut at the block's end */
    bool first = true, bom = false, end = false;
    while (!R->err && !end) {
        ssize_t got = read(fd, buf + carry, BLOCK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            R->err = -errno;
            break;
        }
        end = got == 0; /* what is carried then starts no character */
        const char *data = buf;
        size_t len = carry + (size_t)got;
        if (first && has_bom(data, len)) {
            data += 3;
            len -= 3;
            bom = true;
        }
        first = false;
        size_t n = len - (end ? 0 : cut_tail(data, len));
        bool utf8 = tkl_utf8_valid(data, n);
        if (memchr(data, '\0', len)) {
            R->err = -EILSEQ;
            break;
        }
        if (!utf8 && !R->mend) {
            int m = bom ? 1 : fd_mostly_utf8(fd);
            if (m <= 0) { /* read whole, where an error of the read shows */
                R->err = -EILSEQ;
                break;
            }
            R->mend = true;
        }
        feed(R, p, data, n, !utf8);
        memmove(buf, data + n, len - n);
        carry = len - n;
    }
    free(buf);
}

/* Reads the records of data (len bytes) or, when fd >= 0, of fd. */
static int read_records(const char *file, const char *data, size_t len, int fd, bool may_hold,
                        bool mend, tkl_csv_record_fn *fn, void *ctx, struct tkl_diags *diags)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return -ENOMEM;
    struct reader R = {.file = file,
                       .diags = diags,
                       .fn = fn,
                       .ctx = ctx,
                       .line = 1,
                       .may_hold = may_hold,
                       .mend = mend,
                       .mended_diag = SIZE_MAX};
    if (fd >= 0)
        feed_fd(&R, &p, fd);
    else
        feed(&R, &p, data, len, mend);
    finish(&R, &p);
    say_mended_lines(&R);
    csv_free(&p);
    tkl_buf_free(&R.text);
    tkl_buf_free(&R.mended);
    free(R.at);
    free(R.cells);
    return R.err;
}

int tkl_csv_read(const char *file, const char *data, size_t len, bool may_hold,
                 tkl_csv_record_fn *fn, void *ctx, struct tkl_diags *diags)
{
    char *converted = NULL;
    bool mend = false;
    int r = text_of(file, &data, &len, &mend, &converted, diags);
    if (r == 0)
        r = read_records(file, data, len, -1, may_hold, mend, fn, ctx, diags);
    free(converted);
    return r;
}

int tkl_csv_read_fd(const char *file, int fd, bool may_hold, tkl_csv_record_fn *fn, void *ctx,
                    struct tkl_diags *diags)
{
    return read_records(file, NULL, 0, fd, may_hold, false, fn, ctx, diags);
}
