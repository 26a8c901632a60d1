/*
 * Problems found while reading configuration, stores and calendars, each
 * with the file, line and field it concerns, collected for the caller to
 * print (`tickler check`, `ticklerd --check-config`) or log (reloads).
 */
#ifndef TKL_DIAG_H
#define TKL_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum tkl_severity {
    TKL_SEV_ERROR = 0,
    TKL_SEV_WARNING = 1,
};

struct tkl_diag {
    enum tkl_severity severity;
    char *file;      /* may be NULL */
    unsigned line;   /* 0 when unknown */
    unsigned column; /* of a spreadsheet's cell, 1 for A; 0 when none */
    char *field;     /* column or setting name, may be NULL */
    char *message;
};

struct tkl_diags {
    struct tkl_diag *items;
    size_t n;
    size_t cap;
    size_t n_errors;
    bool oom; /* a diagnostic could not be recorded */
    /* a file read looked caught while it was being saved (a CSV that ends
     * inside a row): read again later, it may be whole */
    bool unsettled;
};

/* Records a problem. Never fails visibly: on allocation failure it sets
 * d->oom, which callers treat as an error. */
void tkl_diag_add(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                  const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * The same for a spreadsheet's cell: file names the sheet ("plan.xlsx:
 * Actions"), line its row and column its column (1 for A; 0 for none), so
 * that the place prints as "plan.xlsx:Actions!D12".
 */
void tkl_diag_add_at(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                     unsigned column, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

void tkl_diag_vadd(struct tkl_diags *d, enum tkl_severity sev, const char *file, unsigned line,
                   unsigned column, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* Replaces the message of diagnostic i (below d->n) with fmt's text; its
 * place, field and severity stay. On allocation failure the message stays
 * as it was and d->oom is set. */
void tkl_diag_reword(struct tkl_diags *d, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Drops diagnostic i (below d->n); those after it move up one. */
void tkl_diags_remove(struct tkl_diags *d, size_t i);

/* A spreadsheet column's letters (1 is A, 27 AA, 16384 XFD) into buf, which
 * must hold 8 bytes; "" for 0. Returns buf. */
char *tkl_column_letters(unsigned column, char buf[8]);

/* Prints "file:line: severity: [field] message" lines ("file!D12: ..." for
 * a cell). */
void tkl_diags_print(const struct tkl_diags *d, FILE *out);

/* The same, each line led by its sd-daemon priority ("<3>" for an error,
 * "<4>" for a warning), for a stream the journal reads. */
void tkl_diags_print_journal(const struct tkl_diags *d, FILE *out);

/* Moves every diagnostic of src to the end of dst. */
void tkl_diags_move(struct tkl_diags *dst, struct tkl_diags *src);

bool tkl_diags_has_errors(const struct tkl_diags *d);
void tkl_diags_free(struct tkl_diags *d);

/* Drops the diagnostics recorded after the first n. */
void tkl_diags_truncate(struct tkl_diags *d, size_t n);

/* Formats one diagnostic into buf. */
void tkl_diag_format(const struct tkl_diag *g, char *buf, size_t size);

#endif
