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

static bool blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)text[i]))
            return false;
    return true;
}

/* The room for columns up to last of an array with room for cap: doubled
 * from 32, at most a sheet's columns. */
static size_t columns_cap(size_t cap, size_t last)
{
    cap = cap ? cap : 32;
    while (cap < last)
        cap *= 2;
    return cap > TKL_SHEET_COLUMNS_MAX ? TKL_SHEET_COLUMNS_MAX : cap;
}

/* Makes room for columns up to last in s->at and s->record. */
static int grow(struct tkl_sheet *s, size_t last)
{
    if (last <= s->cap)
        return 0;
    size_t cap = columns_cap(s->cap, last);
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
    size_t chars = tkl_utf8_chars(text, len);
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

/* Checks and counts cells of in_row values and n columns up to the last,
 * with len bytes of text, handed over repeat times, of which in_row * (repeat
 * - 1) are values not counted yet (repeats of the row's own). Returns 0 or
 * -EFBIG (in diags). */
static int count_handed(struct tkl_sheet *s, size_t in_row, size_t n, size_t len, uint64_t repeat,
                        size_t filled)
{
    if (filled > TKL_SHEET_CELLS_MAX - s->cells ||
        (in_row && repeat - 1 > (TKL_SHEET_CELLS_MAX - s->cells - filled) / in_row))
        return too_large(s, 0, CELLS_TEXT " (a row repeated %llu times)",
                         (unsigned long long)repeat);
    /* repeat is at most TKL_SHEET_ROWS_MAX, n and the text bounded: no
     * product overflows */
    if (n * repeat > TKL_SHEET_SPAN_MAX - s->handed)
        return too_large(s, 0,
                         "more than 16,777,216 cells counting the blank ones before each row's "
                         "last value; a plan's sheet may hold at most that many");
    if (len * repeat > TKL_SHEET_TEXT_MAX - s->text_bytes)
        return too_large(s, 0,
                         "more than 32 MiB of text in its cells; a plan's sheet may hold at "
                         "most 32 MiB");
    s->handed += n * repeat;
    s->text_bytes += len * repeat;
    s->cells += in_row * (size_t)(repeat - 1) + filled;
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
    int r = count_handed(s, in_row, s->n, s->text.len, repeat, 0);
    for (uint64_t k = 0; k < repeat && r == 0; k++)
        r = tkl_rows_record(s->rows, s->record, s->n, (unsigned)(s->row + k));
    return r;
}

static int merge_cmp(const void *a, const void *b)
{
    const struct tkl_sheet_merge *x = a, *y = b;
    return x->top < y->top ? -1 : x->top > y->top;
}

int tkl_sheet_merge(struct tkl_sheet *s, uint64_t col, uint64_t top, uint64_t last)
{
    if (col < 1 || col > TKL_SHEET_COLUMNS_MAX || top < 1 || top >= last ||
        top >= TKL_SHEET_ROWS_MAX)
        return 0;
    if (last > TKL_SHEET_ROWS_MAX)
        last = TKL_SHEET_ROWS_MAX;
    const struct tkl_sheet_merge *p =
        s->n_merges > s->next_merge ? &s->merges[s->n_merges - 1] : NULL;
    if (p && p->top == top && p->col == col && p->last == last)
        return 0; /* listed again: the second adds nothing */
    bool before = p && top < p->top;
    if (s->n_merges >= TKL_SHEET_CELLS_MAX)
        return too_large(s, (unsigned)col,
                         "more than 200,000 merged cells; a plan's sheet may hold at most "
                         "200,000");
    if (!s->merges || s->n_merges == s->cap_merges) {
        size_t cap = s->merges && s->cap_merges ? s->cap_merges * 2 : 16;
        struct tkl_sheet_merge *m = realloc(s->merges, cap * sizeof(*m));
        if (!m)
            return -ENOMEM;
        s->merges = m;
        s->cap_merges = cap;
    }
    s->merges_unsorted |= before;
    s->merges[s->n_merges++] = (struct tkl_sheet_merge){.top = top, .last = last, .col = col};
    return 0;
}

/* Ends the fill in force at active[i]. */
static void fill_drop(struct tkl_sheet *s, size_t i)
{
    struct tkl_sheet_fill *f = &s->fills[s->active[i] - 1];
    free(f->text);
    *f = (struct tkl_sheet_fill){0};
    s->active[i] = s->active[--s->n_fills];
}

/* Makes room for fills up to column col. Returns 0 or -ENOMEM. */
static int grow_fills(struct tkl_sheet *s, size_t col)
{
    if (col <= s->cap_fills)
        return 0;
    size_t cap = columns_cap(s->cap_fills, col);
    uint32_t *active = realloc(s->active, cap * sizeof(*active));
    if (!active)
        return -ENOMEM;
    s->active = active;
    struct tkl_sheet_fill *f = realloc(s->fills, cap * sizeof(*f));
    if (!f)
        return -ENOMEM; /* cap_fills stays: active's new tail is unused until then */
    memset(f + s->cap_fills, 0, (cap - s->cap_fills) * sizeof(*f));
    s->fills = f;
    s->cap_fills = cap;
    return 0;
}

/* Puts in force the merges whose top is row, taking the value their top
 * cell holds in the row just read (none when it is blank, is in or above
 * the header row, or is in the id column: an id is the row's own), and
 * ends those that end above row. A column has at most one fill in force:
 * a merge in it from another top cell replaces the one before, and one
 * from the same top cell extends it, sharing its text. Each fill's copy of
 * its text counts towards the sheet's text limit once. Returns 0, -EFBIG
 * (in diags) or -ENOMEM. */
static int fills_at(struct tkl_sheet *s, uint64_t row)
{
    size_t width = 0;
    for (size_t i = 0; i < s->n_fills;) {
        if (s->fills[s->active[i] - 1].last < row) {
            fill_drop(s, i);
            continue;
        }
        if (s->active[i] > width)
            width = s->active[i];
        i++;
    }
    s->fill_width = width;
    if (s->merges_unsorted) {
        qsort(s->merges + s->next_merge, s->n_merges - s->next_merge, sizeof(*s->merges),
              merge_cmp);
        s->merges_unsorted = false;
    }
    int id_col = s->rows->column[TKL_FIELD_ID];
    for (; s->next_merge < s->n_merges && s->merges[s->next_merge].top <= row; s->next_merge++) {
        const struct tkl_sheet_merge *m = &s->merges[s->next_merge];
        if (m->top < row || m->col > s->n || !s->at[m->col - 1] || !s->rows->have_header ||
            (id_col >= 0 && m->col == (size_t)id_col + 1))
            continue;
        if (grow_fills(s, m->col) < 0)
            return -ENOMEM;
        struct tkl_sheet_fill *f = &s->fills[m->col - 1];
        if (f->last && f->top == m->top) {
            if (m->last > f->last)
                f->last = m->last;
            continue;
        }
        const char *text = s->text.data + s->at[m->col - 1] - 1;
        size_t len = strlen(text) + 1;
        if (len > TKL_SHEET_TEXT_MAX - s->text_bytes)
            return too_large(s, (unsigned)m->col,
                             "more than 32 MiB of text in its cells; a plan's sheet may hold at "
                             "most 32 MiB");
        char *copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, text, len);
        s->text_bytes += len;
        if (f->last)
            free(f->text);
        else
            s->active[s->n_fills++] = (uint32_t)m->col;
        *f = (struct tkl_sheet_fill){.top = m->top, .last = m->last, .text = copy, .len = len};
        if (m->col > s->fill_width)
            s->fill_width = m->col;
    }
    return 0;
}

/* Hands the row over as row row, its cells that merges cover below their
 * top taking the merges' values; a row with no value of its own is not
 * handed over. A repeat (of a row read once and handed again) counts its
 * own values as cells too. Every row visited counts its cells up to the
 * last value or fill towards the cells handed over, handed or not, so
 * that a row repeated many times under merges costs what it would
 * without them. Returns 0, -EFBIG (in diags) or -ENOMEM. */
static int hand_merged(struct tkl_sheet *s, uint64_t row, bool repeat)
{
    size_t n = s->n > s->fill_width ? s->n : s->fill_width, own = 0, filled = 0;
    size_t len = s->text.len;
    if (grow(s, n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        own += s->at[i] != 0;
        s->record[i] = s->at[i] ? s->text.data + s->at[i] - 1 : blank_cell;
    }
    for (size_t i = 0; i < s->n_fills; i++) {
        size_t col = s->active[i];
        const struct tkl_sheet_fill *f = &s->fills[col - 1];
        if (f->top >= row)
            continue;
        if (s->at[col - 1])
            own--;
        else
            filled++;
        s->record[col - 1] = f->text;
        len += f->len;
    }
    if (!own) {
        if (n > TKL_SHEET_SPAN_MAX - s->handed)
            return too_large(s, 0,
                             "more than 16,777,216 cells counting the blank ones before each "
                             "row's last value; a plan's sheet may hold at most that many");
        s->handed += n;
        return 0;
    }
    int r = count_handed(s, 0, n, len, 1, filled + (repeat ? own : 0));
    return r < 0 ? r : tkl_rows_record(s->rows, s->record, n, (unsigned)row);
}

/* Whether a merge is in force or begins within the repeat rows from s->row. */
static bool merges_near(const struct tkl_sheet *s, uint64_t repeat)
{
    return s->n_fills || (s->next_merge < s->n_merges &&
                          (s->merges_unsorted || s->merges[s->next_merge].top < s->row + repeat));
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
        if (!merges_near(s, repeat)) {
            r = hand_over(s, repeat);
        } else {
            /* row by row: a merge may begin or end within the repeats; the
             * rows handed are bounded by the cells limit */
            for (uint64_t k = 0; k < repeat && r == 0; k++) {
                if ((r = fills_at(s, s->row + k)) == 0)
                    r = hand_merged(s, s->row + k, k > 0);
            }
        }
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
    while (s->n_fills)
        fill_drop(s, s->n_fills - 1);
    free(s->fills);
    free(s->active);
    free(s->merges);
    s->fills = NULL;
    s->active = NULL;
    s->merges = NULL;
    s->cap_fills = s->fill_width = s->n_merges = s->cap_merges = s->next_merge = 0;
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

const char *tkl_sheet_day_text(int32_t day, enum tkl_sheet_date part, char *buf, size_t size)
{
    int y, m, d;
    if (part != TKL_SHEET_DATE_MONTH && part != TKL_SHEET_DATE_YEAR)
        return tkl_day_iso(day, buf, size) < 0 ? NULL : buf;
    tkl_day_to_civil(day, &y, &m, &d);
    if (m < 1 || m > 12)
        return NULL;
    if (part == TKL_SHEET_DATE_MONTH)
        snprintf(buf, size, "%s %d", tkl_month_name(m), y);
    else
        snprintf(buf, size, "%d", y);
    return buf;
}

const char *tkl_sheet_date_text(const char *number, bool date1904, enum tkl_sheet_date part,
                                char *buf, size_t size)
{
    char *end;
    errno = 0;
    double v = strtod(number, &end);
    int32_t day;
    if (end == number || *end || errno || tkl_sheet_serial_day(v, date1904, &day) < 0 ||
        !tkl_sheet_day_text(day, part, buf, size))
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

enum tkl_sheet_date tkl_sheet_format_date(const char *code)
{
    bool day = false, year = false, m = false, month = false, hms = false;
    int prev = 0;           /* the last of d, m, y, h, s met */
    const char *run = NULL; /* the run of m being read: a month unless beside h or s */
    for (const char *p = code; *p;) {
        const char *q = skip_literal(p, &hms);
        if (q != p) {
            p = q;
            continue;
        }
        int c = tolower((unsigned char)*p++);
        if (!strchr("dmyhs", c) || !c)
            continue;
        if (run && c != 'm') {
            month |= c != 's';
            run = NULL;
        }
        if (c == 'm' && !run && prev != 'h' && prev != 'm')
            run = p;
        day |= c == 'd';
        year |= c == 'y';
        m |= c == 'm';
        hms |= c == 'h' || c == 's';
        prev = c;
    }
    month |= run != NULL;
    if (!(day || year || (m && !hms)))
        return TKL_SHEET_NO_DATE;
    if (day)
        return TKL_SHEET_DATE_DAY;
    if (month || (m && !hms))
        return TKL_SHEET_DATE_MONTH;
    return TKL_SHEET_DATE_YEAR;
}

bool tkl_sheet_format_is_date(const char *code)
{
    return tkl_sheet_format_date(code) != TKL_SHEET_NO_DATE;
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
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            r = tkl_zip_refuse_doctype(z, part);
            break;
        }
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
