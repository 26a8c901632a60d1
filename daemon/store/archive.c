#include "archive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "dynlib/libzip.h"
#include "dynlib/libxml.h"

struct tkl_zip {
    zip_t *archive;
    char *file;
    struct tkl_diags *diags;
    size_t total;  /* bytes counted towards TKL_ZIP_TOTAL_MAX so far */
    int xml_error; /* of the last reader: 0, -EFBIG or -EINVAL */
    /* each member read so far and the most of it expanded in one reading,
     * which total counts once however often it is read again */
    struct member_read {
        zip_uint64_t index;
        size_t most;
    } * members;
    size_t n_members, cap_members;
};

/* One member being expanded for a libxml2 reader. */
struct stream {
    struct tkl_zip *z;
    zip_file_t *f;
    char *name;
    size_t read;
    size_t slot;           /* its entry in z->members */
    zip_uint64_t declared; /* its expanded size, as the archive says */
};

int tkl_zip_open(const char *file, const void *data, size_t len, struct tkl_zip **ret,
                 struct tkl_diags *diags)
{
    char why[512];
    if (tkl_libzip_load(why, sizeof(why)) < 0 || tkl_libxml_load(why, sizeof(why)) < 0) {
        tkl_diag_add(diags, TKL_SEV_ERROR, file, 0, NULL, "%s", why);
        return -EINVAL;
    }
    struct tkl_zip *z = calloc(1, sizeof(*z));
    if (!z || !(z->file = strdup(file))) {
        free(z);
        return -ENOMEM;
    }
    z->diags = diags;
    zip_error_t err;
    sym_zip_error_init(&err);
    zip_source_t *src = sym_zip_source_buffer_create(data, len, 0, &err);
    if (src && !(z->archive = sym_zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err)))
        sym_zip_source_free(src);
    if (!z->archive) {
        int r = sym_zip_error_code_zip(&err) == ZIP_ER_MEMORY ? -ENOMEM : -EINVAL;
        if (r == -EINVAL)
            tkl_diag_add(diags, TKL_SEV_ERROR, file, 0, NULL,
                         "not a readable ZIP archive (%s); an .xlsx, .ods or .docx file is one",
                         sym_zip_error_strerror(&err));
        sym_zip_error_fini(&err);
        free(z->file);
        free(z);
        return r;
    }
    sym_zip_error_fini(&err);
    *ret = z;
    return 0;
}

int tkl_zip_has(const struct tkl_zip *z, const char *name)
{
    return sym_zip_name_locate(z->archive, name, 0) >= 0;
}

/* A member's size, compression and ratio as its archive declares them,
 * checked before any of it is expanded: -EFBIG (an error in diags) when
 * the size is past TKL_ZIP_MEMBER_MAX or the ratio past TKL_ZIP_RATIO_MAX,
 * -EINVAL when the method is neither stored nor deflated (what Word,
 * Excel and LibreOffice write; bzip2 expands millions of times), else 0
 * with the size in *declared. */
static int check_declared(struct tkl_zip *z, const char *name, zip_uint64_t i,
                          zip_uint64_t *declared)
{
    zip_stat_t st;
    if (sym_zip_stat_index(z->archive, i, 0, &st) < 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD)) !=
            (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD))
        return 0; /* zip_fopen_index says what is wrong */
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name,
                     "compressed by method %u; the parts of an .xlsx, .ods or .docx file are "
                     "stored or deflated",
                     (unsigned)st.comp_method);
        return -EINVAL;
    }
    *declared = st.size;
    if (st.size > TKL_ZIP_MEMBER_MAX) {
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name,
                     "expands past %u MiB (its archive declares %llu bytes; a part may hold at "
                     "most %u MiB); refused as a possible ZIP bomb",
                     TKL_ZIP_MEMBER_MAX >> 20, (unsigned long long)st.size,
                     TKL_ZIP_MEMBER_MAX >> 20);
        return -EFBIG;
    }
    if (st.size > TKL_ZIP_RATIO_FROM && st.size / TKL_ZIP_RATIO_MAX > st.comp_size) {
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name,
                     "expands %llu times (its archive declares %llu bytes from %llu; a part of "
                     "more than %u MiB may expand at most %u times); refused as a possible ZIP "
                     "bomb",
                     (unsigned long long)(st.size / (st.comp_size ? st.comp_size : 1)),
                     (unsigned long long)st.size, (unsigned long long)st.comp_size,
                     TKL_ZIP_RATIO_FROM >> 20, TKL_ZIP_RATIO_MAX);
        return -EFBIG;
    }
    return 0;
}

/* The entry of member index in z->members into *ret, added when it is
 * read for the first time. Returns 0 or -ENOMEM. */
static int member_slot(struct tkl_zip *z, zip_uint64_t index, size_t *ret)
{
    for (size_t i = 0; i < z->n_members; i++)
        if (z->members[i].index == index) {
            *ret = i;
            return 0;
        }
    if (z->n_members == z->cap_members) {
        size_t cap = z->cap_members ? z->cap_members * 2 : 8;
        struct member_read *m = realloc(z->members, cap * sizeof(*m));
        if (!m)
            return -ENOMEM;
        z->members = m;
        z->cap_members = cap;
    }
    z->members[z->n_members] = (struct member_read){.index = index};
    *ret = z->n_members++;
    return 0;
}

static int open_member(struct tkl_zip *z, const char *name, zip_file_t **ret,
                       zip_uint64_t *declared, size_t *slot)
{
    zip_int64_t i = sym_zip_name_locate(z->archive, name, 0);
    if (i < 0)
        return -ENOENT;
    if (member_slot(z, (zip_uint64_t)i, slot) < 0)
        return -ENOMEM;
    *declared = TKL_ZIP_MEMBER_MAX;
    int r = check_declared(z, name, (zip_uint64_t)i, declared);
    if (r < 0)
        return r;
    zip_file_t *f = sym_zip_fopen_index(z->archive, (zip_uint64_t)i, 0);
    if (!f) {
        zip_error_t *e = sym_zip_get_error(z->archive);
        if (sym_zip_error_code_zip(e) == ZIP_ER_MEMORY)
            return -ENOMEM;
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name, "cannot expand this part: %s",
                     sym_zip_error_strerror(e));
        return -EINVAL;
    }
    *ret = f;
    return 0;
}

/* Counts n more expanded bytes of member name (its entry slot in
 * z->members), read so far *read, whose archive declares declared bytes:
 * towards the archive's total only past what an earlier reading of the
 * member counted. Returns 0, or -EFBIG with an error in diags past a limit
 * or past the declared size. */
static int count(struct tkl_zip *z, const char *name, size_t slot, size_t *read, size_t n,
                 zip_uint64_t declared)
{
    *read += n;
    struct member_read *m = &z->members[slot];
    if (*read > m->most) {
        z->total += *read - m->most;
        m->most = *read;
    }
    if (*read > declared) {
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name,
                     "expands past the %llu bytes its archive declares; refused as corrupt or "
                     "a possible ZIP bomb",
                     (unsigned long long)declared);
        return -EFBIG;
    }
    if (*read <= TKL_ZIP_MEMBER_MAX && z->total <= TKL_ZIP_TOTAL_MAX)
        return 0;
    tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name,
                 "expands past %u MiB (a part may hold at most %u MiB, an archive %u MiB); "
                 "refused as a possible ZIP bomb",
                 (*read > TKL_ZIP_MEMBER_MAX ? TKL_ZIP_MEMBER_MAX : TKL_ZIP_TOTAL_MAX) >> 20,
                 TKL_ZIP_MEMBER_MAX >> 20, TKL_ZIP_TOTAL_MAX >> 20);
    return -EFBIG;
}

/* Reads up to size bytes of f into buf: the count, or -EINVAL (in diags). */
static zip_int64_t expand(struct tkl_zip *z, const char *name, zip_file_t *f, void *buf,
                          size_t size)
{
    zip_int64_t n = sym_zip_fread(f, buf, size);
    if (n < 0)
        tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, name, "cannot expand this part: %s",
                     sym_zip_file_strerror(f));
    return n;
}

int tkl_zip_read(struct tkl_zip *z, const char *name, char **ret, size_t *ret_len,
                 struct tkl_diags *diags)
{
    z->diags = diags;
    zip_file_t *f;
    zip_uint64_t declared;
    size_t slot;
    int r = open_member(z, name, &f, &declared, &slot);
    if (r < 0)
        return r;
    char *buf = NULL;
    size_t len = 0, cap = 0, read = 0;
    for (;;) {
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 65536 + 1;
            char *p = realloc(buf, ncap);
            if (!p) {
                r = -ENOMEM;
                break;
            }
            buf = p;
            cap = ncap;
        }
        zip_int64_t n = expand(z, name, f, buf + len, cap - len - 1);
        if (n < 0) {
            r = -EINVAL;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if ((r = count(z, name, slot, &read, (size_t)n, declared)) < 0)
            break;
    }
    (void)sym_zip_fclose(f); /* read only: errors were seen by zip_fread */
    if (r < 0) {
        free(buf);
        return r;
    }
    if (!buf && !(buf = malloc(1)))
        return -ENOMEM;
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

static int stream_read(void *ctx, char *buf, int size)
{
    struct stream *s = ctx;
    if (s->z->xml_error)
        return -1;
    zip_int64_t n = expand(s->z, s->name, s->f, buf, (size_t)size);
    if (n < 0) {
        s->z->xml_error = -EINVAL;
        return -1;
    }
    int r = count(s->z, s->name, s->slot, &s->read, (size_t)n, s->declared);
    if (r < 0) {
        s->z->xml_error = r;
        return -1;
    }
    return (int)n;
}

static int stream_close(void *ctx)
{
    struct stream *s = ctx;
    (void)sym_zip_fclose(s->f); /* read only */
    free(s->name);
    free(s);
    return 0;
}

static void stream_error(void *ctx, const char *msg, xmlParserSeverities severity,
                         xmlTextReaderLocatorPtr loc)
{
    struct stream *s = ctx;
    if (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR)
        return;
    /* the first error says what is wrong; the parser's later ones repeat it */
    if (s->z->xml_error)
        return;
    s->z->xml_error = -EINVAL;
    size_t l = strcspn(msg, "\n");
    tkl_diag_add(s->z->diags, TKL_SEV_ERROR, s->z->file, 0, s->name,
                 "not well-formed XML: %.*s (line %d)", (int)l, msg,
                 sym_xmlTextReaderLocatorLineNumber(loc));
}

int tkl_zip_xml(struct tkl_zip *z, const char *name, xmlTextReaderPtr *ret, struct tkl_diags *diags)
{
    z->diags = diags;
    z->xml_error = 0;
    struct stream *s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return -ENOMEM;
    }
    s->z = z;
    int r = open_member(z, name, &s->f, &s->declared, &s->slot);
    if (r < 0) {
        free(s->name);
        free(s);
        return r;
    }
    /* On failure xmlReaderForIO calls stream_close, which frees s. */
    xmlTextReaderPtr x = sym_xmlReaderForIO(stream_read, stream_close, s, name, NULL,
                                            XML_PARSE_NONET | XML_PARSE_NOWARNING);
    if (!x)
        return -ENOMEM;
    sym_xmlTextReaderSetErrorHandler(x, stream_error, s);
    *ret = x;
    return 0;
}

size_t tkl_zip_expanded(const struct tkl_zip *z)
{
    return z->total;
}

int tkl_zip_xml_error(const struct tkl_zip *z)
{
    return z->xml_error;
}

int tkl_zip_refuse_doctype(struct tkl_zip *z, const char *name)
{
    tkl_diag_add(z->diags, TKL_SEV_ERROR, z->file, 0, NULL,
                 "%s has a document type declaration (<!DOCTYPE ...>), which office programs "
                 "never write and whose entities would vanish from the text; refused",
                 name);
    return -EINVAL;
}

void tkl_zip_close(struct tkl_zip *z)
{
    if (!z)
        return;
    sym_zip_discard(z->archive);
    free(z->members);
    free(z->file);
    free(z);
}
