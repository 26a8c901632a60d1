#include "form.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/text.h"

/* The key buffer of the post processor: longer keys are refused by it. */
#define KEY_BUFFER 256

void tkl_form_init(struct tkl_form *f, const struct tkl_form_spec *spec)
{
    memset(f, 0, sizeof(*f));
    f->spec = spec;
}

/* Records the first refusal. Returns it. */
static int refuse(struct tkl_form *f, int err, const char *field)
{
    if (!f->error) {
        f->error = err;
        f->field = field;
    }
    return f->error;
}

/* What a value may take as sent: a multiline one may have each line break
 * as CRLF, two bytes for the one it is read as. */
static size_t raw_max(const struct tkl_form_field *fd)
{
    return fd->multiline ? 2 * fd->max : fd->max;
}

/* The index of field name in f's spec, or f->spec->n. */
static size_t field_index(const struct tkl_form *f, const char *name)
{
    size_t i = 0;
    while (i < f->spec->n && i < TKL_FORM_MAX_FIELDS && strcmp(f->spec->fields[i].name, name) != 0)
        i++;
    return i < TKL_FORM_MAX_FIELDS ? i : f->spec->n;
}

/* Appends size bytes at offset off of field key's value. Returns 0 or the
 * refusal. */
static int take(struct tkl_form *f, const char *key, const char *data, uint64_t off, size_t size)
{
    size_t i = field_index(f, key);
    if (i == f->spec->n)
        return refuse(f, -EINVAL, NULL);
    const struct tkl_form_field *fd = &f->spec->fields[i];
    if (off == 0 && f->value[i])
        return refuse(f, -EEXIST, fd->name);
    if (off != f->len[i]) /* not the piece that follows: not one value */
        return refuse(f, -EINVAL, fd->name);
    if (size > raw_max(fd) - f->len[i])
        return refuse(f, -E2BIG, fd->name);
    char *v = realloc(f->value[i], f->len[i] + size + 1);
    if (!v)
        return refuse(f, -ENOMEM, NULL);
    if (size)
        memcpy(v + f->len[i], data, size);
    f->len[i] += size;
    v[f->len[i]] = '\0';
    f->value[i] = v;
    return 0;
}

enum MHD_Result tkl_form_iterate(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    struct tkl_form *f = cls;
    (void)content_type;
    (void)transfer_encoding;
    if (f->error)
        return MHD_NO;
    if (kind != MHD_POSTDATA_KIND || filename || !key) {
        refuse(f, -EINVAL, NULL);
        return MHD_NO;
    }
    if (!data)
        size = 0;
    return take(f, key, data, off, size) < 0 ? MHD_NO : MHD_YES;
}

/* Whether byte s[i] begins a control character: C0 (but line breaks and
 * tabs when multiline), DEL, or C1 (U+0080-U+009F, 0xC2 0x80-0x9F). */
static bool control_at(const unsigned char *s, size_t n, size_t i, bool multiline)
{
    unsigned char c = s[i];
    if (c == '\n' || c == '\r' || c == '\t')
        return !multiline;
    return c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < n && s[i + 1] < 0xa0);
}

/* Reads CRLF and CR as LF in v (len bytes), in place. Returns the new
 * length. */
static size_t read_line_breaks(char *v, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        if (v[r] == '\r') {
            v[w++] = '\n';
            r += r + 1 < len && v[r + 1] == '\n';
        } else {
            v[w++] = v[r];
        }
    }
    v[w] = '\0';
    return w;
}

int tkl_form_finish(struct tkl_form *f)
{
    if (f->error)
        return f->error;
    for (size_t i = 0; i < f->spec->n && i < TKL_FORM_MAX_FIELDS; i++) {
        const struct tkl_form_field *fd = &f->spec->fields[i];
        const unsigned char *v = (const unsigned char *)f->value[i];
        size_t n = f->len[i];
        if (!v)
            continue;
        if (memchr(v, '\0', n) || !tkl_utf8_valid((const char *)v, n))
            return refuse(f, -EILSEQ, fd->name);
        for (size_t k = 0; k < n; k++)
            if (control_at(v, n, k, fd->multiline))
                return refuse(f, -EILSEQ, fd->name);
        if (fd->multiline)
            f->len[i] = read_line_breaks(f->value[i], n);
        if (f->len[i] > fd->max)
            return refuse(f, -E2BIG, fd->name);
    }
    return 0;
}

bool tkl_form_type_ok(const char *type)
{
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;
    return type && !strncasecmp(type, want, n) &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ' || type[n] == '\t');
}

int tkl_form_read(struct tkl_form *f, struct MHD_Connection *c, const char *body, size_t len)
{
    if (f->error)
        return f->error;
    if (len > TKL_FORM_BODY_MAX)
        return refuse(f, -E2BIG, NULL);
    /* the post processor would read multipart bodies too */
    if (!tkl_form_type_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
        return refuse(f, -EPROTONOSUPPORT, NULL);
    struct MHD_PostProcessor *pp = MHD_create_post_processor(c, KEY_BUFFER, tkl_form_iterate, f);
    if (!pp) /* no url-encoded Content-Type after all, or no memory */
        return refuse(f, -EINVAL, NULL);
    /* the whole body at once: see tkl_form_iterate */
    enum MHD_Result ok = len ? MHD_post_process(pp, body, len) : MHD_YES;
    /* a value left unfinished (a cut escape) is reported here */
    enum MHD_Result done = MHD_destroy_post_processor(pp);
    if (f->error)
        return f->error;
    if (ok != MHD_YES || done != MHD_YES)
        return refuse(f, -EINVAL, NULL);
    return tkl_form_finish(f);
}

const char *tkl_form_get(const struct tkl_form *f, const char *name)
{
    size_t i = field_index(f, name);
    return i < f->spec->n ? f->value[i] : NULL;
}

/* The limit of field name in f's spec. */
static size_t field_max(const struct tkl_form *f, const char *name)
{
    size_t i = field_index(f, name);
    return i < f->spec->n ? f->spec->fields[i].max : 0;
}

void tkl_form_why(const struct tkl_form *f, char *buf, size_t len)
{
    const char *field = f->field;
    switch (f->error) {
    case 0:
        snprintf(buf, len, "%s", "");
        break;
    case -EEXIST:
        snprintf(buf, len, "The field \"%s\" is sent twice.", field);
        break;
    case -E2BIG:
        if (field)
            snprintf(buf, len, "The field \"%s\" is longer than %zu bytes.", field,
                     field_max(f, field));
        else
            snprintf(buf, len, "The form is larger than %d KiB.", TKL_FORM_BODY_MAX / 1024);
        break;
    case -EILSEQ:
        snprintf(buf, len,
                 "The field \"%s\" holds what it may not: text that is not UTF-8, or control "
                 "characters.",
                 field);
        break;
    case -ENOMEM:
        snprintf(buf, len, "%s", "Out of memory; try again.");
        break;
    case -EPROTONOSUPPORT:
        snprintf(buf, len, "%s", "Only forms (application/x-www-form-urlencoded) are taken here.");
        break;
    default:
        snprintf(buf, len, "%s",
                 "This is not a form this page sends: a field it does not take, or a body that "
                 "is not URL-encoded.");
        break;
    }
}

void tkl_form_free(struct tkl_form *f)
{
    for (size_t i = 0; i < TKL_FORM_MAX_FIELDS; i++) {
        free(f->value[i]);
        f->value[i] = NULL;
        f->len[i] = 0;
    }
    f->error = 0;
    f->field = NULL;
}
