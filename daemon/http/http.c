#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/text.h>

int tkl_http_text(struct tkl_http_response *r, unsigned status, const char *text)
{
    size_t n = strlen(text);
    char *b = malloc(n + 2);
    if (!b)
        return -ENOMEM;
    memcpy(b, text, n);
    b[n] = '\n';
    b[n + 1] = '\0';
    free(r->body);
    r->body = b;
    r->len = n + 1;
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    return 0;
}

int tkl_http_post_refused(struct tkl_http_response *r, unsigned status, const char *text,
                          const char *back)
{
    if (!back)
        return tkl_http_text(r, status, text);
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
          "<title>Nothing recorded — tickler</title>\n</head>\n<body>\n<main>\n"
          "<h1>Nothing recorded</h1>\n<p>",
          f);
    (void)tkl_html_fputs(text, f);
    /* relative to /a/<token>: the link's own page */
    fputs("</p>\n<p><a href=\"", f);
    (void)tkl_html_fputs(back, f);
    fputs("\">Back to the action</a></p>\n</main>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(body);
        return -ENOMEM;
    }
    tkl_http_take(r, "text/html; charset=utf-8", body, len);
    r->status = status;
    r->cache = "no-store";
    r->noindex = true;
    return 0;
}

void tkl_http_take(struct tkl_http_response *r, const char *content_type, char *body, size_t len)
{
    free(r->body);
    r->body = body;
    r->len = len;
    r->content_type = content_type;
}

void tkl_http_etag_body(struct tkl_http_response *r)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < r->len; i++) {
        h ^= (unsigned char)r->body[i];
        h *= 1099511628211ULL;
    }
    snprintf(r->etag, sizeof(r->etag), "\"%016" PRIx64 "\"", h);
}

void tkl_http_response_free(struct tkl_http_response *r)
{
    free(r->body);
    free(r->location);
    r->body = NULL;
    r->location = NULL;
    r->len = 0;
}
