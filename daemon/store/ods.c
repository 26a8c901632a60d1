#include "ods.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sheet.h"
#include "store.h"

/* A positive return of a node function: the table asked for is read. */
#define TABLE_READ 1

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
    char *value_type, *date_value, *value, *string_value, *boolean_value;
    struct tkl_buf text;
};

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
    O->value_type = O->date_value = O->value = O->string_value = O->boolean_value = NULL;
    tkl_buf_reset(&O->text);
    O->paragraphs = O->in_p = O->in_note = 0;
}

static int cell_start(struct ods *O, xmlTextReaderPtr x, bool covered)
{
    cell_clear(O);
    O->in_cell = true;
    O->covered = covered;
    int r = repeat_attr(x, "number-columns-repeated", &O->cols_repeat);
    static const char *const names[] = {"value-type", "date-value", "value", "string-value",
                                        "boolean-value"};
    char **slots[] = {&O->value_type, &O->date_value, &O->value, &O->string_value,
                      &O->boolean_value};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && r == 0 && !covered; i++)
        if ((r = tkl_xml_attr(x, names[i], slots[i])) == -ENOENT)
            r = 0;
    return r;
}

/* The text a CSV export gives of the cell just read. */
static const char *cell_text(struct ods *O)
{
    const char *type = O->value_type ? O->value_type : "";
    if (O->covered)
        return "";
    if (strcmp(type, "date") == 0 && O->date_value && strlen(O->date_value) >= 10 &&
        O->date_value[4] == '-') {
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
    const char *text = cell_text(O);
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
    tkl_sheet_begin(&O->s, O->rows, O->place);
    return 0;
}

static int on_content(void *ctx, xmlTextReaderPtr x, int type, const char *name)
{
    struct ods *O = ctx;
    bool start = type == XML_READER_TYPE_ELEMENT, end = type == XML_READER_TYPE_END_ELEMENT;
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
    for (size_t i = 0; i < O.n_names; i++)
        free(O.names[i]);
    free(O.names);
    free(O.place);
    free(O.path);
    tkl_zip_close(z);
    return r;
}
