/* libFuzzer: Word plans (daemon/store/docx.c through archive.c and row.c),
 * with the sample configuration's teams and the built-in column names. An
 * input that is a ZIP archive ("PK") is read as the .docx itself; any other
 * is word/document.xml, put into an archive here, so that the XML and the
 * table reading are fuzzed without the fuzzer having to find ZIP first.
 * Checks every action has a title, a place and an id, and that a refusal
 * says why. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "fuzz_teams.h"
#include "store/docx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The archive holding data as word/document.xml into *ret (the caller
 * frees it); aborts on any error, which would be the harness's. */
static size_t wrap(const uint8_t *data, size_t size, char **ret)
{
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    zip_t *z = src ? zip_open_from_source(src, ZIP_TRUNCATE, &err) : NULL;
    if (!z)
        abort();
    zip_source_keep(src);
    zip_source_t *m = zip_source_buffer(z, data, size, 0);
    if (!m || zip_file_add(z, "word/document.xml", m, 0) < 0 ||
        zip_set_file_compression(z, 0, ZIP_CM_STORE, 0) < 0 || zip_close(z) < 0)
        abort();
    zip_stat_t st;
    if (zip_source_stat(src, &st) < 0 || zip_source_open(src) < 0)
        abort();
    char *buf = malloc(st.size ? st.size : 1);
    if (!buf || zip_source_read(src, buf, st.size) != (zip_int64_t)st.size)
        abort();
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&err);
    *ret = buf;
    return st.size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tkl_team_dir *teams = fuzz_teams();
    struct tkl_store_opts opts = {0};
    struct tkl_diags diags = {0};
    struct tkl_rows r = {.opts = &opts, .teams = teams, .diags = &diags};
    char *archive = NULL;
    size_t len = size;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        if (!(archive = malloc(size)))
            abort();
        memcpy(archive, data, size);
    } else {
        len = wrap(data, size, &archive);
    }
    int ret = tkl_docx_read(&r, "fuzz.docx", archive, len);
    if (ret == 0) {
        for (size_t i = 0; i < r.n_actions; i++)
            if (!r.actions[i].title || !r.actions[i].file || !r.actions[i].id)
                abort();
    } else if (ret != -ENOMEM && !tkl_diags_has_errors(&diags)) {
        abort(); /* refused without saying why */
    }
    tkl_rows_free(&r);
    tkl_diags_free(&diags);
    free(archive);
    return 0;
}
