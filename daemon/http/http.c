#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
