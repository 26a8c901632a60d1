/* Shared by the workbook fuzzers (fuzz_xlsx, fuzz_ods): the input as a
 * whole archive when it begins as one ("PK"), else as the text of XML
 * parts packed into an archive with libzip; the rows read through the
 * reader with the sample configuration's teams, and what must hold after. */
#ifndef FUZZ_SHEET_H
#define FUZZ_SHEET_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "fuzz_teams.h"
#include "store/row.h"
#include "store/sheet.h"

struct fuzz_part {
    const char *name;
    const char *text; /* used when the input gives no text of its own */
};

/*
 * The archive of the n parts, the input's sections (split at lines "--")
 * taking the place of the first given texts; into *ret (malloc'd),
 * *ret_len bytes.
 */
static inline void fuzz_zip(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t n,
                            size_t given, char **ret, size_t *ret_len)
{
    char *in = malloc(size + 1);
    if (!in)
        abort();
    memcpy(in, data, size);
    in[size] = '\0';
    char *p = in;
    for (size_t i = 0; i < given && p; i++) {
        char *end = strstr(p, "\n--\n");
        if (end)
            *end = '\0';
        parts[i].text = p;
        p = end ? end + 4 : NULL;
    }
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    zip_t *z = src ? (zip_source_keep(src), zip_open_from_source(src, ZIP_TRUNCATE, &err)) : NULL;
    if (!z)
        abort();
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, parts[i].text, strlen(parts[i].text), 0);
        if (!s || zip_file_add(z, parts[i].name, s, 0) < 0)
            abort();
    }
    zip_stat_t st;
    if (zip_close(z) < 0 || zip_source_stat(src, &st) < 0 || zip_source_open(src) < 0)
        abort();
    char *buf = malloc(st.size + 1);
    if (!buf || zip_source_read(src, buf, st.size) != (zip_int64_t)st.size)
        abort();
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&err);
    free(in);
    *ret = buf;
    *ret_len = st.size;
}

/* Reads the archive with read as file, and checks what must hold: an
 * action's place is the file's sheet and a row of it; a refusal says why. */
static inline void fuzz_read(tkl_plan_read_fn *read, const char *file, const char *data, size_t len)
{
    struct tkl_diags diags = {0};
    struct tkl_store_opts opts = {0};
    struct tkl_rows R = {.opts = &opts, .teams = fuzz_teams(), .diags = &diags};
    int r = read(&R, file, data, len);
    size_t fl = strcspn(file, "#");
    for (size_t i = 0; r == 0 && i < R.n_actions; i++) {
        const struct tkl_action *a = &R.actions[i];
        if (strncmp(a->file, file, fl) != 0 || a->file[fl] != ':' || a->line < 1 ||
            a->line > TKL_SHEET_ROWS_MAX || !a->title)
            abort();
    }
    if (r < 0 && r != -ENOMEM && !tkl_diags_has_errors(&diags))
        abort();
    tkl_rows_free(&R);
    tkl_diags_free(&diags);
}

#endif
