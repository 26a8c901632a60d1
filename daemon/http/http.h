/*
 * What a page of ticklerd's web face is handed and what it answers, apart
 * from the server that carries them (server.c, libmicrohttpd on the loop).
 * A page is a function that reads one request and fills one response; it
 * runs on the loop thread, must not block, and never sees the connection.
 *
 * The server, not the page, adds the headers every answer carries
 * (Content-Security-Policy, X-Content-Type-Options, Referrer-Policy), turns
 * a matching If-None-Match or If-Modified-Since into 304 Not Modified, and
 * answers HEAD with the headers of GET. A POST reaches a page only on a
 * route that takes one (tkl_route_form), with its form read and checked.
 */
#ifndef TKL_HTTP_H
#define TKL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "form.h"
#include "request.h"

struct tkl_http_response;

/* A page's answer that comes later: returned by tkl_http_request.defer.
 * answer sends resp as the request's answer (taking its body and
 * location): called exactly once, on the loop thread, never from inside
 * the page's call. When the connection or the server went meanwhile, it
 * only frees them. */
struct tkl_http_later {
    void (*answer)(struct tkl_http_later *l, struct tkl_http_response *resp);
};

/* What a page returns when it took req->defer's answer and will answer
 * through it. */
#define TKL_HTTP_LATER 1

/* One GET, HEAD or POST, as parsed by request.c (and form.c). */
struct tkl_http_request {
    const struct tkl_request *req; /* route, its argument, the query */
    int64_t now;                   /* the service's clock (honours --now) */
    bool post;                     /* a POST: form holds its fields */
    const struct tkl_form *form;   /* POST only, read and checked; else NULL */
    const char *origin;            /* the Origin header, or NULL */
    const char *referer;           /* the Referer header, or NULL */
    /* the client's address ("192.0.2.1", "2001:db8::1"), from
     * X-Forwarded-For when the peer is a trusted proxy; "" when unknown */
    const char *client;
    /* A page may answer later (waiting for the state): defer(req) gives
     * the handle to answer through (NULL: the server is stopping, or out
     * of memory; the page then returns -ESHUTDOWN, answered 503 with
     * Retry-After), then the page returns TKL_HTTP_LATER; its connection waits, suspended, and a
     * server closing meanwhile answers it 503 with Retry-After. NULL: the
     * page answers before it returns. */
    struct tkl_http_later *(*defer)(const struct tkl_http_request *req);
    void *conn; /* the server's, for defer */
};

/* Bytes of a Content-Disposition value: a file name of 63 ASCII bytes
 * (a category's too) and a percent-encoded filename* of a title of 100
 * characters of up to 4 bytes. */
#define TKL_HTTP_DISPOSITION_SIZE 1536

struct tkl_http_response {
    unsigned status;          /* 200 unless set */
    const char *content_type; /* a static string */
    char *body;               /* malloc()ed, owned by the response */
    size_t len;
    char etag[48];         /* quoted entity tag, or "" for none */
    int64_t last_modified; /* seconds since the epoch, or 0 for none */
    const char *cache;     /* Cache-Control, a static string, or NULL */
    char *location;        /* Location (a 303), malloc()ed, owned, or NULL */
    int retry_after;       /* Retry-After in seconds (429, 503), or 0 */
    const char *referrer;  /* Referrer-Policy, static; NULL: "no-referrer" */
    bool noindex;          /* X-Robots-Tag: noindex */
    /* Content-Disposition, or "" for none */
    char disposition[TKL_HTTP_DISPOSITION_SIZE];
};

/* Sets body to a copy of text (a short plain-text answer with status).
 * Returns 0 or -ENOMEM. */
int tkl_http_text(struct tkl_http_response *r, unsigned status, const char *text);

/* A POST refused with status, as tkl_http_text(), or when back (a link's
 * token, its page /a/<back>) is given as a small HTML page, no-store and
 * noindex: "Nothing recorded", text and a link back to that page, each
 * escaped. Returns 0 or -ENOMEM. */
int tkl_http_post_refused(struct tkl_http_response *r, unsigned status, const char *text,
                          const char *back);

/* Takes ownership of a buffer written with open_memstream(). */
void tkl_http_take(struct tkl_http_response *r, const char *content_type, char *body, size_t len);

/* Sets etag to a strong tag over body (FNV-1a 64 in hex). */
void tkl_http_etag_body(struct tkl_http_response *r);

/* Frees the body and the location. */
void tkl_http_response_free(struct tkl_http_response *r);

#endif
