/*
 * Shared by the unit tests of the workbook readers: a ZIP archive built in
 * memory with libzip from (name, text) members, as an .xlsx or .ods file
 * would hold them.
 */
#ifndef TKL_ZIP_FIXTURE_H
#define TKL_ZIP_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "store/row.h"

struct zip_member {
    const char *name;
    const char *text;
};

/* The archive of the n members, into *ret (malloc'd) of *ret_len bytes. */
static inline void zip_build(const struct zip_member *m, size_t n, char **ret, size_t *ret_len)
{
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    ck_assert_ptr_nonnull(src);
    zip_source_keep(src);
    zip_t *z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    ck_assert_ptr_nonnull(z);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, m[i].text, strlen(m[i].text), 0);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_ge(zip_file_add(z, m[i].name, s, ZIP_FL_ENC_UTF_8), 0);
    }
    ck_assert_int_eq(zip_close(z), 0);
    zip_stat_t st;
    ck_assert_int_eq(zip_source_stat(src, &st), 0);
    ck_assert_int_eq(zip_source_open(src), 0);
    char *buf = malloc(st.size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&err);
    *ret = buf;
    *ret_len = st.size;
}

#ifdef TKL_ALLOC_FAIL_H /* for the tests linked with its allocation wrappers */
/*
 * Reads the len bytes at data, named file, with read once for every
 * allocation it makes, the nth failing in the nth reading, until a reading
 * makes no failing allocation. Each failing reading must return -ENOMEM,
 * or 0 with a warning it could not record (which fails a load in store.c).
 * *ok (from proto: opts, teams, diags) holds the last, whole reading, for
 * the caller to check and free; returns the number of readings.
 */
static inline unsigned long read_every_alloc_failure(tkl_plan_read_fn *read, const char *file,
                                                     const char *data, size_t len,
                                                     const struct tkl_rows *proto,
                                                     struct tkl_rows *ok)
{
    for (unsigned long n = 1;; n++) {
        struct tkl_rows r = *proto;
        alloc_fail_nth(n);
        int ret = read(&r, file, data, len);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        bool oom = r.diags->oom;
        tkl_diags_free(r.diags);
        if (ret == 0 && !oom) {
            ck_assert_uint_lt(used, n);
            tkl_mem_ahead_end(&r.ahead); /* before the struct is copied */
            *ok = r;
            return n;
        }
        tkl_rows_free(&r);
        ck_assert(ret == -ENOMEM || (ret == 0 && oom));
    }
}
#endif

#endif
