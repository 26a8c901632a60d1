#include "ods.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tickler/day.h>

#include "sheet.h"
#include "store.h"

/* A positive return of a node function: the table asked for is read. */
#define TABLE_READ 1

/* The most styles of each kind, and column ranges, kept: as many cell
 * formats as Excel allows; later ones show dates as days. */
#define STYLES_MAX 65536u

/* A style the cells name: a cell style (family table-cell) and the data
 * style it shows numbers with, or a date style (number:date-style) and
 * what it shows of a date. */
struct style {
    char *name;
    char *data_style; /* a cell style's, or NULL */
    char *parent;     /* a cell style's parent, or NULL */
    uint8_t date;     /* a date style's: enum tkl_sheet_date */
};

/* Columns first to last of the table read, and the style of their cells
 * that name none (table:default-cell-style-name). */
struct column_style {
    uint64_t first, last;
    char *style;
};

struct ods {
    struct tkl_rows *rows;
    struct tkl_diags *diags;
    char *path;       /* the file, without the table's name */
    const char *want; /* the table asked for, or NULL for the first */
    char **names;     /* the tables seen so far */
    size_t n_names;
    char *place;
    unsigned tables; /* depth of table elements (a table in a cell nests) */
    bool reading;    /* in the table asked for */
    struct tkl_sheet s;
    uint64_t col, rows_repeat, cols_repeat;
    bool in_cell, covered;
    unsigned in_p, in_note, paragraphs;
    char *value_type, *date_value, *value, *string_value, *boolean_value, *style_name;
    struct tkl_buf text;
    /* the styles, of styles.xml and of content.xml's automatic styles */
    struct style *cell_styles, *date_styles;
    size_t n_cell_styles, cap_cell_styles, n_date_styles, cap_date_styles;
    struct style *date_style; /* the date style being read */
    bool date_day, date_month, date_year;
    struct column_style *columns; /* of the table read, in order: first rises */
    size_t n_columns, cap_columns;
    /* the styles by name (then by place: the first of a name is the one
     * found) and what each cell style shows of a date (enum
     * tkl_sheet_date, DATE_UNKNOWN until first needed), made at the first
     * date cell, and again if styles were added since (style_index) */
    struct style_key {
        const char *name;
        uint32_t at;
    } * cell_keys, *date_keys;
    uint8_t *cell_dates;
    size_t n_cell_keys, n_date_keys;
    uint64_t next_column; /* of the table read, from 1 */
};

static int repeat_attr(xmlTextReaderPtr x, const char *name, uint64_t *ret);

/* Grows the array *v of *cap items of size each to hold n + 1, at most
 * STYLES_MAX. Returns 1 when full, 0 or -ENOMEM. */
static int grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    if (n >= STYLES_MAX)
        return 1;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*(void **)v, c * size);
    if (!p)
        return -ENOMEM;
    *(void **)v = p;
    *cap = c;
    return 0;
}

static void style_free(struct style *st)
{
    free(st->name);
    free(st->data_style);
    free(st->parent);
}

/* A style element: a cell style is kept with its data style and parent; a
 * date style is begun, its parts read from its children (on_style). Returns
 * 0 or -ENOMEM. */
static int style_start(struct ods *O, xmlTextReaderPtr x, const char *name)
{
    char *v = NULL;
    struct style st = {0};
    int r = 0;
    bool date = strcmp(name, "date-style") == 0;
    if (!date) {
        r = tkl_xml_attr(x, "family", &v);
        bool cell = r == 0 && strcmp(v, "table-cell") == 0;
        free(v);
        if (r < 0 || !cell)
            return r == -ENOENT ? 0 : r;
    }
    if ((r = tkl_xml_attr(x, "name", &st.name)) < 0)
        return r == -ENOENT ? 0 : r;
    if (!date && (((r = tkl_xml_attr(x, "data-style-name", &st.data_style)) < 0 && r != -ENOENT) ||
                  ((r = tkl_xml_attr(x, "parent-style-name", &st.parent)) < 0 && r != -ENOENT))) {
        style_free(&st);
        return r;
    }
    struct style **v_ = date ? &O->date_styles : &O->cell_styles;
    size_t *n = date ? &O->n_date_styles : &O->n_cell_styles;
    r = grow(v_, date ? &O->cap_date_styles : &O->cap_cell_styles, *n, sizeof(st));
    if (r != 0) {
        style_free(&st);
        return r < 0 ? r : 0;
    }
    (*v_)[*n] = st;
    if (date) {
        O->date_style = &(*v_)[*n];
        O->date_day = O->date_month = O->date_year = false;
    }
    (*n)++;
    return 0;
}

/* The styles of styles.xml and content.xml: cell styles, and date styles
 * with what they show (number:day, or number:day-of-week, which only a
 * date with a day has; number:month; number:year). Returns 0 or -ENOMEM. */
static int on_style(struct ods *O, xmlTextReaderPtr x, int type, const char *name)
{
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
    if (start && (strcmp(name, "style") == 0 || strcmp(name, "date-style") == 0))
        return style_start(O, x, name);
    if (!O->date_style)
        return 0;
    if (end && strcmp(name, "date-style") == 0) {
        O->date_style->date = O->date_day     ? TKL_SHEET_DATE_DAY
                              : O->date_month ? TKL_SHEET_DATE_MONTH
                              : O->date_year  ? TKL_SHEET_DATE_YEAR
                                              : TKL_SHEET_DATE_DAY;
        O->date_style = NULL;
    } else if (start) {
        O->date_day |= strcmp(name, "day") == 0 || strcmp(name, "day-of-week") == 0;
        O->date_month |= strcmp(name, "month") == 0;
        O->date_year |= strcmp(name, "year") == 0;
    }
    return 0;
}

static int on_styles(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    return on_style(ctx, x, type, name);
}

#define DATE_UNKNOWN 0xFFu

static int key_cmp(const void *a, const void *b)
{
    const struct style_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

/* The keys of the n styles v sorted by name, then place, into *keys.
 * Returns 0 or -ENOMEM. */
static int sort_keys(const struct style *v, size_t n, struct style_key **keys)
{
    struct style_key *k = malloc((n ? n : 1) * sizeof(*k));
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        k[i] = (struct style_key){.name = v[i].name, .at = (uint32_t)i};
    qsort(k, n, sizeof(*k), key_cmp);
    free(*keys);
    *keys = k;
    return 0;
}

/* Makes the styles' index (struct ods) when styles were added since it was
 * made. Returns 0 or -ENOMEM. */
static int style_index(struct ods *O)
{
    if (O->cell_dates && O->n_cell_keys == O->n_cell_styles && O->n_date_keys == O->n_date_styles)
        return 0;
    uint8_t *dates = malloc(O->n_cell_styles ? O->n_cell_styles : 1);
    if (!dates || sort_keys(O->cell_styles, O->n_cell_styles, &O->cell_keys) < 0 ||
        sort_keys(O->date_styles, O->n_date_styles, &O->date_keys) < 0) {
        free(dates);
        return -ENOMEM;
    }
    memset(dates, DATE_UNKNOWN, O->n_cell_styles);
    free(O->cell_dates);
    O->cell_dates = dates;
    O->n_cell_keys = O->n_cell_styles;
    O->n_date_keys = O->n_date_styles;
    return 0;
}

/* The place in v of the first style named name among the n keys, or -1. */
static long find_style(const struct style_key *keys, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (name && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(keys[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return name && lo < n && strcmp(keys[lo].name, name) == 0 ? (long)keys[lo].at : -1;
}

/* The column style of column col: the range holding it, found by bsearch
 * (the ranges are in order of the columns); NULL when none has one. */
static const char *column_style(const struct ods *O, uint64_t col)
{
    size_t lo = 0, hi = O->n_columns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (O->columns[mid].first <= col)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && col <= O->columns[lo - 1].last ? O->columns[lo - 1].style : NULL;
}

/* What the cell just read shows of its date: from its style, or its
 * column's, through its parents (at most 8) to its data style's parts.
 * A day when no date style says otherwise. Each cell style's is found
 * once; the styles' index is made (style_index). */
static enum tkl_sheet_date cell_date(struct ods *O)
{
    const char *name = O->style_name ? O->style_name : column_style(O, O->col);
    long i = find_style(O->cell_keys, O->n_cell_keys, name);
    if (i < 0)
        return TKL_SHEET_DATE_DAY;
    if (O->cell_dates[i] != DATE_UNKNOWN)
        return (enum tkl_sheet_date)O->cell_dates[i];
    const struct style *st = &O->cell_styles[i];
    for (int depth = 0; st && !st->data_style && st->parent && depth < 8; depth++) {
        long p = find_style(O->cell_keys, O->n_cell_keys, st->parent);
        st = p < 0 ? NULL : &O->cell_styles[p];
    }
    long d = st ? find_style(O->date_keys, O->n_date_keys, st->data_style) : -1;
    O->cell_dates[i] = d < 0 ? (uint8_t)TKL_SHEET_DATE_DAY : O->date_styles[d].date;
    return (enum tkl_sheet_date)O->cell_dates[i];
}

/* A table:table-column of the table read: its default cell style kept for
 * its columns. Returns 0 or -ENOMEM. */
static int column_start(struct ods *O, xmlTextReaderPtr x)
{
    uint64_t n;
    char *style = NULL;
    int r = repeat_attr(x, "number-columns-repeated", &n);
    if (r == 0 && (r = tkl_xml_attr(x, "default-cell-style-name", &style)) == 0 &&
        (r = grow(&O->columns, &O->cap_columns, O->n_columns, sizeof(*O->columns))) == 0 &&
        O->next_column <= TKL_SHEET_COLUMNS_MAX) {
        O->columns[O->n_columns++] = (struct column_style){
            .first = O->next_column,
            .last = n > TKL_SHEET_COLUMNS_MAX ? TKL_SHEET_COLUMNS_MAX + 1 : O->next_column + n - 1,
            .style = style};
        style = NULL;
    }
    free(style);
    O->next_column = n > TKL_SHEET_COLUMNS_MAX ? TKL_SHEET_COLUMNS_MAX + 1 : O->next_column + n;
    return r == -ENOENT || r == 1 ? 0 : r;
}

/* A number-*-repeated attribute: 1 when absent or not a count. Returns 0
 * or -ENOMEM. */
static int repeat_attr(xmlTextReaderPtr x, const char *name, uint64_t *ret)
{
    char *v = NULL, *end;
    int r = tkl_xml_attr(x, name, &v);
    *ret = 1;
    if (r == 0) {
        unsigned long long n = strtoull(v, &end, 10);
        if (!*end && n > 0 && v[0] != '-')
            *ret = n;
    }
    free(v);
    return r == -ENOENT ? 0 : r;
}

static void cell_clear(struct ods *O)
{
    free(O->value_type);
    free(O->date_value);
    free(O->value);
    free(O->string_value);
    free(O->boolean_value);
    free(O->style_name);
    O->value_type = O->date_value = O->value = O->string_value = O->boolean_value = NULL;
    O->style_name = NULL;
    tkl_buf_reset(&O->text);
    O->paragraphs = O->in_p = O->in_note = 0;
}

static int cell_start(struct ods *O, xmlTextReaderPtr x, bool covered)
{
    cell_clear(O);
    O->in_cell = true;
    O->covered = covered;
    uint64_t span = 1;
    int r = repeat_attr(x, "number-columns-repeated", &O->cols_repeat);
    static const char *const names[] = {"value-type",   "date-value",    "value",
                                        "string-value", "boolean-value", "style-name"};
    char **slots[] = {&O->value_type,   &O->date_value,    &O->value,
                      &O->string_value, &O->boolean_value, &O->style_name};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && r == 0 && !covered; i++)
        if ((r = tkl_xml_attr(x, names[i], slots[i])) == -ENOENT)
            r = 0;
    /* a merge down the rows below: the covered cells there take its value */
    if (r == 0 && !covered && (r = repeat_attr(x, "number-rows-spanned", &span)) == 0 && span > 1)
        r = tkl_sheet_merge(&O->s, O->col, O->s.row,
                            span > TKL_SHEET_ROWS_MAX ? TKL_SHEET_ROWS_MAX : O->s.row + span - 1);
    return r;
}

/* The text of a date cell whose date_value is "2024-03-01..." into buf,
 * shown as its style shows it (tkl_sheet_day_text); NULL when it is no
 * such date. */
static const char *date_text(struct ods *O, char *buf, size_t size)
{
    const char *v = O->date_value;
    int y = 0, m = 0, d = 0;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : v[i] < '0' || v[i] > '9')
            return NULL;
    for (int i = 0; i < 4; i++)
        y = y * 10 + (v[i] - '0');
    m = (v[5] - '0') * 10 + (v[6] - '0');
    d = (v[8] - '0') * 10 + (v[9] - '0');
    if (!tkl_civil_valid(y, m, d))
        return NULL;
    return tkl_sheet_day_text(tkl_day_from_civil(y, m, d), cell_date(O), buf, size);
}

/* The text a CSV export gives of the cell just read (a date shown with no
 * day as its month, which deadline.c reads as the month's last day), into
 * buf of size bytes when it is made. */
static const char *cell_text(struct ods *O, char *buf, size_t size)
{
    const char *type = O->value_type ? O->value_type : "";
    if (O->covered)
        return "";
    if (strcmp(type, "date") == 0 && O->date_value && strlen(O->date_value) >= 10 &&
        O->date_value[4] == '-') {
        const char *t = date_text(O, buf, size);
        if (t)
            return t;
        O->date_value[10] = '\0';
        return O->date_value;
    }
    if (O->paragraphs)
        return O->text.data ? O->text.data : "";
    if (strcmp(type, "boolean") == 0 && O->boolean_value)
        return strcmp(O->boolean_value, "true") == 0 ? "TRUE" : "FALSE";
    if (strcmp(type, "string") == 0 && O->string_value)
        return O->string_value;
    if (O->value)
        return O->value;
    return O->date_value ? O->date_value : "";
}

static int cell_end(struct ods *O)
{
    char buf[32];
    if (O->date_value && style_index(O) < 0)
        return -ENOMEM;
    const char *text = cell_text(O, buf, sizeof(buf));
    int r = tkl_sheet_cell(&O->s, O->col, text, strlen(text), O->cols_repeat);
    uint64_t left = TKL_SHEET_COLUMNS_MAX + 1 - O->col;
    O->col = O->cols_repeat >= left ? TKL_SHEET_COLUMNS_MAX + 1 : O->col + O->cols_repeat;
    O->in_cell = false;
    cell_clear(O);
    return r;
}

/* Inside a cell: paragraphs, their spaces, tabs and breaks, and text; a
 * comment (office:annotation) left out. Returns 0 or -ENOMEM. */
static int in_cell(struct ods *O, xmlTextReaderPtr x, int type, const char *name)
{
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
    if (strcmp(name, "annotation") == 0 && (start || end)) {
        if (start)
            O->in_note++;
        else
            O->in_note--;
        return 0;
    }
    if (O->in_note)
        return 0;
    if ((strcmp(name, "p") == 0 || strcmp(name, "h") == 0) && (start || end)) {
        if (start && O->in_p == 0 && O->paragraphs++ && tkl_buf_putc(&O->text, '\n') < 0)
            return -ENOMEM;
        if (start)
            O->in_p++;
        else
            O->in_p--;
        return 0;
    }
    if (!O->in_p)
        return 0;
    if (start && strcmp(name, "tab") == 0)
        return tkl_buf_putc(&O->text, '\t');
    if (start && strcmp(name, "line-break") == 0)
        return tkl_buf_putc(&O->text, '\n');
    if (start && strcmp(name, "s") == 0) {
        uint64_t n;
        int r = repeat_attr(x, "c", &n);
        /* more spaces than a cell may hold are refused by its limit; the
         * text stops growing once it holds more than that in any encoding,
         * however many runs of spaces follow */
        for (uint64_t i = 0; i < n && O->text.len <= (size_t)4 * TKL_SHEET_CELL_CHARS_MAX && r == 0;
             i++)
            r = tkl_buf_putc(&O->text, ' ');
        return r;
    }
    return tkl_xml_text(x, type, &O->text);
}

/* A table begins: it is read when it is the one asked for (or the first).
 * Returns 0 or -ENOMEM. */
static int table_start(struct ods *O, xmlTextReaderPtr x)
{
    char *name = NULL;
    int r = tkl_xml_attr(x, "name", &name);
    if (r == -ENOENT)
        r = (name = strdup("")) ? 0 : -ENOMEM;
    if (r < 0 || (r = tkl_strv_push(&O->names, &O->n_names, name)) < 0)
        return r;
    if (O->want ? strcasecmp(name, O->want) != 0 : O->n_names > 1)
        return 0;
    if (asprintf(&O->place, "%s:%s", O->path, name) < 0) {
        O->place = NULL;
        return -ENOMEM;
    }
    O->reading = true;
    O->next_column = 1;
    tkl_sheet_begin(&O->s, O->rows, O->place);
    return 0;
}

static int on_content(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct ods *O = ctx;
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
    int r;
    if (!O->tables && !O->reading)
        if ((O->date_style || start) && (r = on_style(O, x, type, name)) != 0)
            return r;
    if (strcmp(name, "table") == 0 && (start || end)) {
        if (start && O->tables++ == 0)
            return table_start(O, x);
        if (end && --O->tables == 0 && O->reading)
            return TABLE_READ;
        return 0;
    }
    if (!O->reading || O->tables != 1)
        return 0;
    if (O->in_cell &&
        !((strcmp(name, "table-cell") == 0 || strcmp(name, "covered-table-cell") == 0) && end))
        return in_cell(O, x, type, name);
    if (strcmp(name, "table-column") == 0 && start)
        return column_start(O, x);
    if (strcmp(name, "table-row") == 0 && start) {
        O->col = 1;
        return repeat_attr(x, "number-rows-repeated", &O->rows_repeat);
    }
    if (strcmp(name, "table-row") == 0 && end)
        return tkl_sheet_row_end(&O->s, O->rows_repeat);
    if (strcmp(name, "table-cell") == 0 || strcmp(name, "covered-table-cell") == 0)
        return start ? cell_start(O, x, name[0] == 'c') : end ? cell_end(O) : 0;
    return 0;
}

/* The error for a table that is not there, naming those that are. */
static int no_table(struct ods *O)
{
    struct tkl_buf l = {0};
    for (size_t i = 0; i < O->n_names; i++)
        if (tkl_buf_printf(&l, "%s\"%s\"", i ? ", " : "", O->names[i]) < 0)
            break;
    if (O->want)
        tkl_diag_add(O->diags, TKL_SEV_ERROR, O->path, 0, "sheet",
                     "no sheet named \"%s\"; the spreadsheet's sheets are %s", O->want,
                     l.data ? l.data : "");
    else
        tkl_diag_add(O->diags, TKL_SEV_ERROR, O->path, 0, "content.xml",
                     "the spreadsheet has no sheet");
    tkl_buf_free(&l);
    return -EINVAL;
}

int tkl_ods_read(struct tkl_rows *R, const char *file, const char *data, size_t len)
{
    size_t pl = tkl_store_path_len(file);
    struct ods O = {.rows = R, .diags = R->diags, .want = file[pl] ? file + pl + 1 : NULL};
    struct tkl_zip *z = NULL;
    if (!(O.path = strndup(file, pl)))
        return -ENOMEM;
    int r = tkl_zip_open(O.path, data, len, &z, R->diags);
    if (r == 0 && (r = tkl_sheet_xml_walk(z, "styles.xml", on_styles, &O, R->diags)) == -ENOENT)
        r = 0;
    O.date_style = NULL;
    if (r == 0)
        r = tkl_sheet_xml_walk(z, "content.xml", on_content, &O, R->diags);
    if (r == -ENOENT) {
        tkl_diag_add(R->diags, TKL_SEV_ERROR, O.path, 0, "content.xml",
                     "this part is missing: not an OpenDocument spreadsheet (.ods)");
        r = -EINVAL;
    }
    if (r == 0 && !O.reading)
        r = no_table(&O);
    else if (r == 0 || r == TABLE_READ)
        r = tkl_sheet_end(&O.s);
    else if (O.reading)
        tkl_sheet_free(&O.s);
    cell_clear(&O);
    tkl_buf_free(&O.text);
    for (size_t i = 0; i < O.n_cell_styles; i++)
        style_free(&O.cell_styles[i]);
    for (size_t i = 0; i < O.n_date_styles; i++)
        style_free(&O.date_styles[i]);
    for (size_t i = 0; i < O.n_columns; i++)
        free(O.columns[i].style);
    free(O.cell_styles);
    free(O.date_styles);
    free(O.cell_keys);
    free(O.date_keys);
    free(O.cell_dates);
    free(O.columns);
    for (size_t i = 0; i < O.n_names; i++)
        free(O.names[i]);
    free(O.names);
    free(O.place);
    free(O.path);
    tkl_zip_close(z);
    return r;
}
