#include "csv.h"

#include <csv.h> /* libcsv */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/text.h"

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

/* The text of *data: past a byte order mark, and converted from
 * Windows-1252 into *ret_converted (for the caller to free) when it is
 * not UTF-8. Returns 0, -EINVAL (NUL bytes) or -ENOMEM. */
static int text_of(const char *file, const char **data, size_t *len, char **ret_converted,
                   struct tkl_diags *diags)
{
    if (*len >= 3 && memcmp(*data, "\xef\xbb\xbf", 3) == 0) {
        *data += 3;
        *len -= 3;
    }
    if (*len && memchr(*data, '\0', *len)) {
        tkl_diag_add(diags, TKL_SEV_ERROR, file, 0, NULL,
                     "contains NUL bytes: not a CSV text file (saved as .xlsx or UTF-16?)");
        return -EINVAL;
    }
    if (!tkl_utf8_valid(*data, *len)) {
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
    }
    return 0;
}

/* Feeds data to p a line at a time, so that each record knows the line it
 * starts on (R->line is the line data starts on, and is moved past the
 * lines fed); the first error is left in R->err. */
static void feed(struct reader *R, struct csv_parser *p, const char *data, size_t len)
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
        if (csv_parse(p, data + pos, chunk, on_field, on_record, R) != chunk) {
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

/* Reads p's records from fd, 64 KiB at a time, into R->err. */
static void feed_fd(struct reader *R, struct csv_parser *p, int fd)
{
    enum { BLOCK = 65536 };
    char *buf = malloc(BLOCK + 4);
    if (!buf) {
        R->err = -ENOMEM;
        return;
    }
    size_t carry = 0; /* bytes of a UTF-8 sequence cut at the block's end */
    bool first = true;
    while (!R->err) {
        ssize_t got = read(fd, buf + carry, BLOCK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            R->err = got < 0 ? -errno : carry ? -EILSEQ : 0;
            break;
        }
        const char *data = buf;
        size_t len = carry + (size_t)got;
        if (first && len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
            data += 3;
            len -= 3;
        }
        first = false;
        /* the last sequence may end in the next block */
        size_t keep = 0;
        for (size_t k = 1; k <= 3 && k <= len; k++) {
            unsigned char c = (unsigned char)data[len - k];
            if (c < 0x80 || c >= 0xc0) {
                size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                keep = need > k ? k : 0;
                break;
            }
        }
        if (memchr(data, '\0', len) || !tkl_utf8_valid(data, len - keep)) {
            R->err = -EILSEQ;
            break;
        }
        feed(R, p, data, len - keep);
        memmove(buf, data + len - keep, keep);
        carry = keep;
    }
    free(buf);
}

/* Reads the records of data (len bytes) or, when fd >= 0, of fd. */
static int read_records(const char *file, const char *data, size_t len, int fd, bool may_hold,
                        tkl_csv_record_fn *fn, void *ctx, struct tkl_diags *diags)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return -ENOMEM;
    struct reader R = {
        .file = file, .diags = diags, .fn = fn, .ctx = ctx, .line = 1, .may_hold = may_hold};
    if (fd >= 0)
        feed_fd(&R, &p, fd);
    else
        feed(&R, &p, data, len);
    finish(&R, &p);
    csv_free(&p);
    tkl_buf_free(&R.text);
    free(R.at);
    free(R.cells);
    return R.err;
}

int tkl_csv_read(const char *file, const char *data, size_t len, bool may_hold,
                 tkl_csv_record_fn *fn, void *ctx, struct tkl_diags *diags)
{
    char *converted = NULL;
    int r = text_of(file, &data, &len, &converted, diags);
    if (r == 0)
        r = read_records(file, data, len, -1, may_hold, fn, ctx, diags);
    free(converted);
    return r;
}

int tkl_csv_read_fd(const char *file, int fd, bool may_hold, tkl_csv_record_fn *fn, void *ctx,
                    struct tkl_diags *diags)
{
    return read_records(file, NULL, 0, fd, may_hold, fn, ctx, diags);
}
