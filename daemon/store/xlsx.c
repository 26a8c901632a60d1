#include "xlsx.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tickler/day.h>

#include "dynlib/libxml.h"
#include "sheet.h"
#include "store.h"

/* What is read of a workbook before its sheet. */
struct book {
    struct tkl_rows *rows;
    struct tkl_diags *diags;
    struct tkl_zip *z;
    const char *path; /* the file, without the sheet's name */
    const char *want; /* the sheet asked for, or NULL for the first */
    char *workbook;   /* the workbook's part, "xl/workbook.xml" */
    bool date1904;
    char **names, **ids; /* the sheets in order, their relationship ids */
    size_t n_sheets, n_ids;
    size_t chosen;
    char *sheet_part, *strings_part, *styles_part;
    /* shared strings: offsets into one buffer */
    struct tkl_buf strings;
    size_t *str_at;
    size_t n_strings, cap_strings;
    /* styles: what each cell format (cellXfs) shows of a date */
    uint8_t *date_xf; /* enum tkl_sheet_date */
    size_t n_xf, cap_xf;
    struct fmt {
        unsigned id;
        unsigned order; /* of its numFmt in the styles */
        uint8_t date;   /* enum tkl_sheet_date */
    } * fmts;           /* custom number formats (and built-in ones redefined) */
    size_t n_fmts, cap_fmts;
    bool fmts_sorted; /* by id, one a id: the last given (fmt_cmp) */
    bool in_cellxfs;
    /* text being gathered */
    struct tkl_buf text;
    bool in_item, in_t, in_rph;
};

/* Grows the array *v of *cap items of size each to hold n + 1. */
static int grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*(void **)v, c * size);
    if (!p)
        return -ENOMEM;
    *(void **)v = p;
    *cap = c;
    return 0;
}

static bool ends_with(const char *s, const char *end)
{
    size_t l = strlen(s), e = strlen(end);
    return l >= e && strcmp(s + l - e, end) == 0;
}

/* The part a relationship's target names, from the folder dir ("xl/") of
 * the part whose relationships they are. NULL when out of memory. */
static char *resolve(const char *dir, const char *target)
{
    char *p = NULL;
    if (target[0] == '/')
        return strdup(target + 1);
    if (asprintf(&p, "%s%s", dir, target) < 0)
        return NULL;
    return p;
}

/* The code of the four hexadecimal digits at p, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Writes code point cp (below 0x110000, no surrogate) as UTF-8 at s;
 * returns the bytes written (none for 0). */
static size_t put_utf8(char *s, long cp)
{
    if (cp >= 0x10000) {
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    if (cp >= 0x800) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp >= 0x80) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    s[0] = (char)cp;
    return cp != 0;
}

/* The code unit of the _xHHHH_ escape at s[i] of a text of len bytes, or
 * -1 when there is none. */
static long escape_at(const char *s, size_t i, size_t len)
{
    return len - i >= 7 && s[i] == '_' && s[i + 1] == 'x' && s[i + 6] == '_' ? hex4(s + i + 2) : -1;
}

/* Decodes the _xHHHH_ escapes of OOXML strings in b from byte from on,
 * in place ("_x000D_" is a carriage return; "_x005F_" an underscore).
 * The escapes are UTF-16 code units: a surrogate pair is one character,
 * and a surrogate on its own, which UTF-8 cannot hold, becomes U+FFFD. */
static void unescape(struct tkl_buf *b, size_t from)
{
    char *s = b->data;
    if (!s)
        return;
    size_t o = from;
    for (size_t i = from; i < b->len;) {
        long cp = escape_at(s, i, b->len);
        if (cp >= 0) {
            i += 7;
            long low = cp >= 0xD800 && cp <= 0xDBFF ? escape_at(s, i, b->len) : -1;
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 7;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            o += put_utf8(s + o, cp);
        } else {
            s[o++] = s[i++];
        }
    }
    b->len = o;
    s[o] = '\0';
}

/* Text nodes inside <t> of a string item (<si>, <is>), but not of its
 * phonetic runs (<rPh>). Returns 0 or -ENOMEM. */
static int gather(struct book *B, xmlTextReaderPtr x, int type, const char *name)
{
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
    if ((start || end) && strcmp(name, "t") == 0)
        B->in_t = start;
    else if ((start || end) && strcmp(name, "rPh") == 0)
        B->in_rph = start;
    else if (B->in_t && !B->in_rph)
        return tkl_xml_text(x, type, &B->text);
    return 0;
}

static int on_root_rels(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct book *B = ctx;
    char *t = NULL, *target = NULL;
    if (type != XML_READER_TYPE_ELEMENT || strcmp(name, "Relationship") != 0 || B->workbook)
        return 0;
    int r = tkl_xml_attr(x, "Type", &t);
    if (r == 0 && ends_with(t, "/officeDocument") && (r = tkl_xml_attr(x, "Target", &target)) == 0)
        r = (B->workbook = resolve("", target)) ? 0 : -ENOMEM;
    free(t);
    free(target);
    return r == -ENOENT ? 0 : r;
}

static int on_workbook(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct book *B = ctx;
    char *v = NULL;
    int r = 0;
    if (type != XML_READER_TYPE_ELEMENT)
        return 0;
    if (strcmp(name, "workbookPr") == 0 && (r = tkl_xml_attr(x, "date1904", &v)) == 0) {
        B->date1904 = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
        free(v);
    } else if (strcmp(name, "sheet") == 0) {
        if ((r = tkl_xml_attr(x, "name", &v)) == 0 &&
            (r = tkl_strv_push(&B->names, &B->n_sheets, v)) == 0 &&
            (r = tkl_xml_attr(x, "id", &v)) == -ENOENT)
            r = tkl_strv_push(&B->ids, &B->n_ids, strdup(""));
        else if (r == 0)
            r = tkl_strv_push(&B->ids, &B->n_ids, v);
    }
    return r == -ENOENT ? 0 : r;
}

/* The folder of part ("xl/" of "xl/workbook.xml"). */
static char *folder(const char *part)
{
    const char *slash = strrchr(part, '/');
    return strndup(part, slash ? (size_t)(slash - part) + 1 : 0);
}

static int on_book_rels(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct book *B = ctx;
    char *id = NULL, *t = NULL, *target = NULL, *dir = NULL, **part = NULL;
    if (type != XML_READER_TYPE_ELEMENT || strcmp(name, "Relationship") != 0)
        return 0;
    int r = tkl_xml_attr(x, "Id", &id);
    if (r == 0 && (r = tkl_xml_attr(x, "Type", &t)) == 0 &&
        (r = tkl_xml_attr(x, "Target", &target)) == 0) {
        if (strcmp(id, B->ids[B->chosen]) == 0)
            part = &B->sheet_part;
        else if (ends_with(t, "/sharedStrings"))
            part = &B->strings_part;
        else if (ends_with(t, "/styles"))
            part = &B->styles_part;
        if (part && !*part && (!(dir = folder(B->workbook)) || !(*part = resolve(dir, target))))
            r = -ENOMEM;
    }
    free(id);
    free(t);
    free(target);
    free(dir);
    return r == -ENOENT ? 0 : r;
}

/* What built-in number format id shows of a date: 17 is "mmm-yy", the
 * format Excel gives a typed "March 2024"; 14 to 16 and 22 show a day, 18
 * to 21 and 45 to 47 a time (read as the day it is on, if any). */
static enum tkl_sheet_date builtin_date(unsigned long id)
{
    if (id == 17)
        return TKL_SHEET_DATE_MONTH;
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47) ? TKL_SHEET_DATE_DAY
                                                            : TKL_SHEET_NO_DATE;
}

static int numfmt_attr(xmlTextReaderPtr x, unsigned long *ret)
{
    char *v = NULL, *end;
    int r = tkl_xml_attr(x, "numFmtId", &v);
    if (r == 0)
        *ret = strtoul(v, &end, 10);
    free(v);
    return r;
}

/* A number format the styles define (at most 65,536, as cell formats):
 * remembered with what it shows of a date, which a built-in one of the
 * same id then does not say. */
static int on_numfmt(struct book *B, xmlTextReaderPtr x)
{
    unsigned long id = 0;
    char *code = NULL;
    int r = numfmt_attr(x, &id);
    if (r == 0)
        r = tkl_xml_attr(x, "formatCode", &code);
    if (r == 0 && B->n_fmts < 65536 &&
        (r = grow(&B->fmts, &B->cap_fmts, B->n_fmts, sizeof(*B->fmts))) == 0) {
        B->fmts[B->n_fmts] = (struct fmt){.id = (unsigned)id,
                                          .order = (unsigned)B->n_fmts,
                                          .date = (uint8_t)tkl_sheet_format_date(code)};
        B->n_fmts++;
        B->fmts_sorted = false;
    }
    free(code);
    return r == -ENOENT ? 0 : r;
}

static int fmt_cmp(const void *a, const void *b)
{
    const struct fmt *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the number formats by id, keeping the last given of an id (the
 * one a cell format names). */
static void sort_fmts(struct book *B)
{
    qsort(B->fmts, B->n_fmts, sizeof(*B->fmts), fmt_cmp);
    size_t n = 0;
    for (size_t i = 0; i < B->n_fmts; i++) {
        if (n && B->fmts[n - 1].id == B->fmts[i].id)
            n--;
        B->fmts[n++] = B->fmts[i];
    }
    B->n_fmts = n;
    B->fmts_sorted = true;
}

static int fmt_id_cmp(const void *key, const void *elem)
{
    unsigned id = *(const unsigned *)key, e = ((const struct fmt *)elem)->id;
    return id < e ? -1 : id > e;
}

/* A cell format (of cellXfs, the formats cells name by index; at most
 * Excel's 65,536, later ones show no dates). */
static int on_xf(struct book *B, xmlTextReaderPtr x)
{
    unsigned long id = 0;
    int r = numfmt_attr(x, &id);
    if ((r < 0 && r != -ENOENT) || B->n_xf >= 65536)
        return r == -ENOENT ? 0 : r;
    if (grow(&B->date_xf, &B->cap_xf, B->n_xf, sizeof(*B->date_xf)) < 0)
        return -ENOMEM;
    enum tkl_sheet_date date = r == 0 ? builtin_date(id) : TKL_SHEET_NO_DATE;
    if (r == 0 && id <= UINT_MAX && B->n_fmts) {
        if (!B->fmts_sorted)
            sort_fmts(B);
        unsigned key = (unsigned)id;
        const struct fmt *f = bsearch(&key, B->fmts, B->n_fmts, sizeof(*B->fmts), fmt_id_cmp);
        if (f)
            date = f->date;
    }
    B->date_xf[B->n_xf++] = (uint8_t)date;
    return 0;
}

static int on_styles(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct book *B = ctx;
    if (strcmp(name, "cellXfs") == 0)
        B->in_cellxfs = type == XML_READER_TYPE_ELEMENT;
    if (type != XML_READER_TYPE_ELEMENT)
        return 0;
    if (strcmp(name, "numFmt") == 0)
        return on_numfmt(B, x);
    if (B->in_cellxfs && strcmp(name, "xf") == 0)
        return on_xf(B, x);
    return 0;
}

static int on_strings(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct book *B = ctx;
    if (strcmp(name, "si") != 0)
        return B->in_item ? gather(B, x, type, name) : 0;
    if (type == XML_READER_TYPE_ELEMENT) {
        B->in_item = true;
        tkl_buf_reset(&B->text);
        return 0;
    }
    if (type != XML_READER_TYPE_END_ELEMENT)
        return 0;
    B->in_item = B->in_t = B->in_rph = false;
    if (B->n_strings >= TKL_XLSX_STRINGS_MAX) {
        tkl_diag_add(B->diags, TKL_SEV_ERROR, B->path, 0, B->strings_part,
                     "more than %u shared strings; a workbook may share at most %u: refused as "
                     "too large",
                     TKL_XLSX_STRINGS_MAX, TKL_XLSX_STRINGS_MAX);
        return -EFBIG;
    }
    size_t at = B->strings.len;
    if (grow(&B->str_at, &B->cap_strings, B->n_strings, sizeof(size_t)) < 0 ||
        tkl_buf_append(&B->strings, B->text.data ? B->text.data : "", B->text.len) < 0)
        return -ENOMEM;
    unescape(&B->strings, at);
    if (tkl_buf_append(&B->strings, "", 1) < 0)
        return -ENOMEM;
    B->str_at[B->n_strings++] = at;
    return 0;
}

/* The sheet being read. */
struct cells {
    struct book *B;
    struct tkl_sheet s;
    bool in_data, in_v, in_is;
    uint64_t col;  /* of the cell being read */
    char type[16]; /* its t attribute */
    unsigned long style;
    struct tkl_buf v; /* its <v> */
};

static int on_row(struct cells *C, xmlTextReaderPtr x, int type)
{
    char *v = NULL;
    if (type == XML_READER_TYPE_END_ELEMENT)
        return tkl_sheet_row_end(&C->s, 1);
    int r = tkl_xml_attr(x, "r", &v);
    uint64_t col, row;
    char ref[32];
    if (r == 0 && snprintf(ref, sizeof(ref), "A%s", v) < (int)sizeof(ref) &&
        tkl_sheet_ref(ref, &col, &row) == 0 && row)
        C->s.row = row;
    free(v);
    C->col = 0;
    return r == -ENOENT ? 0 : r;
}

/* The cell's type and style. Returns 0 or -ENOMEM. */
static int cell_attrs(struct cells *C, xmlTextReaderPtr x)
{
    char *t = NULL, *s = NULL;
    int r = tkl_xml_attr(x, "t", &t);
    if (r == 0 || r == -ENOENT)
        r = tkl_xml_attr(x, "s", &s);
    snprintf(C->type, sizeof(C->type), "%s", t ? t : "");
    C->style = s ? strtoul(s, NULL, 10) : 0;
    free(t);
    free(s);
    return r == -ENOENT ? 0 : r;
}

static int on_cell_start(struct cells *C, xmlTextReaderPtr x)
{
    char *v = NULL;
    uint64_t col, row;
    int r = tkl_xml_attr(x, "r", &v);
    if (r == 0 && tkl_sheet_ref(v, &col, &row) < 0) {
        tkl_diag_add_at(C->B->diags, TKL_SEV_ERROR, C->s.place, (unsigned)C->s.row, 0, NULL,
                        "\"%s\" is not a cell reference (such as D12)", v);
        r = -EINVAL;
    } else if (r == 0) {
        C->col = col;
        if (row)
            C->s.row = row;
    } else if (r == -ENOENT) {
        C->col++;
        r = 0;
    }
    free(v);
    tkl_buf_reset(&C->v);
    tkl_buf_reset(&C->B->text);
    return r < 0 ? r : cell_attrs(C, x);
}

/* The text of a number cell into buf: its date when its format shows one,
 * else the number as Excel shows it in general format. */
static const char *number_text(const struct cells *C, const char *v, char *buf, size_t size)
{
    const struct book *B = C->B;
    if (C->style < B->n_xf && B->date_xf[C->style])
        return tkl_sheet_date_text(v, B->date1904, B->date_xf[C->style], buf, size);
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end)
        return v;
    snprintf(buf, size, "%.15g", d);
    return buf;
}

/* The text of an ISO 8601 date cell (t="d", "2024-03-01T00:00:00") into
 * buf: its date, shown as its format shows it as for a serial date
 * ("March 2024" for a format with no day), or the text as written (its
 * first 10 characters when they are a date) when it is no date. */
static const char *iso_text(const struct cells *C, const char *v, char *buf, size_t size)
{
    const struct book *B = C->B;
    enum tkl_sheet_date part = C->style < B->n_xf ? B->date_xf[C->style] : TKL_SHEET_NO_DATE;
    bool iso = strlen(v) >= 10 && v[4] == '-', digits = iso && v[7] == '-';
    for (size_t i = 0; i < 10 && digits; i++)
        digits = i == 4 || i == 7 || isdigit((unsigned char)v[i]);
    if (digits && (part == TKL_SHEET_DATE_MONTH || part == TKL_SHEET_DATE_YEAR)) {
        int y = ((v[0] - '0') * 10 + v[1] - '0') * 100 + (v[2] - '0') * 10 + v[3] - '0';
        int m = (v[5] - '0') * 10 + v[6] - '0', d = (v[8] - '0') * 10 + v[9] - '0';
        if (tkl_civil_valid(y, m, d) &&
            tkl_sheet_day_text(tkl_day_from_civil(y, m, d), part, buf, size))
            return buf;
    }
    snprintf(buf, size, "%.*s", iso ? 10 : 63, v);
    return buf;
}

static int on_cell_end(struct cells *C)
{
    struct book *B = C->B;
    const char *v = C->v.data ? C->v.data : "", *text = v;
    char buf[64];
    if (strcmp(C->type, "s") == 0 && *v) {
        char *end;
        unsigned long i = strtoul(v, &end, 10);
        if (*end || i >= B->n_strings) {
            tkl_diag_add_at(B->diags, TKL_SEV_ERROR, C->s.place, (unsigned)C->s.row,
                            C->col <= TKL_SHEET_COLUMNS_MAX ? (unsigned)C->col : 0, NULL,
                            "shared string \"%s\" does not exist (the workbook shares %zu)", v,
                            B->n_strings);
            return -EINVAL;
        }
        text = B->strings.data + B->str_at[i];
    } else if (strcmp(C->type, "inlineStr") == 0) {
        unescape(&B->text, 0);
        text = B->text.data ? B->text.data : "";
    } else if (strcmp(C->type, "b") == 0) {
        text = strcmp(v, "1") == 0 ? "TRUE" : strcmp(v, "0") == 0 ? "FALSE" : v;
    } else if (strcmp(C->type, "str") == 0 || strcmp(C->type, "e") == 0) {
        unescape(&C->v, 0);
        text = C->v.data ? C->v.data : "";
    } else if (strcmp(C->type, "d") == 0) {
        text = iso_text(C, v, buf, sizeof(buf));
    } else if (*v) {
        text = number_text(C, v, buf, sizeof(buf));
    }
    return tkl_sheet_cell(&C->s, C->col, text, strlen(text), 1);
}

static int on_sheet(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct cells *C = ctx;
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
    if (strcmp(name, "sheetData") == 0 && (start || end))
        C->in_data = start;
    else if (!C->in_data)
        return 0;
    else if (strcmp(name, "row") == 0 && (start || end))
        return on_row(C, x, type);
    else if (strcmp(name, "c") == 0 && start)
        return on_cell_start(C, x);
    else if (strcmp(name, "c") == 0 && end)
        return on_cell_end(C);
    else if (strcmp(name, "v") == 0 && (start || end))
        C->in_v = start;
    else if (strcmp(name, "is") == 0 && (start || end))
        C->in_is = start;
    else if (C->in_v)
        return tkl_xml_text(x, type, &C->v);
    else if (C->in_is)
        return gather(C->B, x, type, name);
    return 0;
}

/* A merged range (mergeCell ref="D2:E4") whose rows a merge covers. A
 * ref that is not a range of two cells is ignored, as Excel ignores it. */
static int on_merge_cell(struct cells *C, xmlTextReaderPtr x)
{
    char *ref = NULL;
    int r = tkl_xml_attr(x, "ref", &ref);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    char *colon = strchr(ref, ':');
    uint64_t col, top, col2, last;
    if (colon) {
        *colon = '\0';
        if (tkl_sheet_ref(ref, &col, &top) == 0 && tkl_sheet_ref(colon + 1, &col2, &last) == 0 &&
            top && last && col <= col2)
            r = tkl_sheet_merge(&C->s, col, top, last);
    }
    free(ref);
    return r;
}

/* The first pass over the sheet's part: only its merged ranges, which
 * follow its rows (<mergeCells> after <sheetData>) but must be known
 * before them. The rows are skipped whole (xmlTextReaderNext), with no
 * call per node. */
static int on_sheet_merges(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct cells *C = ctx;
    if (type != XML_READER_TYPE_ELEMENT)
        return 0;
    if (strcmp(name, "sheetData") == 0 && sym_xmlTextReaderIsEmptyElement(x) != 1) {
        /* to the node after the rows; an error there is the next read's */
        (void)sym_xmlTextReaderNext(x);
        return 0;
    }
    return strcmp(name, "mergeCell") == 0 ? on_merge_cell(C, x) : 0;
}

/* The sheet asked for, or the first, into B->chosen. Returns 0 or -EINVAL
 * (in diags, naming the sheets there are). */
static int choose(struct book *B)
{
    if (!B->n_sheets || B->n_ids != B->n_sheets) {
        tkl_diag_add(B->diags, TKL_SEV_ERROR, B->path, 0, B->workbook,
                     "the workbook lists no sheets");
        return -EINVAL;
    }
    if (!B->want)
        return 0;
    for (B->chosen = 0; B->chosen < B->n_sheets; B->chosen++)
        if (strcasecmp(B->names[B->chosen], B->want) == 0)
            return 0;
    struct tkl_buf l = {0};
    for (size_t i = 0; i < B->n_sheets; i++)
        if (tkl_buf_printf(&l, "%s\"%s\"", i ? ", " : "", B->names[i]) < 0)
            break;
    tkl_diag_add(B->diags, TKL_SEV_ERROR, B->path, 0, "sheet",
                 "no sheet named \"%s\"; the workbook's sheets are %s", B->want,
                 l.data ? l.data : "");
    tkl_buf_free(&l);
    return -EINVAL;
}

/* A part the workbook cannot be read without: -EINVAL in diags. */
static int missing(struct book *B, const char *part, int r)
{
    if (r == -ENOENT) {
        tkl_diag_add(B->diags, TKL_SEV_ERROR, B->path, 0, part,
                     "this part is missing: not an Excel workbook (.xlsx)");
        r = -EINVAL;
    }
    return r;
}

/* The workbook's sheets, its date system, the parts of the sheet asked
 * for, of its styles and of its shared strings, then those. */
static int read_book(struct book *B)
{
    char *dir = NULL, *rels = NULL;
    int r = tkl_sheet_xml_walk(B->z, "_rels/.rels", on_root_rels, B, B->diags);
    if ((r == 0 || r == -ENOENT) && !B->workbook)
        r = (B->workbook = strdup("xl/workbook.xml")) ? 0 : -ENOMEM;
    if (r == 0)
        r = missing(B, B->workbook,
                    tkl_sheet_xml_walk(B->z, B->workbook, on_workbook, B, B->diags));
    if (r == 0)
        r = choose(B);
    if (r == 0 && (!(dir = folder(B->workbook)) ||
                   asprintf(&rels, "%s_rels/%s.rels", dir, B->workbook + strlen(dir)) < 0)) {
        rels = NULL;
        r = -ENOMEM;
    }
    if (r == 0)
        r = missing(B, rels, tkl_sheet_xml_walk(B->z, rels, on_book_rels, B, B->diags));
    if (r == 0 && !B->sheet_part) {
        tkl_diag_add(B->diags, TKL_SEV_ERROR, B->path, 0, rels,
                     "no part for the sheet \"%s\": not an Excel workbook (.xlsx)",
                     B->names[B->chosen]);
        r = -EINVAL;
    }
    if (r == 0 && B->styles_part &&
        (r = tkl_sheet_xml_walk(B->z, B->styles_part, on_styles, B, B->diags)) == -ENOENT)
        r = 0;
    if (r == 0 && B->strings_part)
        r = missing(B, B->strings_part,
                    tkl_sheet_xml_walk(B->z, B->strings_part, on_strings, B, B->diags));
    free(dir);
    free(rels);
    return r;
}

static int read_cells(struct book *B)
{
    char *place = NULL;
    if (asprintf(&place, "%s:%s", B->path, B->names[B->chosen]) < 0)
        return -ENOMEM;
    struct cells C = {.B = B};
    tkl_sheet_begin(&C.s, B->rows, place);
    int r = missing(B, B->sheet_part,
                    tkl_sheet_xml_walk(B->z, B->sheet_part, on_sheet_merges, &C, B->diags));
    if (r == 0)
        r = tkl_sheet_xml_walk(B->z, B->sheet_part, on_sheet, &C, B->diags);
    if (r == 0)
        r = tkl_sheet_end(&C.s);
    else
        tkl_sheet_free(&C.s);
    tkl_buf_free(&C.v);
    /* the place lives on in the actions' copies and in diags */
    free(place);
    return r;
}

static void book_free(struct book *B)
{
    tkl_zip_close(B->z);
    free(B->workbook);
    for (size_t i = 0; i < B->n_sheets; i++)
        free(B->names[i]);
    for (size_t i = 0; i < B->n_ids; i++)
        free(B->ids[i]);
    free(B->names);
    free(B->ids);
    free(B->sheet_part);
    free(B->strings_part);
    free(B->styles_part);
    tkl_buf_free(&B->strings);
    free(B->str_at);
    free(B->date_xf);
    free(B->fmts);
    tkl_buf_free(&B->text);
}

int tkl_xlsx_read(struct tkl_rows *R, const char *file, const char *data, size_t len)
{
    size_t pl = tkl_store_path_len(file);
    char *path = strndup(file, pl);
    if (!path)
        return -ENOMEM;
    struct book B = {
        .rows = R, .diags = R->diags, .path = path, .want = file[pl] ? file + pl + 1 : NULL};
    int r = tkl_zip_open(path, data, len, &B.z, R->diags);
    if (r == 0)
        r = read_book(&B);
    if (r == 0)
        r = read_cells(&B);
    book_free(&B);
    free(path);
    return r;
}
