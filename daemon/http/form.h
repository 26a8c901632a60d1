/*
 * Reading a POSTed form (application/x-www-form-urlencoded): libmicrohttpd's
 * own MHD_PostProcessor decodes the body; this file only keeps the fields a
 * route names, each within its limit. Nothing here parses the encoding.
 *
 * A form is refused whole, with the first reason found: a field the route
 * does not take, a field sent twice, a value longer than its limit, a value
 * that is not UTF-8, holds a NUL or a control character (line breaks and
 * tabs only where the field is multiline), or a body libmicrohttpd could
 * not decode. Multiline values have their line breaks read as "\n" (a
 * browser sends a textarea's as CRLF).
 */
#ifndef TKL_FORM_H
#define TKL_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#define TKL_FORM_MAX_FIELDS 8
/* The largest body a form may have; a longer one is answered 413. */
#define TKL_FORM_BODY_MAX 65536

struct tkl_form_field {
    const char *name;
    size_t max;     /* bytes of its value (after line breaks are read), NUL excluded */
    bool multiline; /* line breaks and tabs allowed */
};

/* The fields a route's form takes (at most TKL_FORM_MAX_FIELDS). */
struct tkl_form_spec {
    const struct tkl_form_field *fields;
    size_t n;
};

struct tkl_form {
    const struct tkl_form_spec *spec;
    char *value[TKL_FORM_MAX_FIELDS]; /* per field of spec; NULL: not sent */
    size_t len[TKL_FORM_MAX_FIELDS];
    int error;         /* the first refusal (see tkl_form_read), 0 while none */
    const char *field; /* the field it concerns (a name of spec), or NULL */
};

/* Readies f for the fields of spec (which must outlive f). */
void tkl_form_init(struct tkl_form *f, const struct tkl_form_spec *spec);

/*
 * libmicrohttpd's MHD_PostDataIterator, cls being a struct tkl_form: takes
 * size bytes at offset off of the value of field key. The body must reach
 * the post processor in one MHD_post_process() call (tkl_form_read does
 * so): then a value's first piece is the one at offset 0, and a second
 * piece at offset 0 is the field sent again. Returns MHD_YES, or MHD_NO
 * once the form is refused (f->error set).
 */
enum MHD_Result tkl_form_iterate(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size);

/* Whether a Content-Type value is application/x-www-form-urlencoded (any
 * case, with or without parameters). */
bool tkl_form_type_ok(const char *content_type);

/*
 * Reads body (len bytes, at most TKL_FORM_BODY_MAX) of connection c into
 * f, and checks every value. Returns 0, or the refusal (also in f->error):
 * -EPROTONOSUPPORT a Content-Type other than tkl_form_type_ok's, -EINVAL
 * a field the spec does not take or a body that is not url-encoded, -EEXIST a field sent twice,
 * -E2BIG a value over its limit or a body over TKL_FORM_BODY_MAX, -EILSEQ a value that is not UTF-8
 * or holds a NUL or a control character, -ENOMEM.
 */
int tkl_form_read(struct tkl_form *f, struct MHD_Connection *c, const char *body, size_t len);

/*
 * Checks every value taken (UTF-8, no NUL, no control character but line
 * breaks and tabs in multiline fields, whose CRLF and CR become LF) and
 * then their lengths. Returns 0 or the refusal, as tkl_form_read.
 */
int tkl_form_finish(struct tkl_form *f);

/* The value of field name, or NULL when it was not sent. */
const char *tkl_form_get(const struct tkl_form *f, const char *name);

/* What a page says of f's refusal, as plain text into buf ("The field
 * note is longer than 4000 bytes."); "" when f was not refused. */
void tkl_form_why(const struct tkl_form *f, char *buf, size_t len);

/* Frees the values; f is empty after (spec kept). */
void tkl_form_free(struct tkl_form *f);

#endif
