#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

void tkl_diag_add(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                  const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tkl_diag_vadd(d, sev, file, line, 0, field, fmt, ap);
    va_end(ap);
}

void tkl_diag_add_at(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                     unsigned column, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tkl_diag_vadd(d, sev, file, line, column, field, fmt, ap);
    va_end(ap);
}

void tkl_diag_vadd(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                   unsigned column, const char *field, const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct tkl_diag *p = realloc(d->items, cap * sizeof(*p));
        if (!p) {
            d->oom = true;
            return;
        }
        d->items = p;
        d->cap = cap;
    }
    char tmp[1024];
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    struct tkl_diag *g = &d->items[d->n];
    g->severity = sev;
    g->line = line;
    g->column = column;
    g->file = tkl_strdup0(file);
    g->field = tkl_strdup0(field);
    g->message = strdup(tmp);
    if ((file && !g->file) || (field && !g->field) || !g->message) {
        free(g->file);
        free(g->field);
        free(g->message);
        d->oom = true;
        return;
    }
    d->n++;
    if (sev == TKL_SEV_ERROR)
        d->n_errors++;
}

void tkl_diag_reword(struct tkl_diags *d, size_t i, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    char *m = strdup(tmp);
    if (!m) {
        d->oom = true;
        return;
    }
    free(d->items[i].message);
    d->items[i].message = m;
}

void tkl_diags_remove(struct tkl_diags *d, size_t i)
{
    struct tkl_diag *g = &d->items[i];
    if (g->severity == TKL_SEV_ERROR)
        d->n_errors--;
    free(g->file);
    free(g->field);
    free(g->message);
    memmove(g, g + 1, (d->n - i - 1) * sizeof(*g));
    d->n--;
}

char *tkl_column_letters(unsigned column, char buf[8])
{
    char rev[8];
    size_t n = 0;
    while (column > 0 && n < 7) {
        column--;
        rev[n++] = (char)('A' + column % 26);
        column /= 26;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

void tkl_diag_format(const struct tkl_diag *g, char *buf, size_t size)
{
    char where[600] = "", letters[8];
    if (g->file && g->column)
        snprintf(where, sizeof(where), "%s!%s%u: ", g->file, tkl_column_letters(g->column, letters),
                 g->line);
    else if (g->file && g->line)
        snprintf(where, sizeof(where), "%s:%u: ", g->file, g->line);
    else if (g->file)
        snprintf(where, sizeof(where), "%s: ", g->file);
    snprintf(buf, size, "%s%s: %s%s%s%s", where, g->severity == TKL_SEV_ERROR ? "error" : "warning",
             g->field ? "[" : "", g->field ? g->field : "", g->field ? "] " : "", g->message);
}

static void print_diags(const struct tkl_diags *d, FILE *out, bool journal)
{
    char line[2048];
    for (size_t i = 0; i < d->n; i++) {
        tkl_diag_format(&d->items[i], line, sizeof(line));
        tkl_text_printable(line, strlen(line), false); /* a cell's text is quoted in it */
        const char *prio = d->items[i].severity == TKL_SEV_ERROR ? "<3>" : "<4>";
        fprintf(out, "%s%s\n", journal ? prio : "", line);
    }
    if (d->oom)
        fprintf(out, "%serror: out of memory while recording problems\n", journal ? "<3>" : "");
}

void tkl_diags_print(const struct tkl_diags *d, FILE *out)
{
    print_diags(d, out, false);
}

void tkl_diags_print_journal(const struct tkl_diags *d, FILE *out)
{
    print_diags(d, out, true);
}

void tkl_diags_move(struct tkl_diags *dst, struct tkl_diags *src)
{
    for (size_t i = 0; i < src->n; i++) {
        struct tkl_diag *g = &src->items[i];
        tkl_diag_add_at(dst, g->severity, g->file, g->line, g->column, g->field, "%s", g->message);
    }
    if (src->oom)
        dst->oom = true;
    if (src->unsettled)
        dst->unsettled = true;
    tkl_diags_free(src);
}

bool tkl_diags_has_errors(const struct tkl_diags *d)
{
    return d->n_errors > 0 || d->oom;
}

void tkl_diags_truncate(struct tkl_diags *d, size_t n)
{
    for (; d->n > n; d->n--) {
        struct tkl_diag *g = &d->items[d->n - 1];
        if (g->severity == TKL_SEV_ERROR)
            d->n_errors--;
        free(g->file);
        free(g->field);
        free(g->message);
    }
}

void tkl_diags_free(struct tkl_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].field);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}
