#include "sheet.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>
#include "dynlib/libxml.h"

static char blank_cell[1];

#define CELLS_TEXT "more than 200,000 cells with a value; a plan's sheet may hold at most 200,000"

/* The row s is at, as diagnostics name it. */
static unsigned row_place(const struct tkl_sheet *s)
{
    return s->row <= UINT_MAX ? (unsigned)s->row : UINT_MAX;
}

static int too_large(struct tkl_sheet *s, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The error for a sheet past a limit, at the cell of column col (0: the
 * row) of the current row: -EFBIG. */
static int too_large(struct tkl_sheet *s, unsigned col, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tkl_diag_add_at(s->rows->diags, TKL_SEV_ERROR, s->place, row_place(s), col, NULL,
                    "%s: the sheet is refused as too large", msg);
    return -EFBIG;
}

void tkl_sheet_begin(struct tkl_sheet *s, struct tkl_rows *rows, const char *place)
{
    *s = (struct tkl_sheet){.rows = rows, .place = place, .row = 1};
    tkl_rows_begin_sheet(rows, place);
}

static size_t utf8_chars(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

static bool blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)text[i]))
            return false;
    return true;
}

/* Makes room for columns up to last in s->at and s->record. */
static int grow(struct tkl_sheet *s, size_t last)
{
    if (last <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 32;
    while (cap < last)
        cap *= 2;
    if (cap > TKL_SHEET_COLUMNS_MAX)
        cap = TKL_SHEET_COLUMNS_MAX;
    size_t *at = realloc(s->at, cap * sizeof(*at));
    if (!at)
        return -ENOMEM;
    memset(at + s->cap, 0, (cap - s->cap) * sizeof(*at));
    s->at = at;
    char **record = realloc(s->record, cap * sizeof(*record));
    if (!record)
        return -ENOMEM; /* s->cap stays: at's new tail is unused until then */
    s->record = record;
    s->cap = cap;
    return 0;
}

int tkl_sheet_cell(struct tkl_sheet *s, uint64_t col, const char *text, size_t len, uint64_t repeat)
{
    if (!repeat || blank(text, len))
        return 0;
    if (col < 1 || col > TKL_SHEET_COLUMNS_MAX || repeat > TKL_SHEET_COLUMNS_MAX - col + 1)
        return too_large(
            s, 0,
            "a value in column %llu; a sheet has at most 16,384 columns (A "
            "to XFD)",
            (unsigned long long)(col > TKL_SHEET_COLUMNS_MAX ? col : col + repeat - 1));
    if (s->row > TKL_SHEET_ROWS_MAX)
        return too_large(s, 0, "a value in row %llu; a sheet has at most 1,048,576 rows",
                         (unsigned long long)s->row);
    if (repeat > TKL_SHEET_CELLS_MAX - s->cells)
        return too_large(s, (unsigned)col, CELLS_TEXT);
    size_t chars = utf8_chars(text, len);
    if (chars > TKL_SHEET_CELL_CHARS_MAX)
        return too_large(s, (unsigned)col,
                         "a cell of %zu characters; a cell holds at most 32,767 (Excel's limit)",
                         chars);
    size_t last = (size_t)(col + repeat - 1), at = s->text.len + 1;
    if (grow(s, last) < 0 || tkl_buf_append(&s->text, text, len) < 0 ||
        tkl_buf_append(&s->text, "", 1) < 0)
        return -ENOMEM;
    for (size_t c = (size_t)col; c <= last; c++)
        s->at[c - 1] = at;
    if (last > s->n)
        s->n = last;
    s->cells += (size_t)repeat;
    return 0;
}

/* Hands the row to row.c repeat times, numbered from s->row. */
static int hand_over(struct tkl_sheet *s, uint64_t repeat)
{
    size_t in_row = 0;
    for (size_t i = 0; i < s->n; i++) {
        in_row += s->at[i] != 0;
        s->record[i] = s->at[i] ? s->text.data + s->at[i] - 1 : blank_cell;
    }
    if (in_row && repeat - 1 > (TKL_SHEET_CELLS_MAX - s->cells) / in_row)
        return too_large(s, 0, CELLS_TEXT " (a row repeated %llu times)",
                         (unsigned long long)repeat);
    /* repeat is at most TKL_SHEET_ROWS_MAX, s->n and the text bounded: no
     * product overflows */
    if (s->n * repeat > TKL_SHEET_SPAN_MAX - s->handed)
        return too_large(s, 0,
                         "more than 16,777,216 cells counting the blank ones before each row's "
                         "last value; a plan's sheet may hold at most that many");
    if (s->text.len * repeat > TKL_SHEET_TEXT_MAX - s->text_bytes)
        return too_large(s, 0,
                         "more than 32 MiB of text in its cells; a plan's sheet may hold at "
                         "most 32 MiB");
    s->handed += s->n * repeat;
    s->text_bytes += s->text.len * repeat;
    s->cells += in_row * (size_t)(repeat - 1);
    for (uint64_t k = 0; k < repeat; k++) {
        int r = tkl_rows_record(s->rows, s->record, s->n, (unsigned)(s->row + k));
        if (r < 0)
            return r;
    }
    return 0;
}

int tkl_sheet_row_end(struct tkl_sheet *s, uint64_t repeat)
{
    int r = 0;
    if (s->n && repeat) {
        if (s->row > TKL_SHEET_ROWS_MAX || repeat > TKL_SHEET_ROWS_MAX - s->row + 1) {
            unsigned long long last =
                repeat > UINT64_MAX - s->row ? UINT64_MAX : s->row + repeat - 1;
            return too_large(s, 0, "a value in row %llu; a sheet has at most 1,048,576 rows", last);
        }
        r = hand_over(s, repeat);
        memset(s->at, 0, s->n * sizeof(*s->at));
        s->n = 0;
        tkl_buf_reset(&s->text);
    }
    /* past the last row nothing more can be read; stop counting there */
    s->row = repeat > TKL_SHEET_ROWS_MAX ? TKL_SHEET_ROWS_MAX + 1 : s->row + repeat;
    if (s->row > TKL_SHEET_ROWS_MAX)
        s->row = TKL_SHEET_ROWS_MAX + 1;
    return r;
}

void tkl_sheet_free(struct tkl_sheet *s)
{
    tkl_buf_free(&s->text);
    free(s->at);
    free(s->record);
    s->at = NULL;
    s->record = NULL;
    s->cap = s->n = 0;
}

int tkl_sheet_end(struct tkl_sheet *s)
{
    tkl_sheet_free(s);
    return tkl_rows_end(s->rows);
}

int tkl_sheet_ref(const char *ref, uint64_t *ret_col, uint64_t *ret_row)
{
    uint64_t col = 0, row = 0;
    const char *p = ref;
    for (; isalpha((unsigned char)*p); p++) {
        col = col * 26 + (uint64_t)(toupper((unsigned char)*p) - 'A' + 1);
        if (col > TKL_SHEET_COLUMNS_MAX)
            col = TKL_SHEET_COLUMNS_MAX + 1;
    }
    if (p == ref || (*p && (*p < '1' || *p > '9')))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        row = row * 10 + (uint64_t)(*p - '0');
        if (row > TKL_SHEET_ROWS_MAX)
            row = TKL_SHEET_ROWS_MAX + 1;
    }
    if (*p)
        return -EINVAL;
    *ret_col = col;
    *ret_row = row;
    return 0;
}

int tkl_sheet_serial_day(double serial, bool date1904, int32_t *ret_day)
{
    /* whole days: no serial within the range has a larger magnitude */
    if (!isfinite(serial) || serial < 0 || serial > 1e7)
        return -ERANGE;
    double f = (double)(int64_t)serial;
    int32_t first = date1904 ? tkl_day_from_civil(1904, 1, 1) : tkl_day_from_civil(1899, 12, 31);
    int32_t last = tkl_day_from_civil(9999, 12, 31);
    if (f < (date1904 ? 0 : 1) || f > (double)(last - first) + 1 || (!date1904 && f == 60))
        return -ERANGE;
    /* the 1900 system counts a 29 February 1900 that never was */
    int32_t day = first + (int32_t)f - (!date1904 && f > 60);
    if (day > last)
        return -ERANGE;
    *ret_day = day;
    return 0;
}

const char *tkl_sheet_date_text(const char *number, bool date1904, char *buf, size_t size)
{
    char *end;
    errno = 0;
    double v = strtod(number, &end);
    int32_t day;
    if (end == number || *end || errno || tkl_sheet_serial_day(v, date1904, &day) < 0 ||
        tkl_day_iso(day, buf, size) < 0)
        snprintf(buf, size, "%s", number);
    return buf;
}

/* Skips the part of a format code that shows no date: quoted text, a
 * bracket ([$-809], [Red]) and escaped characters; returns what follows,
 * or p when it is none of them. Sets *hms for an elapsed [h], [m], [s]. */
static const char *skip_literal(const char *p, bool *hms)
{
    const char *e = NULL;
    if (*p == '"')
        e = strchr(p + 1, '"');
    else if (*p == '[') {
        e = strchr(p + 1, ']');
        *hms |= e && strchr("hHmMsS", p[1]) && p[1];
    } else if ((*p == '\\' || *p == '_' || *p == '*') && p[1])
        return p + 2;
    if (*p == '"' || *p == '[')
        return e ? e + 1 : p + strlen(p);
    return p;
}

bool tkl_sheet_format_is_date(const char *code)
{
    bool dy = false, m = false, hms = false;
    for (const char *p = code; *p;) {
        const char *q = skip_literal(p, &hms);
        if (q != p) {
            p = q;
            continue;
        }
        int c = tolower((unsigned char)*p++);
        dy |= c == 'd' || c == 'y';
        m |= c == 'm';
        hms |= c == 'h' || c == 's';
    }
    return dy || (m && !hms);
}

int tkl_sheet_xml_walk(struct tkl_zip *z, const char *part, tkl_xml_node_fn *fn, void *ctx,
                       struct tkl_diags *diags)
{
    xmlTextReaderPtr x;
    int r = tkl_zip_xml(z, part, &x, diags), rr = 1;
    if (r < 0)
        return r;
    while (r == 0 && (rr = sym_xmlTextReaderRead(x)) == 1) {
        int type = sym_xmlTextReaderNodeType(x);
        const xmlChar *n = sym_xmlTextReaderConstLocalName(x);
        const char *name = n ? (const char *)n : "";
        bool empty = type == XML_READER_TYPE_ELEMENT && sym_xmlTextReaderIsEmptyElement(x) == 1;
        r = fn(ctx, x, type, name);
        if (r == 0 && empty)
            r = fn(ctx, x, XML_READER_TYPE_END_ELEMENT, name);
    }
    if (r == 0 && rr < 0 && !(r = tkl_zip_xml_error(z))) {
        /* the reader stopped with no error of the XML: out of memory */
        r = -ENOMEM;
    }
    sym_xmlFreeTextReader(x);
    return r;
}

int tkl_xml_attr(xmlTextReaderPtr x, const char *local, char **ret)
{
    int r = -ENOENT;
    for (int ok = sym_xmlTextReaderMoveToFirstAttribute(x); ok == 1 && r == -ENOENT;
         ok = sym_xmlTextReaderMoveToNextAttribute(x)) {
        const xmlChar *n = sym_xmlTextReaderConstLocalName(x);
        if (sym_xmlTextReaderIsNamespaceDecl(x) == 1 || !n || strcmp((const char *)n, local) != 0)
            continue;
        const xmlChar *v = sym_xmlTextReaderConstValue(x);
        r = (*ret = strdup(v ? (const char *)v : "")) ? 0 : -ENOMEM;
    }
    (void)sym_xmlTextReaderMoveToElement(x); /* back from an attribute, if on one */
    return r;
}

int tkl_xml_text(xmlTextReaderPtr x, int type, struct tkl_buf *b)
{
    if (type != XML_READER_TYPE_TEXT && type != XML_READER_TYPE_CDATA &&
        type != XML_READER_TYPE_WHITESPACE && type != XML_READER_TYPE_SIGNIFICANT_WHITESPACE)
        return 0;
    const xmlChar *v = sym_xmlTextReaderConstValue(x);
    return v ? tkl_buf_puts(b, (const char *)v) : 0;
}
