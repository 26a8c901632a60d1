/* libFuzzer: POSTed forms (daemon/http/form.c), read as ticklerd reads
 * them: the input is the body of a url-encoded POST to a link's page,
 * sent over a real loopback connection to libmicrohttpd, whose post
 * processor decodes it, and read with the link page's fields
 * (tkl_route_form). What must hold: reading never crashes or reads out of
 * bounds; it gives 0 or one of its refusals, with words for the page; and
 * every value of a form read is UTF-8 within its field's limit, with no
 * NUL, no CR and no control character but LF and tab in multiline fields. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/form_conn.h"
#include "http/request.h"

static struct form_conn fc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (form_conn_start(&fc) < 0)
        abort();
    return 0;
}

static bool utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80                   ? 1
                   : s[i] >= 0xc2 && s[i] < 0xe0 ? 2
                   : s[i] >= 0xe0 && s[i] < 0xf0 ? 3
                   : s[i] >= 0xf0 && s[i] < 0xf5 ? 4
                                                 : 0;
        if (!k || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

static void check_value(const struct tkl_form_field *fd, const char *v, size_t len)
{
    if (strlen(v) != len || len > fd->max || !utf8((const unsigned char *)v, len))
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r' || c == 0x7f || (c < 0x20 && !(fd->multiline && (c == '\n' || c == '\t'))))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct tkl_form_spec *spec = tkl_route_form(TKL_ROUTE_ACT);
    struct tkl_form form;
    char why[256];
    if (size > TKL_FORM_BODY_MAX)
        return 0;
    tkl_form_init(&form, spec);
    if (form_conn_post(&fc, "application/x-www-form-urlencoded", data, size, &form) < 0)
        abort(); /* the handler was never called */
    tkl_form_why(&form, why, sizeof(why));
    if (fc.r == 0) {
        if (why[0])
            abort();
        for (size_t i = 0; i < spec->n; i++) {
            const char *v = tkl_form_get(&form, spec->fields[i].name);
            if (v)
                check_value(&spec->fields[i], v, form.len[i]);
        }
    } else if ((fc.r != -EINVAL && fc.r != -EEXIST && fc.r != -E2BIG && fc.r != -EILSEQ &&
                fc.r != -ENOMEM) ||
               !why[0]) {
        abort();
    }
    tkl_form_free(&form);
    return 0;
}
