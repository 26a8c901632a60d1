#include "docx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/text.h"
#include "archive.h"
#include "heading.h"
#include "dynlib/libxml.h"

#define DOCUMENT "word/document.xml"

static const char *const W_NS[] = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
};
static const char MC_NS[] = "http://schemas.openxmlformats.org/markup-compatibility/2006";

/* ---- splitting a row into records ---- */

/* The cell's paragraphs joined by line breaks, list items marked "• " when
 * there are several. NULL on allocation failure. */
static char *cell_whole(const struct tkl_docx_cell *c)
{
    struct tkl_buf b = {0};
    int r = 0;
    for (size_t i = 0; i < c->n && r == 0; i++) {
        if (i)
            r = tkl_buf_putc(&b, '\n');
        if (r == 0 && c->n > 1 && c->paras[i].list)
            r = tkl_buf_puts(&b, "\xe2\x80\xa2 ");
        if (r == 0)
            r = tkl_buf_puts(&b, c->paras[i].text);
    }
    if (r < 0) {
        tkl_buf_free(&b);
        return NULL;
    }
    return tkl_buf_steal(&b);
}

/* What cell c, whose whole text is whole, gives record i of n. NULL on
 * allocation failure. */
static char *cell_part(const struct tkl_docx_cell *c, const char *whole, bool align, size_t i,
                       size_t n)
{
    if (align && n > 1 && c->n == n)
        return strdup(c->paras[i].text);
    return strdup(whole);
}

int tkl_docx_split(const struct tkl_docx_cell *cells, size_t n, size_t title, const bool *align,
                   struct tkl_docx_split *ret)
{
    size_t records = title < n && cells[title].n > 1 ? cells[title].n : 1;
    struct tkl_docx_split s = {.n_records = records, .n_cells = n};
    if (n && (!(s.text = calloc(records * n, sizeof(*s.text))) ||
              !(s.ambiguous = calloc(n, sizeof(*s.ambiguous)))))
        goto oom;
    for (size_t c = 0; c < n; c++) {
        bool al = c == title || (align && align[c]);
        if (al && records > 1 && cells[c].n > 1 && cells[c].n != records)
            s.ambiguous[s.n_ambiguous++] = c;
        char *whole = cell_whole(&cells[c]);
        if (!whole)
            goto oom;
        for (size_t i = 0; i < records; i++)
            if (!(s.text[i * n + c] = cell_part(&cells[c], whole, al, i, records))) {
                free(whole);
                goto oom;
            }
        free(whole);
    }
    *ret = s;
    return 0;
oom:
    tkl_docx_split_free(&s);
    return -ENOMEM;
}

void tkl_docx_split_free(struct tkl_docx_split *s)
{
    if (s->text)
        for (size_t i = 0; i < s->n_records * s->n_cells; i++)
            free(s->text[i]);
    free(s->text);
    free(s->ambiguous);
    memset(s, 0, sizeof(*s));
}

/* ---- the document's tables as read ---- */

struct cell {
    struct tkl_docx_cell c;
    size_t cap;
    unsigned span;
    bool merged; /* a vertically merged continuation */
};

struct row {
    struct cell *cells;
    size_t n, cap;
    unsigned before; /* grid columns skipped before the first cell */
    bool nested;     /* holds a table inside a cell */
};

struct table {
    struct row *rows;
    size_t n, cap;
};

struct doc {
    struct table *tables;
    size_t n, cap;
};

/* Makes room for one more of *n items of size bytes in *p, zeroed. Returns
 * 0 or -ENOMEM. */
static int grow(void *p, size_t *cap, size_t n, size_t size)
{
    void **pp = p;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / size)
        return -ENOMEM;
    char *q = realloc(*pp, ncap * size);
    if (!q)
        return -ENOMEM;
    memset(q + *cap * size, 0, (ncap - *cap) * size);
    *pp = q;
    *cap = ncap;
    return 0;
}

static void doc_free(struct doc *d)
{
    for (size_t t = 0; t < d->n; t++) {
        struct table *T = &d->tables[t];
        for (size_t i = 0; i < T->n; i++) {
            for (size_t c = 0; c < T->rows[i].n; c++) {
                struct cell *C = &T->rows[i].cells[c];
                for (size_t k = 0; k < C->c.n; k++)
                    free(C->c.paras[k].text);
                free(C->c.paras);
            }
            free(T->rows[i].cells);
        }
        free(T->rows);
    }
    free(d->tables);
    memset(d, 0, sizeof(*d));
}

/* ---- reading word/document.xml ---- */

struct parse {
    xmlTextReaderPtr x;
    struct tkl_zip *z;
    const char *file;
    struct tkl_diags *diags;
    struct doc *doc;
    unsigned depth; /* of w:tbl */
    bool in_cell, in_para, in_text, list;
    struct tkl_buf text; /* of the paragraph being read */
    size_t slots;        /* grid cells laid out so far */
    size_t paras;        /* non-empty paragraphs kept in cells so far */
};

static struct row *cur_row(struct parse *p)
{
    if (!p->doc->n)
        return NULL;
    struct table *T = &p->doc->tables[p->doc->n - 1];
    return T->n ? &T->rows[T->n - 1] : NULL;
}

static struct cell *cur_cell(struct parse *p)
{
    struct row *row = cur_row(p);
    return row && row->n && p->in_cell ? &row->cells[row->n - 1] : NULL;
}

/* Counts n more grid cells; -EFBIG with an error past the limit. */
static int count_slots(struct parse *p, size_t n)
{
    p->slots += n;
    if (p->slots <= TKL_DOCX_MAX_CELLS)
        return 0;
    tkl_diag_add(p->diags, TKL_SEV_ERROR, p->file, 0, DOCUMENT,
                 "tables of more than %u cells; refused as too large for a plan",
                 TKL_DOCX_MAX_CELLS);
    return -EFBIG;
}

/* The w:val attribute of the current element as a number, or dflt. */
static unsigned val_number(struct parse *p, unsigned dflt)
{
    for (size_t i = 0; i < sizeof(W_NS) / sizeof(W_NS[0]); i++) {
        xmlChar *v = sym_xmlTextReaderGetAttributeNs(p->x, BAD_CAST "val", BAD_CAST W_NS[i]);
        if (!v)
            continue;
        char *end;
        unsigned long n = strtoul((const char *)v, &end, 10);
        bool ok = end != (const char *)v && *end == '\0';
        (*sym_xmlFree)(v);
        return ok ? (n > UINT32_MAX ? UINT32_MAX : (unsigned)n) : dflt;
    }
    return dflt;
}

/* Whether the w:val attribute of the current element begins with prefix
 * (any case); absent is false. */
static bool val_begins(struct parse *p, const char *prefix)
{
    for (size_t i = 0; i < sizeof(W_NS) / sizeof(W_NS[0]); i++) {
        xmlChar *v = sym_xmlTextReaderGetAttributeNs(p->x, BAD_CAST "val", BAD_CAST W_NS[i]);
        if (!v)
            continue;
        bool yes = strncasecmp((const char *)v, prefix, strlen(prefix)) == 0;
        (*sym_xmlFree)(v);
        return yes;
    }
    return false;
}

/* A grid column count of one row or cell: -EFBIG with an error past the
 * limit. */
static int check_columns(struct parse *p, unsigned n)
{
    if (n <= TKL_DOCX_MAX_COLUMNS)
        return 0;
    tkl_diag_add(p->diags, TKL_SEV_ERROR, p->file, 0, DOCUMENT,
                 "table %zu has a row of %u columns, more than the %u a plan may have; refused",
                 p->doc->n, n, TKL_DOCX_MAX_COLUMNS);
    return -EFBIG;
}

static int table_start(struct parse *p)
{
    if (++p->depth > 1) {
        struct row *row = cur_row(p);
        if (row)
            row->nested = true;
        return 0;
    }
    struct doc *d = p->doc;
    if (grow(&d->tables, &d->cap, d->n, sizeof(*d->tables)) < 0)
        return -ENOMEM;
    d->n++;
    return 0;
}

static int row_start(struct parse *p)
{
    struct table *T = p->doc->n ? &p->doc->tables[p->doc->n - 1] : NULL;
    if (!T)
        return 0;
    if (grow(&T->rows, &T->cap, T->n, sizeof(*T->rows)) < 0)
        return -ENOMEM;
    T->n++;
    p->in_cell = false;
    return 0;
}

static int cell_start(struct parse *p)
{
    struct row *row = cur_row(p);
    if (!row)
        return 0;
    if (grow(&row->cells, &row->cap, row->n, sizeof(*row->cells)) < 0)
        return -ENOMEM;
    row->cells[row->n++].span = 1;
    p->in_cell = true;
    return count_slots(p, 1);
}

/* A property of the current row or cell (depth 1 only). */
static int grid_property(struct parse *p, const char *name)
{
    struct row *row = cur_row(p);
    struct cell *cell = cur_cell(p);
    if (strcmp(name, "gridBefore") == 0 && row && !p->in_cell) {
        row->before = val_number(p, 0);
        int r = check_columns(p, row->before);
        return r < 0 ? r : count_slots(p, row->before);
    }
    if (strcmp(name, "gridSpan") == 0 && cell) {
        unsigned span = val_number(p, 1);
        cell->span = span ? span : 1;
        int r = check_columns(p, cell->span);
        return r < 0 ? r : count_slots(p, cell->span - 1);
    }
    if (strcmp(name, "vMerge") == 0 && cell)
        cell->merged = !val_begins(p, "restart");
    return 0;
}

/* Ends a paragraph: its text, when not blank, is a paragraph of the cell
 * being read (of the outer table's cell inside a nested table). */
static int para_end(struct parse *p)
{
    struct cell *cell = cur_cell(p);
    p->in_para = p->in_text = false;
    char *text = tkl_buf_steal(&p->text);
    if (!text)
        return -ENOMEM;
    if (!cell || !text[strspn(text, " \t\r\n")]) {
        free(text);
        return 0;
    }
    if (++p->paras > TKL_DOCX_MAX_PARAS) {
        free(text);
        tkl_diag_add(p->diags, TKL_SEV_ERROR, p->file, 0, DOCUMENT,
                     "tables of more than %u paragraphs; refused as too large for a plan",
                     TKL_DOCX_MAX_PARAS);
        return -EFBIG;
    }
    struct tkl_docx_cell *c = &cell->c;
    if (grow(&c->paras, &cell->cap, c->n, sizeof(*c->paras)) < 0) {
        free(text);
        return -ENOMEM;
    }
    c->paras[c->n++] = (struct tkl_docx_para){.text = text, .list = p->list};
    return 0;
}

/* A run's content that is not w:t text. */
static int run_content(struct parse *p, const char *name)
{
    if (!p->in_para)
        return 0;
    if (strcmp(name, "tab") == 0)
        return tkl_buf_putc(&p->text, '\t');
    if (strcmp(name, "br") == 0 || strcmp(name, "cr") == 0)
        return tkl_buf_putc(&p->text, '\n');
    if (strcmp(name, "noBreakHyphen") == 0)
        return tkl_buf_putc(&p->text, '-');
    if (strcmp(name, "numPr") == 0 || (strcmp(name, "pStyle") == 0 && val_begins(p, "List")))
        p->list = true;
    return 0;
}

static int element_start(struct parse *p, const char *name)
{
    if (strcmp(name, "tbl") == 0)
        return table_start(p);
    if (p->depth == 1 && strcmp(name, "tr") == 0)
        return row_start(p);
    if (p->depth == 1 && strcmp(name, "tc") == 0)
        return cell_start(p);
    if (p->depth == 1 && (strcmp(name, "gridBefore") == 0 || strcmp(name, "gridSpan") == 0 ||
                          strcmp(name, "vMerge") == 0))
        return grid_property(p, name);
    if (strcmp(name, "p") == 0) {
        tkl_buf_reset(&p->text);
        p->in_para = true;
        p->list = false;
        return 0;
    }
    if (strcmp(name, "t") == 0) {
        p->in_text = p->in_para;
        return 0;
    }
    return run_content(p, name);
}

static int element_end(struct parse *p, const char *name)
{
    if (strcmp(name, "tbl") == 0) {
        if (p->depth)
            p->depth--;
        return 0;
    }
    if (p->depth == 1 && strcmp(name, "tc") == 0)
        p->in_cell = false;
    else if (strcmp(name, "t") == 0)
        p->in_text = false;
    else if (strcmp(name, "p") == 0 && p->in_para)
        return para_end(p);
    return 0;
}

/* Whether the element is in the WordprocessingML namespace. */
static bool is_w(const char *ns)
{
    for (size_t i = 0; ns && i < sizeof(W_NS) / sizeof(W_NS[0]); i++)
        if (strcmp(ns, W_NS[i]) == 0)
            return true;
    return false;
}

/* Whether an element's content is left unread: drawings and text boxes
 * (their paragraphs are not the cell's), the fallback copy of alternate
 * content, and text moved away in tracked changes. */
static bool skipped(const char *ns, const char *name)
{
    if (ns && strcmp(ns, MC_NS) == 0)
        return strcmp(name, "Fallback") == 0;
    return is_w(ns) && (strcmp(name, "drawing") == 0 || strcmp(name, "pict") == 0 ||
                        strcmp(name, "object") == 0 || strcmp(name, "moveFrom") == 0);
}

/* One node of the reader; *skip set when its content is to be skipped. */
static int on_node(struct parse *p, bool *skip)
{
    int type = sym_xmlTextReaderNodeType(p->x);
    const char *ns = (const char *)sym_xmlTextReaderConstNamespaceUri(p->x);
    const char *name = (const char *)sym_xmlTextReaderConstLocalName(p->x);
    int r = 0;
    if (type == XML_READER_TYPE_DOCUMENT_TYPE)
        return tkl_zip_refuse_doctype(p->z, DOCUMENT);
    if (type == XML_READER_TYPE_ELEMENT && name) {
        if ((*skip = skipped(ns, name)))
            return 0;
        if (!is_w(ns))
            return 0;
        r = element_start(p, name);
        if (r == 0 && sym_xmlTextReaderIsEmptyElement(p->x))
            r = element_end(p, name);
    } else if (type == XML_READER_TYPE_END_ELEMENT && name && is_w(ns)) {
        r = element_end(p, name);
    } else if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                type == XML_READER_TYPE_WHITESPACE) &&
               p->in_text) {
        const char *v = (const char *)sym_xmlTextReaderConstValue(p->x);
        r = v ? tkl_buf_puts(&p->text, v) : 0;
    }
    return r;
}

/* Reads word/document.xml of z into p->doc. Returns 0, -EINVAL (an error
 * in diags) or -ENOMEM. */
static int parse_document(struct parse *p)
{
    int r = tkl_zip_xml(p->z, DOCUMENT, &p->x, p->diags);
    if (r == -ENOENT)
        tkl_diag_add(p->diags, TKL_SEV_ERROR, p->file, 0, NULL,
                     "no %s: a ZIP archive but not a Word document (.docx)", DOCUMENT);
    if (r < 0)
        return r == -ENOMEM ? r : -EINVAL;
    int ret;
    bool skip = false;
    while (r == 0 &&
           (ret = skip ? sym_xmlTextReaderNext(p->x) : sym_xmlTextReaderRead(p->x)) == 1) {
        skip = false;
        r = on_node(p, &skip);
    }
    if (r == 0 && ret < 0) {
        r = -EINVAL;
        if (!tkl_zip_xml_error(p->z))
            tkl_diag_add(p->diags, TKL_SEV_ERROR, p->file, 0, DOCUMENT, "cannot be read as XML");
    }
    sym_xmlFreeTextReader(p->x);
    p->x = NULL;
    tkl_buf_free(&p->text);
    return r == -ENOMEM ? r : r < 0 ? -EINVAL : 0;
}

/* ---- tables as rows of a plan ---- */

/* One row laid out on the table's grid: n cells, the paragraphs borrowed
 * from the row; span[c] is the number of columns of the cell starting at c
 * (0 for a column another cell spans); filled[c] when the cell continues a
 * vertical merge and holds the merge's first cell's paragraphs. */
struct grid {
    struct tkl_docx_cell cells[TKL_DOCX_MAX_COLUMNS];
    unsigned span[TKL_DOCX_MAX_COLUMNS];
    bool filled[TKL_DOCX_MAX_COLUMNS];
    char *whole[TKL_DOCX_MAX_COLUMNS]; /* each cell's whole text */
    size_t n;
};

struct docx {
    struct tkl_rows *R;
    const char *file;
    struct doc doc;
    struct grid g;
    size_t table, row; /* being read, from 1 */
    char *objective;   /* carried to the rows below */
    char *objective_at;
    bool objective_used;
    size_t label_row;                  /* the row of an "Objective" label just above, or 0 */
    size_t n_read;                     /* tables read */
    char *heads[TKL_DOCX_MAX_COLUMNS]; /* texts of the heading row */
    size_t n_heads;
    size_t given; /* bytes of text given in records so far */
    /* per grid column, the cell that began the vertical merge a cell of
     * the next row may continue (w:vMerge), or NULL */
    const struct tkl_docx_cell *merge_top[TKL_DOCX_MAX_COLUMNS];
};

static void grid_clear(struct grid *g)
{
    for (size_t c = 0; c < g->n; c++)
        free(g->whole[c]);
    memset(g->whole, 0, sizeof(g->whole));
    g->n = 0;
}

/* Lays row out into g. Below the heading row (merges), a continuation of
 * a vertical merge holds the paragraphs of the merge's first cell, as Word
 * shows it: the rows a merged Timeframe covers share its deadline. A merge
 * begun in or above the heading row, broken by a row with no cell at its
 * column, or in the id column (an id is its own row's: the rows below keep
 * the ids their texts give them), gives nothing; a row laid out without
 * merges neither takes nor passes one on. Rows are laid out in order from
 * the table's first, merge_top cleared before it. Returns 0, -EFBIG (an
 * error in diags) or -ENOMEM. */
static int lay_out(struct docx *d, const struct row *row, struct grid *g, bool merges)
{
    grid_clear(g);
    size_t n = row->before;
    for (size_t i = 0; i < row->n; i++)
        n += row->cells[i].span;
    if (n > TKL_DOCX_MAX_COLUMNS) {
        tkl_diag_add(d->R->diags, TKL_SEV_ERROR, d->file, 0, DOCUMENT,
                     "table %zu, row %zu: %zu columns, more than the %u a plan may have; refused",
                     d->table, d->row, n, TKL_DOCX_MAX_COLUMNS);
        return -EFBIG;
    }
    memset(g->cells, 0, n * sizeof(g->cells[0]));
    memset(g->span, 0, n * sizeof(g->span[0]));
    memset(g->filled, 0, n * sizeof(g->filled[0]));
    const struct tkl_docx_cell *top[TKL_DOCX_MAX_COLUMNS] = {NULL};
    int id = merges && d->R->have_header ? d->R->column[TKL_FIELD_ID] : -1;
    size_t at = row->before;
    for (size_t i = 0; i < row->n; i++) {
        const struct cell *C = &row->cells[i];
        if (!C->merged) {
            g->cells[at] = C->c;
            top[at] = merges && (int)at != id ? &C->c : NULL;
        } else if (merges && d->merge_top[at]) {
            g->cells[at] = *d->merge_top[at];
            g->filled[at] = g->cells[at].n > 0;
            top[at] = d->merge_top[at];
        }
        g->span[at] = C->span;
        at += C->span;
    }
    memcpy(d->merge_top, top, sizeof(top));
    g->n = n;
    for (size_t c = 0; c < n; c++)
        if (!(g->whole[c] = cell_whole(&g->cells[c])))
            return -ENOMEM;
    return 0;
}

/* The column of the only non-empty cell of g (of the row's own, not those
 * a merge fills), or -1. */
static int only_cell(const struct grid *g)
{
    int only = -1;
    for (size_t c = 0; c < g->n; c++) {
        if (!g->cells[c].n || g->filled[c])
            continue;
        if (only >= 0)
            return -1;
        only = (int)c;
    }
    return g->n > 1 ? only : -1;
}

static bool is_heading_row(const struct docx *d, const struct grid *g)
{
    for (size_t c = 0; c < g->n; c++)
        if (tkl_field_for_heading(d->R->opts, g->whole[c]) == TKL_FIELD_TITLE)
            return true;
    return false;
}

/* "file: table T, row N[, item I]" into *ret. Returns 0 or -ENOMEM. */
static int place(const struct docx *d, size_t item, char **ret)
{
    int n;
    if (!d->row)
        n = asprintf(ret, "%s: table %zu", d->file, d->table);
    else if (!item)
        n = asprintf(ret, "%s: table %zu, row %zu", d->file, d->table, d->row);
    else
        n = asprintf(ret, "%s: table %zu, row %zu, item %zu", d->file, d->table, d->row, item);
    if (n < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* Adds a warning at the current row. Returns 0 or -ENOMEM. */
static int warn(struct docx *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int warn(struct docx *d, const char *field, const char *fmt, ...)
{
    char *where, *msg;
    if (place(d, 0, &where) < 0)
        return -ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        free(where);
        return -ENOMEM;
    }
    tkl_diag_add(d->R->diags, TKL_SEV_WARNING, where, 0, field, "%s", msg);
    free(where);
    free(msg);
    return 0;
}

/* Warns when the objective carried from a row of its own heads no action.
 * Returns 0 or -ENOMEM. */
static int objective_unused(struct docx *d)
{
    if (!d->objective_at || d->objective_used)
        return 0;
    tkl_diag_add(d->R->diags, TKL_SEV_WARNING, d->objective_at, 0, "objective",
                 "\"%s\": a row of its own with no action below it; not read as an action",
                 d->objective);
    return 0;
}

/* Carries text, the only cell of the current row, as the objective of the
 * rows below. Returns 0 or -ENOMEM. */
static int carry_objective(struct docx *d, const char *text)
{
    objective_unused(d);
    char *at = NULL, *o = strdup(text);
    if (!o || place(d, 0, &at) < 0) {
        free(o);
        return -ENOMEM;
    }
    free(d->objective);
    free(d->objective_at);
    d->objective = o;
    d->objective_at = at;
    d->objective_used = false;
    return tkl_rows_carry(d->R, TKL_FIELD_OBJECTIVE, text);
}

/* A row whose only non-empty cell is column c: an objective, an
 * "Objective" label or the description below such a label. Returns 0 or
 * -ENOMEM. */
static int one_cell_row(struct docx *d, size_t c)
{
    const char *text = d->g.whole[c];
    if (d->label_row && d->label_row + 1 == d->row)
        return warn(d, "objective",
                    "the description under the label above; the objective stays \"%s\" and "
                    "this row is not read as an action",
                    d->objective ? d->objective : "");
    if (tkl_field_for_heading(d->R->opts, text) == TKL_FIELD_OBJECTIVE) {
        d->label_row = d->row;
        return warn(d, "objective",
                    "\"%s\": a label for the row below; neither is read as an action", text);
    }
    return carry_objective(d, text);
}

/* Whether the only non-empty cell of a row below the heading row, column
 * c, is an objective: it spans columns, or it is not in the action column
 * (an action alone in its row is an action). */
static bool objective_cell(const struct docx *d, size_t c)
{
    return d->g.span[c] > 1 || (int)c != d->R->column[TKL_FIELD_TITLE];
}

/* Gives one record of n cells to row.c, named by the current row (and
 * item, from 1, when the row gives several). Returns 0 or -ENOMEM. */
static int record(struct docx *d, char *const *cells, size_t n, size_t item)
{
    char *where;
    if (place(d, item, &where) < 0)
        return -ENOMEM;
    const char *file = d->R->file;
    d->R->file = where;
    int r = tkl_rows_record(d->R, cells, n, 0);
    d->R->file = file;
    free(where);
    return r;
}

/* The field of column c, for a diagnostic; NULL when it has none. */
static const char *column_field(const struct docx *d, size_t c)
{
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        if (d->R->column[f] == (int)c)
            return tkl_field_name(f);
    return NULL;
}

/* Warns about each column s could not align. Returns 0 or -ENOMEM. */
static int warn_ambiguous(struct docx *d, const struct tkl_docx_split *s, size_t title)
{
    int r = 0;
    for (size_t i = 0; i < s->n_ambiguous && r == 0; i++) {
        size_t c = s->ambiguous[i];
        const char *head = c < d->n_heads ? d->heads[c] : "";
        r = warn(d, column_field(d, c),
                 "the %s cell holds %zu items but the %s cell %zu, neither one for all nor one "
                 "for each: each of the %zu actions is given the whole %s cell (write one item "
                 "per action, or one for all)",
                 title < d->n_heads ? d->heads[title] : "action", s->n_records, head,
                 d->g.cells[c].n, s->n_records, head);
    }
    return r;
}

/* Counts the text of the current row given to n records (at most: each
 * cell whole on each); -EFBIG with an error past TKL_DOCX_MAX_TEXT. */
static int budget(struct docx *d, size_t n)
{
    size_t len = 0;
    for (size_t c = 0; c < d->g.n; c++)
        len += strlen(d->g.whole[c]);
    if (len <= (TKL_DOCX_MAX_TEXT - d->given) / n) {
        d->given += len * n;
        return 0;
    }
    tkl_diag_add(d->R->diags, TKL_SEV_ERROR, d->file, 0, DOCUMENT,
                 "table %zu, row %zu: its actions would hold more than %u MiB of text in all; "
                 "refused as too large for a plan",
                 d->table, d->row, TKL_DOCX_MAX_TEXT >> 20);
    return -EFBIG;
}

/* A row below the heading row as one action per item of its action cell.
 * Returns 0 or -ENOMEM. */
static int action_row(struct docx *d)
{
    static const enum tkl_field aligned[] = {TKL_FIELD_ID, TKL_FIELD_OWNERS, TKL_FIELD_DEADLINE,
                                             TKL_FIELD_STATUS, TKL_FIELD_PROGRESS};
    const int *column = d->R->column;
    bool align[TKL_DOCX_MAX_COLUMNS] = {false};
    for (size_t i = 0; i < sizeof(aligned) / sizeof(aligned[0]); i++)
        if (column[aligned[i]] >= 0 && (size_t)column[aligned[i]] < d->g.n)
            align[column[aligned[i]]] = true;
    size_t title = (size_t)column[TKL_FIELD_TITLE];
    int r = budget(d, title < d->g.n && d->g.cells[title].n ? d->g.cells[title].n : 1);
    if (r < 0)
        return r;
    struct tkl_docx_split s;
    if (tkl_docx_split(d->g.cells, d->g.n, title, align, &s) < 0)
        return -ENOMEM;
    r = warn_ambiguous(d, &s, title);
    for (size_t i = 0; r == 0 && i < s.n_records; i++)
        r = record(d, &s.text[i * s.n_cells], s.n_cells, s.n_records > 1 ? i + 1 : 0);
    d->objective_used = true;
    tkl_docx_split_free(&s);
    return r;
}

/* Keeps the heading row's texts for diagnostics. Returns 0 or -ENOMEM. */
static int keep_heads(struct docx *d)
{
    for (size_t c = 0; c < d->n_heads; c++)
        free(d->heads[c]);
    d->n_heads = 0;
    for (size_t c = 0; c < d->g.n; c++) {
        if (!(d->heads[c] = strdup(d->g.whole[c])))
            return -ENOMEM;
        d->n_heads = c + 1;
    }
    return 0;
}

/* Warns of each vertically merged continuation of row that holds text:
 * Word shows the text of the merge's first cell only, and so does this
 * reader. Returns 0 or -ENOMEM. */
static int warn_merged_text(struct docx *d, const struct row *row)
{
    size_t at = row->before;
    int r = 0;
    for (size_t i = 0; i < row->n && r == 0; at += row->cells[i++].span) {
        const struct cell *C = &row->cells[i];
        if (C->merged && C->c.n)
            r = warn(d, column_field(d, at),
                     "column %zu continues the merged cell above but holds \"%s\"; as in Word, "
                     "only the text of the merge's first cell is read",
                     at + 1, C->c.paras[0].text);
    }
    return r;
}

/* One row laid out in d->g: stage < 0 above the heading row, 0 the heading
 * row, > 0 below it. Returns 0 or -ENOMEM. */
static int table_row(struct docx *d, const struct row *row, int stage)
{
    if (row->nested &&
        warn(d, NULL, "a table inside a cell: its paragraphs are read as the cell's own") < 0)
        return -ENOMEM;
    if (warn_merged_text(d, row) < 0)
        return -ENOMEM;
    bool any = false;
    for (size_t c = 0; c < d->g.n; c++)
        any |= d->g.cells[c].n > 0 && !d->g.filled[c];
    if (!any)
        return 0; /* a blank row, as a blank line of CSV, merges or not */
    if (stage == 0)
        return keep_heads(d) < 0 ? -ENOMEM : record(d, d->g.whole, d->g.n, 0);
    if (stage > 0 && is_heading_row(d, &d->g))
        return 0; /* a plan in sections, each under the heading row: no action, as in a CSV */
    int only = only_cell(&d->g);
    if (only >= 0 && (stage < 0 || objective_cell(d, (size_t)only)))
        return one_cell_row(d, (size_t)only);
    if (stage < 0)
        return record(d, d->g.whole, d->g.n, 0); /* row.c reports it */
    return action_row(d);
}

/* The index of T's heading row into *ret, or T->n when it has none.
 * Returns 0, -EFBIG or -ENOMEM. */
static int find_heading(struct docx *d, const struct table *T, size_t *ret)
{
    *ret = T->n;
    memset(d->merge_top, 0, sizeof(d->merge_top));
    for (size_t i = 0; i < T->n; i++) {
        d->row = i + 1;
        int r = lay_out(d, &T->rows[i], &d->g, false);
        if (r < 0)
            return r;
        if (is_heading_row(d, &d->g)) {
            *ret = i;
            break;
        }
    }
    d->row = 0;
    return 0;
}

/* Reads table d->table, T, when it has a heading row, and reports it
 * otherwise. Returns 0, -EFBIG or -ENOMEM. */
static int read_table(struct docx *d, const struct table *T)
{
    size_t head;
    int r = find_heading(d, T, &head);
    if (r < 0)
        return r;
    if (head == T->n)
        return warn(d, NULL,
                    "no heading row (no column named " TKL_TITLE_HEADINGS
                    "); the table is not read");
    char *where;
    if (place(d, 0, &where) < 0)
        return -ENOMEM;
    tkl_rows_begin(d->R, where);
    d->label_row = 0;
    memset(d->merge_top, 0, sizeof(d->merge_top));
    if (d->objective)
        r = tkl_rows_carry(d->R, TKL_FIELD_OBJECTIVE, d->objective);
    for (size_t i = 0; r == 0 && i < T->n; i++) {
        d->row = i + 1;
        r = lay_out(d, &T->rows[i], &d->g, i > head);
        if (r == 0)
            r = table_row(d, &T->rows[i], i < head ? -1 : i == head ? 0 : 1);
    }
    d->row = 0;
    if (r == 0)
        r = tkl_rows_end(d->R);
    d->R->file = d->file;
    free(where);
    d->n_read++;
    return r;
}

/* Reads every table of d->doc. Returns 0, -EINVAL (no table read: an error
 * in diags), -EFBIG or -ENOMEM. */
static int read_tables(struct docx *d)
{
    int r = 0;
    for (size_t t = 0; t < d->doc.n && r == 0; t++) {
        d->table = t + 1;
        r = read_table(d, &d->doc.tables[t]);
    }
    d->table = 0;
    if (r < 0)
        return r;
    objective_unused(d);
    if (d->n_read)
        return 0;
    tkl_diag_add(d->R->diags, TKL_SEV_ERROR, d->file, 0, NULL,
                 "%zu tables, none with a heading row: not a plan tickler can read", d->doc.n);
    tkl_rows_begin(d->R, d->file);
    return tkl_rows_end(d->R);
}

static void docx_free(struct docx *d)
{
    grid_clear(&d->g);
    for (size_t c = 0; c < d->n_heads; c++)
        free(d->heads[c]);
    free(d->objective);
    free(d->objective_at);
    doc_free(&d->doc);
    free(d);
}

int tkl_docx_read(struct tkl_rows *R, const char *file, const char *data, size_t len)
{
    struct docx *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->R = R;
    d->file = file;
    struct tkl_zip *z = NULL;
    int r = tkl_zip_open(file, data, len, &z, R->diags);
    if (r == 0) {
        struct parse p = {.z = z, .file = file, .diags = R->diags, .doc = &d->doc};
        r = parse_document(&p);
    }
    tkl_zip_close(z);
    if (r == 0)
        r = read_tables(d);
    R->file = file;
    docx_free(d);
    return r == -ENOMEM ? r : r < 0 ? -EINVAL : 0;
}
